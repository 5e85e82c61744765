/*
 * Virtual users (lib/proto/vu.c) on a real stack, against a scripted HTTP
 * server on a second stack, over the harness's fake wire and clock.
 *
 * The server counts what it received and answers each request with what
 * the test scripted; the engine's counters must agree with it exactly.
 * Schedules are checked against their closed forms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sp_http1.h"
#include "sp_http1_req.h"
#include "sp_stream_tcp.h"
#include "sp_vu.h"
#include "vu_int.h"
#include "vu_plan.h"
#include "vu_render.h"

/* ---- plans built by hand ---- */

static struct sp_tpl_part lit_parts[64];
static unsigned nlit;

static struct sp_tpl
lit(const char *s)
{
	return sp_t_lit(lit_parts, &nlit, s);
}

static struct sp_request reqs[4];
static struct sp_step steps[8];
static struct sp_scenario scens[3];
static struct sp_load loads[3];
static struct sp_plan plan;

static void
plan_base(uint8_t model)
{
	memset(&plan, 0, sizeof(plan));
	memset(reqs, 0, sizeof(reqs));
	memset(steps, 0, sizeof(steps));
	memset(scens, 0, sizeof(scens));
	memset(loads, 0, sizeof(loads));
	nlit = 0;
	plan.dst_ip = SP_H_IP_SERVER;
	plan.dst_port = 80;
	plan.host = "198.18.0.2";
	plan.model = model;
	plan.response_timeout_us = 1000000;
	plan.requests = reqs;
	plan.scenarios = scens;
	for (int i = 0; i < 4; i++) {
		reqs[i].name = "r";
		reqs[i].path = lit("/");
		reqs[i].headers = lit("");
		reqs[i].check.body_size = -1;
		sp_status_set_range(reqs[i].expect_set, SP_EXPECT_DEFAULT_LO,
				    SP_EXPECT_DEFAULT_HI);
	}
}

/* One scenario: request 0, then think @think_us if not 0. */
static void
plan_one(uint32_t think_us)
{
	steps[0].kind = SP_STEP_REQUEST;
	steps[0].req = 0;
	steps[1].kind = SP_STEP_THINK;
	steps[1].think_min_us = steps[1].think_max_us = think_us;
	scens[0].name = "s";
	scens[0].weight = 1;
	scens[0].enabled = 1;
	scens[0].keep_alive = 1;
	scens[0].steps = steps;
	scens[0].nsteps = think_us ? 2 : 1;
	plan.nscenarios = 1;
	plan.nrequests = 1;
}

/* ---- the scripted server ---- */

static const char *srv_response; /* sent whole for each request */
static int srv_silent;           /* read requests, answer nothing */
static uint64_t srv_requests;    /* complete request heads seen */
static uint64_t srv_close_reqs;  /* ... of them with "Connection: close" */
static uint64_t srv_accepted;
/* The first request the server received, as bytes (rendering tests). */
static char srv_first[2048];
static uint32_t srv_first_len;
static int srv_first_done;

/* Every request's target, in the order they came (data tests). */
#define SRV_PATHS 4096
static char srv_paths[SRV_PATHS][64];
static unsigned srv_npaths;

struct srv_conn {
	uint32_t match;  /* "\r\n\r\n" matched so far */
	uint32_t cmatch; /* "Connection: close\r\n" matched so far */
	int close;       /* this head asked the server to close */
	char line[80];   /* the request line so far */
	uint32_t nline;
	int line_done;
};
static struct srv_conn srv_conns[1024];
static unsigned srv_nconns;

static void
srv_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)st;
	(void)app;
	srv_accepted++;
	memset(&srv_conns[srv_nconns % 1024], 0, sizeof(srv_conns[0]));
	sp_conn_set_user(c, &srv_conns[srv_nconns++ % 1024]);
}

static void
srv_recv(struct sp_stack *st, struct sp_conn *c, void *app, const uint8_t *data,
	 uint32_t len)
{
	static const char end[] = "\r\n\r\n";
	static const char cl[] = "Connection: close\r\n";
	struct srv_conn *s = sp_conn_user(c);

	(void)app;
	for (uint32_t i = 0; i < len; i++) {
		if (!srv_first_done && srv_first_len < sizeof(srv_first) - 1)
			srv_first[srv_first_len++] = (char)data[i];
		if (!s->line_done && data[i] == '\n') {
			/* "METHOD TARGET HTTP/1.1": keep the target. */
			char *a = memchr(s->line, ' ', s->nline), *b;

			s->line_done = 1;
			b = a != NULL ? memchr(a + 1, ' ',
					       s->nline - (uint32_t)(a + 1 -
								 s->line)) :
					NULL;
			if (b != NULL && srv_npaths < SRV_PATHS &&
			    b - a - 1 < 64) {
				memcpy(srv_paths[srv_npaths], a + 1,
				       (size_t)(b - a - 1));
				srv_paths[srv_npaths++][b - a - 1] = '\0';
			}
		} else if (!s->line_done && s->nline < sizeof(s->line)) {
			s->line[s->nline++] = (char)data[i];
		}
		s->cmatch = data[i] == (uint8_t)cl[s->cmatch] ? s->cmatch + 1 :
			    data[i] == 'C'                    ? 1 :
								0;
		if (s->cmatch == sizeof(cl) - 1) {
			s->close = 1;
			s->cmatch = 0;
		}
		s->match = data[i] == (uint8_t)end[s->match] ? s->match + 1 :
			   data[i] == '\r'                   ? 1 :
							       0;
		if (s->match < 4)
			continue;
		s->match = 0;
		s->nline = 0;
		s->line_done = 0;
		srv_requests++;
		srv_first_done = srv_requests >
				 1; /* the first one's body too */
		if (!srv_silent)
			CHECK_EQ(sp_tcp_send(st, c, srv_response,
					     (uint32_t)strlen(srv_response)),
				 (int32_t)strlen(srv_response));
		if (s->close) {
			/* As RFC 9112 9.6 asks: close after the response. */
			srv_close_reqs++;
			sp_tcp_close(st, c);
			return;
		}
	}
}

static void
srv_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)app;
	sp_tcp_close(st, c);
}

static void
srv_closed(struct sp_stack *st, struct sp_conn *c, void *app,
	   enum sp_close_reason why)
{
	(void)st;
	(void)c;
	(void)app;
	(void)why;
}

static const struct sp_tcp_ops srv_ops = {
	.connected = srv_connected,
	.recv = srv_recv,
	.peer_fin = srv_peer_fin,
	.closed = srv_closed,
};

/* ---- running an engine on the wire ---- */

static struct sp_h_net net;
static struct sp_vu_engine *eng;
static struct sp_stream_tcp eng_tcp; /* the engine's stream */
static int eng_done;
static struct sp_stack_stats cli_stats; /* the engine's stack, at the end */
static struct sp_reqlog *run_reqlog;    /* given to the engine, or NULL */
static uint64_t run_start;              /* sp_vu_start's time */

static bool
eng_step(struct sp_h_net *n, void *arg)
{
	(void)arg;
	if (!eng_done)
		eng_done = sp_vu_step(eng, n->now);
	return eng_done && sp_stack_conns_in_use(n->node[0].st) == 0;
}

