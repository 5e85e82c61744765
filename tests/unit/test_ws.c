/*
 * Unit test for sp_ws: the handshake values against RFC 6455's own example
 * (section 1.3) and against base64/SHA-1 done another way (the openssl
 * command line is not assumed: a second, naive computation here), and the
 * streaming UTF-8 check against a reference that decodes code points
 * first and judges them after, over every sequence of one to four bytes
 * in the interesting ranges and random text, whole and split at every
 * point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_check.h"
#include "sp_ws.h"

/* Reference: decode greedily by the lead byte's length, then reject what
 * RFC 3629 forbids by the code point's value. */
static int
ref_utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000))
			return 0; /* overlong */
		if (cp >= 0xd800 && cp <= 0xdfff)
			return 0; /* surrogate */
		if (cp > 0x10ffff)
			return 0;
		i += len;
	}
	return 1;
}

static int
sp_ok(const uint8_t *p, size_t n)
{
	return sp_utf8_feed(SP_UTF8_ACCEPT, p, n) == SP_UTF8_ACCEPT;
}

/* Split at every point (and byte by byte) must agree with whole. */
static void
check_splits(const uint8_t *p, size_t n)
{
	int whole = sp_ok(p, n), ref = ref_utf8_ok(p, n);
	uint32_t s;

	CHECK(whole == ref, "len %zu first %02x: ours %d ref %d", n,
	      n ? p[0] : 0, whole, ref);
	for (size_t cut = 0; cut <= n; cut++) {
		s = sp_utf8_feed(SP_UTF8_ACCEPT, p, cut);
		s = sp_utf8_feed(s, p + cut, n - cut);
		CHECK((s == SP_UTF8_ACCEPT) == whole, "cut %zu of %zu", cut, n);
	}
	s = SP_UTF8_ACCEPT;
	for (size_t i = 0; i < n; i++)
		s = sp_utf8_feed(s, p + i, 1);
	CHECK((s == SP_UTF8_ACCEPT) == whole, "byte by byte, len %zu", n);
}

