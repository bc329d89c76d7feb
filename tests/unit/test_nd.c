/* test_nd.c — ICMPv6 messages (wire_icmp6.h, icmp6_msg.c) and Neighbour
 * Discovery messages (nd_msg.c): the header and its pseudo-header checksum, echo
 * parse/build (a reply built over its request), error parse/build with the quote
 * cut at the 1280-byte minimum MTU and at the caller's space, the RFC 4443 2.4 (e)
 * table (every row, then every combination against the rule as the RFC words
 * it), the errno map, the 2.4 (f) token bucket (bursts, refill, exactness, odd
 * clocks); RS/RA/NS/NA/Redirect parsed from scapy's bytes and built back to the
 * same bytes, each validity check of RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2 and 8.1
 * refused on its own, the options (unknown, repeated, unused by the type, bad
 * lengths), Prefix Information judged per option (RFC 4862 5.5.3), the modified
 * EUI-64 link-local address; a sweep that checks every ICMP6_FAIL_* reason was
 * reached; and 100k seeded random inputs through every parser and builder, each
 * in a heap buffer of its exact size so ASan sees any access past it.
 *
 * The v_* vectors were made by scapy with the expression in each comment;
 * LOCAL 2001:2::1 (MAC 02:00:00:00:00:01, link-local fe80::ff:fe00:1), PEER
 * 2001:2::2 (02:00:00:00:00:02), a router RTR_LL fe80::fe (02:00:00:00:00:fe).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/icmp6_msg.h"
#include "dataplane/nd_msg.h"
#include "dataplane/view.h"
#include "dataplane/wire_icmp6.h"
#include "dataplane/wire_ip6.h"

static const uint8_t LOCAL[16] = { 0x20, 0x01, 0, 0x02, [15] = 0x01 };
static const uint8_t PEER[16] = { 0x20, 0x01, 0, 0x02, [15] = 0x02 };
static const uint8_t LOCAL_LL[16] = { 0xfe, 0x80, [11] = 0xff, 0xfe, 0, 0, 0x01 };
static const uint8_t RTR_LL[16] = { 0xfe, 0x80, [15] = 0xfe };
static const uint8_t SN_LOCAL[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0, 0, 0x01 };
static const uint8_t ALL_NODES[16] = IP6_ADDR_ALL_NODES;
static const uint8_t ALL_ROUTERS[16] = IP6_ADDR_ALL_ROUTERS;
static const uint8_t UNSPEC[16] = { 0 };
static const uint8_t LOCAL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t RTR_MAC[6] = { 0x02, 0, 0, 0, 0, 0xfe };

/* ---- scapy vectors ---- */

/* echo_req: IPv6(src=PEER, dst=LOCAL, hlim=64)/ICMPv6EchoRequest(id=0x1234, seq=7, data=b"skiff ping") */
static const uint8_t v_echo_req[58] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x12, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x0b, 0xac, 0x12, 0x34, 0x00, 0x07,
	0x73, 0x6b, 0x69, 0x66, 0x66, 0x20, 0x70, 0x69, 0x6e, 0x67,
};

/* echo_rep: IPv6(src=LOCAL, dst=PEER, hlim=64)/ICMPv6EchoReply(id=0x1234, seq=7, data=b"skiff ping") */
static const uint8_t v_echo_rep[58] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x12, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x81, 0x00, 0x0a, 0xac, 0x12, 0x34, 0x00, 0x07,
	0x73, 0x6b, 0x69, 0x66, 0x66, 0x20, 0x70, 0x69, 0x6e, 0x67,
};

/* du_port: IPv6(src=LOCAL, dst=PEER, hlim=64)/ICMPv6DestUnreach(code=4)/udp6  (udp6 = test_ip6_wire.c's v6_udp6 without its tc/fl) */
static const uint8_t v_du_port[101] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x01, 0x04, 0x4d, 0x4c, 0x00, 0x00, 0x00, 0x00,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x58, 0xd1,
	0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* te_hlim: IPv6(src=LOCAL, dst=PEER, hlim=64)/ICMPv6TimeExceeded(code=0)/udp6 */
static const uint8_t v_te_hlim[101] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x4b, 0x50, 0x00, 0x00, 0x00, 0x00,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x58, 0xd1,
	0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* pp_opt: IPv6(src=LOCAL, dst=PEER, hlim=64)/ICMPv6ParamProblem(code=2, ptr=42)/(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9e, optdata=b"ab")])/UDP(sport=4000, dport=5000)/b"x") */
static const uint8_t v_pp_opt[105] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x41, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x04, 0x02, 0x0d, 0xb3, 0x00, 0x00, 0x00, 0x2a,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x11, 0x3c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x9e, 0x02, 0x61, 0x62, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x09, 0x24, 0xab, 0x78,
};

/* ptb_head: the first 48 bytes of IPv6(src=LOCAL, dst=PEER, hlim=64)/ICMPv6PacketTooBig(mtu=1280)/Raw(bytes(big)[:1232]), big = IPv6(src=PEER, dst=LOCAL, nh=17, hlim=64)/Raw(bytes((i*7)&0xff for i in range(1360))) */
static const uint8_t v_ptb_head[48] = {
	0x60, 0x00, 0x00, 0x00, 0x04, 0xd8, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x30, 0x34, 0x00, 0x00, 0x05, 0x00,
};

/* ns_mcast: IPv6(src=PEER, dst="ff02::1:ff00:1", hlim=255)/ICMPv6ND_NS(tgt=LOCAL)/ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC) */
static const uint8_t v_ns_mcast[72] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0x37, 0x93, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};

/* ns_ucast: IPv6(src=PEER, dst=LOCAL, hlim=255)/ICMPv6ND_NS(tgt=LOCAL) */
static const uint8_t v_ns_ucast[64] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x87, 0x00, 0x18, 0xa0, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01,
};

/* ns_dad: IPv6(src="::", dst="ff02::1:ff00:1", hlim=255)/ICMPv6ND_NS(tgt=LOCAL) */
static const uint8_t v_ns_dad[64] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0x5a, 0xa3, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01,
};

/* na_sol: IPv6(src=LOCAL, dst=PEER, hlim=255)/ICMPv6ND_NA(R=0, S=1, O=1, tgt=LOCAL)/ICMPv6NDOptDstLLAddr(lladdr=LOCAL_MAC) */
static const uint8_t v_na_sol[72] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x88, 0x00, 0xb3, 0x95, 0x60, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* na_unsol: IPv6(src=LOCAL, dst="ff02::1", hlim=255)/ICMPv6ND_NA(R=1, S=0, O=1, tgt=LOCAL)/ICMPv6NDOptDstLLAddr(lladdr=LOCAL_MAC) */
static const uint8_t v_na_unsol[72] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x94, 0x96, 0xa0, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* na_bare: IPv6(src=LOCAL, dst=PEER, hlim=255)/ICMPv6ND_NA(R=0, S=1, O=0, tgt=LOCAL) */
static const uint8_t v_na_bare[64] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x88, 0x00, 0xd7, 0x9f, 0x40, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01,
};

/* rs: IPv6(src=LOCAL_LL, dst="ff02::2", hlim=255)/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr=LOCAL_MAC) */
static const uint8_t v_rs[56] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7b, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* rs_unspec: IPv6(src="::", dst="ff02::2", hlim=255)/ICMPv6ND_RS() */
static const uint8_t v_rs_unspec[48] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7b, 0xb8, 0x00, 0x00, 0x00, 0x00,
};

/* ra: IPv6(src=RTR_LL, dst="ff02::1", hlim=255)/ICMPv6ND_RA(chlim=64, M=0, O=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000)/ICMPv6NDOptSrcLLAddr(lladdr=RTR_MAC)/ICMPv6NDOptMTU(mtu=1500)/ICMPv6NDOptPrefixInfo(prefix="2001:2::", prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400)/ICMPv6NDOptRDNSS(dns=["2001:2::53"], lifetime=600)/ICMPv6NDOptPrefixInfo(prefix="2001:2:0:100::", prefixlen=56, L=1, A=0, validlifetime=0xffffffff, preferredlifetime=0xffffffff) */
static const uint8_t v_ra[160] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x78, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x86, 0x00, 0x25, 0xc4, 0x40, 0x48, 0x07, 0x08,
	0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x01, 0x02, 0x00,
	0x00, 0x00, 0x00, 0xfe, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
	0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x58, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0x03, 0x04, 0x38, 0x80,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

/* redirect: IPv6(src=RTR_LL, dst=LOCAL, hlim=255)/ICMPv6ND_Redirect(tgt="fe80::fd", dst="2001:2:0:9::1")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:fd")/ICMPv6NDOptRedirectedHdr(pkt=IPv6(src=LOCAL, dst="2001:2:0:9::1")/UDP(sport=4000, dport=5000)/b"redirect") */
static const uint8_t v_redirect[152] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x70, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x89, 0x00, 0xbd, 0x11, 0x00, 0x00, 0x00, 0x00,
	0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0xfd, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00,
	0x00, 0x00, 0x00, 0xfd, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x10, 0xef, 0xec,
	0x72, 0x65, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74,
};

/* ---- helpers ---- */

/* Every failure some test produced; the last test checks they all were. */
static bool hit[ICMP6_FAIL_MAX];

/* got points at the parser's fail field: read after the call, whatever order the
 * arguments are evaluated in. */
static void expect_fail(int rc, const enum icmp6_fail *got, enum icmp6_fail want)
{
	if (rc != -EBADMSG || *got != want)
		fail_msg("rc %d fail %s, want -EBADMSG %s", rc, icmp6_fail_name(*got), icmp6_fail_name(want));
	hit[want] = true;
}

static void expect_ok(int rc, const enum icmp6_fail *got)
{
	if (rc != 0 || *got != ICMP6_FAIL_NONE)
		fail_msg("rc %d fail %s, want success", rc, icmp6_fail_name(*got));
}

/* The IPv6 packet p (no extension headers) through ip6_parse, then its payload
 * through nd_parse. */
static int ndp_flags(const uint8_t *p, size_t len, unsigned flags, struct nd_msg *m)
{
	struct view v = view_make(p, len);
	struct ip6_repr ip;
	assert_int_equal(ip6_parse(&v, &ip), 0);
	return nd_parse(&ip, v, flags, m);
}

static int ndp(const uint8_t *p, size_t len, struct nd_msg *m) { return ndp_flags(p, len, 0, m); }

/* The ICMPv6 message of a packet without extension headers. */
static struct view msg_of(const uint8_t *p, size_t len)
{
	assert_true(len >= IP6_HDR_LEN);
	return view_make(p + IP6_HDR_LEN, len - IP6_HDR_LEN);
}

static struct ip6_repr ip_of(const uint8_t *src, const uint8_t *dst, uint8_t hlim)
{
	struct ip6_repr r;
	memset(&r, 0, sizeof(r));
	r.src = ip6_addr_make(src);
	r.dst = ip6_addr_make(dst);
	r.hop_limit = hlim;
	return r;
}

/* A packet to change: a copy of a vector, then fields, options, length. */
struct pk {
	uint8_t b[2048];
	size_t len;
};

static void pk_from(struct pk *k, const uint8_t *v, size_t n)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->b, v, n);
	k->len = n;
}

static uint8_t *pk_msg(struct pk *k) { return k->b + IP6_HDR_LEN; }
static void pk_src(struct pk *k, const uint8_t *a) { memcpy(k->b + 8, a, 16); }
static void pk_dst(struct pk *k, const uint8_t *a) { memcpy(k->b + 24, a, 16); }

/* Append n raw bytes. */
static uint8_t *pk_raw(struct pk *k, const void *d, size_t n)
{
	uint8_t *at = k->b + k->len;
	assert_true(k->len + n <= sizeof(k->b));
	if (d)
		memcpy(at, d, n);
	else
		memset(at, 0, n);
	k->len += n;
	return at;
}