static void
run_plan(uint32_t max_vus, uint64_t seed)
{
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &net.now,
		.max_vus = max_vus,
		.seed = seed,
		.reqlog = run_reqlog,
	};
	char err[128];

	srv_requests = srv_close_reqs = srv_accepted = 0;
	srv_first_len = 0;
	srv_first_done = 0;
	srv_npaths = 0;
	srv_nconns = 0;
	eng_done = 0;
	eng = sp_vu_create(&vc, err, sizeof(err));
	CHECK(eng != NULL);
	if (eng == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	sp_h_net_init(&net, 2, 4096);
	/* The engine's stream: the app's TCP adapter over node 0's stack. */
	sp_stream_tcp_init(&eng_tcp, sp_vu_stream_cbs(), eng);
	net.node[0].ops = sp_stream_tcp_stack_ops();
	net.node[0].app = &eng_tcp;
	net.node[1].ops = &srv_ops;
	net.node[0].cfg.time_wait_us = 100000;
	net.node[1].cfg.time_wait_us = 100000;
	sp_h_net_start(&net, 1000000);
	CHECK_EQ(sp_tcp_listen(net.node[1].st, 80), 0);
	sp_h_resolve(&net);
	sp_stream_tcp_attach(&eng_tcp, net.node[0].st);
	sp_vu_set_stream(eng, &sp_stream_tcp_ops, &eng_tcp);
	sp_h_alloc_counting = true;
	sp_h_allocs = 0;
	run_start = net.now;
	sp_vu_start(eng, net.now);
	CHECK(sp_h_run(&net, eng_step, NULL, plan.duration_us + 10000000));
	/* Nothing allocated while the load ran. */
	CHECK_EQ(sp_h_allocs, 0);
	cli_stats = *sp_stack_stats(net.node[0].st);
	sp_h_net_finish(&net);
}

/* Every request is accounted for, and iterations too. */
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
}

/* ---- tests ---- */

static void
test_schedule_math(void)
{
	plan_base(SP_MODEL_OPEN);
	plan.rate = 2000;
	plan.duration_us = 10000000;
	CHECK(fabs(sp_vu_arrivals_at(&plan, 10000000) - 20000.0) < 1e-6);
	CHECK(fabs(sp_vu_arrivals_at(&plan, 2500000) - 5000.0) < 1e-6);
	/* Ramp 0 -> 100/s over 10 s, then 100/s for 10 s: 500 + 1000. */
	plan.nstages = 2;
	plan.stages[0].duration_us = 10000000;
	plan.stages[0].target = 100;
	plan.stages[1].duration_us = 10000000;
	plan.stages[1].target = 100;
	CHECK(fabs(sp_vu_arrivals_at(&plan, 10000000) - 500.0) < 1e-6);
	CHECK(fabs(sp_vu_arrivals_at(&plan, 5000000) - 125.0) < 1e-6);
	CHECK(fabs(sp_vu_arrivals_at(&plan, 20000000) - 1500.0) < 1e-6);

	plan_base(SP_MODEL_CLOSED);
	plan.nstages = 3;
	plan.stages[0].duration_us = 10000000;
	plan.stages[0].target = 20;
	plan.stages[1].duration_us = 10000000;
	plan.stages[1].target = 200;
	plan.stages[2].duration_us = 10000000;
	plan.stages[2].target = 0;
	CHECK_EQ(sp_vu_target_at(&plan, 0), 0);
	CHECK_EQ(sp_vu_target_at(&plan, 5000000), 10);
	CHECK_EQ(sp_vu_target_at(&plan, 10000000), 20);
	CHECK_EQ(sp_vu_target_at(&plan, 15000000), 110);
	CHECK_EQ(sp_vu_target_at(&plan, 25000000), 100);
	CHECK_EQ(sp_vu_target_at(&plan, 29999999), 0);
}

static void
test_closed_keepalive(void)
{
	const struct sp_vu_stats *s;

	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 3;
	plan.duration_us = 2000000;
	reqs[0].check.has_status = 1;
	reqs[0].check.status_set[200 / 64] |= 1ull << (200 % 64);
	reqs[0].check.header = "X-Test";
	reqs[0].check.header_len = 6;
	static const uint32_t kmp[] = { 0, 0, 0, 0, 0 };
	reqs[0].check.body_contains = "world";
	reqs[0].check.body_contains_len = 5;
	reqs[0].check.body_contains_kmp = kmp;
	reqs[0].check.body_size = 11;
	/* No headers, as the scenario loader leaves them: the empty
	 * template, which must not make the request be rendered each time. */
	memset(&reqs[0].headers, 0, sizeof(reqs[0].headers));
	srv_silent = 0;
	srv_response = "HTTP/1.1 200 OK\r\nx-test: 1\r\n"
		       "Content-Length: 11\r\n\r\nhello world";
	run_plan(3, 1);
	s = sp_vu_stats(eng);
	/* 3 VUs, ~10 ms per iteration, 2 s: about 600 requests. */
	CHECK_GE(s->responses, 500);
	CHECK_EQ(s->renders, 0); /* built once */
	CHECK_EQ(s->responses, srv_requests);
	CHECK_EQ(s->codes[200], s->responses);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(s->interrupted, 0);
	CHECK_EQ(s->connects, 3);
	CHECK_EQ(srv_accepted, 3);
	CHECK_EQ(sp_vu_req_stats(eng)[0].latency.count, s->responses);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* The same with a header and a body the checks do not find. */
	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 2;
	plan.duration_us = 500000;
	reqs[0].check.header = "X-Missing";
	reqs[0].check.header_len = 9;
	/* A path with {{vu}}: rendered for every request. */
	static const struct sp_tpl_part vu_parts[] = {
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 1 },
		{ .var = SP_VAR_VU },
	};
	reqs[0].path = (struct sp_tpl){ "/", 1, vu_parts, 2, SP_TPL_PATH };
	srv_response = "HTTP/1.1 200 OK\r\nX-Missing-Not: 1\r\n"
		       "Content-Length: 3\r\n\r\nabc";
	run_plan(2, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 50);
	CHECK_EQ(s->err[SP_VU_E_CHECK], s->responses);
	CHECK_EQ(s->failed, s->responses);
	CHECK_EQ(s->it_failed, 0); /* a failed check lets the iteration go on */
	CHECK_EQ(s->renders, s->requests);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* max_requests_per_connection 3: the third request on a connection
	 * says "Connection: close", the server closes after answering it,
	 * and our FIN answers the server's (no TIME_WAIT of ours). */
	plan_base(SP_MODEL_CLOSED);
	plan_one(1000);
	plan.vus = 2;
	plan.duration_us = 500000;
	scens[0].max_requests_per_conn = 3;
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	run_plan(2, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 100);
	CHECK_EQ(s->failed, 0);
	CHECK_EQ(s->renders, 0); /* both variants built once */
	CHECK_EQ(s->connects, srv_accepted);
	/* Every connection but the two cut at the end carried exactly 3,
	 * the last of them asking to close. */
	CHECK_GE(srv_close_reqs + 2, srv_accepted);
	CHECK_GE(srv_requests, 3 * srv_close_reqs);
	CHECK_LE(srv_requests, 3 * srv_close_reqs + 4);
	CHECK_EQ(cli_stats.tcp_linger_fin, srv_close_reqs);
	CHECK_EQ(cli_stats.tcp_linger_timeout, 0);
	check_accounting(s);
	sp_vu_destroy(eng);
}

