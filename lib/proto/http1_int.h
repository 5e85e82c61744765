/*
 * The HTTP/1.1 response parser's own states and helpers, shared by its
 * files (private to lib/proto):
 *   http1.c        the parser: status line, header fields, bodies, the
 *                  header callback
 *   http1_chunk.c  the chunked coding's lines (RFC 9112 section 7.1)
 *   http1_memo.c   the head memo (a head seen whole, not parsed again)
 */
#ifndef SP_HTTP1_INT_H
#define SP_HTTP1_INT_H

#include <stddef.h>
#include <stdint.h>

#include "http1_lex.h"
#include "sp_http1.h"

/* States in order: everything up to ST_HEAD_LF is head (or trailer)
 * section and counts against max_header_bytes. */
enum {
	ST_VER, /* HTTP-version, idx = position (sp_lex_version) */
	ST_VER_SP,
	ST_CODE, /* idx = digits read */
	ST_CODE_END,
	ST_REASON,
	ST_HLINE, /* start of a header line (or of the empty line) */
	ST_HNAME,
	ST_HVALUE,
	ST_HEAD_LF, /* CR seen in the head; LF must follow */
	ST_BODY_LEN,
	ST_BODY_CLOSE,
	ST_CHUNK_SIZE, /* idx = hex digits read */
	ST_CHUNK_WS,   /* BWS after the size (RFC 9112 section 7.1.1) */
	ST_CHUNK_EXT,  /* idx = where in the extension (X_*) */
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_END,
	ST_CHUNK_LF,
	ST_DONE,
	ST_ERROR,
};

/* Within chunk extensions (RFC 9112 section 7.1.1):
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * chunk-ext-name = token, chunk-ext-val = token / quoted-string. */
enum {
	X_NAME0, /* after ';': BWS, then the name's first tchar */
	X_NAME,
	X_NAME_WS, /* BWS after the name: '=', ';' or the line's end */
	X_VAL0,    /* after '=': BWS, then a token or a DQUOTE */
	X_TOKEN,
	X_QUOTED, /* inside the quoted-string */
	X_QPAIR,  /* after a backslash in it */
	X_AFTER,  /* after the value: BWS, ';' or the line's end */
};

/* What a line end completes (p->eol). */
enum {
	EOL_STATUS,
	EOL_HEADER,
	EOL_EMPTY,
	EOL_CHUNK_SIZE,
	EOL_CHUNK_DATA,
};

enum {
	F_HEAD_REQ = 1 << 0,
	F_HAS_CL = 1 << 1,
	F_HAS_TE = 1 << 2,
	F_TE_CHUNKED = 1 << 3, /* chunked was the last coding seen */
	F_CONN_CLOSE = 1 << 4,
	F_CONN_KEEP = 1 << 5,
	F_TRAILER = 1 << 6, /* header states are reading trailers */
	F_PENDING = 1 << 7, /* a header line ended; obs-fold may follow */
};

/* The header piece being reported to on_header (p->hpart). */
enum {
	HP_OFF,       /* none: no callback, an interim head, trailers */
	HP_NAME,      /* a name's bytes from the mark on */
	HP_VALUE_OWS, /* after the colon: whitespace not reported */
	HP_VALUE,     /* a value's bytes from the mark on */
	HP_LINE_END,  /* the line ended; END once no obs-fold follows */
};

/* Interpreted headers, indexes into sp_hdr_names. */
enum { H_CL, H_TE, H_CONN, H_NONE = 0xff };

static inline int
sp_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* http1.c: a line ended (its LF consumed), completing @what (EOL_*). */
int sp_http1_eol(struct sp_http1_resp *p, uint8_t what);
/* CR or LF ending a line in context @what: a bare LF ends it (marked
 * lenient), a CR waits in @lf_state for its LF. */
int sp_http1_line_end(struct sp_http1_resp *p, uint8_t c, uint8_t what,
		      uint8_t lf_state);

/* http1_chunk.c: one byte of a chunk line, in states ST_CHUNK_SIZE ..
 * ST_CHUNK_LF (chunk data goes in bulk, not here). */
int sp_http1_chunk_byte(struct sp_http1_resp *p, uint8_t c);

/* http1_memo.c: the memo answers for the head at @buf: the parser takes
 * the state it left (on_header hears the head's fields); the head's
 * length, or 0. */
size_t sp_http1_memo_hit(struct sp_http1_resp *p, const uint8_t *buf,
			 size_t len);
/* A head parsed whole from @buf, @n bytes: keep it if the memo is empty or
 * keeps missing. */
void sp_http1_memo_keep(struct sp_http1_resp *p, const uint8_t *buf, size_t n);

#endif /* SP_HTTP1_INT_H */
