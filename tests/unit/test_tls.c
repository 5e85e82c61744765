/*
 * lib/tls over an in-memory wire: a client TLS stream and a server TLS
 * connection (or a scripted hostile server speaking raw bytes) on the two
 * ends of a fake stream pair, with certificates this test makes itself
 * (mbedTLS's x509write: a CA, ECDSA P-256 and RSA-2048 server
 * certificates, one expired, one from a CA the client does not know).
 *
 * The fake keeps sp_stream.h's rules: callbacks come from fw_pump() (and
 * closed() within abort()), each with the user pointer the end carries
 * then. fw.piece cuts every delivery, fw.first cuts the first one of
 * each pump, so records arrive split at any byte.
 *
 * Every case runs for each pair of engines, client/server: mbedtls/mbedtls,
 * openssl/openssl, openssl/mbedtls, mbedtls/openssl (the arguments, if
 * any, name the pairs to run). Expectations are the same for both engines
 * except where one is said to differ (the kinds of ends and the verify
 * bits are the glue's, engine codes are not compared).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

/* "[client/server case] ", in front of every failure. */
static char pair_tag[64];
#define SP_CHECK_CONTEXT pair_tag

#include "sp_check.h"
#include "sp_tls.h"

/* The pair under test. A create that fails ends the case (longjmp back
 * to main): the rest of it would only repeat that failure. */
static const struct sp_tls_engine *eng_cli, *eng_srv;
static jmp_buf case_end;

static int
is_ossl(const struct sp_tls_engine *e)
{
	return e == &sp_tls_engine_openssl;
}

/* ---- the fake wire ---- */

#define FW_MAX 8
#define FW_Q 65536

struct fw_pair;

struct fw_end {
	struct fw_pair *p;
	int side; /* 0 client, 1 server */
	void *user;
	uint8_t q[FW_Q]; /* sent by this end, not yet delivered */
	uint32_t qlen, qoff;
	int fin;         /* closed by this end */
	int fin_told;    /* ... and the other end told */
	int closed_told; /* closed() delivered to this end */
};

struct fw_pair {
	int used;
	int open;
	int dead; /* aborted: the other end hears RESET */
	struct fw_end e[2];
};

struct fw_side {
	const struct sp_stream_cbs *cbs; /* NULL: raw (scripted) server */
	void *ctx;
};

static struct {
	struct fw_pair p[FW_MAX];
	struct fw_side side[2];
	uint32_t piece; /* deliver at most this much a call */
	uint32_t first; /* the first delivery of a pump at most this */
	uint32_t space; /* send space of an end */
	/* Raw server's view. */
	uint8_t raw[FW_Q];
	uint32_t nraw;
	int raw_fin;
	/* Accept hook for a TLS server. */
	struct sp_tls *srv;
	void *srv_user;
	struct sp_stream *srv_s;          /* the last accepted */
	struct sp_stream *srv_ss[FW_MAX]; /* ... by pair */
} fw;

static struct sp_stream *
fw_connect(void *impl, const struct sp_stream_peer *peer, void *user, int *err)
{
	(void)impl;
	(void)peer;
	for (int i = 0; i < FW_MAX; i++) {
		struct fw_pair *p = &fw.p[i];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = 1;
		for (int s = 0; s < 2; s++) {
			p->e[s].p = p;
			p->e[s].side = s;
		}
		p->e[0].user = user;
		return (struct sp_stream *)&p->e[0];
	}
	*err = -ENOBUFS;
	return NULL;
}

static int32_t
fw_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	struct fw_end *e = (struct fw_end *)s;
	uint32_t room;

	(void)impl;
	if (!e->p->open || e->fin || e->p->dead)
		return -1;
	room = fw.space - e->qlen;
	if (len > room)
		len = room;
	memcpy(e->q + e->qlen, data, len);
	e->qlen += len;
	return (int32_t)len;
}

static uint32_t
fw_send_space(void *impl, const struct sp_stream *s)
{
	const struct fw_end *e = (const struct fw_end *)s;

	(void)impl;
	if (!e->p->open || e->fin || e->p->dead)
		return 0;
	return fw.space - e->qlen;
}

static int
fw_close(void *impl, struct sp_stream *s)
{
	(void)impl;
	((struct fw_end *)s)->fin = 1;
	return 0;
}

static void
fw_abort(void *impl, struct sp_stream *s)
{
	struct fw_end *e = (struct fw_end *)s;
	struct fw_side *sd = &fw.side[e->side];

	(void)impl;
	e->p->dead = 1;
	if (!e->closed_told) {
		e->closed_told = 1;
		if (sd->cbs)
			sd->cbs->closed(sd->ctx, e->user,
					SP_STREAM_END_ABORTED);
	}
}

static void
fw_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	((struct fw_end *)s)->user = user;
}

static const struct sp_stream_ops fw_ops = {
	.connect = fw_connect,
	.send = fw_send,
	.send_space = fw_send_space,
	.close = fw_close,
	.close_after_peer = fw_close,
	.abort = fw_abort,
	.set_user = fw_set_user,
};

/* Deliver what @e sent to the other end; 1 if anything moved. */
static int
fw_flow(struct fw_end *e, uint32_t *first)
{
	struct fw_end *o = &e->p->e[!e->side];
	struct fw_side *sd = &fw.side[o->side];
	int moved = 0;

	while (e->qoff < e->qlen && !o->closed_told && !e->p->dead) {
		uint32_t n = e->qlen - e->qoff;

		if (n > fw.piece)
			n = fw.piece;
		if (*first && n > *first) {
			n = *first;
			*first = 0;
		}
		if (sd->cbs) {
			sd->cbs->data(sd->ctx, o->user, e->q + e->qoff, n);
		} else {
			memcpy(fw.raw + fw.nraw, e->q + e->qoff, n);
			fw.nraw += n;
		}
		e->qoff += n;
		moved = 1;
	}
	if (e->qoff == e->qlen)
		e->qoff = e->qlen = 0;
	if (e->fin && !e->fin_told && e->qlen == 0 && !o->closed_told &&
	    !e->p->dead) {
		e->fin_told = 1;
		moved = 1;
		if (sd->cbs)
			sd->cbs->peer_closed(sd->ctx, o->user, 1);
		else
			fw.raw_fin = 1;
	}
	return moved;
}

static void
fw_tell_closed(struct fw_end *e, enum sp_stream_end why)
{
	struct fw_side *sd = &fw.side[e->side];

	if (e->closed_told)
		return;
	e->closed_told = 1;
	if (sd->cbs)
		sd->cbs->closed(sd->ctx, e->user, why);
}

static uint64_t fake_now; /* the client's clock (fake_clock) */

/* Each round of a pump is one worker loop iteration: sp_tls_poll on
 * both instances, input that waited past the budget taken then. */
