/*
 * Unit test for the threshold grammar (app/threshold.c): every statistic
 * parses into the stat, scope, unit and value it stands for; a rate must
 * say whether it is a percentage (`errors < 1` is refused with the two
 * ways to write it, never read as 100 %); dropped is a count or, with %, a
 * share of the arrivals; iterations and iterations/s are counts and
 * rates; scopes that cannot hold a statistic are refused.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sp_threshold.h"

#include "sp_check.h"

struct good {
	const char *expr;
	uint8_t scope, stat;
	double value;
	double shown; /* sp_threshold_shown(value) */
};

static const struct good goods[] = {
	{ "errors < 1%", SP_TH_GLOBAL, SP_TH_ERRORS, 0.01, 1 },
	{ "errors < 0.01", SP_TH_GLOBAL, SP_TH_ERRORS, 0.01, 1 },
	{ "errors == 0", SP_TH_GLOBAL, SP_TH_ERRORS, 0, 0 },
	{ "errors <= 0.0", SP_TH_GLOBAL, SP_TH_ERRORS, 0, 0 },
	{ "errors < 100%", SP_TH_GLOBAL, SP_TH_ERRORS, 1, 100 },
	{ "checks > 99.5%", SP_TH_GLOBAL, SP_TH_CHECKS, 0.995, 99.5 },
	{ "checks >= 0.999", SP_TH_GLOBAL, SP_TH_CHECKS, 0.999, 99.9 },
	{ "scenario:a errors < 0.5%", SP_TH_SCENARIO, SP_TH_ERRORS, 0.005,
	  0.5 },
	{ "dropped == 0", SP_TH_GLOBAL, SP_TH_DROPPED, 0, 0 },
	{ "dropped < 10", SP_TH_GLOBAL, SP_TH_DROPPED, 10, 10 },
	{ "dropped < 1%", SP_TH_GLOBAL, SP_TH_DROPPED_SHARE, 0.01, 1 },
	{ "dropped < 0.5 %", SP_TH_GLOBAL, SP_TH_DROPPED_SHARE, 0.005, 0.5 },
	{ "scenario:a dropped <= 3", SP_TH_SCENARIO, SP_TH_DROPPED, 3, 3 },
	{ "iterations > 1000", SP_TH_GLOBAL, SP_TH_ITERATIONS, 1000, 1000 },
	{ "iterations/s >= 2.5", SP_TH_GLOBAL, SP_TH_ITER_RATE, 2.5, 2.5 },
	{ "scenario:\"a b\" iterations/s > 1", SP_TH_SCENARIO, SP_TH_ITER_RATE,
	  1, 1 },
	{ "rps > 100", SP_TH_GLOBAL, SP_TH_RPS, 100, 100 },
	{ "p(95) < 2s", SP_TH_GLOBAL, SP_TH_QUANTILE, 2000, 2000 },
	{ "ws.errors < 1%", SP_TH_GLOBAL, SP_TH_WS_ERRORS, 0.01, 1 },
	{ "ws.errors == 0", SP_TH_GLOBAL, SP_TH_WS_ERRORS, 0, 0 },
	{ "ws.failed == 0", SP_TH_GLOBAL, SP_TH_WS_FAILED, 0, 0 },
	{ "ws.sessions > 100", SP_TH_GLOBAL, SP_TH_WS_SESSIONS, 100, 100 },
	{ "ws.sent >= 5", SP_TH_GLOBAL, SP_TH_WS_SENT, 5, 5 },
	{ "ws.received > 5", SP_TH_GLOBAL, SP_TH_WS_RECEIVED, 5, 5 },
	{ "ws.unmatched == 0", SP_TH_GLOBAL, SP_TH_WS_UNMATCHED, 0, 0 },
	{ "ws.sent/s > 1000", SP_TH_GLOBAL, SP_TH_WS_SENT_RATE, 1000, 1000 },
	{ "ws.received/s >= 2.5", SP_TH_GLOBAL, SP_TH_WS_RECV_RATE, 2.5, 2.5 },
	{ "ws.rtt.p(99) < 50ms", SP_TH_GLOBAL, SP_TH_QUANTILE, 50, 50 },
	{ "ws.connect.p(95) < 1s", SP_TH_GLOBAL, SP_TH_QUANTILE, 1000, 1000 },
	{ "ws.session.max < 30s", SP_TH_GLOBAL, SP_TH_MAX, 30000, 30000 },
	{ "ws.rtt.med < 500us", SP_TH_GLOBAL, SP_TH_QUANTILE, 0.5, 0.5 },
};

struct bad {
	const char *expr, *msg;
};

