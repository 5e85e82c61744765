/*
 * Scenario files (YAML, through libyaml) and command-line overrides into
 * one validated sp_plan (see sp_scenario.h for the order of calls).
 *
 * The file goes through libyaml's document loader: the whole file becomes
 * a node graph first, so that every error can name the line and column of
 * the node that is wrong, and so that keys are handled in the order
 * validation needs (the data file before the templates that name its
 * columns) rather than the order they were written in.
 *
 * A file key and the command-line option of the same name share one value
 * parser (sp_load_key), which writes why a value is wrong into a buffer;
 * the caller prefixes it with "FILE:LINE:COL: key" or "--option".
 *
 * Memory: every block behind the plan comes from sp_mem_alloc, a list kept
 * in the plan's private state (pl->priv), so sp_scenario_free releases a
 * plan in any state, including one whose load failed halfway. Nothing is
 * allocated after sp_scenario_finish.
 *
 * Nothing here includes DPDK: the unit test and the fuzz target build this
 * file alone.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <yaml.h>

#include "sp_scenario.h"
#include "sp_threshold.h"
#include "sp_values.h"

#define SP_US_PER_S 1000000ull
#define SP_MAX_RESOLVE   1024u   /* resolve: entries and --resolve */
#define SP_MAX_HOSTNAME  253     /* RFC 1035 2.3.4, without the root dot */

#define SP_WHY 320
/* Limits that keep a hostile file (YAML aliases multiply nodes cheaply)
 * from turning into gigabytes of plan. Real scenarios are far below. */
#define SP_MAX_STEPS     65536u  /* steps in the whole plan */
#define SP_MAX_SCENARIOS 1024u
#define SP_MAX_HEADERS   64u     /* per request */
#define SP_MAX_VUS       10000000u
#define SP_MAX_RATE      1e9     /* iterations per second */
#define SP_MAX_FILE      (16u << 20)  /* a YAML file */
#define SP_MAX_DATA      (128u << 20) /* a CSV file */
#define SP_MAX_MEM       ((size_t)512 << 20)

/* Exit codes of `stampede validate` (SP_EXIT_OK and SP_EXIT_USAGE in
 * sp_app.h, which this DPDK-free file cannot include). */
#define SP_VALIDATE_OK    0
#define SP_VALIDATE_USAGE 2

/* Which load keys a source gave: the precedence rules between the file and
 * the command line (sp_scenario_finish) depend on it. */
enum {
	SP_K_VUS = 1u << 0,
	SP_K_RATE = 1u << 1,
	SP_K_DURATION = 1u << 2,
	SP_K_STAGES = 1u << 3,
	SP_K_MAX_VUS = 1u << 4,
	SP_K_MODEL = 1u << 5,
};

struct sp_mem {
	struct sp_mem *prev, *next;
	size_t size;
	max_align_t data[];
};

struct sp_priv {
	struct sp_mem *mem;      /* every block behind the plan */
	size_t mem_bytes;
	int loaded;              /* a file was loaded */
	unsigned file_keys, cli_keys; /* SP_K_* */
	struct sp_scenario *scn; /* pl->scenarios, writable */
	uint32_t scn_cap;
	struct sp_request *req;  /* pl->requests, writable */
	uint32_t req_cap;
	uint32_t nsteps;         /* in all scenarios */
	const char *tags, *exclude_tags; /* --tags, --exclude-tags */
	struct sp_threshold *th; /* pl->thresholds, writable */
	uint32_t th_cap;
	uint32_t th_cli;         /* thresholds from here on came from the CLI */
	int th_cli_set;
	struct sp_resolve *res;  /* pl->resolve, writable */
	uint32_t res_cap;
	int cli_abort;           /* --abort-on-fail */
	uint64_t cli_grace_us;   /* --abort-grace */
	/* expect_status: at the top of the file, and --expect-status; all
	 * zero: not given (a given list holds a code at least). */
	uint64_t file_expect[(SP_PLAN_MAX_STATUS + 63) / 64];
	uint64_t cli_expect[(SP_PLAN_MAX_STATUS + 63) / 64];
	int cli_grace_set;
};

/* Load-time state of one file. */
struct sp_ld {
	struct sp_plan *pl;
	struct sp_priv *pv;
	struct sp_scenario_err *e;
	const char *name;
	yaml_document_t doc;
	struct sp_step *steps;   /* the scenario being read (malloc) */
	uint32_t nsteps, steps_cap;
	char why[SP_WHY];
};

/* A template being built: literal bytes and parts. */
struct sp_tb {
	char *text;
	uint32_t len, cap;
	struct sp_tpl_part *parts;
	uint32_t nparts, pcap;
	uint8_t ctx; /* enum sp_tpl_ctx, from sp_tpl_add's kind */
};

/* What literal bytes of a template may hold: the template's context
 * (sp_plan.h), which also picks a variable's default filter. */
enum sp_txt {
	SP_TXT_PATH = SP_TPL_PATH,     /* a request target: no space, no CTL */
	SP_TXT_HEADER = SP_TPL_HEADER, /* a field value: no CTL but HTAB
					* (RFC 9110 5.5) */
	SP_TXT_BODY = SP_TPL_BODY,     /* anything */
};

static const char *const sp_methods[SP_METHOD_N] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
};

/* ---- memory ---- */

static struct sp_priv *
sp_priv(struct sp_plan *pl)
{
	if (pl->priv == NULL)
		pl->priv = calloc(1, sizeof(struct sp_priv));
	return pl->priv;
}

static struct sp_mem *
sp_mem_hdr(void *p)
{
	return (struct sp_mem *)(void *)((char *)p - offsetof(struct sp_mem, data));
}

/* Zeroed, owned by the plan. */
static void *
sp_mem_realloc(struct sp_plan *pl, void *p, size_t size)
{
	struct sp_priv *pv = sp_priv(pl);
	struct sp_mem *h = p != NULL ? sp_mem_hdr(p) : NULL;
	size_t old = h != NULL ? h->size : 0;
	struct sp_mem *nh;

	if (pv == NULL || size > SP_MAX_MEM - pv->mem_bytes + old)
		return NULL;
	nh = realloc(h, sizeof(*nh) + size);
	if (nh == NULL)
		return NULL;
	if (h == NULL) {
		nh->prev = NULL;
		nh->next = pv->mem;
	}
	if (nh->prev != NULL)
		nh->prev->next = nh;
	else
		pv->mem = nh;
	if (nh->next != NULL)
		nh->next->prev = nh;
	if (size > old)
		memset((char *)nh->data + old, 0, size - old);
	nh->size = size;
	pv->mem_bytes = pv->mem_bytes - old + size;
	return nh->data;
}

static void *
sp_mem_alloc(struct sp_plan *pl, size_t size)
{
	return sp_mem_realloc(pl, NULL, size);
}

/* Room for @need elements in @arr (capacity @cap), doubling. */
static void *
sp_mem_grow(struct sp_plan *pl, void *arr, uint32_t *cap, uint32_t need,
	    size_t elem)
{
	uint32_t ncap;
	void *n;

	if (need <= *cap)
		return arr;
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < need)
		ncap *= 2;
	n = sp_mem_realloc(pl, arr, (size_t)ncap * elem);
	if (n != NULL)
		*cap = ncap;
	return n;
}

