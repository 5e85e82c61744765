/*
 * Log-linear latency histogram: the cold half (init, bucket bounds, merge,
 * quantiles, interval deltas). Recording is inline in sp_hist.h.
 *
 * Nothing here allocates or keeps state outside the struct: the control
 * lcore runs these on copies of the workers' histograms.
 */
#include <math.h>
#include <string.h>

#include "sp_hist.h"

void
sp_hist_init(struct sp_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/*
 * Inverse of sp_hist_index. Bucket idx = s * 128 + m: rows 0 and 1
 * (idx < 256) are the exact range; row q >= 2 is the power of two
 * [2^(q + 6), 2^(q + 7)) with buckets of width 2^(q - 1).
 */
uint64_t
sp_hist_lowest(unsigned idx)
{
	unsigned q = idx >> SP_HIST_SUB_BITS;

	if (q <= 1)
		return idx;
	uint64_t m = (idx & ((1u << SP_HIST_SUB_BITS) - 1)) |
		     (1u << SP_HIST_SUB_BITS);
	return m << (q - 1);
}

uint64_t
sp_hist_highest(unsigned idx)
{
	unsigned q = idx >> SP_HIST_SUB_BITS;

	if (q <= 1)
		return idx;
	return sp_hist_lowest(idx) + (UINT64_C(1) << (q - 1)) - 1;
}

/* Rounded down, so the representative of an exact bucket is its value. */
static uint64_t
bucket_mid(unsigned idx)
{
	uint64_t lo = sp_hist_lowest(idx);

	return lo + (sp_hist_highest(idx) - lo) / 2;
}

void
sp_hist_snapshot(struct sp_hist *dst, const struct sp_hist *src)
{
	/* Pairs with the release store of count in sp_hist_record. */
	uint64_t n = __atomic_load_n(&src->count, __ATOMIC_ACQUIRE);

	dst->sum = sp_ctr_read(src->sum);
	dst->min = sp_ctr_read(src->min);
	dst->max = sp_ctr_read(src->max);
	dst->overflow = sp_ctr_read(src->overflow);
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		dst->b[i] = sp_ctr_read(src->b[i]);
	dst->count = n;
}

void
sp_hist_merge(struct sp_hist *dst, const struct sp_hist *src)
{
	dst->count += src->count;
	dst->sum += src->sum;
	dst->overflow += src->overflow;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t
sp_hist_quantile(const struct sp_hist *h, double q)
{
	uint64_t n = h->count;

	if (n == 0)
		return 0;
	/* !(q > 0) also sends NaN to rank 1. ceil(q * n) is exact enough:
	 * n < 2^53 for any realistic run. */
	uint64_t rank = !(q > 0) ? 1 :
			q >= 1   ? n :
				   (uint64_t)ceil(q * (double)n);

	if (rank == 1)
		return h->min;
	if (rank >= n)
		return h->max;

	uint64_t seen = 0;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = bucket_mid(i);
			if (v < h->min)
				return h->min;
			return v > h->max ? h->max : v;
		}
	}
	/* A copy taken while records were in flight can hold fewer bucket
	 * entries than @count says: the rank lies among the newest. */
	return h->max;
}

double
sp_hist_mean(const struct sp_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void
sp_hist_delta(struct sp_hist *dst, const struct sp_hist *later,
	      const struct sp_hist *earlier)
{
	/* Read everything needed from the inputs before @dst, which may be
	 * one of them, is written. */
	uint64_t lmin = later->min, lmax = later->max;
	unsigned lo = SP_HIST_BUCKETS, hi = 0;

	dst->count = later->count - earlier->count;
	dst->sum = later->sum - earlier->sum;
	dst->overflow = later->overflow - earlier->overflow;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++) {
		dst->b[i] = later->b[i] - earlier->b[i];
		if (dst->b[i]) {
			if (lo == SP_HIST_BUCKETS)
				lo = i;
			hi = i;
		}
	}
	if (lo == SP_HIST_BUCKETS) {
		dst->min = UINT64_MAX;
		dst->max = 0;
		return;
	}
	/* The bucket bounds are the best known, except that no value is below
	 * the overall min: when the interval set a new overall min, that min
	 * lies in bucket @lo and the clamp makes the result exact (max
	 * alike). */
	uint64_t bmin = sp_hist_lowest(lo), bmax = sp_hist_highest(hi);
	dst->min = bmin < lmin ? lmin : bmin;
	dst->max = bmax > lmax ? lmax : bmax;
}
