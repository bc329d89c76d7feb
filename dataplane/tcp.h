/* tcp.h — TCP connections in the dataplane (RFC 9293, 7323, 2018, 6298, 5681).
 *
 * A connection (TCB) lives in a table preallocated at stack creation. Two hashes
 * find it: by local port (bind conflicts, listeners) and by 4-tuple
 * (synchronized connections). Input (tcp_input.c) runs RFC 9293 3.10.7 "SEGMENT
 * ARRIVES" step by step and returns actions (send an ACK now, run output, reset,
 * wake the reader/writer) that the caller carries out; output (tcp_output.c)
 * sends what the windows allow; one timer per connection (tcp_timer.c) serves
 * retransmission, delayed ACK, persist, keepalive and TIME-WAIT, armed at the
 * earliest of their deadlines.
 *
 * Data: the send side copies the application's bytes into a ring allocated when
 * the connection first sends (sndbuf bytes) and cuts segments from it, so
 * retransmission never depends on a frame the driver still holds. The receive
 * side keeps the arriving frames (no copy until recv), in order on the receive
 * queue, out of order in the reassembly queue (tcp_ooo.h), both bounded.
 *
 * IPv4 and IPv6 (RFC 8200 8): a TCB keeps its socket's API family and its
 * addresses in wire form, so an AF_INET6 socket without IPV6_V6ONLY carries IPv4
 * connections with AF_INET addresses (the socket layer shows them v4-mapped).
 */
#ifndef SKIFF_TCP_H
#define SKIFF_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "addr.h"
#include "ip6.h"
#include "pkt.h"
#include "route.h"
#include "tcp_cc.h"
#include "tcp_ooo.h"
#include "tcp_rack.h"
#include "tcp_sack.h"
#include "timer.h"
#include "wire_ip4.h"
#include "wire_tcp.h"

struct skiff_stack;
struct skiff_iface;

enum skiff_tcp_state {
	SKIFF_TCP_CLOSED,
	SKIFF_TCP_LISTEN,
	SKIFF_TCP_SYN_SENT,
	SKIFF_TCP_SYN_RECEIVED,
	SKIFF_TCP_ESTABLISHED,
	SKIFF_TCP_FIN_WAIT_1,
	SKIFF_TCP_FIN_WAIT_2,
	SKIFF_TCP_CLOSE_WAIT,
	SKIFF_TCP_CLOSING,
	SKIFF_TCP_LAST_ACK,
	SKIFF_TCP_TIME_WAIT,
};

const char *skiff_tcp_state_name(enum skiff_tcp_state s);

/* Timer deadlines that share the connection's one timer slot. */
/* REO: RACK's reordering timer (RFC 8985 6.3); TLP: the probe timeout (7.2). */
enum { TCP_T_RTX, TCP_T_DELACK, TCP_T_PERSIST, TCP_T_KEEP, TCP_T_2MSL, TCP_T_REO, TCP_T_TLP, TCP_T_N };

