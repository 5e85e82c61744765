/*
 * Connections: the pool, the 4-tuple hash, ephemeral ports, and the
 * application-facing calls (listen, connect, send, close, abort).
 *
 * Ports come from a FIFO: a port freed when its TIME_WAIT ends goes to the
 * back, so the same 4-tuple is reused as late as possible, and a reused tuple
 * always starts from an RFC 6528 clock-driven ISN above the old sequence space.
 *
 * A connection released while the stack is inside input or poll (so, from an
 * application callback) is parked on a zombie list and returned to the pool
 * when the stack unwinds: the code that called out can still look at it.
 */
#include <errno.h>
#include <string.h>


#include "stack_int.h"

/* The 4-tuple's bucket: a keyed multiply-xorshift (splitmix64's mixer)
 * of the addresses and ports, a third of jhash's instructions on every
 * segment; the key keeps a peer from choosing ports that share a bucket. */
static uint32_t
tuple_hash(const struct sp_stack *st, uint32_t rip, uint16_t rport,
	   uint32_t lip, uint16_t lport)
{
	uint64_t k = st->cfg.isn_secret * 0x9e3779b97f4a7c15ull;
	uint64_t x = ((((uint64_t)rip << 32) | lip) ^ k) *
			     0xbf58476d1ce4e5b9ull +
		     ((((uint64_t)rport << 16) | lport) ^ (k >> 21));

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (uint32_t)x & st->hash_mask;
}

struct sp_conn *
sp_conn_alloc(struct sp_stack *st)
{
	uint32_t i = st->conn_free;
	struct sp_conn *c;

	if (i == SP_NIL)
		return NULL;
	c = conn_at(st, i);
	st->conn_free = c->hnext;
	memset(c, 0, sizeof(*c));
	c->hnext = SP_NIL;
	c->tm_slot = SP_TM_NONE;
	c->sq_head = c->sq_tail = c->sq_hint = c->ooo_head = SP_NIL;
	c->rto_us = st->cfg.rto_init_us;
	c->mss = 536; /* RFC 9293 3.7.1 default until the peer says more */
	/* Rounded up, like every deadline (timer.c): the connect timeout
	 * counts from here and must not expire early. */
	c->open_tick = (uint32_t)((st->now_us + SP_TICK_US - 1) / SP_TICK_US);
	sp_ctr_inc(st->conns_used);
	if (st->conns_used > st->stats.conns_peak)
		sp_ctr_set(st->stats.conns_peak, st->conns_used);
	return c;
}

void
sp_conn_hash_insert(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t b = tuple_hash(st, c->rip, c->rport, c->lip, c->lport);

	c->hnext = st->hash[b];
	st->hash[b] = conn_idx(st, c);
}

static void
hash_remove(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t *p =
		&st->hash[tuple_hash(st, c->rip, c->rport, c->lip, c->lport)];
	uint32_t me = conn_idx(st, c);

	while (*p != SP_NIL) {
		if (*p == me) {
			*p = c->hnext;
			c->hnext = SP_NIL;
			return;
		}
		p = &conn_at(st, *p)->hnext;
	}
}

struct sp_conn *
sp_conn_lookup(struct sp_stack *st, uint32_t rip, uint16_t rport, uint32_t lip,
	       uint16_t lport)
{
	uint32_t i = st->hash[tuple_hash(st, rip, rport, lip, lport)];

	while (i != SP_NIL) {
		struct sp_conn *c = conn_at(st, i);

		if (c->rip == rip && c->rport == rport && c->lport == lport &&
		    c->lip == lip)
			return c;
		i = c->hnext;
	}
	return NULL;
}

void
sp_conn_notify_closed(struct sp_stack *st, struct sp_conn *c,
		      enum sp_close_reason why)
{
	if (c->flags & SP_CF_APP_GONE)
		return;
	c->flags |= SP_CF_APP_GONE;
	sp_ctr_inc(st->stats.conn_closed[why]);
	if (st->ops.closed)
		st->ops.closed(st, c, st->app, why);
}

