/*
 * libFuzzer target for the HTTP/1.1 request parser.
 *
 * Input: byte 0 holds options (bit 0: a small head bound, bit 1: the client
 * closes at the end, bit 2: expand tokens), bytes 1-4 seed the piece
 * sizes, the rest is what the client sent. With bit 2 set, bytes
 * 0xf0-0xff stand for the tokens below, so that the fuzzer reaches
 * pipelined requests with bodies without a dictionary file. The bytes are
 * parsed as the responder does: request after request until an error, a
 * request that closes the connection, or the end. Oracles:
 * AddressSanitizer/UBSan (never a read past the piece given), consumed
 * never beyond the piece and all of it on NEED_MORE, body bytes never more
 * than the input, and the same sequence of results whether the bytes come
 * whole, in pseudo-random pieces, or one at a time, with a head memo
 * (sp_http1_req_memo) or without.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_http1_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_RESULTS = 64 };

struct result {
	int rc;
	int method;
	int minor;
	int must_close;
	uint64_t body_bytes;
	size_t header_bytes;
	size_t end;
};

struct run {
	struct result r[MAX_RESULTS];
	int n;
};

static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
record(struct run *run, const struct sp_http1_req *p, int rc, size_t end,
       size_t len)
{
	if (run->n == MAX_RESULTS)
		abort(); /* cannot happen: the caller stops before */
	run->r[run->n++] = (struct result){ rc,
					    p->method,
					    p->minor,
					    p->must_close,
					    p->body_bytes,
					    p->header_bytes,
					    end };
	if (p->body_bytes > len ||
	    (rc == SP_HTTP1_REQ_DONE && p->header_bytes > p->max_header_bytes))
		abort();
}

/* mode 0: whole, 1: random pieces from @seed, 2: one byte at a time;
 * @memo: heads seen whole are memoized (NULL: none) */
static void
parse(const uint8_t *in, size_t len, uint8_t opt, uint32_t seed, int mode,
      struct sp_http1_req_memo *memo, struct run *run)
{
	struct sp_http1_req p;
	size_t base = 0, used;
	int rc = 0;

	memset(run, 0, sizeof(*run));
	sp_http1_req_init(&p);
	if (opt & 1)
		p.max_header_bytes = 64;
	if (memo != NULL) {
		memset(memo, 0, sizeof(*memo));
		p.memo = memo;
	}
	seed |= 1;
	while (base < len && run->n < MAX_RESULTS - 1) {
		size_t n = len - base;

		if (mode == 1)
			n = 1 + next_rand(&seed) % (n < 64 ? n : 64);
		else if (mode == 2)
			n = 1;
		size_t piece_end = base + n;

		while (base < piece_end) {
			rc = sp_http1_req_parse(&p, in + base, piece_end - base,
						&used);
			if (used > piece_end - base)
				abort();
			if (rc < 0) {
				record(run, &p, rc, base + used, len);
				return;
			}
			if (rc == SP_HTTP1_REQ_NEED_MORE &&
			    used != piece_end - base)
				abort();
			base += used;
			if (rc == SP_HTTP1_REQ_DONE) {
				record(run, &p, rc, base, len);
				if (p.must_close || run->n == MAX_RESULTS - 1)
					return;
				sp_http1_req_next(&p);
			}
		}
	}
	if (opt & 2) {
		rc = sp_http1_req_eof(&p);
		if (rc != SP_HTTP1_REQ_NEED_MORE)
			record(run, &p, rc, len, len);
	}
}

static const char *const tokens[16] = {
	"GET / HTTP/1.1\r\n",
	"POST /x HTTP/1.1\r\n",
	"HEAD * HTTP/1.0\r\n",
	"Host: h\r\n",
	"Content-Length: ",
	"Transfer-Encoding: chunked\r\n",
	"Connection: close",
	"Connection: keep-alive",
	"\r\n",
	"\r\n\r\n",
	"HTTP/1.",
	", ",
	"\n",
	"GET ",
	"5\r\n\r\nhello",
	"OPTIONS ",
};

enum { EXPAND_MAX = 1 << 16 };

static size_t
expand(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		const char *t = in[i] >= 0xf0 ? tokens[in[i] - 0xf0] : NULL;
		size_t tl = t ? strlen(t) : 1;

		if (n + tl > EXPAND_MAX)
			break;
		if (t)
			memcpy(out + n, t, tl);
		else
			out[n] = in[i];
		n += tl;
	}
	return n;
}

static int
differ(const struct run *a, const struct run *b)
{
	return a->n != b->n ||
	       memcmp(a->r, b->r, sizeof(a->r[0]) * (size_t)a->n) != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a, b;
	static struct sp_http1_req_memo memo;
	static uint8_t expanded[EXPAND_MAX];
	uint8_t opt;
	uint32_t seed;

	if (size < 5)
		return 0;
	opt = data[0];
	seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
	       (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
	data += 5;
	size -= 5;
	if (opt & 4) {
		size = expand(data, size, expanded);
		data = expanded;
	}

	/* Byte by byte, without a memo, is the reference. */
	parse(data, size, opt, 0, 2, NULL, &a);
	parse(data, size, opt, 0, 0, &memo, &b);
	if (differ(&a, &b))
		abort();
	parse(data, size, opt, seed, 1, &memo, &b);
	if (differ(&a, &b))
		abort();
	parse(data, size, opt, 0, 0, NULL, &b);
	if (differ(&a, &b))
		abort();
	return 0;
}
