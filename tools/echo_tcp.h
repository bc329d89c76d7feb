/* echo_tcp.h — the TCP half of skiff-echo (echo_tcp.c), over any socket calls. */
#ifndef SKIFF_TOOLS_ECHO_TCP_H
#define SKIFF_TOOLS_ECHO_TCP_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

struct tcpops {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*shutdown)(int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*close)(int);
};

/* Per-socket options (all zero: none). */
struct echo_tcp_opts {
	int ka_idle, ka_intvl, ka_cnt; /* ka_idle > 0: SO_KEEPALIVE on, TCP_KEEPIDLE/KEEPINTVL (s), TCP_KEEPCNT;
					* on the listener (accepted sockets inherit it) or the client socket */
	unsigned idle_ms;              /* client: stay idle this long after connecting, polling (the stack
					* runs inside poll: there is no progress thread) */
};

/* Echo every connection on ip:port (host order) until *stop or `seconds` pass
 * (0: no limit). Prints "ready" once listening. Returns 0, or -1 on set-up failure. */
int echo_tcp_serve(const struct tcpops *so, uint32_t ip, uint16_t port, unsigned seconds,
		   const struct echo_tcp_opts *eo, volatile sig_atomic_t *stop);
/* Connect from ip to dst:dport, (idle eo->idle_ms,) send `bytes` of a pattern, read
 * the echo back and compare, half-close, wait for EOF. Returns 0 when byte-exact, 1
 * otherwise (an error while idle is printed with its errno name: "... idle: ETIMEDOUT
 * (...)"), -1 on set-up failure. Prints throughput and the result. */
int echo_tcp_client(const struct tcpops *so, uint32_t ip, uint32_t dst, uint16_t dport, uint64_t bytes,
		    const struct echo_tcp_opts *eo, volatile sig_atomic_t *stop);

#endif
