/*
 * Virtual users: the scenario interpreter that runs on one core's stream
 * (sp_stream.h; the TCP stack behind it, see sp_vu.h for the model).
 *
 * Each VU is a small state machine driven by three kinds of events: stream
 * callbacks on its connection (connected, bytes, FIN, closed), its timers
 * (the step's: think time, response timeout or a connect retry; and one
 * its protocol client may set), and the schedule (a closed-model ramp
 * starts it, an open-model arrival hands it an iteration). Timers live in
 * a binary heap sized at creation, so nothing allocates while the load
 * runs. What a step sends and how its answer is read is the protocol
 * client's (vu_http.c), reached through its table.
 *
 * Latency runs from a request's intended start (the open-model arrival, or
 * the end of the think time before it) to its last response byte: a late
 * start caused by a slow server is part of the latency, not hidden by it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vu_int.h"
#include "vu_rand.h"
#include "vu_render.h"

/* ---- the timer heap: one entry per VU and timer kind at most ---- */

static inline uint64_t
sp_vu_heap_deadline(const struct sp_vu_engine *e, uint32_t h)
{
	return e->vus[h / SP_VU_NTIMERS].deadline[h % SP_VU_NTIMERS];
}

static inline int
sp_vu_heap_less(const struct sp_vu_engine *e, uint32_t a, uint32_t b)
{
	return sp_vu_heap_deadline(e, e->heap[a]) <
	       sp_vu_heap_deadline(e, e->heap[b]);
}

static inline void
sp_vu_heap_place(struct sp_vu_engine *e, uint32_t i)
{
	uint32_t h = e->heap[i];

	e->vus[h / SP_VU_NTIMERS].heap_pos[h % SP_VU_NTIMERS] = i;
}

