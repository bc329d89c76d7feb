/* tcp_timer.c — one timer slot per connection, five deadlines in it.
 *
 * due[] holds the deadline of each of RTX (retransmission, RFC 6298), DELACK
 * (RFC 9293 3.8.6.3), PERSIST (zero-window probe, 3.8.6.1), KEEP (RFC 1122
 * 4.2.3.6), 2MSL (TIME-WAIT, orphaned FIN-WAIT-2), REO (RACK reordering window,
 * RFC 8985 6.3) and TLP (probe timeout, RFC 8985 7); the wheel timer is armed at
 * the earliest. When it fires, every due deadline runs in that order; the slot
 * is re-armed at the next one.
 * RTO (RFC 6298): first sample SRTT = R, RTTVAR = R/2; then RTTVAR = 3/4 RTTVAR +
 * 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R; RTO = SRTT + max(G, 4 RTTVAR), clamped
 * to [200 ms, 120 s]; doubled on each expiry (5.5), the oldest unacked segment
 * resent (5.4); after 6 (SYN) or 15 (data) expiries, or TCP_USER_TIMEOUT, the
 * connection is dropped with ETIMEDOUT.
 */
#include <stddef.h>

#include "tcp_internal.h"
#include "tcp_seq.h"

static void rearm(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	uint64_t at = UINT64_MAX;
	for (int i = 0; i < TCP_T_N; i++)
		if (sk->due[i] && sk->due[i] < at)
			at = sk->due[i];
	/* only ever moved earlier: a deadline pushed later (the RTO and the loss
	 * probe restart on every ACK) leaves the slot where it is; it fires early
	 * once, finds nothing due and re-arms (Linux's lazy timer pattern) — one
	 * wheel operation per period instead of one per ACK */
	if (at == UINT64_MAX)
		skiff_timer_cancel(&st->timers, &sk->timer);
	else if (!skiff_timer_armed(&sk->timer) || sk->timer.expires > at)
		skiff_timer_arm(&st->timers, &sk->timer, at);
}

void tcp_timer_set(struct skiff_stack *st, struct skiff_tcp_sock *sk, int which, uint64_t at)
{
	sk->due[which] = at ? at : 1;
	rearm(st, sk);
}

void tcp_timer_clear(struct skiff_stack *st, struct skiff_tcp_sock *sk, int which)
{
	if (!sk->due[which])
		return;
	sk->due[which] = 0;
	rearm(st, sk);
}

void tcp_rtt_sample(struct skiff_tcp_sock *sk, uint64_t r)
{
	uint64_t rto;
	if (r == 0)
		r = 1;
	if (!sk->min_rtt || r < sk->min_rtt)
		sk->min_rtt = r;
	if (!sk->srtt) {
		sk->srtt = r;
		sk->rttvar = r / 2;
	} else {
		uint64_t d = sk->srtt > r ? sk->srtt - r : r - sk->srtt;
		sk->rttvar = (3 * sk->rttvar + d) / 4;
		sk->srtt = (7 * sk->srtt + r) / 8;
	}
	rto = sk->srtt + (4 * sk->rttvar > 1000000 ? 4 * sk->rttvar : 1000000); /* G = 1 ms clock */
	if (rto < TCP_RTO_MIN_NS)
		rto = TCP_RTO_MIN_NS;
	if (rto > TCP_RTO_MAX_NS)
		rto = TCP_RTO_MAX_NS;
	sk->rto = rto;
}

/* RFC 6298 5.1/5.3: (re)start the timer for the oldest unacknowledged data, or
 * stop it when nothing is in flight. */
void tcp_rearm_rtx(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	if (sk->snd_una == sk->snd_max)
		tcp_timer_clear(st, sk, TCP_T_RTX);
	else
		tcp_timer_set(st, sk, TCP_T_RTX, now + (sk->rto << sk->backoff < TCP_RTO_MAX_NS ? sk->rto << sk->backoff
												: TCP_RTO_MAX_NS));
}

