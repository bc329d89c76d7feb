/* test_bpf_classic.c — classic BPF (SO_ATTACH_FILTER): the verifier against
 * every refusal rule of Linux's bpf_check_classic / check_load_and_stores, the
 * interpreter on filters as tcpdump compiles them and on hand-written programs
 * for each instruction and ancillary load, a seeded random sweep (20000
 * programs; the accepted ones run on random packets, sized exactly so ASan sees
 * any stray byte), and two comparisons with the running kernel (skipped when
 * the socket calls are unavailable):
 *   - verifier: the same cases, every 16-bit opcode, the ancillary range and the
 *     random programs through setsockopt(SO_ATTACH_FILTER) on an AF_INET
 *     SOCK_DGRAM socket; 100% agreement required;
 *   - interpreter: random programs attached to a UDP socket on 127.0.0.1, fed
 *     datagrams built byte-exact through an IPPROTO_RAW socket; the datagram
 *     the kernel delivers (or drops) must match skiff_bpf_run's result.
 *
 * The tcpdump programs: tcpdump is not installed here, so they were produced
 * once with libpcap 1.10.3 exactly as `tcpdump -dd -i lo EXPR` does
 * (pcap_create("lo") + pcap_activate + pcap_compile(optimize=1) + bpf_dump(2));
 * on a live Linux capture libpcap uses the SKF_AD_VLAN_* loads for `vlan`.
 * They return the snaplen, 262144: clamping to the packet length is the
 * caller's job (packet_rcv), so the tests expect 262144 for an accepted frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/bpf_classic.h"
#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "tests/data/frames.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SNAP 262144u
#define AD(x) ((uint32_t)(SKF_AD_OFF + (x)))
#define NET(x) ((uint32_t)(SKF_NET_OFF + (x)))
#define LL(x) ((uint32_t)(SKF_LL_OFF + (x)))
#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* ---- tcpdump -dd output (libpcap 1.10.3, live "lo", see header) ---- */

