/*
 * HTTP/1.1 virtual users: the scenario interpreter that runs on one core's
 * stream (sp_stream.h; the TCP stack behind it, see sp_vu.h for the model).
 *
 * Each VU is a small state machine driven by three kinds of events: stream
 * callbacks on its connection (connected, bytes, FIN, closed), its one
 * timer (think time, response timeout or a connect retry: a VU never needs
 * two at once), and the schedule (a closed-model ramp starts it, an
 * open-model arrival hands it an iteration). Timers live in a binary heap
 * of VU indices sized at creation, so nothing allocates while the load runs.
 *
 * Requests whose templates have no variables are built once at creation;
 * the others are rendered into a scratch buffer when sent. A render is a
 * pure function of the VU, its iteration, its data row and a per-request
 * random seed, so a request that did not fit the send buffer is rendered
 * again, identically, when space frees up; no per-VU request buffer exists.
 *
 * Latency runs from a request's intended start (the open-model arrival, or
 * the end of the think time before it) to its last response byte: a late
 * start caused by a slow server is part of the latency, not hidden by it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_http1.h"
#include "sp_vu.h"
#include "vu_rand.h"
#include "vu_render.h"
#include "vu_sched.h"

#define SP_VU_NONE UINT32_MAX
#define SP_VU_RETRY_US 1000          /* connect retry when our pool is short */
#define SP_VU_OPENS_PER_STEP 256     /* new iterations per loop iteration */
/* After the end of the schedule (or a stop), requests in flight get this
 * long to finish, within their response timeout: a run that ends with a
 * clean cut counts what the server did answer. */
#define SP_VU_GRACE_US (3ull * 1000 * 1000)

enum sp_vu_state {
	SP_VU_IDLE = 0,   /* no iteration */
	SP_VU_RUN,        /* between steps (transient) */
	SP_VU_CONNECT,    /* waiting for the connection of its request */
	SP_VU_REQUEST,    /* request queued (maybe partly), reading response */
	SP_VU_THINK,      /* timer */
	SP_VU_RETRY,      /* timer: connect again */
};

struct sp_vu {
	struct sp_stream *c;
	struct sp_http1_resp resp;
	/* The current request's check: the body callback's (its context is
	 * the VU). */
	const struct sp_check *ck;
	uint64_t t_intended;   /* when the current request should start */
	uint64_t t_iter;       /* when the iteration should have started */
	uint64_t t_phase;      /* SYN sent (connecting), or request queued */
	uint64_t t_sent;       /* the request's first frame queued */
	uint64_t deadline;     /* the timer, when heap_pos != NONE */
	uint64_t req_seed;     /* {{random}} draws of the current request */
	uint32_t idx;          /* 0-based within the engine */
	uint32_t heap_pos;
	uint32_t next_free;    /* open model: free list */
	uint32_t iter;         /* {{iteration}} */
	uint32_t row;          /* data row of the iteration */
	uint32_t scen, step;
	uint32_t req_len, req_sent;
	uint32_t conn_reqs;    /* responses on the current connection */
	uint32_t kmp;          /* body_contains matched so far */
	uint32_t loops[SP_PLAN_MAX_LOOP_DEPTH];
	uint16_t hdr_match;    /* "\nName:" matched so far */
	uint8_t state;
	uint8_t hdr_found;
	uint8_t it_failed;
	uint8_t lost_conn;     /* the server closed our keep-alive connection */
	uint8_t got_first;     /* a byte of the current response arrived */
	uint8_t sent_first;    /* the current request's first frame: 0 not
				* queued, 1 queued, 2 handed to the port
				* (t_sent) */
	uint8_t in_lagq;       /* in the engine's lagq */
	uint8_t new_conn;      /* the current request opened its connection */
};

struct sp_vu_engine {
	const struct sp_plan *pl;
	const uint64_t *now;
	int flush_stamps;
	/* VUs whose request's first frame is queued and not yet handed to
	 * the port (sp_vu_flushed): each at most once (in_lagq). */
	uint32_t *lagq;
	uint32_t nlagq;
	struct sp_reqlog *reqlog;
	/* The stream connections go over (sp_vu_set_stream). */
	const struct sp_stream_ops *so;
	void *simpl;
	/* The last response head seen whole, shared by this core's VUs:
	 * the same head again is not parsed again. */
	struct sp_http1_memo memo;
	uint32_t nvus, core, ncores;
	struct sp_vu *vus;
	uint32_t *heap;
	uint32_t nheap;
	uint32_t free_head;     /* open model: idle VUs */
	uint64_t rng;
	uint64_t start_us;
	int running;            /* the schedule is on: start new work */
	int stopping;           /* finishing what is in flight */
	uint64_t stop_us;       /* when it stopped starting work */
	uint64_t grace_end;

	/* The schedule, stages or one constant stage. */
	struct sp_vu_sched *sched;
	/* Closed model: VUs started up to here. */
	uint32_t target;
	/* Open model: the next arrival, and the walk over the stages. */
	uint64_t arrivals;
	struct sp_vu_arrivals arr;
	uint64_t next_arrival;   /* µs since start; UINT64_MAX: none left */

	/* Enabled scenarios and their cumulative weights. */
	uint32_t *pick_scen;
	uint64_t *pick_cum;
	uint32_t npick;
	uint64_t pick_total;

	/* Prebuilt requests (static templates), else NULL. */
	uint8_t **prebuilt;
	uint32_t *prebuilt_len;
	/* The same with "Connection: close", for the last request on a
	 * connection under max_requests_per_connection. */
	uint8_t **prebuilt_close;
	uint32_t *prebuilt_close_len;
	uint8_t *scratch;
	uint8_t *body_scratch;
	uint32_t data_row;       /* next data row */

	struct sp_vu_stats s;
	struct sp_vu_req_stats *rs;
	struct sp_vu_scen_stats *ss;
};