static inline void
sp_vu_heap_swap(struct sp_vu_engine *e, uint32_t a, uint32_t b)
{
	uint32_t t = e->heap[a];

	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	sp_vu_heap_place(e, a);
	sp_vu_heap_place(e, b);
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
sp_vu_timer_cancel_kind(struct sp_vu_engine *e, struct sp_vu *v,
			enum sp_vu_timer t)
{
	uint32_t i = v->heap_pos[t];

	if (i == SP_VU_NONE)
		return;
	v->heap_pos[t] = SP_VU_NONE;
	e->nheap--;
	if (i == e->nheap)
		return;
	e->heap[i] = e->heap[e->nheap];
	sp_vu_heap_place(e, i);
	sp_vu_heap_down(e, i);
	sp_vu_heap_up(e, i);
}

static void
sp_vu_timer_set_kind(struct sp_vu_engine *e, struct sp_vu *v,
		     enum sp_vu_timer t, uint64_t deadline)
{
	sp_vu_timer_cancel_kind(e, v, t);
	v->deadline[t] = deadline;
	v->heap_pos[t] = e->nheap;
	e->heap[e->nheap++] = v->idx * SP_VU_NTIMERS + t;
	sp_vu_heap_up(e, v->heap_pos[t]);
}

/* ---- the response timeout: a FIFO ---- */

static void
sp_vu_rt_arm(struct sp_vu_engine *e, struct sp_vu *v, uint64_t deadline)
{
	v->rt_deadline = deadline;
	v->rt_next = SP_VU_NONE;
	v->rt_prev = e->rt_tail;
	if (e->rt_tail != SP_VU_NONE)
		e->vus[e->rt_tail].rt_next = v->idx;
	else
		e->rt_head = v->idx;
	e->rt_tail = v->idx;
	v->in_rt = 1;
}

static void
sp_vu_rt_disarm(struct sp_vu_engine *e, struct sp_vu *v)
{
	if (!v->in_rt)
		return;
	v->in_rt = 0;
	if (v->rt_prev != SP_VU_NONE)
		e->vus[v->rt_prev].rt_next = v->rt_next;
	else
		e->rt_head = v->rt_next;
	if (v->rt_next != SP_VU_NONE)
		e->vus[v->rt_next].rt_prev = v->rt_prev;
	else
		e->rt_tail = v->rt_prev;
}

/* The step's timer (think, retry, response timeout). */
static inline void
sp_vu_timer_cancel(struct sp_vu_engine *e, struct sp_vu *v)
{
	sp_vu_timer_cancel_kind(e, v, SP_VU_T_STEP);
	sp_vu_rt_disarm(e, v);
}

static inline void
sp_vu_timer_set(struct sp_vu_engine *e, struct sp_vu *v, uint64_t deadline)
{
	sp_vu_timer_set_kind(e, v, SP_VU_T_STEP, deadline);
}

void
sp_vu_client_timer(struct sp_vu_engine *e, struct sp_vu *v, uint64_t deadline)
{
	sp_vu_timer_set_kind(e, v, SP_VU_T_CLIENT, deadline);
}

void
sp_vu_step_timer(struct sp_vu_engine *e, struct sp_vu *v, uint64_t deadline)
{
	sp_vu_timer_set(e, v, deadline);
}

/* ---- per-request bookkeeping ---- */

static void sp_vu_advance(struct sp_vu_engine *e, struct sp_vu *v);

/* The step after the WS_END of the ws block whose upgrade is step
 * v->ws_begin (the loader puts one there; the scenario's end if not). */
static uint32_t
sp_vu_ws_after(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_scenario *sc = sp_vu_scen(e, v);

	for (uint32_t i = v->ws_begin + 1; i < sc->nsteps; i++)
		if (sc->steps[i].kind == SP_STEP_WS_END &&
		    sc->steps[i].req == v->ws_begin)
			return i + 1;
	return sc->nsteps;
}

void
sp_vu_ws_end(struct sp_vu_engine *e, struct sp_vu *v, int how, unsigned kind)
{
	uint64_t now = *e->now;

	if (!v->ws_live)
		return;
	v->ws_live = 0;
	sp_ctr_sub(e->s.ws_open, 1);
	sp_hist_record(&e->s.ws_session, now > v->t_ws ? now - v->t_ws : 0);
	switch (how) {
	case SP_VU_WS_COMPLETED:
		sp_ctr_inc(e->s.ws_completed);
		break;
	case SP_VU_WS_FAILED:
		sp_ctr_inc(e->s.ws_failed);
		sp_ctr_inc(e->s.ws_err[kind < SP_VU_WS_E_N ? kind : 0]);
		v->it_failed = 1;
		break;
	default:
		sp_ctr_inc(e->s.ws_interrupted);
		break;
	}
}

/* The run stops with the VU's session live: the client says goodbye if
 * the WebSocket is open, and the session counts as interrupted. */
static void
sp_vu_ws_cut(struct sp_vu_engine *e, struct sp_vu *v)
{
	if (!v->ws_live)
		return;
	if (v->proto == SP_VU_PROTO_WS && v->c != NULL)
		e->clients[SP_VU_PROTO_WS]->interrupt(e, v);
	sp_vu_ws_end(e, v, SP_VU_WS_INTERRUPTED, 0);
}

/* Let go of the VU's connection: gracefully when no request is in flight
 * on it, else with a RST (the response can no longer be told apart). After
 * a response that ends the connection (Connection: close either way), the
 * server closes first and holds the TIME_WAIT, as RFC 9112 9.6 has it, so
 * our (address, port) pair is free at once: one source address then opens
 * far more than the 64k connections a second our own TIME_WAIT allows. */
void
sp_vu_drop_conn(struct sp_vu_engine *e, struct sp_vu *v, int how)
{
	struct sp_stream *c = v->c;

	/* A new connection speaks HTTP/1.1 first; the client's timer
	 * belongs to the connection (gone already, maybe). */
	v->proto = SP_VU_PROTO_HTTP1;
	sp_vu_timer_cancel_kind(e, v, SP_VU_T_CLIENT);
	if (c == NULL)
		return;
	v->c = NULL;
	v->conn_reqs = 0;
	v->handshaking = 0;
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
	r.sent = v->sent_first == SP_VU_SENT_PORT ? v->t_sent : 0;
	r.done = *e->now;
	r.vu = (uint32_t)sp_vu_number(e, v);
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

	sp_ctr_inc(sp_vu_st(e, v)->failed);
	sp_ctr_inc(sp_vu_st(e, v)->err[k]);
	sp_ctr_inc(e->rs[ri].failed);
	v->it_failed = 1;
}

/* The request failed without a complete response. The iteration fails
 * but goes on, as in k6 and Locust: its think times still pace the VU, so
 * a failing server is not hammered faster than a healthy one. */
void
sp_vu_step_error(struct sp_vu_engine *e, struct sp_vu *v, enum sp_vu_err k,
		 int reset)
{
	sp_vu_timer_cancel(e, v);
	sp_vu_cap_release(e, v);
	sp_vu_fail(e, v, k);
	sp_vu_log(e, v, 0, (unsigned)k + 1);
	sp_vu_drop_conn(e, v, reset ? SP_VU_RESET : SP_VU_GRACEFUL);
	v->t_intended = *e->now;
	if (v->ws_live) {
		/* A WebSocket upgrade failed: so did its session, whose
		 * steps are skipped. */
		sp_vu_ws_end(e, v, SP_VU_WS_FAILED, SP_VU_WS_E_UPGRADE);
		v->step = sp_vu_ws_after(e, v);
	} else {
		v->step++;
	}
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
}

void
sp_vu_step_done(struct sp_vu_engine *e, struct sp_vu *v,
		const struct sp_vu_outcome *o)
{
	struct sp_vu_req_stats *r = &e->rs[sp_vu_req_idx(e, v)];
	uint64_t now = *e->now;
	uint64_t lat = now > v->t_intended ? now - v->t_intended : 0;
	int status = o->status, cap_end = 0;

	sp_vu_timer_cancel(e, v);
	sp_ctr_inc(sp_vu_st(e, v)->responses);
	sp_ctr_inc(r->responses);
	if (status >= 0 && status < SP_PLAN_MAX_STATUS)
		sp_ctr_inc(sp_vu_st(e, v)->codes[status]);
	sp_hist_record(&r->latency, lat);
	sp_hist_record(&sp_vu_st(e, v)->latency, lat);
	if (!o->status_ok) {
		/* An unexpected status fails the request as itself, whatever
		 * the checks say: one kind per failed request. */
		sp_ctr_inc(sp_vu_st(e, v)->failed);
		sp_ctr_inc(sp_vu_st(e, v)->err[SP_VU_E_HTTP_STATUS]);
		sp_ctr_inc(r->failed);
		sp_ctr_inc(r->status_failed);
	} else if (!o->checks_ok) {
		sp_ctr_inc(sp_vu_st(e, v)->failed);
		sp_ctr_inc(sp_vu_st(e, v)->err[SP_VU_E_CHECK]);
		sp_ctr_inc(r->failed);
		sp_ctr_inc(r->check_failed);
	} else {
		if (o->checked)
			sp_ctr_inc(sp_vu_st(e, v)->checks_passed);
		if (!o->captures_ok) {
			/* A value the flow needs is missing: the request
			 * failed, and unless it says continue, so did the
			 * iteration, whose remaining steps are skipped. */
			sp_ctr_inc(sp_vu_st(e, v)->failed);
			sp_ctr_inc(sp_vu_st(e, v)->err[SP_VU_E_CAPTURE]);
			sp_ctr_inc(r->failed);
			if (!sp_vu_req(e, v)->capture_continue) {
				v->it_failed = 1;
				cap_end = 1;
			}
		}
	}
	sp_vu_log(e, v, status,
		  !o->checks_ok     ? SP_VU_E_CHECK + 1 :
		  !o->captures_ok ? SP_VU_E_CAPTURE + 1 :
				    0);
	v->conn_reqs++;
	switch (o->conn) {
	case SP_VU_CONN_UNSOLICITED:
		sp_ctr_inc(e->s.err[SP_VU_E_UNSOLICITED]);
		sp_vu_drop_conn(e, v, SP_VU_RESET);
		break;
	case SP_VU_CONN_LENIENT:
		sp_ctr_inc(e->s.lenient_closes);
		sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
		break;
	case SP_VU_CONN_CLOSE:
		sp_vu_drop_conn(e, v, SP_VU_AFTER_SERVER);
		break;
	default:
		break;
	}
	/* A request that follows without a think time is due now. */
	v->t_intended = now;
	v->step = cap_end ? sp_vu_scen(e, v)->nsteps : v->step + 1;
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
}

void
sp_vu_unsolicited(struct sp_vu_engine *e, struct sp_vu *v)
{
	sp_ctr_inc(e->s.err[SP_VU_E_UNSOLICITED]);
	sp_vu_drop_conn(e, v, SP_VU_RESET);
}

void
sp_vu_upgraded(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *rest,
	       uint32_t n)
{
	struct sp_vu_req_stats *r = &e->rs[sp_vu_req_idx(e, v)];
	uint64_t now = *e->now;
	uint64_t lat = now > v->t_intended ? now - v->t_intended : 0;

	sp_vu_timer_cancel(e, v);
	sp_ctr_inc(sp_vu_st(e, v)->responses);
	sp_ctr_inc(r->responses);
	sp_ctr_inc(sp_vu_st(e, v)->codes[101]);
	sp_hist_record(&r->latency, lat);
	sp_hist_record(&sp_vu_st(e, v)->latency, lat);
	/* From the upgrade request queued (its first frame when the
	 * connection was kept, else the connection's end) to the 101. */
	sp_hist_record(&e->s.ws_connect,
		       now > v->t_phase ? now - v->t_phase : 0);
	sp_vu_log(e, v, 101, 0);
	v->conn_reqs++;
	v->proto = SP_VU_PROTO_WS;
	e->clients[SP_VU_PROTO_WS]->start(e, v);
	v->t_intended = now;
	v->step++;
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
	/* The first step is on (a first expect sees a greeting that came
	 * with the 101); the connection may be gone already. */
	if (n > 0 && v->c != NULL && v->proto == SP_VU_PROTO_WS)
		e->clients[SP_VU_PROTO_WS]->data(e, v, rest, n);
}

void
sp_vu_proto_next(struct sp_vu_engine *e, struct sp_vu *v, int over)
{
	sp_vu_timer_cancel(e, v);
	v->t_intended = *e->now;
	v->step = over ? sp_vu_ws_after(e, v) : v->step + 1;
	v->state = SP_VU_RUN;
	sp_vu_advance(e, v);
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
	v->sent_first = SP_VU_SENT_PORT;
	v->t_sent = t;
	v->t_phase = t;
	sp_hist_record(&e->s.lag, t > v->t_intended ? t - v->t_intended : 0);
}

/* The request's first frame is about to be queued (undone by setting
 * sent_first back to SP_VU_SENT_NONE if it was not). Timed when handed to
 * the port, not now: an iteration that queues many requests sends them at
 * its end. */
static void
sp_vu_first_frame(struct sp_vu_engine *e, struct sp_vu *v)
{
	if (!e->flush_stamps) {
		sp_vu_lag(e, v, *e->now);
		return;
	}
	v->sent_first = SP_VU_SENT_QUEUED;
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
		if (v->sent_first == SP_VU_SENT_QUEUED)
			sp_vu_lag(e, v, now);
	}
	e->nlagq = 0;
}

