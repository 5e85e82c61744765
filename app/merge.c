/*
 * `stampede merge A.json B.json ...`: the JSON reports of a plan's shards
 * (stampede run --shard I/N) added up into one report of the same schema,
 * its thresholds judged on the whole; written as JSON, CSV and HTML like a
 * run's, with a short summary. No DPDK: nothing here starts the EAL.
 *
 * Exit codes as a run's: 0 every threshold held, 1 one failed or nothing
 * succeeded, 2 usage or a refusal (nothing written), 3 a report could not
 * be written.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_app.h"
#include "sp_html.h"
#include "sp_merge.h"

static const char sp_merge_help[] =
	"usage: stampede merge REPORT.json... [options]\n"
	"\n"
	"Add up the JSON reports of one plan's shards (stampede run --shard\n"
	"I/N --json ...) into one report: counters summed, latency histograms\n"
	"merged exactly and their percentiles computed again, timelines\n"
	"aligned on the wall clock, thresholds judged on the whole. Reports of\n"
	"different plans, layouts or versions, a capacity hunt's, and a shard\n"
	"given twice are refused; missing shards are merged with a warning.\n"
	"\n"
	"  --json FILE          the merged report (- for standard output; the\n"
	"                       summary then goes to standard error)\n"
	"  --csv PREFIX         PREFIX_stats.csv and PREFIX_timeline.csv\n"
	"  --html FILE          the HTML report of the merged figures\n"
	"  --threshold EXPR     judge one more threshold (repeatable; the\n"
	"                       reports' own are judged too)\n"
	"  -h, --help           this text\n"
	"\n"
	"exit codes: 0 every threshold held, 1 a threshold failed or nothing\n"
	"succeeded, 2 usage or reports that cannot be merged, 3 a report\n"
	"could not be written\n";

struct sp_merge_opts {
	const char *json, *csv, *html;
	char **th;
	int nth;
};

struct sp_merge_files {
	FILE *json, *st, *tl, *html;
	char st_path[4200], tl_path[4200];
};

static int
sp_merge_args(int argc, char **argv, struct sp_merge_opts *o)
{
	static const struct option lo[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "csv", required_argument, NULL, 'c' },
		{ "html", required_argument, NULL, 'H' },
		{ "threshold", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->th = calloc((size_t)argc, sizeof(*o->th));
	if (o->th == NULL)
		return -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = optarg;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 't':
			o->th[o->nth++] = optarg;
			break;
		case 'h':
			fputs(sp_merge_help, stdout);
			return 1;
		case 'V':
			sp_print_version(stdout);
			return 1;
		default:
			sp_usage_error("merge: unknown option or missing "
				       "value '%s' (see stampede merge --help)",
				       argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* Inputs and outputs all different files; the outputs opened now, so a
 * path that cannot be written is said before any work. */
static int
sp_merge_open(const struct sp_merge_opts *o, int n, char **in,
	      struct sp_merge_files *f)
{
	struct sp_out_name *names = calloc((size_t)n + 4, sizeof(*names));
	int k = 0, ret = -1;

	if (names == NULL)
		return -1;
	if (o->csv != NULL) {
		snprintf(f->st_path, sizeof(f->st_path), "%s_stats.csv",
			 o->csv);
		snprintf(f->tl_path, sizeof(f->tl_path), "%s_timeline.csv",
			 o->csv);
	}
	for (int i = 0; i < n; i++)
		names[k++] = (struct sp_out_name){ "a report merged", in[i],
						   1 };
	names[k++] = (struct sp_out_name){ "--json", o->json, 0 };
	names[k++] = (struct sp_out_name){ "--csv", o->csv ? f->st_path : NULL,
					   0 };
	names[k++] = (struct sp_out_name){ "--csv", o->csv ? f->tl_path : NULL,
					   0 };
	names[k++] = (struct sp_out_name){ "--html", o->html, 0 };
	if (sp_out_distinct(names, (unsigned)k) < 0)
		goto out;
	if (o->json != NULL &&
	    (f->json = sp_out_open("--json", o->json)) == NULL)
		goto out;
	if (o->csv != NULL &&
	    ((f->st = sp_out_open("--csv", f->st_path)) == NULL ||
	     (f->tl = sp_out_open("--csv", f->tl_path)) == NULL))
		goto out;
	if (o->html != NULL && (f->html = fopen(o->html, "w")) == NULL) {
		sp_usage_error("--html: cannot write %s", o->html);
		goto out;
	}
	ret = 0;
out:
	free(names);
	return ret;
}

