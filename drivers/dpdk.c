/* dpdk.c — any DPDK ethdev port as a skiff_dev, without copying frames.
 *
 * Flow:
 *   skiff_dpdk_eal_init: once per process, under eal.lock. Copies the caller's
 *     args (rte_eal_init permutes argv and keeps pointers into it), caps the EAL
 *     log level at warning unless SKIFF_DPDK_LOG is set, and turns an EAL failure
 *     into one line with a hint (no hugepages → --no-huge, not root → privileges).
 *   skiff_dpdk_open: EAL up (from cfg) → find the port by name or index (the
 *     error lists the ports there are) → dev_info → configure 1 rx + 1 tx queue
 *     with the checksum offloads the port offers → mbuf pool whose private area
 *     is the skiff_pkt of each mbuf (descriptor fields that never change are set
 *     once per mbuf at pool creation) → queue setup → start → MAC, MTU, link.
 *   rx_burst: rte_eth_rx_burst, always asking a full burst (vector PMDs return
 *     nothing for bursts under 4), frames beyond what the caller asked for wait
 *     in a small stash for the next call (next_event says "now" while it holds
 *     any, since no fd announces them). Per mbuf: the descriptor is in the mbuf
 *     (rte_mbuf_to_priv), so receiving is filling off/len/flags. An mbuf of
 *     another pool has no descriptor there: copied into one of ours (or dropped,
 *     counted, when none is free or it does not fit). Multi-segment mbufs are
 *     dropped (not expected: MTU 1500 and 2 KiB buffers, no scatter).
 *   tx_burst: per frame, write data_off/len back into the mbuf when it can go
 *     out in place (a direct, unshared mbuf of this port's pool); anything else
 *     is copied into one of ours: frames of another pool — another port's too,
 *     whose mempool may go while our PMD still holds the mbuf —, mbufs on an
 *     external buffer or attached to another, mbufs with refcnt > 1. ol_flags
 *     keep only RTE_MBUF_F_EXTERNAL. Then the L4 checksum a
 *     frame asks for: the port's offload when it has it (pseudo-header in the
 *     field, lengths, ol_flags), else in software. rte_eth_tx_prepare +
 *     rte_eth_tx_burst; frames neither sent nor dropped stay the caller's, always
 *     a suffix of the burst, as driver.h requires.
 *   pool alloc/free: rte_pktmbuf_alloc_bulk / rte_pktmbuf_free_bulk.
 *   close: stop and close the port, free the pool, unless the stack still holds
 *     frames of it (then it and the small device struct are kept on a list, so
 *     those frames stay valid; skiff_dpdk_eal_fini frees a kept pool once its
 *     frames are back, and refuses with -EBUSY while any is still out).
 * wakeup_fd: net_tap only, from its rx interrupt support (intr_conf.rxq): the fd
 * is the tap queue's own fd, readable while frames wait, so it needs no arming
 * and nobody reads it. Every other PMD: -1 (the socket layer polls). Their rx
 * interrupt fds are eventfds that need rte_eth_dev_rx_intr_enable before each
 * sleep and a drain after, which the ops table has no hook for yet.
 * Single-threaded per device (driver.h). The pool works from any thread, but
 * threads the EAL did not create get no per-lcore mempool cache (slower path).
 */
#include "dpdk.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "../dataplane/csum.h"
#include "../dataplane/view.h"
#include "../dataplane/wire_eth.h"
#include "../dataplane/wire_ip4.h"
#include "../dataplane/wire_udp.h"

#define DPDK_DEFAULT_RXD 1024u
#define DPDK_DEFAULT_TXD 1024u
/* net_af_xdp keeps its fill ring stocked from this pool (thousands of mbufs), the
 * rx/tx rings hold more, and TCP keeps received frames until the reader takes
 * them (up to the autotuned window per connection): 8191 ran dry under one bulk
 * connection and stalled rx for seconds; 32767 (~70 MB) leaves room. */
#define DPDK_DEFAULT_MBUFS 32767u
#define DPDK_MTU 1500u
#define DPDK_L2_OVERHEAD 18u      /* Ethernet header + one 802.1Q tag */
#define DPDK_BURST 64u            /* tx and pool batches */
#define DPDK_RX_BURST 32u         /* what the socket layer asks for per call */
#define DPDK_CACHE 256u

/* The mbuf private area: skiff's descriptor, then whether the stack holds the
 * frame: set when rx or alloc hands it out, cleared when it comes back (pool
 * free) or goes to a PMD (tx). Only the frame's owner writes it, so no race.
 * Close counts it because the mempool's own in-use count cannot tell: net_af_xdp
 * never returns the mbufs left in its fill ring. */
struct mbuf_priv {
	struct skiff_pkt pkt;  /* first: rte_mbuf_to_priv() is the skiff_pkt */
	uint32_t held;
};
#define DPDK_PRIV_SIZE RTE_ALIGN(sizeof(struct mbuf_priv), RTE_CACHE_LINE_SIZE)

/* Received frames keep the PMD's headroom; output paths push headers into it. */
_Static_assert(RTE_PKTMBUF_HEADROOM >= SKIFF_HEADROOM, "mbuf headroom below skiff's");
_Static_assert(DPDK_PRIV_SIZE % RTE_MBUF_PRIV_ALIGN == 0, "mbuf private area misaligned");

