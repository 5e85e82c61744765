/*
 * The WebSocket client of the virtual-user engine (lib/proto/vu_ws.c, the
 * upgrade in vu_http.c, the ws steps in vu.c) over a fake stream whose
 * other end is a small WebSocket server written here: it reads the
 * upgrade request, answers it as the test says (a good 101, a bad accept,
 * a 200, a subprotocol not offered, an extension), then reads the client's
 * frames (each must be masked), logs every message, ping and close, and
 * answers as scripted (echo, echo in fragments around a ping, raw bytes).
 * Its bytes reach the engine in pieces of a chosen size; the engine's
 * counters must agree exactly with the fake's log, and a scripted input
 * split at every point must give the counts it gives whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_check.h"
#include "vu_wsfake.h"

/* ---- tests ---- */

/* Echo: send (measured), expect, binary of a pattern in fragments (room
 * 100 bytes a poll), expect any, ping, close. Each piece size. */
static void
test_echo(void)
{
	static const uint32_t pieces[] = { 1, 2, 3, 7, 1000, 65536 };
	static const uint32_t spaces[] = { 100000, 100 };

	for (size_t si = 0; si < 2; si++)
		for (size_t pi = 0; pi < 6; pi++) {
			const struct sp_vu_stats *s;
			struct sp_vu_engine *e;
			struct sp_ws_step *w;

			plan_base();
			reqs[0].ws_subprotocols = "chat, superchat";
			srv.proto = "superchat";
			fs.piece = pieces[pi];
			fs.space = spaces[si];
			add_send_text("say hello", 1);
			add_expect("hello", kmp_hello, 20000);
			w = add_ws(SP_STEP_WS_SEND);
			w->data = SP_WS_BINARY;
			w->pattern_size = 10000; /* over wslay's 4 KB reads */
			add_expect(NULL, NULL, 20000);
			w = add_ws(SP_STEP_WS_PING);
			w->msg = sp_t_lit(parts, &nparts, "p1");
			add_think(2000);
			w = add_ws(SP_STEP_WS_CLOSE);
			w->close_code = 4001;
			w->close_reason = "done";
			plan_end();
			e = run();
			s = sp_vu_stats(e);
			CHECK(strcmp(srv.req_proto, "chat, superchat") == 0);
			CHECK_EQ(s->responses, 1);
			CHECK_EQ(s->codes[101], 1);
			CHECK_EQ(s->failed, 0);
			CHECK_EQ(s->ws_connect.count, 1);
			CHECK_EQ(s->ws_started, 1);
			CHECK_EQ(s->ws_completed, 1);
			CHECK_EQ(s->ws_msgs_sent, 2);
			CHECK_EQ(s->ws_bytes_sent, 9 + 10000);
			CHECK_EQ(s->ws_msgs_received, 2);
			CHECK_EQ(s->ws_bytes_received, 9 + 10000);
			CHECK_EQ(s->ws_matched, 2);
			CHECK_EQ(s->ws_unmatched, 0);
			CHECK_EQ(s->ws_rtt.count, 1);
			CHECK_EQ(s->ws_pings_sent, 1);
			CHECK_EQ(s->ws_pongs_received, 1);
			CHECK_EQ(s->ws_closes_sent, 1);
			/* Ours, and the server's echo of it. */
			CHECK_EQ(srv.last_close, 4001);
			CHECK_EQ(s->ws_close_codes[SP_VU_WS_CLOSE_4XXX], 1);
			check_accounting(s);
			sp_vu_destroy(e);
		}
}

/* The upgrade's failures: each fails the request as ws_handshake and
 * the session as upgrade_failed; the block is skipped. */
static void
test_upgrade_bad(void)
{
	static const int cases[] = { HS_BAD_ACCEPT, HS_NOT101,  HS_WRONG_PROTO,
				     HS_EXT,        HS_NO_CONN, HS_NO_UPGRADE };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sp_vu_stats *s;
		struct sp_vu_engine *e;

		plan_base();
		reqs[0].ws_subprotocols = "chat";
		srv.hs = cases[i];
		srv.proto = cases[i] == HS_WRONG_PROTO ? "other" : "chat";
		fs.piece = 5;
		add_send_text("x", 0);
		plan_end();
		e = run();
		s = sp_vu_stats(e);
		CHECK_EQ(s->requests, 1);
		CHECK_EQ(s->responses, 0);
		CHECK_EQ(s->err[SP_VU_E_WS_HANDSHAKE], 1);
		CHECK_EQ(s->ws_started, 1);
		CHECK_EQ(s->ws_failed, 1);
		CHECK_EQ(s->ws_err[SP_VU_WS_E_UPGRADE], 1);
		CHECK_EQ(s->ws_msgs_sent, 0);
		CHECK_EQ(fs.aborts, 1);
		check_accounting(s);
		sp_vu_destroy(e);
	}
	/* No subprotocol offered, none chosen: fine; a 101 to a plain
	 * request is still "unexpected upgrade" (test_http1). */
}

