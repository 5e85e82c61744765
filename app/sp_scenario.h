/*
 * Scenario files (YAML, through libyaml) and command-line overrides into
 * one validated sp_plan.
 *
 * Order of use (rp a struct sp_run_plan: rp.eng is the engine's plan):
 *   sp_scenario_init(&rp);
 *   sp_scenario_load(&rp, "file.yaml", &e);          (optional)
 *   sp_scenario_set(&rp, "vus", "50", &e);           (each CLI override)
 *   sp_scenario_finish(&rp, &e);                     (cross-key checks)
 *   ... run ...
 *   sp_scenario_free(&rp);
 *
 * A file key and the option of the same name go through the same value
 * parser, so `--stages "30s:20,1m:200"` and `stages: "30s:20,1m:200"` mean
 * the same thing; the command line wins because it is applied last.
 *
 * Errors fill e->msg with one line: "FILE:LINE:COL: what is wrong" for the
 * file (1-based line and column of the offending node), "--OPTION: what is
 * wrong" for an override, and the functions return -1. The caller prints
 * it and exits with SP_EXIT_USAGE (2). Nothing here touches the network.
 */
#ifndef SP_SCENARIO_H
#define SP_SCENARIO_H

#include <stddef.h>

#include "sp_bp.h"
#include "sp_plan.h"
#include "sp_threshold.h"

/* Network keys of the file, kept as the strings the user wrote: the app
 * hands them to the same parser as --port/--ip/... (the command line wins,
 * so it parses them first and skips keys it already has). NULL: unset. */
struct sp_run_net {
	const char *port, *ip, *gateway, *prefix_len, *cores, *eal, *placement;
	const char *kernel_blind; /* "true" or "false" */
};

/* A host name's address given by the user (--resolve NAME[:PORT]:ADDR,
 * the file's resolve: map), used instead of the system resolver. */
struct sp_resolve {
	const char *name;
	uint16_t port; /* 0: any port */
	uint32_t ip;   /* host order */
};

/* HTTPS: the target's scheme and the file's tls: keys (--insecure,
 * --tls-* on the command line). Paths as the user gave them; a path in a
 * file is taken relative to the file's directory. */
enum sp_run_resume {
	SP_RUN_RESUME_SESSION = 0, /* a VU that reconnects offers its last
				    * session (by ID) */
	SP_RUN_RESUME_NONE,        /* every connection a full handshake */
	SP_RUN_RESUME_TICKET,      /* ... offers its session ticket */
};

struct sp_run_tls {
	int on;                       /* https:// */
	int insecure;                 /* tls.verify: false, --insecure */
	const char *ca;               /* NULL: the system store */
	const char *cert, *key;       /* client certificate (mutual TLS) */
	const char *ciphers, *curves; /* NULL: the engine's defaults */
	const char *psk;              /* "IDENTITY:HEXKEY", or NULL */
	const char *server_name;      /* SNI and the name checked; NULL: the
				  * target's host name (none for an
				  * address) */
	enum sp_run_resume resume;
	/* tls.engine, --tls-engine: "mbedtls" or "openssl" (a static
	 * string: the loader knows the names, lib/tls the engines); NULL:
	 * the default, mbedTLS. */
	const char *engine;
};

/*
 * What the loader makes: the engine's plan (all lib/proto reads) and,
 * beside it, what only the app reads.
 */
struct sp_run_plan {
	struct sp_plan eng;
	const char *source; /* file name, or "command line" */
	/* The VUs the shared (top-level) load needs at most (open:
	 * max_vus; closed: the peak), shared among the cores' engines; 0
	 * when every enabled scenario has its own load (each its
	 * sp_load.max_vus, sp_vu_own_slots per engine). */
	uint32_t max_vus;
	uint64_t connect_timeout_us;
	const char *target_name; /* HOST when it is a name, else NULL */
	/* The target's scheme as written: "http", "https", "ws" or "wss"
	 * (the reports show it; tls.on says whether TLS is underneath). */
	const char *scheme;
	const struct sp_resolve *resolve; /* later entries win */
	uint32_t nresolve;
	struct sp_run_net net;
	struct sp_run_tls tls;
	const struct sp_threshold *thresholds;
	uint32_t nthresholds;
	uint64_t seed; /* 0: random at start */
	/* load: {model: breakpoint}: a capacity hunt (sp_bp.h); the
	 * engine's plan then has the model of its control (open: rate;
	 * closed: VUs), whose target moves while the run goes. */
	struct sp_bp_cfg bp;
	/* The loader's own state (scenario.c): every block behind the
	 * pointers of the plan, and which keys the file and the command line
	 * gave (the precedence rules need it until sp_scenario_finish).
	 * Readers ignore it; sp_scenario_free releases it. */
	void *priv;
};

