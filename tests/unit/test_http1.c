/*
 * Unit test for sp_http1: every response fixture is parsed whole, in two
 * pieces at every split point and one byte at a time, and each way must
 * give the expected sequence of results (return code, where the response
 * ended, status, body length and bytes, close flag, 1xx count, whether a
 * leniency was needed). Pipelined responses are parsed one after the other
 * on the same bytes, as a keep-alive connection would, and again with a
 * head memo (sp_http1_memo) that answers for heads seen before. The
 * request builder is the engine's (vu_render.c), tested in test_vu.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_http1.h"

#include "sp_check.h"

enum { MAX_RESP = 4, BODY_CAP = 256 };

/* One expected response: where it ends is the offset of @at (searched
 * from the previous end) plus @delta, or the input's end if @at is NULL. */
struct exp {
	int rc;
	int status;
	long body;
	int close;
	unsigned interim;
	const char *at;
	int delta;
	int lenient; /* read with a leniency: the connection not reused */
};

struct fixture {
	const char *name;
	const char *in;   /* NULL: built by the test (big inputs) */
	int head;         /* response to HEAD */
	int eof;          /* the peer closes after the input */
	size_t max_hdr;   /* 0: default */
	const char *body; /* concatenated bodies, NULL: not checked */
	struct exp e[MAX_RESP];
	int n;
	int upgrade; /* the request asked for an upgrade */
};

struct result {
	int rc;
	int status;
	long body;
	int close;
	unsigned interim;
	size_t end;
	int lenient;
};

struct run {
	struct result r[MAX_RESP];
	int n;
	char body[BODY_CAP];
	size_t body_len;
	int body_overflow;
	/* on_header's pieces as "name:value\n" per field */
	char hdrs[BODY_CAP];
	size_t hdrs_len;
	int hdrs_bad; /* a piece out of order */
	int hdr_last; /* the last part heard, -1 at a line's start */
};

static void
hdr_put(struct run *run, const void *p, size_t n)
{
	if (run->hdrs_len + n > BODY_CAP) {
		run->hdrs_len = BODY_CAP; /* full: nothing more is whole */
		return;
	}
	memcpy(run->hdrs + run->hdrs_len, p, n);
	run->hdrs_len += n;
}

/* on_header: pieces in order NAME+ VALUE* END, a NAME piece never empty */
static void
collect_hdr(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p, size_t n)
{
	struct run *run = ctx;

	switch (part) {
	case SP_HTTP1_HDR_NAME:
		if (n == 0 ||
		    (run->hdr_last != -1 && run->hdr_last != SP_HTTP1_HDR_NAME))
			run->hdrs_bad = 1;
		hdr_put(run, p, n);
		break;
	case SP_HTTP1_HDR_VALUE:
		if (run->hdr_last == -1)
			run->hdrs_bad = 1;
		if (run->hdr_last == SP_HTTP1_HDR_NAME)
			hdr_put(run, ":", 1);
		hdr_put(run, p, n);
		break;
	default:
		if (run->hdr_last == -1)
			run->hdrs_bad = 1;
		if (run->hdr_last == SP_HTTP1_HDR_NAME)
			hdr_put(run, ":", 1);
		hdr_put(run, "\n", 1);
		run->hdr_last = -1;
		return;
	}
	run->hdr_last = (int)part;
}

static void
collect(void *ctx, const uint8_t *p, size_t n)
{
	struct run *run = ctx;

	if (run->body_len + n > BODY_CAP) {
		run->body_overflow = 1;
		return;
	}
	memcpy(run->body + run->body_len, p, n);
	run->body_len += n;
}

static void
record(struct run *run, const struct sp_http1_resp *p, int rc, size_t end)
{
	if (run->n == MAX_RESP)
		return;
	run->r[run->n++] = (struct result){
		rc,         p->status, (long)p->body_bytes, p->must_close,
		p->interim, end,       p->lenient
	};
}

