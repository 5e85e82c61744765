/*
 * A threshold's value from a run's figures: the one definition both
 * `stampede run` (run_threshold.c, from its engines' sums) and `stampede
 * merge` (merge_th.c, from the shards' reports added up) judge by. No
 * DPDK, no struct sp_run: the figures come in as the engine's stats
 * structs.
 */

#include "sp_threshold.h"
#include "sp_vu.h"

static double
sp_th_rate(double x, double s)
{
	return s > 0.0 ? x / s : 0.0;
}

static double
sp_th_ratio(uint64_t a, uint64_t b, double none)
{
	return b ? (double)a / (double)b : none;
}

static double
sp_th_hist_stat(const struct sp_threshold *t, const struct sp_hist *h)
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
sp_th_request(const struct sp_threshold *t, const struct sp_vu_req_stats *q,
	      double elapsed_s)
{
	switch (t->stat) {
	case SP_TH_ERRORS:
		return sp_th_ratio(q->failed, q->started, 0.0);
	case SP_TH_RPS:
		return sp_th_rate((double)q->responses, elapsed_s);
	case SP_TH_CHECKS:
		/* An unexpected status ran no check. */
		return sp_th_ratio(q->responses - q->status_failed -
					   q->check_failed,
				   q->responses - q->status_failed, 1.0);
	default:
		return sp_th_hist_stat(t, t->phase == SP_TH_TTFB ? &q->ttfb :
								   &q->latency);
	}
}

static double
sp_th_scenario(const struct sp_threshold *t, const struct sp_vu_scen_stats *ss,
	       double elapsed_s)
{
	switch (t->stat) {
	case SP_TH_ERRORS:
		return sp_th_ratio(ss->failed, ss->started, 0.0);
	case SP_TH_RPS:
	case SP_TH_ITER_RATE:
		return sp_th_rate((double)ss->completed, elapsed_s);
	case SP_TH_DROPPED:
		return (double)ss->dropped;
	case SP_TH_DROPPED_SHARE:
		return sp_th_ratio(ss->dropped, ss->started + ss->dropped, 0.0);
	case SP_TH_ITERATIONS:
		return (double)ss->completed;
	default:
		return sp_th_hist_stat(t, &ss->iteration);
	}
}

/*
 * Rates with nothing to count are the harmless value: no error, every
 * check held.
 */
double
sp_threshold_value(const struct sp_threshold *t, const struct sp_vu_stats *s,
		   const struct sp_vu_req_stats *req,
		   const struct sp_vu_scen_stats *scen, double elapsed_s)
{
	const struct sp_hist *h = &s->latency;

	if (t->scope == SP_TH_REQUEST)
		return sp_th_request(t, req, elapsed_s);
	if (t->scope == SP_TH_SCENARIO)
		return sp_th_scenario(t, scen, elapsed_s);
	switch (t->stat) {
	case SP_TH_ERRORS:
		return sp_th_ratio(s->failed, s->requests, 0.0);
	case SP_TH_RPS:
		return sp_th_rate((double)s->responses, elapsed_s);
	case SP_TH_CHECKS:
		return sp_th_ratio(s->checks_passed,
				   s->checks_passed + s->err[SP_VU_E_CHECK],
				   1.0);
	case SP_TH_DROPPED:
		return (double)s->it_dropped;
	case SP_TH_DROPPED_SHARE:
		return sp_th_ratio(s->it_dropped, s->arrivals, 0.0);
	case SP_TH_ITERATIONS:
		return (double)s->it_completed;
	case SP_TH_ITER_RATE:
		return sp_th_rate((double)s->it_completed, elapsed_s);
	case SP_TH_WS_ERRORS:
		return sp_th_ratio(s->ws_failed, s->ws_started, 0.0);
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
		return sp_th_rate((double)s->ws_msgs_sent, elapsed_s);
	case SP_TH_WS_RECV_RATE:
		return sp_th_rate((double)s->ws_msgs_received, elapsed_s);
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
	return sp_th_hist_stat(t, h);
}
