/*
 * Unit test for sp_http1_req: every request fixture is parsed whole, in two
 * pieces at every split point and one byte at a time, and each way must
 * give the expected sequence of results (return code, where the request
 * ended, method, version, body length, close flag). Pipelined requests are
 * parsed one after the other on the same bytes, as a keep-alive connection
 * would; a request that asks to close ends the series, as it ends the
 * connection. Then the head bound on a big input, a Content-Length near
 * 2^64, the error names and the parser's stickiness after DONE and errors;
 * the WebSocket upgrade's headers, in every split.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_http1_req.h"

#include "sp_check.h"

enum { MAX_REQ = 4 };

/* One expected request: where it ends is the offset of @at (searched from
 * the previous end) plus @delta, or the input's end if @at is NULL. */
struct exp {
	int rc;
	int method;
	int minor;
	long body;
	int close;
	const char *at;
	int delta;
};

struct fixture {
	const char *name;
	const char *in;
	int eof;        /* the client closes after the input */
	size_t max_hdr; /* 0: default */
	struct exp e[MAX_REQ];
	int n;
};

struct result {
	int rc;
	int method;
	int minor;
	long body;
	int close;
	size_t end;
};

struct run {
	struct result r[MAX_REQ];
	int n;
};

static void
record(struct run *run, const struct sp_http1_req *p, int rc, size_t end)
{
	if (run->n == MAX_REQ)
		return;
	run->r[run->n++] = (struct result){
		rc, p->method, p->minor, (long)p->body_bytes, p->must_close, end
	};
}

/* Parse @len bytes of @in cut at the offsets @cuts (ascending), with the
 * head memo @memo (or none). */
static void
run_pieces(const struct fixture *f, const uint8_t *in, size_t len,
	   const size_t *cuts, size_t ncuts, struct run *run,
	   struct sp_http1_req_memo *memo)
{
	struct sp_http1_req p;
	size_t base = 0;
	int rc = 0, closed = 0;

	memset(run, 0, sizeof(*run));
	sp_http1_req_init(&p);
	if (f->max_hdr)
		p.max_header_bytes = f->max_hdr;
	p.memo = memo;
	for (size_t k = 0; k <= ncuts && rc >= 0 && !closed; k++) {
		size_t end = k < ncuts ? cuts[k] : len, used;

		while (base < end) {
			rc = sp_http1_req_parse(&p, in + base, end - base,
						&used);
			if (used > end - base) {
				CHECK(0, "%s: consumed %zu of %zu", f->name,
				      used, end - base);
				return;
			}
			if (rc < 0) {
				record(run, &p, rc, base + used);
				break;
			}
			if (rc == SP_HTTP1_REQ_NEED_MORE && used != end - base)
				CHECK(0, "%s: NEED_MORE left bytes", f->name);
			base += used;
			if (rc == SP_HTTP1_REQ_DONE) {
				record(run, &p, rc, base);
				if (p.must_close) {
					closed = 1;
					break;
				}
				sp_http1_req_next(&p);
			}
		}
	}
	if (rc >= 0 && !closed && f->eof) {
		rc = sp_http1_req_eof(&p);
		if (rc != SP_HTTP1_REQ_NEED_MORE)
			record(run, &p, rc, len);
	}
}

static int
same(const struct run *a, const struct run *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (memcmp(&a->r[i], &b->r[i], sizeof(a->r[i])) != 0)
			return 0;
	return 1;
}

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
		CHECK(r->rc == e->rc, "%s[%d]: rc %d (%s), want %d", f->name, i,
		      r->rc, sp_http1_req_error_name(r->rc), e->rc);
		CHECK(r->end == end, "%s[%d]: ended at %zu, want %zu", f->name,
		      i, r->end, end);
		if (e->rc == SP_HTTP1_REQ_DONE) {
			CHECK(r->method == e->method, "%s[%d]: method %d",
			      f->name, i, r->method);
			CHECK(r->minor == e->minor, "%s[%d]: minor %d", f->name,
			      i, r->minor);
			CHECK(r->body == e->body, "%s[%d]: body %ld, want %ld",
			      f->name, i, r->body, e->body);
			CHECK(r->close == e->close, "%s[%d]: close %d", f->name,
			      i, r->close);
		}
		from = end;
	}
}

static uint64_t memo_hits; /* over all fixtures */

