/*
 * The WebSocket parts of a scenario: a `ws:` step, flattened as sp_plan.h
 * says (the upgrade REQUEST, the block's own steps, a WS_END that names
 * the upgrade's step), the steps inside it (send, expect, listen, ping,
 * close; think and loop nest as anywhere), the file's `ws:` settings
 * (max_message, ping_every, shared with --ws-max-message and
 * --ws-ping-every) and the scenario a bare ws:// URL runs.
 *
 * What can be known before the run is checked here, with the node's
 * position: close codes that may go on the wire (RFC 6455 7.4), a reason
 * and a ping payload that fit a control frame (5.5), counts of at least
 * one; text is UTF-8 (5.6) as every YAML scalar is. A regex is only
 * checked to be there: the engine compiles it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_scenario_int.h"
#include "sp_values.h"
#include "sp_ws.h" /* sp_ws_close_code_ok */

#define SP_WS_MAX_PATTERN (64u << 20)      /* binary: {size: N} */
#define SP_WS_MAX_PING 125                 /* RFC 6455 5.5 */
#define SP_WS_MAX_REASON 123               /* 125 less the code's 2 */
#define SP_WS_MAX_MESSAGE_MAX (1ull << 30) /* ws.max_message at most */
#define SP_WS_MAX_MESSAGE_DEFAULT (1ull << 20)
#define SP_WS_DEFAULT_MESSAGES 100 /* a bare ws:// URL's, per session */

static const struct {
	const char *name;
	uint8_t kind;
} sp_ws_kinds[] = {
	{ "send", SP_STEP_WS_SEND },     { "expect", SP_STEP_WS_EXPECT },
	{ "listen", SP_STEP_WS_LISTEN }, { "ping", SP_STEP_WS_PING },
	{ "close", SP_STEP_WS_CLOSE },
};

int
sp_ws_step_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(sp_ws_kinds) / sizeof(sp_ws_kinds[0]);
	     i++)
		if (strcmp(kind, sp_ws_kinds[i].name) == 0)
			return sp_ws_kinds[i].kind;
	return -1;
}

/* The plan's next WebSocket step, zeroed: its index in *@idx. */
static struct sp_ws_step *
sp_ws_new(struct sp_plan *pl, uint32_t *idx)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;

	pv->ws = sp_mem_grow(pl, pv->ws, &pv->ws_cap, pl->nws_steps + 1,
			     sizeof(*pv->ws));
	if (pv->ws == NULL)
		return NULL;
	pl->ws_steps = pv->ws;
	*idx = pl->nws_steps++;
	return &pv->ws[*idx];
}

/* `- close:` or `- ping: ~`: a step written with nothing after it. */
static int
sp_yaml_empty(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)n->data.scalar.value;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/* The longest a template can render to (sp_plan.h's bounds). */
static uint64_t
sp_tpl_max_len(const struct sp_plan *pl, const struct sp_tpl *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < t->nparts; i++)
		n += sp_tpl_part_max(pl->data, pl->var_max, &t->parts[i]);
	return n;
}

/* name: of a step's mapping @n (NULL: none), else @dflt. */
static int
sp_ws_name(struct sp_loader *ld, const yaml_node_t *n, const char *dflt,
	   struct sp_ws_step *w)
{
	yaml_node_t *v = n != NULL ? sp_yaml_get(ld, n, "name") : NULL;
	const char *s;

