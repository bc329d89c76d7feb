/* stack.h — one skiff stack instance: everything the dataplane knows hangs here.
 *
 * Flow: the caller (socketapi engine, a test, a benchmark) owns the drivers and
 * the clock. It hands received bursts to skiff_stack_input(), runs timers with
 * skiff_stack_poll(), and drains frames to send with skiff_stack_tx_drain().
 * Nothing in dataplane/ does I/O, reads a clock, takes a lock or touches a
 * global; tables are allocated once at create time, sized by the config.
 */
#ifndef SKIFF_STACK_H
#define SKIFF_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "drop.h"
#include "pkt.h"
#include "timer.h"

#define SKIFF_MAX_IFACES 8
#define SKIFF_MAX_IF_ADDRS 8
#define SKIFF_IFNAMSIZ 16
#define SKIFF_IP_ID_BUCKETS 256

struct skiff_stack_config {
	uint64_t seed;               /* keys the RNG (ephemeral ports, IP ids) */
	unsigned neigh_entries;      /* ARP cache size, default 1024 */
	unsigned neigh_hold_per_entry; /* datagrams held per unresolved neighbour, default 8 */
	unsigned neigh_hold_total;   /* frames held over all neighbours (pool pinned), default 512 */
	unsigned arp_retries;        /* requests before giving up, default 3 */
	uint64_t arp_retrans_ns;     /* between requests, default 1 s */
	uint64_t neigh_reachable_ns; /* REACHABLE → STALE, default 30 s */
	uint64_t neigh_gc_ns;        /* unused STALE/FAILED entries removed, default 60 s */
	unsigned arp_reply_rate;     /* ARP replies per second, default 0 = unlimited as Linux (burst = rate/10 + 1) */
	unsigned icmp_rate;          /* ICMP errors per second, default 1000 (burst 50) */
	unsigned routes;             /* route table size, default 256 */
	unsigned reasm_slots;        /* datagrams in reassembly at once, default 64 */
	unsigned reasm_mem;          /* bytes of frame buffers held by reassembly, default 4 MiB */
	uint64_t reasm_timeout_ns;   /* default 30 s */
	unsigned reasm_max_frags;    /* fragments per datagram, default 128 */
	unsigned udp_sockets;        /* default 1024 */
	unsigned txq;                /* transmit queue slots per interface, power of two, default 1024 */
	unsigned rcvbuf_default;     /* SO_RCVBUF default (bytes of frame truesize), default 212992 */
	unsigned rcvbuf_max;         /* cap for SO_RCVBUF as net.core.rmem_max, default 212992 */
	unsigned sndbuf_max;         /* cap for SO_SNDBUF as net.core.wmem_max, default 212992 */
	unsigned sndbuf_default;     /* default 212992 */
	uint16_t ephemeral_lo, ephemeral_hi; /* default 32768..60999 as Linux */
	uint8_t default_ttl;         /* default 64 */
	unsigned tcp_sockets;        /* TCBs per instance (listeners, connections, TIME-WAIT), default 4096 */
	unsigned tcp_rcvbuf;         /* SO_RCVBUF default for TCP, as Linux tcp_rmem[1]: 131072 */
	unsigned tcp_sndbuf;         /* SO_SNDBUF default for TCP (send ring size), default 262144 */
	unsigned tcp_rcvbuf_max;     /* receive-buffer autotuning ceiling (Linux tcp_rmem[2]), default 512 KiB (frames stay pinned
				      * in receive queues: bounded against the driver pool); <= tcp_rcvbuf: off */
	unsigned tcp_rx_mem_max;     /* frame capacity all TCP receive and reassembly queues may hold together,
				      * default 8 MiB (2048 AF_XDP frames), kept below the driver pool so
				      * slow readers cannot starve receive; 0: no limit (as Linux tcp_mem) */
	unsigned tcp_somaxconn;      /* listen backlog cap, as net.core.somaxconn: 4096 */
	unsigned tcp_challenge_rate; /* RFC 5961 7 challenge ACKs per second, default 1000 */
	bool tcp_syncookies;         /* answer SYNs with cookies when the SYN queue is full, default on */
	bool tcp_rack;               /* RACK-TLP loss detection with SACK peers (RFC 8985), default on; off: RFC 6675 DupThresh */
	/* IPv6 (RFC 4861 10, RFC 4862 5.1: Linux's defaults) */
	unsigned nd_dad_transmits;   /* DupAddrDetectTransmits, default 1; 0: addresses usable at once */
	bool nd_optimistic_dad;      /* RFC 4429: usable while DAD runs, default on (each process under the
				      * preload brings up its own stack: a second of DAD per start otherwise) */
	unsigned nd_rtr_solicits;    /* MAX_RTR_SOLICITATIONS, default 3; 0: no RS */
	uint64_t nd_rtr_solicit_ns;  /* RTR_SOLICITATION_INTERVAL, default 4 s */
	uint64_t nd_delay_first_probe_ns; /* DELAY_FIRST_PROBE_TIME, default 5 s */
	bool nd_accept_ra;           /* default router, prefixes, MTU and hop limit from RAs, default on */
	bool nd_autoconf;            /* SLAAC global addresses from RA prefixes (RFC 4862 5.5.3), default on */
	bool mld_join_solicited;     /* join (and report, MLD) the solicited-node group of every address
				      * (RFC 4861 7.2.1, RFC 4862 5.4.2), mld.c; default off here (unit
				      * tests count frames), on in the socket layer's config */
	bool nd_accept_redirects;    /* RFC 4861 8.3 redirects, default off (ignored, counted) */
	uint8_t default_hop_limit;   /* IPv6 hop limit, default 64 */
	unsigned pmtu6_entries;      /* path MTU cache (RFC 8201), default 256 */
	uint64_t pmtu_expire_ns;     /* a learnt path MTU is forgotten after, default 10 min (RFC 8201 4) */
};

