/*
 * libFuzzer target for the virtual-user engine's response path: everything
 * lib/proto/vu.c does with bytes from the network (on_recv, on_peer_fin,
 * on_closed, the header and body checks, the parser in lib/proto/http1.c).
 *
 * The engine runs a small closed-model plan (2 VUs; a GET with checks on
 * status, a header, body_contains and body_size, a think, a HEAD) on a
 * client stack against a scripted server on a second stack, over the
 * harness's wire and fake clock. The server answers each request it reads
 * with the next response taken from the input; once the input is used up
 * it goes silent, and the short response timeout resolves what is left.
 *
 * Input: byte 0 holds plan options (bit 0: keep-alive, bits 1-2:
 * max_requests_per_connection 0..3, bits 3-4: think time, bit 5: check
 * the HEAD's body size, bits 6-7: run length). The rest is split into
 * responses at "\n--\n". Each response is a control byte, a piece byte,
 * then the bytes the server sends:
 *   control bits 0-1  after the response: 1 FIN, 2 RST, else nothing
 *   control bits 2-3  0: one send; 1: pieces, all at once; 2, 3: one
 *                     piece per millisecond
 *   control bits 5-7  delay before the first byte (0 to 250 ms)
 *   piece byte        pieces of 1 .. piece (0: 1) bytes, drawn from it
 *
 * Oracles: AddressSanitizer/UBSan, the harness's stack invariants, the
 * run ends in bounded fake time, and after it every request and iteration
 * is accounted for exactly, no VU is active, no connection open, and both
 * stacks' pools are back to zero (sp_h_net_finish).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sp_stream_tcp.h"
#include "sp_vu.h"
#include "vu_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n--\n"
#define SEP_LEN 4u
#define SRV_CONNS 256u
#define SRV_QUEUE 8u

/* ---- the plan --------------------------------------------------------- */

static struct sp_tpl_part lit_parts[8];
static unsigned nlit;

static struct sp_tpl
lit(const char *s)
{
	return sp_t_lit(lit_parts, &nlit, s);
}

static struct sp_request reqs[2];
/* Captures and the cookie jar read what the fuzzed server sends: a
 * header, a regex over the body, a JSON path, a cookie. They go on
 * (capture_continue) so the second request still runs. */
static const char *const var_names[] = { "h", "b", "j", "c" };
static const struct sp_capture caps[] = {
	{ .kind = SP_CAP_HEADER, .var = 0, .name = "x-test",
	  .regex = "^([a-z]+)" },
	{ .kind = SP_CAP_BODY, .var = 1, .regex = "w(or)ld" },
	{ .kind = SP_CAP_JSON, .var = 2, .name = "$.a[1].b" },
	{ .kind = SP_CAP_COOKIE, .var = 3, .name = "sid" },
};
static struct sp_step steps[3];
static struct sp_scenario scen;
static struct sp_plan plan;

