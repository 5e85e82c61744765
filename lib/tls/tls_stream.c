/*
 * TLS as a stream over a stream: the glue every engine shares.
 *
 * Downward, each connection is the user of one inner connection; upward,
 * it is a connection of sp_tls_stream_ops. Bytes from the inner data
 * callback become the engine's receive window (sp_tls_bio_recv reads
 * from it, "would block" when it is empty: the engine keeps a partial
 * record itself), and the engine's records go straight into the inner
 * send (sp_tls_bio_send). The engine's WANT results are the state
 * machine's waits: a WANT on input waits for the next data callback, a
 * WANT on output for the next writable.
 *
 * Callbacks out (to the user, to the inner stream) can come back in:
 * the user may abort inside data(), and an inner abort runs closed()
 * within. Each glue entry point holds the connection (nest) while it
 * works; an inner closed() that comes meanwhile is kept (gone) and
 * finished when the outermost frame lets go, so a connection is never
 * freed under a frame still using it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_counter.h"
#include "tls_int.h"

static inline struct sp_tls_conn *
sp_tls_c(struct sp_stream *s)
{
	return (struct sp_tls_conn *)s;
}

static inline uint64_t
sp_tls_now(struct sp_tls *t)
{
	return t->clock(t->clock_arg);
}

/* ---- the handshake FIFO: in order of start, so the oldest is first ---- */

static void
sp_tls_fifo_add(struct sp_tls *t, struct sp_tls_conn *c)
{
	c->next = NULL;
	c->prev = t->fifo_tail;
	if (t->fifo_tail)
		t->fifo_tail->next = c;
	else
		t->fifo_head = c;
	t->fifo_tail = c;
	c->in_fifo = 1;
}

/* ---- handshake input put off past the loop iteration's budget ---- */

/* Keep @len bytes of @c's handshake input for a later iteration: 0, or
 * -1 when no buffer is free or @c's cannot take them (the caller then
 * takes them at once). */
static int
sp_tls_defer(struct sp_tls *t, struct sp_tls_conn *c, const uint8_t *p,
	     uint32_t len)
{
	if (c->dbuf < 0) {
		if (t->ndfree == 0 || len > SP_TLS_DEFER_LEN)
			return -1;
		c->dbuf = t->dfree[--t->ndfree];
		c->dlen = 0;
		c->dsince = sp_tls_now(t);
		c->dnext = NULL;
		if (t->defer_tail)
			t->defer_tail->dnext = c;
		else
			t->defer_head = c;
		t->defer_tail = c;
		sp_ctr_inc(t->ctr.hs_deferred);
	} else if (len > SP_TLS_DEFER_LEN - c->dlen) {
		return -1;
	}
	memcpy(t->dbufs + (size_t)c->dbuf * SP_TLS_DEFER_LEN + c->dlen, p, len);
	c->dlen += len;
	return 0;
}

/* Take @c off the waiting list. Returns its buffer (still taken), or -1
 * if it had none. The list is at most SP_TLS_DEFER_BUFS long. */
static int32_t
sp_tls_undefer(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_tls_conn **pp = &t->defer_head, *prev = NULL;
	int32_t b = c->dbuf;

	if (b < 0)
		return -1;
	while (*pp != c) {
		prev = *pp;
		pp = &(*pp)->dnext;
	}
	*pp = c->dnext;
	if (t->defer_tail == c)
		t->defer_tail = prev;
	c->dnext = NULL;
	c->dbuf = -1;
	sp_ctr_add(t->ctr.hs_defer_ticks, sp_tls_now(t) - c->dsince);
	return b;
}

static inline void
sp_tls_dbuf_put(struct sp_tls *t, int32_t b)
{
	if (b >= 0)
		t->dfree[t->ndfree++] = b;
}

static void
sp_tls_fifo_del(struct sp_tls *t, struct sp_tls_conn *c)
{
	/* The handshake is over, one way or another: what waited for it
	 * is of no use (a live caller of sp_tls_run_deferred holds its own
	 * buffer by then). */
	sp_tls_dbuf_put(t, sp_tls_undefer(t, c));
	if (!c->in_fifo)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->fifo_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->fifo_tail = c->prev;
	c->next = c->prev = NULL;
	c->in_fifo = 0;
}