/* Nothing to write (a refusal after the files were opened): none left. */
static void
sp_merge_discard(const struct sp_merge_opts *o, struct sp_merge_files *f)
{
	sp_out_discard(f->json, o->json);
	sp_out_discard(f->st, f->st_path);
	sp_out_discard(f->tl, f->tl_path);
	sp_out_discard(f->html, o->html);
	memset(f, 0, sizeof(*f));
}

static int
sp_merge_close(FILE *f, const char *opt, const char *path, int failed)
{
	int err;

	if (f == NULL)
		return 0;
	err = ferror(f) || failed;
	if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
		err = 1;
	if (err)
		fprintf(stderr, "stampede merge: %s: writing %s failed\n", opt,
			path);
	return err ? -1 : 0;
}

/* ---- CSV: the columns of a run's (run_report.c sp_run_csv) ---- */

static int64_t
sp_mi(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static double
sp_mr(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void
sp_merge_csv_lat(FILE *f, const json_t *l)
{
	fprintf(f, ",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
		sp_mr(l, "min"), sp_mr(l, "mean"), sp_mr(l, "p50"),
		sp_mr(l, "p90"), sp_mr(l, "p95"), sp_mr(l, "p99"),
		sp_mr(l, "p999"), sp_mr(l, "max"));
}

/* A row: type, "name", four counts, a latency object's figures. */
static void
sp_merge_csv_row(FILE *f, const char *type, const char *name, int64_t a,
		 int64_t b, int64_t c, int64_t d, const json_t *lat)
{
	fprintf(f, "%s,", type);
	sp_out_csv_str(f, name != NULL ? name : "");
	fprintf(f, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64, a, b, c, d);
	sp_merge_csv_lat(f, lat);
}

static int64_t
sp_merge_hcount(const json_t *lat)
{
	return sp_mi(json_object_get(lat, "hist"), "count");
}

static void
sp_merge_csv(const json_t *r, FILE *st, FILE *tl)
{
	const json_t *s = json_object_get(r, "summary"), *e, *p;
	const json_t *ws = json_object_get(r, "ws");
	size_t i;

	fputs(SP_CSV_STATS_HEAD, st);
	sp_merge_csv_row(st, "total", "requests", sp_mi(s, "requests"),
			 sp_mi(s, "responses"), sp_mi(s, "errors"),
			 sp_mi(s, "interrupted"),
			 json_object_get(s, "latency_ms"));
	json_array_foreach(json_object_get(r, "scenarios"), i, e)
		sp_merge_csv_row(st, "scenario",
				 json_string_value(json_object_get(e, "name")),
				 sp_mi(e, "started"), sp_mi(e, "completed"),
				 sp_mi(e, "failed"), sp_mi(e, "interrupted"),
				 json_object_get(e, "iteration_ms"));
	json_array_foreach(json_object_get(r, "lifecycle"), i, e)
		sp_merge_csv_row(st, "lifecycle",
				 json_string_value(json_object_get(e, "name")),
				 sp_mi(e, "started"), sp_mi(e, "completed"),
				 sp_mi(e, "failed"), sp_mi(e, "interrupted"),
				 json_object_get(e, "iteration_ms"));
	json_array_foreach(json_object_get(r, "requests"), i, e)
		sp_merge_csv_row(st, "request",
				 json_string_value(json_object_get(e, "name")),
				 sp_mi(e, "started"), sp_mi(e, "responses"),
				 sp_mi(e, "failed"), sp_mi(e, "interrupted"),
				 json_object_get(e, "latency_ms"));
	if (json_object_get(r, "tls") != NULL) {
		const json_t *l = json_object_get(s, "tls_ms");

		sp_merge_csv_row(st, "tls", "handshake", sp_merge_hcount(l),
				 sp_merge_hcount(l), 0, 0, l);
	}
	if (ws != NULL) {
		const json_t *ss = json_object_get(ws, "sessions");
		const json_t *c = json_object_get(ws, "connect_ms");
		const json_t *rt = json_object_get(ws, "rtt_ms");

		sp_merge_csv_row(st, "ws", "session", sp_mi(ss, "started"),
				 sp_mi(ss, "completed"), sp_mi(ss, "failed"),
				 sp_mi(ss, "interrupted"),
				 json_object_get(ws, "session_ms"));
		sp_merge_csv_row(st, "ws", "connect", sp_merge_hcount(c),
				 sp_merge_hcount(c), 0, 0, c);
		sp_merge_csv_row(st, "ws", "rtt", sp_merge_hcount(rt),
				 sp_merge_hcount(rt), 0, 0, rt);
	}
	e = json_object_get(s, "lag_ms");
	sp_merge_csv_row(st, "lag", "generator", sp_merge_hcount(e),
			 sp_merge_hcount(e), 0, 0, e);
	fprintf(tl, SP_CSV_TIMELINE_HEAD "%s\n", ws ? SP_CSV_TIMELINE_WS : "");
	json_array_foreach(json_object_get(r, "timeline"), i, p)
	{
		/* A whole second has no length_s in JSON: it is a second. */
		double len = json_is_true(json_object_get(p, "partial")) ?
				     sp_mr(p, "length_s") :
				     1.0;

		fprintf(tl,
			"%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			",%" PRId64 ",%" PRId64 ",%" PRId64
			",%.3f,%.3f,%.3f,%" PRId64 ",%" PRId64 ",%.6f",
			sp_mi(p, "t"), sp_mi(p, "requests"),
			sp_mi(p, "responses"), sp_mi(p, "errors"),
			sp_mi(p, "dropped"), sp_mi(p, "vus"), sp_mi(p, "conns"),
			sp_mr(p, "p50_ms"), sp_mr(p, "p95_ms"),
			sp_mr(p, "p99_ms"), sp_mi(p, "bytes_sent"),
			sp_mi(p, "bytes_received"), len);
		if (ws)
			fprintf(tl,
				",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
				",%" PRId64,
				sp_mi(p, "ws_sent"), sp_mi(p, "ws_received"),
				sp_mi(p, "ws_bytes_sent"),
				sp_mi(p, "ws_bytes_received"),
				sp_mi(p, "ws_open"));
		fputc('\n', tl);
	}
}

/* ---- the summary ---- */

static void
sp_merge_print(const struct sp_merge *m, FILE *out)
{
	const json_t *r = m->out, *s = json_object_get(r, "summary");
	const json_t *l = json_object_get(s, "latency_ms"), *e;
	const json_t *sh = json_object_get(r, "shards");
	size_t i;

	if (m->shard_count)
		fprintf(out, "stampede merge: %d of %" PRId64 " shards", m->n,
			m->shard_count);
	else
		fprintf(out, "stampede merge: %d report%s", m->n,
			m->n == 1 ? "" : "s");
	fprintf(out, " -> %s (%s model, stopped by %s)\n",
		json_string_value(json_object_get(r, "target")) ?: "?",
		json_string_value(json_object_get(r, "model")) ?: "?",
		json_string_value(json_object_get(r, "stopped_by")));
	if (json_array_size(json_object_get(sh, "missing")) != 0) {
		fprintf(out, "  MISSING shards ");
		json_array_foreach(json_object_get(sh, "missing"), i, e)
			fprintf(out, " %" PRId64,
				(int64_t)json_integer_value(e));
		fputc('\n', out);
	}
	fprintf(out, "  span            %.3f s (starts %" PRId64 " ms apart)\n",
		sp_mr(r, "elapsed_s"), sp_mi(sh, "start_spread_ms"));
	fprintf(out,
		"  requests        started %" PRId64 "  responses %" PRId64
		"  succeeded %" PRId64 "  failed %" PRId64
		"  interrupted %" PRId64 "\n",
		sp_mi(s, "requests"), sp_mi(s, "responses"),
		sp_mi(s, "succeeded"), sp_mi(s, "errors"),
		sp_mi(s, "interrupted"));
	if (json_is_true(json_object_get(s, "nothing_succeeded")))
		fprintf(out,
			"  NO REQUEST SUCCEEDED: the runs measured nothing "
			"(exit code 1)\n");
	fprintf(out,
		"  rate            mean %.1f responses/s over the %.3f s "
		"load  peak %.0f/s\n",
		sp_mr(s, "rps"), sp_mr(s, "duration_s"), sp_mr(s, "peak_rps"));
	fprintf(out,
		"  latency ms      min %.3f  mean %.3f  p50 %.3f  p90 %.3f  "
		"p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (%" PRId64 ")\n",
		sp_mr(l, "min"), sp_mr(l, "mean"), sp_mr(l, "p50"),
		sp_mr(l, "p90"), sp_mr(l, "p95"), sp_mr(l, "p99"),
		sp_mr(l, "p999"), sp_mr(l, "max"), sp_merge_hcount(l));
	if (json_is_true(json_object_get(s, "lag_warning")))
		fprintf(out,
			"  warning: the generators' own lag is %.0f %% of "
			"the latency at p99: the machines, not only the "
			"server, shaped the figures\n",
			100.0 * sp_mr(s, "lag_share_p99"));
	if (m->nth != 0)
		fprintf(out, "  thresholds      (on the merged figures)\n");
	json_array_foreach(json_object_get(r, "thresholds"), i, e) fprintf(
		out, "    %-6s %-40s %.3f\n",
		json_is_true(json_object_get(e, "ok")) ? "ok" : "FAILED",
		json_string_value(json_object_get(e, "expr")),
		sp_mr(e, "value"));
	fflush(out);
}

int
sp_cmd_merge(int argc, char **argv)
{
	struct sp_merge_files f = { 0 };
	struct sp_merge_opts o;
	struct sp_merge m = { 0 };
	char *buf = NULL;
	size_t len;
	int ret = SP_EXIT_USAGE, bad = 0, a;

	a = sp_merge_args(argc, argv, &o);
	if (a != 0) {
		free(o.th);
		return a > 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
	}
	if (sp_merge_load(&m, argc - optind, argv + optind) < 0 ||
	    sp_merge_open(&o, m.n, argv + optind, &f) < 0)
		goto out;
	if (sp_merge_fold(&m) < 0 || sp_merge_thresholds(&m, o.th, o.nth) < 0 ||
	    (buf = json_dumps(m.out, JSON_COMPACT | JSON_REAL_PRECISION(15))) ==
		    NULL) {
		sp_merge_discard(&o, &f);
		goto out;
	}
	len = strlen(buf);
	if (f.json != NULL)
		bad |= sp_merge_close(f.json, "--json", o.json,
				      fwrite(buf, 1, len, f.json) != len ||
					      fputc('\n', f.json) == EOF);
	if (f.html != NULL)
		bad |= sp_merge_close(f.html, "--html", o.html,
				      sp_html_write(f.html, buf, len) < 0);
	if (f.st != NULL) {
		sp_merge_csv(m.out, f.st, f.tl);
		bad |= sp_merge_close(f.st, "--csv", f.st_path, 0);
		bad |= sp_merge_close(f.tl, "--csv", f.tl_path, 0);
	}
	sp_merge_print(&m, sp_out_summary(o.json));
	if (bad)
		ret = SP_EXIT_NORUN;
	else if (m.th_failed != 0 ||
		 json_is_true(json_object_get(json_object_get(m.out, "summary"),
					      "nothing_succeeded")))
		ret = SP_EXIT_FAILED;
	else
		ret = SP_EXIT_OK;
out:
	free(buf);
	free(o.th);
	sp_merge_free(&m);
	return ret;
}
