/*
 * ARP (RFC 826) for Ethernet/IPv4: answer who-has for our address, keep a
 * small open-addressed cache of next hops with a lifetime, and refresh an
 * entry before it expires so that a long run never stalls on re-resolution.
 *
 * An unresolved next hop does not queue packets: the frame is counted
 * (tx_noarp) and TCP's own retransmission recovers once the reply arrives.
 */
#include <string.h>

#include <rte_arp.h>

#include "stack_int.h"

#define ARP_RETRY_US (1000u * 1000u)

static struct sp_arp_entry *
arp_find(struct sp_stack *st, uint32_t ip, bool create)
{
	uint32_t h = (ip * 2654435761u) >> 24; /* Knuth: top 8 bits */
	uint32_t i;

	for (i = 0; i < SP_ARP_SLOTS; i++) {
		struct sp_arp_entry *e = &st->arp[(h + i) & (SP_ARP_SLOTS - 1)];

		if (e->ip == ip)
			return e;
		if (e->ip == 0) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->ip = ip;
			return e;
		}
	}
	return NULL; /* full: the cache holds next hops, not every peer */
}

static void
arp_send(struct sp_stack *st, uint16_t op, const uint8_t *tha, uint32_t sip,
	 uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	void *handle;
	uint8_t *f = st->cfg.tx_alloc(st->cfg.io_ctx, &handle);

	if (!f) {
		sp_ctr_inc(st->stats.tx_nobuf);
		return;
	}
	eth = (struct rte_ether_hdr *)f;
	memcpy(eth->dst_addr.addr_bytes, op == RTE_ARP_OP_REQUEST ? bcast : tha,
	       6);
	memcpy(eth->src_addr.addr_bytes, st->cfg.mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(arp->arp_data.arp_sha.addr_bytes, st->cfg.mac, 6);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	if (op == RTE_ARP_OP_REQUEST)
		memset(arp->arp_data.arp_tha.addr_bytes, 0, 6);
	else
		memcpy(arp->arp_data.arp_tha.addr_bytes, tha, 6);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	/* Pad to the Ethernet minimum (60 bytes without FCS). */
	memset(f + sizeof(*eth) + sizeof(*arp), 0,
	       60 - sizeof(*eth) - sizeof(*arp));
	st->cfg.tx_send(st->cfg.io_ctx, handle, 60, 0);
	sp_ctr_inc(st->stats.tx_frames);
	sp_ctr_add(st->stats.tx_bytes, 60);
	if (op == RTE_ARP_OP_REQUEST)
		sp_ctr_inc(st->stats.arp_tx_request);
	else
		sp_ctr_inc(st->stats.arp_tx_reply);
}

/* The next hop toward @ip: itself on-link, else the gateway. */
static uint32_t
arp_hop(const struct sp_stack *st, uint32_t ip)
{
	uint32_t mask = 0;

	if (st->cfg.prefix_len)
		mask = ~0u << (32 - st->cfg.prefix_len);

	if (st->cfg.gateway && (ip & mask) != (st->cfg.ip & mask))
		return st->cfg.gateway;
	return ip;
}

/*
 * Check an ARP frame and, if it is for one of our addresses, merge its
 * sender into the cache (RFC 826: a request or reply for us teaches us the
 * sender). Returns the opcode, or SP_DROP_ERR(reason).
 */
int
sp_arp_merge(struct sp_stack *st, const uint8_t *frame, uint32_t len)
{
	const struct rte_arp_hdr *arp =
		(const struct rte_arp_hdr *)(frame + RTE_ETHER_HDR_LEN);
	struct sp_arp_entry *e;
	uint32_t sip;
	uint16_t op;

	if (len < sizeof(struct rte_ether_hdr) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != 6 || arp->arp_plen != 4)
		return SP_DROP_ERR(SP_DROP_ARP_BAD);
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return SP_DROP_ERR(SP_DROP_ARP_BAD);
	if (!sp_ip_ours(st, rte_be_to_cpu_32(arp->arp_data.arp_tip)))
		return SP_DROP_ERR(SP_DROP_ARP_OTHER);
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	if (sip != 0 && (e = arp_find(st, sip, true)) != NULL) {
		memcpy(e->mac, arp->arp_data.arp_sha.addr_bytes, 6);
		e->valid = 1;
		e->expire_us = st->now_us + st->cfg.arp_timeout_us;
	}
	return op;
}

void
sp_arp_input(struct sp_stack *st, const uint8_t *frame, uint32_t len)
{
	const struct rte_arp_hdr *arp =
		(const struct rte_arp_hdr *)(frame + RTE_ETHER_HDR_LEN);
	int op = sp_arp_merge(st, frame, len);

	if (op < 0) {
		sp_drop(st, SP_DROP_OF(op));
		return;
	}
	if (op == RTE_ARP_OP_REQUEST) {
		sp_ctr_inc(st->stats.arp_rx_request);
		/* From the address asked for: any of ours. */
		arp_send(st, RTE_ARP_OP_REPLY, arp->arp_data.arp_sha.addr_bytes,
			 rte_be_to_cpu_32(arp->arp_data.arp_tip),
			 rte_be_to_cpu_32(arp->arp_data.arp_sip));
	} else {
		sp_ctr_inc(st->stats.arp_rx_reply);
	}
}

/*
 * Without this a responder's first answer to a client it has not heard
 * ARP from (the client's cache still held our address) waits for ARP and
 * then for the SYN-ACK's retransmission: a second's stall per new client.
 * Linux queues the SYN-ACK on its pending neighbour instead; we have no
 * queue, and the frame names the hop. The entry is verified by ARP when
 * its refresh comes due, like any other.
 */
void
sp_arp_from_syn(struct sp_stack *st, const uint8_t *frame, uint32_t src_ip)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	struct sp_arp_entry *e;

	if (!rte_is_unicast_ether_addr(&eth->src_addr))
		return;
	e = arp_find(st, arp_hop(st, src_ip), true);
	if (!e || (e->valid && st->now_us < e->expire_us))
		return;
	memcpy(e->mac, eth->src_addr.addr_bytes, 6);
	e->valid = 1;
	e->expire_us = st->now_us + st->cfg.arp_timeout_us;
	sp_ctr_inc(st->stats.arp_from_syn);
}

