/*
 * Values written the same way on the command line and in scenario files
 * (see sp_values.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* -1, with "'<s>' <reason>" in @why. */
static int
sp_val_why(char *why, const char *s, const char *reason)
{
	snprintf(why, SP_VAL_WHY, "'%s' %s", s, reason);
	return -1;
}

int
sp_val_duration(const char *s, uint64_t *us, char *why)
{
	static const struct {
		const char *unit;
		uint64_t us;
	} units[] = {
		/* "ms" and "us" before "m" and "s": longest match first */
		{ "ms", 1000 },
		{ "us", 1 },
		{ "h", 3600 * SP_VAL_US_PER_S },
		{ "m", 60 * SP_VAL_US_PER_S },
		{ "s", SP_VAL_US_PER_S },
	};
	static const char bad[] = "is not a duration (e.g. 500ms, 10s, 1m30s)";
	static const char big[] = "is longer than " SP_VAL_MAX_DURATION_STR
				  " (a week), the longest stampede takes";
	const char *p = s, *end;
	uint64_t x, total = 0;

	if (sp_val_digits(p, &end, &x) == 0 && *end == '\0') {
		if (x > SP_VAL_MAX_DURATION_US / SP_VAL_US_PER_S)
			return sp_val_why(why, s, big);
		*us = x * SP_VAL_US_PER_S;
		return 0;
	}
	if (*p == '\0')
		return sp_val_why(why, s, bad);
	while (*p != '\0') {
		size_t i, n = sizeof(units) / sizeof(units[0]);

		if (sp_val_digits(p, &end, &x) < 0)
			return sp_val_why(why, s, bad);
		for (i = 0; i < n; i++)
			if (strncmp(end, units[i].unit,
				    strlen(units[i].unit)) == 0)
				break;
		if (i == n)
			return sp_val_why(why, s, bad);
		if (x > SP_VAL_MAX_DURATION_US / units[i].us ||
		    x * units[i].us > SP_VAL_MAX_DURATION_US - total)
			return sp_val_why(why, s, big);
		total += x * units[i].us;
		p = end + strlen(units[i].unit);
	}
	*us = total;
	return 0;
}

/* "4096", "4k", "64KiB", "1MiB", "1 m", "2g": k, m and g are binary
 * (KiB, MiB, GiB), as the command line's sizes. */
