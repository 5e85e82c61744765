/*
 * The HTTP/1.1 protocol client of the virtual-user engine (struct
 * sp_vu_client, see vu_int.h): for a request step it sends the request
 * (prebuilt, or rendered into a scratch buffer), reads the response with
 * sp_http1, runs the step's checks as the bytes pass, and tells the
 * engine the outcome. Bytes outside a request are out of step with us:
 * unsolicited. A WebSocket upgrade is a request too: rendered with a
 * fresh Sec-WebSocket-Key, its 101 checked by vu_ws.c's header callback,
 * and on success the connection is handed to the WebSocket client
 * (sp_vu_upgraded) with the bytes that followed the 101's head.
 *
 * Requests whose templates have no variables are built once at creation;
 * the others are rendered when sent. A render is a pure function of the
 * VU, its iteration, its data row and a per-request random seed, so a
 * request that did not fit the send buffer is rendered again,
 * identically, when space frees up: no per-VU request buffer exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vu_int.h"
#include "vu_render.h"

/* Per VU. */
struct sp_vu_http {
	struct sp_http1_resp resp;
	struct sp_vu_checks chk;
	struct sp_vu_capst *cs; /* captures and cookies (NULL: none) */
	uint32_t req_len, req_sent;
	char ws_key[SP_WS_KEY_LEN + 1]; /* an upgrade's, kept for a re-render */
};

struct sp_vu_http_pool {
	struct sp_vu_http *vu;
	/* The last response head seen whole, shared by this core's VUs:
	 * the same head again is not parsed again. */
	struct sp_http1_memo memo;
	/* Prebuilt requests (static templates), else NULL; the same with
	 * "Connection: close", for the last request on a connection under
	 * max_requests_per_connection. */
	uint8_t **prebuilt;
	uint32_t *prebuilt_len;
	uint8_t **prebuilt_close;
	uint32_t *prebuilt_close_len;
	/* A prebuilt request's path for its cookies (sp_vu_path_cut). */
	char (*prebuilt_path)[SP_VU_CAP_PATH];
	uint8_t *prebuilt_path_len;
	uint8_t *scratch;
	uint8_t *body_scratch;
	uint8_t *cookie; /* the jar's Cookie value (jar_bytes) */
};

static inline struct sp_vu_http_pool *
sp_http_pool(const struct sp_vu_engine *e)
{
	return e->client_pool[SP_VU_PROTO_HTTP1];
}

static inline struct sp_vu_http *
sp_http_of(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &sp_http_pool(e)->vu[v->idx];
}

/* Whether the VU's current request is the last its connection may carry
 * (max_requests_per_connection): it asks the server to close then. */
static int
sp_http_last_on_conn(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_scenario *sc = sp_vu_scen(e, v);

	return sc->keep_alive && sc->max_requests_per_conn != 0 &&
	       v->conn_reqs + 1 >= sc->max_requests_per_conn;
}

