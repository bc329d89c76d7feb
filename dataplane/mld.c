/* mld.c — MLD input and output, the IPv6 group checks, the solicited-node
 * memberships (flow: mld.h). The engines and their group caches are igmp.c's
 * (family SKIFF_AF_INET6); this file only speaks IPv6 for them.
 */
#include "mld.h"

#include <string.h>

#include "igmp.h"
#include "ip6.h"
#include "stack.h"

#define MLD_HBH_LEN 8u  /* Next Header, Hdr Ext Len 0, Router Alert (5, 2, 0, 0), PadN (1, 0) */

static enum skiff_drop_reason drop_of(enum mcast_msg_err e)
{
	switch (e) {
	/* icmp6.c checked the 8-byte header and the checksum and routes only the
	 * four MLD types here: should any fail again, it is ICMPv6's reason */
	case MCAST_ERR_SHORT: return SKIFF_DROP_ICMP6_SHORT;
	case MCAST_ERR_CSUM: return SKIFF_DROP_ICMP6_BAD_CSUM;
	case MCAST_ERR_TYPE: return SKIFF_DROP_ICMP6_INFO_UNKNOWN;
	case MCAST_ERR_HOPLIMIT: return SKIFF_DROP_MLD_BAD_HOPLIMIT;
	case MCAST_ERR_NO_RA: return SKIFF_DROP_MLD_NO_RA;
	case MCAST_ERR_SRC: return SKIFF_DROP_MLD_BAD_SRC;
	case MCAST_ERR_GROUP: return SKIFF_DROP_MLD_BAD_GROUP;
	default: return SKIFF_DROP_MLD_BAD_LEN;
	}
}

void skiff_mld_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		     uint64_t now)
{
	struct skiff_mcast_counters *ctr = skiff_mcast_ctr(st);
	struct ip6_ext_info x;
	struct mcast_msg msg;
	struct mld_ip mi;
	struct mcast_member *m;

	if (ctr)
		ctr->mld_in++;
	if (p->chain) {
		skiff_drop(st, SKIFF_DROP_MLD_FRAGMENTED, p);
		return;
	}
	/* the Router Alert is in the Hop-by-Hop header the IPv6 layer walked:
	 * walk it again from the fixed header (ip6_input kept l3_off there) */
	memset(&x, 0, sizeof(x));
	if (ip6_ext_walk(view_make(p->head + p->l3_off, IP6_HDR_LEN + ip->payload_len), NULL, &x))
		x.router_alert = false;
	mi.src = ip->src.v6;
	mi.dst = ip->dst.v6;
	mi.hop_limit = ip->hop_limit;
	mi.router_alert = x.router_alert;
	if (mld_parse(skiff_pkt_data(p), p->len, &mi, &msg)) {
		skiff_drop(st, drop_of(msg.err), p);
		return;
	}
	/* no reception state on this interface: nothing to answer or suppress
	 * (RFC 3810 6.2: queries are about the host's listening state) */
	m = skiff_mcast_engine(st, SKIFF_AF_INET6, ifc->index, false, NULL);
	if (m) {
		switch (msg.kind) {
		case MCAST_MSG_QUERY:
			ctr->mld_queries_in++;
			(void)mcast_member_input_query(m, &msg.q, now);
			break;
		case MCAST_MSG_REPORT:
			ctr->mld_reports_in++;
			mcast_member_input_report(m, &msg.group, now); /* RFC 2710 4: another listener reported */
			break;
		case MCAST_MSG_LEAVE:
			ctr->mld_dones_in++; /* for routers (RFC 2710 4) */
			break;
		default:
			ctr->mld_v2_reports_in++; /* hosts ignore MLDv2 reports (RFC 3810 6.2 note) */
			break;
		}
		skiff_mcast_refresh(st);
	}
	skiff_pkt_free(p);
}

static bool group_in(const struct skiff_addr *g, unsigned n, const uint8_t *group)
{
	for (unsigned i = 0; i < n; i++)
		if (g[i].family == SKIFF_AF_INET6 && !memcmp(g[i].v6, group, 16))
			return true;
	return false;
}

bool skiff_mld_group_joined(struct skiff_stack *st, int ifindex, const uint8_t group[16])
{
	unsigned n;
	const struct skiff_addr *g = skiff_mcast_cached(st, SKIFF_AF_INET6, ifindex, &n);
	return g && group_in(g, n, group);
}

bool skiff_mld_mac_joined(struct skiff_stack *st, int ifindex, const uint8_t mac[6])
{
	unsigned n;
	const struct skiff_addr *g = skiff_mcast_cached(st, SKIFF_AF_INET6, ifindex, &n);
	if (!g || mac[0] != 0x33 || mac[1] != 0x33)
		return false;
	for (unsigned i = 0; i < n; i++) /* RFC 2464 7: 33:33 + the group's last 32 bits */
		if (g[i].family == SKIFF_AF_INET6 && !memcmp(g[i].v6 + 12, mac + 2, 4))
			return true;
	return false;
}

bool skiff_mld_accepts(struct skiff_stack *st, int ifindex, const uint8_t group[16], const uint8_t src[16])
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	struct mcast_member *m;
	struct skiff_addr g, s;

	if (!memcmp(group, all_nodes, 16)) /* every node listens to ff02::1 (RFC 4291 2.7.1) */
		return skiff_stack_iface(st, ifindex) != NULL;
	m = skiff_mcast_engine(st, SKIFF_AF_INET6, ifindex, false, NULL);
	if (!m)
		return false;
	g = ip6_addr_make(group);
	s = ip6_addr_make(src);
	return mcast_member_accepts(m, &g, &s);
}