uint32_t
sp_vu_write_space(struct sp_vu_engine *e, struct sp_vu *v)
{
	return e->so->send_space(e->simpl, v->c);
}

int32_t
sp_vu_write(struct sp_vu_engine *e, struct sp_vu *v, const void *p, uint32_t n,
	    int stays)
{
	int first = v->sent_first == SP_VU_SENT_NONE;
	int32_t r;

	/* Before the send: the stream may hand the frame to the port
	 * within it (a full burst). */
	if (first)
		sp_vu_first_frame(e, v);
	if (stays && e->so->send_ref != NULL)
		r = e->so->send_ref(e->simpl, v->c, p, n);
	else
		r = e->so->send(e->simpl, v->c, p, n);
	if (r <= 0 && first)
		v->sent_first = SP_VU_SENT_NONE;
	if (r > 0)
		sp_ctr_add(e->s.bytes_sent, (uint64_t)r);
	return r;
}

/* The connection is up: start the step and wait for its answer. */
static void
sp_vu_send(struct sp_vu_engine *e, struct sp_vu *v)
{
	v->state = SP_VU_REQUEST;
	v->t_phase = *e->now;
	v->got_first = 0;
	sp_vu_timer_cancel(e, v);
	sp_vu_rt_arm(e, v, *e->now + e->pl->response_timeout_us);
	e->clients[v->proto]->start(e, v);
}

/* Start the request at the VU's current step: connect first if needed. */
static void
sp_vu_request(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint32_t ri = v->req = sp_vu_scen(e, v)->steps[v->step].req;
	struct sp_stream_peer peer;
	int err = 0;

	if (v->state != SP_VU_RETRY) {
		const struct sp_request *rq = &e->pl->requests[ri];

		sp_ctr_inc(sp_vu_st(e, v)->requests);
		sp_ctr_inc(e->rs[ri].started);
		v->req_seed = sp_vu_rand(&e->rng) | 1;
		/* The last request's first frame never reached the port
		 * (it failed at once): its lag is now. */
		if (v->sent_first == SP_VU_SENT_QUEUED)
			sp_vu_lag(e, v, *e->now);
		v->sent_first = SP_VU_SENT_NONE;
		v->new_conn = v->c == NULL;
		unsigned bad = 0;

		if (e->pl->data != NULL &&
		    (sp_vu_tpl_unsafe(e->pl, v->row, &rq->path) ||
		     sp_vu_tpl_unsafe(e->pl, v->row, &rq->headers)))
			bad = SP_VU_E_UNSAFE_VALUE + 1;
		else
			bad = sp_vu_req_vars_ok(e, v, rq);
		if (bad != 0) {
			/* Not sent. The VU waits as for a connect retry: a
			 * scenario whose every request is unsafe must not
			 * spin without a pause. */
			sp_vu_fail(e, v, (enum sp_vu_err)(bad - 1));
			sp_vu_log(e, v, 0, bad);
			/* An upgrade not sent: its block is skipped. */
			v->ws_begin = v->step;
			v->step = rq->ws_upgrade ? sp_vu_ws_after(e, v) :
						   v->step + 1;
			v->state = SP_VU_THINK;
			v->t_intended = *e->now + SP_VU_RETRY_US;
			sp_vu_timer_set(e, v, v->t_intended);
			return;
		}
		if (rq->ws_upgrade) {
			/* The session starts with its upgrade request. */
			sp_ctr_inc(e->s.ws_started);
			sp_ctr_inc(e->s.ws_open);
			v->ws_live = 1;
			v->ws_begin = v->step;
			v->t_ws = *e->now;
		}
	}
	if (v->c != NULL) {
		sp_vu_send(e, v);
		return;
	}
	sp_vu_first_frame(e, v);
	peer = (struct sp_stream_peer){
		.ip = e->pl->dst_ip,
		.port = e->pl->dst_port,
		.name = e->pl->peer_name,
		.slot = v->idx,
	};
	v->c = e->so->connect(e->simpl, &peer, v, &err);
	if (v->c == NULL) {
		v->sent_first = SP_VU_SENT_NONE;
		/* Our pool or our ports, not the server: try again shortly.
		 * The request stays started; its latency keeps running. */
		sp_ctr_inc(e->s.connect_retries);
		v->state = SP_VU_RETRY;
		sp_vu_timer_set(e, v, *e->now + SP_VU_RETRY_US);
		return;
	}
	sp_ctr_inc(e->s.connects);
	sp_ctr_inc(e->s.conns_open);
	if (v->sent_first == SP_VU_SENT_QUEUED)
		v->t_phase = *e->now; /* until the SYN is handed to the port */
	if (v->lost_conn) {
		sp_ctr_inc(e->s.reconnects);
		v->lost_conn = 0;
	}
	v->conn_reqs = 0;
	v->proto = SP_VU_PROTO_HTTP1;
	v->state = SP_VU_CONNECT;
}

