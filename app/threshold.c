/*
 * Threshold expressions, one grammar for scenario files and --threshold:
 *
 *   [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE[UNIT]
 *
 *   PHASE  latency (the default) | connect | tls | ttfb | iteration
 *   STAT   p(N) (0 < N <= 100) | med | avg | mean | min | max   (times)
 *          errors | checks                                      (rates)
 *          rps | iterations/s                                   (per second)
 *          dropped | iterations                                 (counts)
 *   OP     <  <=  >  >=  ==  !=
 *   UNIT   times: us, ms (the default), s; rates: N% or a fraction
 *          written 0.N (a bare 1 could mean 1 % or 100 %: refused; 0 is
 *          0); dropped: a count, or N% for a share of the arrivals;
 *          per second and counts: none
 *
 * e.g.  p(95) < 500ms   errors < 0.1%   rps > 100   ttfb.p(99) < 50ms
 *       request:"GET /" p(99) < 1s   scenario:browse iteration.p(95) < 3s
 *       dropped == 0   dropped < 1%   iterations > 1000   iterations/s > 50
 *
 * A NAME with spaces is written in double quotes. Global thresholds may
 * use every phase; request ones latency and ttfb; scenario ones measure
 * iterations: iteration.STAT, errors (failed iterations) and rps
 * (completed iterations per second); dropped and iterations are the run's
 * or a scenario's. Names are resolved against the plan by the scenario
 * loader once every scenario and request is known.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_threshold.h"

static int
sp_th_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
sp_th_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A word of letters; returns its length. */
static size_t
sp_th_word(const char *p)
{
	size_t n = 0;

	while (isalpha((unsigned char)p[n]))
		n++;
	return n;
}

static int
sp_th_is(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && strncmp(p, w, n) == 0;
}

static int
sp_th_scope(const char *expr, const char **pp, struct sp_threshold *t,
	    char *why, size_t wl)
{
	const char *p = *pp, *name;
	size_t n = sp_th_word(p);

	if (p[n] != ':')
		return 0; /* no scope */
	if (sp_th_is(p, n, "scenario"))
		t->scope = SP_TH_SCENARIO;
	else if (sp_th_is(p, n, "request"))
		t->scope = SP_TH_REQUEST;
	else
		return sp_th_why(why, wl,
				 "'%.*s:' is not a scope (scenario:NAME "
				 "or request:NAME)",
				 (int)n, p);
	p += n + 1;
	if (*p == '"') {
		name = ++p;
		while (*p != '\0' && *p != '"')
			p++;
		if (*p != '"')
			return sp_th_why(why, wl, "unclosed quote in the name");
		t->name_off = (uint32_t)(name - expr);
		t->name_len = (uint32_t)(p - name);
		p++;
	} else {
		name = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		t->name_off = (uint32_t)(name - expr);
		t->name_len = (uint32_t)(p - name);
	}
	if (t->name_len == 0)
		return sp_th_why(why, wl, "the scope has no name");
	if (*p != ' ' && *p != '\t')
		return sp_th_why(why, wl, "a space must follow the scope");
	*pp = sp_th_ws(p);
	return 0;
}

