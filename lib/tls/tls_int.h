/*
 * Inside lib/tls: the instance, a connection, and the engine interface.
 *
 * tls_stream.c is the glue every engine shares: the pool, the states, the
 * inner stream's callbacks, the BIO window, the handshake FIFO, the
 * counters. An engine (tls_mbed.c) only turns records into plaintext and
 * back through the BIO functions below; it never calls the inner stream
 * or the user itself.
 */
#ifndef SP_TLS_INT_H
#define SP_TLS_INT_H

#include <stdint.h>

#include "sp_tls.h"

/* A connection's life. Ordered: CONNECTING..OPEN may still fail. */
enum sp_tls_state {
	SP_TLS_FREE = 0,
	SP_TLS_CONNECTING, /* client: inner connect under way */
	SP_TLS_HANDSHAKE,  /* inner open, handshake under way (in the FIFO) */
	SP_TLS_OPEN,       /* handshake done, user told */
	SP_TLS_CLOSING,    /* user closed: close_notify out, inner closing */
	SP_TLS_ENDING,     /* failed or aborted: waiting for inner closed() */
};

struct sp_tls_conn {
	struct sp_tls *t;
	struct sp_stream *inner;
	void *user;
	void *eng;                /* the engine's per-connection state */
	struct sp_tls_conn *next; /* free list, or handshake FIFO */
	struct sp_tls_conn *prev; /* handshake FIFO */
	/* The BIO's receive window: the inner data callback's bytes. */
	const uint8_t *in;
	uint32_t in_len;
	uint32_t slot;
	uint8_t state;
	uint8_t fail; /* enum sp_stream_end; 0: none */
	uint8_t nest; /* glue frames on the C stack */
	uint8_t gone; /* inner closed() came while nested */
	uint8_t gone_why;
	uint8_t in_fifo;
	uint8_t aborted;   /* abort() by the user */
	uint8_t notify_rx; /* close_notify received */
	uint8_t flush;     /* engine output waits for writable */
	uint8_t resumed;
	uint8_t hs_began; /* counted once: done or failed */
	uint8_t hs_done;
	uint8_t close_after; /* close pending: after the peer */
	uint8_t closing;     /* close pending the flush */
	/* Handshake input put off (sp_tls_poll): its pool buffer, or -1;
	 * the bytes in it; when it began waiting; the next such connection. */
	int32_t dbuf;
	uint32_t dlen;
	uint64_t dsince;
	struct sp_tls_conn *dnext;
	uint64_t hs_start;   /* clock at inner connected() */
	uint64_t hs_ticks;   /* ... to the handshake's end */
	uint64_t hs_cpu;     /* ticks inside the engine, handshake */
};

/* Engine results (an engine's own codes go to c's err, see below). */
enum {
	SP_TLS_DONE = 0,
	SP_TLS_WANT = -1, /* needs input, or output space: call again */
	SP_TLS_EOF = -2,  /* close_notify read */
	SP_TLS_FAIL = -3, /* sp_tls_fail_info filled */
};

/* What an engine says about a failure. */
struct sp_tls_fail_info {
	enum sp_stream_end kind;
	int code;        /* the engine's error code */
	uint32_t vflags; /* verification flags, when kind is VERIFY */
	int alert;       /* fatal alert description received, or -1 */
};

struct sp_tls_engine {
	const char *name;
	/* Configure from @conf and set up every connection of t->conns
	 * (c->eng), all allocation here. -ENOMEM (out of memory) or
	 * -EINVAL (a file, a name...) with @err filled. */
	int (*create)(struct sp_tls *t, const struct sp_tls_conf *conf,
		      char *err, size_t errlen);
	void (*destroy)(struct sp_tls *t);
	/* Make @c ready for a new connection: reset, the name to send
	 * (SNI) and check (NULL: none), the session of @slot offered
	 * (client). < 0 when it cannot (allocation failed). */
	int (*start)(struct sp_tls *t, struct sp_tls_conn *c, const char *name,
		     uint32_t slot);
	/* Advance the handshake: DONE (then c->resumed set and the session
	 * kept for c->slot), WANT or FAIL. */
	int (*handshake)(struct sp_tls *t, struct sp_tls_conn *c,
			 struct sp_tls_fail_info *fi);
	/* Plaintext: bytes read, WANT, EOF or FAIL. */
	int (*read)(struct sp_tls *t, struct sp_tls_conn *c, uint8_t *buf,
		    uint32_t len, struct sp_tls_fail_info *fi);
	/* Encrypt up to @len (<= max_plain): bytes taken; WANT when the
	 * record is made but not all out (flush() on writable); FAIL. */
	int (*write)(struct sp_tls *t, struct sp_tls_conn *c,
		     const uint8_t *buf, uint32_t len,
		     struct sp_tls_fail_info *fi);
	int (*flush)(struct sp_tls *t, struct sp_tls_conn *c);
	/* Queue our close_notify: DONE, WANT (flush pending) or FAIL. */
	int (*close_notify)(struct sp_tls *t, struct sp_tls_conn *c);
	/* Bytes a record adds to its plaintext, and the largest plaintext
	 * one record carries, for this (open) connection. */
	uint32_t (*overhead)(struct sp_tls *t, struct sp_tls_conn *c);
	uint32_t (*max_plain)(struct sp_tls *t, struct sp_tls_conn *c);
	size_t (*conn_bytes)(const struct sp_tls *t);
	size_t (*conn_bytes_idle)(const struct sp_tls *t); /* NULL: same */
	const char *(*verify_name)(unsigned bit);
	const char *(*error_name)(int code, char *buf, size_t len);
};