/* ---- iterations ---- */

static int
sp_vu_wanted(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_vu_group *g = &e->groups[v->group];

	if (!e->running)
		return 0;
	if (g->ld->model == SP_MODEL_CLOSED)
		return v->idx - g->first < g->target;
	return 0; /* open model: one iteration per arrival */
}

/* A mix of the run's seed with @a and @b, uniform in [0, @n): the same
 * draw for the same VU and iteration whatever the cores and timing. */
static uint32_t
sp_vu_data_draw(const struct sp_vu_engine *e, uint64_t a, uint64_t b,
		uint32_t n)
{
	uint64_t x = e->data_seed ^ (a * 0x9e3779b97f4a7c15ull) ^
		     (b * 0xc2b2ae3d27d4eb4full);

	/* splitmix64's finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)(((unsigned __int128)x * n) >> 64);
}

/* The data row of the iteration @v begins (sp_data's rules): 0, or -1
 * when its unique rows ran out. */
static int
sp_vu_data_row(struct sp_vu_engine *e, struct sp_vu *v)
{
	const struct sp_data *d = e->pl->data;
	uint64_t vn = sp_vu_number(e, v) - 1;

	if (d->per == SP_DATA_PER_VU) {
		if (d->unique && vn >= d->nrows)
			return -1;
		if (d->unique)
			v->row = d->order == SP_DATA_RANDOM ?
					 e->data_perm[vn] :
					 (uint32_t)vn;
		else
			v->row = d->order == SP_DATA_RANDOM ?
					 sp_vu_data_draw(e, vn, 0, d->nrows) :
					 (uint32_t)(vn % d->nrows);
		return 0;
	}
	if (d->unique) {
		/* This core's stride of the rows, once: k, k + n, ... */
		if (e->data_row >= d->nrows)
			return -1;
		v->row = d->order == SP_DATA_RANDOM ? e->data_perm[e->data_row] :
						      e->data_row;
		e->data_row += e->ncores;
		return 0;
	}
	if (d->order == SP_DATA_RANDOM) {
		v->row = sp_vu_data_draw(e, vn, (uint64_t)v->iter + 1, d->nrows);
		return 0;
	}
	v->row = e->data_row;
	e->data_row = (uint32_t)(((uint64_t)e->data_row + e->ncores) %
				 d->nrows);
	return 0;
}

/* Begin an iteration: 0, or -1 when it cannot (its data rows ran out,
 * counted): the VU stays as it was. */
static int
sp_vu_begin(struct sp_vu_engine *e, struct sp_vu *v, uint32_t scen,
	    uint64_t intended)
{
	int life = e->pl->scenarios[scen].kind != SP_SCEN_LOAD;

	/* A lifecycle scenario takes no data row. */
	if (!life && e->pl->data != NULL && sp_vu_data_row(e, v) < 0) {
		sp_ctr_inc(e->s.it_data_exhausted);
		return -1;
	}
	v->life = (uint8_t)life;
	v->scen = scen;
	v->step = 0;
	v->it_failed = 0;
	v->t_intended = intended;
	v->t_iter = intended;
	if (v->state == SP_VU_IDLE)
		sp_ctr_inc(e->s.vus_active);
	v->state = SP_VU_RUN;
	sp_ctr_inc(sp_vu_st(e, v)->it_started);
	sp_ctr_inc(e->ss[scen].started);
	return 0;
}

/* A load scenario starts for the VU: its vu_setup first, once. 0, or -1
 * as sp_vu_begin. */
static int
sp_vu_begin_load(struct sp_vu_engine *e, struct sp_vu *v, uint32_t scen,
		 uint64_t intended)
{
	const struct sp_scenario *sc = &e->pl->scenarios[scen];

	if (!v->set_up) {
		v->next_scen = scen;
		if (sc->vu_setup != 0) {
			/* Its vu_teardown is due from here, even if the
			 * setup fails half-way (a login that half worked). */
			v->set_up = 1;
			return sp_vu_begin(e, v, sc->vu_setup - 1, intended);
		}
	}
	return sp_vu_begin(e, v, scen, intended);
}

/* Whether the VU's lifecycle scenario may go on while the load is not
 * running: setup and teardown run outside it, a vu_teardown in the
 * drain; a vu_setup is cut (its vu_teardown follows). */
static int
sp_vu_life_goes_on(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return v->life && !e->hurry &&
	       sp_vu_scen(e, v)->kind != SP_SCEN_VU_SETUP;
}

/* The scenario of the group's next iteration: its own, or the shared
 * load's pick by weight. */
static uint32_t
sp_vu_pick(struct sp_vu_engine *e, const struct sp_vu_group *g)
{
	uint64_t r;
	uint32_t i;

	if (g->scen != SP_VU_NONE)
		return g->scen;
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
	sp_ctr_sub(e->s.vus_active, 1);
	if (e->stopping)
		sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
	/* Setup's and teardown's VU 0 never left the open model's free
	 * list. */
	if (e->groups[v->group].ld->model == SP_MODEL_OPEN &&
	    sp_vu_scen(e, v)->kind != SP_SCEN_SETUP &&
	    sp_vu_scen(e, v)->kind != SP_SCEN_TEARDOWN) {
		struct sp_vu_group *g = &e->groups[v->group];

		v->next_free = g->free_head;
		g->free_head = v->idx;
	}
}

/* The VU leaves the load (the schedule no longer wants it, or the run
 * stopped): its vu_teardown runs if its vu_setup did, else it goes idle.
 * 1 when the teardown began. */
static int
sp_vu_leave(struct sp_vu_engine *e, struct sp_vu *v)
{
	const struct sp_scenario *home = &e->pl->scenarios[v->next_scen];

	if (v->set_up && home->vu_teardown != 0 && !e->hurry) {
		v->set_up = 0;
		sp_vu_begin(e, v, home->vu_teardown - 1, *e->now);
		return 1;
	}
	v->set_up = 0;
	/* A stop may have made it idle already (sp_vu_interrupt). */
	if (v->state != SP_VU_IDLE)
		sp_vu_idle(e, v);
	return 0;
}

/* The iteration's steps are done (or it failed): count it and start the
 * next one if the schedule still wants this VU. */
static void
sp_vu_end_iteration(struct sp_vu_engine *e, struct sp_vu *v)
{
	uint64_t now = *e->now, d = now > v->t_iter ? now - v->t_iter : 0;

	sp_hist_record(&sp_vu_st(e, v)->iteration, d);
	sp_hist_record(&e->ss[v->scen].iteration, d);
	if (v->it_failed) {
		sp_ctr_inc(sp_vu_st(e, v)->it_failed);
		sp_ctr_inc(e->ss[v->scen].failed);
	} else {
		sp_ctr_inc(sp_vu_st(e, v)->it_completed);
		sp_ctr_inc(e->ss[v->scen].completed);
	}
	if (v->life) {
		switch (sp_vu_scen(e, v)->kind) {
		case SP_SCEN_VU_SETUP:
			/* On to the iteration it was started for (due now:
			 * its setup's time is not the iteration's). */
			if (e->running &&
			    sp_vu_begin(e, v, v->next_scen, now) == 0)
				return;
			(void)sp_vu_leave(e, v);
			return;
		case SP_SCEN_VU_TEARDOWN:
			/* The VU starts afresh if the schedule wants it
			 * again. */
			sp_vu_vars_reset(e, v);
			break;
		default:
			break;
		}
		sp_vu_idle(e, v);
		return;
	}
	v->iter++;
	if (sp_vu_wanted(e, v) &&
	    sp_vu_begin_load(e, v, sp_vu_pick(e, &e->groups[v->group]),
			     *e->now) == 0)
		return;
	(void)sp_vu_leave(e, v);
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
		if (!e->running && !sp_vu_life_goes_on(e, v)) {
			/* Stopped with steps left: the iteration is cut. */
			sp_vu_ws_cut(e, v);
			sp_ctr_inc(sp_vu_st(e, v)->it_interrupted);
			sp_ctr_inc(e->ss[v->scen].interrupted);
			if (v->life &&
			    sp_vu_scen(e, v)->kind != SP_SCEN_VU_SETUP) {
				/* a teardown cut by a hurried stop */
				sp_vu_idle(e, v);
				return;
			}
			if (sp_vu_leave(e, v))
				continue; /* its vu_teardown */
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
				d += sp_vu_below(&e->rng,
						 s->think_max_us -
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
		case SP_STEP_IF:
			v->step = sp_vu_cond(e, v, s->ws) ? v->step + 1 :
							    s->end;
			break;
		case SP_STEP_LOOP_END:
			if (--v->loops[s->depth] > 0)
				v->step = s->begin + 1;
			else
				v->step++;
			break;
		case SP_STEP_WS_SEND:
		case SP_STEP_WS_EXPECT:
		case SP_STEP_WS_LISTEN:
		case SP_STEP_WS_PING:
		case SP_STEP_WS_CLOSE:
		case SP_STEP_WS_END:
			if (v->proto != SP_VU_PROTO_WS || v->c == NULL) {
				/* No WebSocket (its session ended early, or
				 * the block's upgrade failed): skip. */
				v->step = s->kind == SP_STEP_WS_END ?
						  v->step + 1 :
						  sp_vu_ws_after(e, v);
				break;
			}
			v->state = SP_VU_WS;
			switch (e->clients[v->proto]->step(e, v, s)) {
			case SP_VU_STEP_DONE:
				v->state = SP_VU_RUN;
				v->step++;
				break;
			case SP_VU_STEP_OVER:
				v->state = SP_VU_RUN;
				v->step = sp_vu_ws_after(e, v);
				break;
			default:
				break;
			}
			break;
		default:
			v->step++;
			break;
		}
	}
}

/* ---- stream callbacks ---- */

/* A stream with a handshake (TLS): the connection phase ends here, the
 * handshake's begins. */
static void
sp_vu_on_handshaking(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v == NULL || v->state != SP_VU_CONNECT)
		return;
	sp_hist_record(&e->s.connect, *e->now - v->t_phase);
	v->t_phase = *e->now;
	v->handshaking = 1;
}

