/*
 * The WebSocket protocol client of the virtual-user engine (struct
 * sp_vu_client, see vu_int.h), on wslay's frame API (RFC 6455).
 *
 * The upgrade is an HTTP/1.1 request (vu_http.c); this file checks its
 * 101 as the header fields pass (sp_vu_ws_offer, sp_vu_ws_on_header,
 * sp_vu_ws_handshake_ok) and takes the connection over when the engine
 * says it is upgraded (start). From there it runs the ws block's steps
 * (send, expect, listen, ping, close, end), answers pings, keeps the
 * close handshake and fails the session on what RFC 6455 forbids.
 *
 * Memory. wslay's frame context is ~4.2 KB (a 4 KB input buffer): none is
 * kept per connection. The engine has a pool of them; a connection takes
 * one when a frame's header is whole and gives it back at the frame's
 * end. The header is read here first (at most 14 bytes, kept per VU), so
 * the frame's length is known and wslay is fed exactly the frame's bytes
 * through its receive callback (the callback hands out the piece the
 * stream gave, then "would block"): its buffer is empty at every frame
 * boundary and the context can serve another connection. Sending needs no
 * context at all: a frame is sent only when the stream takes it whole (a
 * message larger than the send space goes out as fragments that fit),
 * and ws_send_frame writes it, header and masked payload, itself. Masking
 * keys come from the engine's RNG, no syscall.
 * The per-VU state is struct sp_vu_ws below (_Static_assert'ed); with
 * the pool's share (a context per 8 VUs beyond 256) an idle WebSocket
 * costs well under 1 KiB beyond its TCP connection.
 *
 * Expect steps match messages as they stream: `contains` by KMP (as the
 * HTTP body check; a templated one is rendered for the VU when its step
 * starts, into room lent for the step, its table made then), `regex` (PCRE2, compiled at engine creation, one
 * match data per engine) over a window of the message's first
 * SP_VU_WS_WINDOW bytes taken from a pool for that message only: a
 * pattern that needs bytes past the window does not match. An expect
 * judges the messages that begin while it is on (one already coming in
 * when it starts counts as unmatched, as does any message no expect is
 * on for). A measured send times one round trip at a time: from its
 * message queued to the first message the next step (an expect) matches,
 * or to the next message at all when no expect follows; a measured
 * message sent while one is still out is not timed.
 *
 * Session ends: a close handshake either way completes it (the server
 * closes the TCP connection first); a failure (RFC 6455 7.1.7) sends the
 * close code that says why if it fits (1002 protocol, 1007 UTF-8, 1009 too
 * big, 1011 our pool empty, 1000 an expect's timeout: we end the session
 * on purpose and nothing broke the protocol) and closes without waiting;
 * the run's end sends 1001 "going away". The upgrade's session is counted
 * from its request (vu.c): a failed upgrade is a failed session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_pattern.h"
#include "vu_rand.h"
#include "vu_render.h"
#include "vu_ws_int.h"

/* ---- pools ---- */

static ssize_t ws_recv_cb(uint8_t *buf, size_t len, int flags, void *user);

/* Receiving only: frames go out by ws_send_frame. */
const struct wslay_frame_callbacks sp_vu_ws_cbs = {
	.recv_callback = ws_recv_cb,
};

static int
ws_ctx_get(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	if (w->fctx != SP_VU_WS_NONE)
		return 0;
	if (wp->ctx_avail == 0)
		return -1;
	w->fctx = wp->ctx_free[--wp->ctx_avail];
	return 0;
}

static void
ws_ctx_put(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	if (w->fctx == SP_VU_WS_NONE)
		return;
	wp->ctx_free[wp->ctx_avail++] = w->fctx;
	w->fctx = SP_VU_WS_NONE;
}

static void
ws_win_put(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	if (w->win == SP_VU_WS_NONE)
		return;
	wp->win_free[wp->win_avail++] = w->win;
	w->win = SP_VU_WS_NONE;
}

/*
 * A frame context lent in the middle of a frame holds that frame's bytes:
 * a connection that ends there cannot give it back as it is. Feed it the
 * rest of the frame as zeros (wslay only unmasks and hands them out), so
 * it is at a frame boundary again.
 */
static void
ws_ctx_drop(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	static const uint8_t zeros[1024];
	struct wslay_frame_iocb io;

	if (w->fctx == SP_VU_WS_NONE)
		return;
	if (w->feed_left > 65536) {
		/* Too long to drain: a fresh context (an allocation, on the
		 * path of a connection lost in a long frame only). */
		wslay_frame_context_ptr c;

		if (wslay_frame_context_init(&c, &sp_vu_ws_cbs, wp) == 0) {
			wslay_frame_context_free(wp->ctx[w->fctx]);
			wp->ctx[w->fctx] = c;
			ws_ctx_put(wp, w);
			return;
		}
	}
	/* Its header went in with its first bytes (ws_feed). */
	wp->f_hdr_n = 0;
	while (w->rx_left > 0) {
		ssize_t r;

		if (w->feed_left > 0 && wp->f_p_n == 0) {
			wp->f_p = zeros;
			wp->f_p_n = w->feed_left < sizeof(zeros) ?
					    (uint32_t)w->feed_left :
					    (uint32_t)sizeof(zeros);
			w->feed_left -= wp->f_p_n;
		}
		r = wslay_frame_recv(wp->ctx[w->fctx], &io);
		if (r <= 0)
			break;
		w->rx_left -= (uint64_t)r;
	}
	wp->f_p_n = 0;
	wp->f_hdr_n = 0;
	ws_ctx_put(wp, w);
}

