/* boot.c — a struct skiff_config made real (see boot.h).
 *
 * check → per interface: open its device (afxdp: kernel interface name, queues,
 * copy/skb mode; dpdk: EAL from the first dpdk interface, the port) → one stack
 * (seeded from the clock and the pid) with an interface per device → addresses
 * (and into the steering program) → gateway as the default route, routes →
 * loopback ([offload] loopback: 127/8 inside the stack, frames from a pool of
 * its own so looped traffic never pins device frames; after the devices, which
 * the runtime maps to interfaces 0..n-1) → runtime, attach, busy poll, progress
 * thread. Any failure: close in reverse, one line in err.
 */
#include "boot.h"

#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/route.h"
#include "dataplane/route6.h"
#include "dataplane/stack.h"

#include <arpa/inet.h>
#include <net/if.h>
#include "runtime.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"
#ifdef SKIFF_HAVE_AFXDP
#include "drivers/afxdp.h"
#endif
#ifdef SKIFF_HAVE_DPDK
#include "drivers/dpdk.h"
#endif

/* The loopback's frames: as a device's (2 KiB behind the headroom, MTU 1500, so
 * socket buffers account for them alike); 8192 of them (18 MiB, touched only as
 * used) hold the receive queues of dozens of looped sockets. */
#define BOOT_LO_FRAMES 8192u
#define BOOT_LO_BUF (2048u + SKIFF_HEADROOM)
#define BOOT_LO_MTU 1500

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int skiff_boot_open_dev(const struct skiff_cfg_iface *f, struct skiff_dev **dev, void **steer, char *err, size_t errlen)
{
	char why[256] = "";
	int rc = -ENOTSUP;
	*steer = NULL;
	if (f->driver == SKIFF_CFG_DRIVER_AFXDP) {
#ifdef SKIFF_HAVE_AFXDP
		struct skiff_afxdp_config a;
		memset(&a, 0, sizeof(a));
		a.ifname = f->name;
		a.queue_first = f->queue_lo;
		a.nqueues = f->queue_hi - f->queue_lo + 1;
		a.force_copy = f->xdp_mode == SKIFF_CFG_XDP_COPY;
		a.skb_mode = f->xdp_mode == SKIFF_CFG_XDP_SKB;
		rc = skiff_afxdp_open(&a, dev, why, sizeof(why));
		if (!rc)
			*steer = skiff_afxdp_steer(*dev);
#else
		snprintf(why, sizeof(why), "built without the afxdp driver (libbpf-dev/libxdp-dev missing at configure)");
#endif
	} else {
#ifdef SKIFF_HAVE_DPDK
		struct skiff_dpdk_config d;
		char buf[SKIFF_CFG_STR], *argv[64], *save = NULL;
		unsigned n = 0;
		memset(&d, 0, sizeof(d));
		snprintf(buf, sizeof(buf), "%s", f->dpdk_eal[0] ? f->dpdk_eal : "--no-huge -m 512 --no-pci --no-shconf");
		argv[n++] = (char *)"skiff";
		for (char *t = strtok_r(buf, " \t", &save); t && n < 63; t = strtok_r(NULL, " \t", &save))
			argv[n++] = t;
		d.eal_args = (const char *const *)argv;
		d.n_eal_args = n;
		d.port = f->dpdk_port;
		rc = skiff_dpdk_open(&d, dev, why, sizeof(why)); /* EAL: the first call's arguments */
#else
		snprintf(why, sizeof(why), "built without the dpdk driver (libdpdk-dev missing at configure)");
#endif
	}
	if (rc)
		snprintf(err, errlen, "interface %s: %s", f->name, why[0] ? why : strerror(-rc));
	return rc;
}

void skiff_boot_close(struct skiff_boot *b)
{
	if (!b)
		return;
	skiff_rt_destroy(b->rt);
	skiff_stack_destroy(b->st);
	skiff_mempool_destroy(b->lo_pool); /* after the stack: its queues held these frames */
	for (unsigned i = b->ndevs; i-- > 0;)
		skiff_dev_close(b->devs[i]);
	free(b);
}

void skiff_boot_exit(struct skiff_boot *b)
{
	int n;
	if (!b)
		return;
	rt_progress_thread_stop(b->rt);
	n = atomic_load(&b->rt->ninst);
	for (int i = 0; i < n; i++)
		if (b->rt->inst[i].group == i)
			rt_lock(b->rt, i); /* never released */
	for (unsigned i = b->ndevs; i-- > 0;)
		skiff_dev_close(b->devs[i]);
	b->ndevs = 0;
}

/* IPv6 on interface ifx (config f): the link-local and the configured
 * addresses (each in the steering program first, so ND for them reaches
 * skiff), the default route through gateway6. */