static const char *const sp_vu_err_names[SP_VU_E_N] = {
	[SP_VU_E_REFUSED] = "refused",
	[SP_VU_E_CONNECT_TIMEOUT] = "connect_timeout",
	[SP_VU_E_RESET] = "reset",
	[SP_VU_E_TCP_TIMEOUT] = "tcp_timeout",
	[SP_VU_E_CLOSED] = "closed",
	[SP_VU_E_RESPONSE_TIMEOUT] = "response_timeout",
	[SP_VU_E_BAD_STATUS] = "bad_status",
	[SP_VU_E_BAD_HEADER] = "bad_header",
	[SP_VU_E_HEADER_TOO_BIG] = "header_too_big",
	[SP_VU_E_BAD_CHUNK] = "bad_chunk",
	[SP_VU_E_BAD_LENGTH] = "bad_length",
	[SP_VU_E_BAD_VERSION] = "bad_version",
	[SP_VU_E_TRUNCATED] = "truncated",
	[SP_VU_E_UNSOLICITED] = "unsolicited",
	[SP_VU_E_UPGRADE] = "unexpected_upgrade",
	[SP_VU_E_CHECK] = "check_failed",
	[SP_VU_E_HTTP_STATUS] = "http_status",
	[SP_VU_E_UNSAFE_VALUE] = "unsafe_value",
};

const char *
sp_vu_err_name(enum sp_vu_err k)
{
	return (unsigned)k < SP_VU_E_N ? sp_vu_err_names[k] : "?";
}

/* ---- the timer heap: one entry per VU at most ---- */

static inline int
sp_vu_heap_less(const struct sp_vu_engine *e, uint32_t a, uint32_t b)
{
	return e->vus[e->heap[a]].deadline < e->vus[e->heap[b]].deadline;
}

static inline void
sp_vu_heap_swap(struct sp_vu_engine *e, uint32_t a, uint32_t b)
{
	uint32_t t = e->heap[a];

	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	e->vus[e->heap[a]].heap_pos = a;
	e->vus[e->heap[b]].heap_pos = b;
}

