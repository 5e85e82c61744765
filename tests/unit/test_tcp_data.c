/*
 * Unit tests for the TCP data path: bulk transfers both ways between two
 * stacks with every kind of application split, byte-for-byte checked
 * against a deterministic pattern; sequence numbers wrapping past 2^32;
 * out-of-order reassembly (with overlaps, duplicates, SACK blocks and a
 * capped queue); loss, duplication, reordering and corruption on the wire;
 * a thousand concurrent connections; and zero heap allocations once the
 * stacks exist.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "cksum.h"
#include "stack_int.h" /* sp_seg_isn, to steer ISNs to the wrap */

#define T0 11000000999ull
#define PISN 0x30000000u
#define MS 1000ull
#define SEC (1000ull * 1000ull)
#define KiB 1024u
#define MiB (1024u * 1024u)

static struct sp_h_net net;
static struct sp_h_peer peer;
static struct sp_h_node *nd;
static struct sp_h_pkt pk;

static const struct sp_stack_stats *
stats_of(int i)
{
	return sp_stack_stats(net.node[i].st);
}

static void
start1(void (*tweak)(struct sp_stack_config *))
{
	nd = sp_h_start_one(&net, &peer, T0, tweak);
}

static void
start2(uint32_t max_conns, uint64_t t0)
{
	sp_h_net_init(&net, 2, max_conns);
	sp_h_net_start(&net, t0);
	sp_h_resolve(&net);
	CHECK_EQ(sp_tcp_listen(net.node[1].st, 80), 0);
}

/* Every record closed normally, received all its peer sent, intact. */
static void
check_records(void)
{
	uint32_t i, n = sp_h_conn_count();

	for (i = 0; i < n; i++) {
		struct sp_h_conn *r = sp_h_conn_at(i);
		uint64_t want = 0;
		uint32_t j;

		/* The record at the other end of the same client port. */
		for (j = 0; j < n; j++) {
			struct sp_h_conn *o = sp_h_conn_at(j);

			if (o != r && o->client_port == r->client_port &&
			    o->passive != r->passive)
				want = o->tx_total;
		}
		CHECK(r->closed);
		CHECK_EQ(r->why, SP_CLOSE_NORMAL);
		CHECK_EQ(r->tx_done, r->tx_total);
		CHECK_EQ(r->rx_bytes, want);
		CHECK_EQ(r->rx_bad, 0);
		if (r->rx_bytes != want || r->rx_bad || !r->closed)
			break; /* one is enough to see */
	}
}

/* ---- bulk ------------------------------------------------------------- */

/* Connections in parallel, one per application split size, each moving a
 * few hundred KiB both ways (odd totals, so nothing lines up), closing
 * from the client once its data is queued. Heap allocations are counted
 * from the first SYN to the last TIME_WAIT. */
static void
bulk_splits(bool zc)
{
	static const uint32_t splits[] = {
		0,    1,    7,    100,  535,  536,  1000,  1459,  1460,
		1461, 2031, 2032, 2033, 2920, 4096, 65535, 65536,
	};
	const uint32_t n = sizeof(splits) / sizeof(splits[0]);
	uint32_t i;

	start2(64, T0);
	net.node[1].acc_tx_total = 300 * KiB + 17;
	net.node[1].acc_close_on_fin = true;
	sp_h_allocs = 0;
	sp_h_alloc_counting = true;
	for (i = 0; i < n; i++) {
		struct sp_h_conn *r = sp_h_connect(&net.node[0], SP_H_IP_SERVER,
						   80, 200 * KiB + i);

		r->split = splits[i];
		r->zc = zc;
		r->close_after_send = true;
	}
	/* Each accepted connection sends with the client's split too. */
	sp_h_pump(&net);
	for (i = 0; i < sp_h_conn_count(); i++) {
		struct sp_h_conn *r = sp_h_conn_at(i);

		if (r->passive) {
			r->split = splits[(r->client_port - 1024) % n];
			r->zc = zc;
		}
	}
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 60 * SEC));
	CHECK_EQ(sp_h_conn_count(), 2 * n);
	check_records();
	CHECK_EQ(stats_of(0)->tcp_retrans_segs, 0);
	CHECK_EQ(stats_of(1)->tcp_retrans_segs, 0);
	CHECK_EQ(stats_of(0)->tcp_tx_bytes, n * 200 * KiB + n * (n - 1) / 2);
	CHECK_EQ(stats_of(1)->tcp_rx_bytes, stats_of(0)->tcp_tx_bytes);
	sp_h_net_finish(&net);
	if (sp_h_alloc_wrapped)
		CHECK_EQ(sp_h_allocs, 0);
	else
		printf("     (allocation count not checked: allocator not wrapped)\n");
}

static void
test_bulk_splits(void)
{
	bulk_splits(false);
}

/* The same written straight into the send queues (sp_tcp_send_buf). */
static void
test_bulk_splits_zc(void)
{
	bulk_splits(true);
}

/* Two MiB each way on one connection, the server closing first. */
static void
test_bulk_2mib(void)
{
	struct sp_h_conn *r;

	start2(64, T0);
	net.node[1].acc_tx_total = 2 * MiB + 1;
	net.node[1].acc_close_after_send = true;
	sp_h_allocs = 0;
	sp_h_alloc_counting = true;
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, 2 * MiB + 3);
	r->close_on_fin = true;
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 60 * SEC));
	check_records();
	CHECK_EQ(r->rx_bytes, 2 * MiB + 1);
	CHECK_EQ(stats_of(0)->tcp_retrans_segs, 0);
	sp_h_net_finish(&net);
	if (sp_h_alloc_wrapped)
		CHECK_EQ(sp_h_allocs, 0);
}

/* The application hands over one byte per call, 64 KiB of them. */
static void
test_one_byte_sends(void)
{
	struct sp_h_conn *r;

	start2(64, T0);
	net.node[1].acc_tx_total = 64 * KiB;
	net.node[1].acc_split = 1;
	net.node[1].acc_close_on_fin = true;
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, 64 * KiB + 1);
	r->split = 1;
	r->close_after_send = true;
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 60 * SEC));
	check_records();
	sp_h_net_finish(&net);
}

/* A peer that sends one byte per segment. */
static void
test_one_byte_segments(void)
{
	struct sp_h_conn *r;
	uint32_t i, acks = 0;

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	for (i = 0; i < 3000; i++) {
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 1), 0);
		while (sp_h_pop(nd, &pk)) {
			CHECK_EQ(pk.flags, TH_ACK);
			CHECK_EQ(pk.ack, peer.snd_nxt);
			acks++;
		}
	}
	CHECK_EQ(r->rx_bytes, 3000);
	CHECK_EQ(r->rx_bad, 0);
	CHECK_EQ(acks, 1500); /* every second segment (RFC 5681 4.2) */
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* A pool of chunks smaller than the send buffer: sp_tcp_send takes what
 * fits and the application resumes from sent(). */
static void
tiny_pool(struct sp_stack_config *cfg)
{
	cfg->chunks = 4;
}

