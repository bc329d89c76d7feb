/* bench_stack.h — C side of the stack-level benchmarks, behind opaque handles.
 *
 * Why a C shim: dataplane/addr.h (pulled in by stack.h and udp.h) does not
 * compile as C++ (`static const uint8_t zero[16];` is an uninitialised const in
 * C++), so the .cc benchmarks reach the stack through these plain-C helpers;
 * this header includes no dataplane header. Each helper does one batch of work
 * so the C++ side times the same thing the C API costs.
 *
 *   bench_rx:   one stack on a mempool interface (198.18.0.1/24), a socket bound
 *               to *:5000; run = hand `batch` UDP frames to skiff_stack_input in
 *               one burst, then skiff_udp_recv them all.
 *   bench_pair: stacks A (198.18.0.1) and B (198.18.0.2) over a loop driver pair;
 *               run = `batch` × skiff_udp_send on A, A's tx → loop tx_burst,
 *               loop rx_burst → B input, skiff_udp_recv on B until empty.
 */
#ifndef SKIFF_BENCH_STACK_H
#define SKIFF_BENCH_STACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_MAX_BATCH 64u

/* Ethernet+IPv4+UDP frame 198.18.0.2:1234 → 198.18.0.1:5000 with `payload` bytes and
 * valid checksums, written into buf (>= 42 + payload). Returns the frame length. */
size_t bench_udp4_frame(uint8_t *buf, size_t payload);

struct bench_rx;
/* frame_len: whole Ethernet frame (>= 42, e.g. 64); csum_offload: mark frames
 * IP/L4-checksum-good as a NIC would, so the stack skips verifying them. */
struct bench_rx *bench_rx_create(size_t frame_len, int csum_offload);
/* Returns the number of datagrams received (== batch when all is well). */
unsigned bench_rx_run(struct bench_rx *b, unsigned batch);
void bench_rx_destroy(struct bench_rx *b);

struct bench_pair;
/* payload: UDP payload bytes per datagram (1..1472 for one 1500-byte frame). NULL on error. */
struct bench_pair *bench_pair_create(size_t payload);
/* Returns the number of datagrams B received (== batch when all is well). */
unsigned bench_pair_run(struct bench_pair *b, unsigned batch);
void bench_pair_destroy(struct bench_pair *b);

#ifdef __cplusplus
}
#endif

#endif
