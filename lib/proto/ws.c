/*
 * RFC 6455 helpers (sp_ws.h): handshake values through mbedTLS's SHA-1
 * and base64, and a UTF-8 checker that keeps its whole state in one word.
 */
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include "sp_ws.h"

void
sp_ws_key(uint64_t r0, uint64_t r1, char out[SP_WS_KEY_LEN + 1])
{
	uint8_t raw[16];
	size_t olen = 0;

	for (int i = 0; i < 8; i++) {
		raw[i] = (uint8_t)(r0 >> (8 * i));
		raw[8 + i] = (uint8_t)(r1 >> (8 * i));
	}
	mbedtls_base64_encode((unsigned char *)out, SP_WS_KEY_LEN + 1, &olen,
			      raw, sizeof(raw));
	out[SP_WS_KEY_LEN] = '\0';
}

int
sp_ws_accept(const char *key, size_t n, char out[SP_WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t buf[64 + sizeof(guid)], dig[20];
	size_t olen = 0;

	if (n > 64)
		return -1;
	memcpy(buf, key, n);
	memcpy(buf + n, guid, sizeof(guid) - 1);
	if (mbedtls_sha1_ret(buf, n + sizeof(guid) - 1, dig) != 0)
		return -1;
	if (mbedtls_base64_encode((unsigned char *)out, SP_WS_ACCEPT_LEN + 1,
				  &olen, dig, sizeof(dig)) != 0)
		return -1;
	out[SP_WS_ACCEPT_LEN] = '\0';
	return 0;
}

enum sp_ws_frame_err
sp_ws_frame_b01(uint8_t b0, uint8_t b1, int from_client, int in_message)
{
	uint8_t op = b0 & 0x0f;

	if (b0 & 0x70)
		return SP_WS_FRAME_RSV;
	if ((op > 0x2 && op < 0x8) || op > 0xa)
		return SP_WS_FRAME_OPCODE;
	if (!(b1 & 0x80) != !from_client)
		return SP_WS_FRAME_MASK;
	if (op >= 0x8 && (!(b0 & 0x80) || (b1 & 0x7f) > 125))
		return SP_WS_FRAME_CONTROL;
	if ((op == 0x0 && !in_message) ||
	    ((op == 0x1 || op == 0x2) && in_message))
		return SP_WS_FRAME_FRAGMENT;
	return SP_WS_FRAME_OK;
}

enum sp_ws_frame_err
sp_ws_frame_len(const uint8_t *hdr, uint64_t *len)
{
	uint8_t l7 = hdr[1] & 0x7f;
	uint64_t n = l7;

	if (l7 == 126) {
		n = (uint64_t)hdr[2] << 8 | hdr[3];
		if (n < 126)
			return SP_WS_FRAME_LENGTH;
	} else if (l7 == 127) {
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | hdr[2 + i];
		if (n < 65536 || (n >> 63) != 0)
			return SP_WS_FRAME_LENGTH;
	}
	*len = n;
	return SP_WS_FRAME_OK;
}

/*
 * The state packs what is still owed: the number of continuation bytes
 * left (bits 8..9) and the range the next one must fall in (its lowest
 * and highest allowed value, bits 16..23 and 24..31), which is where
 * overlong forms, surrogates and code points over U+10FFFF are caught:
 * only the byte after the lead byte has a range narrower than 80..BF.
 */
#define SP_U8_NEED(s) (((s) >> 8) & 3u)
#define SP_U8_LO(s) (((s) >> 16) & 0xffu)
#define SP_U8_HI(s) ((s) >> 24)
#define SP_U8_MAKE(need, lo, hi)                                               \
	(((uint32_t)(need) << 8) | ((uint32_t)(lo) << 16) |                    \
	 ((uint32_t)(hi) << 24) | 2u)

uint32_t
sp_utf8_feed(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && s != SP_UTF8_REJECT; i++) {
		unsigned c = p[i];

		if (s == SP_UTF8_ACCEPT) {
			/* Between characters, ASCII 8 bytes at a time: most
			 * text is ASCII, and byte by byte this loop was ~7
			 * instructions a byte of every text message. */
			while (n - i >= 8) {
				uint64_t w;

				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i == n)
				break;
			c = p[i];
			if (c < 0x80)
				continue;
			if (c >= 0xc2 && c <= 0xdf)
				s = SP_U8_MAKE(1, 0x80, 0xbf);
			else if (c == 0xe0)
				s = SP_U8_MAKE(2, 0xa0, 0xbf); /* overlong */
			else if (c == 0xed)
				s = SP_U8_MAKE(2, 0x80, 0x9f); /* surrogates */
			else if (c >= 0xe1 && c <= 0xef)
				s = SP_U8_MAKE(2, 0x80, 0xbf);
			else if (c == 0xf0)
				s = SP_U8_MAKE(3, 0x90, 0xbf); /* overlong */
			else if (c >= 0xf1 && c <= 0xf3)
				s = SP_U8_MAKE(3, 0x80, 0xbf);
			else if (c == 0xf4)
				s = SP_U8_MAKE(3, 0x80, 0x8f); /* > U+10FFFF */
			else
				s = SP_UTF8_REJECT;
			continue;
		}
		if (c < SP_U8_LO(s) || c > SP_U8_HI(s)) {
			s = SP_UTF8_REJECT;
			continue;
		}
		s = SP_U8_NEED(s) == 1 ?
			    SP_UTF8_ACCEPT :
			    SP_U8_MAKE(SP_U8_NEED(s) - 1, 0x80, 0xbf);
	}
	return s;
}