static char *
sp_mem_strndup(struct sp_plan *pl, const char *s, size_t n)
{
	char *d = sp_mem_alloc(pl, n + 1);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static char *
sp_mem_strdup(struct sp_plan *pl, const char *s)
{
	return sp_mem_strndup(pl, s, strlen(s));
}

/* ---- errors ---- */

static int sp_why(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int sp_msg(struct sp_scenario_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int sp_at(struct sp_ld *ld, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
sp_why(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, SP_WHY, fmt, ap);
	va_end(ap);
	return -1;
}

/* The message is one line whatever the file held: a quoted YAML string
 * may carry a newline into it. */
static void
sp_msg_oneline(struct sp_scenario_err *e)
{
	for (char *p = e->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int
sp_msg(struct sp_scenario_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	sp_msg_oneline(e);
	return -1;
}

/* "FILE:LINE:COL: ..." at node @n (libyaml marks are 0-based). */
static int
sp_at(struct sp_ld *ld, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(ld->e->msg, sizeof(ld->e->msg), "%s:%zu:%zu: ", ld->name,
		     n->start_mark.line + 1, n->start_mark.column + 1);
	if (k < 0 || (size_t)k >= sizeof(ld->e->msg))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(ld->e->msg + k, sizeof(ld->e->msg) - (size_t)k, fmt, ap);
	va_end(ap);
	sp_msg_oneline(ld->e);
	return -1;
}

/* ---- value parsers shared by the file and the command line ---- */

static int
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
static int
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

/* The grammar is sp_values.h's, shared with the command line. */
static int
sp_val_dur(const char *s, uint64_t *us, char *why)
{
	const char *bad = sp_val_duration(s, us);

	return bad == NULL ? 0 : sp_why(why, "'%s' %s", s, bad);
}

static int
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
static int
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
				return sp_why(why, "'%.*s': an empty label in "
					      "the host name", (int)n, s);
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return sp_why(why, "'%.*s' is neither an IPv4 address "
				      "nor a host name (byte '%c')", (int)n, s,
				      isprint(c) ? c : '?');
		if (!isdigit(c))
			alpha = 1;
		if (++label > 63)
			return sp_why(why, "'%.*s': a label of the host name "
				      "is longer than 63 bytes", (int)n, s);
	}
	if (!alpha)
		return sp_why(why, "'%.*s' is not an IPv4 address (A.B.C.D)",
			      (int)n, s);
	return 0;
}

/* A URL's parts: the host as written (a name, or a dotted quad then in
 * @ip), the port and the path (into the URL). */
struct sp_url {
	char host[SP_MAX_HOSTNAME + 1];
	int is_name;
	uint32_t ip;       /* !is_name */
	uint16_t port;
	const char *path;
};

/*
 * http://HOST[:PORT][/path], HOST an IPv4 address or a host name.
 * @path_ok: anything after the authority must be a path (--url);
 * otherwise only "/" (target:). u->path points into @s, or at "/" when
 * there is none.
 */
static int
sp_val_url(const char *s, int path_ok, struct sp_url *u, char *why)
{
	static const char http[] = "http://";
	const char *h, *end;
	struct in_addr a;
	char w2[SP_WHY];
	uint64_t p = 80;
	size_t n, alen;

	if (strncmp(s, "https://", 8) == 0)
		return sp_why(why, "'%s': https is not supported yet (http only)",
			      s);
	if (strncmp(s, http, sizeof(http) - 1) != 0)
		return sp_why(why, "'%s' is not an http:// URL", s);
	h = s + sizeof(http) - 1;
	alen = strcspn(h, "/?#");
	if (memchr(h, '@', alen) != NULL)
		return sp_why(why, "'%s': user credentials in a URL are not "
			      "supported (send an Authorization header)", s);
	if (*h == '[')
		return sp_why(why, "'%s': IPv6 is not supported yet", s);
	n = strcspn(h, ":/?#");
	if (n > SP_MAX_HOSTNAME)
		return sp_why(why, "'%s': the host name is longer than %d bytes",
			      s, SP_MAX_HOSTNAME);
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
			return sp_why(why, "'%s': the port must be 1..65535", s);
	}
	u->port = (uint16_t)p;
	u->path = *end == '\0' ? "/" : end;
	if (*end != '\0' && *end != '/')
		return sp_why(why, "'%s' is not http://HOST[:PORT]/path", s);
	if (!path_ok && strcmp(u->path, "/") != 0)
		return sp_why(why, "'%s': a target has no path (paths go in "
			      "requests)", s);
	return 0;
}

/*
 * One name-to-address entry: @key "NAME" or "NAME:PORT" (curl's
 * --resolve, whose HOST:PORT:ADDR is split before), @addr a dotted quad.
 * Entries added later win (sp_scenario_resolve looks from the last):
 * the command line's come after the file's.
 */
static int
sp_add_resolve(struct sp_plan *pl, const char *key, const char *addr,
	       char *why)
{
	struct sp_priv *pv = pl->priv;
	const char *colon = strchr(key, ':');
	size_t n = colon != NULL ? (size_t)(colon - key) : strlen(key);
	struct sp_resolve *r;
	uint64_t port = 0;
	const char *end;
	uint32_t ip;

	if (sp_val_hostname(key, n, why) < 0)
		return -1;
	if (colon != NULL &&
	    (sp_val_digits(colon + 1, &end, &port) < 0 || *end != '\0' ||
	     port < 1 || port > 65535))
		return sp_why(why, "'%s': the port must be 1..65535", key);
	if (sp_ipv4_peer(addr, &ip, why) < 0)
		return -1;
	if (pl->nresolve == SP_MAX_RESOLVE)
		return sp_why(why, "more than %u names", SP_MAX_RESOLVE);
	pv->res = sp_mem_grow(pl, pv->res, &pv->res_cap, pl->nresolve + 1,
			      sizeof(*pv->res));
	if (pv->res == NULL)
		return sp_why(why, "out of memory");
	r = &pv->res[pl->nresolve];
	r->name = sp_mem_strndup(pl, key, n);
	if (r->name == NULL)
		return sp_why(why, "out of memory");
	r->port = (uint16_t)port;
	r->ip = ip;
	pl->resolve = pv->res;
	pl->nresolve++;
	return 0;
}

/* --resolve NAME:ADDR or NAME:PORT:ADDR */
static int
sp_set_resolve(struct sp_plan *pl, const char *v, char *why)
{
	const char *colon = strrchr(v, ':');
	char key[SP_MAX_HOSTNAME + 8];

	if (colon == NULL || colon == v ||
	    (size_t)(colon - v) >= sizeof(key))
		return sp_why(why, "'%s' is not NAME:ADDR or NAME:PORT:ADDR", v);
	memcpy(key, v, (size_t)(colon - v));
	key[colon - v] = '\0';
	return sp_add_resolve(pl, key, colon + 1, why);
}

/* "30s:20,1m:200,30s:0" */
static int
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
		if (sp_val_dur(buf, &st[n].duration_us, why) < 0 ||
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
static int
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
			return sp_why(why, "%s: the rate must be more than 0", v);
		pl->rate = d;
		*bit = SP_K_RATE;
	} else if (strcmp(key, "max_vus") == 0) {
		if (sp_val_u64(v, 1, SP_MAX_VUS, &x, why) < 0)
			return -1;
		pl->max_vus = (uint32_t)x;
		*bit = SP_K_MAX_VUS;
	} else if (strcmp(key, "duration") == 0) {
		if (sp_val_dur(v, &x, why) < 0)
			return -1;
		if (x == 0)
			return sp_why(why, "%s: the duration must be more than 0",
				      v);
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
		if (sp_val_dur(v, &x, why) < 0)
			return -1;
		if (x == 0)
			return sp_why(why, "%s: the timeout must be more than 0",
				      v);
		/* The stack's connect timer is 32-bit microseconds. */
		if (key[0] == 'c' && x > UINT32_MAX)
			return sp_why(why, "%s is longer than 4294s, the longest "
				      "connect timeout (the stack's timers are "
				      "32-bit microseconds)", v);
		if (key[0] == 'c')
			pl->connect_timeout_us = x;
		else
			pl->response_timeout_us = x;
	} else if (strcmp(key, "seed") == 0) {
		if (sp_val_u64(v, 0, UINT64_MAX, &x, why) < 0)
			return -1;
		pl->seed = x;
	} else {
		return sp_why(why, "unknown key");
	}
	return 0;
}

static int
sp_set_target(struct sp_plan *pl, const struct sp_url *u, char *why)
{
	char host[SP_MAX_HOSTNAME + 8];

	/* The authority as written (RFC 9110 7.2): the port may be left
	 * out when it is the default. */
	if (u->port == 80)
		snprintf(host, sizeof(host), "%s", u->host);
	else
		snprintf(host, sizeof(host), "%s:%u", u->host, u->port);
	pl->host = sp_mem_strdup(pl, host);
	pl->target_name = u->is_name ? sp_mem_strdup(pl, u->host) : NULL;
	if (pl->host == NULL || (u->is_name && pl->target_name == NULL))
		return sp_why(why, "out of memory");
	pl->dst_ip = u->ip;
	pl->dst_port = u->port;
	return 0;
}

/* ---- templates ---- */

static int
sp_txt_ok(const char *s, size_t n, int kind, char *why)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (kind == SP_TXT_PATH && (c <= 0x20 || c == 0x7f))
			return sp_why(why, "byte 0x%02x is not allowed in a "
				      "request path (encode it as %%%02X)", c, c);
		if (kind == SP_TXT_HEADER && ((c < 0x20 && c != '\t') ||
					      c == 0x7f))
			return sp_why(why, "a header value may not hold CR, LF "
				      "or other control bytes (0x%02x)", c);
	}
	return 0;
}

static int
sp_tb_part(struct sp_plan *pl, struct sp_tb *b, const struct sp_tpl_part *pt,
	   char *why)
{
	b->parts = sp_mem_grow(pl, b->parts, &b->pcap, b->nparts + 1,
			       sizeof(*b->parts));
	if (b->parts == NULL)
		return sp_why(why, "out of memory");
	b->parts[b->nparts++] = *pt;
	return 0;
}

/* Literal bytes join the previous literal part when it ends where they
 * start, so a template without variables is one part. */
static int
sp_tb_lit(struct sp_plan *pl, struct sp_tb *b, const char *s, size_t n,
	  char *why)
{
	struct sp_tpl_part pt = { .var = SP_VAR_LITERAL };
	struct sp_tpl_part *last = b->nparts ? &b->parts[b->nparts - 1] : NULL;

	if (n == 0)
		return 0;
	if (n > (1u << 30) - b->len)
		return sp_why(why, "text too long");
	b->text = sp_mem_grow(pl, b->text, &b->cap, b->len + (uint32_t)n + 1, 1);
	if (b->text == NULL)
		return sp_why(why, "out of memory");
	memcpy(b->text + b->len, s, n);
	b->text[b->len + n] = '\0';
	if (last != NULL && last->var == SP_VAR_LITERAL &&
	    last->off + last->len == b->len) {
		last->len += (uint32_t)n;
	} else {
		pt.off = b->len;
		pt.len = (uint32_t)n;
		if (sp_tb_part(pl, b, &pt, why) < 0)
			return -1;
	}
	b->len += (uint32_t)n;
	return 0;
}

