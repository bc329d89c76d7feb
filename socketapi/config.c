/* config.c — the config file and SKIFF_* overrides (format in config.h).
 *
 * parse: for each line: strip the comment and blanks → "[section]" switches the
 * section ([interface NAME] adds an interface; the same name twice in one file is
 * an error) → "key = value" goes to the section's setter: [stack] through a table
 * of struct skiff_stack_config fields (name, offset, kind, bounds), [offload] and
 * [interface] by name. The first error stops with "origin:line: message".
 * env: SKIFF_STACK_*, SKIFF_OFFLOAD_* become [stack]/[offload] lines;
 * SKIFF_INTERFACE names the interface that SKIFF_DRIVER, SKIFF_ADDRESS, ... set.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024

enum kind { K_U32, K_U64, K_NS, K_U16, K_U8, K_BOOL };

struct field {
	const char *name;
	size_t off;
	enum kind kind;
	uint64_t min, max;
};

#define F(n, k, lo, hi) { #n, offsetof(struct skiff_stack_config, n), k, lo, hi }
static const struct field stack_fields[] = {
	F(seed, K_U64, 0, UINT64_MAX),
	F(neigh_entries, K_U32, 1, 1u << 20),
	F(neigh_hold_per_entry, K_U32, 0, 1024),
	F(neigh_hold_total, K_U32, 0, 1u << 20),
	F(arp_retries, K_U32, 1, 100),
	F(arp_retrans_ns, K_NS, 1000000ull, 60000000000ull),
	F(neigh_reachable_ns, K_NS, 1000000ull, UINT64_MAX),
	F(neigh_gc_ns, K_NS, 1000000ull, UINT64_MAX),
	F(arp_reply_rate, K_U32, 0, 1u << 30),
	F(icmp_rate, K_U32, 0, 1u << 30),
	F(routes, K_U32, 1, 1u << 20),
	F(reasm_slots, K_U32, 1, 1u << 16),
	F(reasm_mem, K_U32, 1, 1u << 31),
	F(reasm_timeout_ns, K_NS, 1000000ull, 3600000000000ull),
	F(reasm_max_frags, K_U32, 1, 1u << 16),
	F(udp_sockets, K_U32, 1, 1u << 24),
	F(txq, K_U32, 1, 1u << 20),
	F(rcvbuf_default, K_U32, 2304, 1u << 30),
	F(rcvbuf_max, K_U32, 2304, 1u << 30),
	F(sndbuf_max, K_U32, 4608, 1u << 30),
	F(sndbuf_default, K_U32, 4608, 1u << 30),
	F(ephemeral_lo, K_U16, 1, 65535),
	F(ephemeral_hi, K_U16, 1, 65535),
	F(default_ttl, K_U8, 1, 255),
	F(tcp_sockets, K_U32, 1, 1u << 24),
	F(tcp_rcvbuf, K_U32, 2304, 1u << 30),
	F(tcp_sndbuf, K_U32, 4608, 1u << 30),
	F(tcp_rcvbuf_max, K_U32, 0, 1u << 30),
	F(tcp_somaxconn, K_U32, 1, 65535),
	F(tcp_challenge_rate, K_U32, 0, 1u << 30),
	F(tcp_syncookies, K_BOOL, 0, 1),
	F(tcp_rack, K_BOOL, 0, 1),
	F(nd_dad_transmits, K_U32, 0, 10),
	F(nd_optimistic_dad, K_BOOL, 0, 1),
	F(nd_rtr_solicits, K_U32, 0, 100),
	F(nd_rtr_solicit_ns, K_NS, 1000000ull, 3600000000000ull),
	F(nd_delay_first_probe_ns, K_NS, 1000000ull, 3600000000000ull),
	F(nd_accept_ra, K_BOOL, 0, 1),
	F(nd_autoconf, K_BOOL, 0, 1),
	F(nd_accept_redirects, K_BOOL, 0, 1),
	F(mld_join_solicited, K_BOOL, 0, 1),
	F(default_hop_limit, K_U8, 1, 255),
	F(pmtu6_entries, K_U32, 1, 1u << 20),
	F(pmtu_expire_ns, K_NS, 1000000000ull, UINT64_MAX),
};
#undef F

struct ctx {
	struct skiff_config *c;
	const char *origin;
	unsigned line;
	char *err;
	size_t errlen;
	enum { S_NONE, S_STACK, S_OFFLOAD, S_IFACE } sect;
	struct skiff_cfg_iface *ifc;
	bool seen[SKIFF_CFG_IFACES]; /* interface sections of this text */
};

