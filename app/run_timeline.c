/*
 * `stampede run`: the engines' counters added up across cores, and the
 * timeline (a point a second, taken on the control lcore).
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sp_app.h"
#include "sp_run.h"
#include "sp_vu.h"

/*
 * @t += @s: counters by the lists of sp_vu.h (SP_VU_*_COUNTERS), so that
 * a counter added to the engine is summed too; histograms merge exactly.
 * @s may be an engine's, being written on a worker: each counter is read
 * whole (sp_ctr_read), a poll late at worst, never torn.
 */
#define SP_RUN_ADD(f) t->f += sp_ctr_read(s->f);
#define SP_RUN_ADDN(f, n)                                                      \
	for (size_t k = 0; k < (n); k++)                                       \
		t->f[k] += sp_ctr_read(s->f[k]);

static void
sp_run_add_stats(struct sp_vu_stats *t, const struct sp_vu_stats *s)
{
	SP_VU_STATS_COUNTERS(SP_RUN_ADD, SP_RUN_ADDN)
#define SP_RUN_HMERGE(f) sp_hist_merge(&t->f, &s->f);
	SP_VU_STATS_HISTS(SP_RUN_HMERGE)
#undef SP_RUN_HMERGE
}

/* @d = @later - @earlier, two merges of the same engines (a capacity
 * hunt's step window): counters subtract, histograms by sp_hist_delta. */
#define SP_RUN_SUB(f) d->f = later->f - earlier->f;
#define SP_RUN_SUBN(f, n)                                                      \
	for (size_t k = 0; k < (n); k++)                                       \
		d->f[k] = later->f[k] - earlier->f[k];

void
sp_run_stats_delta(struct sp_vu_stats *d, const struct sp_vu_stats *later,
		   const struct sp_vu_stats *earlier)
{
	SP_VU_STATS_COUNTERS(SP_RUN_SUB, SP_RUN_SUBN)
#define SP_RUN_HDELTA(f) sp_hist_delta(&d->f, &later->f, &earlier->f);
	SP_VU_STATS_HISTS(SP_RUN_HDELTA)
#undef SP_RUN_HDELTA
}

void
sp_run_add_req(struct sp_vu_req_stats *t, const struct sp_vu_req_stats *s)
{
	SP_VU_REQ_COUNTERS(SP_RUN_ADD)
	sp_hist_merge(&t->latency, &s->latency);
	sp_hist_merge(&t->ttfb, &s->ttfb);
}

static void
sp_run_add_scen(struct sp_vu_scen_stats *t, const struct sp_vu_scen_stats *s)
{
	SP_VU_SCEN_COUNTERS(SP_RUN_ADD)
	sp_hist_merge(&t->iteration, &s->iteration);
}

/*
 * Add the engines' figures up into r->tot, r->rs_tot, r->ss_tot. While the
 * workers run (the thresholds' abort check) each value may be a poll late,
 * never torn.
 */
void
sp_run_merge(struct sp_run *r)
{
	struct sp_vu_stats *t = r->tot;

	memset(t, 0, sizeof(*t));
#define SP_RUN_HINIT(f) sp_hist_init(&t->f);
	SP_VU_STATS_HISTS(SP_RUN_HINIT)
#undef SP_RUN_HINIT
	for (uint32_t i = 0; i < r->rp.eng.nrequests; i++) {
		memset(&r->rs_tot[i], 0,
		       offsetof(struct sp_vu_req_stats, latency));
		sp_hist_init(&r->rs_tot[i].latency);
		sp_hist_init(&r->rs_tot[i].ttfb);
	}
	for (uint32_t i = 0; i < r->rp.eng.nscenarios; i++) {
		memset(&r->ss_tot[i], 0,
		       offsetof(struct sp_vu_scen_stats, iteration));
		sp_hist_init(&r->ss_tot[i].iteration);
	}
	for (uint32_t c = 0; c < r->ncores; c++) {
		const struct sp_vu_req_stats *rs = sp_vu_req_stats(
			r->core[c].eng);
		const struct sp_vu_scen_stats *ss = sp_vu_scen_stats(
			r->core[c].eng);

		sp_run_add_stats(t, sp_vu_stats(r->core[c].eng));
		for (uint32_t i = 0; i < r->rp.eng.nrequests; i++)
			sp_run_add_req(&r->rs_tot[i], &rs[i]);
		for (uint32_t i = 0; i < r->rp.eng.nscenarios; i++)
			sp_run_add_scen(&r->ss_tot[i], &ss[i]);
	}
}

/* The lifecycle's requests, apart from the load's (the workers have
 * stopped: only the reports read them). */
void
sp_run_merge_life(struct sp_run *r)
{
	struct sp_vu_stats *t = r->life_tot;

	memset(t, 0, sizeof(*t));
#define SP_RUN_HINIT(f) sp_hist_init(&t->f);
	SP_VU_STATS_HISTS(SP_RUN_HINIT)
#undef SP_RUN_HINIT
	for (uint32_t c = 0; c < r->ncores; c++)
		sp_run_add_stats(t, sp_vu_life_stats(r->core[c].eng));
}