static void
run_fixture(const struct fixture *f, const char *in, size_t len)
{
	static struct sp_http1_req_memo memo;
	struct run whole, piece;
	size_t *cuts;
	int bad = 0;

	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &whole, NULL);
	check_expected(f, in, len, &whole);

	/* With a head memo, which the first whole parse fills: whole again
	 * (the memo answers for the heads it holds) and at every split, the
	 * same results. */
	memset(&memo, 0, sizeof(memo));
	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &piece, &memo);
	CHECK(same(&whole, &piece), "%s: whole with a memo differs", f->name);
	run_pieces(f, (const uint8_t *)in, len, NULL, 0, &piece, &memo);
	CHECK(same(&whole, &piece), "%s: whole from the memo differs", f->name);

	for (size_t i = 1; i < len; i++) {
		/* big inputs: near the start, near the bound, a stride */
		if (len > 4096 && i > 512 && i % 997 != 0 &&
		    (i + 64 < SP_HTTP1_REQ_MAX_HEADER_DEFAULT ||
		     i > SP_HTTP1_REQ_MAX_HEADER_DEFAULT + 64))
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

	cuts = malloc((len ? len : 1) * sizeof(*cuts));
	if (!cuts)
		abort();
	for (size_t i = 1; i < len; i++)
		cuts[i - 1] = i;
	run_pieces(f, (const uint8_t *)in, len, cuts, len ? len - 1 : 0, &piece,
		   NULL);
	CHECK(same(&whole, &piece), "%s: byte at a time differs", f->name);
	free(cuts);
}

#define OK(m, minor, b, cl, ...)                                               \
	{                                                                      \
		SP_HTTP1_REQ_DONE, m, minor, b, cl, __VA_ARGS__                \
	}
#define ERR(rc, at, delta)                                                     \
	{                                                                      \
		rc, 0, 0, 0, 0, at, delta                                      \
	}
#define GET SP_HTTP1_M_GET

