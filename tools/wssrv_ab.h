/*
 * sp-wssrv's /ab/CASE scripts: the server's half of the client-side cases
 * of the Autobahn|Testsuite, written anew from their descriptions (the
 * case numbers are Autobahn's; docs/ws-conformance.md has the table and
 * what the client must do in each). Included by sp-wssrv.c only.
 *
 * A script is a list of steps played right after the 101:
 *   AB_FRAME  one frame: first header byte B0 (FIN, RSV, opcode, so any
 *             misdeed), the payload's length in the shortest form,
 *             unmasked, then the payload
 *   AB_RAW    bytes as they are (a frame cut by hand across steps)
 *   AB_WAIT   a pause of N ms; the script stops here if the client has
 *             closed meanwhile (a client that fails fast never gets the
 *             rest)
 *   AB_FILL   a data message (B0's opcode) of N bytes, the pattern P
 *             repeated, in fragments of FRAG bytes (0: one frame); REP
 *             such messages (0: one)
 *   AB_FRAG1  a text message P in fragments of one byte each
 * A case's chop says how its bytes go out: all at once, frame by frame, or
 * in pieces of N bytes, each write 1 ms after the last (one TCP segment
 * each, the server setting TCP_NODELAY).
 *
 * The UTF-8 cases 6.5.1-6.23.7 (Markus Kuhn's test sequences as Autobahn
 * groups them) are the table ab_utf8 below: one text frame each, or with
 * the path's suffix "-f" the same payload in one-byte fragments.
 */
#ifndef WSSRV_AB_H
#define WSSRV_AB_H

enum { AB_FRAME, AB_RAW, AB_WAIT, AB_FILL, AB_FRAG1 };

#define AB_CHOP_NONE 0
#define AB_CHOP_FRAME (-1)

struct ab_step {
	uint8_t kind;
	uint8_t b0;
	uint32_t n;    /* payload bytes; AB_WAIT: ms */
	const char *p; /* payload, or AB_FILL's pattern */
	uint32_t frag; /* AB_FILL: fragment size, 0: one frame */
	uint32_t rep;  /* AB_FILL: messages, 0: one */
};

struct ab_case {
	const char *name;
	int chop; /* AB_CHOP_NONE, AB_CHOP_FRAME, or bytes per write */
	const struct ab_step *st;
	unsigned nst;
};

#define F(b0, s) { AB_FRAME, (b0), sizeof(s) - 1, (s), 0, 0 }
#define RAW(s) { AB_RAW, 0, sizeof(s) - 1, (s), 0, 0 }
#define W(ms) { AB_WAIT, 0, (ms), NULL, 0, 0 }
#define FILL(b0, n, pat, frag, rep) { AB_FILL, (b0), (n), (pat), (frag), (rep) }
#define FRAG1(s) { AB_FRAG1, 0x01, sizeof(s) - 1, (s), 0, 0 }
/* The marker that ends a script whose effect (pongs) has no message of
 * its own: the client takes it with an expect, then answers "ok". */
#define DONE F(0x81, "done")
#define CLOSE1000 F(0x88, "\x03\xe8")
#define AB_STEPS(...) ((const struct ab_step[]){ __VA_ARGS__ })
#define CASE(name, chop, ...)                                       \
	{ name, chop, AB_STEPS(__VA_ARGS__),                        \
	  sizeof(AB_STEPS(__VA_ARGS__)) / sizeof(struct ab_step) }

#define HW "Hello, world!"
#define BIN8 "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
#define ROP "reserved opcode payload"
#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
/* 6.3.1: kosme, a lone surrogate (U+D800), "edited". */
#define P631 KOSME "\xed\xa0\x80" "edited"
#define UTF8_HELLO                                                     \
	"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1" \
	"-UTF-8!!"
#define PAT9 "BAsd7&jh23"
#define KIB (1024u)
#define MIB (1024u * 1024u)
#define STARS10 "**********"
#define STARS120                                                      \
	STARS10 STARS10 STARS10 STARS10 STARS10 STARS10 STARS10 STARS10 \
		STARS10 STARS10 STARS10 STARS10

