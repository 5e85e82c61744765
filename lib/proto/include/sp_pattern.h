/*
 * sp_pattern: a deterministic, seekable byte stream for data-integrity checks.
 *
 * The byte at stream offset i depends only on (seed, i), so a sender can
 * generate any slice of the stream and a receiver can verify whatever slice
 * arrives, in any split, without buffering or sharing state. Each aligned
 * 8-byte word of the stream is a 64-bit mix of (seed, i / 8), stored little
 * endian: cheap enough (one multiply-xorshift chain per 8 bytes) to run at
 * several GB/s, so checking never becomes the bottleneck it measures.
 */
#ifndef SP_PATTERN_H
#define SP_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Write the @len bytes of stream @seed that start at stream offset @offset. */
void sp_pattern_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len);

/* Compare @buf with the stream @seed from @offset. Returns -1 when all @len
 * bytes match, else the stream offset of the first mismatching byte. */
int64_t sp_pattern_check(uint64_t seed, uint64_t offset, const uint8_t *buf,
			 size_t len);

#endif /* SP_PATTERN_H */
