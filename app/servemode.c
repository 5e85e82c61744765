/*
 * `stampede serve`: an HTTP/1.1 responder on the same stack, the server
 * side of a lab benchmark between two boxes (what dperf's server mode or
 * TRex ASTF's server side do), so that a client's figures are not bounded
 * by a kernel server.
 *
 * It listens on one port and answers every request on every connection with
 * one response built at start: status line, Content-Length, a Connection
 * header, and a body of 'x'. Requests are parsed as they stream in
 * (sp_http1_req: any split, no buffering); pipelined requests are answered
 * in order. A response is queued to the stack as its send buffer frees
 * space (the `sent` callback), from the one prepared buffer at whatever
 * offset the connection has reached, so a large body costs no
 * per-connection memory beyond the stack's send queue. A connection owes
 * at most SP_SRV_PIPELINE responses at once (only when the client sends
 * faster than it reads); past that it is closed after answering them.
 *
 * A request the parser refuses gets one error response (400; 431 for a
 * head over the bound, 501 for Transfer-Encoding, 505 for another HTTP
 * version) after the responses owed, then the connection closes. A request
 * with Connection: close (or HTTP/1.0 without keep-alive), and every
 * request with --close, ends the connection after its response.
 *
 * Per-connection state lives in an array of --max-conns slots sized at
 * start, free slots on a stack of indices. Nothing is allocated while
 * serving. Stopping (duration or signal) aborts what is still open.
 *
 * The responder is a user of the sp_stream seam (sp_stream.h), not of the
 * stack: the TCP adapter (stream_tcp.c) hands it each accepted connection
 * through its accept hook, and with --tls each one is wrapped by the
 * core's server sp_tls instance (sp_tls_accept) first, so HTTP over TLS
 * is the same code over another stream. The plain path pays one indirect
 * call per operation for it, nothing per request. TLS: session IDs (a
 * cache per core) and tickets, a pool of contexts the size of the core's
 * slots, made at start (they hold the two 16 KB record buffers each); a
 * handshake not done within SP_SRV_TLS_HS_US is ended.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_serve.h"

#define SP_SRV_PIPELINE 64     /* responses owed per connection, at most */
#define SP_SRV_BODY_BUF 65536u /* body bytes kept ready after each head */
#define SP_SRV_HEAD_MAX 256
/* A prepared response's bytes from this many on are referred to by the
 * stream where it can (sp_stream_ops.send_ref), not copied into its send
 * queue: a body's bytes are copied once, into the frames. A shorter one
 * is copied, sharing a chunk of the pool with its neighbours (a reference
 * takes a chunk of its own). */
#define SP_SRV_REF_MIN 1024u
#define SP_SRV_TW_EXTRA_MAX 65536
#define SP_SRV_DRAIN_US (3 * SP_US_PER_S)
#define SP_SRV_TLS_HS_US (10 * SP_US_PER_S) /* a handshake's time, at most */
/* Session-ID cache entries per core, at most: mbedTLS's cache is a list it
 * walks on every lookup and every full handshake. Tickets need none. */
#define SP_SRV_TLS_CACHE_MAX 16384u
#define SP_SRV_TLS_CONNS 10000u /* --max-conns's default with --tls */
/* A TLS 1.2 record's bytes beyond its plaintext, at most (header, explicit
 * IV or nonce, MAC or tag, CBC padding), rounded up. */
#define SP_SRV_TLS_RECORD_OVER 64u

const char *const sp_eresp_text[SP_ERESP_N] = {
	"",
	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
	"Connection: close\r\n\r\n",
	"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n"
	"Connection: close\r\n\r\n",
	/* RFC 6455 section 4.4: the versions we speak */
	"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
	"Content-Length: 0\r\nConnection: close\r\n\r\n",
};

const char *const sp_eresp_code[SP_ERESP_N] = {
	"", "400", "431", "501", "505", "426",
};

const char *const sp_srv_end_name[SP_STREAM_END_NKINDS] = {
	[SP_STREAM_END_NORMAL] = "normal",
	[SP_STREAM_END_REFUSED] = "refused",
	[SP_STREAM_END_CONNECT_TIMEOUT] = "connect_timeout",
	[SP_STREAM_END_RESET] = "reset",
	[SP_STREAM_END_TIMEOUT] = "timeout",
	[SP_STREAM_END_ABORTED] = "aborted",
	[SP_STREAM_END_HANDSHAKE] = "tls_handshake",
	[SP_STREAM_END_VERIFY] = "tls_verify",
	[SP_STREAM_END_ALERT] = "tls_alert",
	[SP_STREAM_END_BAD_RECORD] = "tls_bad_record",
	[SP_STREAM_END_HANDSHAKE_TIMEOUT] = "tls_timeout",
};

static const char *
sp_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* Build one response variant at start. 0, or -1 (out of memory). */
static int
sp_srv_resp_build(struct sp_srv_resp *r, int status, uint64_t body, int close)
{
	char head[SP_SRV_HEAD_MAX];
	size_t ready = body < SP_SRV_BODY_BUF ? (size_t)body : SP_SRV_BODY_BUF;
	int n;

	/* 204 and 304 carry no body and (204) no Content-Length: RFC 9110
	 * sections 8.6, 15.3.5, 15.4.5. --body-size 0 is checked for them. */
	if (status == 204 || status == 304)
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\n"
			     "Connection: %s\r\n\r\n",
			     status, sp_reason(status),
			     close ? "close" : "keep-alive");
	else
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\n"
			     "Content-Length: %" PRIu64
			     "\r\nConnection: %s\r\n\r\n",
			     status, sp_reason(status), body,
			     close ? "close" : "keep-alive");
	r->head_len = (size_t)n;
	r->buf_len = r->head_len + ready;
	r->total = r->head_len + body;
	r->buf = malloc(r->buf_len);
	if (r->buf == NULL)
		return -1;
	memcpy(r->buf, head, r->head_len);
	memset(r->buf + r->head_len, 'x', ready);
	return 0;
}

