/*
 * The chunked transfer coding's lines (RFC 9112 section 7.1): chunk
 * sizes in hex, chunk extensions by their grammar (skipped, but bounded
 * like a header line), the CRLF after chunk data. The data itself and the
 * trailer section are http1.c's (bulk bytes, field lines).
 */
#include "http1_int.h"

static int
sp_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = sp_lex_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One byte of chunk extensions (sub-state in p->idx, X_*). */
static int
sp_chunk_ext_byte(struct sp_http1_resp *p, uint8_t c)
{
	int ws = c == ' ' || c == '\t', tchar = sp_lex_tchar(c) != 0;

	switch (p->idx) {
	case X_NAME0:
		if (tchar)
			p->idx = X_NAME;
		else if (!ws)
			return SP_HTTP1_E_CHUNK;
		return 0;
	case X_VAL0:
		if (tchar)
			p->idx = X_TOKEN;
		else if (c == '"')
			p->idx = X_QUOTED;
		else if (!ws)
			return SP_HTTP1_E_CHUNK;
		return 0;
	case X_QUOTED:
		/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
		if (c == '"')
			p->idx = X_AFTER;
		else if (c == '\\')
			p->idx = X_QPAIR;
		else if (!sp_lex_vchar(c))
			return SP_HTTP1_E_CHUNK;
		return 0;
	case X_QPAIR:
		/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
		if (!sp_lex_vchar(c))
			return SP_HTTP1_E_CHUNK;
		p->idx = X_QUOTED;
		return 0;
	default:
		break;
	}
	/* X_NAME, X_NAME_WS, X_TOKEN, X_AFTER: a name or value may go on,
	 * BWS, the next extension, '=' after a name, or the line's end. */
	if (tchar && (p->idx == X_NAME || p->idx == X_TOKEN))
		return 0;
	if (ws) {
		p->idx = p->idx == X_NAME || p->idx == X_NAME_WS ? X_NAME_WS :
								   X_AFTER;
		return 0;
	}
	if (c == ';') {
		p->idx = X_NAME0;
		return 0;
	}
	if (c == '=' && (p->idx == X_NAME || p->idx == X_NAME_WS)) {
		p->idx = X_VAL0;
		return 0;
	}
	if (c == '\r')
		return sp_http1_line_end(p, c, EOL_CHUNK_SIZE, ST_CHUNK_LF);
	return SP_HTTP1_E_CHUNK;
}

int
sp_http1_chunk_byte(struct sp_http1_resp *p, uint8_t c)
{
	int d;

	/* chunk extensions are skipped but bounded like a header line */
	if (p->state != ST_CHUNK_LF && p->state != ST_CHUNK_DATA_END &&
	    ++p->line_bytes > p->max_header_bytes)
		return SP_HTTP1_E_CHUNK;
	switch (p->state) {
	case ST_CHUNK_SIZE:
		d = sp_hex(c);
		if (d >= 0) {
			if (p->remaining > UINT64_MAX >> 4)
				return SP_HTTP1_E_CHUNK;
			p->remaining = p->remaining << 4 | (uint64_t)d;
			p->idx = 1;
			break;
		}
		if (!p->idx)
			return SP_HTTP1_E_CHUNK;
		if (c == ' ' || c == '\t') {
			p->state = ST_CHUNK_WS;
		} else if (c == ';') {
			p->state = ST_CHUNK_EXT;
			p->idx = X_NAME0;
		} else if (c == '\r') {
			return sp_http1_line_end(p, c, EOL_CHUNK_SIZE,
						 ST_CHUNK_LF);
		} else {
			return SP_HTTP1_E_CHUNK; /* a bare LF too */
		}
		break;
	case ST_CHUNK_WS:
		if (c == ';') {
			p->state = ST_CHUNK_EXT;
			p->idx = X_NAME0;
		} else if (c == '\r') {
			return sp_http1_line_end(p, c, EOL_CHUNK_SIZE,
						 ST_CHUNK_LF);
		} else if (c != ' ' && c != '\t') {
			return SP_HTTP1_E_CHUNK;
		}
		break;
	case ST_CHUNK_EXT:
		return sp_chunk_ext_byte(p, c);
	case ST_CHUNK_DATA_END:
		/* chunk-data is followed by CRLF, no bare LF (section 7.1) */
		if (c != '\r')
			return SP_HTTP1_E_CHUNK;
		return sp_http1_line_end(p, c, EOL_CHUNK_DATA, ST_CHUNK_LF);
	default: /* ST_CHUNK_LF */
		if (c != '\n')
			return SP_HTTP1_E_CHUNK;
		return sp_http1_eol(p, p->eol);
	}
	return 0;
}
