/* driver_test.c — the dpdk driver against the Linux kernel, no protocol stack.
 *
 * Run by driver_test.sh inside a network namespace, once per vdev. Flow (--mode
 * full):
 *   eal: init, same args again (no-op), other args (-EALREADY).
 *   open errors: unknown name and index (-ENODEV, message lists the ports),
 *     queue 1 (-ENOTSUP); then the real open, a second open (-EBUSY).
 *   pool: alloc/free a burst, descriptor fields as pkt.h promises.
 *   peer: run --peer-setup, read the kernel interface's MAC, add a static
 *     neighbour entry for skiff's address.
 *   rx: the kernel sends UDP datagrams (peer.py send); each must come out of
 *     rx_burst byte-exact (headers field by field, payload, checksums). With
 *     --probe-peer-csum first once more with the peer's tx checksum offload on,
 *     reporting (not failing on) partial checksums. Then once more through an
 *     rx callback that swaps every mbuf for one of a pool without skiff's
 *     private area: the driver must copy them (rx_copied), byte-exact.
 *   tx: frames crafted here go out through tx_burst; peer.py recv captures them
 *     off the kernel interface and must see each byte-exact, and the kernel's
 *     UDP socket must accept each payload (the checksum verified). Cases:
 *     software checksum; SKIFF_PKT_TX_L4_CSUM (offload, or the driver's software
 *     fill when the port has none) with garbage in the field; a checksum that
 *     computes to zero (must go out as 0xffff); a frame from a non-dpdk pool
 *     (copied); an oversize frame in the middle of a burst (dropped, counted);
 *     frames that must not go out in place, each copied (tx_copied) and
 *     byte-exact on the wire: an mbuf attached to an external buffer (its free
 *     callback must run once, the mbuf get its own buffer back), an mbuf with
 *     refcnt 2 (our reference survives), and with --cross-port NAME a frame of
 *     that second port's pool.
 *   close, reopen of the closed vdev (-ENODEV), eal_fini, init after fini.
 * --mode open: init + open + close only; a failure prints the driver's one-line
 * message on stderr and exits 2 (the script checks error paths with it). With
 * --hold, one frame stays allocated across close: eal_fini must refuse (-EBUSY)
 * while it is out, and succeed once it is freed.
 * Output: PASS/FAIL/INFO lines, then "RESULT pass=N fail=M". Exit 0 only if no
 * FAIL. Every wait is bounded in time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "drivers/dpdk.h"

#define RX_PORT 9000   /* skiff's UDP port for kernel → skiff */
#define RX_SPORT 9100  /* the kernel sender's source port */
#define TX_PORT 9001   /* the kernel's UDP port for skiff → kernel */
#define TX_SPORT 9101

static const unsigned rx_sizes[] = { 0, 1, 18, 64, 512, 1000, 1472 };
#define N_RX (sizeof(rx_sizes) / sizeof(rx_sizes[0]))

struct opts {
	const char *mode;
	const char *port;
	const char *local_ip, *peer_ip;
	const char *peer_if, *peer_exec, *peer_setup, *peer_py;
	const char *cross_port; /* a second port whose frames tx must copy */
	bool probe_peer_csum;
	bool hold;           /* --mode open: keep one frame across close */
	const char *const *eal;
	unsigned n_eal;
};

