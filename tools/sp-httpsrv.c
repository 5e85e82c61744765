/*
 * sp-httpsrv: a small scripted HTTP/1.1 server for the tests, hostile on
 * request.
 *
 * The generator's HTTP client must be right against well-behaved servers and
 * must survive broken ones. nginx covers the first only; this server answers
 * by path with exactly the framing a test asks for:
 *
 *   /len/N        200, Content-Length N, N bytes of 'a'..'z' cycling
 *   /chunked/N    200, chunked: sizes 1, 7, 100, 1000, 4096 repeating, an
 *                 extension on every second chunk, trailer X-Trailer: yes
 *   /close/N      200, Connection: close, body delimited by the close
 *   /status/CODE  that status (200..599), short body (none for HEAD/204/304)
 *   /interim      100 Continue, 103 Early Hints, then 200 with 5 bytes
 *   /garbage /truncated /bighdr /badchunk /truncbody/N   hostile, then close
 *   /badchunklf   a chunk size line ended by a bare LF, then close
 *   /upgrade      101 Switching Protocols to a request that asked for none
 *   /barelf       200 with 2 bytes, head lines ended by bare LFs (a
 *                 leniency clients may accept), connection kept
 *   /silent       never answers; closes when the client does
 *   /delay/MS/REST wait MS milliseconds (0..60000) once the request is
 *                 read, then answer as for /REST; logged with the full path
 *   anything else 404
 *
 * A listener with close-after=K closes (plain close(), no Connection: close)
 * each connection once its K-th response is written: the server that drops
 * keep-alive connections mid-run.
 *
 * A listener with capacity=SLOTS:US is a server of designed capacity: every
 * request on it (whatever its path) is served by one of SLOTS service slots,
 * which stays busy for exactly US microseconds from the moment it takes the
 * request; requests that find no free slot wait in a FIFO queue (unbounded,
 * its depth counted); the answer (200, "200 OK\n", keep-alive) goes out when
 * the service ends. Its capacity is SLOTS / US requests per microsecond (4:1000
 * is 4,000/s) whatever the load, so a capacity search can be checked against
 * a known answer. The service times are exact: the wait's timer is a timerfd
 * at an absolute deadline (microseconds, not epoll_wait's milliseconds), and
 * a slot with a queue behind it starts the next service at the previous
 * one's scheduled end, not when the loop got round to it, so late wake-ups
 * delay single answers but never lower the rate. A client that goes away
 * while its request waits gives its place up; one that goes away in service
 * leaves the slot busy to the end of that service.
 *
 * Every response is logged as one line "PORT TARGET STATUS BODYBYTES" with
 * one write(2) on an O_APPEND descriptor, so the log is complete whenever the
 * process stops, even on SIGKILL. A response cut short by the peer gets a
 * fifth field, "aborted", and BODYBYTES then counts the bytes that reached
 * the kernel after the head. A capacity listener's served requests have
 * four more: "wait=US start=US end=US depth=N", the time in the queue, the
 * service's start and end (CLOCK_MONOTONIC, microseconds; end - start is
 * the service time), and how many requests were in the listener's slots
 * and queue when it arrived.
 *
 * Level-triggered epoll, non-blocking sockets, no threads. Each connection
 * gets one allocation at accept (its input and output buffers); bodies are
 * generated into the output buffer as it drains, so a 1 GiB response costs
 * no memory. Responses on a connection go out one at a time: the next
 * pipelined request is read only once the previous response is fully handed
 * to the kernel, which is what makes "fully written" exact for the log and
 * for close-after.
 *
 * Delayed answers never block the loop: a waiting connection sits in a
 * min-heap of deadlines (CLOCK_MONOTONIC), the earliest deadline bounds
 * epoll_wait's timeout, and the ones due are answered after each wake-up.
 * Thousands may wait at once: O(log n) per wait, nothing per tick.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "srvutil.h"

/* A request head (request line and headers) must fit here, else 431. */
#define HTTPSRV_IN_SIZE (16 * 1024)
/* Holds any head we send and one whole 4096-byte chunk with its framing. */
#define HTTPSRV_OUT_SIZE (8 * 1024)
#define HTTPSRV_MAX_LISTEN 16
#define HTTPSRV_MAX_EVENTS 256
/* Rounds of read/write per event, so that one busy connection cannot starve
 * the others: level-triggered epoll brings it back next time. */
#define HTTPSRV_ROUNDS 16
/* The request target as logged; longer ones are cut. */
#define HTTPSRV_TARGET_MAX 256
#define HTTPSRV_BIGHDR_SIZE (1024 * 1024)
/* The largest chunk header we write: "1000;ext=1\r\n", and the CRLF after. */
#define HTTPSRV_CHUNK_FRAMING 16
#define HTTPSRV_DELAY_MAX_MS 60000
/* The path a delayed request answers once its wait is over; longer ones
 * get a 414 at once. */
#define HTTPSRV_DELAY_PATH_MAX 256
/* capacity=SLOTS:US bounds */
#define HTTPSRV_CAP_MAX_SLOTS 4096
#define HTTPSRV_CAP_MAX_US 60000000ul

static const unsigned httpsrv_chunk_sizes[] = { 1, 7, 100, 1000, 4096 };
#define HTTPSRV_NCHUNK_SIZES                                                   \
	(sizeof(httpsrv_chunk_sizes) / sizeof(httpsrv_chunk_sizes[0]))

enum httpsrv_kind {
	HTTPSRV_SIGNAL,
	HTTPSRV_LISTEN,
	HTTPSRV_CONN,
	HTTPSRV_TIMER,
};

/* What follows the head of the response in progress. */
enum httpsrv_gen {
	HTTPSRV_GEN_NONE,    /* nothing: the head was all */
	HTTPSRV_GEN_PATTERN, /* left bytes of 'a'..'z' cycling */
	HTTPSRV_GEN_FILL_X,  /* left bytes of 'x' (/bighdr) */
	HTTPSRV_GEN_CHUNKED, /* left payload bytes as chunks, then trailer */
};

struct httpsrv_conn;
struct httpsrv_pool;

/* One service slot of a capacity listener. */
struct httpsrv_slot {
	struct srv_timer tm; /* armed while busy: the service's end */
	struct httpsrv_pool *pool;
	struct httpsrv_conn *c; /* NULL: free, or its client left */
};