static void
test_open_rate(void)
{
	const struct sp_vu_stats *s;

	plan_base(SP_MODEL_OPEN);
	plan_one(0);
	plan.rate = 500;
	plan.duration_us = 2000000;
	srv_silent = 0;
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	run_plan(50, 2);
	s = sp_vu_stats(eng);
	/* Arrivals at 0, 2 ms, ... 1998 ms: exactly 1000. */
	CHECK_EQ(s->it_started, 1000);
	CHECK_EQ(s->it_dropped, 0);
	CHECK_EQ(s->responses, 1000);
	CHECK_EQ(srv_requests, 1000);
	/* The generator's lag: one record per request (its SYN or its
	 * bytes), never more than the fake clock's step behind. */
	CHECK_EQ(s->lag.count, s->requests);
	CHECK_LE(s->lag.max, 1000);
	check_accounting(s);
	sp_vu_destroy(eng);
}

/* A server that never answers: the open model keeps its arrivals, drops
 * those that find no idle VU, and each request fails as a response
 * timeout, counted by kind; the last ones time out in the grace period. */
static void
test_silent_server(void)
{
	const struct sp_vu_stats *s;

	plan_base(SP_MODEL_OPEN);
	plan_one(0);
	plan.rate = 100;
	plan.duration_us = 3000000;
	plan.response_timeout_us = 500000;
	srv_silent = 1;
	run_plan(10, 3);
	s = sp_vu_stats(eng);
	CHECK_EQ(s->it_started + s->it_dropped, 300);
	CHECK_GT(s->it_dropped, 100);
	CHECK_EQ(s->responses, 0);
	CHECK_EQ(s->failed, s->err[SP_VU_E_RESPONSE_TIMEOUT]);
	CHECK_GT(s->failed, 20);
	CHECK_EQ(s->failed, s->requests);
	CHECK_EQ(s->interrupted, 0);
	check_accounting(s);
	sp_vu_destroy(eng);
	srv_silent = 0;
}

static void
test_hostile_responses(void)
{
	static const struct {
		const char *resp;
		enum sp_vu_err kind;
	} cases[] = {
		{ "SSH-2.0-OpenSSH\r\n\r\n", SP_VU_E_BAD_STATUS },
		{ "HTTP/2.0 200 OK\r\n\r\n", SP_VU_E_BAD_VERSION },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", SP_VU_E_BAD_STATUS },
		{ "HTTP/1.1 200 OK\r\nbad header\r\n\r\n", SP_VU_E_BAD_HEADER },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		  SP_VU_E_BAD_CHUNK },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		  SP_VU_E_BAD_LENGTH },
		/* Two responses to one request. */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
		  SP_VU_E_UNSOLICITED },
		/* Chunk lines end in CRLF only (RFC 9112 7.1). */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n",
		  SP_VU_E_BAD_CHUNK },
		/* We asked for no upgrade (RFC 9110 7.8). */
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
		  "Connection: Upgrade\r\n\r\n",
		  SP_VU_E_UPGRADE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sp_vu_stats *s;

		plan_base(SP_MODEL_CLOSED);
		plan_one(50000);
		plan.vus = 2;
		plan.duration_us = 1000000;
		srv_response = cases[i].resp;
		run_plan(2, 4);
		s = sp_vu_stats(eng);
		CHECK_GE(s->err[cases[i].kind], 10);
		if (cases[i].kind == SP_VU_E_UNSOLICITED) {
			/* The response itself was fine. */
			CHECK_EQ(s->err[cases[i].kind], s->responses);
			CHECK_EQ(s->failed, 0);
		} else {
			CHECK_EQ(s->failed, s->err[cases[i].kind]);
			CHECK_EQ(s->responses, 0);
		}
		/* Each failed request took its connection with it: the
		 * next one never goes out on the switched or unframed one. */
		CHECK_EQ(srv_accepted, s->requests);
		check_accounting(s);
		sp_vu_destroy(eng);
	}
}

/* A response read with a leniency (bare LF line ends, an obs-fold) is a
 * response, but its connection is not reused: a proxy between us may have
 * framed the same bytes otherwise. */
static void
test_lenient_closes(void)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok",
	};

	for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
		const struct sp_vu_stats *s;

		plan_base(SP_MODEL_CLOSED);
		plan_one(20000);
		plan.vus = 2;
		plan.duration_us = 1000000;
		srv_response = resps[i];
		run_plan(2, 4);
		s = sp_vu_stats(eng);
		CHECK_GE(s->responses, 20);
		CHECK_EQ(s->failed, 0);
		CHECK_EQ(s->lenient_closes, s->responses);
		/* one connection per request */
		CHECK_EQ(srv_accepted, s->requests);
		CHECK_EQ(s->connects, s->requests);
		check_accounting(s);
		sp_vu_destroy(eng);
	}
}

static void
test_weights(void)
{
	const struct sp_vu_scen_stats *ss;
	const struct sp_vu_stats *s;

	plan_base(SP_MODEL_CLOSED);
	plan_one(1000);
	scens[1] = scens[0];
	scens[1].name = "t";
	scens[1].weight = 3;
	scens[2] = scens[0];
	scens[2].name = "u";
	scens[2].weight = 6;
	scens[2].enabled = 0; /* filtered out by tags */
	plan.nscenarios = 3;
	plan.vus = 8;
	plan.duration_us = 3000000;
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	run_plan(8, 5);
	s = sp_vu_stats(eng);
	ss = sp_vu_scen_stats(eng);
	CHECK_GE(s->it_started, 10000);
	CHECK_EQ(ss[2].started, 0);
	CHECK_EQ(ss[0].started + ss[1].started, s->it_started);
	/* 1:3 within 2 points. */
	CHECK(fabs((double)ss[0].started / (double)s->it_started - 0.25) <
	      0.02);
	check_accounting(s);
	sp_vu_destroy(eng);
}

/*
 * A status outside the request's expected set fails it as http_status,
 * before (and instead of) its checks; inside it, the checks judge.
 */
