/* udp_bench.c — a plain POSIX UDP benchmark for IPv4 and IPv6, run unmodified on
 * the kernel and under `skiff run` (bench/ip6_bench.sh puts them side by side).
 *
 *   udp_bench echo HOST PORT SECONDS
 *       echo every datagram back until SECONDS pass without one
 *   udp_bench pingpong HOST PORT SECONDS SIZE
 *       SIZE-byte ping-pong for SECONDS; prints "rtt avg_us p50 p99 p999 n"
 *   udp_bench blast HOST PORT SECONDS SIZE
 *       send SIZE-byte datagrams as fast as sendmmsg goes; prints "sent n rate"
 *   udp_bench sink HOST PORT SECONDS [NSOCK [GROUP [IFADDR]]]
 *       NSOCK sockets (SO_REUSEADDR) bound to PORT (HOST: the address to bind;
 *       with GROUP each joins it, IPv4 via IFADDR / IPv6 on the scope of HOST's
 *       interface), read all of them for SECONDS after the first datagram;
 *       prints "recv n_per_socket rate_per_socket total_rate"
 * HOST decides the family (a ':' makes it IPv6). Times from CLOCK_MONOTONIC.
 * Exit 0, or 1 with one line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXSOCK 64
#define BATCH 32

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "udp_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t make_addr(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			fprintf(stderr, "udp_bench: bad address %s\n", host);
			exit(1);
		}
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
		fprintf(stderr, "udp_bench: bad address %s\n", host);
		exit(1);
	}
	return sizeof(*s4);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int echo(const char *host, int port, double secs)
{
	struct sockaddr_storage ss, from;
	socklen_t sl = make_addr(host, port, &ss), fl;
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	char buf[65536];
	struct timeval tv = { (time_t)secs, 0 };

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			break; /* idle for secs: done */
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return 0;
}

static int pingpong(const char *host, int port, double secs, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	static uint32_t rtt[4000000];
	size_t n = 0;
	char buf[65536];
	double end, sum = 0;
	struct timeval tv = { 1, 0 };

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0)
		die("connect");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(buf, 'p', sizeof(buf));
	for (int w = 0; w < 1000; w++) { /* warm up: neighbours, caches */
		if (send(fd, buf, size, 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0)
			die("warm-up");
	}
	end = now_s() + secs;
	while (n < sizeof(rtt) / sizeof(rtt[0])) {
		double t0 = now_s(), t1;
		if (t0 >= end)
			break;
		if (send(fd, buf, size, 0) < 0 || recv(fd, buf, sizeof(buf), 0) < 0)
			die("ping-pong");
		t1 = now_s();
		rtt[n++] = (uint32_t)((t1 - t0) * 1e9);
		sum += t1 - t0;
	}
	qsort(rtt, n, sizeof(rtt[0]), cmp_u32);
	printf("rtt %.2f %.2f %.2f %.2f %zu\n", sum / (double)n * 1e6, rtt[n / 2] / 1e3, rtt[n * 99 / 100] / 1e3,
	       rtt[n * 999 / 1000] / 1e3, n);
	return 0;
}

static int blast(const char *host, int port, double secs, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(host, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	static char buf[65536];
	uint64_t sent = 0;
	double t0, end;

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0)
		die("connect");
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = size;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int k = sendmmsg(fd, m, BATCH, 0);
		if (k > 0)
			sent += (uint64_t)k;
		else if (errno != ENOBUFS && errno != EAGAIN)
			die("sendmmsg");
	}
	printf("sent %llu %.0f\n", (unsigned long long)sent, (double)sent / (now_s() - t0));
	return 0;
}

static int sink(const char *host, int port, double secs, int nsock, const char *group, const char *ifaddr)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(host, port, &ss);
	struct pollfd pf[MAXSOCK];
	uint64_t cnt[MAXSOCK] = { 0 }, total = 0;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	static char bufs[BATCH][2048];
	double t0 = 0, end = 0;
	int one = 1;

	if (nsock < 1 || nsock > MAXSOCK)
		nsock = 1;
	for (int i = 0; i < nsock; i++) {
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int rb = 4 << 20;
		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
			die("bind");
		if (group && ss.ss_family == AF_INET) {
			struct ip_mreq mr;
			inet_pton(AF_INET, group, &mr.imr_multiaddr);
			inet_pton(AF_INET, ifaddr ? ifaddr : "0.0.0.0", &mr.imr_interface);
			if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
				die("IP_ADD_MEMBERSHIP");
		} else if (group) {
			struct ipv6_mreq mr;
			inet_pton(AF_INET6, group, &mr.ipv6mr_multiaddr);
			mr.ipv6mr_interface = ifaddr ? (unsigned)atoi(ifaddr) : 0;
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0)
				die("IPV6_JOIN_GROUP");
		}
		pf[i].fd = fd;
		pf[i].events = POLLIN;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int r = poll(pf, (nfds_t)nsock, 5000);
		if (r <= 0)
			break; /* nothing for 5 s: the sender is gone */
		for (int i = 0; i < nsock; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			for (;;) {
				int k = recvmmsg(pf[i].fd, m, BATCH, 0, NULL);
				if (k <= 0)
					break;
				if (!t0) {
					t0 = now_s();
					end = t0 + secs;
				}
				cnt[i] += (uint64_t)k;
				total += (uint64_t)k;
			}
		}
		if (t0 && now_s() >= end)
			break;
	}
	if (!t0) {
		fprintf(stderr, "udp_bench: sink: nothing received\n");
		return 1;
	}
	{
		double el = now_s() - t0;
		printf("recv %llu %.0f %.0f\n", (unsigned long long)cnt[0], (double)cnt[0] / el, (double)total / el);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "echo"))
		return echo(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc >= 6 && !strcmp(argv[1], "pingpong"))
		return pingpong(argv[2], atoi(argv[3]), atof(argv[4]), (size_t)atoi(argv[5]));
	if (argc >= 6 && !strcmp(argv[1], "blast"))
		return blast(argv[2], atoi(argv[3]), atof(argv[4]), (size_t)atoi(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "sink"))
		return sink(argv[2], atoi(argv[3]), atof(argv[4]), argc > 5 ? atoi(argv[5]) : 1, argc > 6 ? argv[6] : NULL,
			    argc > 7 ? argv[7] : NULL);
	fprintf(stderr, "usage: udp_bench echo|pingpong|blast|sink ... (see the top of udp_bench.c)\n");
	return 2;
}
