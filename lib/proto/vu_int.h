/*
 * The virtual-user engine's own types, shared by its files (private to
 * lib/proto):
 *   vu.c        the engine: VUs' steps, timers, stream callbacks, the
 *               schedule's driving, accounting
 *   vu_life.c   creation (pools, clients), destruction, getters
 *   vu_http.c   the HTTP/1.1 protocol client (struct sp_vu_client)
 *   vu_ws.c     the WebSocket protocol client (wslay's frame API);
 *               vu_ws_hs.c the upgrade's checks the HTTP client runs
 *               for it, vu_ws_life.c its pools (vu_ws_int.h)
 *   vu_check.c  HTTP response checks read as the bytes arrive
 *   vu_render.c the request builder (reads struct sp_vu_render only)
 *   vu_sched.c  the schedule's arithmetic (reads the plan only)
 * Arrows run one way. The engine reaches a protocol client only through
 * its table (e->clients); a client calls the engine only through the API
 * below ("engine API for clients") and the builders and checks it uses;
 * vu_check, vu_render and vu_sched call nothing of theirs.
 */
#ifndef SP_VU_INT_H
#define SP_VU_INT_H

#include <stdint.h>

#include "sp_counter.h"
#include "sp_http1.h"
#include "sp_vu.h"
#include "sp_ws.h"
#include "vu_sched.h"

#define SP_VU_NONE UINT32_MAX
#define SP_VU_RETRY_US 1000      /* connect retry when our pool is short */
#define SP_VU_OPENS_PER_STEP 256 /* new iterations per loop iteration */
/* At the end, idle connections close at most this many at a time (ours
 * closed, their closed() not yet come): a run that holds 100,000 must not
 * send 100,000 FINs in one burst that the peer's receive ring drops. */
#define SP_VU_CLOSING_MAX 64
/* After the end of the schedule (or a stop), requests in flight get this
 * long to finish, within their response timeout: a run that ends with a
 * clean cut counts what the server did answer. */
#define SP_VU_GRACE_US (3ull * 1000 * 1000)

enum sp_vu_state {
	SP_VU_IDLE = 0, /* no iteration */
	SP_VU_RUN,      /* between steps (transient) */
	SP_VU_CONNECT,  /* waiting for the connection of its request */
	SP_VU_REQUEST,  /* request queued (maybe partly), reading response */
	SP_VU_THINK,    /* timer */
	SP_VU_RETRY,    /* timer: connect again */
	SP_VU_WS,       /* a WebSocket step is on (its client's: the step
			 * timer is the client's deadline) */
};

/* A VU's timers: each VU has one of each kind at most. */
enum sp_vu_timer {
	SP_VU_T_STEP,   /* the engine's: think, connect retry, response
			   * timeout */
	SP_VU_T_CLIENT, /* the protocol client's own (a WebSocket ping) */
	SP_VU_NTIMERS
};

/* The protocol clients a VU's connection may speak. */
enum sp_vu_proto { SP_VU_PROTO_HTTP1, SP_VU_PROTO_WS, SP_VU_NPROTO };

/* The first frame of a VU's current request (sp_vu.sent_first). */
enum sp_vu_sent {
	SP_VU_SENT_NONE,   /* not queued */
	SP_VU_SENT_QUEUED, /* queued, not yet handed to the port */
	SP_VU_SENT_PORT,   /* handed to the port at t_sent */
};