static unsigned n_pass, n_fail;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;
	printf("INFO ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t pattern(unsigned tag, unsigned j) { return (uint8_t)((tag * 31u) + j * 7u + 1u); }

static bool one_line(const char *s) { return s[0] != '\0' && strchr(s, '\n') == NULL; }

/* ---- the kernel side ---------------------------------------------------------- */

static int peer_run(const struct opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int peer_run(const struct opts *o, const char *fmt, ...)
{
	char cmd[1024], rest[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s", o->peer_exec, rest);
	return system(cmd);
}

static int peer_mac(const struct opts *o, uint8_t mac[6])
{
	char cmd[512], line[64];
	unsigned b[6];
	FILE *f;
	int ok = 0;
	snprintf(cmd, sizeof(cmd), "%s cat /sys/class/net/%s/address", o->peer_exec, o->peer_if);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f) &&
	    sscanf(line, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6) {
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)b[i];
		ok = 1;
	}
	pclose(f);
	return ok ? 0 : -EIO;
}

/* ---- frames ------------------------------------------------------------------- */

struct flow {
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip;  /* host order */
	uint16_t sport, dport;
};

/* Eth/IPv4/UDP with correct checksums; returns the frame length. */
static unsigned build_udp(uint8_t *f, const struct flow *fl, const uint8_t *payload, unsigned plen, uint16_t id)
{
	uint8_t *ip = f + 14, *udp = f + 34;
	uint16_t c;
	memcpy(f, fl->dst_mac, 6);
	memcpy(f + 6, fl->src_mac, 6);
	st16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	st16(ip + 2, (uint16_t)(20 + 8 + plen));
	st16(ip + 4, id);
	st16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	st16(ip + 10, 0);
	st32(ip + 12, fl->src_ip);
	st32(ip + 16, fl->dst_ip);
	st16(ip + 10, csum_buf(ip, 20));
	st16(udp, fl->sport);
	st16(udp + 2, fl->dport);
	st16(udp + 4, (uint16_t)(8 + plen));
	st16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	c = csum_fold(csum_partial(udp, 8 + plen, csum_pseudo4(fl->src_ip, fl->dst_ip, 17, 8 + plen)));
	st16(udp + 6, c ? c : 0xffff);
	return 42 + plen;
}

static bool udp_csum_ok(const uint8_t *ip, const uint8_t *udp, unsigned ulen)
{
	return csum_fold(csum_partial(udp, ulen, csum_pseudo4(ld32(ip + 12), ld32(ip + 16), 17, ulen))) == 0;
}

/* ---- rx: kernel → skiff ----------------------------------------------------------- */

struct rx_result {
	unsigned got, exact, bad_csum, flagged_good_but_bad, other;
	unsigned ip_good, l4_good;   /* frames the port flagged RX_*_CSUM_GOOD */
	int fd_idle, fd_sent, fd_end; /* wakeup fd readable: before, after the send, after rx (-1: no fd) */
	bool seen[N_RX];
};

/* Checks one received frame against datagram i; returns true when byte-exact. */
static bool rx_frame_exact(const struct opts *o, const struct skiff_dev *dev, const uint8_t *peer, const uint8_t *f,
			   unsigned len, unsigned i, bool *csum_ok)
{
	unsigned plen = rx_sizes[i], want = 42 + plen;
	const uint8_t *ip = f + 14, *udp = f + 34;
	bool ok = true;
	*csum_ok = false;
	if (len != want && !(want < 60 && len == 60))
		return false;
	ok = ok && memcmp(f, dev->mac, 6) == 0 && memcmp(f + 6, peer, 6) == 0;
	ok = ok && ip[0] == 0x45 && ld16(ip + 2) == 28 + plen && (ld16(ip + 6) & 0x3fff) == 0 && ip[9] == 17;
	ok = ok && ld32(ip + 12) == ntohl(inet_addr(o->peer_ip)) && ld32(ip + 16) == ntohl(inet_addr(o->local_ip));
	ok = ok && csum_buf(ip, 20) == 0;
	ok = ok && ld16(udp) == RX_SPORT && ld16(udp + 2) == RX_PORT && ld16(udp + 4) == 8 + plen;
	for (unsigned j = 0; ok && j < plen; j++)
		ok = udp[8 + j] == pattern(i, j);
	*csum_ok = ld16(udp + 6) != 0 && udp_csum_ok(ip, udp, 8 + plen);
	return ok;
}

static void rx_classify(const struct opts *o, struct skiff_dev *dev, const uint8_t *peer, struct skiff_pkt *p,
			struct rx_result *r)
{
	const uint8_t *f = skiff_pkt_data(p);
	unsigned plen;
	bool csum_ok;
	if (p->len < 42 || ld16(f + 12) != 0x0800 || f[23] != 17 || ld16(f + 36) != RX_PORT) {
		r->other++;
		return;
	}
	plen = ld16(f + 38) >= 8 ? ld16(f + 38) - 8u : 0u;
	for (unsigned i = 0; i < N_RX; i++) {
		if (rx_sizes[i] != plen || r->seen[i])
			continue;
		r->seen[i] = true;
		r->got++;
		r->ip_good += (p->flags & SKIFF_PKT_RX_IP_CSUM_GOOD) != 0;
		r->l4_good += (p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD) != 0;
		if (rx_frame_exact(o, dev, peer, f, p->len, i, &csum_ok))
			r->exact++;
		if (!csum_ok) {
			r->bad_csum++;
			if (p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD)
				r->flagged_good_but_bad++;
		}
		return;
	}
	r->other++;
}

static void rx_drain(struct skiff_dev *dev, uint64_t ms)
{
	struct skiff_pkt *pk[32];
	uint64_t end = now_ns() + ms * 1000000u;
	while (now_ns() < end) {
		unsigned n = skiff_dev_rx(dev, pk, 32, now_ns());
		skiff_pkt_free_burst(pk, n);
		if (!n)
			usleep(1000);
	}
}

/* 1 when fd is readable within ms, 0 when not, -1 without an fd. */
static int fd_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (fd < 0)
		return -1;
	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static void rx_round(const struct opts *o, struct skiff_dev *dev, const uint8_t *peer, struct rx_result *r)
{
	int fd = skiff_dev_wakeup_fd(dev);
	char sizes[128] = "";
	struct skiff_pkt *pk[32];
	uint64_t end;
	size_t used = 0;
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < N_RX; i++)
		used += (size_t)snprintf(sizes + used, sizeof(sizes) - used, "%s%u", i ? "," : "", rx_sizes[i]);
	rx_drain(dev, 100);
	r->fd_idle = fd_readable(fd, 0);
	if (peer_run(o, "/usr/bin/python3 %s send --dst %s --dst-port %d --src-port %d --sizes %s", o->peer_py,
		     o->local_ip, RX_PORT, RX_SPORT, sizes) != 0)
		info("peer.py send failed");
	r->fd_sent = fd_readable(fd, 2000);
	end = now_ns() + 3000000000u;
	while (r->got < N_RX && now_ns() < end) {
		unsigned n = skiff_dev_rx(dev, pk, 32, now_ns());
		for (unsigned k = 0; k < n; k++)
			rx_classify(o, dev, peer, pk[k], r);
		skiff_pkt_free_burst(pk, n);
		if (!n)
			usleep(200);
	}
	r->fd_end = fd_readable(fd, 0);
}

