/*
 * sp-appsrv: the test bed's stateful HTTP/1.1 application, shaped like the
 * apps behind the seeds (registration, a Django-style login with a CSRF
 * cookie then a session cookie, a token login answering JSON, objects
 * created, read and deleted by id), with a log exact enough that a test
 * can compare stampede's counts and captured ids with it line for line.
 * State lives in memory for the process's life.
 *
 * HTTP/1.1, keep-alive (every answer below keeps the connection open but
 * those to a malformed request: 400 unparsable head, 413, 431, 501 close
 * it). Bodies are JSON (application/json) unless said. Where a request
 * carries fields (user, password, title, csrfmiddlewaretoken) they come
 * from a JSON object ({"user":"U",...}, strings without escapes) when its
 * Content-Type is application/json, else from an urlencoded form.
 * NAME: 1-64 of [A-Za-z0-9._-]; a password: 0-128 bytes.
 *
 *   POST   /register        user, password: 201 {"user":NAME}, registered;
 *                           201 again for the same password, 409 for
 *                           another; 400 without a good name
 *   GET    /users/count     200 {"count":N}: registered users
 *   DELETE /users/NAME      needs X-Admin-Key: bed-admin (--admin-key), else
 *                           403; 204, and the user's sessions, tokens and
 *                           items are gone; 404 if no such user
 *   GET    /login           200, an HTML form; Set-Cookie: csrftoken=T;
 *                           Path=/ (T: 32 hex digits, new each time), and
 *                           the form holds <input type="hidden"
 *                           name="csrfmiddlewaretoken" value="T">
 *   POST   /login           user, password, csrfmiddlewaretoken: the
 *                           csrftoken cookie must equal the field (or the
 *                           X-CSRFToken header), else 403; a bad user or
 *                           password 401; else 302 Location: /home with
 *                           Set-Cookie: sessionid=S; Path=/; HttpOnly and a
 *                           new csrftoken (S: 32 hex digits)
 *   GET    /home            with a live session cookie: 200 {"user":NAME};
 *                           without: 302 Location: /login
 *   POST   /logout          204, the session (if any) is gone;
 *                           Set-Cookie: sessionid=; Max-Age=0; Path=/
 *   POST   /api/token       user, password: 200
 *                           {"data":{"token":"TOK","user":NAME}} (TOK: 32
 *                           hex digits, valid --token-ttl seconds); bad:
 *                           401 {"error":"bad credentials"}
 *   GET    /api/health      200 {"status":"ok"}, no credentials needed
 *   /api/items...           need Authorization: Bearer TOK or a session
 *                           cookie: without either, or with a session we do
 *                           not know, 401; with a token we do not know or
 *                           that expired, 403 (a token wins over a cookie)
 *   POST   /api/items       title (optional, at most 128 bytes): 201
 *                           {"id":N,"title":"T","user":NAME}, Location:
 *                           /api/items/N (N: 1, 2, ... per process)
 *   GET    /api/items       200 {"items":[{"id":N,"title":"T"},...]}: the
 *                           user's last 20, newest first
 *   GET    /api/items/N     200 {"id":N,"title":"T","user":NAME}; 404 if
 *                           there is none, 403 if it is another user's
 *   DELETE /api/items/N     204; 404 if there is none, 403 if another's
 *   GET    /secure-cookie   200; Set-Cookie: sec=1; Secure; Path=/ (a jar
 *                           must not send it back over plain http)
 *   GET    /cookie-path     200; Set-Cookie: scoped=1; Path=/api and
 *                           Set-Cookie: brief=1; Max-Age=1; Path=/
 *   GET    /cookies, /api/cookies
 *                           200 {"cookie":"..."}: the Cookie header as
 *                           received ("" without one), to see what a jar
 *                           sent where
 *   Any other path 404, another method on a known path 405.
 *   ?delay_ms=N on any request (0-10000): the answer waits N ms (a timer;
 *   the request's effect happens when it is answered, and the requests
 *   pipelined behind it wait their turn); malformed or over 10000: 400.
 *
 * The log (--log FILE): one line per answered request, written with one
 * write(2) to an O_APPEND descriptor when the answer is queued (so each
 * line is whole, and on disk by the time the client can have read the
 * answer):
 *   WALL ID METHOD PATH STATUS USER CRED OUTCOME
 *   WALL     wall clock, seconds since the epoch with milliseconds
 *            (1712345678.123)
 *   ID       the connection's number (1, 2, ... per process)
 *   METHOD   as sent ("-" for a head we could not parse)
 *   PATH     without the query, non-printable bytes as '?', cut to 127
 *            bytes ("-" for a head we could not parse)
 *   STATUS   the status sent
 *   USER     who the request was for: the user logged in, registered,
 *            deleted, authenticated or whose token was issued; "-" for
 *            none
 *   CRED     what it carried: "t:" and the first 8 characters of a bearer
 *            token, else "s:" and the first 8 of a sessionid cookie; a new
 *            session's or token's own prefix for a successful POST /login
 *            or /api/token; "-" for none
 *   OUTCOME  ok (2xx, 3xx but the one below), unauth (401, and /home's
 *            302 to /login), forbidden (403), notfound (404), conflict
 *            (409), bad (400, 405, 411, 413, 431, 501), error (500)
 * Fields never hold spaces. Wait for a line with a bounded poll, then
 * count with awk (tests/integration/lib.sh: appsrv_count).
 *
 * One epoll loop, level-triggered, non-blocking sockets, no threads; the
 * loop's parts and HTTP's are tools/srvutil.c's, shared with sp-wssrv.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "srvutil.h"

/* A request head and its body must fit here. */
#define APP_IN_SIZE (32 * 1024)
#define APP_BODY_MAX (16 * 1024)
#define APP_MAX_EVENTS 256
/* Bytes read from one connection per wake-up (level-triggered epoll
 * brings it back), so that one flood cannot starve the others. */
