/*
 * HTTP/1.1 response parser (RFC 9112, RFC 9110); requests are built by
 * the engine's one builder, vu_render.c.
 *
 * One state per syntactic position; a byte is looked at once, so any split
 * of the input gives the same result as the whole. The start line and field
 * lines (headers, trailers) end in CRLF or a bare LF (RFC 9112 section 2.2
 * lets a recipient accept LF alone there, and only there); a CR must be
 * followed by LF. Chunk lines end in CRLF, nothing else (section 7.1).
 * A response read with such a leniency (a bare LF, an obs-fold, TE beside
 * Content-Length or in HTTP/1.0) is accepted but marked: its connection is
 * not reused, as another reader of the same bytes may have framed them
 * otherwise. Header names are matched case-insensitively
 * against the few we interpret as they stream past, without copying them:
 * a bit mask holds the candidates still possible. Content-Length,
 * Transfer-Encoding and Connection values are parsed the same way.
 * Bodies are consumed in bulk: Content-Length, chunked, or until EOF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http1_int.h"

static const struct sp_lex_word sp_hdr_names[] = {
	SP_LEX_WORD("content-length"),
	SP_LEX_WORD("transfer-encoding"),
	SP_LEX_WORD("connection"),
};
static const struct sp_lex_word sp_te_words[] = { SP_LEX_WORD("chunked") };
static const struct sp_lex_word sp_conn_words[] = {
	SP_LEX_WORD("close"),
	SP_LEX_WORD("keep-alive"),
};

static void
sp_match_start(struct sp_http1_resp *p, size_t nwords)
{
	sp_lex_match_start(&p->mask, &p->pos, nwords);
}

/* Drop the candidates that byte @c at position p->pos rules out; the
 * words here are all case-insensitive. */
static void
sp_match_step(struct sp_http1_resp *p, const struct sp_lex_word *words,
	      size_t nwords, uint8_t c)
{
	sp_lex_match_step(&p->mask, &p->pos, words, nwords, sp_lex_lower(c));
}

static int
sp_match_end(const struct sp_http1_resp *p, const struct sp_lex_word *words,
	     size_t nwords)
{
	return sp_lex_match_end(p->mask, p->pos, words, nwords);
}

/* A Content-Length element ended (sp_lex_cl_element). */
static int
sp_cl_element(struct sp_http1_resp *p)
{
	int has = (p->flags & F_HAS_CL) != 0;

	if (sp_lex_cl_element(&p->vstate, &p->num, &p->content_length, &has) <
	    0)
		return SP_HTTP1_E_LENGTH;
	p->flags |= F_HAS_CL;
	return 0;
}

/* A Transfer-Encoding or Connection list element ended; empty elements
 * are skipped (RFC 9110 section 5.6.1). */
static void
sp_token_element(struct sp_http1_resp *p)
{
	int w;

	if (p->vstate == SP_LEX_V_BEFORE)
		return;
	if (p->hdr == H_TE) {
		w = sp_match_end(p, sp_te_words, 1);
		/* Only the last coding decides (RFC 9112 section 6.3 rule 4). */
		p->flags |= F_HAS_TE;
		if (w == 0)
			p->flags |= F_TE_CHUNKED;
		else
			p->flags &= (uint8_t)~F_TE_CHUNKED;
	} else {
		w = sp_match_end(p, sp_conn_words, 2);
		if (w == 0)
			p->flags |= F_CONN_CLOSE;
		else if (w == 1)
			p->flags |= F_CONN_KEEP;
	}
	p->vstate = SP_LEX_V_BEFORE;
}

/* One byte of an interpreted header's value (already checked to be a
 * value char). */
