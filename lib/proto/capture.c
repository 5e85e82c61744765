/*
 * JSON path captures (sp_capture.h): the compiler of the path subset and
 * a one-pass scanner over a bounded buffer.
 *
 * The scanner is iterative: a value that is not on the path is skipped
 * with a bit stack of the containers open inside it (one bit per level,
 * object or array), so a hostile document costs no C stack and its depth
 * is bounded by SP_JSON_MAX_DEPTH, which fits the 64 bits. Every helper
 * returns 0 to go on or the sp_capture_result that ends the extraction,
 * and stops at the end of the buffer with s->eof: TRUNCATED when the
 * buffer is a window's prefix (more might have made it right), MALFORMED
 * when it is the whole body.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sp_capture.h"

_Static_assert(SP_JSON_MAX_DEPTH <= 64, "the skip's bit stack is 64 bits");
_Static_assert(SP_JSONPATH_KEYS <= UINT16_MAX, "key offsets are 16 bits");

/* ---- shared: \uXXXX and UTF-8 ---- */

static int
sp_cap_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at @p (known to be there), or -1. */
static int32_t
sp_cap_hex4(const uint8_t *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int h = sp_cap_hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Code point @cp (a scalar value, not a surrogate) as UTF-8 in @o. */
static unsigned int
sp_cap_utf8(uint32_t cp, uint8_t o[4])
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The escape after a backslash at p[0 .. avail): its bytes in @o and
 * their number in *@olen, and how many input bytes it took (the
 * backslash not counted). 0 when @avail is too short to tell, -1 when it
 * is not a valid escape: RFC 8259's eight, \u with a surrogate pair as
 * UTF-16 writes them, and \' when @squote (the path's single quotes).
 */
static int
sp_cap_escape(const uint8_t *p, size_t avail, bool squote, uint8_t o[4],
	      unsigned int *olen)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int32_t hi, lo;

	if (avail == 0)
		return 0;
	if (p[0] == '\'' && squote) {
		o[0] = '\'';
		*olen = 1;
		return 1;
	}
	if (p[0] != 'u') {
		e = p[0] ? strchr(from, p[0]) : NULL;
		if (!e)
			return -1;
		o[0] = (uint8_t)to[e - from];
		*olen = 1;
		return 1;
	}
	/* \uXXXX: check the digits we have before asking for more, so that
	 * "\uZ" at the end of a window is malformed, not truncated. */
	for (size_t i = 1; i < 5 && i < avail; i++)
		if (sp_cap_hexval(p[i]) < 0)
			return -1;
	if (avail < 5)
		return 0;
	hi = sp_cap_hex4(p + 1);
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1; /* a low surrogate first */
	if (hi < 0xd800 || hi > 0xdbff) {
		*olen = sp_cap_utf8((uint32_t)hi, o);
		return 5;
	}
	/* A high surrogate: a \u low surrogate must follow. */
	if (avail > 5 && p[5] != '\\')
		return -1;
	if (avail > 6 && p[6] != 'u')
		return -1;
	for (size_t i = 7; i < 11 && i < avail; i++)
		if (sp_cap_hexval(p[i]) < 0)
			return -1;
	if (avail < 11)
		return 0;
	lo = sp_cap_hex4(p + 7);
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*olen = sp_cap_utf8(0x10000 + (((uint32_t)hi - 0xd800) << 10) +
				    ((uint32_t)lo - 0xdc00),
			    o);
	return 11;
}

/* How long the UTF-8 sequence that starts with @p[0] (>= 0x80) is, when
 * p[0 .. avail) holds it whole and well formed (RFC 3629: no overlong
 * form, no surrogate, nothing past U+10FFFF); 0 when @avail is too short
 * to tell, -1 when it is invalid. */
static int
sp_cap_utf8_len(const uint8_t *p, size_t avail)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	int n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return -1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return 0;
		if (p[i] < lo || p[i] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/* ---- the path compiler ---- */

static int
sp_cap_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
sp_cap_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c >= 0x80;
}

static bool
sp_cap_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A new step at path offset @at, or NULL with why. */
static struct sp_jsonpath_seg *
sp_cap_seg(struct sp_jsonpath *jp, size_t at, char *why, size_t whylen)
{
	if (jp->nsegs == SP_JSONPATH_MAX_SEGS) {
		sp_cap_why(why, whylen, "json: more than %d steps at %zu",
			   SP_JSONPATH_MAX_SEGS, at);
		return NULL;
	}
	return &jp->seg[jp->nsegs++];
}

