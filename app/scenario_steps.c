/*
 * The scenarios: key of a scenario file: scenarios, their steps (requests,
 * think times, loops) and the checks on a response.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sp_capture.h" /* sp_jsonpath_compile */
#include "sp_scenario_int.h"
#include "sp_values.h"

static const char *const sp_methods[SP_METHOD_N] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
};

/* ---- requests ---- */

/* Where the variables of the template at @n are used (sp_vars_check). */
static void
sp_use_at(struct sp_loader *ld, const yaml_node_t *n, const char *key)
{
	ld->pv->use_line = (uint32_t)n->start_mark.line + 1;
	ld->pv->use_col = (uint32_t)n->start_mark.column + 1;
	ld->pv->use_key = key;
}

int
sp_tpl_node(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	    enum sp_tpl_ctx ctx, struct sp_tpl *t)
{
	struct sp_tpl_env env = sp_plan_tpl_env(ld->pl);
	struct sp_tpl_build b = { 0 };
	const char *s;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	sp_use_at(ld, n, key);
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
			/* The request's own Cookie: the jar's stay home. */
			r->own_cookie |= strcasecmp(name, "Cookie") == 0;
			if (ua && *val == '\0')
				continue; /* no User-Agent at all */
			if (sp_tpl_lit(&env, &b, name, strlen(name), ld->why,
				       SP_WHY) < 0 ||
			    sp_tpl_lit(&env, &b, ": ", 2, ld->why, SP_WHY) < 0)
				return sp_node_error(ld, k, "headers: %s",
						     ld->why);
			sp_use_at(ld, v, name);
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

	if (sp_yaml_str(ld, v, key, &s) < 0)
		return -1;
	return sp_contains_text(ld, v, key, s, str, len_out, kmp);
}

/* The same for text @s already read from node @v (for messages). */
int
sp_contains_text(struct sp_loader *ld, const yaml_node_t *v, const char *key,
		 const char *s, const char **str, uint32_t *len_out,
		 const uint32_t **kmp)
{
	uint32_t *f;
	uint32_t len, k = 0;

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

/* ---- captures and conditions ---- */

int
sp_regex_ok(const char *re, char *why)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *code;
	int ec;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec,
			     &off, NULL);
	if (code != NULL) {
		pcre2_code_free(code);
		return 0;
	}
	pcre2_get_error_message(ec, msg, sizeof(msg));
	return sp_why(why, "'%s': %s (at offset %zu)", re, (const char *)msg,
		      (size_t)off);
}

/* A regex: key's value, compiled once here to say what is wrong with
 * it and where (the engine compiles it again for itself). */
