/*
 * The part of a head memo both HTTP/1.1 parsers share (sp_http1.h for
 * responses, sp_http1_req.h for requests): the bytes of the last head
 * parsed whole, and how often the memo answered or missed. Each parser's
 * memo adds the state it was in right after that head.
 */
#ifndef SP_HTTP1_MEMO_H
#define SP_HTTP1_MEMO_H

#include <stdint.h>

#define SP_HTTP1_MEMO_MAX 256u

struct sp_http1_head_memo {
	uint8_t head[SP_HTTP1_MEMO_MAX];
	uint32_t len;    /* 0: empty */
	uint32_t misses; /* in a row */
	uint64_t hits;
};

#endif /* SP_HTTP1_MEMO_H */
