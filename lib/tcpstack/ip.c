/*
 * IPv4 (RFC 791) input validation and output framing, and ICMP echo
 * (RFC 792). The IPv4 and TCP checksums are made and checked in software,
 * or by the NIC where the port offloads them (cksum_ol.h: an af_packet
 * port cannot); either way every one is checked, a peer's checksum is
 * never trusted unchecked. ICMP's are always ours. Fragments are not
 * reassembled: they are dropped and counted.
 */
#include <string.h>

#include <rte_icmp.h>

#include "cksum_ol.h"

void
sp_drop(struct sp_stack *st, enum sp_drop_reason r)
{
	sp_ctr_inc(st->stats.drop[r]);
	if (!st->last_drop)
		st->last_drop = SP_DROP_ERR(r);
}

static void
icmp_input(struct sp_stack *st, const uint8_t *frame,
	   const struct rte_ipv4_hdr *ip, uint32_t hlen, uint32_t tot)
{
	const struct rte_icmp_hdr *icmp =
		(const struct rte_icmp_hdr *)((const uint8_t *)ip + hlen);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	uint32_t icmp_len = tot - hlen;
	struct rte_icmp_hdr *out;
	void *handle;
	uint8_t *f;

	/* The reply echoes the whole message into one SP_FRAME_MAX buffer:
	 * a datagram larger than a frame (jumbo, or coalesced by GRO) is
	 * dropped rather than written past the buffer. */
	if (icmp_len < sizeof(*icmp) ||
	    icmp_len > SP_FRAME_MAX - sizeof(*eth) - sizeof(*ip) ||
	    sp_cksum_raw(icmp, icmp_len, 0) != 0xffff ||
	    icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    icmp->icmp_code != 0) {
		sp_drop(st, SP_DROP_ICMP_BAD);
		return;
	}
	/* Answer to the frame's source MAC: no ARP needed for a reply. */
	f = sp_ip_begin(st, &handle, rte_be_to_cpu_32(ip->dst_addr),
			eth->src_addr.addr_bytes,
			rte_be_to_cpu_32(ip->src_addr), IPPROTO_ICMP);
	if (!f)
		return;
	out = (struct rte_icmp_hdr *)(f + sizeof(struct rte_ether_hdr) +
				      sizeof(struct rte_ipv4_hdr));
	memcpy(out, icmp, icmp_len);
	out->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	out->icmp_cksum = 0;
	out->icmp_cksum = (uint16_t)~sp_cksum_raw(out, icmp_len, 0);
	sp_ip_finish(st, handle, f, icmp_len);
	sp_ctr_inc(st->stats.icmp_echo);
}

void
sp_ip_input(struct sp_stack *st, const uint8_t *frame,
	    const struct rte_ipv4_hdr *ip, uint32_t ip_len)
{
	uint32_t hlen, tot;

	if (ip_len < sizeof(*ip) || (ip->version_ihl >> 4) != 4) {
		sp_drop(st, SP_DROP_IP_HDR);
		return;
	}
	hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	tot = rte_be_to_cpu_16(ip->total_length);
	/* Frames may carry Ethernet padding beyond total_length, never less. */
	if (hlen < sizeof(*ip) || tot < hlen || tot > ip_len) {
		sp_drop(st, SP_DROP_IP_HDR);
		return;
	}
	if (!sp_cksum_ip_in(st, ip, hlen)) {
		sp_drop(st, SP_DROP_IP_CSUM);
		return;
	}
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		sp_drop(st, SP_DROP_IP_FRAG);
		return;
	}
	if (!sp_ip_ours(st, rte_be_to_cpu_32(ip->dst_addr))) {
		sp_drop(st, SP_DROP_IP_DST);
		return;
	}
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		sp_seg_input(st, frame, ip, tot);
		break;
	case IPPROTO_ICMP:
		icmp_input(st, frame, ip, hlen, tot);
		break;
	default:
		sp_drop(st, SP_DROP_IP_PROTO);
		break;
	}
}

uint8_t *
sp_ip_begin(struct sp_stack *st, void **handle, uint32_t src_ip,
	    const uint8_t *dst_mac, uint32_t dst_ip, uint8_t proto)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *f;

	if (!dst_mac) {
		dst_mac = sp_arp_nexthop(st, dst_ip);
		if (!dst_mac) {
			sp_ctr_inc(st->stats.tx_noarp);
			return NULL;
		}
	}
	f = st->cfg.tx_alloc(st->cfg.io_ctx, handle);
	if (!f) {
		sp_ctr_inc(st->stats.tx_nobuf);
		return NULL;
	}
	eth = (struct rte_ether_hdr *)f;
	memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	memcpy(eth->src_addr.addr_bytes, st->cfg.mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->packet_id = rte_cpu_to_be_16(st->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	return f;
}

void
sp_ip_finish(struct sp_stack *st, void *handle, uint8_t *frame, uint32_t l4_len)
{
	struct rte_ipv4_hdr *ip =
		(struct rte_ipv4_hdr *)(frame + sizeof(struct rte_ether_hdr));
	uint32_t len = (uint32_t)(sizeof(struct rte_ether_hdr) + sizeof(*ip)) +
		       l4_len;
	uint64_t ol;

	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ol = sp_cksum_out(st, ip, l4_len);
	/* Pad short frames to the Ethernet minimum of 60 bytes (zeros: a
	 * NIC that sums to the frame's end adds nothing). */
	if (len < 60) {
		memset(frame + len, 0, 60 - len);
		len = 60;
	}
	st->cfg.tx_send(st->cfg.io_ctx, handle, len, ol);
	sp_ctr_inc(st->stats.tx_frames);
	sp_ctr_add(st->stats.tx_bytes, len);
}