static int
sp_th_metric(const char **pp, struct sp_threshold *t, char *why, size_t wl)
{
	static const struct {
		const char *name;
		uint8_t phase;
	} phases[] = {
		{ "latency", SP_TH_LATENCY }, { "connect", SP_TH_CONNECT },
		{ "ttfb", SP_TH_TTFB },       { "iteration", SP_TH_ITERATION },
		{ "tls", SP_TH_TLS },
	};
	static const struct {
		const char *name;
		uint8_t stat;
	} stats[] = {
		{ "avg", SP_TH_MEAN },
		{ "mean", SP_TH_MEAN },
		{ "min", SP_TH_MIN },
		{ "max", SP_TH_MAX },
		{ "errors", SP_TH_ERRORS },
		{ "rps", SP_TH_RPS },
		{ "checks", SP_TH_CHECKS },
		{ "dropped", SP_TH_DROPPED },
		{ "iterations", SP_TH_ITERATIONS },
	};
	const char *p = *pp;
	size_t n = sp_th_word(p);
	int has_phase = 0;

	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (p[n] == '.' && sp_th_is(p, n, phases[i].name)) {
			t->phase = phases[i].phase;
			has_phase = 1;
			p += n + 1;
			n = sp_th_word(p);
			break;
		}
	if (p[n] == '.')
		return sp_th_why(why, wl,
				 "unknown phase '%.*s' (latency, "
				 "connect, tls, ttfb or iteration)",
				 (int)n, p);
	if (sp_th_is(p, n, "p") && p[1] == '(') {
		char *end;
		double x = strtod(p + 2, &end);

		if (end == p + 2 || *end != ')' || !(x > 0.0) || x > 100.0)
			return sp_th_why(why, wl, "p(N) needs 0 < N <= 100");
		t->stat = SP_TH_QUANTILE;
		t->q = x / 100.0;
		p = end + 1;
	} else if (sp_th_is(p, n, "med")) {
		t->stat = SP_TH_QUANTILE;
		t->q = 0.5;
		p += n;
	} else {
		size_t i;

		for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			if (sp_th_is(p, n, stats[i].name))
				break;
		if (i == sizeof(stats) / sizeof(stats[0]))
			return sp_th_why(
				why, wl,
				"unknown metric '%.*s' (p(N), "
				"med, avg, min, max, errors, checks, rps, "
				"dropped, iterations, iterations/s)",
				n ? (int)n : 1, p);
		t->stat = stats[i].stat;
		p += n;
		if (t->stat == SP_TH_ITERATIONS && p[0] == '/' && p[1] == 's' &&
		    !isalpha((unsigned char)p[2])) {
			t->stat = SP_TH_ITER_RATE;
			p += 2;
		}
	}
	if (has_phase && t->stat >= SP_TH_ERRORS)
		return sp_th_why(why, wl,
				 "errors, checks, rps, dropped and "
				 "iterations take no phase");
	*pp = p;
	return 0;
}

static int
sp_th_op(const char **pp, struct sp_threshold *t, char *why, size_t wl)
{
	static const struct {
		const char *s;
		uint8_t op;
	} ops[] = {
		/* two-character operators first */
		{ "<=", SP_TH_LE }, { ">=", SP_TH_GE }, { "==", SP_TH_EQ },
		{ "!=", SP_TH_NE }, { "<", SP_TH_LT },  { ">", SP_TH_GT },
	};
	const char *p = sp_th_ws(*pp);

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(p, ops[i].s, strlen(ops[i].s)) == 0) {
			t->op = ops[i].op;
			*pp = sp_th_ws(p + strlen(ops[i].s));
			return 0;
		}
	return sp_th_why(why, wl,
			 "expected a comparison (<, <=, >, >=, ==, !=)");
}

/* Whether [p, end) is 0 or a fraction written 0.N: a rate that cannot be
 * mistaken for a percentage. */
