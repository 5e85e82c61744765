/*
 * sp_vu: HTTP/1.1 virtual users on one core's stream (sp_stream.h).
 *
 * An engine runs the plan's scenarios over one stream implementation (the
 * TCP stack, through app/stream_tcp.c; a fake one in unit tests): VUs are state
 * machines over the scenario's steps (request, think, loop) that never
 * block; each VU keeps its own keep-alive connection. The closed model
 * keeps a (possibly staged) number of VUs looping; the open model starts
 * iterations at a (possibly staged) rate on idle VUs, counts an arrival
 * that finds none as dropped, and measures latency from when each request
 * should have started, so a stalled server shows as latency. The
 * scenarios without a load of their own share the plan's top-level load,
 * picked by weight; each scenario with its own (sp_scenario.load) runs
 * beside them on VUs of its own, from its start to its end.
 *
 * Everything is allocated by sp_vu_create. The engine reads the clock
 * through a pointer the caller keeps current (the time of the receive
 * burst being processed), so stream callbacks see the time of their frame;
 * a request's first frame is timed when the caller hands it to the port
 * (sp_vu_flushed).
 *
 * Counters have one writer, the engine's core; other cores may read them
 * at any time (a read may be a poll late, never torn on 64-bit targets).
 * At every instant: started = completed + failed + in flight, for
 * iterations and for requests.
 */
#ifndef SP_VU_H
#define SP_VU_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sp_hist.h"
#include "sp_plan.h"
#include "sp_reqlog.h"
#include "sp_stream.h"

/* Why a request failed. Every failed request has exactly one kind. */
enum sp_vu_err {
	SP_VU_E_REFUSED = 0,      /* RST in answer to our SYN */
	SP_VU_E_CONNECT_TIMEOUT,  /* no SYN-ACK in time */
	SP_VU_E_RESET,            /* RST on an established connection */
	SP_VU_E_TCP_TIMEOUT,      /* our retransmissions went unanswered */
	SP_VU_E_CLOSED,           /* closed before any byte of the response */
	SP_VU_E_RESPONSE_TIMEOUT, /* no complete response within the timeout */
	SP_VU_E_BAD_STATUS,       /* parse errors, one kind each */
	SP_VU_E_BAD_HEADER,
	SP_VU_E_HEADER_TOO_BIG,
	SP_VU_E_BAD_CHUNK,
	SP_VU_E_BAD_LENGTH,
	SP_VU_E_BAD_VERSION,
	SP_VU_E_TRUNCATED,      /* closed inside a response */
	SP_VU_E_UNSOLICITED,    /* bytes beyond the response (framing lost) */
	SP_VU_E_UPGRADE,        /* 101 Switching Protocols to a request that
				  * asked for no upgrade (RFC 9110 7.8) */
	SP_VU_E_CHECK,          /* a complete response failed a check */
	SP_VU_E_HTTP_STATUS,    /* a complete response whose status was not
				  * expected (>= 400 by default) */
	SP_VU_E_UNSAFE_VALUE,   /* a data value would have broken the
				  * request (CR/LF in a header, a space in
				  * the path): not sent */
	SP_VU_E_TLS_HANDSHAKE,  /* the TLS handshake failed (version,
				  * cipher, protocol, a close within it) */
	SP_VU_E_TLS_VERIFY,     /* the server's certificate was refused */
	SP_VU_E_TLS_ALERT,      /* the server sent a fatal alert */
	SP_VU_E_TLS_BAD_RECORD, /* the server sent what is not a record */
	SP_VU_E_TLS_TIMEOUT,    /* no handshake within the connect timeout */
	SP_VU_E_WS_HANDSHAKE,   /* a WebSocket upgrade not answered by 101
				  * with the right Sec-WebSocket-Accept (or
				  * an unoffered subprotocol or extension) */
	SP_VU_E_CAPTURE,        /* a complete response in which a capture
				  * found nothing (counted as a response
				  * too, as a failed check is) */
	SP_VU_E_UNSET_VAR,      /* the request uses a variable no capture
				  * has set for its VU: not sent */
	SP_VU_E_N
};

const char *sp_vu_err_name(enum sp_vu_err k);

