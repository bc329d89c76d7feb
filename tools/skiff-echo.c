/* skiff-echo.c — a UDP echo service (or client) on a real interface, through
 * skiff over AF_XDP or DPDK, or on the kernel's own sockets for comparison.
 *
 * Flow: parse options → open the device (afxdp: XSK on IF/queue, the XDP
 * steering program told skiff's address; dpdk: EAL + port) → one stack
 * instance with IF's MAC/MTU, the address, a default route via --gw → runtime →
 * server: bind PORT, recvfrom → (sockperf header? answer only pong requests,
 * with the client bit cleared : echo) → sendto, until SIGINT/SIGTERM or
 * --seconds; client: for each --sizes entry send to --client (a try-number +
 * size header leads the payload; a transient EAGAIN/ENOBUFS is retried), wait
 * until that try's own deadline for its echo (late echoes of earlier tries and
 * other datagrams are ignored), compare bytes, print the round trip from that
 * try's send. At exit: what crossed and the stack's counters (every non-zero
 * drop reason); the driver detaches its XDP program.
 * --tcp: echo_tcp.c (--keepalive IDLE,INTVL,CNT on the TCP sockets; --idle-ms:
 * the client stays idle that long after connecting).
 * --kernel runs the same loop on kernel sockets (the baseline the bench and the
 * main job print beside skiff).
 * Exit: 0 ok, 1 runtime failure (a client echo missing or wrong), 2 bad usage
 * or set-up failure (one line on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/route.h"
#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "echo_tcp.h"
#include "skiff/skiff.h"
#ifdef SKIFF_HAVE_AFXDP
#include "drivers/afxdp.h"
#include "drivers/xdp_steer.h"
#include "socketapi/boot.h"
#include "socketapi/config.h"
#endif
#ifdef SKIFF_HAVE_DPDK
#include "drivers/dpdk.h"
#endif

#define MAX_DGRAM 65535
#define MAX_SIZES 64

struct opts {
	const char *driver;      /* "afxdp", "dpdk", "kernel" */
	const char *iface;
	const char *dpdk_eal;    /* space-separated EAL arguments */
	const char *dpdk_port;
	const char *client;      /* "ip:port": client mode */
	const char *pcap;        /* capture what skiff sends and receives */
	const char *config;      /* --config FILE: interfaces, stack, runtime from a skiff config */
	uint32_t loss_ppm;       /* fault driver: drop this share of what skiff sends */
	uint32_t ip;             /* host order */
	unsigned plen;
	uint32_t gw;
	uint16_t port;
	unsigned queue;
	unsigned seconds;        /* 0: until a signal */
	unsigned busy_us;
	unsigned rounds;
	unsigned timeout_ms;
	bool sockperf;
	bool tcp;                /* TCP echo service / client instead of UDP */
	uint64_t tcp_bytes;      /* client: bytes to send and get back */
	struct echo_tcp_opts tcp_opts; /* --keepalive, --idle-ms */
	bool copy;               /* afxdp: force copy mode */
	bool skb;                /* afxdp: generic XDP */
	size_t sizes[MAX_SIZES];
	unsigned nsizes;
};