/* The run plan whose engine part @pl is: every plan the loader fills is
 * one (the loader's helpers, template.c's among them, see the engine's
 * part only). */
static inline struct sp_run_plan *
sp_run_plan_of(struct sp_plan *pl)
{
	return (struct sp_run_plan *)(void *)((char *)pl -
					      offsetof(struct sp_run_plan,
						       eng));
}

struct sp_scenario_err {
	char msg[512];
};

/* Defaults: closed model, 1 VU, 10 s, connect timeout 3 s, response
 * timeout 10 s, seed 0, no target, no scenario. */
void sp_scenario_init(struct sp_run_plan *rp);

/* Parse @path into @pl (once, before any sp_scenario_set). */
int sp_scenario_load(struct sp_run_plan *rp, const char *path,
		     struct sp_scenario_err *e);

/* The same from @len bytes at @buf (not NUL-terminated); @name stands for
 * the file in messages and its directory is where data: is looked up.
 * For tests and the fuzz target. */
int sp_scenario_load_buf(struct sp_run_plan *rp, const char *name,
			 const char *buf, size_t len,
			 struct sp_scenario_err *e);

/*
 * Apply a command-line override. @key is the option name without "--":
 * url, resolve (NAME:ADDR or NAME:PORT:ADDR, repeatable), vus, rate,
 * max-vus, duration, stages, tags, exclude-tags, seed,
 * model, connect-timeout, response-timeout, threshold (repeatable: each
 * adds one), abort-on-fail (any value: the command line's thresholds stop
 * the run when they fail), abort-grace. --url sets the target and, if
 * the plan has no scenario, creates one named "default" that GETs the
 * URL's path (a ws:// or wss:// URL: an echo loop on it, scenario_ws.c).
 * insecure (any value), tls-ca, tls-cert, tls-key, tls-ciphers,
 * tls-curves, tls-engine, tls-psk, tls-resume, tls-server-name: the
 * file's tls: keys
 * of those names. vu-offset: load.vu_offset; ws-max-message,
 * ws-ping-every: the file's ws: keys.
 */
int sp_scenario_set(struct sp_run_plan *rp, const char *key, const char *value,
		    struct sp_scenario_err *e);

/* Cross-key checks and derived values: a target, at least one enabled
 * scenario, vus or rate or stages, duration > 0 (sum of stages), max_vus
 * (open: default max(ceil(peak rate), 100); closed: the peak VU count). */
int sp_scenario_finish(struct sp_run_plan *rp, struct sp_scenario_err *e);

/* Looks a host name up: 0 with *ip (host order), or -1 with why not in
 * @why (@len bytes). The app's is getaddrinfo (AF_INET); tests fake it. */
typedef int (*sp_resolver_fn)(const char *name, uint32_t *ip, char *why,
			      size_t len);

/* After sp_scenario_finish, before any frame: a target given as a name
 * gets its address, from the plan's resolve entries (--resolve, resolve:;
 * the last that matches name and port wins) or else from @fn. -1 (e->msg
 * names the name) when it cannot be resolved, or resolves to an address
 * no peer can have. Nothing to do for an IPv4 target. */
int sp_scenario_resolve(struct sp_run_plan *rp, sp_resolver_fn fn,
			struct sp_scenario_err *e);

void sp_scenario_free(struct sp_run_plan *rp);

/* The `stampede validate FILE` subcommand. */
int sp_cmd_validate(int argc, char **argv);

#endif /* SP_SCENARIO_H */
