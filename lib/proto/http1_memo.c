/*
 * The head memo (sp_http1_memo, see sp_http1.h): the last response head
 * parsed whole, byte for byte, with the parser's state right after it and
 * its field lines' places, so the same head again costs a compare, and
 * on_header still hears its fields.
 */
#include <stddef.h>
#include <string.h>

#include "http1_int.h"

/* The parser's state, configuration aside, from @from. */
_Static_assert(offsetof(struct sp_http1_resp, upgrade_ok) <
		       offsetof(struct sp_http1_resp, status),
	       "sp_http1_resp: the configuration comes before the results");
static void
sp_take_state(struct sp_http1_resp *p, const struct sp_http1_resp *from)
{
	/* Everything from the results on; the configuration stays p's. */
	memcpy(&p->status, &from->status,
	       sizeof(*p) - offsetof(struct sp_http1_resp, status));
}

/* The fields of @m that @p's listener wants (all without a name_wanted):
 * asked once per head and key. */
static uint32_t
sp_memo_want(struct sp_http1_memo *m, const struct sp_http1_resp *p,
	     const uint8_t *buf)
{
	if (p->name_wanted == NULL)
		return UINT32_MAX;
	if (m->want_cb != p->name_wanted || m->want_key != p->name_key) {
		m->want = 0;
		for (uint8_t f = 0; f < m->nfields; f++)
			if (p->name_wanted(p->name_key, buf + m->field[f][0],
					   m->field[f][1]))
				m->want |= UINT32_C(1) << f;
		m->want_cb = p->name_wanted;
		m->want_key = p->name_key;
	}
	return m->want;
}

/* A head memoized byte for byte at @buf: take the state it left. Its
 * parse from a fresh start went the same way, and within the bound. */
size_t
sp_http1_memo_hit(struct sp_http1_resp *p, const uint8_t *buf, size_t len)
{
	struct sp_http1_memo *m = p->memo;

	if (m->h.len > p->max_header_bytes ||
	    (m->after.flags & F_HEAD_REQ) != (p->flags & F_HEAD_REQ) ||
	    (p->on_header != NULL && m->nfields == SP_HTTP1_MEMO_NO_FIELDS) ||
	    !sp_lex_memo_match(&m->h, buf, len))
		return 0;
	sp_take_state(p, &m->after);
	if (p->on_header != NULL) {
		uint32_t want = sp_memo_want(m, p, buf);

		for (uint8_t f = 0; f < m->nfields; f++) {
			const uint8_t *d = m->field[f];

			if (!((want >> f) & 1))
				continue;
			p->on_header(p->header_ctx, SP_HTTP1_HDR_NAME,
				     buf + d[0], d[1]);
			if (d[3] != 0)
				p->on_header(p->header_ctx, SP_HTTP1_HDR_VALUE,
					     buf + d[2], d[3]);
			p->on_header(p->header_ctx, SP_HTTP1_HDR_END,
				     buf + d[2] + d[3], 0);
		}
	}
	return m->h.len;
}

/* The field lines of the head just kept in @m, for on_header's replay:
 * the head parsed well, so its lines are field-name ":" OWS value, each
 * ended by CRLF or a bare LF. A head with an obs-fold is not replayed. */
static void
sp_memo_fields(struct sp_http1_memo *m)
{
	const uint8_t *h = m->h.head;
	uint32_t n = m->h.len, i = 0;

	m->nfields = 0;
	m->want_cb = NULL;
	m->want_key = NULL;
	while (i < n && h[i] != '\n') /* the status line */
		i++;
	for (i++; i < n && h[i] != '\r' && h[i] != '\n';) {
		uint32_t name = i, val, end;

		if (sp_ows(h[i]) || m->nfields == SP_HTTP1_MEMO_FIELDS) {
			m->nfields = SP_HTTP1_MEMO_NO_FIELDS;
			return;
		}
		while (h[i] != ':')
			i++;
		val = i + 1;
		while (val < n && sp_ows(h[val]))
			val++;
		end = val;
		while (end < n && h[end] != '\r' && h[end] != '\n')
			end++;
		m->field[m->nfields][0] = (uint8_t)name;
		m->field[m->nfields][1] = (uint8_t)(i - name);
		m->field[m->nfields][2] = (uint8_t)val;
		m->field[m->nfields][3] = (uint8_t)(end - val);
		m->nfields++;
		i = end + (h[end] == '\r') + 1;
	}
}

/* A head parsed whole from @buf, @n bytes: keep it, if the memo is empty
 * or keeps missing (not one after interim responses). */
void
sp_http1_memo_keep(struct sp_http1_resp *p, const uint8_t *buf, size_t n)
{
	if (p->interim == 0 && sp_lex_memo_keep(&p->memo->h, buf, n)) {
		p->memo->after = *p;
		sp_memo_fields(p->memo);
	}
}
