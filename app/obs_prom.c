/*
 * --metrics HOST:PORT: the run's figures for Prometheus, at /metrics in
 * the text exposition format (sp_prom.h), served by sp_httpd.
 *
 * Once a second, right after the timeline's point, the control lcore
 * merges the engines' counters (sp_run_merge: the workers and their hot
 * path do not change), renders the whole page and publishes it; a scrape
 * gets the latest page. Everything is cumulative over the run and
 * aggregated: labels are the scenario and the request's name only (two
 * requests of one scenario with one name are one series), and the kinds
 * of error, the status codes and the TLS handshakes' outcomes; never a
 * VU or a URL. The lifecycle's requests (setup, teardown) are not in it,
 * as they are not in the report's totals.
 *
 * The end: the final figures (the totals the report has) are published,
 * and the server stays until one scrape has carried them, at most
 * --metrics-linger (15 s by default: a common scrape interval), so that
 * Prometheus holds the run's last values. A stop by a signal does not
 * wait, and a signal ends the wait.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bp.h"
#include "sp_httpd.h"
#include "sp_obs.h"
#include "sp_prom.h"
#include "sp_run.h"
#include "sp_vu.h"

#define SP_PROM_PATH "/metrics"
#define SP_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define SP_PROM_LINGER_US (15 * SP_US_PER_S)

/* One labelled series: requests of one scenario with one name. */
struct sp_prom_series {
	uint32_t scen;
	const char *name; /* the requests' */
	char *labels;     /* scenario="..",request=".." */
};

struct sp_prom {
	struct sp_httpd *h;
	char base[32]; /* a shard's label, or "" */
	int started, bad, final_scraped;
	uint64_t scrapes;
	/* Built at the first tick, from the plan. */
	int built;
	uint32_t nseries, nscen;
	struct sp_prom_series *series;
	uint32_t *req_series; /* per request: its series, or UINT32_MAX */
	char **scen_labels;   /* per scenario: scenario="..", NULL if none */
	struct sp_hist *tmp;
};

int
sp_obs_prom_open(struct sp_obs *ob)
{
	const struct sp_obs_opts *o = &ob->o;
	char err[512];

	if (o->metrics == NULL) {
		if (o->metrics_linger_set) {
			sp_usage_error("--metrics-linger needs --metrics");
			return -1;
		}
		return 0;
	}
	ob->prom = calloc(1, sizeof(*ob->prom));
	if (ob->prom == NULL) {
		sp_usage_error("--metrics: out of memory");
		return -1;
	}
	/* A shard's series: one dashboard sums the shards by this label. */
	if (o->shard[0] != '\0') {
		snprintf(ob->prom->base, sizeof(ob->prom->base),
			 "shard=\"%s\"", o->shard);
		sp_prom_set_base_labels(ob->prom->base);
	}
	ob->prom->h = sp_httpd_listen(o->metrics, err, sizeof(err));
	if (ob->prom->h == NULL) {
		sp_usage_error("--metrics %s", err);
		return -1;
	}
	return 0;
}

/* `KEY="VALUE"` (escaped), allocated; NULL when out of memory. */
static char *
sp_prom_label(const char *key, const char *value, const char *more)
{
	size_t n = strlen(key) + 2 * strlen(value) + 4 +
		   (more != NULL ? strlen(more) + 1 : 0);
	char *v = malloc(2 * strlen(value) + 1), *s = malloc(n);

	if (v == NULL || s == NULL ||
	    sp_prom_escape(v, 2 * strlen(value) + 1, value) < 0) {
		free(v);
		free(s);
		return NULL;
	}
	snprintf(s, n, "%s%s%s=\"%s\"", more != NULL ? more : "",
		 more != NULL ? "," : "", key, v);
	free(v);
	return s;
}

/* The series of the enabled load scenarios' requests. 0 or -1. */
static int
sp_prom_build(struct sp_prom *p, const struct sp_plan *pl)
{
	p->built = 1;
	p->series = calloc(pl->nrequests + 1, sizeof(*p->series));
	p->req_series = malloc((pl->nrequests + 1) * sizeof(*p->req_series));
	p->scen_labels = calloc(pl->nscenarios + 1, sizeof(*p->scen_labels));
	p->tmp = malloc(sizeof(*p->tmp));
	p->nscen = pl->nscenarios;
	if (p->series == NULL || p->req_series == NULL ||
	    p->scen_labels == NULL || p->tmp == NULL)
		return -1;
	for (uint32_t q = 0; q < pl->nrequests; q++)
		p->req_series[q] = UINT32_MAX;
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_scenario *sc = &pl->scenarios[i];

		if (!sc->enabled || sc->kind != SP_SCEN_LOAD)
			continue;
		p->scen_labels[i] = sp_prom_label("scenario", sc->name, NULL);
		if (p->scen_labels[i] == NULL)
			return -1;
		for (uint32_t k = 0; k < sc->nsteps; k++) {
			uint32_t q = sc->steps[k].req, s;

			if (sc->steps[k].kind != SP_STEP_REQUEST ||
			    p->req_series[q] != UINT32_MAX)
				continue;
			for (s = 0; s < p->nseries; s++)
				if (p->series[s].scen == i &&
				    strcmp(p->series[s].name,
					   pl->requests[q].name) == 0)
					break;
			p->req_series[q] = s;
			if (s < p->nseries)
				continue;
			p->series[s].scen = i;
			p->series[s].name = pl->requests[q].name;
			p->series[s].labels = sp_prom_label(
				"request", pl->requests[q].name,
				p->scen_labels[i]);
			if (p->series[s].labels == NULL)
				return -1;
			p->nseries++;
		}
	}
	return 0;
}