/* Queue what the send buffer takes of the current request. */
static void
sp_http_pump(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_http_pool *hp = sp_http_pool(e);
	struct sp_vu_http *h = &hp->vu[v->idx];
	uint32_t ri = sp_vu_req_idx(e, v);
	int last = sp_http_last_on_conn(e, v);
	const uint8_t *bytes = last ? hp->prebuilt_close[ri] : hp->prebuilt[ri];
	uint32_t len = last ? hp->prebuilt_close_len[ri] : hp->prebuilt_len[ri];

	/* A prebuilt request to a VU whose jar is empty (or whose request
	 * sets its own Cookie) goes as it is: the jar only learns its
	 * path. */
	if (bytes != NULL && h->cs != NULL) {
		sp_vu_cap_path_at(h->cs, hp->prebuilt_path[ri],
				  hp->prebuilt_path_len[ri]);
		if (!sp_vu_jar_has(e, v) || sp_vu_req(e, v)->own_cookie)
			goto send;
	}
	if (bytes == NULL || h->cs != NULL) {
		struct sp_vu_render rd = {
			.pl = e->pl,
			.vu = sp_vu_number(e, v),
			.iter = v->iter,
			.row = v->row,
			.seed = v->req_seed,
			.body_scratch = hp->body_scratch,
			.vars = sp_vu_vars(e, v),
			.setup_vars = e->sh->vars,
			.var_slot = sp_vu_var_slot(e),
			.time_ms = sp_vu_wall_ms(e, v->t_intended),
		};
		const struct sp_request *rq = sp_vu_req(e, v);
		int ka = sp_vu_scen(e, v)->keep_alive && !last;

		if (bytes == NULL) {
			sp_ctr_inc(e->s.renders);
			len = rq->ws_upgrade ?
				      sp_vu_build_upgrade(&rd, rq, h->ws_key,
							  hp->scratch) :
				      sp_vu_build(&rd, rq, ka, hp->scratch);
			bytes = hp->scratch;
		}
		if (h->cs != NULL) {
			/* The jar's cookies for this path: the request is
			 * built again with them (a render is a pure
			 * function of its inputs, so it comes out the same
			 * each time the pump runs). */
			const uint8_t *path;
			uint32_t pn = sp_vu_path_of(bytes, len, &path);

			if (bytes == hp->scratch) /* else cut at prebuild */
				sp_vu_cap_path(h->cs, path, pn);
			rd.cookie = hp->cookie;
			rd.cookie_len = rq->own_cookie ?
						0 :
						sp_vu_cookie_header(
							e, v, path, pn,
							hp->cookie,
							e->pl->jar_bytes);
			if (rd.cookie_len != 0) {
				sp_ctr_inc(e->s.renders);
				len = rq->ws_upgrade ?
					      sp_vu_build_upgrade(&rd, rq,
								  h->ws_key,
								  hp->scratch) :
					      sp_vu_build(&rd, rq, ka,
							  hp->scratch);
				bytes = hp->scratch;
			}
		}
	}
send:
	h->req_len = len;
	while (h->req_sent < len) {
		/* A prebuilt request is referred to, not copied, where the
		 * stream can (it outlives the run's connections). The
		 * stream takes what fits: 0 when full. */
		int32_t r = sp_vu_write(e, v, bytes + h->req_sent,
					len - h->req_sent,
					bytes != hp->scratch);

		if (r < 0) {
			/* The connection cannot send any more. */
			sp_vu_step_error(e, v, SP_VU_E_CLOSED, 1);
			return;
		}
		if (r == 0)
			return;
		h->req_sent += (uint32_t)r;
	}
}

/* The parser's callbacks when captures or the jar listen too (context:
 * the VU's struct sp_vu_http): the checks hear everything as before. */
static void
sp_http_on_header(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p,
		  size_t n)
{
	struct sp_vu_http *h = ctx;

	if (h->chk.ck->header != NULL)
		sp_vu_on_header(&h->chk, part, p, n);
	sp_vu_cap_on_header(h->cs, part, p, n);
}

static void
sp_http_on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct sp_vu_http *h = ctx;

	if (h->chk.ck->body_contains != NULL)
		sp_vu_on_body(&h->chk, p, n);
	sp_vu_cap_on_body(h->cs, p, n);
}

/* The fields a request's listeners can want, by name (the head memo
 * replays only those: sp_http1_name_cb): Set-Cookie (the jar's, if any),
 * its header captures' and its header check's. A function of the request
 * alone, so the request is the key. */
static int
sp_http_name_wanted(const void *key, const uint8_t *name, size_t n)
{
	const struct sp_request *rq = key;

	if (sp_vu_ieq(name, n, "set-cookie", 10))
		return 1;
	if (rq->check.header != NULL &&
	    sp_vu_ieq(name, n, rq->check.header, rq->check.header_len))
		return 1;
	for (uint32_t k = 0; k < rq->ncaptures; k++)
		if (rq->captures[k].kind == SP_CAP_HEADER &&
		    sp_vu_ieq(name, n, rq->captures[k].name,
			      strlen(rq->captures[k].name)))
			return 1;
	return 0;
}

