/* bpf_classic.c — classic BPF verifier and interpreter (see bpf_classic.h).
 *
 * Flow:
 *   skiff_bpf_check
 *     1. bpf_check_basics_ok: prog != NULL, 1 <= len <= BPF_MAXINSNS
 *     2. bpf_check_classic, per instruction: code_allowed (chk_code_allowed's
 *        table), then DIV/MOD K != 0, LSH/RSH K < 32, M[] index < BPF_MEMWORDS,
 *        JA target inside the program, both conditional targets inside, and an
 *        LD ABS at or above SKF_AD_OFF only for a known ancillary code
 *        (bpf_anc_helper)
 *     3. last instruction is RET K or RET A
 *     4. check_load_and_stores: one forward pass with a 16-bit "written" mask
 *        per instruction; a load from M[k] is refused unless every path that
 *        reaches it stored M[k] first
 *   skiff_bpf_run
 *     A = X = 0, M[] = 0; one switch per instruction, forward only, until RET.
 *     Packet loads go through load(): offsets >= 0 from pkt[0], SKF_NET_OFF /
 *     SKF_LL_OFF relative to aux's headers, anything else fails; a failed load,
 *     like a division by X == 0, ends the program with 0.
 */
#include "bpf_classic.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "view.h"

/* <linux/netlink.h>'s struct nlattr layout and type mask, for SKF_AD_NLATTR*. */
#define NLA_HDRLEN 4u
#define NLA_ALIGN(n) (((n) + 3u) & ~3u)
#define NLA_TYPE_MASK 0x3fffu /* ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) */

#define SKF_AD_BASE ((uint32_t)SKF_AD_OFF) /* 0xfffff000 */

/* ---- verifier -------------------------------------------------------- */

/* chk_code_allowed(): the exact 16-bit codes Linux accepts. Note the exact
 * match: BPF_ALU|BPF_NEG|BPF_X, BPF_RET|BPF_X, BPF_LD|BPF_H|BPF_IMM, BPF_LDX with
 * ABS/IND, any code with bits above 0xff ... are refused. */
static bool code_allowed(uint16_t code)
{
	switch (code) {
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_IMM:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_B | BPF_MSH:
	case BPF_LDX | BPF_IMM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	default:
		return false;
	}
}

/* A conditional jump (jt/jf used), for codes code_allowed() accepted: every
 * BPF_JMP code but BPF_JA. */
static bool is_cond_jump(uint16_t code) { return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA; }

/* bpf_anc_helper(): the ancillary codes Linux knows (all of them run here). */
static bool anc_known(uint32_t k)
{
	switch (k - SKF_AD_BASE) {
	case SKF_AD_PROTOCOL:
	case SKF_AD_PKTTYPE:
	case SKF_AD_IFINDEX:
	case SKF_AD_NLATTR:
	case SKF_AD_NLATTR_NEST:
	case SKF_AD_MARK:
	case SKF_AD_QUEUE:
	case SKF_AD_HATYPE:
	case SKF_AD_RXHASH:
	case SKF_AD_CPU:
	case SKF_AD_ALU_XOR_X:
	case SKF_AD_VLAN_TAG:
	case SKF_AD_VLAN_TAG_PRESENT:
	case SKF_AD_PAY_OFFSET:
	case SKF_AD_RANDOM:
	case SKF_AD_VLAN_TPID:
		return true; /* k - SKF_AD_BASE <= 60 only when k >= SKF_AD_BASE */
	default:
		return false;
	}
}

/* check_load_and_stores(): one pass in program order. memvalid holds the cells
 * written on the fall-through path; masks[pc] the intersection over the jumps
 * into pc. After a jump the fall-through state is "anything" (~0), and — as in
 * Linux — it is NOT reset after a RET, so code after a RET that no jump reaches
 * inherits the state before the RET (unreachable either way). Linux kmallocs the
 * masks; here they are 8 KiB of stack (the checker runs at setsockopt time, not
 * per packet). Called only after bpf_check_classic's rules held, so k < 16 and
 * every jump target is inside the program. */