/* Append an option of `units` 8-byte units, body zero; returns the option. */
static uint8_t *pk_opt(struct pk *k, uint8_t type, uint8_t units)
{
	uint8_t *o = pk_raw(k, NULL, (size_t)units * 8);
	o[0] = type;
	o[1] = units;
	return o;
}

/* Payload length and checksum from the bytes as they are now. */
static void pk_fix(struct pk *k)
{
	st16(k->b + 4, (uint16_t)(k->len - IP6_HDR_LEN));
	icmp6_csum_fill(k->b + 8, k->b + 24, pk_msg(k), k->len - IP6_HDR_LEN);
}

static void pk_cut(struct pk *k, size_t mlen)
{
	k->len = IP6_HDR_LEN + mlen;
	pk_fix(k);
}

static void pk_refused(struct pk *k, enum icmp6_fail want)
{
	struct nd_msg m;
	expect_fail(ndp(k->b, k->len, &m), &m.fail, want);
}

static void pk_accepted(struct pk *k, struct nd_msg *m)
{
	expect_ok(ndp(k->b, k->len, m), &m->fail);
}

struct vec {
	const char *name;
	const uint8_t *b;
	size_t len;
};
#define VEC(n) { #n, v_##n, sizeof(v_##n) }

static const struct vec nd_vecs[] = {
	VEC(ns_mcast), VEC(ns_ucast), VEC(ns_dad), VEC(na_sol), VEC(na_unsol), VEC(na_bare),
	VEC(rs), VEC(rs_unspec), VEC(ra), VEC(redirect),
};
#define N_ND_VECS (sizeof(nd_vecs) / sizeof(nd_vecs[0]))

/* ---- the ICMPv6 header and checksum ---- */

static void test_header_and_csum(void **state)
{
	static const struct vec all[] = {
		VEC(echo_req), VEC(echo_rep), VEC(du_port), VEC(te_hlim), VEC(pp_opt), VEC(ns_mcast),
		VEC(ns_ucast), VEC(ns_dad), VEC(na_sol), VEC(na_unsol), VEC(na_bare), VEC(rs),
		VEC(rs_unspec), VEC(ra), VEC(redirect),
	};
	struct icmp6_repr h;
	struct view v;
	(void)state;

	for (size_t n = 0; n < ICMP6_HDR_LEN; n++) {
		v = view_make(v_echo_req + IP6_HDR_LEN, n);
		assert_int_equal(icmp6_parse(&v, &h), -EBADMSG);
		assert_int_equal(v.len, n);
	}
	v = msg_of(v_echo_req, sizeof(v_echo_req));
	assert_int_equal(icmp6_parse(&v, &h), 0);
	assert_int_equal(h.type, ICMP6_ECHO_REQUEST);
	assert_int_equal(h.code, 0);
	assert_int_equal(h.csum, ld16(v_echo_req + 42));
	assert_int_equal(h.rest, 0x12340007u);
	assert_int_equal(v.len, 10);
	{
		uint8_t out[ICMP6_HDR_LEN];
		icmp6_emit(out, &h);
		assert_memory_equal(out, v_echo_req + IP6_HDR_LEN, ICMP6_HDR_LEN);
	}
	assert_true(icmp6_is_error(0));
	assert_true(icmp6_is_error(ICMP6_PARAM_PROBLEM));
	assert_true(icmp6_is_error(127));
	assert_false(icmp6_is_error(128));
	assert_false(icmp6_is_error(ICMP6_ND_REDIRECT));
	assert_false(icmp6_is_error(255));

	/* every scapy checksum verifies, is recomputed to the same value, and any
	 * changed byte of the message or of either address breaks it */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct pk k;
		const uint8_t *s = all[i].b + 8, *d = all[i].b + 24;
		size_t mlen = all[i].len - IP6_HDR_LEN;
		assert_int_equal(ld16(all[i].b + 4), mlen);
		assert_int_equal(all[i].b[6], IP6_NH_ICMP6);
		if (!icmp6_csum_ok(s, d, all[i].b + IP6_HDR_LEN, mlen))
			fail_msg("%s: scapy checksum does not verify", all[i].name);
		pk_from(&k, all[i].b, all[i].len);
		st16(pk_msg(&k) + 2, 0xdead);
		icmp6_csum_fill(k.b + 8, k.b + 24, pk_msg(&k), mlen);
		assert_memory_equal(k.b, all[i].b, all[i].len);
		for (size_t j = 8; j < all[i].len; j += 7) {
			k.b[j] ^= 0x10;
			assert_false(icmp6_csum_ok(k.b + 8, k.b + 24, pk_msg(&k), mlen));
			k.b[j] ^= 0x10;
		}
		assert_true(icmp6_csum_ok(k.b + 8, k.b + 24, pk_msg(&k), mlen));
	}
	{
		/* the length is in the pseudo-header: a message one byte shorter with a
		 * zero last byte sums the same, its pseudo-header does not */
		uint8_t m[10] = { ICMP6_ECHO_REQUEST, 0, 0, 0, 1, 2, 3, 4, 5, 0 };
		icmp6_csum_fill(PEER, LOCAL, m, sizeof(m));
		assert_true(icmp6_csum_ok(PEER, LOCAL, m, sizeof(m)));
		assert_false(icmp6_csum_ok(PEER, LOCAL, m, sizeof(m) - 1));
		assert_false(icmp6_csum_ok(PEER, LOCAL, m, 3)); /* no checksum field at all */
	}
}

/* ---- echo ---- */

static void test_echo(void **state)
{
	struct icmp6_echo e;
	struct ip6_repr ip = ip_of(LOCAL, PEER, 64);
	uint8_t out[128];
	(void)state;

	expect_ok(icmp6_echo_parse(msg_of(v_echo_req, sizeof(v_echo_req)), &e), &e.fail);
	assert_int_equal(e.type, ICMP6_ECHO_REQUEST);
	assert_int_equal(e.code, 0);
	assert_int_equal(e.id, 0x1234);
	assert_int_equal(e.seq, 7);
	assert_int_equal(e.data.len, 10);
	assert_memory_equal(e.data.p, "skiff ping", 10);
	assert_ptr_equal(e.data.p, v_echo_req + IP6_HDR_LEN + ICMP6_HDR_LEN);

	/* the reply: scapy's bytes exactly */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ECHO_REPLY, e.id, e.seq, e.data.p, e.data.len),
			 sizeof(v_echo_rep));
	assert_memory_equal(out, v_echo_rep, sizeof(v_echo_rep));
	assert_int_equal(out[sizeof(v_echo_rep)], 0xee);
	expect_ok(icmp6_echo_parse(msg_of(out, sizeof(v_echo_rep)), &e), &e.fail);
	assert_int_equal(e.type, ICMP6_ECHO_REPLY);

	/* ... and built over the request it answers, data in place */
	memcpy(out, v_echo_req, sizeof(v_echo_req));
	expect_ok(icmp6_echo_parse(msg_of(out, sizeof(v_echo_req)), &e), &e.fail);
	assert_int_equal(icmp6_echo_build(out, sizeof(v_echo_req), &ip, ICMP6_ECHO_REPLY, e.id, e.seq, e.data.p,
					  e.data.len),
			 sizeof(v_echo_rep));
	assert_memory_equal(out, v_echo_rep, sizeof(v_echo_rep));

	/* the request from its parts, scapy's bytes; with data overlapping anywhere */
	ip = ip_of(PEER, LOCAL, 64);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ECHO_REQUEST, 0x1234, 7, "skiff ping", 10),
			 sizeof(v_echo_req));
	assert_memory_equal(out, v_echo_req, sizeof(v_echo_req));
	memcpy(out, "skiff ping", 10);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ECHO_REQUEST, 0x1234, 7, out, 10),
			 sizeof(v_echo_req));
	assert_memory_equal(out, v_echo_req, sizeof(v_echo_req));
	memcpy(out + 60, "skiff ping", 10);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ECHO_REQUEST, 0x1234, 7, out + 60, 10),
			 sizeof(v_echo_req));
	assert_memory_equal(out, v_echo_req, sizeof(v_echo_req));

	/* no data; the tclass/flow of the caller's header kept, its next header and
	 * payload length replaced */
	ip.tclass = 0xb8;
	ip.flow = 0x12345;
	ip.next_hdr = IP6_NH_UDP;
	ip.payload_len = 999;
	assert_int_equal(icmp6_echo_build(out, 48, &ip, ICMP6_ECHO_REQUEST, 1, 2, NULL, 0), 48);
	{
		struct view v = view_make(out, 48);
		struct ip6_repr r;
		assert_int_equal(ip6_parse(&v, &r), 0);
		assert_int_equal(r.tclass, 0xb8);
		assert_int_equal(r.flow, 0x12345);
		assert_int_equal(r.next_hdr, IP6_NH_ICMP6);
		assert_int_equal(r.payload_len, 8);
		assert_true(icmp6_csum_ok(r.src.v6, r.dst.v6, v.p, v.len));
		expect_ok(icmp6_echo_parse(v, &e), &e.fail);
		assert_int_equal(e.id, 1);
		assert_int_equal(e.seq, 2);
		assert_int_equal(e.data.len, 0);
	}

	/* refusals */
	for (size_t n = 0; n < ICMP6_HDR_LEN; n++)
		expect_fail(icmp6_echo_parse(view_make(v_echo_req + IP6_HDR_LEN, n), &e), &e.fail, ICMP6_FAIL_SHORT);
	expect_fail(icmp6_echo_parse(msg_of(v_du_port, sizeof(v_du_port)), &e), &e.fail, ICMP6_FAIL_NOT_ECHO);
	expect_fail(icmp6_echo_parse(msg_of(v_ns_mcast, sizeof(v_ns_mcast)), &e), &e.fail, ICMP6_FAIL_NOT_ECHO);
	assert_int_equal(icmp6_echo_build(out, sizeof(v_echo_req) - 1, &ip, ICMP6_ECHO_REQUEST, 0, 0, "skiff ping", 10),
			 -ENOSPC);
	assert_int_equal(icmp6_echo_build(out, 47, &ip, ICMP6_ECHO_REQUEST, 0, 0, NULL, 0), -ENOSPC);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_DST_UNREACH, 0, 0, NULL, 0), -EINVAL);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ND_NS, 0, 0, NULL, 0), -EINVAL);
	assert_int_equal(icmp6_echo_build(out, sizeof(out), &ip, ICMP6_ECHO_REQUEST, 0, 0, out, 65536 - 8), -EMSGSIZE);
	{
		/* the largest echo: 65535 bytes of payload */
		size_t cap = IP6_HDR_LEN + 65535;
		uint8_t *big = malloc(cap);
		assert_non_null(big);
		memset(big, 0x5a, cap);
		assert_int_equal(icmp6_echo_build(big, cap, &ip, ICMP6_ECHO_REQUEST, 9, 9, big + 30, 65535 - 8), (int)cap);
		assert_int_equal(ld16(big + 4), 65535);
		assert_true(icmp6_csum_ok(big + 8, big + 24, big + IP6_HDR_LEN, 65535));
		free(big);
	}
}

/* ---- errors ---- */

/* The packet Packet Too Big is about: scapy's `big`. */
static void make_big(uint8_t *b)
{
	struct ip6_repr r = ip_of(PEER, LOCAL, 64);
	r.next_hdr = IP6_NH_UDP;
	r.payload_len = 1360;
	ip6_emit(b, &r);
	for (int i = 0; i < 1360; i++)
		b[IP6_HDR_LEN + i] = (uint8_t)(i * 7);
}

