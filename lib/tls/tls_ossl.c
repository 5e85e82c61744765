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
#include "tls_int.h"

/* Our code for a failure OpenSSL has no error for: the stream under TLS
 * refused our bytes (the BIO's hard error). */
#define SP_OS_ERR_TRANSPORT (-1)

#define SP_OS_MAX_PLAIN 16384u /* SSL3_RT_MAX_PLAIN_LENGTH */

struct sp_os_conn {
	SSL *ssl;
	uint32_t wpend; /* a record's plaintext made but not all out */
	uint8_t shut;   /* our close_notify made but not all out */
	uint8_t dirty;  /* failed: a fresh SSL for the next connection */
};

/* Byte counters (tls_alloc.c charges blocks to them), kept for the life
 * of the process: a block OpenSSL allocated for a connection may be freed
 * after the instance (a cache the library fills lazily), and must find
 * its counter still there. */
struct sp_os_live {
	struct sp_os_live *next;
	uint64_t bytes[];
};

static struct sp_os_live *sp_os_retired;

struct sp_ossl {
	SSL_CTX *ctx;
	struct sp_os_conn *conns;
	struct sp_os_live *live; /* per connection */
	uint32_t nconns;
	SSL_SESSION **slots;
	uint32_t nslots;
	int insecure;
	unsigned char alpn[64]; /* wire form: length, name */
	unsigned alpn_len;
	char psk_id[128];
	unsigned char psk[32]; /* as mbedTLS's MBEDTLS_PSK_MAX_LEN */
	unsigned psk_len;
	/* Bytes per connection: an SSL in the pool (measured at create),
	 * and samples of what an open one holds: idle (a read found no
	 * record) and moving a record (a read returned plaintext). */
	uint64_t base;
	uint64_t idle_sum, idle_n;
	uint64_t busy_sum, busy_n;
};

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

	sp_os_acct = &m->live->bytes[i];
	return &m->conns[i];
}

static inline void
sp_os_leave(void)
{
	sp_os_acct = NULL;
}

/* ---- the BIO: the glue's window and the inner send ---- */

