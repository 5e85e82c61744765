/*
 * sp_hist: log-linear latency histogram, in microseconds.
 *
 * Layout: HdrHistogram's at 2 significant digits (256 sub-buckets, so
 * bucket bounds can be exported in its terms): values 0..255 each have
 * their own bucket, so they are exact. Above, every power-of-two range
 * [2^e, 2^(e+1)) is split into 128 equal buckets of width 2^(e-7): a bucket
 * spans at most 1/128 (0.78 %) of its lowest value, and its midpoint, the
 * representative value reported, is within 1/256 (0.39 %) of any value the
 * bucket holds: inside the 1 % target with room to spare, at 31 KiB. Three
 * digits (HdrHistogram's 2048 sub-buckets, 0.05 %) would take 7x the
 * memory per histogram and per merge.
 *
 * Range: 0 to 2^37 - 1 us (38 hours; the target was 10 minutes and at least
 * 2^36 us). A larger value is recorded as 2^37 - 1, everywhere (bucket, sum,
 * min, max), and counted in @overflow, so a report can say ">= 38 h"
 * instead of a wrong figure, and @sum cannot wrap before 2^27 records at
 * the ceiling.
 *
 * Size: 31 * 128 = 3968 buckets, 31784 bytes in all, no pointers and no
 * padding: a histogram lives in a plain array (per worker core and per
 * named request), is copied with memcpy, compared with memcmp, and merged
 * exactly by adding buckets.
 *
 * Concurrency: one writer, the worker core that owns the histogram. A reader
 * on another core may copy it while it is being written; every field is an
 * aligned 64-bit word stored whole (x86-64), so the copy sees each field
 * either old or new, never torn. The copy may be off by the records in
 * flight, and @count may disagree with the bucket total by those records;
 * sp_hist_quantile tolerates that. sp_hist_record stores @count last, with
 * release order: a reader that loads @count with acquire before the other
 * fields sees at least that many records in them (sp_hist_snapshot does
 * that). On x86-64 release and relaxed stores are plain moves: there is no
 * fence on the hot path.
 */
#ifndef SP_HIST_H
#define SP_HIST_H

#include <stdint.h>

#include "sp_counter.h"

/* Sub-bucket resolution: 2^SP_HIST_SUB_BITS buckets per power of two above
 * the exact range, which is [0, 2^(SP_HIST_SUB_BITS + 1)). */
#define SP_HIST_SUB_BITS 7
/* Recorded values are below 2^SP_HIST_RANGE_BITS. */
#define SP_HIST_RANGE_BITS 37
#define SP_HIST_MAX_VALUE ((UINT64_C(1) << SP_HIST_RANGE_BITS) - 1)
#define SP_HIST_BUCKETS                                                        \
	((SP_HIST_RANGE_BITS - SP_HIST_SUB_BITS + 1) << SP_HIST_SUB_BITS)

struct sp_hist {
	uint64_t count;    /* records, overflowed ones included */
	uint64_t sum;      /* of the recorded (clamped) values: exact mean */
	uint64_t min;      /* UINT64_MAX while empty */
	uint64_t max;      /* 0 while empty */
	uint64_t overflow; /* records above SP_HIST_MAX_VALUE */
	uint64_t b[SP_HIST_BUCKETS];
};

/* Empty the histogram. */
void sp_hist_init(struct sp_hist *h);

/*
 * Bucket of @us; values above SP_HIST_MAX_VALUE map to the top bucket.
 * Branch-free: with s = max(0, msb(us) - 7), the bucket is s * 128 + (us >> s).
 * OR-ing 255 into @us makes msb at least 7, which gives s = 0 (the exact
 * range, bucket = us) for every us < 256 and leaves larger values unchanged.
 */
static inline unsigned
sp_hist_index(uint64_t us)
{
	uint64_t v = us > SP_HIST_MAX_VALUE ? SP_HIST_MAX_VALUE : us;
	uint64_t low = (UINT64_C(2) << SP_HIST_SUB_BITS) - 1;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v | low);
	unsigned s = msb - SP_HIST_SUB_BITS;

	return (s << SP_HIST_SUB_BITS) + (unsigned)(v >> s);
}

/* Smallest and largest value that bucket @idx (< SP_HIST_BUCKETS) holds. */
uint64_t sp_hist_lowest(unsigned idx);
uint64_t sp_hist_highest(unsigned idx);

/*
 * Record one latency. The hot path: one compare (unlikely taken), a
 * count-leading-zeros, a shift and an add for the index, five stores.
 * Stores are sp_ctr_* (relaxed atomics, sp_counter.h) so that the compiler
 * keeps each one whole; @count goes last, with release order (see the
 * concurrency note above).
 */
static inline void
sp_hist_record(struct sp_hist *h, uint64_t us)
{
	if (__builtin_expect(us > SP_HIST_MAX_VALUE, 0)) {
		sp_ctr_inc(h->overflow);
		us = SP_HIST_MAX_VALUE;
	}
	unsigned i = sp_hist_index(us);

	sp_ctr_inc(h->b[i]);
	sp_ctr_add(h->sum, us);
	if (us < h->min)
		sp_ctr_set(h->min, us);
	if (us > h->max)
		sp_ctr_set(h->max, us);
	/* Not sp_ctr_inc: the release store publishes the fields above. */
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
}

/*
 * Copy @src while its writer may be recording into it on another core.
 * @dst->count is loaded first (acquire), so every other field of @dst holds
 * at least that many records (a few newer ones too, perhaps): bucket total
 * >= count, and min <= max once count > 0. Successive snapshots of one
 * histogram never go backwards, field by field, so sp_hist_delta of two of
 * them has no negative bucket.
 */
void sp_hist_snapshot(struct sp_hist *dst, const struct sp_hist *src);

/* dst += src. Exact: the result is byte for byte the histogram of both
 * sets of records. */
void sp_hist_merge(struct sp_hist *dst, const struct sp_hist *src);

/*
 * Nearest-rank quantile: the value at rank ceil(q * count) (rank 1 for
 * q <= 0), q in [0, 1]. Rank 1 gives @min and rank @count gives @max
 * exactly; any other rank gives its bucket's midpoint clamped to [min, max].
 * 0 when empty.
 */
uint64_t sp_hist_quantile(const struct sp_hist *h, double q);

/* sum / count; 0 when empty. */
double sp_hist_mean(const struct sp_hist *h);

/*
 * dst = later - earlier, two snapshots of one histogram (a per-second
 * timeline). Counts, sum, overflow and buckets are exact differences. The
 * interval's min and max are the bounds of its lowest and highest non-empty
 * bucket, clamped to [later->min, later->max]: within 0.78 % of the true
 * value, and exact when the interval set a new overall min or max.
 * @dst may be @later or @earlier.
 */
void sp_hist_delta(struct sp_hist *dst, const struct sp_hist *later,
		   const struct sp_hist *earlier);

#endif /* SP_HIST_H */
