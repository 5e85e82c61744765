/*
 * `stampede serve --ws echo|broadcast`: the WebSocket responder (RFC 6455)
 * of stampede serve, on the same connections, the same stream seam and
 * (with --tls) the same TLS.
 *
 * Handshake. A request that lists "websocket" in Upgrade is judged by
 * section 4.2.1: GET, HTTP/1.1, Connection listing upgrade,
 * Sec-WebSocket-Version 13 (else 426 with Sec-WebSocket-Version: 13,
 * section 4.4) and a key that is base64 of 16 bytes (else 400); it must
 * not follow requests still unanswered. Accepted, it is answered 101 with
 * the key's Sec-WebSocket-Accept, through servemode.c's response pump;
 * frames are read once the 101 is queued whole. Every other request gets
 * the ordinary HTTP answer: one server serves both.
 *
 * Frames. Read with wslay's frame API (wslay_frame_recv), over contexts
 * pooled per core (sp_srv_wsf): a context holds a 4 KB buffer, so a
 * connection holds one only from its frame's first byte to its last. The
 * header is gathered and checked here first (mask, reserved bits,
 * opcodes, control frame rules, the shortest length form, fragmentation
 * order, the size bound), so a context never sees a frame it would
 * refuse, and its recv callback is given this frame's bytes only: its
 * buffer is empty when the frame ends. A frame cut short (the connection
 * failed or ended inside it) is finished with zeros before its context
 * goes back (bounded by --ws-max-message). Our frames are written by one
 * more context per core (wslay_frame_send), header only: payloads are
 * copied once, next to it, and a frame leaves in one send (one TLS record).
 *
 * Echo: each payload piece wslay hands back (what came in, up to 4 KB) is
 * checked (UTF-8 for text) and sent back at once, as a fragment of the
 * echoed message: a frame that arrives whole is echoed as one frame with
 * the same opcode, a long or split one as several fragments; the message
 * is the same. Nothing is buffered, so a text message found not UTF-8
 * part-way is cut by the close frame (1007) between two fragments, which
 * section 5.4 allows. A frame that does not fit the send buffer (a client
 * that sends and does not read) fails the connection: 1008, counted.
 *
 * Broadcast: one room per core. A data message is gathered whole in a
 * buffer (--ws-queue per core, --ws-max-message each), then sent to every
 * open WebSocket of the core, the sender included, in order of opening, a
 * bounded number of frames per loop iteration (sp_srv_ws_step). A
 * receiver whose send buffer lacks room for the frame (and a margin for
 * its pongs and close) misses that message, counted; no buffer free when
 * a message begins: the message is not sent, counted.
 *
 * Pings are answered with a pong of the same payload; a close frame with
 * the same code (none for none), then the TCP close. Protocol errors close
 * with the code section 7.4.1 gives each, counted by kind; after our close
 * frame the connection's input is counted, not read.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "sp_serve.h"
#include "sp_ws.h"

#define SP_WS_RESERVE 256 /* broadcast: room kept for pongs and a close */
#define SP_WS_FANOUT 1024 /* broadcast frames sent per loop iteration */

/* Close codes (RFC 6455 section 7.4.1). */
enum {
	CC_NORMAL = 1000,
	CC_PROTOCOL = 1002,
	CC_UTF8 = 1007,
	CC_POLICY = 1008,
	CC_TOO_BIG = 1009,
	CC_AGAIN = 1013,
};

const char *const sp_srv_ws_err_name[SP_SRV_WS_E_N] = {
	[SP_SRV_WS_E_UNMASKED] = "unmasked",
	[SP_SRV_WS_E_RSV] = "rsv",
	[SP_SRV_WS_E_OPCODE] = "opcode",
	[SP_SRV_WS_E_CONTROL] = "control",
	[SP_SRV_WS_E_LENGTH] = "length",
	[SP_SRV_WS_E_FRAGMENT] = "fragment",
	[SP_SRV_WS_E_CLOSE] = "close",
	[SP_SRV_WS_E_UTF8] = "utf8",
	[SP_SRV_WS_E_TOO_BIG] = "too_big",
	[SP_SRV_WS_E_EARLY] = "early_data",
	[SP_SRV_WS_E_POOL] = "no_context",
	[SP_SRV_WS_E_OVERFLOW] = "overflow",
};