static void
chunk_pool_dry(bool zc)
{
	struct sp_h_conn *r;
	uint32_t acked = 0;

	start1(tiny_pool);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	r->zc = zc;
	r->tx_total = 50000;
	sp_h_send_more(r);
	CHECK_EQ(r->tx_done, 4 * SP_CHUNK_DATA);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 4);
	CHECK_EQ(stats_of(0)->tcp_snd_nochunk, 1);
	while (acked < 50000) {
		uint32_t got = 0;

		while (sp_h_pop(nd, &pk)) {
			uint8_t want[1500];

			CHECK_EQ(pk.seq, peer.rcv_nxt + got);
			sp_h_pat_fill(r->seed_tx, acked + got, want, pk.plen);
			CHECK(memcmp(want, pk.payload, pk.plen) == 0);
			got += pk.plen;
		}
		CHECK_GT(got, 0);
		if (!got)
			break;
		peer.rcv_nxt += got;
		acked += got;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	}
	CHECK_EQ(r->tx_done, 50000);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	EXPECT_NONE(nd);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

static void
test_chunk_pool_dry(void)
{
	chunk_pool_dry(false);
}

static void
test_chunk_pool_dry_zc(void)
{
	chunk_pool_dry(true);
}

/* A connection that finds the shared pool dry with nothing of its own queued
 * would wait for ever for an ACK-driven sent(): the stack calls sent() once
 * another connection's ACK has freed chunks, on the next poll. */
static void
chunk_pool_waiter(bool zc)
{
	struct sp_h_peer p2;
	struct sp_h_conn *a, *b;
	uint32_t got = 0;

	start1(tiny_pool);
	a = sp_h_peer_accept(&peer, PISN, 65535);
	sp_h_peer_init(&p2, nd);
	p2.port = (uint16_t)(peer.port + 1);
	b = sp_h_peer_accept(&p2, PISN, 65535);
	b->zc = zc;
	a->tx_total = 4 * SP_CHUNK_DATA;
	sp_h_send_more(a);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 4);
	b->tx_total = 1000;
	sp_h_send_more(b);
	CHECK_EQ(b->tx_done, 0);
	CHECK_EQ(stats_of(0)->tcp_snd_nochunk, 1);
	/* Still dry: a poll wakes nobody. */
	sp_h_advance(&net, 1 * MS);
	CHECK_EQ(b->tx_done, 0);
	while (sp_h_pop(nd, &pk))
		got += pk.plen;
	CHECK_EQ(got, 4 * SP_CHUNK_DATA);
	peer.rcv_nxt += got;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	sp_h_advance(&net, 1 * MS);
	CHECK_EQ(b->tx_done, 1000);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, p2.rcv_nxt, p2.snd_nxt, 1000);
	sp_tcp_abort(nd->st, a->c);
	sp_tcp_abort(nd->st, b->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

static void
test_chunk_pool_waiter(void)
{
	chunk_pool_waiter(false);
}

static void
test_chunk_pool_waiter_zc(void)
{
	chunk_pool_waiter(true);
}

/* Pop every frame and check that one carries @plen bytes at @seq, the
 * pattern of @r from @off on. */
static void
expect_data_at(const char *file, int line, struct sp_h_conn *r, uint32_t seq,
	       uint32_t off, uint32_t plen)
{
	uint8_t want[1500];
	bool seen = false;

	while (sp_h_pop(nd, &pk)) {
		if (pk.seq != seq || pk.plen != plen)
			continue;
		sp_h_pat_fill(r->seed_tx, off, want, plen);
		if (memcmp(want, pk.payload, plen) == 0)
			seen = true;
	}
	if (!seen)
		sp_h_fail(file, line, "no segment of %u bytes at +%u", plen,
			  off);
}
#define EXPECT_DATA(r, seq, off, plen)                                         \
	expect_data_at(__FILE__, __LINE__, r, seq, off, plen)

/* One connection the peer accepted, that will send @total bytes through
 * the zero-copy calls (@zc) or sp_tcp_send; *@seq0: its first byte's
 * sequence number. */
static struct sp_h_conn *
accept1(bool zc, uint32_t total, uint32_t *seq0)
{
	struct sp_h_conn *r;

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	*seq0 = peer.rcv_nxt;
	r->zc = zc;
	r->tx_total = total;
	return r;
}

/* Abort @r and run the net's end-of-test checks. */
static void
end1(struct sp_h_conn *r)
{
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* The peer acknowledges all up to @seq: no chunk is held any more; then
 * end1. */
static void
ack_end1(struct sp_h_conn *r, uint32_t seq)
{
	peer.rcv_nxt = seq;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	end1(r);
}

/* Room asked for and given back unused leaves nothing queued: an empty
 * send queue holds no chunk. */
static void
test_zc_commit_nothing(void)
{
	struct sp_h_conn *r;
	uint8_t *b = NULL;

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	CHECK_EQ(sp_tcp_send_buf(nd->st, r->c, &b), (int32_t)SP_CHUNK_DATA);
	CHECK(b != NULL);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 1);
	sp_tcp_send_commit(nd->st, r->c, 0, false);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	EXPECT_NONE(nd);
	/* And after data: the room left in the last chunk, no new one. */
	r->zc = true;
	r->tx_total = 100;
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, peer.rcv_nxt, peer.snd_nxt, 100);
	CHECK_EQ(sp_tcp_send_buf(nd->st, r->c, &b),
		 (int32_t)SP_CHUNK_DATA - 100);
	sp_tcp_send_commit(nd->st, r->c, 0, false);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 1);
	peer.rcv_nxt += 100;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	CHECK_EQ(sp_tcp_send_buf(nd->st, r->c, &b), (int32_t)SP_CHUNK_DATA);
	sp_tcp_send_commit(nd->st, r->c, 0, false);
	CHECK_EQ(sp_tcp_send_space(nd->st, r->c), nd->cfg.sndbuf);
	end1(r);
}

/* Bytes written into a chunk whose first bytes already went out (the
 * application wrote again before the ACK): the first segment is lost, and
 * the timeout's retransmission carries both writes, intact. */
static void
test_zc_append_after_send(void)
{
	struct sp_h_conn *r;
	uint32_t seq0;

	r = accept1(true, 100, &seq0);
	sp_h_send_more(r);
	EXPECT_SEG(nd, TH_ACK | TH_PSH, seq0, peer.snd_nxt, 100); /* lost */
	r->tx_total = 300;
	sp_h_send_more(r);
	EXPECT_DATA(r, seq0 + 100, 100, 200);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 1);
	sp_h_advance(&net, 300 * MS); /* one RTO of 200 ms */
	CHECK_EQ(stats_of(0)->tcp_rto, 1);
	EXPECT_DATA(r, seq0, 0, 300);
	ack_end1(r, seq0 + 300);
}

/* ACKs that end inside a segment and inside a chunk: each timeout resends
 * from the first unacknowledged byte, a chunk goes back once all of it is
 * acknowledged, and the bytes are the ones written. */
