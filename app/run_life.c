/*
 * `stampede run`: the lifecycle in the reports. The scenario file's
 * setup:, teardown:, vu_setup: and vu_teardown: are scenarios of their own
 * kind (sp_plan.h's enum sp_scen_kind); their requests are counted apart
 * from the load's (sp_vu_life_stats), so the load's totals, timeline and
 * thresholds never include them, and they are reported here: what each
 * kind did (its runs and its requests, from the per-scenario and
 * per-request figures), and all of them together with their errors by
 * kind (the engines' life stats, added up).
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sp_app.h"
#include "sp_run.h"
#include "sp_vu.h"

static const char *const sp_run_life_names[] = {
	[SP_SCEN_SETUP] = "setup",
	[SP_SCEN_TEARDOWN] = "teardown",
	[SP_SCEN_VU_SETUP] = "vu_setup",
	[SP_SCEN_VU_TEARDOWN] = "vu_teardown",
};
#define SP_RUN_LIFE_FIRST SP_SCEN_SETUP
#define SP_RUN_LIFE_END (SP_SCEN_VU_TEARDOWN + 1)

/* What the scenarios of one lifecycle kind did, added up. */
struct sp_run_life_kind {
	int present; /* the plan has a scenario of this kind */
	uint64_t runs_started, runs_completed, runs_failed, runs_interrupted;
	struct sp_vu_req_stats req; /* its requests; latency merged */
};

void
sp_run_life_kinds(struct sp_run *r)
{
	const struct sp_plan *pl = &r->rp.eng;

	for (uint32_t s = 0; s < pl->nscenarios; s++) {
		const struct sp_scenario *sc = &pl->scenarios[s];

		if (sc->kind == SP_SCEN_LOAD)
			continue;
		for (uint32_t i = 0; i < sc->nsteps; i++)
			if (sc->steps[i].kind == SP_STEP_REQUEST &&
			    sc->steps[i].req < pl->nrequests)
				r->req_kind[sc->steps[i].req] = sc->kind;
	}
}

int
sp_run_has_life(const struct sp_plan *pl)
{
	for (uint32_t s = 0; s < pl->nscenarios; s++)
		if (pl->scenarios[s].kind != SP_SCEN_LOAD)
			return 1;
	return 0;
}

const char *
sp_run_setup_why(const struct sp_run *r)
{
	if (r->shared != NULL && r->shared->why[0] != '\0')
		return r->shared->why;
	return "no reason given";
}

/* Kind @k's figures from the merged per-scenario and per-request ones
 * (sp_run_merge). @t->req's histograms are initialised here. */
static void
sp_run_life_kind(const struct sp_run *r, uint8_t k, struct sp_run_life_kind *t)
{
	const struct sp_plan *pl = &r->rp.eng;

	memset(t, 0, offsetof(struct sp_run_life_kind, req));
	memset(&t->req, 0, offsetof(struct sp_vu_req_stats, latency));
	sp_hist_init(&t->req.latency);
	sp_hist_init(&t->req.ttfb);
	for (uint32_t s = 0; s < pl->nscenarios; s++) {
		const struct sp_vu_scen_stats *ss = &r->ss_tot[s];

		if (pl->scenarios[s].kind != k)
			continue;
		t->present = 1;
		t->runs_started += ss->started;
		t->runs_completed += ss->completed;
		t->runs_failed += ss->failed;
		t->runs_interrupted += ss->interrupted;
	}
	for (uint32_t i = 0; i < pl->nrequests; i++)
		if (r->req_kind[i] == k)
			sp_run_add_req(&t->req, &r->rs_tot[i]);
}

/* After the scenarios' table: a line per kind, the errors of them all,
 * and a failed setup's reason. */
