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

static double
sp_run_hist_stat(const struct sp_threshold *t, const struct sp_hist *h)
{
	switch (t->stat) {
	case SP_TH_QUANTILE:
		return (double)sp_hist_quantile(h, t->q) / 1e3;
	case SP_TH_MEAN:
		return sp_hist_mean(h) / 1e3;
	case SP_TH_MIN:
		return h->count ? (double)h->min / 1e3 : 0.0;
	default:
		return (double)h->max / 1e3;
	}
}

static double
sp_ratio(uint64_t a, uint64_t b, double none)
{
	return b ? (double)a / (double)b : none;
}

/*
 * The value a threshold compares, from the engine's counters. @s holds
 * consistent copies of the histograms it needs (the control lcore's own
 * snapshots while the run goes on). Rates with nothing to count are the
 * harmless value: no error, every check held.
 */
double
sp_run_th_value_of(const struct sp_run *r, const struct sp_threshold *t,
		   const struct sp_vu_stats *s, double elapsed_s)
{
	const struct sp_hist *h = &s->latency;

	if (t->scope == SP_TH_REQUEST) {
		struct sp_vu_req_stats q;

		sp_run_req_sum(r, t->expr + t->name_off, t->name_len, &q);
		switch (t->stat) {
		case SP_TH_ERRORS:
			return sp_ratio(q.failed, q.started, 0.0);
		case SP_TH_RPS:
			return sp_rate((double)q.responses, elapsed_s);
		case SP_TH_CHECKS:
			/* An unexpected status ran no check. */
			return sp_ratio(q.responses - q.status_failed -
						q.check_failed,
					q.responses - q.status_failed, 1.0);
		default:
			return sp_run_hist_stat(t, t->phase == SP_TH_TTFB ?
							   &q.ttfb :
							   &q.latency);
		}
	}
	if (t->scope == SP_TH_SCENARIO) {
		const struct sp_vu_scen_stats *ss = &r->ss_tot[t->idx];

		switch (t->stat) {
		case SP_TH_ERRORS:
			return sp_ratio(ss->failed, ss->started, 0.0);
		case SP_TH_RPS:
		case SP_TH_ITER_RATE:
			return sp_rate((double)ss->completed, elapsed_s);
		case SP_TH_DROPPED:
			return (double)ss->dropped;
		case SP_TH_DROPPED_SHARE:
			return sp_ratio(ss->dropped, ss->started + ss->dropped,
					0.0);
		case SP_TH_ITERATIONS:
			return (double)ss->completed;
		default:
			return sp_run_hist_stat(t, &ss->iteration);
		}
	}
	switch (t->stat) {
	case SP_TH_ERRORS:
		return sp_ratio(s->failed, s->requests, 0.0);
	case SP_TH_RPS:
		return sp_rate((double)s->responses, elapsed_s);
	case SP_TH_CHECKS:
		return sp_ratio(s->checks_passed,
				s->checks_passed + s->err[SP_VU_E_CHECK], 1.0);
	case SP_TH_DROPPED:
		return (double)s->it_dropped;
	case SP_TH_DROPPED_SHARE:
		return sp_ratio(s->it_dropped, s->arrivals, 0.0);
	case SP_TH_ITERATIONS:
		return (double)s->it_completed;
	case SP_TH_ITER_RATE:
		return sp_rate((double)s->it_completed, elapsed_s);
	case SP_TH_WS_ERRORS:
		return sp_ratio(s->ws_failed, s->ws_started, 0.0);
	case SP_TH_WS_FAILED:
		return (double)s->ws_failed;
	case SP_TH_WS_SESSIONS:
		return (double)s->ws_completed;
	case SP_TH_WS_SENT:
		return (double)s->ws_msgs_sent;
	case SP_TH_WS_RECEIVED:
		return (double)s->ws_msgs_received;
	case SP_TH_WS_UNMATCHED:
		return (double)s->ws_unmatched;
	case SP_TH_WS_SENT_RATE:
		return sp_rate((double)s->ws_msgs_sent, elapsed_s);
	case SP_TH_WS_RECV_RATE:
		return sp_rate((double)s->ws_msgs_received, elapsed_s);
	default:
		break;
	}
	if (t->phase == SP_TH_CONNECT)
		h = &s->connect;
	else if (t->phase == SP_TH_TLS)
		h = &s->tls;
	else if (t->phase == SP_TH_TTFB)
		h = &s->ttfb;
	else if (t->phase == SP_TH_ITERATION)
		h = &s->iteration;
	else if (t->phase == SP_TH_WS_CONNECT)
		h = &s->ws_connect;
	else if (t->phase == SP_TH_WS_RTT)
		h = &s->ws_rtt;
	else if (t->phase == SP_TH_WS_SESSION)
		h = &s->ws_session;
	return sp_run_hist_stat(t, h);
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