static int
sp_regex_node(struct sp_loader *ld, const yaml_node_t *n, const char *key,
	      const char **out)
{
	const char *s;

	if (sp_yaml_str(ld, n, key, &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_node_error(ld, n, "%s: empty", key);
	if (sp_regex_ok(s, ld->why) < 0)
		return sp_node_error(ld, n, "%s: %s", key, ld->why);
	*out = sp_mem_strdup(ld->pl, s);
	return *out == NULL ? sp_node_error(ld, n, "out of memory") : 0;
}

/* Variable @name at @k (a capture's name or an if:'s var). */
static int
sp_var_name(struct sp_loader *ld, const yaml_node_t *k, const char *key,
	    const char *name)
{
	if (sp_tpl_var_name_ok(name, ld->why, SP_WHY) < 0)
		return sp_node_error(ld, k, "%s: %s", key, ld->why);
	return 0;
}

/*
 * One capture: exactly one source, {json: PATH}, {header: NAME} (with an
 * optional regex: over its value), {regex: RE} (the body), {cookie:
 * NAME} or {status: true}; @as_key: the list form's as: names the
 * variable.
 */
static int
sp_capture_spec(struct sp_loader *ld, const yaml_node_t *n, int as_key,
		struct sp_capture *c)
{
	static const char *const keys[] = { "json",   "header", "regex",
					    "cookie", "status", NULL };
	static const char *const keys_as[] = { "json",   "header", "regex",
					       "cookie", "status", "as",
					       NULL };
	static const uint8_t kinds[] = { SP_CAP_JSON, SP_CAP_HEADER,
					 SP_CAP_BODY, SP_CAP_COOKIE,
					 SP_CAP_STATUS };
	const yaml_node_t *src = NULL, *re;
	struct sp_jsonpath jp;
	const char *s;
	size_t which = 0;
	int on;

	if (sp_yaml_map(ld, n, "capture", as_key ? keys_as : keys) < 0)
		return -1;
	/* regex: is the source only alone; beside header: it filters. */
	for (size_t i = 0; i < 5; i++) {
		yaml_node_t *v = sp_yaml_get(ld, n, keys[i]);

		if (v == NULL || i == 2)
			continue;
		if (src != NULL)
			return sp_node_error(ld, v,
					     "capture: %s: one source per "
					     "capture (json, header, regex, "
					     "cookie or status), %s is given",
					     keys[i], keys[which]);
		src = v;
		which = i;
	}
	re = sp_yaml_get(ld, n, "regex");
	if (src == NULL && re == NULL)
		return sp_node_error(ld, n,
				     "capture: no source (json, header, "
				     "regex, cookie or status)");
	if (src == NULL) {
		src = re;
		which = 2;
	} else if (re != NULL && which != 1) {
		return sp_node_error(ld, re,
				     "regex: reads the body alone, or a "
				     "header's value beside header:; not "
				     "beside %s:",
				     keys[which]);
	}
	c->kind = kinds[which];
	if (re != NULL && sp_regex_node(ld, re, "regex", &c->regex) < 0)
		return -1;
	if (which == 2)
		return 0;
	if (sp_yaml_str(ld, src, keys[which], &s) < 0)
		return -1;
	switch (which) {
	case 0:
		/* Compiled once here for its errors; the engine compiles
		 * it again for itself. */
		if (s[0] != '$')
			return sp_node_error(ld, src,
					     "json: '%s' is not a JSON path "
					     "(it starts with $: $.data.token, "
					     "$.items[0].id)",
					     s);
		if (sp_jsonpath_compile(&jp, s, ld->why, SP_WHY) < 0)
			return sp_node_error(ld, src, "%s (in '%s')", ld->why, s);
		break;
	case 1:
	case 3:
		/* RFC 9110 5.1 field names, RFC 6265 4.1.1 cookie names:
		 * both tokens. */
		if (!sp_is_token(s))
			return sp_node_error(ld, src,
					     "%s: '%s' is not a %s name "
					     "(RFC 9110 token)",
					     keys[which], s,
					     which == 1 ? "header" : "cookie");
		break;
	case 4:
		if (sp_val_bool(s, &on, ld->why) < 0 || !on)
			return sp_node_error(ld, src,
					     "status: '%s': only true (the "
					     "response's status code)",
					     s);
		return 0;
	}
	c->name = sp_mem_strdup(ld->pl, s);
	return c->name == NULL ? sp_node_error(ld, src, "out of memory") : 0;
}

/* The capture's variable: registered, and marked as captured (by setup,
 * for {{setup.NAME}}, when setup's steps are read). */
static int
sp_capture_var(struct sp_loader *ld, const yaml_node_t *k, const char *name,
	       const struct sp_capture *caps, uint32_t n, struct sp_capture *c)
{
	struct sp_var_info *vi;

	if (sp_var_name(ld, k, "capture", name) < 0)
		return -1;
	if (sp_var_index(ld->pl, name, &c->var, ld->why) < 0)
		return sp_node_error(ld, k, "capture: %s", ld->why);
	for (uint32_t i = 0; i < n; i++)
		if (caps[i].var == c->var)
			return sp_node_error(ld, k,
					     "capture: '%s' is captured twice "
					     "by this request",
					     name);
	vi = &ld->pv->vinfo[c->var];
	vi->captured = 1;
	vi->setup_captured |= ld->pv->scen_kind == SP_SCEN_SETUP;
	return 0;
}

/* capture: a mapping NAME: spec, or a list of specs with as: NAME. */
static int
sp_captures(struct sp_loader *ld, const yaml_node_t *n, struct sp_request *r)
{
	struct sp_capture *caps;
	size_t cnt;
	uint32_t k = 0;

	if (n->type == YAML_MAPPING_NODE)
		cnt = (size_t)(n->data.mapping.pairs.top -
			       n->data.mapping.pairs.start);
	else if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top -
			       n->data.sequence.items.start);
	else
		return sp_node_error(ld, n,
				     "capture: expected a mapping (NAME: "
				     "{json: ...}) or a list, got %s",
				     sp_yaml_kind(n));
	if (cnt == 0)
		return sp_node_error(ld, n, "capture: empty");
	if (cnt > SP_MAX_CAPTURES)
		return sp_node_error(ld, n, "capture: more than %u",
				     SP_MAX_CAPTURES);
	caps = sp_mem_alloc(ld->pl, cnt * sizeof(*caps));
	if (caps == NULL)
		return sp_node_error(ld, n, "out of memory");
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++, k++) {
			yaml_node_t *kn = sp_yaml_node(ld, p->key),
				    *v = sp_yaml_node(ld, p->value);
			const char *name;

			if (sp_yaml_str(ld, kn, "capture", &name) < 0 ||
			    sp_capture_spec(ld, v, 0, &caps[k]) < 0 ||
			    sp_capture_var(ld, kn, name, caps, k, &caps[k]) < 0)
				return -1;
		}
	} else {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, k++) {
			yaml_node_t *v = sp_yaml_node(ld, *it), *as;
			const char *name;

			if (sp_capture_spec(ld, v, 1, &caps[k]) < 0)
				return -1;
			as = sp_yaml_get(ld, v, "as");
			if (as == NULL)
				return sp_node_error(ld, v,
						     "capture: no as: (the "
						     "variable's name)");
			if (sp_yaml_str(ld, as, "as", &name) < 0 ||
			    sp_capture_var(ld, as, name, caps, k, &caps[k]) < 0)
				return -1;
		}
	}
	r->captures = caps;
	r->ncaptures = k;
	return 0;
}

