/*
 * sp_stream: a byte stream to a peer, as lib/proto sees a connection.
 *
 * The protocol engines in lib/proto (sp_vu) talk to whatever carries their
 * bytes through this seam only, in the shape of lwIP's altcp or libuv's
 * uv_stream_t: an operations table plus an opaque implementation pointer
 * one way, a callbacks table plus an opaque context the other way. The
 * TCP stack is one implementation (app/stream_tcp.c, a thin adapter the
 * app wires in); a unit test's fake stream is another; TLS would be a
 * third, wrapping an inner stream. Nothing here allocates: a connection
 * is an opaque handle of the implementation's, and the per-connection
 * user pointer is the implementation's to keep and hand back.
 *
 * Rules every implementation keeps (the engine relies on them):
 * - Callbacks come from the implementation's own event processing (a
 *   received frame, a timer); abort() may run closed() before it returns,
 *   so a user detaches first (set_user(s, NULL)) what it lets go of.
 * - A connection's user pointer is passed to each of its callbacks as it
 *   is at that moment: set_user(s, NULL) detaches the user, and the
 *   callbacks that still come (closed() at least) see NULL.
 * - closed() is the last callback for a connection; after it the handle
 *   is gone. Every connection that connect() returned ends with exactly
 *   one closed().
 */
#ifndef SP_STREAM_H
#define SP_STREAM_H

#include <stdint.h>

/* One connection, opaque: the implementation's own object. */
struct sp_stream;

/* Why a connection ended. */
enum sp_stream_end {
	SP_STREAM_END_NORMAL = 0,      /* closed in order, both ways */
	SP_STREAM_END_REFUSED,         /* the peer refused the connection */
	SP_STREAM_END_CONNECT_TIMEOUT, /* no answer to the connect in time */
	SP_STREAM_END_RESET,           /* reset by the peer once open */
	SP_STREAM_END_TIMEOUT,         /* our data went unacknowledged */
	SP_STREAM_END_ABORTED,         /* abort() by the user */
};

/* What the implementation does, for the user. @impl is the pointer the
 * user was given with the table. */
struct sp_stream_ops {
	/* Open a connection to @ip:@port (IPv4, host order) carrying @user.
	 * NULL with *err (a negative errno) when our own resources are
	 * short; else connected() or closed() follows. */
	struct sp_stream *(*connect)(void *impl, uint32_t ip, uint16_t port,
				     void *user, int *err);
	/* Queue up to @len bytes: the number queued (0 when full), or < 0
	 * when the connection can send no more. */
	int32_t (*send)(void *impl, struct sp_stream *s, const void *data,
			uint32_t len);
	/* Bytes send() would take now (0 unless open). */
	uint32_t (*send_space)(void *impl, const struct sp_stream *s);
	/* Graceful close after the queued data; < 0 if it cannot be done
	 * (abort then). */
	int (*close)(void *impl, struct sp_stream *s);
	/* Graceful close when the peer is about to close too: let it close
	 * first (and keep the TIME_WAIT), within a bounded wait. */
	int (*close_after_peer)(void *impl, struct sp_stream *s);
	/* Reset now; closed(SP_STREAM_END_ABORTED) follows, maybe within. */
	void (*abort)(void *impl, struct sp_stream *s);
	void (*set_user)(void *impl, struct sp_stream *s, void *user);
};

/* What the user hears, for one connection. @ctx is the pointer the
 * implementation was given with the table; @user is the connection's. */
struct sp_stream_cbs {
	/* The connection is open. */
	void (*connected)(void *ctx, void *user);
	/* In-order bytes from the peer, consumed in full on return. Called
	 * with @user NULL too (detached), so the bytes can be counted. */
	void (*data)(void *ctx, void *user, const uint8_t *p, uint32_t len);
	/* Send space freed. */
	void (*writable)(void *ctx, void *user);
	/* The peer closed its sending side. */
	void (*peer_closed)(void *ctx, void *user);
	/* The connection is gone (last call; @user may be NULL). */
	void (*closed)(void *ctx, void *user, enum sp_stream_end why);
};

#endif /* SP_STREAM_H */
