/*
 * The mbedTLS engine (Debian 12's 2.28): TLS 1.2, records through the
 * glue's BIO (tls_stream.c), contexts made once per pooled connection and
 * reset between connections (mbedtls_ssl_session_reset keeps the two
 * record buffers, about 33 KB, so a new connection costs a reset, not
 * their allocation).
 *
 * What 2.28 cannot do, said where it matters: no usable TLS 1.3 (a
 * 1.3-only server answers protocol_version: a handshake failure here, not
 * an alert); no reassembly of a handshake message split across records;
 * no IP address in a certificate's names (an IP literal is checked for
 * its chain only). The peer's name is checked against the subjectAltName
 * DNS names, or the CN when there are none.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include "sp_counter.h"
#include "tls_int.h"

struct sp_mbed_slot {
	mbedtls_ssl_session s;
	int valid;
};

struct sp_mbed {
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	mbedtls_ssl_cache_context cache;
	mbedtls_ssl_ticket_context ticket;
	int *suites;                  /* 0-terminated, or NULL */
	mbedtls_ecp_group_id *curves; /* NONE-terminated, or NULL */
	const char *alpn[2];
	char alpn_buf[64];
	mbedtls_ssl_context *ssl; /* one per pooled connection */
	uint32_t nssl;
	struct sp_mbed_slot *slots;
	uint32_t nslots;
};

static inline struct sp_mbed *
sp_mb(const struct sp_tls *t)
{
	return t->eng_state;
}

/* ---- the BIO: the glue's window and the inner send ---- */

static int
sp_mb_bio_send(void *arg, const unsigned char *p, size_t len)
{
	int n = sp_tls_bio_send(arg, p,
				len > INT_MAX ? INT_MAX : (uint32_t)len);

	if (n < 0)
		return MBEDTLS_ERR_NET_SEND_FAILED;
	return n == 0 ? MBEDTLS_ERR_SSL_WANT_WRITE : n;
}

static int
sp_mb_bio_recv(void *arg, unsigned char *p, size_t len)
{
	int n = sp_tls_bio_recv(arg, p,
				len > INT_MAX ? INT_MAX : (uint32_t)len);

	return n == 0 ? MBEDTLS_ERR_SSL_WANT_READ : n;
}

/* ---- failures, in the stream's end kinds ---- */

static int
sp_mb_fail(mbedtls_ssl_context *ssl, int ret, int in_hs,
	   struct sp_tls_fail_info *fi)
{
	fi->code = ret;
	fi->vflags = 0;
	fi->alert = -1;
	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		fi->kind = SP_STREAM_END_VERIFY;
		fi->vflags = mbedtls_ssl_get_verify_result(ssl);
		break;
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
		/* A server that demands one: the client sent none. */
		fi->kind = SP_STREAM_END_VERIFY;
		fi->vflags = MBEDTLS_X509_BADCERT_MISSING;
		break;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		fi->alert = ssl->in_msg[1];
		fi->kind = SP_STREAM_END_ALERT;
		/* A server that speaks only newer versions answers our
		 * hello so: it is a failed negotiation, named as such. */
		if (in_hs &&
		    fi->alert == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION) {
			fi->kind = SP_STREAM_END_HANDSHAKE;
			fi->code = MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION;
		}
		break;
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
	case MBEDTLS_ERR_SSL_INVALID_MAC:
	case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
	case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
		fi->kind = SP_STREAM_END_BAD_RECORD;
		break;
	case MBEDTLS_ERR_NET_SEND_FAILED:
		fi->kind = SP_STREAM_END_RESET;
		break;
	default:
		fi->kind = in_hs ? SP_STREAM_END_HANDSHAKE :
				   SP_STREAM_END_BAD_RECORD;
		break;
	}
	return SP_TLS_FAIL;
}

/* ---- the engine's operations ---- */

static int
sp_mb_start(struct sp_tls *t, struct sp_tls_conn *c, const char *name,
	    uint32_t slot)
{
	struct sp_mbed *m = sp_mb(t);
	mbedtls_ssl_context *ssl = c->eng;

	if (mbedtls_ssl_session_reset(ssl) != 0)
		return -ENOMEM;
	if (t->role != SP_TLS_CLIENT)
		return 0;
	/* NULL clears the last connection's name: no SNI, no name check. */
	if (mbedtls_ssl_set_hostname(ssl, name) != 0)
		return -ENOMEM;
	if (slot < m->nslots && m->slots[slot].valid) {
		if (mbedtls_ssl_set_session(ssl, &m->slots[slot].s) != 0)
			return -ENOMEM;
		sp_ctr_inc(t->ctr.hs_offered);
	}
	return 0;
}