static void
start(struct sp_http1_resp *p, const struct fixture *f, struct run *run)
{
	sp_http1_resp_init(p, f->head);
	if (f->max_hdr)
		p->max_header_bytes = f->max_hdr;
	p->on_body = collect;
	p->body_ctx = run;
	p->on_header = collect_hdr;
	p->header_ctx = run;
	p->upgrade_ok = f->upgrade;
}

/* Parse @len bytes of @in cut at the offsets @cuts (ascending), with the
 * head memo @memo (or none). */
static void
run_pieces(const struct fixture *f, const uint8_t *in, size_t len,
	   const size_t *cuts, size_t ncuts, struct run *run,
	   struct sp_http1_memo *memo)
{
	struct sp_http1_resp p;
	size_t base = 0;
	int rc = 0;

	memset(run, 0, sizeof(*run));
	run->hdr_last = -1;
	start(&p, f, run);
	p.memo = memo;
	for (size_t k = 0; k <= ncuts && rc >= 0; k++) {
		size_t end = k < ncuts ? cuts[k] : len, used;

		while (base < end) {
			rc = sp_http1_resp_parse(&p, in + base, end - base,
						 &used);
			if (rc < 0) {
				record(run, &p, rc, base + used);
				break;
			}
			base += used;
			if (rc == SP_HTTP1_DONE) {
				record(run, &p, rc, base);
				/* after 101 the bytes are another protocol's */
				if (p.status == 101)
					return;
				sp_http1_resp_next(&p, f->head);
			}
		}
	}
	if (rc >= 0 && f->eof) {
		rc = sp_http1_resp_eof(&p);
		if (rc != SP_HTTP1_NEED_MORE)
			record(run, &p, rc, len);
	}
}

static size_t
whole_fields(const struct run *run)
{
	size_t n = run->hdrs_len;

	while (n > 0 && run->hdrs[n - 1] != '\n')
		n--;
	return n;
}

static int
same(const struct run *a, const struct run *b)
{
	if (a->n != b->n || a->body_len != b->body_len ||
	    memcmp(a->body, b->body, a->body_len) != 0)
		return 0;
	/* Fields heard whole (to their END); the pieces of one that an
	 * error cut depend on the split. */
	if (a->hdrs_bad || b->hdrs_bad || whole_fields(a) != whole_fields(b) ||
	    memcmp(a->hdrs, b->hdrs, whole_fields(a)) != 0)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (memcmp(&a->r[i], &b->r[i], sizeof(a->r[i])) != 0)
			return 0;
	return 1;
}

/* What on_header must hear for some fixtures (by name): final heads'
 * fields only, leading whitespace cut, trailing kept, a fold as one SP. */
static const struct {
	const char *name, *hdrs;
} hdr_want[] = {
	{ "content-length", "Content-Length:5\nServer:x\n" },
	{ "content-length zero", "Content-Length:0\nContent-Length:1\n" },
	{ "chunked with extensions and trailers",
	  "Transfer-Encoding:gzip, Chunked\n" },
	{ "100-continue and 103 before 200", "Content-Length:2\n" },
	{ "101 is final, the rest is not ours",
	  "Upgrade:websocket\nConnection:Upgrade\n" },
	{ "Connection: close in a list, folded",
	  "Connection:foo, CLOSE \nContent-Length:1\n" },
};
static int hdr_checked;

