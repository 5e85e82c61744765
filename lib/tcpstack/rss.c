/*
 * RSS placement: which of our (address, port) pairs a NIC's receive-side
 * scaling sends to a given queue, so that every core opens connections
 * whose replies arrive on its own queue and no frame has to be passed
 * between cores (DESIGN: "choose source ports (and addresses) whose
 * Toeplitz hash under the port's RSS key lands on the owner's queue").
 *
 * The hash is the one the NIC computes over the reply: source = the
 * server, destination = us, addresses then ports (Microsoft's RSS
 * specification, IPv4 with TCP), through DPDK's software Toeplitz
 * (rte_softrss: header-only, no EAL).
 */
#include <rte_thash.h>

#include "sp_tcpstack.h"

uint32_t
sp_rss_hash_v4(const uint8_t *key, uint32_t src_ip, uint32_t dst_ip,
	       uint16_t sport, uint16_t dport)
{
	struct rte_ipv4_tuple t;

	t.src_addr = src_ip;
	t.dst_addr = dst_ip;
	t.sport = sport;
	t.dport = dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, key);
}

void
sp_rss_owners(const uint8_t *key, const uint16_t *reta, uint32_t reta_size,
	      uint32_t ip, uint32_t ip_count, uint16_t port_min,
	      uint16_t port_max, uint32_t srv_ip, uint16_t srv_port,
	      uint8_t *owner)
{
	uint32_t nports = (uint32_t)port_max - port_min + 1;

	for (uint32_t a = 0; a < (ip_count ? ip_count : 1); a++)
		for (uint32_t p = 0; p < nports; p++) {
			uint32_t h = sp_rss_hash_v4(key, srv_ip, ip + a,
						    srv_port,
						    (uint16_t)(port_min + p));

			owner[a * nports + p] = (uint8_t)reta[h % reta_size];
		}
}

uint32_t
sp_rss_pairs(const uint8_t *owner, uint32_t ip_count, uint32_t nports,
	     uint16_t queue, uint32_t *out)
{
	uint32_t n = 0;

	if (ip_count == 0)
		ip_count = 1;
	for (uint32_t p = 0; p < nports; p++)
		for (uint32_t a = 0; a < ip_count; a++)
			if (owner[a * nports + p] == queue)
				out[n++] = a * nports + p;
	return n;
}
