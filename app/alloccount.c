/*
 * Heap allocations on the hot path, counted for real: this file interposes
 * the C allocator for the whole process (symbols in the executable win over
 * libc's) and counts the calls a worker lcore makes while it runs the load.
 * The stack and the modes are built never to allocate there; this is the
 * witness that says so in every report, DPDK's own code included.
 *
 * Not built with sanitizers: they interpose the allocator themselves.
 */
#include <stddef.h>
#include <stdint.h>

#include "sp_app.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void *memalign(size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);

static __thread int sp_hot;
static uint64_t sp_hot_allocs;

static inline void
sp_count(void)
{
	if (__builtin_expect(sp_hot, 0))
		__atomic_fetch_add(&sp_hot_allocs, 1, __ATOMIC_RELAXED);
}

void *
malloc(size_t n)
{
	sp_count();
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	sp_count();
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	sp_count();
	return __libc_realloc(p, n);
}

void *
memalign(size_t align, size_t n)
{
	sp_count();
	return __libc_memalign(align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	sp_count();
	return __libc_memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	sp_count();
	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return 22; /* EINVAL */
	p = __libc_memalign(align, n);
	if (p == NULL && n != 0)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

void
sp_alloc_hot(int on)
{
	sp_hot = on;
}

int64_t
sp_alloc_hot_count(void)
{
	return (int64_t)__atomic_load_n(&sp_hot_allocs, __ATOMIC_RELAXED);
}