static void
sp_vu_heap_up(struct sp_vu_engine *e, uint32_t i)
{
	while (i > 0 && sp_vu_heap_less(e, i, (i - 1) / 2)) {
		sp_vu_heap_swap(e, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
sp_vu_heap_down(struct sp_vu_engine *e, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < e->nheap && sp_vu_heap_less(e, l, m))
			m = l;
		if (r < e->nheap && sp_vu_heap_less(e, r, m))
			m = r;
		if (m == i)
			return;
		sp_vu_heap_swap(e, i, m);
		i = m;
	}
}

static void
sp_vu_timer_cancel(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint32_t i = v->heap_pos;

	if (i == SP_VU_NONE)
		return;
	v->heap_pos = SP_VU_NONE;
	e->nheap--;
	if (i == e->nheap)
		return;
	e->heap[i] = e->heap[e->nheap];
	e->vus[e->heap[i]].heap_pos = i;
	sp_vu_heap_down(e, i);
	sp_vu_heap_up(e, i);
}

static void
sp_vu_timer_set(struct sp_vu_engine *e, struct sp_vu *v, uint64_t deadline)
{
	sp_vu_timer_cancel(e, v);
	v->deadline = deadline;
	v->heap_pos = e->nheap;
	e->heap[e->nheap++] = v->idx;
	sp_vu_heap_up(e, v->heap_pos);
}

/* ---- per-request bookkeeping ---- */

static inline const struct sp_scenario *
sp_vu_scen(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &e->pl->scenarios[v->scen];
}

static inline const struct sp_request *
sp_vu_req(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &e->pl->requests[sp_vu_scen(e, v)->steps[v->step].req];
}

static inline uint32_t
sp_vu_req_idx(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return sp_vu_scen(e, v)->steps[v->step].req;
}

static void sp_vu_advance(struct sp_vu_engine *e, struct sp_vu *v);

enum { SP_VU_GRACEFUL, SP_VU_RESET, SP_VU_AFTER_SERVER };

/* Let go of the VU's connection: gracefully when no request is in flight
 * on it, else with a RST (the response can no longer be told apart). After
 * a response that ends the connection (Connection: close either way), the
 * server closes first and holds the TIME_WAIT, as RFC 9112 9.6 has it, so
 * our (address, port) pair is free at once: one source address then opens
 * far more than the 64k connections a second our own TIME_WAIT allows. */
static void
sp_vu_drop_conn(struct sp_vu_engine *e, struct sp_vu *v, int how)
{
	struct sp_stream *c = v->c;

	if (c == NULL)
		return;
	v->c = NULL;
	v->conn_reqs = 0;
	/* closed() must not find the VU: it may run inside the abort. */
	e->so->set_user(e->simpl, c, NULL);
	if (how == SP_VU_RESET ||
	    (how == SP_VU_AFTER_SERVER ? e->so->close_after_peer(e->simpl, c) :
					 e->so->close(e->simpl, c)) < 0)
		e->so->abort(e->simpl, c);
}

/* --log-requests: the request ended (@err: its failure's kind + 1, or 0). */
static void
sp_vu_log(struct sp_vu_engine *e, const struct sp_vu *v, int status,
	  unsigned err)
{
	struct sp_reqlog_rec r;

	if (e->reqlog == NULL)
		return;
	r.intended = v->t_intended;
	r.sent = v->sent_first == 2 ? v->t_sent : 0;
	r.done = *e->now;
	r.vu = v->idx * e->ncores + e->core + 1;
	r.iter = v->iter;
	r.req = (uint16_t)sp_vu_req_idx(e, v);
	r.status = status > 0 && status <= UINT16_MAX ? (uint16_t)status : 0;
	r.err = (uint8_t)err;
	r.new_conn = v->new_conn;
	r.pad[0] = r.pad[1] = 0;
	sp_reqlog_push(e->reqlog, &r);
}

static void
sp_vu_fail(struct sp_vu_engine *e, struct sp_vu *v, enum sp_vu_err k)
{
	uint32_t ri = sp_vu_req_idx(e, v);

	e->s.failed++;
	e->s.err[k]++;
	e->rs[ri].failed++;
	v->it_failed = 1;
}

/* The request failed without a complete response. The iteration fails
 * but goes on, as in k6 and Locust: its think times still pace the VU, so
 * a failing server is not hammered faster than a healthy one. */
static void
sp_vu_req_error(struct sp_vu_engine *e, struct sp_vu *v, enum sp_vu_err k,
		int reset)
{
	sp_vu_timer_cancel(e, v);
	sp_vu_fail(e, v, k);
	sp_vu_log(e, v, 0, (unsigned)k + 1);
	sp_vu_drop_conn(e, v, reset ? SP_VU_RESET : SP_VU_GRACEFUL);
	v->t_intended = *e->now;
	v->step++;
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
}

static int
sp_status_in(const uint64_t *set, int status)
{
	return status >= 0 && status < SP_PLAN_MAX_STATUS &&
	       (set[status / 64] >> (status % 64)) & 1;
}

/* A complete response. @extra: bytes followed it that no request asked
 * for, so the connection's framing is lost and it is reset. */
static void
sp_vu_req_done(struct sp_vu_engine *e, struct sp_vu *v, int extra)
{
	const struct sp_request *rq = sp_vu_req(e, v);
	const struct sp_check *ck = &rq->check;
	struct sp_vu_req_stats *r = &e->rs[sp_vu_req_idx(e, v)];
	uint64_t now = *e->now;
	uint64_t lat = now > v->t_intended ? now - v->t_intended : 0;
	int status = v->resp.status;
	int ok = 1;

	sp_vu_timer_cancel(e, v);
	e->s.responses++;
	r->responses++;
	if (status >= 0 && status < SP_PLAN_MAX_STATUS)
		e->s.codes[status]++;
	sp_hist_record(&r->latency, lat);
	sp_hist_record(&e->s.latency, lat);
	if (ck->has_status && !sp_status_in(ck->status_set, status))
		ok = 0;
	if (ck->header != NULL && !v->hdr_found)
		ok = 0;
	if (ck->body_contains != NULL && v->kmp != ck->body_contains_len)
		ok = 0;
	if (ck->body_size >= 0 && v->resp.body_bytes != (uint64_t)ck->body_size)
		ok = 0;
	if (!sp_status_in(rq->expect_set, status)) {
		/* An unexpected status fails the request as itself, whatever
		 * the checks say: one kind per failed request. */
		e->s.failed++;
		e->s.err[SP_VU_E_HTTP_STATUS]++;
		r->failed++;
		r->status_failed++;
	} else if (!ok) {
		e->s.failed++;
		e->s.err[SP_VU_E_CHECK]++;
		r->failed++;
		r->check_failed++;
	} else if (ck->has_status || ck->header != NULL ||
		   ck->body_contains != NULL || ck->body_size >= 0) {
		e->s.checks_passed++;
	}
	sp_vu_log(e, v, status, ok ? 0 : SP_VU_E_CHECK + 1);
	v->conn_reqs++;
	if (extra) {
		e->s.err[SP_VU_E_UNSOLICITED]++;
		sp_vu_drop_conn(e, v, SP_VU_RESET);
	} else if (v->resp.lenient) {
		/* Framing we accepted but another reader of these bytes (a
		 * proxy between us) may have cut elsewhere: what follows on
		 * this connection cannot be trusted to be the next response. */
		e->s.lenient_closes++;
		sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
	} else if (v->resp.must_close || !sp_vu_scen(e, v)->keep_alive ||
		   (sp_vu_scen(e, v)->max_requests_per_conn != 0 &&
		    v->conn_reqs >= sp_vu_scen(e, v)->max_requests_per_conn)) {
		/* Connection: close, from the server or from us (the last
		 * request the connection may carry said so). */
		sp_vu_drop_conn(e, v, SP_VU_AFTER_SERVER);
	}
	/* A request that follows without a think time is due now. */
	v->t_intended = now;
	v->step++;
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
}

/* Whether the VU's current request is the last its connection may carry
 * (max_requests_per_connection): it asks the server to close then. */
static int
sp_vu_last_on_conn(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_scenario *sc = sp_vu_scen(e, v);

	return sc->keep_alive && sc->max_requests_per_conn != 0 &&
	       v->conn_reqs + 1 >= sc->max_requests_per_conn;
}

/*
 * The request's first frame (its SYN, or its first bytes on a kept
 * connection) left for the port at @t: the generator's lateness is @t
 * minus the intended start. Latency still counts from the intended start;
 * the lag says how much of it was ours (a worker that did not run, a busy
 * iteration whose frames waited for its end). @t is also where the time to
 * the connection or to the first byte starts.
 */
static void
sp_vu_lag(struct sp_vu_engine *e, struct sp_vu *v, uint64_t t)
{
	v->sent_first = 2;
	v->t_sent = t;
	v->t_phase = t;
	sp_hist_record(&e->s.lag, t > v->t_intended ? t - v->t_intended : 0);
}

/* The request's first frame is about to be queued (undone by setting
 * sent_first back to 0 if it was not). Timed when handed to the port, not
 * now: an iteration that queues many requests sends them at its end. */
static void
sp_vu_first_frame(struct sp_vu_engine *e, struct sp_vu *v)
{
	if (!e->flush_stamps) {
		sp_vu_lag(e, v, *e->now);
		return;
	}
	v->sent_first = 1;
	v->t_sent = *e->now;
	if (!v->in_lagq) {
		v->in_lagq = 1;
		e->lagq[e->nlagq++] = v->idx;
	}
}

void
sp_vu_flushed(struct sp_vu_engine *e, uint64_t now)
{
	for (uint32_t i = 0; i < e->nlagq; i++) {
		struct sp_vu *v = &e->vus[e->lagq[i]];

		v->in_lagq = 0;
		if (v->sent_first == 1)
			sp_vu_lag(e, v, now);
	}
	e->nlagq = 0;
}

/* Queue what the send buffer takes of the current request. */
static void
sp_vu_pump(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint32_t ri = sp_vu_req_idx(e, v);
	int last = sp_vu_last_on_conn(e, v);
	const uint8_t *bytes = last ? e->prebuilt_close[ri] : e->prebuilt[ri];
	uint32_t len = last ? e->prebuilt_close_len[ri] : e->prebuilt_len[ri];

	if (bytes == NULL) {
		struct sp_vu_render rd = {
			.pl = e->pl,
			.vu = (uint64_t)v->idx * e->ncores + e->core + 1,
			.iter = v->iter,
			.row = v->row,
			.seed = v->req_seed,
			.body_scratch = e->body_scratch,
		};

		e->s.renders++;
		len = sp_vu_build(&rd, sp_vu_req(e, v),
				  sp_vu_scen(e, v)->keep_alive && !last,
				  e->scratch);
		bytes = e->scratch;
	}
	v->req_len = len;
	while (v->req_sent < len) {
		uint32_t space = e->so->send_space(e->simpl, v->c);
		int32_t r;

		int first = !v->sent_first;

		if (space == 0)
			return;
		/* Before the send: the stream may hand the frame to the port
		 * within it (a full burst). */
		if (first)
			sp_vu_first_frame(e, v);
		r = e->so->send(e->simpl, v->c, bytes + v->req_sent,
				len - v->req_sent < space ? len - v->req_sent : space);
		if (r <= 0 && first)
			v->sent_first = 0;
		if (r < 0) {
			/* The connection cannot send any more. */
			sp_vu_req_error(e, v, SP_VU_E_CLOSED, 1);
			return;
		}
		if (r == 0)
			return;
		v->req_sent += (uint32_t)r;
		e->s.bytes_sent += (uint64_t)r;
	}
}

/* The connection is up: send the request and wait for its response. */
static void
sp_vu_send(struct sp_vu_engine *e, struct sp_vu *v)
{
	const struct sp_request *rq = sp_vu_req(e, v);

	v->state = SP_VU_REQUEST;
	v->t_phase = *e->now;
	v->got_first = 0;
	v->req_sent = 0;
	v->kmp = 0;
	v->hdr_match = 0;
	v->hdr_found = 0;
	v->ck = &rq->check;
	sp_http1_resp_next(&v->resp, rq->method == SP_METHOD_HEAD);
	sp_vu_timer_set(e, v, *e->now + e->pl->response_timeout_us);
	sp_vu_pump(e, v);
}

/* Start the request at the VU's current step: connect first if needed. */
static void
sp_vu_request(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint32_t ri = sp_vu_req_idx(e, v);
	int err = 0;

	if (v->state != SP_VU_RETRY) {
		const struct sp_request *rq = &e->pl->requests[ri];

		e->s.requests++;
		e->rs[ri].started++;
		v->req_seed = sp_vu_rand(&e->rng) | 1;
		/* The last request's first frame never reached the port
		 * (it failed at once): its lag is now. */
		if (v->sent_first == 1)
			sp_vu_lag(e, v, *e->now);
		v->sent_first = 0;
		v->new_conn = v->c == NULL;
		if (e->pl->data != NULL &&
		    (sp_vu_tpl_unsafe(e->pl, v->row, &rq->path) ||
		     sp_vu_tpl_unsafe(e->pl, v->row, &rq->headers))) {
			/* Not sent. The VU waits as for a connect retry: a
			 * scenario whose every request is unsafe must not
			 * spin without a pause. */
			sp_vu_fail(e, v, SP_VU_E_UNSAFE_VALUE);
			sp_vu_log(e, v, 0, SP_VU_E_UNSAFE_VALUE + 1);
			v->step++;
			v->state = SP_VU_THINK;
			v->t_intended = *e->now + SP_VU_RETRY_US;
			sp_vu_timer_set(e, v, v->t_intended);
			return;
		}
	}
	if (v->c != NULL) {
		sp_vu_send(e, v);
		return;
	}
	sp_vu_first_frame(e, v);
	v->c = e->so->connect(e->simpl, e->pl->dst_ip, e->pl->dst_port, v, &err);
	if (v->c == NULL) {
		v->sent_first = 0;
		/* Our pool or our ports, not the server: try again shortly.
		 * The request stays started; its latency keeps running. */
		e->s.connect_retries++;
		v->state = SP_VU_RETRY;
		sp_vu_timer_set(e, v, *e->now + SP_VU_RETRY_US);
		return;
	}
	e->s.connects++;
	e->s.conns_open++;
	if (v->sent_first == 1)
		v->t_phase = *e->now; /* until the SYN is handed to the port */
	if (v->lost_conn) {
		e->s.reconnects++;
		v->lost_conn = 0;
	}
	v->conn_reqs = 0;
	v->state = SP_VU_CONNECT;
}

/* ---- iterations ---- */

static int
sp_vu_wanted(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	if (!e->running)
		return 0;
	if (e->pl->model == SP_MODEL_CLOSED)
		return v->idx < e->target;
	return 0; /* open model: one iteration per arrival */
}

static void
sp_vu_begin(struct sp_vu_engine *e, struct sp_vu *v, uint32_t scen,
	    uint64_t intended)
{
	v->scen = scen;
	v->step = 0;
	v->it_failed = 0;
	v->t_intended = intended;
	v->t_iter = intended;
	if (e->pl->data != NULL) {
		v->row = e->data_row;
		e->data_row = (uint32_t)(((uint64_t)e->data_row + e->ncores) %
					 e->pl->data->nrows);
	}
	if (v->state == SP_VU_IDLE)
		e->s.vus_active++;
	v->state = SP_VU_RUN;
	e->s.it_started++;
	e->ss[scen].started++;
}

static uint32_t
sp_vu_pick(struct sp_vu_engine *e)
{
	uint64_t r;
	uint32_t i;

	if (e->npick == 1)
		return e->pick_scen[0];
	r = sp_vu_below(&e->rng, e->pick_total);
	for (i = 0; i + 1 < e->npick && r >= e->pick_cum[i]; i++)
		;
	return e->pick_scen[i];
}

static void
sp_vu_idle(struct sp_vu_engine *e, struct sp_vu *v)
{
	v->state = SP_VU_IDLE;
	e->s.vus_active--;
	if (e->stopping)
		sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
	if (e->pl->model == SP_MODEL_OPEN) {
		v->next_free = e->free_head;
		e->free_head = v->idx;
	}
}

/* The iteration's steps are done (or it failed): count it and start the
 * next one if the schedule still wants this VU. */
static void
sp_vu_end_iteration(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint64_t now = *e->now, d = now > v->t_iter ? now - v->t_iter : 0;

	sp_hist_record(&e->s.iteration, d);
	sp_hist_record(&e->ss[v->scen].iteration, d);
	if (v->it_failed) {
		e->s.it_failed++;
		e->ss[v->scen].failed++;
	} else {
		e->s.it_completed++;
		e->ss[v->scen].completed++;
	}
	v->iter++;
	if (sp_vu_wanted(e, v)) {
		sp_vu_begin(e, v, sp_vu_pick(e), *e->now);
		return;
	}
	sp_vu_idle(e, v);
}

/*
 * Run steps from v->step until one waits (request, think) or the scenario
 * ends. Iterations chain inside this loop, never by recursion: a request
 * always waits for the network or a timer, so each pass ends.
 */
static void
sp_vu_advance(struct sp_vu_engine *e, struct sp_vu *v)
{
	while (v->state == SP_VU_RUN) {
		const struct sp_scenario *sc = sp_vu_scen(e, v);
		const struct sp_step *s;

		if (v->step >= sc->nsteps) {
			sp_vu_end_iteration(e, v);
			continue;
		}
		if (!e->running) {
			/* Stopped with steps left: the iteration is cut. */
			e->s.it_interrupted++;
			e->ss[v->scen].interrupted++;
			sp_vu_idle(e, v);
			return;
		}
		s = &sc->steps[v->step];
		switch (s->kind) {
		case SP_STEP_REQUEST:
			sp_vu_request(e, v);
			break;
		case SP_STEP_THINK: {
			uint64_t d = s->think_min_us;

			if (s->think_max_us > s->think_min_us)
				d += sp_vu_below(&e->rng, s->think_max_us -
							  s->think_min_us + 1);
			v->step++;
			if (d == 0)
				break;
			/* The next request is due when the think ends. */
			v->t_intended = *e->now + d;
			v->state = SP_VU_THINK;
			sp_vu_timer_set(e, v, v->t_intended);
			break;
		}
		case SP_STEP_LOOP:
			v->loops[s->depth] = s->count;
			v->step++;
			break;
		case SP_STEP_LOOP_END:
			if (--v->loops[s->depth] > 0)
				v->step = s->begin + 1;
			else
				v->step++;
			break;
		default:
			v->step++;
			break;
		}
	}
}

/* ---- stream callbacks ---- */

static void
sp_vu_on_connected(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v == NULL || v->state != SP_VU_CONNECT)
		return;
	sp_hist_record(&e->s.connect, *e->now - v->t_phase);
	sp_vu_send(e, v);
}