static void
fw_poll(int *moved)
{
	struct sp_tls *c = fw.side[0].ctx;

	if (fw.side[0].cbs != NULL && c != NULL) {
		sp_tls_poll(c, fake_now);
		*moved |= sp_tls_deferred(c) != 0;
	}
	if (fw.srv != NULL) {
		sp_tls_poll(fw.srv, fake_now);
		*moved |= sp_tls_deferred(fw.srv) != 0;
	}
}

static void
fw_pump(void)
{
	int moved = 1;
	uint32_t first = fw.first;

	while (moved) {
		moved = 0;
		fw_poll(&moved);
		for (int i = 0; i < FW_MAX; i++) {
			struct fw_pair *p = &fw.p[i];

			if (!p->used)
				continue;
			if (!p->open) {
				int err = 0;

				p->open = 1;
				moved = 1;
				fw.side[0].cbs->connected(fw.side[0].ctx,
							  p->e[0].user);
				if (fw.side[1].cbs && fw.srv)
					fw.srv_ss[i] = fw.srv_s = sp_tls_accept(
						fw.srv,
						(struct sp_stream *)&p->e[1],
						fw.srv_user, &err);
			}
			moved |= fw_flow(&p->e[0], &first);
			moved |= fw_flow(&p->e[1], &first);
			if (p->dead) {
				fw_tell_closed(&p->e[0], SP_STREAM_END_RESET);
				fw_tell_closed(&p->e[1], SP_STREAM_END_RESET);
			} else if (p->e[0].fin_told && p->e[1].fin_told) {
				fw_tell_closed(&p->e[0], SP_STREAM_END_NORMAL);
				fw_tell_closed(&p->e[1], SP_STREAM_END_NORMAL);
			}
			if (p->e[0].closed_told && p->e[1].closed_told) {
				p->used = 0;
				moved = 1;
			}
		}
	}
}

/* The raw server's end of the first pair. */
static struct fw_end *
fw_raw_end(void)
{
	return &fw.p[0].e[1];
}

static void
fw_raw_send(const void *p, uint32_t len)
{
	fw_send(NULL, (struct sp_stream *)fw_raw_end(), p, len);
}

static void
fw_reset(void)
{
	memset(&fw, 0, sizeof(fw));
	fw.piece = UINT32_MAX;
	fw.space = FW_Q;
}

/* ---- the users: record what each connection hears ---- */

struct app {
	struct sp_stream *s;
	int connected, peer_closed, clean, closed;
	enum sp_stream_end why;
	uint8_t rx[FW_Q];
	uint32_t nrx;
	int abort_in_data;
	struct sp_tls *t;
};

static void
app_connected(void *ctx, void *user)
{
	(void)ctx;
	((struct app *)user)->connected++;
}

static void
app_data(void *ctx, void *user, const uint8_t *p, uint32_t len)
{
	struct app *a = user;

	(void)ctx;
	if (a == NULL)
		return;
	if (len > sizeof(a->rx) - a->nrx) {
		CHECK(0, "receive buffer overflow");
		return;
	}
	memcpy(a->rx + a->nrx, p, len);
	a->nrx += len;
	if (a->abort_in_data)
		sp_tls_stream_ops.abort(a->t, a->s);
}

static void
app_writable(void *ctx, void *user)
{
	(void)ctx;
	(void)user;
}

static void
app_peer_closed(void *ctx, void *user, int clean)
{
	struct app *a = user;

	(void)ctx;
	a->peer_closed++;
	a->clean = clean;
}

static void
app_closed(void *ctx, void *user, enum sp_stream_end why)
{
	struct app *a = user;

	(void)ctx;
	if (a == NULL)
		return;
	a->closed++;
	a->why = why;
}

static const struct sp_stream_cbs app_cbs = {
	.connected = app_connected,
	.data = app_data,
	.writable = app_writable,
	.peer_closed = app_peer_closed,
	.closed = app_closed,
};

/* ---- certificates, made here ---- */

static char dir[64];
static mbedtls_ctr_drbg_context drbg;
static mbedtls_entropy_context entropy;

static void
write_file(const char *name, const unsigned char *p, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fwrite(p, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static const char *
path(const char *name)
{
	static char buf[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void
make_key(mbedtls_pk_context *pk, int rsa, const char *file)
{
	unsigned char buf[4096];

	mbedtls_pk_init(pk);
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(
					 rsa ? MBEDTLS_PK_RSA :
					       MBEDTLS_PK_ECKEY)) != 0 ||
	    (rsa ? mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk),
				       mbedtls_ctr_drbg_random, &drbg, 2048,
				       65537) :
		   mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
				       mbedtls_pk_ec(*pk),
				       mbedtls_ctr_drbg_random, &drbg)) != 0 ||
	    mbedtls_pk_write_key_pem(pk, buf, sizeof(buf)) != 0) {
		fprintf(stderr, "key generation failed\n");
		exit(1);
	}
	write_file(file, buf, strlen((char *)buf));
}

static void
make_cert(const char *file, mbedtls_pk_context *key, const char *subject,
	  mbedtls_pk_context *issuer_key, const char *issuer, int ca,
	  const char *from, const char *to, int serial)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi sn;
	unsigned char buf[4096];

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&sn);
	mbedtls_mpi_lset(&sn, serial);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	if (mbedtls_x509write_crt_set_subject_name(&w, subject) != 0 ||
	    mbedtls_x509write_crt_set_issuer_name(&w, issuer) != 0 ||
	    mbedtls_x509write_crt_set_serial(&w, &sn) != 0 ||
	    mbedtls_x509write_crt_set_validity(&w, from, to) != 0 ||
	    mbedtls_x509write_crt_set_basic_constraints(&w, ca, -1) != 0 ||
	    mbedtls_x509write_crt_pem(&w, buf, sizeof(buf),
				      mbedtls_ctr_drbg_random, &drbg) != 0) {
		fprintf(stderr, "certificate %s failed\n", file);
		exit(1);
	}
	write_file(file, buf, strlen((char *)buf));
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&sn);
}

#define CA_NAME "CN=stampede test CA"
#define SRV_NAME "srv.stampede.test"