static void
check_expected(const struct fixture *f, const char *in, size_t len,
	       const struct run *run)
{
	size_t from = 0;

	CHECK(run->n == f->n, "%s: %d results, want %d", f->name, run->n, f->n);
	for (int i = 0; i < f->n && i < run->n; i++) {
		const struct exp *e = &f->e[i];
		const struct result *r = &run->r[i];
		size_t end = len;

		if (e->at) {
			const char *hit = strstr(in + from, e->at);

			CHECK(hit != NULL, "%s: marker missing", f->name);
			if (hit)
				end = (size_t)(hit - in) + (size_t)e->delta;
		}
		CHECK(r->rc == e->rc, "%s[%d]: rc %d, want %d", f->name, i,
		      r->rc, e->rc);
		CHECK(r->end == end, "%s[%d]: ended at %zu, want %zu", f->name,
		      i, r->end, end);
		if (e->rc == SP_HTTP1_DONE) {
			CHECK(r->status == e->status, "%s[%d]: status %d",
			      f->name, i, r->status);
			CHECK(r->body == e->body, "%s[%d]: body %ld, want %ld",
			      f->name, i, r->body, e->body);
			CHECK(r->close == e->close, "%s[%d]: close %d", f->name,
			      i, r->close);
			CHECK(r->interim == e->interim, "%s[%d]: interim %u",
			      f->name, i, r->interim);
			CHECK(r->lenient == e->lenient, "%s[%d]: lenient %d",
			      f->name, i, r->lenient);
		}
		from = end;
	}
	for (size_t i = 0; i < sizeof(hdr_want) / sizeof(hdr_want[0]); i++) {
		if (strcmp(hdr_want[i].name, f->name) != 0)
			continue;
		CHECK(!run->hdrs_bad &&
			      run->hdrs_len == strlen(hdr_want[i].hdrs) &&
			      memcmp(run->hdrs, hdr_want[i].hdrs,
				     run->hdrs_len) == 0,
		      "%s: headers heard \"%.*s\"", f->name, (int)run->hdrs_len,
		      run->hdrs);
		hdr_checked++;
	}
	if (f->body) {
		CHECK(!run->body_overflow && run->body_len == strlen(f->body) &&
			      memcmp(run->body, f->body, run->body_len) == 0,
		      "%s: body bytes differ", f->name);
	}
}

/* Big inputs are split at fewer points: all near the start and near the
 * header bound, and a stride elsewhere. */
static int
split_here(size_t i, size_t len)
{
	if (len <= 4096)
		return 1;
	return i < 512 || (i + 64 > 65536 && i < 65536 + 64) || i % 4099 == 0;
}

static uint64_t memo_hits; /* over all fixtures */

static void
run_fixture(const struct fixture *f, const char *in, size_t len)
{
	static struct sp_http1_memo memo;
	struct run whole, piece;
	size_t *cuts;
	int bad = 0;

	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &whole, NULL);
	check_expected(f, in, len, &whole);

	/* With a head memo, which the first whole parse fills: whole
	 * again (the memo answers for the heads it holds) and at every
	 * split, the same results. */
	memset(&memo, 0, sizeof(memo));
	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &piece, &memo);
	CHECK(same(&whole, &piece), "%s: whole with a memo differs", f->name);
	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &piece, &memo);
	CHECK(same(&whole, &piece), "%s: whole from the memo differs", f->name);

	for (size_t i = 1; i < len; i++) {
		if (!split_here(i, len))
			continue;
		run_pieces(f, (const uint8_t *)in, len, &i, 1, &piece, NULL);
		if (!same(&whole, &piece) && bad++ < 3)
			CHECK(0, "%s: split at %zu differs", f->name, i);
		run_pieces(f, (const uint8_t *)in, len, &i, 1, &piece, &memo);
		if (!same(&whole, &piece) && bad++ < 3)
			CHECK(0, "%s: split at %zu with the memo differs",
			      f->name, i);
	}
	CHECK(bad == 0, "%s: %d splits differ", f->name, bad);
	memo_hits += memo.h.hits;

	cuts = malloc(len * sizeof(*cuts));
	if (!cuts)
		abort();
	for (size_t i = 1; i < len; i++)
		cuts[i - 1] = i;
	run_pieces(f, (const uint8_t *)in, len, cuts, len ? len - 1 : 0, &piece,
		   NULL);
	CHECK(same(&whole, &piece), "%s: byte at a time differs", f->name);
	free(cuts);
}

#define OK(st, b, cl, in, at, delta)                                           \
	{                                                                      \
		SP_HTTP1_DONE, st, b, cl, in, at, delta, 0                     \
	}
#define ERR(rc, at, delta)                                                     \
	{                                                                      \
		rc, 0, 0, 0, 0, at, delta, 0                                   \
	}
