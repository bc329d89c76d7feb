/* bpf_classic.h — classic BPF (SO_ATTACH_FILTER) for skiff's packet sockets:
 * the kernel's verifier and an interpreter with the kernel's semantics.
 *
 * tcpdump, tshark and libpcap hand a `struct sock_fprog` of `struct sock_filter`
 * (<linux/filter.h>) to setsockopt(SO_ATTACH_FILTER). skiff must refuse exactly
 * what Linux refuses, then run the accepted program on every received frame:
 *
 *   setsockopt ── skiff_bpf_check(prog, len) ── -EINVAL: the kernel's errno
 *                        │ 0: the socket keeps its own copy of prog
 *   rx frame ──── skiff_bpf_run(prog, pkt, len, &aux) ── 0: drop
 *                                                   └── n: keep min(n, len) bytes
 *
 * Rules (Linux net/core/filter.c, kernel 6.x): skiff_bpf_check is
 * bpf_check_basics_ok + bpf_check_classic (chk_code_allowed, the per-opcode
 * checks, bpf_anc_helper, last instruction RET) + check_load_and_stores.
 * skiff_bpf_run follows bpf_convert_filter's translation (what the kernel really
 * executes since 3.15) and the helpers it calls: bpf_skb_load_helper_{8,16,32},
 * bpf_internal_load_pointer_neg_helper / the SKF_NET_OFF / SKF_LL_OFF
 * conversion, convert_bpf_extensions, bpf_skb_get_nlattr{,_nest}.
 *
 * Ancillary loads (BPF_LD|BPF_{B,H,W}|BPF_ABS with k = SKF_AD_OFF + code):
 * every code Linux knows is accepted and implemented, so the accept/refuse
 * decision is the kernel's — PROTOCOL, PKTTYPE, IFINDEX, NLATTR, NLATTR_NEST,
 * MARK, QUEUE, HATYPE, RXHASH, CPU, ALU_XOR_X, VLAN_TAG, VLAN_TAG_PRESENT,
 * PAY_OFFSET, RANDOM, VLAN_TPID. Values that live in the kernel's sk_buff come
 * from struct skiff_bpf_aux (the caller's packet metadata); as in the kernel the
 * load size is ignored for them (`ldb [vlan_tci]` loads all 16 bits).
 *
 * Known difference, on purpose: Linux translates the program to eBPF after
 * checking it and refuses (EINVAL) a program whose translated jump would span
 * more than 32767 eBPF instructions (bpf_convert_filter, "insn->off"); this
 * needs thousands of packet loads under one `ja`, and it is a limit of the
 * kernel's translation, not a rule of classic BPF, so skiff accepts it.
 *
 * The interpreter is bounds-safe for any program skiff_bpf_check accepted and
 * any packet: every packet access is checked, scratch memory is indexed modulo
 * BPF_MEMWORDS, shifts modulo 32, and division by zero ends the program with 0
 * (Linux: "for cBPF programs, this was always return 0"). Only the program
 * counter relies on the checker (forward jumps in range, last insn RET): never
 * run an unchecked program. No allocation, no globals, no I/O.
 *
 * Return value: the number of bytes to keep, as the kernel's filter result. It
 * can be larger than the packet (tcpdump returns its snaplen, 262144): taking
 * min(result, len) is the caller's job (packet_rcv's snaplen, sk_filter_trim_cap).
 */
#ifndef SKIFF_BPF_CLASSIC_H
#define SKIFF_BPF_CLASSIC_H

#include <linux/filter.h>
#include <stdint.h>

/* What an ancillary or negative-offset load needs beyond the packet bytes.
 * Zero-initialize and fill what is known; an all-zero aux is valid (it reads as
 * "no VLAN, PACKET_HOST, protocol 0, headers at offset 0"). */
struct skiff_bpf_aux {
	/* Header positions relative to pkt[0] (the filter's offset 0: the link-layer
	 * header for SOCK_RAW, the network header for SOCK_DGRAM). Negative when the
	 * header starts before pkt; then `headroom` bytes before pkt must be readable
	 * and cover it. Loads at SKF_LL_OFF + n / SKF_NET_OFF + n read at
	 * ll_off + n / net_off + n and must fall in [-headroom, len). */
	int32_t ll_off;
	int32_t net_off;
	uint32_t headroom;
	uint16_t protocol;     /* SKF_AD_PROTOCOL: skb->protocol, ethertype, host order */
	uint16_t hatype;       /* SKF_AD_HATYPE: dev->type, ARPHRD_* (1 = ARPHRD_ETHER) */
	uint16_t queue;        /* SKF_AD_QUEUE: skb->queue_mapping, the rx queue */
	uint16_t vlan_tci;     /* SKF_AD_VLAN_TAG: the full TCI (PCP, DEI, VID) of an offloaded tag */
	uint16_t vlan_tpid;    /* SKF_AD_VLAN_TPID: its TPID, host order (0x8100, 0x88a8) */
	uint8_t vlan_present;  /* SKF_AD_VLAN_TAG_PRESENT: non-zero when vlan_tci is valid (reads as 1) */
	uint8_t pkttype;       /* SKF_AD_PKTTYPE: PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4 */
	uint32_t ifindex;      /* SKF_AD_IFINDEX: dev->ifindex */
	uint32_t mark;         /* SKF_AD_MARK: skb->mark (skiff has no marks: 0) */
	uint32_t rxhash;       /* SKF_AD_RXHASH: skb->hash (the NIC's RSS hash, or 0) */
	uint32_t cpu;          /* SKF_AD_CPU: the processing CPU (raw_smp_processor_id) */
	uint32_t random;       /* SKF_AD_RANDOM: a value the caller draws per packet (bpf_user_rnd_u32) */
	/* SKF_AD_PAY_OFFSET: offset of the transport payload from pkt[0] as the kernel's
	 * flow dissector finds it (skb_get_poff: transport header + TCP doff*4 / UDP 8 /
	 * ICMP 8 ...), 0 when it is unknown or the packet does not dissect — the
	 * kernel's own failure value. The caller, which parsed the headers, fills it;
	 * skiff does not run a flow dissector here. */
	uint32_t pay_offset;
};

/* The verifier: 0 if Linux would accept the program, -EINVAL otherwise (NULL
 * prog, len 0 or > BPF_MAXINSNS, a refused opcode or operand, a jump out of
 * range, a missing final RET, or a scratch load that some path reaches before a
 * store). */
int skiff_bpf_check(const struct sock_filter *prog, unsigned len);

/* The interpreter: runs a program skiff_bpf_check accepted over pkt[0..len)
 * (aux NULL: all-zero metadata). Returns the filter's result — 0: drop;
 * otherwise how many bytes to keep (not clamped to len). */
uint32_t skiff_bpf_run(const struct sock_filter *prog, const uint8_t *pkt, uint32_t len,
		       const struct skiff_bpf_aux *aux);

#endif