/* An rx callback that hands out mbufs of another pool (no skiff private area),
 * as some PMDs and applications' callbacks do: the bytes and rx flags move over. */
static uint16_t rx_swap_cb(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, uint16_t max,
			   void *user)
{
	struct rte_mempool *mp = user;
	(void)port;
	(void)queue;
	(void)max;
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *c = rte_pktmbuf_alloc(mp);
		char *d = c ? rte_pktmbuf_append(c, pkts[i]->data_len) : NULL;
		if (!d) {
			if (c)
				rte_pktmbuf_free(c);
			continue; /* this one stays as it is */
		}
		memcpy(d, rte_pktmbuf_mtod(pkts[i], const void *), pkts[i]->data_len);
		c->ol_flags = pkts[i]->ol_flags;
		rte_pktmbuf_free(pkts[i]);
		pkts[i] = c;
	}
	return nb;
}

static void rx_round_foreign(const struct opts *o, struct skiff_dev *dev, const uint8_t *peer)
{
	struct skiff_dpdk_stats before, after;
	const struct rte_eth_rxtx_callback *cb;
	struct rte_mempool *mp;
	struct rx_result r;
	uint16_t port;

	if (rte_eth_dev_get_port_by_name(o->port, &port) != 0) {
		check(false, "rx foreign: port id of %s", o->port);
		return;
	}
	mp = rte_pktmbuf_pool_create("drvtest_foreign", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cb = mp ? rte_eth_add_rx_callback(port, 0, rx_swap_cb, mp) : NULL;
	if (!cb) {
		check(false, "rx foreign: pool and rx callback (%s)", rte_strerror(rte_errno));
		rte_mempool_free(mp);
		return;
	}
	skiff_dpdk_stats(dev, &before);
	rx_round(o, dev, peer, &r);
	skiff_dpdk_stats(dev, &after);
	rte_eth_remove_rx_callback(port, 0, cb); /* the callback struct stays allocated: DPDK's rule */
	check(r.got == N_RX && r.exact == r.got,
	      "rx foreign: mbufs of a pool without skiff's private area: %u/%u received, %u byte-exact", r.got,
	      (unsigned)N_RX, r.exact);
	check(after.rx_copied - before.rx_copied >= r.got && after.rx_nombuf == before.rx_nombuf,
	      "rx foreign: each copied into one of the port's mbufs (rx_copied +%llu)",
	      (unsigned long long)(after.rx_copied - before.rx_copied));
	check(rte_mempool_avail_count(mp) == 511, "rx foreign: every foreign mbuf went back to its pool (%u/511)",
	      rte_mempool_avail_count(mp));
	rte_mempool_free(mp);
}

/* ---- tx: skiff → kernel ----------------------------------------------------------- */

#define MAX_TX 20

struct tx_case {
	const char *what;
	uint8_t frame[1600];
	unsigned len;
	uint8_t payload[1500];
	unsigned plen;
	bool offload;       /* hand it over with SKIFF_PKT_TX_L4_CSUM and garbage in the field */
	bool foreign;       /* from a non-dpdk pool */
	bool ext;           /* on an external buffer (mlx5 MPRQ style) */
	bool shared;        /* refcnt 2: someone else holds the mbuf too */
	bool cross;         /* from the --cross-port port's pool */
	bool oversize;      /* must be dropped */
	struct rte_mbuf *m; /* ext/shared: the mbuf, checked after tx */
	bool frame_seen, payload_seen;
};

static void tx_case_make(struct tx_case *c, const struct flow *fl, const char *what, unsigned tag, unsigned plen,
			 bool offload, bool zero_csum)
{
	memset(c, 0, sizeof(*c));
	c->what = what;
	c->plen = plen;
	c->offload = offload;
	for (unsigned j = 0; j < plen; j++)
		c->payload[j] = pattern(tag, j);
	if (zero_csum && plen >= 2 && plen % 2 == 0) {
		/* Last payload word = the checksum computed with that word zero:
		 * the sum then folds to 0xffff, a computed checksum of 0, which
		 * must go out as 0xffff (RFC 768). */
		c->payload[plen - 2] = c->payload[plen - 1] = 0;
		build_udp(c->frame, fl, c->payload, plen, (uint16_t)tag);
		memcpy(c->payload + plen - 2, c->frame + 34 + 6, 2);
	}
	c->len = build_udp(c->frame, fl, c->payload, plen, (uint16_t)tag);
}

/* External buffers: the free callback counts (must run exactly once per buffer). */
static unsigned ext_freed;
static void ext_free_cb(void *addr, void *opaque)
{
	(void)opaque;
	rte_free(addr);
	ext_freed++;
}

/* Put p's mbuf on an external buffer, as a PMD handing out MPRQ strides does;
 * the descriptor is pointed at it as rx would. */
static int ext_attach(struct skiff_pkt *p)
{
	struct rte_mbuf *m = (struct rte_mbuf *)(uintptr_t)p->cookie; /* the driver's cookie is the mbuf */
	struct rte_mbuf_ext_shared_info *sh;
	uint16_t len = 4096;
	void *buf = rte_malloc(NULL, len, 64);
	if (!buf)
		return -1;
	sh = rte_pktmbuf_ext_shinfo_init_helper(buf, &len, ext_free_cb, NULL);
	if (!sh) {
		rte_free(buf);
		return -1;
	}
	rte_pktmbuf_attach_extbuf(m, buf, rte_malloc_virt2iova(buf), len, sh);
	m->data_off = RTE_PKTMBUF_HEADROOM;
	p->head = m->buf_addr;
	p->cap = m->buf_len;
	p->off = m->data_off;
	p->len = 0;
	return 0;
}

static struct skiff_pkt *tx_case_pkt(struct tx_case *c, struct skiff_pool *pool)
{
	struct skiff_pkt *p = skiff_pool_get(pool);
	uint8_t *d;
	if (!p)
		return NULL;
	if (c->ext && ext_attach(p) != 0) {
		skiff_pkt_free(p);
		return NULL;
	}
	if (c->ext || c->shared)
		c->m = (struct rte_mbuf *)(uintptr_t)p->cookie;
	if (c->shared)
		rte_mbuf_refcnt_update(c->m, 1); /* our own reference, kept across tx */
	d = skiff_pkt_put(p, c->len);
	if (!d) {
		skiff_pkt_free(p);
		return NULL;
	}
	memcpy(d, c->frame, c->len);
	if (c->offload) {
		st16(d + 34 + 6, 0xbeef); /* "field content undefined" */
		p->flags |= SKIFF_PKT_TX_L4_CSUM;
	}
	return p;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static unsigned unhex(const char *s, uint8_t *out, unsigned cap)
{
	unsigned n = 0;
	while (n < cap && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
		out[n++] = (uint8_t)(hexval(s[0]) * 16 + hexval(s[1]));
		s += 2;
	}
	return n;
}

static void tx_match(struct tx_case *cs, unsigned nc, const char *line, unsigned *stray)
{
	static uint8_t buf[4096];
	static char dump[8400];
	bool frame = strncmp(line, "frame ", 6) == 0;
	unsigned n;
	if (!frame && strncmp(line, "payload ", 8) != 0)
		return;
	n = unhex(line + (frame ? 6 : 8), buf, sizeof(buf));
	for (unsigned i = 0; i < nc; i++) {
		struct tx_case *c = &cs[i];
		if (c->oversize)
			continue;
		if (frame && !c->frame_seen && n == c->len && memcmp(buf, c->frame, n) == 0) {
			c->frame_seen = true;
			return;
		}
		if (!frame && !c->payload_seen && n == c->plen && memcmp(buf, c->payload, n) == 0) {
			c->payload_seen = true;
			return;
		}
	}
	(*stray)++;
	snprintf(dump, sizeof(dump), "%s", line);
	info("tx: unmatched %s (%u bytes): %.200s", frame ? "frame" : "payload", n, dump);
}

static void tx_round(const struct opts *o, struct skiff_dev *dev, struct skiff_dev *dev2, const struct flow *fl,
		     bool offload_cap)
{
	static struct tx_case cs[MAX_TX];
	struct skiff_pkt *pk[MAX_TX];
	struct skiff_mempool *foreign = NULL;
	struct skiff_dpdk_stats before, after;
	char cmd[1024], line[8400];
	unsigned nc = 0, np = 0, sent = 0, expect = 0, stray = 0, want_copied = 0;
	const char *off = offload_cap ? "offload" : "sw-fill";
	uint64_t end;
	FILE *rx;

	tx_case_make(&cs[nc++], fl, "sw csum, 0 B", 1, 0, false, false);
	tx_case_make(&cs[nc++], fl, "sw csum, 1 B", 2, 1, false, false);
	tx_case_make(&cs[nc++], fl, "sw csum, 100 B", 3, 100, false, false);
	tx_case_make(&cs[nc++], fl, "sw csum, 1472 B", 4, 1472, false, false);
	tx_case_make(&cs[nc++], fl, "sw csum, computes to 0", 5, 64, false, true);
	tx_case_make(&cs[nc++], fl, "oversize (dropped)", 6, 1472, false, false);
	cs[nc - 1].oversize = true;
	tx_case_make(&cs[nc++], fl, "TX_L4_CSUM, 0 B", 7, 0, true, false);
	tx_case_make(&cs[nc++], fl, "TX_L4_CSUM, 1 B", 8, 1, true, false);
	tx_case_make(&cs[nc++], fl, "TX_L4_CSUM, 101 B", 9, 101, true, false);
	tx_case_make(&cs[nc++], fl, "TX_L4_CSUM, 1472 B", 10, 1472, true, false);
	tx_case_make(&cs[nc++], fl, "TX_L4_CSUM, computes to 0", 11, 64, true, true);
	tx_case_make(&cs[nc++], fl, "foreign pool, sw csum", 12, 200, false, false);
	cs[nc - 1].foreign = true;
	tx_case_make(&cs[nc++], fl, "foreign pool, TX_L4_CSUM", 13, 300, true, false);
	cs[nc - 1].foreign = true;
	tx_case_make(&cs[nc++], fl, "external buffer (copied)", 14, 700, false, false);
	cs[nc - 1].ext = true;
	tx_case_make(&cs[nc++], fl, "mbuf with refcnt 2 (copied), TX_L4_CSUM", 15, 333, true, false);
	cs[nc - 1].shared = true;
	if (dev2) {
		tx_case_make(&cs[nc++], fl, "another port's pool (copied)", 16, 444, false, false);
		cs[nc - 1].cross = true;
	}
	for (unsigned i = 0; i < nc; i++) {
		expect += !cs[i].oversize;
		want_copied += cs[i].foreign || cs[i].ext || cs[i].shared || cs[i].cross;
	}
	ext_freed = 0;

	if (skiff_mempool_create(8, 2048 + SKIFF_HEADROOM, &foreign) != 0) {
		check(false, "tx: foreign mempool");
		return;
	}
	for (unsigned i = 0; i < nc; i++) {
		struct skiff_pool *pool = cs[i].foreign ? skiff_mempool_pool(foreign)
					  : cs[i].cross ? skiff_dev_pool(dev2) : skiff_dev_pool(dev);
		if (cs[i].oversize) {
			/* Grow to more than mtu + 18: the driver must drop it. */
			struct skiff_pkt *p = tx_case_pkt(&cs[i], pool);
			if (p && !skiff_pkt_put(p, dev->mtu + 18u + 1u - p->len)) {
				skiff_pkt_free(p);
				p = NULL;
			}
			pk[np] = p;
		} else {
			pk[np] = tx_case_pkt(&cs[i], pool);
		}
		if (!pk[np]) {
			check(false, "tx: build '%s'", cs[i].what);
			skiff_pkt_free_burst(pk, np);
			skiff_mempool_destroy(foreign);
			return;
		}
		np++;
	}

	snprintf(cmd, sizeof(cmd), "%s /usr/bin/python3 %s recv --iface %s --port %d --count %u --timeout 5",
		 o->peer_exec, o->peer_py, o->peer_if, TX_PORT, expect);
	rx = popen(cmd, "r");
	if (!rx || !fgets(line, sizeof(line), rx) || strncmp(line, "ready", 5) != 0) {
		check(false, "tx: peer.py recv did not start");
		if (rx)
			pclose(rx);
		skiff_pkt_free_burst(pk, np);
		skiff_mempool_destroy(foreign);
		return;
	}
	skiff_dpdk_stats(dev, &before);
	end = now_ns() + 2000000000u;
	while (sent < np && now_ns() < end) {
		unsigned k = skiff_dev_tx(dev, pk + sent, np - sent, now_ns());
		sent += k;
		if (!k)
			usleep(1000);
	}
	skiff_dpdk_stats(dev, &after);
	check(sent == np, "tx: tx_burst took %u/%u frames", sent, np);
	skiff_pkt_free_burst(pk + sent, np - sent);
	check(after.tx_invalid - before.tx_invalid == 1, "tx: oversize frame dropped and counted (tx_invalid +%llu)",
	      (unsigned long long)(after.tx_invalid - before.tx_invalid));
	check(after.tx_copied - before.tx_copied == want_copied,
	      "tx: frames not sendable in place copied (tx_copied +%llu, want %u: foreign pool, external buffer, "
	      "refcnt 2%s)", (unsigned long long)(after.tx_copied - before.tx_copied), want_copied,
	      dev2 ? ", another port's pool" : "");
	for (unsigned i = 0; i < nc; i++) {
		struct rte_mbuf *m = cs[i].m;
		if (cs[i].ext)
			/* freed after the copy went out: the buffer released through its
			 * callback, the mbuf back on its own buffer in the pool */
			check(ext_freed == 1 && m->buf_addr == (char *)m + sizeof(*m) + rte_pktmbuf_priv_size(m->pool) &&
				      !RTE_MBUF_HAS_EXTBUF(m),
			      "tx: external buffer released once by its callback (%u), the mbuf on its own buffer again",
			      ext_freed);
		if (cs[i].shared) {
			/* untouched: the checksum field still holds what we put there */
			const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
			check(rte_mbuf_refcnt_read(m) == 1 && memcmp(b, cs[i].frame, 40) == 0 && ld16(b + 40) == 0xbeef &&
				      memcmp(b + 42, cs[i].frame + 42, cs[i].len - 42) == 0,
			      "tx: refcnt-2 mbuf: our reference left (refcnt %u), its bytes untouched",
			      rte_mbuf_refcnt_read(m));
			rte_pktmbuf_free(m);
		}
	}
	check(skiff_mempool_avail(foreign) == skiff_mempool_count(foreign),
	      "tx: foreign frames returned to their pool (%u/%u)", skiff_mempool_avail(foreign),
	      skiff_mempool_count(foreign));
	info("tx: L4 checksums hw %llu, sw %llu (mode %s)", (unsigned long long)(after.tx_hw_csum - before.tx_hw_csum),
	     (unsigned long long)(after.tx_sw_csum - before.tx_sw_csum), off);

	while (fgets(line, sizeof(line), rx)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "done", 4) == 0) {
			info("tx: peer %s", line);
			break;
		}
		tx_match(cs, nc, line, &stray);
	}
	pclose(rx);
	for (unsigned i = 0; i < nc; i++) {
		if (cs[i].oversize)
			continue;
		check(cs[i].frame_seen && cs[i].payload_seen, "tx %s: %s: frame on the wire %s, kernel UDP socket %s",
		      cs[i].offload ? off : "plain", cs[i].what, cs[i].frame_seen ? "byte-exact" : "MISSING/DIFFERENT",
		      cs[i].payload_seen ? "accepted it" : "did NOT accept it");
	}
	check(stray == 0, "tx: no unexpected frames or payloads at the peer (%u)", stray);
	skiff_mempool_destroy(foreign);
}

