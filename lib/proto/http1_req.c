/*
 * HTTP/1.1 request parser (RFC 9112 sections 2, 3, 5, 6; RFC 9110).
 *
 * One state per syntactic position; a byte is looked at once, so any split
 * of the input gives the same result as the whole. Line ends are CRLF or a
 * bare LF (RFC 9112 section 2.2); a CR must be followed by LF. Blank lines
 * before the request line are skipped (section 2.2 asks a server to ignore
 * at least one). obs-fold is rejected: section 5.2 lets a server choose
 * between rejecting it and unfolding, and a load generator's responder has
 * no client that needs it. Header names are matched case-insensitively
 * against the few we interpret as they stream past (a bit mask holds the
 * candidates still possible), values of Content-Length and Connection the
 * same way. A request with Transfer-Encoding is refused as a whole (the
 * responder answers 501, section 6.1 allows it): it carries no body this
 * parser could frame, and a request that has both it and Content-Length is
 * the classic smuggling vector.
 *
 * The opening handshake of a WebSocket (RFC 6455 section 4.2.1) is read
 * on the way too, for `stampede serve --ws`: the "websocket" element of
 * Upgrade, the "upgrade" element of Connection, whether
 * Sec-WebSocket-Version lists 13, and Sec-WebSocket-Key's value (kept, up
 * to its 24 bytes: the accept value is made from it). Judging them is the
 * responder's.
 */
#include <string.h>

#include "http1_lex.h"
#include "sp_http1_req.h"

/* States in order: everything up to ST_HEAD_LF is head and counts against
 * max_header_bytes. */
enum {
	ST_START,    /* before the method; blank lines skipped */
	ST_START_LF, /* CR of a blank line seen */
	ST_METHOD,
	ST_TARGET_START,
	ST_TARGET,
	ST_TARGET_STAR, /* "*" read: SP must follow */
	ST_VER,         /* HTTP-version, pos = position (sp_lex_version) */
	ST_VER_END,
	ST_HLINE, /* start of a header line (or of the empty line) */
	ST_HNAME,
	ST_HVALUE,
	ST_HEAD_LF, /* CR seen in the head; LF must follow */
	ST_BODY,
	ST_DONE,
	ST_ERROR,
};

/* What a line end completes (p->eol). */
enum { EOL_LINE, EOL_HEADER, EOL_EMPTY };

enum {
	F_HAS_CL = 1 << 0,
	F_HAS_TE = 1 << 1,
	F_CONN_CLOSE = 1 << 2,
	F_CONN_KEEP = 1 << 3,
	F_STARTED = 1 << 4, /* a byte of the request line was read */
	F_CONN_UPGRADE = 1 << 5,
};

/* Interpreted headers, indexes into sp_hdr_names. */
enum { H_CL, H_TE, H_CONN, H_HOST, H_UPG, H_WSVER, H_WSKEY, H_NONE = 0xff };

static const struct sp_lex_word sp_hdr_names[] = {
	SP_LEX_WORD("content-length"),    SP_LEX_WORD("transfer-encoding"),
	SP_LEX_WORD("connection"),        SP_LEX_WORD("host"),
	SP_LEX_WORD("upgrade"),           SP_LEX_WORD("sec-websocket-version"),
	SP_LEX_WORD("sec-websocket-key"),
};
static const struct sp_lex_word sp_conn_words[] = {
	SP_LEX_WORD("close"),
	SP_LEX_WORD("keep-alive"),
	SP_LEX_WORD("upgrade"),
};
#define NCONN 3
/* The one element of interest in Upgrade and in Sec-WebSocket-Version. */
static const struct sp_lex_word sp_upg_words[] = { SP_LEX_WORD("websocket") };
static const struct sp_lex_word sp_wsver_words[] = { SP_LEX_WORD("13") };
/* In SP_HTTP1_M_* order from GET. */
static const struct sp_lex_word sp_methods[] = {
	SP_LEX_WORD("GET"),   SP_LEX_WORD("HEAD"),   SP_LEX_WORD("POST"),
	SP_LEX_WORD("PUT"),   SP_LEX_WORD("DELETE"), SP_LEX_WORD("OPTIONS"),
	SP_LEX_WORD("PATCH"),
};
#define NHDR (sizeof(sp_hdr_names) / sizeof(sp_hdr_names[0]))
#define NMETHOD (sizeof(sp_methods) / sizeof(sp_methods[0]))

