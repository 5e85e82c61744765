/*
 * `stampede tcp`: raw TCP connections against an echo or discard server,
 * with end-to-end data verification.
 *
 * Each connection n sends --bytes of the deterministic pattern with seed n.
 * In echo mode it verifies every byte it reads back against the same
 * pattern, as it arrives (a 64 MiB exchange needs no 64 MiB buffer: the
 * pattern is written straight into the stack's send queue as the `sent`
 * callback frees space, the receive side is checked in place). After the
 * exchange (and --hold) it closes gracefully; it is ok when the data
 * verified and both FINs were exchanged. In sink mode it only sends, then
 * closes.
 *
 * Per-connection state lives in an array of --concurrency slots sized at
 * start; free slots are a stack of indices, connections in --hold are an
 * intrusive list ordered by deadline (every hold has the same length, so
 * appending keeps it sorted). Nothing is allocated while the load runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_app.h"
#include "sp_pattern.h"
#include "sp_sha256.h"

#define SP_NONE UINT32_MAX
#define SP_OPENS_PER_IT 64 /* SYNs per loop iteration: smooth bursts */
#define SP_TW_EXTRA_MAX 65536 /* pool slots beyond concurrency, for TIME_WAIT */
#define SP_CHUNKS_MAX (128u * 1024u) /* 2 KiB each: 256 MiB of queues at most */
#define SP_DRAIN_US (5 * SP_US_PER_S)

enum sp_tcpmode_kind { SP_TCPMODE_ECHO, SP_TCPMODE_SINK };

enum sp_slot_state {
	SP_SLOT_FREE = 0,
	SP_SLOT_CONNECTING,
	SP_SLOT_EXCHANGE,
	SP_SLOT_HOLD,
	SP_SLOT_CLOSING, /* sp_tcp_close called: waiting for closed() */
};

struct sp_slot {
	struct sp_conn *c;
	uint64_t id;       /* connection number: the pattern seed */
	uint64_t sent;     /* bytes queued to the stack */
	uint64_t received; /* bytes received (echo: all verified) */
	uint64_t hold_until;
	uint32_t hold_prev, hold_next;
	uint8_t state;
	uint8_t exchanged; /* echo fully verified / sink fully queued */
	uint8_t mismatch;  /* bad, extra or missing echo bytes */
};

struct sp_tcpmode {
	/* Plan. */
	enum sp_tcpmode_kind kind;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint64_t connections; /* this core's (all[0] parses the total) */
	uint32_t concurrency; /* this core's */
	uint64_t bytes;
	uint64_t hold_us;

	/* Core i of ncores makes connections i, i + ncores, i + 2 ncores...
	 * (the number is the pattern's seed: the same on any core count). */
	struct sp_worker *w;
	struct sp_tcpmode *all; /* every core's, all[0] .. all[ncores-1] */
	uint32_t ncores, core;
	struct sp_slot *slots;
	mbedtls_sha256_context *sha_tx,
		*sha_rx; /* per slot, with --sha256 only */
	uint32_t *free_idx;
	uint32_t nfree;
	uint32_t hold_head, hold_tail;
	uint64_t next_id;
	uint64_t finished;

	struct sp_tcpmode_counts n; /* one writer: the worker */
};

static inline uint32_t
sp_slot_idx(const struct sp_tcpmode *m, const struct sp_slot *s)
{
	return (uint32_t)(s - m->slots);
}

static void
sp_hold_remove(struct sp_tcpmode *m, struct sp_slot *s)
{
	if (s->hold_prev != SP_NONE)
		m->slots[s->hold_prev].hold_next = s->hold_next;
	else
		m->hold_head = s->hold_next;
	if (s->hold_next != SP_NONE)
		m->slots[s->hold_next].hold_prev = s->hold_prev;
	else
		m->hold_tail = s->hold_prev;
	s->hold_prev = s->hold_next = SP_NONE;
	sp_ctr_sub(m->n.held, 1);
}