static void
test_expect_status(void)
{
	const struct sp_vu_stats *s;
	const struct sp_vu_req_stats *rs;

	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 2;
	plan.duration_us = 500000;
	reqs[0].check.has_status = 1;
	sp_status_set_range(reqs[0].check.status_set, 200, 200);
	srv_response = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
	run_plan(2, 1);
	s = sp_vu_stats(eng);
	rs = sp_vu_req_stats(eng);
	CHECK_GE(s->responses, 50);
	CHECK_EQ(s->codes[503], s->responses);
	CHECK_EQ(s->err[SP_VU_E_HTTP_STATUS], s->responses);
	CHECK_EQ(s->err[SP_VU_E_CHECK], 0); /* one kind per failed request */
	CHECK_EQ(s->failed, s->responses);
	CHECK_EQ(rs[0].status_failed, s->responses);
	CHECK_EQ(rs[0].check_failed, 0);
	CHECK_EQ(s->checks_passed, 0);
	CHECK_EQ(s->it_failed, 0); /* a response came: the iteration holds */
	CHECK_EQ(srv_requests, s->responses);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* 503 expected: a success, and the status check then judges it. */
	sp_status_set_range(reqs[0].expect_set, 500, 599);
	run_plan(2, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 50);
	CHECK_EQ(s->err[SP_VU_E_HTTP_STATUS], 0);
	CHECK_EQ(s->err[SP_VU_E_CHECK], s->responses);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* Default set: 399 passes, 400 fails. */
	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 1;
	plan.duration_us = 300000;
	srv_response = "HTTP/1.1 399 X\r\nContent-Length: 0\r\n\r\n";
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 10);
	CHECK_EQ(s->failed, 0);
	sp_vu_destroy(eng);
	srv_response = "HTTP/1.1 400 X\r\nContent-Length: 0\r\n\r\n";
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 10);
	CHECK_EQ(s->err[SP_VU_E_HTTP_STATUS], s->responses);
	sp_vu_destroy(eng);
}

/*
 * Values through their filters, as the server received them: a path's
 * value percent-encoded, a body's JSON-escaped; a value with CR LF bound
 * for a header is never sent (unsafe_value), nor one with a space bound
 * raw for the path, and such a VU pauses instead of spinning.
 */
static void
test_filters_render(void)
{
	static const char *const cols[] = { "v" };
	static const char *const cells[] = { "a \"b\"/\\\n\x01\xc3\xa9" };
	static const uint32_t cell_len[] = { 11 };
	static const struct sp_data data = { .ncols = 1,
					     .nrows = 1,
					     .cols = cols,
					     .cells = cells,
					     .cell_len = cell_len,
					     .max_cell_len = 11 };
	static const char *const bad_cells[] = { "x\r\nInjected: 1" };
	static const uint32_t bad_len[] = { 14 };
	static const struct sp_data bad_data = { .ncols = 1,
						 .nrows = 1,
						 .cols = cols,
						 .cells = bad_cells,
						 .cell_len = bad_len,
						 .max_cell_len = 14 };
	static struct sp_tpl_part path_parts[] = {
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 3 },
		{ .var = SP_VAR_DATA, .enc = SP_ENC_URL },
	};
	static struct sp_tpl_part body_parts[] = {
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 7 },
		{ .var = SP_VAR_DATA, .enc = SP_ENC_JSON },
		{ .var = SP_VAR_LITERAL, .off = 7, .len = 2 },
	};
	static struct sp_tpl_part hdr_parts[] = {
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 5 },
		{ .var = SP_VAR_DATA, .enc = SP_ENC_RAW },
		{ .var = SP_VAR_LITERAL, .off = 5, .len = 2 },
	};
	const struct sp_vu_stats *s;
	const char *want_path =
		"POST /q=a%20%22b%22%2F%5C%0A%01%C3%A9 HTTP/1.1\r\n";
	const char *want_body =
		"{\"v\": \"a \\\"b\\\"/\\\\\\n\\u0001\xc3\xa9\"}";

	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 1;
	plan.duration_us = 200000;
	plan.data = &data;
	reqs[0].method = SP_METHOD_POST;
	reqs[0].path = (struct sp_tpl){ "/q=", 3, path_parts, 2, SP_TPL_PATH };
	reqs[0].has_body = 1;
	reqs[0].body = (struct sp_tpl){ "{\"v\": \"\"}", 9, body_parts, 3,
					SP_TPL_BODY };
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	srv_first[srv_first_len] = '\0';
	CHECK(strncmp(srv_first, want_path, strlen(want_path)) == 0);
	CHECK(memmem(srv_first, srv_first_len, want_body, strlen(want_body)) !=
	      NULL);
	CHECK_GE(s->responses, 5);
	CHECK_EQ(s->failed, 0);
	sp_vu_destroy(eng);

	/* CR LF bound raw for a header: refused, counted, nothing sent. */
	plan_base(SP_MODEL_CLOSED);
	plan_one(0);
	plan.vus = 1;
	plan.duration_us = 200000;
	plan.data = &bad_data;
	reqs[0].headers = (struct sp_tpl){ "X-A: \r\n", 7, hdr_parts, 3,
					   SP_TPL_HEADER };
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	CHECK_EQ(srv_requests, 0);
	CHECK_EQ(s->responses, 0);
	CHECK_GE(s->err[SP_VU_E_UNSAFE_VALUE], 50);
	/* Paced by the retry pause (1 ms), not spinning: at most one a
	 * millisecond over the 200 ms. */
	CHECK(s->err[SP_VU_E_UNSAFE_VALUE] <= 201);
	CHECK_EQ(s->failed, s->err[SP_VU_E_UNSAFE_VALUE]);
	CHECK_EQ(s->it_failed + s->it_interrupted, s->it_started);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* The same value JSON-escaped is safe in a header. */
	hdr_parts[1].enc = SP_ENC_JSON;
	plan_one(10000);
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	srv_first[srv_first_len] = '\0';
	CHECK(strstr(srv_first, "\r\nX-A: x\\r\\nInjected: 1\r\n") != NULL);
	CHECK_EQ(s->err[SP_VU_E_UNSAFE_VALUE], 0);
	CHECK_GE(s->responses, 5);
	sp_vu_destroy(eng);
	hdr_parts[1].enc = SP_ENC_RAW;

	/* A space raw in the path: refused; encoded (the default): sent. */
	plan_base(SP_MODEL_CLOSED);
	plan_one(10000);
	plan.vus = 1;
	plan.duration_us = 200000;
	plan.data = &data;
	path_parts[1].enc = SP_ENC_RAW;
	reqs[0].path = (struct sp_tpl){ "/q=", 3, path_parts, 2, SP_TPL_PATH };
	run_plan(1, 1);
	s = sp_vu_stats(eng);
	CHECK_EQ(srv_requests, 0);
	CHECK_GE(s->err[SP_VU_E_UNSAFE_VALUE], 5);
	check_accounting(s);
	sp_vu_destroy(eng);
	path_parts[1].enc = SP_ENC_URL;
}

/* Host and User-Agent: the target's Host and the plan's User-Agent
 * unless the request has its own; both on the prebuilt path (static
 * templates) and the rendered one (a variable). */
