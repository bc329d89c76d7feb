/* sock_cmsg.c — control messages (RFC 3542 for IPv6, Linux ip(7) for IPv4) on
 * skiff's UDP sockets, byte for byte as Linux.
 *
 * Receive: sock_udp.c's recvmsg reads the head datagram's IP header facts
 *   (dataplane skiff_udp_rx_meta) → sock_cmsg_udp_rx picks the messages the
 *   socket asked for, in Linux's order:
 *     AF_INET6 socket: IPV6_PKTINFO (ip6_datagram_recv_common_ctl; v4-mapped for
 *       an IPv4 datagram), then for IPv6 IPV6_HOPLIMIT, IPV6_TCLASS
 *       (ip6_datagram_recv_specific_ctl) or for IPv4 the IPv4 set below
 *       (udpv6_recvmsg → ip_cmsg_recv_offset);
 *     AF_INET socket: IP_PKTINFO, IP_TTL, IP_TOS (ip_cmsg_recv_offset).
 *   → sock_cmsg_put writes each as put_cmsg: CMSG_LEN header, padded to
 *   CMSG_SPACE; short room → MSG_CTRUNC and a cut message (or none when even
 *   the header does not fit); msg_controllen ends as the bytes written.
 * Send: sock_cmsg_parse4/6 walk the buffer as udp_cmsg_send, then ip_cmsg_send
 *   (IPv4 destination) or ip6_datagram_send_ctl (IPv6): lengths first, then
 *   values, EINVAL for unknown types of the IP level; the first error is kept
 *   for udp_send to report after its destination checks. PKTINFO's interface
 *   and source are checked against the stack by sock_cmsg_check_pktinfo.
 */
#include "sock_cmsg.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/wire_ip6.h"
#include "fdtable.h"
#include "runtime.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef IPV6_2292PKTINFO
#define IPV6_2292PKTINFO 2
#define IPV6_2292HOPOPTS 3
#define IPV6_2292DSTOPTS 4
#define IPV6_2292RTHDR 5
#define IPV6_2292PKTOPTIONS 6
#define IPV6_2292HOPLIMIT 8
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif
#ifndef SO_TIMESTAMPING_OLD
#define SO_TIMESTAMPING_OLD 37
#endif

unsigned sock_cmsg_flag_of(int level, int name)
{
	if (level == SOL_IP)
		return name == IP_PKTINFO ? SOCK_CMSG_PKTINFO
		       : name == IP_RECVTTL ? SOCK_CMSG_TTL
		       : name == IP_RECVTOS ? SOCK_CMSG_TOS
					    : 0;
	if (level == SOL_IPV6)
		return name == IPV6_RECVPKTINFO ? SOCK_CMSG_PKTINFO6
		       : name == IPV6_RECVHOPLIMIT ? SOCK_CMSG_HOPLIMIT6
		       : name == IPV6_RECVTCLASS ? SOCK_CMSG_TCLASS6
						 : 0;
	return 0;
}

int sock_cmsg_setopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len)
{
	unsigned f = sock_cmsg_flag_of(level, name);
	struct skiff_udp_sock *sk = s->dp;
	int v = 0;

	if (!f || s->kind != SKIFF_FD_UDP || (level == SOL_IPV6 && s->domain != AF_INET6))
		return -ENOPROTOOPT;
	if (level == SOL_IPV6) {
		/* do_ipv6_setsockopt: a NULL value reads as 0; these need a whole int */
		if (val && len >= sizeof(int))
			memcpy(&v, val, sizeof(v));
		if (len < sizeof(int))
			return -EINVAL;
	} else if (len >= sizeof(int)) { /* do_ip_setsockopt: an int, one byte, or nothing (0) */
		if (!val)
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
	} else if (len >= 1) {
		if (!val)
			return -EFAULT;
		v = *(const unsigned char *)val;
	}
	rt_lock(s->rt, s->instance);
	sk->cmsg_flags = (uint16_t)(v ? sk->cmsg_flags | f : sk->cmsg_flags & ~f);
	rt_unlock(s->rt, s->instance);
	return 0;
}

