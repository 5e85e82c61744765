/*
 * `stampede run`: the text summary, the JSON and CSV reports, and the
 * report files (opened before the run, written after it).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_app.h"
#include "sp_html.h"
#include "sp_bp.h"
#include "sp_config.h"
#include "sp_run.h"
#include "sp_threshold.h"
#include "sp_vu.h"

/* ---- the report ---- */

struct sp_run_lat {
	const char *name;
	const struct sp_hist *h;
};

/*
 * A histogram as it is, sparse (the non-empty buckets, by ascending
 * index): what `stampede merge` adds up exactly. min and max are 0 while
 * it is empty (its UINT64_MAX would be no number to a reader).
 */
static void
sp_run_hist_json(FILE *f, const struct sp_hist *h)
{
	const char *sep = "";

	fprintf(f,
		",\"hist\":{\"count\":%" PRIu64 ",\"sum\":%" PRIu64
		",\"min\":%" PRIu64 ",\"max\":%" PRIu64
		",\"overflow\":%" PRIu64 ",\"buckets\":[",
		h->count, h->sum, h->count ? h->min : 0,
		h->count ? h->max : 0, h->overflow);
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		if (h->b[i] != 0) {
			fprintf(f, "%s[%u,%" PRIu64 "]", sep, i, h->b[i]);
			sep = ",";
		}
	fputs("]}", f);
}

void
sp_run_lat_ms(const struct sp_hist *h, double v[SP_RUN_LAT_N])
{
	static const double q[] = { 0.5, 0.9, 0.95, 0.99, 0.999 };

	v[0] = h->count ? (double)h->min / 1e3 : 0.0;
	v[1] = sp_hist_mean(h) / 1e3;
	for (unsigned i = 0; i < 5; i++)
		v[2 + i] = (double)sp_hist_quantile(h, q[i]) / 1e3;
	v[7] = (double)h->max / 1e3;
}

void
sp_run_lat_json(FILE *f, const struct sp_hist *h, int hist)
{
	double v[SP_RUN_LAT_N];

	sp_run_lat_ms(h, v);
	fprintf(f,
		"{\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
		"\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f",
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
	if (hist)
		sp_run_hist_json(f, h);
	fputc('}', f);
}

uint64_t
sp_run_start_ms(const struct sp_run *r)
{
	uint64_t start = r->w != NULL ? sp_ctr_read(r->w->run_start_us) : 0;

	if (start < r->mono_us0)
		return r->wall_ms0;
	return r->wall_ms0 + (start - r->mono_us0) / 1000;
}

void
sp_run_lat_line(FILE *out, const char *what, const struct sp_hist *h)
{
	double v[SP_RUN_LAT_N];

	sp_run_lat_ms(h, v);
	fprintf(out,
		"  %-15s min %.3f  mean %.3f  p50 %.3f  p90 %.3f  p95 %.3f"
		"  p99 %.3f  p99.9 %.3f  max %.3f  (%" PRIu64 ")\n",
		what, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], h->count);
}

/*
 * A point shorter than this is a partial second (the end of the run after
 * its last tick): its counts are not a rate, so it is marked, with its
 * length, and kept out of the peak. Ticks come a few ms late, never 10 %.
 */
#define SP_RUN_PARTIAL_US (SP_US_PER_S * 9 / 10)

int
sp_run_partial(const struct sp_run_point *p)
{
	return p->len_us < SP_RUN_PARTIAL_US;
}

/* A timeline point's JSON fields, without braces: the report's timeline
 * and the per-second stream (--out json=) write the same. */
void
sp_run_point_json(FILE *f, const struct sp_run_point *p, int ws)
{
	fprintf(f,
		"\"t\":%" PRIu64 ",\"requests\":%" PRIu64
		",\"responses\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"dropped\":%" PRIu64 ",\"vus\":%" PRIu64
		",\"conns\":%" PRIu64
		",\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,"
		"\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64,
		p->t_s, p->requests, p->responses, p->errors, p->dropped,
		p->vus, p->conns, (double)p->p50_us / 1e3,
		(double)p->p95_us / 1e3, (double)p->p99_us / 1e3,
		p->bytes_sent, p->bytes_received);
	if (ws)
		sp_run_ws_json_point(p, f);
	/* Counts of a partial second are not per-second rates: say how long
	 * it was, so a plot can scale it. */
	if (sp_run_partial(p))
		fprintf(f, ",\"partial\":true,\"length_s\":%.6f",
			(double)p->len_us / 1e6);
}

/* The load's length: start to when the engines stopped starting work
 * (the plan's duration, or a stop), without the drain after it. */
double
sp_run_load_s(const struct sp_run *r, const struct sp_report *rep)
{
	uint64_t load = 0;

	for (uint32_t c = 0; c < r->ncores; c++) {
		uint64_t stop = sp_vu_stopped_at(r->core[c].eng);
		uint64_t start = sp_ctr_read(r->w[c].run_start_us);

		if (stop > start && stop - start > load)
			load = stop - start;
	}
	if (load == 0)
		return rep->elapsed_s;
	return (double)load / 1e6;
}