/* Append @n bytes to the current name; the whole name starts at @at. */
static int
sp_cap_key_put(struct sp_jsonpath *jp, uint32_t *used, const uint8_t *b,
	       size_t n, size_t at, char *why, size_t whylen)
{
	if (*used + n > SP_JSONPATH_KEYS)
		return sp_cap_why(why, whylen,
				  "json: names longer than %d bytes in all at "
				  "%zu",
				  SP_JSONPATH_KEYS, at);
	memcpy(jp->keys + *used, b, n);
	*used += (uint32_t)n;
	return 0;
}

/* A quoted name at p[*i] (the quote): unescaped into the keys. */
static int
sp_cap_quoted(struct sp_jsonpath *jp, struct sp_jsonpath_seg *sg,
	      uint32_t *used, const uint8_t *p, size_t *i, char *why,
	      size_t whylen)
{
	size_t at = *i, k = *i + 1;
	uint8_t q = p[at], o[4];
	unsigned int olen;
	int e;

	sg->kind = SP_JSONPATH_KEY;
	sg->off = (uint16_t)*used;
	for (;;) {
		uint8_t c = p[k];

		if (c == 0)
			return sp_cap_why(why, whylen,
					  "json: unterminated name at %zu", at);
		if (c == q)
			break;
		if (c < 0x20)
			return sp_cap_why(why, whylen,
					  "json: control character in a name "
					  "at %zu",
					  k);
		if (c != '\\') {
			if (sp_cap_key_put(jp, used, &c, 1, at, why, whylen))
				return -1;
			k++;
			continue;
		}
		/* The path is NUL-terminated: its length bounds the escape. */
		e = sp_cap_escape(p + k + 1, strnlen((const char *)p + k + 1, 11),
				  true, o, &olen);
		if (e <= 0)
			return sp_cap_why(why, whylen,
					  "json: invalid escape at %zu", k);
		if (sp_cap_key_put(jp, used, o, olen, at, why, whylen))
			return -1;
		k += 1 + (size_t)e;
	}
	sg->len = (uint16_t)(*used - sg->off);
	*i = k + 1;
	return 0;
}

/* An index at p[*i] ('-' or a digit): -?(0|[1-9][0-9]*), not -0, whose
 * magnitude fits in 31 bits. */
static int
sp_cap_index(struct sp_jsonpath_seg *sg, const uint8_t *p, size_t *i,
	     char *why, size_t whylen)
{
	size_t at = *i, k = *i;
	bool neg = p[k] == '-';
	int64_t v = 0;

	if (neg)
		k++;
	if (p[k] < '0' || p[k] > '9')
		return sp_cap_why(why, whylen, "json: expected a digit at %zu",
				  k);
	if (p[k] == '0' && p[k + 1] >= '0' && p[k + 1] <= '9')
		return sp_cap_why(why, whylen,
				  "json: leading zero in an index at %zu", at);
	for (; p[k] >= '0' && p[k] <= '9'; k++) {
		v = v * 10 + (p[k] - '0');
		if (v > INT32_MAX)
			return sp_cap_why(why, whylen,
					  "json: index too large at %zu", at);
	}
	if (neg && v == 0)
		return sp_cap_why(why, whylen, "json: -0 is not an index at %zu",
				  at);
	sg->kind = SP_JSONPATH_INDEX;
	sg->index = (int32_t)(neg ? -v : v);
	*i = k;
	return 0;
}

/* What a bracket holds that we do not do, or NULL. */
static const char *
sp_cap_unsupported(uint8_t c)
{
	switch (c) {
	case '*':
		return "wildcards are";
	case '?':
		return "filters are";
	case ':':
		return "slices are";
	case ',':
		return "unions are";
	default:
		return NULL;
	}
}

