/*
 * libFuzzer target for the stack: everything that reads bytes from the
 * network (Ethernet, ARP, IPv4, ICMP, TCP options and the state machine).
 *
 * Random frames rarely get past the checksums, so most of the input is
 * applied as mutations on valid template frames: a segment for one of the
 * live connections with sequence and acknowledgment numbers taken from its
 * control block (exact, nudged or random), chosen flags, window, options
 * and payload, then bytes XORed anywhere, then checksums fixed unless the
 * input says not to. Around that the input moves the clock (timers) and
 * drives the application (send, close, abort, connect).
 *
 * Each run starts from a fresh stack holding a listener, a passive and an
 * active connection established with data in flight, and one SYN_SENT.
 * Oracles: AddressSanitizer/UBSan, every emitted frame well-formed with
 * valid checksums, the harness's structural invariants after every step,
 * and after aborting everything, no connection and no chunk left.
 *
 * Input: a sequence of records, each starting with an op byte:
 *   op & 7 == 0  advance the clock by b*b*100 µs (b: next byte), poll
 *   op & 7 == 1  raw frame: 2-byte length, then the bytes
 *   op & 7 2..5  TCP template (see tcp_template); op bit 3 picks the ACK
 *                base (snd_una or snd_max), bits 4-5 repeat the frame up to
 *                3 more times (duplicate ACKs), bit 6 scales the window,
 *                bit 7 leaves the checksums as mutated
 *   op & 7 == 6  application action (next byte)
 *   op & 7 == 7  ARP or ICMP template, mutated
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stack_int.h"

#define PEER_IP SP_H_IP_SERVER
#define OUR_IP SP_H_IP_CLIENT
#define FRAME_ROOM 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t
in_u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t
in_u32(struct input *in)
{
	uint32_t v = in_u8(in);

	v = v << 8 | in_u8(in);
	v = v << 8 | in_u8(in);
	return v << 8 | in_u8(in);
}

/* ---- the stack's environment ------------------------------------------ */

static uint8_t txbuf[SP_FRAME_MAX]; /* exactly one frame: ASan sees overruns */
static struct sp_h_pkt txpkt;
static uint64_t now;
static uint8_t appbuf[17 * 1024]; /* up to 255 * 64 + 1 per send */

static uint8_t *
fz_tx_alloc(void *io_ctx, void **handle)
{
	(void)io_ctx;
	*handle = txbuf;
	return txbuf;
}

static void
fz_tx_send(void *io_ctx, void *handle, uint32_t len, uint64_t ol_flags)
{
	(void)io_ctx;
	/* no offload configured: every checksum is made in software */
	if (handle != txbuf || len < 60 || len > SP_FRAME_MAX || ol_flags)
		abort();
	sp_h_parse(txbuf, len, &txpkt);
	if (txpkt.ethertype == 0x0800 &&
	    (!txpkt.ip || !txpkt.ip_csum_ok || !txpkt.l4_csum_ok))
		abort();
	if (txpkt.ip && txpkt.sip != OUR_IP)
		abort();
}

static void
fz_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)app;
	sp_tcp_send(st, c, appbuf, 3000);
}

static void
fz_recv(struct sp_stack *st, struct sp_conn *c, void *app, const uint8_t *d,
	uint32_t len)
{
	(void)app;
	if (d[0] == 0xff)
		sp_tcp_abort(st, c);
	else if (d[0] == 0xfe)
		sp_tcp_close(st, c);
	else if (d[0] & 1)
		sp_tcp_send(st, c, d, len);
}

static void
fz_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)app;
	if (sp_tcp_send_space(st, c) > 8192)
		sp_tcp_send(st, c, appbuf, 1000);
}

static void
fz_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)app;
	sp_tcp_close(st, c);
}

static const struct sp_tcp_ops fz_ops = {
	.connected = fz_connected,
	.recv = fz_recv,
	.sent = fz_sent,
	.peer_fin = fz_peer_fin,
};

static void
check(struct sp_stack *st)
{
	if (sp_h_invariants(st))
		abort();
}

static void
input(struct sp_stack *st, const uint8_t *f, uint32_t len)
{
	sp_stack_input(st, f, len, now);
	check(st);
}

static bool
conn_live(struct sp_stack *st, uint32_t i)
{
	uint32_t j;

	for (j = st->conn_free; j != SP_NIL; j = st->conns[j].hnext)
		if (j == i)
			return false;
	return true;
}

/* ---- templates -------------------------------------------------------- */

/* Fix checksums only where the (mutated) header still describes a frame
 * inside the buffer: the helpers trust the length fields. */
static void
fix_csums(uint8_t *f, uint32_t len)
{
	uint32_t ihl = (uint32_t)(f[14] & 15) * 4;
	uint32_t tot = (uint32_t)(f[16] << 8 | f[17]);

	if (len < 34 || ihl < 20 || 14 + ihl > len)
		return;
	sp_h_fix_ip_csum(f);
	if (tot >= ihl + 8 && 14 + tot <= len &&
	    (f[23] != 6 || tot >= ihl + 20))
		sp_h_fix_l4_csum(f);
}