/* A capacity listener's slots and queue. */
struct httpsrv_pool {
	unsigned nslots;
	uint64_t service_us;
	struct httpsrv_slot *slot;
	unsigned *free_idx; /* a stack of the free slots' indexes */
	unsigned nfree;
	/* Requests waiting for a slot, oldest first. */
	struct httpsrv_conn *qhead, *qtail;
	unsigned long qlen, qmax;
	unsigned long served, gave_up;
};

struct httpsrv_listener {
	struct srv_obj obj;        /* first: the epoll data pointer */
	unsigned port;             /* for the log */
	unsigned long close_after; /* 0: never */
	struct httpsrv_pool *pool; /* NULL: not a capacity listener */
};

enum httpsrv_cap_state {
	HTTPSRV_CAP_NONE,
	HTTPSRV_CAP_QUEUED,
	HTTPSRV_CAP_SERVING,
};

struct httpsrv_conn {
	struct srv_obj obj;   /* first: the epoll data pointer */
	struct srv_link link; /* all connections, for shutdown */
	const struct httpsrv_listener *lst;
	uint32_t events;         /* current epoll interest */
	int peer_eof;            /* read returned 0 */
	int silent;              /* /silent seen: read and drop until EOF */
	int draining;            /* SHUT_WR sent: read and drop until EOF */
	unsigned long responses; /* fully written, for close-after */
	uint64_t discard;        /* request body bytes still to skip */

	/* /delay: waiting to answer delay_path while tm is armed */
	struct srv_timer tm;
	int delay_head; /* the request was HEAD */
	size_t delay_len;
	char delay_path[HTTPSRV_DELAY_PATH_MAX];

	/* A capacity listener's request: its place, and its times for the
	 * log (cap_logged: the response in progress is one). */
	enum httpsrv_cap_state cap_state;
	struct httpsrv_conn *qprev, *qnext;
	struct httpsrv_slot *cap_slot;
	int cap_head;
	int cap_logged;
	unsigned long cap_depth;
	uint64_t cap_arrive, cap_start, cap_end;

	/* The response in progress. */
	int active;
	int closing; /* shut down the write side after it */
	enum httpsrv_gen gen;
	uint64_t left;  /* body bytes still to generate */
	uint64_t phase; /* body bytes generated so far */
	unsigned chunk_idx;
	const char *tail;    /* static bytes after the body, or NULL */
	int status;          /* for the log; 0: not HTTP */
	uint64_t body_bytes; /* for the log */
	uint64_t head_len;   /* bytes before the body */
	uint64_t sent;       /* bytes handed to the kernel */
	char target[HTTPSRV_TARGET_MAX];

	/* Buffers last: only their first pages get touched by most
	 * connections, so 20,000 idle ones stay cheap. */
	size_t in_start; /* unparsed input is [in_start, in_len) */
	size_t in_len;
	size_t out_head; /* output waiting is [out_head, out_tail) */
	size_t out_tail;
	char out[HTTPSRV_OUT_SIZE];
	char in[HTTPSRV_IN_SIZE];
};

struct httpsrv {
	struct srv_base b;
	struct srv_obj sig;
	struct httpsrv_listener lst[HTTPSRV_MAX_LISTEN];
	unsigned nlst;
	struct srv_link *conns;
	unsigned long nconns;
	/* Waiting connections, by deadline. */
	struct srv_heap heap;
	/* Busy service slots, by the end of their service. */
	struct srv_heap cap_heap;
	/* The wait's timer: armed at the earliest deadline of both heaps
	 * (tfd_at; UINT64_MAX: disarmed). */
	struct srv_obj tfd;
	uint64_t tfd_at;
};

/* Connections a test may ask one instance to hold. */
#define SRV_WANT_CONNS 20000ul
static char scratch[64 * 1024];
/* 'a'..'z' repeated, long enough that any phase has a full buffer after it. */
static char pattern[HTTPSRV_OUT_SIZE + 26];
static char fill_x[HTTPSRV_OUT_SIZE];

/* /garbage: an SSH banner, a blank line, then bytes no parser should like.
 * Fixed, so a failing test is reproducible. */
static const char garbage[] =
	"SSH-2.0-OpenSSH\r\n\r\n"
	"\x8f\x03\xd1\x00\x7fZ\xe2\x19\xa4\xff\x00\x11\r\n\xc3(\x9b\x02"
	"\x00\x00\x00\x0c\x0a\x14\xb7\x5e\x91\xee\x42\x08\xfe\x80\x00\x01";

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: %s --listen ADDR:PORT[,OPTION...] [--listen ...]\n"
		"          [--log FILE] [--pidfile FILE] [--backlog N]\n"
		"  --listen ADDR:PORT  listen there (IPv6 as [ADDR]:PORT); repeatable.\n"
		"                      close-after=K: close every connection after its\n"
		"                      K-th response, without Connection: close\n"
		"                      capacity=SLOTS:US: every request (any path) is\n"
		"                      served by one of SLOTS slots, each busy US\n"
		"                      microseconds per request; the rest wait in a\n"
		"                      FIFO queue; 200 when the service ends\n"
		"  --log FILE          append 'PORT TARGET STATUS BODYBYTES' per response\n"
		"                      (STATUS 0: not HTTP; a fifth field 'aborted' when\n"
		"                      the peer went away mid-response; capacity:\n"
		"                      'wait=US start=US end=US depth=N' after)\n"
		"  --pidfile FILE      write the pid here once listening; removed on exit\n"
		"  --backlog N         listen backlog (default 4096)\n"
		"paths: /len/N /chunked/N /close/N /status/CODE /interim /silent\n"
		"       /delay/MS/PATH (MS 0..60000, then as for /PATH)\n"
		"       hostile: /garbage /truncated /bighdr /badchunk /truncbody/N\n"
		"                /badchunklf /upgrade /barelf\n"
		"       anything else: 404\n",
		srv_prog);
}

/* Decimal digits only, the whole of [s, s + len): no sign, no spaces. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 18) /* 18 digits cannot overflow */
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
epoll_set(struct httpsrv *s, int op, struct srv_obj *o, uint32_t events)
{
	return srv_epoll(&s->b, op, o->fd, o, events);
}

