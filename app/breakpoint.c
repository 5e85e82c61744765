/*
 * The capacity hunt's controller (sp_bp.h), on the control lcore: once a
 * second it reads the merged figures, judges the step whose window just
 * closed and sets the engines' next target. The engines only read the
 * target (sp_vu_config.live); nothing here touches the hot path.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_app.h"
#include "sp_bp.h"
#include "sp_bp_math.h"
#include "sp_run.h"
#include "sp_threshold.h"
#include "sp_vu.h"

#define SP_BP_BUSY_LIMIT 95.0 /* % of a worker's loop: the generator's */
/* Frames the port missed, per request of the step, above which they are
 * the generator's limit: each costs one request a retransmission, so
 * fewer than one in a thousand cannot move even a p(99.9). */
#define SP_BP_NIC_PER_REQ 0.001

_Static_assert(SP_VU_E_N <= 32, "struct sp_bp_step.err holds every kind");

static void sp_bp_go(struct sp_bp *b, double target, uint64_t el_us,
		     int rest);

int
sp_bp_init(struct sp_bp *b, const struct sp_bp_cfg *cfg, uint64_t *live)
{
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	if (b->cfg.start <= 0)
		b->cfg.start = b->cfg.control == SP_BP_VUS ? 1 : 100;
	b->live = live;
	b->at = calloc(1, sizeof(*b->at));
	b->delta = calloc(1, sizeof(*b->delta));
	if (b->at == NULL || b->delta == NULL)
		return -1;
	b->phase = SP_BP_GROW;
	sp_bp_go(b, b->cfg.start, 0, 0);
	return 0;
}

void
sp_bp_fini(struct sp_bp *b)
{
	free(b->at);
	free(b->delta);
	b->at = b->delta = NULL;
}

static uint64_t
sp_bp_len(const struct sp_bp *b)
{
	return b->phase == SP_BP_GROW  ? b->cfg.step_us :
	       b->phase == SP_BP_PROBE ? b->cfg.probe_us :
					 b->cfg.confirm_us;
}

/* Start a step at @target from @el_us, after a rest (nothing offered
 * for rest_us) when @rest. */
static void
sp_bp_go(struct sp_bp *b, double target, uint64_t el_us, int rest)
{
	b->resting = (uint8_t)rest;
	b->t_step = el_us;
	b->t_window = el_us + (rest ? b->cfg.rest_us : b->cfg.warmup_us);
	b->window_open = 0;
	b->nlat = 0;
	b->target = target;
	sp_vu_live_set(b->live, rest ? 0 : target);
}

/* The workers' busy time and refused frames, summed; the busiest
 * worker's share of @win_us since the window opened. */
static double
sp_bp_busy(struct sp_bp *b, const struct sp_run *r, uint64_t win_us,
	   uint64_t *tx_full, int open)
{
	double most = 0;
	uint64_t tx = 0;

	for (uint32_t c = 0; c < r->ncores && c < 64; c++) {
		uint64_t busy = sp_ctr_read(r->w[c].busy_tsc);

		tx += sp_ctr_read(r->w[c].tx_dropped);
		if (open) {
			b->busy_tsc[c] = busy;
			continue;
		}
		if (win_us != 0) {
			double pct = 100.0 *
				     (double)sp_tsc_to_us(busy - b->busy_tsc[c]) /
				     (double)win_us;

			if (pct > most)
				most = pct;
		}
	}
	if (open)
		b->tx_full0 = tx;
	else
		*tx_full = tx - b->tx_full0;
	return most;
}

/* Frames the port missed so far: its ring full (imissed) or no mbuf. */
static uint64_t
sp_bp_nic(struct sp_run *r)
{
	struct sp_nic_stats ns;

	sp_port_stats(r->w[0].port, &ns);
	return ns.imissed + ns.rx_nombuf;
}

/*
 * Whether latency kept rising through the window: the per-second p50s'
 * least-squares slope carried over the window adds more than half the
 * window's mean, and the last third's mean is above the first third's by
 * as much. A single spike moves neither enough.
 */
static int
sp_bp_rising_short(const struct sp_bp *b);