static void test_error_build_vectors(void **state)
{
	struct ip6_repr ip = ip_of(LOCAL, PEER, 64);
	const uint8_t *udp6 = v_du_port + 48; /* the quoted packets are whole in these vectors */
	const size_t udp6_len = sizeof(v_du_port) - 48;
	const uint8_t *optpkt = v_pp_opt + 48;
	const size_t optpkt_len = sizeof(v_pp_opt) - 48;
	uint8_t out[1400], big[1400];
	(void)state;

	/* Destination Unreachable, port: the unused field zero whatever param says */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(icmp6_error_build(out, sizeof(out), &ip, ICMP6_DST_UNREACH, ICMP6_DU_PORT, 0xdeadbeef, udp6,
					   udp6_len),
			 sizeof(v_du_port));
	assert_memory_equal(out, v_du_port, sizeof(v_du_port));
	assert_int_equal(out[sizeof(v_du_port)], 0xee);
	/* Time Exceeded, hop limit */
	assert_int_equal(icmp6_error_build(out, sizeof(out), &ip, ICMP6_TIME_EXCEEDED, ICMP6_TE_HOP_LIMIT, 7, udp6,
					   udp6_len),
			 sizeof(v_te_hlim));
	assert_memory_equal(out, v_te_hlim, sizeof(v_te_hlim));
	/* Parameter Problem code 2, pointer 42: the option type of test_ip6_wire's opt_icmp */
	assert_int_equal(icmp6_error_build(out, sizeof(out), &ip, ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, 42, optpkt,
					   optpkt_len),
			 sizeof(v_pp_opt));
	assert_memory_equal(out, v_pp_opt, sizeof(v_pp_opt));
	/* Packet Too Big: 1400 bytes quoted as their first 1232, the error exactly 1280 */
	make_big(big);
	assert_int_equal(icmp6_error_build(out, sizeof(out), &ip, ICMP6_PKT_TOO_BIG, 0, 1280, big, 1400), IP6_MIN_MTU);
	assert_memory_equal(out, v_ptb_head, sizeof(v_ptb_head));
	assert_memory_equal(out + 48, big, ICMP6_ERR_QUOTE_MAX);
	assert_true(icmp6_csum_ok(LOCAL, PEER, out + IP6_HDR_LEN, IP6_MIN_MTU - IP6_HDR_LEN));
}

static void test_error_quote_limits(void **state)
{
	struct ip6_repr ip = ip_of(LOCAL, PEER, 64);
	uint8_t big[1400], *out;
	(void)state;
	make_big(big);
	out = malloc(1400);
	assert_non_null(out);

	/* the quote: all of a small packet; at most 1232 bytes; at most what cap leaves */
	for (size_t olen = 0; olen <= 1400; olen += (olen < 60 || (olen > 1220 && olen < 1240)) ? 1 : 37) {
		size_t want = olen < ICMP6_ERR_QUOTE_MAX ? olen : ICMP6_ERR_QUOTE_MAX;
		int n = icmp6_error_build(out, 1400, &ip, ICMP6_DST_UNREACH, ICMP6_DU_ADDR, 0, big, olen);
		assert_int_equal(n, 48 + want);
		assert_int_equal(ld16(out + 4), 8 + want);
		assert_memory_equal(out + 48, big, want);
		assert_true(icmp6_csum_ok(LOCAL, PEER, out + IP6_HDR_LEN, 8 + want));
	}
	for (size_t cap = 48; cap <= 1400; cap += cap < 60 ? 1 : 101) {
		size_t want = cap - 48 < ICMP6_ERR_QUOTE_MAX ? cap - 48 : ICMP6_ERR_QUOTE_MAX;
		uint8_t *o = malloc(cap); /* exact size: ASan sees any write past cap */
		assert_non_null(o);
		assert_int_equal(icmp6_error_build(o, cap, &ip, ICMP6_PKT_TOO_BIG, 0, 1500, big, 1400), 48 + want);
		assert_int_equal(ld32(o + 44), 1500);
		assert_memory_equal(o + 48, big, want);
		assert_true(icmp6_csum_ok(LOCAL, PEER, o + IP6_HDR_LEN, 8 + want));
		free(o);
	}
	assert_int_equal(icmp6_error_build(out, 47, &ip, ICMP6_DST_UNREACH, 0, 0, big, 100), -ENOSPC);
	assert_int_equal(icmp6_error_build(out, 1400, &ip, ICMP6_ECHO_REQUEST, 0, 0, big, 100), -EINVAL);
	assert_int_equal(icmp6_error_build(out, 1400, &ip, 128, 0, 0, big, 100), -EINVAL);
	/* an error type this stack does not name: param written as given */
	assert_int_equal(icmp6_error_build(out, 1400, &ip, 100, 3, 0x01020304, big, 60), 108);
	assert_int_equal(ld32(out + 44), 0x01020304);

	/* built over the offending packet itself (orig at pkt, and at pkt + 48) */
	memcpy(out, big, 1400);
	assert_int_equal(icmp6_error_build(out, 1400, &ip, ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, 4, out, 1400),
			 IP6_MIN_MTU);
	assert_memory_equal(out + 48, big, ICMP6_ERR_QUOTE_MAX);
	assert_int_equal(ld32(out + 44), 4);
	memcpy(out + 48, big, 1352);
	assert_int_equal(icmp6_error_build(out, 1400, &ip, ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, 4, out + 48, 1352),
			 IP6_MIN_MTU);
	assert_memory_equal(out + 48, big, ICMP6_ERR_QUOTE_MAX);
	free(out);
}

static void test_error_parse(void **state)
{
	struct icmp6_error e;
	struct pk k;
	(void)state;

	expect_ok(icmp6_error_parse(msg_of(v_du_port, sizeof(v_du_port)), &e), &e.fail);
	assert_int_equal(e.type, ICMP6_DST_UNREACH);
	assert_int_equal(e.code, ICMP6_DU_PORT);
	assert_int_equal(e.param, 0);
	assert_int_equal(e.quote.len, 53);
	assert_ptr_equal(e.quote.p, v_du_port + 48);
	assert_int_equal(e.inner.version, 6);
	assert_int_equal(e.inner.next_hdr, IP6_NH_UDP);
	assert_int_equal(e.inner.payload_len, 13);
	assert_int_equal(e.inner.hop_limit, 64);
	assert_memory_equal(e.inner.src.v6, PEER, 16);
	assert_memory_equal(e.inner.dst.v6, LOCAL, 16);
	expect_ok(icmp6_error_parse(msg_of(v_pp_opt, sizeof(v_pp_opt)), &e), &e.fail);
	assert_int_equal(e.type, ICMP6_PARAM_PROBLEM);
	assert_int_equal(e.code, ICMP6_PP_OPTION);
	assert_int_equal(e.param, 42);
	assert_int_equal(e.inner.next_hdr, IP6_NH_DSTOPTS);
	{
		uint8_t out[IP6_MIN_MTU], big[1400];
		struct ip6_repr ip = ip_of(LOCAL, PEER, 64);
		make_big(big);
		assert_int_equal(icmp6_error_build(out, sizeof(out), &ip, ICMP6_PKT_TOO_BIG, 0, 1280, big, 1400),
				 IP6_MIN_MTU);
		expect_ok(icmp6_error_parse(msg_of(out, IP6_MIN_MTU), &e), &e.fail);
		assert_int_equal(e.param, 1280);
		assert_int_equal(e.quote.len, ICMP6_ERR_QUOTE_MAX);
		assert_int_equal(e.inner.payload_len, 1360); /* as sent, more than quoted */
	}
	/* an unknown error type is still an error (RFC 4443 2.4 (b)) */
	pk_from(&k, v_du_port, sizeof(v_du_port));
	pk_msg(&k)[0] = 77;
	expect_ok(icmp6_error_parse(msg_of(k.b, k.len), &e), &e.fail);
	assert_int_equal(e.type, 77);

	for (size_t n = 0; n < ICMP6_HDR_LEN; n++)
		expect_fail(icmp6_error_parse(view_make(v_du_port + 40, n), &e), &e.fail, ICMP6_FAIL_SHORT);
	expect_fail(icmp6_error_parse(msg_of(v_echo_req, sizeof(v_echo_req)), &e), &e.fail, ICMP6_FAIL_NOT_ERROR);
	expect_fail(icmp6_error_parse(msg_of(v_ra, sizeof(v_ra)), &e), &e.fail, ICMP6_FAIL_NOT_ERROR);
	for (size_t q = 0; q < IP6_HDR_LEN; q++)
		expect_fail(icmp6_error_parse(view_make(v_du_port + 40, 8 + q), &e), &e.fail, ICMP6_FAIL_ERR_QUOTE_SHORT);
	expect_ok(icmp6_error_parse(view_make(v_du_port + 40, 8 + IP6_HDR_LEN), &e), &e.fail);
	k.b[48] = 0x45;
	expect_fail(icmp6_error_parse(msg_of(k.b, k.len), &e), &e.fail, ICMP6_FAIL_ERR_QUOTE_VERSION);
}

