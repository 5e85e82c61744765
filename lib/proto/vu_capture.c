/*
 * A virtual user's variables and what fills them (private to lib/proto):
 * captures from responses (status, a header, a regex over the body, a
 * JSON path, a cookie), the conditions of `if:` steps, and the glue to
 * the VU's cookie jar. See sp_plan.h's struct sp_capture.
 *
 * Memory is made at creation: each VU has a slot per variable (a length,
 * then var_max bytes); a response that needs room to read captures or
 * Set-Cookie fields into borrows a scratch from a pool (one header line,
 * the header captures' values and, when the plan has body captures, the
 * body's first capture_window bytes) and gives it back when the response
 * ends. A pool found empty is counted (cap_no_room) and the capture
 * fails: nothing allocates while the load runs, except PCRE2's
 * backtracking frames for a pattern that needs more than its warm-up
 * made (the report's allocation count shows it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sp_capture.h"
#include "sp_cookie.h"
#include "vu_int.h"

#define SP_VU_CAP_LINE 4096u /* a header line kept for a capture or a
			      * Set-Cookie: longer ones are cut (a capture
			      * of it fails, a cookie is dropped) */

struct sp_vu_cap_pool {
	uint32_t slot;          /* bytes per variable slot */
	uint8_t *vars;          /* nvus * nvars * slot */
	/* Per capture of the plan, flattened (base[request] + k). */
	uint32_t *base;
	pcre2_code **re;
	struct sp_jsonpath *jp;
	pcre2_code **cond_re;   /* per condition (MATCHES) */
	pcre2_match_data *md;
	pcre2_general_context *gctx;
	uint32_t hdr_max;       /* header captures of one request, at most */
	uint32_t window;        /* body bytes kept (0: no body capture) */
	/* The scratch pool. */
	uint8_t *scr;
	size_t scr_size;
	uint32_t nscr, *scr_free, scr_avail;
	/* Cookie jars: one per VU, jar_bytes each. */
	uint8_t *jars;
	struct sp_cookie_jar *jar;
	struct sp_vu_capst *st; /* per VU: the response being read */
};


static inline struct sp_vu_cap_pool *
cap_pool(const struct sp_vu_engine *e)
{
	return e->cap;
}

struct sp_vu_capst *
sp_vu_capst_of(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	return &cap_pool(e)->st[v->idx];
}

static void *
cap_re_alloc(PCRE2_SIZE n, void *ctx)
{
	(void)ctx;
	return malloc(n);
}

static void
cap_re_free(void *p, void *ctx)
{
	(void)ctx;
	free(p);
}

/* ---- variables ---- */

/* The VU's slots: setup's and teardown's are the run's shared ones. */
uint8_t *
sp_vu_vars(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_vu_cap_pool *cp = cap_pool(e);
	uint8_t k = sp_vu_scen(e, v)->kind;

	if (cp == NULL || e->pl->nvars == 0)
		return NULL;
	if (k == SP_SCEN_SETUP || k == SP_SCEN_TEARDOWN)
		return e->sh->vars;
	return cp->vars + (size_t)v->idx * e->pl->nvars * cp->slot;
}

uint32_t
sp_vu_slot_of(const struct sp_plan *pl)
{
	return (uint32_t)((sizeof(uint32_t) + pl->var_max + 7) & ~7u);
}

uint32_t
sp_vu_var_slot(const struct sp_vu_engine *e)
{
	return e->cap != NULL ? cap_pool(e)->slot : 0;
}

/* Every variable unset. */
void
sp_vu_vars_clear(uint8_t *vars, uint32_t nvars, uint32_t slot)
{
	for (uint32_t i = 0; i < nvars; i++) {
		uint32_t unset = UINT32_MAX;

		memcpy(vars + (size_t)i * slot, &unset, sizeof(unset));
	}
}

void
sp_vu_vars_reset(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);

	if (cp == NULL)
		return;
	if (e->pl->nvars != 0)
		sp_vu_vars_clear(cp->vars + (size_t)v->idx * e->pl->nvars *
						    cp->slot,
				 e->pl->nvars, cp->slot);
	if (cp->jar != NULL)
		sp_cookie_jar_clear(&cp->jar[v->idx]);
}

