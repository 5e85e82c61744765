/*
 * Unit test for sp_hist, against independent computations on the raw values:
 * - bucket bounds: contiguous, non-overlapping, covering 0..SP_HIST_MAX_VALUE,
 *   each no wider than 1/128 of its lowest value, every value mapping into
 *   the bucket whose bounds hold it;
 * - quantiles of 10^6 seeded values in several distributions against the
 *   exact nearest-rank values of a sorted copy (within 1 %, and within the
 *   0.39 % the layout promises), p0/p100 and the mean exact, every bucket's
 *   count equal to the number of sorted values inside its bounds;
 * - merge of two parts equals the histogram of all (memcmp);
 * - delta of two snapshots equals the histogram of the values in between;
 * - edge values (0, 1, 2^36, 2^40, UINT64_MAX) and the overflow count;
 * - record writes nothing outside the struct (canaries; ASan on the heap);
 * - snapshots taken while another thread records are coherent and never go
 *   backwards (a sanity check: on x86-64 a broken order rarely shows).
 * The record rate is printed, not asserted: sanitizer builds are slow.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_hist.h"

#include "sp_check.h"

enum { SP_N = 1000000 };

/* The layout's bound on |representative - value| / value: half a bucket of
 * width 2^s over a value of at least 128 * 2^s. */
static const double sp_rep_bound = 1.0 / 256;

static const double sp_qs[] = { 0,   0.001, 0.01, 0.1,   0.25, 0.5,
				0.9, 0.95,  0.99, 0.999, 1 };

/* splitmix64: seeded, so a failure reproduces. */
static uint64_t sp_rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (sp_rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static struct sp_hist *
hist_new(void)
{
	/* Exactly the struct's size on the heap: ASan reports any write past
	 * it. */
	struct sp_hist *h = malloc(sizeof(*h));

	if (!h) {
		perror("malloc");
		exit(2);
	}
	sp_hist_init(h);
	return h;
}

static double
rel_err(uint64_t got, uint64_t want)
{
	double d = fabs((double)got - (double)want);

	return want ? d / (double)want : d;
}

static void
test_buckets(void)
{
	CHECK(sp_hist_lowest(0) == 0, "bucket 0 starts at 0");
	CHECK(sp_hist_highest(0) == 0, "0 has a bucket of its own");
	CHECK(sp_hist_highest(SP_HIST_BUCKETS - 1) == SP_HIST_MAX_VALUE,
	      "top bucket ends at %llu",
	      (unsigned long long)sp_hist_highest(SP_HIST_BUCKETS - 1));
	CHECK(SP_HIST_MAX_VALUE >= (UINT64_C(1) << 36), "range below 2^36");

	int bad_order = 0, bad_gap = 0, bad_width = 0, bad_map = 0;
	double widest = 0;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++) {
		uint64_t lo = sp_hist_lowest(i), hi = sp_hist_highest(i);

		bad_order += lo > hi;
		if (i + 1 < SP_HIST_BUCKETS)
			bad_gap += sp_hist_lowest(i + 1) != hi + 1;
		/* Exact below 256: one value per bucket. */
		if (lo < 256)
			bad_width += hi != lo;
		else {
			double w = (double)(hi - lo) / (double)lo;
			if (w > widest)
				widest = w;
			bad_width += w > 1.0 / 128; /* stricter than 2 % */
		}
		bad_map += sp_hist_index(lo) != i || sp_hist_index(hi) != i ||
			   sp_hist_index(lo + (hi - lo) / 2) != i;
	}
	CHECK(bad_order == 0, "%d buckets with lowest > highest", bad_order);
	CHECK(bad_gap == 0, "%d gaps or overlaps between buckets", bad_gap);
	CHECK(bad_width == 0, "%d buckets too wide", bad_width);
	CHECK(bad_map == 0, "%d buckets whose bounds map elsewhere", bad_map);
	printf("buckets: %u, struct %zu bytes, widest bucket %.4f %% of its "
	       "lowest value\n",
	       (unsigned)SP_HIST_BUCKETS, sizeof(struct sp_hist), widest * 100);

	/* Every value up to 2^20, then around every power of two, then
	 * random values of every bit length. */
	bad_map = 0;
	for (uint64_t v = 0; v < (1u << 20); v++) {
		unsigned i = sp_hist_index(v);
		bad_map += i >= SP_HIST_BUCKETS || v < sp_hist_lowest(i) ||
			   v > sp_hist_highest(i);
	}
	for (unsigned e = 1; e < 64; e++) {
		uint64_t p = UINT64_C(1) << e;
		uint64_t vs[] = { p - 1, p, p + 1 };
		for (unsigned k = 0; k < 3; k++) {
			uint64_t v = vs[k];
			unsigned i = sp_hist_index(v);
			if (v > SP_HIST_MAX_VALUE)
				bad_map += i != SP_HIST_BUCKETS - 1;
			else
				bad_map += v < sp_hist_lowest(i) ||
					   v > sp_hist_highest(i);
		}
	}
	sp_rng_state = 1;
	for (int n = 0; n < 1000000; n++) {
		uint64_t v = rng() >> (rng() % 64);
		unsigned i = sp_hist_index(v);
		if (v > SP_HIST_MAX_VALUE)
			bad_map += i != SP_HIST_BUCKETS - 1;
		else
			bad_map += v < sp_hist_lowest(i) ||
				   v > sp_hist_highest(i);
	}
	CHECK(bad_map == 0, "%d values outside their bucket", bad_map);
	CHECK(sp_hist_index(UINT64_MAX) == SP_HIST_BUCKETS - 1,
	      "UINT64_MAX not in the top bucket");
}