/* 101 followed by frames in the same piece: the first expect sees the
 * greeting. */
static void
test_greeting(void)
{
	static uint8_t g[64];
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base();
	g[0] = 0x81;
	g[1] = 5;
	memcpy(g + 2, "hello", 5);
	srv.after_hs = g;
	srv.nafter_hs = 7;
	add_expect("hello", kmp_hello, 20000);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_matched, 1);
	CHECK_EQ(s->ws_completed, 1);
	CHECK_EQ(s->ws_closes_sent, 1); /* the block's end: 1000 */
	CHECK_EQ(srv.last_close, 1000);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* Echo in two fragments around a ping: one message, one pong. */
static void
test_fragments(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base();
	srv.echo = ECHO_FRAG_PING;
	fs.piece = 3;
	add_send_text("hello there", 1);
	add_expect("hello", kmp_hello, 20000);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_msgs_received, 1);
	CHECK_EQ(s->ws_bytes_received, 11);
	CHECK_EQ(s->ws_matched, 1);
	CHECK_EQ(s->ws_pings_received, 1);
	CHECK_EQ(s->ws_completed, 1);
	CHECK_EQ(s->ws_rtt.count, 1);
	check_accounting(s);
	CHECK_EQ(srv.pongs, 1);
	sp_vu_destroy(e);
}

/* Raw server input after the 101 (a listen takes it): what the engine
 * counts, for the split tests. */
struct outcome {
	uint64_t v[16];
};

static void
outcome_of(const struct sp_vu_stats *s, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->v[0] = s->ws_msgs_received;
	o->v[1] = s->ws_bytes_received;
	o->v[2] = s->ws_pings_received;
	o->v[3] = s->ws_pongs_received;
	o->v[4] = s->ws_completed;
	o->v[5] = s->ws_failed;
	for (int i = 0; i < SP_VU_WS_E_N && i < 8; i++)
		o->v[6 + i] = s->ws_err[i];
	o->v[14] = s->ws_closes_sent;
	o->v[15] = s->ws_close_codes[0] + 2 * s->ws_close_codes[2] +
		   4 * s->ws_close_codes[SP_VU_WS_CLOSE_NONE];
}

static void
raw_run(const uint8_t *in, uint32_t n, uint32_t split, int fin,
	struct outcome *o)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;

	plan_base();
	plan.ws_max_message = 300;
	srv.fin_after_hs = fin;
	srv.echo = ECHO_NONE;
	srv.after_hs = in;
	srv.nafter_hs = n;
	fs.split = split;
	w = add_ws(SP_STEP_WS_LISTEN);
	w->listen_us = 5000;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	check_accounting(s);
	outcome_of(s, o);
	sp_vu_destroy(e);
}

static uint32_t
frame(uint8_t *o, int fin, unsigned rsv, unsigned op, const char *p, uint32_t n,
      int mask)
{
	uint32_t h = 2;

	o[0] = (uint8_t)((fin ? 0x80 : 0) | rsv << 4 | op);
	o[1] = (uint8_t)((mask ? 0x80 : 0) | (n < 126 ? n : 126));
	if (n >= 126) {
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)n;
		h = 4;
	}
	if (mask) {
		memset(o + h, 0, 4);
		h += 4;
	}
	memcpy(o + h, p, n);
	return h + n;
}

struct raw_case {
	const char *name;
	uint8_t in[512];
	uint32_t n;
	int fail; /* enum sp_vu_ws_err + 1, 0: completed */
	int fin;  /* the server sends a FIN after it */
};

static struct raw_case raw_cases[16];
static int nraw;

