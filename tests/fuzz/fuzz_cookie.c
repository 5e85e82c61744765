/*
 * libFuzzer target for the cookie jar (sp_cookie.h).
 *
 * Input: byte 0 picks the arena's size (from none to 4 KiB); then
 * operations, each a control byte and, for a set, a length byte and that
 * many bytes of Set-Cookie value. The control byte picks the request's
 * host (names under .test in any case, an IPv4 and an IPv6 literal, an
 * empty host), its path (with a query, empty, relative), TLS or not, and
 * the operation: a set, a set after which the clock moves on by a minute,
 * a Cookie header with a get of the cookies it lists, or a purge. The
 * first set's bytes also go through sp_cookie_date alone.
 *
 * Oracles, besides AddressSanitizer/UBSan: the arena's records tile its
 * used bytes exactly and hold what the header promises (a name, no
 * control character, no ';', no SP/HTAB at either end, a lower-case
 * domain, an absolute path); nothing is written past the arena's end; a
 * refused line leaves the arena byte for byte as it was; each result's
 * count change is the one it names; the header, asked with a buffer one
 * byte short, returns the same size and writes nothing; it lists no more
 * pairs than the jar holds, each "name=value"; and sp_cookie_get returns
 * for the header's first pair's name that pair's value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ARENA_MAX = 4096, GUARD = 32, OUT_MAX = 8192 };

static const uint32_t caps[8] = { 0, 8, 25, 40, 100, 300, 1024, 4096 };
static const char *const hosts[8] = {
	"example.test", "www.example.test", "a.b.example.test", "EXAMPLE.TEST",
	"test",         "198.18.0.1",       "[2001:2::1]",      "",
};
static const char *const paths[4] = { "/", "/api/x", "/api?q=/z", "" };

static uint8_t arena[ARENA_MAX + GUARD], snap[ARENA_MAX];
static char out[OUT_MAX + GUARD];

static int
ctl(uint8_t c)
{
	return c <= 0x08 || (c >= 0x0a && c <= 0x1f) || c == 0x7f;
}

static int
ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void
check_str(const uint8_t *p, uint32_t n, int is_name)
{
	for (uint32_t i = 0; i < n; i++)
		if (ctl(p[i]) || p[i] == ';' || (is_name && p[i] == '='))
			abort();
	if (n > 0 && (ws(p[0]) || ws(p[n - 1])))
		abort();
}

/* The records tile [0, used) and each is what sp_cookie_set may store. */
static void
check_jar(const struct sp_cookie_jar *j, uint32_t cap)
{
	uint32_t off = 0, count = 0;

	if (j->used > cap)
		abort();
	while (off < j->used) {
		const uint8_t *p = j->arena + off;
		uint16_t l[4];

		if (j->used - off < SP_COOKIE_REC_HDR)
			abort();
		memcpy(l, p + 8, sizeof(l));
		uint32_t size = SP_COOKIE_REC_HDR + (uint32_t)l[0] + l[1] +
				l[2] + l[3];
		if (size > j->used - off || l[0] == 0 || l[3] == 0)
			abort();
		const uint8_t *name = p + SP_COOKIE_REC_HDR;
		const uint8_t *value = name + l[0], *dom = value + l[1];
		const uint8_t *path = dom + l[2];
		check_str(name, l[0], 1);
		check_str(value, l[1], 0);
		for (uint32_t i = 0; i < l[2]; i++)
			if (dom[i] >= 'A' && dom[i] <= 'Z')
				abort();
		if (path[0] != '/')
			abort();
		off += size;
		count++;
	}
	if (count != j->count || sp_cookie_count(j) != count)
		abort();
	for (uint32_t i = cap; i < sizeof(arena); i++)
		if (arena[i] != 0xa5)
			abort();
}