static void
plan_build(uint8_t opt)
{
	static const uint32_t kmp_world[] = { 0, 0, 0, 0, 0 };
	static const uint64_t think_us[] = { 0, 1000, 5000, 30000 };
	static const uint64_t dur_us[] = { 50000, 100000, 200000, 400000 };

	memset(&plan, 0, sizeof(plan));
	memset(reqs, 0, sizeof(reqs));
	memset(steps, 0, sizeof(steps));
	memset(&scen, 0, sizeof(scen));
	nlit = 0;
	plan.dst_ip = SP_H_IP_SERVER;
	plan.dst_port = 80;
	plan.host = "198.18.0.2";
	plan.model = SP_MODEL_CLOSED;
	plan.vus = 2;
	plan.duration_us = dur_us[opt >> 6];
	plan.response_timeout_us = 200000;
	plan.requests = reqs;
	plan.nrequests = 2;
	plan.scenarios = &scen;
	plan.nscenarios = 1;

	reqs[0].name = "get";
	reqs[0].method = SP_METHOD_GET;
	reqs[0].path = lit("/a");
	reqs[0].headers = lit("Accept: */*\r\n");
	reqs[0].check.has_status = 1;
	reqs[0].check.status_set[200 / 64] |= 1ull << (200 % 64);
	reqs[0].check.header = "X-Test";
	reqs[0].check.header_len = 6;
	reqs[0].check.body_contains = "world";
	reqs[0].check.body_contains_len = 5;
	reqs[0].check.body_contains_kmp = kmp_world;
	reqs[0].check.body_size = 11;
	reqs[0].captures = caps;
	reqs[0].ncaptures = sizeof(caps) / sizeof(caps[0]);
	reqs[0].capture_continue = 1;
	plan.vars = var_names;
	plan.nvars = 4;
	plan.var_max = 32;
	plan.capture_window = 1024;
	plan.jar_bytes = 256;

	reqs[1].name = "head";
	reqs[1].method = SP_METHOD_HEAD;
	reqs[1].path = lit("/b");
	reqs[1].headers = lit("");
	reqs[1].check.has_status = 1;
	reqs[1].check.status_set[200 / 64] |= 1ull << (200 % 64);
	reqs[1].check.status_set[204 / 64] |= 1ull << (204 % 64);
	reqs[1].check.body_size = (opt & 0x20) ? 0 : -1;
	for (int i = 0; i < 2; i++)
		sp_status_set_range(reqs[i].expect_set, SP_EXPECT_DEFAULT_LO,
				    SP_EXPECT_DEFAULT_HI);

	steps[0].kind = SP_STEP_REQUEST;
	steps[0].req = 0;
	steps[1].kind = SP_STEP_THINK;
	steps[1].think_min_us = think_us[(opt >> 3) & 3];
	steps[1].think_max_us = steps[1].think_min_us * 2;
	steps[2].kind = SP_STEP_REQUEST;
	steps[2].req = 1;
	scen.name = "s";
	scen.weight = 1;
	scen.enabled = 1;
	scen.keep_alive = opt & 1;
	scen.max_requests_per_conn = (opt >> 1) & 3;
	scen.steps = steps;
	scen.nsteps = 3;
}

/* ---- the scripted server ---------------------------------------------- */

/* A response waiting to be sent on a server connection. */
struct pend {
	const uint8_t *p;
	uint32_t len, off;
	uint32_t rng;
	uint8_t ctl, piece;
	uint64_t start;
};

struct srv_conn {
	struct sp_conn *c; /* NULL once closed, aborted or let go */
	uint32_t match;    /* "\r\n\r\n" matched so far */
	struct pend q[SRV_QUEUE];
	uint32_t qh, qn;
};

static struct srv_conn srv_conns[SRV_CONNS];
static uint32_t srv_nconns;
static uint64_t srv_requests;
static const uint8_t *in_p; /* responses not handed out yet */
static size_t in_left;
static struct sp_h_net net;

static uint32_t
xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint64_t
delay_us(uint8_t ctl)
{
	static const uint32_t ms[8] = { 0, 0, 0, 1, 3, 20, 100, 250 };

	return (uint64_t)ms[ctl >> 5] * 1000;
}

/* The next response of the input, or false once it ran out. */
static bool
next_response(struct pend *r)
{
	const uint8_t *end;
	size_t n;

	if (in_p == NULL)
		return false;
	end = memmem(in_p, in_left, SEP, SEP_LEN);
	n = end != NULL ? (size_t)(end - in_p) : in_left;
	memset(r, 0, sizeof(*r));
	r->ctl = n > 0 ? in_p[0] : 0;
	r->piece = n > 1 ? in_p[1] : 0;
	r->p = in_p + (n > 2 ? 2 : n);
	r->len = (uint32_t)(n > 2 ? n - 2 : 0);
	r->rng = 0x9e3779b9u ^ ((uint32_t)r->piece << 8 | r->ctl);
	if (end != NULL) {
		in_left -= n + SEP_LEN;
		in_p = end + SEP_LEN;
	} else {
		in_p = NULL;
		in_left = 0;
	}
	return true;
}

