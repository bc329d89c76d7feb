/* drop.h — every reason the stack discards a packet, one counter each.
 *
 * X-macro list: DROP(name, "one-line description"). The description names the
 * rule and, where one exists, the RFC section it comes from. skiff_drop() bumps
 * the counter and frees the packet; tools print the table with skiff_drop_name().
 */
#ifndef SKIFF_DROP_H
#define SKIFF_DROP_H

#include "wire_icmp6.h" /* ICMP6_FAILS: ICMPv6 and ND parse failures, one drop each */

#define SKIFF_DROP_REASONS(DROP) \
	DROP(ETH_SHORT,          "eth: frame shorter than the Ethernet header") \
	DROP(ETH_NOT_FOR_US,     "eth: destination MAC is not ours, broadcast or a joined group") \
	DROP(ETH_BAD_SRC,        "eth: source MAC is multicast/broadcast (IEEE 802.3)") \
	DROP(ETH_UNKNOWN_TYPE,   "eth: ethertype not handled") \
	DROP(ETH_VLAN_MISMATCH,  "eth: 802.1Q tag does not match the interface VLAN") \
	DROP(ETH_NO_IFACE,       "eth: frame arrived on an interface index the stack does not have (or on the loopback)") \
	DROP(ARP_SHORT,          "arp: shorter than 28 bytes (RFC 826)") \
	DROP(ARP_UNSUPPORTED,    "arp: hardware/protocol type or lengths not Ethernet/IPv4 (RFC 826)") \
	DROP(ARP_BAD_OP,         "arp: opcode neither request nor reply (RFC 826)") \
	DROP(ARP_BAD_SENDER,     "arp: sender address invalid (multicast/broadcast MAC, or our own IP)") \
	DROP(ARP_NOT_FOR_US,     "arp: target address is not one of ours (RFC 826 merge only)") \
	DROP(ARP_REPLY_LIMITED,  "arp: reply suppressed by the per-stack rate limit") \
	DROP(ARP_HOLD_FULL,      "arp: packet waiting for resolution dropped, hold queue full (RFC 1122 2.3.2.2)") \
	DROP(ARP_UNRESOLVED,     "arp: resolution failed after retries; ICMP host unreachable sent") \
	DROP(ARP_TABLE_FULL,     "arp: neighbour table full, no entry could be recycled") \
	DROP(IP4_SHORT,          "ip4: shorter than 20 bytes (RFC 1812 5.2.2)") \
	DROP(IP4_BAD_VERSION,    "ip4: version is not 4 (RFC 1812 5.2.2)") \
	DROP(IP4_BAD_IHL,        "ip4: header length < 20 or beyond the frame (RFC 1812 5.2.2)") \
	DROP(IP4_BAD_CSUM,       "ip4: header checksum wrong (RFC 1812 5.2.2)") \
	DROP(IP4_BAD_TOTLEN,     "ip4: total length < header length or > frame (RFC 1812 5.2.2)") \
	DROP(IP4_BAD_SRC,        "ip4: source is multicast, broadcast, loopback, 0/8 or class E (RFC 1812 5.3.7)") \
	DROP(IP4_MARTIAN_DST,    "ip4: destination is loopback, 0/8 or class E on the wire (RFC 1122 3.2.1.3)") \
	DROP(IP4_NOT_FOR_US,     "ip4: destination not local and forwarding is off (RFC 1122 3.3.4.2)") \
	DROP(IP4_UNKNOWN_PROTO,  "ip4: no handler for the protocol; protocol unreachable sent (RFC 1122 3.2.2.1)") \
	DROP(IP4_NO_ROUTE,       "ip4: output found no route (RFC 1812 5.2.4)") \
	DROP(IP4_NO_BUF,         "ip4: output could not get a buffer for a header or fragment") \
	DROP(IP4_OUT_LOOPBACK_SRC, "ip4: output from a 127/8 source towards a device (RFC 1122 3.2.1.3 (g))") \
	DROP(REASM_BAD_FRAG,     "reasm: fragment length not a multiple of 8 with MF, or empty (RFC 791)") \
	DROP(REASM_TOO_BIG,      "reasm: fragment would end past 65535 bytes (RFC 791; ping of death)") \
	DROP(REASM_OVERLAP,      "reasm: overlapping fragment, whole datagram dropped (RFC 5722 rule applied to IPv4)") \
	DROP(REASM_TIMEOUT,      "reasm: datagram not complete within the timeout (RFC 1122 3.3.2)") \
	DROP(REASM_MEM,          "reasm: memory limit for fragments in flight reached") \
	DROP(REASM_TABLE_FULL,   "reasm: too many datagrams in reassembly") \
	DROP(REASM_DUP,          "reasm: exact duplicate fragment") \
	DROP(REASM_TOO_MANY,     "reasm: more fragments for one datagram than reasm_max_frags") \
	DROP(ICMP_SHORT,         "icmp: shorter than 8 bytes (RFC 792)") \
	DROP(ICMP_BAD_CSUM,      "icmp: checksum wrong (RFC 792)") \
	DROP(ICMP_UNHANDLED,     "icmp: type not handled (RFC 1122 3.2.2: silently discarded)") \
	DROP(ICMP_BCAST_ECHO,    "icmp: echo to broadcast/multicast ignored (RFC 1122 3.2.2.6)") \
	DROP(ICMP_ERR_BAD_QUOTE, "icmp: error quotes too little of the offending datagram (RFC 1122 3.2.2)") \
	DROP(ICMP_ERR_NO_SOCKET, "icmp: error for a datagram no socket sent") \
	DROP(ICMP_OUT_LIMITED,   "icmp: error not sent, rate limit (RFC 1812 4.3.2.8)") \
	DROP(RAW_RCVBUF_FULL,    "raw: socket receive buffer full (SO_RCVBUF)") \
	DROP(RAW_NO_BUF,         "raw: no frame for a raw socket's copy or error entry") \
	DROP(RAW_ERRQ_FULL,      "raw: error queue full (IP_RECVERR, SO_RCVBUF)") \
	DROP(RAW_FILTERED,       "raw: a socket's SO_ATTACH_FILTER refused its copy (Linux SKB_DROP_REASON_SOCKET_FILTER)") \
	DROP(RAW_BAD_CSUM,       "raw: IPv6 checksum wrong for a socket with IPV6_CHECKSUM / ICMPv6 (RFC 3542 3.1)") \
	DROP(RAW_ICMP6_FILTERED, "raw: ICMP6_FILTER blocks the type, no socket of the protocol took it (RFC 3542 3.2)") \
	DROP(IGMP_SHORT,         "igmp: shorter than 8 bytes (RFC 3376 4)") \
	DROP(IGMP_BAD_CSUM,      "igmp: checksum wrong (RFC 3376 4.1.2)") \
	DROP(IGMP_BAD_TYPE,      "igmp: type no host handles (RFC 3376 4)") \
	DROP(IGMP_BAD_LEN,       "igmp: length no version has, or sources/records past the end (RFC 3376 7.1, 4.1.8)") \
	DROP(IGMP_BAD_GROUP,     "igmp: group not multicast, or a General Query with sources (RFC 3376 4.1.9)") \
	DROP(IGMP_FRAGMENTED,    "igmp: message arrived in fragments (no querier fragments one; not parsed)") \
	DROP(IGMP_NO_BUF,        "igmp: no frame for a report or leave") \
	/* MLD (dataplane/mld.c; RFC 3810 5, RFC 2710 3) */ \
	DROP(MLD_BAD_HOPLIMIT,   "mld: hop limit is not 1 (RFC 3810 5.1.14, 5.2.13)") \
	DROP(MLD_NO_RA,          "mld: no Router Alert in a Hop-by-Hop header (RFC 3810 5.1.14, 5.2.13)") \
	DROP(MLD_BAD_SRC,        "mld: source not link-local (reports and Done may also come from ::) (RFC 3810 5.1.14, 5.2.13)") \
	DROP(MLD_BAD_LEN,        "mld: length no version has, or sources/records past the end (RFC 3810 8.1, 5.1.10)") \
	DROP(MLD_BAD_GROUP,      "mld: group not multicast, or a General Query with sources (RFC 3810 5.1.10)") \
	DROP(MLD_FRAGMENTED,     "mld: message arrived in fragments (not parsed)") \
	DROP(MLD_NO_BUF,         "mld: no frame for a report or done") \
	DROP(UDP_SHORT,          "udp: shorter than 8 bytes (RFC 768)") \
	DROP(UDP_BAD_LEN,        "udp: length field < 8 or > IP payload (RFC 768)") \
	DROP(UDP_BAD_CSUM,       "udp: checksum wrong (RFC 768, RFC 1122 4.1.3.4)") \
	DROP(UDP_NO_PORT,        "udp: no socket for the port; port unreachable sent (RFC 1122 4.1.3.1)") \
	DROP(UDP_RCVBUF_FULL,    "udp: socket receive buffer full (SO_RCVBUF)") \
	DROP(PACKET_RCVBUF_FULL, "packet: a packet socket's copy dropped, receive buffer or ring full (PACKET_STATISTICS tp_drops)") \
	DROP(UDP_ZERO_PORT,      "udp: destination port 0 (source port 0 is legal, RFC 768)") \
	DROP(TX_QUEUE_FULL,      "tx: interface transmit queue full") \
	DROP(TCP_SHORT,          "tcp: shorter than 20 bytes (RFC 9293 3.1)") \
	DROP(TCP_BAD_OFF,        "tcp: data offset < 20 or beyond the segment (RFC 9293 3.1)") \
	DROP(TCP_BAD_CSUM,       "tcp: checksum wrong (RFC 9293 3.1)") \
	DROP(TCP_BCAST,          "tcp: to a broadcast or multicast address (RFC 1122 4.2.3.10)") \
	DROP(TCP_NO_SOCKET,      "tcp: no connection or listener; reset sent (RFC 9293 3.10.7.1)") \
	DROP(TCP_LISTEN_RST,     "tcp: RST to a listener ignored (RFC 9293 3.10.7.2)") \
	DROP(TCP_LISTEN_ACK,     "tcp: ACK to a listener; reset sent (RFC 9293 3.10.7.2)") \
	DROP(TCP_LISTEN_NOSYN,   "tcp: neither SYN nor ACK/RST to a listener (RFC 9293 3.10.7.2)") \
	DROP(TCP_SYN_QUEUE_FULL, "tcp: SYN dropped, listen queues full or no free connection") \
	DROP(TCP_SYNSENT_BAD_ACK,"tcp: SYN-SENT got an unacceptable ACK or RST (RFC 9293 3.10.7.3)") \
	DROP(TCP_SYNSENT_NOSYN,  "tcp: SYN-SENT got a segment without SYN (RFC 9293 3.10.7.3)") \
	DROP(TCP_PAWS,           "tcp: old timestamp, duplicate segment (RFC 7323 5.3)") \
	DROP(TCP_OUT_OF_WINDOW,  "tcp: sequence number not acceptable; ACK sent (RFC 9293 3.10.7.4)") \
	DROP(TCP_SYN_IN_WINDOW,  "tcp: SYN on a synchronized connection; challenge ACK (RFC 5961 4.2)") \
	DROP(TCP_CHALLENGE_LIMITED, "tcp: challenge ACK suppressed by the rate limit (RFC 5961 7)") \
	DROP(TCP_NO_ACK,         "tcp: segment without ACK in a synchronized state (RFC 9293 3.10.7.4)") \
	DROP(TCP_BAD_ACK,        "tcp: SYN-RECEIVED got an unacceptable ACK; reset sent (RFC 9293 3.10.7.4)") \
	DROP(TCP_ACK_TOO_NEW,    "tcp: ACK for data not yet sent; ACK sent (RFC 9293 3.10.7.4, RFC 5961 5.2)") \
	DROP(TCP_ACK_TOO_OLD,    "tcp: ACK older than the send window allows (RFC 5961 5.2)") \
	DROP(TCP_DATA_AFTER_FIN, "tcp: data after the peer's FIN (RFC 9293 3.10.7.4 seventh)") \
	DROP(TCP_DATA_AFTER_CLOSE, "tcp: data for a closed socket; reset sent (RFC 2525 2.17)") \
	DROP(TCP_RCVBUF_FULL,    "tcp: receive buffer memory exhausted (SO_RCVBUF)") \
	DROP(TCP_OOO_FULL,       "tcp: out-of-order queue full") \
	DROP(TCP_RX_MEM,         "tcp: stack-wide receive memory limit (tcp_rx_mem_max: frames the driver pool needs back)") \
	DROP(TCP_ICMP_OUT_OF_WINDOW, "tcp: ICMP error quoting a sequence number not in flight (RFC 5927 4.1)") \
	DROP(IP6_SHORT,          "ip6: shorter than the 40-byte fixed header (RFC 8200 3)") \
	DROP(IP6_BAD_VERSION,    "ip6: version is not 6 (RFC 8200 3)") \
	DROP(IP6_BAD_PLEN,       "ip6: payload length beyond the frame (RFC 8200 3)") \
	DROP(IP6_EXT_TRUNCATED,  "ip6: extension header runs past the payload (RFC 8200 4)") \
	DROP(IP6_EXT_TOO_MANY,   "ip6: more extension headers than the limit (RFC 8504 5.3; Linux IP6_MAX_EXT_HDRS_CNT)") \
	DROP(IP6_EXT_TOO_LONG,   "ip6: extension header chain longer than the limit (RFC 8504 5.3, RFC 7112)") \
	DROP(IP6_HBH_NOT_FIRST,  "ip6: hop-by-hop options not right after the IPv6 header; parameter problem (RFC 8200 4, 4.3)") \
	DROP(IP6_OPT_MALFORMED,  "ip6: option overruns its header, padding over 7 bytes or PadN not zero (RFC 8200 4.2, RFC 8504 5.3)") \
	DROP(IP6_OPT_TOO_MANY,   "ip6: more non-padding options in one header than the limit (RFC 8504 5.3)") \
	DROP(IP6_OPT_UNKNOWN,    "ip6: unrecognized option whose action bits say discard; parameter problem for 10/11 (RFC 8200 4.2)") \
	DROP(IP6_RH0,            "ip6: type 0 routing header with segments left; parameter problem (RFC 5095 3)") \
	DROP(IP6_RH_UNKNOWN,     "ip6: routing type not implemented and segments left > 0; parameter problem (RFC 8200 4.4)") \
	DROP(IP6_FRAG_BAD_LEN,   "ip6: fragment with M set not a multiple of 8 bytes; parameter problem (RFC 8200 4.5)") \
	DROP(IP6_FRAG_TOO_BIG,   "ip6: fragment would end past 65535 bytes of payload; parameter problem (RFC 8200 4.5)") \
	DROP(IP6_FRAG_INCOMPLETE, "ip6: first fragment without the whole header chain; parameter problem code 3 (RFC 7112 5, RFC 8200 4.5)") \
	DROP(IP6_FRAG_NESTED,    "ip6: fragment header after a fragment header (RFC 8200 4.1: at most once)") \
	DROP(IP6_BAD_SRC,        "ip6: source is multicast, or loopback/our own from a device (RFC 4291 2.7, 2.5.3)") \
	DROP(IP6_MARTIAN_DST,    "ip6: destination is ::, ::1 or v4-mapped on the wire (RFC 4291 2.5.2, 2.5.3, RFC 6890)") \
	DROP(IP6_NOT_FOR_US,     "ip6: destination not ours, not a group we are in, and forwarding is off (RFC 8200 4)") \
	DROP(IP6_UNKNOWN_PROTO,  "ip6: no handler for the next header; parameter problem code 1 sent (RFC 8200 4)") \
	DROP(IP6_NO_ROUTE,       "ip6: output found no route") \
	DROP(IP6_NO_BUF,         "ip6: output could not get a buffer for a header or fragment") \
	DROP(IP6_NONE,           "ip6: next header 59, nothing follows (RFC 8200 4.7)") \
	DROP(ND_NA_FOR_OURS,     "nd: advertisement for an address we own, not merged (RFC 4862 5.4.4; spoofing)") \
	DROP(ND_NS_NOT_OURS,     "nd: solicitation for a target that is not our address (RFC 4861 7.2.3)") \
	DROP(ND_DAD_CONFLICT,    "nd: DAD found our tentative address in use; the address is not used (RFC 4862 5.4.3, 5.4.4)") \
	DROP(ND_REDIRECT_IGNORED, "nd: redirect ignored: not accepted by configuration or not from the first-hop router (RFC 4861 8.1)") \
	DROP(ND_RA_IGNORED,      "nd: router advertisement ignored (nd_accept_ra off)") \
	DROP(ICMP6_INFO_UNKNOWN, "icmp6: informational message of a type we do not handle (RFC 4443 2.4 (b))") \
	DROP(ICMP6_ERR_NO_OWNER, "icmp6: error quoting a packet no socket of ours sent")

enum skiff_drop_reason {
#define DROP_ENUM(n, d) SKIFF_DROP_##n,
	SKIFF_DROP_REASONS(DROP_ENUM)
#undef DROP_ENUM
#define DROP_ENUM_ICMP6(n, d) SKIFF_DROP_ICMP6_##n,
	ICMP6_FAILS(DROP_ENUM_ICMP6)
#undef DROP_ENUM_ICMP6
	SKIFF_DROP_MAX
};

/* The drop for an ICMPv6/ND parse failure (icmp6_msg.h, nd_msg.h). */
static inline enum skiff_drop_reason skiff_drop_icmp6(enum icmp6_fail f)
{
	return (enum skiff_drop_reason)(SKIFF_DROP_ICMP6_SHORT + (f > ICMP6_FAIL_NONE ? f - 1 : 0));
}

const char *skiff_drop_name(enum skiff_drop_reason r);
const char *skiff_drop_desc(enum skiff_drop_reason r);

#endif
