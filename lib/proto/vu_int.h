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

static inline uint8_t
sp_vu_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* @a (@an bytes) equals @b (@bn), ignoring ASCII case. */
static inline int
sp_vu_ieq(const uint8_t *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (sp_vu_lower(a[i]) != sp_vu_lower((uint8_t)b[i]))
			return 0;
	return 1;
}

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
/* ... and when VUs log out at the end (vu_teardown), this long for their
 * teardowns. */
#define SP_VU_TEARDOWN_GRACE_US (30ull * 1000 * 1000)

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
	uint32_t req;       /* the request of its last request step */
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
	uint8_t life;        /* its scenario is one of the lifecycle's: its
			      * requests count in e->life, not e->s */
	uint8_t set_up;      /* it ran its vu_setup: its vu_teardown is
			      * due when it leaves */
	uint32_t next_scen;  /* the load scenario it was started for: its
			      * vu_setup and vu_teardown are that one's */
	uint16_t group;      /* its group (e->groups), for good */
};

/*
 * A group of VUs with one schedule: group 0 the plan's shared load (the
 * scenarios without a load of their own, picked by weight), then one per
 * enabled scenario with its own load, in the plan's order (only those
 * that exist: a plan whose every scenario has its own load has no shared
 * group). Each engine holds the same layout: a group's VUs are the slots
 * [first, first + n), so sp_vu_number's idx * ncores + core keeps every
 * VU's number unique across groups and cores: the shared load's numbers
 * come first, then each own load's block of n * ncores in order.
 */
struct sp_vu_group {
	const struct sp_load *ld; /* group 0: e->shared */
	uint32_t first, n;        /* its VU slots in e->vus */
	uint32_t scen;            /* own load: its scenario; SP_VU_NONE:
				   * the shared load's weighted pick */
	uint64_t end_us;          /* from the run's start: nothing new
				   * starts from here */
	struct sp_vu_sched sched[SP_PLAN_MAX_STAGES];
	/* Closed model: VUs (of the group, from 0) started up to here. */
	uint32_t target;
	/* Open model: the next arrival (µs from the group's start;
	 * UINT64_MAX: none left), the walk over the stages, idle VUs. */
	uint64_t arrivals;
	struct sp_vu_arrivals arr;
	uint64_t next_arrival;
	uint32_t free_head;
	/* A live target (sp_vu_config.live: the shared group of a capacity
	 * hunt): the last one read, and the open model's arrival clock for
	 * it (µs from the group's start, this core's every ncores-th). */
	uint64_t live_bits;
	double live_next, live_gap;
	uint8_t live;
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
	uint32_t nvus, core, ncores; /* core: its lane (sp_vu_config.shard) */
	int lead; /* runs the lifecycle's setup and teardown */
	uint32_t ws_frame_contexts; /* sp_vu_config's */
	struct sp_vu *vus;
	/* Timer heap: entries are idx * SP_VU_NTIMERS + timer. */
	uint32_t *heap;
	/* Response timeouts, oldest first: a list, not the heap, because
	 * one is set and cancelled per request and all have one length. */
	uint32_t rt_head, rt_tail;
	uint32_t nheap;
	uint64_t rng;
	uint64_t start_us;
	int running;      /* the schedule is on: start new work */
	int stopping;     /* finishing what is in flight */
	int hurry;        /* cut everything short, teardowns too */
	uint64_t stop_us; /* when it stopped starting work */
	uint64_t grace_end;
	/* The drain's paced closes: the next VU to look at, and the
	 * connections closed by it whose closed() has not come yet. */
	uint32_t close_next;
	uint32_t closing;

	/* The shared load's enabled scenarios (those without a load of
	 * their own) and their cumulative weights. */
	uint32_t *pick_scen;
	uint64_t *pick_cum;
	uint32_t npick;
	uint64_t pick_total;

	uint32_t data_row; /* next data row */

	struct sp_vu_stats s;
	struct sp_vu_req_stats *rs;
	struct sp_vu_scen_stats *ss;

