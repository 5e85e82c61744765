/*
 * A small WebSocket server behind the fake stream (fake_stream.h), and
 * the plans the WebSocket tests run on it (test_vu_ws.c, fuzz_ws.c),
 * checked with sp_check.h's CHECK (a fuzz target defines SP_CHECK_ABORT
 * first).
 *
 * The server reads the upgrade request, answers it as srv.hs says (a
 * good 101, a bad accept, a 200, a subprotocol not offered, an
 * extension), then reads the client's frames (each must be masked), logs
 * every message, ping and close, and answers as scripted (echo, echo in
 * fragments around a ping, raw bytes after the 101). Its bytes reach the
 * engine in pieces of fs.piece bytes, or each delivery cut in two at
 * fs.split; the engine's sends have fs.space bytes of room a poll.
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

/* ---- the WebSocket server behind the fake stream (fake_stream.h) ---- */

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

struct fs_srv_conn {
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

#include "fake_stream.h"

static struct {
	/* Script (the room, pieces and split are fs's). */
	int hs;                  /* HS_* */
	const char *proto;       /* the subprotocol the 101 names, or NULL */
	int echo;                /* ECHO_* */
	const uint8_t *after_hs; /* raw bytes right after the 101 */
	uint32_t nafter_hs;
	int close_reply;   /* answer a close with a close */
	int fin_after_hs;  /* FIN once after_hs is out */
	int after_hs_once; /* after_hs on the first connection only */
	/* A request without Upgrade is answered 200 with this body. */
	const char *plain_body;
	/* Witness. */
	uint64_t msgs, msg_bytes, pings, pongs, closes, unmasked, bad;
	const uint8_t *last; /* the last whole client message, unmasked */
	uint32_t nlast;
	uint64_t msgs_sent;
	int last_close;          /* code of the last close received, -1: none */
	uint32_t head_len;       /* the last 101's head */
	uint32_t frame_contexts; /* the engine's pool (0: its default) */
	char key[64];
	char req_proto[64];
} srv;

/* A server frame, unmasked unless @mask. */
static inline void
srv_frame(struct fs_srv_conn *c, int fin, unsigned rsv, unsigned op, const void *p,
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
srv_raw(struct fs_srv_conn *c, const void *p, uint32_t n)
{
	memcpy(c->out + c->nout, p, n);
	c->nout += n;
}

static inline void
srv_field(const char *head, const char *name, char *out, size_t cap)
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
srv_handshake(struct fs_srv_conn *c, uint32_t n)
{
	char head[2048], acc[SP_WS_ACCEPT_LEN + 1], buf[512];
	int len;

	memcpy(head, c->in, n);
	head[n] = '\0';
	srv_field(head, "Sec-WebSocket-Key: ", srv.key, sizeof(srv.key));
	srv_field(head, "Sec-WebSocket-Protocol: ", srv.req_proto,
		 sizeof(srv.req_proto));
	CHECK(strstr(head, "GET /ws HTTP/1.1\r\n") == head);
	CHECK(strstr(head, "\r\nUpgrade: websocket\r\n") != NULL);
	CHECK(strstr(head, "\r\nConnection: Upgrade\r\n") != NULL);
	CHECK(strstr(head, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	CHECK_EQ(strlen(srv.key), SP_WS_KEY_LEN);
	sp_ws_accept(srv.key, strlen(srv.key), acc);
	if (srv.hs == HS_BAD_ACCEPT)
		acc[3] ^= 1;
	if (srv.hs == HS_NONE)
		return;
	if (srv.hs == HS_NOT101) {
		srv_raw(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno", 40);
		return;
	}
	len = snprintf(buf, sizeof(buf),
		       "HTTP/1.1 101 Switching Protocols\r\n"
		       "upgrade: %s\r\nConnection: %s\r\n"
		       "Sec-WebSocket-Accept: %s\r\n%s%s%s%s\r\n",
		       srv.hs == HS_NO_UPGRADE ? "h2c" : "WebSocket",
		       srv.hs == HS_NO_CONN ? "keep-alive" :
					     "keep-alive, Upgrade",
		       acc, srv.proto ? "Sec-WebSocket-Protocol: " : "",
		       srv.proto ? srv.proto : "", srv.proto ? "\r\n" : "",
		       srv.hs == HS_EXT ? "Sec-WebSocket-Extensions: "
					 "permessage-deflate\r\n" :
					 "");
	srv_raw(c, buf, (uint32_t)len);
	srv.head_len = (uint32_t)len;
	c->upgraded = 1;
	if (srv.nafter_hs) {
		srv_raw(c, srv.after_hs, srv.nafter_hs);
		if (srv.after_hs_once)
			srv.nafter_hs = 0;
	}
	c->fin_after = srv.fin_after_hs;
}

/* A plain request (no Upgrade) whole in c->in: 200, srv.plain_body. */
static inline void
srv_plain(struct fs_srv_conn *c)
{
	char buf[512];
	const char *b = srv.plain_body != NULL ? srv.plain_body : "";
	int len = snprintf(buf, sizeof(buf),
			   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
			   strlen(b), b);

	srv_raw(c, buf, (uint32_t)len);
}

static inline void
srv_client_msg(struct fs_srv_conn *c)
{
	srv.msgs++;
	srv.msg_bytes += c->nmsg;
	srv.last = c->msg;
	srv.nlast = c->nmsg;
	if (srv.echo == ECHO_PLAIN) {
		srv_frame(c, 1, 0, c->msg_op, c->msg, c->nmsg, 0);
		srv.msgs_sent++;
	} else if (srv.echo == ECHO_FRAG_PING && c->nmsg >= 2) {
		uint32_t h = c->nmsg / 2;

		srv_frame(c, 0, 0, c->msg_op, c->msg, h, 0);
		srv_frame(c, 1, 0, 9, "pi", 2, 0);
		srv_frame(c, 1, 0, 0, c->msg + h, c->nmsg - h, 0);
		srv.msgs_sent++;
	}
}

/* Read the client's frames in c->in. */
static inline void
srv_frames(struct fs_srv_conn *c)
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
			srv.unmasked++;
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
				srv_client_msg(c);
			break;
		case 8:
			srv.closes++;
			srv.last_close = len >= 2 ? p[h] << 8 | p[h + 1] : 0;
			if (srv.close_reply && !c->close_sent)
				srv_frame(c, 1, 0, 8, p + h, (uint32_t)len, 0);
			c->close_sent = 1;
			c->fin_after = 1;
			break;
		case 9:
			srv.pings++;
			srv_frame(c, 1, 0, 10, p + h, (uint32_t)len, 0);
			break;
		case 10:
			srv.pongs++;
			break;
		default:
			srv.bad++;
			break;
		}
		memmove(c->in, c->in + h + len, c->nin - h - len);
		c->nin -= h + (uint32_t)len;
	}
}

static inline void
srv_sent(struct fs_conn *fc, const uint8_t *data, uint32_t len)
{
	struct fs_srv_conn *c = &fc->srv;

	memcpy(c->in + c->nin, data, len);
	c->nin += len;
	if (!c->upgraded) {
		uint8_t *e = memmem(c->in, c->nin, "\r\n\r\n", 4);

		if (e != NULL) {
			uint32_t n = (uint32_t)(e + 4 - c->in);

			static const char up[] = "\r\nUpgrade: websocket\r\n";

			if (memmem(c->in, n, up, sizeof(up) - 1) != NULL)
				srv_handshake(c, n);
			else
				srv_plain(c);
			memmove(c->in, c->in + n, c->nin - n);
			c->nin -= n;
		}
	}
	if (c->upgraded)
		srv_frames(c);
}

/* Deliver what the server has for the client; what the engine's answers
 * add meanwhile waits a poll. Then the FIN, if one is due. */
static inline void
srv_poll(struct fs_conn *fc)
{
	struct fs_srv_conn *c = &fc->srv;
	uint32_t n = c->nout;

	if (n > 0) {
		fs_deliver(fc, c->out, n);
		memmove(c->out, c->out + n, c->nout - n);
		c->nout -= n;
	}
	if (fc->state == FS_OPEN && c->fin_after && c->nout == 0) {
		fs.cbs->peer_closed(fs.ctx, fc->user, 1);
		if (fc->state == FS_OPEN)
			fs_gone(fc, SP_STREAM_END_NORMAL);
	}
}

static inline void
srv_closing(struct fs_conn *fc)
{
	struct fs_srv_conn *c = &fc->srv;

	if (c->nout > 0) {
		/* Still readable by nobody: the engine let go (its user
		 * pointer is NULL). */
		fs.rx_bytes += c->nout;
		fs.cbs->data(fs.ctx, fc->user, c->out, c->nout);
		c->nout = 0;
	}
}

static const struct fs_srv srv_ops = {
	.sent = srv_sent,
	.poll = srv_poll,
	.closing = srv_closing,
};

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
	/* The fake's and the server's defaults. */
	fs.srv = &srv_ops;
	fs.room_per_poll = 1;
	fs.refuse = 0;
	srv.hs = HS_GOOD;
	srv.proto = NULL;
	srv.echo = ECHO_PLAIN;
	srv.after_hs = NULL;
	srv.nafter_hs = 0;
	srv.close_reply = 1;
	srv.fin_after_hs = 0;
	srv.frame_contexts = 0;
	srv.after_hs_once = 0;
	fs.piece = 1000;
	fs.space = 100000;
	fs.split = 0;
	srv.plain_body = NULL;
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
		.ws_frame_contexts = srv.frame_contexts,
	};
	struct sp_vu_engine *e;
	char err[128];
	int done;

	srv.msgs = srv.msg_bytes = srv.pings = srv.pongs = srv.closes = 0;
	srv.unmasked = srv.bad = srv.msgs_sent = 0;
	srv.last_close = -1;
	e = sp_vu_create(&vc, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "sp_vu_create: %s\n", err);
		exit(2);
	}
	fs_attach(e);
	now = 1000000;
	/* Nothing allocates from the start to the end of the load: all of
	 * it was made by sp_vu_create. */
	sp_t_alloc_hot(1);
	done = fs_run_load(e, &now);
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
	fs_check_accounting(s);
	/* The server's log. */
	CHECK_EQ(s->ws_msgs_sent, srv.msgs);
	CHECK_EQ(s->ws_bytes_sent, srv.msg_bytes);
	CHECK_EQ(s->ws_pings_sent, srv.pings);
	CHECK_EQ(s->ws_closes_sent, srv.closes);
	/* Each ping answered (raw inputs may add unasked pongs). */
	CHECK(s->ws_pongs_received >= srv.pings);
	CHECK_EQ(srv.unmasked, 0);
	CHECK_EQ(srv.bad, 0);
	(void)codes;
}

#endif /* SP_VU_WSFAKE_H */