/* tcpdump -dd 'ip' */
static const struct sock_filter f_ip[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 1, 0x00000800 }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'udp' */
static const struct sock_filter f_udp[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 2, 0x00000800 }, { 0x30, 0, 0, 0x00000017 },
	{ 0x15, 6, 7, 0x00000011 }, { 0x15, 0, 6, 0x000086dd }, { 0x30, 0, 0, 0x00000014 },
	{ 0x15, 3, 0, 0x00000011 }, { 0x15, 0, 3, 0x0000002c }, { 0x30, 0, 0, 0x00000036 },
	{ 0x15, 0, 1, 0x00000011 }, { 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'tcp port 80' */
static const struct sock_filter f_tcp80[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 6, 0x000086dd }, { 0x30, 0, 0, 0x00000014 },
	{ 0x15, 0, 15, 0x00000006 }, { 0x28, 0, 0, 0x00000036 }, { 0x15, 12, 0, 0x00000050 },
	{ 0x28, 0, 0, 0x00000038 }, { 0x15, 10, 11, 0x00000050 }, { 0x15, 0, 10, 0x00000800 },
	{ 0x30, 0, 0, 0x00000017 }, { 0x15, 0, 8, 0x00000006 }, { 0x28, 0, 0, 0x00000014 },
	{ 0x45, 6, 0, 0x00001fff }, { 0xb1, 0, 0, 0x0000000e }, { 0x48, 0, 0, 0x0000000e },
	{ 0x15, 2, 0, 0x00000050 }, { 0x48, 0, 0, 0x00000010 }, { 0x15, 0, 1, 0x00000050 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'host 198.18.0.1' */
static const struct sock_filter f_host[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 4, 0x00000800 }, { 0x20, 0, 0, 0x0000001a },
	{ 0x15, 8, 0, 0xc6120001 }, { 0x20, 0, 0, 0x0000001e }, { 0x15, 6, 7, 0xc6120001 },
	{ 0x15, 1, 0, 0x00000806 }, { 0x15, 0, 5, 0x00008035 }, { 0x20, 0, 0, 0x0000001c },
	{ 0x15, 2, 0, 0xc6120001 }, { 0x20, 0, 0, 0x00000026 }, { 0x15, 0, 1, 0xc6120001 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'udp and dst port 5000' */
static const struct sock_filter f_udp_dst5000[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 7, 0x00000800 }, { 0x30, 0, 0, 0x00000017 },
	{ 0x15, 0, 11, 0x00000011 }, { 0x28, 0, 0, 0x00000014 }, { 0x45, 9, 0, 0x00001fff },
	{ 0xb1, 0, 0, 0x0000000e }, { 0x48, 0, 0, 0x00000010 }, { 0x15, 5, 6, 0x00001388 },
	{ 0x15, 0, 5, 0x000086dd }, { 0x30, 0, 0, 0x00000014 }, { 0x15, 0, 3, 0x00000011 },
	{ 0x28, 0, 0, 0x00000038 }, { 0x15, 0, 1, 0x00001388 }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'vlan'   (ldb [vlanp] = SKF_AD_VLAN_TAG_PRESENT) */
static const struct sock_filter f_vlan[] = {
	{ 0x30, 0, 0, 0xfffff030 }, { 0x15, 4, 0, 0x00000001 }, { 0x28, 0, 0, 0x0000000c },
	{ 0x15, 2, 0, 0x00008100 }, { 0x15, 1, 0, 0x000088a8 }, { 0x15, 0, 1, 0x00009100 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'vlan 100'   (ldb [vlan_tci] = SKF_AD_VLAN_TAG, all 16 bits) */
static const struct sock_filter f_vlan100[] = {
	{ 0x30, 0, 0, 0xfffff030 }, { 0x15, 4, 0, 0x00000001 }, { 0x28, 0, 0, 0x0000000c },
	{ 0x15, 2, 0, 0x00008100 }, { 0x15, 1, 0, 0x000088a8 }, { 0x15, 0, 8, 0x00009100 },
	{ 0x30, 0, 0, 0xfffff030 }, { 0x15, 0, 2, 0x00000001 }, { 0x30, 0, 0, 0xfffff02c },
	{ 0x5, 0, 0, 0x00000001 }, { 0x28, 0, 0, 0x0000000e }, { 0x54, 0, 0, 0x00000fff },
	{ 0x15, 0, 1, 0x00000064 }, { 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'ether proto 0x88cc' */
static const struct sock_filter f_lldp[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 1, 0x000088cc }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'icmp' */
static const struct sock_filter f_icmp[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 3, 0x00000800 }, { 0x30, 0, 0, 0x00000017 },
	{ 0x15, 0, 1, 0x00000001 }, { 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'len > 100' */
static const struct sock_filter f_len100[] = {
	{ 0x80, 0, 0, 0x00000000 }, { 0x25, 0, 1, 0x00000064 }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'ip[8] < 10' */
static const struct sock_filter f_ttl10[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 3, 0x00000800 }, { 0x30, 0, 0, 0x00000016 },
	{ 0x35, 1, 0, 0x0000000a }, { 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'udp port 53' */
static const struct sock_filter f_udp53[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 6, 0x000086dd }, { 0x30, 0, 0, 0x00000014 },
	{ 0x15, 0, 15, 0x00000011 }, { 0x28, 0, 0, 0x00000036 }, { 0x15, 12, 0, 0x00000035 },
	{ 0x28, 0, 0, 0x00000038 }, { 0x15, 10, 11, 0x00000035 }, { 0x15, 0, 10, 0x00000800 },
	{ 0x30, 0, 0, 0x00000017 }, { 0x15, 0, 8, 0x00000011 }, { 0x28, 0, 0, 0x00000014 },
	{ 0x45, 6, 0, 0x00001fff }, { 0xb1, 0, 0, 0x0000000e }, { 0x48, 0, 0, 0x0000000e },
	{ 0x15, 2, 0, 0x00000035 }, { 0x48, 0, 0, 0x00000010 }, { 0x15, 0, 1, 0x00000035 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'arp' */
static const struct sock_filter f_arp[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 1, 0x00000806 }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'ip6' */
static const struct sock_filter f_ip6[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 1, 0x000086dd }, { 0x6, 0, 0, 0x00040000 },
	{ 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'tcp[tcpflags] & tcp-syn != 0' */
static const struct sock_filter f_syn[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 8, 0x00000800 }, { 0x30, 0, 0, 0x00000017 },
	{ 0x15, 0, 6, 0x00000006 }, { 0x28, 0, 0, 0x00000014 }, { 0x45, 4, 0, 0x00001fff },
	{ 0xb1, 0, 0, 0x0000000e }, { 0x50, 0, 0, 0x0000001b }, { 0x45, 0, 1, 0x00000002 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'ether broadcast' */
static const struct sock_filter f_bcast[] = {
	{ 0x20, 0, 0, 0x00000002 }, { 0x15, 0, 3, 0xffffffff }, { 0x28, 0, 0, 0x00000000 },
	{ 0x15, 0, 1, 0x0000ffff }, { 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};
/* tcpdump -dd 'net 198.18.0.0/15 and not tcp' */
static const struct sock_filter f_net_not_tcp[] = {
	{ 0x28, 0, 0, 0x0000000c }, { 0x15, 0, 8, 0x00000800 }, { 0x20, 0, 0, 0x0000001a },
	{ 0x54, 0, 0, 0xfffe0000 }, { 0x15, 3, 0, 0xc6120000 }, { 0x20, 0, 0, 0x0000001e },
	{ 0x54, 0, 0, 0xfffe0000 }, { 0x15, 0, 11, 0xc6120000 }, { 0x30, 0, 0, 0x00000017 },
	{ 0x15, 9, 8, 0x00000006 }, { 0x15, 1, 0, 0x00000806 }, { 0x15, 0, 7, 0x00008035 },
	{ 0x20, 0, 0, 0x0000001c }, { 0x54, 0, 0, 0xfffe0000 }, { 0x15, 3, 0, 0xc6120000 },
	{ 0x20, 0, 0, 0x00000026 }, { 0x54, 0, 0, 0xfffe0000 }, { 0x15, 0, 1, 0xc6120000 },
	{ 0x6, 0, 0, 0x00040000 }, { 0x6, 0, 0, 0x00000000 },
};

#define FPROG(a) { #a, a, NELEM(a) }
static const struct {
	const char *name;
	const struct sock_filter *prog;
	unsigned len;
} tcpdump_progs[] = {
	FPROG(f_ip),    FPROG(f_udp),   FPROG(f_tcp80), FPROG(f_host),  FPROG(f_udp_dst5000), FPROG(f_vlan),
	FPROG(f_vlan100), FPROG(f_lldp), FPROG(f_icmp), FPROG(f_len100), FPROG(f_ttl10),     FPROG(f_udp53),
	FPROG(f_arp),   FPROG(f_ip6),   FPROG(f_syn),   FPROG(f_bcast), FPROG(f_net_not_tcp),
};

/* ---- frames ---------------------------------------------------------- */

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static size_t put_eth(uint8_t *b, uint16_t type)
{
	memcpy(b, mac_a, 6);
	memcpy(b + 6, mac_b, 6);
	st16(b + 12, type);
	return 14;
}

/* Ethernet + IPv4 (ihl words; options zero) + the first L4 bytes: ports for
 * TCP/UDP, flags for TCP; plen payload bytes. Checksums are not the filters'
 * business and stay zero. Returns the frame length. */
static size_t mk_ip4(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, unsigned ihl, uint16_t frag,
		     uint8_t ttl, uint16_t sport, uint16_t dport, uint8_t tcpflags, size_t plen)
{
	size_t l4 = proto == 6 ? 20 : 8, iphl = ihl * 4u;
	uint8_t *ip = b + put_eth(b, 0x0800), *th = ip + iphl;

	memset(ip, 0, iphl + l4 + plen);
	ip[0] = (uint8_t)(0x40 | ihl);
	st16(ip + 2, (uint16_t)(iphl + l4 + plen));
	st16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	st32(ip + 12, src);
	st32(ip + 16, dst);
	st16(th, sport);
	st16(th + 2, dport);
	if (proto == 6) {
		th[12] = 5 << 4;
		th[13] = tcpflags;
	}
	return 14 + iphl + l4 + plen;
}

/* Ethernet + IPv6 (next header nh) + ports. */
static size_t mk_ip6(uint8_t *b, uint8_t nh, uint16_t sport, uint16_t dport)
{
	uint8_t *ip = b + put_eth(b, 0x86dd);

	memset(ip, 0, 40 + 20);
	ip[0] = 0x60;
	st16(ip + 4, 20);
	ip[6] = nh;
	ip[7] = 64;
	ip[23] = 1; /* 2001:2::1 → 2001:2::2, RFC 5180 benchmarking range */
	st16(ip + 8, 0x2001);
	st16(ip + 10, 0x0002);
	st16(ip + 24, 0x2001);
	st16(ip + 26, 0x0002);
	ip[39] = 2;
	st16(ip + 40, sport);
	st16(ip + 42, dport);
	return 14 + 40 + 20;
}

static uint32_t run(const struct sock_filter *p, unsigned n, const uint8_t *pkt, size_t len,
		    const struct skiff_bpf_aux *aux)
{
	assert_int_equal(skiff_bpf_check(p, n), 0);
	return skiff_bpf_run(p, pkt, (uint32_t)len, aux);
}

#define RUN(f, pkt, len) run(f, NELEM(f), pkt, len, NULL)
#define RUNA(f, pkt, len, aux) run(f, NELEM(f), pkt, len, aux)

/* ---- tcpdump programs on frames ------------------------------------- */

static void test_tcpdump_programs_pass_checker(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(tcpdump_progs); i++)
		if (skiff_bpf_check(tcpdump_progs[i].prog, tcpdump_progs[i].len) != 0)
			fail_msg("%s refused", tcpdump_progs[i].name);
}

static void test_tcpdump_ip_udp_icmp_arp_ip6(void **state)
{
	uint8_t b[128];
	size_t n;
	(void)state;

	assert_int_equal(RUN(f_ip, frame_udp_basic, sizeof(frame_udp_basic)), SNAP);
	assert_int_equal(RUN(f_ip, frame_arp_request, sizeof(frame_arp_request)), 0);
	assert_int_equal(RUN(f_ip, frame_udp_vlan, sizeof(frame_udp_vlan)), 0); /* in-band tag: not "ip" */
	assert_int_equal(RUN(f_udp, frame_udp_basic, sizeof(frame_udp_basic)), SNAP);
	assert_int_equal(RUN(f_udp, frame_icmp_echo_request, sizeof(frame_icmp_echo_request)), 0);
	assert_int_equal(RUN(f_icmp, frame_icmp_echo_request, sizeof(frame_icmp_echo_request)), SNAP);
	assert_int_equal(RUN(f_icmp, frame_udp_basic, sizeof(frame_udp_basic)), 0);
	assert_int_equal(RUN(f_arp, frame_arp_request, sizeof(frame_arp_request)), SNAP);
	assert_int_equal(RUN(f_arp, frame_udp_basic, sizeof(frame_udp_basic)), 0);
	n = mk_ip6(b, 17, 4000, 53);
	assert_int_equal(RUN(f_udp, b, n), SNAP);
	assert_int_equal(RUN(f_ip6, b, n), SNAP);
	assert_int_equal(RUN(f_ip, b, n), 0);
	n = mk_ip6(b, 6, 4000, 80);
	assert_int_equal(RUN(f_udp, b, n), 0);
	/* truncated: the ethertype is there, the protocol byte is not */
	assert_int_equal(RUN(f_udp, frame_udp_basic, 20), 0);
	assert_int_equal(RUN(f_ip, frame_udp_basic, 14), SNAP);
	assert_int_equal(RUN(f_ip, frame_udp_basic, 13), 0);
	assert_int_equal(RUN(f_ip, frame_udp_basic, 0), 0);
}

static void test_tcpdump_tcp_port_80(void **state)
{
	uint8_t b[128];
	size_t n;
	(void)state;

	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 34567, 80, 0x02, 0);
	assert_int_equal(RUN(f_tcp80, b, n), SNAP);
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 80, 34567, 0x12, 0);
	assert_int_equal(RUN(f_tcp80, b, n), SNAP); /* source port */
	/* IP options (ihl 7): ldxb 4*([14]&0xf) must find the TCP header at 14+28 */
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 7, 0, 64, 34567, 80, 0x10, 10);
	assert_int_equal(RUN(f_tcp80, b, n), SNAP);
	b[14] = 0x45; /* same bytes read with ihl 5: the ports are option bytes */
	assert_int_equal(RUN(f_tcp80, b, n), 0);
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 34567, 80, 0, 0);
	assert_int_equal(RUN(f_tcp80, b, n), 0); /* UDP */
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0x0010, 64, 34567, 80, 0, 0);
	assert_int_equal(RUN(f_tcp80, b, n), 0); /* a later fragment has no ports */
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0x2000, 64, 34567, 80, 0, 0);
	assert_int_equal(RUN(f_tcp80, b, n), SNAP); /* MF set, offset 0: first fragment */
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 34567, 80, 0, 0);
	assert_int_equal(RUN(f_tcp80, b, 35), 0);    /* cut inside the source port */
	assert_int_equal(RUN(f_tcp80, b, 37), 0);    /* sport is not 80, dport is cut: the load ends it */
	assert_int_equal(RUN(f_tcp80, b, 38), SNAP); /* just enough */
	n = mk_ip6(b, 6, 34567, 80);
	assert_int_equal(RUN(f_tcp80, b, n), SNAP);
	n = mk_ip6(b, 6, 34567, 81);
	assert_int_equal(RUN(f_tcp80, b, n), 0);
}

static void test_tcpdump_host_and_net(void **state)
{
	uint8_t b[128];
	size_t n;
	(void)state;

	assert_int_equal(RUN(f_host, frame_udp_basic, sizeof(frame_udp_basic)), SNAP);      /* dst */
	assert_int_equal(RUN(f_host, frame_arp_request, sizeof(frame_arp_request)), SNAP);  /* ARP tpa */
	assert_int_equal(RUN(f_host, frame_arp_reply_expected, sizeof(frame_arp_reply_expected)), SNAP); /* spa */
	n = mk_ip4(b, 17, IP4(198, 18, 0, 1), IP4(198, 18, 0, 9), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_host, b, n), SNAP); /* src */
	n = mk_ip4(b, 17, IP4(198, 18, 0, 7), IP4(198, 18, 0, 9), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_host, b, n), 0);
	assert_int_equal(RUN(f_net_not_tcp, b, n), SNAP);
	n = mk_ip4(b, 6, IP4(198, 18, 0, 7), IP4(198, 18, 0, 9), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_net_not_tcp, b, n), 0); /* tcp */
	n = mk_ip4(b, 17, IP4(10, 0, 0, 1), IP4(198, 19, 255, 1), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_net_not_tcp, b, n), SNAP); /* 198.19/16 is inside 198.18/15 */
	n = mk_ip4(b, 17, IP4(10, 0, 0, 1), IP4(198, 20, 0, 1), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_net_not_tcp, b, n), 0);
	assert_int_equal(RUN(f_net_not_tcp, frame_arp_request, sizeof(frame_arp_request)), SNAP);
}

static void test_tcpdump_udp_ports(void **state)
{
	uint8_t b[128];
	size_t n;
	(void)state;

	assert_int_equal(RUN(f_udp_dst5000, frame_udp_basic, sizeof(frame_udp_basic)), SNAP);
	assert_int_equal(RUN(f_udp_dst5000, frame_udp_ip_opts, sizeof(frame_udp_ip_opts)), SNAP); /* ihl 6 */
	assert_int_equal(RUN(f_udp_dst5000, frame_udp_zero_csum, sizeof(frame_udp_zero_csum)), SNAP);
	assert_int_equal(RUN(f_udp_dst5000, frame_udp_closed_port, sizeof(frame_udp_closed_port)), 0); /* dport 9 */
	assert_int_equal(RUN(f_udp_dst5000, frame_udp_frag_0, sizeof(frame_udp_frag_0)), SNAP);
	assert_int_equal(RUN(f_udp_dst5000, frame_udp_frag_1, sizeof(frame_udp_frag_1)), 0); /* offset != 0 */
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 5000, 4000, 0, 4);
	assert_int_equal(RUN(f_udp_dst5000, b, n), 0); /* source port 5000 only */
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 4000, 53, 0, 4);
	assert_int_equal(RUN(f_udp53, b, n), SNAP);
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 53, 4000, 0, 4);
	assert_int_equal(RUN(f_udp53, b, n), SNAP);
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 53, 4000, 0, 4);
	assert_int_equal(RUN(f_udp53, b, n), 0);
	n = mk_ip6(b, 17, 4000, 53);
	assert_int_equal(RUN(f_udp53, b, n), SNAP);
	assert_int_equal(RUN(f_udp_dst5000, b, n), 0);
	n = mk_ip6(b, 17, 4000, 5000);
	assert_int_equal(RUN(f_udp_dst5000, b, n), SNAP);
}

static void test_tcpdump_vlan(void **state)
{
	struct skiff_bpf_aux aux;
	uint8_t b[sizeof(frame_udp_vlan)];
	(void)state;

	/* in-band 802.1Q tag (prio 5, VID 100), no offload */
	assert_int_equal(RUN(f_vlan, frame_udp_vlan, sizeof(frame_udp_vlan)), SNAP);
	assert_int_equal(RUN(f_vlan100, frame_udp_vlan, sizeof(frame_udp_vlan)), SNAP);
	memcpy(b, frame_udp_vlan, sizeof(b));
	b[15] = 200; /* VID 200 */
	assert_int_equal(RUN(f_vlan100, b, sizeof(b)), 0);
	st16(b + 12, 0x88a8); /* 802.1ad */
	assert_int_equal(RUN(f_vlan, b, sizeof(b)), SNAP);
	assert_int_equal(RUN(f_vlan, frame_udp_basic, sizeof(frame_udp_basic)), 0);

	/* offloaded tag (the kernel's skb->vlan_tci): the frame itself is untagged */
	memset(&aux, 0, sizeof(aux));
	aux.vlan_present = 1;
	aux.vlan_tpid = 0x8100;
	aux.vlan_tci = 0xa064; /* PCP 5, VID 100 */
	assert_int_equal(RUNA(f_vlan, frame_udp_basic, sizeof(frame_udp_basic), &aux), SNAP);
	assert_int_equal(RUNA(f_vlan100, frame_udp_basic, sizeof(frame_udp_basic), &aux), SNAP);
	/* VID 0x164: a one-byte load of the TCI would see 0x64 = 100 and accept;
	 * Linux ignores the size for ancillary loads and so must we. */
	aux.vlan_tci = 0x0164;
	assert_int_equal(RUNA(f_vlan100, frame_udp_basic, sizeof(frame_udp_basic), &aux), 0);
}