static const char *const sp_err_names[SP_HTTP1_REQ_NERRORS] = {
	"line",   "target", "version",           "header",    "header_too_big",
	"length", "host",   "transfer_encoding", "truncated",
};

const char *
sp_http1_req_error_name(int rc)
{
	if (rc < 0 && rc >= -SP_HTTP1_REQ_NERRORS)
		return sp_err_names[-rc - 1];
	return "unknown";
}

static void
sp_match_start(struct sp_http1_req *p, size_t nwords)
{
	sp_lex_match_start(&p->mask, &p->pos, nwords);
}

/* Drop the candidates that byte @c at position p->pos rules out; @fold:
 * compare case-insensitively (@words are lower case then). */
static void
sp_match_step(struct sp_http1_req *p, const struct sp_lex_word *words,
	      size_t nwords, uint8_t c, int fold)
{
	sp_lex_match_step(&p->mask, &p->pos, words, nwords,
			  fold ? sp_lex_lower(c) : c);
}

static int
sp_match_end(const struct sp_http1_req *p, const struct sp_lex_word *words,
	     size_t nwords)
{
	return sp_lex_match_end(p->mask, p->pos, words, nwords);
}

/* A Content-Length element ended (sp_lex_cl_element). */
static int
sp_cl_element(struct sp_http1_req *p)
{
	int has = (p->flags & F_HAS_CL) != 0;

	if (sp_lex_cl_element(&p->vstate, &p->num, &p->content_length, &has) <
	    0)
		return SP_HTTP1_REQ_E_LENGTH;
	p->flags |= F_HAS_CL;
	return 0;
}

/* The words a list header's elements are matched against. */
static const struct sp_lex_word *
sp_list_words(uint8_t hdr, size_t *n)
{
	switch (hdr) {
	case H_CONN:
		*n = NCONN;
		return sp_conn_words;
	case H_UPG:
		*n = 1;
		return sp_upg_words;
	default: /* H_WSVER */
		*n = 1;
		return sp_wsver_words;
	}
}

/* A list element of Connection, Upgrade or Sec-WebSocket-Version ended;
 * empty elements are skipped. */
static void
sp_list_element(struct sp_http1_req *p)
{
	size_t n;
	const struct sp_lex_word *words = sp_list_words(p->hdr, &n);
	int w;

	if (p->vstate == SP_LEX_V_BEFORE)
		return;
	w = sp_match_end(p, words, n);
	if (p->hdr == H_CONN) {
		if (w == 0)
			p->flags |= F_CONN_CLOSE;
		else if (w == 1)
			p->flags |= F_CONN_KEEP;
		else if (w == 2)
			p->flags |= F_CONN_UPGRADE;
	} else if (w == 0) {
		p->ws |= p->hdr == H_UPG ? SP_HTTP1_REQ_WS_UPGRADE :
					   SP_HTTP1_REQ_WS_VERSION_13;
	}
	p->vstate = SP_LEX_V_BEFORE;
}

/* One byte of Sec-WebSocket-Key's value: kept without the whitespace
 * around it (a value longer than a key is marked so, not kept). */
static void
sp_key_byte(struct sp_http1_req *p, uint8_t c)
{
	if (c == ' ' || c == '\t') {
		if (p->vstate == SP_LEX_V_IN)
			p->vstate = SP_LEX_V_AFTER;
		return;
	}
	if (p->vstate == SP_LEX_V_AFTER || p->ws_key_len >= SP_HTTP1_REQ_KEY) {
		p->ws_key_len = SP_HTTP1_REQ_KEY + 1; /* not a key */
		return;
	}
	p->vstate = SP_LEX_V_IN;
	p->ws_key[p->ws_key_len++] = (char)c;
}

/* One byte of an interpreted header's value (a value char). */
static int
sp_value_byte(struct sp_http1_req *p, uint8_t c)
{
	int ws = c == ' ' || c == '\t';
	const struct sp_lex_word *words;
	size_t n;

	if (p->hdr == H_CL) {
		if (c == ',')
			return sp_cl_element(p);
		return sp_lex_cl_byte(&p->vstate, &p->num, c) < 0 ?
			       SP_HTTP1_REQ_E_LENGTH :
			       0;
	}
	if (p->hdr == H_WSKEY) {
		sp_key_byte(p, c);
		return 0;
	}
	/* H_CONN, H_UPG, H_WSVER: lists of tokens */
	if (c == ',') {
		sp_list_element(p);
		return 0;
	}
	if (ws) {
		if (p->vstate == SP_LEX_V_IN)
			p->vstate = SP_LEX_V_AFTER;
		return 0;
	}
	words = sp_list_words(p->hdr, &n);
	if (p->vstate == SP_LEX_V_BEFORE) {
		sp_match_start(p, n);
		p->vstate = SP_LEX_V_IN;
	}
	if (p->vstate == SP_LEX_V_IN)
		sp_match_step(p, words, n, c, 1);
	else
		p->mask = 0; /* "keep alive": two words, no token */
	return 0;
}

