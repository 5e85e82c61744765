/*
 * The control side's HTTP server (sp_httpd.h) on libmicrohttpd: its
 * internal polling thread accepts and answers; a GET of a published path
 * gets a copy of the latest body, taken under the mutex the publisher
 * holds only to swap a pointer. A response counts as served when
 * libmicrohttpd says it went out in full (its completion callback), so
 * that "a scrape got the final figures" means the scraper has them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sp_httpd.h"

#define SP_HTTPD_DOCS 8
#define SP_HTTPD_PATH 64
#define SP_HTTPD_TYPE 64
/* Enough for a few scrapers and a browser; an idle connection is closed
 * after the timeout, so none is held for ever. */
#define SP_HTTPD_CONNS 32
#define SP_HTTPD_IDLE_S 30
/* An event stream: named events whose latest alone matters, and how
 * long a quiet stream waits before a keep-alive comment. */
#define SP_HTTPD_SLOTS 4
#define SP_HTTPD_KEEPALIVE_S 15
/* How often a wait looks at @stop (a signal does not wake a condition). */
#define SP_HTTPD_POLL_NS (50 * 1000 * 1000)

struct sp_httpd_doc {
	char path[SP_HTTPD_PATH];
	char type[SP_HTTPD_TYPE];
	char *body;
	size_t len;
	uint64_t version; /* publications so far */
	uint64_t served, served_latest;
};

/* An event stream's named latest event (sp_httpd_event with keep 0). */
struct sp_httpd_slot {
	char name[16];
	char *text; /* the event as the stream sends it */
	size_t len;
	uint64_t version;
};

/* A client of the event stream: where it is in the kept events, which
 * latest events it has, and what it is still being sent of one. */
struct sp_httpd_sub {
	struct sp_httpd *h;
	size_t off;
	uint64_t seen[SP_HTTPD_SLOTS];
	char *pend;
	size_t plen, poff;
	uint64_t synced; /* h->gen when it last had everything */
	unsigned idx;    /* in h->subs */
};

struct sp_httpd {
	int fd; /* the listening socket until the daemon owns it */
	struct MHD_Daemon *d;
	char addr[INET6_ADDRSTRLEN + 8];
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a response of a document went out */
	struct sp_httpd_doc doc[SP_HTTPD_DOCS];
	unsigned ndocs;
	/* The event stream (one path): kept events, in order, as sent; the
	 * latest named ones; a count of every event; its clients. */
	char stream[SP_HTTPD_PATH];
	char *log;
	size_t log_len, log_cap;
	struct sp_httpd_slot slot[SP_HTTPD_SLOTS];
	unsigned nslots;
	uint64_t gen;
	struct sp_httpd_sub *subs[SP_HTTPD_CONNS];
	uint64_t streams_opened;
	int closing;
	/* The POST route: its path, what it calls (on the server's
	 * thread), the header it requires, how often it was called. */
	char post[SP_HTTPD_PATH];
	void (*post_cb)(void *);
	void *post_ctx;
	const char *post_header;
	uint64_t posts;
	char post_marker; /* *req_cls of a POST: nothing to free */
};

/* What a GET of a document was given: its completion counts it. */
struct sp_httpd_req {
	unsigned doc;
	uint64_t version;
};

int
sp_httpd_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *len,
	       char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *port, *end;
	size_t hl;
	char *tail;
	unsigned long p;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL || end[1] != ':') {
			snprintf(err, errlen,
				 "%s: [IPV6]:PORT, e.g. [::1]:9464", spec);
			return -1;
		}
		hl = (size_t)(end - spec - 1);
		memcpy(host, spec + 1, hl < sizeof(host) ? hl : 0);
		port = end + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
	} else {
		end = strrchr(spec, ':');
		if (end == NULL || memchr(spec, ':', (size_t)(end - spec))) {
			snprintf(err, errlen,
				 "%s: HOST:PORT, e.g. 127.0.0.1:9464 (an IPv6 "
				 "address in brackets: [::1]:9464)",
				 spec);
			return -1;
		}
		hl = (size_t)(end - spec);
		memcpy(host, spec, hl < sizeof(host) ? hl : 0);
		port = end + 1;
		hints.ai_family = AF_UNSPEC;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "%s: %s host", spec,
			 hl == 0 ? "no" : "too long a");
		return -1;
	}
	host[hl] = '\0';
	errno = 0;
	p = strtoul(port, &tail, 10);
	if (port[0] < '0' || port[0] > '9' || *tail != '\0' || errno != 0 ||
	    p < 1 || p > 65535) {
		snprintf(err, errlen, "%s: the port must be 1 to 65535", spec);
		return -1;
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "%s: not an address: %s", spec,
			 rc != 0 ? gai_strerror(rc) : "none found");
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)p);
	return 0;
}

