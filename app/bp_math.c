/*
 * The capacity hunt's numbers: Kneedle, the Universal Scalability Law fit,
 * the latency trend of a step. What each computes and why, with sources:
 * sp_bp_math.h. Pure functions: no allocation, no I/O, no state.
 */
#include <math.h>
#include <string.h>

#include "sp_bp_math.h"

static int
all_finite(const double *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

static int
strictly_increasing(const double *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (!(a[i] > a[i - 1]))
			return 0;
	return 1;
}

/* ---- Kneedle ---------------------------------------------------------- */

int
sp_knee_find(const double *x, const double *y, size_t n,
	     enum sp_knee_shape shape, double s, struct sp_knee *out)
{
	memset(out, 0, sizeof(*out));
	if (!(s >= 0) || !isfinite(s) || !all_finite(x, n) ||
	    !all_finite(y, n) || !strictly_increasing(x, n) ||
	    (shape != SP_KNEE_CONCAVE && shape != SP_KNEE_CONVEX))
		return -1;
	if (n < 3)
		return 0;

	/* The running maximum of y starts at y[0] and ends at max(y): those
	 * are the bounds of the normalised square. */
	double ymax = y[0];
	for (size_t i = 1; i < n; i++)
		ymax = fmax(ymax, y[i]);
	double xr = x[n - 1] - x[0], yr = ymax - y[0];
	if (!(yr > 0))
		return 0; /* flat (or only falling): no bend to find */

	/* D for the concave shape; its negative is the convex shape's D
	 * (the 180-degree rotation, see the header). */
	double sign = shape == SP_KNEE_CONVEX ? -1.0 : 1.0;
	double run = y[0], dmax = -INFINITY;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		run = fmax(run, y[i]);
		double d = sign * ((run - y[0]) / yr - (x[i] - x[0]) / xr);
		if (d > dmax) {
			dmax = d;
			k = i;
		}
	}

	/* The paper's threshold: the mean spacing of the normalised x is
	 * exactly 1 / (n - 1) (the spacings telescope to 1). */
	double t = dmax - s / (double)(n - 1);
	int found = 0;
	run = y[0];
	for (size_t i = 0; i < n; i++) {
		run = fmax(run, y[i]);
		double d = sign * ((run - y[0]) / yr - (x[i] - x[0]) / xr);
		int beyond = shape == SP_KNEE_CONVEX ? i < k : i > k;
		if (beyond && d < t)
			found = 1;
	}
	out->d = dmax;
	out->t = t;
	/* An end point is no knee: there D = 0 by construction, and a
	 * maximum there means the curve bends the other way. */
	if (found && k > 0 && k < n - 1) {
		out->found = 1;
		out->idx = k;
		out->x = x[k];
		out->y = y[k];
	}
	return 0;
}

/* ---- Universal Scalability Law ---------------------------------------- */

double
sp_usl_eval(const struct sp_usl *u, double n)
{
	return u->lambda * n /
	       (1 + u->sigma * (n - 1) + u->kappa * n * (n - 1));
}

/* p = { lambda, sigma, kappa } */
static double
usl_sse(const double *n, const double *x, size_t c, const double *p)
{
	struct sp_usl u = { .lambda = p[0], .sigma = p[1], .kappa = p[2] };
	double sse = 0;

	for (size_t i = 0; i < c; i++) {
		double r = x[i] - sp_usl_eval(&u, n[i]);
		sse += r * r;
	}
	return sse;
}

/* For fixed sigma and kappa the model is lambda * g(N): the least-squares
 * lambda is sum(x g) / sum(g g). Sets p[0], returns the SSE. */
static double
usl_profile(const double *n, const double *x, size_t c, double *p)
{
	double sxg = 0, sgg = 0;

	for (size_t i = 0; i < c; i++) {
		double g = n[i] /
			   (1 + p[1] * (n[i] - 1) + p[2] * n[i] * (n[i] - 1));
		sxg += x[i] * g;
		sgg += g * g;
	}
	p[0] = sgg > 0 ? sxg / sgg : 0;
	return usl_sse(n, x, c, p);
}

/* Solve m z = b for the first k unknowns (k <= 3), Gaussian elimination
 * with partial pivoting. -1 when singular. */
