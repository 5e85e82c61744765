/*
 * Thresholds: parse the expression of a pass/fail criterion (struct
 * sp_threshold in sp_plan.h). DPDK-free: the scenario loader uses it for
 * the file's `thresholds:` and for --threshold.
 */
#ifndef SP_THRESHOLD_H
#define SP_THRESHOLD_H

#include <stddef.h>

#include "sp_plan.h"

/* Parse @expr into @t (t->expr = @expr, which must outlive @t; scope
 * names stay unresolved). 0, or -1 with why it is wrong in @why. */
int sp_threshold_parse(const char *expr, struct sp_threshold *t, char *why,
		       size_t whylen);

/* Whether @value meets @t. */
int sp_threshold_holds(const struct sp_threshold *t, double value);

/* The value as the report shows it: rates in percent, the rest as is. */
double sp_threshold_shown(const struct sp_threshold *t, double value);

#endif /* SP_THRESHOLD_H */
