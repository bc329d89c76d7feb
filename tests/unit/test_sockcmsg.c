/* test_sockcmsg.c — control messages on skiff UDP sockets (sock_cmsg.c) through
 * the native API, on two stacks over the loop driver (loop_world.h: A
 * 198.18.0.1, B 198.18.0.2; IPv6 added with DAD off: A 2001:2::1 and ::11, B
 * 2001:2::2).
 *   receive: IPV6_PKTINFO/HOPLIMIT/TCLASS in Linux's order; IP_PKTINFO/TTL/TOS
 *     (TOS one byte); an IPv4 datagram on a dual-stack socket (v4-mapped
 *     IPV6_PKTINFO then the SOL_IP set, no IPV6_HOPLIMIT, as Linux);
 *   truncation: no buffer, too short for a header (MSG_CTRUNC, nothing),
 *     a message cut inside its data (cmsg_len = what fits), room for the
 *     first of two; nothing asked → msg_controllen 0;
 *   send: IPV6_HOPLIMIT/IPV6_TCLASS and IP_TTL/IP_TOS overrides as the peer
 *     reads them off the wire (and the socket's values again on the next
 *     send), IPV6_PKTINFO's source, the EINVAL/ENODEV checks;
 *   the options' getsockopt (IP_RECVTOS as one byte when asked so).
 * Expected values are Linux's (checked against the kernel with the same calls).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/loop_world.h"
#include "socketapi/runtime.h"

static const uint8_t GA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t GA2[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11 };
static const uint8_t GB[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t GX[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x63 };

static void up6(struct skiff_stack *st, int inst, const uint8_t *addr, const uint8_t *addr2)
{
	rt_lock(W.rt, inst);
	st->cfg.nd_dad_transmits = 0;
	assert_int_equal(skiff_stack_enable_ip6(st, 0, rt_now(W.rt)), 0);
	assert_int_equal(skiff_stack_add_addr6(st, 0, addr, 64, rt_now(W.rt)), 0);
	if (addr2)
		assert_int_equal(skiff_stack_add_addr6(st, 0, addr2, 64, rt_now(W.rt)), 0);
	rt_unlock(W.rt, inst);
}

static int world_setup(void **state)
{
	(void)state;
	loop_world_up(31, 32);
	up6(W.sa, W.ia, GA, GA2);
	up6(W.sb, W.ib, GB, NULL);
	for (int i = 0; i < 20; i++) { /* the ND timer makes the addresses preferred (no DAD) */
		assert_true(skiff_rt_progress(W.rt) >= 0);
		usleep(1000);
	}
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

static struct sockaddr_in6 sin6(const uint8_t *a, uint16_t port)
{
	struct sockaddr_in6 s;
	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	if (a)
		memcpy(&s.sin6_addr, a, 16);
	return s;
}

