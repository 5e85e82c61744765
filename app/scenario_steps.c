/*
 * The scenarios: key of a scenario file: scenarios, their steps (requests,
 * think times, loops) and the checks on a response.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

static const char *const sp_methods[SP_METHOD_N] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
};

/* ---- requests ---- */

int
sp_tpl_node(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	    enum sp_tpl_ctx ctx, struct sp_tpl *t)
{
	struct sp_tpl_env env = sp_plan_tpl_env(ld->pl);
	struct sp_tpl_build b = { 0 };
	const char *s;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_tpl_add(&env, &b, s, strlen(s), ctx, ld->why, SP_WHY) < 0)
		return sp_node_error(ld, n, "%s: %s", key, ld->why);
	sp_tpl_done(&b, t);
	return 0;
}

/*
 * headers: a mapping of names to template values. Host replaces the
 * target's authority for this request (virtual hosts behind one address)
 * and goes first (RFC 9110 7.2); User-Agent replaces the default one, and
 * an empty value removes it. Framing and persistence are stampede's.
 */
int
sp_headers(struct sp_loader *ld, const yaml_node_t *n, struct sp_request *r)
{
	/* The engine writes these from the plan and the connection state;
	 * a WebSocket upgrade's own headers too (subprotocols: gives
	 * Sec-WebSocket-Protocol; stampede offers no extension). */
	static const char *const forbidden[] = {
		"Content-Length",         "Connection",
		"Transfer-Encoding",      "Upgrade",
		"Sec-WebSocket-Key",      "Sec-WebSocket-Version",
		"Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
		"Sec-WebSocket-Accept",
	};
	/* Plain requests may send the last six: only an upgrade's are the
	 * engine's. */
	size_t nforbidden = r->ws_upgrade ?
				    sizeof(forbidden) / sizeof(forbidden[0]) :
				    3;
	struct sp_tpl_env env = sp_plan_tpl_env(ld->pl);
	struct sp_tpl_build b = { 0 };
	uint32_t count = 0;

	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "headers: expected a mapping, got %s",
				     sp_yaml_kind(n));
	/* Two passes: Host, then the rest in the order written. */
	for (int pass = 0; pass < 2; pass++)
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = sp_yaml_node(ld, p->key),
				    *v = sp_yaml_node(ld, p->value);
			const char *name, *val;
			int host, ua;

			if (sp_yaml_str(ld, k, "headers", &name) < 0 ||
			    sp_yaml_str(ld, v, name, &val) < 0)
				return -1;
			host = strcasecmp(name, "Host") == 0;
			ua = strcasecmp(name, "User-Agent") == 0;
			if (host != (pass == 0))
				continue;
			if (count++ == SP_MAX_HEADERS)
				return sp_node_error(ld, k,
						     "headers: more than %u",
						     SP_MAX_HEADERS);
			if (!sp_is_token(name))
				return sp_node_error(
					ld, k,
					"headers: '%s' is not a header "
					"name (RFC 9110 token)",
					name);
			for (size_t i = 0; i < nforbidden; i++)
				if (strcasecmp(name, forbidden[i]) == 0)
					return sp_node_error(
						ld, k,
						"headers: %s is written by "
						"stampede itself%s",
						forbidden[i],
						i == 6 ?
							" (give subprotocols:)" :
							"");
			if ((host && r->own_host) || (ua && r->own_ua))
				return sp_node_error(
					ld, k, "headers: %s given twice", name);
			if (host && *val == '\0')
				return sp_node_error(
					ld, v,
					"Host: empty (HTTP/1.1 needs the "
					"name the server expects; leave Host out "
					"for the target's)");
			r->own_host |= host;
			r->own_ua |= ua;
			if (ua && *val == '\0')
				continue; /* no User-Agent at all */
			if (sp_tpl_lit(&env, &b, name, strlen(name), ld->why,
				       SP_WHY) < 0 ||
			    sp_tpl_lit(&env, &b, ": ", 2, ld->why, SP_WHY) < 0)
				return sp_node_error(ld, k, "headers: %s",
						     ld->why);
			if (sp_tpl_add(&env, &b, val, strlen(val),
				       SP_TPL_HEADER, ld->why, SP_WHY) < 0)
				return sp_node_error(ld, v, "%s: %s", name,
						     ld->why);
			if (sp_tpl_lit(&env, &b, "\r\n", 2, ld->why, SP_WHY) <
			    0)
				return sp_node_error(ld, v, "%s: %s", name,
						     ld->why);
		}
	sp_tpl_done(&b, &r->headers);
	return 0;
}