static const struct fixture fixtures[] = {
	{ "minimal GET",
	  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 1, 0, 0, NULL, 0) },
	  1 },
	{ "wrk-style GET with headers",
	  "GET /index.html?q=1&r=%20 HTTP/1.1\r\nHost: 198.19.0.1:80\r\n"
	  "User-Agent: x/1\r\nAccept: */*\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 1, 0, 0, NULL, 0) },
	  1 },
	{ "three pipelined, one with a body",
	  "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	  "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
	  "HEAD /c HTTP/1.1\r\nhost: h\r\n\r\n"
	  "GET /d HTTP/1.1\r\n",
	  0,
	  0,
	  { OK(GET, 1, 0, 0, "POST", 0),
	    OK(SP_HTTP1_M_POST, 1, 5, 0, "HEAD", 0),
	    OK(SP_HTTP1_M_HEAD, 1, 0, 0, "GET /d", 0) },
	  3 },
	{ "body bytes that look like a request are body",
	  "PUT /x HTTP/1.1\r\nHost: h\r\nContent-length: 27\r\n\r\n"
	  "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	  "DELETE /y HTTP/1.1\r\nHost: h\r\n\r\n",
	  0,
	  0,
	  { OK(SP_HTTP1_M_PUT, 1, 27, 0, "DELETE", 0),
	    OK(SP_HTTP1_M_DELETE, 1, 0, 0, NULL, 0) },
	  2 },
	{ "content-length list and repeat",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 , 3\r\n"
	  "CONTENT-LENGTH:3\r\n\r\nabc",
	  0,
	  0,
	  { OK(SP_HTTP1_M_POST, 1, 3, 0, NULL, 0) },
	  1 },
	{ "Connection: close ends the series",
	  "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n"
	  "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 1, 0, 1, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0) },
	  1 },
	{ "HTTP/1.0 closes by default, Host optional",
	  "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 0, 0, 1, "\r\n\r\nGET", 4) },
	  1 },
	{ "HTTP/1.0 keep-alive",
	  "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
	  "OPTIONS * HTTP/1.0\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 0, 0, 0, "OPTIONS", 0),
	    OK(SP_HTTP1_M_OPTIONS, 0, 0, 1, NULL, 0) },
	  2 },
	{ "keep alive (two words) is no token",
	  "GET / HTTP/1.0\r\nConnection: keep alive\r\n\r\n",
	  0,
	  0,
	  { OK(GET, 0, 0, 1, NULL, 0) },
	  1 },
	{ "blank lines before, bare LF, HTTP/1.2 is 1.1, methods",
	  "\r\n\nPATCH /p HTTP/1.2\nHost: h\n\n"
	  "get / HTTP/1.1\r\nHost: h\r\n\r\n"
	  "M-SEARCH / HTTP/1.1\r\nHost: h\r\n\r\n",
	  0,
	  0,
	  { OK(SP_HTTP1_M_PATCH, 1, 0, 0, "get", 0),
	    OK(SP_HTTP1_M_OTHER, 1, 0, 0, "M-SEARCH", 0),
	    OK(SP_HTTP1_M_OTHER, 1, 0, 0, NULL, 0) },
	  3 },
	{ "clean eof between requests",
	  "GET / HTTP/1.1\r\nHost: h\r\n\r\n\r\n",
	  1,
	  0,
	  { OK(GET, 1, 0, 0, "\r\n\r\n\r\n", 4) },
	  1 },

	{ "Transfer-Encoding refused",
	  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5\r\nhello\r\n0\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TRANSFER_ENCODING, "\r\n\r\n", 3) },
	  1 },
	{ "Transfer-Encoding with Content-Length refused",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	  "transfer-encoding: gzip\r\n\r\nabc",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TRANSFER_ENCODING, "\r\n\r\n", 3) },
	  1 },
	{ "missing Host in 1.1",
	  "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_HOST, "\r\n\r\n", 3) },
	  1 },
	{ "two Host fields",
	  "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_HOST, "\r\n\r\n", 3) },
	  1 },
	{ "HTTP/2.0",
	  "GET / HTTP/2.0\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_VERSION, "2.0", 0) },
	  1 },
	{ "HTTP/1.10",
	  "GET / HTTP/1.10\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_VERSION, "0\r\n", 0) },
	  1 },
	{ "lower-case http",
	  "GET / http/1.1\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LINE, "http", 0) },
	  1 },
	{ "HTTP/0.9 request",
	  "GET /\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LINE, "\r\n", 0) },
	  1 },
	{ "two spaces after method",
	  "GET  / HTTP/1.1\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TARGET, " /", 0) },
	  1 },
	{ "absolute-form target",
	  "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TARGET, "http:", 0) },
	  1 },
	{ "control byte in target",
	  "GET /a\x01 HTTP/1.1\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TARGET, "\x01", 0) },
	  1 },
	{ "bad method char",
	  "G(T / HTTP/1.1\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LINE, "(", 0) },
	  1 },
	{ "space before the method",
	  " GET / HTTP/1.1\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LINE, " GET", 0) },
	  1 },
	{ "CR without LF in the request line",
	  "GET / HTTP/1.1\rHost: h\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LINE, "Host", 0) },
	  1 },
	{ "obs-fold rejected",
	  "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_HEADER, " b", 0) },
	  1 },
	{ "space before colon",
	  "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_HEADER, " :", 0) },
	  1 },
	{ "CTL in value",
	  "GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_HEADER, "\x01", 0) },
	  1 },
	{ "conflicting content-length",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LENGTH, "\r\n\r\n", 1) },
	  1 },
	{ "non-numeric content-length",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\nab",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LENGTH, "2\r", 0) },
	  1 },
	{ "content-length overflow",
	  "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  0,
	  0,
	  { ERR(SP_HTTP1_REQ_E_LENGTH, "9\r\n", 0) },
	  1 },
	{ "head over a small bound",
	  "GET / HTTP/1.1\r\nHost: h\r\nX-Long: 0123456789abcdef\r\n\r\n",
	  0,
	  40,
	  { ERR(SP_HTTP1_REQ_E_HEADER_TOO_BIG, "789ab", 0) },
	  1 },
	{ "blank lines count against the bound",
	  "\r\n\r\n\r\n\r\nGET",
	  0,
	  6,
	  { ERR(SP_HTTP1_REQ_E_HEADER_TOO_BIG, "\r\nGET", 0) },
	  1 },
	{ "truncated head at eof",
	  "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HT",
	  1,
	  0,
	  { OK(GET, 1, 0, 0, "\r\n\r\nGET", 4),
	    ERR(SP_HTTP1_REQ_E_TRUNCATED, NULL, 0) },
	  2 },
	{ "truncated body at eof",
	  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort",
	  1,
	  0,
	  { ERR(SP_HTTP1_REQ_E_TRUNCATED, NULL, 0) },
	  1 },
};