/* ---- main --------------------------------------------------------------------- */

static void banner(struct skiff_dev *dev)
{
	const uint8_t *m = dev->mac;
	info("port %s driver=%s mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u caps=%s%s%s link=%s", dev->name,
	     skiff_dpdk_driver_name(dev), m[0], m[1], m[2], m[3], m[4], m[5], dev->mtu,
	     dev->caps & SKIFF_DEV_CAP_RX_IP_CSUM ? "rx_ip_csum," : "",
	     dev->caps & SKIFF_DEV_CAP_RX_L4_CSUM ? "rx_l4_csum," : "",
	     dev->caps & SKIFF_DEV_CAP_TX_L4_CSUM ? "tx_l4_csum" : "", skiff_dpdk_link_up(dev) == 1 ? "up" : "down");
}

static void test_eal(const struct opts *o)
{
	const char *other[64];
	char err[256] = "";
	int rc;
	unsigned n = o->n_eal < 63 ? o->n_eal : 63;

	rc = skiff_dpdk_eal_init(o->eal, o->n_eal, err, sizeof(err));
	check(rc == 0, "eal: init (%s)", rc ? err : "ok");
	if (rc) {
		printf("RESULT pass=%u fail=%u\n", n_pass, n_fail);
		exit(1);
	}
	rc = skiff_dpdk_eal_init(o->eal, o->n_eal, err, sizeof(err));
	check(rc == 0, "eal: same args again is a no-op (%d)", rc);
	memcpy(other, o->eal, n * sizeof(*other));
	other[n] = "--no-telemetry";
	err[0] = '\0';
	rc = skiff_dpdk_eal_init(other, n + 1, err, sizeof(err));
	check(rc == -EALREADY && one_line(err), "eal: other args -> -EALREADY (%d): %s", rc, err);
}

