/* udp.h — UDP sockets in the dataplane (RFC 768, RFC 1122 4.1).
 *
 * Sockets live in a table preallocated at stack creation; a hash on local port
 * finds the candidates for an incoming datagram, scored as Linux scores them
 * (connected 4-tuple beats bound address beats wildcard). Received datagrams wait
 * on the socket as frames (a reassembled one as a fragment chain), never copied
 * until recv. Errors from ICMP land in `err` (reported once, then cleared), as
 * Linux's sk_err for connected sockets. Address families: SKIFF_AF_INET only in
 * this slice; the struct is already family-generic.
 */
#ifndef SKIFF_UDP_H
#define SKIFF_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "addr.h"
#include "pkt.h"
#include "wire_ip4.h"

struct skiff_stack;
struct skiff_iface;

/* Readiness bits (same values as poll.h's POLLIN/POLLOUT/POLLERR). */
enum { SKIFF_EV_IN = 0x001, SKIFF_EV_OUT = 0x004, SKIFF_EV_ERR = 0x008 };

/* recv/send flags understood by the dataplane (same values as MSG_*). */
enum { SKIFF_MSG_PEEK = 0x02, SKIFF_MSG_TRUNC = 0x20 };

#define SKIFF_SCOPE_NONE (-2)

struct skiff_udp_sock {
	struct skiff_udp_sock *hnext;     /* port hash chain */
	struct skiff_udp_sock *ready_next;/* stack ready list link */
	bool in_use, bound, connected, on_ready;
	uint32_t wake_seq;      /* bumped at every readiness event (each arrival): epoll's edges */
	bool reuseaddr, reuseport, broadcast, no_check;
	bool addr_locked, port_locked;    /* bound explicitly by the user (Linux SOCK_BIND*_LOCK) */
	uint8_t family;                   /* SKIFF_AF_INET, SKIFF_AF_INET6 (dual stack: IPv4 as v4-mapped) */
	bool v6only;                      /* IPV6_V6ONLY: an AF_INET6 socket takes no IPv4 */
	int16_t hop_limit;                /* IPV6_UNICAST_HOPS, -1: the route's default */
	int16_t mcast_hops;               /* IPV6_MULTICAST_HOPS, default 1 */
	uint8_t tclass;                   /* IPV6_TCLASS */
	bool dontfrag;                    /* IPV6_DONTFRAG */
	int scope_ifindex;                /* the interface the destination's scope_id names, set by the caller
					   * around one connect/send; -1 none, SKIFF_SCOPE_NONE: names no interface */
	int last_rx_ifindex;              /* interface of the datagram recv returned last (its scope) */
	uint8_t ttl, tos, mcast_ttl;
	uint16_t lport, rport;            /* host order; lport 0 = unbound */
	struct skiff_addr laddr, raddr;
	int bound_ifindex;                /* -1: any */
	int err;                          /* pending error (positive errno), 0 if none */
	uint32_t rcvbuf, sndbuf;          /* bytes, as getsockopt reports them */
	uint32_t rcv_bytes;               /* truesize of queued frames */
	uint32_t rq_count;
	struct skiff_pkt *rq_head, *rq_tail;
	uint64_t drops;                   /* rcvbuf overflows, as SO_RXQ_OVFL would count */
	uint32_t gen;                     /* bumps on every close, for stale handles */
	void *user;                       /* owner's cookie (socketapi fd entry) */
	/* multicast options (udp_mcast.c); zero is Linux's default */
	int mc_if;                        /* IP_MULTICAST_IF interface + 1, 0: none */
	uint32_t mc_addr;                 /* IP_MULTICAST_IF address (host order), 0: none */
	bool mc_noloop, mc_noall;         /* IP_MULTICAST_LOOP / IP_MULTICAST_ALL turned off */
	int mc6_if;                       /* IPV6_MULTICAST_IF interface + 1, 0: none (udp_mcast6.c) */
	bool mc6_noloop, mc6_noall;       /* IPV6_MULTICAST_LOOP / IPV6_MULTICAST_ALL turned off */
	/* control messages (socketapi/sock_cmsg.c); the dataplane only carries them */
	uint16_t cmsg_flags;              /* which ones recvmsg reports (SOCK_CMSG_* bits) */
	int tx_oif;                       /* a sendmsg *_PKTINFO interface, set by the caller around one
					   * send like scope_ifindex; -1: none */
	struct skiff_addr tx_src;         /* a sendmsg *_PKTINFO source, family NONE: none (same) */
};

/* What recvmsg's control messages say about the datagram at the head of the
 * queue (skiff_udp_rx_meta): read from its IP header. */
struct skiff_udp_rxmeta {
	bool v6;                          /* arrived over IPv6 (else IPv4, also on a dual-stack socket) */
	uint8_t ttl, tos;                 /* TTL / hop limit, TOS / traffic class */
	struct skiff_addr dst;            /* its destination: SKIFF_AF_INET (host order) or SKIFF_AF_INET6 */
	int ifindex;                      /* the interface it arrived on */
};