static inline uint32_t
sp_srv_idx(const struct sp_servemode *m, const struct sp_srv_slot *s)
{
	return (uint32_t)(s - m->slots);
}

/* The response variant for the oldest owed response: the last one on a
 * connection that ends says so. Chosen when the response starts and kept
 * to its end: a FIN arriving half-way must not switch heads under it. */
static const struct sp_srv_resp *
sp_srv_cur(const struct sp_servemode *m, struct sp_srv_slot *s)
{
	if (s->off == 0)
		s->cur_close = m->close_each ||
			       (!s->reading && s->pending == 1 &&
				s->eresp == SP_ERESP_NONE);
	return s->cur_close ? &m->close : &m->keep;
}

/* Queue what the send buffer takes of the owed responses, in order; close
 * once all is queued on a connection that no longer reads. Returns 1 if
 * the connection may be gone (closed() may have run): touch @s no more. */
static int
sp_srv_pump(struct sp_servemode *m, struct sp_srv_slot *s)
{
	const struct sp_stream_ops *ops = m->ops;

	if (s->closing)
		return 0;
	for (;;) {
		const uint8_t *p;
		uint64_t total, n;
		int32_t r;
		int stays = 0; /* @p is a prepared response's, kept for the run */

		if (s->wst == SP_SRV_WS_UPGRADING) {
			/* the 101, the only response owed (made again from
			 * the request's key at each pass: no copy kept) */
			total = sp_srv_ws_101(m, s);
			p = (const uint8_t *)m->wsc.resp101 + s->off;
			n = total - s->off;
		} else if (s->pending > 0) {
			const struct sp_srv_resp *resp = sp_srv_cur(m, s);

			/* a HEAD response is the head alone (RFC 9110 9.3.2) */
			total = (s->head_mask & 1) ? resp->head_len :
						     resp->total;
			if (s->off < resp->buf_len) {
				p = (const uint8_t *)resp->buf + s->off;
				n = resp->buf_len - s->off;
			} else {
				/* past the prepared bytes the body is all
				 * 'x': send them again */
				p = (const uint8_t *)resp->buf + resp->head_len;
				n = resp->buf_len - resp->head_len;
			}
			if (n > total - s->off)
				n = total - s->off;
			stays = 1;
		} else if (s->eresp != SP_ERESP_NONE) {
			const char *t = sp_eresp_text[s->eresp];

			total = strlen(t);
			p = (const uint8_t *)t + s->off;
			n = total - s->off;
		} else {
			if (s->reading || s->wst != SP_SRV_WS_HTTP)
				return 0;
			s->closing = 1;
			if (ops->close(m->impl, s->conn) < 0)
				ops->abort(m->impl, s->conn);
			return 1;
		}
		if (n > 0) {
			uint32_t space = ops->send_space(m->impl, s->conn);

			if (space == 0)
				return 0;
			if (n > space)
				n = space;
			if (stays && n >= SP_SRV_REF_MIN && ops->send_ref != NULL)
				r = ops->send_ref(m->impl, s->conn, p,
						  (uint32_t)n);
			else
				r = ops->send(m->impl, s->conn, p, (uint32_t)n);
			if (r <= 0)
				return 0;
			s->off += (uint64_t)r;
			sp_ctr_add(m->n.bytes_sent, (uint64_t)r);
			if (s->off < total)
				continue;
		}
		s->off = 0;
		if (s->wst == SP_SRV_WS_UPGRADING) {
			s->pending = 0;
			sp_ctr_inc(m->n.responses);
			sp_srv_ws_opened(m, s);
			return 0;
		} else if (s->pending > 0) {
			s->pending--;
			s->head_mask >>= 1;
			sp_ctr_inc(m->n.responses);
		} else {
			sp_ctr_inc(m->n.eresp[s->eresp]);
			s->eresp = SP_ERESP_NONE;
		}
	}
}

static uint8_t
sp_srv_eresp_for(int rc)
{
	switch (rc) {
	case SP_HTTP1_REQ_E_HEADER_TOO_BIG:
		return SP_ERESP_431;
	case SP_HTTP1_REQ_E_TRANSFER_ENCODING:
		return SP_ERESP_501;
	case SP_HTTP1_REQ_E_VERSION:
		return SP_ERESP_505;
	default:
		return SP_ERESP_400;
	}
}

/* A connection the stack accepted (the adapter's accept hook): a slot,
 * and with --tls a TLS connection over it whose handshake begins with the
 * ClientHello. No slot: reset at once (counted). */
static void
sp_srv_accept(void *actx, struct sp_stream *inner)
{
	struct sp_servemode *m = actx;
	struct sp_srv_slot *s;
	uint32_t idx;
	int err;

	if (m->stopped || m->nfree == 0) {
		sp_ctr_inc(m->n.rejected);
		sp_stream_tcp_ops.abort(&m->tcp, inner);
		return;
	}
	idx = m->free_idx[--m->nfree];
	s = &m->slots[idx];
	memset(s, 0, sizeof(*s));
	s->reading = 1;
	sp_http1_req_init(&s->req);
	s->req.memo = &m->memo;
	if (m->tls != NULL) {
		/* The pool is the slots' size: empty only if a bug says so. */
		s->conn = sp_tls_accept(m->tls, inner, s, &err);
		if (s->conn == NULL) {
			m->free_idx[m->nfree++] = idx;
			sp_ctr_inc(m->n.rejected);
			sp_stream_tcp_ops.abort(&m->tcp, inner);
			return;
		}
	} else {
		s->conn = inner;
		sp_stream_tcp_ops.set_user(&m->tcp, inner, s);
	}
	sp_ctr_inc(m->n.connections);
	sp_ctr_inc(m->n.open);
}

