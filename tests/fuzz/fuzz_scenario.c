/*
 * libFuzzer target for the scenario loader: any bytes as a YAML file, then
 * a few overrides, finish and free. Oracles: AddressSanitizer (no read past
 * the input, no use after free, no leak: sp_scenario_free must release a
 * plan in whatever state a failed load left it), UBSan, and the loader's
 * own promises: an error is one line, a success leaves a plan whose
 * indices stay inside their arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sp_fuzz_check_tpl(const struct sp_tpl *t)
{
	for (uint32_t j = 0; j < t->nparts; j++)
		if (t->parts[j].var == SP_VAR_LITERAL &&
		    t->parts[j].off + t->parts[j].len > t->text_len)
			abort();
}

static void
sp_fuzz_check_plan(const struct sp_run_plan *pl)
{
	for (uint32_t i = 0; i < pl->eng.nscenarios; i++) {
		const struct sp_scenario *sc = &pl->eng.scenarios[i];
		uint32_t up = UINT32_MAX; /* the open ws: block's upgrade */

		for (uint32_t j = 0; j < sc->nsteps; j++) {
			const struct sp_step *st = &sc->steps[j];

			if (st->kind == SP_STEP_REQUEST &&
			    st->req >= pl->eng.nrequests)
				abort();
			/* sp_plan.h: every WS_* step between an upgrade and
			 * its WS_END, no request inside, no block in one. */
			if (st->kind == SP_STEP_REQUEST && up != UINT32_MAX)
				abort();
			if (st->kind == SP_STEP_REQUEST &&
			    pl->eng.requests[st->req].ws_upgrade)
				up = j;
			if (st->kind >= SP_STEP_WS_SEND &&
			    st->kind <= SP_STEP_WS_CLOSE &&
			    (up == UINT32_MAX || st->ws >= pl->eng.nws_steps))
				abort();
			if (st->kind == SP_STEP_WS_END) {
				if (st->req != up)
					abort();
				up = UINT32_MAX;
			}
			if (st->kind == SP_STEP_LOOP &&
			    (st->end <= j || st->end >= sc->nsteps ||
			     sc->steps[st->end].begin != j ||
			     st->depth >= SP_PLAN_MAX_LOOP_DEPTH))
				abort();
		}
		if (up != UINT32_MAX)
			abort();
	}
	for (uint32_t i = 0; i < pl->eng.nrequests; i++)
		sp_fuzz_check_tpl(&pl->eng.requests[i].path);
	for (uint32_t i = 0; i < pl->eng.nws_steps; i++) {
		const struct sp_ws_step *w = &pl->eng.ws_steps[i];

		sp_fuzz_check_tpl(&w->msg);
		if (w->name == NULL ||
		    (w->close_reason != NULL &&
		     strlen(w->close_reason) > 123) ||
		    (w->expect_count != 0 && w->timeout_us == 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_run_plan pl;
	int rc;

	sp_scenario_init(&pl);
	rc = sp_scenario_load_buf(&pl, "fuzz.yaml", (const char *)data, size,
				  &e);
	if (rc == 0) {
		/* The paths the command line takes after a file. */
		sp_scenario_set(&pl, "url", "http://198.18.0.2:8080/", &e);
		sp_scenario_set(&pl, "tags", "a,b", &e);
		rc = sp_scenario_finish(&pl, &e);
		if (rc == 0)
			sp_fuzz_check_plan(&pl);
	}
	if (rc < 0 && strchr(e.msg, '\n') != NULL)
		abort();
	sp_scenario_free(&pl);
	return 0;
}
