/*
 * The WebSocket client's pools (vu_ws_int.h): per-VU state, frame
 * contexts, regex windows, rendered contains and PCRE2's compiled
 * patterns and match data, all made when the engine is created and freed
 * with it; and the memory an idle WebSocket holds, for the report.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vu_render.h"
#include "vu_ws_int.h"

void
sp_vu_ws_fini(struct sp_vu_engine *e)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);

	if (wp == NULL)
		return;
	for (uint32_t i = 0; wp->ctx != NULL && i < wp->nctx; i++)
		if (wp->ctx[i] != NULL)
			wslay_frame_context_free(wp->ctx[i]);
	for (uint32_t i = 0; wp->re != NULL && i < e->pl->nws_steps; i++)
		pcre2_code_free(wp->re[i]);
	pcre2_match_data_free(wp->md);
	pcre2_general_context_free(wp->re_gctx);
	free(wp->re);
	free(wp->ctx);
	free(wp->ctx_free);
	free(wp->wins);
	free(wp->win_free);
	free(wp->pats);
	free(wp->pat_free);
	free(wp->scratch);
	free(wp->body_scratch);
	free(wp->vu);
	free(wp);
	e->client_pool[SP_VU_PROTO_WS] = NULL;
}

/* PCRE2's allocations for the match data, through here so that they are
 * ours (an allocation counter that wraps malloc at link time sees them). */
static void *
ws_re_alloc(PCRE2_SIZE n, void *user)
{
	(void)user;
	return malloc(n);
}

static void
ws_re_free(void *p, void *user)
{
	(void)user;
	free(p);
}

/* Frame contexts (and regex windows) for @nvus: one each up to 256, then
 * one per 8 more VUs (a frame in progress on more connections at once is
 * counted as ws_pool_empty). */
static uint32_t
ws_pool_size(uint32_t nvus)
{
	return nvus <= 256 ? nvus : 256 + (nvus - 256) / 8;
}

/*
 * Room for the templated contains of the plan's expects, lent for one
 * expect step: the longest rendering (pat_max, at least 1) and its KMP
 * table. Small rooms (most: `"user":"loadtest{{vu}}"` takes 38 bytes and
 * a 152-byte table) are one per VU, so no expect ever waits for one; a
 * large one (a captured token of capture_max bytes) is pooled as the
 * frame contexts are, and an expect that finds the pool empty fails its
 * session as ws_pool_empty.
 */
static int
ws_pat_pool(struct sp_vu_engine *e, struct sp_vu_ws_pool *wp)
{
	uint32_t m = wp->pat_max > 0 ? wp->pat_max : 1;

	wp->pat_max = m;
	wp->pat_size = ((m + 7) & ~7u) + m * (uint32_t)sizeof(uint32_t);
	if (wp->pat_size <= SP_VU_WS_PAT_PER_VU)
		wp->npat = e->nvus;
	else
		wp->npat = e->ws_frame_contexts ? e->ws_frame_contexts :
						  ws_pool_size(e->nvus);
	wp->pats = malloc((size_t)wp->npat * wp->pat_size);
	wp->pat_free = calloc(wp->npat, sizeof(*wp->pat_free));
	if ((wp->pats == NULL && wp->npat > 0) || wp->pat_free == NULL)
		return -1;
	for (uint32_t i = 0; i < wp->npat; i++)
		wp->pat_free[i] = i;
	wp->pat_avail = wp->npat;
	return 0;
}

