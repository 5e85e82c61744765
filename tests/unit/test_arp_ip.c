/*
 * Unit tests for the stack's link and network layers: Ethernet
 * demultiplexing, ARP (answer, learn, expire, refresh, resolve through a
 * gateway), IPv4 validation (every drop reason) and ICMP echo. One stack;
 * the test plays the peer with crafted frames and reads what the stack emits.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf_core.h>

#include "harness.h"

#define T0 5000000123ull /* not on a millisecond boundary, on purpose */

static struct sp_h_net net;
static uint8_t f[4096];
static const uint8_t zero_mac[6];

static struct sp_h_node *
start1(void (*tweak)(struct sp_stack_config *))
{
	sp_h_net_init(&net, 1, 64);
	net.auto_arp = false; /* these tests watch the ARP traffic */
	if (tweak)
		tweak(&net.node[0].cfg);
	sp_h_net_start(&net, T0);
	return &net.node[0];
}

static uint32_t
arp_who_has(uint32_t tip)
{
	return sp_h_build_arp(f, sp_h_mac_bcast, 1, sp_h_mac[1], SP_H_IP_SERVER,
			      zero_mac, tip);
}

static uint32_t
echo_req(uint16_t seq, uint32_t len)
{
	static uint8_t data[1500];

	sp_h_pat_fill(77, seq, data, len);
	return sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], SP_H_IP_SERVER,
			       SP_H_IP_CLIENT, 8, 0xbeef, seq, data, len);
}

static void
check_arp_request(const struct sp_h_pkt *p, uint32_t tip)
{
	CHECK_EQ(p->ethertype, 0x0806);
	CHECK_EQ(p->len, 60);
	CHECK(memcmp(p->dst_mac, sp_h_mac_bcast, 6) == 0);
	CHECK(memcmp(p->src_mac, sp_h_mac[0], 6) == 0);
	CHECK_EQ(p->arp_op, 1);
	CHECK(memcmp(p->arp_sha, sp_h_mac[0], 6) == 0);
	CHECK_EQ(p->arp_sip, SP_H_IP_CLIENT);
	CHECK(memcmp(p->arp_tha, zero_mac, 6) == 0);
	CHECK_EQ(p->arp_tip, tip);
}

/* ---- Ethernet --------------------------------------------------------- */

static void
test_eth_drops(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint32_t len = echo_req(1, 32);

	sp_h_expect_drop(nd, f, 13, SP_DROP_ETH_SHORT);
	memcpy(f, sp_h_mac_other, 6);
	sp_h_expect_drop(nd, f, len, SP_DROP_ETH_DST);
	memcpy(f, sp_h_mac[0], 6);
	f[12] = 0x86;
	f[13] = 0xdd; /* IPv6 */
	sp_h_expect_drop(nd, f, len, SP_DROP_ETH_TYPE);
	f[12] = 0x08;
	f[13] = 0x00;
	sp_h_expect_drop(nd, f, 14, SP_DROP_IP_HDR);
	/* Broadcast is accepted: the echo is answered. */
	memcpy(f, sp_h_mac_bcast, 6);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK_EQ(sp_h_pending(nd), 1);
	sp_h_flush(nd);
	CHECK_EQ(sp_stack_stats(nd->st)->rx_frames, 5);
	sp_h_net_finish(&net);
}

/* ---- ARP -------------------------------------------------------------- */

static void
test_arp_request_answered(void)
{
	struct sp_h_node *nd = start1(NULL);
	struct sp_h_pkt p;
	uint8_t mac[6];
	uint32_t len = arp_who_has(SP_H_IP_CLIENT);

	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.ethertype, 0x0806);
	CHECK_EQ(p.len, 60);
	CHECK(memcmp(p.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK(memcmp(p.src_mac, sp_h_mac[0], 6) == 0);
	CHECK_EQ(p.arp_op, 2);
	CHECK(memcmp(p.arp_sha, sp_h_mac[0], 6) == 0);
	CHECK_EQ(p.arp_sip, SP_H_IP_CLIENT);
	CHECK(memcmp(p.arp_tha, sp_h_mac[1], 6) == 0);
	CHECK_EQ(p.arp_tip, SP_H_IP_SERVER);
	CHECK(!sp_h_pop(nd, &p));
	CHECK_EQ(sp_stack_stats(nd->st)->arp_rx_request, 1);
	CHECK_EQ(sp_stack_stats(nd->st)->arp_tx_reply, 1);
	/* The request taught us the asker (RFC 826 merge). */
	memset(mac, 0, sizeof(mac));
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK(memcmp(mac, sp_h_mac[1], 6) == 0);
	sp_h_net_finish(&net);
}

static void
test_arp_request_other(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint8_t mac[6];
	uint32_t len = arp_who_has(SP_H_IP_OTHER);

	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_OTHER);
	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK_EQ(sp_stack_stats(nd->st)->arp_tx_reply, 0);
	sp_h_net_finish(&net);
}