static int fail(struct ctx *x, const char *fmt, ...)
{
	char msg[SKIFF_CFG_ERR];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->err && x->errlen) {
		if (x->line)
			snprintf(x->err, x->errlen, "%s:%u: %s", x->origin, x->line, msg);
		else
			snprintf(x->err, x->errlen, "%s: %s", x->origin, msg);
	}
	return -EINVAL;
}

void skiff_config_defaults(struct skiff_config *c)
{
	memset(c, 0, sizeof(*c));
	skiff_stack_config_defaults(&c->stack);
	c->stack.seed = 0; /* boot draws one per process (getrandom): ISNs, ports, cookies */
	c->stack.mld_join_solicited = true; /* real links: MLD-snooping switches must forward NS (dataplane/mld.h) */
	c->busy_poll_us = 50;
	c->progress_thread = true;
}

/* ---- values ---- */

/* Unsigned decimal (or 0x hex) with an optional k/m/g (x1024) suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	if (*end && !end[1]) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		default: return -EINVAL;
		}
		end++;
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return -EINVAL;
	*out = v * mul;
	return 0;
}

/* A duration: number with ns/us/ms/s, or a bare number in `unit_ns`. */
static int parse_time(const char *s, uint64_t unit_ns, uint64_t *out)
{
	char *end;
	uint64_t v, mul = unit_ns;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1000000;
	else if (!strcmp(end, "s"))
		mul = 1000000000;
	else if (*end)
		return -EINVAL;
	if (v && mul > UINT64_MAX / v)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_ip4(const char *s, uint32_t *addr)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*addr = ntohl(a.s_addr);
	return 0;
}

/* An IPv6 address with /LEN (1..128). */
static int parse_prefix6(const char *s, uint8_t addr[16], uint8_t *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	uint64_t l;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (!slash || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -EINVAL;
	if (!isdigit((unsigned char)slash[1]) || parse_size(slash + 1, &l) || l == 0 || l > 128 ||
	    strpbrk(slash + 1, "kKmMgGxX"))
		return -EINVAL;
	*plen = (uint8_t)l;
	return 0;
}

/* A.B.C.D/LEN (LEN required unless allow_host: then /32). */
static int parse_prefix(const char *s, uint32_t *addr, uint8_t *plen, bool allow_host)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	uint64_t l;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf) || (!slash && !allow_host))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (parse_ip4(buf, addr))
		return -EINVAL;
	if (!slash) {
		*plen = 32;
		return 0;
	}
	if (!isdigit((unsigned char)slash[1]) || parse_size(slash + 1, &l) || l > 32 || strpbrk(slash + 1, "kKmMgGxX"))
		return -EINVAL;
	*plen = (uint8_t)l;
	return 0;
}

/* ---- sections ---- */

static int set_stack(struct ctx *x, const char *key, const char *val)
{
	struct skiff_config *c = x->c;
	if (!strcmp(key, "busy_poll_us")) {
		uint64_t ns;
		if (parse_time(val, 1000, &ns) || ns / 1000 > 10000000u)
			return fail(x, "busy_poll_us: want a time up to 10 s (e.g. 50, 50us, 1ms), got '%s'", val);
		c->busy_poll_us = (unsigned)(ns / 1000);
		return 0;
	}
	if (!strcmp(key, "progress_thread")) {
		if (parse_bool(val, &c->progress_thread))
			return fail(x, "progress_thread: want on or off, got '%s'", val);
		return 0;
	}
	for (size_t i = 0; i < sizeof(stack_fields) / sizeof(stack_fields[0]); i++) {
		const struct field *f = &stack_fields[i];
		uint8_t *p = (uint8_t *)&c->stack + f->off;
		uint64_t v;
		bool b;
		if (strcmp(key, f->name))
			continue;
		if (f->kind == K_BOOL) {
			if (parse_bool(val, &b))
				return fail(x, "%s: want on or off, got '%s'", key, val);
			memcpy(p, &b, sizeof(b));
			return 0;
		}
		if ((f->kind == K_NS ? parse_time(val, 1, &v) : parse_size(val, &v)) || v < f->min || v > f->max)
			return fail(x, "%s: want %s from %" PRIu64 " to %" PRIu64 ", got '%s'", key,
				    f->kind == K_NS ? "a time (ns, or with ns/us/ms/s)" : "a number", f->min, f->max, val);
		switch (f->kind) {
		case K_U32: { unsigned u = (unsigned)v; memcpy(p, &u, sizeof(u)); break; }
		case K_U16: { uint16_t u = (uint16_t)v; memcpy(p, &u, sizeof(u)); break; }
		case K_U8: { uint8_t u = (uint8_t)v; memcpy(p, &u, sizeof(u)); break; }
		default: memcpy(p, &v, sizeof(v)); break;
		}
		return 0;
	}
	return fail(x, "unknown key '%s' in [stack]", key);
}