/* TLS: the handshake is done; requests follow as data(). (A TCP
 * connection reaches sp_srv_accept instead.) */
static void
sp_srv_on_connected(void *ctx, void *user)
{
	(void)ctx;
	(void)user;
}

/* --ws: a request asked for a WebSocket; @data holds the @len bytes after
 * it. Accepted: the 101 is owed, and once it is queued whole the bytes
 * are frames (a client waits for the 101 before it sends: those are
 * early). Refused: the error response, then the close. */
static void
sp_srv_upgrade(struct sp_servemode *m, struct sp_srv_slot *s,
	       const uint8_t *data, uint32_t len)
{
	int e = sp_srv_ws_request(m, s);

	s->reading = 0;
	if (e != 0) {
		s->eresp = (uint8_t)e;
		sp_srv_pump(m, s);
		return;
	}
	s->wst = SP_SRV_WS_UPGRADING;
	s->pending = 1;
	if (sp_srv_pump(m, s) || len == 0)
		return;
	if (s->wst == SP_SRV_WS_OPEN)
		sp_srv_ws_data(m, s, data, len);
	else if (s->wst == SP_SRV_WS_UPGRADING)
		sp_srv_ws_early(m, s);
}

static void
sp_srv_on_data(void *ctx, void *user, const uint8_t *data, uint32_t len)
{
	struct sp_servemode *m = ctx;
	struct sp_srv_slot *s = user;
	size_t used;
	int rc;

	sp_ctr_add(m->n.bytes_received, len);
	if (s == NULL)
		return; /* never detached: only to keep the seam's rule */
	if (s->wst != SP_SRV_WS_HTTP) {
		if (s->wst == SP_SRV_WS_UPGRADING)
			sp_srv_ws_early(m, s);
		else
			sp_srv_ws_data(m, s, data, len);
		return;
	}
	while (s->reading && len > 0) {
		rc = sp_http1_req_parse(&s->req, data, len, &used);
		data += used;
		len -= (uint32_t)used;
		if (rc == SP_HTTP1_REQ_NEED_MORE)
			break;
		if (rc < 0) {
			sp_ctr_inc(m->n.errors[-rc - 1]);
			s->eresp = sp_srv_eresp_for(rc);
			s->reading = 0;
			break;
		}
		/* SP_HTTP1_REQ_DONE */
		sp_ctr_inc(m->n.requests);
		sp_ctr_add(m->n.body_received, s->req.body_bytes);
		if (m->ws_mode != SP_SRV_WS_OFF &&
		    (s->req.ws & SP_HTTP1_REQ_WS_UPGRADE)) {
			sp_srv_upgrade(m, s, data, len);
			return;
		}
		if (s->req.method == SP_HTTP1_M_HEAD)
			s->head_mask |= 1ull << s->pending;
		s->pending++;
		if (s->req.must_close || m->close_each) {
			s->reading = 0;
		} else if (s->pending == SP_SRV_PIPELINE) {
			/* the client sends and does not read: answer what
			 * is owed, then close */
			sp_ctr_inc(m->n.errors[SP_SRV_E_PIPELINE]);
			s->reading = 0;
		}
		sp_http1_req_next(&s->req);
	}
	sp_srv_pump(m, s);
}

static void
sp_srv_on_writable(void *ctx, void *user)
{
	sp_srv_pump(ctx, user);
}

/* The peer closed its side. Over TLS without a close_notify (@clean 0) it
 * is the same to us: nothing after it is read. */
static void
sp_srv_on_peer_closed(void *ctx, void *user, int clean)
{
	struct sp_servemode *m = ctx;
	struct sp_srv_slot *s = user;

	(void)clean;
	s->peer_eof = 1;
	if (s->wst >= SP_SRV_WS_OPEN) {
		sp_srv_ws_peer_closed(m, s);
		return;
	}
	if (s->reading) {
		/* half a request, then FIN: nothing to answer */
		if (sp_http1_req_eof(&s->req) == SP_HTTP1_REQ_E_TRUNCATED)
			sp_ctr_inc(m->n.errors[-SP_HTTP1_REQ_E_TRUNCATED - 1]);
		s->reading = 0;
	}
	sp_srv_pump(m, s);
}

static void
sp_srv_on_closed(void *ctx, void *user, enum sp_stream_end why)
{
	struct sp_servemode *m = ctx;
	struct sp_srv_slot *s = user;

	if (s == NULL)
		return; /* rejected in sp_srv_accept */
	sp_ctr_inc(m->n.closed_by[why]);
	sp_ctr_inc(m->n.closed);
	sp_ctr_sub(m->n.open, 1);
	sp_srv_ws_closed(m, s);
	/* requests whose response was not all queued (reset, stop) */
	sp_ctr_add(m->n.unanswered, s->pending);
	s->conn = NULL;
	m->free_idx[m->nfree++] = sp_srv_idx(m, s);
}

static const struct sp_stream_cbs sp_srv_cbs = {
	.connected = sp_srv_on_connected,
	.data = sp_srv_on_data,
	.writable = sp_srv_on_writable,
	.peer_closed = sp_srv_on_peer_closed,
	.closed = sp_srv_on_closed,
};

