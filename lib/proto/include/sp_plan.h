/*
 * sp_plan: a validated, immutable load plan.
 *
 * The scenario loader (app/scenario.c, YAML through libyaml) and the
 * command line build it; the virtual-user engine (sp_vu.h) only reads it.
 * It holds what the engine reads and little else: where the run goes on
 * the network, the thresholds and the seed are the app's (struct
 * sp_run_plan, app/sp_scenario.h).
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
	SP_VAR_CAPTURE,     /* {{NAME}}: the VU's variable @col
			     * (plan->vars[col]), set by a capture; unset,
			     * its request fails as unset_variable */
	SP_VAR_SETUP,       /* {{setup.NAME}}: variable @col as the run's
			     * setup captured it, the same for every VU */
	SP_VAR_UUID,        /* {{uuid}}: RFC 4122 version 4, lowercase */
	SP_VAR_TIME_MS,     /* {{time_ms}}: wall clock, ms since the epoch */
	SP_VAR_RANDOM_STRING, /* {{random_string N}}: @lo characters of
			       * [A-Za-z0-9] */
};
/* {{env NAME}} is replaced by the variable's value when the plan is
 * built: it is a literal by the time the plan exists. */

/* How a variable's value is written into its template (the filter of
 * `{{data.name | json}}`). Literal template text is never encoded. */
enum sp_enc {
	SP_ENC_RAW = 0, /* as is (| raw; a body's default) */
	SP_ENC_URL,     /* percent-encoded as JavaScript's encodeURIComponent
			 * does (| url; a path's default) */
	SP_ENC_JSON,    /* escaped for the inside of a JSON string (| json) */
};

/* Where a template goes: what its bytes may hold (RFC 9112 3.2 for a
 * request target, RFC 9110 5.5 for a field value). A rendered value that
 * breaks the rule fails its request (SP_VU_E_UNSAFE_VALUE) instead of
 * being sent: no request splitting or header injection from a data file. */
enum sp_tpl_ctx {
	SP_TPL_BODY = 0, /* anything */
	SP_TPL_PATH,     /* no space, no control byte */
	SP_TPL_HEADER,   /* no control byte but HTAB: no CR, no LF */
};

struct sp_tpl_part {
	uint8_t var;       /* enum sp_var */
	uint8_t enc;       /* enum sp_enc, for a variable */
	uint32_t off, len; /* SP_VAR_LITERAL: bytes in the template's text */
	uint32_t col;      /* SP_VAR_DATA */
	int64_t lo, hi;    /* SP_VAR_RANDOM, lo <= hi; SP_VAR_RANDOM_STRING:
			    * lo is the length */
};

/* A string with variables. nparts == 0 is the empty string. */
struct sp_tpl {
	const char *text;
	uint32_t text_len;
	const struct sp_tpl_part *parts;
	uint32_t nparts;
	uint8_t ctx;       /* enum sp_tpl_ctx */
};

/* Whether byte @c may stand in a template of context @ctx. */
static inline int
sp_tpl_byte_ok(uint8_t ctx, unsigned char c)
{
	if (ctx == SP_TPL_PATH)
		return c > 0x20 && c != 0x7f;
	if (ctx == SP_TPL_HEADER)
		return (c >= 0x20 || c == '\t') && c != 0x7f;
	return 1;
}

/* Bytes @enc may write for one input byte. */
static inline uint32_t
sp_tpl_enc_max(uint8_t enc)
{
	return enc == SP_ENC_URL ? 3 : enc == SP_ENC_JSON ? 6 : 1;
}

/*
 * Write @n bytes of @s at @out encoded as @enc (room: n * sp_tpl_enc_max).
 * Returns the bytes written. No allocation: the engine calls it for every
 * rendered request. UTF-8 passes through JSON as is (bytes >= 0x80).
 */