static void
sp_hold_append(struct sp_tcpmode *m, struct sp_slot *s)
{
	uint32_t i = sp_slot_idx(m, s);

	s->hold_prev = m->hold_tail;
	s->hold_next = SP_NONE;
	if (m->hold_tail != SP_NONE)
		m->slots[m->hold_tail].hold_next = i;
	else
		m->hold_head = i;
	m->hold_tail = i;
	sp_ctr_inc(m->n.held);
}

/* Close gracefully. closed() may run before sp_tcp_close returns: callers
 * must not touch @s afterwards. */
static void
sp_slot_close(struct sp_tcpmode *m, struct sp_slot *s)
{
	if (s->state == SP_SLOT_HOLD)
		sp_hold_remove(m, s);
	s->state = SP_SLOT_CLOSING;
	if (sp_tcp_close(m->w->st, s->c) < 0)
		sp_tcp_abort(m->w->st, s->c);
}

/* The exchange is over: close now or after --hold. */
static void
sp_slot_exchanged(struct sp_tcpmode *m, struct sp_slot *s)
{
	s->exchanged = 1;
	if (m->hold_us == 0) {
		sp_slot_close(m, s);
		return;
	}
	s->state = SP_SLOT_HOLD;
	s->hold_until = m->w->now_us + m->hold_us;
	sp_hold_append(m, s);
}

/* Queue as much of the pattern as the send buffer takes, written straight
 * into the stack's send queue (sp_tcp_send_buf): the frames' copy is the
 * only one. */
static void
sp_slot_pump(struct sp_tcpmode *m, struct sp_slot *s)
{
	struct sp_stack *st = m->w->st;

	while (s->sent < m->bytes) {
		uint64_t n = m->bytes - s->sent;
		uint8_t *buf;
		int32_t room = sp_tcp_send_buf(st, s->c, &buf);

		if (room <= 0)
			return;
		if (n > (uint64_t)room)
			n = (uint64_t)room;
		sp_pattern_fill(s->id, s->sent, buf, n);
		if (m->sha_tx != NULL)
			mbedtls_sha256_update(&m->sha_tx[sp_slot_idx(m, s)],
					      buf, (size_t)n);
		sp_tcp_send_commit(st, s->c, (uint32_t)n,
				   s->sent + n < m->bytes);
		s->sent += n;
		sp_ctr_add(m->n.bytes_sent, n);
	}
	if (m->kind == SP_TCPMODE_SINK && !s->exchanged)
		sp_slot_exchanged(m, s);
}

static void
sp_tcpmode_on_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_tcpmode *m = app;
	struct sp_slot *s = sp_conn_user(c);

	(void)st;
	s->state = SP_SLOT_EXCHANGE;
	if (m->bytes == 0) {
		sp_slot_exchanged(m, s);
		return;
	}
	sp_slot_pump(m, s);
}

static void
sp_tcpmode_on_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_tcpmode *m = app;
	struct sp_slot *s = sp_conn_user(c);

	(void)st;
	if (s->state == SP_SLOT_EXCHANGE)
		sp_slot_pump(m, s);
}

static void
sp_tcpmode_on_recv(struct sp_stack *st, struct sp_conn *c, void *app,
		   const uint8_t *data, uint32_t len)
{
	struct sp_tcpmode *m = app;
	struct sp_slot *s = sp_conn_user(c);

	sp_ctr_add(m->n.bytes_received, len);
	if (m->sha_rx != NULL)
		mbedtls_sha256_update(&m->sha_rx[sp_slot_idx(m, s)], data, len);
	if (m->kind == SP_TCPMODE_SINK || s->mismatch)
		return;
	/* More than we sent, or not what we sent: the stream is corrupt and
	 * nothing after this point can be trusted. */
	if (len > m->bytes - s->received ||
	    sp_pattern_check(s->id, s->received, data, len) >= 0) {
		s->mismatch = 1;
		sp_tcp_abort(st, c);
		return;
	}
	s->received += len;
	sp_ctr_add(m->n.bytes_verified, len);
	if (s->received == m->bytes && s->state == SP_SLOT_EXCHANGE)
		sp_slot_exchanged(m, s);
}

