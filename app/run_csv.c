/*
 * `stampede run --csv PREFIX`: PREFIX_stats.csv (the total, scenarios,
 * lifecycle step lists, requests) and PREFIX_timeline.csv (a row a
 * second), the columns `stampede merge --csv` writes too (SP_CSV_*).
 */
#include <inttypes.h>
#include <stdio.h>

#include "sp_run.h"
#include "sp_vu.h"

void
sp_run_csv_lat(FILE *f, const struct sp_hist *h)
{
	double v[SP_RUN_LAT_N];

	sp_run_lat_ms(h, v);
	fprintf(f, ",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", v[0], v[1],
		v[2], v[3], v[4], v[5], v[6], v[7]);
}

/* A named row of the stats file: KIND,"NAME",four counts,latencies. */
static void
sp_run_csv_row(FILE *f, const char *kind, const char *name, uint64_t a,
	       uint64_t b, uint64_t c, uint64_t d, const struct sp_hist *h)
{
	fprintf(f, "%s,", kind);
	sp_out_csv_str(f, name);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, a, b, c, d);
	sp_run_csv_lat(f, h);
}

/* PREFIX_stats.csv: one row for the total, each scenario and each
 * request; PREFIX_timeline.csv: one row per second. */
int
sp_run_csv(const struct sp_run *r, FILE *st, FILE *tl)
{
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_stats *s = r->tot;
	const struct sp_vu_req_stats *rs = r->rs_tot;
	const struct sp_vu_scen_stats *ss = r->ss_tot;
	int err, ws = sp_run_has_ws(pl);

	fputs(SP_CSV_STATS_HEAD, st);
	fprintf(st,
		"total,\"requests\",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64,
		s->requests, s->responses, s->failed, s->interrupted);
	sp_run_csv_lat(st, &s->latency);
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		sp_run_csv_row(st, "scenario", pl->scenarios[i].name,
			       ss[i].started, ss[i].completed, ss[i].failed,
			       ss[i].interrupted, &ss[i].iteration);
	}
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (pl->scenarios[i].kind == SP_SCEN_LOAD)
			continue;
		sp_run_csv_row(st, "lifecycle", pl->scenarios[i].name,
			       ss[i].started, ss[i].completed, ss[i].failed,
			       ss[i].interrupted, &ss[i].iteration);
	}
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		if (sp_run_req_life(pl, i) != 0)
			continue;
		sp_run_csv_row(st, "request", pl->requests[i].name,
			       rs[i].started, rs[i].responses, rs[i].failed,
			       rs[i].interrupted, &rs[i].latency);
	}
	if (r->rp.tls.on) {
		/* TLS handshakes done: established to handshake done. */
		fprintf(st, "tls,\"handshake\",%" PRIu64 ",%" PRIu64 ",0,0",
			s->tls.count, s->tls.count);
		sp_run_csv_lat(st, &s->tls);
	}
	if (ws)
		sp_run_ws_csv_stats(r, st);
	/* The generator's lag: one record per request sent. */
	fprintf(st, "lag,\"generator\",%" PRIu64 ",%" PRIu64 ",0,0",
		s->lag.count, s->lag.count);
	sp_run_csv_lat(st, &s->lag);
	fprintf(tl, SP_CSV_TIMELINE_HEAD "%s\n", ws ? SP_CSV_TIMELINE_WS : "");
	for (uint32_t i = 0; i < r->ntl; i++) {
		const struct sp_run_point *p = &r->tl[i];

		fprintf(tl,
			"%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%.6f",
			p->t_s, p->requests, p->responses, p->errors,
			p->dropped, p->vus, p->conns, (double)p->p50_us / 1e3,
			(double)p->p95_us / 1e3, (double)p->p99_us / 1e3,
			p->bytes_sent, p->bytes_received,
			(double)p->len_us / 1e6);
		if (ws)
			fprintf(tl,
				",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
				",%" PRIu64,
				p->ws_sent, p->ws_received, p->ws_bytes_sent,
				p->ws_bytes_received, p->ws_open);
		fputc('\n', tl);
	}
	err = ferror(st) | ferror(tl);
	return err ? -1 : 0;
}
