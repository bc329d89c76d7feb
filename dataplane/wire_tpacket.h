/* wire_tpacket.h — the TPACKET_V3 receive ring's memory layout (the Linux ABI
 * libpcap reads: linux/if_packet.h's tpacket_block_desc, tpacket_hdr_v1,
 * tpacket3_hdr and sockaddr_ll), written out in fixed-width types so the
 * dataplane's ring writer (packet_ring.c) needs no OS header — the same way the
 * wire_*.h headers describe protocol formats. The socket layer, which includes
 * the kernel's headers anyway, checks at compile time that every size and
 * offset here matches them (sock_packet_opts.c).
 */
#ifndef SKIFF_WIRE_TPACKET_H
#define SKIFF_WIRE_TPACKET_H

#include <stdint.h>

#define TPW_V3 2u                      /* TPACKET_V3 */
#define TPW_AF_PACKET 17u              /* sll_family */

/* block_status / tp_status bits */
#define TPW_STATUS_KERNEL 0u
#define TPW_STATUS_USER (1u << 0)
#define TPW_STATUS_LOSING (1u << 2)
#define TPW_STATUS_CSUMNOTREADY (1u << 3)
#define TPW_STATUS_VLAN_VALID (1u << 4)
#define TPW_STATUS_BLK_TMO (1u << 5)
#define TPW_STATUS_VLAN_TPID_VALID (1u << 6)
#define TPW_STATUS_TS_SOFTWARE (1u << 29)

struct tpw_bd_ts {
	uint32_t ts_sec;
	uint32_t ts_nsec;
};

struct tpw_hdr_v1 {
	uint32_t block_status;
	uint32_t num_pkts;
	uint32_t offset_to_first_pkt;
	uint32_t blk_len;
	uint64_t seq_num __attribute__((aligned(8)));
	struct tpw_bd_ts ts_first_pkt, ts_last_pkt;
};

struct tpw_block_desc {
	uint32_t version;
	uint32_t offset_to_priv;
	union {
		struct tpw_hdr_v1 bh1;
	} hdr;
};

struct tpw3_hdr {
	uint32_t tp_next_offset;
	uint32_t tp_sec;
	uint32_t tp_nsec;
	uint32_t tp_snaplen;
	uint32_t tp_len;
	uint32_t tp_status;
	uint16_t tp_mac;
	uint16_t tp_net;
	struct {
		uint32_t tp_rxhash;
		uint32_t tp_vlan_tci;
		uint16_t tp_vlan_tpid;
		uint16_t tp_padding;
	} hv1;
	uint8_t tp_padding[8];
};

struct tpw_sockaddr_ll {
	uint16_t sll_family;
	uint16_t sll_protocol;         /* network order */
	int32_t sll_ifindex;
	uint16_t sll_hatype;
	uint8_t sll_pkttype;
	uint8_t sll_halen;
	uint8_t sll_addr[8];
};

#endif
