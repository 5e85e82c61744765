/*
 * `stampede run [FILE]`: HTTP/1.1 virtual users from a scenario file, the
 * command line, or both (the command line wins).
 *
 * This file only wires things together: options and the scenario file into
 * a plan (scenario.c), the plan into a VU engine (lib/proto/vu.c) on the
 * worker's stack, and the engine's counters into the live line and the
 * report. The engine decides when the run ends (the plan's duration, to
 * the microsecond of the worker's clock); the control loop's own bound is
 * only a guard a little later.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netdb.h>
#include <netinet/in.h>
#include <rte_random.h>

#include "sp_app.h"
#include "sp_config.h"
#include "sp_html.h"
#include "sp_reqlog_out.h"
#include "sp_scenario.h"
#include "sp_stream_tcp.h"
#include "sp_threshold.h"
#include "sp_vu.h"

/* Pool slots for our TIME_WAIT: closing first at N connections/s holds N
 * slots for the 1 s TIME_WAIT (48 MiB at 183 B each). */
#define SP_RUN_TW_EXTRA 262144
#define SP_RUN_DRAIN_US (3 * SP_US_PER_S)
#define SP_RUN_GUARD_US SP_US_PER_S       /* control's bound after the plan's */
#define SP_RUN_CHUNKS_MAX (128u * 1024u)  /* 2 KiB each: 256 MiB at most */

static const char sp_run_help[] =
	"usage: stampede run [FILE] [options]\n"
	"\n"
	"HTTP/1.1 virtual users. FILE is a YAML scenario (see config/); with\n"
	"no FILE, --url gives one GET request, like wrk. Options have the names\n"
	"of the file's keys and win over them.\n"
	"\n"
	"  --url URL              http://HOST[:PORT]/path, HOST an IPv4 address\n"
	"                         or a name (resolved once, before the load)\n"
	"  --resolve NAME[:PORT]:ADDR  NAME's address, instead of the system\n"
	"                         resolver (repeatable; as curl's --resolve)\n"
	"  --vus N                closed model: N virtual users\n"
	"  --rate R               open model: R iterations per second\n"
	"  --max-vus N            open model: at most N iterations at once\n"
	"  --model closed|open\n"
	"  --duration DUR         e.g. 30s, 2m (default 10s)\n"
	"  --stages LIST          ramps, e.g. \"30s:20,1m:200,30s:0\" (VUs, or\n"
	"                         iterations/s in the open model)\n"
	"  --tags A,B             only scenarios with one of these tags\n"
	"  --exclude-tags A,B     no scenario with one of these tags\n"
	"  --seed N               random draws (think times, weights, {{random}})\n"
	"  --connect-timeout DUR  (default 3s)\n"
	"  --response-timeout DUR (default 10s)\n"
	"  --expect-status LIST   statuses that pass, e.g. 200-299,404 or 2xx,3xx\n"
	"                         (default 100-399: a 4xx or 5xx is a failed\n"
	"                         request, http_status); a request's own\n"
	"                         expect_status: wins\n"
	"  --threshold EXPR       pass/fail criterion (repeatable), e.g.\n"
	"                         'p(95) < 500ms', 'errors < 0.1%', 'rps > 100',\n"
	"                         'request:\"GET /\" ttfb.p(99) < 50ms'\n"
	"  --abort-on-fail        stop the run as soon as a --threshold fails\n"
	"  --abort-grace DUR      ... but not in the run's first DUR\n"
	"  --json FILE            the report as JSON (docs/report-schema.md);\n"
	"                         -: on stdout, the summary then on stderr\n"
	"  --csv PREFIX           PREFIX_stats.csv and PREFIX_timeline.csv\n"
	"  --html FILE            one self-contained page with plots\n"
	"  --log-requests FILE    a CSV row per finished request (times in us)\n"
	"\n" SP_NETOPT_HELP
	"\n"
	"thresholds: [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE\n"
	"  PHASE latency (default), connect, ttfb, iteration; STAT p(N), med,\n"
	"  avg, min, max (us, ms, s), errors, checks (N% or 0.N), rps,\n"
	"  iterations/s, dropped (a count, or N% of arrivals), iterations\n"
	"\n"
	"exit: 0 the run ran and every threshold held, 1 a threshold failed\n"
	"      or no request succeeded,\n"
	"      2 usage or scenario error, 3 could not run (EAL, port, the\n"
	"      target's next hop did not answer ARP) or a report could not be\n"
	"      written\n";

enum {
	SP_OPT_URL = SP_OPT_BASE,
	SP_OPT_VUS,
	SP_OPT_RATE,
	SP_OPT_MAX_VUS,
	SP_OPT_MODEL,
	SP_OPT_DURATION,
	SP_OPT_STAGES,
	SP_OPT_TAGS,
	SP_OPT_EXCLUDE_TAGS,
	SP_OPT_SEED,
	SP_OPT_CONNECT_TIMEOUT,
	SP_OPT_RESPONSE_TIMEOUT,
	SP_OPT_EXPECT_STATUS,
	SP_OPT_THRESHOLD,
	SP_OPT_ABORT_ON_FAIL,
	SP_OPT_ABORT_GRACE,
	SP_OPT_JSON,
	SP_OPT_CSV,
	SP_OPT_HTML,
	SP_OPT_RESOLVE,
	SP_OPT_LOG_REQUESTS,
	SP_OPT_HELP,
};

static const struct option sp_run_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "url", required_argument, NULL, SP_OPT_URL },
	{ "vus", required_argument, NULL, SP_OPT_VUS },
	{ "rate", required_argument, NULL, SP_OPT_RATE },
	{ "max-vus", required_argument, NULL, SP_OPT_MAX_VUS },
	{ "model", required_argument, NULL, SP_OPT_MODEL },
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "stages", required_argument, NULL, SP_OPT_STAGES },
	{ "tags", required_argument, NULL, SP_OPT_TAGS },
	{ "exclude-tags", required_argument, NULL, SP_OPT_EXCLUDE_TAGS },
	{ "seed", required_argument, NULL, SP_OPT_SEED },
	{ "connect-timeout", required_argument, NULL, SP_OPT_CONNECT_TIMEOUT },
	{ "response-timeout", required_argument, NULL, SP_OPT_RESPONSE_TIMEOUT },
	{ "expect-status", required_argument, NULL, SP_OPT_EXPECT_STATUS },
	{ "threshold", required_argument, NULL, SP_OPT_THRESHOLD },
	{ "abort-on-fail", no_argument, NULL, SP_OPT_ABORT_ON_FAIL },
	{ "abort-grace", required_argument, NULL, SP_OPT_ABORT_GRACE },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "csv", required_argument, NULL, SP_OPT_CSV },
	{ "html", required_argument, NULL, SP_OPT_HTML },
	{ "resolve", required_argument, NULL, SP_OPT_RESOLVE },
	{ "log-requests", required_argument, NULL, SP_OPT_LOG_REQUESTS },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sp_run_override {
	const char *key, *value;
};

/* One second of the run, as the control lcore saw it. */
struct sp_run_point {
	uint64_t t_s;                           /* end of the second */
	uint64_t len_us;                        /* how long it really was */
	uint64_t requests, responses, errors, dropped; /* in that second */
	uint64_t vus, conns;                    /* at its end */
	uint64_t p50_us, p95_us, p99_us;        /* its responses */
	uint64_t bytes_sent, bytes_received;    /* in that second */
};

/* Cumulative figures a point is the difference of. */
struct sp_run_cum {
	uint64_t requests, responses, errors, dropped, sent, received;
};

struct sp_run;

/* A worker core's part: the mode's context on that core. */
struct sp_run_core {
	struct sp_run *r;
	struct sp_vu_engine *eng;
	struct sp_stream_tcp tcp; /* the engine's stream over the stack */
};

