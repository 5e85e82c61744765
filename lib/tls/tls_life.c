/*
 * The instance's life (sp_tls.h): its pool, its engine and its buffers
 * made at create and freed at destroy; the getters; the names the report
 * prints. The glue that runs connections is tls_stream.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls_int.h"

static uint64_t
sp_tls_mono_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the instance ---- */

/* @us in the conf's clock ticks. */
static uint64_t
sp_tls_us_ticks(const struct sp_tls_conf *conf, uint64_t us)
{
	uint64_t hz = conf->clock ? conf->clock_hz : 1000000000u;

	return us * (hz / 1000000u) + us * (hz % 1000000u) / 1000000u;
}

struct sp_tls *
sp_tls_create(const struct sp_tls_conf *conf, const struct sp_stream_cbs *cbs,
	      void *ctx, char *err, size_t errlen)
{
	struct sp_tls *t;
	uint64_t a0 = sp_tls_thread_allocs();
	int r;

	if (cbs == NULL) {
		snprintf(err, errlen, "tls: no callbacks");
		errno = EINVAL;
		return NULL;
	}
	if (sp_tls_conf_check(conf, err, errlen) < 0) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto nomem;
	t->eng = conf->engine ? conf->engine : &sp_tls_engine_mbedtls;
	t->role = conf->role;
	t->cbs = cbs;
	t->ctx = ctx;
	t->iops = conf->inner_ops;
	t->iimpl = conf->inner_impl;
	t->clock = conf->clock ? conf->clock : sp_tls_mono_ns;
	t->clock_arg = conf->clock_arg;
	if (conf->handshake_timeout_us) {
		t->hs_timeout = sp_tls_us_ticks(conf,
						conf->handshake_timeout_us);
		if (t->hs_timeout == 0)
			t->hs_timeout = 1;
	}
	t->hs_budget = conf->hs_budget_us == UINT64_MAX ?
			       UINT64_MAX :
			       sp_tls_us_ticks(conf,
					       conf->hs_budget_us ?
						       conf->hs_budget_us :
						       1000);
	t->dbufs = malloc((size_t)SP_TLS_DEFER_BUFS * SP_TLS_DEFER_LEN);
	if (t->dbufs == NULL)
		goto nomem;
	for (int32_t i = SP_TLS_DEFER_BUFS; i-- > 0;)
		t->dfree[t->ndfree++] = i;
	t->nconns = conf->conns;
	t->nslots = conf->role == SP_TLS_CLIENT &&
				    conf->resume != SP_TLS_RESUME_NONE ?
			    conf->slots :
			    0;
	t->conns = calloc(conf->conns, sizeof(*t->conns));
	t->scratch_len = 16384; /* one record's plaintext (RFC 5246 6.2.1) */
	t->scratch = malloc(t->scratch_len);
	if (t->conns == NULL || t->scratch == NULL)
		goto nomem;
	for (uint32_t i = conf->conns; i-- > 0;) {
		struct sp_tls_conn *c = &t->conns[i];

		c->t = t;
		c->dbuf = -1;
		c->next = t->free;
		t->free = c;
	}
	r = t->eng->create(t, conf, err, errlen);
	if (r < 0)
		goto out;
	t->ctr.allocs_setup = sp_tls_thread_allocs() - a0;
	return t;
nomem:
	snprintf(err, errlen, "tls: out of memory for %u connections",
		 conf->conns);
	r = -ENOMEM;
out:
	if (t) {
		free(t->scratch);
		free(t->dbufs);
		free(t->conns);
		free(t);
	}
	errno = -r;
	return NULL;
}

void
sp_tls_destroy(struct sp_tls *t)
{
	if (t == NULL)
		return;
	t->eng->destroy(t);
	free(t->scratch);
	free(t->dbufs);
	free(t->conns);
	free(t);
}

const struct sp_tls_counters *
sp_tls_counters(const struct sp_tls *t)
{
	return &t->ctr;
}