static int check_load_and_stores(const struct sock_filter *prog, unsigned len)
{
	uint16_t masks[BPF_MAXINSNS];
	uint16_t memvalid = 0;

	memset(masks, 0xff, len * sizeof(masks[0]));
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];

		memvalid &= masks[pc];
		switch (f->code) {
		case BPF_ST:
		case BPF_STX:
			memvalid |= (uint16_t)(1u << f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(memvalid & (1u << f->k)))
				return -EINVAL;
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f->k] &= memvalid;
			memvalid = 0xffff;
			break;
		default:
			if (is_cond_jump(f->code)) {
				masks[pc + 1 + f->jt] &= memvalid;
				masks[pc + 1 + f->jf] &= memvalid;
				memvalid = 0xffff;
			}
			break;
		}
	}
	return 0;
}

int skiff_bpf_check(const struct sock_filter *prog, unsigned len)
{
	/* bpf_check_basics_ok() */
	if (!prog || len == 0 || len > BPF_MAXINSNS)
		return -EINVAL;

	/* bpf_check_classic() */
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];

		if (!code_allowed(f->code))
			return -EINVAL;
		switch (f->code) {
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
			if (f->k == 0) /* division by zero */
				return -EINVAL;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (f->k >= 32)
				return -EINVAL;
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (f->k >= BPF_MEMWORDS)
				return -EINVAL;
			break;
		case BPF_JMP | BPF_JA:
			/* unsigned: only forward, and not past the last instruction */
			if (f->k >= len - pc - 1)
				return -EINVAL;
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			/* "Ancillary operation unknown or unsupported". The rest of
			 * the negative range (SKF_NET_OFF, SKF_LL_OFF, and offsets no
			 * header can satisfy) is accepted and fails at run time. */
			if (f->k >= SKF_AD_BASE && !anc_known(f->k))
				return -EINVAL;
			break;
		default:
			if (is_cond_jump(f->code) && (pc + f->jt + 1 >= len || pc + f->jf + 1 >= len))
				return -EINVAL;
			break;
		}
	}

	/* "Last instruction must be a RET code" */
	if (prog[len - 1].code != (BPF_RET | BPF_K) && prog[len - 1].code != (BPF_RET | BPF_A))
		return -EINVAL;
	return check_load_and_stores(prog, len);
}

/* ---- interpreter ----------------------------------------------------- */

static inline int32_t as_s32(uint32_t v)
{
	return v <= INT32_MAX ? (int32_t)v : (int32_t)(v - 0x80000000u) + INT32_MIN;
}

/* One packet load of `size` bytes at classic offset k, big-endian.
 * bpf_skb_load_helper_{8,16,32}: k >= 0 reads pkt[k]; k in [SKF_NET_OFF, 0)
 * reads net_off + (k - SKF_NET_OFF); k in [SKF_LL_OFF, SKF_NET_OFF) reads
 * ll_off + (k - SKF_LL_OFF) (bpf_internal_load_pointer_neg_helper); anything
 * below SKF_LL_OFF, or bytes outside [-headroom, len), fails (-EFAULT, which
 * ends the program with 0). */
static int load(const uint8_t *pkt, uint32_t len, const struct skiff_bpf_aux *aux, int32_t k, unsigned size,
		uint32_t *v)
{
	int64_t off;
	const uint8_t *p;

	if (k >= 0)
		off = k;
	else if (k >= SKF_NET_OFF)
		off = (int64_t)aux->net_off + ((int64_t)k - SKF_NET_OFF);
	else if (k >= SKF_LL_OFF)
		off = (int64_t)aux->ll_off + ((int64_t)k - SKF_LL_OFF);
	else
		return -EFAULT;
	if (off < -(int64_t)aux->headroom || off + size > (int64_t)len)
		return -EFAULT;
	p = pkt + off;
	switch (size) {
	case 1:
		*v = p[0];
		break;
	case 2:
		*v = ld16(p);
		break;
	default:
		*v = ld32(p);
		break;
	}
	return 0;
}

