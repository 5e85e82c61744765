/*
 * Internal to `stampede run`: the run's state, shared by runmode.c (the
 * command line, the wiring and sp_cmd_run), run_timeline.c (the engines'
 * counters merged across cores, and the timeline), run_threshold.c (the
 * thresholds' values) and run_report.c (the text, JSON and CSV reports).
 */
#ifndef SP_RUN_H
#define SP_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "sp_app.h"
#include "sp_obs.h"
#include "sp_reqlog_out.h"
#include "sp_scenario.h"
#include "sp_stream_tcp.h"
#include "sp_tls.h"
#include "sp_vu.h"

struct sp_run_override {
	const char *key, *value;
};

/* One second of the run, as the control lcore saw it. */
struct sp_run_point {
	uint64_t t_s;    /* end of the second */
	uint64_t len_us; /* how long it really was */
	uint64_t requests, responses, errors, dropped; /* in that second */
	uint64_t vus, conns;                           /* at its end */
	uint64_t p50_us, p95_us, p99_us;               /* its responses */
	uint64_t bytes_sent, bytes_received;           /* in that second */
	/* WebSocket: data messages and their payload bytes in that second,
	 * sessions open at its end. */
	uint64_t ws_sent, ws_received, ws_bytes_sent, ws_bytes_received;
	uint64_t ws_open;
	/* Its responses' latency histogram, sparse: h_n (index, count)
	 * pairs from sp_run.tl_hb[h_off] (SP_RUN_NO_HIST: the control lcore
	 * found no memory for them), its count, and the bounds its
	 * percentiles were clamped to (sp_hist_delta's). */
	uint32_t h_off, h_n;
	uint64_t h_count, h_min, h_max;
};
#define SP_RUN_NO_HIST UINT32_MAX

/* A non-empty bucket of a timeline point's histogram. */
struct sp_run_hb {
	uint32_t i; /* bucket index (sp_hist_index) */
	uint64_t n;
};

/* Cumulative figures a point is the difference of. */
struct sp_run_cum {
	uint64_t requests, responses, errors, dropped, sent, received;
	uint64_t ws_sent, ws_received, ws_bytes_sent, ws_bytes_received;
};

struct sp_run;

/* This process as a shard of a distributed run (run_shard.c). */
struct sp_run_shard {
	const char *arg, *at_arg; /* --shard, --start-at as given */
	const char *from;         /* where the shard came from */
	uint32_t index, count;    /* count 0 or 1: not sharded */
	int ip_split;             /* net.ip is this shard's block */
	const char *at_text;      /* the start instant, or NULL */
	uint64_t at_ms;           /* ... ms since the epoch */
	uint64_t at_us;           /* ... on the worker clock (1: at once) */
	char plan_id[65];         /* hex SHA-256: the plan's identity */
};

/* A worker core's part: the mode's context on that core. */
struct sp_run_core {
	struct sp_run *r;
	struct sp_vu_engine *eng;
	struct sp_stream_tcp tcp; /* the engine's stream over the stack */
	struct sp_tls *tls;       /* https: TLS between the two, else NULL */
};

struct sp_run {
	struct sp_run_plan rp; /* the engine's plan (rp.eng) and the app's */
	uint32_t ncores;
	struct sp_run_core core[SP_MAX_CORES];
	/* The engines' figures added up (sp_run_merge): what every report,
	 * threshold and the end of the timeline read. */
	struct sp_vu_stats *tot;
	struct sp_vu_req_stats *rs_tot;
	struct sp_vu_scen_stats *ss_tot;
	/* The lifecycle: its state shared by the engines (made once for the
	 * run), the wall clock when the worker clock read mono_us0, whether
	 * setup failed (no load ran), its requests added up
	 * (sp_run_merge_life). */
	struct sp_vu_shared *shared;
	uint64_t wall_ms0, mono_us0;
	int setup_failed;
	struct sp_vu_stats *life_tot;
	struct sp_netopt net;
	int net_set[SP_NETOPT_END - SP_NETOPT_BASE]; /* given on the CLI */
	const char *file;
	const char *json_path;
	const char *csv_prefix;
	const char *html_path;
	const char *log_path;
	struct sp_reqlog_out rlog; /* --log-requests */
	struct sp_run_override *ov;
	int nov;
	struct sp_worker *w;
	/* Timeline (control lcore only): points, and what the last one saw. */
	struct sp_run_point *tl;
	uint32_t ntl, tl_cap;
	/* The points' histograms, sparse, one after the other (grown by
	 * the control lcore, never by a worker). */
	struct sp_run_hb *tl_hb;
	uint32_t ntl_hb, tl_hb_cap;
	struct sp_run_cum prev;
	uint64_t prev_us; /* when the last point was taken */
	struct sp_hist *snap, *snap_prev, *delta, *tmp;
	double *th_value; /* per threshold, at the end */
	int *th_ok;
	const char *aborted_by; /* the threshold that stopped the run */
	/* A capacity hunt (rp.bp.on): its controller, and the live target
	 * every engine reads. */
	struct sp_bp *bp;
	uint64_t live;
	const char *stopped_by;
	int tty; /* stderr is a terminal */
	struct sp_obs obs; /* the live outputs (--out, --live-interval) */
	struct sp_run_shard sh;
	uint64_t line_next_us; /* the next live line's time in a log */
};

/* Report files are opened before the run: a path that cannot be written
 * is a usage error found before the load, not after it. */
struct sp_run_out {
	const char *opt, *path;
	char buf[4200];
	FILE *f;
};

/* run_args.c: the command line into @r (its options, the file named);
 * then the plan from the file and the options. 0, or -1 after saying why
 * (exit 2). */
