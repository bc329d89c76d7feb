/* fuzz_bpf.c — libFuzzer target for classic BPF (dataplane/bpf_classic.c):
 * skiff_bpf_check on an arbitrary program, then skiff_bpf_run of every program
 * it accepts on the rest of the input as packet. The checker and the
 * interpreter are what a packet socket feeds with hostile input
 * (SO_ATTACH_FILTER programs from any local user, frames from the wire).
 *
 * Input layout:
 *   bytes 0-1   instruction count, little-endian, & 0x1fff (so lengths past
 *               BPF_MAXINSNS are tried); capped by the bytes that follow
 *   8 * count   struct sock_filter, each: code (LE16), jt, jf, k (LE32)
 *   4 bytes     aux: headroom (& 63), ll_off and net_off (signed bytes,
 *               relative to the packet), metadata seed (fills every ancillary
 *               value)
 *   the rest    headroom bytes then the packet
 * The packet goes into an exactly sized heap buffer (headroom + packet), so
 * ASan reports any byte the interpreter reads outside it. Invariants: a
 * program the checker accepts ends in RET and runs to the same result twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/bpf_classic.h"

#define FZ_MAX_INSNS 0x1fff

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sock_filter prog[FZ_MAX_INSNS];
	struct skiff_bpf_aux aux;
	unsigned n;
	size_t pos = 2, rest;
	uint8_t *buf;
	uint32_t seed, plen, r1, r2;

	if (size < 2)
		return 0;
	n = (unsigned)(data[0] | data[1] << 8) & FZ_MAX_INSNS;
	if (n > (size - pos) / 8)
		n = (unsigned)((size - pos) / 8);
	for (unsigned i = 0; i < n; i++, pos += 8) {
		prog[i].code = (uint16_t)(data[pos] | data[pos + 1] << 8);
		prog[i].jt = data[pos + 2];
		prog[i].jf = data[pos + 3];
		prog[i].k = le32(data + pos + 4);
	}
	if (skiff_bpf_check(prog, n) != 0)
		return 0;
	if (prog[n - 1].code != (BPF_RET | BPF_K) && prog[n - 1].code != (BPF_RET | BPF_A))
		abort(); /* the checker let through a program that can run off its end */

	memset(&aux, 0, sizeof(aux));
	if (size - pos >= 4) {
		aux.headroom = data[pos] & 63u;
		aux.ll_off = (int8_t)data[pos + 1];
		aux.net_off = (int8_t)data[pos + 2];
		seed = data[pos + 3] * 0x9e3779b1u;
		pos += 4;
	} else {
		seed = 0;
	}
	aux.protocol = (uint16_t)seed;
	aux.hatype = (uint16_t)(seed >> 3);
	aux.queue = (uint16_t)(seed >> 5);
	aux.vlan_tci = (uint16_t)(seed >> 7);
	aux.vlan_tpid = (uint16_t)(seed >> 9);
	aux.vlan_present = (uint8_t)(seed & 1);
	aux.pkttype = (uint8_t)(seed >> 11);
	aux.ifindex = seed;
	aux.mark = seed >> 1;
	aux.rxhash = seed >> 2;
	aux.cpu = seed >> 13;
	aux.random = ~seed;
	aux.pay_offset = seed >> 24;

	rest = size - pos;
	if (aux.headroom > rest)
		aux.headroom = (uint32_t)rest;
	plen = (uint32_t)(rest - aux.headroom);
	buf = malloc(rest); /* exact: no slack byte for ASan to miss */
	if (!buf)
		return 0;
	memcpy(buf, data + pos, rest);
	r1 = skiff_bpf_run(prog, buf + aux.headroom, plen, &aux);
	r2 = skiff_bpf_run(prog, buf + aux.headroom, plen, &aux);
	free(buf);
	if (r1 != r2)
		abort();
	return 0;
}