/* With ten samples or more, the Mann-Kendall test (sp_bp_math.h): one
 * spike cannot make a trend; under ten, the rule below. */
static int
sp_bp_rising(const struct sp_bp *b)
{
	struct sp_trend tr;

	if (b->nlat >= 10 &&
	    sp_trend_eval(b->lat_t, b->lat_v, b->nlat, SP_TREND_RISE_DEFAULT,
			  SP_TREND_Z_DEFAULT, &tr) == 0)
		return tr.rising;
	return sp_bp_rising_short(b);
}

static int
sp_bp_rising_short(const struct sp_bp *b)
{
	uint32_t n = b->nlat, k = n / 3;
	double sx = 0, sy = 0, sxx = 0, sxy = 0, mean, slope, a = 0, z = 0;

	if (n < 3)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		sx += b->lat_t[i];
		sy += b->lat_v[i];
		sxx += b->lat_t[i] * b->lat_t[i];
		sxy += b->lat_t[i] * b->lat_v[i];
	}
	mean = sy / n;
	if (sxx * n - sx * sx <= 0 || mean <= 0)
		return 0;
	slope = (sxy * n - sx * sy) / (sxx * n - sx * sx);
	for (uint32_t i = 0; i < k; i++) {
		a += b->lat_v[i];
		z += b->lat_v[n - 1 - i];
	}
	return slope * (b->lat_t[n - 1] - b->lat_t[0]) > 0.5 * mean &&
	       k != 0 && z > 1.5 * a;
}

/* Judge the window that just closed into a new step row. */
static struct sp_bp_step *
sp_bp_judge(struct sp_bp *b, struct sp_run *r, uint64_t el_us)
{
	struct sp_bp_step *st;
	const struct sp_vu_stats *d = b->delta;
	uint64_t win_us = el_us > b->t_window ? el_us - b->t_window : 0;
	uint64_t nic;
	double secs = (double)win_us / 1e6;

	if (b->nsteps == SP_BP_MAX_STEPS)
		return NULL;
	st = &b->steps[b->nsteps++];
	memset(st, 0, sizeof(*st));
	sp_run_merge(r);
	sp_run_stats_delta(b->delta, r->tot, b->at);
	st->kind = b->phase;
	st->offered = b->target;
	st->start_s = (double)b->t_step / 1e6;
	st->window_s = secs;
	st->requests = d->requests;
	st->responses = d->responses;
	st->errors = d->failed;
	st->dropped = d->it_dropped;
	st->achieved = secs > 0 ? (double)d->responses / secs : 0;
	st->p50_us = sp_hist_quantile(&d->latency, 0.50);
	st->p95_us = sp_hist_quantile(&d->latency, 0.95);
	st->p99_us = sp_hist_quantile(&d->latency, 0.99);
	st->p999_us = sp_hist_quantile(&d->latency, 0.999);
	st->busy = sp_bp_busy(b, r, win_us, &st->tx_full, 0);
	nic = sp_bp_nic(r);
	st->nic_drops = nic > b->nic0 ? nic - b->nic0 : 0;
	for (unsigned k = 0; k < SP_VU_E_N && k < 32; k++)
		st->err[k] = d->err[k];
	st->rising = (uint8_t)sp_bp_rising(b);
	/* The generator's own limits first: a busy loop or a full TX ring
	 * makes latency of its own, which is not the server's. */
	if (st->busy >= SP_BP_BUSY_LIMIT || st->tx_full != 0 ||
	    (double)st->nic_drops > SP_BP_NIC_PER_REQ * (double)st->requests) {
		st->verdict = SP_BP_GENERATOR;
		snprintf(st->why, sizeof(st->why),
			 "the generator's loop was %.0f%% busy, its TX ring "
			 "full %" PRIu64 " times, its port missed %" PRIu64
			 " frames",
			 st->busy, st->tx_full, st->nic_drops);
		return st;
	}
	/* Then the SLOs on what was served. Arrivals dropped for want of
	 * an idle VU are judged after: when the server's latency broke its
	 * SLO, its slowness held the VUs (Little's law) and the failure is
	 * the server's; when it did not, max_vus was too few for the rate:
	 * the generator's. */
	for (uint32_t i = 0; i < r->rp.nthresholds; i++) {
		const struct sp_threshold *t = &r->rp.thresholds[i];
		double v;

		if (t->scope != SP_TH_GLOBAL || t->stat == SP_TH_DROPPED ||
		    t->stat == SP_TH_DROPPED_SHARE)
			continue;
		v = sp_run_th_value_of(r, t, d, secs);
		if (!sp_threshold_holds(t, v)) {
			st->verdict = SP_BP_FAIL;
			snprintf(st->why, sizeof(st->why), "%s (%.3f)",
				 t->expr, sp_threshold_shown(t, v));
			return st;
		}
	}
	if (st->rising) {
		st->verdict = SP_BP_FAIL;
		snprintf(st->why, sizeof(st->why),
			 "latency kept rising (p50 %.1f to %.1f ms)",
			 b->lat_v[0], b->lat_v[b->nlat - 1]);
		return st;
	}
	if (st->dropped != 0) {
		st->verdict = SP_BP_GENERATOR;
		snprintf(st->why, sizeof(st->why),
			 "%" PRIu64 " arrivals found no idle VU while the "
			 "SLOs held: max_vus too few for this rate",
			 st->dropped);
		return st;
	}
	if (st->responses == 0) {
		st->verdict = SP_BP_FAIL;
		snprintf(st->why, sizeof(st->why), "no response");
	}
	return st;
}

