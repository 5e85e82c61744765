/*
 * sp_plan: a validated, immutable load plan.
 *
 * The scenario loader (app/scenario.c, YAML through libyaml) and the
 * command line build it; the virtual-user engine (sp_vu.h) only reads it.
 * Everything a run needs is decided here, before the first packet: strings
 * are NUL-terminated and owned by the plan, request templates are split
 * into literal bytes and variable slots, checks are compiled. Nothing in
 * the plan changes while the load runs, so every worker core can share it.
 */
#ifndef SP_PLAN_H
#define SP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define SP_PLAN_MAX_STAGES 64
#define SP_PLAN_MAX_LOOP_DEPTH 4
#define SP_PLAN_MAX_STATUS 1000 /* status codes 0..999 in a check's set */

enum sp_model {
	SP_MODEL_CLOSED = 0, /* N VUs, each loops over its scenario */
	SP_MODEL_OPEN,       /* iterations start at a rate, capped by max_vus */
};

/* One stage: ramp linearly from the previous stage's target (0 before the
 * first stage) to @target over @duration_us. Closed model: VUs. Open
 * model: iterations per second. */
struct sp_stage {
	uint64_t duration_us;
	double target;
};

/* What a template part stands for. */
enum sp_var {
	SP_VAR_LITERAL = 0, /* text[off .. off+len) */
	SP_VAR_VU,          /* {{vu}}: the VU's number, from 1 */
	SP_VAR_ITERATION,   /* {{iteration}}: the VU's iteration, from 0 */
	SP_VAR_RANDOM,      /* {{random A B}}: uniform integer in [lo, hi] */
	SP_VAR_DATA,        /* {{data.COLUMN}}: column @col of the
			     * iteration's row of the data file */
};
/* {{env NAME}} is replaced by the variable's value when the plan is
 * built: it is a literal by the time the plan exists. */

struct sp_tpl_part {
	uint8_t var;       /* enum sp_var */
	uint32_t off, len; /* SP_VAR_LITERAL: bytes in the template's text */
	uint32_t col;      /* SP_VAR_DATA */
	int64_t lo, hi;    /* SP_VAR_RANDOM, lo <= hi */
};

/* A string with variables. nparts == 0 is the empty string. */
struct sp_tpl {
	const char *text;
	uint32_t text_len;
	const struct sp_tpl_part *parts;
	uint32_t nparts;
};

/* Whether @t renders to the same bytes every time: no part is a
 * variable (the empty string included). */
static inline int
sp_tpl_is_static(const struct sp_tpl *t)
{
	for (uint32_t i = 0; i < t->nparts; i++)
		if (t->parts[i].var != SP_VAR_LITERAL)
			return 0;
	return 1;
}

/* Longest value a variable renders to, for bounds: a 20-digit integer
 * with sign, or a data cell (data->max_cell_len). */
#define SP_TPL_INT_MAX_LEN 21

enum sp_method {
	SP_METHOD_GET = 0,
	SP_METHOD_POST,
	SP_METHOD_PUT,
	SP_METHOD_PATCH,
	SP_METHOD_DELETE,
	SP_METHOD_HEAD,
	SP_METHOD_N
};

/* Response checks. A request whose response fails any of them is counted
 * as "check failed" (per request and in total); the iteration goes on. */
struct sp_check {
	int has_status;                   /* status must be in the set */
	uint64_t status_set[(SP_PLAN_MAX_STATUS + 63) / 64]; /* bit per code */
	const char *header;               /* header name that must be present
					   * (case-insensitive), or NULL */
	uint32_t header_len;
	const char *body_contains;        /* bytes the body must contain, or NULL */
	uint32_t body_contains_len;
	const uint32_t *body_contains_kmp; /* KMP failure table of
					    * body_contains (body_contains_len
					    * entries), for a streaming match */
	int64_t body_size;                /* exact body size, or -1 */
};

struct sp_request {
	const char *name;       /* for the report: `name:` or "GET /path" */
	uint8_t method;         /* enum sp_method */
	struct sp_tpl path;     /* origin-form target: "/path?query" */
	/* Header lines after the request line and Host, each "Name: value"
	 * followed by CRLF, already validated (no CR/LF/CTL inside a line).
	 * Host, Content-Length and Connection are never in here: the engine
	 * writes them. */
	struct sp_tpl headers;
	int has_body;           /* send Content-Length even when empty */
	struct sp_tpl body;
	struct sp_check check;
};

enum sp_step_kind {
	SP_STEP_REQUEST = 0,
	SP_STEP_THINK,
	SP_STEP_LOOP,     /* body: steps [i+1, end); step `end` is its END */
	SP_STEP_LOOP_END, /* jumps back to `begin` + 1 until count is done */
};