struct sp_run {
	struct sp_plan plan;
	uint32_t ncores;
	struct sp_run_core core[SP_MAX_CORES];
	/* The engines' figures added up (sp_run_merge): what every report,
	 * threshold and the end of the timeline read. */
	struct sp_vu_stats *tot;
	struct sp_vu_req_stats *rs_tot;
	struct sp_vu_scen_stats *ss_tot;
	struct sp_netopt net;
	int net_set[SP_NETOPT_END - SP_NETOPT_BASE]; /* given on the CLI */
	const char *file;
	const char *json_path;
	const char *csv_prefix;
	const char *html_path;
	const char *log_path;
	struct sp_reqlog_out rlog;   /* --log-requests */
	struct sp_run_override *ov;
	int nov;
	struct sp_worker *w;
	/* Timeline (control lcore only): points, and what the last one saw. */
	struct sp_run_point *tl;
	uint32_t ntl, tl_cap;
	struct sp_run_cum prev;
	uint64_t prev_us;                /* when the last point was taken */
	struct sp_hist *snap, *snap_prev, *delta, *tmp;
	double *th_value;                /* per threshold, at the end */
	int *th_ok;
	const char *aborted_by;          /* the threshold that stopped the run */
	const char *stopped_by;
	int tty;                         /* stderr is a terminal */
	struct sp_placement place; /* how the cores share the port */
};

static int sp_run_th_abort(struct sp_run *r, uint64_t el_us);

/* ---- the mode: the engine on the worker ---- */

static void
sp_run_start(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	sp_vu_start(c->eng, now);
}

static int
sp_run_step(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	return sp_vu_step(c->eng, now);
}

static void
sp_run_stop(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	sp_vu_stop(c->eng, now);
}

static int
sp_run_drain(void *ctx, uint64_t now, int hurry)
{
	struct sp_run_core *c = ctx;

	return sp_vu_drain(c->eng, now, hurry);
}

/*
 * Add the engines' figures up into r->tot, r->rs_tot, r->ss_tot. Counters
 * are plain sums; histograms merge exactly. While the workers run (the
 * thresholds' abort check) each value may be a poll late, never torn.
 */
static void
sp_run_merge(struct sp_run *r)
{
	const size_t nc = offsetof(struct sp_vu_stats, latency) / sizeof(uint64_t);
	const size_t nr = offsetof(struct sp_vu_req_stats, latency) / sizeof(uint64_t);
	const size_t ns = offsetof(struct sp_vu_scen_stats, iteration) / sizeof(uint64_t);
	struct sp_vu_stats *t = r->tot;

	memset(t, 0, sizeof(*t));
	sp_hist_init(&t->latency);
	sp_hist_init(&t->connect);
	sp_hist_init(&t->ttfb);
	sp_hist_init(&t->iteration);
	sp_hist_init(&t->lag);
	for (uint32_t i = 0; i < r->plan.nrequests; i++) {
		memset(&r->rs_tot[i], 0, offsetof(struct sp_vu_req_stats, latency));
		sp_hist_init(&r->rs_tot[i].latency);
		sp_hist_init(&r->rs_tot[i].ttfb);
	}
	for (uint32_t i = 0; i < r->plan.nscenarios; i++) {
		memset(&r->ss_tot[i], 0, offsetof(struct sp_vu_scen_stats, iteration));
		sp_hist_init(&r->ss_tot[i].iteration);
	}
	for (uint32_t c = 0; c < r->ncores; c++) {
		const struct sp_vu_stats *s = sp_vu_stats(r->core[c].eng);
		const struct sp_vu_req_stats *rs = sp_vu_req_stats(r->core[c].eng);
		const struct sp_vu_scen_stats *ss = sp_vu_scen_stats(r->core[c].eng);

		for (size_t k = 0; k < nc; k++)
			((uint64_t *)t)[k] += sp_read64(&((const uint64_t *)s)[k]);
		sp_hist_merge(&t->latency, &s->latency);
		sp_hist_merge(&t->connect, &s->connect);
		sp_hist_merge(&t->ttfb, &s->ttfb);
		sp_hist_merge(&t->iteration, &s->iteration);
		sp_hist_merge(&t->lag, &s->lag);
		for (uint32_t i = 0; i < r->plan.nrequests; i++) {
			for (size_t k = 0; k < nr; k++)
				((uint64_t *)&r->rs_tot[i])[k] +=
					sp_read64(&((const uint64_t *)&rs[i])[k]);
			sp_hist_merge(&r->rs_tot[i].latency, &rs[i].latency);
			sp_hist_merge(&r->rs_tot[i].ttfb, &rs[i].ttfb);
		}
		for (uint32_t i = 0; i < r->plan.nscenarios; i++) {
			for (size_t k = 0; k < ns; k++)
				((uint64_t *)&r->ss_tot[i])[k] +=
					sp_read64(&((const uint64_t *)&ss[i])[k]);
			sp_hist_merge(&r->ss_tot[i].iteration, &ss[i].iteration);
		}
	}
}

/* The cumulative counters of every engine, added up. */
static void
sp_run_cum_read(const struct sp_run *r, struct sp_run_cum *c, uint64_t *vus,
		uint64_t *conns)
{
	memset(c, 0, sizeof(*c));
	*vus = *conns = 0;
	for (uint32_t i = 0; i < r->ncores; i++) {
		const struct sp_vu_stats *s = sp_vu_stats(r->core[i].eng);

		c->requests += sp_read64(&s->requests);
		c->responses += sp_read64(&s->responses);
		c->errors += sp_read64(&s->failed);
		c->dropped += sp_read64(&s->it_dropped);
		c->sent += sp_read64(&s->bytes_sent);
		c->received += sp_read64(&s->bytes_received);
		*vus += sp_read64(&s->vus_active);
		*conns += sp_read64(&s->conns_open);
	}
}

/*
 * Close the timeline's current second: counts are differences of the
 * engine's cumulative counters, percentiles those of the difference of two
 * histogram snapshots. The last call (after the worker stopped) reads the
 * final counters, so the points always add up to the totals.
 */
static const struct sp_run_point *
sp_run_sample(struct sp_run *r, uint64_t now, int last)
{
	struct sp_run_point *p;
	struct sp_run_cum c;
	struct sp_hist *t;
	uint64_t start = sp_read64(&r->w->run_start_us), vus, conns, t_s;

	if (r->ntl == r->tl_cap)
		return r->ntl ? &r->tl[r->ntl - 1] : NULL;
	sp_run_cum_read(r, &c, &vus, &conns);
	/* The end, right after a point with nothing since: no point of its
	 * own (it would stand for a second nothing happened in). */
	if (last && r->ntl != 0 && memcmp(&c, &r->prev, sizeof(c)) == 0)
		return &r->tl[r->ntl - 1];
	/* A tick stands for the second it falls in (it comes a few ms after
	 * it, or late), the end for the nearest; either after the previous
	 * point's: the end may come within a second of the last tick. */
	t_s = now > start ? (now - start + (last ? SP_US_PER_S / 2 : 0)) /
				    SP_US_PER_S
			  : 0;
	if (r->ntl != 0 && t_s <= r->tl[r->ntl - 1].t_s)
		t_s = r->tl[r->ntl - 1].t_s + 1;
	sp_hist_init(r->snap);
	for (uint32_t i = 0; i < r->ncores; i++) {
		sp_hist_snapshot(r->tmp, &sp_vu_stats(r->core[i].eng)->latency);
		sp_hist_merge(r->snap, r->tmp);
	}
	sp_hist_delta(r->delta, r->snap, r->snap_prev);
	p = &r->tl[r->ntl++];
	p->t_s = t_s;
	if (r->prev_us == 0 || r->prev_us < start)
		r->prev_us = start;
	p->len_us = now > r->prev_us ? now - r->prev_us : 0;
	r->prev_us = now;
	p->requests = c.requests - r->prev.requests;
	p->responses = c.responses - r->prev.responses;
	p->errors = c.errors - r->prev.errors;
	p->dropped = c.dropped - r->prev.dropped;
	p->bytes_sent = c.sent - r->prev.sent;
	p->bytes_received = c.received - r->prev.received;
	p->vus = vus;
	p->conns = conns;
	p->p50_us = sp_hist_quantile(r->delta, 0.50);
	p->p95_us = sp_hist_quantile(r->delta, 0.95);
	p->p99_us = sp_hist_quantile(r->delta, 0.99);
	r->prev = c;
	t = r->snap_prev;
	r->snap_prev = r->snap;
	r->snap = t;
	return p;
}