static void
sp_tcpmode_on_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_tcpmode *m = app;
	struct sp_slot *s = sp_conn_user(c);

	(void)st;
	switch (s->state) {
	case SP_SLOT_EXCHANGE:
		/* An echo that ends early is short: a data failure. A sink
		 * keeps sending on the half-open connection. */
		if (m->kind == SP_TCPMODE_ECHO) {
			s->mismatch = 1;
			sp_slot_close(m, s);
		}
		break;
	case SP_SLOT_HOLD:
		/* The peer is done with us: no point holding. */
		sp_slot_close(m, s);
		break;
	default:
		break;
	}
}

static void
sp_hex_digest(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * The chunk pool holds every send queue and out-of-order queue. Give each
 * open connection room for its whole send buffer (or its whole transfer, if
 * smaller) plus the stack's headroom, up to SP_CHUNKS_MAX (256 MiB); past
 * that, connections share and the report counts snd_nochunk.
 */
static void
sp_tcpmode_size_chunks(const struct sp_tcpmode *m, struct sp_stack_config *cfg)
{
	uint64_t queued = m->bytes < cfg->sndbuf ? m->bytes : cfg->sndbuf;
	uint64_t want = m->concurrency * ((queued + SP_CHUNK_PAYLOAD - 1) /
						  SP_CHUNK_PAYLOAD +
					  1) +
			cfg->chunks;

	cfg->chunks = (uint32_t)(want < SP_CHUNKS_MAX ? want : SP_CHUNKS_MAX);
}

/* --sha256: digest both streams of the connection that just ended. */
static void
sp_slot_digest(struct sp_tcpmode *m, struct sp_slot *s)
{
	uint32_t i = sp_slot_idx(m, s);
	uint8_t tx[32], rx[32];

	mbedtls_sha256_finish(&m->sha_tx[i], tx);
	mbedtls_sha256_finish(&m->sha_rx[i], rx);
	if (m->kind == SP_TCPMODE_ECHO && memcmp(tx, rx, sizeof(tx)) != 0)
		sp_ctr_inc(m->n.sha256_differ);
	if (s->id == 0) {
		sp_hex_digest(tx, sizeof(tx), m->n.sha256_sent);
		sp_hex_digest(rx, sizeof(rx), m->n.sha256_received);
	}
}

static void
sp_tcpmode_on_closed(struct sp_stack *st, struct sp_conn *c, void *app,
		     enum sp_close_reason why)
{
	struct sp_tcpmode *m = app;
	struct sp_slot *s = sp_conn_user(c);
	struct sp_tcpmode_counts *n = &m->n;

	(void)st;
	if (s->mismatch) {
		sp_ctr_inc(n->mismatch);
	} else {
		switch (why) {
		case SP_CLOSE_NORMAL:
			if (s->exchanged)
				sp_ctr_inc(n->ok);
			else
				sp_ctr_inc(n->incomplete);
			break;
		case SP_CLOSE_REFUSED:
			sp_ctr_inc(n->refused);
			break;
		case SP_CLOSE_CONNECT_TIMEOUT:
			sp_ctr_inc(n->connect_timeout);
			break;
		case SP_CLOSE_RESET:
			sp_ctr_inc(n->reset);
			break;
		case SP_CLOSE_TIMEOUT:
			sp_ctr_inc(n->timeout);
			break;
		case SP_CLOSE_ABORTED:
		default:
			/* Only our stop aborts without a mismatch. */
			sp_ctr_inc(n->incomplete);
			break;
		}
	}
	if (m->sha_tx != NULL)
		sp_slot_digest(m, s);
	if (s->state == SP_SLOT_HOLD)
		sp_hold_remove(m, s);
	s->state = SP_SLOT_FREE;
	s->c = NULL;
	m->free_idx[m->nfree++] = sp_slot_idx(m, s);
	sp_ctr_sub(n->open, 1);
	m->finished++;
}

static const struct sp_tcp_ops sp_tcpmode_ops = {
	.connected = sp_tcpmode_on_connected,
	.recv = sp_tcpmode_on_recv,
	.sent = sp_tcpmode_on_sent,
	.peer_fin = sp_tcpmode_on_peer_fin,
	.closed = sp_tcpmode_on_closed,
};

static int
sp_tcpmode_step(void *ctx, uint64_t now)
{
	struct sp_tcpmode *m = ctx;
	int opens = 0;

	/* Closes are paced like opens: each FIN draws the peer's ACK and
	 * FIN, and 100,000 holds ending within a second would otherwise
	 * answer in bursts the RX ring cannot hold. */
	while (m->hold_head != SP_NONE &&
	       m->slots[m->hold_head].hold_until <= now &&
	       opens < SP_OPENS_PER_IT) {
		sp_slot_close(m, &m->slots[m->hold_head]);
		opens++;
	}
	opens = 0;

	while (m->next_id < m->connections && m->nfree > 0 &&
	       opens < SP_OPENS_PER_IT) {
		uint32_t i = m->free_idx[m->nfree - 1];
		struct sp_slot *s = &m->slots[i];
		struct sp_conn *c;
		int err = 0;

		memset(s, 0, sizeof(*s));
		s->id = m->core + m->next_id * m->ncores;
		s->state = SP_SLOT_CONNECTING;
		if (m->sha_tx != NULL) {
			mbedtls_sha256_init(&m->sha_tx[i]);
			mbedtls_sha256_starts(&m->sha_tx[i], 0);
			mbedtls_sha256_init(&m->sha_rx[i]);
			mbedtls_sha256_starts(&m->sha_rx[i], 0);
		}
		s->hold_prev = s->hold_next = SP_NONE;
		c = sp_tcp_connect(m->w->st, m->dst_ip, m->dst_port, s, &err);
		if (c == NULL) {
			/* Pool or ports held by TIME_WAIT: try again on a
			 * later iteration, this is not the target's fault. */
			s->state = SP_SLOT_FREE;
			if (err == -EADDRNOTAVAIL)
				sp_ctr_inc(m->n.connect_noports);
			else
				sp_ctr_inc(m->n.connect_nobufs);
			break;
		}
		m->nfree--;
		s->c = c;
		m->next_id++;
		sp_ctr_inc(m->n.started);
		sp_ctr_inc(m->n.open);
		opens++;
	}
	return m->finished == m->connections;
}

/* Stopped (Ctrl-C, --duration): a connection whose exchange is not over
 * is cut (incomplete); those in --hold are done, and the drain closes them
 * gracefully. */
static void
sp_tcpmode_stop(void *ctx, uint64_t now)
{
	struct sp_tcpmode *m = ctx;

	(void)now;
	for (uint32_t i = 0; i < m->concurrency; i++)
		if (m->slots[i].c != NULL &&
		    m->slots[i].state != SP_SLOT_HOLD &&
		    m->slots[i].state != SP_SLOT_CLOSING)
			sp_tcp_abort(m->w->st, m->slots[i].c);
}

/* Close the held connections, paced as in step; a second Ctrl-C cuts
 * them instead. Done when none is held any more (the worker then waits,
 * bounded, for the closes to complete). */
static int
sp_tcpmode_drain(void *ctx, uint64_t now, int hurry)
{
	struct sp_tcpmode *m = ctx;
	int n = 0;

	(void)now;
	while (m->hold_head != SP_NONE && n < SP_OPENS_PER_IT) {
		struct sp_slot *s = &m->slots[m->hold_head];

		if (hurry) {
			sp_hold_remove(m, s);
			s->state = SP_SLOT_CLOSING;
			sp_tcp_abort(m->w->st, s->c);
		} else {
			sp_slot_close(m, s);
			n++;
		}
	}
	return m->hold_head == SP_NONE;
}

/* Every core's counters added up into @t (the digests aside). The
 * counters are read whole while their workers write them. */
#define SP_TCPMODE_ADD(f) t->f += sp_ctr_read(n->f);

static void
sp_tcpmode_sum(const struct sp_tcpmode *m, struct sp_tcpmode_counts *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t c = 0; c < m->ncores; c++) {
		const struct sp_tcpmode_counts *n = &m->all[c].n;

		SP_TCPMODE_COUNTERS(SP_TCPMODE_ADD)
	}
}

