/*
 * The virtual-user engine's life cycle (see vu_int.h): creation (pools,
 * the schedule, prebuilt requests), destruction, and what others read
 * of it. Nothing here runs while the load runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	[SP_VU_E_CAPTURE] = "capture_failed",
	[SP_VU_E_UNSET_VAR] = "unset_variable",
};

static const char *const sp_vu_ws_err_names[SP_VU_WS_E_N] = {
	[SP_VU_WS_E_UPGRADE] = "upgrade_failed",
	[SP_VU_WS_E_PROTOCOL] = "ws_protocol",
	[SP_VU_WS_E_UTF8] = "ws_utf8",
	[SP_VU_WS_E_TOO_BIG] = "ws_too_big",
	[SP_VU_WS_E_CLOSED_ABNORMALLY] = "ws_closed_abnormally",
	[SP_VU_WS_E_EXPECT_TIMEOUT] = "ws_expect_timeout",
	[SP_VU_WS_E_POOL] = "ws_pool_empty",
	[SP_VU_WS_E_UNSET_VAR] = "ws_unset_variable",
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

/* VU slots one engine of @ncores holds for @ld. */
static uint32_t
sp_vu_load_slots(const struct sp_load *ld, uint32_t ncores)
{
	uint32_t n = (uint32_t)(((uint64_t)ld->max_vus + ncores - 1) / ncores);

	return n ? n : 1;
}

uint32_t
sp_vu_own_slots(const struct sp_plan *pl, uint32_t ncores)
{
	uint64_t n = 0;

	if (ncores == 0)
		ncores = 1;
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled && pl->scenarios[i].load != NULL)
			n += sp_vu_load_slots(pl->scenarios[i].load, ncores);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int
sp_vu_shares(const struct sp_plan *pl)
{
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled && pl->scenarios[i].load == NULL)
			return 1;
	return 0;
}

/* The groups and their VU slots (see struct sp_vu_group): the shared
 * load's @shared_n first, if any scenario shares it. */