static void
conn_free(struct sp_stack *st, struct sp_conn *c)
{
	c->hnext = st->conn_free;
	st->conn_free = conn_idx(st, c);
	sp_ctr_sub(st->conns_used, 1);
}

/* Take @c out of every structure; the memory goes back to the pool now or,
 * inside input/poll, when the stack unwinds. */
static void
conn_release(struct sp_stack *st, struct sp_conn *c)
{
	if (c->flags & SP_CF_ZOMBIE)
		return;
	if (c->flags & SP_CF_WAIT_SPACE) {
		uint32_t *p = &st->space_waiters;

		/* Rare (a dry pool): a walk is fine. While the list is being
		 * run, @c is not on it and the flag alone tells it to skip. */
		while (*p != SP_NIL && *p != conn_idx(st, c))
			p = &conn_at(st, *p)->wnext;
		if (*p != SP_NIL)
			*p = c->wnext;
		c->flags &= (uint16_t)~SP_CF_WAIT_SPACE;
	}
	hash_remove(st, c);
	sp_timer_cancel(st, c);
	sp_chunk_free_list(st, c->sq_head);
	sp_chunk_free_list(st, c->ooo_head);
	c->sq_head = c->sq_tail = c->sq_hint = c->ooo_head = SP_NIL;
	c->sq_len = 0;
	c->ooo_count = 0;
	if (!(c->flags & SP_CF_PASSIVE)) {
		st->ports[(st->port_head + st->port_count) % st->port_cap] =
			(c->lip - st->cfg.ip) * st->nports +
			(uint32_t)(c->lport - st->cfg.port_min);
		st->port_count++;
	}
	c->state = SP_TCP_CLOSED;
	c->flags |= SP_CF_ZOMBIE | SP_CF_APP_GONE;
	if (st->depth) {
		c->hnext = st->zombies;
		st->zombies = conn_idx(st, c);
	} else {
		conn_free(st, c);
	}
}

void
sp_conn_free_zombies(struct sp_stack *st)
{
	while (st->zombies != SP_NIL) {
		struct sp_conn *c = conn_at(st, st->zombies);

		st->zombies = c->hnext;
		conn_free(st, c);
	}
}

void
sp_conn_wake_writers(struct sp_stack *st)
{
	uint32_t i = st->space_waiters;

	/* Callbacks may queue (and fail) again: they go on a fresh list. */
	st->space_waiters = SP_NIL;
	while (i != SP_NIL) {
		struct sp_conn *c = conn_at(st, i);

		i = c->wnext;
		if (!(c->flags & SP_CF_WAIT_SPACE))
			continue; /* released meanwhile (a zombie for now) */
		c->flags &= (uint16_t)~SP_CF_WAIT_SPACE;
		if (st->ops.sent && !(c->flags & SP_CF_APP_GONE))
			st->ops.sent(st, c, st->app);
	}
}

void
sp_conn_drop(struct sp_stack *st, struct sp_conn *c, enum sp_close_reason why)
{
	sp_conn_notify_closed(st, c, why);
	conn_release(st, c);
}

uint32_t
sp_stack_end_time_wait(struct sp_stack *st)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->cfg.max_conns; i++) {
		struct sp_conn *c = conn_at(st, i);

		if (c->state == SP_TCP_TIME_WAIT && !(c->flags & SP_CF_ZOMBIE)) {
			sp_conn_drop(st, c, SP_CLOSE_NORMAL);
			n++;
		}
	}
	return n;
}