static void
test_zc_partial_ack(void)
{
	static const uint32_t acks[] = { 700, 2031, 2032, 3000, 4999 };
	struct sp_h_conn *r;
	uint32_t seq0, i;

	r = accept1(true, 5000, &seq0);
	sp_h_send_more(r);
	EXPECT_DATA(r, seq0 + 2920, 2920, 1460); /* all four went out */
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 3);
	for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		uint32_t a = acks[i], len = 5000 - a < 1460 ? 5000 - a : 1460;

		peer.rcv_nxt = seq0 + a;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
		CHECK_EQ(sp_stack_chunks_in_use(nd->st),
			 3 - a / SP_CHUNK_DATA);
		sp_h_advance(&net, 300 * MS); /* one RTO of 200 ms */
		CHECK_EQ(stats_of(0)->tcp_rto, i + 1);
		EXPECT_DATA(r, seq0 + a, a, len);
	}
	CHECK_EQ(r->tx_done, 5000);
	ack_end1(r, seq0 + 5000);
}

/* ---- bytes referred to, not copied (sp_tcp_send_ref) ----------------- */

static uint8_t ref_buf[100000];

/* Every segment now on the wire, in order from @seq: each payload the
 * bytes of ref_buf at its offset from @seq0. Returns the bytes seen. */
static uint32_t
ref_segments(uint32_t seq0, uint32_t seq)
{
	uint32_t got = 0;

	while (sp_h_pop(nd, &pk)) {
		CHECK_EQ(pk.seq, seq + got);
		CHECK(memcmp(pk.payload, ref_buf + (pk.seq - seq0), pk.plen) ==
		      0);
		got += pk.plen;
	}
	return got;
}

/* Copied bytes, referred bytes and copied bytes again leave in their
 * order; a referred chunk takes no bytes after it; the segments are built
 * from the bytes where they are (changed before a retransmission, the
 * retransmission carries the change); all acknowledged, no chunk is held. */
static void
test_ref_send(void)
{
	struct sp_h_conn *r;
	uint32_t seq0;

	r = accept1(false, 0, &seq0);
	sp_h_pat_fill(r->seed_tx, 0, ref_buf, 4000);
	CHECK_EQ(sp_tcp_send(nd->st, r->c, ref_buf, 100), 100);
	CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf + 100, 3000), 3000);
	CHECK_EQ(sp_tcp_send(nd->st, r->c, ref_buf + 3100, 50), 50);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 3);
	CHECK_EQ(ref_segments(seq0, seq0), 3150);
	/* All lost; the referred bytes change before the timeout. */
	memset(ref_buf + 100, 0xa5, 3000);
	sp_h_advance(&net, 300 * MS); /* one RTO of 200 ms */
	CHECK_EQ(stats_of(0)->tcp_rto, 1);
	CHECK(sp_h_pop(nd, &pk));
	CHECK_EQ(pk.seq, seq0);
	CHECK_EQ(pk.plen, 1460);
	CHECK(memcmp(pk.payload, ref_buf, pk.plen) == 0);
	CHECK_EQ(pk.payload[100], 0xa5);
	sp_h_flush(nd);
	ack_end1(r, seq0 + 3150);
}

/* One chunk per call: the pool runs dry as for sp_tcp_send (counted, 0
 * taken); a call takes what the send buffer holds, 65,535 bytes at most; after
 * a close, none. */
static void
test_ref_limits(void)
{
	struct sp_h_conn *r;
	uint32_t i;

	start1(tiny_pool);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	for (i = 0; i < 4; i++)
		CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf, 10), 10);
	CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf, 10), 0);
	CHECK_EQ(stats_of(0)->tcp_snd_nochunk, 1);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf, sizeof(ref_buf)),
		 65535);
	CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf, 0), 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 1);
	CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
	CHECK_EQ(sp_tcp_send_ref(nd->st, r->c, ref_buf, 10), -EPIPE);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* The port's frame buffers run dry under the first two segments: they are
 * not sent (counted as tx_nobuf, nothing else breaks), and the timeout
 * sends the same bytes again once buffers are back. */
static void
frames_dry(bool zc)
{
	struct sp_h_conn *r;
	uint32_t seq0;

	r = accept1(zc, 5000, &seq0);
	nd->fail_alloc = 2;
	sp_h_send_more(r);
	CHECK_EQ(stats_of(0)->tx_nobuf, 2);
	EXPECT_DATA(r, seq0 + 2920, 2920, 1460);
	sp_h_advance(&net, 300 * MS); /* one RTO of 200 ms */
	CHECK_EQ(stats_of(0)->tcp_rto, 1);
	EXPECT_DATA(r, seq0, 0, 1460);
	peer.rcv_nxt = seq0 + 1460;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	EXPECT_DATA(r, seq0 + 1460, 1460, 1460);
	ack_end1(r, seq0 + 5000);
}

static void
test_frames_dry(void)
{
	frames_dry(false);
}

static void
test_frames_dry_zc(void)
{
	frames_dry(true);
}

/* The peer retransmits an old segment (seq below SND.WL1) that carries a new
 * ACK and a smaller window. RFC 9293's WL1 rule alone would keep the old
 * window against the new snd_una and send past the peer's right edge; the
 * window of an advancing ACK must count, and what already went past the new
 * edge is sent again only when the window allows. */
static void
test_window_from_old_seq(void)
{
	struct sp_h_conn *r;
	uint32_t una, edge, nxt = 0, n = 0;
	uint8_t old[100];

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	/* The peer's first 100 bytes are lost, the next 100 arrive: SND.WL1
	 * moves to the second segment's sequence number. */
	peer.snd_nxt += 100;
	peer.data_off += 100;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, 100), 0);
	sp_h_advance(&net, 50 * MS);
	sp_h_flush(nd);
	r->tx_total = 64 * KiB;
	sp_h_send_more(r);
	while (sp_h_pop(nd, &pk)) {
		nxt = pk.seq + pk.plen;
		n++;
	}
	CHECK_EQ(n, 10); /* the initial congestion window */
	una = peer.rcv_nxt + 2 * 1460;
	edge = una + 2920;
	/* The lost segment again, with a new ACK and a small window. */
	sp_h_pat_fill(peer.data_seed, 0, old, sizeof(old));
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, PISN + 1, una, 2920, old, 100),
		 0);
	/* Nothing new may leave: the peer's right edge is below what is out.
	 * The ACK of the filled hole must be numbered inside the peer's window
	 * too (at most the edge), or the peer drops it unread. */
	n = 0;
	while (sp_h_pop(nd, &pk)) {
		CHECK(SEQ_LEQ(pk.seq + pk.plen, edge));
		n += pk.plen == 0;
	}
	CHECK_GT(n, 0);
	CHECK_GT(stats_of(0)->tcp_wnd_shrunk, 0);
	/* The window opens: the bytes past the old edge go again, in order. */
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, peer.snd_nxt, edge, 65535, NULL,
			       0),
		 0);
	CHECK(sp_h_pop(nd, &pk));
	CHECK_EQ(pk.seq, edge);
	CHECK(SEQ_LT(pk.seq, nxt));
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* An ACK that frees send space and closes the window: the application's
 * sent() callback queues more at once, and what leaves must respect the
 * window this very ACK carried, not the old one against the new snd_una. */
static void
small_sndbuf(struct sp_stack_config *cfg)
{
	cfg->sndbuf = 10 * 1460; /* full after the first flight */
}