static void
sp_vu_on_connected(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v == NULL || v->state != SP_VU_CONNECT)
		return;
	sp_hist_record(v->handshaking ? &e->s.tls : &e->s.connect,
		       *e->now - v->t_phase);
	v->handshaking = 0;
	sp_vu_send(e, v);
}

static void
sp_vu_on_writable(void *ctx, void *user)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v != NULL &&
	    (v->state == SP_VU_REQUEST || v->proto == SP_VU_PROTO_WS))
		e->clients[v->proto]->writable(e, v);
}

static void
sp_vu_on_data(void *ctx, void *user, const uint8_t *data, uint32_t len)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	sp_ctr_add(e->s.bytes_received, len);
	if (v == NULL)
		return;
	if (v->state == SP_VU_REQUEST && !v->got_first) {
		uint64_t ttfb = *e->now - v->t_phase;

		v->got_first = 1;
		sp_hist_record(&sp_vu_st(e, v)->ttfb, ttfb);
		sp_hist_record(&e->rs[sp_vu_req_idx(e, v)].ttfb, ttfb);
	}
	e->clients[v->proto]->data(e, v, data, len);
}

static void
sp_vu_on_peer_closed(void *ctx, void *user, int clean)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;

	if (v == NULL)
		return;
	if (v->state == SP_VU_REQUEST || v->proto == SP_VU_PROTO_WS) {
		e->clients[v->proto]->peer_closed(e, v, clean);
		return;
	}
	if (v->state == SP_VU_CONNECT) {
		sp_vu_step_error(e, v, SP_VU_E_CLOSED, 0);
		return;
	}
	/* Idle keep-alive connection closed by the server: the next request
	 * opens another one. */
	sp_ctr_inc(e->s.server_closes);
	v->lost_conn = 1;
	sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
}

