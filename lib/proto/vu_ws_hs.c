/*
 * The WebSocket upgrade's 101, checked as its header fields pass (the
 * HTTP/1.1 client's header callback): Upgrade and Connection tokens,
 * Sec-WebSocket-Accept exactly once, a subprotocol among those offered,
 * no extension (RFC 6455 4.1). The state is the per-VU union's
 * handshake half (struct sp_vu_ws_hs), until the session takes it over.
 */
#include <string.h>

#include "vu_rand.h"
#include "vu_ws_int.h"

static inline uint8_t
ws_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ---- the upgrade ---- */

void
sp_vu_ws_offer(struct sp_vu_engine *e, struct sp_vu *v,
	       struct sp_vu_checks *chk, char key[SP_WS_KEY_LEN + 1])
{
	struct sp_vu_ws_hs *hs = &ws_of(e, v)->hs;
	uint64_t r0 = sp_vu_rand(&e->rng), r1 = sp_vu_rand(&e->rng);
	char acc[SP_WS_ACCEPT_LEN + 1];

	memset(hs, 0, sizeof(*hs));
	sp_ws_key(r0, r1, key);
	sp_ws_accept(key, SP_WS_KEY_LEN, acc);
	memcpy(hs->accept, acc, SP_WS_ACCEPT_LEN);
	hs->chk = chk;
	hs->offer = sp_vu_req(e, v)->ws_subprotocols;
}

void *
sp_vu_ws_hs_ctx(struct sp_vu_engine *e, struct sp_vu *v)
{
	return &ws_of(e, v)->hs;
}

static uint8_t
hs_field(const struct sp_vu_ws_hs *hs)
{
	static const struct {
		const char *name;
		uint8_t f;
	} known[] = {
		{ "upgrade", HF_UPGRADE },
		{ "connection", HF_CONNECTION },
		{ "sec-websocket-accept", HF_ACCEPT },
		{ "sec-websocket-protocol", HF_PROTOCOL },
		{ "sec-websocket-extensions", HF_EXT },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == hs->nlen &&
		    memcmp(known[i].name, hs->name, hs->nlen) == 0)
			return known[i].f;
	return HF_OTHER;
}

/* A comma-separated token list's element matched against @word (case-
 * insensitive; spaces and tabs around elements skipped). */
static void
hs_token_byte(struct sp_vu_ws_hs *hs, const char *word, uint8_t c,
	      uint8_t *found)
{
	size_t wl = strlen(word);

	if (c == ',') {
		if (hs->tpos == wl)
			*found = 1;
		hs->tpos = 0;
		return;
	}
	if (c == ' ' || c == '\t' || hs->tpos == 0xff)
		return;
	if (hs->tpos < wl && ws_lower(c) == (uint8_t)word[hs->tpos])
		hs->tpos++;
	else
		hs->tpos = 0xff;
}

/* Whether the subprotocol chosen (hs->val, vpos bytes) is one offered. */
static int
hs_protocol_offered(const struct sp_vu_ws_hs *hs)
{
	const char *o = hs->offer;
	size_t n = hs->vpos;

	while (n > 0 && (hs->val[n - 1] == ' ' || hs->val[n - 1] == '\t'))
		n--;
	if (o == NULL || n == 0)
		return 0;
	while (*o != '\0') {
		size_t l;

		while (*o == ' ' || *o == ',')
			o++;
		l = strcspn(o, ", ");
		if (l == n && memcmp(o, hs->val, n) == 0)
			return 1;
		o += l;
	}
	return 0;
}

static void
hs_value(struct sp_vu_ws_hs *hs, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (hs->field) {
		case HF_UPGRADE:
			hs_token_byte(hs, "websocket", c, &hs->ok_upgrade);
			break;
		case HF_CONNECTION:
			hs_token_byte(hs, "upgrade", c, &hs->ok_conn);
			break;
		case HF_ACCEPT:
			/* Exactly the value we expect (trailing blanks are
			 * the parser's to keep, ours to ignore). */
			if (hs->vpos < SP_WS_ACCEPT_LEN) {
				if (c != (uint8_t)hs->accept[hs->vpos])
					hs->tpos = 0xff;
				hs->vpos++;
			} else if (c != ' ' && c != '\t') {
				hs->tpos = 0xff;
			}
			break;
		case HF_PROTOCOL:
			if (hs->vpos < sizeof(hs->val))
				hs->val[hs->vpos++] = c;
			else
				hs->bad = 1; /* longer than anything we offer */
			break;
		case HF_EXT:
			/* We offer no extension: none may be chosen (RFC
			 * 6455 4.1, the client's check 5). */
			if (c != ' ' && c != '\t')
				hs->bad = 1;
			break;
		default:
			break;
		}
	}
}

static void
hs_field_end(struct sp_vu_ws_hs *hs)
{
	switch (hs->field) {
	case HF_UPGRADE:
		hs_token_byte(hs, "websocket", ',', &hs->ok_upgrade);
		break;
	case HF_CONNECTION:
		hs_token_byte(hs, "upgrade", ',', &hs->ok_conn);
		break;
	case HF_ACCEPT:
		if (hs->ok_accept || hs->tpos == 0xff ||
		    hs->vpos < SP_WS_ACCEPT_LEN)
			hs->bad = 1; /* wrong, or twice */
		else
			hs->ok_accept = 1;
		break;
	case HF_PROTOCOL:
		/* One of ours, once (check 6). */
		if (!hs_protocol_offered(hs))
			hs->bad = 1;
		hs->offer = NULL;
		break;
	default:
		break;
	}
	hs->nlen = 0;
	hs->field = HF_OTHER;
	hs->fknown = 0;
	hs->vpos = 0;
	hs->tpos = 0;
}

void
sp_vu_ws_on_header(void *ctx, enum sp_http1_hdr_part part, const uint8_t *p,
		   size_t n)
{
	struct sp_vu_ws_hs *hs = ctx;

	if (hs->chk->ck->header != NULL)
		sp_vu_on_header(hs->chk, part, p, n);
	switch (part) {
	case SP_HTTP1_HDR_NAME:
		for (size_t i = 0; i < n && hs->nlen != 0xff; i++) {
			if (hs->nlen == sizeof(hs->name))
				hs->nlen = 0xff;
			else
				hs->name[hs->nlen++] = ws_lower(p[i]);
		}
		break;
	case SP_HTTP1_HDR_VALUE:
	case SP_HTTP1_HDR_END:
		if (!hs->fknown) {
			hs->field = hs->nlen == 0xff ? HF_OTHER : hs_field(hs);
			hs->fknown = 1;
		}
		if (part == SP_HTTP1_HDR_VALUE)
			hs_value(hs, p, n);
		else
			hs_field_end(hs);
		break;
	}
}

int
sp_vu_ws_handshake_ok(struct sp_vu_engine *e, struct sp_vu *v)
{
	const struct sp_vu_ws_hs *hs = &ws_of(e, v)->hs;

	return hs->ok_upgrade && hs->ok_conn && hs->ok_accept && !hs->bad;
}
