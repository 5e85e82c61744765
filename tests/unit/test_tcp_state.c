/*
 * Unit tests for the TCP state machine (RFC 9293 3.10, RFC 5961): header
 * validation, every open and close path, RST/SYN/ACK acceptability in each
 * synchronized state, replies from closed ports and listeners, and the
 * application API's state checks. One stack, driven by a crafted peer; a few
 * tests run two stacks over the harness wire.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define T0 7000000456ull
#define PISN 0x10000000u /* the crafted peer's ISN */

static struct sp_h_net net;
static struct sp_h_peer peer;
static struct sp_h_node *nd;
static struct sp_h_pkt pk;
static uint8_t f[2048];

static const struct sp_stack_stats *
stats(void)
{
	return sp_stack_stats(nd->st);
}

static void
start(void (*tweak)(struct sp_stack_config *))
{
	nd = sp_h_start_one(&net, &peer, T0, tweak);
}

/* Our next sequence number as the peer sees it. */
static uint32_t
our_nxt(void)
{
	return peer.rcv_nxt;
}

/* ---- TCP header validation -------------------------------------------- */

static uint32_t
seg(uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *opt,
    uint32_t optlen, uint32_t len)
{
	static uint8_t data[1500];
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = SP_H_IP_SERVER,
		.dip = SP_H_IP_CLIENT,
		.sport = peer.port,
		.dport = peer.stack_port,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = 65535,
		.opt = opt,
		.optlen = optlen,
		.data = data,
		.len = len,
	};

	return sp_h_build_tcp(f, &s);
}

static void
tcp_hdr_drops_on(bool established)
{
	static const uint8_t opt_len0[] = { 8, 0, 0, 0 };
	static const uint8_t opt_len1[] = { 1, 1, 8, 1 };
	static const uint8_t opt_past[] = { 1, 1, 8, 10 };
	static const uint8_t opt_mss3[] = { 2, 3, 5, 1 };
	static const uint8_t opt_mss5[] = { 2, 5, 5, 180, 0, 0, 0, 0 };
	static const uint8_t opt_ws2[] = { 3, 2, 1, 1 };
	static const uint8_t opt_tail[] = { 1, 1, 1, 2 }; /* kind, no length */
	uint8_t fl = established ? TH_ACK : TH_SYN;
	uint32_t seq = established ? peer.snd_nxt : 5000;
	uint32_t ack = established ? peer.rcv_nxt : 0;
	uint32_t len;

	len = seg(fl, seq, ack, NULL, 0, 0);
	/* Truncated: IP total length leaves 19 bytes of TCP. */
	f[14 + 3] = 20 + 19;
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_HDR);
	/* Data offset below 5 words, and past the segment. */
	len = seg(fl, seq, ack, NULL, 0, 0);
	f[14 + 20 + 12] = 4 << 4;
	sp_h_fix_l4_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_HDR);
	len = seg(fl, seq, ack, NULL, 0, 8);
	f[14 + 20 + 12] = 8 << 4; /* 32 bytes > 28 */
	sp_h_fix_l4_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_HDR);
	/* Checksum: in the header, in the payload, in the pseudo-header. */
	len = seg(fl, seq, ack, NULL, 0, 10);
	f[14 + 20 + 16] ^= 0x01;
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_CSUM);
	len = seg(fl, seq, ack, NULL, 0, 10);
	f[14 + 20 + 20 + 5] ^= 0x80;
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_CSUM);
	len = seg(fl, seq, ack, NULL, 0, 10);
	f[14 + 20 + 20 + 10] = 0xaa; /* padding beyond IP total length */
	f[14 + 3] = (uint8_t)(f[14 + 3] - 1); /* shorter: payload 9 */
	sp_h_fix_ip_csum(f);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_CSUM);
	/* Malformed options. */
	len = seg(fl, seq, ack, opt_len0, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_len1, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_past, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_mss3, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_mss5, 8, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_ws2, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	len = seg(fl, seq, ack, opt_tail, 4, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_OPT);
	/* Impossible flag combinations. */
	len = seg(TH_SYN | TH_RST, seq, ack, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	len = seg(TH_SYN | TH_FIN, seq, ack, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	len = seg(TH_SYN | TH_RST | TH_ACK, seq, ack, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	len = seg(0, seq, ack, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	len = seg(TH_PSH | TH_URG, seq, ack, NULL, 0, 5);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	CHECK_EQ(stats()->tcp_rst_tx, 0);
}

static void
test_tcp_hdr_drops(void)
{
	static const uint8_t opt_ok[] = { 1, 30, 4, 9, 9, 0, 7, 7 };
	struct sp_h_conn *r;
	uint32_t len;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	peer.stack_port = 80;
	tcp_hdr_drops_on(false);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	/* Unknown kinds are skipped and EOL ends parsing: accepted. */
	len = seg(TH_SYN, 5000, 0, opt_ok, 8, 0);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	EXPECT_SEG(nd, TH_SYN | TH_ACK, SP_H_ANY, 5001, 0);
	len = seg(TH_RST, 5001, 0, NULL, 0, 0);
	CHECK_EQ(sp_h_inject(nd, f, len), 0);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);

	r = sp_h_peer_accept(&peer, PISN, 65535);
	tcp_hdr_drops_on(true);
	CHECK(r->c && sp_conn_state(r->c) == SP_TCP_ESTABLISHED);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* ---- opens ------------------------------------------------------------ */

static void
close_active(struct sp_h_conn *r)
{
	CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_FIN_WAIT_1);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), peer.snd_nxt, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
}

static void
test_active_open(void)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 4 };
	struct sp_h_conn *r;
	uint32_t iss;

	start(NULL);
	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_SYN_SENT);
	CHECK_EQ(sp_conn_remote_port(r->c), 80);
	CHECK_EQ(sp_conn_remote_ip(r->c), SP_H_IP_SERVER);
	CHECK_GE(sp_conn_local_port(r->c), nd->cfg.port_min);
	EXPECT_SEG_P(nd, TH_SYN, SP_H_ANY, 0, 0, &pk);
	CHECK(memcmp(pk.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK_EQ(pk.sport, sp_conn_local_port(r->c));
	CHECK_EQ(pk.dport, 80);
	CHECK_EQ(pk.mss, 1460);
	CHECK_EQ(pk.wscale, 3); /* 256 KiB window: 65535 << 3 covers it */
	CHECK_EQ(pk.win, 65535);
	CHECK_EQ(pk.ttl, 64);
	CHECK(pk.ip_frag & 0x4000); /* DF */
	CHECK(!r->connected);
	iss = pk.seq;

	/* SYN-ACK with MSS and window scale 4. */
	peer.stack_port = pk.sport;
	peer.port = 80;
	{
		struct sp_h_seg s = {
			.smac = sp_h_mac[1],
			.dmac = sp_h_mac[0],
			.sip = SP_H_IP_SERVER,
			.dip = SP_H_IP_CLIENT,
			.sport = 80,
			.dport = pk.sport,
			.seq = PISN,
			.ack = iss + 1,
			.flags = TH_SYN | TH_ACK,
			.win = 100,
			.opt = opts,
			.optlen = sizeof(opts),
		};

		CHECK_EQ(sp_h_inject(nd, f, sp_h_build_tcp(f, &s)), 0);
	}
	EXPECT_SEG_P(nd, TH_ACK, iss + 1, PISN + 1, 0, &pk);
	CHECK_EQ(pk.win, 256 * 1024 >> 3); /* scaled now */
	CHECK(r->connected);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_ESTABLISHED);
	CHECK_EQ(stats()->conn_active, 1);
	CHECK_EQ(stats()->conn_established, 1);

	/* The SYN-ACK's window is never scaled; from now on 100 << 4 = 1600:
	 * one full segment, then the rest waits (a 140-byte remainder is
	 * below half the largest window). */
	peer.rcv_nxt = iss + 1;
	peer.snd_nxt = PISN + 1;
	peer.win = 100;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	r->tx_total = 5000;
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, iss + 1, PISN + 1, 1460);
	EXPECT_NONE(nd);
	peer.rcv_nxt += 1460;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0); /* 1600 again */
	EXPECT_SEG(nd, TH_ACK | TH_PSH, iss + 1 + 1460, PISN + 1, 1460);
	peer.rcv_nxt += 1460;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, iss + 1 + 2920, PISN + 1, 1460);
	peer.rcv_nxt += 1460;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, iss + 1 + 4380, PISN + 1, 620);
	peer.rcv_nxt += 620;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_NONE(nd);
	CHECK_GE(r->sent_calls, 1);
	close_active(r);
	sp_h_net_finish(&net);
}

