/*
 * TCP input: header and option validation, demultiplexing, and segment
 * arrival processing in the order of RFC 9293 3.10.7 (LISTEN, SYN-SENT, then
 * the synchronized states), hardened with RFC 5961 (RST and SYN only on an
 * exact sequence match, challenge ACKs otherwise; ACKs bounded below).
 *
 * In-order payload goes straight from the frame to the application's recv()
 * callback; out-of-order segments wait in a small per-connection queue of
 * chunks. Any application callback may end the connection: after each one
 * the code checks for SP_CF_ZOMBIE before touching the connection again.
 */
#include <errno.h>
#include <string.h>

#include "cksum_ol.h"
#include "stack_int.h"

struct seg {
	const uint8_t *frame;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	const uint8_t *data;
	uint32_t seq, ack, len, wnd;
	uint8_t flags;
	int8_t wscale; /* -1: no window scale option */
	bool sack_ok;  /* SACK-permitted option */
	uint16_t mss;  /* 0: no MSS option */
};

#define GONE(c) (((c)->flags & SP_CF_ZOMBIE) != 0)

/* Parse options (RFC 9293 3.2): kinds 0 and 1 are one byte, every other
 * kind carries a length of at least 2 that must fit the header. 0, or
 * -EINVAL for a malformed option. */
static int
parse_options(struct seg *s, const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = p[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return -EINVAL;
		len = p[i + 1];
		if (len < 2 || i + len > n)
			return -EINVAL;
		if (kind == 2) {
			if (len != 4)
				return -EINVAL;
			s->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
		} else if (kind == 3) {
			if (len != 3)
				return -EINVAL;
			/* RFC 7323 2.3: a shift above 14 is used as 14. */
			s->wscale = (int8_t)(p[i + 2] > 14 ? 14 : p[i + 2]);
		} else if (kind == 4) {
			if (len != 2)
				return -EINVAL;
			s->sack_ok = true;
		}
		i += len;
	}
	return 0;
}

static void
apply_syn_options(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	uint16_t mss = s->mss ? s->mss : 536;

	if (mss > st->cfg.mss)
		mss = st->cfg.mss;
	if (mss < 64)
		mss = 64; /* a peer's absurd MSS must not stall us */
	c->mss = mss;
	if (s->wscale >= 0) {
		c->flags |= SP_CF_WSCALE;
		c->snd_wscale = (uint8_t)s->wscale;
		c->rcv_wscale = st->rcv_wscale;
	}
	if (s->sack_ok)
		c->flags |= SP_CF_SACK;
}