/* Which stage the schedule is in at @t_us (1-based), or 0 without stages. */
static uint32_t
sp_run_stage_at(const struct sp_plan *pl, uint64_t t_us)
{
	for (uint32_t i = 0; i < pl->nstages; i++) {
		if (t_us < pl->stages[i].duration_us)
			return i + 1;
		t_us -= pl->stages[i].duration_us;
	}
	return pl->nstages;
}

static int
sp_run_tick(void *ctx, uint64_t now, char *buf, size_t len)
{
	struct sp_run *r = ((struct sp_run_core *)ctx)->r;
	const struct sp_plan *pl = &r->plan;
	const struct sp_run_point *p = sp_run_sample(r, now, 0);
	uint64_t el = now - sp_read64(&r->w->run_start_us);
	unsigned done = pl->duration_us
				? (unsigned)(el * 20 / pl->duration_us) : 20;
	char bar[24], stage[32] = "";
	int n;

	if (p == NULL)
		return 0;
	if (done > 20)
		done = 20;
	/* The bar is for a terminal; a log gets plain figures. */
	bar[0] = '\0';
	if (r->tty) {
		bar[0] = ' ';
		memset(bar + 1, '#', done);
		memset(bar + 1 + done, '.', 20 - done);
		bar[21] = '\0';
	}
	if (pl->nstages != 0)
		snprintf(stage, sizeof(stage), " stage %" PRIu32 "/%" PRIu32,
			 sp_run_stage_at(pl, el), pl->nstages);
	n = snprintf(buf, len, "[%4.0fs/%.0fs%s]%s vus %" PRIu64 " conns %"
		     PRIu64 " | %" PRIu64 " req/s p50 %.1f p95 %.1f p99 %.1f ms"
		     " | %" PRIu64 " err/s", (double)el / 1e6,
		     (double)pl->duration_us / 1e6, bar, stage, p->vus, p->conns,
		     p->responses, (double)p->p50_us / 1e3,
		     (double)p->p95_us / 1e3, (double)p->p99_us / 1e3,
		     p->errors);
	if (p->dropped != 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %" PRIu64 " dropped/s",
			 p->dropped);
	return sp_run_th_abort(r, el);
}

static void
sp_run_flushed(void *ctx, uint64_t now)
{
	sp_vu_flushed(((struct sp_run_core *)ctx)->eng, now);
}

static void
sp_run_poll(void *ctx)
{
	sp_reqlog_out_drain(&((struct sp_run_core *)ctx)->r->rlog);
}

static const struct sp_mode sp_run_mode = {
	.name = "run",
	.start = sp_run_start,
	.step = sp_run_step,
	.stop = sp_run_stop,
	.drain = sp_run_drain,
	.tick = sp_run_tick,
	.poll = sp_run_poll,
	.flushed = sp_run_flushed,
};

/* ---- options ---- */

static const char *const sp_run_keys[] = {
	[SP_OPT_URL - SP_OPT_BASE] = "url",
	[SP_OPT_VUS - SP_OPT_BASE] = "vus",
	[SP_OPT_RATE - SP_OPT_BASE] = "rate",
	[SP_OPT_MAX_VUS - SP_OPT_BASE] = "max-vus",
	[SP_OPT_MODEL - SP_OPT_BASE] = "model",
	[SP_OPT_DURATION - SP_OPT_BASE] = "duration",
	[SP_OPT_STAGES - SP_OPT_BASE] = "stages",
	[SP_OPT_TAGS - SP_OPT_BASE] = "tags",
	[SP_OPT_EXCLUDE_TAGS - SP_OPT_BASE] = "exclude-tags",
	[SP_OPT_SEED - SP_OPT_BASE] = "seed",
	[SP_OPT_CONNECT_TIMEOUT - SP_OPT_BASE] = "connect-timeout",
	[SP_OPT_RESPONSE_TIMEOUT - SP_OPT_BASE] = "response-timeout",
	[SP_OPT_EXPECT_STATUS - SP_OPT_BASE] = "expect-status",
	[SP_OPT_THRESHOLD - SP_OPT_BASE] = "threshold",
	[SP_OPT_ABORT_ON_FAIL - SP_OPT_BASE] = "abort-on-fail",
	[SP_OPT_ABORT_GRACE - SP_OPT_BASE] = "abort-grace",
};

static int
sp_run_args(int argc, char **argv, struct sp_run *r)
{
	int code, n;

	sp_netopt_init(&r->net);
	r->ov = calloc((size_t)argc + 1, sizeof(*r->ov));
	if (r->ov == NULL)
		return -1;
	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_run_longopts, NULL)) != -1) {
		n = sp_netopt_parse(&r->net, code, optarg);
		if (n < 0)
			return -1;
		if (n > 0) {
			r->net_set[code - SP_NETOPT_BASE] = 1;
			continue;
		}
		switch (code) {
		case SP_OPT_JSON:
			r->json_path = optarg;
			break;
		case SP_OPT_CSV:
			r->csv_prefix = optarg;
			break;
		case SP_OPT_HTML:
			r->html_path = optarg;
			break;
		case SP_OPT_LOG_REQUESTS:
			r->log_path = optarg;
			break;
		case SP_OPT_ABORT_ON_FAIL:
			r->ov[r->nov].key = "abort-on-fail";
			r->ov[r->nov++].value = "1";
			break;
		case SP_OPT_RESOLVE:
			r->ov[r->nov].key = "resolve";
			r->ov[r->nov++].value = optarg;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_run_help, stdout);
			exit(SP_EXIT_OK);
		default:
			if (code >= SP_OPT_URL && code <= SP_OPT_ABORT_GRACE) {
				r->ov[r->nov].key = sp_run_keys[code - SP_OPT_BASE];
				r->ov[r->nov++].value = optarg;
				break;
			}
			return sp_opt_bad("run", code, argv);
		}
	}
	if (optind < argc)
		r->file = argv[optind++];
	if (optind < argc) {
		sp_usage_error("run: unexpected argument '%s' (one scenario "
			       "file at most)", argv[optind]);
		return -1;
	}
	return 0;
}

/* The file's network keys, where the command line gave none. */
static int
sp_run_file_net(struct sp_run *r)
{
	const struct sp_plan_net *fn = &r->plan.net;
	const struct {
		int code;
		const char *v;
	} keys[] = {
		{ SP_NETOPT_PORT, fn->port },
		{ SP_NETOPT_IP, fn->ip },
		{ SP_NETOPT_PREFIX_LEN, fn->prefix_len },
		{ SP_NETOPT_GATEWAY, fn->gateway },
		{ SP_NETOPT_EAL, fn->eal },
		{ SP_NETOPT_CORES, fn->cores },
		{ SP_NETOPT_PLACEMENT, fn->placement },
		{ SP_NETOPT_NO_KERNEL_BLIND, fn->kernel_blind },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].v == NULL || r->net_set[keys[i].code - SP_NETOPT_BASE])
			continue;
		if (sp_netopt_parse(&r->net, keys[i].code, keys[i].v) < 0) {
			fprintf(stderr, "stampede: (from %s, network section)\n",
				r->plan.source);
			return -1;
		}
	}
	return 0;
}

/* sp_resolver_fn: the system resolver (/etc/hosts, DNS, ... as
 * nsswitch.conf says), IPv4 only for now; the first address. */