static double
sp_bp_grow(const struct sp_bp *b, double x)
{
	double n = b->cfg.increment > 0 ? x + b->cfg.increment :
					  x * b->cfg.factor;

	if (b->cfg.control == SP_BP_VUS)
		n = ceil(n);
	return n;
}

/* The highest target that held below @hi in any step but a failed
 * confirmation's, or 0. */
static double
sp_bp_best_below(const struct sp_bp *b, double hi)
{
	double lo = 0;

	for (uint32_t i = 0; i < b->nsteps; i++)
		if (b->steps[i].verdict == SP_BP_PASS &&
		    b->steps[i].offered < hi && b->steps[i].offered > lo)
			lo = b->steps[i].offered;
	return lo;
}

/* Where to go after the verdict on the current step: the next step, or
 * an outcome. */
static void
sp_bp_next(struct sp_bp *b, const struct sp_bp_step *st, uint64_t el_us)
{
	int pass = st->verdict == SP_BP_PASS;
	double next;

	if (st->verdict == SP_BP_GENERATOR) {
		b->gen_at = b->target;
		b->outcome = SP_BP_GEN_LIMIT;
		return;
	}
	if (pass && b->target > b->lo)
		b->lo = b->target;
	if (!pass && (b->hi == 0 || b->target < b->hi))
		b->hi = b->target;
	if (b->phase == SP_BP_CONFIRM) {
		if (pass) {
			b->capacity = b->target;
			b->outcome = b->hi == 0 ? SP_BP_AT_MAX : SP_BP_FOUND;
			return;
		}
		/* It held briefly, not for long: the search goes on below
		 * it. */
		b->hi = b->target;
		b->lo = sp_bp_best_below(b, b->hi);
	}
	if (b->phase == SP_BP_GROW && pass) {
		if (b->cfg.max > 0 && b->target >= b->cfg.max) {
			b->phase = SP_BP_CONFIRM;
			sp_bp_go(b, b->target, el_us, 0);
			return;
		}
		next = sp_bp_grow(b, b->target);
		if (b->cfg.max > 0 && next > b->cfg.max)
			next = b->cfg.max;
		sp_bp_go(b, next, el_us, 0);
		return;
	}
	if (b->lo == 0 && b->phase == SP_BP_GROW) {
		b->outcome = SP_BP_NONE_PASSED;
		return;
	}
	/* Between lo and hi: probes until they are close, then confirm lo
	 * (VUs: until they are next to each other). */
	if (b->lo > 0 && ((b->hi - b->lo) / b->lo <= b->cfg.precision ||
			  (b->cfg.control == SP_BP_VUS && b->hi - b->lo <= 1))) {
		b->phase = SP_BP_CONFIRM;
		sp_bp_go(b, b->lo, el_us, !pass);
		return;
	}
	next = (b->lo + b->hi) / 2;
	if (b->cfg.control == SP_BP_VUS)
		next = floor(next + 0.5);
	if (next <= 0) {
		b->outcome = SP_BP_NONE_PASSED;
		return;
	}
	b->phase = SP_BP_PROBE;
	sp_bp_go(b, next, el_us, !pass);
}