static inline uint32_t
sp_tpl_encode(uint8_t *out, const char *s, uint32_t n, uint8_t enc)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t o = 0;

	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (enc == SP_ENC_URL) {
			/* encodeURIComponent's unreserved set */
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '.' || c == '!' || c == '~' || c == '*' ||
			    c == '\'' || c == '(' || c == ')') {
				out[o++] = c;
			} else {
				out[o++] = '%';
				out[o++] = (uint8_t)hex[c >> 4];
				out[o++] = (uint8_t)hex[c & 15];
			}
		} else if (enc == SP_ENC_JSON && (c == '"' || c == '\\')) {
			out[o++] = '\\';
			out[o++] = c;
		} else if (enc == SP_ENC_JSON && c < 0x20) {
			/* RFC 8259 7: control characters must be escaped,
			 * the five with a short form by it. */
			const char *sh = c == '\n' ? "n" : c == '\r' ? "r" :
					 c == '\t' ? "t" : c == '\b' ? "b" :
					 c == '\f' ? "f" : NULL;

			out[o++] = '\\';
			if (sh != NULL) {
				out[o++] = (uint8_t)sh[0];
			} else {
				out[o++] = 'u';
				out[o++] = '0';
				out[o++] = '0';
				out[o++] = (uint8_t)hex[c >> 4];
				out[o++] = (uint8_t)hex[c & 15];
			}
		} else {
			out[o++] = c;
		}
	}
	return o;
}

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
 * with sign (no filter changes its digits), or a data cell
 * (data->max_cell_len, times sp_tpl_enc_max of its filter), a uuid, a
 * random string's N: sp_tpl_part_max. */
#define SP_TPL_INT_MAX_LEN 21
#define SP_TPL_UUID_LEN 36          /* 8-4-4-4-12 hex digits */
#define SP_TPL_RANDOM_STRING_MAX 256 /* {{random_string N}}: N <= this */

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
 * as "check failed" (per request and in total); the iteration goes on.
 * They run only on a response whose status was expected (sp_request's
 * expect_set): every failed request has one kind. */
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

/* Codes @lo..@hi into a status set (bit per code, < SP_PLAN_MAX_STATUS). */
static inline void
sp_status_set_range(uint64_t *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi && c < SP_PLAN_MAX_STATUS; c++)
		set[c / 64] |= 1ull << (c % 64);
}

/* What a response's status must be unless the plan says otherwise: 1xx,
 * 2xx and 3xx are successes, 4xx and 5xx failed requests (as in k6 and
 * Locust). */
#define SP_EXPECT_DEFAULT_LO 100
#define SP_EXPECT_DEFAULT_HI 399

/* What a capture reads from a response (sp_capture.kind). */
enum sp_cap_kind {
	SP_CAP_STATUS = 0, /* the status code, as digits */
	SP_CAP_HEADER,     /* a header field's value (the first field of
			    * that name), through regex if given */
	SP_CAP_BODY,       /* regex over the body's first capture_window
			    * bytes */
	SP_CAP_JSON,       /* a JSON path (sp_capture.h's subset) over the
			    * body's first capture_window bytes */
	SP_CAP_COOKIE,     /* the VU's cookie of that name, after this
			    * response's Set-Cookie fields */
};

/*
 * One capture of a request: a value from its response into the VU's
 * variable @var. Captures run, in order, on a complete response whose
 * status was expected; one that finds nothing fails the request as
 * capture_failed (the response still counts as one) and, unless the
 * request says continue, ends the iteration (failed). Variables keep
 * their value for the VU's life until captured again.
 */
struct sp_capture {
	uint8_t kind;        /* enum sp_cap_kind */
	uint32_t var;        /* index into plan->vars */
	const char *name;    /* HEADER: the field's name; COOKIE: the
			      * cookie's; JSON: the path ("$.data.id") */
	const char *regex;   /* HEADER (optional), BODY: a PCRE2 pattern;
			      * the value is its first group, or the whole
			      * match when it has none */
};

