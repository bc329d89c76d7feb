/* raw.h — raw IP sockets (SOCK_RAW) and ping sockets (SOCK_DGRAM + IPPROTO_ICMP)
 * in the dataplane, with Linux semantics (net/ipv4/raw.c, net/ipv4/ping.c, raw(7),
 * icmp(7)).
 *
 * One table holds both kinds. A raw socket gets a copy of every accepted datagram
 * of its protocol (IPv4: with the IP header), filtered by bound address, connected
 * peer, bound interface and, for IPPROTO_ICMP, ICMP_FILTER. A ping socket has an
 * echo identifier (its "port", bound or auto-assigned) and receives the echo
 * replies carrying it, without the IP header. ICMP errors about what a socket sent
 * go to it as Linux does: with IP_RECVERR onto its error queue (MSG_ERRQUEUE:
 * sock_extended_err + offender), without it only hard errors of connected sockets
 * as a pending error. Received datagrams wait as frames (copied only when another
 * consumer still needs the original). Addresses are family-generic (struct
 * skiff_addr). IPv6 (raw6.c, net/ipv6/raw.c and ping.c) shares the table: raw
 * sockets receive from the upper-layer header (no IPv6 header), IPV6_CHECKSUM
 * (always at offset 2 for ICMPv6, 4 for Mobility), ICMP6_FILTER, ping6 sockets
 * on ICMPv6 echo ids, errors with SO_EE_ORIGIN_ICMP6.
 */
#ifndef SKIFF_RAW_H
#define SKIFF_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "addr.h"
#include "pkt.h"
#include "wire_ip4.h"
#include "wire_ip6.h"

struct skiff_stack;
struct skiff_iface;
struct sock_filter;

#define SKIFF_RAW_SOCKETS 256u   /* raw + ping sockets per stack */
#define SKIFF_RAW_ERRQ_MAX 64u   /* queued errors per socket (also bounded by SO_RCVBUF) */

/* IP_MTU_DISCOVER values (same as Linux's IP_PMTUDISC_*). */
enum { SKIFF_PMTUDISC_DONT = 0, SKIFF_PMTUDISC_WANT = 1, SKIFF_PMTUDISC_DO = 2, SKIFF_PMTUDISC_PROBE = 3 };

struct skiff_raw_sock {
	struct skiff_raw_sock *next;       /* open list / free list */
	struct skiff_raw_sock *ready_next; /* table ready list */
	bool in_use, on_ready;
	bool ping;                         /* SOCK_DGRAM + IPPROTO_ICMP (ping.c) rather than SOCK_RAW */
	bool connected, hdrincl, recverr, broadcast, reuseaddr;
	uint8_t family;                    /* SKIFF_AF_INET or SKIFF_AF_INET6 */
	uint8_t protocol;                  /* IP protocol (raw), IPPROTO_ICMP (ping) */
	uint8_t ttl, tos, mcast_ttl, pmtudisc; /* IPv6: hop limit unused (uhops), tclass, multicast hops,
						 * IPV6_MTU_DISCOVER as given (0..5) */
	uint16_t ident;                    /* ping: echo identifier (host order), 0 = unbound */
	struct skiff_addr laddr;           /* bound/connected-chosen source; any = wildcard */
	struct skiff_addr saddr;           /* source used on output (0 when bound to mcast/bcast) */
	struct skiff_addr raddr;           /* connected peer */
	int bound_ifindex;                 /* -1: any */
	uint32_t icmp_filter;              /* ICMP_FILTER: bit t set = type t not delivered */
	/* IPv6 only */
	bool checksum;                     /* IPV6_CHECKSUM on: computed on send, verified on receive */
	int32_t csum_off;                  /* its offset in the upper-layer message */
	int16_t uhops;                     /* IPV6_UNICAST_HOPS, -1: the interface's / stack default */
	uint32_t icmp6_filter[8];          /* ICMP6_FILTER (struct icmp6_filter): bit set = blocked */
	int pkt_oif;                       /* IPV6_PKTINFO (cmsg, else sticky) for the send in progress, set by
					    * the socket layer around one send: interface, -1 none */
	struct skiff_addr pkt_src;         /* ... and source (any: none) */
	uint32_t sticky_kif;               /* setsockopt IPV6_PKTINFO as given (kernel ifindex), socket layer's */
	uint8_t sticky_src[16];
	uint8_t cmsg_flags;                /* the socket layer's receive cmsgs (Linux inet->cmsg_flags) */
	/* SO_ATTACH_FILTER: a program skiff_bpf_check accepted, owned by the socket
	 * layer (which frees it after close); run from the IP header (raw) or the
	 * ICMP header (ping) of the first frame, as Linux's sk_filter on the skb. */
	const struct sock_filter *filter;
	unsigned filter_len;
	uint64_t filtered;                 /* datagrams the filter refused */
	int err;                           /* pending error (positive errno), 0 if none */
	uint32_t wake_seq;                 /* bumped at every readiness event: epoll's edges */
	uint32_t rcvbuf, sndbuf, rcv_bytes;
	struct skiff_pkt *rq_head, *rq_tail; /* datagrams */
	struct skiff_pkt *eq_head, *eq_tail; /* error queue (metadata in cb) */
	uint32_t rq_count, eq_count;
	uint64_t drops;                    /* receive-buffer overflows */
	uint32_t gen;                      /* bumps on every close */
	void *user;                        /* owner's cookie (socketapi) */
};