/* A head of 1 MiB: refused at exactly the byte past the default bound. */
static void
test_huge_head(void)
{
	static const char head[] = "GET / HTTP/1.1\r\nX-Big: ";
	size_t len = sizeof(head) - 1 + (1u << 20);
	char *in = malloc(len + 1);
	struct fixture f = { "1 MiB header line",
			     NULL,
			     0,
			     0,
			     { ERR(SP_HTTP1_REQ_E_HEADER_TOO_BIG, NULL, 0) },
			     1 };

	if (!in)
		abort();
	memcpy(in, head, sizeof(head) - 1);
	memset(in + sizeof(head) - 1, 'a', len - (sizeof(head) - 1));
	in[SP_HTTP1_REQ_MAX_HEADER_DEFAULT] = 'Z';
	in[len] = 0;
	f.e[0].at = "Z";
	run_fixture(&f, in, len);
	free(in);
}

/* A body near 2^64 is skipped in bulk, a piece at a time. */
static void
test_large_body(void)
{
	static const char big[] =
		"POST / HTTP/1.1\r\nHost: h\r\n"
		"Content-Length: 18446744073709551615\r\n\r\n";
	struct sp_http1_req p;
	uint8_t chunk[65536];
	size_t used;
	int rc;

	sp_http1_req_init(&p);
	rc = sp_http1_req_parse(&p, (const uint8_t *)big, sizeof(big) - 1,
				&used);
	CHECK(rc == SP_HTTP1_REQ_NEED_MORE && used == sizeof(big) - 1, "rc %d",
	      rc);
	memset(chunk, 'G', sizeof(chunk));
	for (int i = 0; i < 64; i++) {
		rc = sp_http1_req_parse(&p, chunk, sizeof(chunk), &used);
		CHECK(rc == SP_HTTP1_REQ_NEED_MORE && used == sizeof(chunk),
		      "chunk %d: rc %d", i, rc);
	}
	CHECK(p.body_bytes == 64u * sizeof(chunk), "body %llu",
	      (unsigned long long)p.body_bytes);
	CHECK(sp_http1_req_eof(&p) == SP_HTTP1_REQ_E_TRUNCATED, "eof");
}