/* ---- counting ---- */

static void
sp_tls_count_err(struct sp_tls *t, int code)
{
	struct sp_tls_counters *k = &t->ctr;

	for (unsigned i = 0; i < SP_TLS_NERRS; i++) {
		if (k->err_count[i] == 0)
			sp_ctr_set(k->err_code[i], code);
		if (k->err_code[i] == code) {
			sp_ctr_inc(k->err_count[i]);
			return;
		}
	}
	sp_ctr_inc(k->errs_other);
}

/* Engine allocations since @a0 on this thread go to the handshake or to
 * the steady state, as the connection was when the call began. */
static inline void
sp_tls_count_allocs(struct sp_tls *t, uint64_t a0, int in_hs)
{
	uint64_t n = sp_tls_thread_allocs() - a0;

	if (n == 0)
		return;
	if (in_hs)
		sp_ctr_add(t->ctr.allocs_hs, n);
	else
		sp_ctr_add(t->ctr.allocs_steady, n);
}

/* ---- the end of a connection ---- */

static void
sp_tls_release(struct sp_tls *t, struct sp_tls_conn *c)
{
	sp_tls_fifo_del(t, c);
	c->state = SP_TLS_FREE;
	c->inner = NULL;
	c->user = NULL;
	c->in = NULL;
	c->in_len = 0;
	c->next = t->free;
	t->free = c;
}

/* The inner connection is gone: tell the user why, in one kind. */
static void
sp_tls_finish(struct sp_tls *t, struct sp_tls_conn *c, enum sp_stream_end why)
{
	void *user = c->user;
	enum sp_stream_end kind;

	if (c->fail)
		kind = c->fail;
	else if (c->aborted)
		kind = SP_STREAM_END_ABORTED;
	else if (why == SP_STREAM_END_NORMAL && c->hs_began && !c->hs_done)
		kind = SP_STREAM_END_HANDSHAKE; /* closed in the handshake */
	else
		kind = why;
	/* Every handshake begun ends once: done, or failed here. */
	if (c->hs_began && !c->hs_done)
		sp_ctr_inc(t->ctr.hs_failed);
	if (c->hs_done)
		sp_ctr_sub(t->ctr.open, 1);
	sp_ctr_inc(t->ctr.ended[kind]);
	sp_tls_release(t, c);
	t->cbs->closed(t->ctx, user, kind);
}

/* Leave a glue frame: finish a connection whose inner went meanwhile. */
static void
sp_tls_leave(struct sp_tls *t, struct sp_tls_conn *c)
{
	if (--c->nest == 0 && c->gone)
		sp_tls_finish(t, c, c->gone_why);
}

/* A failure: record it, end the inner connection (closed() follows). */
static void
sp_tls_fail(struct sp_tls *t, struct sp_tls_conn *c,
	    const struct sp_tls_fail_info *fi)
{
	if (c->state == SP_TLS_ENDING || c->gone)
		return;
	c->fail = (uint8_t)fi->kind;
	if (fi->kind == SP_STREAM_END_VERIFY) {
		sp_ctr_inc(t->ctr.verify_fail);
		for (unsigned b = 0; b < SP_TLS_NVERIFY; b++)
			if (fi->vflags & (1u << b))
				sp_ctr_inc(t->ctr.verify_reason[b]);
	}
	if (fi->alert >= 0 && fi->alert < SP_TLS_NALERTS)
		sp_ctr_inc(t->ctr.alerts_rx[fi->alert]);
	if (fi->code)
		sp_tls_count_err(t, fi->code);
	sp_tls_fifo_del(t, c);
	c->state = SP_TLS_ENDING;
	/* A timeout ends now; otherwise let the alert the engine queued
	 * reach the peer before the FIN. */
	if (fi->kind == SP_STREAM_END_HANDSHAKE_TIMEOUT ||
	    t->iops->close(t->iimpl, c->inner) < 0)
		t->iops->abort(t->iimpl, c->inner);
}