static void
test_passive_open(void)
{
	static const uint8_t opts_ws[] = { 2, 4, 0x02, 0x00, 1, 3, 3, 2 };
	struct sp_h_conn *r;
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = SP_H_IP_SERVER,
		.dip = SP_H_IP_CLIENT,
		.sport = 40001,
		.dport = 80,
		.seq = 777,
		.flags = TH_SYN,
		.win = 1000,
		.opt = opts_ws,
		.optlen = sizeof(opts_ws),
	};
	uint32_t iss;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), -EADDRINUSE);
	CHECK_EQ(sp_tcp_listen(nd->st, 0), -EINVAL);

	/* SYN without window scale: the SYN-ACK offers none either. */
	r = sp_h_peer_connect(&peer, 80, PISN, 65535);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(r->passive);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_ESTABLISHED);
	CHECK_EQ(sp_conn_local_port(r->c), 80);
	CHECK_EQ(sp_conn_remote_port(r->c), peer.port);
	CHECK_EQ(stats()->conn_passive, 1);
	EXPECT_NONE(nd);

	/* SYN with MSS 512 and window scale 2: the SYN-ACK offers scaling,
	 * and our segments respect the peer's MSS. */
	CHECK_EQ(sp_h_inject(nd, f, sp_h_build_tcp(f, &s)), 0);
	EXPECT_SEG_P(nd, TH_SYN | TH_ACK, SP_H_ANY, 778, 0, &pk);
	CHECK_EQ(pk.wscale, 3);
	CHECK_EQ(pk.mss, 1460);
	CHECK_EQ(pk.win, 65535); /* never scaled in a SYN */
	iss = pk.seq;
	s.flags = TH_ACK;
	s.seq = 778;
	s.ack = iss + 1;
	s.win = 1000; /* << 2 = 4000 */
	s.opt = NULL;
	s.optlen = 0;
	nd->acc_tx_total = 3000;
	CHECK_EQ(sp_h_inject(nd, f, sp_h_build_tcp(f, &s)), 0);
	CHECK_EQ(nd->n_connected, 2);
	EXPECT_SEG_P(nd, TH_ACK | TH_PSH, iss + 1, 778, 512, &pk);
	CHECK_EQ(pk.win, 256 * 1024 >> 3);
	while (sp_h_pop(nd, &pk))
		CHECK_LE(pk.plen, 512);
	/* Clean up both with RSTs. */
	sp_tcp_abort(nd->st, r->c);
	sp_tcp_abort(nd->st, nd->last_accepted->c);
	sp_h_flush(nd);
	CHECK_EQ(nd->n_closed_why[SP_CLOSE_ABORTED], 2);
	sp_h_net_finish(&net);
}