/* OK for a response read with a leniency */
#define OKL(st, b, cl, in, at, delta)                                          \
	{                                                                      \
		SP_HTTP1_DONE, st, b, cl, in, at, delta, 1                     \
	}

static const struct fixture fixtures[] = {
	{ "content-length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
	  0,
	  0,
	  0,
	  "hello",
	  { OK(200, 5, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "content-length list and repeat",
	  "HTTP/1.1 200 OK\r\ncontent-length: 3 , 3\r\nCONTENT-LENGTH:3\r\n\r\nabc",
	  0,
	  0,
	  0,
	  "abc",
	  { OK(200, 3, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "content-length zero",
	  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx",
	  0,
	  0,
	  0,
	  "x",
	  { OK(200, 0, 0, 0, "HTTP/1.1 404", 0), OK(404, 1, 0, 0, NULL, 0) },
	  2,
	  0 },
	{ "chunked with extensions and trailers",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
	  "5;foo=bar\r\nhello\r\nA ; x=\"y\"\r\n0123456789\r\n"
	  "0;last\r\nX-Trailer: 1\r\nY: 2\r\n\r\n",
	  0,
	  0,
	  0,
	  "hello0123456789",
	  { OK(200, 15, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "chunked overrides content-length, then close",
	  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "3\r\nabc\r\n0\r\n\r\nHTTP/1.",
	  0,
	  0,
	  0,
	  "abc",
	  { OKL(200, 3, 1, 0, "0\r\n\r\n", 5) },
	  1,
	  0 },
	{ "chunked not last: close-delimited",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc",
	  0,
	  1,
	  0,
	  "3\r\nabc",
	  { OK(200, 6, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "close-delimited with eof",
	  "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome body",
	  0,
	  1,
	  0,
	  "some body",
	  { OK(200, 9, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "100-continue and 103 before 200",
	  "HTTP/1.1 100 Continue\r\n\r\n"
	  "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	  0,
	  0,
	  0,
	  "ok",
	  { OK(200, 2, 0, 2, NULL, 0) },
	  1,
	  0 },
	{ "101 is final, the rest is not ours",
	  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\n\r\n\x81\x02hi",
	  0,
	  0,
	  0,
	  "",
	  { OK(101, 0, 0, 0, "\x81", 0) },
	  1,
	  1 },
	{ "101 to a request that asked for no upgrade",
	  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\n\r\n\x81\x02hi",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_UPGRADE, "\r\n\r\n\x81", 3) },
	  1,
	  0 },
	{ "chunk extensions: BWS, token and quoted values, quoted-pairs",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5 ; a = \"b\\\"c;d\" ; e ;f=g\r\nhello\r\n"
	  "1;q=\"\"\r\n!\r\n0;x=\"\t\x80\\\x80\"\r\n\r\n",
	  0,
	  0,
	  0,
	  "hello!",
	  { OK(200, 6, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "bare LF after a chunk size",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "5\nhello", 1) },
	  1,
	  0 },
	{ "bare LF after chunk extensions",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "b\nhello", 1) },
	  1,
	  0 },
	{ "bare LF after chunk data",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "o\n0", 1) },
	  1,
	  0 },
	{ "bare LF after the last chunk",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "0\n\r\n", 1) },
	  1,
	  0 },
	{ "chunk extension: unterminated quoted-string",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "x\r\nhello", 1) },
	  1,
	  0 },
	{ "chunk extension: no name",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "=x", 0) },
	  1,
	  0 },
	{ "chunk extension: empty value",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "=\r\nhello", 1) },
	  1,
	  0 },
	{ "chunk extension: two words as a token value",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b c\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "c\r\nhello", 0) },
	  1,
	  0 },
	{ "chunk extension: a separator as its name",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;(\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "(\r\nhello", 0) },
	  1,
	  0 },
	{ "chunk extension: a CTL in a quoted value",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "\x01", 0) },
	  1,
	  0 },
	{ "chunk extension: text after a quoted value",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"c\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "c\r\nhello", 0) },
	  1,
	  0 },
	{ "bare LF in the trailer section: accepted, marked",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX: 1\n\r\n",
	  0,
	  0,
	  0,
	  "a",
	  { OKL(200, 1, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "204 and 304 without body, clean eof between",
	  "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
	  "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
	  0,
	  1,
	  0,
	  "",
	  { OK(204, 0, 0, 0, "HTTP/1.1 304", 0), OK(304, 0, 0, 0, NULL, 0) },
	  2,
	  0 },
	{ "HEAD without body",
	  "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	  1,
	  0,
	  0,
	  "",
	  { OK(200, 0, 0, 0, "HTTP/1.1 200 OK\r\nT", 0),
	    OK(200, 0, 0, 0, NULL, 0) },
	  2,
	  0 },
	{ "HTTP/1.0 closes by default",
	  "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	  0,
	  0,
	  0,
	  "abc",
	  { OK(200, 3, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "HTTP/1.0 keep-alive",
	  "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc",
	  0,
	  0,
	  0,
	  "abc",
	  { OK(200, 3, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "HTTP/1.0 close-delimited",
	  "HTTP/1.0 200 OK\r\n\r\nuntil eof",
	  0,
	  1,
	  0,
	  "until eof",
	  { OK(200, 9, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "Connection: close in a list, folded",
	  "HTTP/1.1 500 Oops\r\nConnection: foo,\r\n  CLOSE \r\nContent-Length: 1\r\n\r\nx",
	  0,
	  0,
	  0,
	  "x",
	  { OKL(500, 1, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "Connection: keep alive (two words) is no token",
	  "HTTP/1.0 200 OK\r\nConnection: keep alive\r\nContent-Length: 0\r\n\r\n",
	  0,
	  0,
	  0,
	  "",
	  { OK(200, 0, 1, 0, NULL, 0) },
	  1,
	  0 },
	{ "bare LF, no reason, HTTP/1.2 is 1.1",
	  "HTTP/1.2 200\nContent-Length: 2\n\nhi",
	  0,
	  0,
	  0,
	  "hi",
	  { OKL(200, 2, 0, 0, NULL, 0) },
	  1,
	  0 },
	{ "two pipelined responses in one buffer",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
	  "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nContent-Length: 1",
	  0,
	  0,
	  0,
	  "firstsecond",
	  { OK(200, 5, 0, 0, "HTTP/1.1 201", 0),
	    OK(201, 6, 0, 0, "HTTP/1.1 200", 0) },
	  2,
	  0 },

	{ "garbage",
	  "HELLO WORLD\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_STATUS, "E", 0) },
	  1,
	  0 },
	{ "HTTP/2",
	  "HTTP/2 200 OK\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_VERSION, "2", 0) },
	  1,
	  0 },
	{ "HTTP/1.10",
	  "HTTP/1.10 200 OK\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_VERSION, "0 ", 0) },
	  1,
	  0 },
	{ "status 2 digits",
	  "HTTP/1.1 20 OK\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_STATUS, " OK", 0) },
	  1,
	  0 },
	{ "status 4 digits",
	  "HTTP/1.1 2000 OK\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_STATUS, "0 OK", 0) },
	  1,
	  0 },
	{ "status class 0",
	  "HTTP/1.1 099 OK\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_STATUS, "099", 0) },
	  1,
	  0 },
	{ "truncated header at eof",
	  "HTTP/1.1 200 OK\r\nContent-Len",
	  0,
	  1,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_TRUNCATED, NULL, 0) },
	  1,
	  0 },
	{ "truncated body at eof",
	  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	  0,
	  1,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_TRUNCATED, NULL, 0) },
	  1,
	  0 },
	{ "truncated chunked body at eof",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	  0,
	  1,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_TRUNCATED, NULL, 0) },
	  1,
	  0 },
	{ "space before colon",
	  "HTTP/1.1 200 OK\r\nServer : x\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER, " :", 0) },
	  1,
	  0 },
	{ "header without colon",
	  "HTTP/1.1 200 OK\r\nServer\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER, "\r\n\r\n", 0) },
	  1,
	  0 },
	{ "CR without LF",
	  "HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER, "C:", 0) },
	  1,
	  0 },
	{ "CTL in value",
	  "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER, "\x01", 0) },
	  1,
	  0 },
	{ "fold before first header",
	  "HTTP/1.1 200 OK\r\n A: b\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER, " A", 0) },
	  1,
	  0 },
	{ "header over a small bound",
	  "HTTP/1.1 200 OK\r\nServer: 0123456789abcdef\r\n\r\n",
	  0,
	  0,
	  32,
	  NULL,
	  { ERR(SP_HTTP1_E_HEADER_TOO_BIG, "789", 0) },
	  1,
	  0 },
	{ "bad chunk size",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "zz", 0) },
	  1,
	  0 },
	{ "chunk size overflow",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "1FFFFFFFFFFFFFFFF\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "F\r\n", 0) },
	  1,
	  0 },
	{ "chunk data not followed by CRLF",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_CHUNK, "c\r\n", 0) },
	  1,
	  0 },
	{ "conflicting content-length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_LENGTH, "\r\n\r\n", 2) },
	  1,
	  0 },
	{ "conflicting content-length list",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_LENGTH, "\r\n\r\n", 2) },
	  1,
	  0 },
	{ "non-numeric content-length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\nhello",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_LENGTH, "a\r", 0) },
	  1,
	  0 },
	{ "empty content-length",
	  "HTTP/1.1 200 OK\r\nContent-Length: \r\nA: b\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_LENGTH, "A: b", 0) },
	  1,
	  0 },
	{ "content-length overflow",
	  "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  0,
	  0,
	  0,
	  NULL,
	  { ERR(SP_HTTP1_E_LENGTH, "9\r\n", 0) },
	  1,
	  0 },
};