struct sp_vu {
	struct sp_stream *c;
	uint64_t t_intended; /* when the current request should start */
	uint64_t t_iter;     /* when the iteration should have started */
	uint64_t t_phase;    /* SYN sent (connecting), or request queued */
	uint64_t t_sent;     /* the request's first frame queued */
	uint64_t deadline[SP_VU_NTIMERS]; /* each when its heap_pos != NONE */
	uint64_t req_seed; /* {{random}} draws of the current request */
	uint32_t idx;      /* 0-based within the engine */
	uint32_t heap_pos[SP_VU_NTIMERS];
	/* The response timeout: in the engine's FIFO (every one has the
	 * same length, so deadlines come in the order they were set). */
	uint32_t rt_prev, rt_next; /* SP_VU_NONE at the ends */
	uint64_t rt_deadline;
	uint32_t next_free; /* open model: free list */
	uint32_t iter;      /* {{iteration}} */
	uint32_t row;       /* data row of the iteration */
	uint32_t scen, step;
	uint32_t conn_reqs; /* responses on the current connection */
	uint32_t ws_begin;  /* the upgrade REQUEST step of its ws block */
	uint64_t t_ws;      /* its WebSocket session started (upgrade) */
	uint32_t loops[SP_PLAN_MAX_LOOP_DEPTH];
	uint8_t state;
	uint8_t proto; /* enum sp_vu_proto of its connection */
	uint8_t it_failed;
	uint8_t lost_conn;   /* the server closed our keep-alive connection */
	uint8_t got_first;   /* a byte of the current response arrived */
	uint8_t sent_first;  /* enum sp_vu_sent */
	uint8_t in_lagq;     /* in the engine's lagq */
	uint8_t in_rt;       /* in the engine's response-timeout FIFO */
	uint8_t new_conn;    /* the current request opened its connection */
	uint8_t handshaking; /* its stream's own handshake is on: t_phase
				* is when it began */
	uint8_t ws_live;     /* a WebSocket session started (its upgrade
				* request) and is not yet counted as ended */
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
	/* The protocol clients and their pools (each its own type). */
	const struct sp_vu_client *clients[SP_VU_NPROTO];
	void *client_pool[SP_VU_NPROTO];
	uint32_t nvus, core, ncores;
	uint32_t ws_frame_contexts; /* sp_vu_config's */
	struct sp_vu *vus;
	/* Timer heap: entries are idx * SP_VU_NTIMERS + timer. */
	uint32_t *heap;
	/* Response timeouts, oldest first: a list, not the heap, because
	 * one is set and cancelled per request and all have one length. */
	uint32_t rt_head, rt_tail;
	uint32_t nheap;
	uint32_t free_head; /* open model: idle VUs */
	uint64_t rng;
	uint64_t start_us;
	int running;      /* the schedule is on: start new work */
	int stopping;     /* finishing what is in flight */
	uint64_t stop_us; /* when it stopped starting work */
	uint64_t grace_end;
	/* The drain's paced closes: the next VU to look at, and the
	 * connections closed by it whose closed() has not come yet. */
	uint32_t close_next;
	uint32_t closing;

	/* The schedule, stages or one constant stage. */
	struct sp_vu_sched *sched;
	/* Closed model: VUs started up to here. */
	uint32_t target;
	/* Open model: the next arrival, and the walk over the stages. */
	uint64_t arrivals;
	struct sp_vu_arrivals arr;
	uint64_t next_arrival; /* µs since start; UINT64_MAX: none left */

	/* Enabled scenarios and their cumulative weights. */
	uint32_t *pick_scen;
	uint64_t *pick_cum;
	uint32_t npick;
	uint64_t pick_total;

	uint32_t data_row; /* next data row */

	struct sp_vu_stats s;
	struct sp_vu_req_stats *rs;
	struct sp_vu_scen_stats *ss;

