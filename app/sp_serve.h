/*
 * stampede serve's own types (servemode.c: the responder; serve_report.c:
 * its text and JSON reports).
 */
#ifndef SP_SERVE_H
#define SP_SERVE_H

#include <stdio.h>

#include "sp_app.h"
#include "sp_http1_req.h"
#include "sp_stream_tcp.h"
#include "sp_tls.h"
#include "sp_vu.h" /* the close-code buckets run's report uses too */

/* Error responses, by what the parser said. */
enum {
	SP_ERESP_NONE,
	SP_ERESP_400,
	SP_ERESP_431,
	SP_ERESP_501,
	SP_ERESP_505,
	SP_ERESP_426, /* --ws: a WebSocket version other than 13 */
	SP_ERESP_N
};

/* Errors by kind: the parser's, then ours. */
enum { SP_SRV_E_PIPELINE = SP_HTTP1_REQ_NERRORS, SP_SRV_NERR };

/* --ws: the responder's mode. */
enum { SP_SRV_WS_OFF, SP_SRV_WS_ECHO, SP_SRV_WS_BROADCAST };

/* --ws: where a connection stands (sp_srv_slot.wst). */
enum {
	SP_SRV_WS_HTTP = 0,  /* requests are HTTP */
	SP_SRV_WS_UPGRADING, /* the 101 is the response owed (the only one) */
	SP_SRV_WS_OPEN,      /* frames are read */
	SP_SRV_WS_DONE,      /* our close frame is queued, or the connection
			      * failed: what comes is counted, not read */
};

/* --ws: protocol errors by kind (the close code sent for each: serve_ws.c). */
enum {
	SP_SRV_WS_E_UNMASKED, /* a client frame without a mask: 1002 */
	SP_SRV_WS_E_RSV,      /* a reserved bit set (no extension): 1002 */
	SP_SRV_WS_E_OPCODE,   /* a reserved opcode: 1002 */
	SP_SRV_WS_E_CONTROL,  /* a control frame fragmented or over 125 B */
	SP_SRV_WS_E_LENGTH,   /* a length not in its shortest form, or
			       * with the top bit set: 1002 */
	SP_SRV_WS_E_FRAGMENT, /* a continuation with no message begun, or
			       * a new message inside one: 1002 */
	SP_SRV_WS_E_CLOSE,    /* a close payload of 1 byte or with a code
			       * not allowed on the wire: 1002 */
	SP_SRV_WS_E_UTF8,     /* text (or a close reason) not UTF-8: 1007 */
	SP_SRV_WS_E_TOO_BIG,  /* a message over --ws-max-message: 1009 */
	SP_SRV_WS_E_EARLY,    /* bytes before the 101 was queued: reset */
	SP_SRV_WS_E_POOL,     /* no frame context free: 1013 */
	SP_SRV_WS_E_OVERFLOW, /* an answer did not fit the send buffer (the
			       * client does not read): 1008, or reset */
	SP_SRV_WS_E_N
};

/* --ws: upgrade requests refused, by reason (the answer: 400, or 426). */
enum {
	SP_SRV_WS_R_PIPELINED,  /* after requests still unanswered */
	SP_SRV_WS_R_METHOD,     /* not GET */
	SP_SRV_WS_R_HTTP10,     /* HTTP/1.0 */
	SP_SRV_WS_R_CONNECTION, /* Connection does not list upgrade */
	SP_SRV_WS_R_VERSION,    /* Sec-WebSocket-Version not 13: 426 */
	SP_SRV_WS_R_KEY,        /* no key, several, or not base64 of 16 B */
	SP_SRV_WS_R_N
};

#define SP_SRV_WS_NIL UINT32_MAX

/* --ws: a connection's WebSocket once the 101 is queued (it takes the
 * request parser's place). */