/* Responses per second of the load: every response, those the drain
 * received included (they answer requests the load made). */
static double
sp_run_mean_rps(const struct sp_run *r, const struct sp_report *rep)
{
	return sp_rate((double)r->tot->responses, sp_run_load_s(r, rep));
}

/* The busiest whole second's responses; never below the mean (the load
 * as a whole is a window too: a run shorter than a second, or one whose
 * drain answered much, has its busiest rate there). */
static double
sp_run_peak_rps(const struct sp_run *r, const struct sp_report *rep)
{
	double peak = 0, mean = sp_run_mean_rps(r, rep);

	for (uint32_t i = 0; i < r->ntl; i++)
		if (!sp_run_partial(&r->tl[i]) &&
		    (double)r->tl[i].responses > peak)
			peak = (double)r->tl[i].responses;
	return peak > mean ? peak : mean;
}

/* Responses that passed: their status was expected, their checks held
 * and their captures found their values. */
uint64_t
sp_run_succeeded(const struct sp_vu_stats *s)
{
	return s->responses - sp_vu_failed_responses(s);
}

/*
 * The generator's share of the latency: its lag's p99 over the latency's
 * p99. Above SP_RUN_LAG_SHARE the figures say as much about this machine
 * as about the server (a worker that did not run, a loop that fell
 * behind), and every report says so.
 */
#define SP_RUN_LAG_SHARE 0.10

static double
sp_run_lag_share(const struct sp_vu_stats *s)
{
	uint64_t lat = sp_hist_quantile(&s->latency, 0.99);

	if (s->lag.count == 0 || s->latency.count == 0 || lat == 0)
		return 0.0;
	return (double)sp_hist_quantile(&s->lag, 0.99) / (double)lat;
}

/* Where the port would give each frame's arrival time, the time from
 * arrival to processing would be reported beside the lag. */
static const char sp_run_rx_lag_note[] =
	"not measured: the port gives no arrival timestamps (af_packet "
	"never does)";

/* The cores' TLS counters added up (read while the workers run, by
 * --metrics, they are each a counter's consistent value). */
void
sp_run_tls_sum(const struct sp_run *r, struct sp_tls_counters *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < r->ncores; i++)
		if (r->core[i].tls != NULL)
			sp_report_tls_add(t, r->core[i].tls);
}

int64_t
sp_run_tls_hs_allocs(const struct sp_run *r)
{
	struct sp_tls_counters c;

	if (!r->rp.tls.on)
		return -1;
	sp_run_tls_sum(r, &c);
	return (int64_t)c.allocs_hs;
}

static const char *
sp_run_tls_resume_name(enum sp_run_resume m)
{
	return m == SP_RUN_RESUME_NONE   ? "none" :
	       m == SP_RUN_RESUME_TICKET ? "ticket" :
					   "session";
}

/* A scenario's own load, under its row: "own load: open 50/s, at most
 * 100 VUs, from 5s for 10s" (its target, as the plan has it). */
static void
sp_run_load_print(FILE *out, const struct sp_load *ld)
{
	char what[64];

	if (ld->nstages != 0)
		snprintf(what, sizeof(what), "%u stage%s", ld->nstages,
			 ld->nstages == 1 ? "" : "s");
	else if (ld->model == SP_MODEL_OPEN)
		snprintf(what, sizeof(what), "%g/s", ld->rate);
	else
		snprintf(what, sizeof(what), "%" PRIu32 " VU%s", ld->vus,
			 ld->vus == 1 ? "" : "s");
	fprintf(out,
		"    own load: %s %s, at most %" PRIu32 " VUs, from %.3gs "
		"for %.3gs\n",
		ld->model == SP_MODEL_OPEN ? "open" : "closed", what,
		ld->max_vus, (double)ld->start_us / 1e6,
		(double)ld->duration_us / 1e6);
}

/* ... and in the JSON report: "load":{...} (absent: the shared load). */
static void
sp_run_load_json(FILE *f, const struct sp_load *ld)
{
	fprintf(f,
		",\"load\":{\"model\":\"%s\",\"vus\":%" PRIu32
		",\"rate\":%.17g,\"max_vus\":%" PRIu32 ",\"stages\":%" PRIu32
		",\"start_s\":%.6f"
		",\"duration_s\":%.6f}",
		ld->model == SP_MODEL_OPEN ? "open" : "closed", ld->vus,
		ld->rate, ld->max_vus, ld->nstages, (double)ld->start_us / 1e6,
		(double)ld->duration_us / 1e6);
}

/* The lifecycle scenario (index + 1) request @req is a step of, or 0:
 * the load's. Their requests are reported with them, not with the
 * load's. */