static inline uint16_t ld16_host(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* nla_find() over [off, off + rem) of pkt: the offset of the first attribute of
 * `type`, or 0. nla_ok(): rem >= 4, 4 <= nla_len <= rem; nla_next() steps by
 * NLA_ALIGN(nla_len). Netlink headers are host order. off + rem <= len holds on
 * entry and is kept by every step, so each header read is in bounds. */
static uint32_t nla_find_off(const uint8_t *pkt, uint32_t off, int64_t rem, uint32_t type)
{
	while (rem >= (int64_t)NLA_HDRLEN) {
		uint16_t nla_len = ld16_host(pkt + off);
		uint16_t nla_type = ld16_host(pkt + off + 2);
		uint32_t step;

		if (nla_len < NLA_HDRLEN || nla_len > rem)
			break;
		if ((uint32_t)(nla_type & NLA_TYPE_MASK) == type)
			return off;
		step = NLA_ALIGN((uint32_t)nla_len);
		rem -= step;
		off += step;
	}
	return 0;
}

/* bpf_skb_get_nlattr(skb, A, X) on a linear packet. */
static uint32_t anc_nlattr(const uint8_t *pkt, uint32_t len, uint32_t a, uint32_t x)
{
	if (len < NLA_HDRLEN || a > len - NLA_HDRLEN)
		return 0;
	return nla_find_off(pkt, a, (int64_t)len - a, x);
}

/* bpf_skb_get_nlattr_nest(skb, A, X): the attribute at A must fit; search inside it. */
static uint32_t anc_nlattr_nest(const uint8_t *pkt, uint32_t len, uint32_t a, uint32_t x)
{
	uint16_t nla_len;

	if (len < NLA_HDRLEN || a > len - NLA_HDRLEN)
		return 0;
	nla_len = ld16_host(pkt + a);
	if (nla_len > len - a)
		return 0;
	/* nla_find_nested(): nla_data(), nla_len() = nla_len - NLA_HDRLEN (< 0: nothing) */
	return nla_find_off(pkt, a + NLA_HDRLEN, (int64_t)nla_len - NLA_HDRLEN, x);
}

/* convert_bpf_extensions(): the value an ancillary load puts in A (size ignored). */
static uint32_t ancillary(uint32_t k, uint32_t A, uint32_t X, const uint8_t *pkt, uint32_t len,
			  const struct skiff_bpf_aux *aux)
{
	switch (k - SKF_AD_BASE) {
	case SKF_AD_PROTOCOL:
		return aux->protocol;
	case SKF_AD_PKTTYPE:
		return aux->pkttype & 7u; /* PKT_TYPE_MAX */
	case SKF_AD_IFINDEX:
		return aux->ifindex;
	case SKF_AD_NLATTR:
		return anc_nlattr(pkt, len, A, X);
	case SKF_AD_NLATTR_NEST:
		return anc_nlattr_nest(pkt, len, A, X);
	case SKF_AD_MARK:
		return aux->mark;
	case SKF_AD_QUEUE:
		return aux->queue;
	case SKF_AD_HATYPE:
		return aux->hatype;
	case SKF_AD_RXHASH:
		return aux->rxhash;
	case SKF_AD_CPU:
		return aux->cpu;
	case SKF_AD_ALU_XOR_X:
		return A ^ X;
	case SKF_AD_VLAN_TAG:
		return aux->vlan_tci;
	case SKF_AD_VLAN_TAG_PRESENT:
		return aux->vlan_present ? 1u : 0u;
	case SKF_AD_PAY_OFFSET:
		return aux->pay_offset;
	case SKF_AD_RANDOM:
		return aux->random;
	case SKF_AD_VLAN_TPID:
		return aux->vlan_tpid;
	default:
		return 0; /* not reached for a checked program */
	}
}

static unsigned ld_size(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	default:
		return 4;
	}
}

