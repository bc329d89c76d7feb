/* packet.h — packet sockets (AF_PACKET) in the dataplane: taps on every frame an
 * interface receives or queues for transmit, per-socket filtering and queues,
 * and sending whole frames.
 *
 * Flow:
 *   rx: skiff_stack_input → skiff_eth_input → (first thing, one branch when no
 *       packet socket is open) skiff_packet_tap_rx: pkttype as eth_type_trans
 *       computes it, the "NIC filter" a kernel device applies (own MAC,
 *       broadcast, the multicast MACs the stack accepts, plus what
 *       PACKET_ADD_MEMBERSHIP asked: promiscuous, all-multicast, one group)
 *       → every matching socket: protocol, bound interface, classic BPF
 *       (dataplane/bpf_classic.h) on the frame as Linux shows it for the socket
 *       type, receive-buffer check (tp_drops) → a copy in the socket's queue
 *       (or in its TPACKET_V3 ring, packet_ring.h). The frame itself goes on
 *       to the stack unchanged: a tap never owns it.
 *   tx: skiff_iface_tx → skiff_packet_tap_tx: the same with PACKET_OUTGOING
 *       (Linux dev_queue_xmit_nit; the sending packet socket does not see its
 *       own frames, skb_loop_sk).
 *   send: skiff_packet_send copies a whole frame (SOCK_RAW) or builds the
 *       Ethernet header (SOCK_DGRAM) into a frame of the interface's pool and
 *       queues it with skiff_iface_tx (so other packet sockets see it outgoing).
 *
 * Linux references: net/packet/af_packet.c (packet_rcv, packet_snd,
 * packet_getsockopt PACKET_STATISTICS, packet_mc_add), net/ethernet/eth.c
 * (eth_type_trans), net/core/dev.c (__netif_receive_skb_core's skb_vlan_untag
 * before ptype_all: receive taps see a VLAN tag as metadata, never in the frame).
 *
 * Copies: frames belong to the driver's pool and to the stack, so a tap copies
 * the bytes it keeps (at most the filter's snap length) into the socket's own
 * byte ring, allocated once at open; nothing is allocated per frame.
 */
#ifndef SKIFF_PACKET_H
#define SKIFF_PACKET_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pkt.h"
#include "timer.h"

struct skiff_stack;
struct skiff_iface;
struct skiff_pkt_ring;

#define SKIFF_PACKET_SOCKS 64        /* packet sockets per stack */
#define SKIFF_PACKET_MEMBERS 8       /* PACKET_ADD_MEMBERSHIP entries per socket */
#define SKIFF_PACKET_MC_MACS 16      /* multicast MACs per interface (PACKET_MR_MULTICAST) */

/* Linux values (<linux/if_packet.h>, <linux/if_ether.h>) without the headers. */
enum {
	SKIFF_PACKET_HOST = 0,
	SKIFF_PACKET_BROADCAST = 1,
	SKIFF_PACKET_MULTICAST = 2,
	SKIFF_PACKET_OTHERHOST = 3,
	SKIFF_PACKET_OUTGOING = 4,
};
enum { SKIFF_PACKET_MR_MULTICAST = 0, SKIFF_PACKET_MR_PROMISC = 1, SKIFF_PACKET_MR_ALLMULTI = 2 };
#define SKIFF_ETH_P_ALL 0x0003       /* host order; sockets hold protocols in network order as Linux */

/* What a received frame carried, for sockaddr_ll and tpacket_auxdata. */
struct skiff_packet_info {
	uint32_t origlen;                /* frame length on the wire (tp_len) */
	uint32_t caplen;                 /* bytes kept (the filter's snap length: tp_snaplen) */
	uint16_t ifindex;                /* skiff interface */
	uint16_t proto_be;               /* sll_protocol: the ethertype, network order */
	uint8_t pkttype;                 /* SKIFF_PACKET_* */
	bool vlan_valid;                 /* TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID */
	bool csum_not_ready;             /* TP_STATUS_CSUMNOTREADY: an outgoing frame whose L4 sum the driver fills */
	uint16_t vlan_tci, vlan_tpid;
	uint16_t mac_off, net_off;       /* tp_mac, tp_net: offsets in the returned data */
	uint8_t addr[6];                 /* sll_addr: the source MAC */
	uint64_t ts;                     /* receive / enqueue time, ns */
};

struct skiff_packet_member {
	bool used;
	uint16_t ifindex;
	uint8_t type;                    /* SKIFF_PACKET_MR_* */
	uint8_t addr[6];
};