/* ---- reading ---- */

/* Plaintext out of the engine to the user until it wants more input. */
static void
sp_tls_read_all(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_tls_fail_info fi;

	while (c->state == SP_TLS_OPEN && !c->gone) {
		uint64_t a0 = sp_tls_thread_allocs();
		int n = t->eng->read(t, c, t->scratch, t->scratch_len, &fi);

		sp_tls_count_allocs(t, a0, 0);
		if (n > 0) {
			sp_ctr_add(t->ctr.app_bytes_in, (uint64_t)n);
			t->cbs->data(t->ctx, c->user, t->scratch, (uint32_t)n);
			continue;
		}
		if (n == SP_TLS_WANT)
			break;
		if (n == SP_TLS_EOF) {
			c->notify_rx = 1;
			sp_ctr_inc(t->ctr.close_notify_rx);
			sp_ctr_inc(t->ctr.alerts_rx[0]);
			/* Nothing follows a close_notify (RFC 8446 6.1,
			 * 5246 7.2.1): the rest of the window is dropped. */
			c->in_len = 0;
			t->cbs->peer_closed(t->ctx, c->user, 1);
			break;
		}
		sp_tls_fail(t, c, &fi);
		break;
	}
}

/* ---- the handshake ---- */

static void
sp_tls_handshake(struct sp_tls *t, struct sp_tls_conn *c)
{
	struct sp_tls_fail_info fi;
	uint64_t a0 = sp_tls_thread_allocs();
	uint64_t t0 = sp_tls_now(t), t1;
	int r = t->eng->handshake(t, c, &fi);

	t1 = sp_tls_now(t);
	c->hs_cpu += t1 - t0;
	t->hs_spent += t1 - t0;
	sp_tls_count_allocs(t, a0, 1);
	if (r == SP_TLS_WANT)
		return;
	if (r != SP_TLS_DONE) {
		sp_tls_fail(t, c, &fi);
		return;
	}
	sp_tls_fifo_del(t, c);
	c->state = SP_TLS_OPEN;
	c->hs_ticks = t1 - c->hs_start;
	if (c->resumed) {
		sp_ctr_inc(t->ctr.hs_resumed);
		sp_ctr_add(t->ctr.hs_ticks_resumed, c->hs_cpu);
	} else {
		sp_ctr_inc(t->ctr.hs_full);
		sp_ctr_add(t->ctr.hs_ticks_full, c->hs_cpu);
	}
	c->hs_done = 1;
	sp_ctr_inc(t->ctr.open);
	t->cbs->connected(t->ctx, c->user);
	/* Records behind the last handshake message (data the server sent
	 * at once, a close_notify) are in the window or the engine. */
	sp_tls_read_all(t, c);
}

/* Feed @c the input that waited (the caller holds @c: nest). */
static void
sp_tls_run_deferred(struct sp_tls *t, struct sp_tls_conn *c)
{
	uint32_t n = c->dlen;
	int32_t b = sp_tls_undefer(t, c);

	if (b < 0)
		return;
	if (c->state == SP_TLS_HANDSHAKE && !c->gone) {
		c->in = t->dbufs + (size_t)b * SP_TLS_DEFER_LEN;
		c->in_len = n;
		sp_tls_handshake(t, c);
		c->in = NULL;
		c->in_len = 0;
	}
	sp_tls_dbuf_put(t, b);
}

static void
sp_tls_begin(struct sp_tls *t, struct sp_tls_conn *c)
{
	c->state = SP_TLS_HANDSHAKE;
	c->hs_began = 1;
	c->hs_start = sp_tls_now(t);
	sp_tls_fifo_add(t, c);
}

/* ---- the inner stream's callbacks (ctx: the instance) ---- */