/* Offload capabilities an interface has (same values as the drivers' SKIFF_DEV_CAP_*). */
enum {
	SKIFF_IFCAP_RX_L4_CSUM = 1u << 0,
	SKIFF_IFCAP_TX_L4_CSUM = 1u << 1,
	SKIFF_IFCAP_RX_IP_CSUM = 1u << 2,
};

void skiff_stack_config_defaults(struct skiff_stack_config *cfg);

struct skiff_if_addr4 {
	uint32_t addr;
	uint8_t plen;
};

/* IPv6 address states (RFC 4862 2, 5.4, 5.5.4). */
enum {
	SKIFF_ADDR6_TENTATIVE = 1,   /* DAD running: not used as a source, not ours for input */
	SKIFF_ADDR6_PREFERRED,
	SKIFF_ADDR6_DEPRECATED,      /* preferred lifetime over: ours, not picked as a source for new flows */
	SKIFF_ADDR6_DUPLICATE,       /* DAD found another owner: unused (RFC 4862 5.4.5) */
	SKIFF_ADDR6_OPTIMISTIC,      /* DAD running, usable meanwhile (RFC 4429) */
};

struct skiff_if_addr6 {
	uint8_t addr[16];
	uint8_t plen;
	uint8_t state;               /* SKIFF_ADDR6_* */
	uint8_t dad_left;            /* DAD solicitations still to send */
	bool autoconf;               /* formed by SLAAC: the lifetimes below apply */
	uint64_t dad_at;             /* next DAD step */
	uint64_t preferred_until, valid_until; /* UINT64_MAX: forever */
};

