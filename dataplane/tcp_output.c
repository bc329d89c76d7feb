/* tcp_output.c — building and sending segments (RFC 9293 3.8, 3.10.4).
 *
 * tcp_output: usable = min(snd_wnd, cwnd) from snd_una; cut the unsent part of
 * the send ring into MSS-sized segments (Nagle, RFC 9293 3.7.4, holds a short
 * segment while data is unacknowledged; TCP_CORK holds short ones; the FIN rides
 * on the segment that carries the last byte, or goes alone) → per segment: frame
 * from the interface pool, TCP header + options (timestamps, SACK blocks) +
 * payload copied from the ring, checksum (offload when the device has it) →
 * ip4_output (DF set: path MTU discovery as Linux), or over IPv6 ip6_output
 * (never fragmented: RFC 8201 through Packet Too Big) → the retransmission timer is
 * armed for the first byte in flight; a zero window with data waiting arms the
 * persist timer instead. Every segment carries the current ACK and window, so
 * a pending delayed ACK is cleared.
 * Resets for segments without a connection follow RFC 9293 3.10.7.1, routed
 * back by the segment's family (a link-local sender through the interface it
 * came in on).
 */
#include <string.h>

#include "csum.h"
#include "ip4.h"
#include "ip6.h"
#include "route.h"
#include "route6.h"
#include "tcp_internal.h"
#include "tcp_seq.h"

uint32_t tcp_tsval(const struct skiff_tcp_sock *sk, uint64_t now)
{
	/* 1 ms ticks (RFC 7323 5.4: between 1 ms and 1 s), randomised start */
	return (uint32_t)(now / 1000000u) + sk->ts_offset;
}

/* Copy len bytes of the send ring starting at byte offset `off` from snd_una. */
static void sbuf_copy(const struct skiff_tcp_sock *sk, uint32_t off, uint8_t *dst, uint32_t len)
{
	uint32_t pos = (sk->sbuf_head + off) % sk->sbuf_cap;
	uint32_t k = sk->sbuf_cap - pos;
	if (k > len)
		k = len;
	memcpy(dst, sk->sbuf + pos, k);
	if (len > k)
		memcpy(dst + k, sk->sbuf, len - k);
}

/* The window to put in a segment, scaled (RFC 7323 2.3); never shrinks the right
 * edge we already advertised (RFC 9293 3.8.6.2.2: SHOULD NOT shrink). */
static uint16_t window_field(struct skiff_stack *st, struct skiff_tcp_sock *sk, bool syn)
{
	/* over the stack-wide receive memory: offer nothing new (what was offered
	 * stays: the right edge never shrinks) */
	uint32_t w = tcp_rx_mem_pressure(st) ? 0 : tcp_rcv_window(sk);
	if (!syn && SEQ_GT(sk->rcv_adv, sk->rcv_nxt + w))
		w = sk->rcv_adv - sk->rcv_nxt;
	if (syn) {
		/* RFC 7323 2.2: the window in a SYN is never scaled. A SYN-ACK's
		 * window is an offer like any other: its right edge is kept */
		if (w > TCP_MAX_WINDOW)
			w = TCP_MAX_WINDOW;
		if (sk->state == SKIFF_TCP_SYN_RECEIVED && SEQ_GT(sk->rcv_nxt + w, sk->rcv_adv))
			sk->rcv_adv = sk->rcv_nxt + w;
		return (uint16_t)w;
	}
	w >>= sk->rcv_wscale;
	if (w > TCP_MAX_WINDOW)
		w = TCP_MAX_WINDOW;
	if (SEQ_GT(sk->rcv_nxt + (w << sk->rcv_wscale), sk->rcv_adv))
		sk->rcv_adv = sk->rcv_nxt + (w << sk->rcv_wscale);
	return (uint16_t)w;
}

/* The route is looked up once and kept until a route or address changes; the
 * interface it goes out of, or -errno. */
