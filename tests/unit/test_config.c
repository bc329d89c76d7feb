/* test_config.c — the config file and SKIFF_* overrides (socketapi/config.c):
 * a full file parsed into every field, units and suffixes, each error with its
 * line and a message naming the problem, the environment on top of a file, the
 * usability check, loading from disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socketapi/config.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static struct skiff_config C;
static char E[SKIFF_CFG_ERR];

static int parse(const char *text)
{
	skiff_config_defaults(&C);
	E[0] = 0;
	return skiff_config_parse(&C, text, "t.conf", E, sizeof(E));
}

static void test_full_file(void **state)
{
	(void)state;
	assert_int_equal(parse("# skiff\n"
			       "[interface vA]   ; the veth end\n"
			       "driver = afxdp\n"
			       "queues = 0-3\n"
			       "xdp_mode = copy\n"
			       "address = 198.18.0.2/24\n"
			       "address = 198.18.1.2/16\n"
			       "gateway = 198.18.0.1\n"
			       "route = 198.18.5.0/24 via 198.18.0.254\n"
			       "\n"
			       "[interface dp0]\n"
			       "driver = dpdk\n"
			       "dpdk_eal = --no-huge -m 512 --vdev=net_af_xdp0,iface=vB\n"
			       "dpdk_port = net_af_xdp0\n"
			       "address = 198.18.2.2/24\n"
			       "[stack]\n"
			       "TCP_RCVBUF = 256k\n"
			       "tcp_rack = off\n"
			       "arp_retrans_ns = 2s\n"
			       "default_ttl = 32\n"
			       "busy_poll_us = 1ms\n"
			       "progress_thread = no\n"
			       "[offload]\n"
			       "ports = 80, 5201 9000-9100\n"
			       "loopback = on\n"),
			 0);
	assert_int_equal(C.nifaces, 2);
	assert_string_equal(C.ifaces[0].name, "vA");
	assert_int_equal(C.ifaces[0].driver, SKIFF_CFG_DRIVER_AFXDP);
	assert_int_equal(C.ifaces[0].queue_lo, 0);
	assert_int_equal(C.ifaces[0].queue_hi, 3);
	assert_int_equal(C.ifaces[0].xdp_mode, SKIFF_CFG_XDP_COPY);
	assert_int_equal(C.ifaces[0].naddrs, 2);
	assert_int_equal(C.ifaces[0].addrs[0].addr, IP(198, 18, 0, 2));
	assert_int_equal(C.ifaces[0].addrs[0].plen, 24);
	assert_int_equal(C.ifaces[0].addrs[1].plen, 16);
	assert_int_equal(C.ifaces[0].gateway, IP(198, 18, 0, 1));
	assert_int_equal(C.ifaces[0].nroutes, 1);
	assert_int_equal(C.ifaces[0].routes[0].dst, IP(198, 18, 5, 0));
	assert_int_equal(C.ifaces[0].routes[0].plen, 24);
	assert_int_equal(C.ifaces[0].routes[0].via, IP(198, 18, 0, 254));
	assert_int_equal(C.ifaces[1].driver, SKIFF_CFG_DRIVER_DPDK);
	assert_string_equal(C.ifaces[1].dpdk_eal, "--no-huge -m 512 --vdev=net_af_xdp0,iface=vB");
	assert_string_equal(C.ifaces[1].dpdk_port, "net_af_xdp0");
	assert_int_equal(C.stack.tcp_rcvbuf, 262144);
	assert_false(C.stack.tcp_rack);
	assert_int_equal(C.stack.arp_retrans_ns, 2000000000ull);
	assert_int_equal(C.stack.default_ttl, 32);
	assert_int_equal(C.stack.tcp_sndbuf, 262144); /* untouched: the default */
	assert_int_equal(C.busy_poll_us, 1000);
	assert_false(C.progress_thread);
	assert_true(C.loopback);
	assert_int_equal(C.nports, 3);
	assert_true(skiff_config_port_offloaded(&C, 80));
	assert_true(skiff_config_port_offloaded(&C, 9050));
	assert_false(skiff_config_port_offloaded(&C, 81));
	assert_false(skiff_config_port_offloaded(&C, 9101));
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), 0);
}