struct skiff_packet_sock {
	bool in_use;
	bool on_ready;
	bool auxdata;                    /* PACKET_AUXDATA (only remembered: the socket layer builds the cmsg) */
	bool filter_locked;              /* SO_LOCK_FILTER */
	bool ignore_outgoing;            /* PACKET_IGNORE_OUTGOING: no OUTGOING frames */
	int type;                        /* SOCK_RAW (3) or SOCK_DGRAM (2) */
	uint16_t proto_be;               /* 0: receives nothing; htons(ETH_P_ALL): everything */
	int ifindex;                     /* bound skiff interface, -1: all */
	uint32_t wake_seq;               /* bumped at every arrival: epoll's edges */
	uint32_t rcvbuf;                 /* sk_rcvbuf: bytes of queued truesize allowed */
	uint32_t rmem;                   /* truesize of what is queued */
	uint32_t stat_packets, stat_drops; /* PACKET_STATISTICS since the last read */
	struct sock_filter *filter;      /* checked program, or NULL */
	unsigned filter_len;
	struct skiff_packet_member members[SKIFF_PACKET_MEMBERS];
	/* the queue: variable-size records in a byte ring */
	uint8_t *qbuf;
	uint32_t qcap, qr, qw, qwrap, qcount;
	struct skiff_pkt_ring *ring;     /* TPACKET_V3 ring to fill instead of the queue (NULL: none) */
	struct skiff_timer ring_timer;   /* the ring's block retire timeout (tp_retire_blk_tov) */
	struct skiff_packet_sock *ready_next;
	void *user;
};

struct skiff_packet_ifstate {
	unsigned promisc, allmulti;      /* references from memberships */
	uint8_t mc[SKIFF_PACKET_MC_MACS][6];
	unsigned mc_refs[SKIFF_PACKET_MC_MACS];
};

struct skiff_packet_table {
	unsigned nopen;                  /* the taps' one branch: 0 → nothing to do */
	struct skiff_packet_sock *tx_self; /* the socket sending right now (not tapped its own frame) */
	struct skiff_packet_sock *ready_head;
	struct skiff_packet_ifstate ifs[8]; /* per skiff interface (SKIFF_MAX_IFACES) */
	struct skiff_packet_sock socks[SKIFF_PACKET_SOCKS];
};

int skiff_packet_table_create(struct skiff_stack *st);
void skiff_packet_table_destroy(struct skiff_stack *st);

/* type: SOCK_RAW or SOCK_DGRAM; proto_be: network-order ethertype (0 = none).
 * -EINVAL (type), -ENOBUFS (no slot), -ENOMEM. */
struct skiff_packet_sock *skiff_packet_open(struct skiff_stack *st, int type, uint16_t proto_be, int *err);
void skiff_packet_close(struct skiff_stack *st, struct skiff_packet_sock *pk);
/* ifindex -1: all interfaces. -ENODEV for an unknown interface. */
int skiff_packet_bind(struct skiff_stack *st, struct skiff_packet_sock *pk, int ifindex, uint16_t proto_be);
/* Copy a program (skiff_bpf_check'd here: -EINVAL as Linux); prog NULL detaches
 * (-ENOENT when none). -EPERM when locked. */
int skiff_packet_set_filter(struct skiff_stack *st, struct skiff_packet_sock *pk, const struct sock_filter *prog,
			    unsigned len);
/* bytes: the sk_rcvbuf value (already doubled/clamped by the caller). */
void skiff_packet_set_rcvbuf(struct skiff_stack *st, struct skiff_packet_sock *pk, uint32_t bytes);
/* PACKET_ADD/DROP_MEMBERSHIP. -EINVAL (type, alen), -ENODEV, -ENOBUFS (add: full),
 * -EADDRNOTAVAIL (drop: not found). */
int skiff_packet_membership(struct skiff_stack *st, struct skiff_packet_sock *pk, bool add, int ifindex, int type,
			    const uint8_t *addr, unsigned alen);
/* PACKET_STATISTICS: tp_packets counts drops too (as Linux); reset after reading. */
void skiff_packet_stats(struct skiff_packet_sock *pk, uint32_t *packets, uint32_t *drops);

/* Take (or with peek look at) the next frame: copies min(caplen, room) bytes into
 * iov. Returns bytes copied, -EAGAIN when empty. */
long skiff_packet_recv(struct skiff_stack *st, struct skiff_packet_sock *pk, const struct iovec *iov, int iovcnt,
		       bool peek, struct skiff_packet_info *info);
/* Length of the next frame (caplen), 0 when empty. */
uint32_t skiff_packet_next_len(const struct skiff_packet_sock *pk);
/* SKIFF_EV_* bits (udp.h values): IN when something is queued; always OUT. */
unsigned skiff_packet_events(const struct skiff_packet_sock *pk);

/* Send: SOCK_RAW: iov is the whole frame (>= 14 bytes, <= mtu + link header);
 * SOCK_DGRAM: iov is the payload, dst (6 bytes) and proto_be build the header.
 * ifindex: the skiff interface. Returns bytes or -errno (-ENXIO no interface,
 * -ENETDOWN down, -EINVAL short, -EMSGSIZE, -ENOBUFS no frame / queue full). */
long skiff_packet_send(struct skiff_stack *st, struct skiff_packet_sock *pk, int ifindex, const struct iovec *iov,
		       int iovcnt, const uint8_t *dst, uint16_t proto_be);

/* The taps (eth.c and stack.c call these; they never take the frame). */
void skiff_packet_tap(struct skiff_stack *st, struct skiff_iface *ifc, const struct skiff_pkt *p, bool outgoing);
static inline bool skiff_packet_tapping(const struct skiff_packet_table *t) { return t && t->nopen; }

struct skiff_packet_sock *skiff_packet_ready_pop(struct skiff_stack *st);

/* For the ring (packet_ring.c): attach/detach; frames then go to the ring. */
void skiff_packet_set_ring(struct skiff_stack *st, struct skiff_packet_sock *pk, struct skiff_pkt_ring *ring);

#endif
