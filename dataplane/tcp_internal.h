/* tcp_internal.h — what tcp.c, tcp_input.c, tcp_output.c and tcp_timer.c share.
 *
 * Constants are Linux's where RFC 9293 leaves a choice (a peer sees skiff behave
 * as a Linux host would): RTO 200 ms .. 120 s, initial RTO 1 s (RFC 6298 2.1),
 * delayed ACK 40 ms, TIME-WAIT 60 s, 6 SYN and 15 data retransmissions.
 */
#ifndef SKIFF_TCP_INTERNAL_H
#define SKIFF_TCP_INTERNAL_H

#include "tcp.h"

#include "stack.h"

#define TCP_BHASH_SIZE 1024u              /* local-port hash buckets */
#define TCP_RTO_MIN_NS 200000000ull       /* Linux TCP_RTO_MIN (RFC 6298 2.4 says 1 s; see tcp.h) */
#define TCP_RTO_MAX_NS 120000000000ull    /* Linux TCP_RTO_MAX (RFC 6298 2.5: at least 60 s) */
#define TCP_RTO_INIT_NS 1000000000ull     /* RFC 6298 2.1 */
#define TCP_DELACK_NS 40000000ull         /* Linux TCP_DELACK_MIN; RFC 9293 3.8.6.3: < 0.5 s */
#define TCP_TIMEWAIT_NS 60000000000ull    /* Linux TCP_TIMEWAIT_LEN (2 MSL) */
#define TCP_FIN_TIMEOUT_NS 60000000000ull /* orphaned FIN-WAIT-2 (Linux tcp_fin_timeout) */
#define TCP_SYN_RETRIES 6
#define TCP_SYNACK_RETRIES 5
#define TCP_SYNACK_RETRIES_PRUNED 2    /* with the SYN queue over half full (Linux's thresh floor) */
#define TCP_DATA_RETRIES 15               /* Linux tcp_retries2 */
#define TCP_PERSIST_MIN_NS 200000000ull
#define TCP_KEEPIDLE_NS 7200000000000ull  /* RFC 1122 4.2.3.6: at least two hours */
#define TCP_KEEPINTVL_NS 75000000000ull
#define TCP_KEEPCNT 9
#define TCP_DEFAULT_MSS 536               /* RFC 9293 3.7.1 when the peer sends none */
#define TCP_DEFAULT_MSS6 1220             /* the same over IPv6: 1280 - 40 - 20 (RFC 8200 5, RFC 9293 3.7.1) */
#define TCP_MIN_MSS 88                    /* Linux TCP_MIN_SND_MSS: a zero/tiny MSS cannot starve us */
#define TCP_QUICKACKS 16
#define TCP_MAX_WINDOW 65535u
#define TCP_TLP_MIN_NS 2000000ull         /* added to 2 SRTT for the probe timeout (Linux TCP_TIMEOUT_MIN) */

struct skiff_tcp_table {
	struct skiff_tcp_sock *socks;
	unsigned cap;
	struct skiff_tcp_sock *free_head;
	struct skiff_tcp_sock *bhash[TCP_BHASH_SIZE];
	struct skiff_tcp_sock **ehash;
	unsigned emask;
	uint64_t key[2];                  /* ISN, cookies, port offsets (SipHash) */
	struct skiff_tcp_sock *ready_head;
	unsigned live;
	uint64_t rx_mem;                  /* frame capacity held by all receive + reassembly queues */
	bool rx_pressure;                 /* data was refused for rx_mem; until it falls 1/8 below the limit */
};

/* Where a segment without a TCB came from (wire form, either family) and the
 * interface it came in on: what a stateless answer is routed by. */
struct tcp_rx_addr {
	struct skiff_addr src, dst;
	int ifindex;
};

/* Actions a step of SEGMENT ARRIVES asks for; the caller carries them out. */
enum tcp_action {
	TCP_ACT_ACK_NOW = 1u << 0,   /* send an ACK right away */
	TCP_ACT_ACK_DELAY = 1u << 1, /* an ACK is owed; may be delayed */
	TCP_ACT_OUTPUT = 1u << 2,    /* windows moved: send what we can */
	TCP_ACT_WAKE = 1u << 3,      /* readiness changed */
	TCP_ACT_FREE = 1u << 4,      /* the TCB is finished: release it */
	TCP_ACT_RST = 1u << 5,       /* answer the segment with a reset (no TCB needed) */
	TCP_ACT_DROP = 1u << 6,      /* the ACK step rejected the segment: stop processing it */
};