	/* The data file's random order (sp_data): the run's seed, the same
	 * on every core, and for unique rows its permutation of them. */
	uint64_t data_seed;
	uint32_t *data_perm;
	/* {{time_ms}}: the wall clock minus the engine's clock, in µs, read
	 * once at sp_vu_start (renders make no system call). */
	uint64_t wall_off_us;
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

/* The VU's number in the whole run, from vu_offset + 1 ({{vu}}): engine
 * @core of @ncores runs every ncores-th. */
static inline uint64_t
sp_vu_number(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return e->pl->vu_offset + (uint64_t)v->idx * e->ncores + e->core + 1;
}

/* {{time_ms}} of the engine's time @t_us. */
static inline uint64_t
sp_vu_wall_ms(const struct sp_vu_engine *e, uint64_t t_us)
{
	return (t_us + e->wall_off_us) / 1000;
}

/*
 * A protocol client: what a VU's connection speaks once open. The engine
 * owns steps, timers, scheduling and accounting; the client owns its
 * bytes: what it sends for a step, how it reads what comes back, and what
 * bytes nobody asked for mean to it. Its per-VU state is in its own pool
 * (e->client_pool[proto], made by init), so nothing allocates while the
 * load runs.
 */
struct sp_vu_client {
	const char *name;
	/* Make the pool for e->nvus VUs (and whatever else it builds once);
	 * 0, or -1 with a message in @err. */
	int (*init)(struct sp_vu_engine *e, char *err, size_t errlen);
	void (*fini)(struct sp_vu_engine *e);
	/* The VU's current step starts on its open connection (the engine
	 * has armed the response timeout). */
	void (*start)(struct sp_vu_engine *e, struct sp_vu *v);
	/* Send space freed while the step is on. */
	void (*writable)(struct sp_vu_engine *e, struct sp_vu *v);
	/* Bytes from the peer, in any state of the VU's. */
	void (*data)(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *p,
		     uint32_t n);
	/* The peer closed its side while the step was on (@clean: see
	 * sp_stream_cbs). */
	void (*peer_closed)(struct sp_vu_engine *e, struct sp_vu *v, int clean);
	/* Its SP_VU_T_CLIENT timer fired. */
	void (*timer)(struct sp_vu_engine *e, struct sp_vu *v);
	/*
	 * Clients with steps of their own (WebSocket; NULL for HTTP/1.1,
	 * whose only step is the engine's REQUEST):
	 * step: the VU's current step @s (one of the client's kinds) starts
	 * on its open connection; returns SP_VU_STEP_DONE (go on now),
	 * SP_VU_STEP_WAIT (the client calls sp_vu_proto_next later) or
	 * SP_VU_STEP_OVER (the session ended: skip the rest of its block).
	 * step_timer: the step timer it set (sp_vu_step_timer) fired.
	 * interrupt: the run stops with its session open: say goodbye
	 * (the engine counts the session interrupted and drops the
	 * connection after).
	 */
	int (*step)(struct sp_vu_engine *e, struct sp_vu *v,
		    const struct sp_step *s);
	void (*step_timer)(struct sp_vu_engine *e, struct sp_vu *v);
	void (*interrupt)(struct sp_vu_engine *e, struct sp_vu *v);
};

enum { SP_VU_STEP_DONE, SP_VU_STEP_WAIT, SP_VU_STEP_OVER };

extern const struct sp_vu_client sp_vu_http1_client;
extern const struct sp_vu_client sp_vu_ws_client;

/* What became of the connection after a step's answer. */
enum sp_vu_conn_next {
	SP_VU_CONN_KEEP,        /* carries the next step */
	SP_VU_CONN_CLOSE,       /* the peer closes it (as asked): let it */
	SP_VU_CONN_LENIENT,     /* framing read leniently: close it */
	SP_VU_CONN_UNSOLICITED, /* bytes followed that no step asked for:
				 * reset it */
};

/* A step's answer, as its client read it. */
struct sp_vu_outcome {
	int status;        /* the protocol's status code (HTTP) */
	uint8_t status_ok; /* the status is one the step expects */
	uint8_t checks_ok; /* the step's checks passed */
	uint8_t checked;   /* the step had checks */
	uint8_t conn;      /* enum sp_vu_conn_next */
};

/* ---- engine API for clients (vu.c) ---- */

/* Bytes the VU's connection would take now. */
uint32_t sp_vu_write_space(struct sp_vu_engine *e, struct sp_vu *v);
/* Queue @n bytes on the VU's connection (as sp_stream_ops.send), timing
 * the step's first frame and counting the bytes. */
int32_t sp_vu_write(struct sp_vu_engine *e, struct sp_vu *v, const void *p,
		    uint32_t n);
/* The step's answer is whole. */
void sp_vu_step_done(struct sp_vu_engine *e, struct sp_vu *v,
		     const struct sp_vu_outcome *o);
/* The step failed without a whole answer; @reset: the connection is out
 * of step and is reset, else closed in order. */
void sp_vu_step_error(struct sp_vu_engine *e, struct sp_vu *v, enum sp_vu_err k,
		      int reset);
/* Bytes came that no step asked for: counted, the connection reset. */
void sp_vu_unsolicited(struct sp_vu_engine *e, struct sp_vu *v);
/* The client's own timer (SP_VU_T_CLIENT). */
void sp_vu_client_timer(struct sp_vu_engine *e, struct sp_vu *v,
			uint64_t deadline);
/* The step timer, for a client's own step (SP_VU_WS). */
void sp_vu_step_timer(struct sp_vu_engine *e, struct sp_vu *v,
		      uint64_t deadline);
/* A WebSocket upgrade succeeded (101, handshake checked): the request
 * counts as a response, the connection speaks WebSocket from here, and
 * @rest (@n bytes after the 101's head in the same piece) are its first
 * frames. */
void sp_vu_upgraded(struct sp_vu_engine *e, struct sp_vu *v,
		    const uint8_t *rest, uint32_t n);
/* The client's step (SP_VU_STEP_WAIT) ended; @over: its session ended,
 * skip to after the block's WS_END. */
void sp_vu_proto_next(struct sp_vu_engine *e, struct sp_vu *v, int over);
/* How a WebSocket session ended (sp_vu_ws_end). */
enum { SP_VU_WS_COMPLETED, SP_VU_WS_FAILED, SP_VU_WS_INTERRUPTED };
/* Count the VU's live session as ended (@how; @kind: enum sp_vu_ws_err
 * when failed); nothing if none is live. */
void sp_vu_ws_end(struct sp_vu_engine *e, struct sp_vu *v, int how,
		  unsigned kind);
/* Let go of the VU's connection (SP_VU_GRACEFUL: close it; SP_VU_RESET;
 * SP_VU_AFTER_SERVER: the server closes first). */
enum { SP_VU_GRACEFUL, SP_VU_RESET, SP_VU_AFTER_SERVER };
void sp_vu_drop_conn(struct sp_vu_engine *e, struct sp_vu *v, int how);

/* ---- vu_check.c: HTTP response checks ---- */

/* Per-VU check state, in the HTTP client's pool. */
struct sp_vu_checks {
	const struct sp_check *ck;
	uint32_t kmp;       /* body_contains matched so far */
	uint32_t hdr_match; /* bytes of the header's name matched, or
				* UINT32_MAX: this field is another */
	uint8_t hdr_found;
};

/* The parser's header callback (context: struct sp_vu_checks): the
 * check's header name, case-insensitively, in whatever pieces. */
void sp_vu_on_header(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p,
		     size_t n);
/* The parser's body callback (context: struct sp_vu_checks):
 * body_contains, by KMP. */
void sp_vu_on_body(void *ctx, const uint8_t *p, size_t n);
/* A parse error's failure kind. */
enum sp_vu_err sp_vu_parse_kind(int r);

/* ---- vu_ws_hs.c: the upgrade's side the HTTP client runs ---- */

/* A WebSocket upgrade request starts: draw its Sec-WebSocket-Key (@key,
 * NUL-ended) and get ready to check the answer's fields against it;
 * @chk: the request's own checks, to which the header callback passes
 * every piece on. */
void sp_vu_ws_offer(struct sp_vu_engine *e, struct sp_vu *v,
		    struct sp_vu_checks *chk, char key[SP_WS_KEY_LEN + 1]);
/* The parser's header callback for an upgrade (context: what
 * sp_vu_ws_hs_ctx returns). */
void sp_vu_ws_on_header(void *ctx, enum sp_http1_hdr_part part,
			const uint8_t *p, size_t n);
void *sp_vu_ws_hs_ctx(struct sp_vu_engine *e, struct sp_vu *v);
/* After a 101's head: did its fields complete the handshake (RFC 6455
 * 4.1, the client's checks 1-6)? */
int sp_vu_ws_handshake_ok(struct sp_vu_engine *e, struct sp_vu *v);

#endif /* SP_VU_INT_H */
