/* pcap.c — wraps any device and records its traffic in a classic pcap file.
 *
 * Flow: skiff_pcap_wrap() opens the file (stdio, fully buffered), writes the
 * global header (ns magic 0xa1b23c4d, 2.4, snaplen 65535, LINKTYPE_ETHERNET) in
 * host byte order, as libpcap does; readers detect the order from the magic.
 *   rx_burst: inner rx, then one record per received frame.
 *   tx_burst: once the inner dev accepts a frame it owns it and may free or reuse
 *     it at once, so its bytes must be read before the call. The burst goes in
 *     chunks: each chunk's records are built in a scratch buffer, the chunk is
 *     handed to the inner dev, and only the records of the accepted prefix are
 *     appended. Refused frames stay the caller's and are recorded when a later
 *     call gets them accepted: exactly one record per transmission.
 *   close: flush and close the file, then close the inner dev.
 * Records carry `now` as the timestamp. A write error stops the capture (the
 * traffic keeps flowing); a frame chain is recorded as one frame.
 */
#include "driver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2u
#define PCAP_VERSION_MINOR 4u
#define PCAP_SNAPLEN 65535u
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_REC_HDR 16u
#define PCAP_CHUNK 64u                        /* frames per inner tx call */
#define PCAP_SCRATCH (PCAP_CHUNK * 2048u)     /* grows on demand up to one full chunk */
#define PCAP_STDIO_BUF (256u * 1024u)
#define NS_PER_S 1000000000ull

struct pcap_dev {
	struct skiff_dev dev;      /* first: the ops get this pointer */
	struct skiff_dev *inner;
	FILE *fp;
	char *iobuf;               /* stdio buffer, freed after fclose */
	bool failed;               /* a write failed: capture stopped */
	uint8_t *scratch;          /* tx records built before the inner dev owns the frames */
	size_t scratch_cap;
};

static const struct skiff_dev_ops pcap_ops;

static struct pcap_dev *pcap_of(struct skiff_dev *dev) { return (struct pcap_dev *)(void *)dev; }

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }

static void capture_write(struct pcap_dev *pd, const void *buf, size_t len)
{
	if (pd->failed || len == 0)
		return;
	if (fwrite(buf, 1, len, pd->fp) != len)
		pd->failed = true;
}

static uint32_t captured_len(const struct skiff_pkt *p)
{
	uint32_t len = skiff_pkt_chain_len(p);
	return len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
}

static size_t record_size(const struct skiff_pkt *p) { return PCAP_REC_HDR + captured_len(p); }

/* Write a record (header + captured bytes of the chain) at dst; returns its size. */
static size_t record_build(uint8_t *dst, const struct skiff_pkt *p, uint64_t now)
{
	uint32_t incl = captured_len(p), done = 0;
	put32(dst, (uint32_t)(now / NS_PER_S));
	put32(dst + 4, (uint32_t)(now % NS_PER_S));
	put32(dst + 8, incl);
	put32(dst + 12, skiff_pkt_chain_len(p));
	for (const struct skiff_pkt *s = p; s && done < incl; s = s->chain) {
		uint32_t take = incl - done < s->len ? incl - done : s->len;
		memcpy(dst + PCAP_REC_HDR + done, skiff_pkt_data(s), take);
		done += take;
	}
	return PCAP_REC_HDR + incl;
}

/* Direct append (rx: the frames are ours until we return them). */
static void record_append(struct pcap_dev *pd, const struct skiff_pkt *p, uint64_t now)
{
	uint8_t hdr[PCAP_REC_HDR];
	uint32_t incl = captured_len(p), done = 0;
	put32(hdr, (uint32_t)(now / NS_PER_S));
	put32(hdr + 4, (uint32_t)(now % NS_PER_S));
	put32(hdr + 8, incl);
	put32(hdr + 12, skiff_pkt_chain_len(p));
	capture_write(pd, hdr, sizeof(hdr));
	for (const struct skiff_pkt *s = p; s && done < incl; s = s->chain) {
		uint32_t take = incl - done < s->len ? incl - done : s->len;
		capture_write(pd, skiff_pkt_data(s), take);
		done += take;
	}
}

static int scratch_reserve(struct pcap_dev *pd, size_t need)
{
	uint8_t *nb;
	if (need <= pd->scratch_cap)
		return 0;
	nb = realloc(pd->scratch, need);
	if (!nb)
		return -ENOMEM;
	pd->scratch = nb;
	pd->scratch_cap = need;
	return 0;
}

/* Snapshot up to PCAP_CHUNK frames into scratch; ends[i] is where record i ends. */
static unsigned chunk_build(struct pcap_dev *pd, struct skiff_pkt **pkts, unsigned n, uint64_t now,
			    size_t *ends)
{
	size_t need = 0, used = 0;
	unsigned k = n < PCAP_CHUNK ? n : PCAP_CHUNK;
	for (unsigned i = 0; i < k; i++)
		need += record_size(pkts[i]);
	if (scratch_reserve(pd, need) != 0) {
		pd->failed = true;
		return 0;
	}
	for (unsigned i = 0; i < k; i++) {
		used += record_build(pd->scratch + used, pkts[i], now);
		ends[i] = used;
	}
	return k;
}

