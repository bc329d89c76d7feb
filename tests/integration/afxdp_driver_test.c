/* afxdp_driver_test.c — the afxdp driver against the Linux kernel, at driver
 * level (no protocol stack). Driven by afxdp_driver_test.sh, which builds the
 * namespaces and veth pair and plays the kernel peer; this program is the
 * skiff side. Modes:
 *
 *   run  --if IF --ip A --peer-ip B --peer-mac M --port P --peer-port Q
 *        --dir D [--expect N] [--tx N] [--queues N] [--copy] [--skb] [--timeout S]
 *        open the device, register A with the steering program, touch D/ready,
 *        then until D/stop appears (or the timeout):
 *          rx: UDP to A:P whose payload is the test pattern → rx_ok (bytes,
 *              IPv4 header checksum and UDP checksum checked: a checksum that
 *              only holds the pseudo-header sum is counted as csum_partial);
 *              ARP requests for A → arp_req, answered with an ARP reply;
 *              with --ip6 X, X is registered too: neighbour solicitations
 *              for X → nd_ns (not answered), other IPv6 to X → ip6_other;
 *          tx: every 100 ms, up to N crafted Ethernet/IPv4/UDP frames A:P → B:Q.
 *        Prints "key: value" lines (mode, counters) and exits 0 when rx_ok >= expect.
 *   blast --if IF --ip A --peer-ip B --peer-mac M --tx N [--timeout S]
 *        transmit N frames A → B:Q in bursts of 64 as fast as the rings take
 *        them, wait for every completion, and check that every UMEM frame came
 *        back (frames_free before == after). Exit 0 when all N completed.
 *   hold --if IF --ip A --dir D [--timeout S] [--fork]
 *        open, touch D/ready, wait for D/stop, SIGINT or SIGTERM (the handler
 *        only sets a flag), close. Killed with SIGKILL it leaves a stale program.
 *        --fork: a forked child keeps the device (writes D/child.pid, waits for
 *        D/stop, exits without close) while the parent exits at once without
 *        close, as a server whose workers outlive it would.
 *   stall --if IF --ip A --peer-ip B --peer-mac M --tx N --down-cmd C --up-cmd C [--timeout S]
 *        run C_down (the peer's link down), transmit N frames (the kick is
 *        refused: they stay on the tx ring), then behave like the runtime's idle
 *        loop — sleep on the wakeup fd until next_event, then rx_burst — for
 *        300 ms (wake-ups counted: the retry must back off), run C_up and go on
 *        until every frame completed. Exit 0 when next_event was due while
 *        frames were stranded, the wake-ups stayed bounded and all N completed.
 *   dfree --if IF
 *        frame misuse: a double free and a frame sent after its free are counted
 *        in frame_state_errors and refused (no frame on the free stack twice,
 *        nothing queued). With asserts on (no NDEBUG) each runs in a forked
 *        child that must abort with the error counted first.
 *   count --if IF
 *        print "skiff_programs: N", the skiff programs attached (nothing opened).
 *   prints --if IF
 *        4 threads query IF's programs 500 times each (each query swaps
 *        libbpf's and libxdp's print callbacks for quiet ones and back): the
 *        callbacks this program set before must be in place afterwards.
 *   open --if IF [--queue Q] [--queues N] [--zerocopy] [--busy-poll] [--skb]
 *        report skiff programs attached before, open (stale ones are replaced),
 *        report again, close, report again. A failing open prints
 *        "error: <one line>" and exits 1.
 *
 * All loops are bounded by count and by --timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"
#include "drivers/afxdp.h"
#include "drivers/xdp_steer.h"

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#define BURST 64
#define TX_INTERVAL_NS 100000000ull

struct args {
	const char *mode;
	const char *ifname;
	const char *dir;
	uint32_t ip, peer_ip;
	uint8_t ip6[16];
	bool have_ip6;
	uint8_t peer_mac[6];
	bool have_peer_mac;
	uint16_t port, peer_port;
	unsigned expect, tx, queue, queues, timeout_s;
	bool copy, skb, zerocopy, busy_poll, fork;
	const char *down_cmd, *up_cmd;
};

struct results {
	unsigned rx_ok, rx_bad_payload, csum_partial, csum_bad, ip_csum_bad;
	unsigned arp_req, arp_reply_sent, tx_sent, tx_refused, other;
	unsigned nd_ns, ip6_other;
	unsigned max_len;
};

/* Set by SIGINT/SIGTERM; the main loop closes the device. The one global, for
 * the signal handler. */
static volatile sig_atomic_t g_stop;

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

