/*
 * The worker lcore: one poll loop that owns the port's queue pair and the
 * stack.
 *
 * Each iteration reads the clock, receives bursts (each timed as it comes
 * back) and feeds them to the stack, runs the stack's timers, lets the mode
 * open or close connections, and flushes the frames the stack built. The loop never allocates, locks,
 * makes a syscall or prints: what goes wrong is counted, and the control
 * lcore reads the counters.
 *
 * Phases: resolve the next hop by ARP (the load must not start into an
 * unresolved neighbour, where every SYN would be dropped as tx_noarp), run
 * the mode's setup if it has one (a failed setup skips the load), run the
 * mode until it is done or stopped, its teardown, then drain: keep the
 * stack alive until its TIME_WAIT connections expire, so that the report
 * shows the pools back to zero.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "sp_app.h"

#define SP_ARP_TIMEOUT_US (3 * SP_US_PER_S)
#define SP_ARP_RETRY_US (200 * 1000)
#define SP_RST_LINGER_US (200 * 1000) /* answer challenge ACKs after RSTs */
/* The end of a run: TIME_WAITs are kept this long, time for a peer's FIN
 * whose ACK we sent and it lost to come again (a first retransmission
 * after Linux's 200 ms minimum RTO), then released, checked again at the
 * same pace for connections still closing. They held every run a whole
 * TIME_WAIT (1 s) at its end. */
#define SP_TW_KEEP_US (250 * 1000)
#define SP_RING_SIZE 4096             /* frames in flight between two cores */

uint64_t sp_tsc_mult;

/* One (TSC, CLOCK_MONOTONIC_RAW ns) pair, the TSC read either side of the
 * clock: the tightest of a few, so that a preemption between the reads
 * cannot skew it. */
static void
sp_clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec ts;
		uint64_t t0 = rte_rdtsc(), t1;

		clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
		t1 = rte_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = (uint64_t)ts.tv_sec * 1000000000ull +
			      (uint64_t)ts.tv_nsec;
		}
	}
}

/*
 * The TSC's rate, measured against the kernel's raw monotonic clock over
 * SP_CLOCK_CAL_NS: within a few ppm. DPDK's own figure can be rounded to
 * 10 MHz where the CPU does not state it (AMD, most VMs): 2.100 GHz for a
 * 2.096 GHz TSC here, which made every latency 0.19 % short, against a
 * packet capture's timestamps. DPDK's figure stays the fallback if the
 * measurement is far from it (a clock that jumped).
 */
#define SP_CLOCK_CAL_NS (50 * 1000 * 1000)

void
sp_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz(), t0, n0, t1, n1;
	struct timespec d = { 0, SP_CLOCK_CAL_NS };
	double m;

	sp_clock_pair(&t0, &n0);
	nanosleep(&d, NULL);
	sp_clock_pair(&t1, &n1);
	m = (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
	if (n1 > n0 && m > (double)hz * 0.95 && m < (double)hz * 1.05)
		hz = (uint64_t)m;
	/* 2^32 µs-per-tick fixed point: exact to a few ppm, and the 128-bit
	 * product cannot overflow for centuries of TSC. */
	sp_tsc_mult = (SP_US_PER_S << 32) / hz;
}

/* A receive burst's time, rounded up to the µs: a response is timed no
 * earlier than it was there (its request's send time is rounded down, and
 * an intended start is a whole µs), so no latency is below the wire by
 * the clock's resolution either. Never behind the loop's time. */
static inline uint64_t
sp_worker_clock_rx(struct sp_worker *w)
{
	uint64_t now = sp_tsc_to_us_ceil(rte_rdtsc());

	if (now < w->now_us)
		now = w->now_us;
	w->now_us = now;
	return now;
}

/* The loop's time now, outside the load loop: never behind a receive
 * burst's time, which is rounded up. */
static inline uint64_t
sp_worker_clock(struct sp_worker *w)
{
	uint64_t now = sp_now_us();

	if (now > w->now_us)
		w->now_us = now;
	return w->now_us;
}

/* Send what is staged; what the TX ring does not take is freed and counted:
 * retrying would stall the loop, and TCP retransmits anyway. */
