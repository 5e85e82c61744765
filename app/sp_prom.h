/*
 * Prometheus's text exposition format (0.0.4), the pieces the run's
 * endpoint (obs_prom.c) is written with; no DPDK, so that a unit test
 * builds them alone.
 *
 * Histograms: sp_hist's log-linear buckets are far finer (3968 of them)
 * than a Prometheus histogram should be (every `le` is a series of its
 * own), so a series has SP_PROM_EDGES buckets, four to each power of
 * two from 16 us to 2^27 us (134 s), then +Inf. Each edge is an edge of
 * sp_hist's buckets too (a multiple of their width), so every cumulative
 * count is exact, not interpolated. Latencies are whole microseconds:
 * the bucket below edge E holds the values <= E - 1 us, and its `le` says
 * so ("0.000319" for E = 320 us). A bucket is at most a quarter of its
 * lower edge wide, which bounds what histogram_quantile can be off by.
 */
#ifndef SP_PROM_H
#define SP_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_hist.h"

#define SP_PROM_EDGES 93

/* Edge @k (< SP_PROM_EDGES) in microseconds: 16, 20, 24, 28, 32, 40, ...
 * 2^27; strictly increasing. */
uint64_t sp_prom_edge(unsigned k);
/* @s as a label value (backslash, double quote and newline escaped) into
 * @out. 0, or -1 if it does not fit. */
int sp_prom_escape(char *out, size_t len, const char *s);
/* Labels (escaped) every sample written afterwards carries before its
 * own: a shard's `shard="I"`; NULL or "": none. */
void sp_prom_set_base_labels(const char *labels);
/* "# HELP" and "# TYPE" of a metric. */
void sp_prom_head(FILE *f, const char *name, const char *type,
		  const char *help);
/* One sample: NAME{LABELS} V (no braces for empty @labels, already
 * escaped: `a="x",b="y"`). */
void sp_prom_u64(FILE *f, const char *name, const char *labels, uint64_t v);
/* A metric of one unlabelled series: its HELP, TYPE and value. */
void sp_prom_scalar(FILE *f, const char *name, const char *type,
		    const char *help, uint64_t v);
void sp_prom_f64(FILE *f, const char *name, const char *labels, double v);
/* NAME_bucket{LABELS,le=...} for every edge and +Inf, NAME_sum (seconds)
 * and NAME_count, of @h (microseconds). The count is the buckets' total,
 * as +Inf's: a histogram read while its worker records may have a
 * @count a record or two off its buckets. */
void sp_prom_hist(FILE *f, const char *name, const char *labels,
		  const struct sp_hist *h);

#endif /* SP_PROM_H */