static void test_tcpdump_ether_len_ttl_syn_bcast(void **state)
{
	uint8_t b[160];
	size_t n;
	(void)state;

	n = put_eth(b, 0x88cc);
	memset(b + n, 0, 32);
	n += 32;
	assert_int_equal(RUN(f_lldp, b, n), SNAP);
	assert_int_equal(RUN(f_lldp, frame_udp_basic, sizeof(frame_udp_basic)), 0);

	memset(b, 0, sizeof(b));
	assert_int_equal(RUN(f_len100, b, 101), SNAP);
	assert_int_equal(RUN(f_len100, b, 100), 0);
	assert_int_equal(RUN(f_len100, b, 0), 0);

	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 1, 2, 0, 0);
	assert_int_equal(RUN(f_ttl10, b, n), 0);
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 9, 1, 2, 0, 0);
	assert_int_equal(RUN(f_ttl10, b, n), SNAP);
	n = mk_ip4(b, 17, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 10, 1, 2, 0, 0);
	assert_int_equal(RUN(f_ttl10, b, n), 0);

	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 1, 2, 0x02, 0);
	assert_int_equal(RUN(f_syn, b, n), SNAP);
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 6, 0, 64, 1, 2, 0x12, 0);
	assert_int_equal(RUN(f_syn, b, n), SNAP); /* SYN-ACK behind an option word */
	n = mk_ip4(b, 6, IP4(198, 18, 0, 2), IP4(198, 18, 0, 1), 5, 0, 64, 1, 2, 0x10, 0);
	assert_int_equal(RUN(f_syn, b, n), 0);

	assert_int_equal(RUN(f_bcast, frame_arp_request, sizeof(frame_arp_request)), SNAP);
	assert_int_equal(RUN(f_bcast, frame_udp_basic, sizeof(frame_udp_basic)), 0);
}

/* ---- instruction semantics ------------------------------------------ */

#define S(c, k) BPF_STMT(c, k)
#define J(c, k, t, f) BPF_JUMP(c, k, t, f)

static uint32_t alu(uint16_t code, uint32_t a, uint32_t xk)
{
	struct sock_filter p[] = {
		S(BPF_LD | BPF_IMM, a), S(BPF_LDX | BPF_IMM, xk), { code, 0, 0, xk }, S(BPF_RET | BPF_A, 0),
	};
	return RUN(p, NULL, 0);
}

static void test_alu(void **state)
{
	(void)state;
	assert_int_equal(alu(BPF_ALU | BPF_ADD | BPF_K, 0xffffffffu, 2), 1);
	assert_int_equal(alu(BPF_ALU | BPF_ADD | BPF_X, 0xfffffffeu, 3), 1);
	assert_int_equal(alu(BPF_ALU | BPF_SUB | BPF_K, 1, 2), 0xffffffffu);
	assert_int_equal(alu(BPF_ALU | BPF_SUB | BPF_X, 10, 3), 7);
	assert_int_equal(alu(BPF_ALU | BPF_MUL | BPF_K, 0x10000u, 0x10001u), 0x10000u);
	assert_int_equal(alu(BPF_ALU | BPF_MUL | BPF_X, 7, 6), 42);
	assert_int_equal(alu(BPF_ALU | BPF_DIV | BPF_K, 0xffffffffu, 2), 0x7fffffffu); /* unsigned */
	assert_int_equal(alu(BPF_ALU | BPF_DIV | BPF_X, 100, 7), 14);
	assert_int_equal(alu(BPF_ALU | BPF_MOD | BPF_K, 100, 7), 2);
	assert_int_equal(alu(BPF_ALU | BPF_MOD | BPF_X, 0xffffffffu, 10), 5);
	assert_int_equal(alu(BPF_ALU | BPF_AND | BPF_K, 0xf0f0, 0xff00), 0xf000);
	assert_int_equal(alu(BPF_ALU | BPF_AND | BPF_X, 0xf0f0, 0x0ff0), 0x00f0);
	assert_int_equal(alu(BPF_ALU | BPF_OR | BPF_K, 0xf000, 0x000f), 0xf00f);
	assert_int_equal(alu(BPF_ALU | BPF_OR | BPF_X, 1, 2), 3);
	assert_int_equal(alu(BPF_ALU | BPF_XOR | BPF_K, 0xff, 0x0f), 0xf0);
	assert_int_equal(alu(BPF_ALU | BPF_XOR | BPF_X, 0xff, 0xff), 0);
	assert_int_equal(alu(BPF_ALU | BPF_LSH | BPF_K, 0x80000001u, 1), 2);
	assert_int_equal(alu(BPF_ALU | BPF_LSH | BPF_K, 1, 31), 0x80000000u);
	assert_int_equal(alu(BPF_ALU | BPF_RSH | BPF_K, 0x80000000u, 31), 1); /* logical */
	assert_int_equal(alu(BPF_ALU | BPF_LSH | BPF_X, 1, 4), 16);
	assert_int_equal(alu(BPF_ALU | BPF_RSH | BPF_X, 256, 4), 16);
	/* shift by X >= 32: modulo 32, as the kernel's ALU32 shifts (x86: shl/shr %cl) */
	assert_int_equal(alu(BPF_ALU | BPF_LSH | BPF_X, 1, 33), 2);
	assert_int_equal(alu(BPF_ALU | BPF_RSH | BPF_X, 0x80u, 32), 0x80u);
	assert_int_equal(alu(BPF_ALU | BPF_LSH | BPF_X, 1, 48), 0x10000u);
	assert_int_equal(alu(BPF_ALU | BPF_RSH | BPF_X, 0x80000000u, 0xffffffe1u), 0x40000000u);
	assert_int_equal(alu(BPF_ALU | BPF_NEG, 1, 0), 0xffffffffu);
	assert_int_equal(alu(BPF_ALU | BPF_NEG, 0x80000000u, 0), 0x80000000u);
	assert_int_equal(alu(BPF_MISC | BPF_TAX, 5, 9), 5);
	assert_int_equal(alu(BPF_MISC | BPF_TXA, 5, 9), 9);
}

static void test_div_mod_by_x_zero_returns_zero(void **state)
{
	const struct sock_filter div[] = {
		S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_DIV | BPF_X, 0), S(BPF_RET | BPF_K, 7),
	};
	const struct sock_filter mod[] = {
		S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_MOD | BPF_X, 0), S(BPF_RET | BPF_K, 7),
	};
	const struct sock_filter ok[] = {
		S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 1), S(BPF_ALU | BPF_DIV | BPF_X, 0), S(BPF_RET | BPF_K, 7),
	};
	(void)state;
	assert_int_equal(RUN(div, NULL, 0), 0);
	assert_int_equal(RUN(mod, NULL, 0), 0);
	assert_int_equal(RUN(ok, NULL, 0), 7);
}

static uint32_t ld1(uint16_t code, uint32_t x, uint32_t k, const uint8_t *pkt, size_t len,
		    const struct skiff_bpf_aux *aux)
{
	/* returns A + 1, so a failed load (0) differs from a loaded 0 */
	const struct sock_filter p[] = {
		S(BPF_LDX | BPF_IMM, x), { code, 0, 0, k }, S(BPF_ALU | BPF_ADD | BPF_K, 1), S(BPF_RET | BPF_A, 0),
	};
	return RUNA(p, pkt, len, aux);
}

static void test_packet_loads_and_bounds(void **state)
{
	uint8_t *pkt = malloc(20); /* exact size: ASan catches a byte too far */
	(void)state;
	for (int i = 0; i < 20; i++)
		pkt[i] = (uint8_t)(0x10 + i);

	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, 16, pkt, 20, NULL), 0x20212223u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, 17, pkt, 20, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, 18, pkt, 20, NULL), 0x2223u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, 19, pkt, 20, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, 19, pkt, 20, NULL), 0x23u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, 20, pkt, 20, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, 0, pkt, 0, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, 0x7ffffffeu, pkt, 20, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, 0x80000000u, pkt, 20, NULL), 0); /* below SKF_LL_OFF */
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, 0xfffffffcu - 0x1000, pkt, 20, NULL), 0);
	/* indirect: X + k wraps in 32 bits */
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_IND, 0xfffffffeu, 3, pkt, 20, NULL), 0x11u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_IND, 1, 0xffffffffu, pkt, 20, NULL), 0x1011u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_IND, 16, 0, pkt, 20, NULL), 0x20212223u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_IND, 17, 0, pkt, 20, NULL), 0);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_IND, 0xffffffffu, 0xffffffffu, pkt, 20, NULL), 0);
	/* an indirect load at an ancillary offset is a plain (failing) load, not ancillary */
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_IND, 0, AD(SKF_AD_PROTOCOL), pkt, 20, NULL), 0);
	/* length */
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_LEN, 0, 0, pkt, 20, NULL), 21);
	free(pkt);
}

static void test_msh(void **state)
{
	const struct sock_filter p[] = {
		S(BPF_LDX | BPF_B | BPF_MSH, 14), S(BPF_MISC | BPF_TXA, 0), S(BPF_RET | BPF_A, 0),
	};
	const struct sock_filter oob[] = {
		S(BPF_LDX | BPF_B | BPF_MSH, 47), S(BPF_RET | BPF_K, 1),
	};
	(void)state;
	assert_int_equal(RUN(p, frame_udp_basic, sizeof(frame_udp_basic)), 20);
	assert_int_equal(RUN(p, frame_udp_ip_opts, sizeof(frame_udp_ip_opts)), 24);
	assert_int_equal(RUN(oob, frame_udp_basic, sizeof(frame_udp_basic)), 0);
	assert_int_equal(RUN(oob, frame_udp_ip_opts, sizeof(frame_udp_ip_opts)), 1);
}