static void
test_host_ua(void)
{
	static const struct {
		int own_host, own_ua, var;
		const char *headers, *want;
	} cases[] = {
		{ 0, 0, 0, "",
		  "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\n"
		  "User-Agent: stampede/t\r\n\r\n" },
		{ 1, 0, 0, "Host: v.test\r\nX-A: 1\r\n",
		  "GET / HTTP/1.1\r\nUser-Agent: stampede/t\r\n"
		  "Host: v.test\r\nX-A: 1\r\n\r\n" },
		{ 0, 1, 0, "User-Agent: k6\r\n",
		  "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: k6\r\n\r\n" },
		{ 1, 1, 0, "Host: v.test\r\n",
		  "GET / HTTP/1.1\r\nHost: v.test\r\n\r\n" },
		{ 0, 0, 1, "X-VU: ",
		  "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\n"
		  "User-Agent: stampede/t\r\nX-VU: 1\r\n\r\n" },
		{ 1, 1, 1, "Host: v", "GET / HTTP/1.1\r\nHost: v1\r\n\r\n" },
	};
	static struct sp_tpl_part parts[3];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan_base(SP_MODEL_CLOSED);
		plan_one(10000);
		plan.vus = 1;
		plan.duration_us = 100000;
		plan.user_agent = "stampede/t";
		reqs[0].own_host = (uint8_t)cases[i].own_host;
		reqs[0].own_ua = (uint8_t)cases[i].own_ua;
		reqs[0].headers = lit(cases[i].headers);
		if (cases[i].var) {
			/* headers, {{vu}}, CRLF */
			static char text[64];

			snprintf(text, sizeof(text), "%s\r\n",
				 cases[i].headers);
			memset(parts, 0, sizeof(parts));
			parts[0].var = SP_VAR_LITERAL;
			parts[0].len = (uint32_t)strlen(cases[i].headers);
			parts[1].var = SP_VAR_VU;
			parts[2].var = SP_VAR_LITERAL;
			parts[2].off = parts[0].len;
			parts[2].len = 2;
			reqs[0].headers.text = text;
			reqs[0].headers.text_len = (uint32_t)strlen(text);
			reqs[0].headers.parts = parts;
			reqs[0].headers.nparts = 3;
		}
		srv_silent = 0;
		srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		run_plan(1, 1);
		CHECK(sp_vu_stats(eng)->responses >= 1);
		CHECK(sp_vu_stats(eng)->renders == 0 || cases[i].var);
		if (srv_first_len < strlen(cases[i].want) ||
		    strncmp(srv_first, cases[i].want, strlen(cases[i].want)) !=
			    0) {
			fprintf(stderr, "case %zu: got '%.*s'\n", i,
				(int)srv_first_len, srv_first);
			CHECK(0);
		}
		sp_vu_destroy(eng);
	}
}

/* The one request builder (vu_render.c) on its own: exact bytes for a
 * body with Connection: close and for HEAD, each read back by the
 * request parser (sp_http1_req) as one whole request. */
static void
test_build_bytes(void)
{
	static const struct {
		uint8_t method;
		int keep_alive, http_method;
		const char *path, *headers, *body, *want;
	} cases[] = {
		{ SP_METHOD_POST, 0, SP_HTTP1_M_POST, "/api",
		  "Content-Type: application/json\r\n", "{\"a\":1}",
		  "POST /api HTTP/1.1\r\nHost: 198.18.0.2\r\n"
		  "User-Agent: stampede/t\r\n"
		  "Content-Type: application/json\r\nConnection: close\r\n"
		  "Content-Length: 7\r\n\r\n{\"a\":1}" },
		{ SP_METHOD_PUT, 1, SP_HTTP1_M_PUT, "/e", "", "",
		  "PUT /e HTTP/1.1\r\nHost: 198.18.0.2\r\n"
		  "User-Agent: stampede/t\r\nContent-Length: 0\r\n\r\n" },
		{ SP_METHOD_HEAD, 1, SP_HTTP1_M_HEAD, "/h?q=1",
		  "Accept: */*\r\n", NULL,
		  "HEAD /h?q=1 HTTP/1.1\r\nHost: 198.18.0.2\r\n"
		  "User-Agent: stampede/t\r\nAccept: */*\r\n\r\n" },
	};
	static uint8_t out[SP_VU_REQ_MAX], body[SP_VU_REQ_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_vu_render rd = { .seed = 1, .body_scratch = body };
		struct sp_http1_req rp;
		size_t used = 0;
		uint32_t n;
		int rc;

		plan_base(SP_MODEL_CLOSED);
		plan.user_agent = "stampede/t";
		reqs[0].method = cases[i].method;
		reqs[0].path = lit(cases[i].path);
		reqs[0].headers = lit(cases[i].headers);
		reqs[0].has_body = cases[i].body != NULL;
		if (cases[i].body != NULL)
			reqs[0].body = lit(cases[i].body);
		rd.pl = &plan;
		n = sp_vu_build(&rd, &reqs[0], cases[i].keep_alive, out);
		CHECK_EQ(n, strlen(cases[i].want));
		CHECK(memcmp(out, cases[i].want, n) == 0);
		sp_http1_req_init(&rp);
		rc = sp_http1_req_parse(&rp, out, n, &used);
		CHECK_EQ(rc, SP_HTTP1_DONE);
		CHECK_EQ(used, n);
		CHECK_EQ(rp.method, cases[i].http_method);
		CHECK_EQ(rp.must_close, !cases[i].keep_alive);
		CHECK_EQ(rp.body_bytes,
			 cases[i].body != NULL ? strlen(cases[i].body) : 0);
	}
}

/* ---- per-scenario loads: VU groups ---- */

/* Scenario @i: request @i, then think @think_us if not 0, with its own
 * load when @ld is not NULL. */
static void
plan_scen(uint32_t i, uint32_t think_us, const struct sp_load *ld)
{
	steps[2 * i].kind = SP_STEP_REQUEST;
	steps[2 * i].req = i;
	steps[2 * i + 1].kind = SP_STEP_THINK;
	steps[2 * i + 1].think_min_us = steps[2 * i + 1].think_max_us =
		think_us;
	scens[i].name = i == 0 ? "a" : i == 1 ? "b" : "c";
	scens[i].weight = 1;
	scens[i].enabled = 1;
	scens[i].keep_alive = 1;
	scens[i].steps = &steps[2 * i];
	scens[i].nsteps = think_us ? 2 : 1;
	scens[i].load = ld;
	if (plan.nscenarios <= i)
		plan.nscenarios = i + 1;
	plan.nrequests = plan.nscenarios;
}

static struct sp_reqlog_rec log_recs[16384];
static struct sp_reqlog log_ring;

static void
log_reset(void)
{
	memset(&log_ring, 0, sizeof(log_ring));
	log_ring.recs = log_recs;
	log_ring.mask = 16383;
	run_reqlog = &log_ring;
}

/* What the log says of request @req: records, distinct VU numbers (the
 * lowest and highest), the earliest and latest intended start (µs from
 * the run's start). */
struct log_sum {
	uint64_t n, vus, vu_lo, vu_hi, t_lo, t_hi;
};

static struct log_sum
log_sum(uint16_t req)
{
	struct log_sum r = { 0, 0, UINT64_MAX, 0, UINT64_MAX, 0 };
	static uint8_t seen[256];

	memset(seen, 0, sizeof(seen));
	CHECK_EQ(log_ring.dropped, 0);
	for (uint64_t i = 0; i < log_ring.head; i++) {
		const struct sp_reqlog_rec *x = &log_recs[i & log_ring.mask];
		uint64_t t = x->intended - run_start;

		if (x->req != req)
			continue;
		r.n++;
		if (x->vu < 256 && !seen[x->vu]) {
			seen[x->vu] = 1;
			r.vus++;
		}
		r.vu_lo = x->vu < r.vu_lo ? x->vu : r.vu_lo;
		r.vu_hi = x->vu > r.vu_hi ? x->vu : r.vu_hi;
		r.t_lo = t < r.t_lo ? t : r.t_lo;
		r.t_hi = t > r.t_hi ? t : r.t_hi;
	}
	return r;
}