int
sp_bp_tick(struct sp_bp *b, struct sp_run *r, const struct sp_run_point *p,
	   uint64_t el_us)
{
	const struct sp_bp_step *st;
	uint64_t dummy;

	if (b->outcome != SP_BP_RUNNING)
		return 1;
	if (b->resting) {
		if (el_us < b->t_window)
			return 0;
		/* Rested: the step that was set goes now. */
		sp_bp_go(b, b->target, el_us, 0);
		return 0;
	}
	if (!b->window_open) {
		if (el_us < b->t_window)
			return 0;
		sp_run_merge(r);
		memcpy(b->at, r->tot, sizeof(*b->at));
		sp_bp_busy(b, r, 0, &dummy, 1);
		b->nic0 = sp_bp_nic(r);
		b->t_window = el_us;
		b->window_open = 1;
		return 0;
	}
	if (p != NULL && b->nlat < 600 && p->responses != 0) {
		b->lat_t[b->nlat] = (double)el_us / 1e6;
		b->lat_v[b->nlat++] = (double)p->p50_us / 1e3;
	}
	if (el_us < b->t_step + sp_bp_len(b))
		return 0;
	st = sp_bp_judge(b, r, el_us);
	if (st == NULL) {
		b->outcome = SP_BP_UNCONFIRMED;
		return 1;
	}
	sp_bp_next(b, st, el_us);
	if (b->outcome != SP_BP_RUNNING)
		sp_vu_live_set(b->live, 0);
	return b->outcome != SP_BP_RUNNING;
}

void
sp_bp_end(struct sp_bp *b)
{
	if (b->outcome == SP_BP_RUNNING)
		b->outcome = b->lo > 0 || b->nsteps == 0 ? SP_BP_UNCONFIRMED :
							   SP_BP_NONE_PASSED;
}

int
sp_bp_exit(const struct sp_bp *b)
{
	switch (b->outcome) {
	case SP_BP_FOUND:
	case SP_BP_AT_MAX:
		return SP_EXIT_OK;
	case SP_BP_GEN_LIMIT:
		return SP_EXIT_NORUN;
	default:
		return SP_EXIT_FAILED;
	}
}

static const char *
sp_bp_kind_name(uint8_t k)
{
	return k == SP_BP_GROW ? "grow" : k == SP_BP_PROBE ? "probe" :
							     "confirm";
}

static const char *
sp_bp_verdict_name(uint8_t v)
{
	return v == SP_BP_PASS ? "pass" : v == SP_BP_FAIL ? "fail" :
		v == SP_BP_GENERATOR				 ? "generator" :
								   "cut";
}

static const char *
sp_bp_outcome_text(const struct sp_bp *b)
{
	switch (b->outcome) {
	case SP_BP_FOUND:
		return "found and confirmed";
	case SP_BP_AT_MAX:
		return "every step held up to max (confirmed there): the "
		       "capacity is at least that";
	case SP_BP_NONE_PASSED:
		return "no step held its SLOs";
	case SP_BP_GEN_LIMIT:
		return "the generator broke first";
	default:
		return "not confirmed before the run ended";
	}
}

/* The steps the server was judged on (not the generator's), by offered
 * load, the highest of equal ones kept last: x offered, y achieved
 * and p99 (ms). Their count. */
