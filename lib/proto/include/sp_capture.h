/*
 * sp_capture: the `capture: {json: "$.data.token"}` of a scenario. A JSON
 * path of a small subset is compiled once, when the scenario loads, and
 * the value it names is extracted from the bytes of a response body that
 * the engine kept (the first capture_window bytes of it).
 *
 * The path: `$` then any of
 *	.name		a member; name is [A-Za-z0-9_-] and bytes >= 0x80
 *			(`$.0` is the member "0", not an index)
 *	['name']	a member, any name; the escapes of a JSON string, and
 *	["name"]	\' too (\uXXXX with surrogate pairs as in JSON)
 *	[N]		the element N (from 0) of an array
 *	[-N]		the element N from the end: [-1] is the last one
 * blanks are allowed inside brackets. Nothing else: no wildcard, no
 * filter, no slice, no union, no recursive descent; at most
 * SP_JSONPATH_MAX_SEGS steps and SP_JSONPATH_KEYS bytes of names in all.
 * `$` alone names the whole document.
 *
 * The extraction reads the document once, in order, from a buffer, and
 * builds nothing: values off the path are skipped (and checked: RFC 8259,
 * strict: no comment, no trailing comma, no leading zero, strings of
 * valid UTF-8 without control bytes, no lone surrogate). It stops at the
 * first thing that decides the answer and never reads the rest: the end
 * of the value found, a syntax error, a step that cannot exist (a missing
 * member when its object closes, an index past the end when its array
 * closes, a member of a non-object or an element of a non-array as soon as
 * the value's first byte shows its type) or the end of the buffer. So a
 * document that goes wrong after the value is still FOUND: the answer is
 * for the document "as far as read". Other rules:
 *   - duplicate members: the first one wins;
 *   - names are compared after unescaping (\u00e9 matches é);
 *   - [-N] reads the whole array once to count it, then walks to the
 *     element: that array must end within the buffer;
 *   - nesting deeper than SP_JSON_MAX_DEPTH containers (counted from the
 *     top of the document) is malformed, when the scan reaches it;
 *   - a number, true, false or null must be followed by a blank, ',', ']'
 *     or '}' (by a blank or the end of a complete document at the top), so
 *     `01`, `1x`, `truex` are malformed and a scalar at the very end of an
 *     incomplete buffer is TRUNCATED (it may go on).
 * The value: a string unescaped to UTF-8 (\u0000 gives a NUL byte: *len
 * is the length, nothing is NUL-terminated), a number, true, false or
 * null its text as written, an object or an array its raw JSON text
 * (from its bracket to its bracket, inner blanks included).
 *
 * Pure: no allocation, no global state; a compiled path is read-only and
 * may be shared by every worker.
 */
#ifndef SP_CAPTURE_H
#define SP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

enum {
	SP_JSONPATH_MAX_SEGS = 16, /* steps after the $ */
	SP_JSONPATH_KEYS = 512,    /* bytes of all the names, unescaped */
	SP_JSON_MAX_DEPTH = 64,    /* containers open at once */
};

enum sp_jsonpath_kind {
	SP_JSONPATH_KEY,   /* a member: keys[off .. off + len) */
	SP_JSONPATH_INDEX, /* an element: index >= 0 from the start, < 0
			    * from the end */
};

struct sp_jsonpath_seg {
	uint8_t kind; /* enum sp_jsonpath_kind */
	uint16_t off, len;
	int32_t index;
};

/* A compiled path: fixed size, self-contained (the names are copied,
 * unescaped, into keys; the path string need not outlive it). */
struct sp_jsonpath {
	uint8_t nsegs;
	struct sp_jsonpath_seg seg[SP_JSONPATH_MAX_SEGS];
	char keys[SP_JSONPATH_KEYS];
};

/* What an extraction found. */
enum sp_capture_result {
	SP_CAPTURE_FOUND = 0, /* the value is in out[0 .. *len) */
	SP_CAPTURE_NOT_FOUND, /* well formed as far as read; the path does
			       * not exist in it */
	SP_CAPTURE_MALFORMED, /* not JSON, as far as read (or a complete
			       * document that ends too early) */
	SP_CAPTURE_TRUNCATED, /* an incomplete buffer ended before the
			       * answer was known */
	SP_CAPTURE_TOO_LONG,  /* the value, read to its end, is longer than
			       * cap */
};

/* Compile the NUL-terminated @path into @jp: 0, or -1 with one line in
 * @why (@whylen bytes), e.g. "json: expected '.' or '[' at 7" where 7 is
 * the byte offset in @path, from 0. */
int sp_jsonpath_compile(struct sp_jsonpath *jp, const char *path, char *why,
			size_t whylen);

/* Extract what @jp names from @buf[0 .. @n): the whole body when
 * @complete, else the prefix of it that the window kept. Writes at most
 * @cap bytes to @out (whatever the result; on FOUND *@len is their number,
 * otherwise *@len is 0). Returns an enum sp_capture_result. */
int sp_jsonpath_extract(const struct sp_jsonpath *jp, const uint8_t *buf,
			size_t n, int complete, char *out, uint32_t cap,
			uint32_t *len);

/* A result's name for reports and logs: "found", "not_found", "malformed",
 * "truncated", "too_long" ("?" for anything else). */
const char *sp_capture_result_name(int r);

#endif /* SP_CAPTURE_H */
