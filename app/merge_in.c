/*
 * `stampede merge`: reading the reports, and refusing, before anything is
 * written, what cannot be added up exactly: a file that is not JSON, a
 * report of another kind or version, one without histograms (an older
 * stampede), histograms of another layout, reports of different plans, a
 * capacity hunt, a shard given twice or shards of different counts.
 * Every input is hostile until checked: a member of the wrong type is a
 * refusal that names it, never a crash.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sp_merge.h"

/* More shards than this is no plan: a report saying so is refused. */
#define SP_MERGE_MAX_SHARDS 100000

void
sp_merge_err(const char *fmt, ...)
{
	va_list ap;

	fputs("stampede merge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const json_t *
sp_merge_get(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

/* A number member >= 0 of @o: 0, or -1 after saying what is wrong. */
static int
sp_merge_num(const struct sp_merge_in *in, const json_t *o, const char *where,
	     const char *k, double *v)
{
	const json_t *x = sp_merge_get(o, k);

	if (!json_is_number(x) || json_number_value(x) < 0) {
		sp_merge_err("%s: %s%s%s is %s", in->path, where,
			     *where ? "." : "", k,
			     x == NULL ? "missing" : "not a number >= 0");
		return -1;
	}
	*v = json_number_value(x);
	return 0;
}

static int
sp_merge_layout(const struct sp_merge_in *in)
{
	const json_t *l = sp_merge_get(in->j, "hist_layout");
	const char *unit = json_string_value(sp_merge_get(l, "unit"));
	const json_t *sub = sp_merge_get(l, "sub_bucket_bits");
	const json_t *range = sp_merge_get(l, "range_bits");
	const json_t *nb = sp_merge_get(l, "buckets");

	if (unit != NULL && strcmp(unit, "us") == 0 && json_is_integer(sub) &&
	    json_integer_value(sub) == SP_HIST_SUB_BITS &&
	    json_is_integer(range) &&
	    json_integer_value(range) == SP_HIST_RANGE_BITS &&
	    json_is_integer(nb) && json_integer_value(nb) == SP_HIST_BUCKETS)
		return 0;
	sp_merge_err("%s: its histograms' layout (hist_layout) is not this "
		     "stampede's (unit us, sub_bucket_bits %d, range_bits %d, "
		     "buckets %d): they cannot be added up",
		     in->path, SP_HIST_SUB_BITS, SP_HIST_RANGE_BITS,
		     SP_HIST_BUCKETS);
	return -1;
}

static int
sp_merge_shard_of(struct sp_merge_in *in, int64_t *count)
{
	const json_t *s = sp_merge_get(in->j, "shard");
	const json_t *i = sp_merge_get(s, "index"),
		     *c = sp_merge_get(s, "count");

	in->shard = -1;
	*count = 0;
	if (s == NULL)
		return 0;
	if (!json_is_integer(i) || !json_is_integer(c) ||
	    json_integer_value(c) < 1 ||
	    json_integer_value(c) > SP_MERGE_MAX_SHARDS ||
	    json_integer_value(i) < 0 ||
	    json_integer_value(i) >= json_integer_value(c)) {
		sp_merge_err("%s: \"shard\" is not {\"index\": I, \"count\": "
			     "N} with 0 <= I < N",
			     in->path);
		return -1;
	}
	in->shard = json_integer_value(i);
	*count = json_integer_value(c);
	return 0;
}

/* Read one report and check it alone. */
static int
sp_merge_load_one(struct sp_merge_in *in, int64_t *count)
{
	const json_t *mode, *ver, *sum, *start;
	json_error_t e;

	in->j = json_load_file(in->path, JSON_REJECT_DUPLICATES, &e);
	if (in->j == NULL) {
		if (e.line < 1)
			sp_merge_err("%s: cannot read it: %s", in->path,
				     e.text);
		else
			sp_merge_err("%s: not JSON (line %d, column %d: %s)",
				     in->path, e.line, e.column, e.text);
		return -1;
	}
	mode = sp_merge_get(in->j, "mode");
	ver = sp_merge_get(in->j, "version");
	if (!json_is_string(mode) || strcmp(json_string_value(mode), "http") ||
	    !json_is_integer(ver)) {
		sp_merge_err("%s: not the JSON report of `stampede run` (mode "
			     "\"http\"): only those merge",
			     in->path);
		return -1;
	}
	if (json_integer_value(ver) != 1) {
		sp_merge_err("%s: report version %" PRId64 "; this stampede "
			     "merges version 1",
			     in->path, (int64_t)json_integer_value(ver));
		return -1;
	}
	if (sp_merge_get(in->j, "breakpoint") != NULL) {
		sp_merge_err("%s: a capacity hunt (breakpoint): its steps do "
			     "not add up across shards, it cannot be merged",
			     in->path);
		return -1;
	}
	sum = sp_merge_get(in->j, "summary");
	if (sp_merge_get(in->j, "hist_layout") == NULL ||
	    sp_merge_get(sp_merge_get(sum, "latency_ms"), "hist") == NULL ||
	    !json_is_string(sp_merge_get(in->j, "stampede_version"))) {
		sp_merge_err("%s: has no histograms: written by an older "
			     "stampede, its figures cannot be merged exactly "
			     "(run it again with this one)",
			     in->path);
		return -1;
	}
	if (sp_merge_layout(in) < 0)
		return -1;
	start = sp_merge_get(in->j, "start_ms");
	if (!json_is_integer(start) || json_integer_value(start) < 0) {
		sp_merge_err("%s: start_ms is %s", in->path,
			     start == NULL ? "missing" : "not an integer >= 0");
		return -1;
	}
	in->start_ms = json_integer_value(start);
	if (sp_merge_num(in, in->j, "", "elapsed_s", &in->elapsed_s) < 0 ||
	    sp_merge_num(in, sum, "summary", "duration_s", &in->duration_s) <
		    0 ||
	    sp_merge_shard_of(in, count) < 0)
		return -1;
	if (!json_is_array(sp_merge_get(in->j, "timeline"))) {
		sp_merge_err("%s: timeline is not an array", in->path);
		return -1;
	}
	/* Every latency object's figures from its histogram: a broken one
	 * is refused here, and one input merges into itself. */
	return sp_merge_recompute(in->j, in->path, "");
}

/* The same plan (plan_id), the same stampede and, for shards, the same
 * count and no index twice. */
static int
sp_merge_agree(struct sp_merge *m, int64_t *counts)
{
	const struct sp_merge_in *a = &m->in[0];
	const char *va = json_string_value(
		sp_merge_get(a->j, "stampede_version"));
	const json_t *pa = sp_merge_get(a->j, "plan_id");

	if (pa != NULL && !json_is_string(pa)) {
		sp_merge_err("%s: plan_id is not a string", a->path);
		return -1;
	}
	for (int i = 1; i < m->n; i++) {
		const struct sp_merge_in *b = &m->in[i];
		const char *vb = json_string_value(
			sp_merge_get(b->j, "stampede_version"));
		const json_t *pb = sp_merge_get(b->j, "plan_id");

		if (strcmp(va, vb) != 0) {
			sp_merge_err("%s and %s were written by different "
				     "stampede versions (%s and %s)",
				     a->path, b->path, va, vb);
			return -1;
		}
		if ((pa == NULL) != (pb == NULL) ||
		    (pb != NULL && !json_equal(pa, pb))) {
			sp_merge_err("%s and %s ran different scenarios "
				     "(plan_id %.16s%s and %.16s%s)",
				     a->path, b->path,
				     pa ? json_string_value(pa) : "none",
				     pa ? "..." : "",
				     json_is_string(pb) ?
					     json_string_value(pb) :
					     "none",
				     json_is_string(pb) ? "..." : "");
			return -1;
		}
		if ((a->shard < 0) != (b->shard < 0)) {
			sp_merge_err("%s is %s shard and %s %s: merge the "
				     "shards of one sharded run",
				     a->path, a->shard < 0 ? "not a" : "a",
				     b->path, b->shard < 0 ? "is not" : "is");
			return -1;
		}
		if (counts[i] != counts[0]) {
			sp_merge_err("%s and %s are shards of different counts "
				     "(%" PRId64 " and %" PRId64 ")",
				     a->path, b->path, counts[0], counts[i]);
			return -1;
		}
		for (int k = 0; b->shard >= 0 && k < i; k++)
			if (m->in[k].shard == b->shard) {
				sp_merge_err("%s and %s are the same shard "
					     "(index %" PRId64 ")",
					     m->in[k].path, b->path, b->shard);
				return -1;
			}
	}
	return 0;
}

int
sp_merge_load(struct sp_merge *m, int n, char **paths)
{
	int64_t *counts;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (n < 1) {
		sp_merge_err("no report to merge (stampede merge A.json "
			     "B.json ...)");
		return -1;
	}
	m->in = calloc((size_t)n, sizeof(*m->in));
	counts = calloc((size_t)n, sizeof(*counts));
	if (m->in == NULL || counts == NULL) {
		sp_merge_err("out of memory");
		goto out;
	}
	m->n = n;
	for (int i = 0; i < n; i++) {
		m->in[i].path = paths[i];
		if (sp_merge_load_one(&m->in[i], &counts[i]) < 0)
			goto out;
	}
	if (sp_merge_agree(m, counts) < 0)
		goto out;
	m->shard_count = counts[0];
	m->start_ms = m->in[0].start_ms;
	for (int i = 1; i < n; i++)
		if (m->in[i].start_ms < m->start_ms)
			m->start_ms = m->in[i].start_ms;
	if (m->shard_count > n) {
		fprintf(stderr,
			"stampede merge: warning: %d of %" PRId64
			" shards given: the merged report is of those only "
			"(shards.missing lists the others)\n",
			n, m->shard_count);
	}
	ret = 0;
out:
	free(counts);
	return ret;
}

void
sp_merge_free(struct sp_merge *m)
{
	for (int i = 0; i < m->n; i++)
		json_decref(m->in[i].j);
	free(m->in);
	json_decref(m->out);
	memset(m, 0, sizeof(*m));
}