	w->name = dflt;
	if (v == NULL)
		return 0;
	if (sp_yaml_str(ld, v, "name", &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_node_error(ld, v, "name: empty");
	w->name = sp_mem_strdup(ld->pl, s);
	return w->name == NULL ? sp_node_error(ld, v, "out of memory") : 0;
}

static int
sp_ws_count(struct sp_loader *ld, const yaml_node_t *n, uint32_t *count)
{
	yaml_node_t *v = sp_yaml_get(ld, n, "count");
	uint64_t x = 1;

	if (v != NULL && sp_yaml_u64(ld, v, "count", 1, UINT32_MAX, &x) < 0)
		return -1;
	*count = (uint32_t)x;
	return 0;
}

/* send: {text: T | binary: T | binary: {size: N}, measure, every, count} */
static int
sp_ws_send(struct sp_loader *ld, const yaml_node_t *n, struct sp_ws_step *w)
{
	static const char *const keys[] = { "text",  "binary", "measure",
					    "every", "count",  "name",
					    NULL };
	static const char *const bkeys[] = { "size", NULL };
	yaml_node_t *text, *bin, *v;
	const char *s;
	uint64_t x;
	int on;

	if (sp_yaml_map(ld, n, "send", keys) < 0)
		return -1;
	text = sp_yaml_get(ld, n, "text");
	bin = sp_yaml_get(ld, n, "binary");
	if ((text == NULL) == (bin == NULL))
		return sp_node_error(ld, n,
				     "send: give text or binary (one of "
				     "them)");
	if (text != NULL) {
		if (sp_yaml_str(ld, text, "text", &s) < 0)
			return -1;
		/* RFC 6455 5.6: a text message is UTF-8. libyaml lets no
		 * other bytes into a scalar (escapes included), so the
		 * literal text is; a variable's value is the engine's to
		 * judge. */
		if (sp_tpl_node(ld, text, "text", SP_TPL_BODY, &w->msg) < 0)
			return -1;
		w->data = SP_WS_TEXT;
	} else if (bin->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, bin, "binary", bkeys) < 0)
			return -1;
		v = sp_yaml_get(ld, bin, "size");
		if (v == NULL)
			return sp_node_error(ld, bin,
					     "binary: give size: (bytes of a "
					     "pattern) or the message itself");
		if (sp_yaml_str(ld, v, "size", &s) < 0)
			return -1;
		if (sp_val_size(s, SP_WS_MAX_PATTERN, &x, ld->why) < 0)
			return sp_node_error(ld, v, "size: %s", ld->why);
		if (x == 0)
			return sp_node_error(ld, v,
					     "size: 0 (an empty message is "
					     "binary: '')");
		w->pattern_size = (uint32_t)x;
		w->data = SP_WS_BINARY;
	} else {
		if (sp_tpl_node(ld, bin, "binary", SP_TPL_BODY, &w->msg) < 0)
			return -1;
		w->data = SP_WS_BINARY;
	}
	if ((v = sp_yaml_get(ld, n, "measure")) != NULL) {
		if (sp_yaml_str(ld, v, "measure", &s) < 0)
			return -1;
		if (sp_val_bool(s, &on, ld->why) < 0)
			return sp_node_error(ld, v, "measure: %s", ld->why);
		w->measure = (uint8_t)on;
	}
	if (sp_ws_count(ld, n, &w->send_count) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "every")) != NULL) {
		if (sp_yaml_dur(ld, v, "every", &w->every_us) < 0)
			return -1;
		if (w->every_us == 0)
			return sp_node_error(
				ld, v,
				"every: 0 (leave every out to send "
				"back to back)");
		if (w->send_count == 1)
			return sp_node_error(ld, v,
					     "every: paces count messages: "
					     "give count: N (more than 1)");
	}
	return sp_ws_name(
		ld, n, w->data == SP_WS_TEXT ? "send text" : "send binary", w);
}

/*
 * contains: literal text (no "{{"), its KMP table made here as a body
 * check's, or a template (`"user":"loadtest{{vu}}"`, `{{token}}`) the
 * engine renders for the VU when the step starts. Each VU waiting on a
 * template holds room for its longest rendering and a table four times
 * that, so that bound (a variable at capture_max, a data column at its
 * longest cell, filters included) is at most SP_WS_CONTAINS_MAX. A
 * template without a variable ({{env NAME}} only) is literal text.
 */
