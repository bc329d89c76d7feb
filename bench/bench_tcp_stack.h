/* bench_tcp_stack.h — C side of bench_tcp.cc: one TCP connection between two
 * stacks over the loop driver, behind an opaque handle (no dataplane header
 * here, so C++ can include it). */
#ifndef SKIFF_BENCH_TCP_STACK_H
#define SKIFF_BENCH_TCP_STACK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_tcp;
struct bench_tcp *bench_tcp_create(void);
/* A sends `bytes` (at most 64 KiB), B reads them all; returns bytes read. */
size_t bench_tcp_run(struct bench_tcp *b, size_t bytes);
unsigned long long bench_tcp_segments(const struct bench_tcp *b); /* segments A sent so far */
unsigned long long bench_tcp_retrans(const struct bench_tcp *b);
size_t bench_tcp_tcb_size(void); /* bytes of one idle connection's TCB */
void bench_tcp_destroy(struct bench_tcp *b);

#ifdef __cplusplus
}
#endif
#endif
