/*
 * Unit test for app/bp_math.c, against curves whose answer is known
 * before the call:
 * - Kneedle: y = min(x, 100) (knee at 100, also with noise and with a
 *   collapse past the peak); queueing latency 1 / (C - x), whose knee on
 *   the unit square is where the slope equals the chord's, x* = C -
 *   sqrt(dx / dy); the paper's Figure 2 and y = 5 - 1/x (knee of the
 *   continuous curve derived the same way, the nearest sample expected);
 *   straight lines (none); the threshold rule on both sides of S =
 *   D_max (n - 1); refusals.
 * - USL: points generated from known parameters, exact (recovered to
 *   rounding) and with 2 % noise (within stated tolerances); sigma only;
 *   linear; fewer than 3 points or distinct N refused.
 * - Trend: a flat noisy series, linear growth, one spike (middle, end), a
 *   significant but small growth, Mann-Kendall S and Z of a run against
 *   the formula, ties.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_bp_math.h"

#include "sp_check.h"

/* splitmix64: seeded, so a failure reproduces. */
static uint64_t sp_rng_state;

static double
rng_pm1(void) /* uniform in [-1, 1) */
{
	uint64_t z = (sp_rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 4503599627370496.0 - 1;
}

enum { NK = 20 };

static void
test_knee_min(void)
{
	double x[NK], y[NK];
	struct sp_knee k;

	for (int i = 0; i < NK; i++) {
		x[i] = 10.0 * (i + 1);
		y[i] = fmin(x[i], 100);
	}
	CHECK(sp_knee_find(x, y, NK, SP_KNEE_CONCAVE, 1, &k) == 0 && k.found &&
		      k.x == 100 && k.y == 100,
	      "min(x, 100): found %d at x %g", k.found, k.x);

	/* +-3 % noise: the knee stays within one sample of 100. */
	sp_rng_state = 1;
	for (int i = 0; i < NK; i++)
		y[i] = fmin(x[i], 100) * (1 + 0.03 * rng_pm1());
	CHECK(sp_knee_find(x, y, NK, SP_KNEE_CONCAVE, 1, &k) == 0 && k.found &&
		      fabs(k.x - 100) <= 10,
	      "noisy min(x, 100): found %d at x %g", k.found, k.x);

	/* Throughput collapsing past the peak: the running max keeps the
	 * knee at the bend, not at the fall. */
	for (int i = 0; i < NK; i++)
		y[i] = x[i] <= 100 ? x[i] : 100 - (x[i] - 100) * 0.8;
	CHECK(sp_knee_find(x, y, NK, SP_KNEE_CONCAVE, 1, &k) == 0 && k.found &&
		      k.x == 100,
	      "collapse: found %d at x %g", k.found, k.x);

	/* Straight lines, exact and with +-1 % noise: no knee, either shape.
	 * (The noise's D stays below 1 / (n - 1) = 0.053.) */
	for (int i = 0; i < NK; i++)
		y[i] = 3 * x[i] + 7;
	for (int sh = 0; sh < 2; sh++)
		CHECK(sp_knee_find(x, y, NK, sh, 1, &k) == 0 && !k.found,
		      "line, shape %d: knee at %g", sh, k.x);
	sp_rng_state = 2;
	for (int i = 0; i < NK; i++)
		y[i] = (3 * x[i] + 7) * (1 + 0.01 * rng_pm1());
	for (int sh = 0; sh < 2; sh++)
		CHECK(sp_knee_find(x, y, NK, sh, 1, &k) == 0 && !k.found,
		      "noisy line, shape %d: knee at %g (d %g)", sh, k.x, k.d);

	/* Flat: nothing to normalise. */
	for (int i = 0; i < NK; i++)
		y[i] = 5;
	CHECK(sp_knee_find(x, y, NK, SP_KNEE_CONCAVE, 1, &k) == 0 && !k.found,
	      "flat");
}

static void
test_knee_latency(void)
{
	enum { N = 19 };
	const double c = 100;
	double x[N], y[N];
	struct sp_knee k;

	for (int i = 0; i < N; i++) {
		x[i] = 5.0 * (i + 1);
		y[i] = 1 / (c - x[i]);
	}
	/* On the unit square D = xn - yn peaks where y' = dy / dx, i.e.
	 * 1 / (C - x)^2 = dy / dx. */
	double xs = c - sqrt((x[N - 1] - x[0]) / (y[N - 1] - y[0]));
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONVEX, 1, &k) == 0 && k.found &&
		      fabs(k.x - xs) <= 2.5,
	      "1/(C-x): found %d at %g, expected the sample nearest %g",
	      k.found, k.x, xs);
	/* The concave reading of a convex curve has its D <= 0: none. */
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1, &k) == 0 && !k.found,
	      "1/(C-x) read as concave: knee at %g", k.x);

	sp_rng_state = 3;
	for (int i = 0; i < N; i++)
		y[i] = (1 + 0.03 * rng_pm1()) / (c - x[i]);
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONVEX, 1, &k) == 0 && k.found &&
		      fabs(k.x - xs) <= 7.5,
	      "noisy 1/(C-x): found %d at %g, expected near %g", k.found, k.x,
	      xs);
}

