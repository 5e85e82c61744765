/*
 * Lexical pieces the HTTP/1.1 response and request parsers share: the
 * RFC 9110 character classes, by table, and a matcher that narrows a set of
 * up to 8 known words byte by byte (header names, list tokens, methods).
 * Internal to lib/proto.
 */
#ifndef SP_HTTP1_LEX_H
#define SP_HTTP1_LEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sp_http1_memo.h"

enum {
	SP_LEX_TCHAR = 1, /* token = 1*tchar, RFC 9110 section 5.6.2 */
	/* field-vchar, SP, HTAB and obs-text; NUL, CR, LF and the other
	 * CTLs are not (RFC 9110 section 5.5) */
	SP_LEX_VCHAR = 2,
	SP_LEX_DIGIT = 4,
};
extern const uint8_t sp_lex_class[256];

static inline int
sp_lex_tchar(uint8_t c)
{
	return sp_lex_class[c] & SP_LEX_TCHAR;
}

static inline int
sp_lex_vchar(uint8_t c)
{
	return sp_lex_class[c] & SP_LEX_VCHAR;
}

static inline uint8_t
sp_lex_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* How many bytes from @b on, at most @n, are all of class @cls. */
static inline size_t
sp_lex_span(const uint8_t *b, size_t n, uint8_t cls)
{
	size_t k = 0;

	while (k < n && (sp_lex_class[b[k]] & cls))
		k++;
	return k;
}

/* HTTP-version = HTTP-name "/" DIGIT "." DIGIT (RFC 9112 section 2.3), a
 * byte at a time; *pos counts its bytes taken so far (0 at its start).
 * HTTP-name is case-sensitive; a major version other than 1, or one of two
 * digits, is not supported; a higher 1.x minor is handled as 1.1. What
 * follows the version (SP, or the line's end; a digit there is HTTP/1.10,
 * not supported either) is the caller's. */
enum sp_lex_ver {
	SP_LEX_VER_MORE,
	SP_LEX_VER_DONE, /* the minor digit taken: *minor set */
	SP_LEX_VER_SYNTAX,
	SP_LEX_VER_UNSUPPORTED,
};

static inline enum sp_lex_ver
sp_lex_version(uint8_t *pos, int *minor, uint8_t c)
{
	int digit = c >= '0' && c <= '9';

	switch (*pos) {
	case 5: /* major */
		if (!digit)
			return SP_LEX_VER_SYNTAX;
		if (c != '1')
			return SP_LEX_VER_UNSUPPORTED;
		break;
	case 6:
		if (digit)
			return SP_LEX_VER_UNSUPPORTED; /* HTTP/10.x */
		if (c != '.')
			return SP_LEX_VER_SYNTAX;
		break;
	case 7: /* minor */
		if (!digit)
			return SP_LEX_VER_SYNTAX;
		*minor = c == '0' ? 0 : 1;
		return SP_LEX_VER_DONE;
	default: /* HTTP-name and "/" */
		if (c != (uint8_t) "HTTP/"[*pos])
			return SP_LEX_VER_SYNTAX;
		break;
	}
	(*pos)++;
	return SP_LEX_VER_MORE;
}

struct sp_lex_word {
	const char *s;
	uint8_t len;
};
#define SP_LEX_WORD(lit)                                                       \
	{                                                                      \
		lit, (uint8_t)(sizeof(lit) - 1)                                \
	}

/* Candidates: bit i of *mask for word i; *pos bytes compared so far. */
static inline void
sp_lex_match_start(uint8_t *mask, uint8_t *pos, size_t nwords)
{
	*mask = (uint8_t)((1u << nwords) - 1);
	*pos = 0;
}

/* Drop the candidates that byte @c (folded by the caller where case does
 * not matter) at position *pos rules out. */
static inline void
sp_lex_match_step(uint8_t *mask, uint8_t *pos, const struct sp_lex_word *words,
		  size_t nwords, uint8_t c)
{
	for (size_t i = 0; i < nwords; i++) {
		if (!(*mask & (1u << i)))
			continue;
		if (*pos >= words[i].len || (uint8_t)words[i].s[*pos] != c)
			*mask &= (uint8_t) ~(1u << i);
	}
	if (*pos < 0xff)
		(*pos)++;
}

