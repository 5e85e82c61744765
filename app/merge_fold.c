/*
 * `stampede merge`: the reports added up into one of the same schema.
 *
 * The first report is the frame; each other one is folded into it, member
 * by member: counters add up (checked for overflow), a latency object's
 * histogram merges by its buckets (sp_hist_merge, exact) and its figures
 * are computed again from the sum, arrays of named things (scenarios,
 * requests, lifecycle) are matched by name, and every value that is not a
 * sum follows a rule of the table below, written down in
 * docs/report-schema.md. Timelines are aligned on the wall clock. What is
 * derived from sums (rates, shares, the span) is computed last, as `stampede
 * run` computes it.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_merge.h"

/* A merged timeline longer than this (11.5 days of seconds) is refused:
 * a report saying so is broken or hostile. */
#define SP_MERGE_MAX_POINTS 1000000
/* sp_run_partial's bound: a point shorter than this is a partial second. */
#define SP_MERGE_PARTIAL_S 0.9

enum sp_mrule {
	SP_MR_DEFAULT = 0, /* by type: integers add up, fractions the
			    * largest, strings equal, booleans any */
	SP_MR_SUM,
	SP_MR_MAX,
	SP_MR_EQUAL,  /* the plan's own: equal, or the merge is refused */
	SP_MR_FIRST,  /* the first report's */
	SP_MR_SKIP,   /* checked before, or computed after the sum */
	SP_MR_AND,    /* true only if true in every report */
	SP_MR_MIXED,  /* equal, else "mixed" */
	SP_MR_NEGSUM, /* a sum, but -1 (not counted) if any is negative */
};

// clang-format off
static const struct {
	const char *path;
	enum sp_mrule rule;
} sp_merge_rules[] = {
	{ "version", SP_MR_EQUAL }, { "mode", SP_MR_EQUAL },
	{ "stampede_version", SP_MR_EQUAL }, { "plan_id", SP_MR_EQUAL },
	{ "hist_layout", SP_MR_SKIP }, { "start_ms", SP_MR_SKIP },
	{ "elapsed_s", SP_MR_SKIP }, { "stopped_by", SP_MR_SKIP },
	{ "shard", SP_MR_SKIP }, { "start_at", SP_MR_SKIP },
	{ "outputs", SP_MR_SKIP }, { "request_log", SP_MR_SKIP },
	{ "cores", SP_MR_SKIP }, { "thresholds", SP_MR_SKIP },
	{ "timeline", SP_MR_SKIP }, { "shards", SP_MR_SKIP },
	{ "summary.nothing_succeeded", SP_MR_SKIP },
	{ "summary.rps", SP_MR_SKIP }, { "summary.peak_rps", SP_MR_SKIP },
	{ "summary.duration_s", SP_MR_SKIP },
	{ "summary.lag_share_p99", SP_MR_SKIP },
	{ "summary.lag_warning", SP_MR_SKIP },
	{ "summary.bits_per_s", SP_MR_SKIP },
	{ "ws.messages.sent_per_s", SP_MR_SKIP },
	{ "ws.messages.received_per_s", SP_MR_SKIP },
	{ "tls.cpu_us_per_full", SP_MR_SKIP },
	{ "tls.cpu_us_per_resumed", SP_MR_SKIP },
	{ "tls.deferred_wait_us", SP_MR_SKIP },
	{ "target", SP_MR_EQUAL }, { "model", SP_MR_EQUAL },
	{ "ws.max_message", SP_MR_EQUAL }, { "ws.ping_every_s", SP_MR_EQUAL },
	{ "scenarios[].weight", SP_MR_EQUAL },
	{ "scenarios[].load.stages", SP_MR_EQUAL },
	{ "scenarios[].load.start_s", SP_MR_EQUAL },
	{ "scenarios[].load.duration_s", SP_MR_EQUAL },
	/* A shard's report shows the plan's whole load (its share is its
	 * lanes'): the same in every shard. */
	{ "scenarios[].load.model", SP_MR_EQUAL },
	{ "scenarios[].load.vus", SP_MR_EQUAL },
	{ "scenarios[].load.rate", SP_MR_EQUAL },
	{ "scenarios[].load.max_vus", SP_MR_EQUAL },
	{ "tls.verify", SP_MR_EQUAL }, { "tls.ca", SP_MR_EQUAL },
	{ "tls.server_name", SP_MR_EQUAL },
	{ "source", SP_MR_FIRST }, { "target_addr", SP_MR_FIRST },
	{ "summary.rx_lag_ms", SP_MR_FIRST },
	{ "summary.rx_lag_note", SP_MR_FIRST },
	{ "lifecycle_summary.setup_why", SP_MR_FIRST },
	{ "lifecycle_summary.setup_ok", SP_MR_AND },
	{ "ws.bytes_per_connection", SP_MR_MAX },
	{ "ws.memory.vu_state_bytes", SP_MR_MAX },
	{ "ws.memory.frame_context_bytes", SP_MR_MAX },
	{ "ws.memory.regex_window_bytes", SP_MR_MAX },
	{ "tls.bytes_per_connection", SP_MR_MAX },
	{ "tls.bytes_per_idle_connection", SP_MR_MAX },
	{ "pools.bytes_per_conn", SP_MR_MAX },
	{ "generator.busy_pct", SP_MR_MAX },
	{ "generator.placement", SP_MR_MIXED },
	{ "allocs_after_start", SP_MR_NEGSUM },
};
// clang-format on