#define APP_READ_BUDGET (256 * 1024)
/* Output a client may leave unread before it is dropped. */
#define APP_OUT_MAX (4ul * 1024 * 1024)
#define APP_PATH_MAX 128
#define APP_NAME_MAX 64
#define APP_PASS_MAX 128
#define APP_TITLE_MAX 128
#define APP_KEY_LEN 32 /* hex digits of a session, token or CSRF token */
#define APP_LIST_MAX 20
#define APP_DELAY_MAX 10000ul
#define APP_BUCKETS 4096

enum app_kind {
	APP_SIGNAL,
	APP_LISTEN,
	APP_CONN,
};

struct app_item;

struct app_user {
	struct app_user *next;  /* hash chain */
	struct app_item *items; /* the user's, newest first */
	char name[APP_NAME_MAX + 1];
	char pass[APP_PASS_MAX + 1];
};

struct app_item {
	struct app_item *next;          /* hash chain by id */
	struct app_item *uprev, *unext; /* the owner's list */
	struct app_user *owner;
	unsigned long id;
	char title[APP_TITLE_MAX + 1];
};

enum app_cred_kind {
	CRED_SESSION,
	CRED_TOKEN,
};

/* A session or a token: a random key that stands for a user. */
struct app_cred {
	struct app_cred *next;
	struct app_user *user;
	enum app_cred_kind kind;
	uint64_t expires_us; /* tokens; 0: never */
	char key[APP_KEY_LEN + 1];
};

struct app_conn {
	struct srv_obj obj; /* first: the epoll data pointer */
	struct srv_link link;
	unsigned long id;
	uint32_t events;
	int peer_eof;
	int closing;         /* close once the output is out */
	int delayed;         /* the request at in_start has waited its delay */
	struct srv_timer tm; /* armed: a delayed request waits */
	struct srv_out out;
	size_t in_start, in_len; /* unparsed input is [in_start, in_len) */
	char in[APP_IN_SIZE];
};

struct app {
	struct srv_base b;
	struct srv_obj sig;
	struct srv_obj lst[SRV_MAX_LISTEN];
	struct srv_link *conns;
	unsigned long next_id, next_item, nusers;
	struct srv_heap heap;
	uint64_t token_ttl_us;
	const char *admin_key;
	struct app_user *users[APP_BUCKETS];
	struct app_item *items[APP_BUCKETS];
	struct app_cred *creds[APP_BUCKETS];
};

/* One request being answered: its head, its body, and what the answer
 * and the log line gather on the way. */
struct app_rq {
	struct srv_req h;
	const char *body;
	size_t blen;
	int keep;
	char user[APP_NAME_MAX + 1]; /* for the log; "" for none */
	char cred[16];               /* for the log; "" for none */
	char extra[640];             /* header lines of the answer */
	size_t extra_len;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: %s --listen ADDR:PORT [--listen ...] [--log FILE]\n"
		"          [--pidfile FILE] [--backlog N] [--token-ttl SEC]\n"
		"          [--admin-key KEY]\n"
		"  --listen ADDR:PORT  listen there (IPv6 as [ADDR]:PORT); repeatable\n"
		"  --log FILE          append one line per request (format: the top\n"
		"                      of tools/sp-appsrv.c)\n"
		"  --pidfile FILE      write the pid here once listening; removed on exit\n"
		"  --backlog N         listen backlog (default 4096)\n"
		"  --token-ttl SEC     how long an /api/token token lives (default 3600)\n"
		"  --admin-key KEY     X-Admin-Key that DELETE /users/NAME needs\n"
		"                      (default bed-admin)\n",
		srv_prog);
}

static unsigned
hash_str(const char *p)
{
	unsigned h = 2166136261u;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % APP_BUCKETS;
}