static int
sp_value_byte(struct sp_http1_resp *p, uint8_t c)
{
	int ws = c == ' ' || c == '\t';

	if (p->hdr == H_CL) {
		if (c == ',')
			return sp_cl_element(p);
		return sp_lex_cl_byte(&p->vstate, &p->num, c) < 0 ?
			       SP_HTTP1_E_LENGTH :
			       0;
	}
	if (c == ',') {
		sp_token_element(p);
		return 0;
	}
	if (ws) {
		if (p->vstate == SP_LEX_V_IN)
			p->vstate = SP_LEX_V_AFTER;
		return 0;
	}
	if (c == ';') {
		/* transfer parameters: not "chunked" alone any more, but the
		 * element still counts as a coding */
		if (p->vstate != SP_LEX_V_BEFORE)
			p->mask = 0;
		p->vstate = SP_LEX_V_PARAM;
		return 0;
	}
	if (p->vstate == SP_LEX_V_BEFORE) {
		sp_match_start(p, p->hdr == H_TE ? 1 : 2);
		p->vstate = SP_LEX_V_IN;
	}
	if (p->vstate == SP_LEX_V_IN) {
		if (p->hdr == H_TE)
			sp_match_step(p, sp_te_words, 1, c);
		else
			sp_match_step(p, sp_conn_words, 2, c);
	} else if (p->vstate == SP_LEX_V_AFTER) {
		p->mask = 0; /* "keep alive": two words, no token */
	}                    /* SP_LEX_V_PARAM: parameters are skipped */
	return 0;
}

/* A header field (with any obs-fold continuation) ended. */
static int
sp_header_end(struct sp_http1_resp *p)
{
	p->flags &= (uint8_t)~F_PENDING;
	if (p->hdr == H_CL)
		return sp_cl_element(p);
	if (p->hdr != H_NONE)
		sp_token_element(p);
	return 0;
}

/* Forget what a head said, for the next head (1xx, or a new response). */
static void
sp_head_reset(struct sp_http1_resp *p)
{
	p->flags &= F_HEAD_REQ;
	p->state = ST_VER;
	p->idx = 0;
	p->hdr = H_NONE;
	p->num = 0;
	p->content_length = 0;
}

/* The empty line ended the head or the trailer section: choose how the
 * body is delimited (RFC 9112 section 6.3, rules in order). */
static int
sp_head_end(struct sp_http1_resp *p)
{
	if (p->flags & F_TRAILER) {
		p->state = ST_DONE;
		return SP_HTTP1_DONE;
	}
	/* 1xx are interim; the final response follows (RFC 9110 section
	 * 15.2). 101 is final: the connection then speaks another protocol,
	 * but only one the request asked for (RFC 9110 section 7.8): to a
	 * request without Upgrade it is an error, and the connection is
	 * unusable. */
	if (p->status == 101 && !p->upgrade_ok)
		return SP_HTTP1_E_UPGRADE;
	if (p->status < 200 && p->status != 101) {
		p->interim++;
		sp_head_reset(p);
		return 0;
	}
	/* RFC 9112 section 9.3: HTTP/1.0 closes unless keep-alive is asked
	 * for; "close" ends persistence in any version. */
	p->must_close = (p->flags & F_CONN_CLOSE) ||
			(p->minor == 0 && !(p->flags & F_CONN_KEEP));
	/* Rule 1: no body after HEAD, 1xx, 204, 304. */
	if ((p->flags & F_HEAD_REQ) || p->status == 101 || p->status == 204 ||
	    p->status == 304) {
		p->state = ST_DONE;
		return SP_HTTP1_DONE;
	}
	if (p->flags & F_HAS_TE) {
		/* Rule 3: TE overrides CL, but the message smells of
		 * smuggling: do not reuse the connection. An HTTP/1.0 message
		 * with TE has faulty framing (section 6.1): close after it. */
		if ((p->flags & F_HAS_CL) || p->minor == 0)
			p->must_close = p->lenient = 1;
		if (p->flags & F_TE_CHUNKED) {
			p->state = ST_CHUNK_SIZE;
			p->idx = 0;
			p->remaining = 0;
			p->line_bytes = 0;
			return 0;
		}
		/* Rule 4: chunked not last: the body runs to EOF. */
		p->must_close = 1;
		p->state = ST_BODY_CLOSE;
		return 0;
	}
	if (p->flags & F_HAS_CL) {
		/* Rule 5 */
		p->remaining = p->content_length;
		if (!p->remaining) {
			p->state = ST_DONE;
			return SP_HTTP1_DONE;
		}
		p->state = ST_BODY_LEN;
		return 0;
	}
	/* Rule 8: read until the server closes. */
	p->must_close = 1;
	p->state = ST_BODY_CLOSE;
	return 0;
}