/* The two reports being folded, for messages. */
struct sp_fold {
	const char *a, *b;
};

static enum sp_mrule
sp_merge_rule(const char *path)
{
	for (size_t i = 0;
	     i < sizeof(sp_merge_rules) / sizeof(sp_merge_rules[0]); i++)
		if (strcmp(sp_merge_rules[i].path, path) == 0)
			return sp_merge_rules[i].rule;
	return SP_MR_DEFAULT;
}

/* ---- the fold ---- */

static int
sp_fold_differ(const struct sp_fold *c, const char *path, const json_t *a,
	       const json_t *b)
{
	char *x = json_dumps(a, JSON_ENCODE_ANY),
	     *y = json_dumps(b, JSON_ENCODE_ANY);

	sp_merge_err("%s and %s differ on %s (%.60s and %.60s): they are not "
		     "shards of one plan",
		     c->a, c->b, path, x ? x : "?", y ? y : "?");
	free(x);
	free(y);
	return -1;
}

static int sp_fold_obj(const struct sp_fold *c, json_t *d, json_t *s,
		       const char *path);

static int
sp_fold_num(const struct sp_fold *c, json_t *d, const char *k, json_t *dv,
	    json_t *sv, const char *path, enum sp_mrule rule)
{
	double a = json_number_value(dv), b = json_number_value(sv);
	int ints = json_is_integer(dv) && json_is_integer(sv);
	json_int_t x;

	if (rule == SP_MR_DEFAULT)
		rule = ints ? SP_MR_SUM : SP_MR_MAX;
	switch (rule) {
	case SP_MR_EQUAL:
	case SP_MR_MIXED:
		return a == b ? 0 : sp_fold_differ(c, path, dv, sv);
	case SP_MR_MAX:
		return b > a ? sp_merge_set(d, k, json_deep_copy(sv)) : 0;
	case SP_MR_NEGSUM:
		if (a < 0 || b < 0)
			return sp_merge_set(d, k, json_integer(-1));
		__attribute__((fallthrough));
	case SP_MR_SUM:
		if (!ints)
			return sp_merge_set(d, k, json_real(a + b));
		if (__builtin_add_overflow(json_integer_value(dv),
					   json_integer_value(sv), &x)) {
			sp_merge_err("%s: the sum is too large", path);
			return -1;
		}
		return sp_merge_set(d, k, json_integer(x));
	default:
		return 0;
	}
}

/* A member that is not an object nor an array. */
static int
sp_fold_scalar(const struct sp_fold *c, json_t *d, const char *k, json_t *dv,
	       json_t *sv, const char *path, enum sp_mrule rule)
{
	if (json_is_number(dv) && json_is_number(sv))
		return sp_fold_num(c, d, k, dv, sv, path, rule);
	if (json_is_null(dv) || json_is_null(sv)) {
		if (rule == SP_MR_EQUAL && !json_equal(dv, sv))
			return sp_fold_differ(c, path, dv, sv);
		if (json_is_null(dv) && !json_is_null(sv) &&
		    rule != SP_MR_FIRST)
			return sp_merge_set(d, k, json_deep_copy(sv));
		return 0;
	}
	if (json_is_string(dv) && json_is_string(sv)) {
		if (json_equal(dv, sv) || rule == SP_MR_FIRST)
			return 0;
		if (rule == SP_MR_MIXED)
			return sp_merge_set(d, k, json_string("mixed"));
		return sp_fold_differ(c, path, dv, sv);
	}
	if (json_is_boolean(dv) && json_is_boolean(sv)) {
		if (json_equal(dv, sv) || rule == SP_MR_FIRST)
			return 0;
		if (rule == SP_MR_EQUAL)
			return sp_fold_differ(c, path, dv, sv);
		return sp_merge_set(d, k, json_boolean(rule != SP_MR_AND));
	}
	return sp_fold_differ(c, path, dv, sv);
}

