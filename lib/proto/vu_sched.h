/*
 * The virtual users' schedule (private to lib/proto): a load's stages
 * (or its one constant stage) as linear ramps, the closed model's VU
 * target and the open model's arrival times. Pure arithmetic over the
 * plan: it calls nothing of the engine's.
 */
#ifndef SP_VU_SCHED_H
#define SP_VU_SCHED_H

#include <stdint.h>

#include "sp_plan.h"

/* One stage: from -> to (VUs, or arrivals a second) over dur_us. */
struct sp_vu_sched {
	uint64_t dur_us;
	double from, to;
};

/* The open model's walk over the stages, forward only (arrivals only
 * grow). */
struct sp_vu_arrivals {
	const struct sp_vu_sched *sched;
	uint32_t nsched;
	uint32_t stage;    /* the stage of the last arrival */
	uint64_t stage_t0; /* µs from start where it begins */
	double stage_n0;   /* arrivals before it (the integral) */
};

/* The plan's shared (top-level) load as a struct sp_load. */
void sp_vu_shared_load(const struct sp_plan *pl, struct sp_load *out);
/* The load's stages at @out (room for SP_PLAN_MAX_STAGES); their count. */
uint32_t sp_vu_sched_load(const struct sp_load *ld, struct sp_vu_sched *out);
/* The same for the plan's shared load. */
uint32_t sp_vu_sched_build(const struct sp_plan *pl, struct sp_vu_sched *out);

/* Closed model: VUs the stages @s (@n of them, as built) want at @t_us. */
uint32_t sp_vu_sched_target(const struct sp_vu_sched *s, uint32_t n,
			    uint64_t t_us);

/* Time (µs from start) of arrival number @arrival (from 0): where the
 * integral of the rate reaches it; UINT64_MAX when the schedule ends
 * first. Calls come with @arrival never decreasing. */
uint64_t sp_vu_next_arrival(struct sp_vu_arrivals *w, uint64_t arrival);

#endif /* SP_VU_SCHED_H */
