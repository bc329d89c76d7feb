/* xdp_steer.h — user-space side of ebpf/steer.bpf.c: load, attach, fill, detach.
 *
 * skiff_xdp_steer_open() attaches the steering program to an interface through
 * libxdp's dispatcher (native XDP, else SKB mode with a note on stderr), so it
 * coexists with other XDP programs. The caller then inserts one AF_XDP socket
 * per rx queue (add_xsk) and registers the addresses skiff owns (add_ip4/ip6,
 * add_mac for link-layer multicast groups): frames to them, ARP/ND for them,
 * go to the socket of the receiving queue; everything else stays with the kernel.
 *
 * Lifetime and crashes: close() detaches the program. A process that dies
 * without close (SIGKILL, a crash, a SIGINT/SIGTERM whose handler does not
 * lead to close) leaves its program attached; that program is harmless (its
 * sockets died with the process, the kernel removes them from the XSK map, and
 * the program then passes every frame) and the next open on the interface
 * finds it and removes it. Each attach records its owner in
 * $SKIFF_RUN_DIR (default /run/skiff)/xdp-prog-<prog id>.pid and holds an
 * flock on that record until close; a program named "skiff_steer" is stale
 * only when that lock is free (or, with no record at all, when it is older
 * than 5 s) and its XSK map holds no socket. So programs of live owners are
 * left alone whatever their pid namespace or /run, including a parent's
 * program whose forked children still hold the lock or the sockets. Records of
 * programs that no longer exist (the interface went away) are swept at open.
 * When the run dir cannot be written, open warns once on stderr and runs
 * without a record, and removes nothing. A program that handles SIGINT/SIGTERM
 * should set a flag in its handler and call close from its main loop (libxdp is
 * not async-signal-safe, so there is no signal-time cleanup here).
 *
 * bpffs: libxdp keeps the dispatcher state under /sys/fs/bpf (or $LIBXDP_BPFFS);
 * open mounts bpffs there when nothing is mounted (root only). `ip netns exec`
 * gives each process its own /sys, hence its own bpffs: processes that share an
 * interface through the dispatcher should share a bpffs ($LIBXDP_BPFFS).
 *
 * Dispatcher availability: libxdp's dispatcher needs freplace (BPF_PROG_TYPE_EXT)
 * programs. Where the kernel refuses them (the 6.18 test VM answers EPERM even
 * to root) libxdp attaches skiff_steer alone; the interface then takes no other
 * XDP program, and open fails naming the program already there.
 *
 * All functions return 0 or -errno; open writes a one-line reason into err.
 */
#ifndef SKIFF_XDP_STEER_H
#define SKIFF_XDP_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ebpf/steer_maps.h"

struct skiff_xdp_steer;

/* Frame counts summed over CPUs, by name or by enum skiff_steer_counter index
 * (packets[i]); bytes[i] likewise. */
struct skiff_steer_counters {
	union {
		struct {
			uint64_t passed, redirected, redirect_failed, parse_error;
			uint64_t match_ip4, match_arp, match_ip6, match_nd, match_mac;
		};
		uint64_t packets[SKIFF_STEER_NCOUNTERS];
	};
	uint64_t bytes[SKIFF_STEER_NCOUNTERS];
};
_Static_assert(sizeof(((struct skiff_steer_counters *)0)->packets) == 9 * sizeof(uint64_t),
	       "named steering counters and enum skiff_steer_counter disagree");

struct skiff_xdp_steer_opts {
	bool skb_mode;   /* attach in SKB (generic) mode straight away */
	bool quiet;      /* no note on stderr (native mode falling back to SKB, running without records) */
};

/* Attach to `ifname` for queues [0, nqueues). opts may be NULL (defaults). */
int skiff_xdp_steer_open_opts(const char *ifname, unsigned nqueues, const struct skiff_xdp_steer_opts *opts,
			      struct skiff_xdp_steer **out, char *err, size_t errlen);
static inline int skiff_xdp_steer_open(const char *ifname, unsigned nqueues, struct skiff_xdp_steer **out,
				       char *err, size_t errlen)
{
	return skiff_xdp_steer_open_opts(ifname, nqueues, NULL, out, err, errlen);
}

/* Queue `queue` (an rx queue index of the interface) delivers to xsk_fd. */
int skiff_xdp_steer_add_xsk(struct skiff_xdp_steer *s, unsigned queue, int xsk_fd);
int skiff_xdp_steer_del_xsk(struct skiff_xdp_steer *s, unsigned queue);

/* Addresses skiff receives: unicast, broadcast and multicast alike (-EEXIST never: adding twice is fine). */
int skiff_xdp_steer_add_ip4(struct skiff_xdp_steer *s, uint32_t addr_host_order);
int skiff_xdp_steer_del_ip4(struct skiff_xdp_steer *s, uint32_t addr_host_order);
int skiff_xdp_steer_add_ip6(struct skiff_xdp_steer *s, const uint8_t addr[16]);
int skiff_xdp_steer_del_ip6(struct skiff_xdp_steer *s, const uint8_t addr[16]);
/* Link-layer multicast group: every frame to it goes to skiff. -EINVAL for a unicast MAC. */
int skiff_xdp_steer_add_mac(struct skiff_xdp_steer *s, const uint8_t mac[6]);
int skiff_xdp_steer_del_mac(struct skiff_xdp_steer *s, const uint8_t mac[6]);

int skiff_xdp_steer_counters(struct skiff_xdp_steer *s, struct skiff_steer_counters *out);
/* "passed", "redirected", ... for index i, or "?" */
const char *skiff_xdp_steer_counter_name(unsigned i);

/* "native" or "skb". */
const char *skiff_xdp_steer_mode(const struct skiff_xdp_steer *s);
uint32_t skiff_xdp_steer_prog_id(const struct skiff_xdp_steer *s);
int skiff_xdp_steer_ifindex(const struct skiff_xdp_steer *s);

/* Detach the program, remove the owner record, free everything. NULL is fine. */
void skiff_xdp_steer_close(struct skiff_xdp_steer *s);

/* Helpers shared with drivers/afxdp.c. */
/* Number of rx queues of ifname (ETHTOOL_GCHANNELS, else sysfs); -EOPNOTSUPP when unknown. */
int skiff_xdp_rx_queues(const char *ifname, unsigned *out);
/* Count of skiff_steer programs attached to ifindex (0 when none). */
int skiff_xdp_steer_attached(int ifindex);

#endif