int
sp_vu_ws_init(struct sp_vu_engine *e, char *err, size_t errlen)
{
	const struct sp_plan *pl = e->pl;
	struct sp_vu_ws_pool *wp;
	int any = 0, any_re = 0, any_pat = 0;

	for (uint32_t i = 0; i < pl->nrequests; i++)
		any |= pl->requests[i].ws_upgrade;
	if (!any)
		return 0; /* no WebSocket in the plan: no pool */
	wp = calloc(1, sizeof(*wp));
	if (wp == NULL)
		goto nomem;
	e->client_pool[SP_VU_PROTO_WS] = wp;
	wp->e = e;
	wp->nctx = e->ws_frame_contexts ? e->ws_frame_contexts :
					  ws_pool_size(e->nvus);
	wp->vu = calloc(e->nvus, sizeof(*wp->vu));
	wp->ctx = calloc(wp->nctx, sizeof(*wp->ctx));
	wp->ctx_free = calloc(wp->nctx, sizeof(*wp->ctx_free));
	wp->scratch = malloc(SP_VU_REQ_MAX);
	wp->body_scratch = malloc(SP_VU_REQ_MAX);
	wp->re = calloc(pl->nws_steps + 1, sizeof(*wp->re));
	if (wp->vu == NULL || wp->ctx == NULL || wp->ctx_free == NULL ||
	    wp->scratch == NULL || wp->body_scratch == NULL || wp->re == NULL)
		goto nomem;
	for (uint32_t i = 0; i < wp->nctx; i++) {
		if (wslay_frame_context_init(&wp->ctx[i], &sp_vu_ws_cbs, wp) !=
		    0)
			goto nomem;
		wp->ctx_free[i] = i;
	}
	wp->ctx_avail = wp->nctx;
	for (uint32_t i = 0; i < pl->nws_steps; i++) {
		const struct sp_ws_step *ws = &pl->ws_steps[i];
		int ec;
		PCRE2_SIZE eo;

		if (sp_vu_tpl_max(pl, &ws->msg) > SP_VU_REQ_MAX) {
			snprintf(err, errlen,
				 "ws step '%s': its message may render to "
				 "more than %u bytes",
				 ws->name != NULL ? ws->name : "?",
				 SP_VU_REQ_MAX);
			return -1;
		}
		if (ws->contains_tpl.nparts != 0) {
			uint64_t m = sp_vu_tpl_max(pl, &ws->contains_tpl);

			/* The loader refuses it with the file's line: a
			 * plan made elsewhere is checked here. */
			if (m > SP_WS_CONTAINS_MAX) {
				snprintf(err, errlen,
					 "ws step '%s': its contains may "
					 "render to %llu bytes, more than %u",
					 ws->name != NULL ? ws->name : "?",
					 (unsigned long long)m,
					 SP_WS_CONTAINS_MAX);
				return -1;
			}
			any_pat = 1;
			if (m > wp->pat_max)
				wp->pat_max = (uint32_t)m;
		}
		if (ws->regex == NULL)
			continue;
		wp->re[i] = pcre2_compile((PCRE2_SPTR)ws->regex,
					  PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
					  NULL);
		if (wp->re[i] == NULL) {
			PCRE2_UCHAR msg[120];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen,
				 "ws step '%s': regex at offset %zu: %s",
				 ws->name != NULL ? ws->name : "?", (size_t)eo,
				 (const char *)msg);
			return -1;
		}
		any_re = 1;
	}
	if (any_re) {
		wp->re_gctx = pcre2_general_context_create(ws_re_alloc,
							   ws_re_free, NULL);
		if (wp->re_gctx == NULL)
			goto nomem;
		wp->md = pcre2_match_data_create(1, wp->re_gctx);
		wp->nwin = wp->nctx;
		wp->wins = malloc((size_t)wp->nwin * SP_VU_WS_WINDOW);
		wp->win_free = calloc(wp->nwin, sizeof(*wp->win_free));
		if (wp->md == NULL || wp->wins == NULL || wp->win_free == NULL)
			goto nomem;
		/* PCRE2 (10.41 on) allocates its backtracking frames in the
		 * match data on its first match, sized for the pattern:
		 * one match of each pattern now, on an empty subject, makes
		 * the largest of them here and not on the first message
		 * (only a match needing more frames than the first 20 KiB
		 * hold grows them later; the report's allocation count
		 * would show it). */
		for (uint32_t i = 0; i < pl->nws_steps; i++)
			if (wp->re[i] != NULL)
				(void)pcre2_match(wp->re[i], (PCRE2_SPTR) "", 0,
						  0, 0, wp->md, NULL);
		for (uint32_t i = 0; i < wp->nwin; i++)
			wp->win_free[i] = i;
		wp->win_avail = wp->nwin;
	} else {
		free(wp->re);
		wp->re = NULL;
	}
	if (any_pat && ws_pat_pool(e, wp) < 0)
		goto nomem;
	for (uint32_t i = 0; i < e->nvus; i++) {
		wp->vu[i].fctx = SP_VU_WS_NONE;
		wp->vu[i].win = SP_VU_WS_NONE;
		wp->vu[i].pat = SP_VU_WS_NONE;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for %u WebSocket users", e->nvus);
	return -1;
}

/* The pools are made at start, so this is what an idle WebSocket holds
 * for the whole run. A frame context's size is wslay's allocation as the
 * allocator made it (its struct is private): malloc_usable_size. */
void
sp_vu_ws_mem(const struct sp_vu_engine *e, struct sp_vu_ws_mem *m)
{
	const struct sp_vu_ws_pool *wp = ws_pool(e);
	uint64_t pool;

	memset(m, 0, sizeof(*m));
	if (wp == NULL || e->nvus == 0)
		return;
	m->vus = e->nvus;
	m->contexts = wp->nctx;
	m->windows = wp->nwin;
	m->vu_bytes = (uint32_t)(sizeof(struct sp_vu_ws) + SP_WS_KEY_LEN + 1);
	m->context_bytes = (uint32_t)(sizeof(*wp->ctx) + sizeof(*wp->ctx_free));
	if (wp->nctx > 0 && wp->ctx[0] != NULL)
		m->context_bytes += (uint32_t)malloc_usable_size(wp->ctx[0]);
	m->window_bytes = wp->nwin > 0 ? (uint32_t)(SP_VU_WS_WINDOW +
						    sizeof(*wp->win_free)) :
					 0;
	m->patterns = wp->npat;
	m->pattern_bytes = wp->npat > 0 ? (uint32_t)(wp->pat_size +
						     sizeof(*wp->pat_free)) :
					  0;
	pool = (uint64_t)m->contexts * m->context_bytes +
	       (uint64_t)m->windows * m->window_bytes +
	       (uint64_t)m->patterns * m->pattern_bytes;
	m->per_conn = m->vu_bytes + (uint32_t)((pool + e->nvus - 1) / e->nvus);
}
