/*
 * The virtual users' request builder: templates rendered for one VU's
 * request, and the request around them (see vu_render.h). It calls
 * nothing of the engine's: the engine hands it what a render reads.
 */
#include <string.h>

#include "vu_rand.h"
#include "vu_render.h"

static const char *const sp_method_names[SP_METHOD_N] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
};

static uint32_t
sp_vu_put_u64(uint8_t *out, uint64_t n)
{
	char tmp[SP_TPL_INT_MAX_LEN];
	uint32_t len = 0, i;

	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)tmp[len - 1 - i];
	return len;
}

static uint32_t
sp_vu_put_i64(uint8_t *out, int64_t n)
{
	if (n < 0) {
		out[0] = '-';
		return 1 + sp_vu_put_u64(out + 1, (uint64_t)0 - (uint64_t)n);
	}
	return sp_vu_put_u64(out, (uint64_t)n);
}

/* Render @t at @out (room checked at creation: sp_vu_tpl_max). Integers
 * need no filter: digits and '-' are the same in every encoding. */
static uint32_t
sp_vu_tpl_render(const struct sp_vu_render *rd, const struct sp_tpl *t,
		 uint64_t *rng, uint8_t *out)
{
	const struct sp_data *d = rd->pl->data;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nparts; i++) {
		const struct sp_tpl_part *p = &t->parts[i];

		switch (p->var) {
		case SP_VAR_LITERAL:
			memcpy(out + n, t->text + p->off, p->len);
			n += p->len;
			break;
		case SP_VAR_VU:
			n += sp_vu_put_u64(out + n, rd->vu);
			break;
		case SP_VAR_ITERATION:
			n += sp_vu_put_u64(out + n, rd->iter);
			break;
		case SP_VAR_RANDOM: {
			uint64_t span = (uint64_t)(p->hi - p->lo) + 1;
			uint64_t r = span == 0 ? sp_vu_rand(rng) :
						 sp_vu_below(rng, span);

			n += sp_vu_put_i64(out + n,
					   (int64_t)((uint64_t)p->lo + r));
			break;
		}
		case SP_VAR_DATA: {
			uint32_t cell = rd->row * d->ncols + p->col;

			n += sp_tpl_encode(out + n, d->cells[cell],
					   d->cell_len[cell], p->enc);
			break;
		}
		case SP_VAR_CAPTURE:
		case SP_VAR_SETUP: {
			const uint8_t *slot =
				(p->var == SP_VAR_CAPTURE ? rd->vars :
							    rd->setup_vars) +
				(size_t)p->col * rd->var_slot;
			uint32_t len;

			memcpy(&len, slot, sizeof(len));
			if (len != UINT32_MAX)
				n += sp_tpl_encode(out + n,
						   (const char *)slot +
							   sizeof(len),
						   len, p->enc);
			break;
		}
		default:
			break;
		}
	}
	return n;
}

uint32_t
sp_vu_render_tpl(const struct sp_vu_render *rd, const struct sp_tpl *t,
		 uint8_t *out)
{
	uint64_t rng = rd->seed;

	return sp_vu_tpl_render(rd, t, &rng, out);
}

/* Percent-encoding leaves no forbidden byte, JSON escapes control bytes
 * but not a space, raw leaves everything. */
int
sp_vu_tpl_unsafe(const struct sp_plan *pl, uint32_t row, const struct sp_tpl *t)
{
	const struct sp_data *d = pl->data;

	if (t->ctx == SP_TPL_BODY)
		return 0;
	for (uint32_t i = 0; i < t->nparts; i++) {
		const struct sp_tpl_part *p = &t->parts[i];
		uint32_t cell;

		if (p->var != SP_VAR_DATA || p->enc == SP_ENC_URL)
			continue;
		cell = row * d->ncols + p->col;
		for (uint32_t k = 0; k < d->cell_len[cell]; k++) {
			unsigned char c = (unsigned char)d->cells[cell][k];

			if (!(p->enc == SP_ENC_JSON && c < 0x20) &&
			    !sp_tpl_byte_ok(t->ctx, c))
				return 1;
		}
	}
	return 0;
}