static void
test_arp_bad(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint32_t len;

	len = arp_who_has(SP_H_IP_CLIENT);
	sp_h_expect_drop(nd, f, 14 + 27, SP_DROP_ARP_BAD); /* truncated */
	f[18] = 8;                                         /* hardware length */
	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_BAD);
	len = arp_who_has(SP_H_IP_CLIENT);
	f[17] = 0xdd; /* protocol 0x08dd */
	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_BAD);
	len = arp_who_has(SP_H_IP_CLIENT);
	f[21] = 9; /* opcode */
	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_BAD);
	len = arp_who_has(SP_H_IP_CLIENT);
	f[15] = 6; /* hardware type IEEE 802 */
	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_BAD);
	sp_h_net_finish(&net);
}

static void
test_arp_reply_learns(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint8_t mac[6];
	uint32_t len;

	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac[1], SP_H_IP_SERVER,
			     sp_h_mac[0], SP_H_IP_CLIENT);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK_EQ(sp_h_pending(nd), 0); /* a reply is not answered */
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK(memcmp(mac, sp_h_mac[1], 6) == 0);
	CHECK_EQ(sp_stack_stats(nd->st)->arp_rx_reply, 1);
	/* A new MAC for the same address replaces the old one. */
	len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac_other, SP_H_IP_SERVER,
			     sp_h_mac[0], SP_H_IP_CLIENT);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK(memcmp(mac, sp_h_mac_other, 6) == 0);
	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_OTHER, mac));
	sp_h_net_finish(&net);
}

/* The peer's SYN from port 40000 to a listener on port 80. */
static struct sp_h_seg
syn_to_80(void)
{
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = SP_H_IP_SERVER,
		.dip = SP_H_IP_CLIENT,
		.sport = 40000,
		.dport = 80,
		.seq = 1000,
		.flags = TH_SYN,
		.win = 8192,
	};

	return s;
}

/* A SYN from a client we have no ARP entry for: the SYN-ACK goes out at
 * once, to the MAC the SYN came from, with no ARP request first (else it
 * waits for the handshake timer); an entry ARP made is not overridden. */
static void
test_arp_from_syn(void)
{
	struct sp_h_node *nd = start1(NULL);
	struct sp_h_seg s = syn_to_80();
	struct sp_h_pkt p;
	uint8_t mac[6];
	uint32_t len;

	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	len = sp_h_build_tcp(f, &s);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.ethertype, 0x0800);
	CHECK_EQ(p.flags, TH_SYN | TH_ACK);
	CHECK(memcmp(p.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK(!sp_h_pop(nd, &p));
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK_EQ(sp_stack_stats(nd->st)->arp_from_syn, 1);
	CHECK_EQ(sp_stack_stats(nd->st)->arp_tx_request, 0);
	CHECK_EQ(sp_stack_stats(nd->st)->tx_noarp, 0);

	/* A second client port, from another MAC: the entry stands. */
	s.smac = sp_h_mac_other;
	s.sport = 40001;
	len = sp_h_build_tcp(f, &s);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.flags, TH_SYN | TH_ACK);
	CHECK(memcmp(p.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK_EQ(sp_stack_stats(nd->st)->arp_from_syn, 1);

	/* Reset both (exact sequence): the children go away unseen. */
	s.flags = TH_RST;
	s.seq = 1001;
	len = sp_h_build_tcp(f, &s);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	s.sport = 40000;
	len = sp_h_build_tcp(f, &s);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	sp_h_net_finish(&net);
}

/* Another queue's copy of an ARP frame: the sender is learnt, nothing is
 * answered or counted; a bad frame or one for another address teaches
 * nothing. */
static void
test_arp_learn_copy(void)
{
	struct sp_h_node *nd = start1(NULL);
	const struct sp_stack_stats *s = sp_stack_stats(nd->st);
	uint8_t mac[6];
	uint32_t len;

	len = arp_who_has(SP_H_IP_OTHER);
	sp_stack_arp_learn(nd->st, f, len, 1000);
	len = arp_who_has(SP_H_IP_CLIENT);
	f[18] = 8; /* hardware length */
	sp_stack_arp_learn(nd->st, f, len, 1000);
	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	len = arp_who_has(SP_H_IP_CLIENT);
	sp_stack_arp_learn(nd->st, f, 14 + 27, 1000); /* truncated */
	sp_stack_arp_learn(nd->st, f, 10, 1000);      /* not even Ethernet */
	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	sp_stack_arp_learn(nd->st, f, len, 1000);
	CHECK_EQ(sp_h_pending(nd), 0);
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	CHECK(memcmp(mac, sp_h_mac[1], 6) == 0);
	CHECK_EQ(s->rx_frames, 0);
	CHECK_EQ(s->arp_rx_request, 0);
	CHECK_EQ(s->arp_tx_reply, 0);
	for (int i = 0; i < SP_DROP_NREASONS; i++)
		CHECK_EQ(s->drop[i], 0);
	sp_h_net_finish(&net);
}

static void
test_arp_request_api(void)
{
	struct sp_h_node *nd = start1(NULL);
	struct sp_h_pkt p;

	sp_arp_request(nd->st, SP_H_IP_SERVER);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, SP_H_IP_SERVER);
	/* Rate-limited per entry: not again within a second. */
	sp_arp_request(nd->st, SP_H_IP_SERVER);
	CHECK_EQ(sp_h_pending(nd), 0);
	sp_h_advance(&net, 999 * 1000);
	sp_arp_request(nd->st, SP_H_IP_SERVER);
	CHECK_EQ(sp_h_pending(nd), 0);
	sp_h_advance(&net, 1000);
	sp_arp_request(nd->st, SP_H_IP_SERVER);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, SP_H_IP_SERVER);
	CHECK_EQ(sp_stack_stats(nd->st)->arp_tx_request, 2);
	sp_h_net_finish(&net);
}