static int
sp_os_bio_write(BIO *b, const char *p, int len)
{
	int n;

	BIO_clear_retry_flags(b);
	n = sp_tls_bio_send(BIO_get_data(b), (const uint8_t *)p,
			    len < 0 ? 0 : (uint32_t)len);
	if (n == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	return n < 0 ? -1 : n;
}

static int
sp_os_bio_read(BIO *b, char *p, int len)
{
	int n;

	BIO_clear_retry_flags(b);
	n = sp_tls_bio_recv(BIO_get_data(b), (uint8_t *)p,
			    len < 0 ? 0 : (uint32_t)len);
	if (n == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
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
	if (slot < m->nslots && m->slots[slot] != NULL) {
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
		if (c->slot < m->nslots) {
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
	uint64_t *live = &m->live->bytes[sp_os_idx(t, c)];
	int n = SSL_read(o->ssl, buf, len > INT_MAX ? INT_MAX : (int)len), e;

	if (n > 0) {
		/* A record's plaintext out: its buffer is still held. */
		m->busy_sum += *live;
		m->busy_n++;
		sp_os_leave();
		return n;
	}
	e = SSL_get_error(o->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		m->idle_sum += *live;
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

/* Measured: what connections held when a read returned plaintext (the
 * record buffer taken), and when a read found nothing (idle), each with
 * the resumption session its handshake left in a slot; before any such
 * sample, an SSL in the pool. */
static size_t
sp_os_conn_bytes(const struct sp_tls *t)
{
	const struct sp_ossl *m = sp_os(t);

	return sizeof(struct sp_os_conn) + sizeof(uint64_t) +
	       sp_os_avg(m->busy_sum, m->busy_n,
			 sp_os_avg(m->idle_sum, m->idle_n, m->base));
}

static size_t
sp_os_conn_bytes_idle(const struct sp_tls *t)
{
	const struct sp_ossl *m = sp_os(t);

	return sizeof(struct sp_os_conn) + sizeof(uint64_t) +
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

/* ---- configuration ---- */

/* The next name of a list ("a,b:c"), into @buf; NULL at the end. */
static const char *
sp_os_next(const char **list, char *buf, size_t len)
{
	const char *p = *list;
	size_t n;

	while (*p == ',' || *p == ':' || *p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	n = strcspn(p, ",: ");
	*list = p + n;
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Suites by IANA's name (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) or
 * mbedTLS's (TLS-ECDHE-ECDSA-WITH-...), as the mbedTLS engine takes
 * them: one list means the same to both. */
static int
sp_os_suites(struct sp_ossl *m, const char *list, char *err, size_t errlen)
{
	char buf[128], out[2048];
	size_t used = 0;

	out[0] = '\0';
	while (sp_os_next(&list, buf, sizeof(buf))) {
		const char *name;
		size_t n;

		for (char *q = buf; *q; q++)
			if (*q == '-')
				*q = '_';
		name = OPENSSL_cipher_name(buf);
		if (name == NULL || strcmp(name, "(NONE)") == 0) {
			snprintf(err, errlen,
				 "tls: unknown cipher suite %s (names like "
				 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)",
				 buf);
			return -EINVAL;
		}
		n = strlen(name);
		if (used + n + 2 > sizeof(out)) {
			snprintf(err, errlen, "tls: cipher list too long");
			return -EINVAL;
		}
		if (used)
			out[used++] = ':';
		memcpy(out + used, name, n + 1);
		used += n;
	}
	if (used == 0) {
		snprintf(err, errlen, "tls: empty cipher list");
		return -EINVAL;
	}
	if (!SSL_CTX_set_cipher_list(m->ctx, out)) {
		snprintf(err, errlen, "tls: OpenSSL takes none of the suites %s",
			 out);
		return -EINVAL;
	}
	return 0;
}

static int
sp_os_curves(struct sp_ossl *m, const char *list, char *err, size_t errlen)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = {
		{ "secp256r1", "P-256" }, { "prime256v1", "P-256" },
		{ "secp384r1", "P-384" }, { "secp521r1", "P-521" },
		{ "x25519", "X25519" },   { "x448", "X448" },
	};
	char buf[128], out[1024];
	size_t used = 0;

	while (sp_os_next(&list, buf, sizeof(buf))) {
		const char *name = buf;
		size_t n;

		for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]);
		     a++)
			if (strcmp(buf, aliases[a].alias) == 0)
				name = aliases[a].name;
		if (!SSL_CTX_set1_groups_list(m->ctx, name)) {
			ERR_clear_error();
			snprintf(err, errlen, "tls: unknown curve %s", buf);
			return -EINVAL;
		}
		n = strlen(name);
		if (used + n + 2 > sizeof(out)) {
			snprintf(err, errlen, "tls: curve list too long");
			return -EINVAL;
		}
		if (used)
			out[used++] = ':';
		memcpy(out + used, name, n + 1);
		used += n;
	}
	if (used == 0) {
		snprintf(err, errlen, "tls: empty curve list");
		return -EINVAL;
	}
	if (!SSL_CTX_set1_groups_list(m->ctx, out))
		return -EINVAL;
	return 0;
}

/* OpenSSL's first queued reason, for a message; the queue emptied. */
static const char *
sp_os_why(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : "unreadable");
	ERR_clear_error();
	return buf;
}

/* The key read, but it is not the certificate's: OpenSSL says so when
 * it takes the key. */
static int
sp_os_key_mismatch(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	       (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
		ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

static int
sp_os_load_certs(struct sp_ossl *m, const struct sp_tls_conf *conf, char *err,
		 size_t errlen)
{
	char why[128];

	if ((conf->cert_file == NULL) != (conf->key_file == NULL)) {
		snprintf(err, errlen,
			 "tls: a certificate needs its key "
			 "and a key its certificate");
		return -EINVAL;
	}
	if (conf->cert_file == NULL)
		return 0;
	/* PEM (a chain), or one DER certificate. */
	if (SSL_CTX_use_certificate_chain_file(m->ctx, conf->cert_file) != 1) {
		ERR_clear_error();
		if (SSL_CTX_use_certificate_file(m->ctx, conf->cert_file,
						 SSL_FILETYPE_ASN1) != 1) {
			snprintf(err, errlen,
				 "tls: cannot load certificate %s: %s",
				 conf->cert_file,
				 sp_os_why(why, sizeof(why)));
			return -EINVAL;
		}
	}
	if (SSL_CTX_use_PrivateKey_file(m->ctx, conf->key_file,
					SSL_FILETYPE_PEM) != 1) {
		if (sp_os_key_mismatch())
			goto mismatch;
		ERR_clear_error();
		if (SSL_CTX_use_PrivateKey_file(m->ctx, conf->key_file,
						SSL_FILETYPE_ASN1) != 1) {
			snprintf(err, errlen, "tls: cannot load key %s: %s",
				 conf->key_file, sp_os_why(why, sizeof(why)));
			return -EINVAL;
		}
	}
	if (SSL_CTX_check_private_key(m->ctx) != 1) {
mismatch:
		ERR_clear_error();
		snprintf(err, errlen,
			 "tls: key %s does not match "
			 "certificate %s",
			 conf->key_file, conf->cert_file);
		return -EINVAL;
	}
	return 0;
}

static int
sp_os_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "IDENTITY:HEXKEY", kept for the callbacks below. */
static int
sp_os_psk_parse(struct sp_ossl *m, const char *spec, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':'), *hex;
	size_t idlen;

	if (colon == NULL || colon == spec) {
		snprintf(err, errlen,
			 "tls: a PSK is IDENTITY:HEXKEY, e.g. "
			 "client1:00112233445566778899aabbccddeeff");
		return -EINVAL;
	}
	idlen = (size_t)(colon - spec);
	if (idlen >= sizeof(m->psk_id)) {
		snprintf(err, errlen, "tls: the PSK's identity is too long");
		return -EINVAL;
	}
	memcpy(m->psk_id, spec, idlen);
	m->psk_id[idlen] = '\0';
	for (hex = colon + 1; hex[0] != '\0'; hex += 2) {
		int hi = sp_os_hexval(hex[0]),
		    lo = hex[1] ? sp_os_hexval(hex[1]) : -1;

		if (hi < 0 || lo < 0 || m->psk_len == sizeof(m->psk)) {
			snprintf(err, errlen,
				 "tls: the PSK's key must be an even number "
				 "of hex digits, at most %zu bytes",
				 sizeof(m->psk));
			return -EINVAL;
		}
		m->psk[m->psk_len++] = (unsigned char)(hi << 4 | lo);
	}
	if (m->psk_len == 0) {
		snprintf(err, errlen, "tls: the PSK's key is empty");
		return -EINVAL;
	}
	return 0;
}

static struct sp_ossl *
sp_os_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static unsigned
sp_os_psk_client(SSL *ssl, const char *hint, char *identity,
		 unsigned max_identity_len, unsigned char *psk,
		 unsigned max_psk_len)
{
	struct sp_ossl *m = sp_os_of(ssl);
	size_t idlen = strlen(m->psk_id);

	(void)hint;
	if (idlen + 1 > max_identity_len || m->psk_len > max_psk_len)
		return 0;
	memcpy(identity, m->psk_id, idlen + 1);
	memcpy(psk, m->psk, m->psk_len);
	return m->psk_len;
}

static unsigned
sp_os_psk_server(SSL *ssl, const char *identity, unsigned char *psk,
		 unsigned max_psk_len)
{
	struct sp_ossl *m = sp_os_of(ssl);

	if (identity == NULL || strcmp(identity, m->psk_id) != 0 ||
	    m->psk_len > max_psk_len)
		return 0; /* unknown_psk_identity */
	memcpy(psk, m->psk, m->psk_len);
	return m->psk_len;
}

/* Server: our one protocol if the client offers it; a client that offers
 * others only is refused (no_application_protocol), as mbedTLS does. */
static int
sp_os_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		  const unsigned char *in, unsigned inlen, void *arg)
{
	struct sp_ossl *m = arg;

	(void)ssl;
	for (unsigned i = 0; i < inlen;) {
		unsigned n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n + 1 == m->alpn_len && memcmp(in + i, m->alpn, n + 1) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int
sp_os_load_ca(struct sp_ossl *m, const char *file, char *err, size_t errlen)
{
	char why[128];

	if (SSL_CTX_load_verify_file(m->ctx, file) != 1) {
		snprintf(err, errlen, "tls: cannot load CA file %s: %s", file,
			 sp_os_why(why, sizeof(why)));
		return -EINVAL;
	}
	return 0;
}

static void sp_os_destroy(struct sp_tls *t);

static int
sp_os_configure(struct sp_tls *t, struct sp_ossl *m,
		const struct sp_tls_conf *conf, char *err, size_t errlen)
{
	int client = conf->role == SP_TLS_CLIENT;
	const char *alpn = conf->alpn ? conf->alpn : "http/1.1";
	uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;

	/* RFC 8996: never 1.0 or 1.1; 1.2 only, as the mbedTLS engine, so
	 * the two measure the same protocol. */
	if (!SSL_CTX_set_min_proto_version(m->ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(m->ctx, TLS1_2_VERSION))
		return -ENOMEM;
	SSL_CTX_set_mode(m->ctx, SSL_MODE_RELEASE_BUFFERS |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Whole windows into the record buffer in one BIO read. */
	SSL_CTX_set_read_ahead(m->ctx, 1);
	SSL_CTX_set_app_data(m->ctx, m);
	if (sp_os_suites(m,
			 conf->ciphers ? conf->ciphers :
			 conf->psk     ? SP_TLS_DEFAULT_CIPHERS
				 "," SP_TLS_DEFAULT_PSK_CIPHERS :
				     SP_TLS_DEFAULT_CIPHERS,
			 err, errlen) < 0)
		return -EINVAL;
	if (sp_os_curves(m, conf->curves ? conf->curves : SP_TLS_DEFAULT_CURVES,
			 err, errlen) < 0)
		return -EINVAL;
	if (alpn[0] != '\0') {
		size_t n = strlen(alpn);

		if (n + 1 > sizeof(m->alpn) || n > 255) {
			snprintf(err, errlen, "tls: ALPN name too long");
			return -EINVAL;
		}
		m->alpn[0] = (unsigned char)n;
		memcpy(m->alpn + 1, alpn, n);
		m->alpn_len = (unsigned)n + 1;
		if (client) {
			if (SSL_CTX_set_alpn_protos(m->ctx, m->alpn,
						    m->alpn_len) != 0)
				return -ENOMEM;
		} else {
			SSL_CTX_set_alpn_select_cb(m->ctx, sp_os_alpn_select,
						   m);
		}
	}
	if (sp_os_load_certs(m, conf, err, errlen) < 0)
		return -EINVAL;
	if (conf->psk) {
		if (sp_os_psk_parse(m, conf->psk, err, errlen) < 0)
			return -EINVAL;
		if (client)
			SSL_CTX_set_psk_client_callback(m->ctx,
							sp_os_psk_client);
		else
			SSL_CTX_set_psk_server_callback(m->ctx,
							sp_os_psk_server);
	}
	if (client) {
		m->insecure = conf->insecure;
		if (conf->insecure) {
			SSL_CTX_set_verify(m->ctx, SSL_VERIFY_NONE, NULL);
		} else {
			if (sp_os_load_ca(m,
					  conf->ca_file ? conf->ca_file :
							  SP_TLS_DEFAULT_CA,
					  err, errlen) < 0)
				return -EINVAL;
			SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER, NULL);
		}
		/* Our sessions are the slots', not the library's cache. */
		SSL_CTX_set_session_cache_mode(m->ctx, SSL_SESS_CACHE_OFF);
		if (conf->resume != SP_TLS_RESUME_TICKET)
			opts |= SSL_OP_NO_TICKET;
		m->nslots = t->nslots;
		if (m->nslots) {
			m->slots = calloc(m->nslots, sizeof(*m->slots));
			if (m->slots == NULL)
				return -ENOMEM;
		}
	} else {
		if (conf->cert_file == NULL && conf->psk == NULL) {
			snprintf(err, errlen,
				 "tls: a server needs a "
				 "certificate and its key, or a PSK");
			return -EINVAL;
		}
		if (conf->client_auth) {
			if (sp_os_load_ca(m,
					  conf->ca_file ? conf->ca_file :
							  SP_TLS_DEFAULT_CA,
					  err, errlen) < 0)
				return -EINVAL;
			SSL_CTX_set_verify(m->ctx,
					   SSL_VERIFY_PEER |
						   SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
					   NULL);
		}
		/* Our order, not the client's (as mbedTLS's server). */
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
		if (!SSL_CTX_set_session_id_context(
			    m->ctx, (const unsigned char *)"stampede", 8))
			return -ENOMEM;
		if (conf->session_cache) {
			SSL_CTX_set_session_cache_mode(
				m->ctx, SSL_SESS_CACHE_SERVER);
			SSL_CTX_sess_set_cache_size(
				m->ctx, conf->session_cache > LONG_MAX ?
						LONG_MAX :
						(long)conf->session_cache);
		} else {
			SSL_CTX_set_session_cache_mode(m->ctx,
						       SSL_SESS_CACHE_OFF);
		}
		if (!conf->tickets)
			opts |= SSL_OP_NO_TICKET;
	}
	SSL_CTX_set_options(m->ctx, opts);
	return 0;
}

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
		return -1;
	}
	pthread_once(&sp_os_bio_once, sp_os_bio_init);
	m = calloc(1, sizeof(*m));
	if (m == NULL || sp_os_bio_method == NULL)
		goto nomem;
	t->eng_state = m;
	m->ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
	m->conns = calloc(t->nconns, sizeof(*m->conns));
	m->live = calloc(1, sizeof(*m->live) +
				   (size_t)t->nconns * sizeof(uint64_t));
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
	m->nconns = t->nconns;
	for (uint32_t i = 0; i < t->nconns; i++) {
		sp_os_acct = &m->live->bytes[i];
		if (sp_os_new_ssl(t, &t->conns[i]) < 0) {
			sp_os_leave();
			goto nomem;
		}
		sp_os_leave();
		sum += m->live->bytes[i];
	}
	m->base = sum / t->nconns;
	return 0;
nomem:
	snprintf(err, errlen,
		 "tls: out of memory for %u connections (openssl)",
		 t->nconns);
fail:
	ERR_clear_error();
	sp_os_destroy(t);
	return -1;
}

static void
sp_os_destroy(struct sp_tls *t)
{
	struct sp_ossl *m = sp_os(t);

	if (m == NULL)
		return;
	for (uint32_t i = 0; m->conns && i < m->nconns; i++)
		SSL_free(m->conns[i].ssl);
	for (uint32_t i = 0; m->slots && i < m->nslots; i++)
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
