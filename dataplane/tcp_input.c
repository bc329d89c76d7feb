/* tcp_input.c — RFC 9293 3.10.7 "SEGMENT ARRIVES", step by step.
 *
 * tcp4_input: length and checksum (RFC 9293 3.1) → header and options → not to a
 * broadcast/multicast address (RFC 1122 4.2.3.10) → lookup (4-tuple, then
 * listener; none: reset per 3.10.7.1) → by state:
 *   LISTEN (3.10.7.2): RST ignored; ACK → reset; SYN → child TCB in SYN-RECEIVED
 *     (options negotiated), SYN-ACK; a full queue drops the SYN (counted).
 *   SYN-SENT (3.10.7.3): ACK acceptability, RST (connection refused), SYN →
 *     ESTABLISHED (or SYN-RECEIVED on a simultaneous open).
 *   otherwise (3.10.7.4): PAWS (RFC 7323 5.3) → first, sequence acceptability
 *     and trimming to the window → second, RST (RFC 5961 3.2: exact match resets,
 *     in-window sends a challenge ACK) → fourth, SYN (RFC 5961 4.2: challenge ACK;
 *     in TIME-WAIT a newer SYN opens a new connection) → fifth, ACK (SYN-RECEIVED
 *     completes; send window, RTT, congestion control, NewReno fast
 *     retransmit/recovery RFC 6582, FIN acknowledged state changes) → seventh,
 *     text (in order to the receive queue, out of order to the reassembly queue
 *     with an immediate SACK-carrying ACK) → eighth, FIN.
 * Each step returns actions (tcp_internal.h); the end of tcp4_input carries them
 * out: output, an immediate or delayed ACK, reader/writer wake-up, freeing.
 * tcp6_input is the same after its own front (RFC 8200 8.1 pseudo-header
 * checksum, no multicast destination); both fronts hand the segment's addresses
 * (wire form) to segment_arrives. An ACK that advances SND.UNA on an IPv6
 * connection confirms the next hop's reachability (RFC 4861 7.3.1).
 */
#include <string.h>

#include "csum.h"
#include "icmp4.h"
#include "neigh.h"
#include "route.h"
#include "route6.h"
#include "tcp_internal.h"
#include "tcp_seq.h"

struct seg {
	struct tcp_repr th;
	struct tcp_opts opt;
	uint32_t seq, len;       /* len: payload bytes (SYN and FIN not counted) */
	struct skiff_pkt *p;     /* payload at data, NULL once consumed */
	struct tcp_rx_addr ra;   /* src, dst (wire form) and the receiving interface */
	struct skiff_iface *ifc;
};

static inline uint32_t seg_space(const struct seg *s)
{
	return s->len + ((s->th.flags & TCP_SYN) ? 1u : 0u) + ((s->th.flags & TCP_FIN) ? 1u : 0u);
}

static void seg_free(struct seg *s)
{
	skiff_pkt_free(s->p);
	s->p = NULL;
}

/* Drop `n` payload bytes from the front of the segment's chain. */
static void seg_pull(struct seg *s, uint32_t n)
{
	struct skiff_pkt *q = s->p;
	s->len -= n;
	while (n && q) {
		uint32_t k = n < q->len ? n : q->len;
		skiff_pkt_pull(q, k);
		n -= k;
		q = q->chain;
	}
}

/* Keep only the first `keep` payload bytes. */
static void seg_trim(struct seg *s, uint32_t keep)
{
	uint32_t left = keep;
	s->len = keep;
	for (struct skiff_pkt *q = s->p; q; q = q->chain) {
		if (q->len > left)
			q->len = left;
		left -= q->len;
	}
}

/* Negotiated options from a SYN (RFC 9293 3.7.1, RFC 7323 1.3, RFC 2018 2). */
static void take_syn_options(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct tcp_opts *o, int ifindex)
{
	sk->peer_mss = o->mss_ok ? o->mss : tcp_default_mss(sk->raddr.family);
	if (o->ws_ok) {
		sk->ws_ok = true;
		sk->snd_wscale = o->ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->ws;
	} else {
		sk->ws_ok = false;
		sk->snd_wscale = 0;
		sk->rcv_wscale = 0;
	}
	sk->sack_ok = o->sack_perm;
	sk->ts_ok = o->ts_ok;
	if (o->ts_ok) {
		sk->ts_recent = o->tsval;
		sk->ts_recent_age = st->now;
	}
	sk->mss = tcp_mss_for(st, sk, ifindex);
	if (sk->ts_ok)
		sk->mss -= 12; /* the timestamp option rides in every segment */
}

static void established(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	tcp_set_state(st, sk, SKIFF_TCP_ESTABLISHED);
	sk->cc.ops->init(&sk->cc, sk->mss, now);
	sk->last_rcv = now;
	if (sk->keepalive)
		tcp_timer_set(st, sk, TCP_T_KEEP, now + sk->keep_idle_ns);
	st->ctr.tcp_established++;
}

/* ---- LISTEN (3.10.7.2) ---- */

/* A child that completed its handshake joins the listener's accept queue. */
static void accept_enqueue(struct skiff_stack *st, struct skiff_tcp_sock *l, struct skiff_tcp_sock *c)
{
	c->qnext = NULL;
	if (l->aq_tail)
		l->aq_tail->qnext = c;
	else
		l->aq_head = c;
	l->aq_tail = c;
	l->aq_len++;
	tcp_mark_ready(st, l);
}

/* A child's addresses are the SYN's (wire form; it keeps the listener's API
 * family). A link-local peer is reached through the interface the SYN came in
 * on (Linux binds such a child to it). */
static void child_addrs(struct skiff_tcp_sock *c, const struct seg *s)
{
	c->laddr = s->ra.dst;
	c->raddr = s->ra.src;
	if (s->ra.src.family == SKIFF_AF_INET6 &&
	    (ip6_is_link_local(s->ra.src.v6) || ip6_is_link_local(s->ra.dst.v6)))
		c->scope_ifindex = s->ra.ifindex;
}