static int route_get(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	int rc;
	if (!sk->rt_ok || sk->rt_gen != st->route_gen) {
		if (tcp_v6(sk))
			rc = skiff_route6_lookup(st, sk->raddr.v6, tcp_oif6(sk), &sk->rt6);
		else
			rc = skiff_route_lookup4(st, sk->raddr.v4, sk->bound_ifindex, &sk->rt);
		if (rc) {
			sk->rt_ok = false;
			skiff_count_drop(st, tcp_v6(sk) ? SKIFF_DROP_IP6_NO_ROUTE : SKIFF_DROP_IP4_NO_ROUTE);
			return rc;
		}
		sk->rt_gen = st->route_gen;
		sk->rt_ok = true;
	}
	return tcp_v6(sk) ? sk->rt6.ifindex : sk->rt.ifindex;
}

/* The hop limit of an IPv6 connection's segments (RFC 8200 3, RFC 4861 6.3.2). */
static uint8_t hop_limit6(const struct skiff_stack *st, const struct skiff_tcp_sock *sk, const struct skiff_iface *ifc)
{
	if (sk->hop_limit >= 0)
		return (uint8_t)sk->hop_limit;
	return ifc->hop_limit6 ? ifc->hop_limit6 : st->cfg.default_hop_limit;
}

/* Build and send one segment: seq, flags, `len` bytes of the ring from `off`. */
static int send_segment(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t seq, uint8_t flags, uint32_t off,
			uint32_t len, uint64_t now)
{
	struct skiff_iface *ifc;
	struct skiff_pkt *p;
	struct tcp_opts_out o;
	struct tcp_repr th;
	unsigned olen;
	uint8_t *h;
	bool syn = flags & TCP_SYN, v6 = tcp_v6(sk);
	int rc;

	rc = route_get(st, sk);
	if (rc < 0)
		return rc;
	ifc = skiff_stack_iface(st, rc);
	p = ifc ? skiff_iface_alloc(ifc) : NULL;
	if (!p) {
		skiff_count_drop(st, v6 ? SKIFF_DROP_IP6_NO_BUF : SKIFF_DROP_IP4_NO_BUF);
		return -ENOBUFS;
	}
	memset(&o, 0, sizeof(o));
	if (syn) {
		o.mss = true;
		o.mss_val = tcp_mss_offer(st, ifc->index, v6 ? SKIFF_AF_INET6 : SKIFF_AF_INET);
		if (sk->user_mss && sk->user_mss < o.mss_val)
			o.mss_val = (uint16_t)sk->user_mss;
		/* on a SYN-ACK only what the peer offered (RFC 7323 2.2, RFC 2018 2) */
		bool active = sk->state == SKIFF_TCP_SYN_SENT;
		o.ws = active || sk->ws_ok;
		o.ws_val = sk->rcv_wscale;
		o.sack_perm = active || sk->sack_ok;
		o.ts = active || sk->ts_ok;
	} else {
		unsigned room = sk->ts_ok ? 3 : 4;
		o.ts = sk->ts_ok;
		if (sk->sack_ok && sk->dsack_pending && (flags & TCP_ACK)) {
			/* RFC 2883 4: the duplicate first, then the usual blocks */
			o.sack[0][0] = sk->dsack_start;
			o.sack[0][1] = sk->dsack_end;
			o.nsack = 1;
			room--;
			sk->dsack_pending = false;
			st->ctr.tcp_dsack_out++;
		}
		if (sk->sack_ok && skiff_tcp_ooo_bytes(&sk->ooo))
			o.nsack = (uint8_t)(o.nsack + skiff_tcp_ooo_sack_blocks(&sk->ooo, o.sack + o.nsack, room));
	}
	if (o.ts) {
		o.tsval = tcp_tsval(sk, now);
		o.tsecr = sk->ts_recent;
	}
	olen = tcp_opts_len(&o);
	h = skiff_pkt_put(p, TCP_HDR_LEN + olen + len);
	if (!h) {
		skiff_pkt_free(p);
		return -EMSGSIZE;
	}
	th.sport = sk->lport;
	th.dport = sk->rport;
	th.seq = seq;
	th.ack = (flags & TCP_ACK) ? sk->rcv_nxt : 0;
	th.doff = (uint8_t)(TCP_HDR_LEN + olen);
	th.flags = flags;
	th.wnd = (flags & TCP_RST) ? 0 : window_field(st, sk, syn);
	th.csum = 0;
	th.urp = 0;
	tcp_emit(h, &th);
	tcp_emit_opts(h + TCP_HDR_LEN, &o);
	if (len)
		sbuf_copy(sk, off, h + TCP_HDR_LEN + olen, len);
	{
		uint32_t l4 = TCP_HDR_LEN + olen + len;
		uint32_t sum = v6 ? csum_pseudo6(sk->laddr.v6, sk->raddr.v6, IP6_NH_TCP, l4)
				  : csum_pseudo4(sk->laddr.v4, sk->raddr.v4, IPPROTO_TCP_, l4);
		if (ifc->caps & SKIFF_IFCAP_TX_L4_CSUM) {
			p->flags |= SKIFF_PKT_TX_L4_CSUM;
		} else {
			st16(h + 16, csum_fold(csum_partial(h, l4, sum)));
		}
	}
	if (flags & TCP_ACK) {
		sk->last_ack_sent = sk->rcv_nxt;
		sk->delack_segs = 0;
		sk->due[TCP_T_DELACK] = 0; /* the timer function re-derives its slot */
	}
	sk->last_snd = now;
	st->ctr.tcp_out++;
	if (v6) {
		struct skiff_ip6_tx tx6;
		memset(&tx6, 0, sizeof(tx6));
		memcpy(tx6.src, sk->laddr.v6, 16);
		memcpy(tx6.dst, sk->raddr.v6, 16);
		tx6.proto = IP6_NH_TCP;
		tx6.hop_limit = hop_limit6(st, sk, ifc);
		tx6.tclass = sk->tclass;
		tx6.dontfrag = true; /* TCP cuts to the MSS; a smaller path says so by PTB */
		struct skiff_route_res6 rt6 = sk->rt6;
		return skiff_ip6_output(st, &rt6, &tx6, p, now);
	} else {
		struct skiff_ip4_tx tx;
		tx.src = sk->laddr.v4;
		tx.dst = sk->raddr.v4;
		tx.proto = IPPROTO_TCP_;
		tx.ttl = sk->ttl;
		tx.tos = sk->tos;
		tx.df = true;
		struct skiff_route_res4 rt = sk->rt;
		return skiff_ip4_output(st, &rt, &tx, p, now);
	}
}

