/*
 * A fake stream (sp_stream.h) for the virtual-user engine's unit tests: no
 * TCP at all, FS_MAX connections that count what the engine does with
 * them and hand its bytes to a small server the includer writes
 * (test_vu_stream.c's scripted responses, vu_wsfake.h's WebSocket server,
 * test_vu_flow.c's stateful app). Checked with sp_check.h's CHECK.
 *
 * The fake keeps the seam's rules: callbacks come from its own event
 * processing (fs_poll), except closed() inside abort(); and each callback
 * gets the user pointer the connection carries then.
 *
 * The includer defines, before including this:
 *   struct fs_srv_conn  what its server keeps per connection (zeroed at
 *                       each connect), reached as c->srv;
 *   FS_MAX              optionally, the number of connections (64);
 * and points fs.srv at its server's hooks before a run (struct fs_srv).
 *
 * Send room, two flavours (fs.room_per_poll):
 *   0  a send() takes at most fs.space bytes; one cut short leaves no
 *      room (send_space 0) until the next poll calls writable();
 *   1  fs.space bytes are a budget for all the sends of a poll, refilled
 *      at every poll, which calls writable() every time.
 * What the server answers reaches the engine through fs_deliver(): in
 * pieces of fs.piece bytes, or, with fs.split, cut in two there.
 */
#ifndef SP_FAKE_STREAM_H
#define SP_FAKE_STREAM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_check.h"
#include "sp_stream.h"
#include "sp_vu.h"

#ifndef FS_MAX
#define FS_MAX 64
#endif

enum { FS_FREE = 0, FS_SYN, FS_OPEN, FS_CLOSING, FS_GONE };

struct fs_conn {
	void *user;
	int state;
	int blocked;     /* room 0: a send was cut short, writable() owed */
	uint32_t budget; /* room 1: send room left this poll */
	struct fs_srv_conn srv;
};

/* The server behind the fake. */
struct fs_srv {
	/* The @n bytes at @p the engine sent on @c (after the room cut
	 * them). */
	void (*sent)(struct fs_conn *c, const uint8_t *p, uint32_t n);
	/* @c's turn in a poll, open, after writable() if one was due:
	 * answer what it read (fs_deliver), close. */
	void (*poll)(struct fs_conn *c);
	/* Optional: @c's turn in a poll, closing, before it goes. */
	void (*closing)(struct fs_conn *c);
	/* Optional: every connect(), before a connection is sought. */
	void (*connect)(const struct sp_stream_peer *peer);
};

static struct {
	struct fs_conn c[FS_MAX];
	const struct fs_srv *srv;
	/* Script. */
	uint32_t space;    /* send room, as room_per_poll says */
	int room_per_poll; /* the room's flavour (above) */
	uint32_t piece;    /* bytes per data() call */
	uint32_t split;    /* != 0: each delivery in two pieces, cut here
			    * (overrides piece) */
	int refuse;        /* every connect is refused */
	/* Witness. */
	uint64_t connects, closes, close_after_peer, aborts, closed_cbs;
	uint64_t rx_bytes, tx_bytes;
	/* The engine on the other side. */
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
	if (fs.srv->connect != NULL)
		fs.srv->connect(peer);
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
	*err = -105; /* ENOBUFS: the engine retries */
	return NULL;
}

static inline int32_t
fs_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	struct fs_conn *c = fs_conn(s);

	(void)impl;
	if (c->state != FS_OPEN)
		return -1;
	if (fs.room_per_poll) {
		if (len > c->budget)
			len = c->budget;
		c->budget -= len;
	} else if (len > fs.space) {
		len = fs.space;
		c->blocked = 1;
	}
	fs.tx_bytes += len;
	fs.srv->sent(c, data, len);
	return (int32_t)len;
}

static inline uint32_t
fs_send_space(void *impl, const struct sp_stream *s)
{
	const struct fs_conn *c = (const struct fs_conn *)s;

	(void)impl;
	if (c->state != FS_OPEN)
		return 0;
	if (fs.room_per_poll)
		return c->budget;
	return c->blocked ? 0 : fs.space;
}

