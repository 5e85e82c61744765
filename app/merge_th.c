/*
 * `stampede merge`: what is made of the sums, and the thresholds.
 *
 * The span of the merged load runs from the earliest shard's start to the
 * latest shard's end; rates are over it, as a run's are over its own.
 * Thresholds are judged by sp_threshold_value (th_value.c), the function
 * `stampede run` judges by, on the engine's stats structs rebuilt from the
 * merged report: one definition of every threshold's value.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_merge.h"
#include "sp_threshold.h"
#include "sp_vu.h"

#define SP_MERGE_PARTIAL_S 0.9
#define SP_MERGE_LAG_SHARE 0.10

static int
sp_th_set(json_t *o, const char *k, json_t *v)
{
	if (v == NULL || json_object_set_new(o, k, v) < 0) {
		sp_merge_err("out of memory");
		return -1;
	}
	return 0;
}

/* A count of the merged report (@o's @k, 0 when absent): -1 after saying
 * it is not one. */
static int
sp_th_count(const json_t *o, const char *where, const char *k, uint64_t *v)
{
	const json_t *x = json_object_get(o, k);

	*v = 0;
	if (x == NULL)
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < 0) {
		sp_merge_err("the reports' %s.%s is not a count", where, k);
		return -1;
	}
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int
sp_th_hist(const json_t *o, const char *k, struct sp_hist *h)
{
	const json_t *lat = json_object_get(o, k);

	sp_hist_init(h);
	if (lat == NULL)
		return 0;
	return sp_merge_hist_read(json_object_get(lat, "hist"), h, 0,
				  "the merge", k);
}

/* ---- what is made of the sums ---- */

/* CPU per handshake and the like: each report's average, weighted by its
 * count. */
static int
sp_merge_weighted(struct sp_merge *m, json_t *tls, const char *k,
		  const char *count_obj, const char *count)
{
	double num = 0, den = 0;

	for (int i = 0; i < m->n; i++) {
		const json_t *t = json_object_get(m->in[i].j, "tls");
		const json_t *c = json_object_get(t, count_obj);
		const json_t *w = json_object_get(c != NULL ? c : t, count);
		const json_t *v = json_object_get(t, k);

		if (json_is_integer(w) && json_is_number(v)) {
			num += json_number_value(v) *
			       (double)json_integer_value(w);
			den += (double)json_integer_value(w);
		}
	}
	return sp_th_set(
		tls, k,
		json_real(sp_merge_round(den > 0 ? num / den : 0.0, "%.1f")));
}

/* "shards": how many, which were merged, which are missing, and how far
 * apart their starts were. */
static int
sp_merge_shards(struct sp_merge *m, int64_t spread)
{
	int64_t count = m->shard_count ? m->shard_count : m->n;
	json_t *o = json_object(), *merged = json_array(),
	       *missing = json_array();
	int ret = -1;

	if (o == NULL || merged == NULL || missing == NULL)
		goto out;
	for (int64_t s = 0; s < count; s++) {
		int have = m->shard_count == 0;

		for (int i = 0; !have && i < m->n; i++)
			have = m->in[i].shard == s;
		if (json_array_append_new(have ? merged : missing,
					  json_integer(s)) < 0)
			goto out;
	}
	if (json_object_set_new(o, "count", json_integer(count)) < 0 ||
	    json_object_set(o, "merged", merged) < 0 ||
	    json_object_set(o, "missing", missing) < 0 ||
	    json_object_set_new(o, "start_spread_ms", json_integer(spread)) < 0)
		goto out;
	ret = sp_th_set(m->out, "shards", json_incref(o));
out:
	if (ret < 0 && o == NULL)
		sp_merge_err("out of memory");
	json_decref(o);
	json_decref(merged);
	json_decref(missing);
	return ret;
}

static const char *
sp_merge_stopped_by(const struct sp_merge *m)
{
	for (int i = 0; i < m->n; i++) {
		const char *s = json_string_value(
			json_object_get(m->in[i].j, "stopped_by"));

		if (s != NULL && strcmp(s, "duration") != 0)
			return s;
	}
	return "duration";
}