static bool give_up(const struct skiff_tcp_sock *sk, uint64_t now)
{
	unsigned limit = (sk->state == SKIFF_TCP_SYN_SENT)	? TCP_SYN_RETRIES
			 : (sk->state == SKIFF_TCP_SYN_RECEIVED) ? TCP_SYNACK_RETRIES
								  : TCP_DATA_RETRIES;
	/* a listener's SYN queue more than half full (a flood of SYNs nobody will
	 * complete): half-open children get two SYN-ACK retransmissions, not five,
	 * so the queue drains in ~3 s instead of ~63 s and new SYNs get real
	 * (option-carrying) entries again (Linux's reqsk_timer_handler prunes the
	 * same way) */
	if (sk->state == SKIFF_TCP_SYN_RECEIVED && sk->parent && sk->on_synq &&
	    sk->parent->synq_len > ((unsigned)sk->parent->backlog + 1u) / 2u && limit > TCP_SYNACK_RETRIES_PRUNED)
		limit = TCP_SYNACK_RETRIES_PRUNED;
	if (sk->user_timeout_ns && sk->first_rtx_at && now - sk->first_rtx_at >= sk->user_timeout_ns)
		return true;
	return sk->rtx_count >= limit;
}

static void on_rtx(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint64_t t;
	if (sk->snd_una == sk->snd_max && tcp_synced(sk))
		return;
	if (give_up(sk, now)) {
		st->ctr.tcp_timeouts++;
		if (tcp_synced(sk) || sk->state == SKIFF_TCP_SYN_RECEIVED)
			tcp_send_ctl(st, sk, sk->snd_nxt, TCP_RST | TCP_ACK, now);
		tcp_drop(st, sk, ETIMEDOUT);
		return;
	}
	if (!sk->first_rtx_at)
		sk->first_rtx_at = now;
	st->ctr.tcp_rto++;
	/* RFC 5681 (4) + 3.1: ssthresh from the flight, cwnd to one segment */
	if (sk->state == SKIFF_TCP_SYN_SENT || sk->state == SKIFF_TCP_SYN_RECEIVED)
		skiff_tcp_cc_syn_lost(&sk->cc); /* RFC 6298 5.7 / RFC 5681 3.1: IW is one segment */
	else if (tcp_synced(sk) && sk->rtx_count == 0)
		sk->cc.ops->on_rto(&sk->cc, sk->snd_max - sk->snd_una, now);
	else if (tcp_synced(sk))
		sk->cc.cwnd = sk->mss;
	sk->rtx_count++;
	if (sk->backoff < 16)
		sk->backoff++;
	sk->in_recovery = false;
	sk->undo_ok = false;
	sk->dupacks = 0;
	sk->recover = sk->snd_max;
	/* go back to the first unacknowledged byte: what follows is resent as the
	 * window reopens (the SACK scoreboard's knowledge is cleared, RFC 6675 5.1) */
	if (tcp_synced(sk)) {
		sk->snd_nxt = sk->snd_una;
		skiff_tcp_sack_init(&sk->sack);
		skiff_tcp_rack_rto(&sk->rack);
		sk->due[TCP_T_REO] = sk->due[TCP_T_TLP] = 0; /* the slot is re-armed below */
	}
	tcp_retransmit(st, sk, now);
	t = sk->rto << sk->backoff;
	if (t > TCP_RTO_MAX_NS || (sk->rto << sk->backoff) >> sk->backoff != sk->rto)
		t = TCP_RTO_MAX_NS;
	/* RFC 5482 / Linux tcp_clamp_rto_to_user_timeout: never wait past the
	 * moment the user timeout ends */
	if (sk->user_timeout_ns && sk->first_rtx_at && sk->first_rtx_at + sk->user_timeout_ns < now + t)
		t = sk->first_rtx_at + sk->user_timeout_ns > now ? sk->first_rtx_at + sk->user_timeout_ns - now : 1;
	tcp_timer_set(st, sk, TCP_T_RTX, now + t);
}

static void on_persist(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint64_t t;
	if (sk->snd_wnd || sk->sbuf_len <= sk->snd_nxt - sk->snd_una) {
		return; /* the window opened or nothing waits */
	}
	/* a probe the peer must answer: an ACK with an old sequence number (as Linux) */
	tcp_send_ctl(st, sk, sk->snd_una - 1, TCP_ACK, now);
	if (sk->backoff < 16)
		sk->backoff++;
	t = sk->rto << sk->backoff;
	if (t > TCP_RTO_MAX_NS)
		t = TCP_RTO_MAX_NS;
	tcp_timer_set(st, sk, TCP_T_PERSIST, now + t);
}