static void test_negative_offsets(void **state)
{
	struct skiff_bpf_aux aux;
	uint8_t *buf = malloc(sizeof(frame_udp_basic));
	const uint8_t *ip = buf + 14;
	uint32_t iplen = sizeof(frame_udp_basic) - 14;
	(void)state;

	memcpy(buf, frame_udp_basic, sizeof(frame_udp_basic));
	/* SOCK_RAW: pkt is the frame, the network header at 14 */
	memset(&aux, 0, sizeof(aux));
	aux.net_off = 14;
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, NET(16), buf, sizeof(frame_udp_basic), &aux),
			 IP4(198, 18, 0, 1) + 1);
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, LL(12), buf, sizeof(frame_udp_basic), &aux), 0x0800 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, NET(32), buf, sizeof(frame_udp_basic), &aux), 'o' + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, NET(33), buf, sizeof(frame_udp_basic), &aux), 0);
	/* tcpdump-style "udp dst port" through MSH + IND relative to the network header */
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_IND, 20, NET(2), buf, sizeof(frame_udp_basic), &aux), 5000 + 1);
	/* the top of the SKF_NET_OFF range (k = -1) is network header + 0xfffff */
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_IND, 0xffffffffu, 0, buf, sizeof(frame_udp_basic), &aux), 0);
	/* just below SKF_LL_OFF: nothing */
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_IND, LL(0), 0xffffffffu, buf, sizeof(frame_udp_basic), &aux), 0);
	/* MSH takes negative offsets too */
	{
		const struct sock_filter p[] = {
			S(BPF_LDX | BPF_B | BPF_MSH, NET(0)), S(BPF_MISC | BPF_TXA, 0), S(BPF_RET | BPF_A, 0),
		};
		assert_int_equal(RUNA(p, buf, sizeof(frame_udp_basic), &aux), 20);
	}

	/* SOCK_DGRAM: pkt is the IP header; the link header is in the headroom */
	memset(&aux, 0, sizeof(aux));
	aux.ll_off = -14;
	aux.net_off = 0;
	aux.headroom = 14;
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, LL(12), ip, iplen, &aux), 0x0800 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_ABS, 0, LL(0), ip, iplen, &aux), 0x02000000u + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, 0, ip, iplen, &aux), 0x45 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, NET(9), ip, iplen, &aux), 17 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_W | BPF_LEN, 0, 0, ip, iplen, &aux), iplen + 1);
	/* less headroom than the link header: what is not readable fails */
	aux.headroom = 2;
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, LL(12), ip, iplen, &aux), 0x0800 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_H | BPF_ABS, 0, LL(11), ip, iplen, &aux), 0);
	aux.headroom = 0;
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, LL(13), ip, iplen, &aux), 0);
	/* no aux: both headers at pkt[0] */
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, NET(0), ip, iplen, NULL), 0x45 + 1);
	assert_int_equal(ld1(BPF_LD | BPF_B | BPF_ABS, 0, LL(1), ip, iplen, NULL), 0x00 + 1);
	free(buf);
}

static void test_scratch_memory_and_jumps(void **state)
{
	const struct sock_filter mem[] = {
		S(BPF_LD | BPF_IMM, 11), S(BPF_ST, 0), S(BPF_LDX | BPF_IMM, 22), S(BPF_STX, 15),
		S(BPF_LD | BPF_MEM, 15), S(BPF_LDX | BPF_MEM, 0), S(BPF_ALU | BPF_MUL | BPF_X, 0),
		S(BPF_RET | BPF_A, 0),
	};
	/* A = 0xffffffff: unsigned compares; JEQ with k >= 2^31 (Linux zero-extends) */
	const struct sock_filter jmp[] = {
		S(BPF_LD | BPF_IMM, 0xffffffffu),
		J(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 7),
		J(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 6),
		J(BPF_JMP | BPF_JGE | BPF_K, 0xffffffffu, 0, 5),
		J(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 0, 4),
		S(BPF_LDX | BPF_IMM, 0xfffffffeu),
		J(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 2),
		J(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1),
		S(BPF_JMP | BPF_JA, 1),
		S(BPF_RET | BPF_K, 99),
		S(BPF_RET | BPF_K, 1), /* 10: all taken as expected */
	};
	const struct sock_filter jmp_false[] = {
		S(BPF_LD | BPF_IMM, 5), S(BPF_LDX | BPF_IMM, 6),
		J(BPF_JMP | BPF_JGE | BPF_X, 0, 4, 0),
		J(BPF_JMP | BPF_JEQ | BPF_X, 0, 3, 0),
		J(BPF_JMP | BPF_JSET | BPF_K, 2, 2, 0),
		J(BPF_JMP | BPF_JGT | BPF_K, 5, 1, 0),
		S(BPF_RET | BPF_K, 1),
		S(BPF_RET | BPF_K, 99),
	};
	(void)state;
	assert_int_equal(RUN(mem, NULL, 0), 242);
	assert_int_equal(RUN(jmp, NULL, 0), 1);
	assert_int_equal(RUN(jmp_false, NULL, 0), 1);
}

static uint32_t anc(uint32_t code, uint16_t size, uint32_t a, uint32_t x, const uint8_t *pkt, size_t len,
		    const struct skiff_bpf_aux *aux)
{
	const struct sock_filter p[] = {
		S(BPF_LD | BPF_IMM, a), S(BPF_LDX | BPF_IMM, x), S(BPF_LD | size | BPF_ABS, AD(code)),
		S(BPF_RET | BPF_A, 0),
	};
	return RUNA(p, pkt, len, aux);
}

static void test_ancillary(void **state)
{
	static const uint16_t sizes[] = { BPF_B, BPF_H, BPF_W };
	struct skiff_bpf_aux aux;
	(void)state;

	memset(&aux, 0, sizeof(aux));
	aux.protocol = 0x86dd;
	aux.pkttype = 3; /* PACKET_OTHERHOST */
	aux.ifindex = 0x01020304;
	aux.mark = 0;
	aux.queue = 0xabcd;
	aux.hatype = 1;
	aux.rxhash = 0xdeadbeef;
	aux.cpu = 7;
	aux.vlan_tci = 0xe123;
	aux.vlan_present = 1;
	aux.vlan_tpid = 0x88a8;
	aux.pay_offset = 42;
	aux.random = 0x5eed5eed;
	for (size_t i = 0; i < NELEM(sizes); i++) { /* the size never matters */
		uint16_t sz = sizes[i];
		assert_int_equal(anc(SKF_AD_PROTOCOL, sz, 0, 0, NULL, 0, &aux), 0x86dd);
		assert_int_equal(anc(SKF_AD_PKTTYPE, sz, 0, 0, NULL, 0, &aux), 3);
		assert_int_equal(anc(SKF_AD_IFINDEX, sz, 0, 0, NULL, 0, &aux), 0x01020304);
		assert_int_equal(anc(SKF_AD_MARK, sz, 9, 0, NULL, 0, &aux), 0);
		assert_int_equal(anc(SKF_AD_QUEUE, sz, 0, 0, NULL, 0, &aux), 0xabcd);
		assert_int_equal(anc(SKF_AD_HATYPE, sz, 0, 0, NULL, 0, &aux), 1);
		assert_int_equal(anc(SKF_AD_RXHASH, sz, 0, 0, NULL, 0, &aux), 0xdeadbeef);
		assert_int_equal(anc(SKF_AD_CPU, sz, 0, 0, NULL, 0, &aux), 7);
		assert_int_equal(anc(SKF_AD_ALU_XOR_X, sz, 0xf0f0, 0x00ff, NULL, 0, &aux), 0xf00f);
		assert_int_equal(anc(SKF_AD_VLAN_TAG, sz, 0, 0, NULL, 0, &aux), 0xe123);
		assert_int_equal(anc(SKF_AD_VLAN_TAG_PRESENT, sz, 0, 0, NULL, 0, &aux), 1);
		assert_int_equal(anc(SKF_AD_VLAN_TPID, sz, 0, 0, NULL, 0, &aux), 0x88a8);
		assert_int_equal(anc(SKF_AD_PAY_OFFSET, sz, 0, 0, NULL, 0, &aux), 42);
		assert_int_equal(anc(SKF_AD_RANDOM, sz, 0, 0, NULL, 0, &aux), 0x5eed5eed);
	}
	aux.vlan_present = 0x80; /* any non-zero reads as 1 */
	assert_int_equal(anc(SKF_AD_VLAN_TAG_PRESENT, BPF_B, 0, 0, NULL, 0, &aux), 1);
	aux.pkttype = 0xfc; /* 3 bits, PKT_TYPE_MAX */
	assert_int_equal(anc(SKF_AD_PKTTYPE, BPF_B, 0, 0, NULL, 0, &aux), 4);
	/* aux NULL: all-zero metadata */
	assert_int_equal(anc(SKF_AD_PROTOCOL, BPF_H, 5, 0, NULL, 0, NULL), 0);
	assert_int_equal(anc(SKF_AD_VLAN_TAG_PRESENT, BPF_B, 5, 0, NULL, 0, NULL), 0);
	assert_int_equal(anc(SKF_AD_ALU_XOR_X, BPF_W, 5, 3, NULL, 0, NULL), 6);
}

static size_t put_nla(uint8_t *b, uint16_t len, uint16_t type)
{
	memcpy(b, &len, 2); /* netlink headers are host order */
	memcpy(b + 2, &type, 2);
	return 4;
}

/* SKF_AD_NLATTR / NLATTR_NEST: bpf_skb_get_nlattr{,_nest} over the packet. */
static void test_ancillary_nlattr(void **state)
{
	uint8_t b[64];
	size_t n = 0;
	(void)state;

	memset(b, 0xee, sizeof(b));
	n += put_nla(b + n, 4 + 8, 0); /* a fake nlmsghdr-sized prefix: attr type 0, 12 bytes */
	n += 8;
	size_t a1 = n;
	n += put_nla(b + n, 8, 1); /* u32 */
	n += 4;
	size_t a2 = n;
	n += put_nla(b + n, 5, 2); /* u8, padded to 8 */
	n += 4;
	size_t a3 = n;
	n += put_nla(b + n, 4 + 8 + 4, 3 | 0x8000); /* nested (NLA_F_NESTED), two children */
	size_t c1 = n;
	n += put_nla(b + n, 8, 7);
	n += 4;
	size_t c2 = n;
	n += put_nla(b + n, 4, 9 | 0x4000); /* NLA_F_NET_BYTEORDER, empty */
	size_t a4 = n;
	n += put_nla(b + n, 200, 4); /* claims more than is left: the walk stops */
	n += 4;

	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 1, b, n, NULL), a1);
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 2, b, n, NULL), a2);
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 3, b, n, NULL), a3); /* flags masked */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 0, b, n, NULL), 0);  /* found at offset 0 */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 4, b, n, NULL), 0);  /* nla_len > remaining */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 7, b, n, NULL), 0);  /* only inside the nest */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, (uint32_t)a2, 3, b, n, NULL), a3); /* start at A */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, (uint32_t)a2, 1, b, n, NULL), 0);
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, (uint32_t)n - 3, 1, b, n, NULL), 0); /* A > len - 4 */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0xffffffffu, 1, b, n, NULL), 0);
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, 0, 1, b, 3, NULL), 0); /* len < 4 */
	assert_int_equal(anc(SKF_AD_NLATTR, BPF_W, (uint32_t)a4, 4, b, n, NULL), 0);

	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 7, b, n, NULL), c1);
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 9, b, n, NULL), c2);
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 1, b, n, NULL), 0);
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a4, 4, b, n, NULL), 0); /* outer too long */
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)c2, 9, b, n, NULL), 0); /* empty nest */
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)n - 3, 1, b, n, NULL), 0);
	/* the nest's own length bounds the search: shrink attr 3 to hold only child 1 */
	put_nla(b + a3, 4 + 8, 3);
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 9, b, n, NULL), 0);
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 7, b, n, NULL), c1);
	put_nla(b + a3, 2, 3); /* nla_len < 4: nla_len() negative, nothing */
	assert_int_equal(anc(SKF_AD_NLATTR_NEST, BPF_W, (uint32_t)a3, 7, b, n, NULL), 0);
}