/* Named things (scenarios, requests, lifecycle): the k-th of a name in
 * @s folds into the k-th of that name in @d (one name may be several
 * requests), or is added. */
static int
sp_fold_named(const struct sp_fold *c, json_t *d, json_t *s, const char *path)
{
	char sub[512];
	size_t i, j;
	json_t *e, *f;

	sp_merge_sub(sub, sizeof(sub), path, NULL);
	json_array_foreach(s, i, e)
	{
		const char *name = json_string_value(
			json_object_get(e, "name"));
		size_t nth = 0, seen = 0;
		json_t *match = NULL;

		if (!json_is_object(e) || name == NULL) {
			sp_merge_err("%s: %s[%zu] has no name", c->b, path, i);
			return -1;
		}
		for (j = 0; j < i; j++) {
			const char *n = json_string_value(
				json_object_get(json_array_get(s, j), "name"));
			nth += n != NULL && strcmp(n, name) == 0;
		}
		json_array_foreach(d, j, f)
		{
			const char *n = json_string_value(
				json_object_get(f, "name"));

			if (n != NULL && strcmp(n, name) == 0 &&
			    seen++ == nth) {
				match = f;
				break;
			}
		}
		if (match == NULL) {
			if (json_array_append_new(d, json_deep_copy(e)) < 0)
				return sp_merge_oom();
		} else if (!json_is_object(match)) {
			return sp_fold_differ(c, sub, match, e);
		} else if (sp_fold_obj(c, match, e, sub) < 0) {
			return -1;
		}
	}
	return 0;
}

static int
sp_fold_lat(const struct sp_fold *c, json_t *d, json_t *s, const char *path)
{
	struct sp_hist *h = malloc(2 * sizeof(*h));
	int ret = -1;

	if (h == NULL)
		return sp_merge_oom();
	if (sp_merge_hist_read(json_object_get(d, "hist"), &h[0], 0, c->a,
			       path) == 0 &&
	    sp_merge_hist_read(json_object_get(s, "hist"), &h[1], 0, c->b,
			       path) == 0 &&
	    sp_merge_hist_add(&h[0], &h[1], path) == 0)
		ret = sp_merge_set(d, "hist", sp_merge_hist_json(&h[0], 0));
	free(h);
	return ret;
}

