/*
 * Heap calls counted for real in an engine's unit test (not by --wrap,
 * which misses the libraries the engine calls, PCRE2 among them): the
 * allocator interposed for the whole process, as app/alloccount.c does,
 * in builds without sanitizers (they interpose it themselves; the test's
 * meson entry defines SP_TEST_ALLOC_INTERPOSE then). Between
 * sp_t_alloc_hot(1) and sp_t_alloc_hot(0) every malloc, calloc and
 * realloc is counted in sp_t_allocs.
 */
#ifndef SP_ALLOC_INTERPOSE_H
#define SP_ALLOC_INTERPOSE_H

#include <stddef.h>

static int sp_t_counting;
static unsigned long sp_t_allocs;

#ifdef SP_TEST_ALLOC_INTERPOSE
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

void *
malloc(size_t n)
{
	sp_t_allocs += (unsigned long)sp_t_counting;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	sp_t_allocs += (unsigned long)sp_t_counting;
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	sp_t_allocs += (unsigned long)sp_t_counting;
	return __libc_realloc(p, n);
}
#endif

static inline void
sp_t_alloc_hot(int on)
{
	if (on)
		sp_t_allocs = 0;
	sp_t_counting = on;
}

#endif /* SP_ALLOC_INTERPOSE_H */
