/*
 * `stampede serve`: an HTTP/1.1 responder on the same stack, the server
 * side of a lab benchmark between two boxes (what dperf's server mode or
 * TRex ASTF's server side do), so that a client's figures are not bounded
 * by a kernel server.
 *
 * It listens on one port and answers every request on every connection with
 * one response built at start: status line, Content-Length, a Connection
 * header, and a body of 'x'. Requests are parsed as they stream in
 * (sp_http1_req: any split, no buffering); pipelined requests are answered
 * in order. A response is queued to the stack as its send buffer frees
 * space (the `sent` callback), from the one prepared buffer at whatever
 * offset the connection has reached, so a large body costs no
 * per-connection memory beyond the stack's send queue. A connection owes
 * at most SP_SRV_PIPELINE responses at once (only when the client sends
 * faster than it reads); past that it is closed after answering them.
 *
 * A request the parser refuses gets one error response (400; 431 for a
 * head over the bound, 501 for Transfer-Encoding, 505 for another HTTP
 * version) after the responses owed, then the connection closes. A request
 * with Connection: close (or HTTP/1.0 without keep-alive), and every
 * request with --close, ends the connection after its response.
 *
 * Per-connection state lives in an array of --max-conns slots sized at
 * start, free slots on a stack of indices. Nothing is allocated while
 * serving. Stopping (duration or signal) aborts what is still open.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_app.h"
#include "sp_http1_req.h"

#define SP_SRV_PIPELINE 64     /* responses owed per connection, at most */
#define SP_SRV_BODY_BUF 65536u /* body bytes kept ready after each head */
#define SP_SRV_HEAD_MAX 256
#define SP_SRV_TW_EXTRA_MAX 65536
#define SP_SRV_DRAIN_US (3 * SP_US_PER_S)

/* Error responses, by what the parser said. */
enum { SP_ERESP_NONE, SP_ERESP_400, SP_ERESP_431, SP_ERESP_501, SP_ERESP_505,
       SP_ERESP_N };

static const char *const sp_eresp_text[SP_ERESP_N] = {
	"",
	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
	"Connection: close\r\n\r\n",
	"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n"
	"Connection: close\r\n\r\n",
};
static const char *const sp_eresp_code[SP_ERESP_N] = {
	"", "400", "431", "501", "505",
};

/* Errors by kind: the parser's, then ours. */
enum { SP_SRV_E_PIPELINE = SP_HTTP1_REQ_NERRORS, SP_SRV_NERR };

struct sp_srv_slot {
	struct sp_conn *c;
	struct sp_http1_req req;
	uint64_t off;        /* bytes of the oldest owed response queued */
	uint64_t head_mask;  /* bit i: owed response i answers a HEAD */
	uint32_t pending;    /* responses owed, oldest first */
	uint8_t eresp;       /* an error response owed after them */
	uint8_t reading;     /* 0: requests are no longer read */
	uint8_t closing;     /* sp_tcp_close called */
	uint8_t cur_close;   /* the response being queued is the close one */
};

/* One prepared response: head, then up to SP_SRV_BODY_BUF body bytes. */
struct sp_srv_resp {
	char *buf;
	size_t head_len, buf_len;
	uint64_t total;      /* head + the whole body */
};

/* The serve mode's counters, one writer: the worker. Every one is in
 * SP_SRV_COUNTERS, what is added up across cores. */
#define SP_SRV_COUNTERS(X, A)                                             \
	X(requests) X(responses) X(unanswered) X(connections) X(closed)   \
	X(open) X(rejected) A(closed_by, SP_CLOSE_NREASONS)               \
	X(bytes_received) X(bytes_sent) X(body_received)                  \
	A(errors, SP_SRV_NERR) A(eresp, SP_ERESP_N)

struct sp_srv_counts {
	uint64_t requests, responses, unanswered;
	uint64_t connections, closed, open, rejected;
	uint64_t closed_by[SP_CLOSE_NREASONS];
	uint64_t bytes_received, bytes_sent, body_received;
	uint64_t errors[SP_SRV_NERR];
	uint64_t eresp[SP_ERESP_N];
};
_Static_assert((0 SP_SRV_COUNTERS(SP_LIST_COUNT1, SP_LIST_COUNTN)) *
	       sizeof(uint64_t) == sizeof(struct sp_srv_counts),
	       "SP_SRV_COUNTERS must list every counter of sp_srv_counts");