static int
sp_run_getaddrinfo(const char *name, uint32_t *ip, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc != 0 || res == NULL) {
		snprintf(why, len, "%s", rc == EAI_SYSTEM ? strerror(errno) :
					 rc != 0 ? gai_strerror(rc) :
						   "no IPv4 address");
		return -1;
	}
	*ip = ntohl(((const struct sockaddr_in *)(const void *)res->ai_addr)
			    ->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

static int
sp_run_plan(struct sp_run *r)
{
	struct sp_scenario_err e;

	sp_scenario_init(&r->plan);
	if (r->file != NULL && sp_scenario_load(&r->plan, r->file, &e) < 0)
		goto bad;
	for (int i = 0; i < r->nov; i++)
		if (sp_scenario_set(&r->plan, r->ov[i].key, r->ov[i].value, &e) < 0)
			goto bad;
	if (sp_scenario_finish(&r->plan, &e) < 0)
		goto bad;
	if (sp_run_file_net(r) < 0 || sp_netopt_finish(&r->net) < 0)
		return -1;
	/* Here, on the control thread, before EAL and any frame: a name is
	 * resolved once for the whole run. */
	if (sp_scenario_resolve(&r->plan, sp_run_getaddrinfo, &e) < 0)
		goto bad;
	if (sp_netopt_check_target(&r->net, "target", r->plan.target_name,
				   r->plan.dst_ip) < 0)
		return -1;
	r->plan.user_agent = "stampede/" SP_VERSION;
	return 0;
bad:
	fprintf(stderr, "%s\n", e.msg);
	return -1;
}

/* ---- thresholds ---- */

/* Requests named @name (several scenarios may use one name), merged. */
static void
sp_run_req_sum(const struct sp_run *r, const char *name, uint32_t len,
	       struct sp_vu_req_stats *sum)
{
	const struct sp_vu_req_stats *rs = r->rs_tot;

	memset(sum, 0, sizeof(*sum));
	sp_hist_init(&sum->latency);
	sp_hist_init(&sum->ttfb);
	for (uint32_t i = 0; i < r->plan.nrequests; i++) {
		const char *n = r->plan.requests[i].name;

		if (strlen(n) != len || strncmp(n, name, len) != 0)
			continue;
		sum->started += rs[i].started;
		sum->responses += rs[i].responses;
		sum->failed += rs[i].failed;
		sum->check_failed += rs[i].check_failed;
		sum->status_failed += rs[i].status_failed;
		sp_hist_merge(&sum->latency, &rs[i].latency);
		sp_hist_merge(&sum->ttfb, &rs[i].ttfb);
	}
}

static double
sp_run_hist_stat(const struct sp_threshold *t, const struct sp_hist *h)
{
	switch (t->stat) {
	case SP_TH_QUANTILE:
		return (double)sp_hist_quantile(h, t->q) / 1e3;
	case SP_TH_MEAN:
		return sp_hist_mean(h) / 1e3;
	case SP_TH_MIN:
		return h->count ? (double)h->min / 1e3 : 0.0;
	default:
		return (double)h->max / 1e3;
	}
}

static double
sp_ratio(uint64_t a, uint64_t b, double none)
{
	return b ? (double)a / (double)b : none;
}

/*
 * The value a threshold compares, from the engine's counters. @s holds
 * consistent copies of the histograms it needs (the control lcore's own
 * snapshots while the run goes on). Rates with nothing to count are the
 * harmless value: no error, every check held.
 */
static double
sp_run_th_value(const struct sp_run *r, const struct sp_threshold *t,
		const struct sp_vu_stats *s, double elapsed_s)
{
	const struct sp_hist *h = &s->latency;

	if (t->scope == SP_TH_REQUEST) {
		struct sp_vu_req_stats q;

		sp_run_req_sum(r, t->expr + t->name_off, t->name_len, &q);
		switch (t->stat) {
		case SP_TH_ERRORS:
			return sp_ratio(q.failed, q.started, 0.0);
		case SP_TH_RPS:
			return sp_rate((double)q.responses, elapsed_s);
		case SP_TH_CHECKS:
			/* An unexpected status ran no check. */
			return sp_ratio(q.responses - q.status_failed - q.check_failed,
					q.responses - q.status_failed, 1.0);
		default:
			return sp_run_hist_stat(t, t->phase == SP_TH_TTFB ? &q.ttfb
									  : &q.latency);
		}
	}
	if (t->scope == SP_TH_SCENARIO) {
		const struct sp_vu_scen_stats *ss = &r->ss_tot[t->idx];

		switch (t->stat) {
		case SP_TH_ERRORS:
			return sp_ratio(ss->failed, ss->started, 0.0);
		case SP_TH_RPS:
		case SP_TH_ITER_RATE:
			return sp_rate((double)ss->completed, elapsed_s);
		case SP_TH_DROPPED:
			return (double)ss->dropped;
		case SP_TH_DROPPED_SHARE:
			return sp_ratio(ss->dropped, ss->started + ss->dropped, 0.0);
		case SP_TH_ITERATIONS:
			return (double)ss->completed;
		default:
			return sp_run_hist_stat(t, &ss->iteration);
		}
	}
	switch (t->stat) {
	case SP_TH_ERRORS:
		return sp_ratio(s->failed, s->requests, 0.0);
	case SP_TH_RPS:
		return sp_rate((double)s->responses, elapsed_s);
	case SP_TH_CHECKS:
		return sp_ratio(s->checks_passed,
				s->checks_passed + s->err[SP_VU_E_CHECK], 1.0);
	case SP_TH_DROPPED:
		return (double)s->it_dropped;
	case SP_TH_DROPPED_SHARE:
		return sp_ratio(s->it_dropped, s->arrivals, 0.0);
	case SP_TH_ITERATIONS:
		return (double)s->it_completed;
	case SP_TH_ITER_RATE:
		return sp_rate((double)s->it_completed, elapsed_s);
	default:
		break;
	}
	if (t->phase == SP_TH_CONNECT)
		h = &s->connect;
	else if (t->phase == SP_TH_TTFB)
		h = &s->ttfb;
	else if (t->phase == SP_TH_ITERATION)
		h = &s->iteration;
	return sp_run_hist_stat(t, h);
}

/* Every threshold against the final figures; returns how many failed. */
static uint32_t
sp_run_th_final(struct sp_run *r, double elapsed_s)
{
	const struct sp_vu_stats *s = r->tot;
	uint32_t failed = 0;

	for (uint32_t i = 0; i < r->plan.nthresholds; i++) {
		const struct sp_threshold *t = &r->plan.thresholds[i];

		r->th_value[i] = sp_run_th_value(r, t, s, elapsed_s);
		r->th_ok[i] = sp_threshold_holds(t, r->th_value[i]);
		failed += !r->th_ok[i];
	}
	return failed;
}

/*
 * While the run goes on (control lcore, once a second): does a threshold
 * marked abort fail already? Global histograms are read from a snapshot;
 * per-scenario and per-request ones are read as they are, which may be a
 * record or two behind, never torn (sp_hist.h).
 */
static int
sp_run_th_abort(struct sp_run *r, uint64_t el_us)
{
	int any = 0;

	for (uint32_t i = 0; i < r->plan.nthresholds; i++)
		any |= r->plan.thresholds[i].abort &&
		       el_us >= r->plan.thresholds[i].grace_us;
	if (!any)
		return 0;
	sp_run_merge(r);
	for (uint32_t i = 0; i < r->plan.nthresholds; i++) {
		const struct sp_threshold *t = &r->plan.thresholds[i];

		if (!t->abort || el_us < t->grace_us)
			continue;
		if (!sp_threshold_holds(t, sp_run_th_value(r, t, r->tot,
							   (double)el_us / 1e6))) {
			r->aborted_by = t->expr;
			return 1;
		}
	}
	return 0;
}

/* ---- the report ---- */

struct sp_run_lat {
	const char *name;
	const struct sp_hist *h;
};

static void
sp_run_lat_json(FILE *f, const struct sp_hist *h)
{
	fprintf(f, "{\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
		"\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}",
		h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
		(double)sp_hist_quantile(h, 0.5) / 1e3,
		(double)sp_hist_quantile(h, 0.9) / 1e3,
		(double)sp_hist_quantile(h, 0.95) / 1e3,
		(double)sp_hist_quantile(h, 0.99) / 1e3,
		(double)sp_hist_quantile(h, 0.999) / 1e3,
		(double)h->max / 1e3);
}

static void
sp_run_lat_line(FILE *out, const char *what, const struct sp_hist *h)
{
	fprintf(out, "  %-15s min %.3f  mean %.3f  p50 %.3f  p90 %.3f  p95 %.3f"
		"  p99 %.3f  p99.9 %.3f  max %.3f  (%" PRIu64 ")\n", what,
		h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
		(double)sp_hist_quantile(h, 0.5) / 1e3,
		(double)sp_hist_quantile(h, 0.9) / 1e3,
		(double)sp_hist_quantile(h, 0.95) / 1e3,
		(double)sp_hist_quantile(h, 0.99) / 1e3,
		(double)sp_hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3,
		h->count);
}

/*
 * A point shorter than this is a partial second (the end of the run after
 * its last tick): its counts are not a rate, so it is marked, with its
 * length, and kept out of the peak. Ticks come a few ms late, never 10 %.
 */
#define SP_RUN_PARTIAL_US (SP_US_PER_S * 9 / 10)

static int
sp_run_partial(const struct sp_run_point *p)
{
	return p->len_us < SP_RUN_PARTIAL_US;
}

/* The load's length: start to when the engines stopped starting work
 * (the plan's duration, or a stop), without the drain after it. */
static double
sp_run_load_s(const struct sp_run *r, const struct sp_report *rep)
{
	uint64_t load = 0;

	for (uint32_t c = 0; c < r->ncores; c++) {
		uint64_t stop = sp_vu_stopped_at(r->core[c].eng);
		uint64_t start = r->w[c].run_start_us;

		if (stop > start && stop - start > load)
			load = stop - start;
	}
	if (load == 0)
		return rep->elapsed_s;
	return (double)load / 1e6;
}

/* Responses per second of the load: every response, those the drain
 * received included (they answer requests the load made). */
static double
sp_run_mean_rps(const struct sp_run *r, const struct sp_report *rep)
{
	return sp_rate((double)r->tot->responses, sp_run_load_s(r, rep));
}

/* The busiest whole second's responses; never below the mean (the load
 * as a whole is a window too: a run shorter than a second, or one whose
 * drain answered much, has its busiest rate there). */
static double
sp_run_peak_rps(const struct sp_run *r, const struct sp_report *rep)
{
	double peak = 0, mean = sp_run_mean_rps(r, rep);

	for (uint32_t i = 0; i < r->ntl; i++)
		if (!sp_run_partial(&r->tl[i]) &&
		    (double)r->tl[i].responses > peak)
			peak = (double)r->tl[i].responses;
	return peak > mean ? peak : mean;
}

/* Responses that passed: their status was expected and their checks held. */
static uint64_t
sp_run_succeeded(const struct sp_vu_stats *s)
{
	return s->responses - s->err[SP_VU_E_CHECK] - s->err[SP_VU_E_HTTP_STATUS];
}

/*
 * The generator's share of the latency: its lag's p99 over the latency's
 * p99. Above SP_RUN_LAG_SHARE the figures say as much about this machine
 * as about the server (a worker that did not run, a loop that fell
 * behind), and every report says so.
 */
#define SP_RUN_LAG_SHARE 0.10

static double
sp_run_lag_share(const struct sp_vu_stats *s)
{
	uint64_t lat = sp_hist_quantile(&s->latency, 0.99);

	if (s->lag.count == 0 || s->latency.count == 0 || lat == 0)
		return 0.0;
	return (double)sp_hist_quantile(&s->lag, 0.99) / (double)lat;
}

/* Where the port would give each frame's arrival time, the time from
 * arrival to processing would be reported beside the lag. */
static const char sp_run_rx_lag_note[] =
	"not measured: the port gives no arrival timestamps (af_packet "
	"never does)";

static void
sp_run_print(const struct sp_run *r, const struct sp_report *rep, FILE *out)
{
	const struct sp_plan *pl = &r->plan;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	char sent[32], recv[32], addr[16];
	int any = 0;

	sp_ipv4_str(pl->dst_ip, addr, sizeof(addr));
	fprintf(out, "stampede run %s -> http://%s%s%s%s (%s model, stopped by "
		"%s)\n", pl->source, pl->host,
		pl->target_name != NULL ? " [" : "",
		pl->target_name != NULL ? addr : "",
		pl->target_name != NULL ? "]" : "",
		pl->model == SP_MODEL_OPEN ? "open" : "closed", r->stopped_by);
	fprintf(out, "  elapsed         %.3f s\n", rep->elapsed_s);
	fprintf(out, "  iterations      started %" PRIu64 "  completed %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64 "  dropped %" PRIu64
		"\n", s->it_started, s->it_completed, s->it_failed,
		s->it_interrupted, s->it_dropped);
	fprintf(out, "  requests        started %" PRIu64 "  responses %" PRIu64
		"  succeeded %" PRIu64 "  failed %" PRIu64 "  interrupted %"
		PRIu64 "\n", s->requests, s->responses, sp_run_succeeded(s),
		s->failed, s->interrupted);
	if (sp_run_succeeded(s) == 0)
		fprintf(out, "  NO REQUEST SUCCEEDED: the run measured nothing "
			"(exit code 1)\n");
	fprintf(out, "  rate            mean %.1f responses/s over the %.3f s "
		"load  peak %.0f/s\n", sp_run_mean_rps(r, rep),
		sp_run_load_s(r, rep), sp_run_peak_rps(r, rep));
	fprintf(out, "  latency ms      (from the intended start to the last byte)\n");
	sp_run_lat_line(out, "  response", &s->latency);
	sp_run_lat_line(out, "  first byte", &s->ttfb);
	sp_run_lat_line(out, "  connect", &s->connect);
	sp_run_lat_line(out, "  iteration", &s->iteration);
	sp_run_lat_line(out, "  generator lag", &s->lag);
	fprintf(out, "  (lag: a request's first frame queued minus its intended "
		"start; receive lag %s)\n", sp_run_rx_lag_note);
	if (sp_run_lag_share(s) > SP_RUN_LAG_SHARE)
		fprintf(out, "  warning: the generator's own lag is %.0f %% of "
			"the latency at p99 (%.3f of %.3f ms): this machine, not "
			"only the server, shaped the figures\n",
			100.0 * sp_run_lag_share(s),
			(double)sp_hist_quantile(&s->lag, 0.99) / 1e3,
			(double)sp_hist_quantile(&s->latency, 0.99) / 1e3);
	fprintf(out, "  status codes   ");
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(out, " %d: %" PRIu64, c, s->codes[c]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	any = 0;
	fprintf(out, "  errors by kind ");
	for (int k = 0; k < SP_VU_E_N; k++)
		if (s->err[k] != 0) {
			fprintf(out, " %s %" PRIu64,
				sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	fprintf(out, "  checks          passed %" PRIu64 "  failed %" PRIu64 "\n",
		s->checks_passed, s->err[SP_VU_E_CHECK]);
	fprintf(out, "  connections     opened %" PRIu64 "  reconnects %" PRIu64
		"  closed by server when idle %" PRIu64 "  retries (our pool) %"
		PRIu64 "  closed after lenient framing %" PRIu64 "\n",
		s->connects, s->reconnects, s->server_closes,
		s->connect_retries, s->lenient_closes);
	sp_fmt_bytes(s->bytes_sent, sent, sizeof(sent));
	sp_fmt_bytes(s->bytes_received, recv, sizeof(recv));
	fprintf(out, "  http bytes      sent %s (%.2f Mbit/s)  received %s "
		"(%.2f Mbit/s)\n", sent,
		sp_rate((double)s->bytes_sent * 8 / 1e6, rep->elapsed_s), recv,
		sp_rate((double)s->bytes_received * 8 / 1e6, rep->elapsed_s));
	fprintf(out, "  %-24s %8s %10s %10s %8s %8s %8s %10s\n", "scenario",
		"weight", "started", "completed", "failed", "interr", "dropped",
		"iter p95");
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled)
			fprintf(out, "  %-24s %8" PRIu32 " %10" PRIu64 " %10" PRIu64
				" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10.3f\n",
				pl->scenarios[i].name, pl->scenarios[i].weight,
				ss[i].started, ss[i].completed, ss[i].failed,
				ss[i].interrupted, ss[i].dropped,
				(double)sp_hist_quantile(&ss[i].iteration, 0.95) / 1e3);
	fprintf(out, "  %-24s %10s %10s %8s %8s %9s %9s %9s %9s\n", "request",
		"started", "responses", "failed", "checks", "p50 ms", "p95 ms",
		"p99 ms", "max ms");
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		const struct sp_hist *rh = &rs[i].latency;

		if (rs[i].started == 0)
			continue;
		fprintf(out, "  %-24s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %9.3f %9.3f %9.3f %9.3f\n",
			pl->requests[i].name, rs[i].started, rs[i].responses,
			rs[i].failed, rs[i].check_failed,
			(double)sp_hist_quantile(rh, 0.5) / 1e3,
			(double)sp_hist_quantile(rh, 0.95) / 1e3,
			(double)sp_hist_quantile(rh, 0.99) / 1e3,
			(double)rh->max / 1e3);
	}
	if (pl->nthresholds != 0)
		fprintf(out, "  thresholds\n");
	for (uint32_t i = 0; i < pl->nthresholds; i++)
		fprintf(out, "    %-6s %-40s %.3f\n", r->th_ok[i] ? "ok" : "FAILED",
			pl->thresholds[i].expr,
			sp_threshold_shown(&pl->thresholds[i], r->th_value[i]));
	if (r->log_path != NULL)
		fprintf(out, "  request log     %s: %" PRIu64 " rows, %" PRIu64
			" lost to a full ring\n", r->log_path, r->rlog.written,
			sp_reqlog_out_dropped(&r->rlog));
	sp_print_stack(rep, out);
	for (uint32_t c = 0; r->ncores > 1 && c < r->ncores; c++) {
		const struct sp_vu_stats *cs = sp_vu_stats(r->core[c].eng);
		char what[96];

		snprintf(what, sizeof(what), "connections %" PRIu64
			 "  requests %" PRIu64 "  responses %" PRIu64,
			 cs->connects, cs->requests, cs->responses);
		sp_print_core(out, c, &r->w[c], what);
	}
	fflush(out);
}

static int
sp_run_json(const struct sp_run *r, const struct sp_report *rep, FILE *f,
	    const char *path)
{
	const struct sp_plan *pl = &r->plan;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	const struct sp_run_lat lats[] = {
		{ "latency_ms", &s->latency }, { "connect_ms", &s->connect },
		{ "ttfb_ms", &s->ttfb }, { "iteration_ms", &s->iteration },
		{ "lag_ms", &s->lag },
	};
	const char *sep = "";
	char target[300], addr[16];

	snprintf(target, sizeof(target), "http://%s", pl->host);
	sp_ipv4_str(pl->dst_ip, addr, sizeof(addr));
	fprintf(f, "{\"version\":1,\"mode\":\"http\",\"target\":");
	sp_json_str(f, target);
	fprintf(f, ",\"target_addr\":\"%s:%u\"", addr, pl->dst_port);
	fprintf(f, ",\"source\":");
	sp_json_str(f, pl->source);
	fprintf(f, ",\"model\":\"%s\",\"elapsed_s\":%.6f,\"stopped_by\":\"%s\",\n",
		pl->model == SP_MODEL_OPEN ? "open" : "closed", rep->elapsed_s,
		r->stopped_by);
	fprintf(f, " \"summary\":{\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"succeeded\":%" PRIu64 ",\"nothing_succeeded\":%s"
		",\"errors\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"rps\":%.3f,\"peak_rps\":%.3f,\"duration_s\":%.6f,"
		"\"codes\":{", s->requests, s->responses, sp_run_succeeded(s),
		sp_run_succeeded(s) == 0 ? "true" : "false", s->failed,
		s->interrupted, sp_run_mean_rps(r, rep), sp_run_peak_rps(r, rep),
		sp_run_load_s(r, rep));
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(f, "%s\"%d\":%" PRIu64, sep, c, s->codes[c]);
			sep = ",";
		}
	fprintf(f, "},\"errors_by_kind\":{");
	for (int k = 0; k < SP_VU_E_N; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
	fprintf(f, "},\"checks\":{\"passed\":%" PRIu64 ",\"failed\":%" PRIu64 "}",
		s->checks_passed, s->err[SP_VU_E_CHECK]);
	for (size_t i = 0; i < sizeof(lats) / sizeof(lats[0]); i++) {
		fprintf(f, ",\"%s\":", lats[i].name);
		sp_run_lat_json(f, lats[i].h);
	}
	fprintf(f, ",\"lag_share_p99\":%.4f,\"lag_warning\":%s,"
		"\"rx_lag_ms\":null,\"rx_lag_note\":", sp_run_lag_share(s),
		sp_run_lag_share(s) > SP_RUN_LAG_SHARE ? "true" : "false");
	sp_json_str(f, sp_run_rx_lag_note);
	fprintf(f, ",\n  \"iterations\":{\"started\":%" PRIu64 ",\"completed\":%"
		PRIu64 ",\"failed\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"dropped\":%" PRIu64 "},\"connections\":{\"opened\":%" PRIu64
		",\"reconnects\":%" PRIu64 ",\"server_closes\":%" PRIu64
		",\"lenient_closes\":%" PRIu64
		",\"open_at_end\":%" PRIu64 "},\"bytes\":{\"sent\":%" PRIu64
		",\"received\":%" PRIu64 "},\"bits_per_s\":{\"sent\":%.1f,"
		"\"received\":%.1f}},\n", s->it_started, s->it_completed,
		s->it_failed, s->it_interrupted, s->it_dropped, s->connects,
		s->reconnects, s->server_closes, s->lenient_closes, s->conns_open,
		s->bytes_sent,
		s->bytes_received,
		sp_rate((double)s->bytes_sent * 8, rep->elapsed_s),
		sp_rate((double)s->bytes_received * 8, rep->elapsed_s));
	fprintf(f, " \"scenarios\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->scenarios[i].name);
		fprintf(f, ",\"weight\":%" PRIu32 ",\"started\":%" PRIu64
			",\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
			",\"interrupted\":%" PRIu64 ",\"dropped\":%" PRIu64
			",\"iteration_ms\":", pl->scenarios[i].weight,
			ss[i].started, ss[i].completed, ss[i].failed,
			ss[i].interrupted, ss[i].dropped);
		sp_run_lat_json(f, &ss[i].iteration);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "],\n \"requests\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->requests[i].name);
		fprintf(f, ",\"started\":%" PRIu64 ",\"responses\":%" PRIu64
			",\"failed\":%" PRIu64 ",\"check_failed\":%" PRIu64
			",\"status_failed\":%" PRIu64
			",\"interrupted\":%" PRIu64 ",\"latency_ms\":",
			rs[i].started, rs[i].responses, rs[i].failed,
			rs[i].check_failed, rs[i].status_failed,
			rs[i].interrupted);
		sp_run_lat_json(f, &rs[i].latency);
		fprintf(f, ",\"ttfb_ms\":");
		sp_run_lat_json(f, &rs[i].ttfb);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "],\n \"cores\":[");
	for (uint32_t c = 0; c < r->ncores; c++) {
		const struct sp_vu_stats *cs = sp_vu_stats(r->core[c].eng);
		char fields[192];

		snprintf(fields, sizeof(fields), "\"requests\":%" PRIu64
			 ",\"responses\":%" PRIu64 ",\"errors\":%" PRIu64
			 ",\"connections\":%" PRIu64 ",\"vus_max\":%" PRIu64,
			 cs->requests, cs->responses, cs->failed, cs->connects,
			 cs->vus_target);
		sp_json_core(f, c, &r->w[c], fields);
	}
	fprintf(f, "],\n \"thresholds\":[");
	for (uint32_t i = 0; i < pl->nthresholds; i++) {
		fprintf(f, "%s\n  {\"expr\":", i ? "," : "");
		sp_json_str(f, pl->thresholds[i].expr);
		fprintf(f, ",\"ok\":%s,\"value\":%.9g,\"abort\":%s}",
			r->th_ok[i] ? "true" : "false",
			sp_threshold_shown(&pl->thresholds[i], r->th_value[i]),
			pl->thresholds[i].abort ? "true" : "false");
	}
	fprintf(f, "],\n \"timeline\":[");
	for (uint32_t i = 0; i < r->ntl; i++) {
		const struct sp_run_point *p = &r->tl[i];

		fprintf(f, "%s\n  {\"t\":%" PRIu64 ",\"requests\":%" PRIu64
			",\"responses\":%" PRIu64 ",\"errors\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"vus\":%" PRIu64 ",\"conns\":%"
			PRIu64 ",\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,"
			"\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64,
			i ? "," : "", p->t_s, p->requests, p->responses,
			p->errors, p->dropped, p->vus, p->conns,
			(double)p->p50_us / 1e3, (double)p->p95_us / 1e3,
			(double)p->p99_us / 1e3, p->bytes_sent, p->bytes_received);
		/* Counts of a partial second are not per-second rates: say
		 * how long it was, so a plot can scale it. */
		if (sp_run_partial(p))
			fprintf(f, ",\"partial\":true,\"length_s\":%.6f",
				(double)p->len_us / 1e6);
		fputc('}', f);
	}
	fprintf(f, "],\n");
	if (r->log_path != NULL) {
		fprintf(f, " \"request_log\":{\"path\":");
		sp_json_str(f, r->log_path);
		fprintf(f, ",\"rows\":%" PRIu64 ",\"dropped\":%" PRIu64 "},\n",
			r->rlog.written, sp_reqlog_out_dropped(&r->rlog));
	}
	sp_report_json_stack(rep, f, s->connect_retries);
	return sp_report_json_close(f, path);
}

static void
sp_run_csv_lat(FILE *f, const struct sp_hist *h)
{
	fprintf(f, ",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
		h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
		(double)sp_hist_quantile(h, 0.5) / 1e3,
		(double)sp_hist_quantile(h, 0.9) / 1e3,
		(double)sp_hist_quantile(h, 0.95) / 1e3,
		(double)sp_hist_quantile(h, 0.99) / 1e3,
		(double)sp_hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3);
}

/* A CSV field: quoted, with quotes doubled (names are the user's). */
static void
sp_run_csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* PREFIX_stats.csv: one row for the total, each scenario and each
 * request; PREFIX_timeline.csv: one row per second. */
static int
sp_run_csv(const struct sp_run *r, FILE *st, FILE *tl)
{
	const struct sp_plan *pl = &r->plan;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	int err;

	fprintf(st, "type,name,started,completed,failed,interrupted,min_ms,"
		"mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms\n");
	fprintf(st, "total,\"requests\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
		PRIu64, s->requests, s->responses, s->failed, s->interrupted);
	sp_run_csv_lat(st, &s->latency);
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		fprintf(st, "scenario,");
		sp_run_csv_str(st, pl->scenarios[i].name);
		fprintf(st, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			ss[i].started, ss[i].completed, ss[i].failed,
			ss[i].interrupted);
		sp_run_csv_lat(st, &ss[i].iteration);
	}
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		fprintf(st, "request,");
		sp_run_csv_str(st, pl->requests[i].name);
		fprintf(st, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			rs[i].started, rs[i].responses, rs[i].failed,
			rs[i].interrupted);
		sp_run_csv_lat(st, &rs[i].latency);
	}
	/* The generator's lag: one record per request sent. */
	fprintf(st, "lag,\"generator\",%" PRIu64 ",%" PRIu64 ",0,0",
		s->lag.count, s->lag.count);
	sp_run_csv_lat(st, &s->lag);
	fprintf(tl, "t,requests,responses,errors,dropped,vus,conns,p50_ms,"
		"p95_ms,p99_ms,bytes_sent,bytes_received,length_s\n");
	for (uint32_t i = 0; i < r->ntl; i++) {
		const struct sp_run_point *p = &r->tl[i];

		fprintf(tl, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
			PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%" PRIu64
			",%" PRIu64 ",%.6f\n", p->t_s, p->requests, p->responses,
			p->errors, p->dropped, p->vus, p->conns,
			(double)p->p50_us / 1e3, (double)p->p95_us / 1e3,
			(double)p->p99_us / 1e3, p->bytes_sent, p->bytes_received,
			(double)p->len_us / 1e6);
	}
	err = ferror(st) | ferror(tl);
	return err ? -1 : 0;
}

