/* loop_world.h — the native-API unit tests' world (test_socketapi.c,
 * test_socktcp.c, test_sockfd.c): one loop device pair, stack A 198.18.0.1/24
 * on one end, stack B 198.18.0.2/24 on the other, one runtime with both as
 * instances 0 and 1 (one lock group: a loop pair frees received frames into the
 * peer's pool). Plus the helpers every such test uses. Include after cmocka.h;
 * everything is static (one world per test program).
 */
#ifndef SKIFF_TESTS_LOOP_WORLD_H
#define SKIFF_TESTS_LOOP_WORLD_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"

#define IP_A 0xc6120001u /* 198.18.0.1 */
#define IP_B 0xc6120002u /* 198.18.0.2 */

struct world {
	struct skiff_dev *da, *db;
	struct skiff_stack *sa, *sb;
	struct skiff_rt *rt;
	int ia, ib;
};
static struct world W;

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define assert_err(call, e)                         \
	do {                                        \
		errno = 0;                          \
		assert_int_equal((long)(call), -1); \
		assert_int_equal(errno, (e));       \
	} while (0)

/* Build W with the stacks seeded seed_a / seed_b; gratuitous ARPs out. */
static inline void loop_world_up(uint64_t seed_a, uint64_t seed_b)
{
	struct skiff_stack_config cfg;
	int ifa, ifb;

	assert_int_equal(skiff_loop_pair(NULL, &W.da, &W.db), 0);
	skiff_stack_config_defaults(&cfg);
	cfg.seed = seed_a;
	assert_int_equal(skiff_stack_create(&cfg, mono_ns(), &W.sa), 0);
	cfg.seed = seed_b;
	assert_int_equal(skiff_stack_create(&cfg, mono_ns(), &W.sb), 0);
	ifa = skiff_stack_add_iface(W.sa, "loop0", W.da->mac, W.da->mtu, W.da->caps, skiff_dev_pool(W.da));
	ifb = skiff_stack_add_iface(W.sb, "loop1", W.db->mac, W.db->mtu, W.db->caps, skiff_dev_pool(W.db));
	assert_int_equal(ifa, 0);
	assert_int_equal(ifb, 0);
	assert_int_equal(skiff_stack_add_addr4(W.sa, ifa, IP_A, 24, mono_ns()), 0);
	assert_int_equal(skiff_stack_add_addr4(W.sb, ifb, IP_B, 24, mono_ns()), 0);
	assert_int_equal(skiff_rt_create(&W.rt), 0);
	W.ia = skiff_rt_attach(W.rt, W.sa, &W.da, 1);
	W.ib = skiff_rt_attach(W.rt, W.sb, &W.db, 1);
	assert_int_equal(W.ia, 0);
	assert_int_equal(W.ib, 1);
	assert_true(skiff_rt_progress(W.rt) >= 0);
}

static inline void loop_world_down(void)
{
	skiff_rt_destroy(W.rt);
	skiff_stack_destroy(W.sa);
	skiff_stack_destroy(W.sb);
	skiff_dev_close(W.da);
	skiff_dev_close(W.db);
}

static inline struct sockaddr_in sin4(uint32_t ip, uint16_t port)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	s.sin_addr.s_addr = htonl(ip);
	return s;
}

/* SO_RCVTIMEO / SO_SNDTIMEO in ms: a broken test fails instead of hanging. */
static inline void set_timeo_ms(int fd, int name, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	assert_int_equal(skiff_setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)), 0);
}

#endif