int
sp_jsonpath_compile(struct sp_jsonpath *jp, const char *path, char *why,
		    size_t whylen)
{
	const uint8_t *p = (const uint8_t *)path;
	struct sp_jsonpath_seg *sg;
	const char *no;
	uint32_t used = 0;
	size_t i = 1;

	memset(jp, 0, sizeof(*jp));
	if (p[0] != '$')
		return sp_cap_why(why, whylen, "json: expected '$' at 0");
	while (p[i]) {
		size_t at = i;

		if (p[i] == '.') {
			i++;
			if (p[i] == '.')
				return sp_cap_why(why, whylen,
						  "json: recursive descent "
						  "'..' is not supported at %zu",
						  at);
			if (p[i] == '*')
				return sp_cap_why(why, whylen,
						  "json: wildcards are not "
						  "supported at %zu",
						  i);
			if (!sp_cap_name_char(p[i]))
				return sp_cap_why(why, whylen,
						  "json: expected a name at "
						  "%zu (quote it: ['...'])",
						  i);
			sg = sp_cap_seg(jp, at, why, whylen);
			if (!sg)
				return -1;
			sg->kind = SP_JSONPATH_KEY;
			sg->off = (uint16_t)used;
			while (sp_cap_name_char(p[i]))
				i++;
			if (sp_cap_key_put(jp, &used, p + at + 1, i - at - 1,
					   at, why, whylen))
				return -1;
			sg->len = (uint16_t)(used - sg->off);
			continue;
		}
		if (p[i] != '[')
			return sp_cap_why(why, whylen,
					  "json: expected '.' or '[' at %zu", i);
		for (i++; sp_cap_blank(p[i]); i++)
			;
		no = sp_cap_unsupported(p[i]);
		if (no)
			return sp_cap_why(why, whylen,
					  "json: %s not supported at %zu", no,
					  i);
		sg = sp_cap_seg(jp, at, why, whylen);
		if (!sg)
			return -1;
		if (p[i] == '\'' || p[i] == '"') {
			if (sp_cap_quoted(jp, sg, &used, p, &i, why, whylen))
				return -1;
		} else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
			if (sp_cap_index(sg, p, &i, why, whylen))
				return -1;
		} else {
			return sp_cap_why(why, whylen,
					  "json: expected a quoted name or an "
					  "index at %zu",
					  i);
		}
		for (; sp_cap_blank(p[i]); i++)
			;
		no = sp_cap_unsupported(p[i]);
		if (no)
			return sp_cap_why(why, whylen,
					  "json: %s not supported at %zu", no,
					  i);
		if (p[i] != ']')
			return sp_cap_why(why, whylen,
					  "json: expected ']' at %zu", i);
		i++;
	}
	return 0;
}

/* ---- the scanner ---- */

struct sp_cap_scan {
	const uint8_t *p;
	size_t n, pos;
	int eof;	   /* the result at the end of the buffer */
	bool complete;	   /* the buffer is the whole document */
	unsigned int depth; /* containers the path has entered */
};

/* Where a string's bytes go while it is read. */
enum sp_cap_sink_mode {
	SP_CAP_SKIP,
	SP_CAP_COMPARE, /* with want[0 .. wlen): same is the answer */
	SP_CAP_COPY,	/* into out[0 .. cap): len, over */
};

struct sp_cap_sink {
	uint8_t mode;
	bool same, over;
	const uint8_t *want;
	uint32_t wlen;
	char *out;
	uint32_t cap, len;
};

static void
sp_cap_put(struct sp_cap_sink *k, const uint8_t *b, size_t n)
{
	switch (k->mode) {
	case SP_CAP_COMPARE:
		if (k->same &&
		    (n > k->wlen - k->len || memcmp(k->want + k->len, b, n)))
			k->same = false;
		else if (k->same)
			k->len += (uint32_t)n;
		break;
	case SP_CAP_COPY:
		if (k->over || n > k->cap - k->len) {
			k->over = true;
			break;
		}
		memcpy(k->out + k->len, b, n);
		k->len += (uint32_t)n;
		break;
	default:
		break;
	}
}

static void
sp_cap_ws(struct sp_cap_scan *s)
{
	while (s->pos < s->n && sp_cap_blank(s->p[s->pos]))
		s->pos++;
}

/* The string whose opening quote is at s->pos, through @k; s->pos ends
 * past its closing quote. */