void tcp_send_syn(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint8_t flags = TCP_SYN;
	if (sk->state == SKIFF_TCP_SYN_RECEIVED)
		flags |= TCP_ACK;
	else {
		/* our window scale: enough for the receive buffer (RFC 7323 2.3) */
		sk->rcv_wscale = tcp_wscale_for(tcp_rcv_space_max(st, sk));
	}
	send_segment(st, sk, sk->iss, flags, 0, 0, now);
	sk->snd_nxt = sk->iss + 1;
	if (SEQ_GT(sk->snd_nxt, sk->snd_max))
		sk->snd_max = sk->snd_nxt;
	if (!sk->due[TCP_T_RTX])
		tcp_timer_set(st, sk, TCP_T_RTX, now + sk->rto);
}

void tcp_send_ack(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	send_segment(st, sk, sk->snd_nxt, TCP_ACK, 0, 0, now);
	tcp_timer_clear(st, sk, TCP_T_DELACK);
}

void tcp_send_ctl(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t seq, uint8_t flags, uint64_t now)
{
	send_segment(st, sk, seq, flags, 0, 0, now);
}

/* Sequence number just past the data queued in the ring. */
static inline uint32_t data_end(const struct skiff_tcp_sock *sk) { return sk->snd_una + sk->sbuf_len; }

/* Send one segment starting at `seq` (snd_una <= seq < snd_max): data from the
 * ring and the FIN if it falls inside. Returns the sequence space it covered. */