uint32_t
sp_run_req_life(const struct sp_plan *pl, uint32_t req)
{
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_scenario *sc = &pl->scenarios[i];

		if (sc->kind == SP_SCEN_LOAD)
			continue;
		for (uint32_t k = 0; k < sc->nsteps; k++)
			if (sc->steps[k].kind == SP_STEP_REQUEST &&
			    sc->steps[k].req == req)
				return i + 1;
	}
	return 0;
}

static const char *
sp_run_life_kind(uint8_t kind)
{
	static const char *const names[] = {
		[SP_SCEN_LOAD] = "load",
		[SP_SCEN_SETUP] = "setup",
		[SP_SCEN_TEARDOWN] = "teardown",
		[SP_SCEN_VU_SETUP] = "vu_setup",
		[SP_SCEN_VU_TEARDOWN] = "vu_teardown",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static void
sp_run_print_tls(const struct sp_run *r, FILE *out)
{
	const struct sp_run_tls *cf = &r->rp.tls;
	const struct sp_tls *t0 = r->core[0].tls;
	const struct sp_tls_engine *e = sp_tls_engine_find(cf->engine);
	struct sp_tls_counters c;

	if (!cf->on || t0 == NULL)
		return;
	sp_run_tls_sum(r, &c);
	fprintf(out, "  tls             %s, TLS 1.2, resume %s, ",
		sp_tls_engine_name(e), sp_run_tls_resume_name(cf->resume));
	if (cf->insecure)
		fprintf(out,
			"VERIFY OFF (--insecure): the server's certificate "
			"was not checked\n");
	else
		fprintf(out, "verified against %s\n",
			cf->ca != NULL ? cf->ca : "the system store");
	fprintf(out,
		"  tls handshakes  full %" PRIu64 "  resumed %" PRIu64
		"  failed %" PRIu64 "  (sessions offered %" PRIu64 ")\n",
		c.hs_full, c.hs_resumed, c.hs_failed, c.hs_offered);
	sp_report_tls_text(out, &c, e, sp_tls_conn_bytes(t0),
			   sp_tls_conn_bytes_idle(t0), "VUs + 25 %");
}

static void
sp_run_json_tls(const struct sp_run *r, FILE *f)
{
	const struct sp_run_tls *cf = &r->rp.tls;
	const struct sp_tls *t0 = r->core[0].tls;
	const struct sp_tls_engine *e = sp_tls_engine_find(cf->engine);
	struct sp_tls_counters c;

	if (!cf->on || t0 == NULL)
		return;
	sp_run_tls_sum(r, &c);
	fprintf(f,
		" \"tls\":{\"engine\":\"%s\",\"version\":\"TLS 1.2\","
		"\"verify\":%s,\"ca\":",
		sp_tls_engine_name(e), cf->insecure ? "false" : "true");
	if (cf->ca != NULL)
		sp_json_str(f, cf->ca);
	else
		fprintf(f, "null");
	fprintf(f, ",\"resume\":\"%s\",\"server_name\":",
		sp_run_tls_resume_name(cf->resume));
	if (r->rp.eng.peer_name != NULL)
		sp_json_str(f, r->rp.eng.peer_name);
	else
		fprintf(f, "null");
	fprintf(f,
		",\"handshakes\":{\"full\":%" PRIu64 ",\"resumed\":%" PRIu64
		",\"failed\":%" PRIu64 ",\"offered\":%" PRIu64 "}",
		c.hs_full, c.hs_resumed, c.hs_failed, c.hs_offered);
	sp_report_tls_json(f, &c, e, sp_tls_conn_bytes(t0),
			   sp_tls_conn_bytes_idle(t0));
}

void
sp_run_print(const struct sp_run *r, const struct sp_report *rep, FILE *out)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	char sent[32], recv[32], addr[16];
	int any = 0;

	sp_ipv4_str(pl->dst_ip, addr, sizeof(addr));
	fprintf(out,
		"stampede run %s -> %s://%s%s%s%s (%s model, stopped by "
		"%s)\n",
		r->rp.source, r->rp.scheme, pl->host,
		r->rp.target_name != NULL ? " [" : "",
		r->rp.target_name != NULL ? addr : "",
		r->rp.target_name != NULL ? "]" : "",
		pl->model == SP_MODEL_OPEN ? "open" : "closed", r->stopped_by);
	sp_run_shard_print(r, out);
	fprintf(out, "  elapsed         %.3f s\n", rep->elapsed_s);
	fprintf(out,
		"  iterations      started %" PRIu64 "  completed %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64
		"  dropped %" PRIu64 "\n",
		s->it_started, s->it_completed, s->it_failed, s->it_interrupted,
		s->it_dropped);
	/* Unique rows ran out: per iteration every started iteration took
	 * one, per VU each VU numbered within the file did. */
	if (s->it_data_exhausted != 0 && pl->data != NULL)
		fprintf(out,
			"  data            exhausted after %" PRIu64
			" rows (unique: of %u in %s): %" PRIu64
			" iterations not started\n",
			pl->data->per == SP_DATA_PER_VU ?
				(uint64_t)pl->data->nrows :
				s->it_started,
			pl->data->nrows,
			pl->data->file != NULL ? pl->data->file : "the file",
			s->it_data_exhausted);
	/* The jar and the captures' scratch pool, the lifecycle's requests
	 * included (a login in vu_setup sets the session cookie). */
	if (pl->jar_bytes != 0 &&
	    s->cookies_set + r->life_tot->cookies_set +
			    s->cookies_dropped + r->life_tot->cookies_dropped !=
		    0)
		fprintf(out,
			"  cookies         set %" PRIu64 "  dropped %" PRIu64
			" (refused, or no room in a %u-byte jar)\n",
			s->cookies_set + r->life_tot->cookies_set,
			s->cookies_dropped + r->life_tot->cookies_dropped,
			pl->jar_bytes);
	if (s->cap_no_room + r->life_tot->cap_no_room != 0)
		fprintf(out,
			"  captures        %" PRIu64 " responses found the "
			"capture scratch pool empty (ours: their captures "
			"failed, their cookies were dropped)\n",
			s->cap_no_room + r->life_tot->cap_no_room);
	fprintf(out,
		"  requests        started %" PRIu64 "  responses %" PRIu64
		"  succeeded %" PRIu64 "  failed %" PRIu64
		"  interrupted %" PRIu64 "\n",
		s->requests, s->responses, sp_run_succeeded(s), s->failed,
		s->interrupted);
	if (sp_run_succeeded(s) == 0 && !r->setup_failed)
		fprintf(out, "  NO REQUEST SUCCEEDED: the run measured nothing "
			     "(exit code 1)\n");
	fprintf(out,
		"  rate            mean %.1f responses/s over the %.3f s "
		"load  peak %.0f/s\n",
		sp_run_mean_rps(r, rep), sp_run_load_s(r, rep),
		sp_run_peak_rps(r, rep));
	fprintf(out,
		"  latency ms      (from the intended start to the last byte)\n");
	sp_run_lat_line(out, "  response", &s->latency);
	sp_run_lat_line(out, "  first byte", &s->ttfb);
	sp_run_lat_line(out, "  connect", &s->connect);
	if (r->rp.tls.on)
		sp_run_lat_line(out, "  tls handshake", &s->tls);
	sp_run_lat_line(out, "  iteration", &s->iteration);
	sp_run_lat_line(out, "  generator lag", &s->lag);
	fprintf(out,
		"  (lag: a request's first frame queued minus its intended "
		"start; receive lag %s)\n",
		sp_run_rx_lag_note);
	if (sp_run_lag_share(s) > SP_RUN_LAG_SHARE)
		fprintf(out,
			"  warning: the generator's own lag is %.0f %% of "
			"the latency at p99 (%.3f of %.3f ms): this machine, not "
			"only the server, shaped the figures\n",
			100.0 * sp_run_lag_share(s),
			(double)sp_hist_quantile(&s->lag, 0.99) / 1e3,
			(double)sp_hist_quantile(&s->latency, 0.99) / 1e3);
	fprintf(out, "  status codes   ");
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(out, " %d: %" PRIu64, c, s->codes[c]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	any = 0;
	fprintf(out, "  errors by kind ");
	for (int k = 0; k < SP_VU_E_N; k++)
		if (s->err[k] != 0) {
			fprintf(out, " %s %" PRIu64,
				sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	fprintf(out,
		"  checks          passed %" PRIu64 "  failed %" PRIu64 "\n",
		s->checks_passed, s->err[SP_VU_E_CHECK]);
	fprintf(out,
		"  connections     opened %" PRIu64 "  reconnects %" PRIu64
		"  closed by server when idle %" PRIu64
		"  retries (our pool) %" PRIu64
		"  closed after lenient framing %" PRIu64 "\n",
		s->connects, s->reconnects, s->server_closes,
		s->connect_retries, s->lenient_closes);
	sp_run_print_tls(r, out);
	sp_fmt_bytes(s->bytes_sent, sent, sizeof(sent));
	sp_fmt_bytes(s->bytes_received, recv, sizeof(recv));
	fprintf(out,
		"  http bytes      sent %s (%.2f Mbit/s)  received %s "
		"(%.2f Mbit/s)\n",
		sent, sp_rate((double)s->bytes_sent * 8 / 1e6, rep->elapsed_s),
		recv,
		sp_rate((double)s->bytes_received * 8 / 1e6, rep->elapsed_s));
	if (sp_run_has_ws(pl))
		sp_run_ws_print(r, rep, out);
	fprintf(out, "  %-24s %8s %10s %10s %8s %8s %8s %10s\n", "scenario",
		"weight", "started", "completed", "failed", "interr", "dropped",
		"iter p95");
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_load *ld = pl->scenarios[i].load;

		if (!pl->scenarios[i].enabled)
			continue;
		fprintf(out,
			"  %-24s %8" PRIu32 " %10" PRIu64 " %10" PRIu64
			" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10.3f\n",
			pl->scenarios[i].name, pl->scenarios[i].weight,
			ss[i].started, ss[i].completed, ss[i].failed,
			ss[i].interrupted, ss[i].dropped,
			(double)sp_hist_quantile(&ss[i].iteration, 0.95) / 1e3);
		if (ld != NULL)
			sp_run_load_print(out, ld);
	}
	for (uint32_t i = 0, nlife = 0; i < pl->nscenarios; i++) {
		uint64_t rq = 0, rr = 0, rf = 0;

		if (pl->scenarios[i].kind == SP_SCEN_LOAD)
			continue;
		if (nlife++ == 0)
			fprintf(out,
				"  %-24s %10s %10s %8s %8s %10s %10s %8s\n",
				"lifecycle", "started", "completed", "failed",
				"interr", "requests", "responses", "failed");
		for (uint32_t q = 0; q < pl->nrequests; q++)
			if (sp_run_req_life(pl, q) == i + 1) {
				rq += rs[q].started;
				rr += rs[q].responses;
				rf += rs[q].failed;
			}
		fprintf(out,
			"  %-24s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			"\n",
			pl->scenarios[i].name, ss[i].started, ss[i].completed,
			ss[i].failed, ss[i].interrupted, rq, rr, rf);
	}
	fprintf(out, "  %-24s %10s %10s %8s %8s %9s %9s %9s %9s\n", "request",
		"started", "responses", "failed", "checks", "p50 ms", "p95 ms",
		"p99 ms", "max ms");
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		const struct sp_hist *rh = &rs[i].latency;

		if (rs[i].started == 0 || sp_run_req_life(pl, i) != 0)
			continue;
		fprintf(out,
			"  %-24s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %9.3f %9.3f %9.3f %9.3f\n",
			pl->requests[i].name, rs[i].started, rs[i].responses,
			rs[i].failed, rs[i].check_failed,
			(double)sp_hist_quantile(rh, 0.5) / 1e3,
			(double)sp_hist_quantile(rh, 0.95) / 1e3,
			(double)sp_hist_quantile(rh, 0.99) / 1e3,
			(double)rh->max / 1e3);
	}
	sp_run_life_print(r, out);
	if (r->bp != NULL)
		sp_bp_print(r->bp, out);
	if (r->bp != NULL && r->rp.nthresholds != 0)
		fprintf(out, "  thresholds      the hunt's SLOs, judged on each "
			     "step's window (above), not on the whole run\n");
	else if (r->rp.nthresholds != 0)
		fprintf(out, r->sh.count > 1 ?
				     "  thresholds      on this shard's share "
				     "(the merge judges the run)\n" :
				     "  thresholds\n");
	for (uint32_t i = 0; r->bp == NULL && i < r->rp.nthresholds; i++)
		fprintf(out, "    %-6s %-40s %.3f\n",
			r->th_ok[i] ? "ok" : "FAILED", r->rp.thresholds[i].expr,
			sp_threshold_shown(&r->rp.thresholds[i],
					   r->th_value[i]));
	if (r->log_path != NULL)
		fprintf(out,
			"  request log     %s: %" PRIu64 " rows, %" PRIu64
			" lost to a full ring\n",
			r->log_path, r->rlog.written,
			sp_reqlog_out_dropped(&r->rlog));
	sp_print_stack(rep, out);
	for (uint32_t c = 0; r->ncores > 1 && c < r->ncores; c++) {
		const struct sp_vu_stats *cs = sp_vu_stats(r->core[c].eng);
		char what[96];

		snprintf(what, sizeof(what),
			 "connections %" PRIu64 "  requests %" PRIu64
			 "  responses %" PRIu64,
			 sp_ctr_read(cs->connects), sp_ctr_read(cs->requests),
			 sp_ctr_read(cs->responses));
		sp_print_core(out, c, &r->w[c], what);
	}
	fflush(out);
}

/* A scenario's and a request's counters in the JSON report: every one,
 * named as in the engine, by the lists of sp_vu.h. */
#define SP_RUN_JSON_SCEN(c) fprintf(f, ",\"" #c "\":%" PRIu64, ss[i].c);
#define SP_RUN_JSON_REQ(c) fprintf(f, ",\"" #c "\":%" PRIu64, rs[i].c);

/* One request's object of "requests" (and of a lifecycle entry's). */
static void
sp_run_json_req(FILE *f, const struct sp_plan *pl,
		const struct sp_vu_req_stats *rs, uint32_t i, int hist)
{
	fprintf(f, "{\"name\":");
	sp_json_str(f, pl->requests[i].name);
	SP_VU_REQ_COUNTERS(SP_RUN_JSON_REQ)
	fprintf(f, ",\"latency_ms\":");
	sp_run_lat_json(f, &rs[i].latency, hist);
	fprintf(f, ",\"ttfb_ms\":");
	sp_run_lat_json(f, &rs[i].ttfb, hist);
	fputc('}', f);
}

/* A timeline point's histogram: ,"hist":{"count":N,"min":N,"max":N,
 * "buckets":[...]}; min and max are the bounds its percentiles were
 * clamped to (its buckets' within the run's own, sp_hist_delta). */
static void
sp_run_point_hist_json(FILE *f, const struct sp_run *r,
		       const struct sp_run_point *p)
{
	if (p->h_n == SP_RUN_NO_HIST)
		return;
	fprintf(f,
		",\"hist\":{\"count\":%" PRIu64 ",\"min\":%" PRIu64
		",\"max\":%" PRIu64 ",\"buckets\":[",
		p->h_count, p->h_min, p->h_max);
	for (uint32_t k = 0; k < p->h_n; k++)
		fprintf(f, "%s[%" PRIu32 ",%" PRIu64 "]", k ? "," : "",
			r->tl_hb[p->h_off + k].i, r->tl_hb[p->h_off + k].n);
	fputs("]}", f);
}

/*
 * The JSON report. @full: the report's file (and the HTML page, and the
 * dashboard's last word): with the timeline and every histogram; else
 * the dashboard's run so far each second, without them (they are most
 * of the bytes).
 */
static int
sp_run_json(const struct sp_run *r, const struct sp_report *rep, FILE *f,
	    const char *path, int full)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	const struct sp_run_lat lats[] = {
		{ "latency_ms", &s->latency },
		{ "connect_ms", &s->connect },
		{ "tls_ms", &s->tls },
		{ "ttfb_ms", &s->ttfb },
		{ "iteration_ms", &s->iteration },
		{ "lag_ms", &s->lag },
	};
	const char *sep = "";
	char target[300], addr[16];
	int ws = sp_run_has_ws(pl);

	snprintf(target, sizeof(target), "%s://%s", r->rp.scheme, pl->host);
	sp_ipv4_str(pl->dst_ip, addr, sizeof(addr));
	fprintf(f,
		"{\"version\":1,\"mode\":\"http\",\"stampede_version\":\"%s\""
		",\"start_ms\":%" PRIu64 ",",
		SP_VERSION, sp_run_start_ms(r));
	if (full)
		fprintf(f,
			"\"hist_layout\":{\"unit\":\"us\",\"sub_bucket_bits\":%d,"
			"\"range_bits\":%d,\"buckets\":%d},",
			SP_HIST_SUB_BITS, SP_HIST_RANGE_BITS, SP_HIST_BUCKETS);
	fprintf(f, "\"target\":");
	sp_json_str(f, target);
	fprintf(f, ",\"target_addr\":\"%s:%u\"", addr, pl->dst_port);
	fprintf(f, ",\"source\":");
	sp_json_str(f, r->rp.source);
	sp_run_shard_json(r, f);
	fprintf(f,
		",\"model\":\"%s\",\"elapsed_s\":%.6f,\"stopped_by\":\"%s\",\n",
		pl->model == SP_MODEL_OPEN ? "open" : "closed", rep->elapsed_s,
		r->stopped_by != NULL ? r->stopped_by : "running");
	fprintf(f,
		" \"summary\":{\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"succeeded\":%" PRIu64 ",\"nothing_succeeded\":%s"
		",\"errors\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"rps\":%.3f,\"peak_rps\":%.3f,\"duration_s\":%.6f,"
		"\"codes\":{",
		s->requests, s->responses, sp_run_succeeded(s),
		sp_run_succeeded(s) == 0 ? "true" : "false", s->failed,
		s->interrupted, sp_run_mean_rps(r, rep),
		sp_run_peak_rps(r, rep), sp_run_load_s(r, rep));
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(f, "%s\"%d\":%" PRIu64, sep, c, s->codes[c]);
			sep = ",";
		}
	fprintf(f, "},\"errors_by_kind\":{");
	for (int k = 0; k < SP_VU_E_N; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
	fprintf(f,
		"},\"checks\":{\"passed\":%" PRIu64 ",\"failed\":%" PRIu64 "}",
		s->checks_passed, s->err[SP_VU_E_CHECK]);
	for (size_t i = 0; i < sizeof(lats) / sizeof(lats[0]); i++) {
		fprintf(f, ",\"%s\":", lats[i].name);
		sp_run_lat_json(f, lats[i].h, full);
	}
	fprintf(f,
		",\"lag_share_p99\":%.4f,\"lag_warning\":%s,"
		"\"rx_lag_ms\":null,\"rx_lag_note\":",
		sp_run_lag_share(s),
		sp_run_lag_share(s) > SP_RUN_LAG_SHARE ? "true" : "false");
	sp_json_str(f, sp_run_rx_lag_note);
	fprintf(f,
		",\n  \"iterations\":{\"started\":%" PRIu64
		",\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
		",\"interrupted\":%" PRIu64 ",\"dropped\":%" PRIu64
		",\"data_exhausted\":%" PRIu64
		",\"arrivals\":%" PRIu64
		"},\"cookies\":{\"set\":%" PRIu64 ",\"dropped\":%" PRIu64
		",\"capture_no_room\":%" PRIu64
		"},\"connections\":{\"opened\":%" PRIu64
		",\"reconnects\":%" PRIu64 ",\"server_closes\":%" PRIu64
		",\"lenient_closes\":%" PRIu64 ",\"open_at_end\":%" PRIu64
		"},\"bytes\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		"},\"bits_per_s\":{\"sent\":%.1f,"
		"\"received\":%.1f}},\n",
		s->it_started, s->it_completed, s->it_failed, s->it_interrupted,
		s->it_dropped, s->it_data_exhausted, s->arrivals,
		s->cookies_set + r->life_tot->cookies_set,
		s->cookies_dropped + r->life_tot->cookies_dropped,
		s->cap_no_room + r->life_tot->cap_no_room, s->connects,
		s->reconnects, s->server_closes,
		s->lenient_closes, s->conns_open, s->bytes_sent,
		s->bytes_received,
		sp_rate((double)s->bytes_sent * 8, rep->elapsed_s),
		sp_rate((double)s->bytes_received * 8, rep->elapsed_s));
	if (ws)
		sp_run_ws_json(r, rep, f, full);
	sp_run_life_json(r, f, full);
	if (r->bp != NULL)
		sp_bp_json(r->bp, f);
	fprintf(f, " \"scenarios\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->scenarios[i].name);
		fprintf(f, ",\"weight\":%" PRIu32, pl->scenarios[i].weight);
		if (pl->scenarios[i].load != NULL)
			sp_run_load_json(f, pl->scenarios[i].load);
		SP_VU_SCEN_COUNTERS(SP_RUN_JSON_SCEN)
		fprintf(f, ",\"iteration_ms\":");
		sp_run_lat_json(f, &ss[i].iteration, full);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "],\n \"lifecycle\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const char *rsep = "";

		if (pl->scenarios[i].kind == SP_SCEN_LOAD)
			continue;
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->scenarios[i].name);
		fprintf(f, ",\"kind\":\"%s\"",
			sp_run_life_kind(pl->scenarios[i].kind));
		SP_VU_SCEN_COUNTERS(SP_RUN_JSON_SCEN)
		fprintf(f, ",\"iteration_ms\":");
		sp_run_lat_json(f, &ss[i].iteration, full);
		fprintf(f, ",\"requests\":[");
		for (uint32_t q = 0; q < pl->nrequests; q++)
			if (sp_run_req_life(pl, q) == i + 1) {
				fputs(rsep, f);
				sp_run_json_req(f, pl, rs, q, full);
				rsep = ",";
			}
		fputs("]}", f);
		sep = ",";
	}
	fprintf(f, "],\n \"requests\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		if (sp_run_req_life(pl, i) != 0)
			continue;
		fprintf(f, "%s\n  ", sep);
		sp_run_json_req(f, pl, rs, i, full);
		sep = ",";
	}
	fprintf(f, "],\n \"cores\":[");
	for (uint32_t c = 0; c < r->ncores; c++) {
		const struct sp_vu_stats *cs = sp_vu_stats(r->core[c].eng);
		char fields[192];

		snprintf(fields, sizeof(fields),
			 "\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
			 ",\"errors\":%" PRIu64 ",\"connections\":%" PRIu64
			 ",\"vus_max\":%" PRIu64,
			 sp_ctr_read(cs->requests), sp_ctr_read(cs->responses),
			 sp_ctr_read(cs->failed), sp_ctr_read(cs->connects),
			 sp_ctr_read(cs->vus_target));
		sp_json_core(f, c, &r->w[c], fields);
	}
	fprintf(f, "],\n \"thresholds\":[");
	for (uint32_t i = 0; i < r->rp.nthresholds; i++) {
		fprintf(f, "%s\n  {\"expr\":", i ? "," : "");
		sp_json_str(f, r->rp.thresholds[i].expr);
		fprintf(f, ",\"ok\":%s,\"value\":%.9g,\"abort\":%s}",
			r->th_ok[i] ? "true" : "false",
			sp_threshold_shown(&r->rp.thresholds[i],
					   r->th_value[i]),
			r->rp.thresholds[i].abort ? "true" : "false");
	}
	fprintf(f, "],\n \"timeline\":[");
	for (uint32_t i = 0; full && i < r->ntl; i++) {
		fputs(i ? ",\n  {" : "\n  {", f);
		sp_run_point_json(f, &r->tl[i], ws);
		sp_run_point_hist_json(f, r, &r->tl[i]);
		fputc('}', f);
	}
	fprintf(f, "],\n");
	if (r->log_path != NULL) {
		fprintf(f, " \"request_log\":{\"path\":");
		sp_json_str(f, r->log_path);
		fprintf(f, ",\"rows\":%" PRIu64 ",\"dropped\":%" PRIu64 "},\n",
			r->rlog.written, sp_reqlog_out_dropped(&r->rlog));
	}
	sp_obs_json(&r->obs, f);
	sp_run_json_tls(r, f);
	sp_report_json_stack(rep, f, s->connect_retries);
	return sp_report_json_close(f, path);
}