static int
sp_status(struct sp_loader *ld, const yaml_node_t *n, struct sp_check *ck)
{
	const yaml_node_item_t *it, *top;
	uint64_t code;

	if (n->type == YAML_SCALAR_NODE) {
		it = NULL;
		top = NULL;
	} else if (sp_yaml_seq(ld, n, "status") == 0) {
		it = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
	} else {
		return -1;
	}
	do {
		const yaml_node_t *v = it != NULL ? sp_yaml_node(ld, *it) : n;
		const char *s;

		if (sp_yaml_str(ld, v, "status", &s) < 0)
			return -1;
		if (sp_val_u64(s, 0, UINT64_MAX, &code, ld->why) < 0)
			return sp_node_error(ld, v, "status: %s", ld->why);
		/* RFC 9110 15: the classes are 1xx to 5xx. */
		if (code < 100 || code > 599)
			return sp_node_error(ld, v,
					     "status: %s is not an HTTP status "
					     "(100..599)",
					     s);
		ck->status_set[code / 64] |= 1ull << (code % 64);
	} while (it != NULL && ++it < top);
	ck->has_status = 1;
	return 0;
}

/* expect_status: a scalar list or a sequence of them. */
int
sp_expect(struct sp_loader *ld, const yaml_node_t *n, uint64_t *set)
{
	const yaml_node_item_t *it = NULL, *top = NULL;

	if (n->type != YAML_SCALAR_NODE) {
		if (sp_yaml_seq(ld, n, "expect_status") < 0)
			return -1;
		it = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
		if (it == top)
			return sp_node_error(ld, n, "expect_status: empty");
	}
	do {
		const yaml_node_t *v = it != NULL ? sp_yaml_node(ld, *it) : n;
		const char *s;

		if (sp_yaml_str(ld, v, "expect_status", &s) < 0)
			return -1;
		if (sp_val_statuses(s, set, ld->why) < 0)
			return sp_node_error(ld, v, "expect_status: %s",
					     ld->why);
	} while (it != NULL && ++it < top);
	return 0;
}

/* A non-empty string to find in a body or a message, with its KMP
 * failure table (the engine matches it as the bytes pass). */
int
sp_contains(struct sp_loader *ld, const yaml_node_t *v, const char *key,
	    const char **str, uint32_t *len_out, const uint32_t **kmp)
{
	const char *s;
	uint32_t *f;
	uint32_t len, k = 0;

	if (sp_yaml_str(ld, v, key, &s) < 0)
		return -1;
	len = (uint32_t)strlen(s);
	if (len == 0)
		return sp_node_error(ld, v, "%s: empty", key);
	f = sp_mem_alloc(ld->pl, (size_t)len * sizeof(*f));
	*str = sp_mem_strdup(ld->pl, s);
	if (f == NULL || *str == NULL)
		return sp_node_error(ld, v, "out of memory");
	/* f[i]: length of the longest proper prefix of s[0..i] that is
	 * also its suffix, so a match can resume across pieces without
	 * looking back. */
	for (uint32_t i = 1; i < len; i++) {
		while (k > 0 && s[i] != s[k])
			k = f[k - 1];
		if (s[i] == s[k])
			k++;
		f[i] = k;
	}
	*len_out = len;
	*kmp = f;
	return 0;
}