/* A SYN without options: MSS 536 (RFC 9293 3.7.1), no scaling. */
static void
test_passive_no_options(void)
{
	struct sp_h_conn *r;
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = SP_H_IP_SERVER,
		.dip = SP_H_IP_CLIENT,
		.sport = 40002,
		.dport = 80,
		.seq = 1,
		.flags = TH_SYN,
		.win = 65535,
	};
	uint32_t iss;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	CHECK_EQ(sp_h_inject(nd, f, sp_h_build_tcp(f, &s)), 0);
	EXPECT_SEG_P(nd, TH_SYN | TH_ACK, SP_H_ANY, 2, 0, &pk);
	CHECK_EQ(pk.wscale, -1);
	iss = pk.seq;
	s.flags = TH_ACK;
	s.seq = 2;
	s.ack = iss + 1;
	nd->acc_tx_total = 1000;
	CHECK_EQ(sp_h_inject(nd, f, sp_h_build_tcp(f, &s)), 0);
	r = nd->last_accepted;
	CHECK(r != NULL);
	EXPECT_SEG_P(nd, TH_ACK | TH_PSH, iss + 1, 2, 536, &pk);
	CHECK_EQ(pk.win, 65535); /* unscaled */
	EXPECT_SEG(nd, TH_ACK | TH_PSH, iss + 1 + 536, 2, 464);
	if (r)
		sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* Simultaneous open (RFC 9293 figure 8): SYN crosses SYN. */
static void
test_simultaneous_open(void)
{
	struct sp_h_conn *r;
	uint32_t iss;

	start(NULL);
	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	EXPECT_SEG_P(nd, TH_SYN, SP_H_ANY, 0, 0, &pk);
	iss = pk.seq;
	peer.port = 80;
	peer.stack_port = pk.sport;
	peer.snd_nxt = PISN;
	CHECK_EQ(sp_h_peer_send(&peer, TH_SYN, NULL, 0), 0);
	EXPECT_SEG(nd, TH_SYN | TH_ACK, iss, PISN + 1, 0);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_SYN_RECEIVED);
	CHECK(!r->connected);
	peer.rcv_nxt = iss + 1;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK(r->connected);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_ESTABLISHED);
	EXPECT_NONE(nd);
	close_active(r);
	sp_h_net_finish(&net);
}

/* ---- closes ----------------------------------------------------------- */

static void
test_active_close(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;
	uint64_t t;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_tcp_close(nd->st, c), 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_FIN_WAIT_1);
	CHECK_EQ(sp_tcp_close(nd->st, c), -EALREADY);
	CHECK_EQ(sp_tcp_send(nd->st, c, "x", 1), -EPIPE);
	CHECK_EQ(sp_tcp_send_space(nd->st, c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_conn_state(c), SP_TCP_FIN_WAIT_2);
	CHECK(!r->closed);
	/* Half-closed: the peer may still send, and we receive. */
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 100), 0);
	CHECK_EQ(r->rx_bytes, 100);
	CHECK_EQ(r->rx_bad, 0);
	sp_h_advance(&net, nd->cfg.delack_us + 1000);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT); /* still in the pool */
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1);
	t = net.now;
	/* A retransmitted FIN is acknowledged again. */
	sp_h_advance(&net, 300 * 1000);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_FIN | TH_ACK, peer.snd_nxt - 1,
			       peer.rcv_nxt, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_SEQ));
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	sp_h_advance(&net, t + nd->cfg.time_wait_us - 1000 - net.now);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1);
	sp_h_advance(&net, 2000);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	EXPECT_NONE(nd);
	CHECK_EQ(stats()->conn_closed[SP_CLOSE_NORMAL], 1);
	sp_h_net_finish(&net);
}

/* The end of a run (sp_stack_end_time_wait): a connection still closing
 * (FIN_WAIT_2) is left alone; one in TIME_WAIT is released at once, its
 * closed() not heard twice, its pool slot back; the peer's FIN sent again
 * then finds no connection. */
static void
test_end_time_wait(void)
{
	struct sp_h_conn *r;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK_EQ(sp_stack_end_time_wait(nd->st), 0);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_FIN_WAIT_2);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1);
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK(r->closed);
	CHECK_EQ(stats()->conn_closed[SP_CLOSE_NORMAL], 1);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1); /* TIME_WAIT */
	CHECK_EQ(sp_stack_end_time_wait(nd->st), 1);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	CHECK_EQ(stats()->conn_closed[SP_CLOSE_NORMAL], 1);
	CHECK_EQ(sp_stack_end_time_wait(nd->st), 0);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_FIN | TH_ACK, peer.snd_nxt - 1,
			       peer.rcv_nxt, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_NOCONN));
	EXPECT_SEG(nd, TH_RST, our_nxt(), 0, 0);
	sp_h_net_finish(&net);
}

/* FIN_WAIT_1 receiving FIN+ACK of our FIN at once goes straight on. */
static void
test_fin_wait_1_fin_ack(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_tcp_close(nd->st, c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	sp_h_net_finish(&net);
}

static void
test_simultaneous_close(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_tcp_close(nd->st, c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	/* The peer's FIN crosses ours: it does not acknowledge our FIN. */
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt() + 1, PISN + 2, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_CLOSING);
	CHECK(!r->closed);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	sp_h_net_finish(&net);
}

static void
test_passive_close(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0); /* at once */
	CHECK(r->peer_fin);
	CHECK_EQ(sp_conn_state(c), SP_TCP_CLOSE_WAIT);
	/* We may still send in CLOSE_WAIT. */
	CHECK_EQ(sp_tcp_send_space(nd->st, c), nd->cfg.sndbuf);
	r->tx_total = 300;
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, our_nxt(), PISN + 2, 300);
	peer.rcv_nxt += 300;
	CHECK_EQ(sp_tcp_close(nd->st, c), 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_LAST_ACK);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 2, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0); /* no TIME_WAIT */
	EXPECT_NONE(nd);
	sp_h_net_finish(&net);
}