/* The cumulative counters of every engine, added up. */
static void
sp_run_cum_read(const struct sp_run *r, struct sp_run_cum *c, uint64_t *vus,
		uint64_t *conns, uint64_t *ws_open)
{
	memset(c, 0, sizeof(*c));
	*vus = *conns = *ws_open = 0;
	for (uint32_t i = 0; i < r->ncores; i++) {
		const struct sp_vu_stats *s = sp_vu_stats(r->core[i].eng);

		c->requests += sp_ctr_read(s->requests);
		c->responses += sp_ctr_read(s->responses);
		c->errors += sp_ctr_read(s->failed);
		c->dropped += sp_ctr_read(s->it_dropped);
		c->sent += sp_ctr_read(s->bytes_sent);
		c->received += sp_ctr_read(s->bytes_received);
		c->ws_sent += sp_ctr_read(s->ws_msgs_sent);
		c->ws_received += sp_ctr_read(s->ws_msgs_received);
		c->ws_bytes_sent += sp_ctr_read(s->ws_bytes_sent);
		c->ws_bytes_received += sp_ctr_read(s->ws_bytes_received);
		*vus += sp_ctr_read(s->vus_active);
		*conns += sp_ctr_read(s->conns_open);
		*ws_open += sp_ctr_read(s->ws_open);
	}
}

/*
 * Keep @p's histogram @d, sparse, after the earlier points' (the report's
 * timeline carries it: `stampede merge` adds the shards' seconds up). The
 * control lcore grows the array; a point it finds no memory for is
 * marked, and the report leaves its histogram out.
 */
static void
sp_run_point_keep(struct sp_run *r, struct sp_run_point *p,
		  const struct sp_hist *d)
{
	uint32_t n = 0;

	p->h_count = d->count;
	p->h_min = d->count ? d->min : 0;
	p->h_max = d->count ? d->max : 0;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		n += d->b[i] != 0;
	if (n > r->tl_hb_cap - r->ntl_hb) {
		uint32_t cap = r->tl_hb_cap * 2;
		struct sp_run_hb *hb;

		if (cap < r->ntl_hb + n)
			cap = r->ntl_hb + n + 256;
		hb = realloc(r->tl_hb, (size_t)cap * sizeof(*hb));
		if (hb == NULL) {
			p->h_off = 0;
			p->h_n = SP_RUN_NO_HIST;
			return;
		}
		r->tl_hb = hb;
		r->tl_hb_cap = cap;
	}
	p->h_off = r->ntl_hb;
	p->h_n = n;
	for (unsigned i = 0; i < SP_HIST_BUCKETS; i++)
		if (d->b[i] != 0) {
			r->tl_hb[r->ntl_hb].i = i;
			r->tl_hb[r->ntl_hb++].n = d->b[i];
		}
}

/*
 * Close the timeline's current second: counts are differences of the
 * engine's cumulative counters, percentiles those of the difference of two
 * histogram snapshots. The last call (after the worker stopped) reads the
 * final counters, so the points always add up to the totals.
 */
const struct sp_run_point *
sp_run_sample(struct sp_run *r, uint64_t now, int last)
{
	struct sp_run_point *p;
	struct sp_run_cum c;
	struct sp_hist *t;
	uint64_t start = sp_ctr_read(r->w->run_start_us), vus, conns, ws_open,
		 t_s;

	if (r->ntl == r->tl_cap)
		return r->ntl ? &r->tl[r->ntl - 1] : NULL;
	sp_run_cum_read(r, &c, &vus, &conns, &ws_open);
	/* The end, right after a point with nothing since: no point of its
	 * own (it would stand for a second nothing happened in). */
	if (last && r->ntl != 0 && memcmp(&c, &r->prev, sizeof(c)) == 0)
		return &r->tl[r->ntl - 1];
	/* A tick stands for the second it falls in (it comes a few ms after
	 * it, or late), the end for the nearest; either after the previous
	 * point's: the end may come within a second of the last tick. */
	t_s = now > start ? (now - start + (last ? SP_US_PER_S / 2 : 0)) /
				    SP_US_PER_S :
			    0;
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
	p->ws_sent = c.ws_sent - r->prev.ws_sent;
	p->ws_received = c.ws_received - r->prev.ws_received;
	p->ws_bytes_sent = c.ws_bytes_sent - r->prev.ws_bytes_sent;
	p->ws_bytes_received = c.ws_bytes_received - r->prev.ws_bytes_received;
	p->vus = vus;
	p->conns = conns;
	p->ws_open = ws_open;
	p->p50_us = sp_hist_quantile(r->delta, 0.50);
	p->p95_us = sp_hist_quantile(r->delta, 0.95);
	p->p99_us = sp_hist_quantile(r->delta, 0.99);
	sp_run_point_keep(r, p, r->delta);
	r->prev = c;
	t = r->snap_prev;
	r->snap_prev = r->snap;
	r->snap = t;
	return p;
}