struct sp_servemode {
	/* Plan. */
	uint16_t port;
	int status;
	uint64_t body_size;
	int close_each;
	uint32_t max_conns;  /* over all cores */

	/* This core's: its worker, its share of the connections. */
	struct sp_worker *w;
	struct sp_servemode *all; /* every core's, all[0] .. all[ncores-1] */
	uint32_t ncores;
	struct sp_srv_resp keep, close; /* Connection: keep-alive / close;
					 * the buffers are all[0]'s */
	struct sp_srv_slot *slots;
	uint32_t nslots;
	uint32_t *free_idx;
	uint32_t nfree;
	int stopped;
	/* The last request head seen whole, for every connection: the same
	 * head again is not parsed again (clients mostly repeat theirs). */
	struct sp_http1_req_memo memo;

	struct sp_srv_counts n; /* one writer: the worker */
};

static const char *
sp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* Build one response variant at start. 0, or -1 (out of memory). */
static int
sp_srv_resp_build(struct sp_srv_resp *r, int status, uint64_t body,
		  int close)
{
	char head[SP_SRV_HEAD_MAX];
	size_t ready = body < SP_SRV_BODY_BUF ? (size_t)body : SP_SRV_BODY_BUF;
	int n;

	/* 204 and 304 carry no body and (204) no Content-Length: RFC 9110
	 * sections 8.6, 15.3.5, 15.4.5. --body-size 0 is checked for them. */
	if (status == 204 || status == 304)
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
			     "Connection: %s\r\n\r\n", status, sp_reason(status),
			     close ? "close" : "keep-alive");
	else
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
			     "Content-Length: %" PRIu64 "\r\nConnection: %s\r\n\r\n",
			     status, sp_reason(status), body,
			     close ? "close" : "keep-alive");
	r->head_len = (size_t)n;
	r->buf_len = r->head_len + ready;
	r->total = r->head_len + body;
	r->buf = malloc(r->buf_len);
	if (r->buf == NULL)
		return -1;
	memcpy(r->buf, head, r->head_len);
	memset(r->buf + r->head_len, 'x', ready);
	return 0;
}

static inline uint32_t
sp_srv_idx(const struct sp_servemode *m, const struct sp_srv_slot *s)
{
	return (uint32_t)(s - m->slots);
}

/* The response variant for the oldest owed response: the last one on a
 * connection that ends says so. Chosen when the response starts and kept
 * to its end: a FIN arriving half-way must not switch heads under it. */
static const struct sp_srv_resp *
sp_srv_cur(const struct sp_servemode *m, struct sp_srv_slot *s)
{
	if (s->off == 0)
		s->cur_close = m->close_each ||
			       (!s->reading && s->pending == 1 &&
				s->eresp == SP_ERESP_NONE);
	return s->cur_close ? &m->close : &m->keep;
}

/* Queue what the send buffer takes of the owed responses, in order; close
 * once all is queued on a connection that no longer reads. Returns 1 if
 * the connection may be gone (closed() may have run): touch @s no more. */