static int
sp_vu_groups(struct sp_vu_engine *e, uint32_t shared_n)
{
	const struct sp_plan *pl = e->pl;
	uint64_t first = 0;
	uint32_t g = 0;

	e->ngroups = e->npick != 0;
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled && pl->scenarios[i].load != NULL)
			e->ngroups++;
	if (e->ngroups > UINT16_MAX + 1u)
		return -1;
	e->groups = calloc(e->ngroups ? e->ngroups : 1, sizeof(*e->groups));
	if (e->groups == NULL)
		return -1;
	sp_vu_shared_load(pl, &e->shared);
	for (uint32_t i = 0; i <= pl->nscenarios; i++) {
		/* i == 0 first: the shared group; then scenario i - 1 */
		const struct sp_scenario *sc = i ? &pl->scenarios[i - 1] : NULL;
		struct sp_vu_group *gr;

		if (sc == NULL ? e->npick == 0 :
				 !sc->enabled || sc->load == NULL)
			continue;
		gr = &e->groups[g++];
		gr->ld = sc == NULL ? &e->shared : sc->load;
		gr->scen = sc == NULL ? SP_VU_NONE : i - 1;
		gr->n = sc == NULL ? shared_n :
				     sp_vu_load_slots(sc->load, e->ncores);
		gr->first = (uint32_t)first;
		first += gr->n;
		if (first > UINT32_MAX / SP_VU_NTIMERS)
			return -1;
		gr->end_us = gr->ld->start_us + gr->ld->duration_us;
		if (gr->end_us > pl->duration_us)
			gr->end_us = pl->duration_us;
		gr->arr.sched = gr->sched;
		gr->arr.nsched = sp_vu_sched_load(gr->ld, gr->sched);
		/* Engine @core of @ncores takes arrivals core, core +
		 * ncores, ... of every group's. */
		gr->arrivals = e->core;
		gr->free_head = gr->n ? gr->first : SP_VU_NONE;
		gr->live = sc == NULL && e->live != NULL;
	}
	e->nvus = (uint32_t)first;
	return 0;
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
	e->ncores = cfg->ncores ? cfg->ncores : 1;
	e->core = cfg->shard + (cfg->nshards ? cfg->nshards : 1) * cfg->core;
	e->ncores *= cfg->nshards ? cfg->nshards : 1;
	e->lead = cfg->core == 0;
	e->ws_frame_contexts = cfg->ws_frame_contexts;
	e->rng = cfg->seed | 1;
	e->live = cfg->live;
	e->pick_scen = calloc(ns ? ns : 1, sizeof(*e->pick_scen));
	e->pick_cum = calloc(ns ? ns : 1, sizeof(*e->pick_cum));
	if (e->pick_scen == NULL || e->pick_cum == NULL)
		goto nomem;
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
	for (uint32_t i = 0; i < ns; i++) {
		if (!pl->scenarios[i].enabled || pl->scenarios[i].load != NULL)
			continue;
		e->pick_total += pl->scenarios[i].weight;
		e->pick_scen[e->npick] = i;
		e->pick_cum[e->npick++] = e->pick_total;
	}
	if (sp_vu_groups(e, cfg->max_vus ? cfg->max_vus : 1) < 0)
		goto nomem;
	if (e->ngroups == 0) {
		snprintf(err, errlen, "no enabled scenario");
		goto fail;
	}
	e->vus = calloc(e->nvus, sizeof(*e->vus));
	e->heap = calloc((size_t)e->nvus * SP_VU_NTIMERS, sizeof(*e->heap));
	e->lagq = calloc(e->nvus, sizeof(*e->lagq));
	e->rs = calloc(nr, sizeof(*e->rs));
	e->ss = calloc(ns, sizeof(*e->ss));
	if (e->vus == NULL || e->heap == NULL || e->lagq == NULL ||
	    e->rs == NULL || e->ss == NULL)
		goto nomem;
	for (uint32_t k = 0; k < e->ngroups; k++) {
		const struct sp_vu_group *gr = &e->groups[k];

		for (uint32_t i = gr->first; i < gr->first + gr->n; i++) {
			struct sp_vu *v = &e->vus[i];

			v->idx = i;
			for (int t = 0; t < SP_VU_NTIMERS; t++)
				v->heap_pos[t] = SP_VU_NONE;
			/* Open model: the group's free list. */
			v->next_free = i + 1 < gr->first + gr->n ? i + 1 :
								   SP_VU_NONE;
			v->proto = SP_VU_PROTO_HTTP1;
			v->group = (uint16_t)k;
		}
	}
	e->rt_head = e->rt_tail = SP_VU_NONE;
	e->data_row = pl->data != NULL && pl->data->nrows != 0 ?
			      e->core % pl->data->nrows :
			      0;
	e->secure = (uint8_t)(cfg->secure != 0);
	if (cfg->wall_ms0 != 0) {
		e->wall_ms0 = cfg->wall_ms0;
		e->mono_us0 = cfg->mono_us0;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		e->wall_ms0 = (uint64_t)ts.tv_sec * 1000 +
			      (uint64_t)ts.tv_nsec / 1000000;
		e->mono_us0 = *cfg->now_us;
		e->wall_own = 1;
	}
	e->sh = cfg->shared;
	if (e->sh == NULL) {
		e->sh = e->sh_own = sp_vu_shared_create(pl);
		if (e->sh == NULL)
			goto nomem;
	}
	if (sp_vu_cap_init(e, err, errlen) < 0)
		goto fail;
	e->clients[SP_VU_PROTO_HTTP1] = &sp_vu_http1_client;
	e->clients[SP_VU_PROTO_WS] = &sp_vu_ws_client;
	for (int p = 0; p < SP_VU_NPROTO; p++)
		if (e->clients[p]->init(e, err, errlen) < 0)
			goto fail;
#define SP_VU_HIST_INIT(f) sp_hist_init(&e->s.f); sp_hist_init(&e->life.f);
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
	sp_vu_cap_fini(e);
	sp_vu_shared_destroy(e->sh_own);
	free(e->data_perm);
	free(e->pick_scen);
	free(e->pick_cum);
	free(e->groups);
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

const struct sp_vu_stats *
sp_vu_life_stats(const struct sp_vu_engine *e)
{
	return &e->life;
}

/* Setup's variables have a VU's layout (vu_capture.c). Without a setup
 * step the state is DONE from the start: nobody waits. */
struct sp_vu_shared *
sp_vu_shared_create(const struct sp_plan *pl)
{
	struct sp_vu_shared *sh = calloc(1, sizeof(*sh));
	uint32_t slot = sp_vu_slot_of(pl);

	if (sh == NULL)
		return NULL;
	sh->vars = malloc((size_t)pl->nvars * slot + 1);
	if (sh->vars == NULL) {
		free(sh);
		return NULL;
	}
	sp_vu_vars_clear(sh->vars, pl->nvars, slot);
	sh->state = pl->setup_scen != 0 ? SP_VU_SETUP_RUNNING :
					  SP_VU_SETUP_DONE;
	return sh;
}

void
sp_vu_shared_destroy(struct sp_vu_shared *sh)
{
	if (sh == NULL)
		return;
	free(sh->vars);
	free(sh);
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