static void
test_knee_paper(void)
{
	enum { N = 10 };
	double x[N], y[N];
	struct sp_knee k;

	/* The paper's Figure 2 as kneed's DataGenerator.figure2 reproduces
	 * it (10 points of 5 - 1/(x + 0.1) on [0, 1]; kneed reports the knee
	 * 0.222). Continuous: (x + 0.1)^2 = dx / dy. */
	for (int i = 0; i < N; i++) {
		x[i] = i / 9.0;
		y[i] = 5 - 1 / (x[i] + 0.1);
	}
	double xs = sqrt((x[N - 1] - x[0]) / (y[N - 1] - y[0])) - 0.1;
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1, &k) == 0 && k.found &&
		      k.idx == 2 && fabs(k.x - xs) < 0.5 / 9,
	      "figure 2: found %d at %g (idx %zu), continuous %g", k.found, k.x,
	      k.idx, xs);

	/* The threshold rule, both sides of S = D_max (n - 1). */
	double s0 = k.d * (N - 1);
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 0.99 * s0, &k) == 0 &&
		      k.found,
	      "S just under the rule's limit %g", s0);
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1.01 * s0, &k) == 0 &&
		      !k.found,
	      "S just over the rule's limit %g", s0);

	/* y = 5 - 1/x on x = 1..10: x^2 = dx / dy, x* = sqrt(10). */
	for (int i = 0; i < N; i++) {
		x[i] = i + 1;
		y[i] = 5 - 1 / x[i];
	}
	xs = sqrt((x[N - 1] - x[0]) / (y[N - 1] - y[0]));
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1, &k) == 0 && k.found &&
		      fabs(k.x - xs) < 0.5 && k.x == 3,
	      "5 - 1/x: found %d at %g, continuous %g", k.found, k.x, xs);

	/* Too few points: none, not an error. Bad input: an error. */
	CHECK(sp_knee_find(x, y, 2, SP_KNEE_CONCAVE, 1, &k) == 0 && !k.found,
	      "n = 2");
	x[4] = x[3];
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1, &k) == -1,
	      "x not increasing");
	x[4] = 5;
	y[5] = NAN;
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, 1, &k) == -1, "NaN");
	y[5] = 1;
	CHECK(sp_knee_find(x, y, N, SP_KNEE_CONCAVE, -1, &k) == -1, "S < 0");
}

static const double usl_n[] = { 1, 2, 4, 8, 16, 24, 32, 48, 64, 96 };
enum { NU = sizeof(usl_n) / sizeof(usl_n[0]) };

static void
usl_gen(const struct sp_usl *u, double noise, double *x)
{
	for (int i = 0; i < NU; i++)
		x[i] = sp_usl_eval(u, usl_n[i]) * (1 + noise * rng_pm1());
}