/* ---- the command ---- */

/*
 * Data chunks hold send queues (a request each) and out-of-order
 * segments (at most a receive window per connection, under loss). The
 * TIME_WAIT slots of the pool hold none, so size by VUs, not by pool.
 */
static void
sp_run_size_chunks(uint32_t vus, uint32_t ncores, struct sp_stack_config *cfg)
{
	uint64_t per_vu = 2 + (cfg->rcvwnd + SP_CHUNK_PAYLOAD - 1) / SP_CHUNK_PAYLOAD;
	uint64_t want = (uint64_t)vus * per_vu + 4096;
	uint64_t cap = SP_RUN_CHUNKS_MAX / ncores; /* the cap is the run's */

	cfg->chunks = (uint32_t)(want < cap ? want : cap);
}

/* Report files are opened before the run: a path that cannot be written
 * is a usage error found before the load, not after it. */
struct sp_run_out {
	const char *opt, *path;
	char buf[4200];
	FILE *f;
};

static int
sp_run_open(struct sp_run_out *o, const char *opt, const char *path,
	    const char *suffix)
{
	o->opt = opt;
	if (path == NULL)
		return 0;
	snprintf(o->buf, sizeof(o->buf), "%s%s", path, suffix);
	o->path = o->buf;
	/* Only --json may be stdout; "--html -" is a file named "-". */
	if (strcmp(opt, "--json") == 0)
		o->f = sp_out_open(opt, o->path);
	else if ((o->f = fopen(o->path, "w")) == NULL)
		sp_usage_error("%s: cannot write %s: %s", opt, o->path,
			       strerror(errno));
	return o->f == NULL ? -1 : 0;
}

