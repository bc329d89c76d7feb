/* boot.h — bring a configuration to life: open every [interface] of a struct
 * skiff_config on its driver, one stack with those interfaces, addresses (also
 * registered with the XDP steering program), gateway and routes, the in-stack
 * loopback for 127/8 when [offload] loopback is on (its own frame pool, MTU
 * 1500), a runtime with the stack attached, busy-poll time and the progress
 * thread as configured.
 * What `skiff run`, the preload library and `skiff-echo --config` start from.
 *
 * A failure closes whatever was opened and says which interface and what in
 * err (one line); 0 or -errno. DPDK's EAL is per process: the EAL arguments of
 * the first dpdk interface are used. The devices are closed (XDP programs
 * detached) by skiff_boot_close.
 */
#ifndef SKIFF_SOCKETAPI_BOOT_H
#define SKIFF_SOCKETAPI_BOOT_H

#include <stddef.h>

#include "config.h"

struct skiff_rt;
struct skiff_stack;
struct skiff_dev;
struct skiff_mempool;

struct skiff_boot {
	struct skiff_rt *rt;
	struct skiff_stack *st;
	int instance;
	unsigned ndevs;
	struct skiff_dev *devs[SKIFF_CFG_IFACES];
	void *steer[SKIFF_CFG_IFACES]; /* afxdp: the steering program, else NULL */
	struct skiff_mempool *lo_pool; /* [offload] loopback: frames of the in-stack loopback, else NULL */
};

int skiff_boot_open(const struct skiff_config *c, struct skiff_boot **out, char *err, size_t errlen);
/* Just the device of one [interface] (and its steering program, afxdp). */
int skiff_boot_open_dev(const struct skiff_cfg_iface *f, struct skiff_dev **dev, void **steer, char *err,
			size_t errlen);
void skiff_boot_close(struct skiff_boot *b);
/* At process exit (the preload's atexit): stop the progress thread, take every
 * instance lock for good, close the devices (XDP programs detached, DPDK ports
 * closed). The runtime and stack stay allocated for the process teardown, so a
 * thread of the program still inside a skiff call blocks on a lock instead of
 * touching freed memory while exit() runs. */
void skiff_boot_exit(struct skiff_boot *b);

#endif