void
sp_run_life_print(const struct sp_run *r, FILE *out)
{
	const struct sp_vu_stats *l = r->life_tot;
	struct sp_run_life_kind t;
	int any = 0;

	if (!sp_run_has_life(&r->rp.eng))
		return;
	fprintf(out, "  %-14s %6s %9s %9s %7s %7s %8s %8s %8s %8s\n",
		"lifecycle", "runs", "requests", "responses", "failed",
		"interr", "p50 ms", "p95 ms", "p99 ms", "max ms");
	for (uint8_t k = SP_RUN_LIFE_FIRST; k < SP_RUN_LIFE_END; k++) {
		const struct sp_hist *h = &t.req.latency;

		sp_run_life_kind(r, k, &t);
		if (!t.present)
			continue;
		fprintf(out,
			"    %-12s %6" PRIu64 " %9" PRIu64 " %9" PRIu64
			" %7" PRIu64 " %7" PRIu64 " %8.3f %8.3f %8.3f %8.3f\n",
			sp_run_life_names[k], t.runs_started, t.req.started,
			t.req.responses, t.req.failed, t.req.interrupted,
			(double)sp_hist_quantile(h, 0.5) / 1e3,
			(double)sp_hist_quantile(h, 0.95) / 1e3,
			(double)sp_hist_quantile(h, 0.99) / 1e3,
			(double)h->max / 1e3);
	}
	fprintf(out, "    errors      ");
	for (int k = 0; k < SP_VU_E_N; k++)
		if (l->err[k] != 0) {
			fprintf(out, " %s %" PRIu64,
				sp_vu_err_name((enum sp_vu_err)k), l->err[k]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	if (r->setup_failed)
		fprintf(out,
			"  SETUP FAILED: %s; the load did not run (exit code "
			"3)\n",
			sp_run_setup_why(r));
}

#define SP_RUN_LIFE_JSON_REQ(c) fprintf(f, ",\"" #c "\":%" PRIu64, rs[i].c);

/* One kind's object, or null when the plan has none of it. */
static void
sp_run_life_json_kind(const struct sp_run *r, uint8_t k, FILE *f)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	struct sp_run_life_kind t;
	const char *sep = "";

	sp_run_life_kind(r, k, &t);
	fprintf(f, ",\n  \"%s\":", sp_run_life_names[k]);
	if (!t.present) {
		fprintf(f, "null");
		return;
	}
	fprintf(f,
		"{\"runs\":{\"started\":%" PRIu64 ",\"completed\":%" PRIu64
		",\"failed\":%" PRIu64 ",\"interrupted\":%" PRIu64 "}",
		t.runs_started, t.runs_completed, t.runs_failed,
		t.runs_interrupted);
	fprintf(f,
		",\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"failed\":%" PRIu64 ",\"check_failed\":%" PRIu64
		",\"status_failed\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"latency_ms\":",
		t.req.started, t.req.responses, t.req.failed,
		t.req.check_failed, t.req.status_failed, t.req.interrupted);
	sp_run_lat_json(f, &t.req.latency);
	fprintf(f, ",\"by_request\":[");
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		if (r->req_kind[i] != k)
			continue;
		fprintf(f, "%s{\"name\":", sep);
		sp_json_str(f, pl->requests[i].name);
		SP_VU_REQ_COUNTERS(SP_RUN_LIFE_JSON_REQ)
		fprintf(f, ",\"latency_ms\":");
		sp_run_lat_json(f, &rs[i].latency);
		fprintf(f, ",\"ttfb_ms\":");
		sp_run_lat_json(f, &rs[i].ttfb);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "]}");
}

/* " \"lifecycle\":{...},\n" when the plan has a lifecycle. */
void
sp_run_life_json(const struct sp_run *r, FILE *f)
{
	const struct sp_vu_stats *l = r->life_tot;
	const char *sep = "";

	if (!sp_run_has_life(&r->rp.eng))
		return;
	fprintf(f, " \"lifecycle\":{\"setup_ok\":%s,\"setup_why\":",
		r->setup_failed ? "false" : "true");
	if (r->setup_failed)
		sp_json_str(f, sp_run_setup_why(r));
	else
		fprintf(f, "null");
	fprintf(f,
		",\n  \"summary\":{\"requests\":%" PRIu64
		",\"responses\":%" PRIu64 ",\"succeeded\":%" PRIu64
		",\"errors\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"codes\":{",
		l->requests, l->responses,
		l->responses - sp_vu_failed_responses(l), l->failed,
		l->interrupted);
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (l->codes[c] != 0) {
			fprintf(f, "%s\"%d\":%" PRIu64, sep, c, l->codes[c]);
			sep = ",";
		}
	fprintf(f, "},\"errors_by_kind\":{");
	for (int k = 0; k < SP_VU_E_N; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			sp_vu_err_name((enum sp_vu_err)k), l->err[k]);
	fprintf(f,
		"},\"connections\":{\"opened\":%" PRIu64
		"},\"bytes\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		"},\"latency_ms\":",
		l->connects, l->bytes_sent, l->bytes_received);
	sp_run_lat_json(f, &l->latency);
	fputc('}', f);
	for (uint8_t k = SP_RUN_LIFE_FIRST; k < SP_RUN_LIFE_END; k++)
		sp_run_life_json_kind(r, k, f);
	fprintf(f, "},\n");
}

/* PREFIX_stats.csv: a "lifecycle" row per kind (its requests) and a
 * "lifecycle_request" row per request of the lifecycle. */
void
sp_run_life_csv(const struct sp_run *r, FILE *f)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	struct sp_run_life_kind t;

	for (uint8_t k = SP_RUN_LIFE_FIRST; k < SP_RUN_LIFE_END; k++) {
		sp_run_life_kind(r, k, &t);
		if (!t.present)
			continue;
		fprintf(f,
			"lifecycle,\"%s\",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64,
			sp_run_life_names[k], t.req.started, t.req.responses,
			t.req.failed, t.req.interrupted);
		sp_run_csv_lat(f, &t.req.latency);
	}
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		if (r->req_kind[i] == SP_SCEN_LOAD)
			continue;
		fprintf(f, "lifecycle_request,");
		sp_out_csv_str(f, pl->requests[i].name);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			rs[i].started, rs[i].responses, rs[i].failed,
			rs[i].interrupted);
		sp_run_csv_lat(f, &rs[i].latency);
	}
}