static void
sp_srv_stop(void *ctx, uint64_t now)
{
	struct sp_servemode *m = ctx;

	(void)now;
	m->stopped = 1;
	for (uint32_t i = 0; i < m->nslots; i++)
		if (m->slots[i].conn != NULL)
			m->ops->abort(m->impl, m->slots[i].conn);
}

/* Whether @n bytes go whole into @s's send buffer now: its space, and
 * chunks in the stack's pool to hold them (a send the pool cuts short
 * would cut a WebSocket frame). Over TLS, records add a few bytes each. */
int
sp_srv_room(const struct sp_servemode *m, const struct sp_srv_slot *s, size_t n)
{
	uint32_t used = sp_stack_chunks_in_use(m->w->st);
	uint32_t space = m->ops->send_space(m->impl, s->conn);
	size_t records = 1;

	if (space < n) {
		/* TLS offers one record at most: several fit if the TCP
		 * connection under it has room for them and their overhead */
		if (m->tls == NULL || space == 0)
			return 0;
		records = n / space + 1;
		if (sp_stream_tcp_ops.send_space((void *)&m->tcp,
						 sp_tls_inner(s->conn)) <
		    n + records * SP_SRV_TLS_RECORD_OVER)
			return 0;
	}
	n += records * SP_SRV_TLS_RECORD_OVER;
	return used < m->chunks && m->chunks - used >= n / SP_CHUNK_PAYLOAD + 2;
}

/* --tls: handshakes past their time end (a client that stalls in one
 * holds a slot and 37 KB); --ws broadcast: the queued messages go out. */
static int
sp_srv_step(void *ctx, uint64_t now)
{
	struct sp_servemode *m = ctx;

	(void)now;
	if (m->tls != NULL)
		sp_tls_poll(m->tls, rte_rdtsc());
	if (m->ws_mode == SP_SRV_WS_BROADCAST)
		sp_srv_ws_step(m);
	return 0;
}

/* Every core's counters added up (read while the workers write theirs:
 * each value is one worker's, read whole). */
#define SP_SRV_ADD(f) t->f += sp_ctr_read(n->f);
#define SP_SRV_ADDN(f, len)                                                    \
	for (size_t k = 0; k < (len); k++)                                     \
		t->f[k] += sp_ctr_read(n->f[k]);

static void
sp_srv_sum(const struct sp_servemode *m, struct sp_srv_counts *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t c = 0; c < m->ncores; c++) {
		const struct sp_srv_counts *n = &m->all[c].n;

		SP_SRV_COUNTERS(SP_SRV_ADD, SP_SRV_ADDN)
	}
}

static void
sp_srv_live(const void *ctx, char *buf, size_t len)
{
	struct sp_srv_counts n;
	char sent[32];

	sp_srv_sum(ctx, &n);
	sp_fmt_bytes(n.bytes_sent, sent, sizeof(sent));
	if (((const struct sp_servemode *)ctx)->ws_mode != SP_SRV_WS_OFF)
		snprintf(buf, len,
			 " requests %" PRIu64 " websockets %" PRIu64
			 " messages in %" PRIu64 " out %" PRIu64
			 " connections %" PRIu64 " sent %s",
			 n.requests, n.ws_open, n.ws_msgs_received,
			 n.ws_msgs_sent, n.connections, sent);
	else
		snprintf(buf, len,
			 " requests %" PRIu64 " responses %" PRIu64
			 " connections %" PRIu64 " open %" PRIu64 " sent %s",
			 n.requests, n.responses, n.connections, n.open, sent);
}

static const struct sp_mode sp_servemode_mode = {
	.name = "serve",
	.stop = sp_srv_stop,
	.live = sp_srv_live,
};

/* The same with a step for TLS's handshake timeouts and broadcast's
 * sends: the plain mode keeps no step at all. */
static const struct sp_mode sp_servemode_step_mode = {
	.name = "serve",
	.step = sp_srv_step,
	.stop = sp_srv_stop,
	.live = sp_srv_live,
};