static void
sp_tx_flush(struct sp_worker *w)
{
	uint16_t n = w->tx_n, sent;

	if (n == 0)
		return;
	/* Timed before the burst, rounded down: no frame of it is on the
	 * wire earlier (a request's lag and send time, see sp_mode). */
	if (w->mode != NULL && w->mode->flushed != NULL)
		w->mode->flushed(w->mode_ctx, sp_now_us());
	/* Checksums left to the NIC: the driver's own touches to what the
	 * stack wrote (the pseudo-header's sum with the length is what most
	 * want, not all), as the offload API asks. It refuses nothing we
	 * build; if it did, the frames from the refused one on would go as
	 * the ring's would (TCP sends them again). */
	if (w->port->offload != 0) {
		n = rte_eth_tx_prepare(w->port->port_id, w->queue, w->tx_buf,
				       n);
		if (n < w->tx_n) {
			rte_pktmbuf_free_bulk(&w->tx_buf[n], w->tx_n - n);
			sp_ctr_add(w->tx_dropped, w->tx_n - n);
		}
	}
	sent = rte_eth_tx_burst(w->port->port_id, w->queue, w->tx_buf, n);
	sp_ctr_add(w->tx_pkts, sent);
	if (sent < n) {
		rte_pktmbuf_free_bulk(&w->tx_buf[sent], n - sent);
		sp_ctr_add(w->tx_dropped, n - sent);
	}
	w->tx_n = 0;
}

static uint8_t *
sp_tx_alloc(void *io_ctx, void **handle)
{
	struct sp_worker *w = io_ctx;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->port->pool);

	if (m == NULL)
		return NULL;
	*handle = m;
	return rte_pktmbuf_mtod(m, uint8_t *);
}

static void
sp_tx_send(void *io_ctx, void *handle, uint32_t len, uint64_t ol_flags)
{
	struct sp_worker *w = io_ctx;
	struct rte_mbuf *m = handle;

	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	/* Checksums left to the NIC (the port offers them): where its
	 * headers are. A fresh mbuf's flags are 0 otherwise. */
	if (ol_flags != 0) {
		m->ol_flags = ol_flags;
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(struct rte_ipv4_hdr);
	}
	w->tx_buf[w->tx_n++] = m;
	if (w->tx_n == SP_TX_BURST)
		sp_tx_flush(w);
}

/*
 * All that the open connections may have in flight toward us at once should
 * fit the RX queue: over a veth a peer's burst arrives at memory speed and
 * what the ring cannot hold is lost (nic.imissed), to be retransmitted by the
 * peer. Share half the ring between the connections, within 16 KiB and the
 * stack's default. Measured with 128 concurrent 4 MiB echoes: 256 KiB each
 * gave 47k kernel retransmissions and 620 Mbit/s, 24 KB gave 1.4k and 980.
 */
void
sp_worker_size_window(const struct sp_port *p, uint64_t concurrency,
		      struct sp_stack_config *cfg)
{
	uint64_t w = (uint64_t)p->rx_frames * 1460 / 2 /
		     (concurrency ? concurrency : 1);

	if (w < 16 * 1024)
		w = 16 * 1024;
	if (w < cfg->rcvwnd)
		cfg->rcvwnd = (uint32_t)w;
}