/* A line ended (its LF consumed). */
int
sp_http1_eol(struct sp_http1_resp *p, uint8_t what)
{
	switch (what) {
	case EOL_STATUS:
		p->state = ST_HLINE;
		break;
	case EOL_HEADER:
		/* finished at the next line's first byte: it may be a fold */
		p->flags |= F_PENDING;
		p->state = ST_HLINE;
		break;
	case EOL_EMPTY:
		return sp_head_end(p);
	case EOL_CHUNK_SIZE:
		if (p->remaining) {
			p->state = ST_CHUNK_DATA;
		} else {
			/* last-chunk: the trailer section follows (section
			 * 7.1.2), parsed as headers and not interpreted */
			p->flags = (uint8_t)((p->flags & ~F_PENDING) |
					     F_TRAILER);
			p->hdr = H_NONE;
			p->state = ST_HLINE;
		}
		break;
	default: /* EOL_CHUNK_DATA */
		p->state = ST_CHUNK_SIZE;
		p->idx = 0;
		p->line_bytes = 0;
		break;
	}
	return 0;
}

/* CR or LF ending a line in state-specific context @what: a start or
 * field line (a chunk line takes CR only). */
int
sp_http1_line_end(struct sp_http1_resp *p, uint8_t c, uint8_t what,
		  uint8_t lf_state)
{
	if (c == '\n') {
		p->lenient = 1;
		return sp_http1_eol(p, what);
	}
	p->eol = what;
	p->state = lf_state;
	return 0;
}

static int
sp_status_byte(struct sp_http1_resp *p, uint8_t c)
{
	switch (p->state) {
	case ST_VER:
		switch (sp_lex_version(&p->idx, &p->minor, c)) {
		case SP_LEX_VER_MORE:
			break;
		case SP_LEX_VER_DONE:
			p->state = ST_VER_SP;
			break;
		case SP_LEX_VER_SYNTAX:
			return SP_HTTP1_E_STATUS;
		default:
			return SP_HTTP1_E_VERSION;
		}
		break;
	case ST_VER_SP:
		if (c >= '0' && c <= '9')
			return SP_HTTP1_E_VERSION; /* HTTP/1.10 */
		if (c != ' ')
			return SP_HTTP1_E_STATUS;
		p->state = ST_CODE;
		p->idx = 0;
		p->status = 0;
		break;
	case ST_CODE:
		/* status-code = 3DIGIT, first digit the class 1..9 */
		if (c < '0' || c > '9' || (p->idx == 0 && c == '0'))
			return SP_HTTP1_E_STATUS;
		p->status = p->status * 10 + (c - '0');
		if (++p->idx == 3)
			p->state = ST_CODE_END;
		break;
	case ST_CODE_END:
		/* the SP before an empty reason is often missing: accept */
		if (c == ' ')
			p->state = ST_REASON;
		else if (c == '\r' || c == '\n')
			return sp_http1_line_end(p, c, EOL_STATUS, ST_HEAD_LF);
		else
			return SP_HTTP1_E_STATUS;
		break;
	default: /* ST_REASON */
		if (c == '\r' || c == '\n')
			return sp_http1_line_end(p, c, EOL_STATUS, ST_HEAD_LF);
		if (!sp_lex_vchar(c))
			return SP_HTTP1_E_STATUS;
		break;
	}
	return 0;
}

static int
sp_header_byte(struct sp_http1_resp *p, uint8_t c)
{
	int rc;

	switch (p->state) {
	case ST_HLINE:
		if ((c == ' ' || c == '\t') && (p->flags & F_PENDING)) {
			/* obs-fold: a user agent replaces it with SP
			 * (RFC 9112 section 5.2) */
			p->lenient = 1;
			p->flags &= (uint8_t)~F_PENDING;
			p->state = ST_HVALUE;
			return p->hdr == H_NONE ? 0 : sp_value_byte(p, ' ');
		}
		if (p->flags & F_PENDING) {
			rc = sp_header_end(p);
			if (rc)
				return rc;
		}
		if (c == '\r' || c == '\n')
			return sp_http1_line_end(p, c, EOL_EMPTY, ST_HEAD_LF);
		/* whitespace before the first field is not a fold */
		if (!sp_lex_tchar(c))
			return SP_HTTP1_E_HEADER;
		sp_match_start(p, 3);
		sp_match_step(p, sp_hdr_names, 3, c);
		p->state = ST_HNAME;
		break;
	case ST_HNAME:
		if (c == ':') {
			/* trailers never change framing (section 7.1.2) */
			rc = sp_match_end(p, sp_hdr_names, 3);
			p->hdr = rc < 0 || (p->flags & F_TRAILER) ? H_NONE :
								    (uint8_t)rc;
			p->vstate = SP_LEX_V_BEFORE;
			p->num = 0;
			p->state = ST_HVALUE;
			break;
		}
		/* no whitespace before the colon (section 5.1) */
		if (!sp_lex_tchar(c))
			return SP_HTTP1_E_HEADER;
		sp_match_step(p, sp_hdr_names, 3, c);
		break;
	default: /* ST_HVALUE */
		if (c == '\r' || c == '\n')
			return sp_http1_line_end(p, c, EOL_HEADER, ST_HEAD_LF);
		if (!sp_lex_vchar(c))
			return SP_HTTP1_E_HEADER;
		if (p->hdr != H_NONE)
			return sp_value_byte(p, c);
		break;
	}
	return 0;
}