static void
test_utf8_exhaustive(void)
{
	/* Every 1- and 2-byte string, every 3-byte string with a lead byte
	 * from E0..EF, every 4-byte string led by F0..F5 with continuation
	 * bytes around the edges of the ranges. */
	static const uint8_t edge[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
					0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	uint8_t b[4];
	int ok = 0;

	for (unsigned a = 0; a < 256; a++) {
		b[0] = (uint8_t)a;
		check_splits(b, 1);
		for (unsigned c = 0; c < 256; c++) {
			b[1] = (uint8_t)c;
			ok += sp_ok(b, 2);
			CHECK(sp_ok(b, 2) == ref_utf8_ok(b, 2), "%02x %02x", a,
			      c);
		}
	}
	CHECK(ok > 0, "some 2-byte strings are valid");
	for (unsigned a = 0xe0; a <= 0xef; a++)
		for (unsigned c = 0; c < 256; c++)
			for (unsigned d = 0; d < 256; d++) {
				b[0] = (uint8_t)a, b[1] = (uint8_t)c;
				b[2] = (uint8_t)d;
				CHECK(sp_ok(b, 3) == ref_utf8_ok(b, 3),
				      "%02x %02x %02x", a, c, d);
			}
	for (unsigned a = 0xf0; a <= 0xf5; a++)
		for (unsigned c = 0; c < sizeof(edge); c++)
			for (unsigned d = 0; d < sizeof(edge); d++)
				for (unsigned f = 0; f < sizeof(edge); f++) {
					b[0] = (uint8_t)a, b[1] = edge[c];
					b[2] = edge[d], b[3] = edge[f];
					check_splits(b, 4);
				}
}

static void
test_utf8_random(void)
{
	/* Valid text built from random code points, then single bytes
	 * changed: both kinds, split everywhere. */
	uint8_t buf[64];
	uint64_t r = 0x9e3779b97f4a7c15ull;

	for (int round = 0; round < 3000; round++) {
		size_t n = 0;

		while (n + 4 <= sizeof(buf)) {
			uint32_t cp;

			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			cp = (uint32_t)(r % 0x110000);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 'x';
			if (r & 0x100000)
				cp &= 0x7f; /* plenty of ASCII too */
			if (cp < 0x80) {
				buf[n++] = (uint8_t)cp;
			} else if (cp < 0x800) {
				buf[n++] = (uint8_t)(0xc0 | cp >> 6);
				buf[n++] = (uint8_t)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				buf[n++] = (uint8_t)(0xe0 | cp >> 12);
				buf[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
				buf[n++] = (uint8_t)(0x80 | (cp & 0x3f));
			} else {
				buf[n++] = (uint8_t)(0xf0 | cp >> 18);
				buf[n++] = (uint8_t)(0x80 |
						     ((cp >> 12) & 0x3f));
				buf[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
				buf[n++] = (uint8_t)(0x80 | (cp & 0x3f));
			}
		}
		CHECK(sp_ok(buf, n), "valid text round %d", round);
		check_splits(buf, n);
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		buf[r % n] = (uint8_t)(r >> 32);
		check_splits(buf, n);
	}
}

/* SHA-1 (FIPS 180-4) and base64, written plainly, to check sp_ws_accept
 * against something other than mbedTLS. */
static uint32_t
rol(uint32_t x, int k)
{
	return x << k | x >> (32 - k);
}

static void
ref_sha1(const uint8_t *m, size_t n, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
			  0xc3d2e1f0 };
	uint8_t blk[64 * 3] = { 0 };
	size_t tot = ((n + 8) / 64 + 1) * 64;

	memcpy(blk, m, n);
	blk[n] = 0x80;
	for (int i = 0; i < 8; i++)
		blk[tot - 1 - i] = (uint8_t)((uint64_t)n * 8 >> (8 * i));
	for (size_t o = 0; o < tot; o += 64) {
		uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3],
				e = h[4];

		for (int t = 0; t < 16; t++)
			w[t] = (uint32_t)blk[o + 4 * t] << 24 |
			       (uint32_t)blk[o + 4 * t + 1] << 16 |
			       (uint32_t)blk[o + 4 * t + 2] << 8 |
			       blk[o + 4 * t + 3];
		for (int t = 16; t < 80; t++)
			w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16],
				   1);
		for (int t = 0; t < 80; t++) {
			uint32_t f, k, tmp;

			if (t < 20)
				f = (b & c) | (~b & d), k = 0x5a827999;
			else if (t < 40)
				f = b ^ c ^ d, k = 0x6ed9eba1;
			else if (t < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
			else
				f = b ^ c ^ d, k = 0xca62c1d6;
			tmp = rol(a, 5) + f + e + k + w[t];
			e = d, d = c, c = rol(b, 30), b = a, a = tmp;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void
ref_b64(const uint8_t *p, size_t n, char *out)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
		"wxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
			     (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
test_handshake(void)
{
	char key[SP_WS_KEY_LEN + 1], acc[SP_WS_ACCEPT_LEN + 1], ref[64];
	char cat[128];
	uint8_t dig[20];

	/* RFC 6455 1.3's worked example. */
	CHECK(sp_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, acc) == 0, "ok");
	CHECK(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "got %s", acc);
	for (uint64_t i = 0; i < 200; i++) {
		uint64_t a = i * 0x9e3779b97f4a7c15ull, b = ~a ^ (i << 7);
		uint8_t raw[16];

		sp_ws_key(a, b, key);
		CHECK(strlen(key) == SP_WS_KEY_LEN, "key length");
		for (int k = 0; k < 8; k++) {
			raw[k] = (uint8_t)(a >> (8 * k));
			raw[8 + k] = (uint8_t)(b >> (8 * k));
		}
		ref_b64(raw, 16, ref);
		CHECK(strcmp(key, ref) == 0, "key %s ref %s", key, ref);
		CHECK(sp_ws_accept(key, SP_WS_KEY_LEN, acc) == 0, "accept");
		snprintf(cat, sizeof(cat),
			 "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
		ref_sha1((const uint8_t *)cat, strlen(cat), dig);
		ref_b64(dig, 20, ref);
		CHECK(strcmp(acc, ref) == 0, "accept %s ref %s", acc, ref);
	}
	memset(cat, 'k', 65);
	CHECK(sp_ws_accept(cat, 65, acc) == -1, "a key over 64 bytes");
}

static void
test_close_codes(void)
{
	CHECK(sp_ws_close_code_ok(1000) && sp_ws_close_code_ok(1011) &&
		      sp_ws_close_code_ok(3000) && sp_ws_close_code_ok(4999),
	      "valid codes");
	CHECK(!sp_ws_close_code_ok(999) && !sp_ws_close_code_ok(1004) &&
		      !sp_ws_close_code_ok(1005) &&
		      !sp_ws_close_code_ok(1006) &&
		      !sp_ws_close_code_ok(1015) &&
		      !sp_ws_close_code_ok(2999) && !sp_ws_close_code_ok(5000),
	      "reserved or unassigned codes");
}

/* Frame headers against RFC 6455's own rules, case by case. */
static void
test_frame_header(void)
{
	static const struct {
		uint8_t b0, b1;
		int from_client, in_message;
		enum sp_ws_frame_err want;
	} b01[] = {
		{ 0x81, 0x05, 0, 0, SP_WS_FRAME_OK },       /* text, server */
		{ 0x81, 0x85, 1, 0, SP_WS_FRAME_OK },       /* text, client */
		{ 0x81, 0x85, 0, 0, SP_WS_FRAME_MASK },     /* masked server */
		{ 0x81, 0x05, 1, 0, SP_WS_FRAME_MASK },     /* bare client */
		{ 0xc1, 0x05, 0, 0, SP_WS_FRAME_RSV },      /* RSV1 */
		{ 0x91, 0x05, 0, 0, SP_WS_FRAME_RSV },      /* RSV3 */
		{ 0x83, 0x00, 0, 0, SP_WS_FRAME_OPCODE },   /* 3 */
		{ 0x87, 0x00, 0, 0, SP_WS_FRAME_OPCODE },   /* 7 */
		{ 0x8b, 0x00, 0, 0, SP_WS_FRAME_OPCODE },   /* 0xB */
		{ 0x8f, 0x00, 0, 0, SP_WS_FRAME_OPCODE },   /* 0xF */
		{ 0x88, 0x02, 0, 0, SP_WS_FRAME_OK },       /* close */
		{ 0x89, 0x7d, 0, 1, SP_WS_FRAME_OK },       /* ping 125, mid */
		{ 0x89, 0x7e, 0, 0, SP_WS_FRAME_CONTROL },  /* ping 126 */
		{ 0x09, 0x01, 0, 0, SP_WS_FRAME_CONTROL },  /* ping, no FIN */
		{ 0x80, 0x01, 0, 0, SP_WS_FRAME_FRAGMENT }, /* cont of none */
		{ 0x80, 0x01, 0, 1, SP_WS_FRAME_OK },       /* cont, mid */
		{ 0x02, 0x01, 0, 1, SP_WS_FRAME_FRAGMENT }, /* new inside */
		{ 0x02, 0x01, 0, 0, SP_WS_FRAME_OK },       /* first fragment */
	};
	static const struct {
		uint8_t h[10];
		uint64_t len;
		enum sp_ws_frame_err want;
	} len[] = {
		{ { 0x82, 0x7d }, 125, SP_WS_FRAME_OK },
		{ { 0x82, 0x7e, 0x00, 0x7e }, 126, SP_WS_FRAME_OK },
		{ { 0x82, 0x7e, 0x00, 0x7d }, 0, SP_WS_FRAME_LENGTH },
		{ { 0x82, 0x7e, 0xff, 0xff }, 65535, SP_WS_FRAME_OK },
		{ { 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0 },
		  65536,
		  SP_WS_FRAME_OK },
		{ { 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff },
		  0,
		  SP_WS_FRAME_LENGTH },
		{ { 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0 },
		  0,
		  SP_WS_FRAME_LENGTH },
		{ { 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff },
		  0x7fffffffffffffffull,
		  SP_WS_FRAME_OK },
	};

	for (size_t i = 0; i < sizeof(b01) / sizeof(b01[0]); i++)
		CHECK(sp_ws_frame_b01(b01[i].b0, b01[i].b1, b01[i].from_client,
				      b01[i].in_message) == b01[i].want,
		      "b01 case %zu", i);
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		uint64_t n = 0;

		CHECK(sp_ws_frame_len(len[i].h, &n) == len[i].want &&
			      (len[i].want != SP_WS_FRAME_OK ||
			       n == len[i].len),
		      "length case %zu: %llu", i, (unsigned long long)n);
	}
	CHECK(sp_ws_hdr_len(0x05) == 2 && sp_ws_hdr_len(0x85) == 6 &&
		      sp_ws_hdr_len(0x7e) == 4 && sp_ws_hdr_len(0xfe) == 8 &&
		      sp_ws_hdr_len(0x7f) == 10 && sp_ws_hdr_len(0xff) == 14,
	      "header lengths");
}

int
main(void)
{
	test_handshake();
	test_close_codes();
	test_frame_header();
	test_utf8_exhaustive();
	test_utf8_random();
	printf("test_ws: %d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