static int
sp_ws_contains(struct sp_loader *ld, const yaml_node_t *v, struct sp_ws_step *w)
{
	struct sp_tpl t;
	const char *s;
	uint64_t max;
	char *lit;
	uint32_t n = 0;

	if (sp_yaml_str(ld, v, "contains", &s) < 0)
		return -1;
	if (strstr(s, "{{") == NULL)
		return sp_contains_text(ld, v, "contains", s, &w->contains,
					&w->contains_len, &w->contains_kmp);
	if (sp_tpl_node(ld, v, "contains", SP_TPL_BODY, &t) < 0)
		return -1;
	if (sp_tpl_is_static(&t)) {
		lit = sp_mem_alloc(ld->pl, (size_t)t.text_len + 1);
		if (lit == NULL)
			return sp_node_error(ld, v, "out of memory");
		for (uint32_t i = 0; i < t.nparts; i++) {
			memcpy(lit + n, t.text + t.parts[i].off,
			       t.parts[i].len);
			n += t.parts[i].len;
		}
		lit[n] = '\0';
		return sp_contains_text(ld, v, "contains", lit, &w->contains,
					&w->contains_len, &w->contains_kmp);
	}
	max = sp_tpl_max_len(ld->pl, &t);
	if (max > SP_WS_CONTAINS_MAX)
		return sp_node_error(ld, v,
				     "contains: may render to %llu bytes, at "
				     "most %u (each VU waiting on it holds "
				     "room for its longest value: lower "
				     "capture_max, or shorten the data "
				     "column)",
				     (unsigned long long)max,
				     SP_WS_CONTAINS_MAX);
	w->contains_tpl = t;
	return 0;
}

/* expect: {contains, regex, count, timeout}, or nothing: any message. */
static int
sp_ws_expect(struct sp_loader *ld, const yaml_node_t *n, struct sp_ws_step *w)
{
	static const char *const keys[] = { "contains", "regex", "count",
					    "timeout",  "name",  NULL };
	yaml_node_t *v;
	const char *s;

	w->expect_count = 1;
	if (sp_yaml_empty(n))
		return sp_ws_name(ld, NULL, "expect", w);
	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "expect: expected a mapping (contains, "
				     "regex, count, timeout, name) or "
				     "nothing, got %s",
				     sp_yaml_kind(n));
	if (sp_yaml_map(ld, n, "expect", keys) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "contains")) != NULL &&
	    sp_ws_contains(ld, v, w) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "regex")) != NULL) {
		if (sp_yaml_str(ld, v, "regex", &s) < 0)
			return -1;
		if (*s == '\0')
			return sp_node_error(ld, v,
					     "regex: empty (leave it out to "
					     "take any message)");
		w->regex = sp_mem_strdup(ld->pl, s);
		if (w->regex == NULL)
			return sp_node_error(ld, v, "out of memory");
	}
	if (sp_ws_count(ld, n, &w->expect_count) < 0)
		return -1;
	/* Not given: the response timeout, known at sp_scenario_finish. */
	if ((v = sp_yaml_get(ld, n, "timeout")) != NULL) {
		if (sp_yaml_dur(ld, v, "timeout", &w->timeout_us) < 0)
			return -1;
		if (w->timeout_us == 0)
			return sp_node_error(ld, v,
					     "timeout: must be more than 0");
	}
	return sp_ws_name(ld, n, "expect", w);
}

/* listen: DURATION, or {duration, name} */
static int
sp_ws_listen(struct sp_loader *ld, const yaml_node_t *n, struct sp_ws_step *w)
{
	static const char *const keys[] = { "duration", "name", NULL };
	const yaml_node_t *d = n, *m = NULL;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, n, "listen", keys) < 0)
			return -1;
		m = n;
		d = sp_yaml_get(ld, n, "duration");
		if (d == NULL)
			return sp_node_error(ld, n, "listen: no duration");
	}
	if (sp_yaml_dur(ld, d, "listen", &w->listen_us) < 0)
		return -1;
	if (w->listen_us == 0)
		return sp_node_error(ld, d, "listen: must be more than 0");
	return sp_ws_name(ld, m, "listen", w);
}

