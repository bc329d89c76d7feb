/* sock_cmsg.h — control messages (ancillary data) of skiff's UDP sockets, as Linux
 * writes and reads them (sock_cmsg.c). */
#ifndef SKIFF_SOCKETAPI_SOCK_CMSG_H
#define SKIFF_SOCKETAPI_SOCK_CMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dataplane/addr.h"

struct skiff_stack;
struct skiff_udp_rxmeta;

/* Which control messages recvmsg reports (struct skiff_udp_sock.cmsg_flags). */
enum {
	SOCK_CMSG_PKTINFO = 1,    /* IP_PKTINFO      → IP_PKTINFO (struct in_pktinfo) */
	SOCK_CMSG_TTL = 2,        /* IP_RECVTTL      → IP_TTL (int) */
	SOCK_CMSG_TOS = 4,        /* IP_RECVTOS      → IP_TOS (one byte) */
	SOCK_CMSG_PKTINFO6 = 8,   /* IPV6_RECVPKTINFO  → IPV6_PKTINFO (struct in6_pktinfo) */
	SOCK_CMSG_HOPLIMIT6 = 16, /* IPV6_RECVHOPLIMIT → IPV6_HOPLIMIT (int) */
	SOCK_CMSG_TCLASS6 = 32,   /* IPV6_RECVTCLASS   → IPV6_TCLASS (int) */
};

/* The option that turns a flag on (setsockopt level SOL_IP / SOL_IPV6), 0 if none. */
unsigned sock_cmsg_flag_of(int level, int name);
/* setsockopt/getsockopt of those options on a skiff UDP socket, with Linux's
 * checks (do_ip_setsockopt / do_ipv6_setsockopt and their getsockopt); 0 or
 * -errno, -ENOPROTOOPT when (level, name) is not one of them. */
struct skiff_sock;
int sock_cmsg_setopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len);
int sock_cmsg_getopt(struct skiff_sock *s, int level, int name, void *val, socklen_t *lenp);

/* ---- receive: Linux put_cmsg over a msghdr ---- */
struct sock_cmsg_out {
	struct msghdr *msg;
	size_t used; /* bytes of msg_control written (each message padded to CMSG_SPACE) */
};

void sock_cmsg_begin(struct sock_cmsg_out *o, struct msghdr *msg);
/* Append one message; too little room sets MSG_CTRUNC in msg_flags: no room for a
 * header drops it, room for part of it writes that part (cmsg_len says how much). */
void sock_cmsg_put(struct sock_cmsg_out *o, int level, int type, const void *data, size_t len);
/* msg_controllen = what was written. */
void sock_cmsg_end(struct sock_cmsg_out *o);

/* The UDP messages `flags` asks for, about datagram m, in Linux's order, for a
 * socket of `domain`. kifindex: the kernel's index of m's interface; spec_dst:
 * in_pktinfo's ipi_spec_dst (host order). */
void sock_cmsg_udp_rx(struct sock_cmsg_out *o, int domain, unsigned flags, const struct skiff_udp_rxmeta *m,
		      uint32_t kifindex, uint32_t spec_dst);

/* ---- send: Linux udp_cmsg_send + ip_cmsg_send / ip6_datagram_send_ctl ---- */
struct sock_cmsg_tx {
	int rc;                   /* first error; Linux reports it after the destination checks */
	int ttl, tos;             /* IP_TTL, IP_TOS; -1: the socket's */
	int hlimit, tclass;       /* IPV6_HOPLIMIT, IPV6_TCLASS; -1: the socket's */
	int dontfrag;             /* IPV6_DONTFRAG; -1: the socket's */
	uint32_t oif;             /* *_PKTINFO interface (kernel index), 0: none */
	struct skiff_addr src;    /* *_PKTINFO source, family NONE or the any address: none */
};

/* For an IPv4 destination; allow_ipv6: the socket is AF_INET6 (IPV6_PKTINFO with
 * a v4-mapped source counts). */
void sock_cmsg_parse4(const struct msghdr *msg, bool allow_ipv6, struct sock_cmsg_tx *c);
/* For an IPv6 destination. */
void sock_cmsg_parse6(const struct msghdr *msg, struct sock_cmsg_tx *c);
/* The PKTINFO checks that need the stack (instance lock held): the interface is
 * ours (-ENODEV), the source is ours (-EINVAL). oif: the stack's index of c->oif
 * (sock_ifindex_from_kernel, -1 when it names none of ours), or without one the
 * interface the send is tied to (bound device, scope), -1 none. */
int sock_cmsg_check_pktinfo(struct skiff_stack *st, const struct sock_cmsg_tx *c, int oif);

#endif