enum sp_dist { SP_UNIFORM, SP_LOGUNIFORM, SP_CONSTANT, SP_SPIKES, SP_NDIST };
static const char *const sp_dist_name[SP_NDIST] = {
	"uniform 1..1e6",
	"log-uniform 1us..10min",
	"constant",
	"two spikes",
};

static void
gen(enum sp_dist d, uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (d) {
		case SP_UNIFORM:
			v[i] = 1 + rng() % 1000000;
			break;
		case SP_LOGUNIFORM:
			v[i] = (uint64_t)exp(rng_unit() * log(600e6));
			break;
		case SP_CONSTANT:
			v[i] = 123457;
			break;
		case SP_SPIKES:
			/* 90 % fast, 10 % in a slow spike: p90 sits on the
			 * step and p95 inside the slow one. Both spikes are
			 * above the exact range, so p0 and p100 test the
			 * min/max rule, not exact buckets. */
			v[i] = rng() % 10 ? 3010 + rng() % 50 :
					    2000000 + rng() % 1000;
			break;
		case SP_NDIST:
			break;
		}
	}
}

/* The exact nearest-rank value: rank ceil(q * n), at least 1. */
static uint64_t
exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = q <= 0 ? 1 : q >= 1 ? n : (size_t)ceil(q * (double)n);

	return sorted[(rank ? rank : 1) - 1];
}

static double sp_worst_err;

