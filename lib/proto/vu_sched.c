/*
 * The virtual users' schedule (see vu_sched.h): stages, the closed
 * model's target and the open model's arrivals.
 */
#include <math.h>

#include "sp_vu.h"
#include "vu_sched.h"

void
sp_vu_shared_load(const struct sp_plan *pl, struct sp_load *out)
{
	out->model = pl->model;
	out->vus = pl->vus;
	out->rate = pl->rate;
	out->max_vus = 0; /* the engine's config says */
	out->start_us = 0;
	out->duration_us = pl->duration_us;
	out->nstages = pl->nstages;
	for (uint32_t i = 0; i < pl->nstages && i < SP_PLAN_MAX_STAGES; i++)
		out->stages[i] = pl->stages[i];
}

uint32_t
sp_vu_sched_load(const struct sp_load *ld, struct sp_vu_sched *out)
{
	double prev = 0.0;

	if (ld->nstages == 0) {
		double c = ld->model == SP_MODEL_OPEN ? ld->rate :
							(double)ld->vus;

		out[0].dur_us = ld->duration_us;
		out[0].from = out[0].to = c;
		return 1;
	}
	for (uint32_t i = 0; i < ld->nstages; i++) {
		out[i].dur_us = ld->stages[i].duration_us;
		out[i].from = prev;
		out[i].to = ld->stages[i].target;
		prev = out[i].to;
	}
	return ld->nstages;
}

uint32_t
sp_vu_sched_build(const struct sp_plan *pl, struct sp_vu_sched *out)
{
	struct sp_load ld;

	sp_vu_shared_load(pl, &ld);
	return sp_vu_sched_load(&ld, out);
}

uint32_t
sp_vu_sched_target(const struct sp_vu_sched *s, uint32_t n, uint64_t t_us)
{
	double x = s[n - 1].to;

	for (uint32_t i = 0; i < n; i++) {
		if (t_us < s[i].dur_us) {
			x = s[i].from + (s[i].to - s[i].from) * (double)t_us /
						(double)s[i].dur_us;
			break;
		}
		t_us -= s[i].dur_us;
	}
	return (uint32_t)floor(x + 1e-9);
}

uint32_t
sp_vu_target_at(const struct sp_plan *pl, uint64_t t_us)
{
	struct sp_vu_sched s[SP_PLAN_MAX_STAGES];

	return sp_vu_sched_target(s, sp_vu_sched_build(pl, s), t_us);
}

/* Arrivals in the first @t seconds of a stage. */
static double
sp_vu_stage_integral(const struct sp_vu_sched *s, double t)
{
	double d = (double)s->dur_us / 1e6;

	return s->from * t + (s->to - s->from) * t * t / (2.0 * d);
}

double
sp_vu_arrivals_at(const struct sp_plan *pl, uint64_t t_us)
{
	struct sp_vu_sched s[SP_PLAN_MAX_STAGES];
	uint32_t n = sp_vu_sched_build(pl, s);
	double sum = 0.0;

	for (uint32_t i = 0; i < n && t_us > 0; i++) {
		uint64_t part = t_us < s[i].dur_us ? t_us : s[i].dur_us;

		sum += sp_vu_stage_integral(&s[i], (double)part / 1e6);
		t_us -= part;
	}
	return sum;
}

/* Within a stage the rate is linear, so the integral is quadratic and
 * solved exactly. */
uint64_t
sp_vu_next_arrival(struct sp_vu_arrivals *w, uint64_t arrival)
{
	double k = (double)arrival;

	while (w->stage < w->nsched) {
		const struct sp_vu_sched *s = &w->sched[w->stage];
		double d = (double)s->dur_us / 1e6;
		double want = k - w->stage_n0, t = -1.0;
		double a = (s->to - s->from) / (2.0 * d), b = s->from;

		if (want <= sp_vu_stage_integral(s, d) + 1e-9) {
			if (fabs(a) < 1e-12)
				t = b > 0.0 ? want / b : -1.0;
			else
				t = (-b +
				     sqrt(fmax(b * b + 4.0 * a * want, 0.0))) /
				    (2.0 * a);
		}
		if (t >= 0.0 && t <= d)
			return w->stage_t0 + (uint64_t)llround(t * 1e6);
		w->stage_n0 += sp_vu_stage_integral(s, d);
		w->stage_t0 += s->dur_us;
		w->stage++;
	}
	return UINT64_MAX;
}
