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

struct skiff_udp_sock {
	struct skiff_udp_sock *hnext;     /* port hash chain */
	struct skiff_udp_sock *ready_next;/* stack ready list link */
	bool in_use, bound, connected, on_ready;
	uint32_t wake_seq;      /* bumped at every readiness event (each arrival): epoll's edges */
	bool reuseaddr, reuseport, broadcast, no_check;
	bool addr_locked, port_locked;    /* bound explicitly by the user (Linux SOCK_BIND*_LOCK) */
	uint8_t family;                   /* SKIFF_AF_INET */
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
/* ICMP error for a datagram we sent: quoted IP header and at least 8 bytes of UDP. */
void udp4_err(struct skiff_stack *st, int ifindex, const struct ip4_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal);

#endif
