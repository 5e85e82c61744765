/*
 * sp_tcpstack: one userspace Ethernet/ARP/IPv4/ICMP/TCP stack per NIC queue.
 *
 * The stack never touches a NIC and never reads a clock. The caller hands it
 * received frames (sp_stack_input) and the current time in microseconds, calls
 * sp_stack_poll regularly for timers, and provides two I/O callbacks through
 * which the stack obtains a transmit buffer and hands back a built frame. That
 * keeps the stack free of EAL state: unit tests drive it with plain buffers and
 * a fake clock; the DPDK worker maps the callbacks onto mbufs and tx bursts.
 *
 * Everything is sized at sp_stack_create(): the connection pool, the 4-tuple
 * hash, the ephemeral-port FIFO and the pool of 2 KiB data chunks shared by the
 * send queues and the out-of-order queues. Nothing allocates afterwards.
 *
 * Addresses and ports are in host byte order throughout the API.
 */
#ifndef SP_TCPSTACK_H
#define SP_TCPSTACK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_FRAME_MAX 1514u     /* Ethernet header + 1500-byte MTU, no FCS */
#define SP_CHUNK_PAYLOAD 2032u /* data bytes per pool chunk (2 KiB blocks) */

struct sp_stack;
struct sp_conn;

/*
 * TCP states, ordered as in 4.4BSD so that range checks hold:
 *   state >= SP_TCP_SYN_RECEIVED  : a SYN has been received (synchronized)
 *   state >= SP_TCP_ESTABLISHED   : the handshake completed at some point
 *   state >  SP_TCP_CLOSE_WAIT    : we have sent (or queued) our FIN
 * CLOSE_WAIT, CLOSING, LAST_ACK and TIME_WAIT have received the peer's FIN.
 */
enum sp_tcp_state {
	SP_TCP_CLOSED = 0,
	SP_TCP_LISTEN,
	SP_TCP_SYN_SENT,
	SP_TCP_SYN_RECEIVED,
	SP_TCP_ESTABLISHED,
	SP_TCP_CLOSE_WAIT,
	SP_TCP_FIN_WAIT_1,
	SP_TCP_CLOSING,
	SP_TCP_LAST_ACK,
	SP_TCP_FIN_WAIT_2,
	SP_TCP_TIME_WAIT,
	SP_TCP_NSTATES
};

/* Why a connection ended, as the application sees it. */
enum sp_close_reason {
	SP_CLOSE_NORMAL = 0,      /* both FINs exchanged and acknowledged */
	SP_CLOSE_REFUSED,         /* RST in answer to our SYN */
	SP_CLOSE_CONNECT_TIMEOUT, /* SYN retries or connect timeout exhausted */
	SP_CLOSE_RESET,           /* RST on a synchronized connection */
	SP_CLOSE_TIMEOUT,         /* data retransmissions exhausted */
	SP_CLOSE_ABORTED,         /* sp_tcp_abort() by the application */
	SP_CLOSE_NREASONS
};

/* Why a received frame was dropped; every drop is counted by reason. */
enum sp_drop_reason {
	SP_DROP_ETH_SHORT = 0, /* shorter than an Ethernet header */
	SP_DROP_ETH_TYPE,      /* neither IPv4 nor ARP */
	SP_DROP_ETH_DST,       /* unicast to another MAC */
	SP_DROP_ARP_BAD,       /* truncated or not Ethernet/IPv4 ARP */
	SP_DROP_ARP_OTHER,     /* ARP for an address that is not ours */
	SP_DROP_IP_HDR,        /* bad version, header length or total length */
	SP_DROP_IP_CSUM,       /* IPv4 header checksum */
	SP_DROP_IP_FRAG,       /* fragments are not reassembled */
	SP_DROP_IP_DST,        /* not addressed to us */
	SP_DROP_IP_PROTO,      /* neither TCP nor ICMP */
	SP_DROP_ICMP_BAD,      /* short, bad checksum, or not an echo request */
	SP_DROP_TCP_HDR,       /* truncated header or bad data offset */
	SP_DROP_TCP_CSUM,      /* TCP checksum */
	SP_DROP_TCP_OPT,       /* malformed options */
	SP_DROP_TCP_FLAGS,     /* SYN+RST, SYN+FIN, or no flag at all */
	SP_DROP_TCP_NOCONN,    /* no connection or listener (RST answered) */
	SP_DROP_TCP_SEQ,       /* sequence number outside the receive window */
	SP_DROP_TCP_ACK,       /* acknowledgment outside the acceptable range */
	SP_DROP_TCP_RST,       /* RST that failed the RFC 5961 checks */
	SP_DROP_TCP_SYN,       /* SYN when synchronized (challenge ACK) */
	SP_DROP_TCP_OOO_FULL,  /* out-of-order segment, no room to keep it */
	SP_DROP_TCP_NOMEM,     /* SYN to a listener with the pool exhausted */
	SP_DROP_NREASONS
};