/* RFC 4987 3.6: the ACK of a cookie SYN-ACK creates the connection, ESTABLISHED. */
static unsigned cookie_ack(struct skiff_stack *st, struct skiff_tcp_sock *lsk, struct seg *s, uint64_t now)
{
	struct skiff_tcp_sock *c;
	uint16_t mss = tcp_cookie_check(st, &s->ra.dst, s->th.dport, &s->ra.src, s->th.sport, s->seq - 1,
					s->th.ack - 1, now);
	if (!mss)
		return 0;
	c = tcp_child_new(st, lsk, true);
	if (!c) {
		/* a valid cookie but the accept queue is full: drop quietly, the client
		 * retransmits (Linux does the same; a reset would kill a good client) */
		skiff_drop(st, SKIFF_DROP_TCP_SYN_QUEUE_FULL, s->p);
		s->p = NULL;
		return 1;
	}
	child_addrs(c, s);
	c->rport = s->th.sport;
	c->irs = s->seq - 1;
	c->rcv_nxt = c->rcv_adv = s->seq;
	c->iss = s->th.ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = s->th.ack;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->th.ack;
	c->peer_mss = mss;
	c->rcv_wscale = c->snd_wscale = 0;
	c->ts_offset = (uint32_t)skiff_rand64(st);
	if (s->opt.ts_ok && s->opt.tsecr) {
		/* window scale and SACK came back in the echo of our timestamp */
		uint32_t off = tcp_cookie_ts_offset(st, &s->ra.dst, s->th.dport, &s->ra.src, s->th.sport);
		bool sack;
		int ws;
		if (tcp_cookie_ts_decode(s->opt.tsecr, (uint32_t)(now / 1000000u) + off, &sack, &ws)) {
			c->ts_ok = true;
			c->ts_offset = off;
			c->ts_recent = s->opt.tsval;
			c->ts_recent_age = now;
			c->sack_ok = sack;
			if (ws >= 0) {
				c->ws_ok = true;
				c->snd_wscale = (uint8_t)ws;
				c->rcv_wscale = tcp_wscale_for(tcp_rcv_space_max(st, c));
			}
		}
	}
	c->snd_wnd = c->max_sndwnd = (uint32_t)s->th.wnd << c->snd_wscale;
	c->mss = tcp_mss_for(st, c, s->ifc->index);
	if (c->ts_ok)
		c->mss -= 12; /* the timestamp option rides in every segment */
	tcp_ehash_add(st, c);
	established(st, c, now);
	accept_enqueue(st, lsk, c);
	st->ctr.tcp_syncookies_ok++;
	if (s->len) {
		tcp_rq_append(st, c, s->p, s->len);
		c->rcv_nxt += s->len;
		s->p = NULL;
		tcp_send_ack(st, c, now);
	}
	return 1;
}