/* Arrivals a second @ld asks for @t_us into the run: its stages ramp
 * linearly from the last one's target (from 0 for the first), as the
 * engine's schedule does (lib/proto/vu_sched.c). */
static double
sp_prom_load_rate(const struct sp_load *ld, uint64_t t)
{
	double from = 0;

	if (ld->model != SP_MODEL_OPEN || t < ld->start_us ||
	    t - ld->start_us >= ld->duration_us)
		return 0;
	t -= ld->start_us;
	if (ld->nstages == 0)
		return ld->rate;
	for (uint32_t i = 0; i < ld->nstages; i++) {
		const struct sp_stage *st = &ld->stages[i];

		if (t < st->duration_us)
			return from + (st->target - from) * (double)t /
					      (double)st->duration_us;
		t -= st->duration_us;
		from = st->target;
	}
	return from;
}

/*
 * The open model's target now: the shared load's (a capacity hunt's live
 * rate when it moves the rate) and every own load's. 0 if no load is
 * open (*any says whether one is).
 */
static double
sp_prom_target_rate(const struct sp_run *r, uint64_t t, int *any)
{
	const struct sp_plan *pl = &r->rp.eng;
	double rate = 0;

	*any = 0;
	if (r->bp != NULL && r->rp.bp.control == SP_BP_RATE) {
		double live;
		uint64_t bits = __atomic_load_n(&r->live, __ATOMIC_RELAXED);

		memcpy(&live, &bits, sizeof(live));
		rate += live > 0 ? live : 0;
		*any = 1;
	} else if (r->bp == NULL && pl->model == SP_MODEL_OPEN &&
		   sp_vu_shares(pl)) {
		struct sp_load ld;

		memset(&ld, 0, sizeof(ld));
		ld.model = pl->model;
		ld.rate = pl->rate;
		ld.duration_us = pl->duration_us;
		ld.nstages = pl->nstages;
		memcpy(ld.stages, pl->stages, sizeof(ld.stages));
		rate += sp_prom_load_rate(&ld, t);
		*any = 1;
	}
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		const struct sp_scenario *sc = &pl->scenarios[i];

		if (!sc->enabled || sc->kind != SP_SCEN_LOAD ||
		    sc->load == NULL || sc->load->model != SP_MODEL_OPEN)
			continue;
		rate += sp_prom_load_rate(sc->load, t);
		*any = 1;
	}
	return rate;
}

#define SP_PROM_REQ(name, help, field)                                         \
	do {                                                                   \
		sp_prom_head(f, name, "counter", help);                        \
		for (uint32_t k = 0; k < p->nseries; k++) {                    \
			uint64_t v = 0;                                        \
			for (uint32_t q = 0; q < pl->nrequests; q++)           \
				if (p->req_series[q] == k)                     \
					v += r->rs_tot[q].field;               \
			sp_prom_u64(f, name, p->series[k].labels, v);          \
		}                                                              \
	} while (0)
#define SP_PROM_SCEN(name, help, field)                                        \
	do {                                                                   \
		sp_prom_head(f, name, "counter", help);                        \
		for (uint32_t i = 0; i < pl->nscenarios; i++)                  \
			if (p->scen_labels[i] != NULL)                         \
				sp_prom_u64(f, name, p->scen_labels[i],        \
					    r->ss_tot[i].field);               \
	} while (0)

/* A plan with a ws: step: its sessions, messages and round trips, for the
 * whole run (no label: the report has them so too). */