/*
 * A dropped frame as a failure code, and back: negative like every failure
 * in the libraries (0 or a negative errno, or a negative code with a name
 * table). Not plainly -reason because the enum starts at 0: it indexes
 * sp_stack_stats.drop[].
 */
#define SP_DROP_ERR(r) (-1 - (int)(r))
#define SP_DROP_OF(err) ((enum sp_drop_reason)(-1 - (err)))

/*
 * Counters: one writer, the stack's own lcore, through sp_ctr_* (the rule of
 * lib/metrics' sp_counter.h); a reader on another lcore loads each with
 * sp_ctr_read and may see it a poll late, never torn. So do
 * sp_stack_conns_in_use and sp_stack_chunks_in_use.
 */
struct sp_stack_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_nobuf; /* tx_alloc returned NULL: frame not sent */
	uint64_t tx_noarp; /* next hop unresolved: frame not sent */
	uint64_t drop[SP_DROP_NREASONS];
	uint64_t arp_rx_request, arp_rx_reply, arp_tx_request, arp_tx_reply;
	uint64_t arp_from_syn; /* next hops learnt from a SYN's frame */
	uint64_t icmp_echo;    /* echo requests answered */
	uint64_t tcp_rx_segs, tcp_tx_segs;
	uint64_t tcp_rx_bytes, tcp_tx_bytes; /* payload, first transmissions */
	uint64_t tcp_retrans_segs;           /* every retransmitted segment */
	uint64_t tcp_retrans_bytes;
	uint64_t tcp_fast_retrans; /* entries into fast retransmit */
	uint64_t tcp_rto;          /* retransmission timeouts fired */
	uint64_t tcp_syn_retrans;
	uint64_t tcp_dup_acks;
	uint64_t tcp_ooo_segs; /* kept in the out-of-order queue */
	/* D-SACK blocks sent (RFC 2883): duplicates the peer sent */
	uint64_t tcp_dsack;
	uint64_t tcp_zwnd_probes; /* persist (zero window) probes */
	uint64_t tcp_rst_rx, tcp_rst_tx;
	uint64_t tcp_challenge_acks; /* RFC 5961 */
	uint64_t tcp_delayed_acks;   /* ACKs sent by the delayed-ACK timer */
	uint64_t tcp_snd_nochunk;    /* sp_tcp_send short: chunk pool dry */
	uint64_t tcp_wnd_shrunk;     /* peer's right edge moved back */
	/* sp_tcp_close_after_peer: the peer's FIN came and ours answered it
	 * (linger_fin), or it did not and we closed first (linger_timeout) */
	uint64_t tcp_linger_fin, tcp_linger_timeout;
	uint64_t conn_active;  /* sp_tcp_connect calls that sent a SYN */
	uint64_t conn_passive; /* SYNs accepted from a listener */
	uint64_t conn_established;
	uint64_t conn_closed[SP_CLOSE_NREASONS];
	uint64_t conns_peak; /* most connections in use at once */
	/* Checksums by who made or checked them: we (sw), or the NIC (nic:
	 * offloaded on transmit, its verdict taken on receive, good or bad;
	 * the bad ones are in drop[] too). IPv4 headers of every frame, TCP
	 * of every segment. */
	uint64_t cksum_tx_ip_sw, cksum_tx_ip_nic;
	uint64_t cksum_tx_tcp_sw, cksum_tx_tcp_nic;
	uint64_t cksum_rx_ip_sw, cksum_rx_ip_nic;
	uint64_t cksum_rx_tcp_sw, cksum_rx_tcp_nic;
};