static int
sp_srv_pump(struct sp_servemode *m, struct sp_srv_slot *s)
{
	struct sp_stack *st = m->w->st;

	if (s->closing)
		return 0;
	for (;;) {
		const uint8_t *p;
		uint64_t total, n;
		int32_t r;

		if (s->pending > 0) {
			const struct sp_srv_resp *resp = sp_srv_cur(m, s);

			/* a HEAD response is the head alone (RFC 9110 9.3.2) */
			total = (s->head_mask & 1) ? resp->head_len : resp->total;
			if (s->off < resp->buf_len) {
				p = (const uint8_t *)resp->buf + s->off;
				n = resp->buf_len - s->off;
			} else {
				/* past the prepared bytes the body is all
				 * 'x': send them again */
				p = (const uint8_t *)resp->buf + resp->head_len;
				n = resp->buf_len - resp->head_len;
			}
			if (n > total - s->off)
				n = total - s->off;
		} else if (s->eresp != SP_ERESP_NONE) {
			const char *t = sp_eresp_text[s->eresp];

			total = strlen(t);
			p = (const uint8_t *)t + s->off;
			n = total - s->off;
		} else {
			if (s->reading)
				return 0;
			s->closing = 1;
			if (sp_tcp_close(st, s->c) < 0)
				sp_tcp_abort(st, s->c);
			return 1;
		}
		if (n > 0) {
			uint32_t space = sp_tcp_send_space(st, s->c);

			if (space == 0)
				return 0;
			if (n > space)
				n = space;
			r = sp_tcp_send(st, s->c, p, (uint32_t)n);
			if (r <= 0)
				return 0;
			s->off += (uint64_t)r;
			sp_ctr_add(m->n.bytes_sent, (uint64_t)r);
			if (s->off < total)
				continue;
		}
		s->off = 0;
		if (s->pending > 0) {
			s->pending--;
			s->head_mask >>= 1;
			sp_ctr_inc(m->n.responses);
		} else {
			sp_ctr_inc(m->n.eresp[s->eresp]);
			s->eresp = SP_ERESP_NONE;
		}
	}
}

static uint8_t
sp_srv_eresp_for(int rc)
{
	switch (rc) {
	case SP_HTTP1_REQ_E_HEADER_TOO_BIG:
		return SP_ERESP_431;
	case SP_HTTP1_REQ_E_TRANSFER_ENCODING:
		return SP_ERESP_501;
	case SP_HTTP1_REQ_E_VERSION:
		return SP_ERESP_505;
	default:
		return SP_ERESP_400;
	}
}

static void
sp_srv_on_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_servemode *m = app;
	struct sp_srv_slot *s;

	if (m->stopped || m->nfree == 0) {
		sp_ctr_inc(m->n.rejected);
		sp_tcp_abort(st, c);
		return;
	}
	s = &m->slots[m->free_idx[--m->nfree]];
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->reading = 1;
	sp_http1_req_init(&s->req);
	s->req.memo = &m->memo;
	sp_conn_set_user(c, s);
	sp_ctr_inc(m->n.connections);
	sp_ctr_inc(m->n.open);
}

static void
sp_srv_on_recv(struct sp_stack *st, struct sp_conn *c, void *app,
	       const uint8_t *data, uint32_t len)
{
	struct sp_servemode *m = app;
	struct sp_srv_slot *s = sp_conn_user(c);
	size_t used;
	int rc;

	(void)st;
	sp_ctr_add(m->n.bytes_received, len);
	while (s->reading && len > 0) {
		rc = sp_http1_req_parse(&s->req, data, len, &used);
		data += used;
		len -= (uint32_t)used;
		if (rc == SP_HTTP1_REQ_NEED_MORE)
			break;
		if (rc < 0) {
			sp_ctr_inc(m->n.errors[-rc - 1]);
			s->eresp = sp_srv_eresp_for(rc);
			s->reading = 0;
			break;
		}
		/* SP_HTTP1_REQ_DONE */
		sp_ctr_inc(m->n.requests);
		sp_ctr_add(m->n.body_received, s->req.body_bytes);
		if (s->req.method == SP_HTTP1_M_HEAD)
			s->head_mask |= 1ull << s->pending;
		s->pending++;
		if (s->req.must_close || m->close_each) {
			s->reading = 0;
		} else if (s->pending == SP_SRV_PIPELINE) {
			/* the client sends and does not read: answer what
			 * is owed, then close */
			sp_ctr_inc(m->n.errors[SP_SRV_E_PIPELINE]);
			s->reading = 0;
		}
		sp_http1_req_next(&s->req);
	}
	sp_srv_pump(m, s);
}

static void
sp_srv_on_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	(void)st;
	sp_srv_pump(app, sp_conn_user(c));
}