static void
arp_8s(struct sp_stack_config *cfg)
{
	cfg->arp_timeout_us = 8 * 1000 * 1000;
}

/* Refresh in the last quarter of the lifetime, at most once a second; the
 * entry dies at its deadline if nobody answers. */
static void
test_arp_expiry_refresh(void)
{
	struct sp_h_node *nd = start1(arp_8s);
	struct sp_h_pkt p;
	uint8_t mac[6];
	uint32_t n = 0;

	sp_h_resolve(&net); /* learnt at T0: expires at T0 + 8 s */
	sp_h_advance(&net, 5900 * 1000);
	CHECK_EQ(sp_h_pending(nd), 0);
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	sp_h_advance(&net, 300 * 1000); /* T0 + 6.2 s: in the last quarter */
	CHECK_EQ(sp_h_pending(nd), 1);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, SP_H_IP_SERVER);
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac)); /* still valid */
	sp_h_advance(&net, 1700 * 1000);                   /* T0 + 7.9 s */
	while (sp_h_pop(nd, &p)) {
		check_arp_request(&p, SP_H_IP_SERVER);
		n++;
	}
	CHECK_EQ(n, 1); /* one more, a second after the first */
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	sp_h_advance(&net, 100 * 1000); /* T0 + 8 s: the deadline */
	CHECK(!sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	sp_h_flush(nd);
	/* A late reply brings it back for a full lifetime. */
	sp_h_resolve(&net);
	sp_h_advance(&net, 5 * 1000 * 1000);
	CHECK_EQ(sp_h_pending(nd), 0);
	sp_h_advance(&net, 1500 * 1000);
	CHECK_EQ(sp_h_pending(nd), 1);
	/* Answering the refresh extends the lifetime: no more requests. */
	sp_h_flush(nd);
	sp_h_resolve(&net);
	sp_h_advance(&net, 5 * 1000 * 1000);
	CHECK_EQ(sp_h_pending(nd), 0);
	CHECK(sp_arp_lookup(nd->st, SP_H_IP_SERVER, mac));
	sp_h_net_finish(&net);
}

/* An unresolved next hop: the SYN is not sent but counted, a who-has goes
 * out, and the SYN retransmission after the reply reaches the peer. */
static void
test_arp_unresolved_connect(void)
{
	struct sp_h_node *nd = start1(NULL);
	struct sp_h_conn *r;
	struct sp_h_pkt p;
	uint32_t len;

	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, SP_H_IP_SERVER);
	CHECK_EQ(sp_h_pending(nd), 0);
	CHECK_EQ(sp_stack_stats(nd->st)->tx_noarp, 1);
	len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac[1], SP_H_IP_SERVER,
			     sp_h_mac[0], SP_H_IP_CLIENT);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	sp_h_advance(&net, 1001 * 1000); /* the wheel's 1 ms tick */
	CHECK(sp_h_pop(nd, &p));
	CHECK(p.tcp);
	CHECK_EQ(p.flags, TH_SYN);
	CHECK(memcmp(p.dst_mac, sp_h_mac[1], 6) == 0);
	sp_tcp_abort(nd->st, r->c);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_ABORTED);
	CHECK_EQ(sp_h_pending(nd), 0); /* no RST for an unanswered SYN */
	sp_h_net_finish(&net);
}

