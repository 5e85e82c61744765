/*
 * The cookie jar (sp_cookie.h): RFC 6265 sections 5.1-5.4 over a fixed
 * arena of packed records, kept in creation order. Rules and trade-offs
 * are listed in the header; section numbers below are RFC 6265's.
 *
 * A record: expiry (u64, ms since the epoch, UINT64_MAX for a session
 * cookie), the lengths of name, value, domain and path (u16 each), flags
 * (u8), then the four strings. Read and written with memcpy: the arena
 * needs no alignment. The domain is stored lower-case.
 */
#include <string.h>

#include "sp_cookie.h"

#define F_HOST_ONLY 0x01
#define F_SECURE 0x02
#define F_HTTP_ONLY 0x04

#define NO_EXPIRY UINT64_MAX

struct rec {
	uint64_t expiry;
	uint16_t nl, vl, dl, pl;
	uint8_t flags;
	const uint8_t *name, *value, *domain, *path;
	uint32_t size;
};

static void
rec_read(const uint8_t *p, struct rec *r)
{
	memcpy(&r->expiry, p, 8);
	memcpy(&r->nl, p + 8, 2);
	memcpy(&r->vl, p + 10, 2);
	memcpy(&r->dl, p + 12, 2);
	memcpy(&r->pl, p + 14, 2);
	r->flags = p[16];
	r->name = p + SP_COOKIE_REC_HDR;
	r->value = r->name + r->nl;
	r->domain = r->value + r->vl;
	r->path = r->domain + r->dl;
	r->size = SP_COOKIE_REC_HDR + (uint32_t)r->nl + r->vl + r->dl + r->pl;
}