static int boot_ip6(struct skiff_boot *b, unsigned i, int ifx, const struct skiff_cfg_iface *f, char *err,
		    size_t errlen)
{
	static const uint8_t zero[16];
	uint8_t ll[16];
	int rc = skiff_stack_enable_ip6(b->st, ifx, mono_ns());

	if (rc == 0)
		rc = skiff_stack_link_local6(b->st, ifx, ll);
#ifdef SKIFF_HAVE_AFXDP
	if (rc == 0 && b->steer[i])
		rc = skiff_xdp_steer_add_ip6(b->steer[i], ll);
#endif
	if (rc) {
		snprintf(err, errlen, "interface %s: IPv6: %s", f->name, strerror(-rc));
		return rc;
	}
	for (unsigned k = 0; k < f->naddrs6; k++) {
#ifdef SKIFF_HAVE_AFXDP
		if (b->steer[i] && (rc = skiff_xdp_steer_add_ip6(b->steer[i], f->addrs6[k].addr)) != 0) {
			snprintf(err, errlen, "interface %s: steering program: %s", f->name, strerror(-rc));
			return rc;
		}
#endif
		rc = skiff_stack_add_addr6(b->st, ifx, f->addrs6[k].addr, f->addrs6[k].plen, mono_ns());
		if (rc) {
			char txt[64];
			inet_ntop(AF_INET6, f->addrs6[k].addr, txt, sizeof(txt));
			snprintf(err, errlen, "interface %s: address %s/%u: %s", f->name, txt, f->addrs6[k].plen,
				 strerror(-rc));
			return rc;
		}
	}
	if (memcmp(f->gateway6, zero, 16) &&
	    (rc = skiff_route6_add(b->st, zero, 0, f->gateway6, ifx, 1024, UINT64_MAX)) != 0) {
		snprintf(err, errlen, "interface %s: IPv6 gateway: %s", f->name, strerror(-rc));
		return rc;
	}
	(void)i;
	return 0;
}

int skiff_boot_open(const struct skiff_config *c, struct skiff_boot **out, char *err, size_t errlen)
{
	struct skiff_boot *b;
	struct skiff_stack_config sc;
	int rc;

	*out = NULL;
	rc = skiff_config_check(c, err, errlen);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->nifaces; i++) {
		rc = skiff_boot_open_dev(&c->ifaces[i], &b->devs[i], &b->steer[i], err, errlen);
		if (rc)
			goto fail;
		b->ndevs++;
	}
	sc = c->stack;
	if (!sc.seed && getrandom(&sc.seed, sizeof(sc.seed), GRND_NONBLOCK) != (ssize_t)sizeof(sc.seed))
		sc.seed = mono_ns() ^ ((uint64_t)getpid() << 32); /* no entropy yet: at least per process */
	if (!sc.seed)
		sc.seed = 1;
	rc = skiff_stack_create(&sc, mono_ns(), &b->st);
	if (rc) {
		snprintf(err, errlen, "stack: %s", strerror(-rc));
		goto fail;
	}
	for (unsigned i = 0; i < b->ndevs; i++) {
		const struct skiff_cfg_iface *f = &c->ifaces[i];
		struct skiff_dev *d = b->devs[i];
		int ifx = skiff_stack_add_iface(b->st, f->name, d->mac, d->mtu, d->caps, skiff_dev_pool(d));
		if (ifx < 0) {
			rc = ifx;
			snprintf(err, errlen, "interface %s: %s", f->name, strerror(-rc));
			goto fail;
		}
		/* the kernel's index of the interface of that name, for scope_id and
		 * pktinfo (a DPDK label that is no kernel interface: 0) */
		skiff_stack_iface(b->st, ifx)->ext_ifindex = if_nametoindex(f->name);
		for (unsigned k = 0; k < f->naddrs; k++) {
#ifdef SKIFF_HAVE_AFXDP
			if (b->steer[i] && (rc = skiff_xdp_steer_add_ip4(b->steer[i], f->addrs[k].addr)) != 0) {
				snprintf(err, errlen, "interface %s: steering program: %s", f->name, strerror(-rc));
				goto fail;
			}
#endif
			rc = skiff_stack_add_addr4(b->st, ifx, f->addrs[k].addr, f->addrs[k].plen, mono_ns());
			if (rc) {
				snprintf(err, errlen, "interface %s: address %u.%u.%u.%u/%u: %s", f->name,
					 f->addrs[k].addr >> 24, (f->addrs[k].addr >> 16) & 255, (f->addrs[k].addr >> 8) & 255,
					 f->addrs[k].addr & 255, f->addrs[k].plen, strerror(-rc));
				goto fail;
			}
		}
		if (f->ipv6 == 1 || (f->ipv6 < 0 && f->naddrs6)) {
			rc = boot_ip6(b, i, ifx, f, err, errlen);
			if (rc)
				goto fail;
		}
		if (f->gateway && (rc = skiff_route_add4(b->st, 0, 0, f->gateway, ifx, 0)) != 0) {
			snprintf(err, errlen, "interface %s: gateway: %s", f->name, strerror(-rc));
			goto fail;
		}
		for (unsigned k = 0; k < f->nroutes; k++) {
			const struct skiff_cfg_route4 *r = &f->routes[k];
			rc = skiff_route_add4(b->st, r->dst, r->plen, r->via, ifx, 0);
			if (rc) {
				snprintf(err, errlen, "interface %s: route %u: %s", f->name, k + 1, strerror(-rc));
				goto fail;
			}
		}
	}
	if (c->loopback) {
		rc = skiff_mempool_create(BOOT_LO_FRAMES, BOOT_LO_BUF, &b->lo_pool);
		if (!rc)
			rc = skiff_stack_enable_loopback(b->st, skiff_mempool_pool(b->lo_pool), BOOT_LO_MTU);
		if (rc < 0) {
			snprintf(err, errlen, "loopback: %s", strerror(-rc));
			goto fail;
		}
	}
	rc = skiff_rt_create(&b->rt);
	if (!rc) {
		b->instance = skiff_rt_attach(b->rt, b->st, b->devs, b->ndevs);
		rc = b->instance < 0 ? b->instance : skiff_rt_use(b->rt, b->instance);
	}
	if (!rc) {
		skiff_rt_set_busy_poll(b->rt, c->busy_poll_us);
		if (c->progress_thread)
			rc = skiff_rt_progress_thread(b->rt, 1);
	}
	if (rc) {
		snprintf(err, errlen, "runtime: %s", strerror(-rc));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	skiff_boot_close(b);
	return rc;
}
