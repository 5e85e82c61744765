/*
 * Timers: a hashed wheel of 1 ms ticks with one intrusive entry per
 * connection, and the TCP timeouts that run from it.
 *
 * A connection has two deadlines (retransmission-class and delayed ACK) but a
 * single wheel entry, placed at the earlier one. Entries move lazily: pushing a
 * deadline later (the common case: every ACK restarts the RTO) leaves the
 * entry where it is; when it fires early it is simply re-placed. Only a
 * deadline that moves earlier than the entry costs a wheel operation.
 */
#include "stack_int.h"

uint32_t
sp_us_to_ticks(uint32_t us)
{
	return (us + SP_TICK_US - 1) / SP_TICK_US;
}

/*
 * The tick at which a deadline @us after now falls due. Rounded up from the
 * microsecond clock, not added to the current (truncated) tick: the wheel
 * runs whole ticks, so a timer may fire up to a tick late but never early.
 * From now_tick it would fire up to a tick early: a 200 ms RTO or a 40 ms
 * delayed ACK cut short.
 */
static uint32_t
deadline_tick(const struct sp_stack *st, uint32_t us)
{
	return (uint32_t)((st->now_us + us + SP_TICK_US - 1) / SP_TICK_US);
}

static void
wheel_unlink(struct sp_stack *st, struct sp_conn *c)
{
	if (c->tm_slot == SP_TM_NONE)
		return;
	if (c->tm_prev != SP_NIL)
		conn_at(st, c->tm_prev)->tm_next = c->tm_next;
	else
		st->wheel[c->tm_slot] = c->tm_next;
	if (c->tm_next != SP_NIL)
		conn_at(st, c->tm_next)->tm_prev = c->tm_prev;
	c->tm_slot = SP_TM_NONE;
}

static void
wheel_push(struct sp_stack *st, struct sp_conn *c, uint32_t slot)
{
	uint32_t i = conn_idx(st, c);

	c->tm_slot = (uint16_t)slot;
	c->tm_prev = SP_NIL;
	c->tm_next = st->wheel[slot];
	if (c->tm_next != SP_NIL)
		conn_at(st, c->tm_next)->tm_prev = i;
	st->wheel[slot] = i;
}

static void
wheel_insert(struct sp_stack *st, struct sp_conn *c, uint32_t tick)
{
	/* A tick already passed goes to the next slot to run, not a round
	 * later. */
	uint32_t at = SEQ_LT(tick, st->wheel_tick) ? st->wheel_tick : tick;

	c->tm_tick = tick;
	wheel_push(st, c, at & (SP_WHEEL_SLOTS - 1));
}

void
sp_timer_update(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t when;

	if (c->flags & SP_CF_RTX_ARMED) {
		when = c->rtx_tick;
		if ((c->flags & SP_CF_DACK_ARMED) && SEQ_LT(c->dack_tick, when))
			when = c->dack_tick;
	} else if (c->flags & SP_CF_DACK_ARMED) {
		when = c->dack_tick;
	} else {
		wheel_unlink(st, c);
		return;
	}
	if (c->tm_slot != SP_TM_NONE && c->tm_slot != SP_TM_EXPIRED &&
	    TICK_LEQ(c->tm_tick, when))
		return; /* fires early and re-places itself */
	wheel_unlink(st, c);
	wheel_insert(st, c, when);
}

void
sp_timer_cancel(struct sp_stack *st, struct sp_conn *c)
{
	c->flags &= (uint16_t)(~(SP_CF_RTX_ARMED | SP_CF_DACK_ARMED |
				 SP_CF_PERSIST));
	wheel_unlink(st, c);
}

void
sp_timer_set_rtx(struct sp_stack *st, struct sp_conn *c, uint32_t us)
{
	c->rtx_tick = deadline_tick(st, us);
	c->flags |= SP_CF_RTX_ARMED;
	sp_timer_update(st, c);
}