struct sp_srv_ws {
	uint64_t msg_len;    /* payload bytes of the data message so far */
	uint32_t utf8;       /* text: sp_utf8_feed's state */
	uint32_t frame;      /* the frame context it holds, or SP_SRV_WS_NIL */
	uint32_t prev, next; /* broadcast: the core's open WebSockets */
	uint32_t buf;        /* broadcast: the message's buffer, or NIL */
	uint8_t msg_op;      /* the data message's opcode; 0: none begun */
	uint8_t out;         /* echo: a frame of its echo went out */
	uint8_t closing;     /* our close frame is queued */
};

struct sp_srv_slot {
	struct sp_stream *conn; /* TCP's, or TLS's over it; NULL: free */
	union {
		struct sp_http1_req req; /* until the 101 is queued */
		struct sp_srv_ws w;      /* after */
	};
	uint64_t off;       /* bytes of the oldest owed response queued */
	uint64_t head_mask; /* bit i: owed response i answers a HEAD */
	uint32_t pending;   /* responses owed, oldest first */
	uint8_t eresp;      /* an error response owed after them */
	uint8_t reading;    /* 0: requests are no longer read */
	uint8_t closing;    /* close called */
	uint8_t cur_close;  /* the response being queued is the close one */
	uint8_t wst;        /* SP_SRV_WS_* */
	uint8_t peer_eof;   /* the peer closed its side */
};

/* --ws: a frame being read, lent to a connection from its first byte to
 * its last (pooled per core: wslay's context holds a 4 KB buffer). The
 * header is gathered and checked here before wslay sees any of it, and
 * wslay is fed this frame's bytes only, so that its buffer is empty when
 * the frame ends and the context can go to the next connection. */
struct sp_srv_wsf {
	struct wslay_frame_context *ctx;
	uint64_t plen; /* payload length */
	uint64_t pfed; /* payload bytes given to wslay */
	uint32_t next; /* free list */
	uint8_t hdr[14];
	uint8_t hn;     /* header bytes gathered */
	uint8_t hlen;   /* the header's length, once 2 bytes say it */
	uint8_t hfed;   /* header bytes given to wslay: 0 or hlen */
	uint8_t ctrl_n; /* control frame payload gathered */
	uint8_t ctrl[125];
};

/* --ws broadcast: a message gathered whole, then sent to every open
 * WebSocket of the core (its frame header right before the payload). */
struct sp_srv_wsb {
	uint8_t *mem;  /* SP_SRV_WS_HEAD + --ws-max-message bytes */
	uint64_t len;  /* payload bytes */
	uint32_t next; /* free list, or the queue */
	uint8_t op;
	uint8_t hl; /* header bytes, ending at mem + SP_SRV_WS_HEAD */
};
#define SP_SRV_WS_HEAD 14 /* a frame header, at most */
#define SP_SRV_WS_101_MAX 160
/* A payload piece wslay hands back, at most: its input buffer. */
#define SP_SRV_WS_PIECE 4096

/* --ws: a core's WebSocket state. */
struct sp_srv_wsc {
	struct sp_srv_wsf *frames;
	uint32_t nframes, free_frame;
	struct sp_srv_wsb *bufs;
	uint32_t nbufs, free_buf;
	uint32_t q_head, q_tail; /* broadcast: messages to send, in order */
	uint32_t list_head, list_tail; /* broadcast: open WebSockets */
	uint32_t cursor; /* the next receiver of the queue's head */
	int fanning;     /* the queue's head is being sent */
	/* wslay's writer of our (unmasked) frame headers, one per core. */
	struct wslay_frame_context *wr;
	uint8_t *wr_out;
	size_t wr_n;
	int wr_sink;
	/* What the frame context being read is fed from (its recv
	 * callback): this call's bytes, or zeros to finish a frame cut
	 * short. */
	struct sp_srv_wsf *f;
	const uint8_t *win;
	uint32_t win_len, taken;
	int zero;
	char resp101[SP_SRV_WS_101_MAX];
	uint8_t out[SP_SRV_WS_HEAD + SP_SRV_WS_PIECE];
};

/* One prepared response: head, then up to SP_SRV_BODY_BUF body bytes. */
struct sp_srv_resp {
	char *buf;
	size_t head_len, buf_len;
	uint64_t total; /* head + the whole body */
};