static uint32_t send_from(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t seq, uint32_t limit,
			  uint64_t now)
{
	uint32_t off = seq - sk->snd_una, avail = sk->sbuf_len > off ? sk->sbuf_len - off : 0;
	uint32_t len = avail < sk->mss ? avail : sk->mss, n;
	uint8_t flags = TCP_ACK;
	if (len > limit)
		len = limit;
	if (sk->fin_queued && !sk->fin_acked && seq + len == data_end(sk))
		flags |= TCP_FIN; /* the FIN rides on the last byte (it needs no window) */
	if (len && seq + len == data_end(sk))
		flags |= TCP_PSH;
	if (len == 0 && !(flags & TCP_FIN))
		return 0;
	if (SEQ_GEQ(seq, sk->snd_max) && skiff_tcp_rack_full(&sk->rack))
		return 0; /* the transmit log is full: new data waits for ACKs */
	if (send_segment(st, sk, seq, flags, off, len, now) < 0 && len == 0)
		return 0;
	n = len + ((flags & TCP_FIN) ? 1u : 0u);
	if (sk->rack.r)
		skiff_tcp_rack_sent(&sk->rack, seq, seq + n, sk->snd_max, now);
	return n;
}

/* ---- RACK-TLP (RFC 8985) ---- */

/* RFC 8985 6.2 steps 4-5 after an ACK or at the reordering timer: mark what is
 * lost, arm the timer for what is still inside its reordering window. Returns
 * the bytes newly marked lost. */
uint32_t tcp_rack_detect(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	struct skiff_tcp_rack *q = &sk->rack;
	unsigned sacked_segs = sk->mss ? (q->sacked_bytes + sk->mss - 1) / sk->mss : 0;
	uint64_t reo = skiff_tcp_rack_reo_wnd(q, sk->in_recovery, sacked_segs, sk->min_rtt, sk->srtt), t;
	uint32_t newly;
	t = skiff_tcp_rack_detect(q, &sk->sack, reo, now, &newly);
	if (t)
		tcp_timer_set(st, sk, TCP_T_REO, now + t);
	else
		tcp_timer_clear(st, sk, TCP_T_REO);
	st->ctr.tcp_rack_lost += newly ? 1u : 0u;
	return newly;
}

/* RFC 6937 3: how much the ACK lets us send. While the pipe is above ssthresh,
 * in proportion to what was delivered (ssthresh / RecoverFS); at or below it,
 * up to ssthresh (see below). The first ACK of an episode always lets the
 * first retransmission go. As Linux, the result
 * becomes cwnd = pipe + sndcnt (whole segments), so segments the reordering
 * timer marks lost later free room without waiting for another ACK. */
void tcp_prr_ack(struct skiff_tcp_sock *sk, uint32_t delivered)
{
	uint32_t pipe = skiff_tcp_rack_pipe(&sk->rack, sk->snd_una, sk->snd_max), ssthresh = sk->cc.ssthresh;
	int64_t sndcnt;
	sk->prr_delivered += delivered;
	if (pipe > ssthresh) {
		uint64_t fs = sk->prr_recoverfs ? sk->prr_recoverfs : 1;
		sndcnt = (int64_t)(((uint64_t)sk->prr_delivered * ssthresh + fs - 1) / fs) - (int64_t)sk->prr_out;
	} else {
		/* at or below ssthresh: fill up to it at once (RFC 6675's rule), not
		 * PRR-SSRB's slow-start pace. Segments sent after a retransmission
		 * are what lets RACK see that retransmission lost; SSRB's trickle
		 * left lost retransmissions to the RTO (sim: 169 vs 2 RTOs per
		 * 256 MiB at 2 % loss + reordering) */
		sndcnt = (int64_t)(ssthresh - pipe);
	}
	if (sndcnt < 0)
		sndcnt = 0;
	if (sk->prr_out == 0 && sndcnt < (int64_t)sk->mss)
		sndcnt = sk->mss;
	sndcnt = (sndcnt + sk->mss - 1) / sk->mss * sk->mss;
	sk->cc.cwnd = pipe + (uint32_t)sndcnt > sk->mss ? pipe + (uint32_t)sndcnt : sk->mss;
}

/* Recovery with RACK (RFC 8985 6), paced by PRR (RFC 6937): while the ACKs
 * allow, retransmit the lowest lost record, else send new data. */