/* APP_KEY_LEN random hex digits. */
static void
new_key(char out[APP_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[APP_KEY_LEN / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* Not for security: uniqueness is what the tests need. */
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)rand();
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[APP_KEY_LEN] = '\0';
}

/* ---- users, items, sessions and tokens ---- */

static struct app_user *
user_find(struct app *a, const char *name)
{
	struct app_user *u;

	for (u = a->users[hash_str(name)]; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static struct app_item *
item_find(struct app *a, unsigned long id)
{
	struct app_item *it;

	for (it = a->items[id % APP_BUCKETS]; it != NULL; it = it->next)
		if (it->id == id)
			return it;
	return NULL;
}

static void
item_free(struct app *a, struct app_item *it)
{
	struct app_item **pp = &a->items[it->id % APP_BUCKETS];

	while (*pp != it)
		pp = &(*pp)->next;
	*pp = it->next;
	if (it->uprev != NULL)
		it->uprev->unext = it->unext;
	else
		it->owner->items = it->unext;
	if (it->unext != NULL)
		it->unext->uprev = it->uprev;
	free(it);
}

static struct app_cred *
cred_find(struct app *a, enum app_cred_kind kind, const char *key, size_t n)
{
	char k[APP_KEY_LEN + 1];
	struct app_cred *cr;

	if (n != APP_KEY_LEN)
		return NULL;
	memcpy(k, key, n);
	k[n] = '\0';
	for (cr = a->creds[hash_str(k)]; cr != NULL; cr = cr->next)
		if (cr->kind == kind && strcmp(cr->key, k) == 0)
			return cr;
	return NULL;
}

static struct app_cred *
cred_new(struct app *a, enum app_cred_kind kind, struct app_user *u)
{
	struct app_cred *cr = calloc(1, sizeof(*cr));
	unsigned h;

	if (cr == NULL)
		return NULL;
	cr->kind = kind;
	cr->user = u;
	if (kind == CRED_TOKEN)
		cr->expires_us = srv_now_us() + a->token_ttl_us;
	new_key(cr->key);
	h = hash_str(cr->key);
	cr->next = a->creds[h];
	a->creds[h] = cr;
	return cr;
}

/* Every session and token of @u (NULL: all of them). */
static void
creds_drop(struct app *a, const struct app_user *u)
{
	for (unsigned i = 0; i < APP_BUCKETS; i++) {
		struct app_cred **pp = &a->creds[i];

		while (*pp != NULL) {
			struct app_cred *cr = *pp;

			if (u == NULL || cr->user == u) {
				*pp = cr->next;
				free(cr);
			} else {
				pp = &cr->next;
			}
		}
	}
}

static void
user_free(struct app *a, struct app_user *u)
{
	struct app_user **pp = &a->users[hash_str(u->name)];

	while (u->items != NULL)
		item_free(a, u->items);
	creds_drop(a, u);
	while (*pp != u)
		pp = &(*pp)->next;
	*pp = u->next;
	free(u);
	a->nusers--;
}

/* ---- answering ---- */

static void rq_header(struct app_rq *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A header line for the answer (CRLF added). */
static void
rq_header(struct app_rq *rq, const char *fmt, ...)
{
	size_t cap = sizeof(rq->extra) - rq->extra_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rq->extra + rq->extra_len, cap, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n + 3 <= cap) {
		rq->extra_len += (size_t)n;
		memcpy(rq->extra + rq->extra_len, "\r\n", 3);
		rq->extra_len += 2;
	} else {
		rq->extra[rq->extra_len] = '\0';
	}
}

static void
rq_cred(struct app_rq *rq, char kind, const char *key, size_t n)
{
	size_t i;

	rq->cred[0] = kind;
	rq->cred[1] = ':';
	for (i = 0; i < n && i < 8; i++) {
		unsigned char ch = (unsigned char)key[i];

		rq->cred[2 + i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	rq->cred[2 + i] = '\0';
}

static const char *
outcome_of(int status)
{
	switch (status) {
	case 401:
		return "unauth";
	case 403:
		return "forbidden";
	case 404:
		return "notfound";
	case 409:
		return "conflict";
	default:
		if (status >= 500 && status != 501)
			return "error";
		return status >= 400 ? "bad" : "ok";
	}
}

/* The log's token for [p, p + n): printable, no spaces, "-" if empty. */
static void
log_word(char *out, size_t cap, const char *p, size_t n)
{
	size_t i;

	if (n == 0 || p == NULL) {
		snprintf(out, cap, "-");
		return;
	}
	for (i = 0; i < n && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)p[i];

		out[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
}

/* The answer and its log line. @outcome NULL: the status's. */
static void
reply(struct app *a, struct app_conn *c, struct app_rq *rq, int status,
      const char *outcome, const char *ctype, const char *body)
{
	char method[24], path[APP_PATH_MAX];
	struct timespec ts;

	srv_answer(&c->out, "sp-appsrv", status, rq->extra, ctype, body,
		   strlen(body), !rq->keep);
	if (!rq->keep)
		c->closing = 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	log_word(method, sizeof(method), rq->h.method, rq->h.method_len);
	log_word(path, sizeof(path), rq->h.target, rq->h.path_len);
	srv_log(&a->b, "%lld.%03ld %lu %s %s %d %s %s %s", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, c->id, method, path, status,
		rq->user[0] != '\0' ? rq->user : "-",
		rq->cred[0] != '\0' ? rq->cred : "-",
		outcome != NULL ? outcome : outcome_of(status));
}

static void
reply_json(struct app *a, struct app_conn *c, struct app_rq *rq, int status,
	   const char *body)
{
	reply(a, c, rq, status, NULL, "application/json", body);
}

static void
reply_error(struct app *a, struct app_conn *c, struct app_rq *rq, int status,
	    const char *what)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", what);
	reply_json(a, c, rq, status, body);
}

/* ---- reading what a request carries ---- */

static int
is_json(const struct app_rq *rq)
{
	size_t n;
	const char *ct = srv_header(&rq->h, "content-type", &n);

	return ct != NULL && n >= 16 &&
	       strncasecmp(ct, "application/json", 16) == 0;
}

/* The field @key of the body (JSON or form) into @out: its length, or -1
 * if absent (or, in JSON, not a plain string). */
static int
field(const struct app_rq *rq, const char *key, char *out, size_t cap)
{
	const char *v;
	size_t n;

	if (!is_json(rq))
		return srv_query_get(rq->body, rq->blen, key, out, cap);
	if (srv_json_str(rq->body, rq->blen, key, &v, &n) != 0)
		return -1;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return (int)n;
}

/* user and password fields: the user they name if the password is right
 * (rq->user set to the name given either way, if it is a good name). */
static struct app_user *
credentials(struct app *a, struct app_rq *rq)
{
	char user[APP_NAME_MAX + 2], pass[APP_PASS_MAX + 2];
	int ul = field(rq, "user", user, sizeof(user));
	int pl = field(rq, "password", pass, sizeof(pass));
	struct app_user *u;

	if (ul < 0 || !srv_name_ok(user, (size_t)ul, APP_NAME_MAX) || pl < 0)
		return NULL;
	memcpy(rq->user, user, (size_t)ul + 1);
	u = user_find(a, user);
	if (u == NULL || strcmp(u->pass, pass) != 0)
		return NULL;
	return u;
}

/* The live session the sessionid cookie names (CRED set from the
 * cookie), or NULL. */
static struct app_cred *
session_of(struct app *a, struct app_rq *rq)
{
	size_t n;
	const char *sid = srv_cookie(&rq->h, "sessionid", &n);
	struct app_cred *cr;

	if (sid == NULL || n == 0)
		return NULL;
	rq_cred(rq, 's', sid, n);
	cr = cred_find(a, CRED_SESSION, sid, n);
	if (cr != NULL)
		snprintf(rq->user, sizeof(rq->user), "%s", cr->user->name);
	return cr;
}

/* Who an /api/items request is for: 0 with *u set, 401 or 403. */
static int
authenticate(struct app *a, struct app_rq *rq, struct app_user **u)
{
	size_t n;
	const char *v = srv_header(&rq->h, "authorization", &n);
	struct app_cred *cr;

	if (v != NULL && n > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		n -= 7;
		while (n > 0 && *v == ' ')
			v++, n--;
		rq_cred(rq, 't', v, n);
		cr = cred_find(a, CRED_TOKEN, v, n);
		if (cr == NULL || cr->expires_us <= srv_now_us())
			return 403;
	} else {
		cr = session_of(a, rq);
		if (cr == NULL)
			return 401;
	}
	*u = cr->user;
	snprintf(rq->user, sizeof(rq->user), "%s", cr->user->name);
	return 0;
}

/* ---- the endpoints ---- */

static void
ep_register(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char user[APP_NAME_MAX + 2], pass[APP_PASS_MAX + 2], body[128];
	int ul = field(rq, "user", user, sizeof(user));
	int pl = field(rq, "password", pass, sizeof(pass));
	struct app_user *u;
	unsigned h;

	if (ul < 0 || !srv_name_ok(user, (size_t)ul, APP_NAME_MAX) || pl < 0 ||
	    pl > APP_PASS_MAX) {
		reply_error(a, c, rq, 400, "bad registration");
		return;
	}
	memcpy(rq->user, user, (size_t)ul + 1);
	u = user_find(a, user);
	if (u != NULL && strcmp(u->pass, pass) != 0) {
		reply_error(a, c, rq, 409, "taken");
		return;
	}
	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL) {
			reply_error(a, c, rq, 500, "no memory");
			return;
		}
		memcpy(u->name, user, (size_t)ul + 1);
		memcpy(u->pass, pass, (size_t)pl + 1);
		h = hash_str(user);
		u->next = a->users[h];
		a->users[h] = u;
		a->nusers++;
	}
	snprintf(body, sizeof(body), "{\"user\":\"%s\"}", user);
	reply_json(a, c, rq, 201, body);
}

static void
ep_users_count(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"count\":%lu}", a->nusers);
	reply_json(a, c, rq, 200, body);
}

static void
ep_user_delete(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	const char *name = rq->h.target + 7; /* after "/users/" */
	size_t nl = rq->h.path_len - 7, kl;
	const char *key = srv_header(&rq->h, "x-admin-key", &kl);
	char user[APP_NAME_MAX + 1];
	struct app_user *u;

	if (key == NULL || kl != strlen(a->admin_key) ||
	    memcmp(key, a->admin_key, kl) != 0) {
		reply_error(a, c, rq, 403, "admin only");
		return;
	}
	if (!srv_name_ok(name, nl, APP_NAME_MAX)) {
		reply_error(a, c, rq, 404, "no such user");
		return;
	}
	memcpy(user, name, nl);
	user[nl] = '\0';
	u = user_find(a, user);
	if (u == NULL) {
		reply_error(a, c, rq, 404, "no such user");
		return;
	}
	memcpy(rq->user, user, nl + 1);
	user_free(a, u);
	reply(a, c, rq, 204, NULL, NULL, "");
}

static void
ep_login_form(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char tok[APP_KEY_LEN + 1], body[512];

	new_key(tok);
	rq_header(rq, "Set-Cookie: csrftoken=%s; Path=/", tok);
	snprintf(body, sizeof(body),
		 "<!doctype html>\n<html><head><title>Log in</title></head>"
		 "<body><form method=\"post\" action=\"/login\">\n"
		 "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" "
		 "value=\"%s\">\n"
		 "<input name=\"user\"> <input name=\"password\" "
		 "type=\"password\">\n"
		 "<button type=\"submit\">Log in</button></form></body>"
		 "</html>\n",
		 tok);
	reply(a, c, rq, 200, NULL, "text/html; charset=utf-8", body);
}

static void
ep_login(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char form_tok[APP_KEY_LEN + 2], tok[APP_KEY_LEN + 1];
	size_t cn, hn;
	const char *ck = srv_cookie(&rq->h, "csrftoken", &cn);
	const char *hk = srv_header(&rq->h, "x-csrftoken", &hn);
	int fl = field(rq, "csrfmiddlewaretoken", form_tok, sizeof(form_tok));
	struct app_user *u;
	struct app_cred *cr;

	/* Double submit, as Django's middleware: the cookie's token again
	 * in the form or in the header. */
	if (ck == NULL || cn == 0 ||
	    !((fl >= 0 && (size_t)fl == cn && memcmp(form_tok, ck, cn) == 0) ||
	      (hk != NULL && hn == cn && memcmp(hk, ck, cn) == 0))) {
		reply_error(a, c, rq, 403, "CSRF verification failed");
		return;
	}
	u = credentials(a, rq);
	if (u == NULL) {
		reply_error(a, c, rq, 401, "bad credentials");
		return;
	}
	cr = cred_new(a, CRED_SESSION, u);
	if (cr == NULL) {
		reply_error(a, c, rq, 500, "no memory");
		return;
	}
	rq_cred(rq, 's', cr->key, APP_KEY_LEN);
	new_key(tok);
	rq_header(rq, "Location: /home");
	rq_header(rq, "Set-Cookie: sessionid=%s; Path=/; HttpOnly", cr->key);
	rq_header(rq, "Set-Cookie: csrftoken=%s; Path=/", tok);
	reply(a, c, rq, 302, NULL, NULL, "");
}

static void
ep_home(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	struct app_cred *cr = session_of(a, rq);
	char body[128];

	if (cr == NULL) {
		rq_header(rq, "Location: /login");
		reply(a, c, rq, 302, "unauth", NULL, "");
		return;
	}
	snprintf(body, sizeof(body), "{\"user\":\"%s\"}", cr->user->name);
	reply_json(a, c, rq, 200, body);
}

static void
ep_logout(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	struct app_cred *cr = session_of(a, rq);

	if (cr != NULL) {
		struct app_cred **pp = &a->creds[hash_str(cr->key)];

		while (*pp != cr)
			pp = &(*pp)->next;
		*pp = cr->next;
		free(cr);
	}
	rq_header(rq, "Set-Cookie: sessionid=; Max-Age=0; Path=/");
	reply(a, c, rq, 204, NULL, NULL, "");
}

static void
ep_token(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	struct app_user *u = credentials(a, rq);
	struct app_cred *cr;
	char body[192];

	if (u == NULL) {
		reply_error(a, c, rq, 401, "bad credentials");
		return;
	}
	cr = cred_new(a, CRED_TOKEN, u);
	if (cr == NULL) {
		reply_error(a, c, rq, 500, "no memory");
		return;
	}
	rq_cred(rq, 't', cr->key, APP_KEY_LEN);
	snprintf(body, sizeof(body),
		 "{\"data\":{\"token\":\"%s\",\"user\":\"%s\"}}", cr->key,
		 u->name);
	reply_json(a, c, rq, 200, body);
}

static void
ep_health(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	reply_json(a, c, rq, 200, "{\"status\":\"ok\"}");
}

/* {"id":N,"title":"T"[,"user":"U"]} into @out. */
static int
item_json(char *out, size_t cap, const struct app_item *it, int with_user)
{
	char t[APP_TITLE_MAX * 6 + 1];
	size_t tl = srv_json_escape(t, sizeof(t), it->title, strlen(it->title));

	return snprintf(out, cap, "{\"id\":%lu,\"title\":\"%.*s\"%s%s%s}",
			it->id, (int)tl, t, with_user ? ",\"user\":\"" : "",
			with_user ? it->owner->name : "",
			with_user ? "\"" : "");
}

static void
ep_items(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	static char body[APP_LIST_MAX * (APP_TITLE_MAX * 6 + 64) + 32];
	struct app_user *u;
	struct app_item *it;
	size_t o;
	int st = authenticate(a, rq, &u), k;

	if (st != 0) {
		reply_error(a, c, rq, st,
			    st == 401 ? "login required" : "bad token");
		return;
	}
	if (srv_method_is(&rq->h, "GET")) {
		o = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
		for (it = u->items, k = 0; it != NULL && k < APP_LIST_MAX;
		     it = it->unext, k++) {
			if (k > 0)
				body[o++] = ',';
			o += (size_t)item_json(body + o, sizeof(body) - o, it,
					       0);
		}
		snprintf(body + o, sizeof(body) - o, "]}");
		reply_json(a, c, rq, 200, body);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		reply_error(a, c, rq, 500, "no memory");
		return;
	}
	if (field(rq, "title", it->title, sizeof(it->title)) < 0)
		it->title[0] = '\0';
	it->id = ++a->next_item;
	it->owner = u;
	it->next = a->items[it->id % APP_BUCKETS];
	a->items[it->id % APP_BUCKETS] = it;
	it->unext = u->items;
	if (u->items != NULL)
		u->items->uprev = it;
	u->items = it;
	item_json(body, sizeof(body), it, 1);
	rq_header(rq, "Location: /api/items/%lu", it->id);
	reply_json(a, c, rq, 201, body);
}

static void
ep_item(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char num[24], body[APP_TITLE_MAX * 6 + 160];
	size_t nl = rq->h.path_len - 11; /* after "/api/items/" */
	struct app_user *u;
	struct app_item *it = NULL;
	unsigned long id;
	int st = authenticate(a, rq, &u);

	if (st != 0) {
		reply_error(a, c, rq, st,
			    st == 401 ? "login required" : "bad token");
		return;
	}
	if (nl > 0 && nl < sizeof(num)) {
		memcpy(num, rq->h.target + 11, nl);
		num[nl] = '\0';
		if (parse_ulong(num, ~0ul, &id) == 0)
			it = item_find(a, id);
	}
	if (it == NULL) {
		reply_error(a, c, rq, 404, "no such item");
		return;
	}
	if (it->owner != u) {
		reply_error(a, c, rq, 403, "not yours");
		return;
	}
	if (srv_method_is(&rq->h, "DELETE")) {
		item_free(a, it);
		reply(a, c, rq, 204, NULL, NULL, "");
		return;
	}
	item_json(body, sizeof(body), it, 1);
	reply_json(a, c, rq, 200, body);
}

static void
ep_secure_cookie(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	rq_header(rq, "Set-Cookie: sec=1; Secure; Path=/");
	reply_json(a, c, rq, 200, "{\"cookie\":\"sec\"}");
}

static void
ep_cookie_path(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	rq_header(rq, "Set-Cookie: scoped=1; Path=/api");
	rq_header(rq, "Set-Cookie: brief=1; Max-Age=1; Path=/");
	reply_json(a, c, rq, 200, "{\"cookies\":[\"scoped\",\"brief\"]}");
}

static void
ep_cookies(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	char v[2048], body[2100];
	size_t n = 0, vl = 0;
	const char *ck = srv_header(&rq->h, "cookie", &n);

	if (ck != NULL)
		vl = srv_json_escape(v, sizeof(v), ck, n);
	snprintf(body, sizeof(body), "{\"cookie\":\"%.*s\"}", (int)vl, v);
	reply_json(a, c, rq, 200, body);
}

// clang-format off
static const struct app_route {
	const char *method;
	const char *path;
	int prefix; /* the path is a prefix; something must follow */
	void (*fn)(struct app *, struct app_conn *, struct app_rq *);
} app_routes[] = {
	{ "POST", "/register", 0, ep_register },
	{ "GET", "/users/count", 0, ep_users_count },
	{ "DELETE", "/users/", 1, ep_user_delete },
	{ "GET", "/login", 0, ep_login_form },
	{ "POST", "/login", 0, ep_login },
	{ "GET", "/home", 0, ep_home },
	{ "POST", "/logout", 0, ep_logout },
	{ "POST", "/api/token", 0, ep_token },
	{ "GET", "/api/health", 0, ep_health },
	{ "GET", "/api/items", 0, ep_items },
	{ "POST", "/api/items", 0, ep_items },
	{ "GET", "/api/items/", 1, ep_item },
	{ "DELETE", "/api/items/", 1, ep_item },
	{ "GET", "/secure-cookie", 0, ep_secure_cookie },
	{ "GET", "/cookie-path", 0, ep_cookie_path },
	{ "GET", "/cookies", 0, ep_cookies },
	{ "GET", "/api/cookies", 0, ep_cookies },
};
// clang-format on

static void
route(struct app *a, struct app_conn *c, struct app_rq *rq)
{
	int known = 0;

	for (size_t i = 0; i < sizeof(app_routes) / sizeof(app_routes[0]);
	     i++) {
		const struct app_route *r = &app_routes[i];
		size_t pl = strlen(r->path);

		if (r->prefix ?
			    rq->h.path_len <= pl ||
				    memcmp(rq->h.target, r->path, pl) != 0 ||
				    /* /users/count is not a user */
				    srv_path_is(&rq->h, "/users/count") :
			    !srv_path_is(&rq->h, r->path))
			continue;
		known = 1;
		if (srv_method_is(&rq->h, r->method)) {
			r->fn(a, c, rq);
			return;
		}
	}
	if (known)
		reply_error(a, c, rq, 405, "method not allowed");
	else
		reply_error(a, c, rq, 404, "no such path");
}

/* ---- connections ---- */

static void
conn_end(struct app *a, struct app_conn *c)
{
	srv_timer_stop(&a->heap, &c->tm);
	close(c->obj.fd);
	srv_link_del(&a->conns, &c->link);
	srv_out_free(&c->out);
	free(c);
}

/* A request we cannot read on from: answer and close. */
static void
refuse(struct app *a, struct app_conn *c, struct app_rq *rq, int status)
{
	rq->keep = 0;
	reply_error(a, c, rq, status, "refused");
}

/* Take the next request if a whole one is in (and its delay, if any, has
 * passed). Returns 1 if it took one. */
static int
http_next(struct app *a, struct app_conn *c)
{
	struct app_rq rq;
	size_t hlen;
	unsigned long delay;
	int st;

	memset(&rq, 0, offsetof(struct app_rq, extra) + 1);
	rq.extra_len = 0;
	hlen = srv_head_len(c->in, &c->in_start, c->in_len);
	if (hlen == 0) {
		if (c->in_len - c->in_start >= APP_IN_SIZE) {
			memset(&rq.h, 0, sizeof(rq.h));
			refuse(a, c, &rq, 431);
			return 1;
		}
		return 0;
	}
	st = srv_parse_head(&rq.h, c->in + c->in_start, hlen);
	if (st == 0 && rq.h.have_te)
		st = 501;
	else if (st == 0 && rq.h.cl > APP_BODY_MAX)
		st = 413;
	if (st != 0) {
		if (st == 400)
			memset(&rq.h, 0, offsetof(struct srv_req, hdr));
		c->in_start += hlen;
		refuse(a, c, &rq, st);
		return 1;
	}
	if (c->in_len - c->in_start < hlen + rq.h.cl)
		return 0; /* the body is not all in yet */
	rq.keep = rq.h.http11 && !rq.h.conn_close;
	if (srv_query_num(rq.h.query, rq.h.query_len, "delay_ms", 0,
			  APP_DELAY_MAX, &delay) != 0) {
		c->in_start += hlen + rq.h.cl;
		reply_error(a, c, &rq, 400, "bad delay_ms");
		return 1;
	}
	if (delay > 0 && !c->delayed) {
		/* Answered when the timer fires; nothing behind it is
		 * read until then. */
		if (srv_timer_set(&a->heap, &c->tm,
				  srv_now_us() + delay * 1000) != 0) {
			c->in_start += hlen + rq.h.cl;
			reply_error(a, c, &rq, 500, "no memory");
			return 1;
		}
		return 0;
	}
	c->delayed = 0;
	rq.body = c->in + c->in_start + hlen;
	rq.blen = rq.h.cl;
	c->in_start += hlen + rq.h.cl;
	route(a, c, &rq);
	return 1;
}

static void
conn_service(struct app *a, struct app_conn *c)
{
	size_t budget = APP_READ_BUDGET;
	uint32_t want = 0;

	for (;;) {
		ssize_t n = 0;

		if (!c->peer_eof && !c->closing) {
			n = srv_in_read(c->obj.fd, c->in, APP_IN_SIZE,
					&c->in_start, &c->in_len);
			if (n == 0) {
				c->peer_eof = 1;
			} else if (n < 0 && errno != EAGAIN &&
				   errno != EWOULDBLOCK && errno != EINTR) {
				conn_end(a, c);
				return;
			}
		}
		while (!c->closing && !c->tm.armed && http_next(a, c))
			;
		if (n <= 0 || budget <= (size_t)n)
			break;
		budget -= (size_t)n;
	}
	if (srv_out_pending(&c->out) >= APP_OUT_MAX ||
	    srv_out_send(&c->out, c->obj.fd) != 0) {
		conn_end(a, c);
		return;
	}
	if (srv_out_pending(&c->out) == 0 &&
	    (c->closing || (c->peer_eof && !c->tm.armed))) {
		conn_end(a, c);
		return;
	}
	if (!c->peer_eof && !c->closing &&
	    c->in_len - c->in_start < APP_IN_SIZE)
		want |= EPOLLIN;
	if (srv_out_pending(&c->out) > 0)
		want |= EPOLLOUT;
	if (want != c->events) {
		c->events = want;
		if (srv_epoll(&a->b, EPOLL_CTL_MOD, c->obj.fd, &c->obj, want) !=
		    0) {
			logerr("epoll_ctl: %s", strerror(errno));
			conn_end(a, c);
		}
	}
}

static void
accept_all(struct app *a, struct srv_obj *l)
{
	struct app_conn *c;
	int fd;

	while ((fd = srv_accept(&a->b, l->fd, NULL, 0, 1)) >= 0) {
		c = srv_conn_new(&a->b, fd, sizeof(*c),
				 offsetof(struct app_conn, in), APP_CONN);
		if (c == NULL)
			continue;
		c->id = ++a->next_id;
		c->events = EPOLLIN;
		srv_link_add(&a->conns, &c->link);
	}
}

static int
run(struct app *a)
{
	struct epoll_event evs[APP_MAX_EVENTS];
	struct srv_timer *t;

	for (;;) {
		int n = srv_wait(&a->b, &a->heap, evs, APP_MAX_EVENTS);

		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			struct srv_obj *o = evs[i].data.ptr;

			if (o->kind == APP_SIGNAL && srv_signalled(&a->b))
				return 0;
			if (o->kind == APP_LISTEN)
				accept_all(a, o);
			if (o->kind == APP_CONN)
				conn_service(a, (struct app_conn *)o);
			/* Only a connection's own event (or its timer)
			 * ends it: no later event of the batch points at a
			 * freed one. */
		}
		while ((t = srv_timer_due(&a->heap, srv_now_us())) != NULL) {
			struct app_conn *c = srv_container_of(
				t, struct app_conn, tm);

			c->delayed = 1;
			conn_service(a, c);
		}
	}
}

/* --token-ttl, --admin-key. */
static int
app_opt(int opt, const char *arg, void *ctx)
{
	struct app *a = ctx;
	unsigned long v;

	if (opt == 't') {
		if (parse_ulong(arg, 86400ul * 365, &v) != 0 || v == 0) {
			logerr("bad --token-ttl: %s", arg);
			return -1;
		}
		a->token_ttl_us = (uint64_t)v * 1000000;
		return 0;
	}
	if (opt == 'k' && arg[0] != '\0') {
		a->admin_key = arg;
		return 0;
	}
	logerr("bad option");
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token-ttl", required_argument, NULL, 't' },
		{ "admin-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	static struct app a = {
		.sig = { .kind = APP_SIGNAL, .fd = -1 },
		.token_ttl_us = 3600ull * 1000000,
		.admin_key = "bed-admin",
	};
	struct srv_opts o;
	int rc, started;

	srv_prog = "sp-appsrv";
	rc = srv_getopt(argc, argv, opts, app_opt, &a, usage, &o);
	if (rc >= 0)
		return rc;
	srand((unsigned)srv_now_us());
	raise_nofile(20000);
	started = srv_start(&a.b, &a.sig, a.lst, APP_LISTEN, &o);
	rc = started == 0 && run(&a) == 0 ? 0 : 1;
	while (a.conns != NULL)
		conn_end(&a, srv_container_of(a.conns, struct app_conn, link));
	free(a.heap.v);
	for (unsigned i = 0; i < APP_BUCKETS; i++)
		while (a.users[i] != NULL)
			user_free(&a, a.users[i]);
	creds_drop(&a, NULL);
	srv_stop(&a.b, a.lst, &o, started);
	return rc;
}
