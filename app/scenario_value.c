/*
 * Values written the same way in a scenario file and on the command line:
 * numbers, durations, URLs, resolve entries, stages, load keys, status
 * lists, and the command-line overrides (sp_scenario_set).
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "sp_scenario_int.h"
#include "sp_values.h"

/* ---- value parsers shared by the file and the command line ---- */

int
sp_val_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *why)
{
	const char *end;

	if (sp_val_digits(s, &end, v) < 0 || *end != '\0')
		return sp_why(why, "'%s' is not a whole number", s);
	if (*v < min || *v > max)
		return sp_why(why, "%s is out of range [%llu, %llu]", s,
			      (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* DIGITS[.DIGITS], at most SP_MAX_RATE: strtod alone would take "inf",
 * "nan", hex and exponents. */
int
sp_val_num(const char *s, double *v, char *why)
{
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		goto bad;
	*v = strtod(s, NULL);
	if (*v > SP_MAX_RATE)
		return sp_why(why, "%s is too large (at most %.0f)", s,
			      SP_MAX_RATE);
	return 0;
bad:
	return sp_why(why, "'%s' is not a number", s);
}

int
sp_val_bool(const char *s, int *v, char *why)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0) {
		*v = 1;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0) {
		*v = 0;
		return 0;
	}
	return sp_why(why, "'%s' is not true or false", s);
}

/* An address a peer can have (sp_values.h: sp_val_ipv4_unusable). */
int
sp_ipv4_peer(const char *s, uint32_t *ip, char *why)
{
	struct in_addr a;
	const char *bad;

	/* inet_pton takes only the dotted quad: no octal, no short forms. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return sp_why(why, "'%s' is not an IPv4 address", s);
	*ip = ntohl(a.s_addr);
	if ((bad = sp_val_ipv4_unusable(*ip)) != NULL)
		return sp_why(why, "%s %s", s, bad);
	return 0;
}

/*
 * A host name (RFC 1123 2.1, with '_' as DNS allows in practice): labels
 * of letters, digits, '-' and '_' between dots, 1 to 63 bytes each, 253 at
 * most in all. Digits and dots alone are an IPv4 address that is not a
 * dotted quad ("10.1", "1.2.3.4.5"): refused rather than handed to a
 * resolver that would read it in its own way.
 */
static int
sp_val_hostname(const char *s, size_t n, char *why)
{
	size_t label = 0;
	int alpha = 0;

	if (n == 0)
		return sp_why(why, "no host");
	if (n > SP_MAX_HOSTNAME)
		return sp_why(why, "the host name is longer than %d bytes",
			      SP_MAX_HOSTNAME);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return sp_why(why,
					      "'%.*s': an empty label in "
					      "the host name",
					      (int)n, s);
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return sp_why(why,
				      "'%.*s' is neither an IPv4 address "
				      "nor a host name (byte '%c')",
				      (int)n, s, isprint(c) ? c : '?');
		if (!isdigit(c))
			alpha = 1;
		if (++label > 63)
			return sp_why(why,
				      "'%.*s': a label of the host name "
				      "is longer than 63 bytes",
				      (int)n, s);
	}
	if (!alpha)
		return sp_why(why, "'%.*s' is not an IPv4 address (A.B.C.D)",
			      (int)n, s);
	return 0;
}

/*
 * http://HOST[:PORT][/path] or https://... (ws://, wss:// alike), HOST
 * an IPv4 address or a host name; the port 80 or 443 when not given.
 * @path_ok: anything after the authority must be a path (--url);
 * otherwise only "/" (target:). u->path points into @s, or at "/" when
 * there is none.
 */
int
sp_val_url(const char *s, int path_ok, struct sp_url *u, char *why)
{
	/* ws:// and wss:// are http:// and https:// to the connection
	 * (RFC 6455 3): the upgrade is a request on it, wss TLS underneath. */
	static const struct {
		const char *scheme;
		uint8_t tls, ws;
	} schemes[] = {
		{ "http", 0, 0 },
		{ "https", 1, 0 },
		{ "ws", 0, 1 },
		{ "wss", 1, 1 },
	};
	const char *h, *end;
	struct in_addr a;
	char w2[SP_WHY];
	uint64_t p;
	size_t n, alen, i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].scheme);
		if (strncmp(s, schemes[i].scheme, n) == 0 &&
		    strncmp(s + n, "://", 3) == 0)
			break;
	}
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return sp_why(why,
			      "'%s' is not an http:// or https:// URL (nor "
			      "ws:// or wss://)",
			      s);
	u->tls = schemes[i].tls;
	u->ws = schemes[i].ws;
	u->scheme = schemes[i].scheme;
	h = s + n + 3;
	p = u->tls ? 443 : 80;
	alen = strcspn(h, "/?#");
	if (memchr(h, '@', alen) != NULL)
		return sp_why(why,
			      "'%s': user credentials in a URL are not "
			      "supported (send an Authorization header)",
			      s);
	if (*h == '[')
		return sp_why(why, "'%s': IPv6 is not supported yet", s);
	n = strcspn(h, ":/?#");
	if (n > SP_MAX_HOSTNAME)
		return sp_why(why,
			      "'%s': the host name is longer than %d bytes", s,
			      SP_MAX_HOSTNAME);
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	if (inet_pton(AF_INET, u->host, &a) == 1) {
		if (sp_ipv4_peer(u->host, &u->ip, w2) < 0)
			return sp_why(why, "'%s': %s", s, w2);
		u->is_name = 0;
	} else {
		if (sp_val_hostname(u->host, n, why) < 0)
			return -1;
		u->is_name = 1;
		u->ip = 0;
	}
	end = h + n;
	if (*end == ':') {
		if (sp_val_digits(end + 1, &end, &p) < 0 || p < 1 || p > 65535)
			return sp_why(why, "'%s': the port must be 1..65535",
				      s);
	}
	u->port = (uint16_t)p;
	u->path = *end == '\0' ? "/" : end;
	if (*end != '\0' && *end != '/')
		return sp_why(why, "'%s' is not %s://HOST[:PORT]/path", s,
			      u->scheme);
	if (!path_ok && strcmp(u->path, "/") != 0)
		return sp_why(why,
			      "'%s': a target has no path (paths go in "
			      "requests)",
			      s);
	return 0;
}