/* Every report to a file of its own, none over the scenario file: a
 * usage error before the run. */
static int
sp_run_distinct(const struct sp_run *r)
{
	char st[4200], tl[4200];
	struct sp_out_name o[] = {
		{ "the scenario file", r->file, 1 },
		{ "--json", r->json_path, 0 },
		{ "--csv", NULL, 0 },
		{ "--csv", NULL, 0 },
		{ "--html", r->html_path, 0 },
		{ "--log-requests", r->log_path, 0 },
	};

	if (r->csv_prefix != NULL) {
		snprintf(st, sizeof(st), "%s_stats.csv", r->csv_prefix);
		snprintf(tl, sizeof(tl), "%s_timeline.csv", r->csv_prefix);
		o[2].path = st;
		o[3].path = tl;
	}
	return sp_out_distinct(o, sizeof(o) / sizeof(o[0]));
}

/* Close a report file; 0, or -1 after saying what failed. */
static int
sp_run_close(struct sp_run_out *o, int failed)
{
	int err;

	if (o->f == NULL)
		return 0;
	err = ferror(o->f) || failed;
	if (fclose(o->f) != 0 || err) {
		fprintf(stderr, "stampede: %s: writing %s failed\n", o->opt,
			o->path);
		err = 1;
	}
	o->f = NULL;
	return err ? -1 : 0;
}