struct skiff_tcp_sock {
	struct skiff_tcp_sock *bnext;      /* local-port (bind) hash chain */
	struct skiff_tcp_sock *enext;      /* 4-tuple hash chain, while synchronized */
	struct skiff_tcp_sock *ready_next; /* stack ready list */
	struct skiff_tcp_sock *qnext;      /* listener's accept queue */
	struct skiff_tcp_sock *parent;     /* listener, while on its queues */
	bool in_use, bound, in_ehash, on_ready, addr_locked, port_locked;
	uint32_t wake_seq;                 /* bumped at every readiness event (each arrival): epoll's edges */
	bool on_synq;                      /* counted in the listener's SYN queue */
	bool reuseaddr, reuseport, nodelay, cork, keepalive, quickack_mode;
	bool ts_ok, sack_ok, ws_ok;        /* negotiated on the handshake */
	bool fin_queued;                   /* shutdown(SHUT_WR)/close: FIN after the data */
	bool fin_rcvd;                     /* peer's FIN consumed into rcv_nxt */
	bool fin_acked;                    /* our FIN acknowledged */
	bool ooo_fin;                      /* a FIN arrived ahead of missing data, at ooo_fin_seq */
	bool dsack_pending;                /* next ACK reports [dsack_start, dsack_end) as a D-SACK (RFC 2883) */
	uint32_t dsack_start, dsack_end;
	uint32_t ooo_fin_seq;
	bool rd_shut;                      /* shutdown(SHUT_RD) */
	bool orphan;                       /* closed by the user, finishing on its own */
	bool accepted;                     /* handed out by accept */
	bool linger_on;
	uint8_t state;
	uint8_t family;                    /* the socket's API family (SKIFF_AF_INET / INET6) */
	bool v6only;                       /* IPV6_V6ONLY: an AF_INET6 socket takes no IPv4 */
	uint8_t ttl, tos;
	uint8_t tclass;                    /* IPV6_TCLASS */
	int16_t hop_limit;                 /* IPV6_UNICAST_HOPS, -1: the interface's / stack default */
	int scope_ifindex;                 /* sin6_scope_id for a link-local peer or address, -1: none */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks;
	uint8_t backoff;                   /* RTO doublings since the last good ACK */
	uint8_t rtx_count;                 /* retransmissions of the same data */
	uint8_t keep_probes;
	uint32_t total_retrans;            /* segments retransmitted (TCP_INFO) */
	uint16_t lport, rport;
	/* addresses in wire form: an IPv4 connection on an AF_INET6 socket keeps
	 * AF_INET addresses (the socket layer shows them v4-mapped) */
	struct skiff_addr laddr, raddr;
	int bound_ifindex;
	struct skiff_route_res4 rt;        /* route to raddr, valid while rt_gen == st->route_gen */
	struct skiff_route_res6 rt6;       /* the same for an IPv6 raddr */
	uint32_t rt_gen;
	bool rt_ok;
	int err;                           /* pending error (positive errno) */
	uint32_t gen;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t mss;                      /* effective send MSS (payload per segment) */
	uint32_t peer_mss, user_mss;
	uint32_t recover;                  /* RFC 6582 "recover" */
	bool in_recovery;
	/* send buffer: a ring of sbuf_cap bytes; byte snd_una is at sbuf_head */
	uint8_t *sbuf;
	uint32_t sbuf_cap, sbuf_head, sbuf_len; /* sbuf_len: unacked + unsent bytes */
	uint32_t sndbuf;                   /* SO_SNDBUF as reported */

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_wnd, rcv_adv; /* rcv_adv: right edge last advertised */
	uint32_t rcvbuf;                   /* SO_RCVBUF as reported; grows with the reader (autotuning) */
	bool rcvbuf_locked;                /* set by SO_RCVBUF: no autotuning */
	uint32_t drs_copied, drs_space;    /* bytes read this RTT, most read in one RTT so far */
	uint64_t drs_time;                 /* start of this measurement */
	uint64_t rcv_rtt;                  /* receiver's RTT estimate from timestamps (ns), 0: none */
	struct skiff_pkt *rq_head, *rq_tail; /* in-order data, payload at data */
	uint32_t rq_bytes, rq_truesize;
	uint32_t rq_off;                   /* bytes of rq_head already read */
	struct skiff_tcp_ooo ooo;          /* out-of-order segments */

	/* timestamps (RFC 7323) */
	uint32_t ts_recent, ts_offset;     /* ts_offset: randomised per connection */
	uint64_t ts_recent_age;
	uint32_t last_ack_sent;

	/* RTT (RFC 6298), ns */
	uint64_t srtt, rttvar, rto, min_rtt;
	uint32_t rtt_seq;                  /* Karn: timed segment, valid when rtt_at != 0 */
	uint64_t rtt_at;

	/* timers */
	struct skiff_timer timer;
	uint64_t due[TCP_T_N];             /* 0: not armed */
	uint64_t last_rcv, last_snd;       /* for keepalive / idle restart */
	uint64_t user_timeout_ns;          /* TCP_USER_TIMEOUT, 0: off */
	uint64_t first_rtx_at;             /* when the oldest unacknowledged data was sent (TCP_USER_TIMEOUT) */
	uint64_t keep_idle_ns, keep_intvl_ns;
	uint8_t keep_cnt;
	uint32_t linger_s;
	uint32_t delack_segs;              /* full segments received since the last ACK */
	uint8_t quickacks;                 /* quick ACKs left (start of connection, after ooo) */

	/* congestion control and loss recovery */
	struct skiff_tcp_cc cc;
	struct skiff_tcp_sack sack;        /* what the peer SACKed (RFC 6675 scoreboard) */
	struct skiff_tcp_rack rack;        /* transmit log, RACK-TLP (RFC 8985), with SACK */
	/* undoing a spurious recovery (RFC 3708 / Linux's undo): the congestion
	 * state before the episode, and its retransmissions not yet D-SACKed */
	struct skiff_tcp_cc cc_prior;
	uint32_t undo_retrans;
	uint32_t undo_marker;              /* SND.UNA when the episode began */
	bool undo_ok;
	/* proportional rate reduction during RACK recovery (RFC 6937) */
	uint32_t prr_delivered, prr_out, prr_recoverfs;

