/*
 * Shared by the test bed's servers; see srvutil.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "srvutil.h"

const char *srv_prog = "sp-srv";

void
logerr(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", srv_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void
raise_nofile(unsigned long want)
{
	struct rlimit rl;
	unsigned long nr_open = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	f = fopen("/proc/sys/fs/nr_open", "r");
	if (f != NULL) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open > rl.rlim_max) {
		struct rlimit up = { .rlim_cur = nr_open, .rlim_max = nr_open };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		logerr("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	/* Say so when a test that needs @want connections cannot pass here,
	 * instead of leaving it to guess. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 100)
		logerr("descriptor limit %llu: fewer than %lu connections",
		       (unsigned long long)rl.rlim_cur, want);
}

int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		logerr("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the loop ---- */

uint64_t
srv_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
srv_epoll(struct srv_base *b, int op, int fd, void *tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(b->epfd, op, fd, &ev);
}

int
srv_block_signals(sigset_t *mask)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, mask, NULL) != 0) {
		logerr("sigprocmask: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
srv_getopt(int argc, char **argv, const struct option *own,
	   int (*fn)(int opt, const char *arg, void *ctx), void *ctx,
	   void (*usage)(FILE *out), struct srv_opts *o)
{
	static const struct option common[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'L' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option all[32];
	size_t n = sizeof(common) / sizeof(common[0]), k = 0;
	int opt;

	memcpy(all, common, sizeof(common));
	while (own != NULL && own[k].name != NULL && n + 1 < 32)
		all[n++] = own[k++];
	memset(&all[n], 0, sizeof(all[n]));
	memset(o, 0, sizeof(*o));
	o->backlog = 4096;
	while ((opt = getopt_long(argc, argv, "h", all, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		} else if (opt == 'l' && o->nlisten == SRV_MAX_LISTEN) {
			logerr("at most %d --listen", SRV_MAX_LISTEN);
			return 2;
		} else if (opt == 'l') {
			o->listen[o->nlisten++] = optarg;
		} else if (opt == 'L') {
			o->log = optarg;
		} else if (opt == 'p') {
			o->pidfile = optarg;
		} else if (opt == 'b') {
			if (parse_ulong(optarg, 1 << 20, &o->backlog) != 0 ||
			    o->backlog == 0) {
				logerr("bad --backlog: %s", optarg);
				return 2;
			}
		} else if (opt == '?' || fn == NULL ||
			   fn(opt, optarg, ctx) != 0) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o->nlisten == 0) {
		logerr("nothing to serve: give --listen ADDR:PORT");
		return 2;
	}
	return -1;
}

int
srv_start(struct srv_base *b, struct srv_obj *sig, struct srv_obj *lst,
	  int lkind, const struct srv_opts *o)
{
	for (unsigned i = 0; i < o->nlisten; i++)
		lst[i].fd = -1;
	if (srv_base_open(b, sig, o->log) != 0)
		return -1;
	for (unsigned i = 0; i < o->nlisten; i++) {
		lst[i].kind = lkind;
		lst[i].fd = srv_listen(b, o->listen[i], (int)o->backlog,
				       &lst[i]);
		if (lst[i].fd < 0)
			return -1;
	}
	if (o->pidfile != NULL && write_pidfile(o->pidfile) != 0)
		return -1;
	return 0;
}

void
srv_stop(struct srv_base *b, struct srv_obj *lst, const struct srv_opts *o,
	 int started)
{
	for (unsigned i = 0; i < o->nlisten; i++)
		if (lst[i].fd >= 0)
			close(lst[i].fd);
	srv_base_close(b);
	if (started == 0 && o->pidfile != NULL)
		unlink(o->pidfile);
}

int
srv_base_open(struct srv_base *b, void *sig_tag, const char *logfile)
{
	sigset_t mask;

	b->epfd = b->sigfd = b->reserve_fd = b->log_fd = -1;
	if (srv_block_signals(&mask) != 0)
		return -1;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b->epfd < 0 || b->sigfd < 0 ||
	    srv_epoll(b, EPOLL_CTL_ADD, b->sigfd, sig_tag, EPOLLIN) != 0) {
		logerr("epoll/signalfd: %s", strerror(errno));
		return -1;
	}
	if (logfile == NULL)
		return 0;
	b->log_fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0644);
	if (b->log_fd < 0) {
		logerr("log %s: %s", logfile, strerror(errno));
		return -1;
	}
	return 0;
}

void
srv_base_close(struct srv_base *b)
{
	int *fds[] = { &b->log_fd, &b->reserve_fd, &b->sigfd, &b->epfd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int
srv_signalled(struct srv_base *b)
{
	struct signalfd_siginfo si;

	while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			return 1;
	}
	return 0;
}

int
srv_parse_addr(const char *arg, struct sockaddr_storage *ss, socklen_t *sl)
{
	char buf[128], *host, *colon;
	unsigned long port;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	host = buf;
	if (host[0] == '[') {
		char *rb = strchr(host, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		*rb = '\0';
		host++;
		colon = rb + 1;
	} else {
		colon = strrchr(host, ':');
		if (colon == NULL)
			return -EINVAL;
	}
	*colon = '\0';
	if (parse_ulong(colon + 1, 65535, &port) != 0 || port == 0)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host,
			     &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int
srv_listen(struct srv_base *b, const char *arg, int backlog, void *tag)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	if (srv_parse_addr(arg, &ss, &sl) != 0) {
		logerr("bad --listen: %s", arg);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, backlog) != 0 ||
	    srv_epoll(b, EPOLL_CTL_ADD, fd, tag, EPOLLIN) != 0) {
		logerr("listen on %s: %s", arg, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
srv_accept(struct srv_base *b, int lfd, char *peer, size_t cap, int nodelay)
{
	struct sockaddr_storage ss;
	char a[INET6_ADDRSTRLEN];
	socklen_t sl;
	int fd, one = 1;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if ((errno == EMFILE || errno == ENFILE) &&
		    b->reserve_fd >= 0) {
			close(b->reserve_fd);
			fd = accept(lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
			b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			logerr("out of descriptors, dropped a connection");
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			logerr("accept: %s", strerror(errno));
		return -1;
	}
	if (nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (peer == NULL)
		return fd;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(peer, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(peer, cap, "%s:%u", a, ntohs(s4->sin_port));
	}
	return fd;
}

void
srv_link_add(struct srv_link **head, struct srv_link *l)
{
	l->prev = NULL;
	l->next = *head;
	if (*head != NULL)
		(*head)->prev = l;
	*head = l;
}

void
srv_link_del(struct srv_link **head, struct srv_link *l)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		*head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
}

void *
srv_conn_new(struct srv_base *b, int fd, size_t size, size_t clear, int kind)
{
	struct srv_obj *o = malloc(size);

	if (o == NULL) {
		logerr("out of memory, dropped a connection");
		close(fd);
		return NULL;
	}
	/* Buffers past @clear are written before they are read: leaving
	 * them alone keeps their pages untouched until used. */
	memset(o, 0, clear);
	o->kind = kind;
	o->fd = fd;
	if (srv_epoll(b, EPOLL_CTL_ADD, fd, o, EPOLLIN) != 0) {
		logerr("epoll_ctl: %s", strerror(errno));
		close(fd);
		free(o);
		return NULL;
	}
	return o;
}

/* ---- the deadline heap ---- */

static void
heap_put(struct srv_heap *h, size_t i, struct srv_timer *t)
{
	h->v[i] = t;
	t->idx = i;
}

static void
heap_up(struct srv_heap *h, size_t i)
{
	struct srv_timer *t = h->v[i];

	while (i > 0 && h->v[(i - 1) / 2]->deadline_us > t->deadline_us) {
		heap_put(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(h, i, t);
}

static void
heap_down(struct srv_heap *h, size_t i)
{
	struct srv_timer *t = h->v[i];

	for (;;) {
		size_t l = 2 * i + 1, m = l;

		if (l >= h->n)
			break;
		if (l + 1 < h->n &&
		    h->v[l + 1]->deadline_us < h->v[l]->deadline_us)
			m = l + 1;
		if (h->v[m]->deadline_us >= t->deadline_us)
			break;
		heap_put(h, i, h->v[m]);
		i = m;
	}
	heap_put(h, i, t);
}

void
srv_timer_stop(struct srv_heap *h, struct srv_timer *t)
{
	size_t i = t->idx;

	if (!t->armed)
		return;
	h->n--;
	if (i != h->n) {
		struct srv_timer *last = h->v[h->n];

		heap_put(h, i, last);
		heap_down(h, i);
		heap_up(h, last->idx);
	}
	t->armed = 0;
}

int
srv_timer_set(struct srv_heap *h, struct srv_timer *t, uint64_t deadline)
{
	srv_timer_stop(h, t);
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 1024;
		struct srv_timer **v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	t->deadline_us = deadline;
	t->armed = 1;
	h->v[h->n] = t;
	heap_up(h, h->n++);
	return 0;
}

struct srv_timer *
srv_timer_due(struct srv_heap *h, uint64_t now)
{
	struct srv_timer *t;

	if (h->n == 0 || h->v[0]->deadline_us > now)
		return NULL;
	t = h->v[0];
	srv_timer_stop(h, t);
	return t;
}

int
srv_wait(struct srv_base *b, const struct srv_heap *h, struct epoll_event *evs,
	 int max)
{
	int n, timeout = -1;

	if (h->n > 0) {
		uint64_t now = srv_now_us(), d = h->v[0]->deadline_us;

		timeout = d <= now ? 0 : (int)((d - now + 999) / 1000);
	}
	n = epoll_wait(b->epfd, evs, max, timeout);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		logerr("epoll_wait: %s", strerror(errno));
	return n;
}

/* ---- output and input ---- */

int
srv_out_put(struct srv_out *o, const void *p, size_t n)
{
	if (o->tail + n > o->cap) {
		size_t pend = srv_out_pending(o), cap;
		uint8_t *nb;

		if (o->head > 0) {
			memmove(o->buf, o->buf + o->head, pend);
			o->head = 0;
			o->tail = pend;
		}
		if (o->max != 0 && pend + n > o->max)
			return -ENOBUFS;
		cap = o->cap ? o->cap : 4096;
		while (cap < pend + n)
			cap *= 2;
		if (cap != o->cap) {
			nb = realloc(o->buf, cap);
			if (nb == NULL)
				return -ENOMEM;
			o->buf = nb;
			o->cap = cap;
		}
	}
	memcpy(o->buf + o->tail, p, n);
	o->tail += n;
	return 0;
}

void
srv_out_fmt(struct srv_out *o, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		srv_out_put(o, buf,
			    (size_t)n < sizeof(buf) ? (size_t)n :
						      sizeof(buf) - 1);
}

int
srv_out_send(struct srv_out *o, int fd)
{
	while (srv_out_pending(o) > 0) {
		ssize_t n = send(fd, o->buf + o->head, srv_out_pending(o),
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		o->head += (size_t)n;
	}
	o->head = o->tail = 0;
	return 0;
}

void
srv_out_free(struct srv_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->head = o->tail = o->cap = 0;
}

ssize_t
srv_in_read(int fd, char *buf, size_t cap, size_t *start, size_t *len)
{
	ssize_t n;

	if (*start > 0) {
		memmove(buf, buf + *start, *len - *start);
		*len -= *start;
		*start = 0;
	}
	if (*len == cap) {
		errno = EAGAIN;
		return -1;
	}
	n = read(fd, buf + *len, cap - *len);
	if (n > 0)
		*len += (size_t)n;
	return n;
}

void
srv_log(struct srv_base *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (b->log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(b->log_fd, line, (size_t)n) != n)
		logerr("log: %s", strerror(errno));
}

/* ---- HTTP/1.1 ---- */

size_t
srv_head_len(const char *buf, size_t *start, size_t len)
{
	const char *p;
	size_t n;

	while (*start < len && (buf[*start] == '\r' || buf[*start] == '\n'))
		(*start)++;
	p = buf + *start;
	n = len - *start;
	/* (Not memmem: GCC's -Wnonnull under UBSan sees a null haystack.) */
	for (size_t i = 0; i + 4 <= n; i++)
		if (p[i] == '\r' && memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

int
srv_parse_head(struct srv_req *r, const char *p, size_t len)
{
	const char *end = p + len - 2, *line, *eol, *sp1, *sp2, *q;

	memset(r, 0, offsetof(struct srv_req, hdr));
	eol = memmem(p, len, "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) :
			    NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == p || sp2 == sp1 + 1 ||
	    sp1[1] != '/' || eol - sp2 - 1 != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return 400;
	r->method = p;
	r->method_len = (size_t)(sp1 - p);
	r->http11 = sp2[8] == '1';
	r->target = sp1 + 1;
	q = memchr(r->target, '?', (size_t)(sp2 - r->target));
	r->path_len = (size_t)((q != NULL ? q : sp2) - r->target);
	if (q != NULL) {
		r->query = q + 1;
		r->query_len = (size_t)(sp2 - q - 1);
	}
	for (line = eol + 2; line < end; line = eol + 2) {
		const char *colon, *v, *ve;
		struct srv_hdr *h;

		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || colon == line)
			return 400;
		if (r->nhdr == SRV_HDR_MAX)
			return 431;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		h = &r->hdr[r->nhdr++];
		h->name = line;
		h->name_len = (size_t)(colon - line);
		h->val = v;
		h->val_len = (size_t)(ve - v);
#define IS(n)                                                                  \
	(h->name_len == sizeof(n) - 1 &&                                       \
	 strncasecmp(line, n, sizeof(n) - 1) == 0)
		if (IS("content-length")) {
			char num[24];
			unsigned long cl;

			if (h->val_len >= sizeof(num))
				return 400;
			memcpy(num, v, h->val_len);
			num[h->val_len] = '\0';
			if (parse_ulong(num, ~0ul, &cl) != 0 ||
			    (r->have_cl && cl != r->cl))
				return 400;
			r->cl = cl;
			r->have_cl = 1;
		} else if (IS("transfer-encoding")) {
			r->have_te = 1;
		} else if (IS("connection")) {
			r->conn_close |= srv_list_has(v, h->val_len, "close");
			r->conn_upgrade |= srv_list_has(v, h->val_len,
							"upgrade");
		}
#undef IS
	}
	return 0;
}

static int
hdr_is(const struct srv_hdr *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

const char *
srv_header(const struct srv_req *r, const char *name, size_t *len)
{
	for (unsigned i = 0; i < r->nhdr; i++) {
		if (hdr_is(&r->hdr[i], name)) {
			*len = r->hdr[i].val_len;
			return r->hdr[i].val;
		}
	}
	return NULL;
}

int
srv_header_has(const struct srv_req *r, const char *name, const char *tok)
{
	for (unsigned i = 0; i < r->nhdr; i++)
		if (hdr_is(&r->hdr[i], name) &&
		    srv_list_has(r->hdr[i].val, r->hdr[i].val_len, tok))
			return 1;
	return 0;
}

int
srv_method_is(const struct srv_req *r, const char *m)
{
	return r->method_len == strlen(m) &&
	       memcmp(r->method, m, r->method_len) == 0;
}

int
srv_path_is(const struct srv_req *r, const char *p)
{
	return r->path_len == strlen(p) &&
	       memcmp(r->target, p, r->path_len) == 0;
}

const char *
srv_cookie(const struct srv_req *r, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (unsigned k = 0; k < r->nhdr; k++) {
		const char *v = r->hdr[k].val;
		size_t n = r->hdr[k].val_len, i = 0;

		if (!hdr_is(&r->hdr[k], "cookie"))
			continue;
		while (i < n) {
			size_t a, e;

			while (i < n && (v[i] == ' ' || v[i] == ';'))
				i++;
			a = i;
			while (i < n && v[i] != ';')
				i++;
			e = i;
			if (e - a > nl && memcmp(v + a, name, nl) == 0 &&
			    v[a + nl] == '=') {
				*len = e - a - nl - 1;
				return v + a + nl + 1;
			}
		}
	}
	return NULL;
}

int
srv_list_has(const char *v, size_t len, const char *tok)
{
	size_t tlen = strlen(tok), i = 0;

	while (i < len) {
		size_t a, b;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < len && v[i] != ',')
			i++;
		b = i;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (b - a == tlen && strncasecmp(v + a, tok, tlen) == 0)
			return 1;
	}
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
srv_query_get(const char *q, size_t n, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key), i = 0;

	while (i < n) {
		size_t a = i, e;

		while (i < n && q[i] != '&')
			i++;
		e = i++;
		if (e - a > kl && memcmp(q + a, key, kl) == 0 &&
		    q[a + kl] == '=') {
			size_t o = 0;

			for (size_t j = a + kl + 1; j < e && o + 1 < cap; j++) {
				int hi, lo;

				if (q[j] == '%' && j + 2 < e &&
				    (hi = hexval(q[j + 1])) >= 0 &&
				    (lo = hexval(q[j + 2])) >= 0) {
					out[o++] = (char)(hi << 4 | lo);
					j += 2;
				} else if (q[j] == '+') {
					out[o++] = ' ';
				} else {
					out[o++] = q[j];
				}
			}
			out[o] = '\0';
			return (int)o;
		}
	}
	return -1;
}

int
srv_query_num(const char *q, size_t n, const char *key, unsigned long def,
	      unsigned long max, unsigned long *out)
{
	char v[32];

	if (srv_query_get(q, n, key, v, sizeof(v)) < 0) {
		*out = def;
		return 0;
	}
	return parse_ulong(v, max, out) == 0 ? 0 : -1;
}

int
srv_json_str(const void *p, size_t n, const char *key, const char **v,
	     size_t *vlen)
{
	char pat[32];
	const char *q, *e = (const char *)p + n, *a;
	int pl = snprintf(pat, sizeof(pat), "\"%s\"", key);

	q = memmem(p, n, pat, (size_t)pl);
	if (q == NULL)
		return -1;
	q += pl;
	while (q < e && (*q == ' ' || *q == ':'))
		q++;
	if (q >= e || *q != '"')
		return -1;
	a = ++q;
	while (q < e && *q != '"' && *q != '\\')
		q++;
	if (q >= e || *q != '"')
		return -1;
	*v = a;
	*vlen = (size_t)(q - a);
	return 0;
}

size_t
srv_json_escape(char *out, size_t cap, const void *src, size_t n)
{
	const uint8_t *s = src;
	size_t o = 0;

	for (size_t i = 0; i < n && o + 7 < cap; i++) {
		uint8_t ch = s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	return o;
}

int
srv_name_ok(const char *p, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

const char *
srv_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} tab[] = {
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 204, "No Content" },
		{ 302, "Found" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 426, "Upgrade Required" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].status == status)
			return tab[i].reason;
	return "Unknown";
}

void
srv_answer(struct srv_out *o, const char *server, int status, const char *extra,
	   const char *ctype, const char *body, size_t blen, int close)
{
	srv_out_fmt(o, "HTTP/1.1 %d %s\r\nServer: %s\r\n%s", status,
		    srv_status_reason(status), server, extra);
	if (ctype != NULL)
		srv_out_fmt(o, "Content-Type: %s\r\n", ctype);
	srv_out_fmt(o, "Content-Length: %zu\r\n%s\r\n", blen,
		    close ? "Connection: close\r\n" : "");
	srv_out_put(o, body, blen);
}
