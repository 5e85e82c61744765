/*
 * HTTP response checks run as a response's bytes arrive (see vu_int.h):
 * the header a check names, the body text it looks for. They read and
 * write their own state (struct sp_vu_checks) only, and call nothing.
 */
#include "vu_int.h"

/* The check's header among the fields, by name, case-insensitively. A
 * name comes in NAME pieces; END closes the field. */
void
sp_vu_on_header(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p,
		size_t n)
{
	struct sp_vu_checks *c = ctx;
	const struct sp_check *ck = c->ck;
	uint32_t m = c->hdr_match;

	if (c->hdr_found || ck->header == NULL)
		return;
	if (part == SP_HTTP1_HDR_END) {
		/* the field's name was all in: is it the check's? */
		c->hdr_found = m == ck->header_len;
		c->hdr_match = 0;
		return;
	}
	if (part != SP_HTTP1_HDR_NAME || m == UINT32_MAX)
		return;
	if (n > ck->header_len - m) {
		c->hdr_match = UINT32_MAX;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (sp_vu_lower(p[i]) !=
		    sp_vu_lower((uint8_t)ck->header[m + i])) {
			c->hdr_match = UINT32_MAX;
			return;
		}
	}
	c->hdr_match = m + (uint32_t)n;
}

void
sp_vu_on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct sp_vu_checks *c = ctx;
	const struct sp_check *ck = c->ck;
	uint32_t k = c->kmp;

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
	c->kmp = k;
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