static void
sp_srv_on_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_servemode *m = app;
	struct sp_srv_slot *s = sp_conn_user(c);

	(void)st;
	if (s->reading) {
		/* half a request, then FIN: nothing to answer */
		if (sp_http1_req_eof(&s->req) == SP_HTTP1_REQ_E_TRUNCATED)
			sp_ctr_inc(m->n.errors[-SP_HTTP1_REQ_E_TRUNCATED - 1]);
		s->reading = 0;
	}
	sp_srv_pump(m, s);
}

static void
sp_srv_on_closed(struct sp_stack *st, struct sp_conn *c, void *app,
		 enum sp_close_reason why)
{
	struct sp_servemode *m = app;
	struct sp_srv_slot *s = sp_conn_user(c);

	(void)st;
	if (s == NULL)
		return; /* rejected in connected() */
	sp_ctr_inc(m->n.closed_by[why]);
	sp_ctr_inc(m->n.closed);
	sp_ctr_sub(m->n.open, 1);
	/* requests whose response was not all queued (reset, stop) */
	sp_ctr_add(m->n.unanswered, s->pending);
	s->c = NULL;
	m->free_idx[m->nfree++] = sp_srv_idx(m, s);
}

static const struct sp_tcp_ops sp_srv_ops = {
	.connected = sp_srv_on_connected,
	.recv = sp_srv_on_recv,
	.sent = sp_srv_on_sent,
	.peer_fin = sp_srv_on_peer_fin,
	.closed = sp_srv_on_closed,
};

static void
sp_srv_stop(void *ctx, uint64_t now)
{
	struct sp_servemode *m = ctx;

	(void)now;
	m->stopped = 1;
	for (uint32_t i = 0; i < m->nslots; i++)
		if (m->slots[i].c != NULL)
			sp_tcp_abort(m->w->st, m->slots[i].c);
}

/* Every core's counters added up (read while the workers write theirs:
 * each value is one worker's, read whole). */
#define SP_SRV_ADD(f) t->f += sp_ctr_read(n->f);
#define SP_SRV_ADDN(f, len)                       \
	for (size_t k = 0; k < (len); k++)        \
		t->f[k] += sp_ctr_read(n->f[k]);

static void
sp_srv_sum(const struct sp_servemode *m, struct sp_srv_counts *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t c = 0; c < m->ncores; c++) {
		const struct sp_srv_counts *n = &m->all[c].n;

		SP_SRV_COUNTERS(SP_SRV_ADD, SP_SRV_ADDN)
	}
}

static void
sp_srv_live(const void *ctx, char *buf, size_t len)
{
	struct sp_srv_counts n;
	char sent[32];

	sp_srv_sum(ctx, &n);
	sp_fmt_bytes(n.bytes_sent, sent, sizeof(sent));
	snprintf(buf, len, " requests %" PRIu64 " responses %" PRIu64
		 " connections %" PRIu64 " open %" PRIu64 " sent %s",
		 n.requests, n.responses, n.connections, n.open, sent);
}

static const struct sp_mode sp_servemode_mode = {
	.name = "serve",
	.stop = sp_srv_stop,
	.live = sp_srv_live,
};

static const char sp_serve_help[] =
	"usage: stampede serve --port P --ip A [options]\n"
	"\n"
	"An HTTP/1.1 responder on stampede's own stack: answers every request\n"
	"on every connection with one fixed response, keep-alive and\n"
	"pipelining included, until --duration or Ctrl-C, then reports.\n"
	"\n"
	"  --listen-port N         TCP port to listen on (default 80)\n"
	"  --status CODE           status of every response (default 200)\n"
	"  --body-size BYTES       body length, k/m/g = KiB/MiB/GiB (default 0)\n"
	"  --close                 answer with Connection: close and close after\n"
	"                          each response (default: keep-alive)\n"
	"  --duration DUR          how long to serve (default 60s)\n"
	"  --max-conns N           connections open at once (default 100000);\n"
	"                          with --cores each core takes an even share,\n"
	"                          an eighth and 16 more, N at most (flows\n"
	"                          hash unevenly: the cores may hold more\n"
	"                          than N together)\n"
	"  --json FILE             write the report as JSON too\n"
	"                          (-: stdout, the summary then on stderr)\n"
	"\n" SP_NETOPT_HELP
	"\n"
	"Requests with Transfer-Encoding are answered 501, malformed ones 400\n"
	"(431: head over 8 KiB, 505: not HTTP/1.x); the connection then closes.\n"
	"durations: 500ms, 10s, 2m, 1h (a bare number is seconds)\n"
	"exit: 0 ran, 2 usage, 3 could not run (EAL, port)\n";