/* Every counter of sp_stack_stats, in order: X(f) one uint64_t, A(f, n) an
 * array of n (what a report adds up across cores). A counter added to the
 * struct and not here fails the assertion below. */
// clang-format off
#define SP_STACK_STATS_COUNTERS(X, A)                                   \
	X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(tx_nobuf)   \
	X(tx_noarp) A(drop, SP_DROP_NREASONS) X(arp_rx_request)         \
	X(arp_rx_reply) X(arp_tx_request) X(arp_tx_reply)               \
	X(arp_from_syn) X(icmp_echo) X(tcp_rx_segs) X(tcp_tx_segs)      \
	X(tcp_rx_bytes) X(tcp_tx_bytes) X(tcp_retrans_segs)             \
	X(tcp_retrans_bytes) X(tcp_fast_retrans) X(tcp_rto)             \
	X(tcp_syn_retrans) X(tcp_dup_acks) X(tcp_ooo_segs) X(tcp_dsack) \
	X(tcp_zwnd_probes) X(tcp_rst_rx) X(tcp_rst_tx)                  \
	X(tcp_challenge_acks) X(tcp_delayed_acks) X(tcp_snd_nochunk)    \
	X(tcp_wnd_shrunk) X(tcp_linger_fin) X(tcp_linger_timeout)       \
	X(conn_active) X(conn_passive) X(conn_established)              \
	A(conn_closed, SP_CLOSE_NREASONS) X(conns_peak)                 \
	X(cksum_tx_ip_sw) X(cksum_tx_ip_nic) X(cksum_tx_tcp_sw)         \
	X(cksum_tx_tcp_nic) X(cksum_rx_ip_sw) X(cksum_rx_ip_nic)        \
	X(cksum_rx_tcp_sw) X(cksum_rx_tcp_nic)
// clang-format on

#define SP_STACK_COUNT1_(f) +1
#define SP_STACK_COUNTN_(f, n) +(n)
_Static_assert((0 SP_STACK_STATS_COUNTERS(SP_STACK_COUNT1_, SP_STACK_COUNTN_)) *
			       sizeof(uint64_t) ==
		       sizeof(struct sp_stack_stats),
	       "SP_STACK_STATS_COUNTERS must list every counter of "
	       "sp_stack_stats");

/* Transmit buffer: return a buffer of at least SP_FRAME_MAX bytes and an opaque
 * handle for it, or NULL when none is available (counted, frame dropped). */
typedef uint8_t *(*sp_tx_alloc_fn)(void *io_ctx, void **handle);
/*
 * Transmit: the frame in the buffer of @handle is complete, @len bytes long.
 * @ol_flags: 0, or the mbuf flags (RTE_MBUF_F_TX_*) of the checksums the
 * stack left to the NIC (sp_stack_config.offload): RTE_MBUF_F_TX_IPV4 with
 * RTE_MBUF_F_TX_IP_CKSUM (the header's checksum field is 0) and/or
 * RTE_MBUF_F_TX_TCP_CKSUM (the TCP checksum field holds the pseudo-header's
 * sum, as rte_ipv4_phdr_cksum makes it). Such a frame has a 14-byte
 * Ethernet header and a 20-byte IPv4 header (the mbuf's l2_len, l3_len).
 */
typedef void (*sp_tx_send_fn)(void *io_ctx, void *handle, uint32_t len,
			      uint64_t ol_flags);

/* Checksums the port computes on transmit (sp_stack_config.offload). */
#define SP_OFFLOAD_TX_IPV4_CKSUM (1u << 0)
#define SP_OFFLOAD_TX_TCP_CKSUM (1u << 1)

/* Application callbacks. Each may call sp_tcp_send/close/abort on @c (and
 * sp_tcp_connect for other connections), except where noted. */
typedef void (*sp_conn_fn)(struct sp_stack *st, struct sp_conn *c, void *app);
typedef void (*sp_recv_fn)(struct sp_stack *st, struct sp_conn *c, void *app,
			   const uint8_t *data, uint32_t len);
typedef void (*sp_closed_fn)(struct sp_stack *st, struct sp_conn *c, void *app,
			     enum sp_close_reason why);