/* ASCII only: the C library's tolower() follows the locale. */
static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int
ieq(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
	if (an != bn)
		return 0;
	for (uint32_t i = 0; i < an; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* Does @a start with @lit (lower-case), ignoring ASCII case? */
static int
iprefix(const uint8_t *a, uint32_t an, const char *lit)
{
	uint32_t ln = (uint32_t)strlen(lit);

	return an >= ln && ieq(a, ln, (const uint8_t *)lit, ln);
}

/* RFC 6265bis: the control characters that refuse a whole line (HTAB is
 * whitespace, and allowed). */
static int
is_ctl(uint8_t c)
{
	return c <= 0x08 || (c >= 0x0a && c <= 0x1f) || c == 0x7f;
}

static void
trim(const uint8_t **p, uint32_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/*
 * An IP literal rather than a name: IPv6 (a ':' or a '['), or IPv4,
 * recognised as the URL standard does by a last label that is a number;
 * no name has an all-digit top-level label.
 */
static int
is_ip(const uint8_t *h, uint32_t n)
{
	uint32_t i = n;

	if (n > 0 && (memchr(h, ':', n) != NULL || h[0] == '['))
		return 1;
	if (i > 0 && h[i - 1] == '.')
		i--;
	if (i == 0)
		return 0;
	while (i > 0 && h[i - 1] != '.') {
		if (!is_digit(h[i - 1]))
			return 0;
		i--;
	}
	return 1;
}

/* 5.1.3: does the host @s domain-match @d? Case-insensitive. */
static int
domain_match(const uint8_t *s, uint32_t sn, const uint8_t *d, uint32_t dn)
{
	if (ieq(s, sn, d, dn))
		return 1;
	return dn > 0 && dn < sn && s[sn - dn - 1] == '.' &&
	       ieq(s + sn - dn, dn, d, dn) && !is_ip(s, sn);
}

/* The request's path for matching: the target up to '?' or '#'; "/"
 * when that is empty or not absolute (5.1.4's uri-path rule). */
static void
req_path(const char *path, uint32_t n, const uint8_t **rp, uint32_t *rn)
{
	const uint8_t *p = (const uint8_t *)path;
	uint32_t i = 0;

	while (i < n && p[i] != '?' && p[i] != '#')
		i++;
	if (i == 0 || p[0] != '/') {
		*rp = (const uint8_t *)"/";
		*rn = 1;
		return;
	}
	*rp = p;
	*rn = i;
}

/* 5.1.4: the default-path of a request path (already through req_path):
 * up to, not including, its right-most '/', or "/" if that is the
 * first. */
static void
default_path(const uint8_t **rp, uint32_t *rn)
{
	uint32_t i = *rn;

	while (i > 0 && (*rp)[i - 1] != '/')
		i--;
	/* i - 1 is the right-most '/', and there is one at 0 */
	if (i <= 1) {
		*rp = (const uint8_t *)"/";
		*rn = 1;
		return;
	}
	*rn = i - 1;
}

/* 5.1.4: does the request path @r path-match the cookie path @c? */
static int
path_match(const uint8_t *r, uint32_t rn, const uint8_t *c, uint32_t cn)
{
	if (cn > rn || memcmp(r, c, cn) != 0)
		return 0;
	return cn == rn || (cn > 0 && c[cn - 1] == '/') || r[cn] == '/';
}

/* ---- 5.1.1: dates ---- */

static int
date_delim(uint8_t c)
{
	return c == 0x09 || (c >= 0x20 && c <= 0x2f) ||
	       (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
	       (c >= 0x7b && c <= 0x7e);
}

/* 1 to @max digits at t[*i], then the token's end or a non-digit. The
 * value goes to *v and *i past the digits. */
static int
digits(const uint8_t *t, uint32_t n, uint32_t *i, uint32_t max, int *v)
{
	uint32_t k = 0;

	*v = 0;
	while (*i < n && k < max && is_digit(t[*i])) {
		*v = *v * 10 + (t[*i] - '0');
		(*i)++, k++;
	}
	return k > 0;
}

static int
ends_number(const uint8_t *t, uint32_t n, uint32_t i)
{
	return i == n || !is_digit(t[i]);
}

/* time = hms-time ( non-digit *OCTET ), hms-time = 1*2DIGIT ":" ... */
static int
date_time(const uint8_t *t, uint32_t n, int hms[3])
{
	uint32_t i = 0;

	for (int k = 0; k < 3; k++) {
		if (!digits(t, n, &i, 2, &hms[k]))
			return 0;
		if (k < 2) {
			if (i == n || t[i] != ':')
				return 0;
			i++;
		}
	}
	return ends_number(t, n, i);
}

/* 1*max digits after at least @min, then the end or a non-digit. */
static int
date_num(const uint8_t *t, uint32_t n, uint32_t min, uint32_t max, int *v)
{
	uint32_t i = 0;

	return digits(t, n, &i, max, v) && i >= min && ends_number(t, n, i);
}

static int
date_month(const uint8_t *t, uint32_t n)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (lower(t[0]) == names[3 * m] &&
		    lower(t[1]) == names[3 * m + 1] &&
		    lower(t[2]) == names[3 * m + 2])
			return m + 1;
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
sp_cookie_date(const char *str, uint32_t n, uint64_t *ms)
{
	static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30,
					   31, 31, 30, 31, 30, 31 };
	static const uint16_t before[12] = { 0,   31,  59,  90,  120, 151,
					     181, 212, 243, 273, 304, 334 };
	const uint8_t *s = (const uint8_t *)str;
	int hms[3] = { 0 }, day = 0, month = 0, year = 0;
	int have_time = 0, have_day = 0, have_year = 0;
	uint32_t i = 0;

	while (i < n) {
		while (i < n && date_delim(s[i]))
			i++;
		uint32_t b = i;
		while (i < n && !date_delim(s[i]))
			i++;
		const uint8_t *t = s + b;
		uint32_t tn = i - b;
		int v, m;

		if (tn == 0)
			break;
		if (!have_time && date_time(t, tn, hms))
			have_time = 1;
		else if (!have_day && date_num(t, tn, 1, 2, &v))
			have_day = 1, day = v;
		else if (!month && (m = date_month(t, tn)) != 0)
			month = m;
		else if (!have_year && date_num(t, tn, 2, 4, &v))
			have_year = 1, year = v;
	}
	if (year >= 70 && year <= 99)
		year += 1900;
	else if (year >= 0 && year <= 69)
		year += 2000;
	if (!have_time || !have_day || !month || !have_year || day < 1 ||
	    day > 31 || year < 1601 || hms[0] > 23 || hms[1] > 59 ||
	    hms[2] > 59)
		return -1;
	/* "If the date does not exist": February 30th and the like. */
	if (day > mdays[month - 1] + (month == 2 && leap(year)))
		return -1;
	if (year < 1970) {
		*ms = 0; /* the earliest time we represent */
		return 0;
	}
	int y1 = year - 1;
	uint64_t days = (uint64_t)365 * (uint64_t)(year - 1970) +
			(uint64_t)(y1 / 4 - y1 / 100 + y1 / 400) -
			(1969 / 4 - 1969 / 100 + 1969 / 400) +
			before[month - 1] + (month > 2 && leap(year)) +
			(uint64_t)(day - 1);
	*ms = ((days * 86400) + (uint64_t)hms[0] * 3600 +
	       (uint64_t)hms[1] * 60 + (uint64_t)hms[2]) *
	      1000;
	return 0;
}

/* 5.2.2: Max-Age. 0 and *@exp set, or -1 to ignore the attribute. */
static int
max_age(const uint8_t *v, uint32_t n, uint64_t now, uint64_t *exp)
{
	uint64_t d = 0;
	uint32_t i = 0;
	int neg = 0;

	if (n == 0 || (!is_digit(v[0]) && v[0] != '-'))
		return -1;
	if (v[0] == '-') {
		neg = 1;
		i = 1;
		if (n == 1)
			return -1;
	}
	for (; i < n; i++) {
		if (!is_digit(v[i]))
			return -1;
		/* stop counting well past any date: 10^15 s is 31
		 * million years, and never expires here */
		if (d < 1000000000000000ull)
			d = d * 10 + (uint64_t)(v[i] - '0');
	}
	if (neg || d == 0) {
		*exp = 0;
		return 0;
	}
	if (d >= 1000000000000000ull) {
		*exp = NO_EXPIRY;
		return 0;
	}
	d *= 1000;
	*exp = now > NO_EXPIRY - d ? NO_EXPIRY : now + d;
	return 0;
}

/* ---- the arena ---- */

void
sp_cookie_jar_init(struct sp_cookie_jar *j, void *arena, uint32_t cap)
{
	j->arena = arena;
	j->cap = arena != NULL ? cap : 0;
	j->used = 0;
	j->count = 0;
}

void
sp_cookie_jar_clear(struct sp_cookie_jar *j)
{
	j->used = 0;
	j->count = 0;
}

static void
remove_at(struct sp_cookie_jar *j, uint32_t off, uint32_t size)
{
	memmove(j->arena + off, j->arena + off + size, j->used - off - size);
	j->used -= size;
	j->count--;
}

/* Drop the expired records; *@pos, an offset at a record boundary, moves
 * with what is before it. */
static uint32_t
purge(struct sp_cookie_jar *j, uint64_t now, uint32_t *pos)
{
	uint32_t off = 0, gone = 0;
	struct rec r;

	while (off < j->used) {
		rec_read(j->arena + off, &r);
		if (r.expiry > now) {
			off += r.size;
			continue;
		}
		if (off < *pos)
			*pos -= r.size;
		remove_at(j, off, r.size);
		gone++;
	}
	return gone;
}

uint32_t
sp_cookie_purge(struct sp_cookie_jar *j, uint64_t now_ms)
{
	uint32_t pos = 0;

	return purge(j, now_ms, &pos);
}

/* What sp_cookie_set parsed and decided, before it touches the arena. */
struct parsed {
	const uint8_t *name, *value, *domain, *path;
	uint32_t nl, vl, dl, pl;
	uint64_t expiry;
	uint8_t flags;
};

/* 5.2: the line into @c (domain and path not yet decided). */
static int
parse_line(const uint8_t *s, uint32_t n, uint64_t now, struct parsed *c,
	   int *path_attr)
{
	uint64_t exp_max_age = 0, exp_expires = 0;
	int have_max_age = 0, have_expires = 0;
	uint32_t end, i;
	const uint8_t *eq;

	if (n == 0)
		return SP_COOKIE_ESYNTAX;
	for (i = 0; i < n; i++)
		if (is_ctl(s[i]))
			return SP_COOKIE_ESYNTAX;
	const uint8_t *semi = memchr(s, ';', n);
	end = semi != NULL ? (uint32_t)(semi - s) : n;
	eq = memchr(s, '=', end);
	if (eq == NULL)
		return SP_COOKIE_ESYNTAX;
	c->name = s;
	c->nl = (uint32_t)(eq - s);
	c->value = eq + 1;
	c->vl = end - c->nl - 1;
	trim(&c->name, &c->nl);
	trim(&c->value, &c->vl);
	if (c->nl == 0)
		return SP_COOKIE_ESYNTAX;

	c->domain = NULL;
	c->dl = 0;
	c->path = NULL;
	c->pl = 0;
	c->flags = 0;
	*path_attr = 0;
	i = end;
	while (i < n) {
		uint32_t b = ++i; /* past the ';' */
		while (i < n && s[i] != ';')
			i++;
		const uint8_t *an = s + b, *av = s + i;
		uint32_t anl = i - b, avl = 0;
		const uint8_t *e = memchr(an, '=', anl);
		if (e != NULL) {
			av = e + 1;
			avl = (uint32_t)(s + i - av);
			anl = (uint32_t)(e - an);
		}
		trim(&an, &anl);
		trim(&av, &avl);
		uint64_t t;

		if (ieq(an, anl, (const uint8_t *)"expires", 7)) {
			if (sp_cookie_date((const char *)av, avl, &t) == 0)
				have_expires = 1, exp_expires = t;
		} else if (ieq(an, anl, (const uint8_t *)"max-age", 7)) {
			if (max_age(av, avl, now, &t) == 0)
				have_max_age = 1, exp_max_age = t;
		} else if (ieq(an, anl, (const uint8_t *)"domain", 6)) {
			/* 5.2.3: an empty value is ignored; one leading dot
			 * dropped; nothing left means host-only (5.3 4) */
			if (avl == 0)
				continue;
			if (av[0] == '.')
				av++, avl--;
			c->domain = avl > 0 ? av : NULL;
			c->dl = avl;
		} else if (ieq(an, anl, (const uint8_t *)"path", 4)) {
			/* 5.2.4: not absolute: the default path */
			*path_attr = avl > 0 && av[0] == '/';
			c->path = *path_attr ? av : NULL;
			c->pl = *path_attr ? avl : 0;
		} else if (ieq(an, anl, (const uint8_t *)"secure", 6)) {
			c->flags |= F_SECURE;
		} else if (ieq(an, anl, (const uint8_t *)"httponly", 8)) {
			c->flags |= F_HTTP_ONLY;
		}
	}
	/* 5.3 step 3: Max-Age before Expires, else a session cookie */
	c->expiry = have_max_age ? exp_max_age :
		    have_expires ? exp_expires :
				   NO_EXPIRY;
	return 0;
}

/* Is there a live Secure cookie that a non-secure @c would shadow
 * (RFC 6265bis 5.7 step 16)? */
static int
shadows_secure(const struct sp_cookie_jar *j, const struct parsed *c,
	       uint64_t now)
{
	struct rec r;

	for (uint32_t off = 0; off < j->used; off += r.size) {
		rec_read(j->arena + off, &r);
		if (!(r.flags & F_SECURE) || r.expiry <= now || r.nl != c->nl ||
		    memcmp(r.name, c->name, c->nl) != 0)
			continue;
		if ((domain_match(r.domain, r.dl, c->domain, c->dl) ||
		     domain_match(c->domain, c->dl, r.domain, r.dl)) &&
		    path_match(c->path, c->pl, r.path, r.pl))
			return 1;
	}
	return 0;
}

/* The record with @c's name, domain and path (5.3 step 11): its offset,
 * or -1. */
static int64_t
find_same(const struct sp_cookie_jar *j, const struct parsed *c, uint32_t *size)
{
	struct rec r;

	for (uint32_t off = 0; off < j->used; off += r.size) {
		rec_read(j->arena + off, &r);
		if (r.nl == c->nl && memcmp(r.name, c->name, c->nl) == 0 &&
		    ieq(r.domain, r.dl, c->domain, c->dl) && r.pl == c->pl &&
		    memcmp(r.path, c->path, c->pl) == 0) {
			*size = r.size;
			return off;
		}
	}
	return -1;
}

static void
insert_at(struct sp_cookie_jar *j, uint32_t pos, const struct parsed *c,
	  uint32_t size)
{
	uint8_t *p = j->arena + pos;
	uint16_t l[4] = { (uint16_t)c->nl, (uint16_t)c->vl, (uint16_t)c->dl,
			  (uint16_t)c->pl };

	memmove(p + size, p, j->used - pos);
	memcpy(p, &c->expiry, 8);
	memcpy(p + 8, l, sizeof(l));
	p[16] = c->flags;
	p += SP_COOKIE_REC_HDR;
	memcpy(p, c->name, c->nl);
	p += c->nl;
	memcpy(p, c->value, c->vl);
	p += c->vl;
	for (uint32_t i = 0; i < c->dl; i++)
		p[i] = lower(c->domain[i]);
	p += c->dl;
	memcpy(p, c->path, c->pl);
	j->used += size;
	j->count++;
}

int
sp_cookie_set(struct sp_cookie_jar *j, const char *v, uint32_t n,
	      const char *host, uint32_t host_len, const char *path,
	      uint32_t path_len, int secure, uint64_t now_ms)
{
	const uint8_t *h = (const uint8_t *)host;
	struct parsed c;
	int path_attr, rc, evicted = 0;

	rc = parse_line((const uint8_t *)v, n, now_ms, &c, &path_attr);
	if (rc < 0)
		return rc;

	/* 5.3 steps 4-6, without a public suffix list (see the header) */
	if (c.domain != NULL) {
		if (!domain_match(h, host_len, c.domain, c.dl))
			return SP_COOKIE_EDOMAIN;
		const uint8_t *dot = memchr(c.domain, '.', c.dl);
		if ((dot == NULL || dot == c.domain + c.dl - 1) &&
		    !ieq(h, host_len, c.domain, c.dl))
			return SP_COOKIE_EDOMAIN;
	} else {
		c.flags |= F_HOST_ONLY;
		c.domain = h;
		c.dl = host_len;
	}
	if (c.path == NULL) {
		req_path(path, path_len, &c.path, &c.pl);
		default_path(&c.path, &c.pl);
	}

	/* RFC 6265bis: Secure only from a secure request; the prefixes */
	if ((c.flags & F_SECURE) && !secure)
		return SP_COOKIE_ESECURE;
	if (iprefix(c.name, c.nl, "__secure-") && !(c.flags & F_SECURE))
		return SP_COOKIE_EPREFIX;
	if (iprefix(c.name, c.nl, "__host-") &&
	    (!(c.flags & F_SECURE) || !(c.flags & F_HOST_ONLY) || !path_attr ||
	     c.pl != 1))
		return SP_COOKIE_EPREFIX;
	if (!(c.flags & F_SECURE) && !secure && shadows_secure(j, &c, now_ms))
		return SP_COOKIE_ESECURE;

	uint32_t old_size = 0;
	int64_t old = find_same(j, &c, &old_size);
	if (c.expiry <= now_ms) {
		/* a deletion needs no room, only a match */
		if (old < 0)
			return SP_COOKIE_EXPIRED;
		remove_at(j, (uint32_t)old, old_size);
		return SP_COOKIE_DELETED;
	}
	if (c.nl > 0xffff || c.vl > 0xffff || c.dl > 0xffff || c.pl > 0xffff)
		return SP_COOKIE_ETOOBIG;
	uint64_t size64 = (uint64_t)SP_COOKIE_REC_HDR + c.nl + c.vl + c.dl +
			  c.pl;
	if (size64 > j->cap)
		return SP_COOKIE_ETOOBIG;
	uint32_t size = (uint32_t)size64, pos = j->used;
	if (old >= 0) {
		/* the new one takes the old one's place: creation order */
		pos = (uint32_t)old;
		remove_at(j, pos, old_size);
	}
	if (size > j->cap - j->used)
		purge(j, now_ms, &pos);
	while (size > j->cap - j->used) {
		struct rec r;

		/* the oldest; the new cookie's place moves with it, unless
		 * that place is first (an old cookie replaced) */
		rec_read(j->arena, &r);
		pos = pos >= r.size ? pos - r.size : 0;
		remove_at(j, 0, r.size);
		evicted = 1;
	}
	insert_at(j, pos, &c, size);
	if (evicted)
		return SP_COOKIE_EVICTED;
	return old >= 0 ? SP_COOKIE_REPLACED : SP_COOKIE_STORED;
}

/* 5.4 step 1: would a request to this host, path and scheme send @r? */
static int
rec_applies(const struct rec *r, const uint8_t *h, uint32_t hn,
	    const uint8_t *rp, uint32_t rn, int secure, uint64_t now)
{
	if (r->expiry <= now || ((r->flags & F_SECURE) && !secure))
		return 0;
	if (r->flags & F_HOST_ONLY) {
		if (!ieq(h, hn, r->domain, r->dl))
			return 0;
	} else if (!domain_match(h, hn, r->domain, r->dl)) {
		return 0;
	}
	return path_match(rp, rn, r->path, r->pl);
}

uint32_t
sp_cookie_header(const struct sp_cookie_jar *j, const char *host,
		 uint32_t host_len, const char *path, uint32_t path_len,
		 int secure, uint64_t now_ms, char *out, uint32_t cap)
{
	const uint8_t *h = (const uint8_t *)host, *rp;
	uint32_t rn, need = 0, w = 0, off;
	int64_t level = -1;
	struct rec r;

	req_path(path, path_len, &rp, &rn);
	for (off = 0; off < j->used; off += r.size) {
		rec_read(j->arena + off, &r);
		if (!rec_applies(&r, h, host_len, rp, rn, secure, now_ms))
			continue;
		need += (need > 0 ? 2 : 0) + r.nl + 1 + r.vl;
		if (r.pl > level)
			level = r.pl;
	}
	if (need == 0 || need > cap)
		return need;
	/* 5.4 step 2: longer paths first; within a length, the arena's
	 * order, which is creation order. One pass per path length. */
	while (level >= 0) {
		int64_t next = -1;

		for (off = 0; off < j->used; off += r.size) {
			rec_read(j->arena + off, &r);
			if (!rec_applies(&r, h, host_len, rp, rn, secure,
					 now_ms))
				continue;
			if (r.pl < level && r.pl > next)
				next = r.pl;
			if (r.pl != level)
				continue;
			if (w > 0) {
				out[w++] = ';';
				out[w++] = ' ';
			}
			memcpy(out + w, r.name, r.nl);
			w += r.nl;
			out[w++] = '=';
			memcpy(out + w, r.value, r.vl);
			w += r.vl;
		}
		level = next;
	}
	return w;
}

int
sp_cookie_get(const struct sp_cookie_jar *j, const char *name,
	      uint32_t name_len, const char *host, uint32_t host_len,
	      const char *path, uint32_t path_len, int secure, uint64_t now_ms,
	      const char **val, uint32_t *len)
{
	const uint8_t *rp;
	uint32_t rn;
	int64_t best = -1;
	struct rec r;

	req_path(path, path_len, &rp, &rn);
	for (uint32_t off = 0; off < j->used; off += r.size) {
		rec_read(j->arena + off, &r);
		if (r.nl != name_len || memcmp(r.name, name, name_len) != 0 ||
		    r.pl <= best ||
		    !rec_applies(&r, (const uint8_t *)host, host_len, rp, rn,
				 secure, now_ms))
			continue;
		/* the first the header would list: strictly longer path */
		best = r.pl;
		*val = (const char *)r.value;
		*len = r.vl;
	}
	return best >= 0;
}