static void
test_distribution(enum sp_dist d, uint64_t *v, uint64_t *sorted)
{
	struct sp_hist *h = hist_new();

	sp_rng_state = 1000 + (uint64_t)d;
	gen(d, v, SP_N);
	for (size_t i = 0; i < SP_N; i++)
		sp_hist_record(h, v[i]);
	memcpy(sorted, v, SP_N * sizeof(*v));
	qsort(sorted, SP_N, sizeof(*sorted), cmp_u64);

	uint64_t sum = 0;
	long double lsum = 0;
	for (size_t i = 0; i < SP_N; i++) {
		sum += v[i];
		lsum += v[i];
	}
	CHECK(h->count == SP_N, "%s: count %llu", sp_dist_name[d],
	      (unsigned long long)h->count);
	CHECK(h->sum == sum, "%s: sum", sp_dist_name[d]);
	CHECK(h->overflow == 0, "%s: overflow", sp_dist_name[d]);
	CHECK(h->min == sorted[0] && h->max == sorted[SP_N - 1], "%s: min/max",
	      sp_dist_name[d]);
	double mean = (double)(lsum / SP_N);
	CHECK(fabs(sp_hist_mean(h) - mean) <= 1e-9 * mean,
	      "%s: mean %.6f, exact %.6f", sp_dist_name[d], sp_hist_mean(h),
	      mean);

	/* Each bucket holds exactly the values inside its bounds. */
	size_t j = 0;
	int bad = 0;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++) {
		uint64_t c = 0;
		while (j < SP_N && sorted[j] <= sp_hist_highest(i)) {
			c++;
			j++;
		}
		bad += c != h->b[i];
	}
	CHECK(bad == 0 && j == SP_N, "%s: %d buckets miscounted",
	      sp_dist_name[d], bad);

	double worst = 0;
	for (size_t k = 0; k < sizeof(sp_qs) / sizeof(sp_qs[0]); k++) {
		uint64_t want = exact_quantile(sorted, SP_N, sp_qs[k]);
		uint64_t got = sp_hist_quantile(h, sp_qs[k]);
		double e = rel_err(got, want);

		CHECK(e <= 0.01 && e <= sp_rep_bound,
		      "%s: q %g: got %llu, exact %llu (%.4f %%)",
		      sp_dist_name[d], sp_qs[k], (unsigned long long)got,
		      (unsigned long long)want, e * 100);
		if (e > worst)
			worst = e;
	}
	CHECK(sp_hist_quantile(h, 0) == sorted[0], "%s: p0 %llu != min %llu",
	      sp_dist_name[d], (unsigned long long)sp_hist_quantile(h, 0),
	      (unsigned long long)sorted[0]);
	CHECK(sp_hist_quantile(h, 1) == sorted[SP_N - 1],
	      "%s: p100 %llu != max %llu", sp_dist_name[d],
	      (unsigned long long)sp_hist_quantile(h, 1),
	      (unsigned long long)sorted[SP_N - 1]);

	/* A finer sweep of ranks, for the worst error figure. */
	for (int k = 1; k < 10000; k++) {
		double q = k / 10000.0;
		double e = rel_err(sp_hist_quantile(h, q),
				   exact_quantile(sorted, SP_N, q));
		CHECK(e <= sp_rep_bound, "%s: q %g: %.4f %%", sp_dist_name[d],
		      q, e * 100);
		if (e > worst)
			worst = e;
	}
	printf("%-24s worst quantile error %.4f %%\n", sp_dist_name[d],
	       worst * 100);
	if (worst > sp_worst_err)
		sp_worst_err = worst;
	free(h);
}

static void
record_all(struct sp_hist *h, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sp_hist_record(h, v[i]);
}

static void
test_merge(uint64_t *v)
{
	struct sp_hist *all = hist_new(), *a = hist_new(), *b = hist_new();
	struct sp_hist *e = hist_new();

	sp_rng_state = 7;
	gen(SP_LOGUNIFORM, v, SP_N);
	/* Include values that overflow, so the overflow count merges too. */
	v[10] = UINT64_MAX;
	v[SP_N - 10] = UINT64_C(1) << 40;
	record_all(all, v, SP_N);
	/* Uneven parts: a split at the middle would hide a swapped range. */
	record_all(a, v, SP_N / 3);
	record_all(b, v + SP_N / 3, SP_N - SP_N / 3);
	sp_hist_merge(a, b);
	CHECK(memcmp(a, all, sizeof(*a)) == 0, "merge of parts != all");
	CHECK(all->overflow == 2, "overflow %llu",
	      (unsigned long long)all->overflow);

	/* Merging an empty histogram changes nothing, either way round. */
	sp_hist_merge(a, e);
	CHECK(memcmp(a, all, sizeof(*a)) == 0, "merge of empty changed it");
	sp_hist_merge(e, all);
	CHECK(memcmp(e, all, sizeof(*e)) == 0, "merge into empty != copy");
	free(all);
	free(a);
	free(b);
	free(e);
}

/* Snapshots around a run of records: their delta must be the histogram of
 * that run alone. */