static int udp_on(int inst, int domain)
{
	int fd = skiff_socket_on(W.rt, inst, domain, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	set_timeo_ms(fd, SO_RCVTIMEO, 3000);
	return fd;
}

static void on(int fd, int level, int name)
{
	int one = 1;
	assert_int_equal(skiff_setsockopt(fd, level, name, &one, sizeof(one)), 0);
}

/* A bound receiver on B (port), a sender on A. */
static void pair(int domain, uint16_t port, int *rx, int *tx)
{
	*rx = udp_on(W.ib, domain);
	*tx = udp_on(W.ia, domain);
	if (domain == AF_INET6) {
		struct sockaddr_in6 b = sin6(NULL, port);
		assert_int_equal(skiff_bind(*rx, (struct sockaddr *)&b, sizeof(b)), 0);
	} else {
		struct sockaddr_in b = sin4(IP_B, port);
		assert_int_equal(skiff_bind(*rx, (struct sockaddr *)&b, sizeof(b)), 0);
	}
}

static void send6(int tx, uint16_t port, const void *ctl, size_t ctllen)
{
	struct sockaddr_in6 to = sin6(GB, port);
	struct iovec iov = { "hi", 2 };
	struct msghdr m = { &to, sizeof(to), &iov, 1, (void *)(uintptr_t)ctl, ctllen, 0 };
	assert_int_equal(skiff_sendmsg(tx, &m, 0), 2);
}

static void send4(int tx, uint16_t port, const void *ctl, size_t ctllen)
{
	struct sockaddr_in to = sin4(IP_B, port);
	struct iovec iov = { "hi", 2 };
	struct msghdr m = { &to, sizeof(to), &iov, 1, (void *)(uintptr_t)ctl, ctllen, 0 };
	assert_int_equal(skiff_sendmsg(tx, &m, 0), 2);
}

/* recvmsg into a control buffer of `room` bytes (NULL buffer when room < 0). */
static struct msghdr recv_ctl(int rx, void *ctl, long room, struct sockaddr_storage *from)
{
	static char data[16];
	static struct iovec iov;
	struct msghdr m;
	iov.iov_base = data;
	iov.iov_len = sizeof(data);
	memset(&m, 0, sizeof(m));
	m.msg_name = from;
	m.msg_namelen = sizeof(*from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = room < 0 ? NULL : ctl;
	m.msg_controllen = room < 0 ? 0 : (size_t)room;
	memset(ctl, 0xee, 256);
	assert_int_equal(skiff_recvmsg(rx, &m, 0), 2);
	return m;
}

static int int_data(const struct cmsghdr *c)
{
	int v;
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	return v;
}

/* Build one int cmsg at buf+off; returns the next offset. */
static size_t put_int(char *buf, size_t off, int level, int type, int v, size_t extra)
{
	struct cmsghdr h;
	memset(&h, 0, sizeof(h));
	h.cmsg_level = level;
	h.cmsg_type = type;
	h.cmsg_len = CMSG_LEN(sizeof(int) + extra);
	memcpy(buf + off, &h, sizeof(h));
	memset(buf + off + CMSG_LEN(0), 0, CMSG_SPACE(sizeof(int) + extra) - CMSG_LEN(0));
	memcpy(buf + off + CMSG_LEN(0), &v, sizeof(v));
	return off + CMSG_SPACE(sizeof(int) + extra);
}

static void test_recv6_all(void **state)
{
	char ctl[256] __attribute__((aligned(8)));
	struct sockaddr_storage from;
	struct cmsghdr *c;
	struct in6_pktinfo pi;
	struct msghdr m;
	int rx, tx;

	(void)state;
	pair(AF_INET6, 7101, &rx, &tx);
	on(rx, IPPROTO_IPV6, IPV6_RECVTCLASS);
	on(rx, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
	on(rx, IPPROTO_IPV6, IPV6_RECVPKTINFO);
	send6(tx, 7101, NULL, 0);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi)) + 2 * CMSG_SPACE(sizeof(int)));
	c = CMSG_FIRSTHDR(&m); /* Linux's order: PKTINFO, HOPLIMIT, TCLASS */
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, IPPROTO_IPV6);
	assert_int_equal(c->cmsg_type, IPV6_PKTINFO);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(pi)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_memory_equal(pi.ipi6_addr.s6_addr, GB, 16);
	assert_int_equal(pi.ipi6_ifindex, if_nametoindex("loop1")); /* the kernel's index (0: none here) */
	c = CMSG_NXTHDR(&m, c);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IPV6_HOPLIMIT);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
	assert_int_equal(int_data(c), 64);
	c = CMSG_NXTHDR(&m, c);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IPV6_TCLASS);
	assert_int_equal(int_data(c), 0);
	assert_null(CMSG_NXTHDR(&m, c));
	/* nothing asked for: no control messages, no MSG_CTRUNC */
	skiff_close(rx);
	skiff_close(tx);
	pair(AF_INET6, 7102, &rx, &tx);
	send6(tx, 7102, NULL, 0);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	assert_int_equal(m.msg_controllen, 0);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, 0);
	skiff_close(rx);
	skiff_close(tx);
}