/* What recv reports besides the bytes. */
struct skiff_raw_msginfo {
	struct skiff_addr src;     /* sender (data); error: the original destination */
	struct skiff_addr dst;     /* IPv6 data: the destination it was sent to (IPV6_PKTINFO) */
	size_t len;                /* full length of the message */
	uint64_t ts;               /* stack time at arrival, ns */
	uint8_t ttl, tos;          /* of the IP header that carried it (IPv6: hop limit, traffic class) */
	int ifindex;               /* stack interface it came in on (IPv6 scope), -1 unknown */
	/* error queue only (Linux struct sock_extended_err, SO_EE_ORIGIN_ICMP) */
	int ee_errno;
	uint8_t ee_origin, ee_type, ee_code;
	uint32_t ee_info;
	struct skiff_addr offender; /* who sent the ICMP error */
};

/* IPv6 protocol numbers raw6.c knows (RFC 8200, RFC 6275). */
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_MH_ 135

/* family SKIFF_AF_INET; ping false: SOCK_RAW of `protocol` (IPPROTO_RAW (255)
 * implies IP_HDRINCL), ping true: an ICMP ping socket. NULL + *err. */
struct skiff_raw_sock *skiff_raw_open(struct skiff_stack *st, int family, bool ping, int protocol, int *err);
void skiff_raw_close(struct skiff_stack *st, struct skiff_raw_sock *sk);
/* Raw: addr ours, any, multicast or broadcast (raw_bind), port ignored. Ping: addr
 * ours or any, port = echo id (0 → auto), -EINVAL when already bound, -EADDRINUSE. */
int skiff_raw_bind(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint16_t port);
/* Default destination (family NONE dissolves it); ping sockets bind an id first. */
int skiff_raw_connect(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint64_t now);
/* Send one datagram: raw → the message is the payload (protocol = sk->protocol),
 * or with hdrincl the whole IP datagram (id/checksum/total length/source filled
 * when 0, raw(7)); ping → an ICMP echo request (id and checksum overwritten).
 * ttl/tos < 0: the socket's. dst NULL: the connected peer. Bytes or -errno. */
long skiff_raw_send(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
		    const struct skiff_addr *dst, int ttl, int tos, uint64_t now);
/* The same with the destination's scope (IPv6 sin6_scope_id as a stack
 * interface index; -1 none, SKIFF_SCOPE_NONE a scope naming no stack interface).
 * IPv6: the message is the upper-layer payload (hdrincl: the whole datagram),
 * ttl = hop limit, tos = traffic class; ICMPv6 / IPV6_CHECKSUM sockets get the
 * checksum over the pseudo-header written at their offset. */
