/*
 * sp_tls: TLS as a stream over a stream (sp_stream.h).
 *
 * One instance per worker (it shares nothing: its engine state, its
 * connection pool, its counters), in one role: client (stampede run) or
 * server (stampede serve --tls). Toward its user it is a stream
 * implementation (sp_tls_stream_ops with the instance as impl); toward the
 * stream it rides on (TCP) it is a user (sp_tls_inner_cbs() with the
 * instance as ctx, each inner connection's user pointer one of ours).
 *
 * Wiring a client over the TCP adapter (app/stream_tcp.c):
 *
 *	struct sp_stream_tcp tcp;          (storage first: the two point at
 *	conf.inner_ops = &sp_stream_tcp_ops; each other)
 *	conf.inner_impl = &tcp;
 *	t = sp_tls_create(&conf, sp_vu_stream_cbs(), engine, err, sizeof(err));
 *	sp_stream_tcp_init(&tcp, sp_tls_inner_cbs(), t);
 *	... stack created with sp_stream_tcp_stack_ops() and &tcp,
 *	sp_stream_tcp_attach(&tcp, st);
 *	sp_vu_set_stream(engine, &sp_tls_stream_ops, t);
 *	... and once per worker loop iteration: sp_tls_poll(t, clock());
 *
 * A server wraps each accepted inner connection: sp_tls_accept(t, inner,
 * user, &err), after which the inner connection's callbacks must reach
 * sp_tls_inner_cbs() with ctx t (accept sets the inner user pointer).
 *
 * connected() reaches the user only once the handshake is done; a
 * failed handshake ends in closed() with one of the TLS end kinds of
 * sp_stream.h. Nothing allocates after sp_tls_create except what the
 * engine does inside a handshake (counted: allocs_hs) or after it
 * (allocs_steady, zero by design).
 */
#ifndef SP_TLS_H
#define SP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_stream.h"

struct sp_tls;
struct sp_tls_engine;

/* The engines built in. NULL in a conf means mbedTLS (the default: the
 * smaller footprint); OpenSSL's handshakes cost the client several times
 * less CPU (ECDSA verify), for handshake-rate tests. */
extern const struct sp_tls_engine sp_tls_engine_mbedtls;
extern const struct sp_tls_engine sp_tls_engine_openssl;
/* An engine by name ("mbedtls", "openssl"); NULL if none. */
const struct sp_tls_engine *sp_tls_engine_find(const char *name);
const char *sp_tls_engine_name(const struct sp_tls_engine *e);

#define SP_TLS_DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"
/* The curves offered (client) and preferred in this order (server) when
 * the conf names none: a browser's, so a server works as it would for
 * real clients. */
#define SP_TLS_DEFAULT_CURVES "x25519,secp256r1,secp384r1,secp521r1"
/* The cipher suites offered and preferred when the conf names none: a
 * browser's TLS 1.2 list and order (AES-GCM first: AES-NI), then the PSK
 * suites when there is a PSK. */
#define SP_TLS_DEFAULT_CIPHERS                                                 \
	"TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256,"                             \
	"TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256,"                               \
	"TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384,"                             \
	"TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384,"                               \
	"TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256,"                       \
	"TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256,"                         \
	"TLS-RSA-WITH-AES-128-GCM-SHA256,TLS-RSA-WITH-AES-256-GCM-SHA384"
#define SP_TLS_DEFAULT_PSK_CIPHERS                                             \
	"TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256,"                         \
	"TLS-PSK-WITH-AES-128-GCM-SHA256,TLS-PSK-WITH-AES-256-GCM-SHA384"

enum sp_tls_role { SP_TLS_CLIENT = 0, SP_TLS_SERVER };

/* What a client offers when it reconnects on a slot. */
enum sp_tls_resume {
	SP_TLS_RESUME_SESSION = 0, /* the session ID of its last session */
	SP_TLS_RESUME_NONE,        /* nothing: every handshake is full */
	SP_TLS_RESUME_TICKET,      /* a session ticket (RFC 5077) */
};

/*
 * Configuration. Zero is the careful default everywhere: verification
 * on, TLS 1.2 only (RFC 8996 rules out 1.0 and 1.1; the engines here
 * speak no usable 1.3), ALPN http/1.1, session resumption.
 */