static int set_ports(struct ctx *x, const char *val)
{
	struct skiff_config *c = x->c;
	char buf[LINE_MAX_LEN], *save = NULL, *tok;
	snprintf(buf, sizeof(buf), "%s", val);
	c->nports = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		char *dash = strchr(tok, '-');
		uint64_t lo, hi;
		if (dash)
			*dash = 0;
		if (parse_size(tok, &lo) || lo < 1 || lo > 65535 || strpbrk(tok, "kKmMgGxX"))
			return fail(x, "ports: bad port '%s' (want 1..65535 or LO-HI)", tok);
		hi = lo;
		if (dash && (parse_size(dash + 1, &hi) || hi < lo || hi > 65535 || strpbrk(dash + 1, "kKmMgGxX")))
			return fail(x, "ports: bad range '%s-%s'", tok, dash + 1);
		if (c->nports == SKIFF_CFG_PORT_RANGES)
			return fail(x, "ports: more than %d ranges", SKIFF_CFG_PORT_RANGES);
		c->ports[c->nports].lo = (uint16_t)lo;
		c->ports[c->nports].hi = (uint16_t)hi;
		c->nports++;
	}
	return 0;
}

static int set_offload(struct ctx *x, const char *key, const char *val)
{
	if (!strcmp(key, "ports"))
		return set_ports(x, val);
	if (!strcmp(key, "loopback")) {
		if (parse_bool(val, &x->c->loopback))
			return fail(x, "loopback: want on or off, got '%s'", val);
		return 0;
	}
	return fail(x, "unknown key '%s' in [offload]", key);
}