static void
sp_tcpmode_live(const void *ctx, char *buf, size_t len)
{
	struct sp_tcpmode_counts n;
	char sent[32], recv[32];

	sp_tcpmode_sum(ctx, &n);
	sp_fmt_bytes(n.bytes_sent, sent, sizeof(sent));
	sp_fmt_bytes(n.bytes_received, recv, sizeof(recv));
	snprintf(buf, len,
		 " ok %" PRIu64 " failed %" PRIu64 " open %" PRIu64
		 " held %" PRIu64 " sent %s recv %s",
		 n.ok, sp_tcpmode_failed(&n), n.open, n.held, sent, recv);
}

static const struct sp_mode sp_tcpmode_mode = {
	.name = "tcp",
	.step = sp_tcpmode_step,
	.stop = sp_tcpmode_stop,
	.drain = sp_tcpmode_drain,
	.live = sp_tcpmode_live,
};

static const char sp_tcpmode_help[] =
	"usage: stampede tcp --port P --ip A --target IP:PORT [options]\n"
	"\n"
	"Raw TCP connections with data verification against an echo server\n"
	"(echo) or any server that reads (sink).\n"
	"\n"
	"  --target IP:PORT        server\n"
	"  --mode echo|sink        echo: send and verify the echo (default);\n"
	"                          sink: send only\n"
	"  --connections N         total connections (default 1)\n"
	"  --concurrency C         open at once at most (default 1); with\n"
	"                          --cores each core takes an even share of\n"
	"                          both (C must be at least the cores)\n"
	"  --bytes K               bytes per connection, k/m/g = KiB/MiB/GiB\n"
	"                          (default 1024)\n"
	"  --hold DUR              keep each connection open DUR after its\n"
	"                          exchange (default 0)\n"
	"  --duration DUR          upper bound of the run (default 60s)\n"
	"  --connect-timeout DUR   (default 3s)\n"
	"  --time-wait DUR         our TIME_WAIT (default 1s)\n"
	"  --rto-min DUR           minimum retransmission timeout (default 200ms)\n"
	"  --sha256                SHA-256 of each connection's sent and received\n"
	"                          streams (report: the first connection's, and\n"
	"                          how many echoes differ)\n"
	"  --impair SPEC           impair what we receive, e.g.\n"
	"                          reorder=2%,dup=1%,drop=0.5% (tests recovery)\n"
	"  --json FILE             write the report as JSON too\n"
	"                          (-: stdout, the summary then on stderr)\n"
	"\n" SP_NETOPT_HELP "\n"
	"durations: 500ms, 10s, 2m, 1h (a bare number is seconds)\n"
	"exit: 0 all connections ok, 1 some failed or incomplete, 2 usage,\n"
	"      3 could not run (EAL, port, ARP)\n";