enum {
	SP_OPT_LISTEN_PORT = SP_OPT_BASE,
	SP_OPT_STATUS,
	SP_OPT_BODY_SIZE,
	SP_OPT_CLOSE,
	SP_OPT_DURATION,
	SP_OPT_MAX_CONNS,
	SP_OPT_JSON,
	SP_OPT_HELP,
};

static const struct option sp_serve_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "listen-port", required_argument, NULL, SP_OPT_LISTEN_PORT },
	{ "status", required_argument, NULL, SP_OPT_STATUS },
	{ "body-size", required_argument, NULL, SP_OPT_BODY_SIZE },
	{ "close", no_argument, NULL, SP_OPT_CLOSE },
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "max-conns", required_argument, NULL, SP_OPT_MAX_CONNS },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sp_serve_args {
	struct sp_netopt net;
	const char *json_path;
	uint64_t duration_us;
};

static int
sp_serve_parse(int argc, char **argv, struct sp_servemode *m,
	       struct sp_serve_args *a)
{
	uint64_t v;
	int code, r;

	sp_netopt_init(&a->net);
	m->port = 80;
	m->status = 200;
	m->max_conns = 100000;
	a->duration_us = 60 * SP_US_PER_S;

	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_serve_longopts, NULL)) != -1) {
		r = sp_netopt_parse(&a->net, code, optarg);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (code) {
		case SP_OPT_LISTEN_PORT:
			if (sp_parse_u64("--listen-port", optarg, 1, 65535, &v) < 0)
				return -1;
			m->port = (uint16_t)v;
			break;
		case SP_OPT_STATUS:
			/* final statuses only: 1xx are interim */
			if (sp_parse_u64("--status", optarg, 200, 599, &v) < 0)
				return -1;
			m->status = (int)v;
			break;
		case SP_OPT_BODY_SIZE:
			if (sp_parse_size("--body-size", optarg, &m->body_size) < 0)
				return -1;
			break;
		case SP_OPT_CLOSE:
			m->close_each = 1;
			break;
		case SP_OPT_DURATION:
			if (sp_parse_duration("--duration", optarg,
					      &a->duration_us) < 0)
				return -1;
			if (a->duration_us == 0) {
				sp_usage_error("--duration: must be positive");
				return -1;
			}
			break;
		case SP_OPT_MAX_CONNS:
			if (sp_parse_u64("--max-conns", optarg, 1, 1u << 22, &v) < 0)
				return -1;
			m->max_conns = (uint32_t)v;
			break;
		case SP_OPT_JSON:
			a->json_path = optarg;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_serve_help, stdout);
			exit(SP_EXIT_OK);
		default:
			return sp_opt_bad("serve", code, argv);
		}
	}
	if (sp_opt_no_args("serve", argc, argv) < 0)
		return -1;
	if ((m->status == 204 || m->status == 304) && m->body_size != 0) {
		sp_usage_error("--status %d: has no body (--body-size must be 0)",
			       m->status);
		return -1;
	}
	return sp_netopt_finish(&a->net);
}

/* Core @i's share of --max-conns: even, plus an eighth and a few for a
 * hash that never splits flows exactly evenly; all of them on one core. */
static uint32_t
sp_srv_share(uint32_t max_conns, uint32_t ncores)
{
	uint64_t even = ((uint64_t)max_conns + ncores - 1) / ncores;
	uint64_t share = even + even / 8 + 16;

	return ncores == 1 || share > max_conns ? max_conns : (uint32_t)share;
}

/* Core @i's state, the plan copied from all[0] (which parsed it and, for
 * i = 0, builds the responses every core sends). */