static void
with_gateway(struct sp_stack_config *cfg)
{
	cfg->gateway = 0xc61200feu; /* 198.18.0.254 */
}

/* Off-link destinations resolve the gateway, not themselves. */
static void
test_arp_gateway(void)
{
	struct sp_h_node *nd = start1(with_gateway);
	struct sp_h_conn *r;
	struct sp_h_pkt p;
	uint32_t len;

	r = sp_h_connect(nd, 0xc6130005u /* 198.19.0.5 */, 80, 0);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, 0xc61200feu);
	len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac_other, 0xc61200feu,
			     sp_h_mac[0], SP_H_IP_CLIENT);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	sp_h_advance(&net, 1001 * 1000);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.flags, TH_SYN);
	CHECK_EQ(p.dip, 0xc6130005u);
	CHECK(memcmp(p.dst_mac, sp_h_mac_other, 6) == 0);
	/* On-link still resolves directly. */
	sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	CHECK(sp_h_pop(nd, &p));
	check_arp_request(&p, SP_H_IP_SERVER);
	sp_tcp_abort(nd->st, r->c);
	sp_tcp_abort(nd->st, sp_h_conn_at(1)->c);
	sp_h_net_finish(&net);
}

/* ---- ICMP ------------------------------------------------------------- */

static void
check_echo_reply(uint16_t seq, uint32_t len)
{
	struct sp_h_node *nd = &net.node[0];
	struct sp_h_pkt p;
	uint8_t data[1500];

	CHECK(sp_h_pop(nd, &p));
	CHECK(memcmp(p.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK(memcmp(p.src_mac, sp_h_mac[0], 6) == 0);
	CHECK(p.ip);
	CHECK(p.ip_csum_ok);
	CHECK_EQ(p.proto, 1);
	CHECK_EQ(p.sip, SP_H_IP_CLIENT);
	CHECK_EQ(p.dip, SP_H_IP_SERVER);
	CHECK_EQ(p.ip_tot, 20 + 8 + len);
	CHECK(p.l4_csum_ok);
	CHECK_EQ(p.icmp_type, 0);
	CHECK_EQ(p.icmp_code, 0);
	CHECK_EQ(p.icmp_id, 0xbeef);
	CHECK_EQ(p.icmp_seq, seq);
	CHECK_EQ(p.plen, len);
	sp_h_pat_fill(77, seq, data, len);
	CHECK(memcmp(p.payload, data, len) == 0);
}

static void
test_icmp_echo(void)
{
	struct sp_h_node *nd = start1(NULL);
	static const uint32_t sizes[] = { 0, 1, 56, 57, 1000, 1472 };
	uint32_t i, len;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = echo_req((uint16_t)i, sizes[i]);
		CHECK_EQ(sp_h_inject(nd, f, len), 0);
		check_echo_reply((uint16_t)i, sizes[i]);
		CHECK_EQ(sp_h_pending(nd), 0);
	}
	CHECK_EQ(sp_stack_stats(nd->st)->icmp_echo, i);
	/* Ethernet padding after the IP datagram is not echoed. */
	len = echo_req(100, 10);
	memset(f + len, 0xee, 20);
	CHECK_EQ(sp_h_inject(nd, f, len + 20), 0);
	check_echo_reply(100, 10);
	sp_h_net_finish(&net);
}

static void
test_icmp_bad(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint32_t len;

	len = echo_req(1, 40);
	f[14 + 20 + 2] ^= 1; /* checksum */
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	len = echo_req(1, 40);
	f[14 + 20 + 8] ^= 1; /* payload under the checksum */
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	/* Echo reply and unreachable are not answered. */
	len = sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], SP_H_IP_SERVER,
			      SP_H_IP_CLIENT, 0, 1, 1, NULL, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	len = sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], SP_H_IP_SERVER,
			      SP_H_IP_CLIENT, 3, 1, 1, NULL, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	/* Code must be 0. */
	len = echo_req(1, 8);
	f[14 + 20 + 1] = 1;
	sp_h_fix_l4_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	/* Truncated: 4 bytes of ICMP. */
	len = echo_req(1, 0);
	f[14 + 3] = 24;
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, 14 + 24, SP_DROP_ICMP_BAD);
	CHECK_EQ(sp_stack_stats(nd->st)->icmp_echo, 0);
	sp_h_net_finish(&net);
}

/* A datagram larger than one frame (a jumbo or GRO'd frame on a port that
 * allows it) must not be echoed into a SP_FRAME_MAX transmit buffer. */