static void
sp_tls_in_connected(void *ctx, void *user)
{
	struct sp_tls *t = ctx;
	struct sp_tls_conn *c = user;

	if (c == NULL || c->state != SP_TLS_CONNECTING)
		return;
	c->nest++;
	sp_tls_begin(t, c);
	if (t->cbs->handshaking != NULL)
		t->cbs->handshaking(t->ctx, c->user);
	sp_tls_handshake(t, c); /* the ClientHello */
	sp_tls_leave(t, c);
}

static void
sp_tls_in_data(void *ctx, void *user, const uint8_t *p, uint32_t len)
{
	struct sp_tls *t = ctx;
	struct sp_tls_conn *c = user;

	sp_ctr_add(t->ctr.rec_bytes_in, len);
	if (c == NULL)
		return;
	c->nest++;
	/* Past the iteration's handshake budget (or behind input that is
	 * already waiting), handshake input waits for sp_tls_poll. */
	if (c->state == SP_TLS_HANDSHAKE &&
	    (c->dbuf >= 0 || t->hs_spent >= t->hs_budget)) {
		if (sp_tls_defer(t, c, p, len) == 0) {
			sp_tls_leave(t, c);
			return;
		}
		sp_ctr_inc(t->ctr.hs_over_budget);
		sp_tls_run_deferred(t, c); /* what waited goes first */
	}
	c->in = p;
	c->in_len = len;
	if (c->state == SP_TLS_HANDSHAKE)
		sp_tls_handshake(t, c);
	else if (c->state == SP_TLS_OPEN && !c->notify_rx)
		sp_tls_read_all(t, c);
	/* The window dies with the callback: whatever is left was not
	 * wanted (a closing or failed connection's input). */
	c->in = NULL;
	c->in_len = 0;
	sp_tls_leave(t, c);
}

static void
sp_tls_in_writable(void *ctx, void *user)
{
	struct sp_tls *t = ctx;
	struct sp_tls_conn *c = user;

	if (c == NULL)
		return;
	c->nest++;
	if (c->state == SP_TLS_HANDSHAKE) {
		sp_tls_handshake(t, c);
	} else if (c->flush &&
		   (c->state == SP_TLS_OPEN || c->state == SP_TLS_CLOSING)) {
		int r = t->eng->flush(t, c);

		if (r != SP_TLS_WANT) {
			c->flush = 0;
			if (r != SP_TLS_DONE) {
				struct sp_tls_fail_info fi = {
					.kind = SP_STREAM_END_RESET, .alert = -1
				};

				sp_tls_fail(t, c, &fi);
			} else if (c->closing) {
				c->closing = 0;
				if ((c->close_after ?
					     t->iops->close_after_peer :
					     t->iops->close)(t->iimpl,
							     c->inner) < 0)
					t->iops->abort(t->iimpl, c->inner);
			} else if (c->state == SP_TLS_OPEN) {
				t->cbs->writable(t->ctx, c->user);
			}
		}
	} else if (c->state == SP_TLS_OPEN) {
		t->cbs->writable(t->ctx, c->user);
	}
	sp_tls_leave(t, c);
}

static void
sp_tls_in_peer_closed(void *ctx, void *user, int clean)
{
	struct sp_tls *t = ctx;
	struct sp_tls_conn *c = user;

	(void)clean; /* TCP's FIN says nothing about TLS's order */
	if (c == NULL)
		return;
	c->nest++;
	/* What came before the FIN is read first (an alert, the end of
	 * the handshake), as it would have been without the budget. */
	sp_tls_run_deferred(t, c);
	if (c->state == SP_TLS_HANDSHAKE) {
		struct sp_tls_fail_info fi = { .kind = SP_STREAM_END_HANDSHAKE,
					       .alert = -1 };

		sp_tls_fail(t, c, &fi);
	} else if (c->state == SP_TLS_OPEN && !c->notify_rx) {
		/* A truncation attack or a careless peer: the user must not
		 * take a close-delimited body as whole (RFC 9112 9.8). */
		sp_ctr_inc(t->ctr.unclean_close);
		t->cbs->peer_closed(t->ctx, c->user, 0);
	}
	sp_tls_leave(t, c);
}