static void
ws_pat_put(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	if (w->pat == SP_VU_WS_NONE)
		return;
	wp->pat_free[wp->pat_avail++] = w->pat;
	w->pat = SP_VU_WS_NONE;
}

static void
ws_release(struct sp_vu_ws_pool *wp, struct sp_vu_ws *w)
{
	ws_ctx_drop(wp, w);
	ws_win_put(wp, w);
	ws_pat_put(wp, w);
}

/* ---- wslay's callbacks ---- */

static ssize_t
ws_recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
	struct sp_vu_ws_pool *wp = user;
	size_t n = 0, k;

	(void)flags;
	k = wp->f_hdr_n < len ? wp->f_hdr_n : len;
	memcpy(buf, wp->f_hdr, k);
	wp->f_hdr += k;
	wp->f_hdr_n -= (uint32_t)k;
	n += k;
	k = wp->f_p_n < len - n ? wp->f_p_n : len - n;
	memcpy(buf + n, wp->f_p, k);
	wp->f_p += k;
	wp->f_p_n -= (uint32_t)k;
	n += k;
	/* The piece is used up: "would block" (wslay reads it as WANT_READ). */
	return n > 0 ? (ssize_t)n : -1;
}

/* ---- sending ---- */

static uint32_t
ws_frame_size(uint64_t len)
{
	return (uint32_t)(len < 126 ? 6 : len < 65536 ? 8 : 14) + (uint32_t)len;
}

/* One whole frame, masked (RFC 6455 5.3); the caller made sure the
 * stream takes it (ws_frame_size). 0, or -1: the stream did not (the
 * connection is failing).
 *
 * Written here rather than by wslay_frame_send: wslay masks byte by byte
 * and hands the header and the payload to two callbacks, ~970
 * instructions for a 64-byte frame, most of a small echo's client cost;
 * this masks 8 bytes at a time into a buffer on the stack and writes the
 * frame in one or a few pieces. */
