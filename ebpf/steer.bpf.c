// SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0
/* steer.bpf.c — XDP program that hands skiff's frames to its AF_XDP sockets.
 *
 * Flow: Ethernet (optional one 802.1Q / 802.1ad tag) → a registered multicast
 * MAC? → by ethertype:
 *   IPv4  destination in ip4_addrs (IGMP never: the kernel
 *         keeps every IGMP message, drivers/mcast_kernel.h)  → MATCH_IP4
 *   ARP   (Ethernet/IPv4) target protocol address in ip4_addrs, request or
 *         reply                                           → MATCH_ARP
 *   IPv6  MLD (Hop-by-Hop, then ICMPv6 130-132/143) never: the kernel
 *         keeps every MLD message, drivers/mcast_kernel.h;
 *         destination in ip6_addrs                        → MATCH_IP6
 *         else ICMPv6 NS/NA (next header 58, no extension headers) whose
 *         target is in ip6_addrs (an NS goes to the solicited-node group)
 *                                                         → MATCH_ND
 * A match is redirected to the XSK of the receiving queue; when that queue has
 * no socket bpf_redirect_map() returns XDP_PASS (counted NO_XSK). Everything
 * else is XDP_PASS: the kernel keeps its own traffic (SSH, the host's
 * addresses). Truncated headers count PARSE_ERROR and are passed too, so the
 * kernel's own input path judges them. Each read is checked against data_end
 * through a cursor (xdp-tutorial parsing_helpers style).
 *
 * Loaded through libxdp (drivers/xdp_steer.c): the run config below puts it at
 * priority 20 (before the default 50, after firewalls such as xdp-filter at 10)
 * and lets the dispatcher go on to the next program when it returns XDP_PASS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "steer_maps.h"

#define ARPHRD_ETHER_ 1
#define ICMPV6_NS 135
#define ICMPV6_NA 136
#define MLD_QUERY_ 130  /* MLD query, v1 report (131), v1 done (132): RFC 2710 3 */
#define MLD_DONE_ 132
#define MLD2_REPORT_ 143 /* RFC 3810 5.2 */

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* ARP for Ethernet/IPv4 (RFC 826): the addresses sit at odd offsets. */
struct arp_eth {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

/* ICMPv6 neighbour solicitation / advertisement (RFC 4861 4.3, 4.4). */
struct nd_msg {
	__u8 type;
	__u8 code;
	__be16 csum;
	__be32 flags;
	__u8 target[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SKIFF_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_STEER_MAX_IP4);
	__type(key, __u32);
	__type(value, __u32);
} ip4_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_STEER_MAX_IP6);
	__type(key, struct skiff_steer_ip6);
	__type(value, __u32);
} ip6_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_STEER_MAX_MAC);
	__type(key, struct skiff_steer_mac);
	__type(value, __u32);
} mac_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKIFF_STEER_NCOUNTERS);
	__type(key, __u32);
	__type(value, struct skiff_steer_count);
} counters SEC(".maps");

/* libxdp run config: priority, and continue the chain on XDP_PASS. */
struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(skiff_steer);

struct cursor {
	void *pos;
	void *end;
};

/* Returns the header at the cursor and advances past it, or NULL when short. */
static __always_inline void *pull(struct cursor *c, __u32 len)
{
	void *h = c->pos;
	if (h + len > c->end)
		return NULL;
	c->pos = h + len;
	return h;
}