static unsigned pcap_tx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct pcap_dev *pd = pcap_of(dev);
	size_t ends[PCAP_CHUNK];
	unsigned done = 0;
	unsigned chunks = n / PCAP_CHUNK + 1;
	for (unsigned c = 0; c < chunks && done < n; c++) {
		unsigned k = 0, sent;
		if (!pd->failed)
			k = chunk_build(pd, pkts + done, n - done, now, ends);
		if (pd->failed) /* capture stopped: plain pass-through */
			return done + skiff_dev_tx(pd->inner, pkts + done, n - done, now);
		sent = skiff_dev_tx(pd->inner, pkts + done, k, now);
		if (sent)
			capture_write(pd, pd->scratch, ends[sent - 1]);
		done += sent;
		if (sent < k)
			break;
	}
	return done;
}

static unsigned pcap_rx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct pcap_dev *pd = pcap_of(dev);
	unsigned got = skiff_dev_rx(pd->inner, pkts, n, now);
	for (unsigned i = 0; i < got; i++)
		record_append(pd, pkts[i], now);
	return got;
}

static struct skiff_pool *pcap_pool(struct skiff_dev *dev) { return skiff_dev_pool(pcap_of(dev)->inner); }
static int pcap_wakeup_fd(struct skiff_dev *dev) { return skiff_dev_wakeup_fd(pcap_of(dev)->inner); }
static uint64_t pcap_next_event(struct skiff_dev *dev) { return skiff_dev_next_event(pcap_of(dev)->inner); }

static void pcap_close(struct skiff_dev *dev)
{
	struct pcap_dev *pd = pcap_of(dev);
	fclose(pd->fp); /* flushes */
	free(pd->iobuf);
	free(pd->scratch);
	skiff_dev_close(pd->inner);
	free(pd);
}

static const void *pcap_lock_domain(struct skiff_dev *dev) { return skiff_dev_lock_domain(pcap_of(dev)->inner); }

static const struct skiff_dev_ops pcap_ops = {
	.lock_domain = pcap_lock_domain,
	.rx_burst = pcap_rx_burst,
	.tx_burst = pcap_tx_burst,
	.pool = pcap_pool,
	.wakeup_fd = pcap_wakeup_fd,
	.next_event = pcap_next_event,
	.close = pcap_close,
};

static int write_global_header(FILE *fp)
{
	uint8_t h[24];
	put32(h, PCAP_MAGIC_NS);
	put16(h + 4, PCAP_VERSION_MAJOR);
	put16(h + 6, PCAP_VERSION_MINOR);
	put32(h + 8, 0);   /* thiszone: timestamps are UTC */
	put32(h + 12, 0);  /* sigfigs */
	put32(h + 16, PCAP_SNAPLEN);
	put32(h + 20, PCAP_LINKTYPE_ETHERNET);
	if (fwrite(h, 1, sizeof(h), fp) != sizeof(h))
		return -EIO;
	return 0;
}

static int capture_open(struct pcap_dev *pd, const char *path)
{
	pd->fp = fopen(path, "wbe");
	if (!pd->fp)
		return -errno;
	pd->iobuf = malloc(PCAP_STDIO_BUF);
	if (pd->iobuf && setvbuf(pd->fp, pd->iobuf, _IOFBF, PCAP_STDIO_BUF) != 0) {
		free(pd->iobuf);
		pd->iobuf = NULL;
	}
	if (write_global_header(pd->fp) != 0 || scratch_reserve(pd, PCAP_SCRATCH) != 0) {
		fclose(pd->fp);
		free(pd->iobuf);
		free(pd->scratch);
		return -EIO;
	}
	return 0;
}

static void mirror_inner(struct pcap_dev *pd)
{
	struct skiff_dev *in = pd->inner;
	int w = snprintf(pd->dev.name, sizeof(pd->dev.name), "pcap(%s)", in->name);
	if (w < 0 || (size_t)w >= sizeof(pd->dev.name))
		pd->dev.name[sizeof(pd->dev.name) - 2] = ')'; /* truncated: keep it closed */
	memcpy(pd->dev.mac, in->mac, sizeof(pd->dev.mac));
	pd->dev.mtu = in->mtu;
	pd->dev.caps = in->caps;
}

/* On failure `inner` stays the caller's. */
int skiff_pcap_wrap(struct skiff_dev *inner, const char *path, struct skiff_dev **out)
{
	struct pcap_dev *pd;
	int err;
	if (!inner || !path || !out)
		return -EINVAL;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	err = capture_open(pd, path);
	if (err) {
		free(pd);
		return err;
	}
	pd->dev.ops = &pcap_ops;
	pd->inner = inner;
	mirror_inner(pd);
	*out = &pd->dev;
	return 0;
}
