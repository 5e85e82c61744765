/*
 * Unit test for sp_cookie: RFC 6265's parsing, storage and Cookie header
 * rules case by case (attribute names in any case, Max-Age against
 * Expires, every cookie-date form, domain- and path-match, replacement
 * keeping creation order, deletion), RFC 6265bis's Secure rules, and the
 * fixed arena: a full jar evicts expired then oldest cookies, an arena of
 * a few bytes stores nothing and says so, nothing is written past the
 * arena or past the caller's header buffer, and every byte value in a
 * name or a value is either stored as it came or refused as a control
 * character. Host names are under .test; the one IPv4 literal is in
 * 198.18.0.0/15.
 */
#include <stdint.h>
#include <string.h>

#include "sp_check.h"
#include "sp_cookie.h"

#define NOW 1700000000000ull /* 2023-11-14, ms */

enum { ARENA = 1024, GUARD = 64 };

static uint8_t arena[ARENA + GUARD];
static struct sp_cookie_jar jar;

static void
fresh(uint32_t cap)
{
	memset(arena, 0xa5, sizeof(arena));
	sp_cookie_jar_init(&jar, arena, cap);
}

static int
guard_ok(uint32_t cap)
{
	for (uint32_t i = cap; i < sizeof(arena); i++)
		if (arena[i] != 0xa5)
			return 0;
	return 1;
}

/* Set over http(s)://HOST PATH at @now. */
static int
set_at(const char *v, const char *host, const char *path, int secure,
       uint64_t now)
{
	return sp_cookie_set(&jar, v, (uint32_t)strlen(v), host,
			     (uint32_t)strlen(host), path,
			     (uint32_t)strlen(path), secure, now);
}

static int
set(const char *v, const char *host, const char *path)
{
	return set_at(v, host, path, 0, NOW);
}

static char hdr[2048];

/* The Cookie header as a NUL-terminated string ("" when none). */
static const char *
header_at(const char *host, const char *path, int secure, uint64_t now)
{
	uint32_t n = sp_cookie_header(&jar, host, (uint32_t)strlen(host), path,
				      (uint32_t)strlen(path), secure, now, hdr,
				      sizeof(hdr) - 1);

	if (n > sizeof(hdr) - 1)
		return "(too big)";
	hdr[n] = '\0';
	return hdr;
}

static const char *
header(const char *host, const char *path)
{
	return header_at(host, path, 0, NOW);
}

#define CHECK_HDR(host, path, want)                                            \
	do {                                                                   \
		const char *got_ = header(host, path);                         \
		CHECK(strcmp(got_, want) == 0,                                 \
		      "%s%s: got \"%s\", want \"%s\"", host, path, got_,       \
		      want);                                                   \
	} while (0)

#define CHECK_SET(v, host, path, want)                                         \
	do {                                                                   \
		int rc_ = set(v, host, path);                                  \
		CHECK(rc_ == (want), "set \"%s\": %d, want %d", v, rc_,        \
		      (int)(want));                                            \
	} while (0)