static int
sp_check(struct sp_loader *ld, const yaml_node_t *n, struct sp_check *ck)
{
	static const char *const keys[] = {
		"status", "header", "body_contains", "body_size", NULL,
	};
	yaml_node_t *v;
	const char *s;
	uint64_t x;

	if (sp_yaml_map(ld, n, "check", keys) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "status")) != NULL &&
	    sp_status(ld, v, ck) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "header")) != NULL) {
		if (sp_yaml_str(ld, v, "header", &s) < 0)
			return -1;
		if (!sp_is_token(s))
			return sp_node_error(
				ld, v, "header: '%s' is not a header name", s);
		ck->header = sp_mem_strdup(ld->pl, s);
		ck->header_len = (uint32_t)strlen(s);
		if (ck->header == NULL)
			return sp_node_error(ld, v, "out of memory");
	}
	if ((v = sp_yaml_get(ld, n, "body_contains")) != NULL &&
	    sp_contains(ld, v, "body_contains", &ck->body_contains,
			&ck->body_contains_len, &ck->body_contains_kmp) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "body_size")) != NULL) {
		if (sp_yaml_u64(ld, v, "body_size", 0, INT64_MAX, &x) < 0)
			return -1;
		ck->body_size = (int64_t)x;
	}
	return 0;
}

/* The next request of the plan, zeroed but for its defaults (GET, no
 * body size check); plan->nrequests is the caller's to count. */
struct sp_request *
sp_request_new(struct sp_loader *ld, const yaml_node_t *n)
{
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_request *r;

	pv->req = sp_mem_grow(pl, pv->req, &pv->req_cap, pl->nrequests + 1,
			      sizeof(*pv->req));
	if (pv->req == NULL) {
		sp_node_error(ld, n, "out of memory");
		return NULL;
	}
	pl->requests = pv->req;
	r = &pv->req[pl->nrequests];
	r->check.body_size = -1;
	r->method = SP_METHOD_GET;
	return r;
}

static int
sp_request(struct sp_loader *ld, const yaml_node_t *n, uint32_t *idx)
{
	static const char *const keys[] = {
		"name", "method", "path",          "headers",
		"body", "check",  "expect_status", NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_request *r;
	yaml_node_t *v, *path;
	const char *s, *pstr;

	if (sp_yaml_map(ld, n, "request", keys) < 0)
		return -1;
	r = sp_request_new(ld, n);
	if (r == NULL)
		return -1;
	if ((v = sp_yaml_get(ld, n, "method")) != NULL) {
		if (sp_yaml_str(ld, v, "method", &s) < 0)
			return -1;
		for (r->method = 0; r->method < SP_METHOD_N; r->method++)
			if (strcmp(s, sp_methods[r->method]) == 0)
				break;
		if (r->method == SP_METHOD_N)
			return sp_node_error(ld, v,
					     "method: '%s' is not one of GET, "
					     "POST, PUT, PATCH, DELETE, HEAD",
					     s);
	}
	path = sp_yaml_get(ld, n, "path");
	if (path == NULL)
		return sp_node_error(ld, n, "request: no path");
	if (sp_yaml_str(ld, path, "path", &pstr) < 0)
		return -1;
	if (pstr[0] != '/')
		return sp_node_error(
			ld, path, "path: '%s' does not start with '/'", pstr);
	if (sp_tpl_node(ld, path, "path", SP_TPL_PATH, &r->path) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "name")) != NULL) {
		if (sp_yaml_str(ld, v, "name", &s) < 0)
			return -1;
		if (*s == '\0')
			return sp_node_error(ld, v, "name: empty");
		r->name = sp_mem_strdup(pl, s);
	} else {
		size_t ml = strlen(sp_methods[r->method]);
		char *nm = sp_mem_alloc(pl, ml + 1 + strlen(pstr) + 1);

		if (nm != NULL)
			sprintf(nm, "%s %s", sp_methods[r->method], pstr);
		r->name = nm;
	}
	if (r->name == NULL)
		return sp_node_error(ld, n, "out of memory");
	if ((v = sp_yaml_get(ld, n, "headers")) != NULL &&
	    sp_headers(ld, v, r) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "body")) != NULL) {
		if (sp_tpl_node(ld, v, "body", SP_TPL_BODY, &r->body) < 0)
			return -1;
		r->has_body = 1;
	}
	if ((v = sp_yaml_get(ld, n, "check")) != NULL &&
	    sp_check(ld, v, &r->check) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "expect_status")) != NULL &&
	    sp_expect(ld, v, r->expect_set) < 0)
		return -1;
	*idx = pl->nrequests++;
	return 0;
}