static struct raw_case *
raw_add(const char *name, int fail)
{
	struct raw_case *r = &raw_cases[nraw++];

	memset(r, 0, sizeof(*r));
	r->name = name;
	r->fail = fail;
	return r;
}

static void
raw_cases_build(void)
{
	static const char bad_utf8[] = "ab\xc3"; /* then \x28 */
	char big[300];
	struct raw_case *r;

	memset(big, 'a', sizeof(big));
	nraw = 0;
	/* A text in three fragments, a ping between, a binary, a close. */
	r = raw_add("fragments", 0);
	r->n += frame(r->in + r->n, 0, 0, 1, "hel", 3, 0);
	r->n += frame(r->in + r->n, 1, 0, 9, "pp", 2, 0);
	r->n += frame(r->in + r->n, 0, 0, 0, "lo ", 3, 0);
	r->n += frame(r->in + r->n, 1, 0, 0, "world", 5, 0);
	r->n += frame(r->in + r->n, 1, 0, 2, big, 300, 0);
	r->n += frame(r->in + r->n, 1, 0, 10, "", 0, 0);
	r->n += frame(r->in + r->n, 1, 0, 8,
		      "\x03\xe8"
		      "bye",
		      5, 0);
	/* UTF-8 broken across fragments. */
	r = raw_add("utf8", SP_VU_WS_E_UTF8 + 1);
	r->n += frame(r->in + r->n, 0, 0, 1, bad_utf8, 3, 0);
	r->n += frame(r->in + r->n, 1, 0, 0, "\x28", 1, 0);
	/* A text that ends inside a sequence. */
	r = raw_add("utf8_end", SP_VU_WS_E_UTF8 + 1);
	r->n += frame(r->in + r->n, 1, 0, 1, bad_utf8, 3, 0);
	r = raw_add("masked", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 1, "hi", 2, 1);
	r = raw_add("rsv", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 4, 1, "hi", 2, 0);
	r = raw_add("opcode", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 3, "hi", 2, 0);
	r = raw_add("cont", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 0, "hi", 2, 0);
	r = raw_add("ctl_frag", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 0, 0, 9, "hi", 2, 0);
	r = raw_add("ctl_big", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 9, big, 126, 0);
	r = raw_add("close_1byte", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 8, "\x03", 1, 0);
	r = raw_add("close_1005", SP_VU_WS_E_PROTOCOL + 1);
	r->n += frame(r->in + r->n, 1, 0, 8, "\x03\xed", 2, 0);
	r = raw_add("close_nocode", 0);
	r->n += frame(r->in + r->n, 1, 0, 8, "", 0, 0);
	r = raw_add("close_1002", 0);
	r->n += frame(r->in + r->n, 1, 0, 8, "\x03\xea", 2, 0);
	r = raw_add("too_big", SP_VU_WS_E_TOO_BIG + 1);
	r->n += frame(r->in + r->n, 0, 0, 2, big, 200, 0);
	r->n += frame(r->in + r->n, 1, 0, 0, big, 200, 0);
	/* No close frame: the fake's FIN ends it (listen ends first). */
	r = raw_add("abrupt", SP_VU_WS_E_CLOSED_ABNORMALLY + 1);
	r->n += frame(r->in + r->n, 1, 0, 1, "hi", 2, 0);
	r->fin = 1;
}

/* Each raw input, whole and cut at every point: the same counts. */
static void
test_raw_split(void)
{
	raw_cases_build();
	for (int i = 0; i < nraw; i++) {
		struct raw_case *r = &raw_cases[i];
		struct outcome whole, part;

		raw_run(r->in, r->n, 0, r->fin, &whole);
		if (r->fail) {
			CHECK_EQ(whole.v[5], 1);
			CHECK_EQ(whole.v[6 + r->fail - 1], 1);
		} else {
			CHECK_EQ(whole.v[4], 1);
		}
		if (whole.v[5] != (r->fail != 0) || (!r->fail && !whole.v[4])) {
			fprintf(stderr, "raw case %s:", r->name);
			for (int j = 0; j < 16; j++)
				fprintf(stderr, " %llu",
					(unsigned long long)whole.v[j]);
			fprintf(stderr, "\n");
		}
		/* The split runs see the whole's 101 head + r->n bytes. */
		for (uint32_t k = 1; k < 200 + r->n; k++) {
			raw_run(r->in, r->n, k, r->fin, &part);
			if (memcmp(&whole, &part, sizeof(whole)) != 0) {
				sp_failed++;
				fprintf(stderr,
					"raw case %s: split at %u "
					"differs\n",
					r->name, k);
				break;
			}
			sp_tests++;
		}
	}
}