void
sp_conn_enter_time_wait(struct sp_stack *st, struct sp_conn *c)
{
	c->state = SP_TCP_TIME_WAIT;
	sp_chunk_free_list(st, c->ooo_head);
	c->ooo_head = SP_NIL;
	c->ooo_count = 0;
	c->flags &= (uint16_t)~SP_CF_PERSIST;
	sp_conn_notify_closed(st, c, SP_CLOSE_NORMAL);
	if (c->flags & SP_CF_ZOMBIE)
		return; /* the application aborted it from closed() */
	if (st->cfg.time_wait_us == 0) {
		if (c->flags & SP_CF_ACK_NOW)
			sp_seg_send_ack(st, c);
		conn_release(st, c);
		return;
	}
	sp_timer_set_rtx(st, c, st->cfg.time_wait_us);
}

void
sp_conn_set_established(struct sp_stack *st, struct sp_conn *c)
{
	c->state = SP_TCP_ESTABLISHED;
	c->rtx_count = 0;
	sp_timer_stop_rtx(st, c);
	/* RFC 6928 initial window of ten segments; no ssthresh until loss. */
	c->cwnd = 10u * c->mss;
	c->ssthresh = UINT32_MAX / 2;
	sp_ctr_inc(st->stats.conn_established);
	if (st->ops.connected && !(c->flags & SP_CF_APP_GONE))
		st->ops.connected(st, c, st->app);
}

/* Drop @bytes acknowledged bytes from the head of the send queue (snd_una
 * not yet moved). */
void
sp_conn_sq_ack(struct sp_stack *st, struct sp_conn *c, uint32_t bytes)
{
	uint32_t end = c->snd_una + bytes; /* first byte still unacknowledged */

	c->sq_len -= bytes;
	while (c->sq_head != SP_NIL) {
		struct sp_chunk *h = chunk_at(st, c->sq_head);
		uint32_t next = h->next;

		if (SEQ_LT(end, h->seq + h->len))
			return;
		/* Fully acknowledged: free it, even a tail with room left, so
		 * an idle connection holds no chunk at all. */
		if (c->sq_hint == c->sq_head)
			c->sq_hint = SP_NIL;
		sp_chunk_free(st, c->sq_head);
		if (c->sq_head == c->sq_tail) {
			c->sq_head = c->sq_tail = SP_NIL;
			return;
		}
		c->sq_head = next;
	}
}

int
sp_tcp_listen(struct sp_stack *st, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < st->nlisten; i++)
		if (st->listen_port[i] == port)
			return -EADDRINUSE;
	if (st->nlisten == SP_MAX_LISTEN || port == 0)
		return -EINVAL;
	st->listen_port[st->nlisten++] = port;
	return 0;
}

struct sp_conn *
sp_tcp_connect(struct sp_stack *st, uint32_t dst_ip, uint16_t dst_port,
	       void *user, int *err)
{
	struct sp_conn *c;

	if (st->port_count == 0) {
		if (err)
			*err = -EADDRNOTAVAIL;
		return NULL;
	}
	c = sp_conn_alloc(st);
	if (!c) {
		if (err)
			*err = -ENOBUFS;
		return NULL;
	}
	c->lip = st->cfg.ip + st->ports[st->port_head] / st->nports;
	c->lport = (uint16_t)(st->cfg.port_min +
			      st->ports[st->port_head] % st->nports);
	st->port_head = (st->port_head + 1) % st->port_cap;
	st->port_count--;
	c->rip = dst_ip;
	c->rport = dst_port;
	c->user = user;
	c->state = SP_TCP_SYN_SENT;
	c->iss = sp_seg_isn(st, c);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->flags |= SP_CF_RTT_TIMING;
	c->rtt_seq = c->iss;
	c->rtt_start_us = (uint32_t)st->now_us;
	sp_conn_hash_insert(st, c);
	sp_ctr_inc(st->stats.conn_active);
	sp_seg_send_syn(st, c);
	sp_timer_set_handshake(st, c);
	if (err)
		*err = 0;
	return c;
}

/* Send what @c has queued now, or, when it is the connection whose segment
 * is being processed, at that segment's end (with its ACK). */
static void
output_or_defer(struct sp_stack *st, struct sp_conn *c)
{
	if (c == st->cur)
		st->cur_out = true;
	else
		sp_seg_output(st, c);
}