static volatile sig_atomic_t g_stop; /* set by the signal handler: the only global, as signals need */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --driver afxdp|dpdk|kernel --ip A.B.C.D/LEN [options]\n"
		"  --iface IF            interface (afxdp; kernel: informational)\n"
		"  --queue N             afxdp rx queue (default 0)\n"
		"  --copy, --skb         afxdp: force copy mode / generic (skb) XDP\n"
		"  --dpdk-eal \"ARGS\"     EAL arguments, e.g. \"--no-huge -m 256 --no-pci --vdev=net_tap0,iface=sk0\"\n"
		"  --dpdk-port NAME      port name or index (default 0)\n"
		"  --gw A.B.C.D          default gateway\n"
		"  --port P              service port (default 7)\n"
		"  --sockperf            answer sockperf ping-pong (pong requests only, client bit cleared)\n"
		"  --seconds N           stop after N seconds (default: at SIGINT/SIGTERM)\n"
		"  --busy-poll US        busy-poll budget before sleeping (default 50)\n"
		"  --client IP:PORT      client mode: echo each of --sizes through IP:PORT\n"
		"  --sizes a,b,...       datagram sizes for the client (default 1,64,1472,1473,9000,65507)\n"
		"  --rounds N            client rounds (default 1)\n"
		"  --timeout-ms N        client wait per try (default 2000; 3 tries)\n"
		"  --pcap FILE           write every frame skiff receives and sends to FILE\n"
		"  --tcp                 TCP instead of UDP (server: echo every connection; client: --bytes)\n"
		"  --bytes N             TCP client: bytes to send and check (default 1 MiB)\n"
		"  --keepalive I,N,C     TCP: SO_KEEPALIVE, TCP_KEEPIDLE I s, TCP_KEEPINTVL N s, TCP_KEEPCNT C\n"
		"  --idle-ms N           TCP client: stay idle N ms after connecting, then transfer\n"
		"  --loss PPM            drop PPM per million of the frames skiff sends (fault driver)\n"
		"  --config FILE         take interfaces, addresses, routes and stack settings from a skiff\n"
		"                        config file (+ SKIFF_* environment); replaces --driver/--iface/--ip\n"
		"  --list-drivers        print the drivers this build has\n",
		argv0);
}

