/*
 * Where each IPv4 and TCP checksum is made and checked: by the stack
 * (cksum.h) or by the NIC, when the port offers it. Every decision is
 * here, so that the paths that build and take frames (ip.c, tcp_out.c,
 * tcp_in.c) only call these.
 *
 * Transmit: with sp_stack_config.offload the frame leaves with the
 * checksum field as the NIC wants it (0 for the IPv4 header; the
 * pseudo-header's sum for TCP, which the NIC completes over the segment)
 * and the mbuf flags that ask for it. Receive: the NIC's verdict in the
 * frame's mbuf flags (st->rx_ol) is taken where it gave one; a frame it
 * has no word on is checked here. Either way counted, by who did it.
 */
#ifndef SP_CKSUM_OL_H
#define SP_CKSUM_OL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf_core.h>

#include "cksum.h"
#include "stack_int.h"

/*
 * Fill in the checksums of the IPv4 datagram @ip (a 20-byte header,
 * @l4_len bytes after it; TCP's too when it carries TCP), or leave them
 * to the NIC as the port allows. Returns the mbuf flags for tx_send (0:
 * all done here).
 */
static inline uint64_t
sp_cksum_out(struct sp_stack *st, struct rte_ipv4_hdr *ip, uint32_t l4_len)
{
	uint32_t off = st->cfg.offload;
	uint64_t ol = 0;

	ip->hdr_checksum = 0;
	if (off & SP_OFFLOAD_TX_IPV4_CKSUM) {
		ol = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		sp_ctr_inc(st->stats.cksum_tx_ip_nic);
	} else {
		ip->hdr_checksum = (uint16_t)~sp_cksum_ip20(ip);
		sp_ctr_inc(st->stats.cksum_tx_ip_sw);
	}
	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
		uint64_t phdr = sp_cksum_phdr(ip->src_addr, ip->dst_addr,
					      IPPROTO_TCP, (uint16_t)l4_len);

		if (off & SP_OFFLOAD_TX_TCP_CKSUM) {
			/* rte_ipv4_phdr_cksum's value: the NIC adds the
			 * segment to it and complements. */
			th->cksum = sp_cksum_fold(phdr);
			ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
			sp_ctr_inc(st->stats.cksum_tx_tcp_nic);
		} else {
			/* as rte_ipv4_udptcp_cksum: 0 stays 0 for TCP */
			th->cksum = 0;
			th->cksum = (uint16_t)~sp_cksum_raw(th, l4_len, phdr);
			sp_ctr_inc(st->stats.cksum_tx_tcp_sw);
		}
	}
	return ol;
}

/*
 * The NIC's verdict on one checksum, from @mask's bits of st->rx_ol (@bad:
 * the BAD value), counted in *@nic when it gave one, else in *@sw: 1
 * intact (GOOD; or NONE: the field was never filled in, as from a virtio
 * host's partial checksum, but the data is intact), 0 bad, -1 no word
 * (UNKNOWN: the caller checks it in software).
 */
static inline int
sp_cksum_nic(struct sp_stack *st, uint64_t mask, uint64_t bad,
	     uint64_t *nic, uint64_t *sw)
{
	uint64_t v = st->rx_ol & mask;

	if (v == 0) {
		sp_ctr_inc(*sw);
		return -1;
	}
	sp_ctr_inc(*nic);
	return v != bad;
}

/* Whether the IPv4 header @ip of @hlen bytes of the frame being
 * processed is intact. */
static inline bool
sp_cksum_ip_in(struct sp_stack *st, const struct rte_ipv4_hdr *ip,
	       uint32_t hlen)
{
	int v = sp_cksum_nic(st, RTE_MBUF_F_RX_IP_CKSUM_MASK,
			     RTE_MBUF_F_RX_IP_CKSUM_BAD,
			     &st->stats.cksum_rx_ip_nic,
			     &st->stats.cksum_rx_ip_sw);

	if (v >= 0)
		return v;
	return (hlen == sizeof(*ip) ? sp_cksum_ip20(ip) :
				      sp_cksum_raw(ip, hlen, 0)) == 0xffff;
}

/* Whether the TCP segment @th of @tcp_len bytes in @ip is intact: its sum
 * over pseudo-header and segment folds to 0xffff. */
static inline bool
sp_cksum_tcp_in(struct sp_stack *st, const struct rte_ipv4_hdr *ip,
		const struct rte_tcp_hdr *th, uint32_t tcp_len)
{
	int v = sp_cksum_nic(st, RTE_MBUF_F_RX_L4_CKSUM_MASK,
			     RTE_MBUF_F_RX_L4_CKSUM_BAD,
			     &st->stats.cksum_rx_tcp_nic,
			     &st->stats.cksum_rx_tcp_sw);

	if (v >= 0)
		return v;
	return sp_cksum_raw(th, tcp_len,
			    sp_cksum_phdr(ip->src_addr, ip->dst_addr,
					  ip->next_proto_id,
					  (uint16_t)tcp_len)) == 0xffff;
}

#endif /* SP_CKSUM_OL_H */
