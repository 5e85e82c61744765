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

struct sp_httpd {
	int fd; /* the listening socket until the daemon owns it */
	struct MHD_Daemon *d;
	char addr[INET6_ADDRSTRLEN + 8];
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a response of a document went out */
	struct sp_httpd_doc doc[SP_HTTPD_DOCS];
	unsigned ndocs;
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
	(void)upload_data_size;
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
	if (q == NULL)
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
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
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

int
sp_httpd_wait_latest(struct sp_httpd *h, const char *path, uint64_t timeout_us,
		     int (*stop)(void))
{
	struct timespec now, end, slice;
	struct sp_httpd_doc *d;
	int got = 0;

	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += (time_t)(timeout_us / 1000000);
	end.tv_nsec += (long)(timeout_us % 1000000) * 1000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->mu);
	for (;;) {
		d = sp_httpd_find(h, path);
		got = d != NULL && d->served_latest != 0;
		if (got || (stop != NULL && stop()))
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		slice = now;
		slice.tv_nsec += SP_HTTPD_POLL_NS;
		if (slice.tv_nsec >= 1000000000) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000;
		}
		if (slice.tv_sec > end.tv_sec ||
		    (slice.tv_sec == end.tv_sec && slice.tv_nsec > end.tv_nsec))
			slice = end;
		pthread_cond_timedwait(&h->cv, &h->mu, &slice);
	}
	pthread_mutex_unlock(&h->mu);
	return got;
}

void
sp_httpd_close(struct sp_httpd *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	else if (h->fd >= 0)
		close(h->fd);
	for (unsigned i = 0; i < h->ndocs; i++)
		free(h->doc[i].body);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
