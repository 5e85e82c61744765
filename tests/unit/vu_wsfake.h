/*
 * A fake stream whose other end is a small WebSocket server, and the
 * plans the WebSocket tests run on it (test_vu_ws.c, fuzz_ws.c), checked
 * with sp_check.h's CHECK (a fuzz target defines SP_CHECK_ABORT first).
 *
 * The server reads the upgrade request, answers it as fs.hs says (a good
 * 101, a bad accept, a 200, a subprotocol not offered, an extension),
 * then reads the client's frames (each must be masked), logs every
 * message, ping and close, and answers as scripted (echo, echo in
 * fragments around a ping, raw bytes after the 101). Its bytes reach the
 * engine in pieces of fs.piece bytes, or the first output cut in two at
 * fs.split.
 */
#ifndef SP_VU_WSFAKE_H
#define SP_VU_WSFAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_interpose.h"
#include "sp_check.h"
#include "sp_stream.h"
#include "sp_vu.h"
#include "sp_ws.h"
#include "vu_plan.h"

/* ---- the fake stream and its WebSocket server ---- */

enum { FS_FREE = 0, FS_SYN, FS_OPEN, FS_CLOSING, FS_GONE };
enum {
	HS_GOOD,
	HS_BAD_ACCEPT,
	HS_NOT101,
	HS_WRONG_PROTO,
	HS_EXT,
	HS_NO_CONN,    /* no "Upgrade" in Connection */
	HS_NO_UPGRADE, /* Upgrade: h2c */
	HS_NONE,       /* never answered */
};
enum { ECHO_NONE, ECHO_PLAIN, ECHO_FRAG_PING };

#define FS_MAX 8
#define FS_BUF 65536

struct fs_conn {
	void *user;
	int state;
	uint32_t budget;    /* send room left this poll */
	int upgraded;       /* the 101 went out */
	int close_sent;     /* the server's close frame went out */
	int fin_after;      /* close the TCP once out is delivered */
	uint8_t in[FS_BUF]; /* from the client, not yet read */
	uint32_t nin;
	uint8_t out[FS_BUF]; /* to the client, not yet delivered */
	uint32_t nout;
	uint8_t msg[FS_BUF]; /* a fragmented client message */
	uint32_t nmsg;
	uint8_t msg_op;
};

static struct {
	struct fs_conn c[FS_MAX];
	/* Script. */
	int hs;                  /* HS_* */
	const char *proto;       /* the subprotocol the 101 names, or NULL */
	int echo;                /* ECHO_* */
	const uint8_t *after_hs; /* raw bytes right after the 101 */
	uint32_t nafter_hs;
	int close_reply;   /* answer a close with a close */
	int fin_after_hs;  /* FIN once after_hs is out */
	int after_hs_once; /* after_hs on the first connection only */
	uint32_t piece;    /* bytes per data() call */
	uint32_t space;    /* send room per poll */
	uint32_t split;    /* != 0: deliver the first output in two
			      * pieces, cut here (overrides piece) */
	/* A request without Upgrade is answered 200 with this body. */
	const char *plain_body;
	/* Witness. */
	uint64_t connects, aborts, closed_cbs, rx_bytes, tx_bytes;
	uint64_t msgs, msg_bytes, pings, pongs, closes, unmasked, bad;
	const uint8_t *last; /* the last whole client message, unmasked */
	uint32_t nlast;
	uint64_t msgs_sent;
	int last_close;          /* code of the last close received, -1: none */
	uint32_t head_len;       /* the last 101's head */
	uint32_t frame_contexts; /* the engine's pool (0: its default) */
	char key[64];
	char req_proto[64];
	const struct sp_stream_cbs *cbs;
	void *ctx;
} fs;

static inline struct fs_conn *
fs_conn(struct sp_stream *s)
{
	return (struct fs_conn *)s;
}

