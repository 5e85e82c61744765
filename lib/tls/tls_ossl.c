/*
 * The OpenSSL engine (Debian 12's libssl3, 3.0): TLS 1.2 like the mbedTLS
 * engine, for handshake-bound tests (a full ECDHE-ECDSA client handshake
 * costs several times less CPU here than in mbedTLS 2.28: ECDSA verify).
 *
 * - Records through a BIO of our own over the glue's window and the
 *   inner send (tls_stream.c): non-blocking, no socket, no copy beyond
 *   the one OpenSSL makes into its record buffer.
 * - One SSL per pooled connection, made at create and reset between
 *   connections with SSL_clear, which keeps its buffers and settings;
 *   after a failure, or a connection dropped mid-handshake, a fresh SSL
 *   instead (SSL_clear's own caveat: it only suits a clean end).
 * - SSL_MODE_RELEASE_BUFFERS: a connection holds its record buffers only
 *   while a record moves; they go back to a per-thread pool
 *   (tls_alloc.c), so an idle connection costs a few KB and the next
 *   record's buffer is no allocation.
 * - Resumption: one SSL_SESSION per slot (the VU), offered again on its
 *   next connection; session IDs, or tickets (RFC 5077).
 * - Verification against the system CA bundle by default; its failures
 *   in the same flag bits as mbedTLS's (tls_int.h), its alerts and error
 *   codes (the packed ERR code, negated) in the same counters.
 *
 * What it leaves to OpenSSL: its DRBG reseeds from the kernel now and
 * then (a getrandom in a handshake, rarely); a server's session cache
 * takes the SSL_CTX's lock (one thread per instance: never contended).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509err.h>

#include "sp_counter.h"
#include "tls_ossl.h"

/* Our code for a failure OpenSSL has no error for: the stream under TLS
 * refused our bytes (the BIO's hard error). */
#define SP_OS_ERR_TRANSPORT (-1)

#define SP_OS_MAX_PLAIN 16384u /* SSL3_RT_MAX_PLAIN_LENGTH */
/* A record buffer's size class: OpenSSL 3.0's are one record's plaintext
 * plus its largest expansion and a header, about 16.5 KB each way. */
#define SP_OS_RECBUF (SP_OS_MAX_PLAIN + 2048u)
/* Record buffers put in the worker's pool at its first connection, two
 * per connection up to this many connections: the connections whose
 * record is split across segments (each holds its buffer until the rest
 * comes) beyond that grow the pool, counted as allocations. */
#define SP_OS_RESERVE_CONNS 64u

static struct sp_os_live *sp_os_retired;

static inline struct sp_ossl *
sp_os(const struct sp_tls *t)
{
	return t->eng_state;
}

static inline uint32_t
sp_os_idx(const struct sp_tls *t, const struct sp_tls_conn *c)
{
	return (uint32_t)(c - t->conns);
}

/* OpenSSL's allocations from here on are @c's. */
static inline struct sp_os_conn *
sp_os_enter(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_ossl *m = sp_os(t);
	uint32_t i = sp_os_idx(t, c);

	sp_os_acct = &m->live->acct[i];
	return &m->conns[i];
}

static inline void
sp_os_leave(void)
{
	sp_os_acct = NULL;
}

/* ---- the BIO: the glue's window and the inner send ---- */

/* What connection @i holds now: its account above its floor. */
static inline uint64_t
sp_os_bytes(const struct sp_ossl *m, uint32_t i)
{
	const struct sp_os_acct *a = &m->live->acct[i];

	return a->live > a->floor ? a->live - a->floor : 0;
}

/* What an open connection holds while a record passes through the BIO:
 * its record buffer is taken then (the bytes per connection moving
 * records; tls_alloc.c charges the buffer to it). */
static inline void
sp_os_sample_busy(struct sp_tls_conn *c)
{
	struct sp_ossl *m;

	if (c->state != SP_TLS_OPEN)
		return;
	m = sp_os(c->t);
	m->busy_sum += sp_os_bytes(m, sp_os_idx(c->t, c));
	m->busy_n++;
}