static int
send_state_err(const struct sp_conn *c)
{
	if (c->state == SP_TCP_ESTABLISHED || c->state == SP_TCP_CLOSE_WAIT)
		return 0;
	return c->state < SP_TCP_ESTABLISHED ? -ENOTCONN : -EPIPE;
}

/* A fresh chunk linked at the send queue's tail, starting at its end:
 * false when the pool is dry (counted; an idle connection waits for
 * room, woken as chunks come back). */
static bool
sq_link(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t k = sp_chunk_alloc(st);

	if (k == SP_NIL) {
		sp_ctr_inc(st->stats.tcp_snd_nochunk);
		if (c->sq_len == 0 && !(c->flags & SP_CF_WAIT_SPACE)) {
			c->flags |= SP_CF_WAIT_SPACE;
			c->wnext = st->space_waiters;
			st->space_waiters = conn_idx(st, c);
		}
		return false;
	}
	chunk_at(st, k)->seq = c->snd_una + c->sq_len;
	if (c->sq_tail == SP_NIL)
		c->sq_head = k;
	else
		chunk_at(st, c->sq_tail)->next = k;
	c->sq_tail = k;
	return true;
}

/*
 * Room at the end of @c's send queue, up to @want bytes: in the last chunk,
 * or in a new one linked empty (sq_commit fills it, or unlinks it). 0 when
 * the chunk pool is dry: counted, and with nothing queued the connection
 * waits for free chunks on a list sp_stack_poll runs (with data queued, its
 * ACK calls sent()).
 */
static inline uint32_t
sq_room(struct sp_stack *st, struct sp_conn *c, uint32_t want, uint8_t **buf)
{
	struct sp_chunk *t;
	uint32_t room;

	if ((c->sq_tail == SP_NIL ||
	     chunk_at(st, c->sq_tail)->len == SP_CHUNK_DATA ||
	     chunk_at(st, c->sq_tail)->ref) &&
	    !sq_link(st, c))
		return 0;
	t = chunk_at(st, c->sq_tail);
	room = SP_CHUNK_DATA - t->len;
	*buf = t->data + t->len;
	return want < room ? want : room;
}

/* @n bytes written at the room sq_room gave are queued. */
static inline void
sq_commit(struct sp_stack *st, struct sp_conn *c, uint32_t n)
{
	struct sp_chunk *t = chunk_at(st, c->sq_tail);

	t->len = (uint16_t)(t->len + n);
	c->sq_len += n;
}

/* Unlink and free the empty chunk sq_room linked for room left unused (an
 * empty send queue holds nothing). */
static void
sq_drop_empty_tail(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t i = c->sq_head, k = c->sq_tail;

	if (i == k) {
		c->sq_head = c->sq_tail = SP_NIL;
	} else {
		while (chunk_at(st, i)->next != k)
			i = chunk_at(st, i)->next;
		chunk_at(st, i)->next = SP_NIL;
		c->sq_tail = i;
	}
	sp_chunk_free(st, k); /* never the hint: no segment was built from it */
}

int32_t
sp_tcp_send(struct sp_stack *st, struct sp_conn *c, const void *data,
	    uint32_t len)
{
	const uint8_t *p = data;
	uint32_t done = 0;
	int err = send_state_err(c);

	if (err)
		return err;
	if (len > st->cfg.sndbuf - c->sq_len)
		len = st->cfg.sndbuf - c->sq_len;
	while (done < len) {
		uint8_t *b;
		uint32_t n = sq_room(st, c, len - done, &b);

		if (n == 0)
			break; /* pool dry */
		memcpy(b, p + done, n);
		sq_commit(st, c, n);
		done += n;
	}
	if (done)
		output_or_defer(st, c);
	return (int32_t)done;
}