static void test_open_errors(const struct opts *o)
{
	struct skiff_dpdk_config cfg = { .eal_args = o->eal, .n_eal_args = o->n_eal, .port = "nope9" };
	struct skiff_dev *dev = NULL;
	char err[256] = "", want[128];
	int rc;

	rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	snprintf(want, sizeof(want), "dpdk: no port 'nope9' (ports: ");
	check(rc == -ENODEV && one_line(err) && strncmp(err, want, strlen(want)) == 0 && strstr(err, o->port),
	      "open: unknown name -> -ENODEV (%d): %s", rc, err);
	cfg.port = "77";
	rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	check(rc == -ENODEV && one_line(err), "open: unknown index -> -ENODEV (%d): %s", rc, err);
	cfg.port = o->port;
	cfg.queue = 1;
	rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	check(rc == -ENOTSUP && one_line(err), "open: queue 1 -> -ENOTSUP (%d): %s", rc, err);
}

static void test_pool(struct skiff_dev *dev)
{
	struct skiff_pkt *pk[100];
	struct skiff_pool *pool = skiff_dev_pool(dev);
	unsigned n = skiff_pool_alloc(pool, pk, 100);
	bool ok = n == 100;
	for (unsigned i = 0; ok && i < n; i++) {
		struct skiff_pkt *p = pk[i];
		ok = p->off == SKIFF_HEADROOM && p->len == 0 && p->flags == 0 && p->pool == pool && !p->next &&
		     !p->chain && skiff_pkt_tailroom(p) >= 2048 && p->head != NULL && p->cookie != 0;
	}
	check(ok, "pool: alloc 100 frames (got %u), off=%u len=0 tailroom>=2048", n, n ? pk[0]->off : 0);
	skiff_pkt_free_burst(pk, n);
	n = skiff_pool_alloc(pool, pk, 100);
	check(n == 100, "pool: frames came back after free (%u)", n);
	skiff_pkt_free_burst(pk, n);
}