struct dpdk_dev {
	struct skiff_dev dev;        /* first: the ops get this pointer */
	struct skiff_pool pool;      /* frames of this port's mbuf pool */
	struct rte_mempool *mp;
	uint16_t port;
	uint16_t queue;
	uint16_t max_frame;          /* mtu + L2 overhead */
	bool hw_udp_csum;            /* port fills UDP/IPv4 checksums */
	bool hw_tcp_csum;
	bool configured;             /* rte_eth_dev_configure succeeded: close on teardown */
	int wakeup_fd;
	char driver_name[32];
	struct skiff_dpdk_stats stats;
	uint16_t stash_at, stash_n;  /* received, not yet handed out: stash[at..at+n) */
	struct skiff_pkt *stash[DPDK_RX_BURST];
	struct dpdk_dev *kept_next;  /* on eal.kept once closed with frames out */
};

static const struct skiff_dev_ops dpdk_ops;
static const struct skiff_pool_ops dpdk_pool_ops;

static struct dpdk_dev *dev_of(struct skiff_dev *dev) { return (struct dpdk_dev *)(void *)dev; }
static struct dpdk_dev *dev_of_pool(struct skiff_pool *pool)
{
	return (struct dpdk_dev *)(void *)((char *)pool - offsetof(struct dpdk_dev, pool));
}
static struct rte_mbuf *mbuf_of(const struct skiff_pkt *p) { return (struct rte_mbuf *)(uintptr_t)p->cookie; }
static struct mbuf_priv *priv_of(struct rte_mbuf *m) { return rte_mbuf_to_priv(m); }
static struct mbuf_priv *priv_of_pkt(struct skiff_pkt *p) { return (struct mbuf_priv *)(void *)p; }

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- EAL once-per-process state ---------------------------------------------
 * The one global of this driver. The EAL itself is process-wide and can be
 * initialised only once, so the record of how it was brought up (to answer a
 * second init with the same or different args), which ports are open (to refuse
 * a second open and to refuse fini while any is), the pools of closed ports
 * that still have frames out (fini refuses while any has) and a sequence for
 * unique pool names must be process-wide too. The data path never reads it. */

enum eal_phase { EAL_DOWN, EAL_UP, EAL_FAILED, EAL_FINI };

static struct {
	pthread_mutex_t lock;
	enum eal_phase phase;
	unsigned nargs;
	char **args;                 /* the caller's args, as given */
	char **argv;                 /* what rte_eal_init got (it reorders and keeps these) */
	unsigned open_ports;
	unsigned pool_seq;
	bool port_open[RTE_MAX_ETHPORTS];
	struct dpdk_dev *kept;       /* closed devices whose pool still had frames out */
} eal = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool args_equal(const char *const *args, unsigned n)
{
	if (n != eal.nargs)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(args[i], eal.args[i]) != 0)
			return false;
	return true;
}

static bool args_have(const char *const *args, unsigned n, const char *opt)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(args[i], opt) == 0)
			return true;
	return false;
}

static void args_free(void)
{
	for (unsigned i = 0; eal.args && i < eal.nargs; i++)
		free(eal.args[i]);
	free(eal.args);
	free(eal.argv);
	eal.args = eal.argv = NULL;
	eal.nargs = 0;
}

/* Keep the caller's args, and an argv for the EAL: a program name + the same
 * strings. A first arg that is not an option is taken as the program name
 * (callers that pass a whole argv). Returns argc for rte_eal_init, or -ENOMEM. */
static int args_keep(const char *const *args, unsigned n)
{
	bool has_name = n > 0 && args[0][0] != '-';
	unsigned argc = has_name ? n : n + 1;
	eal.args = calloc(n + 1, sizeof(*eal.args));
	eal.argv = calloc(n + 2, sizeof(*eal.argv));
	if (!eal.args || !eal.argv)
		goto nomem;
	eal.nargs = n;
	for (unsigned i = 0; i < n; i++) {
		eal.args[i] = strdup(args[i]);
		if (!eal.args[i])
			goto nomem;
	}
	eal.argv[0] = has_name ? eal.args[0] : (char *)"skiff";
	for (unsigned i = has_name ? 1 : 0; i < n; i++)
		eal.argv[argc - n + i] = eal.args[i];
	return (int)argc;
nomem:
	args_free();
	return -ENOMEM;
}

static unsigned hugepages_total(void)
{
	char line[128];
	unsigned total = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Total: %u", &total) == 1)
			break;
	fclose(f);
	return total;
}

static void log_level_set(void)
{
	const char *env = getenv("SKIFF_DPDK_LOG");
	if (!env) {
		rte_log_set_global_level(RTE_LOG_WARNING);
		return;
	}
	if (env[0] >= '1' && env[0] <= '8' && env[1] == '\0')
		rte_log_set_global_level((uint32_t)(env[0] - '0'));
}

static int eal_fail(int e, const char *const *args, unsigned n, char *err, size_t errlen)
{
	bool huge_missing = !args_have(args, n, "--no-huge") && hugepages_total() == 0;
	const char *hint = "";

	if (e == EALREADY)
		hint = " (the EAL failed earlier in this process and cannot be retried: restart it)";
	else if (geteuid() != 0 && (e == EACCES || e == EPERM))
		hint = " (not root: run as root, or with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_IPC_LOCK)";
	else if (huge_missing)
		hint = " (no hugepages reserved: add --no-huge -m <MB>, or reserve some in /proc/sys/vm/nr_hugepages)";
	else if (e == EINVAL && args_have(args, n, "--no-huge") && args_have(args, n, "--in-memory"))
		hint = " (--in-memory does not combine with --no-huge: use --no-huge --no-shconf)";
	else if (e == EINVAL)
		hint = " (bad EAL arguments: the EAL says which above)";
	set_err(err, errlen, "dpdk: EAL init failed: %s%s", rte_strerror(e), hint);
	return -(e ? e : EIO);
}