/* sp_tcp_close_after_peer: our FIN answers the peer's, so the peer holds
 * the TIME_WAIT; data that comes first is not delivered; a peer that does
 * not close within linger_us gets our FIN first; with data unacknowledged
 * the close is an ordinary one at once. */
static void
test_close_after_peer(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_tcp_close_after_peer(nd->st, c), 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_ESTABLISHED);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 100), 0);
	CHECK_EQ(r->rx_bytes, 0);
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 102, 0);
	EXPECT_NONE(nd);
	CHECK(!r->peer_fin);
	CHECK_EQ(sp_conn_state(c), SP_TCP_LAST_ACK);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0); /* no TIME_WAIT */
	CHECK_EQ(stats()->tcp_linger_fin, 1);
	CHECK_EQ(stats()->tcp_linger_timeout, 0);
	sp_h_net_finish(&net);

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	CHECK_EQ(sp_tcp_close_after_peer(nd->st, c), 0);
	sp_h_advance(&net, nd->cfg.linger_us - 2000);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_conn_state(c), SP_TCP_ESTABLISHED);
	sp_h_advance(&net, 4000);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_FIN_WAIT_1);
	CHECK_EQ(stats()->tcp_linger_timeout, 1);
	CHECK_EQ(stats()->tcp_linger_fin, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	sp_h_net_finish(&net);

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	r->tx_total = 300;
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, our_nxt(), PISN + 1, 300);
	CHECK_EQ(sp_tcp_close_after_peer(nd->st, c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt() + 300, PISN + 1, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_FIN_WAIT_1);
	peer.rcv_nxt += 301;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	sp_h_net_finish(&net);
}

/* What the application sends and closes while a segment is processed (a
 * response to a request) leaves after it in one segment: data, FIN and
 * the ACK of the request. */
static void
test_reply_in_one_segment(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	c = r->c;
	r->tx_total = 300;
	r->close_after_send = true;
	r->send_on_recv = true;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 100), 0);
	CHECK_EQ(r->rx_bytes, 100);
	CHECK(r->close_called);
	EXPECT_SEG(nd, TH_ACK | TH_PSH | TH_FIN, our_nxt(), PISN + 101, 300);
	EXPECT_NONE(nd);
	peer.rcv_nxt += 301;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 102, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	sp_h_net_finish(&net);
}

/* close() with data still queued: the FIN rides on the last segment. */
static void
test_fin_piggyback(void)
{
	struct sp_h_conn *r;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 1000);
	r->tx_total = 2000;
	r->close_after_send = true;
	sp_h_send_more(r);
	CHECK(r->close_called);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, our_nxt(), PISN + 1, 1000);
	EXPECT_NONE(nd); /* no FIN while data waits for the window */
	peer.rcv_nxt += 1000;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK | TH_PSH | TH_FIN, our_nxt(), PISN + 1, 1000);
	EXPECT_NONE(nd);
	peer.rcv_nxt += 1001;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK(r->closed);
	sp_h_net_finish(&net);
}

/* ---- RST and the RFC 5961 checks, in every synchronized state ---------- */

/* Bring a fresh connection into @state; returns it (NULL for a passive
 * SYN_RECEIVED child, which the application cannot see yet). */
static struct sp_h_conn *
reach(enum sp_tcp_state state)
{
	struct sp_h_conn *r;

	if (state == SP_TCP_SYN_RECEIVED) {
		peer.port++;
		peer.stack_port = 80;
		peer.snd_nxt = PISN;
		peer.data_seed = sp_h_seed(peer.port, true);
		peer.data_off = 0;
		CHECK_EQ(sp_h_peer_send(&peer, TH_SYN, NULL, 0), 0);
		EXPECT_SEG_P(nd, TH_SYN | TH_ACK, SP_H_ANY, PISN + 1, 0, &pk);
		peer.rcv_nxt = pk.seq + 1;
		return NULL;
	}
	r = sp_h_peer_accept(&peer, PISN, 65535);
	switch (state) {
	case SP_TCP_FIN_WAIT_1:
	case SP_TCP_FIN_WAIT_2:
	case SP_TCP_CLOSING:
	case SP_TCP_TIME_WAIT:
		CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
		EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
		if (state == SP_TCP_CLOSING) {
			CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL,
						0),
				 0);
			EXPECT_SEG(nd, TH_ACK, our_nxt() + 1, PISN + 2, 0);
			peer.rcv_nxt++;
			break;
		}
		peer.rcv_nxt++;
		if (state == SP_TCP_FIN_WAIT_1)
			break;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
		if (state == SP_TCP_FIN_WAIT_2)
			break;
		CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
		EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
		break;
	case SP_TCP_CLOSE_WAIT:
	case SP_TCP_LAST_ACK:
		CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
		EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
		if (state == SP_TCP_LAST_ACK) {
			CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
			EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 2, 0);
			peer.rcv_nxt++;
		}
		break;
	default:
		break;
	}
	if (r->c)
		CHECK_EQ(sp_conn_state(r->c), state);
	EXPECT_NONE(nd);
	return r;
}

/* The peer's RST sequence numbers are relative to its snd_nxt, which in
 * the FIN states is one past its FIN. Our snd_nxt in FIN_WAIT_1, CLOSING
 * and LAST_ACK is one past our unacknowledged FIN. */
