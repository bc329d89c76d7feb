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
//
// BM_UdpSendRecvKernel is the same workload on the kernel's own sockets in the
// same run — two UDP sockets over 127.0.0.1, sendmmsg/recvmmsg of `batch`
// datagrams (batch 1: sendto/recvfrom) — so the README can give skiff/kernel
// ratios. The kernel's loopback is its cheapest path (no driver, no wire), so
// the ratio flatters the kernel, if anything.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

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

void BM_UdpSendRecvKernel(benchmark::State &state)
{
	const size_t payload = static_cast<size_t>(state.range(0));
	const unsigned batch = static_cast<unsigned>(state.range(1));
	int tx = socket(AF_INET, SOCK_DGRAM, 0), rx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	std::memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int big = 4 << 20;
	if (tx < 0 || rx < 0 || bind(rx, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
	    getsockname(rx, reinterpret_cast<sockaddr *>(&a), &alen) != 0 ||
	    connect(tx, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
		state.SkipWithError("kernel socket setup failed");
		if (tx >= 0)
			close(tx);
		if (rx >= 0)
			close(rx);
		return;
	}
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	std::vector<char> out(payload, 'k'), in(static_cast<size_t>(batch) * payload + 1);
	std::vector<struct mmsghdr> sm(batch), rm(batch);
	std::vector<struct iovec> siov(batch), riov(batch);
	for (unsigned i = 0; i < batch; i++) {
		siov[i] = { out.data(), payload };
		riov[i] = { in.data() + static_cast<size_t>(i) * payload, payload };
		std::memset(&sm[i], 0, sizeof(sm[i]));
		std::memset(&rm[i], 0, sizeof(rm[i]));
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	for (auto _ : state) {
		unsigned got = 0;
		if (batch == 1) {
			if (send(tx, out.data(), payload, 0) != static_cast<ssize_t>(payload) ||
			    recv(rx, in.data(), payload, 0) != static_cast<ssize_t>(payload)) {
				state.SkipWithError("kernel send/recv failed");
				break;
			}
			continue;
		}
		if (sendmmsg(tx, sm.data(), batch, 0) != static_cast<int>(batch)) {
			state.SkipWithError("sendmmsg short");
			break;
		}
		while (got < batch) {
			int n = recvmmsg(rx, rm.data() + got, batch - got, 0, nullptr);
			if (n <= 0) {
				state.SkipWithError("recvmmsg failed");
				break;
			}
			got += static_cast<unsigned>(n);
		}
	}
	const double dgrams = static_cast<double>(state.iterations()) * batch;
	state.SetItemsProcessed(static_cast<int64_t>(dgrams));
	state.SetBytesProcessed(static_cast<int64_t>(dgrams * static_cast<double>(payload)));
	state.counters["time/dgram"] = benchmark::Counter(dgrams, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	close(tx);
	close(rx);
}

} // namespace

// Args: {UDP payload bytes, datagrams per iteration}
BENCHMARK(BM_UdpSendRecvLoop)
	->ArgNames({ "payload", "batch" })
	->Args({ 64, 32 })
	->Args({ 1472, 32 })
	->Args({ 64, 1 })
	->Args({ 1472, 1 });
BENCHMARK(BM_UdpSendRecvKernel)
	->ArgNames({ "payload", "batch" })
	->Args({ 64, 32 })
	->Args({ 1472, 32 })
	->Args({ 64, 1 })
	->Args({ 1472, 1 });

BENCHMARK_MAIN();