/* A header line ended. */
static int
sp_header_end(struct sp_http1_req *p)
{
	switch (p->hdr) {
	case H_CL:
		return sp_cl_element(p);
	case H_CONN:
	case H_UPG:
	case H_WSVER:
		sp_list_element(p);
		break;
	default:
		break;
	}
	return 0;
}

/* The empty line ended the head: decide framing and persistence. */
static int
sp_head_end(struct sp_http1_req *p)
{
	if (p->flags & F_HAS_TE)
		return SP_HTTP1_REQ_E_TRANSFER_ENCODING;
	/* RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one
	 * in HTTP/1.0. */
	if (p->hosts > 1 || (p->minor >= 1 && p->hosts == 0))
		return SP_HTTP1_REQ_E_HOST;
	/* Section 9.3: HTTP/1.0 closes unless keep-alive is asked for;
	 * "close" ends persistence in any version. */
	p->must_close = (p->flags & F_CONN_CLOSE) ||
			(p->minor == 0 && !(p->flags & F_CONN_KEEP));
	if (p->flags & F_CONN_UPGRADE)
		p->ws |= SP_HTTP1_REQ_WS_CONN_UPGRADE;
	/* Section 6.3 rules 5 and 6: Content-Length, else no body. */
	p->remaining = p->content_length;
	if (p->remaining == 0) {
		p->state = ST_DONE;
		return SP_HTTP1_REQ_DONE;
	}
	p->state = ST_BODY;
	return 0;
}

/* A line ended (its LF consumed). */
static int
sp_eol(struct sp_http1_req *p, uint8_t what)
{
	int rc;

	switch (what) {
	case EOL_LINE:
		p->state = ST_HLINE;
		break;
	case EOL_HEADER:
		rc = sp_header_end(p);
		if (rc)
			return rc;
		p->state = ST_HLINE;
		break;
	default: /* EOL_EMPTY */
		return sp_head_end(p);
	}
	return 0;
}

/* CR or LF ending a line of kind @what. */
static int
sp_line_end(struct sp_http1_req *p, uint8_t c, uint8_t what)
{
	if (c == '\n')
		return sp_eol(p, what);
	p->eol = what;
	p->state = ST_HEAD_LF;
	return 0;
}

static int
sp_line_byte(struct sp_http1_req *p, uint8_t c)
{
	switch (p->state) {
	case ST_START:
		if (c == '\n')
			break;
		if (c == '\r') {
			p->state = ST_START_LF;
			break;
		}
		p->flags |= F_STARTED;
		if (!sp_lex_tchar(c))
			return SP_HTTP1_REQ_E_LINE;
		sp_match_start(p, NMETHOD);
		sp_match_step(p, sp_methods, NMETHOD, c, 0);
		p->state = ST_METHOD;
		break;
	case ST_START_LF:
		if (c != '\n')
			return SP_HTTP1_REQ_E_LINE;
		p->state = ST_START;
		break;
	case ST_METHOD:
		if (c == ' ') {
			int m = sp_match_end(p, sp_methods, NMETHOD);

			p->method = m < 0 ? SP_HTTP1_M_OTHER : m + 1;
			p->state = ST_TARGET_START;
			break;
		}
		if (!sp_lex_tchar(c))
			return SP_HTTP1_REQ_E_LINE;
		sp_match_step(p, sp_methods, NMETHOD, c, 0);
		break;
	case ST_TARGET_START:
		/* origin-form, or asterisk-form (section 3.2.1, 3.2.4);
		 * absolute-form and authority-form are for proxies */
		if (c == '/')
			p->state = ST_TARGET;
		else if (c == '*')
			p->state = ST_TARGET_STAR;
		else
			return SP_HTTP1_REQ_E_TARGET;
		break;
	case ST_TARGET:
		if (c == ' ') {
			p->state = ST_VER;
			p->pos = 0;
			break;
		}
		/* visible US-ASCII only (section 3.2) */
		if (c <= 0x20 || c >= 0x7f)
			return c == '\r' || c == '\n' ? SP_HTTP1_REQ_E_LINE :
							SP_HTTP1_REQ_E_TARGET;
		break;
	case ST_TARGET_STAR:
		if (c != ' ')
			return SP_HTTP1_REQ_E_TARGET;
		p->state = ST_VER;
		p->pos = 0;
		break;
	case ST_VER:
		switch (sp_lex_version(&p->pos, &p->minor, c)) {
		case SP_LEX_VER_MORE:
			break;
		case SP_LEX_VER_DONE:
			p->state = ST_VER_END;
			break;
		case SP_LEX_VER_SYNTAX:
			return SP_HTTP1_REQ_E_LINE;
		default:
			return SP_HTTP1_REQ_E_VERSION;
		}
		break;
	default: /* ST_VER_END */
		if (c >= '0' && c <= '9')
			return SP_HTTP1_REQ_E_VERSION; /* HTTP/1.10 */
		if (c != '\r' && c != '\n')
			return SP_HTTP1_REQ_E_LINE;
		return sp_line_end(p, c, EOL_LINE);
	}
	return 0;
}