static void test_recv6_trunc(void **state)
{
	char ctl[256] __attribute__((aligned(8)));
	struct sockaddr_storage from;
	struct cmsghdr *c;
	struct msghdr m;
	const long sizes[] = { -1, 0, 1, (long)CMSG_LEN(0) - 1 };
	int rx, tx;

	(void)state;
	pair(AF_INET6, 7103, &rx, &tx);
	on(rx, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
	/* no room for a header: nothing, MSG_CTRUNC */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		send6(tx, 7103, NULL, 0);
		m = recv_ctl(rx, ctl, sizes[i], &from);
		assert_int_equal(m.msg_controllen, 0);
		assert_int_equal(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	}
	/* cut inside the data: the header says how much was written */
	send6(tx, 7103, NULL, 0);
	m = recv_ctl(rx, ctl, (long)CMSG_LEN(sizeof(int)) - 1, &from);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	assert_int_equal(m.msg_controllen, CMSG_LEN(sizeof(int)) - 1);
	c = (struct cmsghdr *)ctl;
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)) - 1);
	assert_int_equal(c->cmsg_type, IPV6_HOPLIMIT);
	assert_int_equal((uint8_t)ctl[CMSG_LEN(sizeof(int)) - 1], 0xee); /* not a byte more */
	/* exactly CMSG_LEN (no padding room): whole, not truncated */
	send6(tx, 7103, NULL, 0);
	m = recv_ctl(rx, ctl, (long)CMSG_LEN(sizeof(int)), &from);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(m.msg_controllen, CMSG_LEN(sizeof(int)));
	/* two asked for, room for the first: it whole, the second left out */
	on(rx, IPPROTO_IPV6, IPV6_RECVTCLASS);
	send6(tx, 7103, NULL, 0);
	m = recv_ctl(rx, ctl, (long)CMSG_SPACE(sizeof(int)), &from);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(int)));
	c = CMSG_FIRSTHDR(&m);
	assert_int_equal(c->cmsg_type, IPV6_HOPLIMIT);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
	skiff_close(rx);
	skiff_close(tx);
}

static void test_send6_overrides(void **state)
{
	char ctl[256] __attribute__((aligned(8))), out[128] __attribute__((aligned(8)));
	struct sockaddr_storage from;
	struct cmsghdr *c;
	struct msghdr m;
	size_t n;
	int rx, tx;

	(void)state;
	pair(AF_INET6, 7104, &rx, &tx);
	on(rx, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
	on(rx, IPPROTO_IPV6, IPV6_RECVTCLASS);
	n = put_int(out, 0, IPPROTO_IPV6, IPV6_TCLASS, 0x28, 0);
	n = put_int(out, n, IPPROTO_IPV6, IPV6_HOPLIMIT, 7, 0);
	send6(tx, 7104, out, n);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	c = CMSG_FIRSTHDR(&m);
	assert_int_equal(c->cmsg_type, IPV6_HOPLIMIT);
	assert_int_equal(int_data(c), 7); /* off the wire: the peer's stack read the header */
	c = CMSG_NXTHDR(&m, c);
	assert_int_equal(c->cmsg_type, IPV6_TCLASS);
	assert_int_equal(int_data(c), 0x28);
	/* -1: the socket's values; and the next plain send is the socket's again */
	n = put_int(out, 0, IPPROTO_IPV6, IPV6_HOPLIMIT, -1, 0);
	send6(tx, 7104, out, n);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	assert_int_equal(int_data(CMSG_FIRSTHDR(&m)), 64);
	send6(tx, 7104, NULL, 0);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	c = CMSG_FIRSTHDR(&m);
	assert_int_equal(int_data(c), 64);
	assert_int_equal(int_data(CMSG_NXTHDR(&m, c)), 0);
	/* IPV6_PKTINFO's source (ours: A's second address) */
	{
		struct cmsghdr h = { .cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo)), .cmsg_level = IPPROTO_IPV6,
				     .cmsg_type = IPV6_PKTINFO };
		struct in6_pktinfo pi;
		struct sockaddr_in6 to = sin6(GB, 7104);
		struct iovec iov = { "hi", 2 };
		struct msghdr sm = { &to, sizeof(to), &iov, 1, out, CMSG_SPACE(sizeof(pi)), 0 };
		memset(&pi, 0, sizeof(pi));
		memcpy(pi.ipi6_addr.s6_addr, GA2, 16);
		memcpy(out, &h, sizeof(h));
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		assert_int_equal(skiff_sendmsg(tx, &sm, 0), 2);
		recv_ctl(rx, ctl, sizeof(ctl), &from);
		assert_memory_equal(((struct sockaddr_in6 *)&from)->sin6_addr.s6_addr, GA2, 16);
		/* not ours: EINVAL; an interface the kernel does not have: ENODEV */
		memcpy(pi.ipi6_addr.s6_addr, GX, 16);
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		memset(&pi, 0, sizeof(pi));
		pi.ipi6_ifindex = 0x7ffff0;
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		assert_err(skiff_sendmsg(tx, &sm, 0), ENODEV);
	}
	/* ip6_datagram_send_ctl's checks */
	{
		struct sockaddr_in6 to = sin6(GB, 7104);
		struct iovec iov = { "hi", 2 };
		struct msghdr sm = { &to, sizeof(to), &iov, 1, out, 0, 0 };
		sm.msg_controllen = put_int(out, 0, IPPROTO_IPV6, IPV6_HOPLIMIT, 256, 0);
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		sm.msg_controllen = put_int(out, 0, IPPROTO_IPV6, IPV6_TCLASS, -2, 0);
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		sm.msg_controllen = put_int(out, 0, IPPROTO_IPV6, IPV6_TCLASS, 1, 1); /* one byte too long */
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		sm.msg_controllen = put_int(out, 0, IPPROTO_IPV6, 9999, 1, 0);
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		sm.msg_controllen = put_int(out, 0, IPPROTO_IP, IP_TTL, 0, 0); /* SOL_IP: not read for IPv6 */
		assert_int_equal(skiff_sendmsg(tx, &sm, 0), 2);
		recv_ctl(rx, ctl, sizeof(ctl), &from);
		((struct cmsghdr *)out)->cmsg_len = CMSG_SPACE(sizeof(int)) + 1; /* past the buffer */
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
	}
	skiff_close(rx);
	skiff_close(tx);
}