static void
check_header(const struct sp_cookie_jar *j, const char *host, const char *path,
	     int secure, uint64_t now)
{
	uint32_t hl = (uint32_t)strlen(host), pl = (uint32_t)strlen(path);
	uint32_t n = sp_cookie_header(j, host, hl, path, pl, secure, now, out,
				      OUT_MAX);

	if (n == 0)
		return;
	if (n > OUT_MAX)
		abort(); /* the jar is smaller than that */
	/* one byte short: the size again, nothing written */
	memset(out, 0x5a, (size_t)n);
	if (sp_cookie_header(j, host, hl, path, pl, secure, now, out, n - 1) !=
	    n)
		abort();
	for (uint32_t i = 0; i < n; i++)
		if ((uint8_t)out[i] != 0x5a)
			abort();
	sp_cookie_header(j, host, hl, path, pl, secure, now, out, n);

	/* "n=v; n=v": pairs split at "; " (no value holds a ';') */
	uint32_t pairs = 0, b = 0, first_end = 0;
	for (uint32_t i = 0; i <= n; i++) {
		if (i < n && out[i] != ';')
			continue;
		if (i < n && (i + 1 >= n || out[i + 1] != ' '))
			abort();
		if (memchr(out + b, '=', i - b) == NULL || ctl((uint8_t)out[b]))
			abort();
		if (pairs++ == 0)
			first_end = i;
		b = i + 2;
	}
	if (pairs > j->count)
		abort();
	for (uint32_t i = 0; i < n; i++)
		if (ctl((uint8_t)out[i]))
			abort();

	const char *eq = memchr(out, '=', first_end), *val;
	uint32_t len;
	if (!sp_cookie_get(j, out, (uint32_t)(eq - out), host, hl, path, pl,
			   secure, now, &val, &len))
		abort();
	if (len != first_end - (uint32_t)(eq + 1 - out) ||
	    memcmp(val, eq + 1, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_cookie_jar jar;
	uint64_t now = 1700000000000ull;
	size_t i = 1;
	int dated = 0;

	if (size < 1)
		return 0;
	uint32_t cap = caps[data[0] & 7];
	memset(arena, 0xa5, sizeof(arena));
	sp_cookie_jar_init(&jar, arena, cap);

	while (i < size) {
		uint8_t c = data[i++];
		const char *host = hosts[c & 7], *path = paths[(c >> 3) & 3];
		int secure = (c >> 5) & 1, op = c >> 6;

		if (op == 2) {
			check_header(&jar, host, path, secure, now);
			continue;
		}
		if (op == 3) {
			uint32_t before = jar.count;
			if (sp_cookie_purge(&jar, now) > before ||
			    jar.count > before)
				abort();
			check_jar(&jar, cap);
			continue;
		}
		if (i >= size)
			break;
		uint32_t n = data[i++];
		if (n > size - i)
			n = (uint32_t)(size - i);
		const char *v = (const char *)data + i;
		i += n;

		if (!dated) {
			uint64_t ms;
			dated = 1;
			if (sp_cookie_date(v, n, &ms) == 0 &&
			    ms > 253402300799000ull)
				abort(); /* past 9999-12-31 */
		}
		uint32_t before = jar.count, used = jar.used;
		memcpy(snap, arena, used);
		int rc = sp_cookie_set(&jar, v, n, host, (uint32_t)strlen(host),
				       path, (uint32_t)strlen(path), secure,
				       now);
		switch (rc) {
		case SP_COOKIE_STORED:
			if (jar.count > before + 1)
				abort();
			break;
		case SP_COOKIE_REPLACED:
			if (jar.count > before)
				abort();
			break;
		case SP_COOKIE_DELETED:
			if (jar.count != before - 1)
				abort();
			break;
		case SP_COOKIE_EXPIRED:
			if (jar.count != before || jar.used != used)
				abort();
			break;
		case SP_COOKIE_EVICTED:
			if (jar.count > before)
				abort(); /* at least one went for it */
			break;
		case SP_COOKIE_ESYNTAX:
		case SP_COOKIE_EDOMAIN:
		case SP_COOKIE_ESECURE:
		case SP_COOKIE_EPREFIX:
		case SP_COOKIE_ETOOBIG:
			if (jar.count != before || jar.used != used ||
			    memcmp(snap, arena, used) != 0)
				abort();
			break;
		default:
			abort();
		}
		check_jar(&jar, cap);
		if (op == 1)
			now += 60000;
	}
	return 0;
}