/* ---- verifier cases (also run against the kernel) -------------------- */

/* A program as a compound literal and its length. */
#define PROG(...) (const struct sock_filter[]){ __VA_ARGS__ }, \
	(unsigned)(sizeof((const struct sock_filter[]){ __VA_ARGS__ }) / sizeof(struct sock_filter))
#define RET0 S(BPF_RET | BPF_K, 0)
#define RETA S(BPF_RET | BPF_A, 0)

struct vcase {
	const char *name;
	const struct sock_filter *prog;
	unsigned len;
	int want; /* 0 or -EINVAL */
};

static const struct vcase vcases[] = {
	/* bpf_check_basics_ok */
	{ "NULL program", NULL, 1, -EINVAL },
	{ "length 0", (const struct sock_filter[]){ RET0 }, 0, -EINVAL },
	/* chk_code_allowed: codes outside the table (exact 16-bit match) */
	{ "ALU NEG|X (0x8c)", PROG(S(BPF_ALU | BPF_NEG | BPF_X, 0), RET0), -EINVAL },
	{ "RET X (0x0e)", PROG(S(BPF_RET | BPF_X, 0)), -EINVAL },
	{ "LD H IMM (0x08)", PROG(S(BPF_LD | BPF_H | BPF_IMM, 0), RET0), -EINVAL },
	{ "LD B LEN (0x90)", PROG(S(BPF_LD | BPF_B | BPF_LEN, 0), RET0), -EINVAL },
	{ "LDX W ABS (0x21, seccomp only)", PROG(S(BPF_LDX | BPF_W | BPF_ABS, 0), RET0), -EINVAL },
	{ "LDX B IND (0x51)", PROG(S(BPF_LDX | BPF_B | BPF_IND, 0), RET0), -EINVAL },
	{ "LDX W MSH (0xa1)", PROG(S(BPF_LDX | BPF_W | BPF_MSH, 0), RET0), -EINVAL },
	{ "LD B MSH (0xb0)", PROG(S(BPF_LD | BPF_B | BPF_MSH, 0), RET0), -EINVAL },
	{ "ST with size bits (0x12)", PROG(S(BPF_ST | BPF_B, 0), RET0), -EINVAL },
	{ "ALU op 0xb0 (eBPF MOV)", PROG(S(BPF_ALU | 0xb0, 0), RET0), -EINVAL },
	{ "ALU op 0xc0 (eBPF ARSH)", PROG(S(BPF_ALU | 0xc0, 0), RET0), -EINVAL },
	{ "JMP op 0x50 (eBPF JNE)", PROG(J(BPF_JMP | 0x50, 0, 0, 0), RET0), -EINVAL },
	{ "JA|X (0x0d)", PROG(S(BPF_JMP | BPF_JA | BPF_X, 0), RET0), -EINVAL },
	{ "MISC 0x40 (0x47)", PROG(S(BPF_MISC | 0x40, 0), RET0), -EINVAL },
	{ "RET K with bit 8 set (0x106)", PROG(S(0x106, 0)), -EINVAL },
	{ "code 0xffff", PROG(S(0xffff, 0), RET0), -EINVAL },
	/* per-opcode operand checks */
	{ "DIV K 0", PROG(S(BPF_ALU | BPF_DIV | BPF_K, 0), RET0), -EINVAL },
	{ "MOD K 0", PROG(S(BPF_ALU | BPF_MOD | BPF_K, 0), RET0), -EINVAL },
	{ "DIV K 1", PROG(S(BPF_ALU | BPF_DIV | BPF_K, 1), RET0), 0 },
	{ "DIV X (checked at run time)", PROG(S(BPF_ALU | BPF_DIV | BPF_X, 0), RET0), 0 },
	{ "LSH K 32", PROG(S(BPF_ALU | BPF_LSH | BPF_K, 32), RET0), -EINVAL },
	{ "RSH K 0xffffffff", PROG(S(BPF_ALU | BPF_RSH | BPF_K, 0xffffffffu), RET0), -EINVAL },
	{ "LSH K 31", PROG(S(BPF_ALU | BPF_LSH | BPF_K, 31), RET0), 0 },
	{ "RSH K 31", PROG(S(BPF_ALU | BPF_RSH | BPF_K, 31), RET0), 0 },
	{ "ST M[16]", PROG(S(BPF_ST, 16), RET0), -EINVAL },
	{ "STX M[16]", PROG(S(BPF_STX, 16), RET0), -EINVAL },
	{ "LD M[16]", PROG(S(BPF_ST, 0), S(BPF_LD | BPF_MEM, 16), RET0), -EINVAL },
	{ "LDX M[0x80000000]", PROG(S(BPF_ST, 0), S(BPF_LDX | BPF_MEM, 0x80000000u), RET0), -EINVAL },
	{ "ST M[15] then LD M[15]", PROG(S(BPF_ST, 15), S(BPF_LD | BPF_MEM, 15), RETA), 0 },
	/* jumps */
	{ "JA 0 (next)", PROG(S(BPF_JMP | BPF_JA, 0), RET0), 0 },
	{ "JA to the last insn", PROG(S(BPF_JMP | BPF_JA, 1), RET0, RET0), 0 },
	{ "JA past the end", PROG(S(BPF_JMP | BPF_JA, 1), RET0), -EINVAL },
	{ "JA 0xffffffff (a backward jump if signed)", PROG(S(BPF_JMP | BPF_JA, 0xffffffffu), RET0), -EINVAL },
	{ "JA as last insn", PROG(RET0, S(BPF_JMP | BPF_JA, 0)), -EINVAL },
	{ "JEQ both in range", PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), RET0, RET0), 0 },
	{ "JEQ jt past the end", PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0), RET0, RET0), -EINVAL },
	{ "JGT jf past the end", PROG(J(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 2), RET0, RET0), -EINVAL },
	{ "JSET jt 255 in a short program", PROG(J(BPF_JMP | BPF_JSET | BPF_K, 0, 255, 0), RET0), -EINVAL },
	{ "JGE as last insn", PROG(RET0, J(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 0)), -EINVAL },
	/* last instruction must be RET */
	{ "no RET", PROG(S(BPF_LD | BPF_IMM, 0)), -EINVAL },
	{ "RET then LD", PROG(RET0, S(BPF_LD | BPF_IMM, 0)), -EINVAL },
	{ "RET A only", PROG(RETA), 0 },
	/* ancillary range */
	{ "LD B ABS SKF_AD_OFF+PROTOCOL", PROG(S(BPF_LD | BPF_B | BPF_ABS, AD(SKF_AD_PROTOCOL)), RET0), 0 },
	{ "LD W ABS SKF_AD_OFF+VLAN_TPID", PROG(S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_VLAN_TPID)), RET0), 0 },
	{ "LD H ABS SKF_AD_OFF+SKF_AD_MAX", PROG(S(BPF_LD | BPF_H | BPF_ABS, AD(SKF_AD_MAX)), RET0), -EINVAL },
	{ "LD W ABS SKF_AD_OFF+1 (not a code)", PROG(S(BPF_LD | BPF_W | BPF_ABS, AD(1)), RET0), -EINVAL },
	{ "LD B ABS 0xffffffff", PROG(S(BPF_LD | BPF_B | BPF_ABS, 0xffffffffu), RET0), -EINVAL },
	{ "LD B ABS SKF_AD_OFF-1 (net range)", PROG(S(BPF_LD | BPF_B | BPF_ABS, AD(-1)), RET0), 0 },
	{ "LD W ABS SKF_NET_OFF", PROG(S(BPF_LD | BPF_W | BPF_ABS, NET(0)), RET0), 0 },
	{ "LD H ABS SKF_LL_OFF", PROG(S(BPF_LD | BPF_H | BPF_ABS, LL(0)), RET0), 0 },
	{ "LD W ABS 0x80000000 (fails at run time)", PROG(S(BPF_LD | BPF_W | BPF_ABS, 0x80000000u), RET0), 0 },
	{ "LD B IND SKF_AD_OFF+1 (IND not ancillary)", PROG(S(BPF_LD | BPF_B | BPF_IND, AD(1)), RET0), 0 },
	{ "LDX MSH 0xffffffff", PROG(S(BPF_LDX | BPF_B | BPF_MSH, 0xffffffffu), RET0), 0 },
	/* check_load_and_stores */
	{ "LD M[0] before any store", PROG(S(BPF_LD | BPF_MEM, 0), RETA), -EINVAL },
	{ "LDX M[5] after a store to M[4]", PROG(S(BPF_ST, 4), S(BPF_LDX | BPF_MEM, 5), RETA), -EINVAL },
	{ "STX counts as a store", PROG(S(BPF_STX, 5), S(BPF_LDX | BPF_MEM, 5), RETA), 0 },
	{ "store on one branch only",
	  PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), S(BPF_ST, 3), S(BPF_LD | BPF_MEM, 3), RETA), -EINVAL },
	{ "store on both branches",
	  PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2), S(BPF_ST, 3), S(BPF_JMP | BPF_JA, 1), S(BPF_ST, 3),
	       S(BPF_LD | BPF_MEM, 3), RETA), 0 },
	{ "JA over the store",
	  PROG(S(BPF_JMP | BPF_JA, 1), S(BPF_ST, 2), S(BPF_LD | BPF_MEM, 2), RETA), -EINVAL },
	{ "store before the branch",
	  PROG(S(BPF_ST, 2), J(BPF_JMP | BPF_JSET | BPF_K, 1, 1, 0), S(BPF_LD | BPF_IMM, 1),
	       S(BPF_LDX | BPF_MEM, 2), RETA), 0 },
	{ "both branches skip the store",
	  PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1), S(BPF_ST, 1), S(BPF_LD | BPF_MEM, 1), RETA), -EINVAL },
	{ "unreachable load right after JA (state reset to all-written)",
	  PROG(S(BPF_JMP | BPF_JA, 1), S(BPF_LD | BPF_MEM, 0), RETA), 0 },
	{ "unreachable load right after JEQ jumping over it",
	  PROG(J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1), S(BPF_LDX | BPF_MEM, 9), RETA), 0 },
	{ "code after RET inherits the state before it (Linux quirk)",
	  PROG(S(BPF_ST, 0), RET0, S(BPF_LD | BPF_MEM, 0), RETA), 0 },
	{ "code after RET, no store before",
	  PROG(RET0, S(BPF_LD | BPF_MEM, 0), RETA), -EINVAL },
};

static void test_verifier_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(vcases); i++) {
		int got = skiff_bpf_check(vcases[i].prog, vcases[i].len);
		if (got != vcases[i].want)
			fail_msg("%s: got %d want %d", vcases[i].name, got, vcases[i].want);
	}
}