static int
solve3(double m[3][3], double *b, size_t k, double *z)
{
	for (size_t c = 0; c < k; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < k; r++)
			if (fabs(m[r][c]) > fabs(m[piv][c]))
				piv = r;
		if (!(fabs(m[piv][c]) > 0))
			return -1;
		for (size_t j = 0; j < k; j++) {
			double t = m[c][j];
			m[c][j] = m[piv][j];
			m[piv][j] = t;
		}
		double t = b[c];
		b[c] = b[piv];
		b[piv] = t;
		for (size_t r = c + 1; r < k; r++) {
			double f = m[r][c] / m[c][c];
			for (size_t j = c; j < k; j++)
				m[r][j] -= f * m[c][j];
			b[r] -= f * b[c];
		}
	}
	for (size_t c = k; c-- > 0;) {
		double s = b[c];
		for (size_t j = c + 1; j < k; j++)
			s -= m[c][j] * z[j];
		z[c] = s / m[c][c];
	}
	return 0;
}

/*
 * Levenberg-Marquardt from @p on all three parameters. The damped normal
 * equations (J'J + mu diag(J'J)) d = J'r are solved after scaling by the
 * diagonal (unit diagonal: lambda ~ 10^3 and kappa ~ 10^-4 would otherwise
 * make the system hopeless). Bounds: sigma and kappa are clamped at 0, and
 * one sitting at 0 whose descent direction points below 0 ((J'r)_k <= 0,
 * the SSE's gradient -2 J'r being >= 0 there: the bound's KKT condition)
 * is left out of the step (active set), so the rest can still move.
 */
static double
usl_lm(const double *n, const double *x, size_t c, double *p, double sse)
{
	double mu = 1e-3;

	for (int it = 0; it < 500 && sse > 0; it++) {
		double a[3][3] = { { 0 } }, g[3] = { 0 };
		for (size_t i = 0; i < c; i++) {
			double d = 1 + p[1] * (n[i] - 1) +
				   p[2] * n[i] * (n[i] - 1);
			double f = p[0] * n[i] / d;
			double j[3] = { n[i] / d, -f * (n[i] - 1) / d,
					-f * n[i] * (n[i] - 1) / d };
			for (int r = 0; r < 3; r++) {
				g[r] += j[r] * (x[i] - f);
				for (int q = 0; q < 3; q++)
					a[r][q] += j[r] * j[q];
			}
		}
		size_t fr[3], k = 0; /* the free parameters */
		for (size_t r = 0; r < 3; r++)
			if (a[r][r] > 0 && !(r > 0 && p[r] == 0 && g[r] <= 0))
				fr[k++] = r;
		if (k == 0)
			break;

		int accepted = 0;
		while (!accepted && mu < 1e12) {
			double m[3][3], b[3], z[3], pn[3];
			for (size_t r = 0; r < k; r++) {
				double sr = sqrt(a[fr[r]][fr[r]]);
				for (size_t q = 0; q < k; q++)
					m[r][q] = a[fr[r]][fr[q]] /
						  (sr * sqrt(a[fr[q]][fr[q]]));
				m[r][r] = 1 + mu;
				b[r] = g[fr[r]] / sr;
			}
			memcpy(pn, p, sizeof(pn));
			if (solve3(m, b, k, z) == 0) {
				for (size_t r = 0; r < k; r++)
					pn[fr[r]] += z[r] /
						     sqrt(a[fr[r]][fr[r]]);
				pn[1] = fmax(pn[1], 0);
				pn[2] = fmax(pn[2], 0);
				double sn = pn[0] > 0 ? usl_sse(n, x, c, pn) :
							INFINITY;
				if (sn < sse) {
					double gain = sse - sn;
					memcpy(p, pn, sizeof(pn));
					sse = sn;
					mu = fmax(mu / 10, 1e-12);
					accepted = 1;
					if (gain <= 1e-15 * sse)
						return sse;
					break;
				}
			}
			mu *= 10;
		}
		if (!accepted)
			break; /* no step lowers the SSE: a (bounded) minimum */
	}
	return sse;
}

