/*
 * sp-wssrv: the test bed's WebSocket server (RFC 6455), well-behaved on some
 * paths and hostile on request on others, with a log exact enough that a
 * test can compare the client's counts with it line for line.
 *
 * Plain HTTP/1.1 (keep-alive) until an upgrade:
 *   POST /register   body user=NAME&password=PW (urlencoded): 201 and NAME
 *                    is registered (in memory, for the process's life); 201
 *                    again for the same password, 409 for another one.
 *                    NAME: 1-64 of [A-Za-z0-9._-].
 *   GET  a path below with the upgrade headers: 101, then that endpoint.
 *   Refusals: 400 (malformed head, no or bad Sec-WebSocket-Key), 426 (no
 *   Upgrade: websocket, or a version other than 13), 403 (a /chat/ upgrade
 *   whose Cookie names session=NAME for an unregistered NAME; without a
 *   Cookie header there is no check), 404, 405, 411, 413, 501. A refusal
 *   closes the connection.
 *   The first subprotocol offered (Sec-WebSocket-Protocol) is chosen;
 *   extensions are never negotiated.
 *
 * Well-behaved endpoints:
 *   /echo               echoes each text or binary message, whole, as one
 *                       frame with its opcode; pongs answer pings; a close
 *                       is answered with the same code
 *   /chat/ROOM          a room (ROOM: 1-64 bytes, printable): a connection
 *                       is a member from its upgrade (as user NAME from its
 *                       Cookie, else "anonID"). {"type":"join","user":"U"}
 *                       renames it U and answers
 *                       {"type":"joined","room":"ROOM","user":"U"}, and
 *                       {"type":"enter","room":"ROOM","user":"U"} goes to
 *                       the others. Any other text message goes to every
 *                       member, the sender too, as
 *                       {"type":"chat","room":"ROOM","user":"U","text":"M"}
 *                       (M JSON-escaped: the original text is there as is
 *                       unless it holds '"', '\' or control characters);
 *                       binary messages go to every member unchanged. On
 *                       close, a joined user's {"type":"leave",...} goes to
 *                       the others.
 *   /push?rate=N[&count=M][&size=S][&type=text|binary]
 *                       messages "push SEQ" (SEQ 1, 2, ...; padded with
 *                       'x' to S bytes if S is larger, S at most 16 MiB),
 *                       text by default, at N per second from the upgrade
 *                       on, the first at once, on a fixed schedule (no
 *                       drift); after M of them a close 1000; without
 *                       count, until the client closes. N 1..100000
 *
 * Hostile endpoints (those that leave the WebSocket open echo like /echo
 * once the misdeed is done, and all answer a close like /echo, so a client
 * that misses the misdeed shows it):
 *   /bad-accept         101 with a wrong Sec-WebSocket-Accept (the right
 *                       one for another key); then reads until the client
 *                       closes
 *   /no-upgrade         200 with a 12-byte body instead of 101; then as
 *                       /bad-accept
 *   /masked             a masked text frame "masked frame" (12 bytes)
 *   /bad-utf8[?mode=whole|split|truncated]
 *                       a text message with invalid UTF-8: whole, one frame
 *                       "bad \xc3\x28 utf8"; split, two fragments "bad \xc3"
 *                       and "\x28 utf8" (each half alone could be valid);
 *                       truncated, one frame "bad \xe2\x82" ending inside a
 *                       character
 *   /too-big[?size=N][&mode=frame|frags|header]
 *                       a binary message of N bytes (default 2 MiB): one
 *                       frame; or fragments of 64 KiB; or only a frame
 *                       header announcing N bytes, nothing after it
 *   /rsv[?bits=B]       a text frame "rsv" with the RSV field B (1-7:
 *                       4 = RSV1, 2 = RSV2, 1 = RSV3; default 4)
 *   /opcode[?op=N]      a frame "opcode" with the reserved opcode N (3-7,
 *                       11-15; default 3)
 *   /abrupt[?rst=1]     a text message "abrupt", then FIN (or RST with rst=1)
 *                       without a close frame
 *   /silent             never answers the upgrade; reads until the client
 *                       closes
 *   /ping-flood[?n=N][&size=S]
 *                       N pings (payload "ping I", I from 1; default 100,
 *                       at most 100000; with size, exactly S bytes, 0-125,
 *                       cut or padded with 'p'), then echoes
 *   /frag[?n=K]         the UTF-8 text "fragmenté €uro ünïcödé" (29 bytes)
 *                       in K fragments (2-29, default 3, cut inside
 *                       multi-byte characters) with a ping "frag I"
 *                       between each two, then a close 1000
 *   /close[?code=C][&reason=R]
 *                       a close frame with code C (any 0-65535, valid or
 *                       not; "none": empty payload; "short": one byte) and
 *                       reason R (percent-decoded, so %FF is invalid UTF-8);
 *                       default 1000
 *   /bad-cont           a continuation frame "cont" with no message started
 *   /bad-frag           a text frame "abc" without FIN, then a new text frame
 *                       "def" (not a continuation)
 *   /ctl-too-long       a ping with a 126-byte payload
 *   /ctl-frag           a ping "ab" cut in two: ping "a" without FIN, then a
 *                       continuation "b"
 *   /pong               an unsolicited pong "unsolicited", then a text
 *                       message "after pong" (legal: the client must ignore
 *                       the pong)
 *   /after-close        a close 1000, then a text message "late" (data after
 *                       a close, which the client must not deliver)
 *   /ab/CASE            Autobahn|Testsuite client-side case CASE (1.1.1,
 *                       5.19, 6.4.1, 6.20.3, 6.20.3-f, 7.9.2, 9.3.1, ...):
 *                       its frames as wssrv_ab.h scripts them, chops and
 *                       pauses included; a pause ends the script if the
 *                       client has closed meanwhile (fail fast). Nothing
 *                       is echoed; the client's messages are logged. An
 *                       unknown CASE is a query error (close 1008).
 *
 * What the server demands of clients (RFC 6455 5.1-5.5, 7.4, 8.1): masked
 * frames, RSV 0, known opcodes, control frames whole and at most 125 bytes,
 * continuations only inside a message and none else, valid UTF-8 in text
 * messages (1007) and close reasons, valid close codes and payloads, and
 * messages no larger than --max-message (1009). A violation is logged as
 * "error KIND", answered with a close frame with the code, and the
 * connection is closed once the client closes or --close-timeout passes.
 *
 * The log (--log FILE): one line per event, written with one write(2) to
 * an O_APPEND descriptor, so each line is whole and on disk as soon as the
 * event happens (a test can wait for a line with a bounded poll). ID is
 * the connection's number (1, 2, ... per process), PATH its request path
 * without the query ("-" before the first request):
 *   ID - accept PEER                    TCP connection accepted (ADDR:PORT)
 *   ID PATH http STATUS [user=NAME]     a plain HTTP answer (0: /silent,
 *                                       never answered; 101 bad-accept)
 *   ID PATH open PEER [proto=P] [user=U]  101 sent, WebSocket open
 *   ID PATH recv text|binary BYTES FRAMES  a whole data message received
 *   ID PATH recv ping|pong BYTES HEX    HEX: the payload, "-" if empty
 *   ID PATH sent text|binary BYTES FRAMES  a data message queued
 *   ID PATH sent ping|pong BYTES HEX
 *   ID PATH sent-bad KIND BYTES         a hostile frame queued (KIND: the
 *                                       endpoint's misdeed: masked,
 *                                       bad-utf8, too-big, rsv, opcode,
 *                                       bad-cont, bad-frag, ctl-too-long,
 *                                       ctl-frag, unsolicited-pong,
 *                                       after-close; /close logs close-sent)
 *   ID PATH sent-bad script OP BYTES FRAMES  an /ab/ script's step out
 *                                       whole (OP text, binary, cont,
 *                                       ping, pong, close or op for a
 *                                       reserved one; BYTES its payload);
 *                                       "script raw BYTES" for bytes as
 *                                       they are; a script's first close
 *                                       frame logs close-sent instead
 *   ID PATH close-recv CODE             CODE: the number, "none" (empty
 *   ID PATH close-sent CODE             payload) or "short" (1 byte)
 *   ID PATH join USER | leave USER      /chat: a join, a joined user's exit
 *   ID PATH error KIND                  the client broke the protocol:
 *        unmasked rsv opcode framing continuation utf8 too-big close-code
 *        close-short close-utf8 overflow (the client does not read: over
 *        64 MiB queued), query (an endpoint's query it cannot use, such
 *        as /push?rate=0: close 1008 right after the 101), after-close
 *        (a frame after the client's close: frames are still read until
 *        its EOF, RFC 6455 5.5.1)
 *   ID PATH end REASON sent=N recv=N sent_bytes=N recv_bytes=N
 *        pings_sent=N pings_recv=N pongs_sent=N pongs_recv=N
 *        close_sent=C close_recv=C errors=N ms=N
 *                                       the last line of every connection;
 *                                       sent/recv count data messages
 *                                       (sent-bad frames apart), bytes
 *                                       their payloads; C as above, "-"
 *                                       for none. REASON: clean (close
 *                                       frames both ways, then TCP closed),
 *                                       eof (the client closed TCP without
 *                                       a finished close handshake), reset,
 *                                       error (we closed on the client's
 *                                       protocol error), timeout (no
 *                                       client close within
 *                                       --close-timeout), abrupt, http
 *                                       (never upgraded), shutdown (server
 *                                       stopped).
 * "sent" lines are written when the frame is queued: what the client can
 * have received is exact when the connection ends clean.
 *
 * One epoll loop, level-triggered, non-blocking sockets, no threads.
 * Frames are read and written through wslay's frame API (wslay_frame_recv
 * and wslay_frame_send); hostile frames are written byte by byte. Timers
 * (push schedules, close timeouts) live in a min-heap of deadlines that
 * bounds epoll_wait.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "sp_ws.h"
#include "srvutil.h"
#include "wssrv_ab.h"

/* A request head and a /register body must fit here. */
#define WSSRV_IN_SIZE (16 * 1024)
#define WSSRV_BODY_MAX 4096
#define WSSRV_MAX_EVENTS 256
/* Bytes read from one connection per wake-up, so that one flood cannot
 * starve the others: level-triggered epoll brings it back. */
