/*
 * The Internet checksum (RFC 1071) in 64-bit steps: the one's-complement
 * sum of 16-bit words is the same whatever width the words are added in,
 * as long as every carry comes back around, so eight bytes go in one
 * add-with-carry instead of four 16-bit adds (DPDK's rte_raw_cksum). The
 * frames of an af_packet port carry no checksum offload, and a generator
 * must check its peer's checksums itself: this runs on every segment both
 * ways. Results equal rte_raw_cksum's (tests/unit/test_tcp_data.c checks
 * every length and alignment against it).
 */
#ifndef SP_CKSUM_H
#define SP_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A 64-bit one's-complement sum folded to 16 bits, not complemented. */
static inline uint16_t
sp_cksum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* The one's-complement sum of @len bytes at @buf, words in memory order
 * (a last odd byte padded with a zero), plus @sum, folded to 16 bits and
 * not complemented: rte_raw_cksum(buf, len) when @sum is 0. */
static inline uint16_t
sp_cksum_raw(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	unsigned __int128 acc = sum;
	uint64_t s, w;
	uint32_t w4;
	uint16_t w2;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += a;
		acc += b;
		acc += c;
		acc += d;
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		acc += w;
	}
	if (len >= 4) {
		memcpy(&w4, p, 4);
		acc += w4;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, p, 2);
		acc += w2;
		p += 2;
		len -= 2;
	}
	if (len != 0)
		acc += *p; /* in the low byte of its word, in memory order */
	/* 128 -> 64 bits, the carry brought back around; then to 16 */
	s = (uint64_t)acc;
	w = (uint64_t)(acc >> 64);
	s += w;
	s += s < w;
	return sp_cksum_fold(s);
}

/* sp_cksum_raw of an IPv4 header without options (20 bytes): five 32-bit
 * words, whose sum cannot overflow 64 bits, then the fold. */
static inline uint16_t
sp_cksum_ip20(const void *hdr)
{
	const uint8_t *p = hdr;
	uint32_t w[5];

	memcpy(w, p, sizeof(w));
	return sp_cksum_fold((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
}

/* The IPv4 pseudo-header's words (RFC 9293 3.1: source, destination,
 * zero and protocol, the segment's length), unfolded, to start
 * sp_cksum_raw with: rte_ipv4_phdr_cksum without its 16-bit loop.
 * @src and @dst as in the header (network order), @len in host order. */
static inline uint64_t
sp_cksum_phdr(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t t;

	memcpy(&t, tail, 4); /* the last two words, in memory order */
	return (uint64_t)src + dst + t;
}

#endif /* SP_CKSUM_H */