static void test_error_errno(void **state)
{
	/* Linux net/ipv6/icmp.c icmpv6_err_convert / tab_unreach */
	static const struct {
		uint8_t type, code;
		int err;
		bool fatal;
	} t[] = {
		{ ICMP6_DST_UNREACH, 0, ENETUNREACH, false }, { ICMP6_DST_UNREACH, 1, EACCES, true },
		{ ICMP6_DST_UNREACH, 2, EHOSTUNREACH, false }, { ICMP6_DST_UNREACH, 3, EHOSTUNREACH, false },
		{ ICMP6_DST_UNREACH, 4, ECONNREFUSED, true }, { ICMP6_DST_UNREACH, 5, EACCES, true },
		{ ICMP6_DST_UNREACH, 6, EACCES, true },       { ICMP6_DST_UNREACH, 7, EPROTO, true },
		{ ICMP6_DST_UNREACH, 255, EPROTO, true },     { ICMP6_PKT_TOO_BIG, 0, EMSGSIZE, false },
		{ ICMP6_TIME_EXCEEDED, 0, EHOSTUNREACH, false }, { ICMP6_TIME_EXCEEDED, 1, EHOSTUNREACH, false },
		{ ICMP6_PARAM_PROBLEM, 0, EPROTO, true },     { ICMP6_PARAM_PROBLEM, 2, EPROTO, true },
		{ 100, 0, EPROTO, false },                    { ICMP6_ECHO_REPLY, 0, EPROTO, false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool fatal = !t[i].fatal;
		assert_int_equal(icmp6_error_errno(t[i].type, t[i].code, &fatal), t[i].err);
		assert_int_equal(fatal, t[i].fatal);
	}
}

/* ---- RFC 4443 2.4 (e) ---- */

enum { A_ERR = 1, A_REDIR = 2, A_DSTM = 4, A_LLM = 8, A_LLB = 16, A_UNSPEC = 32, A_SRCM = 64, A_ANY = 128,
       A_OPT10 = 256 };

static struct icmp6_err_about about(unsigned f)
{
	struct icmp6_err_about a = {
		.is_icmp6_error = f & A_ERR, .is_redirect = f & A_REDIR, .dst_multicast = f & A_DSTM,
		.ll_multicast = f & A_LLM, .ll_broadcast = f & A_LLB, .src_unspecified = f & A_UNSPEC,
		.src_multicast = f & A_SRCM, .src_anycast = f & A_ANY, .opt_action_10 = f & A_OPT10,
	};
	return a;
}

static void test_error_rules_table(void **state)
{
	static const struct {
		uint8_t type, code;
		unsigned about;
		enum icmp6_fail want;
	} t[] = {
		/* a plain unicast packet from a unicast source: every error may go */
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, 0, ICMP6_FAIL_NONE },
		{ ICMP6_PKT_TOO_BIG, 0, 0, ICMP6_FAIL_NONE },
		{ ICMP6_TIME_EXCEEDED, 0, 0, ICMP6_FAIL_NONE },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_NEXTHDR, 0, ICMP6_FAIL_NONE },
		/* (e.1), (e.2): never, not even Packet Too Big */
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_ERR, ICMP6_FAIL_NOERR_ABOUT_ERROR },
		{ ICMP6_PKT_TOO_BIG, 0, A_ERR, ICMP6_FAIL_NOERR_ABOUT_ERROR },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_ERR | A_OPT10, ICMP6_FAIL_NOERR_ABOUT_ERROR },
		{ ICMP6_TIME_EXCEEDED, 0, A_REDIR, ICMP6_FAIL_NOERR_ABOUT_REDIRECT },
		{ ICMP6_PKT_TOO_BIG, 0, A_REDIR, ICMP6_FAIL_NOERR_ABOUT_REDIRECT },
		/* (e.3) multicast destination, and its two exceptions */
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_DSTM, ICMP6_FAIL_NOERR_MCAST_DST },
		{ ICMP6_TIME_EXCEEDED, ICMP6_TE_REASSEMBLY, A_DSTM, ICMP6_FAIL_NOERR_MCAST_DST },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, A_DSTM, ICMP6_FAIL_NOERR_MCAST_DST },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_NEXTHDR, A_DSTM | A_OPT10, ICMP6_FAIL_NOERR_MCAST_DST },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_DSTM, ICMP6_FAIL_NOERR_MCAST_DST }, /* action 11 */
		{ ICMP6_PKT_TOO_BIG, 0, A_DSTM, ICMP6_FAIL_NONE },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_DSTM | A_OPT10, ICMP6_FAIL_NONE },
		/* (e.4), (e.5) link-layer multicast / broadcast, the same exceptions */
		{ ICMP6_DST_UNREACH, ICMP6_DU_ADDR, A_LLM, ICMP6_FAIL_NOERR_LL_MCAST },
		{ ICMP6_PKT_TOO_BIG, 0, A_LLM, ICMP6_FAIL_NONE },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_LLM | A_OPT10, ICMP6_FAIL_NONE },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_LLM, ICMP6_FAIL_NOERR_LL_MCAST },
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_LLB, ICMP6_FAIL_NOERR_LL_BCAST },
		{ ICMP6_PKT_TOO_BIG, 0, A_LLB, ICMP6_FAIL_NONE },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_LLB | A_OPT10, ICMP6_FAIL_NONE },
		{ ICMP6_TIME_EXCEEDED, 0, A_LLB, ICMP6_FAIL_NOERR_LL_BCAST },
		/* (e.6) a source that names no single node: no exception */
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_UNSPEC, ICMP6_FAIL_NOERR_SRC },
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_SRCM, ICMP6_FAIL_NOERR_SRC },
		{ ICMP6_DST_UNREACH, ICMP6_DU_PORT, A_ANY, ICMP6_FAIL_NOERR_SRC },
		{ ICMP6_PKT_TOO_BIG, 0, A_UNSPEC, ICMP6_FAIL_NOERR_SRC },
		{ ICMP6_PKT_TOO_BIG, 0, A_DSTM | A_SRCM, ICMP6_FAIL_NOERR_SRC },
		{ ICMP6_PARAM_PROBLEM, ICMP6_PP_OPTION, A_OPT10 | A_ANY, ICMP6_FAIL_NOERR_SRC },
		/* the first rule in RFC order names the refusal */
		{ ICMP6_DST_UNREACH, 0, A_ERR | A_REDIR | A_DSTM | A_LLM | A_LLB | A_UNSPEC, ICMP6_FAIL_NOERR_ABOUT_ERROR },
		{ ICMP6_DST_UNREACH, 0, A_DSTM | A_LLM | A_LLB, ICMP6_FAIL_NOERR_MCAST_DST },
		{ ICMP6_DST_UNREACH, 0, A_LLM | A_LLB | A_ANY, ICMP6_FAIL_NOERR_LL_MCAST },
	};
	static const struct {
		uint8_t type, code;
	} errs[] = {
		{ ICMP6_DST_UNREACH, 0 }, { ICMP6_DST_UNREACH, 4 }, { ICMP6_PKT_TOO_BIG, 0 }, { ICMP6_TIME_EXCEEDED, 0 },
		{ ICMP6_TIME_EXCEEDED, 1 }, { ICMP6_PARAM_PROBLEM, 0 }, { ICMP6_PARAM_PROBLEM, 1 },
		{ ICMP6_PARAM_PROBLEM, 2 }, { ICMP6_PARAM_PROBLEM, 3 }, { 100, 2 },
	};
	unsigned allowed = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct icmp6_err_about a = about(t[i].about);
		enum icmp6_fail got = icmp6_error_forbidden(t[i].type, t[i].code, &a);
		if (got != t[i].want)
			fail_msg("row %zu: %s, want %s", i, icmp6_fail_name(got), icmp6_fail_name(t[i].want));
		assert_int_equal(icmp6_error_allowed(t[i].type, t[i].code, &a), t[i].want == ICMP6_FAIL_NONE);
		hit[t[i].want] = true;
	}
	/* every combination against the rule as RFC 4443 2.4 (e) words it */
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		for (unsigned f = 0; f < 512; f++) {
			struct icmp6_err_about a = about(f);
			bool never = (f & (A_ERR | A_REDIR | A_UNSPEC | A_SRCM | A_ANY)) != 0;
			bool excepted = errs[i].type == ICMP6_PKT_TOO_BIG ||
					(errs[i].type == ICMP6_PARAM_PROBLEM && errs[i].code == 2 && (f & A_OPT10));
			bool mcast = (f & (A_DSTM | A_LLM | A_LLB)) != 0;
			bool want = !never && (!mcast || excepted);
			assert_int_equal(icmp6_error_allowed(errs[i].type, errs[i].code, &a), want);
			allowed += want;
		}
	}
	/* per type: no never-bit set leaves 16 combinations of the multicast bits and
	 * opt_action_10; 2 of them have no multicast bit, Packet Too Big takes all 16,
	 * Parameter Problem code 2 takes 8 with opt_action_10 and 1 without */
	assert_int_equal(allowed, 8 * 2 + 16 + 9);
}

/* ---- RFC 4443 2.4 (f) ---- */

static unsigned drain(struct icmp6_ratelimit *rl, uint64_t now)
{
	unsigned n = 0;
	while (icmp6_ratelimit_allow(rl, now) && n < 100000)
		n++;
	if (n < 100000)
		hit[ICMP6_FAIL_NOERR_RATE] = true;
	return n;
}

static void test_ratelimit(void **state)
{
	const uint64_t S = 1000000000ull, MS = 1000000ull, T0 = 5 * S;
	struct icmp6_ratelimit rl;
	unsigned n;
	(void)state;

	/* 10 a second, bursts of 3 */
	icmp6_ratelimit_init(&rl, 10, 3, T0);
	assert_int_equal(drain(&rl, T0), 3);
	assert_false(icmp6_ratelimit_allow(&rl, T0 + 99 * MS));
	assert_true(icmp6_ratelimit_allow(&rl, T0 + 100 * MS));
	assert_false(icmp6_ratelimit_allow(&rl, T0 + 100 * MS));
	assert_false(icmp6_ratelimit_allow(&rl, T0 + 150 * MS));
	assert_true(icmp6_ratelimit_allow(&rl, T0 + 200 * MS)); /* the half token of 150 ms carried */
	assert_int_equal(drain(&rl, T0 + 450 * MS), 2);
	/* idle for long: a full bucket, never more */
	assert_int_equal(drain(&rl, T0 + 100 * S), 3);
	assert_int_equal(drain(&rl, T0 + 100 * S + 250 * MS), 2);
	/* a full bucket saves no part-token: 50 ms after refilling to full, still 3 */
	assert_int_equal(drain(&rl, T0 + 200 * S), 3);
	assert_int_equal(drain(&rl, T0 + 200 * S + 99 * MS), 0);

	/* exact over time: 3 a second polled every ms for 10 s gives burst + 30 */
	icmp6_ratelimit_init(&rl, 3, 5, 0);
	n = 0;
	for (uint64_t t = 0; t <= 10 * S; t += MS)
		n += drain(&rl, t);
	assert_int_equal(n, 5 + 30);
	/* 7 a second, polled at odd intervals (1 ns .. 333 ms) that never let the
	 * bucket of 10 fill: exactly floor(7 t) tokens after the first 10 */
	icmp6_ratelimit_init(&rl, 7, 10, 0);
	n = drain(&rl, 0);
	{
		uint64_t t = 0, step = 1;
		while (t < 60 * S) {
			t += step;
			step = step * 3 % 333333331 + 1;
			n += drain(&rl, t);
		}
		assert_int_equal(n, 10 + 7 * t / S);
	}

	/* rate 0: unlimited; burst 0: 1 */
	icmp6_ratelimit_init(&rl, 0, 0, T0);
	for (int i = 0; i < 1000; i++)
		assert_true(icmp6_ratelimit_allow(&rl, T0));
	icmp6_ratelimit_init(&rl, 1, 0, T0);
	assert_int_equal(drain(&rl, T0), 1);
	assert_int_equal(drain(&rl, T0 + S - 1), 0);
	assert_int_equal(drain(&rl, T0 + S), 1);

	/* a clock that goes back adds nothing and does not confuse what follows */
	icmp6_ratelimit_init(&rl, 10, 2, T0);
	assert_int_equal(drain(&rl, T0), 2);
	assert_int_equal(drain(&rl, T0 - 3 * S), 0);
	assert_int_equal(drain(&rl, T0 + 100 * MS), 1);

	/* the extremes: no overflow at the largest rate and burst, or at the end of time */
	icmp6_ratelimit_init(&rl, UINT32_MAX, UINT32_MAX, 0);
	assert_true(icmp6_ratelimit_allow(&rl, UINT64_MAX));
	assert_true(icmp6_ratelimit_allow(&rl, UINT64_MAX));
	icmp6_ratelimit_init(&rl, 1, UINT32_MAX, 0);
	rl.tokens = 0;
	assert_true(icmp6_ratelimit_allow(&rl, UINT64_MAX)); /* elapsed past the fill time: full */
	assert_int_equal(rl.tokens, UINT32_MAX - 1);
	icmp6_ratelimit_init(&rl, UINT32_MAX, UINT32_MAX, 0);
	rl.tokens = 0;
	assert_true(icmp6_ratelimit_allow(&rl, S - 1)); /* just under the fill time: ~ 4.29e9 tokens */
	assert_true(rl.tokens > 4000000000u);
	/* the stack's ICMPv4 numbers: 1000 a second, bursts of 50 */
	icmp6_ratelimit_init(&rl, 1000, 50, T0);
	assert_int_equal(drain(&rl, T0), 50);
	assert_int_equal(drain(&rl, T0 + 10 * MS), 10);
	assert_int_equal(drain(&rl, T0 + S), 50);
}

/* ---- addresses from a MAC ---- */