static int
sp_request(struct sp_loader *ld, const yaml_node_t *n, uint32_t *idx)
{
	static const char *const keys[] = {
		"name",          "method",  "path",
		"headers",       "body",    "check",
		"expect_status", "capture", "on_capture_fail",
		NULL,
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
	if ((v = sp_yaml_get(ld, n, "capture")) != NULL &&
	    sp_captures(ld, v, r) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "on_capture_fail")) != NULL) {
		if (sp_yaml_str(ld, v, "on_capture_fail", &s) < 0)
			return -1;
		if (strcmp(s, "continue") != 0 && strcmp(s, "end") != 0)
			return sp_node_error(ld, v,
					     "on_capture_fail: '%s' is not "
					     "continue or end",
					     s);
		if (r->ncaptures == 0)
			return sp_node_error(ld, v,
					     "on_capture_fail: the request "
					     "has no capture:");
		r->capture_continue = s[0] == 'c';
	}
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

/* The plan's next condition, zeroed: its index in *@idx. */
static struct sp_cond *
sp_cond_new(struct sp_plan *pl, uint32_t *idx)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;

	pv->conds = sp_mem_grow(pl, pv->conds, &pv->conds_cap, pl->nconds + 1,
				sizeof(*pv->conds));
	if (pv->conds == NULL)
		return NULL;
	pl->conds = pv->conds;
	*idx = pl->nconds++;
	return &pv->conds[*idx];
}

/*
 * `- if: {var: NAME, equals: TEXT | matches: RE | set: BOOL, not: BOOL}`
 * with `steps:` beside it in the same mapping: an IF step whose end is
 * the first step after its block.
 */