/* A 1 MiB header line: over the default 64 KiB bound, at exactly the
 * byte that makes the head 64 KiB + 1 long. */
static void
test_huge_header(void)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nX-Big: ";
	size_t len = sizeof(head) - 1 + (1u << 20);
	char *in = malloc(len + 1);
	struct fixture f = { "1 MiB header line",
			     NULL,
			     0,
			     0,
			     0,
			     NULL,
			     { ERR(SP_HTTP1_E_HEADER_TOO_BIG, NULL, 0) },
			     1,
			     0 };

	if (!in)
		abort();
	memcpy(in, head, sizeof(head) - 1);
	memset(in + sizeof(head) - 1, 'a', len - (sizeof(head) - 1));
	/* the marker: the 65537th byte, made unique */
	in[SP_HTTP1_MAX_HEADER_DEFAULT] = 'Z';
	in[len] = 0;
	f.e[0].at = "Z";
	run_fixture(&f, in, len);
	free(in);
}

/* A big body in a keep-alive series, and a Content-Length near 2^64. */
static void
test_large_lengths(void)
{
	struct sp_http1_resp p;
	static const char big[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n";
	size_t used;
	uint8_t chunk[4096];
	int rc;

	sp_http1_resp_init(&p, 0);
	rc = sp_http1_resp_parse(&p, (const uint8_t *)big, sizeof(big) - 1,
				 &used);
	CHECK(rc == SP_HTTP1_NEED_MORE && used == sizeof(big) - 1, "rc %d", rc);
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 256; i++)
		rc = sp_http1_resp_parse(&p, chunk, sizeof(chunk), &used);
	CHECK(rc == SP_HTTP1_NEED_MORE && p.body_bytes == 256u * 4096u,
	      "rc %d body %llu", rc, (unsigned long long)p.body_bytes);
	CHECK(sp_http1_resp_eof(&p) == SP_HTTP1_E_TRUNCATED, "eof");
	/* after an error the parser stays in error */
	CHECK(sp_http1_resp_parse(&p, chunk, 1, &used) ==
			      SP_HTTP1_E_TRUNCATED &&
		      used == 0,
	      "sticky error");
}