/* Send what is due on @s; may close or abort the connection. */
static void
srv_push(struct sp_stack *st, struct srv_conn *s)
{
	while (s->c != NULL && s->qn > 0) {
		struct pend *r = &s->q[s->qh];
		uint32_t mode = (r->ctl >> 2) & 3;
		int sent_one = 0;

		if (net.now < r->start)
			return;
		while (r->off < r->len) {
			uint32_t n = r->len - r->off,
				 pmax = r->piece ? r->piece : 1;
			int32_t k;

			if (mode != 0 && n > 1 + xs(&r->rng) % pmax)
				n = 1 + r->rng % pmax;
			if (mode >= 2 && sent_one)
				return; /* one piece per tick */
			k = sp_tcp_send(st, s->c, r->p + r->off, n);
			if (k < 0) {
				s->qn = 0; /* cannot send any more */
				return;
			}
			r->off += (uint32_t)k;
			if ((uint32_t)k < n)
				return; /* send buffer full: on sent() */
			sent_one = 1;
		}
		/* The whole response is queued. */
		s->qh = (s->qh + 1) % SRV_QUEUE;
		s->qn--;
		if ((r->ctl & 3) == 1) {
			s->qn = 0;
			sp_tcp_close(st, s->c);
			return;
		}
		if ((r->ctl & 3) == 2) {
			struct sp_conn *c = s->c;

			s->qn = 0;
			s->c = NULL;
			sp_conn_set_user(c, NULL);
			sp_tcp_abort(st, c);
			return;
		}
		if (s->qn > 0)
			s->q[s->qh].start = net.now + delay_us(s->q[s->qh].ctl);
	}
}

static void
srv_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct srv_conn *s;

	(void)st;
	(void)app;
	if (srv_nconns == SRV_CONNS) {
		sp_conn_set_user(c, NULL); /* reads nothing, answers nothing */
		return;
	}
	s = &srv_conns[srv_nconns++];
	memset(s, 0, sizeof(*s));
	s->c = c;
	sp_conn_set_user(c, s);
}

static void
srv_recv(struct sp_stack *st, struct sp_conn *c, void *app, const uint8_t *data,
	 uint32_t len)
{
	static const char end[] = "\r\n\r\n";
	struct srv_conn *s = sp_conn_user(c);

	(void)app;
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < len && s->c != NULL; i++) {
		struct pend r;

		s->match = data[i] == (uint8_t)end[s->match] ? s->match + 1 :
			   data[i] == '\r'                   ? 1 :
							       0;
		if (s->match < 4)
			continue;
		s->match = 0;
		srv_requests++;
		if (!next_response(&r) || s->qn == SRV_QUEUE)
			continue;
		if (s->qn == 0)
			r.start = net.now + delay_us(r.ctl);
		s->q[(s->qh + s->qn++) % SRV_QUEUE] = r;
		srv_push(st, s);
	}
}

static void
srv_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct srv_conn *s = sp_conn_user(c);

	(void)app;
	if (s != NULL)
		srv_push(st, s);
}

static void
srv_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct srv_conn *s = sp_conn_user(c);

	(void)app;
	if (s != NULL) {
		s->qn = 0;
		if (s->c == NULL)
			return; /* closed already */
	}
	sp_tcp_close(st, c);
}

static void
srv_closed(struct sp_stack *st, struct sp_conn *c, void *app,
	   enum sp_close_reason why)
{
	struct srv_conn *s = sp_conn_user(c);

	(void)st;
	(void)app;
	(void)why;
	if (s != NULL) {
		s->c = NULL;
		s->qn = 0;
	}
}

static const struct sp_tcp_ops srv_ops = {
	.connected = srv_connected,
	.recv = srv_recv,
	.sent = srv_sent,
	.peer_fin = srv_peer_fin,
	.closed = srv_closed,
};

/* ---- the run ---------------------------------------------------------- */

static struct sp_vu_engine *eng;
static struct sp_stream_tcp eng_tcp; /* the engine's stream */
static int eng_done;

static bool
eng_step(struct sp_h_net *n, void *arg)
{
	(void)arg;
	/* The server's timed pieces, once per millisecond. */
	for (uint32_t i = 0; i < srv_nconns; i++)
		srv_push(n->node[1].st, &srv_conns[i]);
	if (!eng_done)
		eng_done = sp_vu_step(eng, n->now);
	return eng_done && sp_stack_conns_in_use(n->node[0].st) == 0;
}

static bool
all_closed(struct sp_h_net *n, void *arg)
{
	(void)arg;
	return sp_stack_conns_in_use(n->node[0].st) == 0 &&
	       sp_stack_conns_in_use(n->node[1].st) == 0;
}

