/*
 * `stampede run`: the thresholds' values from the merged counters, at the
 * end of the run and for --abort-on-fail while it runs (the expressions
 * themselves are parsed in threshold.c).
 */

#include <string.h>

#include "sp_app.h"
#include "sp_run.h"
#include "sp_threshold.h"
#include "sp_vu.h"

/* ---- thresholds ---- */

/* Requests named @name (several scenarios may use one name), merged. */
static void
sp_run_req_sum(const struct sp_run *r, const char *name, uint32_t len,
	       struct sp_vu_req_stats *sum)
{
	const struct sp_vu_req_stats *rs = r->rs_tot;

	memset(sum, 0, sizeof(*sum));
	sp_hist_init(&sum->latency);
	sp_hist_init(&sum->ttfb);
	for (uint32_t i = 0; i < r->rp.eng.nrequests; i++) {
		const char *n = r->rp.eng.requests[i].name;

		if (strlen(n) != len || strncmp(n, name, len) != 0)
			continue;
		sp_run_add_req(sum, &rs[i]);
	}
}

/*
 * The value a threshold compares (th_value.c), from the engine's counters.
 * @s holds consistent copies of the histograms it needs (the control
 * lcore's own snapshots while the run goes on); request and scenario
 * scopes read the run's totals.
 */
double
sp_run_th_value_of(const struct sp_run *r, const struct sp_threshold *t,
		   const struct sp_vu_stats *s, double elapsed_s)
{
	struct sp_vu_req_stats q;

	if (t->scope == SP_TH_REQUEST)
		sp_run_req_sum(r, t->expr + t->name_off, t->name_len, &q);
	return sp_threshold_value(t, s, &q,
				  t->scope == SP_TH_SCENARIO ?
					  &r->ss_tot[t->idx] :
					  NULL,
				  elapsed_s);
}

/* Every threshold against the final figures; returns how many failed. */
uint32_t
sp_run_th_final(struct sp_run *r, double elapsed_s)
{
	const struct sp_vu_stats *s = r->tot;
	uint32_t failed = 0;

	for (uint32_t i = 0; i < r->rp.nthresholds; i++) {
		const struct sp_threshold *t = &r->rp.thresholds[i];

		r->th_value[i] = sp_run_th_value_of(r, t, s, elapsed_s);
		r->th_ok[i] = sp_threshold_holds(t, r->th_value[i]);
		failed += !r->th_ok[i];
	}
	return failed;
}

/*
 * While the run goes on (control lcore, once a second): does a threshold
 * marked abort fail already? Global histograms are read from a snapshot;
 * per-scenario and per-request ones are read as they are, which may be a
 * record or two behind, never torn (sp_hist.h).
 */
int
sp_run_th_abort(struct sp_run *r, uint64_t el_us)
{
	int any = 0;

	for (uint32_t i = 0; i < r->rp.nthresholds; i++)
		any |= r->rp.thresholds[i].abort &&
		       el_us >= r->rp.thresholds[i].grace_us;
	if (!any)
		return 0;
	sp_run_merge(r);
	for (uint32_t i = 0; i < r->rp.nthresholds; i++) {
		const struct sp_threshold *t = &r->rp.thresholds[i];

		if (!t->abort || el_us < t->grace_us)
			continue;
		if (!sp_threshold_holds(t,
					sp_run_th_value_of(r, t, r->tot,
							(double)el_us / 1e6))) {
			r->aborted_by = t->expr;
			return 1;
		}
	}
	return 0;
}
