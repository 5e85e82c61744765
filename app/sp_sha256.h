/*
 * SHA-256 from mbedTLS's crypto library, under one set of names: mbedTLS
 * 2.x (Debian 12) names the checked calls *_ret; 3.x does not.
 */
#ifndef SP_SHA256_H
#define SP_SHA256_H

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR < 3
#define mbedtls_sha256_starts mbedtls_sha256_starts_ret
#define mbedtls_sha256_update mbedtls_sha256_update_ret
#define mbedtls_sha256_finish mbedtls_sha256_finish_ret
#endif

#endif /* SP_SHA256_H */