static void
sp_http_start(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_http *h = sp_http_of(e, v);
	const struct sp_request *rq = sp_vu_req(e, v);

	h->req_sent = 0;
	h->chk.ck = &rq->check;
	h->chk.kmp = 0;
	h->chk.hdr_match = 0;
	h->chk.hdr_found = 0;
	/* Header fields are heard only when a check names one: the parser
	 * goes its faster way otherwise. */
	h->resp.on_header = rq->check.header != NULL ? sp_vu_on_header : NULL;
	h->resp.header_ctx = &h->chk;
	h->resp.name_wanted = sp_http_name_wanted;
	h->resp.name_key = rq;
	h->resp.on_body = rq->check.body_contains != NULL ? sp_vu_on_body :
							    NULL;
	h->resp.body_ctx = &h->chk;
	h->resp.upgrade_ok = rq->ws_upgrade;
	h->cs = NULL;
	if (e->cap != NULL) {
		/* Captures and the jar hear the response too (not an
		 * upgrade's: its fields are the handshake's). */
		h->cs = sp_vu_capst_of(e, v);
		sp_vu_cap_start(e, v, h->cs, rq);
		if (!rq->ws_upgrade && sp_vu_cap_hears_headers(e, rq)) {
			h->resp.on_header = sp_http_on_header;
			h->resp.header_ctx = h;
		}
		if (!rq->ws_upgrade && sp_vu_cap_reads_body(e, rq)) {
			h->resp.on_body = sp_http_on_body;
			h->resp.body_ctx = h;
		}
	}
	if (rq->ws_upgrade) {
		/* The handshake's fields are checked as they pass (and
		 * handed on to the request's own checks). */
		sp_vu_ws_offer(e, v, &h->chk, h->ws_key);
		h->resp.on_header = sp_vu_ws_on_header;
		h->resp.header_ctx = sp_vu_ws_hs_ctx(e, v);
		h->resp.name_wanted = NULL;
	}
	sp_http1_resp_next(&h->resp, rq->method == SP_METHOD_HEAD);
	sp_http_pump(e, v);
}

static void
sp_http_writable(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_http *h = sp_http_of(e, v);

	if (h->req_sent < h->req_len)
		sp_http_pump(e, v);
}

static int
sp_status_in(const uint64_t *set, int status)
{
	return status >= 0 && status < SP_PLAN_MAX_STATUS &&
	       (set[status / 64] >> (status % 64)) & 1;
}

/* A whole response. @extra: bytes followed it that no request asked for,
 * so the connection's framing is lost. */
static void
sp_http_done(struct sp_vu_engine *e, struct sp_vu *v, int extra)
{
	struct sp_vu_http *h = sp_http_of(e, v);
	const struct sp_request *rq = sp_vu_req(e, v);
	const struct sp_check *ck = &rq->check;
	const struct sp_scenario *sc = sp_vu_scen(e, v);
	struct sp_vu_outcome o = {
		.status = h->resp.status,
		.checks_ok = 1,
		.checked = ck->has_status || ck->header != NULL ||
			   ck->body_contains != NULL || ck->body_size >= 0,
	};

	if (ck->has_status && !sp_status_in(ck->status_set, o.status))
		o.checks_ok = 0;
	if (ck->header != NULL && !h->chk.hdr_found)
		o.checks_ok = 0;
	if (ck->body_contains != NULL && h->chk.kmp != ck->body_contains_len)
		o.checks_ok = 0;
	if (ck->body_size >= 0 && h->resp.body_bytes != (uint64_t)ck->body_size)
		o.checks_ok = 0;
	o.status_ok = (uint8_t)sp_status_in(rq->expect_set, o.status);
	o.captures_ok = 1;
	if (h->cs != NULL) {
		/* Captures read only a response the step expected. */
		if (o.status_ok && rq->ncaptures != 0)
			o.captures_ok = (uint8_t)sp_vu_cap_done(e, v, h->cs,
								o.status);
		else
			sp_vu_cap_release(e, v);
	}
	if (extra)
		o.conn = SP_VU_CONN_UNSOLICITED;
	else if (h->resp.lenient)
		/* Framing we accepted but another reader of these bytes (a
		 * proxy between us) may have cut elsewhere: what follows on
		 * this connection cannot be trusted to be the next response. */
		o.conn = SP_VU_CONN_LENIENT;
	else if (h->resp.must_close || !sc->keep_alive ||
		 sp_http_last_on_conn(e, v))
		/* Connection: close, from the server or from us (the last
		 * request the connection may carry said so). */
		o.conn = SP_VU_CONN_CLOSE;
	else
		o.conn = SP_VU_CONN_KEEP;
	sp_vu_step_done(e, v, &o);
}

