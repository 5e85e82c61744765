/*
 * TCP output: segment construction and the send loop that decides what may
 * leave under the peer's window and our congestion window (RFC 5681, with
 * NewReno recovery from RFC 6582 driven by tcp_in.c).
 *
 * Every ACK-bearing segment acknowledges rcv_nxt, so sending data or a FIN
 * settles any pending delayed ACK.
 */
#include <string.h>

#include <rte_jhash.h>

#include "stack_int.h"

#define TCP_HLEN ((uint32_t)sizeof(struct rte_tcp_hdr))
#define SYN_OPTLEN 12u /* MSS, NOP + window scale, NOP NOP + SACK-permitted */
#define SACK_MAX 4u    /* blocks that fit 40 option bytes without timestamps */

uint32_t
sp_seg_isn(struct sp_stack *st, const struct sp_conn *c)
{
	/* RFC 6528: a 4 µs clock plus a keyed hash of the 4-tuple. */
	return (uint32_t)(st->now_us / 4) +
	       rte_jhash_3words(c->rip, c->lip,
				((uint32_t)c->rport << 16) | c->lport,
				st->cfg.isn_secret ^ 0x9e3779b9u);
}

uint16_t
sp_seg_window(const struct sp_stack *st, const struct sp_conn *c)
{
	uint32_t w;

	if (!(c->flags & SP_CF_WSCALE))
		return st->rcv_wnd_max;
	w = st->cfg.rcvwnd >> c->rcv_wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

/* The send-queue chunk holding @seq, which must lie in [snd_una, snd_una +
 * sq_len): from the hint when it starts at or before @seq (the next new
 * segment, one step at most), else from the head (a retransmission). */
static uint32_t
sq_find(struct sp_stack *st, const struct sp_conn *c, uint32_t seq)
{
	uint32_t i = c->sq_hint;

	if (i == SP_NIL || SEQ_GT(chunk_at(st, i)->seq, seq))
		i = c->sq_head;
	while (SEQ_GEQ(seq, chunk_at(st, i)->seq + chunk_at(st, i)->len))
		i = chunk_at(st, i)->next;
	return i;
}

/* Copy @len bytes of the send queue from @seq on; the hint is left on the
 * chunk the copy ended in. */
static void
sq_copy(struct sp_stack *st, struct sp_conn *c, uint32_t seq, uint8_t *dst,
	uint32_t len)
{
	uint32_t i = sq_find(st, c, seq);
	uint32_t off = seq - chunk_at(st, i)->seq;

	for (;;) {
		const struct sp_chunk *k = chunk_at(st, i);
		uint32_t n = k->len - off;

		if (n > len)
			n = len;
		memcpy(dst, chunk_bytes(k) + off, n);
		dst += n;
		len -= n;
		if (len == 0)
			break;
		off = 0;
		i = k->next;
	}
	c->sq_hint = i;
}

static void
put_sack_block(uint8_t *b, uint32_t l, uint32_t r)
{
	b[0] = (uint8_t)(l >> 24);
	b[1] = (uint8_t)(l >> 16);
	b[2] = (uint8_t)(l >> 8);
	b[3] = (uint8_t)l;
	b[4] = (uint8_t)(r >> 24);
	b[5] = (uint8_t)(r >> 16);
	b[6] = (uint8_t)(r >> 8);
	b[7] = (uint8_t)r;
}

/*
 * SACK option (RFC 2018 3-4) from the out-of-order queue: contiguous ranges,
 * the one holding the latest arrival first; a D-SACK block (RFC 2883 4)
 * before them all when the segment being answered was a duplicate. Returns
 * the option length.
 */
static uint32_t
sack_option(struct sp_stack *st, const struct sp_conn *c, uint8_t *opt)
{
	uint32_t blk[SACK_MAX][2], n = 1, l = 0, r = 0, i, k, d = 0;
	bool first = false, open = false;

	for (i = c->ooo_head;; i = chunk_at(st, i)->next) {
		const struct sp_chunk *ch = i != SP_NIL ? chunk_at(st, i) :
							  NULL;

		if (ch && open && SEQ_LEQ(ch->seq, r)) {
			r = SEQ_MAX(r, ch->seq + ch->len);
			continue;
		}
		if (open) { /* close the range [l, r) */
			if (!first && SEQ_LEQ(l, c->ooo_last) &&
			    SEQ_LT(c->ooo_last, r)) {
				blk[0][0] = l;
				blk[0][1] = r;
				first = true;
			} else if (n < SACK_MAX) {
				blk[n][0] = l;
				blk[n][1] = r;
				n++;
			}
		}
		if (!ch)
			break;
		l = ch->seq;
		r = ch->seq + ch->len;
		open = true;
	}
	k = first ? 0 : 1; /* no block holds the latest: start at the next */
	if (st->dsack_conn == c) {
		put_sack_block(opt + 4, st->dsack_l, st->dsack_r);
		d = 1;
		if (n - k > SACK_MAX - 1)
			n = k + SACK_MAX - 1;
		st->dsack_conn = NULL; /* reported once */
		sp_ctr_inc(st->stats.tcp_dsack);
	}
	if (d + n - k == 0)
		return 0;
	opt[0] = opt[1] = 1; /* NOP NOP keeps the blocks 32-bit aligned */
	opt[2] = 5;
	opt[3] = (uint8_t)(2 + 8 * (d + n - k));
	for (i = k; i < n; i++)
		put_sack_block(opt + 4 + 8 * (d + i - k), blk[i][0], blk[i][1]);
	return 4 + 8 * (d + n - k);
}

/*
 * Build and send one segment of @c: @len payload bytes from the send queue
 * at @seq (which must lie in [snd_una, snd_una + sq_len]).
 */
static void
emit(struct sp_stack *st, struct sp_conn *c, uint32_t seq, uint8_t flags,
     uint32_t len)
{
	struct rte_tcp_hdr *th;
	uint32_t optlen = (flags & RTE_TCP_SYN_FLAG) ? SYN_OPTLEN : 0;
	void *handle;
	uint8_t *f, *opt;

	if (flags & RTE_TCP_ACK_FLAG) {
		/* Whether or not the frame gets out, this was our answer;
		 * a lost one is recovered like any lost segment. */
		c->flags &= (uint16_t)(~(SP_CF_DACK_ARMED | SP_CF_ACK_NOW));
		c->segs_unacked = 0;
	}
	f = sp_ip_begin(st, &handle, c->lip, NULL, c->rip, IPPROTO_TCP);
	if (!f)
		return;
	th = (struct rte_tcp_hdr *)(f + sizeof(struct rte_ether_hdr) +
				    sizeof(struct rte_ipv4_hdr));
	th->src_port = rte_cpu_to_be_16(c->lport);
	th->dst_port = rte_cpu_to_be_16(c->rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(
		(flags & RTE_TCP_ACK_FLAG) ? c->rcv_nxt : 0);
	opt = (uint8_t *)(th + 1);
	/* SACK blocks ride on ACKs while there is a hole, when they fit the
	 * MTU next to the payload (in practice: on the pure ACKs). */
	if (!optlen &&
	    (flags & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) ==
		    RTE_TCP_ACK_FLAG &&
	    (c->flags & SP_CF_SACK) &&
	    (c->ooo_head != SP_NIL || st->dsack_conn == c) &&
	    len + 4 + 8 * SACK_MAX <= 1460)
		optlen = sack_option(st, c, opt);
	th->data_off = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	th->tcp_flags = flags;
	/* RFC 7323 2.2: the window in a SYN is never scaled. */
	th->rx_win = rte_cpu_to_be_16((flags & RTE_TCP_SYN_FLAG) ?
					      st->rcv_wnd_max :
					      sp_seg_window(st, c));
	th->tcp_urp = 0;
	if (flags & RTE_TCP_SYN_FLAG) {
		opt[0] = 2; /* MSS */
		opt[1] = 4;
		opt[2] = (uint8_t)(st->cfg.mss >> 8);
		opt[3] = (uint8_t)st->cfg.mss;
		opt[4] = 1; /* NOP */
		opt[5] = 3; /* window scale */
		opt[6] = 3;
		opt[7] = st->rcv_wscale;
		opt[8] = opt[9] = 1; /* NOP NOP */
		opt[10] = 4;         /* SACK permitted */
		opt[11] = 2;
		/* A SYN-ACK offers what the SYN offered, no more (RFC 7323
		 * 1.3, RFC 2018 2). */
		if ((flags & RTE_TCP_ACK_FLAG) && !(c->flags & SP_CF_WSCALE))
			opt[4] = opt[5] = opt[6] = opt[7] = 1;
		if ((flags & RTE_TCP_ACK_FLAG) && !(c->flags & SP_CF_SACK))
			opt[10] = opt[11] = 1;
	}
	if (len)
		sq_copy(st, c, seq, opt + optlen, len);
	sp_ip_finish(st, handle, f, TCP_HLEN + optlen + len);
	sp_ctr_inc(st->stats.tcp_tx_segs);
	if (flags & RTE_TCP_RST_FLAG)
		sp_ctr_inc(st->stats.tcp_rst_tx);
}

void
sp_seg_send_syn(struct sp_stack *st, struct sp_conn *c)
{
	emit(st, c, c->iss,
	     c->state == SP_TCP_SYN_SENT ? RTE_TCP_SYN_FLAG :
					   RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
	     0);
}

/*
 * The sequence number of a segment without data must pass the peer's
 * acceptability test (RFC 9293 3.10.7.4), or the peer drops it unread.
 * snd_nxt is wrong after a timeout, which winds it back below what the peer
 * may already hold (both sides then answer each other's ACKs for ever);
 * snd_max is wrong once data we sent fell past the peer's right edge, which
 * Linux drops since 6.17 (TcpExtBeyondWindow): every ACK we sent after that
 * would be ignored. As Linux's tcp_acceptable_seq(): snd_max, but never past
 * the edge the peer last advertised.
 */
static uint32_t
acceptable_seq(const struct sp_conn *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	return SEQ_LT(edge, c->snd_max) ? edge : c->snd_max;
}

void
sp_seg_send_ack(struct sp_stack *st, struct sp_conn *c)
{
	emit(st, c, acceptable_seq(c), RTE_TCP_ACK_FLAG, 0);
}

void
sp_seg_send_rst(struct sp_stack *st, struct sp_conn *c)
{
	emit(st, c, acceptable_seq(c), RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0);
}

/* Linux-style window probe: an ACK one below snd_una makes the receiver
 * answer with its current window without being handed any data. */
void
sp_seg_send_probe(struct sp_stack *st, struct sp_conn *c)
{
	sp_ctr_inc(st->stats.tcp_zwnd_probes);
	emit(st, c, c->snd_una - 1, RTE_TCP_ACK_FLAG, 0);
}

static bool
fin_due(const struct sp_conn *c, uint32_t seq_end)
{
	return (c->flags & SP_CF_FIN_QUEUED) &&
	       seq_end == c->snd_una + c->sq_len;
}

/* Fast retransmit: resend the first unacknowledged segment, snd_nxt stays. */
void
sp_seg_retransmit(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t len = c->sq_len < c->mss ? c->sq_len : c->mss;
	uint8_t flags = RTE_TCP_ACK_FLAG;

	if (fin_due(c, c->snd_una + len))
		flags |= RTE_TCP_FIN_FLAG;
	if (len)
		flags |= RTE_TCP_PSH_FLAG;
	c->flags &= (uint16_t)~SP_CF_RTT_TIMING; /* Karn */
	sp_ctr_inc(st->stats.tcp_retrans_segs);
	sp_ctr_add(st->stats.tcp_retrans_bytes, len);
	emit(st, c, c->snd_una, flags, len);
}

void
sp_seg_output(struct sp_stack *st, struct sp_conn *c)
{
	uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
	bool blocked = false;

	switch (c->state) {
	case SP_TCP_ESTABLISHED:
	case SP_TCP_CLOSE_WAIT:
	case SP_TCP_FIN_WAIT_1:
	case SP_TCP_CLOSING:
	case SP_TCP_LAST_ACK:
		break;
	default:
		return;
	}
	for (;;) {
		uint32_t off = c->snd_nxt - c->snd_una;
		uint32_t left = c->sq_len > off ? c->sq_len - off : 0;
		int32_t usable = (int32_t)(c->snd_una + wnd - c->snd_nxt);
		uint32_t len = left < c->mss ? left : c->mss;
		uint8_t flags = RTE_TCP_ACK_FLAG;
		bool rtx;

		if ((c->flags & SP_CF_FIN_QUEUED) &&
		    SEQ_GT(c->snd_nxt, c->snd_una + c->sq_len))
			break; /* data and FIN all out */
		if (len) {
			blocked = true;
			if (usable <= 0)
				break;
			/* Sender-side SWS avoidance (RFC 9293 3.8.6.2.1):
			 * a short segment only if it is all we have or the
			 * window is at least half the largest seen. */
			if ((uint32_t)usable < len) {
				if ((uint32_t)usable < c->max_snd_wnd / 2 &&
				    !(c->flags & SP_CF_SWS_OVERRIDE))
					break;
				len = (uint32_t)usable;
			}
			blocked = false;
			flags |= RTE_TCP_PSH_FLAG;
		}
		if (fin_due(c, c->snd_nxt + len))
			flags |= RTE_TCP_FIN_FLAG;
		else if (!len)
			break;
		rtx = SEQ_LT(c->snd_nxt, c->snd_max);
		if (rtx) {
			sp_ctr_inc(st->stats.tcp_retrans_segs);
			sp_ctr_add(st->stats.tcp_retrans_bytes, len);
		} else {
			sp_ctr_add(st->stats.tcp_tx_bytes, len);
			if (len && !(c->flags & SP_CF_RTT_TIMING)) {
				c->flags |= SP_CF_RTT_TIMING;
				c->rtt_seq = c->snd_nxt;
				c->rtt_start_us = (uint32_t)st->now_us;
			}
		}
		emit(st, c, c->snd_nxt, flags, len);
		c->snd_nxt += len + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
		if (flags & RTE_TCP_FIN_FLAG)
			c->flags |= SP_CF_FIN_SENT;
		c->snd_max = SEQ_MAX(c->snd_max, c->snd_nxt);
		if (!(c->flags & SP_CF_RTX_ARMED) ||
		    (c->flags & SP_CF_PERSIST)) {
			c->flags &= (uint16_t)~SP_CF_PERSIST;
			sp_timer_set_rtx(st, c, c->rto_us); /* RFC 6298 5.1 */
		}
		if (flags & RTE_TCP_FIN_FLAG)
			break;
	}
	/* Data held back by the peer's window with nothing in flight to
	 * elicit an ACK: the persist timer probes until the window opens. */
	if (blocked && c->snd_nxt == c->snd_una &&
	    !(c->flags & SP_CF_RTX_ARMED)) {
		sp_timer_set_rtx(st, c, c->rto_us);
		c->flags |= SP_CF_PERSIST;
	}
}

void
sp_seg_reply_rst(struct sp_stack *st, const uint8_t *frame,
		 const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
		 uint32_t seg_len)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	struct rte_tcp_hdr *out;
	void *handle;
	uint8_t *f;

	f = sp_ip_begin(st, &handle, rte_be_to_cpu_32(ip->dst_addr),
			eth->src_addr.addr_bytes,
			rte_be_to_cpu_32(ip->src_addr), IPPROTO_TCP);
	if (!f)
		return;
	out = (struct rte_tcp_hdr *)(f + sizeof(struct rte_ether_hdr) +
				     sizeof(struct rte_ipv4_hdr));
	out->src_port = th->dst_port;
	out->dst_port = th->src_port;
	/* RFC 9293 3.10.7.1: answer an ACK with its own number, anything
	 * else with an ACK of everything it carried. */
	if (th->tcp_flags & RTE_TCP_ACK_FLAG) {
		out->sent_seq = th->recv_ack;
		out->recv_ack = 0;
		out->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		out->sent_seq = 0;
		out->recv_ack = rte_cpu_to_be_32(
			rte_be_to_cpu_32(th->sent_seq) + seg_len);
		out->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	out->data_off = (uint8_t)((TCP_HLEN / 4) << 4);
	out->rx_win = 0;
	out->tcp_urp = 0;
	sp_ip_finish(st, handle, f, TCP_HLEN);
	sp_ctr_inc(st->stats.tcp_tx_segs);
	sp_ctr_inc(st->stats.tcp_rst_tx);
}