static const char sp_serve_help[] =
	"usage: stampede serve --port P --ip A [options]\n"
	"       stampede serve --tls --cert FILE --key FILE --port P --ip A ...\n"
	"\n"
	"An HTTP/1.1 responder on stampede's own stack: answers every request\n"
	"on every connection with one fixed response, keep-alive and\n"
	"pipelining included, until --duration or Ctrl-C, then reports.\n"
	"With --tls it answers HTTPS (TLS 1.2, mbedTLS or OpenSSL) instead,\n"
	"resuming sessions by session ID and by ticket.\n"
	"\n"
	"  --listen-port N         TCP port to listen on (default 80)\n"
	"  --status CODE           status of every response (default 200)\n"
	"  --body-size BYTES       body length, k/m/g = KiB/MiB/GiB (default 0)\n"
	"  --close                 answer with Connection: close and close after\n"
	"                          each response (default: keep-alive)\n"
	"  --duration DUR          how long to serve (default 60s)\n"
	"  --max-conns N           connections open at once (default 100000,\n"
	"                          10000 with --tls);\n"
	"                          with --cores each core takes an even share,\n"
	"                          an eighth and 16 more, N at most (flows\n"
	"                          hash unevenly: the cores may hold more\n"
	"                          than N together)\n"
	"  --json FILE             write the report as JSON too\n"
	"                          (-: stdout, the summary then on stderr)\n"
	"  --tls                   HTTPS: TLS on every connection (listen port\n"
	"                          443 unless --listen-port)\n"
	"  --cert FILE --key FILE  with --tls: the certificate (chain) and its\n"
	"                          key, PEM or DER\n"
	"  --tls-ciphers LIST --tls-curves LIST  with --tls: what to accept,\n"
	"                          e.g. TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256\n"
	"                          and secp256r1 (default: a browser's)\n"
	"  --tls-psk ID:HEXKEY     with --tls: a pre-shared key (RFC 4279);\n"
	"                          --cert and --key are then optional\n"
	"  --tls-engine mbedtls|openssl  with --tls: the TLS library (default\n"
	"                          mbedtls; openssl: a full handshake costs\n"
	"                          about ten times less CPU)\n"
	"  --tls-no-resume         with --tls: resume no session (no cache, no\n"
	"                          tickets): every handshake is a full one,\n"
	"                          whatever the client offers\n"
	"  --ws echo|broadcast     WebSocket too (RFC 6455): a valid upgrade\n"
	"                          request gets 101, then echo sends every\n"
	"                          message back, broadcast sends it to every\n"
	"                          open WebSocket of the core (one room per\n"
	"                          core, the sender included); other requests\n"
	"                          get the HTTP response as without --ws\n"
	"  --ws-max-message BYTES  a message's size, at most (1009 beyond;\n"
	"                          default 1m for echo, 64k for broadcast)\n"
	"  --ws-pool N             frames being read at once, per core\n"
	"                          (default 1024; 4.3 KB each; more: 1013)\n"
	"  --ws-queue N            broadcast: messages queued per core, each\n"
	"                          --ws-max-message bytes (default 64)\n"
	"\n"
	"mbedTLS holds about 35 KB per connection (two 16 KB record buffers),\n"
	"allocated at start for each core's share of --max-conns (350 MB at\n"
	"10000); the report gives each engine's bytes per connection, busy\n"
	"and idle. Session IDs are cached per core (the last 16384\n"
	"sessions); a ticket is good on any core.\n"
	"\n" SP_NETOPT_HELP "\n"
	"Requests with Transfer-Encoding are answered 501, malformed ones 400\n"
	"(431: head over 8 KiB, 505: not HTTP/1.x); the connection then closes.\n"
	"durations: 500ms, 10s, 2m, 1h (a bare number is seconds)\n"
	"exit: 0 ran, 2 usage, 3 could not run (EAL, port)\n";

enum {
	SP_OPT_LISTEN_PORT = SP_OPT_BASE,
	SP_OPT_STATUS,
	SP_OPT_BODY_SIZE,
	SP_OPT_CLOSE,
	SP_OPT_DURATION,
	SP_OPT_MAX_CONNS,
	SP_OPT_JSON,
	SP_OPT_TLS,
	SP_OPT_CERT,
	SP_OPT_KEY,
	SP_OPT_TLS_CIPHERS,
	SP_OPT_TLS_CURVES,
	SP_OPT_TLS_NO_RESUME,
	SP_OPT_TLS_PSK,
	SP_OPT_TLS_ENGINE,
	SP_OPT_WS,
	SP_OPT_WS_MAX_MESSAGE,
	SP_OPT_WS_POOL,
	SP_OPT_WS_QUEUE,
	SP_OPT_HELP,
};

static const struct option sp_serve_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "listen-port", required_argument, NULL, SP_OPT_LISTEN_PORT },
	{ "status", required_argument, NULL, SP_OPT_STATUS },
	{ "body-size", required_argument, NULL, SP_OPT_BODY_SIZE },
	{ "close", no_argument, NULL, SP_OPT_CLOSE },
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "max-conns", required_argument, NULL, SP_OPT_MAX_CONNS },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "tls", no_argument, NULL, SP_OPT_TLS },
	{ "cert", required_argument, NULL, SP_OPT_CERT },
	{ "key", required_argument, NULL, SP_OPT_KEY },
	{ "tls-ciphers", required_argument, NULL, SP_OPT_TLS_CIPHERS },
	{ "tls-curves", required_argument, NULL, SP_OPT_TLS_CURVES },
	{ "tls-no-resume", no_argument, NULL, SP_OPT_TLS_NO_RESUME },
	{ "tls-psk", required_argument, NULL, SP_OPT_TLS_PSK },
	{ "tls-engine", required_argument, NULL, SP_OPT_TLS_ENGINE },
	{ "ws", required_argument, NULL, SP_OPT_WS },
	{ "ws-max-message", required_argument, NULL, SP_OPT_WS_MAX_MESSAGE },
	{ "ws-pool", required_argument, NULL, SP_OPT_WS_POOL },
	{ "ws-queue", required_argument, NULL, SP_OPT_WS_QUEUE },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sp_serve_args {
	struct sp_netopt net;
	const char *json_path;
	uint64_t duration_us;
};

/* --tls and its files: both or neither, readable (the engine parses
 * them at start, after EAL: a missing file is a usage error here). */
static int
sp_serve_parse_tls(struct sp_servemode *m, int port_set, int conns_set)
{
	struct sp_srv_tls *t = &m->tlsc;
	const char *file[2] = { t->cert, t->key };
	const char *opt[2] = { "--cert", "--key" };

	if (!t->on) {
		if (t->cert || t->key || t->ciphers || t->curves ||
		    t->no_resume || t->psk || t->engine) {
			sp_usage_error("--cert, --key and the --tls-* options "
				       "need --tls");
			return -1;
		}
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		/* A PSK alone will do; a certificate still needs both. */
		if (file[i] == NULL && t->psk != NULL &&
		    file[1 - i] == NULL)
			continue;
		if (file[i] == NULL) {
			sp_usage_error("--tls needs %s FILE", opt[i]);
			return -1;
		}
		if (access(file[i], R_OK) < 0) {
			sp_usage_error("%s: cannot read '%s': %s", opt[i],
				       file[i], strerror(errno));
			return -1;
		}
	}
	if (!port_set)
		m->port = 443;
	/* 35 KB a connection, allocated and touched at start: 100000 would
	 * be 3.5 GB and seconds of start-up that few runs want. */
	if (!conns_set)
		m->max_conns = SP_SRV_TLS_CONNS;
	return 0;
}