enum {
	SP_OPT_TARGET = SP_OPT_BASE,
	SP_OPT_MODE,
	SP_OPT_CONNECTIONS,
	SP_OPT_CONCURRENCY,
	SP_OPT_BYTES,
	SP_OPT_HOLD,
	SP_OPT_DURATION,
	SP_OPT_CONNECT_TIMEOUT,
	SP_OPT_TIME_WAIT,
	SP_OPT_RTO_MIN,
	SP_OPT_JSON,
	SP_OPT_SHA256,
	SP_OPT_IMPAIR,
	SP_OPT_HELP,
};

static const struct option sp_tcpmode_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "target", required_argument, NULL, SP_OPT_TARGET },
	{ "mode", required_argument, NULL, SP_OPT_MODE },
	{ "connections", required_argument, NULL, SP_OPT_CONNECTIONS },
	{ "concurrency", required_argument, NULL, SP_OPT_CONCURRENCY },
	{ "bytes", required_argument, NULL, SP_OPT_BYTES },
	{ "hold", required_argument, NULL, SP_OPT_HOLD },
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "connect-timeout", required_argument, NULL, SP_OPT_CONNECT_TIMEOUT },
	{ "time-wait", required_argument, NULL, SP_OPT_TIME_WAIT },
	{ "rto-min", required_argument, NULL, SP_OPT_RTO_MIN },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "sha256", no_argument, NULL, SP_OPT_SHA256 },
	{ "impair", required_argument, NULL, SP_OPT_IMPAIR },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sp_tcpmode_args {
	struct sp_netopt net;
	const char *json_path;
	uint64_t duration_us, connect_timeout_us, time_wait_us, rto_min_us;
	struct sp_impair impair;
	int have_target;
};