static inline uint32_t
var_len(const uint8_t *slot)
{
	uint32_t n;

	memcpy(&n, slot, sizeof(n));
	return n;
}

static void
var_set(uint8_t *slot, const void *p, uint32_t n)
{
	memcpy(slot, &n, sizeof(n));
	memcpy(slot + sizeof(n), p, n);
}

/* Whether template @t may be rendered for the VU: its variables are set
 * and none would put a forbidden byte where it goes. 0, or the failure
 * kind + 1. */
static unsigned
tpl_vars_ok(const struct sp_vu_engine *e, const uint8_t *vars,
	    const struct sp_tpl *t)
{
	uint32_t slot = cap_pool(e)->slot;

	for (uint32_t i = 0; i < t->nparts; i++) {
		const struct sp_tpl_part *p = &t->parts[i];
		const uint8_t *s;
		uint32_t n;

		if (p->var == SP_VAR_CAPTURE)
			s = vars + (size_t)p->col * slot;
		else if (p->var == SP_VAR_SETUP)
			s = e->sh->vars + (size_t)p->col * slot;
		else
			continue;
		n = var_len(s);
		if (n == UINT32_MAX)
			return SP_VU_E_UNSET_VAR + 1;
		if (t->ctx == SP_TPL_BODY || p->enc == SP_ENC_URL)
			continue;
		for (uint32_t k = 0; k < n; k++) {
			unsigned char c = s[sizeof(uint32_t) + k];

			if (!(p->enc == SP_ENC_JSON && c < 0x20) &&
			    !sp_tpl_byte_ok(t->ctx, c))
				return SP_VU_E_UNSAFE_VALUE + 1;
		}
	}
	return 0;
}

unsigned
sp_vu_req_vars_ok(const struct sp_vu_engine *e, const struct sp_vu *v,
		  const struct sp_request *rq)
{
	const uint8_t *vars;
	unsigned k;

	if (e->pl->nvars == 0)
		return 0;
	vars = sp_vu_vars(e, v);
	if ((k = tpl_vars_ok(e, vars, &rq->path)) != 0 ||
	    (k = tpl_vars_ok(e, vars, &rq->headers)) != 0)
		return k;
	if (rq->has_body && (k = tpl_vars_ok(e, vars, &rq->body)) != 0)
		return k;
	return 0;
}

/* ---- conditions ---- */

int
sp_vu_cond(struct sp_vu_engine *e, const struct sp_vu *v, uint32_t ci)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);
	const struct sp_cond *c = &e->pl->conds[ci];
	const uint8_t *s = sp_vu_vars(e, v) + (size_t)c->var * cp->slot;
	uint32_t n = var_len(s);
	int r;

	if (n == UINT32_MAX)
		r = 0;
	else if (c->op == SP_COND_SET)
		r = 1;
	else if (c->op == SP_COND_EQUALS)
		r = n == c->value_len &&
		    memcmp(s + sizeof(n), c->value, n) == 0;
	else
		r = pcre2_match(cp->cond_re[ci], s + sizeof(n), n, 0, 0,
				cp->md, NULL) >= 0;
	return c->negate ? !r : r;
}

/* ---- the cookie jar ---- */

/* The host a cookie is matched against: the Host header's authority
 * without its port (an IPv6 literal keeps its brackets out). */
static void
cap_host(const struct sp_vu_engine *e, const char **h, uint32_t *n)
{
	const char *s = e->pl->host;
	size_t len = strlen(s);
	const char *colon;

	if (s[0] == '[') {
		const char *end = memchr(s, ']', len);

		*h = s + 1;
		*n = end != NULL ? (uint32_t)(end - s - 1) : (uint32_t)len - 1;
		return;
	}
	colon = memchr(s, ':', len);
	*h = s;
	*n = colon != NULL ? (uint32_t)(colon - s) : (uint32_t)len;
}

/* The request's path (up to '?'): rendered paths are only in the
 * request's bytes; the cookie's path match reads @path as rendered by
 * the caller. */