#define WSSRV_READ_BUDGET (256 * 1024)
/* Input is not read while more than this waits to be written (a client
 * that sends but does not read gets TCP back-pressure, not our memory). */
#define WSSRV_OUT_HIGH (1024 * 1024)
/* A connection that lets more pile up (broadcasts, pushes) is dropped. */
#define WSSRV_OUT_MAX (64ul * 1024 * 1024)
#define WSSRV_PATH_MAX 128
#define WSSRV_NAME_MAX 64
#define WSSRV_PROTO_MAX 64
#define WSSRV_PUSH_RATE_MAX 100000ul
#define WSSRV_FLOOD_MAX 100000ul
#define WSSRV_TOO_BIG_DEFAULT (2ul * 1024 * 1024)
/* What /too-big may queue whole; mode=header may announce up to 2^62. */
#define WSSRV_TOO_BIG_MAX (32ul * 1024 * 1024)
#define WSSRV_FRAG_CHUNK (64 * 1024)
#define WSSRV_USER_BUCKETS 4096

enum wssrv_kind {
	WSSRV_SIGNAL,
	WSSRV_LISTEN,
	WSSRV_CONN,
};

enum wssrv_route {
	R_NONE,
	R_REGISTER,
	R_ECHO,
	R_CHAT,
	R_PUSH,
	R_BAD_ACCEPT,
	R_NO_UPGRADE,
	R_MASKED,
	R_BAD_UTF8,
	R_TOO_BIG,
	R_RSV,
	R_OPCODE,
	R_ABRUPT,
	R_SILENT,
	R_PING_FLOOD,
	R_FRAG,
	R_CLOSE,
	R_BAD_CONT,
	R_BAD_FRAG,
	R_CTL_TOO_LONG,
	R_CTL_FRAG,
	R_PONG,
	R_AFTER_CLOSE,
	R_AB,
};

// clang-format off
static const struct wssrv_path {
	const char *path;
	enum wssrv_route route;
} wssrv_paths[] = {
	{ "/register", R_REGISTER },
	{ "/echo", R_ECHO },
	{ "/push", R_PUSH },
	{ "/bad-accept", R_BAD_ACCEPT },
	{ "/no-upgrade", R_NO_UPGRADE },
	{ "/masked", R_MASKED },
	{ "/bad-utf8", R_BAD_UTF8 },
	{ "/too-big", R_TOO_BIG },
	{ "/rsv", R_RSV },
	{ "/opcode", R_OPCODE },
	{ "/abrupt", R_ABRUPT },
	{ "/silent", R_SILENT },
	{ "/ping-flood", R_PING_FLOOD },
	{ "/frag", R_FRAG },
	{ "/close", R_CLOSE },
	{ "/bad-cont", R_BAD_CONT },
	{ "/bad-frag", R_BAD_FRAG },
	{ "/ctl-too-long", R_CTL_TOO_LONG },
	{ "/ctl-frag", R_CTL_FRAG },
	{ "/pong", R_PONG },
	{ "/after-close", R_AFTER_CLOSE },
};
// clang-format on

/*
 * A connection's life. Order matters only for the reader: HTTP requests,
 * then a WebSocket, then reading to the client's EOF (after a refusal,
 * after our close, or where a hostile answer leaves the client to act).
 */
enum wssrv_state {
	ST_HTTP,    /* reading requests */
	ST_WS,      /* frames both ways */
	ST_DISCARD, /* reading and dropping until EOF */
};

struct wssrv_room;

struct wssrv_conn {
	struct srv_obj obj; /* first: the epoll data pointer */
	struct srv_link link;
	unsigned long id;
	enum wssrv_state st;
	enum wssrv_route route;
	uint32_t events;
	int peer_eof;
	int upgraded;
	int echo;           /* echo data messages */
	int shut_pending;   /* shutdown(SHUT_WR) once the output is out */
	int rst_pending;    /* RST once the output is out (/abrupt?rst=1) */
	const char *reason; /* the end reason, if fixed before the end */
	uint64_t t0_us;
	char path[WSSRV_PATH_MAX];
	char peer[64];

	/* timer: push schedule or close timeout */
	struct srv_timer tm;

	size_t in_start, in_len; /* unparsed input is [in_start, in_len) */
	size_t budget;

	/* output, grown on demand */
	struct srv_out out;

	/* WebSocket */
	wslay_frame_context_ptr fr;
	int in_frame; /* a frame's header was read, not yet its payload */
	uint8_t fr_op;
	int fr_fin;
	uint64_t fr_len, fr_off;
	uint8_t msg_op; /* 0: no data message in progress */
	uint8_t *msg;
	size_t msg_len, msg_cap;
	unsigned msg_frames;
	uint32_t utf8;
	uint8_t ctl[125];
	size_t ctl_len;
	int close_sent, close_recv;
	char close_sent_s[8], close_recv_s[8];
	char proto[WSSRV_PROTO_MAX];

	unsigned long long msgs_sent, msgs_recv, bytes_sent, bytes_recv;
	unsigned long long pings_sent, pings_recv, pongs_sent, pongs_recv;
	unsigned long errors;

	/* /chat */
	struct wssrv_room *room;
	struct wssrv_conn *rprev, *rnext;
	int joined;
	char user[WSSRV_NAME_MAX + 1];

	/* /push */
	unsigned long push_rate, push_count, push_size, push_seq;
	uint8_t push_op;
	uint64_t push_t0_us;

	/* /ab/CASE: the script, the step on, the step's bytes being
	 * written in chops, whether the timer is the script's */
	const struct ab_case *ab;
	unsigned ab_i;
	uint8_t *ab_buf;
	size_t ab_len, ab_off, ab_bytes, ab_frames;
	int ab_timer;
	struct ab_case ab_dcase; /* a case made from a table (6.5+, 7.7+) */
	struct ab_step ab_dstep;
	uint8_t ab_dp[128];

	/* Last, and not cleared at accept: the input buffer (HTTP heads,
	 * and what followed the upgrade request), whose pages an idle
	 * connection never touches. */
	char in[WSSRV_IN_SIZE];
};

struct wssrv_room {
	struct wssrv_room *next;
	struct wssrv_conn *members;
	char name[WSSRV_NAME_MAX + 1];
};

struct wssrv_user {
	struct wssrv_user *next;
	char name[WSSRV_NAME_MAX + 1];
	char *pass;
};

struct wssrv {
	struct srv_base b;
	struct srv_obj sig; /* the signalfd's epoll tag */
	struct srv_obj lst[SRV_MAX_LISTEN];
	struct srv_link *conns;
	unsigned long next_id;
	struct srv_heap heap;
	struct wssrv_room *rooms;
	struct wssrv_user *users[WSSRV_USER_BUCKETS];
	uint64_t max_message;
	uint64_t close_timeout_us;
};

static uint8_t scratch[64 * 1024];

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: %s --listen ADDR:PORT [--listen ...] [--log FILE]\n"
		"          [--pidfile FILE] [--backlog N] [--max-message BYTES]\n"
		"          [--close-timeout MS]\n"
		"  --listen ADDR:PORT   listen there (IPv6 as [ADDR]:PORT); repeatable\n"
		"  --log FILE           append one line per event (format: the top of\n"
		"                       tools/sp-wssrv.c)\n"
		"  --pidfile FILE       write the pid here once listening; removed on exit\n"
		"  --backlog N          listen backlog (default 4096)\n"
		"  --max-message BYTES  largest message accepted from a client; beyond,\n"
		"                       close 1009 (default 4194304)\n"
		"  --close-timeout MS   how long to wait for the client's close or FIN\n"
		"                       once ours is sent (default 5000)\n"
		"paths: POST /register; WebSocket /echo /chat/ROOM /push?rate=N&count=M&size=S\n"
		"       hostile: /bad-accept /no-upgrade /masked /bad-utf8 /too-big /rsv\n"
		"       /opcode /abrupt /silent /ping-flood /frag /close /bad-cont\n"
		"       /bad-frag /ctl-too-long /ctl-frag /pong /after-close\n",
		srv_prog);
}

static int
epoll_set(struct wssrv *s, int op, struct srv_obj *o, uint32_t events)
{
	return srv_epoll(&s->b, op, o->fd, o, events);
}

/* ---- the log ---- */

static void wlog(struct wssrv *s, const struct wssrv_conn *c, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static void
wlog(struct wssrv *s, const struct wssrv_conn *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->b.log_fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srv_log(&s->b, "%lu %s %s", c->id, c->path[0] != '\0' ? c->path : "-",
		msg);
}

/* ---- the timer ---- */

static void
timer_stop(struct wssrv *s, struct wssrv_conn *c)
{
	srv_timer_stop(&s->heap, &c->tm);
}

static int
timer_set(struct wssrv *s, struct wssrv_conn *c, uint64_t deadline_us)
{
	return srv_timer_set(&s->heap, &c->tm, deadline_us);
}

/* ---- frames out ---- */

static ssize_t
fr_send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
	struct wssrv_conn *c = user;

	(void)flags;
	/* Everything goes to the output buffer: wslay never waits on the
	 * socket, and a frame is always queued whole. */
	if (srv_out_put(&c->out, data, len) != 0)
		return -1;
	return (ssize_t)len;
}