static int parse_ip(const char *s, uint32_t *ip, unsigned *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	if (plen) {
		char *end;
		unsigned long l = slash ? strtoul(slash + 1, &end, 10) : 24;
		if ((slash && *end) || l < 1 || l > 32)
			return -1;
		*plen = (unsigned)l;
	} else if (slash) {
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "driver", required_argument, 0, 'd' },  { "iface", required_argument, 0, 'i' },
		{ "ip", required_argument, 0, 'a' },      { "gw", required_argument, 0, 'g' },
		{ "port", required_argument, 0, 'p' },    { "queue", required_argument, 0, 'q' },
		{ "seconds", required_argument, 0, 't' }, { "busy-poll", required_argument, 0, 'b' },
		{ "sockperf", no_argument, 0, 'S' },      { "client", required_argument, 0, 'c' },
		{ "sizes", required_argument, 0, 's' },   { "rounds", required_argument, 0, 'r' },
		{ "timeout-ms", required_argument, 0, 'T' }, { "dpdk-eal", required_argument, 0, 'E' },
		{ "dpdk-port", required_argument, 0, 'P' }, { "copy", no_argument, 0, 'C' },
		{ "skb", no_argument, 0, 'K' },           { "help", no_argument, 0, 'h' },
		{ "list-drivers", no_argument, 0, 'L' }, { "tcp", no_argument, 0, 'U' },
		{ "bytes", required_argument, 0, 'B' },   { "loss", required_argument, 0, 'F' }, { "pcap", required_argument, 0, 'W' },
		{ "keepalive", required_argument, 0, 'k' }, { "idle-ms", required_argument, 0, 'I' },
		{ "config", required_argument, 0, 'f' },
		{ 0, 0, 0, 0 },
	};
	static const size_t def_sizes[] = { 1, 64, 1472, 1473, 9000, 65507 };
	int c;
	bool have_ip = false;

	memset(o, 0, sizeof(*o));
	o->port = 7;
	o->busy_us = 50;
	o->rounds = 1;
	o->timeout_ms = 2000;
	o->dpdk_port = "0";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = 0;
		if (optarg && strchr("ptbrTqI", c)) {
			v = strtoul(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr, "skiff-echo: bad number '%s'\n", optarg);
				return -1;
			}
		}
		switch (c) {
		case 'd': o->driver = optarg; break;
		case 'i': o->iface = optarg; break;
		case 'a':
			if (parse_ip(optarg, &o->ip, &o->plen)) {
				fprintf(stderr, "skiff-echo: bad address '%s' (want A.B.C.D/LEN)\n", optarg);
				return -1;
			}
			have_ip = true;
			break;
		case 'g':
			if (parse_ip(optarg, &o->gw, NULL)) {
				fprintf(stderr, "skiff-echo: bad gateway '%s'\n", optarg);
				return -1;
			}
			break;
		case 'p':
			if (v == 0 || v > 65535) {
				fprintf(stderr, "skiff-echo: bad port '%s'\n", optarg);
				return -1;
			}
			o->port = (uint16_t)v;
			break;
		case 'q': o->queue = (unsigned)v; break;
		case 't': o->seconds = (unsigned)v; break;
		case 'b': o->busy_us = (unsigned)v; break;
		case 'r': o->rounds = v ? (unsigned)v : 1; break;
		case 'T': o->timeout_ms = v ? (unsigned)v : 1; break;
		case 'S': o->sockperf = true; break;
		case 'U': o->tcp = true; break;
		case 'B': o->tcp_bytes = strtoull(optarg, NULL, 0); break;
		case 'F': o->loss_ppm = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': o->client = optarg; break;
		case 'E': o->dpdk_eal = optarg; break;
		case 'P': o->dpdk_port = optarg; break;
		case 'C': o->copy = true; break;
		case 'K': o->skb = true; break;
		case 'W': o->pcap = optarg; break;
		case 'f': o->config = optarg; break;
		case 'I': o->tcp_opts.idle_ms = (unsigned)v; break;
		case 'k': {
			struct echo_tcp_opts *t = &o->tcp_opts;
			int used = 0;
			if (sscanf(optarg, "%d,%d,%d%n", &t->ka_idle, &t->ka_intvl, &t->ka_cnt, &used) != 3 ||
			    optarg[used] || t->ka_idle < 1 || t->ka_intvl < 1 || t->ka_cnt < 1) {
				fprintf(stderr, "skiff-echo: bad --keepalive '%s' (want IDLE,INTVL,CNT, each >= 1)\n", optarg);
				return -1;
			}
			break;
		}
		case 'L':
			printf("kernel"
#ifdef SKIFF_HAVE_AFXDP
			       " afxdp"
#endif
#ifdef SKIFF_HAVE_DPDK
			       " dpdk"
#endif
			       "\n");
			exit(0);
		case 's': {
			char *save = NULL, buf[512];
			snprintf(buf, sizeof(buf), "%s", optarg);
			o->nsizes = 0;
			for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				unsigned long n = strtoul(tok, &end, 10);
				if (*end || n > 65507 || o->nsizes == MAX_SIZES) {
					fprintf(stderr, "skiff-echo: bad size '%s' (0..65507, at most %d)\n", tok, MAX_SIZES);
					return -1;
				}
				o->sizes[o->nsizes++] = n;
			}
			break;
		}
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (o->config) {
		if (optind != argc || o->driver || have_ip || o->loss_ppm || o->pcap) {
			fprintf(stderr, "skiff-echo: --config replaces --driver/--iface/--ip and does not combine with "
					"--loss or --pcap\n");
			return -1;
		}
		o->driver = "config";
		if (!o->nsizes) {
			memcpy(o->sizes, def_sizes, sizeof(def_sizes));
			o->nsizes = sizeof(def_sizes) / sizeof(def_sizes[0]);
		}
		return 0;
	}
	if (optind != argc || !o->driver || !have_ip) {
		usage(argv[0]);
		return -1;
	}
	if (strcmp(o->driver, "afxdp") && strcmp(o->driver, "dpdk") && strcmp(o->driver, "kernel")) {
		fprintf(stderr, "skiff-echo: unknown driver '%s' (afxdp, dpdk or kernel)\n", o->driver);
		return -1;
	}
	if (!strcmp(o->driver, "afxdp") && !o->iface) {
		fprintf(stderr, "skiff-echo: --driver afxdp needs --iface\n");
		return -1;
	}
	if (!o->nsizes) {
		memcpy(o->sizes, def_sizes, sizeof(def_sizes));
		o->nsizes = sizeof(def_sizes) / sizeof(def_sizes[0]);
	}
	return 0;
}

/* The socket calls, over skiff or the kernel: the loops below do not care which. */
struct sockops {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	int (*close)(int);
};

static const struct sockops skiff_ops = { skiff_socket, skiff_bind, skiff_setsockopt, skiff_recvfrom, skiff_sendto,
					  skiff_close };
static const struct sockops kernel_ops = { socket, bind, setsockopt, recvfrom, sendto, close };
static const struct tcpops skiff_tcpops = { skiff_socket, skiff_bind,	  skiff_listen, skiff_accept4,
					    skiff_connect, skiff_send,	  skiff_recv,	skiff_shutdown,
					    skiff_poll,	  skiff_setsockopt, skiff_close };