#define PING10(chop, name)                                            \
	CASE(name, chop, F(0x89, "payload-0"), F(0x89, "payload-1"),  \
	     F(0x89, "payload-2"), F(0x89, "payload-3"),              \
	     F(0x89, "payload-4"), F(0x89, "payload-5"),              \
	     F(0x89, "payload-6"), F(0x89, "payload-7"),              \
	     F(0x89, "payload-8"), F(0x89, "payload-9"), DONE)
#define FRAG_PING(name, chop)                                            \
	CASE(name, chop, F(0x01, "fragment1"), F(0x89, "ping payload"), \
	     F(0x80, "fragment2"))
#define FRAG5(name, chop)                                                \
	CASE(name, chop, F(0x01, "fragment1"), F(0x00, "fragment2"),    \
	     F(0x89, "pongme 1!"), W(200), F(0x00, "fragment3"),         \
	     F(0x00, "fragment4"), F(0x89, "pongme 2!"), W(200),         \
	     F(0x80, "fragment5"))

// clang-format off
static const struct ab_case ab_cases[] = {
	/* 1 Framing: text and binary around each length form. */
	CASE("1.1.1", 0, F(0x81, "")),
	CASE("1.1.2", 0, FILL(0x81, 125, "*", 0, 0)),
	CASE("1.1.3", 0, FILL(0x81, 126, "*", 0, 0)),
	CASE("1.1.4", 0, FILL(0x81, 127, "*", 0, 0)),
	CASE("1.1.5", 0, FILL(0x81, 128, "*", 0, 0)),
	CASE("1.1.6", 0, FILL(0x81, 65535, "*", 0, 0)),
	CASE("1.1.7", 0, FILL(0x81, 65536, "*", 0, 0)),
	CASE("1.1.8", 997, FILL(0x81, 65536, "*", 0, 0)),
	CASE("1.2.1", 0, F(0x82, "")),
	CASE("1.2.2", 0, FILL(0x82, 125, "\xfe", 0, 0)),
	CASE("1.2.3", 0, FILL(0x82, 126, "\xfe", 0, 0)),
	CASE("1.2.4", 0, FILL(0x82, 127, "\xfe", 0, 0)),
	CASE("1.2.5", 0, FILL(0x82, 128, "\xfe", 0, 0)),
	CASE("1.2.6", 0, FILL(0x82, 65535, "\xfe", 0, 0)),
	CASE("1.2.7", 0, FILL(0x82, 65536, "\xfe", 0, 0)),
	CASE("1.2.8", 997, FILL(0x82, 65536, "\xfe", 0, 0)),
	/* 2 Pings and pongs. */
	CASE("2.1", 0, F(0x89, ""), DONE),
	CASE("2.2", 0, F(0x89, HW), DONE),
	CASE("2.3", 0, F(0x89, BIN8), DONE),
	CASE("2.4", 0, FILL(0x89, 125, "\xfe", 0, 0), DONE),
	CASE("2.5", 0, FILL(0x89, 126, "\xfe", 0, 0), DONE),
	CASE("2.6", 1, FILL(0x89, 125, "\xfe", 0, 0), DONE),
	CASE("2.7", 0, F(0x8a, ""), DONE),
	CASE("2.8", 0, F(0x8a, "unsolicited pong payload"), DONE),
	CASE("2.9", 0, F(0x8a, "unsolicited pong payload"),
	     F(0x89, "ping payload"), DONE),
	PING10(0, "2.10"),
	PING10(1, "2.11"),
	/* 3 Reserved bits (RSV field N: N << 4 in the first byte). */
	CASE("3.1", 0, F(0x91, HW)),
	CASE("3.2", 0, F(0x81, HW), F(0xa1, HW), F(0x89, HW)),
	CASE("3.3", AB_CHOP_FRAME, F(0x81, HW), F(0xb1, HW), F(0x89, HW)),
	CASE("3.4", 1, F(0x81, HW), F(0xc1, HW), F(0x89, HW)),
	CASE("3.5", 0, F(0xd2, BIN8)),
	CASE("3.6", 0, F(0xe9, HW)),
	CASE("3.7", 0, F(0xf8, "\x03\xe8")),
	/* 4 Reserved opcodes: data 3-7, control 11-15. */
	CASE("4.1.1", 0, F(0x83, "")),
	CASE("4.1.2", 0, F(0x84, ROP)),
	CASE("4.1.3", 0, F(0x81, HW), F(0x85, ""), F(0x89, HW)),
	CASE("4.1.4", 0, F(0x81, HW), F(0x86, ROP), F(0x89, HW)),
	CASE("4.1.5", 0, F(0x81, HW), F(0x87, ROP), F(0x89, HW)),
	CASE("4.2.1", 0, F(0x8b, "")),
	CASE("4.2.2", 0, F(0x8c, ROP)),
	CASE("4.2.3", 0, F(0x81, HW), F(0x8d, ""), F(0x89, HW)),
	CASE("4.2.4", 0, F(0x81, HW), F(0x8e, ROP), F(0x89, HW)),
	CASE("4.2.5", 0, F(0x81, HW), F(0x8f, ROP), F(0x89, HW)),
	/* 5 Fragmentation. */
	CASE("5.1", 0, F(0x09, "fragment1"), F(0x80, "fragment2")),
	CASE("5.2", 0, F(0x0a, "fragment1"), F(0x80, "fragment2")),
	CASE("5.3", 0, F(0x01, "fragment1"), F(0x80, "fragment2")),
	CASE("5.4", AB_CHOP_FRAME, F(0x01, "fragment1"),
	     F(0x80, "fragment2")),
	CASE("5.5", 1, F(0x01, "fragment1"), F(0x80, "fragment2")),
	FRAG_PING("5.6", 0),
	FRAG_PING("5.7", AB_CHOP_FRAME),
	FRAG_PING("5.8", 1),
	CASE("5.9", 0, F(0x80, "non-continuation payload"), F(0x81, HW)),
	CASE("5.10", AB_CHOP_FRAME, F(0x80, "non-continuation payload"),
	     F(0x81, HW)),
	CASE("5.11", 1, F(0x80, "non-continuation payload"), F(0x81, HW)),
	CASE("5.12", 0, F(0x00, "non-continuation payload"), F(0x81, HW)),
	CASE("5.13", AB_CHOP_FRAME, F(0x00, "non-continuation payload"),
	     F(0x81, HW)),
	CASE("5.14", 1, F(0x00, "non-continuation payload"), F(0x81, HW)),
	CASE("5.15", 0, F(0x01, "fragment1"), F(0x80, "fragment2"),
	     F(0x00, "fragment3"), F(0x80, "fragment4")),
	CASE("5.16", 0, F(0x00, "fragment1"), F(0x01, "fragment2"),
	     F(0x80, "fragment3"), F(0x00, "fragment1"),
	     F(0x01, "fragment2"), F(0x80, "fragment3")),
	CASE("5.17", 0, F(0x80, "fragment1"), F(0x01, "fragment2"),
	     F(0x80, "fragment3"), F(0x80, "fragment1"),
	     F(0x01, "fragment2"), F(0x80, "fragment3")),
	CASE("5.18", 0, F(0x01, "fragment1"), F(0x81, "fragment2")),
	FRAG5("5.19", 0),
	FRAG5("5.20", AB_CHOP_FRAME),
	/* 6.1-6.4 UTF-8: empty messages, fragment boundaries, fail fast. */
	CASE("6.1.1", 0, F(0x81, "")),
	CASE("6.1.2", 0, F(0x01, ""), F(0x00, ""), F(0x80, "")),
	CASE("6.1.3", 0, F(0x01, ""), F(0x00, "middle frame payload"),
	     F(0x80, "")),
	CASE("6.2.1", 0, F(0x81, UTF8_HELLO)),
	CASE("6.2.2", 0, F(0x01, "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6"),
	     F(0x80, "\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!")),
	CASE("6.2.3", 0, FRAG1(UTF8_HELLO)),
	CASE("6.2.4", 0, FRAG1(KOSME)),
	CASE("6.3.1", 0, F(0x81, P631)),
	CASE("6.3.2", 0, FRAG1(P631)),
	/* The bad byte comes in the second piece, 500 ms after the first;
	 * a client that fails fast has closed before the third. */
	CASE("6.4.1", 0, F(0x01, KOSME "\xed"), W(500), F(0x00, "\xa0"),
	     W(500), F(0x80, "\x80" "edited")),
	CASE("6.4.2", 0, F(0x01, KOSME), W(500), F(0x00, "\xf4\x90\x80\x80"),
	     W(500), F(0x80, "edited")),
	/* One frame (21 bytes of payload) cut in three writes. */
	CASE("6.4.3", 0, RAW("\x81\x15" KOSME), W(500),
	     RAW("\xf4\x90\x80\x80"), W(500), RAW("edited")),
	CASE("6.4.4", 0, RAW("\x81\x15" KOSME "\xf4"), W(500), RAW("\x90"),
	     W(500), RAW("\x80\x80" "edited")),
	/* 7 Close handling. */
	CASE("7.1.1", 0, F(0x81, "Hello World!"), CLOSE1000),
	CASE("7.1.2", 0, CLOSE1000, CLOSE1000),
	CASE("7.1.3", 0, CLOSE1000, F(0x89, HW)),
	CASE("7.1.4", 0, CLOSE1000, F(0x81, HW)),
	CASE("7.1.5", 0, F(0x01, "fragment1"), CLOSE1000,
	     F(0x80, "fragment2")),
	CASE("7.1.6", 0, FILL(0x81, 256 * KIB, PAT9, 0, 0), CLOSE1000,
	     F(0x89, HW)),
	CASE("7.3.1", 0, F(0x88, "")),
	CASE("7.3.2", 0, F(0x88, "\x03")),
	CASE("7.3.3", 0, CLOSE1000),
	CASE("7.3.4", 0, F(0x88, "\x03\xe8" "Hello World!")),
	CASE("7.3.5", 0, F(0x88, "\x03\xe8" STARS120 "***")),
	CASE("7.3.6", 0, F(0x88, "\x03\xe8" STARS120 "****")),
	CASE("7.5.1", 0, F(0x88, "\x03\xe8" P631)),
	/* 7.7.x, 7.9.x, 7.13.x: close codes, from ab_close_codes. */
	/* 9 Limits: large messages, many fragments, many messages. */
	CASE("9.1.1", 0, FILL(0x81, 64 * KIB, PAT9, 0, 0)),
	CASE("9.1.2", 0, FILL(0x81, 256 * KIB, PAT9, 0, 0)),
	CASE("9.1.3", 0, FILL(0x81, 1 * MIB, PAT9, 0, 0)),
	CASE("9.1.4", 0, FILL(0x81, 4 * MIB, PAT9, 0, 0)),
	CASE("9.1.5", 0, FILL(0x81, 8 * MIB, PAT9, 0, 0)),
	CASE("9.1.6", 0, FILL(0x81, 16 * MIB, PAT9, 0, 0)),
	CASE("9.2.1", 0, FILL(0x82, 64 * KIB, "\xfe", 0, 0)),
	CASE("9.2.2", 0, FILL(0x82, 256 * KIB, "\xfe", 0, 0)),
	CASE("9.2.3", 0, FILL(0x82, 1 * MIB, "\xfe", 0, 0)),
	CASE("9.2.4", 0, FILL(0x82, 4 * MIB, "\xfe", 0, 0)),
	CASE("9.2.5", 0, FILL(0x82, 8 * MIB, "\xfe", 0, 0)),
	CASE("9.2.6", 0, FILL(0x82, 16 * MIB, "\xfe", 0, 0)),
	CASE("9.3.1", 0, FILL(0x81, 4 * MIB, PAT9, 64, 0)),
	CASE("9.3.2", 0, FILL(0x81, 4 * MIB, PAT9, 256, 0)),
	CASE("9.3.3", 0, FILL(0x81, 4 * MIB, PAT9, 1 * KIB, 0)),
	CASE("9.3.4", 0, FILL(0x81, 4 * MIB, PAT9, 4 * KIB, 0)),
	CASE("9.3.5", 0, FILL(0x81, 4 * MIB, PAT9, 16 * KIB, 0)),
	CASE("9.3.6", 0, FILL(0x81, 4 * MIB, PAT9, 64 * KIB, 0)),
	CASE("9.3.7", 0, FILL(0x81, 4 * MIB, PAT9, 256 * KIB, 0)),
	CASE("9.3.8", 0, FILL(0x81, 4 * MIB, PAT9, 1 * MIB, 0)),
	CASE("9.3.9", 0, FILL(0x81, 4 * MIB, PAT9, 4 * MIB, 0)),
	CASE("9.4.1", 0, FILL(0x82, 4 * MIB, "\xfe", 64, 0)),
	CASE("9.4.2", 0, FILL(0x82, 4 * MIB, "\xfe", 256, 0)),
	CASE("9.4.3", 0, FILL(0x82, 4 * MIB, "\xfe", 1 * KIB, 0)),
	CASE("9.4.4", 0, FILL(0x82, 4 * MIB, "\xfe", 4 * KIB, 0)),
	CASE("9.4.5", 0, FILL(0x82, 4 * MIB, "\xfe", 16 * KIB, 0)),
	CASE("9.4.6", 0, FILL(0x82, 4 * MIB, "\xfe", 64 * KIB, 0)),
	CASE("9.4.7", 0, FILL(0x82, 4 * MIB, "\xfe", 256 * KIB, 0)),
	CASE("9.4.8", 0, FILL(0x82, 4 * MIB, "\xfe", 1 * MIB, 0)),
	CASE("9.4.9", 0, FILL(0x82, 4 * MIB, "\xfe", 4 * MIB, 0)),
	CASE("9.7.1", 0, FILL(0x81, 0, "*", 0, 1000)),
	CASE("9.7.2", 0, FILL(0x81, 16, "*", 0, 1000)),
	CASE("9.7.3", 0, FILL(0x81, 64, "*", 0, 1000)),
	CASE("9.7.4", 0, FILL(0x81, 256, "*", 0, 1000)),
	CASE("9.7.5", 0, FILL(0x81, 1 * KIB, "*", 0, 1000)),
	CASE("9.7.6", 0, FILL(0x81, 4 * KIB, "*", 0, 1000)),
	CASE("9.8.1", 0, FILL(0x82, 0, "\xfe", 0, 1000)),
	CASE("9.8.2", 0, FILL(0x82, 16, "\xfe", 0, 1000)),
	CASE("9.8.3", 0, FILL(0x82, 64, "\xfe", 0, 1000)),
	CASE("9.8.4", 0, FILL(0x82, 256, "\xfe", 0, 1000)),
	CASE("9.8.5", 0, FILL(0x82, 1 * KIB, "\xfe", 0, 1000)),
	CASE("9.8.6", 0, FILL(0x82, 4 * KIB, "\xfe", 0, 1000)),
};