long skiff_raw_send_scoped(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
			   const struct skiff_addr *dst, int scope, int ttl, int tos, uint64_t now);
/* Next datagram (raw: with the IP header; ping: the ICMP message). Bytes copied
 * (the full length with SKIFF_MSG_TRUNC), -EAGAIN, or the pending error. */
long skiff_raw_recv(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    struct skiff_raw_msginfo *mi);
/* Next queued ICMP error (MSG_ERRQUEUE): the quoted payload into iov; -EAGAIN when none. */
long skiff_raw_recv_err(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
			int flags, struct skiff_raw_msginfo *mi);
/* SKIFF_EV_* (udp.h values): IN when a datagram waits, ERR for a pending error or
 * a queued one (Linux datagram_poll), OUT always. */
unsigned skiff_raw_events(const struct skiff_raw_sock *sk);
size_t skiff_raw_next_len(const struct skiff_raw_sock *sk);
int skiff_raw_set_rcvbuf(struct skiff_stack *st, struct skiff_raw_sock *sk, int val);
int skiff_raw_set_sndbuf(struct skiff_stack *st, struct skiff_raw_sock *sk, int val);
int skiff_raw_take_error(struct skiff_raw_sock *sk);
/* Turning IP_RECVERR off purges the error queue (Linux ip_setsockopt). */
void skiff_raw_set_recverr(struct skiff_stack *st, struct skiff_raw_sock *sk, bool on);
struct skiff_raw_sock *skiff_raw_ready_pop(struct skiff_stack *st);

/* IPV6_CHECKSUM: off < 0 turns it off; odd offsets -EINVAL (Linux
 * do_rawv6_setsockopt; the IPPROTO_IPV6-level refusal on ICMPv6 sockets is the
 * socket layer's). */
int skiff_raw6_set_checksum(struct skiff_raw_sock *sk, int off);

/* Dataplane-internal entry points. */
int skiff_raw_table_create(struct skiff_stack *st);
void skiff_raw_table_destroy(struct skiff_stack *st);
/* ip4_input, after reassembly and before the protocol demux (Linux raw_v4_input):
 * a copy to every matching raw socket. *pp stays the caller's, except when
 * `last` (no protocol handler follows) and a socket matched: then the frame
 * itself is queued and *pp becomes NULL. Returns whether any socket matched. */
bool raw4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt **pp, const struct ip4_repr *ip,
		bool last, uint64_t now);
/* icmp4: an echo reply (data at the ICMP header). Takes ownership. */
void ping4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		 uint64_t now);
/* icmp4: an ICMP error from `from` quoting q (IP header of a datagram we sent):
 * to raw sockets of the quoted protocol and, when it quotes an echo request, to
 * the ping socket of its id. err/fatal as icmp4's table. Whether a socket matched. */
bool raw4_err(struct skiff_stack *st, int ifindex, uint32_t from, uint8_t type, uint8_t code, uint32_t rest,
	      const uint8_t *q, size_t qlen, int err, bool fatal, uint64_t now);

/* ip6_input, after reassembly and before the upper-layer demux (Linux
 * raw6_local_deliver): a copy (data at the upper-layer header, l3_off at the
 * fixed header) to every matching raw socket of proto. `last` and *pp as
 * raw4_input, except that with `last` a matched frame is always consumed (*pp
 * NULL), even when every socket's filter refused it. Whether any socket matched. */
bool raw6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt **pp, const struct ip6_repr *ip,
		uint8_t proto, bool last, uint64_t now);
/* icmp6: an echo reply (data at the ICMPv6 header). Takes ownership. */
void ping6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		 uint64_t now);
/* icmp6: an ICMPv6 error from `from` (16 bytes) quoting q (qlen bytes from the
 * fixed header of a datagram we sent; its upper layer proto at q + l4_off).
 * info: the MTU / pointer. Whether a socket matched. */
bool raw6_err(struct skiff_stack *st, int ifindex, const uint8_t *from, uint8_t type, uint8_t code, uint32_t info,
	      const uint8_t *q, size_t qlen, size_t l4_off, uint8_t proto, int err, bool fatal, uint64_t now);

#endif
