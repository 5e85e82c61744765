/*
 * Threshold expressions, one grammar for scenario files and --threshold:
 *
 *   [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE[UNIT]
 *
 *   PHASE  latency (the default) | connect | tls | ttfb | iteration
 *          | ws.connect | ws.rtt | ws.session
 *   STAT   p(N) (0 < N <= 100) | med | avg | mean | min | max   (times)
 *          errors | checks | ws.errors                          (rates)
 *          rps | iterations/s | ws.sent/s | ws.received/s       (per second)
 *          dropped | iterations | ws.failed | ws.sessions       (counts)
 *          | ws.sent | ws.received | ws.unmatched
 *   OP     <  <=  >  >=  ==  !=
 *   UNIT   times: us, ms (the default), s; rates: N% or a fraction
 *          written 0.N (a bare 1 could mean 1 % or 100 %: refused; 0 is
 *          0); dropped: a count, or N% for a share of the arrivals;
 *          per second and counts: none
 *
 * e.g.  p(95) < 500ms   errors < 0.1%   rps > 100   ttfb.p(99) < 50ms
 *       request:"GET /" p(99) < 1s   scenario:browse iteration.p(95) < 3s
 *       dropped == 0   dropped < 1%   iterations > 1000   iterations/s > 50
 *       ws.rtt.p(99) < 50ms   ws.connect.p(95) < 200ms   ws.errors < 1%
 *       ws.failed == 0   ws.unmatched == 0   ws.received/s > 1000
 *
 * A NAME with spaces is written in double quotes. Global thresholds may
 * use every phase; request ones latency and ttfb; scenario ones measure
 * iterations: iteration.STAT, errors (failed iterations) and rps
 * (completed iterations per second); dropped and iterations are the run's
 * or a scenario's; the ws.* ones (WebSocket sessions and messages, sp_vu.h)
 * are the run's only. Names are resolved against the plan by the scenario
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

/*
 * ws.PHASE.STAT or ws.STAT (after "ws."): the WebSocket figures. A
 * phase takes a time statistic; the rest are rates, counts and per
 * seconds as the README lists.
 */
static int
sp_th_websocket(const char **pp, struct sp_threshold *t, char *why, size_t wl)
{
	static const struct {
		const char *name;
		uint8_t phase;
	} phases[] = {
		{ "connect", SP_TH_WS_CONNECT },
		{ "rtt", SP_TH_WS_RTT },
		{ "session", SP_TH_WS_SESSION },
	};
	static const struct {
		const char *name;
		uint8_t stat, rate; /* rate: its name/s */
	} stats[] = {
		{ "errors", SP_TH_WS_ERRORS, 0 },
		{ "failed", SP_TH_WS_FAILED, 0 },
		{ "sessions", SP_TH_WS_SESSIONS, 0 },
		{ "sent", SP_TH_WS_SENT, SP_TH_WS_SENT_RATE },
		{ "received", SP_TH_WS_RECEIVED, SP_TH_WS_RECV_RATE },
		{ "unmatched", SP_TH_WS_UNMATCHED, 0 },
	};
	const char *p = *pp;
	size_t n = sp_th_word(p);

	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (p[n] == '.' && sp_th_is(p, n, phases[i].name)) {
			t->phase = phases[i].phase;
			return 1; /* the statistic follows, a time's */
		}
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		if (!sp_th_is(p, n, stats[i].name))
			continue;
		t->stat = stats[i].stat;
		p += n;
		if (stats[i].rate && p[0] == '/' && p[1] == 's' &&
		    !isalpha((unsigned char)p[2])) {
			t->stat = stats[i].rate;
			p += 2;
		}
		*pp = p;
		return 0;
	}
	return sp_th_why(why, wl,
			 "unknown WebSocket metric 'ws.%.*s' (ws.connect.STAT, "
			 "ws.rtt.STAT, ws.session.STAT, ws.errors, ws.failed, "
			 "ws.sessions, ws.sent, ws.received, ws.unmatched, "
			 "ws.sent/s, ws.received/s)",
			 (int)n, p);
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
	int has_phase = 0, rc;

	if (p[n] == '.' && sp_th_is(p, n, "ws")) {
		p += n + 1;
		rc = sp_th_websocket(&p, t, why, wl);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*pp = p;
			return 0;
		}
		has_phase = 1;
		p += sp_th_word(p) + 1;
		n = sp_th_word(p);
	}
	for (size_t i = 0; !has_phase && i < sizeof(phases) / sizeof(phases[0]);
	     i++)
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
	if (has_phase && t->stat >= SP_TH_ERRORS &&
	    t->phase >= SP_TH_WS_CONNECT)
		return sp_th_why(why, wl,
				 "a ws. phase takes a time: p(N), med, "
				 "avg, min or max");
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
		   t->stat == SP_TH_DROPPED || t->stat == SP_TH_WS_ERRORS) {
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
	} else if (t->stat >= SP_TH_WS_FAILED &&
		   t->stat <= SP_TH_WS_UNMATCHED) {
		if (x != (double)(uint64_t)x ||
		    memchr(p, '.', (size_t)(end - p)))
			return sp_th_why(why, wl,
					 "ws.failed, ws.sessions, ws.sent, "
					 "ws.received and ws.unmatched are "
					 "counts: write a whole number "
					 "(ws.errors for a share of the "
					 "sessions, NAME/s for a rate)");
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
	/* Sessions and messages are counted for the run, not per scenario
	 * or request (request:"WS /path" measures the upgrade itself). */
	if (t->scope != SP_TH_GLOBAL &&
	    (t->phase >= SP_TH_WS_CONNECT || t->stat >= SP_TH_WS_ERRORS))
		return sp_th_why(why, whylen,
				 "ws. thresholds are the run's (no "
				 "scenario: or request: scope)");
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
			       t->stat == SP_TH_DROPPED_SHARE ||
			       t->stat == SP_TH_WS_ERRORS ?
		       v * 100.0 :
		       v;
}
