/*
 * lib/tls's input path: a client TLS stream (verification off, so that a
 * well-formed flight would pass) over a fake inner stream fed the input
 * as the server's bytes, cut in pieces whose sizes the input's first
 * byte chooses. Each input goes to a client of each engine in turn
 * (mbedTLS, then OpenSSL): the same bytes, so that a corpus grown on one
 * serves the other. Whatever arrives, the connection ends in exactly one
 * closed(), the glue returns its pool, and nothing reads past a window.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_tls.h"

static struct {
	void *user;
	int open, fin, closed_told;
	const struct sp_stream_cbs *cbs;
	void *ctx;
} in;

static struct sp_stream *
f_connect(void *impl, const struct sp_stream_peer *peer, void *user, int *err)
{
	(void)impl;
	(void)peer;
	(void)err;
	memset(&in, 0, sizeof(in));
	in.user = user;
	return (struct sp_stream *)&in;
}

static int32_t
f_send(void *impl, struct sp_stream *s, const void *d, uint32_t len)
{
	(void)impl;
	(void)s;
	(void)d;
	return in.fin ? -1 : (int32_t)len;
}

static uint32_t
f_space(void *impl, const struct sp_stream *s)
{
	(void)impl;
	(void)s;
	return in.fin ? 0 : 65536;
}

static int
f_close(void *impl, struct sp_stream *s)
{
	(void)impl;
	(void)s;
	in.fin = 1;
	return 0;
}

static void
f_abort(void *impl, struct sp_stream *s)
{
	(void)impl;
	(void)s;
	in.fin = 1;
}

static void
f_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	(void)s;
	in.user = user;
}

static const struct sp_stream_ops f_ops = {
	.connect = f_connect,
	.send = f_send,
	.send_space = f_space,
	.close = f_close,
	.close_after_peer = f_close,
	.abort = f_abort,
	.set_user = f_set_user,
};

static int connected, closed;

static void
u_connected(void *c, void *u)
{
	(void)c;
	(void)u;
	connected++;
}
static void
u_data(void *c, void *u, const uint8_t *p, uint32_t n)
{
	(void)c;
	(void)u;
	(void)p;
	(void)n;
}
static void
u_writable(void *c, void *u)
{
	(void)c;
	(void)u;
}
static void
u_peer_closed(void *c, void *u, int clean)
{
	(void)c;
	(void)u;
	(void)clean;
}
static void
u_closed(void *c, void *u, enum sp_stream_end why)
{
	(void)c;
	(void)u;
	(void)why;
	closed++;
}

static const struct sp_stream_cbs u_cbs = {
	.connected = u_connected,
	.data = u_data,
	.writable = u_writable,
	.peer_closed = u_peer_closed,
	.closed = u_closed,
};

static const struct sp_tls_engine *const engines[] = {
	&sp_tls_engine_mbedtls,
	&sp_tls_engine_openssl,
};
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

static struct sp_tls *inst[NENGINES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
f_tick(void *arg)
{
	static uint64_t now;

	(void)arg;
	return now += 1000;
}

/* One client of each engine, made at the first input and kept: the
 * pool must come back after every input. */
static struct sp_tls *
instance(size_t e)
{
	if (inst[e] == NULL) {
		/* Every clock reading 1 ms on, a 1 us budget: past the first
		 * call of an iteration, handshake input waits for the next
		 * sp_tls_poll (or for the FIN or the end). */
		struct sp_tls_conf conf = {
			.role = SP_TLS_CLIENT,
			.engine = engines[e],
			.conns = 1,
			.slots = 1,
			.insecure = 1,
			.inner_ops = &f_ops,
			.clock = f_tick,
			.clock_hz = 1000000,
			.hs_budget_us = 1,
		};
		char msg[256];

		inst[e] = sp_tls_create(&conf, &u_cbs, NULL, msg, sizeof(msg));
		if (inst[e] == NULL) {
			fprintf(stderr, "fuzz_tls: %s: %s\n",
				sp_tls_engine_name(engines[e]), msg);
			abort();
		}
	}
	return inst[e];
}

/* The input, after its piece size, as the server's bytes to @t. */
static void
run(struct sp_tls *t, uint8_t piece, const uint8_t *data, size_t size)
{
	struct sp_stream_peer peer = { .ip = 0xc6120002u,
				       .port = 443,
				       .name = "srv.stampede.test",
				       .slot = 0 };
	int err = 0;
	struct sp_stream *s;

	connected = closed = 0;
	s = sp_tls_stream_ops.connect(t, &peer, NULL, &err);
	if (s == NULL)
		abort(); /* the pool must have come back */
	sp_tls_inner_cbs()->connected(t, in.user);
	while (size && !in.closed_told) {
		size_t n = size < piece ? size : piece;

		sp_tls_inner_cbs()->data(t, in.user, data, (uint32_t)n);
		data += n;
		size -= n;
		/* An odd piece size: a loop iteration ends after each. */
		if (piece & 1)
			sp_tls_poll(t, 0);
	}
	if (!in.fin)
		sp_tls_stream_ops.abort(t, s);
	/* The inner's end: exactly one closed() to the user. */
	sp_tls_inner_cbs()->closed(t, in.user, SP_STREAM_END_RESET);
	if (closed != 1)
		abort();
	if (sp_tls_deferred(t) != 0)
		abort(); /* a buffer of waiting input not given back */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t e = 0; e < NENGINES; e++)
		instance(e);
	if (size < 1)
		return 0;
	for (size_t e = 0; e < NENGINES; e++)
		run(inst[e], data[0] ? data[0] : 1, data + 1, size - 1);
	return 0;
}