static inline int
fs_close(void *impl, struct sp_stream *s)
{
	(void)impl;
	fs.closes++;
	fs_conn(s)->state = FS_CLOSING;
	return 0;
}

static inline int
fs_close_after_peer(void *impl, struct sp_stream *s)
{
	(void)impl;
	fs.close_after_peer++;
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
	.close_after_peer = fs_close_after_peer,
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

/* The server's @n bytes at @p to the engine, in pieces, while @c stays
 * open. */
static inline void
fs_deliver(struct fs_conn *c, const uint8_t *p, uint32_t n)
{
	uint32_t off = 0;

	while (off < n && c->state == FS_OPEN) {
		uint32_t k = fs.piece;

		if (fs.split != 0)
			k = off == 0 ? fs.split : n - off;
		if (k > n - off)
			k = n - off;
		fs.rx_bytes += k;
		fs.cbs->data(fs.ctx, c->user, p + off, k);
		off += k;
	}
}

/* One round of the fake's events: handshakes, room, the server's turn,
 * closes. */
static inline void
fs_poll(void)
{
	for (int i = 0; i < FS_MAX; i++) {
		struct fs_conn *c = &fs.c[i];

		switch (c->state) {
		case FS_SYN:
			if (fs.refuse) {
				fs_gone(c, SP_STREAM_END_REFUSED);
				break;
			}
			c->state = FS_OPEN;
			c->budget = fs.space;
			fs.cbs->connected(fs.ctx, c->user);
			break;
		case FS_OPEN:
			if (fs.room_per_poll) {
				c->budget = fs.space;
				fs.cbs->writable(fs.ctx, c->user);
			} else if (c->blocked) {
				c->blocked = 0;
				fs.cbs->writable(fs.ctx, c->user);
			}
			if (c->state == FS_OPEN)
				fs.srv->poll(c);
			break;
		case FS_CLOSING:
			if (fs.srv->closing != NULL)
				fs.srv->closing(c);
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

/* A new run on @e: every connection free, the witness zero (the script
 * stays), the engine's stream this fake. */
static inline void
fs_attach(struct sp_vu_engine *e)
{
	memset(fs.c, 0, sizeof(fs.c));
	fs.connects = fs.closes = fs.close_after_peer = fs.aborts = 0;
	fs.closed_cbs = fs.rx_bytes = fs.tx_bytes = 0;
	fs.cbs = sp_vu_stream_cbs();
	fs.ctx = e;
	sp_vu_set_stream(e, &fs_ops, NULL);
}

/* Start @e's load at *@now and run it to its end in 1 ms ticks, then
 * until every connection is gone (bounded); whether the load ended. */
static inline int
fs_run_load(struct sp_vu_engine *e, uint64_t *now)
{
	int done = 0;

	sp_vu_start(e, *now);
	for (int t = 0; t < 10000 && !(done && fs_open_conns() == 0); t++) {
		*now += 1000;
		if (!done)
			done = sp_vu_step(e, *now);
		fs_poll();
	}
	return done;
}

/* The engine's identities, whatever the script. */
static inline void
fs_check_identities(const struct sp_vu_stats *s)
{
	CHECK_EQ(s->vus_active, 0);
	CHECK_EQ(s->requests, s->responses + s->failed -
				      sp_vu_failed_responses(s) +
				      s->interrupted);
	CHECK_EQ(s->it_started,
		 s->it_completed + s->it_failed + s->it_interrupted);
}

/* ... and, for a run of the load alone, its connections and bytes as
 * the fake saw them: every connection ended with one closed(). */
static inline void
fs_check_accounting(const struct sp_vu_stats *s)
{
	fs_check_identities(s);
	CHECK_EQ(s->conns_open, 0);
	CHECK_EQ(s->connects, fs.connects);
	CHECK_EQ(fs.closed_cbs, fs.connects);
	CHECK_EQ(s->bytes_sent, fs.tx_bytes);
	CHECK_EQ(s->bytes_received, fs.rx_bytes);
}

#endif /* SP_FAKE_STREAM_H */