static inline struct sp_stream *
fs_connect(void *impl, const struct sp_stream_peer *peer, void *user, int *err)
{
	(void)impl;
	(void)peer;
	for (int i = 0; i < FS_MAX; i++) {
		struct fs_conn *c = &fs.c[i];

		if (c->state == FS_FREE || c->state == FS_GONE) {
			memset(c, 0, sizeof(*c));
			c->user = user;
			c->state = FS_SYN;
			fs.connects++;
			return (struct sp_stream *)c;
		}
	}
	*err = -105;
	return NULL;
}

/* A server frame, unmasked unless @mask. */
static inline void
fs_frame(struct fs_conn *c, int fin, unsigned rsv, unsigned op, const void *p,
	 uint32_t n, int mask)
{
	uint8_t *o = c->out + c->nout;
	uint32_t h = 2;

	o[0] = (uint8_t)((fin ? 0x80 : 0) | rsv << 4 | op);
	if (n < 126) {
		o[1] = (uint8_t)n;
	} else if (n < 65536) {
		o[1] = 126;
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)n;
		h = 4;
	} else {
		o[1] = 127;
		memset(o + 2, 0, 4);
		o[6] = (uint8_t)(n >> 24);
		o[7] = (uint8_t)(n >> 16);
		o[8] = (uint8_t)(n >> 8);
		o[9] = (uint8_t)n;
		h = 10;
	}
	if (mask) {
		o[1] |= 0x80;
		memset(o + h, 0, 4); /* a zero key: the bytes read as is */
		h += 4;
	}
	memcpy(o + h, p, n);
	c->nout += h + n;
}

static inline void
fs_raw(struct fs_conn *c, const void *p, uint32_t n)
{
	memcpy(c->out + c->nout, p, n);
	c->nout += n;
}

static inline void
fs_field(const char *head, const char *name, char *out, size_t cap)
{
	const char *f = strstr(head, name);
	size_t n;

	out[0] = '\0';
	if (f == NULL)
		return;
	f += strlen(name);
	n = strcspn(f, "\r");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, f, n);
	out[n] = '\0';
}