/*
 * One name-to-address entry: @key "NAME" or "NAME:PORT" (curl's
 * --resolve, whose HOST:PORT:ADDR is split before), @addr a dotted quad.
 * Entries added later win (sp_scenario_resolve looks from the last):
 * the command line's come after the file's.
 */
int
sp_add_resolve(struct sp_plan *pl, const char *key, const char *addr, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	const char *colon = strchr(key, ':');
	size_t n = colon != NULL ? (size_t)(colon - key) : strlen(key);
	struct sp_resolve *r;
	uint64_t port = 0;
	const char *end;
	uint32_t ip;

	if (sp_val_hostname(key, n, why) < 0)
		return -1;
	if (colon != NULL && (sp_val_digits(colon + 1, &end, &port) < 0 ||
			      *end != '\0' || port < 1 || port > 65535))
		return sp_why(why, "'%s': the port must be 1..65535", key);
	if (sp_ipv4_peer(addr, &ip, why) < 0)
		return -1;
	if (sp_run_plan_of(pl)->nresolve == SP_MAX_RESOLVE)
		return sp_why(why, "more than %u names", SP_MAX_RESOLVE);
	pv->res = sp_mem_grow(pl, pv->res, &pv->res_cap,
			      sp_run_plan_of(pl)->nresolve + 1,
			      sizeof(*pv->res));
	if (pv->res == NULL)
		return sp_why(why, "out of memory");
	r = &pv->res[sp_run_plan_of(pl)->nresolve];
	r->name = sp_mem_strndup(pl, key, n);
	if (r->name == NULL)
		return sp_why(why, "out of memory");
	r->port = (uint16_t)port;
	r->ip = ip;
	sp_run_plan_of(pl)->resolve = pv->res;
	sp_run_plan_of(pl)->nresolve++;
	return 0;
}