static int
ws_send_frame(struct sp_vu_engine *e, struct sp_vu *v, uint8_t op, int fin,
	      const uint8_t *p, uint64_t len)
{
	uint8_t b[2048]; /* a multiple of 8: the mask's phase restarts */
	uint32_t key = (uint32_t)sp_vu_rand(&e->rng), n = 2;
	uint64_t m8, off = 0;
	uint8_t k4[8];

	b[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		b[1] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		b[1] = 0x80 | 126;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		n = 4;
	} else {
		b[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			b[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	memcpy(k4, &key, 4);
	memcpy(k4 + 4, &key, 4);
	memcpy(&m8, k4, 8);
	memcpy(b + n, k4, 4);
	n += 4;
	/* The header, then the payload in pieces of a multiple of 8 bytes
	 * (the last excepted): payload byte j takes key byte j % 4, and each
	 * piece starts at a multiple of 8, so at key byte 0. */
	do {
		uint32_t room = (uint32_t)sizeof(b) - n, k, i = 0;
		uint8_t *d = b + n;

		room &= ~7u;
		k = len - off < room ? (uint32_t)(len - off) : room;
		for (; i + 8 <= k; i += 8) {
			uint64_t w;

			memcpy(&w, p + off + i, 8);
			w ^= m8;
			memcpy(d + i, &w, 8);
		}
		for (; i < k; i++)
			d[i] = p[off + i] ^ k4[i & 3];
		n += k;
		if (sp_vu_write(e, v, b, n, 0) != (int32_t)n)
			return -1;
		off += k;
		n = 0;
	} while (off < len);
	return 0;
}

static int
ws_fits(struct sp_vu_engine *e, struct sp_vu *v, uint64_t len)
{
	return v->c != NULL && sp_vu_write_space(e, v) >= ws_frame_size(len);
}

static int
ws_send_close(struct sp_vu_engine *e, struct sp_vu *v, unsigned code,
	      const char *reason)
{
	uint8_t b[SP_VU_WS_CTL_MAX];
	size_t n = 0;

	if (code != 0) {
		size_t rl = reason != NULL ? strlen(reason) : 0;

		if (rl > SP_VU_WS_CTL_MAX - 2)
			rl = SP_VU_WS_CTL_MAX - 2;
		b[0] = (uint8_t)(code >> 8);
		b[1] = (uint8_t)code;
		if (rl > 0)
			memcpy(b + 2, reason, rl);
		n = 2 + rl;
	}
	if (!ws_fits(e, v, n))
		return -1;
	if (ws_send_frame(e, v, WS_OP_CLOSE, 1, b, n) < 0)
		return -1;
	sp_ctr_inc(e->s.ws_closes_sent);
	return 0;
}

static int
ws_send_ping(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *p,
	     uint32_t n)
{
	if (!ws_fits(e, v, n) || ws_send_frame(e, v, WS_OP_PING, 1, p, n) < 0)
		return -1;
	sp_ctr_inc(e->s.ws_pings_sent);
	return 0;
}

/* ---- the session's end ---- */

/* The session is over: its pools back, the VU's step moves on, the
 * connection let go (@how: sp_vu_drop_conn's). */
static void
ws_gone(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w, int how)
{
	w->st = WS_GONE;
	w->jump = 1;
	ws_release(ws_pool(e), w);
	sp_vu_drop_conn(e, v, how);
}

/* The session failed (@kind): say why in a close frame if one fits
 * (@code; 0: none, the connection is gone or reset) and let the
 * connection go. RFC 6455 7.1.7: failing needs no close handshake. */
static void
ws_fail(struct sp_vu_engine *e, struct sp_vu *v, unsigned kind, unsigned code)
{
	struct sp_vu_ws *w = ws_of(e, v);

	if (w->st == WS_GONE)
		return;
	sp_vu_ws_end(e, v, SP_VU_WS_FAILED, kind);
	if (code != 0 && w->st == WS_OPEN && v->c != NULL)
		(void)ws_send_close(e, v, code, NULL);
	ws_gone(e, v, w, SP_VU_GRACEFUL);
}

/* The close handshake is done: the session completed. The server closes
 * the TCP connection first (RFC 6455 7.1.1), so its TIME_WAIT is its. */
static void
ws_completed(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);

	sp_vu_ws_end(e, v, SP_VU_WS_COMPLETED, 0);
	ws_gone(e, v, w, SP_VU_AFTER_SERVER);
}

/* After an event: move the VU on if its step or its session ended. The
 * last thing an event does (the VU may start anything after). */
static void
ws_event_end(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);
	int jump = w->jump, done = w->step_done;

	w->jump = 0;
	w->step_done = 0;
	if (jump || done) {
		w->kind = 0;
		ws_pat_put(ws_pool(e), w); /* the expect's rendered contains */
	}
	if (v->state != SP_VU_WS && v->state != SP_VU_THINK)
		return;
	if (jump)
		sp_vu_proto_next(e, v, 1);
	else if (done)
		sp_vu_proto_next(e, v, 0);
}

/* ---- receiving ---- */

static void
ws_rtt(struct sp_vu_engine *e, struct sp_vu_ws *w)
{
	uint64_t now = *e->now;

	if (w->t_measure == 0)
		return;
	sp_hist_record(&e->s.ws_rtt,
		       now > w->t_measure ? now - w->t_measure : 0);
	w->t_measure = 0;
}

/* A data message starts: does the expect on judge it? */
static int
ws_msg_start(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);

	w->msg_len = 0;
	w->utf8 = SP_UTF8_ACCEPT;
	w->kmp = 0;
	w->win_len = 0;
	w->msg_match = w->kind == SP_STEP_WS_EXPECT;
	if (w->msg_match && wp->re != NULL && wp->re[w->ws] != NULL) {
		if (wp->win_avail == 0)
			return -1;
		w->win = wp->win_free[--wp->win_avail];
	}
	(void)v;
	return 0;
}

/* The expect's contains: the plan's literal, or the one rendered for
 * the VU when the step started. 0: none (any message contains it). */
static int
ws_pattern(const struct sp_vu_ws_pool *wp, const struct sp_ws_step *ws,
	   const struct sp_vu_ws *w, const uint8_t **pat, const uint32_t **f,
	   uint32_t *len)
{
	const uint8_t *room;

	if (ws->contains != NULL) {
		*pat = (const uint8_t *)ws->contains;
		*f = ws->contains_kmp;
		*len = ws->contains_len;
		return 1;
	}
	if (ws->contains_tpl.nparts == 0 || w->pat == SP_VU_WS_NONE)
		return 0;
	room = wp->pats + (size_t)w->pat * wp->pat_size;
	*pat = room;
	*f = (const uint32_t *)(const void *)(room + ((wp->pat_max + 7) & ~7u));
	*len = w->pat_len;
	return 1;
}

static void
ws_msg_bytes(struct sp_vu_engine *e, struct sp_vu_ws *w, const uint8_t *p,
	     size_t n)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
	uint32_t k = w->kmp, len;
	const uint8_t *pat;
	const uint32_t *f;

	if (!w->msg_match)
		return;
	/* KMP, streaming: k pattern bytes matched so far carry over from
	 * one piece (frame, fragment) to the next. */
	if (ws_pattern(wp, ws, w, &pat, &f, &len) && k < len) {
		for (size_t i = 0; i < n; i++) {
			while (k > 0 && pat[k] != p[i])
				k = f[k - 1];
			if (pat[k] == p[i])
				k++;
			if (k == len)
				break;
		}
		w->kmp = k;
	}
	if (w->win != SP_VU_WS_NONE && w->win_len < SP_VU_WS_WINDOW) {
		size_t c = SP_VU_WS_WINDOW - w->win_len;

		if (c > n)
			c = n;
		memcpy(wp->wins + (size_t)w->win * SP_VU_WS_WINDOW + w->win_len,
		       p, c);
		w->win_len += (uint32_t)c;
	}
}