/* --ws and the options that go with it. */
static int
sp_serve_parse_ws(struct sp_servemode *m, int code, const char *arg)
{
	uint64_t v;

	switch (code) {
	case SP_OPT_WS:
		if (strcmp(arg, "echo") == 0) {
			m->ws_mode = SP_SRV_WS_ECHO;
		} else if (strcmp(arg, "broadcast") == 0) {
			m->ws_mode = SP_SRV_WS_BROADCAST;
		} else {
			sp_usage_error(
				"--ws: '%s' is neither echo nor broadcast",
				arg);
			return -1;
		}
		return 0;
	case SP_OPT_WS_MAX_MESSAGE:
		if (sp_parse_size("--ws-max-message", arg, &v) < 0)
			return -1;
		if (v == 0 || v > (1ull << 30)) {
			sp_usage_error("--ws-max-message: from 1 to 1g");
			return -1;
		}
		m->ws_max_message = v;
		return 0;
	case SP_OPT_WS_POOL:
		if (sp_parse_u64("--ws-pool", arg, 1, 1u << 22, &v) < 0)
			return -1;
		m->ws_pool = (uint32_t)v;
		return 0;
	default: /* SP_OPT_WS_QUEUE */
		if (sp_parse_u64("--ws-queue", arg, 1, 1u << 16, &v) < 0)
			return -1;
		m->ws_queue = (uint32_t)v;
		return 0;
	}
}

/* --ws's defaults; its options without it are a mistake. */
static int
sp_serve_ws_finish(struct sp_servemode *m)
{
	if (m->ws_mode == SP_SRV_WS_OFF) {
		if (m->ws_max_message || m->ws_pool || m->ws_queue) {
			sp_usage_error("--ws-max-message, --ws-pool and "
				       "--ws-queue need --ws");
			return -1;
		}
		return 0;
	}
	if (m->ws_queue && m->ws_mode != SP_SRV_WS_BROADCAST) {
		sp_usage_error("--ws-queue: for --ws broadcast only");
		return -1;
	}
	if (m->ws_max_message == 0)
		m->ws_max_message = m->ws_mode == SP_SRV_WS_ECHO ? 1u << 20 :
								   64u << 10;
	if (m->ws_pool == 0)
		m->ws_pool = 1024;
	if (m->ws_queue == 0)
		m->ws_queue = 64;
	if (m->ws_mode == SP_SRV_WS_BROADCAST &&
	    (uint64_t)m->ws_queue * m->ws_max_message > (1ull << 32)) {
		sp_usage_error("--ws-queue x --ws-max-message: 4 GiB per core "
			       "at most");
		return -1;
	}
	return 0;
}

static int
sp_serve_parse(int argc, char **argv, struct sp_servemode *m,
	       struct sp_serve_args *a)
{
	uint64_t v;
	int code, r, port_set = 0, conns_set = 0;

	sp_netopt_init(&a->net);
	m->port = 80;
	m->status = 200;
	m->max_conns = 100000;
	a->duration_us = 60 * SP_US_PER_S;

	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_serve_longopts,
				   NULL)) != -1) {
		r = sp_netopt_parse(&a->net, code, optarg);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (code) {
		case SP_OPT_LISTEN_PORT:
			if (sp_parse_u64("--listen-port", optarg, 1, 65535,
					 &v) < 0)
				return -1;
			m->port = (uint16_t)v;
			port_set = 1;
			break;
		case SP_OPT_STATUS:
			/* final statuses only: 1xx are interim */
			if (sp_parse_u64("--status", optarg, 200, 599, &v) < 0)
				return -1;
			m->status = (int)v;
			break;
		case SP_OPT_BODY_SIZE:
			if (sp_parse_size("--body-size", optarg,
					  &m->body_size) < 0)
				return -1;
			break;
		case SP_OPT_CLOSE:
			m->close_each = 1;
			break;
		case SP_OPT_DURATION:
			if (sp_parse_duration("--duration", optarg,
					      &a->duration_us) < 0)
				return -1;
			if (a->duration_us == 0) {
				sp_usage_error("--duration: must be positive");
				return -1;
			}
			break;
		case SP_OPT_MAX_CONNS:
			if (sp_parse_u64("--max-conns", optarg, 1, 1u << 22,
					 &v) < 0)
				return -1;
			m->max_conns = (uint32_t)v;
			conns_set = 1;
			break;
		case SP_OPT_JSON:
			a->json_path = optarg;
			break;
		case SP_OPT_TLS:
			m->tlsc.on = 1;
			break;
		case SP_OPT_CERT:
			m->tlsc.cert = optarg;
			break;
		case SP_OPT_KEY:
			m->tlsc.key = optarg;
			break;
		case SP_OPT_TLS_CIPHERS:
			m->tlsc.ciphers = optarg;
			break;
		case SP_OPT_TLS_CURVES:
			m->tlsc.curves = optarg;
			break;
		case SP_OPT_TLS_NO_RESUME:
			m->tlsc.no_resume = 1;
			break;
		case SP_OPT_TLS_PSK:
			m->tlsc.psk = optarg;
			break;
		case SP_OPT_TLS_ENGINE:
			m->tlsc.engine = sp_tls_engine_find(optarg);
			if (m->tlsc.engine == NULL) {
				sp_usage_error("--tls-engine: '%s' is not "
					       "mbedtls or openssl",
					       optarg);
				return -1;
			}
			break;
		case SP_OPT_WS:
		case SP_OPT_WS_MAX_MESSAGE:
		case SP_OPT_WS_POOL:
		case SP_OPT_WS_QUEUE:
			if (sp_serve_parse_ws(m, code, optarg) < 0)
				return -1;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_serve_help, stdout);
			exit(SP_EXIT_OK);
		default:
			return sp_opt_bad("serve", code, argv);
		}
	}
	if (sp_opt_no_args("serve", argc, argv) < 0)
		return -1;
	if ((m->status == 204 || m->status == 304) && m->body_size != 0) {
		sp_usage_error(
			"--status %d: has no body (--body-size must be 0)",
			m->status);
		return -1;
	}
	if (sp_serve_parse_tls(m, port_set, conns_set) < 0 ||
	    sp_serve_ws_finish(m) < 0)
		return -1;
	return sp_netopt_finish(&a->net);
}