static void
sp_tls_in_closed(void *ctx, void *user, enum sp_stream_end why)
{
	struct sp_tls *t = ctx;
	struct sp_tls_conn *c = user;

	if (c == NULL)
		return;
	if (c->nest) {
		c->gone = 1;
		c->gone_why = (uint8_t)why;
		return;
	}
	sp_tls_finish(t, c, why);
}

static const struct sp_stream_cbs sp_tls_in_cbs = {
	.connected = sp_tls_in_connected,
	.data = sp_tls_in_data,
	.writable = sp_tls_in_writable,
	.peer_closed = sp_tls_in_peer_closed,
	.closed = sp_tls_in_closed,
};

struct sp_stream *
sp_tls_inner(struct sp_stream *s)
{
	return sp_tls_c(s)->inner;
}

const struct sp_stream_cbs *
sp_tls_inner_cbs(void)
{
	return &sp_tls_in_cbs;
}

/* ---- the BIO ---- */

/* Our own alerts before the keys are on are plaintext records of two
 * bytes: count their descriptions as they go by. */
static void
sp_tls_sniff_alert(struct sp_tls *t, const uint8_t *p, uint32_t len)
{
	if (len >= 7 && p[0] == 21 && p[3] == 0 && p[4] == 2)
		sp_ctr_inc(t->ctr.alerts_tx[p[6]]);
}

int
sp_tls_bio_send(struct sp_tls_conn *c, const uint8_t *p, uint32_t len)
{
	struct sp_tls *t = c->t;
	int32_t n;

	if (c->inner == NULL || c->gone)
		return -1;
	n = t->iops->send(t->iimpl, c->inner, p, len);
	if (n > 0) {
		if (c->state != SP_TLS_OPEN && c->state != SP_TLS_CLOSING)
			sp_tls_sniff_alert(t, p, (uint32_t)n);
		sp_ctr_add(t->ctr.rec_bytes_out, (uint64_t)n);
	}
	return n;
}

int
sp_tls_bio_recv(struct sp_tls_conn *c, uint8_t *p, uint32_t len)
{
	uint32_t n = len < c->in_len ? len : c->in_len;

	if (n == 0)
		return 0;
	memcpy(p, c->in, n);
	c->in += n;
	c->in_len -= n;
	return (int)n;
}

/* ---- the stream the user drives (impl: the instance) ---- */

static struct sp_tls_conn *
sp_tls_take(struct sp_tls *t, int *err)
{
	struct sp_tls_conn *c = t->free;

	if (c == NULL) {
		sp_ctr_inc(t->ctr.pool_empty);
		*err = -ENOBUFS;
		return NULL;
	}
	t->free = c->next;
	c->next = c->prev = NULL;
	c->fail = c->nest = c->gone = c->in_fifo = c->aborted = 0;
	c->notify_rx = c->flush = c->resumed = c->closing = 0;
	c->close_after = c->hs_began = c->hs_done = 0;
	c->hs_cpu = c->hs_ticks = 0;
	return c;
}

/* A host name for SNI and the certificate check: the peer's name without
 * a ":port", NULL for an IP literal (RFC 6066 3: no literal in SNI). */
static const char *
sp_tls_host(const char *name, char *buf, size_t len)
{
	const char *colon;
	size_t n;
	int digits = 1;

	if (name == NULL || name[0] == '\0')
		return NULL;
	if (name[0] == '[')
		return NULL; /* an IPv6 literal */
	colon = strrchr(name, ':');
	n = colon ? (size_t)(colon - name) : strlen(name);
	if (colon && strchr(name, ':') != colon)
		return NULL; /* a bare IPv6 literal */
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!(buf[i] == '.' || (buf[i] >= '0' && buf[i] <= '9')))
			digits = 0;
	return digits ? NULL : buf;
}