/* The slots and queue of capacity=SLOTS:US ("SLOTS:US" in @arg). */
static struct httpsrv_pool *
pool_new(const char *arg)
{
	unsigned long slots, us;
	struct httpsrv_pool *p;
	const char *colon = strchr(arg, ':');
	char num[24];
	unsigned i;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(num))
		return NULL;
	memcpy(num, arg, (size_t)(colon - arg));
	num[colon - arg] = '\0';
	if (parse_ulong(num, HTTPSRV_CAP_MAX_SLOTS, &slots) != 0 ||
	    slots == 0 ||
	    parse_ulong(colon + 1, HTTPSRV_CAP_MAX_US, &us) != 0 || us == 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->slot = calloc(slots, sizeof(*p->slot));
	p->free_idx = calloc(slots, sizeof(*p->free_idx));
	if (p->slot == NULL || p->free_idx == NULL) {
		free(p->slot);
		free(p->free_idx);
		free(p);
		return NULL;
	}
	p->nslots = (unsigned)slots;
	p->service_us = us;
	/* Taken from the top: slot 0 first. */
	for (i = 0; i < p->nslots; i++) {
		p->slot[i].pool = p;
		p->free_idx[i] = p->nslots - 1 - i;
	}
	p->nfree = p->nslots;
	return p;
}

static void
pool_free(struct httpsrv_pool *p)
{
	if (p == NULL)
		return;
	free(p->slot);
	free(p->free_idx);
	free(p);
}

/* "ADDR:PORT" or "[ADDR6]:PORT", then optionally ",close-after=K" and
 * ",capacity=SLOTS:US". */