static int
sp_cap_string(struct sp_cap_scan *s, struct sp_cap_sink *k)
{
	const uint8_t *p = s->p;
	size_t i = s->pos + 1, run;
	unsigned int olen;
	uint8_t o[4];
	int e;

	for (;;) {
		/* A run of plain ASCII, given to the sink at once. */
		for (run = i; i < s->n && p[i] >= 0x20 && p[i] < 0x80 &&
			      p[i] != '"' && p[i] != '\\';
		     i++)
			;
		if (i > run)
			sp_cap_put(k, p + run, i - run);
		if (i == s->n)
			return s->eof;
		if (p[i] == '"')
			break;
		if (p[i] < 0x20)
			return SP_CAPTURE_MALFORMED;
		if (p[i] == '\\') {
			e = sp_cap_escape(p + i + 1, s->n - i - 1, false, o,
					  &olen);
			if (e < 0)
				return SP_CAPTURE_MALFORMED;
			if (e == 0)
				return s->eof;
			sp_cap_put(k, o, olen);
			i += 1 + (size_t)e;
			continue;
		}
		e = sp_cap_utf8_len(p + i, s->n - i);
		if (e < 0)
			return SP_CAPTURE_MALFORMED;
		if (e == 0)
			return s->eof;
		sp_cap_put(k, p + i, (size_t)e);
		i += (size_t)e;
	}
	s->pos = i + 1;
	return 0;
}

/* After a number or a literal that ends at s->pos, inside @depth
 * containers: what may follow it. */
static int
sp_cap_scalar_end(const struct sp_cap_scan *s, unsigned int depth)
{
	uint8_t c;

	if (s->pos == s->n)
		return depth == 0 && s->complete ? 0 : s->eof;
	c = s->p[s->pos];
	if (sp_cap_blank(c))
		return 0;
	if (depth > 0 && (c == ',' || c == ']' || c == '}'))
		return 0;
	return SP_CAPTURE_MALFORMED;
}

static bool
sp_cap_digit(const struct sp_cap_scan *s)
{
	return s->pos < s->n && s->p[s->pos] >= '0' && s->p[s->pos] <= '9';
}