struct sp_request {
	const char *name;       /* for the report: `name:` or "GET /path" */
	uint8_t method;         /* enum sp_method */
	struct sp_tpl path;     /* origin-form target: "/path?query" */
	/* Header lines after the request line, each "Name: value" followed
	 * by CRLF, already validated (no CR/LF/CTL inside a line); a Host
	 * of the request's own comes first. Content-Length, Connection and
	 * Transfer-Encoding are never in here: the engine writes them. */
	struct sp_tpl headers;
	uint8_t own_host;       /* headers hold Host: no default one */
	uint8_t own_ua;         /* headers hold User-Agent, or it was
				 * removed (empty value): no default one */
	int has_body;           /* send Content-Length even when empty */
	struct sp_tpl body;
	struct sp_check check;
	/* Final statuses that make the response a success (expect_status:,
	 * --expect-status; 100-399 by default): any other fails the request
	 * as http_status, before its checks. Bit per code, as status_set. */
	uint64_t expect_set[(SP_PLAN_MAX_STATUS + 63) / 64];
	/* A WebSocket upgrade (the first step of a `ws:` block): the engine
	 * adds Upgrade, Connection, Sec-WebSocket-Key (fresh, random) and
	 * Sec-WebSocket-Version; 101 with the right Sec-WebSocket-Accept is
	 * its only success (ws_handshake otherwise). */
	uint8_t ws_upgrade;
	/* Sec-WebSocket-Protocol's value ("chat, superchat"), or NULL; the
	 * server's choice must be one of them. */
	const char *ws_subprotocols;
	/* Captures from its response (on_capture_fail: continue sets
	 * capture_continue), and whether the request names a Cookie
	 * header of its own (the jar's cookies are then not sent). */
	const struct sp_capture *captures;
	uint32_t ncaptures;
	uint8_t capture_continue;
	uint8_t own_cookie;
};

enum sp_step_kind {
	SP_STEP_REQUEST = 0,
	SP_STEP_THINK,
	SP_STEP_LOOP,     /* body: steps [i+1, end); step `end` is its END */
	SP_STEP_LOOP_END, /* jumps back to `begin` + 1 until count is done */
	/*
	 * A `ws:` step is flattened into: a REQUEST whose request has
	 * ws_upgrade set (GET with the Upgrade headers; a 101 with the right
	 * Sec-WebSocket-Accept turns the VU's connection into a WebSocket),
	 * then its own steps (the WS_* kinds below, THINK and LOOP/LOOP_END
	 * nest as anywhere), then WS_END. Every WS_* step sits between an
	 * upgrade REQUEST and its WS_END, never outside; a LOOP never spans
	 * the boundary. If the session ended early (closed, failed) the
	 * remaining steps up to WS_END are skipped.
	 */
	SP_STEP_WS_SEND,   /* ws: plan->ws_steps[ws] */
	SP_STEP_WS_EXPECT, /* ws: wait for matching messages */
	SP_STEP_WS_LISTEN, /* receive whatever comes for listen_us */
	SP_STEP_WS_PING,   /* send a ping (the pong is counted, not awaited) */
	SP_STEP_WS_CLOSE,  /* close handshake with close_code */
	SP_STEP_WS_END,    /* end of the block: close with 1000 if still
			    * open, wait for the close handshake */
	SP_STEP_IF,        /* plan->conds[cond] holds: go on into the
			    * block [i+1, end); else jump to `end` */
};

/* A condition on a VU's variable (`if: {var: NAME, equals: TEXT}` or
 * `matches: REGEX`; `not: true` negates). An unset variable equals
 * nothing and matches nothing. */
enum sp_cond_op { SP_COND_EQUALS = 0, SP_COND_MATCHES, SP_COND_SET };
struct sp_cond {
	uint32_t var;        /* index into plan->vars */
	uint8_t op;          /* enum sp_cond_op */
	uint8_t negate;
	const char *value;   /* EQUALS: the text; MATCHES: a PCRE2 pattern
			      * (compiled by the engine at create) */
	uint32_t value_len;
};