static void
sp_prom_ws(const struct sp_run *r, FILE *f)
{
	const struct sp_vu_stats *s = r->tot;

	sp_prom_scalar(f, "stampede_ws_sessions_total", "counter",
		       "WebSocket sessions started.", s->ws_started);
	sp_prom_scalar(f, "stampede_ws_sessions_failed_total", "counter",
		       "WebSocket sessions that failed.", s->ws_failed);
	sp_prom_scalar(f, "stampede_ws_messages_sent_total", "counter",
		       "WebSocket data messages sent.", s->ws_msgs_sent);
	sp_prom_scalar(f, "stampede_ws_messages_received_total", "counter",
		       "WebSocket data messages received.",
		       s->ws_msgs_received);
	sp_prom_scalar(f, "stampede_ws_sent_bytes_total", "counter",
		       "WebSocket payload bytes sent.", s->ws_bytes_sent);
	sp_prom_scalar(f, "stampede_ws_received_bytes_total", "counter",
		       "WebSocket payload bytes received.",
		       s->ws_bytes_received);
	sp_prom_scalar(f, "stampede_ws_open_sessions", "gauge",
		       "WebSocket sessions open.", s->ws_open);
	sp_prom_head(f, "stampede_ws_rtt_seconds", "histogram",
		     "WebSocket round trip: a message sent to the one that "
		     "matched it.");
	sp_prom_hist(f, "stampede_ws_rtt_seconds", NULL, &s->ws_rtt);
}

/* The page, from r's merged figures (@t_us into the run; @final: the
 * run is over). */
static void
sp_prom_render(struct sp_prom *p, const struct sp_run *r, FILE *f,
	       uint64_t t_us, int final)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_stats *s = r->tot;
	char lab[64];
	double rate;
	int open;

	SP_PROM_REQ("stampede_requests_total",
		    "Requests started (the load's, not setup's or "
		    "teardown's).",
		    started);
	SP_PROM_REQ("stampede_responses_total",
		    "Complete responses received, whatever their status.",
		    responses);
	SP_PROM_REQ("stampede_requests_failed_total",
		    "Requests that failed: no response, an unexpected "
		    "status, a failed check or capture.",
		    failed);
	SP_PROM_REQ("stampede_requests_interrupted_total",
		    "Requests cut short by the end of the run.", interrupted);
	sp_prom_head(f, "stampede_errors_total", "counter",
		     "Errors by kind, as the report's errors_by_kind.");
	for (int k = 0; k < SP_VU_E_N; k++) {
		snprintf(lab, sizeof(lab), "kind=\"%s\"",
			 sp_vu_err_name((enum sp_vu_err)k));
		sp_prom_u64(f, "stampede_errors_total", lab, s->err[k]);
	}
	sp_prom_head(f, "stampede_responses_by_status_total", "counter",
		     "Responses by HTTP status code.");
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			snprintf(lab, sizeof(lab), "code=\"%d\"", c);
			sp_prom_u64(f, "stampede_responses_by_status_total",
				    lab, s->codes[c]);
		}
	sp_prom_head(f, "stampede_checks_total", "counter",
		     "Responses whose checks passed or failed.");
	sp_prom_u64(f, "stampede_checks_total", "result=\"passed\"",
		    s->checks_passed);
	sp_prom_u64(f, "stampede_checks_total", "result=\"failed\"",
		    s->err[SP_VU_E_CHECK]);
	sp_prom_scalar(f, "stampede_sent_bytes_total", "counter",
		       "HTTP bytes sent (requests, headers and bodies).",
		       s->bytes_sent);
	sp_prom_scalar(f, "stampede_received_bytes_total", "counter",
		       "HTTP bytes received (responses, headers and bodies).",
		       s->bytes_received);
	sp_prom_scalar(f, "stampede_connections_total", "counter",
		       "Connections opened.", s->connects);
	if (r->rp.tls.on) {
		struct sp_tls_counters c;

		sp_run_tls_sum(r, &c);
		sp_prom_head(f, "stampede_tls_handshakes_total", "counter",
			     "TLS handshakes: full, resumed, failed.");
		sp_prom_u64(f, "stampede_tls_handshakes_total",
			    "result=\"full\"", c.hs_full);
		sp_prom_u64(f, "stampede_tls_handshakes_total",
			    "result=\"resumed\"", c.hs_resumed);
		sp_prom_u64(f, "stampede_tls_handshakes_total",
			    "result=\"failed\"", c.hs_failed);
	}
	SP_PROM_SCEN("stampede_iterations_total",
		     "Iterations of the scenario started.", started);
	SP_PROM_SCEN("stampede_iterations_failed_total",
		     "Iterations with a failed request.", failed);
	SP_PROM_SCEN("stampede_iterations_dropped_total",
		     "Open model: arrivals that found no free VU.", dropped);
	sp_prom_head(f, "stampede_vus", "gauge", "Virtual users active.");
	sp_prom_u64(f, "stampede_vus", NULL, s->vus_active);
	sp_prom_scalar(f, "stampede_vus_target", "gauge",
		       "Closed model: the VUs the schedule wants now.",
		       final ? 0 : s->vus_target);
	rate = sp_prom_target_rate(r, t_us, &open);
	if (open) {
		sp_prom_head(f, "stampede_target_rate", "gauge",
			     "Open model: iterations a second the schedule "
			     "asks for now.");
		sp_prom_f64(f, "stampede_target_rate", NULL, final ? 0 : rate);
	}
	sp_prom_scalar(f, "stampede_open_connections", "gauge",
		       "Connections open.", s->conns_open);
	sp_prom_scalar(f, "stampede_run_finished", "gauge",
		       "1 once the run is over: the figures are final.",
		       final ? 1 : 0);
	if (sp_run_has_ws(pl))
		sp_prom_ws(r, f);
	sp_prom_head(f, "stampede_request_duration_seconds", "histogram",
		     "Latency from the request's intended start to its "
		     "response's last byte.");
	for (uint32_t k = 0; k < p->nseries; k++) {
		sp_hist_init(p->tmp);
		for (uint32_t q = 0; q < pl->nrequests; q++)
			if (p->req_series[q] == k)
				sp_hist_merge(p->tmp, &r->rs_tot[q].latency);
		sp_prom_hist(f, "stampede_request_duration_seconds",
			     p->series[k].labels, p->tmp);
	}
}