static int
sp_parse_target(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[32];
	const char *colon = strrchr(s, ':');
	uint64_t p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(buf)) {
		sp_usage_error("--target: '%s' is not IP:PORT", s);
		return -1;
	}
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (sp_parse_ipv4("--target", buf, ip) < 0 ||
	    sp_parse_u64("--target port", colon + 1, 1, 65535, &p) < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* Stack timers are 32-bit µs: a little over an hour. */
static int
sp_parse_timer(const char *opt, const char *s, uint64_t *us)
{
	if (sp_parse_duration(opt, s, us) < 0)
		return -1;
	if (*us > UINT32_MAX) {
		sp_usage_error("%s: %s is too long (at most 4294s)", opt, s);
		return -1;
	}
	return 0;
}

static int
sp_tcpmode_parse(int argc, char **argv, struct sp_tcpmode *m,
		 struct sp_tcpmode_args *a)
{
	uint64_t v;
	int code, r;

	sp_netopt_init(&a->net);
	m->kind = SP_TCPMODE_ECHO;
	m->connections = 1;
	m->concurrency = 1;
	m->bytes = 1024;
	a->duration_us = 60 * SP_US_PER_S;
	a->connect_timeout_us = 3 * SP_US_PER_S;
	a->time_wait_us = SP_US_PER_S;
	a->rto_min_us = 200 * 1000;

	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_tcpmode_longopts,
				   NULL)) != -1) {
		r = sp_netopt_parse(&a->net, code, optarg);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (code) {
		case SP_OPT_TARGET:
			if (sp_parse_target(optarg, &m->dst_ip, &m->dst_port) <
			    0)
				return -1;
			a->have_target = 1;
			break;
		case SP_OPT_MODE:
			if (strcmp(optarg, "echo") == 0) {
				m->kind = SP_TCPMODE_ECHO;
			} else if (strcmp(optarg, "sink") == 0) {
				m->kind = SP_TCPMODE_SINK;
			} else {
				sp_usage_error(
					"--mode: '%s' is neither echo nor "
					"sink",
					optarg);
				return -1;
			}
			break;
		case SP_OPT_CONNECTIONS:
			if (sp_parse_u64("--connections", optarg, 1, UINT32_MAX,
					 &m->connections) < 0)
				return -1;
			break;
		case SP_OPT_CONCURRENCY:
			if (sp_parse_u64("--concurrency", optarg, 1, 1u << 22,
					 &v) < 0)
				return -1;
			m->concurrency = (uint32_t)v;
			break;
		case SP_OPT_BYTES:
			if (sp_parse_size("--bytes", optarg, &m->bytes) < 0)
				return -1;
			break;
		case SP_OPT_HOLD:
			if (sp_parse_duration("--hold", optarg, &m->hold_us) <
			    0)
				return -1;
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
		case SP_OPT_CONNECT_TIMEOUT:
			if (sp_parse_timer("--connect-timeout", optarg,
					   &a->connect_timeout_us) < 0)
				return -1;
			break;
		case SP_OPT_TIME_WAIT:
			if (sp_parse_timer("--time-wait", optarg,
					   &a->time_wait_us) < 0)
				return -1;
			break;
		case SP_OPT_RTO_MIN:
			if (sp_parse_timer("--rto-min", optarg,
					   &a->rto_min_us) < 0)
				return -1;
			if (a->rto_min_us == 0) {
				sp_usage_error("--rto-min: must be positive");
				return -1;
			}
			break;
		case SP_OPT_JSON:
			a->json_path = optarg;
			break;
		case SP_OPT_SHA256:
			m->n.sha256 = 1;
			break;
		case SP_OPT_IMPAIR:
			if (sp_parse_impair("--impair", optarg, &a->impair) < 0)
				return -1;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_tcpmode_help, stdout);
			exit(SP_EXIT_OK);
		default:
			return sp_opt_bad("tcp", code, argv);
		}
	}
	if (sp_opt_no_args("tcp", argc, argv) < 0)
		return -1;
	if (sp_netopt_finish(&a->net) < 0)
		return -1;
	if (!a->have_target) {
		sp_usage_error("--target is required");
		return -1;
	}
	if (sp_netopt_check_target(&a->net, "--target", NULL, m->dst_ip) < 0)
		return -1;
	if (m->concurrency > m->connections)
		m->concurrency = (uint32_t)m->connections;
	if (m->concurrency < a->net.cores) {
		sp_usage_error(
			"--cores %u: needs --concurrency and --connections "
			"of %u at least (each core keeps a connection "
			"open)",
			a->net.cores, a->net.cores);
		return -1;
	}
	return 0;
}