static void rack_output(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint32_t pipe = skiff_tcp_rack_pipe(&sk->rack, sk->snd_una, sk->snd_max);
	for (unsigned guard = 0; guard < 1024 && sk->cc.cwnd >= pipe + sk->mss; guard++) {
		uint32_t seq, end, n;
		if (skiff_tcp_rack_next_lost(&sk->rack, &seq, &end) == 0) {
			n = send_from(st, sk, seq, end - seq, now);
			if (!n)
				break;
			st->ctr.tcp_retrans++;
			sk->total_retrans++;
			sk->undo_retrans++;
		} else {
			uint32_t sent = sk->snd_max - sk->snd_una, right = sk->snd_una + sk->snd_wnd;
			uint32_t avail = sk->sbuf_len > sent ? sk->sbuf_len - sent : 0;
			bool fin_due = sk->fin_queued && !sk->fin_acked && sk->snd_max == data_end(sk);
			if (!SEQ_GT(right, sk->snd_max))
				avail = 0;
			else if (avail > right - sk->snd_max)
				avail = right - sk->snd_max;
			if (!avail && !fin_due)
				break;
			n = send_from(st, sk, sk->snd_max, avail ? avail : 1, now);
			if (!n)
				break;
			sk->snd_max += n;
			sk->snd_nxt = sk->snd_max;
		}
		sk->prr_out += n;
		pipe += n;
	}
	if (sk->snd_una != sk->snd_max && !sk->due[TCP_T_RTX])
		tcp_timer_set(st, sk, TCP_T_RTX, now + sk->rto);
}

/* RFC 8985 7.2: arm the probe timeout when a tail could be lost with nothing
 * behind it to reveal the loss: data in flight, not in recovery, no RTO
 * backoff, no probe already out. PTO = 2 SRTT (+ the worst-case delayed ACK when
 * one segment is out, as Linux: + RTO_MIN), never later than the RTO. */
void tcp_tlp_schedule(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint64_t pto;
	if (!tcp_rack_on(sk) || sk->in_recovery || sk->rack.tlp_out || sk->rtx_count || sk->snd_una == sk->snd_max ||
	    !sk->srtt || !tcp_synced(sk)) {
		tcp_timer_clear(st, sk, TCP_T_TLP);
		return;
	}
	pto = 2 * sk->srtt + (sk->snd_max - sk->snd_una <= sk->mss ? TCP_RTO_MIN_NS : TCP_TLP_MIN_NS);
	/* never later than the RTO would fire: then the probe goes in its place
	 * (the timer runs TLP before RTX, and the probe restarts the RTO) */
	if (sk->due[TCP_T_RTX] && sk->due[TCP_T_RTX] < now + pto)
		pto = sk->due[TCP_T_RTX] > now ? sk->due[TCP_T_RTX] - now : 0;
	tcp_timer_set(st, sk, TCP_T_TLP, now + pto);
}

/* RFC 8985 7.3: the probe. New data if the windows allow (one segment even past
 * cwnd), else the last segment again; then the RTO restarts. */
void tcp_tlp_fire(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint32_t sent = sk->snd_max - sk->snd_una, right = sk->snd_una + sk->snd_wnd, seq, end, n = 0;
	uint32_t avail = sk->sbuf_len > sent ? sk->sbuf_len - sent : 0;
	if (!tcp_rack_on(sk) || sk->in_recovery || sk->snd_una == sk->snd_max || !tcp_synced(sk))
		return;
	if (SEQ_GT(right, sk->snd_max) && avail) {
		n = send_from(st, sk, sk->snd_max, right - sk->snd_max, now);
		if (n) {
			sk->snd_max += n;
			sk->snd_nxt = sk->snd_max;
			sk->rack.tlp_rxt = false;
		}
	}
	if (!n && skiff_tcp_rack_last(&sk->rack, &seq, &end) == 0) {
		if (end - seq > sk->mss)
			seq = end - sk->mss;
		n = send_from(st, sk, seq, end - seq, now);
		if (n) {
			sk->rack.tlp_rxt = true;
			st->ctr.tcp_retrans++;
			sk->total_retrans++;
		}
	}
	if (!n)
		return;
	st->ctr.tcp_tlp_probes++;
	sk->rack.tlp_out = true;
	sk->rack.tlp_high = sk->snd_max;
	tcp_timer_set(st, sk, TCP_T_RTX, now + sk->rto);
}

