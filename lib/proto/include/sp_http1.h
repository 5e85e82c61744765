/*
 * sp_http1: a resumable HTTP/1.1 response parser. (Requests are built by
 * the virtual-user engine's one builder, vu_render.c.)
 *
 * The parser is a byte-driven state machine over caller-owned state: it
 * accepts a response in any split of bytes (one at a time if need be),
 * never reads past what it was given, never allocates and never buffers.
 * It interprets only what framing needs (RFC 9112 section 6.3): the status
 * code, Content-Length, Transfer-Encoding (is chunked the last coding?) and
 * Connection (close / keep-alive). Body bytes are counted and, if asked,
 * handed to a callback; nothing else is kept.
 */
#ifndef SP_HTTP1_H
#define SP_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "sp_http1_memo.h"

enum {
	SP_HTTP1_NEED_MORE = 0, /* all bytes consumed, response incomplete */
	SP_HTTP1_DONE = 1,      /* a response ended; *consumed says where */
};

enum {
	SP_HTTP1_E_STATUS = -1,         /* bad status line */
	SP_HTTP1_E_HEADER = -2,         /* malformed header (or trailer) line */
	SP_HTTP1_E_HEADER_TOO_BIG = -3, /* over max_header_bytes */
	SP_HTTP1_E_CHUNK = -4,          /* bad chunk size or chunk line */
	SP_HTTP1_E_LENGTH = -5,         /* bad or conflicting Content-Length */
	SP_HTTP1_E_VERSION = -6,        /* not HTTP/1.x */
	SP_HTTP1_E_TRUNCATED = -7,      /* EOF inside a response */
	SP_HTTP1_E_UPGRADE = -8,        /* 101 to a request that asked for no
					 * upgrade (RFC 9110 section 7.8) */
};

#define SP_HTTP1_MAX_HEADER_DEFAULT (64u * 1024u)

/* Body bytes as they arrive (chunk framing removed), in order. */
typedef void (*sp_http1_body_cb)(void *ctx, const uint8_t *p, size_t n);

/*
 * The final response's header fields as the parser reads them, in order:
 * for each field line, its name in one or more NAME pieces, its value in
 * zero or more VALUE pieces (leading whitespace left out, trailing
 * whitespace kept; an obs-fold as its first SP or HTAB), then END (no
 * bytes). Pieces are slices of the caller's buffer, valid during the call
 * only; how a
 * field is cut into pieces depends on how its bytes arrived, so a
 * consumer reads pieces as a stream. Interim (1xx) heads and trailers are
 * not reported. A head answered by the memo is reported too, from the
 * fields the memo kept.
 */
enum sp_http1_hdr_part {
	SP_HTTP1_HDR_NAME,
	SP_HTTP1_HDR_VALUE,
	SP_HTTP1_HDR_END,
};
typedef void (*sp_http1_header_cb)(void *ctx, enum sp_http1_hdr_part part,
				   const uint8_t *p, size_t n);

/*
 * Optional, beside on_header: whether a field named @name (@n bytes, as
 * received) can matter to the listener; @key is sp_http1_resp.name_key.
 * A hint, and a pure function of @key and the name: the memo asks it once
 * per memoized head and key, and replays only the fields it said yes to
 * (a head parsed from its bytes still reports every field). Set-Cookie
 * among a dozen fields then costs the jar one field, not twelve.
 */
typedef int (*sp_http1_name_cb)(const void *key, const uint8_t *name,
				size_t n);

struct sp_http1_memo;

struct sp_http1_resp {
	/* Configuration: set after sp_http1_resp_init, kept by _next (and
	 * by a memo hit, which copies from status on). */
	size_t max_header_bytes;  /* bound on header_bytes, trailer_bytes */
	sp_http1_body_cb on_body; /* optional */
	void *body_ctx;
	sp_http1_header_cb on_header; /* optional */
	void *header_ctx;
	sp_http1_name_cb name_wanted; /* optional, with on_header */
	const void *name_key;
	struct sp_http1_memo *memo; /* optional, see below */
	int upgrade_ok;             /* the request asked for an upgrade:
					 * 101 is its final answer (else
					 * SP_HTTP1_E_UPGRADE) */