/* A whole data message. */
static void
ws_msg_end(struct sp_vu_engine *e, struct sp_vu_ws *w)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);
	int ok = 0;

	sp_ctr_inc(e->s.ws_msgs_received);
	sp_ctr_add(e->s.ws_bytes_received, w->msg_len);
	w->msg_op = 0;
	if (w->msg_match && w->kind == SP_STEP_WS_EXPECT) {
		const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
		const uint8_t *pat;
		const uint32_t *f;
		uint32_t len;

		if (ws_pattern(wp, ws, w, &pat, &f, &len))
			ok = w->kmp == len;
		else /* no contains, or (never) its room not held */
			ok = ws->contains_tpl.nparts == 0;
		if (ok && w->win != SP_VU_WS_NONE)
			ok = pcre2_match(wp->re[w->ws],
					 wp->wins + (size_t)w->win *
							    SP_VU_WS_WINDOW,
					 w->win_len, 0, 0, wp->md, NULL) >= 0;
	}
	ws_win_put(wp, w);
	w->msg_match = 0;
	if (!ok) {
		sp_ctr_inc(e->s.ws_unmatched);
		if (w->measure_any)
			ws_rtt(e, w);
		return;
	}
	sp_ctr_inc(e->s.ws_matched);
	ws_rtt(e, w);
	if (++w->done >= e->pl->ws_steps[w->ws].expect_count)
		w->step_done = 1;
}

static void
ws_pong(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	if (w->st != WS_OPEN)
		return; /* nothing after our close (RFC 6455 5.5.1) */
	if (!ws_fits(e, v, w->ctl_n)) {
		w->owe_pong = 1; /* only the latest ping is answered */
		return;
	}
	w->owe_pong = 0;
	if (ws_send_frame(e, v, WS_OP_PONG, 1, w->ctl, w->ctl_n) < 0)
		ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
}

/* A close frame came (RFC 6455 5.5.1, 7.4). */
static void
ws_close_frame(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	unsigned code = 0;

	if (w->ctl_n == 1) {
		sp_ctr_inc(e->s.ws_close_codes[SP_VU_WS_CLOSE_OTHER]);
		ws_fail(e, v, SP_VU_WS_E_PROTOCOL, 1002);
		return;
	}
	if (w->ctl_n >= 2)
		code = (unsigned)w->ctl[0] << 8 | w->ctl[1];
	sp_ctr_inc(e->s.ws_close_codes[sp_vu_ws_close_bucket(
		w->ctl_n >= 2 ? (int)code : -1)]);
	if (w->ctl_n >= 2 && !sp_ws_close_code_ok(code)) {
		ws_fail(e, v, SP_VU_WS_E_PROTOCOL, 1002);
		return;
	}
	if (w->ctl_n > 2 && sp_utf8_feed(SP_UTF8_ACCEPT, w->ctl + 2,
					 w->ctl_n - 2u) != SP_UTF8_ACCEPT) {
		ws_fail(e, v, SP_VU_WS_E_UTF8, 1007);
		return;
	}
	if (w->st == WS_OPEN)
		/* Theirs first: echo its code. If it does not fit, the
		 * handshake ends without ours; the session did close. */
		(void)ws_send_close(e, v, code, NULL);
	ws_completed(e, v);
}

static void
ws_frame_end(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	ws_ctx_put(ws_pool(e), w);
	w->hn = 0;
	w->hlen = 2;
	switch (w->op) {
	case WS_OP_PING:
		sp_ctr_inc(e->s.ws_pings_received);
		ws_pong(e, v, w);
		return;
	case WS_OP_PONG:
		sp_ctr_inc(e->s.ws_pongs_received);
		return;
	case WS_OP_CLOSE:
		ws_close_frame(e, v, w);
		return;
	default:
		break;
	}
	if (!w->fin)
		return;
	if (w->msg_op == WS_OP_TEXT && w->utf8 != SP_UTF8_ACCEPT) {
		ws_fail(e, v, SP_VU_WS_E_UTF8, 1007); /* cut short */
		return;
	}
	ws_msg_end(e, w);
}