const char *const sp_srv_ws_refuse_name[SP_SRV_WS_R_N] = {
	[SP_SRV_WS_R_PIPELINED] = "pipelined",
	[SP_SRV_WS_R_METHOD] = "method",
	[SP_SRV_WS_R_HTTP10] = "http10",
	[SP_SRV_WS_R_CONNECTION] = "connection",
	[SP_SRV_WS_R_VERSION] = "version",
	[SP_SRV_WS_R_KEY] = "key",
};

static inline uint32_t
ws_idx(const struct sp_servemode *m, const struct sp_srv_slot *s)
{
	return (uint32_t)(s - m->slots);
}

/* --- wslay's callbacks ---------------------------------------------- */

/* The frame being read asks for bytes: the rest of its header (checked
 * already, from our copy), then its payload from this call's bytes (or
 * zeros), never past the frame's end. 0: none now (wslay: WANT_READ). */
static ssize_t
ws_recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
	struct sp_srv_wsc *x = user;
	struct sp_srv_wsf *f = x->f;
	size_t n = 0, k;

	(void)flags;
	if (f->hfed < f->hlen) {
		k = (size_t)(f->hlen - f->hfed);
		if (k > len)
			return 0; /* not at a frame start: cannot be */
		memcpy(buf, f->hdr, k);
		f->hfed = f->hlen;
		n = k;
	}
	k = len - n;
	if (k > f->plen - f->pfed)
		k = (size_t)(f->plen - f->pfed);
	if (x->zero) {
		memset(buf + n, 0, k);
	} else {
		if (k > x->win_len - x->taken)
			k = x->win_len - x->taken;
		memcpy(buf + n, x->win + x->taken, k);
		x->taken += (uint32_t)k;
	}
	f->pfed += k;
	return (ssize_t)(n + k);
}

/* Our frames are written into x->wr_out (header) or not at all
 * (payload: the caller copies it, wr_sink). */
static ssize_t
ws_send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
	struct sp_srv_wsc *x = user;

	(void)flags;
	if (!x->wr_sink) {
		memcpy(x->wr_out + x->wr_n, data, len);
		x->wr_n += len;
	}
	return (ssize_t)len;
}

static int
ws_genmask_cb(uint8_t *buf, size_t len, void *user)
{
	(void)user;
	memset(buf, 0, len); /* a server's frames are not masked */
	return 0;
}

static const struct wslay_frame_callbacks ws_cbs = {
	.send_callback = ws_send_cb,
	.recv_callback = ws_recv_cb,
	.genmask_callback = ws_genmask_cb,
};

/* The header of an unmasked frame of @plen bytes into @out (at least
 * SP_SRV_WS_HEAD bytes), by wslay's writer: its length. */
static size_t
ws_head(struct sp_srv_wsc *x, int fin, int op, uint64_t plen, uint8_t *out)
{
	struct wslay_frame_iocb io = {
		.fin = (uint8_t)fin,
		.opcode = (uint8_t)op,
		.payload_length = plen,
		.data = out,
	};

	x->wr_out = out;
	x->wr_n = 0;
	x->wr_sink = 0;
	/* The header, then (if any) the payload the writer waits for: taken
	 * without a copy, so that it is ready for the next frame. */
	wslay_frame_send(x->wr, &io);
	if (plen > 0) {
		x->wr_sink = 1;
		io.data_length = (size_t)plen;
		wslay_frame_send(x->wr, &io);
	}
	return x->wr_n;
}

/* --- pools ----------------------------------------------------------- */