static void
rst_in(enum sp_tcp_state state, enum sp_close_reason why)
{
	struct sp_h_conn *r;
	uint32_t conns = sp_stack_conns_in_use(nd->st);
	uint64_t ch = stats()->tcp_challenge_acks;
	uint32_t closed;
	/* What the stack will put in a challenge ACK. */
	uint32_t snd_nxt, rcv_nxt;

	r = reach(state);
	closed = nd->n_closed;
	CHECK_EQ(sp_stack_conns_in_use(nd->st), conns + 1);
	snd_nxt = peer.rcv_nxt;
	rcv_nxt = peer.snd_nxt;

	/* In the window but not exact: challenge ACK, nothing else. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, rcv_nxt + 1, 0, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	EXPECT_SEG(nd, TH_ACK, snd_nxt, rcv_nxt, 0);
	CHECK_EQ(stats()->tcp_challenge_acks, ch + 1);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST | TH_ACK, rcv_nxt + 60000, snd_nxt,
			       0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	EXPECT_SEG(nd, TH_ACK, snd_nxt, rcv_nxt, 0);
	CHECK_EQ(stats()->tcp_challenge_acks, ch + 2);
	/* Outside the window, either side: silently dropped. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, rcv_nxt + 70000, 0, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, rcv_nxt - 1, 0, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST | TH_ACK, rcv_nxt - 100000,
			       snd_nxt, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	EXPECT_NONE(nd);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), conns + 1);
	CHECK_EQ(nd->n_closed, closed);
	if (r && state != SP_TCP_TIME_WAIT) {
		CHECK(!r->closed);
		CHECK(r->c && sp_conn_state(r->c) == state);
	}
	/* Exact: the connection is gone, without an answer. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, rcv_nxt, 0, 0, NULL, 0), 0);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), conns);
	if (state == SP_TCP_SYN_RECEIVED) {
		CHECK_EQ(nd->n_closed, closed); /* never reached the app */
	} else if (state == SP_TCP_TIME_WAIT) {
		CHECK_EQ(nd->n_closed, closed); /* it heard NORMAL before */
		CHECK(r->closed);
		CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	} else {
		CHECK_EQ(nd->n_closed, closed + 1);
		CHECK(r->closed);
		CHECK_EQ(r->why, why);
	}
}

static void
test_rst_each_state(void)
{
	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	rst_in(SP_TCP_ESTABLISHED, SP_CLOSE_RESET);
	rst_in(SP_TCP_FIN_WAIT_1, SP_CLOSE_RESET);
	rst_in(SP_TCP_FIN_WAIT_2, SP_CLOSE_RESET);
	rst_in(SP_TCP_CLOSE_WAIT, SP_CLOSE_RESET);
	/* Both FINs exchanged, ours unacknowledged: the stack counts a RST
	 * here as the end of a normal close (tcp_in.c rst_input). */
	rst_in(SP_TCP_CLOSING, SP_CLOSE_NORMAL);
	rst_in(SP_TCP_LAST_ACK, SP_CLOSE_NORMAL);
	rst_in(SP_TCP_TIME_WAIT, SP_CLOSE_NORMAL);
	rst_in(SP_TCP_SYN_RECEIVED, SP_CLOSE_RESET);
	CHECK_EQ(stats()->tcp_rst_rx, 8);
	sp_h_net_finish(&net);
}

/* A passive connection we closed first sits in TIME_WAIT; the client
 * reuses its port. An old duplicate SYN gets the TIME_WAIT ACK; a SYN
 * beyond the old sequence space opens a new connection at once
 * (RFC 1122 4.2.2.13, RFC 6191), as a responder closing each connection
 * needs. */
static void
test_time_wait_new_syn(void)
{
	struct sp_h_conn *r;
	struct sp_conn *c;
	uint64_t passive;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	r = sp_h_peer_connect(&peer, 80, PISN, 65535);
	CHECK(r && r->c && sp_conn_state(r->c) == SP_TCP_ESTABLISHED);
	c = r->c; /* the record forgets it at closed(), the stack keeps it */
	CHECK_EQ(sp_tcp_close(nd->st, c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, our_nxt(), PISN + 1, 0);
	peer.rcv_nxt++;
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	CHECK(r->closed);
	passive = stats()->conn_passive;

	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN, PISN, 0, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_SEQ));
	EXPECT_SEG(nd, TH_ACK, SP_H_ANY, PISN + 2, 0);
	EXPECT_NONE(nd);
	CHECK_EQ(sp_conn_state(c), SP_TCP_TIME_WAIT);
	CHECK_EQ(stats()->conn_passive, passive);

	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN, PISN + 100000, 0, 65535, NULL, 0),
		 0);
	EXPECT_SEG(nd, TH_SYN | TH_ACK, SP_H_ANY, PISN + 100001, 0);
	EXPECT_NONE(nd);
	CHECK_EQ(stats()->conn_passive, passive + 1);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, PISN + 100001, 0, 0, NULL, 0), 0);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	sp_h_net_finish(&net);
}

