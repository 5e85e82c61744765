/*
 * sp_ws: the pieces of RFC 6455 that both ends need and wslay's frame API
 * leaves to its user: the opening handshake's key and accept values, the
 * UTF-8 check of text messages (streamed, in any split) and which close
 * codes may appear on the wire. Shared by the WebSocket client (vu_ws.c),
 * `stampede serve --ws` and the test server (tools/); no allocation.
 */
#ifndef SP_WS_H
#define SP_WS_H

#include <stddef.h>
#include <stdint.h>

#define SP_WS_KEY_LEN 24    /* base64 of 16 bytes */
#define SP_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* Sec-WebSocket-Key from 16 random bytes (two draws): @out gets
 * SP_WS_KEY_LEN characters and a NUL. */
void sp_ws_key(uint64_t r0, uint64_t r1, char out[SP_WS_KEY_LEN + 1]);

/* Sec-WebSocket-Accept for the key @key (@n bytes, as sent): base64 of
 * the SHA-1 of the key and RFC 6455's GUID. @out gets SP_WS_ACCEPT_LEN
 * characters and a NUL. 0, or -1 if the key is over 64 bytes. */
int sp_ws_accept(const char *key, size_t n, char out[SP_WS_ACCEPT_LEN + 1]);

/*
 * UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing
 * over U+10FFFF) of a message that arrives in pieces. Start at
 * SP_UTF8_ACCEPT; feed each piece; the message is valid when the state is
 * SP_UTF8_ACCEPT after its last piece. SP_UTF8_REJECT is final, and is
 * reached at the first byte that cannot start or continue a valid
 * sequence, so a fragmented message fails fast (RFC 6455 8.1).
 */
#define SP_UTF8_ACCEPT 0u
#define SP_UTF8_REJECT 1u
uint32_t sp_utf8_feed(uint32_t state, const uint8_t *p, size_t n);

/*
 * A frame's header (RFC 6455 5.2), judged as both ends must before
 * wslay sees its payload (wslay's frame API reads what it is given).
 * Its length in bytes (2 to 14) is known from the second byte.
 */
static inline uint8_t
sp_ws_hdr_len(uint8_t b1)
{
	uint8_t l7 = b1 & 0x7f;

	return (uint8_t)(2 +
			 (l7 == 126 ? 2 :
			  l7 == 127 ? 8 :
				      0) +
			 (b1 & 0x80 ? 4 : 0));
}

/* What is wrong with a header, one kind each. */
enum sp_ws_frame_err {
	SP_WS_FRAME_OK = 0,
	SP_WS_FRAME_RSV,      /* a reserved bit (no extension negotiated) */
	SP_WS_FRAME_OPCODE,   /* a reserved opcode */
	SP_WS_FRAME_MASK,     /* masked from a server, or not from a client
			       * (5.1) */
	SP_WS_FRAME_CONTROL,  /* a control frame fragmented or over 125
			       * bytes (5.5) */
	SP_WS_FRAME_FRAGMENT, /* a continuation with no message begun, or a
			       * new message inside one (5.4) */
	SP_WS_FRAME_LENGTH,   /* a length not in its shortest form, or of
			       * 64 bits (5.2) */
};

/* The checks the first two bytes allow, in the order above: a frame
 * from a client (@from_client) must be masked, one from a server not;
 * @in_message: a fragmented message is under way. */
enum sp_ws_frame_err sp_ws_frame_b01(uint8_t b0, uint8_t b1, int from_client,
				     int in_message);
/* The whole header's payload length into *@len: SP_WS_FRAME_OK, or
 * SP_WS_FRAME_LENGTH. */
enum sp_ws_frame_err sp_ws_frame_len(const uint8_t *hdr, uint64_t *len);

/* Whether close code @code may be sent in a close frame (RFC 6455 7.4):
 * 1000-1003, 1007-1014, 3000-4999. 1004, 1005, 1006 and 1015 are reserved
 * and must not be on the wire; a close frame that carries one is a
 * protocol error. */
static inline int
sp_ws_close_code_ok(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

#endif /* SP_WS_H */