static int
sp_mb_handshake(struct sp_tls *t, struct sp_tls_conn *c,
		struct sp_tls_fail_info *fi)
{
	struct sp_mbed *m = sp_mb(t);
	mbedtls_ssl_context *ssl = c->eng;
	int ret = 0;

	/* mbedtls_ssl_handshake's loop, step by step, to see whether the
	 * server took the session before wrap-up frees the parameters. */
	while (ssl->state != MBEDTLS_SSL_HANDSHAKE_OVER) {
		if (ssl->handshake)
			c->resumed = ssl->handshake->resume != 0;
		ret = mbedtls_ssl_handshake_step(ssl);
		if (ret != 0)
			break;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return SP_TLS_WANT;
	if (ret != 0)
		return sp_mb_fail(ssl, ret, 1, fi);
	if (c->slot < m->nslots) {
		struct sp_mbed_slot *s = &m->slots[c->slot];

		s->valid = mbedtls_ssl_get_session(ssl, &s->s) == 0;
	}
	return SP_TLS_DONE;
}

static int
sp_mb_read(struct sp_tls *t, struct sp_tls_conn *c, uint8_t *buf, uint32_t len,
	   struct sp_tls_fail_info *fi)
{
	mbedtls_ssl_context *ssl = c->eng;
	int ret = mbedtls_ssl_read(ssl, buf, len);

	(void)t;
	if (ret > 0)
		return ret;
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return SP_TLS_WANT;
	if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return SP_TLS_EOF;
	return sp_mb_fail(ssl, ret, 0, fi);
}

static int
sp_mb_write(struct sp_tls *t, struct sp_tls_conn *c, const uint8_t *buf,
	    uint32_t len, struct sp_tls_fail_info *fi)
{
	mbedtls_ssl_context *ssl = c->eng;
	int ret = mbedtls_ssl_write(ssl, buf, len);

	(void)t;
	if (ret > 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return SP_TLS_WANT;
	return sp_mb_fail(ssl, ret, 0, fi);
}

static int
sp_mb_result(int ret)
{
	if (ret == 0)
		return SP_TLS_DONE;
	return ret == MBEDTLS_ERR_SSL_WANT_WRITE ? SP_TLS_WANT : SP_TLS_FAIL;
}

static int
sp_mb_flush(struct sp_tls *t, struct sp_tls_conn *c)
{
	(void)t;
	return sp_mb_result(mbedtls_ssl_flush_output(c->eng));
}

static int
sp_mb_close_notify(struct sp_tls *t, struct sp_tls_conn *c)
{
	(void)t;
	return sp_mb_result(mbedtls_ssl_close_notify(c->eng));
}

static uint32_t
sp_mb_overhead(struct sp_tls *t, struct sp_tls_conn *c)
{
	int n = mbedtls_ssl_get_record_expansion(c->eng);

	(void)t;
	/* Compression or an unknown transform: assume the worst a block
	 * cipher adds (header, IV, MAC, padding). */
	return n < 0 ? 5 + 16 + 48 + 256 : (uint32_t)n;
}

static uint32_t
sp_mb_max_plain(struct sp_tls *t, struct sp_tls_conn *c)
{
	int n = mbedtls_ssl_get_max_out_record_payload(c->eng);

	(void)t;
	return n <= 0 ? 0 : (uint32_t)n;
}

static size_t
sp_mb_conn_bytes(const struct sp_tls *t)
{
	const struct sp_mbed *m = sp_mb(t);

	/* The context, its two record buffers, and what an open connection
	 * keeps after the handshake (its session and record transform),
	 * plus a resumption slot's session for each connection when there
	 * are slots. The peer's certificate chain a session keeps
	 * (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) is not in this figure. */
	return sizeof(mbedtls_ssl_context) + MBEDTLS_SSL_IN_BUFFER_LEN +
	       MBEDTLS_SSL_OUT_BUFFER_LEN + sizeof(mbedtls_ssl_session) +
	       sizeof(mbedtls_ssl_transform) +
	       (m->nslots ? sizeof(struct sp_mbed_slot) : 0);
}

static const char *
sp_mb_error_name(int code, char *buf, size_t len)
{
	mbedtls_strerror(code, buf, len);
	return buf;
}

/* ---- configuration ---- */

/* Suites by mbedTLS's name (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256) or
 * IANA's (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256). */
static int
sp_mb_suites(struct sp_mbed *m, const char *list, char *err, size_t errlen)
{
	size_t n = sp_tls_list_count(list), i = 0;
	char buf[128];

	if (n == 0) {
		snprintf(err, errlen, "tls: empty cipher list");
		return -EINVAL;
	}
	m->suites = calloc(n + 1, sizeof(*m->suites));
	if (m->suites == NULL)
		return -ENOMEM;
	while (sp_tls_list_next(&list, buf, sizeof(buf))) {
		int id;

		for (char *q = buf; *q; q++)
			if (*q == '_')
				*q = '-';
		id = mbedtls_ssl_get_ciphersuite_id(buf);
		if (id == 0) {
			snprintf(err, errlen,
				 "tls: unknown cipher suite %s (names like "
				 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)",
				 buf);
			return -EINVAL;
		}
		m->suites[i++] = id;
	}
	return 0;
}

static int
sp_mb_curves(struct sp_mbed *m, const char *list, char *err, size_t errlen)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = {
		{ "P-256", "secp256r1" }, { "prime256v1", "secp256r1" },
		{ "P-384", "secp384r1" }, { "P-521", "secp521r1" },
		{ "X25519", "x25519" },   { "X448", "x448" },
	};
	size_t n = sp_tls_list_count(list), i = 0;
	char buf[128];