int
sp_val_size(const char *s, uint64_t max, uint64_t *v, char *why)
{
	static const char *const units[] = { "", "k", "m", "g" };
	const char *end;
	char u[4] = "";
	uint64_t x, mult = 1;
	size_t n = 0, i;

	if (sp_val_digits(s, &end, &x) < 0)
		return sp_val_why(why, s,
				  "is not a size (e.g. 125, 4k, 64KiB, 1MiB)");
	/* "1 MiB": one space, and a unit after it. */
	if (*end == ' ' && end[1] != '\0')
		end++;
	for (; end[n] != '\0' && n < sizeof(u) - 1; n++)
		u[n] = (char)tolower((unsigned char)end[n]);
	u[n] = '\0';
	if (end[n] != '\0')
		return sp_val_why(why, s,
				  "is not a size (e.g. 125, 4k, 64KiB, 1MiB)");
	/* "KiB", "KB", "K": the trailing "ib" or "b" says nothing more. */
	if (n >= 2 && u[n - 1] == 'b') {
		u[--n] = '\0';
		if (n >= 2 && u[n - 1] == 'i')
			u[--n] = '\0';
	} else if (n == 1 && u[0] == 'b') {
		u[--n] = '\0';
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(u, units[i]) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return sp_val_why(why, s,
				  "is not a size (e.g. 125, 4k, 64KiB, 1MiB)");
	mult <<= 10 * i;
	if (x > max / mult) {
		snprintf(why, SP_VAL_WHY, "'%s' is larger than %llu bytes", s,
			 (unsigned long long)max);
		return -1;
	}
	*v = x * mult;
	return 0;
}

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

/*
 * Blocks no TCP peer of ours can live in, whatever the network: each with
 * the reason, to follow "A.B.C.D ". 255.255.255.255 comes before 240/4,
 * which holds it. The benchmarking range is not among them: that rule
 * binds this repository's tests and examples, not its users.
 */
static const struct {
	uint32_t net, mask;
	const char *why;
} sp_val_unusable[] = {
	{ 0x00000000u, 0xff000000u,
	  "is in 0.0.0.0/8, which means \"this "
	  "host\" and is never a peer's address (RFC 1122 3.2.1.3)" },
	{ 0x7f000000u, 0xff000000u,
	  "is a loopback address (127.0.0.0/8): "
	  "stampede sends through its own port, which never reaches the "
	  "kernel's loopback" },
	{ 0xe0000000u, 0xf0000000u,
	  "is a multicast address (224.0.0.0/4): "
	  "TCP needs a single peer" },
	{ 0xffffffffu, 0xffffffffu,
	  "is the limited broadcast address: TCP "
	  "needs a single peer" },
	{ 0xf0000000u, 0xf0000000u,
	  "is in the reserved block 240.0.0.0/4, "
	  "which hosts neither use nor route (RFC 1112 4)" },
};

const char *
sp_val_ipv4_unusable(uint32_t ip)
{
	for (size_t i = 0;
	     i < sizeof(sp_val_unusable) / sizeof(sp_val_unusable[0]); i++)
		if ((ip & sp_val_unusable[i].mask) == sp_val_unusable[i].net)
			return sp_val_unusable[i].why;
	return NULL;
}

int
sp_val_ip_range(const char *s, uint32_t *ip, uint32_t *count, char *why)
{
	const char *dash = strchr(s, '-');
	uint32_t a, b;

	if (sp_val_ipv4(s, dash ? (size_t)(dash - s) : strlen(s), &a) < 0 ||
	    (dash && sp_val_ipv4(dash + 1, strlen(dash + 1), &b) < 0))
		return sp_val_why(why, s,
				  "is not an IPv4 address or range "
				  "(A.B.C.D or A.B.C.D-E.F.G.H)");
	if (!dash)
		b = a;
	if (b < a)
		return sp_val_why(why, s, "ends before it starts");
	if (b - a >= 65536)
		return sp_val_why(why, s, "holds more than 65536 addresses");
	/* A range that crosses into a block holds its first address. */
	for (size_t i = 0;
	     i < sizeof(sp_val_unusable) / sizeof(sp_val_unusable[0]); i++) {
		uint32_t lo = sp_val_unusable[i].net;
		uint32_t hi = lo | ~sp_val_unusable[i].mask;
		uint32_t bad = a > lo ? a : lo;

		if (a > hi || b < lo)
			continue;
		if (!dash || bad == 0)
			return sp_val_why(why, s, sp_val_unusable[i].why);
		snprintf(why, SP_VAL_WHY, "'%s' holds %u.%u.%u.%u, which %s", s,
			 bad >> 24, (bad >> 16) & 0xff, (bad >> 8) & 0xff,
			 bad & 0xff, sp_val_unusable[i].why);
		return -1;
	}
	*ip = a;
	*count = b - a + 1;
	return 0;
}

uint32_t
sp_val_mask(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

const char *
sp_val_target(uint32_t dst, uint32_t ip, uint32_t count, uint8_t prefix_len)
{
	uint32_t m = sp_val_mask(prefix_len);
	const char *why = sp_val_ipv4_unusable(dst);

	if (why != NULL)
		return why;
	if (dst - ip < (count ? count : 1))
		return "is one of our own addresses (--ip): a connection "
		       "needs two ends";
	if ((dst & m) == (ip & m) && (dst | m) == 0xffffffffu)
		return "is the broadcast address of our network "
		       "(--ip/--prefix-len): TCP needs a single peer";
	return NULL;
}

int
sp_val_placement(const char *s, int *want, char *why)
{
	static const char *const words[] = { "auto", "rss", "redirect" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, words[i]) == 0) {
			*want = i;
			return 0;
		}
	return sp_val_why(why, s, "is not auto, rss or redirect");
}

/* RFC 9110 5.6.2: token = 1*tchar */
int
sp_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/* "I/N" with 0 <= I < N: 0, or -1 with why in @why. */
int
sp_val_shard(const char *s, uint32_t *index, uint32_t *count, char *why)
{
	unsigned long long i, n;
	int used = -1;

	if (s == NULL || !isdigit((unsigned char)s[0]) ||
	    sscanf(s, "%llu/%llu%n", &i, &n, &used) != 2 || used < 0 ||
	    s[used] != '\0' || strchr(s, '/') == NULL ||
	    !isdigit((unsigned char)strchr(s, '/')[1])) {
		snprintf(why, SP_VAL_WHY, "'%s' is not I/N (shard I of N, I from 0)",
			 s != NULL ? s : "");
		return -1;
	}
	if (n == 0 || n > SP_VAL_SHARD_MAX) {
		snprintf(why, SP_VAL_WHY, "'%s': N must be 1 to %u", s, SP_VAL_SHARD_MAX);
		return -1;
	}
	if (i >= n) {
		snprintf(why, SP_VAL_WHY,
			 "'%s': shard I counts from 0, so it is below N "
			 "(0 to %llu)",
			 s, n - 1);
		return -1;
	}
	*index = (uint32_t)i;
	*count = (uint32_t)n;
	return 0;
}

/* Up to 9 digits of a fraction of a second, as milliseconds (truncated);
 * @s points after the '.'. The digits' count, or -1. */
static int
sp_val_frac_ms(const char *s, uint64_t *ms)
{
	int n = 0;
	uint64_t v = 0;

	while (isdigit((unsigned char)s[n]) && n < 9) {
		if (n < 3)
			v = v * 10 + (uint64_t)(s[n] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	for (int k = n; k < 3; k++)
		v *= 10;
	*ms = v;
	return n;
}

/*
 * An instant of the wall clock: RFC 3339 (2026-12-07T15:00:00Z, with a
 * fraction, an offset +01:00, 't' or ' ' for 'T', 'z' for 'Z') or seconds
 * since the epoch (1765119600, 1765119600.5, @1765119600). 0, or -1 with
 * why.
 */
int
sp_val_instant_ms(const char *s, uint64_t *ms, char *why)
{
	int Y, M, D, h, m, sec, used = -1, off = 0;
	uint64_t frac = 0;
	const char *p;
	struct tm tm;
	time_t t;

	p = s[0] == '@' ? s + 1 : s;
	if (isdigit((unsigned char)p[0]) &&
	    p[strspn(p, "0123456789.")] == '\0') {
		size_t d = strspn(p, "0123456789");
		unsigned long long v;

		errno = 0;
		v = strtoull(p, NULL, 10);
		if (errno != 0 || d > 12)
			goto bad;
		if (p[d] == '.' &&
		    (sp_val_frac_ms(p + d + 1, &frac) < 0 ||
		     p[d + 1 + strspn(p + d + 1, "0123456789")] != '\0'))
			goto bad;
		if (p[d] != '\0' && p[d] != '.')
			goto bad;
		*ms = (uint64_t)v * 1000 + frac;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m,
		   &sec, &used) != 6 ||
	    used != 19)
		goto bad;
	p = s + used;
	if (*p == '.') {
		int n = sp_val_frac_ms(p + 1, &frac);

		if (n < 0)
			goto bad;
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, n = -1;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 ||
		    oh > 23 || om > 59)
			goto bad;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		snprintf(why, SP_VAL_WHY,
			 "'%s' has no time zone (end it with Z or an offset "
			 "such as +01:00)",
			 s);
		return -1;
	}
	if (*p != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 ||
	    m > 59 || sec > 60)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || (int64_t)t - off < 0)
		goto bad;
	*ms = (uint64_t)((int64_t)t - off) * 1000 + frac;
	return 0;
bad:
	snprintf(why, SP_VAL_WHY,
		 "'%s' is not a time: RFC 3339 (2026-12-07T15:00:00Z) or "
		 "seconds since the epoch",
		 s);
	return -1;
}