static double
sp_merge_rate(double x, double s)
{
	return s > 0.0 ? x / s : 0.0;
}

int
sp_merge_derive(struct sp_merge *m)
{
	json_t *o = m->out, *sum = json_object_get(o, "summary");
	json_t *bits = json_object_get(sum, "bits_per_s");
	json_t *ws = json_object_get(o, "ws"), *tls = json_object_get(o, "tls");
	struct sp_hist *h = malloc(2 * sizeof(*h));
	uint64_t resp, succ, sent, recv, q_lag, q_lat;
	double el = 0, du = 0, peak = 0, share = 0;
	int64_t spread = 0;
	const json_t *p;
	size_t k;
	int ret = -1;

	if (h == NULL) {
		sp_merge_err("out of memory");
		return -1;
	}
	for (int i = 0; i < m->n; i++) {
		int64_t d = m->in[i].start_ms - m->start_ms;
		double off = (double)d / 1000.0;

		el = fmax(el, off + m->in[i].elapsed_s);
		du = fmax(du, off + m->in[i].duration_s);
		spread = d > spread ? d : spread;
	}
	if (!json_is_object(sum) || !json_is_object(bits) ||
	    sp_th_count(sum, "summary", "responses", &resp) < 0 ||
	    sp_th_count(sum, "summary", "succeeded", &succ) < 0 ||
	    sp_th_count(json_object_get(sum, "bytes"), "summary.bytes", "sent",
			&sent) < 0 ||
	    sp_th_count(json_object_get(sum, "bytes"), "summary.bytes",
			"received", &recv) < 0 ||
	    sp_th_hist(sum, "lag_ms", &h[0]) < 0 ||
	    sp_th_hist(sum, "latency_ms", &h[1]) < 0)
		goto out;
	json_array_foreach(json_object_get(o, "timeline"), k, p)
	{
		const json_t *r = json_object_get(p, "responses");

		if (!json_is_true(json_object_get(p, "partial")) &&
		    json_is_integer(r) && (double)json_integer_value(r) > peak)
			peak = (double)json_integer_value(r);
	}
	peak = fmax(peak, sp_merge_rate((double)resp, du));
	q_lag = sp_hist_quantile(&h[0], 0.99);
	q_lat = sp_hist_quantile(&h[1], 0.99);
	if (h[0].count != 0 && h[1].count != 0 && q_lat != 0)
		share = (double)q_lag / (double)q_lat;
	if (sp_th_set(o, "start_ms", json_integer(m->start_ms)) < 0 ||
	    sp_th_set(o, "elapsed_s", json_real(sp_merge_round(el, "%.6f"))) <
		    0 ||
	    sp_th_set(o, "stopped_by", json_string(sp_merge_stopped_by(m))) <
		    0 ||
	    sp_th_set(sum, "nothing_succeeded", json_boolean(succ == 0)) < 0 ||
	    sp_th_set(sum, "rps",
		      json_real(sp_merge_round(sp_merge_rate((double)resp, du),
					       "%.3f"))) < 0 ||
	    sp_th_set(sum, "peak_rps",
		      json_real(sp_merge_round(peak, "%.3f"))) < 0 ||
	    sp_th_set(sum, "duration_s",
		      json_real(sp_merge_round(du, "%.6f"))) < 0 ||
	    sp_th_set(sum, "lag_share_p99",
		      json_real(sp_merge_round(share, "%.4f"))) < 0 ||
	    sp_th_set(sum, "lag_warning",
		      json_boolean(share > SP_MERGE_LAG_SHARE)) < 0 ||
	    sp_th_set(bits, "sent",
		      json_real(sp_merge_round(
			      sp_merge_rate((double)sent * 8, el), "%.1f"))) <
		    0 ||
	    sp_th_set(bits, "received",
		      json_real(sp_merge_round(
			      sp_merge_rate((double)recv * 8, el), "%.1f"))) <
		    0)
		goto out;
	if (json_is_object(ws)) {
		json_t *msg = json_object_get(ws, "messages");

		if (!json_is_object(msg) ||
		    sp_th_count(msg, "ws.messages", "sent", &sent) < 0 ||
		    sp_th_count(msg, "ws.messages", "received", &recv) < 0 ||
		    sp_th_set(msg, "sent_per_s",
			      json_real(sp_merge_round(
				      sp_merge_rate((double)sent, du),
				      "%.3f"))) < 0 ||
		    sp_th_set(msg, "received_per_s",
			      json_real(sp_merge_round(
				      sp_merge_rate((double)recv, du),
				      "%.3f"))) < 0)
			goto out;
	}
	if (json_is_object(tls) &&
	    (sp_merge_weighted(m, tls, "cpu_us_per_full", "handshakes",
			       "full") < 0 ||
	     sp_merge_weighted(m, tls, "cpu_us_per_resumed", "handshakes",
			       "resumed") < 0 ||
	     sp_merge_weighted(m, tls, "deferred_wait_us", "",
			       "handshake_inputs_deferred") < 0))
		goto out;
	ret = sp_merge_shards(m, spread);
out:
	free(h);
	return ret;
}

