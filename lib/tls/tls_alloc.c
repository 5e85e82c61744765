/*
 * The engines' allocations, counted per thread.
 *
 * mbedTLS: Debian's build has no MBEDTLS_PLATFORM_MEMORY, so
 * mbedtls_platform_set_calloc_free does not exist: the library calls
 * calloc and free directly. lib/tls/meson.build links a copy of its
 * static archives in which those two references are renamed to
 * sp_tls_calloc and sp_tls_free below (objcopy --redefine-sym), so every
 * allocation mbedTLS makes, and only those, passes here whatever the rest
 * of the process does with its allocator (the app's witness, a
 * sanitizer's).
 *
 * OpenSSL: CRYPTO_set_mem_functions, set by a constructor before anything
 * can have allocated through the library. Each block carries a header:
 * its size, and the byte counter it was charged to (the connection the
 * engine was working on, sp_os_acct, or none), so the engine can say what
 * a connection holds. Record buffers come and go with every record under
 * SSL_MODE_RELEASE_BUFFERS (an idle connection gives them back): large
 * blocks freed go to a per-thread pool by size class instead of to
 * malloc, and the next record's buffer comes from there. A block taken
 * from the pool is no allocation (no call into malloc, no lock); one the
 * pool could not give is, and is counted.
 *
 * The count is thread-local: the libraries are shared by every worker,
 * but each instance lives on one thread and reads the count before and
 * after its own calls into the engine (tls_stream.c), so each allocation
 * lands in the counters of the instance that caused it.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tls_int.h"

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

/* ---- OpenSSL ---- */

struct sp_os_hdr {
	struct sp_os_acct *acct; /* charged to, or NULL */
	uint32_t size;           /* as asked */
	uint8_t cls;             /* pool class + 1, 0: not pooled */
	uint8_t pad;
	uint16_t gen; /* the account's generation when made */
	alignas(16) unsigned char data[];
};

/* Pooled: small blocks up to 512 bytes in 16-byte classes (OpenSSL 3.0
 * allocates and frees a few tens of bytes in every SSL_write: its
 * provider parameters), and 8 KiB up to 64 KiB in 4 KiB classes (its
 * record buffers, about 17 KiB each way); each thread keeps up to
 * SP_OS_POOL_BYTES of them. */
#define SP_OS_SMALL_STEP 16u
#define SP_OS_SMALL_CLASSES 32u
#define SP_OS_POOL_MIN 8192u
#define SP_OS_POOL_STEP 4096u
#define SP_OS_LARGE_CLASSES 15u
#define SP_OS_POOL_CLASSES (SP_OS_SMALL_CLASSES + SP_OS_LARGE_CLASSES)
#define SP_OS_POOL_BYTES (64u << 20)

struct sp_os_free {
	struct sp_os_free *next;
};

static __thread struct sp_os_free *sp_os_pool[SP_OS_POOL_CLASSES];
static __thread size_t sp_os_pooled;
__thread struct sp_os_acct *sp_os_acct;
static int sp_os_hooked;

/* A size's class + 1; 0: not pooled. */
static inline uint32_t
sp_os_class(size_t n)
{
	if (n == 0)
		return 0;
	if (n <= SP_OS_SMALL_STEP * SP_OS_SMALL_CLASSES)
		return (uint32_t)((n + SP_OS_SMALL_STEP - 1) /
				  SP_OS_SMALL_STEP);
	if (n < SP_OS_POOL_MIN ||
	    n > SP_OS_POOL_MIN + SP_OS_POOL_STEP * (SP_OS_LARGE_CLASSES - 1))
		return 0;
	return SP_OS_SMALL_CLASSES + 1 +
	       (uint32_t)((n - SP_OS_POOL_MIN + SP_OS_POOL_STEP - 1) /
			  SP_OS_POOL_STEP);
}

static inline size_t
sp_os_class_size(uint32_t cls)
{
	if (cls <= SP_OS_SMALL_CLASSES)
		return SP_OS_SMALL_STEP * (size_t)cls;
	return SP_OS_POOL_MIN +
	       SP_OS_POOL_STEP * (size_t)(cls - SP_OS_SMALL_CLASSES - 1);
}

static inline struct sp_os_hdr *
sp_os_hdr_of(void *p)
{
	return (struct sp_os_hdr *)((unsigned char *)p -
				    offsetof(struct sp_os_hdr, data));
}