	/* Variables, captures, conditions, cookie jars (vu_capture.c);
	 * NULL when the plan has none. */
	struct sp_vu_cap_pool *cap;
	uint8_t secure; /* the stream is TLS: Secure cookies go */
	uint64_t wall_ms0, mono_us0; /* the wall clock (sp_vu_config) */
	uint8_t wall_own; /* ... read by the engine itself */
	/* The shared load's target as the control lcore sets it while the
	 * run goes (sp_vu_config.live), or NULL: its stages. */
	const uint64_t *live;
	/* The lifecycle: the run's shared state (sh; sh_own when the
	 * engine made it), the lifecycle's requests' stats, and where the
	 * run's setup and teardown are. */
	struct sp_vu_shared *sh, *sh_own;
	struct sp_vu_stats life;
	uint8_t life_phase; /* enum sp_vu_life_phase */
	/* The VU groups, each with its schedule (struct sp_vu_group). */
	struct sp_vu_group *groups;
	uint32_t ngroups;
	struct sp_load shared; /* the plan's top-level load, as a load */
	/* The data file's random order (sp_data): the run's seed, the same
	 * on every core, and for unique rows its permutation of them. */
	uint64_t data_seed;
	uint32_t *data_perm;
};

/* Where the lifecycle is (engine 0 runs setup and teardown on VU 0). */
enum sp_vu_life_phase {
	SP_VU_LP_BEFORE = 0, /* nothing run yet */
	SP_VU_LP_SETUP,      /* VU 0 runs setup */
	SP_VU_LP_LOAD,       /* setup over: the load may start */
	SP_VU_LP_TEARDOWN,   /* VU 0 runs teardown */
	SP_VU_LP_DONE,
};

/* The counters a VU's requests and iterations go to. */
static inline struct sp_vu_stats *
sp_vu_st(struct sp_vu_engine *e, const struct sp_vu *v)
{
	return v->life ? &e->life : &e->s;
}

static inline const struct sp_scenario *
sp_vu_scen(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &e->pl->scenarios[v->scen];
}

/* The request the VU is on (from its request step's start to its end:
 * what is read of it happens then), and its index in the plan. */
static inline const struct sp_request *
sp_vu_req(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &e->pl->requests[v->req];
}

static inline uint32_t
sp_vu_req_idx(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	(void)e;
	return v->req;
}

/* The VU's number in the whole run, from vu_offset + 1 ({{vu}}): engine
 * @core of @ncores runs every ncores-th; groups' numbers are disjoint
 * blocks (struct sp_vu_group). */
static inline uint64_t
sp_vu_number(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return e->pl->vu_offset + (uint64_t)v->idx * e->ncores + e->core + 1;
}

/* The wall clock (ms since the epoch) at the engine's time @t_us: for
 * {{time_ms}} and cookies' expiry, with no system call. */
static inline uint64_t
sp_vu_wall_ms(const struct sp_vu_engine *e, uint64_t t_us)
{
	return t_us >= e->mono_us0 ? e->wall_ms0 + (t_us - e->mono_us0) / 1000 :
				     e->wall_ms0 - (e->mono_us0 - t_us) / 1000;
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
	uint8_t captures_ok; /* its captures found their values (or it
			      * had none) */
	uint8_t conn;      /* enum sp_vu_conn_next */
};

/* ---- engine API for clients (vu.c) ---- */

/* Bytes the VU's connection would take now. */
uint32_t sp_vu_write_space(struct sp_vu_engine *e, struct sp_vu *v);
/* Queue @n bytes on the VU's connection (as sp_stream_ops.send), timing
 * the step's first frame and counting the bytes. @stays: the bytes stay
 * unchanged and in place for the run (send_ref may refer to them). */
int32_t sp_vu_write(struct sp_vu_engine *e, struct sp_vu *v, const void *p,
		    uint32_t n, int stays);
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

/* ---- vu_capture.c: variables, captures, conditions, cookies ---- */

/* The bytes of a request's path kept for its cookies (sp_vu_path_cut). */
#define SP_VU_CAP_PATH 64

/* A VU's response being read for its captures and Set-Cookie fields. */
struct sp_vu_capst {
	struct sp_vu_engine *e;
	struct sp_vu *v;
	const struct sp_request *rq;
	uint32_t scr;        /* borrowed scratch, or SP_VU_NONE */
	uint32_t line_len;   /* the field value kept so far */
	uint32_t body_len;   /* body bytes kept */
	uint8_t name[32];    /* the field's name (longer: not ours) */
	uint8_t name_len;    /* up to sizeof(name) + 1 */
	uint8_t in_value;    /* the field's value is being read */
	uint8_t want;        /* 0, 1 Set-Cookie, 2 + k header capture k */
	uint8_t line_over;   /* the value was longer than a line's room */
	uint8_t body_cut;    /* the body went on past the window */
	uint8_t no_room;     /* the scratch pool was empty */
	uint8_t path_len;
	const char *path_p;  /* the path's bytes: path, or a prebuilt one's */
	char path[SP_VU_CAP_PATH]; /* a rendered request's (sp_vu_cap_path) */
};

