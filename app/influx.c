/*
 * InfluxDB's write API (sp_influx.h): the URL taken apart, a bounded queue
 * of preallocated batches, and a pusher thread that POSTs them with
 * libcurl.
 *
 * The control lcore's side (sp_influx_put) only copies into a free slot
 * under a mutex the pusher holds for copies too, never across a request:
 * a database that is slow, hangs or is gone costs the run nothing but the
 * batches that no longer fit, which are counted. The pusher takes every
 * batch queued at once and sends them as one request, so a database that
 * answers slowly is caught up with rather than fallen behind. A failed
 * request is counted and not retried: the points are the timeline's, which
 * the report has anyway.
 *
 * The request runs on a multi handle so that the end of the run can
 * abandon it at once (curl_multi_wakeup), whatever the timeouts say. The
 * end's bound does not rest on that: it waits for the pusher to leave for
 * a bounded time too, and a pusher still inside libcurl then is left
 * behind (detached; it frees what it shares with the owner when the last
 * of the two lets go), its batch counted as abandoned.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sp_influx.h"

/* After "stop", how long the end waits for the pusher to leave libcurl
 * and its loop: a wakeup, a step of curl_multi_perform and a lock, far
 * less than this even on a busy CPU. */
#define SP_INFLUX_STOP_MS 250

struct sp_influx_slot {
	char *buf;
	size_t len;
	uint32_t npoints;
};

struct sp_influx {
	struct sp_influx_conf c;
	struct sp_influx_url url;
	pthread_mutex_t mu;
	pthread_cond_t work; /* the pusher waits for a batch or the end */
	pthread_cond_t idle; /* the end waits for the pusher */
	struct sp_influx_slot *slot;
	uint32_t head, n; /* the queued batches: slot[head], n of them */
	int busy;         /* a request in flight */
	uint32_t busy_np; /* its points */
	int started, dead, stopping;
	int stop;     /* abandon now (atomic: read inside a request) */
	int gone;     /* the pusher has left its loop */
	int orphan;   /* the end left it behind: its batch already counted */
	int released; /* the owner let go (sp_influx_destroy) */
	pthread_t th;
	struct sp_influx_stats st;
	/* The pusher's own. */
	char *send;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	char *auth;
	char resp[256];
	size_t resp_len;
	char cerr[CURL_ERROR_SIZE];
};

static void __attribute__((format(printf, 3, 4)))
sp_influx_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The query's KEY=VALUE pairs: each key one of @keys (NULL-ended), once,
 * with a value; vals[i] points at key i's value (length lens[i]). 0, or
 * -1 with why in @err. */
static int
sp_influx_query(const char *q, const char *const *keys, const char **vals,
		size_t *lens, char *err, size_t errlen)
{
	while (q != NULL && *q != '\0') {
		size_t n = strcspn(q, "&"), kl = strcspn(q, "=&");
		int k;

		if (kl == n || kl + 1 == n) {
			sp_influx_err(err, errlen,
				      "'%.*s' in the query: KEY=VALUE expected",
				      (int)n, q);
			return -1;
		}
		for (k = 0; keys[k] != NULL; k++)
			if (strlen(keys[k]) == kl &&
			    strncmp(keys[k], q, kl) == 0)
				break;
		if (keys[k] == NULL) {
			sp_influx_err(err, errlen,
				      "'%.*s' in the query: not a parameter "
				      "this URL takes",
				      (int)kl, q);
			return -1;
		}
		if (vals[k] != NULL) {
			sp_influx_err(err, errlen, "%s= given twice", keys[k]);
			return -1;
		}
		vals[k] = q + kl + 1;
		lens[k] = n - kl - 1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* @part of @h, URL-decoded when @decode, or NULL when it has none (or
 * no memory). A %XX that is not one sets *@bad (libcurl would keep it). */
static char *
sp_influx_part(CURLU *h, CURLUPart part, int decode, int *bad)
{
	char *v = NULL, *copy;

	if (curl_url_get(h, part, &v, 0) != CURLUE_OK)
		return NULL;
	for (const char *p = strchr(v, '%'); decode && p != NULL;
	     p = strchr(p + 1, '%'))
		if (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2]))
			*bad = 1;
	if (decode) {
		curl_free(v);
		v = NULL;
		if (curl_url_get(h, part, &v, CURLU_URLDECODE) != CURLUE_OK)
			return NULL;
	}
	copy = strdup(v);
	curl_free(v);
	return copy;
}