static void
sp_vu_on_closed(void *ctx, void *user, enum sp_stream_end why)
{
	struct sp_vu_engine *e = ctx;
	struct sp_vu *v = user;
	enum sp_vu_err k;

	sp_ctr_sub(e->s.conns_open, 1);
	if (v == NULL) {
		/* One of ours closed, maybe by the drain's pacing (closes
		 * before the stop that end during it are counted too: the
		 * pace is then a little slower, never faster). */
		if (e->stopping && e->closing > 0)
			e->closing--;
		return;
	}
	v->c = NULL;
	v->handshaking = 0;
	v->conn_reqs = 0;
	if (v->proto == SP_VU_PROTO_WS) {
		/* The WebSocket's connection is gone (the client sees c NULL:
		 * it cannot answer). */
		v->lost_conn = 1;
		e->clients[SP_VU_PROTO_WS]->peer_closed(e, v, 0);
		return;
	}
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
	case SP_STREAM_END_HANDSHAKE:
		k = SP_VU_E_TLS_HANDSHAKE;
		break;
	case SP_STREAM_END_VERIFY:
		k = SP_VU_E_TLS_VERIFY;
		break;
	case SP_STREAM_END_ALERT:
		k = SP_VU_E_TLS_ALERT;
		break;
	case SP_STREAM_END_BAD_RECORD:
		k = SP_VU_E_TLS_BAD_RECORD;
		break;
	case SP_STREAM_END_HANDSHAKE_TIMEOUT:
		k = SP_VU_E_TLS_TIMEOUT;
		break;
	default:
		k = SP_VU_E_CLOSED;
		break;
	}
	v->lost_conn = v->state == SP_VU_REQUEST;
	sp_vu_step_error(e, v, k, 0);
}

static const struct sp_stream_cbs sp_vu_cbs = {
	.handshaking = sp_vu_on_handshaking,
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

/* The live target (sp_vu_config.live), as the control lcore set it. */
static double
sp_vu_live_target(const struct sp_vu_engine *e, uint64_t *bits)
{
	double v;

	*bits = __atomic_load_n(e->live, __ATOMIC_RELAXED);
	memcpy(&v, bits, sizeof(v));
	return v > 0 ? v : 0;
}

static uint32_t
sp_vu_live_vus(const struct sp_vu_engine *e)
{
	uint64_t bits;
	double v = sp_vu_live_target(e, &bits);

	return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)(v + 0.5);
}

/* Open model under a live rate: when the rate changes (at @t_us from the
 * group's start), this core's arrivals restart from then at its share,
 * core + 1, core + 1 + ncores, ... of the new rate's spacing: a step of
 * rate R for D seconds makes R x D arrivals over the cores, within one
 * each. */
static void
sp_vu_live_clock(struct sp_vu_engine *e, struct sp_vu_group *g, uint64_t t_us)
{
	uint64_t bits;
	double r = sp_vu_live_target(e, &bits);

	if (bits == g->live_bits && (g->live_gap != 0 || r <= 0))
		return;
	g->live_bits = bits;
	if (r <= 0) {
		g->live_gap = 0;
		g->next_arrival = UINT64_MAX;
		return;
	}
	g->live_gap = (double)e->ncores * 1e6 / r;
	g->live_next = (double)t_us + (double)(e->core + 1) * 1e6 / r;
	g->next_arrival = (uint64_t)g->live_next;
}

/* Closed model: start the VUs the group's schedule wants now. VUs above
 * the target finish their iteration first (sp_vu_wanted); so do those
 * still in one at the group's end. */
static void
sp_vu_ramp(struct sp_vu_engine *e, struct sp_vu_group *g, uint64_t now)
{
	uint64_t t = now - e->start_us;
	/* The stages built at creation (sp_vu_target_at builds them each
	 * time): this runs once a loop iteration. */
	uint32_t all = t >= g->ld->start_us && t < g->end_us ?
			       (g->live ? sp_vu_live_vus(e) :
					  sp_vu_sched_target(g->sched,
							     g->arr.nsched,
							     t - g->ld->start_us)) :
			       0;
	/* This engine's share: VUs core, core + ncores, ... of the total. */
	uint32_t want = all > e->core ?
				(all - e->core + e->ncores - 1) / e->ncores :
				0;
	uint32_t from = g->target;

	if (want > g->n)
		want = g->n;
	g->target = want;
	for (uint32_t i = from; i < want; i++) {
		struct sp_vu *v = &e->vus[g->first + i];

		if (v->state != SP_VU_IDLE ||
		    sp_vu_begin_load(e, v, sp_vu_pick(e, g), now) < 0)
			continue;
		sp_vu_advance(e, v);
	}
}

/* Open model: every arrival of the group due by @now starts an
 * iteration, or is dropped if none of its VUs is idle. Its requests'
 * latency counts from the arrival time, however late the loop got to
 * it. */