/* An optional '-', then digits, then at least one blank or the end. */
static int
sp_sint(const char **pp, int64_t *v)
{
	const char *p = *pp, *end;
	int neg = *p == '-';
	uint64_t x;

	if (sp_val_digits(p + neg, &end, &x) < 0 ||
	    x > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return -1;
	if (*end != '\0' && *end != ' ' && *end != '\t')
		return -1;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*pp = end + strspn(end, " \t");
	return 0;
}

/* A known {{env NAME}}: a literal from now on, through its filter and
 * then checked as literal text is. */
static int
sp_tpl_env(struct sp_plan *pl, struct sp_tb *b, const char *val, uint8_t enc,
	   int kind, char *why)
{
	size_t len = strlen(val);
	uint8_t *buf;
	uint32_t n;

	if (len > (1u << 24))
		return sp_why(why, "text too long");
	buf = malloc(len * sp_tpl_enc_max(enc) + 1);
	if (buf == NULL)
		return sp_why(why, "out of memory");
	n = sp_tpl_encode(buf, val, (uint32_t)len, enc);
	if (sp_txt_ok((const char *)buf, n, kind, why) < 0 ||
	    sp_tb_lit(pl, b, (const char *)buf, n, why) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/*
 * The inside of one {{...}}, without the braces: a variable and an
 * optional filter, `data.name | json`. Without one, a value in a path is
 * percent-encoded (| url) and one in a header or a body goes as it is
 * (| raw); a header value still never carries CR or LF (sp_plan.h).
 */
static int
sp_tpl_var(struct sp_plan *pl, struct sp_tb *b, const char *in, size_t n,
	   int kind, char *why)
{
	struct sp_tpl_part pt = { 0 };
	uint8_t enc = kind == SP_TXT_PATH ? SP_ENC_URL : SP_ENC_RAW;
	char v[128], all[128], *bar;
	const char *p;
	size_t k;

	while (n > 0 && (*in == ' ' || *in == '\t')) {
		in++;
		n--;
	}
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= sizeof(v))
		return sp_why(why, "unknown template variable '{{%.*s...}}'",
			      40, in);
	memcpy(v, in, n);
	v[n] = '\0';
	memcpy(all, v, n + 1);
	if ((bar = strchr(v, '|')) != NULL) {
		const char *f = bar + 1 + strspn(bar + 1, " \t");

		if (strcmp(f, "json") == 0)
			enc = SP_ENC_JSON;
		else if (strcmp(f, "url") == 0)
			enc = SP_ENC_URL;
		else if (strcmp(f, "raw") == 0)
			enc = SP_ENC_RAW;
		else
			return sp_why(why, "'{{%s}}': unknown filter '%s' "
				      "(json, url or raw)", all, f);
		for (k = (size_t)(bar - v); k > 0 && (v[k - 1] == ' ' ||
						      v[k - 1] == '\t'); k--)
			;
		v[k] = '\0';
	}
	pt.enc = enc;
	if (strcmp(v, "vu") == 0) {
		pt.var = SP_VAR_VU;
	} else if (strcmp(v, "iteration") == 0) {
		pt.var = SP_VAR_ITERATION;
	} else if (strncmp(v, "random", 6) == 0 && (v[6] == ' ' || v[6] == '\t')) {
		p = v + 6 + strspn(v + 6, " \t");
		if (sp_sint(&p, &pt.lo) < 0 || sp_sint(&p, &pt.hi) < 0 ||
		    *p != '\0')
			return sp_why(why, "'{{%s}}': random takes two integers "
				      "A B", all);
		if (pt.lo > pt.hi)
			return sp_why(why, "'{{%s}}': random A B needs A <= B", all);
		pt.var = SP_VAR_RANDOM;
	} else if (strncmp(v, "data.", 5) == 0) {
		const struct sp_data *d = pl->data;

		if (d == NULL)
			return sp_why(why, "'{{%s}}': no data file (give data:)",
				      all);
		for (pt.col = 0; pt.col < d->ncols; pt.col++)
			if (strcmp(d->cols[pt.col], v + 5) == 0)
				break;
		if (pt.col == d->ncols)
			return sp_why(why, "'{{%s}}': the data file has no "
				      "column '%s'", all, v + 5);
		pt.var = SP_VAR_DATA;
	} else if (strncmp(v, "env", 3) == 0 && (v[3] == ' ' || v[3] == '\t')) {
		const char *name = v + 3 + strspn(v + 3, " \t"), *val;

		val = getenv(name);
		if (val == NULL)
			return sp_why(why, "'{{%s}}': environment variable %s "
				      "is not set", all, name);
		return sp_tpl_env(pl, b, val, enc, kind, why);
	} else {
		return sp_why(why, "unknown template variable '{{%s}}'", all);
	}
	return sp_tb_part(pl, b, &pt, why);
}

static int
sp_tpl_add(struct sp_plan *pl, struct sp_tb *b, const char *s, size_t n,
	   int kind, char *why)
{
	size_t i = 0;

	b->ctx = (uint8_t)kind;
	while (i < n) {
		const char *o = memmem(s + i, n - i, "{{", 2), *in, *c;
		size_t lit = o != NULL ? (size_t)(o - (s + i)) : n - i;

		if (sp_txt_ok(s + i, lit, kind, why) < 0 ||
		    sp_tb_lit(pl, b, s + i, lit, why) < 0)
			return -1;
		if (o == NULL)
			break;
		in = o + 2;
		c = memmem(in, n - (size_t)(in - s), "}}", 2);
		if (c == NULL)
			return sp_why(why, "unclosed '{{'");
		if (sp_tpl_var(pl, b, in, (size_t)(c - in), kind, why) < 0)
			return -1;
		i = (size_t)(c + 2 - s);
	}
	return 0;
}

static void
sp_tb_done(const struct sp_tb *b, struct sp_tpl *t)
{
	t->text = b->text != NULL ? b->text : "";
	t->text_len = b->len;
	t->parts = b->parts;
	t->nparts = b->nparts;
	t->ctx = b->ctx;
}

/* RFC 9110 5.6.2: token = 1*tchar */
static int
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

/* ---- YAML helpers ---- */

static yaml_node_t *
sp_node(struct sp_ld *ld, int id)
{
	return yaml_document_get_node(&ld->doc, id);
}

static const char *
sp_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

/* A scalar without NUL bytes (a double-quoted "\0" would cut it short
 * everywhere it is used as a C string). */
static int
sp_str(struct sp_ld *ld, const yaml_node_t *n, const char *key, const char **s)
{
	if (n->type != YAML_SCALAR_NODE)
		return sp_at(ld, n, "%s: expected a scalar, got %s", key,
			     sp_kind(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return sp_at(ld, n, "%s: holds a NUL byte", key);
	*s = (const char *)n->data.scalar.value;
	return 0;
}

static int
sp_u64(struct sp_ld *ld, const yaml_node_t *n, const char *key, uint64_t min,
       uint64_t max, uint64_t *v)
{
	const char *s;

	if (sp_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_val_u64(s, min, max, v, ld->why) < 0)
		return sp_at(ld, n, "%s: %s", key, ld->why);
	return 0;
}

static int
sp_dur(struct sp_ld *ld, const yaml_node_t *n, const char *key, uint64_t *us)
{
	const char *s;

	if (sp_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_val_dur(s, us, ld->why) < 0)
		return sp_at(ld, n, "%s: %s", key, ld->why);
	return 0;
}

/* A mapping whose keys are all scalars from @keys (NULL-terminated), each
 * at most once. */
static int
sp_map(struct sp_ld *ld, const yaml_node_t *n, const char *what,
       const char *const *keys)
{
	yaml_node_pair_t *p, *q;

	if (n->type != YAML_MAPPING_NODE)
		return sp_at(ld, n, "%s: expected a mapping, got %s", what,
			     sp_kind(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_node(ld, p->key);
		const char *ks;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return sp_at(ld, k, "%s: a key must be a scalar", what);
		ks = (const char *)k->data.scalar.value;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return sp_at(ld, k, "unknown key '%s' in %s", ks, what);
		for (q = n->data.mapping.pairs.start; q < p; q++)
			if (strcmp((const char *)sp_node(ld, q->key)->data.scalar.value,
				   ks) == 0)
				return sp_at(ld, k, "%s: duplicate key '%s'",
					     what, ks);
	}
	return 0;
}

/* The value of @key in mapping @n (checked by sp_map), or NULL. */
static yaml_node_t *
sp_get(struct sp_ld *ld, const yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++)
		if (strcmp((const char *)sp_node(ld, p->key)->data.scalar.value,
			   key) == 0)
			return sp_node(ld, p->value);
	return NULL;
}

static int
sp_seq(struct sp_ld *ld, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return sp_at(ld, n, "%s: expected a list, got %s", key,
			     sp_kind(n));
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return sp_at(ld, n, "%s: empty list", key);
	return 0;
}

/* ---- target, network, load ---- */

static int
sp_file_target(struct sp_ld *ld, const yaml_node_t *n)
{
	struct sp_url u;
	const char *s;

	if (sp_str(ld, n, "target", &s) < 0)
		return -1;
	if (sp_val_url(s, 0, &u, ld->why) < 0 ||
	    sp_set_target(ld->pl, &u, ld->why) < 0)
		return sp_at(ld, n, "target: %s", ld->why);
	return 0;
}

/* resolve: { NAME: ADDR, "NAME:PORT": ADDR } */
static int
sp_file_resolve(struct sp_ld *ld, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return sp_at(ld, n, "resolve: expected a mapping of names to "
			     "addresses, got %s", sp_kind(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_node(ld, p->key), *v = sp_node(ld, p->value);
		const char *name, *addr;

		if (sp_str(ld, k, "resolve", &name) < 0 ||
		    sp_str(ld, v, name, &addr) < 0)
			return -1;
		if (sp_add_resolve(ld->pl, name, addr, ld->why) < 0)
			return sp_at(ld, k, "resolve: %s", ld->why);
	}
	return 0;
}

static int
sp_file_network(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"port", "ip", "gateway", "prefix_len", "cores", "eal",
		"placement", "kernel_blind", NULL,
	};
	struct sp_plan_net *net = &ld->pl->net;
	const char **dst[] = {
		&net->port, &net->ip, &net->gateway, &net->prefix_len,
		&net->cores, &net->eal, &net->placement, &net->kernel_blind,
	};
	const char *bad;
	uint64_t x;
	uint32_t ip, cnt, bad_ip = 0;
	int want, on;

	if (sp_map(ld, n, "network", keys) < 0)
		return -1;
	for (size_t i = 0; keys[i] != NULL; i++) {
		yaml_node_t *v = sp_get(ld, n, keys[i]);
		const char *s;

		if (v == NULL)
			continue;
		if (sp_str(ld, v, keys[i], &s) < 0)
			return -1;
		/* The app parses these again with its own rules; catch here
		 * what has a position to show. */
		if (i == 1 && (bad = sp_val_ip_range(s, &ip, &cnt, &bad_ip)) !=
				      NULL) {
			if (bad_ip != 0 && strchr(s, '-') != NULL)
				return sp_at(ld, v, "%s: '%s' holds %u.%u.%u.%u, "
					     "which %s", keys[i], s,
					     bad_ip >> 24, (bad_ip >> 16) & 0xff,
					     (bad_ip >> 8) & 0xff, bad_ip & 0xff,
					     bad);
			return sp_at(ld, v, "%s: '%s' %s", keys[i], s, bad);
		}
		if (i == 2 && sp_ipv4_peer(s, &ip, ld->why) < 0)
			return sp_at(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 3 && sp_val_u64(s, 1, 30, &x, ld->why) < 0)
			return sp_at(ld, v, "%s: %s", keys[i], ld->why);
		/* sp_app.h's SP_MAX_CORES */
		if (i == 4 && sp_val_u64(s, 1, 16, &x, ld->why) < 0)
			return sp_at(ld, v, "%s: %s", keys[i], ld->why);
		if (i == 0 && *s == '\0')
			return sp_at(ld, v, "port: empty");
		if (i == 6 && (bad = sp_val_placement(s, &want)) != NULL)
			return sp_at(ld, v, "%s: '%s' %s", keys[i], s, bad);
		if (i == 7) {
			if (sp_val_bool(s, &on, ld->why) < 0)
				return sp_at(ld, v, "%s: %s", keys[i], ld->why);
			s = on ? "true" : "false";
		}
		*dst[i] = sp_mem_strdup(ld->pl, s);
		if (*dst[i] == NULL)
			return sp_at(ld, v, "out of memory");
	}
	return 0;
}

static int
sp_file_stage_list(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "duration", "target", NULL };
	struct sp_plan *pl = ld->pl;
	uint32_t k = 0;

	if (sp_seq(ld, n, "stages") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, k++) {
		yaml_node_t *st = sp_node(ld, *it), *d, *t;
		const char *s;

		if (k == SP_PLAN_MAX_STAGES)
			return sp_at(ld, st, "stages: more than %d stages",
				     SP_PLAN_MAX_STAGES);
		if (sp_map(ld, st, "stage", keys) < 0)
			return -1;
		d = sp_get(ld, st, "duration");
		t = sp_get(ld, st, "target");
		if (d == NULL)
			return sp_at(ld, st, "stage %u has no duration", k + 1);
		if (t == NULL)
			return sp_at(ld, st, "stage %u has no target", k + 1);
		if (sp_dur(ld, d, "duration", &pl->stages[k].duration_us) < 0 ||
		    sp_str(ld, t, "target", &s) < 0)
			return -1;
		if (sp_val_num(s, &pl->stages[k].target, ld->why) < 0)
			return sp_at(ld, t, "target: %s", ld->why);
	}
	pl->nstages = k;
	return 0;
}

static int
sp_file_load(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"model", "vus", "rate", "max_vus", "duration", "stages",
		"connect_timeout", "response_timeout", NULL,
	};
	yaml_node_t *dur = NULL, *model, *vus, *rate, *max;
	unsigned bit;

	if (sp_map(ld, n, "load", keys) < 0)
		return -1;
	for (size_t i = 0; keys[i] != NULL; i++) {
		yaml_node_t *v = sp_get(ld, n, keys[i]);
		const char *s;

		if (v == NULL)
			continue;
		if (strcmp(keys[i], "duration") == 0)
			dur = v;
		if (strcmp(keys[i], "stages") == 0 &&
		    v->type == YAML_SEQUENCE_NODE) {
			if (sp_file_stage_list(ld, v) < 0)
				return -1;
			ld->pv->file_keys |= SP_K_STAGES;
			continue;
		}
		if (sp_str(ld, v, keys[i], &s) < 0)
			return -1;
		if (sp_load_key(ld->pl, keys[i], s, &bit, ld->why) < 0)
			return sp_at(ld, v, "%s: %s", keys[i], ld->why);
		ld->pv->file_keys |= bit;
	}
	/* The stages' sum is the run's length: a duration beside them would
	 * say something else. */
	if ((ld->pv->file_keys & SP_K_STAGES) && dur != NULL)
		return sp_at(ld, dur, "duration: give either duration or "
			     "stages, not both");
	/* A key the model does not read is a mistake, not a no-op. A rate
	 * without a model means the open one, as --rate does. */
	model = sp_get(ld, n, "model");
	vus = sp_get(ld, n, "vus");
	rate = sp_get(ld, n, "rate");
	max = sp_get(ld, n, "max_vus");
	if (vus != NULL && rate != NULL)
		return sp_at(ld, rate, "rate: give vus (closed model) or rate "
			     "(open model), not both");
	if (model == NULL && rate != NULL)
		ld->pl->model = SP_MODEL_OPEN;
	if (ld->pl->model == SP_MODEL_OPEN && vus != NULL)
		return sp_at(ld, vus, "vus: the open model starts iterations "
			     "at rate (max_vus bounds them); vus is for the "
			     "closed model");
	if (ld->pl->model == SP_MODEL_CLOSED && rate != NULL)
		return sp_at(ld, rate, "rate: the closed model has no arrival "
			     "rate (its VUs loop); give model: open");
	if (ld->pl->model == SP_MODEL_CLOSED && max != NULL)
		return sp_at(ld, max, "max_vus: only the open model has it (the "
			     "closed model runs vus VUs, or the stages' peak)");
	return 0;
}

/* ---- data file ---- */

/* The whole of a regular file (a FIFO or /dev/zero would never end).
 * Messages name it @shown: the path as the user wrote it. */
static char *
sp_read_file(const char *path, const char *shown, size_t max, size_t *len,
	     char *why)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		sp_why(why, "cannot open %s: %s", shown, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sp_why(why, "%s is not a regular file", shown);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		sp_why(why, "%s is larger than %zu bytes", shown, max);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		sp_why(why, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

struct sp_csv {
	const char *p, *end;
	char *out;               /* cell bytes, NUL after each */
	unsigned line;
	uint32_t nfield;         /* fields of the record so far */
	const char **cells;
	uint32_t *cell_len;
	uint32_t ncells, cap, lcap;
	uint32_t max_len;
};

/* One field at c->p: quoted with "" for a quote, or bare up to ',' or the
 * end of the line. Leaves c->p on the separator. */
static int
sp_csv_field(struct sp_plan *pl, struct sp_csv *c, char *why)
{
	char *start = c->out;
	uint32_t len;

	if (c->p < c->end && *c->p == '"') {
		for (c->p++;; c->p++) {
			if (c->p == c->end)
				return sp_why(why, "unclosed quote");
			if (*c->p == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					*c->out++ = '"';
					c->p++;
					continue;
				}
				c->p++;
				break;
			}
			*c->out++ = *c->p;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p != ',' && *c->p != '\n')
			return sp_why(why, "text after a closing quote");
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n')
			*c->out++ = *c->p++;
		if (c->out > start && c->out[-1] == '\r' &&
		    (c->p == c->end || *c->p == '\n'))
			c->out--;
	}
	len = (uint32_t)(c->out - start);
	*c->out++ = '\0';
	/* A cell goes into paths and header values as it is: a line break
	 * or a control byte there would be an injection. */
	if (sp_txt_ok(start, len, SP_TXT_HEADER, why) < 0)
		return sp_why(why, "field %u holds a line break or control "
			      "byte", c->nfield + 1);
	c->cells = sp_mem_grow(pl, c->cells, &c->cap, c->ncells + 1,
			       sizeof(*c->cells));
	c->cell_len = sp_mem_grow(pl, c->cell_len, &c->lcap, c->ncells + 1,
				  sizeof(*c->cell_len));
	if (c->cells == NULL || c->cell_len == NULL)
		return sp_why(why, "out of memory");
	c->cells[c->ncells] = start;
	c->cell_len[c->ncells++] = len;
	c->nfield++;
	if (len > c->max_len)
		c->max_len = len;
	return 0;
}

/* A record: fields up to the end of the line. Returns the field count. */
static int
sp_csv_record(struct sp_plan *pl, struct sp_csv *c, char *why)
{
	int n = 0;

	c->nfield = 0;
	for (;;) {
		if (sp_csv_field(pl, c, why) < 0)
			return -1;
		n++;
		if (c->p == c->end)
			break;
		if (*c->p++ == '\n')
			break;
	}
	c->line++;
	return n;
}

/*
 * The data file: RFC 4180 records (CRLF or LF line ends), the first naming
 * the columns. A UTF-8 byte order mark (spreadsheet exports write one) is
 * not part of the first column's name. Errors are "@name:LINE: what", the
 * form editors and compilers use, so the line can be opened directly.
 */
static int
sp_csv_parse(struct sp_plan *pl, const char *name, const char *buf, size_t len,
	     char *why)
{
	struct sp_csv c = { .p = buf, .end = buf + len, .line = 1 };
	struct sp_data *d;
	int ncols = 0, n;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;

	/* Unquoting only shrinks: the file's size plus a NUL per field
	 * (each field but the last ends at a byte we drop) holds every cell. */
	c.out = sp_mem_alloc(pl, len + 1);
	d = sp_mem_alloc(pl, sizeof(*d));
	if (c.out == NULL || d == NULL)
		return sp_why(why, "out of memory");
	while (c.p < c.end) {
		unsigned line = c.line;

		if (*c.p == '\n' || (*c.p == '\r' && c.p + 1 < c.end &&
				     c.p[1] == '\n')) {
			c.p += *c.p == '\r' ? 2 : 1;
			c.line++;
			continue;
		}
		n = sp_csv_record(pl, &c, why);
		if (n < 0) {
			char what[SP_WHY];

			memcpy(what, why, SP_WHY); /* why is the output too */
			return sp_why(why, "%s:%u: %s", name, line, what);
		}
		if (ncols == 0) {
			ncols = n;
			continue;
		}
		if (n != ncols)
			return sp_why(why, "%s:%u: %d fields, expected %d (as "
				      "the first line)", name, line, n, ncols);
	}
	if (ncols == 0)
		return sp_why(why, "%s is empty (the first line names the "
			      "columns)", name);
	for (int i = 0; i < ncols; i++) {
		if (c.cell_len[i] == 0)
			return sp_why(why, "%s:1: column %d has no name", name,
				      i + 1);
		for (int j = 0; j < i; j++)
			if (strcmp(c.cells[i], c.cells[j]) == 0)
				return sp_why(why, "%s:1: column '%s' appears "
					      "twice", name, c.cells[i]);
	}
	if (c.ncells == (uint32_t)ncols)
		return sp_why(why, "%s:1: no data rows after the column names",
			      name);
	d->ncols = (uint32_t)ncols;
	d->nrows = c.ncells / (uint32_t)ncols - 1;
	d->cols = c.cells;
	d->cells = c.cells + ncols;
	d->cell_len = c.cell_len + ncols;
	d->max_cell_len = 0;
	for (uint32_t i = 0; i < d->nrows * d->ncols; i++)
		if (d->cell_len[i] > d->max_cell_len)
			d->max_cell_len = d->cell_len[i];
	pl->data = d;
	return 0;
}

static int
sp_file_data(struct sp_ld *ld, const yaml_node_t *n)
{
	const char *s, *slash;
	char path[4096];
	size_t len;
	char *buf;
	int rc;

	if (sp_str(ld, n, "data", &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_at(ld, n, "data: empty file name");
	slash = strrchr(ld->name, '/');
	/* Relative to the YAML file's directory, not to where we run. */
	if (s[0] == '/' || slash == NULL)
		rc = snprintf(path, sizeof(path), "%s", s);
	else
		rc = snprintf(path, sizeof(path), "%.*s/%s",
			      (int)(slash - ld->name), ld->name, s);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return sp_at(ld, n, "data: path too long");
	buf = sp_read_file(path, s, SP_MAX_DATA, &len, ld->why);
	if (buf == NULL)
		return sp_at(ld, n, "data: %s", ld->why);
	rc = sp_csv_parse(ld->pl, path, buf, len, ld->why);
	free(buf);
	/* The CSV's own FILE:LINE first: that is where the fix goes. */
	if (rc < 0)
		return sp_msg(ld->e, "%s (data: of %s:%zu:%zu)", ld->why,
			      ld->name, n->start_mark.line + 1,
			      n->start_mark.column + 1);
	return 0;
}

/* ---- requests ---- */

static int
sp_tpl_node(struct sp_ld *ld, const yaml_node_t *n, const char *key, int kind,
	    struct sp_tpl *t)
{
	struct sp_tb b = { 0 };
	const char *s;

	if (sp_str(ld, n, key, &s) < 0)
		return -1;
	if (sp_tpl_add(ld->pl, &b, s, strlen(s), kind, ld->why) < 0)
		return sp_at(ld, n, "%s: %s", key, ld->why);
	sp_tb_done(&b, t);
	return 0;
}

/*
 * headers: a mapping of names to template values. Host replaces the
 * target's authority for this request (virtual hosts behind one address)
 * and goes first (RFC 9110 7.2); User-Agent replaces the default one, and
 * an empty value removes it. Framing and persistence are stampede's.
 */
static int
sp_headers(struct sp_ld *ld, const yaml_node_t *n, struct sp_request *r)
{
	/* The engine writes these from the plan and the connection state. */
	static const char *const forbidden[] = {
		"Content-Length", "Connection", "Transfer-Encoding",
	};
	struct sp_tb b = { 0 };
	uint32_t count = 0;

	if (n->type != YAML_MAPPING_NODE)
		return sp_at(ld, n, "headers: expected a mapping, got %s",
			     sp_kind(n));
	/* Two passes: Host, then the rest in the order written. */
	for (int pass = 0; pass < 2; pass++)
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sp_node(ld, p->key), *v = sp_node(ld, p->value);
		const char *name, *val;
		int host, ua;

		if (sp_str(ld, k, "headers", &name) < 0 ||
		    sp_str(ld, v, name, &val) < 0)
			return -1;
		host = strcasecmp(name, "Host") == 0;
		ua = strcasecmp(name, "User-Agent") == 0;
		if (host != (pass == 0))
			continue;
		if (count++ == SP_MAX_HEADERS)
			return sp_at(ld, k, "headers: more than %u",
				     SP_MAX_HEADERS);
		if (!sp_is_token(name))
			return sp_at(ld, k, "headers: '%s' is not a header "
				     "name (RFC 9110 token)", name);
		for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]);
		     i++)
			if (strcasecmp(name, forbidden[i]) == 0)
				return sp_at(ld, k, "headers: %s is written by "
					     "stampede itself", forbidden[i]);
		if ((host && r->own_host) || (ua && r->own_ua))
			return sp_at(ld, k, "headers: %s given twice", name);
		if (host && *val == '\0')
			return sp_at(ld, v, "Host: empty (HTTP/1.1 needs the "
				     "name the server expects; leave Host out "
				     "for the target's)");
		r->own_host |= host;
		r->own_ua |= ua;
		if (ua && *val == '\0')
			continue; /* no User-Agent at all */
		if (sp_tb_lit(ld->pl, &b, name, strlen(name), ld->why) < 0 ||
		    sp_tb_lit(ld->pl, &b, ": ", 2, ld->why) < 0)
			return sp_at(ld, k, "headers: %s", ld->why);
		if (sp_tpl_add(ld->pl, &b, val, strlen(val), SP_TXT_HEADER,
			       ld->why) < 0)
			return sp_at(ld, v, "%s: %s", name, ld->why);
		if (sp_tb_lit(ld->pl, &b, "\r\n", 2, ld->why) < 0)
			return sp_at(ld, v, "%s: %s", name, ld->why);
	}
	sp_tb_done(&b, &r->headers);
	return 0;
}

static int
sp_status(struct sp_ld *ld, const yaml_node_t *n, struct sp_check *ck)
{
	const yaml_node_item_t *it, *top;
	uint64_t code;

	if (n->type == YAML_SCALAR_NODE) {
		it = NULL;
		top = NULL;
	} else if (sp_seq(ld, n, "status") == 0) {
		it = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
	} else {
		return -1;
	}
	do {
		const yaml_node_t *v = it != NULL ? sp_node(ld, *it) : n;
		const char *s;

		if (sp_str(ld, v, "status", &s) < 0)
			return -1;
		if (sp_val_u64(s, 0, UINT64_MAX, &code, ld->why) < 0)
			return sp_at(ld, v, "status: %s", ld->why);
		/* RFC 9110 15: the classes are 1xx to 5xx. */
		if (code < 100 || code > 599)
			return sp_at(ld, v, "status: %s is not an HTTP status "
				     "(100..599)", s);
		ck->status_set[code / 64] |= 1ull << (code % 64);
	} while (it != NULL && ++it < top);
	ck->has_status = 1;
	return 0;
}

/*
 * A list of expected statuses, "200", "2xx", "200-299", "200,304,4xx"
 * (codes 100..999), into @set. Shared by expect_status: (a scalar, or a
 * sequence whose items may be lists too) and --expect-status.
 */
static int
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
			return sp_why(why, "'%s': expected status codes, "
				      "ranges or classes (200, 200-299, 2xx)", s);
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
			return sp_why(why, "'%s' is not a status, a range "
				      "(200-299) or a class (2xx)", item);
		}
		if (!isdigit((unsigned char)item[0]) || lo < 100 || hi > 999 ||
		    lo > hi)
			return sp_why(why, "'%s': statuses are 100..999, a range "
				      "low to high", item);
		sp_status_set_range(set, lo, hi);
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* expect_status: a scalar list or a sequence of them. */
static int
sp_expect(struct sp_ld *ld, const yaml_node_t *n, uint64_t *set)
{
	const yaml_node_item_t *it = NULL, *top = NULL;

	if (n->type != YAML_SCALAR_NODE) {
		if (sp_seq(ld, n, "expect_status") < 0)
			return -1;
		it = n->data.sequence.items.start;
		top = n->data.sequence.items.top;
		if (it == top)
			return sp_at(ld, n, "expect_status: empty");
	}
	do {
		const yaml_node_t *v = it != NULL ? sp_node(ld, *it) : n;
		const char *s;

		if (sp_str(ld, v, "expect_status", &s) < 0)
			return -1;
		if (sp_val_statuses(s, set, ld->why) < 0)
			return sp_at(ld, v, "expect_status: %s", ld->why);
	} while (it != NULL && ++it < top);
	return 0;
}

