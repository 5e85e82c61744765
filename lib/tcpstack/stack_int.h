/*
 * Internals shared by the stack's source files: the stack and connection
 * control blocks, the chunk pool, and the helpers each file exports to the
 * others. Nothing here is part of the public API.
 *
 * Names: sp_tcp_* is the application's TCP API (sp_tcpstack.h) and nothing
 * else. Inside, segments are sp_seg_* (tcp_in.c takes them in, tcp_out.c
 * builds and sends them), the rest by what it works on: sp_conn_* (the
 * connection table), sp_timer_*, sp_arp_*, sp_ip_*, sp_chunk_*.
 */
#ifndef SP_STACK_INT_H
#define SP_STACK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "sp_counter.h"
#include "sp_tcpstack.h"

#define SP_NIL UINT32_MAX

/* Sequence-space comparison (RFC 9293 3.4): only through these. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))

/* Timer ticks are milliseconds of the caller's clock; 32 bits wrap after 49
 * days, and all comparisons are wrap-safe like sequence numbers. */
#define SP_TICK_US 1000u
#define TICK_LEQ(a, b) SEQ_LEQ(a, b)
#define SP_WHEEL_SLOTS 4096u /* power of two: about 4 s before a round */
#define SP_TM_NONE 0xffffu
#define SP_TM_EXPIRED SP_WHEEL_SLOTS /* the list being run right now */

/*
 * Data chunk: one per out-of-order segment, or a piece of a send queue.
 * 2 KiB so that a full-MSS segment always fits one chunk.
 */
#define SP_CHUNK_SIZE 2048u
#define SP_CHUNK_DATA SP_CHUNK_PAYLOAD
_Static_assert(SP_CHUNK_DATA + 16u == SP_CHUNK_SIZE,
	       "chunk header is 16 bytes");
struct sp_chunk {
	uint32_t next;
	uint32_t seq; /* sequence number of data[0] (both queues) */
	uint16_t len; /* bytes of data[] in use */
	uint16_t fin; /* out-of-order segment carried a FIN */
	uint32_t ref; /* send queue: data[] holds a pointer to the bytes */
	uint8_t data[SP_CHUNK_DATA];
};

/* The bytes of a chunk: its own, or those it refers to (sp_tcp_send_ref). */
static inline const uint8_t *
chunk_bytes(const struct sp_chunk *k)
{
	const uint8_t *p;

	if (!k->ref)
		return k->data;
	memcpy(&p, k->data, sizeof(p));
	return p;
}

/* Connection flags. */
enum {
	SP_CF_FIN_QUEUED = 1u << 0,    /* app closed: FIN after queued data */
	SP_CF_FIN_SENT = 1u << 1,      /* FIN transmitted; snd_max covers it */
	SP_CF_RTX_ARMED = 1u << 2,     /* rtx_tick holds a deadline */
	SP_CF_DACK_ARMED = 1u << 3,    /* dack_tick holds a deadline */
	SP_CF_PERSIST = 1u << 4,       /* rtx deadline: a zero-window probe */
	SP_CF_RECOVERY = 1u << 5,      /* NewReno fast recovery (RFC 6582) */
	SP_CF_RTT_TIMING = 1u << 6,    /* rtt_seq/rtt_start time a segment */
	SP_CF_APP_GONE = 1u << 7,      /* closed() called: no more callbacks */
	SP_CF_PASSIVE = 1u << 8,       /* from a listener: no ephemeral port */
	SP_CF_WSCALE = 1u << 9,        /* both sides sent window scale */
	SP_CF_ZOMBIE = 1u << 10,       /* released, on the zombie list */
	SP_CF_ACK_NOW = 1u << 11,      /* send an ACK before input returns */
	SP_CF_SACK = 1u << 12,         /* both sent SACK-permitted (RFC 2018) */
	SP_CF_SWS_OVERRIDE = 1u << 13, /* persist expired: send what fits */
	SP_CF_WAIT_SPACE = 1u << 14,   /* on the space_waiters list */
	SP_CF_LINGER = 1u << 15,       /* closing: our FIN awaits the peer's */
};

/*
 * Connection control block: about 170 bytes, so a million idle connections
 * take well under 200 MiB. Pool-indexed links (32-bit) instead of pointers
 * keep it small.
 */
struct sp_conn {
	uint32_t hnext; /* hash chain, then zombie list */
	uint32_t rip, lip;
	uint16_t rport, lport;

	uint8_t state;
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks;
	uint16_t flags;
	uint16_t mss;         /* effective send MSS */
	uint8_t rtx_count;    /* consecutive timeouts (backoff exponent) */
	uint8_t segs_unacked; /* full segments received since our last ACK */
	uint16_t ooo_count;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t cwnd, ssthresh, recover;