/* ws_max_message (judged from a frame's header: nothing of the message
 * is counted), the expect timeout, listen, pacing, periodic pings, an
 * expect by count, a regex. */
static void
test_limits_and_timers(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;
	uint8_t in[600];
	uint32_t n = 0;
	char big[256];

	memset(big, 'b', sizeof(big));
	plan_base();
	plan.ws_max_message = 300;
	n += frame(in + n, 0, 0, 2, big, 200, 0);
	n += frame(in + n, 1, 0, 0, big, 200, 0);
	srv.echo = ECHO_NONE;
	srv.after_hs = in;
	srv.nafter_hs = n;
	w = add_ws(SP_STEP_WS_LISTEN);
	w->listen_us = 5000;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_TOO_BIG], 1);
	CHECK_EQ(srv.last_close, 1009);
	CHECK_EQ(s->ws_msgs_received, 0);
	check_accounting(s);
	sp_vu_destroy(e);

	/* Expect timeout: nothing echoed. */
	plan_base();
	srv.echo = ECHO_NONE;
	add_send_text("hello", 0);
	add_expect("hello", kmp_hello, 10000);
	w = add_ws(SP_STEP_WS_SEND); /* skipped */
	w->data = SP_WS_TEXT;
	w->msg = sp_t_lit(parts, &nparts, "never");
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_EXPECT_TIMEOUT], 1);
	CHECK_EQ(s->ws_failed, 1);
	CHECK_EQ(s->ws_msgs_sent, 1);
	CHECK_EQ(srv.last_close, 1000);
	check_accounting(s);
	sp_vu_destroy(e);

	/* Pacing: 5 messages 2 ms apart, echoed, unmatched (no expect);
	 * then an expect of count 5 misses (they came before it) and the
	 * session fails: count them. Periodic pings every 3 ms during a
	 * 20 ms listen. */
	plan_base();
	plan.ws_ping_every_us = 3000;
	w = add_ws(SP_STEP_WS_SEND);
	w->data = SP_WS_TEXT;
	w->msg = sp_t_lit(parts, &nparts, "tick");
	w->send_count = 5;
	w->every_us = 2000;
	w = add_ws(SP_STEP_WS_LISTEN);
	w->listen_us = 20000;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_msgs_sent, 5);
	CHECK_EQ(s->ws_msgs_received, 5);
	CHECK_EQ(s->ws_unmatched, 5);
	CHECK(s->ws_pings_sent >= 7 && s->ws_pings_sent <= 10);
	CHECK_EQ(s->ws_completed, 1);
	check_accounting(s);
	sp_vu_destroy(e);

	/* An expect by count: 3 messages of 3 sent back to back. */
	plan_base();
	w = add_ws(SP_STEP_WS_SEND);
	w->data = SP_WS_TEXT;
	w->msg = sp_t_lit(parts, &nparts, "hello");
	w->send_count = 3;
	add_expect("hello", kmp_hello, 20000);
	wss[nws - 1].expect_count = 3;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	/* Back to back: the echoes come after the expect started. */
	CHECK_EQ(s->ws_matched, 3);
	CHECK_EQ(s->ws_completed, 1);
	check_accounting(s);
	sp_vu_destroy(e);

	/* A regex. */
	plan_base();
	add_send_text("order 1234 ok", 0);
	add_expect(NULL, NULL, 20000);
	wss[nws - 1].regex = "order [0-9]+ ok$";
	add_send_text("order x ok", 0);
	add_expect(NULL, NULL, 5000);
	wss[nws - 1].regex = "order [0-9]+ ok$";
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_matched, 1);
	CHECK_EQ(s->ws_unmatched, 1);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_EXPECT_TIMEOUT], 1);
	/* PCRE2 allocates its backtracking frames at a match data's first
	 * match: done at creation, not at the first message judged (run()
	 * checks no allocation while the engine ran, alloc_interpose.h). */
	check_accounting(s);
	sp_vu_destroy(e);
}

