/*
 * The virtual-user engine's own types, shared by its files (private to
 * lib/proto):
 *   vu.c        the engine: VUs' state machines, timers, stream callbacks,
 *               the schedule's driving, accounting
 *   vu_life.c   creation (prebuilt requests, pools), destruction, getters
 *   vu_check.c  response checks read as the bytes arrive (header, body)
 *   vu_render.c the request builder (reads struct sp_vu_render only)
 *   vu_sched.c  the schedule's arithmetic (reads the plan only)
 * Arrows run one way: vu.c and vu_life.c call the other three; those call
 * nothing of theirs.
 */
#ifndef SP_VU_INT_H
#define SP_VU_INT_H

#include <stdint.h>

#include "sp_http1.h"
#include "sp_vu.h"
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

/* The VU's number in the whole run, from 1 ({{vu}}): engine @core of
 * @ncores runs every ncores-th. */
static inline uint64_t
sp_vu_number(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return (uint64_t)v->idx * e->ncores + e->core + 1;
}

/* vu_check.c: "\nName:" of the check's header, case-insensitively, across
 * any split of the head (the VU's hdr_match/hdr_found). */
void sp_vu_match_header(struct sp_vu *v, const struct sp_check *ck,
			const uint8_t *p, size_t n);
/* The parser's body callback (context: the VU): body_contains, by KMP. */
void sp_vu_on_body(void *ctx, const uint8_t *p, size_t n);
/* A parse error's failure kind. */
enum sp_vu_err sp_vu_parse_kind(int r);

#endif /* SP_VU_INT_H */