/* "ADDR:PORT" of the bound socket, [] around an IPv6 address. */
static void
sp_httpd_name(struct sp_httpd *h)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(h->fd, (struct sockaddr *)&sa, &len) == 0) {
		if (sa.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			port = ntohs(s4->sin_port);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(h->addr, sizeof(h->addr),
		 sa.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

struct sp_httpd *
sp_httpd_listen(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	struct sp_httpd *h;
	socklen_t len;
	int one = 1;

	if (sp_httpd_parse(spec, &sa, &len, err, errlen) < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	h->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* SO_REUSEADDR: a connection of the last run in TIME_WAIT does not
	 * hold the port; a listener does (EADDRINUSE all the same). */
	if (h->fd < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
		    0 ||
	    bind(h->fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(h->fd, 64) < 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", spec,
			 strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	sp_httpd_name(h);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	return h;
}

const char *
sp_httpd_addr(const struct sp_httpd *h)
{
	return h->addr;
}

static struct sp_httpd_doc *
sp_httpd_find(struct sp_httpd *h, const char *path)
{
	for (unsigned i = 0; i < h->ndocs; i++)
		if (strcmp(h->doc[i].path, path) == 0)
			return &h->doc[i];
	return NULL;
}

static enum MHD_Result
sp_httpd_reply(struct MHD_Connection *c, unsigned status, const char *type,
	       const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* On a stream's thread: the next bytes for its client. What was kept
 * first (from where it is), then a newer latest event, else it waits for
 * one; a keep-alive comment now and then tells a proxy the stream lives. */
static ssize_t
sp_httpd_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char keepalive[] = ": keep-alive\n\n";
	struct sp_httpd_sub *s = cls;
	struct sp_httpd *h = s->h;
	struct timespec until;
	size_t n;

	(void)pos;
	if (s->poff < s->plen) {
		n = s->plen - s->poff < max ? s->plen - s->poff : max;
		memcpy(buf, s->pend + s->poff, n);
		s->poff += n;
		return (ssize_t)n;
	}
	pthread_mutex_lock(&h->mu);
	for (;;) {
		if (h->closing) {
			pthread_mutex_unlock(&h->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (s->off < h->log_len) {
			n = h->log_len - s->off < max ? h->log_len - s->off :
							 max;
			memcpy(buf, h->log + s->off, n);
			s->off += n;
			pthread_mutex_unlock(&h->mu);
			return (ssize_t)n;
		}
		for (unsigned i = 0; i < h->nslots; i++) {
			struct sp_httpd_slot *sl = &h->slot[i];
			char *p;

			if (sl->version == s->seen[i])
				continue;
			p = realloc(s->pend, sl->len);
			if (p == NULL)
				break; /* tried again after the wait */
			s->pend = p;
			memcpy(p, sl->text, sl->len);
			s->plen = sl->len;
			s->poff = 0;
			s->seen[i] = sl->version;
			pthread_mutex_unlock(&h->mu);
			return sp_httpd_sse_read(cls, pos, buf, max);
		}
		if (s->synced != h->gen) {
			s->synced = h->gen;
			pthread_cond_broadcast(&h->cv);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SP_HTTPD_KEEPALIVE_S;
		if (pthread_cond_timedwait(&h->cv, &h->mu, &until) != 0 &&
		    !h->closing && s->off == h->log_len) {
			pthread_mutex_unlock(&h->mu);
			n = sizeof(keepalive) - 1 < max ? sizeof(keepalive) - 1 :
							 max;
			memcpy(buf, keepalive, n);
			return (ssize_t)n;
		}
	}
}

static void
sp_httpd_sse_free(void *cls)
{
	struct sp_httpd_sub *s = cls;
	struct sp_httpd *h = s->h;

	pthread_mutex_lock(&h->mu);
	h->subs[s->idx] = NULL;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	free(s->pend);
	free(s);
}

/* A GET of the stream: a client that starts with a reset (it forgets
 * what an earlier connection gave it), then every kept event. */
static enum MHD_Result
sp_httpd_subscribe(struct sp_httpd *h, struct MHD_Connection *c)
{
	static const char hello[] = "retry: 1000\nevent: reset\ndata: {}\n\n";
	struct sp_httpd_sub *s = calloc(1, sizeof(*s));
	struct MHD_Response *r = NULL;
	enum MHD_Result ret;
	unsigned i;

	if (s == NULL || (s->pend = malloc(sizeof(hello))) == NULL) {
		free(s);
		return MHD_NO;
	}
	memcpy(s->pend, hello, sizeof(hello) - 1);
	s->plen = sizeof(hello) - 1;
	s->h = h;
	pthread_mutex_lock(&h->mu);
	for (i = 0; i < SP_HTTPD_CONNS && h->subs[i] != NULL; i++)
		;
	if (i < SP_HTTPD_CONNS) {
		h->subs[i] = s;
		s->idx = i;
		s->synced = (uint64_t)-1;
		h->streams_opened++;
	}
	pthread_mutex_unlock(&h->mu);
	if (i == SP_HTTPD_CONNS) {
		free(s->pend);
		free(s);
		return MHD_NO;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
					      sp_httpd_sse_read, s,
					      sp_httpd_sse_free);
	if (r == NULL) {
		sp_httpd_sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* A POST of the POST route, body ignored: called once it is whole, and
 * only with the route's header (a page of another origin cannot send one
 * without a preflight, which is not answered). */
static enum MHD_Result
sp_httpd_do_post(struct sp_httpd *h, struct MHD_Connection *c,
		 size_t *upload_data_size, void **req_cls)
{
	static const char done[] = "ok\n";
	static const char refused[] = "this needs its header\n";

	if (*req_cls == NULL) {
		*req_cls = &h->post_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, h->post_header) ==
	    NULL)
		return sp_httpd_reply(c, MHD_HTTP_FORBIDDEN, "text/plain",
				      refused, sizeof(refused) - 1,
				      MHD_RESPMEM_PERSISTENT);
	pthread_mutex_lock(&h->mu);
	h->posts++;
	pthread_mutex_unlock(&h->mu);
	h->post_cb(h->post_ctx);
	return sp_httpd_reply(c, MHD_HTTP_OK, "text/plain", done,
			      sizeof(done) - 1, MHD_RESPMEM_PERSISTENT);
}

/* On the server's thread: a request has its headers. */
static enum MHD_Result
sp_httpd_access(void *cls, struct MHD_Connection *c, const char *url,
		const char *method, const char *version,
		const char *upload_data, size_t *upload_data_size,
		void **req_cls)
{
	static const char not_found[] = "not found\n";
	static const char not_allowed[] = "only GET and HEAD here\n";
	struct sp_httpd *h = cls;
	struct sp_httpd_doc *d;
	struct sp_httpd_req *q = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

	(void)version;
	(void)upload_data;
	if (h->post[0] != '\0' && strcmp(url, h->post) == 0 &&
	    strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return sp_httpd_do_post(h, c, upload_data_size, req_cls);
	if (get && h->stream[0] != '\0' && strcmp(url, h->stream) == 0)
		return sp_httpd_subscribe(h, c);
	if (!get && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return sp_httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "text/plain", not_allowed,
				      sizeof(not_allowed) - 1,
				      MHD_RESPMEM_PERSISTENT);
	if (get && (q = malloc(sizeof(*q))) == NULL)
		return MHD_NO;
	pthread_mutex_lock(&h->mu);
	d = sp_httpd_find(h, url);
	if (d == NULL) {
		pthread_mutex_unlock(&h->mu);
		free(q);
		return sp_httpd_reply(c, MHD_HTTP_NOT_FOUND, "text/plain",
				      not_found, sizeof(not_found) - 1,
				      MHD_RESPMEM_PERSISTENT);
	}
	/* A copy: the publisher frees the old body when it swaps. */
	r = MHD_create_response_from_buffer(d->len, d->body,
					    MHD_RESPMEM_MUST_COPY);
	if (r != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					d->type);
	if (q != NULL) {
		q->doc = (unsigned)(d - h->doc);
		q->version = d->version;
	}
	pthread_mutex_unlock(&h->mu);
	if (r == NULL) {
		free(q);
		return MHD_NO;
	}
	*req_cls = q;
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* On the server's thread: a request is over, its response sent or not. */
static void
sp_httpd_done(void *cls, struct MHD_Connection *c, void **req_cls,
	      enum MHD_RequestTerminationCode toe)
{
	struct sp_httpd *h = cls;
	struct sp_httpd_req *q = *req_cls;

	(void)c;
	if (q == NULL || *req_cls == (void *)&h->post_marker)
		return;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		struct sp_httpd_doc *d;

		pthread_mutex_lock(&h->mu);
		d = &h->doc[q->doc];
		d->served++;
		if (q->version == d->version)
			d->served_latest++;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	free(q);
	*req_cls = NULL;
}

int
sp_httpd_start(struct sp_httpd *h, char *err, size_t errlen)
{
	sigset_t block, old;
	/* A thread per connection: an event stream's reader waits for the
	 * next event (a polling thread would spin on it). */
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(h->fd, (struct sockaddr *)&sa, &len) == 0 &&
	    sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The thread inherits this mask: a Ctrl-C goes to the control
	 * thread, whose sleeps it cuts short. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, sp_httpd_access, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_NOTIFY_COMPLETED, sp_httpd_done, h,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)SP_HTTPD_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)SP_HTTPD_IDLE_S, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->d == NULL) {
		snprintf(err, errlen, "%s: the HTTP server did not start",
			 h->addr);
		return -1;
	}
	h->fd = -1; /* the daemon's now: MHD_stop_daemon closes it */
	return 0;
}

int
sp_httpd_publish(struct sp_httpd *h, const char *path, const char *type,
		 const char *body, size_t len)
{
	struct sp_httpd_doc *d;
	char *copy = malloc(len + 1), *old;

	if (copy == NULL || strlen(path) >= SP_HTTPD_PATH ||
	    strlen(type) >= SP_HTTPD_TYPE) {
		free(copy);
		return -1;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&h->mu);
	d = sp_httpd_find(h, path);
	if (d == NULL && h->ndocs < SP_HTTPD_DOCS) {
		d = &h->doc[h->ndocs++];
		snprintf(d->path, sizeof(d->path), "%s", path);
	}
	if (d == NULL) {
		pthread_mutex_unlock(&h->mu);
		free(copy);
		return -1;
	}
	snprintf(d->type, sizeof(d->type), "%s", type);
	old = d->body;
	d->body = copy;
	d->len = len;
	d->version++;
	d->served_latest = 0;
	pthread_mutex_unlock(&h->mu);
	free(old);
	return 0;
}

void
sp_httpd_served(struct sp_httpd *h, const char *path, uint64_t *all,
		uint64_t *latest)
{
	struct sp_httpd_doc *d;

	pthread_mutex_lock(&h->mu);
	d = sp_httpd_find(h, path);
	*all = d != NULL ? d->served : 0;
	*latest = d != NULL ? d->served_latest : 0;
	pthread_mutex_unlock(&h->mu);
}

/* Timespec arithmetic for the waits below. */
static void
sp_httpd_ts_add(struct timespec *t, uint64_t us)
{
	t->tv_sec += (time_t)(us / 1000000);
	t->tv_nsec += (long)(us % 1000000) * 1000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static int
sp_httpd_ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Wait (h->mu held) until @done says so, at most @timeout_us, and only
 * while @stop (if given) says 0; woken by h->cv, and every
 * SP_HTTPD_POLL_NS to look at @stop. Whether @done said so. */
static int
sp_httpd_wait(struct sp_httpd *h, uint64_t timeout_us, int (*stop)(void),
	      int (*done)(struct sp_httpd *, const void *), const void *arg)
{
	struct timespec now, end, slice;
	int got;

	clock_gettime(CLOCK_REALTIME, &end);
	sp_httpd_ts_add(&end, timeout_us);
	for (;;) {
		got = done(h, arg);
		if (got || (stop != NULL && stop()))
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		if (!sp_httpd_ts_after(&end, &now))
			break;
		slice = now;
		sp_httpd_ts_add(&slice, SP_HTTPD_POLL_NS / 1000);
		if (sp_httpd_ts_after(&slice, &end))
			slice = end;
		pthread_cond_timedwait(&h->cv, &h->mu, &slice);
	}
	return got;
}

static int
sp_httpd_latest_served(struct sp_httpd *h, const void *path)
{
	struct sp_httpd_doc *d = sp_httpd_find(h, path);

	return d != NULL && d->served_latest != 0;
}

int
sp_httpd_wait_latest(struct sp_httpd *h, const char *path, uint64_t timeout_us,
		     int (*stop)(void))
{
	int got;

	pthread_mutex_lock(&h->mu);
	got = sp_httpd_wait(h, timeout_us, stop, sp_httpd_latest_served, path);
	pthread_mutex_unlock(&h->mu);
	return got;
}

int
sp_httpd_stream(struct sp_httpd *h, const char *path)
{
	if (strlen(path) >= SP_HTTPD_PATH)
		return -1;
	snprintf(h->stream, sizeof(h->stream), "%s", path);
	return 0;
}

int
sp_httpd_post(struct sp_httpd *h, const char *path, const char *header,
	      void (*cb)(void *), void *ctx)
{
	if (strlen(path) >= SP_HTTPD_PATH)
		return -1;
	snprintf(h->post, sizeof(h->post), "%s", path);
	h->post_header = header;
	h->post_cb = cb;
	h->post_ctx = ctx;
	return 0;
}

int
sp_httpd_event(struct sp_httpd *h, const char *name, const char *data,
	       size_t len, int keep)
{
	/* "event: NAME\ndata: DATA\n\n": DATA is one line (JSON). */
	size_t n = 7 + strlen(name) + 7 + len + 2 + 1;
	struct sp_httpd_slot *sl = NULL;
	char *text = NULL, *old = NULL;
	int ret = 0;

	if (memchr(data, '\n', len) != NULL || strlen(name) >= 16)
		return -1;
	pthread_mutex_lock(&h->mu);
	if (keep) {
		if (h->log_len + n > h->log_cap) {
			size_t cap = h->log_cap ? h->log_cap : 65536;
			char *p;

			while (cap < h->log_len + n)
				cap *= 2;
			p = realloc(h->log, cap);
			if (p == NULL) {
				ret = -1;
				goto out;
			}
			h->log = p;
			h->log_cap = cap;
		}
		text = h->log + h->log_len;
	} else {
		for (unsigned i = 0; i < h->nslots; i++)
			if (strcmp(h->slot[i].name, name) == 0)
				sl = &h->slot[i];
		if (sl == NULL && h->nslots < SP_HTTPD_SLOTS) {
			sl = &h->slot[h->nslots++];
			snprintf(sl->name, sizeof(sl->name), "%s", name);
		}
		if (sl == NULL || (text = malloc(n)) == NULL) {
			ret = -1;
			goto out;
		}
	}
	n = (size_t)snprintf(text, n, "event: %s\ndata: ", name);
	memcpy(text + n, data, len);
	n += len;
	memcpy(text + n, "\n\n", 2);
	n += 2;
	if (keep) {
		h->log_len += n;
	} else {
		old = sl->text;
		sl->text = text;
		sl->len = n;
		sl->version++;
	}
	h->gen++;
	pthread_cond_broadcast(&h->cv);
out:
	pthread_mutex_unlock(&h->mu);
	free(old);
	return ret;
}

void
sp_httpd_streams(struct sp_httpd *h, uint64_t *opened, unsigned *open,
		 uint64_t *posts)
{
	pthread_mutex_lock(&h->mu);
	*opened = h->streams_opened;
	*open = 0;
	for (unsigned i = 0; i < SP_HTTPD_CONNS; i++)
		*open += h->subs[i] != NULL;
	*posts = h->posts;
	pthread_mutex_unlock(&h->mu);
}

/* Every open stream has been given every event. */
static int
sp_httpd_streams_synced(struct sp_httpd *h, const void *unused)
{
	(void)unused;
	for (unsigned i = 0; i < SP_HTTPD_CONNS; i++)
		if (h->subs[i] != NULL && h->subs[i]->synced != h->gen)
			return 0;
	return 1;
}

int
sp_httpd_wait_streams(struct sp_httpd *h, uint64_t timeout_us,
		      int (*stop)(void))
{
	int all;

	pthread_mutex_lock(&h->mu);
	all = sp_httpd_wait(h, timeout_us, stop, sp_httpd_streams_synced,
			    NULL);
	pthread_mutex_unlock(&h->mu);
	return all;
}

void
sp_httpd_close(struct sp_httpd *h)
{
	if (h == NULL)
		return;
	/* Streams waiting for an event end now, or stopping the daemon
	 * would wait for their next keep-alive. */
	pthread_mutex_lock(&h->mu);
	h->closing = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	else if (h->fd >= 0)
		close(h->fd);
	for (unsigned i = 0; i < h->ndocs; i++)
		free(h->doc[i].body);
	for (unsigned i = 0; i < h->nslots; i++)
		free(h->slot[i].text);
	free(h->log);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