static int
sp_header_byte(struct sp_http1_req *p, uint8_t c)
{
	int rc;

	switch (p->state) {
	case ST_HLINE:
		if (c == '\r' || c == '\n')
			return sp_line_end(p, c, EOL_EMPTY);
		/* obs-fold, or whitespace before the first field (a
		 * smuggling trick, section 2.2): both rejected */
		if (!sp_lex_tchar(c))
			return SP_HTTP1_REQ_E_HEADER;
		sp_match_start(p, NHDR);
		sp_match_step(p, sp_hdr_names, NHDR, c, 1);
		p->state = ST_HNAME;
		break;
	case ST_HNAME:
		if (c == ':') {
			rc = sp_match_end(p, sp_hdr_names, NHDR);
			p->hdr = rc < 0 ? H_NONE : (uint8_t)rc;
			if (p->hdr == H_TE) {
				p->flags |= F_HAS_TE;
				p->hdr = H_NONE;
			} else if (p->hdr == H_HOST) {
				if (p->hosts < 0xff)
					p->hosts++;
				p->hdr = H_NONE;
			} else if (p->hdr == H_WSVER) {
				p->ws |= SP_HTTP1_REQ_WS_VERSION;
			} else if (p->hdr == H_WSKEY) {
				/* a second key is no key */
				if (p->ws & SP_HTTP1_REQ_WS_KEY)
					p->ws_key_len = SP_HTTP1_REQ_KEY + 1;
				p->ws |= SP_HTTP1_REQ_WS_KEY;
			}
			p->vstate = SP_LEX_V_BEFORE;
			p->num = 0;
			p->state = ST_HVALUE;
			break;
		}
		/* no whitespace before the colon (section 5.1) */
		if (!sp_lex_tchar(c))
			return SP_HTTP1_REQ_E_HEADER;
		sp_match_step(p, sp_hdr_names, NHDR, c, 1);
		break;
	default: /* ST_HVALUE */
		if (c == '\r' || c == '\n')
			return sp_line_end(p, c, EOL_HEADER);
		if (!sp_lex_vchar(c))
			return SP_HTTP1_REQ_E_HEADER;
		if (p->hdr != H_NONE)
			return sp_value_byte(p, c);
		break;
	}
	return 0;
}

void
sp_http1_req_next(struct sp_http1_req *p)
{
	p->method = SP_HTTP1_M_OTHER;
	p->minor = 0;
	p->must_close = 0;
	p->body_bytes = 0;
	p->header_bytes = 0;
	p->remaining = 0;
	p->num = 0;
	p->content_length = 0;
	p->state = ST_START;
	p->eol = 0;
	p->hdr = H_NONE;
	p->mask = 0;
	p->pos = 0;
	p->vstate = 0;
	p->flags = 0;
	p->hosts = 0;
	p->ws = 0;
	p->ws_key_len = 0;
	p->error = 0;
}

void
sp_http1_req_init(struct sp_http1_req *p)
{
	p->max_header_bytes = SP_HTTP1_REQ_MAX_HEADER_DEFAULT;
	p->memo = NULL;
	sp_http1_req_next(p);
}