static void
test_usl(void)
{
	struct sp_usl t = { .lambda = 1000, .sigma = 0.03, .kappa = 5e-4 };
	struct sp_usl f;
	double x[NU];
	double peak = sqrt((1 - t.sigma) / t.kappa);

	usl_gen(&t, 0, x);
	CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 &&
		      fabs(f.lambda / t.lambda - 1) < 1e-6 &&
		      fabs(f.sigma - t.sigma) < 1e-7 &&
		      fabs(f.kappa / t.kappa - 1) < 1e-5 && f.r2 > 1 - 1e-12 &&
		      fabs(f.peak_n / peak - 1) < 1e-5 &&
		      fabs(f.peak_x / sp_usl_eval(&t, peak) - 1) < 1e-6,
	      "exact: lambda %.9g sigma %.9g kappa %.9g r2 %.15g peak %g",
	      f.lambda, f.sigma, f.kappa, f.r2, f.peak_n);

	/* 2 % noise, five seeds. */
	for (int seed = 10; seed < 15; seed++) {
		sp_rng_state = (uint64_t)seed;
		usl_gen(&t, 0.02, x);
		CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 &&
			      fabs(f.lambda / t.lambda - 1) < 0.05 &&
			      fabs(f.sigma - t.sigma) < 0.02 &&
			      fabs(f.kappa / t.kappa - 1) < 0.25 &&
			      f.r2 > 0.98 && fabs(f.peak_n / peak - 1) < 0.15,
		      "noisy (seed %d): lambda %g sigma %g kappa %g r2 %g "
		      "peak %g (true %g)",
		      seed, f.lambda, f.sigma, f.kappa, f.r2, f.peak_n, peak);
	}

	/* Contention only: kappa fitted to 0, no peak, the asymptote. */
	struct sp_usl s = { .lambda = 500, .sigma = 0.1 };
	usl_gen(&s, 0, x);
	CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 && f.kappa == 0 &&
		      fabs(f.sigma - s.sigma) < 1e-7 &&
		      fabs(f.lambda / s.lambda - 1) < 1e-6 && isinf(f.peak_n) &&
		      fabs(f.peak_x / (s.lambda / s.sigma) - 1) < 1e-6,
	      "sigma only: lambda %.9g sigma %.9g kappa %g peak %g", f.lambda,
	      f.sigma, f.kappa, f.peak_n);
	sp_rng_state = 20;
	usl_gen(&s, 0.02, x);
	CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 &&
		      fabs(f.sigma - s.sigma) < 0.02 && f.kappa < 5e-5 &&
		      f.r2 > 0.98,
	      "noisy sigma only: lambda %g sigma %g kappa %g r2 %g", f.lambda,
	      f.sigma, f.kappa, f.r2);

	/* Linear scaling: both 0, peak and asymptote infinite. */
	struct sp_usl l = { .lambda = 250 };
	usl_gen(&l, 0, x);
	CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 && f.sigma == 0 &&
		      f.kappa == 0 && fabs(f.lambda / 250 - 1) < 1e-9 &&
		      isinf(f.peak_n) && isinf(f.peak_x),
	      "linear: lambda %g sigma %g kappa %g", f.lambda, f.sigma,
	      f.kappa);

	/* Falling from the first user on (the law's N* is 0.91): N* = 1. */
	struct sp_usl d = { .lambda = 100, .sigma = 0.5, .kappa = 0.6 };
	usl_gen(&d, 0, x);
	CHECK(sp_usl_fit(usl_n, x, NU, &f) == 0 &&
		      fabs(f.kappa / d.kappa - 1) < 1e-5 && f.peak_n == 1 &&
		      fabs(f.peak_x / 100 - 1) < 1e-6,
	      "falling: sigma %g kappa %g peak %g at %g", f.sigma, f.kappa,
	      f.peak_x, f.peak_n);

	/* Refusals. */
	CHECK(sp_usl_fit(usl_n, x, 2, &f) == -1, "2 points");
	double n3[] = { 1, 2, 2 }, x3[] = { 10, 19, 19 };
	CHECK(sp_usl_fit(n3, x3, 3, &f) == -1, "2 distinct N");
	double n0[] = { 0, 1, 2 };
	CHECK(sp_usl_fit(n0, x3, 3, &f) == -1, "N < 1");
	double xz[] = { 0, 0, 0 }, n4[] = { 1, 2, 3 };
	CHECK(sp_usl_fit(n4, xz, 3, &f) == -1, "no throughput");
	x3[1] = NAN;
	CHECK(sp_usl_fit(n4, x3, 3, &f) == -1, "NaN");
}