/* sp_lex_match_step for each of the @k bytes at @b, at once; @fold: compare
 * them lowered. */
static inline void
sp_lex_match_run(uint8_t *mask, uint8_t *pos, const struct sp_lex_word *words,
		 size_t nwords, const uint8_t *b, size_t k, int fold)
{
	for (size_t i = 0; i < nwords; i++) {
		if (!(*mask & (1u << i)))
			continue;
		if (*pos + k > words[i].len) {
			*mask &= (uint8_t) ~(1u << i);
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			uint8_t c = fold ? sp_lex_lower(b[j]) : b[j];

			if (c != (uint8_t)words[i].s[*pos + j]) {
				*mask &= (uint8_t) ~(1u << i);
				break;
			}
		}
	}
	*pos = *pos + k > 0xff ? 0xff : (uint8_t)(*pos + k);
}

/* The candidate that matched exactly, or -1. */
static inline int
sp_lex_match_end(uint8_t mask, uint8_t pos, const struct sp_lex_word *words,
		 size_t nwords)
{
	for (size_t i = 0; i < nwords; i++)
		if ((mask & (1u << i)) && words[i].len == pos)
			return (int)i;
	return -1;
}

/* Where a list element stands (RFC 9110 section 5.6.1 lists): the
 * parsers' vstate. */
enum { SP_LEX_V_BEFORE, SP_LEX_V_IN, SP_LEX_V_AFTER, SP_LEX_V_PARAM };

/*
 * A Content-Length value, a list of decimal elements (RFC 9110 section
 * 8.6): @vstate and @num carry the element being read, @cl and @has_cl
 * what the field said so far. Repeats of one value are accepted, different
 * values are the framing ambiguity smuggling relies on (RFC 9112 section
 * 6.3 rule 5).
 */
/* An element ended (',' or the end of the field): 0, or -1. */
static inline int
sp_lex_cl_element(uint8_t *vstate, uint64_t *num, uint64_t *cl, int *has_cl)
{
	if (*vstate == SP_LEX_V_BEFORE || (*has_cl && *cl != *num))
		return -1;
	*cl = *num;
	*has_cl = 1;
	*num = 0;
	*vstate = SP_LEX_V_BEFORE;
	return 0;
}

/* One value byte other than ',': 0, or -1 (not a digit where one must
 * be, or beyond 64 bits). */
static inline int
sp_lex_cl_byte(uint8_t *vstate, uint64_t *num, uint8_t c)
{
	if (c == ' ' || c == '\t') {
		if (*vstate == SP_LEX_V_IN)
			*vstate = SP_LEX_V_AFTER;
		return 0;
	}
	if (c < '0' || c > '9' || *vstate == SP_LEX_V_AFTER ||
	    *num > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
		return -1;
	*num = *num * 10 + (uint64_t)(c - '0');
	*vstate = SP_LEX_V_IN;
	return 0;
}

/* A head memo (sp_http1_memo.h) holds the @n bytes at @buf, or not. */
static inline int
sp_lex_memo_match(struct sp_http1_head_memo *m, const uint8_t *buf, size_t n)
{
	if (m->len == 0 || n < m->len || memcmp(buf, m->head, m->len) != 0) {
		m->misses++;
		return 0;
	}
	m->misses = 0;
	m->hits++;
	return 1;
}

/* Keep the head of @n bytes at @buf, parsed whole, if the memo is empty
 * or keeps missing; returns whether it did (the caller keeps its state). */
static inline int
sp_lex_memo_keep(struct sp_http1_head_memo *m, const uint8_t *buf, size_t n)
{
	if (n > SP_HTTP1_MEMO_MAX || (m->len != 0 && m->misses < 4))
		return 0;
	memcpy(m->head, buf, n);
	m->len = (uint32_t)n;
	m->misses = 0;
	return 1;
}

#endif /* SP_HTTP1_LEX_H */