static void
sp_http_data(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *data,
	     uint32_t len)
{
	struct sp_vu_http *h = sp_http_of(e, v);
	size_t used = 0;
	int r;

	if (v->state != SP_VU_REQUEST) {
		/* Nothing asked for: the server is out of step with us. The
		 * bytes belong to no request, so no request fails. */
		sp_vu_unsolicited(e, v);
		return;
	}
	r = sp_http1_resp_parse(&h->resp, data, len, &used);
	if (r < 0) {
		sp_vu_step_error(e, v, sp_vu_parse_kind(r), 1);
		return;
	}
	if (r != SP_HTTP1_DONE)
		return;
	if (!sp_vu_req(e, v)->ws_upgrade) {
		sp_http_done(e, v, used < len);
		return;
	}
	/* RFC 6455 4.1: anything but 101 with the right fields fails the
	 * WebSocket connection. What follows a good 101 is WebSocket. */
	if (h->resp.status != 101 || !sp_vu_ws_handshake_ok(e, v)) {
		sp_vu_step_error(e, v, SP_VU_E_WS_HANDSHAKE, 1);
		return;
	}
	sp_vu_upgraded(e, v, data + used, len - (uint32_t)used);
}

static void
sp_http_peer_closed(struct sp_vu_engine *e, struct sp_vu *v, int clean)
{
	struct sp_vu_http *h = sp_http_of(e, v);
	int r = sp_http1_resp_eof(&h->resp);

	if (r == SP_HTTP1_DONE && clean) {
		/* A close-delimited body ends here (and only with a clean
		 * close: RFC 9112 section 9.8). */
		h->resp.must_close = 1;
		sp_http_done(e, v, 0);
	} else if (r == SP_HTTP1_NEED_MORE) {
		sp_vu_step_error(e, v, SP_VU_E_CLOSED, 0);
	} else {
		sp_vu_step_error(e, v, SP_VU_E_TRUNCATED, 0);
	}
}

static void
sp_http_timer(struct sp_vu_engine *e, struct sp_vu *v)
{
	(void)e;
	(void)v; /* HTTP/1.1 sets no timer of its own */
}

/* Build once what can be: the keep-alive choice is the scenario's whose
 * steps name the request. Static requests read no VU. */
static int
sp_http_prebuild(struct sp_vu_engine *e, struct sp_vu_http_pool *hp)
{
	const struct sp_plan *pl = e->pl;
	struct sp_vu_render rd = {
		.pl = pl,
		.seed = 1,
		.body_scratch = hp->body_scratch,
	};

	for (uint32_t si = 0; si < pl->nscenarios; si++) {
		const struct sp_scenario *sc = &pl->scenarios[si];

		for (uint32_t k = 0; k < sc->nsteps; k++) {
			uint32_t ri = sc->steps[k].req, pn;
			const struct sp_request *rq = &pl->requests[ri];
			const uint8_t *path;

			/* An upgrade's key is fresh each time. */
			if (sc->steps[k].kind != SP_STEP_REQUEST ||
			    hp->prebuilt[ri] != NULL || !sp_vu_req_static(rq) ||
			    rq->ws_upgrade)
				continue;
			hp->prebuilt_len[ri] = sp_vu_build(
				&rd, rq, sc->keep_alive, hp->scratch);
			hp->prebuilt[ri] = malloc(hp->prebuilt_len[ri]);
			if (hp->prebuilt[ri] == NULL)
				return -1;
			memcpy(hp->prebuilt[ri], hp->scratch,
			       hp->prebuilt_len[ri]);
			pn = sp_vu_path_of(hp->prebuilt[ri],
					   hp->prebuilt_len[ri], &path);
			hp->prebuilt_path_len[ri] =
				sp_vu_path_cut(hp->prebuilt_path[ri], path, pn);
			if (!sc->keep_alive || sc->max_requests_per_conn == 0)
				continue;
			hp->prebuilt_close_len[ri] = sp_vu_build(&rd, rq, 0,
								 hp->scratch);
			hp->prebuilt_close[ri] = malloc(
				hp->prebuilt_close_len[ri]);
			if (hp->prebuilt_close[ri] == NULL)
				return -1;
			memcpy(hp->prebuilt_close[ri], hp->scratch,
			       hp->prebuilt_close_len[ri]);
		}
	}
	return 0;
}