struct skiff_iface {
	bool used;
	bool up;
	bool loopback;               /* the in-stack loopback (loopback.c): never a device, all of 127/8 is its */
	uint16_t index;
	char name[SKIFF_IFNAMSIZ];
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t vlan_id;            /* 0: untagged */
	uint32_t ext_ifindex;        /* the host's index for this interface (scope_id, sll_ifindex,
				      * pktinfo), set by whoever opened the device; 0: unknown */
	uint32_t caps;               /* SKIFF_DEV_CAP_* of the driver */
	struct skiff_pool *pool;     /* frames for output on this interface */
	struct skiff_if_addr4 v4[SKIFF_MAX_IF_ADDRS];
	unsigned n_v4;
	/* IPv6 (nd.c): addresses, the link parameters RAs set, one timer for DAD, RS
	 * and lifetimes */
	struct skiff_if_addr6 v6[SKIFF_MAX_IF_ADDRS];
	unsigned n_v6;
	uint32_t mtu6;               /* link MTU for IPv6 (an RA's MTU option), <= mtu */
	uint8_t hop_limit6;          /* CurHopLimit (RA), 0: the stack default */
	uint8_t rs_left;             /* router solicitations still to send */
	uint64_t rs_at;
	uint64_t nd_reachable_ns, nd_retrans_ns; /* RA values, 0: the stack defaults */
	struct skiff_timer nd_timer;
	/* transmit ring: frames ready for the driver */
	struct skiff_pkt **txq;
	unsigned tx_mask, tx_head, tx_count;
};

struct skiff_tokens {
	uint64_t last_ns;
	uint32_t tokens;             /* scaled by 1 */
	uint32_t rate;               /* per second */
	uint32_t burst;
};

struct skiff_counters {
	uint64_t drop[SKIFF_DROP_MAX];
	uint64_t rx_frames, tx_frames;
	uint64_t ip4_in, ip4_out, ip4_frag_out, ip4_reasm_ok;
	uint64_t ip6_reasm_ok;       /* IPv6 datagrams reassembled (ip6_input.c, as ip4_reasm_ok) */
	uint64_t arp_req_out, arp_reply_out, arp_in;
	uint64_t icmp_in, icmp_out, icmp_echo_replies;
	uint64_t udp_in, udp_out;
	uint64_t ip4_local;          /* frames looped back to our own addresses */
	uint64_t tcp_in, tcp_out, tcp_bytes_in, tcp_retrans, tcp_fast_retrans, tcp_timeouts;
	uint64_t tcp_rto, tcp_dupacks_in, tcp_syncookies_sent, tcp_syncookies_ok, tcp_pmtu_updates;
	uint64_t tcp_established, tcp_resets_in, tcp_resets_out, tcp_challenge_acks, tcp_ooo, tcp_bad_opts;
	uint64_t tcp_rack_lost, tcp_tlp_probes, tcp_tlp_recoveries; /* RACK marked lost, loss probes, probes that repaired a loss */
	uint64_t tcp_undo, tcp_dsack_out;   /* spurious recoveries undone, D-SACKs sent */
	uint64_t ip6_in, ip6_out, ip6_frag_out, ip6_local;
	uint64_t icmp6_in, icmp6_out, icmp6_echo_replies, icmp6_errors_in;
	uint64_t nd_ns_in, nd_na_in, nd_ra_in, nd_ns_out, nd_na_out, nd_rs_out, nd_dad_failed, nd_redirects_ignored;
	uint64_t pmtu6_updates;
};

struct skiff_neigh_table;
struct skiff_route_table;
struct skiff_reasm;
struct skiff_udp_table;
struct skiff_tcp_table;
struct skiff_raw_table;
struct skiff_packet_table;
struct skiff_udp_sock;
struct skiff_mcast;
struct skiff_route6_table;