void
sp_timer_stop_rtx(struct sp_stack *st, struct sp_conn *c)
{
	(void)st;
	c->flags &= (uint16_t)(~(SP_CF_RTX_ARMED | SP_CF_PERSIST));
}

void
sp_timer_set_dack(struct sp_stack *st, struct sp_conn *c)
{
	if (c->flags & SP_CF_DACK_ARMED)
		return;
	c->dack_tick = deadline_tick(st, st->cfg.delack_us);
	c->flags |= SP_CF_DACK_ARMED;
	sp_timer_update(st, c);
}

static uint32_t
backoff_us(struct sp_stack *st, struct sp_conn *c)
{
	unsigned shift = c->rtx_count < 16 ? c->rtx_count : 16;
	uint64_t rto = (uint64_t)c->rto_us << shift;

	return rto > st->cfg.rto_max_us ? st->cfg.rto_max_us : (uint32_t)rto;
}

/* Arm the SYN (or SYN-ACK) retransmission, never past the connect timeout. */
void
sp_timer_set_handshake(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t ct = st->cfg.connect_timeout_us;

	c->rtx_tick = deadline_tick(st, backoff_us(st, c));
	if (c->state == SP_TCP_SYN_SENT && ct) {
		uint32_t end = c->open_tick + sp_us_to_ticks(ct);

		if (SEQ_LT(end, c->rtx_tick))
			c->rtx_tick = end;
	}
	c->flags |= SP_CF_RTX_ARMED;
	sp_timer_update(st, c);
}

/* SYN or SYN-ACK retransmission (RFC 6298 5.7: back off from 1 s). */
static void
handshake_timeout(struct sp_stack *st, struct sp_conn *c)
{
	bool active = c->state == SP_TCP_SYN_SENT;
	uint32_t ct = st->cfg.connect_timeout_us;

	if (c->rtx_count >= st->cfg.syn_retries ||
	    (active && ct &&
	     TICK_LEQ(c->open_tick + sp_us_to_ticks(ct), st->now_tick))) {
		/* A passive child has not reached the application yet (no
		 * connected()): as on a RST in SYN_RECEIVED, it must not hear
		 * closed() for a connection it never saw. */
		if (c->flags & SP_CF_PASSIVE)
			c->flags |= SP_CF_APP_GONE;
		sp_conn_drop(st, c,
			     active ? SP_CLOSE_CONNECT_TIMEOUT :
				      SP_CLOSE_TIMEOUT);
		return;
	}
	c->rtx_count++;
	c->flags &= (uint16_t)~SP_CF_RTT_TIMING; /* Karn */
	sp_ctr_inc(st->stats.tcp_syn_retrans);
	sp_seg_send_syn(st, c);
	sp_timer_set_handshake(st, c);
}

/* Retransmission timeout on a synchronized connection (RFC 6298 5.4-5.6,
 * RFC 5681 3.1 eq. 4). */
static void
rto_timeout(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	if (c->rtx_count >= st->cfg.data_retries) {
		sp_seg_send_rst(st, c);
		sp_conn_drop(st, c, SP_CLOSE_TIMEOUT);
		return;
	}
	c->rtx_count++;
	sp_ctr_inc(st->stats.tcp_rto);
	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->cwnd = c->mss;
	c->dupacks = 0;
	c->flags &= (uint16_t)(~(SP_CF_RECOVERY | SP_CF_RTT_TIMING));
	c->snd_nxt = c->snd_una; /* go back N: resend from the first hole */
	sp_timer_set_rtx(st, c, backoff_us(st, c));
	sp_seg_output(st, c);
}