/* The frame's header is whole (w->hb): judge it before any payload. */
static int
ws_frame_head(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	uint8_t b0 = w->hb[0], op = b0 & 0x0f;
	uint64_t len = 0;

	w->fin = b0 >> 7;
	w->op = op;
	/* Any of sp_ws.h's header faults (a masked frame from the server
	 * among them) is a protocol error to a client. */
	if (sp_ws_frame_b01(b0, w->hb[1], 0, w->msg_op != 0) !=
		    SP_WS_FRAME_OK ||
	    sp_ws_frame_len(w->hb, &len) != SP_WS_FRAME_OK) {
		ws_fail(e, v, SP_VU_WS_E_PROTOCOL, 1002);
		return -1;
	}
	if (op < WS_OP_CLOSE) {
		/* Too big, judged from the header (7.4.1: 1009). */
		uint64_t so_far = op == WS_OP_CONT ? w->msg_len : 0;

		if (so_far + len > e->pl->ws_max_message &&
		    e->pl->ws_max_message != 0) {
			ws_fail(e, v, SP_VU_WS_E_TOO_BIG, 1009);
			return -1;
		}
		if (op != WS_OP_CONT) {
			w->msg_op = op;
			if (ws_msg_start(e, v, w) < 0) {
				ws_fail(e, v, SP_VU_WS_E_POOL, 1011);
				return -1;
			}
		}
	} else {
		w->ctl_n = 0;
	}
	if (ws_ctx_get(ws_pool(e), w) < 0) {
		ws_fail(e, v, SP_VU_WS_E_POOL, 1011);
		return -1;
	}
	w->rx_left = len;
	w->feed_left = len;
	return 0;
}

/* Payload bytes out of wslay. */
static int
ws_payload(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w,
	   const uint8_t *p, size_t n)
{
	if (w->op >= WS_OP_CLOSE) {
		memcpy(w->ctl + w->ctl_n, p, n); /* <= 125 in all */
		w->ctl_n = (uint8_t)(w->ctl_n + n);
		return 0;
	}
	w->msg_len += n;
	if (w->msg_op == WS_OP_TEXT) {
		/* Fail fast at the first bad byte (RFC 6455 8.1). */
		w->utf8 = sp_utf8_feed(w->utf8, p, n);
		if (w->utf8 == SP_UTF8_REJECT) {
			ws_fail(e, v, SP_VU_WS_E_UTF8, 1007);
			return -1;
		}
	}
	ws_msg_bytes(e, w, p, n);
	return 0;
}

/* Feed wslay the frame's header (the first time) and up to @n payload
 * bytes at @p; handle what it hands out. Returns the bytes of @p used, or
 * -1: the session ended. */
static int64_t
ws_feed(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w,
	const uint8_t *p, uint32_t n, int with_header)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);
	uint32_t k = n < w->feed_left ? n : (uint32_t)w->feed_left;

	wp->f_hdr = w->hb;
	wp->f_hdr_n = with_header ? w->hlen : 0;
	wp->f_p = p;
	wp->f_p_n = k;
	w->feed_left -= k;
	for (;;) {
		struct wslay_frame_iocb io;
		ssize_t r = wslay_frame_recv(wp->ctx[w->fctx], &io);

		if (r == WSLAY_ERR_WANT_READ)
			break;
		if (r < 0) {
			wp->f_p_n = wp->f_hdr_n = 0;
			ws_fail(e, v, SP_VU_WS_E_PROTOCOL, 1002);
			return -1;
		}
		w->rx_left -= (uint64_t)r;
		if (r > 0 && ws_payload(e, v, w, io.data, (size_t)r) < 0) {
			wp->f_p_n = wp->f_hdr_n = 0;
			return -1;
		}
		if (w->rx_left == 0) {
			ws_frame_end(e, v, w);
			break;
		}
		if (r == 0)
			break;
	}
	wp->f_p_n = wp->f_hdr_n = 0;
	return w->st == WS_GONE ? -1 : (int64_t)k;
}

static void
ws_rx(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *p, uint32_t n)
{
	struct sp_vu_ws *w = ws_of(e, v);

	while (n > 0 && w->st != WS_GONE) {
		int64_t used;
		int hdr = 0;

		if (w->hn < w->hlen) {
			uint32_t k = w->hlen - w->hn;

			if (k > n)
				k = n;
			memcpy(w->hb + w->hn, p, k);
			w->hn = (uint8_t)(w->hn + k);
			p += k;
			n -= k;
			if (w->hn == 2 && w->hlen == 2)
				w->hlen = sp_ws_hdr_len(w->hb[1]);
			if (w->hn < w->hlen)
				continue;
			if (ws_frame_head(e, v, w) < 0)
				return;
			hdr = 1;
		}
		used = ws_feed(e, v, w, p, n, hdr);
		if (used < 0)
			return;
		p += used;
		n -= (uint32_t)used;
		if (w->step_done) {
			/* The next step (another expect, say) takes the
			 * messages that follow in this piece. */
			ws_event_end(e, v);
			if (v->proto != SP_VU_PROTO_WS || v->c == NULL)
				return;
		}
	}
}

/* ---- variables ---- */

/* Whether every variable @t names is set for the VU. A ws step does not
 * render an unset one as nothing (a message without its token, an expect
 * that waits for any text): its session fails as ws_unset_variable, as a
 * request fails as unset_variable. */
static int
ws_vars_set(const struct sp_vu_engine *e, const struct sp_vu *v,
	    const struct sp_tpl *t)
{
	const uint8_t *vars, *s;
	uint32_t slot, n;

	if (e->pl->nvars == 0)
		return 1;
	vars = sp_vu_vars(e, v);
	slot = sp_vu_var_slot(e);
	for (uint32_t i = 0; i < t->nparts; i++) {
		const struct sp_tpl_part *p = &t->parts[i];

		if (p->var == SP_VAR_CAPTURE && vars != NULL)
			s = vars + (size_t)p->col * slot;
		else if (p->var == SP_VAR_SETUP)
			s = e->sh->vars + (size_t)p->col * slot;
		else if (p->var == SP_VAR_CAPTURE)
			return 0;
		else
			continue;
		memcpy(&n, s, sizeof(n));
		if (n == UINT32_MAX)
			return 0;
	}
	return 1;
}