struct skiff_stack {
	struct skiff_stack_config cfg;
	uint64_t now;                /* last time the caller gave us */
	uint64_t rng[2];             /* xorshift128+ state */
	uint32_t route_gen;          /* bumped on every route or address change: cached routes recheck */
	int lo_ifindex;              /* the loopback interface, -1 while loopback is off (loopback.c) */
	uint64_t ip_id_key;          /* keys the destination hash that picks an ID counter */
	uint16_t ip_ids[SKIFF_IP_ID_BUCKETS]; /* IPv4 identification counters (random starts) */
	struct skiff_iface ifaces[SKIFF_MAX_IFACES];
	struct skiff_timer_wheel timers;
	struct skiff_neigh_table *neigh;
	struct skiff_route_table *routes;
	struct skiff_route6_table *routes6;
	struct skiff_reasm *reasm;
	struct skiff_udp_table *udp;
	struct skiff_tcp_table *tcp;
	struct skiff_raw_table *raw;   /* raw and ping sockets (raw.c) */
	struct skiff_packet_table *packet; /* AF_PACKET sockets and their taps (packet.c) */
	struct skiff_mcast *mcast;   /* multicast memberships per interface (igmp.c), NULL until the first join */
	struct skiff_tokens arp_reply_tb, icmp_tb, icmp6_tb, tcp_challenge_tb;
	struct skiff_counters ctr;
	/* sockets whose readiness changed since the caller last looked */
	struct skiff_udp_sock *ready_head;
	/* datagrams sent to one of our own addresses (or to 127/8 with loopback on),
	 * fed back to input by poll() */
	struct skiff_pkt *local_head, *local_tail;
};

int skiff_stack_create(const struct skiff_stack_config *cfg, uint64_t now, struct skiff_stack **out);
void skiff_stack_destroy(struct skiff_stack *st);

/* Interfaces. Returns the interface index (>= 0) or -errno. */
int skiff_stack_add_iface(struct skiff_stack *st, const char *name, const uint8_t mac[6], uint16_t mtu,
			  uint32_t caps, struct skiff_pool *pool);
struct skiff_iface *skiff_stack_iface(struct skiff_stack *st, int ifindex);
/* Adds addr/plen (host order), its connected route, and sends a gratuitous ARP. */
int skiff_stack_add_addr4(struct skiff_stack *st, int ifindex, uint32_t addr, unsigned plen, uint64_t now);
int skiff_stack_del_addr4(struct skiff_stack *st, int ifindex, uint32_t addr);
/* Is addr one of ours (on any interface)? Returns the ifindex or -1. With
 * loopback on, every 127/8 address is ours, on the loopback interface. */
int skiff_stack_local4(const struct skiff_stack *st, uint32_t addr);
/* Loopback (loopback.c): serve 127.0.0.0/8 inside the stack, as Linux's lo with
 * 127.0.0.1/8. Adds interface "lo" after the device interfaces (call it last:
 * a runtime maps devices to interfaces 0..n-1) whose frames come from `pool`, or
 * with pool NULL from the first interface's pool; mtu 0: that interface's MTU
 * (pool NULL) or 1500. Returns the loopback's ifindex, or -EEXIST (already on),
 * -ENODEV (pool NULL and no interface), -EINVAL (frames too small for mtu),
 * -ENOSPC (no interface slot). Off until called; there is no turning it off. */
int skiff_stack_enable_loopback(struct skiff_stack *st, struct skiff_pool *pool, uint16_t mtu);
/* Does the stack hold the other end of a 127/8 flow: a TCP listener (proto 6) or
 * a UDP socket (proto 17) for addr:port (bound to addr or the wildcard)? false
 * when loopback is off or addr is not 127/8. For the socket layer, which sends a
 * connect/sendto to 127/8 to the kernel when the peer is not here (as Onload's
 * client loopback: the listener may be another process's, in the kernel). */
bool skiff_stack_loopback_peer4(struct skiff_stack *st, uint8_t proto, uint32_t addr, uint16_t port);
/* IPv6 addresses (nd.c). Adds addr/plen on ifindex as TENTATIVE and starts DAD
 * (RFC 4862 5.4; usable at once when nd_dad_transmits is 0), plus the on-link
 * route for the prefix (plen < 128). -EINVAL (multicast, ::, loopback, v4-mapped,
 * plen 0 or > 128, the loopback interface), -EEXIST, -ENOSPC. The link-local
 * address from the MAC (RFC 4862 5.3) is added by skiff_stack_enable_ip6. */
