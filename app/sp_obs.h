/*
 * A run's live outputs (`stampede run`): what a user watches while the
 * load goes, on the control lcore only. Each second's timeline point
 * (run_timeline.c) goes to every output that is on; the workers keep their
 * counters as they are and the hot path does not change. Every output is
 * aggregated per second: no sample per request, no label per VU or URL.
 *
 *   --out json=FILE|-     a JSON line a second (obs.c)
 *   --out influxdb=URL    InfluxDB line protocol a second (obs_influx.c)
 *   --live-interval DUR   the live line's period when stderr is no terminal
 *   --metrics HOST:PORT   a Prometheus endpoint (obs_prom.c)
 *   --metrics-linger DUR  how long it waits at the end for a last scrape
 *   --web HOST:PORT       a live dashboard in a browser (obs_web.c)
 */
#ifndef SP_OBS_H
#define SP_OBS_H

#include <stdint.h>
#include <stdio.h>

struct sp_run;
struct sp_prom;
struct sp_web;
struct sp_run_point;

struct sp_obs_opts {
	const char *out_json;      /* --out json=FILE, "-" standard output */
	const char *out_influx;    /* --out influxdb=URL */
	uint64_t live_interval_us; /* --live-interval; 0: a second */
	const char *metrics;       /* --metrics HOST:PORT */
	uint64_t metrics_linger_us; /* --metrics-linger, if set */
	int metrics_linger_set;
	const char *web; /* --web [HOST:]PORT */
	/* A shard of a distributed run: its index as a label (--metrics)
	 * and a tag (--out influxdb=), and the run id every shard shares
	 * (InfluxDB's run tag); "" when not sharded. */
	char shard[16];
	char run_id[48];
};

struct sp_obs {
	struct sp_obs_opts o;
	FILE *json;    /* the stream, or NULL */
	uint32_t sent;       /* timeline points already out */
	uint64_t json_lines; /* stream lines written */
	int json_bad;        /* a write failed: said once, the run goes on */
	struct sp_prom *prom; /* --metrics, or NULL */
	struct sp_obs_influx *influx; /* obs_influx.c's, or NULL */
	struct sp_web *web;   /* --web, or NULL */
};

/* Parse one --out KIND=WHERE into @o. 0, or -1 after a usage error. */
int sp_obs_add_out(struct sp_obs_opts *o, const char *spec);
/* Whether an output writes on standard output (the summary then goes to
 * standard error). */
int sp_obs_stdout(const struct sp_obs_opts *o);
/* Before the run, ob->o filled in (the rest zero): files opened,
 * addresses bound. 0, or -1 after a usage error (exit 2: nothing ran). */
int sp_obs_open(struct sp_obs *ob);
/* The timeline has points not yet out (a tick, or the run's last partial
 * second): each output gets them. */
void sp_obs_tick(struct sp_obs *ob, struct sp_run *r);
/* The run is over and r's totals merged: outputs say their last. 0, or
 * -1 if one could not (said). */
int sp_obs_end(struct sp_obs *ob, struct sp_run *r);
/* The report's "outputs" member (with its trailing comma), when an output
 * is on: what each wrote, and what it could not. */
void sp_obs_json(const struct sp_obs *ob, FILE *f);
/* Idempotent. */
void sp_obs_close(struct sp_obs *ob);
/* Whether an output wants the final JSON report (sp_obs_report). */
int sp_obs_wants_report(const struct sp_obs *ob);
/* The final JSON report, as the --json file has it, once written. */
void sp_obs_report(struct sp_obs *ob, const char *json, size_t len);
/* Whether the run was stopped from an output (the dashboard's Stop). */
int sp_obs_stopped(const struct sp_obs *ob);
/* A timeline point as the stream's line (newline included); with the run
 * so far when @newest. */
void sp_obs_point_line(FILE *f, const struct sp_run *r,
		       const struct sp_run_point *p, int newest);

/* obs_prom.c: --metrics, as sp_obs_open, _tick, _end, _json (the member
 * without a comma) and _close do for it. */
int sp_obs_prom_open(struct sp_obs *ob);
void sp_obs_prom_tick(struct sp_obs *ob, struct sp_run *r);
int sp_obs_prom_end(struct sp_obs *ob, struct sp_run *r);
void sp_obs_prom_json(const struct sp_obs *ob, FILE *f);
void sp_obs_prom_close(struct sp_obs *ob);
/* obs_influx.c: --out influxdb=, called by the above. A database that is
 * slow or gone costs dropped points (counted, said), never the run. */
int sp_obs_influx_open(struct sp_obs *ob);
void sp_obs_influx_tick(struct sp_obs *ob, struct sp_run *r);
void sp_obs_influx_end(struct sp_obs *ob);
void sp_obs_influx_json(const struct sp_obs *ob, FILE *f);
void sp_obs_influx_close(struct sp_obs *ob);

/* obs_web.c: --web, likewise; _final takes the final report. */
int sp_obs_web_open(struct sp_obs *ob);
void sp_obs_web_tick(struct sp_obs *ob, struct sp_run *r);
void sp_obs_web_final(struct sp_obs *ob, const char *json, size_t len);
void sp_obs_web_json(const struct sp_obs *ob, FILE *f);
void sp_obs_web_close(struct sp_obs *ob);

#endif