/* RFC 6675 5 (C): during SACK recovery, send what NextSeg() picks while
 * cwnd - pipe >= SMSS: lost holes first, then new data, then other holes, then
 * one rescue retransmission. */
static void sack_output(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint32_t pipe = skiff_tcp_sack_pipe(&sk->sack, sk->snd_una, sk->snd_max, sk->mss);
	for (unsigned guard = 0; guard < 1024 && sk->cc.cwnd >= pipe + sk->mss; guard++) {
		uint32_t sent = sk->snd_max - sk->snd_una, right = sk->snd_una + sk->snd_wnd, seq, len, n;
		uint32_t new_avail = sk->sbuf_len > sent ? sk->sbuf_len - sent : 0;
		int rule;
		if (SEQ_LT(right, sk->snd_max))
			new_avail = 0;
		else if (new_avail > right - sk->snd_max)
			new_avail = right - sk->snd_max;
		rule = skiff_tcp_sack_next_seg(&sk->sack, sk->snd_una, sk->snd_max, sk->recover, sk->mss, new_avail,
					       &seq, &len);
		if (rule < 0)
			break;
		if (rule == SKIFF_TCP_SACK_NEW_DATA) {
			n = send_from(st, sk, sk->snd_max, len, now);
			if (!n)
				break;
			sk->snd_max += n;
			sk->snd_nxt = sk->snd_max;
		} else {
			n = send_from(st, sk, seq, len, now);
			if (!n)
				break;
			st->ctr.tcp_retrans++;
			sk->total_retrans++;
			sk->undo_retrans++;
		}
		pipe += n;
	}
	if (sk->snd_una != sk->snd_max && !sk->due[TCP_T_RTX])
		tcp_timer_set(st, sk, TCP_T_RTX, now + sk->rto);
}

void tcp_sack_recovery_start(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint32_t seq, len;
	sk->snd_nxt = sk->snd_max;
	if (tcp_rack_on(sk)) {
		tcp_timer_clear(st, sk, TCP_T_TLP);
		rack_output(st, sk, now);
		return;
	}
	if (skiff_tcp_sack_enter_recovery(&sk->sack, sk->snd_una, sk->snd_max, sk->mss, &seq, &len) == 0 &&
	    send_from(st, sk, seq, len, now)) {
		st->ctr.tcp_retrans++;
		sk->total_retrans++;
		sk->undo_retrans++;
	}
	sack_output(st, sk, now);
}

void tcp_retransmit(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	uint32_t n;
	if (sk->state == SKIFF_TCP_SYN_SENT || sk->state == SKIFF_TCP_SYN_RECEIVED) {
		send_segment(st, sk, sk->iss, sk->state == SKIFF_TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK, 0, 0, now);
		st->ctr.tcp_retrans++;
		sk->total_retrans++;
		return;
	}
	n = send_from(st, sk, sk->snd_una, sk->mss, now);
	if (n) {
		st->ctr.tcp_retrans++;
		sk->total_retrans++;
		if (SEQ_LT(sk->snd_nxt, sk->snd_una + n))
			sk->snd_nxt = sk->snd_una + n;
		if (SEQ_GT(sk->snd_nxt, sk->snd_max))
			sk->snd_max = sk->snd_nxt; /* the segment may carry bytes never sent before */
	}
	sk->rtt_at = 0; /* Karn: no sample from retransmitted data */
}