/* The serve mode's counters, one writer: the worker. Every one is in
 * SP_SRV_COUNTERS, what is added up across cores. */
// clang-format off
#define SP_SRV_COUNTERS(X, A)                                                  \
	X(requests) X(responses) X(unanswered) X(connections) X(closed)        \
	X(open) X(rejected) A(closed_by, SP_STREAM_END_NKINDS)                 \
	X(bytes_received) X(bytes_sent) X(body_received)                       \
	A(errors, SP_SRV_NERR) A(eresp, SP_ERESP_N)                            \
	X(ws_upgrades) A(ws_refused, SP_SRV_WS_R_N) X(ws_open)                 \
	X(ws_ended_open) X(ws_ended_closed) X(ws_frames_received)              \
	X(ws_msgs_received) X(ws_msgs_sent)                                    \
	X(ws_bytes_received) X(ws_bytes_sent)                                  \
	X(ws_pings) X(ws_pongs_sent) X(ws_pongs_received)                      \
	A(ws_close_received, SP_VU_WS_CLOSE_N)                                 \
	A(ws_close_sent, SP_VU_WS_CLOSE_N) A(ws_errors, SP_SRV_WS_E_N)         \
	X(ws_bcast_queued) X(ws_bcast_done) X(ws_bcast_dropped)                \
	X(ws_bcast_nobuf)
// clang-format on

struct sp_srv_counts {
	uint64_t requests, responses, unanswered;
	uint64_t connections, closed, open, rejected;
	uint64_t closed_by[SP_STREAM_END_NKINDS];
	uint64_t bytes_received, bytes_sent, body_received;
	uint64_t errors[SP_SRV_NERR];
	uint64_t eresp[SP_ERESP_N];
	/* --ws */
	uint64_t ws_upgrades; /* 101s queued whole */
	uint64_t ws_refused[SP_SRV_WS_R_N];
	uint64_t ws_open; /* gauge: WebSockets open now */
	/* connections that ended with the WebSocket open (no close frame
	 * either way), and after a close frame */
	uint64_t ws_ended_open, ws_ended_closed;
	uint64_t ws_frames_received;
	/* data messages (text and binary) and their payload bytes */
	uint64_t ws_msgs_received, ws_msgs_sent;
	uint64_t ws_bytes_received, ws_bytes_sent;
	uint64_t ws_pings, ws_pongs_sent, ws_pongs_received;
	uint64_t ws_close_received[SP_VU_WS_CLOSE_N]; /* by code's bucket */
	uint64_t ws_close_sent[SP_VU_WS_CLOSE_N];
	uint64_t ws_errors[SP_SRV_WS_E_N];
	/* broadcast: messages queued, sent to every receiver, sends
	 * dropped (a receiver's buffer full), messages not kept (no
	 * buffer free) */
	uint64_t ws_bcast_queued, ws_bcast_done, ws_bcast_dropped;
	uint64_t ws_bcast_nobuf;
};
_Static_assert((0 SP_SRV_COUNTERS(SP_LIST_COUNT1, SP_LIST_COUNTN)) *
			       sizeof(uint64_t) ==
		       sizeof(struct sp_srv_counts),
	       "SP_SRV_COUNTERS must list every counter of sp_srv_counts");

extern const char *const sp_eresp_text[SP_ERESP_N];
extern const char *const sp_eresp_code[SP_ERESP_N];
/* How a connection ended, by sp_stream_end: TCP's kinds first (named as
 * the stack names them: the report's keys did not change), then TLS's. */
extern const char *const sp_srv_end_name[SP_STREAM_END_NKINDS];
#define SP_SRV_TCP_ENDS (SP_STREAM_END_ABORTED + 1)

/* --tls: what every core's instance is made from. */
struct sp_srv_tls {
	int on;
	const char *cert, *key, *ciphers, *curves;
	const char *psk; /* --tls-psk ID:HEXKEY: a certificate is optional */
	int no_resume;   /* --tls-no-resume: neither cache nor tickets */
	const struct sp_tls_engine *engine; /* --tls-engine; NULL: mbedTLS */
	uint32_t cache; /* session-ID cache entries per core */
};