/* ---- steps and scenarios ---- */

int
sp_step_push(struct sp_loader *ld, const yaml_node_t *n,
	     const struct sp_step *st, uint32_t *idx)
{
	if (ld->pv->nsteps >= SP_MAX_STEPS)
		return sp_node_error(ld, n,
				     "too many steps (at most %u in all)",
				     SP_MAX_STEPS);
	if (ld->nsteps == ld->steps_cap) {
		uint32_t cap = ld->steps_cap ? ld->steps_cap * 2 : 16;
		struct sp_step *s = realloc(ld->steps, cap * sizeof(*s));

		if (s == NULL)
			return sp_node_error(ld, n, "out of memory");
		ld->steps = s;
		ld->steps_cap = cap;
	}
	ld->steps[ld->nsteps] = *st;
	*idx = ld->nsteps++;
	ld->pv->nsteps++;
	return 0;
}

int
sp_think(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "min", "max", NULL };
	struct sp_step st = { .kind = SP_STEP_THINK };
	yaml_node_t *lo, *hi;
	uint32_t idx;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, n, "think", keys) < 0)
			return -1;
		lo = sp_yaml_get(ld, n, "min");
		hi = sp_yaml_get(ld, n, "max");
		if (lo == NULL || hi == NULL)
			return sp_node_error(ld, n,
					     "think: give both min and max");
		if (sp_yaml_dur(ld, lo, "min", &st.think_min_us) < 0 ||
		    sp_yaml_dur(ld, hi, "max", &st.think_max_us) < 0)
			return -1;
		if (st.think_min_us > st.think_max_us)
			return sp_node_error(ld, hi,
					     "think: max is less than min");
	} else {
		if (sp_yaml_dur(ld, n, "think", &st.think_min_us) < 0)
			return -1;
		st.think_max_us = st.think_min_us;
	}
	return sp_step_push(ld, n, &st, &idx);
}

int
sp_loop(struct sp_loader *ld, const yaml_node_t *n, unsigned depth)
{
	static const char *const keys[] = { "count", "steps", NULL };
	struct sp_step st = { .kind = SP_STEP_LOOP, .depth = (uint8_t)depth };
	yaml_node_t *cnt, *body;
	uint32_t b, e;
	uint64_t x;

	if (sp_yaml_map(ld, n, "loop", keys) < 0)
		return -1;
	if (depth >= SP_PLAN_MAX_LOOP_DEPTH)
		return sp_node_error(ld, n, "loop: loops nest at most %d deep",
				     SP_PLAN_MAX_LOOP_DEPTH);
	cnt = sp_yaml_get(ld, n, "count");
	body = sp_yaml_get(ld, n, "steps");
	if (cnt == NULL)
		return sp_node_error(ld, n, "loop: no count");
	if (body == NULL)
		return sp_node_error(ld, n, "loop: no steps");
	if (sp_yaml_u64(ld, cnt, "count", 1, UINT32_MAX, &x) < 0)
		return -1;
	st.count = (uint32_t)x;
	if (sp_step_push(ld, n, &st, &b) < 0 ||
	    sp_steps(ld, body, depth + 1) < 0)
		return -1;
	if (ld->in_ws && ld->ws_closed)
		return sp_node_error(ld, n,
				     "loop: its close ends the session in the "
				     "first round (close can only be the ws: "
				     "block's last step)");
	st.kind = SP_STEP_LOOP_END;
	st.begin = b;
	if (sp_step_push(ld, n, &st, &e) < 0)
		return -1;
	ld->steps[b].begin = b;
	ld->steps[b].end = e;
	ld->steps[e].end = e;
	return 0;
}