struct sp_tls_conf {
	enum sp_tls_role role;
	const struct sp_tls_engine *engine; /* NULL: mbedTLS */
	uint32_t conns; /* connection pool, fixed at create (> 0) */
	uint32_t slots; /* client: resumption slots (peer->slot <) */
	/* Client: the CA bundle the server's chain must reach (NULL:
	 * SP_TLS_DEFAULT_CA). Server: the CA for client certificates. */
	const char *ca_file;
	int insecure;    /* client: accept any certificate and name */
	int client_auth; /* server: demand a client certificate */
	/* Client: a certificate for mutual TLS (both or neither).
	 * Server: its certificate chain and key (required). PEM or DER. */
	const char *cert_file;
	const char *key_file;
	/* Cipher suites and curves by name, ',' or ':' between; NULL: the
	 * SP_TLS_DEFAULT_CIPHERS and SP_TLS_DEFAULT_CURVES. Names the
	 * engine does not know are an error. */
	const char *ciphers;
	const char *curves;
	const char *alpn;          /* NULL: "http/1.1"; "": none offered */
	/* A pre-shared key, "IDENTITY:HEXKEY" (RFC 4279), or NULL. Both
	 * roles then offer the PSK suites (with ciphers
	 * TLS-PSK-WITH-AES-128-GCM-SHA256 nothing else: a handshake with
	 * no public-key operation, for connection-count tests); a server
	 * with a PSK needs no certificate. */
	const char *psk;
	enum sp_tls_resume resume; /* client */
	uint32_t session_cache;    /* server: session-ID cache entries */
	int tickets;               /* server: issue session tickets */
	/* The clock for handshake CPU cost and the handshake timeout: any
	 * monotonic tick counter (the worker's TSC), @clock_hz ticks a
	 * second. NULL: CLOCK_MONOTONIC in nanoseconds. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t clock_hz;
	/* Handshake CPU one worker loop iteration may spend (between two
	 * sp_tls_poll): handshake input that arrives past it waits for the
	 * next iterations (a copy, in a pool of SP_TLS_DEFER_BUFS buffers),
	 * so a burst of full handshakes (milliseconds each) cannot stall the
	 * loop, its ACKs and its timers, for the whole burst. 0: 1 ms;
	 * UINT64_MAX: no limit. */
	uint64_t hs_budget_us;
	/* No handshake within this long after the inner stream connected:
	 * closed(SP_STREAM_END_HANDSHAKE_TIMEOUT) at the next sp_tls_poll.
	 * 0: no limit. */
	uint64_t handshake_timeout_us;
	/* The stream TLS rides on. */
	const struct sp_stream_ops *inner_ops;
	void *inner_impl;
};

/* Alert descriptions and X.509 verification reasons counted by number. */
#define SP_TLS_NALERTS 256
#define SP_TLS_NVERIFY 32 /* bit i of the engine's verify flags */
#define SP_TLS_NERRS 16   /* distinct engine error codes kept */

/*
 * Counters, one writer (the instance's worker, through sp_ctr_*); other
 * cores read them with sp_ctr_read (sp_counter.h).
 */
struct sp_tls_counters {
	uint64_t connects;   /* connect() and accept() that got a conn */
	uint64_t pool_empty; /* ... refused: no connection free */
	uint64_t hs_full;    /* handshakes done, full */
	uint64_t hs_resumed; /* ... resumed (abbreviated) */
	uint64_t hs_failed;  /* handshakes that did not finish */
	uint64_t hs_offered; /* client: a saved session was offered */
	uint64_t ended[SP_STREAM_END_NKINDS]; /* closed() by kind */
	uint64_t hs_ticks_full;    /* clock ticks inside the engine, full */
	uint64_t hs_ticks_resumed; /* ... resumed */
	uint64_t alerts_rx[SP_TLS_NALERTS]; /* by description */
	uint64_t alerts_tx[SP_TLS_NALERTS]; /* by description (plaintext
					     * ones, and our close_notify) */
	uint64_t verify_fail; /* handshakes refused by verification */
	uint64_t verify_reason[SP_TLS_NVERIFY]; /* by flag bit */
	/* The engine's error codes (negative) of failed connections, the
	 * first SP_TLS_NERRS distinct ones; the rest in errs_other. */
	int32_t err_code[SP_TLS_NERRS];
	uint64_t err_count[SP_TLS_NERRS];
	uint64_t errs_other;
	uint64_t rec_bytes_in;    /* record bytes from the inner stream */
	uint64_t rec_bytes_out;   /* record bytes into the inner stream */
	uint64_t app_bytes_in;    /* plaintext to the user */
	uint64_t app_bytes_out;   /* plaintext from the user */
	uint64_t close_notify_rx; /* peer closed cleanly */
	uint64_t unclean_close;   /* peer closed with no close_notify */
	/* Engine allocations on this instance's thread: during create,
	 * inside handshakes, and after them (zero by design). */
	uint64_t allocs_setup;
	uint64_t allocs_hs;
	uint64_t allocs_steady;
	uint64_t open; /* gauge: connections handshaken, not gone */
	/* Handshake input put off past the loop iteration's budget, and the
	 * ticks it waited in all (the generator's own share of the tls
	 * phase); input that found no buffer free, or that its buffer could
	 * not hold, was taken at once (over_budget). */
	uint64_t hs_deferred;
	uint64_t hs_defer_ticks;
	uint64_t hs_over_budget;
};

