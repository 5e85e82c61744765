/*
 * Test harness for the userspace TCP stack: assertions, a fake clock, a wire
 * between two stacks with per-direction fault hooks, a crafted-segment
 * builder and a parser for what a stack emits, a small application that
 * sends and verifies a deterministic byte pattern, and a structural
 * invariant checker that looks inside the stack (stack_int.h).
 *
 * Nothing here sleeps: time moves only through sp_h_advance()/sp_h_run().
 * Nothing here allocates after sp_h_net_init(): frame buffers, queues and
 * connection records are preallocated, so the allocation counter measures the
 * stack alone.
 */
#ifndef SP_TEST_HARNESS_H
#define SP_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_tcpstack.h"

/* ---- assertions ------------------------------------------------------- */

extern unsigned long sp_h_failures; /* failed checks, whole run */
extern unsigned long sp_h_checks;   /* checks evaluated, whole run */

void sp_h_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                            \
	do {                                                                   \
		sp_h_checks++;                                                 \
		if (!(cond))                                                   \
			sp_h_fail(__FILE__, __LINE__, "%s", #cond);            \
	} while (0)

#define SP_H_CMP(a, op, b)                                                     \
	do {                                                                   \
		unsigned long long a_ = (unsigned long long)(a);               \
		unsigned long long b_ = (unsigned long long)(b);               \
		sp_h_checks++;                                                 \
		if (!(a_ op b_))                                               \
			sp_h_fail(__FILE__, __LINE__,                          \
				  "%s %s %s (%llu %s %llu, 0x%llx %s 0x%llx)", \
				  #a, #op, #b, a_, #op, b_, a_, #op, b_);      \
	} while (0)

/* Unsigned comparisons (values are widened to unsigned long long). */
#define CHECK_EQ(a, b) SP_H_CMP(a, ==, b)
#define CHECK_NE(a, b) SP_H_CMP(a, !=, b)
#define CHECK_LT(a, b) SP_H_CMP(a, <, b)
#define CHECK_LE(a, b) SP_H_CMP(a, <=, b)
#define CHECK_GT(a, b) SP_H_CMP(a, >, b)
#define CHECK_GE(a, b) SP_H_CMP(a, >=, b)

struct sp_h_test {
	const char *name;
	void (*fn)(void);
};

/* Run every test (or those whose name contains argv[1]); print one line per
 * test; return the process exit status (non-zero if any check failed). */
int sp_h_main(int argc, char **argv, const struct sp_h_test *tests, size_t n);

/* ---- allocation counter ----------------------------------------------- */

/* Calls to malloc/calloc/realloc/free counted while sp_h_alloc_counting is
 * set. Only meaningful when the binary is linked with --wrap (then
 * sp_h_alloc_wrapped is true); sanitizer builds are not. */
extern bool sp_h_alloc_wrapped;
extern bool sp_h_alloc_counting;
extern unsigned long sp_h_allocs;

/* ---- addresses -------------------------------------------------------- */

#define SP_H_CLIENT 0
#define SP_H_SERVER 1
#define SP_H_IP_CLIENT 0xc6120001u /* 198.18.0.1 */
#define SP_H_IP_SERVER 0xc6120002u /* 198.18.0.2 */
#define SP_H_IP_OTHER 0xc6120063u  /* 198.18.0.99: on-link, nobody */
extern const uint8_t sp_h_mac[2][6];
extern const uint8_t sp_h_mac_other[6];
extern const uint8_t sp_h_mac_bcast[6];

/* ---- parsed frames ---------------------------------------------------- */

struct sp_h_pkt {
	uint32_t len;
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;

	uint16_t arp_op;
	uint8_t arp_sha[6], arp_tha[6];
	uint32_t arp_sip, arp_tip;

	bool ip;
	bool ip_csum_ok;
	uint8_t proto, ttl;
	uint16_t ip_tot, ip_frag;
	uint32_t sip, dip;

	bool l4_csum_ok;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq;

	bool tcp;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;   /* 0: no MSS option */
	int wscale;     /* -1: no window scale option */
	bool sack_ok;   /* SACK-permitted option */
	uint32_t nsack; /* SACK blocks (RFC 2018), up to 4 */
	uint32_t sack[4][2];
	uint32_t plen; /* TCP or ICMP-echo payload length */
	uint8_t payload[SP_FRAME_MAX];
};

/* Parse @f; returns false if it is not even an Ethernet frame. */
bool sp_h_parse(const uint8_t *f, uint32_t len, struct sp_h_pkt *p);

/* TCP flag bits, for brevity in tests. */
enum {
	TH_FIN = 0x01,
	TH_SYN = 0x02,
	TH_RST = 0x04,
	TH_PSH = 0x08,
	TH_ACK = 0x10,
	TH_URG = 0x20,
};

/* ---- crafted frames --------------------------------------------------- */

struct sp_h_seg {
	const uint8_t *smac, *dmac;
	uint32_t sip, dip;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt; /* raw TCP options, padded to 4 by the builder */
	uint32_t optlen;
	const void *data;
	uint32_t len;
	bool bad_ip_csum, bad_tcp_csum;
};

/* Build Ethernet/IPv4/TCP into @f (room for the frame); returns its length. */
uint32_t sp_h_build_tcp(uint8_t *f, const struct sp_h_seg *s);
uint32_t sp_h_build_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op,
			const uint8_t *sha, uint32_t sip, const uint8_t *tha,
			uint32_t tip);
uint32_t sp_h_build_icmp(uint8_t *f, const uint8_t *smac, const uint8_t *dmac,
			 uint32_t sip, uint32_t dip, uint8_t type, uint16_t id,
			 uint16_t seq, const void *data, uint32_t len);
/* Recompute the IPv4 header checksum and the TCP/ICMP checksum in place
 * after a test edited a field. */
void sp_h_fix_ip_csum(uint8_t *f);
void sp_h_fix_l4_csum(uint8_t *f);
uint16_t sp_h_csum(const void *p, uint32_t len, uint32_t sum);

/* ---- deterministic byte streams --------------------------------------- */

uint8_t sp_h_pat(uint32_t seed, uint64_t off);
void sp_h_pat_fill(uint32_t seed, uint64_t off, uint8_t *dst, uint32_t n);
/* Seed of a connection's stream, keyed by the client's port: @to_server is
 * the client-to-server direction. */
uint32_t sp_h_seed(uint16_t client_port, bool to_server);

/* Small deterministic PRNG (xorshift64*). */
uint64_t sp_h_rand(uint64_t *state);

/* ---- the application -------------------------------------------------- */

#define SP_H_RXLOG 4096u

/* One connection as the test application sees it. */
struct sp_h_conn {
	struct sp_conn *c; /* NULL once closed() ran */
	struct sp_h_node *node;
	bool passive;
	bool connected, closed, peer_fin, close_called;
	enum sp_close_reason why;
	uint16_t client_port;
	uint32_t seed_tx, seed_rx;
	uint64_t tx_total; /* bytes the app will send */
	uint64_t tx_done;  /* bytes accepted by sp_tcp_send */
	uint32_t split;    /* bytes per sp_tcp_send call; 0 = as many as fit */
	/* send through sp_tcp_send_buf and commit (@split bytes per commit at
	 * most), not sp_tcp_send */
	bool zc;
	bool close_after_send; /* close once tx_total is queued */
	bool close_on_fin; /* close once tx_total is queued and peer FIN seen */
	bool send_on_recv; /* send (sp_h_send_more) from the recv callback */
	uint64_t rx_bytes;
	uint64_t rx_bad; /* bytes that differ from the expected pattern */
	uint32_t rx_calls;
	uint32_t sent_calls;
	uint8_t rx_log[SP_H_RXLOG]; /* first bytes received */
};

/* ---- the wire --------------------------------------------------------- */

/* Hook verdicts, applied when a frame is about to be delivered. */
enum { SP_H_PASS = 0, SP_H_DROP, SP_H_DUP, SP_H_DELAY };

struct sp_h_net;
/* Called once per frame and direction (0: client to server); may edit the
 * frame in place (corrupt) and its length. A delayed or duplicated copy is
 * delivered later without calling the hook again. */
typedef int (*sp_h_hook_fn)(struct sp_h_net *n, int dir, uint8_t *frame,
			    uint32_t *len, void *arg);

#define SP_H_QCAP 16384u
#define SP_H_CAP 512u

struct sp_h_node {
	struct sp_h_net *net;
	int id;
	struct sp_stack *st;
	struct sp_stack_config cfg;

	uint32_t q[SP_H_QCAP]; /* emitted frames (buffer indices), FIFO */
	uint32_t qhead, qlen;
	uint64_t emitted;

	sp_h_hook_fn hook;
	void *hook_arg;
	uint32_t fail_alloc; /* the next N tx_alloc calls return NULL */

	/* A port with checksum offload (set before sp_h_net_start): the
	 * stack leaves every IPv4 and TCP checksum to it on transmit, and
	 * the wire acts as the NIC (checks that a frame asks for it with
	 * the right flags and the pseudo-header's sum in place, then fills
	 * the checksums in); frames delivered to the node carry the NIC's
	 * verdicts (RTE_MBUF_F_RX_*_CKSUM_GOOD or _BAD) in their flags. */
	bool nic_csum;
	uint64_t tx_offloaded; /* frames that came with offload flags */
	/* Receive flags (RTE_MBUF_F_RX_*) of the frames sp_h_inject feeds
	 * this node; 0: none, the stack checks every checksum. */
	uint64_t rx_ol;

	/* every emitted frame, parsed (when capture is on) */
	bool capture;
	uint32_t ncap;
	struct sp_h_pkt cap[SP_H_CAP];

	/* Application of this node's stack: the harness's own when NULL (set
	 * before sp_h_net_start). */
	const struct sp_tcp_ops *ops;
	void *app;
	/* template for accepted connections */
	uint64_t acc_tx_total;
	uint32_t acc_split;
	bool acc_close_after_send, acc_close_on_fin;

	uint32_t n_connected, n_closed, n_peer_fin;
	uint32_t n_closed_why[SP_CLOSE_NREASONS];
	struct sp_h_conn *last_accepted;
};

struct sp_h_net {
	uint64_t now;
	int nnodes;
	struct sp_h_node node[2];
	uint64_t delivered, hook_dropped;
	bool check_invariants; /* sp_h_invariants on both stacks after pumps */
	/* One-stack nets: while the clock advances, answer the stack's ARP
	 * requests for the peer (refreshes), so long tests keep resolving. */
	bool auto_arp;
	/* How long sp_h_net_finish lets timers run before it checks; 0: the
	 * longest TIME_WAIT plus 1 s. A caller that already waited for every
	 * connection to close (the fuzz targets) saves the idle second. */
	uint64_t finish_us;
};

/* Make the configuration a test can then adjust before sp_h_net_start. */
void sp_h_net_init(struct sp_h_net *n, int nnodes, uint32_t max_conns);
/* Create the stacks from node[i].cfg; the clock starts at @t0_us. */
void sp_h_net_start(struct sp_h_net *n, uint64_t t0_us);
/* Let TIME_WAIT and every timer run out, then check that both stacks hold
 * no connection and no chunk, that every frame buffer came back, and
 * destroy the stacks. Every test ends with this. */
void sp_h_net_finish(struct sp_h_net *n);

/* Teach node @i the other node's MAC (both directions for a two-node net)
 * by ARP, so that the first SYN is not lost to resolution. */
void sp_h_resolve(struct sp_h_net *n);

/* Deliver queued frames in both directions until the wire is quiet. */
uint64_t sp_h_pump(struct sp_h_net *n);
/* Move the clock by @us, polling every stack each millisecond (and pumping
 * between polls on a two-node net). */
void sp_h_advance(struct sp_h_net *n, uint64_t us);
/* Pump and advance in 1 ms steps until @done(arg) or @max_us elapsed.
 * Returns whether @done became true. */
bool sp_h_run(struct sp_h_net *n, bool (*done)(struct sp_h_net *, void *),
	      void *arg, uint64_t max_us);

/* Single-stack use: take the next frame a stack emitted (parsed). */
bool sp_h_pop(struct sp_h_node *nd, struct sp_h_pkt *p);
/* Number of frames waiting in a node's queue. */
uint32_t sp_h_pending(const struct sp_h_node *nd);
/* Drop every queued frame of a node. */
void sp_h_flush(struct sp_h_node *nd);
/* Feed one frame to a node's stack at the current time. */
int sp_h_inject(struct sp_h_node *nd, const uint8_t *f, uint32_t len);
/* Inject and check that exactly one drop counter, @reason, moved by one,
 * the return value says so, and nothing was emitted in answer. */
void sp_h_expect_drop_at(const char *file, int line, struct sp_h_node *nd,
			 const uint8_t *f, uint32_t len,
			 enum sp_drop_reason reason, bool answered);
#define sp_h_expect_drop(nd, f, len, reason)                                   \
	sp_h_expect_drop_at(__FILE__, __LINE__, nd, f, len, reason, false)
/* Same, for drops that are answered (RST, ACK): the answer stays queued. */
#define sp_h_expect_drop_answered(nd, f, len, reason)                          \
	sp_h_expect_drop_at(__FILE__, __LINE__, nd, f, len, reason, true)

/* Pop the next emitted frame and check it is a TCP segment with @flags
 * exactly, and @seq, @ack, @plen unless SP_H_ANY. The frame is left in
 * *@out (may be NULL). */
#define SP_H_ANY 0xffffffffu
bool sp_h_expect_seg_at(const char *file, int line, struct sp_h_node *nd,
			uint8_t flags, uint32_t seq, uint32_t ack,
			uint32_t plen, struct sp_h_pkt *out);
#define EXPECT_SEG(nd, flags, seq, ack, plen)                                  \
	sp_h_expect_seg_at(__FILE__, __LINE__, nd, flags, seq, ack, plen, NULL)
#define EXPECT_SEG_P(nd, flags, seq, ack, plen, out)                           \
	sp_h_expect_seg_at(__FILE__, __LINE__, nd, flags, seq, ack, plen, out)
/* Check that the node emitted nothing (and report what it did emit). */
void sp_h_expect_none_at(const char *file, int line, struct sp_h_node *nd);
#define EXPECT_NONE(nd) sp_h_expect_none_at(__FILE__, __LINE__, nd)

/* Active open through the app layer; the record follows the connection. */
struct sp_h_conn *sp_h_connect(struct sp_h_node *nd, uint32_t dst_ip,
			       uint16_t dst_port, uint64_t tx_total);
/* Queue more of the pattern (called by the app on connected/sent). */
void sp_h_send_more(struct sp_h_conn *r);
/* sp_h_run condition: every connection record has seen closed(). */
bool sp_h_all_closed(struct sp_h_net *n, void *arg);
/* All records in use (for sweeping many connections). */
struct sp_h_conn *sp_h_conn_at(uint32_t i);
uint32_t sp_h_conn_count(void);

/* Structural checks inside a stack: pool accounting, hash membership,
 * sequence-space order, queue lengths, and "something in flight always has a
 * timer". Returns the number of violations (each reported). */
unsigned sp_h_invariants_at(const char *file, int line, struct sp_stack *st);
#define sp_h_invariants(st) sp_h_invariants_at(__FILE__, __LINE__, st)

/* ---- a crafted peer talking to one stack ------------------------------ */

struct sp_h_peer {
	struct sp_h_node *nd; /* the stack under test */
	const uint8_t *mac;
	uint32_t ip;
	uint16_t port;       /* the peer's port */
	uint16_t stack_port; /* the stack's port */
	uint32_t snd_nxt;    /* next sequence number the peer sends */
	uint32_t rcv_nxt;    /* what the peer acknowledges */
	uint16_t win;
	uint32_t data_seed;     /* pattern the peer sends */
	uint64_t data_off;      /* bytes of it sent so far */
	const uint8_t *syn_opt; /* options on the peer's SYN; NULL: MSS 1460 */
	uint32_t syn_optlen;
};

/* One stack (node 0 of @n, started at @t0_us, its config adjusted by @tweak
 * if not NULL) with @p as its crafted peer; returns the node. */
struct sp_h_node *sp_h_start_one(struct sp_h_net *n, struct sp_h_peer *p,
				 uint64_t t0_us,
				 void (*tweak)(struct sp_stack_config *));

/* A peer at the other address, talking to node 0's stack. */
void sp_h_peer_init(struct sp_h_peer *p, struct sp_h_node *nd);
/* Send a segment at (snd_nxt, rcv_nxt) and advance snd_nxt past it.
 * @data NULL with @len > 0 sends the next @len bytes of data_seed. */
int sp_h_peer_send(struct sp_h_peer *p, uint8_t flags, const void *data,
		   uint32_t len);
/* Send any segment; nothing is advanced. */
int sp_h_peer_seg(struct sp_h_peer *p, uint8_t flags, uint32_t seq,
		  uint32_t ack, uint16_t win, const void *data, uint32_t len);
/* Active open by the stack to the peer, answered by the peer with ISN
 * @peer_isn and window @win (MSS 1460, no window scale): ends ESTABLISHED
 * with the handshake's frames consumed. The record sends nothing until the
 * test sets tx_total and calls sp_h_send_more(). */
struct sp_h_conn *sp_h_peer_accept(struct sp_h_peer *p, uint32_t peer_isn,
				   uint16_t win);
/* Passive open: the peer connects to the stack's listener on @port. */
struct sp_h_conn *sp_h_peer_connect(struct sp_h_peer *p, uint16_t port,
				    uint32_t peer_isn, uint16_t win);

#endif /* SP_TEST_HARNESS_H */
