/*
 * sp_bp_math: the numbers a capacity hunt's report needs (issue 17), pure
 * functions on arrays the caller owns. Nothing here allocates, does I/O,
 * keeps state between calls or depends on DPDK: the unit test
 * (tests/unit/test_bp_math.c) builds bp_math.c alone.
 *
 * 1. sp_knee_find: Kneedle (V. Satopää, J. Albrecht, D. Irwin,
 *    B. Raghavan, "Finding a 'Kneedle' in a Haystack: Detecting Knee Points
 *    in System Behavior", ICDCS Workshops 2011), offline, for the two shapes
 *    a hunt plots against offered load: throughput (concave increasing) and
 *    latency (convex increasing).
 *    - Input: x[] strictly increasing, y[], n points. No spline smoothing
 *      (the paper's optional step 1). Instead y is replaced by its running
 *      maximum, y'[i] = max(y[0..i]): both shapes are increasing by
 *      assumption, so a later dip is noise (or, for throughput, collapse
 *      past the peak) and must not create a bend of its own. This needs no
 *      memory: each y'[i] is computed on the fly.
 *    - Normalise to the unit square: xn = (x - x[0]) / (x[n-1] - x[0]),
 *      yn = (y' - y'[0]) / (max y' - y'[0]).
 *    - Difference curve: concave D = yn - xn; convex D = xn - yn, which is
 *      the concave case after rotating the square by 180 degrees
 *      (x -> 1 - x, y -> 1 - y), the paper's reduction of other shapes.
 *    - Candidate: the (first) maximum of D, the point farthest above (or
 *      below) the chord.
 *    - The paper's threshold: T = D_max - S * mean(xn[i+1] - xn[i]); the
 *      candidate is a knee when D falls below T "after" it: at higher x for
 *      the concave shape, at lower x for the convex one (the rotation
 *      reverses the order). The mean spacing is 1 / (n - 1), so on a
 *      monotone curve (both ends have D = 0) this says D_max > S / (n - 1):
 *      a straight line has no knee, nor has a curve too gently bent for the
 *      number of points. The paper's online reset of T at each new local
 *      maximum is moot offline: no later maximum is higher than D_max.
 *    - S (sensitivity) is the paper's; 1.0 is its default
 *      (SP_KNEE_S_DEFAULT); larger S asks for a sharper knee.
 *    - n < 3 or a flat y: no knee (found = 0), not an error.
 *
 * 2. sp_usl_fit: the Universal Scalability Law (N. J. Gunther, "Guerrilla
 *    Capacity Planning", Springer 2007):
 *        X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))
 *    fitted to points (N_i, X_i) by least squares on X with sigma, kappa >= 0
 *    (lambda > 0). lambda is fitted, not taken from an N = 1 point: one noisy
 *    point should not pin the curve. Method: for a given (sigma, kappa) the
 *    best lambda is linear least squares (closed form); that SSE is searched
 *    on a log grid of (sigma, kappa) including 0, then refined on all three
 *    by Levenberg-Marquardt (Marquardt 1963, SIAM J. Appl. Math. 11:431)
 *    with the bound sigma, kappa >= 0 kept by an active set (a parameter at
 *    0 whose gradient points below 0 stays at 0). Needs n >= 3 points with
 *    at least 3 distinct N >= 1, X >= 0.
 *    Outputs R^2 = 1 - SSE / SST (1 when SST = SSE = 0) and the peak
 *    N* = sqrt((1 - sigma) / kappa), where dX/dN = 0 (dX/dN has the
 *    sign of (1 - sigma) - kappa N^2), with X(N*):
 *    - kappa = 0: no peak; N* = INFINITY, X(N*) the asymptote lambda / sigma
 *      (INFINITY too when sigma = 0: linear scaling);
 *    - kappa > 0 and that N* below 1 (sigma >= 1 included): X falls from
 *      the first user on; N* = 1.
 *
 * 3. sp_trend_eval: does latency keep rising through a step? Input per-
 *    second samples (t_i increasing, v_i, e.g. each second's p50 or mean).
 *    - slope: ordinary least squares;
 *    - rel = slope * (t[n-1] - t[0]) / mean(v): the growth across the
 *      samples' span as a fraction of the mean (0 when mean <= 0);
 *    - significance: the Mann-Kendall test (H. B. Mann, Econometrica 13:245,
 *      1945; M. G. Kendall, "Rank Correlation Methods", 1975), S = sum over
 *      i < j of sign(v_j - v_i), Var(S) with the tie correction, and
 *      Z = (S - sgn S) / sqrt(Var S) (normal approximation, sound from about
 *      n = 10). Chosen over the t-statistic of the slope because it is
 *      rank-based: one spike moves S by at most n - 1 and assumes no normal
 *      residuals, which per-second latency does not have;
 *    - rising = rel > min_rise AND Z > z_crit. Defaults: min_rise 0.5 (a
 *      50 % growth across the step), z_crit 2.326 (one-sided 1 %).
 *    O(n^2) comparisons, fine for the seconds of one step.
 *
 * 4. The latency of a step from two cumulative histograms is sp_hist_delta
 *    (lib/metrics, exact bucket-wise) followed by sp_hist_quantile: nothing
 *    here.
 *
 * Every function returns 0, or -1 when its input is invalid (out is then
 * zeroed: found = 0, rising = 0).
 */
#ifndef SP_BP_MATH_H
#define SP_BP_MATH_H

#include <stddef.h>

#define SP_KNEE_S_DEFAULT 1.0
#define SP_TREND_RISE_DEFAULT 0.5
#define SP_TREND_Z_DEFAULT 2.326 /* one-sided p = 0.01 */

enum sp_knee_shape {
	SP_KNEE_CONCAVE = 0, /* throughput against offered load */
	SP_KNEE_CONVEX,      /* latency against offered load */
};

struct sp_knee {
	int found;
	size_t idx;  /* of the knee in x[] */
	double x, y; /* x[idx], y[idx] as given */
	double d;    /* D_max, the difference curve's peak, in [0, 1] */
	double t;    /* the paper's threshold, D_max - S / (n - 1) */
};

/* Kneedle on (x[i], y[i]), i < n; s: the sensitivity (>= 0). -1 when x is
 * not strictly increasing, a value is not finite or s < 0. */
int sp_knee_find(const double *x, const double *y, size_t n,
		 enum sp_knee_shape shape, double s, struct sp_knee *out);

struct sp_usl {
	double lambda, sigma, kappa;
	double r2;
	double peak_n; /* N*, INFINITY when kappa == 0 */
	double peak_x; /* X(N*), or the asymptote when kappa == 0 */
};

/* X(N) under the law with @u's parameters. */
double sp_usl_eval(const struct sp_usl *u, double n);

/* Fit points (n[i], x[i]), i < count. -1 when count < 3, fewer than 3
 * distinct n, some n < 1 or x < 0, no x > 0 or a value not finite. */
int sp_usl_fit(const double *n, const double *x, size_t count,
	       struct sp_usl *out);

struct sp_trend {
	double slope; /* least squares, value units per time unit */
	double rel;   /* slope * span / mean */
	double mk_z;  /* Mann-Kendall Z */
	long mk_s;    /* Mann-Kendall S */
	int rising;
};

/* Judge (t[i], v[i]), i < n. -1 when n < 3, t is not strictly increasing
 * or a value is not finite. */
int sp_trend_eval(const double *t, const double *v, size_t n, double min_rise,
		  double z_crit, struct sp_trend *out);

#endif /* SP_BP_MATH_H */