static void
mutate(struct input *in, uint8_t *f, uint32_t *len)
{
	uint8_t n = in_u8(in), i;

	for (i = 0; i < (n & 7); i++) {
		uint8_t pos = in_u8(in), val = in_u8(in);

		/* Headers are where the decisions are: bias to them. */
		f[(n & 8) ? pos % *len : (14 + pos % 60) % *len] ^= val;
	}
	if (n & 0x10) { /* cut or extend (Ethernet padding) */
		uint8_t b = in_u8(in);
		uint32_t l = (b & 0x80) ? *len + (b & 0x7f) : *len - b % (*len);

		if (l > FRAME_ROOM)
			l = FRAME_ROOM;
		if (l > *len)
			memset(f + *len, b, l - *len);
		*len = l;
	}
}

static uint32_t
pick_seq(struct input *in, uint32_t base)
{
	uint8_t b = in_u8(in);

	switch (b >> 6) {
	case 0:
		return base;
	case 1:
		return base + (b & 63);
	case 2:
		return base - (b & 63);
	default: /* about a window either way */
		return base + (uint32_t)((int32_t)(b & 31) - 16) * 2048u;
	}
}

static const uint8_t opt_sets[][12] = {
	{ 0 },
	{ 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 }, /* MSS, WS, SACK-ok */
	{ 2, 4, 0x00, 0x40, 0 },                      /* tiny MSS */
	{ 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 },      /* SACK block */
	{ 3, 3, 14, 0 },                              /* WS 14 */
	{ 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 },      /* timestamps */
	{ 2, 4, 0xff, 0xff, 3, 3, 200, 0 },           /* MSS 65535, WS 200 */
	{ 4, 2, 1, 1 },                               /* SACK-ok */
};

/* A segment for connection slot b % max_conns (its tuple and numbers,
 * whether live, TIME_WAIT or long freed) or, for a slot never used, to
 * the listener or a closed port. */
static void
tcp_template(struct sp_stack *st, struct input *in, uint8_t op)
{
	static uint8_t f[FRAME_ROOM];
	uint8_t b = in_u8(in), fl = in_u8(in), o = in_u8(in), plen = in_u8(in);
	const struct sp_conn *c = &st->conns[b % st->cfg.max_conns];
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = PEER_IP,
		.dip = OUR_IP,
		.flags = fl,
		.opt = opt_sets[o % 8],
		.optlen = (o & 0x80) ? 12 : 0,
		.data = appbuf,
		.len = (uint32_t)plen * 6,
	};
	uint32_t len, reps = 1 + ((op >> 4) & 3);
	uint8_t w;

	if (c->lport) {
		s.sport = c->rport;
		s.dport = c->lport;
		s.seq = pick_seq(in, c->rcv_nxt);
		s.ack = pick_seq(in, (op & 8) ? c->snd_una : c->snd_max);
	} else {
		s.sport = (uint16_t)(40000 + (b & 15));
		s.dport = (b & 16) ? 81 : 80;
		s.seq = in_u32(in);
		s.ack = in_u32(in);
	}
	/* 0: the window the connection already has (duplicate ACKs need
	 * it unchanged). */
	w = in_u8(in);
	s.win = w ? (uint16_t)(w << ((op & 0x40) ? 8 : 0)) :
		    (uint16_t)(c->snd_wnd >> c->snd_wscale);
	if (s.len > sizeof(appbuf))
		s.len = sizeof(appbuf);
	len = sp_h_build_tcp(f, &s);
	if (len > FRAME_ROOM)
		return;
	mutate(in, f, &len);
	if (!(op & 0x80))
		fix_csums(f, len);
	while (reps--)
		input(st, f, len);
}

static void
other_template(struct sp_stack *st, struct input *in, uint8_t op)
{
	static uint8_t f[FRAME_ROOM];
	uint8_t b = in_u8(in);
	uint32_t len;

	if (b & 1)
		len = sp_h_build_arp(f, (b & 2) ? sp_h_mac_bcast : sp_h_mac[0],
				     (uint16_t)(1 + ((b >> 2) & 1)),
				     sp_h_mac[1],
				     (b & 8) ? PEER_IP : SP_H_IP_OTHER,
				     sp_h_mac[0], OUR_IP);
	else
		len = sp_h_build_icmp(f, sp_h_mac[1], sp_h_mac[0], PEER_IP,
				      OUR_IP, 8, 1, 2, appbuf,
				      (uint32_t)in_u8(in) * 12);
	mutate(in, f, &len);
	if (!(op & 0x80))
		fix_csums(f, len);
	input(st, f, len);
}

static void
app_action(struct sp_stack *st, struct input *in)
{
	uint8_t b = in_u8(in);
	uint32_t i = (b >> 3) % st->cfg.max_conns;
	struct sp_conn *c = &st->conns[i];
	int err;

	if ((b & 7) == 4) {
		sp_tcp_connect(st, PEER_IP, (b & 8) ? 80 : 81, NULL, &err);
		check(st);
		return;
	}
	/* Only live connections the application could hold. */
	if (!conn_live(st, i) || c->state < SP_TCP_SYN_SENT ||
	    (c->flags & SP_CF_APP_GONE))
		return;
	switch (b & 7) {
	case 0:
	case 1:
		sp_tcp_send(st, c, appbuf, (uint32_t)in_u8(in) * 64 + 1);
		break;
	case 2:
		sp_tcp_close(st, c);
		break;
	case 3:
		sp_tcp_abort(st, c);
		break;
	default:
		sp_tcp_send(st, c, appbuf, 1);
		break;
	}
	check(st);
}