/* DONE and errors stick until the next request; names cover every kind. */
static void
test_sticky_and_names(void)
{
	static const char two[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\nXX";
	struct sp_http1_req p;
	size_t used;
	int rc;

	sp_http1_req_init(&p);
	rc = sp_http1_req_parse(&p, (const uint8_t *)two, sizeof(two) - 1,
				&used);
	CHECK(rc == SP_HTTP1_REQ_DONE && used == sizeof(two) - 3, "done %d",
	      rc);
	rc = sp_http1_req_parse(&p, (const uint8_t *)"X", 1, &used);
	CHECK(rc == SP_HTTP1_REQ_DONE && used == 0, "sticky done %d", rc);
	CHECK(sp_http1_req_eof(&p) == SP_HTTP1_REQ_DONE, "eof after done");
	sp_http1_req_next(&p);
	rc = sp_http1_req_parse(&p, (const uint8_t *)"\x7f", 1, &used);
	CHECK(rc == SP_HTTP1_REQ_E_LINE && used == 0, "error %d", rc);
	rc = sp_http1_req_parse(&p, (const uint8_t *)"GET", 3, &used);
	CHECK(rc == SP_HTTP1_REQ_E_LINE && used == 0, "sticky error %d", rc);
	CHECK(sp_http1_req_eof(&p) == SP_HTTP1_REQ_E_LINE, "eof after error");

	for (int e = 1; e <= SP_HTTP1_REQ_NERRORS; e++)
		CHECK(strcmp(sp_http1_req_error_name(-e), "unknown") != 0,
		      "name of %d", -e);
	CHECK(strcmp(sp_http1_req_error_name(SP_HTTP1_REQ_E_TRANSFER_ENCODING),
		     "transfer_encoding") == 0,
	      "te name");
	CHECK(strcmp(sp_http1_req_error_name(0), "unknown") == 0, "0");
	CHECK(strcmp(sp_http1_req_error_name(-SP_HTTP1_REQ_NERRORS - 1),
		     "unknown") == 0,
	      "past the end");
}

/* What a WebSocket upgrade request says (RFC 6455 section 4.2.1), the
 * same whole, split at every point and a byte at a time. */
struct ws_case {
	const char *name;
	const char *in;
	int ws;          /* SP_HTTP1_REQ_WS_* expected */
	const char *key; /* the key kept, or NULL: none, or not a key */
};

static const struct ws_case ws_cases[] = {
	{ "RFC 6455 1.3",
	  "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
	  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	  "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat\r\n"
	  "Sec-WebSocket-Version: 13\r\n\r\n",
	  SP_HTTP1_REQ_WS_UPGRADE | SP_HTTP1_REQ_WS_CONN_UPGRADE |
		  SP_HTTP1_REQ_WS_VERSION | SP_HTTP1_REQ_WS_VERSION_13 |
		  SP_HTTP1_REQ_WS_KEY,
	  "dGhlIHNhbXBsZSBub25jZQ==" },
	{ "lists, case and whitespace",
	  "GET / HTTP/1.1\r\nHost: h\r\nUPGRADE: h2c, WebSocket\r\n"
	  "connection: keep-alive,  upgrade \r\n"
	  "sec-websocket-key:   AAAAAAAAAAAAAAAAAAAAAA==  \r\n"
	  "SEC-WEBSOCKET-VERSION: 8, 13\r\n\r\n",
	  SP_HTTP1_REQ_WS_UPGRADE | SP_HTTP1_REQ_WS_CONN_UPGRADE |
		  SP_HTTP1_REQ_WS_VERSION | SP_HTTP1_REQ_WS_VERSION_13 |
		  SP_HTTP1_REQ_WS_KEY,
	  "AAAAAAAAAAAAAAAAAAAAAA==" },
	{ "version 8, no Connection: upgrade",
	  "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	  "Connection: keep-alive\r\nSec-WebSocket-Version: 8\r\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n",
	  SP_HTTP1_REQ_WS_UPGRADE | SP_HTTP1_REQ_WS_VERSION |
		  SP_HTTP1_REQ_WS_KEY,
	  "AAAAAAAAAAAAAAAAAAAAAA==" },
	{ "a key too long, Upgrade: websocket2",
	  "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket2\r\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA===\r\n\r\n",
	  SP_HTTP1_REQ_WS_KEY, NULL },
	{ "a key with a space",
	  "GET / HTTP/1.1\r\nHost: h\r\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAA AAAAAAAAAA==\r\n\r\n",
	  SP_HTTP1_REQ_WS_KEY, NULL },
	{ "two keys",
	  "GET / HTTP/1.1\r\nHost: h\r\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n",
	  SP_HTTP1_REQ_WS_KEY, NULL },
	{ "a plain request",
	  "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 0, NULL },
};

static void
ws_parse(const char *in, size_t len, size_t step, struct sp_http1_req *p)
{
	size_t off = 0, used;
	int rc = SP_HTTP1_REQ_NEED_MORE;

	sp_http1_req_init(p);
	while (off < len && rc == SP_HTTP1_REQ_NEED_MORE) {
		size_t n = len - off < step ? len - off : step;

		rc = sp_http1_req_parse(p, (const uint8_t *)in + off, n, &used);
		off += used;
	}
	CHECK(rc == SP_HTTP1_REQ_DONE, "ws: rc %d at %zu", rc, off);
}

static void
test_ws_upgrade(void)
{
	for (size_t i = 0; i < sizeof(ws_cases) / sizeof(ws_cases[0]); i++) {
		const struct ws_case *c = &ws_cases[i];
		size_t len = strlen(c->in);

		for (size_t step = 1; step <= len; step++) {
			struct sp_http1_req p;
			int key_ok;

			ws_parse(c->in, len, step, &p);
			key_ok = c->key == NULL ?
					 p.ws_key_len != SP_HTTP1_REQ_KEY :
					 p.ws_key_len == SP_HTTP1_REQ_KEY &&
						 memcmp(p.ws_key, c->key,
							SP_HTTP1_REQ_KEY) == 0;
			if (p.ws != c->ws || !key_ok) {
				CHECK(0,
				      "%s, pieces of %zu: ws %#x want %#x, "
				      "key %s",
				      c->name, step, p.ws, c->ws,
				      key_ok ? "ok" : "wrong");
				break;
			}
		}
	}
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		run_fixture(&fixtures[i], fixtures[i].in,
			    strlen(fixtures[i].in));
	/* Most fixtures' heads are short and come whole: the memo must
	 * have answered for them, or the runs with it tested nothing new. */
	CHECK(memo_hits >= 50, "memo hits %llu", (unsigned long long)memo_hits);
	test_huge_head();
	test_large_body();
	test_sticky_and_names();
	test_ws_upgrade();
	printf("%d tests, %d failed\n", sp_tests, sp_failed);
	return sp_failed ? 1 : 0;
}