	/* Results, valid after SP_HTTP1_DONE. */
	int status;           /* final status code (100..999) */
	int minor;            /* HTTP/1.<minor> of the final response */
	int must_close;       /* the connection cannot carry another one */
	int lenient;          /* read with a leniency (a bare LF ending a
				 * start or field line, an obs-fold, TE
				 * with Content-Length or in HTTP/1.0):
				 * do not reuse the connection either */
	unsigned interim;     /* 1xx interim responses skipped */
	uint64_t body_bytes;  /* payload bytes (chunk framing excluded) */
	size_t header_bytes;  /* status lines and headers, 1xx included */
	size_t trailer_bytes; /* chunked trailer section incl. last CRLF */

	/* Private parser state. */
	uint64_t remaining; /* body or chunk bytes left; chunk size */
	uint64_t num;       /* Content-Length element being read */
	uint64_t content_length;
	size_t line_bytes; /* chunk-size line length, bounded */
	uint8_t state;
	uint8_t eol;    /* what the LF after a CR ends */
	uint8_t idx;    /* position in a literal or digit count */
	uint8_t hdr;    /* interpreted header being read */
	uint8_t mask;   /* candidate words still matching */
	uint8_t pos;    /* bytes matched against the candidates */
	uint8_t vstate; /* position within a list element */
	uint8_t flags;
	uint8_t hpart; /* header piece being reported */
	int error;
};

/*
 * A memo of the last response head parsed whole (it began and ended in one
 * call): a head that arrives byte for byte the same, whole, is not parsed
 * again; the parser takes the state it left the memoized head in. Heads of
 * a load test mostly repeat. One memo serves any number of parsers of one
 * thread (set p->memo); zero it before use. A head of more than
 * SP_HTTP1_MEMO_MAX bytes, or with interim (1xx) responses, is not kept; a
 * memo that keeps missing takes the head that missed.
 */
#define SP_HTTP1_MEMO_FIELDS 32
#define SP_HTTP1_MEMO_NO_FIELDS 0xff /* not replayable (an obs-fold) */
struct sp_http1_memo {
	struct sp_http1_head_memo h;
	/* The head's field lines, for on_header: name offset, name length,
	 * value offset, value length (a head is at most 256 bytes). */
	uint8_t nfields; /* or SP_HTTP1_MEMO_NO_FIELDS */
	uint8_t field[SP_HTTP1_MEMO_FIELDS][4];
	/* name_wanted's answers for these fields (bit f: field f), asked
	 * with want_cb and want_key (NULL: not asked since the head was
	 * kept). */
	uint32_t want;
	sp_http1_name_cb want_cb;
	const void *want_key;
	struct sp_http1_resp after; /* the parser right after the head */
};

/* Prepare @p for a response to a request; @head_request: a HEAD response
 * has no body whatever its headers say (RFC 9112 section 6.3 rule 1). */
void sp_http1_resp_init(struct sp_http1_resp *p, int head_request);

/* Same for the next response on a connection, keeping the configuration
 * (max_header_bytes, on_body, body_ctx, on_header, header_ctx,
 * name_wanted, name_key, memo, upgrade_ok). */
void sp_http1_resp_next(struct sp_http1_resp *p, int head_request);

/* Feed @len bytes. Returns SP_HTTP1_NEED_MORE (*consumed = len),
 * SP_HTTP1_DONE (*consumed = bytes belonging to this response; the rest is
 * the next response's), or a negative SP_HTTP1_E_* (*consumed = offset of
 * the offending byte). After DONE or an error, calls return the same result
 * with *consumed = 0 until the parser is re-initialised. */
int sp_http1_resp_parse(struct sp_http1_resp *p, const uint8_t *buf, size_t len,
			size_t *consumed);

/* The peer closed the connection. Returns SP_HTTP1_DONE if that ended a
 * close-delimited body (RFC 9112 section 6.3 rule 8) or the response was
 * already complete, SP_HTTP1_NEED_MORE if no byte of a response had arrived
 * (a clean close between responses), else SP_HTTP1_E_TRUNCATED. */
int sp_http1_resp_eof(struct sp_http1_resp *p);

#endif /* SP_HTTP1_H */