static void
test_icmp_oversize(void)
{
	struct sp_h_node *nd = start1(NULL);
	static uint8_t data[3000];
	uint32_t len;

	len = sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], SP_H_IP_SERVER,
			      SP_H_IP_CLIENT, 8, 1, 1, data, 2000);
	CHECK_GT(len, SP_FRAME_MAX);
	sp_h_expect_drop(nd, f, len, SP_DROP_ICMP_BAD);
	/* The largest that fits is still answered. */
	len = echo_req(9, 1472);
	CHECK_EQ(len, SP_FRAME_MAX);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	check_echo_reply(9, 1472);
	sp_h_net_finish(&net);
}

/* ---- IPv4 ------------------------------------------------------------- */

static void
test_ip_drops(void)
{
	struct sp_h_node *nd = start1(NULL);
	uint32_t len;

	len = echo_req(1, 20);
	f[14] = 0x65; /* version 6 */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_HDR);

	len = echo_req(1, 20);
	f[14] = 0x44; /* header length 16 */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_HDR);

	len = echo_req(1, 20);
	sp_h_expect_drop(nd, f, 14 + 19, SP_DROP_IP_HDR); /* short header */

	len = echo_req(1, 20);
	f[14 + 3]++; /* total length one past the frame */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_HDR);

	len = echo_req(1, 20);
	f[14 + 2] = 0;
	f[14 + 3] = 19; /* total length below the header length */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_HDR);

	len = echo_req(1, 20);
	f[14 + 0] = 0x4f; /* header length 60 > total length 48 */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_HDR);

	len = echo_req(1, 20);
	f[14 + 10] ^= 0x40;
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_CSUM);

	len = echo_req(1, 20);
	f[14 + 6] = 0x20; /* MF, offset 0: first fragment */
	f[14 + 7] = 0;
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_FRAG);

	len = echo_req(1, 20);
	f[14 + 6] = 0x00; /* offset 8 bytes, no MF: last fragment */
	f[14 + 7] = 1;
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_FRAG);

	len = echo_req(1, 20);
	f[14 + 6] = 0x3f; /* MF and offset */
	f[14 + 7] = 0xff;
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_FRAG);

	len = echo_req(1, 20);
	f[14 + 19] = 0x63; /* 198.18.0.99 */
	sp_h_fix_ip_csum(f);
	sp_h_fix_l4_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_DST);

	len = echo_req(1, 20);
	f[14 + 9] = 17; /* UDP */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_PROTO);

	/* Without DF, and with DF: both are whole datagrams. */
	len = echo_req(1, 20);
	f[14 + 6] = 0;
	sp_h_fix_ip_csum(f);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	check_echo_reply(1, 20);
	sp_h_net_finish(&net);
}

/* IP options move the transport header: ICMP and TCP must follow ihl. */
static void
test_ip_options(void)
{
	struct sp_h_node *nd = start1(NULL);
	struct sp_h_seg s = syn_to_80();
	struct sp_h_pkt p;
	uint32_t len;

	/* ICMP echo with 4 bytes of IP options (NOP x3, EOL). */
	len = echo_req(3, 16);
	memmove(f + 38, f + 34, len - 34);
	f[34] = 1;
	f[35] = 1;
	f[36] = 1;
	f[37] = 0;
	f[14] = 0x46;
	f[14 + 3] = (uint8_t)(f[14 + 3] + 4);
	sp_h_fix_ip_csum(f);
	CHECK_EQ(sp_h_inject(nd, f, len + 4), 0);
	check_echo_reply(3, 16);

	/* TCP SYN with IP options and Ethernet padding, to a listener. */
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	sp_h_resolve(&net);
	len = sp_h_build_tcp(f, &s);
	memmove(f + 38, f + 34, len - 34);
	memset(f + 34, 1, 4);
	f[14] = 0x46;
	f[14 + 3] = (uint8_t)(f[14 + 3] + 4);
	sp_h_fix_ip_csum(f);
	sp_h_fix_l4_csum(f);
	len += 4;
	memset(f + len, 0xab, 8); /* padding, not payload */
	CHECK_EQ(sp_h_inject(nd, f, len + 8), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.flags, TH_SYN | TH_ACK);
	CHECK_EQ(p.ack, 1001);
	CHECK_EQ(p.dport, 40000);
	/* Reset it (exact sequence) so the listener's child goes away. */
	s.flags = TH_RST;
	s.seq = 1001;
	len = sp_h_build_tcp(f, &s);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	CHECK_EQ(nd->n_closed, 0); /* the application never saw it */
	sp_h_net_finish(&net);
}

/* ---- checksum offload -------------------------------------------------- */

/* A SYN to a port nobody listens on: a segment whose checksum passed is
 * answered by a RST (dropped as tcp_noconn), one whose checksum failed is
 * dropped unanswered (tcp_csum). */