/* What a WebSocket message step sends (RFC 6455 5.6). */
enum sp_ws_data {
	SP_WS_TEXT = 1,   /* text: the rendered template, UTF-8 */
	SP_WS_BINARY = 2, /* binary: the rendered template, or pattern_size
			   * bytes of sp_pattern when the template is empty */
};

/* A templated `contains` of a WebSocket expect renders to at most this
 * many bytes: each VU that waits on one holds room for its longest
 * rendering and a KMP table four times that. */
#define SP_WS_CONTAINS_MAX 4096u

/* One WebSocket step's parameters (index: sp_step.ws). */
struct sp_ws_step {
	const char *name; /* for the report: `name:` or "send text" etc. */
	/* SEND */
	uint8_t data;          /* enum sp_ws_data */
	uint8_t measure;       /* time the round trip: from this message
				* queued to the next received message that
				* the following EXPECT step matches (any
				* message when no EXPECT follows) */
	struct sp_tpl msg;     /* SP_TPL_BODY context */
	uint32_t pattern_size; /* binary of a pattern: its size in bytes */
	uint32_t send_count;   /* pacing: messages sent (>= 1) ... */
	uint64_t every_us;     /* ... this far apart (0: back to back) */
	/* EXPECT: messages that match every given matcher (contains and
	 * regex; neither: any message), expect_count of them, within
	 * timeout_us of the step's start (ws_expect_timeout otherwise).
	 * Non-matching messages are counted as unmatched, not errors. */
	const char *contains;  /* bytes the message must contain, or NULL */
	uint32_t contains_len;
	const uint32_t *contains_kmp; /* KMP failure table, as sp_check's */
	/* A contains with variables (`{{vu}}`, `{{token}}`; contains is then
	 * NULL), or nparts == 0: none. The engine renders it for the VU
	 * when the step starts (its variables as they are then; an unset
	 * one fails the session as ws_unset_variable) and makes its KMP
	 * table then; it renders to at most SP_WS_CONTAINS_MAX bytes
	 * (sp_tpl_part_max's bounds), and may render to nothing (any
	 * message contains that). SP_TPL_BODY context. */
	struct sp_tpl contains_tpl;
	const char *regex;     /* PCRE2 pattern the message must match, or
				* NULL (compiled by the engine at create) */
	uint32_t expect_count; /* >= 1 */
	uint64_t timeout_us;
	/* LISTEN */
	uint64_t listen_us;
	/* PING: the payload (SP_TPL_BODY, at most 125 bytes rendered) */
	/* CLOSE */
	uint16_t close_code;   /* 1000 by default; 0: send no code */
	const char *close_reason; /* UTF-8, at most 123 bytes, or NULL */
};

struct sp_step {
	uint8_t kind;   /* enum sp_step_kind */
	uint8_t depth;  /* LOOP, LOOP_END: nesting depth from 0 (< MAX) */
	uint32_t req;   /* REQUEST: index into plan->requests; WS_END: the
			 * index of its upgrade REQUEST step */
	uint32_t ws;    /* WS_* except WS_END: index into plan->ws_steps;
			 * IF: index into plan->conds */
	uint64_t think_min_us, think_max_us; /* THINK: uniform in [min, max] */
	uint32_t count; /* LOOP, LOOP_END: times the body runs (>= 1) */
	uint32_t begin, end; /* LOOP: end = index of its LOOP_END;
			      * LOOP_END: begin = index of its LOOP;
			      * IF: end = the first step after its block */
};

