/*
 * sp_cookie: a virtual user's cookie jar (RFC 6265, with the stricter
 * rules of RFC 6265bis noted below) over a fixed arena the caller gives.
 *
 * Pure: no allocation, no clock (the caller passes the wall clock, ms
 * since the epoch), no locale (ASCII case folding only), no engine. The
 * jar is a small struct; the cookies live in the arena as packed records
 * in creation order (a replaced cookie keeps its place, RFC 6265 5.3 step
 * 11), so one memmove on a store or removal is the whole bookkeeping: the
 * arena is small (1 KiB by default) and Set-Cookie is rare next to
 * requests. A record costs SP_COOKIE_REC_HDR bytes plus its name, value,
 * domain and path. The arena needs no alignment.
 *
 * What a cookie must be to be stored, and why it is refused otherwise
 * (enum sp_cookie_res):
 * - RFC 6265 5.2's parse: the part before the first ';' must hold '=' and
 *   a non-empty name after trimming SP/HTAB, else SP_COOKIE_ESYNTAX. As
 *   RFC 6265bis, a control character (%x00-08, %x0A-1F, %x7F) anywhere
 *   refuses the whole line: a CR, LF or NUL must never reach the Cookie
 *   header we send. Bytes 0x80-0xff are kept as they are.
 * - Domain (5.2.3, 5.3 steps 4-6): one leading '.' dropped, lower-cased;
 *   it must domain-match the request host (5.1.3; an IP literal host
 *   matches only itself), else SP_COOKIE_EDOMAIN. There is no public
 *   suffix list: in its place a Domain without an inner dot ("test") is
 *   refused unless it is the request host itself, so a cookie cannot be
 *   set for a whole top-level domain; "example.test" for
 *   "a.example.test" is accepted (as a browser would for any name that
 *   is not a public suffix).
 * - Secure (RFC 6265bis): a Secure cookie from a request that is not over
 *   TLS is refused, and so is a non-Secure cookie from such a request that
 *   would shadow a Secure one of the same name (bis "strict secure
 *   cookies"): SP_COOKIE_ESECURE. The "__Secure-" and "__Host-" name
 *   prefixes (ASCII case-insensitive) are enforced: SP_COOKIE_EPREFIX.
 * - Size: a record larger than the whole arena (or a part over 65535
 *   bytes) is SP_COOKIE_ETOOBIG and changes nothing.
 * Path: the attribute if it starts with '/', else the request's
 * default-path (5.1.4). Expires: 5.1.1's lenient cookie-date; Max-Age wins
 * over Expires whatever their order; the last valid one of each counts; an
 * attribute that does not parse is ignored, not the cookie. HttpOnly is
 * kept (nothing here is a non-HTTP API). SameSite and other attributes
 * are ignored: a virtual user makes no cross-site requests.
 *
 * A cookie that arrives already expired (Max-Age <= 0, a past Expires)
 * removes the cookie it would replace: SP_COOKIE_DELETED, or
 * SP_COOKIE_EXPIRED when there was none.
 *
 * Room: when the arena cannot hold a new cookie, the expired ones go
 * first, then the oldest by creation (RFC 6265 5.3 lets the agent evict;
 * it suggests the least recently used, we keep no access time so that
 * reading stays const), one at a time until it fits; the set then
 * returns SP_COOKIE_EVICTED so that the caller can count the loss. A
 * cookie that does not fit in the empty arena is refused instead.
 *
 * Pointers handed out (sp_cookie_get) point into the arena and stay valid
 * until the next sp_cookie_set, _purge, _clear or _init. Inputs must not
 * point into the arena.
 */
#ifndef SP_COOKIE_H
#define SP_COOKIE_H

#include <stdint.h>

/* Bytes of a record beyond its name, value, domain and path: the expiry
 * (8), four lengths (2 each) and the flags (1). */
#define SP_COOKIE_REC_HDR 17

struct sp_cookie_jar {
	uint8_t *arena;
	uint32_t cap;   /* arena bytes */
	uint32_t used;  /* bytes of records, from arena[0] */
	uint32_t count; /* records, expired or not */
};