int sock_cmsg_getopt(struct skiff_sock *s, int level, int name, void *val, socklen_t *lenp)
{
	unsigned f = sock_cmsg_flag_of(level, name);
	struct skiff_udp_sock *sk = s->dp;
	int len = (int)*lenp, v;

	if (!f || s->kind != SKIFF_FD_UDP || (level == SOL_IPV6 && s->domain != AF_INET6))
		return -ENOPROTOOPT;
	if (len < 0)
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	v = (sk->cmsg_flags & f) != 0;
	rt_unlock(s->rt, s->instance);
	if (len && !val)
		return -EFAULT;
	if (level == SOL_IP && len > 0 && len < (int)sizeof(int)) { /* do_ip_getsockopt: one byte */
		unsigned char uc = (unsigned char)v;
		memcpy(val, &uc, 1);
		*lenp = 1;
		return 0;
	}
	if (len > (int)sizeof(int))
		len = sizeof(int);
	memcpy(val, &v, (size_t)len);
	*lenp = (socklen_t)len;
	return 0;
}

/* ---- receive ---- */

void sock_cmsg_begin(struct sock_cmsg_out *o, struct msghdr *msg)
{
	o->msg = msg;
	o->used = 0;
}

/* Linux put_cmsg (net/core/scm.c). */
void sock_cmsg_put(struct sock_cmsg_out *o, int level, int type, const void *data, size_t len)
{
	struct msghdr *m = o->msg;
	size_t room = m->msg_controllen > o->used ? m->msg_controllen - o->used : 0;
	size_t cmlen = CMSG_LEN(len), adv = CMSG_SPACE(len);
	char *at = (char *)m->msg_control + o->used;
	struct cmsghdr h;

	if (!m->msg_control || room < sizeof(h)) {
		m->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		m->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	memset(&h, 0, sizeof(h));
	h.cmsg_level = level;
	h.cmsg_type = type;
	h.cmsg_len = cmlen;
	memcpy(at, &h, sizeof(h)); /* the caller's buffer need not be aligned */
	memcpy(at + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
	o->used += adv < room ? adv : room;
}

void sock_cmsg_end(struct sock_cmsg_out *o) { o->msg->msg_controllen = o->used; }

/* ip_cmsg_recv_offset: IP_PKTINFO, IP_TTL, IP_TOS (the flags skiff has). */
static void udp_rx4(struct sock_cmsg_out *o, unsigned flags, const struct skiff_udp_rxmeta *m, uint32_t kifindex,
		    uint32_t spec_dst)
{
	if (flags & SOCK_CMSG_PKTINFO) {
		struct in_pktinfo pi;
		memset(&pi, 0, sizeof(pi));
		pi.ipi_ifindex = (int)kifindex;
		pi.ipi_spec_dst.s_addr = htonl(spec_dst);
		pi.ipi_addr.s_addr = htonl(m->dst.v4);
		sock_cmsg_put(o, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (flags & SOCK_CMSG_TTL) {
		int ttl = m->ttl;
		sock_cmsg_put(o, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
	}
	if (flags & SOCK_CMSG_TOS)
		sock_cmsg_put(o, SOL_IP, IP_TOS, &m->tos, 1); /* one byte, as Linux */
}

void sock_cmsg_udp_rx(struct sock_cmsg_out *o, int domain, unsigned flags, const struct skiff_udp_rxmeta *m,
		      uint32_t kifindex, uint32_t spec_dst)
{
	if (domain != AF_INET6) {
		udp_rx4(o, flags, m, kifindex, spec_dst);
		return;
	}
	if (flags & SOCK_CMSG_PKTINFO6) { /* RFC 3542 6.1 */
		struct in6_pktinfo pi;
		memset(&pi, 0, sizeof(pi));
		if (m->v6)
			memcpy(pi.ipi6_addr.s6_addr, m->dst.v6, 16);
		else
			ip6_make_v4mapped(m->dst.v4, pi.ipi6_addr.s6_addr);
		pi.ipi6_ifindex = kifindex;
		sock_cmsg_put(o, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	if (!m->v6) {
		udp_rx4(o, flags, m, kifindex, spec_dst); /* an IPv4 datagram: SOL_IP's set only */
		return;
	}
	if (flags & SOCK_CMSG_HOPLIMIT6) { /* RFC 3542 6.3 */
		int hl = m->ttl;
		sock_cmsg_put(o, SOL_IPV6, IPV6_HOPLIMIT, &hl, sizeof(hl));
	}
	if (flags & SOCK_CMSG_TCLASS6) { /* RFC 3542 6.5 */
		int tc = m->tos;
		sock_cmsg_put(o, SOL_IPV6, IPV6_TCLASS, &tc, sizeof(tc));
	}
}

/* ---- send ---- */

static bool cmsg_ok(const struct msghdr *msg, const struct cmsghdr *cm)
{
	size_t off = (size_t)((const char *)cm - (const char *)msg->msg_control);
	return cm->cmsg_len >= sizeof(*cm) && cm->cmsg_len <= msg->msg_controllen - off; /* CMSG_OK */
}

static int int_of(const struct cmsghdr *cm)
{
	int v;
	memcpy(&v, CMSG_DATA(cm), sizeof(v));
	return v;
}

/* ____sys_sendmsg's buffer checks, then udp_cmsg_send. 1: IP-level messages
 * follow, 0: none, -errno. */
static int parse_common(const struct msghdr *msg, struct sock_cmsg_tx *c)
{
	bool need_ip = false;

	memset(c, 0, sizeof(*c));
	c->ttl = c->tos = c->hlimit = c->tclass = c->dontfrag = -1;
	if (msg->msg_controllen == 0)
		return 0;
	if (msg->msg_controllen > INT_MAX)
		return -ENOBUFS;
	if (!msg->msg_control)
		return -EFAULT;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (!cmsg_ok(msg, cm))
			return -EINVAL;
		if (cm->cmsg_level != SOL_UDP) {
			need_ip = true;
			continue;
		}
		if (cm->cmsg_type != UDP_SEGMENT || cm->cmsg_len != CMSG_LEN(sizeof(uint16_t)))
			return -EINVAL; /* __udp_cmsg_send */
		return -EOPNOTSUPP; /* UDP GSO: not in skiff */
	}
	return need_ip;
}

/* __sock_cmsg_send */
static int sol_socket(const struct cmsghdr *cm)
{
	switch (cm->cmsg_type) {
	case SCM_RIGHTS:
	case SCM_CREDENTIALS:
		return 0; /* ignored on inet sockets */
	case SO_MARK:
	case SO_TIMESTAMPING_OLD:
	case SCM_TXTIME:
		return -EOPNOTSUPP; /* valid in Linux, not supported by skiff */
	default:
		return -EINVAL;
	}
}

/* ip_cmsg_send */
static int parse4(const struct msghdr *msg, bool allow_ipv6, struct sock_cmsg_tx *c)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		int v;
		if (!cmsg_ok(msg, cm))
			return -EINVAL;
		if (allow_ipv6 && cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			if (cm->cmsg_len < CMSG_LEN(sizeof(pi)))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (!ip6_is_v4mapped(pi.ipi6_addr.s6_addr))
				return -EINVAL;
			if (pi.ipi6_ifindex)
				c->oif = pi.ipi6_ifindex;
			c->src = skiff_addr_v4(ip6_v4mapped_addr(pi.ipi6_addr.s6_addr));
			continue;
		}
		if (cm->cmsg_level == SOL_SOCKET) {
			int e = sol_socket(cm);
			if (e)
				return e;
			continue;
		}
		if (cm->cmsg_level != SOL_IP)
			continue;
		switch (cm->cmsg_type) {
		case IP_PKTINFO: {
			struct in_pktinfo pi;
			if (cm->cmsg_len != CMSG_LEN(sizeof(pi)))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (pi.ipi_ifindex)
				c->oif = (uint32_t)pi.ipi_ifindex;
			c->src = skiff_addr_v4(ntohl(pi.ipi_spec_dst.s_addr));
			break;
		}
		case IP_TTL:
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			v = int_of(cm);
			if (v < 1 || v > 255)
				return -EINVAL;
			c->ttl = v;
			break;
		case IP_TOS:
			if (cm->cmsg_len == CMSG_LEN(sizeof(int)))
				v = int_of(cm);
			else if (cm->cmsg_len == CMSG_LEN(sizeof(uint8_t)))
				v = *(const uint8_t *)CMSG_DATA(cm);
			else
				return -EINVAL;
			if (v < 0 || v > 255)
				return -EINVAL;
			c->tos = v;
			break;
		case IP_PROTOCOL: /* raw sockets' only; a UDP socket checks and ignores it */
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			v = int_of(cm);
			if (v < 1 || v > 255)
				return -EINVAL;
			break;
		case IP_RETOPTS:
			return -EOPNOTSUPP; /* IP options: not in skiff */
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* ip6_datagram_send_ctl (RFC 3542 6) */
static int parse6(const struct msghdr *msg, struct sock_cmsg_tx *c)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		int v;
		if (!cmsg_ok(msg, cm))
			return -EINVAL;
		if (cm->cmsg_level == SOL_SOCKET) {
			int e = sol_socket(cm);
			if (e)
				return e;
			continue;
		}
		if (cm->cmsg_level != SOL_IPV6)
			continue;
		switch (cm->cmsg_type) {
		case IPV6_PKTINFO:
		case IPV6_2292PKTINFO: {
			struct in6_pktinfo pi;
			if (cm->cmsg_len < CMSG_LEN(sizeof(pi)))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (pi.ipi6_ifindex)
				c->oif = pi.ipi6_ifindex;
			c->src = ip6_addr_make(pi.ipi6_addr.s6_addr);
			break;
		}
		case IPV6_FLOWINFO: {
			uint32_t fi;
			if (cm->cmsg_len < CMSG_LEN(sizeof(fi)))
				return -EINVAL;
			memcpy(&fi, CMSG_DATA(cm), sizeof(fi));
			if (ntohl(fi) & 0x000FFFFFu)
				return -EOPNOTSUPP; /* flow labels (RFC 6437): not in skiff */
			break;
		}
		case IPV6_2292HOPOPTS:
		case IPV6_HOPOPTS:
		case IPV6_2292DSTOPTS:
		case IPV6_DSTOPTS:
		case IPV6_RTHDRDSTOPTS:
		case IPV6_2292RTHDR:
		case IPV6_RTHDR:
			return -EOPNOTSUPP; /* extension headers on send: not in skiff */
		case IPV6_2292HOPLIMIT:
		case IPV6_HOPLIMIT:
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			v = int_of(cm);
			if (v < -1 || v > 255)
				return -EINVAL;
			c->hlimit = v;
			break;
		case IPV6_TCLASS:
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			v = int_of(cm);
			if (v < -1 || v > 255)
				return -EINVAL;
			c->tclass = v;
			break;
		case IPV6_DONTFRAG:
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			v = int_of(cm);
			if (v < 0 || v > 1)
				return -EINVAL;
			c->dontfrag = v;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

void sock_cmsg_parse4(const struct msghdr *msg, bool allow_ipv6, struct sock_cmsg_tx *c)
{
	int rc = parse_common(msg, c);
	if (rc > 0)
		rc = parse4(msg, allow_ipv6, c);
	c->rc = rc;
}

void sock_cmsg_parse6(const struct msghdr *msg, struct sock_cmsg_tx *c)
{
	int rc = parse_common(msg, c);
	if (rc > 0)
		rc = parse6(msg, c);
	c->rc = rc;
}

int sock_cmsg_check_pktinfo(struct skiff_stack *st, const struct sock_cmsg_tx *c, int oif)
{
	if (c->oif && oif < 0)
		return -ENODEV; /* dev_get_by_index found nothing */
	if (c->src.family == SKIFF_AF_INET6 && !ip6_is_unspecified(c->src.v6)) {
		bool ll = ip6_is_link_local(c->src.v6);
		if (ll && oif < 0)
			return -EINVAL; /* a link-local source needs its interface */
		/* ipv6_chk_addr_and_flags: strict (on oif) for link-local, any interface
		 * otherwise; tentative addresses are not ours yet (RFC 4862 5.4) */
		if (skiff_stack_local6(st, c->src.v6, ll ? oif : -1, true) < 0)
			return -EINVAL;
	}
	if (c->src.family == SKIFF_AF_INET && c->src.v4) { /* ip_route_output_key_hash_rcu */
		uint32_t a = c->src.v4;
		if ((a >> 28) == 0xe || a == 0xffffffffu || (a >> 24) == 0)
			return -EINVAL; /* multicast, limited broadcast, 0/8 */
		if (skiff_stack_local4(st, a) < 0)
			return -ENETUNREACH; /* not one of ours */
	}
	return 0;
}