static unsigned listen_input(struct skiff_stack *st, struct skiff_tcp_sock *lsk, struct seg *s, uint64_t now)
{
	struct skiff_tcp_sock *c;
	uint8_t f = s->th.flags;

	if (f & TCP_RST) {
		skiff_drop(st, SKIFF_DROP_TCP_LISTEN_RST, s->p);
		s->p = NULL;
		return 0;
	}
	if (f & TCP_ACK) {
		if (!(f & TCP_SYN) && st->cfg.tcp_syncookies && cookie_ack(st, lsk, s, now))
			return 0;
		skiff_count_drop(st, SKIFF_DROP_TCP_LISTEN_ACK);
		return TCP_ACT_RST;
	}
	if (!(f & TCP_SYN) || (f & TCP_FIN)) {
		skiff_drop(st, SKIFF_DROP_TCP_LISTEN_NOSYN, s->p);
		s->p = NULL;
		return 0;
	}
	c = tcp_child_new(st, lsk, false);
	if (!c) {
		/* SYN queue full (a flood, or a slow accepter): answer with a cookie
		 * while the accept queue has room (RFC 4987 3.6); else the client retries */
		if (st->cfg.tcp_syncookies && lsk->aq_len < (unsigned)lsk->backlog + 1u) {
			struct skiff_iface *ifc = s->ifc;
			uint16_t mss = s->opt.mss_ok ? s->opt.mss : (uint16_t)tcp_default_mss(s->ra.src.family);
			uint16_t mine = tcp_mss_offer(st, ifc->index, s->ra.src.family);
			uint32_t isn = tcp_cookie_make_a(st, &s->ra.dst, s->th.dport, &s->ra.src, s->th.sport, s->seq,
						       mss < mine ? mss : mine, now);
			struct tcp_opts_out o;
			memset(&o, 0, sizeof(o));
			o.mss = true;
			o.mss_val = mine;
			if (s->opt.ts_ok) {
				/* the timestamp carries window scale and SACK (tcp_cookie.c) */
				uint32_t off = tcp_cookie_ts_offset(st, &s->ra.dst, s->th.dport, &s->ra.src, s->th.sport);
				o.ts = true;
				o.tsval = tcp_cookie_tsval((uint32_t)(now / 1000000u) + off, s->opt.sack_perm,
							   s->opt.ws_ok ? (s->opt.ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE
												   : s->opt.ws)
									: -1);
				o.tsecr = s->opt.tsval;
				o.sack_perm = s->opt.sack_perm;
				o.ws = s->opt.ws_ok;
				o.ws_val = tcp_wscale_for(tcp_rcv_space_max(st, lsk));
			}
			tcp_send_synack_stateless(st, &s->ra, &s->th, isn, &o, now);
			st->ctr.tcp_syncookies_sent++;
			seg_free(s);
			return 0;
		}
		skiff_drop(st, SKIFF_DROP_TCP_SYN_QUEUE_FULL, s->p);
		s->p = NULL;
		return 0;
	}
	child_addrs(c, s);
	c->rport = s->th.sport;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_isn(st, &c->laddr, c->lport, &c->raddr, c->rport, now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wnd = s->th.wnd; /* unscaled in a SYN (RFC 7323 2.2) */
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->max_sndwnd = c->snd_wnd;
	c->ts_offset = (uint32_t)skiff_rand64(st);
	c->rcv_wscale = tcp_wscale_for(tcp_rcv_space_max(st, c));
	take_syn_options(st, c, &s->opt, s->ifc->index);
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	tcp_set_state(st, c, SKIFF_TCP_SYN_RECEIVED);
	tcp_ehash_add(st, c);
	tcp_send_syn(st, c, now);
	/* data in a SYN is not kept (as Linux without TFO); the peer resends it */
	seg_free(s);
	return 0;
}

/* ---- SYN-SENT (3.10.7.3) ---- */

static unsigned synsent_input(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct seg *s, uint64_t now)
{
	uint8_t f = s->th.flags;
	bool ack_ok = false;

	if (f & TCP_ACK) {
		/* If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless RST) */
		if (SEQ_LEQ(s->th.ack, sk->iss) || SEQ_GT(s->th.ack, sk->snd_nxt)) {
			skiff_count_drop(st, SKIFF_DROP_TCP_SYNSENT_BAD_ACK);
			return (f & TCP_RST) ? 0 : TCP_ACT_RST;
		}
		ack_ok = true;
	}
	if (f & TCP_RST) {
		if (ack_ok) {
			st->ctr.tcp_resets_in++;
			tcp_drop(st, sk, ECONNREFUSED);
			return TCP_ACT_WAKE;
		}
		skiff_count_drop(st, SKIFF_DROP_TCP_SYNSENT_BAD_ACK);
		return 0;
	}
	if (!(f & TCP_SYN)) {
		skiff_count_drop(st, SKIFF_DROP_TCP_SYNSENT_NOSYN);
		return 0;
	}
	sk->irs = s->seq;
	sk->rcv_nxt = s->seq + 1;
	sk->rcv_adv = sk->rcv_nxt;
	take_syn_options(st, sk, &s->opt, -1);
	if (!sk->ws_ok)
		sk->rcv_wscale = 0;
	if (tcp_v6(sk)) {
		struct skiff_route_res6 rt;
		if (!skiff_route6_lookup(st, sk->raddr.v6, tcp_oif6(sk), &rt))
			sk->mss = tcp_mss_for(st, sk, rt.ifindex) - (sk->ts_ok ? 12u : 0u);
	} else {
		struct skiff_route_res4 rt;
		if (!skiff_route_lookup4(st, sk->raddr.v4, sk->bound_ifindex, &rt)) {
			sk->mss = tcp_mss_for(st, sk, rt.ifindex) - (sk->ts_ok ? 12u : 0u);
		}
	}
	if (ack_ok) {
		sk->snd_una = s->th.ack;
		if (sk->rtt_at == 0 && sk->rtx_count == 0 && sk->due[TCP_T_RTX])
			tcp_rtt_sample(sk, now - (sk->due[TCP_T_RTX] - sk->rto)); /* SYN timed from its send */
		sk->rtx_count = 0;
		sk->backoff = 0;
		sk->first_rtx_at = 0;
		tcp_timer_clear(st, sk, TCP_T_RTX);
		/* the window of a SYN-ACK is not scaled */
		sk->snd_wnd = s->th.wnd;
		sk->max_sndwnd = sk->snd_wnd;
		sk->snd_wl1 = s->seq;
		sk->snd_wl2 = s->th.ack;
		established(st, sk, now);
		seg_free(s);
		return TCP_ACT_ACK_NOW | TCP_ACT_OUTPUT | TCP_ACT_WAKE;
	}
	/* simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	sk->snd_wnd = s->th.wnd;
	sk->snd_wl1 = s->seq;
	tcp_set_state(st, sk, SKIFF_TCP_SYN_RECEIVED);
	tcp_send_syn(st, sk, now);
	seg_free(s);
	return 0;
}

/* ---- synchronized states (3.10.7.4) ---- */

/* RFC 2883: report a duplicate in the next ACK's first SACK block (one at a
 * time; the latest wins, as Linux's tcp_dsack_set). */
static void dsack_set(struct skiff_tcp_sock *sk, uint32_t start, uint32_t end)
{
	if (!sk->sack_ok || !SEQ_LT(start, end))
		return;
	sk->dsack_pending = true;
	sk->dsack_start = start;
	sk->dsack_end = end;
}

/* RFC 9293 3.10.7.4 first: the four acceptability cases. */
static bool seq_acceptable(const struct skiff_tcp_sock *sk, uint32_t seq, uint32_t space, uint32_t wnd)
{
	if (space == 0) {
		if (wnd == 0)
			return seq == sk->rcv_nxt;
		return SEQ_LEQ(sk->rcv_nxt, seq) && SEQ_LT(seq, sk->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (SEQ_LEQ(sk->rcv_nxt, seq) && SEQ_LT(seq, sk->rcv_nxt + wnd)) ||
	       (SEQ_LEQ(sk->rcv_nxt, seq + space - 1) && SEQ_LT(seq + space - 1, sk->rcv_nxt + wnd));
}

/* Acknowledged bytes leave the send ring; a FIN acknowledged is reported. */
static bool ack_advance(struct skiff_tcp_sock *sk, uint32_t ack)
{
	uint32_t n = ack - sk->snd_una, data = n;
	bool fin_acked = false;
	if (sk->fin_queued && !sk->fin_acked && n > sk->sbuf_len) {
		data = sk->sbuf_len; /* the extra one is our FIN */
		fin_acked = true;
	}
	if (data) {
		sk->sbuf_head = (sk->sbuf_head + data) % (sk->sbuf_cap ? sk->sbuf_cap : 1);
		sk->sbuf_len -= data;
	}
	sk->snd_una = ack;
	if (SEQ_LT(sk->snd_nxt, sk->snd_una))
		sk->snd_nxt = sk->snd_una;
	return fin_acked;
}

/* Enter loss recovery: SACK-based (RFC 8985 RACK, or RFC 6675 5 step 4) when
 * negotiated, else NewReno (RFC 6582 3.2 step 2). */
unsigned tcp_enter_recovery(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t delivered, uint64_t now)
{
	uint32_t flight = sk->snd_max - sk->snd_una;
	sk->cc_prior = sk->cc;
	sk->undo_retrans = 0;
	sk->undo_ok = sk->sack_ok; /* D-SACKs tell which retransmissions were needless */
	sk->undo_marker = sk->snd_una;
	sk->rack.tlp_out = false;  /* a cwnd reduction ends any probe episode (Linux) */
	sk->cc.ops->on_congestion(&sk->cc, flight, now);
	sk->recover = sk->snd_max;
	sk->in_recovery = true;
	st->ctr.tcp_fast_retrans++;
	if (sk->sack_ok) {
		sk->cc.cwnd = sk->cc.ssthresh; /* RFC 6675 5 step 4.2: no inflation, pipe governs */
		if (tcp_rack_on(sk)) {
			/* RFC 6937: RecoverFS is what was in flight */
			sk->prr_delivered = sk->prr_out = 0;
			sk->prr_recoverfs = skiff_tcp_rack_pipe(&sk->rack, sk->snd_una, sk->snd_max);
			tcp_prr_ack(sk, delivered);
		}
		tcp_sack_recovery_start(st, sk, now);
		return 0;
	}
	tcp_retransmit(st, sk, now);
	skiff_tcp_cc_inflate(&sk->cc, SKIFF_TCP_DUPTHRESH); /* RFC 5681 3.2 step 3 */
	return TCP_ACT_OUTPUT;
}

/* RFC 5681 2 (dup ACK definition) and 3.2, RFC 6582 3.2: fast retransmit and
 * NewReno fast recovery. */
static unsigned ack_dup(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct seg *s, uint64_t now)
{
	uint32_t flight = sk->snd_max - sk->snd_una;
	if (s->len || (s->th.flags & (TCP_SYN | TCP_FIN)) || flight == 0 ||
	    ((uint32_t)s->th.wnd << sk->snd_wscale) != sk->snd_wnd)
		return 0;
	if (sk->dupacks < 255)
		sk->dupacks++;
	st->ctr.tcp_dupacks_in++;
	if (sk->in_recovery) {
		if (!sk->sack_ok)
			skiff_tcp_cc_inflate(&sk->cc, 1); /* RFC 5681 3.2 step 4: inflate */
		return TCP_ACT_OUTPUT;
	}
	if (tcp_rack_on(sk))
		return 0; /* RACK decides from delivery times (RFC 8985 6.2), not from counts */
	if (sk->dupacks == SKIFF_TCP_DUPTHRESH ||
	    (sk->sack_ok && skiff_tcp_sack_is_lost(&sk->sack, sk->snd_una, sk->mss))) {
		/* RFC 6582 3.2 step 2 / 4.1: after a timeout, duplicate ACKs for data
		 * sent before it ("recover") do not start another recovery */
		if (SEQ_LT(sk->snd_una, sk->recover) && sk->rtx_count)
			return 0;
		return tcp_enter_recovery(st, sk, 0, now);
	}
	return 0;
}

/* RFC 8985 after the ACK's bookkeeping: the loss probe's episode (7.4, as Linux's
 * tcp_process_tlp_ack), loss marking (6.2 step 5) and, on a first loss, entry
 * into recovery; then the next probe timeout (7.2). */
static unsigned rack_ack(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct seg *s, uint32_t ack,
			 bool advanced, bool dsack, uint32_t delivered, uint64_t now)
{
	struct skiff_tcp_rack *q = &sk->rack;
	unsigned act = 0;
	if (q->tlp_out && SEQ_GEQ(ack, q->tlp_high)) {
		if (!q->tlp_rxt || dsack) {
			q->tlp_out = false; /* new data probed, or both copies arrived: no loss */
		} else if (SEQ_GT(ack, q->tlp_high)) {
			/* the probe repaired a loss nothing else revealed: reduce once */
			q->tlp_out = false;
			st->ctr.tcp_tlp_recoveries++;
			if (!sk->in_recovery) {
				sk->cc.ops->on_congestion(&sk->cc, sk->snd_max - sk->snd_una, now);
				sk->cc.ops->on_recovery_exit(&sk->cc, sk->snd_max - sk->snd_una, now);
			}
		} else if (!advanced && !s->len && !s->opt.nsack) {
			q->tlp_out = false; /* a pure duplicate ACK: original and probe both arrived */
		}
	}
	if (sk->snd_una != sk->snd_max) {
		uint32_t newly = tcp_rack_detect(st, sk, now);
		if (sk->in_recovery) {
			tcp_prr_ack(sk, delivered);
			act |= TCP_ACT_OUTPUT;
		} else if (newly) {
			if (!(SEQ_LT(sk->snd_una, sk->recover) && sk->rtx_count))
				act |= tcp_enter_recovery(st, sk, delivered, now);
			else
				act |= TCP_ACT_OUTPUT;
		}
	} else {
		tcp_timer_clear(st, sk, TCP_T_REO);
	}
	tcp_tlp_schedule(st, sk, now);
	return act;
}

static unsigned ack_input(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct seg *s, uint64_t now)
{
	uint32_t ack = s->th.ack, wnd = (uint32_t)s->th.wnd << sk->snd_wscale;
	unsigned act = 0;
	bool dsack = false, advanced;
	uint64_t log_rtt = 0;
	uint32_t delivered = 0; /* bytes this ACK delivered (acked or SACKed): PRR's DeliveredData */

	if (sk->state == SKIFF_TCP_SYN_RECEIVED) {
		/* If SND.UNA < SEG.ACK =< SND.NXT: ESTABLISHED; else reset */
		if (!(SEQ_LT(sk->snd_una, ack) && SEQ_LEQ(ack, sk->snd_nxt))) {
			skiff_count_drop(st, SKIFF_DROP_TCP_BAD_ACK);
			return TCP_ACT_RST;
		}
		sk->snd_wnd = wnd;
		sk->max_sndwnd = wnd;
		sk->snd_wl1 = s->seq;
		sk->snd_wl2 = ack;
		if (sk->rtx_count == 0 && sk->due[TCP_T_RTX])
			tcp_rtt_sample(sk, now - (sk->due[TCP_T_RTX] - sk->rto));
		sk->snd_una = ack;
		sk->rtx_count = 0;
		sk->backoff = 0;
		tcp_timer_clear(st, sk, TCP_T_RTX);
		established(st, sk, now);
		if (sk->parent) {
			if (sk->on_synq && sk->parent->synq_len)
				sk->parent->synq_len--;
			sk->on_synq = false;
			accept_enqueue(st, sk->parent, sk);
		}
		act |= TCP_ACT_WAKE;
	}
	/* RFC 5961 5.2: an ACK for data never sent, or too old, is answered with an
	 * ACK and dropped */
	if (SEQ_GT(ack, sk->snd_max)) {
		skiff_count_drop(st, SKIFF_DROP_TCP_ACK_TOO_NEW);
		return TCP_ACT_ACK_NOW | TCP_ACT_DROP;
	}
	if (SEQ_LT(ack, sk->snd_una - sk->max_sndwnd)) {
		skiff_count_drop(st, SKIFF_DROP_TCP_ACK_TOO_OLD);
		return TCP_ACT_ACK_NOW | TCP_ACT_DROP;
	}
	/* SACK scoreboard (RFC 6675 5: update on every ACK) */
	if (sk->sack_ok && tcp_synced(sk)) {
		if (SEQ_GT(ack, sk->snd_una))
			skiff_tcp_sack_advance(&sk->sack, ack);
		if (s->opt.nsack)
			skiff_tcp_sack_update(&sk->sack, SEQ_GT(ack, sk->snd_una) ? ack : sk->snd_una, sk->snd_max,
					      (const uint32_t(*)[2])s->opt.sack, s->opt.nsack, &dsack);
		/* a D-SACK for data retransmitted in this episode: that retransmission
		 * was needless (below SND.UNA: sent twice since the episode began, as
		 * Linux's tcp_check_dsack; above: the log says if it was resent) */
		if (dsack && sk->in_recovery && sk->undo_retrans) {
			uint32_t ds = s->opt.sack[0][0], de = s->opt.sack[0][1];
			if (SEQ_LEQ(de, sk->snd_una) ? SEQ_GT(de, sk->undo_marker)
						    : skiff_tcp_rack_retransmitted(&sk->rack, ds, de))
				sk->undo_retrans--;
		}
	}
	/* RFC 8985 6.2 steps 1-3: what this ACK delivered, per transmission */
	if (sk->rack.r && tcp_synced(sk))
		delivered = skiff_tcp_rack_ack(&sk->rack, SEQ_GT(ack, sk->snd_una) ? ack : sk->snd_una, sk->snd_max,
				   (const uint32_t(*)[2])s->opt.sack, sk->sack_ok ? s->opt.nsack : 0, dsack, sk->min_rtt,
				   now, &log_rtt);
	if (log_rtt)
		tcp_rtt_sample(sk, log_rtt); /* ns-exact, from the transmit log */
	advanced = SEQ_GT(ack, sk->snd_una);
	if (advanced) {
		uint32_t acked = ack - sk->snd_una;
		bool fin_acked;
		/* RFC 4861 7.3.1: forward progress confirms the next hop */
		if (tcp_v6(sk) && sk->rt_ok)
			skiff_neigh_confirm6(st, sk->rt6.ifindex, sk->rt6.nexthop, now);
		/* RTT: from the transmit log above; else RFC 7323 4.1 timestamps (1 ms
		 * ticks); else Karn's timed segment */
		int32_t ts_rtt = (int32_t)(tcp_tsval(sk, now) - s->opt.tsecr);
		if (log_rtt)
			sk->rtt_at = 0;
		else if (sk->ts_ok && s->opt.ts_ok && s->opt.tsecr && ts_rtt >= 0)
			/* an echo from our future is no sample; less than one tick counts
			 * as one (Linux tcp_rtt_tsopt_us): a 0 would make min_rtt 0 */
			tcp_rtt_sample(sk, (uint64_t)(ts_rtt ? ts_rtt : 1) * 1000000u);
		else if (sk->rtt_at && SEQ_GT(ack, sk->rtt_seq)) {
			tcp_rtt_sample(sk, now - sk->rtt_at);
			sk->rtt_at = 0;
		}
		fin_acked = ack_advance(sk, ack);
		sk->rtx_count = 0;
		sk->backoff = 0;
		/* what is still in flight left no later than now (per-segment send
		 * times are not kept: this errs towards waiting longer) */
		sk->first_rtx_at = sk->snd_una == sk->snd_max ? 0 : now;
		if (sk->in_recovery) {
			if (SEQ_GEQ(ack, sk->recover)) {
				/* full ACK: leave recovery (RFC 6582 3.2 step 3) */
				sk->in_recovery = false;
				sk->cc.ops->on_recovery_exit(&sk->cc, sk->snd_max - sk->snd_una, now);
				skiff_tcp_rack_recovery_done(&sk->rack);
				if (sk->undo_ok && sk->undo_retrans == 0) {
					/* nothing was really lost: every retransmission of the
					 * episode was D-SACKed, or none was needed (RFC 3708
					 * detection; the response restores the window as Linux's
					 * tcp_undo_cwnd_reduction) */
					uint32_t cwnd = sk->cc.cwnd;
					sk->cc = sk->cc_prior;
					if (sk->cc.cwnd < cwnd)
						sk->cc.cwnd = cwnd;
					st->ctr.tcp_undo++;
				}
				sk->undo_ok = false;
			} else if (!sk->sack_ok) {
				/* partial ACK: retransmit the next hole, deflate (RFC 6582 3.2 step 3) */
				tcp_retransmit(st, sk, now);
				skiff_tcp_cc_partial_ack(&sk->cc, acked);
			}
		} else {
			sk->cc.ops->on_ack(&sk->cc, acked, sk->snd_max - sk->snd_una, sk->srtt, sk->min_rtt, now);
			/* RFC 6675 5 (b): SACK information alone can show a loss */
			if (sk->sack_ok && !tcp_rack_on(sk) && tcp_synced(sk) && sk->snd_una != sk->snd_max &&
			    skiff_tcp_sack_is_lost(&sk->sack, sk->snd_una, sk->mss) &&
			    !(SEQ_LT(sk->snd_una, sk->recover) && sk->rtx_count))
				act |= tcp_enter_recovery(st, sk, 0, now);
		}
		sk->dupacks = 0;
		tcp_rearm_rtx(st, sk, now);
		act |= TCP_ACT_OUTPUT | TCP_ACT_WAKE;
		if (fin_acked) {
			sk->fin_acked = true;
			switch (sk->state) {
			case SKIFF_TCP_FIN_WAIT_1:
				tcp_set_state(st, sk, SKIFF_TCP_FIN_WAIT_2);
				if (sk->orphan)
					tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_FIN_TIMEOUT_NS);
				break;
			case SKIFF_TCP_CLOSING:
				tcp_set_state(st, sk, SKIFF_TCP_TIME_WAIT);
				tcp_timer_clear(st, sk, TCP_T_RTX);
				tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_TIMEWAIT_NS);
				break;
			case SKIFF_TCP_LAST_ACK:
				tcp_drop(st, sk, 0);
				return act | TCP_ACT_FREE;
			default:
				break;
			}
		}
	} else if (ack == sk->snd_una) {
		act |= ack_dup(st, sk, s, now);
	}
	if (tcp_rack_on(sk) && tcp_synced(sk))
		act |= rack_ack(st, sk, s, ack, advanced, dsack, delivered, now);
	/* send window update (3.10.7.4 fifth, ESTABLISHED) */
	if (SEQ_LT(sk->snd_wl1, s->seq) || (sk->snd_wl1 == s->seq && SEQ_LEQ(sk->snd_wl2, ack))) {
		if (wnd > sk->snd_wnd)
			act |= TCP_ACT_OUTPUT;
		sk->snd_wnd = wnd;
		sk->snd_wl1 = s->seq;
		sk->snd_wl2 = ack;
		if (wnd > sk->max_sndwnd)
			sk->max_sndwnd = wnd;
		if (wnd) {
			tcp_timer_clear(st, sk, TCP_T_PERSIST);
			if (sk->snd_nxt == sk->snd_una)
				sk->backoff = 0;
		}
	}
	return act;
}

/* Seventh: text. In order → receive queue (then whatever the reassembly queue
 * can now give); beyond rcv_nxt → reassembly queue and an immediate ACK. */
static unsigned text_input(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct seg *s, uint64_t now)
{
	unsigned act = 0;
	(void)now;
	if (!s->len) {
		seg_free(s);
		return 0;
	}
	if (sk->state != SKIFF_TCP_ESTABLISHED && sk->state != SKIFF_TCP_FIN_WAIT_1 &&
	    sk->state != SKIFF_TCP_FIN_WAIT_2) {
		/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent FIN */
		skiff_drop(st, SKIFF_DROP_TCP_DATA_AFTER_FIN, s->p);
		s->p = NULL;
		return 0;
	}
	if (sk->orphan || sk->rd_shut) {
		/* RFC 2525 2.17 / Linux: nobody will read it: reset */
		if (sk->orphan) {
			skiff_drop(st, SKIFF_DROP_TCP_DATA_AFTER_CLOSE, s->p);
			s->p = NULL;
			tcp_send_ctl(st, sk, sk->snd_nxt, TCP_RST | TCP_ACK, now);
			st->ctr.tcp_resets_out++;
			tcp_drop(st, sk, 0);
			return TCP_ACT_FREE;
		}
	}
	if (s->seq == sk->rcv_nxt) {
		struct skiff_pkt *q;
		uint32_t n;
		if (sk->rq_truesize > 2 * sk->rcvbuf) {
			/* frames pin far more memory than the window said: refuse, the
			 * peer retransmits after the reader drains */
			skiff_drop(st, SKIFF_DROP_TCP_RCVBUF_FULL, s->p);
			s->p = NULL;
			return TCP_ACT_ACK_NOW;
		}
		if (tcp_rx_mem_over(st, s->p->cap)) {
			/* every connection together holds what the driver pool can
			 * spare: refuse (the ACK says window 0) rather than starve
			 * receive for everyone (Linux: tcp_mem pressure) */
			skiff_drop(st, SKIFF_DROP_TCP_RX_MEM, s->p);
			s->p = NULL;
			return TCP_ACT_ACK_NOW;
		}
		tcp_rq_append(st, sk, s->p, s->len);
		sk->rcv_nxt += s->len;
		s->p = NULL;
		sk->delack_segs += s->len >= sk->mss ? 1 : 0;
		if (sk->ts_ok && s->opt.ts_ok && s->opt.tsecr && s->len >= sk->mss) {
			/* the receiver's RTT for autotuning, from the echo of our
			 * timestamp (RFC 7323 4.3; Linux's tcp_rcv_rtt_measure_ts): less
			 * than a tick is a tick; it follows a lower sample at once */
			int32_t d = (int32_t)(tcp_tsval(sk, now) - s->opt.tsecr);
			if (d >= 0) {
				uint64_t m = (uint64_t)(d ? d : 1) * 1000000u;
				sk->rcv_rtt = !sk->rcv_rtt || m < sk->rcv_rtt ? m : (7 * sk->rcv_rtt + m) / 8;
			}
		}
		/* the reassembly queue may continue from here (what it hands over
		 * moves to the receive queue: accounted there again) */
		{
			uint32_t before = skiff_tcp_ooo_truesize(&sk->ooo);
			q = skiff_tcp_ooo_pop(&sk->ooo, &sk->rcv_nxt);
			tcp_rx_mem_add(st, (int64_t)skiff_tcp_ooo_truesize(&sk->ooo) - (int64_t)before);
		}
		if (q) {
			act |= TCP_ACT_ACK_NOW; /* a hole filled: tell the sender at once */
			while (q) {
				struct skiff_pkt *nx = q->next;
				n = skiff_pkt_chain_len(q);
				tcp_rq_append(st, sk, q, n);
				q = nx;
			}
		}
		act |= TCP_ACT_WAKE | TCP_ACT_ACK_DELAY;
		st->ctr.tcp_bytes_in += s->len;
		return act;
	}
	/* out of order (RFC 9293 3.10.7.4 seventh: queue for later; RFC 5681 4.2:
	 * an immediate duplicate ACK, with SACK blocks) */
	{
		/* the window is what we advertised: data we invited is not refused for
		 * a window that shrank since (memory stays bounded by rcvbuf) */
		uint32_t w = tcp_rcv_window(sk) + s->len, before = skiff_tcp_ooo_truesize(&sk->ooo);
		uint64_t dup = sk->ooo.dup_bytes;
		int rc;
		if (tcp_rx_mem_over(st, s->p->cap)) {
			skiff_drop(st, SKIFF_DROP_TCP_RX_MEM, s->p); /* as in order, above */
			s->p = NULL;
			return TCP_ACT_ACK_NOW;
		}
		if (SEQ_GT(sk->rcv_adv, sk->rcv_nxt) && sk->rcv_adv - sk->rcv_nxt > w)
			w = sk->rcv_adv - sk->rcv_nxt;
		rc = skiff_tcp_ooo_insert(&sk->ooo, s->seq, s->p, sk->rcv_nxt, w, sk->rcvbuf);
		s->p = NULL;
		tcp_rx_mem_add(st, (int64_t)skiff_tcp_ooo_truesize(&sk->ooo) - (int64_t)before);
		if (rc < 0)
			skiff_count_drop(st, SKIFF_DROP_TCP_OOO_FULL);
		else if (rc == 0 && sk->ooo.dup_bytes != dup)
			dsack_set(sk, s->seq, s->seq + s->len); /* RFC 2883 4.1.2: held already */
		st->ctr.tcp_ooo++;
		sk->quickacks = sk->quickacks < 4 ? 4 : sk->quickacks;
	}
	return TCP_ACT_ACK_NOW;
}

static unsigned fin_input(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	sk->rcv_nxt += 1;
	sk->fin_rcvd = true;
	switch (sk->state) {
	case SKIFF_TCP_SYN_RECEIVED:
	case SKIFF_TCP_ESTABLISHED:
		tcp_set_state(st, sk, SKIFF_TCP_CLOSE_WAIT);
		break;
	case SKIFF_TCP_FIN_WAIT_1:
		if (sk->fin_acked) {
			tcp_set_state(st, sk, SKIFF_TCP_TIME_WAIT);
			tcp_timer_clear(st, sk, TCP_T_RTX);
			tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_TIMEWAIT_NS);
		} else {
			tcp_set_state(st, sk, SKIFF_TCP_CLOSING);
		}
		break;
	case SKIFF_TCP_FIN_WAIT_2:
		tcp_set_state(st, sk, SKIFF_TCP_TIME_WAIT);
		tcp_timer_clear(st, sk, TCP_T_KEEP);
		tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_TIMEWAIT_NS);
		break;
	case SKIFF_TCP_TIME_WAIT:
		tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_TIMEWAIT_NS);
		break;
	default:
		break;
	}
	return TCP_ACT_ACK_NOW | TCP_ACT_WAKE;
}