/* What sp_cookie_set did: >= 0 the jar took it into account, < 0 it
 * refused the line and the jar is unchanged. */
enum sp_cookie_res {
	SP_COOKIE_STORED = 0, /* a new cookie */
	SP_COOKIE_REPLACED,   /* same name, domain and path: replaced */
	SP_COOKIE_DELETED,    /* arrived expired: removed its match */
	SP_COOKIE_EXPIRED,    /* arrived expired, nothing to remove */
	SP_COOKIE_EVICTED,    /* stored (or replaced), older cookies evicted */
	SP_COOKIE_ESYNTAX = -1, /* no '=', empty name, a control character */
	SP_COOKIE_EDOMAIN = -2, /* Domain does not domain-match the host */
	SP_COOKIE_ESECURE = -3, /* Secure over plain HTTP, or shadowing one */
	SP_COOKIE_EPREFIX = -4, /* __Secure- / __Host- rules not met */
	SP_COOKIE_ETOOBIG = -5, /* larger than the whole arena */
};

/* An empty jar over @arena (@cap bytes; any size, even 0). */
void sp_cookie_jar_init(struct sp_cookie_jar *j, void *arena, uint32_t cap);

/* Forget every cookie (a new session for the same virtual user). */
void sp_cookie_jar_clear(struct sp_cookie_jar *j);

/*
 * One Set-Cookie field value @v (@n bytes, whole, not NUL-terminated),
 * received for a request to @host (a name or an IP literal, IPv6 with or
 * without brackets; no port; any case) and @path (the request target's
 * path; a '?' or '#' and what follows are ignored; empty counts as "/"),
 * over TLS if @secure, at @now_ms. Returns an enum sp_cookie_res.
 */
int sp_cookie_set(struct sp_cookie_jar *j, const char *v, uint32_t n,
		  const char *host, uint32_t host_len, const char *path,
		  uint32_t path_len, int secure, uint64_t now_ms);

/*
 * The Cookie header's value for a request (same arguments as above):
 * "a=1; b=2" for the cookies that domain-match the host (or equal it,
 * host-only ones), path-match the path (5.1.4: /api matches /api/x, not
 * /apix), are not Secure unless @secure, and have not expired; longer
 * paths first, then earlier creation (5.4 step 2). Returns the bytes
 * written to @out, 0 when no cookie applies, or, when more than @cap are
 * needed, that number and nothing is written. No NUL is added.
 */
uint32_t sp_cookie_header(const struct sp_cookie_jar *j, const char *host,
			  uint32_t host_len, const char *path,
			  uint32_t path_len, int secure, uint64_t now_ms,
			  char *out, uint32_t cap);

/*
 * The value of the cookie named @name (exact bytes) that the request
 * described as above would send first (a capture's {cookie: NAME}):
 * 1 and *@val, *@len set (into the arena), or 0.
 */
int sp_cookie_get(const struct sp_cookie_jar *j, const char *name,
		  uint32_t name_len, const char *host, uint32_t host_len,
		  const char *path, uint32_t path_len, int secure,
		  uint64_t now_ms, const char **val, uint32_t *len);

/* Cookies held, including any that expired and have not been purged. */
static inline uint32_t
sp_cookie_count(const struct sp_cookie_jar *j)
{
	return j->count;
}

/* Drop the cookies expired at @now_ms; returns how many. */
uint32_t sp_cookie_purge(struct sp_cookie_jar *j, uint64_t now_ms);

/*
 * RFC 6265 5.1.1's cookie-date over @n bytes: RFC 1123, RFC 850 and
 * asctime dates and much else; two-digit years 70-99 are 19xx, 00-69
 * 20xx. 0 and *@ms (ms since the epoch; 0 for a date before 1970), or
 * -1 when it is not a date.
 */
int sp_cookie_date(const char *s, uint32_t n, uint64_t *ms);

#endif /* SP_COOKIE_H */