static struct sp_stream *
sp_tls_connect(void *impl, const struct sp_stream_peer *peer, void *user,
	       int *err)
{
	struct sp_tls *t = impl;
	struct sp_tls_conn *c;
	char host[256];
	uint32_t slot = peer->slot < t->nslots ? peer->slot : SP_STREAM_NO_SLOT;
	uint64_t a0;

	if (t->role != SP_TLS_CLIENT) {
		*err = -EINVAL;
		return NULL;
	}
	c = sp_tls_take(t, err);
	if (c == NULL)
		return NULL;
	c->user = user;
	c->slot = slot;
	a0 = sp_tls_thread_allocs();
	if (t->eng->start(t, c, sp_tls_host(peer->name, host, sizeof(host)),
			  slot) < 0) {
		sp_tls_count_allocs(t, a0, 1);
		sp_tls_release(t, c);
		*err = -ENOMEM;
		return NULL;
	}
	sp_tls_count_allocs(t, a0, 1);
	c->state = SP_TLS_CONNECTING;
	c->inner = t->iops->connect(t->iimpl, peer, c, err);
	if (c->inner == NULL) {
		sp_tls_release(t, c);
		return NULL;
	}
	sp_ctr_inc(t->ctr.connects);
	return (struct sp_stream *)c;
}

struct sp_stream *
sp_tls_accept(struct sp_tls *t, struct sp_stream *inner, void *user, int *err)
{
	struct sp_tls_conn *c;
	uint64_t a0;

	if (t->role != SP_TLS_SERVER) {
		*err = -EINVAL;
		return NULL;
	}
	c = sp_tls_take(t, err);
	if (c == NULL)
		return NULL;
	c->user = user;
	c->slot = SP_STREAM_NO_SLOT;
	a0 = sp_tls_thread_allocs();
	if (t->eng->start(t, c, NULL, SP_STREAM_NO_SLOT) < 0) {
		sp_tls_count_allocs(t, a0, 1);
		sp_tls_release(t, c);
		*err = -ENOMEM;
		return NULL;
	}
	sp_tls_count_allocs(t, a0, 1);
	c->inner = inner;
	t->iops->set_user(t->iimpl, inner, c);
	sp_ctr_inc(t->ctr.connects);
	/* The ClientHello comes with the first data callback. */
	sp_tls_begin(t, c);
	return (struct sp_stream *)c;
}

static uint32_t
sp_tls_send_space(void *impl, const struct sp_stream *s)
{
	struct sp_tls *t = impl;
	struct sp_tls_conn *c = (struct sp_tls_conn *)s;
	uint32_t space, over, max;

	if (c->state != SP_TLS_OPEN || c->flush || c->gone)
		return 0;
	/* What one record fits in the inner space, so a write of this much
	 * goes out whole and never waits in the engine. */
	space = t->iops->send_space(t->iimpl, c->inner);
	over = t->eng->overhead(t, c);
	if (space <= over)
		return 0;
	space -= over;
	max = t->eng->max_plain(t, c);
	return space < max ? space : max;
}

static int32_t
sp_tls_send(void *impl, struct sp_stream *s, const void *data, uint32_t len)
{
	struct sp_tls *t = impl;
	struct sp_tls_conn *c = sp_tls_c(s);
	struct sp_tls_fail_info fi;
	uint32_t space;
	uint64_t a0;
	int n;

	if (c->state != SP_TLS_OPEN || c->gone)
		return -1;
	space = sp_tls_send_space(impl, s);
	if (len > space)
		len = space;
	if (len == 0)
		return 0;
	c->nest++;
	a0 = sp_tls_thread_allocs();
	n = t->eng->write(t, c, data, len, &fi);
	sp_tls_count_allocs(t, a0, 0);
	if (n == SP_TLS_WANT) {
		/* The record is made; it leaves on writable. */
		c->flush = 1;
		n = (int)len;
	} else if (n < 0) {
		sp_tls_fail(t, c, &fi);
		n = -1;
	}
	if (n > 0)
		sp_ctr_add(t->ctr.app_bytes_out, (uint64_t)n);
	sp_tls_leave(t, c);
	return n;
}

