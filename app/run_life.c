/*
 * `stampede run`: the lifecycle's totals in the reports. The scenario
 * file's setup:, teardown:, vu_setup: and vu_teardown: are scenarios of
 * their own kind (sp_plan.h's enum sp_scen_kind); their requests are
 * counted apart from the load's (sp_vu_life_stats), so the load's totals,
 * timeline and thresholds never include them. Each of those scenarios
 * has its own entry beside the load's (run_report.c); here are all their
 * requests together, with their errors by kind, and whether setup passed.
 */

#include <inttypes.h>
#include <stdio.h>

#include "sp_app.h"
#include "sp_run.h"
#include "sp_vu.h"

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

/* Two lines (the lifecycle's requests and their errors), and a failed
 * setup's reason. */
void
sp_run_life_print(const struct sp_run *r, FILE *out)
{
	const struct sp_vu_stats *l = r->life_tot;
	int any = 0;

	if (!sp_run_has_life(&r->rp.eng))
		return;
	fprintf(out,
		"  lifecycle reqs  started %" PRIu64 "  responses %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64
		"  p50 %.3f  p99 %.3f  max %.3f ms  (not in the load's "
		"figures)\n",
		l->requests, l->responses, l->failed, l->interrupted,
		(double)sp_hist_quantile(&l->latency, 0.5) / 1e3,
		(double)sp_hist_quantile(&l->latency, 0.99) / 1e3,
		(double)l->latency.max / 1e3);
	fprintf(out, "  lifecycle errs ");
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

/* " \"lifecycle_summary\":{...},\n" when the plan has a lifecycle. */
void
sp_run_life_json(const struct sp_run *r, FILE *f, int hist)
{
	const struct sp_vu_stats *l = r->life_tot;
	const char *sep = "";

	if (!sp_run_has_life(&r->rp.eng))
		return;
	fprintf(f, " \"lifecycle_summary\":{\"setup_ok\":%s,\"setup_why\":",
		r->setup_failed ? "false" : "true");
	if (r->setup_failed)
		sp_json_str(f, sp_run_setup_why(r));
	else
		fprintf(f, "null");
	fprintf(f,
		",\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"succeeded\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"interrupted\":%" PRIu64 ",\"codes\":{",
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
	sp_run_lat_json(f, &l->latency, hist);
	fprintf(f, "},\n");
}
