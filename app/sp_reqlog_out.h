/*
 * stampede run --log-requests FILE: one CSV row per finished request,
 * written by the control thread from the workers' rings (sp_reqlog.h).
 */
#ifndef SP_REQLOG_OUT_H
#define SP_REQLOG_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "sp_app.h"
#include "sp_plan.h"
#include "sp_reqlog.h"

/* Records per core's ring: drained every control tick (10 ms), this holds
 * over 6 s of 10,000 requests a second, or 130 ms at 500,000. */
#define SP_REQLOG_RECS (1u << 16)

struct sp_reqlog_out {
	const char *path;
	FILE *f;
	const struct sp_plan *plan;
	unsigned ncores;
	uint64_t base_us; /* times are written from here (the run's clock) */
	uint64_t written;
	struct sp_reqlog log[SP_MAX_CORES];
};

/* Open @path (NULL: no log; 0) and write the header. 0, or -1 after a
 * usage error naming the path. */
int sp_reqlog_out_open(struct sp_reqlog_out *o, const char *path);
/* The rings, one per core, and the clock the times count from. 0, or -1
 * after saying why (memory). */
int sp_reqlog_out_start(struct sp_reqlog_out *o, const struct sp_plan *pl,
			unsigned ncores, uint64_t base_us);
/* Write what the rings hold (control thread). */
void sp_reqlog_out_drain(struct sp_reqlog_out *o);
/* The records lost to a full ring, all cores. */
uint64_t sp_reqlog_out_dropped(const struct sp_reqlog_out *o);
/* Drain, close and free. 0, or -1 after saying that writing failed. */
int sp_reqlog_out_close(struct sp_reqlog_out *o);

#endif