static inline struct skiff_tcp_table *tcp_tab(struct skiff_stack *st) { return st->tcp; }
static inline bool tcp_synced(const struct skiff_tcp_sock *sk) { return sk->state >= SKIFF_TCP_ESTABLISHED; }
/* The connection runs over IPv6 (its wire family; an AF_INET6 socket may carry IPv4). */
static inline bool tcp_v6(const struct skiff_tcp_sock *sk) { return sk->raddr.family == SKIFF_AF_INET6; }
/* Network + TCP header bytes for a wire family (MSS arithmetic). */
static inline uint32_t tcp_hdrs(uint8_t family) { return (family == SKIFF_AF_INET6 ? 40u : 20u) + TCP_HDR_LEN; }
static inline uint32_t tcp_default_mss(uint8_t family)
{
	return family == SKIFF_AF_INET6 ? TCP_DEFAULT_MSS6 : TCP_DEFAULT_MSS;
}
/* RACK-TLP runs when the log exists (config tcp_rack) and the peer SACKs. */
static inline bool tcp_rack_on(const struct skiff_tcp_sock *sk) { return sk->rack.r && sk->sack_ok; }

/* tcp.c */
void tcp_set_state(struct skiff_stack *st, struct skiff_tcp_sock *sk, enum skiff_tcp_state s);
void tcp_mark_ready(struct skiff_stack *st, struct skiff_tcp_sock *sk);
void tcp_ehash_add(struct skiff_stack *st, struct skiff_tcp_sock *sk);
/* Synchronized/connecting TCB by 4-tuple (wire-form addresses of either family). */
struct skiff_tcp_sock *tcp_lookup_est(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
				      const struct skiff_addr *raddr, uint16_t rport);
/* The same for IPv4 (host order). */
struct skiff_tcp_sock *tcp_lookup_established(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
					      uint16_t rport);
/* Best listener for a SYN to laddr (its family picks the candidates: dual stack). */
struct skiff_tcp_sock *tcp_lookup_listener_a(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
					     int ifindex);
/* The same for IPv4 (host order). */
struct skiff_tcp_sock *tcp_lookup_listener(struct skiff_stack *st, uint32_t laddr, uint16_t lport, int ifindex);
/* A new TCB for a SYN a listener accepted (bound to the listener's port, SYN-RECEIVED). */
struct skiff_tcp_sock *tcp_child_new(struct skiff_stack *st, struct skiff_tcp_sock *lsk, bool from_cookie);
/* SYN cookies (tcp_cookie.c): the ISN that encodes a SYN we keep no state for,
 * and the check of the ACK that comes back (RFC 4987 3.6). */
uint32_t tcp_cookie_make_a(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			   const struct skiff_addr *raddr, uint16_t rport, uint32_t peer_isn, uint16_t mss, uint64_t now);
/* The same for IPv4 (host order). */
uint32_t tcp_cookie_make(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			 uint32_t peer_isn, uint16_t mss, uint64_t now);
/* The MSS the cookie carried, or 0 when the cookie is not valid (now). */
uint16_t tcp_cookie_check(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			  const struct skiff_addr *raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now);
/* Options in the cookie's timestamp (Linux's layout): TSval bits 0-3 the
 * client's window scale (0xf none), bit 4 SACK-permitted. */
#define TCP_COOKIE_TSMASK 0x3fu
#define TCP_COOKIE_WS_NONE 0xfu
#define TCP_COOKIE_SACK 0x10u
/* The timestamp offset of a connection made from a cookie (per 4-tuple, keyed). */
uint32_t tcp_cookie_ts_offset(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			      const struct skiff_addr *raddr, uint16_t rport);
/* The SYN-ACK's TSval (at or before now_ts) carrying the options; wscale -1: none. */
uint32_t tcp_cookie_tsval(uint32_t now_ts, bool sack, int wscale);
/* The options back from the ACK's TSecr; false when it cannot be ours. */
bool tcp_cookie_ts_decode(uint32_t tsecr, uint32_t now_ts, bool *sack, int *wscale);
/* Send a SYN-ACK for a SYN without a TCB (the cookie path) with options o. */
void tcp_send_synack_stateless(struct skiff_stack *st, const struct tcp_rx_addr *ra, const struct tcp_repr *th,
			       uint32_t isn, const struct tcp_opts_out *o, uint64_t now);
/* Our window scale for a receive buffer of space bytes (RFC 7323 2.3). */
uint8_t tcp_wscale_for(uint32_t space);
/* The largest receive buffer the connection may grow to (the window scale is
 * chosen for it on the SYN). */
uint32_t tcp_rcv_space_max(const struct skiff_stack *st, const struct skiff_tcp_sock *sk);
/* Release the TCB (timers, queues, hashes) back to the table. */
void tcp_free(struct skiff_stack *st, struct skiff_tcp_sock *sk);
/* Connection torn down (RST, timeout, abort): error for the user, then CLOSED
 * (freed now when the user already closed it). */