static void
sp_vu_on_writable(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v != NULL && v->state == SP_VU_REQUEST && v->req_sent < v->req_len)
		sp_vu_pump(e, v);
}

static inline uint8_t
sp_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* "\nName:" case-insensitively, across any split of the head. The pattern
 * has one newline, at its start, so a mismatch restarts at 0 or 1. */
static void
sp_vu_match_header(struct sp_vu *v, const struct sp_check *ck,
		   const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !v->hdr_found; i++) {
		uint8_t c = p[i];
		uint32_t m = v->hdr_match;
		int hit;

		if (m == 0)
			hit = c == '\n';
		else if (m <= ck->header_len)
			hit = sp_lower(c) == sp_lower((uint8_t)ck->header[m - 1]);
		else
			hit = c == ':';
		if (hit)
			m++;
		else
			m = c == '\n';
		if (m == ck->header_len + 2)
			v->hdr_found = 1;
		v->hdr_match = (uint16_t)m;
	}
}

static void
sp_vu_on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct sp_vu *v = ctx;
	const struct sp_check *ck = v->ck;
	uint32_t k = v->kmp;

	if (ck->body_contains == NULL || k == ck->body_contains_len)
		return;
	for (size_t i = 0; i < n; i++) {
		while (k > 0 && (uint8_t)ck->body_contains[k] != p[i])
			k = ck->body_contains_kmp[k - 1];
		if ((uint8_t)ck->body_contains[k] == p[i])
			k++;
		if (k == ck->body_contains_len)
			break;
	}
	v->kmp = k;
}