	if (n == 0) {
		snprintf(err, errlen, "tls: empty curve list");
		return -EINVAL;
	}
	m->curves = calloc(n + 1, sizeof(*m->curves));
	if (m->curves == NULL)
		return -ENOMEM;
	while (sp_tls_list_next(&list, buf, sizeof(buf))) {
		const char *name = buf;
		const mbedtls_ecp_curve_info *ci;

		for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]);
		     a++)
			if (strcmp(buf, aliases[a].alias) == 0)
				name = aliases[a].name;
		ci = mbedtls_ecp_curve_info_from_name(name);
		if (ci == NULL) {
			snprintf(err, errlen, "tls: unknown curve %s", buf);
			return -EINVAL;
		}
		m->curves[i++] = ci->grp_id;
	}
	m->curves[i] = MBEDTLS_ECP_DP_NONE;
	return 0;
}

static int
sp_mb_load_certs(struct sp_mbed *m, const struct sp_tls_conf *conf, char *err,
		 size_t errlen)
{
	char why[128];
	int ret;

	if (conf->cert_file == NULL)
		return 0;
	ret = mbedtls_x509_crt_parse_file(&m->own, conf->cert_file);
	if (ret != 0) {
		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "tls: cannot load certificate %s: %s",
			 conf->cert_file, ret > 0 ? "not a certificate" : why);
		return -EINVAL;
	}
	ret = mbedtls_pk_parse_keyfile(&m->key, conf->key_file, NULL);
	if (ret != 0) {
		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "tls: cannot load key %s: %s",
			 conf->key_file, why);
		return -EINVAL;
	}
	if (mbedtls_pk_check_pair(&m->own.pk, &m->key) != 0) {
		snprintf(err, errlen,
			 "tls: key %s does not match "
			 "certificate %s",
			 conf->key_file, conf->cert_file);
		return -EINVAL;
	}
	if (mbedtls_ssl_conf_own_cert(&m->conf, &m->own, &m->key) != 0)
		return -ENOMEM;
	return 0;
}

/* "IDENTITY:HEXKEY" into the configuration (which keeps copies). */
static int
sp_mb_psk(struct sp_mbed *m, const char *spec, char *err, size_t errlen)
{
	struct sp_tls_psk psk;

	if (sp_tls_psk_parse(spec, &psk, err, errlen) < 0)
		return -EINVAL;
	if (mbedtls_ssl_conf_psk(&m->conf, psk.key, psk.key_len,
				 (const unsigned char *)psk.id,
				 strlen(psk.id)) != 0)
		return -ENOMEM;
	return 0;
}

static int
sp_mb_load_ca(struct sp_mbed *m, const char *file, char *err, size_t errlen)
{
	char why[128];
	int ret = mbedtls_x509_crt_parse_file(&m->ca, file);

	/* > 0: some of a bundle's certificates would not parse (2.28 knows
	 * no Ed25519, for one); the rest still anchor. */
	if (ret < 0 || m->ca.version == 0) {
		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "tls: cannot load CA file %s: %s", file,
			 ret < 0 ? why : "no certificate in it");
		return -EINVAL;
	}
	mbedtls_ssl_conf_ca_chain(&m->conf, &m->ca, NULL);
	return 0;
}