static void
test_window_before_sent(void)
{
	struct sp_h_conn *r;
	uint32_t una, edge, n = 0;

	start1(small_sndbuf);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	r->tx_total = 64 * KiB;
	sp_h_send_more(r);
	while (sp_h_pop(nd, &pk))
		n++;
	CHECK_EQ(n, 10); /* the initial congestion window */
	una = peer.rcv_nxt + 2 * 1460;
	edge = una + 2920;
	CHECK_EQ(r->tx_done, 10 * 1460);
	CHECK_EQ(sp_h_peer_seg(&peer, TH_ACK, peer.snd_nxt, una, 2920, NULL, 0),
		 0);
	CHECK_EQ(r->tx_done, 12 * 1460); /* sent() queued what was freed */
	while (sp_h_pop(nd, &pk))
		CHECK(SEQ_LEQ(pk.seq + pk.plen, edge));
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* ---- sequence wrap ---------------------------------------------------- */

/* The peer's ISN just below 2^32: 64 KiB cross the wrap, in order and out
 * of order around it, and our data goes the other way meanwhile. */
static void
test_seq_wrap_peer(void)
{
	struct sp_h_conn *r;
	uint32_t i, base;

	start1(NULL);
	r = sp_h_peer_accept(&peer, 0xffffff00u, 65535);
	for (i = 0; i < 20; i++)
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	sp_h_flush(nd);
	CHECK_EQ(r->rx_bytes, 2000);
	CHECK(SEQ_LT(peer.snd_nxt, 0x1000u)); /* wrapped */
	/* Out of order across a wrap again is not possible at 64 KiB; do
	 * it across this side of the space: 3 segments, last first. */
	base = peer.snd_nxt;
	peer.snd_nxt = base + 2000;
	peer.data_off += 2000;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 1000), 0);
	EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, base, 0);
	peer.snd_nxt = base;
	peer.data_off -= 3000;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 1000), 0);
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 1000), 0);
	sp_h_flush(nd);
	CHECK_EQ(r->rx_bytes, 5000);
	peer.snd_nxt = base + 3000;
	peer.data_off += 1000;
	r->tx_total = 10000;
	sp_h_send_more(r);
	for (i = 0; i < 60; i++)
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 1000), 0);
	CHECK_EQ(r->rx_bytes, 65000);
	CHECK_EQ(r->rx_bad, 0);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* A peer whose first sequence numbers straddle the wrap, with its data
 * arriving out of order exactly across 2^32. */
static void
test_seq_wrap_ooo(void)
{
	struct sp_h_conn *r;

	start1(NULL);
	/* First data byte at 0xfffffc19: segment 1 ends at 0, segment 2
	 * starts there. */
	r = sp_h_peer_accept(&peer, 0xfffffc18u, 65535);
	peer.snd_nxt += 999;
	peer.data_off += 999;
	CHECK_EQ(peer.snd_nxt, 0u);
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 1000), 0);
	EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, 0xfffffc19u, 0);
	CHECK_EQ(r->rx_bytes, 0);
	peer.snd_nxt = 0xfffffc19u;
	peer.data_off = 0;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 999), 0);
	EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, 1000u, 0);
	CHECK_EQ(r->rx_bytes, 1999);
	CHECK_EQ(r->rx_bad, 0);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

struct syn_seen {
	uint32_t syn, synack;
	bool got_syn, got_synack;
};

static int
watch_syns(struct sp_h_net *n, int dir, uint8_t *f, uint32_t *len, void *arg)
{
	struct syn_seen *s = arg;

	(void)n;
	sp_h_parse(f, *len, &pk);
	if (pk.tcp && (pk.flags & TH_SYN)) {
		if (dir == 0 && !s->got_syn) {
			s->syn = pk.seq;
			s->got_syn = true;
		} else if (dir == 1 && !s->got_synack) {
			s->synack = pk.seq;
			s->got_synack = true;
		}
	}
	return SP_H_PASS;
}

/* Both ISNs steered just below 2^32 (RFC 6528: clock plus keyed hash; the
 * clock and the server's secret are chosen for it), then a MiB each way. */
static void
test_seq_wrap_wire(void)
{
	struct syn_seen seen = { 0 };
	struct sp_conn tc, ts;
	struct sp_stack *cs, *ss;
	struct sp_h_conn *r;
	uint32_t hc, q, secret = 0, isn_s = 0;
	uint16_t port;
	uint64_t t0;

	/* Learn the hash parts at clock 0. */
	sp_h_net_init(&net, 2, 64);
	sp_h_net_start(&net, 0);
	cs = net.node[0].st;
	ss = net.node[1].st;
	port = net.node[0].cfg.port_min; /* the first ephemeral port */
	memset(&tc, 0, sizeof(tc));
	tc.rip = SP_H_IP_SERVER;
	tc.lip = SP_H_IP_CLIENT;
	tc.rport = 80;
	tc.lport = port;
	memset(&ts, 0, sizeof(ts));
	ts.rip = SP_H_IP_CLIENT;
	ts.lip = SP_H_IP_SERVER;
	ts.rport = port;
	ts.lport = 80;
	hc = sp_seg_isn(cs, &tc);
	q = 0u - 3000u - hc; /* clock/4 that puts the client ISN at -3000 */
	for (secret = 1; secret < 10u * 1000 * 1000; secret++) {
		ss->cfg.isn_secret = secret;
		isn_s = q + sp_seg_isn(ss, &ts);
		if (isn_s >= 0xfffe0000u && isn_s <= 0xffffe000u)
			break;
	}
	CHECK(isn_s >= 0xfffe0000u && isn_s <= 0xffffe000u);
	ss->cfg.isn_secret = net.node[1].cfg.isn_secret;
	sp_h_net_finish(&net);

	t0 = 4ull * q + 4ull * 0x100000000ull; /* any clock with clock/4 = q */
	sp_h_net_init(&net, 2, 64);
	net.node[1].cfg.isn_secret = secret;
	sp_h_net_start(&net, t0);
	sp_h_resolve(&net);
	CHECK_EQ(sp_tcp_listen(net.node[1].st, 80), 0);
	net.node[0].hook = watch_syns;
	net.node[0].hook_arg = &seen;
	net.node[1].hook = watch_syns;
	net.node[1].hook_arg = &seen;
	net.node[1].acc_tx_total = MiB + 5;
	net.node[1].acc_close_on_fin = true;
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, MiB + 9);
	r->close_after_send = true;
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 60 * SEC));
	CHECK(seen.got_syn && seen.got_synack);
	CHECK_EQ(seen.syn, 0u - 3000u);
	CHECK_EQ(seen.synack, isn_s);
	check_records();
	sp_h_net_finish(&net);
}

/* ---- out-of-order reassembly ------------------------------------------ */

static const uint8_t syn_sack[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };

/* A connection from a peer that allows SACK, its stream starting at
 * *base; bytes 100-199 sent first, drawing an immediate ACK (in pk). */
static struct sp_h_conn *
sack_hole(uint32_t *base)
{
	struct sp_h_conn *r;

	start1(NULL);
	peer.syn_opt = syn_sack;
	peer.syn_optlen = sizeof(syn_sack);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	*base = peer.snd_nxt;
	peer.snd_nxt = *base + 100;
	peer.data_off = 100;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	EXPECT_SEG_P(nd, TH_ACK, peer.rcv_nxt, *base, 0, &pk);
	return r;
}