static int
sp_servemode_alloc(struct sp_servemode *all, uint32_t ncores, uint32_t i)
{
	struct sp_servemode *m = &all[i];

	if (i > 0) {
		*m = all[0];
		memset(&m->memo, 0, sizeof(m->memo));
	} else if (sp_srv_resp_build(&m->keep, m->status, m->body_size, 0) < 0 ||
		   sp_srv_resp_build(&m->close, m->status, m->body_size, 1) < 0) {
		fprintf(stderr, "stampede: out of memory for the responses\n");
		return -1;
	}
	m->all = all;
	m->ncores = ncores;
	m->nslots = sp_srv_share(m->max_conns, ncores);
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	m->free_idx = calloc(m->nslots, sizeof(*m->free_idx));
	if (m->slots == NULL || m->free_idx == NULL) {
		fprintf(stderr, "stampede: out of memory for %u connections\n",
			m->nslots);
		return -1;
	}
	/* Highest index at the bottom: slot 0 is used first. */
	for (uint32_t k = 0; k < m->nslots; k++)
		m->free_idx[k] = m->nslots - 1 - k;
	m->nfree = m->nslots;
	return 0;
}

/*
 * The chunk pool holds send queues (and out-of-order requests). Only
 * connections with a response on its way hold chunks; idle keep-alive ones
 * hold none. Give SP_SRV_SENDING of them room for a whole response (or
 * send buffer), plus the stack's headroom, up to SP_SRV_CHUNKS_MAX
 * (64 MiB): one chunk per pool slot, the stack's default, would be 340 MiB
 * at --max-conns 100000. Past it connections wait their turn for chunks
 * (tcp.snd_nochunk in the report).
 */
#define SP_SRV_SENDING 4096u
#define SP_SRV_CHUNKS_MAX 32768u

static void
sp_servemode_size_chunks(const struct sp_servemode *m,
			 struct sp_stack_config *cfg)
{
	uint64_t queued = m->keep.total < cfg->sndbuf ? m->keep.total : cfg->sndbuf;
	uint64_t sending = m->nslots < SP_SRV_SENDING ? m->nslots : SP_SRV_SENDING;
	uint64_t want = sending * ((queued + SP_CHUNK_PAYLOAD - 1) / SP_CHUNK_PAYLOAD + 1) +
			4096;

	cfg->chunks = (uint32_t)(want < SP_SRV_CHUNKS_MAX ? want : SP_SRV_CHUNKS_MAX);
}

static uint64_t
sp_srv_errors(const struct sp_srv_counts *n)
{
	uint64_t t = 0;

	for (int i = 0; i < SP_SRV_NERR; i++)
		t += n->errors[i];
	return t;
}

static const char *
sp_srv_error_name(int i)
{
	return i == SP_SRV_E_PIPELINE ? "pipeline_overflow" :
					sp_http1_req_error_name(-i - 1);
}

static void
sp_serve_print(const struct sp_servemode *m, const struct sp_srv_counts *n,
	       const struct sp_report *r, FILE *out)
{
	uint64_t errors = sp_srv_errors(n);

	fprintf(out, "stampede serve on %s: %.3f s\n", r->target, r->elapsed_s);
	fprintf(out, "  response        %d, body %" PRIu64 " B, %s\n", m->status,
		m->body_size, m->close_each ? "Connection: close" : "keep-alive");
	fprintf(out, "  requests        %" PRIu64 "  responses %" PRIu64
		"  unanswered %" PRIu64 "  (%.1f req/s)\n", n->requests,
		n->responses, n->unanswered,
		sp_rate((double)n->responses, r->elapsed_s));
	fprintf(out, "  connections     accepted %" PRIu64 "  closed %" PRIu64
		"  open %" PRIu64 "  rejected %" PRIu64 "  (SYNs %" PRIu64
		", handshake not completed %" PRIu64 ")\n", n->connections,
		n->closed, n->open, n->rejected, r->stats.conn_passive,
		r->stats.conn_passive - n->connections - n->rejected);
	fprintf(out, "  closed by       ");
	for (int i = 0; i < SP_CLOSE_NREASONS; i++)
		if (i != SP_CLOSE_REFUSED && i != SP_CLOSE_CONNECT_TIMEOUT)
			fprintf(out, " %s %" PRIu64,
				sp_close_reason_name((enum sp_close_reason)i),
				n->closed_by[i]);
	fputc('\n', out);
	fprintf(out, "  errors          %" PRIu64, errors);
	for (int i = 0; i < SP_SRV_NERR; i++)
		if (n->errors[i] != 0)
			fprintf(out, "  %s %" PRIu64, sp_srv_error_name(i),
				n->errors[i]);
	fputc('\n', out);
	fprintf(out, "  error responses");
	for (int i = 1; i < SP_ERESP_N; i++)
		fprintf(out, "  %s %" PRIu64, sp_eresp_code[i], n->eresp[i]);
	fputc('\n', out);
	fprintf(out, "  bytes           received %" PRIu64 " (bodies %" PRIu64
		")  sent %" PRIu64 "\n", n->bytes_received, n->body_received,
		n->bytes_sent);
	sp_print_stack(r, out);
	for (uint32_t c = 0; m->ncores > 1 && c < m->ncores; c++) {
		const struct sp_srv_counts *cn = &m->all[c].n;
		char what[96];

		snprintf(what, sizeof(what), "connections %" PRIu64
			 "  requests %" PRIu64, sp_ctr_read(cn->connections),
			 sp_ctr_read(cn->requests));
		sp_print_core(out, c, m->all[c].w, what);
	}
	fflush(out);
}