/* ---- thresholds ---- */

/* The run's figures the thresholds read, from the merged report. */
static int
sp_th_stats(const json_t *o, struct sp_vu_stats *s)
{
	const json_t *sum = json_object_get(o, "summary");
	const json_t *ek = json_object_get(sum, "errors_by_kind");
	const json_t *it = json_object_get(sum, "iterations");
	const json_t *ws = json_object_get(o, "ws");
	const json_t *wss = json_object_get(ws, "sessions");
	const json_t *wsm = json_object_get(ws, "messages");
	int bad = 0;

	memset(s, 0, offsetof(struct sp_vu_stats, latency));
	bad |= sp_th_count(sum, "summary", "requests", &s->requests);
	bad |= sp_th_count(sum, "summary", "responses", &s->responses);
	bad |= sp_th_count(sum, "summary", "errors", &s->failed);
	bad |= sp_th_count(sum, "summary", "interrupted", &s->interrupted);
	bad |= sp_th_count(json_object_get(sum, "checks"), "summary.checks",
			   "passed", &s->checks_passed);
	for (int k = 0; k < SP_VU_E_N; k++)
		bad |= sp_th_count(ek, "summary.errors_by_kind",
				   sp_vu_err_name((enum sp_vu_err)k),
				   &s->err[k]);
	bad |= sp_th_count(it, "iterations", "started", &s->it_started);
	bad |= sp_th_count(it, "iterations", "completed", &s->it_completed);
	bad |= sp_th_count(it, "iterations", "failed", &s->it_failed);
	bad |= sp_th_count(it, "iterations", "dropped", &s->it_dropped);
	bad |= sp_th_count(it, "iterations", "arrivals", &s->arrivals);
	bad |= sp_th_count(wss, "ws.sessions", "started", &s->ws_started);
	bad |= sp_th_count(wss, "ws.sessions", "completed", &s->ws_completed);
	bad |= sp_th_count(wss, "ws.sessions", "failed", &s->ws_failed);
	bad |= sp_th_count(wsm, "ws.messages", "sent", &s->ws_msgs_sent);
	bad |= sp_th_count(wsm, "ws.messages", "received",
			   &s->ws_msgs_received);
	bad |= sp_th_count(wsm, "ws.messages", "unmatched", &s->ws_unmatched);
	bad |= sp_th_hist(sum, "latency_ms", &s->latency);
	bad |= sp_th_hist(sum, "connect_ms", &s->connect);
	bad |= sp_th_hist(sum, "tls_ms", &s->tls);
	bad |= sp_th_hist(sum, "ttfb_ms", &s->ttfb);
	bad |= sp_th_hist(sum, "iteration_ms", &s->iteration);
	bad |= sp_th_hist(sum, "lag_ms", &s->lag);
	bad |= sp_th_hist(ws, "connect_ms", &s->ws_connect);
	bad |= sp_th_hist(ws, "rtt_ms", &s->ws_rtt);
	bad |= sp_th_hist(ws, "session_ms", &s->ws_session);
	return bad ? -1 : 0;
}