struct sp_step {
	uint8_t kind;   /* enum sp_step_kind */
	uint8_t depth;  /* LOOP, LOOP_END: nesting depth from 0 (< MAX) */
	uint32_t req;   /* REQUEST: index into plan->requests */
	uint64_t think_min_us, think_max_us; /* THINK: uniform in [min, max] */
	uint32_t count; /* LOOP, LOOP_END: times the body runs (>= 1) */
	uint32_t begin, end; /* LOOP: end = index of its LOOP_END;
			      * LOOP_END: begin = index of its LOOP */
};

struct sp_scenario {
	const char *name;
	uint32_t weight;         /* >= 1 */
	const char *const *tags;
	uint32_t ntags;
	int enabled;             /* after --tags / --exclude-tags */
	int keep_alive;          /* 0: "Connection: close" on every request */
	uint32_t max_requests_per_conn; /* 0: no limit */
	const struct sp_step *steps;
	uint32_t nsteps;         /* >= 1, at least one REQUEST */
};

/* The CSV data file: the first line names the columns. Each iteration
 * takes the next row (one counter per worker core, wrapping around). */
struct sp_data {
	uint32_t ncols, nrows;
	const char *const *cols;   /* column names */
	const char *const *cells;  /* nrows * ncols, row-major */
	const uint32_t *cell_len;
	uint32_t max_cell_len;
};

/* Network keys of the file, kept as the strings the user wrote: the app
 * hands them to the same parser as --port/--ip/... (the command line wins,
 * so it parses them first and skips keys it already has). NULL: unset. */
struct sp_plan_net {
	const char *port, *ip, *gateway, *prefix_len, *cores, *eal, *placement;
};

/*
 * A pass/fail criterion on the run's results (grammar in app/threshold.c
 * and the README):  [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE
 */
enum sp_th_scope { SP_TH_GLOBAL = 0, SP_TH_SCENARIO, SP_TH_REQUEST };
enum sp_th_phase {
	SP_TH_LATENCY = 0, /* full response, from its intended start */
	SP_TH_CONNECT,     /* SYN to established */
	SP_TH_TTFB,        /* request queued to first response byte */
	SP_TH_ITERATION,   /* whole iteration */
};
enum sp_th_stat {
	SP_TH_QUANTILE = 0, /* p(N) */
	SP_TH_MEAN, SP_TH_MIN, SP_TH_MAX,
	SP_TH_ERRORS,       /* failed / started (requests, or iterations) */
	SP_TH_RPS,          /* responses (or completed iterations) per second */
	SP_TH_CHECKS,       /* responses whose checks held / responses checked */
};
enum sp_th_op { SP_TH_LT = 0, SP_TH_LE, SP_TH_GT, SP_TH_GE, SP_TH_EQ, SP_TH_NE };

struct sp_threshold {
	const char *expr;     /* as written, for the report */
	uint8_t scope, phase, stat, op;
	uint32_t name_off, name_len; /* the scope's NAME within expr */
	uint32_t idx;         /* the scenario or request it names */
	double q;             /* SP_TH_QUANTILE: 0 < q <= 1 */
	double value;         /* times in ms, rates as fractions, rps in 1/s */
	int abort;            /* stop the run as soon as it fails */
	uint64_t grace_us;    /* ... but not in the run's first grace_us */
};

struct sp_plan {
	const char *source;      /* file name, or "command line" */

	/* target: http://A.B.C.D[:PORT] in 198.18.0.0/15 */
	uint32_t dst_ip;         /* host order */
	uint16_t dst_port;
	const char *host;        /* Host header value: "A.B.C.D" or with ":PORT" */

	struct sp_plan_net net;

	/* load */
	uint8_t model;           /* enum sp_model */
	uint32_t vus;            /* closed, no stages: VUs for the whole run */
	double rate;             /* open, no stages: iterations per second */
	uint32_t max_vus;        /* open: VUs at most (and closed: stage peak) */
	uint64_t duration_us;    /* whole run; with stages, their sum */
	struct sp_stage stages[SP_PLAN_MAX_STAGES];
	uint32_t nstages;        /* 0: constant vus / rate */
	uint64_t connect_timeout_us;
	uint64_t response_timeout_us; /* first request byte sent -> response done */
	uint64_t seed;           /* 0: random at start */

	const struct sp_scenario *scenarios;
	uint32_t nscenarios;     /* >= 1 enabled */
	const struct sp_request *requests;
	uint32_t nrequests;
	const struct sp_data *data; /* NULL: no data file */
	const struct sp_threshold *thresholds;
	uint32_t nthresholds;

	/* The loader's own state (app/scenario.c): every block behind the
	 * pointers above, and which keys the file and the command line gave
	 * (the precedence rules need it until sp_scenario_finish). Readers
	 * ignore it; sp_scenario_free releases it. */
	void *priv;
};

#endif /* SP_PLAN_H */