static const struct tcpops kernel_tcpops = { socket, bind, listen, accept4, connect, send, recv, shutdown, poll,
					     setsockopt, close };

/* TCP: the service, or the client against --client IP:PORT. */
static int run_tcp(const struct tcpops *so, const struct opts *o)
{
	if (o->client) {
		char host[64];
		uint32_t dst;
		const char *colon = strrchr(o->client, ':');
		if (!colon || (size_t)(colon - o->client) >= sizeof(host)) {
			fprintf(stderr, "skiff-echo: bad --client '%s' (want IP:PORT)\n", o->client);
			return -1;
		}
		memcpy(host, o->client, (size_t)(colon - o->client));
		host[colon - o->client] = 0;
		if (parse_ip(host, &dst, NULL) || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
			fprintf(stderr, "skiff-echo: bad --client '%s' (want IP:PORT)\n", o->client);
			return -1;
		}
		return echo_tcp_client(so, o->ip, dst, (uint16_t)atoi(colon + 1), o->tcp_bytes ? o->tcp_bytes : 1u << 20,
				       &o->tcp_opts, &g_stop);
	}
	return echo_tcp_serve(so, o->ip, o->port, o->seconds, &o->tcp_opts, &g_stop);
}

/* sockperf's message header: u64 sequence, u16 flags (bit 0: from the client,
 * bit 1: the client wants an answer), u32 length. The server answers only
 * requests that ask for one, with the client bit cleared. */
#define SOCKPERF_HDR 14

struct counts {
	uint64_t rx, tx, rx_bytes, tx_errors;
};

static int serve(const struct sockops *so, const struct opts *o, struct counts *n)
{
	static unsigned char buf[MAX_DGRAM];
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	struct timeval tv = { 0, 200000 }; /* wake to check the stop flag */
	uint64_t end = o->seconds ? now_ns() + (uint64_t)o->seconds * 1000000000ull : UINT64_MAX;
	int fd = so->socket(AF_INET, SOCK_DGRAM, 0);

	me.sin_addr.s_addr = htonl(o->ip);
	if (fd < 0 || so->bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "skiff-echo: bind %s:%u: %s\n", inet_ntoa(me.sin_addr), o->port, strerror(errno));
		if (fd >= 0)
			so->close(fd);
		return -1;
	}
	so->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("skiff-echo: ready, serving udp %s:%u%s\n", inet_ntoa(me.sin_addr), o->port,
	       o->sockperf ? " (sockperf)" : "");
	fflush(stdout);
	while (!g_stop && now_ns() < end) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t m = so->recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (m < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "skiff-echo: recvfrom: %s\n", strerror(errno));
			break;
		}
		n->rx++;
		n->rx_bytes += (uint64_t)m;
		if (o->sockperf && m >= SOCKPERF_HDR && (buf[9] & 1)) {
			if (!(buf[9] & 2))
				continue; /* throughput mode: counted, not answered */
			buf[9] &= (unsigned char)~1u;
		}
		if (so->sendto(fd, buf, (size_t)m, 0, (struct sockaddr *)&from, fl) == m)
			n->tx++;
		else
			n->tx_errors++;
	}
	so->close(fd);
	return 0;
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 131u + seed * 7u) ^ (i >> 8));
}

/* Client datagrams start with a header — try number (1 byte), size (u32),
 * sequence of the size in the run (u16), all big-endian — cut to the datagram's
 * size, then the fill pattern. The echo server sends the bytes back unchanged, so
 * an echo is this try's only when every byte matches: a late echo of an earlier
 * try differs in the first byte (from 1 byte up; an empty datagram cannot tell). */
#define CLIENT_HDR 7
#define CLIENT_TRIES 3
#define CLIENT_SEND_RETRIES 5

static void client_payload(unsigned char *b, size_t n, unsigned seq, unsigned try)
{
	unsigned char h[CLIENT_HDR] = { (unsigned char)(0xa0u + try), (unsigned char)(n >> 24), (unsigned char)(n >> 16),
					(unsigned char)(n >> 8), (unsigned char)n, (unsigned char)(seq >> 8),
					(unsigned char)seq };
	fill(b, n, seq);
	memcpy(b, h, n < CLIENT_HDR ? n : CLIENT_HDR);
}