static int
sp_check(struct sp_ld *ld, const yaml_node_t *n, struct sp_check *ck)
{
	static const char *const keys[] = {
		"status", "header", "body_contains", "body_size", NULL,
	};
	yaml_node_t *v;
	const char *s;
	uint64_t x;

	if (sp_map(ld, n, "check", keys) < 0)
		return -1;
	if ((v = sp_get(ld, n, "status")) != NULL && sp_status(ld, v, ck) < 0)
		return -1;
	if ((v = sp_get(ld, n, "header")) != NULL) {
		if (sp_str(ld, v, "header", &s) < 0)
			return -1;
		if (!sp_is_token(s))
			return sp_at(ld, v, "header: '%s' is not a header name",
				     s);
		ck->header = sp_mem_strdup(ld->pl, s);
		ck->header_len = (uint32_t)strlen(s);
		if (ck->header == NULL)
			return sp_at(ld, v, "out of memory");
	}
	if ((v = sp_get(ld, n, "body_contains")) != NULL) {
		uint32_t *f;
		uint32_t len, k = 0;

		if (sp_str(ld, v, "body_contains", &s) < 0)
			return -1;
		len = (uint32_t)strlen(s);
		if (len == 0)
			return sp_at(ld, v, "body_contains: empty");
		f = sp_mem_alloc(ld->pl, (size_t)len * sizeof(*f));
		ck->body_contains = sp_mem_strdup(ld->pl, s);
		if (f == NULL || ck->body_contains == NULL)
			return sp_at(ld, v, "out of memory");
		/* f[i]: length of the longest proper prefix of s[0..i] that
		 * is also its suffix, so a match can resume across body
		 * pieces without looking back. */
		for (uint32_t i = 1; i < len; i++) {
			while (k > 0 && s[i] != s[k])
				k = f[k - 1];
			if (s[i] == s[k])
				k++;
			f[i] = k;
		}
		ck->body_contains_len = len;
		ck->body_contains_kmp = f;
	}
	if ((v = sp_get(ld, n, "body_size")) != NULL) {
		if (sp_u64(ld, v, "body_size", 0, INT64_MAX, &x) < 0)
			return -1;
		ck->body_size = (int64_t)x;
	}
	return 0;
}