static int
sp_if(struct sp_loader *ld, const yaml_node_t *n, unsigned depth)
{
	static const char *const keys[] = { "if", "steps", NULL };
	static const char *const ckeys[] = { "var", "equals", "matches",
					     "set", "not",    NULL };
	struct sp_step st = { .kind = SP_STEP_IF, .depth = (uint8_t)depth };
	yaml_node_t *cn, *body, *v, *op = NULL;
	struct sp_cond *c;
	const char *s, *name;
	uint32_t ci, var, b;
	int on, rc;

	if (sp_yaml_map(ld, n, "if", keys) < 0)
		return -1;
	cn = sp_yaml_get(ld, n, "if");
	body = sp_yaml_get(ld, n, "steps");
	if (ld->in_ws)
		return sp_node_error(ld, n,
				     "if: not inside a ws: block (put the "
				     "ws: step inside the if:)");
	if (body == NULL)
		return sp_node_error(ld, n,
				     "if: no steps: beside it (- if: {var: "
				     "NAME, equals: TEXT}, then steps: [...] "
				     "in the same mapping)");
	if (ld->if_depth >= SP_MAX_IF_DEPTH)
		return sp_node_error(ld, n, "if: nests at most %u deep",
				     SP_MAX_IF_DEPTH);
	if (sp_yaml_map(ld, cn, "if", ckeys) < 0)
		return -1;
	v = sp_yaml_get(ld, cn, "var");
	if (v == NULL)
		return sp_node_error(ld, cn, "if: no var (the variable to "
					     "test)");
	if (sp_yaml_str(ld, v, "var", &name) < 0 ||
	    sp_var_name(ld, v, "var", name) < 0)
		return -1;
	ld->pv->use_line = (uint32_t)v->start_mark.line + 1;
	ld->pv->use_col = (uint32_t)v->start_mark.column + 1;
	ld->pv->use_key = "if";
	if (sp_var_cb(ld->pl, name, 0, &var, ld->why, SP_WHY) < 0)
		return sp_node_error(ld, v, "var: %s", ld->why);
	c = sp_cond_new(ld->pl, &ci);
	if (c == NULL)
		return sp_node_error(ld, cn, "out of memory");
	c->var = var;
	for (size_t i = 1; i <= 3; i++) {
		yaml_node_t *o = sp_yaml_get(ld, cn, ckeys[i]);

		if (o == NULL)
			continue;
		if (op != NULL)
			return sp_node_error(ld, o,
					     "if: %s: give one of equals, "
					     "matches or set",
					     ckeys[i]);
		op = o;
		c->op = (uint8_t)(i - 1); /* the order of enum sp_cond_op */
	}
	if (op == NULL)
		return sp_node_error(ld, cn,
				     "if: give one of equals, matches or set");
	if (c->op == SP_COND_MATCHES) {
		if (sp_regex_node(ld, op, "matches", &c->value) < 0)
			return -1;
	} else {
		if (sp_yaml_str(ld, op, ckeys[c->op + 1], &s) < 0)
			return -1;
		if (c->op == SP_COND_SET) {
			if (sp_val_bool(s, &on, ld->why) < 0)
				return sp_node_error(ld, op, "set: %s",
						     ld->why);
			c->negate = (uint8_t)!on;
		} else {
			c->value = sp_mem_strdup(ld->pl, s);
			if (c->value == NULL)
				return sp_node_error(ld, op, "out of memory");
		}
	}
	if (c->value != NULL)
		c->value_len = (uint32_t)strlen(c->value);
	if ((v = sp_yaml_get(ld, cn, "not")) != NULL) {
		if (sp_yaml_str(ld, v, "not", &s) < 0)
			return -1;
		if (sp_val_bool(s, &on, ld->why) < 0)
			return sp_node_error(ld, v, "not: %s", ld->why);
		c->negate ^= (uint8_t)on;
	}
	st.ws = ci;
	if (sp_step_push(ld, n, &st, &b) < 0)
		return -1;
	ld->if_depth++;
	rc = sp_steps(ld, body, depth);
	ld->if_depth--;
	if (rc < 0)
		return -1;
	ld->steps[b].end = ld->nsteps;
	return 0;
}

/* Whether step mapping @s has an if: key (it then has steps: too). */
static int
sp_is_if(struct sp_loader *ld, const yaml_node_t *s)
{
	if (s->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = s->data.mapping.pairs.start;
	     p < s->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_yaml_node(ld, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "if") == 0)
			return 1;
	}
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

		if (sp_is_if(ld, s)) {
			if (sp_if(ld, s, depth) < 0)
				return -1;
			continue;
		}
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
					    "one of request, think, loop, ws "
					    "(or if: with steps:)");
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
				"loop, ws or if)",
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

/*
 * Steps @st into the plan's next scenario @sc (its name, unique, and
 * settings given): *@idx its index. @n: the scenario's node, for errors.
 */
static int
sp_scen_add(struct sp_loader *ld, const yaml_node_t *n, const yaml_node_t *st,
	    struct sp_scenario *sc, uint32_t *idx)
{
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_step *steps;
	uint32_t i;

	ld->nsteps = 0;
	ld->if_depth = 0;
	pv->scen_kind = sc->kind;
	if (sp_steps(ld, st, 0) < 0)
		return -1;
	pv->scen_kind = SP_SCEN_LOAD;
	for (i = 0; i < ld->nsteps; i++)
		if (ld->steps[i].kind == SP_STEP_REQUEST)
			break;
	if (i == ld->nsteps)
		return sp_node_error(ld, st, "steps: scenario %s makes no request",
				     sc->name);
	steps = sp_mem_alloc(pl, ld->nsteps * sizeof(*steps));
	pv->scn = sp_mem_grow(pl, pv->scn, &pv->scn_cap, pl->nscenarios + 1,
			      sizeof(*pv->scn));
	if (steps == NULL || pv->scn == NULL)
		return sp_node_error(ld, n, "out of memory");
	memcpy(steps, ld->steps, ld->nsteps * sizeof(*steps));
	sc->steps = steps;
	sc->nsteps = ld->nsteps;
	*idx = pl->nscenarios;
	pv->scn[pl->nscenarios++] = *sc;
	pl->scenarios = pv->scn;
	return 0;
}

/*
 * A lifecycle step list (@n: setup:, teardown:, vu_setup:, vu_teardown:,
 * a scenario's own vu_setup: or vu_teardown:) as a scenario of kind
 * @kind named @name: never picked by weight (enabled 0), the engine runs
 * it around the load.
 */