/* An independent list of the 49 codes Linux's chk_code_allowed() accepts. */
static const uint16_t linux_codes[] = {
	0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac,
	0x64, 0x6c, 0x74, 0x7c, 0x84, /* ALU */
	0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xb1, 0x01, 0x61, /* LD, LDX */
	0x02, 0x03, 0x07, 0x87, 0x06, 0x16, /* ST, STX, TAX, TXA, RET K, RET A */
	0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d, /* JMP */
};

/* Every 16-bit code in a slot where its operands are harmless:
 * st M[1]; <code k=1 jt=0 jf=0>; ret #0; ret #0. */
static void code_probe(struct sock_filter p[4], uint16_t code)
{
	p[0] = (struct sock_filter)S(BPF_ST, 1);
	p[1] = (struct sock_filter){ code, 0, 0, 1 };
	p[2] = (struct sock_filter)RET0;
	p[3] = (struct sock_filter)RET0;
}

static bool in_linux_codes(uint16_t c)
{
	for (size_t i = 0; i < NELEM(linux_codes); i++)
		if (linux_codes[i] == c)
			return true;
	return false;
}

static void test_opcode_table(void **state)
{
	struct sock_filter p[4];
	unsigned accepted = 0;
	(void)state;
	assert_int_equal(NELEM(linux_codes), 49);
	for (uint32_t c = 0; c <= 0xffff; c++) {
		code_probe(p, (uint16_t)c);
		bool ok = skiff_bpf_check(p, 4) == 0;
		if (ok != in_linux_codes((uint16_t)c))
			fail_msg("code 0x%04x: skiff %s", c, ok ? "accepts" : "refuses");
		accepted += ok;
	}
	assert_int_equal(accepted, 49);
}

static void test_length_limits(void **state)
{
	static struct sock_filter p[BPF_MAXINSNS + 1];
	(void)state;
	for (size_t i = 0; i < NELEM(p); i++)
		p[i] = (struct sock_filter)RET0;
	assert_int_equal(skiff_bpf_check(p, 1), 0);
	assert_int_equal(skiff_bpf_check(p, BPF_MAXINSNS), 0);
	assert_int_equal(skiff_bpf_check(p, BPF_MAXINSNS + 1), -EINVAL);
	assert_int_equal(skiff_bpf_check(p, 0), -EINVAL);
	assert_int_equal(skiff_bpf_check(p, 0xffffffffu), -EINVAL);
	/* the longest forward jump */
	p[0] = (struct sock_filter)S(BPF_JMP | BPF_JA, BPF_MAXINSNS - 2);
	assert_int_equal(skiff_bpf_check(p, BPF_MAXINSNS), 0);
	p[0].k++;
	assert_int_equal(skiff_bpf_check(p, BPF_MAXINSNS), -EINVAL);
}

static void test_ancillary_range(void **state)
{
	static const uint16_t sizes[] = { BPF_B, BPF_H, BPF_W };
	(void)state;
	for (size_t s = 0; s < NELEM(sizes); s++) {
		for (uint32_t off = 0; off < 0x1000; off++) {
			const struct sock_filter p[] = { S(BPF_LD | sizes[s] | BPF_ABS, AD(off)), RET0 };
			bool known = off < SKF_AD_MAX && off % 4 == 0;
			assert_int_equal(skiff_bpf_check(p, 2), known ? 0 : -EINVAL);
		}
	}
}

/* ---- random programs ------------------------------------------------- */

#define RAND_PROGS 20000
#define RAND_SEED 0x5eedb0f5c1a55ull
#define RAND_MAXLEN (BPF_MAXINSNS + 1)

/* Ancillary codes whose value the kernel test below can predict for a datagram
 * on lo (RXHASH, CPU, RANDOM, PAY_OFFSET vary, so that test leaves them out). */
static const uint32_t anc_all[] = {
	SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX, SKF_AD_NLATTR, SKF_AD_NLATTR_NEST, SKF_AD_MARK,
	SKF_AD_QUEUE, SKF_AD_HATYPE, SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT,
	SKF_AD_VLAN_TPID, /* predictable above */
	SKF_AD_RXHASH, SKF_AD_CPU, SKF_AD_PAY_OFFSET, SKF_AD_RANDOM,
};
#define ANC_PREDICTABLE 12

static uint32_t gen_off(bool predictable)
{
	static const uint32_t edges[] = {
		0x7fffffffu, 0x80000000u, LL(0) - 1, NET(0) - 1, LL(0), NET(0), AD(0) - 1, 0xffffffffu, 0,
	};
	switch (rnd() % 12) {
	case 0: case 1: case 2: case 3: case 4:
		return rnd() % 80;
	case 5: case 6:
		if (rnd() % 8 == 0)
			return AD(rnd() % 0x50);
		return AD(anc_all[rnd() % (predictable ? ANC_PREDICTABLE : NELEM(anc_all))]);
	case 7:
		return NET(rnd() % 64);
	case 8:
		return LL(rnd() % 64);
	case 9:
		return rnd();
	default:
		return edges[rnd() % NELEM(edges)];
	}
}

static uint32_t gen_imm(void)
{
	static const uint32_t edges[] = { 0, 1, 2, 15, 16, 31, 32, 33, 0x7fffffffu, 0x80000000u, 0xffffffffu };
	switch (rnd() % 4) {
	case 0:
		return rnd() % 128;
	case 1:
		return rnd();
	default:
		return edges[rnd() % NELEM(edges)];
	}
}

/* One random program: mostly well-formed (allowed codes, forward jumps in range,
 * loads from cells stored earlier, a final RET), then for half of them one or
 * two mutations of the kind the verifier must catch. */
static unsigned gen_prog(struct sock_filter *p, bool predictable)
{
	unsigned len, r = rnd() % 100;
	uint16_t stored = 0;

	if (r < 1)
		return rnd() % 2 ? 0 : BPF_MAXINSNS + 1; /* the length rule; p still valid */
	len = r < 90 ? 1 + rnd() % 24 : 25 + rnd() % 200;
	for (unsigned pc = 0; pc < len; pc++) {
		uint16_t code = linux_codes[rnd() % NELEM(linux_codes)];
		unsigned room = len - pc - 1;
		uint32_t k;

		if (pc == len - 1)
			code = rnd() % 2 ? BPF_RET | BPF_K : BPF_RET | BPF_A;
		else if (BPF_CLASS(code) == BPF_RET && rnd() % 2) /* fewer early returns */
			code = BPF_LD | BPF_W | BPF_ABS;
		switch (BPF_CLASS(code) == BPF_LD || BPF_CLASS(code) == BPF_LDX ? BPF_MODE(code) : 0xff) {
		case BPF_ABS:
		case BPF_IND:
		case BPF_MSH:
			k = gen_off(predictable);
			break;
		case BPF_MEM:
			k = stored && rnd() % 8 ? (uint32_t)__builtin_ctz(stored) : rnd() % 17;
			break;
		default:
			k = gen_imm();
			break;
		}
		if (code == BPF_ST || code == BPF_STX) {
			k = rnd() % 16;
			stored |= (uint16_t)(1u << k);
		}
		if (code == (BPF_JMP | BPF_JA)) {
			k = room ? rnd() % room : 0;
			stored = 0;
		}
		if (code == (BPF_ALU | BPF_DIV | BPF_K) || code == (BPF_ALU | BPF_MOD | BPF_K))
			k = rnd() % 8 ? 1 + rnd() % 1000 : 0;
		if (code == (BPF_ALU | BPF_LSH | BPF_K) || code == (BPF_ALU | BPF_RSH | BPF_K))
			k = rnd() % 34;
		p[pc] = (struct sock_filter){ code, 0, 0, k };
		if (BPF_CLASS(code) == BPF_JMP && code != (BPF_JMP | BPF_JA)) {
			p[pc].jt = (uint8_t)(room ? rnd() % (room < 256 ? room : 256) : 0);
			p[pc].jf = (uint8_t)(room ? rnd() % (room < 256 ? room : 256) : 0);
			stored = 0;
		}
	}
	if (rnd() % 2) {
		unsigned nmut = 1 + rnd() % 2;
		for (unsigned m = 0; m < nmut; m++) {
			struct sock_filter *f = &p[rnd() % len];
			switch (rnd() % 6) {
			case 0:
				f->code = (uint16_t)(rnd() % 4 ? rnd() & 0xff : rnd());
				break;
			case 1:
				f->k = gen_imm();
				break;
			case 2:
				f->jt = (uint8_t)rnd();
				break;
			case 3:
				f->jf = (uint8_t)rnd();
				break;
			case 4:
				p[len - 1].code = linux_codes[rnd() % NELEM(linux_codes)];
				break;
			default:
				f->k = gen_off(predictable);
				break;
			}
		}
	}
	return len;
}

/* Random aux and packet: pkt points `headroom` bytes into an exactly sized
 * heap buffer, so any access outside [pkt - headroom, pkt + len) is an ASan
 * report. */
static void gen_aux(struct skiff_bpf_aux *aux, uint32_t len)
{
	memset(aux, 0, sizeof(*aux));
	aux->headroom = rnd() % 3 ? rnd() % 40 : 0;
	aux->ll_off = -(int32_t)(rnd() % (aux->headroom + 1));
	aux->net_off = (int32_t)(rnd() % (len + 8)) - (int32_t)aux->headroom;
	aux->protocol = (uint16_t)rnd();
	aux->hatype = (uint16_t)rnd();
	aux->queue = (uint16_t)rnd();
	aux->vlan_tci = (uint16_t)rnd();
	aux->vlan_tpid = (uint16_t)rnd();
	aux->vlan_present = (uint8_t)(rnd() % 2);
	aux->pkttype = (uint8_t)rnd();
	aux->ifindex = rnd();
	aux->mark = rnd();
	aux->rxhash = rnd();
	aux->cpu = rnd();
	aux->random = rnd();
	aux->pay_offset = rnd();
}

static void test_random_programs_are_bounds_safe(void **state)
{
	static struct sock_filter p[RAND_MAXLEN];
	unsigned accepted = 0, runs = 0, nonzero = 0;
	uint64_t prog_rng, pkt_rng = ~RAND_SEED;
	(void)state;

	rng = RAND_SEED;
	for (unsigned i = 0; i < RAND_PROGS; i++) {
		unsigned len = gen_prog(p, false);
		if (skiff_bpf_check(p, len) != 0)
			continue;
		accepted++;
		/* packets from their own stream: the programs stay the sequence
		 * test_kernel_verifier_agreement gives the kernel */
		prog_rng = rng;
		rng = pkt_rng;
		for (int j = 0; j < 4; j++) {
			struct skiff_bpf_aux aux;
			uint32_t plen = rnd() % 4 ? rnd() % 100 : rnd() % 2000;
			uint8_t *buf;
			uint32_t r1, r2;

			gen_aux(&aux, plen);
			buf = malloc(aux.headroom + plen); /* exact: no slack byte for ASan to miss */
			assert_true(buf || aux.headroom + plen == 0);
			for (uint32_t b = 0; b < aux.headroom + plen; b++)
				buf[b] = (uint8_t)rnd();
			if (plen > 16 && rnd() % 2)
				memcpy(buf + aux.headroom, frame_udp_basic,
				       plen < sizeof(frame_udp_basic) ? plen : sizeof(frame_udp_basic));
			r1 = skiff_bpf_run(p, buf + aux.headroom, plen, &aux);
			r2 = skiff_bpf_run(p, buf + aux.headroom, plen, &aux);
			assert_int_equal(r1, r2); /* deterministic */
			nonzero += r1 != 0;
			runs++;
			free(buf);
		}
		pkt_rng = rng;
		rng = prog_rng;
	}
	print_message("random: %u/%u programs accepted, %u runs, %u non-zero results\n", accepted, RAND_PROGS,
		      runs, nonzero);
	/* the sweep means something only with both outcomes well represented */
	assert_true(accepted > RAND_PROGS / 5);
	assert_true(accepted < RAND_PROGS * 4 / 5);
}

