/*
 * sp_http1_req: a resumable HTTP/1.1 request parser, for the responder.
 *
 * The counterpart of sp_http1.h's response parser, in the same style: a
 * byte-driven state machine over caller-owned state that accepts a request
 * in any split of bytes, never reads past what it was given, never
 * allocates and never buffers. It checks the request line (method token,
 * origin-form or "*" target, HTTP/1.x) and the header syntax, and
 * interprets only what framing and persistence need (RFC 9112 sections 3,
 * 6.3 and 9.3): Content-Length (the body is skipped and counted),
 * Transfer-Encoding (not supported: an error the responder answers with
 * 501), Connection (close / keep-alive / upgrade) and the number of Host
 * fields; and what a WebSocket opening handshake carries (RFC 6455
 * section 4.2.1: Upgrade, Sec-WebSocket-Version, Sec-WebSocket-Key), for
 * the responder to judge.
 * The head (blank lines before the request line included) is bounded.
 */
#ifndef SP_HTTP1_REQ_H
#define SP_HTTP1_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "sp_http1_memo.h"

enum {
	SP_HTTP1_REQ_NEED_MORE = 0, /* all bytes consumed, request incomplete */
	SP_HTTP1_REQ_DONE = 1,      /* a request ended; *consumed says where */
};

/* Error kinds, negative; sp_http1_req_error_name gives each a name. */
enum {
	SP_HTTP1_REQ_E_LINE = -1,    /* malformed request line */
	SP_HTTP1_REQ_E_TARGET = -2,  /* target neither origin-form nor "*" */
	SP_HTTP1_REQ_E_VERSION = -3, /* well-formed, but not HTTP/1.x */
	SP_HTTP1_REQ_E_HEADER = -4,  /* malformed header line (or obs-fold) */
	SP_HTTP1_REQ_E_HEADER_TOO_BIG = -5, /* head over max_header_bytes */
	SP_HTTP1_REQ_E_LENGTH = -6, /* bad or conflicting Content-Length */
	SP_HTTP1_REQ_E_HOST = -7,   /* no Host in HTTP/1.1, or several */
	SP_HTTP1_REQ_E_TRANSFER_ENCODING = -8, /* any Transfer-Encoding */
	SP_HTTP1_REQ_E_TRUNCATED = -9,         /* EOF inside a request */
};
#define SP_HTTP1_REQ_NERRORS 9

/* Methods told apart (case-sensitive, RFC 9110 section 9.1). */
enum {
	SP_HTTP1_M_OTHER = 0,
	SP_HTTP1_M_GET,
	SP_HTTP1_M_HEAD,
	SP_HTTP1_M_POST,
	SP_HTTP1_M_PUT,
	SP_HTTP1_M_DELETE,
	SP_HTTP1_M_OPTIONS,
	SP_HTTP1_M_PATCH,
};

#define SP_HTTP1_REQ_MAX_HEADER_DEFAULT (8u * 1024u)

/* What a request said of a WebSocket upgrade (sp_http1_req.ws), after
 * SP_HTTP1_REQ_DONE. */
enum {
	SP_HTTP1_REQ_WS_UPGRADE = 1 << 0,      /* Upgrade lists "websocket" */
	SP_HTTP1_REQ_WS_CONN_UPGRADE = 1 << 1, /* Connection lists "upgrade" */
	SP_HTTP1_REQ_WS_VERSION = 1 << 2,      /* Sec-WebSocket-Version seen */
	SP_HTTP1_REQ_WS_VERSION_13 = 1 << 3,   /* ... and it lists 13 */
	SP_HTTP1_REQ_WS_KEY = 1 << 4,          /* Sec-WebSocket-Key seen */
};
/* Sec-WebSocket-Key bytes kept: a key is base64 of 16 bytes. */
#define SP_HTTP1_REQ_KEY 24

struct sp_http1_req_memo;

struct sp_http1_req {
	/* Configuration: set after sp_http1_req_init, kept by _next. */
	size_t max_header_bytes;
	struct sp_http1_req_memo *memo; /* optional, see below */

	/* Results, valid after SP_HTTP1_REQ_DONE. */
	int method;          /* SP_HTTP1_M_* */
	int minor;           /* HTTP/1.<minor>; a higher minor counts as 1 */
	int must_close;      /* the client wants no further request */
	uint64_t body_bytes; /* Content-Length body, skipped */
	size_t header_bytes; /* request line and headers, blank lines
				 * before the request line included */
	uint8_t ws;          /* SP_HTTP1_REQ_WS_* */
	/* Sec-WebSocket-Key's value without the whitespace around it, and
	 * its length; SP_HTTP1_REQ_KEY + 1: longer, or several keys. */
	uint8_t ws_key_len;
	char ws_key[SP_HTTP1_REQ_KEY];

	/* Private parser state. */
	uint64_t remaining; /* body bytes left */
	uint64_t num;       /* Content-Length element being read */
	uint64_t content_length;
	uint8_t state;
	uint8_t eol;    /* what the LF after a CR ends */
	uint8_t hdr;    /* interpreted header being read */
	uint8_t mask;   /* candidate words still matching */
	uint8_t pos;    /* bytes matched against the candidates */
	uint8_t vstate; /* position within a list element */
	uint8_t flags;
	uint8_t hosts; /* Host fields seen, saturating */
	int error;
};

/*
 * A memo of the last request head parsed whole (it began and ended in one
 * call): a head that arrives byte for byte the same, whole, is not parsed
 * again, as sp_http1_memo does for responses. One memo serves any number
 * of parsers of one thread (set p->memo); zero it before use.
 */
struct sp_http1_req_memo {
	struct sp_http1_head_memo h;
	struct sp_http1_req after; /* the parser right after the head */
};

/* Prepare @p for the first request on a connection. */
void sp_http1_req_init(struct sp_http1_req *p);

/* Same for the next request, keeping the configuration. */
void sp_http1_req_next(struct sp_http1_req *p);

/* Feed @len bytes. Returns SP_HTTP1_REQ_NEED_MORE (*consumed = len),
 * SP_HTTP1_REQ_DONE (*consumed = bytes belonging to this request; the
 * rest is the next one's: pipelining), or a negative SP_HTTP1_REQ_E_*
 * (*consumed = offset of the offending byte). After DONE or an error,
 * calls return the same result with *consumed = 0 until the parser is
 * re-initialised. */
int sp_http1_req_parse(struct sp_http1_req *p, const uint8_t *buf, size_t len,
		       size_t *consumed);

/* The client closed its sending side. SP_HTTP1_REQ_NEED_MORE if no byte of
 * a request had arrived (blank lines aside: a clean close between
 * requests), SP_HTTP1_REQ_DONE if the request was complete, else
 * SP_HTTP1_REQ_E_TRUNCATED (or the error already returned). */
int sp_http1_req_eof(struct sp_http1_req *p);

/* "line", "target", ... for an SP_HTTP1_REQ_E_* (1-based index into the
 * kinds: -rc - 1); "unknown" for anything else. */
const char *sp_http1_req_error_name(int rc);

#endif /* SP_HTTP1_REQ_H */
