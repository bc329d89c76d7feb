/* dpdk.h — the DPDK ethdev driver: any DPDK port (a real NIC bound to vfio, or
 * a vdev such as net_tap, net_af_packet, net_af_xdp, net_ring, net_null) as a
 * skiff_dev.
 *
 * Flow: skiff_dpdk_eal_init() brings the EAL up once per process;
 * skiff_dpdk_open() finds a port by name or index, configures one rx and one tx
 * queue over an mbuf pool whose per-mbuf private area holds the skiff_pkt
 * descriptor (zero copy: the stack works in the mbuf's own buffer), starts it and
 * returns the device. Everything returns 0 or -errno; on failure a one-line
 * reason (no trailing newline) is written to err when err is not NULL.
 *
 * Device behaviour: wakeup_fd is the tap queue fd for net_tap (readable while
 * frames wait) and -1 for every other PMD (poll); next_event is 0 while the
 * driver holds received frames the caller has not asked for yet, else
 * UINT64_MAX; no lock domain. Offload caps are advertised only when the port
 * offers them; a frame with SKIFF_PKT_TX_L4_CSUM gets its checksum anyway (in
 * software where the port cannot). Frames go out in place when they are direct,
 * unshared mbufs of the port's own pool; any other frame (another pool, another
 * port's, an external-buffer or shared mbuf) is copied. Received mbufs of a
 * pool other than the port's are copied into one of its own. Free every frame
 * before closing a device: frames still held then keep its mbuf pool allocated
 * (and skiff_dpdk_eal_fini refuses) until they come back.
 *
 * This header carries no DPDK types, so code that only opens devices (the socket
 * layer, tools) builds without DPDK headers.
 */
#ifndef SKIFF_DPDK_H
#define SKIFF_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

struct skiff_dpdk_config {
	/* EAL arguments, e.g. "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
	 * "-l", "0", "--vdev=net_tap0,iface=sk0". A first element that is not an
	 * option is taken as the program name (argv[0]); otherwise "skiff" is used.
	 * Used only when the EAL is not up yet; once it is, they must match the
	 * first ones (or be empty). Note: DPDK 22.11 refuses --in-memory together
	 * with --no-huge (which implies legacy memory); use --no-shconf. */
	const char *const *eal_args;
	unsigned n_eal_args;
	const char *port;    /* port name ("net_tap0", "0000:03:00.0") or index ("0") */
	unsigned nb_rxd;     /* rx descriptors, default 1024 (the PMD may adjust) */
	unsigned nb_txd;     /* tx descriptors, default 1024 */
	unsigned nb_mbufs;   /* mbufs in this port's pool, default 32767 */
	unsigned queue;      /* queue index; only 0 for now (one queue per port) */
	bool promisc;
};

/* Once per process; args as in skiff_dpdk_config.eal_args (copied: the caller's
 * array may go away). Repeat calls with the same arguments return 0; different
 * arguments after a successful init return -EALREADY. EAL log output is limited
 * to warnings unless SKIFF_DPDK_LOG is set in the environment (any value; a
 * number 1..8 is taken as the DPDK log level). */
int skiff_dpdk_eal_init(const char *const *args, unsigned n, char *err, size_t errlen);

/* Releases the EAL (rte_eal_cleanup) at process end. -EBUSY while a port is
 * open, or while a frame of a closed port's pool is still out (free it, then
 * call again: the pool is released then). Afterwards the EAL cannot come back in this process: skiff_dpdk_open()
 * and skiff_dpdk_eal_init() return -ESHUTDOWN. Closing the last port does not
 * call this by itself, so a program may close and reopen devices freely. */
int skiff_dpdk_eal_fini(void);

int skiff_dpdk_open(const struct skiff_dpdk_config *cfg, struct skiff_dev **out, char *err, size_t errlen);

/* For a device from skiff_dpdk_open(): 1 link up, 0 down (read now, without
 * waiting), -EINVAL for any other device. */
int skiff_dpdk_link_up(struct skiff_dev *dev);
/* The PMD name ("net_tap", "net_af_packet", "net_ice"...), or NULL for a non-dpdk device. */
const char *skiff_dpdk_driver_name(struct skiff_dev *dev);

struct skiff_dpdk_stats {
	uint64_t rx;             /* frames handed to the caller */
	uint64_t tx;             /* frames the PMD accepted */
	uint64_t rx_multiseg;    /* dropped: frame did not fit one mbuf */
	uint64_t tx_invalid;     /* dropped: chained, out of buffer bounds, or refused by tx_prepare */
	uint64_t tx_copied;      /* frames not sendable in place (another pool, another port's pool, an
	                          * external/indirect or shared mbuf), copied into an mbuf */
	uint64_t tx_hw_csum;     /* L4 checksums left to the port */
	uint64_t tx_sw_csum;     /* L4 checksums the driver filled in software */
	uint64_t rx_copied;      /* received mbufs of another pool (no skiff descriptor), copied */
	uint64_t rx_nombuf;      /* dropped: such an mbuf could not be copied (none of ours free, or
	                          * more bytes than one of ours holds) */
};
void skiff_dpdk_stats(struct skiff_dev *dev, struct skiff_dpdk_stats *out);

#endif