static __always_inline void count(__u32 idx, __u64 bytes)
{
	struct skiff_steer_count *c = bpf_map_lookup_elem(&counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int verdict_pass(__u32 why, __u64 bytes)
{
	count(why, bytes);
	return XDP_PASS;
}

static __always_inline int verdict_steer(struct xdp_md *ctx, __u32 match, __u64 bytes)
{
	int act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	count(match, bytes);
	count(act == XDP_REDIRECT ? SKIFF_STEER_REDIRECTED : SKIFF_STEER_NO_XSK, bytes);
	return act;
}

static __always_inline int ip4_is_ours(const __u8 *addr4)
{
	__u32 key;
	__builtin_memcpy(&key, addr4, sizeof(key));
	return bpf_map_lookup_elem(&ip4_addrs, &key) != NULL;
}

static __always_inline int ip6_is_ours(const __u8 *addr16)
{
	struct skiff_steer_ip6 key;
	__builtin_memcpy(key.addr, addr16, sizeof(key.addr));
	return bpf_map_lookup_elem(&ip6_addrs, &key) != NULL;
}

static __always_inline int mac_is_ours(const __u8 *mac)
{
	struct skiff_steer_mac key = {};
	if (!(mac[0] & 1))
		return 0; /* only multicast groups are registered */
	__builtin_memcpy(key.addr, mac, sizeof(key.addr));
	return bpf_map_lookup_elem(&mac_addrs, &key) != NULL;
}

/* Returns the SKIFF_STEER_MATCH_* reason, SKIFF_STEER_PASSED or SKIFF_STEER_PARSE_ERROR. */
static __always_inline __u32 classify_ip4(struct cursor *c)
{
	struct iphdr *ip = pull(c, sizeof(*ip));
	if (!ip || ip->version != 4 || ip->ihl < 5)
		return SKIFF_STEER_PARSE_ERROR;
	if (ip->protocol == IPPROTO_IGMP)
		return SKIFF_STEER_PASSED; /* the kernel answers IGMP, for skiff's groups too (drivers/mcast_kernel.h) */
	return ip4_is_ours((const __u8 *)&ip->daddr) ? SKIFF_STEER_MATCH_IP4 : SKIFF_STEER_PASSED;
}

static __always_inline __u32 classify_arp(struct cursor *c)
{
	struct arp_eth *arp = pull(c, sizeof(*arp));
	if (!arp)
		return SKIFF_STEER_PARSE_ERROR;
	if (arp->htype != bpf_htons(ARPHRD_ETHER_) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != 6 || arp->plen != 4)
		return SKIFF_STEER_PASSED; /* not Ethernet/IPv4 ARP: not ours */
	return ip4_is_ours(arp->tpa) ? SKIFF_STEER_MATCH_ARP : SKIFF_STEER_PASSED;
}

static __always_inline __u32 classify_ip6(struct cursor *c)
{
	struct ipv6hdr *ip6 = pull(c, sizeof(*ip6));
	struct nd_msg *nd;
	if (!ip6 || ip6->version != 6)
		return SKIFF_STEER_PARSE_ERROR;
	if (ip6->nexthdr == IPPROTO_HOPOPTS) {
		/* MLD (RFC 3810 5: a Hop-by-Hop header with Router Alert, then ICMPv6
		 * 130-132 / 143) stays with the kernel, which speaks MLD for skiff's
		 * groups too (drivers/mcast_kernel.h), whatever group it is sent to */
		__u8 *hbh = pull(c, 8);
		__u8 *icmp;
		if (hbh && hbh[0] == IPPROTO_ICMPV6 && hbh[1] == 0 && (icmp = pull(c, 1)) &&
		    ((*icmp >= MLD_QUERY_ && *icmp <= MLD_DONE_) || *icmp == MLD2_REPORT_))
			return SKIFF_STEER_PASSED;
	}
	if (ip6_is_ours(ip6->daddr.in6_u.u6_addr8))
		return SKIFF_STEER_MATCH_IP6;
	if (ip6->nexthdr != IPPROTO_ICMPV6)
		return SKIFF_STEER_PASSED;
	nd = pull(c, sizeof(*nd));
	if (!nd)
		return SKIFF_STEER_PASSED; /* other, shorter ICMPv6: the kernel's */
	if (nd->type != ICMPV6_NS && nd->type != ICMPV6_NA)
		return SKIFF_STEER_PASSED;
	return ip6_is_ours(nd->target) ? SKIFF_STEER_MATCH_ND : SKIFF_STEER_PASSED;
}

SEC("xdp")
int skiff_steer(struct xdp_md *ctx)
{
	struct cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end };
	__u64 bytes = (__u64)(c.end - c.pos);
	struct ethhdr *eth = pull(&c, sizeof(*eth));
	__be16 proto;
	__u32 why;

	if (!eth)
		return verdict_pass(SKIFF_STEER_PARSE_ERROR, bytes);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = pull(&c, sizeof(*tag));
		if (!tag)
			return verdict_pass(SKIFF_STEER_PARSE_ERROR, bytes);
		proto = tag->proto;
	}
	if (mac_is_ours(eth->h_dest))
		return verdict_steer(ctx, SKIFF_STEER_MATCH_MAC, bytes);

	if (proto == bpf_htons(ETH_P_IP))
		why = classify_ip4(&c);
	else if (proto == bpf_htons(ETH_P_ARP))
		why = classify_arp(&c);
	else if (proto == bpf_htons(ETH_P_IPV6))
		why = classify_ip6(&c);
	else
		why = SKIFF_STEER_PASSED;

	if (why == SKIFF_STEER_PASSED || why == SKIFF_STEER_PARSE_ERROR)
		return verdict_pass(why, bytes);
	return verdict_steer(ctx, why, bytes);
}

char _license[] SEC("license") = "Dual BSD/GPL";