/* The upgrade request is whole in c->in (@n bytes of head). */
static inline void
fs_handshake(struct fs_conn *c, uint32_t n)
{
	char head[2048], acc[SP_WS_ACCEPT_LEN + 1], buf[512];
	int len;

	memcpy(head, c->in, n);
	head[n] = '\0';
	fs_field(head, "Sec-WebSocket-Key: ", fs.key, sizeof(fs.key));
	fs_field(head, "Sec-WebSocket-Protocol: ", fs.req_proto,
		 sizeof(fs.req_proto));
	CHECK(strstr(head, "GET /ws HTTP/1.1\r\n") == head);
	CHECK(strstr(head, "\r\nUpgrade: websocket\r\n") != NULL);
	CHECK(strstr(head, "\r\nConnection: Upgrade\r\n") != NULL);
	CHECK(strstr(head, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	CHECK_EQ(strlen(fs.key), SP_WS_KEY_LEN);
	sp_ws_accept(fs.key, strlen(fs.key), acc);
	if (fs.hs == HS_BAD_ACCEPT)
		acc[3] ^= 1;
	if (fs.hs == HS_NONE)
		return;
	if (fs.hs == HS_NOT101) {
		fs_raw(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno", 40);
		return;
	}
	len = snprintf(buf, sizeof(buf),
		       "HTTP/1.1 101 Switching Protocols\r\n"
		       "upgrade: %s\r\nConnection: %s\r\n"
		       "Sec-WebSocket-Accept: %s\r\n%s%s%s%s\r\n",
		       fs.hs == HS_NO_UPGRADE ? "h2c" : "WebSocket",
		       fs.hs == HS_NO_CONN ? "keep-alive" :
					     "keep-alive, Upgrade",
		       acc, fs.proto ? "Sec-WebSocket-Protocol: " : "",
		       fs.proto ? fs.proto : "", fs.proto ? "\r\n" : "",
		       fs.hs == HS_EXT ? "Sec-WebSocket-Extensions: "
					 "permessage-deflate\r\n" :
					 "");
	fs_raw(c, buf, (uint32_t)len);
	fs.head_len = (uint32_t)len;
	c->upgraded = 1;
	if (fs.nafter_hs) {
		fs_raw(c, fs.after_hs, fs.nafter_hs);
		if (fs.after_hs_once)
			fs.nafter_hs = 0;
	}
	c->fin_after = fs.fin_after_hs;
}

/* A plain request (no Upgrade) whole in c->in: 200, fs.plain_body. */
static inline void
fs_plain(struct fs_conn *c)
{
	char buf[512];
	const char *b = fs.plain_body != NULL ? fs.plain_body : "";
	int len = snprintf(buf, sizeof(buf),
			   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
			   strlen(b), b);

	fs_raw(c, buf, (uint32_t)len);
}

static inline void
fs_client_msg(struct fs_conn *c)
{
	fs.msgs++;
	fs.msg_bytes += c->nmsg;
	fs.last = c->msg;
	fs.nlast = c->nmsg;
	if (fs.echo == ECHO_PLAIN) {
		fs_frame(c, 1, 0, c->msg_op, c->msg, c->nmsg, 0);
		fs.msgs_sent++;
	} else if (fs.echo == ECHO_FRAG_PING && c->nmsg >= 2) {
		uint32_t h = c->nmsg / 2;

		fs_frame(c, 0, 0, c->msg_op, c->msg, h, 0);
		fs_frame(c, 1, 0, 9, "pi", 2, 0);
		fs_frame(c, 1, 0, 0, c->msg + h, c->nmsg - h, 0);
		fs.msgs_sent++;
	}
}

/* Read the client's frames in c->in. */
static inline void
fs_frames(struct fs_conn *c)
{
	for (;;) {
		uint8_t *p = c->in;
		uint64_t len;
		uint32_t h = 2;
		unsigned op;

		if (c->nin < 2)
			return;
		len = p[1] & 0x7f;
		if (len == 126)
			h = 4;
		else if (len == 127)
			h = 10;
		h += 4;
		if (c->nin < h)
			return;
		if (len == 126)
			len = (uint64_t)p[2] << 8 | p[3];
		else if (len == 127)
			len = (uint64_t)p[6] << 24 | (uint64_t)p[7] << 16 |
			      (uint64_t)p[8] << 8 | p[9];
		if (c->nin < h + len)
			return;
		if (!(p[1] & 0x80))
			fs.unmasked++;
		for (uint64_t i = 0; i < len; i++)
			p[h + i] ^= p[h - 4 + i % 4];
		op = p[0] & 0x0f;
		switch (op) {
		case 0:
		case 1:
		case 2:
			if (op != 0) {
				c->nmsg = 0;
				c->msg_op = (uint8_t)op;
			}
			memcpy(c->msg + c->nmsg, p + h, len);
			c->nmsg += (uint32_t)len;
			if (p[0] & 0x80)
				fs_client_msg(c);
			break;
		case 8:
			fs.closes++;
			fs.last_close = len >= 2 ? p[h] << 8 | p[h + 1] : 0;
			if (fs.close_reply && !c->close_sent)
				fs_frame(c, 1, 0, 8, p + h, (uint32_t)len, 0);
			c->close_sent = 1;
			c->fin_after = 1;
			break;
		case 9:
			fs.pings++;
			fs_frame(c, 1, 0, 10, p + h, (uint32_t)len, 0);
			break;
		case 10:
			fs.pongs++;
			break;
		default:
			fs.bad++;
			break;
		}
		memmove(c->in, c->in + h + len, c->nin - h - len);
		c->nin -= h + (uint32_t)len;
	}
}

static int32_t
fs_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	struct fs_conn *c = fs_conn(s);

	(void)impl;
	if (c->state != FS_OPEN)
		return -1;
	if (len > c->budget)
		len = c->budget;
	c->budget -= len;
	memcpy(c->in + c->nin, data, len);
	c->nin += len;
	fs.tx_bytes += len;
	if (!c->upgraded) {
		uint8_t *e = memmem(c->in, c->nin, "\r\n\r\n", 4);

		if (e != NULL) {
			uint32_t n = (uint32_t)(e + 4 - c->in);

			static const char up[] = "\r\nUpgrade: websocket\r\n";

			if (memmem(c->in, n, up, sizeof(up) - 1) != NULL)
				fs_handshake(c, n);
			else
				fs_plain(c);
			memmove(c->in, c->in + n, c->nin - n);
			c->nin -= n;
		}
	}
	if (c->upgraded)
		fs_frames(c);
	return (int32_t)len;
}

static inline uint32_t
fs_send_space(void *impl, const struct sp_stream *s)
{
	const struct fs_conn *c = (const struct fs_conn *)s;

	(void)impl;
	return c->state == FS_OPEN ? c->budget : 0;
}

static inline int
fs_close(void *impl, struct sp_stream *s)
{
	(void)impl;
	fs_conn(s)->state = FS_CLOSING;
	return 0;
}

static inline void
fs_abort(void *impl, struct sp_stream *s)
{
	struct fs_conn *c = fs_conn(s);

	(void)impl;
	fs.aborts++;
	c->state = FS_GONE;
	fs.closed_cbs++;
	fs.cbs->closed(fs.ctx, c->user, SP_STREAM_END_ABORTED);
}

static inline void
fs_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	fs_conn(s)->user = user;
}

static const struct sp_stream_ops fs_ops = {
	.connect = fs_connect,
	.send = fs_send,
	.send_space = fs_send_space,
	.close = fs_close,
	.close_after_peer = fs_close,
	.abort = fs_abort,
	.set_user = fs_set_user,
};

static inline void
fs_gone(struct fs_conn *c, enum sp_stream_end why)
{
	c->state = FS_GONE;
	fs.closed_cbs++;
	fs.cbs->closed(fs.ctx, c->user, why);
}

/* Deliver what the server has for the client. */
static inline void
fs_deliver(struct fs_conn *c)
{
	uint32_t off = 0, n = c->nout;

	while (off < n && c->state == FS_OPEN) {
		uint32_t k = fs.piece;

		if (fs.split != 0)
			k = off == 0 ? fs.split : n - off;
		if (k > n - off)
			k = n - off;
		fs.rx_bytes += k;
		fs.cbs->data(fs.ctx, c->user, c->out + off, k);
		off += k;
	}
	/* What the engine's answers added meanwhile waits a poll. */
	memmove(c->out, c->out + n, c->nout - n);
	c->nout -= n;
}

static inline void
fs_poll(void)
{
	for (int i = 0; i < FS_MAX; i++) {
		struct fs_conn *c = &fs.c[i];

		switch (c->state) {
		case FS_SYN:
			c->state = FS_OPEN;
			c->budget = fs.space;
			fs.cbs->connected(fs.ctx, c->user);
			break;
		case FS_OPEN:
			c->budget = fs.space;
			fs.cbs->writable(fs.ctx, c->user);
			if (c->state == FS_OPEN && c->nout > 0)
				fs_deliver(c);
			if (c->state == FS_OPEN && c->fin_after &&
			    c->nout == 0) {
				fs.cbs->peer_closed(fs.ctx, c->user, 1);
				if (c->state == FS_OPEN)
					fs_gone(c, SP_STREAM_END_NORMAL);
			}
			break;
		case FS_CLOSING:
			if (c->nout > 0) {
				/* Still readable by nobody: the engine let
				 * go (its user pointer is NULL). */
				fs.rx_bytes += c->nout;
				fs.cbs->data(fs.ctx, c->user, c->out, c->nout);
				c->nout = 0;
			}
			fs_gone(c, SP_STREAM_END_NORMAL);
			break;
		default:
			break;
		}
	}
}

static inline int
fs_open_conns(void)
{
	int n = 0;

	for (int i = 0; i < FS_MAX; i++)
		n += fs.c[i].state != FS_FREE && fs.c[i].state != FS_GONE;
	return n;
}

/* ---- plans: one ws block, then a long think (one iteration) ---- */

static struct sp_tpl_part parts[32];
static unsigned nparts;
static struct sp_request reqs[2];
static struct sp_step steps[16];
static struct sp_ws_step wss[16];
static struct sp_scenario scens[1];
static struct sp_plan plan;
static uint32_t nsteps, nws;
static const uint32_t kmp_hello[] = { 0, 0, 0, 0, 0 };

static inline void
plan_base(void)
{
	memset(&plan, 0, sizeof(plan));
	memset(reqs, 0, sizeof(reqs));
	memset(steps, 0, sizeof(steps));
	memset(wss, 0, sizeof(wss));
	memset(scens, 0, sizeof(scens));
	nparts = 0;
	nsteps = nws = 0;
	plan.dst_ip = 0xc6120002u; /* 198.18.0.2 */
	plan.dst_port = 80;
	plan.host = "198.18.0.2";
	plan.model = SP_MODEL_CLOSED;
	plan.vus = 1;
	plan.duration_us = 200000;
	plan.response_timeout_us = 50000;
	plan.ws_max_message = 1 << 20;
	plan.requests = reqs;
	plan.nrequests = 1;
	plan.scenarios = scens;
	plan.nscenarios = 1;
	plan.ws_steps = wss;
	reqs[0].name = "up";
	reqs[0].path = sp_t_lit(parts, &nparts, "/ws");
	reqs[0].headers = sp_t_lit(parts, &nparts, "");
	reqs[0].check.body_size = -1;
	reqs[0].ws_upgrade = 1;
	sp_status_set_range(reqs[0].expect_set, SP_EXPECT_DEFAULT_LO,
			    SP_EXPECT_DEFAULT_HI);
	steps[nsteps].kind = SP_STEP_REQUEST;
	steps[nsteps++].req = 0;
	scens[0].name = "s";
	scens[0].weight = 1;
	scens[0].enabled = 1;
	scens[0].keep_alive = 1;
	scens[0].steps = steps;
	/* fs defaults */
	fs.hs = HS_GOOD;
	fs.proto = NULL;
	fs.echo = ECHO_PLAIN;
	fs.after_hs = NULL;
	fs.nafter_hs = 0;
	fs.close_reply = 1;
	fs.fin_after_hs = 0;
	fs.frame_contexts = 0;
	fs.after_hs_once = 0;
	fs.piece = 1000;
	fs.space = 100000;
	fs.split = 0;
	fs.plain_body = NULL;
}

static inline struct sp_ws_step *
add_ws(uint8_t kind)
{
	struct sp_ws_step *w = &wss[nws];

	steps[nsteps].kind = kind;
	steps[nsteps++].ws = nws++;
	w->name = "w";
	w->send_count = 1;
	w->expect_count = 1;
	w->close_code = 1000;
	plan.nws_steps = nws;
	return w;
}

static inline void
add_send_text(const char *text, int measure)
{
	struct sp_ws_step *w = add_ws(SP_STEP_WS_SEND);

	w->data = SP_WS_TEXT;
	w->msg = sp_t_lit(parts, &nparts, text);
	w->measure = (uint8_t)measure;
}

static inline void
add_expect(const char *contains, const uint32_t *kmp, uint64_t timeout_us)
{
	struct sp_ws_step *w = add_ws(SP_STEP_WS_EXPECT);

	w->contains = contains;
	w->contains_len = contains ? (uint32_t)strlen(contains) : 0;
	w->contains_kmp = kmp;
	w->timeout_us = timeout_us;
}

static inline void
add_think(uint64_t us)
{
	steps[nsteps].kind = SP_STEP_THINK;
	steps[nsteps].think_min_us = steps[nsteps].think_max_us = us;
	nsteps++;
}

/* The block's end, then a think past the run's end. */
static inline void
plan_end(void)
{
	steps[nsteps].kind = SP_STEP_WS_END;
	steps[nsteps++].req = 0;
	add_think(10000000);
	scens[0].nsteps = nsteps;
}

static uint64_t now;

static inline struct sp_vu_engine *
run(void)
{
	struct sp_vu_config vc = {
		.plan = &plan,
		.now_us = &now,
		.max_vus = plan.vus,
		.seed = 7,
		.ws_frame_contexts = fs.frame_contexts,
	};
	struct sp_vu_engine *e;
	char err[128];
	int done = 0;

	memset(fs.c, 0, sizeof(fs.c));
	fs.connects = fs.aborts = fs.closed_cbs = 0;
	fs.rx_bytes = fs.tx_bytes = 0;
	fs.msgs = fs.msg_bytes = fs.pings = fs.pongs = fs.closes = 0;
	fs.unmasked = fs.bad = fs.msgs_sent = 0;
	fs.last_close = -1;
	e = sp_vu_create(&vc, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	fs.cbs = sp_vu_stream_cbs();
	fs.ctx = e;
	sp_vu_set_stream(e, &fs_ops, NULL);
	now = 1000000;
	/* Nothing allocates from the start to the end of the load: all of
	 * it was made by sp_vu_create. */
	sp_t_alloc_hot(1);
	sp_vu_start(e, now);
	for (int t = 0; t < 10000 && !(done && fs_open_conns() == 0); t++) {
		now += 1000;
		if (!done)
			done = sp_vu_step(e, now);
		fs_poll();
	}
	sp_t_alloc_hot(0);
#ifdef SP_TEST_ALLOC_INTERPOSE
	CHECK_EQ(sp_t_allocs, 0); /* counted only where interposed */
#endif
	CHECK(done);
	CHECK_EQ(fs_open_conns(), 0);
	return e;
}

/* What holds whatever the script. */
static inline void
check_accounting(const struct sp_vu_stats *s)
{
	uint64_t errs = 0, codes = 0;

	for (int i = 0; i < SP_VU_WS_E_N; i++)
		errs += s->ws_err[i];
	for (int i = 0; i < SP_VU_WS_CLOSE_N; i++)
		codes += s->ws_close_codes[i];
	CHECK_EQ(s->ws_started, s->ws_completed + s->ws_failed +
					s->ws_interrupted + s->ws_open);
	CHECK_EQ(s->ws_open, 0);
	CHECK_EQ(errs, s->ws_failed);
	CHECK_EQ(s->ws_msgs_received, s->ws_matched + s->ws_unmatched);
	CHECK_EQ(s->ws_session.count, s->ws_started - s->ws_open);
	CHECK_EQ(s->requests, s->responses + s->failed -
				      sp_vu_failed_responses(s) +
				      s->interrupted);
	CHECK_EQ(s->it_started,
		 s->it_completed + s->it_failed + s->it_interrupted);
	CHECK_EQ(s->vus_active, 0);
	CHECK_EQ(s->conns_open, 0);
	CHECK_EQ(s->connects, fs.connects);
	CHECK_EQ(fs.closed_cbs, fs.connects);
	CHECK_EQ(s->bytes_sent, fs.tx_bytes);
	CHECK_EQ(s->bytes_received, fs.rx_bytes);
	/* The server's log. */
	CHECK_EQ(s->ws_msgs_sent, fs.msgs);
	CHECK_EQ(s->ws_bytes_sent, fs.msg_bytes);
	CHECK_EQ(s->ws_pings_sent, fs.pings);
	CHECK_EQ(s->ws_closes_sent, fs.closes);
	/* Each ping answered (raw inputs may add unasked pongs). */
	CHECK(s->ws_pongs_received >= fs.pings);
	CHECK_EQ(fs.unmasked, 0);
	CHECK_EQ(fs.bad, 0);
	(void)codes;
}

#endif /* SP_VU_WSFAKE_H */