/* ---- the kernel's verifier ------------------------------------------- */

/* 0: attached (and detached again); -errno: refused. */
static int kernel_attach(int fd, const struct sock_filter *p, unsigned len)
{
	struct sock_fprog fp = { .len = (unsigned short)len, .filter = (struct sock_filter *)(uintptr_t)p };
	int dummy = 0;

	if (len > 0xffff)
		return -EINVAL; /* not expressible in sock_fprog */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) != 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof(dummy));
	return 0;
}

static int kernel_socket_or_skip(void)
{
	const struct sock_filter ok[] = { RET0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0) {
		print_message("kernel: socket(AF_INET, SOCK_DGRAM): %s — skipped\n", strerror(errno));
		skip();
	}
	if (kernel_attach(fd, ok, 1) != 0) {
		print_message("kernel: SO_ATTACH_FILTER unavailable (%s) — skipped\n", strerror(errno));
		close(fd);
		skip();
	}
	return fd;
}

static unsigned agree, disagree;

/* Returns the kernel's answer. */
static int kernel_compare(int fd, const char *what, const struct sock_filter *p, unsigned len)
{
	int ours = skiff_bpf_check(p, len);
	int theirs = kernel_attach(fd, p, len);

	if (ours == theirs) {
		agree++;
		return theirs;
	}
	disagree++;
	if (disagree <= 20) {
		print_message("DISAGREE %s: skiff %d kernel %d (%s); len %u\n", what, ours, theirs,
			      theirs ? strerror(-theirs) : "ok", len);
		for (unsigned i = 0; i < len && i < 40; i++)
			print_message("  %3u: { 0x%02x, %u, %u, 0x%08x }\n", i, p[i].code, p[i].jt, p[i].jf, p[i].k);
	}
	return theirs;
}

static void test_kernel_verifier_agreement(void **state)
{
	static struct sock_filter p[RAND_MAXLEN];
	unsigned a0, kernel_accepts = 0;
	int fd = kernel_socket_or_skip();
	(void)state;

	agree = disagree = 0;
	/* the hand-written cases */
	for (size_t i = 0; i < NELEM(vcases); i++)
		kernel_compare(fd, vcases[i].name, vcases[i].prog, vcases[i].len);
	for (size_t i = 0; i < NELEM(tcpdump_progs); i++)
		kernel_compare(fd, tcpdump_progs[i].name, tcpdump_progs[i].prog, tcpdump_progs[i].len);
	print_message("kernel: %u/%zu hand-written cases agree\n", agree, NELEM(vcases) + NELEM(tcpdump_progs));
	/* every 16-bit opcode */
	a0 = agree;
	for (uint32_t c = 0; c <= 0xffff; c++) {
		char what[32];
		snprintf(what, sizeof(what), "code 0x%04x", c);
		code_probe(p, (uint16_t)c);
		kernel_compare(fd, what, p, 4);
	}
	print_message("kernel: %u/65536 opcodes agree\n", agree - a0);
	/* the ancillary range, each size */
	a0 = agree;
	for (uint32_t off = 0; off < 0x1000; off += off < 0x100 ? 1 : 61) {
		static const uint16_t sizes[] = { BPF_B, BPF_H, BPF_W };
		for (size_t s = 0; s < NELEM(sizes); s++) {
			char what[48];
			p[0] = (struct sock_filter)S(BPF_LD | sizes[s] | BPF_ABS, AD(off));
			p[1] = (struct sock_filter)RET0;
			snprintf(what, sizeof(what), "ancillary +0x%x size 0x%x", off, sizes[s]);
			kernel_compare(fd, what, p, 2);
		}
	}
	print_message("kernel: %u ancillary offsets agree\n", agree - a0);
	/* the random programs of test_random_programs_are_bounds_safe */
	a0 = agree;
	rng = RAND_SEED;
	for (unsigned i = 0; i < RAND_PROGS; i++) {
		char what[32];
		unsigned len = gen_prog(p, false);
		snprintf(what, sizeof(what), "random #%u", i);
		kernel_accepts += kernel_compare(fd, what, p, len) == 0;
	}
	print_message("kernel: %u/%u random programs agree (kernel accepted %u)\n", agree - a0, RAND_PROGS,
		      kernel_accepts);

	/* The one deliberate difference (bpf_classic.h): a JA across thousands of
	 * loads, whose eBPF translation overflows a 16-bit jump offset. Reported,
	 * not compared. */
	p[0] = (struct sock_filter)S(BPF_JMP | BPF_JA, BPF_MAXINSNS - 2);
	for (unsigned i = 1; i < BPF_MAXINSNS; i++)
		p[i] = (struct sock_filter)S(BPF_LD | BPF_W | BPF_ABS, i);
	p[BPF_MAXINSNS - 1] = (struct sock_filter)RET0;
	{
		int theirs = kernel_attach(fd, p, BPF_MAXINSNS);
		print_message("kernel: ja over 4094 loads: skiff %d, kernel %d%s (translation limit, not compared)\n",
			      skiff_bpf_check(p, BPF_MAXINSNS), theirs, theirs ? " EINVAL" : "");
	}
	close(fd);
	print_message("kernel verifier agreement: %u/%u (%.2f%%)\n", agree, agree + disagree,
		      100.0 * agree / (agree + disagree));
	assert_int_equal(disagree, 0);
}

/* ---- the kernel's interpreter ---------------------------------------- */

/* A datagram to 127.0.0.1 built byte-exact with IPPROTO_RAW (IP_HDRINCL): the
 * filter on the receiving UDP socket sees skb->data at the UDP header, the IP
 * header 20 and the all-zero lo Ethernet header 34 bytes before it. The kernel
 * delivers min(max(8, result), len) - 8 payload bytes (sk_filter_trim_cap with
 * cap = sizeof(struct udphdr)), or nothing when the result is 0. A second
 * datagram to a socket without a filter, queued behind the first on the same
 * backlog, tells when the first has been decided. */
struct kworld {
	int raw, rx, mark;
	uint16_t rx_port, mark_port;
	uint32_t ifindex;
};