/* Core @i's share of --max-conns: even, plus an eighth and a few for a
 * hash that never splits flows exactly evenly; all of them on one core. */
static uint32_t
sp_srv_share(uint32_t max_conns, uint32_t ncores)
{
	uint64_t even = ((uint64_t)max_conns + ncores - 1) / ncores;
	uint64_t share = even + even / 8 + 16;

	return ncores == 1 || share > max_conns ? max_conns : (uint32_t)share;
}

/* Core @i's state, the plan copied from all[0] (which parsed it and, for
 * i = 0, builds the responses every core sends). */
static int
sp_servemode_alloc(struct sp_servemode *all, uint32_t ncores, uint32_t i)
{
	struct sp_servemode *m = &all[i];

	if (i > 0) {
		*m = all[0];
		memset(&m->memo, 0, sizeof(m->memo));
		memset(&m->wsc, 0, sizeof(m->wsc)); /* core 0's pools */
		m->tls = NULL; /* core 0's: each core makes its own */
	} else if (sp_srv_resp_build(&m->keep, m->status, m->body_size, 0) <
			   0 ||
		   sp_srv_resp_build(&m->close, m->status, m->body_size, 1) <
			   0) {
		fprintf(stderr, "stampede: out of memory for the responses\n");
		return -1;
	}
	m->all = all;
	m->ncores = ncores;
	m->nslots = sp_srv_share(m->max_conns, ncores);
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	m->free_idx = calloc(m->nslots, sizeof(*m->free_idx));
	if (m->slots == NULL || m->free_idx == NULL) {
		fprintf(stderr, "stampede: out of memory for %u connections\n",
			m->nslots);
		return -1;
	}
	/* Highest index at the bottom: slot 0 is used first. */
	for (uint32_t k = 0; k < m->nslots; k++)
		m->free_idx[k] = m->nslots - 1 - k;
	m->nfree = m->nslots;
	if (m->ws_mode != SP_SRV_WS_OFF)
		return sp_srv_ws_setup(m);
	return 0;
}

/*
 * The chunk pool holds send queues (and out-of-order requests). Only
 * connections with a response on its way hold chunks; idle keep-alive ones
 * hold none. Give SP_SRV_SENDING of them room for a whole response (or
 * send buffer), plus the stack's headroom, up to SP_SRV_CHUNKS_MAX
 * (64 MiB): one chunk per pool slot, the stack's default, would be 340 MiB
 * at --max-conns 100000. Past it connections wait their turn for chunks
 * (tcp.snd_nochunk in the report).
 */
#define SP_SRV_SENDING 4096u
#define SP_SRV_CHUNKS_MAX 32768u

static void
sp_servemode_size_chunks(const struct sp_servemode *m,
			 struct sp_stack_config *cfg)
{
	/* --ws: frames whose size the clients choose, to every receiver */
	uint64_t queued = m->keep.total < cfg->sndbuf && !m->ws_mode ?
				  m->keep.total :
				  cfg->sndbuf;
	uint64_t sending = m->nslots < SP_SRV_SENDING ? m->nslots :
							SP_SRV_SENDING;
	uint64_t want = sending * ((queued + SP_CHUNK_PAYLOAD - 1) /
					   SP_CHUNK_PAYLOAD +
				   1) +
			4096;

	cfg->chunks = (uint32_t)(want < SP_SRV_CHUNKS_MAX ? want :
							    SP_SRV_CHUNKS_MAX);
}

static uint64_t
sp_srv_tsc(void *arg)
{
	(void)arg;
	return rte_rdtsc();
}

/* --tls: core @m's server instance over its TCP adapter, a context for
 * each of its slots. 0, or -1 after printing why. */
static int
sp_srv_tls_setup(struct sp_servemode *m)
{
	const struct sp_srv_tls *tc = &m->tlsc;
	struct sp_tls_conf conf = {
		.role = SP_TLS_SERVER,
		.engine = tc->engine,
		.conns = m->nslots,
		.cert_file = tc->cert,
		.key_file = tc->key,
		.ciphers = tc->ciphers,
		.curves = tc->curves,
		.psk = tc->psk,
		.session_cache = tc->no_resume ? 0 :
				 m->nslots < SP_SRV_TLS_CACHE_MAX ?
						 m->nslots :
						 SP_SRV_TLS_CACHE_MAX,
		.tickets = !tc->no_resume,
		.clock = sp_srv_tsc,
		.clock_hz = rte_get_tsc_hz(),
		.handshake_timeout_us = SP_SRV_TLS_HS_US,
		.inner_ops = &sp_stream_tcp_ops,
		.inner_impl = &m->tcp,
	};
	char err[256];

	m->tlsc.cache = conf.session_cache;
	m->tls = sp_tls_create(&conf, &sp_srv_cbs, m, err, sizeof(err));
	if (m->tls == NULL) {
		/* Only memory is --max-conns's doing; a bad file is not. */
		if (errno == ENOMEM)
			fprintf(stderr,
				"stampede: %s; --max-conns %u makes %u TLS "
				"connections per core: lower it\n",
				err, m->max_conns, m->nslots);
		else
			fprintf(stderr, "stampede: %s\n", err);
		return -1;
	}
	return 0;
}

