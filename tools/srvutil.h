/*
 * What the test bed's small servers (sp-tcpsrv, sp-httpsrv, sp-wssrv,
 * sp-appsrv) share: error lines with the program's name, strict number
 * parsing, taking every descriptor the kernel allows, the pid file; and,
 * for the epoll servers, the loop's parts (listening, accepting, signals,
 * a deadline heap, an output buffer, the log line) and HTTP/1.1's
 * (reading a request head, its headers, cookies, queries and forms, a
 * small JSON string reader, writing a response).
 */
#ifndef SP_SRVUTIL_H
#define SP_SRVUTIL_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The program's name for error lines; set by main. */
extern const char *srv_prog;

/* "PROG: message" on stderr. */
void logerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Decimal, no sign, at most @max: 0, or -EINVAL. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* Connections are limited by descriptors: take all the kernel allows
 * (the hard limit needs CAP_SYS_RESOURCE; else up to the hard limit),
 * and say so when that is under @want. */
void raise_nofile(unsigned long want);
/* Our pid in @path: 0, or -1 after logerr. */
int write_pidfile(const char *path);

/* ---- the loop ---- */

/* An epoll data pointer's object: what it is (the server's own enum) and
 * its descriptor. A connection's comes first in the connection. */
struct srv_obj {
	int kind;
	int fd;
};

/* The live connections, for shutdown: a link in each. */
struct srv_link {
	struct srv_link *prev, *next;
};

void srv_link_add(struct srv_link **head, struct srv_link *l);
void srv_link_del(struct srv_link **head, struct srv_link *l);

#define SRV_MAX_LISTEN 16

/* The options the epoll servers share: --listen ADDR:PORT (repeatable),
 * --log FILE, --pidfile FILE, --backlog N, --help. */
struct srv_opts {
	const char *listen[SRV_MAX_LISTEN];
	unsigned nlisten;
	const char *log, *pidfile;
	unsigned long backlog; /* 4096 unless given */
};

/* Parses argv into @o, handing the server's own options (@own, ending
 * with a zeroed entry; their val not one of 'l' 'L' 'p' 'b' 'h') to
 * @fn, which returns 0, or -1 after logerr. Returns -1 to go on, else
 * the exit status (0 after --help, 2 for a bad command line). */
int srv_getopt(int argc, char **argv, const struct option *own,
	       int (*fn)(int opt, const char *arg, void *ctx), void *ctx,
	       void (*usage)(FILE *out), struct srv_opts *o);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t srv_now_us(void);

/* What a server's epoll needs besides its listeners: the epoll itself, a
 * signalfd for SIGTERM and SIGINT (blocked; SIGPIPE ignored), a spare
 * descriptor to shed a connection with when out of descriptors, and the
 * log (O_APPEND, -1 without one). */
struct srv_base {
	int epfd, sigfd, reserve_fd, log_fd;
};

/* Opens all of @b; @sig_tag is the signalfd's epoll data pointer. 0, or
 * -1 after logerr (what was opened is closed by srv_base_close). */
int srv_base_open(struct srv_base *b, void *sig_tag, const char *logfile);
void srv_base_close(struct srv_base *b);
/* srv_base_open, then a listener for each --listen (lst[i], its kind
 * @lkind), then the pid file, written only once listening so that its
 * presence means ready: 0, or -1 after logerr. */
int srv_start(struct srv_base *b, struct srv_obj *sig, struct srv_obj *lst,
	      int lkind, const struct srv_opts *o);
/* Undoes srv_start; @started: its result (the pid file is removed only
 * if it was written). */
void srv_stop(struct srv_base *b, struct srv_obj *lst, const struct srv_opts *o,
	      int started);
/* Blocks SIGTERM and SIGINT (into @mask) and ignores SIGPIPE: 0, or -1
 * after logerr. */
int srv_block_signals(sigset_t *mask);
/* epoll_ctl with @tag as the data pointer. */
int srv_epoll(struct srv_base *b, int op, int fd, void *tag, uint32_t events);
/* Drains the signalfd: 1 if a termination signal came. */
int srv_signalled(struct srv_base *b);
/* A non-blocking listening socket on "ADDR:PORT" or "[ADDR6]:PORT",
 * registered with @tag: its descriptor, or -1 after logerr. */
int srv_listen(struct srv_base *b, const char *arg, int backlog, void *tag);
/* "ADDR:PORT" or "[ADDR6]:PORT" into @ss: 0, or -EINVAL. */
int srv_parse_addr(const char *arg, struct sockaddr_storage *ss, socklen_t *sl);
/* The next connection on @lfd (non-blocking, close-on-exec; TCP_NODELAY
 * with @nodelay) with its peer as ADDR:PORT in @peer (if not NULL): its
 * descriptor, or -1 when none is waiting (errors logged). Out of
 * descriptors, the waiting one is accepted and dropped with the spare
 * (level-triggered: else it spins). */
int srv_accept(struct srv_base *b, int lfd, char *peer, size_t cap,
	       int nodelay);

/* A new connection's object for @fd: @size bytes, the first @clear of
 * them zeroed, its srv_obj first (kind @kind), registered with epoll for
 * EPOLLIN: the object, or NULL (logged, @fd closed). */
void *srv_conn_new(struct srv_base *b, int fd, size_t size, size_t clear,
		   int kind);

