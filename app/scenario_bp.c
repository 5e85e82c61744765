/*
 * The scenario file's capacity hunt: `load: {model: breakpoint, ...}`
 * (sp_bp.h says what each knob does). The engine's plan gets the model
 * of the hunt's control, open for an arrival rate and closed for VUs,
 * sized for the most the hunt may offer; the hunt's own knobs go to
 * struct sp_run_plan.bp, which the control lcore reads.
 */

#include <string.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

#define SP_BP_DEFAULT_MAX_VUS 1000
#define SP_BP_DEFAULT_DURATION_US (5ull * 60 * SP_US_PER_S)

void
sp_bp_defaults(struct sp_bp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->control = SP_BP_RATE;
	c->factor = 2.0;
	c->precision = 0.05;
	c->step_us = 10 * SP_US_PER_S;
	c->probe_us = 5 * SP_US_PER_S;
	c->confirm_us = 30 * SP_US_PER_S;
	c->warmup_us = 2 * SP_US_PER_S;
	c->rest_us = 2 * SP_US_PER_S;
}

/* A number > 0, or a share: "5%" or 0.05 (< 1). */
static int
sp_bp_share(const char *s, double *v, char *why)
{
	size_t n = strlen(s);
	char buf[64];

	if (n > 0 && n < sizeof(buf) && s[n - 1] == '%') {
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		if (sp_val_num(buf, v, why) < 0)
			return -1;
		*v /= 100;
	} else if (sp_val_num(s, v, why) < 0) {
		return -1;
	}
	if (!(*v > 0 && *v < 1))
		return sp_why(why, "'%s': a share between 0 and 100%%", s);
	return 0;
}

/*
 * One of the hunt's own knobs (file spelling) from its text: 0, 1 when
 * @key is not one of them (a load key: the caller's), or -1 with why.
 * The file's load: and --breakpoint=KEY=VALUE,... both come here.
 */
int
sp_bp_key(struct sp_bp_cfg *c, const char *key, const char *s, char *why)
{
	uint64_t *dur;
	double x;

	if (strcmp(key, "control") == 0) {
		if (strcmp(s, "rate") == 0)
			c->control = SP_BP_RATE;
		else if (strcmp(s, "vus") == 0)
			c->control = SP_BP_VUS;
		else
			return sp_why(why, "'%s': rate (the arrival rate) or "
					   "vus",
				      s);
		return 0;
	}
	if (strcmp(key, "precision") == 0)
		return sp_bp_share(s, &c->precision, why);
	dur = strcmp(key, "step") == 0	  ? &c->step_us :
	      strcmp(key, "probe") == 0	  ? &c->probe_us :
	      strcmp(key, "confirm") == 0 ? &c->confirm_us :
	      strcmp(key, "warmup") == 0  ? &c->warmup_us :
	      strcmp(key, "rest") == 0	  ? &c->rest_us :
					    NULL;
	if (dur != NULL)
		return sp_val_duration(s, dur, why);
	if (strcmp(key, "start") != 0 && strcmp(key, "factor") != 0 &&
	    strcmp(key, "increment") != 0 && strcmp(key, "max") != 0)
		return 1;
	if (sp_val_num(s, &x, why) < 0)
		return -1;
	if (x <= 0)
		return sp_why(why, "'%s': must be more than 0", s);
	if (strcmp(key, "start") == 0)
		c->start = x;
	else if (strcmp(key, "factor") == 0)
		c->factor = x;
	else if (strcmp(key, "increment") == 0)
		c->increment = x;
	else
		c->max = x;
	return 0;
}

/* The knobs' consistency, then the engine's plan for the hunt's
 * control: 0, or -1 with why. */
int
sp_bp_apply(struct sp_run_plan *rp, unsigned *keys, char *why)
{
	struct sp_plan *pl = &rp->eng;
	struct sp_bp_cfg *c = &rp->bp;

	if (c->increment > 0 && c->factor != 2.0)
		return sp_why(why, "give factor or increment, not both");
	if (c->factor <= 1)
		return sp_why(why, "factor: the steps must grow (more than "
				   "1)");
	if (c->step_us <= c->warmup_us || c->probe_us <= c->warmup_us ||
	    c->confirm_us <= c->warmup_us)
		return sp_why(why,
			      "step, probe and confirm must each be longer "
			      "than warmup (%.3gs)",
			      (double)c->warmup_us / 1e6);
	if (!(*keys & SP_K_DURATION))
		pl->duration_us = SP_BP_DEFAULT_DURATION_US;
	if (rp->max_vus == 0)
		rp->max_vus = SP_BP_DEFAULT_MAX_VUS;
	if (c->control == SP_BP_VUS) {
		/* The most VUs it may run: max, else max_vus. */
		if (c->max == 0)
			c->max = rp->max_vus;
		if ((*keys & SP_K_MAX_VUS) && c->max > rp->max_vus)
			return sp_why(why, "max_vus: below max (%.0f VUs)",
				      c->max);
		if (c->max > SP_MAX_VUS)
			return sp_why(why, "max: at most %u VUs", SP_MAX_VUS);
		pl->model = SP_MODEL_CLOSED;
		pl->vus = (uint32_t)c->max;
		*keys |= SP_K_MODEL | SP_K_VUS;
		*keys &= ~(unsigned)SP_K_MAX_VUS;
		rp->max_vus = 0;
	} else {
		pl->model = SP_MODEL_OPEN;
		pl->rate = c->start > 0 ? c->start : 100;
		*keys |= SP_K_MODEL | SP_K_RATE | SP_K_MAX_VUS;
	}
	return 0;
}

int
sp_file_bp(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"model",	   "control",	 "start",	 "factor",
		"increment",	   "max",	 "precision",	 "step",
		"probe",	   "confirm",	 "warmup",	 "rest",
		"duration",	   "max_vus",	 "connect_timeout",
		"response_timeout", "vu_offset", NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_run_plan *rp = sp_run_plan_of(pl);
	struct sp_bp_cfg *c = &rp->bp;
	unsigned bit;

	sp_bp_defaults(c);
	c->on = 1;
	if (sp_yaml_map(ld, n, "load", keys) < 0)
		return -1;
	for (size_t i = 0; keys[i] != NULL; i++) {
		yaml_node_t *v = sp_yaml_get(ld, n, keys[i]);
		const char *k = keys[i], *s;
		int rc;

		if (v == NULL || strcmp(k, "model") == 0)
			continue;
		if (sp_yaml_str(ld, v, k, &s) < 0)
			return -1;
		rc = sp_bp_key(c, k, s, ld->why);
		if (rc < 0)
			return sp_node_error(ld, v, "%s: %s", k, ld->why);
		if (rc == 0)
			continue;
		if (sp_load_key(pl, k, s, &bit, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", k, ld->why);
		ld->pv->file_keys |= bit;
	}
	if (sp_yaml_get(ld, n, "factor") != NULL &&
	    sp_yaml_get(ld, n, "increment") != NULL)
		return sp_node_error(ld, sp_yaml_get(ld, n, "increment"),
				     "increment: give factor or increment, "
				     "not both");
	if (sp_bp_apply(rp, &ld->pv->file_keys, ld->why) < 0)
		return sp_node_error(ld, n, "load: %s", ld->why);
	return 0;
}