static int
sp_os_bio_write(BIO *b, const char *p, int len)
{
	struct sp_tls_conn *c = BIO_get_data(b);
	int n;

	BIO_clear_retry_flags(b);
	n = sp_tls_bio_send(c, (const uint8_t *)p, len < 0 ? 0 : (uint32_t)len);
	if (n == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	if (n > 0)
		sp_os_sample_busy(c);
	return n < 0 ? -1 : n;
}

static int
sp_os_bio_read(BIO *b, char *p, int len)
{
	struct sp_tls_conn *c = BIO_get_data(b);
	int n;

	BIO_clear_retry_flags(b);
	n = sp_tls_bio_recv(c, (uint8_t *)p, len < 0 ? 0 : (uint32_t)len);
	if (n == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	sp_os_sample_busy(c);
	return n;
}

static long
sp_os_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* The handshake flushes after each flight: our sends are already
	 * in the stream's hands. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* One method for the process (BIO type indexes are few: never one per
 * instance). */
static BIO_METHOD *sp_os_bio_method;
static pthread_once_t sp_os_bio_once = PTHREAD_ONCE_INIT;

static void
sp_os_bio_init(void)
{
	BIO_METHOD *bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				      "stampede stream");

	if (bm == NULL || !BIO_meth_set_write(bm, sp_os_bio_write) ||
	    !BIO_meth_set_read(bm, sp_os_bio_read) ||
	    !BIO_meth_set_ctrl(bm, sp_os_bio_ctrl)) {
		BIO_meth_free(bm);
		return;
	}
	sp_os_bio_method = bm;
}

/* ---- failures, in the stream's end kinds ---- */

/* X509_V_ERR_* to the flag bits every engine reports (tls_int.h). */
static uint32_t
sp_os_vflags(long v)
{
	switch (v) {
	case X509_V_OK:
		return 0;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return 1u << SP_TLS_V_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return 1u << SP_TLS_V_REVOKED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_ERR_EMAIL_MISMATCH:
		return 1u << SP_TLS_V_NAME;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return 1u << SP_TLS_V_NOT_TRUSTED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return 1u << SP_TLS_V_FUTURE;
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		return 1u << SP_TLS_V_KEY_USAGE;
	case X509_V_ERR_INVALID_PURPOSE:
		return 1u << SP_TLS_V_EXT_KEY_USAGE;
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return 1u << SP_TLS_V_BAD_MD;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		return 1u << SP_TLS_V_BAD_KEY;
	default:
		return 1u << SP_TLS_V_OTHER;
	}
}

/* A failed call (SSL_get_error's @sslerr): the kind, the code, the alert
 * received, the verification flags; the thread's error queue emptied
 * (SSL_get_error needs it empty before each call), the SSL marked for
 * replacement. */
static int
sp_os_fail(struct sp_os_conn *o, int sslerr, int in_hs,
	   struct sp_tls_fail_info *fi)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);
	long v = SSL_get_verify_result(o->ssl);

	ERR_clear_error();
	o->dirty = 1;
	fi->code = e ? -(int)(e & 0x7fffffffu) : SP_OS_ERR_TRANSPORT;
	fi->vflags = 0;
	fi->alert = -1;
	if (e == 0 && sslerr == SSL_ERROR_SYSCALL) {
		fi->kind = SP_STREAM_END_RESET; /* our BIO's hard error */
		return SP_TLS_FAIL;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + SP_TLS_NALERTS) {
		fi->alert = reason - SSL_AD_REASON_OFFSET;
		fi->kind = SP_STREAM_END_ALERT;
		/* A server that speaks only newer versions answers our
		 * hello so: a failed negotiation, named as such. */
		if (in_hs && fi->alert == SSL_AD_PROTOCOL_VERSION)
			fi->kind = SP_STREAM_END_HANDSHAKE;
		return SP_TLS_FAIL;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		fi->kind = SP_STREAM_END_VERIFY;
		fi->vflags = 1u << SP_TLS_V_MISSING;
		return SP_TLS_FAIL;
	}
	if (in_hs && v != X509_V_OK) {
		fi->kind = SP_STREAM_END_VERIFY;
		fi->vflags = sp_os_vflags(v);
		return SP_TLS_FAIL;
	}
	switch (ERR_GET_LIB(e) == ERR_LIB_SSL ? reason : 0) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
	case SSL_R_RECORD_TOO_SMALL:
	case SSL_R_BAD_RECORD_TYPE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_UNEXPECTED_MESSAGE:
		fi->kind = SP_STREAM_END_BAD_RECORD;
		break;
	default:
		fi->kind = in_hs ? SP_STREAM_END_HANDSHAKE :
				   SP_STREAM_END_BAD_RECORD;
		break;
	}
	return SP_TLS_FAIL;
}

/* ---- a connection's SSL ---- */