int
sp_srv_ws_setup(struct sp_servemode *m)
{
	struct sp_srv_wsc *x = &m->wsc;
	uint32_t n = m->ws_pool < m->nslots ? m->ws_pool : m->nslots;

	memset(x, 0, sizeof(*x));
	x->q_head = x->q_tail = SP_SRV_WS_NIL;
	x->list_head = x->list_tail = SP_SRV_WS_NIL;
	x->free_frame = x->free_buf = SP_SRV_WS_NIL;
	if (wslay_frame_context_init(&x->wr, &ws_cbs, x) != 0)
		goto oom;
	x->frames = calloc(n, sizeof(*x->frames));
	if (x->frames == NULL)
		goto oom;
	for (uint32_t i = 0; i < n; i++) {
		if (wslay_frame_context_init(&x->frames[i].ctx, &ws_cbs, x))
			goto oom;
		x->frames[i].next = i + 1 < n ? i + 1 : SP_SRV_WS_NIL;
		x->nframes++;
	}
	x->free_frame = 0;
	if (m->ws_mode != SP_SRV_WS_BROADCAST)
		return 0;
	x->bufs = calloc(m->ws_queue, sizeof(*x->bufs));
	if (x->bufs == NULL)
		goto oom;
	for (uint32_t i = 0; i < m->ws_queue; i++) {
		x->bufs[i].mem = malloc(SP_SRV_WS_HEAD + m->ws_max_message);
		if (x->bufs[i].mem == NULL)
			goto oom;
		x->bufs[i].next = x->free_buf;
		x->free_buf = i;
		x->nbufs++;
	}
	return 0;
oom:
	fprintf(stderr,
		"stampede: out of memory for the WebSocket pools (--ws-pool, "
		"--ws-queue, --ws-max-message)\n");
	return -1;
}

void
sp_srv_ws_free(struct sp_servemode *m)
{
	struct sp_srv_wsc *x = &m->wsc;

	if (x->frames != NULL)
		for (uint32_t i = 0; i < x->nframes; i++)
			wslay_frame_context_free(x->frames[i].ctx);
	if (x->bufs != NULL)
		for (uint32_t i = 0; i < x->nbufs; i++)
			free(x->bufs[i].mem);
	if (x->wr != NULL)
		wslay_frame_context_free(x->wr);
	free(x->frames);
	free(x->bufs);
	memset(x, 0, sizeof(*x));
}

/* The frame context @s holds goes back to the pool; one cut short inside
 * its payload is first fed zeros to its end, so that it is at a frame
 * boundary again (wslay has no reset). */
static void
ws_frame_release(struct sp_servemode *m, struct sp_srv_slot *s)
{
	struct sp_srv_wsc *x = &m->wsc;
	struct sp_srv_wsf *f;

	if (s->w.frame == SP_SRV_WS_NIL)
		return;
	f = &x->frames[s->w.frame];
	if (f->hlen != 0 && f->hfed == f->hlen) {
		struct wslay_frame_iocb io;

		x->f = f;
		x->zero = 1;
		while (f->pfed < f->plen)
			if (wslay_frame_recv(f->ctx, &io) < 0)
				break;
		x->zero = 0;
	}
	f->next = x->free_frame;
	x->free_frame = s->w.frame;
	s->w.frame = SP_SRV_WS_NIL;
}

static void
ws_buf_put(struct sp_srv_wsc *x, uint32_t b)
{
	x->bufs[b].next = x->free_buf;
	x->free_buf = b;
}

/* --- the broadcast room: the core's open WebSockets ------------------ */

static void
ws_list_add(struct sp_servemode *m, struct sp_srv_slot *s)
{
	struct sp_srv_wsc *x = &m->wsc;
	uint32_t i = ws_idx(m, s);

	s->w.prev = x->list_tail;
	s->w.next = SP_SRV_WS_NIL;
	if (x->list_tail == SP_SRV_WS_NIL)
		x->list_head = i;
	else
		m->slots[x->list_tail].w.next = i;
	x->list_tail = i;
}

static void
ws_list_del(struct sp_servemode *m, struct sp_srv_slot *s)
{
	struct sp_srv_wsc *x = &m->wsc;

	if (x->cursor == ws_idx(m, s))
		x->cursor = s->w.next;
	if (s->w.prev == SP_SRV_WS_NIL)
		x->list_head = s->w.next;
	else
		m->slots[s->w.prev].w.next = s->w.next;
	if (s->w.next == SP_SRV_WS_NIL)
		x->list_tail = s->w.prev;
	else
		m->slots[s->w.next].w.prev = s->w.prev;
}

/* @s leaves the open state (its close frame queued, or it ended): out of
 * the room, its buffers back. */
