/* sock_packet_int.h — what sock_packet.c (sockets, data) and sock_packet_opts.c
 * (options, the TPACKET_V3 ring, mmap) share. Internal to socketapi/. */
#ifndef SKIFF_SOCKETAPI_SOCK_PACKET_INT_H
#define SKIFF_SOCKETAPI_SOCK_PACKET_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dataplane/packet.h"
#include "dataplane/packet_ring.h"
#include "dataplane/stack.h"
#include "fdtable.h"

#define PK_OPTS 16
#define PK_OPT_LEN 32

struct pk_opt {
	int level, name;
	socklen_t len;
	unsigned char val[PK_OPT_LEN];
};

struct pk_state {
	atomic_bool attached;
	uint16_t proto_be;           /* po->num */
	int kif;                     /* bound kernel ifindex, 0: none */
	int sif;                     /* bound skiff interface, -1: all / none */
	int kifmap[SKIFF_MAX_IFACES];/* kernel ifindex of each skiff interface */
	bool auxdata;
	struct skiff_packet_sock *pk;/* under the instance lock */
	/* options given while pending, replayed at adoption */
	unsigned nopts;
	struct pk_opt opts[PK_OPTS];
	struct sock_filter *pend_filter;
	unsigned pend_flen;
	/* the TPACKET_V3 ring: skiff's memfd, mapped here and by the program */
	int memfd;
	void *map;
	size_t maplen;
	struct skiff_pkt_ring ring;
};

static inline struct pk_state *st_of(const struct skiff_sock *s) { return s->dp; }

/* fd's packet-socket entry (pending or skiff's) with a reference, or NULL. */
struct skiff_fd *pk_get(int fd);
/* The skiff interface whose name is kernel ifindex kif's, or -1. */
int pk_sif_of_kif(struct skiff_sock *s, int kif);
/* SO_RCVBUF of the reserved kernel socket (its doubling and clamping). */
int pk_kernel_rcvbuf(int fd);
/* An option on a skiff (attached) packet socket; 0 or -errno. */
int pk_apply_opt(int fd, struct skiff_sock *s, int level, int name, const void *val, socklen_t len);

#endif
