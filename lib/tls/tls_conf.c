/*
 * What every engine's configuration checks and reads the same way: the
 * conf's must-haves, name lists ("a,b:c") and a pre-shared key
 * ("IDENTITY:HEXKEY").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls_int.h"

int
sp_tls_conf_check(const struct sp_tls_conf *conf, char *err, size_t errlen)
{
	if (conf->conns == 0 || conf->inner_ops == NULL) {
		snprintf(err, errlen, "tls: no connections or no stream");
		return -EINVAL;
	}
	if ((conf->cert_file == NULL) != (conf->key_file == NULL)) {
		snprintf(err, errlen,
			 "tls: a certificate needs its key "
			 "and a key its certificate");
		return -EINVAL;
	}
	if (conf->role == SP_TLS_SERVER && conf->cert_file == NULL &&
	    conf->psk == NULL) {
		snprintf(err, errlen,
			 "tls: a server needs a "
			 "certificate and its key, or a PSK");
		return -EINVAL;
	}
	return 0;
}

const char *
sp_tls_list_next(const char **list, char *buf, size_t len)
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

size_t
sp_tls_list_count(const char *list)
{
	char buf[128];
	size_t n = 0;

	while (sp_tls_list_next(&list, buf, sizeof(buf)))
		n++;
	return n;
}

static int
sp_tls_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sp_tls_psk_parse(const char *spec, struct sp_tls_psk *psk, char *err,
		 size_t errlen)
{
	const char *colon = strrchr(spec, ':'), *hex;
	size_t idlen;

	psk->key_len = 0;
	if (colon == NULL || colon == spec) {
		snprintf(err, errlen,
			 "tls: a PSK is IDENTITY:HEXKEY, e.g. "
			 "client1:00112233445566778899aabbccddeeff");
		return -EINVAL;
	}
	idlen = (size_t)(colon - spec);
	if (idlen >= sizeof(psk->id)) {
		snprintf(err, errlen,
			 "tls: the PSK's identity is longer than %zu bytes",
			 sizeof(psk->id) - 1);
		return -EINVAL;
	}
	memcpy(psk->id, spec, idlen);
	psk->id[idlen] = '\0';
	for (hex = colon + 1; hex[0] != '\0'; hex += 2) {
		int hi = sp_tls_hexval(hex[0]),
		    lo = hex[1] ? sp_tls_hexval(hex[1]) : -1;

		if (hi < 0 || lo < 0 || psk->key_len == sizeof(psk->key)) {
			snprintf(err, errlen,
				 "tls: the PSK's key must be an even number "
				 "of hex digits, at most %zu bytes",
				 sizeof(psk->key));
			return -EINVAL;
		}
		psk->key[psk->key_len++] = (uint8_t)(hi << 4 | lo);
	}
	if (psk->key_len == 0) {
		snprintf(err, errlen, "tls: the PSK's key is empty");
		return -EINVAL;
	}
	return 0;
}