static enum sp_vu_err
sp_vu_parse_kind(int r)
{
	switch (r) {
	case SP_HTTP1_E_STATUS:
		return SP_VU_E_BAD_STATUS;
	case SP_HTTP1_E_HEADER:
		return SP_VU_E_BAD_HEADER;
	case SP_HTTP1_E_HEADER_TOO_BIG:
		return SP_VU_E_HEADER_TOO_BIG;
	case SP_HTTP1_E_CHUNK:
		return SP_VU_E_BAD_CHUNK;
	case SP_HTTP1_E_LENGTH:
		return SP_VU_E_BAD_LENGTH;
	case SP_HTTP1_E_VERSION:
		return SP_VU_E_BAD_VERSION;
	case SP_HTTP1_E_UPGRADE:
		return SP_VU_E_UPGRADE;
	default:
		return SP_VU_E_TRUNCATED;
	}
}

static void
sp_vu_on_data(void *ctx, void *user, const uint8_t *data, uint32_t len)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;
	const struct sp_check *ck;
	size_t used = 0, head0;
	int r;

	e->s.bytes_received += len;
	if (v == NULL)
		return;
	if (v->state != SP_VU_REQUEST) {
		/* Nothing asked for: the server is out of step with us. The
		 * bytes belong to no request, so no request fails. */
		e->s.err[SP_VU_E_UNSOLICITED]++;
		sp_vu_drop_conn(e, v, SP_VU_RESET);
		return;
	}
	if (!v->got_first) {
		uint64_t ttfb = *e->now - v->t_phase;

		v->got_first = 1;
		sp_hist_record(&e->s.ttfb, ttfb);
		sp_hist_record(&e->rs[sp_vu_req_idx(e, v)].ttfb, ttfb);
	}
	ck = v->ck;
	head0 = v->resp.header_bytes;
	r = sp_http1_resp_parse(&v->resp, data, len, &used);
	/* Head bytes come first in what this call consumed. */
	if (ck->header != NULL && v->resp.header_bytes > head0)
		sp_vu_match_header(v, ck, data, v->resp.header_bytes - head0);
	if (r < 0) {
		sp_vu_req_error(e, v, sp_vu_parse_kind(r), 1);
		return;
	}
	if (r == SP_HTTP1_DONE)
		sp_vu_req_done(e, v, used < len);
}

