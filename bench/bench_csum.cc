// bench_csum.cc — csum_partial (RFC 1071 sum, dataplane/csum.c) throughput.
//
// Flow: one 64 KiB buffer of pseudo-random bytes (64-byte aligned); each
// iteration sums the first N bytes (64, 1500, 9000, 65536) — the cost of
// verifying or filling a checksum in software — and SetBytesProcessed turns the
// time into bytes/s. A second case starts one byte in (odd address) at 1500 B.
#include <benchmark/benchmark.h>

#include <cstdint>

extern "C" {
#include "dataplane/csum.h"
}

namespace {

constexpr size_t kBufLen = 65536 + 64;

const uint8_t *test_buffer()
{
	alignas(64) static uint8_t buf[kBufLen];
	static bool filled = false;
	if (!filled) {
		uint32_t x = 0x12345678u;
		for (size_t i = 0; i < kBufLen; i++) {
			x = x * 1664525u + 1013904223u; // LCG: deterministic, no zero runs
			buf[i] = static_cast<uint8_t>(x >> 24);
		}
		filled = true;
	}
	return buf;
}

void BM_CsumPartial(benchmark::State &state)
{
	const size_t len = static_cast<size_t>(state.range(0));
	const size_t off = static_cast<size_t>(state.range(1));
	const uint8_t *buf = test_buffer() + off;
	for (auto _ : state) {
		benchmark::DoNotOptimize(buf);
		uint32_t s = csum_partial(buf, len, 0);
		benchmark::DoNotOptimize(s);
	}
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(len));
}

} // namespace

// Args: {bytes, start offset from a 64-byte boundary}
BENCHMARK(BM_CsumPartial)
	->ArgNames({ "bytes", "offset" })
	->Args({ 64, 0 })
	->Args({ 1500, 0 })
	->Args({ 9000, 0 })
	->Args({ 65536, 0 })
	->Args({ 1500, 1 });

BENCHMARK_MAIN();
