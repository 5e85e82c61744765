/*
 * A capacity hunt (`load: {model: breakpoint}`, `stampede run
 * --breakpoint`): the control lcore moves the shared load's live target
 * (sp_vu_config.live: arrivals a second, or VUs) step by step and judges
 * each step's measured window by the run's thresholds, which are its
 * SLOs. The search, after MLRsearch's short-then-long idea:
 *
 *   grow     steps of `step` seconds from `start`, times `factor` (or
 *            plus `increment`), until one fails an SLO (or `max`);
 *   bisect   probes of `probe` seconds between the last step that held
 *            and the first that failed, until they are within
 *            `precision` of each other;
 *   confirm  one trial of `confirm` seconds at the highest rate that
 *            held; it must hold (else the search goes on below it).
 *
 * A step's first `warmup` seconds are not judged. A step fails an SLO
 * when a threshold fails on its window's figures, or when its latency
 * keeps rising through the window (a backlog builds: the rate is not
 * sustainable even if the percentiles are still under the SLO). A step
 * where the generator was the limit (its loop busy near 100 %, its TX
 * ring full, an arrival that found no idle VU) is not the server's
 * failure: the hunt stops and says the generator broke first. After a
 * failed step the load rests for `rest` seconds (nothing offered), so the
 * server's backlog does not spill into the next step.
 */
#ifndef SP_BP_H
#define SP_BP_H

#include <stdint.h>
#include <stdio.h>


enum sp_bp_control { SP_BP_RATE = 0, SP_BP_VUS };

/* The hunt's knobs (struct sp_run_plan.bp); defaults in sp_bp_defaults. */
struct sp_bp_cfg {
	int on;
	uint8_t control;     /* enum sp_bp_control */
	double start;        /* the first step's target */
	double factor;       /* grow by this factor ... */
	double increment;    /* ... or by this much (0: by factor) */
	double max;          /* never beyond (rate; VUs: max_vus too) */
	double precision;    /* bisection stops when (fail - pass) / pass
			      * is under it */
	uint64_t step_us, probe_us, confirm_us, warmup_us, rest_us;
};

void sp_bp_defaults(struct sp_bp_cfg *c);

enum sp_bp_kind { SP_BP_GROW = 0, SP_BP_PROBE, SP_BP_CONFIRM };
enum sp_bp_verdict { SP_BP_PASS = 0, SP_BP_FAIL, SP_BP_GENERATOR,
		     SP_BP_CUT };

#define SP_BP_MAX_STEPS 256

/* One step as measured over its window (its warm-up left out). */
struct sp_bp_step {
	uint8_t kind;      /* enum sp_bp_kind */
	uint8_t verdict;   /* enum sp_bp_verdict */
	uint8_t rising;    /* latency rose through the window */
	double offered;    /* the target: arrivals/s or VUs */
	double achieved;   /* responses/s in the window */
	double start_s;    /* from the load's start */
	double window_s;   /* the judged window's length */
	uint64_t requests, responses, errors, dropped;
	uint64_t p50_us, p95_us, p99_us, p999_us;
	double busy;       /* the busiest worker's loop, % of the window */
	uint64_t tx_full;  /* frames the TX ring refused */
	uint64_t nic_drops; /* frames the port missed (imissed, no mbuf) */
	uint64_t err[32];  /* failed requests by kind (sp_vu_err) */
	char why[160];     /* the SLO that broke, or the generator's limit */
};

enum sp_bp_outcome {
	SP_BP_RUNNING = 0,
	SP_BP_FOUND,        /* capacity found and confirmed */
	SP_BP_NONE_PASSED,  /* not even the first step held */
	SP_BP_GEN_LIMIT,    /* the generator broke first */
	SP_BP_UNCONFIRMED,  /* time ran out before a confirmation held */
	SP_BP_AT_MAX,       /* every step held up to max: confirmed there */
};

struct sp_run;
struct sp_run_point;
struct sp_vu_stats;

struct sp_bp {
	struct sp_bp_cfg cfg;
	uint64_t *live;       /* the engines' live target */
	uint8_t phase;        /* enum sp_bp_kind, or rest */
	uint8_t resting;
	uint8_t outcome;      /* enum sp_bp_outcome */
	double target;        /* now */
	double lo, hi;        /* highest that held, lowest that failed (0:
			       * none yet) */
	double capacity;      /* the confirmed one */
	double gen_at;        /* where the generator broke first */
	uint64_t t_step;      /* the step (or rest) began, µs of the load */
	uint64_t t_window;    /* its window begins */
	int window_open;
	/* At the window's start: the merged figures and the workers'. */
	struct sp_vu_stats *at;
	struct sp_vu_stats *delta;
	uint64_t busy_tsc[64], iter_tsc0, tx_full0, nic0;
	/* The window's per-second p50s, for the trend. */
	double lat_t[600], lat_v[600];
	uint32_t nlat;
	struct sp_bp_step steps[SP_BP_MAX_STEPS];
	uint32_t nsteps;
};

/* Set up for run @r (the live word the engines read); 0 or -1. */
int sp_bp_init(struct sp_bp *b, const struct sp_bp_cfg *cfg, uint64_t *live);
void sp_bp_fini(struct sp_bp *b);
/* Once a second on the control lcore, after the timeline's point @p was
 * taken at @el_us of the load: judge and move. 1 when the hunt is over
 * (the run stops). */
int sp_bp_tick(struct sp_bp *b, struct sp_run *r,
	       const struct sp_run_point *p, uint64_t el_us);
/* The run ended (duration, signal): close the step in progress. */
void sp_bp_end(struct sp_bp *b);
/* Exit code for the hunt's outcome (sp_app.h's SP_EXIT_*). */
int sp_bp_exit(const struct sp_bp *b);
void sp_bp_print(const struct sp_bp *b, FILE *out);
/* " \"breakpoint\":{...},\n" in the JSON report */
void sp_bp_json(const struct sp_bp *b, FILE *f);

#endif /* SP_BP_H */