void tcp_output(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	bool sent = false;

	if (!tcp_synced(sk) || sk->state == SKIFF_TCP_TIME_WAIT)
		return;
	if (!sk->sbuf && !sk->fin_queued)
		return;
	if (sk->in_recovery && sk->sack_ok) {
		if (tcp_rack_on(sk))
			rack_output(st, sk, now);
		else
			sack_output(st, sk, now);
		return;
	}
	/* RFC 5681 4.1 / RFC 7661: after an idle period longer than an RTO the
	 * window restarts (the cc module applies the restart window) */
	if (sk->snd_una == sk->snd_max && sk->last_snd && now - sk->last_snd > sk->rto)
		sk->cc.ops->on_idle_restart(&sk->cc, now - sk->last_snd, sk->rto, now);
	for (unsigned guard = 0; guard < 4096; guard++) {
		uint32_t wnd = sk->snd_wnd < sk->cc.cwnd ? sk->snd_wnd : sk->cc.cwnd;
		uint32_t right = sk->snd_una + wnd, off = sk->snd_nxt - sk->snd_una;
		uint32_t unsent = sk->sbuf_len > off ? sk->sbuf_len - off : 0;
		uint32_t limit = SEQ_GT(right, sk->snd_nxt) ? right - sk->snd_nxt : 0;
		uint32_t len = unsent < sk->mss ? unsent : sk->mss, n;
		bool fin_due = sk->fin_queued && !sk->fin_acked && sk->snd_nxt == data_end(sk);

		if (SEQ_GT(sk->snd_nxt, data_end(sk)))
			break; /* FIN already sent and nothing after it */
		if (len > limit)
			len = limit;
		if (unsent == 0 && !fin_due)
			break;
		if (len == 0 && !fin_due)
			break; /* window closed */
		if (len && len < sk->mss && len == unsent && !sk->fin_queued) {
			/* Nagle: hold a short segment while anything is unacknowledged */
			if (!sk->nodelay && sk->snd_nxt != sk->snd_una)
				break;
			if (sk->cork)
				break;
		}
		if (len && len < unsent && len < sk->mss && len < sk->max_sndwnd / 2 && sk->snd_nxt != sk->snd_una)
			break; /* sender SWS avoidance (RFC 9293 3.8.6.2.1) */
		if (sk->rtt_at == 0 && !sk->ts_ok && len && sk->snd_nxt == sk->snd_max) {
			sk->rtt_seq = sk->snd_nxt;
			sk->rtt_at = now;
		}
		if (sk->snd_una == sk->snd_max)
			sk->first_rtx_at = now; /* the oldest unacknowledged byte leaves now */
		n = send_from(st, sk, sk->snd_nxt, len ? len : limit + 1, now);
		if (!n)
			break;
		sk->snd_nxt += n;
		if (SEQ_GT(sk->snd_nxt, sk->snd_max))
			sk->snd_max = sk->snd_nxt;
		sent = true;
		if (!sk->due[TCP_T_RTX])
			tcp_timer_set(st, sk, TCP_T_RTX, now + sk->rto);
	}
	if (sent) {
		tcp_timer_clear(st, sk, TCP_T_PERSIST);
		tcp_timer_clear(st, sk, TCP_T_DELACK);
		if (tcp_rack_on(sk))
			tcp_tlp_schedule(st, sk, now);
	} else if (sk->snd_wnd == 0 && sk->sbuf_len > sk->snd_nxt - sk->snd_una && sk->snd_nxt == sk->snd_una &&
		   !sk->due[TCP_T_PERSIST]) {
		/* RFC 9293 3.8.6.1: zero window with data waiting: probe */
		uint64_t t = sk->rto < TCP_PERSIST_MIN_NS ? TCP_PERSIST_MIN_NS : sk->rto;
		tcp_timer_set(st, sk, TCP_T_PERSIST, now + t);
	}
}

/* A segment that answers one without a TCB (reset, cookie SYN-ACK): routed back
 * to the sender, options o (NULL: none), software checksum. */