int
sp_run_open(struct sp_run_out *o, const char *opt, const char *path,
	    const char *suffix)
{
	o->opt = opt;
	if (path == NULL)
		return 0;
	snprintf(o->buf, sizeof(o->buf), "%s%s", path, suffix);
	o->path = o->buf;
	/* Only --json may be stdout; "--html -" is a file named "-". */
	if (strcmp(opt, "--json") == 0)
		o->f = sp_out_open(opt, o->path);
	else if ((o->f = fopen(o->path, "w")) == NULL)
		sp_usage_error("%s: cannot write %s: %s", opt, o->path,
			       strerror(errno));
	return o->f == NULL ? -1 : 0;
}

/* Every report to a file of its own, none over the scenario file: a
 * usage error before the run. */
int
sp_run_distinct(const struct sp_run *r)
{
	char st[4200], tl[4200];
	struct sp_out_name o[] = {
		{ "the scenario file", r->file, 1 },
		{ "--json", r->json_path, 0 },
		{ "--csv", NULL, 0 },
		{ "--csv", NULL, 0 },
		{ "--html", r->html_path, 0 },
		{ "--log-requests", r->log_path, 0 },
		{ "--out json", r->obs.o.out_json, 0 },
	};

	if (r->csv_prefix != NULL) {
		snprintf(st, sizeof(st), "%s_stats.csv", r->csv_prefix);
		snprintf(tl, sizeof(tl), "%s_timeline.csv", r->csv_prefix);
		o[2].path = st;
		o[3].path = tl;
	}
	return sp_out_distinct(o, sizeof(o) / sizeof(o[0]));
}