/*
 * What a scenario is for. The lifecycle's step lists are scenarios too
 * (never picked by weight, enabled = 0), so they run on the same engine
 * and are counted per scenario and per request like the others; their
 * requests are counted apart from the load's (sp_vu_life_stats), never
 * in its figures.
 *   SETUP: once, before the load, by one VU (core 0); its captures are
 *     every VU's {{setup.NAME}}. A failure stops the run before the load.
 *   TEARDOWN: once after the load (after a stop or an abort too), by the
 *     same VU, with setup's variables.
 *   VU_SETUP / VU_TEARDOWN: once per VU, before its first iteration and
 *     after its last (Locust's on_start / on_stop).
 */
enum sp_scen_kind {
	SP_SCEN_LOAD = 0,
	SP_SCEN_SETUP,
	SP_SCEN_TEARDOWN,
	SP_SCEN_VU_SETUP,
	SP_SCEN_VU_TEARDOWN,
};

/*
 * A load: how many iterations run, and when. The plan's top-level fields
 * (model, vus, rate, duration_us, stages) are the load the scenarios
 * without one of their own share by weight; a scenario with its own
 * (sp_scenario.load, k6's scenarios, Locust's fixed-count users) runs
 * alone on its own VUs and schedule beside them.
 */
struct sp_load {
	uint8_t model;           /* enum sp_model */
	uint32_t vus;            /* closed, no stages */
	double rate;             /* open, no stages: iterations per second */
	/* VUs it needs at most in the whole run (the loader derives it:
	 * closed, the peak VU count; open, max_vus or max(ceil(peak rate),
	 * 100)). Each engine of n holds ceil(max_vus / n) for it. */
	uint32_t max_vus;
	uint64_t start_us;       /* from the run's start (< the run's length) */
	/* From start_us; with stages, their sum. The loader cuts it at the
	 * run's end: start_us + duration_us <= plan->duration_us. */
	uint64_t duration_us;
	struct sp_stage stages[SP_PLAN_MAX_STAGES];
	uint32_t nstages;        /* 0: constant vus / rate */
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
	uint8_t kind;            /* enum sp_scen_kind */
	/* LOAD: the scenarios its VUs run before their first iteration and
	 * after their last (the file's vu_setup / vu_teardown, or the
	 * scenario's own), as index + 1 into plan->scenarios; 0 for none
	 * (so a zeroed plan has none). */
	uint32_t vu_setup, vu_teardown;
	/* Its own load, or NULL: it shares the plan's top-level load by
	 * weight with the other scenarios without one. */
	const struct sp_load *load;
};

/* Who a data row belongs to (data: {per: ...}). */
enum sp_data_per {
	SP_DATA_PER_ITERATION = 0, /* each iteration takes a row */
	SP_DATA_PER_VU,            /* each VU keeps one row for its life */
};

/* Which row comes next (data: {order: ...}). */
enum sp_data_order {
	SP_DATA_SEQUENTIAL = 0,
	SP_DATA_RANDOM,
};

/*
 * The CSV data file: the first line names the columns.
 * per iteration, sequential: each iteration takes the next row (one
 * counter per worker core: core k of n takes rows k, k + n, ...,
 * wrapping around). per vu, sequential: VU number N (vu_offset
 * included) keeps row (N - 1) mod nrows, so machines split by
 * --vu-offset take disjoint rows. random: drawn from the run's seed
 * (per vu: by VU number; per iteration: by VU number and iteration).
 * unique: no row is used twice in the run. Per vu, the rows must cover
 * every VU (checked when the plan is made); per iteration, a VU whose
 * next row would be past the end starts no more iterations
 * (it_data_exhausted). Random and unique: the rows in a permutation of
 * the run's seed, taken in order (the same on every core: each core
 * its own stride of it).
 */
struct sp_data {
	uint32_t ncols, nrows;
	const char *const *cols;   /* column names */
	const char *const *cells;  /* nrows * ncols, row-major */
	const uint32_t *cell_len;
	uint32_t max_cell_len;
	uint8_t per;               /* enum sp_data_per */
	uint8_t order;             /* enum sp_data_order */
	uint8_t unique;
	const char *file;          /* as the scenario names it, for
				    * messages (NULL: none) */
};

