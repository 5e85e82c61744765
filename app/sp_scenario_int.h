/*
 * Internal to the scenario loader: the files that together turn scenario
 * files and command-line overrides into a plan (scenario.c the YAML walker
 * and the API, scenario_steps.c the scenarios, scenario_value.c the values
 * shared by the file and the command line, template.c the template
 * compiler, csvdata.c the data file, validate.c sp_scenario_finish and
 * `stampede validate`). Nothing here includes DPDK.
 */
#ifndef SP_SCENARIO_INT_H
#define SP_SCENARIO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "sp_scenario.h"
#include "sp_template.h"

#define SP_US_PER_S 1000000ull
#define SP_MAX_RESOLVE 1024u /* resolve: entries and --resolve */
#define SP_MAX_HOSTNAME 253  /* RFC 1035 2.3.4, without the root dot */

#define SP_WHY 320
/* Limits that keep a hostile file (YAML aliases multiply nodes cheaply)
 * from turning into gigabytes of plan. Real scenarios are far below. */
#define SP_MAX_STEPS 65536u /* steps in the whole plan */
#define SP_MAX_SCENARIOS 1024u
#define SP_MAX_HEADERS 64u /* per request */
#define SP_MAX_CAPTURES 64u /* per request */
#define SP_MAX_VARS 256u    /* variables in the plan (a slot each per VU) */
#define SP_MAX_IF_DEPTH 16u /* if: blocks inside if: blocks */
/* Bounds and defaults of the per-VU sizes (README: cookies, capture_max,
 * capture_window). */
#define SP_JAR_DEFAULT 1024u
#define SP_JAR_MIN 64u
#define SP_JAR_MAX (64u << 10)
#define SP_VAR_MAX_DEFAULT 256u
#define SP_VAR_MAX_MAX 4096u
#define SP_CAP_WINDOW_DEFAULT (64u << 10)
#define SP_CAP_WINDOW_MIN (1u << 10)
#define SP_CAP_WINDOW_MAX (16u << 20)
#define SP_MAX_VUS 10000000u
#define SP_MAX_VU_OFFSET                                                       \
	1000000000000000ull      /* 10^15: {{vu}} stays exact
					      * in a double (JSON) */
#define SP_MAX_RATE 1e9          /* iterations per second */
#define SP_MAX_FILE (16u << 20)  /* a YAML file */
#define SP_MAX_DATA (128u << 20) /* a CSV file */
#define SP_MAX_MEM ((size_t)512 << 20)

/* Exit codes of `stampede validate` (SP_EXIT_OK and SP_EXIT_USAGE in
 * sp_app.h, which this DPDK-free file cannot include). */
#define SP_VALIDATE_OK 0
#define SP_VALIDATE_USAGE 2

/* Which load keys a source gave: the precedence rules between the file and
 * the command line (sp_scenario_finish) depend on it. */
enum {
	SP_K_VUS = 1u << 0,
	SP_K_RATE = 1u << 1,
	SP_K_DURATION = 1u << 2,
	SP_K_STAGES = 1u << 3,
	SP_K_MAX_VUS = 1u << 4,
	SP_K_MODEL = 1u << 5,
};

struct sp_mem {
	struct sp_mem *prev, *next;
	size_t size;
	max_align_t data[];
};

/* Where a variable was first used, and who captures it: after the whole
 * file, each used one must be captured (sp_vars_check). */
struct sp_var_info {
	uint32_t line, col;   /* first {{NAME}} or if: var (line 0: none,
			       * or the command line's) */
	uint32_t sline, scol; /* first {{setup.NAME}} */
	char key[48], skey[48];
	uint8_t used, setup_used;
	uint8_t captured, setup_captured;
};

struct sp_priv {
	struct sp_mem *mem; /* every block behind the plan */
	size_t mem_bytes;
	int loaded;                   /* a file was loaded */
	unsigned file_keys, cli_keys; /* SP_K_* */
	struct sp_scenario *scn;      /* pl->scenarios, writable */
	uint32_t scn_cap;
	struct sp_request *req; /* pl->requests, writable */
	uint32_t req_cap;
	uint32_t nsteps;                 /* in all scenarios */
	const char *tags, *exclude_tags; /* --tags, --exclude-tags */
	struct sp_threshold *th;         /* rp->thresholds, writable */
	uint32_t th_cap;
	uint32_t th_cli; /* thresholds from here on came from the CLI */
	int th_cli_set;
	struct sp_resolve *res; /* rp->resolve, writable */
	uint32_t res_cap;
	int cli_abort;         /* --abort-on-fail */
	uint64_t cli_grace_us; /* --abort-grace */
	/* expect_status: at the top of the file, and --expect-status; all
	 * zero: not given (a given list holds a code at least). */
	uint64_t file_expect[(SP_PLAN_MAX_STATUS + 63) / 64];
	uint64_t cli_expect[(SP_PLAN_MAX_STATUS + 63) / 64];
	int cli_grace_set;
	struct sp_ws_step *ws; /* pl->ws_steps, writable */
	uint32_t ws_cap;
	const char *ws_keys; /* a ws: setting given (file or command line),
			      * for the error when no step uses it */
	const char **vars; /* pl->vars, writable */
	struct sp_var_info *vinfo;
	uint32_t vars_cap, vinfo_cap;
	struct sp_cond *conds; /* pl->conds, writable */
	uint32_t conds_cap;
	/* The template being compiled: where a variable it names is used
	 * (line 0: not in the file). */
	uint32_t use_line, use_col;
	const char *use_key;
	uint8_t scen_kind; /* enum sp_scen_kind of the steps being read */
};