/* Whether the head being read is the one on_header hears of: the final
 * response's, not an interim one's nor the trailers. */
static int
sp_head_reported(const struct sp_http1_resp *p)
{
	return !(p->flags & F_TRAILER) &&
	       (p->status >= 200 || p->status == 101);
}

/* A value's first bytes after its leading whitespace: from @from on in
 * @buf, up to @to. */
static void
sp_value_begins(struct sp_http1_resp *p, const uint8_t *buf, size_t from,
		size_t to, size_t *mark)
{
	while (from < to && sp_ows(buf[from]))
		from++;
	if (from < to) {
		p->hpart = HP_VALUE;
		*mark = from;
	}
}

/* sp_header_byte for buf[@i], telling on_header what the byte began or
 * ended. @mark: where the piece being read began in @buf. */
static int
sp_header_byte_cb(struct sp_http1_resp *p, const uint8_t *buf, size_t i,
		  size_t *mark)
{
	uint8_t st = p->state, pend = p->flags & F_PENDING, c = buf[i];
	int rc;

	if (st == ST_HVALUE && p->hpart >= HP_VALUE_OWS &&
	    (c == '\r' || c == '\n')) {
		if (p->hpart == HP_VALUE && i > *mark)
			p->on_header(p->header_ctx, SP_HTTP1_HDR_VALUE,
				     buf + *mark, i - *mark);
		p->hpart = HP_LINE_END;
	} else if (st == ST_HVALUE && p->hpart == HP_VALUE_OWS) {
		sp_value_begins(p, buf, i, i + 1, mark);
	}
	rc = sp_header_byte(p, c);
	if (rc < 0)
		return rc;
	if (st == ST_HLINE) {
		if (pend && p->state == ST_HVALUE) {
			/* obs-fold: its first whitespace byte stands for
			 * the fold, then the value goes on */
			if (p->hpart == HP_LINE_END) {
				p->on_header(p->header_ctx, SP_HTTP1_HDR_VALUE,
					     buf + i, 1);
				p->hpart = HP_VALUE_OWS;
			}
			return rc;
		}
		if (pend && p->hpart == HP_LINE_END) {
			p->on_header(p->header_ctx, SP_HTTP1_HDR_END, buf + i,
				     0);
			p->hpart = HP_OFF;
		}
		if (p->state == ST_HNAME && sp_head_reported(p)) {
			p->hpart = HP_NAME;
			*mark = i;
		}
	} else if (st == ST_HNAME && p->state == ST_HVALUE &&
		   p->hpart == HP_NAME) {
		if (i > *mark)
			p->on_header(p->header_ctx, SP_HTTP1_HDR_NAME,
				     buf + *mark, i - *mark);
		p->hpart = HP_VALUE_OWS;
	}
	return rc;
}

/* The class every byte of a run must have in states where nothing else is
 * done with it, or with all of it at once: a reason phrase, a header value
 * no one interprets, the rest of a header name. 0: none, each byte is
 * looked at. */
static uint8_t
sp_run_class(const struct sp_http1_resp *p)
{
	switch (p->state) {
	case ST_REASON:
		return SP_LEX_VCHAR;
	case ST_HVALUE:
		if (p->hdr == H_NONE)
			return SP_LEX_VCHAR;
		/* the digits of a Content-Length, the rest of a token */
		if (p->hdr == H_CL)
			return p->vstate != SP_LEX_V_AFTER ? SP_LEX_DIGIT : 0;
		return p->vstate == SP_LEX_V_IN ? SP_LEX_TCHAR : 0;
	case ST_HNAME:
		return SP_LEX_TCHAR; /* and the candidates are narrowed */
	default:
		return 0;
	}
}

