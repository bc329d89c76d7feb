/* raw_internal.h — what raw.c (the table, IPv4, receive queues, errors) shares
 * with raw6.c (IPv6 raw and ping6 sockets). Not for use outside those two.
 */
#ifndef SKIFF_RAW_INTERNAL_H
#define SKIFF_RAW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "raw.h"

struct skiff_raw_table {
	unsigned nraw;                     /* open SOCK_RAW sockets */
	uint16_t next_ident;               /* ping id search start (Linux ping_get_port's next_port) */
	struct skiff_raw_sock *free_head;
	struct skiff_raw_sock *open_head;
	struct skiff_raw_sock *ready_head;
	struct skiff_raw_sock socks[SKIFF_RAW_SOCKETS];
};

/* Error-queue entry description, kept in the frame's cb. IPv6 entries carry
 * their two addresses (offender, then the original destination: 32 bytes) in
 * the frame in front of the payload, at l3_off. */
struct raw_errmeta {
	int32_t ee_errno;
	uint32_t info;
	uint32_t offender;   /* ICMP sender (IPv4) */
	uint32_t dst;        /* destination of the datagram the error is about (IPv4) */
	uint8_t type, code, origin, pad;
	uint64_t ts;
};
_Static_assert(sizeof(struct raw_errmeta) <= sizeof(((struct skiff_pkt *)0)->cb), "errmeta fits cb");

/* SO_EE_ORIGIN_* (linux/errqueue.h) */
enum { RAW_EE_LOCAL = 1, RAW_EE_ICMP = 2, RAW_EE_ICMP6 = 3 };

struct raw_iov_cur {
	const struct iovec *iov;
	int n, i;
	size_t off;
};

void raw_mark_ready(struct skiff_stack *st, struct skiff_raw_sock *sk);
int raw_ping_get_ident(struct skiff_stack *st, struct skiff_raw_sock *sk, uint16_t id);
uint32_t raw_truesize(const struct skiff_pkt *p);
void raw_enqueue(struct skiff_stack *st, struct skiff_raw_sock *sk, struct skiff_pkt *p, uint64_t now);
/* A copy of p (data at its payload) with hlen bytes from head + l3_off in
 * front; fix4: make an IPv4 header look whole (reassembly). */
struct skiff_pkt *raw_copy_with_header(struct skiff_iface *ifc, const struct skiff_pkt *p, uint32_t hlen, bool fix4);
void raw_trim_chain(struct skiff_pkt *p, uint32_t n);
uint32_t raw_run_filter(struct skiff_raw_sock *s, const struct skiff_pkt *p, const uint8_t *start);
/* addr6: NULL, or 32 bytes (offender, destination) for an IPv6 entry. */
void raw_queue_err(struct skiff_stack *st, struct skiff_raw_sock *sk, int ifindex, const struct raw_errmeta *m,
		   const uint8_t *addr6, const uint8_t *payload, size_t plen);
void raw_sock_err(struct skiff_stack *st, struct skiff_raw_sock *sk, int ifindex, struct raw_errmeta *m, bool harderr,
		  const uint8_t *addr6, const uint8_t *payload, size_t plen);
void raw_iov_take(struct raw_iov_cur *c, uint8_t *dst, size_t len);
bool raw_iov_peek(const struct iovec *iov, int iovcnt, uint8_t *dst, size_t n);

/* raw6.c */
void raw6_init(struct skiff_stack *st, struct skiff_raw_sock *sk);
int raw6_bind(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint16_t port);
int raw6_connect(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr);
long raw6_send(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt, size_t len,
	       const struct skiff_addr *dst, int scope, int hops, int tclass, uint64_t now);

#endif