static void
sp_vu_on_peer_closed(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;
	int r;

	if (v == NULL)
		return;
	if (v->state == SP_VU_REQUEST) {
		r = sp_http1_resp_eof(&v->resp);
		if (r == SP_HTTP1_DONE) {
			/* A close-delimited body ends here. */
			v->resp.must_close = 1;
			sp_vu_req_done(e, v, 0);
		} else if (r == SP_HTTP1_NEED_MORE) {
			sp_vu_req_error(e, v, SP_VU_E_CLOSED, 0);
		} else {
			sp_vu_req_error(e, v, SP_VU_E_TRUNCATED, 0);
		}
		return;
	}
	if (v->state == SP_VU_CONNECT) {
		sp_vu_req_error(e, v, SP_VU_E_CLOSED, 0);
		return;
	}
	/* Idle keep-alive connection closed by the server: the next request
	 * opens another one. */
	e->s.server_closes++;
	v->lost_conn = 1;
	sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
}

static void
sp_vu_on_closed(void *ctx, void *user, enum sp_stream_end why)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;
	enum sp_vu_err k;

	e->s.conns_open--;
	if (v == NULL)
		return;
	v->c = NULL;
	v->conn_reqs = 0;
	if (v->state != SP_VU_REQUEST && v->state != SP_VU_CONNECT) {
		v->lost_conn = 1;
		return;
	}
	switch (why) {
	case SP_STREAM_END_REFUSED:
		k = SP_VU_E_REFUSED;
		break;
	case SP_STREAM_END_CONNECT_TIMEOUT:
		k = SP_VU_E_CONNECT_TIMEOUT;
		break;
	case SP_STREAM_END_RESET:
		k = SP_VU_E_RESET;
		break;
	case SP_STREAM_END_TIMEOUT:
		k = SP_VU_E_TCP_TIMEOUT;
		break;
	default:
		k = SP_VU_E_CLOSED;
		break;
	}
	v->lost_conn = v->state == SP_VU_REQUEST;
	sp_vu_req_error(e, v, k, 0);
}

static const struct sp_stream_cbs sp_vu_cbs = {
	.connected = sp_vu_on_connected,
	.data = sp_vu_on_data,
	.writable = sp_vu_on_writable,
	.peer_closed = sp_vu_on_peer_closed,
	.closed = sp_vu_on_closed,
};

const struct sp_stream_cbs *
sp_vu_stream_cbs(void)
{
	return &sp_vu_cbs;
}

/* ---- life cycle ---- */