static void test_eui64(void **state)
{
	/* scapy: in6_mactoifaceid("00:1b:21:0a:0b:0c") = 021B:21FF:FE0A:0B0C */
	static const uint8_t mac_u[6] = { 0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c };
	static const uint8_t ll_u[16] = { 0xfe, 0x80, [8] = 0x02, 0x1b, 0x21, 0xff, 0xfe, 0x0a, 0x0b, 0x0c };
	static const uint8_t prefix[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x07, 0xaa, 0xbb };
	static const uint8_t global[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x07, 0x02, 0x1b, 0x21, 0xff, 0xfe, 0x0a,
					    0x0b, 0x0c };
	uint8_t out[16], iid[8];
	(void)state;

	ip6_eui64_link_local(mac_u, out);
	assert_memory_equal(out, ll_u, 16);
	assert_true(ip6_is_link_local(out));
	/* scapy: in6_mactoifaceid("02:00:00:00:00:01") = 0000:00FF:FE00:0001: the
	 * local bit set in the MAC is clear in the identifier */
	ip6_eui64_link_local(LOCAL_MAC, out);
	assert_memory_equal(out, LOCAL_LL, 16);
	ip6_eui64_iid(PEER_MAC, iid);
	assert_memory_equal(iid, ((const uint8_t[]){ 0, 0, 0, 0xff, 0xfe, 0, 0, 0x02 }), 8);
	ip6_eui64_addr(prefix, mac_u, out);
	assert_memory_equal(out, global, 16);
	/* a group MAC keeps its group bit; only the U/L bit flips */
	ip6_eui64_iid((const uint8_t[]){ 0x03, 1, 2, 3, 4, 5 }, iid);
	assert_int_equal(iid[0], 0x01);
}

/* ---- ND: scapy's messages parsed ---- */

static void test_nd_parse_vectors(void **state)
{
	struct nd_msg m;
	struct nd_prefix p;
	struct view it;
	(void)state;

	expect_ok(ndp(v_ns_mcast, sizeof(v_ns_mcast), &m), &m.fail);
	assert_int_equal(m.type, ICMP6_ND_NS);
	assert_memory_equal(m.target, LOCAL, 16);
	assert_true(m.has_sllao);
	assert_memory_equal(m.sllao, PEER_MAC, 6);
	assert_false(m.has_tllao);
	assert_int_equal(m.n_opts, 1);
	assert_int_equal(m.n_ignored, 0);

	expect_ok(ndp(v_ns_ucast, sizeof(v_ns_ucast), &m), &m.fail);
	assert_memory_equal(m.target, LOCAL, 16);
	assert_false(m.has_sllao);
	assert_int_equal(m.n_opts, 0);
	assert_int_equal(m.opts.len, 0);

	expect_ok(ndp(v_ns_dad, sizeof(v_ns_dad), &m), &m.fail);
	assert_memory_equal(m.target, LOCAL, 16);
	assert_false(m.has_sllao);

	expect_ok(ndp(v_na_sol, sizeof(v_na_sol), &m), &m.fail);
	assert_int_equal(m.type, ICMP6_ND_NA);
	assert_int_equal(m.na_flags, ND_NA_SOLICITED | ND_NA_OVERRIDE);
	assert_memory_equal(m.target, LOCAL, 16);
	assert_true(m.has_tllao);
	assert_memory_equal(m.tllao, LOCAL_MAC, 6);
	assert_false(m.has_sllao);

	expect_ok(ndp(v_na_unsol, sizeof(v_na_unsol), &m), &m.fail);
	assert_int_equal(m.na_flags, ND_NA_ROUTER | ND_NA_OVERRIDE);
	expect_ok(ndp(v_na_bare, sizeof(v_na_bare), &m), &m.fail);
	assert_int_equal(m.na_flags, ND_NA_SOLICITED);
	assert_false(m.has_tllao);

	expect_ok(ndp(v_rs, sizeof(v_rs), &m), &m.fail);
	assert_int_equal(m.type, ICMP6_ND_RS);
	assert_true(m.has_sllao);
	assert_memory_equal(m.sllao, LOCAL_MAC, 6);
	expect_ok(ndp(v_rs_unspec, sizeof(v_rs_unspec), &m), &m.fail);
	assert_false(m.has_sllao);

	expect_ok(ndp(v_ra, sizeof(v_ra), &m), &m.fail);
	assert_int_equal(m.type, ICMP6_ND_RA);
	assert_int_equal(m.cur_hop_limit, 64);
	assert_int_equal(m.ra_flags, ND_RA_OTHER | 0x08); /* scapy's default Prf: high (RFC 4191) */
	assert_int_equal(m.router_lifetime, 1800);
	assert_int_equal(m.reachable_time, 30000);
	assert_int_equal(m.retrans_timer, 1000);
	assert_true(m.has_sllao);
	assert_memory_equal(m.sllao, RTR_MAC, 6);
	assert_true(m.has_mtu);
	assert_int_equal(m.mtu, 1500);
	assert_true(nd_mtu_usable(&m, 1500));
	assert_false(nd_mtu_usable(&m, 1499));
	assert_int_equal(m.n_opts, 5);
	assert_int_equal(m.n_ignored, 1); /* RDNSS (RFC 8106): not ND's */
	assert_int_equal(m.n_prefix, 2);
	it = m.opts;
	assert_true(nd_prefix_next(&it, &p));
	assert_int_equal(p.plen, 64);
	assert_int_equal(p.flags, ND_PREFIX_ONLINK | ND_PREFIX_AUTO);
	assert_int_equal(p.valid_lft, 86400);
	assert_int_equal(p.preferred_lft, 14400);
	assert_memory_equal(p.prefix, ((const uint8_t[16]){ 0x20, 0x01, 0, 0x02 }), 16);
	assert_int_equal(p.bad, ND_PREFIX_OK);
	assert_true(p.onlink);
	assert_true(p.slaac);
	assert_true(nd_prefix_next(&it, &p));
	assert_int_equal(p.plen, 56);
	assert_int_equal(p.valid_lft, ND_LIFETIME_INFINITE);
	assert_memory_equal(p.prefix, ((const uint8_t[16]){ 0x20, 0x01, 0, 0x02, 0, 0, 0x01, 0 }), 16);
	assert_true(p.onlink);
	assert_false(p.slaac); /* A clear, and /56 */
	assert_false(nd_prefix_next(&it, &p));
	assert_false(nd_prefix_next(&it, &p));

	expect_ok(ndp(v_redirect, sizeof(v_redirect), &m), &m.fail);
	assert_int_equal(m.type, ICMP6_ND_REDIRECT);
	assert_memory_equal(m.target, ((const uint8_t[16]){ 0xfe, 0x80, [15] = 0xfd }), 16);
	assert_memory_equal(m.dest, ((const uint8_t[16]){ 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x09, [15] = 1 }), 16);
	assert_true(m.has_tllao);
	assert_memory_equal(m.tllao, ((const uint8_t[6]){ 2, 0, 0, 0, 0, 0xfd }), 6);
	assert_int_equal(m.redir.len, 56);
	assert_ptr_equal(m.redir.p, v_redirect + 40 + 40 + 8 + 8);
	assert_int_equal(m.redir.p[0] >> 4, 6);
	assert_memory_equal(m.redir.p + 48, "redirect", 8);

	/* the checksum left to the caller: a wrong one passes, nothing else changes */
	{
		struct pk k;
		for (size_t i = 0; i < N_ND_VECS; i++) {
			pk_from(&k, nd_vecs[i].b, nd_vecs[i].len);
			pk_msg(&k)[2] ^= 0xff;
			expect_fail(ndp(k.b, k.len, &m), &m.fail, ICMP6_FAIL_BAD_CSUM);
			expect_ok(ndp_flags(k.b, k.len, ND_PARSE_CSUM_DONE, &m), &m.fail);
		}
	}
}

/* ---- ND: built, compared with scapy, parsed back ---- */

static void test_nd_build(void **state)
{
	uint8_t out[128], dst[16];
	struct nd_msg m;
	(void)state;

#define BUILT(call, vec)                                                      \
	do {                                                                  \
		memset(out, 0xee, sizeof(out));                               \
		assert_int_equal((call), sizeof(vec));                        \
		assert_memory_equal(out, vec, sizeof(vec));                   \
		assert_int_equal(out[sizeof(vec)], 0xee);                     \
		expect_ok(ndp(out, sizeof(vec), &m), &m.fail);                 \
	} while (0)

	BUILT(nd_build_ns(out, sizeof(out), ND_NS_MULTICAST, PEER, LOCAL, PEER_MAC), v_ns_mcast);
	BUILT(nd_build_ns(out, sizeof(out), ND_NS_UNICAST, PEER, LOCAL, NULL), v_ns_ucast);
	BUILT(nd_build_ns(out, sizeof(out), ND_NS_DAD, NULL, LOCAL, NULL), v_ns_dad);
	BUILT(nd_build_ns(out, sizeof(out), ND_NS_DAD, PEER, LOCAL, NULL), v_ns_dad); /* src ignored */
	BUILT(nd_build_na(out, sizeof(out), LOCAL, PEER, LOCAL, ND_NA_SOLICITED | ND_NA_OVERRIDE, LOCAL_MAC), v_na_sol);
	BUILT(nd_build_na(out, sizeof(out), LOCAL, ALL_NODES, LOCAL, ND_NA_ROUTER | ND_NA_OVERRIDE, LOCAL_MAC),
	      v_na_unsol);
	BUILT(nd_build_na(out, sizeof(out), LOCAL, PEER, LOCAL, ND_NA_SOLICITED | 0x1f, NULL), v_na_bare);
	BUILT(nd_build_rs(out, sizeof(out), LOCAL_LL, LOCAL_MAC), v_rs);
	BUILT(nd_build_rs(out, sizeof(out), NULL, NULL), v_rs_unspec);
	BUILT(nd_build_rs(out, sizeof(out), UNSPEC, NULL), v_rs_unspec);
#undef BUILT

	/* the other combinations parse back to what was asked */
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_UNICAST, LOCAL_LL, PEER, LOCAL_MAC), 72);
	expect_ok(ndp(out, 72, &m), &m.fail);
	assert_memory_equal(out + 24, PEER, 16);
	assert_memory_equal(m.sllao, LOCAL_MAC, 6);
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_MULTICAST, LOCAL_LL, PEER, NULL), 64);
	expect_ok(ndp(out, 64, &m), &m.fail);
	assert_true(ip6_is_solicited_node(out + 24));
	assert_int_equal(nd_build_rs(out, sizeof(out), LOCAL_LL, NULL), 48);
	expect_ok(ndp(out, 48, &m), &m.fail);
	for (unsigned f = 0; f < 8; f++) {
		uint8_t flags = (uint8_t)(f << 5);
		const uint8_t *d = (flags & ND_NA_SOLICITED) ? PEER : ALL_NODES;
		assert_int_equal(nd_build_na(out, sizeof(out), LOCAL_LL, d, LOCAL, flags, f & 1 ? LOCAL_MAC : NULL),
				 f & 1 ? 72 : 64);
		expect_ok(ndp(out, f & 1 ? 72 : 64, &m), &m.fail);
		assert_int_equal(m.na_flags, flags);
		assert_int_equal(m.has_tllao, f & 1);
	}

	/* the answer to an NS (RFC 4861 7.2.4) */
	assert_int_equal(nd_na_reply_to(PEER, dst), ND_NA_SOLICITED);
	assert_memory_equal(dst, PEER, 16);
	assert_int_equal(nd_na_reply_to(UNSPEC, dst), 0);
	assert_memory_equal(dst, ALL_NODES, 16);

	/* refused: what a receiver would refuse, and short space (exact-size heap buffers) */
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_DAD, NULL, LOCAL, LOCAL_MAC), -EINVAL);
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_MULTICAST, PEER, SN_LOCAL, NULL), -EINVAL);
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_UNICAST, UNSPEC, LOCAL, NULL), -EINVAL);
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_MULTICAST, NULL, LOCAL, NULL), -EINVAL);
	assert_int_equal(nd_build_ns(out, sizeof(out), ND_NS_MULTICAST, ALL_NODES, LOCAL, NULL), -EINVAL);
	assert_int_equal(nd_build_na(out, sizeof(out), LOCAL, ALL_NODES, LOCAL, ND_NA_SOLICITED, NULL), -EINVAL);
	assert_int_equal(nd_build_na(out, sizeof(out), LOCAL, PEER, ALL_NODES, 0, NULL), -EINVAL);
	assert_int_equal(nd_build_rs(out, sizeof(out), UNSPEC, LOCAL_MAC), -EINVAL);
	assert_int_equal(nd_build_rs(out, sizeof(out), NULL, LOCAL_MAC), -EINVAL);
	assert_int_equal(nd_build_rs(out, sizeof(out), ALL_ROUTERS, NULL), -EINVAL);
	for (size_t cap = 0; cap < 72; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);
		assert_non_null(b);
		assert_int_equal(nd_build_ns(b, cap, ND_NS_MULTICAST, PEER, LOCAL, PEER_MAC), -ENOSPC);
		assert_int_equal(nd_build_na(b, cap, LOCAL, PEER, LOCAL, ND_NA_SOLICITED, LOCAL_MAC), -ENOSPC);
		assert_int_equal(nd_build_rs(b, cap, LOCAL_LL, cap < 56 ? LOCAL_MAC : NULL),
				 cap < 56 ? -ENOSPC : 48);
		if (cap < 64) {
			assert_int_equal(nd_build_ns(b, cap, ND_NS_DAD, NULL, LOCAL, NULL), -ENOSPC);
			assert_int_equal(nd_build_na(b, cap, LOCAL, PEER, LOCAL, 0, NULL), -ENOSPC);
		}
		free(b);
	}
	{
		uint8_t *b = malloc(72);
		assert_non_null(b);
		assert_int_equal(nd_build_ns(b, 72, ND_NS_MULTICAST, PEER, LOCAL, PEER_MAC), 72);
		assert_memory_equal(b, v_ns_mcast, 72);
		free(b);
	}
}