/* Load-time state of one file. */
struct sp_loader {
	struct sp_plan *pl;
	struct sp_priv *pv;
	struct sp_scenario_err *e;
	const char *name;
	yaml_document_t doc;
	struct sp_step *steps; /* the scenario being read (malloc) */
	uint32_t nsteps, steps_cap;
	int in_ws;     /* reading the steps of a ws: block */
	int ws_closed; /* ... and its close: nothing may follow */
	unsigned if_depth; /* if: blocks around the steps being read */
	char why[SP_WHY];
};

/* A template being built: literal bytes and parts. */
/* A URL's parts: the host as written (a name, or a dotted quad then in
 * @ip), the port and the path (into the URL). */
struct sp_url {
	char host[SP_MAX_HOSTNAME + 1];
	int is_name;
	int tls;            /* https:// or wss:// */
	int ws;             /* ws:// or wss:// */
	const char *scheme; /* "http", "https", "ws" or "wss" */
	uint32_t ip;        /* !is_name */
	uint16_t port;
	const char *path;
};

/* csvdata.c */
char *sp_read_file(const char *path, const char *shown, size_t max, size_t *len,
		   char *why);
int sp_csv_parse(struct sp_plan *pl, const char *name, const char *buf,
		 size_t len, char *why);

/* scenario.c */
struct sp_priv *sp_priv(struct sp_plan *pl);
void *sp_mem_alloc(struct sp_plan *pl, size_t size);
void *sp_mem_grow(struct sp_plan *pl, void *arr, uint32_t *cap, uint32_t need,
		  size_t elem);