static void
ws_leave(struct sp_servemode *m, struct sp_srv_slot *s, uint8_t wst)
{
	if (s->wst != SP_SRV_WS_OPEN) {
		s->wst = wst;
		return;
	}
	s->wst = wst;
	ws_frame_release(m, s);
	if (m->ws_mode == SP_SRV_WS_BROADCAST) {
		ws_list_del(m, s);
		if (s->w.buf != SP_SRV_WS_NIL) {
			ws_buf_put(&m->wsc, s->w.buf);
			s->w.buf = SP_SRV_WS_NIL;
		}
	}
}

/* --- sending ---------------------------------------------------------- */

enum { WS_SENT = 0, WS_NOROOM = -1, WS_CUT = -2 };

/* One whole frame to @s, after room for @reserve more: WS_SENT, WS_NOROOM
 * (nothing sent) or WS_CUT (part of it sent: the connection must end). */
static int
ws_send(struct sp_servemode *m, struct sp_srv_slot *s, const uint8_t *frame,
	size_t n, size_t reserve)
{
	size_t off = 0;

	if (!sp_srv_room(m, s, n + reserve))
		return WS_NOROOM;
	/* one call over TCP; over TLS one record per call */
	while (off < n) {
		int32_t r = m->ops->send(m->impl, s->conn, frame + off,
					 (uint32_t)(n - off));

		if (r <= 0)
			break;
		off += (size_t)r;
	}
	sp_ctr_add(m->n.bytes_sent, off);
	return off == n ? WS_SENT : WS_CUT;
}

/* A frame of ours: header, then @n bytes of @pl. */
static int
ws_frame(struct sp_servemode *m, struct sp_srv_slot *s, int fin, int op,
	 const uint8_t *pl, size_t n)
{
	struct sp_srv_wsc *x = &m->wsc;
	size_t hl = ws_head(x, fin, op, n, x->out);

	memcpy(x->out + hl, pl, n);
	return ws_send(m, s, x->out, hl + n, 0);
}

/* Our close frame (@code 0: without a code), then the TCP close; or, if
 * it cannot be sent whole, a reset. Touch @s no more after. */
static void
ws_close(struct sp_servemode *m, struct sp_srv_slot *s, unsigned code)
{
	uint8_t pl[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	ws_leave(m, s, SP_SRV_WS_DONE);
	if (ws_frame(m, s, 1, WSLAY_CONNECTION_CLOSE, pl, code ? 2 : 0) ==
	    WS_SENT) {
		s->w.closing = 1;
		sp_ctr_inc(m->n.ws_close_sent[sp_vu_ws_close_bucket(
			code ? (int)code : -1)]);
		if (m->ops->close(m->impl, s->conn) == 0)
			return;
	}
	m->ops->abort(m->impl, s->conn);
}

/* Fail the WebSocket (section 7.1.7): counted by @kind, closed with
 * @code. */
static void
ws_fail(struct sp_servemode *m, struct sp_srv_slot *s, int kind, unsigned code)
{
	sp_ctr_inc(m->n.ws_errors[kind]);
	ws_close(m, s, code);
}

/* --- the opening handshake --------------------------------------------- */

/* Base64 of exactly 16 bytes: 22 characters, the last with its low four
 * bits clear, then "==" (RFC 4648 section 4). */
static int
ws_key_ok(const struct sp_http1_req *r)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (r->ws_key_len != SP_HTTP1_REQ_KEY || r->ws_key[22] != '=' ||
	    r->ws_key[23] != '=')
		return 0;
	for (int i = 0; i < 22; i++)
		if (r->ws_key[i] == '\0' || strchr(b64, r->ws_key[i]) == NULL)
			return 0;
	last = strchr(b64, r->ws_key[21]);
	return ((last - b64) & 15) == 0;
}

int
sp_srv_ws_request(struct sp_servemode *m, struct sp_srv_slot *s)
{
	const struct sp_http1_req *r = &s->req;
	int why;

	if (s->pending > 0)
		why = SP_SRV_WS_R_PIPELINED;
	else if (r->method != SP_HTTP1_M_GET)
		why = SP_SRV_WS_R_METHOD;
	else if (r->minor == 0)
		why = SP_SRV_WS_R_HTTP10;
	else if (!(r->ws & SP_HTTP1_REQ_WS_CONN_UPGRADE))
		why = SP_SRV_WS_R_CONNECTION;
	else if (!(r->ws & SP_HTTP1_REQ_WS_VERSION_13))
		why = SP_SRV_WS_R_VERSION;
	else if (!ws_key_ok(r))
		why = SP_SRV_WS_R_KEY;
	else
		return 0;
	sp_ctr_inc(m->n.ws_refused[why]);
	return why == SP_SRV_WS_R_VERSION ? SP_ERESP_426 : SP_ERESP_400;
}