static bool file_exists(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* The payload the Python peer sends: 4-byte sequence number, then (seq*31 + i) & 0xff. */
static bool payload_ok(const uint8_t *p, uint32_t len)
{
	uint32_t seq;
	if (len < 4)
		return false;
	seq = ld32(p);
	for (uint32_t i = 4; i < len; i++)
		if (p[i] != (uint8_t)(seq * 31u + i))
			return false;
	return true;
}

/* ---- receive ------------------------------------------------------------------ */

static void rx_udp(const struct args *a, struct results *r, const uint8_t *ip, uint32_t avail)
{
	struct ip4_repr h;
	struct udp_repr u;
	struct view v;
	uint32_t l4_len;
	uint16_t c;

	if (ip4_parse(ip, avail, &h) || h.version != 4 || h.ihl < IP4_HDR_LEN || h.total_len > avail ||
	    h.total_len < h.ihl + UDP_HDR_LEN || h.proto != IPPROTO_UDP_ || h.dst != a->ip) {
		r->other++;
		return;
	}
	if (csum_buf(ip, h.ihl) != 0)
		r->ip_csum_bad++;
	l4_len = h.total_len - h.ihl;
	v = view_make(ip + h.ihl, l4_len);
	if (udp_parse(&v, &u) || u.dport != a->port || u.len != l4_len) {
		r->other++;
		return;
	}
	if (u.csum != 0) {
		uint32_t pseudo = csum_pseudo4(h.src, h.dst, IPPROTO_UDP_, l4_len);
		c = csum_fold(csum_partial(ip + h.ihl, l4_len, pseudo));
		if (c != 0) {
			/* CHECKSUM_PARTIAL from the sender: the field holds the folded,
			 * uncomplemented pseudo-header sum and the data is not summed */
			uint16_t partial = (uint16_t)(csum_fold(pseudo) ^ 0xffffu);
			if (u.csum == partial)
				r->csum_partial++;
			else
				r->csum_bad++;
		}
	}
	if (!payload_ok(v.p, (uint32_t)v.len)) {
		r->rx_bad_payload++;
		return;
	}
	r->rx_ok++;
	if (v.len > r->max_len)
		r->max_len = (unsigned)v.len;
}

static void tx_arp_reply(struct skiff_dev *dev, const struct args *a, struct results *r, const struct arp_repr *req)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(dev));
	struct eth_repr e = { .type = ETH_TYPE_ARP, .hdr_len = ETH_HDR_LEN };
	struct arp_repr rep = { .op = ARP_OP_REPLY, .spa = a->ip, .tpa = req->spa };
	uint8_t *f;

	if (!p)
		return;
	f = skiff_pkt_put(p, ETH_HDR_LEN + ARP_LEN);
	memcpy(e.dst, req->sha, 6);
	memcpy(e.src, dev->mac, 6);
	eth_emit(f, &e);
	memcpy(rep.sha, dev->mac, 6);
	memcpy(rep.tha, req->sha, 6);
	arp_emit(f + ETH_HDR_LEN, &rep);
	if (skiff_dev_tx(dev, &p, 1, now_ns()) == 1)
		r->arp_reply_sent++;
	else
		skiff_pkt_free(p);
}

#define ETH_TYPE_IP6_ 0x86dd
#define IP6_HDR_LEN 40
#define ICMP6_NS 135

static void rx_ip6(const struct args *a, struct results *r, const uint8_t *ip6, size_t avail)
{
	/* RFC 4861 4.3: ICMPv6 (58) type 135, target at offset 8 of the message */
	if (!a->have_ip6 || avail < IP6_HDR_LEN)
		goto other;
	if (ip6[6] == 58 && avail >= IP6_HDR_LEN + 24 && ip6[IP6_HDR_LEN] == ICMP6_NS &&
	    memcmp(ip6 + IP6_HDR_LEN + 8, a->ip6, 16) == 0) {
		r->nd_ns++;
		return;
	}
	if (memcmp(ip6 + 24, a->ip6, 16) == 0) {
		r->ip6_other++;
		return;
	}
other:
	r->other++;
}

static void rx_frame(struct skiff_dev *dev, const struct args *a, struct results *r, struct skiff_pkt *p)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	struct eth_repr e;
	struct arp_repr arp;

	if (eth_parse(&v, &e)) {
		r->other++;
		return;
	}
	if (e.type == ETH_TYPE_IP4) {
		rx_udp(a, r, v.p, (uint32_t)v.len);
	} else if (e.type == ETH_TYPE_IP6_) {
		rx_ip6(a, r, v.p, v.len);
	} else if (e.type == ETH_TYPE_ARP && arp_parse(&v, &arp) == 0 && arp.tpa == a->ip) {
		if (arp.op == ARP_OP_REQUEST) {
			r->arp_req++;
			tx_arp_reply(dev, a, r, &arp);
		}
	} else {
		r->other++;
	}
}

