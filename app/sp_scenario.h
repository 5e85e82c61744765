/*
 * Scenario files (YAML, through libyaml) and command-line overrides into
 * one validated sp_plan.
 *
 * Order of use:
 *   sp_scenario_init(&pl);
 *   sp_scenario_load(&pl, "file.yaml", &e);          (optional)
 *   sp_scenario_set(&pl, "vus", "50", &e);           (each CLI override)
 *   sp_scenario_finish(&pl, &e);                     (cross-key checks)
 *   ... run ...
 *   sp_scenario_free(&pl);
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

#include "sp_plan.h"

struct sp_scenario_err {
	char msg[512];
};

/* Defaults: closed model, 1 VU, 10 s, connect timeout 3 s, response
 * timeout 10 s, seed 0, no target, no scenario. */
void sp_scenario_init(struct sp_plan *pl);

/* Parse @path into @pl (once, before any sp_scenario_set). */
int sp_scenario_load(struct sp_plan *pl, const char *path,
		     struct sp_scenario_err *e);

/* The same from @len bytes at @buf (not NUL-terminated); @name stands for
 * the file in messages and its directory is where data: is looked up.
 * For tests and the fuzz target. */
int sp_scenario_load_buf(struct sp_plan *pl, const char *name,
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
 * URL's path.
 */
int sp_scenario_set(struct sp_plan *pl, const char *key, const char *value,
		    struct sp_scenario_err *e);

/* Cross-key checks and derived values: a target, at least one enabled
 * scenario, vus or rate or stages, duration > 0 (sum of stages), max_vus
 * (open: default max(ceil(peak rate), 100); closed: the peak VU count). */
int sp_scenario_finish(struct sp_plan *pl, struct sp_scenario_err *e);

/* Looks a host name up: 0 with *ip (host order), or -1 with why not in
 * @why (@len bytes). The app's is getaddrinfo (AF_INET); tests fake it. */
typedef int (*sp_resolver_fn)(const char *name, uint32_t *ip, char *why,
			      size_t len);

/* After sp_scenario_finish, before any frame: a target given as a name
 * gets its address, from the plan's resolve entries (--resolve, resolve:;
 * the last that matches name and port wins) or else from @fn. -1 (e->msg
 * names the name) when it cannot be resolved, or resolves to an address
 * no peer can have. Nothing to do for an IPv4 target. */
int sp_scenario_resolve(struct sp_plan *pl, sp_resolver_fn fn,
			struct sp_scenario_err *e);

void sp_scenario_free(struct sp_plan *pl);

/* The `stampede validate FILE` subcommand. */
int sp_cmd_validate(int argc, char **argv);

#endif /* SP_SCENARIO_H */