char *sp_mem_strndup(struct sp_plan *pl, const char *s, size_t n);
char *sp_mem_strdup(struct sp_plan *pl, const char *s);
int sp_why(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sp_err_set(struct sp_scenario_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sp_node_error(struct sp_loader *ld, const yaml_node_t *n, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
yaml_node_t *sp_yaml_node(struct sp_loader *ld, int id);
const char *sp_yaml_kind(const yaml_node_t *n);
int sp_yaml_str(struct sp_loader *ld, const yaml_node_t *n, const char *key,
		const char **s);
int sp_yaml_u64(struct sp_loader *ld, const yaml_node_t *n, const char *key,
		uint64_t min, uint64_t max, uint64_t *v);
int sp_yaml_dur(struct sp_loader *ld, const yaml_node_t *n, const char *key,
		uint64_t *us);
int sp_yaml_map(struct sp_loader *ld, const yaml_node_t *n, const char *what,
		const char *const *keys);
yaml_node_t *sp_yaml_get(struct sp_loader *ld, const yaml_node_t *n,
			 const char *key);
int sp_yaml_seq(struct sp_loader *ld, const yaml_node_t *n, const char *key);
int sp_th_add(struct sp_plan *pl, const char *expr, char *why);
int sp_th_resolve(const struct sp_plan *pl, struct sp_threshold *t, char *why);
const struct sp_resolve *sp_lookup(const struct sp_run_plan *rp,
				   const char *name, uint16_t port);
int sp_has_tag(const struct sp_scenario *sc, const char *list);
int sp_stage_list(struct sp_loader *ld, const yaml_node_t *n,
		  struct sp_stage *stages, uint32_t *nstages);

/* scenario_load.c: a scenario's own load (load:, vus:) */
/* The load: or vus: of scenario node @n into @sc->load (none: NULL). */
int sp_scn_load(struct sp_loader *ld, const yaml_node_t *n,
		struct sp_scenario *sc);
/* sp_scenario_finish's part: before the top-level load's checks (whether
 * any enabled scenario shares it, the run's length when none does) ... */
int sp_loads_pre(struct sp_run_plan *rp, struct sp_scenario_err *e);
/* ... and after them (each own load within the run, the VUs in all). */
int sp_loads_post(struct sp_run_plan *rp, struct sp_scenario_err *e);

/* Variable @name (registered on first mention): its index in
 * pl->vars; @use: mark it used where pv->use_* says (a template, an if:).
 * -1 with why. */
int sp_var_index(struct sp_plan *pl, const char *name, uint32_t *idx,
		 char *why);
int sp_var_cb(void *pl, const char *name, int setup, uint32_t *idx, char *why,
	      size_t whylen);
/* Every variable used is captured (by setup's steps for {{setup.NAME}}):
 * 0, or -1 with why (FILE:LINE:COL when known). */
int sp_vars_check(struct sp_plan *pl, const char *file, char *why,
		  size_t whylen);

/* scenario_steps.c */
int sp_expect(struct sp_loader *ld, const yaml_node_t *n, uint64_t *set);
int sp_file_scenarios(struct sp_loader *ld, const yaml_node_t *n);
int sp_tpl_node(struct sp_loader *ld, const yaml_node_t *n, const char *key,
		enum sp_tpl_ctx ctx, struct sp_tpl *t);
int sp_headers(struct sp_loader *ld, const yaml_node_t *n,
	       struct sp_request *r);
int sp_contains(struct sp_loader *ld, const yaml_node_t *v, const char *key,
		const char **str, uint32_t *len, const uint32_t **kmp);
int sp_contains_text(struct sp_loader *ld, const yaml_node_t *v,
		     const char *key, const char *s, const char **str,
		     uint32_t *len_out, const uint32_t **kmp);
struct sp_request *sp_request_new(struct sp_loader *ld, const yaml_node_t *n);
int sp_step_push(struct sp_loader *ld, const yaml_node_t *n,
		 const struct sp_step *st, uint32_t *idx);
int sp_steps(struct sp_loader *ld, const yaml_node_t *n, unsigned depth);
int sp_think(struct sp_loader *ld, const yaml_node_t *n);
int sp_loop(struct sp_loader *ld, const yaml_node_t *n, unsigned depth);
/* The file's setup:, teardown:, vu_setup:, vu_teardown: (after its
 * scenarios: each LOAD scenario without its own gets the file's). */
int sp_file_lifecycle(struct sp_loader *ld, const yaml_node_t *root);
/* Whether a regex compiles (PCRE2): 0, or -1 with PCRE2's message. */
int sp_regex_ok(const char *re, char *why);

/* scenario_ws.c: WebSocket steps and settings */
/* The step kind (SP_STEP_WS_*) a WebSocket step's key names, or -1. */
int sp_ws_step_kind(const char *kind);
/* A step of a ws: block (or one written outside a block: the error). */
int sp_ws_step(struct sp_loader *ld, const yaml_node_t *k, const char *kind,
	       const yaml_node_t *v);
/* A ws: step: the upgrade, its steps, its end. */
int sp_ws_block(struct sp_loader *ld, const yaml_node_t *n, unsigned depth);
/* The file's ws: settings (max_message, ping_every). */
int sp_file_ws(struct sp_loader *ld, const yaml_node_t *n);
/* One ws setting of the file (max_message, ping_every) or of the command
 * line (--ws-max-message, --ws-ping-every). */
int sp_ws_setting(struct sp_plan *pl, const char *key, const char *v,
		  char *why);
/* A bare ws:// URL's scenario: an echo loop (README). */
int sp_ws_default(struct sp_plan *pl, const char *path, char *why);
/* Finish-time defaults and checks of the WebSocket parts. */
int sp_ws_finish(struct sp_plan *pl, char *why);

/* scenario_value.c */
int sp_val_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v,
	       char *why);
int sp_val_num(const char *s, double *v, char *why);
int sp_val_bool(const char *s, int *v, char *why);
int sp_val_stages(const char *s, struct sp_stage *st, uint32_t *nst,
		  char *why);
int sp_ipv4_peer(const char *s, uint32_t *ip, char *why);
int sp_val_url(const char *s, int path_ok, struct sp_url *u, char *why);
int sp_add_resolve(struct sp_plan *pl, const char *key, const char *addr,
		   char *why);
/* scenario_bp.c: load: {model: breakpoint, ...}, --breakpoint=K=V,... */
int sp_file_bp(struct sp_loader *ld, const yaml_node_t *n);
int sp_bp_key(struct sp_bp_cfg *c, const char *key, const char *s, char *why);
int sp_bp_apply(struct sp_run_plan *rp, unsigned *keys, char *why);

int sp_load_key(struct sp_plan *pl, const char *key, const char *v,
		unsigned *bit, char *why);
int sp_set_target(struct sp_plan *pl, const struct sp_url *u, char *why);
/* A tls: key (verify, ca, cert, key, ciphers, curves, resume,
 * server_name) of the file or of the command line; @dir: a relative path
 * is taken from there (the file's directory), NULL: as given. */
int sp_tls_key(struct sp_plan *pl, const char *key, const char *v,
	       const char *dir, size_t dirlen, char *why);
int sp_val_statuses(const char *s, uint64_t *set, char *why);

/* The template compiler (lib/proto, sp_template.h) allocating in the
 * plan's memory and reading its data file's columns. */
void *sp_mem_grow_cb(void *pl, void *arr, uint32_t *cap, uint32_t need,
		     size_t elem);

static inline struct sp_tpl_env
sp_plan_tpl_env(struct sp_plan *pl)
{
	return (struct sp_tpl_env){ .grow = sp_mem_grow_cb,
				    .mem = pl,
				    .data = pl->data,
				    .var = sp_var_cb,
				    .var_ctx = pl };
}

#endif /* SP_SCENARIO_INT_H */
