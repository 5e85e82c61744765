/*
 * `stampede merge`: the reports' histograms (sp_hist.h, in JSON as the
 * run writes them: sparse buckets) read and checked, added up, written
 * back, and every latency object's figures computed from its histogram
 * exactly as `stampede run` computes them (sp_hist_quantile, sp_hist_mean),
 * and the small helpers of the merge's JSON.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_merge.h"

double
sp_merge_round(double x, const char *fmt)
{
	char buf[64];

	if (!isfinite(x))
		return 0.0;
	snprintf(buf, sizeof(buf), fmt, x);
	return strtod(buf, NULL);
}

/* A member's path: "summary.codes", "scenarios[]" (@k NULL: an element);
 * cut short if very long (a hostile nesting), which only loses its rule. */
void
sp_merge_sub(char *sub, size_t len, const char *path, const char *k)
{
	int n = k == NULL ?
			snprintf(sub, len, "%s[]", path) :
			snprintf(sub, len, "%s%s%s", path, *path ? "." : "", k);

	if (n < 0 || (size_t)n >= len)
		sub[len - 1] = '\0';
}

int
sp_merge_oom(void)
{
	sp_merge_err("out of memory");
	return -1;
}

/* Set @o's @k to @v (taken); -1 when out of memory. */
int
sp_merge_set(json_t *o, const char *k, json_t *v)
{
	if (v == NULL || json_object_set_new(o, k, v) < 0)
		return sp_merge_oom();
	return 0;
}

/* ---- histograms ---- */

