/*
 * A run's live outputs (sp_obs.h): the per-second JSON stream here, the
 * Prometheus endpoint in obs_prom.c; each output is fed from the timeline
 * and the counters the control lcore reads anyway.
 *
 * The stream is for people who pipe figures into their own tools: one
 * line a second, flushed, each line a timeline point exactly as the
 * report's "timeline" has it, plus "run": the run so far (its totals and
 * its percentiles over every response yet) on the newest point.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sp_obs.h"
#include "sp_run.h"

int
sp_obs_add_out(struct sp_obs_opts *o, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t k = eq != NULL ? (size_t)(eq - spec) : strlen(spec);

	if (eq == NULL || eq[1] == '\0') {
		sp_usage_error("--out %s: KIND=WHERE, e.g. json=points.jsonl, "
			       "json=- or influxdb=http://HOST:8086/DB",
			       spec);
		return -1;
	}
	if (k == 4 && strncmp(spec, "json", 4) == 0) {
		if (o->out_json != NULL) {
			sp_usage_error("--out json= given twice");
			return -1;
		}
		o->out_json = eq + 1;
		return 0;
	}
	if (k == 8 && strncmp(spec, "influxdb", 8) == 0) {
		if (o->out_influx != NULL) {
			sp_usage_error("--out influxdb= given twice");
			return -1;
		}
		o->out_influx = eq + 1;
		return 0;
	}
	sp_usage_error("--out %s: unknown output '%.*s' (json, influxdb)", spec,
		       (int)k, spec);
	return -1;
}

int
sp_obs_stdout(const struct sp_obs_opts *o)
{
	return sp_out_is_stdout(o->out_json);
}

int
sp_obs_open(struct sp_obs *ob)
{
	const struct sp_obs_opts *o = &ob->o;

	if (o->out_json != NULL) {
		ob->json = sp_out_open("--out json", o->out_json);
		if (ob->json == NULL)
			return -1;
	}
	if (sp_obs_prom_open(ob) < 0)
		return -1;
	if (sp_obs_influx_open(ob) < 0)
		return -1;
	return sp_obs_web_open(ob);
}

/* One line: the point, and on the newest the run so far (the stream's
 * line, the dashboard's point event). */
void
sp_obs_point_line(FILE *f, const struct sp_run *r,
		  const struct sp_run_point *p, int newest)
{
	fputc('{', f);
	sp_run_point_json(f, p, sp_run_has_ws(&r->rp.eng));
	if (newest) {
		fprintf(f,
			",\"run\":{\"requests\":%" PRIu64
			",\"responses\":%" PRIu64 ",\"errors\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"latency_ms\":",
			r->prev.requests, r->prev.responses, r->prev.errors,
			r->prev.dropped);
		sp_run_lat_json(f, r->snap_prev, 0);
		fputc('}', f);
	}
	fputs("}\n", f);
}

/* The stream's lines for the points not yet out. */
static void
sp_obs_stream(struct sp_obs *ob, struct sp_run *r)
{
	if (ob->json != NULL && !ob->json_bad) {
		for (uint32_t i = ob->sent; i < r->ntl; i++)
			sp_obs_point_line(ob->json, r, &r->tl[i],
					  i + 1 == r->ntl);
		ob->json_lines += r->ntl - ob->sent;
		/* A line a second, there when it is due: a reader of a pipe
		 * or a file sees each as it comes. */
		if (fflush(ob->json) != 0 || ferror(ob->json)) {
			fprintf(stderr,
				"stampede: --out json=%s: writing failed: "
				"%s; the stream stops, the run goes on\n",
				ob->o.out_json, strerror(errno));
			ob->json_bad = 1;
		}
	}
	sp_obs_influx_tick(ob, r);
	ob->sent = r->ntl;
}

void
sp_obs_tick(struct sp_obs *ob, struct sp_run *r)
{
	/* The run so far, merged once for the outputs that read totals. */
	if (ob->prom != NULL || ob->web != NULL)
		sp_run_merge(r);
	sp_obs_web_tick(ob, r);
	sp_obs_stream(ob, r);
	sp_obs_prom_tick(ob, r);
}

int
sp_obs_end(struct sp_obs *ob, struct sp_run *r)
{
	int bad;

	sp_obs_web_tick(ob, r);
	sp_obs_stream(ob, r);
	/* Never a failure of the run: what did not go is counted. */
	sp_obs_influx_end(ob);
	bad = sp_obs_prom_end(ob, r) < 0;
	return ob->json_bad || bad ? -1 : 0;
}

void
sp_obs_json(const struct sp_obs *ob, FILE *f)
{
	int n = 0;

	if (ob->o.out_json == NULL && ob->prom == NULL && ob->influx == NULL &&
	    ob->web == NULL)
		return;
	fprintf(f, " \"outputs\":{");
	if (ob->o.out_json != NULL) {
		fprintf(f, "\"json\":{\"path\":");
		sp_json_str(f, ob->o.out_json);
		fprintf(f, ",\"lines\":%" PRIu64 ",\"failed\":%s}",
			ob->json_lines, ob->json_bad ? "true" : "false");
		n++;
	}
	if (ob->prom != NULL) {
		fputs(n++ ? "," : "", f);
		sp_obs_prom_json(ob, f);
	}
	if (ob->influx != NULL) {
		fputs(n++ ? "," : "", f);
		sp_obs_influx_json(ob, f);
	}
	if (ob->web != NULL) {
		fputs(n++ ? "," : "", f);
		sp_obs_web_json(ob, f);
	}
	fprintf(f, "},\n");
}

void
sp_obs_close(struct sp_obs *ob)
{
	/* A run that never got to its first second leaves no stream, as it
	 * leaves no report. */
	if (ob->json != NULL && ob->sent == 0)
		sp_out_discard(ob->json, ob->o.out_json);
	else if (ob->json != NULL && ob->json != stdout)
		fclose(ob->json);
	else if (ob->json != NULL)
		fflush(ob->json);
	ob->json = NULL;
	sp_obs_prom_close(ob);
	sp_obs_influx_close(ob);
	sp_obs_web_close(ob);
}

int
sp_obs_wants_report(const struct sp_obs *ob)
{
	return ob->web != NULL;
}

void
sp_obs_report(struct sp_obs *ob, const char *json, size_t len)
{
	sp_obs_web_final(ob, json, len);
}