/* SO_RCVTIMEO for what is left until `deadline` (at least 1 us: {0,0} means forever). */
static void set_rcv_deadline(const struct sockops *so, int fd, uint64_t deadline)
{
	uint64_t now = now_ns(), left = deadline > now ? deadline - now : 0;
	struct timeval tv;
	if (left < 1000)
		left = 1000;
	tv.tv_sec = (time_t)(left / 1000000000ull);
	tv.tv_usec = (suseconds_t)(left % 1000000000ull / 1000);
	so->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* sendto, retried a few times (1 ms apart) while the stack answers a transient
 * EAGAIN/ENOBUFS (a full transmit ring, a pool briefly empty). */
static ssize_t send_retry(const struct sockops *so, int fd, const void *buf, size_t n, const struct sockaddr_in *to)
{
	ssize_t w = -1;
	for (int i = 0; i <= CLIENT_SEND_RETRIES && !g_stop; i++) {
		w = so->sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof(*to));
		if (w >= 0 || (errno != EAGAIN && errno != ENOBUFS && errno != EINTR))
			break;
		usleep(1000);
	}
	return w;
}

/* Client: each size through the echo server; three tries (the first datagram may
 * wait on ARP at either end, and a lost fragment loses the datagram). Each try
 * waits until its own absolute deadline (send + --timeout-ms) however many
 * other datagrams arrive meanwhile; only the echo of that try counts, and its
 * round trip is measured from that try's send. */