static int
open_listener(struct httpsrv *s, struct httpsrv_listener *l, const char *arg,
	      int backlog)
{
	char buf[128], *opt, *next;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned long v = 0;

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	opt = strchr(buf, ',');
	if (opt != NULL)
		*opt++ = '\0';
	for (; opt != NULL; opt = next) {
		next = strchr(opt, ',');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(opt, "close-after=", 12) == 0) {
			if (parse_ulong(opt + 12, 1UL << 30, &v) != 0 ||
			    v == 0)
				goto bad;
		} else if (strncmp(opt, "capacity=", 9) == 0 &&
			   l->pool == NULL) {
			l->pool = pool_new(opt + 9);
			if (l->pool == NULL)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (srv_parse_addr(buf, &ss, &sl) != 0)
		goto bad;
	l->close_after = v;
	/* sin_port and sin6_port sit at the same offset. */
	l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	l->obj.kind = HTTPSRV_LISTEN;
	l->obj.fd = srv_listen(&s->b, buf, backlog, &l->obj);
	return l->obj.fd < 0 ? -1 : 0;
bad:
	logerr("bad --listen: %s", arg);
	return -1;
}

static void
log_response(struct httpsrv *s, const struct httpsrv_conn *c, uint64_t body,
	     int aborted)
{
	/* One write per line on O_APPEND: a line is never torn, and nothing
	 * sits in a stdio buffer when a signal ends us. */
	if (c->cap_logged && !aborted)
		srv_log(&s->b, "%u %s %d %llu wait=%llu start=%llu end=%llu "
			       "depth=%lu",
			c->lst->port, c->target[0] != '\0' ? c->target : "-",
			c->status, (unsigned long long)body,
			(unsigned long long)(c->cap_start - c->cap_arrive),
			(unsigned long long)c->cap_start,
			(unsigned long long)c->cap_end, c->cap_depth);
	else
		srv_log(&s->b, "%u %s %d %llu%s", c->lst->port,
			c->target[0] != '\0' ? c->target : "-", c->status,
			(unsigned long long)body, aborted ? " aborted" : "");
}

/* Take c's request out of its listener's queue or slot: it will not be
 * answered. A slot in service stays busy to its end (the work is under
 * way); it only forgets whom it was for. */
static void
cap_forget(struct httpsrv_conn *c)
{
	struct httpsrv_pool *p = c->lst->pool;

	if (c->cap_state == HTTPSRV_CAP_QUEUED) {
		if (c->qprev != NULL)
			c->qprev->qnext = c->qnext;
		else
			p->qhead = c->qnext;
		if (c->qnext != NULL)
			c->qnext->qprev = c->qprev;
		else
			p->qtail = c->qprev;
		p->qlen--;
		p->gave_up++;
	} else if (c->cap_state == HTTPSRV_CAP_SERVING) {
		c->cap_slot->c = NULL;
		p->gave_up++;
	}
	c->cap_state = HTTPSRV_CAP_NONE;
	c->cap_slot = NULL;
}

static void
conn_close(struct httpsrv *s, struct httpsrv_conn *c)
{
	srv_timer_stop(&s->heap, &c->tm);
	cap_forget(c);
	/* close() also removes the fd from the epoll set. */
	close(c->obj.fd);
	srv_link_del(&s->conns, &c->link);
	s->nconns--;
	free(c);
}

/* The peer went away or the socket failed: account for a response cut short,
 * then drop the connection. */
static void
conn_abort(struct httpsrv *s, struct httpsrv_conn *c)
{
	if (c->active)
		log_response(s, c,
			     c->sent > c->head_len ? c->sent - c->head_len : 0,
			     1);
	else if (c->tm.armed || c->cap_state != HTTPSRV_CAP_NONE)
		log_response(s, c, 0, 1); /* status 0: never answered */
	conn_close(s, c);
}

static void
accept_all(struct httpsrv *s, struct httpsrv_listener *l)
{
	struct httpsrv_conn *c;
	char peer[64];
	int fd;

	while ((fd = srv_accept(&s->b, l->obj.fd, peer, sizeof(peer), 1)) >=
	       0) {
		/* Only the bookkeeping is cleared: the buffers are written
		 * before they are read, and leaving them alone keeps their
		 * pages untouched until used. */
		c = malloc(sizeof(*c));
		if (c == NULL) {
			logerr("out of memory, dropped a connection");
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct httpsrv_conn, out));
		c->obj.kind = HTTPSRV_CONN;
		c->obj.fd = fd;
		c->lst = l;
		c->events = EPOLLIN;
		/* Interim responses and small answers go out at once:
		 * srv_accept set TCP_NODELAY. */
		if (epoll_set(s, EPOLL_CTL_ADD, &c->obj, c->events) != 0) {
			logerr("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		srv_link_add(&s->conns, &c->link);
		s->nconns++;
	}
}

static size_t
out_room(const struct httpsrv_conn *c)
{
	return HTTPSRV_OUT_SIZE - c->out_tail;
}

/* Heads are formatted only into an empty buffer and are far smaller than
 * it; a head that does not fit is a bug here, so it is cut, not grown. */
static void out_fmt(struct httpsrv_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
out_fmt(struct httpsrv_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_tail, out_room(c), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= out_room(c))
		n = (int)out_room(c) - 1;
	c->out_tail += (size_t)n;
}

static void
out_put(struct httpsrv_conn *c, const char *p, size_t n)
{
	memcpy(c->out + c->out_tail, p, n);
	c->out_tail += n;
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 103:
		return "Early Hints";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

static const char *
conn_hdr(const struct httpsrv_conn *c)
{
	return c->closing ? "Connection: close\r\n" : "";
}

/* Start a response whose whole head is now in the output buffer. */
static void
resp_begin(struct httpsrv_conn *c, int status, enum httpsrv_gen gen,
	   uint64_t body)
{
	c->active = 1;
	c->status = status;
	c->gen = gen;
	c->left = gen == HTTPSRV_GEN_NONE ? 0 : body;
	c->phase = 0;
	c->chunk_idx = 0;
	c->tail = NULL;
	c->body_bytes = body;
	c->head_len = c->out_tail - c->out_head;
	c->sent = 0;
}

/* A response with a Content-Length and a short text body, HEAD-aware;
 * 1xx, 204 and 304 have neither body nor length (RFC 9110 8.6, 15.3.5). */
static void
resp_simple(struct httpsrv_conn *c, int status, int head)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
			 status_reason(status));

	if (status == 204 || status == 304) {
		out_fmt(c, "HTTP/1.1 %d %s\r\nServer: sp-httpsrv\r\n%s\r\n",
			status, status_reason(status), conn_hdr(c));
		resp_begin(c, status, HTTPSRV_GEN_NONE, 0);
		return;
	}
	out_fmt(c,
		"HTTP/1.1 %d %s\r\nServer: sp-httpsrv\r\n"
		"Content-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n",
		status, status_reason(status), n, conn_hdr(c));
	if (head) {
		resp_begin(c, status, HTTPSRV_GEN_NONE, 0);
		return;
	}
	out_put(c, body, (size_t)n);
	resp_begin(c, status, HTTPSRV_GEN_NONE, (uint64_t)n);
	/* The body went in with the head. */
	c->head_len -= (uint64_t)n;
}

/* For requests we cannot read on: answer, then close. */
static void
resp_error(struct httpsrv_conn *c, int status)
{
	c->closing = 1;
	c->in_start = c->in_len;
	c->discard = 0;
	resp_simple(c, status, 0);
}

/* Is "prefix" followed by a number the whole path? */
static int
path_num(const char *path, size_t len, const char *prefix, uint64_t *n)
{
	size_t plen = strlen(prefix);

	return len > plen && memcmp(path, prefix, plen) == 0 &&
	       parse_u64(path + plen, len - plen, n) == 0;
}

static int
path_is(const char *path, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(path, want, len) == 0;
}

/* Choose and start the response for one request; /silent starts none. */
static void
route(struct httpsrv *s, struct httpsrv_conn *c, const char *path, size_t len,
      int head)
{
	uint64_t n;

	if (len > 7 && memcmp(path, "/delay/", 7) == 0) {
		const char *rest = memchr(path + 7, '/', len - 7);

		if (rest == NULL ||
		    parse_u64(path + 7, (size_t)(rest - path - 7), &n) != 0 ||
		    n > HTTPSRV_DELAY_MAX_MS) {
			resp_simple(c, 404, head);
			return;
		}
		len -= (size_t)(rest - path);
		if (len > sizeof(c->delay_path)) {
			resp_simple(c, 414, head);
			return;
		}
		/* The request buffer moves on: keep the path to answer. */
		memcpy(c->delay_path, rest, len);
		c->delay_len = len;
		c->delay_head = head;
		c->status = 0;
		if (srv_timer_set(&s->heap, &c->tm, srv_now_us() + n * 1000) !=
		    0)
			resp_simple(c, 503, head);
		return;
	}
	if (path_num(path, len, "/len/", &n)) {
		out_fmt(c,
			"HTTP/1.1 200 OK\r\nServer: sp-httpsrv\r\n"
			"Content-Type: text/plain\r\nContent-Length: %llu\r\n"
			"%s\r\n",
			(unsigned long long)n, conn_hdr(c));
		resp_begin(c, 200,
			   head ? HTTPSRV_GEN_NONE : HTTPSRV_GEN_PATTERN,
			   head ? 0 : n);
	} else if (path_num(path, len, "/chunked/", &n)) {
		/* Announce the trailer field (RFC 9110 6.6.2). */
		out_fmt(c,
			"HTTP/1.1 200 OK\r\nServer: sp-httpsrv\r\n"
			"Content-Type: text/plain\r\n"
			"Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n"
			"%s\r\n",
			conn_hdr(c));
		resp_begin(c, 200,
			   head ? HTTPSRV_GEN_NONE : HTTPSRV_GEN_CHUNKED,
			   head ? 0 : n);
	} else if (path_num(path, len, "/close/", &n)) {
		/* No length, no chunking: only the close ends the body
		 * (RFC 9112 6.3, rule 8). */
		c->closing = 1;
		out_fmt(c,
			"HTTP/1.1 200 OK\r\nServer: sp-httpsrv\r\n"
			"Content-Type: text/plain\r\nConnection: close\r\n\r\n");
		resp_begin(c, 200,
			   head ? HTTPSRV_GEN_NONE : HTTPSRV_GEN_PATTERN,
			   head ? 0 : n);
	} else if (path_num(path, len, "/status/", &n) && n >= 200 &&
		   n <= 599) {
		resp_simple(c, (int)n, head);
	} else if (path_is(path, len, "/interim")) {
		out_fmt(c,
			"HTTP/1.1 100 Continue\r\n\r\n"
			"HTTP/1.1 103 Early Hints\r\n"
			"Link: </style.css>; rel=preload; as=style\r\n\r\n"
			"HTTP/1.1 200 OK\r\nServer: sp-httpsrv\r\n"
			"Content-Type: text/plain\r\nContent-Length: 5\r\n"
			"%s\r\n",
			conn_hdr(c));
		resp_begin(c, 200,
			   head ? HTTPSRV_GEN_NONE : HTTPSRV_GEN_PATTERN,
			   head ? 0 : 5);
	} else if (path_is(path, len, "/garbage")) {
		c->closing = 1;
		out_put(c, garbage, sizeof(garbage) - 1);
		resp_begin(c, 0, HTTPSRV_GEN_NONE, sizeof(garbage) - 1);
		c->head_len = 0;
	} else if (path_is(path, len, "/truncated")) {
		c->closing = 1;
		out_fmt(c, "HTTP/1.1 200 OK\r\nContent-Le");
		resp_begin(c, 200, HTTPSRV_GEN_NONE, 0);
	} else if (path_is(path, len, "/bighdr")) {
		/* A head no client should buffer whole; all of it is head, so
		 * the body is 0 however far it got. */
		c->closing = 1;
		out_fmt(c, "HTTP/1.1 200 OK\r\nX-Big: ");
		resp_begin(c, 200, HTTPSRV_GEN_FILL_X, HTTPSRV_BIGHDR_SIZE);
		c->tail = "\r\nContent-Length: 0\r\n\r\n";
		c->body_bytes = 0;
		c->head_len = UINT64_MAX;
	} else if (path_is(path, len, "/badchunk")) {
		static const char bad[] = "zz\r\nhello\r\n0\r\n\r\n";

		c->closing = 1;
		out_fmt(c, "HTTP/1.1 200 OK\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n");
		resp_begin(c, 200, HTTPSRV_GEN_NONE, sizeof(bad) - 1);
		out_put(c, bad, sizeof(bad) - 1);
	} else if (path_is(path, len, "/badchunklf")) {
		/* RFC 9112 7.1: chunk lines end in CRLF; the bare-LF leniency
		 * of 2.2 is for the start line and fields only. */
		static const char bad[] = "5\nhello\r\n0\r\n\r\n";

		c->closing = 1;
		out_fmt(c, "HTTP/1.1 200 OK\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n");
		resp_begin(c, 200, HTTPSRV_GEN_NONE, sizeof(bad) - 1);
		out_put(c, bad, sizeof(bad) - 1);
	} else if (path_is(path, len, "/upgrade")) {
		c->closing = 1;
		out_fmt(c, "HTTP/1.1 101 Switching Protocols\r\n"
			   "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
		resp_begin(c, 101, HTTPSRV_GEN_NONE, 0);
	} else if (path_is(path, len, "/barelf")) {
		out_fmt(c, "HTTP/1.1 200 OK\nServer: sp-httpsrv\n"
			   "Content-Length: 2\n\n");
		resp_begin(c, 200,
			   head ? HTTPSRV_GEN_NONE : HTTPSRV_GEN_PATTERN,
			   head ? 0 : 2);
	} else if (path_num(path, len, "/truncbody/", &n)) {
		c->closing = 1;
		out_fmt(c,
			"HTTP/1.1 200 OK\r\nServer: sp-httpsrv\r\n"
			"Content-Type: text/plain\r\nContent-Length: %llu\r\n"
			"\r\n",
			(unsigned long long)n);
		resp_begin(c, 200, HTTPSRV_GEN_PATTERN, n / 2);
	} else if (path_is(path, len, "/silent")) {
		c->status = 0;
		log_response(s, c, 0, 0);
		c->silent = 1;
		c->in_start = c->in_len = 0;
	} else {
		resp_simple(c, 404, head);
	}
}

/* Slot @sl takes c's request at @start: busy until start + service.
 * 0, or -1 after starting a 503 instead (the caller writes it). */
static int
slot_take(struct httpsrv *s, struct httpsrv_slot *sl, struct httpsrv_conn *c,
	  uint64_t start)
{
	c->cap_state = HTTPSRV_CAP_SERVING;
	c->cap_slot = sl;
	c->cap_start = start;
	c->cap_end = start + sl->pool->service_us;
	sl->c = c;
	/* main made the heap room for every slot: this cannot fail, and
	 * if it does, the slot is lost, not the request. */
	if (srv_timer_set(&s->cap_heap, &sl->tm, c->cap_end) != 0) {
		logerr("out of memory for a service slot's timer");
		sl->c = NULL;
		c->cap_state = HTTPSRV_CAP_NONE;
		c->cap_slot = NULL;
		resp_simple(c, 503, c->cap_head);
		return -1;
	}
	return 0;
}

/* A request on a capacity listener: a free slot takes it now, else it
 * joins the end of the queue. */
static void
cap_arrive(struct httpsrv *s, struct httpsrv_conn *c, int head)
{
	struct httpsrv_pool *p = c->lst->pool;

	c->status = 0;
	c->cap_head = head;
	c->cap_arrive = srv_now_us();
	c->cap_depth = p->nslots - p->nfree + p->qlen;
	if (p->nfree > 0) {
		/* On failure its 503 is written by conn_service, whose
		 * request_next brought us here. */
		(void)slot_take(s, &p->slot[p->free_idx[--p->nfree]], c,
				c->cap_arrive);
		return;
	}
	c->cap_state = HTTPSRV_CAP_QUEUED;
	c->qnext = NULL;
	c->qprev = p->qtail;
	if (p->qtail != NULL)
		p->qtail->qnext = c;
	else
		p->qhead = c;
	p->qtail = c;
	if (++p->qlen > p->qmax)
		p->qmax = p->qlen;
}

/* Parse one complete head [p, p + len) (it ends in CRLF CRLF) and start
 * the answer. Requests are read the way RFC 9112 asks of a server, minus
 * what a test server need not do: no obs-fold, no absolute-form, request
 * bodies by Content-Length only. */
static void
request_head(struct httpsrv *s, struct httpsrv_conn *c, const char *p,
	     size_t len)
{
	const char *end = p + len - 2; /* the final CRLF */
	const char *line, *eol, *sp1, *sp2, *path, *q;
	int keep_alive, conn_close_tok = 0, conn_keep_tok = 0, head;
	int have_cl = 0, have_te = 0;
	uint64_t cl = 0;
	size_t i, plen, tlen;

	eol = memmem(p, len, "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) :
			    NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == p || sp2 == sp1 + 1 ||
	    eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1')) {
		c->target[0] = '\0';
		resp_error(c, 400);
		return;
	}
	/* HTTP/1.1 defaults to persistent, 1.0 to close (RFC 9112 9.3). */
	keep_alive = sp2[8] == '1';
	head = sp1 - p == 4 && memcmp(p, "HEAD", 4) == 0;

	/* The target as logged: printable, no spaces, cut to fit. */
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen > HTTPSRV_TARGET_MAX - 1)
		tlen = HTTPSRV_TARGET_MAX - 1;
	for (i = 0; i < tlen; i++) {
		unsigned char ch = (unsigned char)sp1[1 + i];

		c->target[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	c->target[tlen] = '\0';
	path = sp1 + 1;
	q = memchr(path, '?', (size_t)(sp2 - path));
	plen = (size_t)((q != NULL ? q : sp2) - path);

	for (line = eol + 2; line < end; line = eol + 2) {
		const char *colon, *v, *ve;
		size_t nlen;

		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || colon == line) {
			resp_error(c, 400);
			return;
		}
		nlen = (size_t)(colon - line);
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (nlen == 14 &&
		    strncasecmp(line, "content-length", 14) == 0) {
			uint64_t v64;

			/* Differing repeats make the framing ambiguous
			 * (RFC 9112 6.3, rule 5). */
			if (parse_u64(v, (size_t)(ve - v), &v64) != 0 ||
			    (have_cl && v64 != cl)) {
				resp_error(c, 400);
				return;
			}
			cl = v64;
			have_cl = 1;
		} else if (nlen == 17 &&
			   strncasecmp(line, "transfer-encoding", 17) == 0) {
			have_te = 1;
		} else if (nlen == 10 &&
			   strncasecmp(line, "connection", 10) == 0) {
			conn_close_tok |= srv_list_has(v, (size_t)(ve - v),
						       "close");
			conn_keep_tok |= srv_list_has(v, (size_t)(ve - v),
						      "keep-alive");
		}
	}
	if (have_te) {
		/* We only skip bodies by length (RFC 9112 6.1: 501 for a
		 * transfer coding not understood). */
		resp_error(c, 501);
		return;
	}
	if (conn_close_tok)
		keep_alive = 0;
	else if (conn_keep_tok)
		keep_alive = 1;
	c->closing = !keep_alive;
	c->discard = cl;
	if (c->lst->pool != NULL)
		cap_arrive(s, c, head);
	else
		route(s, c, path, plen, head);
}

/* Take the next request from the input buffer, if a whole head is there.
 * Returns 1 when anything was consumed. */
static int
request_next(struct httpsrv *s, struct httpsrv_conn *c)
{
	size_t before = c->in_start;
	const char *p, *e;
	size_t n, hlen;

	if (c->discard > 0) {
		n = c->in_len - c->in_start;
		if (n > c->discard)
			n = (size_t)c->discard;
		c->in_start += n;
		c->discard -= n;
		if (c->discard > 0)
			return c->in_start != before;
	}
	/* Empty lines before a request line are to be ignored (RFC 9112
	 * 2.2). */
	while (c->in_start < c->in_len &&
	       (c->in[c->in_start] == '\r' || c->in[c->in_start] == '\n'))
		c->in_start++;
	p = c->in + c->in_start;
	n = c->in_len - c->in_start;
	e = n >= 4 ? memmem(p, n, "\r\n\r\n", 4) : NULL;
	if (e == NULL) {
		if (n >= HTTPSRV_IN_SIZE) {
			c->target[0] = '\0';
			resp_error(c, 431);
			return 1;
		}
		return c->in_start != before;
	}
	hlen = (size_t)(e - p) + 4;
	c->in_start += hlen;
	request_head(s, c, p, hlen);
	return 1;
}

/* Generate body bytes into the free end of the output buffer. Returns 1 if
 * it added anything. */
static int
body_gen_fill(struct httpsrv_conn *c)
{
	size_t room, n;
	int added = 0;

	switch (c->gen) {
	case HTTPSRV_GEN_NONE:
		break;
	case HTTPSRV_GEN_PATTERN:
	case HTTPSRV_GEN_FILL_X:
		room = out_room(c);
		n = c->left < room ? (size_t)c->left : room;
		if (n == 0)
			break;
		if (c->gen == HTTPSRV_GEN_PATTERN)
			out_put(c, pattern + c->phase % 26, n);
		else
			out_put(c, fill_x, n);
		c->left -= n;
		c->phase += n;
		added = 1;
		break;
	case HTTPSRV_GEN_CHUNKED:
		/* Whole chunks only: a chunk and its framing always fit in an
		 * empty buffer. */
		while (c->left > 0) {
			size_t want = httpsrv_chunk_sizes[c->chunk_idx %
							  HTTPSRV_NCHUNK_SIZES];

			if (want > c->left)
				want = (size_t)c->left;
			if (out_room(c) < want + HTTPSRV_CHUNK_FRAMING)
				break;
			/* An extension on every second chunk: clients must
			 * skip them (RFC 9112 7.1.1). */
			out_fmt(c, "%zx%s\r\n", want,
				c->chunk_idx % 2 == 1 ? ";ext=1" : "");
			out_put(c, pattern + c->phase % 26, want);
			out_put(c, "\r\n", 2);
			c->left -= want;
			c->phase += want;
			c->chunk_idx++;
			added = 1;
		}
		if (c->left == 0) {
			static const char last[] =
				"0\r\nX-Trailer: yes\r\n\r\n";

			if (out_room(c) < sizeof(last) - 1)
				break;
			out_put(c, last, sizeof(last) - 1);
			c->gen = HTTPSRV_GEN_NONE;
			added = 1;
		}
		return added;
	}
	if (c->left == 0)
		c->gen = HTTPSRV_GEN_NONE;
	/* Tails are short: if there is no room yet, the next drain makes
	 * some. */
	if (c->gen == HTTPSRV_GEN_NONE && c->tail != NULL &&
	    out_room(c) >= strlen(c->tail)) {
		out_put(c, c->tail, strlen(c->tail));
		c->tail = NULL;
		added = 1;
	}
	return added;
}

/* Returns 1 on progress, 0 when the socket would block, -1 after closing c. */
static int
conn_write(struct httpsrv *s, struct httpsrv_conn *c)
{
	ssize_t n;

	if (c->out_head == c->out_tail)
		return 0;
	n = send(c->obj.fd, c->out + c->out_head, c->out_tail - c->out_head,
		 MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* EPIPE, ECONNRESET: the client left early, which hostile
		 * paths invite. */
		conn_abort(s, c);
		return -1;
	}
	c->out_head += (size_t)n;
	c->sent += (uint64_t)n;
	if (c->out_head == c->out_tail)
		c->out_head = c->out_tail = 0;
	return 1;
}

/* Returns 1 on progress, 0 when the socket would block, -1 after closing c. */
static int
conn_read(struct httpsrv *s, struct httpsrv_conn *c)
{
	ssize_t n;

	if (c->peer_eof)
		return 0;
	if (c->silent || c->draining) {
		n = read(c->obj.fd, scratch, sizeof(scratch));
	} else {
		if (c->in_start > 0) {
			memmove(c->in, c->in + c->in_start,
				c->in_len - c->in_start);
			c->in_len -= c->in_start;
			c->in_start = 0;
		}
		if (c->in_len == HTTPSRV_IN_SIZE)
			return 0;
		n = read(c->obj.fd, c->in + c->in_len,
			 HTTPSRV_IN_SIZE - c->in_len);
		if (n > 0)
			c->in_len += (size_t)n;
	}
	if (n > 0)
		return 1;
	if (n == 0) {
		c->peer_eof = 1;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	conn_abort(s, c);
	return -1;
}

/* The response is all in the kernel's hands. Returns 1 after closing c. */
static int
resp_done(struct httpsrv *s, struct httpsrv_conn *c)
{
	log_response(s, c, c->body_bytes, 0);
	c->cap_logged = 0;
	c->active = 0;
	c->responses++;
	if (c->lst->close_after != 0 && c->responses >= c->lst->close_after) {
		/* Deliberately abrupt: no Connection: close was promised. */
		conn_close(s, c);
		return 1;
	}
	if (c->closing) {
		/* Half-close and read to EOF before close(): closing with
		 * unread input would send RST and could destroy the answer
		 * before the client reads it (RFC 9112 9.6). */
		shutdown(c->obj.fd, SHUT_WR);
		c->draining = 1;
		c->in_start = c->in_len = 0;
	}
	return 0;
}

static void
conn_service(struct httpsrv *s, struct httpsrv_conn *c)
{
	uint32_t want;
	int round, r;

	for (round = 0; round < HTTPSRV_ROUNDS; round++) {
		int progress = 0;

		r = conn_read(s, c);
		if (r < 0)
			return;
		progress |= r;
		if (!c->active && !c->draining && !c->silent &&
		    !c->tm.armed && c->cap_state == HTTPSRV_CAP_NONE)
			progress |= request_next(s, c);
		if (c->active)
			progress |= body_gen_fill(c);
		r = conn_write(s, c);
		if (r < 0)
			return;
		progress |= r;
		if (c->active && c->gen == HTTPSRV_GEN_NONE &&
		    c->tail == NULL && c->out_head == c->out_tail) {
			if (resp_done(s, c))
				return;
			progress = 1;
		}
		if (!progress)
			break;
	}
	/* Nothing more can happen without the peer, and the peer is gone:
	 * whatever partial request is left will never complete. */
	if (round < HTTPSRV_ROUNDS && c->peer_eof && !c->active &&
	    !c->tm.armed) {
		/* A capacity request whose client left gives its place up
		 * (logged as aborted): an overloaded run ends with thousands
		 * queued, and serving them to nobody would keep the slots
		 * busy long after. */
		if (c->cap_state != HTTPSRV_CAP_NONE)
			conn_abort(s, c);
		else
			conn_close(s, c);
		return;
	}
	want = 0;
	if (!c->peer_eof && (c->silent || c->draining ||
			     c->in_len - c->in_start < HTTPSRV_IN_SIZE))
		want |= EPOLLIN;
	/* Out of rounds with work left: a writable socket (almost always)
	 * brings us back without waiting on the peer. */
	if (c->out_head != c->out_tail || round == HTTPSRV_ROUNDS)
		want |= EPOLLOUT;
	if (want != c->events) {
		c->events = want;
		if (epoll_set(s, EPOLL_CTL_MOD, &c->obj, want) != 0) {
			logerr("epoll_ctl: %s", strerror(errno));
			conn_abort(s, c);
		}
	}
}

/* Slot @sl's service has ended at @end (its scheduled time, which may be a
 * little past): answer its request, then take the queue's next one. */
static void
slot_done(struct httpsrv *s, struct httpsrv_slot *sl, uint64_t end)
{
	struct httpsrv_pool *p = sl->pool;
	struct httpsrv_conn *c = sl->c, *n = p->qhead;

	sl->c = NULL;
	if (n != NULL) {
		p->qhead = n->qnext;
		if (p->qhead != NULL)
			p->qhead->qprev = NULL;
		else
			p->qtail = NULL;
		p->qlen--;
		/* From the previous service's scheduled end, not from now:
		 * a late wake-up must not stretch the service. A request
		 * read after that end starts when it was read. */
		if (slot_take(s, sl, n,
			      end > n->cap_arrive ? end : n->cap_arrive) != 0)
			conn_service(s, n);
	} else {
		p->free_idx[p->nfree++] = (unsigned)(sl - p->slot);
	}
	if (c == NULL)
		return;
	c->cap_state = HTTPSRV_CAP_NONE;
	c->cap_slot = NULL;
	c->cap_logged = 1;
	p->served++;
	resp_simple(c, 200, c->cap_head);
	/* Writes the answer, and reads on (pipelined requests). */
	conn_service(s, c);
}

/* Answer every delayed request whose time has come, as for its path, and
 * end every service due. */
static void
delays_due(struct httpsrv *s)
{
	uint64_t now = srv_now_us();
	struct srv_timer *t;

	/* A slot that was late restarts in the past: the loop takes its
	 * next end at once if that is due too. */
	while ((t = srv_timer_due(&s->cap_heap, now)) != NULL)
		slot_done(s, srv_container_of(t, struct httpsrv_slot, tm),
			  t->deadline_us);
	while ((t = srv_timer_due(&s->heap, now)) != NULL) {
		struct httpsrv_conn *c = srv_container_of(
			t, struct httpsrv_conn, tm);

		route(s, c, c->delay_path, c->delay_len, c->delay_head);
		/* Writes the answer, and reads on (pipelined requests). */
		conn_service(s, c);
	}
}

/* epoll_wait until the earliest deadline of both heaps, to the
 * microsecond: the timerfd fires at it (absolute, CLOCK_MONOTONIC like
 * srv_now_us), where epoll_wait's own timeout counts whole milliseconds
 * and would turn a 1 ms service into 1-2 ms. Re-armed only when that
 * deadline changes. Returns as srv_wait. */
static int
httpsrv_wait(struct httpsrv *s, struct epoll_event *evs, int max)
{
	uint64_t d = UINT64_MAX;
	int n, timeout = -1;

	if (s->heap.n > 0)
		d = s->heap.v[0]->deadline_us;
	if (s->cap_heap.n > 0 && s->cap_heap.v[0]->deadline_us < d)
		d = s->cap_heap.v[0]->deadline_us;
	if (d != UINT64_MAX && d <= srv_now_us()) {
		timeout = 0;
	} else if (d != s->tfd_at) {
		struct itimerspec its = { 0 };

		/* All zero disarms it. */
		if (d != UINT64_MAX) {
			its.it_value.tv_sec = (time_t)(d / 1000000u);
			its.it_value.tv_nsec = (long)(d % 1000000u) * 1000;
		}
		if (timerfd_settime(s->tfd.fd, TFD_TIMER_ABSTIME, &its,
				    NULL) != 0) {
			logerr("timerfd_settime: %s", strerror(errno));
			return -1;
		}
		s->tfd_at = d;
	}
	n = epoll_wait(s->b.epfd, evs, max, timeout);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		logerr("epoll_wait: %s", strerror(errno));
	return n;
}

static int
run(struct httpsrv *s)
{
	struct epoll_event evs[HTTPSRV_MAX_EVENTS];

	for (;;) {
		int i, n = httpsrv_wait(s, evs, HTTPSRV_MAX_EVENTS);

		if (n < 0)
			return -1;
		for (i = 0; i < n; i++) {
			struct srv_obj *o = evs[i].data.ptr;

			switch (o->kind) {
			case HTTPSRV_SIGNAL:
				if (srv_signalled(&s->b))
					return 0;
				break;
			case HTTPSRV_LISTEN:
				accept_all(s, (struct httpsrv_listener *)o);
				break;
			case HTTPSRV_CONN:
				conn_service(s, (struct httpsrv_conn *)o);
				break;
			case HTTPSRV_TIMER: {
				uint64_t ticks;

				/* Only to clear its readiness: what is due
				 * is read from the heaps below. */
				if (read(o->fd, &ticks, sizeof(ticks)) < 0 &&
				    errno != EAGAIN)
					logerr("timerfd: %s", strerror(errno));
				/* Fired: the next deadline re-arms it. */
				s->tfd_at = UINT64_MAX - 1;
				break;
			}
			}
			/* A closed connection cannot show up later in this
			 * batch: each fd appears at most once per epoll_wait,
			 * and only a connection's own event closes it. */
		}
		delays_due(s);
	}
}

int
main(int argc, char **argv)
{
	static struct httpsrv s = {
		.sig = { .kind = HTTPSRV_SIGNAL, .fd = -1 },
		.tfd = { .kind = HTTPSRV_TIMER, .fd = -1 },
		.tfd_at = UINT64_MAX,
	};
	struct srv_opts o;
	unsigned i;
	int rc;

	srv_prog = "sp-httpsrv";
	rc = srv_getopt(argc, argv, NULL, NULL, NULL, usage, &o);
	if (rc >= 0)
		return rc;
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	memset(fill_x, 'x', sizeof(fill_x));

	raise_nofile(SRV_WANT_CONNS);
	for (i = 0; i < HTTPSRV_MAX_LISTEN; i++)
		s.lst[i].obj.fd = -1;
	rc = 1;
	if (srv_base_open(&s.b, &s.sig, o.log) != 0)
		goto fail;
	s.tfd.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s.tfd.fd < 0 ||
	    epoll_set(&s, EPOLL_CTL_ADD, &s.tfd, EPOLLIN) != 0) {
		logerr("timerfd: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < o.nlisten; i++) {
		if (open_listener(&s, &s.lst[i], o.listen[i], (int)o.backlog) !=
		    0)
			goto fail;
		s.nlst++;
	}
	/* Room in the slots' heap for all of them, now, so that taking a
	 * slot never allocates: each armed once, then all stopped. */
	for (i = 0; i < s.nlst; i++) {
		struct httpsrv_pool *p = s.lst[i].pool;
		unsigned k;

		for (k = 0; p != NULL && k < p->nslots; k++) {
			if (srv_timer_set(&s.cap_heap, &p->slot[k].tm, 0) ==
			    0)
				continue;
			logerr("out of memory");
			goto fail;
		}
	}
	while (s.cap_heap.n > 0)
		srv_timer_stop(&s.cap_heap, s.cap_heap.v[0]);
	/* Written only once listening, so its presence means ready. */
	if (o.pidfile != NULL && write_pidfile(o.pidfile) != 0) {
		o.pidfile = NULL;
		goto fail;
	}

	if (run(&s) == 0)
		rc = 0;

fail:
	while (s.conns != NULL)
		conn_close(&s, srv_container_of(s.conns, struct httpsrv_conn,
						link));
	free(s.heap.v);
	free(s.cap_heap.v);
	for (i = 0; i < HTTPSRV_MAX_LISTEN; i++) {
		struct httpsrv_pool *p = s.lst[i].pool;

		if (p != NULL)
			/* The figures the log cannot give: the deepest queue,
			 * and the requests whose clients left unanswered. */
			logerr("port %u: capacity %u x %llu us: served %lu, "
			       "queue max %lu, gave up %lu",
			       s.lst[i].port, p->nslots,
			       (unsigned long long)p->service_us, p->served,
			       p->qmax, p->gave_up);
		pool_free(p);
		if (s.lst[i].obj.fd >= 0)
			close(s.lst[i].obj.fd);
	}
	if (s.tfd.fd >= 0)
		close(s.tfd.fd);
	srv_base_close(&s.b);
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	return rc;
}