static void
sp_http_fini(struct sp_vu_engine *e)
{
	struct sp_vu_http_pool *hp = sp_http_pool(e);

	if (hp == NULL)
		return;
	for (uint32_t i = 0; i < e->pl->nrequests; i++) {
		if (hp->prebuilt != NULL)
			free(hp->prebuilt[i]);
		if (hp->prebuilt_close != NULL)
			free(hp->prebuilt_close[i]);
	}
	free(hp->prebuilt);
	free(hp->prebuilt_len);
	free(hp->prebuilt_close);
	free(hp->prebuilt_close_len);
	free(hp->prebuilt_path);
	free(hp->prebuilt_path_len);
	free(hp->scratch);
	free(hp->body_scratch);
	free(hp->cookie);
	free(hp->vu);
	free(hp);
	e->client_pool[SP_VU_PROTO_HTTP1] = NULL;
}

static int
sp_http_init(struct sp_vu_engine *e, char *err, size_t errlen)
{
	const struct sp_plan *pl = e->pl;
	uint32_t nr = pl->nrequests;
	struct sp_vu_http_pool *hp = calloc(1, sizeof(*hp));

	if (hp == NULL)
		goto nomem;
	e->client_pool[SP_VU_PROTO_HTTP1] = hp;
	hp->vu = calloc(e->nvus, sizeof(*hp->vu));
	hp->prebuilt = calloc(nr, sizeof(*hp->prebuilt));
	hp->prebuilt_len = calloc(nr, sizeof(*hp->prebuilt_len));
	hp->prebuilt_close = calloc(nr, sizeof(*hp->prebuilt_close));
	hp->prebuilt_close_len = calloc(nr, sizeof(*hp->prebuilt_close_len));
	hp->prebuilt_path = calloc(nr, sizeof(*hp->prebuilt_path));
	hp->prebuilt_path_len = calloc(nr, sizeof(*hp->prebuilt_path_len));
	hp->scratch = malloc(SP_VU_REQ_MAX);
	hp->body_scratch = malloc(SP_VU_REQ_MAX);
	hp->cookie = malloc(pl->jar_bytes + 1);
	if (hp->vu == NULL || hp->prebuilt == NULL ||
	    hp->prebuilt_len == NULL || hp->prebuilt_close == NULL ||
	    hp->prebuilt_close_len == NULL || hp->prebuilt_path == NULL ||
	    hp->prebuilt_path_len == NULL || hp->scratch == NULL ||
	    hp->body_scratch == NULL || hp->cookie == NULL)
		goto nomem;
	for (uint32_t i = 0; i < nr; i++) {
		const struct sp_request *rq = &pl->requests[i];
		uint64_t max =
			160 + strlen(pl->host) +
			(pl->user_agent != NULL ? strlen(pl->user_agent) : 0) +
			sp_vu_tpl_max(pl, &rq->path) +
			sp_vu_tpl_max(pl, &rq->headers) +
			(rq->has_body ? sp_vu_tpl_max(pl, &rq->body) : 0) +
			(pl->jar_bytes != 0 ? 12u + pl->jar_bytes : 0) +
			(rq->ws_upgrade ?
				 SP_VU_UPGRADE_EXTRA +
					 (rq->ws_subprotocols != NULL ?
						  strlen(rq->ws_subprotocols) :
						  0) :
				 0);

		if (max > SP_VU_REQ_MAX) {
			snprintf(err, errlen,
				 "request '%s' may render to %llu "
				 "bytes, more than the %u a request may have",
				 rq->name, (unsigned long long)max,
				 SP_VU_REQ_MAX);
			return -1;
		}
	}
	for (uint32_t i = 0; i < e->nvus; i++) {
		struct sp_vu_http *h = &hp->vu[i];

		sp_http1_resp_init(&h->resp, 0);
		h->resp.body_ctx = &h->chk;
		h->resp.header_ctx = &h->chk;
		h->resp.memo = &hp->memo;
	}
	if (sp_http_prebuild(e, hp) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for %u virtual users", e->nvus);
	return -1;
}

const struct sp_vu_client sp_vu_http1_client = {
	.name = "http1",
	.init = sp_http_init,
	.fini = sp_http_fini,
	.start = sp_http_start,
	.writable = sp_http_writable,
	.data = sp_http_data,
	.peer_closed = sp_http_peer_closed,
	.timer = sp_http_timer,
	/* step, step_timer, interrupt: none (its steps are the engine's
	 * REQUEST steps) */
};