/* Render and publish; start serving at the first time. */
static void
sp_prom_publish(struct sp_obs *ob, struct sp_run *r, int final)
{
	struct sp_prom *p = ob->prom;
	uint64_t start = sp_ctr_read(r->w->run_start_us);
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f;

	if (p->bad)
		return;
	if (!p->built && sp_prom_build(p, &r->rp.eng) < 0)
		goto fail;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		goto fail;
	sp_prom_render(p, r, f, r->prev_us > start ? r->prev_us - start : 0,
		       final);
	if (fclose(f) != 0 ||
	    sp_httpd_publish(p->h, SP_PROM_PATH, SP_PROM_TYPE, buf, len) < 0)
		goto fail;
	free(buf);
	if (!p->started) {
		/* Here, on the control lcore, after DPDK pinned it: the
		 * server's thread shares its core, never a worker's. */
		if (sp_httpd_start(p->h, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"stampede: --metrics %s; the run goes on "
				"without it\n",
				err);
			p->bad = 1;
			return;
		}
		p->started = 1;
	}
	return;
fail:
	free(buf);
	fprintf(stderr, "stampede: --metrics: out of memory for the page; the "
			"run goes on without it\n");
	p->bad = 1;
}

void
sp_obs_prom_tick(struct sp_obs *ob, struct sp_run *r)
{
	if (ob->prom == NULL)
		return;
	sp_prom_publish(ob, r, 0); /* r merged by sp_obs_tick */
}

int
sp_obs_prom_end(struct sp_obs *ob, struct sp_run *r)
{
	struct sp_prom *p = ob->prom;
	uint64_t linger = ob->o.metrics_linger_set ? ob->o.metrics_linger_us :
						     SP_PROM_LINGER_US;
	uint64_t latest;

	if (p == NULL)
		return 0;
	/* r's totals are merged: the page is the report's figures. */
	sp_prom_publish(ob, r, 1);
	if (p->bad)
		return -1;
	if (linger != 0 && !sp_interrupted()) {
		fprintf(stderr,
			"stampede: --metrics: serving the final figures on "
			"http://%s%s until a scrape takes them (at most "
			"%.0f s; Ctrl-C: no wait)\n",
			sp_httpd_addr(p->h), SP_PROM_PATH,
			(double)linger / 1e6);
		sp_httpd_wait_latest(p->h, SP_PROM_PATH, linger,
				     sp_interrupted);
	}
	sp_httpd_served(p->h, SP_PROM_PATH, &p->scrapes, &latest);
	p->final_scraped = latest != 0;
	return 0;
}

void
sp_obs_prom_json(const struct sp_obs *ob, FILE *f)
{
	const struct sp_prom *p = ob->prom;

	if (p == NULL)
		return;
	fprintf(f, "\"metrics\":{\"address\":");
	sp_json_str(f, sp_httpd_addr(p->h));
	fprintf(f,
		",\"path\":\"" SP_PROM_PATH "\",\"scrapes\":%" PRIu64
		",\"final_scraped\":%s,\"failed\":%s}",
		p->scrapes, p->final_scraped ? "true" : "false",
		p->bad ? "true" : "false");
}

void
sp_obs_prom_close(struct sp_obs *ob)
{
	struct sp_prom *p = ob->prom;

	if (p == NULL)
		return;
	sp_httpd_close(p->h);
	for (uint32_t s = 0; p->series != NULL && s < p->nseries; s++)
		free(p->series[s].labels);
	free(p->series);
	free(p->req_series);
	for (uint32_t i = 0; p->scen_labels != NULL && i < p->nscen; i++)
		free(p->scen_labels[i]);
	free(p->scen_labels);
	free(p->tmp);
	free(p);
	ob->prom = NULL;
}