/*
 * A templated contains, when its expect starts: rendered for the VU (its
 * variables as they are now) into room lent for the step, with its KMP
 * failure table made there (O(length), no allocation), so the messages
 * stream through the matcher a literal one uses. 0, or -1: the session
 * failed (an unset variable, or no room: ws_pool_empty).
 */
static int
ws_expect_start(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w,
		const struct sp_ws_step *ws)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);
	struct sp_vu_render rd = {
		.pl = e->pl,
		.vu = sp_vu_number(e, v),
		.iter = v->iter,
		.row = v->row,
		.seed = sp_vu_rand(&e->rng),
		.body_scratch = wp->body_scratch,
		.vars = sp_vu_vars(e, v),
		.setup_vars = e->sh->vars,
		.var_slot = sp_vu_var_slot(e),
		.time_ms = sp_vu_wall_ms(e, *e->now),
	};
	uint32_t len, k = 0, *f;
	uint8_t *pat;

	if (!ws_vars_set(e, v, &ws->contains_tpl)) {
		ws_fail(e, v, SP_VU_WS_E_UNSET_VAR, 1000);
		return -1;
	}
	if (wp->pat_avail == 0) {
		ws_fail(e, v, SP_VU_WS_E_POOL, 1011);
		return -1;
	}
	w->pat = wp->pat_free[--wp->pat_avail];
	pat = wp->pats + (size_t)w->pat * wp->pat_size;
	f = (uint32_t *)(void *)(pat + ((wp->pat_max + 7) & ~7u));
	/* Room: pat_max, this step's sp_vu_tpl_max at least (checked at
	 * creation). */
	len = sp_vu_render_tpl(&rd, &ws->contains_tpl, pat);
	/* f[i]: the longest proper prefix of pat[0..i] that is also its
	 * suffix (as the loader makes a literal's). */
	if (len > 0)
		f[0] = 0;
	for (uint32_t i = 1; i < len; i++) {
		while (k > 0 && pat[i] != pat[k])
			k = f[k - 1];
		if (pat[i] == pat[k])
			k++;
		f[i] = k;
	}
	w->pat_len = (uint16_t)len;
	return 0;
}

/* ---- sending messages ---- */

/* The bytes of the message being queued from @off, @len of them, at the
 * pool's scratch (a template is rendered again, identically, from its
 * seed). */
static const uint8_t *
ws_msg_bytes_at(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w,
		uint64_t off, uint32_t len)
{
	struct sp_vu_ws_pool *wp = ws_pool(e);
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
	struct sp_vu_render rd = {
		.pl = e->pl,
		.vu = sp_vu_number(e, v),
		.iter = v->iter,
		.row = v->row,
		.seed = w->seed,
		.body_scratch = wp->body_scratch,
		.vars = sp_vu_vars(e, v),
		.setup_vars = e->sh->vars,
		.var_slot = sp_vu_var_slot(e),
		/* the message's intended time: stable while it is queued */
		.time_ms = sp_vu_wall_ms(e, v->t_intended +
						 (uint64_t)w->done *
							 ws->every_us),
	};

	if (ws->data == SP_WS_BINARY && ws->msg.nparts == 0) {
		wp->scratch_seed = 0;
		sp_pattern_fill(w->seed, off, wp->scratch, len);
		return wp->scratch;
	}
	if (wp->scratch_seed != w->seed || wp->scratch_vu != v->idx) {
		(void)sp_vu_render_tpl(&rd, &ws->msg, wp->scratch);
		wp->scratch_seed = w->seed;
		wp->scratch_vu = v->idx;
	}
	return wp->scratch + off;
}

static uint64_t
ws_msg_len(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
	struct sp_vu_ws_pool *wp = ws_pool(e);
	struct sp_vu_render rd = {
		.pl = e->pl,
		.vu = sp_vu_number(e, v),
		.iter = v->iter,
		.row = v->row,
		.seed = w->seed,
		.body_scratch = wp->body_scratch,
		.vars = sp_vu_vars(e, v),
		.setup_vars = e->sh->vars,
		.var_slot = sp_vu_var_slot(e),
		/* the message's intended time: stable while it is queued */
		.time_ms = sp_vu_wall_ms(e, v->t_intended +
						 (uint64_t)w->done *
							 ws->every_us),
	};

	if (ws->data == SP_WS_BINARY && ws->msg.nparts == 0)
		return ws->pattern_size;
	wp->scratch_seed = w->seed;
	wp->scratch_vu = v->idx;
	return sp_vu_render_tpl(&rd, &ws->msg, wp->scratch);
}

/* Queue what fits of the message on; 1: all of it is queued, 0: waiting
 * for room, -1: the session failed. */
