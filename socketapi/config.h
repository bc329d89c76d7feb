/* config.h — skiff's configuration: one file plus SKIFF_* environment overrides
 * (DESIGN.md "Configuration and operation"), parsed into struct skiff_config,
 * which says what to open (interfaces, drivers, addresses, routes) and how the
 * stacks and the socket layer behave. Nothing here opens a device.
 *
 * File format (INI-like, one setting per line, '#' or ';' start a comment):
 *
 *   [interface vA]            # a kernel interface name (afxdp), or a label (dpdk)
 *   driver = afxdp            # afxdp | dpdk
 *   queues = 0                # afxdp rx queues: N or N-M (default 0)
 *   xdp_mode = auto           # afxdp: auto | copy | skb
 *   address = 198.18.0.2/24   # repeatable (up to SKIFF_CFG_ADDRS of each family)
 *   address = 2001:2::2/64    # IPv6 too: turns IPv6 on (link-local, DAD, ND, RS)
 *   gateway = 198.18.0.1      # default route through this interface (IPv4 and/or IPv6)
 *   ipv6 = on                 # on | off (default: on when an IPv6 address is given)
 *   route = 198.18.5.0/24 via 198.18.0.1   # repeatable
 *   dpdk_eal = --no-huge -m 512 --vdev=net_af_xdp0,iface=vA
 *   dpdk_port = net_af_xdp0
 *
 *   [stack]                   # any struct skiff_stack_config field by name, and:
 *   tcp_rcvbuf = 131072       # numbers take k/m/g suffixes (x1024); times take ns/us/ms/s
 *   busy_poll_us = 50         # socket layer: busy-poll before sleeping
 *   progress_thread = on      # on | off
 *
 *   [offload]
 *   ports = 80, 5201, 9000-9100  # INADDR_ANY binds of these ports go to skiff
 *   loopback = off            # serve 127.0.0.0/8 on skiff inside the process
 *
 * Environment (applied after the file, each one line of the same syntax):
 *   SKIFF_STACK_<KEY>, SKIFF_OFFLOAD_<KEY>   e.g. SKIFF_STACK_TCP_RCVBUF=262144
 *   SKIFF_INTERFACE=NAME with SKIFF_DRIVER, SKIFF_ADDRESS, SKIFF_GATEWAY,
 *   SKIFF_QUEUES, SKIFF_DPDK_EAL, SKIFF_DPDK_PORT — set or override interface NAME.
 *
 * Errors: -EINVAL with one line in err ("skiff.conf:12: unknown key 'tcp_rcvbf' in
 * [stack]"); the config is then not to be used. Nothing is allocated.
 */
#ifndef SKIFF_SOCKETAPI_CONFIG_H
#define SKIFF_SOCKETAPI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/stack.h"

#define SKIFF_CFG_IFACES SKIFF_MAX_IFACES
#define SKIFF_CFG_ADDRS 8
#define SKIFF_CFG_ROUTES 16
#define SKIFF_CFG_PORT_RANGES 32
#define SKIFF_CFG_NAME 32
#define SKIFF_CFG_STR 512
#define SKIFF_CFG_ERR 256

enum skiff_cfg_driver { SKIFF_CFG_DRIVER_NONE, SKIFF_CFG_DRIVER_AFXDP, SKIFF_CFG_DRIVER_DPDK };
enum skiff_cfg_xdp_mode { SKIFF_CFG_XDP_AUTO, SKIFF_CFG_XDP_COPY, SKIFF_CFG_XDP_SKB };

struct skiff_cfg_addr4 {
	uint32_t addr; /* host order */
	uint8_t plen;
};

struct skiff_cfg_addr6 {
	uint8_t addr[16];
	uint8_t plen;
};

struct skiff_cfg_route4 {
	uint32_t dst, via; /* host order */
	uint8_t plen;
};

struct skiff_cfg_iface {
	char name[SKIFF_CFG_NAME];
	enum skiff_cfg_driver driver;
	unsigned queue_lo, queue_hi;
	enum skiff_cfg_xdp_mode xdp_mode;
	struct skiff_cfg_addr4 addrs[SKIFF_CFG_ADDRS];
	unsigned naddrs;
	uint32_t gateway; /* 0: none */
	struct skiff_cfg_addr6 addrs6[SKIFF_CFG_ADDRS];
	unsigned naddrs6;
	uint8_t gateway6[16];   /* :: none */
	int ipv6;               /* -1: on when an IPv6 address is configured; 0 off; 1 on */
	struct skiff_cfg_route4 routes[SKIFF_CFG_ROUTES];
	unsigned nroutes;
	char dpdk_eal[SKIFF_CFG_STR];
	char dpdk_port[SKIFF_CFG_NAME];
};

struct skiff_config {
	struct skiff_stack_config stack;
	unsigned busy_poll_us;
	bool progress_thread;
	bool loopback;
	struct {
		uint16_t lo, hi;
	} ports[SKIFF_CFG_PORT_RANGES];
	unsigned nports;
	struct skiff_cfg_iface ifaces[SKIFF_CFG_IFACES];
	unsigned nifaces;
};

/* Defaults: the stack's, busy poll 50 us, progress thread on, no interface. */
void skiff_config_defaults(struct skiff_config *c);

/* Parse text (NUL-terminated) into c on top of what it holds; `origin` names it
 * in error messages. 0, or -EINVAL with one line in err. */
int skiff_config_parse(struct skiff_config *c, const char *text, const char *origin, char *err, size_t errlen);

/* Read and parse a file: 0, -errno of the read (with err), or -EINVAL. */
int skiff_config_load(struct skiff_config *c, const char *path, char *err, size_t errlen);

/* Apply the SKIFF_* variables of the environment (after the file). */
int skiff_config_env(struct skiff_config *c, char *err, size_t errlen);

/* What makes a config usable: at least one interface, each with a driver and an
 * address (dpdk: a port). 0, or -EINVAL with the reason in err. */
int skiff_config_check(const struct skiff_config *c, char *err, size_t errlen);

/* Does an INADDR_ANY bind of this port go to skiff? */
bool skiff_config_port_offloaded(const struct skiff_config *c, uint16_t port);

#endif