uint32_t
sp_vu_cookie_header(struct sp_vu_engine *e, const struct sp_vu *v,
		    const uint8_t *path, uint32_t path_len, uint8_t *out,
		    uint32_t cap)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);
	const char *host;
	uint32_t hn, n, q;

	if (!sp_vu_jar_has(e, v))
		return 0;
	for (q = 0; q < path_len && path[q] != '?'; q++)
		;
	cap_host(e, &host, &hn);
	n = sp_cookie_header(&cp->jar[v->idx], host, hn, (const char *)path, q,
			     e->secure, sp_vu_wall_ms(e, *e->now), (char *)out, cap);
	return n <= cap ? n : 0;
}

/* ---- reading a response ---- */

static uint8_t *
scr_of(const struct sp_vu_cap_pool *cp, uint32_t i)
{
	return cp->scr + (size_t)i * cp->scr_size;
}

/* Scratch layout: the header line, then hdr_max values (a slot each),
 * then the body window. */
static uint8_t *
scr_hval(const struct sp_vu_cap_pool *cp, uint32_t i, uint32_t k)
{
	return scr_of(cp, i) + SP_VU_CAP_LINE + (size_t)k * cp->slot;
}

static uint8_t *
scr_body(const struct sp_vu_cap_pool *cp, uint32_t i)
{
	return scr_of(cp, i) + SP_VU_CAP_LINE + (size_t)cp->hdr_max * cp->slot;
}

static int
scr_get(struct sp_vu_engine *e, struct sp_vu_capst *cs)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);

	if (cs->scr != SP_VU_NONE)
		return 0;
	if (cs->no_room)
		return -1;
	if (cp->scr_avail == 0) {
		cs->no_room = 1;
		sp_ctr_inc(e->s.cap_no_room);
		return -1;
	}
	cs->scr = cp->scr_free[--cp->scr_avail];
	for (uint32_t k = 0; k < cp->hdr_max; k++) {
		uint32_t unset = UINT32_MAX;

		memcpy(scr_hval(cp, cs->scr, k), &unset, sizeof(unset));
	}
	return 0;
}

void
sp_vu_cap_release(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);
	struct sp_vu_capst *cs;

	if (cp == NULL || cp->scr == NULL)
		return;
	cs = &cp->st[v->idx];
	if (cs->scr != SP_VU_NONE) {
		cp->scr_free[cp->scr_avail++] = cs->scr;
		cs->scr = SP_VU_NONE;
	}
}

/* A response to @rq starts. */
void
sp_vu_cap_start(struct sp_vu_engine *e, struct sp_vu *v,
		struct sp_vu_capst *cs, const struct sp_request *rq)
{
	sp_vu_cap_release(e, v);
	cs->e = e;
	cs->v = v;
	cs->rq = rq;
	cs->no_room = 0;
	cs->name_len = 0;
	cs->want = 0;
	cs->line_len = 0;
	cs->body_len = 0;
	cs->body_cut = 0;
	cs->in_value = 0;
}

/* Its first SP_VU_CAP_PATH bytes up to '?' are what Set-Cookie's default
 * path and a cookie capture are matched against. */
uint8_t
sp_vu_path_cut(char *dst, const uint8_t *p, uint32_t n)
{
	uint32_t k = 0;

	while (k < n && k < SP_VU_CAP_PATH && p[k] != '?') {
		dst[k] = (char)p[k];
		k++;
	}
	if (k < n && p[k] != '?') {
		/* Cut: keep it to its last '/', a directory of it. */
		while (k > 1 && dst[k - 1] != '/')
			k--;
	}
	return (uint8_t)k;
}

void
sp_vu_cap_path(struct sp_vu_capst *cs, const uint8_t *p, uint32_t n)
{
	sp_vu_cap_path_at(cs, cs->path, sp_vu_path_cut(cs->path, p, n));
}

int
sp_vu_jar_has(const struct sp_vu_engine *e, const struct sp_vu *v)
{
	const struct sp_vu_cap_pool *cp = cap_pool(e);

	return cp != NULL && cp->jar != NULL &&
	       sp_cookie_count(&cp->jar[v->idx]) != 0;
}

/* Whether the VU must hear this response's fields: a header capture, or
 * the jar (Set-Cookie). */