/* The requests named @name of @arr added into @q; how many. */
static int
sp_th_req_add(const json_t *arr, const char *name, size_t len,
	      struct sp_vu_req_stats *q, int *n)
{
	struct sp_vu_req_stats *e = malloc(sizeof(*e));
	const json_t *r;
	size_t i;
	int bad = 0;

	if (e == NULL) {
		sp_merge_err("out of memory");
		return -1;
	}
	json_array_foreach(arr, i, r)
	{
		const char *rn = json_string_value(json_object_get(r, "name"));

		if (rn == NULL || strlen(rn) != len || strncmp(rn, name, len))
			continue;
		memset(e, 0, offsetof(struct sp_vu_req_stats, latency));
#define SP_TH_REQ(c) bad |= sp_th_count(r, "requests[]", #c, &e->c);
		SP_VU_REQ_COUNTERS(SP_TH_REQ)
#undef SP_TH_REQ
		bad |= sp_th_hist(r, "latency_ms", &e->latency);
		bad |= sp_th_hist(r, "ttfb_ms", &e->ttfb);
		if (bad)
			break;
#define SP_TH_ADD(c) q->c += e->c;
		SP_VU_REQ_COUNTERS(SP_TH_ADD)
#undef SP_TH_ADD
		sp_hist_merge(&q->latency, &e->latency);
		sp_hist_merge(&q->ttfb, &e->ttfb);
		(*n)++;
	}
	free(e);
	return bad ? -1 : 0;
}

/* @t's scope: its requests added up (the lifecycle's of that name too,
 * as a run's scope takes every request of its plan) or its scenario;
 * how many matched. */
static int
sp_th_scope(const json_t *o, const struct sp_threshold *t,
	    struct sp_vu_req_stats *q, struct sp_vu_scen_stats *sc)
{
	const char *name = t->expr + t->name_off;
	const json_t *e;
	size_t i;
	int n = 0, bad = 0;

	memset(q, 0, offsetof(struct sp_vu_req_stats, latency));
	sp_hist_init(&q->latency);
	sp_hist_init(&q->ttfb);
	memset(sc, 0, offsetof(struct sp_vu_scen_stats, iteration));
	sp_hist_init(&sc->iteration);
	if (t->scope == SP_TH_REQUEST) {
		if (sp_th_req_add(json_object_get(o, "requests"), name,
				  t->name_len, q, &n) < 0)
			return -1;
		json_array_foreach(
			json_object_get(o, "lifecycle"), i,
			e) if (sp_th_req_add(json_object_get(e, "requests"),
					     name, t->name_len, q,
					     &n) < 0) return -1;
		return n;
	}
	if (t->scope != SP_TH_SCENARIO)
		return 1;
	json_array_foreach(json_object_get(o, "scenarios"), i, e)
	{
		const char *sn = json_string_value(json_object_get(e, "name"));

		if (sn == NULL || strlen(sn) != t->name_len ||
		    strncmp(sn, name, t->name_len) != 0)
			continue;
#define SP_TH_SCEN(c) bad |= sp_th_count(e, "scenarios[]", #c, &sc->c);
		SP_VU_SCEN_COUNTERS(SP_TH_SCEN)
#undef SP_TH_SCEN
		bad |= sp_th_hist(e, "iteration_ms", &sc->iteration);
		return bad ? -1 : 1;
	}
	return 0;
}

struct sp_th_expr {
	const char *expr, *from; /* from: the file, or NULL for --threshold */
	int abort;
};