static int client(const struct sockops *so, const struct opts *o)
{
	static unsigned char out[MAX_DGRAM], in[MAX_DGRAM];
	struct sockaddr_in me = { .sin_family = AF_INET }, peer = { .sin_family = AF_INET };
	uint32_t pip;
	char host[64];
	const char *colon = strrchr(o->client, ':');
	int fd, failures = 0;
	unsigned seq = 0;

	if (!colon || (size_t)(colon - o->client) >= sizeof(host)) {
		fprintf(stderr, "skiff-echo: bad --client '%s' (want IP:PORT)\n", o->client);
		return -1;
	}
	memcpy(host, o->client, (size_t)(colon - o->client));
	host[colon - o->client] = 0;
	if (parse_ip(host, &pip, NULL) || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
		fprintf(stderr, "skiff-echo: bad --client '%s' (want IP:PORT)\n", o->client);
		return -1;
	}
	peer.sin_addr.s_addr = htonl(pip);
	peer.sin_port = htons((uint16_t)atoi(colon + 1));
	me.sin_addr.s_addr = htonl(o->ip);
	fd = so->socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || so->bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "skiff-echo: client socket: %s\n", strerror(errno));
		if (fd >= 0)
			so->close(fd);
		return -1;
	}
	printf("skiff-echo: client %s → %s\n", inet_ntoa(me.sin_addr), o->client);
	for (unsigned r = 0; r < o->rounds && !g_stop; r++) {
		for (unsigned k = 0; k < o->nsizes && !g_stop; k++, seq++) {
			size_t sz = o->sizes[k];
			bool ok = false;
			uint64_t t0 = 0, t1 = 0;
			unsigned tries, late = 0, stray = 0;
			for (tries = 0; tries < CLIENT_TRIES && !ok && !g_stop; tries++) {
				uint64_t deadline;
				client_payload(out, sz, seq, tries);
				t0 = now_ns();
				if (send_retry(so, fd, out, sz, &peer) != (ssize_t)sz) {
					fprintf(stderr, "skiff-echo: sendto %zu bytes: %s\n", sz, strerror(errno));
					break;
				}
				deadline = t0 + (uint64_t)o->timeout_ms * 1000000ull;
				while (!g_stop && now_ns() < deadline) {
					ssize_t m;
					set_rcv_deadline(so, fd, deadline);
					m = so->recvfrom(fd, in, sizeof(in), 0, NULL, NULL);
					if (m < 0 && errno == EINTR)
						continue;
					if (m < 0)
						break; /* this try's deadline passed: try again */
					if ((size_t)m == sz && memcmp(in, out, sz) == 0) {
						t1 = now_ns();
						ok = true;
						break;
					}
					/* an earlier try's late echo, or someone else's datagram */
					if ((size_t)m == sz && sz > 0 && in[0] != out[0] && memcmp(in + 1, out + 1, sz - 1) == 0)
						late++;
					else
						stray++;
				}
			}
			if (ok)
				printf("  %6zu bytes ok  rtt %.1f us%s\n", sz, (double)(t1 - t0) / 1000.0,
				       tries > 1 ? "  (retried)" : "");
			else
				printf("  %6zu bytes FAILED\n", sz);
			if (late || stray)
				printf("         ignored: %u late echo(es) of earlier tries, %u other datagram(s)\n", late,
				       stray);
			failures += !ok;
		}
	}
	so->close(fd);
	printf("skiff-echo: client %s: %d failure(s)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}

static void print_counters(const struct skiff_stack *st)
{
	const struct skiff_counters *c = &st->ctr;
	printf("skiff-echo: stack frames rx %llu tx %llu | arp in %llu req-out %llu reply-out %llu | ip in %llu out %llu "
	       "frag-out %llu reasm %llu | icmp in %llu echo-replies %llu | udp in %llu out %llu\n",
	       (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames, (unsigned long long)c->arp_in,
	       (unsigned long long)c->arp_req_out, (unsigned long long)c->arp_reply_out,
	       (unsigned long long)c->ip4_in, (unsigned long long)c->ip4_out, (unsigned long long)c->ip4_frag_out,
	       (unsigned long long)c->ip4_reasm_ok, (unsigned long long)c->icmp_in,
	       (unsigned long long)c->icmp_echo_replies, (unsigned long long)c->udp_in, (unsigned long long)c->udp_out);
	if (c->tcp_in || c->tcp_out)
		printf("skiff-echo: tcp in %llu out %llu | retrans %llu (fast recoveries %llu, timeouts %llu) | resets in %llu out %llu | syncookies %llu"
		       " | syncookies-sent %llu | established %llu | challenge-acks %llu\n",
		       (unsigned long long)c->tcp_in, (unsigned long long)c->tcp_out, (unsigned long long)c->tcp_retrans,
		       (unsigned long long)c->tcp_fast_retrans, (unsigned long long)c->tcp_rto,
		       (unsigned long long)c->tcp_resets_in, (unsigned long long)c->tcp_resets_out,
		       (unsigned long long)c->tcp_syncookies_ok, (unsigned long long)c->tcp_syncookies_sent,
		       (unsigned long long)c->tcp_established, (unsigned long long)c->tcp_challenge_acks);
	if (c->tcp_retrans || c->tcp_dsack_out)
		printf("skiff-echo: tcp recovery: rack-marked %llu | loss probes %llu (repaired %llu) | undone %llu | d-sacks sent %llu\n",
		       (unsigned long long)c->tcp_rack_lost, (unsigned long long)c->tcp_tlp_probes,
		       (unsigned long long)c->tcp_tlp_recoveries, (unsigned long long)c->tcp_undo,
		       (unsigned long long)c->tcp_dsack_out);
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		if (c->drop[r])
			printf("skiff-echo:   drop %-22s %llu\n", skiff_drop_name((enum skiff_drop_reason)r),
			       (unsigned long long)c->drop[r]);
}

/* Open the device the options name; one line on stderr when it fails. */
static int open_dev(const struct opts *o, struct skiff_dev **dev, void **steer)
{
	struct skiff_cfg_iface f;
	char err[256] = "";
	int rc;

	/* the options as one [interface] of a config (socketapi/boot.c opens it) */
	memset(&f, 0, sizeof(f));
	if (!strcmp(o->driver, "afxdp")) {
		f.driver = SKIFF_CFG_DRIVER_AFXDP;
		snprintf(f.name, sizeof(f.name), "%s", o->iface);
		f.queue_lo = f.queue_hi = o->queue;
		f.xdp_mode = o->skb ? SKIFF_CFG_XDP_SKB : o->copy ? SKIFF_CFG_XDP_COPY : SKIFF_CFG_XDP_AUTO;
	} else {
		f.driver = SKIFF_CFG_DRIVER_DPDK;
		snprintf(f.name, sizeof(f.name), "%s", o->dpdk_port);
		snprintf(f.dpdk_port, sizeof(f.dpdk_port), "%s", o->dpdk_port);
		snprintf(f.dpdk_eal, sizeof(f.dpdk_eal), "%s", o->dpdk_eal ? o->dpdk_eal : "--no-huge -m 256 --no-pci --no-shconf");
	}
	rc = skiff_boot_open_dev(&f, dev, steer, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "skiff-echo: %s\n", err);
		return rc;
	}
#ifdef SKIFF_HAVE_AFXDP
	if (f.driver == SKIFF_CFG_DRIVER_AFXDP)
		printf("skiff-echo: afxdp on %s queue %u, %s\n", o->iface, o->queue, skiff_afxdp_mode(*dev));
#endif
#ifdef SKIFF_HAVE_DPDK
	if (f.driver == SKIFF_CFG_DRIVER_DPDK)
		printf("skiff-echo: dpdk port %s (%s)\n", o->dpdk_port, skiff_dpdk_driver_name(*dev));
#endif
	return 0;
}

/* --config: the interfaces, stack and runtime a config file (+ SKIFF_*) describes
 * (socketapi/boot.c), then the same service or client on its first address. */
static int run_config(struct opts *o)
{
	struct skiff_config cf;
	struct skiff_boot *b = NULL;
	struct counts n = { 0, 0, 0, 0 };
	char err[SKIFF_CFG_ERR];
	int status;

	skiff_config_defaults(&cf);
	if (skiff_config_load(&cf, o->config, err, sizeof(err)) || skiff_config_env(&cf, err, sizeof(err)) ||
	    skiff_boot_open(&cf, &b, err, sizeof(err))) {
		fprintf(stderr, "skiff-echo: %s\n", err);
		return 2;
	}
	o->ip = cf.ifaces[0].addrs[0].addr;
	o->plen = cf.ifaces[0].addrs[0].plen;
	for (unsigned i = 0; i < b->ndevs; i++)
		printf("skiff-echo: config %s: interface %s (%s, device %s), mtu %u\n", o->config, cf.ifaces[i].name,
		       cf.ifaces[i].driver == SKIFF_CFG_DRIVER_AFXDP ? "afxdp" : "dpdk", b->devs[i]->name, b->devs[i]->mtu);
	if (o->tcp) {
		int rc = run_tcp(&skiff_tcpops, o);
		status = rc < 0 ? 2 : rc;
	} else if (o->client) {
		int rc = client(&skiff_ops, o);
		status = rc < 0 ? 2 : rc;
	} else {
		status = serve(&skiff_ops, o, &n) ? 2 : 0;
		printf("skiff-echo: rx %llu datagrams (%llu bytes), tx %llu, tx errors %llu\n", (unsigned long long)n.rx,
		       (unsigned long long)n.rx_bytes, (unsigned long long)n.tx, (unsigned long long)n.tx_errors);
	}
	print_counters(b->st);
	skiff_boot_close(b);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sigaction sa;
	struct skiff_dev *dev = NULL;
	struct skiff_stack *st = NULL;
	struct skiff_rt *rt = NULL;
	struct skiff_stack_config cfg;
	struct counts n = { 0, 0, 0, 0 };
	void *steer = NULL;
	int rc, ifx, inst, status = 0;
	char ifname[SKIFF_IFNAMSIZ];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o))
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!strcmp(o.driver, "kernel")) {
		if (o.tcp)
			return (rc = run_tcp(&kernel_tcpops, &o)) < 0 ? 2 : rc;
		rc = o.client ? client(&kernel_ops, &o) : serve(&kernel_ops, &o, &n);
		if (!o.client)
			printf("skiff-echo: kernel: rx %llu datagrams (%llu bytes), tx %llu, tx errors %llu\n",
			       (unsigned long long)n.rx, (unsigned long long)n.rx_bytes, (unsigned long long)n.tx,
			       (unsigned long long)n.tx_errors);
		return rc < 0 ? 2 : rc;
	}

	if (o.config)
		return run_config(&o);
	if (open_dev(&o, &dev, &steer))
		return 2;
	memcpy(ifname, dev->name, sizeof(ifname) - 1); /* the device's name, not the capture wrapper's */
	ifname[sizeof(ifname) - 1] = 0;
	if (o.loss_ppm) {
		struct skiff_fault_config fc;
		struct skiff_dev *w;
		memset(&fc, 0, sizeof(fc));
		fc.seed = now_ns();
		fc.loss_ppm = o.loss_ppm;
		rc = skiff_fault_wrap(dev, &fc, &w);
		if (rc) {
			fprintf(stderr, "skiff-echo: fault: %s\n", strerror(-rc));
			skiff_dev_close(dev);
			return 2;
		}
		dev = w;
		printf("skiff-echo: dropping %u ppm of transmitted frames\n", o.loss_ppm);
	}
	if (o.pcap) {
		struct skiff_dev *w;
		rc = skiff_pcap_wrap(dev, o.pcap, &w);
		if (rc) {
			fprintf(stderr, "skiff-echo: pcap %s: %s\n", o.pcap, strerror(-rc));
			skiff_dev_close(dev);
			return 2;
		}
		dev = w;
	}
	skiff_stack_config_defaults(&cfg);
	cfg.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	rc = skiff_stack_create(&cfg, now_ns(), &st);
	if (!rc) {
		ifx = skiff_stack_add_iface(st, ifname, dev->mac, dev->mtu, dev->caps, skiff_dev_pool(dev));
		rc = ifx < 0 ? ifx : 0;
	}