static int
sp_request(struct sp_ld *ld, const yaml_node_t *n, uint32_t *idx)
{
	static const char *const keys[] = {
		"name", "method", "path", "headers", "body", "check",
		"expect_status", NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_request *r;
	yaml_node_t *v, *path;
	const char *s, *pstr;

	if (sp_map(ld, n, "request", keys) < 0)
		return -1;
	pv->req = sp_mem_grow(pl, pv->req, &pv->req_cap, pl->nrequests + 1,
			      sizeof(*pv->req));
	if (pv->req == NULL)
		return sp_at(ld, n, "out of memory");
	pl->requests = pv->req;
	r = &pv->req[pl->nrequests];
	r->check.body_size = -1;
	r->method = SP_METHOD_GET;
	if ((v = sp_get(ld, n, "method")) != NULL) {
		if (sp_str(ld, v, "method", &s) < 0)
			return -1;
		for (r->method = 0; r->method < SP_METHOD_N; r->method++)
			if (strcmp(s, sp_methods[r->method]) == 0)
				break;
		if (r->method == SP_METHOD_N)
			return sp_at(ld, v, "method: '%s' is not one of GET, "
				     "POST, PUT, PATCH, DELETE, HEAD", s);
	}
	path = sp_get(ld, n, "path");
	if (path == NULL)
		return sp_at(ld, n, "request: no path");
	if (sp_str(ld, path, "path", &pstr) < 0)
		return -1;
	if (pstr[0] != '/')
		return sp_at(ld, path, "path: '%s' does not start with '/'",
			     pstr);
	if (sp_tpl_node(ld, path, "path", SP_TXT_PATH, &r->path) < 0)
		return -1;
	if ((v = sp_get(ld, n, "name")) != NULL) {
		if (sp_str(ld, v, "name", &s) < 0)
			return -1;
		if (*s == '\0')
			return sp_at(ld, v, "name: empty");
		r->name = sp_mem_strdup(pl, s);
	} else {
		size_t ml = strlen(sp_methods[r->method]);
		char *nm = sp_mem_alloc(pl, ml + 1 + strlen(pstr) + 1);

		if (nm != NULL)
			sprintf(nm, "%s %s", sp_methods[r->method], pstr);
		r->name = nm;
	}
	if (r->name == NULL)
		return sp_at(ld, n, "out of memory");
	if ((v = sp_get(ld, n, "headers")) != NULL &&
	    sp_headers(ld, v, r) < 0)
		return -1;
	if ((v = sp_get(ld, n, "body")) != NULL) {
		if (sp_tpl_node(ld, v, "body", SP_TXT_BODY, &r->body) < 0)
			return -1;
		r->has_body = 1;
	}
	if ((v = sp_get(ld, n, "check")) != NULL && sp_check(ld, v, &r->check) < 0)
		return -1;
	if ((v = sp_get(ld, n, "expect_status")) != NULL &&
	    sp_expect(ld, v, r->expect_set) < 0)
		return -1;
	*idx = pl->nrequests++;
	return 0;
}

/* ---- steps and scenarios ---- */

static int
sp_step_push(struct sp_ld *ld, const yaml_node_t *n, const struct sp_step *st,
	     uint32_t *idx)
{
	if (ld->pv->nsteps >= SP_MAX_STEPS)
		return sp_at(ld, n, "too many steps (at most %u in all)",
			     SP_MAX_STEPS);
	if (ld->nsteps == ld->steps_cap) {
		uint32_t cap = ld->steps_cap ? ld->steps_cap * 2 : 16;
		struct sp_step *s = realloc(ld->steps, cap * sizeof(*s));

		if (s == NULL)
			return sp_at(ld, n, "out of memory");
		ld->steps = s;
		ld->steps_cap = cap;
	}
	ld->steps[ld->nsteps] = *st;
	*idx = ld->nsteps++;
	ld->pv->nsteps++;
	return 0;
}

static int sp_steps(struct sp_ld *ld, const yaml_node_t *n, unsigned depth);

static int
sp_think(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "min", "max", NULL };
	struct sp_step st = { .kind = SP_STEP_THINK };
	yaml_node_t *lo, *hi;
	uint32_t idx;

	if (n->type == YAML_MAPPING_NODE) {
		if (sp_map(ld, n, "think", keys) < 0)
			return -1;
		lo = sp_get(ld, n, "min");
		hi = sp_get(ld, n, "max");
		if (lo == NULL || hi == NULL)
			return sp_at(ld, n, "think: give both min and max");
		if (sp_dur(ld, lo, "min", &st.think_min_us) < 0 ||
		    sp_dur(ld, hi, "max", &st.think_max_us) < 0)
			return -1;
		if (st.think_min_us > st.think_max_us)
			return sp_at(ld, hi, "think: max is less than min");
	} else {
		if (sp_dur(ld, n, "think", &st.think_min_us) < 0)
			return -1;
		st.think_max_us = st.think_min_us;
	}
	return sp_step_push(ld, n, &st, &idx);
}