/* The expressions: each report's, then the command line's, each once. */
static struct sp_th_expr *
sp_th_collect(struct sp_merge *m, char **extra, int nextra, uint32_t *n)
{
	size_t cap = (size_t)nextra;
	struct sp_th_expr *x;

	for (int i = 0; i < m->n; i++)
		cap += json_array_size(
			json_object_get(m->in[i].j, "thresholds"));
	x = calloc(cap + 1, sizeof(*x));
	if (x == NULL) {
		sp_merge_err("out of memory");
		return NULL;
	}
	*n = 0;
	for (int i = 0; i <= m->n; i++) {
		const json_t *ths = i < m->n ? json_object_get(m->in[i].j,
							       "thresholds") :
					       NULL;
		size_t cnt = i < m->n ? json_array_size(ths) : (size_t)nextra;

		for (size_t k = 0; k < cnt; k++) {
			const json_t *e = json_array_get(ths, k);
			const char *s =
				i < m->n ? json_string_value(
						   json_object_get(e, "expr")) :
					   extra[k];
			uint32_t j;

			if (s == NULL) {
				sp_merge_err("%s: thresholds[%zu] has no expr",
					     m->in[i].path, k);
				free(x);
				return NULL;
			}
			for (j = 0; j < *n && strcmp(x[j].expr, s) != 0; j++)
				;
			if (j == *n) {
				x[j].expr = s;
				x[j].from = i < m->n ? m->in[i].path : NULL;
				(*n)++;
			}
			x[j].abort |= json_is_true(json_object_get(e, "abort"));
		}
	}
	return x;
}

int
sp_merge_thresholds(struct sp_merge *m, char **extra, int nextra)
{
	struct sp_vu_stats *s = malloc(sizeof(*s));
	struct sp_vu_req_stats *q = malloc(sizeof(*q));
	struct sp_vu_scen_stats *sc = malloc(sizeof(*sc));
	json_t *arr = json_array();
	struct sp_th_expr *x = NULL;
	double du = json_number_value(json_object_get(
		json_object_get(m->out, "summary"), "duration_s"));
	int ret = -1;

	if (s == NULL || q == NULL || sc == NULL || arr == NULL) {
		sp_merge_err("out of memory");
		goto out;
	}
	x = sp_th_collect(m, extra, nextra, &m->nth);
	if (x == NULL || sp_th_stats(m->out, s) < 0)
		goto out;
	m->th_failed = 0;
	for (uint32_t i = 0; i < m->nth; i++) {
		struct sp_threshold t;
		char why[256];
		double v;
		int found, ok;

		if (sp_threshold_parse(x[i].expr, &t, why, sizeof(why)) < 0) {
			sp_merge_err("%s%sthreshold '%s': %s",
				     x[i].from ? x[i].from : "--threshold",
				     x[i].from ? ": " : ": ", x[i].expr, why);
			goto out;
		}
		found = sp_th_scope(m->out, &t, q, sc);
		if (found < 0)
			goto out;
		/* A scope that names nothing: an error on the command line,
		 * as in a run; a report's own names a disabled scenario. */
		if (found == 0 && x[i].from == NULL) {
			sp_merge_err("--threshold '%s': no %s is named '%.*s' "
				     "in the reports",
				     x[i].expr,
				     t.scope == SP_TH_REQUEST ? "request" :
								"scenario",
				     (int)t.name_len, t.expr + t.name_off);
			goto out;
		}
		v = sp_threshold_value(&t, s, q, sc, du);
		ok = sp_threshold_holds(&t, v);
		m->th_failed += !ok;
		if (json_array_append_new(
			    arr,
			    json_pack("{s:s, s:b, s:f, s:b}", "expr", x[i].expr,
				      "ok", ok, "value",
				      sp_merge_round(sp_threshold_shown(&t, v),
						     "%.9g"),
				      "abort", x[i].abort)) < 0) {
			sp_merge_err("out of memory");
			goto out;
		}
	}
	ret = sp_th_set(m->out, "thresholds", json_incref(arr));
out:
	json_decref(arr);
	free(x);
	free(s);
	free(q);
	free(sc);
	return ret;
}