static int set_iface(struct ctx *x, const char *key, const char *val)
{
	struct skiff_cfg_iface *f = x->ifc;
	if (!strcmp(key, "driver")) {
		if (!strcmp(val, "afxdp"))
			f->driver = SKIFF_CFG_DRIVER_AFXDP;
		else if (!strcmp(val, "dpdk"))
			f->driver = SKIFF_CFG_DRIVER_DPDK;
		else
			return fail(x, "driver: want afxdp or dpdk, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "queues")) {
		char buf[64];
		char *dash;
		uint64_t lo, hi;
		snprintf(buf, sizeof(buf), "%s", val);
		dash = strchr(buf, '-');
		if (dash)
			*dash = 0;
		if (parse_size(buf, &lo) || lo > 1023 || strpbrk(buf, "kKmMgGxX"))
			return fail(x, "queues: want N or N-M (0..1023), got '%s'", val);
		hi = lo;
		if (dash && (parse_size(dash + 1, &hi) || hi < lo || hi > 1023 || strpbrk(dash + 1, "kKmMgGxX")))
			return fail(x, "queues: want N or N-M (0..1023), got '%s'", val);
		f->queue_lo = (unsigned)lo;
		f->queue_hi = (unsigned)hi;
		return 0;
	}
	if (!strcmp(key, "xdp_mode")) {
		if (!strcmp(val, "auto"))
			f->xdp_mode = SKIFF_CFG_XDP_AUTO;
		else if (!strcmp(val, "copy"))
			f->xdp_mode = SKIFF_CFG_XDP_COPY;
		else if (!strcmp(val, "skb"))
			f->xdp_mode = SKIFF_CFG_XDP_SKB;
		else
			return fail(x, "xdp_mode: want auto, copy or skb, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "address") && strchr(val, ':')) {
		struct skiff_cfg_addr6 a;
		if (parse_prefix6(val, a.addr, &a.plen) || a.addr[0] == 0xff)
			return fail(x, "address: want an IPv6 unicast address/LEN (LEN 1..128), got '%s'", val);
		if (f->naddrs6 == SKIFF_CFG_ADDRS)
			return fail(x, "address: more than %d IPv6 on interface '%s'", SKIFF_CFG_ADDRS, f->name);
		f->addrs6[f->naddrs6++] = a;
		return 0;
	}
	if (!strcmp(key, "gateway") && strchr(val, ':')) {
		static const uint8_t zero[16];
		if (inet_pton(AF_INET6, val, f->gateway6) != 1 || !memcmp(f->gateway6, zero, 16) || f->gateway6[0] == 0xff)
			return fail(x, "gateway: want an IPv6 unicast address, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "ipv6")) {
		bool on;
		if (parse_bool(val, &on))
			return fail(x, "ipv6: want on or off, got '%s'", val);
		f->ipv6 = on;
		return 0;
	}
	if (!strcmp(key, "address")) {
		struct skiff_cfg_addr4 a;
		if (parse_prefix(val, &a.addr, &a.plen, false) || a.plen == 0)
			return fail(x, "address: want A.B.C.D/LEN (LEN 1..32), got '%s'", val);
		if (f->naddrs == SKIFF_CFG_ADDRS)
			return fail(x, "address: more than %d on interface '%s'", SKIFF_CFG_ADDRS, f->name);
		f->addrs[f->naddrs++] = a;
		return 0;
	}
	if (!strcmp(key, "gateway")) {
		if (parse_ip4(val, &f->gateway) || !f->gateway)
			return fail(x, "gateway: want A.B.C.D, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "route")) {
		struct skiff_cfg_route4 r;
		char dst[64], via[64], word[8];
		int used = 0;
		if (sscanf(val, "%63s %7s %63s%n", dst, word, via, &used) != 3 || val[used] || strcmp(word, "via") ||
		    parse_prefix(dst, &r.dst, &r.plen, true) || parse_ip4(via, &r.via))
			return fail(x, "route: want A.B.C.D/LEN via A.B.C.D, got '%s'", val);
		if (f->nroutes == SKIFF_CFG_ROUTES)
			return fail(x, "route: more than %d on interface '%s'", SKIFF_CFG_ROUTES, f->name);
		f->routes[f->nroutes++] = r;
		return 0;
	}
	if (!strcmp(key, "dpdk_eal")) {
		if (strlen(val) >= sizeof(f->dpdk_eal))
			return fail(x, "dpdk_eal: longer than %zu characters", sizeof(f->dpdk_eal) - 1);
		memcpy(f->dpdk_eal, val, strlen(val) + 1);
		return 0;
	}
	if (!strcmp(key, "dpdk_port")) {
		if (!*val || strlen(val) >= sizeof(f->dpdk_port))
			return fail(x, "dpdk_port: want a port name or index (< %zu characters)", sizeof(f->dpdk_port));
		memcpy(f->dpdk_port, val, strlen(val) + 1);
		return 0;
	}
	return fail(x, "unknown key '%s' in [interface %s]", key, f->name);
}

/* The interface called name (created when absent); NULL when the table is full. */
static struct skiff_cfg_iface *iface_named(struct skiff_config *c, const char *name, unsigned *idx)
{
	for (unsigned i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i].name, name)) {
			*idx = i;
			return &c->ifaces[i];
		}
	}
	if (c->nifaces == SKIFF_CFG_IFACES)
		return NULL;
	*idx = c->nifaces;
	memset(&c->ifaces[c->nifaces], 0, sizeof(c->ifaces[0]));
	c->ifaces[c->nifaces].ipv6 = -1;
	snprintf(c->ifaces[c->nifaces].name, SKIFF_CFG_NAME, "%s", name);
	return &c->ifaces[c->nifaces++];
}

static int section(struct ctx *x, char *s)
{
	size_t n = strlen(s);
	char *name;
	if (n < 2 || s[n - 1] != ']')
		return fail(x, "bad section header '%s' (want [stack], [offload] or [interface NAME])", s);
	s[n - 1] = 0;
	s++;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	if (!strcmp(s, "stack")) {
		x->sect = S_STACK;
		return 0;
	}
	if (!strcmp(s, "offload")) {
		x->sect = S_OFFLOAD;
		return 0;
	}
	if (!strcmp(s, "interface"))
		return fail(x, "bad interface name in [interface] (want [interface NAME])");
	if (strncmp(s, "interface", 9) || !isspace((unsigned char)s[9]))
		return fail(x, "unknown section [%s] (want [stack], [offload] or [interface NAME])", s);
	name = s + 9;
	while (isspace((unsigned char)*name))
		name++;
	if (!*name || strlen(name) >= SKIFF_CFG_NAME || strpbrk(name, " \t"))
		return fail(x, "bad interface name in [%s]", s);
	{
		unsigned idx;
		struct skiff_cfg_iface *f = iface_named(x->c, name, &idx);
		if (!f)
			return fail(x, "more than %d interfaces", SKIFF_CFG_IFACES);
		if (x->seen[idx])
			return fail(x, "[interface %s] appears twice", name);
		x->seen[idx] = true;
		x->ifc = f;
	}
	x->sect = S_IFACE;
	return 0;
}

static int parse_line(struct ctx *x, char *s)
{
	char *eq, *key, *val;
	size_t n;
	/* comments: '#' or ';' at the start or after a blank */
	for (char *p = s; *p; p++) {
		if ((*p == '#' || *p == ';') && (p == s || isspace((unsigned char)p[-1]))) {
			*p = 0;
			break;
		}
	}
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	if (!n)
		return 0;
	if (*s == '[')
		return section(x, s);
	eq = strchr(s, '=');
	if (!eq)
		return fail(x, "want key = value, got '%s'", s);
	*eq = 0;
	key = s;
	val = eq + 1;
	n = strlen(key);
	while (n && isspace((unsigned char)key[n - 1]))
		key[--n] = 0;
	while (isspace((unsigned char)*val))
		val++;
	if (!*key)
		return fail(x, "missing key before '='");
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	switch (x->sect) {
	case S_STACK: return set_stack(x, key, val);
	case S_OFFLOAD: return set_offload(x, key, val);
	case S_IFACE: return set_iface(x, key, val);
	default: return fail(x, "'%s' outside a section", key);
	}
}

int skiff_config_parse(struct skiff_config *c, const char *text, const char *origin, char *err, size_t errlen)
{
	struct ctx x = { .c = c, .origin = origin ? origin : "config", .err = err, .errlen = errlen };
	const char *p = text;
	while (*p) {
		char line[LINE_MAX_LEN];
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int rc;
		x.line++;
		if (n >= sizeof(line))
			return fail(&x, "line longer than %d characters", LINE_MAX_LEN - 1);
		memcpy(line, p, n);
		line[n] = 0;
		if (memchr(line, 0, n))
			return fail(&x, "NUL byte in line");
		rc = parse_line(&x, line);
		if (rc)
			return rc;
		p = nl ? nl + 1 : p + n;
	}
	return 0;
}

int skiff_config_load(struct skiff_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;
	int rc;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return rc;
	}
	if (len > (1 << 20)) {
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		fclose(f);
		return -EFBIG;
	}
	buf = malloc((size_t)len + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		rc = ferror(f) ? -EIO : -EINVAL;
		snprintf(err, errlen, "%s: short read", path);
		free(buf);
		fclose(f);
		return rc;
	}
	fclose(f);
	buf[len] = 0;
	if (memchr(buf, 0, (size_t)len)) {
		snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
		free(buf);
		return -EINVAL;
	}
	rc = skiff_config_parse(c, buf, path, err, errlen);
	free(buf);
	return rc;
}

