/*
 * Virtual users (lib/proto/vu.c) over a fake stream (sp_stream.h): no TCP
 * stack at all, only this file's connections, which record every byte the
 * engine sends and answer each complete request head with a scripted
 * response, delivered in pieces of a chosen size. The engine's counters
 * must agree exactly with what the fake saw, and the bytes must be the
 * request the plan describes.
 *
 * The fake keeps the seam's rules (sp_stream.h): callbacks come from its
 * own event processing (fs_poll), except closed() inside abort(); and it
 * hands each callback the user pointer the connection carries then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_check.h"
#include "sp_stream.h"
#include "sp_vu.h"
#include "vu_plan.h"

/* ---- the fake stream ---- */

enum { FS_FREE = 0, FS_SYN, FS_OPEN, FS_CLOSING, FS_GONE };

#define FS_MAX 64

struct fs_conn {
	void *user;
	int state;
	int how;           /* 1 close, 2 close_after_peer */
	int blocked;       /* a send was cut short: writable() owed */
	uint32_t match;    /* "\r\n\r\n" matched so far */
	uint32_t cmatch;   /* "Connection: close\r\n" matched so far */
	int asked_close;   /* the head being read asked to close */
	uint32_t heads;    /* complete request heads on this connection */
	uint32_t answered; /* ... answered */
	uint32_t closes;   /* ... of them asking to close, answered */
	char head[1024];   /* the head being read */
	uint32_t nhead;
};

static struct {
	struct fs_conn c[FS_MAX];
	/* Script. */
	const char *response; /* answered to every request head */
	uint32_t piece;       /* response delivered this many bytes a call */
	uint32_t space;       /* send() takes at most this much per poll */
	int refuse;           /* every connect is refused */
	int close_after;      /* close after answering a Connection: close */
	/* Witness. */
	uint64_t connects, closes, close_after_peer, aborts, closed_cbs;
	uint64_t heads, close_heads, rx_bytes, tx_bytes;
	char first[1024]; /* the first request head, whole */
	uint32_t nfirst;
	int heads_differ; /* a head was not the first one's bytes */
	/* The engine on the other side. */
	const struct sp_stream_cbs *cbs;
	void *ctx;
} fs;

static struct fs_conn *
fs_conn(struct sp_stream *s)
{
	return (struct fs_conn *)s;
}

static struct sp_stream *
fs_connect(void *impl, const struct sp_stream_peer *peer, void *user, int *err)
{
	(void)impl;
	CHECK_EQ(peer->ip, 0xc6120002u);
	CHECK_EQ(peer->port, 80);
	for (int i = 0; i < FS_MAX; i++) {
		struct fs_conn *c = &fs.c[i];

		if (c->state == FS_FREE || c->state == FS_GONE) {
			memset(c, 0, sizeof(*c));
			c->user = user;
			c->state = FS_SYN;
			fs.connects++;
			return (struct sp_stream *)c;
		}
	}
	*err = -105; /* ENOBUFS: the engine retries */
	return NULL;
}

static void
fs_head_byte(struct fs_conn *c, char b)
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
	fs.heads++;
	if (fs.nfirst == 0) {
		memcpy(fs.first, c->head, c->nhead);
		fs.nfirst = c->nhead;
	} else if (!c->asked_close && (c->nhead != fs.nfirst ||
				       memcmp(c->head, fs.first, c->nhead))) {
		fs.heads_differ = 1;
	}
	if (c->asked_close)
		fs.close_heads++;
	c->nhead = 0;
}

static int32_t
fs_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	struct fs_conn *c = fs_conn(s);
	const char *p = data;

	(void)impl;
	if (c->state != FS_OPEN)
		return -1;
	if (len > fs.space) {
		len = fs.space;
		c->blocked = 1;
	}
	for (uint32_t i = 0; i < len; i++)
		fs_head_byte(c, p[i]);
	fs.tx_bytes += len;
	return (int32_t)len;
}

static uint32_t
fs_send_space(void *impl, const struct sp_stream *s)
{
	const struct fs_conn *c = (const struct fs_conn *)s;

	(void)impl;
	if (c->state != FS_OPEN)
		return 0;
	return c->blocked ? 0 : fs.space;
}