/* Each bad line: -EINVAL, and the message says where and what. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[stack]\ntcp_rcvbf = 1\n", "t.conf:2: unknown key 'tcp_rcvbf' in [stack]" },
		{ "[stack]\ntcp_rcvbuf = lots\n", "t.conf:2: tcp_rcvbuf: want a number" },
		{ "[stack]\ntcp_rcvbuf = 100\n", "from 2304" },
		{ "[stack]\ndefault_ttl = 256\n", "default_ttl: want a number from 1 to 255" },
		{ "[stack]\ntcp_rack = maybe\n", "tcp_rack: want on or off" },
		{ "[stack]\narp_retrans_ns = 2 s\n", "arp_retrans_ns: want a time" },
		{ "[stack]\ntcp_rcvbuf = 5x\n", "want a number" },
		{ "[stack]\ntcp_sockets = 99999999999999999999999\n", "want a number" },
		{ "[stak]\n", "t.conf:1: unknown section [stak]" },
		{ "[interface]\n", "bad interface name" },
		{ "[interface a]\n[interface a]\n", "t.conf:2: [interface a] appears twice" },
		{ "driver = afxdp\n", "t.conf:1: 'driver' outside a section" },
		{ "[stack]\njust words\n", "t.conf:2: want key = value" },
		{ "[stack]\n = 3\n", "missing key" },
		{ "[interface a]\ndriver = netmap\n", "driver: want afxdp or dpdk" },
		{ "[interface a]\naddress = 198.18.0.2\n", "address: want A.B.C.D/LEN" },
		{ "[interface a]\naddress = 198.18.0.2/33\n", "address: want A.B.C.D/LEN" },
		{ "[interface a]\naddress = 198.18.0.256/24\n", "address: want A.B.C.D/LEN" },
		{ "[interface a]\ngateway = 0.0.0.0\n", "gateway: want A.B.C.D" },
		{ "[interface a]\nroute = 198.18.5.0/24 to 198.18.0.1\n", "route: want A.B.C.D/LEN via A.B.C.D" },
		{ "[interface a]\nqueues = 3-1\n", "queues: want N or N-M" },
		{ "[interface a]\nxdp_mode = zerocopy\n", "xdp_mode: want auto, copy or skb" },
		{ "[interface a]\ncolour = blue\n", "unknown key 'colour' in [interface a]" },
		{ "[offload]\nports = 0\n", "ports: bad port '0'" },
		{ "[offload]\nports = 10-5\n", "ports: bad range '10-5'" },
		{ "[offload]\nports = 70000\n", "ports: bad port" },
		{ "[offload]\nspeed = max\n", "unknown key 'speed' in [offload]" },
		{ "[stack\n", "bad section header" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text);
		if (rc != -EINVAL || !strstr(E, cases[i].want))
			fail_msg("case %zu: rc %d, message '%s', want -EINVAL and '%s'", i, rc, E, cases[i].want);
		assert_null(strchr(E, '\n')); /* one line */
	}
}

static void test_limits(void **state)
{
	char text[4096];
	size_t n = 0;
	(void)state;
	/* nine addresses on one interface: the ninth is refused, named */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[interface a]\n");
	for (int i = 0; i < SKIFF_CFG_ADDRS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "address = 198.18.%d.2/24\n", i);
	assert_int_equal(parse(text), -EINVAL);
	assert_non_null(strstr(E, "more than 8 on interface 'a'"));
	/* more interfaces than a stack has */
	n = 0;
	for (int i = 0; i < SKIFF_CFG_IFACES + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[interface i%d]\n", i);
	assert_int_equal(parse(text), -EINVAL);
	assert_non_null(strstr(E, "more than 8 interfaces"));
	/* a line too long */
	memset(text, 'x', 2000);
	text[2000] = 0;
	assert_int_equal(parse(text), -EINVAL);
	assert_non_null(strstr(E, "t.conf:1: line longer than"));
}

static void test_check(void **state)
{
	(void)state;
	skiff_config_defaults(&C);
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), -EINVAL);
	assert_string_equal(E, "no [interface] configured");
	assert_int_equal(parse("[interface a]\naddress = 198.18.0.2/24\n"), 0);
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "interface a: no driver"));
	assert_int_equal(parse("[interface a]\ndriver = afxdp\n"), 0);
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "interface a: no address"));
	assert_int_equal(parse("[interface a]\ndriver = dpdk\naddress = 198.18.0.2/24\n"), 0);
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "needs dpdk_port"));
	assert_int_equal(parse("[interface a]\ndriver = afxdp\naddress = 198.18.0.2/24\n"
			       "[stack]\nephemeral_lo = 50000\nephemeral_hi = 40000\n"),
			 0);
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "ephemeral_lo 50000 above ephemeral_hi 40000"));
}