/*
 * Two scenarios with loads of their own and none shared: an open one at
 * 200/s for the whole 2 s, a closed one of 3 VUs from 0.5 s to 1.5 s.
 * Each runs its own figures exactly, the delayed one nothing before its
 * start, and their VUs' numbers are disjoint blocks (a's 20 first).
 */
static void
test_own_loads(void)
{
	const struct sp_vu_scen_stats *ss;
	const struct sp_vu_stats *s;
	struct log_sum a, b;

	plan_base(SP_MODEL_CLOSED);
	loads[0] = (struct sp_load){ .model = SP_MODEL_OPEN,
				     .rate = 200,
				     .max_vus = 20,
				     .duration_us = 2000000 };
	loads[1] = (struct sp_load){ .model = SP_MODEL_CLOSED,
				     .vus = 3,
				     .max_vus = 3,
				     .start_us = 500000,
				     .duration_us = 1000000 };
	plan_scen(0, 0, &loads[0]);
	plan_scen(1, 10000, &loads[1]);
	plan.duration_us = 2000000;
	srv_silent = 0;
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	log_reset();
	run_plan(0, 7); /* no shared load: no slots for it */
	run_reqlog = NULL;
	s = sp_vu_stats(eng);
	ss = sp_vu_scen_stats(eng);
	/* a: arrivals at 0, 5 ms, ... 1995 ms: exactly 400, all its own. */
	CHECK_EQ(ss[0].started, 400);
	CHECK_EQ(ss[0].dropped, 0);
	CHECK_EQ(s->arrivals, 400);
	a = log_sum(0);
	CHECK_EQ(a.n, 400);
	CHECK_GE(a.vu_lo, 1);
	CHECK_LE(a.vu_hi, 20);
	/* b: its 3 VUs (numbers 21-23) loop from 0.5 s to 1.5 s: ~10 ms an
	 * iteration, about 300, none started outside its window. */
	b = log_sum(1);
	CHECK_EQ(b.n, ss[1].started);
	CHECK_EQ(b.vus, 3);
	CHECK_EQ(b.vu_lo, 21);
	CHECK_EQ(b.vu_hi, 23);
	CHECK_GE(b.t_lo, 500000);
	CHECK_LT(b.t_hi, 1500000);
	CHECK_GE(ss[1].started, 240);
	CHECK_LE(ss[1].started, 303);
	CHECK_EQ(s->it_started, ss[0].started + ss[1].started);
	CHECK_EQ(s->responses, srv_requests);
	check_accounting(s);
	sp_vu_destroy(eng);
}

/*
 * A shared closed load of 4 VUs over a and b by weight (1:3) beside c,
 * which has its own open load of 100/s from 1 s to the end: c's arrivals
 * are exactly its own, none before its start, on VUs numbered after the
 * shared load's; a and b split the shared VUs' iterations by weight.
 */
static void
test_shared_and_own(void)
{
	const struct sp_vu_scen_stats *ss;
	const struct sp_vu_stats *s;
	struct log_sum a, b, c;

	plan_base(SP_MODEL_CLOSED);
	loads[2] = (struct sp_load){ .model = SP_MODEL_OPEN,
				     .rate = 100,
				     .max_vus = 10,
				     .start_us = 1000000,
				     .duration_us = 1000000 };
	plan_scen(0, 1000, NULL);
	plan_scen(1, 1000, NULL);
	plan_scen(2, 0, &loads[2]);
	scens[1].weight = 3;
	plan.vus = 4;
	plan.duration_us = 2000000;
	srv_silent = 0;
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	log_reset();
	run_plan(4, 9);
	run_reqlog = NULL;
	s = sp_vu_stats(eng);
	ss = sp_vu_scen_stats(eng);
	CHECK_EQ(ss[2].started, 100);
	CHECK_EQ(ss[2].dropped, 0);
	CHECK_EQ(s->arrivals, 100);
	c = log_sum(2);
	CHECK_EQ(c.n, 100);
	CHECK_GE(c.t_lo, 1000000);
	CHECK_GE(c.vu_lo, 5);
	CHECK_LE(c.vu_hi, 14);
	a = log_sum(0);
	b = log_sum(1);
	CHECK_GE(a.vu_lo, 1);
	CHECK_LE(a.vu_hi, 4);
	CHECK_GE(b.vu_lo, 1);
	CHECK_LE(b.vu_hi, 4);
	CHECK_LT(a.t_lo, 10000); /* the shared load starts at once */
	CHECK_GE(ss[0].started + ss[1].started, 2000);
	CHECK(fabs((double)ss[0].started /
			   (double)(ss[0].started + ss[1].started) -
		   0.25) < 0.03);
	CHECK_EQ(s->responses, srv_requests);
	check_accounting(s);
	sp_vu_destroy(eng);
}

/* Two engines of two cores: every VU number once, in blocks by group
 * (the shared load's, then each own load's in order). */
static void
test_group_numbers(void)
{
	static uint8_t seen[64];
	uint32_t count = 0;

	plan_base(SP_MODEL_CLOSED);
	loads[1] = (struct sp_load){ .model = SP_MODEL_CLOSED,
				     .vus = 5,
				     .max_vus = 5,
				     .duration_us = 1000000 };
	loads[2] = (struct sp_load){ .model = SP_MODEL_OPEN,
				     .rate = 1,
				     .max_vus = 2,
				     .duration_us = 1000000 };
	plan_scen(0, 0, NULL);
	plan_scen(1, 0, &loads[1]);
	plan_scen(2, 0, &loads[2]);
	plan.vus = 6;
	plan.duration_us = 1000000;
	memset(seen, 0, sizeof(seen));
	/* Per engine: 3 shared, ceil(5 / 2) = 3 and ceil(2 / 2) = 1. */
	CHECK_EQ(sp_vu_own_slots(&plan, 2), 4);
	for (uint32_t core = 0; core < 2; core++) {
		uint64_t now = 0;
		struct sp_vu_config vc = { .plan = &plan,
					   .now_us = &now,
					   .core = core,
					   .ncores = 2,
					   .max_vus = 3,
					   .seed = 1 };
		char err[128];
		struct sp_vu_engine *e = sp_vu_create(&vc, err, sizeof(err));

		CHECK(e != NULL);
		if (e == NULL)
			return;
		CHECK_EQ(e->ngroups, 3);
		CHECK_EQ(e->nvus, 7);
		for (uint32_t i = 0; i < e->nvus; i++) {
			const struct sp_vu *v = &e->vus[i];
			uint64_t k = sp_vu_number(e, v);
			static const uint64_t lo[] = { 1, 7, 13 },
					      hi[] = { 6, 12, 14 };

			CHECK_LT(k, 64);
			CHECK_EQ(seen[k % 64], 0);
			seen[k % 64] = 1;
			count++;
			CHECK_GE(k, lo[v->group]);
			CHECK_LE(k, hi[v->group]);
		}
		sp_vu_destroy(e);
	}
	CHECK_EQ(count, 14);
}

/* Shards of one run, with different core counts (shard 0 of 2 on one
 * core, shard 1 on three): their engines' lanes interleave, so the VU
 * slots' numbers are distinct and those up to the plan's 11 VUs are
 * exactly 1..11; only core 0 of each shard leads (setup, teardown). */