/* ping: nothing, a payload, or {payload, name} */
static int
sp_ws_ping(struct sp_loader *ld, const yaml_node_t *n, struct sp_ws_step *w)
{
	static const char *const keys[] = { "payload", "name", NULL };
	const yaml_node_t *p = n, *m = NULL;
	uint64_t max;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_yaml_map(ld, n, "ping", keys) < 0)
			return -1;
		m = n;
		p = sp_yaml_get(ld, n, "payload");
	}
	if (p == NULL || sp_yaml_empty(p))
		return sp_ws_name(ld, m, "ping", w);
	if (sp_tpl_node(ld, p, "ping", SP_TPL_BODY, &w->msg) < 0)
		return -1;
	max = sp_tpl_max_len(ld->pl, &w->msg);
	if (max > SP_WS_MAX_PING)
		return sp_node_error(ld, p,
				     "ping: the payload can be %llu bytes, "
				     "a control frame holds at most %d (RFC "
				     "6455 5.5)",
				     (unsigned long long)max, SP_WS_MAX_PING);
	return sp_ws_name(ld, m, "ping", w);
}

/* close: nothing (1000), or {code, reason, name} */
static int
sp_ws_close(struct sp_loader *ld, const yaml_node_t *n, struct sp_ws_step *w)
{
	static const char *const keys[] = { "code", "reason", "name", NULL };
	yaml_node_t *v;
	const char *s;
	uint64_t x;

	w->close_code = 1000;
	if (sp_yaml_empty(n))
		return sp_ws_name(ld, NULL, "close", w);
	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "close: expected a mapping (code, "
				     "reason, name) or nothing, got %s",
				     sp_yaml_kind(n));
	if (sp_yaml_map(ld, n, "close", keys) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "code")) != NULL) {
		if (sp_yaml_u64(ld, v, "code", 0, UINT16_MAX, &x) < 0)
			return -1;
		if (!sp_ws_close_code_ok((unsigned)x))
			return sp_node_error(
				ld, v,
				"code: %llu may not be sent (RFC 6455 "
				"7.4: 1000-1003, 1007-1014, 3000-4999)",
				(unsigned long long)x);
		w->close_code = (uint16_t)x;
	}
	if ((v = sp_yaml_get(ld, n, "reason")) != NULL) {
		if (sp_yaml_str(ld, v, "reason", &s) < 0)
			return -1;
		/* UTF-8 (RFC 6455 7.1.6) as every scalar is. */
		if (strlen(s) > SP_WS_MAX_REASON)
			return sp_node_error(ld, v,
					     "reason: %zu bytes, at most %d "
					     "fit a close frame (RFC 6455 5.5)",
					     strlen(s), SP_WS_MAX_REASON);
		w->close_reason = sp_mem_strdup(ld->pl, s);
		if (w->close_reason == NULL)
			return sp_node_error(ld, v, "out of memory");
	}
	return sp_ws_name(ld, n, "close", w);
}