static void on_keep(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint64_t idle = now - sk->last_rcv;
	if (!sk->keepalive || !tcp_synced(sk) || sk->state == SKIFF_TCP_TIME_WAIT)
		return;
	if (idle < sk->keep_idle_ns && sk->keep_probes == 0) {
		tcp_timer_set(st, sk, TCP_T_KEEP, sk->last_rcv + sk->keep_idle_ns);
		return;
	}
	if (sk->keep_probes >= sk->keep_cnt ||
	    (sk->user_timeout_ns && idle >= sk->user_timeout_ns && sk->keep_probes)) {
		tcp_send_ctl(st, sk, sk->snd_nxt, TCP_RST | TCP_ACK, now);
		tcp_drop(st, sk, ETIMEDOUT);
		return;
	}
	/* RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT-1, no data */
	tcp_send_ctl(st, sk, sk->snd_nxt - 1, TCP_ACK, now);
	sk->keep_probes++;
	tcp_timer_set(st, sk, TCP_T_KEEP, now + sk->keep_intvl_ns);
}

void tcp_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now)
{
	struct skiff_tcp_sock *sk = (struct skiff_tcp_sock *)((char *)t - offsetof(struct skiff_tcp_sock, timer));
	uint32_t gen = sk->gen;

	if (sk->due[TCP_T_2MSL] && sk->due[TCP_T_2MSL] <= now) {
		sk->due[TCP_T_2MSL] = 0;
		/* TIME-WAIT over, or an orphaned FIN-WAIT-2 waited long enough */
		if (sk->state == SKIFF_TCP_TIME_WAIT || sk->orphan) {
			tcp_drop(st, sk, 0);
			/* a socket the user still holds stays, CLOSED, until close() */
			if (sk->in_use && sk->gen == gen && !sk->user)
				tcp_free(st, sk);
			return;
		}
	}
	/* a loss probe due with (or before) the RTO goes first and restarts it
	 * (RFC 8985 7.2-7.3) */
	if (sk->due[TCP_T_TLP] && sk->due[TCP_T_TLP] <= now) {
		sk->due[TCP_T_TLP] = 0;
		tcp_tlp_fire(st, sk, now);
	}
	if (sk->due[TCP_T_RTX] && sk->due[TCP_T_RTX] <= now) {
		sk->due[TCP_T_RTX] = 0;
		on_rtx(st, sk, now);
		if (!sk->in_use || sk->gen != gen)
			return;
	}
	if (sk->due[TCP_T_DELACK] && sk->due[TCP_T_DELACK] <= now) {
		sk->due[TCP_T_DELACK] = 0;
		if (tcp_synced(sk) && sk->last_ack_sent != sk->rcv_nxt)
			tcp_send_ack(st, sk, now);
	}
	if (sk->due[TCP_T_PERSIST] && sk->due[TCP_T_PERSIST] <= now) {
		sk->due[TCP_T_PERSIST] = 0;
		on_persist(st, sk, now);
	}
	if (sk->due[TCP_T_REO] && sk->due[TCP_T_REO] <= now) {
		sk->due[TCP_T_REO] = 0;
		/* RFC 8985 6.3: the reordering window of some segment has passed */
		if (tcp_rack_on(sk) && tcp_synced(sk) && sk->snd_una != sk->snd_max && tcp_rack_detect(st, sk, now)) {
			if (!sk->in_recovery && !(SEQ_LT(sk->snd_una, sk->recover) && sk->rtx_count))
				tcp_enter_recovery(st, sk, 0, now);
			tcp_output(st, sk, now);
		}
	}
	if (sk->due[TCP_T_KEEP] && sk->due[TCP_T_KEEP] <= now) {
		sk->due[TCP_T_KEEP] = 0;
		on_keep(st, sk, now);
		if (!sk->in_use || sk->gen != gen)
			return;
	}
	if (sk->orphan && sk->state == SKIFF_TCP_CLOSED) {
		tcp_free(st, sk);
		return;
	}
	rearm(st, sk);
}
