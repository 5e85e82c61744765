/*
 * Virtual users (lib/proto/vu.c) over a fake stream (fake_stream.h): no
 * TCP stack at all, only the fake's connections, whose server here
 * records every byte the engine sends and answers each complete request
 * head with a scripted response, delivered in pieces of a chosen size.
 * The engine's counters must agree exactly with what the fake saw, and
 * the bytes must be the request the plan describes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_check.h"
#include "sp_stream.h"
#include "sp_vu.h"
#include "vu_plan.h"

/* ---- the server behind the fake stream (fake_stream.h) ---- */

struct fs_srv_conn {
	uint32_t match;    /* "\r\n\r\n" matched so far */
	uint32_t cmatch;   /* "Connection: close\r\n" matched so far */
	int asked_close;   /* the head being read asked to close */
	uint32_t heads;    /* complete request heads on this connection */
	uint32_t answered; /* ... answered */
	uint32_t closes;   /* ... of them asking to close, answered */
	char head[1024];   /* the head being read */
	uint32_t nhead;
};

#include "fake_stream.h"

static struct {
	/* Script. */
	const char *response; /* answered to every request head */
	int close_after;      /* close after answering a Connection: close */
	/* Witness. */
	uint64_t heads, close_heads;
	char first[1024]; /* the first request head, whole */
	uint32_t nfirst;
	int heads_differ; /* a head was not the first one's bytes */
} srv;

static void
srv_connect(const struct sp_stream_peer *peer)
{
	CHECK_EQ(peer->ip, 0xc6120002u);
	CHECK_EQ(peer->port, 80);
}

static void
srv_head_byte(struct fs_srv_conn *c, char b)
{
	static const char end[] = "\r\n\r\n";
	static const char cl[] = "Connection: close\r\n";

	if (c->nhead < sizeof(c->head))
		c->head[c->nhead++] = b;
	c->cmatch = b == cl[c->cmatch] ? c->cmatch + 1 : b == cl[0];
	if (c->cmatch == sizeof(cl) - 1) {
		c->asked_close = 1;
		c->cmatch = 0;
	}
	c->match = b == end[c->match] ? c->match + 1 : b == '\r';
	if (c->match < 4)
		return;
	/* A whole head. */
	c->match = 0;
	c->heads++;
	srv.heads++;
	if (srv.nfirst == 0) {
		memcpy(srv.first, c->head, c->nhead);
		srv.nfirst = c->nhead;
	} else if (!c->asked_close && (c->nhead != srv.nfirst ||
				       memcmp(c->head, srv.first, c->nhead))) {
		srv.heads_differ = 1;
	}
	if (c->asked_close)
		srv.close_heads++;
	c->nhead = 0;
}

static void
srv_sent(struct fs_conn *c, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		srv_head_byte(&c->srv, (char)p[i]);
}

/* Each head answered in its own poll: a response never comes before its
 * request is whole. */
static void
srv_poll(struct fs_conn *c)
{
	const char *r = srv.response;
	int close;

	if (c->srv.answered >= c->srv.heads)
		return;
	close = c->srv.asked_close && srv.close_after;
	c->srv.answered++;
	c->srv.asked_close = 0;
	fs_deliver(c, (const uint8_t *)r, (uint32_t)strlen(r));
	if (close) {
		c->srv.closes++;
		if (c->state == FS_OPEN)
			fs.cbs->peer_closed(fs.ctx, c->user, 1);
		if (c->state == FS_CLOSING)
			fs_gone(c, SP_STREAM_END_NORMAL);
	}
}

static const struct fs_srv srv_ops = {
	.sent = srv_sent,
	.poll = srv_poll,
	.connect = srv_connect,
};

/* ---- plans ---- */

static struct sp_tpl_part parts[16];
static unsigned nparts;
static struct sp_request reqs[1];
static struct sp_step steps[2];
static struct sp_scenario scens[1];
static struct sp_plan plan;
static const uint32_t kmp_world[] = { 0, 0, 0, 0, 0 };

/* One closed-model scenario: request 0, then think 10 ms. */
static void
plan_base(uint32_t vus)
{
	memset(&plan, 0, sizeof(plan));
	memset(reqs, 0, sizeof(reqs));
	memset(steps, 0, sizeof(steps));
	memset(scens, 0, sizeof(scens));
	nparts = 0;
	plan.dst_ip = 0xc6120002u; /* 198.18.0.2 */
	plan.dst_port = 80;
	plan.host = "198.18.0.2";
	plan.user_agent = "stampede/t";
	plan.model = SP_MODEL_CLOSED;
	plan.vus = vus;
	plan.duration_us = 100000;
	plan.response_timeout_us = 1000000;
	plan.requests = reqs;
	plan.nrequests = 1;
	plan.scenarios = scens;
	plan.nscenarios = 1;
	reqs[0].name = "r";
	reqs[0].path = sp_t_lit(parts, &nparts, "/x");
	reqs[0].headers = sp_t_lit(parts, &nparts, "X-A: 1\r\n");
	reqs[0].check.body_size = -1;
	sp_status_set_range(reqs[0].expect_set, SP_EXPECT_DEFAULT_LO,
			    SP_EXPECT_DEFAULT_HI);
	steps[0].kind = SP_STEP_REQUEST;
	steps[0].req = 0;
	steps[1].kind = SP_STEP_THINK;
	steps[1].think_min_us = steps[1].think_max_us = 10000;
	scens[0].name = "s";
	scens[0].weight = 1;
	scens[0].enabled = 1;
	scens[0].keep_alive = 1;
	scens[0].steps = steps;
	scens[0].nsteps = 2;
}