static int
sp_loop(struct sp_ld *ld, const yaml_node_t *n, unsigned depth)
{
	static const char *const keys[] = { "count", "steps", NULL };
	struct sp_step st = { .kind = SP_STEP_LOOP, .depth = (uint8_t)depth };
	yaml_node_t *cnt, *body;
	uint32_t b, e;
	uint64_t x;

	if (sp_map(ld, n, "loop", keys) < 0)
		return -1;
	if (depth >= SP_PLAN_MAX_LOOP_DEPTH)
		return sp_at(ld, n, "loop: loops nest at most %d deep",
			     SP_PLAN_MAX_LOOP_DEPTH);
	cnt = sp_get(ld, n, "count");
	body = sp_get(ld, n, "steps");
	if (cnt == NULL)
		return sp_at(ld, n, "loop: no count");
	if (body == NULL)
		return sp_at(ld, n, "loop: no steps");
	if (sp_u64(ld, cnt, "count", 1, UINT32_MAX, &x) < 0)
		return -1;
	st.count = (uint32_t)x;
	if (sp_step_push(ld, n, &st, &b) < 0 || sp_steps(ld, body, depth + 1) < 0)
		return -1;
	st.kind = SP_STEP_LOOP_END;
	st.begin = b;
	if (sp_step_push(ld, n, &st, &e) < 0)
		return -1;
	ld->steps[b].begin = b;
	ld->steps[b].end = e;
	ld->steps[e].end = e;
	return 0;
}

/* @depth: the nesting depth a loop among these steps would have. */
static int
sp_steps(struct sp_ld *ld, const yaml_node_t *n, unsigned depth)
{
	if (sp_seq(ld, n, "steps") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *s = sp_node(ld, *it), *k, *v;
		struct sp_step st = { .kind = SP_STEP_REQUEST };
		const char *kind;
		uint32_t idx;

		if (s->type != YAML_MAPPING_NODE ||
		    s->data.mapping.pairs.top - s->data.mapping.pairs.start != 1)
			return sp_at(ld, s, "a step is a mapping with exactly "
				     "one of request, think, loop");
		k = sp_node(ld, s->data.mapping.pairs.start->key);
		v = sp_node(ld, s->data.mapping.pairs.start->value);
		if (sp_str(ld, k, "step", &kind) < 0)
			return -1;
		if (strcmp(kind, "request") == 0) {
			if (sp_request(ld, v, &st.req) < 0 ||
			    sp_step_push(ld, s, &st, &idx) < 0)
				return -1;
		} else if (strcmp(kind, "think") == 0) {
			if (sp_think(ld, v) < 0)
				return -1;
		} else if (strcmp(kind, "loop") == 0) {
			if (sp_loop(ld, v, depth) < 0)
				return -1;
		} else {
			return sp_at(ld, k, "unknown step '%s' (request, think "
				     "or loop)", kind);
		}
	}
	return 0;
}

static int
sp_tags(struct sp_ld *ld, const yaml_node_t *n, struct sp_scenario *sc)
{
	const char **tags;
	uint32_t i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return sp_at(ld, n, "tags: expected a list, got %s", sp_kind(n));
	tags = sp_mem_alloc(ld->pl, sizeof(*tags) *
			    (size_t)(n->data.sequence.items.top -
				     n->data.sequence.items.start + 1));
	if (tags == NULL)
		return sp_at(ld, n, "out of memory");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *t = sp_node(ld, *it);
		const char *s;

		if (sp_str(ld, t, "tags", &s) < 0)
			return -1;
		/* --tags takes a comma-separated list of them. */
		if (*s == '\0' || strchr(s, ',') != NULL)
			return sp_at(ld, t, "tags: '%s' is not a tag (non-empty, "
				     "no comma)", s);
		tags[i] = sp_mem_strdup(ld->pl, s);
		if (tags[i] == NULL)
			return sp_at(ld, t, "out of memory");
	}
	sc->tags = tags;
	sc->ntags = i;
	return 0;
}

static int
sp_scenario(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = {
		"name", "weight", "tags", "keep_alive",
		"max_requests_per_connection", "steps", NULL,
	};
	struct sp_plan *pl = ld->pl;
	struct sp_priv *pv = ld->pv;
	struct sp_scenario sc = { .weight = 1, .enabled = 1, .keep_alive = 1 };
	struct sp_step *steps;
	yaml_node_t *v, *nm, *st;
	const char *s;
	uint64_t x;
	uint32_t i;

	if (sp_map(ld, n, "scenario", keys) < 0)
		return -1;
	nm = sp_get(ld, n, "name");
	if (nm == NULL)
		return sp_at(ld, n, "scenario: no name");
	if (sp_str(ld, nm, "name", &s) < 0)
		return -1;
	if (*s == '\0')
		return sp_at(ld, nm, "name: empty");
	for (i = 0; i < pl->nscenarios; i++)
		if (strcmp(pv->scn[i].name, s) == 0)
			return sp_at(ld, nm, "name: a scenario named '%s' "
				     "already exists", s);
	sc.name = sp_mem_strdup(pl, s);
	if (sc.name == NULL)
		return sp_at(ld, nm, "out of memory");
	if ((v = sp_get(ld, n, "weight")) != NULL) {
		if (sp_u64(ld, v, "weight", 1, 1000000, &x) < 0)
			return -1;
		sc.weight = (uint32_t)x;
	}
	if ((v = sp_get(ld, n, "tags")) != NULL && sp_tags(ld, v, &sc) < 0)
		return -1;
	if ((v = sp_get(ld, n, "keep_alive")) != NULL) {
		if (sp_str(ld, v, "keep_alive", &s) < 0)
			return -1;
		if (sp_val_bool(s, &sc.keep_alive, ld->why) < 0)
			return sp_at(ld, v, "keep_alive: %s", ld->why);
	}
	if ((v = sp_get(ld, n, "max_requests_per_connection")) != NULL) {
		if (sp_u64(ld, v, "max_requests_per_connection", 0, UINT32_MAX,
			   &x) < 0)
			return -1;
		sc.max_requests_per_conn = (uint32_t)x;
	}
	st = sp_get(ld, n, "steps");
	if (st == NULL)
		return sp_at(ld, n, "scenario %s: no steps", sc.name);
	ld->nsteps = 0;
	if (sp_steps(ld, st, 0) < 0)
		return -1;
	for (i = 0; i < ld->nsteps; i++)
		if (ld->steps[i].kind == SP_STEP_REQUEST)
			break;
	if (i == ld->nsteps)
		return sp_at(ld, st, "steps: scenario %s makes no request",
			     sc.name);
	steps = sp_mem_alloc(pl, ld->nsteps * sizeof(*steps));
	pv->scn = sp_mem_grow(pl, pv->scn, &pv->scn_cap, pl->nscenarios + 1,
			      sizeof(*pv->scn));
	if (steps == NULL || pv->scn == NULL)
		return sp_at(ld, n, "out of memory");
	memcpy(steps, ld->steps, ld->nsteps * sizeof(*steps));
	sc.steps = steps;
	sc.nsteps = ld->nsteps;
	pv->scn[pl->nscenarios++] = sc;
	pl->scenarios = pv->scn;
	return 0;
}

static int
sp_file_scenarios(struct sp_ld *ld, const yaml_node_t *n)
{
	if (sp_seq(ld, n, "scenarios") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *s = sp_node(ld, *it);

		if (ld->pl->nscenarios == SP_MAX_SCENARIOS)
			return sp_at(ld, s, "scenarios: more than %u",
				     SP_MAX_SCENARIOS);
		if (sp_scenario(ld, s) < 0)
			return -1;
	}
	return 0;
}

/* Append a parsed threshold (its expression copied into the plan). */
static int
sp_th_add(struct sp_plan *pl, const char *expr, char *why)
{
	struct sp_priv *pv = pl->priv;
	struct sp_threshold t, *arr;
	const char *copy = sp_mem_strdup(pl, expr);

	if (copy == NULL)
		return sp_why(why, "out of memory");
	if (sp_threshold_parse(copy, &t, why, SP_WHY) < 0)
		return -1;
	arr = sp_mem_grow(pl, pv->th, &pv->th_cap, pl->nthresholds + 1,
			  sizeof(*arr));
	if (arr == NULL)
		return sp_why(why, "out of memory");
	pv->th = arr;
	arr[pl->nthresholds++] = t;
	pl->thresholds = arr;
	return 0;
}

/* A scope's name must be a scenario's or a request's. */
static int
sp_th_resolve(const struct sp_plan *pl, struct sp_threshold *t, char *why)
{
	const char *name = t->expr + t->name_off;

	if (t->scope == SP_TH_GLOBAL)
		return 0;
	if (t->scope == SP_TH_SCENARIO) {
		for (uint32_t i = 0; i < pl->nscenarios; i++)
			if (strlen(pl->scenarios[i].name) == t->name_len &&
			    strncmp(pl->scenarios[i].name, name, t->name_len) == 0) {
				t->idx = i;
				return 0;
			}
		return sp_why(why, "no scenario is named '%.*s'",
			      (int)t->name_len, name);
	}
	for (uint32_t i = 0; i < pl->nrequests; i++)
		if (strlen(pl->requests[i].name) == t->name_len &&
		    strncmp(pl->requests[i].name, name, t->name_len) == 0) {
			t->idx = i;
			return 0;
		}
	return sp_why(why, "no request is named '%.*s'", (int)t->name_len,
		      name);
}

/* thresholds: a list of expressions, or of { expr, abort_on_fail, grace }. */
static int
sp_file_thresholds(struct sp_ld *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "expr", "abort_on_fail", "grace",
					    NULL };

	if (sp_seq(ld, n, "thresholds") < 0)
		return -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *t = sp_node(ld, *it), *v, *ev = t;
		struct sp_threshold *th;
		const char *s;

		if (t->type == YAML_MAPPING_NODE) {
			if (sp_map(ld, t, "a threshold", keys) < 0)
				return -1;
			ev = sp_get(ld, t, "expr");
			if (ev == NULL)
				return sp_at(ld, t, "thresholds: expr is missing");
		}
		if (sp_str(ld, ev, "thresholds", &s) < 0)
			return -1;
		if (sp_th_add(ld->pl, s, ld->why) < 0 ||
		    sp_th_resolve(ld->pl, &ld->pv->th[ld->pl->nthresholds - 1],
				  ld->why) < 0)
			return sp_at(ld, ev, "thresholds: '%s': %s", s, ld->why);
		th = &ld->pv->th[ld->pl->nthresholds - 1];
		if (t->type != YAML_MAPPING_NODE)
			continue;
		if ((v = sp_get(ld, t, "abort_on_fail")) != NULL) {
			if (sp_str(ld, v, "abort_on_fail", &s) < 0)
				return -1;
			if (sp_val_bool(s, &th->abort, ld->why) < 0)
				return sp_at(ld, v, "abort_on_fail: %s", ld->why);
		}
		if ((v = sp_get(ld, t, "grace")) != NULL &&
		    sp_dur(ld, v, "grace", &th->grace_us) < 0)
			return -1;
	}
	return 0;
}

