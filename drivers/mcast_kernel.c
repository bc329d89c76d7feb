/* mcast_kernel.c — the kernel's joins and the steering entries for skiff's
 * multicast groups on an AF_XDP interface (why: mcast_kernel.h).
 *
 * set: groups no longer wanted → close their socket (the kernel leaves) and
 * remove the steering entry; new groups → a UDP socket of the family joins
 * the group on the interface index, then the steering entry is added (joined
 * first, so the kernel's report is not racing a frame skiff cannot yet take).
 */
#include "mcast_kernel.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xdp_steer.h"

struct kgroup {
	uint8_t family;
	uint8_t addr[16];
	int fd;
};

struct skiff_mcast_kernel {
	unsigned n;
	struct kgroup g[SKIFF_DEV_MCAST_MAX];
};

static bool same(const struct kgroup *k, const struct skiff_dev_mcast *g)
{
	return k->family == g->family && memcmp(k->addr, g->addr, g->family == 4 ? 4 : 16) == 0;
}

static void steer(struct skiff_xdp_steer *s, const struct kgroup *k, bool add)
{
	uint32_t a;
	static const uint8_t sol_node[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	if (!s)
		return;
	if (k->family == 6 && memcmp(k->addr, sol_node, sizeof(sol_node)) == 0)
		return; /* a solicited-node group (ff02::1:ff00:0/104) of skiff's addresses: joined on the kernel
			 * side for the switch and the NIC filter; the program steers NS by target already */
	if (k->family == 4) {
		memcpy(&a, k->addr, 4);
		if (add)
			(void)skiff_xdp_steer_add_ip4(s, ntohl(a));
		else
			(void)skiff_xdp_steer_del_ip4(s, ntohl(a));
	} else if (add) {
		(void)skiff_xdp_steer_add_ip6(s, k->addr);
	} else {
		(void)skiff_xdp_steer_del_ip6(s, k->addr);
	}
}

static int kjoin(struct kgroup *k, unsigned ifindex)
{
	int fd, rc;
	if (k->family == 4) {
		struct ip_mreqn m;
		memset(&m, 0, sizeof(m));
		memcpy(&m.imr_multiaddr, k->addr, 4);
		m.imr_ifindex = (int)ifindex;
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
	} else {
		struct ipv6_mreq m;
		memcpy(&m.ipv6mr_multiaddr, k->addr, 16);
		m.ipv6mr_interface = ifindex;
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
	}
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	k->fd = fd;
	return 0;
}

int skiff_mcast_kernel_set(struct skiff_mcast_kernel **mkp, const char *ifname, struct skiff_xdp_steer *s,
			   const struct skiff_dev_mcast *groups, unsigned n)
{
	struct skiff_mcast_kernel *mk = *mkp;
	unsigned ifindex = if_nametoindex(ifname);
	int first = 0;

	if (!ifindex)
		return -ENODEV;
	if (!mk) {
		if (n == 0)
			return 0;
		mk = *mkp = calloc(1, sizeof(*mk));
		if (!mk)
			return -ENOMEM;
	}
	/* leave what is gone */
	for (unsigned i = 0; i < mk->n;) {
		bool keep = false;
		for (unsigned j = 0; j < n && !keep; j++)
			keep = same(&mk->g[i], &groups[j]);
		if (keep) {
			i++;
			continue;
		}
		steer(s, &mk->g[i], false);
		close(mk->g[i].fd);
		mk->g[i] = mk->g[--mk->n];
	}
	/* join what is new */
	for (unsigned j = 0; j < n; j++) {
		bool have = false;
		struct kgroup *k;
		int rc;
		for (unsigned i = 0; i < mk->n && !have; i++)
			have = same(&mk->g[i], &groups[j]);
		if (have || mk->n == SKIFF_DEV_MCAST_MAX)
			continue;
		k = &mk->g[mk->n];
		memset(k, 0, sizeof(*k));
		k->family = groups[j].family;
		memcpy(k->addr, groups[j].addr, 16);
		rc = kjoin(k, ifindex);
		if (rc < 0) {
			if (!first)
				first = rc;
			continue;
		}
		mk->n++;
		steer(s, k, true);
	}
	return first;
}

void skiff_mcast_kernel_close(struct skiff_mcast_kernel *mk, struct skiff_xdp_steer *s)
{
	if (!mk)
		return;
	for (unsigned i = 0; i < mk->n; i++) {
		steer(s, &mk->g[i], false);
		close(mk->g[i].fd);
	}
	free(mk);
}