/* One setting from the environment: section header and "key = value", with
 * errors naming the variable (origin) and no line number. */
static int env_setting(struct skiff_config *c, const char *sect, const char *kv, const char *origin, char *err,
		       size_t errlen)
{
	struct ctx x = { .c = c, .origin = origin, .err = err, .errlen = errlen };
	char sbuf[96], line[LINE_MAX_LEN];
	int rc;
	snprintf(sbuf, sizeof(sbuf), "%s", sect);
	snprintf(line, sizeof(line), "%s", kv);
	rc = section(&x, sbuf);
	return rc ? rc : parse_line(&x, line);
}

int skiff_config_env(struct skiff_config *c, char *err, size_t errlen)
{
	static const char *const iface_keys[] = { "DRIVER", "ADDRESS", "GATEWAY", "QUEUES", "XDP_MODE", "DPDK_EAL",
						  "DPDK_PORT", "ROUTE" };
	extern char **environ;
	char line[LINE_MAX_LEN], origin[96];
	const char *name;
	int rc;

	/* every SKIFF_STACK_<KEY> and SKIFF_OFFLOAD_<KEY> in the environment */
	for (char **e = environ; e && *e; e++) {
		const char *v = *e, *eq = strchr(v, '='), *key, *sect;
		size_t n;
		if (!eq)
			continue;
		if (!strncmp(v, "SKIFF_STACK_", 12))
			sect = "stack", key = v + 12;
		else if (!strncmp(v, "SKIFF_OFFLOAD_", 14))
			sect = "offload", key = v + 14;
		else
			continue;
		n = (size_t)(eq - key);
		if (n == 0 || n >= 64)
			continue;
		snprintf(origin, sizeof(origin), "environment %.*s", (int)(eq - v), v);
		snprintf(line, sizeof(line), "%.*s = %s", (int)n, key, eq + 1);
		rc = env_setting(c, sect[0] == 's' ? "[stack]" : "[offload]", line, origin, err, errlen);
		if (rc)
			return rc;
	}
	/* SKIFF_INTERFACE names the interface the other variables set */
	name = getenv("SKIFF_INTERFACE");
	if (!name)
		return 0;
	{
		unsigned idx;
		if (!*name || strlen(name) >= SKIFF_CFG_NAME || strpbrk(name, " \t[]")) {
			snprintf(err, errlen, "environment SKIFF_INTERFACE: bad interface name '%s'", name);
			return -EINVAL;
		}
		if (!iface_named(c, name, &idx)) {
			snprintf(err, errlen, "environment SKIFF_INTERFACE: more than %d interfaces", SKIFF_CFG_IFACES);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(iface_keys) / sizeof(iface_keys[0]); i++) {
			char var[64];
			const char *val;
			snprintf(var, sizeof(var), "SKIFF_%s", iface_keys[i]);
			val = getenv(var);
			if (!val)
				continue;
			/* an address or route from the environment replaces the file's list */
			if (!strcmp(iface_keys[i], "ADDRESS")) {
				c->ifaces[idx].naddrs = 0;
				c->ifaces[idx].naddrs6 = 0;
			}
			if (!strcmp(iface_keys[i], "ROUTE"))
				c->ifaces[idx].nroutes = 0;
			snprintf(origin, sizeof(origin), "environment %s", var);
			snprintf(line, sizeof(line), "%s = %s", iface_keys[i], val);
			{
				char sect[64];
				snprintf(sect, sizeof(sect), "[interface %s]", name);
				rc = env_setting(c, sect, line, origin, err, errlen);
			}
			if (rc)
				return rc;
		}
	}
	return 0;
}