struct skiff_udp_sock *skiff_udp_open(struct skiff_stack *st, int family, int *err);
void skiff_udp_close(struct skiff_stack *st, struct skiff_udp_sock *sk);
/* port 0 → ephemeral (RFC 6056). addr any → wildcard. -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL. */
int skiff_udp_bind(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct skiff_addr *addr, uint16_t port);
/* Connect sets the default destination; family NONE dissolves the association. */
int skiff_udp_connect(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct skiff_addr *addr, uint16_t port,
		      uint64_t now);
/* Returns bytes sent or -errno (-EMSGSIZE, -EDESTADDRREQ, -ENETUNREACH, -EACCES for broadcast
 * without SO_BROADCAST, -ENOBUFS, pending -ECONNREFUSED ...). dst NULL: use the connected peer. */
long skiff_udp_send(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt,
		    const struct skiff_addr *dst, uint16_t dport, int flags, uint64_t now);
/* Copies the next datagram; returns bytes copied (or the whole length with MSG_TRUNC) or
 * -EAGAIN when empty, or the pending error. *dgram_len gets the datagram's full length;
 * src/sport (may be NULL) the sender. */
long skiff_udp_recv(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt,
		    int flags, struct skiff_addr *src, uint16_t *sport, size_t *dgram_len);
/* The head datagram's IP header facts for control messages (call under the same
 * lock, just before skiff_udp_recv takes it). 0, or -EAGAIN when none waits. */
int skiff_udp_rx_meta(const struct skiff_udp_sock *sk, struct skiff_udp_rxmeta *m);
/* Current readiness as SKIFF_EV_* bits. */
unsigned skiff_udp_events(const struct skiff_udp_sock *sk);
/* Bytes of the next datagram (FIONREAD), 0 when none. */
size_t skiff_udp_next_len(const struct skiff_udp_sock *sk);
int skiff_udp_set_rcvbuf(struct skiff_stack *st, struct skiff_udp_sock *sk, int val);
int skiff_udp_set_sndbuf(struct skiff_stack *st, struct skiff_udp_sock *sk, int val);
/* Take the pending error (SO_ERROR semantics: returns it and clears it). */
int skiff_udp_take_error(struct skiff_udp_sock *sk);
/* Pop the next socket whose readiness changed (NULL when none). */
struct skiff_udp_sock *skiff_udp_ready_pop(struct skiff_stack *st);
/* Is a socket bound to port on addr (or the wildcard), arriving on ifindex? Any
 * such socket, connected or not: what a sender can hope to reach. */
bool skiff_udp_port_open4(struct skiff_stack *st, uint32_t addr, uint16_t port, int ifindex);

/* Dataplane-internal entry points. */
int skiff_udp_table_create(struct skiff_stack *st);
void skiff_udp_table_destroy(struct skiff_stack *st);
void udp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		uint64_t now);
struct ip6_repr;
struct skiff_route_res6;
void udp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		uint64_t now);
void udp6_err(struct skiff_stack *st, int ifindex, const struct ip6_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal);
/* Shared by udp.c and udp6.c (one socket table, both families). */
long udp6_send(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt, size_t len,
	       const uint8_t dst[16], uint16_t dport, int scope, uint64_t now);
int udp6_route(struct skiff_stack *st, const struct skiff_udp_sock *sk, const uint8_t dst[16], int scope,
	       struct skiff_route_res6 *rt);
struct skiff_udp_sock *udp_lookup(struct skiff_stack *st, const struct skiff_addr *saddr, uint16_t sport,
				  const struct skiff_addr *daddr, uint16_t dport, int ifindex);
bool udp_mcast_match(const struct skiff_udp_sock *s, const struct skiff_addr *saddr, uint16_t sport,
		     const struct skiff_addr *daddr, uint16_t dport, int ifindex);
/* Queue p on the socket whose address/port matched (unicast), or a copy on every
 * matching one (group); false when none did (the caller answers port unreachable). */
bool udp_deliver(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct skiff_addr *sa,
		 uint16_t sport, const struct skiff_addr *da, uint16_t dport, bool group);
void udp_enqueue(struct skiff_stack *st, struct skiff_udp_sock *sk, struct skiff_pkt *p);
struct skiff_pkt *udp_clone_chain(struct skiff_iface *ifc, const struct skiff_pkt *src);
uint32_t udp_chain_sum(const struct skiff_pkt *p, uint32_t sum);
/* Cut a chain to its first `keep` bytes (link or IP padding past the UDP length). */
void udp_trim_chain(struct skiff_pkt *p, uint32_t keep);
/* The message copied into `piece`-sized frames of ifc with the UDP header (checksum
 * 0) in front; *sum the ones'-complement sum of header and payload. 0, -ENOBUFS, -EAGAIN. */
int udp_build(struct skiff_stack *st, struct skiff_udp_sock *sk, struct skiff_iface *ifc, const struct iovec *iov,
	      int iovcnt, size_t len, uint16_t dport, uint32_t piece, struct skiff_pkt **out, uint32_t *sum);
int udp_autobind(struct skiff_stack *st, struct skiff_udp_sock *sk);
void udp_mark_ready(struct skiff_stack *st, struct skiff_udp_sock *sk);

/* ICMP error for a datagram we sent: quoted IP header and at least 8 bytes of UDP. */
void udp4_err(struct skiff_stack *st, int ifindex, const struct ip4_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal);

#endif