static int
sp_file(struct sp_ld *ld, const yaml_node_t *root)
{
	static const char *const keys[] = {
		"target", "resolve", "network", "load", "seed", "data",
		"scenarios", "thresholds", "expect_status", NULL,
	};
	yaml_node_t *v;
	const char *s;
	unsigned bit;

	if (sp_map(ld, root, "the file", keys) < 0)
		return -1;
	if ((v = sp_get(ld, root, "target")) != NULL &&
	    sp_file_target(ld, v) < 0)
		return -1;
	if ((v = sp_get(ld, root, "resolve")) != NULL &&
	    sp_file_resolve(ld, v) < 0)
		return -1;
	if ((v = sp_get(ld, root, "network")) != NULL &&
	    sp_file_network(ld, v) < 0)
		return -1;
	if ((v = sp_get(ld, root, "load")) != NULL && sp_file_load(ld, v) < 0)
		return -1;
	if ((v = sp_get(ld, root, "seed")) != NULL) {
		if (sp_str(ld, v, "seed", &s) < 0)
			return -1;
		if (sp_load_key(ld->pl, "seed", s, &bit, ld->why) < 0)
			return sp_at(ld, v, "seed: %s", ld->why);
	}
	if ((v = sp_get(ld, root, "expect_status")) != NULL &&
	    sp_expect(ld, v, ld->pv->file_expect) < 0)
		return -1;
	/* Before the scenarios: their templates name its columns. */
	if ((v = sp_get(ld, root, "data")) != NULL && sp_file_data(ld, v) < 0)
		return -1;
	if ((v = sp_get(ld, root, "scenarios")) != NULL &&
	    sp_file_scenarios(ld, v) < 0)
		return -1;
	/* After the scenarios: their names are the scopes. */
	if ((v = sp_get(ld, root, "thresholds")) != NULL &&
	    sp_file_thresholds(ld, v) < 0)
		return -1;
	return 0;
}

/* ---- API ---- */

void
sp_scenario_init(struct sp_plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->source = "command line";
	pl->model = SP_MODEL_CLOSED;
	pl->vus = 1;
	pl->duration_us = 10 * SP_US_PER_S;
	pl->connect_timeout_us = 3 * SP_US_PER_S;
	pl->response_timeout_us = 10 * SP_US_PER_S;
}