static int
sp_os_new_ssl(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_ossl *m = sp_os(t);
	struct sp_os_conn *o = &m->conns[sp_os_idx(t, c)];
	BIO *b;

	o->ssl = SSL_new(m->ctx);
	b = BIO_new(sp_os_bio_method);
	if (o->ssl == NULL || b == NULL) {
		BIO_free(b);
		return -ENOMEM;
	}
	BIO_set_data(b, c);
	BIO_set_init(b, 1);
	SSL_set_bio(o->ssl, b, b);
	c->eng = o;
	return 0;
}

/* ---- the engine's operations ---- */

static int
sp_os_start(struct sp_tls *t, struct sp_tls_conn *c, const char *name,
	    uint32_t slot)
{
	struct sp_ossl *m = sp_os(t);
	struct sp_os_conn *o = sp_os_enter(t, c);
	int ret = -ENOMEM;

	/* On the worker's thread (create ran elsewhere): its pool gets the
	 * record buffers the first connections will take, in their setup
	 * rather than in their first records. */
	if (!m->reserved) {
		sp_os_pool_reserve(SP_OS_RECBUF,
				   2 * (t->nconns < SP_OS_RESERVE_CONNS ?
						t->nconns :
						SP_OS_RESERVE_CONNS));
		m->reserved = 1;
	}

	/* SSL_clear suits an SSL whose last connection ended cleanly or
	 * never began; anything else starts over with a fresh one. */
	if (o->dirty || (SSL_in_init(o->ssl) && !SSL_in_before(o->ssl)) ||
	    !SSL_clear(o->ssl)) {
		SSL_free(o->ssl);
		o->ssl = NULL;
		if (sp_os_new_ssl(t, c) < 0)
			goto out;
	}
	ERR_clear_error();
	o->wpend = 0;
	o->shut = 0;
	o->dirty = 0;
	if (t->role != SP_TLS_CLIENT) {
		SSL_set_accept_state(o->ssl);
		if (!SSL_set_session(o->ssl, NULL))
			goto out;
		ret = 0;
		goto out;
	}
	SSL_set_connect_state(o->ssl);
	/* NULL clears the last connection's name: no SNI, no name check
	 * (an IP literal: its chain only, as with mbedTLS). */
	if (!SSL_set_tlsext_host_name(o->ssl, name) ||
	    (!m->insecure && !SSL_set1_host(o->ssl, name)))
		goto out;
	if (slot < t->nslots && m->slots[slot] != NULL) {
		if (!SSL_set_session(o->ssl, m->slots[slot]))
			goto out;
		sp_ctr_inc(t->ctr.hs_offered);
	} else if (!SSL_set_session(o->ssl, NULL)) {
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		ERR_clear_error();
		o->dirty = 1;
	} else {
		/* The SSL is as lean as it gets now (the last connection's
		 * session let go): what the counter holds beyond an SSL is
		 * not this connection's. */
		struct sp_os_acct *a = &m->live->acct[sp_os_idx(t, c)];

		a->gen++;
		a->floor = a->live > m->base ? a->live - m->base : 0;
	}
	sp_os_leave();
	return ret;
}

static int
sp_os_handshake(struct sp_tls *t, struct sp_tls_conn *c,
		struct sp_tls_fail_info *fi)
{
	struct sp_ossl *m = sp_os(t);
	struct sp_os_conn *o = sp_os_enter(t, c);
	int r = SSL_do_handshake(o->ssl), e;

	if (r == 1) {
		c->resumed = SSL_session_reused(o->ssl) != 0;
		if (c->slot < t->nslots) {
			SSL_SESSION *s = SSL_get1_session(o->ssl);

			if (s != NULL && !SSL_SESSION_is_resumable(s)) {
				SSL_SESSION_free(s);
				s = NULL;
			}
			SSL_SESSION_free(m->slots[c->slot]);
			m->slots[c->slot] = s;
		}
		sp_os_leave();
		return SP_TLS_DONE;
	}
	e = SSL_get_error(o->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		r = SP_TLS_WANT;
	else
		r = sp_os_fail(o, e, 1, fi);
	sp_os_leave();
	return r;
}

static int
sp_os_read(struct sp_tls *t, struct sp_tls_conn *c, uint8_t *buf, uint32_t len,
	   struct sp_tls_fail_info *fi)
{
	struct sp_ossl *m = sp_os(t);
	struct sp_os_conn *o = sp_os_enter(t, c);
	int n = SSL_read(o->ssl, buf, len > INT_MAX ? INT_MAX : (int)len), e;