static void
arp_solicit(struct sp_stack *st, struct sp_arp_entry *e)
{
	if (e->last_req_us && st->now_us - e->last_req_us < ARP_RETRY_US)
		return;
	e->last_req_us = st->now_us;
	arp_send(st, RTE_ARP_OP_REQUEST, NULL, st->cfg.ip, e->ip);
}

const uint8_t *
sp_arp_nexthop(struct sp_stack *st, uint32_t dst_ip)
{
	struct sp_arp_entry *e = st->nh_e;

	/* The same destination as the last frame's, most of the time. */
	if (e != NULL && dst_ip == st->nh_dst && e->ip == st->nh_hop &&
	    e->valid && st->now_us < e->expire_us)
		return e->mac;
	st->nh_dst = dst_ip;
	st->nh_hop = arp_hop(st, dst_ip);
	st->nh_e = e = arp_find(st, st->nh_hop, true);
	if (!e)
		return NULL;
	if (e->valid && st->now_us < e->expire_us)
		return e->mac;
	arp_solicit(st, e);
	return NULL;
}

bool
sp_arp_lookup(struct sp_stack *st, uint32_t ip, uint8_t mac[6])
{
	struct sp_arp_entry *e = arp_find(st, ip, false);

	if (!e || !e->valid || st->now_us >= e->expire_us)
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

void
sp_arp_request(struct sp_stack *st, uint32_t ip)
{
	struct sp_arp_entry *e = arp_find(st, ip, true);

	if (e)
		arp_solicit(st, e);
}

/* Refresh entries in their last quarter of life, while they still work. */
void
sp_arp_poll(struct sp_stack *st)
{
	uint64_t quarter = st->cfg.arp_timeout_us / 4;
	uint32_t i;

	for (i = 0; i < SP_ARP_SLOTS; i++) {
		struct sp_arp_entry *e = &st->arp[i];

		if (e->ip && e->valid && e->expire_us - st->now_us < quarter)
			arp_solicit(st, e);
	}
}