int
sp_scenario_load_buf(struct sp_plan *pl, const char *name, const char *buf,
		     size_t len, struct sp_scenario_err *e)
{
	struct sp_ld ld = { .pl = pl, .e = e, .name = name };
	yaml_parser_t parser;
	yaml_node_t *root;
	int rc;

	ld.pv = sp_priv(pl);
	if (ld.pv == NULL)
		return sp_msg(e, "%s: out of memory", name);
	if (ld.pv->loaded)
		return sp_msg(e, "%s: a plan takes one scenario file", name);
	ld.pv->loaded = 1;
	pl->source = sp_mem_strdup(pl, name);
	if (pl->source == NULL)
		return sp_msg(e, "%s: out of memory", name);
	if (!yaml_parser_initialize(&parser))
		return sp_msg(e, "%s: out of memory", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		sp_msg(e, "%s:%zu:%zu: %s%s%s", name,
		       parser.problem_mark.line + 1,
		       parser.problem_mark.column + 1,
		       parser.problem != NULL ? parser.problem : "bad YAML",
		       parser.context != NULL ? " " : "",
		       parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&ld.doc);
	if (root == NULL)
		rc = sp_msg(e, "%s:1:1: empty file", name);
	else
		rc = sp_file(&ld, root);
	yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	free(ld.steps);
	return rc;
}

int
sp_scenario_load(struct sp_plan *pl, const char *path,
		 struct sp_scenario_err *e)
{
	char why[SP_WHY];
	size_t len;
	char *buf;
	int rc;

	buf = sp_read_file(path, "the scenario file", SP_MAX_FILE, &len, why);
	if (buf == NULL)
		return sp_msg(e, "%s: %s", path, why);
	rc = sp_scenario_load_buf(pl, path, buf, len, e);
	free(buf);
	return rc;
}

/* --url: the target, and a one-request scenario when there is none. */
static int
sp_set_url(struct sp_plan *pl, const char *v, char *why)
{
	struct sp_priv *pv = pl->priv;
	struct sp_scenario *sc;
	struct sp_request *r;
	struct sp_step *st;
	struct sp_tb b = { 0 };
	struct sp_url u;
	const char *path;
	char *nm;

	if (sp_val_url(v, 1, &u, why) < 0 || sp_set_target(pl, &u, why) < 0)
		return -1;
	path = u.path;
	/* With a file, --url only retargets it: its path would be dropped. */
	if (pl->nscenarios > 0 && strcmp(path, "/") != 0)
		return sp_why(why, "'%s': the scenario file has the requests, "
			      "so its path %s would not be used; give the URL "
			      "without a path to retarget the file", v, path);
	if (pl->nscenarios > 0)
		return 0;
	if (sp_tpl_add(pl, &b, path, strlen(path), SP_TXT_PATH, why) < 0)
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
	sp_tb_done(&b, &r->path);
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
sp_scenario_set(struct sp_plan *pl, const char *key, const char *value,
		struct sp_scenario_err *e)
{
	static const char *const load_keys[][2] = {
		{ "vus", "vus" }, { "rate", "rate" }, { "max-vus", "max_vus" },
		{ "duration", "duration" }, { "stages", "stages" },
		{ "model", "model" }, { "connect-timeout", "connect_timeout" },
		{ "response-timeout", "response_timeout" }, { "seed", "seed" },
	};
	struct sp_priv *pv = sp_priv(pl);
	char why[SP_WHY];
	unsigned bit;
	size_t i;
	int rc;

	if (pv == NULL)
		return sp_msg(e, "--%s: out of memory", key);
	if (strcmp(key, "url") == 0)
		rc = sp_set_url(pl, value, why);
	else if (strcmp(key, "resolve") == 0)
		rc = sp_set_resolve(pl, value, why);
	else if (strcmp(key, "tags") == 0)
		rc = sp_set_tags(pl, value, &pv->tags, why);
	else if (strcmp(key, "exclude-tags") == 0)
		rc = sp_set_tags(pl, value, &pv->exclude_tags, why);
	else if (strcmp(key, "threshold") == 0) {
		if (!pv->th_cli_set) {
			pv->th_cli = pl->nthresholds;
			pv->th_cli_set = 1;
		}
		rc = sp_th_add(pl, value, why);
	} else if (strcmp(key, "abort-on-fail") == 0) {
		pv->cli_abort = 1;
		rc = 0;
	} else if (strcmp(key, "abort-grace") == 0) {
		rc = sp_val_dur(value, &pv->cli_grace_us, why);
		pv->cli_grace_set = 1;
	} else if (strcmp(key, "expect-status") == 0) {
		memset(pv->cli_expect, 0, sizeof(pv->cli_expect));
		rc = sp_val_statuses(value, pv->cli_expect, why);
	} else {
		for (i = 0; i < sizeof(load_keys) / sizeof(load_keys[0]); i++)
			if (strcmp(key, load_keys[i][0]) == 0)
				break;
		if (i == sizeof(load_keys) / sizeof(load_keys[0]))
			return sp_msg(e, "--%s: not a scenario option", key);
		rc = sp_load_key(pl, load_keys[i][1], value, &bit, why);
		if (rc == 0) {
			pv->cli_keys |= bit;
			/* An arrival rate only means something open. */
			if (bit == SP_K_RATE)
				pl->model = SP_MODEL_OPEN;
		}
	}
	if (rc < 0)
		return sp_msg(e, "--%s: %s", key, why);
	return 0;
}

/* The resolve entry for @name:@port, the last given that matches. */
static const struct sp_resolve *
sp_lookup(const struct sp_plan *pl, const char *name, uint16_t port)
{
	for (uint32_t i = pl->nresolve; i-- > 0;) {
		const struct sp_resolve *r = &pl->resolve[i];

		if (strcasecmp(r->name, name) == 0 &&
		    (r->port == 0 || r->port == port))
			return r;
	}
	return NULL;
}

int
sp_scenario_resolve(struct sp_plan *pl, sp_resolver_fn fn,
		    struct sp_scenario_err *e)
{
	const struct sp_resolve *r;
	const char *bad;
	char why[SP_WHY];
	uint32_t ip;

	if (pl->target_name == NULL)
		return 0;
	r = sp_lookup(pl, pl->target_name, pl->dst_port);
	if (r != NULL) {
		pl->dst_ip = r->ip;
		return 0;
	}
	if (fn(pl->target_name, &ip, why, sizeof(why)) < 0)
		return sp_msg(e, "target: cannot resolve '%s': %s (--resolve "
			      "%s:ADDR gives its address)", pl->target_name,
			      why, pl->target_name);
	if ((bad = sp_val_ipv4_unusable(ip)) != NULL)
		return sp_msg(e, "target: '%s' resolves to %u.%u.%u.%u, which "
			      "%s", pl->target_name, ip >> 24,
			      (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
			      bad);
	pl->dst_ip = ip;
	return 0;
}

/* Whether comma-separated @list names one of @sc's tags. */
static int
sp_has_tag(const struct sp_scenario *sc, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		for (uint32_t i = 0; i < sc->ntags; i++)
			if (strlen(sc->tags[i]) == n &&
			    strncmp(sc->tags[i], p, n) == 0)
				return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Finish-time errors: prefixed by the file when there is one. */
static int sp_fin(struct sp_plan *pl, struct sp_scenario_err *e,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
sp_fin(struct sp_plan *pl, struct sp_scenario_err *e, const char *fmt, ...)
{
	const struct sp_priv *pv = pl->priv;
	char why[SP_WHY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (pv != NULL && pv->loaded)
		return sp_msg(e, "%s: %s", pl->source, why);
	return sp_msg(e, "%s", why);
}

static int
sp_set_empty(const uint64_t *set)
{
	for (unsigned i = 0; i < (SP_PLAN_MAX_STATUS + 63) / 64; i++)
		if (set[i] != 0)
			return 0;
	return 1;
}

/*
 * Each request's expected statuses: its own expect_status, else
 * --expect-status, else the file's, else 100-399. A status check can only
 * judge a response whose status was expected (an unexpected one fails as
 * http_status first), so a checked status outside the set is a mistake.
 */
static int
sp_fin_expect(struct sp_plan *pl, struct sp_scenario_err *e)
{
	struct sp_priv *pv = pl->priv;
	const uint64_t *dflt = !sp_set_empty(pv->cli_expect)  ? pv->cli_expect :
			       !sp_set_empty(pv->file_expect) ? pv->file_expect :
								NULL;

	for (uint32_t i = 0; i < pl->nrequests; i++) {
		struct sp_request *r = &pv->req[i];

		if (sp_set_empty(r->expect_set) && dflt != NULL)
			memcpy(r->expect_set, dflt, sizeof(r->expect_set));
		else if (sp_set_empty(r->expect_set))
			sp_status_set_range(r->expect_set, SP_EXPECT_DEFAULT_LO,
					    SP_EXPECT_DEFAULT_HI);
		if (!r->check.has_status)
			continue;
		for (unsigned c = 0; c < SP_PLAN_MAX_STATUS; c++)
			if ((r->check.status_set[c / 64] >> (c % 64) & 1) &&
			    !(r->expect_set[c / 64] >> (c % 64) & 1))
				return sp_fin(pl, e, "request '%s': its check "
					      "of status %u can never pass: a "
					      "%u fails the request as http_status "
					      "before checks run (add %u to "
					      "expect_status)", r->name, c, c, c);
	}
	return 0;
}

int
sp_scenario_finish(struct sp_plan *pl, struct sp_scenario_err *e)
{
	struct sp_priv *pv = sp_priv(pl);
	uint64_t sum = 0, top;
	uint32_t on = 0, i;
	double peak;

	if (pv == NULL)
		return sp_msg(e, "out of memory");
	if (pl->host == NULL)
		return sp_fin(pl, e, "no target: give target: in the file or "
			      "--url");
	if (pl->nscenarios == 0)
		return sp_fin(pl, e, "no scenario: give scenarios: in the file "
			      "or --url");
	for (i = 0; i < pl->nscenarios; i++) {
		struct sp_scenario *sc = &pv->scn[i];

		sc->enabled = (pv->tags == NULL || sp_has_tag(sc, pv->tags)) &&
			      (pv->exclude_tags == NULL ||
			       !sp_has_tag(sc, pv->exclude_tags));
		on += (uint32_t)sc->enabled;
	}
	if (on == 0) {
		if (pv->tags != NULL && pv->exclude_tags != NULL)
			return sp_msg(e, "--tags %s --exclude-tags %s left no "
				      "scenario to run", pv->tags,
				      pv->exclude_tags);
		if (pv->tags != NULL)
			return sp_msg(e, "--tags %s left no scenario to run",
				      pv->tags);
		return sp_msg(e, "--exclude-tags %s left no scenario to run",
			      pv->exclude_tags);
	}

	/*
	 * The command line wins over the file, key by key, but stages and a
	 * constant load are two ways to say one thing: --stages replaces
	 * the file's vus/rate, --vus or --rate alone replaces the file's
	 * stages (the run keeps their length unless --duration says
	 * otherwise). Within one source, stages and a duration conflict.
	 */
	if (pl->nstages > 0)
		for (i = 0; i < pl->nstages; i++)
			sum += pl->stages[i].duration_us;
	if (pv->cli_keys & SP_K_STAGES) {
		if (pv->cli_keys & SP_K_DURATION)
			return sp_msg(e, "--duration: give either --duration "
				      "or --stages, not both");
	} else if (pv->cli_keys & (SP_K_VUS | SP_K_RATE)) {
		if (pl->nstages > 0) {
			pl->nstages = 0;
			if (!(pv->cli_keys & SP_K_DURATION))
				pl->duration_us = sum;
		}
	} else if (pl->nstages > 0 && (pv->cli_keys & SP_K_DURATION)) {
		return sp_msg(e, "--duration: the file's stages set the run's "
			      "length; give --stages, or --vus/--rate with it");
	}
	if (pl->nstages > 0) {
		pl->duration_us = sum;
		peak = 0;
		for (i = 0; i < pl->nstages; i++) {
			if (pl->model == SP_MODEL_CLOSED &&
			    pl->stages[i].target !=
				    (double)(uint64_t)pl->stages[i].target)
				return sp_fin(pl, e, "stages: a closed model's "
					      "targets are VU counts (stage "
					      "%u: %g)", i + 1,
					      pl->stages[i].target);
			if (pl->stages[i].target > peak)
				peak = pl->stages[i].target;
		}
		if (pl->model == SP_MODEL_CLOSED && peak < 1)
			return sp_fin(pl, e, "stages: no stage has a VU");
		if (pl->model == SP_MODEL_OPEN && peak <= 0)
			return sp_fin(pl, e, "stages: no stage has a rate");
	} else if (pl->model == SP_MODEL_CLOSED) {
		if (pl->vus == 0)
			return sp_fin(pl, e, "the closed model needs vus or "
				      "stages");
		peak = pl->vus;
	} else {
		if (pl->rate <= 0)
			return sp_fin(pl, e, "the open model needs rate or "
				      "stages");
		peak = pl->rate;
	}
	if (pl->duration_us == 0)
		return sp_fin(pl, e, "the run's duration is 0");
	/* Options the model would not read: said, not ignored. */
	if ((pv->cli_keys & (SP_K_VUS | SP_K_RATE)) == (SP_K_VUS | SP_K_RATE))
		return sp_msg(e, "--vus: give --vus (closed model) or --rate "
			      "(open model), not both");
	if ((pv->cli_keys & SP_K_VUS) && pl->model == SP_MODEL_OPEN)
		return sp_msg(e, "--vus: the model is open (iterations start "
			      "at a rate); give --model closed, or --rate and "
			      "--max-vus");
	if ((pv->cli_keys & SP_K_RATE) && pl->model == SP_MODEL_CLOSED)
		return sp_msg(e, "--rate: the closed model has no arrival rate "
			      "(its VUs loop); leave out --model closed");
	if ((pv->cli_keys & SP_K_MAX_VUS) && pl->model == SP_MODEL_CLOSED)
		return sp_msg(e, "--max-vus: only the open model has it (the "
			      "closed model runs --vus VUs, or the stages' "
			      "peak)");
	if (pv->cli_grace_set && !pv->cli_abort)
		return sp_msg(e, "--abort-grace: only with --abort-on-fail "
			      "(it delays the command line's aborts)");
	/* Each stage is within the bound, their sum may not be. */
	if (pl->duration_us > SP_VAL_MAX_DURATION_US)
		return sp_fin(pl, e, "stages: together %llus, longer than "
			      SP_VAL_MAX_DURATION_STR " (a week), the longest "
			      "stampede takes",
			      (unsigned long long)(pl->duration_us / SP_US_PER_S));
	/* The command line's thresholds: names known only now (--url may
	 * have made the scenario), --abort-on-fail wherever it was given. */
	for (i = pv->th_cli_set ? pv->th_cli : pl->nthresholds;
	     i < pl->nthresholds; i++) {
		char why[SP_WHY];

		if (sp_th_resolve(pl, &pv->th[i], why) < 0)
			return sp_msg(e, "--threshold: '%s': %s", pv->th[i].expr,
				      why);
		if (pv->cli_abort) {
			pv->th[i].abort = 1;
			pv->th[i].grace_us = pv->cli_grace_us;
		}
	}
	if (sp_fin_expect(pl, e) < 0)
		return -1;
	/* peak <= SP_MAX_RATE: it fits, and rounds up to whole VUs. */
	top = (uint64_t)peak + ((double)(uint64_t)peak < peak);
	if (pl->model == SP_MODEL_CLOSED)
		pl->max_vus = (uint32_t)top;
	else if (pl->max_vus == 0)
		pl->max_vus = (uint32_t)(top > 100 ? top : 100);
	return 0;
}

void
sp_scenario_free(struct sp_plan *pl)
{
	struct sp_priv *pv = pl->priv;

	if (pv != NULL) {
		for (struct sp_mem *m = pv->mem, *next; m != NULL; m = next) {
			next = m->next;
			free(m);
		}
		free(pv);
	}
	memset(pl, 0, sizeof(*pl));
}

/* ---- stampede validate ---- */

static const char sp_validate_help[] =
	"usage: stampede validate FILE\n"
	"\n"
	"Load a scenario file and check everything a run would check, without\n"
	"touching the network. Prints one summary line on success, or\n"
	"FILE:LINE:COL: what is wrong.\n"
	"\n"
	"  -h, --help   this text\n"
	"  --version    stampede's and DPDK's versions\n"
	"\n"
	"exit codes: 0 valid, 2 not valid (or usage)\n";

/* Go-style: 1h2m3s, 1m0s, 30s, 1.5s, 500ms. */
static void
sp_fmt_dur(uint64_t us, char *buf, size_t n)
{
	uint64_t s = us / SP_US_PER_S, ms = us % SP_US_PER_S / 1000;
	char frac[8] = "";

	if (us < SP_US_PER_S) {
		snprintf(buf, n, "%llums", (unsigned long long)(us / 1000));
		return;
	}
	if (ms != 0) {
		snprintf(frac, sizeof(frac), ".%03u", (unsigned)ms);
		for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
			frac[i] = '\0';
	}
	if (s >= 3600)
		snprintf(buf, n, "%lluh%llum%llu%ss", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60),
			 (unsigned long long)(s % 60), frac);
	else if (s >= 60)
		snprintf(buf, n, "%llum%llu%ss", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60), frac);
	else
		snprintf(buf, n, "%llu%ss", (unsigned long long)s, frac);
}

int
sp_cmd_validate(int argc, char **argv)
{
	struct sp_scenario_err e = { { 0 } };
	struct sp_plan pl;
	char dur[48], load[96];
	const char *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(sp_validate_help, stdout);
			return SP_VALIDATE_OK;
		}
		if (argv[i][0] == '-' || file != NULL) {
			fprintf(stderr, "stampede validate: unexpected '%s' "
				"(see stampede validate --help)\n", argv[i]);
			return SP_VALIDATE_USAGE;
		}
		file = argv[i];
	}
	if (file == NULL) {
		fputs(sp_validate_help, stderr);
		return SP_VALIDATE_USAGE;
	}
	sp_scenario_init(&pl);
	if (sp_scenario_load(&pl, file, &e) < 0 ||
	    sp_scenario_finish(&pl, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		sp_scenario_free(&pl);
		return SP_VALIDATE_USAGE;
	}
	sp_fmt_dur(pl.duration_us, dur, sizeof(dur));
	if (pl.model == SP_MODEL_CLOSED && pl.nstages == 0)
		snprintf(load, sizeof(load), "closed model, %u VU%s", pl.vus,
			 pl.vus == 1 ? "" : "s");
	else if (pl.model == SP_MODEL_CLOSED)
		snprintf(load, sizeof(load), "closed model, %u stage%s up to %u "
			 "VUs", pl.nstages, pl.nstages == 1 ? "" : "s", pl.max_vus);
	else if (pl.nstages == 0)
		snprintf(load, sizeof(load), "open model, %g iterations/s, at "
			 "most %u VUs", pl.rate, pl.max_vus);
	else
		snprintf(load, sizeof(load), "open model, %u stage%s, at most %u "
			 "VUs", pl.nstages, pl.nstages == 1 ? "" : "s", pl.max_vus);
	printf("%s: ok: %u scenario%s, %u request%s, %s, %s\n", file,
	       pl.nscenarios, pl.nscenarios == 1 ? "" : "s", pl.nrequests,
	       pl.nrequests == 1 ? "" : "s", load, dur);
	/* A name is only looked up in the file's own resolve: map:
	 * validate touches no network, DNS included. */
	if (pl.target_name != NULL) {
		const struct sp_resolve *r = sp_lookup(&pl, pl.target_name,
						       pl.dst_port);

		if (r != NULL)
			printf("%s: target %s is %u.%u.%u.%u (resolve:)\n", file,
			       pl.target_name, r->ip >> 24, (r->ip >> 16) & 0xff,
			       (r->ip >> 8) & 0xff, r->ip & 0xff);
		else
			printf("%s: target %s: resolved when the run starts "
			       "(validate does no DNS lookup)\n", file,
			       pl.target_name);
	}
	sp_scenario_free(&pl);
	return SP_VALIDATE_OK;
}