int
sp_vu_cap_hears_headers(const struct sp_vu_engine *e,
			const struct sp_request *rq)
{
	if (e->cap == NULL)
		return 0;
	if (cap_pool(e)->jar != NULL)
		return 1;
	for (uint32_t k = 0; k < rq->ncaptures; k++)
		if (rq->captures[k].kind == SP_CAP_HEADER)
			return 1;
	return 0;
}

int
sp_vu_cap_reads_body(const struct sp_vu_engine *e, const struct sp_request *rq)
{
	if (e->cap == NULL || cap_pool(e)->window == 0)
		return 0;
	for (uint32_t k = 0; k < rq->ncaptures; k++)
		if (rq->captures[k].kind == SP_CAP_BODY ||
		    rq->captures[k].kind == SP_CAP_JSON)
			return 1;
	return 0;
}

static int
name_is(const struct sp_vu_capst *cs, const char *name)
{
	return sp_vu_ieq(cs->name, cs->name_len, name, strlen(name));
}

/* What the field whose name is in cs->name is to us: 1 Set-Cookie, 2 + k
 * header capture k (the first of the request's that names it and has no
 * value yet), 0 nothing. */
static uint8_t
field_want(struct sp_vu_capst *cs)
{
	const struct sp_request *rq = cs->rq;
	struct sp_vu_cap_pool *cp = cap_pool(cs->e);
	uint32_t h = 0;

	if (cs->name_len > sizeof(cs->name))
		return 0;
	if (cp->jar != NULL && name_is(cs, "set-cookie"))
		return 1;
	for (uint32_t k = 0; k < rq->ncaptures; k++) {
		if (rq->captures[k].kind != SP_CAP_HEADER)
			continue;
		if (name_is(cs, rq->captures[k].name) &&
		    (cs->scr == SP_VU_NONE ||
		     var_len(scr_hval(cp, cs->scr, h)) == UINT32_MAX))
			return (uint8_t)(2 + h);
		h++;
	}
	return 0;
}

static void
field_end(struct sp_vu_capst *cs)
{
	struct sp_vu_engine *e = cs->e;
	struct sp_vu_cap_pool *cp = cap_pool(e);
	uint8_t *line;
	uint32_t n = cs->line_len;

	if (cs->scr == SP_VU_NONE)
		return;
	line = scr_of(cp, cs->scr);
	/* The parser keeps a value's trailing whitespace (sp_http1.h). */
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (cs->want == 1) {
		const char *host;
		uint32_t hn;
		int r;

		if (cs->line_over) {
			sp_ctr_inc(e->s.cookies_dropped);
			return;
		}
		cap_host(e, &host, &hn);
		r = sp_cookie_set(&cp->jar[cs->v->idx], (const char *)line, n,
				  host, hn, cs->path_p, cs->path_len, e->secure,
				  sp_vu_wall_ms(e, *e->now));
		if (r < 0)
			sp_ctr_inc(e->s.cookies_dropped);
		else
			sp_ctr_inc(e->s.cookies_set);
		return;
	}
	if (cs->line_over || n > e->pl->var_max)
		return;
	/* Every header capture of this field's name that has no value yet
	 * (two captures may read one field through different regexes). */
	for (uint32_t k = 0, h = 0; k < cs->rq->ncaptures; k++) {
		const struct sp_capture *c = &cs->rq->captures[k];
		uint8_t *slot;

		if (c->kind != SP_CAP_HEADER)
			continue;
		slot = scr_hval(cp, cs->scr, h++);
		if (name_is(cs, c->name) && var_len(slot) == UINT32_MAX)
			var_set(slot, line, n);
	}
}

