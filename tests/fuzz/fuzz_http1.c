/*
 * libFuzzer target for the HTTP/1.1 response parser.
 *
 * Input: byte 0 holds options (bit 0: the request was HEAD, bit 1: a small
 * header bound, bit 2: the peer closes at the end, bit 3: expand tokens),
 * bytes 1-4 seed the piece sizes, the rest is what the server sent. With
 * bit 3 set, bytes 0xf0-0xff stand for the tokens below: random bytes
 * would take the fuzzer long to spell "Transfer-Encoding: chunked", and
 * this keeps the target self-contained (no dictionary file). The bytes are parsed as
 * a keep-alive connection would: response after response until an error,
 * a 101 or the end. Oracles: AddressSanitizer/UBSan (never a read past the
 * piece given), consumed never beyond the piece, body bytes reported equal
 * to body bytes counted and taken from the input, and the same sequence of
 * results whether the bytes come whole, in pseudo-random pieces, or one at
 * a time, with a head memo (sp_http1_memo) or without. With bit 4 set the
 * header callback is on too: its pieces must lie in the input and come in
 * order (NAME+ VALUE* END), and each response's fields, hashed as heard,
 * must be the same every way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_RESULTS = 64 };

struct result {
	int rc;
	int status;
	int must_close;
	unsigned interim;
	uint64_t body_bytes;
	size_t header_bytes;
	size_t trailer_bytes;
	size_t end;
	uint64_t fields_hash; /* the fields on_header heard, whole */
};

struct run {
	struct result r[MAX_RESULTS];
	int n;
	uint64_t body_seen; /* through the callback */
	uint64_t body_hash;
	const uint8_t *lo, *hi; /* the input: body pointers must be in it */
	uint64_t field, fields; /* the field being heard; fields heard */
	int last;               /* last part heard, -1 at a field's start */
};

static void
on_header(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p, size_t n)
{
	struct run *run = ctx;

	if (n && (p < run->lo || p + n > run->hi))
		abort();
	if ((part == SP_HTTP1_HDR_NAME &&
	     (n == 0 || (run->last != -1 && run->last != SP_HTTP1_HDR_NAME))) ||
	    (part != SP_HTTP1_HDR_NAME && run->last == -1))
		abort();
	if (part == SP_HTTP1_HDR_VALUE && run->last == SP_HTTP1_HDR_NAME)
		run->field = (run->field ^ 0x100) * 0x100000001b3ull;
	for (size_t i = 0; i < n; i++)
		run->field = (run->field ^ p[i]) * 0x100000001b3ull;
	if (part == SP_HTTP1_HDR_END) {
		run->fields = (run->fields ^ run->field) * 0x100000001b3ull;
		run->field = 0xcbf29ce484222325ull;
		run->last = -1;
		return;
	}
	run->last = (int)part;
}

static void
on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct run *run = ctx;

	if (!n || p < run->lo || p + n > run->hi)
		abort();
	run->body_seen += n;
	for (size_t i = 0; i < n; i++)
		run->body_hash = (run->body_hash ^ p[i]) * 0x100000001b3ull;
}

static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
record(struct run *run, const struct sp_http1_resp *p, int rc, size_t end)
{
	if (run->n == MAX_RESULTS)
		abort(); /* cannot happen: the caller stops before */
	/* fields of a response cut by an error depend on the cut: only a
	 * whole response's are compared */
	run->r[run->n++] = (struct result){ rc,
					    p->status,
					    p->must_close,
					    p->interim,
					    p->body_bytes,
					    p->header_bytes,
					    p->trailer_bytes,
					    end,
					    rc == SP_HTTP1_DONE ? run->fields :
								  0 };
	run->fields = 0;
	run->field = 0xcbf29ce484222325ull;
	run->last = -1;
	if (rc == SP_HTTP1_DONE && p->body_bytes != run->body_seen)
		abort();
	run->body_seen = 0;
}

/* mode 0: whole, 1: random pieces from @seed, 2: one byte at a time;
 * @memo: heads seen whole are memoized (NULL: none) */
static void
parse(const uint8_t *in, size_t len, uint8_t opt, uint32_t seed, int mode,
      struct sp_http1_memo *memo, struct run *run)
{
	struct sp_http1_resp p;
	size_t base = 0, used;
	int rc = 0, head = opt & 1;

	memset(run, 0, sizeof(*run));
	run->lo = in;
	run->hi = in + len;
	sp_http1_resp_init(&p, head);
	if (opt & 2)
		p.max_header_bytes = 64;
	if (memo != NULL) {
		memset(memo, 0, sizeof(*memo));
		p.memo = memo;
	}
	p.on_body = on_body;
	p.body_ctx = run;
	run->field = 0xcbf29ce484222325ull;
	run->last = -1;
	if (opt & 16) {
		p.on_header = on_header;
		p.header_ctx = run;
	}
	seed |= 1;
	while (base < len && run->n < MAX_RESULTS - 1) {
		size_t n = len - base;

		if (mode == 1)
			n = 1 + next_rand(&seed) % (n < 64 ? n : 64);
		else if (mode == 2)
			n = 1;
		/* a piece may hold the end of one response and the start of
		 * the next: keep feeding what is left of it */
		size_t piece_end = base + n;

		while (base < piece_end) {
			rc = sp_http1_resp_parse(&p, in + base,
						 piece_end - base, &used);
			if (used > piece_end - base)
				abort();
			if (rc < 0) {
				record(run, &p, rc, base + used);
				return;
			}
			if (rc == SP_HTTP1_NEED_MORE &&
			    used != piece_end - base)
				abort();
			base += used;
			if (rc == SP_HTTP1_DONE) {
				record(run, &p, rc, base);
				if (p.status == 101 ||
				    run->n == MAX_RESULTS - 1)
					return;
				sp_http1_resp_next(&p, head);
			}
		}
	}
	if (opt & 4) {
		rc = sp_http1_resp_eof(&p);
		if (rc != SP_HTTP1_NEED_MORE)
			record(run, &p, rc, len);
	}
}

static const char *const tokens[16] = {
	"HTTP/1.1 200 OK\r\n",
	"HTTP/1.0 ",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 204 ",
	"Content-Length: ",
	"Transfer-Encoding: chunked",
	"Connection: close",
	"Connection: keep-alive",
	"\r\n",
	"\r\n\r\n",
	"0\r\n\r\n",
	";ext=1",
	", ",
	"\r\n ",
	"304",
	"101",
};

enum { EXPAND_MAX = 1 << 16 };

/* Replace token bytes; stops at EXPAND_MAX. */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a, b;
	static struct sp_http1_memo memo;
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
	if (opt & 8) {
		size = expand(data, size, expanded);
		data = expanded;
	}

	/* Byte by byte (no head is ever whole, so no memo) is the
	 * reference; whole and in pieces, with a memo, must agree with it. */
	parse(data, size, opt, 0, 2, NULL, &a);
	parse(data, size, opt, 0, 0, &memo, &b);
	if (a.n != b.n || memcmp(a.r, b.r, sizeof(a.r[0]) * (size_t)a.n) ||
	    a.body_hash != b.body_hash)
		abort();
	parse(data, size, opt, seed, 1, &memo, &b);
	if (a.n != b.n || memcmp(a.r, b.r, sizeof(a.r[0]) * (size_t)a.n) ||
	    a.body_hash != b.body_hash)
		abort();
	parse(data, size, opt, 0, 0, NULL, &b);
	if (a.n != b.n || memcmp(a.r, b.r, sizeof(a.r[0]) * (size_t)a.n) ||
	    a.body_hash != b.body_hash)
		abort();
	return 0;
}