/* 7.7.N: valid codes (the client echoes them); 7.9.N: codes that must
 * not be on the wire; 7.13.N: codes outside the ranges RFC 6455 defines
 * (undefined behaviour there; ours is a protocol error). */
static const struct {
	const char *group;
	unsigned codes[16];
	unsigned n;
} ab_close_codes[] = {
	{ "7.7.", { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
		    3000, 3999, 4000, 4999 }, 13 },
	{ "7.9.", { 0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999 }, 9 },
	{ "7.13.", { 5000, 65535 }, 2 },
};

/* 6.5-6.23: Autobahn's groups of Markus Kuhn's UTF-8 test sequences, in
 * its order; 6.G.N is group G's Nth. A NULL entry is made by code
 * (ab_utf8_gen). */
struct ab_seq {
	const char *p;
	unsigned n;
};
#define S(s) { (s), sizeof(s) - 1 }
#define GEN { NULL, 0 }
static const struct ab_seq ab_utf8_g[19][34] = {
	/* 6.5 some valid UTF-8 */
	{ S("hello\x24world"), S("hello\xc2\xa2world"),
	  S("hello\xe2\x82\xacworld"), S("hello\xf0\xa4\xad\xa2world"),
	  S(KOSME) },
	/* 6.6 every prefix of KOSME: made by code */
	{ GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN },
	/* 6.7 first possible sequence of each length */
	{ S("\x00"), S("\xc2\x80"), S("\xe0\xa0\x80"),
	  S("\xf0\x90\x80\x80") },
	/* 6.8 first possible of length 5 and 6 (beyond U+10FFFF) */
	{ S("\xf8\x88\x80\x80\x80"), S("\xfc\x84\x80\x80\x80\x80") },
	/* 6.9 last possible of each length */
	{ S("\x7f"), S("\xdf\xbf"), S("\xef\xbf\xbf"), S("\xf4\x8f\xbf\xbf") },
	/* 6.10 last possible of length 4, 5 and 6 (beyond U+10FFFF) */
	{ S("\xf7\xbf\xbf\xbf"), S("\xfb\xbf\xbf\xbf\xbf"),
	  S("\xfd\xbf\xbf\xbf\xbf\xbf") },
	/* 6.11 other boundary conditions */
	{ S("\xed\x9f\xbf"), S("\xee\x80\x80"), S("\xef\xbf\xbd"),
	  S("\xf4\x8f\xbf\xbf"), S("\xf4\x90\x80\x80") },
	/* 6.12 unexpected continuation bytes (the 8th made by code) */
	{ S("\x80"), S("\xbf"), S("\x80\xbf"), S("\x80\xbf\x80"),
	  S("\x80\xbf\x80\xbf"), S("\x80\xbf\x80\xbf\x80"),
	  S("\x80\xbf\x80\xbf\x80\xbf"), GEN },
	/* 6.13 lonely start bytes, each followed by a space: by code */
	{ GEN, GEN, GEN, GEN, GEN },
	/* 6.14 sequences with their last continuation byte missing */
	{ S("\xc0"), S("\xe0\x80"), S("\xf0\x80\x80"), S("\xf8\x80\x80\x80"),
	  S("\xfc\x80\x80\x80\x80"), S("\xdf"), S("\xef\xbf"),
	  S("\xf7\xbf\xbf"), S("\xfb\xbf\xbf\xbf"), S("\xfd\xbf\xbf\xbf\xbf") },
	/* 6.15 the ten above concatenated */
	{ S("\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"
	    "\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf") },
	/* 6.16 impossible bytes */
	{ S("\xfe"), S("\xff"), S("\xfe\xfe\xff\xff") },
	/* 6.17 overlong ASCII '/' */
	{ S("\xc0\xaf"), S("\xe0\x80\xaf"), S("\xf0\x80\x80\xaf"),
	  S("\xf8\x80\x80\x80\xaf"), S("\xfc\x80\x80\x80\x80\xaf") },
	/* 6.18 maximum overlong sequences */
	{ S("\xc1\xbf"), S("\xe0\x9f\xbf"), S("\xf0\x8f\xbf\xbf"),
	  S("\xf8\x87\xbf\xbf\xbf"), S("\xfc\x83\xbf\xbf\xbf\xbf") },
	/* 6.19 overlong NUL */
	{ S("\xc0\x80"), S("\xe0\x80\x80"), S("\xf0\x80\x80\x80"),
	  S("\xf8\x80\x80\x80\x80"), S("\xfc\x80\x80\x80\x80\x80") },
	/* 6.20 single UTF-16 surrogates */
	{ S("\xed\xa0\x80"), S("\xed\xad\xbf"), S("\xed\xae\x80"),
	  S("\xed\xaf\xbf"), S("\xed\xb0\x80"), S("\xed\xbe\x80"),
	  S("\xed\xbf\xbf") },
	/* 6.21 paired UTF-16 surrogates */
	{ S("\xed\xa0\x80\xed\xb0\x80"), S("\xed\xa0\x80\xed\xbf\xbf"),
	  S("\xed\xad\xbf\xed\xb0\x80"), S("\xed\xad\xbf\xed\xbf\xbf"),
	  S("\xed\xae\x80\xed\xb0\x80"), S("\xed\xae\x80\xed\xbf\xbf"),
	  S("\xed\xaf\xbf\xed\xb0\x80"), S("\xed\xaf\xbf\xed\xbf\xbf") },
	/* 6.22 non-characters (valid UTF-8): by code, 34 of them */
	{ GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN,
	  GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN,
	  GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN, GEN },
	/* 6.23 Unicode specials U+FFF9-U+FFFF (valid) */
	{ S("\xef\xbf\xb9"), S("\xef\xbf\xba"), S("\xef\xbf\xbb"),
	  S("\xef\xbf\xbc"), S("\xef\xbf\xbd"), S("\xef\xbf\xbe"),
	  S("\xef\xbf\xbf") },
};
#undef S
#undef GEN
/* Entries per group (the array's rows are padded). */
static const unsigned ab_utf8_n[19] = { 5, 11, 4, 2, 4, 3, 5, 8, 5, 10,
					 1, 3, 5, 5, 5, 7, 8, 34, 7 };