/* RFC 5961 7: challenge ACKs are rate limited per stack. */
static unsigned challenge_ack(struct skiff_stack *st, uint64_t now)
{
	if (!skiff_tokens_take(&st->tcp_challenge_tb, now)) {
		skiff_count_drop(st, SKIFF_DROP_TCP_CHALLENGE_LIMITED);
		return 0;
	}
	st->ctr.tcp_challenge_acks++;
	return TCP_ACT_ACK_NOW;
}

static unsigned synced_input(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct seg *s, uint64_t now)
{
	uint8_t f = s->th.flags;
	uint32_t wnd = tcp_rcv_window(sk), space;
	unsigned act = 0;

	/* the window we check against is what we advertised, if larger */
	if (SEQ_GT(sk->rcv_adv, sk->rcv_nxt) && sk->rcv_adv - sk->rcv_nxt > wnd)
		wnd = sk->rcv_adv - sk->rcv_nxt;
	if (sk->state == SKIFF_TCP_SYN_RECEIVED && wnd == 0)
		wnd = 1;
	/* TIME-WAIT: a new SYN beyond the old connection reopens (RFC 9293 3.10.7.4
	 * fourth, RFC 6191) — handled by the caller before us */

	/* RFC 7323 5.3 PAWS: R1) a segment with an older timestamp is a duplicate */
	if (sk->ts_ok && s->opt.ts_ok && !(f & TCP_RST) && (int32_t)(s->opt.tsval - sk->ts_recent) < 0 &&
	    now - sk->ts_recent_age < 24ull * 86400 * 1000000000ull) {
		skiff_drop(st, SKIFF_DROP_TCP_PAWS, s->p);
		s->p = NULL;
		return TCP_ACT_ACK_NOW;
	}

	/* simultaneous open (RFC 9293 figure 8, line 6): in an active SYN-RECEIVED
	 * the peer's SYN-ACK repeats its SYN; what counts is its ACK */
	if (sk->state == SKIFF_TCP_SYN_RECEIVED && !sk->parent && (f & TCP_SYN) && (f & TCP_ACK) &&
	    s->seq == sk->irs) {
		s->th.flags &= (uint8_t)~TCP_SYN;
		f = s->th.flags;
		s->seq++;
	}
	/* first: sequence number. At a zero window a segment at RCV.NXT loses its
	 * text (and FIN) but its ACK still counts (RFC 9293 3.10.7.4, as Linux) */
	if (wnd == 0 && s->seq == sk->rcv_nxt && !(f & (TCP_SYN | TCP_RST)) && (s->len || (f & TCP_FIN))) {
		if (s->len)
			skiff_count_drop(st, SKIFF_DROP_TCP_OUT_OF_WINDOW);
		seg_trim(s, 0);
		s->th.flags &= (uint8_t)~TCP_FIN;
		f = s->th.flags;
		act |= TCP_ACT_ACK_NOW;
	}
	space = seg_space(s);
	if (!seq_acceptable(sk, s->seq, space, wnd)) {
		if (s->len && !(f & TCP_RST) && SEQ_LEQ(s->seq + s->len, sk->rcv_nxt))
			dsack_set(sk, s->seq, s->seq + s->len); /* RFC 2883 4.1.1: a duplicate */
		skiff_drop(st, SKIFF_DROP_TCP_OUT_OF_WINDOW, s->p);
		s->p = NULL;
		if (f & TCP_RST)
			return 0;
		return TCP_ACT_ACK_NOW;
	}
	/* trim to the window: bytes before RCV.NXT (and the SYN), bytes beyond */
	if (SEQ_LT(s->seq, sk->rcv_nxt)) {
		uint32_t d = sk->rcv_nxt - s->seq;
		if (f & TCP_SYN) {
			d--;
			s->th.flags &= (uint8_t)~TCP_SYN;
			f = s->th.flags;
			s->seq++;
		}
		if (d > s->len)
			d = s->len;
		if (d && !(f & TCP_RST))
			dsack_set(sk, s->seq, s->seq + d); /* RFC 2883 4.1.1: partly a duplicate */
		seg_pull(s, d);
		s->seq += d;
		act |= TCP_ACT_ACK_NOW; /* old data: acknowledge what we have */
	}
	if (SEQ_GT(s->seq + s->len, sk->rcv_nxt + wnd)) {
		uint32_t keep = SEQ_GT(sk->rcv_nxt + wnd, s->seq) ? sk->rcv_nxt + wnd - s->seq : 0;
		seg_trim(s, keep);
		s->th.flags &= (uint8_t)~TCP_FIN;
		f = s->th.flags;
		act |= TCP_ACT_ACK_NOW;
	}

	/* second: RST (RFC 5961 3.2) */
	if (f & TCP_RST) {
		seg_free(s);
		if (s->th.seq != sk->rcv_nxt) /* the segment's own SEQ, before any trimming */
			return challenge_ack(st, now);
		st->ctr.tcp_resets_in++;
		switch (sk->state) {
		case SKIFF_TCP_SYN_RECEIVED:
			if (sk->parent) {
				/* passive open: back to LISTEN, i.e. this child goes */
				tcp_drop(st, sk, 0);
				if (sk->in_use)
					tcp_free(st, sk);
				return TCP_ACT_FREE;
			}
			tcp_drop(st, sk, ECONNREFUSED);
			return TCP_ACT_WAKE;
		case SKIFF_TCP_ESTABLISHED:
		case SKIFF_TCP_FIN_WAIT_1:
		case SKIFF_TCP_FIN_WAIT_2:
		case SKIFF_TCP_CLOSE_WAIT:
			tcp_drop(st, sk, ECONNRESET);
			return TCP_ACT_WAKE;
		default: /* CLOSING, LAST-ACK, TIME-WAIT */
			tcp_drop(st, sk, 0);
			if (sk->in_use && (sk->orphan || sk->state == SKIFF_TCP_CLOSED) && !sk->user)
				tcp_free(st, sk);
			return TCP_ACT_FREE | TCP_ACT_WAKE;
		}
	}

	/* fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK */
	if (f & TCP_SYN) {
		skiff_drop(st, SKIFF_DROP_TCP_SYN_IN_WINDOW, s->p);
		s->p = NULL;
		if (sk->state == SKIFF_TCP_SYN_RECEIVED && sk->parent)
			return 0; /* a retransmitted SYN: the SYN-ACK timer answers it */
		return challenge_ack(st, now);
	}

	/* fifth: ACK */
	if (!(f & TCP_ACK)) {
		skiff_drop(st, SKIFF_DROP_TCP_NO_ACK, s->p);
		s->p = NULL;
		return act;
	}
	{
		unsigned a = ack_input(st, sk, s, now);
		if (a & TCP_ACT_DROP) {
			seg_free(s);
			return (a & ~(unsigned)TCP_ACT_DROP) | act;
		}
		act |= a;
		if (a & TCP_ACT_RST) {
			seg_free(s);
			return a;
		}
		if (a & TCP_ACT_FREE) {
			seg_free(s);
			return a;
		}
	}
	/* timestamps: RFC 7323 4.3 — remember TSval of the segment that covers
	 * the last ACK we sent */
	if (sk->ts_ok && s->opt.ts_ok && SEQ_LEQ(s->seq, sk->last_ack_sent) &&
	    SEQ_LEQ(sk->last_ack_sent, s->seq + s->len + ((f & TCP_FIN) ? 1u : 0u))) {
		sk->ts_recent = s->opt.tsval;
		sk->ts_recent_age = now;
	}
	if (sk->state == SKIFF_TCP_TIME_WAIT) {
		/* only a retransmitted FIN matters: ACK it, restart 2MSL */
		seg_free(s);
		if (f & TCP_FIN) {
			tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_TIMEWAIT_NS);
			return TCP_ACT_ACK_NOW;
		}
		return 0;
	}
	sk->last_rcv = now;
	sk->keep_probes = 0;
	if (sk->keepalive && tcp_synced(sk))
		tcp_timer_set(st, sk, TCP_T_KEEP, now + sk->keep_idle_ns);

	/* seventh: text */
	{
		uint32_t seq = s->seq, len = s->len;
		act |= text_input(st, sk, s, now);
		if (act & TCP_ACT_FREE)
			return act;
		/* eighth: FIN, once everything before it is in; a FIN ahead of a hole
		 * is remembered and taken when the hole fills (RFC 9293 3.10.7.4:
		 * out-of-order segments are held for later processing, FIN included) */
		if ((f & TCP_FIN) && !sk->fin_rcvd && SEQ_GT(seq + len, sk->rcv_nxt) &&
		    (sk->state == SKIFF_TCP_ESTABLISHED || sk->state == SKIFF_TCP_FIN_WAIT_1 ||
		     sk->state == SKIFF_TCP_FIN_WAIT_2)) {
			sk->ooo_fin = true;
			sk->ooo_fin_seq = seq + len;
		}
		if ((f & TCP_FIN) && seq + len == sk->rcv_nxt && !sk->fin_rcvd)
			act |= fin_input(st, sk, now);
		else if (sk->ooo_fin && !sk->fin_rcvd && sk->rcv_nxt == sk->ooo_fin_seq)
			act |= fin_input(st, sk, now);
		if (sk->fin_rcvd)
			sk->ooo_fin = false;
	}
	return act;
}