/* Core @i: its state, its stack listening on the port, the responder on
 * the stack's stream (with --tls, TLS's over it). 0, or -1 after
 * printing why. */
static int
sp_serve_core_setup(struct sp_servemode *all, struct sp_cores *cores,
		    const struct sp_netopt *no, uint32_t i)
{
	struct sp_servemode *m = &all[i];
	struct sp_stack_config cfg;
	struct sp_core_mode cm = {
		.mode = all[0].tlsc.on ||
					all[0].ws_mode == SP_SRV_WS_BROADCAST ?
				&sp_servemode_step_mode :
				&sp_servemode_mode,
		.mode_ctx = m,
		.ops = sp_stream_tcp_stack_ops(),
		.app = &m->tcp,
		.drain_us = SP_SRV_DRAIN_US,
	};
	uint64_t extra;
	int err;

	if (sp_servemode_alloc(all, cores->n, i) < 0)
		return -1;
	if (m->tlsc.on) {
		if (sp_srv_tls_setup(m) < 0)
			return -1;
		sp_stream_tcp_init(&m->tcp, sp_tls_inner_cbs(), m->tls);
		m->ops = &sp_tls_stream_ops;
		m->impl = m->tls;
	} else {
		sp_stream_tcp_init(&m->tcp, &sp_srv_cbs, m);
		m->ops = &sp_stream_tcp_ops;
		m->impl = &m->tcp;
	}
	sp_stream_tcp_accept(&m->tcp, sp_srv_accept, m);
	/* Pool: every open connection plus those we closed first, lingering
	 * in TIME_WAIT (Connection: close, --close, errors). How many linger
	 * depends on the rate of new connections (times TIME_WAIT's 1 s),
	 * not on --max-conns: a pool of twice a small --max-conns capped
	 * new connections at that many a second (2,048/s with 1,024). A
	 * TIME_WAIT entry is a stack connection only (about 180 B). */
	extra = SP_SRV_TW_EXTRA_MAX;
	sp_cores_stack_config(cores, &cfg, (uint32_t)(m->nslots + extra),
			      m->nslots);
	sp_servemode_size_chunks(m, &cfg);
	m->chunks = cfg.chunks;
	m->w = &cores->ws[i];
	if (sp_cores_add(cores, i, no, &cfg, &cm) < 0)
		return -1;
	sp_stream_tcp_attach(&m->tcp, m->w->st);
	err = sp_tcp_listen(m->w->st, m->port);
	if (err < 0) {
		fprintf(stderr, "stampede: cannot listen on port %u: %s\n",
			m->port, strerror(-err));
		return -1;
	}
	return 0;
}

int
sp_cmd_serve(int argc, char **argv)
{
	static struct sp_cores cores;
	struct sp_servemode *all;
	struct sp_serve_args a;
	struct sp_report rep;
	struct sp_srv_counts tot;
	FILE *json = NULL;
	uint32_t n;
	int ret = SP_EXIT_NORUN;

	memset(&a, 0, sizeof(a));
	/* all[0] takes the options; the other cores copy its plan. */
	all = calloc(SP_MAX_CORES, sizeof(*all));
	if (all == NULL) {
		fprintf(stderr, "stampede: out of memory\n");
		return SP_EXIT_NORUN;
	}
	if (sp_serve_parse(argc, argv, &all[0], &a) < 0) {
		free(all);
		return SP_EXIT_USAGE;
	}
	if (a.json_path != NULL) {
		json = sp_out_open("--json", a.json_path);
		if (json == NULL) {
			free(all);
			return SP_EXIT_USAGE;
		}
	}
	n = a.net.cores;
	if (sp_cores_open(&cores, &a.net) < 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (sp_serve_core_setup(all, &cores, &a.net, i) < 0)
			goto out;
	if (sp_cores_run(&cores, a.duration_us) < 0)
		goto out;
	sp_report_collect_n(&rep, cores.ws, n, &cores.port);
	rep.mode = "serve";
	if (all[0].tls != NULL) {
		struct sp_tls_counters c;

		sp_srv_tls_sum(&all[0], &c);
		rep.tls_hs_allocs = (int64_t)c.allocs_hs;
	}
	{
		char ip[16];

		sp_ipv4_str(a.net.ip, ip, sizeof(ip));
		snprintf(rep.target, sizeof(rep.target), "%s:%u", ip,
			 all[0].port);
	}
	sp_srv_sum(&all[0], &tot);
	sp_serve_print(&all[0], &tot, &rep, sp_out_summary(a.json_path));
	ret = SP_EXIT_OK;
	if (json != NULL) {
		if (sp_serve_json(&all[0], &tot, &rep, json, a.json_path) < 0)
			ret = SP_EXIT_NORUN;
		json = NULL;
	}
out:
	sp_out_discard(json, a.json_path);
	sp_cores_close(&cores);
	for (uint32_t i = 0; i < SP_MAX_CORES; i++) {
		sp_tls_destroy(all[i].tls);
		sp_srv_ws_free(&all[i]);
		free(all[i].slots);
		free(all[i].free_idx);
	}
	free(all[0].keep.buf);
	free(all[0].close.buf);
	free(all);
	return ret;
}