static void test_ip4(void **state)
{
	char ctl[256] __attribute__((aligned(8))), out[128] __attribute__((aligned(8)));
	struct sockaddr_storage from;
	struct in_pktinfo pi;
	struct cmsghdr *c;
	struct msghdr m;
	size_t n;
	int rx, tx;

	(void)state;
	pair(AF_INET, 7105, &rx, &tx);
	on(rx, IPPROTO_IP, IP_RECVTOS);
	on(rx, IPPROTO_IP, IP_RECVTTL);
	on(rx, IPPROTO_IP, IP_PKTINFO);
	n = put_int(out, 0, IPPROTO_IP, IP_TTL, 9, 0);
	n = put_int(out, n, IPPROTO_IP, IP_TOS, 0x20, 0);
	send4(tx, 7105, out, n);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	assert_int_equal(m.msg_flags & MSG_CTRUNC, 0);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(1));
	c = CMSG_FIRSTHDR(&m); /* ip_cmsg_recv_offset: PKTINFO, TTL, TOS */
	assert_int_equal(c->cmsg_level, IPPROTO_IP);
	assert_int_equal(c->cmsg_type, IP_PKTINFO);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_int_equal(ntohl(pi.ipi_addr.s_addr), IP_B);
	assert_int_equal(ntohl(pi.ipi_spec_dst.s_addr), IP_B);
	assert_int_equal(pi.ipi_ifindex, if_nametoindex("loop1"));
	c = CMSG_NXTHDR(&m, c);
	assert_int_equal(c->cmsg_type, IP_TTL);
	assert_int_equal(int_data(c), 9);
	c = CMSG_NXTHDR(&m, c);
	assert_int_equal(c->cmsg_type, IP_TOS);
	assert_int_equal(c->cmsg_len, CMSG_LEN(1));
	assert_int_equal(*CMSG_DATA(c), 0x20);
	/* the socket's own values on the next send */
	send4(tx, 7105, NULL, 0);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	c = CMSG_NXTHDR(&m, CMSG_FIRSTHDR(&m));
	assert_int_equal(int_data(c), 64);
	assert_int_equal(*CMSG_DATA(CMSG_NXTHDR(&m, c)), 0);
	/* ip_cmsg_send's checks; IP_PKTINFO sources that are not ours */
	{
		struct sockaddr_in to = sin4(IP_B, 7105);
		struct iovec iov = { "hi", 2 };
		struct msghdr sm = { &to, sizeof(to), &iov, 1, out, 0, 0 };
		struct cmsghdr h = { .cmsg_len = CMSG_LEN(sizeof(pi)), .cmsg_level = IPPROTO_IP, .cmsg_type = IP_PKTINFO };
		sm.msg_controllen = put_int(out, 0, IPPROTO_IP, IP_TTL, 0, 0);
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		sm.msg_controllen = put_int(out, 0, IPPROTO_IP, IP_TOS, 256, 0);
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst.s_addr = htonl(0xc6120063u); /* 198.18.0.99 */
		memcpy(out, &h, sizeof(h));
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		sm.msg_controllen = CMSG_SPACE(sizeof(pi));
		assert_err(skiff_sendmsg(tx, &sm, 0), ENETUNREACH); /* as Linux's route lookup */
		pi.ipi_spec_dst.s_addr = htonl(0xe0000001u); /* 224.0.0.1 */
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		assert_err(skiff_sendmsg(tx, &sm, 0), EINVAL);
		pi.ipi_spec_dst.s_addr = htonl(IP_A);
		memcpy(out + CMSG_LEN(0), &pi, sizeof(pi));
		assert_int_equal(skiff_sendmsg(tx, &sm, 0), 2);
		recv_ctl(rx, ctl, sizeof(ctl), &from);
		assert_int_equal(ntohl(((struct sockaddr_in *)&from)->sin_addr.s_addr), IP_A);
	}
	skiff_close(rx);
	skiff_close(tx);
}

