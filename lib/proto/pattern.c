/*
 * Deterministic byte pattern: word w of stream s is mix(s, w), little endian.
 *
 * The mix is the splitmix64 finalizer applied to the word index offset by a
 * per-seed constant: consecutive words and consecutive seeds give unrelated
 * values, so a segment delivered at the wrong offset, duplicated or taken
 * from another connection fails the check instead of passing by accident.
 */
#include <string.h>

#include "sp_pattern.h"

static inline uint64_t
sp_pattern_word(uint64_t seed_key, uint64_t word)
{
	uint64_t z = seed_key + word * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Spread the seed once per call so that seeds 0, 1, 2... are far apart. */
static inline uint64_t
sp_pattern_key(uint64_t seed)
{
	return sp_pattern_word(0x2545f4914f6cdd1dull, seed);
}

/* The wire order is little endian whatever the host: a stream written on one
 * machine verifies on another. */
static inline void
sp_pattern_store(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
#endif
}

void
sp_pattern_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len)
{
	uint64_t key = sp_pattern_key(seed);
	uint64_t word = offset >> 3;
	unsigned int skip = (unsigned int)(offset & 7);
	uint8_t tmp[8];

	if (len == 0)
		return;
	/* Head: the tail end of a word we entered in the middle. */
	if (skip != 0) {
		size_t n = 8 - skip;

		if (n > len)
			n = len;
		sp_pattern_store(tmp, sp_pattern_word(key, word));
		memcpy(buf, tmp + skip, n);
		buf += n;
		len -= n;
		word++;
	}
	for (; len >= 8; len -= 8, buf += 8, word++)
		sp_pattern_store(buf, sp_pattern_word(key, word));
	if (len != 0) {
		sp_pattern_store(tmp, sp_pattern_word(key, word));
		memcpy(buf, tmp, len);
	}
}

/* Offset of the first differing byte between @a and @b (known to differ). */
static int64_t
sp_pattern_first_diff(uint64_t base, const uint8_t *a, const uint8_t *b,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int64_t)(base + i);
	return -1;
}

int64_t
sp_pattern_check(uint64_t seed, uint64_t offset, const uint8_t *buf, size_t len)
{
	uint64_t key = sp_pattern_key(seed);
	uint64_t word = offset >> 3;
	unsigned int skip = (unsigned int)(offset & 7);
	uint64_t pos = offset;
	uint8_t tmp[8];

	if (len == 0)
		return -1;
	if (skip != 0) {
		size_t n = 8 - skip;

		if (n > len)
			n = len;
		sp_pattern_store(tmp, sp_pattern_word(key, word));
		if (memcmp(buf, tmp + skip, n) != 0)
			return sp_pattern_first_diff(pos, buf, tmp + skip, n);
		buf += n;
		len -= n;
		pos += n;
		word++;
	}
	for (; len >= 8; len -= 8, buf += 8, pos += 8, word++) {
		sp_pattern_store(tmp, sp_pattern_word(key, word));
		if (memcmp(buf, tmp, 8) != 0)
			return sp_pattern_first_diff(pos, buf, tmp, 8);
	}
	if (len != 0) {
		sp_pattern_store(tmp, sp_pattern_word(key, word));
		if (memcmp(buf, tmp, len) != 0)
			return sp_pattern_first_diff(pos, buf, tmp, len);
	}
	return -1;
}