/* The name filter (sp_http1_resp.name_wanted): a parse from the bytes
 * reports every field; a memo hit replays only the fields the filter
 * wanted, asking it once per head and key. */
static int filter_calls;

static int
want_named(const void *key, const uint8_t *name, size_t n)
{
	const char *const *names = key;

	filter_calls++;
	for (; *names != NULL; names++)
		if (strlen(*names) == n &&
		    strncasecmp(*names, (const char *)name, n) == 0)
			return 1;
	return 0;
}

static void
filtered_parse(struct sp_http1_memo *memo, const void *key, struct run *run)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nServer: x\r\n"
				 "Set-Cookie: a=b\r\nContent-Length: 0\r\n"
				 "X-Id: 7\r\n\r\n";
	struct sp_http1_resp p;
	size_t used;
	int rc;

	memset(run, 0, sizeof(*run));
	run->hdr_last = -1;
	sp_http1_resp_init(&p, 0);
	p.on_header = collect_hdr;
	p.header_ctx = run;
	p.name_wanted = key != NULL ? want_named : NULL;
	p.name_key = key;
	p.memo = memo;
	rc = sp_http1_resp_parse(&p, (const uint8_t *)in, sizeof(in) - 1,
				 &used);
	CHECK(rc == SP_HTTP1_DONE && used == sizeof(in) - 1 &&
		      p.status == 200,
	      "filtered parse: rc %d used %zu", rc, used);
}