/* Content-Length digits at @b, up to @k of them: taken while the number
 * fits 64 bits (the one that would not is left to sp_value_byte, which
 * fails on it). */
static size_t
sp_cl_digits(struct sp_http1_resp *p, const uint8_t *b, size_t k)
{
	size_t j = 0;

	while (j < k && sp_lex_cl_byte(&p->vstate, &p->num, b[j]) == 0)
		j++;
	return j;
}

/* Do for the @k bytes at @b (a run of sp_run_class's class) what each would
 * have done byte by byte; returns how many were taken. */
static size_t
sp_run_take(struct sp_http1_resp *p, const uint8_t *b, size_t k)
{
	if (p->state == ST_HNAME) {
		sp_lex_match_run(&p->mask, &p->pos, sp_hdr_names, 3, b, k, 1);
		return k;
	}
	if (p->state != ST_HVALUE)
		return k;
	switch (p->hdr) {
	case H_CL:
		return sp_cl_digits(p, b, k);
	case H_TE:
		sp_lex_match_run(&p->mask, &p->pos, sp_te_words, 1, b, k, 1);
		break;
	case H_CONN:
		sp_lex_match_run(&p->mask, &p->pos, sp_conn_words, 2, b, k, 1);
		break;
	default:
		break;
	}
	return k;
}

/* A status line's first 12 bytes, "HTTP/1.x NNN", read at once when they
 * are all well-formed (anything else goes byte by byte, for the exact
 * error and its offset). */
static int
sp_status_fast(struct sp_http1_resp *p, const uint8_t *b)
{
	if (memcmp(b, "HTTP/1.", 7) != 0 || b[7] < '0' || b[7] > '9' ||
	    b[8] != ' ' || b[9] < '1' || b[9] > '9' || b[10] < '0' ||
	    b[10] > '9' || b[11] < '0' || b[11] > '9')
		return 0;
	p->minor = b[7] == '0' ? 0 : 1;
	p->status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	p->idx = 3;
	p->state = ST_CODE_END;
	return 1;
}

/* Up to @n body bytes at @b: count, report, and say how many were taken. */
static size_t
sp_body(struct sp_http1_resp *p, const uint8_t *b, size_t n, int bounded)
{
	if (bounded && n > p->remaining)
		n = (size_t)p->remaining;
	if (n && p->on_body)
		p->on_body(p->body_ctx, b, n);
	p->body_bytes += n;
	if (bounded)
		p->remaining -= n;
	return n;
}

void
sp_http1_resp_next(struct sp_http1_resp *p, int head_request)
{
	p->status = 0;
	p->minor = 0;
	p->must_close = 0;
	p->interim = 0;
	p->body_bytes = 0;
	p->header_bytes = 0;
	p->trailer_bytes = 0;
	p->remaining = 0;
	p->line_bytes = 0;
	p->eol = 0;
	p->mask = 0;
	p->pos = 0;
	p->vstate = 0;
	p->error = 0;
	p->lenient = 0;
	p->hpart = HP_OFF;
	p->flags = head_request ? F_HEAD_REQ : 0;
	sp_head_reset(p);
}

void
sp_http1_resp_init(struct sp_http1_resp *p, int head_request)
{
	p->max_header_bytes = SP_HTTP1_MAX_HEADER_DEFAULT;
	p->on_body = NULL;
	p->body_ctx = NULL;
	p->on_header = NULL;
	p->header_ctx = NULL;
	p->name_wanted = NULL;
	p->name_key = NULL;
	p->memo = NULL;
	p->upgrade_ok = 0;
	sp_http1_resp_next(p, head_request);
}

/* Whether @p is where a response begins: nothing of it read yet. */
static int
sp_fresh(const struct sp_http1_resp *p)
{
	return p->state == ST_VER && p->header_bytes == 0;
}