static void
make_certs(void)
{
	mbedtls_pk_context ca, ca2, ec, rsa, cli;

	snprintf(dir, sizeof(dir), "/tmp/sp-tls-test.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
	make_key(&ca, 0, "ca.key");
	make_key(&ca2, 0, "ca2.key");
	make_key(&ec, 0, "ec.key");
	make_key(&cli, 0, "cli.key");
	make_key(&rsa, 1, "rsa.key");
	make_cert("ca.crt", &ca, CA_NAME, &ca, CA_NAME, 1, "20200101000000",
		  "20991231235959", 1);
	make_cert("ca2.crt", &ca2, "CN=nobody's CA", &ca2, "CN=nobody's CA", 1,
		  "20200101000000", "20991231235959", 2);
	make_cert("ec.crt", &ec, "CN=" SRV_NAME, &ca, CA_NAME, 0,
		  "20200101000000", "20991231235959", 3);
	make_cert("rsa.crt", &rsa, "CN=" SRV_NAME, &ca, CA_NAME, 0,
		  "20200101000000", "20991231235959", 4);
	make_cert("expired.crt", &ec, "CN=" SRV_NAME, &ca, CA_NAME, 0,
		  "20200101000000", "20210101000000", 5);
	make_cert("stranger.crt", &ec, "CN=" SRV_NAME, &ca2, "CN=nobody's CA",
		  0, "20200101000000", "20991231235959", 6);
	make_cert("cli.crt", &cli, "CN=client.stampede.test", &ca, CA_NAME, 0,
		  "20200101000000", "20991231235959", 7);
	mbedtls_pk_free(&ca);
	mbedtls_pk_free(&ca2);
	mbedtls_pk_free(&ec);
	mbedtls_pk_free(&rsa);
	mbedtls_pk_free(&cli);
}

static void
remove_certs(void)
{
	static const char *const files[] = {
		"ca.key",  "ca2.key",     "ec.key",       "cli.key",
		"rsa.key", "ca.crt",      "ca2.crt",      "ec.crt",
		"rsa.crt", "expired.crt", "stranger.crt", "cli.crt",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(files[i]));
	rmdir(dir);
}

/* ---- instances ---- */

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static struct sp_tls_conf
client_conf(void)
{
	struct sp_tls_conf c = {
		.role = SP_TLS_CLIENT,
		.engine = eng_cli,
		.conns = 4,
		.slots = 4,
		.ca_file = path("ca.crt"),
		.clock = fake_clock,
		.clock_hz = 1000000,
		.handshake_timeout_us = 1000,
		.inner_ops = &fw_ops,
		.inner_impl = &fw.side[0],
	};
	return c;
}

static struct sp_tls_conf
server_conf(const char *cert, const char *key)
{
	struct sp_tls_conf c = {
		.role = SP_TLS_SERVER,
		.engine = eng_srv,
		.conns = 4,
		.cert_file = path(cert),
		.key_file = path(key),
		.session_cache = 16,
		.tickets = 1,
		.inner_ops = &fw_ops,
		.inner_impl = &fw.side[1],
	};
	return c;
}

static struct sp_tls *
make(const struct sp_tls_conf *c)
{
	char err[256] = "";
	struct sp_tls *t = sp_tls_create(c, &app_cbs, NULL, err, sizeof(err));

	CHECK(t != NULL, "create (%s): %s", sp_tls_engine_name(c->engine), err);
	if (t == NULL)
		longjmp(case_end, 1);
	return t;
}

static struct app cli, srv;

/* Wire a client and (unless @s is NULL: raw) a server on the fake. */
static void
wire(struct sp_tls *c, struct sp_tls *s)
{
	fw_reset();
	fw.side[0].cbs = sp_tls_inner_cbs();
	fw.side[0].ctx = c;
	if (s) {
		fw.side[1].cbs = sp_tls_inner_cbs();
		fw.side[1].ctx = s;
		fw.srv = s;
		fw.srv_user = &srv;
	}
	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	cli.t = c;
	srv.t = s;
}

static struct sp_stream *
dial(struct sp_tls *c, const char *name, uint32_t slot)
{
	struct sp_stream_peer peer = {
		.ip = 0xc6120002u, .port = 443, .name = name, .slot = slot
	};
	int err = 0;

	memset(&cli, 0, sizeof(cli));
	cli.t = c;
	cli.s = sp_tls_stream_ops.connect(c, &peer, &cli, &err);
	CHECK(cli.s != NULL, "connect: %d", err);
	return cli.s;
}

/* Send all of @len through a TLS stream, pumping as the space allows. */
static void
send_all(struct sp_tls *t, struct sp_stream *s, const uint8_t *p, uint32_t len)
{
	while (len) {
		int32_t n = sp_tls_stream_ops.send(t, s, p, len);

		CHECK(n >= 0, "send: %d", n);
		if (n < 0)
			return;
		p += n;
		len -= (uint32_t)n;
		fw_pump();
	}
}

static uint8_t pat[FW_Q];

/* A connection, a request each way, checked; leaves it open. */
static void
exchange(struct sp_tls *c, struct sp_tls *s, uint32_t up, uint32_t down)
{
	uint32_t c0 = cli.nrx, s0 = srv.nrx;

	send_all(c, cli.s, pat, up);
	fw_pump();
	CHECK_EQ(srv.nrx - s0, up);
	CHECK(memcmp(srv.rx + s0, pat, up) == 0, "server bytes differ");
	send_all(s, fw.srv_s, pat + 7, down);
	fw_pump();
	CHECK_EQ(cli.nrx - c0, down);
	CHECK(memcmp(cli.rx + c0, pat + 7, down) == 0, "client bytes differ");
}

/* ---- the tests ---- */

/* mbedTLS keeps its record buffers for the connection's life: idle costs
 * what busy does. OpenSSL gives them back between records (to the
 * engine's per-thread pool): an idle connection holds less. */
static void
check_idle_bytes(const struct sp_tls *t, const struct sp_tls_engine *e,
		 const char *who)
{
	size_t busy = sp_tls_conn_bytes(t), idle = sp_tls_conn_bytes_idle(t);

	if (is_ossl(e))
		CHECK(idle > 0 && idle < busy, "%s: idle %zu, busy %zu", who,
		      idle, busy);
	else
		CHECK(idle == busy, "%s: idle %zu, busy %zu", who, idle, busy);
}

static void
test_basic(void)
{
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c = make(&cc), *s = make(&sc);
	const struct sp_tls_counters *kc = sp_tls_counters(c);
	const struct sp_tls_counters *ks = sp_tls_counters(s);
	uint32_t space;

	wire(c, s);
	dial(c, SRV_NAME ":443", 0);
	CHECK_EQ(cli.connected, 0);
	CHECK_EQ(sp_tls_stream_ops.send_space(c, cli.s), 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	CHECK_EQ(srv.connected, 1);
	CHECK_EQ(kc->hs_full, 1);
	CHECK_EQ(ks->hs_full, 1);
	CHECK_EQ(kc->open, 1);
	space = sp_tls_stream_ops.send_space(c, cli.s);
	CHECK(space > 0 && space <= 16384, "space %u", space);
	exchange(c, s, 100, 5000);
	exchange(c, s, 16384, 40000);
	CHECK_EQ(kc->app_bytes_out, 16484);
	CHECK_EQ(kc->app_bytes_in, 45000);
	CHECK(kc->rec_bytes_in > kc->app_bytes_in, "record bytes %llu",
	      (unsigned long long)kc->rec_bytes_in);
	CHECK_EQ(kc->rec_bytes_out, ks->rec_bytes_in);
	CHECK(sp_tls_conn_bytes(c) > 32768, "conn bytes %zu",
	      sp_tls_conn_bytes(c));
	check_idle_bytes(c, eng_cli, "client");
	check_idle_bytes(s, eng_srv, "server");
	/* A send that the inner space cannot take whole is cut to fit. */
	fw.space = 1000;
	space = sp_tls_stream_ops.send_space(c, cli.s);
	CHECK(space > 900 && space < 1000, "space %u", space);
	CHECK_EQ(sp_tls_stream_ops.send(c, cli.s, pat, 5000), space);
	fw.space = FW_Q;
	fw_pump();
	/* Our close: close_notify then FIN; the server hears it clean. */
	CHECK_EQ(sp_tls_stream_ops.close(c, cli.s), 0);
	fw_pump();
	CHECK_EQ(srv.peer_closed, 1);
	CHECK_EQ(srv.clean, 1);
	sp_tls_stream_ops.close(s, fw.srv_s);
	fw_pump();
	CHECK_EQ(cli.closed, 1);
	CHECK_EQ(cli.why, SP_STREAM_END_NORMAL);
	CHECK_EQ(srv.closed, 1);
	CHECK_EQ(kc->open, 0);
	CHECK_EQ(ks->close_notify_rx, 1);
	CHECK_EQ(kc->alerts_tx[0], 1);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

/* Handshake and data with every delivery cut small, and one data record
 * split at each of its bytes. */
static void
test_split(void)
{
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c = make(&cc), *s = make(&sc);
	static const uint32_t pieces[] = { 1, 2, 3, 5, 7, 64, 1000 };

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		wire(c, s);
		fw.piece = pieces[i];
		dial(c, SRV_NAME, SP_STREAM_NO_SLOT);
		fw_pump();
		CHECK(cli.connected == 1, "piece %u", pieces[i]);
		exchange(c, s, 300, 3000);
		sp_tls_stream_ops.abort(c, cli.s);
		fw_pump();
	}
	wire(c, s);
	dial(c, SRV_NAME, SP_STREAM_NO_SLOT);
	fw_pump();
	for (uint32_t at = 1; at < 300 + 29; at++) {
		uint32_t n0 = cli.nrx;

		send_all(s, fw.srv_s, pat + at, 300);
		fw.first = at;
		fw_pump();
		fw.first = 0;
		CHECK(cli.nrx - n0 == 300 &&
			      memcmp(cli.rx + n0, pat + at, 300) == 0,
		      "split at %u", at);
		cli.nrx = 0;
	}
	sp_tls_stream_ops.abort(c, cli.s);
	fw_pump();
	CHECK_EQ(cli.why, SP_STREAM_END_ABORTED);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

static uint64_t
verify_reasons(const struct sp_tls_counters *k)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < SP_TLS_NVERIFY; b++)
		n += k->verify_reason[b];
	return n;
}

/* A refused certificate: VERIFY, nothing of ours sent, the reason
 * counted, and no other (both engines name the same bits: OpenSSL's
 * X509_V_ERR_* are mapped onto mbedTLS's flags). */
static void
verify_case(struct sp_tls *c, const char *cert, const char *name, unsigned bit)
{
	struct sp_tls_conf sc = server_conf(cert, "ec.key");
	struct sp_tls *s = make(&sc);
	const struct sp_tls_counters *kc = sp_tls_counters(c);
	uint64_t before = kc->verify_reason[bit];
	uint64_t all = verify_reasons(kc);

	wire(c, s);
	dial(c, name, 0);
	fw_pump();
	CHECK(cli.connected == 0, "%s", cert);
	CHECK(cli.closed == 1 && cli.why == SP_STREAM_END_VERIFY,
	      "%s: closed %d why %d", cert, cli.closed, cli.why);
	CHECK(kc->verify_reason[bit] == before + 1, "%s: reason %u (%s)", cert,
	      bit, sp_tls_verify_name(NULL, bit));
	CHECK(verify_reasons(kc) == all + 1, "%s: %llu reasons, not just %s",
	      cert, (unsigned long long)(verify_reasons(kc) - all),
	      sp_tls_verify_name(NULL, bit));
	CHECK_EQ(srv.nrx, 0);
	CHECK_EQ(kc->app_bytes_out, 0);
	fw_pump();
	sp_tls_destroy(s);
}

static void
test_verify(void)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls *c = make(&cc), *s;
	const struct sp_tls_counters *kc = sp_tls_counters(c);

	/* The bits this test sees, named alike by both engines. */
	for (unsigned b = 0; b <= 6; b++)
		CHECK(strcmp(sp_tls_verify_name(eng_cli, b),
			     sp_tls_verify_name(NULL, b)) == 0,
		      "bit %u: %s, mbedTLS %s", b,
		      sp_tls_verify_name(eng_cli, b),
		      sp_tls_verify_name(NULL, b));
	verify_case(c, "stranger.crt", SRV_NAME, 3);        /* not trusted */
	verify_case(c, "ec.crt", "other.stampede.test", 2); /* name */
	verify_case(c, "expired.crt", SRV_NAME, 0);         /* expired */
	CHECK_EQ(kc->verify_fail, 3);
	CHECK_EQ(kc->hs_failed, 3);
	CHECK_EQ(kc->ended[SP_STREAM_END_VERIFY], 3);
	CHECK(kc->alerts_tx[48] == 1 && kc->alerts_tx[45] == 1,
	      "alerts sent: unknown_ca %llu expired %llu",
	      (unsigned long long)kc->alerts_tx[48],
	      (unsigned long long)kc->alerts_tx[45]);
	sp_tls_destroy(c);

	/* Verification off: the stranger passes. */
	cc.insecure = 1;
	c = make(&cc);
	{
		struct sp_tls_conf sc = server_conf("stranger.crt", "ec.key");

		s = make(&sc);
	}
	wire(c, s);
	dial(c, "other.stampede.test", 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	exchange(c, s, 10, 10);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

/* A scripted server: what it answers to the ClientHello. */
static void
hostile(const void *answer, uint32_t len, int close, enum sp_stream_end want,
	const char *what)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls *c = make(&cc);

	wire(c, NULL);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK(fw.nraw > 5 && fw.raw[0] == 22, "%s: no ClientHello", what);
	if (len)
		fw_raw_send(answer, len);
	if (close)
		fw_close(NULL, (struct sp_stream *)fw_raw_end());
	fw_pump();
	/* The client's FIN follows its failure (after its alert, if any):
	 * the server closes too, as a real one does. */
	CHECK(fw.raw_fin, "%s: no FIN from the client", what);
	if (!close)
		fw_close(NULL, (struct sp_stream *)fw_raw_end());
	fw_pump();
	CHECK(cli.closed == 1 && cli.why == want, "%s: closed %d why %d", what,
	      cli.closed, cli.why);
	CHECK_EQ(cli.connected, 0);
	CHECK_EQ(sp_tls_counters(c)->hs_failed, 1);
	fw_pump();
	sp_tls_destroy(c);
}

static void
test_hostile(void)
{
	static const char garbage[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	static const uint8_t version[] = { 21, 3, 3, 0, 2, 2, 70 };
	/* A record header then less than it says, then the close. */
	static const uint8_t truncated[] = { 22, 3, 3, 0, 80, 2, 0, 0 };

	hostile(garbage, sizeof(garbage) - 1, 0, SP_STREAM_END_BAD_RECORD,
		"garbage");
	hostile(alert, sizeof(alert), 0, SP_STREAM_END_ALERT, "alert");
	hostile(version, sizeof(version), 0, SP_STREAM_END_HANDSHAKE,
		"protocol_version");
	hostile(NULL, 0, 1, SP_STREAM_END_HANDSHAKE, "close after hello");
	hostile(truncated, sizeof(truncated), 1, SP_STREAM_END_HANDSHAKE,
		"truncated record");
}

/* A server that says nothing: the handshake times out at sp_tls_poll. */
static void
test_timeout(void)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls *c = make(&cc);

	fake_now = 5000;
	wire(c, NULL);
	dial(c, SRV_NAME, 0);
	fw_pump();
	fake_now += 999;
	sp_tls_poll(c, fake_now);
	CHECK_EQ(cli.closed, 0);
	fake_now += 1;
	sp_tls_poll(c, fake_now);
	fw_pump();
	CHECK_EQ(cli.closed, 1);
	CHECK_EQ(cli.why, SP_STREAM_END_HANDSHAKE_TIMEOUT);
	CHECK_EQ(sp_tls_counters(c)->hs_failed, 1);
	sp_tls_destroy(c);
	fake_now = 0;
}

static void
test_client_cert(void)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls_conf sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c, *s;

	sc.client_auth = 1;
	sc.ca_file = path("ca.crt");
	s = make(&sc);
	c = make(&cc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 0);
	if (is_ossl(eng_srv)) {
		/* OpenSSL's server says why: handshake_failure (TLS 1.2's
		 * form of 1.3's certificate_required). */
		CHECK(cli.closed == 1 && cli.why == SP_STREAM_END_ALERT,
		      "no client cert: closed %d why %d", cli.closed, cli.why);
		CHECK_EQ(sp_tls_counters(c)->alerts_rx[40], 1);
		CHECK_EQ(sp_tls_counters(s)->alerts_tx[40], 1);
	} else {
		/* mbedTLS's server sends no alert for a missing
		 * certificate: it closes, and the client sees its
		 * handshake cut short. */
		CHECK(cli.closed == 1 && cli.why == SP_STREAM_END_HANDSHAKE,
		      "no client cert: closed %d why %d", cli.closed, cli.why);
		CHECK_EQ(sp_tls_counters(s)->alerts_tx[40], 0);
	}
	CHECK(srv.closed == 1 && srv.why == SP_STREAM_END_VERIFY,
	      "server: closed %d why %d", srv.closed, srv.why);
	CHECK_EQ(sp_tls_counters(s)->verify_reason[6], 1); /* missing */
	sp_tls_destroy(c);

	cc.cert_file = path("cli.crt");
	cc.key_file = path("cli.key");
	c = make(&cc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	CHECK_EQ(srv.connected, 1);
	exchange(c, s, 50, 50);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

/* Two connections on one slot: the second resumes (unless resume is
 * none); another slot starts afresh. */
static int
resume_case(enum sp_tls_resume mode, int cache, int tickets, uint32_t slot2)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls_conf sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c, *s;
	int resumed;

	cc.resume = mode;
	sc.session_cache = (uint32_t)cache;
	sc.tickets = tickets;
	c = make(&cc);
	s = make(&sc);
	for (int i = 0; i < 2; i++) {
		wire(c, s);
		dial(c, SRV_NAME, i == 0 ? 1 : slot2);
		fw_pump();
		CHECK_EQ(cli.connected, 1);
		CHECK_EQ(sp_tls_resumed(c, cli.s),
			 i == 1 && sp_tls_counters(c)->hs_resumed);
		exchange(c, s, 20, 20);
		sp_tls_stream_ops.close(c, cli.s);
		fw_pump();
		sp_tls_stream_ops.close(s, fw.srv_s);
		fw_pump();
		CHECK_EQ(cli.closed, 1);
	}
	resumed = (int)sp_tls_counters(c)->hs_resumed;
	CHECK_EQ(sp_tls_counters(s)->hs_resumed, (uint64_t)resumed);
	CHECK_EQ(sp_tls_counters(c)->hs_full + resumed, 2);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
	return resumed;
}

static void
test_resume(void)
{
	CHECK_EQ(resume_case(SP_TLS_RESUME_SESSION, 16, 0, 1), 1);
	CHECK_EQ(resume_case(SP_TLS_RESUME_TICKET, 0, 1, 1), 1);
	CHECK_EQ(resume_case(SP_TLS_RESUME_NONE, 16, 1, 1), 0);
	CHECK_EQ(resume_case(SP_TLS_RESUME_SESSION, 16, 0, 2), 0);
	/* Session IDs offered to a server with no cache: full again. */
	CHECK_EQ(resume_case(SP_TLS_RESUME_SESSION, 0, 0, 1), 0);
}

/* Close a client connection (@a) and its server end cleanly. */
static void
close_both(struct sp_tls *c, struct app *a, struct sp_tls *s,
	   struct sp_stream *ss)
{
	CHECK_EQ(sp_tls_stream_ops.close(c, a->s), 0);
	fw_pump();
	CHECK_EQ(sp_tls_stream_ops.close(s, ss), 0);
	fw_pump();
	CHECK(a->closed == 1 && a->why == SP_STREAM_END_NORMAL,
	      "closed %d why %d", a->closed, a->why);
}

/* A pool of two connections through a dozen handshakes, two at a time
 * on two slots: each connection is reused, each slot's first handshake
 * is full and every later one resumes its session; the pool comes back
 * whole, and the engine allocates only inside handshakes. */
static void
reuse_case(enum sp_tls_resume mode)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls_conf sc = server_conf("ec.crt", "ec.key");
	const char *how = mode == SP_TLS_RESUME_TICKET ? "ticket" : "session";
	struct sp_tls *c, *s;
	const struct sp_tls_counters *kc, *ks;
	struct app a[2];
	enum { ROUNDS = 6 };

	cc.conns = cc.slots = 2;
	cc.resume = mode;
	sc.conns = 2;
	sc.session_cache = mode == SP_TLS_RESUME_SESSION ? 16 : 0;
	sc.tickets = mode == SP_TLS_RESUME_TICKET;
	c = make(&cc);
	s = make(&sc);
	kc = sp_tls_counters(c);
	ks = sp_tls_counters(s);
	for (int r = 0; r < ROUNDS; r++) {
		wire(c, s);
		memset(a, 0, sizeof(a));
		for (uint32_t k = 0; k < 2; k++) {
			struct sp_stream_peer peer = { .ip = 0xc6120002u,
						       .port = 443,
						       .name = SRV_NAME,
						       .slot = k };
			int err = 0;

			a[k].t = c;
			a[k].s = sp_tls_stream_ops.connect(c, &peer, &a[k],
							   &err);
			CHECK(a[k].s != NULL, "%s round %d: connect %u: %d",
			      how, r, k, err);
			if (a[k].s == NULL)
				return;
		}
		fw_pump();
		for (uint32_t k = 0; k < 2; k++) {
			CHECK(a[k].connected == 1, "%s round %d conn %u", how,
			      r, k);
			CHECK(sp_tls_resumed(c, a[k].s) == (r > 0),
			      "%s round %d conn %u: resumed %d", how, r, k,
			      sp_tls_resumed(c, a[k].s));
			send_all(c, a[k].s, pat + k, 200);
			send_all(s, fw.srv_ss[k], pat + 3 + k, 300);
		}
		CHECK_EQ(srv.nrx, 400);
		for (uint32_t k = 0; k < 2; k++) {
			CHECK(a[k].nrx == 300 &&
				      memcmp(a[k].rx, pat + 3 + k, 300) == 0,
			      "%s round %d conn %u: %u bytes", how, r, k,
			      a[k].nrx);
			close_both(c, &a[k], s, fw.srv_ss[k]);
		}
		CHECK_EQ(kc->open, 0);
		CHECK_EQ(ks->open, 0);
	}
	CHECK(kc->connects == 2 * ROUNDS && kc->pool_empty == 0,
	      "%s: connects %llu, pool empty %llu", how,
	      (unsigned long long)kc->connects,
	      (unsigned long long)kc->pool_empty);
	CHECK(kc->hs_full == 2 && kc->hs_resumed == 2 * (ROUNDS - 1) &&
		      kc->hs_offered == 2 * (ROUNDS - 1),
	      "%s: client full %llu resumed %llu offered %llu", how,
	      (unsigned long long)kc->hs_full,
	      (unsigned long long)kc->hs_resumed,
	      (unsigned long long)kc->hs_offered);
	CHECK(ks->hs_full == 2 && ks->hs_resumed == 2 * (ROUNDS - 1),
	      "%s: server full %llu resumed %llu", how,
	      (unsigned long long)ks->hs_full,
	      (unsigned long long)ks->hs_resumed);
	CHECK_EQ(kc->ended[SP_STREAM_END_NORMAL], 2 * ROUNDS);
	CHECK(kc->allocs_steady == 0 && ks->allocs_steady == 0,
	      "%s: allocations after handshakes: client %llu server %llu", how,
	      (unsigned long long)kc->allocs_steady,
	      (unsigned long long)ks->allocs_steady);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

static void
test_reuse(void)
{
	reuse_case(SP_TLS_RESUME_SESSION);
	reuse_case(SP_TLS_RESUME_TICKET);
}

/* One connection on @slot to @s, closed cleanly; whether it resumed. */
static int
slot_once(struct sp_tls *c, struct sp_tls *s, uint32_t slot)
{
	int resumed;

	wire(c, s);
	dial(c, SRV_NAME, slot);
	fw_pump();
	CHECK(cli.connected == 1, "slot %u", slot);
	if (cli.connected != 1)
		return -1;
	resumed = sp_tls_resumed(c, cli.s);
	exchange(c, s, 30, 30);
	close_both(c, &cli, s, fw.srv_s);
	return resumed;
}

/* Each slot keeps its own session: two servers (two session caches, two
 * ticket keys) that know only their own sessions, one slot for each;
 * each slot resumes with its server after the other slot's handshake,
 * and a slot's session offered to the other server is refused. */
static void
slots_case(enum sp_tls_resume mode)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls_conf sc = server_conf("ec.crt", "ec.key");
	const char *how = mode == SP_TLS_RESUME_TICKET ? "ticket" : "session";
	struct sp_tls *c, *sa, *sb;

	cc.slots = 2;
	cc.resume = mode;
	sc.session_cache = mode == SP_TLS_RESUME_SESSION ? 16 : 0;
	sc.tickets = mode == SP_TLS_RESUME_TICKET;
	c = make(&cc);
	sa = make(&sc);
	sb = make(&sc);
	CHECK(slot_once(c, sa, 0) == 0, "%s: 0 to a, first", how);
	CHECK(slot_once(c, sb, 1) == 0, "%s: 1 to b, first", how);
	CHECK(slot_once(c, sa, 0) == 1, "%s: 0 to a, again", how);
	CHECK(slot_once(c, sb, 1) == 1, "%s: 1 to b, again", how);
	CHECK(slot_once(c, sa, 0) == 1, "%s: 0 to a, third", how);
	/* a's session to b: offered, refused, full; b's new one kept. */
	CHECK(slot_once(c, sb, 0) == 0, "%s: 0 to b", how);
	CHECK(slot_once(c, sb, 0) == 1, "%s: 0 to b, again", how);
	CHECK(slot_once(c, sb, 1) == 1, "%s: 1 to b, third", how);
	/* No slot: nothing offered, nothing kept. */
	CHECK(slot_once(c, sa, SP_STREAM_NO_SLOT) == 0, "%s: no slot", how);
	CHECK(slot_once(c, sa, SP_STREAM_NO_SLOT) == 0, "%s: no slot", how);
	CHECK(sp_tls_counters(c)->hs_offered == 6 &&
		      sp_tls_counters(c)->hs_resumed == 5,
	      "%s: offered %llu resumed %llu", how,
	      (unsigned long long)sp_tls_counters(c)->hs_offered,
	      (unsigned long long)sp_tls_counters(c)->hs_resumed);
	CHECK_EQ(sp_tls_counters(sa)->hs_resumed, 2);
	CHECK_EQ(sp_tls_counters(sb)->hs_resumed, 3);
	sp_tls_destroy(c);
	sp_tls_destroy(sa);
	sp_tls_destroy(sb);
}