/* ---- entry ---- */

static uint32_t chain_csum(const struct skiff_pkt *p, uint32_t sum)
{
	size_t off = 0;
	for (; p; p = p->chain) {
		sum = csum_partial_at(skiff_pkt_data(p), p->len, sum, off);
		off += p->len;
	}
	return sum;
}

/* Both fronts: length and header (RFC 9293 3.1). false: dropped. */
static bool seg_header(struct skiff_stack *st, struct skiff_pkt *p, struct seg *s, uint32_t l4len)
{
	st->ctr.tcp_in++;
	if (l4len < TCP_HDR_LEN || p->len < TCP_HDR_LEN) {
		skiff_drop(st, SKIFF_DROP_TCP_SHORT, p);
		return false;
	}
	if (tcp_parse(skiff_pkt_data(p), p->len, &s->th)) {
		skiff_drop(st, SKIFF_DROP_TCP_BAD_OFF, p);
		return false;
	}
	return true;
}

/* After a front: options, lookup (4-tuple, then listener; none: reset per
 * 3.10.7.1), the state's processing, then the actions. */
static void segment_arrives(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, struct seg *ps,
			    uint32_t l4len, uint64_t now)
{
	struct skiff_tcp_sock *sk;
	struct seg s = *ps;
	unsigned act;
	uint32_t gen;
	uint64_t out_before;

	tcp_parse_opts(skiff_pkt_data(p), s.th.doff, (s.th.flags & TCP_SYN) != 0, &s.opt);
	if (s.opt.malformed)
		st->ctr.tcp_bad_opts++;
	skiff_pkt_pull(p, s.th.doff);
	s.p = p;
	s.seq = s.th.seq;
	s.len = l4len - s.th.doff;
	s.ifc = ifc;
	s.ra.ifindex = ifc->index;

	sk = tcp_lookup_est(st, &s.ra.dst, s.th.dport, &s.ra.src, s.th.sport);
	if (sk && sk->state == SKIFF_TCP_TIME_WAIT && (s.th.flags & TCP_SYN) && !(s.th.flags & (TCP_ACK | TCP_RST)) &&
	    SEQ_GT(s.seq, sk->rcv_nxt)) {
		/* RFC 9293 3.10.7.4 / RFC 6191: a new incarnation: end TIME-WAIT early */
		tcp_drop(st, sk, 0);
		if (sk->in_use && !sk->user)
			tcp_free(st, sk);
		sk = NULL;
	}
	if (!sk)
		sk = tcp_lookup_listener_a(st, &s.ra.dst, s.th.dport, ifc->index);
	if (!sk) {
		/* RFC 9293 3.10.7.1: CLOSED — reset (never in answer to a reset) */
		skiff_count_drop(st, SKIFF_DROP_TCP_NO_SOCKET);
		tcp_send_reset(st, &s.ra, &s.th, seg_space(&s), now);
		seg_free(&s);
		return;
	}
	gen = sk->gen;
	switch (sk->state) {
	case SKIFF_TCP_LISTEN:
		act = listen_input(st, sk, &s, now);
		break;
	case SKIFF_TCP_SYN_SENT:
		act = synsent_input(st, sk, &s, now);
		break;
	default:
		act = synced_input(st, sk, &s, now);
		break;
	}
	if (act & TCP_ACT_RST)
		tcp_send_reset(st, &s.ra, &s.th, seg_space(&s), now);
	seg_free(&s);
	if (!sk->in_use || sk->gen != gen)
		return; /* freed */
	if (act & TCP_ACT_FREE)
		return;
	out_before = st->ctr.tcp_out;
	if (act & TCP_ACT_OUTPUT)
		tcp_output(st, sk, now);
	if (tcp_synced(sk) || sk->state == SKIFF_TCP_SYN_RECEIVED) {
		if (act & TCP_ACT_ACK_NOW) {
			if (st->ctr.tcp_out == out_before)
				tcp_send_ack(st, sk, now); /* nothing went out to carry it */
		} else if ((act & TCP_ACT_ACK_DELAY) && sk->last_ack_sent != sk->rcv_nxt) {
			/* RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full
			 * segment; quick ACKs while the connection starts */
			if (sk->quickacks || sk->delack_segs >= 2 || sk->quickack_mode) {
				if (sk->quickacks)
					sk->quickacks--;
				tcp_send_ack(st, sk, now);
			} else if (!sk->due[TCP_T_DELACK]) {
				tcp_timer_set(st, sk, TCP_T_DELACK, now + TCP_DELACK_NS);
			}
		}
	}
	if (act & TCP_ACT_WAKE)
		tcp_mark_ready(st, sk);
}