/*
 * Why a WebSocket session failed. A session starts with its upgrade
 * request and ends completed (close handshake done, or the block's steps
 * done and closed), failed (exactly one kind below) or interrupted (the
 * run stopped): started = completed + failed + interrupted + open.
 */
enum sp_vu_ws_err {
	SP_VU_WS_E_UPGRADE = 0,     /* its upgrade request failed: the kind
				     * is that request's (err[]) */
	SP_VU_WS_E_PROTOCOL,        /* RFC 6455 broken by the server: a
				     * masked frame, reserved bits, an
				     * unknown opcode, a bad control frame
				     * or continuation (we close 1002) */
	SP_VU_WS_E_UTF8,            /* text not UTF-8 (we close 1007) */
	SP_VU_WS_E_TOO_BIG,         /* a message over ws_max_message (1009) */
	SP_VU_WS_E_CLOSED_ABNORMALLY, /* the connection ended without a
				       * close frame (RST, FIN, TLS, timeout) */
	SP_VU_WS_E_EXPECT_TIMEOUT,  /* an expect step's messages did not
				     * come within its timeout */
	SP_VU_WS_E_POOL,            /* ours: the engine's pool of frame
				     * contexts (or regex windows, or
				     * rendered contains) was empty, so a
				     * frame could not be read or an expect
				     * could not start (we close 1011; not
				     * the server's) */
	SP_VU_WS_E_UNSET_VAR,       /* ours: a step's message or expect's
				     * contains names a variable no capture
				     * has set for the VU (we close 1000) */
	SP_VU_WS_E_N
};

const char *sp_vu_ws_err_name(enum sp_vu_ws_err k);

/* Close codes received, by bucket (sp_vu_ws_close_bucket). */
enum {
	SP_VU_WS_CLOSE_1000 = 0, /* 1000..1015: bucket code - 1000 */
	SP_VU_WS_CLOSE_NONE = 16, /* a close frame without a code (1005) */
	SP_VU_WS_CLOSE_3XXX,      /* 3000..3999: registered */
	SP_VU_WS_CLOSE_4XXX,      /* 4000..4999: private */
	SP_VU_WS_CLOSE_OTHER,     /* any other (a protocol error) */
	SP_VU_WS_CLOSE_N
};

static inline unsigned
sp_vu_ws_close_bucket(int code)
{
	if (code < 0)
		return SP_VU_WS_CLOSE_NONE;
	if (code >= 1000 && code <= 1015)
		return (unsigned)(code - 1000);
	if (code >= 3000 && code <= 3999)
		return SP_VU_WS_CLOSE_3XXX;
	if (code >= 4000 && code <= 4999)
		return SP_VU_WS_CLOSE_4XXX;
	return SP_VU_WS_CLOSE_OTHER;
}

/* Per named request (index as plan->requests). */
struct sp_vu_req_stats {
	uint64_t started;   /* first byte queued (or connect begun) */
	uint64_t responses; /* complete responses */
	uint64_t failed;    /* no complete response, an unexpected status,
			       * or a check failed */
	uint64_t check_failed;
	uint64_t status_failed; /* a response with an unexpected status */
	uint64_t interrupted;   /* in flight when the run stopped */
	struct sp_hist latency; /* µs from intended start to full response */
	struct sp_hist ttfb;    /* µs from request queued to its first byte */
};

/* Per scenario (index as plan->scenarios). */
struct sp_vu_scen_stats {
	uint64_t started, completed, failed, interrupted, dropped;
	struct sp_hist iteration; /* µs, completed and failed iterations */
};