int
sp_run_json_mem(const struct sp_run *r, const struct sp_report *rep,
		char **buf, size_t *len)
{
	FILE *m = open_memstream(buf, len);

	if (m == NULL)
		return -1;
	if (sp_run_json(r, rep, m, "memory", 0) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

FILE *
sp_run_summary_out(const struct sp_run *r)
{
	return sp_obs_stdout(&r->obs.o) ? stderr : sp_out_summary(r->json_path);
}

/* Close a report file; 0, or -1 after saying what failed. */
static int
sp_run_close(struct sp_run_out *o, int failed)
{
	int err;

	if (o->f == NULL)
		return 0;
	err = ferror(o->f) || failed;
	if (fclose(o->f) != 0 || err) {
		fprintf(stderr, "stampede: %s: writing %s failed\n", o->opt,
			o->path);
		err = 1;
	}
	o->f = NULL;
	return err ? -1 : 0;
}

/* Nothing to report (the run could not run): leave no empty file. */
void
sp_run_discard(struct sp_run_out *o)
{
	if (o->f == NULL)
		return;
	if (o->f == stdout)
		fflush(o->f);
	else {
		fclose(o->f);
		unlink(o->path);
	}
	o->f = NULL;
}

/* Write every report asked for; the summary is on stdout already. */
int
sp_run_reports(struct sp_run *r, const struct sp_report *rep,
	       struct sp_run_out *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int bad = 0;

	if (out[0].f != NULL || out[3].f != NULL || sp_obs_wants_report(&r->obs)) {
		/* The JSON once, in memory: the file, the HTML page and the
		 * live dashboard's last word carry the same bytes. */
		m = open_memstream(&buf, &len);
		if (m == NULL || sp_run_json(r, rep, m, "memory", 1) < 0) {
			fprintf(stderr,
				"stampede: out of memory for the report\n");
			free(buf);
			return -1;
		}
		if (out[0].f != NULL)
			bad |= sp_run_close(&out[0], fwrite(buf, 1, len,
							    out[0].f) != len);
		if (out[3].f != NULL)
			bad |= sp_run_close(
				&out[3], sp_html_write(out[3].f, buf, len) < 0);
		sp_obs_report(&r->obs, buf, len);
		free(buf);
	}
	if (out[1].f != NULL) {
		int e = sp_run_csv(r, out[1].f, out[2].f);

		bad |= sp_run_close(&out[1], e < 0);
		bad |= sp_run_close(&out[2], e < 0);
	}
	return bad ? -1 : 0;
}