/* ---- ND: every validity check, one at a time ---- */

static void test_nd_common_checks(void **state)
{
	static const uint8_t hlims[] = { 0, 1, 64, 128, 254 };
	static const uint8_t not_nd[] = { 1, 128, 129, 132, 138, 143, 255 };
	struct pk k;
	(void)state;

	for (size_t i = 0; i < N_ND_VECS; i++) {
		const struct vec *v = &nd_vecs[i];
		uint8_t type = v->b[IP6_HDR_LEN];
		size_t min = type == ICMP6_ND_RS ? 8 : type == ICMP6_ND_RA ? 16 : type == ICMP6_ND_REDIRECT ? 40 : 24;
		struct nd_msg m;

		/* 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1: hop limit 255 */
		for (size_t h = 0; h < sizeof(hlims); h++) {
			pk_from(&k, v->b, v->len);
			k.b[7] = hlims[h];
			pk_refused(&k, ICMP6_FAIL_ND_HOP_LIMIT);
		}
		/* checksum */
		for (size_t j = IP6_HDR_LEN; j < v->len; j += 5) {
			pk_from(&k, v->b, v->len);
			k.b[j] ^= 0x01;
			if (j == IP6_HDR_LEN) /* the type byte: ND_NOT_ND or still ND */
				continue;
			pk_refused(&k, ICMP6_FAIL_BAD_CSUM);
		}
		/* code 0 */
		pk_from(&k, v->b, v->len);
		pk_msg(&k)[1] = 1;
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_BAD_CODE);
		pk_msg(&k)[1] = 255;
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_BAD_CODE);
		/* the minimum length, for every cut below it; at it, accepted when the
		 * cut leaves a message that is otherwise valid */
		for (size_t n = 0; n < min; n++) {
			pk_from(&k, v->b, v->len);
			pk_cut(&k, n);
			pk_refused(&k, n < ICMP6_HDR_LEN ? ICMP6_FAIL_SHORT : ICMP6_FAIL_ND_SHORT);
		}
		pk_from(&k, v->b, v->len);
		pk_cut(&k, min);
		pk_accepted(&k, &m);
		assert_int_equal(m.n_opts, 0);
		/* types that are not ND */
		for (size_t t = 0; t < sizeof(not_nd); t++) {
			pk_from(&k, v->b, v->len);
			pk_msg(&k)[0] = not_nd[t];
			pk_fix(&k);
			pk_refused(&k, ICMP6_FAIL_ND_NOT_ND);
		}
		/* RFC 4291 2.7: no multicast source */
		pk_from(&k, v->b, v->len);
		pk_src(&k, ALL_NODES);
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_SRC_MULTICAST);
		/* 4.6: an option of length 0, first or after the others, known type or not */
		pk_from(&k, v->b, v->len);
		pk_opt(&k, ND_OPT_TLLA, 1)[1] = 0;
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_OPT_ZERO_LEN);
		pk_from(&k, v->b, v->len);
		pk_cut(&k, min);
		pk_opt(&k, 200, 1)[1] = 0;
		pk_opt(&k, 200, 1);
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_OPT_ZERO_LEN);
		/* ... or running past the message: by a unit, by a byte, a lone trailing byte */
		pk_from(&k, v->b, v->len);
		pk_opt(&k, 200, 1)[1] = 2;
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_OPT_OVERRUN);
		for (size_t tail = 1; tail < 8; tail++) {
			pk_from(&k, v->b, v->len);
			pk_raw(&k, (const uint8_t[8]){ 200, 1 }, tail);
			pk_fix(&k);
			pk_refused(&k, ICMP6_FAIL_ND_OPT_OVERRUN);
		}
		/* unknown options anywhere are skipped (4.6) */
		pk_from(&k, v->b, v->len);
		pk_opt(&k, 200, 3);
		pk_opt(&k, 14, 1); /* nonce (RFC 3971): not this parser's */
		pk_fix(&k);
		{
			struct nd_msg m0;
			expect_ok(ndp(v->b, v->len, &m0), &m0.fail);
			pk_accepted(&k, &m);
			assert_int_equal(m.n_opts, m0.n_opts + 2);
			assert_int_equal(m.n_ignored, m0.n_ignored + 2);
		}
	}
}

static void test_nd_rs_checks(void **state)
{
	struct pk k;
	struct nd_msg m;
	(void)state;

	/* 6.1.1: from ::, no SLLAO */
	pk_from(&k, v_rs_unspec, sizeof(v_rs_unspec));
	memcpy(pk_opt(&k, ND_OPT_SLLA, 1) + 2, LOCAL_MAC, 6);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_SLLAO);
	/* ... a TLLAO is not an RS option: ignored, even from :: */
	pk_from(&k, v_rs_unspec, sizeof(v_rs_unspec));
	pk_opt(&k, ND_OPT_TLLA, 1);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_false(m.has_tllao);
	assert_int_equal(m.n_ignored, 1);
	/* an SLLAO not 8 bytes */
	for (uint8_t units = 2; units < 5; units++) {
		pk_from(&k, v_rs_unspec, sizeof(v_rs_unspec));
		pk_src(&k, LOCAL_LL);
		pk_opt(&k, ND_OPT_SLLA, units);
		pk_fix(&k);
		pk_refused(&k, ICMP6_FAIL_ND_BAD_LLAO);
	}
	/* two SLLAOs: the first counts (Linux) */
	pk_from(&k, v_rs, sizeof(v_rs));
	memcpy(pk_opt(&k, ND_OPT_SLLA, 1) + 2, PEER_MAC, 6);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_memory_equal(m.sllao, LOCAL_MAC, 6);
	assert_int_equal(m.n_opts, 2);
	assert_int_equal(m.n_ignored, 1);
	/* reserved bytes are not checked (4.1: ignored by the receiver) */
	pk_from(&k, v_rs, sizeof(v_rs));
	memset(pk_msg(&k) + 4, 0xff, 4);
	pk_fix(&k);
	pk_accepted(&k, &m);
	/* any destination (6.1.1 names none); a global source */
	pk_from(&k, v_rs, sizeof(v_rs));
	pk_dst(&k, LOCAL);
	pk_src(&k, PEER);
	pk_fix(&k);
	pk_accepted(&k, &m);
}

static void test_nd_ra_checks(void **state)
{
	struct pk k;
	struct nd_msg m;
	(void)state;

	/* 6.1.2: source link-local; checked before the hop limit */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_src(&k, PEER);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_SRC_NOT_LL);
	k.b[7] = 64;
	pk_refused(&k, ICMP6_FAIL_ND_SRC_NOT_LL);
	pk_src(&k, UNSPEC);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_SRC_NOT_LL);
	/* SLLAO not 8 bytes */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_msg(&k)[16 + 1] = 2; /* the SLLAO now swallows the MTU option */
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_BAD_LLAO);
	/* MTU option: a wrong length is skipped, a repeat too; below 1280 not usable */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_msg(&k)[24 + 1] = 2; /* MTU option now 16 bytes, swallowing half the prefix */
	pk_cut(&k, 16 + 8 + 16);
	pk_accepted(&k, &m);
	assert_false(m.has_mtu);
	assert_int_equal(m.n_ignored, 1);
	pk_from(&k, v_ra, sizeof(v_ra));
	st32(pk_opt(&k, ND_OPT_MTU, 1) + 4, 9000);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.mtu, 1500);
	assert_int_equal(m.n_ignored, 2);
	pk_from(&k, v_ra, sizeof(v_ra));
	st32(pk_msg(&k) + 24 + 4, 1279);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_true(m.has_mtu);
	assert_int_equal(m.mtu, 1279);
	assert_false(nd_mtu_usable(&m, 9000));
	st32(pk_msg(&k) + 24 + 4, 1280);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_true(nd_mtu_usable(&m, 1280));
	/* the smallest RA: no options, every field zero */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_cut(&k, ND_RA_LEN);
	memset(pk_msg(&k) + 4, 0, 12);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.router_lifetime, 0);
	assert_int_equal(m.n_prefix, 0);
	assert_false(m.has_sllao);
	/* an RA to a unicast destination is fine (a solicited answer, 6.2.6) */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_dst(&k, LOCAL_LL);
	pk_fix(&k);
	pk_accepted(&k, &m);
	/* an RA's TLLAO or Redirected Header: not its options */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_opt(&k, ND_OPT_TLLA, 2);
	pk_opt(&k, ND_OPT_REDIR_HDR, 6);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_false(m.has_tllao);
	assert_int_equal(m.redir.len, 0);
	assert_int_equal(m.n_ignored, 3);
}

/* Append a Prefix Information option. */
static void add_prefix(struct pk *k, uint8_t units, uint8_t plen, uint8_t flags, uint32_t valid, uint32_t pref,
		       const uint8_t *prefix)
{
	uint8_t *o = pk_opt(k, ND_OPT_PREFIX, units);
	if (units < 4)
		return;
	o[2] = plen;
	o[3] = flags;
	st32(o + 4, valid);
	st32(o + 8, pref);
	memcpy(o + 16, prefix, 16);
}