static ssize_t
fr_recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
	struct wssrv_conn *c = user;
	ssize_t n;

	(void)flags;
	/* What followed the upgrade request in the same read comes first. */
	if (c->in_start < c->in_len) {
		n = (ssize_t)(c->in_len - c->in_start);
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, c->in + c->in_start, (size_t)n);
		c->in_start += (size_t)n;
		return n;
	}
	if (c->peer_eof || c->budget == 0)
		return 0;
	if (len > c->budget)
		len = c->budget;
	n = read(c->obj.fd, buf, len);
	if (n > 0) {
		c->budget -= (size_t)n;
		return n;
	}
	if (n == 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		/* EOF, or the socket failed: the next read says which. */
		c->peer_eof = 1;
		if (n < 0)
			c->reason = "reset";
	}
	c->budget = 0;
	return 0;
}

static int
fr_genmask_cb(uint8_t *buf, size_t len, void *user)
{
	(void)user;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rand();
	return 0;
}

static const struct wslay_frame_callbacks fr_callbacks = {
	.send_callback = fr_send_cb,
	.recv_callback = fr_recv_cb,
	.genmask_callback = fr_genmask_cb,
};

static const char *
op_name(uint8_t op)
{
	switch (op) {
	case WSLAY_TEXT_FRAME:
		return "text";
	case WSLAY_BINARY_FRAME:
		return "binary";
	case WSLAY_PING:
		return "ping";
	case WSLAY_PONG:
		return "pong";
	default:
		return "?";
	}
}

/* A control frame's payload (at most 125 bytes) as logged: hex, "-" when
 * empty. One static buffer: one use per log line. */
static const char *
hex(const void *p, size_t n)
{
	static char buf[2 * 125 + 1];
	const uint8_t *q = p;
	size_t i;

	if (n == 0)
		return "-";
	if (n > 125)
		n = 125;
	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", q[i]);
	return buf;
}

/* One frame through wslay, unmasked as a server's must be. */
static int
ws_frame(struct wssrv_conn *c, int fin, uint8_t op, const void *p, size_t n)
{
	struct wslay_frame_iocb io = {
		.fin = (uint8_t)(fin ? 1 : 0),
		.rsv = 0,
		.opcode = op,
		.payload_length = n,
		.mask = 0,
		.data = p,
		.data_length = n,
	};
	ssize_t r = wslay_frame_send(c->fr, &io);

	if (r < 0 || (size_t)r != n) {
		logerr("conn %lu: wslay_frame_send: %zd", c->id, r);
		return -1;
	}
	return 0;
}

/* A data message, whole, as one frame; counted and logged. */
static void
ws_send_msg(struct wssrv *s, struct wssrv_conn *c, uint8_t op, const void *p,
	    size_t n)
{
	if (c->close_sent || c->st != ST_WS)
		return;
	if (ws_frame(c, 1, op, p, n) != 0)
		return;
	c->msgs_sent++;
	c->bytes_sent += n;
	wlog(s, c, "sent %s %zu 1", op_name(op), n);
}

static void
ws_send_ctl(struct wssrv *s, struct wssrv_conn *c, uint8_t op, const void *p,
	    size_t n)
{
	if (c->close_sent || c->st != ST_WS)
		return;
	if (ws_frame(c, 1, op, p, n) != 0)
		return;
	if (op == WSLAY_PING)
		c->pings_sent++;
	else
		c->pongs_sent++;
	wlog(s, c, "sent %s %zu %s", op_name(op), n, hex(p, n));
}

static void
close_code_str(char out[8], const uint8_t *p, size_t n)
{
	if (n == 0)
		snprintf(out, 8, "none");
	else if (n == 1)
		snprintf(out, 8, "short");
	else
		snprintf(out, 8, "%u", (unsigned)(p[0] << 8 | p[1]));
}

/* A close frame with payload [p, p + n) (code and reason), logged. Then
 * nothing more is sent, and the client has --close-timeout to answer. */
static void
ws_send_close_raw(struct wssrv *s, struct wssrv_conn *c, const uint8_t *p,
		  size_t n)
{
	if (c->close_sent)
		return;
	if (ws_frame(c, 1, WSLAY_CONNECTION_CLOSE, p, n) != 0)
		return;
	c->close_sent = 1;
	close_code_str(c->close_sent_s, p, n);
	wlog(s, c, "close-sent %s", c->close_sent_s);
	c->ab_timer = 0;
	timer_set(s, c, srv_now_us() + s->close_timeout_us);
}

static void
ws_send_close(struct wssrv *s, struct wssrv_conn *c, unsigned code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	ws_send_close_raw(s, c, p, 2);
}

/* A frame written byte by byte, for the hostile endpoints: any first
 * byte, masked or not, and a length field that may announce more than
 * the payload that follows. */
static void
raw_frame(struct wssrv *s, struct wssrv_conn *c, uint8_t b0, int mask,
	  const void *p, size_t n, uint64_t announced, const char *kind)
{
	uint8_t h[14], key[4];
	size_t hl = 0;

	h[hl++] = b0;
	if (announced < 126) {
		h[hl++] = (uint8_t)announced;
	} else if (announced < 65536) {
		h[hl++] = 126;
		h[hl++] = (uint8_t)(announced >> 8);
		h[hl++] = (uint8_t)announced;
	} else {
		h[hl++] = 127;
		for (int i = 7; i >= 0; i--)
			h[hl++] = (uint8_t)(announced >> (8 * i));
	}
	if (mask) {
		h[1] |= 0x80;
		fr_genmask_cb(key, 4, NULL);
		memcpy(h + hl, key, 4);
		hl += 4;
	}
	srv_out_put(&c->out, h, hl);
	if (mask) {
		const uint8_t *q = p;

		for (size_t i = 0; i < n; i++) {
			uint8_t b = q[i] ^ key[i % 4];

			srv_out_put(&c->out, &b, 1);
		}
	} else if (n > 0) {
		srv_out_put(&c->out, p, n);
	}
	wlog(s, c, "sent-bad %s %zu", kind, n);
}

/* ---- chat ---- */

static struct wssrv_room *
room_get(struct wssrv *s, const char *name)
{
	struct wssrv_room *r;

	for (r = s->rooms; r != NULL; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->next = s->rooms;
	s->rooms = r;
	return r;
}

static void
room_leave(struct wssrv *s, struct wssrv_conn *c)
{
	struct wssrv_room *r = c->room, **pp;

	if (r == NULL)
		return;
	if (c->rprev != NULL)
		c->rprev->rnext = c->rnext;
	else
		r->members = c->rnext;
	if (c->rnext != NULL)
		c->rnext->rprev = c->rprev;
	c->room = NULL;
	if (r->members != NULL)
		return;
	for (pp = &s->rooms; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			free(r);
			break;
		}
	}
}

static int conn_write(struct wssrv_conn *c);

/* Every member (but @skip) gets the message, written at once: the
 * members have no event of their own to flush it. What the socket does
 * not take waits for EPOLLOUT; a failed socket is reported by epoll
 * (EPOLLERR, EPOLLHUP) and ended in its own event. */
static void
room_send(struct wssrv *s, struct wssrv_room *r, struct wssrv_conn *skip,
	  uint8_t op, const void *p, size_t n)
{
	for (struct wssrv_conn *m = r->members; m != NULL; m = m->rnext) {
		if (m == skip)
			continue;
		ws_send_msg(s, m, op, p, n);
		if (conn_write(m) == 0 && srv_out_pending(&m->out) > 0 &&
		    !(m->events & EPOLLOUT)) {
			m->events |= EPOLLOUT;
			if (epoll_set(s, EPOLL_CTL_MOD, &m->obj, m->events) !=
			    0)
				logerr("epoll_ctl: %s", strerror(errno));
		}
	}
}

static void
chat_text(struct wssrv *s, struct wssrv_conn *c, const uint8_t *p, size_t n)
{
	char buf[4 * WSSRV_NAME_MAX + 128], *big;
	const char *t, *u;
	size_t tl, ul, o, cap;

	if (srv_json_str(p, n, "type", &t, &tl) == 0 && tl == 4 &&
	    memcmp(t, "join", 4) == 0 &&
	    srv_json_str(p, n, "user", &u, &ul) == 0 &&
	    srv_name_ok(u, ul, WSSRV_NAME_MAX)) {
		memcpy(c->user, u, ul);
		c->user[ul] = '\0';
		c->joined = 1;
		wlog(s, c, "join %s", c->user);
		o = (size_t)snprintf(buf, sizeof(buf),
				     "{\"type\":\"joined\",\"room\":\"%s\","
				     "\"user\":\"%s\"}",
				     c->room->name, c->user);
		ws_send_msg(s, c, WSLAY_TEXT_FRAME, buf, o);
		o = (size_t)snprintf(buf, sizeof(buf),
				     "{\"type\":\"enter\",\"room\":\"%s\","
				     "\"user\":\"%s\"}",
				     c->room->name, c->user);
		room_send(s, c->room, c, WSLAY_TEXT_FRAME, buf, o);
		return;
	}
	/* Escaped, a byte takes at most 6. */
	cap = sizeof(buf) + 6 * n + 8;
	big = malloc(cap);
	if (big == NULL) {
		logerr("out of memory for a chat message");
		return;
	}
	o = (size_t)snprintf(big, cap,
			     "{\"type\":\"chat\",\"room\":\"%s\","
			     "\"user\":\"%s\",\"text\":\"",
			     c->room->name, c->user);
	o += srv_json_escape(big + o, cap - o - 2, p, n);
	big[o++] = '"';
	big[o++] = '}';
	room_send(s, c->room, NULL, WSLAY_TEXT_FRAME, big, o);
	free(big);
}

