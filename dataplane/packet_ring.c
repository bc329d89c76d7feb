/* packet_ring.c — TPACKET_V3 block writer (packet_ring.h has the flow; the
 * layout and rules are net/packet/af_packet.c's, named per function below). */
#include "packet_ring.h"

#include <errno.h>
#include <string.h>

#include "packet.h"
#include "wire_tpacket.h"

#define V3_ALIGN(x) (((x) + 7u) & ~7u)                 /* V3_ALIGNMENT */
#define TP_ALIGN(x) (((x) + 15u) & ~15u)               /* TPACKET_ALIGN */
#define BLK_HDR_LEN V3_ALIGN((uint32_t)sizeof(struct tpw_block_desc))
#define HDRLEN_V3 ((uint32_t)(TP_ALIGN(sizeof(struct tpw3_hdr)) + sizeof(struct tpw_sockaddr_ll)))

static struct tpw_block_desc *blk(const struct skiff_pkt_ring *r, uint32_t i)
{
	return (struct tpw_block_desc *)(r->base + (size_t)i * r->block_size);
}

static uint32_t blk_plus_priv(const struct skiff_pkt_ring *r) { return BLK_HDR_LEN + V3_ALIGN(r->priv_len); }

static uint32_t status_of(const struct tpw_block_desc *b)
{
	return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}

static void wall(const struct skiff_pkt_ring *r, uint64_t now, uint32_t *sec, uint32_t *nsec)
{
	int64_t t = (int64_t)now + r->realtime_off_ns;
	if (t < 0)
		t = 0;
	*sec = (uint32_t)(t / 1000000000);
	*nsec = (uint32_t)(t % 1000000000);
}

/* prb_open_block */
static void open_block(struct skiff_pkt_ring *r, uint64_t now)
{
	struct tpw_block_desc *b = blk(r, r->cur);
	struct tpw_hdr_v1 *h = &b->hdr.bh1;
	h->seq_num = r->seq++;
	h->num_pkts = 0;
	h->blk_len = blk_plus_priv(r);
	wall(r, now, &h->ts_first_pkt.ts_sec, &h->ts_first_pkt.ts_nsec);
	h->offset_to_first_pkt = blk_plus_priv(r);
	b->offset_to_priv = BLK_HDR_LEN;
	b->version = TPW_V3;
	r->nxt_off = blk_plus_priv(r);
	r->prev_off = r->nxt_off;
	r->open = true;
	r->deadline = now + r->tov_ns; /* _prb_refresh_rx_retire_blk_timer */
}

int skiff_pkt_ring_init(struct skiff_pkt_ring *r, uint8_t *base, uint32_t block_size, uint32_t block_nr,
			uint32_t priv_len, uint32_t tov_ms, uint32_t reserve, bool dgram, uint64_t now)
{
	int kif[8];
	int64_t off = r->realtime_off_ns;

	if (!base || !block_nr || block_size <= BLK_HDR_LEN + V3_ALIGN(priv_len) + HDRLEN_V3)
		return -EINVAL;
	memcpy(kif, r->kifindex, sizeof(kif));
	memset(r, 0, sizeof(*r));
	memcpy(r->kifindex, kif, sizeof(kif));
	r->realtime_off_ns = off;
	r->base = base;
	r->block_size = block_size;
	r->block_nr = block_nr;
	r->priv_len = priv_len;
	r->reserve = reserve;
	r->dgram = dgram;
	r->tov_ns = (uint64_t)(tov_ms ? tov_ms : 8u) * 1000000ull; /* DEFAULT_PRB_RETIRE_TOV: 8 ms */
	r->seq = 1;                                                 /* init_prb_bdqc: knxt_seq_num = 1 */
	r->cur = 0;
	open_block(r, now);
	return 0;
}

/* prb_close_block + advance to the next block (prb_dispatch_next_block). */
static void close_block(struct skiff_pkt_ring *r, uint32_t status, uint64_t now)
{
	struct tpw_block_desc *b = blk(r, r->cur);
	struct tpw_hdr_v1 *h = &b->hdr.bh1;

	if (r->losing)
		status |= TPW_STATUS_LOSING;
	if (h->num_pkts) {
		struct tpw3_hdr *last = (struct tpw3_hdr *)((uint8_t *)b + r->prev_off);
		last->tp_next_offset = 0;
		h->ts_last_pkt.ts_sec = last->tp_sec;
		h->ts_last_pkt.ts_nsec = last->tp_nsec;
	} else {
		wall(r, now, &h->ts_last_pkt.ts_sec, &h->ts_last_pkt.ts_nsec);
	}
	__atomic_store_n(&h->block_status, TPW_STATUS_USER | status, __ATOMIC_RELEASE); /* prb_flush_block */
	r->losing = false;
	r->cur = (r->cur + 1) % r->block_nr;
	r->open = false;
	if (status_of(blk(r, r->cur)) == TPW_STATUS_KERNEL) /* prb_dispatch_next_block; else frozen */
		open_block(r, now);
}