static void test_nd_prefix(void **state)
{
	static const uint8_t p2001[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x05 };
	static const uint8_t mc[16] = { 0xff, 0x0e };
	static const struct {
		uint8_t units, plen, flags;
		uint32_t valid, pref;
		const uint8_t *prefix;
		enum nd_prefix_use bad;
		bool onlink, slaac;
	} t[] = {
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, true, true },
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 100, p2001, ND_PREFIX_OK, true, true },
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 0, 0, p2001, ND_PREFIX_OK, true, true }, /* withdraw */
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, ND_LIFETIME_INFINITE, ND_LIFETIME_INFINITE, p2001,
		  ND_PREFIX_OK, true, true },
		{ 4, 64, ND_PREFIX_ONLINK, 100, 50, p2001, ND_PREFIX_OK, true, false },      /* A clear */
		{ 4, 64, ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, false, true },        /* L clear */
		{ 4, 64, 0x3f, 100, 50, p2001, ND_PREFIX_OK, false, false },                 /* reserved bits only */
		{ 4, 48, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, true, false }, /* 5.5.3 (d) */
		{ 4, 65, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, true, false },
		{ 4, 128, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, true, false },
		{ 4, 0, ND_PREFIX_ONLINK, 100, 50, p2001, ND_PREFIX_OK, true, false },
		{ 4, 129, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_BAD_PLEN, false, false },
		{ 4, 255, ND_PREFIX_ONLINK, 100, 50, p2001, ND_PREFIX_BAD_PLEN, false, false },
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, LOCAL_LL, ND_PREFIX_LINK_LOCAL, false, false },
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, mc, ND_PREFIX_MULTICAST, false, false },
		{ 4, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 50, 100, p2001, ND_PREFIX_LIFETIMES, false, false },
		{ 4, 64, ND_PREFIX_ONLINK, 0, ND_LIFETIME_INFINITE, p2001, ND_PREFIX_LIFETIMES, false, false },
		{ 1, 0, 0, 0, 0, p2001, ND_PREFIX_SHORT, false, false },
		{ 3, 0, 0, 0, 0, p2001, ND_PREFIX_SHORT, false, false },
		{ 5, 64, ND_PREFIX_ONLINK | ND_PREFIX_AUTO, 100, 50, p2001, ND_PREFIX_OK, true, true }, /* longer: read 32 */
	};
	const size_t n = sizeof(t) / sizeof(t[0]);
	struct pk k;
	struct nd_msg m;
	struct nd_prefix p;
	struct view it;
	size_t i = 0;
	(void)state;

	/* all of them in one RA, between other options: each judged on its own, the
	 * RA accepted */
	pk_from(&k, v_ra, sizeof(v_ra));
	pk_cut(&k, ND_RA_LEN);
	for (size_t j = 0; j < n; j++) {
		add_prefix(&k, t[j].units, t[j].plen, t[j].flags, t[j].valid, t[j].pref, t[j].prefix);
		if (j % 3 == 0)
			pk_opt(&k, 200, 1);
	}
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.n_prefix, n);
	it = m.opts;
	while (nd_prefix_next(&it, &p)) {
		assert_true(i < n);
		if (p.bad != t[i].bad || p.onlink != t[i].onlink || p.slaac != t[i].slaac)
			fail_msg("prefix row %zu: bad %d onlink %d slaac %d", i, p.bad, p.onlink, p.slaac);
		if (t[i].units >= 4) {
			assert_int_equal(p.plen, t[i].plen);
			assert_int_equal(p.flags, t[i].flags);
			assert_int_equal(p.valid_lft, t[i].valid);
			assert_int_equal(p.preferred_lft, t[i].pref);
			assert_memory_equal(p.prefix, t[i].prefix, 16);
		}
		i++;
	}
	assert_int_equal(i, n);
	/* a prefix option in any other message is not looked at */
	pk_from(&k, v_na_sol, sizeof(v_na_sol));
	add_prefix(&k, 4, 64, ND_PREFIX_ONLINK, 1, 1, p2001);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.n_prefix, 0);
	assert_int_equal(m.n_ignored, 1);
	/* the iterator stops at anything malformed it is handed */
	{
		uint8_t bad[40] = { ND_OPT_PREFIX, 0 };
		it = view_make(bad, sizeof(bad));
		assert_false(nd_prefix_next(&it, &p));
		bad[1] = 6;
		it = view_make(bad, sizeof(bad));
		assert_false(nd_prefix_next(&it, &p));
		it = view_make(bad, 1);
		assert_false(nd_prefix_next(&it, &p));
	}
}

static void test_nd_ns_checks(void **state)
{
	struct pk k;
	struct nd_msg m;
	(void)state;

	/* 7.1.1: target not multicast */
	pk_from(&k, v_ns_mcast, sizeof(v_ns_mcast));
	memcpy(pk_msg(&k) + 8, SN_LOCAL, 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_TARGET_MULTICAST);
	memcpy(pk_msg(&k) + 8, ALL_NODES, 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_TARGET_MULTICAST);
	/* from ::, to a solicited-node group only */
	pk_from(&k, v_ns_dad, sizeof(v_ns_dad));
	pk_dst(&k, LOCAL);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_DST);
	pk_dst(&k, ALL_NODES);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_DST);
	pk_dst(&k, ((const uint8_t[16]){ 0xff, 0x02, [11] = 0x01, 0xfe, 0, 0, 1 })); /* ff02::1:fe00:1 */
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_DST);
	/* ... with no SLLAO */
	pk_from(&k, v_ns_dad, sizeof(v_ns_dad));
	memcpy(pk_opt(&k, ND_OPT_SLLA, 1) + 2, LOCAL_MAC, 6);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_SLLAO);
	/* both wrong: the destination is checked first, as 7.1.1 lists them */
	pk_dst(&k, LOCAL);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_UNSPEC_SRC_DST);
	/* a solicited-node group other than the target's: 7.1.1 does not ask */
	pk_from(&k, v_ns_dad, sizeof(v_ns_dad));
	k.b[39] = 0x77;
	pk_fix(&k);
	pk_accepted(&k, &m);
	/* a DAD NS's TLLAO is not an SLLAO: ignored */
	pk_from(&k, v_ns_dad, sizeof(v_ns_dad));
	pk_opt(&k, ND_OPT_TLLA, 1);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.n_ignored, 1);
	/* SLLAO of a wrong size, even a TLLAO of a wrong size is not looked at */
	pk_from(&k, v_ns_ucast, sizeof(v_ns_ucast));
	pk_opt(&k, ND_OPT_SLLA, 2);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_BAD_LLAO);
	pk_from(&k, v_ns_ucast, sizeof(v_ns_ucast));
	pk_opt(&k, ND_OPT_TLLA, 2);
	pk_fix(&k);
	pk_accepted(&k, &m);
	/* the target may be link-local, or our global address via a global source */
	pk_from(&k, v_ns_mcast, sizeof(v_ns_mcast));
	memcpy(pk_msg(&k) + 8, LOCAL_LL, 16);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_memory_equal(m.target, LOCAL_LL, 16);
}

static void test_nd_na_checks(void **state)
{
	struct pk k;
	struct nd_msg m;
	(void)state;

	/* 7.1.2: target not multicast */
	pk_from(&k, v_na_sol, sizeof(v_na_sol));
	memcpy(pk_msg(&k) + 8, ALL_ROUTERS, 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_TARGET_MULTICAST);
	/* to a multicast destination, Solicited clear */
	pk_from(&k, v_na_unsol, sizeof(v_na_unsol));
	pk_msg(&k)[4] |= ND_NA_SOLICITED;
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_NA_SOLICITED_MCAST);
	pk_from(&k, v_na_sol, sizeof(v_na_sol));
	pk_dst(&k, SN_LOCAL);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_NA_SOLICITED_MCAST);
	/* reserved flag bits ignored (4.4) */
	pk_from(&k, v_na_sol, sizeof(v_na_sol));
	pk_msg(&k)[4] |= 0x1f;
	pk_msg(&k)[7] = 0xff;
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_int_equal(m.na_flags, ND_NA_SOLICITED | ND_NA_OVERRIDE);
	/* a TLLAO of a wrong size; a repeat keeps the first; an SLLAO is not an NA option */
	pk_from(&k, v_na_bare, sizeof(v_na_bare));
	pk_opt(&k, ND_OPT_TLLA, 3);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_BAD_LLAO);
	pk_from(&k, v_na_sol, sizeof(v_na_sol));
	memcpy(pk_opt(&k, ND_OPT_TLLA, 1) + 2, PEER_MAC, 6);
	memcpy(pk_opt(&k, ND_OPT_SLLA, 1) + 2, PEER_MAC, 6);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_memory_equal(m.tllao, LOCAL_MAC, 6);
	assert_false(m.has_sllao);
	assert_int_equal(m.n_ignored, 2);
	/* an NA from :: is not refused by 7.1.2 */
	pk_from(&k, v_na_unsol, sizeof(v_na_unsol));
	pk_src(&k, UNSPEC);
	pk_fix(&k);
	pk_accepted(&k, &m);
}

static void test_nd_redirect_checks(void **state)
{
	static const uint8_t dest_global[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x09, [15] = 1 };
	struct pk k;
	struct nd_msg m;
	(void)state;

	/* 8.1: source link-local */
	pk_from(&k, v_redirect, sizeof(v_redirect));
	pk_src(&k, PEER);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_SRC_NOT_LL);
	/* Destination Address not multicast */
	pk_from(&k, v_redirect, sizeof(v_redirect));
	memcpy(pk_msg(&k) + 24, ((const uint8_t[16]){ 0xff, 0x0e, [15] = 1 }), 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_REDIR_DST_MULTICAST);
	/* target: link-local (a better router), or the destination itself (on-link) */
	pk_from(&k, v_redirect, sizeof(v_redirect));
	memcpy(pk_msg(&k) + 8, PEER, 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_REDIR_TARGET);
	memcpy(pk_msg(&k) + 8, dest_global, 16);
	pk_fix(&k);
	pk_accepted(&k, &m);
	memcpy(pk_msg(&k) + 8, ALL_NODES, 16);
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_REDIR_TARGET);
	/* link-local target and destination (an on-link redirect to a link-local destination) */
	memcpy(pk_msg(&k) + 8, LOCAL_LL, 16);
	memcpy(pk_msg(&k) + 24, LOCAL_LL, 16);
	pk_fix(&k);
	pk_accepted(&k, &m);
	/* the TLLAO checked; an SLLAO not a Redirect option; no options at all */
	pk_from(&k, v_redirect, sizeof(v_redirect));
	pk_msg(&k)[40 + 1] = 2;
	pk_fix(&k);
	pk_refused(&k, ICMP6_FAIL_ND_BAD_LLAO);
	pk_from(&k, v_redirect, sizeof(v_redirect));
	pk_opt(&k, ND_OPT_SLLA, 2);
	pk_fix(&k);
	pk_accepted(&k, &m);
	pk_from(&k, v_redirect, sizeof(v_redirect));
	pk_cut(&k, ND_REDIRECT_LEN);
	pk_accepted(&k, &m);
	assert_false(m.has_tllao);
	assert_int_equal(m.redir.len, 0);
	assert_null(m.redir.p);
	/* a Redirected Header of only its 8 bytes; a second one ignored */
	pk_opt(&k, ND_OPT_REDIR_HDR, 1);
	pk_opt(&k, ND_OPT_REDIR_HDR, 2);
	pk_fix(&k);
	pk_accepted(&k, &m);
	assert_non_null(m.redir.p);
	assert_int_equal(m.redir.len, 0);
	assert_int_equal(m.n_ignored, 1);
}

/* ---- every failure reached ---- */

static void test_every_fail_reached(void **state)
{
	unsigned n = 0;
	(void)state;
	assert_string_equal(icmp6_fail_name(ICMP6_FAIL_NONE), "NONE");
	assert_string_equal(icmp6_fail_name(ICMP6_FAIL_ND_HOP_LIMIT), "ND_HOP_LIMIT");
	assert_string_equal(icmp6_fail_name(ICMP6_FAIL_MAX), "?");
	assert_string_equal(icmp6_fail_desc((enum icmp6_fail)-1), "?");
	for (int f = 1; f < ICMP6_FAIL_MAX; f++) {
		const char *name = icmp6_fail_name((enum icmp6_fail)f);
		assert_non_null(name);
		assert_true(strlen(icmp6_fail_desc((enum icmp6_fail)f)) > 20);
		if (!hit[f])
			fail_msg("failure %s never produced by a test (runs after the others)", name);
		n++;
	}
	assert_int_equal(n, 28);
}

/* ---- randomized robustness ---- */