static int
ws_pump(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];

	while (w->tx_on) {
		uint32_t space = sp_vu_write_space(e, v);
		uint64_t rest = w->tx_len - w->tx_off, chunk;
		const uint8_t *b;
		uint8_t op;

		if (space <= 14)
			return 0;
		chunk = space - 14;
		if (chunk > SP_VU_REQ_MAX)
			chunk = SP_VU_REQ_MAX;
		if (chunk > rest)
			chunk = rest;
		b = ws_msg_bytes_at(e, v, w, w->tx_off, (uint32_t)chunk);
		op = w->tx_off > 0            ? WS_OP_CONT :
		     ws->data == SP_WS_BINARY ? WS_OP_BIN :
						WS_OP_TEXT;
		if (ws_send_frame(e, v, op, w->tx_off + chunk == w->tx_len, b,
				  chunk) < 0) {
			ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
			return -1;
		}
		w->tx_off += chunk;
		if (w->tx_off == w->tx_len) {
			w->tx_on = 0;
			sp_ctr_inc(e->s.ws_msgs_sent);
			sp_ctr_add(e->s.ws_bytes_sent, w->tx_len);
		}
	}
	return 1;
}

/* The send step's next message: 1 the step is done, 0 wait, -1 failed. */
static int
ws_send_next(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
	int r;

again:
	if (!w->tx_on) {
		if (!ws_vars_set(e, v, &ws->msg)) {
			ws_fail(e, v, SP_VU_WS_E_UNSET_VAR, 1000);
			return -1;
		}
		w->seed = sp_vu_rand(&e->rng) | 1;
		w->tx_on = 1;
		w->tx_off = 0;
		w->tx_len = ws_msg_len(e, v, w);
		if (ws->measure && w->t_measure == 0) {
			w->t_measure = *e->now;
			w->measure_any = 1;
			/* The step that answers: the next, if an expect. */
			if (v->step + 1 < sp_vu_scen(e, v)->nsteps &&
			    sp_vu_scen(e, v)->steps[v->step + 1].kind ==
				    SP_STEP_WS_EXPECT)
				w->measure_any = 0;
		}
	}
	r = ws_pump(e, v, w);
	if (r <= 0)
		return r;
	w->done++;
	if (w->done >= (ws->send_count ? ws->send_count : 1))
		return 1;
	if (ws->every_us == 0)
		goto again;
	sp_vu_step_timer(e, v, *e->now + ws->every_us);
	return 0;
}

static int
ws_ping_step(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];
	struct sp_vu_ws_pool *wp = ws_pool(e);
	struct sp_vu_render rd = {
		.pl = e->pl,
		.vu = sp_vu_number(e, v),
		.iter = v->iter,
		.row = v->row,
		.seed = v->req_seed,
		.body_scratch = wp->body_scratch,
		.vars = sp_vu_vars(e, v),
		.setup_vars = e->sh->vars,
		.var_slot = sp_vu_var_slot(e),
		.time_ms = sp_vu_wall_ms(e, v->t_intended),
	};
	uint32_t n;

	if (!ws_vars_set(e, v, &ws->msg)) {
		ws_fail(e, v, SP_VU_WS_E_UNSET_VAR, 1000);
		return -1;
	}
	n = sp_vu_render_tpl(&rd, &ws->msg, wp->scratch);
	wp->scratch_seed = 0;
	if (n > SP_VU_WS_CTL_MAX)
		n = SP_VU_WS_CTL_MAX;
	if (!ws_fits(e, v, n))
		return 0; /* on writable */
	if (ws_send_ping(e, v, wp->scratch, n) < 0) {
		ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
		return -1;
	}
	return 1;
}

/* Our close (a close step or the block's end). */
static int
ws_close_step(struct sp_vu_engine *e, struct sp_vu *v, struct sp_vu_ws *w)
{
	unsigned code = 1000;
	const char *reason = NULL;

	if (w->kind == SP_STEP_WS_CLOSE) {
		code = e->pl->ws_steps[w->ws].close_code;
		reason = e->pl->ws_steps[w->ws].close_reason;
	}
	if (ws_send_close(e, v, code, reason) < 0) {
		if (v->c == NULL) {
			ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
			return -1;
		}
		w->owe_close = 1;
		return 0;
	}
	w->owe_close = 0;
	w->st = WS_CLOSING;
	/* The server's close, within the response timeout. */
	sp_vu_step_timer(e, v, *e->now + e->pl->response_timeout_us);
	return 0;
}

/* ---- the client's table ---- */

static void
ws_start(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);

	memset(w, 0, sizeof(*w));
	w->st = WS_OPEN;
	w->hlen = 2;
	w->fctx = SP_VU_WS_NONE;
	w->win = SP_VU_WS_NONE;
	w->pat = SP_VU_WS_NONE;
	if (e->pl->ws_ping_every_us != 0)
		sp_vu_client_timer(e, v, *e->now + e->pl->ws_ping_every_us);
}