static void
test_shard_lanes(void)
{
	static uint8_t seen[64];
	static const uint32_t cores[2] = { 1, 3 };

	plan_base(SP_MODEL_CLOSED);
	plan_one(1000);
	plan.vus = 11;
	plan.duration_us = 1000000;
	memset(seen, 0, sizeof(seen));
	for (uint32_t sh = 0; sh < 2; sh++) {
		uint32_t lanes = 2 * cores[sh];

		for (uint32_t core = 0; core < cores[sh]; core++) {
			uint64_t now = 0;
			struct sp_vu_config vc = {
				.plan = &plan,
				.now_us = &now,
				.core = core,
				.ncores = cores[sh],
				.shard = sh,
				.nshards = 2,
				.max_vus = (11 + lanes - 1) / lanes,
				.seed = 1,
			};
			char err[128];
			struct sp_vu_engine *e =
				sp_vu_create(&vc, err, sizeof(err));

			CHECK(e != NULL);
			if (e == NULL)
				return;
			CHECK_EQ(e->core, sh + 2 * core);
			CHECK_EQ(e->ncores, lanes);
			CHECK_EQ(e->lead, core == 0);
			for (uint32_t i = 0; i < e->nvus; i++) {
				uint64_t k = sp_vu_number(e, &e->vus[i]);

				CHECK_LT(k, 64);
				CHECK_EQ(seen[k % 64], 0);
				seen[k % 64] = 1;
				/* Shard sh's numbers: sh + 1, sh + 3, ... */
				CHECK_EQ((k - 1) % 2, sh);
			}
			sp_vu_destroy(e);
		}
	}
	for (uint32_t k = 1; k <= 11; k++)
		CHECK_EQ(seen[k], 1);
}

/* ---- data rows and identity variables ---- */

static const char *const drow_cols[] = { "u" };
static const char *const drow_cells[] = { "r0", "r1", "r2", "r3",
					  "r4", "r5", "r6", "r7" };
static const uint32_t drow_len[] = { 2, 2, 2, 2, 2, 2, 2, 2 };
static struct sp_data drow;
/* "/{{vu}}/{{data.u}}" */
static struct sp_tpl_part drow_parts[] = {
	{ .var = SP_VAR_LITERAL, .off = 0, .len = 1 },
	{ .var = SP_VAR_VU },
	{ .var = SP_VAR_LITERAL, .off = 1, .len = 1 },
	{ .var = SP_VAR_DATA, .enc = SP_ENC_URL },
};

/* A closed plan of @vus VUs whose one request is GET /VU/ROW, the rows
 * of drow as @per, @order, @unique. */
static void
plan_drow(uint32_t vus, uint8_t per, uint8_t order, uint8_t unique)
{
	plan_base(SP_MODEL_CLOSED);
	plan_one(1000);
	plan.vus = vus;
	plan.duration_us = 300000;
	drow = (struct sp_data){ .ncols = 1,
				 .nrows = 8,
				 .cols = drow_cols,
				 .cells = drow_cells,
				 .cell_len = drow_len,
				 .max_cell_len = 2,
				 .per = per,
				 .order = order,
				 .unique = unique };
	plan.data = &drow;
	reqs[0].path = (struct sp_tpl){ "//", 2, drow_parts, 4, SP_TPL_PATH };
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
}

/* Request @i's VU number and row, from its target "/VU/rROW". */
static int
drow_seen(unsigned i, unsigned *vu, unsigned *row)
{
	return sscanf(srv_paths[i], "/%u/r%u", vu, row) == 2 ? 0 : -1;
}

/*
 * per vu: each VU keeps row (number - 1) mod rows for its life, its
 * number counted from vu_offset + 1 ({{vu}} with the offset, over HTTP).
 * unique: VUs past the rows never start (counted), each row is one VU's.
 */
static void
test_data_per_vu(void)
{
	const struct sp_vu_stats *s;
	unsigned vu, row, seen[8] = { 0 }, vus[16] = { 0 };

	plan_drow(3, SP_DATA_PER_VU, SP_DATA_SEQUENTIAL, 0);
	plan.vu_offset = 6;
	run_plan(3, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 30);
	CHECK_EQ(srv_npaths, srv_requests);
	for (unsigned i = 0; i < srv_npaths; i++) {
		CHECK_EQ(drow_seen(i, &vu, &row), 0);
		CHECK(vu >= 7 && vu <= 9);
		CHECK_EQ(row, (vu - 1) % 8);
	}
	CHECK_EQ(s->it_data_exhausted, 0);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* unique, 10 VUs for 8 rows: VUs 9 and 10 have none. */
	plan_drow(10, SP_DATA_PER_VU, SP_DATA_SEQUENTIAL, 1);
	run_plan(10, 1);
	s = sp_vu_stats(eng);
	CHECK_GE(s->responses, 80);
	for (unsigned i = 0; i < srv_npaths; i++) {
		CHECK_EQ(drow_seen(i, &vu, &row), 0);
		CHECK(vu >= 1 && vu <= 8);
		CHECK_EQ(row, vu - 1);
	}
	CHECK_EQ(s->it_data_exhausted, 2);
	check_accounting(s);
	sp_vu_destroy(eng);

	/* unique and random: still one VU per row, but not in order. */
	plan_drow(8, SP_DATA_PER_VU, SP_DATA_RANDOM, 1);
	run_plan(8, 5);
	s = sp_vu_stats(eng);
	for (unsigned i = 0; i < srv_npaths; i++) {
		CHECK_EQ(drow_seen(i, &vu, &row), 0);
		CHECK(vu >= 1 && vu <= 8 && row < 8);
		if (vus[vu] == 0) {
			vus[vu] = row + 1;
			seen[row]++;
		}
		CHECK_EQ(vus[vu], row + 1); /* the VU keeps its row */
	}
	row = 0;
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ(seen[i], 1);
		row += vus[i + 1] != i + 1;
	}
	CHECK_GT(row, 0); /* some VU's row is not its number's */
	CHECK_EQ(s->it_data_exhausted, 0);
	sp_vu_destroy(eng);
}

/*
 * per iteration, unique: 2 VUs, 8 rows, iterations for many more: each
 * row serves one iteration, then each VU starts no more (counted once
 * each) and nothing spins. Random order: a permutation of the seed.
 */
static void
test_data_unique_iter(void)
{
	const struct sp_vu_stats *s;
	unsigned vu, row, seen[8], order[2][8];

	for (int r = 0; r < 2; r++) {
		plan_drow(2, SP_DATA_PER_ITERATION,
			  r ? SP_DATA_RANDOM : SP_DATA_SEQUENTIAL, 1);
		run_plan(2, 3);
		s = sp_vu_stats(eng);
		memset(seen, 0, sizeof(seen));
		CHECK_EQ(s->it_started, 8);
		CHECK_EQ(s->it_completed, 8);
		CHECK_EQ(srv_requests, 8);
		CHECK_EQ(srv_npaths, 8);
		CHECK_EQ(s->it_data_exhausted, 2);
		for (unsigned i = 0; i < srv_npaths && i < 8; i++) {
			CHECK_EQ(drow_seen(i, &vu, &row), 0);
			CHECK(row < 8);
			seen[row % 8]++;
			order[r][i] = row;
		}
		for (unsigned i = 0; i < 8; i++)
			CHECK_EQ(seen[i], 1);
		check_accounting(s);
		sp_vu_destroy(eng);
	}
	/* Sequential came in order; the permutation did not. */
	row = 0;
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ(order[0][i], i);
		row += order[1][i] != i;
	}
	CHECK_GT(row, 0);
}