struct sp_vu_stats {
	/* Iterations: started = completed + failed + in flight. An iteration
	 * fails when a request in it failed (no complete response); it still
	 * runs its remaining steps. A failed check or an unexpected status
	 * fails the request, not the iteration (a response came). Dropped (open model): an arrival found no idle VU and
	 * never started. */
	uint64_t it_started, it_completed, it_failed, it_interrupted,
		it_dropped;
	/* Requests: started = responses + (failed - err[CHECK] -
	 * err[HTTP_STATUS]) + in flight; a response that failed a check or
	 * had an unexpected status is counted in both. Succeeded: responses
	 * - err[CHECK] - err[HTTP_STATUS]. */
	uint64_t requests, responses, failed, interrupted;
	uint64_t err[SP_VU_E_N];
	uint64_t codes[SP_PLAN_MAX_STATUS];  /* final status of each response */
	uint64_t bytes_sent, bytes_received; /* HTTP bytes, both ways */
	uint64_t connects;                   /* connections opened (SYN sent) */
	uint64_t reconnects;     /* opened to replace a lost keep-alive one */
	uint64_t server_closes;  /* peer closed an idle keep-alive connection */
	uint64_t lenient_closes; /* responses read with a leniency of the
				     * parser (sp_http1_resp.lenient): their
				     * connections closed, not reused */
	uint64_t conns_open;     /* open at this instant */
	uint64_t connect_retries; /* our pool or ports were short: retried */
	uint64_t vus_active;      /* VUs in an iteration now */
	uint64_t vus_target;      /* closed: the schedule's VUs now */
	uint64_t arrivals;        /* open: iterations due so far */
	uint64_t checks_passed;   /* responses with checks that all held */
	uint64_t renders;         /* renders of requests with variables,
				     * one per attempt to queue them (the
				     * others are built once, at start) */
	/* WebSocket sessions: started = completed + failed + interrupted +
	 * open now (ws_open). */
	uint64_t ws_started, ws_completed, ws_failed, ws_interrupted, ws_open;
	uint64_t ws_err[SP_VU_WS_E_N];
	/* Data messages (text and binary, whole) and their payload bytes. */
	uint64_t ws_msgs_sent, ws_msgs_received;
	uint64_t ws_bytes_sent, ws_bytes_received;
	uint64_t ws_matched;   /* received messages an expect step took */
	uint64_t ws_unmatched; /* received messages no expect step took */
	uint64_t ws_pings_sent, ws_pongs_received, ws_pings_received;
	uint64_t ws_closes_sent;     /* close frames we sent */
	uint64_t ws_close_codes[SP_VU_WS_CLOSE_N]; /* close frames received */
	/* Cookies: Set-Cookie fields the jar took (stored, replaced or
	 * deleting) and those it refused or had no room for. */
	uint64_t cookies_set, cookies_dropped;
	/* Responses whose captures or Set-Cookie fields found the scratch
	 * pool empty (ours: the capture fails, the cookie is dropped). */
	uint64_t cap_no_room;
	/* Iterations not started because the data file's unique rows ran
	 * out (data: {unique: true}): the VU starts no more (an open
	 * model's arrival is not dropped, it is counted here). */
	uint64_t it_data_exhausted;
	struct sp_hist latency;   /* every complete response, from its
				     * intended start to its last byte */
	struct sp_hist connect;   /* SYN sent to established */
	struct sp_hist tls;       /* established to the TLS handshake done */
	struct sp_hist ttfb;      /* request queued to first response byte */
	struct sp_hist iteration; /* intended start to end, completed and
				     * failed iterations */
	struct sp_hist lag;       /* the generator's own lateness: a
				     * request's first frame (its SYN, or its
				     * first data on a kept connection)
				     * queued, minus its intended start */
	struct sp_hist ws_connect; /* upgrade request queued to its 101 */
	struct sp_hist ws_rtt;     /* a measured message queued to the
				    * message that answered it */
	struct sp_hist ws_session; /* upgrade request queued to the
				    * session's end, every ended session */
};

/*
 * The counters of the three stats structs above, every one, in order:
 * what is added up across engines (app/run_timeline.c). X(f) is one
 * uint64_t, A(f, n) an array of n. A counter added to a struct and not
 * here fails the assertions below (the histograms follow the counters).
 */