	/* receive sequence space */
	uint32_t irs, rcv_nxt;

	/* RTT estimation (RFC 6298), microseconds */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq, rtt_start_us;

	/* send queue: sq_len bytes from snd_una on, in a chunk list; each
	 * chunk knows the sequence number of its first byte, so the head's
	 * acknowledged part is snd_una - seq */
	uint32_t sq_head, sq_tail, sq_len;
	/* where the last segment built from the queue ended: the next one
	 * starts there, and finding it from the head would walk a whole
	 * window of chunks per segment (a cache miss each) */
	uint32_t sq_hint;
	uint32_t ooo_head; /* out-of-order chunks sorted by seq */
	uint32_t ooo_last; /* seq of the latest out-of-order arrival (SACK) */

	/* one wheel entry per connection; it fires at the earliest deadline */
	uint32_t tm_next, tm_prev, tm_tick;
	uint16_t tm_slot;
	uint16_t pad1;
	uint32_t rtx_tick;  /* RTO, SYN, persist, TIME_WAIT, FIN_WAIT_2 */
	uint32_t dack_tick; /* delayed ACK */
	uint32_t open_tick; /* connect() time, for the connect timeout */

	uint32_t wnext; /* space_waiters list */
	void *user;
};

struct sp_arp_entry {
	uint32_t ip; /* 0 = empty */
	uint8_t mac[6];
	uint8_t valid;
	uint8_t pad;
	uint64_t expire_us;
	uint64_t last_req_us;
};
#define SP_ARP_SLOTS 256u
#define SP_MAX_LISTEN 16u

struct sp_stack {
	struct sp_stack_config cfg;
	struct sp_tcp_ops ops;
	void *app;
	struct sp_stack_stats stats;

	uint64_t now_us;
	uint32_t now_tick;
	uint32_t depth;   /* >0 while inside input/poll: frees are deferred */
	uint32_t zombies; /* released connections, freed when depth drops */
	uint32_t space_waiters; /* found the chunk pool dry, nothing queued */
	uint16_t ip_id;
	uint16_t rcv_wnd_max; /* unscaled window field when no WS */
	uint8_t rcv_wscale;   /* what we offer */
	int last_drop; /* SP_DROP_ERR of the frame being processed, or 0 */
	/* The NIC's receive flags of the frame being processed (its
	 * checksum verdicts: cksum_ol.h), 0 when it gave none. */
	uint64_t rx_ol;
	/* The connection whose segment is being processed: what its
	 * callbacks send or close waits for the segment's end (cur_out), so
	 * that data, FIN and ACK leave together in one segment. */
	struct sp_conn *cur;
	bool cur_out;
	/* The duplicate part of the segment being processed, [dsack_l,
	 * dsack_r), for the first ACK of dsack_conn that goes out while it is
	 * processed (RFC 2883 D-SACK): the sender learns its retransmission
	 * was spurious (reordering, not loss) and can undo its reaction. */
	struct sp_conn *dsack_conn;
	uint32_t dsack_l, dsack_r;

	struct sp_conn *conns;
	uint32_t conn_free;  /* free list through hnext */
	uint32_t conns_used; /* read by other cores: sp_ctr_* (sp_counter.h) */

	uint32_t *hash; /* bucket heads */
	uint32_t hash_mask;

	struct sp_chunk *chunks;
	uint32_t chunk_free;
	uint32_t chunks_used; /* read by other cores: sp_ctr_* */

	/* FIFO of free (address, port) pairs for active opens: entry n is
	 * port port_min + n % nports of address ip + n / nports. */
	uint32_t *ports;
	uint32_t nports; /* ports per address */
	uint32_t port_head, port_count, port_cap;

	uint32_t wheel[SP_WHEEL_SLOTS + 1]; /* + the expired list */
	uint32_t wheel_tick;                /* next tick to run */

	uint16_t listen_port[SP_MAX_LISTEN];
	uint32_t nlisten;

	struct sp_arp_entry arp[SP_ARP_SLOTS];
	/* sp_arp_nexthop's last answer: the destination, its next hop and
	 * that hop's entry (entries stay in place; one may be taken for
	 * another address, so the hop is checked again). */
	uint32_t nh_dst, nh_hop;
	struct sp_arp_entry *nh_e;
	uint64_t next_arp_scan_us;

	size_t mem_bytes;
};

static inline struct sp_conn *
conn_at(struct sp_stack *st, uint32_t i)
{
	return &st->conns[i];
}
static inline uint32_t
conn_idx(struct sp_stack *st, const struct sp_conn *c)
{
	return (uint32_t)(c - st->conns);
}
static inline struct sp_chunk *
chunk_at(struct sp_stack *st, uint32_t i)
{
	return &st->chunks[i];
}