static const struct bad bads[] = {
	{ "errors < 1", "'1' could be read as 100% or 1%: write 1% or 0.01" },
	{ "errors < 1.0", "could be read as 100% or 1%: write 1% or 0.01" },
	{ "errors < .5", "write 0.5% or 0.005" },
	{ "errors < 5", "'5' is not a rate: write 5% (or 0.05 as a fraction)" },
	{ "checks > 99", "'99' is not a rate: write 99%" },
	{ "errors < 1e-2", "write 0.01% or 0.0001" },
	{ "errors < 150", "a rate is at most 100%" },
	{ "errors < 150%", "a rate is at most 100%" },
	{ "dropped < 0.5", "dropped without % is a count of arrivals" },
	{ "dropped < 5.0", "dropped without % is a count of arrivals" },
	{ "dropped < 200%", "a rate is at most 100%" },
	{ "iterations > 1.5", "iterations is a count" },
	{ "iterations > 10%", "unexpected '%'" },
	{ "iterations/m > 1", "expected a comparison" },
	{ "request:r dropped == 0",
	  "the run's or a scenario's, not a request's" },
	{ "request:r iterations/s > 1", "not a request's" },
	{ "iteration.dropped < 1", "take no phase" },
	{ "drops < 1", "unknown metric 'drops'" },
	{ "ws.errors < 1", "could be read as 100% or 1%" },
	{ "ws.failed < 1%", "unexpected '%'" },
	{ "ws.failed < 1.5", "are counts: write a whole number" },
	{ "ws.sent > 0.5", "are counts" },
	{ "ws.rtt.errors < 1%", "a ws. phase takes a time" },
	{ "ws.connect.rps > 1", "a ws. phase takes a time" },
	{ "ws.rtt < 5ms", "unknown WebSocket metric 'ws.rtt'" },
	{ "ws.latency.p(99) < 1s", "unknown WebSocket metric 'ws.latency'" },
	{ "scenario:a ws.rtt.p(99) < 1s", "ws. thresholds are the run's" },
	{ "request:r ws.errors < 1%", "ws. thresholds are the run's" },
	{ "ws.received/m > 1", "expected a comparison" },
	{ "ws.unmatched/s > 1", "expected a comparison" },
	{ "ws.rtt.p(0) < 1s", "p(N) needs 0 < N <= 100" },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct sp_threshold t;
		char why[256] = "";
		int rc = sp_threshold_parse(goods[i].expr, &t, why,
					    sizeof(why));

		CHECK(rc == 0, "'%s': %s", goods[i].expr, why);
		if (rc != 0)
			continue;
		CHECK(t.scope == goods[i].scope && t.stat == goods[i].stat,
		      "'%s': scope %u stat %u", goods[i].expr, t.scope, t.stat);
		CHECK(fabs(t.value - goods[i].value) < 1e-12, "'%s': value %g",
		      goods[i].expr, t.value);
		CHECK(fabs(sp_threshold_shown(&t, t.value) - goods[i].shown) <
			      1e-9,
		      "'%s': shown %g", goods[i].expr,
		      sp_threshold_shown(&t, t.value));
	}
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct sp_threshold t;
		char why[256] = "";
		int rc = sp_threshold_parse(bads[i].expr, &t, why, sizeof(why));

		CHECK(rc < 0 && strstr(why, bads[i].msg) != NULL,
		      "'%s': got '%s', want '...%s...'", bads[i].expr,
		      rc < 0 ? why : "(accepted)", bads[i].msg);
	}
	{
		/* The WebSocket phases, each its own histogram. */
		static const struct {
			const char *expr;
			uint8_t phase;
		} ph[] = {
			{ "ws.connect.p(95) < 1s", SP_TH_WS_CONNECT },
			{ "ws.rtt.avg < 1s", SP_TH_WS_RTT },
			{ "ws.session.min > 1ms", SP_TH_WS_SESSION },
			{ "connect.p(95) < 1s", SP_TH_CONNECT },
		};

		for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]); i++) {
			struct sp_threshold t;
			char why[256] = "";

			CHECK(sp_threshold_parse(ph[i].expr, &t, why,
						 sizeof(why)) == 0 &&
				      t.phase == ph[i].phase,
			      "'%s': phase %u (%s)", ph[i].expr, t.phase, why);
		}
	}
	{
		/* A share holds against the value as a fraction. */
		struct sp_threshold t;
		char why[256];

		CHECK(sp_threshold_parse("dropped < 1%", &t, why,
					 sizeof(why)) == 0,
		      "%s", why);
		CHECK(sp_threshold_holds(&t, 0.009) &&
			      !sp_threshold_holds(&t, 0.01),
		      "dropped < 1%% compares fractions");
	}
	printf("%d tests, %d failed\n", sp_tests, sp_failed);
	return sp_failed ? 1 : 0;
}