int skiff_config_check(const struct skiff_config *c, char *err, size_t errlen)
{
	if (!c->nifaces) {
		snprintf(err, errlen, "no [interface] configured");
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->nifaces; i++) {
		const struct skiff_cfg_iface *f = &c->ifaces[i];
		if (f->driver == SKIFF_CFG_DRIVER_NONE) {
			snprintf(err, errlen, "interface %s: no driver (driver = afxdp or dpdk)", f->name);
			return -EINVAL;
		}
		if (!f->naddrs && !f->naddrs6) {
			snprintf(err, errlen, "interface %s: no address (address = A.B.C.D/LEN)", f->name);
			return -EINVAL;
		}
		if (f->driver == SKIFF_CFG_DRIVER_DPDK && !f->dpdk_port[0]) {
			snprintf(err, errlen, "interface %s: driver dpdk needs dpdk_port", f->name);
			return -EINVAL;
		}
	}
	if (c->stack.ephemeral_lo > c->stack.ephemeral_hi) {
		snprintf(err, errlen, "stack: ephemeral_lo %u above ephemeral_hi %u", c->stack.ephemeral_lo,
			 c->stack.ephemeral_hi);
		return -EINVAL;
	}
	return 0;
}

bool skiff_config_port_offloaded(const struct skiff_config *c, uint16_t port)
{
	for (unsigned i = 0; i < c->nports; i++)
		if (port >= c->ports[i].lo && port <= c->ports[i].hi)
			return true;
	return false;
}