int sp_run_args(int argc, char **argv, struct sp_run *r);
int sp_run_plan(struct sp_run *r);

/* run_shard.c: --shard and --start-at (from the environment too), the
 * plan's identity; after the plan is made: 0, or -1 after saying why. */
int sp_run_shard_plan(struct sp_run *r);
/* The seed of a sharded run given none (0: not sharded). */
uint64_t sp_run_shard_seed(const struct sp_run *r);
/* Before the launch: the workers' start instant on their clock. */
void sp_run_shard_arm(struct sp_run *r, struct sp_worker *ws, uint32_t n);
double sp_run_shard_late_ms(const struct sp_run *r);
void sp_run_shard_json(const struct sp_run *r, FILE *f);
void sp_run_shard_print(const struct sp_run *r, FILE *out);

/* run_report.c */
double sp_run_load_s(const struct sp_run *r, const struct sp_report *rep);
uint64_t sp_run_succeeded(const struct sp_vu_stats *s);
/* https: the TLS engine's allocations inside handshakes, all cores; -1
 * for http. */
int64_t sp_run_tls_hs_allocs(const struct sp_run *r);
void sp_run_print(const struct sp_run *r, const struct sp_report *rep,
		  FILE *out);
/* A point shorter than 0.9 s: the run's last, partial second. */
int sp_run_partial(const struct sp_run_point *p);
/* A timeline point's JSON fields, no braces (@ws: with its WebSocket
 * figures). */
void sp_run_point_json(FILE *f, const struct sp_run_point *p, int ws);
int sp_run_open(struct sp_run_out *o, const char *opt, const char *path,
		const char *suffix);
int sp_run_distinct(const struct sp_run *r);
/* The JSON report of the run so far, without its timeline, in memory
 * (*buf to free): the live dashboard's, each second. 0, or -1. */
int sp_run_json_mem(const struct sp_run *r, const struct sp_report *rep,
		    char **buf, size_t *len);
/* The cores' TLS counters added up. */
void sp_run_tls_sum(const struct sp_run *r, struct sp_tls_counters *t);
/* Where the human summary goes: standard error when a report or a stream
 * has standard output. */
FILE *sp_run_summary_out(const struct sp_run *r);
void sp_run_discard(struct sp_run_out *o);
int sp_run_reports(struct sp_run *r, const struct sp_report *rep,
		   struct sp_run_out *out);

/* run_life.c: the lifecycle's requests (setup, teardown, vu_setup,
 * vu_teardown) all together in the reports, apart from the load's */
int sp_run_has_life(const struct sp_plan *pl);
const char *sp_run_setup_why(const struct sp_run *r);
void sp_run_life_print(const struct sp_run *r, FILE *out);
void sp_run_life_json(const struct sp_run *r, FILE *f, int hist);

/* run_ws.c: the WebSocket parts of the reports, for a plan with a ws:
 * step (sp_run_has_ws) only */
int sp_run_has_ws(const struct sp_plan *pl);
void sp_run_ws_print(const struct sp_run *r, const struct sp_report *rep,
		     FILE *out);
void sp_run_ws_json(const struct sp_run *r, const struct sp_report *rep,
		    FILE *f, int hist);
void sp_run_ws_json_point(const struct sp_run_point *p, FILE *f);
void sp_run_ws_csv_stats(const struct sp_run *r, FILE *f);
/* A latency's min, mean, p50, p90, p95, p99, p99.9 and max in ms: the
 * columns of the JSON object and of a CSV row. */
#define SP_RUN_LAT_N 8
void sp_run_lat_ms(const struct sp_hist *h, double v[SP_RUN_LAT_N]);
/* A latency object {min, mean, p50, ..., max} in ms; @hist: with the
 * histogram itself ("hist", sparse, in us: what `stampede merge` adds
 * up), which the file report carries and the per-second JSON does not. */
void sp_run_lat_json(FILE *f, const struct sp_hist *h, int hist);
/* The report's "start_ms": the wall clock (epoch ms) of the load's
 * start, the instant the timeline's t = 0 stands for. */
uint64_t sp_run_start_ms(const struct sp_run *r);
void sp_run_lat_line(FILE *out, const char *what, const struct sp_hist *h);
void sp_run_csv_lat(FILE *f, const struct sp_hist *h);
/* run_csv.c: the CSV reports (0, or -1 if a write failed). */
int sp_run_csv(const struct sp_run *r, FILE *st, FILE *tl);
/* The lifecycle scenario (index + 1) request @req is a step of, or 0. */
uint32_t sp_run_req_life(const struct sp_plan *pl, uint32_t req);

/* run_threshold.c */
uint32_t sp_run_th_final(struct sp_run *r, double elapsed_s);
int sp_run_th_abort(struct sp_run *r, uint64_t el_us);

/* run_timeline.c */
void sp_run_merge(struct sp_run *r);
/* The engines' lifecycle requests (sp_vu_life_stats) into r->life_tot. */
void sp_run_merge_life(struct sp_run *r);
void sp_run_add_req(struct sp_vu_req_stats *t, const struct sp_vu_req_stats *s);
/* @d = @later - @earlier (two merges: a capacity hunt's window). */
void sp_run_stats_delta(struct sp_vu_stats *d, const struct sp_vu_stats *later,
			const struct sp_vu_stats *earlier);
/* A threshold's value on @s over @elapsed_s (global scope: any figures;
 * request and scenario scopes read the run's totals). */
struct sp_threshold;
double sp_run_th_value_of(const struct sp_run *r, const struct sp_threshold *t,
			  const struct sp_vu_stats *s, double elapsed_s);
const struct sp_run_point *sp_run_sample(struct sp_run *r, uint64_t now,
					 int last);

#endif /* SP_RUN_H */