struct sp_tcp_ops {
	sp_conn_fn connected; /* handshake done, or accepted (passive) */
	sp_recv_fn recv;      /* in-order payload; consumed in full on return */
	/* Send space freed: data acknowledged, or chunks free again after
	 * sp_tcp_send found the shared pool dry. */
	sp_conn_fn sent;
	sp_conn_fn peer_fin; /* the peer closed its sending side */
	/* Last call for @c: after it returns @c is gone for the application
	 * (it may linger in TIME_WAIT inside the stack). No calls on @c
	 * here. */
	sp_closed_fn closed;
};

struct sp_stack_config {
	uint8_t mac[6];
	uint32_t ip; /* our (first) address */
	/* Our addresses are ip .. ip + ip_count - 1 (0 counts as 1): each
	 * answers ARP, ping and TCP; active opens take (address, port)
	 * pairs, so more addresses hold more connections to one
	 * destination than 64k ports could. */
	uint32_t ip_count;
	uint8_t prefix_len; /* on-link prefix, e.g. 24; others go to gateway */
	uint32_t gateway;   /* 0: every destination is on-link */

	uint32_t max_conns; /* connection pool (active + passive + TIME_WAIT) */
	uint32_t chunks;    /* 2 KiB chunks: send and out-of-order queues */
	uint32_t sndbuf;    /* max bytes queued for sending per connection */
	uint32_t rcvwnd;    /* receive window we advertise (bytes) */
	uint16_t mss;       /* our MSS; 0 = 1460 */
	uint16_t port_min, port_max; /* ephemeral ports for active opens */
	/* Optional: only these (address, port) pairs for active opens, each
	 * encoded as address index * (port_max - port_min + 1) + (port -
	 * port_min); e.g. those whose replies a NIC's RSS sends to this
	 * stack's queue (sp_rss_pairs). NULL: every pair of the ranges. The
	 * array is copied. */
	const uint32_t *pairs;
	uint32_t npairs;
	/* Out-of-order segments kept per connection; 0 = enough to cover
	 * the receive window. */
	uint16_t ooo_max;

	uint32_t rto_init_us, rto_min_us, rto_max_us;
	uint32_t syn_retries;        /* SYN retransmissions before giving up */
	uint32_t data_retries;       /* data retransmissions before giving up */
	uint32_t connect_timeout_us; /* 0 = bounded by syn_retries only */
	uint32_t time_wait_us;       /* TIME_WAIT duration (2*MSL) */
	uint32_t fin_wait2_us;       /* orphaned FIN_WAIT_2 timeout */
	uint32_t linger_us;          /* sp_tcp_close_after_peer's wait */
	uint32_t delack_us;          /* delayed-ACK timeout */
	uint32_t arp_timeout_us;     /* ARP cache entry lifetime */
	/* RFC 6528 F() key. Keep it the same from run to run: with the 4 µs
	 * clock, a 4-tuple reused by the next run then gets a later ISN, which
	 * a peer still holding the old connection in TIME_WAIT accepts
	 * (Linux: tcp_timewait_state_process). A new key per run made half
	 * of such SYNs draw an old ACK, a RST and a 1 s SYN retransmission. */
	uint32_t isn_secret;
	/* SP_OFFLOAD_*: what the NIC computes for us; 0 (an af_packet port):
	 * every checksum in software. Receive needs no setting: each frame
	 * brings the NIC's verdict, if any (sp_stack_input_ol). */
	uint32_t offload;

	sp_tx_alloc_fn tx_alloc;
	sp_tx_send_fn tx_send;
	void *io_ctx;
};

/* Fill @cfg with defaults (pools for @max_conns); the caller sets mac, ip,
 * gateway and the I/O callbacks. */
void sp_stack_config_defaults(struct sp_stack_config *cfg, uint32_t max_conns);

/* Allocate everything. NULL with *err set (-EINVAL, -ENOMEM) on failure. */
struct sp_stack *sp_stack_create(const struct sp_stack_config *cfg,
				 const struct sp_tcp_ops *ops, void *app,
				 int *err);
void sp_stack_destroy(struct sp_stack *st);

/* Process one received Ethernet frame at time @now_us (monotonic, µs).
 * The stack copies what it keeps; the frame may be freed on return.
 * Returns 0 if consumed, or SP_DROP_ERR(reason) if dropped (the first
 * reason when a frame's processing drops for several). */
int sp_stack_input(struct sp_stack *st, const uint8_t *frame, uint32_t len,
		   uint64_t now_us);
