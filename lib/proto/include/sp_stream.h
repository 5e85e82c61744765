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
	/* A stream with a handshake of its own (TLS) adds these. */
	SP_STREAM_END_HANDSHAKE,  /* the handshake failed (version,
					* cipher, protocol) */
	SP_STREAM_END_VERIFY,     /* the peer's certificate was refused */
	SP_STREAM_END_ALERT,      /* the peer sent a fatal alert */
	SP_STREAM_END_BAD_RECORD, /* the peer sent bytes that are not
					* a valid record */
	SP_STREAM_END_HANDSHAKE_TIMEOUT, /* no handshake within the connect
					  * timeout */
	SP_STREAM_END_NKINDS
};

/* Where to connect, per connection. */
struct sp_stream_peer {
	uint32_t ip; /* IPv4, host order */
	uint16_t port;
	/* The peer's name as the user wrote it (TLS: SNI and the name the
	 * certificate must carry); NULL when there is none. */
	const char *name;
	/* A slot the implementation may keep state in across this user's
	 * connections (TLS: the session to resume), < the slot count it
	 * was set up with; SP_STREAM_NO_SLOT for none. */
	uint32_t slot;
};

#define SP_STREAM_NO_SLOT UINT32_MAX

/* What the implementation does, for the user. @impl is the pointer the
 * user was given with the table. */
struct sp_stream_ops {
	/* Open a connection to @peer carrying @user. NULL with *err (a
	 * negative errno) when our own resources are short; else
	 * connected() or closed() follows. */
	struct sp_stream *(*connect)(void *impl,
				     const struct sp_stream_peer *peer,
				     void *user, int *err);
	/* Queue up to @len bytes: the number queued (0 when full), or < 0
	 * when the connection can send no more. */
	int32_t (*send)(void *impl, struct sp_stream *s, const void *data,
			uint32_t len);
	/* send() of bytes that stay unchanged and in place until the
	 * stream's implementation stops (a prebuilt request): it may queue
	 * a reference to them instead of a copy. NULL: send() them. */
	int32_t (*send_ref)(void *impl, struct sp_stream *s, const void *data,
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
	/* The transport under a stream with a handshake of its own (TLS)
	 * is open and that handshake begins; connected() follows when it is
	 * done. A stream without one (TCP) never calls it; a user may leave
	 * it NULL. */
	void (*handshaking)(void *ctx, void *user);
	/* The connection is open. */
	void (*connected)(void *ctx, void *user);
	/* In-order bytes from the peer, consumed in full on return. Called
	 * with @user NULL too (detached), so the bytes can be counted. */
	void (*data)(void *ctx, void *user, const uint8_t *p, uint32_t len);
	/* Send space freed. */
	void (*writable)(void *ctx, void *user);
	/* The peer closed its sending side. @clean: in order as the
	 * stream's protocol defines it (TCP: always; TLS: a close_notify
	 * came first). A response delimited by the close is whole only when
	 * @clean (RFC 9112 section 9.8). */
	void (*peer_closed)(void *ctx, void *user, int clean);
	/* The connection is gone (last call; @user may be NULL). */
	void (*closed)(void *ctx, void *user, enum sp_stream_end why);
};

#endif /* SP_STREAM_H */