/* Longest value part @p renders to (filters included), for bounds;
 * @d: the data file, or NULL; @var_max: a variable's longest value
 * (plan->var_max). */
static inline uint64_t
sp_tpl_part_max(const struct sp_data *d, uint32_t var_max,
		const struct sp_tpl_part *p)
{
	switch (p->var) {
	case SP_VAR_LITERAL:
		return p->len;
	case SP_VAR_DATA:
		return d != NULL ? (uint64_t)d->max_cell_len *
					   sp_tpl_enc_max(p->enc) :
				   0;
	case SP_VAR_UUID: /* hex digits and '-': no filter changes them */
		return SP_TPL_UUID_LEN;
	case SP_VAR_RANDOM_STRING: /* [A-Za-z0-9]: as above */
		return p->lo > 0 ? (uint64_t)p->lo : 0;
	case SP_VAR_CAPTURE:
	case SP_VAR_SETUP:
		return (uint64_t)var_max * sp_tpl_enc_max(p->enc);
	default:
		return SP_TPL_INT_MAX_LEN;
	}
}

struct sp_plan {
	/* target: http://HOST[:PORT], HOST an IPv4 address or a name */
	uint32_t dst_ip;         /* host order; 0 while a name is unresolved */
	uint16_t dst_port;
	const char *host;        /* Host header value: the URL's authority as
				  * written, ":PORT" only if not the
				  * scheme's default */
	/* The name a connection's stream is told (sp_stream_peer.name: TLS
	 * sends it as SNI and checks the certificate for it); NULL: none. */
	const char *peer_name;
	/* Default User-Agent value (a request's own header replaces it, an
	 * empty one removes it); NULL: none. */
	const char *user_agent;

	/* The shared load (scenarios whose load is NULL); its duration is
	 * the whole run's, own loads included. */
	uint8_t model;           /* enum sp_model */
	uint32_t vus;            /* closed, no stages: VUs for the whole run */
	double rate;             /* open, no stages: iterations per second */
	uint64_t duration_us;    /* whole run; with stages, their sum; when
				  * every scenario has its own load, the
				  * latest end among them unless given */
	struct sp_stage stages[SP_PLAN_MAX_STAGES];
	uint32_t nstages;        /* 0: constant vus / rate */
	uint64_t response_timeout_us; /* first request byte sent -> response done */

	const struct sp_scenario *scenarios;
	uint32_t nscenarios;     /* >= 1 enabled */
	const struct sp_request *requests;
	uint32_t nrequests;
	const struct sp_data *data; /* NULL: no data file */

	/* WebSocket */
	const struct sp_ws_step *ws_steps;
	uint32_t nws_steps;
	uint64_t ws_max_message;   /* a longer message fails the session as
				    * ws_too_big (close 1009); 1 MiB default */
	uint64_t ws_ping_every_us; /* ping an open WebSocket this often
				    * (0: never; pongs are counted) */
	/* {{vu}} numbers start at vu_offset + 1 (--vu-offset), so VU ranges
	 * can be split across machines. */
	uint64_t vu_offset;

	/* Variables ({{NAME}}, {{setup.NAME}}), each captured by at least one
	 * request: every VU has a slot of var_max bytes for each. */
	const char *const *vars;
	uint32_t nvars;
	uint32_t var_max;        /* bytes a value may have (capture_max) */
	uint32_t capture_window; /* body bytes json and regex captures read */
	const struct sp_cond *conds;
	uint32_t nconds;
	/* The cookie jar: one per VU, jar_bytes each (0: no jar; cookies:
	 * false). */
	uint32_t jar_bytes;
	/* The lifecycle's scenarios, as index + 1 into scenarios; 0 for
	 * none. */
	uint32_t setup_scen, teardown_scen;
};

#endif /* SP_PLAN_H */