void tcp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		uint64_t now)
{
	struct seg s;
	uint32_t l4len = skiff_pkt_chain_len(p);

	if (!seg_header(st, p, &s, l4len))
		return;
	if (!(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD) &&
	    csum_fold(chain_csum(p, csum_pseudo4(ip->src, ip->dst, IPPROTO_TCP_, l4len))) != 0) {
		skiff_drop(st, SKIFF_DROP_TCP_BAD_CSUM, p);
		return;
	}
	/* RFC 1122 4.2.3.10: no segments to broadcast or multicast addresses */
	if ((p->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST)) || ip4_is_multicast(ip->dst) ||
	    skiff_stack_is_bcast4(st, ip->dst)) {
		skiff_drop(st, SKIFF_DROP_TCP_BCAST, p);
		return;
	}
	s.ra.src = skiff_addr_v4(ip->src);
	s.ra.dst = skiff_addr_v4(ip->dst);
	segment_arrives(st, ifc, p, &s, l4len, now);
}

void tcp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		uint64_t now)
{
	struct seg s;
	uint32_t l4len = skiff_pkt_chain_len(p);

	if (!seg_header(st, p, &s, l4len))
		return;
	/* RFC 8200 8.1: the checksum covers the IPv6 pseudo-header, always */
	if (!(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD) &&
	    csum_fold(chain_csum(p, csum_pseudo6(ip->src.v6, ip->dst.v6, IP6_NH_TCP, l4len))) != 0) {
		skiff_drop(st, SKIFF_DROP_TCP_BAD_CSUM, p);
		return;
	}
	/* TCP is unicast only (RFC 9293 3.9.1.1 / RFC 1122 4.2.3.10) */
	if ((p->flags & SKIFF_PKT_MCAST) || ip6_is_multicast(ip->dst.v6) || ip6_is_multicast(ip->src.v6)) {
		skiff_drop(st, SKIFF_DROP_TCP_BCAST, p);
		return;
	}
	s.ra.src = ip->src;
	s.ra.dst = ip->dst;
	segment_arrives(st, ifc, p, &s, l4len, now);
}