static void
test_parse(void)
{
	fresh(ARENA);
	CHECK_SET("a=1", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("  b  =  two words  ; Path=/", "www.example.test", "/",
		  SP_COOKIE_STORED);
	CHECK_SET("c=", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("d=x=y", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("e=\"quoted\"", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_HDR("www.example.test", "/",
		  "a=1; b=two words; c=; d=x=y; e=\"quoted\"");
	/* 5.2 steps 2 and 5: no '=', an empty name: the line is ignored */
	CHECK_SET("novalue", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("novalue; a=b", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("=v", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("  =v", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET(";", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	/* a control character anywhere, even in an attribute */
	CHECK_SET("f=a\rb", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("f=1; Path=/\n", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("f=1\x7f", "www.example.test", "/", SP_COOKIE_ESYNTAX);
	CHECK_SET("\tg\t=\t1\t", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK(sp_cookie_count(&jar) == 6, "count %u", sp_cookie_count(&jar));
	/* unknown attributes and empty ones are skipped */
	CHECK_SET("h=1;;; SameSite=Strict; Foo; =bar; Priority=High",
		  "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_HDR("www.example.test", "/x",
		  "a=1; b=two words; c=; d=x=y; e=\"quoted\"; g=1; h=1");
	CHECK(guard_ok(ARENA), "write past the arena");
}

static void
test_attr_case(void)
{
	fresh(ARENA);
	CHECK_SET("a=1; pAtH=/p; DOMAIN=Example.TEST; max-AGE=10; SECURE; "
		  "httponly",
		  "WWW.example.test", "/p/q", SP_COOKIE_ESECURE);
	CHECK(set_at("a=1; pAtH=/p; DOMAIN=Example.TEST; max-AGE=10; SECURE; "
		     "httponly",
		     "WWW.example.test", "/p/q", 1, NOW) == SP_COOKIE_STORED,
	      "any case");
	CHECK(strcmp(header_at("other.EXAMPLE.test", "/p", 1, NOW), "a=1") == 0,
	      "domain, path, secure honoured: %s", hdr);
	CHECK(strcmp(header_at("other.example.test", "/p", 0, NOW), "") == 0,
	      "secure only over TLS: %s", hdr);
	CHECK(strcmp(header_at("other.example.test", "/", 1, NOW), "") == 0,
	      "path: %s", hdr);
	CHECK(strcmp(header_at("example.test", "/p", 1, NOW + 9999), "a=1") ==
		      0,
	      "alive before Max-Age: %s", hdr);
	CHECK(strcmp(header_at("example.test", "/p", 1, NOW + 10000), "") == 0,
	      "expired at Max-Age: %s", hdr);
}

static void
test_expiry(void)
{
	fresh(ARENA);
	/* Max-Age wins over Expires whatever the order */
	CHECK_SET("a=1; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		  "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("b=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=100",
		  "example.test", "/", SP_COOKIE_STORED);
	/* an Expires in the future; a bad Max-Age is ignored, not fatal */
	CHECK_SET("c=1; Max-Age=1x; Expires=Wed, 01 Jan 2031 00:00:00 GMT",
		  "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("d=1; Max-Age=+5", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("e=1; Max-Age=-", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("f=1; Max-Age=; Expires=not a date", "example.test", "/",
		  SP_COOKIE_STORED);
	/* the last valid Max-Age counts */
	CHECK_SET("g=1; Max-Age=0; Max-Age=5", "example.test", "/",
		  SP_COOKIE_STORED);
	CHECK_HDR("example.test", "/", "a=1; b=1; c=1; d=1; e=1; f=1; g=1");
	CHECK(strcmp(header_at("example.test", "/", 0, NOW + 5000),
		     "a=1; b=1; c=1; d=1; e=1; f=1") == 0,
	      "g gone at 5 s: %s", hdr);
	CHECK(strcmp(header_at("example.test", "/", 0, NOW + 100000),
		     "c=1; d=1; e=1; f=1") == 0,
	      "a, b gone at 100 s: %s", hdr);
	/* 2031-01-01 is 1924992000 s */
	CHECK(strcmp(header_at("example.test", "/", 0, 1924992000000ull - 1),
		     "c=1; d=1; e=1; f=1") == 0,
	      "c alive: %s", hdr);
	CHECK(strcmp(header_at("example.test", "/", 0, 1924992000000ull),
		     "d=1; e=1; f=1") == 0,
	      "c gone: %s", hdr);
	/* a huge Max-Age saturates instead of wrapping into the past */
	CHECK_SET("h=1; Max-Age=99999999999999999999999999", "example.test",
		  "/", SP_COOKIE_STORED);
	CHECK(strcmp(header_at("example.test", "/", 0, UINT64_MAX - 1),
		     "d=1; e=1; f=1; h=1") == 0,
	      "far future: %s", hdr);

	/* deletion: Max-Age=0, a negative one, a past Expires */
	CHECK_SET("a=x; Max-Age=0", "example.test", "/", SP_COOKIE_DELETED);
	CHECK_SET("b=x; Max-Age=-1", "example.test", "/", SP_COOKIE_DELETED);
	CHECK_SET("c=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "example.test",
		  "/", SP_COOKIE_DELETED);
	CHECK_SET("d=x; expires=Sun, 06 Nov 1994 08:49:37 GMT", "example.test",
		  "/", SP_COOKIE_DELETED);
	CHECK_SET("zz=x; Max-Age=0", "example.test", "/", SP_COOKIE_EXPIRED);
	/* a deletion must name the same domain and path */
	CHECK_SET("e=x; Max-Age=0; Path=/other", "example.test", "/",
		  SP_COOKIE_EXPIRED);
	/* 5.3 step 11 compares name, domain and path, not the host-only
	 * flag: a Domain equal to the host names the host-only cookie */
	CHECK_SET("e=x; Max-Age=0; Domain=example.test", "example.test", "/",
		  SP_COOKIE_DELETED);
	CHECK_HDR("example.test", "/", "f=1; g=1; h=1");
	CHECK(sp_cookie_count(&jar) == 3, "count %u", sp_cookie_count(&jar));
	/* purge drops g, expired at 5 s */
	CHECK(sp_cookie_purge(&jar, NOW + 5000) == 1, "purge");
	CHECK(sp_cookie_count(&jar) == 2, "count %u", sp_cookie_count(&jar));
}

static void
check_date(const char *s, int ok, uint64_t want_s)
{
	uint64_t ms = 12345;
	int rc = sp_cookie_date(s, (uint32_t)strlen(s), &ms);

	if (!ok) {
		CHECK(rc == -1, "\"%s\" accepted as %llu", s,
		      (unsigned long long)ms);
		return;
	}
	CHECK(rc == 0 && ms == want_s * 1000,
	      "\"%s\": rc %d, %llu s, want %llu", s, rc,
	      (unsigned long long)(ms / 1000), (unsigned long long)want_s);
}

static void
test_dates(void)
{
	/* the three HTTP forms (RFC 7231 7.1.1.1), one instant */
	check_date("Sun, 06 Nov 1994 08:49:37 GMT", 1, 784111777);
	check_date("Sunday, 06-Nov-94 08:49:37 GMT", 1, 784111777);
	check_date("Sun Nov  6 08:49:37 1994", 1, 784111777);
	/* lenient: any order, any case, odd delimiters, trailing junk */
	check_date("08:49:37 1994 nOVEMBER 6", 1, 784111777);
	check_date("6-nov-1994/08:49:37.000Z", 1, 784111777);
	check_date("  06 Nov 1994 8:49:37 +0000 (a comment)", 1, 784111777);
	check_date("Sun, 6 Nov 1994 8:9:7 GMT", 1, 784109347);
	/* two-digit years: 70-99 -> 19xx, 00-69 -> 20xx */
	check_date("01 Jan 70 00:00:00", 1, 0);
	check_date("31 Dec 99 23:59:59", 1, 946684799);
	check_date("01 Jan 00 00:00:00", 1, 946684800);
	check_date("01 Jan 69 00:00:00", 1, 3124224000);
	check_date("01 Jan 2038 00:00:00", 1, 2145916800);
	/* leap days */
	check_date("29 Feb 2000 00:00:00", 1, 951782400);
	check_date("29 Feb 2024 12:00:00", 1, 1709208000);
	check_date("29 Feb 1900 00:00:00", 0, 0);
	check_date("29 Feb 2023 00:00:00", 0, 0);
	check_date("30 Feb 2024 00:00:00", 0, 0);
	check_date("31 Apr 2024 00:00:00", 0, 0);
	check_date("31 Dec 9999 23:59:59", 1, 253402300799);
	/* before the epoch: the earliest time, 0; before 1601: no date */
	check_date("01 Jan 1601 00:00:00", 1, 0);
	check_date("31 Dec 1600 00:00:00", 0, 0);
	/* what is missing or out of range */
	check_date("", 0, 0);
	check_date("Sun, 06 Nov 1994 GMT", 0, 0);
	check_date("06 1994 08:49:37", 0, 0);
	check_date("Nov 1994 08:49:37", 0, 0);
	check_date("06 Nov 08:49:37", 0, 0);
	check_date("00 Nov 1994 08:49:37", 0, 0);
	check_date("32 Nov 1994 08:49:37", 0, 0);
	check_date("06 Nov 1994 24:00:00", 0, 0);
	check_date("06 Nov 1994 23:60:00", 0, 0);
	check_date("06 Nov 1994 23:59:60", 0, 0);
	/* a three-digit day is no day; a five-digit year no year */
	check_date("006 Nov 1994 08:49:37", 0, 0);
	check_date("06 Nov 19940 08:49:37", 0, 0);
	/* a one-digit year is none (2*4DIGIT) */
	check_date("06 Nov 08:49:37 5", 0, 0);
	/* three-digit time fields are not a time */
	check_date("06 Nov 1994 008:49:37", 0, 0);
	/* digits then a non-digit: still a number (the production's tail) */
	check_date("06th Nov 1994AD 08:49:37pm", 1, 784111777);
}

static void
test_domain(void)
{
	fresh(ARENA);
	/* host-only: that host alone, in any case */
	CHECK_SET("h=1", "Www.Example.Test", "/", SP_COOKIE_STORED);
	/* Domain: the host and every name under the domain */
	CHECK_SET("d=1; Domain=.example.test", "www.example.test", "/",
		  SP_COOKIE_STORED);
	CHECK_SET("s=1; Domain=sub.www.example.test", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	CHECK_SET("o=1; Domain=other.test", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	CHECK_SET("p=1; Domain=ample.test", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	/* no public suffix list: a dot-less domain only if it is the host */
	CHECK_SET("t=1; Domain=test", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	CHECK_SET("t=1; Domain=.test", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	CHECK_SET("t=1; Domain=example.test.", "www.example.test", "/",
		  SP_COOKIE_EDOMAIN);
	CHECK_SET("l=1; Domain=localhost", "localhost", "/", SP_COOKIE_STORED);
	/* an empty Domain (or a lone dot) is ignored: host-only */
	CHECK_SET("e=1; Domain=", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("f=1; Domain=.", "www.example.test", "/", SP_COOKIE_STORED);
	CHECK_HDR("www.example.test", "/", "h=1; d=1; e=1; f=1");
	CHECK_HDR("WWW.EXAMPLE.TEST", "/", "h=1; d=1; e=1; f=1");
	CHECK_HDR("example.test", "/", "d=1");
	CHECK_HDR("a.b.example.test", "/", "d=1");
	CHECK_HDR("xexample.test", "/", "");
	CHECK_HDR("a.www.example.test", "/", "d=1");
	CHECK_HDR("test", "/", "");
	CHECK_HDR("localhost", "/", "l=1");

	/* IP literals: host-only or a Domain identical to them, nothing
	 * under them (18.0.1 is no suffix of an address) */
	fresh(ARENA);
	CHECK_SET("a=1", "198.18.0.1", "/", SP_COOKIE_STORED);
	CHECK_SET("b=1; Domain=198.18.0.1", "198.18.0.1", "/",
		  SP_COOKIE_STORED);
	CHECK_SET("c=1; Domain=18.0.1", "198.18.0.1", "/", SP_COOKIE_EDOMAIN);
	CHECK_SET("d=1; Domain=0.1", "198.18.0.1", "/", SP_COOKIE_EDOMAIN);
	CHECK_SET("e=1", "[2001:2::1]", "/", SP_COOKIE_STORED);
	CHECK_SET("f=1; Domain=2::1", "2001:2::1", "/", SP_COOKIE_EDOMAIN);
	CHECK_HDR("198.18.0.1", "/", "a=1; b=1");
	CHECK_HDR("198.18.0.10", "/", "");
	CHECK_HDR("[2001:2::1]", "/", "e=1");
	CHECK_HDR("2001:2::1", "/", "");

	/* a name whose last label is a number counts as an address */
	fresh(ARENA);
	CHECK_SET("a=1; Domain=b.123", "a.b.123", "/", SP_COOKIE_EDOMAIN);
	/* the same name set host-only then for the host as Domain: one
	 * cookie (5.3 step 11 ignores the host-only flag), now seen by
	 * the names under it too */
	CHECK_SET("x=host", "example.test", "/", SP_COOKIE_STORED);
	CHECK_HDR("w.example.test", "/", "");
	CHECK_SET("x=dom; Domain=example.test", "example.test", "/",
		  SP_COOKIE_REPLACED);
	CHECK(sp_cookie_count(&jar) == 1, "count %u", sp_cookie_count(&jar));
	CHECK_HDR("example.test", "/", "x=dom");
	CHECK_HDR("w.example.test", "/", "x=dom");
}

static void
test_path(void)
{
	fresh(ARENA);
	/* default-path (5.1.4) of the request's path */
	CHECK_SET("r=1", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("top=1", "example.test", "/login", SP_COOKIE_STORED);
	CHECK_SET("api=1", "example.test", "/api/login?next=/x/y",
		  SP_COOKIE_STORED);
	CHECK_SET("q=1", "example.test", "?a=/b/c", SP_COOKIE_STORED);
	CHECK_SET("rel=1; Path=relative", "example.test", "/a/b/c",
		  SP_COOKIE_STORED);
	CHECK_SET("emp=1; Path=", "example.test", "/a/b/", SP_COOKIE_STORED);
	CHECK_SET("exp=1; Path=/api", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("slash=1; Path=/api/", "example.test", "/", SP_COOKIE_STORED);
	/* cookies on "/": r, top, q */
	CHECK_HDR("example.test", "/", "r=1; top=1; q=1");
	CHECK_HDR("example.test", "", "r=1; top=1; q=1");
	CHECK_HDR("example.test", "*", "r=1; top=1; q=1");
	/* /api matches /api, /api/, /api/x and /api?q, never /apix */
	CHECK_HDR("example.test", "/api", "api=1; exp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/api?x=/api/",
		  "api=1; exp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/api#f/", "api=1; exp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/apix", "r=1; top=1; q=1");
	CHECK_HDR("example.test", "/api/",
		  "slash=1; api=1; exp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/api/items/1",
		  "slash=1; api=1; exp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/API/items", "r=1; top=1; q=1");
	/* rel got /a/b, emp /a/b */
	CHECK_HDR("example.test", "/a/b", "rel=1; emp=1; r=1; top=1; q=1");
	CHECK_HDR("example.test", "/a/bc", "r=1; top=1; q=1");
}

static void
test_replace_order(void)
{
	fresh(ARENA);
	CHECK_SET("a=1", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("b=1; Path=/x", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("c=1", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("d=1; Path=/x/y", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("e=1; Path=/x", "example.test", "/", SP_COOKIE_STORED);
	/* longer paths first, then creation order */
	CHECK_HDR("example.test", "/x/y/z", "d=1; b=1; e=1; a=1; c=1");
	/* a replacement keeps its creation time, so its place; a longer
	 * value moves the others */
	CHECK_SET("a=a-much-longer-value-than-before", "example.test", "/",
		  SP_COOKIE_REPLACED);
	CHECK_SET("b=; Path=/x", "example.test", "/", SP_COOKIE_REPLACED);
	CHECK_HDR("example.test", "/x/y/z",
		  "d=1; b=; e=1; a=a-much-longer-value-than-before; c=1");
	CHECK(sp_cookie_count(&jar) == 5, "count %u", sp_cookie_count(&jar));
	/* domain comparison for replacement ignores case; name does not */
	CHECK_SET("k=1; Domain=Example.Test", "example.test", "/",
		  SP_COOKIE_STORED);
	CHECK_SET("k=2; Domain=EXAMPLE.test", "example.test", "/",
		  SP_COOKIE_REPLACED);
	CHECK_SET("K=3", "example.test", "/", SP_COOKIE_STORED);
	/* a replacement may change the flags: Secure now, so hidden from
	 * plain requests */
	CHECK(set_at("c=2; Secure", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_REPLACED,
	      "secure replace");
	CHECK_HDR("example.test", "/x/y/z",
		  "d=1; b=; e=1; a=a-much-longer-value-than-before; k=2; K=3");
	CHECK(strcmp(header_at("example.test", "/x/y/z", 1, NOW),
		     "d=1; b=; e=1; a=a-much-longer-value-than-before; c=2; "
		     "k=2; K=3") == 0,
	      "secure: %s", hdr);

	/* several Set-Cookie lines in one response, the engine's loop */
	fresh(ARENA);
	static const char *const lines[] = {
		"csrftoken=abc; Path=/; SameSite=Lax",
		"sessionid=s1; HttpOnly; Path=/",
		"csrftoken=def; Path=/",
		"messages=; Max-Age=0; Path=/",
	};
	static const int want[] = { SP_COOKIE_STORED, SP_COOKIE_STORED,
				    SP_COOKIE_REPLACED, SP_COOKIE_EXPIRED };
	for (unsigned i = 0; i < 4; i++)
		CHECK(set(lines[i], "app.example.test", "/accounts/login/") ==
			      want[i],
		      "line %u", i);
	CHECK_HDR("app.example.test", "/api/items",
		  "csrftoken=def; sessionid=s1");

	const char *val = NULL;
	uint32_t len = 0;
	CHECK(sp_cookie_get(&jar, "csrftoken", 9, "app.example.test", 16, "/",
			    1, 0, NOW, &val, &len) == 1 &&
		      len == 3 && memcmp(val, "def", 3) == 0,
	      "get csrftoken");
	CHECK(sp_cookie_get(&jar, "csrf", 4, "app.example.test", 16, "/", 1, 0,
			    NOW, &val, &len) == 0,
	      "get a prefix");
	CHECK(sp_cookie_get(&jar, "sessionid", 9, "other.test", 10, "/", 1, 0,
			    NOW, &val, &len) == 0,
	      "get for another host");
	/* get picks what the header lists first: the longer path */
	CHECK_SET("sessionid=deep; Path=/api", "app.example.test", "/",
		  SP_COOKIE_STORED);
	CHECK(sp_cookie_get(&jar, "sessionid", 9, "app.example.test", 16,
			    "/api/x", 6, 0, NOW, &val, &len) == 1 &&
		      len == 4 && memcmp(val, "deep", 4) == 0,
	      "get deep");
	CHECK(sp_cookie_get(&jar, "sessionid", 9, "app.example.test", 16, "/",
			    1, 0, NOW, &val, &len) == 1 &&
		      len == 2 && memcmp(val, "s1", 2) == 0,
	      "get shallow");
	sp_cookie_jar_clear(&jar);
	CHECK(sp_cookie_count(&jar) == 0, "clear");
	CHECK_HDR("app.example.test", "/", "");
}

static void
test_secure(void)
{
	fresh(ARENA);
	/* RFC 6265bis: Secure only from a secure request */
	CHECK_SET("s=1; Secure", "example.test", "/", SP_COOKIE_ESECURE);
	CHECK(set_at("s=1; Secure", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_STORED,
	      "secure over TLS");
	/* plain HTTP may not overwrite, delete or shadow it */
	CHECK_SET("s=2", "example.test", "/", SP_COOKIE_ESECURE);
	CHECK_SET("s=2; Max-Age=0", "example.test", "/", SP_COOKIE_ESECURE);
	CHECK_SET("s=2; Path=/deeper", "example.test", "/", SP_COOKIE_ESECURE);
	CHECK_SET("s=2; Domain=example.test", "www.example.test", "/",
		  SP_COOKIE_ESECURE);
	/* a path the secure one does not cover is no shadow */
	CHECK(set_at("s=1; Secure; Path=/only", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_STORED,
	      "secure /only");
	CHECK_SET("t=1", "example.test", "/", SP_COOKIE_STORED);
	CHECK_HDR("example.test", "/", "t=1");
	/* over TLS a non-Secure cookie may replace a Secure one */
	CHECK(set_at("s=3", "example.test", "/", 1, NOW) == SP_COOKIE_REPLACED,
	      "non-secure over TLS");
	CHECK_HDR("example.test", "/only", "s=3; t=1");
	CHECK(strcmp(header_at("example.test", "/only", 1, NOW),
		     "s=1; s=3; t=1") == 0,
	      "secure view: %s", hdr);
	/* prefixes */
	CHECK(set_at("__Secure-a=1", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_EPREFIX,
	      "__Secure- without Secure");
	CHECK(set_at("__secure-a=1; Secure", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_STORED,
	      "__Secure- with Secure");
	CHECK(set_at("__Host-a=1; Secure; Path=/; Domain=example.test",
		     "example.test", "/", 1, NOW) == SP_COOKIE_EPREFIX,
	      "__Host- with Domain");
	CHECK(set_at("__Host-a=1; Secure", "example.test", "/", 1, NOW) ==
		      SP_COOKIE_EPREFIX,
	      "__Host- without Path");
	CHECK(set_at("__Host-a=1; Secure; Path=/x", "example.test", "/", 1,
		     NOW) == SP_COOKIE_EPREFIX,
	      "__Host- Path=/x");
	CHECK(set_at("__HOST-a=1; Secure; Path=/", "example.test", "/x", 1,
		     NOW) == SP_COOKIE_STORED,
	      "__Host- right");
}

/* A cookie of exactly @size record bytes named n<i>. */
static int
set_sized(int i, uint32_t size, uint64_t max_age_s)
{
	char v[512];
	/* name "nII" (3), domain "example.test" (12), path "/" (1) */
	uint32_t vl = size - SP_COOKIE_REC_HDR - 3 - 12 - 1;
	int k = snprintf(v, sizeof(v), "n%02d=", i);

	memset(v + k, 'v', vl);
	k += (int)vl;
	if (max_age_s)
		k += snprintf(v + k, sizeof(v) - (size_t)k, "; Max-Age=%llu",
			      (unsigned long long)max_age_s);
	return sp_cookie_set(&jar, v, (uint32_t)k, "example.test", 12, "/", 1,
			     0, NOW);
}

static void
test_full(void)
{
	/* room for exactly four 100-byte records */
	fresh(400);
	for (int i = 0; i < 4; i++)
		CHECK(set_sized(i, 100, i == 1 ? 10 : 0) == SP_COOKIE_STORED,
		      "fill %d", i);
	CHECK(jar.used == 400 && sp_cookie_count(&jar) == 4, "used %u",
	      jar.used);
	/* a fifth (33 bytes), after n01 has expired: n01 goes, no live
	 * cookie is evicted */
	CHECK(sp_cookie_set(&jar, "n04=", 4, "example.test", 12, "/", 1, 0,
			    NOW + 10000) == SP_COOKIE_STORED,
	      "expired one makes room");
	CHECK(sp_cookie_count(&jar) == 4 && jar.used == 333, "used %u",
	      jar.used);
	header_at("example.test", "/", 0, NOW);
	CHECK(strncmp(hdr, "n00=v", 5) == 0 && strstr(hdr, "n01=") == NULL &&
		      strstr(hdr, "; n02=v") != NULL &&
		      strstr(hdr, "; n03=v") != NULL &&
		      strcmp(hdr + strlen(hdr) - 6, "; n04=") == 0,
	      "after: %s", hdr);
	/* no room and nothing expired: the oldest goes */
	CHECK(set_sized(5, 150, 0) == SP_COOKIE_EVICTED, "evict");
	CHECK(sp_cookie_count(&jar) == 4, "count %u", sp_cookie_count(&jar));
	CHECK(sp_cookie_get(&jar, "n00", 3, "example.test", 12, "/", 1, 0, NOW,
			    &(const char *){ NULL }, &(uint32_t){ 0 }) == 0,
	      "n00 evicted");
	CHECK(strncmp(header("example.test", "/"), "n02=", 4) == 0, "%s", hdr);
	/* a replacement that grows evicts others, not itself, and keeps
	 * its place first */
	CHECK(set_sized(2, 240, 0) == SP_COOKIE_EVICTED, "grow");
	CHECK(strncmp(header("example.test", "/"), "n02=", 4) == 0 &&
		      strstr(hdr, "n05=") != NULL &&
		      strstr(hdr, "n03=") == NULL,
	      "%s", hdr);
	/* one larger than the whole arena: refused, nothing lost */
	uint32_t before = sp_cookie_count(&jar);
	char big[512];
	memset(big, 'x', sizeof(big));
	big[0] = 'b', big[1] = '=';
	CHECK(sp_cookie_set(&jar, big, sizeof(big), "example.test", 12, "/", 1,
			    0, NOW) == SP_COOKIE_ETOOBIG,
	      "too big");
	CHECK(sp_cookie_count(&jar) == before, "unchanged");
	/* exactly the arena: fits, evicting everything else */
	CHECK(set_sized(7, 400 - 0, 0) == SP_COOKIE_EVICTED, "whole arena");
	CHECK(sp_cookie_count(&jar) == 1 && jar.used == 400, "alone");
	CHECK(guard_ok(400), "write past the arena");

	/* an arena of a few bytes: nothing fits, nothing breaks */
	for (uint32_t cap = 0; cap < 32; cap++) {
		/* "a=" for e.test on "/" is a 25-byte record */
		int fits = cap >= SP_COOKIE_REC_HDR + 1 + 6 + 1;

		fresh(cap);
		CHECK(set("a=", "e.test", "/") ==
			      (fits ? SP_COOKIE_STORED : SP_COOKIE_ETOOBIG),
		      "cap %u", cap);
		CHECK_HDR("e.test", "/", fits ? "a=" : "");
		/* a deletion needs no room, even if its line is longer */
		CHECK_SET("a=1; Max-Age=0", "e.test", "/",
			  fits ? SP_COOKIE_DELETED : SP_COOKIE_EXPIRED);
		CHECK_HDR("e.test", "/", "");
		CHECK(sp_cookie_count(&jar) == 0 && jar.used == 0, "cap %u",
		      cap);
		CHECK(guard_ok(cap), "write past a %u-byte arena", cap);
	}
	sp_cookie_jar_init(&jar, NULL, 0);
	CHECK_SET("a=1", "e.test", "/", SP_COOKIE_ETOOBIG);
	CHECK_HDR("e.test", "/", "");
}

static void
test_header_cap(void)
{
	char out[64];

	fresh(ARENA);
	CHECK_SET("a=1", "example.test", "/", SP_COOKIE_STORED);
	CHECK_SET("bb=22", "example.test", "/", SP_COOKIE_STORED);
	/* "a=1; bb=22" is 10 bytes */
	for (uint32_t cap = 0; cap <= 12; cap++) {
		memset(out, '#', sizeof(out));
		uint32_t n = sp_cookie_header(&jar, "example.test", 12, "/", 1,
					      0, NOW, out, cap);
		CHECK(n == 10, "cap %u: %u", cap, n);
		if (cap < 10) {
			for (unsigned i = 0; i < sizeof(out); i++)
				CHECK(out[i] == '#', "cap %u wrote %u", cap, i);
		} else {
			CHECK(memcmp(out, "a=1; bb=22", 10) == 0 &&
				      out[10] == '#',
			      "cap %u", cap);
		}
	}
	CHECK(sp_cookie_header(&jar, "other.test", 10, "/", 1, 0, NOW, NULL,
			       0) == 0,
	      "none");
}

/* Every byte value, in a name and in a value: kept exactly, or a control
 * character refuses the line; ';' ends the pair, '=' in the name splits
 * it, SP/HTAB at the ends are trimmed. */
static void
test_bytes(void)
{
	for (int b = 0; b < 256; b++) {
		char line[16], want[16];
		int ctl = b <= 0x08 || (b >= 0x0a && b <= 0x1f) || b == 0x7f;
		const char *val;
		uint32_t len;

		fresh(ARENA);
		/* in the middle of a value */
		memcpy(line, "n=a?b", 6);
		line[3] = (char)b;
		int rc = sp_cookie_set(&jar, line, 5, "e.test", 6, "/", 1, 0,
				       NOW);
		if (ctl) {
			CHECK(rc == SP_COOKIE_ESYNTAX, "byte %#x: %d", b, rc);
			continue;
		}
		CHECK(rc == SP_COOKIE_STORED, "byte %#x: %d", b, rc);
		int got = sp_cookie_get(&jar, "n", 1, "e.test", 6, "/", 1, 0,
					NOW, &val, &len);
		if (b == ';')
			CHECK(got && len == 1 && val[0] == 'a', "';'");
		else
			CHECK(got && len == 3 && val[1] == (char)b,
			      "byte %#x: %d %u", b, got, len);

		/* in the middle of a name */
		fresh(ARENA);
		memcpy(line, "x?y=v", 6);
		line[1] = (char)b;
		rc = sp_cookie_set(&jar, line, 5, "e.test", 6, "/", 1, 0, NOW);
		uint32_t n = sp_cookie_header(&jar, "e.test", 6, "/", 1, 0, NOW,
					      want, sizeof(want));
		if (b == ';') {
			CHECK(rc == SP_COOKIE_ESYNTAX, "';' in a name: %d", rc);
		} else if (b == '=') {
			CHECK(rc == SP_COOKIE_STORED && n == 5 &&
				      memcmp(want, "x=y=v", 5) == 0,
			      "'=' in a name");
		} else {
			CHECK(rc == SP_COOKIE_STORED && n == 5 &&
				      memcmp(want, line, 5) == 0,
			      "byte %#x in a name: %d", b, rc);
		}
		CHECK(guard_ok(ARENA), "guard");
	}
}

int
main(void)
{
	test_parse();
	test_attr_case();
	test_expiry();
	test_dates();
	test_domain();
	test_path();
	test_replace_order();
	test_secure();
	test_full();
	test_header_cap();
	test_bytes();
	printf("%d checks, %d failed\n", sp_tests, sp_failed);
	return sp_failed != 0;
}