static void
test_delta(uint64_t *v)
{
	struct sp_hist *h = hist_new(), *earlier = hist_new();
	struct sp_hist *later = hist_new(), *d = hist_new(), *r = hist_new();
	size_t cut = SP_N / 2;

	sp_rng_state = 11;
	gen(SP_UNIFORM, v, SP_N);

	/* 1. The interval sets a new overall min and max: exact everywhere.
	 * Both are off their bucket's bounds (width 4 and 32768), so only
	 * the clamp to later's min/max can make them exact. */
	for (size_t i = 0; i < SP_N; i++)
		v[i] += 1000;
	v[cut + 5] = 1001;
	v[cut + 6] = 5000001;
	record_all(h, v, cut);
	memcpy(earlier, h, sizeof(*h));
	record_all(h, v + cut, SP_N - cut);
	memcpy(later, h, sizeof(*h));
	record_all(r, v + cut, SP_N - cut);
	sp_hist_delta(d, later, earlier);
	CHECK(memcmp(d, r, sizeof(*d)) == 0, "delta != histogram of interval");

	/* 2. Neither: counts exact, min/max within the right buckets. */
	sp_hist_init(h);
	sp_hist_init(r);
	v[cut + 5] = 1001 + rng() % 1000000;
	v[cut + 6] = 1001 + rng() % 1000000;
	v[0] = 0;
	v[1] = 5000000;
	record_all(h, v, cut);
	memcpy(earlier, h, sizeof(*h));
	record_all(h, v + cut, SP_N - cut);
	memcpy(later, h, sizeof(*h));
	record_all(r, v + cut, SP_N - cut);
	sp_hist_delta(d, later, earlier);
	CHECK(d->count == r->count && d->sum == r->sum &&
		      d->overflow == r->overflow &&
		      memcmp(d->b, r->b, sizeof(d->b)) == 0,
	      "delta counts != histogram of interval");
	CHECK(d->min <= r->min &&
		      sp_hist_index(d->min) == sp_hist_index(r->min),
	      "delta min %llu, interval min %llu", (unsigned long long)d->min,
	      (unsigned long long)r->min);
	CHECK(d->max >= r->max &&
		      sp_hist_index(d->max) == sp_hist_index(r->max),
	      "delta max %llu, interval max %llu", (unsigned long long)d->max,
	      (unsigned long long)r->max);
	double e = rel_err(sp_hist_quantile(d, 0), r->min);
	CHECK(e <= 1.0 / 128, "delta p0 off by %.4f %%", e * 100);
	e = rel_err(sp_hist_quantile(d, 1), r->max);
	CHECK(e <= 1.0 / 128, "delta p100 off by %.4f %%", e * 100);

	/* 3. In place (dst == later), and an empty interval. */
	memcpy(r, d, sizeof(*r));
	memcpy(d, later, sizeof(*d));
	sp_hist_delta(d, d, earlier);
	CHECK(memcmp(d, r, sizeof(*d)) == 0, "in-place delta differs");
	sp_hist_delta(d, later, later);
	CHECK(d->count == 0 && d->sum == 0 && d->min == UINT64_MAX &&
		      d->max == 0 && sp_hist_quantile(d, 0.5) == 0,
	      "empty interval");

	/* 4. From an empty start the delta is the histogram itself. */
	sp_hist_init(earlier);
	sp_hist_delta(d, later, earlier);
	CHECK(memcmp(d, later, sizeof(*d)) == 0, "delta from empty != later");
	free(h);
	free(earlier);
	free(later);
	free(d);
	free(r);
}

static void
test_edges(void)
{
	struct sp_hist *h = hist_new();

	CHECK(h->count == 0 && h->min == UINT64_MAX && h->max == 0, "init");
	CHECK(sp_hist_quantile(h, 0.5) == 0 && sp_hist_mean(h) == 0,
	      "empty quantile/mean");

	sp_hist_record(h, 0);
	CHECK(h->b[0] == 1 && h->min == 0 && h->max == 0 &&
		      sp_hist_quantile(h, 0.5) == 0,
	      "0 is not recorded as 0");
	sp_hist_record(h, 1);
	CHECK(h->b[1] == 1 && sp_hist_quantile(h, 1) == 1, "1");

	uint64_t p36 = UINT64_C(1) << 36;
	sp_hist_record(h, p36);
	unsigned i36 = sp_hist_index(p36);
	CHECK(h->overflow == 0 && h->b[i36] == 1 && h->max == p36 &&
		      sp_hist_lowest(i36) == p36,
	      "2^36 is in range");

	sp_hist_record(h, UINT64_C(1) << 40);
	CHECK(h->overflow == 1 && h->b[SP_HIST_BUCKETS - 1] == 1 &&
		      h->max == SP_HIST_MAX_VALUE,
	      "2^40 overflows into the top bucket");
	sp_hist_record(h, UINT64_MAX);
	CHECK(h->overflow == 2 && h->b[SP_HIST_BUCKETS - 1] == 2 &&
		      h->count == 5,
	      "UINT64_MAX overflows into the top bucket");
	CHECK(h->sum == 1 + p36 + 2 * SP_HIST_MAX_VALUE, "sum of clamped");
	sp_hist_record(h, SP_HIST_MAX_VALUE);
	CHECK(h->overflow == 2 && h->b[SP_HIST_BUCKETS - 1] == 3,
	      "the max value itself does not overflow");

	/* Out-of-range q: clamped, NaN is rank 1. */
	CHECK(sp_hist_quantile(h, -1) == 0 && sp_hist_quantile(h, NAN) == 0,
	      "q < 0");
	CHECK(sp_hist_quantile(h, 2) == SP_HIST_MAX_VALUE, "q > 1");
	free(h);
}