/* With eal.lock held. */
static int eal_init_locked(const char *const *args, unsigned n, char *err, size_t errlen)
{
	int rc;

	if (n && !args)
		return set_err(err, errlen, "dpdk: EAL args missing"), -EINVAL;
	if (eal.phase == EAL_FINI) {
		set_err(err, errlen, "dpdk: the EAL was shut down in this process and cannot come back");
		return -ESHUTDOWN;
	}
	if (eal.phase == EAL_UP) {
		if (args_equal(args, n))
			return 0;
		set_err(err, errlen, "dpdk: the EAL is already up with other arguments (it starts once per process)");
		return -EALREADY;
	}
	for (unsigned i = 0; i < n; i++)
		if (!args[i])
			return set_err(err, errlen, "dpdk: EAL arg %u is NULL", i), -EINVAL;
	args_free();
	rc = args_keep(args, n);
	if (rc < 0)
		return set_err(err, errlen, "dpdk: out of memory"), rc;
	log_level_set();
	rc = rte_eal_init(rc, eal.argv);
	if (rc < 0 && rte_errno == EALREADY && eal.phase == EAL_DOWN) {
		/* The program brought the EAL up itself before skiff: use that one. */
		eal.phase = EAL_UP;
		return 0;
	}
	if (rc < 0) {
		rc = eal_fail(rte_errno, args, n, err, errlen);
		eal.phase = EAL_FAILED;
		return rc;
	}
	eal.phase = EAL_UP;
	return 0;
}

int skiff_dpdk_eal_init(const char *const *args, unsigned n, char *err, size_t errlen)
{
	int rc;
	pthread_mutex_lock(&eal.lock);
	rc = eal_init_locked(args, n, err, errlen);
	pthread_mutex_unlock(&eal.lock);
	return rc;
}

static unsigned count_held(struct rte_mempool *mp);

/* With eal.lock held: free the kept pools whose frames have all come back;
 * true when none is left. */
static bool kept_release_locked(void)
{
	struct dpdk_dev **pp = &eal.kept;
	while (*pp) {
		struct dpdk_dev *d = *pp;
		if (count_held(d->mp) == 0) {
			*pp = d->kept_next;
			rte_mempool_free(d->mp);
			free(d);
		} else {
			pp = &d->kept_next;
		}
	}
	return eal.kept == NULL;
}

int skiff_dpdk_eal_fini(void)
{
	int rc = 0;
	pthread_mutex_lock(&eal.lock);
	if (eal.open_ports || !kept_release_locked())
		rc = -EBUSY; /* a port is open, or frames of a closed port's pool are still out */
	else if (eal.phase == EAL_UP) {
		rc = rte_eal_cleanup();
		eal.phase = EAL_FINI;
	}
	pthread_mutex_unlock(&eal.lock);
	return rc;
}

/* ---- checksum offload --------------------------------------------------------
 * Where the L4 checksum of a frame lives: Ethernet (optional 802.1Q) → IPv4 (not
 * a fragment) or IPv6 (no extension headers) → TCP or UDP. */

struct l4_site {
	uint8_t l2_len;
	uint8_t l3_len;
	uint8_t l4_hdr_len;  /* UDP 8, TCP data offset */
	uint8_t proto;
	bool ip4;
	uint8_t *l4;
	uint32_t l4_len;     /* header + payload */
	uint32_t pseudo;     /* pseudo-header sum (csum.h convention) */
	uint8_t csum_at;     /* checksum field offset in the L4 header */
};

static int site_l4(struct l4_site *s, uint8_t proto, uint8_t *l4, uint32_t l4_len)
{
	if (proto == IPPROTO_UDP_ && l4_len >= UDP_HDR_LEN) {
		s->l4_hdr_len = UDP_HDR_LEN;
		s->csum_at = 6;
	} else if (proto == IPPROTO_TCP_ && l4_len >= 20 && (l4[12] >> 4) * 4u >= 20 &&
		   (l4[12] >> 4) * 4u <= l4_len) {
		s->l4_hdr_len = (uint8_t)((l4[12] >> 4) * 4u);
		s->csum_at = 16;
	} else {
		return -ENOENT;
	}
	s->proto = proto;
	s->l4 = l4;
	s->l4_len = l4_len;
	return 0;
}

static int site_ip4(uint8_t *h, uint32_t avail, struct l4_site *s)
{
	uint32_t ihl, total;
	if (avail < IP4_HDR_LEN || (h[0] >> 4) != 4)
		return -EBADMSG;
	ihl = (h[0] & 0x0fu) * 4u;
	total = ld16(h + 2);
	if (ihl < IP4_HDR_LEN || total < ihl || total > avail)
		return -EBADMSG;
	if (ld16(h + 6) & (IP4_FLAG_MF | IP4_OFF_MASK))
		return -ENOENT; /* a fragment's L4 checksum spans the whole datagram */
	s->ip4 = true;
	s->l3_len = (uint8_t)ihl;
	s->pseudo = csum_pseudo4(ld32(h + 12), ld32(h + 16), h[9], total - ihl);
	return site_l4(s, h[9], h + ihl, total - ihl);
}

static int site_ip6(uint8_t *h, uint32_t avail, struct l4_site *s)
{
	uint32_t plen;
	if (avail < 40 || (h[0] >> 4) != 6)
		return -EBADMSG;
	plen = ld16(h + 4);
	if (plen > avail - 40)
		return -EBADMSG;
	s->l3_len = 40;
	s->pseudo = csum_add(csum_partial(h + 8, 32, 0), plen + h[6]);
	return site_l4(s, h[6], h + 40, plen);
}