static void
test_syn_sent_rst(void)
{
	struct sp_h_conn *r;
	uint32_t iss;

	start(NULL);
	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	EXPECT_SEG_P(nd, TH_SYN, SP_H_ANY, 0, 0, &pk);
	iss = pk.seq;
	peer.port = 80;
	peer.stack_port = pk.sport;
	/* RST without ACK: ignored (RFC 5961 3.2, RFC 9293 3.10.7.3). */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, 0, 0, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_SYN_SENT);
	/* RST+ACK for something we never sent: dropped, not answered. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST | TH_ACK, 0, iss, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST | TH_ACK, 0, iss + 2, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_NONE(nd);
	/* A SYN-ACK with a wrong ACK: answered with a RST at that ACK. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN | TH_ACK, PISN, iss + 7, 65535,
			       NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_SEG(nd, TH_RST, iss + 7, SP_H_ANY, 0);
	/* An ACK without SYN, or a bare FIN: dropped. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, PISN, iss + 1, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_FLAGS));
	CHECK_EQ(sp_h_peer_seg(&peer, TH_FIN, PISN, 0, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_FLAGS));
	EXPECT_NONE(nd);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_SYN_SENT);
	CHECK(!r->closed);
	/* RST+ACK acknowledging our SYN: refused. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST | TH_ACK, 0, iss + 1, 0, NULL, 0),
		 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_REFUSED);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	EXPECT_NONE(nd);
	CHECK_EQ(stats()->conn_closed[SP_CLOSE_REFUSED], 1);
	sp_h_net_finish(&net);
}

/* RFC 5961 4.2: any SYN on a synchronized connection gets a challenge ACK
 * and changes nothing. */
static void
test_syn_on_established(void)
{
	struct sp_h_conn *r;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN, peer.snd_nxt, 0, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_SYN));
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN | TH_ACK, peer.snd_nxt + 500,
			       our_nxt(), 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_SYN));
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK_EQ(stats()->tcp_challenge_acks, 2);
	/* A retransmitted SYN-ACK (old sequence): plain ACK. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN | TH_ACK, PISN, our_nxt(), 65535,
			       NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_SEQ));
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_ESTABLISHED);
	/* Still works. */
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 10), 0);
	CHECK_EQ(r->rx_bytes, 10);
	close_active(r);
	sp_h_net_finish(&net);
}

static void
test_ack_checks(void)
{
	struct sp_h_conn *r;
	uint32_t una;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 1000);
	/* ACK of data never sent (RFC 9293 3.10.7.4): ACK back, drop the
	 * segment with its payload. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK | TH_PSH, peer.snd_nxt,
			       our_nxt() + 1000, 1000, "abcd", 4),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_SEG(nd, TH_ACK, our_nxt(), peer.snd_nxt, 0);
	CHECK_EQ(r->rx_bytes, 0);
	CHECK_EQ(stats()->tcp_challenge_acks, 0);

	/* Move snd_una 3000 bytes on with a 1000-byte peer window. */
	r->tx_total = 3000;
	sp_h_send_more(r);
	while (sp_h_pop(nd, &pk)) {
		CHECK_EQ(pk.plen, 1000);
		peer.rcv_nxt = pk.seq + pk.plen;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	}
	CHECK_EQ(r->tx_done, 3000);
	una = our_nxt();
	CHECK_EQ(r->sent_calls, 3);
	/* An old duplicate within max_snd_wnd: accepted silently. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, peer.snd_nxt, una - 500, 1000,
			       NULL, 0),
		 0);
	EXPECT_NONE(nd);
	/* Further below than the largest window ever seen: RFC 5961 5.2. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK | TH_PSH, peer.snd_nxt, una - 1500,
			       1000, "abcd", 4),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_SEG(nd, TH_ACK, una, peer.snd_nxt, 0);
	CHECK_EQ(stats()->tcp_challenge_acks, 1);
	CHECK_EQ(r->rx_bytes, 0);
	/* Data outside the receive window: ACK and drop. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, peer.snd_nxt + 70000, una, 1000,
			       "abcd", 4),
		 SP_DROP_ERR(SP_DROP_TCP_SEQ));
	EXPECT_SEG(nd, TH_ACK, una, peer.snd_nxt, 0);
	/* No ACK flag at all on a synchronized connection. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_PSH | TH_FIN, peer.snd_nxt, 0, 1000,
			       "abcd", 4),
		 SP_DROP_ERR(SP_DROP_TCP_FLAGS));
	CHECK_EQ(r->rx_bytes, 0);
	CHECK(!r->peer_fin);
	EXPECT_NONE(nd);
	close_active(r);
	sp_h_net_finish(&net);
}

/* ---- closed ports and listeners --------------------------------------- */

static void
test_closed_port_rst(void)
{
	uint32_t len;

	start(NULL);
	peer.stack_port = 9999;
	len = seg(TH_SYN, 1000, 0, NULL, 0, 0);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	EXPECT_SEG_P(nd, TH_RST | TH_ACK, 0, 1001, 0, &pk);
	CHECK_EQ(pk.sport, 9999);
	CHECK_EQ(pk.dport, peer.port);
	CHECK_EQ(pk.dip, SP_H_IP_SERVER);
	CHECK(memcmp(pk.dst_mac, sp_h_mac[1], 6) == 0);
	CHECK_EQ(pk.win, 0);
	/* With ACK: the RST takes its sequence number from the ACK. */
	len = seg(TH_ACK | TH_PSH, 1000, 0xabcdef01u, NULL, 0, 25);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	EXPECT_SEG(nd, TH_RST, 0xabcdef01u, SP_H_ANY, 0);
	/* Without ACK: acknowledge all it occupied (payload and FIN). */
	len = seg(TH_FIN, 0xfffffff0u, 0, NULL, 0, 20);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	EXPECT_SEG(nd, TH_RST | TH_ACK, 0, 0xfffffff0u + 21, 0);
	/* A RST is never answered. */
	len = seg(TH_RST, 1000, 0, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_NOCONN);
	len = seg(TH_RST | TH_ACK, 1000, 5, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_NOCONN);
	CHECK_EQ(stats()->tcp_rst_tx, 3);
	sp_h_net_finish(&net);
}