#ifdef SKIFF_HAVE_AFXDP
	if (!rc && steer)
		rc = skiff_xdp_steer_add_ip4(steer, o.ip);
#endif
	if (!rc)
		rc = skiff_stack_add_addr4(st, ifx, o.ip, o.plen, now_ns());
	if (!rc && o.gw)
		rc = skiff_route_add4(st, 0, 0, o.gw, ifx, 0);
	if (!rc)
		rc = skiff_rt_create(&rt);
	if (!rc) {
		inst = skiff_rt_attach(rt, st, &dev, 1);
		rc = inst < 0 ? inst : skiff_rt_use(rt, inst);
	}
	if (rc) {
		fprintf(stderr, "skiff-echo: set-up: %s\n", strerror(-rc));
		status = 2;
		goto out;
	}
	skiff_rt_set_busy_poll(rt, o.busy_us);
	{
		struct in_addr a = { htonl(o.ip) };
		printf("skiff-echo: %s %02x:%02x:%02x:%02x:%02x:%02x mtu %u, address %s/%u\n", dev->name, dev->mac[0],
		       dev->mac[1], dev->mac[2], dev->mac[3], dev->mac[4], dev->mac[5], dev->mtu, inet_ntoa(a), o.plen);
	}
	if (o.tcp) {
		rc = run_tcp(&skiff_tcpops, &o);
		status = rc < 0 ? 2 : rc;
	} else if (o.client) {
		rc = client(&skiff_ops, &o);
		status = rc < 0 ? 2 : rc;
	} else {
		status = serve(&skiff_ops, &o, &n) ? 2 : 0;
		printf("skiff-echo: rx %llu datagrams (%llu bytes), tx %llu, tx errors %llu\n", (unsigned long long)n.rx,
		       (unsigned long long)n.rx_bytes, (unsigned long long)n.tx, (unsigned long long)n.tx_errors);
	}
	print_counters(st);
#ifdef SKIFF_HAVE_AFXDP
	if (steer) {
		struct skiff_steer_counters sc;
		if (!skiff_xdp_steer_counters(steer, &sc)) {
			printf("skiff-echo: xdp steer (%s):", skiff_xdp_steer_mode(steer));
			for (unsigned i = 0; i < SKIFF_STEER_NCOUNTERS; i++)
				if (sc.packets[i])
					printf(" %s %llu", skiff_xdp_steer_counter_name(i), (unsigned long long)sc.packets[i]);
			printf("\n");
		}
	}
#endif
out:
	skiff_rt_destroy(rt);
	skiff_stack_destroy(st);
	skiff_dev_close(dev);
	return status;
}