static void send_stateless(struct skiff_stack *st, const struct tcp_rx_addr *ra, struct tcp_repr *r,
			   const struct tcp_opts_out *o, uint64_t now)
{
	struct skiff_route_res4 rt;
	struct skiff_route_res6 rt6;
	struct skiff_iface *ifc;
	struct skiff_pkt *p;
	unsigned olen = o ? tcp_opts_len(o) : 0, l4 = TCP_HDR_LEN + olen;
	bool v6 = ra->src.family == SKIFF_AF_INET6;
	uint8_t *h;

	if (v6) {
		/* back where it came from when either end is link-local (RFC 4007 6) */
		int oif = ip6_is_link_local(ra->src.v6) || ip6_is_link_local(ra->dst.v6) ? ra->ifindex : -1;
		if (skiff_route6_lookup(st, ra->src.v6, oif, &rt6)) {
			skiff_count_drop(st, SKIFF_DROP_IP6_NO_ROUTE);
			return;
		}
		ifc = skiff_stack_iface(st, rt6.ifindex);
	} else {
		if (skiff_route_lookup4(st, ra->src.v4, -1, &rt))
			return;
		ifc = skiff_stack_iface(st, rt.ifindex);
	}
	p = ifc ? skiff_iface_alloc(ifc) : NULL;
	if (!p)
		return;
	h = skiff_pkt_put(p, l4);
	r->doff = (uint8_t)l4;
	r->csum = 0;
	r->urp = 0;
	tcp_emit(h, r);
	if (o)
		tcp_emit_opts(h + TCP_HDR_LEN, o);
	st16(h + 16, csum_fold(csum_partial(h, l4, v6 ? csum_pseudo6(ra->dst.v6, ra->src.v6, IP6_NH_TCP, l4)
						      : csum_pseudo4(ra->dst.v4, ra->src.v4, IPPROTO_TCP_, l4))));
	st->ctr.tcp_out++;
	if (v6) {
		struct skiff_ip6_tx tx6;
		memset(&tx6, 0, sizeof(tx6));
		memcpy(tx6.src, ra->dst.v6, 16);
		memcpy(tx6.dst, ra->src.v6, 16);
		tx6.proto = IP6_NH_TCP;
		tx6.hop_limit = ifc->hop_limit6 ? ifc->hop_limit6 : st->cfg.default_hop_limit;
		tx6.dontfrag = true;
		skiff_ip6_output(st, &rt6, &tx6, p, now);
	} else {
		struct skiff_ip4_tx tx;
		tx.src = ra->dst.v4;
		tx.dst = ra->src.v4;
		tx.proto = IPPROTO_TCP_;
		tx.ttl = st->cfg.default_ttl;
		tx.tos = 0;
		tx.df = true;
		skiff_ip4_output(st, &rt, &tx, p, now);
	}
}

/* RFC 9293 3.10.7.1 (CLOSED): if the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>; if on, <SEQ=SEG.ACK><CTL=RST>. Never in answer to a RST. */
void tcp_send_reset(struct skiff_stack *st, const struct tcp_rx_addr *ra, const struct tcp_repr *th, uint32_t seglen,
		    uint64_t now)
{
	struct tcp_repr r;
	if (th->flags & TCP_RST)
		return;
	r.sport = th->dport;
	r.dport = th->sport;
	if (th->flags & TCP_ACK) {
		r.seq = th->ack;
		r.ack = 0;
		r.flags = TCP_RST;
	} else {
		r.seq = 0;
		r.ack = th->seq + seglen;
		r.flags = TCP_RST | TCP_ACK;
	}
	r.wnd = 0;
	st->ctr.tcp_resets_out++;
	send_stateless(st, ra, &r, NULL, now);
}

uint8_t tcp_wscale_for(uint32_t space)
{
	uint8_t ws = 0;
	while (ws < TCP_MAX_WSCALE && (space >> ws) > TCP_MAX_WINDOW)
		ws++;
	return ws;
}

/* SYN-ACK for a SYN we keep no state for (SYN cookies), with the options the
 * caller chose (MSS; window scale, SACK-permitted, timestamps when the cookie's
 * timestamp can carry them). */
void tcp_send_synack_stateless(struct skiff_stack *st, const struct tcp_rx_addr *ra, const struct tcp_repr *th,
			       uint32_t isn, const struct tcp_opts_out *o, uint64_t now)
{
	struct tcp_repr r;
	r.sport = th->dport;
	r.dport = th->sport;
	r.seq = isn;
	r.ack = th->seq + 1;
	r.flags = TCP_SYN | TCP_ACK;
	r.wnd = (uint16_t)(st->cfg.tcp_rcvbuf / 2 > TCP_MAX_WINDOW ? TCP_MAX_WINDOW : st->cfg.tcp_rcvbuf / 2);
	send_stateless(st, ra, &r, o, now);
}
