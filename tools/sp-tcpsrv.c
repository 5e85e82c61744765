/*
 * sp-tcpsrv: a tiny single-threaded epoll TCP server for the stack tests.
 *
 * It runs inside the test bed's network namespace and gives the generator a
 * kernel TCP peer to talk to:
 *   - echo (RFC 862 style): everything read is written back. Each connection
 *     has one buffer; when the peer does not read fast enough we stop reading
 *     (flow control back to the sender) and wait for EPOLLOUT. When the peer
 *     closes, pending bytes are flushed and then the socket is closed.
 *   - discard (RFC 863 style): everything read is thrown away.
 *
 * Level-triggered epoll, non-blocking sockets, no threads. SIGTERM and SIGINT
 * arrive through a signalfd so shutdown is an ordinary event: every socket is
 * closed, every buffer freed and the pid file removed.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "srvutil.h"

/* One read or write moves at most this much: 64 KiB matches the largest
 * window a peer without window scaling can have in flight. */
#define TCPSRV_BUF_SIZE (64 * 1024)
#define TCPSRV_MAX_EVENTS 256
/* Rounds of read/write per event, so that one busy connection cannot starve
 * the others: level-triggered epoll brings it back next time. */
#define TCPSRV_ROUNDS 16

enum tcpsrv_kind {
	TCPSRV_SIGNAL,
	TCPSRV_LISTEN_ECHO,
	TCPSRV_LISTEN_DISCARD,
	TCPSRV_CONN_ECHO,
	TCPSRV_CONN_DISCARD,
};

/* Everything registered with epoll starts with this header; epoll's data
 * pointer points at it. */
struct tcpsrv_obj {
	enum tcpsrv_kind kind;
	int fd;
};

struct tcpsrv_conn {
	struct tcpsrv_obj obj; /* first: the epoll data pointer */
	struct srv_link link;  /* all connections, for shutdown */
	uint32_t events;       /* current epoll interest */
	int peer_closed;       /* read returned 0 */
	size_t head;           /* echo: bytes [head, tail) wait to go out */
	size_t tail;
	char *buf; /* echo only, TCPSRV_BUF_SIZE bytes */
};

struct tcpsrv {
	struct srv_base b;
	struct tcpsrv_obj sig;
	struct tcpsrv_obj echo;
	struct tcpsrv_obj discard;
	struct srv_link *conns;
	unsigned long nconns;
};

/* Connections a test may ask one instance to hold. */
#define SRV_WANT_CONNS 20000ul
static char scratch[TCPSRV_BUF_SIZE];

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--addr ADDR] [--echo PORT] [--discard PORT]\n"
		"          [--pidfile FILE] [--backlog N]\n"
		"  --addr ADDR     IPv4 or IPv6 address to listen on (default 198.18.0.2)\n"
		"  --echo PORT     echo service port (0 or absent: off)\n"
		"  --discard PORT  discard service port (0 or absent: off)\n"
		"  --pidfile FILE  write the pid here once listening; removed on exit\n"
		"  --backlog N     listen backlog (default 4096)\n",
		srv_prog);
}

static int
epoll_set(struct tcpsrv *s, int op, struct tcpsrv_obj *o, uint32_t events)
{
	return srv_epoll(&s->b, op, o->fd, o, events);
}