/* @depth: the nesting depth a loop among these steps would have. Inside
 * a ws: block (ld->in_ws) the steps are the WebSocket's (scenario_ws.c). */
int
sp_steps(struct sp_loader *ld, const yaml_node_t *n, unsigned depth)
{
	if (sp_yaml_seq(ld, n, "steps") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *s = sp_yaml_node(ld, *it), *k, *v;
		struct sp_step st = { .kind = SP_STEP_REQUEST };
		const char *kind;
		uint32_t idx;

		if (s->type != YAML_MAPPING_NODE ||
		    s->data.mapping.pairs.top - s->data.mapping.pairs.start !=
			    1)
			return sp_node_error(
				ld, s,
				ld->in_ws ? "a step of a ws: block is a "
					    "mapping with exactly one of "
					    "send, expect, listen, ping, "
					    "close, think, loop" :
					    "a step is a mapping with exactly "
					    "one of request, think, loop, ws");
		k = sp_yaml_node(ld, s->data.mapping.pairs.start->key);
		v = sp_yaml_node(ld, s->data.mapping.pairs.start->value);
		if (sp_yaml_str(ld, k, "step", &kind) < 0)
			return -1;
		/* A close ends the session: a step after it never runs. */
		if (ld->in_ws && ld->ws_closed)
			return sp_node_error(
				ld, k,
				"%s: comes after close, which ends "
				"the session (close can only be "
				"the ws: block's last step)",
				kind);
		if (strcmp(kind, "think") == 0) {
			if (sp_think(ld, v) < 0)
				return -1;
		} else if (strcmp(kind, "loop") == 0) {
			if (sp_loop(ld, v, depth) < 0)
				return -1;
		} else if (ld->in_ws || sp_ws_step_kind(kind) >= 0) {
			if (sp_ws_step(ld, k, kind, v) < 0)
				return -1;
		} else if (strcmp(kind, "request") == 0) {
			if (sp_request(ld, v, &st.req) < 0 ||
			    sp_step_push(ld, s, &st, &idx) < 0)
				return -1;
		} else if (strcmp(kind, "ws") == 0) {
			if (sp_ws_block(ld, v, depth) < 0)
				return -1;
		} else {
			return sp_node_error(
				ld, k,
				"unknown step '%s' (request, think, "
				"loop or ws)",
				kind);
		}
	}
	return 0;
}

static int
sp_tags(struct sp_loader *ld, const yaml_node_t *n, struct sp_scenario *sc)
{
	const char **tags;
	uint32_t i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return sp_node_error(ld, n, "tags: expected a list, got %s",
				     sp_yaml_kind(n));
	tags = sp_mem_alloc(ld->pl,
			    sizeof(*tags) *
				    (size_t)(n->data.sequence.items.top -
					     n->data.sequence.items.start + 1));
	if (tags == NULL)
		return sp_node_error(ld, n, "out of memory");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *t = sp_yaml_node(ld, *it);
		const char *s;

		if (sp_yaml_str(ld, t, "tags", &s) < 0)
			return -1;
		/* --tags takes a comma-separated list of them. */
		if (*s == '\0' || strchr(s, ',') != NULL)
			return sp_node_error(
				ld, t,
				"tags: '%s' is not a tag (non-empty, "
				"no comma)",
				s);
		tags[i] = sp_mem_strdup(ld->pl, s);
		if (tags[i] == NULL)
			return sp_node_error(ld, t, "out of memory");
	}
	sc->tags = tags;
	sc->ntags = i;
	return 0;
}