/* ICMP errors (RFC 1122 4.2.3.9, RFC 5927): hard errors abort a connection
 * still opening; for an established one they are only reported (soft). mss:
 * what a "fragmentation needed" / Packet Too Big allows (0: not one). */
static void icmp_err(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t seq, int err, bool fatal,
		     uint32_t mss)
{
	/* RFC 5927 4.1: the quoted sequence number must be in flight */
	if (SEQ_LT(seq, sk->snd_una) || SEQ_GT(seq, sk->snd_max)) {
		skiff_count_drop(st, SKIFF_DROP_TCP_ICMP_OUT_OF_WINDOW);
		return;
	}
	if (sk->state == SKIFF_TCP_SYN_SENT && fatal) {
		tcp_drop(st, sk, err);
		return;
	}
	/* RFC 1191 6.4, RFC 8201 5.2 / Linux tcp_v4_mtu_reduced: a smaller path MTU
	 * lowers the MSS and resends what was lost at once */
	if (mss && tcp_synced(sk)) {
		mss -= sk->ts_ok ? 12u : 0u;
		if (mss < TCP_MIN_MSS)
			mss = TCP_MIN_MSS;
		if (mss < sk->mss) {
			sk->mss = mss;
			skiff_tcp_cc_set_mss(&sk->cc, mss);
			st->ctr.tcp_pmtu_updates++;
			if (sk->snd_una != sk->snd_max) {
				sk->snd_nxt = sk->snd_una;
				skiff_tcp_sack_init(&sk->sack);
				tcp_output(st, sk, st->now);
			}
		}
	}
	/* soft error: reported by SO_ERROR only if the connection then fails (Linux
	 * sk_err_soft); nothing else to do */
}