static size_t
sp_bp_curve(const struct sp_bp *b, double *x, double *thr, double *p99)
{
	size_t n = 0;

	for (uint32_t i = 0; i < b->nsteps; i++) {
		const struct sp_bp_step *s = &b->steps[i];
		size_t k;

		if (s->verdict == SP_BP_GENERATOR || s->verdict == SP_BP_CUT)
			continue;
		/* insertion by offered; a repeat replaces (the later,
		 * longer measure wins) */
		for (k = 0; k < n && x[k] < s->offered; k++)
			;
		if (k < n && x[k] == s->offered) {
			thr[k] = s->achieved;
			p99[k] = (double)s->p99_us / 1e3;
			continue;
		}
		memmove(x + k + 1, x + k, (n - k) * sizeof(*x));
		memmove(thr + k + 1, thr + k, (n - k) * sizeof(*thr));
		memmove(p99 + k + 1, p99 + k, (n - k) * sizeof(*p99));
		x[k] = s->offered;
		thr[k] = s->achieved;
		p99[k] = (double)s->p99_us / 1e3;
		n++;
	}
	return n;
}

struct sp_bp_analysis {
	struct sp_knee thr, lat;
	struct sp_usl usl;
	int have_usl;
};

static void
sp_bp_analyse(const struct sp_bp *b, struct sp_bp_analysis *a)
{
	double x[SP_BP_MAX_STEPS], thr[SP_BP_MAX_STEPS], p99[SP_BP_MAX_STEPS];
	size_t n = sp_bp_curve(b, x, thr, p99);

	memset(a, 0, sizeof(*a));
	if (sp_knee_find(x, thr, n, SP_KNEE_CONCAVE, SP_KNEE_S_DEFAULT,
			 &a->thr) < 0)
		a->thr.found = 0;
	if (sp_knee_find(x, p99, n, SP_KNEE_CONVEX, SP_KNEE_S_DEFAULT,
			 &a->lat) < 0)
		a->lat.found = 0;
	a->have_usl = b->cfg.control == SP_BP_VUS &&
		      sp_usl_fit(x, thr, n, &a->usl) == 0;
}

void
sp_bp_print(const struct sp_bp *b, FILE *out)
{
	struct sp_bp_analysis a;
	const char *unit = b->cfg.control == SP_BP_VUS ? "VUs" : "req/s";

	fprintf(out, "  breakpoint      %s", sp_bp_outcome_text(b));
	if (b->outcome == SP_BP_FOUND || b->outcome == SP_BP_AT_MAX)
		fprintf(out, ": capacity %.0f %s", b->capacity, unit);
	else if (b->outcome == SP_BP_GEN_LIMIT)
		fprintf(out, " at %.0f %s: not a capacity of the server's",
			b->gen_at, unit);
	else if (b->lo > 0)
		fprintf(out, " (held up to %.0f %s)", b->lo, unit);
	sp_bp_analyse(b, &a);
	if (a.thr.found || a.lat.found) {
		char kt[48] = "none", kl[48] = "none";

		if (a.thr.found)
			snprintf(kt, sizeof(kt), "at %.0f %s", a.thr.x, unit);
		if (a.lat.found)
			snprintf(kl, sizeof(kl), "at %.0f %s", a.lat.x, unit);
		fprintf(out,
			"\n  knee            throughput %s, latency %s "
			"(Kneedle)",
			kt, kl);
	}
	if (a.have_usl)
		fprintf(out,
			"\n  usl             sigma %.4f kappa %.6f: peak %.0f "
			"VUs at %.0f req/s (R^2 %.3f)",
			a.usl.sigma, a.usl.kappa, a.usl.peak_n, a.usl.peak_x,
			a.usl.r2);
	fprintf(out, "\n  %-8s %10s %10s %9s %9s %9s %9s %8s %8s %6s  %s\n",
		"step", "offered", "achieved", "p50 ms", "p95 ms", "p99 ms",
		"p99.9 ms", "errors", "dropped", "busy", "verdict");
	for (uint32_t i = 0; i < b->nsteps; i++) {
		const struct sp_bp_step *s = &b->steps[i];

		fprintf(out,
			"  %-8s %10.1f %10.1f %9.3f %9.3f %9.3f %9.3f %8" PRIu64
			" %8" PRIu64 " %5.0f%%  %s%s%s\n",
			sp_bp_kind_name(s->kind), s->offered, s->achieved,
			(double)s->p50_us / 1e3, (double)s->p95_us / 1e3,
			(double)s->p99_us / 1e3, (double)s->p999_us / 1e3,
			s->errors, s->dropped, s->busy,
			sp_bp_verdict_name(s->verdict), s->why[0] ? ": " : "",
			s->why);
	}
}