void tcp_drop(struct skiff_stack *st, struct skiff_tcp_sock *sk, int err);
uint32_t tcp_isn(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport, const struct skiff_addr *raddr,
		 uint16_t rport, uint64_t now);
/* Send MSS for the path (the interface MTU; over IPv6 the path MTU cache's)
 * and the peer's MSS option. */
uint32_t tcp_mss_for(struct skiff_stack *st, const struct skiff_tcp_sock *sk, int ifindex);
/* The MSS option we offer on a SYN from ifindex's MTU (wire family fam). */
uint16_t tcp_mss_offer(struct skiff_stack *st, int ifindex, uint8_t fam);
/* The interface an IPv6 connection's route must use (-1: any): the bound
 * device, else the scope for a link-local peer or address (RFC 4007 6). */
int tcp_oif6(const struct skiff_tcp_sock *sk);
void tcp_init_tcb(struct skiff_stack *st, struct skiff_tcp_sock *sk);
/* The in-order receive queue got data / a FIN: reader wakes. */
void tcp_rq_append(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct skiff_pkt *p, uint32_t len);
uint32_t tcp_rcv_window(const struct skiff_tcp_sock *sk);
/* The stack-wide receive memory (tcp_rx_mem_max): account a change, and ask
 * whether `more` bytes of frame capacity would go over the limit. */
static inline void tcp_rx_mem_add(struct skiff_stack *st, int64_t delta)
{
	struct skiff_tcp_table *t = st->tcp;
	t->rx_mem = (uint64_t)((int64_t)t->rx_mem + delta);
	if (t->rx_pressure && t->rx_mem <= st->cfg.tcp_rx_mem_max - st->cfg.tcp_rx_mem_max / 8)
		t->rx_pressure = false; /* hysteresis, as Linux's tcp_memory_pressure */
}
/* Would `more` bytes go over the limit? (A yes starts the pressure state.) */
static inline bool tcp_rx_mem_over(struct skiff_stack *st, uint32_t more)
{
	if (!st->cfg.tcp_rx_mem_max || st->tcp->rx_mem + more <= st->cfg.tcp_rx_mem_max)
		return false;
	st->tcp->rx_pressure = true;
	return true;
}
/* Under pressure: windows offer nothing new until memory falls back. */
static inline bool tcp_rx_mem_pressure(const struct skiff_stack *st) { return st->tcp->rx_pressure; }

/* tcp_output.c */
/* Send what the send and congestion windows allow (Nagle, cork); ACKs ride along. */
void tcp_output(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
void tcp_send_ack(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
void tcp_send_syn(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
/* A bare segment from a TCB (RST, keepalive probe, window probe). */
void tcp_send_ctl(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t seq, uint8_t flags, uint64_t now);
/* RFC 9293 3.10.7.1: reset for a segment that has no connection. */
void tcp_send_reset(struct skiff_stack *st, const struct tcp_rx_addr *ra, const struct tcp_repr *th, uint32_t seglen,
		    uint64_t now);
/* Retransmit from snd_una (one segment) — RTO, fast retransmit. */
void tcp_retransmit(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
/* RFC 6675 5 step 4: enter SACK-based loss recovery (cc already told). */
void tcp_sack_recovery_start(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
uint32_t tcp_tsval(const struct skiff_tcp_sock *sk, uint64_t now);
/* RACK-TLP (RFC 8985): loss marking (returns bytes newly lost; arms the
 * reordering timer), probe scheduling and the probe itself. */
uint32_t tcp_rack_detect(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
void tcp_tlp_schedule(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
void tcp_tlp_fire(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);
/* RFC 6937: an ACK in recovery delivered `delivered` bytes: what may be sent now. */
void tcp_prr_ack(struct skiff_tcp_sock *sk, uint32_t delivered);

/* tcp_input.c */
/* Enter loss recovery (RFC 6675 / RFC 8985 with SACK, else RFC 6582); delivered:
 * bytes the triggering ACK delivered (PRR). Returns actions. */
unsigned tcp_enter_recovery(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t delivered, uint64_t now);

/* tcp_timer.c */
void tcp_timer_set(struct skiff_stack *st, struct skiff_tcp_sock *sk, int which, uint64_t at);
void tcp_timer_clear(struct skiff_stack *st, struct skiff_tcp_sock *sk, int which);
void tcp_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now);
/* RFC 6298 2.2-2.3: an RTT sample. */
void tcp_rtt_sample(struct skiff_tcp_sock *sk, uint64_t rtt);
void tcp_rearm_rtx(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now);

#endif