/* A deadline heap of timers that live inside the callers' objects
 * (container_of finds the object). */
struct srv_timer {
	uint64_t deadline_us;
	size_t idx;
	int armed;
};

struct srv_heap {
	struct srv_timer **v;
	size_t n, cap;
};

/* Arms (or moves) @t: 0, or -ENOMEM. */
int srv_timer_set(struct srv_heap *h, struct srv_timer *t, uint64_t deadline);
void srv_timer_stop(struct srv_heap *h, struct srv_timer *t);
/* The earliest timer due by @now, disarmed; NULL if none is. */
struct srv_timer *srv_timer_due(struct srv_heap *h, uint64_t now);
/* epoll_wait on @b with the earliest deadline as the timeout (rounded up:
 * waking early would only spin): the events, 0 on EINTR, -1 on error. */
int srv_wait(struct srv_base *b, const struct srv_heap *h,
	     struct epoll_event *evs, int max);

#define srv_container_of(p, type, member)                                      \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

/* Output waiting for the socket, grown on demand up to @max bytes
 * pending (0: no bound). */
struct srv_out {
	uint8_t *buf;
	size_t head, tail, cap, max;
};

static inline size_t
srv_out_pending(const struct srv_out *o)
{
	return o->tail - o->head;
}

/* 0, -ENOBUFS (over max), or -ENOMEM. */
int srv_out_put(struct srv_out *o, const void *p, size_t n);
/* Formatted, at most 8 KiB a call. */
void srv_out_fmt(struct srv_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands what is pending to the kernel: 0 (all out, or the socket is
 * full), or -1 if the socket failed. */
int srv_out_send(struct srv_out *o, int fd);
void srv_out_free(struct srv_out *o);

/* Reads what @fd has after the unparsed input [*start, *len) of @buf,
 * which is moved to the front first: read(2)'s result, or -1 with EAGAIN
 * when the buffer is full. */
ssize_t srv_in_read(int fd, char *buf, size_t cap, size_t *start, size_t *len);

/* One line (a newline is added) with one write(2) on the O_APPEND log:
 * never torn, never buffered, on disk when the event happens. */
void srv_log(struct srv_base *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- HTTP/1.1 ---- */

#define SRV_HDR_MAX 64

struct srv_hdr {
	const char *name, *val; /* value without surrounding blanks */
	size_t name_len, val_len;
};

/* A parsed request head; pointers into the input buffer. */
struct srv_req {
	const char *method, *target, *query;
	size_t method_len, path_len, query_len; /* target: the path first */
	int http11;
	int conn_close, conn_upgrade; /* Connection: close, upgrade */
	int have_cl, have_te;
	uint64_t cl;
	unsigned nhdr;
	struct srv_hdr hdr[SRV_HDR_MAX];
};

/* Skips blank lines at *start (RFC 9112 2.2), then: the length of the
 * head there through its CRLF CRLF, or 0 if it is not all in. */
size_t srv_head_len(const char *buf, size_t *start, size_t len);
/* Parses the head [p, p + len) into @r: 0, or the status to refuse with
 * (400 malformed, 431 too many header lines). */
int srv_parse_head(struct srv_req *r, const char *p, size_t len);
/* The first header @name (any case): its value, its length in *len; NULL
 * if there is none. */
const char *srv_header(const struct srv_req *r, const char *name, size_t *len);
/* Does any header @name hold @tok in its comma-separated list? */
int srv_header_has(const struct srv_req *r, const char *name, const char *tok);
/* Is the method @m? */
int srv_method_is(const struct srv_req *r, const char *m);
/* Is the path (without the query) @p? */
int srv_path_is(const struct srv_req *r, const char *p);
/* The cookie @name in any Cookie header: its value, its length in *len;
 * NULL if none. */
const char *srv_cookie(const struct srv_req *r, const char *name, size_t *len);
/* ASCII case-insensitive: does the comma-separated list hold @tok? */
int srv_list_has(const char *v, size_t len, const char *tok);
/* The value of @key in a query or an urlencoded form [q, q + n),
 * percent- and '+'-decoded into @out (cut to fit, NUL-terminated): its
 * length, or -1 if absent. */
int srv_query_get(const char *q, size_t n, const char *key, char *out,
		  size_t cap);
/* A number from a query: @def if absent, -1 if malformed or over @max. */
int srv_query_num(const char *q, size_t n, const char *key, unsigned long def,
		  unsigned long max, unsigned long *out);
/* The string value of "key" in a flat JSON object, if there is one and it
 * has no escapes: 0 with [*v, *v + *vlen), or -1. */
int srv_json_str(const void *p, size_t n, const char *key, const char **v,
		 size_t *vlen);
/* @src as a JSON string's contents, into [out, out + cap): the length. */
size_t srv_json_escape(char *out, size_t cap, const void *src, size_t n);
/* 1-@max of [A-Za-z0-9._-]. */
int srv_name_ok(const char *p, size_t n, size_t max);
const char *srv_status_reason(int status);
/* A whole response: status line, Server, @extra (header lines, each
 * ending in CRLF), Content-Type (none without @ctype), Content-Length, a
 * Connection: close if @close, the body. */
void srv_answer(struct srv_out *o, const char *server, int status,
		const char *extra, const char *ctype, const char *body,
		size_t blen, int close);

#endif /* SP_SRVUTIL_H */