void
sp_bp_json(const struct sp_bp *b, FILE *f)
{
	static const char *const outcomes[] = {
		[SP_BP_RUNNING] = "cut",
		[SP_BP_FOUND] = "found",
		[SP_BP_NONE_PASSED] = "none_passed",
		[SP_BP_GEN_LIMIT] = "generator_limit",
		[SP_BP_UNCONFIRMED] = "unconfirmed",
		[SP_BP_AT_MAX] = "at_max",
	};

	fprintf(f,
		" \"breakpoint\":{\"control\":\"%s\",\"outcome\":\"%s\","
		"\"capacity\":",
		b->cfg.control == SP_BP_VUS ? "vus" : "rate",
		outcomes[b->outcome]);
	if (b->outcome == SP_BP_FOUND || b->outcome == SP_BP_AT_MAX)
		fprintf(f, "%.17g", b->capacity);
	else
		fprintf(f, "null");
	fprintf(f, ",\"held_up_to\":%.17g,\"failed_at\":%.17g,\"limited_by\":",
		b->lo, b->hi);
	if (b->outcome == SP_BP_GEN_LIMIT)
		fprintf(f, "\"generator\"");
	else if (b->outcome == SP_BP_FOUND)
		fprintf(f, "\"server\"");
	else
		fprintf(f, "null");
	{
		struct sp_bp_analysis a;

		sp_bp_analyse(b, &a);
		fprintf(f, ",\"knee\":{\"throughput\":");
		if (a.thr.found)
			fprintf(f, "%.17g", a.thr.x);
		else
			fprintf(f, "null");
		fprintf(f, ",\"latency\":");
		if (a.lat.found)
			fprintf(f, "%.17g", a.lat.x);
		else
			fprintf(f, "null");
		fprintf(f, "},\"usl\":");
		if (a.have_usl)
			fprintf(f,
				"{\"lambda\":%.17g,\"sigma\":%.17g,"
				"\"kappa\":%.17g,\"r2\":%.17g,"
				"\"peak_vus\":%.17g,\"peak_rps\":%.17g}",
				a.usl.lambda, a.usl.sigma, a.usl.kappa,
				a.usl.r2, isfinite(a.usl.peak_n) ?
						  a.usl.peak_n : -1,
				isfinite(a.usl.peak_x) ? a.usl.peak_x : -1);
		else
			fprintf(f, "null");
	}
	fprintf(f, ",\"steps\":[");
	for (uint32_t i = 0; i < b->nsteps; i++) {
		const struct sp_bp_step *s = &b->steps[i];

		fprintf(f,
			"%s{\"kind\":\"%s\",\"offered\":%.17g,\"achieved\":%.17g,"
			"\"start_s\":%.3f,\"window_s\":%.3f,\"requests\":%" PRIu64
			",\"responses\":%" PRIu64 ",\"errors\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"p50_ms\":%.3f,\"p95_ms\":%.3f"
			",\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"busy_pct\":%.1f"
			",\"tx_ring_full\":%" PRIu64 ",\"nic_drops\":%" PRIu64
			",\"rising\":%s"
			",\"verdict\":\"%s\",\"why\":",
			i ? "," : "", sp_bp_kind_name(s->kind), s->offered,
			s->achieved, s->start_s, s->window_s, s->requests,
			s->responses, s->errors, s->dropped,
			(double)s->p50_us / 1e3, (double)s->p95_us / 1e3,
			(double)s->p99_us / 1e3, (double)s->p999_us / 1e3,
			s->busy, s->tx_full, s->nic_drops,
			s->rising ? "true" : "false",
			sp_bp_verdict_name(s->verdict));
		sp_json_str(f, s->why);
		fprintf(f, ",\"errors_by_kind\":{");
		for (unsigned k = 0, n = 0; k < SP_VU_E_N && k < 32; k++)
			if (s->err[k] != 0)
				fprintf(f, "%s\"%s\":%" PRIu64, n++ ? "," : "",
					sp_vu_err_name((enum sp_vu_err)k),
					s->err[k]);
		fputs("}}", f);
	}
	fprintf(f, "]},\n");
}