/* At least one digit, or why not. */
static int
sp_cap_digits(struct sp_cap_scan *s)
{
	if (s->pos == s->n)
		return s->eof;
	if (!sp_cap_digit(s))
		return SP_CAPTURE_MALFORMED;
	while (sp_cap_digit(s))
		s->pos++;
	return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
sp_cap_number(struct sp_cap_scan *s, unsigned int depth)
{
	int r;

	if (s->p[s->pos] == '-')
		s->pos++;
	if (s->pos == s->n)
		return s->eof;
	if (s->p[s->pos] == '0') {
		s->pos++;
		if (sp_cap_digit(s))
			return SP_CAPTURE_MALFORMED;
	} else if ((r = sp_cap_digits(s)) != 0) {
		return r;
	}
	if (s->pos < s->n && s->p[s->pos] == '.') {
		s->pos++;
		if ((r = sp_cap_digits(s)) != 0)
			return r;
	}
	if (s->pos < s->n && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->n &&
		    (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
			s->pos++;
		if ((r = sp_cap_digits(s)) != 0)
			return r;
	}
	return sp_cap_scalar_end(s, depth);
}

static int
sp_cap_literal(struct sp_cap_scan *s, const char *lit, unsigned int depth)
{
	for (; *lit; lit++, s->pos++) {
		if (s->pos == s->n)
			return s->eof;
		if (s->p[s->pos] != (uint8_t)*lit)
			return SP_CAPTURE_MALFORMED;
	}
	return sp_cap_scalar_end(s, depth);
}

/* A value that is not a container, at s->pos (a byte is there). */
static int
sp_cap_scalar(struct sp_cap_scan *s, unsigned int depth,
	      struct sp_cap_sink *k)
{
	switch (s->p[s->pos]) {
	case '"':
		return sp_cap_string(s, k);
	case 't':
		return sp_cap_literal(s, "true", depth);
	case 'f':
		return sp_cap_literal(s, "false", depth);
	case 'n':
		return sp_cap_literal(s, "null", depth);
	default:
		if (s->p[s->pos] == '-' ||
		    (s->p[s->pos] >= '0' && s->p[s->pos] <= '9'))
			return sp_cap_number(s, depth);
		return SP_CAPTURE_MALFORMED;
	}
}

/* An object's member name and its colon, from s->pos; s->pos ends at
 * the value (blanks skipped). */
static int
sp_cap_member(struct sp_cap_scan *s, struct sp_cap_sink *k)
{
	int r;

	sp_cap_ws(s);
	if (s->pos == s->n)
		return s->eof;
	if (s->p[s->pos] != '"')
		return SP_CAPTURE_MALFORMED;
	if ((r = sp_cap_string(s, k)) != 0)
		return r;
	sp_cap_ws(s);
	if (s->pos == s->n)
		return s->eof;
	if (s->p[s->pos] != ':')
		return SP_CAPTURE_MALFORMED;
	s->pos++;
	sp_cap_ws(s);
	return 0;
}

/*
 * Skip the value at s->pos (blanks skipped; the end of the buffer is
 * handled), checking it. @obj's bit 0 is the innermost open container
 * (1: an object), @d how many are open inside the skipped value.
 */
static int
sp_cap_skip(struct sp_cap_scan *s)
{
	struct sp_cap_sink skip = {.mode = SP_CAP_SKIP};
	uint64_t obj = 0;
	unsigned int d = 0;
	uint8_t c;
	int r;

	for (;;) {
		/* A value starts here. */
		sp_cap_ws(s);
		if (s->pos == s->n)
			return s->eof;
		c = s->p[s->pos];
		if (c == '{' || c == '[') {
			if (s->depth + d + 1 > SP_JSON_MAX_DEPTH)
				return SP_CAPTURE_MALFORMED;
			obj = obj << 1 | (c == '{');
			d++;
			s->pos++;
			sp_cap_ws(s);
			if (s->pos == s->n)
				return s->eof;
			if (s->p[s->pos] != (obj & 1 ? '}' : ']')) {
				if (obj & 1 &&
				    (r = sp_cap_member(s, &skip)) != 0)
					return r;
				continue;
			}
			/* Empty: closed below, as after a last value. */
		} else if ((r = sp_cap_scalar(s, s->depth + d, &skip)) != 0) {
			return r;
		}
		/* After a value: close what ends here, up to a comma. */
		for (;;) {
			if (d == 0)
				return 0;
			sp_cap_ws(s);
			if (s->pos == s->n)
				return s->eof;
			c = s->p[s->pos];
			if (c == (obj & 1 ? '}' : ']')) {
				s->pos++;
				obj >>= 1;
				d--;
				continue;
			}
			if (c != ',')
				return SP_CAPTURE_MALFORMED;
			s->pos++;
			if (obj & 1 && (r = sp_cap_member(s, &skip)) != 0)
				return r;
			break;
		}
	}
}

/* After a member's or an element's value: ',' to go on (0), or the
 * container's end (NOT_FOUND: what we look for is not in it). */
static int
sp_cap_next(struct sp_cap_scan *s, uint8_t close)
{
	sp_cap_ws(s);
	if (s->pos == s->n)
		return s->eof;
	if (s->p[s->pos] == close) {
		s->pos++;
		return SP_CAPTURE_NOT_FOUND;
	}
	if (s->p[s->pos] != ',')
		return SP_CAPTURE_MALFORMED;
	s->pos++;
	return 0;
}

/* Enter the container at s->pos; 1 when it is empty (its end read). */
static int
sp_cap_enter(struct sp_cap_scan *s, uint8_t close)
{
	if (s->depth + 1 > SP_JSON_MAX_DEPTH)
		return -SP_CAPTURE_MALFORMED;
	s->depth++;
	s->pos++;
	sp_cap_ws(s);
	if (s->pos == s->n)
		return -s->eof;
	if (s->p[s->pos] == close) {
		s->pos++;
		return 1;
	}
	return 0;
}

/* In the object at s->pos, the first member named @want: s->pos ends at
 * its value. */
static int
sp_cap_find_key(struct sp_cap_scan *s, const uint8_t *want, uint32_t wlen)
{
	struct sp_cap_sink k = {.mode = SP_CAP_COMPARE, .want = want,
				.wlen = wlen};
	int r;

	r = sp_cap_enter(s, '}');
	if (r)
		return r > 0 ? SP_CAPTURE_NOT_FOUND : -r;
	for (;;) {
		k.same = true;
		k.len = 0;
		if ((r = sp_cap_member(s, &k)) != 0)
			return r;
		if (k.same && k.len == wlen)
			return 0;
		if ((r = sp_cap_skip(s)) != 0 || (r = sp_cap_next(s, '}')) != 0)
			return r;
	}
}

/* In the array at s->pos, the element @index (< 0: from the end): s->pos
 * ends at it. */
static int
sp_cap_find_index(struct sp_cap_scan *s, int64_t index)
{
	size_t start;
	int64_t count;
	int r;

	r = sp_cap_enter(s, ']');
	if (r)
		return r > 0 ? SP_CAPTURE_NOT_FOUND : -r;
	start = s->pos;
	if (index < 0) {
		/* Count the elements, then walk again to the one wanted. */
		for (count = 1;; count++)
			if ((r = sp_cap_skip(s)) != 0 ||
			    (r = sp_cap_next(s, ']')) != 0)
				break;
		if (r != SP_CAPTURE_NOT_FOUND || count + index < 0)
			return r;
		index += count;
		s->pos = start;
	}
	for (int64_t at = 0;; at++) {
		sp_cap_ws(s);
		if (at == index)
			return 0;
		if ((r = sp_cap_skip(s)) != 0 || (r = sp_cap_next(s, ']')) != 0)
			return r;
	}
}

/* The value at s->pos, into the caller's buffer. */
static int
sp_cap_value(struct sp_cap_scan *s, char *out, uint32_t cap, uint32_t *len)
{
	struct sp_cap_sink k = {.mode = SP_CAP_COPY, .out = out, .cap = cap};
	size_t start = s->pos;
	int r;

	if (s->p[s->pos] == '"') {
		if ((r = sp_cap_string(s, &k)) != 0)
			return r;
		if (k.over)
			return SP_CAPTURE_TOO_LONG;
		*len = k.len;
		return SP_CAPTURE_FOUND;
	}
	if ((r = sp_cap_skip(s)) != 0)
		return r;
	if (s->pos - start > cap)
		return SP_CAPTURE_TOO_LONG;
	memcpy(out, s->p + start, s->pos - start);
	*len = (uint32_t)(s->pos - start);
	return SP_CAPTURE_FOUND;
}

/* Whether @c can start a JSON value (a step of the wrong type on it is
 * NOT_FOUND; on anything else, MALFORMED). */
static bool
sp_cap_value_start(uint8_t c)
{
	return c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' ||
	       c == 'n' || c == '-' || (c >= '0' && c <= '9');
}

int
sp_jsonpath_extract(const struct sp_jsonpath *jp, const uint8_t *buf,
		    size_t n, int complete, char *out, uint32_t cap,
		    uint32_t *len)
{
	struct sp_cap_scan s = {
		.p = buf,
		.n = n,
		.complete = complete != 0,
		.eof = complete ? SP_CAPTURE_MALFORMED : SP_CAPTURE_TRUNCATED,
	};
	int r;

	*len = 0;
	for (unsigned int i = 0; i < jp->nsegs; i++) {
		const struct sp_jsonpath_seg *sg = &jp->seg[i];
		uint8_t c, open = sg->kind == SP_JSONPATH_KEY ? '{' : '[';

		sp_cap_ws(&s);
		if (s.pos == s.n)
			return s.eof;
		c = s.p[s.pos];
		if (c != open)
			return sp_cap_value_start(c) ? SP_CAPTURE_NOT_FOUND
						     : SP_CAPTURE_MALFORMED;
		if (sg->kind == SP_JSONPATH_KEY)
			r = sp_cap_find_key(&s,
					    (const uint8_t *)jp->keys + sg->off,
					    sg->len);
		else
			r = sp_cap_find_index(&s, sg->index);
		if (r)
			return r;
	}
	sp_cap_ws(&s);
	if (s.pos == s.n)
		return s.eof;
	return sp_cap_value(&s, out, cap, len);
}

const char *
sp_capture_result_name(int r)
{
	static const char *const names[] = {
		[SP_CAPTURE_FOUND] = "found",
		[SP_CAPTURE_NOT_FOUND] = "not_found",
		[SP_CAPTURE_MALFORMED] = "malformed",
		[SP_CAPTURE_TRUNCATED] = "truncated",
		[SP_CAPTURE_TOO_LONG] = "too_long",
	};

	if (r < 0 || (size_t)r >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[r];
}