static int site_find(uint8_t *f, uint32_t len, struct l4_site *s)
{
	uint32_t off = ETH_HDR_LEN;
	uint16_t type;
	memset(s, 0, sizeof(*s));
	if (len < ETH_HDR_LEN)
		return -EBADMSG;
	type = ld16(f + 12);
	if (type == ETH_TYPE_VLAN) {
		if (len < ETH_VLAN_HDR_LEN)
			return -EBADMSG;
		type = ld16(f + 16);
		off = ETH_VLAN_HDR_LEN;
	}
	s->l2_len = (uint8_t)off;
	if (type == ETH_TYPE_IP4)
		return site_ip4(f + off, len - off, s);
	if (type == ETH_TYPE_IP6)
		return site_ip6(f + off, len - off, s);
	return -ENOENT;
}

static void sw_l4_csum(const struct l4_site *s)
{
	uint16_t c;
	st16(s->l4 + s->csum_at, 0);
	c = csum_fold(csum_partial(s->l4, s->l4_len, s->pseudo));
	if (s->proto == IPPROTO_UDP_ && c == 0)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	st16(s->l4 + s->csum_at, c);
}

/* The frame asks for its whole L4 checksum (SKIFF_PKT_TX_L4_CSUM: the field
 * holds anything). IPv4 UDP/TCP on a port with that offload: DPDK's contract is
 * the pseudo-header sum (folded, not complemented) in the field, l2/l3/l4_len
 * and RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_{UDP,TCP}_CKSUM; this is what
 * rte_ipv4_phdr_cksum() computes, done with skiff's byte-order-safe helpers.
 * Everything else (IPv6 for now, no offload) is filled here in software.
 * Frames that are not TCP/UDP over IP are left as they are. */
static void tx_l4_csum(struct dpdk_dev *d, struct rte_mbuf *m, uint8_t *frame, uint32_t len)
{
	struct l4_site s;
	bool hw;
	if (site_find(frame, len, &s) != 0)
		return;
	hw = s.ip4 && (s.proto == IPPROTO_UDP_ ? d->hw_udp_csum : d->hw_tcp_csum);
	if (!hw) {
		sw_l4_csum(&s);
		d->stats.tx_sw_csum++;
		return;
	}
	st16(s.l4 + s.csum_at, (uint16_t)~csum_fold(s.pseudo));
	m->l2_len = s.l2_len;
	m->l3_len = s.l3_len;
	m->l4_len = s.l4_hdr_len;
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 |
		       (s.proto == IPPROTO_UDP_ ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
	d->stats.tx_hw_csum++;
}

/* ---- pool: skiff frames are mbufs ------------------------------------------- */

/* Once per mbuf at pool creation: the descriptor fields that never change. */
static void pkt_init_cb(struct rte_mempool *mp, void *opaque, void *obj, unsigned idx)
{
	struct dpdk_dev *d = opaque;
	struct rte_mbuf *m = obj;
	struct mbuf_priv *mp_ = priv_of(m);
	struct skiff_pkt *p = &mp_->pkt;
	(void)mp;
	(void)idx;
	memset(mp_, 0, sizeof(*mp_));
	p->head = m->buf_addr;
	p->cap = m->buf_len;
	p->pool = &d->pool;
	p->cookie = (uintptr_t)m;
}

static void pkt_reset(struct skiff_pkt *p, struct rte_mbuf *m)
{
	p->head = m->buf_addr;
	p->cap = m->buf_len;
	p->flags = 0;
	p->ifindex = 0;
	p->vlan_tci = 0;
	p->l3_off = p->l4_off = 0;
	p->next = p->chain = NULL;
	p->ts = 0;
}

static unsigned pool_alloc(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct dpdk_dev *d = dev_of_pool(pool);
	struct rte_mbuf *m[DPDK_BURST];
	unsigned got = 0;

	while (got < n) {
		unsigned want = n - got < DPDK_BURST ? n - got : DPDK_BURST;
		/* alloc_bulk is all-or-nothing: on a short pool, halve the ask. */
		while (want && rte_pktmbuf_alloc_bulk(d->mp, m, want) != 0)
			want /= 2;
		if (!want)
			break;
		for (unsigned i = 0; i < want; i++) {
			struct skiff_pkt *p = &priv_of(m[i])->pkt;
			priv_of(m[i])->held = 1;
			pkt_reset(p, m[i]);
			p->off = SKIFF_HEADROOM;
			p->len = 0;
			m[i]->data_off = SKIFF_HEADROOM;
			pkts[got++] = p;
		}
	}
	return got;
}

static void pool_free(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct rte_mbuf *m[DPDK_BURST];
	(void)pool;
	while (n) {
		unsigned k = n < DPDK_BURST ? n : DPDK_BURST;
		for (unsigned i = 0; i < k; i++) {
			m[i] = mbuf_of(pkts[i]);
			priv_of_pkt(pkts[i])->held = 0;
		}
		rte_pktmbuf_free_bulk(m, k);
		pkts += k;
		n -= k;
	}
}

static const struct skiff_pool_ops dpdk_pool_ops = { pool_alloc, pool_free };

/* ---- data path -------------------------------------------------------------- */

static uint32_t rx_flags(const struct rte_mbuf *m)
{
	uint64_t ol = m->ol_flags;
	uint32_t f = 0;
	/* A bad or unknown checksum leaves the flag clear: the stack verifies. */
	if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= SKIFF_PKT_RX_IP_CSUM_GOOD;
	if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= SKIFF_PKT_RX_L4_CSUM_GOOD;
	if (ol & RTE_MBUF_F_RX_VLAN_STRIPPED)
		f |= SKIFF_PKT_RX_VLAN;
	return f;
}

/* An rx mbuf of another pool (a PMD or rx callback that hands out mbufs of its
 * own) has no skiff descriptor in its private area: its bytes and rx flags go
 * into one of ours and it is freed. NULL (dropped, counted) when none is free
 * or the frame is larger than one of ours holds. */
static struct rte_mbuf *rx_adopt(struct dpdk_dev *d, struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(d->mp);
	char *dst = c ? rte_pktmbuf_append(c, m->data_len) : NULL;
	if (!dst) {
		if (c)
			rte_pktmbuf_free(c);
		rte_pktmbuf_free(m);
		d->stats.rx_nombuf++;
		return NULL;
	}
	memcpy(dst, rte_pktmbuf_mtod(m, const void *), m->data_len);
	c->ol_flags = m->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK |
				     RTE_MBUF_F_RX_VLAN_STRIPPED);
	c->vlan_tci = m->vlan_tci;
	rte_pktmbuf_free(m);
	d->stats.rx_copied++;
	return c;
}