static void sp_mb_destroy(struct sp_tls *t);

static int
sp_mb_create(struct sp_tls *t, const struct sp_tls_conf *conf, char *err,
	     size_t errlen)
{
	static const char pers[] = "stampede tls";
	struct sp_mbed *m = calloc(1, sizeof(*m));
	int client = conf->role == SP_TLS_CLIENT;
	const char *alpn = conf->alpn ? conf->alpn : "http/1.1";
	int ret;

	if (m == NULL)
		goto nomem;
	t->eng_state = m;
	mbedtls_ssl_config_init(&m->conf);
	mbedtls_entropy_init(&m->entropy);
	mbedtls_ctr_drbg_init(&m->drbg);
	mbedtls_x509_crt_init(&m->ca);
	mbedtls_x509_crt_init(&m->own);
	mbedtls_pk_init(&m->key);
	mbedtls_ssl_cache_init(&m->cache);
	mbedtls_ssl_ticket_init(&m->ticket);

	if (mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy,
				  (const unsigned char *)pers,
				  sizeof(pers) - 1) != 0) {
		snprintf(err, errlen, "tls: cannot seed the random generator");
		goto fail;
	}
	/* Reseeding reads the kernel's entropy: a syscall in a handshake.
	 * A seeded CTR_DRBG is good for far more than a run's worth. */
	mbedtls_ctr_drbg_set_reseed_interval(&m->drbg, INT_MAX);
	ret = mbedtls_ssl_config_defaults(
		&m->conf,
		client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
		MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0)
		goto nomem;
	mbedtls_ssl_conf_rng(&m->conf, mbedtls_ctr_drbg_random, &m->drbg);
	/* RFC 8996: never 1.0 or 1.1 (2.28's default minimum is 1.0). */
	mbedtls_ssl_conf_min_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);

	/* mbedTLS's own default order puts ChaCha20-Poly1305 first (in
	 * software), where AES-GCM runs on AES-NI; its server prefers its
	 * own order and OpenSSL's the client's: both then pay ChaCha20 on
	 * every record. Offer and prefer a browser's order instead; with a
	 * PSK, the PSK suites follow. */
	if (sp_mb_suites(m,
			 conf->ciphers ? conf->ciphers :
			 conf->psk     ? SP_TLS_DEFAULT_CIPHERS
				 "," SP_TLS_DEFAULT_PSK_CIPHERS :
				     SP_TLS_DEFAULT_CIPHERS,
			 err, errlen) < 0)
		goto fail;
	if (m->suites)
		mbedtls_ssl_conf_ciphersuites(&m->conf, m->suites);
	/* mbedTLS's own default puts the largest curves first (P-521,
	 * brainpool 512), and its server takes the first of its list the
	 * client offers: a P-521 exchange costs both ends several times a
	 * P-256 one. Offer and prefer what browsers do instead. */
	if (sp_mb_curves(m, conf->curves ? conf->curves : SP_TLS_DEFAULT_CURVES,
			 err, errlen) < 0)
		goto fail;
	if (m->curves)
		mbedtls_ssl_conf_curves(&m->conf, m->curves);
	if (alpn[0] != '\0') {
		if (strlen(alpn) >= sizeof(m->alpn_buf)) {
			snprintf(err, errlen, "tls: ALPN name too long");
			goto fail;
		}
		strcpy(m->alpn_buf, alpn);
		m->alpn[0] = m->alpn_buf;
		m->alpn[1] = NULL;
		if (mbedtls_ssl_conf_alpn_protocols(&m->conf, m->alpn) != 0)
			goto nomem;
	}
	if (sp_mb_load_certs(m, conf, err, errlen) < 0)
		goto fail;
	if (conf->psk && sp_mb_psk(m, conf->psk, err, errlen) < 0)
		goto fail;

	if (client) {
		if (conf->insecure) {
			mbedtls_ssl_conf_authmode(&m->conf,
						  MBEDTLS_SSL_VERIFY_NONE);
		} else {
			if (sp_mb_load_ca(m,
					  conf->ca_file ? conf->ca_file :
							  SP_TLS_DEFAULT_CA,
					  err, errlen) < 0)
				goto fail;
			mbedtls_ssl_conf_authmode(&m->conf,
						  MBEDTLS_SSL_VERIFY_REQUIRED);
		}
		mbedtls_ssl_conf_session_tickets(
			&m->conf, conf->resume == SP_TLS_RESUME_TICKET ?
					  MBEDTLS_SSL_SESSION_TICKETS_ENABLED :
					  MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
		m->nslots = t->nslots;
		if (m->nslots) {
			m->slots = calloc(m->nslots, sizeof(*m->slots));
			if (m->slots == NULL)
				goto nomem;
			for (uint32_t i = 0; i < m->nslots; i++)
				mbedtls_ssl_session_init(&m->slots[i].s);
		}
	} else {
		if (conf->client_auth) {
			if (sp_mb_load_ca(m,
					  conf->ca_file ? conf->ca_file :
							  SP_TLS_DEFAULT_CA,
					  err, errlen) < 0)
				goto fail;
			mbedtls_ssl_conf_authmode(&m->conf,
						  MBEDTLS_SSL_VERIFY_REQUIRED);
		} else {
			mbedtls_ssl_conf_authmode(&m->conf,
						  MBEDTLS_SSL_VERIFY_NONE);
		}
		if (conf->session_cache) {
			mbedtls_ssl_cache_set_max_entries(
				&m->cache, (int)(conf->session_cache > INT_MAX ?
							 INT_MAX :
							 conf->session_cache));
			mbedtls_ssl_conf_session_cache(&m->conf, &m->cache,
						       mbedtls_ssl_cache_get,
						       mbedtls_ssl_cache_set);
		}
		if (conf->tickets) {
			if (mbedtls_ssl_ticket_setup(
				    &m->ticket, mbedtls_ctr_drbg_random,
				    &m->drbg, MBEDTLS_CIPHER_AES_256_GCM,
				    86400) != 0)
				goto nomem;
			mbedtls_ssl_conf_session_tickets_cb(
				&m->conf, mbedtls_ssl_ticket_write,
				mbedtls_ssl_ticket_parse, &m->ticket);
		} else {
			mbedtls_ssl_conf_session_tickets(
				&m->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
		}
	}

	m->ssl = calloc(t->nconns, sizeof(*m->ssl));
	if (m->ssl == NULL)
		goto nomem;
	for (uint32_t i = 0; i < t->nconns; i++) {
		mbedtls_ssl_context *ssl = &m->ssl[i];

		mbedtls_ssl_init(ssl);
		m->nssl = i + 1;
		if (mbedtls_ssl_setup(ssl, &m->conf) != 0)
			goto nomem;
		mbedtls_ssl_set_bio(ssl, &t->conns[i], sp_mb_bio_send,
				    sp_mb_bio_recv, NULL);
		t->conns[i].eng = ssl;
	}
	return 0;
nomem:
	snprintf(err, errlen,
		 "tls: out of memory for %u connections "
		 "(about %zu bytes each)",
		 t->nconns,
		 (size_t)MBEDTLS_SSL_IN_BUFFER_LEN +
			 MBEDTLS_SSL_OUT_BUFFER_LEN);
	sp_mb_destroy(t);
	return -ENOMEM;
fail:
	sp_mb_destroy(t);
	return -EINVAL;
}

static void
sp_mb_destroy(struct sp_tls *t)
{
	struct sp_mbed *m = sp_mb(t);

	if (m == NULL)
		return;
	for (uint32_t i = 0; i < m->nssl; i++)
		mbedtls_ssl_free(&m->ssl[i]);
	free(m->ssl);
	for (uint32_t i = 0; m->slots && i < m->nslots; i++)
		mbedtls_ssl_session_free(&m->slots[i].s);
	free(m->slots);
	mbedtls_ssl_ticket_free(&m->ticket);
	mbedtls_ssl_cache_free(&m->cache);
	mbedtls_pk_free(&m->key);
	mbedtls_x509_crt_free(&m->own);
	mbedtls_x509_crt_free(&m->ca);
	mbedtls_ssl_config_free(&m->conf);
	mbedtls_ctr_drbg_free(&m->drbg);
	mbedtls_entropy_free(&m->entropy);
	free(m->suites);
	free(m->curves);
	free(m);
	t->eng_state = NULL;
}

const struct sp_tls_engine sp_tls_engine_mbedtls = {
	.name = "mbedtls",
	.create = sp_mb_create,
	.destroy = sp_mb_destroy,
	.start = sp_mb_start,
	.handshake = sp_mb_handshake,
	.read = sp_mb_read,
	.write = sp_mb_write,
	.flush = sp_mb_flush,
	.close_notify = sp_mb_close_notify,
	.overhead = sp_mb_overhead,
	.max_plain = sp_mb_max_plain,
	.conn_bytes = sp_mb_conn_bytes,
	.verify_name = sp_tls_verify_bit_name,
	.error_name = sp_mb_error_name,
};