/* Nothing to report (the run could not run): leave no empty file. */
static void
sp_run_discard(struct sp_run_out *o)
{
	if (o->f == NULL)
		return;
	if (o->f == stdout)
		fflush(o->f);
	else {
		fclose(o->f);
		unlink(o->path);
	}
	o->f = NULL;
}

/* Write every report asked for; the summary is on stdout already. */
static int
sp_run_reports(struct sp_run *r, const struct sp_report *rep,
	       struct sp_run_out *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int bad = 0;

	if (out[0].f != NULL || out[3].f != NULL) {
		/* The JSON once, in memory: the file and the HTML page carry
		 * the same bytes. */
		m = open_memstream(&buf, &len);
		if (m == NULL || sp_run_json(r, rep, m, "memory") < 0) {
			fprintf(stderr, "stampede: out of memory for the report\n");
			free(buf);
			return -1;
		}
		if (out[0].f != NULL)
			bad |= sp_run_close(&out[0], fwrite(buf, 1, len, out[0].f) != len);
		if (out[3].f != NULL)
			bad |= sp_run_close(&out[3], sp_html_write(out[3].f, buf, len) < 0);
		free(buf);
	}
	if (out[1].f != NULL) {
		int e = sp_run_csv(r, out[1].f, out[2].f);

		bad |= sp_run_close(&out[1], e < 0);
		bad |= sp_run_close(&out[2], e < 0);
	}
	return bad ? -1 : 0;
}

static void
sp_run_free(struct sp_run *r)
{
	for (uint32_t i = 0; i < SP_MAX_CORES; i++)
		sp_vu_destroy(r->core[i].eng);
	sp_scenario_free(&r->plan);
	free(r->ov);
	free(r->tl);
	free(r->snap);
	free(r->snap_prev);
	free(r->delta);
	sp_placement_free(&r->place);
	free(r->tmp);
	free(r->tot);
	free(r->rs_tot);
	free(r->ss_tot);
	free(r->th_value);
	free(r->th_ok);
	free(r);
}