/* One received mbuf as a skiff frame; NULL when dropped. */
static struct skiff_pkt *rx_pkt(struct dpdk_dev *d, struct rte_mbuf *m, uint64_t now)
{
	struct skiff_pkt *p;
	if (m->nb_segs != 1) {
		rte_pktmbuf_free(m);
		d->stats.rx_multiseg++;
		return NULL;
	}
	if (m->pool != d->mp && !(m = rx_adopt(d, m)))
		return NULL;
	p = &priv_of(m)->pkt;
	priv_of(m)->held = 1;
	pkt_reset(p, m);
	p->off = m->data_off;
	p->len = m->data_len;
	p->flags = rx_flags(m);
	if (p->flags & SKIFF_PKT_RX_VLAN)
		p->vlan_tci = m->vlan_tci;
	p->ts = now;
	return p;
}

static unsigned stash_take(struct dpdk_dev *d, struct skiff_pkt **pkts, unsigned n)
{
	unsigned k = n < d->stash_n ? n : d->stash_n;
	memcpy(pkts, d->stash + d->stash_at, k * sizeof(*pkts));
	d->stash_at = (uint16_t)(d->stash_at + k);
	d->stash_n = (uint16_t)(d->stash_n - k);
	return k;
}

static unsigned dpdk_rx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct dpdk_dev *d = dev_of(dev);
	struct rte_mbuf *m[DPDK_RX_BURST];
	unsigned got = stash_take(d, pkts, n);

	while (got < n) {
		/* The stash is empty here: refill it with a full burst. */
		uint16_t nb = rte_eth_rx_burst(d->port, d->queue, m, DPDK_RX_BURST);
		d->stash_at = d->stash_n = 0;
		for (uint16_t i = 0; i < nb; i++) {
			struct skiff_pkt *p = rx_pkt(d, m[i], now);
			if (p)
				d->stash[d->stash_n++] = p;
		}
		got += stash_take(d, pkts + got, n - got);
		if (nb < DPDK_RX_BURST)
			break;
	}
	d->stats.rx += got;
	return got;
}

/* Whether p can go out in place: an mbuf of this port's own pool that is
 * direct and not shared. Anything else is copied into one of ours: a frame of
 * another (skiff or not) pool — another port's mempool may be freed while our
 * PMD still holds the mbuf —, an mbuf attached to an external buffer (mlx5 MPRQ)
 * or to another mbuf, an mbuf someone else holds a reference to. */
static bool tx_in_place(const struct dpdk_dev *d, const struct skiff_pkt *p)
{
	const struct rte_mbuf *m;
	if (p->pool != &d->pool)
		return false;
	m = mbuf_of(p);
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

/* The mbuf that carries p on the wire, prepared; NULL with *why = -EINVAL for a
 * frame to drop, -ENOBUFS when no mbuf is free for a copy (retry later). */
static struct rte_mbuf *tx_mbuf(struct dpdk_dev *d, struct skiff_pkt *p, bool *copied, int *why)
{
	struct rte_mbuf *m;
	uint8_t *frame;

	*copied = false;
	if (p->chain || p->len == 0 || p->len > d->max_frame || (uint64_t)p->off + p->len > p->cap) {
		*why = -EINVAL;
		return NULL;
	}
	if (tx_in_place(d, p)) {
		m = mbuf_of(p);
		priv_of_pkt(p)->held = 0; /* the PMD's from here; back to the caller (set again) if not sent */
		m->data_off = (uint16_t)p->off;
		m->data_len = (uint16_t)p->len;
		m->pkt_len = p->len;
		frame = skiff_pkt_data(p);
	} else {
		m = rte_pktmbuf_alloc(d->mp);
		if (!m) {
			*why = -ENOBUFS;
			return NULL;
		}
		frame = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)p->len);
		if (!frame) {
			rte_pktmbuf_free(m);
			*why = -EINVAL;
			return NULL;
		}
		memcpy(frame, skiff_pkt_data(p), p->len);
		*copied = true;
	}
	/* a received mbuf sent back out still holds rx flags; the buffer-type
	 * flag stays, or the free would not know how to release the buffer */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->tx_offload = 0;
	if (p->flags & SKIFF_PKT_TX_L4_CSUM)
		tx_l4_csum(d, m, frame, p->len);
	return m;
}