static void
test_name_filter(void)
{
	static const char *const cookie_id[] = { "set-cookie", "X-ID", NULL };
	static const char *const server[] = { "server", NULL };
	static const char all[] = "Server:x\nSet-Cookie:a=b\n"
				  "Content-Length:0\nX-Id:7\n";
	static const char wanted[] = "Set-Cookie:a=b\nX-Id:7\n";
	static struct sp_http1_memo memo;
	struct run run;
	uint64_t hits;

	memset(&memo, 0, sizeof(memo));
	filtered_parse(&memo, cookie_id, &run);
	CHECK(run.hdrs_len == strlen(all) &&
		      memcmp(run.hdrs, all, run.hdrs_len) == 0,
	      "parsed from bytes: every field (%.*s)", (int)run.hdrs_len,
	      run.hdrs);
	hits = memo.h.hits;
	filter_calls = 0;
	filtered_parse(&memo, cookie_id, &run);
	CHECK(memo.h.hits == hits + 1, "the memo answered");
	CHECK(run.hdrs_len == strlen(wanted) &&
		      memcmp(run.hdrs, wanted, run.hdrs_len) == 0 &&
		      !run.hdrs_bad,
	      "memo: the wanted fields only (%.*s)", (int)run.hdrs_len,
	      run.hdrs);
	CHECK(filter_calls == 4, "asked once per field: %d", filter_calls);
	filtered_parse(&memo, cookie_id, &run);
	CHECK(filter_calls == 4 && run.hdrs_len == strlen(wanted),
	      "same key: not asked again (%d)", filter_calls);
	filtered_parse(&memo, server, &run);
	CHECK(filter_calls == 8 && run.hdrs_len == 9 &&
		      memcmp(run.hdrs, "Server:x\n", 9) == 0,
	      "another key: asked again, its fields (%.*s)",
	      (int)run.hdrs_len, run.hdrs);
	filtered_parse(&memo, NULL, &run);
	CHECK(run.hdrs_len == strlen(all) &&
		      memcmp(run.hdrs, all, run.hdrs_len) == 0,
	      "no filter: every field from the memo");
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		run_fixture(&fixtures[i], fixtures[i].in,
			    strlen(fixtures[i].in));
	/* Most fixtures' heads are short and come whole: the memo must
	 * have answered for them, or the runs above tested nothing new. */
	CHECK(memo_hits >= 100, "memo hits %llu",
	      (unsigned long long)memo_hits);
	CHECK(hdr_checked == sizeof(hdr_want) / sizeof(hdr_want[0]),
	      "header expectations checked: %d", hdr_checked);
	test_huge_header();
	test_large_lengths();
	test_name_filter();
	printf("%d tests, %d failed\n", sp_tests, sp_failed);
	return sp_failed ? 1 : 0;
}