static int
sp_scenario(struct sp_loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"name",
		"weight",
		"tags",
		"keep_alive",
		"max_requests_per_connection",
		"steps",
		"load",
		"vus",
		NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_scenario sc = { .weight = 1, .enabled = 1, .keep_alive = 1 };
	struct sp_step *steps;
	yaml_node_t *v, *nm, *st;
	const char *s;
	uint64_t x;
	uint32_t i;

	if (sp_yaml_map(ld, n, "scenario", keys) < 0)
		return -1;
	nm = sp_yaml_get(ld, n, "name");
	if (nm == NULL)
		return sp_node_error(ld, n, "scenario: no name");
	if (sp_yaml_str(ld, nm, "name", &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_node_error(ld, nm, "name: empty");
	for (i = 0; i < pl->nscenarios; i++)
		if (strcmp(pv->scn[i].name, s) == 0)
			return sp_node_error(ld, nm,
					     "name: a scenario named '%s' "
					     "already exists",
					     s);
	sc.name = sp_mem_strdup(pl, s);
	if (sc.name == NULL)
		return sp_node_error(ld, nm, "out of memory");
	if ((v = sp_yaml_get(ld, n, "weight")) != NULL) {
		if (sp_yaml_u64(ld, v, "weight", 1, 1000000, &x) < 0)
			return -1;
		sc.weight = (uint32_t)x;
	}
	if ((v = sp_yaml_get(ld, n, "tags")) != NULL && sp_tags(ld, v, &sc) < 0)
		return -1;
	if (sp_scn_load(ld, n, &sc) < 0) /* scenario_load.c */
		return -1;
	if ((v = sp_yaml_get(ld, n, "keep_alive")) != NULL) {
		if (sp_yaml_str(ld, v, "keep_alive", &s) < 0)
			return -1;
		if (sp_val_bool(s, &sc.keep_alive, ld->why) < 0)
			return sp_node_error(ld, v, "keep_alive: %s", ld->why);
	}
	if ((v = sp_yaml_get(ld, n, "max_requests_per_connection")) != NULL) {
		if (sp_yaml_u64(ld, v, "max_requests_per_connection", 0,
				UINT32_MAX, &x) < 0)
			return -1;
		sc.max_requests_per_conn = (uint32_t)x;
	}
	st = sp_yaml_get(ld, n, "steps");
	if (st == NULL)
		return sp_node_error(ld, n, "scenario %s: no steps", sc.name);
	ld->nsteps = 0;
	if (sp_steps(ld, st, 0) < 0)
		return -1;
	for (i = 0; i < ld->nsteps; i++)
		if (ld->steps[i].kind == SP_STEP_REQUEST)
			break;
	if (i == ld->nsteps)
		return sp_node_error(
			ld, st, "steps: scenario %s makes no request", sc.name);
	steps = sp_mem_alloc(pl, ld->nsteps * sizeof(*steps));
	pv->scn = sp_mem_grow(pl, pv->scn, &pv->scn_cap, pl->nscenarios + 1,
			      sizeof(*pv->scn));
	if (steps == NULL || pv->scn == NULL)
		return sp_node_error(ld, n, "out of memory");
	memcpy(steps, ld->steps, ld->nsteps * sizeof(*steps));
	sc.steps = steps;
	sc.nsteps = ld->nsteps;
	pv->scn[pl->nscenarios++] = sc;
	pl->scenarios = pv->scn;
	return 0;
}

int
sp_file_scenarios(struct sp_loader *ld, const yaml_node_t *n)
{
	if (sp_yaml_seq(ld, n, "scenarios") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *s = sp_yaml_node(ld, *it);

		if (ld->pl->nscenarios == SP_MAX_SCENARIOS)
			return sp_node_error(ld, s, "scenarios: more than %u",
					     SP_MAX_SCENARIOS);
		if (sp_scenario(ld, s) < 0)
			return -1;
	}
	return 0;
}

/* Append a parsed threshold (its expression copied into the plan). */