/* RFC 3810 5.2.13: a link-local source, or :: while none is usable yet (DAD). */
static void mld_src(const struct skiff_iface *ifc, uint8_t out[16])
{
	memset(out, 0, 16);
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (ip6_is_link_local(ifc->v6[k].addr) && ifc->v6[k].state != SKIFF_ADDR6_TENTATIVE &&
		    ifc->v6[k].state != SKIFF_ADDR6_DUPLICATE) {
			memcpy(out, ifc->v6[k].addr, 16);
			return;
		}
}

void skiff_mld_emit(struct skiff_stack *st, struct skiff_iface *ifc, const struct mcast_out *o, uint64_t now)
{
	struct skiff_mcast_counters *ctr = skiff_mcast_ctr(st);
	struct skiff_route_res6 rt;
	struct ip6_repr ip;
	struct skiff_pkt *p;
	uint8_t *msg, *h;

	if (ifc->caps & SKIFF_IFCAP_KERNEL_MCAST) {
		ctr->mld_silenced++; /* the kernel speaks MLD for this interface */
		return;
	}
	p = skiff_iface_alloc(ifc);
	if (!p || skiff_pkt_tailroom(p) < o->len || skiff_pkt_headroom(p) < IP6_HDR_LEN + MLD_HBH_LEN + 22) {
		if (p)
			skiff_pkt_free(p);
		skiff_count_drop(st, SKIFF_DROP_MLD_NO_BUF);
		return;
	}
	memset(&ip, 0, sizeof(ip));
	ip.version = 6;
	ip.payload_len = (uint16_t)(MLD_HBH_LEN + o->len);
	ip.next_hdr = IP6_NH_HOPOPTS;
	ip.hop_limit = 1; /* RFC 3810 5.2.13, RFC 2710 3 */
	ip.src.family = ip.dst.family = SKIFF_AF_INET6;
	mld_src(ifc, ip.src.v6);
	memcpy(ip.dst.v6, o->dst.v6, 16);

	msg = skiff_pkt_put(p, (uint32_t)o->len);
	memcpy(msg, o->msg, o->len);
	mld_set_csum(msg, o->len, ip.src.v6, ip.dst.v6);
	h = skiff_pkt_push(p, MLD_HBH_LEN);
	h[0] = IP6_NH_ICMP6;
	h[1] = 0;
	h[2] = 5; /* Router Alert (RFC 2711 2.1), value 0: MLD */
	h[3] = 2;
	h[4] = 0;
	h[5] = 0;
	h[6] = 1; /* PadN of 2 bytes */
	h[7] = 0;
	ip6_emit(skiff_pkt_push(p, IP6_HDR_LEN), &ip);

	memset(&rt, 0, sizeof(rt));
	rt.ifindex = ifc->index;
	memcpy(rt.nexthop, ip.dst.v6, 16);
	memcpy(rt.src, ip.src.v6, 16);
	rt.mtu = ifc->mtu;
	ctr->mld_out++;
	st->ctr.icmp6_out++;
	(void)skiff_ip6_output_packet(st, &rt, p, now);
}

void skiff_mld_nd_sync(struct skiff_stack *st, struct skiff_iface *ifc, uint64_t now)
{
	uint8_t want[SKIFF_MAX_IF_ADDRS][16];
	struct skiff_addr have[SKIFF_MAX_IF_ADDRS + 1];
	unsigned nw = 0, n;
	const struct skiff_addr *g;

	if (!st->cfg.mld_join_solicited || ifc->loopback)
		return;
	for (unsigned k = 0; k < ifc->n_v6 && nw < SKIFF_MAX_IF_ADDRS; k++) {
		if (ifc->v6[k].state == SKIFF_ADDR6_DUPLICATE)
			continue;
		ip6_solicited_node(ifc->v6[k].addr, want[nw]);
		nw++;
	}
	/* leave what no address maps to (collected first: leaving changes the cache) */
	n = 0;
	g = skiff_mcast_cached(st, SKIFF_AF_INET6, ifc->index, &n);
	{
		unsigned nh = 0;
		for (unsigned i = 0; g && i < n && nh < SKIFF_MAX_IF_ADDRS + 1; i++) {
			bool wanted = false;
			if (!ip6_is_solicited_node(g[i].v6) ||
			    !skiff_mcast_owner_has(st, ifc->index, SKIFF_MLD_OWNER_ND, &g[i]))
				continue;
			for (unsigned k = 0; k < nw && !wanted; k++)
				wanted = !memcmp(want[k], g[i].v6, 16);
			if (!wanted)
				have[nh++] = g[i];
		}
		for (unsigned i = 0; i < nh; i++)
			(void)skiff_mcast_leave(st, ifc->index, SKIFF_MLD_OWNER_ND, &have[i], now);
	}
	for (unsigned k = 0; k < nw; k++) {
		struct skiff_addr a = ip6_addr_make(want[k]);
		if (!skiff_mcast_owner_has(st, ifc->index, SKIFF_MLD_OWNER_ND, &a))
			(void)skiff_mcast_join(st, ifc->index, SKIFF_MLD_OWNER_ND, &a, now);
	}
}