static void
test_slots(void)
{
	slots_case(SP_TLS_RESUME_SESSION);
	slots_case(SP_TLS_RESUME_TICKET);
}

/* The peer's close with and without a close_notify. */
static void
test_close(void)
{
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c = make(&cc), *s = make(&sc);

	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	exchange(c, s, 10, 10);
	sp_tls_stream_ops.close(s, fw.srv_s);
	fw_pump();
	CHECK_EQ(cli.peer_closed, 1);
	CHECK_EQ(cli.clean, 1);
	sp_tls_stream_ops.close(c, cli.s);
	fw_pump();
	CHECK_EQ(cli.closed, 1);
	CHECK_EQ(cli.why, SP_STREAM_END_NORMAL);

	/* The server's TCP closes under its TLS: no close_notify. */
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	exchange(c, s, 10, 10);
	fw_close(NULL, (struct sp_stream *)&fw.p[0].e[1]);
	fw_pump();
	CHECK_EQ(cli.peer_closed, 1);
	CHECK_EQ(cli.clean, 0);
	CHECK_EQ(sp_tls_counters(c)->unclean_close, 1);
	sp_tls_stream_ops.abort(c, cli.s);
	fw_pump();
	CHECK_EQ(cli.why, SP_STREAM_END_ABORTED);

	/* The user aborts inside its data callback. */
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	cli.abort_in_data = 1;
	/* Two records in one delivery: the second must not reach it. */
	CHECK_EQ(sp_tls_stream_ops.send(s, fw.srv_s, pat, 100), 100);
	CHECK_EQ(sp_tls_stream_ops.send(s, fw.srv_s, pat, 100), 100);
	fw_pump();
	CHECK_EQ(cli.closed, 1);
	CHECK_EQ(cli.why, SP_STREAM_END_ABORTED);
	CHECK_EQ(cli.nrx, 100);
	CHECK_EQ(sp_tls_counters(c)->open, 0);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

/* After the handshake, a keep-alive exchange allocates nothing. */
static void
test_no_alloc(void)
{
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c = make(&cc), *s = make(&sc);
	uint64_t a0;

	CHECK(sp_tls_counters(c)->allocs_setup > 0, "setup allocations");
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK(sp_tls_counters(c)->allocs_hs > 0, "handshake allocations");
	a0 = sp_tls_thread_allocs();
	for (int i = 0; i < 100; i++) {
		cli.nrx = srv.nrx = 0;
		exchange(c, s, 120, 800);
	}
	CHECK_EQ(sp_tls_thread_allocs() - a0, 0);
	CHECK_EQ(sp_tls_counters(c)->allocs_steady, 0);
	CHECK_EQ(sp_tls_counters(s)->allocs_steady, 0);
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

static void
test_pool(void)
{
	struct sp_tls_conf cc = client_conf();
	struct sp_tls *c;
	struct sp_stream_peer peer = {
		.ip = 0xc6120002u, .port = 443, .name = SRV_NAME, .slot = 0
	};
	struct app a[3];
	int err = 0;

	cc.conns = 2;
	c = make(&cc);
	wire(c, NULL);
	memset(a, 0, sizeof(a));
	CHECK(sp_tls_stream_ops.connect(c, &peer, &a[0], &err) != NULL, "1");
	CHECK(sp_tls_stream_ops.connect(c, &peer, &a[1], &err) != NULL, "2");
	CHECK(sp_tls_stream_ops.connect(c, &peer, &a[2], &err) == NULL, "3");
	CHECK_EQ(err, -ENOBUFS);
	CHECK_EQ(sp_tls_counters(c)->pool_empty, 1);
	sp_tls_destroy(c);
}

static void
conf_error(struct sp_tls_conf *c, const char *want)
{
	char err[256] = "";
	struct sp_tls *t;

	errno = 0;
	t = sp_tls_create(c, &app_cbs, NULL, err, sizeof(err));
	CHECK(t == NULL && strstr(err, want) != NULL, "want \"%s\", got \"%s\"",
	      want, err);
	/* A refused setting is no memory shortage (serve's advice hangs on
	 * the difference). */
	CHECK(errno == EINVAL, "\"%s\": errno %d, not EINVAL", want, errno);
	sp_tls_destroy(t);
}

static void
test_config(void)
{
	struct sp_tls_conf c = client_conf();
	struct sp_tls *t;

	c.ca_file = path("missing.crt");
	conf_error(&c, "cannot load CA file");
	c = client_conf();
	c.ciphers = "TLS_NO_SUCH_SUITE";
	conf_error(&c, "unknown cipher suite");
	c = client_conf();
	c.curves = "secp256r1,nonsense";
	conf_error(&c, "unknown curve nonsense");
	c = client_conf();
	c.cert_file = path("cli.crt");
	conf_error(&c, "needs its key");
	c = client_conf();
	c.cert_file = path("cli.crt");
	c.key_file = path("ec.key");
	conf_error(&c, "does not match");
	c = server_conf("ec.crt", "ec.key");
	c.cert_file = c.key_file = NULL;
	conf_error(&c, "needs a certificate");

	/* Named suites and curves are honoured. */
	c = client_conf();
	c.ciphers = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
	c.curves = "P-256";
	t = make(&c);
	{
		struct sp_tls_conf sc = server_conf("ec.crt", "ec.key");
		struct sp_tls *s = make(&sc);

		wire(t, s);
		dial(t, SRV_NAME, 0);
		fw_pump();
		CHECK_EQ(cli.connected, 1);
		/* AES-GCM: header, explicit nonce, tag. */
		CHECK_EQ(sp_tls_stream_ops.send_space(t, cli.s), 16384);
		sp_tls_destroy(s);
	}
	sp_tls_destroy(t);
}

static void
test_rsa(void)
{
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("rsa.crt", "rsa.key");
	struct sp_tls *c, *s;

	cc.clock = NULL; /* the real one: the handshake's cost is measured */
	cc.handshake_timeout_us = 0; /* fw_poll passes the fake clock's now */
	c = make(&cc);
	s = make(&sc);

	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	exchange(c, s, 100, 100);
	CHECK(sp_tls_counters(c)->hs_ticks_full > 0, "handshake cost");
	sp_tls_destroy(c);
	sp_tls_destroy(s);
}

/* A pre-shared key: no certificate on either side, no public-key
 * operation (the suite is plain PSK); a wrong key or an unknown identity
 * fails the handshake on both sides; a malformed key is refused at
 * create. */
static void
test_psk(void)
{
	static const char *const bad[] = {
		"nocolon",
		":0011",
		"id:",
		"id:001",
		"id:00zz",
		("id:00112233445566778899aabbccddeeff"
		 "00112233445566778899aabbccddeeff00"), /* 33 bytes */
	};
	struct sp_tls_conf cc = client_conf(), sc = server_conf("x", "x");
	struct sp_tls *c, *s;
	char err[256];

	cc.psk = "client7:00112233445566778899aabbccddeeff";
	cc.ciphers = "TLS-PSK-WITH-AES-128-GCM-SHA256";
	sc.cert_file = sc.key_file = NULL;
	sc.psk = cc.psk;
	sc.ciphers = cc.ciphers;
	c = make(&cc);
	s = make(&sc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	CHECK_EQ(srv.connected, 1);
	CHECK_EQ(sp_tls_counters(c)->hs_full, 1);
	exchange(c, s, 1000, 3000);
	sp_tls_destroy(c);
	sp_tls_destroy(s);

	/* No suites named: the default list then the PSK suites. */
	cc.ciphers = sc.ciphers = NULL;
	c = make(&cc);
	s = make(&sc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	exchange(c, s, 100, 100);
	sp_tls_destroy(c);
	cc.ciphers = sc.ciphers = "TLS-PSK-WITH-AES-128-GCM-SHA256";

	/* The same identity with another key: Finished does not verify. */
	cc.psk = "client7:ffeeddccbbaa99887766554433221100";
	c = make(&cc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 0);
	CHECK_EQ(cli.closed, 1);
	CHECK(cli.why != SP_STREAM_END_NORMAL, "why %d", cli.why);
	CHECK_EQ(sp_tls_counters(c)->hs_failed, 1);
	sp_tls_destroy(c);

	/* An identity the server does not know: its alert says so. */
	cc.psk = "someone:00112233445566778899aabbccddeeff";
	c = make(&cc);
	wire(c, s);
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 0);
	CHECK_EQ(cli.why, SP_STREAM_END_ALERT);
	CHECK_EQ(sp_tls_counters(c)->alerts_rx[115],
		 1); /* unknown_psk_identity */
	sp_tls_destroy(c);
	sp_tls_destroy(s);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cc.psk = bad[i];
		err[0] = '\0';
		c = sp_tls_create(&cc, &app_cbs, NULL, err, sizeof(err));
		CHECK(c == NULL && strstr(err, "PSK") != NULL,
		      "psk '%s' refused: %s", bad[i], err);
		sp_tls_destroy(c);
	}
	/* A server needs a certificate or a PSK. */
	sc.psk = NULL;
	err[0] = '\0';
	s = sp_tls_create(&sc, &app_cbs, NULL, err, sizeof(err));
	CHECK(s == NULL && strstr(err, "or a PSK") != NULL, "%s", err);
}

/* A clock that moves 1 ms at every reading: every handshake call costs
 * a whole budget. */
static uint64_t
tick_clock(void *arg)
{
	return *(uint64_t *)arg += 1000;
}

/* The handshake budget of a loop iteration: input past it waits for the
 * next sp_tls_poll, in order, and the outcome is what it would have been
 * without it: handshakes done with every delivery cut small, data both
 * ways; an alert that waited is still read before the FIN behind it. */
static void
test_budget(void)
{
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	static uint64_t cticks, sticks;
	struct sp_tls_conf cc = client_conf(),
			   sc = server_conf("ec.crt", "ec.key");
	struct sp_tls *c, *s;
	const struct sp_tls_counters *kc;

	cc.clock = tick_clock;
	cc.clock_arg = &cticks;
	cc.handshake_timeout_us = 0; /* fw_poll passes the fake clock's now */
	cc.hs_budget_us = 1;
	sc.clock = tick_clock;
	sc.clock_arg = &sticks;
	sc.clock_hz = cc.clock_hz;
	sc.hs_budget_us = 1;
	c = make(&cc);
	s = make(&sc);
	kc = sp_tls_counters(c);
	wire(c, s);
	fw.piece = 100;
	dial(c, SRV_NAME, 0);
	fw_pump();
	CHECK_EQ(cli.connected, 1);
	CHECK_EQ(srv.connected, 1);
	CHECK(kc->hs_deferred > 0 && sp_tls_counters(s)->hs_deferred > 0,
	      "deferred: client %llu server %llu",
	      (unsigned long long)kc->hs_deferred,
	      (unsigned long long)sp_tls_counters(s)->hs_deferred);
	CHECK(kc->hs_defer_ticks >= 1000 * kc->hs_deferred, "waited %llu",
	      (unsigned long long)kc->hs_defer_ticks);
	CHECK_EQ(sp_tls_deferred(c), 0);
	CHECK_EQ(sp_tls_deferred(s), 0);
	exchange(c, s, 3000, 20000);
	sp_tls_destroy(c);
	sp_tls_destroy(s);

	/* A fatal alert in pieces, then the FIN, all in one iteration. */
	c = make(&cc);
	kc = sp_tls_counters(c);
	wire(c, NULL);
	dial(c, SRV_NAME, 0);
	fw_pump();
	fw.piece = 3;
	fw_raw_send(alert, sizeof(alert));
	fw_close(NULL, (struct sp_stream *)fw_raw_end());
	fw_pump();
	CHECK(kc->hs_deferred > 0, "the alert's end waited");
	CHECK(cli.closed == 1 && cli.why == SP_STREAM_END_ALERT,
	      "closed %d why %d", cli.closed, cli.why);
	CHECK_EQ(kc->alerts_rx[40], 1);
	CHECK_EQ(sp_tls_deferred(c), 0);
	fw_pump();
	sp_tls_destroy(c);
	fw.piece = UINT32_MAX;
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "basic", test_basic },       { "split", test_split },
	{ "verify", test_verify },     { "hostile", test_hostile },
	{ "timeout", test_timeout },   { "client_cert", test_client_cert },
	{ "resume", test_resume },     { "reuse", test_reuse },
	{ "slots", test_slots },       { "close", test_close },
	{ "no_alloc", test_no_alloc }, { "pool", test_pool },
	{ "config", test_config },     { "rsa", test_rsa },
	{ "psk", test_psk },           { "budget", test_budget },
};

static const struct {
	const char *name; /* client/server */
	const struct sp_tls_engine *cli, *srv;
} pairs[] = {
	{ "mbedtls/mbedtls", &sp_tls_engine_mbedtls, &sp_tls_engine_mbedtls },
	{ "openssl/openssl", &sp_tls_engine_openssl, &sp_tls_engine_openssl },
	{ "openssl/mbedtls", &sp_tls_engine_openssl, &sp_tls_engine_mbedtls },
	{ "mbedtls/openssl", &sp_tls_engine_mbedtls, &sp_tls_engine_openssl },
};

/* One case; a create that fails comes back here (make). */
static void
run_case(void (*fn)(void))
{
	fake_now = 0;
	if (setjmp(case_end) == 0)
		fn();
}

static int
wanted(int argc, char **argv, const char *pair)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], pair) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	int ran = 0;

	for (int i = 1; i < argc; i++) {
		int known = 0;

		for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++)
			known |= strcmp(argv[i], pairs[p].name) == 0;
		if (!known) {
			fprintf(stderr, "unknown pair %s (client/server)\n",
				argv[i]);
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 131 + (i >> 8));
	make_certs();
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		if (!wanted(argc, argv, pairs[p].name))
			continue;
		eng_cli = pairs[p].cli;
		eng_srv = pairs[p].srv;
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
			int f = sp_failed;

			snprintf(pair_tag, sizeof(pair_tag), "[%s %s] ",
				 pairs[p].name, tests[i].name);
			run_case(tests[i].fn);
			printf("%-16s %-12s %s\n", pairs[p].name, tests[i].name,
			       sp_failed == f ? "ok" : "FAILED");
			ran++;
		}
	}
	pair_tag[0] = '\0';
	remove_certs();
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	printf("%d cases, %d checks, %d failed\n", ran, sp_tests, sp_failed);
	return sp_failed != 0;
}