/* libcurl's refusal of a URL, in the words the rest of this file uses. */
static void
sp_influx_url_err(CURLUcode rc, const char *auth, size_t auth_len, char *err,
		  size_t errlen)
{
	const char *colon = auth + auth_len;

	while (colon > auth && colon[-1] != ':' && colon[-1] != ']')
		colon--;

	switch (rc) {
	case CURLUE_NO_HOST:
		sp_influx_err(err, errlen,
			      "no host, e.g. http://127.0.0.1:8086/DB");
		break;
	case CURLUE_BAD_PORT_NUMBER:
		sp_influx_err(err, errlen, "a bad port '%.*s' (or [IPv6]:PORT)",
			      (int)(auth + auth_len - colon), colon);
		break;
	case CURLUE_BAD_IPV6:
		sp_influx_err(err, errlen, "a bad [IPv6] host");
		break;
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		sp_influx_err(err, errlen, "a bad USER:PASS@");
		break;
	default:
		sp_influx_err(err, errlen, "not a URL: %s",
			      curl_url_strerror(rc));
	}
}

/* The URL's parts are libcurl's (curl_url): scheme, host, port, login,
 * path and query; what is checked here is what InfluxDB needs of them. */
int
sp_influx_url_parse(struct sp_influx_url *u, const char *spec, char *err,
		    size_t errlen)
{
	static const char v2_path[] = "/api/v2/write";
	CURLU *h = NULL;
	CURLUcode rc;
	char *path = NULL, *q = NULL, *port = NULL, *user = NULL, *pass = NULL;
	char *hostport = NULL, *frag = NULL;
	const char *auth;
	size_t path_len, auth_len;
	int bad = 0, ret = -1;

	memset(u, 0, sizeof(*u));
	for (const char *s = spec; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f) {
			sp_influx_err(err, errlen,
				      "a space or a control character in the "
				      "URL");
			return -1;
		}
	if (strncmp(spec, "http://", 7) != 0 &&
	    strncmp(spec, "https://", 8) != 0) {
		sp_influx_err(err, errlen,
			      "http:// or https:// expected, e.g. "
			      "http://127.0.0.1:8086/DB");
		return -1;
	}
	auth = spec + (spec[4] == 's' ? 8 : 7);
	auth_len = strcspn(auth, "/?");
	/* libcurl would read "http:///db" as the host db. */
	if (auth_len == 0) {
		sp_influx_err(err, errlen,
			      "no host, e.g. http://127.0.0.1:8086/DB");
		return -1;
	}
	h = curl_url();
	if (h == NULL) {
		sp_influx_err(err, errlen, "out of memory");
		return -1;
	}
	rc = curl_url_set(h, CURLUPART_URL, spec, 0);
	if (rc != CURLUE_OK) {
		sp_influx_url_err(rc, auth, auth_len, err, errlen);
		goto out;
	}
	path = sp_influx_part(h, CURLUPART_PATH, 0, &bad);
	q = sp_influx_part(h, CURLUPART_QUERY, 0, &bad);
	port = sp_influx_part(h, CURLUPART_PORT, 0, &bad);
	frag = sp_influx_part(h, CURLUPART_FRAGMENT, 0, &bad);
	user = sp_influx_part(h, CURLUPART_USER, 1, &bad);
	pass = sp_influx_part(h, CURLUPART_PASSWORD, 1, &bad);
	if (bad) {
		sp_influx_err(err, errlen, "a bad %%XX in USER:PASS@");
		goto out;
	}
	if (path == NULL) {
		sp_influx_err(err, errlen, "out of memory");
		goto out;
	}
	if (frag != NULL) {
		sp_influx_err(err, errlen, "a '#' in the URL");
		goto out;
	}
	/* libcurl takes "h:" as the default port, and port 0: neither is
	 * one a user means. */
	if ((port != NULL && strcmp(port, "0") == 0) ||
	    (auth_len > 0 && auth[auth_len - 1] == ':')) {
		sp_influx_err(err, errlen, "a bad port '%s'",
			      port != NULL ? port : "");
		goto out;
	}
	if (pass != NULL && (user == NULL || user[0] == '\0')) {
		sp_influx_err(err, errlen, "USER:PASS@ without a user");
		goto out;
	}
	/* What is shown and posted to: no login, no query. */
	if (curl_url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_PATH, "", 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_URL, &hostport, 0) != CURLUE_OK) {
		sp_influx_err(err, errlen, "out of memory");
		goto out;
	}
	/* scheme://host[:port]/ from libcurl: its own slash goes. */
	path_len = strlen(hostport);
	if (path_len > 0 && hostport[path_len - 1] == '/')
		hostport[path_len - 1] = '\0';
	path_len = strlen(path);
	u->v2 = path_len >= sizeof(v2_path) - 1 &&
		memcmp(path + path_len - (sizeof(v2_path) - 1), v2_path,
		       sizeof(v2_path) - 1) == 0;
	if (u->v2) {
		static const char *const keys[] = { "org", "orgID", "bucket",
						    "precision", NULL };
		const char *v[4] = { NULL, NULL, NULL, NULL };
		size_t l[4] = { 0, 0, 0, 0 };

		if (user != NULL) {
			sp_influx_err(err, errlen,
				      "v2 (/api/v2/write) authenticates with "
				      "a token (STAMPEDE_INFLUXDB_TOKEN), not "
				      "USER:PASS@");
			goto out;
		}
		if (sp_influx_query(q, keys, v, l, err, errlen) < 0)
			goto out;
		if ((v[0] == NULL && v[1] == NULL) || v[2] == NULL) {
			sp_influx_err(err, errlen,
				      "v2 needs org= (or orgID=) and bucket=, "
				      "e.g. .../api/v2/write?org=O&bucket=B");
			goto out;
		}
		if (v[3] != NULL &&
		    !(l[3] == 2 && strncmp(v[3], "ms", 2) == 0)) {
			sp_influx_err(err, errlen,
				      "precision=%.*s: points are written in "
				      "ms (precision=ms, or none)",
				      (int)l[3], v[3]);
			goto out;
		}
		if (asprintf(&u->post, "%s%s?%s%s", hostport, path, q,
			     v[3] != NULL ? "" : "&precision=ms") < 0)
			u->post = NULL;
	} else {
		static const char *const keys[] = { "rp", NULL };
		const char *v[1] = { NULL }, *db;
		size_t l[1] = { 0 };

		db = path + path_len;
		while (db > path && db[-1] != '/')
			db--;
		if (db == path + path_len) {
			sp_influx_err(err, errlen,
				      "no database: http://HOST:PORT/DB "
				      "(v1), or .../api/v2/write?org=O&"
				      "bucket=B (v2)");
			goto out;
		}
		if (sp_influx_query(q, keys, v, l, err, errlen) < 0)
			goto out;
		if (asprintf(&u->post,
			     "%s%.*s/write?db=%s%s%.*s&precision=ms", hostport,
			     (int)(db - 1 - path), path, db,
			     v[0] != NULL ? "&rp=" : "", (int)l[0],
			     v[0] != NULL ? v[0] : "") < 0)
			u->post = NULL;
	}
	if (u->post == NULL ||
	    asprintf(&u->shown, "%s%s%s%s", hostport, path, q ? "?" : "",
		     q ? q : "") < 0) {
		u->shown = NULL;
		sp_influx_err(err, errlen, "out of memory");
		goto out;
	}
	if (user != NULL) {
		u->user = user;
		u->pass = pass != NULL ? pass : strdup("");
		user = pass = NULL;
		if (u->pass == NULL) {
			sp_influx_err(err, errlen, "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0)
		sp_influx_url_free(u);
	curl_free(hostport);
	free(path);
	free(q);
	free(port);
	free(frag);
	free(user);
	free(pass);
	curl_url_cleanup(h);
	return ret;
}

void
sp_influx_url_free(struct sp_influx_url *u)
{
	free(u->post);
	free(u->shown);
	free(u->user);
	free(u->pass);
	memset(u, 0, sizeof(*u));
}

/* The response's first bytes: an InfluxDB error is a short JSON object,
 * the reason a failed batch is reported with. */
static size_t
sp_influx_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sp_influx *ix = arg;
	size_t n = size * nmemb, room = sizeof(ix->resp) - 1 - ix->resp_len;

	memcpy(ix->resp + ix->resp_len, data, n < room ? n : room);
	ix->resp_len += n < room ? n : room;
	return n;
}

static void
sp_influx_free(struct sp_influx *ix)
{
	if (ix->easy != NULL)
		curl_easy_cleanup(ix->easy);
	if (ix->multi != NULL)
		curl_multi_cleanup(ix->multi);
	curl_slist_free_all(ix->hdrs);
	free(ix->auth);
	if (ix->slot != NULL)
		for (uint32_t i = 0; i < ix->c.slots; i++)
			free(ix->slot[i].buf);
	free(ix->slot);
	free(ix->send);
	sp_influx_url_free(&ix->url);
	pthread_cond_destroy(&ix->work);
	pthread_cond_destroy(&ix->idle);
	pthread_mutex_destroy(&ix->mu);
	free(ix);
}

static CURLcode sp_influx_curl_rc;

static void
sp_influx_curl_init(void)
{
	sp_influx_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The request, once for the run: its URL, headers, timeouts and body
 * callback; each batch sets only the body. One easy handle on one multi
 * handle keeps the connection between batches. */
static int
sp_influx_client(struct sp_influx *ix, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct curl_slist *h;
	CURL *e;
	int bad = 0;

	/* curl_global_init is not thread-safe: this runs before any thread
	 * of ours. */
	pthread_once(&once, sp_influx_curl_init);
	if (sp_influx_curl_rc != CURLE_OK) {
		sp_influx_err(err, errlen, "libcurl: %s",
			      curl_easy_strerror(sp_influx_curl_rc));
		return -1;
	}
	ix->multi = curl_multi_init();
	ix->easy = e = curl_easy_init();
	if (ix->multi == NULL || e == NULL)
		goto fail;
	/* A body over 1 KiB would otherwise wait a second for a 100
	 * Continue that InfluxDB does not send. */
	h = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	if (h == NULL)
		goto fail;
	ix->hdrs = h;
	if (curl_slist_append(h, "Expect:") == NULL ||
	    (ix->auth != NULL && curl_slist_append(h, ix->auth) == NULL))
		goto fail;
	bad |= curl_easy_setopt(e, CURLOPT_URL, ix->url.post) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, ix->hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A request abandoned while its name resolves: libcurl would join
	 * the resolver's thread (as long as the resolver takes), now it
	 * forgets it. */
	bad |= curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK;
#endif
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				(long)ix->c.connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
				(long)ix->c.timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "stampede") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sp_influx_body) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, ix) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ix->cerr) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
	if (ix->url.user != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) !=
		       CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_USERNAME, ix->url.user) !=
		       CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, ix->url.pass) !=
		       CURLE_OK;
	}
	if (bad)
		goto fail;
	return 0;