static void
chat_gone(struct wssrv *s, struct wssrv_conn *c)
{
	struct wssrv_room *r = c->room;
	char buf[3 * WSSRV_NAME_MAX + 64];
	int n;

	int alone;

	if (r == NULL)
		return;
	/* The room goes with its last member. */
	alone = r->members == c && c->rnext == NULL;
	room_leave(s, c);
	if (!c->joined)
		return;
	wlog(s, c, "leave %s", c->user);
	if (alone)
		return;
	n = snprintf(buf, sizeof(buf),
		     "{\"type\":\"leave\",\"room\":\"%s\",\"user\":\"%s\"}",
		     r->name, c->user);
	room_send(s, r, NULL, WSLAY_TEXT_FRAME, buf, (size_t)n);
}

/* ---- users ---- */

static unsigned
user_hash(const char *name)
{
	unsigned h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % WSSRV_USER_BUCKETS;
}

static struct wssrv_user *
user_find(struct wssrv *s, const char *name)
{
	struct wssrv_user *u;

	for (u = s->users[user_hash(name)]; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

/* ---- connections ---- */

static void
conn_free(struct wssrv *s, struct wssrv_conn *c)
{
	timer_stop(s, c);
	close(c->obj.fd);
	srv_link_del(&s->conns, &c->link);
	if (c->fr != NULL)
		wslay_frame_context_free(c->fr);
	srv_out_free(&c->out);
	free(c->msg);
	free(c->ab_buf);
	free(c);
}

/* The end line, then the connection is gone. */
static void
conn_end(struct wssrv *s, struct wssrv_conn *c, const char *why)
{
	const char *reason = why;

	if (reason == NULL)
		reason = c->reason;
	if (reason == NULL) {
		if (!c->upgraded)
			reason = "http";
		else if (c->close_sent && c->close_recv)
			reason = "clean";
		else
			reason = "eof";
	}
	chat_gone(s, c);
	wlog(s, c,
	     "end %s sent=%llu recv=%llu sent_bytes=%llu recv_bytes=%llu "
	     "pings_sent=%llu pings_recv=%llu pongs_sent=%llu pongs_recv=%llu "
	     "close_sent=%s close_recv=%s errors=%lu ms=%llu",
	     reason, c->msgs_sent, c->msgs_recv, c->bytes_sent, c->bytes_recv,
	     c->pings_sent, c->pings_recv, c->pongs_sent, c->pongs_recv,
	     c->close_sent ? c->close_sent_s : "-",
	     c->close_recv ? c->close_recv_s : "-", c->errors,
	     (unsigned long long)((srv_now_us() - c->t0_us) / 1000));
	conn_free(s, c);
}

/* Stop reading frames: read and drop until the client's EOF. With @fin,
 * our FIN goes once the output is out (the server closes the TCP
 * connection first, RFC 6455 7.1.1), and the client has --close-timeout. */
static void
conn_discard(struct wssrv *s, struct wssrv_conn *c, int fin)
{
	c->st = ST_DISCARD;
	if (fin) {
		c->shut_pending = 1;
		if (!c->tm.armed)
			timer_set(s, c, srv_now_us() + s->close_timeout_us);
	}
}

/* The client broke the protocol: say so with a close code and go. */
static void
ws_fail(struct wssrv *s, struct wssrv_conn *c, const char *kind, unsigned code)
{
	c->errors++;
	wlog(s, c, "error %s", kind);
	ws_send_close(s, c, code);
	c->reason = "error";
	conn_discard(s, c, 1);
}

/* ---- frames in ---- */

static void
msg_done(struct wssrv *s, struct wssrv_conn *c)
{
	uint8_t op = c->msg_op;

	c->msgs_recv++;
	c->bytes_recv += c->msg_len;
	wlog(s, c, "recv %s %zu %u", op_name(op), c->msg_len, c->msg_frames);
	c->msg_op = 0;
	if (c->route == R_CHAT) {
		if (op == WSLAY_TEXT_FRAME)
			chat_text(s, c, c->msg, c->msg_len);
		else
			room_send(s, c->room, NULL, op, c->msg, c->msg_len);
	} else if (c->echo) {
		ws_send_msg(s, c, op, c->msg, c->msg_len);
	}
	c->msg_len = 0;
}

static void
ctl_done(struct wssrv *s, struct wssrv_conn *c)
{
	char code[8];

	switch (c->fr_op) {
	case WSLAY_PING:
		c->pings_recv++;
		wlog(s, c, "recv ping %zu %s", c->ctl_len,
		     hex(c->ctl, c->ctl_len));
		ws_send_ctl(s, c, WSLAY_PONG, c->ctl, c->ctl_len);
		break;
	case WSLAY_PONG:
		c->pongs_recv++;
		wlog(s, c, "recv pong %zu %s", c->ctl_len,
		     hex(c->ctl, c->ctl_len));
		break;
	case WSLAY_CONNECTION_CLOSE:
		close_code_str(code, c->ctl, c->ctl_len);
		if (c->ctl_len == 1) {
			ws_fail(s, c, "close-short", 1002);
			return;
		}
		if (c->ctl_len >= 2 &&
		    !sp_ws_close_code_ok(
			    (unsigned)(c->ctl[0] << 8 | c->ctl[1]))) {
			ws_fail(s, c, "close-code", 1002);
			return;
		}
		if (c->ctl_len > 2 &&
		    sp_utf8_feed(SP_UTF8_ACCEPT, c->ctl + 2, c->ctl_len - 2) !=
			    SP_UTF8_ACCEPT) {
			ws_fail(s, c, "close-utf8", 1007);
			return;
		}
		c->close_recv = 1;
		memcpy(c->close_recv_s, code, sizeof(code));
		wlog(s, c, "close-recv %s", code);
		/* Echo the code (none for none), then our FIN; but not
		 * into an /ab/ script's bytes still going out (a client
		 * that failed in the middle of it has gone anyway). */
		if (c->ab != NULL && c->ab_i < c->ab->nst) {
			c->ab_i = c->ab->nst;
			c->ab_timer = 0;
		} else {
			ws_send_close_raw(s, c, c->ctl, c->ctl_len < 2 ? 0 : 2);
		}
		/* Frames are still read: one after the client's close is
		 * an error of its own (RFC 6455 5.5.1). */
		c->shut_pending = 1;
		timer_set(s, c, srv_now_us() + s->close_timeout_us);
		break;
	}
}

/* A frame's header has been read: judge it as a server must. Returns 0
 * to go on. */
static int
frame_start(struct wssrv *s, struct wssrv_conn *c,
	    const struct wslay_frame_iocb *io)
{
	uint8_t op = io->opcode;

	c->fr_op = op;
	c->fr_fin = io->fin;
	c->fr_len = io->payload_length;
	c->fr_off = 0;
	if (c->close_recv) {
		ws_fail(s, c, "after-close", 1002);
		return -1;
	}
	if (!io->mask) {
		ws_fail(s, c, "unmasked", 1002);
		return -1;
	}
	if (io->rsv != 0) {
		ws_fail(s, c, "rsv", 1002);
		return -1;
	}
	switch (op) {
	case WSLAY_CONTINUATION_FRAME:
		if (c->msg_op == 0) {
			ws_fail(s, c, "continuation", 1002);
			return -1;
		}
		break;
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		if (c->msg_op != 0) {
			ws_fail(s, c, "continuation", 1002);
			return -1;
		}
		c->msg_op = op;
		c->msg_len = 0;
		c->msg_frames = 0;
		c->utf8 = SP_UTF8_ACCEPT;
		break;
	case WSLAY_CONNECTION_CLOSE:
	case WSLAY_PING:
	case WSLAY_PONG:
		/* wslay already refused long or fragmented ones. */
		c->ctl_len = 0;
		return 0;
	default:
		ws_fail(s, c, "opcode", 1002);
		return -1;
	}
	c->msg_frames++;
	if (c->msg_len + io->payload_length > s->max_message) {
		ws_fail(s, c, "too-big", 1009);
		return -1;
	}
	if (c->msg_len + io->payload_length > c->msg_cap) {
		size_t cap = c->msg_cap ? c->msg_cap : 4096;
		uint8_t *m;

		while (cap < c->msg_len + io->payload_length)
			cap *= 2;
		m = realloc(c->msg, cap);
		if (m == NULL) {
			ws_fail(s, c, "too-big", 1009);
			return -1;
		}
		c->msg = m;
		c->msg_cap = cap;
	}
	return 0;
}

/* Payload bytes of the current frame. Returns 0 to go on. */
static int
frame_data(struct wssrv *s, struct wssrv_conn *c, const uint8_t *p, size_t n)
{
	if (c->fr_op & 0x8) {
		memcpy(c->ctl + c->ctl_len, p, n);
		c->ctl_len += n;
		return 0;
	}
	if (c->msg_op == WSLAY_TEXT_FRAME) {
		/* Fail fast, at the first bad byte (RFC 6455 8.1). */
		c->utf8 = sp_utf8_feed(c->utf8, p, n);
		if (c->utf8 == SP_UTF8_REJECT) {
			ws_fail(s, c, "utf8", 1007);
			return -1;
		}
	}
	memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += n;
	return 0;
}

static void
frame_end(struct wssrv *s, struct wssrv_conn *c)
{
	if (c->fr_op & 0x8) {
		ctl_done(s, c);
		return;
	}
	if (!c->fr_fin)
		return;
	if (c->msg_op == WSLAY_TEXT_FRAME && c->utf8 != SP_UTF8_ACCEPT) {
		ws_fail(s, c, "utf8", 1007);
		return;
	}
	msg_done(s, c);
}

/* Read and handle frames until the socket has no more for now. */
static void
ws_read(struct wssrv *s, struct wssrv_conn *c)
{
	while (c->st == ST_WS) {
		struct wslay_frame_iocb io;
		ssize_t r;

		memset(&io, 0, sizeof(io));
		r = wslay_frame_recv(c->fr, &io);
		if (r == WSLAY_ERR_WANT_READ)
			return;
		if (r < 0) {
			/* A control frame over 125 bytes or fragmented, or a
			 * length not in its shortest form. */
			ws_fail(s, c, "framing", 1002);
			return;
		}
		if (!c->in_frame) {
			c->in_frame = 1;
			if (frame_start(s, c, &io) != 0)
				return;
		}
		if (r > 0 && frame_data(s, c, io.data, (size_t)r) != 0)
			return;
		c->fr_off += (uint64_t)r;
		if (c->fr_off == c->fr_len) {
			c->in_frame = 0;
			frame_end(s, c);
		}
	}
}

/* ---- the endpoints' opening moves ---- */

static void
push_due(struct wssrv *s, struct wssrv_conn *c)
{
	uint64_t now = srv_now_us();
	char buf[64];

	while (c->st == ST_WS && !c->close_sent &&
	       (c->push_count == 0 || c->push_seq < c->push_count)) {
		uint64_t due = c->push_t0_us +
			       c->push_seq * 1000000ull / c->push_rate;
		size_t n;

		if (due > now) {
			timer_set(s, c, due);
			return;
		}
		c->push_seq++;
		n = (size_t)snprintf(buf, sizeof(buf), "push %lu", c->push_seq);
		if (c->push_size > n) {
			uint8_t *m = malloc(c->push_size);

			if (m == NULL) {
				logerr("out of memory for a push");
				return;
			}
			memcpy(m, buf, n);
			memset(m + n, 'x', c->push_size - n);
			ws_send_msg(s, c, c->push_op, m, c->push_size);
			free(m);
		} else {
			ws_send_msg(s, c, c->push_op, buf, n);
		}
	}
	if (c->st == ST_WS && !c->close_sent)
		ws_send_close(s, c, 1000);
}

/* ---- /ab/CASE: the Autobahn client-side cases (wssrv_ab.h) ---- */

/* The script of case @name into c->ab: one of ab_cases, or one made from
 * the UTF-8 or close-code tables. 0, or -1 for no such case. */
static int
ab_find(struct wssrv_conn *c, const char *name)
{
	struct ab_step *st = &c->ab_dstep;
	unsigned g, i, k;
	int len, end = 0;

	for (i = 0; i < sizeof(ab_cases) / sizeof(ab_cases[0]); i++)
		if (strcmp(ab_cases[i].name, name) == 0) {
			c->ab = &ab_cases[i];
			return 0;
		}
	memset(st, 0, sizeof(*st));
	c->ab_dcase.name = name;
	c->ab_dcase.chop = AB_CHOP_NONE;
	c->ab_dcase.st = st;
	c->ab_dcase.nst = 1;
	for (g = 0; g < sizeof(ab_close_codes) / sizeof(ab_close_codes[0]);
	     g++) {
		size_t gl = strlen(ab_close_codes[g].group);

		if (strncmp(name, ab_close_codes[g].group, gl) != 0 ||
		    sscanf(name + gl, "%u%n", &i, &end) != 1 ||
		    name[gl + (size_t)end] != '\0' || i < 1 ||
		    i > ab_close_codes[g].n)
			continue;
		k = ab_close_codes[g].codes[i - 1];
		c->ab_dp[0] = (uint8_t)(k >> 8);
		c->ab_dp[1] = (uint8_t)k;
		st->kind = AB_FRAME;
		st->b0 = 0x88;
		st->n = 2;
		st->p = (const char *)c->ab_dp;
		c->ab = &c->ab_dcase;
		return 0;
	}
	/* 6.G.N, or 6.G.N-f: the same in one-byte fragments. */
	if (sscanf(name, "6.%u.%u%n", &g, &i, &end) != 2 || g < 5 || g > 23 ||
	    i < 1 || i > ab_utf8_n[g - 5])
		return -1;
	if (strcmp(name + end, "-f") == 0)
		st->kind = AB_FRAG1;
	else if (name[end] == '\0')
		st->kind = AB_FRAME;
	else
		return -1;
	g -= 5;
	i--;
	if (ab_utf8_g[g][i].p != NULL) {
		memcpy(c->ab_dp, ab_utf8_g[g][i].p, ab_utf8_g[g][i].n);
		len = (int)ab_utf8_g[g][i].n;
	} else {
		len = ab_utf8_gen(g, i, c->ab_dp);
		if (len < 0)
			return -1;
	}
	st->b0 = 0x81;
	st->n = (uint32_t)len;
	st->p = (const char *)c->ab_dp;
	c->ab = &c->ab_dcase;
	return 0;
}

/* A frame's header (server's: unmasked) into @h; returns its length. */
static size_t
ab_header(uint8_t *h, uint8_t b0, uint64_t n)
{
	size_t hl = 0;

	h[hl++] = b0;
	if (n < 126) {
		h[hl++] = (uint8_t)n;
	} else if (n < 65536) {
		h[hl++] = 126;
		h[hl++] = (uint8_t)(n >> 8);
		h[hl++] = (uint8_t)n;
	} else {
		h[hl++] = 127;
		for (int i = 7; i >= 0; i--)
			h[hl++] = (uint8_t)(n >> (8 * i));
	}
	return hl;
}

/* Step @st's bytes, whole, into c->ab_buf (c->ab_len of them); its
 * payload bytes and frames into @bytes and @frames. -1: no memory. */
static int
ab_render(struct wssrv_conn *c, const struct ab_step *st, size_t *bytes,
	  size_t *frames)
{
	size_t cap, len = 0, frag, nfr, rep, pl;

	switch (st->kind) {
	case AB_RAW:
		cap = st->n;
		break;
	case AB_FRAG1:
		cap = (size_t)st->n * 3;
		break;
	case AB_FILL:
		frag = st->frag ? st->frag : (st->n ? st->n : 1);
		nfr = st->n ? (st->n + frag - 1) / frag : 1;
		rep = st->rep ? st->rep : 1;
		cap = rep * (st->n + nfr * 10);
		break;
	default:
		cap = st->n + 10;
		break;
	}
	free(c->ab_buf);
	c->ab_buf = malloc(cap ? cap : 1);
	if (c->ab_buf == NULL)
		return -1;
	*bytes = 0;
	*frames = 0;
	switch (st->kind) {
	case AB_RAW:
		memcpy(c->ab_buf, st->p, st->n);
		len = st->n;
		*bytes = st->n;
		break;
	case AB_FRAG1:
		for (uint32_t i = 0; i < st->n; i++) {
			uint8_t b0 = i == 0 ? 0x01 : 0x00;

			if (i + 1 == st->n)
				b0 |= 0x80;
			len += ab_header(c->ab_buf + len, b0, 1);
			c->ab_buf[len++] = (uint8_t)st->p[i];
		}
		*bytes = st->n;
		*frames = st->n;
		break;
	case AB_FILL:
		pl = strlen(st->p);
		frag = st->frag ? st->frag : st->n;
		rep = st->rep ? st->rep : 1;
		for (size_t r = 0; r < rep; r++) {
			size_t off = 0;

			do {
				size_t k = st->n - off < frag ? st->n - off :
								frag;
				uint8_t b0 = off == 0 ? (st->b0 & 0x0f) : 0;

				if (off + k == st->n)
					b0 |= 0x80;
				len += ab_header(c->ab_buf + len, b0, k);
				for (size_t j = 0; j < k; j++)
					c->ab_buf[len + j] =
						(uint8_t)st->p[(off + j) % pl];
				len += k;
				off += k;
				(*frames)++;
			} while (off < st->n);
		}
		*bytes = rep * st->n;
		break;
	default:
		len = ab_header(c->ab_buf, st->b0, st->n);
		memcpy(c->ab_buf + len, st->p, st->n);
		len += st->n;
		*bytes = st->n;
		*frames = 1;
		break;
	}
	c->ab_len = len;
	c->ab_off = 0;
	return 0;
}

/* Step @st is out whole: log it; a close frame is our close. */
static void
ab_sent(struct wssrv *s, struct wssrv_conn *c, const struct ab_step *st,
	size_t bytes, size_t frames)
{
	uint8_t op = st->b0 & 0x0f;

	if (st->kind == AB_RAW) {
		wlog(s, c, "sent-bad script raw %zu", bytes);
		return;
	}
	if (st->kind == AB_FRAME && op == WSLAY_CONNECTION_CLOSE &&
	    st->b0 == 0x88 && !c->close_sent) {
		/* As ws_send_close_raw does, the frame being out. */
		c->close_sent = 1;
		close_code_str(c->close_sent_s, (const uint8_t *)st->p, st->n);
		wlog(s, c, "close-sent %s", c->close_sent_s);
		c->ab_timer = 0;
		timer_set(s, c, srv_now_us() + s->close_timeout_us);
		return;
	}
	wlog(s, c, "sent-bad script %s %zu %zu",
	     op == 0                      ? "cont" :
	     op == WSLAY_CONNECTION_CLOSE ? "close" :
	     op_name(op)[0] != '?'        ? op_name(op) :
					    "op",
	     bytes, frames);
}

/*
 * Play c->ab from where it stands: steps out as the case's chop says,
 * pausing on the timer (c->ab_timer) for a wait or between chops. Stops
 * for good once the client's close came (ctl_done ends the script).
 */
static void
ab_run(struct wssrv *s, struct wssrv_conn *c)
{
	const struct ab_case *ab = c->ab;

	while (c->st == ST_WS && c->ab_i < ab->nst) {
		const struct ab_step *st = &ab->st[c->ab_i];

		if (c->ab_buf == NULL) {
			if (st->kind == AB_WAIT) {
				c->ab_i++;
				c->ab_timer = 1;
				timer_set(s, c, srv_now_us() + st->n * 1000ull);
				return;
			}
			if (ab_render(c, st, &c->ab_bytes, &c->ab_frames) !=
			    0) {
				logerr("conn %lu: out of memory", c->id);
				c->ab_i = ab->nst;
				return;
			}
		}
		if (ab->chop == AB_CHOP_NONE) {
			srv_out_put(&c->out, c->ab_buf, c->ab_len);
			c->ab_off = c->ab_len;
		} else {
			size_t k = c->ab_len - c->ab_off;

			if (ab->chop > 0 && k > (size_t)ab->chop)
				k = (size_t)ab->chop;
			srv_out_put(&c->out, c->ab_buf + c->ab_off, k);
			c->ab_off += k;
		}
		if (c->ab_off == c->ab_len) {
			free(c->ab_buf);
			c->ab_buf = NULL;
			c->ab_i++;
			ab_sent(s, c, st, c->ab_bytes, c->ab_frames);
		}
		if (ab->chop != AB_CHOP_NONE && c->ab_i < ab->nst) {
			/* The next piece in a segment of its own. */
			c->ab_timer = 1;
			timer_set(s, c, srv_now_us() + 1000);
			return;
		}
	}
}

/* The text /frag sends: multi-byte characters throughout, so most cuts
 * fall inside one. */
static const char frag_text[] = "fragment\xc3\xa9 \xe2\x82\xac"
				"uro \xc3\xbc"
				"n\xc3\xaf"
				"c\xc3\xb6"
				"d\xc3\xa9";

/* Right after the 101: what the endpoint does unasked. @q is the query. */
static int
ws_begin(struct wssrv *s, struct wssrv_conn *c, const char *q, size_t qn)
{
	char v[256];
	unsigned long n, m;
	int vl;

	/* /ab/ logs what comes and echoes nothing: a case's messages are
	 * the script's alone. */
	c->echo = c->route != R_CHAT && c->route != R_PUSH && c->route != R_AB;
	switch (c->route) {
	case R_ECHO:
	case R_CHAT:
		break;
	case R_PUSH:
		if (srv_query_num(q, qn, "rate", 0, WSSRV_PUSH_RATE_MAX,
				  &c->push_rate) != 0 ||
		    c->push_rate == 0 ||
		    srv_query_num(q, qn, "count", 0, ~0ul, &c->push_count) !=
			    0 ||
		    srv_query_num(q, qn, "size", 0, 16ul << 20,
				  &c->push_size) != 0)
			return -1;
		vl = srv_query_get(q, qn, "type", v, sizeof(v));
		if (vl < 0 || strcmp(v, "text") == 0)
			c->push_op = WSLAY_TEXT_FRAME;
		else if (strcmp(v, "binary") == 0)
			c->push_op = WSLAY_BINARY_FRAME;
		else
			return -1;
		c->push_t0_us = srv_now_us();
		push_due(s, c);
		break;
	case R_MASKED:
		raw_frame(s, c, 0x81, 1, "masked frame", 12, 12, "masked");
		break;
	case R_BAD_UTF8:
		vl = srv_query_get(q, qn, "mode", v, sizeof(v));
		if (vl < 0 || strcmp(v, "whole") == 0) {
			raw_frame(s, c, 0x81, 0, "bad \xc3\x28 utf8", 11, 11,
				  "bad-utf8");
		} else if (strcmp(v, "split") == 0) {
			raw_frame(s, c, 0x01, 0, "bad \xc3", 5, 5, "bad-utf8");
			raw_frame(s, c, 0x80, 0, "\x28 utf8", 6, 6, "bad-utf8");
		} else if (strcmp(v, "truncated") == 0) {
			raw_frame(s, c, 0x81, 0, "bad \xe2\x82", 6, 6,
				  "bad-utf8");
		} else {
			return -1;
		}
		break;
	case R_TOO_BIG:
		if (srv_query_num(q, qn, "size", WSSRV_TOO_BIG_DEFAULT,
				  1ul << 62, &n) != 0)
			return -1;
		vl = srv_query_get(q, qn, "mode", v, sizeof(v));
		if (n > WSSRV_TOO_BIG_MAX && (vl < 0 || strcmp(v, "header")))
			return -1;
		if (vl < 0 || strcmp(v, "frame") == 0) {
			uint8_t *big = calloc(1, n ? n : 1);

			if (big == NULL)
				return -1;
			raw_frame(s, c, 0x82, 0, big, n, n, "too-big");
			free(big);
		} else if (strcmp(v, "frags") == 0) {
			static uint8_t chunk[WSSRV_FRAG_CHUNK];

			for (m = 0; m < n || m == 0; m += WSSRV_FRAG_CHUNK) {
				size_t k = n - m < WSSRV_FRAG_CHUNK ?
						   n - m :
						   WSSRV_FRAG_CHUNK;
				uint8_t b0 = m == 0 ? 0x02 : 0x00;

				if (m + k >= n)
					b0 |= 0x80;
				raw_frame(s, c, b0, 0, chunk, k, k, "too-big");
				if (n == 0)
					break;
			}
		} else if (strcmp(v, "header") == 0) {
			raw_frame(s, c, 0x82, 0, NULL, 0, n, "too-big");
		} else {
			return -1;
		}
		break;
	case R_RSV:
		if (srv_query_num(q, qn, "bits", 4, 7, &n) != 0 || n == 0)
			return -1;
		raw_frame(s, c, (uint8_t)(0x81 | n << 4), 0, "rsv", 3, 3,
			  "rsv");
		break;
	case R_OPCODE:
		if (srv_query_num(q, qn, "op", 3, 15, &n) != 0 ||
		    !((n >= 3 && n <= 7) || n >= 11))
			return -1;
		raw_frame(s, c, (uint8_t)(0x80 | n), 0, "opcode", 6, 6,
			  "opcode");
		break;
	case R_ABRUPT:
		if (srv_query_num(q, qn, "rst", 0, 1, &n) != 0)
			return -1;
		ws_send_msg(s, c, WSLAY_TEXT_FRAME, "abrupt", 6);
		c->reason = "abrupt";
		if (n)
			c->rst_pending = 1;
		else
			conn_discard(s, c, 1);
		timer_stop(s, c); /* the client has all the time it wants */
		break;
	case R_PING_FLOOD: {
		unsigned long size;

		if (srv_query_num(q, qn, "n", 100, WSSRV_FLOOD_MAX, &n) != 0 ||
		    srv_query_num(q, qn, "size", ~0ul, 125, &size) != 0)
			return -1;
		for (m = 1; m <= n; m++) {
			vl = snprintf(v, sizeof(v), "ping %lu", m);
			/* size=S: exactly S bytes, cut or padded with 'p'. */
			if (size != ~0ul) {
				if ((size_t)vl < size)
					memset(v + vl, 'p', size - (size_t)vl);
				vl = (int)size;
			}
			ws_send_ctl(s, c, WSLAY_PING, v, (size_t)vl);
		}
		break;
	}
	case R_FRAG: {
		size_t len = sizeof(frag_text) - 1, off = 0;

		if (srv_query_num(q, qn, "n", 3, len, &n) != 0 || n < 2)
			return -1;
		for (m = 0; m < n; m++) {
			size_t end = len * (m + 1) / n;

			if (ws_frame(c, m + 1 == n,
				     m == 0 ? WSLAY_TEXT_FRAME :
					      WSLAY_CONTINUATION_FRAME,
				     frag_text + off, end - off) != 0)
				return -1;
			off = end;
			if (m + 1 < n) {
				vl = snprintf(v, sizeof(v), "frag %lu", m + 1);
				ws_send_ctl(s, c, WSLAY_PING, v, (size_t)vl);
			}
		}
		c->msgs_sent++;
		c->bytes_sent += len;
		wlog(s, c, "sent text %zu %lu", len, n);
		ws_send_close(s, c, 1000);
		break;
	}
	case R_CLOSE: {
		uint8_t p[125];
		size_t pl;

		vl = srv_query_get(q, qn, "code", v, sizeof(v));
		if (vl < 0) {
			n = 1000;
		} else if (strcmp(v, "none") == 0) {
			ws_send_close_raw(s, c, p, 0);
			break;
		} else if (strcmp(v, "short") == 0) {
			p[0] = 0x03;
			ws_send_close_raw(s, c, p, 1);
			break;
		} else if (parse_ulong(v, 65535, &n) != 0) {
			return -1;
		}
		p[0] = (uint8_t)(n >> 8);
		p[1] = (uint8_t)n;
		vl = srv_query_get(q, qn, "reason", v, sizeof(v));
		pl = 2;
		if (vl > 0) {
			if ((size_t)vl > sizeof(p) - 2)
				return -1;
			memcpy(p + 2, v, (size_t)vl);
			pl += (size_t)vl;
		}
		ws_send_close_raw(s, c, p, pl);
		break;
	}
	case R_BAD_CONT:
		raw_frame(s, c, 0x80, 0, "cont", 4, 4, "bad-cont");
		break;
	case R_BAD_FRAG:
		raw_frame(s, c, 0x01, 0, "abc", 3, 3, "bad-frag");
		raw_frame(s, c, 0x81, 0, "def", 3, 3, "bad-frag");
		break;
	case R_CTL_TOO_LONG:
		memset(v, 'p', 126);
		raw_frame(s, c, 0x89, 0, v, 126, 126, "ctl-too-long");
		break;
	case R_CTL_FRAG:
		raw_frame(s, c, 0x09, 0, "a", 1, 1, "ctl-frag");
		raw_frame(s, c, 0x80, 0, "b", 1, 1, "ctl-frag");
		break;
	case R_PONG:
		raw_frame(s, c, 0x8a, 0, "unsolicited", 11, 11,
			  "unsolicited-pong");
		ws_send_msg(s, c, WSLAY_TEXT_FRAME, "after pong", 10);
		break;
	case R_AFTER_CLOSE:
		ws_send_close(s, c, 1000);
		raw_frame(s, c, 0x81, 0, "late", 4, 4, "after-close");
		break;
	case R_AB:
		if (ab_find(c, c->path + 4) != 0)
			return -1;
		ab_run(s, c);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- HTTP ---- */

/* A small answer; @extra: more header lines (each ending in CRLF). A
 * refusal (4xx, 5xx) closes the connection. */
static void
http_answer(struct wssrv *s, struct wssrv_conn *c, int status,
	    const char *extra, const char *body, int keep)
{
	int close_it = !keep || status >= 400;

	srv_answer(&c->out, "sp-wssrv", status, extra, "text/plain", body,
		   strlen(body), close_it);
	if (close_it)
		conn_discard(s, c, 1);
}

/* The request, and what an upgrade needs of its headers. */
struct wssrv_req {
	struct srv_req h;
	int upgrade_ws, have_cookie;
	const char *key, *version, *protos, *session;
	size_t key_len, version_len, protos_len, session_len;
};

/* Parse the head [p, p + len) (ending in CRLF CRLF) into @r. 0, or an
 * HTTP status to refuse with. */
static int
http_parse(struct wssrv_req *r, const char *p, size_t len)
{
	int st = srv_parse_head(&r->h, p, len);
	size_t n;

	if (st != 0)
		return st;
	r->upgrade_ws = srv_header_has(&r->h, "upgrade", "websocket");
	r->key = srv_header(&r->h, "sec-websocket-key", &r->key_len);
	r->version = srv_header(&r->h, "sec-websocket-version",
				&r->version_len);
	r->protos = srv_header(&r->h, "sec-websocket-protocol", &r->protos_len);
	r->have_cookie = srv_header(&r->h, "cookie", &n) != NULL;
	r->session = srv_cookie(&r->h, "session", &r->session_len);
	return 0;
}

/* POST /register: user=NAME&password=PW. */
static void
http_register(struct wssrv *s, struct wssrv_conn *c, const char *body, size_t n,
	      int keep)
{
	char user[WSSRV_NAME_MAX + 2], pass[256];
	struct wssrv_user *u;
	int ul, pl;
	unsigned h;

	ul = srv_query_get(body, n, "user", user, sizeof(user));
	pl = srv_query_get(body, n, "password", pass, sizeof(pass));
	if (ul < 0 || !srv_name_ok(user, (size_t)ul, WSSRV_NAME_MAX) ||
	    pl < 0) {
		wlog(s, c, "http 400");
		http_answer(s, c, 400, "", "bad registration\n", keep);
		return;
	}
	u = user_find(s, user);
	if (u != NULL) {
		if (strcmp(u->pass, pass) != 0) {
			wlog(s, c, "http 409 user=%s", user);
			http_answer(s, c, 409, "", "taken\n", keep);
			return;
		}
	} else {
		u = calloc(1, sizeof(*u));
		if (u == NULL || (u->pass = strdup(pass)) == NULL) {
			free(u);
			logerr("out of memory registering %s", user);
			wlog(s, c, "http 500");
			http_answer(s, c, 500, "", "no memory\n", 0);
			return;
		}
		memcpy(u->name, user, (size_t)ul + 1);
		h = user_hash(user);
		u->next = s->users[h];
		s->users[h] = u;
	}
	wlog(s, c, "http 201 user=%s", user);
	http_answer(s, c, 201, "", "registered\n", keep);
}

static enum wssrv_route
route_of(const char *path, size_t n)
{
	if (n > 6 && memcmp(path, "/chat/", 6) == 0)
		return R_CHAT;
	if (n > 4 && memcmp(path, "/ab/", 4) == 0)
		return R_AB;
	for (size_t i = 0; i < sizeof(wssrv_paths) / sizeof(wssrv_paths[0]);
	     i++)
		if (strlen(wssrv_paths[i].path) == n &&
		    memcmp(wssrv_paths[i].path, path, n) == 0)
			return wssrv_paths[i].route;
	return R_NONE;
}

/* The upgrade request is good: answer 101 (or not) and begin. */
static void
ws_upgrade(struct wssrv *s, struct wssrv_conn *c, const struct wssrv_req *r)
{
	char accept[SP_WS_ACCEPT_LEN + 1], proto[WSSRV_PROTO_MAX + 40] = "";
	char user[WSSRV_NAME_MAX + 8] = "";
	const char *pe;

	if (c->route == R_SILENT) {
		wlog(s, c, "http 0");
		c->reason = "http";
		conn_discard(s, c, 0);
		return;
	}
	if (c->route == R_NO_UPGRADE) {
		wlog(s, c, "http 200");
		srv_out_fmt(&c->out,
			    "HTTP/1.1 200 OK\r\nServer: sp-wssrv\r\n"
			    "Content-Type: text/plain\r\nContent-Length: 12\r\n"
			    "\r\nno upgrade\r\n");
		conn_discard(s, c, 0);
		return;
	}
	if (c->route == R_BAD_ACCEPT) {
		/* The right answer to another key: base64-valid, the right
		 * length, and wrong. */
		char other[64];

		snprintf(other, sizeof(other), "%.*sx", (int)r->key_len,
			 r->key);
		sp_ws_accept(other, strlen(other), accept);
		wlog(s, c, "http 101 bad-accept");
		srv_out_fmt(&c->out,
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n\r\n",
			    accept);
		conn_discard(s, c, 0);
		return;
	}
	if (c->route == R_CHAT) {
		if (r->have_cookie && r->session != NULL) {
			char name[WSSRV_NAME_MAX + 1];

			if (!srv_name_ok(r->session, r->session_len,
					 WSSRV_NAME_MAX)) {
				wlog(s, c, "http 403");
				http_answer(s, c, 403, "", "bad session\n", 0);
				return;
			}
			memcpy(name, r->session, r->session_len);
			name[r->session_len] = '\0';
			if (user_find(s, name) == NULL) {
				wlog(s, c, "http 403 user=%s", name);
				http_answer(s, c, 403, "", "not registered\n",
					    0);
				return;
			}
			snprintf(c->user, sizeof(c->user), "%s", name);
		} else {
			snprintf(c->user, sizeof(c->user), "anon%lu", c->id);
		}
		c->room = room_get(s, c->path + 6);
		if (c->room == NULL) {
			wlog(s, c, "http 500");
			http_answer(s, c, 500, "", "no memory\n", 0);
			return;
		}
		c->rnext = c->room->members;
		if (c->rnext != NULL)
			c->rnext->rprev = c;
		c->room->members = c;
		snprintf(user, sizeof(user), " user=%s", c->user);
	}
	if (wslay_frame_context_init(&c->fr, &fr_callbacks, c) != 0) {
		wlog(s, c, "http 500");
		http_answer(s, c, 500, "", "no memory\n", 0);
		return;
	}
	if (r->protos != NULL) {
		pe = memchr(r->protos, ',', r->protos_len);
		snprintf(c->proto, sizeof(c->proto), "%.*s",
			 (int)((pe != NULL ? pe : r->protos + r->protos_len) -
			       r->protos),
			 r->protos);
		/* Trailing spaces before the comma. */
		for (size_t i = strlen(c->proto);
		     i > 0 &&
		     (c->proto[i - 1] == ' ' || c->proto[i - 1] == '\t');
		     i--)
			c->proto[i - 1] = '\0';
		if (c->proto[0] != '\0')
			snprintf(proto, sizeof(proto),
				 "Sec-WebSocket-Protocol: %s\r\n", c->proto);
	}
	sp_ws_accept(r->key, r->key_len, accept);
	srv_out_fmt(&c->out,
		    "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n%s\r\n",
		    accept, proto);
	c->upgraded = 1;
	c->st = ST_WS;
	wlog(s, c, "open %s%s%s%s", c->peer, c->proto[0] ? " proto=" : "",
	     c->proto, user);
	if (ws_begin(s, c, r->h.query != NULL ? r->h.query : "",
		     r->h.query_len) != 0) {
		/* A query the endpoint cannot use: say so and go. */
		c->errors++;
		wlog(s, c, "error query");
		ws_send_close(s, c, 1008);
		c->reason = "error";
		conn_discard(s, c, 1);
	}
}

/* Take the next request if a whole one is in. Returns 1 if it took one. */
static int
http_next(struct wssrv *s, struct wssrv_conn *c)
{
	struct wssrv_req r;
	const char *p;
	size_t n, hlen, i;
	int keep, st;

	hlen = srv_head_len(c->in, &c->in_start, c->in_len);
	p = c->in + c->in_start;
	if (hlen == 0) {
		if (c->in_len - c->in_start >= WSSRV_IN_SIZE) {
			wlog(s, c, "http 431");
			http_answer(s, c, 431, "", "head too large\n", 0);
		}
		return 0;
	}
	st = http_parse(&r, p, hlen);
	if (st == 0) {
		/* The path as logged: printable, no spaces, cut to fit. */
		n = r.h.path_len < WSSRV_PATH_MAX - 1 ? r.h.path_len :
							WSSRV_PATH_MAX - 1;
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)r.h.target[i];

			c->path[i] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		c->path[n] = '\0';
		c->route = route_of(r.h.target, r.h.path_len);
	}
	if (st == 0 && r.h.have_te)
		st = 501;
	if (st != 0) {
		c->in_start += hlen;
		wlog(s, c, "http %d", st);
		http_answer(s, c, st, "", "refused\n", 0);
		return 1;
	}
	keep = r.h.http11 && !r.h.conn_close;
	if (c->route == R_REGISTER) {
		if (!srv_method_is(&r.h, "POST")) {
			st = 405;
		} else if (!r.h.have_cl) {
			st = 411;
		} else if (r.h.cl > WSSRV_BODY_MAX) {
			st = 413;
		} else {
			if (c->in_len - c->in_start < hlen + r.h.cl)
				return 0; /* the body is not all in yet */
			c->in_start += hlen + (size_t)r.h.cl;
			http_register(s, c, p + hlen, (size_t)r.h.cl, keep);
			return 1;
		}
		c->in_start += hlen;
		wlog(s, c, "http %d", st);
		http_answer(s, c, st, "", "refused\n", 0);
		return 1;
	}
	c->in_start += hlen;
	if (c->route == R_NONE) {
		st = 404;
	} else if (!srv_method_is(&r.h, "GET")) {
		st = 405;
	} else if (!r.upgrade_ws || !r.h.conn_upgrade || !r.h.http11) {
		wlog(s, c, "http 426");
		http_answer(s, c, 426, "Upgrade: websocket\r\n",
			    "WebSocket only\n", 0);
		return 1;
	} else if (r.version == NULL || r.version_len != 2 ||
		   memcmp(r.version, "13", 2) != 0) {
		wlog(s, c, "http 426");
		http_answer(s, c, 426, "Sec-WebSocket-Version: 13\r\n",
			    "version 13 only\n", 0);
		return 1;
	} else if (r.key == NULL || r.key_len != SP_WS_KEY_LEN) {
		st = 400;
	}
	if (st != 0) {
		wlog(s, c, "http %d", st);
		http_answer(s, c, st, "", "refused\n", 0);
		return 1;
	}
	ws_upgrade(s, c, &r);
	return 1;
}

/* ---- the loop ---- */

static void
accept_all(struct wssrv *s, struct srv_obj *l)
{
	struct wssrv_conn *c;
	char peer[64];
	int fd;

	while ((fd = srv_accept(&s->b, l->fd, peer, sizeof(peer), 1)) >= 0) {
		c = srv_conn_new(&s->b, fd, sizeof(*c),
				 offsetof(struct wssrv_conn, in), WSSRV_CONN);
		if (c == NULL)
			continue;
		c->id = ++s->next_id;
		c->t0_us = srv_now_us();
		c->events = EPOLLIN;
		c->out.max = WSSRV_OUT_MAX;
		memcpy(c->peer, peer, sizeof(peer));
		srv_link_add(&s->conns, &c->link);
		wlog(s, c, "accept %s", c->peer);
	}
}

/* Read into the HTTP buffer, or drop what comes. 1: progress, 0: nothing
 * for now, -1: the connection failed (reason set). */
static int
conn_read(struct wssrv_conn *c)
{
	ssize_t n;

	if (c->peer_eof)
		return 0;
	if (c->st == ST_DISCARD) {
		n = read(c->obj.fd, scratch, sizeof(scratch));
	} else {
		n = srv_in_read(c->obj.fd, c->in, WSSRV_IN_SIZE, &c->in_start,
				&c->in_len);
	}
	if (n > 0)
		return 1;
	if (n == 0) {
		c->peer_eof = 1;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	c->peer_eof = 1;
	c->reason = "reset";
	return -1;
}

/* Hand the output to the kernel. 0, or -1 if the socket failed. */
static int
conn_write(struct wssrv_conn *c)
{
	return srv_out_send(&c->out, c->obj.fd);
}

static void
conn_service(struct wssrv *s, struct wssrv_conn *c)
{
	uint32_t want = 0;
	int r;

	c->budget = WSSRV_READ_BUDGET;
	for (;;) {
		if (c->st == ST_WS) {
			/* /too-big's client is expected not to read its
			 * message: its close must be seen all the same. */
			if (srv_out_pending(&c->out) >= WSSRV_OUT_HIGH &&
			    c->route != R_TOO_BIG)
				break;
			ws_read(s, c);
			break;
		}
		r = conn_read(c);
		if (r < 0)
			break;
		if (c->st == ST_HTTP) {
			while (c->st == ST_HTTP && http_next(s, c))
				;
			/* The upgrade's leftovers are frames. */
			if (c->st == ST_WS)
				continue;
		}
		if (r == 0 || c->peer_eof)
			break;
		if (c->budget <= (size_t)WSSRV_IN_SIZE)
			break;
		c->budget -= WSSRV_IN_SIZE;
	}
	if (srv_out_pending(&c->out) >= WSSRV_OUT_MAX) {
		c->errors++;
		wlog(s, c, "error overflow");
		conn_end(s, c, "error");
		return;
	}
	if (conn_write(c) != 0) {
		conn_end(s, c, "reset");
		return;
	}
	if (srv_out_pending(&c->out) == 0) {
		if (c->rst_pending) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(c->obj.fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
			conn_end(s, c, NULL);
			return;
		}
		if (c->shut_pending) {
			shutdown(c->obj.fd, SHUT_WR);
			c->shut_pending = 0;
		}
	}
	if (c->peer_eof) {
		/* Nothing more can come; what is queued cannot matter to a
		 * client that has gone. */
		conn_end(s, c, NULL);
		return;
	}
	if (!(c->st == ST_WS && srv_out_pending(&c->out) >= WSSRV_OUT_HIGH &&
	      c->route != R_TOO_BIG))
		want |= EPOLLIN;
	if (srv_out_pending(&c->out) > 0)
		want |= EPOLLOUT;
	if (want != c->events) {
		c->events = want;
		if (epoll_set(s, EPOLL_CTL_MOD, &c->obj, want) != 0) {
			logerr("epoll_ctl: %s", strerror(errno));
			conn_end(s, c, "error");
		}
	}
}

static void
timers_due(struct wssrv *s)
{
	uint64_t now = srv_now_us();
	struct srv_timer *t;

	while ((t = srv_timer_due(&s->heap, now)) != NULL) {
		struct wssrv_conn *c = srv_container_of(t, struct wssrv_conn,
							tm);

		if (c->route == R_PUSH && c->st == ST_WS && !c->close_sent) {
			push_due(s, c);
			conn_service(s, c);
		} else if (c->route == R_AB && c->ab_timer && c->st == ST_WS) {
			c->ab_timer = 0;
			ab_run(s, c);
			conn_service(s, c);
		} else {
			/* The client did not close in time. */
			conn_end(s, c, "timeout");
		}
	}
}

static int
run(struct wssrv *s)
{
	struct epoll_event evs[WSSRV_MAX_EVENTS];

	for (;;) {
		int i, n = srv_wait(&s->b, &s->heap, evs, WSSRV_MAX_EVENTS);

		if (n < 0)
			return -1;
		for (i = 0; i < n; i++) {
			struct srv_obj *o = evs[i].data.ptr;

			switch (o->kind) {
			case WSSRV_SIGNAL:
				if (srv_signalled(&s->b))
					return 0;
				break;
			case WSSRV_LISTEN:
				accept_all(s, o);
				break;
			case WSSRV_CONN:
				conn_service(s, (struct wssrv_conn *)o);
				break;
			}
			/* A connection ends only in its own event or in
			 * timers_due, never in another's event: a chat
			 * broadcast only queues output. So no later event
			 * of this batch points at a freed connection. */
		}
		timers_due(s);
	}
}

/* --max-message, --close-timeout. */
static int
wssrv_opt(int opt, const char *arg, void *ctx)
{
	struct wssrv *s = ctx;
	unsigned long v;

	if (opt == 'm') {
		if (parse_ulong(arg, 1ul << 30, &v) != 0 || v == 0) {
			logerr("bad --max-message: %s", arg);
			return -1;
		}
		s->max_message = v;
		return 0;
	}
	if (parse_ulong(arg, 3600000, &v) != 0 || v == 0) {
		logerr("bad --close-timeout: %s", arg);
		return -1;
	}
	s->close_timeout_us = v * 1000;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-message", required_argument, NULL, 'm' },
		{ "close-timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static struct wssrv s = {
		.sig = { .kind = WSSRV_SIGNAL, .fd = -1 },
		.max_message = 4ul * 1024 * 1024,
		.close_timeout_us = 5000000,
	};
	struct srv_opts o;
	int rc, started;

	srv_prog = "sp-wssrv";
	rc = srv_getopt(argc, argv, opts, wssrv_opt, &s, usage, &o);
	if (rc >= 0)
		return rc;
	srand((unsigned)srv_now_us());
	raise_nofile(20000);
	started = srv_start(&s.b, &s.sig, s.lst, WSSRV_LISTEN, &o);
	rc = started == 0 && run(&s) == 0 ? 0 : 1;
	while (s.conns != NULL)
		conn_end(&s, srv_container_of(s.conns, struct wssrv_conn, link),
			 "shutdown");
	free(s.heap.v);
	for (unsigned i = 0; i < WSSRV_USER_BUCKETS; i++) {
		while (s.users[i] != NULL) {
			struct wssrv_user *u = s.users[i];

			s.users[i] = u->next;
			free(u->pass);
			free(u);
		}
	}
	srv_stop(&s.b, s.lst, &o, started);
	return rc;
}