/* Hand m[0..cnt) to the port. Returns how many are gone (sent, or refused by
 * tx_prepare and freed): always a prefix; the rest stay with the caller. */
static unsigned tx_send(struct dpdk_dev *d, struct rte_mbuf **m, unsigned cnt)
{
	unsigned done = 0;
	while (done < cnt) {
		uint16_t left = (uint16_t)(cnt - done);
		uint16_t prep = rte_eth_tx_prepare(d->port, d->queue, m + done, left);
		uint16_t sent = prep ? rte_eth_tx_burst(d->port, d->queue, m + done, prep) : 0;
		done += sent;
		d->stats.tx += sent;
		if (sent < prep)
			break; /* tx ring full */
		if (prep < left) {
			rte_pktmbuf_free(m[done++]); /* the PMD cannot send this one */
			d->stats.tx_invalid++;
		}
	}
	return done;
}

static unsigned dpdk_tx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct dpdk_dev *d = dev_of(dev);
	unsigned i = 0;
	(void)now;

	while (i < n) {
		struct rte_mbuf *m[DPDK_BURST];
		struct skiff_pkt *orig[DPDK_BURST]; /* originals of copied frames, else NULL */
		unsigned cnt = 0, done;
		int why = 0;

		while (i + cnt < n && cnt < DPDK_BURST) {
			bool copied;
			m[cnt] = tx_mbuf(d, pkts[i + cnt], &copied, &why);
			if (!m[cnt])
				break;
			orig[cnt] = copied ? pkts[i + cnt] : NULL;
			cnt++;
		}
		done = tx_send(d, m, cnt);
		for (unsigned k = 0; k < cnt; k++) {
			if (!orig[k]) {
				if (k >= done)
					priv_of(m[k])->held = 1; /* not sent: the caller's again */
			} else if (k < done) {
				skiff_pkt_free(orig[k]);
				d->stats.tx_copied++;
			} else {
				rte_pktmbuf_free(m[k]); /* the caller keeps the original */
			}
		}
		i += done;
		if (done < cnt || why == -ENOBUFS)
			return i;
		if (why == -EINVAL) {
			skiff_pkt_free(pkts[i++]);
			d->stats.tx_invalid++;
		}
	}
	return n;
}

static struct skiff_pool *dpdk_pool(struct skiff_dev *dev) { return &dev_of(dev)->pool; }
static int dpdk_wakeup_fd(struct skiff_dev *dev) { return dev_of(dev)->wakeup_fd; }
/* Stashed frames are work due now: no fd will announce them. */
static uint64_t dpdk_next_event(struct skiff_dev *dev) { return dev_of(dev)->stash_n ? 0 : UINT64_MAX; }
static const void *dpdk_lock_domain(struct skiff_dev *dev)
{
	(void)dev;
	return NULL;
}

/* ---- lifetime --------------------------------------------------------------- */

static void port_release(uint16_t port)
{
	pthread_mutex_lock(&eal.lock);
	if (eal.port_open[port]) {
		eal.port_open[port] = false;
		eal.open_ports--;
	}
	pthread_mutex_unlock(&eal.lock);
}

static void count_held_cb(struct rte_mempool *mp, void *opaque, void *obj, unsigned idx)
{
	unsigned *n = opaque;
	(void)mp;
	(void)idx;
	*n += priv_of(obj)->held != 0;
}

static unsigned count_held(struct rte_mempool *mp)
{
	unsigned n = 0;
	if (mp)
		rte_mempool_obj_iter(mp, count_held_cb, &n);
	return n;
}

/* Stop and close the port (once configured), then free the pool unless frames
 * of it are still out: those keep it, and d, alive (on eal.kept) until
 * skiff_dpdk_eal_fini finds every frame back. */
static void dev_teardown(struct dpdk_dev *d)
{
	unsigned out;
	if (d->stash_n)
		pool_free(&d->pool, d->stash + d->stash_at, d->stash_n);
	d->stash_n = 0;
	if (d->configured) {
		rte_eth_dev_stop(d->port);
		rte_eth_dev_close(d->port);
	}
	port_release(d->port);
	out = count_held(d->mp);
	if (out) {
		rte_log(RTE_LOG_WARNING, RTE_LOGTYPE_USER1,
			"skiff: dpdk %s closed with %u frames still held: its pool stays allocated\n", d->dev.name, out);
		pthread_mutex_lock(&eal.lock);
		d->kept_next = eal.kept;
		eal.kept = d;
		pthread_mutex_unlock(&eal.lock);
		return;
	}
	rte_mempool_free(d->mp);
	free(d);
}

static void dpdk_close(struct skiff_dev *dev)
{
	dev_teardown(dev_of(dev));
}

/* The port's multicast MAC filter for the groups the stack joined (RFC 1112
 * 6.4: 01:00:5e + the group's low 23 bits; RFC 2464 7: 33:33 + the last 32),
 * else all multicast when the port refuses the list (too long, or no filter:
 * -ENOTSUP as net_af_xdp answers). skiff speaks IGMP/MLD itself on DPDK. */