static int
ws_step(struct sp_vu_engine *e, struct sp_vu *v, const struct sp_step *s)
{
	struct sp_vu_ws *w = ws_of(e, v);
	int r = 0;

	if (w->st != WS_OPEN)
		return SP_VU_STEP_OVER;
	w->kind = s->kind;
	w->ws = s->kind == SP_STEP_WS_END ? 0 : s->ws;
	w->done = 0;
	w->step_done = 0;
	switch (s->kind) {
	case SP_STEP_WS_SEND:
		r = ws_send_next(e, v, w);
		break;
	case SP_STEP_WS_EXPECT: {
		const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];

		if (ws->contains_tpl.nparts != 0 &&
		    ws_expect_start(e, v, w, ws) < 0) {
			r = -1;
			break;
		}
		if (ws->timeout_us != 0)
			sp_vu_step_timer(e, v, *e->now + ws->timeout_us);
		break;
	}
	case SP_STEP_WS_LISTEN: {
		const struct sp_ws_step *ws = &e->pl->ws_steps[w->ws];

		if (ws->listen_us == 0)
			r = 1;
		else
			sp_vu_step_timer(e, v, *e->now + ws->listen_us);
		break;
	}
	case SP_STEP_WS_PING:
		r = ws_ping_step(e, v, w);
		break;
	default: /* CLOSE, END */
		r = ws_close_step(e, v, w);
		break;
	}
	if (r < 0 || w->st == WS_GONE) {
		w->jump = 0; /* the engine skips the block itself */
		return SP_VU_STEP_OVER;
	}
	if (r > 0) {
		w->kind = 0;
		return SP_VU_STEP_DONE;
	}
	return SP_VU_STEP_WAIT;
}

static void
ws_writable(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);
	int r = 0;

	if (w->st == WS_GONE)
		return;
	if (w->owe_pong)
		ws_pong(e, v, w);
	if (w->st == WS_GONE || v->state != SP_VU_WS) {
		ws_event_end(e, v);
		return;
	}
	switch (w->kind) {
	case SP_STEP_WS_SEND:
		if (w->tx_on)
			r = ws_send_next(e, v, w);
		break;
	case SP_STEP_WS_PING:
		r = ws_ping_step(e, v, w);
		break;
	case SP_STEP_WS_CLOSE:
	case SP_STEP_WS_END:
		if (w->owe_close)
			r = ws_close_step(e, v, w);
		break;
	default:
		break;
	}
	if (r > 0)
		w->step_done = 1;
	ws_event_end(e, v);
}

static void
ws_data(struct sp_vu_engine *e, struct sp_vu *v, const uint8_t *p, uint32_t n)
{
	ws_rx(e, v, p, n);
	ws_event_end(e, v);
}

/* The connection ended (FIN: @clean 1; RST or gone: the connection may
 * be NULL already) without the close handshake's end. */
static void
ws_peer_closed(struct sp_vu_engine *e, struct sp_vu *v, int clean)
{
	(void)clean;
	ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
	ws_event_end(e, v);
}

static void
ws_step_timer(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);
	int r;

	if (w->st == WS_GONE)
		return;
	switch (w->kind) {
	case SP_STEP_WS_EXPECT:
		/* The messages did not come: the session fails, and says so
		 * with a normal close (1000: we end it on purpose, nothing
		 * broke the protocol; 1008 would blame the server's
		 * conduct, which a slow server did not break). */
		ws_fail(e, v, SP_VU_WS_E_EXPECT_TIMEOUT, 1000);
		break;
	case SP_STEP_WS_LISTEN:
		w->step_done = 1;
		break;
	case SP_STEP_WS_SEND:
		r = ws_send_next(e, v, w);
		if (r > 0)
			w->step_done = 1;
		break;
	case SP_STEP_WS_CLOSE:
	case SP_STEP_WS_END:
		/* Our close got no answer in time. */
		ws_fail(e, v, SP_VU_WS_E_CLOSED_ABNORMALLY, 0);
		break;
	default:
		break;
	}
	ws_event_end(e, v);
}

/* Periodic pings (plan->ws_ping_every_us), while open. */
static void
ws_timer(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);
	uint8_t b[8];
	uint64_t now = *e->now;

	if (w->st != WS_OPEN || v->c == NULL)
		return;
	memcpy(b, &now, sizeof(b));
	/* No room now: this one is skipped, the next is due anyway. */
	(void)ws_send_ping(e, v, b, sizeof(b));
	sp_vu_client_timer(e, v, now + e->pl->ws_ping_every_us);
}

static void
ws_interrupt(struct sp_vu_engine *e, struct sp_vu *v)
{
	struct sp_vu_ws *w = ws_of(e, v);

	if (w->st == WS_OPEN && v->c != NULL)
		(void)ws_send_close(e, v, 1001, "going away");
	w->st = WS_GONE;
	ws_release(ws_pool(e), w);
}

const struct sp_vu_client sp_vu_ws_client = {
	.name = "websocket",
	.init = sp_vu_ws_init,
	.fini = sp_vu_ws_fini,
	.start = ws_start,
	.writable = ws_writable,
	.data = ws_data,
	.peer_closed = ws_peer_closed,
	.timer = ws_timer,
	.step = ws_step,
	.step_timer = ws_step_timer,
	.interrupt = ws_interrupt,
};