static int
sp_merge_u64(const json_t *o, const char *k, uint64_t *v)
{
	const json_t *x = json_object_get(o, k);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

int
sp_merge_hist_read(const json_t *o, struct sp_hist *h, int point,
		   const char *file, const char *where)
{
	const json_t *b = json_object_get(o, "buckets"), *e;
	uint64_t count, min, max, total = 0;
	size_t i;
	long long last = -1;

	sp_hist_init(h);
	if (!json_is_object(o) || sp_merge_u64(o, "count", &count) < 0 ||
	    sp_merge_u64(o, "min", &min) < 0 ||
	    sp_merge_u64(o, "max", &max) < 0 ||
	    (!point && (sp_merge_u64(o, "sum", &h->sum) < 0 ||
			sp_merge_u64(o, "overflow", &h->overflow) < 0)) ||
	    !json_is_array(b))
		goto bad;
	json_array_foreach(b, i, e)
	{
		const json_t *x = json_array_get(e, 0),
			     *n = json_array_get(e, 1);

		if (json_array_size(e) != 2 || !json_is_integer(x) ||
		    !json_is_integer(n) || json_integer_value(x) <= last ||
		    json_integer_value(x) >= SP_HIST_BUCKETS ||
		    json_integer_value(n) < 0 ||
		    __builtin_add_overflow(
			    total, (uint64_t)json_integer_value(n), &total) ||
		    total > INT64_MAX)
			goto bad;
		last = json_integer_value(x);
		h->b[last] = (uint64_t)json_integer_value(n);
	}
	/* A report's histogram was read after the workers stopped: its
	 * count is its buckets'. A point's is the difference of two copies
	 * taken while they ran, which may differ by a record in flight. */
	if ((!point && count != total) ||
	    (count != 0 && (min > max || max > SP_HIST_MAX_VALUE)))
		goto bad;
	h->count = count;
	if (count != 0) {
		h->min = min;
		h->max = max;
	}
	return 0;
bad:
	sp_merge_err("%s: %s.hist is not a histogram of this stampede "
		     "(count, %smin, max, buckets [[index, count], ...] "
		     "ascending)",
		     file, where, point ? "" : "sum, overflow, ");
	return -1;
}

/* @d += @s, refused if a figure would go past what JSON holds. */
int
sp_merge_hist_add(struct sp_hist *d, const struct sp_hist *s, const char *where)
{
	uint64_t x;

	if (__builtin_add_overflow(d->count, s->count, &x) || x > INT64_MAX ||
	    __builtin_add_overflow(d->sum, s->sum, &x) || x > INT64_MAX ||
	    __builtin_add_overflow(d->overflow, s->overflow, &x) ||
	    x > INT64_MAX)
		goto big;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		if (__builtin_add_overflow(d->b[i], s->b[i], &x) ||
		    x > INT64_MAX)
			goto big;
	sp_hist_merge(d, s);
	return 0;
big:
	sp_merge_err("%s: the histograms' sum is too large", where);
	return -1;
}

json_t *
sp_merge_hist_json(const struct sp_hist *h, int point)
{
	json_t *o = json_object(), *b = json_array();

	if (o == NULL || b == NULL)
		goto fail;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		if (h->b[i] != 0 &&
		    json_array_append_new(b, json_pack("[iI]", (int)i,
						       (json_int_t)h->b[i])) <
			    0)
			goto fail;
	if (json_object_set_new(o, "count",
				json_integer((json_int_t)h->count)) ||
	    (!point &&
	     json_object_set_new(o, "sum", json_integer((json_int_t)h->sum))) ||
	    json_object_set_new(o, "min",
				json_integer(h->count ? (json_int_t)h->min :
							0)) ||
	    json_object_set_new(o, "max",
				json_integer(h->count ? (json_int_t)h->max :
							0)) ||
	    (!point &&
	     json_object_set_new(o, "overflow",
				 json_integer((json_int_t)h->overflow))) ||
	    json_object_set(o, "buckets", b))
		goto fail;
	json_decref(b);
	return o;
fail:
	json_decref(b);
	json_decref(o);
	return NULL;
}

/* A latency object's figures from @h: sp_run_lat_json's, in ms. */
static int
sp_merge_lat_fill(json_t *o, const struct sp_hist *h)
{
	static const struct {
		const char *k;
		double q;
	} qs[] = { { "p50", 0.5 },
		   { "p90", 0.9 },
		   { "p95", 0.95 },
		   { "p99", 0.99 },
		   { "p999", 0.999 } };

	if (sp_merge_set(o, "min",
			 json_real(sp_merge_round(
				 h->count ? (double)h->min / 1e3 : 0.0,
				 "%.3f"))) < 0 ||
	    sp_merge_set(o, "mean",
			 json_real(sp_merge_round(sp_hist_mean(h) / 1e3,
						  "%.3f"))) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		if (sp_merge_set(
			    o, qs[i].k,
			    json_real(sp_merge_round(
				    (double)sp_hist_quantile(h, qs[i].q) / 1e3,
				    "%.3f"))) < 0)
			return -1;
	return sp_merge_set(
		o, "max",
		json_real(sp_merge_round((double)h->max / 1e3, "%.3f")));
}

int
sp_merge_recompute(json_t *o, const char *file, const char *path)
{
	char sub[512];
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(o)) {
		sp_merge_sub(sub, sizeof(sub), path, NULL);
		json_array_foreach(o, i,
				   v) if (sp_merge_recompute(v, file, sub) <
					  0) return -1;
		return 0;
	}
	if (!json_is_object(o))
		return 0;
	v = json_object_get(o, "hist");
	if (v != NULL) {
		struct sp_hist *h = malloc(sizeof(*h));
		int ret;

		if (h == NULL)
			return sp_merge_oom();
		ret = sp_merge_hist_read(v, h, 0, file, path);
		if (ret == 0)
			ret = sp_merge_lat_fill(o, h);
		free(h);
		return ret;
	}
	if (json_object_get(o, "p50") != NULL &&
	    json_object_get(o, "p999") != NULL) {
		sp_merge_err("%s: %s has no histogram (\"hist\"): written by "
			     "an older stampede?",
			     file, path);
		return -1;
	}
	json_object_foreach(o, k, v)
	{
		if (*path == '\0' && strcmp(k, "timeline") == 0)
			continue;
		sp_merge_sub(sub, sizeof(sub), path, k);
		if (sp_merge_recompute(v, file, sub) < 0)
			return -1;
	}
	return 0;
}
