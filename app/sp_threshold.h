/*
 * Thresholds: a pass/fail criterion and the parser of its expression. DPDK-free: the scenario loader uses it for
 * the file's `thresholds:` and for --threshold.
 */
#ifndef SP_THRESHOLD_H
#define SP_THRESHOLD_H

#include <stddef.h>
#include <stdint.h>

/*
 * A pass/fail criterion on the run's results (grammar in app/threshold.c
 * and the README):  [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE
 * and, for WebSocket, ws.PHASE.STAT or ws.STAT OP VALUE.
 */
enum sp_th_scope { SP_TH_GLOBAL = 0, SP_TH_SCENARIO, SP_TH_REQUEST };
enum sp_th_phase {
	SP_TH_LATENCY = 0, /* full response, from its intended start */
	SP_TH_CONNECT,     /* SYN to established */
	SP_TH_TTFB,        /* request queued to first response byte */
	SP_TH_ITERATION,   /* whole iteration */
	SP_TH_TLS,         /* established to the TLS handshake done */
	SP_TH_WS_CONNECT,  /* ws.connect: upgrade request queued to its 101 */
	SP_TH_WS_RTT,      /* ws.rtt: a measured message's round trip */
	SP_TH_WS_SESSION,  /* ws.session: a WebSocket session, whole */
};
enum sp_th_stat {
	SP_TH_QUANTILE = 0, /* p(N) */
	SP_TH_MEAN,
	SP_TH_MIN,
	SP_TH_MAX,
	SP_TH_ERRORS,  /* failed / started (requests, or iterations) */
	SP_TH_RPS,     /* responses (or completed iterations) per second */
	SP_TH_CHECKS,  /* responses whose checks held / responses checked */
	SP_TH_DROPPED, /* open model: arrivals that found no VU, a count */
	SP_TH_DROPPED_SHARE, /* ... as a share of the arrivals (written N%) */
	SP_TH_ITERATIONS,    /* completed iterations, a count */
	SP_TH_ITER_RATE,     /* completed iterations per second of load */
	/* WebSocket, the run's only (ws.NAME): */
	SP_TH_WS_ERRORS,    /* failed sessions / started (a rate) */
	SP_TH_WS_FAILED,    /* failed sessions, a count */
	SP_TH_WS_SESSIONS,  /* completed sessions, a count */
	SP_TH_WS_SENT,      /* data messages sent, a count */
	SP_TH_WS_RECEIVED,  /* data messages received, a count */
	SP_TH_WS_UNMATCHED, /* received messages no expect took, a count */
	SP_TH_WS_SENT_RATE, /* ws.sent/s: messages sent per second of load */
	SP_TH_WS_RECV_RATE, /* ws.received/s */
};
enum sp_th_op {
	SP_TH_LT = 0,
	SP_TH_LE,
	SP_TH_GT,
	SP_TH_GE,
	SP_TH_EQ,
	SP_TH_NE
};

struct sp_threshold {
	const char *expr; /* as written, for the report */
	uint8_t scope, phase, stat, op;
	uint32_t name_off, name_len; /* the scope's NAME within expr */
	uint32_t idx;                /* the scenario or request it names */
	double q;                    /* SP_TH_QUANTILE: 0 < q <= 1 */
	double value;      /* times in ms, rates and shares as fractions,
			       * rps in 1/s, counts as they are */
	int abort;         /* stop the run as soon as it fails */
	uint64_t grace_us; /* ... but not in the run's first grace_us */
};

/* Parse @expr into @t (t->expr = @expr, which must outlive @t; scope
 * names stay unresolved). 0, or -1 with why it is wrong in @why. */
int sp_threshold_parse(const char *expr, struct sp_threshold *t, char *why,
		       size_t whylen);

/* Whether @value meets @t. */
int sp_threshold_holds(const struct sp_threshold *t, double value);

/* The value as the report shows it: rates in percent, the rest as is. */
double sp_threshold_shown(const struct sp_threshold *t, double value);

/*
 * The value @t compares (app/th_value.c): from a run's figures @s, the
 * requests of @t's request: scope added up @req (read for that scope
 * only), the scenario of its scenario: scope @scen (likewise), over
 * @elapsed_s seconds of load. Times in ms, shares as fractions. `stampede
 * run` and `stampede merge` both judge by it.
 */
struct sp_vu_stats;
struct sp_vu_req_stats;
struct sp_vu_scen_stats;
double sp_threshold_value(const struct sp_threshold *t,
			  const struct sp_vu_stats *s,
			  const struct sp_vu_req_stats *req,
			  const struct sp_vu_scen_stats *scen, double elapsed_s);

#endif /* SP_THRESHOLD_H */
