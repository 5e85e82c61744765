/*
 * Unit test for sp_pattern: determinism, seekability (any split of the stream
 * gives the same bytes), seed separation, exact mismatch offsets, and a
 * throughput figure (printed, not asserted: sanitizer builds are slow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_pattern.h"

static int sp_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			sp_failures++;                                         \
		}                                                              \
	} while (0)

enum { SP_REF_LEN = 4096 };

static void
test_deterministic(void)
{
	static uint8_t a[SP_REF_LEN], b[SP_REF_LEN];

	sp_pattern_fill(7, 0, a, sizeof(a));
	sp_pattern_fill(7, 0, b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK(sp_pattern_check(7, 0, a, sizeof(a)) == -1);
	/* Not trivially constant: a pattern of zeros would verify anything. */
	int distinct = 0;
	for (size_t i = 1; i < sizeof(a); i++)
		distinct += a[i] != a[0];
	CHECK(distinct > SP_REF_LEN / 2);
}

/* Every (offset, len) slice must equal the same slice of a full fill. */
static void
test_seekable(void)
{
	static uint8_t ref[SP_REF_LEN], buf[SP_REF_LEN];

	sp_pattern_fill(42, 0, ref, sizeof(ref));
	for (size_t off = 0; off < 64; off++) {
		for (size_t len = 0; len < 64; len++) {
			memset(buf, 0xa5, len + 1);
			sp_pattern_fill(42, off, buf, len);
			CHECK(memcmp(buf, ref + off, len) == 0);
			CHECK(buf[len] == 0xa5); /* no write past len */
			CHECK(sp_pattern_check(42, off, ref + off, len) == -1);
		}
	}
	/* A stream built from one-byte and odd-sized pieces. */
	size_t pos = 0, step = 1;
	while (pos < sizeof(buf)) {
		size_t n = step;
		if (n > sizeof(buf) - pos)
			n = sizeof(buf) - pos;
		sp_pattern_fill(42, pos, buf + pos, n);
		pos += n;
		step = step * 3 % 97 + 1;
	}
	CHECK(memcmp(buf, ref, sizeof(ref)) == 0);
	/* Large offsets (a 64 GiB stream) behave the same way. */
	uint64_t far = (64ull << 30) + 3;
	sp_pattern_fill(42, far, buf, 100);
	CHECK(sp_pattern_check(42, far, buf, 100) == -1);
	CHECK(sp_pattern_check(42, far + 1, buf, 100) != -1);
}

static void
test_seeds_differ(void)
{
	static uint8_t a[256], b[256];

	for (uint64_t s = 0; s < 100; s++) {
		sp_pattern_fill(s, 0, a, sizeof(a));
		sp_pattern_fill(s + 1, 0, b, sizeof(b));
		CHECK(memcmp(a, b, sizeof(a)) != 0);
		CHECK(sp_pattern_check(s + 1, 0, a, sizeof(a)) != -1);
	}
	/* The same bytes at a shifted offset must not verify either. */
	sp_pattern_fill(3, 0, a, sizeof(a));
	CHECK(sp_pattern_check(3, 8, a, sizeof(a)) != -1);
	CHECK(sp_pattern_check(3, 1, a, sizeof(a)) != -1);
}

static void
test_mismatch_offset(void)
{
	static uint8_t buf[300];

	for (size_t off = 0; off < 16; off++) {
		for (size_t bad = 0; bad < sizeof(buf); bad++) {
			sp_pattern_fill(9, off, buf, sizeof(buf));
			buf[bad] ^= 0x01;
			CHECK(sp_pattern_check(9, off, buf, sizeof(buf)) ==
			      (int64_t)(off + bad));
			/* A later corruption does not hide the first one. */
			if (bad + 5 < sizeof(buf)) {
				buf[bad + 5] ^= 0xff;
				CHECK(sp_pattern_check(9, off, buf,
						       sizeof(buf)) ==
				      (int64_t)(off + bad));
			}
		}
	}
	CHECK(sp_pattern_check(9, 0, buf, 0) == -1);
}

static double
sp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_throughput(void)
{
	enum { SP_BUF = 1 << 20, SP_ROUNDS = 256 };
	uint8_t *buf = malloc(SP_BUF);
	uint64_t off = 0;
	int64_t bad = -1;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	double t0 = sp_now();
	for (int r = 0; r < SP_ROUNDS; r++, off += SP_BUF)
		sp_pattern_fill(1, off, buf, SP_BUF);
	double t1 = sp_now();
	off = 0;
	for (int r = 0; r < SP_ROUNDS; r++, off += SP_BUF) {
		sp_pattern_fill(1, off, buf, SP_BUF);
		if (sp_pattern_check(1, off, buf, SP_BUF) != -1)
			bad = (int64_t)off;
	}
	double t2 = sp_now();
	CHECK(bad == -1);
	double gb = (double)SP_BUF * SP_ROUNDS / 1e9;
	printf("pattern fill %.2f GB/s, fill+check %.2f GB/s\n", gb / (t1 - t0),
	       gb / (t2 - t1));
	free(buf);
}

int
main(void)
{
	test_deterministic();
	test_seekable();
	test_seeds_differ();
	test_mismatch_offset();
	test_throughput();
	if (sp_failures != 0) {
		fprintf(stderr, "test_pattern: %d failure(s)\n", sp_failures);
		return 1;
	}
	printf("test_pattern: ok\n");
	return 0;
}