size_t
sp_srv_ws_101(struct sp_servemode *m, const struct sp_srv_slot *s)
{
	char acc[SP_WS_ACCEPT_LEN + 1];
	int n;

	sp_ws_accept(s->req.ws_key, SP_HTTP1_REQ_KEY, acc);
	n = snprintf(m->wsc.resp101, sizeof(m->wsc.resp101),
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n\r\n",
		     acc);
	return (size_t)n;
}

void
sp_srv_ws_opened(struct sp_servemode *m, struct sp_srv_slot *s)
{
	memset(&s->w, 0, sizeof(s->w));
	s->w.frame = SP_SRV_WS_NIL;
	s->w.buf = SP_SRV_WS_NIL;
	s->w.utf8 = SP_UTF8_ACCEPT;
	s->wst = SP_SRV_WS_OPEN;
	sp_ctr_inc(m->n.ws_upgrades);
	sp_ctr_inc(m->n.ws_open);
	if (m->ws_mode == SP_SRV_WS_BROADCAST)
		ws_list_add(m, s);
	if (s->peer_eof)
		sp_srv_ws_peer_closed(m, s);
}

void
sp_srv_ws_early(struct sp_servemode *m, struct sp_srv_slot *s)
{
	/* A client waits for the 101 before it sends (section 4.1). */
	sp_ctr_inc(m->n.ws_errors[SP_SRV_WS_E_EARLY]);
	/* never opened: HTTP's closing, the 101 counted unanswered */
	s->wst = SP_SRV_WS_HTTP;
	s->closing = 1;
	m->ops->abort(m->impl, s->conn);
}

/* --- reading frames ---------------------------------------------------- */

/* Header bytes from @p into f->hdr, up to what the header needs (its
 * length is known from its second byte): bytes taken. */
static uint32_t
ws_head_take(struct sp_srv_wsf *f, const uint8_t *p, uint32_t len)
{
	uint32_t used = 0;

	while (used < len) {
		uint32_t need = f->hn < 2 ? 2 : f->hlen, k;

		if (f->hn >= need)
			break;
		k = need - f->hn;
		if (k > len - used)
			k = len - used;
		memcpy(f->hdr + f->hn, p + used, k);
		f->hn = (uint8_t)(f->hn + k);
		used += k;
		if (f->hn == 2)
			f->hlen = sp_ws_hdr_len(f->hdr[1]);
	}
	return used;
}

/* The header's first two bytes (section 5.2): 0, or the error kind. */
static int
ws_check_b01(const struct sp_srv_slot *s, const struct sp_srv_wsf *f)
{
	static const int kind[] = {
		[SP_WS_FRAME_RSV] = SP_SRV_WS_E_RSV,
		[SP_WS_FRAME_OPCODE] = SP_SRV_WS_E_OPCODE,
		[SP_WS_FRAME_MASK] = SP_SRV_WS_E_UNMASKED,
		[SP_WS_FRAME_CONTROL] = SP_SRV_WS_E_CONTROL,
		[SP_WS_FRAME_FRAGMENT] = SP_SRV_WS_E_FRAGMENT,
		[SP_WS_FRAME_LENGTH] = SP_SRV_WS_E_LENGTH,
	};
	enum sp_ws_frame_err r = sp_ws_frame_b01(f->hdr[0], f->hdr[1], 1,
						 s->w.msg_op != 0);

	return r == SP_WS_FRAME_OK ? 0 : kind[r] + 1;
}

/* The whole header is in: its length checked, a message begun. 0, or -1
 * after failing the connection. */
static int
ws_frame_start(struct sp_servemode *m, struct sp_srv_slot *s,
	       struct sp_srv_wsf *f)
{
	uint8_t op = f->hdr[0] & 0x0f;
	uint64_t plen = 0;