/* How many of @total the numbers i, i + n, i + 2n... below @total are. */
static uint64_t
sp_share(uint64_t total, uint32_t n, uint32_t i)
{
	return total / n + (i < total % n);
}

/* Core @i's state, the plan copied from all[0] and cut to its share. */
static int
sp_tcpmode_alloc(struct sp_tcpmode *all, uint32_t ncores, uint32_t i,
		 uint64_t connections, uint32_t concurrency)
{
	struct sp_tcpmode *m = &all[i];

	if (i > 0) {
		memcpy(m, &all[0], offsetof(struct sp_tcpmode, w));
		m->n.sha256 = all[0].n.sha256;
	}
	m->all = all;
	m->ncores = ncores;
	m->core = i;
	m->connections = sp_share(connections, ncores, i);
	m->concurrency = (uint32_t)sp_share(concurrency, ncores, i);
	m->n.planned = m->connections;
	m->slots = calloc(m->concurrency, sizeof(*m->slots));
	m->free_idx = calloc(m->concurrency, sizeof(*m->free_idx));
	if (m->n.sha256) {
		m->sha_tx = calloc(m->concurrency, sizeof(*m->sha_tx));
		m->sha_rx = calloc(m->concurrency, sizeof(*m->sha_rx));
	}
	if (m->slots == NULL || m->free_idx == NULL ||
	    (m->n.sha256 && (m->sha_tx == NULL || m->sha_rx == NULL))) {
		fprintf(stderr, "stampede: out of memory for %u connections\n",
			m->concurrency);
		return -1;
	}
	/* Highest index at the bottom: slot 0 is used first. */
	for (uint32_t k = 0; k < m->concurrency; k++)
		m->free_idx[k] = m->concurrency - 1 - k;
	m->nfree = m->concurrency;
	m->hold_head = m->hold_tail = SP_NONE;
	return 0;
}

/* Core @i: its state, its stack's settings, its worker. 0, or -1 after
 * printing why. */
static int
sp_tcpmode_core_setup(struct sp_tcpmode *all, struct sp_cores *cores,
		      const struct sp_tcpmode_args *a, uint32_t i,
		      uint64_t connections, uint32_t concurrency)
{
	struct sp_tcpmode *m = &all[i];
	struct sp_stack_config cfg;
	struct sp_core_mode cm = {
		.mode = &sp_tcpmode_mode,
		.mode_ctx = m,
		.ops = &sp_tcpmode_ops,
		.app = m,
		.drain_us = SP_DRAIN_US,
		.impair = a->impair,
	};
	uint64_t extra;

	if (sp_tcpmode_alloc(all, cores->n, i, connections, concurrency) < 0)
		return -1;
	/* Pool: every open connection plus those lingering in TIME_WAIT. */
	extra = m->connections < SP_TW_EXTRA_MAX ? m->connections :
						   SP_TW_EXTRA_MAX;
	sp_cores_stack_config(cores, &cfg, (uint32_t)(m->concurrency + extra),
			      m->concurrency);
	cfg.rto_min_us = (uint32_t)a->rto_min_us;
	if (cfg.rto_init_us < cfg.rto_min_us)
		cfg.rto_init_us = cfg.rto_min_us;
	if (cfg.rto_max_us < cfg.rto_min_us)
		cfg.rto_max_us = cfg.rto_min_us;
	cfg.connect_timeout_us = (uint32_t)a->connect_timeout_us;
	cfg.time_wait_us = (uint32_t)a->time_wait_us;
	sp_tcpmode_size_chunks(m, &cfg);
	m->w = &cores->ws[i];
	cm.dst_ip = m->dst_ip;
	cm.dst_port = m->dst_port;
	return sp_cores_add(cores, i, &a->net, &cfg, &cm);
}