	/* listener */
	struct skiff_tcp_sock *aq_head, *aq_tail; /* established, not yet accepted */
	uint16_t backlog, aq_len, synq_len;

	void *user;                        /* socketapi cookie */
};

/* Readiness bits (poll.h values). */
enum {
	SKIFF_TCP_EV_IN = 0x001,
	SKIFF_TCP_EV_OUT = 0x004,
	SKIFF_TCP_EV_ERR = 0x008,
	SKIFF_TCP_EV_HUP = 0x010,
	SKIFF_TCP_EV_RDHUP = 0x2000,
};

/* recv/send flags (MSG_* values). */
enum {
	SKIFF_TCP_MSG_PEEK = 0x02,
	SKIFF_TCP_MSG_DONTWAIT = 0x40,
	SKIFF_TCP_MSG_WAITALL = 0x100,
	SKIFF_TCP_MSG_MORE = 0x8000,
};

/* Socket calls. All return 0 / a count or -errno, as Linux's. */
struct skiff_tcp_sock *skiff_tcp_open(struct skiff_stack *st, int family, int *err);
int skiff_tcp_bind(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *addr, uint16_t port);
int skiff_tcp_listen(struct skiff_stack *st, struct skiff_tcp_sock *sk, int backlog);
/* Starts the handshake: 0 once the SYN is queued (-EINPROGRESS is the socket
 * layer's business), -EISCONN, -EALREADY, -EADDRNOTAVAIL, -ENETUNREACH ... */
int skiff_tcp_connect(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *addr, uint16_t port,
		      uint64_t now);
/* Next established child, or NULL with *err = -EAGAIN (or -EINVAL when not listening). */
struct skiff_tcp_sock *skiff_tcp_accept(struct skiff_stack *st, struct skiff_tcp_sock *sk, int *err);
long skiff_tcp_send(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    uint64_t now);
long skiff_tcp_recv(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    uint64_t now);
/* how: 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR. -ENOTCONN when not connected. */
int skiff_tcp_shutdown(struct skiff_stack *st, struct skiff_tcp_sock *sk, int how, uint64_t now);
/* The user's close: orderly (FIN after the data) or abortive (RST: unread data,
 * or SO_LINGER with zero time). The TCB finishes on its own and frees itself. */
void skiff_tcp_close(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
/* Connections closed by the user that still have data or a FIN to deliver (not
 * yet in FIN-WAIT-2, TIME-WAIT or CLOSED): what a process waits for at exit. */
unsigned skiff_tcp_unfinished(struct skiff_stack *st);
unsigned skiff_tcp_events(const struct skiff_tcp_sock *sk);
/* Pending error, cleared (SO_ERROR). */
int skiff_tcp_take_error(struct skiff_tcp_sock *sk);
/* Bytes readable now (FIONREAD / SIOCINQ). */
uint32_t skiff_tcp_readable(const struct skiff_tcp_sock *sk);
/* Free space in the send buffer. */
uint32_t skiff_tcp_writable(const struct skiff_tcp_sock *sk);

/* Tunables, as setsockopt would set them. */
int skiff_tcp_set_rcvbuf(struct skiff_stack *st, struct skiff_tcp_sock *sk, int val);
int skiff_tcp_set_sndbuf(struct skiff_stack *st, struct skiff_tcp_sock *sk, int val);
int skiff_tcp_set_nodelay(struct skiff_stack *st, struct skiff_tcp_sock *sk, bool on, uint64_t now);
int skiff_tcp_set_cork(struct skiff_stack *st, struct skiff_tcp_sock *sk, bool on, uint64_t now);

/* Dataplane-internal entry points. */
int skiff_tcp_table_create(struct skiff_stack *st);
void skiff_tcp_table_destroy(struct skiff_stack *st);
void tcp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		uint64_t now);
/* ICMP error for a segment we sent (quoted IP header + at least 8 bytes of TCP). */
/* mtu: the next-hop MTU of a "fragmentation needed" error (RFC 1191), else 0. */
void tcp4_err(struct skiff_stack *st, int ifindex, const struct ip4_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal, uint16_t mtu);
/* IPv6 (tcp_input.c): data at the TCP header, l3_off at the fixed header. */
void tcp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		uint64_t now);
/* ICMPv6 error quoting a segment we sent; mtu: the path MTU after a Packet Too
 * Big (RFC 8201), else 0. */
void tcp6_err(struct skiff_stack *st, int ifindex, const struct ip6_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal, uint32_t mtu);
/* Pop the next socket whose readiness changed (for the socket layer). */
struct skiff_tcp_sock *skiff_tcp_ready_pop(struct skiff_stack *st);

#endif
