/*
 * libFuzzer target for the JSON path captures (lib/proto/capture.c).
 *
 * Input: byte 0 chooses the room for the value (cap), then the path up to
 * the first newline, then the document. Oracles besides the sanitizers:
 *   - a path that does not compile says why, as one "json: ..." line;
 *   - never a byte written past cap, *len within it, 0 unless FOUND;
 *   - the complete document and the same followed by blanks give the
 *     same result and the same value;
 *   - the document as a window (not complete) is TRUNCATED or gives the
 *     complete document's answer, and so is every prefix of it (all of
 *     them for short inputs, a few otherwise);
 *   - a value FOUND fits exactly its own length and is TOO_LONG in one
 *     byte less, and a TOO_LONG one is FOUND with room enough.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_capture.h"

#define SP_CHECK_ABORT
#include "sp_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PATH_MAX_LEN = 1024, DOC_MAX = 1 << 16, GUARD = 8 };

struct value {
	int r;
	uint32_t len;
	char out[DOC_MAX + GUARD];
};

static uint8_t doc[DOC_MAX + 4];
static struct value ref, v;

static void
run(const struct sp_jsonpath *jp, const uint8_t *buf, size_t n, int complete,
    uint32_t cap, struct value *o)
{
	memset(o->out, 0x5a, (size_t)cap + GUARD);
	o->len = 777;
	o->r = sp_jsonpath_extract(jp, buf, n, complete, o->out, cap, &o->len);
	CHECK(o->r >= SP_CAPTURE_FOUND && o->r <= SP_CAPTURE_TOO_LONG);
	for (size_t i = cap; i < (size_t)cap + GUARD; i++)
		CHECK((uint8_t)o->out[i] == 0x5a);
	if (o->r == SP_CAPTURE_FOUND)
		CHECK(o->len <= cap);
	else
		CHECK(o->len == 0);
}

static int
same(const struct value *a, const struct value *b)
{
	return a->r == b->r && a->len == b->len &&
	       (a->r != SP_CAPTURE_FOUND || !memcmp(a->out, b->out, a->len));
}

/* A window's answer: truncated, or the complete document's. */
static void
check_window(const struct value *w)
{
	CHECK(w->r == SP_CAPTURE_TRUNCATED || same(w, &ref));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t caps[] = { 0,  1,  2,   3,    4,      7,
					 16, 64, 256, 4096, DOC_MAX };
	char path[PATH_MAX_LEN + 1], why[128];
	struct sp_jsonpath jp;
	const uint8_t *nl;
	size_t plen, n;
	uint8_t *d;
	uint32_t cap;

	if (size < 1)
		return 0;
	cap = caps[data[0] % (sizeof(caps) / sizeof(caps[0]))];
	data++;
	size--;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - data) : size;
	if (plen > PATH_MAX_LEN)
		return 0;
	memcpy(path, data, plen);
	path[plen] = 0;
	why[0] = 0;
	if (sp_jsonpath_compile(&jp, path, why, sizeof(why)) != 0) {
		CHECK(!strncmp(why, "json: ", 6) && !strchr(why, '\n'));
		return 0;
	}
	CHECK(jp.nsegs <= SP_JSONPATH_MAX_SEGS);
	for (unsigned int i = 0; i < jp.nsegs; i++)
		if (jp.seg[i].kind == SP_JSONPATH_KEY)
			CHECK(jp.seg[i].off + jp.seg[i].len <=
			      SP_JSONPATH_KEYS);
	if (!nl)
		return 0;
	n = size - plen - 1;
	if (n > DOC_MAX)
		return 0;
	/* A copy of the document's own size: ASan sees any read past it. */
	d = malloc(n ? n : 1);

	CHECK(d != NULL);
	memcpy(d, nl + 1, n);
	run(&jp, d, n, 1, cap, &ref);

	/* The same document followed by blanks. */
	memcpy(doc, d, n);
	memcpy(doc + n, " \r\n\t", 4);
	run(&jp, doc, n + 4, 1, cap, &v);
	CHECK(same(&v, &ref));

	/* As a window, whole and cut. */
	run(&jp, d, n, 0, cap, &v);
	check_window(&v);
	if (n <= 256) {
		for (size_t k = 0; k < n; k++) {
			run(&jp, d, k, 0, cap, &v);
			check_window(&v);
		}
	} else {
		for (size_t k = 1; k < n; k = k * 3 + 7) {
			run(&jp, d, k, 0, cap, &v);
			check_window(&v);
		}
	}

	/* The room: exact, one short, enough. */
	if (ref.r == SP_CAPTURE_FOUND) {
		run(&jp, d, n, 1, ref.len, &v);
		CHECK(same(&v, &ref));
		if (ref.len > 0) {
			run(&jp, d, n, 1, ref.len - 1, &v);
			CHECK(v.r == SP_CAPTURE_TOO_LONG);
		}
	} else if (ref.r == SP_CAPTURE_TOO_LONG) {
		run(&jp, d, n, 1, DOC_MAX, &v);
		CHECK(v.r == SP_CAPTURE_FOUND && v.len > cap);
	}
	free(d);
	return 0;
}