uint64_t
sp_vu_tpl_max(const struct sp_plan *pl, const struct sp_tpl *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < t->nparts; i++) {
		const struct sp_tpl_part *p = &t->parts[i];

		if (p->var == SP_VAR_LITERAL)
			n += p->len;
		else if (p->var == SP_VAR_DATA)
			n += pl->data != NULL ?
				     (uint64_t)pl->data->max_cell_len *
					     sp_tpl_enc_max(p->enc) :
				     0;
		else if (p->var == SP_VAR_CAPTURE || p->var == SP_VAR_SETUP)
			n += (uint64_t)pl->var_max * sp_tpl_enc_max(p->enc);
		else
			n += SP_TPL_INT_MAX_LEN;
	}
	return n;
}

static uint32_t
sp_vu_put(uint8_t *out, uint32_t n, const char *s)
{
	size_t len = strlen(s);

	memcpy(out + n, s, len);
	return n + (uint32_t)len;
}

/* The request; @key: a WebSocket upgrade's Sec-WebSocket-Key, or NULL. */
static uint32_t
sp_vu_build_req(const struct sp_vu_render *rd, const struct sp_request *rq,
		int keep_alive, const char *key, uint8_t *out)
{
	const struct sp_plan *pl = rd->pl;
	uint64_t rng = rd->seed;
	uint32_t n = 0, blen = 0;

	if (rq->has_body)
		blen = sp_vu_tpl_render(rd, &rq->body, &rng, rd->body_scratch);
	n = sp_vu_put(out, n, sp_method_names[rq->method]);
	out[n++] = ' ';
	n += sp_vu_tpl_render(rd, &rq->path, &rng, out + n);
	n = sp_vu_put(out, n, " HTTP/1.1\r\n");
	if (!rq->own_host) {
		n = sp_vu_put(out, n, "Host: ");
		n = sp_vu_put(out, n, pl->host);
		n = sp_vu_put(out, n, "\r\n");
	}
	if (!rq->own_ua && pl->user_agent != NULL) {
		n = sp_vu_put(out, n, "User-Agent: ");
		n = sp_vu_put(out, n, pl->user_agent);
		n = sp_vu_put(out, n, "\r\n");
	}
	n += sp_vu_tpl_render(rd, &rq->headers, &rng, out + n);
	if (rd->cookie_len != 0 && !rq->own_cookie) {
		/* RFC 6265 5.4: one Cookie field. */
		n = sp_vu_put(out, n, "Cookie: ");
		memcpy(out + n, rd->cookie, rd->cookie_len);
		n += rd->cookie_len;
		n = sp_vu_put(out, n, "\r\n");
	}
	if (key != NULL) {
		/* RFC 6455 4.1: the opening handshake's fields. */
		n = sp_vu_put(out, n,
			      "Upgrade: websocket\r\n"
			      "Connection: Upgrade\r\n"
			      "Sec-WebSocket-Key: ");
		n = sp_vu_put(out, n, key);
		n = sp_vu_put(out, n, "\r\nSec-WebSocket-Version: 13\r\n");
		if (rq->ws_subprotocols != NULL) {
			n = sp_vu_put(out, n, "Sec-WebSocket-Protocol: ");
			n = sp_vu_put(out, n, rq->ws_subprotocols);
			n = sp_vu_put(out, n, "\r\n");
		}
	} else if (!keep_alive) {
		n = sp_vu_put(out, n, "Connection: close\r\n");
	}
	if (rq->has_body) {
		n = sp_vu_put(out, n, "Content-Length: ");
		n += sp_vu_put_u64(out + n, blen);
		n = sp_vu_put(out, n, "\r\n");
	}
	n = sp_vu_put(out, n, "\r\n");
	memcpy(out + n, rd->body_scratch, blen);
	return n + blen;
}

uint32_t
sp_vu_build(const struct sp_vu_render *rd, const struct sp_request *rq,
	    int keep_alive, uint8_t *out)
{
	return sp_vu_build_req(rd, rq, keep_alive, NULL, out);
}

uint32_t
sp_vu_build_upgrade(const struct sp_vu_render *rd, const struct sp_request *rq,
		    const char *key, uint8_t *out)
{
	return sp_vu_build_req(rd, rq, 1, key, out);
}

int
sp_vu_req_static(const struct sp_request *rq)
{
	return sp_tpl_is_static(&rq->path) && sp_tpl_is_static(&rq->headers) &&
	       (!rq->has_body || sp_tpl_is_static(&rq->body));
}

uint32_t
sp_vu_path_of(const uint8_t *req, uint32_t n, const uint8_t **path)
{
	uint32_t a = 0, b;

	while (a < n && req[a] != ' ')
		a++;
	b = ++a;
	while (b < n && req[b] != ' ')
		b++;
	*path = req + (a < n ? a : n);
	return b > a ? b - a : 0;
}