static int run_open_only(const struct opts *o)
{
	struct skiff_dpdk_config cfg = { .eal_args = o->eal, .n_eal_args = o->n_eal, .port = o->port };
	struct skiff_dev *dev = NULL;
	char err[256] = "";
	int rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	banner(dev);
	if (o->hold) {
		/* The pool must outlive the device while a frame of it is out. */
		struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(dev));
		if (!p)
			return fprintf(stderr, "hold: no frame\n"), 1;
		memset(skiff_pkt_put(p, 64), 0xab, 64);
		skiff_dev_close(dev);
		rc = skiff_dpdk_eal_fini();
		printf("INFO closed with a frame held; eal_fini meanwhile: %d%s\n", rc,
		       rc == -EBUSY ? " (EBUSY: refused)" : " (WRONG: the frame would point into freed memory)");
		if (rc != -EBUSY)
			return 1;
		printf("INFO freeing it now\n");
		skiff_pkt_free(p);
		printf("INFO held frame freed after close\n");
		rc = skiff_dpdk_eal_fini();
		printf("INFO eal_fini once it is back: %d\n", rc);
		return rc == 0 ? 0 : 1;
	}
	skiff_dev_close(dev);
	return 0;
}

static int run_full(const struct opts *o)
{
	struct skiff_dpdk_config cfg = { .eal_args = o->eal, .n_eal_args = o->n_eal, .port = o->port };
	struct skiff_dev *dev = NULL, *dev2 = NULL, *cross = NULL;
	struct skiff_dpdk_stats st;
	struct rx_result r;
	struct flow fl;
	uint8_t pmac[6];
	char err[256] = "";
	uint64_t end;
	int rc;

	test_eal(o);
	test_open_errors(o);
	rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	check(rc == 0, "open %s (%s)", o->port, rc ? err : "ok");
	if (rc)
		goto out;
	rc = skiff_dpdk_open(&cfg, &dev2, err, sizeof(err));
	check(rc == -EBUSY && one_line(err), "open: same port twice -> -EBUSY (%d): %s", rc, err);
	/* net_tap has an rx wakeup fd (its queue fd); every other PMD -1. */
	check((strcmp(skiff_dpdk_driver_name(dev), "net_tap") == 0) == (skiff_dev_wakeup_fd(dev) >= 0) &&
		      skiff_dev_next_event(dev) == UINT64_MAX && skiff_dev_lock_domain(dev) == NULL,
	      "ops: wakeup_fd %d, next_event none, lock_domain none", skiff_dev_wakeup_fd(dev));
	cfg.port = "0";
	rc = skiff_dpdk_open(&cfg, &dev2, err, sizeof(err));
	check(rc == -EBUSY, "open: by index '0' finds the same port (-EBUSY, %d)", rc);
	cfg.port = o->port;
	test_pool(dev);
	if (o->cross_port) {
		cfg.port = o->cross_port;
		rc = skiff_dpdk_open(&cfg, &cross, err, sizeof(err));
		check(rc == 0, "open the second port %s (%s)", o->cross_port, rc ? err : "ok");
		cfg.port = o->port;
	}

	if (o->peer_setup && *o->peer_setup && peer_run(o, "sh -c '%s'", o->peer_setup) != 0)
		info("peer setup command failed: %s", o->peer_setup);
	rc = peer_mac(o, pmac);
	check(rc == 0, "peer: MAC of %s", o->peer_if);
	if (rc)
		goto close;
	peer_run(o, "ip neigh replace %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s nud permanent", o->local_ip,
		 dev->mac[0], dev->mac[1], dev->mac[2], dev->mac[3], dev->mac[4], dev->mac[5], o->peer_if);
	end = now_ns() + 3000000000u;
	while (skiff_dpdk_link_up(dev) != 1 && now_ns() < end)
		usleep(10000);
	banner(dev);

	if (o->probe_peer_csum) {
		peer_run(o, "ethtool -K %s tx on >/dev/null 2>&1", o->peer_if);
		rx_round(o, dev, pmac, &r);
		info("rx with the peer's tx checksum offload ON: %u/%u received, %u byte-exact, %u with a bad UDP "
		     "checksum (%s)",
		     r.got, (unsigned)N_RX, r.exact, r.bad_csum,
		     r.bad_csum ? "CHECKSUM_PARTIAL leaks through: pseudo-header only" : "checksums complete");
		check(r.flagged_good_but_bad == 0, "rx: no bad checksum flagged RX_L4_CSUM_GOOD (%u)",
		      r.flagged_good_but_bad);
		peer_run(o, "ethtool -K %s tx off >/dev/null 2>&1", o->peer_if);
	}
	rx_round(o, dev, pmac, &r);
	check(r.got == N_RX, "rx: received %u/%u datagrams (%u other frames ignored)", r.got, (unsigned)N_RX, r.other);
	check(r.exact == r.got && r.got > 0, "rx: %u/%u byte-exact (addresses, headers, payload)", r.exact, r.got);
	check(r.bad_csum == 0, "rx: UDP checksums all verify (%u bad)", r.bad_csum);
	check(r.flagged_good_but_bad == 0, "rx: no bad checksum flagged RX_L4_CSUM_GOOD (%u)", r.flagged_good_but_bad);
	info("rx: port flagged %u/%u IP checksums and %u/%u L4 checksums good", r.ip_good, r.got, r.l4_good, r.got);
	rx_round_foreign(o, dev, pmac);
	if (skiff_dev_wakeup_fd(dev) >= 0) {
		info("rx: wakeup fd readable while idle: %s", r.fd_idle ? "yes" : "no");
		check(r.fd_sent == 1, "rx: wakeup fd readable once the kernel sent");
		check(r.fd_end == 0, "rx: wakeup fd quiet after every frame was taken");
	}

	memcpy(fl.src_mac, dev->mac, 6);
	memcpy(fl.dst_mac, pmac, 6);
	fl.src_ip = ntohl(inet_addr(o->local_ip));
	fl.dst_ip = ntohl(inet_addr(o->peer_ip));
	fl.sport = TX_SPORT;
	fl.dport = TX_PORT;
	tx_round(o, dev, cross, &fl, (dev->caps & SKIFF_DEV_CAP_TX_L4_CSUM) != 0);

	skiff_dpdk_stats(dev, &st);
	info("stats: rx %llu tx %llu rx_multiseg %llu tx_invalid %llu tx_copied %llu tx_hw_csum %llu tx_sw_csum %llu "
	     "rx_copied %llu rx_nombuf %llu",
	     (unsigned long long)st.rx, (unsigned long long)st.tx, (unsigned long long)st.rx_multiseg,
	     (unsigned long long)st.tx_invalid, (unsigned long long)st.tx_copied, (unsigned long long)st.tx_hw_csum,
	     (unsigned long long)st.tx_sw_csum, (unsigned long long)st.rx_copied, (unsigned long long)st.rx_nombuf);
close:
	skiff_dev_close(cross); /* no frame of its pool may still be out (the script fails on "still held") */
	skiff_dev_close(dev);
	check(skiff_dpdk_eal_fini() == 0, "eal: fini after the last close");
	cfg.n_eal_args = 0;
	rc = skiff_dpdk_open(&cfg, &dev, err, sizeof(err));
	check(rc == -ESHUTDOWN && one_line(err), "open after fini -> -ESHUTDOWN (%d): %s", rc, err);
out:
	printf("RESULT pass=%u fail=%u\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: driver_test --port NAME [--mode full|open] [--local-ip A --peer-ip B --peer-if IF\n"
			"       --peer-exec PREFIX --peer-setup CMD --peer-py PATH --probe-peer-csum --cross-port NAME]\n"
			"       [--hold] -- EAL args\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .mode = "full", .peer_exec = "" };
	int i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--probe-peer-csum") == 0 || strcmp(a, "--hold") == 0) {
			if (a[2] == 'h')
				o.hold = true;
			else
				o.probe_peer_csum = true;
			continue;
		}
		if (!v)
			usage();
		if (strcmp(a, "--mode") == 0)
			o.mode = v;
		else if (strcmp(a, "--port") == 0)
			o.port = v;
		else if (strcmp(a, "--local-ip") == 0)
			o.local_ip = v;
		else if (strcmp(a, "--peer-ip") == 0)
			o.peer_ip = v;
		else if (strcmp(a, "--peer-if") == 0)
			o.peer_if = v;
		else if (strcmp(a, "--peer-exec") == 0)
			o.peer_exec = v;
		else if (strcmp(a, "--peer-setup") == 0)
			o.peer_setup = v;
		else if (strcmp(a, "--peer-py") == 0)
			o.peer_py = v;
		else if (strcmp(a, "--cross-port") == 0)
			o.cross_port = v;
		else
			usage();
		i++;
	}
	o.eal = (const char *const *)(argv + i);
	o.n_eal = (unsigned)(argc - i);
	if (!o.port)
		usage();
	if (strcmp(o.mode, "open") == 0)
		return run_open_only(&o);
	if (!o.local_ip || !o.peer_ip || !o.peer_if || !o.peer_py)
		usage();
	return run_full(&o);
}
