/*
 * HTTP/1.1 request building (RFC 9112 section 3): a whole request into a
 * caller's buffer (sp_http1_req_build), and a template of one whose bytes
 * are prepared once and sent as they are (sp_http1_req_tmpl_init). The
 * virtual users build theirs with lib/proto/vu_render.c; these two serve
 * the parser's tests and fuzzers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http1_lex.h"
#include "sp_http1.h"

/* Request building: a cursor that remembers overflow instead of failing
 * at each step. */
struct sp_out {
	char *buf;
	size_t cap;
	size_t len;
};

static void
sp_put(struct sp_out *o, const void *s, size_t n)
{
	if (o->len <= o->cap && n <= o->cap - o->len)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
	if (o->len < n)		/* wrapped: make sure it stays too big */
		o->len = (size_t)-1;
}

static void
sp_puts(struct sp_out *o, const char *s)
{
	sp_put(o, s, strlen(s));
}

/* No CTL (CR/LF above all: header injection), optionally no SP. */
static int
sp_clean(const char *s, int allow_sp)
{
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;

		if (c == 0x7f || (c < 0x20 && c != '\t') ||
		    (!allow_sp && (c == ' ' || c == '\t')))
			return 0;
	}
	return 1;
}

int
sp_http1_req_build(char *buf, size_t cap, const char *method,
		   const char *host, const char *path,
		   const char *const *headers, size_t nheaders,
		   const void *body, size_t body_len, int keep_alive)
{
	struct sp_out o = { buf, cap, 0 };
	char num[24];
	size_t i;
	int n;

	if (!method || !*method || !host || !*host || !path || !*path ||
	    (nheaders && !headers) || (body_len && !body))
		return -EINVAL;
	for (const char *m = method; *m; m++)
		if (!sp_lex_tchar((uint8_t)*m))
			return -EINVAL;
	if (!sp_clean(host, 0) || !sp_clean(path, 0))
		return -EINVAL;
	for (i = 0; i < nheaders; i++) {
		const char *h = headers[i], *colon;

		if (!h || !sp_clean(h, 1))
			return -EINVAL;
		colon = strchr(h, ':');
		if (!colon || colon == h)
			return -EINVAL;
		for (const char *q = h; q < colon; q++)
			if (!sp_lex_tchar((uint8_t)*q))
				return -EINVAL;
	}

	/* request-line (RFC 9112 section 3), Host (RFC 9110 section 7.2) */
	sp_puts(&o, method);
	sp_puts(&o, " ");
	sp_puts(&o, path);
	sp_puts(&o, " HTTP/1.1\r\nHost: ");
	sp_puts(&o, host);
	sp_puts(&o, "\r\n");
	for (i = 0; i < nheaders; i++) {
		sp_puts(&o, headers[i]);
		sp_puts(&o, "\r\n");
	}
	if (body) {
		n = snprintf(num, sizeof(num), "%zu", body_len);
		sp_puts(&o, "Content-Length: ");
		sp_put(&o, num, (size_t)n);
		sp_puts(&o, "\r\n");
	}
	if (!keep_alive)
		sp_puts(&o, "Connection: close\r\n");
	sp_puts(&o, "\r\n");
	if (body_len)
		sp_put(&o, body, body_len);
	if (o.len > cap || o.len > INT32_MAX)
		return -ENOSPC;
	return (int)o.len;
}

int
sp_http1_req_tmpl_init(struct sp_http1_req_tmpl *t, char *buf, size_t cap,
		       const char *method, const char *host, const char *path,
		       const char *const *headers, size_t nheaders,
		       const void *body, size_t body_len, int keep_alive)
{
	int n = sp_http1_req_build(buf, cap, method, host, path, headers,
				   nheaders, body, body_len, keep_alive);

	if (n < 0)
		return n;
	t->buf = buf;
	t->len = (size_t)n;
	t->head_len = (size_t)n - body_len;
	t->keep_alive = keep_alive;
	return 0;
}