static uint32_t
syn_nobody(void)
{
	struct sp_h_seg s = syn_to_80();

	return sp_h_build_tcp(f, &s);
}

/* The NIC's receive verdicts, taken instead of the software check: BAD
 * drops an intact segment (and an intact header), GOOD takes a corrupt
 * one; NONE takes a segment whose field holds only the pseudo-header's
 * sum (a virtio host's partial checksum), which the software check
 * (UNKNOWN: no verdict) drops. Each counted by who checked. */
static void
test_cksum_rx_verdicts(void)
{
	struct sp_h_node *nd = start1(NULL);
	const struct sp_stack_stats *s = sp_stack_stats(nd->st);
	struct sp_h_pkt p;
	uint32_t len;
	uint16_t partial;

	sp_h_resolve(&net);
	nd->rx_ol = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
	len = syn_nobody();
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_CSUM);
	CHECK_EQ(s->cksum_rx_tcp_nic, 1);
	CHECK_EQ(s->cksum_rx_tcp_sw, 0);
	CHECK_EQ(s->cksum_rx_ip_nic, 1);

	nd->rx_ol = RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	sp_h_expect_drop(nd, f, len, SP_DROP_IP_CSUM);
	CHECK_EQ(s->cksum_rx_ip_nic, 2);
	CHECK_EQ(s->cksum_rx_ip_sw, 0);

	/* GOOD on both, checksums wrong: taken (answered) unchecked. */
	nd->rx_ol = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	f[14 + 10] ^= 0x11;
	f[34 + 16] ^= 0x22;
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.flags, TH_RST | TH_ACK);
	CHECK_EQ(s->cksum_rx_tcp_nic, 2);
	CHECK_EQ(s->cksum_rx_tcp_sw, 0);

	/* Partial: the pseudo-header's sum in the field, not complemented. */
	len = syn_nobody();
	partial = (uint16_t)~sp_h_csum(
		f + 34, 0,
		(SP_H_IP_SERVER >> 16) + (SP_H_IP_SERVER & 0xffff) +
			(SP_H_IP_CLIENT >> 16) + (SP_H_IP_CLIENT & 0xffff) + 6 +
			(len - 34));
	f[34 + 16] = (uint8_t)(partial >> 8);
	f[34 + 17] = (uint8_t)partial;
	nd->rx_ol = RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE;
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.flags, TH_RST | TH_ACK);
	CHECK_EQ(s->cksum_rx_tcp_nic, 3);
	CHECK_EQ(s->cksum_rx_ip_nic, 4);

	nd->rx_ol = 0;
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_CSUM);
	CHECK_EQ(s->cksum_rx_tcp_sw, 1);
	CHECK_EQ(s->cksum_rx_ip_sw, 1);
	/* and with the field completed, the software check passes */
	sp_h_fix_l4_csum(f);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	sp_h_flush(nd);
	CHECK_EQ(s->cksum_rx_tcp_sw, 2);
	CHECK_EQ(s->cksum_rx_tcp_nic, 3);
	sp_h_net_finish(&net);
}

/* Transmit with offload: every IPv4 frame asks the NIC for its header's
 * checksum, every TCP segment for its TCP checksum with the pseudo-
 * header's sum in the field (the harness checks both, as a NIC would
 * need them, and then fills the checksums in); ICMP's stays ours. None
 * is made in software. Without offload none asks (the af_packet case). */
static void
test_cksum_tx_offload(void)
{
	for (int off = 0; off < 2; off++) {
		struct sp_h_node *nd;
		const struct sp_stack_stats *s;
		struct sp_h_pkt p;
		uint32_t len;

		sp_h_net_init(&net, 1, 64);
		net.auto_arp = false;
		net.node[0].nic_csum = off;
		sp_h_net_start(&net, T0);
		nd = &net.node[0];
		s = sp_stack_stats(nd->st);
		sp_h_resolve(&net);
		len = syn_nobody();
		sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
		CHECK(sp_h_pop(nd, &p)); /* the RST, checksums complete */
		CHECK_EQ(p.flags, TH_RST | TH_ACK);
		CHECK(p.ip_csum_ok);
		CHECK(p.l4_csum_ok);
		len = echo_req(5, 100);
		CHECK_EQ(sp_h_inject(nd, f, len), 0);
		check_echo_reply(5, 100);
		CHECK_EQ(nd->tx_offloaded, off ? 2 : 0);
		CHECK_EQ(s->cksum_tx_tcp_nic, off ? 1 : 0);
		CHECK_EQ(s->cksum_tx_tcp_sw, off ? 0 : 1);
		CHECK_EQ(s->cksum_tx_ip_nic, off ? 2 : 0);
		CHECK_EQ(s->cksum_tx_ip_sw, off ? 0 : 2);
		/* receive without verdicts: the software checks both */
		CHECK_EQ(s->cksum_rx_tcp_sw, 1);
		CHECK_EQ(s->cksum_rx_ip_sw, 2);
		CHECK_EQ(s->cksum_rx_tcp_nic + s->cksum_rx_ip_nic, 0);
		sp_h_net_finish(&net);
	}
}