static int
sp_th_fraction(const char *p, const char *end)
{
	if (*p != '0')
		return 0;
	if (++p == end)
		return 1;
	if (*p++ != '.' || p == end)
		return 0;
	for (; p < end; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

static int
sp_th_value(const char *p, struct sp_threshold *t, char *why, size_t wl)
{
	char *end;
	double x = strtod(p, &end);
	const char *u;

	if (end == p || !(x >= 0.0) || x > 1e15)
		return sp_th_why(why, wl,
				 "expected a number >= 0 after the "
				 "comparison");
	u = sp_th_ws(end);
	if (t->stat <= SP_TH_MAX) {
		if (strncmp(u, "ms", 2) == 0)
			u += 2;
		else if (strncmp(u, "us", 2) == 0)
			x /= 1e3, u += 2;
		else if (*u == 's')
			x *= 1e3, u += 1;
	} else if (t->stat == SP_TH_ERRORS || t->stat == SP_TH_CHECKS ||
		   t->stat == SP_TH_DROPPED) {
		if (*u == '%') {
			x /= 100.0, u += 1;
			if (t->stat == SP_TH_DROPPED)
				t->stat = SP_TH_DROPPED_SHARE;
		} else if (t->stat == SP_TH_DROPPED) {
			if (x != (double)(uint64_t)x ||
			    memchr(p, '.', (size_t)(end - p)))
				return sp_th_why(
					why, wl,
					"dropped without %% is a "
					"count of arrivals: write a whole "
					"number, or N%% for a share of "
					"the arrivals");
		} else if (!sp_th_fraction(p, end)) {
			/* errors < 1 read as a fraction is 100 %: say which. */
			if (x > 1.0 && x <= 100.0)
				return sp_th_why(
					why, wl,
					"'%.*s' is not a rate: "
					"write %.*s%% (or %g as a fraction)",
					(int)(end - p), p, (int)(end - p), p,
					x / 100.0);
			if (x <= 1.0)
				return sp_th_why(
					why, wl,
					"'%.*s' could be read as "
					"%g%% or %g%%: write %g%% or %g",
					(int)(end - p), p, x * 100.0, x, x,
					x / 100.0);
			return sp_th_why(why, wl, "a rate is at most 100%%");
		}
		if (x > 1.0 && t->stat != SP_TH_DROPPED)
			return sp_th_why(why, wl, "a rate is at most 100%%");
	} else if (t->stat == SP_TH_ITERATIONS) {
		if (x != (double)(uint64_t)x ||
		    memchr(p, '.', (size_t)(end - p)))
			return sp_th_why(
				why, wl,
				"iterations is a count: write "
				"a whole number (iterations/s for a rate)");
	}
	if (*sp_th_ws(u) != '\0')
		return sp_th_why(
			why, wl,
			"unexpected '%s' after the value (units: "
			"us, ms, s for times; %% for rates; none for rps, "
			"iterations/s and counts)",
			sp_th_ws(u));
	t->value = x;
	return 0;
}

int
sp_threshold_parse(const char *expr, struct sp_threshold *t, char *why,
		   size_t whylen)
{
	const char *p = sp_th_ws(expr);

	memset(t, 0, sizeof(*t));
	t->expr = expr;
	if (sp_th_scope(expr, &p, t, why, whylen) < 0 ||
	    sp_th_metric(&p, t, why, whylen) < 0 ||
	    sp_th_op(&p, t, why, whylen) < 0 ||
	    sp_th_value(p, t, why, whylen) < 0)
		return -1;
	if (t->scope == SP_TH_REQUEST &&
	    (t->phase == SP_TH_CONNECT || t->phase == SP_TH_TLS ||
	     t->phase == SP_TH_ITERATION))
		return sp_th_why(why, whylen,
				 "request thresholds measure "
				 "latency or ttfb");
	if (t->scope == SP_TH_SCENARIO) {
		if (t->stat == SP_TH_CHECKS)
			return sp_th_why(why, whylen,
					 "checks are per request "
					 "or global");
		if (t->stat <= SP_TH_MAX && t->phase != SP_TH_ITERATION)
			return sp_th_why(
				why, whylen,
				"scenario thresholds "
				"measure iterations: write iteration.STAT");
	}
	if (t->phase == SP_TH_ITERATION && t->scope == SP_TH_REQUEST)
		return sp_th_why(why, whylen, "iterations belong to scenarios");
	if (t->scope == SP_TH_REQUEST && t->stat >= SP_TH_DROPPED)
		return sp_th_why(why, whylen,
				 "dropped and iterations are the "
				 "run's or a scenario's, not a request's");
	return 0;
}

int
sp_threshold_holds(const struct sp_threshold *t, double v)
{
	switch (t->op) {
	case SP_TH_LT:
		return v < t->value;
	case SP_TH_LE:
		return v <= t->value;
	case SP_TH_GT:
		return v > t->value;
	case SP_TH_GE:
		return v >= t->value;
	case SP_TH_EQ:
		return v == t->value;
	default:
		return v != t->value;
	}
}

double
sp_threshold_shown(const struct sp_threshold *t, double v)
{
	return t->stat == SP_TH_ERRORS || t->stat == SP_TH_CHECKS ||
			       t->stat == SP_TH_DROPPED_SHARE ?
		       v * 100.0 :
		       v;
}