int skiff_pkt_ring_put(struct skiff_pkt_ring *r, const struct skiff_packet_info *info, const uint8_t *data,
		       uint32_t caplen, uint64_t now)
{
	uint32_t macoff, netoff, max_frame = r->block_size - blk_plus_priv(r), slot, status;
	struct tpw3_hdr *h;
	struct tpw_sockaddr_ll *sll;
	uint8_t *b;

	/* tpacket_rcv: where the frame goes inside its record */
	if (r->dgram) {
		macoff = netoff = TP_ALIGN(HDRLEN_V3) + 16u + r->reserve;
	} else {
		netoff = TP_ALIGN(HDRLEN_V3 + 16u) + r->reserve; /* maclen 14 < 16 */
		macoff = netoff - 14u;
	}
	if (macoff + caplen > max_frame)
		caplen = max_frame > macoff ? max_frame - macoff : 0;
	slot = V3_ALIGN(macoff + caplen);
	if (!r->open) { /* prb_queue_frozen: the user may have given the block back since */
		if (status_of(blk(r, r->cur)) != TPW_STATUS_KERNEL) {
			r->losing = true;
			return -ENOBUFS;
		}
		open_block(r, now);
	}
	if (r->nxt_off + slot >= r->block_size) { /* __packet_lookup_frame_in_block: "curr + len < end" */
		close_block(r, 0, now);
		if (!r->open) {
			r->losing = true;
			return -ENOBUFS;
		}
	}
	b = (uint8_t *)blk(r, r->cur);
	h = (struct tpw3_hdr *)(b + r->nxt_off);
	/* prb_fill_curr_block + prb_run_all_ft_ops */
	memset(h, 0, sizeof(*h));
	h->tp_next_offset = slot;
	r->prev_off = r->nxt_off;
	r->nxt_off += slot;
	((struct tpw_block_desc *)b)->hdr.bh1.blk_len += slot;
	((struct tpw_block_desc *)b)->hdr.bh1.num_pkts++;
	status = TPW_STATUS_USER | TPW_STATUS_TS_SOFTWARE;
	if (info->vlan_valid) { /* prb_fill_vlan_info */
		h->hv1.tp_vlan_tci = info->vlan_tci;
		h->hv1.tp_vlan_tpid = info->vlan_tpid;
		status |= TPW_STATUS_VLAN_VALID | TPW_STATUS_VLAN_TPID_VALID;
	}
	if (info->csum_not_ready)
		status |= TPW_STATUS_CSUMNOTREADY;
	if (r->losing)
		status |= TPW_STATUS_LOSING;
	h->tp_status = status;
	h->tp_len = info->origlen;
	h->tp_snaplen = caplen;
	h->tp_mac = (uint16_t)macoff;
	h->tp_net = (uint16_t)netoff;
	wall(r, info->ts, &h->tp_sec, &h->tp_nsec);
	sll = (struct tpw_sockaddr_ll *)((uint8_t *)h + TP_ALIGN(sizeof(*h)));
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = TPW_AF_PACKET;
	sll->sll_protocol = info->proto_be;
	sll->sll_ifindex = info->ifindex < 8 ? r->kifindex[info->ifindex] : 0;
	sll->sll_hatype = 1; /* ARPHRD_ETHER */
	sll->sll_pkttype = info->pkttype;
	sll->sll_halen = 6;
	memcpy(sll->sll_addr, info->addr, 6);
	memcpy((uint8_t *)h + macoff, data, caplen);
	return 0;
}

/* prb_retire_rx_blk_timer_expired */
bool skiff_pkt_ring_tick(struct skiff_pkt_ring *r, uint64_t now)
{
	if (!r->open) {
		if (status_of(blk(r, r->cur)) == TPW_STATUS_KERNEL)
			open_block(r, now); /* frozen, the user caught up: the block opens, nothing to close */
		else
			r->deadline = now + r->tov_ns;
		return false;
	}
	if (now < r->deadline)
		return false;
	if (blk(r, r->cur)->hdr.bh1.num_pkts == 0) {
		r->deadline = now + r->tov_ns; /* an empty block: refresh the timer */
		return false;
	}
	close_block(r, TPW_STATUS_BLK_TMO, now);
	if (!r->open)
		r->deadline = now + r->tov_ns;
	return true;
}

uint64_t skiff_pkt_ring_next(const struct skiff_pkt_ring *r, uint64_t now)
{
	return r->deadline > now ? r->deadline : now + r->tov_ns;
}

bool skiff_pkt_ring_ready(const struct skiff_pkt_ring *r)
{
	uint32_t prev = r->cur ? r->cur - 1 : r->block_nr - 1; /* prb_previous_blk_num */
	return status_of(blk(r, prev)) != TPW_STATUS_KERNEL;
}