static int
fs_close(void *impl, struct sp_stream *s)
{
	(void)impl;
	fs.closes++;
	fs_conn(s)->state = FS_CLOSING;
	fs_conn(s)->how = 1;
	return 0;
}

static int
fs_close_after_peer(void *impl, struct sp_stream *s)
{
	(void)impl;
	fs.close_after_peer++;
	fs_conn(s)->state = FS_CLOSING;
	fs_conn(s)->how = 2;
	return 0;
}

static void
fs_abort(void *impl, struct sp_stream *s)
{
	struct fs_conn *c = fs_conn(s);

	(void)impl;
	fs.aborts++;
	c->state = FS_GONE;
	fs.closed_cbs++;
	fs.cbs->closed(fs.ctx, c->user, SP_STREAM_END_ABORTED);
}

static void
fs_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	fs_conn(s)->user = user;
}

static const struct sp_stream_ops fs_ops = {
	.connect = fs_connect,
	.send = fs_send,
	.send_space = fs_send_space,
	.close = fs_close,
	.close_after_peer = fs_close_after_peer,
	.abort = fs_abort,
	.set_user = fs_set_user,
};

static void
fs_gone(struct fs_conn *c, enum sp_stream_end why)
{
	c->state = FS_GONE;
	fs.closed_cbs++;
	fs.cbs->closed(fs.ctx, c->user, why);
}

/* One round of the fake's events: handshakes, freed space, responses to
 * the heads read, closes. */
static void
fs_poll(void)
{
	for (int i = 0; i < FS_MAX; i++) {
		struct fs_conn *c = &fs.c[i];

		switch (c->state) {
		case FS_SYN:
			if (fs.refuse) {
				fs_gone(c, SP_STREAM_END_REFUSED);
				break;
			}
			c->state = FS_OPEN;
			fs.cbs->connected(fs.ctx, c->user);
			break;
		case FS_OPEN:
			if (c->blocked) {
				c->blocked = 0;
				fs.cbs->writable(fs.ctx, c->user);
			}
			/* Each head answered in its own poll: a response
			 * never comes before its request is whole. */
			if (c->state == FS_OPEN && c->answered < c->heads) {
				const char *r = fs.response;
				uint32_t len = (uint32_t)strlen(r);
				int close = c->asked_close && fs.close_after;

				c->answered++;
				c->asked_close = 0;
				for (uint32_t off = 0;
				     off < len && c->state == FS_OPEN;
				     off += fs.piece) {
					uint32_t n = len - off < fs.piece ?
							     len - off :
							     fs.piece;

					fs.rx_bytes += n;
					fs.cbs->data(fs.ctx, c->user,
						     (const uint8_t *)r + off,
						     n);
				}
				if (close) {
					c->closes++;
					if (c->state == FS_OPEN)
						fs.cbs->peer_closed(fs.ctx,
								    c->user, 1);
					if (c->state == FS_CLOSING)
						fs_gone(c,
							SP_STREAM_END_NORMAL);
				}
			}
			break;
		case FS_CLOSING:
			fs_gone(c, SP_STREAM_END_NORMAL);
			break;
		default:
			break;
		}
	}
}

static int
fs_open_conns(void)
{
	int n = 0;

	for (int i = 0; i < FS_MAX; i++)
		n += fs.c[i].state != FS_FREE && fs.c[i].state != FS_GONE;
	return n;
}

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
	int done = 0;

	memset(fs.c, 0, sizeof(fs.c));
	fs.connects = fs.closes = fs.close_after_peer = fs.aborts = 0;
	fs.closed_cbs = fs.heads = fs.close_heads = 0;
	fs.rx_bytes = fs.tx_bytes = 0;
	fs.nfirst = 0;
	fs.heads_differ = 0;
	e = sp_vu_create(&vc, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	fs.cbs = sp_vu_stream_cbs();
	fs.ctx = e;
	sp_vu_set_stream(e, &fs_ops, NULL);
	now = 1000000;
	sp_vu_start(e, now);
	/* The schedule, the grace period, and a margin: bounded. */
	for (int t = 0; t < 10000 && !(done && fs_open_conns() == 0); t++) {
		now += 1000;
		if (!done)
			done = sp_vu_step(e, now);
		fs_poll();
	}
	CHECK(done);
	CHECK_EQ(fs_open_conns(), 0);
	return e;
}