/* --resolve NAME:ADDR or NAME:PORT:ADDR */
static int
sp_set_resolve(struct sp_plan *pl, const char *v, char *why)
{
	const char *colon = strrchr(v, ':');
	char key[SP_MAX_HOSTNAME + 8];

	if (colon == NULL || colon == v || (size_t)(colon - v) >= sizeof(key))
		return sp_why(why, "'%s' is not NAME:ADDR or NAME:PORT:ADDR",
			      v);
	memcpy(key, v, (size_t)(colon - v));
	key[colon - v] = '\0';
	return sp_add_resolve(pl, key, colon + 1, why);
}

/* "30s:20,1m:200,30s:0" */
int
sp_val_stages(const char *s, struct sp_stage *st, uint32_t *nst, char *why)
{
	char buf[64];
	const char *p = s;
	uint32_t n = 0;

	if (*s == '\0')
		return sp_why(why, "no stages");
	for (;;) {
		size_t len = strcspn(p, ",");
		char *colon;

		if (n == SP_PLAN_MAX_STAGES)
			return sp_why(why, "more than %d stages",
				      SP_PLAN_MAX_STAGES);
		if (len >= sizeof(buf))
			return sp_why(why, "stage %u is not DURATION:TARGET",
				      n + 1);
		memcpy(buf, p, len);
		buf[len] = '\0';
		colon = strchr(buf, ':');
		if (colon == NULL || colon[1] == '\0')
			return sp_why(why, "stage %u ('%s') has no target",
				      n + 1, buf);
		*colon = '\0';
		if (sp_val_duration(buf, &st[n].duration_us, why) < 0 ||
		    sp_val_num(colon + 1, &st[n].target, why) < 0)
			return -1;
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*nst = n;
	return 0;
}

/*
 * One load key (file spelling, with '_') from its string value. *bit says
 * which SP_K_* key it was, for the precedence rules.
 */
int
sp_load_key(struct sp_plan *pl, const char *key, const char *v, unsigned *bit,
	    char *why)
{
	uint64_t x;
	double d;

	*bit = 0;
	if (strcmp(key, "vus") == 0) {
		if (sp_val_u64(v, 1, SP_MAX_VUS, &x, why) < 0)
			return -1;
		pl->vus = (uint32_t)x;
		*bit = SP_K_VUS;
	} else if (strcmp(key, "rate") == 0) {
		if (sp_val_num(v, &d, why) < 0)
			return -1;
		if (d <= 0)
			return sp_why(why, "%s: the rate must be more than 0",
				      v);
		pl->rate = d;
		*bit = SP_K_RATE;
	} else if (strcmp(key, "max_vus") == 0) {
		if (sp_val_u64(v, 1, SP_MAX_VUS, &x, why) < 0)
			return -1;
		sp_run_plan_of(pl)->max_vus = (uint32_t)x;
		*bit = SP_K_MAX_VUS;
	} else if (strcmp(key, "duration") == 0) {
		if (sp_val_duration(v, &x, why) < 0)
			return -1;
		if (x == 0)
			return sp_why(
				why, "%s: the duration must be more than 0", v);
		pl->duration_us = x;
		*bit = SP_K_DURATION;
	} else if (strcmp(key, "stages") == 0) {
		if (sp_val_stages(v, pl->stages, &pl->nstages, why) < 0)
			return -1;
		*bit = SP_K_STAGES;
	} else if (strcmp(key, "model") == 0) {
		if (strcmp(v, "closed") == 0)
			pl->model = SP_MODEL_CLOSED;
		else if (strcmp(v, "open") == 0)
			pl->model = SP_MODEL_OPEN;
		else
			return sp_why(why, "'%s' is not closed or open", v);
		*bit = SP_K_MODEL;
	} else if (strcmp(key, "connect_timeout") == 0 ||
		   strcmp(key, "response_timeout") == 0) {
		if (sp_val_duration(v, &x, why) < 0)
			return -1;
		if (x == 0)
			return sp_why(why,
				      "%s: the timeout must be more than 0", v);
		/* The stack's connect timer is 32-bit microseconds. */
		if (key[0] == 'c' && x > UINT32_MAX)
			return sp_why(why,
				      "%s is longer than 4294s, the longest "
				      "connect timeout (the stack's timers are "
				      "32-bit microseconds)",
				      v);
		if (key[0] == 'c')
			sp_run_plan_of(pl)->connect_timeout_us = x;
		else
			pl->response_timeout_us = x;
	} else if (strcmp(key, "seed") == 0) {
		if (sp_val_u64(v, 0, UINT64_MAX, &x, why) < 0)
			return -1;
		sp_run_plan_of(pl)->seed = x;
	} else if (strcmp(key, "vu_offset") == 0) {
		/* {{vu}} from N + 1: machines splitting a user range. */
		if (sp_val_u64(v, 0, SP_MAX_VU_OFFSET, &x, why) < 0)
			return -1;
		pl->vu_offset = x;
	} else {
		return sp_why(why, "unknown key");
	}
	return 0;
}

int
sp_set_target(struct sp_plan *pl, const struct sp_url *u, char *why)
{
	char host[SP_MAX_HOSTNAME + 8];

	/* The authority as written (RFC 9110 7.2): the port may be left
	 * out when it is the scheme's default. */
	if (u->port == (u->tls ? 443 : 80))
		snprintf(host, sizeof(host), "%s", u->host);
	else
		snprintf(host, sizeof(host), "%s:%u", u->host, u->port);
	pl->host = sp_mem_strdup(pl, host);
	sp_run_plan_of(pl)->target_name = u->is_name ?
						  sp_mem_strdup(pl, u->host) :
						  NULL;
	if (pl->host == NULL ||
	    (u->is_name && sp_run_plan_of(pl)->target_name == NULL))
		return sp_why(why, "out of memory");
	pl->dst_ip = u->ip;
	pl->dst_port = u->port;
	sp_run_plan_of(pl)->tls.on = u->tls;
	sp_run_plan_of(pl)->scheme = u->scheme;
	return 0;
}

/* A path of a tls: key: relative ones from @dir (the file's), and the
 * file must be there to read now, so a typo fails before the run. */
static int
sp_tls_path(struct sp_plan *pl, const char *key, const char *v, const char *dir,
	    size_t dirlen, const char **out, char *why)
{
	char path[4096];
	int rc;

	if (*v == '\0')
		return sp_why(why, "tls.%s: an empty path", key);
	if (v[0] == '/' || dir == NULL || dirlen == 0)
		rc = snprintf(path, sizeof(path), "%s", v);
	else
		rc = snprintf(path, sizeof(path), "%.*s/%s", (int)dirlen, dir,
			      v);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return sp_why(why, "tls.%s: path too long", key);
	if (access(path, R_OK) != 0)
		return sp_why(why, "tls.%s: cannot read '%s': %s", key, path,
			      strerror(errno));
	*out = sp_mem_strdup(pl, path);
	return *out == NULL ? sp_why(why, "out of memory") : 0;
}

int
sp_tls_key(struct sp_plan *pl, const char *key, const char *v, const char *dir,
	   size_t dirlen, char *why)
{
	struct sp_run_tls *t = &sp_run_plan_of(pl)->tls;

	if (strcmp(key, "verify") == 0) {
		if (strcmp(v, "true") == 0)
			t->insecure = 0;
		else if (strcmp(v, "false") == 0)
			t->insecure = 1;
		else
			return sp_why(why,
				      "tls.verify: '%s' is not true or "
				      "false",
				      v);
		return 0;
	}
	if (strcmp(key, "ca") == 0)
		return sp_tls_path(pl, key, v, dir, dirlen, &t->ca, why);
	if (strcmp(key, "cert") == 0)
		return sp_tls_path(pl, key, v, dir, dirlen, &t->cert, why);
	if (strcmp(key, "key") == 0)
		return sp_tls_path(pl, key, v, dir, dirlen, &t->key, why);
	if (strcmp(key, "resume") == 0) {
		if (strcmp(v, "session") == 0)
			t->resume = SP_RUN_RESUME_SESSION;
		else if (strcmp(v, "none") == 0)
			t->resume = SP_RUN_RESUME_NONE;
		else if (strcmp(v, "ticket") == 0)
			t->resume = SP_RUN_RESUME_TICKET;
		else
			return sp_why(why,
				      "tls.resume: '%s' is not none, "
				      "session or ticket",
				      v);
		return 0;
	}
	if (strcmp(key, "engine") == 0) {
		/* The names lib/tls builds (sp_tls_engine_find): the loader
		 * is built without it (the unit test, the fuzz target). */
		static const char *const names[] = { "mbedtls", "openssl" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(v, names[i]) == 0) {
				t->engine = names[i];
				return 0;
			}
		return sp_why(why, "tls.engine: '%s' is not mbedtls or openssl",
			      v);
	}
	if (strcmp(key, "server_name") == 0) {
		if (sp_val_hostname(v, strlen(v), why) < 0)
			return -1;
		t->server_name = sp_mem_strdup(pl, v);
		return t->server_name == NULL ? sp_why(why, "out of memory") :
						0;
	}
	if (strcmp(key, "psk") == 0) {
		/* The engine reads the key at start and says what is wrong
		 * with it; here only its shape. */
		if (strchr(v, ':') == NULL)
			return sp_why(why, "tls.psk: expected IDENTITY:HEXKEY");
		t->psk = sp_mem_strdup(pl, v);
		return t->psk == NULL ? sp_why(why, "out of memory") : 0;
	}
	if (strcmp(key, "ciphers") == 0 || strcmp(key, "curves") == 0) {
		const char **dst = key[1] == 'i' ? &t->ciphers : &t->curves;

		if (*v == '\0')
			return sp_why(why, "tls.%s: an empty list", key);
		*dst = sp_mem_strdup(pl, v);
		return *dst == NULL ? sp_why(why, "out of memory") : 0;
	}
	return sp_why(why,
		      "unknown key tls.%s (verify, ca, cert, key, "
		      "ciphers, curves, engine, psk, resume, server_name)",
		      key);
}

/*
 * A list of expected statuses, "200", "2xx", "200-299", "200,304,4xx"
 * (codes 100..999), into @set. Shared by expect_status: (a scalar, or a
 * sequence whose items may be lists too) and --expect-status.
 */
int
sp_val_statuses(const char *s, uint64_t *set, char *why)
{
	const char *p = s;

	for (;;) {
		size_t n = strcspn(p, ",");
		char item[32];
		unsigned lo, hi;
		int used = 0;

		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(item) || n == 0)
			return sp_why(why,
				      "'%s': expected status codes, "
				      "ranges or classes (200, 200-299, 2xx)",
				      s);
		memcpy(item, p, n);
		item[n] = '\0';
		if (strlen(item) == 3 && item[0] >= '1' && item[0] <= '9' &&
		    tolower((unsigned char)item[1]) == 'x' &&
		    tolower((unsigned char)item[2]) == 'x') {
			lo = (unsigned)(item[0] - '0') * 100;
			hi = lo + 99;
		} else if (sscanf(item, "%3u-%3u%n", &lo, &hi, &used) == 2 &&
			   item[used] == '\0') {
			/* a range */
		} else if (sscanf(item, "%3u%n", &lo, &used) == 1 &&
			   item[used] == '\0') {
			hi = lo;
		} else {
			return sp_why(why,
				      "'%s' is not a status, a range "
				      "(200-299) or a class (2xx)",
				      item);
		}
		if (!isdigit((unsigned char)item[0]) || lo < 100 || hi > 999 ||
		    lo > hi)
			return sp_why(why,
				      "'%s': statuses are 100..999, a range "
				      "low to high",
				      item);
		sp_status_set_range(set, lo, hi);
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static int
sp_set_url(struct sp_plan *pl, const char *v, char *why)
{
	struct sp_priv *pv = sp_run_plan_of(pl)->priv;
	struct sp_scenario *sc;
	struct sp_request *r;
	struct sp_step *st;
	struct sp_tpl_build b = { 0 };
	struct sp_tpl_env env;
	struct sp_url u;
	const char *path;
	char *nm;

	if (sp_val_url(v, 1, &u, why) < 0 || sp_set_target(pl, &u, why) < 0)
		return -1;
	path = u.path;
	/* With a file, --url only retargets it: its path would be dropped. */
	if (pl->nscenarios > 0 && strcmp(path, "/") != 0)
		return sp_why(why,
			      "'%s': the scenario file has the requests, "
			      "so its path %s would not be used; give the URL "
			      "without a path to retarget the file",
			      v, path);
	if (pl->nscenarios > 0)
		return 0;
	if (u.ws)
		return sp_ws_default(pl, path, why);
	env = sp_plan_tpl_env(pl);
	env.var = NULL; /* nothing captures here */
	if (sp_tpl_add(&env, &b, path, strlen(path), SP_TPL_PATH, why, SP_WHY) <
	    0)
		return -1;
	pv->req = sp_mem_grow(pl, pv->req, &pv->req_cap, 1, sizeof(*pv->req));
	pv->scn = sp_mem_grow(pl, pv->scn, &pv->scn_cap, 1, sizeof(*pv->scn));
	st = sp_mem_alloc(pl, sizeof(*st));
	nm = sp_mem_alloc(pl, strlen(path) + 5);
	if (pv->req == NULL || pv->scn == NULL || st == NULL || nm == NULL)
		return sp_why(why, "out of memory");
	sprintf(nm, "GET %s", path);
	r = &pv->req[0];
	r->name = nm;
	r->method = SP_METHOD_GET;
	sp_tpl_done(&b, &r->path);
	r->check.body_size = -1;
	st->kind = SP_STEP_REQUEST;
	st->req = 0;
	sc = &pv->scn[0];
	sc->name = "default";
	sc->weight = 1;
	sc->enabled = 1;
	sc->keep_alive = 1;
	sc->steps = st;
	sc->nsteps = 1;
	pl->requests = pv->req;
	pl->nrequests = 1;
	pl->scenarios = pv->scn;
	pl->nscenarios = 1;
	return 0;
}

/* A comma-separated list of tags, kept for sp_scenario_finish. */
static int
sp_set_tags(struct sp_plan *pl, const char *v, const char **dst, char *why)
{
	const char *p = v;

	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 0)
			return sp_why(why, "'%s' has an empty tag", v);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*dst = sp_mem_strdup(pl, v);
	return *dst == NULL ? sp_why(why, "out of memory") : 0;
}

int
sp_scenario_set(struct sp_run_plan *rp, const char *key, const char *value,
		struct sp_scenario_err *e)
{
	struct sp_plan *pl = &rp->eng;
	static const char *const load_keys[][2] = {
		{ "vus", "vus" },
		{ "rate", "rate" },
		{ "max-vus", "max_vus" },
		{ "duration", "duration" },
		{ "stages", "stages" },
		{ "model", "model" },
		{ "connect-timeout", "connect_timeout" },
		{ "response-timeout", "response_timeout" },
		{ "seed", "seed" },
		{ "vu-offset", "vu_offset" },
	};
	struct sp_priv *pv = sp_priv(pl);
	char why[SP_WHY];
	unsigned bit;
	size_t i;
	int rc;

	if (pv == NULL)
		return sp_err_set(e, "--%s: out of memory", key);
	if (strcmp(key, "url") == 0)
		rc = sp_set_url(pl, value, why);
	else if (strcmp(key, "resolve") == 0)
		rc = sp_set_resolve(pl, value, why);
	else if (strcmp(key, "insecure") == 0)
		rc = sp_tls_key(pl, "verify", "false", NULL, 0, why);
	else if (strncmp(key, "tls-", 4) == 0) {
		char k[32];

		snprintf(k, sizeof(k), "%s", key + 4);
		if (strcmp(k, "server-name") == 0)
			strcpy(k, "server_name");
		rc = sp_tls_key(pl, k, value, NULL, 0, why);
	} else if (strcmp(key, "tags") == 0)
		rc = sp_set_tags(pl, value, &pv->tags, why);
	else if (strcmp(key, "exclude-tags") == 0)
		rc = sp_set_tags(pl, value, &pv->exclude_tags, why);
	else if (strcmp(key, "threshold") == 0) {
		if (!pv->th_cli_set) {
			pv->th_cli = rp->nthresholds;
			pv->th_cli_set = 1;
		}
		rc = sp_th_add(pl, value, why);
	} else if (strcmp(key, "breakpoint") == 0) {
		/* The file's hunt, or one with the defaults from the rate
		 * (--rate, before or after, is where it starts); a value
		 * "KEY=VALUE,..." sets its knobs as load: does. */
		unsigned keys;
		char kv[256], *save = NULL, *tok;

		if (!rp->bp.on) {
			sp_bp_defaults(&rp->bp);
			rp->bp.on = 1;
			rp->bp.start = pl->model == SP_MODEL_OPEN ? pl->rate :
								    0;
		}
		rc = 0;
		if (strcmp(value, "1") != 0) {
			if (strlen(value) >= sizeof(kv))
				return sp_err_set(e, "--breakpoint: too long");
			strcpy(kv, value);
			for (tok = strtok_r(kv, ",", &save);
			     tok != NULL && rc == 0;
			     tok = strtok_r(NULL, ",", &save)) {
				char *eq = strchr(tok, '=');

				if (eq == NULL) {
					rc = sp_why(why, "'%s': KEY=VALUE", tok);
					break;
				}
				*eq = '\0';
				rc = sp_bp_key(&rp->bp, tok, eq + 1, why);
				if (rc == 1) {
					rc = sp_load_key(pl, tok, eq + 1, &bit,
							 why);
					pv->cli_keys |= bit;
				}
			}
		}
		keys = pv->cli_keys | pv->file_keys;
		if (rc == 0)
			rc = sp_bp_apply(rp, &keys, why);
		pv->cli_keys |= keys & (SP_K_MODEL | SP_K_RATE | SP_K_VUS |
					SP_K_MAX_VUS);
		if (!(keys & SP_K_MAX_VUS))
			pv->cli_keys &= ~(unsigned)SP_K_MAX_VUS;
	} else if (strcmp(key, "abort-on-fail") == 0) {
		pv->cli_abort = 1;
		rc = 0;
	} else if (strcmp(key, "abort-grace") == 0) {
		rc = sp_val_duration(value, &pv->cli_grace_us, why);
		pv->cli_grace_set = 1;
	} else if (strcmp(key, "ws-max-message") == 0) {
		rc = sp_ws_setting(pl, "max_message", value, why);
	} else if (strcmp(key, "ws-ping-every") == 0) {
		rc = sp_ws_setting(pl, "ping_every", value, why);
	} else if (strcmp(key, "expect-status") == 0) {
		memset(pv->cli_expect, 0, sizeof(pv->cli_expect));
		rc = sp_val_statuses(value, pv->cli_expect, why);
	} else {
		for (i = 0; i < sizeof(load_keys) / sizeof(load_keys[0]); i++)
			if (strcmp(key, load_keys[i][0]) == 0)
				break;
		if (i == sizeof(load_keys) / sizeof(load_keys[0]))
			return sp_err_set(e, "--%s: not a scenario option",
					  key);
		rc = sp_load_key(pl, load_keys[i][1], value, &bit, why);
		if (rc == 0) {
			pv->cli_keys |= bit;
			/* An arrival rate only means something open. */
			if (bit == SP_K_RATE)
				pl->model = SP_MODEL_OPEN;
			/* ... and in a hunt where it starts. */
			if (bit == SP_K_RATE && rp->bp.on &&
			    rp->bp.control == SP_BP_RATE)
				rp->bp.start = pl->rate;
		}
	}
	if (rc < 0)
		return sp_err_set(e, "--%s: %s", key, why);
	return 0;
}

/* The resolve entry for @name:@port, the last given that matches. */