/* The run ends with the session open: interrupted, closed 1001. */
static void
test_interrupt(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;

	plan_base();
	w = add_ws(SP_STEP_WS_LISTEN);
	w->listen_us = 10000000;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_interrupted, 1);
	CHECK_EQ(s->ws_closes_sent, 1);
	CHECK_EQ(srv.last_close, 1001);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* An upgrade never answered: within the run, a response timeout fails
 * the request and its session; at the run's end, both are interrupted
 * (after the grace). */
static void
test_upgrade_silent(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base();
	srv.hs = HS_NONE;
	add_send_text("x", 0);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->err[SP_VU_E_RESPONSE_TIMEOUT], 1);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_UPGRADE], 1);
	CHECK_EQ(s->ws_msgs_sent, 0);
	check_accounting(s);
	sp_vu_destroy(e);

	plan_base();
	srv.hs = HS_NONE;
	plan.response_timeout_us = 60000000;
	add_send_text("x", 0);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->interrupted, 1);
	CHECK_EQ(s->ws_interrupted, 1);
	CHECK_EQ(s->ws_closes_sent, 0);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* One frame context for two VUs, each sent a frame that never ends: the
 * first holds the context (and its session fails when its close gets
 * no answer), the second finds none: ws_pool_empty, close 1011. */
static void
test_pool_empty(void)
{
	static uint8_t in[64];
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;

	plan_base();
	plan.vus = 2;
	srv.frame_contexts = 1;
	in[0] = 0x82;
	in[1] = 100; /* of which 20 come */
	memset(in + 2, 'z', 20);
	srv.after_hs = in;
	srv.nafter_hs = 22;
	w = add_ws(SP_STEP_WS_LISTEN);
	w->listen_us = 5000;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_started, 2);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_POOL], 1);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_CLOSED_ABNORMALLY], 1);
	CHECK_EQ(s->ws_msgs_received, 0);
	check_accounting(s);
	sp_vu_destroy(e);

	/* One context, one VU, iterations one after another: the first
	 * session fails with the context lent in the middle of a frame
	 * (its expect times out); the context is drained and given back,
	 * and every later session reads its frames with it. */
	plan_base();
	srv.frame_contexts = 1;
	srv.after_hs = in;
	srv.nafter_hs = 22;
	srv.after_hs_once = 1;
	add_send_text("hello", 0);
	add_expect("hello", kmp_hello, 20000);
	steps[nsteps].kind = SP_STEP_WS_END;
	steps[nsteps++].req = 0;
	add_think(10000);
	scens[0].nsteps = nsteps;
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_EXPECT_TIMEOUT], 1);
	CHECK_EQ(s->ws_failed, 1);
	CHECK(s->ws_completed >= 5);
	CHECK_EQ(s->ws_matched, s->ws_completed);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_POOL], 0);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* A loop inside the block, a think in it: each turn's echo is matched
 * and timed; pings from the server while the VU thinks are answered. */
static void
test_loop(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;
	uint32_t loop;

	plan_base();
	srv.echo = ECHO_FRAG_PING;
	loop = nsteps;
	steps[nsteps].kind = SP_STEP_LOOP;
	steps[nsteps].count = 4;
	steps[nsteps++].depth = 0;
	add_send_text("hello {{i}}", 1);
	add_expect("hello", kmp_hello, 20000);
	add_think(1000);
	steps[nsteps].kind = SP_STEP_LOOP_END;
	steps[nsteps].depth = 0;
	steps[nsteps].begin = loop;
	steps[loop].end = nsteps;
	nsteps++;
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_msgs_sent, 4);
	CHECK_EQ(s->ws_matched, 4);
	CHECK_EQ(s->ws_rtt.count, 4);
	CHECK_EQ(s->ws_pings_received, 4);
	CHECK_EQ(srv.pongs, 4);
	CHECK_EQ(s->ws_completed, 1);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* The server closes while the VU thinks inside the block: the session
 * completes (our close echoes its code) and the rest is skipped. */