int
sp_ws_step(struct sp_loader *ld, const yaml_node_t *k, const char *kind,
	   const yaml_node_t *v)
{
	int kd = sp_ws_step_kind(kind);
	struct sp_step st = { 0 };
	struct sp_ws_step *w;
	uint32_t idx;
	int rc;

	if (!ld->in_ws)
		return sp_node_error(ld, k,
				     "%s: a WebSocket step goes in the steps "
				     "of a ws: block",
				     kind);
	if (kd < 0 && strcmp(kind, "ws") == 0)
		return sp_node_error(ld, k,
				     "ws: a ws: block cannot hold another "
				     "(a VU has one connection); put it after "
				     "this block");
	if (kd < 0 && strcmp(kind, "request") == 0)
		return sp_node_error(ld, k,
				     "request: inside a ws: block the "
				     "connection speaks WebSocket; put "
				     "requests before or after the block");
	if (kd < 0)
		return sp_node_error(ld, k,
				     "unknown step '%s' in a ws: block "
				     "(send, expect, listen, ping, close, "
				     "think or loop)",
				     kind);
	if (kd == SP_STEP_WS_CLOSE)
		ld->ws_closed = 1;
	w = sp_ws_new(ld->pl, &idx);
	if (w == NULL)
		return sp_node_error(ld, k, "out of memory");
	switch (kd) {
	case SP_STEP_WS_SEND:
		rc = sp_ws_send(ld, v, w);
		break;
	case SP_STEP_WS_EXPECT:
		rc = sp_ws_expect(ld, v, w);
		break;
	case SP_STEP_WS_LISTEN:
		rc = sp_ws_listen(ld, v, w);
		break;
	case SP_STEP_WS_PING:
		rc = sp_ws_ping(ld, v, w);
		break;
	default:
		rc = sp_ws_close(ld, v, w);
		break;
	}
	if (rc < 0)
		return -1;
	st.kind = (uint8_t)kd;
	st.ws = idx;
	return sp_step_push(ld, k, &st, &idx);
}

/* subprotocols: [chat, superchat] (or one), into "chat, superchat". */
static int
sp_ws_subprotocols(struct sp_loader *ld, const yaml_node_t *n,
		   struct sp_request *r)
{
	const yaml_node_item_t *it = NULL, *top = NULL;
	size_t len = 0, cap = 0;
	char *out = NULL;

	if (n->type != YAML_SCALAR_NODE) {
		if (sp_yaml_seq(ld, n, "subprotocols") < 0)
			return -1;
		it = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
	}
	do {
		const yaml_node_t *v = it != NULL ? sp_yaml_node(ld, *it) : n;
		const char *s;
		size_t sl;
		char *grown;

		if (sp_yaml_str(ld, v, "subprotocols", &s) < 0)
			return -1;
		/* RFC 6455 4.1: each is a token. */
		if (!sp_is_token(s))
			return sp_node_error(ld, v,
					     "subprotocols: '%s' is not a "
					     "subprotocol name (RFC 6455 4.1: "
					     "a token)",
					     s);
		sl = strlen(s);
		if (len + sl + 3 > cap) {
			cap = (len + sl + 3) * 2;
			grown = sp_mem_alloc(ld->pl, cap);
			if (grown == NULL)
				return sp_node_error(ld, v, "out of memory");
			if (out != NULL)
				memcpy(grown, out, len);
			out = grown;
		}
		if (len != 0) {
			memcpy(out + len, ", ", 2);
			len += 2;
		}
		memcpy(out + len, s, sl + 1);
		len += sl;
	} while (it != NULL && ++it < top);
	r->ws_subprotocols = out;
	return 0;
}

