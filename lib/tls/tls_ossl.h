/*
 * Inside the OpenSSL engine: its state, shared by tls_ossl.c (the
 * connections) and tls_ossl_conf.c (the SSL_CTX from a conf).
 */
#ifndef SP_TLS_OSSL_H
#define SP_TLS_OSSL_H

#include <openssl/ssl.h>

#include "tls_int.h"

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
	struct sp_os_acct acct[];
};

struct sp_ossl {
	SSL_CTX *ctx;
	struct sp_os_conn *conns;
	struct sp_os_live *live; /* per connection */
	SSL_SESSION **slots;
	int insecure;
	unsigned char alpn[64]; /* wire form: length, name */
	unsigned alpn_len;
	struct sp_tls_psk psk;
	int reserved; /* the thread's pool has our record buffers */
	/* Bytes per connection: an SSL in the pool (measured at create),
	 * and samples of what an open one holds: idle (a read found no
	 * record) and moving a record (one passing through the BIO). */
	uint64_t base;
	uint64_t idle_sum, idle_n;
	uint64_t busy_sum, busy_n;
};

/* The SSL_CTX @m->ctx set up from @conf: 0, -ENOMEM, or -EINVAL with
 * @err filled. */
int sp_os_configure(struct sp_tls *t, struct sp_ossl *m,
		    const struct sp_tls_conf *conf, char *err, size_t errlen);

#endif /* SP_TLS_OSSL_H */