	/* the shortest form only (section 5.2), 63 bits at most */
	if (sp_ws_frame_len(f->hdr, &plen) != SP_WS_FRAME_OK) {
		ws_fail(m, s, SP_SRV_WS_E_LENGTH, CC_PROTOCOL);
		return -1;
	}
	f->plen = plen;
	f->pfed = 0;
	f->hfed = 0;
	f->ctrl_n = 0;
	sp_ctr_inc(m->n.ws_frames_received);
	if (wslay_is_ctrl_frame(op))
		return 0;
	if (op != WSLAY_CONTINUATION_FRAME)
		s->w.msg_len = 0;
	if (plen > m->ws_max_message - s->w.msg_len) {
		ws_fail(m, s, SP_SRV_WS_E_TOO_BIG, CC_TOO_BIG);
		return -1;
	}
	if (op == WSLAY_CONTINUATION_FRAME)
		return 0;
	s->w.msg_op = op;
	s->w.utf8 = SP_UTF8_ACCEPT;
	s->w.out = 0;
	if (m->ws_mode == SP_SRV_WS_BROADCAST) {
		struct sp_srv_wsc *x = &m->wsc;

		/* no buffer free: the message is read, not sent */
		s->w.buf = x->free_buf;
		if (s->w.buf != SP_SRV_WS_NIL) {
			x->free_buf = x->bufs[s->w.buf].next;
			x->bufs[s->w.buf].len = 0;
			x->bufs[s->w.buf].op = op;
		}
	}
	return 0;
}

/* broadcast: a whole message to the queue. */
static void
ws_enqueue(struct sp_servemode *m, uint32_t b)
{
	struct sp_srv_wsc *x = &m->wsc;
	struct sp_srv_wsb *mb = &x->bufs[b];
	uint8_t head[SP_SRV_WS_HEAD];

	mb->hl = (uint8_t)ws_head(x, 1, mb->op, mb->len, head);
	memcpy(mb->mem + SP_SRV_WS_HEAD - mb->hl, head, mb->hl);
	mb->next = SP_SRV_WS_NIL;
	if (x->q_tail == SP_SRV_WS_NIL)
		x->q_head = b;
	else
		x->bufs[x->q_tail].next = b;
	x->q_tail = b;
	sp_ctr_inc(m->n.ws_bcast_queued);
}

/* A payload piece of a data frame. 0, or -1 after failing the
 * connection. */
static int
ws_data_piece(struct sp_servemode *m, struct sp_srv_slot *s,
	      const struct sp_srv_wsf *f, const uint8_t *d, size_t n)
{
	int last = (f->hdr[0] & 0x80) && f->pfed == f->plen;
	uint8_t op = s->w.msg_op;

	s->w.msg_len += n;
	sp_ctr_add(m->n.ws_bytes_received, n);
	if (op == WSLAY_TEXT_FRAME) {
		s->w.utf8 = sp_utf8_feed(s->w.utf8, d, n);
		if (s->w.utf8 == SP_UTF8_REJECT ||
		    (last && s->w.utf8 != SP_UTF8_ACCEPT)) {
			ws_fail(m, s, SP_SRV_WS_E_UTF8, CC_UTF8);
			return -1;
		}
	}
	if (m->ws_mode == SP_SRV_WS_ECHO) {
		if (n > 0 || last) {
			int r = ws_frame(
				m, s, last,
				s->w.out ? WSLAY_CONTINUATION_FRAME : op, d, n);

			if (r == WS_CUT) {
				sp_ctr_inc(
					m->n.ws_errors[SP_SRV_WS_E_OVERFLOW]);
				ws_leave(m, s, SP_SRV_WS_DONE);
				m->ops->abort(m->impl, s->conn);
				return -1;
			}
			if (r == WS_NOROOM) {
				ws_fail(m, s, SP_SRV_WS_E_OVERFLOW, CC_POLICY);
				return -1;
			}
			s->w.out = 1;
			sp_ctr_add(m->n.ws_bytes_sent, n);
		}
	} else if (s->w.buf != SP_SRV_WS_NIL) {
		struct sp_srv_wsb *b = &m->wsc.bufs[s->w.buf];

		memcpy(b->mem + SP_SRV_WS_HEAD + b->len, d, n);
		b->len += n;
	}
	if (!last)
		return 0;
	sp_ctr_inc(m->n.ws_msgs_received);
	if (m->ws_mode == SP_SRV_WS_ECHO) {
		sp_ctr_inc(m->n.ws_msgs_sent);
	} else if (s->w.buf != SP_SRV_WS_NIL) {
		ws_enqueue(m, s->w.buf);
		s->w.buf = SP_SRV_WS_NIL;
	} else {
		sp_ctr_inc(m->n.ws_bcast_nobuf);
	}
	s->w.msg_op = 0;
	return 0;
}