/* One step of the SACK tests, reported at @line: the peer sends 100
 * bytes at @off past @base, the input returns @rc, and the stack answers
 * at once with an ACK of @ack past @base that carries the @n SACK blocks
 * @blk ({left, right} past @base, in the order sent). */
static void
sack_step_at(int line, uint32_t base, uint32_t off, int rc, uint32_t ack,
	     uint32_t n, const uint32_t (*blk)[2])
{
	peer.snd_nxt = base + off;
	peer.data_off = off;
	sp_h_checks++;
	if (sp_h_peer_send(&peer, TH_ACK, NULL, 100) != rc)
		sp_h_fail(__FILE__, line, "input returned other than %d", rc);
	if (!sp_h_expect_seg_at(__FILE__, line, nd, TH_ACK, peer.rcv_nxt,
				base + ack, 0, &pk))
		return;
	sp_h_checks++;
	if (pk.nsack != n)
		sp_h_fail(__FILE__, line, "%u SACK blocks, not %u", pk.nsack,
			  n);
	for (uint32_t i = 0; i < n && i < pk.nsack; i++) {
		sp_h_checks++;
		if (pk.sack[i][0] != base + blk[i][0] ||
		    pk.sack[i][1] != base + blk[i][1])
			sp_h_fail(__FILE__, line,
				  "SACK block %u is [%u, %u), "
				  "not [%u, %u)",
				  i, pk.sack[i][0] - base, pk.sack[i][1] - base,
				  blk[i][0], blk[i][1]);
	}
}
#define SACK_STEP(base, off, rc, ack, ...)                                     \
	do {                                                                   \
		static const uint32_t blk_[][2] = { __VA_ARGS__ };             \
		sack_step_at(__LINE__, base, off, rc, ack,                     \
			     sizeof(blk_) / sizeof(blk_[0]), blk_);            \
	} while (0)

/* Segments 2, 3, 1: nothing delivered and an immediate duplicate ACK for
 * each early one (RFC 5681 4.2), with SACK blocks for the held ranges
 * (RFC 2018: the latest arrival's block first); then all 300 bytes in
 * order, once, and an immediate ACK. Duplicates change nothing. */
static void
test_ooo_basic(void)
{
	uint32_t base;
	struct sp_h_conn *r = sack_hole(&base);

	CHECK_EQ(pk.nsack, 1);
	CHECK_EQ(pk.sack[0][0], base + 100);
	CHECK_EQ(pk.sack[0][1], base + 200);
	/* Segment 4 (leaving a hole at 3), then 3. */
	SACK_STEP(base, 300, 0, 0, { 300, 400 }, { 100, 200 });
	SACK_STEP(base, 200, 0, 0, { 100, 400 });
	CHECK_EQ(r->rx_bytes, 0);
	CHECK_EQ(sp_stack_stats(nd->st)->tcp_ooo_segs, 3);
	/* A duplicate of a held segment: ACK again, nothing kept twice; the
	 * ACK says which bytes came twice (RFC 2883 D-SACK: first block),
	 * then the held range that holds them. */
	SACK_STEP(base, 200, 0, 0, { 200, 300 }, { 100, 400 });
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 3);
	CHECK_EQ(sp_stack_stats(nd->st)->tcp_dsack, 1);
	/* The hole: everything in order, at once. */
	peer.snd_nxt = base;
	peer.data_off = 0;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	EXPECT_SEG_P(nd, TH_ACK, peer.rcv_nxt, base + 400, 0, &pk);
	CHECK_EQ(pk.nsack, 0);
	CHECK_EQ(r->rx_bytes, 400);
	CHECK_EQ(r->rx_bad, 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	/* Old data again: ACK, not delivered again; the ACK's one block,
	 * below the cumulative ACK, is a D-SACK of it. */
	SACK_STEP(base, 100, SP_DROP_ERR(SP_DROP_TCP_SEQ), 400, { 100, 200 });
	CHECK_EQ(r->rx_bytes, 400);
	/* Half old, half new: the new half delivered, the old half D-SACKed
	 * at once. */
	SACK_STEP(base, 350, 0, 450, { 350, 400 });
	CHECK_EQ(r->rx_bytes, 450);
	CHECK_EQ(r->rx_bad, 0);
	CHECK_EQ(sp_stack_stats(nd->st)->tcp_dsack, 3);
	/* Reported once: the next ACK carries no block. */
	peer.snd_nxt = base + 450;
	peer.data_off = 450;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	EXPECT_SEG_P(nd, TH_ACK, peer.rcv_nxt, base + 650, 0, &pk);
	CHECK_EQ(pk.nsack, 0);
	EXPECT_NONE(nd);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* A RST carries no SACK blocks, even with data held out of order. */
static void
test_rst_no_sack(void)
{
	uint32_t base;
	struct sp_h_conn *r = sack_hole(&base);

	CHECK_EQ(pk.nsack, 1);
	sp_tcp_abort(nd->st, r->c);
	CHECK(sp_h_pop(nd, &pk));
	CHECK_EQ(pk.flags, TH_RST | TH_ACK);
	CHECK_EQ(pk.nsack, 0);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* Random pieces of a 20000-byte stream, overlapping, duplicated and in
 * any order, some reaching back before rcv_nxt: the application gets each
 * byte once, in order. */
static void
test_ooo_random(void)
{
	enum { N = 20000 };
	uint64_t rng = 12345;
	uint32_t seed;

	for (seed = 1; seed <= 20; seed++) {
		struct sp_h_conn *r;
		uint32_t base, i, covered;
		static uint8_t have[N];

		rng = seed * 0x9e3779b97f4a7c15ull;
		start1(NULL);
		if (seed & 1) {
			peer.syn_opt = syn_sack;
			peer.syn_optlen = sizeof(syn_sack);
		}
		r = sp_h_peer_accept(&peer, PISN + seed * 77777u, 65535);
		base = peer.snd_nxt;
		memset(have, 0, sizeof(have));
		for (i = 0, covered = 0; i < 400 && covered < N; i++) {
			uint32_t off = (uint32_t)(sp_h_rand(&rng) % N);
			uint32_t len = 1 + (uint32_t)(sp_h_rand(&rng) % 1460);
			uint32_t k;

			if (off + len > N)
				len = N - off;
			peer.snd_nxt = base + off;
			peer.data_off = off;
			sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL, len);
			for (k = off; k < off + len; k++) {
				covered += !have[k];
				have[k] = 1;
			}
			while (sp_h_pop(nd, &pk)) {
				CHECK_EQ(pk.flags, TH_ACK);
				/* Without SACK-permitted, no block at all
				 * (RFC 2883 rides on RFC 2018). */
				if (!(seed & 1))
					CHECK_EQ(pk.nsack, 0);
				/* A D-SACK first block: bytes that did come. */
				if (pk.nsack > 0 &&
				    SEQ_LT(pk.sack[0][0], pk.ack)) {
					uint32_t a = pk.sack[0][0] - base;

					CHECK(SEQ_LEQ(pk.sack[0][1], pk.ack));
					CHECK(a < N && have[a]);
				}
			}
		}
		/* Some pieces reached back before rcv_nxt: with SACK, said. */
		if (seed & 1)
			CHECK(sp_stack_stats(nd->st)->tcp_dsack > 0);
		else
			CHECK_EQ(sp_stack_stats(nd->st)->tcp_dsack, 0);
		/* Then the peer retransmits from what was acknowledged. */
		for (i = 0; i < 100 && r->rx_bytes < N; i++) {
			uint32_t off = (uint32_t)r->rx_bytes;
			uint32_t len = N - off < 1460 ? N - off : 1460;

			peer.snd_nxt = base + off;
			peer.data_off = off;
			CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_PSH, NULL,
						len),
				 0);
		}
		CHECK_EQ(r->rx_bytes, N);
		CHECK_EQ(r->rx_bad, 0);
		CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
		sp_h_flush(nd);
		/* The FIN after it all closes the receive side. */
		peer.snd_nxt = base + N;
		CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_FIN, NULL, 0), 0);
		CHECK(r->peer_fin);
		EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, base + N + 1, 0);
		sp_tcp_abort(nd->st, r->c);
		sp_h_flush(nd);
		sp_h_net_finish(&net);
	}
}