static int dpdk_mcast_set(struct skiff_dev *dev, const struct skiff_dev_mcast *groups, unsigned n)
{
	struct dpdk_dev *d = dev_of(dev);
	struct rte_ether_addr macs[SKIFF_DEV_MCAST_MAX];
	unsigned k = 0;
	int rc;

	for (unsigned i = 0; i < n && k < SKIFF_DEV_MCAST_MAX; i++) {
		uint8_t *m = macs[k].addr_bytes;
		if (groups[i].family == 4) {
			m[0] = 0x01, m[1] = 0x00, m[2] = 0x5e;
			m[3] = groups[i].addr[1] & 0x7f, m[4] = groups[i].addr[2], m[5] = groups[i].addr[3];
		} else {
			m[0] = 0x33, m[1] = 0x33;
			memcpy(m + 2, groups[i].addr + 12, 4);
		}
		k++;
	}
	rc = rte_eth_dev_set_mc_addr_list(d->port, k ? macs : NULL, k);
	if (rc == 0)
		return 0;
	rc = k ? rte_eth_allmulticast_enable(d->port) : 0;
	return rc == -ENOTSUP ? 0 : rc; /* no filter at all: the port already passes every group */
}

static const struct skiff_dev_ops dpdk_ops = {
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.pool = dpdk_pool,
	.wakeup_fd = dpdk_wakeup_fd,
	.next_event = dpdk_next_event,
	.close = dpdk_close,
	.lock_domain = dpdk_lock_domain,
	.mcast_set = dpdk_mcast_set,
};

/* Port by ethdev name, else by index; the error lists the ports there are. */
static int port_find(const char *name, uint16_t *out, char *err, size_t errlen)
{
	char list[192] = "", pname[RTE_ETH_NAME_MAX_LEN];
	size_t used = 0;
	uint16_t pid;
	bool digits = name && *name;

	if (!name || !*name)
		return set_err(err, errlen, "dpdk: no port given"), -EINVAL;
	if (rte_eth_dev_get_port_by_name(name, &pid) == 0) {
		*out = pid;
		return 0;
	}
	for (const char *c = name; *c; c++)
		digits = digits && isdigit((unsigned char)*c);
	if (digits && strlen(name) < 6) {
		unsigned long v = strtoul(name, NULL, 10);
		if (v < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)v)) {
			*out = (uint16_t)v;
			return 0;
		}
	}
	RTE_ETH_FOREACH_DEV(pid) {
		int w;
		if (rte_eth_dev_get_name_by_port(pid, pname) != 0)
			continue;
		w = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", pname);
		if (w < 0 || (size_t)w >= sizeof(list) - used)
			break;
		used += (size_t)w;
	}
	set_err(err, errlen, "dpdk: no port '%s' (ports: %s)%s", name, used ? list : "none",
		used || geteuid() == 0 ? "" : " (not root: vdevs such as net_tap need CAP_NET_ADMIN)");
	return -ENODEV;
}

static int port_claim(uint16_t port, const char *name, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&eal.lock);
	if (eal.port_open[port]) {
		set_err(err, errlen, "dpdk: port '%s' is already open", name);
		rc = -EBUSY;
	} else {
		eal.port_open[port] = true;
		eal.open_ports++;
	}
	pthread_mutex_unlock(&eal.lock);
	return rc;
}

static unsigned pool_seq_next(void)
{
	unsigned s;
	pthread_mutex_lock(&eal.lock);
	s = eal.pool_seq++;
	pthread_mutex_unlock(&eal.lock);
	return s;
}