static void
sp_vu_arrive(struct sp_vu_engine *e, struct sp_vu_group *g, uint64_t now)
{
	uint64_t base = e->start_us + g->ld->start_us;
	uint32_t n = 0;

	if (g->live)
		sp_vu_live_clock(e, g, now > base ? now - base : 0);
	while (g->next_arrival != UINT64_MAX && base + g->next_arrival <= now &&
	       n++ < SP_VU_OPENS_PER_STEP) {
		uint64_t at = base + g->next_arrival;
		uint32_t scen = sp_vu_pick(e, g);

		if (g->ld->start_us + g->next_arrival >= g->end_us) {
			/* Its stages run past the run's end: cut there. */
			g->next_arrival = UINT64_MAX;
			break;
		}
		sp_ctr_inc(e->s.arrivals);
		g->arrivals += e->ncores;
		if (g->live) {
			g->live_next += g->live_gap;
			g->next_arrival = (uint64_t)g->live_next;
		} else {
			g->next_arrival = sp_vu_next_arrival(&g->arr,
							     g->arrivals);
		}
		if (g->free_head == SP_VU_NONE) {
			sp_ctr_inc(e->s.it_dropped);
			sp_ctr_inc(e->ss[scen].dropped);
			continue;
		}
		struct sp_vu *v = &e->vus[g->free_head];

		if (sp_vu_begin_load(e, v, scen, at) < 0) {
			/* No row for it. A per-VU row never comes: out of
			 * the pool, the next VU may have one. */
			if (e->pl->data->per == SP_DATA_PER_VU)
				g->free_head = v->next_free;
			continue;
		}
		g->free_head = v->next_free;
		sp_vu_advance(e, v);
	}
}

/* Every group's schedule at @now; the closed groups' targets add up. */
static void
sp_vu_schedule(struct sp_vu_engine *e, uint64_t now)
{
	uint64_t target = 0;

	for (uint32_t k = 0; k < e->ngroups; k++) {
		struct sp_vu_group *g = &e->groups[k];

		if (g->ld->model == SP_MODEL_OPEN) {
			sp_vu_arrive(e, g, now);
		} else {
			sp_vu_ramp(e, g, now);
			target += g->target;
		}
	}
	sp_ctr_set(e->s.vus_target, target);
}

void
sp_vu_start(struct sp_vu_engine *e, uint64_t now)
{
	if (e->wall_own) {
		/* No clock from the caller: the load's start anchors it
		 * (the engine's clock may have jumped since creation). */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		e->wall_ms0 = (uint64_t)ts.tv_sec * 1000 +
			      (uint64_t)ts.tv_nsec / 1000000;
		e->mono_us0 = now;
	}
	e->start_us = now;
	e->running = 1;
	for (uint32_t k = 0; k < e->ngroups; k++) {
		struct sp_vu_group *g = &e->groups[k];

		if (g->live) {
			/* Nothing until the first target is read (all ones:
			 * a NaN no one stores). */
			g->live_bits = UINT64_MAX;
			g->next_arrival = UINT64_MAX;
		} else if (g->ld->model == SP_MODEL_OPEN) {
			g->next_arrival = sp_vu_next_arrival(&g->arr,
							     g->arrivals);
		}
	}
	sp_vu_schedule(e, now);
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
		sp_vu_step_error(e, v, SP_VU_E_RESPONSE_TIMEOUT, 1);
		break;
	case SP_VU_WS:
		if (v->proto == SP_VU_PROTO_WS)
			e->clients[SP_VU_PROTO_WS]->step_timer(e, v);
		break;
	default:
		break;
	}
}

static void
sp_vu_run_timers(struct sp_vu_engine *e, uint64_t now)
{
	while (e->nheap > 0 && sp_vu_heap_deadline(e, e->heap[0]) <= now) {
		uint32_t h = e->heap[0];
		struct sp_vu *v = &e->vus[h / SP_VU_NTIMERS];
		enum sp_vu_timer t = (enum sp_vu_timer)(h % SP_VU_NTIMERS);

		sp_vu_timer_cancel_kind(e, v, t);
		if (t == SP_VU_T_STEP)
			sp_vu_on_timer(e, v);
		else
			e->clients[v->proto]->timer(e, v);
	}
	while (e->rt_head != SP_VU_NONE &&
	       e->vus[e->rt_head].rt_deadline <= now) {
		struct sp_vu *v = &e->vus[e->rt_head];

		sp_vu_rt_disarm(e, v);
		sp_vu_on_timer(e, v);
	}
}

/* Cut a VU's work short: what it had in flight is interrupted. An idle
 * connection is left to the drain's paced closes when @pace. */
static void
sp_vu_interrupt(struct sp_vu_engine *e, struct sp_vu *v, int pace)
{
	int busy = v->state == SP_VU_REQUEST || v->state == SP_VU_CONNECT ||
		   v->state == SP_VU_RETRY;

	sp_vu_timer_cancel(e, v);
	sp_vu_timer_cancel_kind(e, v, SP_VU_T_CLIENT);
	sp_vu_ws_cut(e, v);
	if (v->state != SP_VU_IDLE) {
		if (busy) {
			sp_ctr_inc(sp_vu_st(e, v)->interrupted);
			sp_ctr_inc(e->rs[sp_vu_req_idx(e, v)].interrupted);
		}
		sp_ctr_inc(sp_vu_st(e, v)->it_interrupted);
		sp_ctr_inc(e->ss[v->scen].interrupted);
		v->state = SP_VU_IDLE;
		sp_ctr_sub(e->s.vus_active, 1);
	}
	if (pace && !busy)
		return;
	sp_vu_drop_conn(e, v, busy ? SP_VU_RESET : SP_VU_GRACEFUL);
}

/* Whether some VU has a vu_teardown to run at the end. */
static int
sp_vu_has_vu_teardown(const struct sp_plan *pl)
{
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].kind == SP_SCEN_LOAD &&
		    pl->scenarios[i].vu_teardown != 0)
			return 1;
	return 0;
}

/* The drain's paced closes: idle connections closed in order, at most
 * SP_VU_CLOSING_MAX at a time. 1 once every VU has been looked at. */