static uint64_t now;

/* Run the plan over the fake to its end, in 1 ms ticks. */
static struct sp_vu_engine *
run(uint32_t vus)
{
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &now,
		.max_vus = vus,
		.seed = 1,
	};
	struct sp_vu_engine *e;
	char err[128];
	int done;

	srv.heads = srv.close_heads = 0;
	srv.nfirst = 0;
	srv.heads_differ = 0;
	e = sp_vu_create(&vc, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	fs.srv = &srv_ops;
	fs_attach(e);
	now = 1000000;
	/* The schedule, the grace period, and a margin: bounded. */
	done = fs_run_load(e, &now);
	CHECK(done);
	CHECK_EQ(fs_open_conns(), 0);
	return e;
}

static const char want_head[] = "GET /x HTTP/1.1\r\nHost: 198.18.0.2\r\n"
				"User-Agent: stampede/t\r\nX-A: 1\r\n\r\n";

/* Keep-alive: two VUs, one connection each for the whole run; requests
 * leave in 7-byte sends (each after a writable()), responses arrive a
 * byte at a time, so the checks read heads and bodies across calls. */
static void
test_keepalive(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base(2);
	reqs[0].check.header = "X-Test";
	reqs[0].check.header_len = 6;
	reqs[0].check.body_contains = "world";
	reqs[0].check.body_contains_len = 5;
	reqs[0].check.body_contains_kmp = kmp_world;
	reqs[0].check.body_size = 11;
	srv.response = "HTTP/1.1 200 OK\r\nx-test: 1\r\n"
		      "Content-Length: 11\r\n\r\nhello world";
	fs.piece = 1;
	fs.space = 7;
	fs.refuse = 0;
	srv.close_after = 0;
	e = run(2);
	s = sp_vu_stats(e);
	CHECK_EQ(srv.nfirst, sizeof(want_head) - 1);
	CHECK(memcmp(srv.first, want_head, sizeof(want_head) - 1) == 0);
	CHECK(!srv.heads_differ);
	/* 2 VUs, one request per 10 ms tick-aligned iteration, 100 ms:
	 * 10 each; the end cuts nothing (answers come within a tick). */
	CHECK_EQ(s->requests, 20);
	CHECK_EQ(srv.heads, 20);
	CHECK_EQ(s->responses, 20);
	CHECK_EQ(s->codes[200], 20);
	CHECK_EQ(s->checks_passed, 20);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(s->interrupted, 0);
	CHECK_EQ(s->connects, 2);
	CHECK_EQ(fs.closes, 2); /* idle at the end: closed gracefully */
	CHECK_EQ(fs.aborts, 0);
	CHECK_EQ(s->renders, 0);
	CHECK_EQ(s->bytes_sent, 20 * (sizeof(want_head) - 1));
	CHECK_EQ(s->bytes_received, 20 * strlen(srv.response));
	fs_check_accounting(s);
	sp_vu_destroy(e);

	/* The same bytes the checks do not find: each response fails its
	 * check, the iteration goes on. */
	plan_base(1);
	reqs[0].check.header = "X-Missing";
	reqs[0].check.header_len = 9;
	reqs[0].check.body_contains = "world";
	reqs[0].check.body_contains_len = 5;
	reqs[0].check.body_contains_kmp = kmp_world;
	srv.response = "HTTP/1.1 200 OK\r\nX-Missing-Not: 1\r\n"
		      "Content-Length: 11\r\n\r\nhello worle";
	fs.piece = 3;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK_EQ(s->requests, 10);
	CHECK_EQ(srv.heads, 10);
	CHECK_EQ(s->responses, 10);
	CHECK_EQ(s->err[SP_VU_E_CHECK], 10);
	CHECK_EQ(s->failed, 10);
	CHECK_EQ(s->checks_passed, 0);
	CHECK_EQ(s->it_failed, 0);
	fs_check_accounting(s);
	sp_vu_destroy(e);
}

/* max_requests_per_connection 2: every second request asks to close, the
 * fake answers and closes, and the engine lets it close first
 * (close_after_peer), then opens a new connection. */
static void
test_conn_close(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base(1);
	scens[0].max_requests_per_conn = 2;
	srv.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	fs.piece = 1000;
	fs.space = 1000;
	fs.refuse = 0;
	srv.close_after = 1;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK_EQ(s->requests, 10);
	CHECK_EQ(s->responses, 10);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(srv.heads, 10);
	CHECK_EQ(srv.close_heads, 5);
	CHECK_EQ(fs.close_after_peer, 5);
	CHECK_EQ(s->connects, 5);
	CHECK_EQ(fs.aborts, 0);
	CHECK(!srv.heads_differ);
	CHECK_EQ(s->renders, 0);
	fs_check_accounting(s);
	sp_vu_destroy(e);
}

/* Every connect refused: each request fails as refused, nothing is sent. */
static void
test_refused(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base(1);
	srv.response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	fs.piece = 1000;
	fs.space = 1000;
	fs.refuse = 1;
	srv.close_after = 0;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK(s->requests >= 1);
	CHECK(s->failed >= 1);
	CHECK_EQ(s->responses, 0);
	CHECK_EQ(s->err[SP_VU_E_REFUSED], s->failed);
	CHECK_EQ(s->failed + s->interrupted, s->requests);
	CHECK_EQ(s->connects, s->requests);
	CHECK_EQ(srv.heads, 0);
	CHECK_EQ(s->bytes_sent, 0);
	fs_check_accounting(s);
	sp_vu_destroy(e);
}

int
main(void)
{
	test_keepalive();
	test_conn_close();
	test_refused();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