static void
test_listener_non_syn(void)
{
	uint32_t len;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	peer.stack_port = 80;
	len = seg(TH_ACK, 1000, 0x55555555u, NULL, 0, 0);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	EXPECT_SEG(nd, TH_RST, 0x55555555u, SP_H_ANY, 0);
	len = seg(TH_SYN | TH_ACK, 1000, 0x55555555u, NULL, 0, 0);
	sp_h_expect_drop_answered(nd, f, len, SP_DROP_TCP_NOCONN);
	EXPECT_SEG(nd, TH_RST, 0x55555555u, SP_H_ANY, 0);
	len = seg(TH_FIN, 1000, 0, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_FLAGS);
	len = seg(TH_RST, 1000, 0, NULL, 0, 0);
	sp_h_expect_drop(nd, f, len, SP_DROP_TCP_RST);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	sp_h_net_finish(&net);
}

static void
test_syn_received(void)
{
	uint32_t iss;

	start(NULL);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);
	reach(SP_TCP_SYN_RECEIVED);
	iss = peer.rcv_nxt - 1;
	/* The peer's SYN again: the same SYN-ACK again. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_SYN, PISN, 0, 65535, NULL, 0), 0);
	EXPECT_SEG(nd, TH_SYN | TH_ACK, iss, PISN + 1, 0);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 1);
	/* An ACK that does not acknowledge our SYN: RST at that ACK. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, PISN + 1, iss + 5, 65535, NULL,
			       0),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_SEG(nd, TH_RST, iss + 5, SP_H_ANY, 0);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, PISN + 1, iss, 65535, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_ACK));
	EXPECT_SEG(nd, TH_RST, iss, SP_H_ANY, 0);
	CHECK_EQ(nd->n_connected, 0);
	/* The right ACK, carrying data and a FIN: established, data
	 * delivered, then CLOSE_WAIT. */
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH | TH_FIN, NULL, 50), 0);
	CHECK_EQ(nd->n_connected, 1);
	CHECK(nd->last_accepted != NULL);
	if (nd->last_accepted) {
		struct sp_h_conn *r = nd->last_accepted;

		CHECK_EQ(r->rx_bytes, 50);
		CHECK_EQ(r->rx_bad, 0);
		CHECK(r->peer_fin);
		CHECK_EQ(sp_conn_state(r->c), SP_TCP_CLOSE_WAIT);
		EXPECT_SEG(nd, TH_ACK, iss + 1, PISN + 52, 0);
		CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
		EXPECT_SEG(nd, TH_FIN | TH_ACK, iss + 1, PISN + 52, 0);
		peer.rcv_nxt++;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
		CHECK(r->closed);
		CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	}
	sp_h_net_finish(&net);
}

/* ---- aborts and the API ----------------------------------------------- */

static void
test_abort(void)
{
	struct sp_h_conn *r;
	int err;

	start(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	sp_tcp_abort(nd->st, r->c);
	EXPECT_SEG(nd, TH_RST | TH_ACK, our_nxt(), PISN + 1, 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_ABORTED);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	CHECK_EQ(stats()->tcp_rst_tx, 1);

	/* With unacknowledged data: the RST carries snd_nxt. */
	peer.port++;
	r = sp_h_peer_accept(&peer, PISN, 65535);
	r->tx_total = 100;
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, our_nxt(), PISN + 1, 100);
	sp_tcp_abort(nd->st, r->c);
	EXPECT_SEG(nd, TH_RST | TH_ACK, our_nxt() + 100, PISN + 1, 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);

	/* In CLOSE_WAIT. */
	peer.port++;
	r = sp_h_peer_accept(&peer, PISN, 65535);
	CHECK_EQ(sp_h_peer_send(&peer, TH_FIN | TH_ACK, NULL, 0), 0);
	EXPECT_SEG(nd, TH_ACK, our_nxt(), PISN + 2, 0);
	sp_tcp_abort(nd->st, r->c);
	EXPECT_SEG(nd, TH_RST | TH_ACK, our_nxt(), PISN + 2, 0);
	CHECK_EQ(r->why, SP_CLOSE_ABORTED);

	/* In SYN_SENT: nothing to reset; close() is an abort there. */
	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	EXPECT_SEG(nd, TH_SYN, SP_H_ANY, 0, 0);
	CHECK_EQ(sp_tcp_send(nd->st, r->c, "x", 1), -ENOTCONN);
	CHECK_EQ(sp_tcp_send_space(nd->st, r->c), 0);
	sp_tcp_abort(nd->st, r->c);
	EXPECT_NONE(nd);
	CHECK_EQ(r->why, SP_CLOSE_ABORTED);
	r = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	EXPECT_SEG(nd, TH_SYN, SP_H_ANY, 0, 0);
	CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
	EXPECT_NONE(nd);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_ABORTED);
	CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
	(void)err;
	sp_h_net_finish(&net);
}

static void
small_pools(struct sp_stack_config *cfg)
{
	cfg->max_conns = 3;
	cfg->port_min = 5000;
	cfg->port_max = 5001;
}