static int
sp_serve_json(const struct sp_servemode *m, const struct sp_srv_counts *n,
	      const struct sp_report *r, FILE *f, const char *path)
{
	fprintf(f, "{\"version\":1,\"mode\":\"serve\",\"target\":");
	sp_json_str(f, r->target);
	fprintf(f, ",\"elapsed_s\":%.6f,\n", r->elapsed_s);
	fprintf(f, " \"serve\":{\"status\":%d,\"body_size\":%" PRIu64
		",\"close\":%s,\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"unanswered\":%" PRIu64 ",\"req_per_s\":%.3f,\n",
		m->status, m->body_size, m->close_each ? "true" : "false",
		n->requests, n->responses, n->unanswered,
		sp_rate((double)n->responses, r->elapsed_s));
	/* syns: SYNs that made a connection in the stack; those the client
	 * gave up before the handshake completed never reach connections */
	fprintf(f, "  \"connections\":%" PRIu64 ",\"closed\":%" PRIu64
		",\"open\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"syns\":%"
		PRIu64 ",\"handshake_incomplete\":%" PRIu64 ",\"closed_by\":{",
		n->connections, n->closed, n->open, n->rejected,
		r->stats.conn_passive,
		r->stats.conn_passive - n->connections - n->rejected);
	for (int i = 0; i < SP_CLOSE_NREASONS; i++) {
		if (i > 0)
			fputc(',', f);
		sp_json_str(f, sp_close_reason_name((enum sp_close_reason)i));
		fprintf(f, ":%" PRIu64, n->closed_by[i]);
	}
	fprintf(f, "},\"resets\":%" PRIu64 ",\n  \"bytes\":{\"received\":%"
		PRIu64 ",\"body_received\":%" PRIu64 ",\"sent\":%" PRIu64 "},\n",
		n->closed_by[SP_CLOSE_RESET], n->bytes_received,
		n->body_received, n->bytes_sent);
	fprintf(f, "  \"errors_total\":%" PRIu64 ",\"errors\":{", sp_srv_errors(n));
	for (int i = 0; i < SP_SRV_NERR; i++) {
		if (i > 0)
			fputc(',', f);
		sp_json_str(f, sp_srv_error_name(i));
		fprintf(f, ":%" PRIu64, n->errors[i]);
	}
	fprintf(f, "},\"error_responses\":{");
	for (int i = 1; i < SP_ERESP_N; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > 1 ? "," : "",
			sp_eresp_code[i], n->eresp[i]);
	fprintf(f, "}},\n \"cores\":[");
	for (uint32_t c = 0; c < m->ncores; c++) {
		const struct sp_srv_counts *cn = &m->all[c].n;
		char fields[192];

		snprintf(fields, sizeof(fields), "\"connections\":%" PRIu64
			 ",\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
			 ",\"rejected\":%" PRIu64, sp_ctr_read(cn->connections),
			 sp_ctr_read(cn->requests), sp_ctr_read(cn->responses),
			 sp_ctr_read(cn->rejected));
		sp_json_core(f, c, m->all[c].w, fields);
	}
	fprintf(f, "],\n");
	sp_report_json_stack(r, f, 0);
	return sp_report_json_close(f, path);
}