static int
sp_life_scen(struct sp_loader *ld, const yaml_node_t *n, const char *name,
	     uint8_t kind, uint32_t *idx)
{
	struct sp_scenario sc = { .name = name,
				  .weight = 1,
				  .keep_alive = 1,
				  .kind = kind };
	const char *key = strrchr(name, '.') != NULL ? strrchr(name, '.') + 1 :
						       name;

	if (ld->pl->nscenarios == SP_MAX_SCENARIOS)
		return sp_node_error(ld, n, "%s: more than %u scenarios", key,
				     SP_MAX_SCENARIOS);
	for (uint32_t i = 0; i < ld->pl->nscenarios; i++)
		if (strcmp(ld->pv->scn[i].name, name) == 0)
			return sp_node_error(ld, n,
					     "%s: its steps are reported as "
					     "'%s', which a scenario is "
					     "already named",
					     key, name);
	if (n->type != YAML_SEQUENCE_NODE)
		return sp_node_error(ld, n, "%s: expected a list of steps, got %s",
				     key, sp_yaml_kind(n));
	return sp_scen_add(ld, n, n, &sc, idx);
}

/* A scenario's `vu_setup: []` or `vu_teardown: []` while it is read:
 * none for it, not the file's. */
#define SP_LIFE_NONE UINT32_MAX

int
sp_file_lifecycle(struct sp_loader *ld, const yaml_node_t *root)
{
	static const struct {
		const char *key;
		uint8_t kind;
	} life[] = {
		{ "setup", SP_SCEN_SETUP },
		{ "teardown", SP_SCEN_TEARDOWN },
		{ "vu_setup", SP_SCEN_VU_SETUP },
		{ "vu_teardown", SP_SCEN_VU_TEARDOWN },
	};
	struct sp_plan *pl = ld->pl;
	uint32_t at[4] = { 0 }, nload = pl->nscenarios;

	for (size_t k = 0; k < 4; k++) {
		yaml_node_t *v = sp_yaml_get(ld, root, life[k].key);

		if (v == NULL)
			continue;
		if (nload == 0)
			return sp_node_error(ld, v,
					     "%s: the file has no scenarios: "
					     "for it to run around",
					     life[k].key);
		if (sp_life_scen(ld, v, life[k].key, life[k].kind, &at[k]) <
		    0)
			return -1;
		at[k]++;
	}
	pl->setup_scen = at[0];
	pl->teardown_scen = at[1];
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		struct sp_scenario *sc = &ld->pv->scn[i];

		if (sc->kind != SP_SCEN_LOAD)
			continue;
		if (sc->vu_setup == 0)
			sc->vu_setup = at[2];
		else if (sc->vu_setup == SP_LIFE_NONE)
			sc->vu_setup = 0;
		if (sc->vu_teardown == 0)
			sc->vu_teardown = at[3];
		else if (sc->vu_teardown == SP_LIFE_NONE)
			sc->vu_teardown = 0;
	}
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
		"vu_setup",
		"vu_teardown",
		NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_scenario sc = { .weight = 1, .enabled = 1, .keep_alive = 1 };
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
	if (sp_scen_add(ld, n, st, &sc, &i) < 0)
		return -1;
	/* Its own vu_setup / vu_teardown, over the file's (which
	 * sp_file_lifecycle gives to those that have none). */
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "vu_setup" : "vu_teardown";
		uint32_t j;
		char *lname;

		if ((v = sp_yaml_get(ld, n, key)) == NULL)
			continue;
		if (v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.start ==
			    v->data.sequence.items.top) {
			/* []: none for this scenario, the file's aside
			 * (sp_file_lifecycle reads the mark). */
			if (k == 0)
				pv->scn[i].vu_setup = SP_LIFE_NONE;
			else
				pv->scn[i].vu_teardown = SP_LIFE_NONE;
			continue;
		}
		lname = sp_mem_alloc(pl,
				     strlen(sc.name) + 1 + strlen(key) + 1);
		if (lname == NULL)
			return sp_node_error(ld, v, "out of memory");
		sprintf(lname, "%s.%s", sc.name, key);
		if (sp_life_scen(ld, v, lname,
				 k == 0 ? SP_SCEN_VU_SETUP :
					  SP_SCEN_VU_TEARDOWN,
				 &j) < 0)
			return -1;
		if (k == 0)
			pv->scn[i].vu_setup = j + 1;
		else
			pv->scn[i].vu_teardown = j + 1;
	}
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
