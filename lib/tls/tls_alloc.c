/*
 * The engine's allocations, counted per thread.
 *
 * Debian's mbedTLS is built without MBEDTLS_PLATFORM_MEMORY, so
 * mbedtls_platform_set_calloc_free does not exist: the library calls
 * calloc and free directly. lib/tls/meson.build links a copy of its
 * static archives in which those two references are renamed to the
 * functions below (objcopy --redefine-sym), so every allocation mbedTLS
 * makes, and only those, passes here whatever the rest of the process
 * does with its allocator (the app's witness, a sanitizer's). The count
 * is thread-local: the library is shared by every worker, but each
 * instance lives on one thread and reads the count before and after its
 * own calls into the engine (tls_stream.c), so each allocation lands in
 * the counters of the instance that caused it.
 */
#include <stdlib.h>

#include "sp_tls.h"

void *sp_tls_calloc(size_t n, size_t size);
void sp_tls_free(void *p);

static __thread uint64_t sp_tls_allocs;

void *
sp_tls_calloc(size_t n, size_t size)
{
	sp_tls_allocs++;
	return calloc(n, size);
}

void
sp_tls_free(void *p)
{
	free(p);
}

uint64_t
sp_tls_thread_allocs(void)
{
	return sp_tls_allocs;
}