/* Core @i: its state, its stack listening on the port. 0, or -1 after
 * printing why. */
static int
sp_serve_core_setup(struct sp_servemode *all, struct sp_cores *cores,
		    const struct sp_netopt *no, uint32_t i)
{
	struct sp_servemode *m = &all[i];
	struct sp_stack_config cfg;
	struct sp_core_mode cm = {
		.mode = &sp_servemode_mode,
		.mode_ctx = m,
		.ops = &sp_srv_ops,
		.app = m,
		.drain_us = SP_SRV_DRAIN_US,
	};
	uint64_t extra;
	int err;

	if (sp_servemode_alloc(all, cores->n, i) < 0)
		return -1;
	/* Pool: every open connection plus those we closed first, lingering
	 * in TIME_WAIT (--close, errors). */
	extra = m->nslots < SP_SRV_TW_EXTRA_MAX ? m->nslots : SP_SRV_TW_EXTRA_MAX;
	sp_cores_stack_config(cores, &cfg, (uint32_t)(m->nslots + extra),
			      m->nslots);
	sp_servemode_size_chunks(m, &cfg);
	m->w = &cores->ws[i];
	if (sp_cores_add(cores, i, no, &cfg, &cm) < 0)
		return -1;
	err = sp_tcp_listen(m->w->st, m->port);
	if (err < 0) {
		fprintf(stderr, "stampede: cannot listen on port %u: %s\n",
			m->port, strerror(-err));
		return -1;
	}
	return 0;
}

int
sp_cmd_serve(int argc, char **argv)
{
	static struct sp_cores cores;
	struct sp_servemode *all;
	struct sp_serve_args a;
	struct sp_report rep;
	struct sp_srv_counts tot;
	FILE *json = NULL;
	uint32_t n;
	int ret = SP_EXIT_NORUN;

	memset(&a, 0, sizeof(a));
	/* all[0] takes the options; the other cores copy its plan. */
	all = calloc(SP_MAX_CORES, sizeof(*all));
	if (all == NULL) {
		fprintf(stderr, "stampede: out of memory\n");
		return SP_EXIT_NORUN;
	}
	if (sp_serve_parse(argc, argv, &all[0], &a) < 0) {
		free(all);
		return SP_EXIT_USAGE;
	}
	if (a.json_path != NULL) {
		json = sp_out_open("--json", a.json_path);
		if (json == NULL) {
			free(all);
			return SP_EXIT_USAGE;
		}
	}
	n = a.net.cores;
	if (sp_cores_open(&cores, &a.net) < 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (sp_serve_core_setup(all, &cores, &a.net, i) < 0)
			goto out;
	if (sp_cores_run(&cores, a.duration_us) < 0)
		goto out;
	sp_report_collect_n(&rep, cores.ws, n, &cores.port);
	rep.mode = "serve";
	{
		char ip[16];

		sp_ipv4_str(a.net.ip, ip, sizeof(ip));
		snprintf(rep.target, sizeof(rep.target), "%s:%u", ip,
			 all[0].port);
	}
	sp_srv_sum(&all[0], &tot);
	sp_serve_print(&all[0], &tot, &rep, sp_out_summary(a.json_path));
	ret = SP_EXIT_OK;
	if (json != NULL) {
		if (sp_serve_json(&all[0], &tot, &rep, json, a.json_path) < 0)
			ret = SP_EXIT_NORUN;
		json = NULL;
	}
out:
	sp_out_discard(json, a.json_path);
	sp_cores_close(&cores);
	for (uint32_t i = 0; i < SP_MAX_CORES; i++) {
		free(all[i].slots);
		free(all[i].free_idx);
	}
	free(all[0].keep.buf);
	free(all[0].close.buf);
	free(all);
	return ret;
}