static int
sp_vu_close_paced(struct sp_vu_engine *e)
{
	while (e->close_next < e->nvus && e->closing < SP_VU_CLOSING_MAX) {
		struct sp_vu *v = &e->vus[e->close_next++];

		if (v->state == SP_VU_IDLE && v->c != NULL) {
			sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
			e->closing++;
		}
	}
	return e->close_next == e->nvus;
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
	 * response) may finish; everything else ends now, and VUs that ran
	 * their vu_setup run their vu_teardown (a vu_teardown already on
	 * goes on). */
	if (e->pl->nscenarios != 0 && sp_vu_has_vu_teardown(e->pl))
		e->grace_end = now + SP_VU_TEARDOWN_GRACE_US;
	for (uint32_t i = 0; i < e->nvus; i++) {
		struct sp_vu *v = &e->vus[i];

		if (v->state == SP_VU_REQUEST || v->state == SP_VU_CONNECT ||
		    (v->state != SP_VU_IDLE && sp_vu_life_goes_on(e, v)))
			continue;
		sp_vu_interrupt(e, v, 1);
		if (v->set_up && sp_vu_leave(e, v))
			sp_vu_advance(e, v);
	}
}

int
sp_vu_drain(struct sp_vu_engine *e, uint64_t now, int hurry)
{
	if (!e->stopping)
		sp_vu_stop(e, now);
	sp_vu_run_timers(e, now);
	if (!sp_vu_close_paced(e) && now < e->grace_end && !hurry)
		return 0;
	if (e->s.vus_active != 0 && now < e->grace_end && !hurry)
		return 0;
	/* What is left is cut, teardowns too. */
	e->hurry = 1;
	for (uint32_t i = 0; i < e->nvus; i++)
		sp_vu_interrupt(e, &e->vus[i], 0);
	return 1;
}

/* Setup's outcome: it passed when its one iteration ran to its end and
 * none of its requests failed (an unexpected status, a check or a
 * capture too, which fail a request and not its iteration); else why,
 * naming the first request that failed. */
static int
sp_vu_setup_verdict(struct sp_vu_engine *e)
{
	const struct sp_plan *pl = e->pl;
	uint32_t si = pl->setup_scen - 1;
	const struct sp_scenario *sc = &pl->scenarios[si];
	const char *kind = "?";

	for (unsigned k = 0; k < SP_VU_E_N; k++)
		if (e->life.err[k] != 0) {
			kind = sp_vu_err_name((enum sp_vu_err)k);
			break;
		}
	for (uint32_t k = 0; k < sc->nsteps; k++) {
		const struct sp_step *st = &sc->steps[k];
		const struct sp_vu_req_stats *r = &e->rs[st->req];

		if (st->kind != SP_STEP_REQUEST)
			continue;
		if (r->failed != 0 || r->interrupted != 0) {
			snprintf(e->sh->why, sizeof(e->sh->why),
				 "request '%s' %s%s%s",
				 pl->requests[st->req].name,
				 r->failed ? "failed (" : "was interrupted",
				 r->failed ? kind : "", r->failed ? ")" : "");
			return SP_VU_SETUP_FAILED;
		}
	}
	if (e->ss[si].completed == 1)
		return SP_VU_SETUP_DONE;
	snprintf(e->sh->why, sizeof(e->sh->why), "interrupted");
	return SP_VU_SETUP_FAILED;
}

/* Engine 0: the run's setup on VU 0, before the load. The others wait
 * for its outcome (sp_vu_shared.state). */
int
sp_vu_setup(struct sp_vu_engine *e, uint64_t now, int stop)
{
	struct sp_vu *v = &e->vus[0];
	int st;

	if (e->pl->setup_scen == 0)
		return SP_VU_SETUP_DONE;
	if (!e->lead)
		return __atomic_load_n(&e->sh->state, __ATOMIC_ACQUIRE);
	switch (e->life_phase) {
	case SP_VU_LP_BEFORE:
		e->life_phase = SP_VU_LP_SETUP;
		sp_vu_begin(e, v, e->pl->setup_scen - 1, now);
		sp_vu_advance(e, v);
		break;
	case SP_VU_LP_SETUP:
		sp_vu_run_timers(e, now);
		if (stop && v->state != SP_VU_IDLE) {
			e->hurry = 1;
			sp_vu_interrupt(e, v, 0);
			e->hurry = 0;
		}
		break;
	default:
		return __atomic_load_n(&e->sh->state, __ATOMIC_ACQUIRE);
	}
	if (v->state != SP_VU_IDLE)
		return SP_VU_SETUP_RUNNING;
	st = sp_vu_setup_verdict(e);
	/* VU 0 joins the load afresh. */
	sp_vu_vars_reset(e, v);
	v->iter = 0;
	e->life_phase = SP_VU_LP_LOAD;
	__atomic_store_n(&e->sh->state, st, __ATOMIC_RELEASE);
	return st;
}

/* Engine 0: the run's teardown on VU 0, after the load's drain (also
 * after a failed or stopped setup); @hurry cuts it short. 1 once over. */
int
sp_vu_teardown(struct sp_vu_engine *e, uint64_t now, int hurry)
{
	struct sp_vu *v = &e->vus[0];

	if (e->pl->teardown_scen == 0 || !e->lead)
		return 1;
	switch (e->life_phase) {
	case SP_VU_LP_TEARDOWN:
		sp_vu_run_timers(e, now);
		break;
	case SP_VU_LP_DONE:
		return 1;
	default:
		/* The drain left every VU idle: VU 0 runs it, on a
		 * connection of its own. */
		if (hurry || v->state != SP_VU_IDLE) {
			e->life_phase = SP_VU_LP_DONE;
			return 1;
		}
		e->life_phase = SP_VU_LP_TEARDOWN;
		e->hurry = 0;
		sp_vu_begin(e, v, e->pl->teardown_scen - 1, now);
		sp_vu_advance(e, v);
		break;
	}
	if (hurry && v->state != SP_VU_IDLE) {
		e->hurry = 1;
		sp_vu_interrupt(e, v, 0);
	}
	if (v->state != SP_VU_IDLE)
		return 0;
	/* Its connection closes in order. */
	sp_vu_drop_conn(e, v, SP_VU_GRACEFUL);
	e->life_phase = SP_VU_LP_DONE;
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
	sp_vu_schedule(e, now);
	return 0;
}