int sp_vu_cap_init(struct sp_vu_engine *e, char *err, size_t errlen);
void sp_vu_cap_fini(struct sp_vu_engine *e);
/* The VU's variable slots (setup's and teardown's: the shared ones), or
 * NULL when the plan has none; the bytes per slot. */
uint8_t *sp_vu_vars(const struct sp_vu_engine *e, const struct sp_vu *v);
uint32_t sp_vu_var_slot(const struct sp_vu_engine *e);
uint32_t sp_vu_slot_of(const struct sp_plan *pl);
void sp_vu_vars_clear(uint8_t *vars, uint32_t nvars, uint32_t slot);
/* A VU starts afresh (its variables unset, its jar empty). */
void sp_vu_vars_reset(struct sp_vu_engine *e, struct sp_vu *v);
/* Whether @rq can be sent by the VU: 0, or SP_VU_E_UNSET_VAR + 1 or
 * SP_VU_E_UNSAFE_VALUE + 1 for its variables. */
unsigned sp_vu_req_vars_ok(const struct sp_vu_engine *e, const struct sp_vu *v,
			   const struct sp_request *rq);
/* Whether plan->conds[@ci] holds for the VU. */
int sp_vu_cond(struct sp_vu_engine *e, const struct sp_vu *v, uint32_t ci);
/* The jar's Cookie value for the VU's request to @path (as rendered,
 * @path_len bytes) at @out (room @cap): its length, 0 for none. */
uint32_t sp_vu_cookie_header(struct sp_vu_engine *e, const struct sp_vu *v,
			     const uint8_t *path, uint32_t path_len,
			     uint8_t *out, uint32_t cap);
/* Whether the VU's jar holds a cookie (expired or not). */
int sp_vu_jar_has(const struct sp_vu_engine *e, const struct sp_vu *v);
struct sp_vu_capst *sp_vu_capst_of(const struct sp_vu_engine *e,
				   const struct sp_vu *v);
/* Whether a response to @rq must be heard field by field, or its body
 * kept, for captures or the jar. */
int sp_vu_cap_hears_headers(const struct sp_vu_engine *e,
			    const struct sp_request *rq);
int sp_vu_cap_reads_body(const struct sp_vu_engine *e,
			 const struct sp_request *rq);
void sp_vu_cap_start(struct sp_vu_engine *e, struct sp_vu *v,
		     struct sp_vu_capst *cs, const struct sp_request *rq);
/* The request's path as rendered (@p, @n bytes, query included) cut to
 * what its cookies are matched against, at @dst (SP_VU_CAP_PATH bytes):
 * its length. */
uint8_t sp_vu_path_cut(char *dst, const uint8_t *p, uint32_t n);
/* The request's path for its cookies: @p, @n as rendered, kept in @cs. */
void sp_vu_cap_path(struct sp_vu_capst *cs, const uint8_t *p, uint32_t n);
/* The same, already cut (sp_vu_path_cut) where it stays (a prebuilt
 * request's): not copied. */
static inline void
sp_vu_cap_path_at(struct sp_vu_capst *cs, const char *p, uint8_t n)
{
	cs->path_p = p;
	cs->path_len = n;
}
void sp_vu_cap_on_header(struct sp_vu_capst *cs, enum sp_http1_hdr_part part,
			 const uint8_t *p, size_t n);
void sp_vu_cap_on_body(struct sp_vu_capst *cs, const uint8_t *p, size_t n);
/* A whole response with the expected @status: run the captures; 1 when
 * every one found its value. */
int sp_vu_cap_done(struct sp_vu_engine *e, struct sp_vu *v,
		   struct sp_vu_capst *cs, int status);
/* Give back the VU's scratch (its response ended some other way). */
void sp_vu_cap_release(struct sp_vu_engine *e, struct sp_vu *v);

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