int
sp_worker_create_stack(struct sp_worker *w, struct sp_port *p,
		       const struct sp_netopt *no, struct sp_stack_config *cfg,
		       const struct sp_tcp_ops *ops, void *app)
{
	int err = 0;

	/* The stack writes whole frames into one mbuf segment. */
	if ((unsigned int)rte_pktmbuf_data_room_size(p->pool) <
	    RTE_PKTMBUF_HEADROOM + SP_FRAME_MAX) {
		fprintf(stderr, "stampede: mbufs too small for a frame\n");
		return -1;
	}
	w->port = p;
	memcpy(cfg->mac, p->mac, sizeof(cfg->mac));
	cfg->ip = no->ip;
	cfg->ip_count = no->ip_count;
	cfg->prefix_len = no->prefix_len;
	cfg->gateway = no->gateway;
	cfg->offload = p->offload;
	cfg->tx_alloc = sp_tx_alloc;
	cfg->tx_send = sp_tx_send;
	cfg->io_ctx = w;
	w->st = sp_stack_create(cfg, ops, app, &err);
	if (w->st == NULL) {
		fprintf(stderr, "stampede: stack creation failed: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

/* xorshift64*: a few cycles per draw, and only when --impair is on. */
static inline uint32_t
sp_rand32(struct sp_worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* True with probability @bp / 10000. */
static inline int
sp_chance(struct sp_worker *w, uint32_t bp)
{
	return bp != 0 &&
	       (uint32_t)(((uint64_t)sp_rand32(w) * 10000) >> 32) < bp;
}

static inline void
sp_input(struct sp_worker *w, struct rte_mbuf *m, uint64_t now)
{
	sp_stack_input_ol(w->st, rte_pktmbuf_mtod(m, const uint8_t *),
			  m->data_len, now, m->ol_flags);
}

static void
sp_release_held(struct sp_worker *w, uint64_t now)
{
	sp_input(w, w->held, now);
	rte_pktmbuf_free(w->held);
	w->held = NULL;
}

/*
 * --impair: what a lossy, reordering, duplicating path would do to our
 * receive side, to exercise the stack's recovery against a real peer. A
 * reordered frame is held back (one at a time) and delivered right after the
 * next frame, or after SP_HOLD_MAX_US if none comes. Takes ownership of
 * *mp when it keeps the frame (sets it to NULL).
 */
#define SP_HOLD_MAX_US 2000

static void
sp_impair_rx(struct sp_worker *w, struct rte_mbuf **mp, uint64_t now)
{
	struct rte_mbuf *m = *mp;

	if (sp_chance(w, w->impair.drop_bp)) {
		sp_ctr_inc(w->imp_dropped);
		return;
	}
	if (w->held == NULL && sp_chance(w, w->impair.reorder_bp)) {
		w->held = m;
		w->held_until = now + SP_HOLD_MAX_US;
		*mp = NULL;
		return;
	}
	sp_input(w, m, now);
	if (sp_chance(w, w->impair.dup_bp)) {
		sp_input(w, m, now);
		sp_ctr_inc(w->imp_duplicated);
	}
	if (w->held != NULL) {
		sp_release_held(w, now);
		sp_ctr_inc(w->imp_reordered);
	}
}

static inline int
sp_is_arp(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const void *);

	return eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
}

/*
 * Several cores: which one owns this frame? A TCP segment belongs to the
 * core the placement names (enum sp_place); ARP goes to every core (a
 * reply answers whoever asked, a request teaches the asker's address to
 * all that will answer it); everything else to whoever received it.
 * Returns the owner, or -1 for "every core".
 */
static int
sp_owner(const struct sp_worker *w, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const void *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_tcp_hdr *th;
	uint32_t ihl, port, h;

	if (sp_is_arp(m))
		return -1;
	/* With RSS placement TCP should land where it belongs: where our
	 * pairs are known (active opens), one byte tells. */
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    (w->place == SP_PLACE_RSS && w->rss_owner == NULL) ||
	    m->data_len < sizeof(*eth) + sizeof(*ip) + sizeof(*th))
		return w->queue;
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	if (ip->next_proto_id != IPPROTO_TCP || ihl < sizeof(*ip) ||
	    m->data_len < sizeof(*eth) + ihl + sizeof(*th))
		return w->queue;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
	if (w->place == SP_PLACE_RSS) {
		int o = sp_rss_owner_of(w->rss_owner, w->rss_ip,
					w->rss_ip_count, SP_EPH_FIRST,
					SP_EPH_COUNT,
					rte_be_to_cpu_32(ip->dst_addr),
					rte_be_to_cpu_16(th->dst_port));

		return o < 0 || o >= w->ncores ? w->queue : o;
	}
	if (w->place == SP_PLACE_PEER) {
		/* Fibonacci hashing of address and port: consecutive ports
		 * of one client spread evenly. */
		h = (rte_be_to_cpu_32(ip->src_addr) ^
		     ((uint32_t)th->src_port << 16 | th->src_port)) *
		    0x9e3779b1u;
		return (int)(((uint64_t)h * w->ncores) >> 32);
	}
	port = rte_be_to_cpu_16(th->dst_port);
	if (port < SP_EPH_FIRST ||
	    port >= SP_EPH_FIRST + (uint32_t)w->port_span * w->ncores)
		return w->queue;
	return (int)((port - SP_EPH_FIRST) / w->port_span);
}

/* Hand @m to its owner if that is another core; 1 if handed over (or
 * dropped: the ring was full, which TCP recovers from). ARP is copied to
 * every other core and kept: those copies are not redirects (counted
 * apart, arp_copies), so that redirect_* count segments only. */
static int
sp_redirect(struct sp_worker *w, struct rte_mbuf *m)
{
	int owner = sp_owner(w, m);

	if (owner == w->queue)
		return 0;
	if (owner < 0) {
		/* A copy a full ring cannot take is lost: the core asks
		 * again (ARP) or learns the sender from its SYN. */
		for (uint16_t j = 0; j < w->ncores; j++) {
			if (j == w->queue)
				continue;
			rte_mbuf_refcnt_update(m, 1);
			if (rte_ring_sp_enqueue(w->ring_out[j], m) != 0)
				rte_mbuf_refcnt_update(m, -1);
			else
				sp_ctr_inc(w->arp_copies);
		}
		return 0;
	}
	if (w->place == SP_PLACE_RSS)
		sp_ctr_inc(w->rss_misplaced);
	if (rte_ring_sp_enqueue(w->ring_out[owner], m) != 0) {
		rte_pktmbuf_free(m);
		sp_ctr_inc(w->redirect_full);
	} else {
		sp_ctr_inc(w->redirect_out);
	}
	return 1;
}

/* Frames the other cores passed us, timed as they come off the ring (the
 * other core may have received them after our last clock read). */
static void
sp_redirect_in(struct sp_worker *w)
{
	struct rte_mbuf *pkts[SP_RX_BURST];

	for (uint16_t j = 0; j < w->ncores; j++) {
		unsigned int n;
		uint64_t now;

		if (j == w->queue)
			continue;
		n = rte_ring_sc_dequeue_burst(w->ring_in[j], (void **)pkts,
					      SP_RX_BURST, NULL);
		if (n == 0)
			continue;
		now = sp_worker_clock_rx(w);
		for (unsigned int i = 0; i < n; i++) {
			/* ARP comes as a copy: the receiving core answered
			 * and counted it, this one only learns the sender. */
			if (sp_is_arp(pkts[i])) {
				sp_stack_arp_learn(
					w->st,
					rte_pktmbuf_mtod(pkts[i],
							 const uint8_t *),
					pkts[i]->data_len, now);
			} else {
				sp_ctr_inc(w->redirect_in);
				sp_input(w, pkts[i], now);
			}
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

static int
sp_worker_rings(struct sp_worker *ws, unsigned int n)
{
	char name[RTE_RING_NAMESIZE];

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < n; j++) {
			struct rte_ring *r;

			if (i == j)
				continue;
			snprintf(name, sizeof(name), "sp_r%u_%u", i, j);
			r = rte_ring_create(name, SP_RING_SIZE, SOCKET_ID_ANY,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				fprintf(stderr, "stampede: ring %s: %s\n", name,
					rte_strerror(rte_errno));
				return -1;
			}
			ws[i].ring_out[j] = r;
			ws[j].ring_in[i] = r;
		}
	return 0;
}

static void
sp_worker_rings_drain(struct sp_worker *ws, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < n; j++) {
			struct rte_mbuf *m;

			if (ws[i].ring_out[j] == NULL)
				continue;
			while (rte_ring_dequeue(ws[i].ring_out[j],
						(void **)&m) == 0) {
				if (!sp_is_arp(m))
					sp_ctr_inc(ws[j].redirect_stranded);
				rte_pktmbuf_free(m);
			}
		}
}

static void
sp_worker_rings_free(struct sp_worker *ws, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < n; j++) {
			struct rte_mbuf *m;

			if (ws[i].ring_out[j] == NULL)
				continue;
			while (rte_ring_dequeue(ws[i].ring_out[j],
						(void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(ws[i].ring_out[j]);
			ws[i].ring_out[j] = NULL;
			ws[j].ring_in[i] = NULL;
		}
}

int
sp_workers_run(struct sp_worker *ws, unsigned int n, uint64_t duration_us)
{
	int rc;

	if (n > 1 && sp_worker_rings(ws, n) < 0)
		return -1;
	rc = sp_control_run_n(ws, n, duration_us);
	if (rc < 0)
		return -1;
	if (n > 1)
		sp_worker_rings_drain(ws, n);
	return rc;
}

void
sp_workers_destroy(struct sp_worker *ws)
{
	sp_worker_rings_free(ws, SP_MAX_CORES);
	for (unsigned int i = 0; i < SP_MAX_CORES; i++)
		if (ws[i].st != NULL) {
			sp_stack_destroy(ws[i].st);
			ws[i].st = NULL;
		}
}

/*
 * A receive burst's frames back to the pool, NULL entries (frames kept)
 * skipped: rte_pktmbuf_free_bulk's work inline for what a receive gives,
 * direct single-segment mbufs of the port's pool, put back in one bulk
 * through this lcore's cache (the library's call costs twice as much, its
 * per-lcore lookups going through the dynamic linker's TLS); anything
 * else freed one by one.
 */
static inline void
sp_rx_free(struct sp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	void *put[SP_RX_BURST];
	unsigned int k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (m == NULL)
			continue;
		if (m->pool != w->port->pool || m->nb_segs != 1) {
			rte_pktmbuf_free(m);
			continue;
		}
		m = rte_pktmbuf_prefree_seg(m);
		if (m != NULL)
			put[k++] = m;
	}
	if (k != 0)
		rte_mempool_put_bulk(w->port->pool, put, k);
}

/*
 * One RX burst into the stack; returns the frames read. The burst is
 * timed when it has come back with frames, not before the call: a frame
 * that lands between a clock read and the burst would be timed before it
 * arrived, and a response timed before its request's frame left is a
 * latency below the wire. One read per burst, not per iteration: the up to
 * SP_RX_BURSTS bursts of an iteration, and the sends between them, would
 * otherwise share its first instant (a response in the same iteration as
 * its request was timed 0).
 */
static uint16_t
sp_worker_rx(struct sp_worker *w)
{
	struct rte_mbuf *pkts[SP_RX_BURST];
	uint16_t n = rte_eth_rx_burst(w->port->port_id, w->queue, pkts,
				      SP_RX_BURST);

	if (n != 0) {
		uint64_t now = sp_worker_clock_rx(w);

		sp_ctr_add(w->rx_pkts, n);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			/* One segment always holds a 1514-byte frame in our
			 * pool; a chained mbuf is a driver surprise. */
			if (m->nb_segs != 1) {
				sp_ctr_inc(w->rx_multiseg);
				continue;
			}
			if (w->ncores > 1 && sp_redirect(w, m)) {
				pkts[i] = NULL; /* the owner frees it */
				continue;
			}
			if (unlikely(w->impair_on))
				sp_impair_rx(w, &pkts[i], now);
			else
				sp_input(w, m, now);
		}
		/* NULL entries (frames held back) are skipped. */
		sp_rx_free(w, pkts, n);
	}
	return n;
}

/*
 * Receive into the stack and run its timers. Returns the frames received.
 * Bursts are read until the queue is empty (up to SP_RX_BURSTS of them):
 * one burst per iteration let a mode that opens more connections per
 * iteration than a burst holds (each SYN answered by a SYN-ACK) outrun
 * the RX ring, and the af_packet ring dropped the answers (100,000
 * connections: 87,000 frames missed and as many SYN retransmissions).
 */
#define SP_RX_BURSTS 8

static uint16_t
sp_worker_io(struct sp_worker *w)
{
	uint16_t n = 0, got;
	int i = 0;

	do {
		got = sp_worker_rx(w);
		n += got;
	} while (got == SP_RX_BURST && ++i < SP_RX_BURSTS);
	if (w->ncores > 1)
		sp_redirect_in(w);
	if (unlikely(w->held != NULL) && w->now_us >= w->held_until)
		sp_release_held(w, w->now_us);
	sp_stack_poll(w->st, w->now_us);
	return n;
}

/* 0, 1 stop, 2 stop and hurry (sp_worker.stop). */
static int
sp_worker_stop_requested(const struct sp_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

static void
sp_worker_set_phase(struct sp_worker *w, enum sp_phase ph)
{
	__atomic_store_n(&w->phase, (int)ph, __ATOMIC_RELEASE);
}

static int
sp_worker_resolve(struct sp_worker *w)
{
	uint8_t mac[6];
	uint64_t now = sp_now_us();
	uint64_t deadline = now + SP_ARP_TIMEOUT_US, next = now;

	while (!sp_arp_lookup(w->st, w->nexthop, mac)) {
		now = sp_worker_clock(w);
		if (now >= deadline || sp_worker_stop_requested(w))
			return -1;
		if (now >= next) {
			sp_arp_request(w->st, w->nexthop);
			next = now + SP_ARP_RETRY_US;
		}
		sp_worker_io(w);
		sp_tx_flush(w);
	}
	return 0;
}

/* An iteration that moved nothing: where workers share a CPU, let the
 * sibling run now (it may hold frames for us, or we for it) rather than
 * spin out the time slice. The only system call a worker makes, and only
 * when it has nothing to do. */
static void
sp_worker_idle(const struct sp_worker *w)
{
	if (w->port->cpus_shared)
		sched_yield();
}

/* The lifecycle's loops (setup, teardown) do the load's I/O without its
 * accounting (busy and idle are the load's). Before the mode's call:
 * receive, and return the time of the last burst. */
static uint64_t
sp_worker_life_rx(struct sp_worker *w, uint64_t *tx0, int *moved)
{
	sp_worker_clock(w);
	*tx0 = w->tx_pkts + w->tx_dropped;
	*moved = sp_worker_io(w) != 0;
	return w->now_us;
}

/* After it: send, and yield if nothing moved. */
static void
sp_worker_life_tx(struct sp_worker *w, uint64_t tx0, int moved)
{
	sp_tx_flush(w);
	if (!moved && w->tx_pkts + w->tx_dropped == tx0)
		sp_worker_idle(w);
}

/* The mode's setup, until it is over: 0 passed (or none), -1 failed. */
static int
sp_worker_setup(struct sp_worker *w)
{
	const struct sp_mode *mode = w->mode;
	int st = SP_MODE_SETUP_RUNNING, moved;
	uint64_t tx0, now;

	if (mode->setup == NULL)
		return 0;
	sp_worker_set_phase(w, SP_PHASE_SETUP);
	while (st == SP_MODE_SETUP_RUNNING) {
		now = sp_worker_life_rx(w, &tx0, &moved);
		st = mode->setup(w->mode_ctx, now, sp_worker_stop_requested(w));
		sp_worker_life_tx(w, tx0, moved);
	}
	if (st == SP_MODE_SETUP_DONE)
		return 0;
	__atomic_store_n(&w->setup_failed, 1, __ATOMIC_RELEASE);
	sp_worker_set_phase(w, SP_PHASE_SETUP_FAILED);
	return -1;
}

/* The mode's teardown, until it is over (a second stop hurries it). */
static void
sp_worker_teardown(struct sp_worker *w)
{
	const struct sp_mode *mode = w->mode;
	int done = 0, moved;
	uint64_t tx0, now;

	if (mode->teardown == NULL)
		return;
	sp_worker_set_phase(w, SP_PHASE_TEARDOWN);
	while (!done) {
		now = sp_worker_life_rx(w, &tx0, &moved);
		done = mode->teardown(w->mode_ctx, now,
				      sp_worker_stop_requested(w) >= 2);
		sp_worker_life_tx(w, tx0, moved);
	}
}

/*
 * --start-at: set up, the load waits for the instant every shard starts
 * at, still answering what comes in (ARP, setup's connections closing).
 * Far from it, it sleeps between polls (this is no load yet); a stop
 * ends the wait.
 */
static void
sp_worker_wait_start(struct sp_worker *w)
{
	struct timespec nap = { 0, 200000 };
	uint64_t tx0, now;
	int moved;

	if (w->start_at_us == 0)
		return;
	sp_worker_set_phase(w, SP_PHASE_WAIT);
	for (;;) {
		now = sp_worker_life_rx(w, &tx0, &moved);
		sp_worker_life_tx(w, tx0, moved);
		if (now >= w->start_at_us || sp_worker_stop_requested(w))
			return;
		if (!moved && w->start_at_us - now > 2000)
			nanosleep(&nap, NULL);
	}
}

int
sp_worker_main(void *arg)
{
	struct sp_worker *w = arg;
	const struct sp_mode *mode = w->mode;
	uint64_t now, drain_end, linger_end, tw_end;
	int done = 0, stopping = 0;

	if (w->nexthop != 0) {
		sp_worker_set_phase(w, SP_PHASE_ARP);
		if (sp_worker_resolve(w) < 0) {
			sp_worker_set_phase(w, SP_PHASE_ARP_FAILED);
			return -1;
		}
	}
	/* Impair the load, not the resolution that precedes it (setup and
	 * teardown run on the same path as the load: impaired too). */
	w->impair_on = w->impair.drop_bp != 0 || w->impair.reorder_bp != 0 ||
		       w->impair.dup_bp != 0;
	w->rng = rte_rdtsc() | 1;
	/* The lifecycle runs the load's code: no allocation there either. */
	sp_alloc_hot(1);
	/* A failed setup: no load (its start and end are the same instant,
	 * so it measured nothing), but teardown still runs. */
	done = sp_worker_setup(w) < 0;
	if (!done)
		sp_worker_wait_start(w);
	/* The run's duration and timeline count from the load, not from
	 * the setup before it. */
	now = sp_worker_clock(w);
	sp_ctr_set(w->run_start_us, now);
	if (!done) {
		sp_worker_set_phase(w, SP_PHASE_RUN);
		if (mode->start != NULL)
			mode->start(w->mode_ctx, now);
		sp_tx_flush(w);
	}

	while (!done) {
		uint64_t tsc = rte_rdtsc(), tx0 = w->tx_pkts + w->tx_dropped;
		uint16_t rx;

		now = sp_tsc_to_us(tsc);
		if (now > w->now_us)
			w->now_us = now;
		rx = sp_worker_io(w);
		/* The mode sees the last burst's time, not the iteration's
		 * start. */
		now = w->now_us;
		if (stopping) {
			done = mode->drain(w->mode_ctx, now,
					   __atomic_load_n(&w->stop,
							   __ATOMIC_RELAXED) >=
						   2);
		} else if (sp_worker_stop_requested(w)) {
			if (mode->stop != NULL)
				mode->stop(w->mode_ctx, now);
			stopping = mode->drain != NULL;
			done = !stopping;
		} else if (mode->step != NULL) {
			done = mode->step(w->mode_ctx, now);
		}
		sp_tx_flush(w);
		/* Load phase only (the drain idles): the share of time spent
		 * in iterations that moved frames tells whether the worker,
		 * not the target, was the limit. */
		sp_ctr_inc(w->iterations);
		if (rx != 0 || w->tx_pkts + w->tx_dropped != tx0) {
			sp_ctr_add(w->busy_tsc, rte_rdtsc() - tsc);
		} else {
			sp_ctr_inc(w->idle_iterations);
			sp_worker_idle(w);
		}
	}
	/* The run ends with its last iteration, not where that began: the
	 * busy time counted whole iterations (a 2-iteration run read 163 %
	 * busy when this was the last iteration's start). */
	now = sp_worker_clock(w);
	sp_ctr_set(w->run_end_us, now);
	/* After the load's drain (after a stop or an abort too): the load's
	 * connections are closed or closing, and teardown's are its own. */
	sp_worker_teardown(w);
	now = sp_worker_clock(w);
	sp_worker_set_phase(w, SP_PHASE_DRAIN);

	/* Bounded: a peer that never ACKs our FIN must not hold the report.
	 * After RSTs, stay a moment even with no connection left: a peer
	 * that received data we never saw acknowledged finds our RST's
	 * sequence number inexact and answers with a challenge ACK (RFC 5961
	 * 3.2); our answer to that, from the closed port, carries its exact
	 * number. Gone already, we would leave it holding the connection. */
	drain_end = now + w->drain_us;
	linger_end = sp_stack_stats(w->st)->tcp_rst_tx ?
			     now + SP_RST_LINGER_US :
			     now;
	tw_end = now + SP_TW_KEEP_US;
	while ((sp_stack_conns_in_use(w->st) != 0 || now < linger_end) &&
	       now < drain_end) {
		now = sp_worker_clock(w);
		if (sp_worker_io(w) == 0)
			sp_worker_idle(w);
		sp_tx_flush(w);
		if (now >= tw_end && sp_stack_conns_in_use(w->st) != 0) {
			sp_stack_end_time_wait(w->st);
			tw_end = now + SP_TW_KEEP_US;
		}
	}
	sp_alloc_hot(0);
	sp_worker_set_phase(w, SP_PHASE_DONE);
	/* Frames of the other cores' flows may still land on our queue
	 * until they are done too: keep passing them on. */
	while (w->ncores > 1 && !__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
		now = sp_worker_clock(w);
		if (sp_worker_io(w) == 0)
			sp_worker_idle(w);
		sp_tx_flush(w);
	}
	if (w->held != NULL) {
		rte_pktmbuf_free(w->held);
		w->held = NULL;
	}
	return 0;
}