/* close() and close_after_peer(): our close_notify, then the inner's. */
static int
sp_tls_close_how(struct sp_tls *t, struct sp_tls_conn *c, int after)
{
	int r = 0;

	if (c->state == SP_TLS_CLOSING || c->state == SP_TLS_ENDING)
		return 0;
	c->nest++;
	if (c->state == SP_TLS_OPEN && !c->flush) {
		r = t->eng->close_notify(t, c);
		if (r != SP_TLS_FAIL)
			sp_ctr_inc(t->ctr.alerts_tx[0]);
		c->state = SP_TLS_CLOSING;
		if (r == SP_TLS_WANT) {
			c->flush = 1;
			c->closing = 1;
			c->close_after = (uint8_t)after;
			sp_tls_leave(t, c);
			return 0;
		}
	} else if (c->state == SP_TLS_OPEN) {
		/* A record still leaving: close after it (no notify, the
		 * engine's output is busy). */
		c->state = SP_TLS_CLOSING;
		c->closing = 1;
		c->close_after = (uint8_t)after;
		sp_tls_leave(t, c);
		return 0;
	} else {
		/* Before the handshake is done: nothing to notify. The
		 * user's own close is no failure: ABORTED says what it was. */
		sp_tls_fifo_del(t, c);
		c->aborted = 1;
		c->state = SP_TLS_ENDING;
	}
	r = after ? t->iops->close_after_peer(t->iimpl, c->inner) :
		    t->iops->close(t->iimpl, c->inner);
	sp_tls_leave(t, c);
	return r;
}

static int
sp_tls_close(void *impl, struct sp_stream *s)
{
	return sp_tls_close_how(impl, sp_tls_c(s), 0);
}

static int
sp_tls_close_after_peer(void *impl, struct sp_stream *s)
{
	return sp_tls_close_how(impl, sp_tls_c(s), 1);
}

static void
sp_tls_abort(void *impl, struct sp_stream *s)
{
	struct sp_tls *t = impl;
	struct sp_tls_conn *c = sp_tls_c(s);

	if (c->gone)
		return;
	c->aborted = 1;
	sp_tls_fifo_del(t, c);
	c->state = SP_TLS_ENDING;
	t->iops->abort(t->iimpl, c->inner);
}

static void
sp_tls_set_user(void *impl, struct sp_stream *s, void *user)
{
	(void)impl;
	sp_tls_c(s)->user = user;
}

const struct sp_stream_ops sp_tls_stream_ops = {
	.connect = sp_tls_connect,
	.send = sp_tls_send,
	.send_space = sp_tls_send_space,
	.close = sp_tls_close,
	.close_after_peer = sp_tls_close_after_peer,
	.abort = sp_tls_abort,
	.set_user = sp_tls_set_user,
};

/* ---- timeouts ---- */

static void
sp_tls_expire(struct sp_tls *t, uint64_t now)
{
	static const struct sp_tls_fail_info fi = {
		.kind = SP_STREAM_END_HANDSHAKE_TIMEOUT, .alert = -1
	};

	if (t->hs_timeout == 0)
		return;
	for (;;) {
		struct sp_tls_conn *c = t->fifo_head;

		/* A handshake whose peer's answer waits in our own queue is
		 * late by our doing, not the peer's: not timed out (the wait
		 * is counted as ours). At most SP_TLS_DEFER_BUFS of them. */
		while (c != NULL && c->dbuf >= 0 &&
		       now - c->hs_start >= t->hs_timeout)
			c = c->next;
		if (c == NULL || now - c->hs_start < t->hs_timeout)
			return;
		c->nest++;
		sp_tls_fail(t, c, &fi); /* takes it off the FIFO */
		sp_tls_leave(t, c);
	}
}

uint32_t
sp_tls_deferred(const struct sp_tls *t)
{
	return SP_TLS_DEFER_BUFS - t->ndfree;
}

void
sp_tls_poll(struct sp_tls *t, uint64_t now)
{
	t->hs_spent = 0;
	while (t->defer_head != NULL && t->hs_spent < t->hs_budget) {
		struct sp_tls_conn *c = t->defer_head;

		c->nest++;
		sp_tls_run_deferred(t, c);
		sp_tls_leave(t, c);
	}
	sp_tls_expire(t, now);
}