int32_t
sp_tcp_send_ref(struct sp_stack *st, struct sp_conn *c, const void *data,
		uint32_t len)
{
	int err = send_state_err(c);
	struct sp_chunk *k;

	if (err)
		return err;
	if (len > st->cfg.sndbuf - c->sq_len)
		len = st->cfg.sndbuf - c->sq_len;
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	/* A chunk of its own (sq_room appends to none after it). */
	if (len == 0 || !sq_link(st, c))
		return 0;
	k = chunk_at(st, c->sq_tail);
	k->ref = 1;
	memcpy(k->data, &data, sizeof(data));
	sq_commit(st, c, len);
	output_or_defer(st, c);
	return (int32_t)len;
}

int32_t
sp_tcp_send_buf(struct sp_stack *st, struct sp_conn *c, uint8_t **buf)
{
	int err = send_state_err(c);
	uint32_t n = 0;

	if (err)
		return err;
	if (c->sq_len < st->cfg.sndbuf)
		n = sq_room(st, c, st->cfg.sndbuf - c->sq_len, buf);
	if (n == 0 && c->sq_len)
		output_or_defer(st, c); /* what a commit with @more held */
	return (int32_t)n;
}

void
sp_tcp_send_commit(struct sp_stack *st, struct sp_conn *c, uint32_t n,
		   bool more)
{
	if (c->sq_tail == SP_NIL)
		return; /* sp_tcp_send_buf gave no room */
	sq_commit(st, c, n);
	if (chunk_at(st, c->sq_tail)->len == 0)
		sq_drop_empty_tail(st, c);
	else if (n && !more)
		output_or_defer(st, c);
}

uint32_t
sp_tcp_send_space(const struct sp_stack *st, const struct sp_conn *c)
{
	if (c->state != SP_TCP_ESTABLISHED && c->state != SP_TCP_CLOSE_WAIT)
		return 0;
	return st->cfg.sndbuf - c->sq_len;
}

int
sp_tcp_close(struct sp_stack *st, struct sp_conn *c)
{
	switch (c->state) {
	case SP_TCP_SYN_SENT:
	case SP_TCP_SYN_RECEIVED:
		sp_tcp_abort(st, c);
		break;
	case SP_TCP_ESTABLISHED:
		c->flags |= SP_CF_FIN_QUEUED;
		c->state = SP_TCP_FIN_WAIT_1;
		output_or_defer(st, c);
		break;
	case SP_TCP_CLOSE_WAIT:
		c->flags |= SP_CF_FIN_QUEUED;
		c->state = SP_TCP_LAST_ACK;
		output_or_defer(st, c);
		break;
	default:
		return -EALREADY;
	}
	return 0;
}

int
sp_tcp_close_after_peer(struct sp_stack *st, struct sp_conn *c)
{
	if (c->state != SP_TCP_ESTABLISHED || c->sq_len != 0 ||
	    c->snd_una != c->snd_max || (c->flags & SP_CF_RTX_ARMED))
		return sp_tcp_close(st, c);
	c->flags |= SP_CF_LINGER;
	sp_timer_set_rtx(st, c, st->cfg.linger_us);
	return 0;
}

void
sp_tcp_abort(struct sp_stack *st, struct sp_conn *c)
{
	if (c->flags & SP_CF_ZOMBIE)
		return;
	if (c->state >= SP_TCP_SYN_RECEIVED && c->state != SP_TCP_TIME_WAIT)
		sp_seg_send_rst(st, c);
	sp_conn_drop(st, c, SP_CLOSE_ABORTED);
}

void *
sp_conn_user(const struct sp_conn *c)
{
	return c->user;
}

void
sp_conn_set_user(struct sp_conn *c, void *user)
{
	c->user = user;
}

enum sp_tcp_state
sp_conn_state(const struct sp_conn *c)
{
	return (enum sp_tcp_state)c->state;
}

uint16_t
sp_conn_local_port(const struct sp_conn *c)
{
	return c->lport;
}

uint16_t
sp_conn_remote_port(const struct sp_conn *c)
{
	return c->rport;
}

uint32_t
sp_conn_remote_ip(const struct sp_conn *c)
{
	return c->rip;
}