static void test_environment(void **state)
{
	(void)state;
	assert_int_equal(parse("[interface vA]\ndriver = afxdp\naddress = 198.18.0.2/24\n[stack]\ntcp_rcvbuf = 131072\n"),
			 0);
	setenv("SKIFF_STACK_TCP_RCVBUF", "1m", 1);
	setenv("SKIFF_OFFLOAD_PORTS", "443", 1);
	setenv("SKIFF_INTERFACE", "vA", 1);
	setenv("SKIFF_ADDRESS", "198.18.9.9/16", 1);
	setenv("SKIFF_GATEWAY", "198.18.0.1", 1);
	assert_int_equal(skiff_config_env(&C, E, sizeof(E)), 0);
	assert_int_equal(C.stack.tcp_rcvbuf, 1048576);
	assert_true(skiff_config_port_offloaded(&C, 443));
	assert_int_equal(C.nifaces, 1);
	assert_int_equal(C.ifaces[0].naddrs, 1); /* replaced, not added */
	assert_int_equal(C.ifaces[0].addrs[0].addr, IP(198, 18, 9, 9));
	assert_int_equal(C.ifaces[0].gateway, IP(198, 18, 0, 1));
	/* a new interface entirely from the environment */
	setenv("SKIFF_INTERFACE", "vB", 1);
	setenv("SKIFF_DRIVER", "afxdp", 1);
	assert_int_equal(skiff_config_env(&C, E, sizeof(E)), 0);
	assert_int_equal(C.nifaces, 2);
	assert_string_equal(C.ifaces[1].name, "vB");
	assert_int_equal(skiff_config_check(&C, E, sizeof(E)), 0);
	/* a bad value names its variable */
	setenv("SKIFF_STACK_TCP_RCVBUF", "huge", 1);
	assert_int_equal(skiff_config_env(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "environment SKIFF_STACK_TCP_RCVBUF"));
	assert_non_null(strstr(E, "tcp_rcvbuf: want a number"));
	setenv("SKIFF_STACK_TCP_RCVBUF", "1m", 1);
	setenv("SKIFF_STACK_NO_SUCH", "1", 1);
	assert_int_equal(skiff_config_env(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "unknown key 'no_such' in [stack]"));
	unsetenv("SKIFF_STACK_NO_SUCH");
	setenv("SKIFF_INTERFACE", "bad name", 1);
	assert_int_equal(skiff_config_env(&C, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, "bad interface name"));
	unsetenv("SKIFF_STACK_TCP_RCVBUF");
	unsetenv("SKIFF_OFFLOAD_PORTS");
	unsetenv("SKIFF_INTERFACE");
	unsetenv("SKIFF_ADDRESS");
	unsetenv("SKIFF_GATEWAY");
	unsetenv("SKIFF_DRIVER");
}

static void test_load(void **state)
{
	char path[] = "/tmp/skiff-conf-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "[interface vA]\ndriver = afxdp\naddress = 198.18.0.2/24\n[stack]\nbogus = 1\n";
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	close(fd);
	skiff_config_defaults(&C);
	assert_int_equal(skiff_config_load(&C, path, E, sizeof(E)), -EINVAL);
	assert_non_null(strstr(E, path));
	assert_non_null(strstr(E, ":5: unknown key 'bogus'"));
	unlink(path);
	assert_int_equal(skiff_config_load(&C, path, E, sizeof(E)), -ENOENT);
	assert_non_null(strstr(E, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file), cmocka_unit_test(test_errors),      cmocka_unit_test(test_limits),
		cmocka_unit_test(test_check),     cmocka_unit_test(test_environment), cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
