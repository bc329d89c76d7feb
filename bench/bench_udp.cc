// bench_udp.cc — UDP send → receive cost per datagram between two stacks over
// the loop driver pair.
//
// Flow per iteration (bench_pair_run): `batch` × skiff_udp_send on stack A
// (connected socket 198.18.0.1 → 198.18.0.2:5000) → skiff_stack_tx_drain(A) →
// loop tx_burst → loop rx_burst on B → skiff_stack_input(B) → skiff_udp_recv on B
// until empty. Checksums in software on both sides (loop caps 0), ARP resolved
// before timing. Both stacks and the driver run on this one thread, so the
// number is the whole path's CPU cost, including the loop driver's eventfd
// signalling (one write + one read per batch).
// "time/dgram" is per datagram (the Time column is per batch of `batch`).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "bench_stack.h"

namespace {

void BM_UdpSendRecvLoop(benchmark::State &state)
{
	const size_t payload = static_cast<size_t>(state.range(0));
	const unsigned batch = static_cast<unsigned>(state.range(1));
	struct bench_pair *b = bench_pair_create(payload);
	if (!b) {
		state.SkipWithError("bench_pair_create failed (loop driver or stack setup)");
		return;
	}
	for (auto _ : state) {
		if (bench_pair_run(b, batch) != batch) {
			state.SkipWithError("datagrams lost");
			break;
		}
	}
	const double dgrams = static_cast<double>(state.iterations()) * batch;
	state.SetItemsProcessed(static_cast<int64_t>(dgrams));
	state.SetBytesProcessed(static_cast<int64_t>(dgrams * static_cast<double>(payload)));
	// rate inverted = seconds per datagram; the console shows it with a unit, e.g. "210ns"
	state.counters["time/dgram"] = benchmark::Counter(dgrams, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	bench_pair_destroy(b);
}

} // namespace

// Args: {UDP payload bytes, datagrams per iteration}
BENCHMARK(BM_UdpSendRecvLoop)
	->ArgNames({ "payload", "batch" })
	->Args({ 64, 32 })
	->Args({ 1472, 32 })
	->Args({ 64, 1 })
	->Args({ 1472, 1 });

BENCHMARK_MAIN();
