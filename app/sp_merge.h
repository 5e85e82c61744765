/*
 * Internal to `stampede merge` (docs/report-schema.md, "Merged reports"):
 * the JSON reports of a plan's shards added up into one report of the
 * same schema. merge_in.c reads the reports and refuses what cannot be
 * added up; merge_hist.c reads, adds and writes histograms;
 * merge_fold.c adds them (counters summed, histograms merged by
 * their buckets, every figure made of them computed again, timelines
 * aligned on the wall clock); merge_th.c judges the thresholds on the
 * sum; merge.c is the command (options, the files, the summary).
 *
 * Everything but merge.c is free of DPDK: a fuzz target links it alone.
 */
#ifndef SP_MERGE_H
#define SP_MERGE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_hist.h"

/* One report read. */
struct sp_merge_in {
	const char *path;
	json_t *j;
	int64_t start_ms; /* the load's start, wall clock */
	int64_t shard;    /* shard.index, or -1 (not a shard) */
	double elapsed_s, duration_s;
};

struct sp_merge {
	struct sp_merge_in *in;
	int n;
	json_t *out;         /* the merged report */
	int64_t start_ms;    /* the earliest shard's start */
	int64_t shard_count; /* shard.count, 0 for unsharded reports */
	/* The thresholds judged (merge_th.c): how many, and how many
	 * failed. */
	uint32_t nth, th_failed;
};

/* One line on stderr: "stampede merge: ..." (printf format). */
void sp_merge_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* merge_in.c: read @n reports into @m (m->in, m->n) and refuse what
 * cannot be merged (different plans, layouts, versions, a capacity hunt,
 * a shard twice, a report without histograms). 0, or -1 after saying
 * why (exit 2). Missing shards are a warning. */
int sp_merge_load(struct sp_merge *m, int n, char **paths);
void sp_merge_free(struct sp_merge *m);

/* merge_fold.c: the merged report into m->out. 0, or -1 after saying
 * why (two reports disagree where they must agree, a figure too large). */
int sp_merge_fold(struct sp_merge *m);

/*
 * A report's histogram ("hist" of a latency object, or of a timeline
 * point when @point) into @h, checked: -1 after saying what is wrong
 * (@file, @where). Counts are uint64 in the struct, int64 in JSON.
 */
int sp_merge_hist_read(const json_t *o, struct sp_hist *h, int point,
		       const char *file, const char *where);
/* The figures of every latency object under @o (any depth, the timeline
 * apart) computed again from its "hist", as `stampede run` computes them.
 * 0, or -1 after saying which histogram is broken. */
int sp_merge_recompute(json_t *o, const char *file, const char *path);
/* @x as printf's @fmt would show it, read back: a merged figure is the
 * number a run would have written. */
double sp_merge_round(double x, const char *fmt);
/* merge_hist.c too: @d += @s, refused (-1, said) past what JSON holds. */
int sp_merge_hist_add(struct sp_hist *d, const struct sp_hist *s,
		      const char *where);
/* @h as the report writes it (@point: a timeline point's, without sum
 * and overflow); NULL when out of memory. */
json_t *sp_merge_hist_json(const struct sp_hist *h, int point);
/* @sub = @path + "." + @k ("[]" for an element when @k is NULL), cut
 * short if very long. */
void sp_merge_sub(char *sub, size_t len, const char *path, const char *k);
/* Set @o's @k to @v (taken); -1 after saying so when out of memory. */
int sp_merge_set(json_t *o, const char *k, json_t *v);
int sp_merge_oom(void);

/* merge_th.c: what is made of the sums (the span, rates, shares, the
 * stop, TLS's CPU per handshake, "shards"), as a run makes it. 0, or -1
 * after saying why. */
int sp_merge_derive(struct sp_merge *m);

/* merge_th.c: the thresholds (the reports' expressions, then @extra's,
 * each once) judged on m->out, written into its "thresholds". 0, or -1
 * after saying why (an expression that does not parse, a scope that
 * names nothing). */
int sp_merge_thresholds(struct sp_merge *m, char **extra, int nextra);

#endif /* SP_MERGE_H */