/* Control-side buffers: the timeline (a point a second, the drain and a
 * margin included) and the histogram snapshots its points come from. */
static int
sp_run_alloc(struct sp_run *r)
{
	uint32_t n = r->plan.nthresholds ? r->plan.nthresholds : 1;

	r->tl_cap = (uint32_t)(r->plan.duration_us / SP_US_PER_S) + 16;
	r->tl = calloc(r->tl_cap, sizeof(*r->tl));
	r->snap = calloc(1, sizeof(*r->snap));
	r->snap_prev = calloc(1, sizeof(*r->snap_prev));
	r->delta = calloc(1, sizeof(*r->delta));
	r->tmp = calloc(1, sizeof(*r->tmp));
	r->tot = calloc(1, sizeof(*r->tot));
	r->rs_tot = calloc(r->plan.nrequests, sizeof(*r->rs_tot));
	r->ss_tot = calloc(r->plan.nscenarios, sizeof(*r->ss_tot));
	r->th_value = calloc(n, sizeof(*r->th_value));
	r->th_ok = calloc(n, sizeof(*r->th_ok));
	if (r->tl == NULL || r->snap == NULL || r->snap_prev == NULL ||
	    r->delta == NULL || r->tmp == NULL || r->tot == NULL ||
	    r->rs_tot == NULL || r->ss_tot == NULL || r->th_value == NULL ||
	    r->th_ok == NULL) {
		fprintf(stderr, "stampede: out of memory for the timeline\n");
		return -1;
	}
	sp_hist_init(r->snap);
	sp_hist_init(r->snap_prev);
	return 0;
}

/* Worker core @i: its share of the VUs, its slice of the ephemeral ports,
 * its stack. 0, or -1 after printing why. */
static int
sp_run_core_setup(struct sp_run *r, struct sp_port *port, struct sp_worker *w,
		  uint32_t i, uint64_t seed)
{
	struct sp_stack_config cfg;
	struct sp_vu_config vc;
	uint32_t n = r->ncores, vus = (r->plan.max_vus + n - 1) / n;
	char err[256];

	memset(&vc, 0, sizeof(vc));
	vc.plan = &r->plan;
	vc.now_us = &w->now_us;
	vc.flush_stamps = 1;
	vc.core = i;
	vc.ncores = n;
	vc.max_vus = vus;
	vc.seed = seed + i * 0x9e3779b97f4a7c15ull;
	vc.reqlog = r->rlog.f != NULL ? &r->rlog.log[i] : NULL;
	r->core[i].r = r;
	r->core[i].eng = sp_vu_create(&vc, err, sizeof(err));
	if (r->core[i].eng == NULL) {
		fprintf(stderr, "stampede: %s\n", err);
		return -1;
	}
	sp_stack_config_defaults(&cfg, vus + SP_RUN_TW_EXTRA / n);
	cfg.connect_timeout_us = (uint32_t)r->plan.connect_timeout_us;
	if (sp_placement_active(&r->place, w, i, &r->net, r->plan.dst_ip,
				r->plan.dst_port, &cfg) < 0)
		return -1;
	/* Each queue has its own ring: its connections share it. */
	sp_worker_size_window(port, vus, &cfg);
	sp_run_size_chunks(vus, n, &cfg);
	w->mode = &sp_run_mode;
	w->mode_ctx = &r->core[i];
	w->nexthop = sp_netopt_nexthop(&r->net, r->plan.dst_ip);
	w->nexthop_is_gateway = w->nexthop != r->plan.dst_ip;
	w->drain_us = SP_RUN_DRAIN_US;
	sp_stream_tcp_init(&r->core[i].tcp, sp_vu_stream_cbs(), r->core[i].eng);
	if (sp_worker_create_stack(w, port, &r->net, &cfg,
				   sp_stream_tcp_stack_ops(), &r->core[i].tcp) < 0)
		return -1;
	sp_stream_tcp_attach(&r->core[i].tcp, w->st);
	sp_vu_set_stream(r->core[i].eng, &sp_stream_tcp_ops, &r->core[i].tcp);
	return 0;
}

int
sp_cmd_run(int argc, char **argv)
{
	static struct sp_worker ws[SP_MAX_CORES];
	struct sp_run *r = calloc(1, sizeof(*r));
	struct sp_run_out out[4];
	struct sp_port port;
	struct sp_report rep;
	uint64_t seed;
	int ret = SP_EXIT_NORUN, log_bad;

	memset(&port, 0, sizeof(port));
	memset(out, 0, sizeof(out));
	if (r == NULL)
		return SP_EXIT_NORUN;
	if (sp_run_args(argc, argv, r) < 0 || sp_run_plan(r) < 0 ||
	    sp_run_distinct(r) < 0 ||
	    sp_run_open(&out[0], "--json", r->json_path, "") < 0 ||
	    sp_run_open(&out[1], "--csv", r->csv_prefix, "_stats.csv") < 0 ||
	    sp_run_open(&out[2], "--csv", r->csv_prefix, "_timeline.csv") < 0 ||
	    sp_run_open(&out[3], "--html", r->html_path, "") < 0 ||
	    sp_reqlog_out_open(&r->rlog, r->log_path) < 0) {
		ret = SP_EXIT_USAGE;
		goto out;
	}
	r->ncores = r->net.cores;
	if (sp_run_alloc(r) < 0)
		goto out;
	r->tty = isatty(STDERR_FILENO);
	sp_signals_install();
	if (sp_port_open(&port, &r->net) < 0)
		goto out;
	sp_clock_init();
	seed = r->plan.seed != 0 ? r->plan.seed : rte_rand();
	r->w = ws;
	if (sp_reqlog_out_start(&r->rlog, &r->plan, r->ncores, sp_now_us()) < 0)
		goto out;
	if (sp_placement_init(&r->place, &port, &r->net, r->ncores) < 0)
		goto out;
	for (uint32_t i = 0; i < r->ncores; i++)
		if (sp_run_core_setup(r, &port, &ws[i], i, seed) < 0)
			goto out;
	if (sp_workers_run(ws, r->ncores,
			   r->plan.duration_us + SP_RUN_GUARD_US) < 0)
		goto out;
	/* The last, partial second: the points then add up to the totals. */
	sp_run_sample(r, sp_workers_end_us(ws, r->ncores), 1);
	sp_run_merge(r);
	r->stopped_by = r->aborted_by != NULL ? "threshold"
			: sp_interrupted()    ? "signal"
					      : "duration";
	sp_report_collect_n(&rep, ws, r->ncores, &port);
	rep.mode = "http";
	log_bad = sp_reqlog_out_close(&r->rlog) < 0;
	ret = sp_run_th_final(r, sp_run_load_s(r, &rep)) ? SP_EXIT_FAILED
							  : SP_EXIT_OK;
	sp_run_print(r, &rep, sp_out_summary(r->json_path));
	/* A run in which nothing succeeded measured nothing, whatever the
	 * thresholds say (none may have been given). */
	if (sp_run_succeeded(r->tot) == 0) {
		fprintf(stderr, "stampede: no request succeeded (%" PRIu64
			" started, %" PRIu64 " failed, %" PRIu64 " interrupted):"
			" the run measured nothing\n", r->tot->requests,
			r->tot->failed, r->tot->interrupted);
		ret = SP_EXIT_FAILED;
	}
	if (r->aborted_by != NULL)
		fprintf(sp_out_summary(r->json_path), "stopped early: threshold "
			"'%s' failed\n", r->aborted_by);
	if (sp_run_reports(r, &rep, out) < 0 || log_bad)
		ret = SP_EXIT_NORUN;
out:
	for (int i = 0; i < 4; i++)
		sp_run_discard(&out[i]);
	if (r->rlog.f != NULL) {
		/* The run did not run: no log either. */
		sp_reqlog_out_close(&r->rlog);
		unlink(r->log_path);
	}
	sp_workers_destroy(ws);
	sp_port_close(&port);
	sp_run_free(r);
	return ret;
}