/* ---- transmit ---------------------------------------------------------------- */

/* Ethernet/IPv4/UDP frame A:port → B:peer_port with full checksums, built in a
 * frame of the device's own pool (as the stack would). NULL when the pool is empty. */
static struct skiff_pkt *build_udp(struct skiff_dev *dev, const struct args *a, unsigned seq)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(dev));
	uint32_t plen = 64 + seq * 113 % 1200, l4_len = UDP_HDR_LEN + plen;
	struct eth_repr e = { .type = ETH_TYPE_IP4, .hdr_len = ETH_HDR_LEN };
	struct ip4_repr ip = { .total_len = (uint16_t)(IP4_HDR_LEN + l4_len), .id = (uint16_t)(0x5100 + seq),
			       .frag = IP4_FLAG_DF, .ttl = 64, .proto = IPPROTO_UDP_, .src = a->ip, .dst = a->peer_ip };
	struct udp_repr u = { .sport = a->port, .dport = a->peer_port, .len = (uint16_t)l4_len };
	uint8_t *f, *l4;
	uint16_t c;

	if (!p)
		return NULL;
	f = skiff_pkt_put(p, ETH_HDR_LEN + IP4_HDR_LEN + l4_len);
	memcpy(e.dst, a->peer_mac, 6);
	memcpy(e.src, dev->mac, 6);
	eth_emit(f, &e);
	ip4_emit(f + ETH_HDR_LEN, &ip);
	l4 = f + ETH_HDR_LEN + IP4_HDR_LEN;
	udp_emit(l4, &u);
	st32(l4 + UDP_HDR_LEN, seq);
	for (uint32_t i = 4; i < plen; i++)
		l4[UDP_HDR_LEN + i] = (uint8_t)(seq * 31u + i);
	c = csum_fold(csum_partial(l4, l4_len, csum_pseudo4(ip.src, ip.dst, IPPROTO_UDP_, l4_len)));
	st16(l4 + 6, c ? c : 0xffff);
	return p;
}

static void tx_udp(struct skiff_dev *dev, const struct args *a, struct results *r, unsigned seq)
{
	struct skiff_pkt *p = build_udp(dev, a, seq);
	if (p && skiff_dev_tx(dev, &p, 1, now_ns()) == 1) {
		r->tx_sent++;
		return;
	}
	skiff_pkt_free(p);
	r->tx_refused++;
}

/* ---- modes ------------------------------------------------------------------ */

static int dev_open(const struct args *a, struct skiff_dev **dev)
{
	struct skiff_afxdp_config c;
	char err[256];
	int rc;

	memset(&c, 0, sizeof(c));
	c.ifname = a->ifname;
	c.queue_first = a->queue;
	c.nqueues = a->queues;
	c.force_copy = a->copy;
	c.skb_mode = a->skb;
	c.force_zerocopy = a->zerocopy;
	c.busy_poll = a->busy_poll;
	rc = skiff_afxdp_open(&c, dev, err, sizeof(err));
	if (rc < 0) {
		printf("error: %s\n", err);
		fprintf(stderr, "afxdp_driver_test: %s (%s)\n", err, strerror(-rc));
		return rc;
	}
	printf("mode: %s, %s XDP, busy-poll %s\n", skiff_afxdp_mode(*dev), skiff_afxdp_xdp_mode(*dev),
	       skiff_afxdp_busy_poll(*dev) ? "on" : "off");
	printf("dev: %s mtu %u mac %02x:%02x:%02x:%02x:%02x:%02x\n", (*dev)->name, (*dev)->mtu, (*dev)->mac[0],
	       (*dev)->mac[1], (*dev)->mac[2], (*dev)->mac[3], (*dev)->mac[4], (*dev)->mac[5]);
	fflush(stdout);
	return 0;
}