static void
ooo_4(struct sp_stack_config *cfg)
{
	cfg->ooo_max = 4;
}

/* The out-of-order queue holds at most ooo_max segments; more are dropped
 * and counted, and recovered by the peer's retransmission. */
static void
test_ooo_cap(void)
{
	struct sp_h_conn *r;
	uint32_t base, i;

	start1(ooo_4);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	base = peer.snd_nxt;
	for (i = 1; i <= 6; i++) {
		peer.snd_nxt = base + 200 * i;
		peer.data_off = 200 * i;
		sp_h_peer_send(&peer, TH_ACK, NULL, 100);
		EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, base, 0);
	}
	CHECK_EQ(sp_stack_stats(nd->st)->drop[SP_DROP_TCP_OOO_FULL], 2);
	CHECK_EQ(sp_stack_stats(nd->st)->tcp_ooo_segs, 4);
	/* Fill every gap from the start, as a retransmitting peer would. */
	for (i = 0; i < 7 && r->rx_bytes < 1300; i++) {
		uint32_t off = (uint32_t)r->rx_bytes;

		peer.snd_nxt = base + off;
		peer.data_off = off;
		sp_h_peer_send(&peer, TH_ACK, NULL,
			       1300 - off < 1460 ? 1300 - off : 1460);
	}
	CHECK_EQ(r->rx_bytes, 1300);
	CHECK_EQ(r->rx_bad, 0);
	CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
	sp_tcp_abort(nd->st, r->c);
	sp_h_flush(nd);
	sp_h_net_finish(&net);
}

/* A FIN that arrives before the data it follows waits with it. */
static void
test_ooo_fin(void)
{
	struct sp_h_conn *r;
	uint32_t base;

	start1(NULL);
	r = sp_h_peer_accept(&peer, PISN, 65535);
	base = peer.snd_nxt;
	peer.snd_nxt = base + 100;
	peer.data_off = 100;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK | TH_FIN, NULL, 100), 0);
	EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, base, 0);
	CHECK(!r->peer_fin);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_ESTABLISHED);
	peer.snd_nxt = base;
	peer.data_off = 0;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 100), 0);
	EXPECT_SEG(nd, TH_ACK, peer.rcv_nxt, base + 201, 0);
	CHECK_EQ(r->rx_bytes, 200);
	CHECK_EQ(r->rx_bad, 0);
	CHECK(r->peer_fin);
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_CLOSE_WAIT);
	CHECK_EQ(sp_tcp_close(nd->st, r->c), 0);
	EXPECT_SEG(nd, TH_FIN | TH_ACK, peer.rcv_nxt, base + 201, 0);
	peer.rcv_nxt++;
	peer.snd_nxt = base + 201;
	CHECK_EQ(sp_h_peer_send(&peer, TH_ACK, NULL, 0), 0);
	CHECK(r->closed);
	CHECK_EQ(r->why, SP_CLOSE_NORMAL);
	sp_h_net_finish(&net);
}

/* ---- faults on the wire ----------------------------------------------- */

struct lossy {
	uint64_t rng;
	unsigned drop, dup, delay, corrupt; /* per 1000 frames */
	uint64_t n_drop, n_dup, n_delay, n_corrupt;
};

static int
lossy_hook(struct sp_h_net *n, int dir, uint8_t *f, uint32_t *len, void *arg)
{
	struct lossy *l = arg;
	unsigned x = (unsigned)(sp_h_rand(&l->rng) % 1000);

	(void)n;
	(void)dir;
	if (x < l->drop) {
		l->n_drop++;
		return SP_H_DROP;
	}
	x -= l->drop;
	if (x < l->dup) {
		l->n_dup++;
		return SP_H_DUP;
	}
	x -= l->dup;
	if (x < l->delay) {
		l->n_delay++;
		return SP_H_DELAY;
	}
	x -= l->delay;
	if (x<l->corrupt && * len> 34) {
		/* One bit anywhere past the Ethernet header. */
		f[14 + sp_h_rand(&l->rng) % (*len - 14)] ^=
			(uint8_t)(1u << (sp_h_rand(&l->rng) % 8));
		l->n_corrupt++;
	}
	return SP_H_PASS;
}

/* 5% loss, 2% duplicates, 2% reordering, 0.5% bit flips, both ways, over
 * four connections moving 3 MiB each way in all: every byte arrives once
 * and intact, and both sides had to retransmit. */