struct sp_vu_engine *
sp_vu_create(const struct sp_vu_config *cfg, char *err, size_t errlen)
{
	const struct sp_plan *pl = cfg->plan;
	struct sp_vu_engine *e = calloc(1, sizeof(*e));
	struct sp_vu_render rd = { 0 };
	uint32_t nr = pl->nrequests, ns = pl->nscenarios;

	if (e == NULL)
		goto nomem;
	e->pl = pl;
	e->now = cfg->now_us;
	e->flush_stamps = cfg->flush_stamps;
	e->reqlog = cfg->reqlog;
	e->nvus = cfg->max_vus ? cfg->max_vus : 1;
	e->core = cfg->core;
	e->ncores = cfg->ncores ? cfg->ncores : 1;
	e->rng = cfg->seed | 1;
	e->vus = calloc(e->nvus, sizeof(*e->vus));
	e->heap = calloc(e->nvus, sizeof(*e->heap));
	e->lagq = calloc(e->nvus, sizeof(*e->lagq));
	e->sched = calloc(SP_PLAN_MAX_STAGES, sizeof(*e->sched));
	e->pick_scen = calloc(ns, sizeof(*e->pick_scen));
	e->pick_cum = calloc(ns, sizeof(*e->pick_cum));
	e->prebuilt = calloc(nr, sizeof(*e->prebuilt));
	e->prebuilt_len = calloc(nr, sizeof(*e->prebuilt_len));
	e->prebuilt_close = calloc(nr, sizeof(*e->prebuilt_close));
	e->prebuilt_close_len = calloc(nr, sizeof(*e->prebuilt_close_len));
	e->scratch = malloc(SP_VU_REQ_MAX);
	e->body_scratch = malloc(SP_VU_REQ_MAX);
	e->rs = calloc(nr, sizeof(*e->rs));
	e->ss = calloc(ns, sizeof(*e->ss));
	if (e->vus == NULL || e->heap == NULL || e->lagq == NULL ||
	    e->sched == NULL ||
	    e->pick_scen == NULL || e->pick_cum == NULL ||
	    e->prebuilt == NULL || e->prebuilt_len == NULL ||
	    e->prebuilt_close == NULL || e->prebuilt_close_len == NULL ||
	    e->scratch == NULL || e->body_scratch == NULL || e->rs == NULL ||
	    e->ss == NULL)
		goto nomem;
	for (uint32_t i = 0; i < e->nvus; i++) {
		struct sp_vu *v = &e->vus[i];

		v->idx = i;
		v->heap_pos = SP_VU_NONE;
		v->next_free = i + 1 < e->nvus ? i + 1 : SP_VU_NONE;
		sp_http1_resp_init(&v->resp, 0);
		v->resp.on_body = sp_vu_on_body;
		v->resp.body_ctx = v;
		v->resp.memo = &e->memo;
	}
	e->free_head = 0;
	e->data_row = pl->data != NULL && pl->data->nrows != 0
			      ? e->core % pl->data->nrows : 0;
	e->arrivals = e->core;
	e->arr.sched = e->sched;
	e->arr.nsched = sp_vu_sched_build(pl, e->sched);
	for (uint32_t i = 0; i < ns; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		e->pick_total += pl->scenarios[i].weight;
		e->pick_scen[e->npick] = i;
		e->pick_cum[e->npick++] = e->pick_total;
	}
	if (e->npick == 0) {
		snprintf(err, errlen, "no enabled scenario");
		goto fail;
	}
	for (uint32_t i = 0; i < nr; i++) {
		const struct sp_request *rq = &pl->requests[i];
		uint64_t max = 160 + strlen(pl->host) +
			       (pl->user_agent != NULL ?
					strlen(pl->user_agent) : 0) +
			       sp_vu_tpl_max(pl, &rq->path) +
			       sp_vu_tpl_max(pl, &rq->headers) +
			       (rq->has_body ? sp_vu_tpl_max(pl, &rq->body) : 0);

		if (max > SP_VU_REQ_MAX) {
			snprintf(err, errlen, "request '%s' may render to %llu "
				 "bytes, more than the %u a request may have",
				 rq->name, (unsigned long long)max, SP_VU_REQ_MAX);
			goto fail;
		}
	}
	/* Prebuild after the checks: the keep-alive choice is the scenario's
	 * whose steps name the request. Static requests read no VU. */
	rd.pl = pl;
	rd.seed = 1;
	rd.body_scratch = e->body_scratch;
	for (uint32_t si = 0; si < ns; si++) {
		const struct sp_scenario *sc = &pl->scenarios[si];

		for (uint32_t k = 0; k < sc->nsteps; k++) {
			uint32_t ri = sc->steps[k].req;

			if (sc->steps[k].kind != SP_STEP_REQUEST ||
			    e->prebuilt[ri] != NULL ||
			    !sp_vu_req_static(&pl->requests[ri]))
				continue;
			e->prebuilt_len[ri] = sp_vu_build(&rd,
							  &pl->requests[ri],
							  sc->keep_alive,
							  e->scratch);
			e->prebuilt[ri] = malloc(e->prebuilt_len[ri]);
			if (e->prebuilt[ri] == NULL)
				goto nomem;
			memcpy(e->prebuilt[ri], e->scratch, e->prebuilt_len[ri]);
			if (!sc->keep_alive || sc->max_requests_per_conn == 0)
				continue;
			e->prebuilt_close_len[ri] = sp_vu_build(
				&rd, &pl->requests[ri], 0, e->scratch);
			e->prebuilt_close[ri] = malloc(e->prebuilt_close_len[ri]);
			if (e->prebuilt_close[ri] == NULL)
				goto nomem;
			memcpy(e->prebuilt_close[ri], e->scratch,
			       e->prebuilt_close_len[ri]);
		}
	}
	sp_hist_init(&e->s.latency);
	sp_hist_init(&e->s.connect);
	sp_hist_init(&e->s.ttfb);
	sp_hist_init(&e->s.iteration);
	sp_hist_init(&e->s.lag);
	for (uint32_t i = 0; i < nr; i++) {
		sp_hist_init(&e->rs[i].latency);
		sp_hist_init(&e->rs[i].ttfb);
	}
	for (uint32_t i = 0; i < ns; i++)
		sp_hist_init(&e->ss[i].iteration);
	return e;
nomem:
	snprintf(err, errlen, "out of memory for %u virtual users",
		 cfg->max_vus);
fail:
	sp_vu_destroy(e);
	return NULL;
}

void
sp_vu_destroy(struct sp_vu_engine *e)
{
	if (e == NULL)
		return;
	for (uint32_t i = 0; i < e->pl->nrequests; i++) {
		if (e->prebuilt != NULL)
			free(e->prebuilt[i]);
		if (e->prebuilt_close != NULL)
			free(e->prebuilt_close[i]);
	}
	free(e->prebuilt);
	free(e->prebuilt_len);
	free(e->prebuilt_close);
	free(e->prebuilt_close_len);
	free(e->scratch);
	free(e->body_scratch);
	free(e->pick_scen);
	free(e->pick_cum);
	free(e->sched);
	free(e->heap);
	free(e->lagq);
	free(e->vus);
	free(e->rs);
	free(e->ss);
	free(e);
}

void
sp_vu_set_stream(struct sp_vu_engine *e, const struct sp_stream_ops *ops,
		 void *impl)
{
	e->so = ops;
	e->simpl = impl;
}

/* Closed model: start the VUs the schedule wants now. VUs above the
 * target finish their iteration first (sp_vu_wanted). */