// clang-format off
#define SP_VU_STATS_COUNTERS(X, A)                                      \
	X(it_started) X(it_completed) X(it_failed) X(it_interrupted)    \
	X(it_dropped) X(requests) X(responses) X(failed) X(interrupted) \
	A(err, SP_VU_E_N) A(codes, SP_PLAN_MAX_STATUS) X(bytes_sent)    \
	X(bytes_received) X(connects) X(reconnects) X(server_closes)    \
	X(lenient_closes) X(conns_open) X(connect_retries)              \
	X(vus_active) X(vus_target) X(arrivals) X(checks_passed)        \
	X(renders) X(ws_started) X(ws_completed) X(ws_failed)           \
	X(ws_interrupted) X(ws_open) A(ws_err, SP_VU_WS_E_N)            \
	X(ws_msgs_sent) X(ws_msgs_received) X(ws_bytes_sent)            \
	X(ws_bytes_received) X(ws_matched) X(ws_unmatched)              \
	X(ws_pings_sent) X(ws_pongs_received) X(ws_pings_received)      \
	X(ws_closes_sent) A(ws_close_codes, SP_VU_WS_CLOSE_N)            \
	X(cookies_set) X(cookies_dropped) X(cap_no_room)                   \
	X(it_data_exhausted)
// clang-format on
// clang-format off
#define SP_VU_REQ_COUNTERS(X)                                           \
	X(started) X(responses) X(failed) X(check_failed)               \
	X(status_failed) X(interrupted)
// clang-format on
/* The histograms of struct sp_vu_stats, every one. */
#define SP_VU_STATS_HISTS(H)                                                   \
	H(latency) H(connect) H(tls) H(ttfb) H(iteration) H(lag)               \
	H(ws_connect) H(ws_rtt) H(ws_session)
#define SP_VU_SCEN_COUNTERS(X)                                                 \
	X(started) X(completed) X(failed) X(interrupted) X(dropped)

#define SP_VU_COUNT1_(f) +1
#define SP_VU_COUNTN_(f, n) +(n)
_Static_assert((0 SP_VU_STATS_COUNTERS(SP_VU_COUNT1_, SP_VU_COUNTN_)) *
			       sizeof(uint64_t) ==
		       offsetof(struct sp_vu_stats, latency),
	       "SP_VU_STATS_COUNTERS must list every counter of sp_vu_stats");
#define SP_VU_HIST1_(f) +sizeof(struct sp_hist)
_Static_assert(offsetof(struct sp_vu_stats, latency) +
			       (0 SP_VU_STATS_HISTS(SP_VU_HIST1_)) ==
		       sizeof(struct sp_vu_stats),
	       "SP_VU_STATS_HISTS must list every histogram of sp_vu_stats");
_Static_assert((0 SP_VU_REQ_COUNTERS(SP_VU_COUNT1_)) * sizeof(uint64_t) ==
		       offsetof(struct sp_vu_req_stats, latency),
	       "SP_VU_REQ_COUNTERS must list every counter of sp_vu_req_stats");
_Static_assert((0 SP_VU_SCEN_COUNTERS(SP_VU_COUNT1_)) * sizeof(uint64_t) ==
		       offsetof(struct sp_vu_scen_stats, iteration),
	       "SP_VU_SCEN_COUNTERS must list every counter of "
	       "sp_vu_scen_stats");

/* Responses that also failed their request (a check, an unexpected
 * status, a capture that found nothing): counted in both. */
static inline uint64_t
sp_vu_failed_responses(const struct sp_vu_stats *s)
{
	return s->err[SP_VU_E_CHECK] + s->err[SP_VU_E_HTTP_STATUS] +
	       s->err[SP_VU_E_CAPTURE];
}

/*
 * What the engines of one run share for its lifecycle (sp_plan.h's
 * SP_SCEN_SETUP / TEARDOWN): engine 0 runs setup and writes its
 * variables here, then publishes the outcome; the other engines wait for
 * it before their load starts, and read the variables ({{setup.NAME}})
 * only after. Made by sp_vu_shared_create for the plan.
 */
enum sp_vu_setup_state {
	SP_VU_SETUP_RUNNING = 0,
	SP_VU_SETUP_DONE,    /* setup passed (or there was none) */
	SP_VU_SETUP_FAILED,  /* why: in @why */
};
struct sp_vu_shared {
	int state;      /* enum sp_vu_setup_state: written once by engine 0
			 * (release), read by all (acquire) */
	char why[256];  /* what failed in setup */
	uint8_t *vars;  /* setup's variables, the layout of a VU's */
};
struct sp_vu_shared *sp_vu_shared_create(const struct sp_plan *pl);
void sp_vu_shared_destroy(struct sp_vu_shared *sh);