/* A close frame came (its payload in f->ctrl): answered with its code
 * (section 5.5.1), or failed if it is not a valid one. */
static void
ws_on_close(struct sp_servemode *m, struct sp_srv_slot *s,
	    const struct sp_srv_wsf *f)
{
	unsigned code;

	if (f->ctrl_n == 0) {
		sp_ctr_inc(m->n.ws_close_received[SP_VU_WS_CLOSE_NONE]);
		ws_close(m, s, 0);
		return;
	}
	code = (unsigned)f->ctrl[0] << 8 | f->ctrl[1];
	if (f->ctrl_n == 1 || !sp_ws_close_code_ok(code)) {
		sp_ctr_inc(m->n.ws_close_received[SP_VU_WS_CLOSE_OTHER]);
		ws_fail(m, s, SP_SRV_WS_E_CLOSE, CC_PROTOCOL);
		return;
	}
	sp_ctr_inc(m->n.ws_close_received[sp_vu_ws_close_bucket((int)code)]);
	if (sp_utf8_feed(SP_UTF8_ACCEPT, f->ctrl + 2, f->ctrl_n - 2u) !=
	    SP_UTF8_ACCEPT) {
		ws_fail(m, s, SP_SRV_WS_E_UTF8, CC_UTF8);
		return;
	}
	ws_close(m, s, code);
}

/* A control frame is whole. 0, or -1 when the WebSocket is no longer
 * open. */
static int
ws_control(struct sp_servemode *m, struct sp_srv_slot *s,
	   const struct sp_srv_wsf *f)
{
	int r;

	switch (f->hdr[0] & 0x0f) {
	case WSLAY_PING:
		sp_ctr_inc(m->n.ws_pings);
		r = ws_frame(m, s, 1, WSLAY_PONG, f->ctrl, f->ctrl_n);
		if (r == WS_SENT) {
			sp_ctr_inc(m->n.ws_pongs_sent);
			return 0;
		}
		if (r == WS_CUT) {
			sp_ctr_inc(m->n.ws_errors[SP_SRV_WS_E_OVERFLOW]);
			ws_leave(m, s, SP_SRV_WS_DONE);
			m->ops->abort(m->impl, s->conn);
		} else {
			ws_fail(m, s, SP_SRV_WS_E_OVERFLOW, CC_POLICY);
		}
		return -1;
	case WSLAY_PONG:
		sp_ctr_inc(m->n.ws_pongs_received);
		return 0;
	default: /* WSLAY_CONNECTION_CLOSE */
		ws_on_close(m, s, f);
		return -1;
	}
}