static void
sp_vu_ramp(struct sp_vu_engine *e, uint64_t now)
{
	uint32_t all = sp_vu_target_at(e->pl, now - e->start_us);
	/* This engine's share: VUs core, core + ncores, ... of the total. */
	uint32_t want = all > e->core ? (all - e->core + e->ncores - 1) / e->ncores : 0;
	uint32_t from = e->target;

	if (want > e->nvus)
		want = e->nvus;
	e->target = want;
	e->s.vus_target = want;
	for (uint32_t i = from; i < want; i++) {
		struct sp_vu *v = &e->vus[i];

		if (v->state != SP_VU_IDLE)
			continue;
		sp_vu_begin(e, v, sp_vu_pick(e), now);
		sp_vu_advance(e, v);
	}
}

/* Open model: every arrival due by @now starts an iteration, or is
 * dropped if no VU is idle. Its requests' latency counts from the arrival
 * time, however late the loop got to it. */
static void
sp_vu_arrive(struct sp_vu_engine *e, uint64_t now)
{
	uint32_t n = 0;

	while (e->next_arrival != UINT64_MAX &&
	       e->start_us + e->next_arrival <= now &&
	       n++ < SP_VU_OPENS_PER_STEP) {
		uint64_t at = e->start_us + e->next_arrival;
		uint32_t scen = sp_vu_pick(e);

		e->s.arrivals++;
		e->arrivals += e->ncores;
		e->next_arrival = sp_vu_next_arrival(&e->arr, e->arrivals);
		if (e->free_head == SP_VU_NONE) {
			e->s.it_dropped++;
			e->ss[scen].dropped++;
			continue;
		}
		struct sp_vu *v = &e->vus[e->free_head];

		e->free_head = v->next_free;
		sp_vu_begin(e, v, scen, at);
		sp_vu_advance(e, v);
	}
}

void
sp_vu_start(struct sp_vu_engine *e, uint64_t now)
{
	e->start_us = now;
	e->running = 1;
	if (e->pl->model == SP_MODEL_OPEN) {
		e->next_arrival = sp_vu_next_arrival(&e->arr, e->arrivals);
		sp_vu_arrive(e, now);
	} else {
		sp_vu_ramp(e, now);
	}
}

static void
sp_vu_on_timer(struct sp_vu_engine *e, struct sp_vu *v)
{
	switch (v->state) {
	case SP_VU_THINK:
		v->state = SP_VU_RUN;
		sp_vu_advance(e, v);
		break;
	case SP_VU_RETRY:
		sp_vu_request(e, v);
		break;
	case SP_VU_REQUEST:
		sp_vu_req_error(e, v, SP_VU_E_RESPONSE_TIMEOUT, 1);
		break;
	default:
		break;
	}
}

static void
sp_vu_run_timers(struct sp_vu_engine *e, uint64_t now)
{
	while (e->nheap > 0 && e->vus[e->heap[0]].deadline <= now) {
		struct sp_vu *v = &e->vus[e->heap[0]];

		sp_vu_timer_cancel(e, v);
		sp_vu_on_timer(e, v);
	}
}

/* Cut a VU's work short: what it had in flight is interrupted. */
static void
sp_vu_interrupt(struct sp_vu_engine *e, struct sp_vu *v)
{
	int busy = v->state == SP_VU_REQUEST || v->state == SP_VU_CONNECT ||
		   v->state == SP_VU_RETRY;

	sp_vu_timer_cancel(e, v);
	if (v->state != SP_VU_IDLE) {
		if (busy) {
			e->s.interrupted++;
			e->rs[sp_vu_req_idx(e, v)].interrupted++;
		}
		e->s.it_interrupted++;
		e->ss[v->scen].interrupted++;
		v->state = SP_VU_IDLE;
		e->s.vus_active--;
	}
	sp_vu_drop_conn(e, v, busy ? SP_VU_RESET : SP_VU_GRACEFUL);
}

void
sp_vu_stop(struct sp_vu_engine *e, uint64_t now)
{
	if (e->stopping)
		return;
	e->running = 0;
	e->stopping = 1;
	e->stop_us = now;
	e->grace_end = now + SP_VU_GRACE_US;
	/* Requests already started (connecting or waiting for their
	 * response) may finish; everything else ends now. */
	for (uint32_t i = 0; i < e->nvus; i++)
		if (e->vus[i].state != SP_VU_REQUEST &&
		    e->vus[i].state != SP_VU_CONNECT)
			sp_vu_interrupt(e, &e->vus[i]);
}

int
sp_vu_drain(struct sp_vu_engine *e, uint64_t now, int hurry)
{
	if (!e->stopping)
		sp_vu_stop(e, now);
	sp_vu_run_timers(e, now);
	if (e->s.vus_active != 0 && now < e->grace_end && !hurry)
		return 0;
	for (uint32_t i = 0; i < e->nvus; i++)
		sp_vu_interrupt(e, &e->vus[i]);
	return 1;
}

int
sp_vu_step(struct sp_vu_engine *e, uint64_t now)
{
	if (!e->stopping && now - e->start_us >= e->pl->duration_us) {
		/* The schedule ended at its duration, not at this (later)
		 * loop iteration: nothing started after it. */
		sp_vu_stop(e, now);
		e->stop_us = e->start_us + e->pl->duration_us;
	}
	if (e->stopping)
		return sp_vu_drain(e, now, 0);
	sp_vu_run_timers(e, now);
	if (e->pl->model == SP_MODEL_OPEN)
		sp_vu_arrive(e, now);
	else
		sp_vu_ramp(e, now);
	return 0;
}

uint64_t
sp_vu_stopped_at(const struct sp_vu_engine *e)
{
	return e->stop_us;
}

const struct sp_vu_stats *
sp_vu_stats(const struct sp_vu_engine *e)
{
	return &e->s;
}

const struct sp_vu_req_stats *
sp_vu_req_stats(const struct sp_vu_engine *e)
{
	return e->rs;
}

const struct sp_vu_scen_stats *
sp_vu_scen_stats(const struct sp_vu_engine *e)
{
	return e->ss;
}
