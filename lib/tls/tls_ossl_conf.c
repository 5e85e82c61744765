/*
 * The OpenSSL engine's configuration: an SSL_CTX from a conf, with the
 * same names, defaults and refusals as the mbedTLS engine's (suites by
 * IANA's or mbedTLS's names, curves by either's, TLS 1.2 only).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509err.h>

#include "tls_ossl.h"

/* @name after @out's @used bytes, ':' between: OpenSSL's list form. */
static int
sp_os_join(char *out, size_t size, size_t *used, const char *name,
	   const char *what, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (*used + n + 2 > size) {
		snprintf(err, errlen, "tls: %s list too long", what);
		return -EINVAL;
	}
	if (*used)
		out[(*used)++] = ':';
	memcpy(out + *used, name, n + 1);
	*used += n;
	return 0;
}

/* Suites by IANA's name (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) or
 * mbedTLS's (TLS-ECDHE-ECDSA-WITH-...), as the mbedTLS engine takes
 * them: one list means the same to both. */
static int
sp_os_suites(struct sp_ossl *m, const char *list, char *err, size_t errlen)
{
	char buf[128], out[2048];
	size_t used = 0;

	while (sp_tls_list_next(&list, buf, sizeof(buf))) {
		const char *name;

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
		if (sp_os_join(out, sizeof(out), &used, name, "cipher", err,
			       errlen) < 0)
			return -EINVAL;
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

/* OpenSSL knows every name the mbedTLS engine takes (secp256r1, P-256,
 * prime256v1, x25519, X25519...): each is tried alone, so an unknown one
 * is named. */
static int
sp_os_curves(struct sp_ossl *m, const char *list, char *err, size_t errlen)
{
	char buf[128], out[1024];
	size_t used = 0;

	while (sp_tls_list_next(&list, buf, sizeof(buf))) {
		if (!SSL_CTX_set1_groups_list(m->ctx, buf)) {
			ERR_clear_error();
			snprintf(err, errlen, "tls: unknown curve %s", buf);
			return -EINVAL;
		}
		if (sp_os_join(out, sizeof(out), &used, buf, "curve", err,
			       errlen) < 0)
			return -EINVAL;
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
	struct sp_tls_psk *k = &sp_os_of(ssl)->psk;
	size_t idlen = strlen(k->id);

	(void)hint;
	if (idlen + 1 > max_identity_len || k->key_len > max_psk_len)
		return 0;
	memcpy(identity, k->id, idlen + 1);
	memcpy(psk, k->key, k->key_len);
	return (unsigned)k->key_len;
}

static unsigned
sp_os_psk_server(SSL *ssl, const char *identity, unsigned char *psk,
		 unsigned max_psk_len)
{
	struct sp_tls_psk *k = &sp_os_of(ssl)->psk;

	if (identity == NULL || strcmp(identity, k->id) != 0 ||
	    k->key_len > max_psk_len)
		return 0; /* unknown_psk_identity */
	memcpy(psk, k->key, k->key_len);
	return (unsigned)k->key_len;
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

int
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
		if (sp_tls_psk_parse(conf->psk, &m->psk, err, errlen) < 0)
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
		if (t->nslots) {
			m->slots = calloc(t->nslots, sizeof(*m->slots));
			if (m->slots == NULL)
				return -ENOMEM;
		}
	} else {
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
			SSL_CTX_sess_set_cache_size(m->ctx,
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