	if (n > 0) {
		sp_os_leave();
		return n;
	}
	e = SSL_get_error(o->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		m->idle_sum += sp_os_bytes(m, sp_os_idx(t, c));
		m->idle_n++;
		n = SP_TLS_WANT;
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		n = SP_TLS_EOF;
	} else {
		n = sp_os_fail(o, e, 0, fi);
	}
	sp_os_leave();
	return n;
}

static int
sp_os_write(struct sp_tls *t, struct sp_tls_conn *c, const uint8_t *buf,
	    uint32_t len, struct sp_tls_fail_info *fi)
{
	struct sp_os_conn *o = sp_os_enter(t, c);
	int n = SSL_write(o->ssl, buf, len > INT_MAX ? INT_MAX : (int)len), e;

	if (n <= 0) {
		e = SSL_get_error(o->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE) {
			/* The record is made: flush() finishes it. */
			o->wpend = len;
			n = SP_TLS_WANT;
		} else {
			n = sp_os_fail(o, e, 0, fi);
		}
	}
	sp_os_leave();
	return n;
}

/* SSL_get_error of a retried write or shutdown, as a glue result. */
static int
sp_os_result(struct sp_os_conn *o, int r)
{
	struct sp_tls_fail_info fi;

	if (SSL_get_error(o->ssl, r) == SSL_ERROR_WANT_WRITE)
		return SP_TLS_WANT;
	sp_os_fail(o, SSL_ERROR_SSL, 0, &fi);
	return SP_TLS_FAIL;
}

static int
sp_os_flush(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_os_conn *o = sp_os_enter(t, c);
	int r = SP_TLS_DONE;

	if (o->wpend) {
		/* OpenSSL finishes a record it made when the same write is
		 * asked again; the bytes are in its buffer already, so any
		 * buffer as long will do (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER):
		 * the instance's scratch, never read. */
		int n = SSL_write(o->ssl, t->scratch, (int)o->wpend);

		if (n > 0)
			o->wpend = 0;
		else
			r = sp_os_result(o, n);
	} else if (o->shut) {
		int n = SSL_shutdown(o->ssl);

		if (n >= 0)
			o->shut = 0;
		else
			r = sp_os_result(o, n);
	}
	sp_os_leave();
	return r;
}

static int
sp_os_close_notify(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_os_conn *o = sp_os_enter(t, c);
	int n = SSL_shutdown(o->ssl), r = SP_TLS_DONE;

	if (n < 0) {
		r = sp_os_result(o, n);
		if (r == SP_TLS_WANT)
			o->shut = 1;
	}
	sp_os_leave();
	return r;
}

static uint32_t
sp_os_overhead(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_os_conn *o = c->eng;
	const SSL_CIPHER *ci = SSL_get_current_cipher(o->ssl);

	(void)t;
	switch (ci ? SSL_CIPHER_get_cipher_nid(ci) : NID_undef) {
	case NID_aes_128_gcm:
	case NID_aes_256_gcm:
	case NID_aes_128_ccm:
	case NID_aes_256_ccm:
		return 5 + 8 + 16; /* header, explicit nonce, tag */
	case NID_chacha20_poly1305:
		return 5 + 16;
	default:
		/* A CBC suite: header, IV, MAC, padding at worst. */
		return 5 + 16 + 48 + 256;
	}
}

static uint32_t
sp_os_max_plain(struct sp_tls *t, struct sp_tls_conn *c)
{
	(void)t;
	(void)c;
	return SP_OS_MAX_PLAIN; /* we offer no max_fragment_length */
}

static uint64_t
sp_os_avg(uint64_t sum, uint64_t n, uint64_t none)
{
	return n ? sum / n : none;
}

/* Measured: what open connections held while a record went through the
 * BIO (a record buffer taken), and when a read found nothing (idle), above
 * their floor (what a cache or a slot keeps of their earlier connections
 * is not theirs); before any such sample, an SSL in the pool, with both
 * record buffers when busy. The first handshake of the process also
 * makes OpenSSL's lazily built global tables (about 35 KB: algorithm
 * name maps, method caches), charged to that connection: its samples
 * read high, a bias spread over all the samples (under 1 KB at 64
 * connections; the unit test's single connection shows all of it). */
static size_t
sp_os_conn_bytes(const struct sp_tls *t)
{
	const struct sp_ossl *m = sp_os(t);

	/* Before any record (sizing pools at start): the worst case, both
	 * record buffers taken. */
	return sizeof(struct sp_os_conn) + sizeof(struct sp_os_acct) +
	       sp_os_avg(m->busy_sum, m->busy_n, m->base + 2 * SP_OS_RECBUF);
}

static size_t
sp_os_conn_bytes_idle(const struct sp_tls *t)
{
	const struct sp_ossl *m = sp_os(t);

	return sizeof(struct sp_os_conn) + sizeof(struct sp_os_acct) +
	       sp_os_avg(m->idle_sum, m->idle_n, m->base);
}

static const char *
sp_os_error_name(int code, char *buf, size_t len)
{
	if (code == SP_OS_ERR_TRANSPORT) {
		snprintf(buf, len, "the stream under TLS failed");
		return buf;
	}
	ERR_error_string_n((unsigned long)-(long)code, buf, len);
	return buf;
}

static void sp_os_destroy(struct sp_tls *t);

static int
sp_os_create(struct sp_tls *t, const struct sp_tls_conf *conf, char *err,
	     size_t errlen)
{
	int client = conf->role == SP_TLS_CLIENT;
	struct sp_ossl *m;
	uint64_t sum = 0;

	if (!sp_os_mem_hooked()) {
		snprintf(err, errlen,
			 "tls: OpenSSL allocated before stampede could "
			 "count its allocations (the openssl engine needs "
			 "its hooks in first)");
		return -EINVAL;
	}
	pthread_once(&sp_os_bio_once, sp_os_bio_init);
	m = calloc(1, sizeof(*m));
	if (m == NULL || sp_os_bio_method == NULL)
		goto nomem;
	t->eng_state = m;
	m->ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
	m->conns = calloc(t->nconns, sizeof(*m->conns));
	m->live = calloc(1, sizeof(*m->live) +
				   (size_t)t->nconns * sizeof(m->live->acct[0]));
	if (m->ctx == NULL || m->conns == NULL || m->live == NULL)
		goto nomem;
	switch (sp_os_configure(t, m, conf, err, errlen)) {
	case 0:
		break;
	case -ENOMEM:
		goto nomem;
	default:
		goto fail;
	}
	for (uint32_t i = 0; i < t->nconns; i++) {
		sp_os_acct = &m->live->acct[i];
		if (sp_os_new_ssl(t, &t->conns[i]) < 0) {
			sp_os_leave();
			goto nomem;
		}
		sp_os_leave();
		sum += m->live->acct[i].live;
	}
	m->base = sum / t->nconns;
	return 0;
nomem:
	snprintf(err, errlen,
		 "tls: out of memory for %u connections (openssl)",
		 t->nconns);
	ERR_clear_error();
	sp_os_destroy(t);
	return -ENOMEM;
fail:
	ERR_clear_error();
	sp_os_destroy(t);
	return -EINVAL;
}

static void
sp_os_destroy(struct sp_tls *t)
{
	struct sp_ossl *m = sp_os(t);

	if (m == NULL)
		return;
	for (uint32_t i = 0; m->conns && i < t->nconns; i++)
		SSL_free(m->conns[i].ssl);
	for (uint32_t i = 0; m->slots && i < t->nslots; i++)
		SSL_SESSION_free(m->slots[i]);
	SSL_CTX_free(m->ctx);
	free(m->slots);
	free(m->conns);
	if (m->live) {
		struct sp_os_live *head = __atomic_load_n(&sp_os_retired,
							  __ATOMIC_RELAXED);

		do
			m->live->next = head;
		while (!__atomic_compare_exchange_n(&sp_os_retired, &head,
						    m->live, 1,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED));
	}
	free(m);
	t->eng_state = NULL;
}

const struct sp_tls_engine sp_tls_engine_openssl = {
	.name = "openssl",
	.create = sp_os_create,
	.destroy = sp_os_destroy,
	.start = sp_os_start,
	.handshake = sp_os_handshake,
	.read = sp_os_read,
	.write = sp_os_write,
	.flush = sp_os_flush,
	.close_notify = sp_os_close_notify,
	.overhead = sp_os_overhead,
	.max_plain = sp_os_max_plain,
	.conn_bytes = sp_os_conn_bytes,
	.conn_bytes_idle = sp_os_conn_bytes_idle,
	.verify_name = sp_tls_verify_bit_name,
	.error_name = sp_os_error_name,
};