uint64_t
sp_tls_handshake_ticks(const struct sp_tls *t, const struct sp_stream *s)
{
	(void)t;
	return ((const struct sp_tls_conn *)s)->hs_ticks;
}

int
sp_tls_resumed(const struct sp_tls *t, const struct sp_stream *s)
{
	(void)t;
	return ((const struct sp_tls_conn *)s)->resumed;
}

size_t
sp_tls_conn_bytes(const struct sp_tls *t)
{
	return sizeof(struct sp_tls_conn) + t->eng->conn_bytes(t);
}

size_t
sp_tls_conn_bytes_idle(const struct sp_tls *t)
{
	if (t->eng->conn_bytes_idle == NULL)
		return sp_tls_conn_bytes(t);
	return sizeof(struct sp_tls_conn) + t->eng->conn_bytes_idle(t);
}

const struct sp_tls_engine *
sp_tls_engine_find(const char *name)
{
	if (name == NULL || strcmp(name, sp_tls_engine_mbedtls.name) == 0)
		return &sp_tls_engine_mbedtls;
	if (strcmp(name, sp_tls_engine_openssl.name) == 0)
		return &sp_tls_engine_openssl;
	return NULL;
}

const char *
sp_tls_engine_name(const struct sp_tls_engine *e)
{
	return (e ? e : &sp_tls_engine_mbedtls)->name;
}

const char *
sp_tls_verify_name(const struct sp_tls_engine *e, unsigned bit)
{
	return (e ? e : &sp_tls_engine_mbedtls)->verify_name(bit);
}

const char *
sp_tls_error_name(const struct sp_tls_engine *e, int code, char *buf,
		  size_t len)
{
	return (e ? e : &sp_tls_engine_mbedtls)->error_name(code, buf, len);
}

/* The verification flag bits, mbedTLS's (MBEDTLS_X509_BADCERT_* and
 * _BADCRL_*): every engine reports its reasons in these bits, so a
 * report reads the same whichever engine ran. */
const char *
sp_tls_verify_bit_name(unsigned bit)
{
	static const char *const names[SP_TLS_NVERIFY] = {
		"expired",       "revoked",         "name_mismatch",
		"not_trusted",   "crl_not_trusted", "crl_expired",
		"missing",       "skip_verify",     "other",
		"future",        "crl_future",      "key_usage",
		"ext_key_usage", "ns_cert_type",    "bad_md",
		"bad_pk",        "bad_key",         "crl_bad_md",
		"crl_bad_pk",    "crl_bad_key",
	};

	return bit < SP_TLS_NVERIFY && names[bit] ? names[bit] : "unknown";
}

/* RFC 8446 6, with the TLS 1.2 ones (RFC 5246 7.2). */
const char *
sp_tls_alert_name(unsigned desc)
{
	switch (desc) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 21:
		return "decryption_failed";
	case 22:
		return "record_overflow";
	case 30:
		return "decompression_failure";
	case 40:
		return "handshake_failure";
	case 41:
		return "no_certificate";
	case 42:
		return "bad_certificate";
	case 43:
		return "unsupported_certificate";
	case 44:
		return "certificate_revoked";
	case 45:
		return "certificate_expired";
	case 46:
		return "certificate_unknown";
	case 47:
		return "illegal_parameter";
	case 48:
		return "unknown_ca";
	case 49:
		return "access_denied";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 60:
		return "export_restriction";
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 86:
		return "inappropriate_fallback";
	case 90:
		return "user_canceled";
	case 100:
		return "no_renegotiation";
	case 109:
		return "missing_extension";
	case 110:
		return "unsupported_extension";
	case 112:
		return "unrecognized_name";
	case 113:
		return "bad_certificate_status_response";
	case 115:
		return "unknown_psk_identity";
	case 116:
		return "certificate_required";
	case 120:
		return "no_application_protocol";
	default:
		return "unknown_alert";
	}
}