fail:
	sp_influx_err(err, errlen, "libcurl: could not set up the client");
	return -1;
}

struct sp_influx *
sp_influx_create(const struct sp_influx_conf *c, char *err, size_t errlen)
{
	struct sp_influx *ix = calloc(1, sizeof(*ix));
	pthread_condattr_t ca;

	if (ix == NULL) {
		sp_influx_err(err, errlen, "out of memory");
		return NULL;
	}
	ix->c = *c;
	pthread_mutex_init(&ix->mu, NULL);
	/* The end's bounded wait is on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ix->idle, &ca);
	pthread_cond_init(&ix->work, &ca);
	pthread_condattr_destroy(&ca);
	if (sp_influx_url_parse(&ix->url, c->url, err, errlen) < 0)
		goto fail;
	if (ix->url.v2) {
		if (c->token == NULL || c->token[0] == '\0') {
			sp_influx_err(err, errlen,
				      "v2 (/api/v2/write) needs a token: set "
				      "STAMPEDE_INFLUXDB_TOKEN");
			goto fail;
		}
		if (strpbrk(c->token, "\r\n") != NULL) {
			sp_influx_err(err, errlen,
				      "STAMPEDE_INFLUXDB_TOKEN holds a line "
				      "break");
			goto fail;
		}
		if (asprintf(&ix->auth, "Authorization: Token %s", c->token) <
		    0) {
			ix->auth = NULL;
			sp_influx_err(err, errlen, "out of memory");
			goto fail;
		}
	}
	ix->slot = calloc(c->slots, sizeof(*ix->slot));
	ix->send = malloc(c->slots * c->slot_bytes);
	if (ix->slot == NULL || ix->send == NULL) {
		sp_influx_err(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < c->slots; i++) {
		ix->slot[i].buf = malloc(c->slot_bytes);
		if (ix->slot[i].buf == NULL) {
			sp_influx_err(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (sp_influx_client(ix, err, errlen) < 0)
		goto fail;
	return ix;
fail:
	sp_influx_free(ix);
	return NULL;
}

/* A failure's words, the first kept apart from the latest. Locked. */
static void
sp_influx_note(struct sp_influx *ix, const char *why)
{
	if (ix->st.first_error[0] == '\0')
		snprintf(ix->st.first_error, sizeof(ix->st.first_error), "%s",
			 why);
	snprintf(ix->st.last_error, sizeof(ix->st.last_error), "%s", why);
}

static void
sp_influx_failed(struct sp_influx *ix, const char *why, uint32_t npoints)
{
	ix->st.failed++;
	ix->st.failed_points += npoints;
	sp_influx_note(ix, why);
}

/* One request with @len bytes of ix->send: 0 answered 2xx, or -1 with
 * why in @why. Abandoned when ix->stop is set. */
static int
sp_influx_post(struct sp_influx *ix, size_t len, char *why, size_t whylen)
{
	CURL *e = ix->easy;
	CURLcode res = CURLE_OK;
	CURLMsg *m;
	long status = 0;
	int running = 1, q, done = 0;

	ix->resp_len = 0;
	ix->cerr[0] = '\0';
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, ix->send);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (curl_multi_add_handle(ix->multi, e) != CURLM_OK) {
		sp_influx_err(why, whylen,
			      "libcurl: could not add the request");
		return -1;
	}
	while (running) {
		if (curl_multi_perform(ix->multi, &running) != CURLM_OK ||
		    running == 0)
			break;
		if (__atomic_load_n(&ix->stop, __ATOMIC_ACQUIRE))
			break;
		curl_multi_poll(ix->multi, NULL, 0, 1000, NULL);
	}
	while ((m = curl_multi_info_read(ix->multi, &q)) != NULL)
		if (m->msg == CURLMSG_DONE) {
			res = m->data.result;
			done = 1;
		}
	curl_multi_remove_handle(ix->multi, e);
	if (!done) {
		sp_influx_err(why, whylen,
			      "abandoned unanswered at the end of the run");
		return -1;
	}
	if (res != CURLE_OK) {
		sp_influx_err(why, whylen, "%s",
			      ix->cerr[0] != '\0' ? ix->cerr :
						    curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		ix->resp[ix->resp_len] = '\0';
		for (char *s = ix->resp; *s != '\0'; s++)
			if ((unsigned char)*s < ' ')
				*s = ' ';
		sp_influx_err(why, whylen, "HTTP %ld%s%s", status,
			      ix->resp_len != 0 ? ": " : "", ix->resp);
		return -1;
	}
	return 0;
}

/* The pusher: whatever is queued goes out as one request, until the end
 * says stop. */
static void *
sp_influx_main(void *arg)
{
	struct sp_influx *ix = arg;
	char why[256];
	int last;

	pthread_mutex_lock(&ix->mu);
	for (;;) {
		size_t len = 0;
		uint32_t np = 0;
		int rc;

		while (ix->n == 0 && !ix->stopping)
			pthread_cond_wait(&ix->work, &ix->mu);
		if (ix->n == 0 || __atomic_load_n(&ix->stop, __ATOMIC_ACQUIRE))
			break;
		for (; ix->n != 0; ix->n--) {
			struct sp_influx_slot *s = &ix->slot[ix->head];

			memcpy(ix->send + len, s->buf, s->len);
			len += s->len;
			np += s->npoints;
			ix->head = (ix->head + 1) % ix->c.slots;
		}
		ix->busy = 1;
		ix->busy_np = np;
		pthread_mutex_unlock(&ix->mu);
		rc = sp_influx_post(ix, len, why, sizeof(why));
		pthread_mutex_lock(&ix->mu);
		ix->busy = 0;
		if (ix->orphan)
			break; /* the end counted the batch */
		if (rc == 0) {
			ix->st.points += np;
			ix->st.batches++;
		} else {
			sp_influx_failed(ix, why, np);
		}
		pthread_cond_broadcast(&ix->idle);
	}
	ix->gone = 1;
	last = ix->released;
	pthread_cond_broadcast(&ix->idle);
	pthread_mutex_unlock(&ix->mu);
	/* Left behind, and the owner has let go already: the last one out
	 * frees. */
	if (last)
		sp_influx_free(ix);
	return NULL;
}

int
sp_influx_start(struct sp_influx *ix)
{
	sigset_t all, old;
	int rc;

	/* The run's signals (Ctrl-C) are the main thread's to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ix->th, NULL, sp_influx_main, ix);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&ix->mu);
	if (rc != 0) {
		char why[128];

		snprintf(why, sizeof(why), "could not start its thread: %s",
			 strerror(rc));
		ix->dead = 1;
		/* Not a request that failed: the words, and the queue
		 * dropped. */
		sp_influx_note(ix, why);
		for (; ix->n != 0; ix->n--) {
			ix->st.dropped += ix->slot[ix->head].npoints;
			ix->head = (ix->head + 1) % ix->c.slots;
		}
	} else {
		ix->started = 1;
	}
	pthread_mutex_unlock(&ix->mu);
	return rc != 0 ? -1 : 0;
}

