/*
 * The sp_stream seam over the TCP stack (see sp_stream_tcp.h): each
 * operation is the stack's call of the same name, each callback the
 * stack's, with the connection's user pointer read from the connection.
 * A passive connection reaches the accept hook first, with no user.
 */
#include "sp_stream_tcp.h"

/* A stream handle is the stack's connection itself: no allocation, no
 * lookup. */
static inline struct sp_conn *
sp_st_conn(struct sp_stream *s)
{
	return (struct sp_conn *)s;
}

static struct sp_stream *
sp_st_connect(void *impl, const struct sp_stream_peer *peer, void *user,
	      int *err)
{
	struct sp_stream_tcp *t = impl;

	return (struct sp_stream *)sp_tcp_connect(t->st, peer->ip, peer->port,
						  user, err);
}

static int32_t
sp_st_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	return sp_tcp_send(((struct sp_stream_tcp *)impl)->st, sp_st_conn(s),
			   data, len);
}

static int32_t
sp_st_send_ref(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	return sp_tcp_send_ref(((struct sp_stream_tcp *)impl)->st,
			       sp_st_conn(s), data, len);
}

static uint32_t
sp_st_send_space(void *impl, const struct sp_stream *s)
{
	return sp_tcp_send_space(((struct sp_stream_tcp *)impl)->st,
				 (const struct sp_conn *)s);
}

static int
sp_st_close(void *impl, struct sp_stream *s)
{
	return sp_tcp_close(((struct sp_stream_tcp *)impl)->st, sp_st_conn(s));
}

static int
sp_st_close_after_peer(void *impl, struct sp_stream *s)
{
	return sp_tcp_close_after_peer(((struct sp_stream_tcp *)impl)->st,
				       sp_st_conn(s));
}

static void
sp_st_abort(void *impl, struct sp_stream *s)
{
	sp_tcp_abort(((struct sp_stream_tcp *)impl)->st, sp_st_conn(s));
}

static void
sp_st_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	sp_conn_set_user(sp_st_conn(s), user);
}

const struct sp_stream_ops sp_stream_tcp_ops = {
	.connect = sp_st_connect,
	.send = sp_st_send,
	.send_ref = sp_st_send_ref,
	.send_space = sp_st_send_space,
	.close = sp_st_close,
	.close_after_peer = sp_st_close_after_peer,
	.abort = sp_st_abort,
	.set_user = sp_st_set_user,
};

/* ---- the stack's callbacks, passed through ---- */

static void
sp_st_on_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_stream_tcp *t = app;
	void *user = sp_conn_user(c);

	(void)st;
	/* The stack gives an accepted connection no user; a connection we
	 * opened has one from connect(). */
	if (user == NULL && t->accept != NULL) {
		t->accept(t->actx, (struct sp_stream *)c);
		return;
	}
	t->cbs->connected(t->ctx, user);
}

static void
sp_st_on_recv(struct sp_stack *st, struct sp_conn *c, void *app,
	      const uint8_t *data, uint32_t len)
{
	struct sp_stream_tcp *t = app;

	(void)st;
	t->cbs->data(t->ctx, sp_conn_user(c), data, len);
}

static void
sp_st_on_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_stream_tcp *t = app;

	(void)st;
	t->cbs->writable(t->ctx, sp_conn_user(c));
}

static void
sp_st_on_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_stream_tcp *t = app;

	(void)st;
	t->cbs->peer_closed(t->ctx, sp_conn_user(c), 1);
}

static void
sp_st_on_closed(struct sp_stack *st, struct sp_conn *c, void *app,
		enum sp_close_reason why)
{
	static const enum sp_stream_end end[SP_CLOSE_NREASONS] = {
		[SP_CLOSE_NORMAL] = SP_STREAM_END_NORMAL,
		[SP_CLOSE_REFUSED] = SP_STREAM_END_REFUSED,
		[SP_CLOSE_CONNECT_TIMEOUT] = SP_STREAM_END_CONNECT_TIMEOUT,
		[SP_CLOSE_RESET] = SP_STREAM_END_RESET,
		[SP_CLOSE_TIMEOUT] = SP_STREAM_END_TIMEOUT,
		[SP_CLOSE_ABORTED] = SP_STREAM_END_ABORTED,
	};
	struct sp_stream_tcp *t = app;

	(void)st;
	t->cbs->closed(t->ctx, sp_conn_user(c),
		       (unsigned)why < SP_CLOSE_NREASONS ?
			       end[why] :
			       SP_STREAM_END_NORMAL);
}

static const struct sp_tcp_ops sp_st_stack_ops = {
	.connected = sp_st_on_connected,
	.recv = sp_st_on_recv,
	.sent = sp_st_on_sent,
	.peer_fin = sp_st_on_peer_fin,
	.closed = sp_st_on_closed,
};

const struct sp_tcp_ops *
sp_stream_tcp_stack_ops(void)
{
	return &sp_st_stack_ops;
}

void
sp_stream_tcp_init(struct sp_stream_tcp *t, const struct sp_stream_cbs *cbs,
		   void *ctx)
{
	t->st = NULL;
	t->cbs = cbs;
	t->ctx = ctx;
	t->accept = NULL;
	t->actx = NULL;
}

void
sp_stream_tcp_attach(struct sp_stream_tcp *t, struct sp_stack *st)
{
	t->st = st;
}

void
sp_stream_tcp_accept(struct sp_stream_tcp *t, sp_stream_accept_fn fn,
		     void *actx)
{
	t->accept = fn;
	t->actx = actx;
}
