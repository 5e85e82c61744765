/*
 * A scenario's own load (k6's scenarios, Locust's fixed-count users):
 *
 *   - name: api
 *     load: {model: open, rate: 50, max_vus: 20, start: 10s, duration: 1m}
 *   - name: browse
 *     vus: 5                       # load: {vus: 5}
 *
 * The keys mean what the top-level load's do, for this scenario alone;
 * start: delays it from the run's start, duration: (or its stages' sum)
 * is its length from there, the run's end by default. Scenarios without a
 * load share the top-level one by weight, as before. When every enabled
 * scenario has its own, the top-level load is not needed: the run lasts
 * until the latest end among them, or the top-level duration when given
 * (which bounds every scenario).
 *
 * What can be judged from the scenario alone is judged as it is read, at
 * its node; what needs the whole plan (the run's length after the command
 * line) at sp_scenario_finish, still naming the node.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

/* The load and where the file gave it (sc->load points at @ld). */
struct sp_load_src {
	struct sp_load ld;
	const char *scn;
	size_t line, col;   /* load: (or vus:), 0-based */
	size_t sline, scol; /* start:, or the load's */
	int has_len;        /* duration: or stages: given */
};

static struct sp_load_src *
sp_load_src_of(const struct sp_load *ld)
{
	return (struct sp_load_src *)(void *)((char *)(void *)(uintptr_t)ld -
					      offsetof(struct sp_load_src, ld));
}

static int
sp_load_stages(struct sp_loader *ld, const yaml_node_t *v, struct sp_load *l)
{
	const char *s;

	if (v->type == YAML_SEQUENCE_NODE)
		return sp_stage_list(ld, v, l->stages, &l->nstages);
	if (sp_yaml_str(ld, v, "stages", &s) < 0)
		return -1;
	if (sp_val_stages(s, l->stages, &l->nstages, ld->why) < 0)
		return sp_node_error(ld, v, "stages: %s", ld->why);
	return 0;
}

/* The keys of a load: mapping, and the checks the top-level load has
 * (a key the model does not read is a mistake, not a no-op). */