void
sp_srv_ws_data(struct sp_servemode *m, struct sp_srv_slot *s, const uint8_t *p,
	       uint32_t len)
{
	struct sp_srv_wsc *x = &m->wsc;

	if (s->wst != SP_SRV_WS_OPEN)
		return; /* after our close: counted, not read */
	for (;;) {
		struct sp_srv_wsf *f;
		struct wslay_frame_iocb io;
		ssize_t r;
		int kind;

		if (s->w.frame == SP_SRV_WS_NIL) {
			if (len == 0)
				return;
			s->w.frame = x->free_frame;
			if (s->w.frame == SP_SRV_WS_NIL) {
				ws_fail(m, s, SP_SRV_WS_E_POOL, CC_AGAIN);
				return;
			}
			f = &x->frames[s->w.frame];
			x->free_frame = f->next;
			f->hn = f->hlen = f->hfed = 0;
		}
		f = &x->frames[s->w.frame];
		if (f->hn < 2 || f->hn < f->hlen) {
			int had2 = f->hn >= 2;
			uint32_t used = ws_head_take(f, p, len);

			p += used;
			len -= used;
			/* the first two bytes judged as soon as they are in */
			if (!had2 && f->hn >= 2) {
				kind = ws_check_b01(s, f);
				if (kind) {
					ws_fail(m, s, kind - 1, CC_PROTOCOL);
					return;
				}
			}
			if (f->hn < 2 || f->hn < f->hlen)
				return; /* all taken: the header goes on */
			if (ws_frame_start(m, s, f) < 0)
				return;
		}
		x->f = f;
		x->win = p;
		x->win_len = len;
		x->taken = 0;
		r = wslay_frame_recv(f->ctx, &io);
		p += x->taken;
		len -= x->taken;
		if (r == WSLAY_ERR_WANT_READ)
			return; /* all taken: the payload goes on */
		if (r < 0) {
			/* a header we checked refused: cannot be */
			ws_fail(m, s, SP_SRV_WS_E_CONTROL, CC_PROTOCOL);
			return;
		}
		if (f->hdr[0] & 0x08) { /* a control frame */
			memcpy(f->ctrl + f->ctrl_n, io.data, io.data_length);
			f->ctrl_n = (uint8_t)(f->ctrl_n + io.data_length);
			if (f->pfed < f->plen)
				continue;
			/* whole: the context goes back before the answer */
			{
				struct sp_srv_wsf c = *f;

				ws_frame_release(m, s);
				if (ws_control(m, s, &c) < 0)
					return;
			}
			continue;
		}
		if (ws_data_piece(m, s, f, io.data, io.data_length) < 0)
			return;
		if (f->pfed == f->plen)
			ws_frame_release(m, s);
	}
}

void
sp_srv_ws_peer_closed(struct sp_servemode *m, struct sp_srv_slot *s)
{
	/* The client closed TCP: without a close frame if still open
	 * (counted when the connection ends). Our side closes too. */
	if (s->wst != SP_SRV_WS_OPEN)
		return;
	ws_leave(m, s, SP_SRV_WS_DONE);
	if (m->ops->close(m->impl, s->conn) < 0)
		m->ops->abort(m->impl, s->conn);
}

void
sp_srv_ws_closed(struct sp_servemode *m, struct sp_srv_slot *s)
{
	if (s->wst < SP_SRV_WS_OPEN)
		return;
	if (s->w.closing)
		sp_ctr_inc(m->n.ws_ended_closed);
	else
		sp_ctr_inc(m->n.ws_ended_open);
	ws_leave(m, s, SP_SRV_WS_HTTP);
	s->wst = SP_SRV_WS_HTTP;
	sp_ctr_sub(m->n.ws_open, 1);
}

/* --- broadcast ------------------------------------------------------- */

void
sp_srv_ws_step(struct sp_servemode *m)
{
	struct sp_srv_wsc *x = &m->wsc;
	uint32_t budget = SP_WS_FANOUT;

	while (budget > 0 && x->q_head != SP_SRV_WS_NIL) {
		uint32_t b = x->q_head;
		struct sp_srv_wsb *mb = &x->bufs[b];
		const uint8_t *frame = mb->mem + SP_SRV_WS_HEAD - mb->hl;
		size_t n = mb->hl + mb->len;

		if (!x->fanning) {
			x->cursor = x->list_head;
			x->fanning = 1;
		}
		while (budget > 0 && x->cursor != SP_SRV_WS_NIL) {
			struct sp_srv_slot *s = &m->slots[x->cursor];
			int r;

			/* on first: the send may end @s */
			x->cursor = s->w.next;
			budget--;
			r = ws_send(m, s, frame, n, SP_WS_RESERVE);
			if (r == WS_SENT) {
				sp_ctr_inc(m->n.ws_msgs_sent);
				sp_ctr_add(m->n.ws_bytes_sent, mb->len);
			} else if (r == WS_NOROOM) {
				sp_ctr_inc(m->n.ws_bcast_dropped);
			} else {
				sp_ctr_inc(
					m->n.ws_errors[SP_SRV_WS_E_OVERFLOW]);
				ws_leave(m, s, SP_SRV_WS_DONE);
				m->ops->abort(m->impl, s->conn);
			}
		}
		if (x->cursor != SP_SRV_WS_NIL)
			break;
		x->fanning = 0;
		x->q_head = mb->next;
		if (x->q_head == SP_SRV_WS_NIL)
			x->q_tail = SP_SRV_WS_NIL;
		ws_buf_put(x, b);
		sp_ctr_inc(m->n.ws_bcast_done);
	}
}