static uint64_t rng = 0x6e64d15c0e4a11ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static const uint8_t *rnd_addr(void)
{
	static const uint8_t *const pool[] = { LOCAL, PEER, LOCAL_LL, RTR_LL, SN_LOCAL, ALL_NODES, ALL_ROUTERS, UNSPEC };
	return pool[rnd() % (sizeof(pool) / sizeof(pool[0]))];
}

/* A mostly-valid ND message (or echo / error) in an IPv6 packet, then mutations. */
static size_t gen(uint8_t *b, size_t cap)
{
	static const uint8_t types[] = { 133, 134, 135, 136, 137, 133, 134, 135, 136, 137, 128, 129, 1, 2, 3, 4, 200 };
	static const uint8_t otypes[] = { 1, 2, 3, 4, 5, 1, 2, 3, 200, 14, 25 };
	const uint8_t *src = rnd_addr(), *dst = rnd_addr();
	uint8_t hlim = (rnd() & 7) ? 255 : (uint8_t)rnd();
	struct ip6_repr r = ip_of(src, dst, hlim);
	uint8_t type = types[rnd() % sizeof(types)];
	size_t fixed = type == 133 ? 8 : type == 134 ? 16 : type == 137 ? 40 : type < 128 ? 48 : 24;
	size_t len = IP6_HDR_LEN, nopt = rnd() % 6;
	uint8_t *m = b + IP6_HDR_LEN;

	if ((rnd() & 3) == 0)
		r.src = ip6_addr_make((rnd() & 1) ? UNSPEC : RTR_LL);
	r.next_hdr = IP6_NH_ICMP6;
	ip6_emit(b, &r);
	for (size_t i = 0; i < fixed; i++)
		m[i] = (rnd() & 3) ? 0 : (uint8_t)rnd();
	m[0] = type;
	m[1] = (rnd() & 15) ? 0 : (uint8_t)rnd();
	if (type >= 135 && type <= 137 && (rnd() & 1))
		memcpy(m + 8, rnd_addr(), 16);
	if (type == 137 && (rnd() & 1))
		memcpy(m + 24, m + 8, 16);
	if (type < 128)
		m[8] = 0x60;
	len += fixed;
	for (size_t i = 0; i < nopt; i++) {
		size_t units = (rnd() & 3) ? (rnd() % 5) + 1 : rnd() % 256;
		uint8_t *o = b + len;
		if (len + units * 8 > cap)
			break;
		for (size_t j = 0; j < units * 8; j++)
			o[j] = (rnd() & 3) ? 0 : (uint8_t)rnd();
		o[0] = otypes[rnd() % sizeof(otypes)];
		o[1] = (uint8_t)units;
		if (o[0] == 3 && units >= 4 && (rnd() & 1))
			o[2] = 64;
		if ((rnd() & 31) == 0)
			o[1] = (uint8_t)rnd(); /* lie about the length */
		len += units * 8;
	}
	if ((rnd() & 7) == 0 && len < cap) /* a stray tail */
		len += 1 + rnd() % (cap - len < 7 ? cap - len : 7);
	st16(b + 4, (uint16_t)(len - IP6_HDR_LEN));
	icmp6_csum_fill(b + 8, b + 24, m, len - IP6_HDR_LEN);
	if ((rnd() & 7) == 0)
		b[IP6_HDR_LEN + rnd() % (len - IP6_HDR_LEN)] ^= (uint8_t)(1u << (rnd() % 8));
	if ((rnd() & 15) == 0) { /* cut, payload length told the truth, checksum half the time */
		len = IP6_HDR_LEN + rnd() % (len - IP6_HDR_LEN + 1);
		st16(b + 4, (uint16_t)(len - IP6_HDR_LEN));
		if ((rnd() & 1) && len >= IP6_HDR_LEN + 4)
			icmp6_csum_fill(b + 8, b + 24, m, len - IP6_HDR_LEN);
	}
	return len;
}

static void check_nd_result(int rc, const struct nd_msg *m, const struct ip6_repr *ip, struct view msg)
{
	if (rc) {
		assert_int_equal(rc, -EBADMSG);
		assert_true(m->fail > ICMP6_FAIL_NONE && m->fail < ICMP6_FAIL_MAX);
		return;
	}
	assert_int_equal(m->fail, ICMP6_FAIL_NONE);
	assert_int_equal(ip->hop_limit, 255);
	assert_int_equal(msg.p[1], 0);
	assert_true(m->type >= ICMP6_ND_RS && m->type <= ICMP6_ND_REDIRECT);
	assert_true(msg.len >= ND_RS_LEN);
	assert_true(m->opts.p >= msg.p && m->opts.p + m->opts.len == msg.p + msg.len);
	if (m->type == ICMP6_ND_NS || m->type == ICMP6_ND_NA)
		assert_false(ip6_is_multicast(m->target));
	if (m->type == ICMP6_ND_RA || m->type == ICMP6_ND_REDIRECT)
		assert_true(ip6_is_link_local(ip->src.v6));
	if (ip6_is_unspecified(ip->src.v6))
		assert_false(m->has_sllao);
	assert_true(!m->has_tllao || m->type == ICMP6_ND_NA || m->type == ICMP6_ND_REDIRECT);
	assert_true(!m->has_sllao || m->type <= ICMP6_ND_NS);
	assert_true(m->n_ignored <= m->n_opts);
	if (m->redir.p)
		assert_true(m->redir.p >= m->opts.p && m->redir.p + m->redir.len <= msg.p + msg.len);
	{
		struct view it = m->opts;
		struct nd_prefix p;
		unsigned n = 0;
		while (nd_prefix_next(&it, &p)) {
			n++;
			assert_true(!p.onlink || p.bad == ND_PREFIX_OK);
			assert_true(!p.slaac || (p.bad == ND_PREFIX_OK && p.plen == 64));
		}
		assert_int_equal(n, m->type == ICMP6_ND_RA ? m->n_prefix : n);
		assert_true(m->type == ICMP6_ND_RA || m->n_prefix == 0);
	}
}

static void test_random_robustness(void **state)
{
	static uint8_t g[2200];
	unsigned ok = 0, nd_ok[5] = { 0 }, reasons = 0, echo_ok = 0, err_ok = 0;
	unsigned seen[ICMP6_FAIL_MAX] = { 0 };
	(void)state;

	for (int t = 0; t < 100000; t++) {
		size_t len;
		uint8_t *c;
		struct view v, msg;
		struct ip6_repr ip;
		struct nd_msg m;
		struct icmp6_echo e;
		struct icmp6_error er;
		int rc;

		if (t % 8 == 0) {
			len = IP6_HDR_LEN + rnd() % 120;
			for (size_t i = 0; i < len; i++)
				g[i] = (uint8_t)rnd();
			g[0] = 0x60;
			st16(g + 4, (uint16_t)(len - IP6_HDR_LEN));
		} else {
			len = gen(g, (t % 64) == 1 ? sizeof(g) : 400);
		}
		c = malloc(len);
		assert_non_null(c);
		memcpy(c, g, len);
		v = view_make(c, len);
		assert_int_equal(ip6_parse(&v, &ip), 0);
		msg = v;

		rc = nd_parse(&ip, msg, 0, &m);
		check_nd_result(rc, &m, &ip, msg);
		if (rc == 0) {
			ok++;
			nd_ok[m.type - ICMP6_ND_RS]++;
		} else {
			seen[m.fail]++;
		}
		rc = nd_parse(&ip, msg, ND_PARSE_CSUM_DONE, &m);
		check_nd_result(rc, &m, &ip, msg);
		assert_true(rc || m.fail != ICMP6_FAIL_BAD_CSUM);

		rc = icmp6_echo_parse(msg, &e);
		if (rc == 0) {
			echo_ok++;
			assert_true(e.data.p + e.data.len == msg.p + msg.len);
		} else {
			seen[e.fail]++;
		}
		rc = icmp6_error_parse(msg, &er);
		if (rc == 0) {
			err_ok++;
			assert_true(er.quote.len >= IP6_HDR_LEN && er.quote.p + er.quote.len == msg.p + msg.len);
		} else {
			seen[er.fail]++;
		}
		free(c);

		/* builders into exact-size space of a random size */
		{
			size_t cap = rnd() % 140;
			uint8_t *o = malloc(cap ? cap : 1);
			const uint8_t *a1 = rnd_addr();
			const uint8_t *a2 = rnd_addr();
			const uint8_t *a3 = rnd_addr();
			struct ip6_repr bip = ip_of(a1, a2, 64);
			int n;
			assert_non_null(o);
			switch (rnd() % 5) {
			case 0:
				n = nd_build_ns(o, cap, (enum nd_ns_kind)(rnd() % 3), a1, a3, (rnd() & 1) ? PEER_MAC : NULL);
				break;
			case 1:
				n = nd_build_na(o, cap, a1, a2, a3, (uint8_t)rnd(), (rnd() & 1) ? LOCAL_MAC : NULL);
				break;
			case 2:
				n = nd_build_rs(o, cap, (rnd() & 1) ? a1 : NULL, (rnd() & 1) ? LOCAL_MAC : NULL);
				break;
			case 3:
				n = icmp6_echo_build(o, cap, &bip, (rnd() & 1) ? 128 : 129, 1, 2, g, rnd() % 100);
				break;
			default:
				n = icmp6_error_build(o, cap, &bip, (uint8_t)(rnd() % 5), 0, 0, g, rnd() % 2000);
				break;
			}
			assert_true(n == -EINVAL || n == -ENOSPC || (n >= 48 && (size_t)n <= cap));
			if (n > 0) {
				/* whatever a builder makes, a parser takes */
				v = view_make(o, (size_t)n);
				assert_int_equal(ip6_parse(&v, &ip), 0);
				assert_int_equal(v.len, (size_t)n - IP6_HDR_LEN);
				assert_true(icmp6_csum_ok(ip.src.v6, ip.dst.v6, v.p, v.len));
				if (o[IP6_HDR_LEN] >= ICMP6_ND_RS && o[IP6_HDR_LEN] <= ICMP6_ND_REDIRECT) {
					rc = nd_parse(&ip, v, 0, &m);
					if (rc)
						fail_msg("built %d refused: %s", o[IP6_HDR_LEN], icmp6_fail_name(m.fail));
				}
			}
			free(o);
		}
	}
	/* deep enough: each ND type accepted often, and every refusal a parser can
	 * make reached (the NOERR_* ones are decisions about sending, not parses) */
	for (int f = 1; f < ICMP6_FAIL_MAX; f++) {
		const char *name = icmp6_fail_name((enum icmp6_fail)f);
		if (strncmp(name, "NOERR_", 6) == 0)
			continue;
		reasons++;
		if (!seen[f])
			fail_msg("random inputs never refused with %s", name);
	}
	assert_int_equal(reasons, 21);
	assert_true(ok > 8000);
	for (int i = 0; i < 5; i++)
		assert_true(nd_ok[i] > 400);
	assert_true(echo_ok > 5000);
	assert_true(err_ok > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_csum),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_error_build_vectors),
		cmocka_unit_test(test_error_quote_limits),
		cmocka_unit_test(test_error_parse),
		cmocka_unit_test(test_error_errno),
		cmocka_unit_test(test_error_rules_table),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_eui64),
		cmocka_unit_test(test_nd_parse_vectors),
		cmocka_unit_test(test_nd_build),
		cmocka_unit_test(test_nd_common_checks),
		cmocka_unit_test(test_nd_rs_checks),
		cmocka_unit_test(test_nd_ra_checks),
		cmocka_unit_test(test_nd_prefix),
		cmocka_unit_test(test_nd_ns_checks),
		cmocka_unit_test(test_nd_na_checks),
		cmocka_unit_test(test_nd_redirect_checks),
		cmocka_unit_test(test_random_robustness),
		cmocka_unit_test(test_every_fail_reached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