struct sp_vu_config {
	const struct sp_plan *plan;
	const uint64_t *now_us; /* the current time, kept by the caller */
	/* The caller calls sp_vu_flushed each time it hands queued frames
	 * to the port: a request's first frame is timed then. 0: timed when
	 * queued, at *now_us. */
	int flush_stamps;
	/* Several engines (one per worker core) share one plan: engine
	 * @core of @ncores runs every ncores-th VU of the closed model's
	 * target (VU numbers core+1, core+1+ncores, ...), every ncores-th
	 * arrival of the open model (of each load: the shared one's VU
	 * numbers first, then each own load's, in blocks that every engine
	 * lays out alike), and every ncores-th data row. The plan's
	 * figures are the whole run's; 0 and 1 for a single engine. */
	uint32_t core, ncores;
	/* A shard of a distributed run (--shard shard/nshards; 0/0 or 0/1:
	 * none): the engine is lane shard + nshards * core of nshards *
	 * ncores, and the split above is over the lanes of every shard, so
	 * the shards' VU numbers, arrivals and data rows interleave and add
	 * up to the plan's whatever each one's core count. Core 0 of each
	 * shard runs its setup and teardown. */
	uint32_t shard, nshards;
	/* VU slots of this engine for the plan's shared load (the
	 * scenarios without a load of their own; ignored when none is
	 * enabled). The engine adds ceil(load->max_vus / ncores) slots for
	 * each enabled scenario with its own load (sp_vu_own_slots). */
	uint32_t max_vus;
	/* wslay frame contexts (~4.2 KB each) lent to WebSocket connections
	 * while a frame is being read; 0: one per VU up to 256, then one
	 * per 8 more. A frame that finds none fails as ws_pool_empty. */
	uint32_t ws_frame_contexts;
	uint64_t seed;    /* random draws: think, weights, {{random}} */
	/* One record per finished request (a response, or a failure; not
	 * those interrupted by the end), or NULL. */
	struct sp_reqlog *reqlog;
	/* The run's lifecycle state, shared by its engines; NULL: the
	 * engine makes its own (a single engine). */
	struct sp_vu_shared *shared;
	/* The stream is TLS (https, wss): Secure cookies go out. */
	int secure;
	/* A live target for the shared (top-level) load, or NULL: the bits
	 * of a double another thread stores (sp_vu_live_set) while the run
	 * goes: the whole run's arrivals a second (open model) or VUs
	 * (closed), in place of the plan's rate, vus and stages. A capacity
	 * hunt moves it step by step. */
	const uint64_t *live;
	/* The wall clock (ms since the epoch) was wall_ms0 when the
	 * engine's clock read mono_us0: cookies' expiry dates are read
	 * against it. wall_ms0 0: the engine reads both at creation. */
	uint64_t wall_ms0, mono_us0;
	/* The run's seed, the same for every engine: the data file's
	 * random order (each core its stride of one permutation). 0: seed. */
	uint64_t data_seed;
};

/* Set a live target (sp_vu_config.live) from the control lcore. */
static inline void
sp_vu_live_set(uint64_t *live, double target)
{
	uint64_t bits;

	memcpy(&bits, &target, sizeof(bits));
	__atomic_store_n(live, bits, __ATOMIC_RELAXED);
}

struct sp_vu_engine;

/* NULL and a message in @err on failure (size limits, memory). */
struct sp_vu_engine *sp_vu_create(const struct sp_vu_config *cfg, char *err,
				  size_t errlen);
void sp_vu_destroy(struct sp_vu_engine *e);
/* The stream the engine opens its connections on: @ops with @impl as
 * their first argument. The implementation calls back through
 * sp_vu_stream_cbs() with the engine as context. */
void sp_vu_set_stream(struct sp_vu_engine *e, const struct sp_stream_ops *ops,
		      void *impl);
const struct sp_stream_cbs *sp_vu_stream_cbs(void);

/* The frames queued so far were handed to the port at @now (read just
 * before): the requests whose first frame was among them are timed, and
 * their lag recorded. Cheap when there are none. */
void sp_vu_flushed(struct sp_vu_engine *e, uint64_t now);