/* stack.c */
uint32_t sp_chunk_alloc(struct sp_stack *st);
void sp_chunk_free(struct sp_stack *st, uint32_t i);
void sp_chunk_free_list(struct sp_stack *st, uint32_t head);

/* arp.c */
void sp_arp_input(struct sp_stack *st, const uint8_t *frame, uint32_t len);
/* Check an ARP frame and learn its sender if it is for us: the opcode, or
 * SP_DROP_ERR(reason). Counts nothing, answers nothing. */
int sp_arp_merge(struct sp_stack *st, const uint8_t *frame, uint32_t len);
/* A SYN to a listener arrived in @frame from @src_ip: its next hop sent
 * it, so the frame's source MAC is that hop's. Kept only where the cache
 * holds no valid entry (ARP's word wins). */
void sp_arp_from_syn(struct sp_stack *st, const uint8_t *frame,
		     uint32_t src_ip);
const uint8_t *sp_arp_nexthop(struct sp_stack *st, uint32_t dst_ip);
void sp_arp_poll(struct sp_stack *st);

/* ip.c */
void sp_ip_input(struct sp_stack *st, const uint8_t *frame,
		 const struct rte_ipv4_hdr *ip, uint32_t ip_len);
/* Whether @ip is one of ours. */
static inline int
sp_ip_ours(const struct sp_stack *st, uint32_t ip)
{
	return ip - st->cfg.ip < st->cfg.ip_count;
}

uint8_t *sp_ip_begin(struct sp_stack *st, void **handle, uint32_t src_ip,
		     const uint8_t *dst_mac, uint32_t dst_ip, uint8_t proto);
void sp_ip_finish(struct sp_stack *st, void *handle, uint8_t *frame,
		  uint32_t l4_len);
void sp_drop(struct sp_stack *st, enum sp_drop_reason r);

/* tcp_in.c: segment arrival */
void sp_seg_input(struct sp_stack *st, const uint8_t *frame,
		  const struct rte_ipv4_hdr *ip, uint32_t ip_len);

/* tcp_out.c: segment construction and the send loop */
void sp_seg_output(struct sp_stack *st, struct sp_conn *c);
void sp_seg_send_ack(struct sp_stack *st, struct sp_conn *c);
void sp_seg_send_syn(struct sp_stack *st, struct sp_conn *c);
void sp_seg_send_rst(struct sp_stack *st, struct sp_conn *c);
void sp_seg_retransmit(struct sp_stack *st, struct sp_conn *c);
void sp_seg_send_probe(struct sp_stack *st, struct sp_conn *c);
void sp_seg_reply_rst(struct sp_stack *st, const uint8_t *frame,
		      const struct rte_ipv4_hdr *ip,
		      const struct rte_tcp_hdr *th, uint32_t seg_len);
uint32_t sp_seg_isn(struct sp_stack *st, const struct sp_conn *c);
uint16_t sp_seg_window(const struct sp_stack *st, const struct sp_conn *c);

/* tcp_conn.c */
struct sp_conn *sp_conn_alloc(struct sp_stack *st);
void sp_conn_hash_insert(struct sp_stack *st, struct sp_conn *c);
struct sp_conn *sp_conn_lookup(struct sp_stack *st, uint32_t rip,
			       uint16_t rport, uint32_t lip, uint16_t lport);
void sp_conn_notify_closed(struct sp_stack *st, struct sp_conn *c,
			   enum sp_close_reason why);
void sp_conn_drop(struct sp_stack *st, struct sp_conn *c,
		  enum sp_close_reason why);
void sp_conn_enter_time_wait(struct sp_stack *st, struct sp_conn *c);
void sp_conn_free_zombies(struct sp_stack *st);
void sp_conn_wake_writers(struct sp_stack *st);
void sp_conn_sq_ack(struct sp_stack *st, struct sp_conn *c, uint32_t bytes);
void sp_conn_set_established(struct sp_stack *st, struct sp_conn *c);

/* timer.c */
void sp_timer_update(struct sp_stack *st, struct sp_conn *c);
void sp_timer_cancel(struct sp_stack *st, struct sp_conn *c);
void sp_timer_run(struct sp_stack *st);
void sp_timer_set_rtx(struct sp_stack *st, struct sp_conn *c, uint32_t us);
void sp_timer_stop_rtx(struct sp_stack *st, struct sp_conn *c);
void sp_timer_set_handshake(struct sp_stack *st, struct sp_conn *c);
void sp_timer_set_dack(struct sp_stack *st, struct sp_conn *c);
uint32_t sp_us_to_ticks(uint32_t us);

#endif /* SP_STACK_INT_H */