static int
open_listener(struct tcpsrv *s, struct tcpsrv_obj *o,
	      const struct sockaddr_storage *ss, socklen_t sslen,
	      unsigned short port, int backlog)
{
	struct sockaddr_storage addr = *ss;
	char text[INET6_ADDRSTRLEN];
	const void *ip;
	int one = 1;

	if (addr.ss_family == AF_INET) {
		((struct sockaddr_in *)&addr)->sin_port = htons(port);
		ip = &((struct sockaddr_in *)&addr)->sin_addr;
	} else {
		((struct sockaddr_in6 *)&addr)->sin6_port = htons(port);
		ip = &((struct sockaddr_in6 *)&addr)->sin6_addr;
	}
	inet_ntop(addr.ss_family, ip, text, sizeof(text));

	o->fd = socket(addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->fd < 0) {
		logerr("socket: %s", strerror(errno));
		return -1;
	}
	/* SO_REUSEPORT: a test that needs more connections than one
	 * process may hold descriptors (a hard RLIMIT_NOFILE it cannot
	 * raise) starts more instances on the same port; the kernel spreads
	 * new connections over them. */
	if (setsockopt(o->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
		    0 ||
	    setsockopt(o->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) !=
		    0 ||
	    bind(o->fd, (struct sockaddr *)&addr, sslen) != 0 ||
	    listen(o->fd, backlog) != 0) {
		logerr("listen on %s port %u: %s", text, port, strerror(errno));
		return -1;
	}
	if (epoll_set(s, EPOLL_CTL_ADD, o, EPOLLIN) != 0) {
		logerr("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
conn_close(struct tcpsrv *s, struct tcpsrv_conn *c)
{
	/* close() also removes the fd from the epoll set. */
	close(c->obj.fd);
	srv_link_del(&s->conns, &c->link);
	s->nconns--;
	free(c->buf);
	free(c);
}

static void
accept_all(struct tcpsrv *s, struct tcpsrv_obj *l)
{
	int one = 1;

	for (;;) {
		struct tcpsrv_conn *c;
		int fd;

		fd = srv_accept(&s->b, l->fd, NULL, 0, 0);
		if (fd < 0)
			return;

		c = calloc(1, sizeof(*c));
		if (c != NULL && l->kind == TCPSRV_LISTEN_ECHO) {
			c->buf = malloc(TCPSRV_BUF_SIZE);
			if (c->buf == NULL) {
				free(c);
				c = NULL;
			}
		}
		if (c == NULL) {
			logerr("out of memory, dropped a connection");
			close(fd);
			continue;
		}
		c->obj.fd = fd;
		c->obj.kind = l->kind == TCPSRV_LISTEN_ECHO ?
				      TCPSRV_CONN_ECHO :
				      TCPSRV_CONN_DISCARD;
		c->events = EPOLLIN;
		/* Echo replies go out as soon as they are read. */
		if (c->obj.kind == TCPSRV_CONN_ECHO)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		if (epoll_set(s, EPOLL_CTL_ADD, &c->obj, c->events) != 0) {
			logerr("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c->buf);
			free(c);
			continue;
		}
		srv_link_add(&s->conns, &c->link);
		s->nconns++;
	}
}

static void
discard_readable(struct tcpsrv *s, struct tcpsrv_conn *c)
{
	int round;

	for (round = 0; round < TCPSRV_ROUNDS; round++) {
		ssize_t n = read(c->obj.fd, scratch, sizeof(scratch));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF or error: nothing owed to the peer. */
		conn_close(s, c);
		return;
	}
}

/* Echo: read while there is room, write while there is data, then ask epoll
 * only for what can make progress. Returns after closing c if it is done. */
static void
echo_service(struct tcpsrv *s, struct tcpsrv_conn *c)
{
	uint32_t want;
	int round;

	for (round = 0; round < TCPSRV_ROUNDS; round++) {
		int progress = 0;
		ssize_t n;

		if (!c->peer_closed && c->tail < TCPSRV_BUF_SIZE) {
			n = read(c->obj.fd, c->buf + c->tail,
				 TCPSRV_BUF_SIZE - c->tail);
			if (n > 0) {
				c->tail += (size_t)n;
				progress = 1;
			} else if (n == 0) {
				c->peer_closed = 1;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
				   errno != EINTR) {
				conn_close(s, c);
				return;
			}
		}
		if (c->head < c->tail) {
			n = send(c->obj.fd, c->buf + c->head, c->tail - c->head,
				 MSG_NOSIGNAL);
			if (n > 0) {
				c->head += (size_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN &&
				   errno != EWOULDBLOCK && errno != EINTR) {
				conn_close(s, c);
				return;
			}
		}
		if (c->head == c->tail) {
			c->head = c->tail = 0;
		} else if (c->tail == TCPSRV_BUF_SIZE &&
			   c->head >= TCPSRV_BUF_SIZE / 2) {
			/* Make room to keep reading while the rest drains. */
			memmove(c->buf, c->buf + c->head, c->tail - c->head);
			c->tail -= c->head;
			c->head = 0;
		}
		if (!progress)
			break;
	}

	if (c->peer_closed && c->head == c->tail) {
		conn_close(s, c);
		return;
	}
	want = 0;
	if (!c->peer_closed && c->tail < TCPSRV_BUF_SIZE)
		want |= EPOLLIN;
	if (c->head < c->tail)
		want |= EPOLLOUT;
	if (want != c->events) {
		c->events = want;
		if (epoll_set(s, EPOLL_CTL_MOD, &c->obj, want) != 0) {
			logerr("epoll_ctl: %s", strerror(errno));
			conn_close(s, c);
		}
	}
}

static int
run(struct tcpsrv *s)
{
	struct epoll_event evs[TCPSRV_MAX_EVENTS];

	for (;;) {
		static const struct srv_heap no_timers;
		int i, n = srv_wait(&s->b, &no_timers, evs, TCPSRV_MAX_EVENTS);

		if (n < 0)
			return -1;
		for (i = 0; i < n; i++) {
			struct tcpsrv_obj *o = evs[i].data.ptr;
			struct tcpsrv_conn *c = (struct tcpsrv_conn *)o;

			switch (o->kind) {
			case TCPSRV_SIGNAL:
				if (srv_signalled(&s->b))
					return 0;
				break;
			case TCPSRV_LISTEN_ECHO:
			case TCPSRV_LISTEN_DISCARD:
				accept_all(s, o);
				break;
			case TCPSRV_CONN_ECHO:
				echo_service(s, c);
				break;
			case TCPSRV_CONN_DISCARD:
				discard_readable(s, c);
				break;
			}
			/* A closed connection cannot show up later in this
			 * batch: each fd appears at most once per epoll_wait,
			 * and only a connection's own event closes it. */
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "echo", required_argument, NULL, 'e' },
		{ "discard", required_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tcpsrv s = { .b = { .epfd = -1,
				   .sigfd = -1,
				   .reserve_fd = -1,
				   .log_fd = -1 },
			    .sig.fd = -1,
			    .echo.fd = -1,
			    .discard.fd = -1 };
	const char *addr = "198.18.0.2";
	const char *pidfile = NULL;
	unsigned long echo_port = 0, discard_port = 0, backlog = 4096;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int rc = 1;
	int opt;

	memset(&ss, 0, sizeof(ss));
	srv_prog = "sp-tcpsrv";
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'e':
			if (parse_ulong(optarg, 65535, &echo_port) != 0) {
				logerr("bad --echo port: %s", optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_ulong(optarg, 65535, &discard_port) != 0) {
				logerr("bad --discard port: %s", optarg);
				return 2;
			}
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'b':
			if (parse_ulong(optarg, 1 << 20, &backlog) != 0 ||
			    backlog == 0) {
				logerr("bad --backlog: %s", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (echo_port == 0 && discard_port == 0) {
		logerr("nothing to serve: give --echo and/or --discard");
		return 2;
	}
	if (echo_port != 0 && echo_port == discard_port) {
		logerr("--echo and --discard need different ports");
		return 2;
	}
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		ss.ss_family = AF_INET;
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		sslen = sizeof(struct sockaddr_in6);
	} else {
		logerr("bad --addr: %s", addr);
		return 2;
	}

	raise_nofile(SRV_WANT_CONNS);
	s.sig.kind = TCPSRV_SIGNAL;
	if (srv_base_open(&s.b, &s.sig, NULL) != 0)
		goto fail;
	s.echo.kind = TCPSRV_LISTEN_ECHO;
	s.discard.kind = TCPSRV_LISTEN_DISCARD;
	if (echo_port != 0 &&
	    open_listener(&s, &s.echo, &ss, sslen, (unsigned short)echo_port,
			  (int)backlog) != 0)
		goto fail;
	if (discard_port != 0 &&
	    open_listener(&s, &s.discard, &ss, sslen,
			  (unsigned short)discard_port, (int)backlog) != 0)
		goto fail;
	/* Written only once listening, so its presence means ready. */
	if (pidfile != NULL && write_pidfile(pidfile) != 0) {
		pidfile = NULL;
		goto fail;
	}

	if (run(&s) == 0)
		rc = 0;

fail:
	while (s.conns != NULL)
		conn_close(&s,
			   srv_container_of(s.conns, struct tcpsrv_conn, link));
	if (s.discard.fd >= 0)
		close(s.discard.fd);
	if (s.echo.fd >= 0)
		close(s.echo.fd);
	srv_base_close(&s.b);
	if (pidfile != NULL)
		unlink(pidfile);
	return rc;
}