int
sp_ws_block(struct sp_loader *ld, const yaml_node_t *n, unsigned depth)
{
	static const char *const keys[] = {
		"name", "path", "headers", "subprotocols", "steps", NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_step st = { .kind = SP_STEP_REQUEST };
	struct sp_request *r;
	yaml_node_t *v, *path, *steps;
	const char *s, *pstr;
	uint32_t up, end;
	int rc;

	if (sp_yaml_map(ld, n, "ws", keys) < 0)
		return -1;
	path = sp_yaml_get(ld, n, "path");
	if (path == NULL)
		return sp_node_error(ld, n, "ws: no path");
	if (sp_yaml_str(ld, path, "path", &pstr) < 0)
		return -1;
	if (pstr[0] != '/')
		return sp_node_error(
			ld, path, "path: '%s' does not start with '/'", pstr);
	r = sp_request_new(ld, n);
	if (r == NULL)
		return -1;
	r->ws_upgrade = 1;
	if (sp_tpl_node(ld, path, "path", SP_TPL_PATH, &r->path) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "name")) != NULL) {
		if (sp_yaml_str(ld, v, "name", &s) < 0)
			return -1;
		if (*s == '\0')
			return sp_node_error(ld, v, "name: empty");
		r->name = sp_mem_strdup(pl, s);
	} else {
		char *nm = sp_mem_alloc(pl, strlen(pstr) + 4);

		if (nm != NULL)
			sprintf(nm, "WS %s", pstr);
		r->name = nm;
	}
	if (r->name == NULL)
		return sp_node_error(ld, n, "out of memory");
	if ((v = sp_yaml_get(ld, n, "headers")) != NULL &&
	    sp_headers(ld, v, r) < 0)
		return -1;
	if ((v = sp_yaml_get(ld, n, "subprotocols")) != NULL &&
	    sp_ws_subprotocols(ld, v, r) < 0)
		return -1;
	st.req = pl->nrequests++;
	if (sp_step_push(ld, n, &st, &up) < 0)
		return -1;
	if ((steps = sp_yaml_get(ld, n, "steps")) != NULL) {
		ld->in_ws = 1;
		ld->ws_closed = 0;
		rc = sp_steps(ld, steps, depth);
		ld->in_ws = 0;
		if (rc < 0)
			return -1;
	}
	ld->ws_closed = 0;
	st = (struct sp_step){ .kind = SP_STEP_WS_END, .req = up };
	return sp_step_push(ld, n, &st, &end);
}

/* ---- settings ---- */

int
sp_ws_setting(struct sp_plan *pl, const char *key, const char *v, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	uint64_t x;

	if (strcmp(key, "max_message") == 0) {
		if (sp_val_size(v, SP_WS_MAX_MESSAGE_MAX, &x, why) < 0)
			return -1;
		if (x == 0)
			return sp_why(why,
				      "'%s': a limit of 0 takes no message", v);
		pl->ws_max_message = x;
		pv->ws_keys = "ws.max_message";
		return 0;
	}
	if (strcmp(key, "ping_every") == 0) {
		if (sp_val_duration(v, &x, why) < 0)
			return -1;
		pl->ws_ping_every_us = x;
		pv->ws_keys = "ws.ping_every";
		return 0;
	}
	return sp_why(why, "unknown key ws.%s (max_message, ping_every)", key);
}

/* ws: { max_message: 1MiB, ping_every: 30s } */
int
sp_file_ws(struct sp_loader *ld, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return sp_node_error(ld, n,
				     "ws: expected a mapping (max_message, "
				     "ping_every), got %s",
				     sp_yaml_kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_yaml_node(ld, p->key);
		yaml_node_t *v = sp_yaml_node(ld, p->value);
		const char *key, *val;

		if (sp_yaml_str(ld, k, "ws", &key) < 0 ||
		    sp_yaml_str(ld, v, key, &val) < 0)
			return -1;
		if (strcmp(key, "max_message") != 0 &&
		    strcmp(key, "ping_every") != 0)
			return sp_node_error(ld, k,
					     "unknown key ws.%s (max_message, "
					     "ping_every)",
					     key);
		if (sp_ws_setting(ld->pl, key, val, ld->why) < 0)
			return sp_node_error(ld, v, "%s: %s", key, ld->why);
	}
	return 0;
}

/*
 * A bare ws:// or wss:// URL: each iteration opens a WebSocket on the
 * URL's path, then SP_WS_DEFAULT_MESSAGES times sends a text message
 * (its round trip measured) and waits for the next message (an echo
 * server's answer, or any), then closes with 1000.
 */