static int bound_udp(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 1 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* headers (34 bytes: Ethernet as lo builds it, then IPv4) + UDP + payload */
static size_t kbuild(uint8_t *f, uint16_t dport, const uint8_t *payload, size_t plen)
{
	uint8_t *ip = f + 14, *udp = f + 34;

	memset(f, 0, 34 + 8);
	st16(f + 12, 0x0800);
	ip[0] = 0x45;
	st16(ip + 2, (uint16_t)(20 + 8 + plen));
	st16(ip + 4, 0x5151); /* non-zero: the kernel keeps it */
	ip[8] = 64;
	ip[9] = 17;
	st32(ip + 12, IP4(127, 0, 0, 1));
	st32(ip + 16, IP4(127, 0, 0, 1));
	st16(ip + 10, csum_buf(ip, 20)); /* what raw_send_hdrinc computes */
	st16(udp, 9); /* source port: nothing listens there */
	st16(udp + 2, dport);
	st16(udp + 4, (uint16_t)(8 + plen));
	/* checksum 0: none (RFC 768) */
	memcpy(udp + 8, payload, plen);
	return 34 + 8 + plen;
}

static int ksend(struct kworld *w, const uint8_t *f, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sendto(w->raw, f + 14, n - 14, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)(n - 14) ? 0 : -1;
}

/* -1: the kernel dropped it; else payload bytes delivered; -2: harness failure */
static int kernel_run(struct kworld *w, const uint8_t *payload, size_t plen)
{
	static uint8_t f[34 + 8 + 256], buf[512];
	static const uint8_t m = 'm';
	struct pollfd pfd = { .fd = w->mark, .events = POLLIN };
	ssize_t n;

	if (ksend(w, f, kbuild(f, w->rx_port, payload, plen)) != 0 || ksend(w, f, kbuild(f, w->mark_port, &m, 1)) != 0)
		return -2;
	if (poll(&pfd, 1, 2000) != 1 || recv(w->mark, buf, sizeof(buf), 0) != 1)
		return -2;
	n = recv(w->rx, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	return (int)n;
}

/* One datagram through skiff and the kernel; true when they agree. */
static bool kcompare(struct kworld *w, const struct skiff_bpf_aux *aux, const char *what, const struct sock_filter *p,
		     unsigned len, const uint8_t *payload, size_t plen, uint32_t *ours_out)
{
	uint8_t f[34 + 8 + 256];
	uint32_t ours, want_len;
	int theirs;

	kbuild(f, w->rx_port, payload, plen);
	ours = skiff_bpf_run(p, f + 34, (uint32_t)(8 + plen), aux);
	if (ours_out)
		*ours_out = ours;
	theirs = kernel_run(w, payload, plen);
	assert_int_not_equal(theirs, -2);
	want_len = ours == 0 ? 0 : (ours < 8 ? 8 : ours < 8 + plen ? ours : (uint32_t)(8 + plen)) - 8;
	if ((ours == 0 && theirs == -1) || (ours != 0 && theirs == (int)want_len))
		return true;
	print_message("DISAGREE %s plen %zu: skiff %u (payload %u), kernel %d\n", what, plen, ours, ours ? want_len : 0,
		      theirs);
	for (unsigned q = 0; q < len && q < 40; q++)
		print_message("  %3u: { 0x%02x, %u, %u, 0x%08x }\n", q, p[q].code, p[q].jt, p[q].jf, p[q].k);
	return false;
}

static int kattach(struct kworld *w, const struct sock_filter *p, unsigned len)
{
	struct sock_fprog fp = { .len = (unsigned short)len, .filter = (struct sock_filter *)(uintptr_t)p };
	return setsockopt(w->rx, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) == 0 ? 0 : -errno;
}

/* Hand-written programs whose result is small enough to show in the delivered
 * length, on the details random programs rarely reach. `want` is skiff's
 * expected result; the kernel must deliver the same. */
struct kcase {
	const char *name;
	const struct sock_filter *prog;
	unsigned len;
	bool nla_payload; /* else bytes 0, 1, 2, ... */
	uint32_t want;
};

static const struct kcase kcases[] = {
	{ "lsh by X = 52 (mod 32)", PROG(S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_IMM, 52), S(BPF_ALU | BPF_LSH | BPF_X, 0),
					 S(BPF_ALU | BPF_RSH | BPF_K, 16), RETA), false, 16 },
	{ "rsh by X = 36 (mod 32)", PROG(S(BPF_LD | BPF_IMM, 0x200), S(BPF_LDX | BPF_IMM, 36),
					 S(BPF_ALU | BPF_RSH | BPF_X, 0), RETA), false, 32 },
	{ "div by X = 0", PROG(S(BPF_LD | BPF_IMM, 100), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_DIV | BPF_X, 0),
			       S(BPF_RET | BPF_K, 20)), false, 0 },
	{ "mod by X = 0", PROG(S(BPF_LD | BPF_IMM, 100), S(BPF_LDX | BPF_IMM, 0), S(BPF_ALU | BPF_MOD | BPF_X, 0),
			       S(BPF_RET | BPF_K, 20)), false, 0 },
	{ "jeq #0xffffffff", PROG(S(BPF_LD | BPF_IMM, 0xffffffffu), J(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 1),
				  S(BPF_RET | BPF_K, 30), RET0), false, 30 },
	{ "ld [net+9] (IP protocol)", PROG(S(BPF_LD | BPF_B | BPF_ABS, NET(9)), RETA), false, 17 },
	{ "ldb [ll+12] + 10 (ethertype high byte)", PROG(S(BPF_LD | BPF_B | BPF_ABS, LL(12)),
							 S(BPF_ALU | BPF_ADD | BPF_K, 10), RETA), false, 18 },
	{ "ldxb 4*([net+0]&0xf)", PROG(S(BPF_LDX | BPF_B | BPF_MSH, NET(0)), S(BPF_MISC | BPF_TXA, 0), RETA), false, 20 },
	{ "ld [ll-1] via IND: below SKF_LL_OFF", PROG(S(BPF_LDX | BPF_IMM, LL(0)), S(BPF_LD | BPF_B | BPF_IND, 0xffffffffu),
						      S(BPF_RET | BPF_K, 20)), false, 0 },
	{ "ldb [x + k] wrapping to 9", PROG(S(BPF_LDX | BPF_IMM, 0xffffff00u), S(BPF_LD | BPF_B | BPF_IND, 0x109),
					    S(BPF_ALU | BPF_ADD | BPF_K, 20), RETA), false, 21 },
	{ "ldh [len - 1]: one byte short", PROG(S(BPF_LD | BPF_W | BPF_LEN, 0), S(BPF_ALU | BPF_SUB | BPF_K, 1),
						S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_H | BPF_IND, 0),
						S(BPF_RET | BPF_K, 20)), false, 0 },
	{ "protocol >> 7", PROG(S(BPF_LD | BPF_H | BPF_ABS, AD(SKF_AD_PROTOCOL)), S(BPF_ALU | BPF_RSH | BPF_K, 7), RETA),
	  false, 16 },
	{ "hatype >> 5", PROG(S(BPF_LD | BPF_B | BPF_ABS, AD(SKF_AD_HATYPE)), S(BPF_ALU | BPF_RSH | BPF_K, 5), RETA),
	  false, 24 },
	{ "ifindex + 20", PROG(S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_IFINDEX)), S(BPF_ALU | BPF_ADD | BPF_K, 20), RETA),
	  false, 21 },
	{ "pkttype + vlan_present + vlan_tci + tpid + queue + mark + 20",
	  PROG(S(BPF_LD | BPF_B | BPF_ABS, AD(SKF_AD_PKTTYPE)), S(BPF_MISC | BPF_TAX, 0),
	       S(BPF_LD | BPF_B | BPF_ABS, AD(SKF_AD_VLAN_TAG_PRESENT)), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	       S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_H | BPF_ABS, AD(SKF_AD_VLAN_TAG)),
	       S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_MISC | BPF_TAX, 0),
	       S(BPF_LD | BPF_H | BPF_ABS, AD(SKF_AD_VLAN_TPID)), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	       S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_H | BPF_ABS, AD(SKF_AD_QUEUE)), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	       S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_MARK)), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	       S(BPF_ALU | BPF_ADD | BPF_K, 20), RETA), false, 20 },
	{ "alu_xor_x", PROG(S(BPF_LD | BPF_IMM, 0x33), S(BPF_LDX | BPF_IMM, 0x22),
			    S(BPF_LD | BPF_B | BPF_ABS, AD(SKF_AD_ALU_XOR_X)), RETA), false, 0x11 },
	{ "nlattr type 5 from A = 8", PROG(S(BPF_LD | BPF_IMM, 8), S(BPF_LDX | BPF_IMM, 5),
					   S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_NLATTR)), RETA), true, 16 },
	{ "nlattr type 3 (NLA_F_NESTED masked)", PROG(S(BPF_LD | BPF_IMM, 8), S(BPF_LDX | BPF_IMM, 3),
						      S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_NLATTR)), RETA), true, 24 },
	{ "nlattr type 7 is only nested", PROG(S(BPF_LD | BPF_IMM, 8), S(BPF_LDX | BPF_IMM, 7),
					       S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_NLATTR)), S(BPF_ALU | BPF_ADD | BPF_K, 20),
					       RETA), true, 20 },
	{ "nlattr_nest type 9 in the attr at 24", PROG(S(BPF_LD | BPF_IMM, 24), S(BPF_LDX | BPF_IMM, 9),
						       S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_NLATTR_NEST)), RETA), true, 36 },
	{ "nlattr_nest type 7 in the attr at 24", PROG(S(BPF_LD | BPF_IMM, 24), S(BPF_LDX | BPF_IMM, 7),
						       S(BPF_LD | BPF_W | BPF_ABS, AD(SKF_AD_NLATTR_NEST)), RETA), true, 28 },
};

static void test_kernel_interpreter_agreement(void **state)
{
	static struct sock_filter p[RAND_MAXLEN];
	struct kworld w;
	struct skiff_bpf_aux aux;
	uint8_t plain[64], nla[40];
	unsigned progs = 0, runs = 0, same = 0, delivered = 0;
	size_t n = 0;
	(void)state;

	w.raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (w.raw < 0) {
		print_message("kernel: raw socket: %s — skipped\n", strerror(errno));
		skip();
	}
	w.rx = bound_udp(&w.rx_port);
	w.mark = bound_udp(&w.mark_port);
	w.ifindex = if_nametoindex("lo");
	if (w.rx < 0 || w.mark < 0 || !w.ifindex || kernel_run(&w, (const uint8_t *)"abc", 3) != 3) {
		/* the world must work: without a filter everything arrives */
		print_message("kernel: no UDP datagrams through lo — skipped\n");
		close(w.raw);
		if (w.rx >= 0)
			close(w.rx);
		if (w.mark >= 0)
			close(w.mark);
		skip();
	}

	memset(&aux, 0, sizeof(aux));
	aux.ll_off = -34;
	aux.net_off = -20;
	aux.headroom = 34;
	aux.protocol = 0x0800;
	aux.pkttype = 0; /* PACKET_HOST */
	aux.ifindex = w.ifindex;
	aux.hatype = 772; /* ARPHRD_LOOPBACK */

	/* the hand-written cases; the netlink payload sits at packet offset 8:
	 * [8: len 8 type 1][16: len 8 type 5][24: len 16 type 3|NESTED [28: len 8 type 7][36: len 4 type 9]] */
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	memset(nla, 0xaa, sizeof(nla));
	n += put_nla(nla + n, 8, 1) + 4;
	n += put_nla(nla + n, 8, 5) + 4;
	n += put_nla(nla + n, 16, 3 | 0x8000);
	n += put_nla(nla + n, 8, 7) + 4;
	n += put_nla(nla + n, 4, 9);
	for (size_t i = 0; i < NELEM(kcases); i++) {
		const struct kcase *c = &kcases[i];
		uint32_t ours;
		int rc;

		assert_int_equal(skiff_bpf_check(c->prog, c->len), 0);
		rc = kattach(&w, c->prog, c->len);
		if (rc != 0)
			fail_msg("%s: kernel refused: %s", c->name, strerror(-rc));
		if (!kcompare(&w, &aux, c->name, c->prog, c->len, c->nla_payload ? nla : plain,
			      c->nla_payload ? n : sizeof(plain), &ours))
			fail_msg("%s: skiff and the kernel disagree", c->name);
		if (ours != c->want)
			fail_msg("%s: skiff %u, expected %u", c->name, ours, c->want);
	}
	print_message("kernel: %zu hand-written programs run alike\n", NELEM(kcases));

	rng = RAND_SEED ^ 0x1234;
	for (unsigned i = 0; i < RAND_PROGS / 4; i++) {
		unsigned len = gen_prog(p, true);
		char what[32];
		int rc;

		if (skiff_bpf_check(p, len) != 0)
			continue;
		rc = kattach(&w, p, len);
		if (rc != 0)
			fail_msg("random #%u: kernel refused a program skiff accepts: %s", i, strerror(-rc));
		progs++;
		snprintf(what, sizeof(what), "random #%u", i);
		for (int j = 0; j < 3; j++) {
			uint8_t payload[256];
			size_t plen = rnd() % 3 ? rnd() % 48 : rnd() % 256;
			uint32_t ours;

			for (size_t b = 0; b < plen; b++)
				payload[b] = (uint8_t)(rnd() % 4 ? rnd() % 8 : rnd()); /* small values meet small k */
			runs++;
			same += kcompare(&w, &aux, what, p, len, payload, plen, &ours);
			delivered += ours != 0;
		}
	}
	close(w.raw);
	close(w.rx);
	close(w.mark);
	print_message("kernel interpreter agreement: %u/%u runs of %u random programs (%u accepted)\n", same, runs,
		      progs, delivered);
	assert_int_equal(same, runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcpdump_programs_pass_checker),
		cmocka_unit_test(test_tcpdump_ip_udp_icmp_arp_ip6),
		cmocka_unit_test(test_tcpdump_tcp_port_80),
		cmocka_unit_test(test_tcpdump_host_and_net),
		cmocka_unit_test(test_tcpdump_udp_ports),
		cmocka_unit_test(test_tcpdump_vlan),
		cmocka_unit_test(test_tcpdump_ether_len_ttl_syn_bcast),
		cmocka_unit_test(test_alu),
		cmocka_unit_test(test_div_mod_by_x_zero_returns_zero),
		cmocka_unit_test(test_packet_loads_and_bounds),
		cmocka_unit_test(test_msh),
		cmocka_unit_test(test_negative_offsets),
		cmocka_unit_test(test_scratch_memory_and_jumps),
		cmocka_unit_test(test_ancillary),
		cmocka_unit_test(test_ancillary_nlattr),
		cmocka_unit_test(test_verifier_cases),
		cmocka_unit_test(test_opcode_table),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_ancillary_range),
		cmocka_unit_test(test_random_programs_are_bounds_safe),
		cmocka_unit_test(test_kernel_verifier_agreement),
		cmocka_unit_test(test_kernel_interpreter_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