/* Begin the schedule at @now. */
void sp_vu_start(struct sp_vu_engine *e, uint64_t now);
/* Once per loop iteration: timers, arrivals, ramps. At the end of the
 * plan's duration it stops itself and drains (sp_vu_drain); returns 1
 * once that is over. */
int sp_vu_step(struct sp_vu_engine *e, uint64_t now);
/* Stop: no new iteration or request. Responses in flight may still
 * arrive for a short grace period; idle connections close gracefully. */
void sp_vu_stop(struct sp_vu_engine *e, uint64_t now);
/* After a stop, once per loop iteration: 1 when nothing is in flight any
 * more, or the grace period is over, or @hurry (what was left is then
 * reset and counted as interrupted). */
int sp_vu_drain(struct sp_vu_engine *e, uint64_t now, int hurry);

/* When the engine stopped starting work: the end of the plan's duration,
 * or the time of sp_vu_stop; 0 before. The load ran from sp_vu_start to
 * here; the drain after it only finishes what was in flight. */
uint64_t sp_vu_stopped_at(const struct sp_vu_engine *e);

const struct sp_vu_stats *sp_vu_stats(const struct sp_vu_engine *e);
/* The lifecycle's requests (setup, teardown, vu_setup, vu_teardown),
 * counted apart from the load's: never in sp_vu_stats. */
const struct sp_vu_stats *sp_vu_life_stats(const struct sp_vu_engine *e);

/*
 * The lifecycle around the load. Before sp_vu_start, once per loop
 * iteration: sp_vu_setup runs the plan's setup (engine 0; the others
 * wait for it) and returns SP_VU_SETUP_RUNNING until it is over, then
 * DONE or FAILED (sp_vu_shared.why says why). After the load's drain,
 * once per loop iteration: sp_vu_teardown runs the plan's teardown
 * (engine 0; @hurry: cut it short) and returns 1 once it is over.
 */
int sp_vu_setup(struct sp_vu_engine *e, uint64_t now, int stop);
int sp_vu_teardown(struct sp_vu_engine *e, uint64_t now, int hurry);
const struct sp_vu_req_stats *sp_vu_req_stats(const struct sp_vu_engine *e);
const struct sp_vu_scen_stats *sp_vu_scen_stats(const struct sp_vu_engine *e);

/* What an idle WebSocket costs beyond its TCP connection, in bytes, as
 * this engine was made (0: its plan has no ws: step). */
struct sp_vu_ws_mem {
	uint32_t vus;          /* VUs the state is made for */
	uint32_t contexts;     /* frame contexts in the pool */
	uint32_t windows;      /* regex windows in the pool (0: no regex) */
	uint32_t vu_bytes;     /* per VU: its WebSocket state, the upgrade's
				* key kept by the HTTP client */
	uint32_t context_bytes; /* one frame context, with its pool slot */
	uint32_t window_bytes;  /* one regex window, with its pool slot */
	uint32_t patterns;     /* rendered contains in the pool (0: no
				* templated contains) */
	uint32_t pattern_bytes; /* one: the pattern, its KMP table, its
				 * pool slot */
	uint32_t per_conn;     /* vu_bytes + the pools' share per VU */
};
void sp_vu_ws_mem(const struct sp_vu_engine *e, struct sp_vu_ws_mem *m);

/* Open model: the number of arrivals due in the first @t_us of the
 * schedule (exact integral of the rate, exported for tests). */
double sp_vu_arrivals_at(const struct sp_plan *pl, uint64_t t_us);
/* Closed model: VUs the schedule wants at @t_us. */
uint32_t sp_vu_target_at(const struct sp_plan *pl, uint64_t t_us);

/* The VU slots each engine of @ncores adds to sp_vu_config.max_vus for
 * the enabled scenarios with their own load: an engine holds max_vus +
 * this many VUs (what its stack and pools are sized for). */
uint32_t sp_vu_own_slots(const struct sp_plan *pl, uint32_t ncores);
/* Whether an enabled scenario shares the plan's top-level load (has no
 * load of its own). */
int sp_vu_shares(const struct sp_plan *pl);

#endif /* SP_VU_H */