/* @h into this thread's pool: 1, or 0 when its size is not pooled or
 * the pool is full (the caller frees it). */
static int
sp_os_pool_push(struct sp_os_hdr *h)
{
	struct sp_os_free *f = (struct sp_os_free *)h->data;

	if (h->cls == 0 ||
	    sp_os_pooled + sp_os_class_size(h->cls) > SP_OS_POOL_BYTES)
		return 0;
	f->next = sp_os_pool[h->cls - 1];
	sp_os_pool[h->cls - 1] = f;
	sp_os_pooled += sp_os_class_size(h->cls);
	return 1;
}

/* What a block costs: its header and its bytes as asked of malloc. */
static inline uint64_t
sp_os_cost(const struct sp_os_hdr *h)
{
	return sizeof(*h) + (h->cls ? sp_os_class_size(h->cls) : h->size);
}

static inline void
sp_os_charge(struct sp_os_hdr *h)
{
	struct sp_os_acct *a = sp_os_acct;

	h->acct = a;
	if (a) {
		h->gen = a->gen;
		a->live += sp_os_cost(h);
	}
}

static inline void
sp_os_uncharge(const struct sp_os_hdr *h)
{
	struct sp_os_acct *a = h->acct;
	uint64_t cost = sp_os_cost(h);

	if (a == NULL)
		return;
	a->live -= cost;
	if (h->gen != a->gen)
		a->floor = a->floor > cost ? a->floor - cost : 0;
}

static void *
sp_os_malloc(size_t n, const char *file, int line)
{
	uint32_t cls = sp_os_class(n);
	struct sp_os_hdr *h = NULL;

	(void)file;
	(void)line;
	if (n > UINT32_MAX - sizeof(*h))
		return NULL;
	if (cls && sp_os_pool[cls - 1] != NULL) {
		struct sp_os_free *f = sp_os_pool[cls - 1];

		sp_os_pool[cls - 1] = f->next;
		sp_os_pooled -= sp_os_class_size(cls);
		h = sp_os_hdr_of(f);
	} else {
		h = malloc(sizeof(*h) + (cls ? sp_os_class_size(cls) : n));
		if (h == NULL)
			return NULL;
		sp_tls_allocs++;
	}
	h->size = (uint32_t)n;
	h->cls = (uint8_t)cls;
	sp_os_charge(h);
	return h->data;
}

static void
sp_os_release(void *p, const char *file, int line)
{
	struct sp_os_hdr *h;

	(void)file;
	(void)line;
	if (p == NULL)
		return;
	h = sp_os_hdr_of(p);
	sp_os_uncharge(h);
	if (!sp_os_pool_push(h))
		free(h);
}

static void *
sp_os_realloc(void *p, size_t n, const char *file, int line)
{
	struct sp_os_hdr *h;
	void *q;

	if (p == NULL)
		return sp_os_malloc(n, file, line);
	if (n == 0) {
		sp_os_release(p, file, line);
		return NULL;
	}
	h = sp_os_hdr_of(p);
	if (n <= h->size || (h->cls && n <= sp_os_class_size(h->cls))) {
		/* Fits where it is (a class block has room to its size). */
		sp_os_uncharge(h);
		h->size = (uint32_t)n;
		sp_os_charge(h);
		return p;
	}
	q = sp_os_malloc(n, file, line);
	if (q == NULL)
		return NULL;
	memcpy(q, p, h->size);
	sp_os_release(p, file, line);
	return q;
}

void
sp_os_pool_reserve(size_t size, unsigned n)
{
	uint32_t cls = sp_os_class(size);
	size_t bytes = cls ? sp_os_class_size(cls) : 0;

	while (cls && n-- > 0 && sp_os_pooled + bytes <= SP_OS_POOL_BYTES) {
		struct sp_os_hdr *h = malloc(sizeof(*h) + bytes);

		if (h == NULL)
			return;
		sp_tls_allocs++;
		h->acct = NULL;
		h->size = (uint32_t)size;
		h->cls = (uint8_t)cls;
		sp_os_pool_push(h);
	}
}

/* Before main, so before anything in the process (libcurl, a test) can
 * have allocated through OpenSSL: after that the library refuses. */
__attribute__((constructor)) static void
sp_os_hook(void)
{
	sp_os_hooked =
		CRYPTO_set_mem_functions(sp_os_malloc, sp_os_realloc,
					 sp_os_release);
}

int
sp_os_mem_hooked(void)
{
	return sp_os_hooked;
}
