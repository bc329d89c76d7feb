// bench_tcp.cc — TCP bulk transfer cost per byte and per segment, skiff over the
// loop driver against the kernel's TCP over 127.0.0.1, in the same run.
//
// BM_TcpLoop: bench_tcp_run moves `bytes` from stack A to stack B (send, output,
// loop driver, input, ACKs back, recv) on one thread; counters: time per 1448-byte
// segment A sent, bytes/s. BM_TcpKernel: the same bytes through a kernel TCP
// connection on loopback (send all, then read all, one thread; buffers large
// enough that send never blocks). BM_TcpIdleMemory reports the bytes one idle
// established connection costs (its TCB; no send ring until it first sends).
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "bench_tcp_stack.h"

namespace {

void BM_TcpLoop(benchmark::State &state)
{
	const size_t bytes = static_cast<size_t>(state.range(0));
	struct bench_tcp *b = bench_tcp_create();
	if (!b) {
		state.SkipWithError("bench_tcp_create failed");
		return;
	}
	unsigned long long seg0 = bench_tcp_segments(b);
	for (auto _ : state) {
		if (bench_tcp_run(b, bytes) != bytes) {
			state.SkipWithError("bytes lost");
			break;
		}
	}
	const double segs = static_cast<double>(bench_tcp_segments(b) - seg0);
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
	state.counters["time/seg"] = benchmark::Counter(segs, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["retrans"] = static_cast<double>(bench_tcp_retrans(b));
	bench_tcp_destroy(b);
}

void BM_TcpKernel(benchmark::State &state)
{
	const size_t bytes = static_cast<size_t>(state.range(0));
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s = -1, big = 4 << 20, one = 1;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	std::memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || c < 0 || bind(l, reinterpret_cast<sockaddr *>(&a), sizeof(a)) || listen(l, 1) ||
	    getsockname(l, reinterpret_cast<sockaddr *>(&a), &al)) {
		state.SkipWithError("kernel listen failed");
		return;
	}
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c, reinterpret_cast<sockaddr *>(&a), sizeof(a)) || (s = accept(l, nullptr, nullptr)) < 0) {
		state.SkipWithError("kernel connect failed");
		return;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	std::vector<char> out(bytes, 'k'), in(bytes);
	for (auto _ : state) {
		size_t sent = 0, got = 0;
		while (sent < bytes) {
			ssize_t w = send(c, out.data() + sent, bytes - sent, 0);
			if (w <= 0)
				break;
			sent += static_cast<size_t>(w);
			while (got < sent) {
				ssize_t r = recv(s, in.data() + got, bytes - got, MSG_DONTWAIT);
				if (r <= 0)
					break;
				got += static_cast<size_t>(r);
			}
		}
		while (got < bytes) {
			ssize_t r = recv(s, in.data() + got, bytes - got, 0);
			if (r <= 0) {
				state.SkipWithError("kernel recv failed");
				break;
			}
			got += static_cast<size_t>(r);
		}
	}
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
	state.counters["time/seg"] = benchmark::Counter(static_cast<double>(state.iterations()) *
								static_cast<double>((bytes + 1447) / 1448),
							benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	close(s);
	close(c);
	close(l);
}

void BM_TcpIdleMemory(benchmark::State &state)
{
	for (auto _ : state)
		benchmark::DoNotOptimize(bench_tcp_tcb_size());
	state.counters["bytes/idle-conn"] = static_cast<double>(bench_tcp_tcb_size());
}

} // namespace

BENCHMARK(BM_TcpLoop)->Arg(1448)->Arg(16384)->Arg(65536);
BENCHMARK(BM_TcpKernel)->Arg(1448)->Arg(16384)->Arg(65536);
BENCHMARK(BM_TcpIdleMemory);

BENCHMARK_MAIN();