/* Offloads: take the checksum ones the port has; say which in caps. */
static void port_offloads(struct dpdk_dev *d, const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
	uint64_t rx = info->rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
					       RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	uint64_t tx = info->tx_offload_capa & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
	conf->rxmode.offloads = rx;
	conf->txmode.offloads = tx;
	d->hw_udp_csum = (tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	d->hw_tcp_csum = (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	d->dev.caps = 0;
	if (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		d->dev.caps |= SKIFF_DEV_CAP_RX_IP_CSUM;
	if (rx & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
		d->dev.caps |= SKIFF_DEV_CAP_RX_L4_CSUM;
	/* The stack only asks for UDP today; TCP without the offload goes to software. */
	if (d->hw_udp_csum)
		d->dev.caps |= SKIFF_DEV_CAP_TX_L4_CSUM;
}

static int port_setup(struct dpdk_dev *d, const struct skiff_dpdk_config *cfg, const char *name, char *err,
		      size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = (uint16_t)(cfg->nb_rxd ? cfg->nb_rxd : DPDK_DEFAULT_RXD);
	uint16_t nb_txd = (uint16_t)(cfg->nb_txd ? cfg->nb_txd : DPDK_DEFAULT_TXD);
	unsigned nb_mbufs = cfg->nb_mbufs ? cfg->nb_mbufs : DPDK_DEFAULT_MBUFS;
	unsigned cache;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	uint16_t mtu;
	int socket, rc;

	rc = rte_eth_dev_info_get(d->port, &info);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: dev_info: %s", name, rte_strerror(-rc)), rc;
	snprintf(d->driver_name, sizeof(d->driver_name), "%s", info.driver_name ? info.driver_name : "?");
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	conf.txmode.mq_mode = RTE_ETH_MQ_TX_NONE;
	conf.rxmode.mtu = DPDK_MTU < info.max_mtu ? DPDK_MTU : info.max_mtu;
	conf.intr_conf.rxq = strcmp(d->driver_name, "net_tap") == 0; /* see wakeup_fd at the top */
	port_offloads(d, &info, &conf);
	rc = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (rc && conf.intr_conf.rxq) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(d->port, 1, 1, &conf);
	}
	if (rc)
		return set_err(err, errlen, "dpdk: %s: configure (1 rx + 1 tx queue, mtu %u): %s", name,
			       conf.rxmode.mtu, rte_strerror(-rc)), rc;
	d->configured = true;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nb_rxd, &nb_txd);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: descriptor counts: %s", name, rte_strerror(-rc)), rc;
	if (nb_mbufs < (unsigned)nb_rxd + nb_txd + DPDK_BURST)
		return set_err(err, errlen, "dpdk: %s: nb_mbufs %u is below %u rx + %u tx descriptors + %u", name,
			       nb_mbufs, nb_rxd, nb_txd, DPDK_BURST), -EINVAL;

	socket = rte_eth_dev_socket_id(d->port);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	cache = nb_mbufs / 2 < DPDK_CACHE ? nb_mbufs / 2 : DPDK_CACHE;
	snprintf(pool_name, sizeof(pool_name), "skiff_p%u_%u", d->port, pool_seq_next());
	d->mp = rte_pktmbuf_pool_create(pool_name, nb_mbufs, cache, (uint16_t)DPDK_PRIV_SIZE,
					RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!d->mp)
		return set_err(err, errlen, "dpdk: %s: pool of %u mbufs: %s (raise -m, or lower nb_mbufs)", name,
			       nb_mbufs, rte_strerror(rte_errno)), -ENOMEM;
	rte_mempool_obj_iter(d->mp, pkt_init_cb, d);

	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	rc = rte_eth_rx_queue_setup(d->port, d->queue, nb_rxd, (unsigned)socket, &rxc, d->mp);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: rx queue setup (%u descriptors): %s", name, nb_rxd,
			       rte_strerror(-rc)), rc;
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	rc = rte_eth_tx_queue_setup(d->port, d->queue, nb_txd, (unsigned)socket, &txc);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: tx queue setup (%u descriptors): %s", name, nb_txd,
			       rte_strerror(-rc)), rc;
	if (cfg->promisc) {
		rc = rte_eth_promiscuous_enable(d->port);
		if (rc)
			return set_err(err, errlen, "dpdk: %s: promiscuous mode: %s", name, rte_strerror(-rc)), rc;
	}
	rc = rte_eth_dev_start(d->port);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: start: %s", name, rte_strerror(-rc)), rc;
	if (conf.intr_conf.rxq) {
		int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(d->port, d->queue);
		d->wakeup_fd = fd >= 0 ? fd : -1;
	}

	rc = rte_eth_macaddr_get(d->port, &mac);
	if (rc)
		return set_err(err, errlen, "dpdk: %s: MAC address: %s", name, rte_strerror(-rc)), rc;
	memcpy(d->dev.mac, mac.addr_bytes, 6);
	if (rte_eth_dev_get_mtu(d->port, &mtu) != 0)
		mtu = DPDK_MTU;
	if (mtu > RTE_MBUF_DEFAULT_DATAROOM - DPDK_L2_OVERHEAD)
		mtu = RTE_MBUF_DEFAULT_DATAROOM - DPDK_L2_OVERHEAD; /* one mbuf per frame */
	d->dev.mtu = mtu;
	d->max_frame = (uint16_t)(mtu + DPDK_L2_OVERHEAD);
	return 0;
}

int skiff_dpdk_open(const struct skiff_dpdk_config *cfg, struct skiff_dev **out, char *err, size_t errlen)
{
	struct dpdk_dev *d;
	uint16_t port;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !out)
		return set_err(err, errlen, "dpdk: no config"), -EINVAL;
	if (cfg->queue != 0)
		return set_err(err, errlen, "dpdk: queue %u: only queue 0 is supported for now", cfg->queue), -ENOTSUP;
	if (cfg->nb_rxd > UINT16_MAX || cfg->nb_txd > UINT16_MAX)
		return set_err(err, errlen, "dpdk: %u rx / %u tx descriptors: at most %u each", cfg->nb_rxd,
			       cfg->nb_txd, UINT16_MAX), -EINVAL;
	pthread_mutex_lock(&eal.lock);
	if (eal.phase == EAL_UP && cfg->n_eal_args == 0)
		rc = 0;
	else
		rc = eal_init_locked(cfg->eal_args, cfg->n_eal_args, err, errlen);
	pthread_mutex_unlock(&eal.lock);
	if (rc)
		return rc;
	rc = port_find(cfg->port, &port, err, errlen);
	if (rc)
		return rc;
	rc = port_claim(port, cfg->port, err, errlen);
	if (rc)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d) {
		port_release(port);
		return set_err(err, errlen, "dpdk: out of memory"), -ENOMEM;
	}
	d->dev.ops = &dpdk_ops;
	d->pool.ops = &dpdk_pool_ops;
	d->wakeup_fd = -1;
	d->port = port;
	d->queue = (uint16_t)cfg->queue;
	snprintf(d->dev.name, sizeof(d->dev.name), "%s", cfg->port);
	rc = port_setup(d, cfg, cfg->port, err, errlen);
	if (rc) {
		/* Once configured, a failed port is stopped and closed: a closed
		 * vdev is gone for this process (no re-probe). */
		dev_teardown(d);
		return rc < 0 ? rc : -EIO;
	}
	*out = &d->dev;
	return 0;
}

int skiff_dpdk_link_up(struct skiff_dev *dev)
{
	struct rte_eth_link link;
	if (!dev || dev->ops != &dpdk_ops)
		return -EINVAL;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(dev_of(dev)->port, &link) != 0)
		return 0;
	return link.link_status == RTE_ETH_LINK_UP;
}

const char *skiff_dpdk_driver_name(struct skiff_dev *dev)
{
	if (!dev || dev->ops != &dpdk_ops)
		return NULL;
	return dev_of(dev)->driver_name;
}

void skiff_dpdk_stats(struct skiff_dev *dev, struct skiff_dpdk_stats *out)
{
	if (!out)
		return;
	if (!dev || dev->ops != &dpdk_ops) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = dev_of(dev)->stats;
}