static void
rtx_expired(struct sp_stack *st, struct sp_conn *c)
{
	switch (c->state) {
	case SP_TCP_SYN_SENT:
	case SP_TCP_SYN_RECEIVED:
		handshake_timeout(st, c);
		break;
	case SP_TCP_TIME_WAIT:
		sp_conn_drop(st, c, SP_CLOSE_NORMAL);
		break;
	case SP_TCP_FIN_WAIT_2:
		if (c->snd_una == c->snd_max) {
			/* The peer never closed: give up like Linux's
			 * tcp_fin_timeout, with a RST so it does too. */
			sp_seg_send_rst(st, c);
			sp_conn_drop(st, c, SP_CLOSE_TIMEOUT);
			break;
		}
		rto_timeout(st, c);
		break;
	default:
		if (c->flags & SP_CF_LINGER) {
			c->flags &= (uint16_t)~SP_CF_LINGER;
			sp_ctr_inc(st->stats.tcp_linger_timeout);
			sp_tcp_close(st, c);
			break;
		}
		if (c->flags & SP_CF_PERSIST) {
			/* A window that is open but too small for SWS
			 * avoidance: the override timeout of RFC 9293
			 * 3.8.6.2.1 sends what fits. Probing alone would
			 * stall for good if the peer never offers more. */
			if (c->snd_wnd) {
				c->flags &= (uint16_t)~SP_CF_PERSIST;
				c->flags |= SP_CF_SWS_OVERRIDE;
				sp_seg_output(st, c);
				c->flags &= (uint16_t)~SP_CF_SWS_OVERRIDE;
				if (c->snd_nxt != c->snd_una)
					break;
			}
			/* Zero-window probe (RFC 9293 3.8.6.1); never gives
			 * up while the peer keeps answering. */
			sp_seg_send_probe(st, c);
			if (c->rtx_count < 16)
				c->rtx_count++;
			sp_timer_set_rtx(st, c, backoff_us(st, c));
			c->flags |= SP_CF_PERSIST;
			break;
		}
		rto_timeout(st, c);
		break;
	}
}

static void
conn_timer(struct sp_stack *st, struct sp_conn *c)
{
	if ((c->flags & SP_CF_DACK_ARMED) &&
	    TICK_LEQ(c->dack_tick, st->now_tick)) {
		sp_ctr_inc(st->stats.tcp_delayed_acks);
		sp_seg_send_ack(st, c); /* clears DACK_ARMED */
	}
	if ((c->flags & SP_CF_RTX_ARMED) &&
	    TICK_LEQ(c->rtx_tick, st->now_tick)) {
		c->flags &= (uint16_t)~SP_CF_RTX_ARMED;
		rtx_expired(st, c);
	}
	if (!(c->flags & SP_CF_ZOMBIE))
		sp_timer_update(st, c);
}

void
sp_timer_run(struct sp_stack *st)
{
	uint32_t target = st->now_tick;
	uint32_t head;

	/* After a long pause, visit every slot once rather than every tick. */
	if ((uint32_t)(target - st->wheel_tick) >= SP_WHEEL_SLOTS &&
	    SEQ_GT(target, st->wheel_tick))
		st->wheel_tick = target - SP_WHEEL_SLOTS + 1;

	while (TICK_LEQ(st->wheel_tick, target)) {
		uint32_t slot = st->wheel_tick & (SP_WHEEL_SLOTS - 1);
		uint32_t i = st->wheel[slot];

		while (i != SP_NIL) {
			struct sp_conn *c = conn_at(st, i);
			uint32_t next = c->tm_next;

			if (TICK_LEQ(c->tm_tick, st->wheel_tick)) {
				wheel_unlink(st, c);
				wheel_push(st, c, SP_TM_EXPIRED);
			}
			i = next;
		}
		st->wheel_tick++;
	}

	/* Callbacks may cancel or re-arm any entry, including others on the
	 * expired list: take one at a time from its head. */
	while ((head = st->wheel[SP_TM_EXPIRED]) != SP_NIL) {
		struct sp_conn *c = conn_at(st, head);

		wheel_unlink(st, c);
		conn_timer(st, c);
	}
}