/* The same with the frame's receive flags from its mbuf (m->ol_flags):
 * where RTE_MBUF_F_RX_IP_CKSUM_* and RTE_MBUF_F_RX_L4_CKSUM_* hold the
 * NIC's verdict (GOOD, BAD, or NONE: the field is not filled in but the
 * data is intact, e.g. virtio's partial checksums) the stack takes it and
 * skips its own check; UNKNOWN (0): checked in software. sp_stack_input
 * is this with 0. */
int sp_stack_input_ol(struct sp_stack *st, const uint8_t *frame, uint32_t len,
		      uint64_t now_us, uint64_t ol_flags);

/* An ARP frame another stack on the same port received (and counted, and
 * answered if a request): learn its sender as sp_stack_input would (RFC
 * 826 merge), but answer nothing and count nothing. Anything else is
 * ignored. With several queues an ARP frame lands on one of them, and
 * every stack that will send to that peer needs its address. */
void sp_stack_arp_learn(struct sp_stack *st, const uint8_t *frame, uint32_t len,
			uint64_t now_us);

/* Run expired timers (retransmission, delayed ACK, persist, TIME_WAIT,
 * ARP refresh) at @now_us. Cheap when nothing is due. */
void sp_stack_poll(struct sp_stack *st, uint64_t now_us);

/* Next-hop resolution. sp_arp_lookup: whether @ip's MAC is known (and then
 * the MAC). sp_arp_request sends a who-has for @ip (rate-limited per
 * entry). */
bool sp_arp_lookup(struct sp_stack *st, uint32_t ip, uint8_t mac[6]);
void sp_arp_request(struct sp_stack *st, uint32_t ip);

/* Passive open on @port (any number of listeners up to 16). */
int sp_tcp_listen(struct sp_stack *st, uint16_t port);

/* Active open from our address and an ephemeral port. Returns the connection
 * (SYN sent) or NULL with *err: -ENOBUFS (pool), -EADDRNOTAVAIL (ports). */
struct sp_conn *sp_tcp_connect(struct sp_stack *st, uint32_t dst_ip,
			       uint16_t dst_port, void *user, int *err);

/* Queue up to @len bytes; returns the number queued (0 when the send buffer
 * is full) or -ENOTCONN / -EPIPE. Data leaves as the windows allow. */
int32_t sp_tcp_send(struct sp_stack *st, struct sp_conn *c, const void *data,
		    uint32_t len);
/* Bytes sp_tcp_send would accept now (0 unless ESTABLISHED/CLOSE_WAIT). */
uint32_t sp_tcp_send_space(const struct sp_stack *st, const struct sp_conn *c);
/*
 * sp_tcp_send without its copy: the application writes straight into the
 * send queue, and those bytes are the ones the frames are built from.
 * sp_tcp_send_buf sets *@buf to room for the bytes it returns (contiguous:
 * what the send buffer and the queue's last chunk hold, at least one byte),
 * or returns 0 when nothing fits (send buffer full, or the chunk pool dry:
 * counted and woken as for sp_tcp_send), or -ENOTCONN / -EPIPE. Nothing is
 * queued until sp_tcp_send_commit(@n), @n at most the room given (0 is
 * fine); commit before any other call on @c. @more says that the
 * application writes again at once (the room ended before its data): the
 * bytes then wait for the next commit, or for the sp_tcp_send_buf that
 * finds no room, instead of leaving in a short segment at each chunk's
 * end.
 */
int32_t sp_tcp_send_buf(struct sp_stack *st, struct sp_conn *c, uint8_t **buf);
void sp_tcp_send_commit(struct sp_stack *st, struct sp_conn *c, uint32_t n,
			bool more);
/*
 * sp_tcp_send of bytes that are not copied at all until a frame is built
 * from them: the queue refers to @data, which must stay unchanged and in
 * place until the connection is released (a prebuilt request, a fixed
 * response). It takes the bytes as sp_tcp_send would (up to what the send
 * buffer holds, and 65,535 a call), using one chunk of the pool for each
 * call; the same returns.
 */
int32_t sp_tcp_send_ref(struct sp_stack *st, struct sp_conn *c,
			const void *data, uint32_t len);