/* A head memoized byte for byte at @buf: take the state it left (its
 * parse from a fresh start went the same way, within the bound). */
static size_t
sp_memo_hit(struct sp_http1_req *p, const uint8_t *buf, size_t len)
{
	struct sp_http1_req_memo *m = p->memo;
	size_t max = p->max_header_bytes;

	if (m->h.len > max || !sp_lex_memo_match(&m->h, buf, len))
		return 0;
	*p = m->after;
	p->max_header_bytes = max;
	p->memo = m;
	return m->h.len;
}

int
sp_http1_req_parse(struct sp_http1_req *p, const uint8_t *buf, size_t len,
		   size_t *consumed)
{
	size_t i = 0;
	int rc = 0, fresh;

	*consumed = 0;
	if (p->state == ST_DONE)
		return SP_HTTP1_REQ_DONE;
	if (p->state == ST_ERROR)
		return p->error;
	fresh = p->memo != NULL && p->state == ST_START && p->header_bytes == 0;
	if (fresh) {
		i = sp_memo_hit(p, buf, len);
		if (i != 0) {
			fresh = 0;
			if (p->state == ST_DONE) {
				*consumed = i;
				return SP_HTTP1_REQ_DONE;
			}
		}
	}
	while (i < len) {
		uint8_t c = buf[i], cls;

		if (p->state == ST_BODY) {
			size_t n = len - i;

			if (n > p->remaining)
				n = (size_t)p->remaining;
			p->remaining -= n;
			p->body_bytes += n;
			i += n;
			if (p->remaining == 0) {
				p->state = ST_DONE;
				*consumed = i;
				return SP_HTTP1_REQ_DONE;
			}
			continue;
		}
		/* A run that needs no more than its class checked (and a
		 * header name's candidates narrowed) goes at once, within the
		 * size bound; the byte that ends it takes the byte-by-byte
		 * way below. */
		cls = p->state == ST_HVALUE && p->hdr == H_NONE ? SP_LEX_VCHAR :
		      p->state == ST_HNAME                      ? SP_LEX_TCHAR :
								  0;
		if (cls) {
			size_t k = len - i;

			if (k > p->max_header_bytes - p->header_bytes)
				k = p->max_header_bytes - p->header_bytes;
			k = sp_lex_span(buf + i, k, cls);
			if (p->state == ST_HNAME && p->mask != 0)
				sp_lex_match_run(&p->mask, &p->pos,
						 sp_hdr_names, NHDR, buf + i, k,
						 1);
			i += k;
			p->header_bytes += k;
			if (i == len)
				break;
			c = buf[i];
		}
		if (++p->header_bytes > p->max_header_bytes) {
			rc = SP_HTTP1_REQ_E_HEADER_TOO_BIG;
			break;
		}
		switch (p->state) {
		case ST_HLINE:
		case ST_HNAME:
		case ST_HVALUE:
			rc = sp_header_byte(p, c);
			break;
		case ST_HEAD_LF:
			if (c != '\n')
				rc = p->eol == EOL_LINE ? SP_HTTP1_REQ_E_LINE :
							  SP_HTTP1_REQ_E_HEADER;
			else
				rc = sp_eol(p, p->eol);
			break;
		default:
			rc = sp_line_byte(p, c);
			break;
		}
		if (fresh && rc >= 0 && p->state > ST_HEAD_LF) {
			/* The head began and ended in this call. */
			if (sp_lex_memo_keep(&p->memo->h, buf, i + 1))
				p->memo->after = *p;
			fresh = 0;
		}
		if (rc)
			break;
		i++;
	}
	if (rc == SP_HTTP1_REQ_DONE) {
		*consumed = i + 1;
		return rc;
	}
	if (rc < 0) {
		p->state = ST_ERROR;
		p->error = rc;
		*consumed = i;
		return rc;
	}
	*consumed = len;
	return SP_HTTP1_REQ_NEED_MORE;
}

int
sp_http1_req_eof(struct sp_http1_req *p)
{
	switch (p->state) {
	case ST_DONE:
		return SP_HTTP1_REQ_DONE;
	case ST_ERROR:
		return p->error;
	default:
		if (!(p->flags & F_STARTED))
			return SP_HTTP1_REQ_NEED_MORE;
		p->state = ST_ERROR;
		p->error = SP_HTTP1_REQ_E_TRUNCATED;
		return p->error;
	}
}