int
sp_influx_put(struct sp_influx *ix, const char *lines, size_t len,
	      uint32_t npoints)
{
	struct sp_influx_slot *s;

	pthread_mutex_lock(&ix->mu);
	ix->st.put += npoints;
	if (ix->dead || ix->stopping || ix->n == ix->c.slots ||
	    len > ix->c.slot_bytes) {
		ix->st.dropped += npoints;
		pthread_mutex_unlock(&ix->mu);
		return -1;
	}
	s = &ix->slot[(ix->head + ix->n) % ix->c.slots];
	memcpy(s->buf, lines, len);
	s->len = len;
	s->npoints = npoints;
	ix->n++;
	pthread_cond_signal(&ix->work);
	pthread_mutex_unlock(&ix->mu);
	return 0;
}

static uint64_t
sp_influx_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* @ms from now on the monotonic clock, as the condition variables take
 * it. */
static struct timespec
sp_influx_deadline(uint32_t ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return dl;
}

void
sp_influx_end(struct sp_influx *ix, uint32_t wait_ms)
{
	struct timespec dl = sp_influx_deadline(wait_ms);
	uint64_t t0 = sp_influx_ms(), t1;

	pthread_mutex_lock(&ix->mu);
	ix->stopping = 1;
	if (ix->started) {
		pthread_cond_signal(&ix->work);
		while (ix->n != 0 || ix->busy)
			if (pthread_cond_timedwait(&ix->idle, &ix->mu, &dl) ==
			    ETIMEDOUT)
				break;
		t1 = sp_influx_ms();
		__atomic_store_n(&ix->stop, 1, __ATOMIC_RELEASE);
		curl_multi_wakeup(ix->multi);
		/* The pusher leaves at once, unless libcurl holds it (a
		 * resolver thread to join, a blocking step of a version we do
		 * not know): the end is not held with it. */
		dl = sp_influx_deadline(SP_INFLUX_STOP_MS);
		while (!ix->gone)
			if (pthread_cond_timedwait(&ix->idle, &ix->mu, &dl) ==
			    ETIMEDOUT)
				break;
		if (ix->gone) {
			/* Past its last lock: nothing left but to return. */
			pthread_mutex_unlock(&ix->mu);
			pthread_join(ix->th, NULL);
			pthread_mutex_lock(&ix->mu);
		} else {
			pthread_detach(ix->th);
			ix->orphan = 1;
			if (ix->busy)
				sp_influx_failed(ix,
						 "abandoned unanswered at the "
						 "end of the run (its thread "
						 "left behind in libcurl)",
						 ix->busy_np);
			ix->st.end_left_behind = 1;
		}
		ix->started = 0;
		ix->st.end_wait_ms = t1 - t0;
		ix->st.end_stop_ms = sp_influx_ms() - t1;
	}
	for (; ix->n != 0; ix->n--) {
		ix->st.dropped += ix->slot[ix->head].npoints;
		ix->head = (ix->head + 1) % ix->c.slots;
	}
	pthread_mutex_unlock(&ix->mu);
}

void
sp_influx_stats(struct sp_influx *ix, struct sp_influx_stats *s)
{
	pthread_mutex_lock(&ix->mu);
	*s = ix->st;
	pthread_mutex_unlock(&ix->mu);
}

const char *
sp_influx_shown(const struct sp_influx *ix)
{
	return ix->url.shown;
}

int
sp_influx_v2(const struct sp_influx *ix)
{
	return ix->url.v2;
}

void
sp_influx_destroy(struct sp_influx *ix)
{
	int last;

	if (ix == NULL)
		return;
	sp_influx_end(ix, 0);
	/* A pusher left behind frees when it leaves, if it leaves last. */
	pthread_mutex_lock(&ix->mu);
	ix->released = 1;
	last = !ix->orphan || ix->gone;
	pthread_mutex_unlock(&ix->mu);
	if (last)
		sp_influx_free(ix);
}