#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_vu: %s:%d: %s\n", __FILE__,      \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static void
check_accounting(void)
{
	const struct sp_vu_stats *s = sp_vu_stats(eng);
	const struct sp_vu_req_stats *rs = sp_vu_req_stats(eng);
	uint64_t started = 0, responses = 0, failed = 0, checks = 0;
	uint64_t interrupted = 0, errs = 0, codes = 0;

	/* A failed check, an unexpected status or a failed capture fail requests
	 * that had a response: counted in both. */
	EXPECT(s->requests == s->responses + s->failed -
				      sp_vu_failed_responses(s) +
				      s->interrupted);
	EXPECT(sp_vu_failed_responses(s) <= s->responses);
	EXPECT(s->it_started ==
	       s->it_completed + s->it_failed + s->it_interrupted);
	EXPECT(s->vus_active == 0);
	EXPECT(s->conns_open == 0);
	EXPECT(s->latency.count == s->responses);
	for (uint32_t i = 0; i < plan.nrequests; i++) {
		started += rs[i].started;
		responses += rs[i].responses;
		failed += rs[i].failed;
		checks += rs[i].check_failed;
		interrupted += rs[i].interrupted;
		EXPECT(rs[i].latency.count == rs[i].responses);
	}
	EXPECT(started == s->requests);
	EXPECT(responses == s->responses);
	EXPECT(failed == s->failed);
	EXPECT(checks == s->err[SP_VU_E_CHECK]);
	EXPECT(interrupted == s->interrupted);
	/* Every failure has exactly one kind; unsolicited bytes fail none. */
	for (int k = 0; k < SP_VU_E_N; k++)
		if (k != SP_VU_E_UNSOLICITED)
			errs += s->err[k];
	EXPECT(errs == s->failed);
	for (int i = 0; i < SP_PLAN_MAX_STATUS; i++)
		codes += s->codes[i];
	EXPECT(codes == s->responses);
	/* The server answers only what the engine sent. */
	EXPECT(srv_requests <= s->requests);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &net.now,
		.max_vus = 2,
		.seed = 7,
	};
	unsigned long failures = sp_h_failures;
	char err[128];

	if (size < 1)
		return 0;
	plan_build(data[0]);
	in_p = data + 1;
	in_left = size - 1;
	srv_nconns = 0;
	srv_requests = 0;
	eng_done = 0;
	eng = sp_vu_create(&vc, err, sizeof(err));
	if (eng == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		abort();
	}
	sp_h_net_init(&net, 2, 64);
	/* The stack has its own fuzzer (fuzz_stack): walking both stacks
	 * after every exchange would double the cost of a run here, so only
	 * sp_h_net_finish checks them, at the end. */
	net.check_invariants = false;
	sp_stream_tcp_init(&eng_tcp, sp_vu_stream_cbs(), eng);
	net.node[0].ops = sp_stream_tcp_stack_ops();
	net.node[0].app = &eng_tcp;
	net.node[1].ops = &srv_ops;
	/* Small pools and port range: set up in microseconds, and what a
	 * few hundred requests need. TIME_WAIT short, so the run ends soon
	 * after the last connection closes. */
	for (int i = 0; i < 2; i++) {
		struct sp_stack_config *cfg = &net.node[i].cfg;

		cfg->chunks = 48;
		cfg->sndbuf = 8 * 1024;
		cfg->rcvwnd = 8 * 1024;
		cfg->port_min = 40000;
		cfg->port_max = 40255;
		cfg->time_wait_us = 1000;
	}
	sp_h_net_start(&net, 1000000);
	EXPECT(sp_tcp_listen(net.node[1].st, 80) == 0);
	sp_h_resolve(&net);
	sp_stream_tcp_attach(&eng_tcp, net.node[0].st);
	sp_vu_set_stream(eng, &sp_stream_tcp_ops, &eng_tcp);
	sp_vu_start(eng, net.now);
	/* The schedule, then at most the grace period: a run that does not
	 * end there hangs. */
	EXPECT(sp_h_run(&net, eng_step, NULL,
			plan.duration_us + 3500ull * 1000));
	check_accounting();
	/* Both sides close within a few RTOs; then the pools must be empty. */
	EXPECT(sp_h_run(&net, all_closed, NULL, 5000ull * 1000));
	net.finish_us = 1000;
	sp_h_net_finish(&net);
	EXPECT(sp_h_failures == failures);
	sp_vu_destroy(eng);
	eng = NULL;
	return 0;
}
