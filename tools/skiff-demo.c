/* skiff-demo.c — the README's main job (for now): two skiff stack instances in
 * one process, joined by the loop driver (wrapped in pcap so the exchange can be
 * read with tshark), talk UDP through the native API.
 *
 * Flow: create loop pair → pcap-wrap one end → two stacks, 198.18.0.1/24 and
 * 198.18.0.2/24 → runtime with both → echo server socket on .1:7, client on .2 →
 * for each size (1 B … 60000 B, fragmented above 1472): client sends, skiff_poll
 * waits on both sockets, server echoes, client checks the bytes → print sizes,
 * round-trip times, and the frame/ARP/fragment counters of both stacks.
 * Exit status 0 only when every echo came back byte-exact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int make_stack(struct skiff_dev *dev, uint32_t ip, struct skiff_stack **out)
{
	struct skiff_stack_config cfg;
	int rc, ifx;
	skiff_stack_config_defaults(&cfg);
	cfg.seed = now_ns() ^ ip;
	rc = skiff_stack_create(&cfg, now_ns(), out);
	if (rc)
		return rc;
	ifx = skiff_stack_add_iface(*out, dev->name, dev->mac, dev->mtu, dev->caps, skiff_dev_pool(dev));
	if (ifx < 0)
		return ifx;
	return skiff_stack_add_addr4(*out, ifx, ip, 24, now_ns());
}

static void print_counters(const char *name, const struct skiff_stack *st)
{
	const struct skiff_counters *c = &st->ctr;
	printf("  %-8s frames rx %-5llu tx %-5llu | arp in %llu req %llu reply %llu | ip out %llu frag-out %llu reasm %llu | udp in %llu out %llu\n",
	       name, (unsigned long long)c->rx_frames, (unsigned long long)c->tx_frames, (unsigned long long)c->arp_in,
	       (unsigned long long)c->arp_req_out, (unsigned long long)c->arp_reply_out, (unsigned long long)c->ip4_out,
	       (unsigned long long)c->ip4_frag_out, (unsigned long long)c->ip4_reasm_ok, (unsigned long long)c->udp_in,
	       (unsigned long long)c->udp_out);
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		if (c->drop[r])
			printf("           drop %-18s %llu\n", skiff_drop_name((enum skiff_drop_reason)r),
			       (unsigned long long)c->drop[r]);
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 131u + seed * 7u) ^ (i >> 8));
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 64, 512, 1472, 1473, 4000, 9000, 30000, 60000, 65507 };
	const char *pcap_path = "skiff-demo.pcap";
	struct skiff_dev *a, *b, *pa;
	struct skiff_stack *sa, *sb;
	struct skiff_rt *rt;
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(7) };
	static unsigned char out[65536], in[65536], echo[65536];
	int ia, ib, fs, fc, rc, failures = 0, rounds = 3, opt;

	while ((opt = getopt(argc, argv, "w:n:h")) != -1) {
		switch (opt) {
		case 'w': pcap_path = optarg; break;
		case 'n': rounds = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		default:
			fprintf(stderr, "usage: %s [-w capture.pcap] [-n rounds]\n", argv[0]);
			return 2;
		}
	}
	if ((rc = skiff_loop_pair(NULL, &a, &b)) || (rc = skiff_pcap_wrap(a, pcap_path, &pa))) {
		fprintf(stderr, "skiff-demo: loop driver: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = make_stack(pa, 0xc6120001u, &sa)) || (rc = make_stack(b, 0xc6120002u, &sb))) {
		fprintf(stderr, "skiff-demo: stack: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = skiff_rt_create(&rt)) || (ia = skiff_rt_attach(rt, sa, &pa, 1)) < 0 ||
	    (ib = skiff_rt_attach(rt, sb, &b, 1)) < 0) {
		fprintf(stderr, "skiff-demo: runtime: %s\n", strerror(rc ? -rc : EINVAL));
		return 1;
	}
	printf("skiff demo: two stack instances over the loop driver (capture: %s)\n", pcap_path);
	printf("  server 198.18.0.1:7 (instance %d), client 198.18.0.2 (instance %d)\n\n", ia, ib);

	srv.sin_addr.s_addr = htonl(0xc6120001u);
	fs = skiff_socket_on(rt, ia, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fc = skiff_socket_on(rt, ib, AF_INET, SOCK_DGRAM, 0);
	if (fs < 0 || fc < 0 || skiff_bind(fs, (struct sockaddr *)&srv, sizeof(srv)) < 0 ||
	    skiff_connect(fc, (struct sockaddr *)&srv, sizeof(srv)) < 0) {
		perror("skiff-demo: socket setup");
		return 1;
	}
	{
		struct timeval tv = { 2, 0 };
		skiff_setsockopt(fc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	printf("  %8s  %10s  %12s  %s\n", "bytes", "frames", "rtt (us)", "result");
	for (int r = 0; r < rounds; r++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t n = sizes[k];
			uint64_t t0, t1, f0 = sa->ctr.rx_frames;
			ssize_t got = -1;
			struct pollfd pfd[2] = { { fs, POLLIN, 0 }, { fc, POLLIN, 0 } };
			fill(out, n, (unsigned)(k + r));
			t0 = now_ns();
			if (skiff_send(fc, out, n, 0) != (ssize_t)n) {
				perror("skiff-demo: send");
				failures++;
				continue;
			}
			/* one thread serves both ends: poll, echo, until the client has its answer */
			for (int spins = 0; spins < 10000 && got < 0; spins++) {
				if (skiff_poll(pfd, 2, 2000) <= 0)
					break;
				if (pfd[0].revents & POLLIN) {
					struct sockaddr_in from;
					socklen_t fl = sizeof(from);
					ssize_t m = skiff_recvfrom(fs, echo, sizeof(echo), 0, (struct sockaddr *)&from, &fl);
					if (m >= 0)
						skiff_sendto(fs, echo, (size_t)m, 0, (struct sockaddr *)&from, fl);
				}
				if (pfd[1].revents & POLLIN)
					got = skiff_recv(fc, in, sizeof(in), MSG_DONTWAIT);
			}
			t1 = now_ns();
			if (got == (ssize_t)n && memcmp(in, out, n) == 0) {
				if (r == rounds - 1)
					printf("  %8zu  %10llu  %12.1f  ok\n", n, (unsigned long long)(sa->ctr.rx_frames - f0),
					       (double)(t1 - t0) / 1000.0);
			} else {
				printf("  %8zu  %10s  %12s  FAILED (got %zd)\n", n, "-", "-", got);
				failures++;
			}
		}
	}
	printf("\ncounters after %d rounds:\n", rounds);
	print_counters("server", sa);
	print_counters("client", sb);
	skiff_close(fs);
	skiff_close(fc);
	skiff_rt_destroy(rt);
	skiff_stack_destroy(sa);
	skiff_stack_destroy(sb);
	skiff_dev_close(pa);
	skiff_dev_close(b);
	printf("\n%s: %d failure(s). Read the capture with: tshark -r %s\n", failures ? "FAILED" : "OK", failures,
	       pcap_path);
	return failures ? 1 : 0;
}