int
sp_http1_resp_parse(struct sp_http1_resp *p, const uint8_t *buf, size_t len,
		    size_t *consumed)
{
	size_t i = 0, mark = 0;
	int rc = 0, fresh;

	*consumed = 0;
	if (p->state == ST_DONE)
		return SP_HTTP1_DONE;
	if (p->state == ST_ERROR)
		return p->error;
	fresh = p->memo != NULL && sp_fresh(p);
	if (fresh) {
		i = sp_http1_memo_hit(p, buf, len);
		if (i != 0) {
			fresh = 0;
			if (p->state == ST_DONE) {
				*consumed = i;
				return SP_HTTP1_DONE;
			}
		}
	}
	while (i < len) {
		uint8_t c, cls;

		if (p->state <= ST_HEAD_LF) {
			size_t *n = (p->flags & F_TRAILER) ? &p->trailer_bytes :
							     &p->header_bytes;
			/* A run of one class goes at once (sp_run_take),
			 * within the size bound; the byte that ends it takes
			 * the byte-by-byte way below. */
			cls = sp_run_class(p);
			if (cls) {
				size_t k = len - i;

				if (k > p->max_header_bytes - *n)
					k = p->max_header_bytes - *n;
				k = sp_lex_span(buf + i, k, cls);
				k = sp_run_take(p, buf + i, k);
				if (p->hpart == HP_VALUE_OWS)
					sp_value_begins(p, buf, i, i + k,
							&mark);
				i += k;
				*n += k;
				if (i == len)
					break;
			} else if (p->state == ST_VER && p->idx == 0 &&
				   len - i >= 12 &&
				   p->max_header_bytes - *n >= 12 &&
				   sp_status_fast(p, buf + i)) {
				i += 12;
				*n += 12;
				continue;
			}
			if (++*n > p->max_header_bytes) {
				rc = SP_HTTP1_E_HEADER_TOO_BIG;
				break;
			}
		}
		c = buf[i];
		switch (p->state) {
		case ST_BODY_LEN:
			i += sp_body(p, buf + i, len - i, 1);
			if (!p->remaining) {
				p->state = ST_DONE;
				*consumed = i;
				return SP_HTTP1_DONE;
			}
			continue;
		case ST_BODY_CLOSE:
			i += sp_body(p, buf + i, len - i, 0);
			continue;
		case ST_CHUNK_DATA:
			i += sp_body(p, buf + i, len - i, 1);
			if (!p->remaining)
				p->state = ST_CHUNK_DATA_END;
			continue;
		case ST_HLINE:
		case ST_HNAME:
		case ST_HVALUE:
			rc = p->on_header == NULL ?
				     sp_header_byte(p, c) :
				     sp_header_byte_cb(p, buf, i, &mark);
			break;
		case ST_HEAD_LF:
			if (c != '\n')
				rc = p->eol == EOL_STATUS ? SP_HTTP1_E_STATUS :
							    SP_HTTP1_E_HEADER;
			else
				rc = sp_http1_eol(p, p->eol);
			break;
		case ST_CHUNK_SIZE:
		case ST_CHUNK_WS:
		case ST_CHUNK_EXT:
		case ST_CHUNK_DATA_END:
		case ST_CHUNK_LF:
			rc = sp_http1_chunk_byte(p, c);
			break;
		default:
			rc = sp_status_byte(p, c);
			break;
		}
		if (fresh && rc >= 0 && p->state > ST_HEAD_LF) {
			/* The head began and ended in this call. */
			sp_http1_memo_keep(p, buf, i + 1);
			fresh = 0;
		}
		if (rc)
			break;
		i++;
	}
	if (rc == SP_HTTP1_DONE) {
		*consumed = i + 1;
		return rc;
	}
	if (rc < 0) {
		p->state = ST_ERROR;
		p->error = rc;
		*consumed = i;
		return rc;
	}
	/* A name or value goes on in the next call: its piece so far. */
	if ((p->hpart == HP_NAME || p->hpart == HP_VALUE) && mark < len)
		p->on_header(p->header_ctx,
			     p->hpart == HP_NAME ? SP_HTTP1_HDR_NAME :
						   SP_HTTP1_HDR_VALUE,
			     buf + mark, len - mark);
	*consumed = len;
	return SP_HTTP1_NEED_MORE;
}

int
sp_http1_resp_eof(struct sp_http1_resp *p)
{
	switch (p->state) {
	case ST_BODY_CLOSE:
		p->state = ST_DONE;
		return SP_HTTP1_DONE;
	case ST_DONE:
		return SP_HTTP1_DONE;
	case ST_ERROR:
		return p->error;
	default:
		if (p->state == ST_VER && p->header_bytes == 0)
			return SP_HTTP1_NEED_MORE;
		p->state = ST_ERROR;
		p->error = SP_HTTP1_E_TRUNCATED;
		return p->error;
	}
}