struct sp_tls {
	struct sp_tls_counters ctr;
	const struct sp_tls_engine *eng;
	void *eng_state;
	enum sp_tls_role role;
	const struct sp_stream_cbs *cbs;
	void *ctx;
	const struct sp_stream_ops *iops;
	void *iimpl;
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t hs_timeout; /* ticks, 0 none */
	uint32_t nconns;
	uint32_t nslots;
	struct sp_tls_conn *conns;
	struct sp_tls_conn *free;
	struct sp_tls_conn *fifo_head, *fifo_tail;
	uint8_t *scratch; /* plaintext, one record */
	uint32_t scratch_len;
	/* The handshake budget (ticks per loop iteration, UINT64_MAX: none)
	 * and what this iteration has spent; the connections whose input
	 * waits, oldest first; the pool their input waits in. */
	uint64_t hs_budget, hs_spent;
	struct sp_tls_conn *defer_head, *defer_tail;
	uint8_t *dbufs; /* SP_TLS_DEFER_BUFS x SP_TLS_DEFER_LEN */
	int32_t dfree[SP_TLS_DEFER_BUFS];
	uint32_t ndfree;
};

/* The BIO, for engines: bytes into the inner stream (the number taken,
 * 0 when it has no room, < 0 when it can take no more), bytes out of the
 * current receive window (0 when empty). */
int sp_tls_bio_send(struct sp_tls_conn *c, const uint8_t *p, uint32_t len);
int sp_tls_bio_recv(struct sp_tls_conn *c, uint8_t *p, uint32_t len);

/* The name of verification flag bit @bit: the bits every engine uses
 * (tls_life.c). */
enum {
	SP_TLS_V_EXPIRED = 0,
	SP_TLS_V_REVOKED = 1,
	SP_TLS_V_NAME = 2,
	SP_TLS_V_NOT_TRUSTED = 3,
	SP_TLS_V_MISSING = 6,
	SP_TLS_V_OTHER = 8,
	SP_TLS_V_FUTURE = 9,
	SP_TLS_V_KEY_USAGE = 11,
	SP_TLS_V_EXT_KEY_USAGE = 12,
	SP_TLS_V_BAD_MD = 14,
	SP_TLS_V_BAD_KEY = 16,
};
const char *sp_tls_verify_bit_name(unsigned bit);

/* What a conf needs whatever the engine (tls_conf.c): connections, a
 * stream, a certificate with its key, a server something to prove
 * itself with. 0, or -EINVAL with @err filled. */
int sp_tls_conf_check(const struct sp_tls_conf *conf, char *err,
		      size_t errlen);

/* Configuration every engine reads alike (tls_conf.c): the next name of
 * a list ("a,b:c", ',' ':' or ' ' between) into @buf, NULL at the end;
 * how many names; a PSK "IDENTITY:HEXKEY" (0, or -EINVAL with @err). */
const char *sp_tls_list_next(const char **list, char *buf, size_t len);
size_t sp_tls_list_count(const char *list);

struct sp_tls_psk {
	char id[128];
	uint8_t key[32]; /* 256 bits: mbedTLS's MBEDTLS_PSK_MAX_LEN */
	size_t key_len;
};
int sp_tls_psk_parse(const char *spec, struct sp_tls_psk *psk, char *err,
		     size_t errlen);

/* OpenSSL's allocations (tls_alloc.c): whether its hooks are in (they
 * must be before the library's first allocation); the account the
 * blocks OpenSSL allocates now are charged to (NULL: none; the engine
 * points it at the connection it works on). */
int sp_os_mem_hooked(void);

/* A connection's account: the bytes OpenSSL holds for it (blocks and
 * their headers, as asked of malloc), of which @floor is what earlier
 * connections on the same SSL left (sessions a cache or a slot keeps):
 * a block made under an earlier @gen leaves the floor too when freed. */
struct sp_os_acct {
	uint64_t live;
	uint64_t floor;
	uint16_t gen;
};
extern __thread struct sp_os_acct *sp_os_acct;

/* Put @n blocks of @size in this thread's pool ahead of need (counted as
 * allocations, by the caller's phase). */
void sp_os_pool_reserve(size_t size, unsigned n);

#endif /* SP_TLS_INT_H */