int
sp_usl_fit(const double *n, const double *x, size_t count, struct sp_usl *out)
{
	memset(out, 0, sizeof(*out));
	if (count < 3 || !all_finite(n, count) || !all_finite(x, count))
		return -1;
	size_t distinct = 0;
	double nmax = 1, xmax = 0;
	for (size_t i = 0; i < count; i++) {
		if (n[i] < 1 || x[i] < 0)
			return -1;
		size_t j = 0;
		while (j < i && n[j] != n[i])
			j++;
		distinct += j == i;
		nmax = fmax(nmax, n[i]);
		xmax = fmax(xmax, x[i]);
	}
	if (distinct < 3 || !(xmax > 0))
		return -1;

	/*
	 * The grid: 0 and quarter decades from where the term would change X
	 * by about 1e-4 at the largest N, up to 10 (sigma) and 1 (kappa: the
	 * peak at N = 1). The SSE of the
	 * law is not convex in (sigma, kappa); the grid puts the local search
	 * in the right valley.
	 */
	double p[3], best[3] = { 0 }, bsse = INFINITY;
	double es0 = floor(4 * log10(1e-4 / nmax)) / 4;
	double ek0 = floor(4 * log10(1e-4 / (nmax * nmax))) / 4;
	for (double es = es0 - 0.25; es <= 1 + 1e-9; es += 0.25) {
		for (double ek = ek0 - 0.25; ek <= 1e-9; ek += 0.25) {
			/* The first step of each loop stands for 0. */
			p[1] = es < es0 ? 0 : pow(10, es);
			p[2] = ek < ek0 ? 0 : pow(10, ek);
			double sse = usl_profile(n, x, count, p);
			if (sse < bsse) {
				bsse = sse;
				memcpy(best, p, sizeof(best));
			}
		}
	}
	bsse = usl_lm(n, x, count, best, bsse);

	out->lambda = best[0];
	out->sigma = best[1];
	out->kappa = best[2];
	double mean = 0, sst = 0;
	for (size_t i = 0; i < count; i++)
		mean += x[i] / (double)count;
	for (size_t i = 0; i < count; i++)
		sst += (x[i] - mean) * (x[i] - mean);
	out->r2 = sst > 0 ? 1 - bsse / sst : bsse > 0 ? 0 : 1;

	if (out->kappa > 0) {
		/* Below N = 1 the law has no meaning: a peak there means X
		 * falls from the first user on. */
		out->peak_n = out->sigma >= 1 ?
				      1 :
				      fmax(1,
					   sqrt((1 - out->sigma) / out->kappa));
		out->peak_x = sp_usl_eval(out, out->peak_n);
	} else {
		out->peak_n = INFINITY;
		out->peak_x = out->sigma > 0 ? out->lambda / out->sigma :
					       INFINITY;
	}
	return 0;
}

/* ---- Trend of a step -------------------------------------------------- */

int
sp_trend_eval(const double *t, const double *v, size_t n, double min_rise,
	      double z_crit, struct sp_trend *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 3 || !all_finite(t, n) || !all_finite(v, n) ||
	    !strictly_increasing(t, n) || !isfinite(min_rise) ||
	    !isfinite(z_crit))
		return -1;

	double mt = 0, mv = 0, sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		mt += t[i] / (double)n;
		mv += v[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		sxx += (t[i] - mt) * (t[i] - mt);
		sxy += (t[i] - mt) * (v[i] - mv);
	}
	out->slope = sxy / sxx; /* sxx > 0: t strictly increasing */
	out->rel = mv > 0 ? out->slope * (t[n - 1] - t[0]) / mv : 0;

	/* Mann-Kendall S, and the tie term sum t_g (t_g - 1) (2 t_g + 5)
	 * over groups of equal values, each group counted at its first
	 * member. */
	long s = 0;
	double ties = 0;
	for (size_t i = 0; i < n; i++) {
		int first = 1;
		double eq = 1;
		for (size_t j = 0; j < n; j++) {
			if (j == i || v[j] != v[i]) {
				if (j > i)
					s += (v[j] > v[i]) - (v[j] < v[i]);
				continue;
			}
			eq++;
			if (j < i)
				first = 0;
		}
		if (first)
			ties += eq * (eq - 1) * (2 * eq + 5);
	}
	double dn = (double)n;
	double var = (dn * (dn - 1) * (2 * dn + 5) - ties) / 18;
	out->mk_s = s;
	if (var > 0 && s != 0)
		out->mk_z = (double)(s > 0 ? s - 1 : s + 1) / sqrt(var);
	out->rising = out->rel > min_rise && out->mk_z > z_crit;
	return 0;
}