void
sp_vu_cap_on_header(struct sp_vu_capst *cs, enum sp_http1_hdr_part part,
		    const uint8_t *p, size_t n)
{
	struct sp_vu_cap_pool *cp = cap_pool(cs->e);

	switch (part) {
	case SP_HTTP1_HDR_NAME:
		if (cs->want != 0 || cs->in_value) {
			/* a new field */
			cs->want = 0;
			cs->in_value = 0;
			cs->name_len = 0;
		}
		for (size_t i = 0; i < n; i++) {
			if (cs->name_len < sizeof(cs->name))
				cs->name[cs->name_len] = p[i];
			if (cs->name_len <= sizeof(cs->name))
				cs->name_len++;
		}
		break;
	case SP_HTTP1_HDR_VALUE:
		if (!cs->in_value) {
			cs->in_value = 1;
			cs->want = field_want(cs);
			cs->line_len = 0;
			cs->line_over = 0;
			if (cs->want != 0 && scr_get(cs->e, cs) < 0)
				cs->want = 0;
		}
		if (cs->want == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (cs->line_len == SP_VU_CAP_LINE) {
				cs->line_over = 1;
				break;
			}
			scr_of(cp, cs->scr)[cs->line_len++] = p[i];
		}
		break;
	case SP_HTTP1_HDR_END:
		if (!cs->in_value) {
			/* a field with an empty value */
			cs->want = field_want(cs);
			cs->line_len = 0;
			cs->line_over = 0;
			if (cs->want != 0 && scr_get(cs->e, cs) < 0)
				cs->want = 0;
		}
		if (cs->want != 0)
			field_end(cs);
		cs->want = 0;
		cs->in_value = 0;
		cs->name_len = 0;
		break;
	}
}

void
sp_vu_cap_on_body(struct sp_vu_capst *cs, const uint8_t *p, size_t n)
{
	struct sp_vu_cap_pool *cp = cap_pool(cs->e);
	uint32_t room;

	if (cs->body_len == cp->window) {
		cs->body_cut |= n > 0;
		return;
	}
	if (scr_get(cs->e, cs) < 0)
		return;
	room = cp->window - cs->body_len;
	if (n > room) {
		cs->body_cut = 1;
		n = room;
	}
	memcpy(scr_body(cp, cs->scr) + cs->body_len, p, n);
	cs->body_len += (uint32_t)n;
}

/* The regex's first group, else the whole match, of @s (@n bytes) at
 * @out: its length, or -1. */
static int64_t
cap_regex(struct sp_vu_cap_pool *cp, pcre2_code *re, const uint8_t *s,
	  size_t n, uint8_t *out, uint32_t max)
{
	PCRE2_SIZE *ov;
	int r = pcre2_match(re, s, n, 0, 0, cp->md, NULL);
	size_t a, b;

	if (r < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(cp->md);
	if (r >= 2 && ov[2] != PCRE2_UNSET) {
		a = ov[2];
		b = ov[3];
	} else {
		a = ov[0];
		b = ov[1];
	}
	if (b < a || b - a > max)
		return -1;
	memcpy(out, s + a, b - a);
	return (int64_t)(b - a);
}

/*
 * The response is whole, its status expected: run the request's
 * captures into the VU's variables, in order. Returns 1 when every one
 * found its value. The scratch goes back to the pool.
 */
int
sp_vu_cap_done(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_capst *cs,
	       int status)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);
	const struct sp_request *rq = cs->rq;
	uint8_t *vars = sp_vu_vars(e, v);
	uint32_t base = cp->base[sp_vu_req_idx(e, v)], h = 0;
	uint32_t max = e->pl->var_max;
	int all = 1;

	for (uint32_t k = 0; k < rq->ncaptures; k++) {
		const struct sp_capture *c = &rq->captures[k];
		uint8_t *slot = vars + (size_t)c->var * cp->slot;
		uint8_t *val = slot + sizeof(uint32_t);
		int64_t len = -1;

		switch (c->kind) {
		case SP_CAP_STATUS: {
			char tmp[16];
			int m = snprintf(tmp, sizeof(tmp), "%d", status);

			if (m > 0 && (uint32_t)m <= max) {
				memcpy(val, tmp, (size_t)m);
				len = m;
			}
			break;
		}
		case SP_CAP_HEADER: {
			const uint8_t *hv;
			uint32_t hn;

			if (cs->scr == SP_VU_NONE) {
				h++;
				break;
			}
			hv = scr_hval(cp, cs->scr, h++);
			hn = var_len(hv);
			if (hn == UINT32_MAX)
				break;
			hv += sizeof(uint32_t);
			if (cp->re[base + k] != NULL) {
				len = cap_regex(cp, cp->re[base + k], hv, hn,
						val, max);
			} else {
				memcpy(val, hv, hn);
				len = hn;
			}
			break;
		}
		case SP_CAP_BODY:
			if (cs->scr == SP_VU_NONE)
				break;
			len = cap_regex(cp, cp->re[base + k],
					scr_body(cp, cs->scr), cs->body_len,
					val, max);
			break;
		case SP_CAP_JSON: {
			uint32_t got;

			if (cs->scr == SP_VU_NONE)
				break;
			if (sp_jsonpath_extract(&cp->jp[base + k],
						scr_body(cp, cs->scr),
						cs->body_len, !cs->body_cut,
						(char *)val, max,
						&got) == SP_CAPTURE_FOUND)
				len = got;
			break;
		}
		case SP_CAP_COOKIE: {
			const char *host, *cv;
			uint32_t hn, cn;

			if (cp->jar == NULL)
				break;
			cap_host(e, &host, &hn);
			if (sp_cookie_get(&cp->jar[v->idx], c->name,
					  (uint32_t)strlen(c->name), host, hn,
					  cs->path_p, cs->path_len, e->secure,
					  sp_vu_wall_ms(e, *e->now), &cv, &cn) &&
			    cn <= max) {
				memmove(val, cv, cn);
				len = cn;
			}
			break;
		}
		default:
			break;
		}
		if (len < 0) {
			all = 0;
			continue;
		}
		memcpy(slot, &(uint32_t){ (uint32_t)len }, sizeof(uint32_t));
	}
	sp_vu_cap_release(e, v);
	return all;
}

