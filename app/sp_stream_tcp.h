/*
 * sp_stream_tcp: the sp_stream seam (lib/proto/include/sp_stream.h) over
 * one sp_stack (lib/tcpstack). A thin adapter: a stream handle is the
 * stack's connection, the user pointer is the connection's (sp_conn_user),
 * and the stack's callbacks pass straight through to the user's.
 *
 * Wiring: sp_stream_tcp_init(&t, user callbacks, user context); create the
 * stack with sp_stream_tcp_stack_ops() and &t as its application context;
 * sp_stream_tcp_attach(&t, stack); hand the user sp_stream_tcp_ops and &t.
 * Nothing allocates: the adapter lives where the caller puts it.
 *
 * A server (the stack listening) adds an accept hook: a connection the
 * stack accepted has no user yet, and reaches the hook in place of
 * connected(). The hook gives it one (set_user, or sp_tls_accept, which
 * sets its own) or aborts it; every callback after that goes to the
 * user's table as for any connection, closed() included.
 */
#ifndef SP_STREAM_TCP_H
#define SP_STREAM_TCP_H

#include "sp_stream.h"
#include "sp_tcpstack.h"

/* A connection accepted: @s is open, with no user. */
typedef void (*sp_stream_accept_fn)(void *actx, struct sp_stream *s);

struct sp_stream_tcp {
	struct sp_stack *st;
	const struct sp_stream_cbs *cbs;
	void *ctx;
	sp_stream_accept_fn accept; /* NULL: a client's adapter */
	void *actx;
};

extern const struct sp_stream_ops sp_stream_tcp_ops;

void sp_stream_tcp_init(struct sp_stream_tcp *t,
			const struct sp_stream_cbs *cbs, void *ctx);
/* The stack's callbacks, for sp_stack_create with the adapter as app. */
const struct sp_tcp_ops *sp_stream_tcp_stack_ops(void);
void sp_stream_tcp_attach(struct sp_stream_tcp *t, struct sp_stack *st);
/* Server: connections the stack accepts go to @fn (with @actx). */
void sp_stream_tcp_accept(struct sp_stream_tcp *t, sp_stream_accept_fn fn,
			  void *actx);

#endif /* SP_STREAM_TCP_H */