/* Random order, not unique: the rows are a function of the seed (the
 * same run twice draws the same), another seed draws others. */
static void
test_data_random_seed(void)
{
	static char first[2][64][64];
	unsigned n[3], vu, row, hits[8] = { 0 }, same = 1, other = 1;

	for (int r = 0; r < 3; r++) {
		plan_drow(1, SP_DATA_PER_ITERATION, SP_DATA_RANDOM, 0);
		run_plan(1, r < 2 ? 11 : 12);
		n[r] = srv_npaths < 64 ? srv_npaths : 64;
		CHECK_GE(n[r], 40);
		for (unsigned i = 0; i < n[r]; i++) {
			CHECK_EQ(drow_seen(i, &vu, &row), 0);
			hits[row % 8]++;
			if (r < 2)
				memcpy(first[r][i], srv_paths[i], 64);
			else if (i < n[0])
				other &= strcmp(first[0][i], srv_paths[i]) == 0;
		}
		CHECK_EQ(sp_vu_stats(eng)->it_data_exhausted, 0);
		sp_vu_destroy(eng);
	}
	for (unsigned i = 0; i < n[0] && i < n[1]; i++)
		same &= strcmp(first[0][i], first[1][i]) == 0;
	CHECK(same);
	CHECK(!other);
	/* Drawn over the whole file: 192 draws, every row hit. */
	for (unsigned i = 0; i < 8; i++)
		CHECK_GT(hits[i], 0);
}

static int
is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* {{uuid}}: RFC 4122 text, version 4, variant 10; {{random_string N}}:
 * N of [A-Za-z0-9]; both drawn from the render's seed (the same seed,
 * the same text: a render can be repeated), both the same under every
 * filter; the bounds know their lengths. */
static void
test_identity_render(void)
{
	static uint8_t body[SP_VU_REQ_MAX];
	struct sp_tpl_part parts[] = {
		{ .var = SP_VAR_UUID },
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 1 },
		{ .var = SP_VAR_RANDOM_STRING, .lo = 200 },
	};
	struct sp_tpl t = { " ", 1, parts, 3, SP_TPL_PATH };
	struct sp_vu_render rd = { .pl = &plan, .body_scratch = body };
	char out[3][300];
	uint32_t n[3];

	plan_base(SP_MODEL_CLOSED);
	CHECK_EQ(sp_vu_tpl_max(&plan, &t), 36 + 1 + 200);
	for (int k = 0; k < 3; k++) {
		parts[0].enc = parts[2].enc = (uint8_t)(k == 2 ? SP_ENC_JSON :
							SP_ENC_URL);
		rd.seed = k == 1 ? 3 : 1;
		n[k] = sp_vu_render_tpl(&rd, &t, (uint8_t *)out[k]);
		out[k][n[k]] = '\0';
		CHECK_EQ(n[k], 36 + 1 + 200);
		for (int i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				CHECK_EQ(out[k][i], '-');
			else
				CHECK(is_hex_lower(out[k][i]));
		}
		CHECK_EQ(out[k][14], '4');
		CHECK(strchr("89ab", out[k][19]) != NULL);
		CHECK_EQ(out[k][36], ' ');
		for (int i = 37; i < 237; i++)
			CHECK((out[k][i] >= 'A' && out[k][i] <= 'Z') ||
			      (out[k][i] >= 'a' && out[k][i] <= 'z') ||
			      (out[k][i] >= '0' && out[k][i] <= '9'));
	}
	/* Another seed, other values; the same seed (another filter), the
	 * same. */
	CHECK(memcmp(out[0], out[1], 36) != 0);
	CHECK(memcmp(out[0] + 37, out[1] + 37, 200) != 0);
	CHECK(strcmp(out[0], out[2]) == 0);
}

/* Through the engine: every request a fresh uuid, and {{time_ms}} the
 * wall clock of the run (between the clock read before and after). */
static void
test_identity_run(void)
{
	struct sp_tpl_part parts[] = {
		{ .var = SP_VAR_LITERAL, .off = 0, .len = 1 },
		{ .var = SP_VAR_UUID },
		{ .var = SP_VAR_LITERAL, .off = 1, .len = 1 },
		{ .var = SP_VAR_TIME_MS },
	};
	struct timespec t0, t1;
	unsigned long long ms, lo, hi;
	char uuid[40];
	unsigned dup = 0;

	plan_base(SP_MODEL_CLOSED);
	plan_one(1000);
	plan.vus = 2;
	plan.duration_us = 100000;
	reqs[0].path = (struct sp_tpl){ "//", 2, parts, 4, SP_TPL_PATH };
	srv_response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	clock_gettime(CLOCK_REALTIME, &t0);
	run_plan(2, 9);
	clock_gettime(CLOCK_REALTIME, &t1);
	lo = (unsigned long long)t0.tv_sec * 1000 +
	     (unsigned long long)t0.tv_nsec / 1000000;
	/* The run's own clock is simulated: it may run ahead of the wall
	 * clock by at most its length (and the drain after). */
	hi = (unsigned long long)t1.tv_sec * 1000 +
	     (unsigned long long)t1.tv_nsec / 1000000 + 100 + 10000;
	CHECK_GE(srv_npaths, 20);
	for (unsigned i = 0; i < srv_npaths; i++) {
		CHECK_EQ(sscanf(srv_paths[i], "/%36[0-9a-f-]/%llu", uuid, &ms),
			 2);
		CHECK_EQ(strlen(uuid), 36);
		CHECK(ms >= lo && ms <= hi);
		for (unsigned j = 0; j < i; j++)
			dup += strncmp(srv_paths[i], srv_paths[j], 37) == 0;
	}
	CHECK_EQ(dup, 0);
	check_accounting(sp_vu_stats(eng));
	sp_vu_destroy(eng);
}

int
main(int argc, char **argv)
{
	static const struct sp_h_test tests[] = {
		{ "schedule_math", test_schedule_math },
		{ "closed_keepalive", test_closed_keepalive },
		{ "open_rate", test_open_rate },
		{ "silent_server", test_silent_server },
		{ "hostile_responses", test_hostile_responses },
		{ "lenient_closes", test_lenient_closes },
		{ "weights", test_weights },
		{ "expect_status", test_expect_status },
		{ "filters_render", test_filters_render },
		{ "host_ua", test_host_ua },
		{ "build_bytes", test_build_bytes },
		{ "own_loads", test_own_loads },
		{ "shared_and_own", test_shared_and_own },
		{ "group_numbers", test_group_numbers },
		{ "shard_lanes", test_shard_lanes },
		{ "data_per_vu", test_data_per_vu },
		{ "data_unique_iter", test_data_unique_iter },
		{ "data_random_seed", test_data_random_seed },
		{ "identity_render", test_identity_render },
		{ "identity_run", test_identity_run },
	};

	return sp_h_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
