/*
 * Values written the same way on the command line and in scenario files
 * (see sp_values.h).
 */
#include <ctype.h>
#include <string.h>

#include <arpa/inet.h>

#include "sp_values.h"

#define SP_VAL_US_PER_S 1000000ull

int
sp_val_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*end = p;
	*v = x;
	return 0;
}

const char *
sp_val_duration(const char *s, uint64_t *us)
{
	static const struct {
		const char *unit;
		uint64_t us;
	} units[] = {
		/* "ms" and "us" before "m" and "s": longest match first */
		{ "ms", 1000 }, { "us", 1 }, { "h", 3600 * SP_VAL_US_PER_S },
		{ "m", 60 * SP_VAL_US_PER_S }, { "s", SP_VAL_US_PER_S },
	};
	static const char bad[] = "is not a duration (e.g. 500ms, 10s, 1m30s)";
	static const char big[] = "is longer than " SP_VAL_MAX_DURATION_STR
				  " (a week), the longest stampede takes";
	const char *p = s, *end;
	uint64_t x, total = 0;

	if (sp_val_digits(p, &end, &x) == 0 && *end == '\0') {
		if (x > SP_VAL_MAX_DURATION_US / SP_VAL_US_PER_S)
			return big;
		*us = x * SP_VAL_US_PER_S;
		return NULL;
	}
	if (*p == '\0')
		return bad;
	while (*p != '\0') {
		size_t i, n = sizeof(units) / sizeof(units[0]);

		if (sp_val_digits(p, &end, &x) < 0)
			return bad;
		for (i = 0; i < n; i++)
			if (strncmp(end, units[i].unit, strlen(units[i].unit)) == 0)
				break;
		if (i == n)
			return bad;
		if (x > SP_VAL_MAX_DURATION_US / units[i].us ||
		    x * units[i].us > SP_VAL_MAX_DURATION_US - total)
			return big;
		total += x * units[i].us;
		p = end + strlen(units[i].unit);
	}
	*us = total;
	return NULL;
}

/* RFC 2544's benchmarking range. */
#define SP_VAL_BENCH_NET  0xc6120000u /* 198.18.0.0 */
#define SP_VAL_BENCH_MASK 0xfffe0000u /* /15 */

static int
sp_val_ipv4(const char *s, size_t n, uint32_t *ip)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* inet_pton takes only the dotted quad: no octal, no short forms. */
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

const char *
sp_val_bench_range(const char *s, uint32_t *ip, uint32_t *count)
{
	const char *dash = strchr(s, '-');
	uint32_t a, b;

	if (sp_val_ipv4(s, dash ? (size_t)(dash - s) : strlen(s), &a) < 0 ||
	    (dash && sp_val_ipv4(dash + 1, strlen(dash + 1), &b) < 0))
		return "is not an IPv4 address or range (A.B.C.D or "
		       "A.B.C.D-E.F.G.H)";
	if (!dash)
		b = a;
	if ((a & SP_VAL_BENCH_MASK) != SP_VAL_BENCH_NET ||
	    (b & SP_VAL_BENCH_MASK) != SP_VAL_BENCH_NET)
		return "is outside the benchmarking range 198.18.0.0/15, the "
		       "only one allowed";
	if (b < a)
		return "ends before it starts";
	if (b - a >= 65536)
		return "holds more than 65536 addresses";
	*ip = a;
	*count = b - a + 1;
	return NULL;
}

const char *
sp_val_placement(const char *s, int *want)
{
	static const char *const words[] = { "auto", "rss", "redirect" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, words[i]) == 0) {
			*want = i;
			return NULL;
		}
	return "is not auto, rss or redirect";
}
