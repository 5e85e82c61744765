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