// clang-format on

/*
 * The sequences made by code, into @buf (64 bytes at least); returns the
 * length, or -1 for no such case. @g is the group's index (6.5 is 0),
 * @i the case's (6.G.1 is 0).
 */
static int
ab_utf8_gen(unsigned g, unsigned i, uint8_t *buf)
{
	static const uint8_t lonely[5][2] = { { 0xc0, 0xdf }, { 0xe0, 0xef },
					      { 0xf0, 0xf7 }, { 0xf8, 0xfb },
					      { 0xfc, 0xfd } };
	static const char kosme[] = KOSME;
	unsigned k = 0;

	switch (g) {
	case 1: /* 6.6: KOSME's first i + 1 bytes */
		memcpy(buf, kosme, i + 1);
		return (int)i + 1;
	case 7: /* 6.12.8: every continuation byte 0x80-0xbe */
		for (unsigned b = 0x80; b < 0xbf; b++)
			buf[k++] = (uint8_t)b;
		return (int)k;
	case 8: /* 6.13: each start byte of a range, then a space */
		for (unsigned b = lonely[i][0]; b < lonely[i][1]; b++) {
			buf[k++] = (uint8_t)b;
			buf[k++] = ' ';
		}
		return (int)k;
	case 17: { /* 6.22 */
		static const uint8_t z1[5] = { 0xf0, 0xf1, 0xf2, 0xf3, 0xf4 };
		static const uint8_t z2[4] = { 0x8f, 0x9f, 0xaf, 0xbf };
		unsigned n = 0;

		if (i < 2) {
			buf[0] = 0xef;
			buf[1] = 0xbf;
			buf[2] = (uint8_t)(0xbe + i);
			return 3;
		}
		/* F[0-4] [89AB]F BF [BE-BF]: not above U+10FFFF (F4 with
		 * 8F only), not overlong (F0 8F). */
		for (unsigned a = 0; a < 5; a++)
			for (unsigned b = 0; b < 4; b++)
				for (unsigned c = 0; c < 2; c++) {
					if ((a == 4 && b != 0) ||
					    (a == 0 && b == 0))
						continue;
					if (n++ != i - 2)
						continue;
					buf[0] = z1[a];
					buf[1] = z2[b];
					buf[2] = 0xbf;
					buf[3] = (uint8_t)(0xbe + c);
					return 4;
				}
		return -1;
	}
	default:
		return -1;
	}
}

#undef F
#undef RAW
#undef W
#undef FILL
#undef FRAG1
#undef DONE
#undef CLOSE1000
#undef CASE
#endif /* WSSRV_AB_H */