/* An IPv4 datagram on a dual-stack socket: v4-mapped IPV6_PKTINFO, then the
 * SOL_IP messages; IPV6_HOPLIMIT is IPv6's only (Linux udpv6_recvmsg). */
static void test_dual_stack(void **state)
{
	char ctl[256] __attribute__((aligned(8)));
	struct sockaddr_storage from;
	struct in6_pktinfo pi;
	struct cmsghdr *c;
	struct msghdr m;
	uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2 };
	int rx = udp_on(W.ib, AF_INET6), tx = udp_on(W.ia, AF_INET);
	struct sockaddr_in6 b = sin6(NULL, 7106);

	(void)state;
	assert_int_equal(skiff_bind(rx, (struct sockaddr *)&b, sizeof(b)), 0);
	on(rx, IPPROTO_IPV6, IPV6_RECVPKTINFO);
	on(rx, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
	on(rx, IPPROTO_IP, IP_RECVTTL);
	send4(tx, 7106, NULL, 0);
	m = recv_ctl(rx, ctl, sizeof(ctl), &from);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)));
	c = CMSG_FIRSTHDR(&m);
	assert_int_equal(c->cmsg_level, IPPROTO_IPV6);
	assert_int_equal(c->cmsg_type, IPV6_PKTINFO);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_memory_equal(pi.ipi6_addr.s6_addr, mapped, 16);
	c = CMSG_NXTHDR(&m, c);
	assert_int_equal(c->cmsg_level, IPPROTO_IP);
	assert_int_equal(c->cmsg_type, IP_TTL);
	assert_int_equal(int_data(c), 64);
	skiff_close(rx);
	skiff_close(tx);
}

static void test_options(void **state)
{
	int fd6 = udp_on(W.ia, AF_INET6), fd4 = udp_on(W.ia, AF_INET), v = -1;
	unsigned char uc = 0xee;
	socklen_t l = sizeof(v);

	(void)state;
	assert_int_equal(skiff_getsockopt(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &l), 0);
	assert_int_equal(v, 0);
	on(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
	assert_int_equal(skiff_getsockopt(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &l), 0);
	assert_int_equal(l, sizeof(int));
	assert_int_equal(v, 1);
	v = 0;
	assert_int_equal(skiff_setsockopt(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &l), 0);
	assert_int_equal(v, 0);
	assert_err(skiff_setsockopt(fd6, IPPROTO_IPV6, IPV6_RECVTCLASS, &uc, 1), EINVAL); /* needs an int */
	/* SOL_IP: one byte in, one byte out */
	uc = 1;
	assert_int_equal(skiff_setsockopt(fd4, IPPROTO_IP, IP_RECVTOS, &uc, 1), 0);
	uc = 0xee;
	l = 1;
	assert_int_equal(skiff_getsockopt(fd4, IPPROTO_IP, IP_RECVTOS, &uc, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(uc, 1);
	l = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd4, IPPROTO_IP, IP_PKTINFO, &v, &l), 0);
	assert_int_equal(v, 0);
	skiff_close(fd6);
	skiff_close(fd4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recv6_all),
		cmocka_unit_test(test_recv6_trunc),
		cmocka_unit_test(test_send6_overrides),
		cmocka_unit_test(test_ip4),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