/* ---- setup ------------------------------------------------------------ */

static struct sp_stack *
setup(void)
{
	static uint8_t f[256];
	static const uint8_t mss[] = {
		2, 4, 0x05, 0xb4, 1, 3, 3, 2, 1, 1, 4, 2
	};
	struct sp_stack_config cfg;
	struct sp_stack *st;
	struct sp_conn *a;
	struct sp_h_seg s = {
		.smac = sp_h_mac[1],
		.dmac = sp_h_mac[0],
		.sip = PEER_IP,
		.dip = OUR_IP,
		.win = 8192,
	};
	int err;

	sp_stack_config_defaults(&cfg, 8);
	memcpy(cfg.mac, sp_h_mac[0], 6);
	cfg.ip = OUR_IP;
	cfg.chunks = 48;
	cfg.port_min = 1024;
	cfg.port_max = 1031;
	cfg.ooo_max = 6;
	cfg.sndbuf = 16 * 1024;
	cfg.rcvwnd = 32 * 1024;
	cfg.syn_retries = 2;
	cfg.data_retries = 3;
	cfg.fin_wait2_us = 3 * 1000 * 1000;
	cfg.tx_alloc = fz_tx_alloc;
	cfg.tx_send = fz_tx_send;
	st = sp_stack_create(&cfg, &fz_ops, NULL, &err);
	if (!st)
		abort();
	now = 1000 * 1000 + 333;
	sp_stack_poll(st, now);
	if (sp_tcp_listen(st, 80))
		abort();
	input(st, f,
	      sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac[1], PEER_IP,
			     sp_h_mac[0], OUR_IP));
	/* Passive: SYN, then the ACK of our SYN-ACK (from the control block). */
	s.sport = 40000;
	s.dport = 80;
	s.seq = 0x7ffffff0;
	s.flags = TH_SYN;
	s.opt = mss;
	s.optlen = sizeof(mss);
	input(st, f, sp_h_build_tcp(f, &s));
	a = sp_conn_lookup(st, PEER_IP, 40000, OUR_IP, 80);
	if (!a)
		abort();
	s.seq++;
	s.ack = a->snd_max;
	s.flags = TH_ACK;
	s.opt = NULL;
	s.optlen = 0;
	input(st, f, sp_h_build_tcp(f, &s));
	/* Active, established: connect and answer the SYN. */
	a = sp_tcp_connect(st, PEER_IP, 80, NULL, &err);
	if (!a)
		abort();
	s.sport = 80;
	s.dport = a->lport;
	s.seq = 0xfffffff0; /* the peer's numbers wrap soon */
	s.ack = a->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.opt = mss;
	s.optlen = sizeof(mss);
	input(st, f, sp_h_build_tcp(f, &s));
	/* Active, still in SYN_SENT. */
	if (!sp_tcp_connect(st, PEER_IP, 81, NULL, &err))
		abort();
	check(st);
	return st;
}

static void
teardown(struct sp_stack *st)
{
	uint32_t i;

	for (i = 0; i < st->cfg.max_conns; i++) {
		struct sp_conn *c = &st->conns[i];

		if (conn_live(st, i) && c->state >= SP_TCP_SYN_SENT)
			sp_tcp_abort(st, c);
	}
	now += 120ull * 1000 * 1000;
	sp_stack_poll(st, now);
	check(st);
	if (sp_stack_conns_in_use(st) || sp_stack_chunks_in_use(st)) {
		fprintf(stderr, "leak: %u conns, %u chunks\n",
			sp_stack_conns_in_use(st), sp_stack_chunks_in_use(st));
		abort();
	}
	sp_stack_destroy(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct sp_stack *st;
	uint32_t steps = 0;

	memset(appbuf, 0x41, sizeof(appbuf));
	st = setup();
	while (in.left && steps++ < 512) {
		uint8_t op = in_u8(&in);

		switch (op & 7) {
		case 0: {
			uint8_t b = in_u8(&in);

			now += (uint64_t)b * b * 100 + 1;
			sp_stack_poll(st, now);
			check(st);
			break;
		}
		case 1: {
			static uint8_t f[FRAME_ROOM];
			uint32_t len = (uint32_t)in_u8(&in) << 8;

			len = (len | in_u8(&in)) % FRAME_ROOM;
			if (len > in.left)
				len = (uint32_t)in.left;
			memcpy(f, in.p, len);
			in.p += len;
			in.left -= len;
			input(st, f, len);
			break;
		}
		case 6:
			app_action(st, &in);
			break;
		case 7:
			other_template(st, &in, op);
			break;
		default:
			tcp_template(st, &in, op);
			break;
		}
	}
	teardown(st);
	return 0;
}