/* Record must not write outside the struct: canaries around one inside a
 * larger object (any build), and heap objects of the exact size above (ASan
 * build). */
static void
test_bounds(void)
{
	static struct {
		uint64_t pre[16];
		struct sp_hist h;
		uint64_t post[16];
	} g;
	uint64_t vs[] = { 0,
			  1,
			  255,
			  256,
			  257,
			  SP_HIST_MAX_VALUE,
			  SP_HIST_MAX_VALUE + 1,
			  UINT64_C(1) << 63,
			  UINT64_MAX };

	memset(&g, 0xa5, sizeof(g));
	sp_hist_init(&g.h);
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		sp_hist_record(&g.h, vs[i]);
	int touched = 0;
	for (int i = 0; i < 16; i++)
		touched += g.pre[i] != 0xa5a5a5a5a5a5a5a5ull ||
			   g.post[i] != 0xa5a5a5a5a5a5a5a5ull;
	CHECK(touched == 0, "%d canary words overwritten", touched);

	struct sp_hist *h = hist_new();
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		sp_hist_record(h, vs[i]);
	CHECK(h->count == sizeof(vs) / sizeof(vs[0]), "count");
	free(h);
}

enum { SP_CONC_N = 2000000, SP_CONC_LO = 1000 };

static void *
conc_writer(void *arg)
{
	struct sp_hist *h = arg;
	uint64_t x = 99;

	for (int i = 0; i < SP_CONC_N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		sp_hist_record(h, SP_CONC_LO + (x >> 43)); /* < 2^21 + 1000 */
	}
	return NULL;
}

static void
test_concurrent(void)
{
	struct sp_hist *h = hist_new(), *prev = hist_new(), *s = hist_new();
	pthread_t t;

	if (pthread_create(&t, NULL, conc_writer, h) != 0) {
		perror("pthread_create");
		exit(2);
	}
	int snaps = 0, incoherent = 0, backwards = 0;
	do {
		sp_hist_snapshot(s, h);
		uint64_t total = 0;
		for (unsigned i = 0; i < SP_HIST_BUCKETS; i++) {
			total += s->b[i];
			backwards += s->b[i] < prev->b[i];
		}
		backwards += s->count < prev->count || s->sum < prev->sum;
		/* Every counted record is in the buckets, the sum (each adds
		 * at least SP_CONC_LO), min and max. */
		incoherent += total < s->count ||
			      s->sum < s->count * SP_CONC_LO ||
			      (s->count &&
			       (s->min > s->max || s->min < SP_CONC_LO));
		memcpy(prev, s, sizeof(*s));
		snaps++;
	} while (s->count < SP_CONC_N);
	pthread_join(t, NULL);
	CHECK(incoherent == 0, "%d of %d snapshots incoherent", incoherent,
	      snaps);
	CHECK(backwards == 0, "%d fields went backwards", backwards);
	sp_hist_snapshot(s, h);
	CHECK(memcmp(s, h, sizeof(*s)) == 0, "quiescent snapshot != copy");
	printf("concurrent: %d snapshots while recording\n", snaps);
	free(h);
	free(prev);
	free(s);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench(const uint64_t *v)
{
	struct sp_hist *h = hist_new();
	double t0 = now();

	for (int rep = 0; rep < 10; rep++)
		record_all(h, v, SP_N);
	double t = now() - t0;
	printf("record: %.2f ns per value (printed, not asserted)\n",
	       t * 1e9 / (10.0 * SP_N));
	CHECK(h->count == 10u * SP_N, "bench count");
	free(h);
}

int
main(void)
{
	uint64_t *v = malloc(SP_N * sizeof(*v));
	uint64_t *sorted = malloc(SP_N * sizeof(*sorted));

	if (!v || !sorted) {
		perror("malloc");
		return 2;
	}
	test_buckets();
	for (int d = 0; d < SP_NDIST; d++)
		test_distribution((enum sp_dist)d, v, sorted);
	printf("worst quantile error over all distributions: %.4f %%\n",
	       sp_worst_err * 100);
	test_merge(v);
	test_delta(v);
	test_edges();
	test_bounds();
	test_concurrent();
	bench(v);
	free(v);
	free(sorted);
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed ? 1 : 0;
}