/* mtu: the next-hop MTU of a "fragmentation needed" error (RFC 1191), else 0. */
void tcp4_err(struct skiff_stack *st, int ifindex, const struct ip4_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal, uint16_t mtu)
{
	struct skiff_tcp_sock *sk;
	(void)ifindex;
	if (ql4_len < 8) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	sk = tcp_lookup_established(st, qip->src, ld16(ql4), qip->dst, ld16(ql4 + 2));
	if (!sk) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_NO_SOCKET);
		return;
	}
	icmp_err(st, sk, ld32(ql4 + 4), err, fatal, mtu >= 68 ? (uint32_t)mtu - IP4_HDR_LEN - TCP_HDR_LEN : 0);
}

/* RFC 4443 3.2 / RFC 8201: mtu is the path MTU a Packet Too Big left (never
 * below 1280), else 0. */
void tcp6_err(struct skiff_stack *st, int ifindex, const struct ip6_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal, uint32_t mtu)
{
	struct skiff_tcp_sock *sk;
	(void)ifindex;
	if (ql4_len < 8) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	sk = tcp_lookup_est(st, &qip->src, ld16(ql4), &qip->dst, ld16(ql4 + 2));
	if (!sk) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_NO_SOCKET);
		return;
	}
	icmp_err(st, sk, ld32(ql4 + 4), err, fatal, mtu >= IP6_MIN_MTU ? mtu - IP6_HDR_LEN - TCP_HDR_LEN : 0);
}