int
sp_cmd_tcp(int argc, char **argv)
{
	static struct sp_cores cores;
	struct sp_tcpmode *all;
	struct sp_tcpmode_args a;
	struct sp_report rep;
	struct sp_tcpmode_counts tot;
	FILE *json = NULL;
	uint64_t connections;
	uint32_t n, concurrency;
	int ret = SP_EXIT_NORUN;

	memset(&a, 0, sizeof(a));
	/* all[0] takes the options; the other cores copy its plan. */
	all = calloc(SP_MAX_CORES, sizeof(*all));
	if (all == NULL) {
		fprintf(stderr, "stampede: out of memory\n");
		return SP_EXIT_NORUN;
	}
	if (sp_tcpmode_parse(argc, argv, &all[0], &a) < 0) {
		free(all);
		return SP_EXIT_USAGE;
	}
	/* Before the run: a report that cannot be written is a usage error,
	 * better found now than after an hour of load. */
	if (a.json_path != NULL) {
		json = sp_out_open("--json", a.json_path);
		if (json == NULL) {
			free(all);
			return SP_EXIT_USAGE;
		}
	}
	n = a.net.cores;
	connections = all[0].connections;
	concurrency = all[0].concurrency;
	if (sp_cores_open(&cores, &a.net) < 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (sp_tcpmode_core_setup(all, &cores, &a, i, connections,
					  concurrency) < 0)
			goto out;
	if (sp_cores_run(&cores, a.duration_us) < 0)
		goto out;
	sp_report_collect_n(&rep, cores.ws, n, &cores.port);
	rep.mode = all[0].kind == SP_TCPMODE_ECHO ? "echo" : "sink";
	{
		char ip[16];

		sp_ipv4_str(all[0].dst_ip, ip, sizeof(ip));
		snprintf(rep.target, sizeof(rep.target), "%s:%u", ip,
			 all[0].dst_port);
	}
	sp_tcpmode_sum(&all[0], &tot);
	/* The digests are the first connection's: core 0 made it. */
	tot.sha256 = all[0].n.sha256;
	memcpy(tot.sha256_sent, all[0].n.sha256_sent, sizeof(tot.sha256_sent));
	memcpy(tot.sha256_received, all[0].n.sha256_received,
	       sizeof(tot.sha256_received));
	rep.tcp = &tot;
	for (uint32_t i = 0; i < n; i++)
		rep.tcp_core[i] = &all[i].n;
	sp_report_print(&rep, sp_out_summary(a.json_path));
	ret = tot.ok == connections ? SP_EXIT_OK : SP_EXIT_FAILED;
	if (json != NULL) {
		if (sp_report_json(&rep, json, a.json_path) < 0)
			ret = SP_EXIT_NORUN;
		json = NULL;
	}
out:
	if (json != NULL) {
		/* Nothing to report: leave no empty file behind. */
		sp_out_discard(json, a.json_path);
	}
	sp_cores_close(&cores);
	for (uint32_t i = 0; i < SP_MAX_CORES; i++) {
		free(all[i].slots);
		free(all[i].free_idx);
		free(all[i].sha_tx);
		free(all[i].sha_rx);
	}
	free(all);
	return ret;
}