static int
sp_load_map(struct sp_loader *ld, const yaml_node_t *n, struct sp_load_src *src)
{
	static const char *const keys[] = {
		"model", "vus",      "rate",   "max_vus",
		"start", "duration", "stages", NULL,
	};
	struct sp_load *l = &src->ld;
	yaml_node_t *model, *vus, *rate, *max, *dur, *stages, *start;
	uint64_t x;
	double peak = 0;
	const char *s;

	if (sp_yaml_map(ld, n, "load", keys) < 0)
		return -1;
	model = sp_yaml_get(ld, n, "model");
	vus = sp_yaml_get(ld, n, "vus");
	rate = sp_yaml_get(ld, n, "rate");
	max = sp_yaml_get(ld, n, "max_vus");
	dur = sp_yaml_get(ld, n, "duration");
	stages = sp_yaml_get(ld, n, "stages");
	start = sp_yaml_get(ld, n, "start");
	if (model != NULL) {
		if (sp_yaml_str(ld, model, "model", &s) < 0)
			return -1;
		if (strcmp(s, "open") == 0)
			l->model = SP_MODEL_OPEN;
		else if (strcmp(s, "closed") != 0)
			return sp_node_error(
				ld, model, "model: '%s' is not closed or open",
				s);
	} else if (rate != NULL) {
		l->model = SP_MODEL_OPEN; /* as the top-level load's */
	}
	if (vus != NULL && rate != NULL)
		return sp_node_error(ld, rate,
				     "rate: give vus (closed model) or rate "
				     "(open model), not both");
	if (l->model == SP_MODEL_OPEN && vus != NULL)
		return sp_node_error(ld, vus,
				     "vus: the open model starts iterations "
				     "at rate (max_vus bounds them); vus is "
				     "for the closed model");
	if (l->model == SP_MODEL_CLOSED && rate != NULL)
		return sp_node_error(ld, rate,
				     "rate: the closed model has no arrival "
				     "rate (its VUs loop); give model: open");
	if (l->model == SP_MODEL_CLOSED && max != NULL)
		return sp_node_error(ld, max,
				     "max_vus: only the open model has it "
				     "(the closed model runs vus VUs, or the "
				     "stages' peak)");
	if (dur != NULL && stages != NULL)
		return sp_node_error(ld, dur,
				     "duration: give either duration or "
				     "stages, not both");
	if (stages != NULL && (vus != NULL || rate != NULL))
		return sp_node_error(ld, stages,
				     "stages: give %s or stages, not both",
				     vus != NULL ? "vus" : "rate");
	if (vus == NULL && rate == NULL && stages == NULL)
		return sp_node_error(ld, n,
				     "load: give vus (closed model), rate "
				     "(open model) or stages");
	if (vus != NULL) {
		if (sp_yaml_u64(ld, vus, "vus", 1, SP_MAX_VUS, &x) < 0)
			return -1;
		l->vus = (uint32_t)x;
		peak = l->vus;
	}
	if (rate != NULL) {
		if (sp_yaml_str(ld, rate, "rate", &s) < 0)
			return -1;
		if (sp_val_num(s, &l->rate, ld->why) < 0)
			return sp_node_error(ld, rate, "rate: %s", ld->why);
		if (!(l->rate > 0) || l->rate > SP_MAX_RATE)
			return sp_node_error(ld, rate,
					     "rate: %s: more than 0, at most "
					     "%.0f a second",
					     s, SP_MAX_RATE);
		peak = l->rate;
	}
	if (max != NULL) {
		if (sp_yaml_u64(ld, max, "max_vus", 1, SP_MAX_VUS, &x) < 0)
			return -1;
		l->max_vus = (uint32_t)x;
	}
	if (start != NULL) {
		if (sp_yaml_dur(ld, start, "start", &l->start_us) < 0)
			return -1;
		src->sline = start->start_mark.line;
		src->scol = start->start_mark.column;
	}
	if (dur != NULL) {
		if (sp_yaml_dur(ld, dur, "duration", &l->duration_us) < 0)
			return -1;
		if (l->duration_us == 0)
			return sp_node_error(ld, dur,
					     "duration: must be more than 0");
		src->has_len = 1;
	}
	if (stages != NULL) {
		if (sp_load_stages(ld, stages, l) < 0)
			return -1;
		if (l->nstages == 0)
			return sp_node_error(ld, stages, "stages: none given");
		l->duration_us = 0;
		for (uint32_t i = 0; i < l->nstages; i++) {
			const struct sp_stage *st = &l->stages[i];

			if (l->model == SP_MODEL_CLOSED &&
			    (st->target < 0 || st->target > SP_MAX_VUS ||
			     st->target != (double)(uint64_t)st->target))
				return sp_node_error(ld, stages,
						     "stages: a closed model's "
						     "targets are VU counts "
						     "(stage %u: %g)",
						     i + 1, st->target);
			if (l->model == SP_MODEL_OPEN &&
			    (st->target < 0 || st->target > SP_MAX_RATE))
				return sp_node_error(ld, stages,
						     "stages: stage %u: a rate "
						     "of %g a second",
						     i + 1, st->target);
			l->duration_us += st->duration_us;
			if (st->target > peak)
				peak = st->target;
		}
		if (l->duration_us > SP_VAL_MAX_DURATION_US)
			return sp_node_error(ld, stages,
					     "stages: together longer than "
					     "168h (a week), the longest "
					     "stampede takes");
		if (peak <= 0)
			return sp_node_error(
				ld, stages, "stages: no stage has %s",
				l->model == SP_MODEL_OPEN ? "a rate" : "a VU");
		src->has_len = 1;
	}
	/* As the top-level load's: the closed model's peak; the open
	 * model's max_vus, or max(ceil(peak rate), 100). */
	x = (uint64_t)peak + ((double)(uint64_t)peak < peak);
	if (l->model == SP_MODEL_CLOSED)
		l->max_vus = (uint32_t)x;
	else if (l->max_vus == 0)
		l->max_vus = (uint32_t)(x > 100 ? x : 100);
	return 0;
}