static void
test_pool_and_port_limits(void)
{
	struct sp_h_conn *a, *b, *c3;
	struct sp_conn *c;
	int err = 0;

	sp_h_net_init(&net, 1, 3);
	small_pools(&net.node[0].cfg);
	sp_h_net_start(&net, T0);
	nd = &net.node[0];
	sp_h_resolve(&net);
	sp_h_peer_init(&peer, nd);
	CHECK_EQ(sp_tcp_listen(nd->st, 80), 0);

	a = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	b = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	CHECK_EQ(sp_conn_local_port(a->c), 5000);
	CHECK_EQ(sp_conn_local_port(b->c), 5001);
	c = sp_tcp_connect(nd->st, SP_H_IP_SERVER, 80, NULL, &err);
	CHECK(c == NULL);
	CHECK_EQ(err, -EADDRNOTAVAIL);
	sp_h_flush(nd);
	/* The third slot goes to a passive open; then the pool is dry. */
	reach(SP_TCP_SYN_RECEIVED);
	peer.port++;
	peer.snd_nxt = PISN;
	CHECK_EQ(sp_h_peer_send(&peer, TH_SYN, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_NOMEM));
	sp_h_flush(nd);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, PISN + 1, 0, 0, NULL, 0),
		 SP_DROP_ERR(SP_DROP_TCP_RST));
	peer.port--;
	CHECK_EQ(sp_h_peer_seg(&peer, TH_RST, PISN + 1, 0, 0, NULL, 0), 0);
	/* A freed port goes to the back of the FIFO. */
	sp_tcp_abort(nd->st, a->c);
	c3 = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	CHECK_EQ(sp_conn_local_port(c3->c), 5000);
	c = sp_tcp_connect(nd->st, SP_H_IP_SERVER, 81, NULL, &err);
	CHECK(c == NULL);
	CHECK_EQ(err, -EADDRNOTAVAIL);
	sp_tcp_abort(nd->st, b->c);
	sp_tcp_abort(nd->st, c3->c);
	sp_h_flush(nd);
	/* Pool exhaustion proper: max_conns below the port range. */
	sp_h_net_finish(&net);

	sp_h_net_init(&net, 1, 2);
	sp_h_net_start(&net, T0);
	nd = &net.node[0];
	sp_h_resolve(&net);
	a = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	b = sp_h_connect(nd, SP_H_IP_SERVER, 80, 0);
	c = sp_tcp_connect(nd->st, SP_H_IP_SERVER, 80, NULL, &err);
	CHECK(c == NULL);
	CHECK_EQ(err, -ENOBUFS);
	sp_tcp_abort(nd->st, a->c);
	sp_tcp_abort(nd->st, b->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* ---- two stacks over the wire ----------------------------------------- */

static void
test_wire_refused(void)
{
	struct sp_h_conn *r;

	sp_h_net_init(&net, 2, 64);
	sp_h_net_start(&net, T0);
	sp_h_resolve(&net);
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 8080, 0);
	sp_h_pump(&net);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_REFUSED);
	CHECK_EQ(sp_stack_stats(net.node[1].st)->drop[SP_DROP_TCP_NOCONN], 1);
	CHECK_EQ(sp_stack_stats(net.node[1].st)->tcp_rst_tx, 1);
	CHECK_EQ(sp_stack_conns_in_use(net.node[0].st), 0);
	sp_h_net_finish(&net);
}

/* Open, exchange, close from either side, and the states each side passes. */
static void
test_wire_open_close(void)
{
	struct sp_h_conn *r, *s;
	int side;

	for (side = 0; side < 2; side++) {
		sp_h_net_init(&net, 2, 64);
		sp_h_net_start(&net, T0);
		sp_h_resolve(&net);
		CHECK_EQ(sp_tcp_listen(net.node[1].st, 80), 0);
		net.node[1].acc_tx_total = 5000;
		net.node[1].acc_close_after_send = side == 1;
		net.node[1].acc_close_on_fin = true;
		r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, 7000);
		r->close_after_send = side == 0;
		r->close_on_fin = true;
		CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 5 * 1000 * 1000));
		s = net.node[1].last_accepted;
		CHECK(s != NULL);
		if (!s)
			continue;
		CHECK_EQ(r->why, SP_CLOSE_NORMAL);
		CHECK_EQ(s->why, SP_CLOSE_NORMAL);
		CHECK_EQ(r->rx_bytes, 5000);
		CHECK_EQ(s->rx_bytes, 7000);
		CHECK_EQ(r->rx_bad + s->rx_bad, 0);
		/* The active closer holds TIME_WAIT, the other is free. */
		CHECK_EQ(sp_stack_conns_in_use(net.node[side].st), 1);
		CHECK_EQ(sp_stack_conns_in_use(net.node[1 - side].st), 0);
		CHECK_EQ(sp_stack_stats(net.node[0].st)->tcp_retrans_segs, 0);
		CHECK_EQ(sp_stack_stats(net.node[1].st)->tcp_retrans_segs, 0);
		sp_h_net_finish(&net);
	}
}

static const struct sp_h_test tests[] = {
	{ "tcp_hdr_drops", test_tcp_hdr_drops },
	{ "active_open", test_active_open },
	{ "passive_open", test_passive_open },
	{ "passive_no_options", test_passive_no_options },
	{ "simultaneous_open", test_simultaneous_open },
	{ "active_close", test_active_close },
	{ "fin_wait_1_fin_ack", test_fin_wait_1_fin_ack },
	{ "simultaneous_close", test_simultaneous_close },
	{ "passive_close", test_passive_close },
	{ "close_after_peer", test_close_after_peer },
	{ "reply_in_one_segment", test_reply_in_one_segment },
	{ "fin_piggyback", test_fin_piggyback },
	{ "rst_each_state", test_rst_each_state },
	{ "time_wait_new_syn", test_time_wait_new_syn },
	{ "end_time_wait", test_end_time_wait },
	{ "syn_sent_rst", test_syn_sent_rst },
	{ "syn_on_established", test_syn_on_established },
	{ "ack_checks", test_ack_checks },
	{ "closed_port_rst", test_closed_port_rst },
	{ "listener_non_syn", test_listener_non_syn },
	{ "syn_received", test_syn_received },
	{ "abort", test_abort },
	{ "pool_and_port_limits", test_pool_and_port_limits },
	{ "wire_refused", test_wire_refused },
	{ "wire_open_close", test_wire_open_close },
};

int
main(int argc, char **argv)
{
	return sp_h_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