int skiff_stack_add_addr6(struct skiff_stack *st, int ifindex, const uint8_t addr[16], unsigned plen, uint64_t now);
int skiff_stack_del_addr6(struct skiff_stack *st, int ifindex, const uint8_t addr[16]);
/* Turn IPv6 on for a device interface: a link-local address with a stable
 * opaque interface identifier (RFC 7217, as RFC 8064 recommends; SLAAC global
 * addresses use the same) with DAD,
 * fe80::/64 on-link, then router solicitations (nd_rtr_solicits). 0 or -errno. */
int skiff_stack_enable_ip6(struct skiff_stack *st, int ifindex, uint64_t now);
/* The link-local address enable_ip6 gave ifindex (whatever its DAD state). */
int skiff_stack_link_local6(const struct skiff_stack *st, int ifindex, uint8_t out[16]);
/* Is addr one of ours? Returns the ifindex or -1. `usable`: only PREFERRED and
 * DEPRECATED addresses count (not TENTATIVE/DUPLICATE). A link-local address
 * matches only on `ifindex` when ifindex >= 0. ::1 is the loopback's when on. */
int skiff_stack_local6(const struct skiff_stack *st, const uint8_t addr[16], int ifindex, bool usable);
/* Is addr a directed broadcast of one of our subnets? */
bool skiff_stack_is_bcast4(const struct skiff_stack *st, uint32_t addr);

/* Receive a burst from interface ifindex. Ownership of every packet moves to the stack. */
void skiff_stack_input(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n, uint64_t now);
/* Deliver frames looped back to our own addresses (and what they loop back in
 * turn, a bounded number of rounds), run due timers, deliver what those looped. */
void skiff_stack_poll(struct skiff_stack *st, uint64_t now);
/* Earliest time the stack needs poll() again (UINT64_MAX: only on input; st->now
 * when looped-back frames wait). */
uint64_t skiff_stack_next_deadline(struct skiff_stack *st);
/* Take up to n frames waiting to go out on ifindex; the caller passes them to the driver. */
unsigned skiff_stack_tx_drain(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n);
/* Put back frames the driver did not accept (at the head of the queue, in order). */
void skiff_stack_tx_requeue(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n);

/* Linux sock_setsockopt SO_RCVBUF / SO_SNDBUF: the value compared as u32 (a
 * negative size means "as large as allowed"), clamped to the sysctl max, doubled
 * for overhead, floored at SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF. */
#define SKIFF_SOCK_MIN_RCVBUF 2304u
#define SKIFF_SOCK_MIN_SNDBUF 4608u
static inline uint32_t skiff_sockbuf_size(int val, uint32_t max, uint32_t min)
{
	uint64_t v = (uint32_t)val;
	if (v > max)
		v = max;
	v *= 2;
	return v < min ? min : (uint32_t)v;
}

/* Internal helpers shared by the protocol files. */
static inline void skiff_drop(struct skiff_stack *st, enum skiff_drop_reason r, struct skiff_pkt *p)
{
	st->ctr.drop[r]++;
	skiff_pkt_free(p);
}
static inline void skiff_count_drop(struct skiff_stack *st, enum skiff_drop_reason r) { st->ctr.drop[r]++; }
uint64_t skiff_rand64(struct skiff_stack *st);
/* Token bucket: true if one token was taken. */
bool skiff_tokens_take(struct skiff_tokens *tb, uint64_t now);
void skiff_tokens_init(struct skiff_tokens *tb, uint32_t rate, uint32_t burst, uint64_t now);
/* Loop a finished datagram (a chain of frames, data at the IP header) back to
 * input through the local queue (skiff_stack_poll delivers it), marked
 * SKIFF_PKT_LOCAL | flags; returns the frames queued. */
unsigned skiff_stack_loop_local(struct skiff_stack *st, int ifindex, struct skiff_pkt *chain, uint32_t flags);
/* Queue one frame (no chain) for transmission on the interface. Frees it and counts on overflow. */
void skiff_iface_tx(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p);
/* Allocate an output frame on the interface pool. */
struct skiff_pkt *skiff_iface_alloc(struct skiff_iface *ifc);

#endif