int
sp_scn_load(struct sp_loader *ld, const yaml_node_t *n, struct sp_scenario *sc)
{
	yaml_node_t *l = sp_yaml_get(ld, n, "load"),
		    *v = sp_yaml_get(ld, n, "vus");
	const yaml_node_t *at = l != NULL ? l : v;
	struct sp_load_src *src;
	uint64_t x;

	if (at == NULL)
		return 0;
	if (l != NULL && v != NULL)
		return sp_node_error(ld, v,
				     "vus: give vus (short for load: {vus: "
				     "N}) or load, not both");
	src = sp_mem_alloc(ld->pl, sizeof(*src));
	if (src == NULL)
		return sp_node_error(ld, at, "out of memory");
	src->scn = sc->name;
	src->line = src->sline = at->start_mark.line;
	src->col = src->scol = at->start_mark.column;
	src->ld.model = SP_MODEL_CLOSED;
	if (l != NULL) {
		if (sp_load_map(ld, l, src) < 0)
			return -1;
	} else {
		if (sp_yaml_u64(ld, v, "vus", 1, SP_MAX_VUS, &x) < 0)
			return -1;
		src->ld.vus = src->ld.max_vus = (uint32_t)x;
	}
	sc->load = &src->ld;
	return 0;
}

/* "FILE:LINE:COL: scenario 'NAME': ..." at a load's node. */
static int sp_load_error(struct sp_run_plan *rp, struct sp_scenario_err *e,
			 const struct sp_load_src *src, int at_start,
			 const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int
sp_load_error(struct sp_run_plan *rp, struct sp_scenario_err *e,
	      const struct sp_load_src *src, int at_start, const char *fmt, ...)
{
	char why[SP_WHY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sp_err_set(e, "%s:%zu:%zu: scenario '%s': %s", rp->source,
			  (at_start ? src->sline : src->line) + 1,
			  (at_start ? src->scol : src->col) + 1, src->scn, why);
}

static int
sp_shared(const struct sp_plan *pl)
{
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled && pl->scenarios[i].load == NULL)
			return 1;
	return 0;
}

int
sp_loads_pre(struct sp_run_plan *rp, struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	const struct sp_priv *pv = rp->priv;
	unsigned keys = pv->file_keys | pv->cli_keys;
	uint64_t end = 0;

	if (sp_shared(pl))
		return 0;
	/* Nobody would read them. */
	if (keys &
	    (SP_K_VUS | SP_K_RATE | SP_K_STAGES | SP_K_MAX_VUS | SP_K_MODEL))
		return sp_err_set(e,
				  "%s: load: every scenario that runs has a "
				  "load of its own, so the top-level vus, "
				  "rate, stages, model and max_vus are not "
				  "read (only its duration, which bounds "
				  "them all)",
				  rp->source);
	if (keys & SP_K_DURATION)
		return 0;
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_scenario *sc = &pl->scenarios[i];
		const struct sp_load_src *src;

		if (!sc->enabled)
			continue;
		src = sp_load_src_of(sc->load);
		if (src->has_len &&
		    sc->load->start_us + sc->load->duration_us > end)
			end = sc->load->start_us + sc->load->duration_us;
	}
	if (end == 0) {
		for (uint32_t i = 0; i < pl->nscenarios; i++)
			if (pl->scenarios[i].enabled)
				return sp_load_error(
					rp, e,
					sp_load_src_of(pl->scenarios[i].load),
					0,
					"load: give it a duration (or "
					"stages): no scenario has one and "
					"the top-level load gives none");
	}
	if (end > SP_VAL_MAX_DURATION_US)
		return sp_err_set(e,
				  "%s: the scenarios' loads end after "
				  "168h (a week), the longest stampede "
				  "takes",
				  rp->source);
	pl->duration_us = end;
	return 0;
}

int
sp_loads_post(struct sp_run_plan *rp, struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	uint64_t run = pl->duration_us, total;

	if (!sp_shared(pl))
		rp->max_vus = 0;
	total = rp->max_vus;
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_scenario *sc = &pl->scenarios[i];
		struct sp_load_src *src;
		struct sp_load *l;

		if (!sc->enabled || sc->load == NULL)
			continue;
		src = sp_load_src_of(sc->load);
		l = &src->ld;
		if (l->start_us >= run)
			return sp_load_error(rp, e, src, 1,
					     "start: %.3fs is at or after the "
					     "run's end (%.3fs)",
					     (double)l->start_us / 1e6,
					     (double)run / 1e6);
		/* Without a length it runs to the run's end; the run's end
		 * cuts it. */
		if (!src->has_len || l->duration_us > run - l->start_us)
			l->duration_us = run - l->start_us;
		total += l->max_vus;
	}
	if (total > SP_MAX_VUS)
		return sp_err_set(e,
				  "%s: the loads need %llu VUs together "
				  "(max_vus and peaks), more than %u",
				  rp->source, (unsigned long long)total,
				  SP_MAX_VUS);
	return 0;
}