enum { NT = 30 };

static void
test_trend(void)
{
	double t[NT], v[NT];
	struct sp_trend r;

	for (int i = 0; i < NT; i++)
		t[i] = i + 0.5;

	sp_rng_state = 30;
	for (int i = 0; i < NT; i++)
		v[i] = 100 * (1 + 0.1 * rng_pm1());
	CHECK(sp_trend_eval(t, v, NT, 0.5, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      !r.rising && fabs(r.rel) < 0.5,
	      "flat: rising, rel %g z %g", r.rel, r.mk_z);

	/* One spike (x10), in the middle, then at the end. */
	v[NT / 2] = 1000;
	CHECK(sp_trend_eval(t, v, NT, 0.5, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      !r.rising,
	      "spike: rising, rel %g z %g", r.rel, r.mk_z);
	v[NT / 2] = 100;
	v[NT - 1] = 1000;
	CHECK(sp_trend_eval(t, v, NT, 0.5, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      !r.rising && r.rel > 0.5,
	      "last-second spike: rising, rel %g z %g", r.rel, r.mk_z);

	/* Linear growth 100 -> 390 with 5 % noise. */
	sp_rng_state = 31;
	for (int i = 0; i < NT; i++)
		v[i] = (100 + 10 * t[i]) * (1 + 0.05 * rng_pm1());
	CHECK(sp_trend_eval(t, v, NT, 0.5, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      r.rising && fabs(r.slope / 10 - 1) < 0.1 && r.mk_z > 3,
	      "growth: rising %d slope %g z %g", r.rising, r.slope, r.mk_z);

	/* Exact and monotone but +20 %: significant, not rising enough.
	 * Mann-Kendall of a strictly increasing run: S = n (n - 1) / 2. */
	for (int i = 0; i < NT; i++)
		v[i] = 100 + 20.0 * i / (NT - 1);
	double var = NT * (NT - 1.0) * (2 * NT + 5) / 18;
	long s = NT * (NT - 1) / 2;
	CHECK(sp_trend_eval(t, v, NT, 0.5, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      !r.rising && r.mk_s == s &&
		      fabs(r.mk_z - (s - 1) / sqrt(var)) < 1e-12 &&
		      fabs(r.rel - 20.0 / 110) < 1e-12,
	      "+20 %%: rising %d S %ld z %g rel %g", r.rising, r.mk_s, r.mk_z,
	      r.rel);
	CHECK(sp_trend_eval(t, v, NT, 0.1, SP_TREND_Z_DEFAULT, &r) == 0 &&
		      r.rising,
	      "+20 %% against a 10 %% limit");

	/* Ties: {1, 1, 2, 2, 2}: S = 6 (each 1 below each 2), Var = (5*4*15
	 * - 2*1*9 - 3*2*11) / 18 = 216 / 18 = 12. */
	double t5[] = { 0, 1, 2, 3, 4 }, v5[] = { 1, 1, 2, 2, 2 };
	CHECK(sp_trend_eval(t5, v5, 5, 0.5, 0, &r) == 0 && r.mk_s == 6 &&
		      fabs(r.mk_z - 5 / sqrt(12.0)) < 1e-12,
	      "ties: S %ld z %g", r.mk_s, r.mk_z);
	double c5[] = { 7, 7, 7, 7, 7 };
	CHECK(sp_trend_eval(t5, c5, 5, 0.5, 0, &r) == 0 && r.mk_s == 0 &&
		      r.mk_z == 0 && r.slope == 0 && !r.rising,
	      "constant");

	CHECK(sp_trend_eval(t5, v5, 2, 0.5, 0, &r) == -1 && !r.rising, "n = 2");
	t5[2] = 1;
	CHECK(sp_trend_eval(t5, v5, 5, 0.5, 0, &r) == -1, "t not increasing");
}

int
main(void)
{
	test_knee_min();
	test_knee_latency();
	test_knee_paper();
	test_usl();
	test_trend();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