static void
rtt_sample(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t r = (uint32_t)st->now_us - c->rtt_start_us;
	uint32_t rto;

	c->flags &= (uint16_t)~SP_CF_RTT_TIMING;
	if (r == 0)
		r = 1;
	if (c->srtt_us == 0) { /* RFC 6298 2.2 */
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else { /* RFC 6298 2.3, alpha 1/8, beta 1/4 */
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	rto = c->srtt_us +
	      (4 * c->rttvar_us > SP_TICK_US ? 4 * c->rttvar_us : SP_TICK_US);
	if (rto < st->cfg.rto_min_us)
		rto = st->cfg.rto_min_us;
	if (rto > st->cfg.rto_max_us)
		rto = st->cfg.rto_max_us;
	c->rto_us = rto;
}

/* [l, r) of the segment being processed arrived before: report it in the
 * next ACK (RFC 2883), when the peer understands SACK. */
static void
dsack_note(struct sp_stack *st, struct sp_conn *c, uint32_t l, uint32_t r)
{
	if (!(c->flags & SP_CF_SACK) || l == r)
		return;
	st->dsack_conn = c;
	st->dsack_l = l;
	st->dsack_r = r;
}

static void
challenge_ack(struct sp_stack *st, struct sp_conn *c)
{
	sp_ctr_inc(st->stats.tcp_challenge_acks);
	sp_seg_send_ack(st, c);
}

static void
listen_input(struct sp_stack *st, const struct seg *s)
{
	struct sp_conn *c;

	if (s->flags & RTE_TCP_RST_FLAG) {
		sp_drop(st, SP_DROP_TCP_RST);
		return;
	}
	if (s->flags & RTE_TCP_ACK_FLAG) {
		sp_seg_reply_rst(st, s->frame, s->ip, s->th, s->len);
		sp_drop(st, SP_DROP_TCP_NOCONN);
		return;
	}
	if (!(s->flags & RTE_TCP_SYN_FLAG)) {
		sp_drop(st, SP_DROP_TCP_FLAGS);
		return;
	}
	c = sp_conn_alloc(st);
	if (!c) {
		sp_drop(st, SP_DROP_TCP_NOMEM);
		return;
	}
	c->flags |= SP_CF_PASSIVE;
	c->lip = rte_be_to_cpu_32(s->ip->dst_addr);
	c->rip = rte_be_to_cpu_32(s->ip->src_addr);
	c->rport = rte_be_to_cpu_16(s->th->src_port);
	c->lport = rte_be_to_cpu_16(s->th->dst_port);
	c->state = SP_TCP_SYN_RECEIVED;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	apply_syn_options(st, c, s);
	c->snd_wnd = c->max_snd_wnd = s->wnd; /* never scaled in a SYN */
	c->snd_wl1 = s->seq;
	c->iss = sp_seg_isn(st, c);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->flags |= SP_CF_RTT_TIMING;
	c->rtt_seq = c->iss;
	c->rtt_start_us = (uint32_t)st->now_us;
	sp_conn_hash_insert(st, c);
	sp_ctr_inc(st->stats.conn_passive);
	sp_arp_from_syn(st, s->frame, c->rip);
	sp_seg_send_syn(st, c);
	sp_timer_set_handshake(st, c);
}

static void
syn_sent_input(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	bool ack = s->flags & RTE_TCP_ACK_FLAG;

	if (ack && (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max))) {
		if (!(s->flags & RTE_TCP_RST_FLAG))
			sp_seg_reply_rst(st, s->frame, s->ip, s->th, s->len);
		sp_drop(st, SP_DROP_TCP_ACK);
		return;
	}
	if (s->flags & RTE_TCP_RST_FLAG) {
		/* RFC 5961 3.2: only a RST acknowledging our SYN counts. */
		if (ack) {
			sp_ctr_inc(st->stats.tcp_rst_rx);
			sp_conn_drop(st, c, SP_CLOSE_REFUSED);
		} else {
			sp_drop(st, SP_DROP_TCP_RST);
		}
		return;
	}
	if (!(s->flags & RTE_TCP_SYN_FLAG)) {
		sp_drop(st, SP_DROP_TCP_FLAGS);
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	apply_syn_options(st, c, s);
	c->snd_wnd = c->max_snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (!ack) {
		/* Simultaneous open (RFC 9293 3.5 figure 8). */
		c->state = SP_TCP_SYN_RECEIVED;
		sp_seg_send_syn(st, c);
		return;
	}
	c->snd_una = s->ack;
	if ((c->flags & SP_CF_RTT_TIMING) && SEQ_GT(s->ack, c->rtt_seq))
		rtt_sample(st, c);
	/* Payload on a SYN-ACK is not accepted: rcv_nxt stays at irs + 1 and
	 * the peer sends it again. */
	c->flags |= SP_CF_ACK_NOW;
	sp_conn_set_established(st, c);
	if (GONE(c))
		return;
	/* What connected() queued carries the ACK of the SYN-ACK. */
	sp_seg_output(st, c);
	if (c->flags & SP_CF_ACK_NOW)
		sp_seg_send_ack(st, c);
}

/* RFC 9293 3.10.7.4 first check: is any of the segment inside the window? */
static bool
seq_acceptable(const struct sp_stack *st, const struct sp_conn *c,
	       const struct seg *s, uint32_t seg_len)
{
	uint32_t wnd = (uint32_t)sp_seg_window(st, c) << c->rcv_wscale;

	if (seg_len == 0)
		return wnd == 0 ? s->seq == c->rcv_nxt :
				  SEQ_LEQ(c->rcv_nxt, s->seq) &&
					  SEQ_LT(s->seq, c->rcv_nxt + wnd);
	if (wnd == 0)
		return false;
	return (SEQ_LEQ(c->rcv_nxt, s->seq) &&
		SEQ_LT(s->seq, c->rcv_nxt + wnd)) ||
	       (SEQ_LEQ(c->rcv_nxt, s->seq + seg_len - 1) &&
		SEQ_LT(s->seq + seg_len - 1, c->rcv_nxt + wnd));
}

/* A RST with seq == rcv_nxt, already checked by the caller. */
static void
rst_input(struct sp_stack *st, struct sp_conn *c)
{
	sp_ctr_inc(st->stats.tcp_rst_rx);
	switch (c->state) {
	case SP_TCP_SYN_RECEIVED:
		if (c->flags & SP_CF_PASSIVE) {
			/* Back to LISTEN: the application never saw it. */
			c->flags |= SP_CF_APP_GONE;
		}
		sp_conn_drop(st, c, SP_CLOSE_RESET);
		break;
	case SP_TCP_CLOSING:
	case SP_TCP_LAST_ACK:
	case SP_TCP_TIME_WAIT:
		sp_conn_drop(st, c, SP_CLOSE_NORMAL);
		break;
	default:
		sp_conn_drop(st, c, SP_CLOSE_RESET);
		break;
	}
}

/* Insert an out-of-order segment, kept sorted by sequence number. Overlaps
 * are allowed; delivery trims them against rcv_nxt. */
static void
ooo_insert(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	uint32_t *p = &c->ooo_head;
	uint32_t k;
	struct sp_chunk *ch;

	c->ooo_last = s->seq;

	while (*p != SP_NIL && SEQ_LEQ(chunk_at(st, *p)->seq, s->seq)) {
		ch = chunk_at(st, *p);
		if (SEQ_GEQ(ch->seq + ch->len, s->seq + s->len) &&
		    (ch->fin || !(s->flags & RTE_TCP_FIN_FLAG))) {
			/* already held in full */
			dsack_note(st, c, s->seq, s->seq + s->len);
			return;
		}
		p = &ch->next;
	}
	if (c->ooo_count >= st->cfg.ooo_max || s->len > SP_CHUNK_DATA ||
	    (k = sp_chunk_alloc(st)) == SP_NIL) {
		sp_drop(st, SP_DROP_TCP_OOO_FULL);
		return;
	}
	ch = chunk_at(st, k);
	ch->seq = s->seq;
	ch->len = (uint16_t)s->len;
	ch->fin = (s->flags & RTE_TCP_FIN_FLAG) ? 1 : 0;
	memcpy(ch->data, s->data, s->len);
	ch->next = *p;
	*p = k;
	c->ooo_count++;
	sp_ctr_inc(st->stats.tcp_ooo_segs);
}

/* inline: once per in-order segment, and GCC stopped inlining it by itself
 * when the counter's relaxed store made it three instructions
 * (sp_counter.h). */
static inline void
deliver(struct sp_stack *st, struct sp_conn *c, const uint8_t *d, uint32_t n)
{
	c->rcv_nxt += n;
	sp_ctr_add(st->stats.tcp_rx_bytes, n);
	if (st->ops.recv && !(c->flags & (SP_CF_APP_GONE | SP_CF_LINGER)))
		st->ops.recv(st, c, st->app, d, n);
}

/*
 * Payload at or beyond rcv_nxt (already trimmed on the left). Returns true if
 * a FIN is now in order, either on this segment or from the queue.
 */
static bool
data_input(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	bool fin = false;

	if (s->seq != c->rcv_nxt) {
		ooo_insert(st, c, s);
		c->flags |= SP_CF_ACK_NOW; /* RFC 5681 4.2: dup ACK at once */
		return false;
	}
	if (s->len) {
		deliver(st, c, s->data, s->len);
		if (GONE(c))
			return false;
		c->segs_unacked++;
	}
	fin = (s->flags & RTE_TCP_FIN_FLAG) != 0;
	while (!fin && c->ooo_head != SP_NIL) {
		struct sp_chunk *ch = chunk_at(st, c->ooo_head);
		uint32_t end = ch->seq + ch->len, next = ch->next;

		if (SEQ_GT(ch->seq, c->rcv_nxt))
			break;
		/* Filling a hole: ACK at once (RFC 5681 4.2). */
		c->flags |= SP_CF_ACK_NOW;
		if (SEQ_GT(end, c->rcv_nxt)) {
			deliver(st, c, ch->data + (c->rcv_nxt - ch->seq),
				end - c->rcv_nxt);
			if (GONE(c))
				return false;
		}
		if (ch->fin && end == c->rcv_nxt)
			fin = true;
		c->ooo_head = next;
		c->ooo_count--;
		sp_chunk_free(st, (uint32_t)(ch - st->chunks));
	}
	if (c->segs_unacked >= 2)
		c->flags |= SP_CF_ACK_NOW; /* RFC 5681 4.2: every 2nd segment */
	return fin;
}

static void
fin_input(struct sp_stack *st, struct sp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= SP_CF_ACK_NOW;
	sp_chunk_free_list(st, c->ooo_head);
	c->ooo_head = SP_NIL;
	c->ooo_count = 0;
	switch (c->state) {
	case SP_TCP_SYN_RECEIVED:
	case SP_TCP_ESTABLISHED:
		c->state = SP_TCP_CLOSE_WAIT;
		if (c->flags & SP_CF_LINGER) {
			/* What sp_tcp_close_after_peer waited for: our FIN
			 * goes with the ACK of theirs. */
			c->flags &= (uint16_t)~SP_CF_LINGER;
			sp_timer_stop_rtx(st, c);
			sp_ctr_inc(st->stats.tcp_linger_fin);
			sp_tcp_close(st, c);
			break;
		}
		if (st->ops.peer_fin && !(c->flags & SP_CF_APP_GONE))
			st->ops.peer_fin(st, c, st->app);
		break;
	case SP_TCP_FIN_WAIT_1:
		if ((c->flags & SP_CF_FIN_SENT) && c->snd_una == c->snd_max &&
		    c->sq_len == 0) {
			sp_timer_stop_rtx(st, c);
			sp_conn_enter_time_wait(st, c);
		} else {
			c->state = SP_TCP_CLOSING;
		}
		break;
	case SP_TCP_FIN_WAIT_2:
		sp_conn_enter_time_wait(st, c);
		break;
	default:
		break;
	}
}

/*
 * ACK processing for the synchronized states (RFC 9293 3.10.7.4 fifth check,
 * RFC 5681 and RFC 6582 for the congestion window). Returns false if the
 * connection is gone.
 */
/*
 * An ACK of new data, @ack in (snd_una, snd_max]: the RTT sample, the send
 * queue freed, congestion control (RFC 5681, NewReno's RFC 6582) and the
 * retransmission timer (RFC 6298 5.2, 5.3). Returns the data bytes
 * acknowledged; *@fin_acked when it covers our FIN too.
 */
static uint32_t
ack_new(struct sp_stack *st, struct sp_conn *c, uint32_t ack, bool *fin_acked)
{
	uint32_t acked = ack - c->snd_una, data = acked;

	if ((c->flags & SP_CF_FIN_SENT) && SEQ_GT(ack, c->snd_una + c->sq_len)) {
		*fin_acked = true;
		data = acked - 1;
	}
	if ((c->flags & SP_CF_RTT_TIMING) && SEQ_GT(ack, c->rtt_seq))
		rtt_sample(st, c);
	if (data)
		sp_conn_sq_ack(st, c, data);
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->rtx_count = 0;
	if (c->flags & SP_CF_RECOVERY) {
		if (SEQ_GEQ(ack, c->recover)) {
			uint32_t flight = c->snd_max - c->snd_una;

			c->cwnd = c->ssthresh < flight + c->mss ?
					  c->ssthresh :
					  flight + c->mss;
			c->flags &= (uint16_t)~SP_CF_RECOVERY;
		} else {
			/* Partial ACK: the next hole, and deflate. */
			sp_seg_retransmit(st, c);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			c->cwnd += c->mss;
		}
	} else if (c->cwnd < c->ssthresh) {
		c->cwnd += acked < c->mss ? acked : c->mss;
	} else {
		uint32_t inc = c->mss * c->mss / (c->cwnd ? c->cwnd : 1);

		c->cwnd += inc ? inc : 1;
	}
	c->dupacks = 0;
	if (c->snd_una == c->snd_max)
		sp_timer_stop_rtx(st, c);
	else
		sp_timer_set_rtx(st, c, c->rto_us); /* RFC 6298 5.3 */
	return data;
}

static bool
ack_input(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	uint32_t wnd = s->wnd << c->snd_wscale;
	bool fin_acked = false, new_ack = SEQ_GT(s->ack, c->snd_una);
	bool freed = false;

	if (new_ack) {
		freed = ack_new(st, c, s->ack, &fin_acked) != 0;
	} else if (s->ack == c->snd_una && s->len == 0 &&
		   !(s->flags & (RTE_TCP_FIN_FLAG | RTE_TCP_SYN_FLAG)) &&
		   wnd == c->snd_wnd && c->snd_max != c->snd_una) {
		/* Duplicate ACK (RFC 5681 2). */
		sp_ctr_inc(st->stats.tcp_dup_acks);
		if (++c->dupacks == 3 && !(c->flags & SP_CF_RECOVERY)) {
			uint32_t flight = c->snd_max - c->snd_una;

			c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 :
								 2u * c->mss;
			c->recover = c->snd_max;
			c->cwnd = c->ssthresh + 3u * c->mss;
			c->flags |= SP_CF_RECOVERY;
			sp_ctr_inc(st->stats.tcp_fast_retrans);
			sp_seg_retransmit(st, c);
		} else if (c->dupacks > 3 && (c->flags & SP_CF_RECOVERY)) {
			c->cwnd += c->mss;
		}
		if (c->dupacks == 0xff)
			c->dupacks = 4;
	}

	/* Window update: RFC 9293 3.10.7.4's SND.WL1/SND.WL2 rule, plus any
	 * ACK that moves snd_una (as Linux does). The window is relative to
	 * the ACK it came with: a retransmitted old segment carrying a new ACK
	 * fails the WL1 test, and keeping the old window against the new
	 * snd_una would put the right edge past the peer's and send beyond
	 * it (the kernel counts those as BeyondWindow and drops them). */
	if (new_ack || SEQ_LT(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		/* A right edge pulled back below what we sent: receivers
		 * should not (RFC 9293 3.8.6.2.2), but Linux rounds its window
		 * to the scale granularity and, since 6.17, drops segments that
		 * end past it. Count what lies beyond as unsent and send it
		 * again when the window allows, instead of after a timeout. */
		if (SEQ_LT(c->snd_una + wnd, c->snd_nxt)) {
			c->snd_nxt = c->snd_una + wnd;
			c->flags &= (uint16_t)~SP_CF_RTT_TIMING;
			sp_ctr_inc(st->stats.tcp_wnd_shrunk);
		}
		if (wnd && (c->flags & SP_CF_PERSIST)) {
			sp_timer_stop_rtx(st, c);
			c->rtx_count = 0;
		}
	}

	/* Only now, with snd_una and the window that came with it both
	 * current: what the application sends from here goes out against
	 * this ACK's right edge, not the new snd_una plus the old window. */
	if (freed && st->ops.sent && !(c->flags & SP_CF_APP_GONE)) {
		st->ops.sent(st, c, st->app);
		if (GONE(c))
			return false;
	}

	if (fin_acked) {
		switch (c->state) {
		case SP_TCP_FIN_WAIT_1:
			c->state = SP_TCP_FIN_WAIT_2;
			sp_timer_set_rtx(st, c, st->cfg.fin_wait2_us);
			break;
		case SP_TCP_CLOSING:
			sp_conn_enter_time_wait(st, c);
			return !GONE(c);
		case SP_TCP_LAST_ACK:
			sp_conn_drop(st, c, SP_CLOSE_NORMAL);
			return false;
		default:
			break;
		}
	}
	return true;
}

static void
sync_input(struct sp_stack *st, struct sp_conn *c, struct seg *s)
{
	uint32_t seg_len = s->len + ((s->flags & RTE_TCP_SYN_FLAG) ? 1 : 0) +
			   ((s->flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
	uint32_t wnd;
	bool fin;

	/* A retransmitted SYN while our SYN-ACK is unanswered. */
	if (c->state == SP_TCP_SYN_RECEIVED && (s->flags & RTE_TCP_SYN_FLAG) &&
	    !(s->flags & RTE_TCP_ACK_FLAG) && s->seq == c->irs) {
		sp_seg_send_syn(st, c);
		return;
	}
	/* First: sequence number. */
	if (!seq_acceptable(st, c, s, seg_len)) {
		if (s->flags & RTE_TCP_RST_FLAG) {
			sp_drop(st, SP_DROP_TCP_RST);
			return;
		}
		/* All of it came before: a duplicate. */
		if (SEQ_LEQ(s->seq + s->len, c->rcv_nxt))
			dsack_note(st, c, s->seq, s->seq + s->len);
		sp_seg_send_ack(st, c);
		sp_drop(st, SP_DROP_TCP_SEQ);
		return;
	}
	/* Second: RST, only on an exact match (RFC 5961 3.2). */
	if (s->flags & RTE_TCP_RST_FLAG) {
		if (s->seq == c->rcv_nxt) {
			rst_input(st, c);
		} else {
			challenge_ack(st, c);
			sp_drop(st, SP_DROP_TCP_RST);
		}
		return;
	}
	/* Fourth: any SYN here gets a challenge ACK (RFC 5961 4.2). */
	if (s->flags & RTE_TCP_SYN_FLAG) {
		challenge_ack(st, c);
		sp_drop(st, SP_DROP_TCP_SYN);
		return;
	}
	/* Fifth: ACK. */
	if (!(s->flags & RTE_TCP_ACK_FLAG)) {
		sp_drop(st, SP_DROP_TCP_FLAGS);
		return;
	}
	if (c->state == SP_TCP_SYN_RECEIVED) {
		if (SEQ_LEQ(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max)) {
			sp_seg_reply_rst(st, s->frame, s->ip, s->th, s->len);
			sp_drop(st, SP_DROP_TCP_ACK);
			return;
		}
		c->snd_una = s->ack;
		c->snd_wnd = s->wnd << c->snd_wscale;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if ((c->flags & SP_CF_RTT_TIMING) && SEQ_GT(s->ack, c->rtt_seq))
			rtt_sample(st, c);
		sp_conn_set_established(st, c);
		if (GONE(c))
			return;
	} else {
		uint32_t floor = c->max_snd_wnd ? c->max_snd_wnd : 1;

		if (SEQ_GT(s->ack, c->snd_max)) {
			sp_seg_send_ack(st, c);
			sp_drop(st, SP_DROP_TCP_ACK);
			return;
		}
		if (SEQ_LT(s->ack, c->snd_una - floor)) {
			challenge_ack(st, c); /* RFC 5961 5.2 */
			sp_drop(st, SP_DROP_TCP_ACK);
			return;
		}
		if (!ack_input(st, c, s))
			return;
	}

	/* Seventh: text. Trim to the window: what came before rcv_nxt is old,
	 * what lies past the right edge is not ours to keep. */
	if (SEQ_LT(s->seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - s->seq;

		/* Data that came before: a duplicate, said at once. */
		if (s->len) {
			dsack_note(st, c, s->seq,
				   skip < s->len ? c->rcv_nxt :
						   s->seq + s->len);
			c->flags |= SP_CF_ACK_NOW;
		}
		if (skip > s->len) { /* the FIN at seq + len is old too */
			s->len = 0;
			s->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
		} else {
			s->data += skip;
			s->len -= skip;
		}
		s->seq = c->rcv_nxt;
	}
	wnd = (uint32_t)sp_seg_window(st, c) << c->rcv_wscale;
	if (SEQ_GT(s->seq + s->len, c->rcv_nxt + wnd)) {
		s->len = c->rcv_nxt + wnd - s->seq;
		s->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
	}

	fin = false;
	switch (c->state) {
	case SP_TCP_ESTABLISHED:
	case SP_TCP_FIN_WAIT_1:
	case SP_TCP_FIN_WAIT_2:
		if (s->len || (s->flags & RTE_TCP_FIN_FLAG))
			fin = data_input(st, c, s);
		if (GONE(c))
			return;
		break;
	case SP_TCP_TIME_WAIT:
		/* Eighth, for TIME_WAIT: a retransmitted FIN restarts 2 MSL. */
		if (s->flags & RTE_TCP_FIN_FLAG) {
			c->flags |= SP_CF_ACK_NOW;
			sp_timer_set_rtx(st, c, st->cfg.time_wait_us);
		}
		break;
	default:
		break; /* the peer's FIN came already: ignore further text */
	}
	/* Eighth: FIN. */
	if (fin)
		fin_input(st, c);
	if (GONE(c))
		return;
	/* A duplicate ACK counts only without data (RFC 5681 2): it goes
	 * alone, before anything the application queued. */
	if (c->ooo_head != SP_NIL && (c->flags & SP_CF_ACK_NOW))
		sp_seg_send_ack(st, c);
	/* Else the ACK rides on what the application queued meanwhile
	 * (all of it: sp_seg_input need not send again). */
	st->cur_out = false;
	sp_seg_output(st, c);
	if (c->flags & SP_CF_ACK_NOW)
		sp_seg_send_ack(st, c);
	else if (c->segs_unacked)
		sp_timer_set_dack(st, c);
}

/*
 * Header prediction (Van Jacobson's, as in BSD's tcp_input): the segment an
 * established connection gets most, the next in order with only ACK (and
 * PSH) set and no options, the window as it was, acknowledging new data
 * or carrying data or both, while nothing waits in reassembly and neither
 * recovery, a persist probe nor our FIN is under way (fast_ok). It is
 * handled as sync_input would, without the tests it cannot fail.
 */
static bool
fast_ok(const struct sp_stack *st, const struct sp_conn *c,
	const struct seg *s)
{
	uint32_t wnd = s->wnd << c->snd_wscale;

	return c->state == SP_TCP_ESTABLISHED && s->seq == c->rcv_nxt &&
	       c->ooo_head == SP_NIL && wnd == c->snd_wnd &&
	       !(c->flags &
		 (SP_CF_RECOVERY | SP_CF_PERSIST | SP_CF_FIN_SENT)) &&
	       (SEQ_GT(s->ack, c->snd_una) ?
			SEQ_LEQ(s->ack, c->snd_max) :
			s->ack == c->snd_una && s->len != 0) &&
	       SEQ_GEQ(s->ack + wnd, c->snd_nxt) &&
	       s->len <= ((uint32_t)sp_seg_window(st, c) << c->rcv_wscale);
}

/* A segment fast_ok took. */
static void
fast_input(struct sp_stack *st, struct sp_conn *c, const struct seg *s)
{
	bool fin_acked = false;

	if (SEQ_GT(s->ack, c->snd_una)) {
		uint32_t data = ack_new(st, c, s->ack, &fin_acked);

		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (data && st->ops.sent && !(c->flags & SP_CF_APP_GONE)) {
			st->ops.sent(st, c, st->app);
			if (GONE(c))
				return;
		}
	} else if (SEQ_LT(c->snd_wl1, s->seq) ||
		   (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	if (s->len) {
		deliver(st, c, s->data, s->len);
		if (GONE(c))
			return;
		if (++c->segs_unacked >= 2)
			c->flags |= SP_CF_ACK_NOW; /* RFC 5681 4.2 */
	}
	st->cur_out = false; /* what was deferred leaves now */
	sp_seg_output(st, c);
	if (c->flags & SP_CF_ACK_NOW)
		sp_seg_send_ack(st, c);
	else if (c->segs_unacked)
		sp_timer_set_dack(st, c);
}

/* A segment of connection @c, by the fast path or by its state's; what
 * the application queued meanwhile is sent once it is over. */
static void
conn_input(struct sp_stack *st, struct sp_conn *c, struct seg *s, bool fast)
{
	st->cur = c;
	st->cur_out = false;
	if (fast)
		fast_input(st, c, s);
	else if (c->state == SP_TCP_SYN_SENT)
		syn_sent_input(st, c, s);
	else
		sync_input(st, c, s);
	st->cur = NULL;
	/* Paths that end early still send what was queued. */
	if (st->cur_out && !GONE(c))
		sp_seg_output(st, c);
	st->dsack_conn = NULL; /* went out with an ACK, or not at all */
}

/* The fields of @s that do not come from options. */
static void
seg_fill(struct seg *s, const uint8_t *frame, const struct rte_ipv4_hdr *ip,
	 const struct rte_tcp_hdr *th, uint32_t doff, uint32_t tcp_len)
{
	s->flags = th->tcp_flags;
	s->frame = frame;
	s->ip = ip;
	s->th = th;
	s->data = (const uint8_t *)th + doff;
	s->len = tcp_len - doff;
	s->seq = rte_be_to_cpu_32(th->sent_seq);
	s->ack = rte_be_to_cpu_32(th->recv_ack);
	s->wnd = rte_be_to_cpu_16(th->rx_win);
}

void
sp_seg_input(struct sp_stack *st, const uint8_t *frame,
	     const struct rte_ipv4_hdr *ip, uint32_t ip_len)
{
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tcp_len = ip_len - hlen, doff;
	const struct rte_tcp_hdr *th =
		(const struct rte_tcp_hdr *)((const uint8_t *)ip + hlen);
	struct seg s;
	struct sp_conn *c = NULL;
	bool looked = false;
	uint32_t i;
	uint16_t dport;

	if (tcp_len < sizeof(*th)) {
		sp_drop(st, SP_DROP_TCP_HDR);
		return;
	}
	doff = (uint32_t)(th->data_off >> 4) * 4;
	if (doff < sizeof(*th) || doff > tcp_len) {
		sp_drop(st, SP_DROP_TCP_HDR);
		return;
	}
	if (!sp_cksum_tcp_in(st, ip, th, tcp_len)) {
		sp_drop(st, SP_DROP_TCP_CSUM);
		return;
	}
	dport = rte_be_to_cpu_16(th->dst_port);
	if (doff == sizeof(*th) &&
	    (th->tcp_flags & (uint8_t)~RTE_TCP_PSH_FLAG) == RTE_TCP_ACK_FLAG) {
		seg_fill(&s, frame, ip, th, doff, tcp_len);
		c = sp_conn_lookup(st, rte_be_to_cpu_32(ip->src_addr),
				   rte_be_to_cpu_16(th->src_port),
				   rte_be_to_cpu_32(ip->dst_addr), dport);
		if (c != NULL && fast_ok(st, c, &s)) {
			sp_ctr_inc(st->stats.tcp_rx_segs);
			conn_input(st, c, &s, true);
			return;
		}
		looked = true;
	}
	memset(&s, 0, sizeof(s));
	s.wscale = -1;
	if (doff > sizeof(*th) &&
	    parse_options(&s, (const uint8_t *)(th + 1), doff - sizeof(*th))) {
		sp_drop(st, SP_DROP_TCP_OPT);
		return;
	}
	seg_fill(&s, frame, ip, th, doff, tcp_len);
	if ((s.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) ==
		    (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG) ||
	    (s.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ==
		    (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) ||
	    !(s.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG |
			 RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG))) {
		sp_drop(st, SP_DROP_TCP_FLAGS);
		return;
	}
	sp_ctr_inc(st->stats.tcp_rx_segs);
	if (!looked)
		c = sp_conn_lookup(st, rte_be_to_cpu_32(ip->src_addr),
				   rte_be_to_cpu_16(th->src_port),
				   rte_be_to_cpu_32(ip->dst_addr), dport);
	/*
	 * A new SYN for a passive 4-tuple we hold in TIME_WAIT (we closed
	 * first: a responder with Connection: close). RFC 1122 4.2.2.13 and
	 * RFC 6191: accept it as a new connection when its sequence number
	 * is beyond the old one's, as Linux and the BSDs do; else the
	 * client's ISN falls outside our window, our ACK draws its RST and
	 * the connection waits a whole SYN retransmission (1 s).
	 */
	if (c && c->state == SP_TCP_TIME_WAIT && (c->flags & SP_CF_PASSIVE) &&
	    (s.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG |
			RTE_TCP_RST_FLAG)) == RTE_TCP_SYN_FLAG &&
	    SEQ_GT(s.seq, c->rcv_nxt)) {
		sp_conn_drop(st, c, SP_CLOSE_NORMAL);
		c = NULL;
	}
	if (c) {
		conn_input(st, c, &s, false);
		return;
	}
	for (i = 0; i < st->nlisten; i++) {
		if (st->listen_port[i] == dport) {
			listen_input(st, &s);
			return;
		}
	}
	/* CLOSED (RFC 9293 3.10.7.1): answer anything but a RST with one. */
	if (!(s.flags & RTE_TCP_RST_FLAG)) {
		uint32_t seg_len = s.len +
				   ((s.flags & RTE_TCP_SYN_FLAG) ? 1 : 0) +
				   ((s.flags & RTE_TCP_FIN_FLAG) ? 1 : 0);

		sp_seg_reply_rst(st, frame, ip, th, seg_len);
	}
	sp_drop(st, SP_DROP_TCP_NOCONN);
}