static void
lossy_wire(bool nic_csum)
{
	struct lossy l0 = {
		.rng = 1, .drop = 50, .dup = 20, .delay = 20, .corrupt = 5
	};
	struct lossy l1 = {
		.rng = 2, .drop = 50, .dup = 20, .delay = 20, .corrupt = 5
	};
	uint32_t i;
	uint64_t csum_drops;

	sp_h_net_init(&net, 2, 64);
	net.node[0].nic_csum = nic_csum;
	net.node[1].nic_csum = nic_csum;
	sp_h_net_start(&net, T0);
	sp_h_resolve(&net);
	CHECK_EQ(sp_tcp_listen(net.node[1].st, 80), 0);
	net.node[0].hook = lossy_hook;
	net.node[0].hook_arg = &l0;
	net.node[1].hook = lossy_hook;
	net.node[1].hook_arg = &l1;
	net.node[1].acc_tx_total = 768 * KiB + 3;
	net.node[1].acc_close_on_fin = true;
	for (i = 0; i < 4; i++) {
		struct sp_h_conn *r = sp_h_connect(&net.node[0], SP_H_IP_SERVER,
						   80, 768 * KiB + i);

		r->split = i == 0 ? 0 : 1000 * i + 1;
		r->close_after_send = true;
	}
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 600 * SEC));
	check_records();
	for (i = 0; i < 2; i++) {
		const struct sp_stack_stats *s = stats_of((int)i);

		CHECK_GT(s->tcp_retrans_segs, 0);
		CHECK_GT(s->tcp_fast_retrans, 0);
		CHECK_GT(s->tcp_dup_acks, 0);
		CHECK_GT(s->tcp_ooo_segs, 0);
	}
	csum_drops = stats_of(0)->drop[SP_DROP_TCP_CSUM] +
		     stats_of(0)->drop[SP_DROP_IP_CSUM] +
		     stats_of(1)->drop[SP_DROP_TCP_CSUM] +
		     stats_of(1)->drop[SP_DROP_IP_CSUM];
	CHECK_GT(csum_drops, 0);
	CHECK_GT(l0.n_drop + l1.n_drop, 100);
	CHECK_GT(l0.n_dup + l1.n_dup, 10);
	CHECK_GT(l0.n_delay + l1.n_delay, 10);
	for (i = 0; i < 2; i++) {
		const struct sp_stack_stats *s = stats_of((int)i);

		/* Every checksum made and checked once, by whom the port
		 * says: with offload the wire (the NIC) made them all and
		 * judged every frame, the bit flips included. */
		CHECK_EQ(s->cksum_tx_tcp_sw + s->cksum_tx_tcp_nic,
			 s->tcp_tx_segs);
		CHECK_EQ(s->cksum_tx_ip_sw + s->cksum_tx_ip_nic,
			 s->tx_frames - s->arp_tx_request - s->arp_tx_reply);
		CHECK_EQ(nic_csum ? s->cksum_tx_tcp_sw : s->cksum_tx_tcp_nic,
			 0);
		CHECK_EQ(nic_csum ? s->cksum_tx_ip_sw : s->cksum_tx_ip_nic, 0);
		CHECK_EQ(nic_csum ? s->cksum_rx_tcp_sw : s->cksum_rx_tcp_nic,
			 0);
		CHECK_EQ(nic_csum ? s->cksum_rx_ip_sw : s->cksum_rx_ip_nic, 0);
		CHECK_EQ(net.node[i].tx_offloaded,
			 nic_csum ? s->cksum_tx_ip_nic : 0);
		/* checked: every segment taken in, and those dropped for a
		 * bad checksum or after the check */
		CHECK_GE(s->cksum_rx_tcp_sw + s->cksum_rx_tcp_nic,
			 s->tcp_rx_segs + s->drop[SP_DROP_TCP_CSUM]);
	}
	sp_h_net_finish(&net);
}

static void
test_lossy_wire(void)
{
	lossy_wire(false);
}

/* The same over ports with checksum offload: the stacks leave their
 * checksums to the NIC (the wire makes them, after checking each frame
 * asks with the pseudo-header's sum in place), and take its verdicts, the
 * bit flips' BAD included (dropped and counted as the software check
 * would). */
static void
test_lossy_wire_offload(void)
{
	lossy_wire(true);
}

/* Drop exactly one frame chosen by a predicate. */
struct pick {
	int dir;
	uint8_t flags_set;   /* all of these set */
	uint8_t flags_clear; /* none of these set */
	int data;            /* 1: payload only, 0: no payload, -1: any */
	uint32_t nth;        /* which matching frame (1-based) */
	uint32_t seen, dropped;
};

static int
pick_hook(struct sp_h_net *n, int dir, uint8_t *f, uint32_t *len, void *arg)
{
	struct pick *p = arg;

	(void)n;
	if (dir != p->dir)
		return SP_H_PASS;
	sp_h_parse(f, *len, &pk);
	if (!pk.tcp || (pk.flags & p->flags_set) != p->flags_set ||
	    (pk.flags & p->flags_clear) || (p->data == 1 && !pk.plen) ||
	    (p->data == 0 && pk.plen))
		return SP_H_PASS;
	if (++p->seen != p->nth)
		return SP_H_PASS;
	p->dropped++;
	return SP_H_DROP;
}

/* Run one client/server exchange with one frame dropped. */
static void
one_loss(struct pick *p, uint64_t c2s, uint64_t s2c, bool client_closes)
{
	struct sp_h_conn *r;

	start2(64, T0);
	net.node[p->dir].hook = pick_hook;
	net.node[p->dir].hook_arg = p;
	net.node[1].acc_tx_total = s2c;
	net.node[1].acc_close_on_fin = client_closes;
	net.node[1].acc_close_after_send = !client_closes;
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, c2s);
	r->close_after_send = client_closes;
	r->close_on_fin = !client_closes;
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 30 * SEC));
	CHECK_EQ(p->dropped, 1);
	check_records();
}

static void
test_drop_nth_data(void)
{
	struct pick p = { .dir = 0, .data = 1, .nth = 5 };

	one_loss(&p, 100 * KiB, 1000, true);
	/* The segments after the hole bring three duplicate ACKs: one fast
	 * retransmit, no timeout. */
	CHECK_EQ(stats_of(0)->tcp_fast_retrans, 1);
	CHECK_EQ(stats_of(0)->tcp_rto, 0);
	CHECK_EQ(stats_of(0)->tcp_retrans_segs, 1);
	CHECK_GE(stats_of(1)->tcp_ooo_segs, 3);
	sp_h_net_finish(&net);
}

static void
test_drop_last_data(void)
{
	/* 10 full segments + 1: the 11th is the tail, nothing after it to
	 * raise duplicate ACKs: recovered by the RTO. */
	struct pick p = { .dir = 1, .data = 1, .nth = 11 };

	one_loss(&p, 1000, 10 * 1460 + 100, true);
	CHECK_EQ(stats_of(1)->tcp_fast_retrans, 0);
	CHECK_EQ(stats_of(1)->tcp_rto, 1);
	sp_h_net_finish(&net);
}

static void
test_drop_syn(void)
{
	struct pick p = { .dir = 0, .flags_set = TH_SYN, .data = -1, .nth = 1 };

	one_loss(&p, 5000, 5000, true);
	CHECK_EQ(stats_of(0)->tcp_syn_retrans, 1);
	sp_h_net_finish(&net);
}

static void
test_drop_synack(void)
{
	struct pick p = {
		.dir = 1, .flags_set = TH_SYN | TH_ACK, .data = -1, .nth = 1
	};

	one_loss(&p, 5000, 5000, true);
	CHECK_EQ(stats_of(0)->tcp_syn_retrans, 1);
	sp_h_net_finish(&net);
}

/* The third ACK of the handshake lost. If the client then sends, its
 * first data segment completes the server's handshake; if it waits for the
 * server, the server's SYN-ACK retransmission draws a fresh ACK. */
static void
test_drop_handshake_ack(void)
{
	struct pick p = { .dir = 0,
			  .flags_set = TH_ACK,
			  .flags_clear = TH_SYN | TH_FIN | TH_RST,
			  .data = 0,
			  .nth = 1 };
	struct pick q = p;
	struct sp_h_conn *r;

	start2(64, T0);
	net.node[0].hook = pick_hook;
	net.node[0].hook_arg = &p;
	net.node[1].acc_tx_total = 5000;
	net.node[1].acc_close_on_fin = true;
	r = sp_h_connect(&net.node[0], SP_H_IP_SERVER, 80, 0);
	sp_h_pump(&net);
	CHECK_EQ(p.dropped, 1);
	CHECK(r->connected);
	CHECK_EQ(net.node[1].n_connected, 0);
	r->tx_total = 5000;
	r->close_after_send = true;
	sp_h_send_more(r);
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 30 * SEC));
	check_records();
	CHECK_EQ(stats_of(1)->tcp_syn_retrans, 0);
	sp_h_net_finish(&net);

	one_loss(&q, 0, 5000, false);
	CHECK_EQ(stats_of(1)->tcp_syn_retrans, 1);
	sp_h_net_finish(&net);
}

