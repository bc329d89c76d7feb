// bench_parse.cc — receive-side costs per frame.
//
//   BM_ParseHeaders:    eth_parse → ip4_parse → view_pull(ihl) → udp_parse over a
//                       64-byte frame through the wire views (no checksums): the
//                       floor of header parsing.
//   BM_ParseVerifyCsum: the same plus the IPv4 header checksum and the UDP checksum
//                       (pseudo-header + datagram), as input does without offload.
//   BM_StackInputRecv:  skiff_stack_input of a 64-byte UDP frame to a socket bound on
//                       *:5000, then skiff_udp_recv — batch of 1 or 32 frames per
//                       call, checksums verified in software or marked good
//                       (offload). Frames are pre-filled pool buffers (no copy timed).
// "time/frame" is the per-frame time (the Time column is per batch).
#include <benchmark/benchmark.h>

#include <cstdint>

extern "C" {
#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"
}
#include "bench_stack.h"

namespace {

constexpr size_t kFrameLen = 64;
constexpr size_t kPayload = kFrameLen - ETH_HDR_LEN - IP4_HDR_LEN - UDP_HDR_LEN;

void per_frame_counter(benchmark::State &state, int64_t frames_per_iter)
{
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * frames_per_iter);
	// rate inverted = seconds per frame; the console shows it with a unit, e.g. "63.2ns"
	state.counters["time/frame"] = benchmark::Counter(
		static_cast<double>(state.iterations()) * static_cast<double>(frames_per_iter),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

struct Parsed {
	eth_repr e;
	ip4_repr ip;
	udp_repr u;
};

// Returns 0 when the frame parses as Ethernet/IPv4/UDP.
inline int parse(const uint8_t *f, size_t len, Parsed *out)
{
	struct view v = view_make(f, len);
	if (eth_parse(&v, &out->e) || out->e.type != ETH_TYPE_IP4)
		return -1;
	if (ip4_parse(v.p, v.len, &out->ip) || out->ip.ihl < IP4_HDR_LEN || !view_pull(&v, out->ip.ihl))
		return -1;
	return udp_parse(&v, &out->u);
}

void BM_ParseHeaders(benchmark::State &state)
{
	uint8_t frame[kFrameLen];
	size_t len = bench_udp4_frame(frame, kPayload);
	const uint8_t *f = frame;
	Parsed p;
	for (auto _ : state) {
		benchmark::DoNotOptimize(f);
		int rc = parse(f, len, &p);
		benchmark::DoNotOptimize(rc);
		benchmark::DoNotOptimize(p);
		benchmark::ClobberMemory();
	}
	per_frame_counter(state, 1);
}

void BM_ParseVerifyCsum(benchmark::State &state)
{
	uint8_t frame[kFrameLen];
	size_t len = bench_udp4_frame(frame, kPayload);
	const uint8_t *f = frame;
	Parsed p;
	for (auto _ : state) {
		benchmark::DoNotOptimize(f);
		int ok = parse(f, len, &p) == 0;
		const uint8_t *ih = f + p.e.hdr_len;
		ok = ok && csum_buf(ih, p.ip.ihl) == 0;
		ok = ok && csum_fold(csum_partial(ih + p.ip.ihl, p.u.len,
						  csum_pseudo4(p.ip.src, p.ip.dst, IPPROTO_UDP_, p.u.len))) == 0;
		if (!ok) {
			state.SkipWithError("frame did not verify");
			break;
		}
		benchmark::ClobberMemory();
	}
	per_frame_counter(state, 1);
}

void BM_StackInputRecv(benchmark::State &state)
{
	const unsigned batch = static_cast<unsigned>(state.range(0));
	struct bench_rx *b = bench_rx_create(kFrameLen, static_cast<int>(state.range(1)));
	if (!b) {
		state.SkipWithError("bench_rx_create failed");
		return;
	}
	for (auto _ : state) {
		if (bench_rx_run(b, batch) != batch) {
			state.SkipWithError("datagrams lost");
			break;
		}
	}
	per_frame_counter(state, batch);
	bench_rx_destroy(b);
}

} // namespace

BENCHMARK(BM_ParseHeaders);
BENCHMARK(BM_ParseVerifyCsum);
BENCHMARK(BM_StackInputRecv)
	->ArgNames({ "batch", "csum_offload" })
	->Args({ 1, 0 })
	->Args({ 32, 0 })
	->Args({ 1, 1 })
	->Args({ 32, 1 });

BENCHMARK_MAIN();