/*
 * Make an instance: its engine configured and its pool of @conf->conns
 * connections set up (the engine's buffers all allocated here). @cbs and
 * @ctx: the user's callbacks. NULL on failure with a one-line reason in
 * @err and errno ENOMEM (out of memory: fewer connections would do) or
 * EINVAL (a file that will not load, an unknown cipher...).
 */
struct sp_tls *sp_tls_create(const struct sp_tls_conf *conf,
			     const struct sp_stream_cbs *cbs, void *ctx,
			     char *err, size_t errlen);
void sp_tls_destroy(struct sp_tls *t);

/* The stream the user drives (impl: the instance). connect() returns
 * NULL with -ENOBUFS when the pool is empty. */
extern const struct sp_stream_ops sp_tls_stream_ops;
/* The callbacks the inner stream must call (ctx: the instance). */
const struct sp_stream_cbs *sp_tls_inner_cbs(void);
/* The inner connection @s rides on: for a user that must know whether a
 * write larger than one record fits (send_space is one record at most). */
struct sp_stream *sp_tls_inner(struct sp_stream *s);

/* Server: start TLS on an inner connection that is open. NULL with
 * *err = -ENOBUFS when the pool is empty (the caller aborts @inner) or
 * -EINVAL on a client instance. */
struct sp_stream *sp_tls_accept(struct sp_tls *t, struct sp_stream *inner,
				void *user, int *err);

/* Once per worker loop iteration, @now in the conf's clock: a new
 * iteration's handshake budget; the handshake input put off, oldest
 * first, within it; then every connection whose handshake has lasted
 * longer than the timeout ended. Cheap when there is nothing to do: one
 * look at each list's head. */
void sp_tls_poll(struct sp_tls *t, uint64_t now);

/* Connections whose handshake input waits for sp_tls_poll now. */
uint32_t sp_tls_deferred(const struct sp_tls *t);

#define SP_TLS_DEFER_BUFS 64
#define SP_TLS_DEFER_LEN 16384

const struct sp_tls_counters *sp_tls_counters(const struct sp_tls *t);

/* For a connection whose handshake is done: ticks from the inner
 * stream's connected() to the end of the handshake (the "tls" phase),
 * and whether it resumed. */
uint64_t sp_tls_handshake_ticks(const struct sp_tls *t,
				const struct sp_stream *s);
int sp_tls_resumed(const struct sp_tls *t, const struct sp_stream *s);

/* Bytes one connection holds (ours and the engine's), for the report
 * and for sizing pools: an established connection moving records, and
 * one that is established but idle (mbedTLS keeps its record buffers:
 * the same; OpenSSL gives them back to a per-thread pool between
 * records, SSL_MODE_RELEASE_BUFFERS). */
size_t sp_tls_conn_bytes(const struct sp_tls *t);
size_t sp_tls_conn_bytes_idle(const struct sp_tls *t);

/* Names for the report: an alert description, a verify flag bit, an
 * engine error code. Never NULL. */
const char *sp_tls_alert_name(unsigned desc);
const char *sp_tls_verify_name(const struct sp_tls_engine *e, unsigned bit);
const char *sp_tls_error_name(const struct sp_tls_engine *e, int code,
			      char *buf, size_t len);

/* Allocations the engine made on this thread, since the start (the
 * engine's calloc is routed through a counting wrapper, tls_alloc.c). */
uint64_t sp_tls_thread_allocs(void);

#endif /* SP_TLS_H */