static void
test_drop_fin(void)
{
	struct pick p = { .dir = 0, .flags_set = TH_FIN, .data = -1, .nth = 1 };

	one_loss(&p, 3000, 3000, true);
	CHECK_EQ(stats_of(0)->tcp_rto, 1);
	sp_h_net_finish(&net);
}

/* The last ACK of a close lost: the LAST_ACK side resends its FIN and the
 * TIME_WAIT side answers it. The client sends data then FIN, the server
 * answers with one FIN+ACK: the client's first pure ACK is the last ACK. */
static void
test_drop_last_ack(void)
{
	struct pick p = { .dir = 0,
			  .flags_set = TH_ACK,
			  .flags_clear = TH_SYN | TH_FIN | TH_RST,
			  .data = 0,
			  .nth = 1 };

	one_loss(&p, 100, 0, true);
	CHECK_EQ(stats_of(1)->tcp_rto, 1); /* the server resent its FIN */
	CHECK_EQ(stats_of(1)->conn_closed[SP_CLOSE_NORMAL], 1);
	sp_h_net_finish(&net);
}

/* ---- many connections ------------------------------------------------- */

static void
test_many_connections(void)
{
	const uint32_t n = 1000;
	uint32_t i;

	start2(1100, T0);
	net.node[1].acc_tx_total = 5000;
	net.node[1].acc_close_on_fin = true;
	sp_h_allocs = 0;
	sp_h_alloc_counting = true;
	for (i = 0; i < n; i++) {
		struct sp_h_conn *r = sp_h_connect(&net.node[0], SP_H_IP_SERVER,
						   80, 3000 + i % 7);

		r->close_after_send = true;
	}
	CHECK_EQ(sp_stack_conns_in_use(net.node[0].st), n);
	CHECK(sp_h_run(&net, sp_h_all_closed, NULL, 60 * SEC));
	CHECK_EQ(sp_h_conn_count(), 2 * n);
	check_records();
	CHECK_EQ(stats_of(0)->conn_established, n);
	CHECK_EQ(stats_of(1)->conn_established, n);
	CHECK_EQ(stats_of(0)->conn_closed[SP_CLOSE_NORMAL], n);
	CHECK_EQ(stats_of(1)->conn_closed[SP_CLOSE_NORMAL], n);
	CHECK_EQ(stats_of(0)->tcp_retrans_segs + stats_of(1)->tcp_retrans_segs,
		 0);
	CHECK_EQ(sp_stack_conns_in_use(net.node[0].st), n); /* TIME_WAIT */
	CHECK_EQ(sp_stack_conns_in_use(net.node[1].st), 0);
	sp_h_net_finish(&net);
	if (sp_h_alloc_wrapped)
		CHECK_EQ(sp_h_allocs, 0);
}

/* The stack's checksum (cksum.h, 64-bit steps) against DPDK's
 * rte_raw_cksum (16-bit steps): every length to 1,600 bytes at every
 * alignment, on random bytes, all-ones and all-zeros, with and without an
 * initial sum; sp_cksum_ip20 where the length is 20. */
static void
test_cksum(void)
{
	static uint8_t buf[1600 + 8];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int bad = 0;

	for (int fill = 0; fill < 3; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = fill == 0 ? (uint8_t)x : fill == 1 ? 0xff : 0;
		}
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len + off <= sizeof(buf); len++) {
				uint16_t want = rte_raw_cksum(buf + off, len);
				uint32_t init = (uint32_t)(len * 2654435761u) &
						0xffff;
				uint32_t w2 = rte_raw_cksum(buf + off, len) +
					      init;

				w2 = (w2 & 0xffff) + (w2 >> 16);
				w2 = (w2 & 0xffff) + (w2 >> 16);
				if (sp_cksum_raw(buf + off, len, 0) != want ||
				    sp_cksum_raw(buf + off, len, init) != w2)
					bad++;
				/* An IPv4 header's 20 bytes, anywhere. */
				if (len == 20 && sp_cksum_ip20(buf + off) != want)
					bad++;
			}
	}
	CHECK_EQ(bad, 0);
	/* The pseudo-header's words against rte_ipv4_phdr_cksum. */
	bad = 0;
	for (int i = 0; i < 100000; i++) {
		struct rte_ipv4_hdr ip = { 0 };
		uint16_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ip.version_ihl = 0x45;
		ip.src_addr = (uint32_t)x;
		ip.dst_addr = (uint32_t)(x >> 32);
		ip.next_proto_id = (uint8_t)(x >> 11);
		len = (uint16_t)(x >> 19) % 65000;
		ip.total_length = rte_cpu_to_be_16((uint16_t)(len + 20));
		if (sp_cksum_raw(NULL, 0,
				 sp_cksum_phdr(ip.src_addr, ip.dst_addr,
					       ip.next_proto_id, len)) !=
		    rte_ipv4_phdr_cksum(&ip, 0))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static const struct sp_h_test tests[] = {
	{ "cksum", test_cksum },
	{ "bulk_splits", test_bulk_splits },
	{ "bulk_splits_zc", test_bulk_splits_zc },
	{ "bulk_2mib", test_bulk_2mib },
	{ "one_byte_sends", test_one_byte_sends },
	{ "one_byte_segments", test_one_byte_segments },
	{ "chunk_pool_dry", test_chunk_pool_dry },
	{ "chunk_pool_waiter", test_chunk_pool_waiter },
	{ "chunk_pool_dry_zc", test_chunk_pool_dry_zc },
	{ "chunk_pool_waiter_zc", test_chunk_pool_waiter_zc },
	{ "zc_commit_nothing", test_zc_commit_nothing },
	{ "zc_append_after_send", test_zc_append_after_send },
	{ "zc_partial_ack", test_zc_partial_ack },
	{ "ref_send", test_ref_send },
	{ "ref_limits", test_ref_limits },
	{ "frames_dry", test_frames_dry },
	{ "frames_dry_zc", test_frames_dry_zc },
	{ "window_from_old_seq", test_window_from_old_seq },
	{ "window_before_sent", test_window_before_sent },
	{ "seq_wrap_peer", test_seq_wrap_peer },
	{ "seq_wrap_ooo", test_seq_wrap_ooo },
	{ "seq_wrap_wire", test_seq_wrap_wire },
	{ "ooo_basic", test_ooo_basic },
	{ "rst_no_sack", test_rst_no_sack },
	{ "ooo_random", test_ooo_random },
	{ "ooo_cap", test_ooo_cap },
	{ "ooo_fin", test_ooo_fin },
	{ "lossy_wire", test_lossy_wire },
	{ "lossy_wire_offload", test_lossy_wire_offload },
	{ "drop_nth_data", test_drop_nth_data },
	{ "drop_last_data", test_drop_last_data },
	{ "drop_syn", test_drop_syn },
	{ "drop_synack", test_drop_synack },
	{ "drop_handshake_ack", test_drop_handshake_ack },
	{ "drop_fin", test_drop_fin },
	{ "drop_last_ack", test_drop_last_ack },
	{ "many_connections", test_many_connections },
};

int
main(int argc, char **argv)
{
	return sp_h_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