static void
test_close_while_thinking(void)
{
	static const uint8_t in[] = { 0x88, 0x02, 0x0f, 0xa1 }; /* 4001 */
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base();
	srv.after_hs = in;
	srv.nafter_hs = sizeof(in);
	add_think(5000);
	add_send_text("never", 0);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	CHECK_EQ(s->ws_completed, 1);
	CHECK_EQ(s->ws_msgs_sent, 0);
	CHECK_EQ(s->ws_close_codes[SP_VU_WS_CLOSE_4XXX], 1);
	CHECK_EQ(srv.last_close, 4001);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* What an idle WebSocket costs (the run report's ws memory): the per-VU
 * state and the pools' share, under issue 15's 1 KiB at 100,000 VUs,
 * and the pool sized as vu_ws.c says (one context each up to 256 VUs,
 * then one per 8). */
static void
test_mem(void)
{
	struct sp_vu_config vc = { .plan = &plan, .now_us = &now, .seed = 7 };
	struct sp_vu_ws_mem m;
	struct sp_vu_engine *e;
	char err[128];

	plan_base();
	plan.vus = 100000;
	add_ws(SP_STEP_WS_LISTEN)->listen_us = 5000;
	plan_end();
	vc.max_vus = plan.vus;
	e = sp_vu_create(&vc, err, sizeof(err));
	CHECK(e != NULL);
	if (e == NULL)
		return;
	sp_vu_ws_mem(e, &m);
	CHECK_EQ(m.vus, 100000);
	CHECK_EQ(m.contexts, 256 + (100000 - 256) / 8);
	CHECK_EQ(m.windows, 0);
	CHECK(m.context_bytes >= 4096);
	CHECK_EQ(m.per_conn,
		 m.vu_bytes + ((uint64_t)m.contexts * m.context_bytes + m.vus -
			       1) / m.vus);
	CHECK(m.per_conn <= 1024);
	sp_vu_destroy(e);
}

/* Our masking (ws_send_frame, 8 bytes at a time, in pieces): messages of
 * both length forms the fake server holds (7-bit, 16-bit; its buffer is
 * 64 KiB), of lengths around the 8-byte words and the 2 KiB pieces,
 * arrive unmasked byte for byte. */
static void
test_mask(void)
{
	static const uint32_t lens[] = { 0,   1,    7,    8,    9,    125,
					 126, 2033, 2034, 2035, 4099, 60000 };
	static char text[60001];

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		const struct sp_vu_stats *s;
		struct sp_vu_engine *e;

		for (uint32_t i = 0; i < lens[k]; i++)
			text[i] = (char)('a' + (i * 7 + k) % 26);
		text[lens[k]] = '\0';
		plan_base();
		fs.space = 200000;
		add_send_text(text, 0);
		add_expect(NULL, NULL, 20000);
		plan_end();
		e = run();
		s = sp_vu_stats(e);
		CHECK_EQ(s->ws_msgs_sent, 1);
		CHECK_EQ(srv.unmasked, 0);
		CHECK_EQ(srv.nlast, lens[k]);
		CHECK(srv.last != NULL && memcmp(srv.last, text, lens[k]) == 0);
		check_accounting(s);
		sp_vu_destroy(e);
	}
}

/* ---- templated contains ---- */

/* A template: @pre, the variable @var (column @col), @post. */
static struct sp_tpl
tpl_var(const char *pre, uint8_t var, uint32_t col, const char *post)
{
	static char texts[8][160];
	static unsigned nt;
	char *t = texts[nt++ % 8];
	size_t a = strlen(pre), b = strlen(post);
	struct sp_tpl r = { t, (uint32_t)(a + b), &parts[nparts], 0,
			    SP_TPL_BODY };

	memcpy(t, pre, a);
	memcpy(t + a, post, b + 1);
	if (a > 0)
		parts[nparts + r.nparts++] = (struct sp_tpl_part){
			.var = SP_VAR_LITERAL, .off = 0, .len = (uint32_t)a
		};
	parts[nparts + r.nparts++] = (struct sp_tpl_part){ .var = var,
							   .col = col };
	if (b > 0)
		parts[nparts + r.nparts++] =
			(struct sp_tpl_part){ .var = SP_VAR_LITERAL,
					      .off = (uint32_t)a,
					      .len = (uint32_t)b };
	nparts += r.nparts;
	return r;
}

static void
add_expect_tpl(struct sp_tpl t, uint64_t timeout_us)
{
	add_expect(NULL, NULL, timeout_us);
	wss[nws - 1].contains_tpl = t;
}

/* A room's broadcast as the chat server sends it: everyone's messages,
 * the same to each connection: loadtest12's (which loadtest1's name
 * without its closing quote would take), loadtest1's in two fragments
 * cut inside the name with a ping between, loadtest3's, loadtest22's.
 * None of loadtest2. */
static uint32_t
tframe(uint8_t *o, int fin, unsigned op, const char *p)
{
	return frame(o, fin, 0, op, p, (uint32_t)strlen(p), 0);
}

static uint32_t
room_msgs(uint8_t *in)
{
	uint32_t n = 0;

	n += tframe(in + n, 1, 1, "{\"user\":\"loadtest12\",\"text\":\"a\"}");
	n += tframe(in + n, 0, 1, "{\"user\":\"load");
	n += tframe(in + n, 1, 9, "pp");
	n += tframe(in + n, 1, 0, "test1\",\"text\":\"b\"}");
	n += tframe(in + n, 1, 1, "{\"user\":\"loadtest3\",\"text\":\"c\"}");
	n += tframe(in + n, 1, 1, "{\"user\":\"loadtest22\",\"text\":\"d\"}");
	return n;
}

/* `contains: '"user":"loadtest{{vu}}"'` on 3 VUs in the room: VU 1 and
 * VU 3 each take their own message (1 matched, 3 unmatched each), VU 2
 * has none and times out (4 unmatched), whatever the pieces the bytes
 * come in. Its room is one per VU (small). The literal
 * '"user":"loadtest1"' instead: every VU takes VU 1's message. */
static void
test_contains_vu(void)
{
	static const uint32_t pieces[] = { 1, 2, 5, 13, 1000 };
	static uint8_t in[512];
	uint32_t n = room_msgs(in);

	for (size_t pi = 0; pi < sizeof(pieces) / sizeof(pieces[0]); pi++) {
		const struct sp_vu_stats *s;
		struct sp_vu_ws_mem m;
		struct sp_vu_engine *e;

		plan_base();
		plan.vus = 3;
		srv.echo = ECHO_NONE;
		srv.after_hs = in;
		srv.nafter_hs = n;
		fs.piece = pieces[pi];
		add_expect_tpl(tpl_var("\"user\":\"loadtest", SP_VAR_VU, 0,
				       "\""),
			       20000);
		plan_end();
		e = run();
		s = sp_vu_stats(e);
		CHECK_EQ(s->ws_started, 3);
		CHECK_EQ(s->ws_completed, 2);
		CHECK_EQ(s->ws_err[SP_VU_WS_E_EXPECT_TIMEOUT], 1);
		CHECK_EQ(s->ws_msgs_received, 12);
		CHECK_EQ(s->ws_matched, 2);
		CHECK_EQ(s->ws_unmatched, 10);
		CHECK_EQ(s->ws_pings_received, 3);
		check_accounting(s);
		sp_vu_ws_mem(e, &m);
		CHECK_EQ(m.patterns, 3); /* one each: 40 + 4 * 38 bytes */
		CHECK_EQ(m.pattern_bytes, 40 + 4 * 38 + 4);
		sp_vu_destroy(e);
	}

	/* The literal (today's path): no room for patterns. */
	{
		/* KMP of "user":"loadtest1" : '"' at 5, 7 and 17 */
		static const uint32_t kmp[] = { 0, 0, 0, 0, 0, 1, 0, 1, 0,
						0, 0, 0, 0, 0, 0, 0, 0, 1 };
		const struct sp_vu_stats *s;
		struct sp_vu_ws_mem m;
		struct sp_vu_engine *e;

		plan_base();
		plan.vus = 3;
		srv.echo = ECHO_NONE;
		srv.after_hs = in;
		srv.nafter_hs = n;
		fs.piece = 5;
		add_expect("\"user\":\"loadtest1\"", kmp, 20000);
		plan_end();
		e = run();
		s = sp_vu_stats(e);
		CHECK_EQ(s->ws_completed, 3);
		CHECK_EQ(s->ws_matched, 3);
		CHECK_EQ(s->ws_unmatched, 9);
		check_accounting(s);
		sp_vu_ws_mem(e, &m);
		CHECK_EQ(m.patterns, 0);
		sp_vu_destroy(e);
	}
}

static void
test_contains_pool(void)
{
	static const char pre[] = "0123456789012345678901234567890123456789"
				  "01234567890123456789 vu ";
	const struct sp_vu_stats *s;
	struct sp_vu_ws_mem m;
	struct sp_vu_engine *e;
	struct sp_ws_step *w;

	plan_base();
	plan.vus = 2;
	srv.frame_contexts = 1;
	w = add_ws(SP_STEP_WS_SEND);
	w->data = SP_WS_TEXT;
	w->msg = tpl_var(pre, SP_VAR_VU, 0, "");
	add_expect_tpl(tpl_var(pre, SP_VAR_VU, 0, ""), 20000);
	plan_end();
	e = run();
	s = sp_vu_stats(e);
	sp_vu_ws_mem(e, &m);
	CHECK_EQ(m.patterns, 1);
	CHECK_EQ(s->ws_started, 2);
	CHECK_EQ(s->ws_completed, 1);
	CHECK_EQ(s->ws_err[SP_VU_WS_E_POOL], 1);
	CHECK_EQ(s->ws_matched, 1);
	CHECK_EQ(s->ws_msgs_sent, 2);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* A captured variable: a plain request on the connection first, its
 * body's token captured; then the ws block sends it and expects it
 * back. Without the token (the capture finds nothing, the iteration
 * goes on), the expect fails the session as ws_unset_variable, and a
 * message naming it is not sent either. */
static void
test_contains_capture(void)
{
	static const char *const names[] = { "token" };
	static struct sp_capture cap = { .kind = SP_CAP_BODY,
					 .var = 0,
					 .regex = "\"token\":\"([^\"]+)\"" };

	for (int unset = 0; unset < 3; unset++) {
		const struct sp_vu_stats *s;
		struct sp_vu_engine *e;
		struct sp_ws_step *w;

		plan_base();
		plan.vars = names;
		plan.nvars = 1;
		plan.var_max = 64;
		plan.capture_window = 4096;
		plan.nrequests = 2;
		reqs[1] = reqs[0];
		reqs[0] = (struct sp_request){ 0 };
		reqs[0].name = "login";
		reqs[0].path = sp_t_lit(parts, &nparts, "/login");
		reqs[0].headers = sp_t_lit(parts, &nparts, "");
		reqs[0].check.body_size = -1;
		reqs[0].captures = &cap;
		reqs[0].ncaptures = 1;
		reqs[0].capture_continue = 1;
		sp_status_set_range(reqs[0].expect_set, SP_EXPECT_DEFAULT_LO,
				    SP_EXPECT_DEFAULT_HI);
		srv.plain_body = unset ? "{\"nothing\":1}" :
					"{\"token\":\"t-Zq9\"}";
		/* login, then the block (its upgrade: request 1) */
		steps[1] = steps[0];
		steps[1].req = 1;
		nsteps = 2;
		w = add_ws(SP_STEP_WS_SEND);
		w->data = SP_WS_TEXT;
		w->msg = unset == 2 ? tpl_var("my ", SP_VAR_CAPTURE, 0, "!") :
				      sp_t_lit(parts, &nparts, "my t-Zq9!");
		add_expect_tpl(tpl_var("y ", SP_VAR_CAPTURE, 0, "!"), 20000);
		steps[nsteps].kind = SP_STEP_WS_END;
		steps[nsteps++].req = 1;
		add_think(10000000);
		scens[0].nsteps = nsteps;
		e = run();
		s = sp_vu_stats(e);
		CHECK_EQ(s->responses, 2);
		CHECK_EQ(s->codes[200], 1);
		CHECK_EQ(s->codes[101], 1);
		CHECK_EQ(s->ws_started, 1);
		if (!unset) {
			CHECK_EQ(s->ws_completed, 1);
			CHECK_EQ(s->ws_matched, 1);
			CHECK_EQ(s->ws_unmatched, 0);
			CHECK(srv.nlast == 9 &&
			      memcmp(srv.last, "my t-Zq9!", 9) == 0);
		} else {
			CHECK_EQ(s->ws_failed, 1);
			CHECK_EQ(s->ws_err[SP_VU_WS_E_UNSET_VAR], 1);
			CHECK_EQ(s->ws_msgs_sent, unset == 1 ? 1 : 0);
			CHECK_EQ(srv.last_close, 1000);
		}
		check_accounting(s);
		sp_vu_destroy(e);
	}
}

int
main(void)
{
	test_mem();
	test_mask();
	test_echo();
	test_upgrade_bad();
	test_greeting();
	test_fragments();
	test_raw_split();
	test_limits_and_timers();
	test_interrupt();
	test_upgrade_silent();
	test_pool_empty();
	test_loop();
	test_close_while_thinking();
	test_contains_vu();
	test_contains_pool();
	test_contains_capture();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