/* Counters that hold whatever the script. */
static void
check_accounting(const struct sp_vu_stats *s)
{
	CHECK_EQ(s->requests, s->responses + s->failed -
				      sp_vu_failed_responses(s) +
				      s->interrupted);
	CHECK_EQ(s->it_started,
		 s->it_completed + s->it_failed + s->it_interrupted);
	CHECK_EQ(s->vus_active, 0);
	CHECK_EQ(s->conns_open, 0);
	CHECK_EQ(s->connects, fs.connects);
	/* Every connection ended with one closed(), seen by the engine. */
	CHECK_EQ(fs.closed_cbs, fs.connects);
	CHECK_EQ(s->bytes_sent, fs.tx_bytes);
	CHECK_EQ(s->bytes_received, fs.rx_bytes);
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
	fs.response = "HTTP/1.1 200 OK\r\nx-test: 1\r\n"
		      "Content-Length: 11\r\n\r\nhello world";
	fs.piece = 1;
	fs.space = 7;
	fs.refuse = 0;
	fs.close_after = 0;
	e = run(2);
	s = sp_vu_stats(e);
	CHECK_EQ(fs.nfirst, sizeof(want_head) - 1);
	CHECK(memcmp(fs.first, want_head, sizeof(want_head) - 1) == 0);
	CHECK(!fs.heads_differ);
	/* 2 VUs, one request per 10 ms tick-aligned iteration, 100 ms:
	 * 10 each; the end cuts nothing (answers come within a tick). */
	CHECK_EQ(s->requests, 20);
	CHECK_EQ(fs.heads, 20);
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
	CHECK_EQ(s->bytes_received, 20 * strlen(fs.response));
	check_accounting(s);
	sp_vu_destroy(e);

	/* The same bytes the checks do not find: each response fails its
	 * check, the iteration goes on. */
	plan_base(1);
	reqs[0].check.header = "X-Missing";
	reqs[0].check.header_len = 9;
	reqs[0].check.body_contains = "world";
	reqs[0].check.body_contains_len = 5;
	reqs[0].check.body_contains_kmp = kmp_world;
	fs.response = "HTTP/1.1 200 OK\r\nX-Missing-Not: 1\r\n"
		      "Content-Length: 11\r\n\r\nhello worle";
	fs.piece = 3;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK_EQ(s->requests, 10);
	CHECK_EQ(fs.heads, 10);
	CHECK_EQ(s->responses, 10);
	CHECK_EQ(s->err[SP_VU_E_CHECK], 10);
	CHECK_EQ(s->failed, 10);
	CHECK_EQ(s->checks_passed, 0);
	CHECK_EQ(s->it_failed, 0);
	check_accounting(s);
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
	fs.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	fs.piece = 1000;
	fs.space = 1000;
	fs.refuse = 0;
	fs.close_after = 1;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK_EQ(s->requests, 10);
	CHECK_EQ(s->responses, 10);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(fs.heads, 10);
	CHECK_EQ(fs.close_heads, 5);
	CHECK_EQ(fs.close_after_peer, 5);
	CHECK_EQ(s->connects, 5);
	CHECK_EQ(fs.aborts, 0);
	CHECK(!fs.heads_differ);
	CHECK_EQ(s->renders, 0);
	check_accounting(s);
	sp_vu_destroy(e);
}

/* Every connect refused: each request fails as refused, nothing is sent. */
static void
test_refused(void)
{
	const struct sp_vu_stats *s;
	struct sp_vu_engine *e;

	plan_base(1);
	fs.response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	fs.piece = 1000;
	fs.space = 1000;
	fs.refuse = 1;
	fs.close_after = 0;
	e = run(1);
	s = sp_vu_stats(e);
	CHECK(s->requests >= 1);
	CHECK(s->failed >= 1);
	CHECK_EQ(s->responses, 0);
	CHECK_EQ(s->err[SP_VU_E_REFUSED], s->failed);
	CHECK_EQ(s->failed + s->interrupted, s->requests);
	CHECK_EQ(s->connects, s->requests);
	CHECK_EQ(fs.heads, 0);
	CHECK_EQ(s->bytes_sent, 0);
	check_accounting(s);
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
