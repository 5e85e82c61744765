/*
 * The OpenSSL engine (libssl3): being written. Until then create()
 * refuses with a clear error.
 */
#include <stdio.h>

#include "tls_int.h"

static int
sp_os_create(struct sp_tls *t, const struct sp_tls_conf *conf, char *err,
	     size_t errlen)
{
	(void)t;
	(void)conf;
	snprintf(err, errlen, "tls: the openssl engine is not built yet");
	return -1;
}

const struct sp_tls_engine sp_tls_engine_openssl = {
	.name = "openssl",
	.create = sp_os_create,
};