static void print_counters(struct skiff_dev *dev)
{
	struct skiff_steer_counters sc;
	struct skiff_afxdp_stats st;

	if (skiff_xdp_steer_counters(skiff_afxdp_steer(dev), &sc) == 0) {
		printf("steer:");
		for (unsigned i = 0; i < SKIFF_STEER_NCOUNTERS; i++)
			printf(" %s=%llu", skiff_xdp_steer_counter_name(i), (unsigned long long)sc.packets[i]);
		printf("\n");
	}
	if (skiff_afxdp_stats(dev, &st) == 0)
		printf("driver: rx=%llu tx=%llu tx_completed=%llu tx_ring_full=%llu kicks=%llu kick_busy=%llu "
		       "k_rx_dropped=%llu k_fill_empty=%llu frames_free=%u/%u\n",
		       (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
		       (unsigned long long)st.tx_completed, (unsigned long long)st.tx_ring_full,
		       (unsigned long long)st.kicks, (unsigned long long)st.kick_busy,
		       (unsigned long long)st.k_rx_dropped, (unsigned long long)st.k_rx_fill_ring_empty_descs,
		       st.frames_free, st.frames_total);
	if (skiff_afxdp_stats(dev, &st) == 0) {
		printf("rx_by_queue:");
		for (unsigned i = 0; i < SKIFF_AFXDP_STATS_QUEUES; i++)
			if (st.rx_by_queue[i])
				printf(" q%u=%llu", i, (unsigned long long)st.rx_by_queue[i]);
		printf("\n");
	}
}

/* Wait for rx work (or a short tick). */
static void wait_rx(struct skiff_dev *dev, int ms)
{
	struct pollfd pfd = { .fd = skiff_dev_wakeup_fd(dev), .events = POLLIN };
	if (pfd.fd >= 0)
		(void)poll(&pfd, 1, ms);
}

static int mode_run(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	struct skiff_pkt *pkts[BURST];
	struct results r;
	uint64_t deadline, next_tx;
	int rc;

	memset(&r, 0, sizeof(r));
	if (dev_open(a, &dev) < 0)
		return 1;
	rc = skiff_xdp_steer_add_ip4(skiff_afxdp_steer(dev), a->ip);
	if (rc == 0 && a->have_ip6)
		rc = skiff_xdp_steer_add_ip6(skiff_afxdp_steer(dev), a->ip6);
	if (rc < 0) {
		printf("error: cannot register the address: %s\n", strerror(-rc));
		skiff_dev_close(dev);
		return 1;
	}
	touch(a->dir, "ready");
	deadline = now_ns() + (uint64_t)a->timeout_s * 1000000000ull;
	next_tx = now_ns();
	while (!g_stop && now_ns() < deadline && !file_exists(a->dir, "stop")) {
		unsigned n = skiff_dev_rx(dev, pkts, BURST, now_ns());
		for (unsigned i = 0; i < n; i++)
			rx_frame(dev, a, &r, pkts[i]);
		skiff_pkt_free_burst(pkts, n);
		if (r.tx_sent < a->tx && now_ns() >= next_tx) {
			tx_udp(dev, a, &r, r.tx_sent);
			next_tx = now_ns() + TX_INTERVAL_NS;
		}
		if (n == 0)
			wait_rx(dev, 10);
	}
	printf("rx_ok: %u\nrx_bad_payload: %u\nmax_payload: %u\ncsum_partial: %u\ncsum_bad: %u\nip_csum_bad: %u\n"
	       "arp_req: %u\narp_reply_sent: %u\nnd_ns: %u\nip6_other: %u\ntx_sent: %u\ntx_refused: %u\nother: %u\n",
	       r.rx_ok, r.rx_bad_payload, r.max_len, r.csum_partial, r.csum_bad, r.ip_csum_bad, r.arp_req,
	       r.arp_reply_sent, r.nd_ns, r.ip6_other, r.tx_sent, r.tx_refused, r.other);
	print_counters(dev);
	skiff_dev_close(dev);
	printf("closed: yes\n");
	return r.rx_ok >= a->expect && r.rx_bad_payload == 0 ? 0 : 1;
}

static int mode_blast(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	struct skiff_pkt *burst[BURST], *rx[BURST];
	struct skiff_afxdp_stats before, after;
	unsigned built = 0, sent = 0, held = 0, short_bursts = 0;
	uint64_t deadline, completed;

	if (dev_open(a, &dev) < 0)
		return 1;
	skiff_afxdp_stats(dev, &before);
	deadline = now_ns() + (uint64_t)a->timeout_s * 1000000000ull;
	while (sent < a->tx && now_ns() < deadline && !g_stop) {
		unsigned took, m;
		/* top the burst up; frames the driver did not take stay in it */
		while (held < BURST && built < a->tx) {
			struct skiff_pkt *p = build_udp(dev, a, built);
			if (!p)
				break;
			burst[held++] = p;
			built++;
		}
		took = skiff_dev_tx(dev, burst, held, now_ns());
		if (took < held)
			short_bursts++;
		memmove(burst, burst + took, (held - took) * sizeof(burst[0]));
		held -= took;
		sent += took;
		m = skiff_dev_rx(dev, rx, BURST, now_ns()); /* reaps completions */
		skiff_pkt_free_burst(rx, m);
	}
	skiff_pkt_free_burst(burst, held);
	/* wait for the completion ring to return every frame */
	deadline = now_ns() + 2000000000ull;
	do {
		unsigned m = skiff_dev_rx(dev, rx, BURST, now_ns());
		skiff_pkt_free_burst(rx, m);
		skiff_afxdp_stats(dev, &after);
		completed = after.tx_completed - before.tx_completed;
		if (completed >= sent)
			break;
		wait_rx(dev, 1);
	} while (now_ns() < deadline);
	printf("blast_sent: %u\nblast_completed: %llu\nshort_bursts: %u\nframes_free_before: %u\n"
	       "frames_free_after: %u\n",
	       sent, (unsigned long long)completed, short_bursts, before.frames_free, after.frames_free);
	print_counters(dev);
	skiff_dev_close(dev);
	return sent == a->tx && completed == sent && after.frames_free == before.frames_free ? 0 : 1;
}

static int mode_hold(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	struct skiff_pkt *pkts[BURST];
	uint64_t deadline;

	if (dev_open(a, &dev) < 0)
		return 1;
	if (a->ip)
		skiff_xdp_steer_add_ip4(skiff_afxdp_steer(dev), a->ip);
	printf("prog_id: %u\n", skiff_xdp_steer_prog_id(skiff_afxdp_steer(dev)));
	fflush(stdout);
	if (a->fork) {
		pid_t child = fork();
		if (child < 0) {
			perror("fork");
			return 1;
		}
		if (child > 0) {
			char path[512];
			FILE *f;
			snprintf(path, sizeof(path), "%s/child.pid", a->dir);
			f = fopen(path, "w");
			if (f) {
				fprintf(f, "%d\n", (int)child);
				fclose(f);
			}
			touch(a->dir, "ready");
			printf("parent: exiting without close, child %d keeps the device\n", (int)child);
			fflush(stdout);
			_exit(0);
		}
		/* the child: holds every fd the parent had; never closes the device */
		deadline = now_ns() + (uint64_t)a->timeout_s * 1000000000ull;
		while (!g_stop && now_ns() < deadline && !file_exists(a->dir, "stop")) {
			unsigned n = skiff_dev_rx(dev, pkts, BURST, now_ns());
			skiff_pkt_free_burst(pkts, n);
			if (n == 0)
				wait_rx(dev, 50);
		}
		_exit(0);
	}
	touch(a->dir, "ready");
	deadline = now_ns() + (uint64_t)a->timeout_s * 1000000000ull;
	while (!g_stop && now_ns() < deadline && !file_exists(a->dir, "stop")) {
		unsigned n = skiff_dev_rx(dev, pkts, BURST, now_ns());
		skiff_pkt_free_burst(pkts, n);
		if (n == 0)
			wait_rx(dev, 50);
	}
	printf("stopping: %s\n", g_stop ? "signal" : "stop file or timeout");
	skiff_dev_close(dev);
	printf("closed: yes\n");
	return 0;
}

static void run_cmd(const char *what, const char *cmd)
{
	int rc;
	fflush(stdout);
	rc = system(cmd);
	if (rc != 0)
		printf("note: %s command exited %d: %s\n", what, rc, cmd);
}

/* The runtime's idle loop: sleep on the wakeup fd until next_event (at least
 * 20 us, the runtime's floor; at most until `until`), then rx_burst. Returns
 * the number of wake-ups. */
static unsigned idle_loop(struct skiff_dev *dev, uint64_t until, uint64_t stop_completed, uint64_t completed0)
{
	struct skiff_pkt *pkts[BURST];
	struct skiff_afxdp_stats st;
	unsigned wakeups = 0;

	for (;;) {
		uint64_t now = now_ns(), ne = skiff_dev_next_event(dev), sleep_ns;
		struct pollfd pfd = { .fd = skiff_dev_wakeup_fd(dev), .events = POLLIN };
		struct timespec ts;
		unsigned n;

		skiff_afxdp_stats(dev, &st);
		if (now >= until || (stop_completed && st.tx_completed - completed0 >= stop_completed))
			break;
		sleep_ns = until - now;
		if (ne != UINT64_MAX)
			sleep_ns = ne > now + 20000 ? ne - now : 20000;
		if (sleep_ns > until - now)
			sleep_ns = until - now;
		ts.tv_sec = (time_t)(sleep_ns / 1000000000ull);
		ts.tv_nsec = (long)(sleep_ns % 1000000000ull);
		(void)ppoll(&pfd, 1, &ts, NULL);
		n = skiff_dev_rx(dev, pkts, BURST, now_ns());
		skiff_pkt_free_burst(pkts, n);
		wakeups++;
	}
	return wakeups;
}

static int mode_stall(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	struct skiff_pkt *pkts[512];
	struct skiff_afxdp_stats s0, s1, s2;
	unsigned want = a->tx < 512 ? a->tx : 512, built = 0, accepted = 0, wakeups_down, wakeups_up;
	uint64_t t_up, t_done;
	bool due;

	if (!a->down_cmd || !a->up_cmd || !want)
		return 2;
	if (dev_open(a, &dev) < 0)
		return 1;
	run_cmd("down", a->down_cmd);
	usleep(200000);
	skiff_afxdp_stats(dev, &s0);
	while (built < want) {
		struct skiff_pkt *p = build_udp(dev, a, built);
		if (!p)
			break;
		pkts[built++] = p;
	}
	accepted = skiff_dev_tx(dev, pkts, built, now_ns());
	skiff_pkt_free_burst(pkts + accepted, built - accepted);
	skiff_afxdp_stats(dev, &s1);
	due = skiff_dev_next_event(dev) != UINT64_MAX;
	printf("stall_accepted: %u\nstall_completed_while_down: %llu\nstall_kicks_refused: %llu\n", accepted,
	       (unsigned long long)(s1.tx_completed - s0.tx_completed), (unsigned long long)(s1.kick_busy - s0.kick_busy));
	printf("stall_next_event_due: %s\n", due ? "yes" : "no");
	/* 300 ms of a dead link: the retry must back off (20 us doubling to 1 ms) */
	wakeups_down = idle_loop(dev, now_ns() + 300000000ull, 0, 0);
	skiff_afxdp_stats(dev, &s2);
	printf("stall_wakeups_down_300ms: %u\nstall_kicks_down: %llu\n", wakeups_down,
	       (unsigned long long)(s2.kicks - s1.kicks));
	run_cmd("up", a->up_cmd);
	t_up = now_ns();
	wakeups_up = idle_loop(dev, t_up + (uint64_t)a->timeout_s * 1000000000ull, accepted, s0.tx_completed);
	t_done = now_ns();
	skiff_afxdp_stats(dev, &s2);
	printf("stall_completed: %llu\nstall_ms_after_up: %llu\nstall_wakeups_up: %u\nstall_next_event_after: %s\n",
	       (unsigned long long)(s2.tx_completed - s0.tx_completed), (unsigned long long)((t_done - t_up) / 1000000),
	       wakeups_up, skiff_dev_next_event(dev) == UINT64_MAX ? "none" : "due");
	print_counters(dev);
	skiff_dev_close(dev);
	return accepted == want && due && wakeups_down < 1000 && s2.tx_completed - s0.tx_completed == accepted ? 0 : 1;
}

/* ---- frame misuse ---------------------------------------------------------------- */

/* Misuses that touch no ring shared with the kernel (a forked child may run them). */
enum misuse { MISUSE_DOUBLE_FREE, MISUSE_TX_AFTER_FREE };

static const char *misuse_name(enum misuse m) { return m == MISUSE_DOUBLE_FREE ? "double free" : "sent after its free"; }

/* The misuse itself. Before it, *before holds the stats after the legitimate use. */
static void misuse_do(struct skiff_dev *dev, const struct args *a, enum misuse m, struct skiff_afxdp_stats *before)
{
	struct skiff_pkt *p = build_udp(dev, a, 0);
	if (!p)
		return;
	skiff_pkt_free(p);
	skiff_afxdp_stats(dev, before);
	if (m == MISUSE_DOUBLE_FREE)
		skiff_pkt_free(p);
	else
		skiff_dev_tx(dev, &p, 1, now_ns()); /* taken (counted), never queued */
}

#ifndef NDEBUG
/* In the child: the device and a pipe for the abort handler. */
static struct skiff_dev *g_child_dev;
static int g_child_pipe = -1;

static void on_abort(int sig)
{
	struct skiff_afxdp_stats st;
	char line[128];
	int n;
	(void)sig;
	skiff_afxdp_stats(g_child_dev, &st);
	n = snprintf(line, sizeof(line), "%llu %u %llu\n", (unsigned long long)st.frame_state_errors, st.frames_free,
		     (unsigned long long)st.tx_packets);
	if (write(g_child_pipe, line, (size_t)n) != n) {
		/* nothing to do: the parent sees no line */
	}
	_exit(3);
}
#endif

static int misuse_check(struct skiff_dev *dev, const struct args *a, enum misuse m)
{
	struct skiff_afxdp_stats before, after;
	unsigned long long errors, tx;
	unsigned free_after;
	bool ok;
#ifndef NDEBUG
	int fds[2], status = 0;
	char line[128] = "";
	ssize_t got;
	pid_t pid;

	if (pipe(fds) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa;
		close(fds[0]);
		g_child_dev = dev;
		g_child_pipe = fds[1];
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_abort;
		sigaction(SIGABRT, &sa, NULL);
		misuse_do(dev, a, m, &before);
		_exit(4); /* no assert fired */
	}
	close(fds[1]);
	got = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	line[got > 0 ? got : 0] = '\0';
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	skiff_afxdp_stats(dev, &before); /* the child's state at the misuse is a copy of ours */
	if (sscanf(line, "%llu %u %llu", &errors, &free_after, &tx) != 3) {
		printf("misuse %s: child exit status %d, no report: the assert did not fire\n", misuse_name(m),
		       WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
		return 1;
	}
	/* in the child, at the assert: the error counted, the frame not pushed a
	 * second time (frames_free as after the legitimate free), nothing queued */
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 3 && errors == 1 && free_after == before.frames_free &&
	     tx == before.tx_packets;
	printf("misuse %s: asserted in a child, frame_state_errors %llu, frames_free %u (%u before), tx_packets %llu\n",
	       misuse_name(m), errors, free_after, before.frames_free, tx);
	return ok ? 0 : 1;
#else
	misuse_do(dev, a, m, &before);
	skiff_afxdp_stats(dev, &after);
	errors = after.frame_state_errors - before.frame_state_errors;
	free_after = after.frames_free;
	tx = after.tx_packets - before.tx_packets;
	printf("misuse %s: frame_state_errors +%llu, frames_free %u -> %u, tx_packets +%llu\n", misuse_name(m), errors,
	       before.frames_free, free_after, tx);
	ok = errors == 1 && tx == 0 && free_after == before.frames_free;
	return ok ? 0 : 1;
#endif
}

/* ---- print callbacks under threads ------------------------------------------------ */

static int my_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int my_libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void *prints_thread(void *arg)
{
	int ifindex = *(const int *)arg;
	for (int i = 0; i < 500; i++)
		(void)skiff_xdp_steer_attached(ifindex);
	return NULL;
}

static int mode_prints(const struct args *a)
{
	int ifindex = (int)if_nametoindex(a->ifname);
	pthread_t t[4];
	libbpf_print_fn_t b;
	libxdp_print_fn_t x;
	bool ok;

	libbpf_set_print(my_libbpf_print);
	libxdp_set_print(my_libxdp_print);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, prints_thread, &ifindex);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	b = libbpf_set_print(NULL);
	x = libxdp_set_print(NULL);
	ok = b == my_libbpf_print && x == my_libxdp_print;
	printf("prints: libbpf callback %s, libxdp callback %s\n", b == my_libbpf_print ? "restored" : "LOST",
	       x == my_libxdp_print ? "restored" : "LOST");
	return ok ? 0 : 1;
}

static int cmp_uptr(const void *x, const void *y)
{
	uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
	return a < b ? -1 : a > b;
}

static int mode_dfree(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	struct skiff_pkt **all;
	struct skiff_afxdp_stats st;
	unsigned n, dup = 0;
	int fails = 0;

	if (dev_open(a, &dev) < 0)
		return 1;
	fails += misuse_check(dev, a, MISUSE_DOUBLE_FREE);
	fails += misuse_check(dev, a, MISUSE_TX_AFTER_FREE);
	/* every frame at most once on the free stack: allocate them all, no repeats */
	skiff_afxdp_stats(dev, &st);
	all = calloc(st.frames_total, sizeof(*all));
	n = all ? skiff_pool_alloc(skiff_dev_pool(dev), all, st.frames_total) : 0;
	{
		uintptr_t *sorted = calloc(n ? n : 1, sizeof(*sorted));
		for (unsigned i = 0; sorted && i < n; i++)
			sorted[i] = (uintptr_t)all[i];
		if (sorted)
			qsort(sorted, n, sizeof(*sorted), cmp_uptr);
		for (unsigned i = 1; sorted && i < n; i++)
			dup += sorted[i] == sorted[i - 1];
		free(sorted);
	}
	printf("misuse: allocated %u frames (frames_free was %u), %u repeated\n", n, st.frames_free, dup);
	fails += n != st.frames_free || dup != 0;
	skiff_pkt_free_burst(all, n);
	free(all);
	skiff_afxdp_stats(dev, &st);
	printf("misuse: frame_state_errors %llu\n", (unsigned long long)st.frame_state_errors);
	skiff_dev_close(dev);
	printf("misuse_result: %s\n", fails ? "FAIL" : "ok");
	return fails ? 1 : 0;
}

static int mode_open(const struct args *a)
{
	struct skiff_dev *dev = NULL;
	int ifindex = (int)if_nametoindex(a->ifname);

	if (ifindex)
		printf("skiff_programs_before: %d\n", skiff_xdp_steer_attached(ifindex));
	if (dev_open(a, &dev) < 0)
		return 1;
	printf("skiff_programs_open: %d\n", skiff_xdp_steer_attached(ifindex));
	skiff_dev_close(dev);
	printf("skiff_programs_after: %d\n", skiff_xdp_steer_attached(ifindex));
	return 0;
}

/* ---- arguments -------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*out = ntohl(in.s_addr);
	return 0;
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s run|blast|hold|stall|dfree|count|prints|open --if IF [--ip A --ip6 A6 --peer-ip B --peer-mac M\n"
			"       --port P --peer-port Q --dir D --expect N --tx N --queue Q --queues N --copy --zerocopy --skb\n"
			"       --busy-poll --timeout S --fork --down-cmd CMD --up-cmd CMD]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "if", required_argument, NULL, 'i' },      { "ip", required_argument, NULL, 'a' },
		{ "peer-ip", required_argument, NULL, 'b' }, { "peer-mac", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },    { "peer-port", required_argument, NULL, 'P' },
		{ "dir", required_argument, NULL, 'd' },     { "expect", required_argument, NULL, 'e' },
		{ "tx", required_argument, NULL, 't' },      { "queue", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'Q' },  { "copy", no_argument, NULL, 'c' },
		{ "skb", no_argument, NULL, 's' },           { "timeout", required_argument, NULL, 'T' },
		{ "ip6", required_argument, NULL, '6' },     { "zerocopy", no_argument, NULL, 'z' },
		{ "busy-poll", no_argument, NULL, 'B' },      { "fork", no_argument, NULL, 'F' },
		{ "down-cmd", required_argument, NULL, 'D' }, { "up-cmd", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .dir = ".", .port = 7000, .peer_port = 7001, .queues = 1, .timeout_s = 20 };
	struct sigaction sa;
	int c;

	if (argc < 2)
		return usage(argv[0]);
	a.mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': a.ifname = optarg; break;
		case 'a': if (parse_ip(optarg, &a.ip)) return usage(argv[0]); break;
		case 'b': if (parse_ip(optarg, &a.peer_ip)) return usage(argv[0]); break;
		case 'm': if (parse_mac(optarg, a.peer_mac)) return usage(argv[0]); a.have_peer_mac = true; break;
		case 'p': a.port = (uint16_t)atoi(optarg); break;
		case 'P': a.peer_port = (uint16_t)atoi(optarg); break;
		case 'd': a.dir = optarg; break;
		case 'e': a.expect = (unsigned)atoi(optarg); break;
		case 't': a.tx = (unsigned)atoi(optarg); break;
		case 'q': a.queue = (unsigned)atoi(optarg); break;
		case 'Q': a.queues = (unsigned)atoi(optarg); break;
		case 'c': a.copy = true; break;
		case 's': a.skb = true; break;
		case 'z': a.zerocopy = true; break;
		case 'B': a.busy_poll = true; break;
		case 'F': a.fork = true; break;
		case 'D': a.down_cmd = optarg; break;
		case 'U': a.up_cmd = optarg; break;
		case 'T': a.timeout_s = (unsigned)atoi(optarg); break;
		case '6':
			if (inet_pton(AF_INET6, optarg, a.ip6) != 1)
				return usage(argv[0]);
			a.have_ip6 = true;
			break;
		default: return usage(argv[0]);
		}
	}
	if (!a.ifname)
		return usage(argv[0]);
	if (a.tx && !a.have_peer_mac)
		return usage(argv[0]);
	if (a.timeout_s == 0 || a.timeout_s > 600)
		a.timeout_s = 20;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(a.mode, "run"))
		return mode_run(&a);
	if (!strcmp(a.mode, "blast"))
		return mode_blast(&a);
	if (!strcmp(a.mode, "hold"))
		return mode_hold(&a);
	if (!strcmp(a.mode, "open"))
		return mode_open(&a);
	if (!strcmp(a.mode, "count")) {
		printf("skiff_programs: %d\n", skiff_xdp_steer_attached((int)if_nametoindex(a.ifname)));
		return 0;
	}
	if (!strcmp(a.mode, "stall"))
		return mode_stall(&a);
	if (!strcmp(a.mode, "prints"))
		return mode_prints(&a);
	if (!strcmp(a.mode, "dfree"))
		return mode_dfree(&a);
	return usage(argv[0]);
}
