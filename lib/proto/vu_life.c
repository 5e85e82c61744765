/*
 * The virtual-user engine's life cycle (see vu_int.h): creation (pools,
 * the schedule, prebuilt requests), destruction, and what others read
 * of it. Nothing here runs while the load runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vu_int.h"
#include "vu_rand.h"

static const char *const sp_vu_err_names[SP_VU_E_N] = {
	[SP_VU_E_REFUSED] = "refused",
	[SP_VU_E_CONNECT_TIMEOUT] = "connect_timeout",
	[SP_VU_E_RESET] = "reset",
	[SP_VU_E_TCP_TIMEOUT] = "tcp_timeout",
	[SP_VU_E_CLOSED] = "closed",
	[SP_VU_E_RESPONSE_TIMEOUT] = "response_timeout",
	[SP_VU_E_BAD_STATUS] = "bad_status",
	[SP_VU_E_BAD_HEADER] = "bad_header",
	[SP_VU_E_HEADER_TOO_BIG] = "header_too_big",
	[SP_VU_E_BAD_CHUNK] = "bad_chunk",
	[SP_VU_E_BAD_LENGTH] = "bad_length",
	[SP_VU_E_BAD_VERSION] = "bad_version",
	[SP_VU_E_TRUNCATED] = "truncated",
	[SP_VU_E_UNSOLICITED] = "unsolicited",
	[SP_VU_E_UPGRADE] = "unexpected_upgrade",
	[SP_VU_E_CHECK] = "check_failed",
	[SP_VU_E_HTTP_STATUS] = "http_status",
	[SP_VU_E_UNSAFE_VALUE] = "unsafe_value",
	[SP_VU_E_TLS_HANDSHAKE] = "tls_handshake",
	[SP_VU_E_TLS_VERIFY] = "tls_verify",
	[SP_VU_E_TLS_ALERT] = "tls_alert",
	[SP_VU_E_TLS_BAD_RECORD] = "tls_bad_record",
	[SP_VU_E_TLS_TIMEOUT] = "tls_timeout",
	[SP_VU_E_WS_HANDSHAKE] = "ws_handshake",
};

static const char *const sp_vu_ws_err_names[SP_VU_WS_E_N] = {
	[SP_VU_WS_E_UPGRADE] = "upgrade_failed",
	[SP_VU_WS_E_PROTOCOL] = "ws_protocol",
	[SP_VU_WS_E_UTF8] = "ws_utf8",
	[SP_VU_WS_E_TOO_BIG] = "ws_too_big",
	[SP_VU_WS_E_CLOSED_ABNORMALLY] = "ws_closed_abnormally",
	[SP_VU_WS_E_EXPECT_TIMEOUT] = "ws_expect_timeout",
	[SP_VU_WS_E_POOL] = "ws_pool_empty",
};

const char *
sp_vu_ws_err_name(enum sp_vu_ws_err k)
{
	return (unsigned)k < SP_VU_WS_E_N ? sp_vu_ws_err_names[k] : "?";
}

const char *
sp_vu_err_name(enum sp_vu_err k)
{
	return (unsigned)k < SP_VU_E_N ? sp_vu_err_names[k] : "?";
}

struct sp_vu_engine *
sp_vu_create(const struct sp_vu_config *cfg, char *err, size_t errlen)
{
	const struct sp_plan *pl = cfg->plan;
	struct sp_vu_engine *e = calloc(1, sizeof(*e));
	uint32_t nr = pl->nrequests, ns = pl->nscenarios;

	if (e == NULL)
		goto nomem;
	e->pl = pl;
	e->now = cfg->now_us;
	e->flush_stamps = cfg->flush_stamps;
	e->reqlog = cfg->reqlog;
	e->nvus = cfg->max_vus ? cfg->max_vus : 1;
	e->core = cfg->core;
	e->ncores = cfg->ncores ? cfg->ncores : 1;
	e->ws_frame_contexts = cfg->ws_frame_contexts;
	e->rng = cfg->seed | 1;
	e->vus = calloc(e->nvus, sizeof(*e->vus));
	e->heap = calloc((size_t)e->nvus * SP_VU_NTIMERS, sizeof(*e->heap));
	e->lagq = calloc(e->nvus, sizeof(*e->lagq));
	e->sched = calloc(SP_PLAN_MAX_STAGES, sizeof(*e->sched));
	e->pick_scen = calloc(ns, sizeof(*e->pick_scen));
	e->pick_cum = calloc(ns, sizeof(*e->pick_cum));
	e->rs = calloc(nr, sizeof(*e->rs));
	e->ss = calloc(ns, sizeof(*e->ss));
	if (e->vus == NULL || e->heap == NULL || e->lagq == NULL ||
	    e->sched == NULL || e->pick_scen == NULL || e->pick_cum == NULL ||
	    e->rs == NULL || e->ss == NULL)
		goto nomem;
	for (uint32_t i = 0; i < e->nvus; i++) {
		struct sp_vu *v = &e->vus[i];

		v->idx = i;
		for (int t = 0; t < SP_VU_NTIMERS; t++)
			v->heap_pos[t] = SP_VU_NONE;
		v->next_free = i + 1 < e->nvus ? i + 1 : SP_VU_NONE;
		v->proto = SP_VU_PROTO_HTTP1;
	}
	e->free_head = 0;
	e->rt_head = e->rt_tail = SP_VU_NONE;
	e->data_row = pl->data != NULL && pl->data->nrows != 0 ?
			      e->core % pl->data->nrows :
			      0;
	e->data_seed = cfg->data_seed != 0 ? cfg->data_seed : cfg->seed;
	if (pl->data != NULL && pl->data->unique &&
	    pl->data->order == SP_DATA_RANDOM) {
		/* Fisher-Yates from the run's seed: every core makes the
		 * same permutation and takes its own stride of it. */
		uint64_t x = e->data_seed | 1;
		uint32_t rows = pl->data->nrows;

		e->data_perm = malloc((size_t)(rows ? rows : 1) *
				      sizeof(*e->data_perm));
		if (e->data_perm == NULL)
			goto nomem;
		for (uint32_t i = 0; i < rows; i++)
			e->data_perm[i] = i;
		for (uint32_t i = rows; i > 1; i--) {
			uint32_t j = (uint32_t)sp_vu_below(&x, i), t;

			t = e->data_perm[i - 1];
			e->data_perm[i - 1] = e->data_perm[j];
			e->data_perm[j] = t;
		}
	}
	e->arrivals = e->core;
	e->arr.sched = e->sched;
	e->arr.nsched = sp_vu_sched_build(pl, e->sched);
	for (uint32_t i = 0; i < ns; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		e->pick_total += pl->scenarios[i].weight;
		e->pick_scen[e->npick] = i;
		e->pick_cum[e->npick++] = e->pick_total;
	}
	if (e->npick == 0) {
		snprintf(err, errlen, "no enabled scenario");
		goto fail;
	}
	e->clients[SP_VU_PROTO_HTTP1] = &sp_vu_http1_client;
	e->clients[SP_VU_PROTO_WS] = &sp_vu_ws_client;
	for (int p = 0; p < SP_VU_NPROTO; p++)
		if (e->clients[p]->init(e, err, errlen) < 0)
			goto fail;
