/*
 * The engine's random draws (think times, weights) and the renderer's
 * ({{random}}): private to lib/proto's virtual users.
 */
#ifndef SP_VU_RAND_H
#define SP_VU_RAND_H

#include <stdint.h>

/* xorshift64*, a few cycles each. */

static inline uint64_t
sp_vu_rand(uint64_t *x)
{
	uint64_t v = *x;

	v ^= v >> 12;
	v ^= v << 25;
	v ^= v >> 27;
	*x = v;
	return v * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) without division (Lemire's multiply-shift). */
static inline uint64_t
sp_vu_below(uint64_t *x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)sp_vu_rand(x) * n) >> 64);
}

#endif /* SP_VU_RAND_H */
