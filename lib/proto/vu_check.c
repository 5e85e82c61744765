/*
 * Response checks the engine runs as a response's bytes arrive (see
 * vu_int.h): the header a check names, the body text it looks for. They
 * read and write the VU's check state only, and call nothing of the
 * engine's.
 */
#include "vu_int.h"

static inline uint8_t
sp_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* "\nName:" case-insensitively, across any split of the head. The pattern
 * has one newline, at its start, so a mismatch restarts at 0 or 1. */
void
sp_vu_match_header(struct sp_vu *v, const struct sp_check *ck,
		   const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !v->hdr_found; i++) {
		uint8_t c = p[i];
		uint32_t m = v->hdr_match;
		int hit;

		if (m == 0)
			hit = c == '\n';
		else if (m <= ck->header_len)
			hit = sp_lower(c) == sp_lower((uint8_t)ck->header[m - 1]);
		else
			hit = c == ':';
		if (hit)
			m++;
		else
			m = c == '\n';
		if (m == ck->header_len + 2)
			v->hdr_found = 1;
		v->hdr_match = (uint16_t)m;
	}
}

void
sp_vu_on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct sp_vu *v = ctx;
	const struct sp_check *ck = v->ck;
	uint32_t k = v->kmp;

	if (ck->body_contains == NULL || k == ck->body_contains_len)
		return;
	for (size_t i = 0; i < n; i++) {
		while (k > 0 && (uint8_t)ck->body_contains[k] != p[i])
			k = ck->body_contains_kmp[k - 1];
		if ((uint8_t)ck->body_contains[k] == p[i])
			k++;
		if (k == ck->body_contains_len)
			break;
	}
	v->kmp = k;
}

enum sp_vu_err
sp_vu_parse_kind(int r)
{
	switch (r) {
	case SP_HTTP1_E_STATUS:
		return SP_VU_E_BAD_STATUS;
	case SP_HTTP1_E_HEADER:
		return SP_VU_E_BAD_HEADER;
	case SP_HTTP1_E_HEADER_TOO_BIG:
		return SP_VU_E_HEADER_TOO_BIG;
	case SP_HTTP1_E_CHUNK:
		return SP_VU_E_BAD_CHUNK;
	case SP_HTTP1_E_LENGTH:
		return SP_VU_E_BAD_LENGTH;
	case SP_HTTP1_E_VERSION:
		return SP_VU_E_BAD_VERSION;
	case SP_HTTP1_E_UPGRADE:
		return SP_VU_E_UPGRADE;
	default:
		return SP_VU_E_TRUNCATED;
	}
}