#define SP_VU_HIST_INIT(f) sp_hist_init(&e->s.f);
	SP_VU_STATS_HISTS(SP_VU_HIST_INIT)
#undef SP_VU_HIST_INIT
	for (uint32_t i = 0; i < nr; i++) {
		sp_hist_init(&e->rs[i].latency);
		sp_hist_init(&e->rs[i].ttfb);
	}
	for (uint32_t i = 0; i < ns; i++)
		sp_hist_init(&e->ss[i].iteration);
	return e;
nomem:
	snprintf(err, errlen, "out of memory for %u virtual users",
		 cfg->max_vus);
fail:
	sp_vu_destroy(e);
	return NULL;
}

void
sp_vu_destroy(struct sp_vu_engine *e)
{
	if (e == NULL)
		return;
	for (int p = 0; p < SP_VU_NPROTO; p++)
		if (e->clients[p] != NULL)
			e->clients[p]->fini(e);
	free(e->data_perm);
	free(e->pick_scen);
	free(e->pick_cum);
	free(e->sched);
	free(e->heap);
	free(e->lagq);
	free(e->vus);
	free(e->rs);
	free(e->ss);
	free(e);
}

void
sp_vu_set_stream(struct sp_vu_engine *e, const struct sp_stream_ops *ops,
		 void *impl)
{
	e->so = ops;
	e->simpl = impl;
}

uint64_t
sp_vu_stopped_at(const struct sp_vu_engine *e)
{
	return e->stop_us;
}

const struct sp_vu_stats *
sp_vu_stats(const struct sp_vu_engine *e)
{
	return &e->s;
}

const struct sp_vu_req_stats *
sp_vu_req_stats(const struct sp_vu_engine *e)
{
	return e->rs;
}

const struct sp_vu_scen_stats *
sp_vu_scen_stats(const struct sp_vu_engine *e)
{
	return e->ss;
}