static int
sp_fold_obj(const struct sp_fold *c, json_t *d, json_t *s, const char *path)
{
	char sub[512];
	const char *k;
	json_t *sv;

	/* A latency object: its figures are made again from the sum. */
	if (json_object_get(d, "hist") != NULL)
		return sp_fold_lat(c, d, s, path);
	json_object_foreach(s, k, sv)
	{
		json_t *dv = json_object_get(d, k);
		enum sp_mrule rule;

		sp_merge_sub(sub, sizeof(sub), path, k);
		rule = sp_merge_rule(sub);
		if (rule == SP_MR_SKIP)
			continue;
		if (dv == NULL) {
			/* Only the non-zero ones are written (codes, close
			 * codes, alerts): one report's alone is the sum. */
			if (sp_merge_set(d, k, json_deep_copy(sv)) < 0)
				return -1;
		} else if (json_is_object(dv) && json_is_object(sv)) {
			if (sp_fold_obj(c, dv, sv, sub) < 0)
				return -1;
		} else if (json_is_array(dv) && json_is_array(sv)) {
			if ((strcmp(sub, "scenarios") == 0 ||
			     strcmp(sub, "requests") == 0 ||
			     strcmp(sub, "lifecycle") == 0 ||
			     strcmp(sub, "lifecycle[].requests") == 0) &&
			    sp_fold_named(c, dv, sv, sub) < 0)
				return -1;
			/* Any other array: the first report's. */
		} else if (json_is_object(dv) || json_is_object(sv) ||
			   json_is_array(dv) || json_is_array(sv)) {
			return sp_fold_differ(c, sub, dv, sv);
		} else if (sp_fold_scalar(c, d, k, dv, sv, sub, rule) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- the timeline ---- */

/* How long a point was: a partial one says so, a whole one is a second. */
static double
sp_tl_len(const json_t *p)
{
	const json_t *l = json_object_get(p, "length_s");

	if (json_is_true(json_object_get(p, "partial")) && json_is_number(l) &&
	    json_number_value(l) >= 0 && json_number_value(l) < 1)
		return json_number_value(l);
	return 1.0;
}

/* The counts of @s added to @d's (a point of another shard in the same
 * second), and its histogram. */
static int
sp_tl_fold(const struct sp_fold *c, json_t *d, json_t *s, const char *where)
{
	struct sp_hist *h;
	const char *k;
	json_t *sv;
	int ret = -1;

	json_object_foreach(s, k, sv)
	{
		json_t *dv = json_object_get(d, k);
		json_int_t x;

		if (!json_is_integer(sv) || strcmp(k, "t") == 0)
			continue;
		if (dv == NULL)
			x = json_integer_value(sv);
		else if (!json_is_integer(dv) ||
			 __builtin_add_overflow(json_integer_value(dv),
						json_integer_value(sv), &x))
			return sp_fold_differ(c, where, dv, sv);
		if (sp_merge_set(d, k, json_integer(x)) < 0)
			return -1;
	}
	h = malloc(2 * sizeof(*h));
	if (h == NULL)
		return sp_merge_oom();
	if (sp_merge_hist_read(json_object_get(d, "hist"), &h[0], 1, c->a,
			       where) == 0 &&
	    sp_merge_hist_read(json_object_get(s, "hist"), &h[1], 1, c->b,
			       where) == 0 &&
	    sp_merge_hist_add(&h[0], &h[1], where) == 0)
		ret = sp_merge_set(d, "hist", sp_merge_hist_json(&h[0], 1));
	free(h);
	return ret;
}

/* A point's percentiles from its histogram, and whether it is partial. */
static int
sp_tl_finish(json_t *p, double len, const char *file, const char *where)
{
	struct sp_hist *h = malloc(sizeof(*h));
	int ret = -1;

	if (h == NULL)
		return sp_merge_oom();
	if (sp_merge_hist_read(json_object_get(p, "hist"), h, 1, file, where) <
	    0)
		goto out;
	if (sp_merge_set(p, "p50_ms",
			 json_real(sp_merge_round(
				 (double)sp_hist_quantile(h, 0.5) / 1e3,
				 "%.3f"))) < 0 ||
	    sp_merge_set(p, "p95_ms",
			 json_real(sp_merge_round(
				 (double)sp_hist_quantile(h, 0.95) / 1e3,
				 "%.3f"))) < 0 ||
	    sp_merge_set(p, "p99_ms",
			 json_real(sp_merge_round(
				 (double)sp_hist_quantile(h, 0.99) / 1e3,
				 "%.3f"))) < 0)
		goto out;
	json_object_del(p, "partial");
	json_object_del(p, "length_s");
	if (len < SP_MERGE_PARTIAL_S &&
	    (sp_merge_set(p, "partial", json_true()) < 0 ||
	     sp_merge_set(p, "length_s",
			  json_real(sp_merge_round(len, "%.6f"))) < 0))
		goto out;
	/* The histogram last, as a run writes it. */
	json_object_del(p, "hist");
	ret = sp_merge_set(p, "hist", sp_merge_hist_json(h, 1));
out:
	free(h);
	return ret;
}

/* A second no shard has a point for (one started later than another
 * ended): zeros, shaped as @model. */
static json_t *
sp_tl_zero(const json_t *model, int64_t t)
{
	json_t *p = json_deep_copy(model), *v;
	struct sp_hist *h = malloc(sizeof(*h));
	const char *k;

	if (p == NULL || h == NULL)
		goto fail;
	sp_hist_init(h);
	json_object_foreach(p, k, v)
	{
		if (json_is_integer(v))
			json_integer_set(v, 0);
	}
	if (json_object_set_new(p, "t", json_integer(t)) < 0 ||
	    json_object_set_new(p, "hist", sp_merge_hist_json(h, 1)) < 0)
		goto fail;
	free(h);
	return p;
fail:
	free(h);
	json_decref(p);
	return NULL;
}

/*
 * Shard i's point t covers [start_i + (t - 1) s, start_i + t s); in the
 * merged timeline it is t + round((start_i - start) / 1000), start the
 * earliest shard's. Points of one second add up.
 */
static int
sp_tl_merge(struct sp_merge *m)
{
	json_t **slot = NULL, *model = NULL, *out = NULL;
	double *len = NULL;
	int64_t n = 0;
	int ret = -1;

	for (int i = 0; i < m->n; i++) {
		const json_t *tl = json_object_get(m->in[i].j, "timeline"), *p;
		int64_t off = llround(
				(double)(m->in[i].start_ms - m->start_ms) /
				1000.0),
			last = 0;
		size_t k;

		json_array_foreach(tl, k, p)
		{
			const json_t *t = json_object_get(p, "t");

			if (!json_is_integer(t) ||
			    json_integer_value(t) <= last ||
			    json_integer_value(t) + off > SP_MERGE_MAX_POINTS) {
				sp_merge_err("%s: timeline[%zu]: t is not a "
					     "second after the previous "
					     "point's (at most %d)",
					     m->in[i].path, k,
					     SP_MERGE_MAX_POINTS);
				return -1;
			}
			last = json_integer_value(t);
			if (last + off > n)
				n = last + off;
			if (model == NULL)
				model = (json_t *)p;
		}
	}
	slot = calloc((size_t)n + 1, sizeof(*slot));
	len = calloc((size_t)n + 1, sizeof(*len));
	out = json_array();
	if (slot == NULL || len == NULL || out == NULL) {
		sp_merge_oom();
		goto out;
	}
	for (int i = 0; i < m->n; i++) {
		const json_t *tl = json_object_get(m->in[i].j, "timeline");
		int64_t off = llround(
			(double)(m->in[i].start_ms - m->start_ms) / 1000.0);
		struct sp_fold c = { m->in[0].path, m->in[i].path };
		json_t *p;
		size_t k;

		json_array_foreach(tl, k, p)
		{
			int64_t t = json_integer_value(
					    json_object_get(p, "t")) +
				    off;
			char where[64];

			snprintf(where, sizeof(where), "timeline[%zu]", k);
			if (!json_is_object(p))
				continue;
			if (sp_tl_len(p) > len[t])
				len[t] = sp_tl_len(p);
			if (slot[t] == NULL) {
				slot[t] = json_deep_copy(p);
				if (slot[t] == NULL ||
				    sp_merge_set(slot[t], "t",
						 json_integer(t)) < 0)
					goto out;
				if (json_object_get(p, "hist") == NULL) {
					sp_merge_err("%s: %s has no histogram",
						     m->in[i].path, where);
					goto out;
				}
			} else if (sp_tl_fold(&c, slot[t], p, where) < 0) {
				goto out;
			}
		}
	}
	for (int64_t t = 1; t <= n; t++) {
		char where[64];

		snprintf(where, sizeof(where),
			 "the merged timeline's t=%" PRId64, t);
		if (slot[t] == NULL) {
			slot[t] = sp_tl_zero(model, t);
			len[t] = 1.0;
			if (slot[t] == NULL) {
				sp_merge_oom();
				goto out;
			}
		}
		if (sp_tl_finish(slot[t], len[t], "the merge", where) < 0 ||
		    json_array_append(out, slot[t]) < 0)
			goto out;
	}
	ret = sp_merge_set(m->out, "timeline", json_incref(out));
out:
	for (int64_t t = 0; slot != NULL && t <= n; t++)
		json_decref(slot[t]);
	free(slot);
	free(len);
	json_decref(out);
	return ret;
}

/* ---- the whole ---- */

/* Each report's cores, one after the other, each with its shard. */
static int
sp_merge_cores(struct sp_merge *m)
{
	json_t *all = json_array();

	if (all == NULL || sp_merge_set(m->out, "cores", all) < 0)
		return -1;
	for (int i = 0; i < m->n; i++) {
		const json_t *cs = json_object_get(m->in[i].j, "cores"), *e;
		size_t k;

		if (!json_is_array(cs)) {
			sp_merge_err("%s: cores is not an array",
				     m->in[i].path);
			return -1;
		}
		json_array_foreach(cs, k, e)
		{
			json_t *c = json_deep_copy(e);

			if (!json_is_object(e)) {
				json_decref(c);
				sp_merge_err("%s: cores[%zu] is not an object",
					     m->in[i].path, k);
				return -1;
			}
			if (c == NULL ||
			    sp_merge_set(c, "shard",
					 json_integer(m->in[i].shard >= 0 ?
							      m->in[i].shard :
							      i)) < 0 ||
			    json_array_append_new(all, c) < 0)
				return sp_merge_oom();
		}
	}
	return 0;
}

int
sp_merge_fold(struct sp_merge *m)
{
	static const char *const drop[] = { "shard", "start_at", "outputs",
					    "request_log" };

	m->out = json_deep_copy(m->in[0].j);
	if (m->out == NULL)
		return sp_merge_oom();
	for (int i = 1; i < m->n; i++) {
		struct sp_fold c = { m->in[0].path, m->in[i].path };

		if (sp_fold_obj(&c, m->out, m->in[i].j, "") < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		json_object_del(m->out, drop[i]);
	if (sp_merge_cores(m) < 0 || sp_tl_merge(m) < 0 ||
	    sp_merge_recompute(m->out, "the merge", "") < 0)
		return -1;
	return sp_merge_derive(m);
}