/* ---- several addresses (source ranges) --------------------------------- */

static void
three_addrs(struct sp_stack_config *cfg)
{
	cfg->ip_count = 3;
	cfg->port_min = 40000;
	cfg->port_max = 40001;
}

/* Every address of the range answers ARP and ping as itself; active opens
 * take every (address, port) pair once before running out. */
static void
test_ip_range(void)
{
	struct sp_h_node *nd = start1(three_addrs);
	struct sp_h_conn *r[6];
	struct sp_h_pkt p;
	uint32_t seen = 0, len;
	int err = 0;

	len = arp_who_has(SP_H_IP_CLIENT + 2);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.arp_op, 2);
	CHECK_EQ(p.arp_sip, SP_H_IP_CLIENT + 2);
	len = arp_who_has(SP_H_IP_CLIENT + 3);
	sp_h_expect_drop(nd, f, len, SP_DROP_ARP_OTHER);

	len = sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], SP_H_IP_SERVER,
			      SP_H_IP_CLIENT + 1, 8, 0xbeef, 1, NULL, 0);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK(sp_h_pop(nd, &p));
	CHECK_EQ(p.sip, SP_H_IP_CLIENT + 1);
	CHECK_EQ(p.icmp_type, 0);

	for (int i = 0; i < 6; i++) {
		r[i] = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
		CHECK(r[i] != NULL && r[i]->c != NULL);
		CHECK(sp_h_pop(nd, &p));
		CHECK_EQ(p.flags, TH_SYN);
		CHECK(p.sip >= SP_H_IP_CLIENT && p.sip <= SP_H_IP_CLIENT + 2);
		CHECK(p.sport == 40000 || p.sport == 40001);
		/* the addresses take turns: opens 0-2 are .1 .2 .3 */
		CHECK_EQ(p.sip, SP_H_IP_CLIENT + (uint32_t)(i % 3));
		seen |= 1u << ((p.sip - SP_H_IP_CLIENT) * 2 +
			       (p.sport - 40000));
	}
	CHECK_EQ(seen, 0x3f); /* all six pairs, each once */
	CHECK(sp_tcp_connect(nd->st, SP_H_IP_SERVER, 80, NULL, &err) == NULL);
	CHECK_EQ(err, -EADDRNOTAVAIL);
	for (int i = 0; i < 6; i++)
		sp_tcp_abort(nd->st, r[i]->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* ---- RSS placement ------------------------------------------------------ */

/* Microsoft's RSS verification key and two of its IPv4/TCP vectors. */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static void
only_pairs(struct sp_stack_config *cfg)
{
	static const uint32_t pairs[] = { 2,
					  5 }; /* 198.18.0.1:40002, .2:40001 */

	cfg->ip_count = 2;
	cfg->port_min = 40000;
	cfg->port_max = 40003;
	cfg->pairs = pairs;
	cfg->npairs = 2;
}

/* The hash is the specification's, the pairs of the queues partition the
 * ranges, and a stack given pairs opens connections from those only. */
static void
test_rss_pairs(void)
{
	static uint32_t out[4][2 * 1000];
	static uint8_t seen[2 * 1000], owner[2 * 1000];
	uint16_t reta[128];
	uint32_t n[4], total = 0;
	struct sp_h_node *nd;
	struct sp_h_conn *r[2];
	struct sp_h_pkt p;
	uint32_t len;
	int err = 0;

	/* The RSS specification's own test vectors, never sent:
	 * 66.9.149.187:2794 -> 161.142.100.80:1766 (addr-ok),
	 * 199.92.111.2:14230 -> 65.69.140.83:4739 (addr-ok) */
	CHECK_EQ(sp_rss_hash_v4(ms_key, 0x420995bb, 0xa18e6450, 2794, 1766),
		 0x51ccc178);
	CHECK_EQ(sp_rss_hash_v4(ms_key, 0xc75c6f02, 0x41458c53, 14230, 4739),
		 0xc626b0ea);

	for (int i = 0; i < 128; i++)
		reta[i] = (uint16_t)(i % 4);
	sp_rss_owners(ms_key, reta, 128, SP_H_IP_CLIENT, 2, 50000, 50999,
		      SP_H_IP_SERVER, 80, owner);
	for (uint16_t q = 0; q < 4; q++) {
		n[q] = sp_rss_pairs(owner, 2, 1000, q, out[q]);
		CHECK_GT(n[q], 300); /* about a quarter of 2000 each */
		total += n[q];
		/* addresses fastest: a port's pairs in address order, the
		 * ports rising */
		for (uint32_t i = 1; i < n[q]; i++)
			CHECK(out[q][i] % 1000 > out[q][i - 1] % 1000 ||
			      (out[q][i] % 1000 == out[q][i - 1] % 1000 &&
			       out[q][i] > out[q][i - 1]));
		for (uint32_t i = 0; i < n[q]; i++) {
			uint32_t pr = out[q][i];
			uint32_t h = sp_rss_hash_v4(
				ms_key, SP_H_IP_SERVER,
				SP_H_IP_CLIENT + pr / 1000, 80,
				(uint16_t)(50000 + pr % 1000));

			CHECK_EQ(reta[h % 128], q);
			CHECK_EQ(seen[pr], 0);
			seen[pr] = 1;
		}
	}
	CHECK_EQ(total, 2000);
	/* The receive path's lookup names each pair's queue, the one its
	 * own hash gives, and nothing outside the ranges. */
	for (uint32_t pr = 0; pr < 2000; pr++) {
		uint32_t h = sp_rss_hash_v4(ms_key, SP_H_IP_SERVER,
					    SP_H_IP_CLIENT + pr / 1000, 80,
					    (uint16_t)(50000 + pr % 1000));

		CHECK_EQ(sp_rss_owner_of(owner, SP_H_IP_CLIENT, 2, 50000, 1000,
					 SP_H_IP_CLIENT + pr / 1000,
					 (uint16_t)(50000 + pr % 1000)),
			 (int)reta[h % 128]);
	}
	CHECK_EQ(sp_rss_owner_of(owner, SP_H_IP_CLIENT, 2, 50000, 1000,
				 SP_H_IP_CLIENT + 2, 50000),
		 -ENOENT);
	CHECK_EQ(sp_rss_owner_of(owner, SP_H_IP_CLIENT, 2, 50000, 1000,
				 SP_H_IP_CLIENT - 1, 50000),
		 -ENOENT);
	CHECK_EQ(sp_rss_owner_of(owner, SP_H_IP_CLIENT, 2, 50000, 1000,
				 SP_H_IP_CLIENT, 49999),
		 -ENOENT);
	CHECK_EQ(sp_rss_owner_of(owner, SP_H_IP_CLIENT, 2, 50000, 1000,
				 SP_H_IP_CLIENT + 1, 51000),
		 -ENOENT);

	nd = start1(only_pairs);
	len = arp_who_has(SP_H_IP_CLIENT); /* learn the server's MAC */
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	sp_h_flush(nd);
	for (int i = 0; i < 2; i++) {
		r[i] = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
		CHECK(r[i] != NULL && r[i]->c != NULL);
		CHECK(sp_h_pop(nd, &p));
		CHECK(i == 0 ? p.sip == SP_H_IP_CLIENT && p.sport == 40002 :
			       p.sip == SP_H_IP_CLIENT + 1 && p.sport == 40001);
	}
	CHECK(sp_tcp_connect(nd->st, SP_H_IP_SERVER, 80, NULL, &err) == NULL);
	CHECK_EQ(err, -EADDRNOTAVAIL);
	for (int i = 0; i < 2; i++)
		sp_tcp_abort(nd->st, r[i]->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

static const struct sp_h_test tests[] = {
	{ "eth_drops", test_eth_drops },
	{ "arp_request_answered", test_arp_request_answered },
	{ "arp_request_other", test_arp_request_other },
	{ "arp_bad", test_arp_bad },
	{ "arp_reply_learns", test_arp_reply_learns },
	{ "arp_learn_copy", test_arp_learn_copy },
	{ "arp_from_syn", test_arp_from_syn },
	{ "arp_request_api", test_arp_request_api },
	{ "arp_expiry_refresh", test_arp_expiry_refresh },
	{ "arp_unresolved_connect", test_arp_unresolved_connect },
	{ "arp_gateway", test_arp_gateway },
	{ "icmp_echo", test_icmp_echo },
	{ "icmp_bad", test_icmp_bad },
	{ "icmp_oversize", test_icmp_oversize },
	{ "ip_drops", test_ip_drops },
	{ "ip_options", test_ip_options },
	{ "ip_range", test_ip_range },
	{ "cksum_rx_verdicts", test_cksum_rx_verdicts },
	{ "cksum_tx_offload", test_cksum_tx_offload },
	{ "rss_pairs", test_rss_pairs },
};

int
main(int argc, char **argv)
{
	return sp_h_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