/* ---- life ---- */

static pcre2_code *
cap_compile(const char *pat, const char *what, char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
				       0, &ec, &eo, NULL);

	if (re == NULL) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "%s: regex at offset %zu: %s", what,
			 (size_t)eo, (const char *)msg);
	}
	return re;
}

int
sp_vu_cap_init(struct sp_vu_engine *e, char *err, size_t errlen)
{
	const struct sp_plan *pl = e->pl;
	struct sp_vu_cap_pool *cp;
	uint32_t ncap = 0, any_re = 0, body = 0;

	for (uint32_t i = 0; i < pl->nrequests; i++)
		ncap += pl->requests[i].ncaptures;
	if (ncap == 0 && pl->nvars == 0 && pl->nconds == 0 &&
	    pl->jar_bytes == 0)
		return 0;
	cp = calloc(1, sizeof(*cp));
	if (cp == NULL)
		goto nomem;
	e->cap = cp;
	cp->slot = sp_vu_slot_of(pl);
	cp->vars = malloc((size_t)e->nvus * pl->nvars * cp->slot + 1);
	cp->base = calloc(pl->nrequests + 1, sizeof(*cp->base));
	cp->re = calloc(ncap + 1, sizeof(*cp->re));
	cp->jp = calloc(ncap + 1, sizeof(*cp->jp));
	cp->cond_re = calloc(pl->nconds + 1, sizeof(*cp->cond_re));
	cp->st = calloc(e->nvus, sizeof(*cp->st));
	if (cp->vars == NULL || cp->base == NULL || cp->re == NULL ||
	    cp->jp == NULL || cp->cond_re == NULL || cp->st == NULL)
		goto nomem;
	for (uint32_t i = 0; i < e->nvus; i++) {
		cp->st[i].scr = SP_VU_NONE;
		cp->st[i].path_p = cp->st[i].path;
	}
	sp_vu_vars_clear(cp->vars, e->nvus * pl->nvars, cp->slot);
	ncap = 0;
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		const struct sp_request *rq = &pl->requests[i];
		uint32_t h = 0;

		cp->base[i] = ncap;
		for (uint32_t k = 0; k < rq->ncaptures; k++, ncap++) {
			const struct sp_capture *c = &rq->captures[k];
			char what[160];

			snprintf(what, sizeof(what), "request '%s': capture",
				 rq->name);
			h += c->kind == SP_CAP_HEADER;
			body |= c->kind == SP_CAP_BODY || c->kind == SP_CAP_JSON;
			if (c->kind == SP_CAP_JSON &&
			    sp_jsonpath_compile(&cp->jp[ncap], c->name, err,
						errlen) < 0)
				return -1;
			if (c->regex == NULL)
				continue;
			cp->re[ncap] = cap_compile(c->regex, what, err, errlen);
			if (cp->re[ncap] == NULL)
				return -1;
			any_re = 1;
		}
		if (h > cp->hdr_max)
			cp->hdr_max = h;
	}
	for (uint32_t i = 0; i < pl->nconds; i++) {
		if (pl->conds[i].op != SP_COND_MATCHES)
			continue;
		cp->cond_re[i] = cap_compile(pl->conds[i].value, "if: matches",
					     err, errlen);
		if (cp->cond_re[i] == NULL)
			return -1;
		any_re = 1;
	}
	if (any_re) {
		cp->gctx = pcre2_general_context_create(cap_re_alloc,
							cap_re_free, NULL);
		if (cp->gctx == NULL)
			goto nomem;
		cp->md = pcre2_match_data_create(16, cp->gctx);
		if (cp->md == NULL)
			goto nomem;
		/* As vu_ws_life.c: a match of each pattern now makes PCRE2's
		 * backtracking frames here, not on the first response. */
		for (uint32_t i = 0; i < ncap; i++)
			if (cp->re[i] != NULL)
				(void)pcre2_match(cp->re[i], (PCRE2_SPTR) "", 0,
						  0, 0, cp->md, NULL);
		for (uint32_t i = 0; i < pl->nconds; i++)
			if (cp->cond_re[i] != NULL)
				(void)pcre2_match(cp->cond_re[i],
						  (PCRE2_SPTR) "", 0, 0, 0,
						  cp->md, NULL);
	}
	cp->window = body ? pl->capture_window : 0;
	if (pl->jar_bytes != 0) {
		cp->jars = malloc((size_t)e->nvus * pl->jar_bytes);
		cp->jar = calloc(e->nvus, sizeof(*cp->jar));
		if (cp->jars == NULL || cp->jar == NULL)
			goto nomem;
		for (uint32_t i = 0; i < e->nvus; i++)
			sp_cookie_jar_init(&cp->jar[i],
					   cp->jars + (size_t)i * pl->jar_bytes,
					   pl->jar_bytes);
	}
	if (ncap != 0 || pl->jar_bytes != 0) {
		/* As many scratches as VUs up to 256, then one per 8 more
		 * (a response holds one only while it is read). */
		cp->nscr = e->nvus <= 256 ? e->nvus : 256 + (e->nvus - 256) / 8;
		cp->scr_size = SP_VU_CAP_LINE + (size_t)cp->hdr_max * cp->slot +
			       cp->window;
		cp->scr = malloc(cp->nscr * cp->scr_size);
		cp->scr_free = calloc(cp->nscr, sizeof(*cp->scr_free));
		if (cp->scr == NULL || cp->scr_free == NULL)
			goto nomem;
		for (uint32_t i = 0; i < cp->nscr; i++)
			cp->scr_free[i] = cp->nscr - 1 - i;
		cp->scr_avail = cp->nscr;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for the variables of %u users",
		 e->nvus);
	return -1;
}

void
sp_vu_cap_fini(struct sp_vu_engine *e)
{
	struct sp_vu_cap_pool *cp = cap_pool(e);
	uint32_t ncap = 0;

	if (cp == NULL)
		return;
	for (uint32_t i = 0; i < e->pl->nrequests; i++)
		ncap += e->pl->requests[i].ncaptures;
	for (uint32_t i = 0; cp->re != NULL && i < ncap; i++)
		pcre2_code_free(cp->re[i]);
	for (uint32_t i = 0; cp->cond_re != NULL && i < e->pl->nconds; i++)
		pcre2_code_free(cp->cond_re[i]);
	pcre2_match_data_free(cp->md);
	pcre2_general_context_free(cp->gctx);
	free(cp->re);
	free(cp->jp);
	free(cp->cond_re);
	free(cp->base);
	free(cp->vars);
	free(cp->scr);
	free(cp->scr_free);
	free(cp->jars);
	free(cp->jar);
	free(cp->st);
	free(cp);
	e->cap = NULL;
}