/* Graceful close: FIN after the queued data. */
int sp_tcp_close(struct sp_stack *st, struct sp_conn *c);
/*
 * Graceful close when the peer is about to close too (an HTTP response that
 * ends with Connection: close): wait up to cfg.linger_us for its FIN and
 * answer with ours, so that the peer, not we, holds the TIME_WAIT and the
 * (address, port) pair is free at once; past the wait, sp_tcp_close. With
 * data still unacknowledged, sp_tcp_close at once. Either way, no callback
 * but closed() follows, and data that still arrives is discarded.
 */
int sp_tcp_close_after_peer(struct sp_stack *st, struct sp_conn *c);
/* Abortive close: RST now; closed() is called with SP_CLOSE_ABORTED. */
void sp_tcp_abort(struct sp_stack *st, struct sp_conn *c);

void *sp_conn_user(const struct sp_conn *c);
void sp_conn_set_user(struct sp_conn *c, void *user);
enum sp_tcp_state sp_conn_state(const struct sp_conn *c);
uint16_t sp_conn_local_port(const struct sp_conn *c);
uint16_t sp_conn_remote_port(const struct sp_conn *c);
uint32_t sp_conn_remote_ip(const struct sp_conn *c);

const struct sp_stack_stats *sp_stack_stats(const struct sp_stack *st);
uint32_t sp_stack_conns_in_use(const struct sp_stack *st);
/* The run is over: release every connection in TIME_WAIT now, as its
 * timer's end would (closed() ran when it entered). What they waited
 * for, a peer's FIN sent again because our last ACK was lost, would find
 * nobody after the process anyway. Returns how many it released. Not
 * from within a callback. */
uint32_t sp_stack_end_time_wait(struct sp_stack *st);
uint32_t sp_stack_chunks_in_use(const struct sp_stack *st);
/* Bytes of stack memory per connection slot (control block + hash share). */
size_t sp_stack_bytes_per_conn(const struct sp_stack *st);
/* Total bytes the stack allocated at creation. */
size_t sp_stack_mem_bytes(const struct sp_stack *st);

/*
 * RSS placement. The Toeplitz hash a NIC computes over a received IPv4/TCP
 * segment (source address and port: the server's; destination: ours),
 * with a @key of 40 bytes, in host byte order throughout.
 */
uint32_t sp_rss_hash_v4(const uint8_t *key, uint32_t src_ip, uint32_t dst_ip,
			uint16_t sport, uint16_t dport);
/* For every (address, port) pair of our ranges, the queue its replies
 * from @srv_ip:@srv_port land on, given the redirection table @reta of
 * @reta_size entries (at least 1; queues below 255): @owner[pair] in
 * sp_stack_config.pairs' encoding (room for every pair). One hash per
 * pair, whatever the number of queues. */
void sp_rss_owners(const uint8_t *key, const uint16_t *reta, uint32_t reta_size,
		   uint32_t ip, uint32_t ip_count, uint16_t port_min,
		   uint16_t port_max, uint32_t srv_ip, uint16_t srv_port,
		   uint8_t *owner);
/* The pairs @owner gives to @queue, written to @out (room for every
 * pair), addresses fastest as the stack takes pairs without a list.
 * Returns how many. */
uint32_t sp_rss_pairs(const uint8_t *owner, uint32_t ip_count, uint32_t nports,
		      uint16_t queue, uint32_t *out);
/* On the receive path: the queue @owner (from sp_rss_owners over
 * @ip_count addresses from @ip and the ports from @port_min, @nports of
 * them) gives our address @dst_ip and port @dst_port, both host order;
 * -ENOENT when that is none of our pairs. */
static inline int
sp_rss_owner_of(const uint8_t *owner, uint32_t ip, uint32_t ip_count,
		uint16_t port_min, uint32_t nports, uint32_t dst_ip,
		uint16_t dst_port)
{
	uint32_t a = dst_ip - ip, p = (uint32_t)dst_port - port_min;

	if (a >= (ip_count ? ip_count : 1) || dst_port < port_min ||
	    p >= nports)
		return -ENOENT;
	return owner[a * nports + p];
}

const char *sp_tcp_state_name(enum sp_tcp_state s);
const char *sp_close_reason_name(enum sp_close_reason r);
const char *sp_drop_reason_name(enum sp_drop_reason r);

#endif /* SP_TCPSTACK_H */