uint32_t skiff_bpf_run(const struct sock_filter *prog, const uint8_t *pkt, uint32_t len,
		       const struct skiff_bpf_aux *aux)
{
	struct skiff_bpf_aux zero_aux;
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS];
	uint32_t v;

	if (!aux) {
		memset(&zero_aux, 0, sizeof(zero_aux));
		aux = &zero_aux;
	}
	/* Linux leaves M[] uninitialized (check_load_and_stores makes that safe);
	 * zeroing costs 64 bytes and keeps runs deterministic. */
	memset(M, 0, sizeof(M));

	for (const struct sock_filter *f = prog;; f++) {
		const uint32_t k = f->k;

		switch (f->code) {
		/* 32-bit ALU, A op= K|X (wrapping, unsigned) */
		case BPF_ALU | BPF_ADD | BPF_K: A += k; break;
		case BPF_ALU | BPF_ADD | BPF_X: A += X; break;
		case BPF_ALU | BPF_SUB | BPF_K: A -= k; break;
		case BPF_ALU | BPF_SUB | BPF_X: A -= X; break;
		case BPF_ALU | BPF_MUL | BPF_K: A *= k; break;
		case BPF_ALU | BPF_MUL | BPF_X: A *= X; break;
		case BPF_ALU | BPF_AND | BPF_K: A &= k; break;
		case BPF_ALU | BPF_AND | BPF_X: A &= X; break;
		case BPF_ALU | BPF_OR | BPF_K: A |= k; break;
		case BPF_ALU | BPF_OR | BPF_X: A |= X; break;
		case BPF_ALU | BPF_XOR | BPF_K: A ^= k; break;
		case BPF_ALU | BPF_XOR | BPF_X: A ^= X; break;
		/* shifts: K < 32 is checked; X is taken modulo 32 as the eBPF
		 * interpreter's ALU32 shifts (kernel/bpf/core.c) and x86 JIT do */
		case BPF_ALU | BPF_LSH | BPF_K: A <<= (k & 31); break;
		case BPF_ALU | BPF_LSH | BPF_X: A <<= (X & 31); break;
		case BPF_ALU | BPF_RSH | BPF_K: A >>= (k & 31); break;
		case BPF_ALU | BPF_RSH | BPF_X: A >>= (X & 31); break;
		case BPF_ALU | BPF_NEG: A = 0u - A; break;
		/* division: K != 0 is checked; by X == 0 the program returns 0 */
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_MOD | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_X:
			v = BPF_SRC(f->code) == BPF_X ? X : k;
			if (v == 0)
				return 0;
			A = BPF_OP(f->code) == BPF_DIV ? A / v : A % v;
			break;

		/* packet loads */
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= SKF_AD_BASE) {
				A = ancillary(k, A, X, pkt, len, aux);
				break;
			}
			if (load(pkt, len, aux, as_s32(k), ld_size(f->code), &A) < 0)
				return 0;
			break;
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND:
			/* offset X + K, 32-bit wrapping, then signed (never ancillary) */
			if (load(pkt, len, aux, as_s32(X + k), ld_size(f->code), &A) < 0)
				return 0;
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			/* X = 4 * (P[k] & 0xf), the IPv4 header length */
			if (load(pkt, len, aux, as_s32(k), 1, &v) < 0)
				return 0;
			X = (v & 0xf) << 2;
			break;
		case BPF_LD | BPF_W | BPF_LEN: A = len; break;
		case BPF_LDX | BPF_W | BPF_LEN: X = len; break;
		case BPF_LD | BPF_IMM: A = k; break;
		case BPF_LDX | BPF_IMM: X = k; break;

		/* scratch memory (k < BPF_MEMWORDS is checked) */
		case BPF_LD | BPF_MEM: A = M[k % BPF_MEMWORDS]; break;
		case BPF_LDX | BPF_MEM: X = M[k % BPF_MEMWORDS]; break;
		case BPF_ST: M[k % BPF_MEMWORDS] = A; break;
		case BPF_STX: M[k % BPF_MEMWORDS] = X; break;

		case BPF_MISC | BPF_TAX: X = A; break;
		case BPF_MISC | BPF_TXA: A = X; break;

		/* jumps: forward, targets checked to lie inside the program */
		case BPF_JMP | BPF_JA: f += k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: f += A == k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JEQ | BPF_X: f += A == X ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: f += A > k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_X: f += A > X ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: f += A >= k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_X: f += A >= X ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: f += (A & k) ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_X: f += (A & X) ? f->jt : f->jf; break;

		case BPF_RET | BPF_K: return k;
		case BPF_RET | BPF_A: return A;
		default:
			return 0; /* refused by the checker */
		}
	}
}