struct sp_servemode {
	/* Plan. */
	uint16_t port;
	int status;
	uint64_t body_size;
	int close_each;
	uint32_t max_conns; /* over all cores */
	struct sp_srv_tls tlsc;
	int ws_mode;             /* SP_SRV_WS_OFF, _ECHO, _BROADCAST */
	uint64_t ws_max_message; /* --ws-max-message */
	uint32_t ws_pool;        /* --ws-pool: frame contexts per core */
	uint32_t ws_queue;       /* --ws-queue: broadcast buffers per core */

	/* This core's: its worker, its share of the connections. */
	struct sp_worker *w;
	struct sp_servemode *all; /* every core's, all[0] .. all[ncores-1] */
	uint32_t ncores;
	struct sp_srv_resp keep, close; /* Connection: keep-alive / close;
					 * the buffers are all[0]'s */
	/* The stream the slots ride on: the TCP adapter, or TLS over it. */
	const struct sp_stream_ops *ops;
	void *impl;
	struct sp_stream_tcp tcp;
	struct sp_tls *tls; /* --tls: this core's server instance */
	struct sp_srv_slot *slots;
	uint32_t nslots;
	uint32_t *free_idx;
	uint32_t nfree;
	int stopped;
	/* The last request head seen whole, for every connection: the same
	 * head again is not parsed again (clients mostly repeat theirs). */
	struct sp_http1_req_memo memo;

	uint32_t chunks;       /* the stack's pool (a send must find room) */
	struct sp_srv_wsc wsc; /* --ws */

	struct sp_srv_counts n; /* one writer: the worker */
};

/* serve_report.c */
void sp_serve_print(const struct sp_servemode *m, const struct sp_srv_counts *n,
		    const struct sp_report *r, FILE *out);
int sp_serve_json(const struct sp_servemode *m, const struct sp_srv_counts *n,
		  const struct sp_report *r, FILE *f, const char *path);
/* The cores' TLS counters added up into @t (zeros without --tls). */
int sp_srv_tls_sum(const struct sp_servemode *m, struct sp_tls_counters *t);

/* servemode.c: whether @n bytes may be sent on @s now, whole. */
int sp_srv_room(const struct sp_servemode *m, const struct sp_srv_slot *s,
		size_t n);

/* serve_ws.c: the WebSocket responder (--ws). */
extern const char *const sp_srv_ws_err_name[SP_SRV_WS_E_N];
extern const char *const sp_srv_ws_refuse_name[SP_SRV_WS_R_N];
int sp_srv_ws_setup(struct sp_servemode *m);
void sp_srv_ws_free(struct sp_servemode *m);
/* A request that asked for a WebSocket is done: 0 if the 101 is owed,
 * else the error response to send (SP_ERESP_*, counted). */
int sp_srv_ws_request(struct sp_servemode *m, struct sp_srv_slot *s);
/* The 101 for @s's request into m->wsc.resp101: its length. */
size_t sp_srv_ws_101(struct sp_servemode *m, const struct sp_srv_slot *s);
/* The 101 is queued whole: frames are read from now on. */
void sp_srv_ws_opened(struct sp_servemode *m, struct sp_srv_slot *s);
void sp_srv_ws_data(struct sp_servemode *m, struct sp_srv_slot *s,
		    const uint8_t *p, uint32_t len);
/* Bytes came while the 101 was still owed. */
void sp_srv_ws_early(struct sp_servemode *m, struct sp_srv_slot *s);
void sp_srv_ws_peer_closed(struct sp_servemode *m, struct sp_srv_slot *s);
void sp_srv_ws_closed(struct sp_servemode *m, struct sp_srv_slot *s);
/* broadcast: send queued messages, a bounded number of frames. */
void sp_srv_ws_step(struct sp_servemode *m);

#endif /* SP_SERVE_H */