int
sp_ws_default(struct sp_plan *pl, const char *path, char *why)
{
	static const char text[] = "stampede {{vu}} {{iteration}}";
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	struct sp_tpl_env env = sp_plan_tpl_env(pl);
	struct sp_tpl_build bp = { 0 }, bt = { 0 };
	struct sp_ws_step *w;
	struct sp_scenario *sc;
	struct sp_request *r;
	struct sp_step *st;
	uint32_t idx;
	char *nm;

	env.var = NULL; /* nothing captures in a URL run */
	if (sp_tpl_add(&env, &bp, path, strlen(path), SP_TPL_PATH, why,
		       SP_WHY) < 0 ||
	    sp_tpl_add(&env, &bt, text, strlen(text), SP_TPL_BODY, why,
		       SP_WHY) < 0)
		return -1;
	pv->req = sp_mem_grow(pl, pv->req, &pv->req_cap, 1, sizeof(*pv->req));
	pv->scn = sp_mem_grow(pl, pv->scn, &pv->scn_cap, 1, sizeof(*pv->scn));
	st = sp_mem_alloc(pl, 6 * sizeof(*st));
	nm = sp_mem_alloc(pl, strlen(path) + 4);
	if (pv->req == NULL || pv->scn == NULL || st == NULL || nm == NULL)
		return sp_why(why, "out of memory");
	sprintf(nm, "WS %s", path);
	r = &pv->req[0];
	r->name = nm;
	r->method = SP_METHOD_GET;
	r->ws_upgrade = 1;
	sp_tpl_done(&bp, &r->path);
	r->check.body_size = -1;
	if ((w = sp_ws_new(pl, &idx)) == NULL)
		return sp_why(why, "out of memory");
	w->name = "send text";
	w->data = SP_WS_TEXT;
	w->measure = 1;
	w->send_count = 1;
	sp_tpl_done(&bt, &w->msg);
	if ((w = sp_ws_new(pl, &idx)) == NULL)
		return sp_why(why, "out of memory");
	w->name = "expect";
	w->expect_count = 1;
	st[0] = (struct sp_step){ .kind = SP_STEP_REQUEST, .req = 0 };
	st[1] = (struct sp_step){ .kind = SP_STEP_LOOP,
				  .count = SP_WS_DEFAULT_MESSAGES,
				  .begin = 1,
				  .end = 4 };
	st[2] = (struct sp_step){ .kind = SP_STEP_WS_SEND, .ws = 0 };
	st[3] = (struct sp_step){ .kind = SP_STEP_WS_EXPECT, .ws = 1 };
	st[4] = (struct sp_step){ .kind = SP_STEP_LOOP_END,
				  .count = SP_WS_DEFAULT_MESSAGES,
				  .begin = 1,
				  .end = 4 };
	st[5] = (struct sp_step){ .kind = SP_STEP_WS_END, .req = 0 };
	sc = &pv->scn[0];
	sc->name = "default";
	sc->weight = 1;
	sc->enabled = 1;
	sc->keep_alive = 1;
	sc->steps = st;
	sc->nsteps = 6;
	pl->requests = pv->req;
	pl->nrequests = 1;
	pl->scenarios = pv->scn;
	pl->nscenarios = 1;
	return 0;
}

/*
 * Once the file and the command line are merged: an upgrade succeeds by
 * 101 only (whatever expect_status says for the plain requests); an
 * expect without its own timeout has the response timeout; a ws setting
 * without a ws: step is a mistake, not a no-op.
 */
int
sp_ws_finish(struct sp_plan *pl, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	uint32_t n = 0;

	if (pl->ws_max_message == 0)
		pl->ws_max_message = SP_WS_MAX_MESSAGE_DEFAULT;
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		struct sp_request *r = &pv->req[i];

		if (!r->ws_upgrade)
			continue;
		memset(r->expect_set, 0, sizeof(r->expect_set));
		sp_status_set_range(r->expect_set, 101, 101);
		n++;
	}
	if (n == 0 && pv->ws_keys != NULL)
		return sp_why(why, "%s is given but no scenario has a ws: step",
			      pv->ws_keys);
	for (uint32_t i = 0; i < pl->nws_steps; i++)
		if (pv->ws[i].expect_count != 0 && pv->ws[i].timeout_us == 0)
			pv->ws[i].timeout_us = pl->response_timeout_us;
	return 0;
}
