/*
 * Stack instance: configuration, the pools sized once at creation, the frame
 * entry point (Ethernet demultiplexing) and the periodic poll.
 *
 * Every allocation the stack will ever make happens in sp_stack_create; the
 * pools are free lists of 32-bit indices so that connection blocks stay small.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack_int.h"

void
sp_stack_config_defaults(struct sp_stack_config *cfg, uint32_t max_conns)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prefix_len = 24;
	cfg->max_conns = max_conns ? max_conns : 1024;
	/* Enough chunks for every connection to keep a full segment queued,
	 * plus headroom for bulk transfers and out-of-order queues. */
	cfg->chunks = cfg->max_conns + 4096;
	cfg->sndbuf = 256 * 1024;
	cfg->rcvwnd = 256 * 1024;
	cfg->mss = 1460;
	cfg->port_min = 1024;
	cfg->port_max = 65535;
	cfg->ooo_max = 0;
	cfg->rto_init_us = 1000 * 1000; /* RFC 6298 2.1 */
	cfg->rto_min_us = 200 * 1000;   /* Linux's floor; RFC 6298 allows it */
	cfg->rto_max_us = 60 * 1000 * 1000;
	cfg->syn_retries = 3;
	cfg->data_retries = 8;
	cfg->connect_timeout_us = 0;
	cfg->time_wait_us = 1000 * 1000;
	cfg->fin_wait2_us = 10 * 1000 * 1000;
	cfg->linger_us = 200 * 1000;
	cfg->delack_us = 40 * 1000;
	cfg->arp_timeout_us = 60 * 1000 * 1000;
	cfg->isn_secret = 0x5eed5eed;
}

/*
 * Pools come from calloc and are touched page by page now: large callocs are
 * lazily mapped zero pages, and their first use would otherwise fault (a
 * kernel entry and a page allocation) on the hot path, one page at a time.
 */
static void *
stack_calloc(struct sp_stack *st, size_t n, size_t size)
{
	volatile uint8_t *p = calloc(n, size);
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < n * size; i += 4096)
		p[i] = 0;
	st->mem_bytes += n * size;
	return (void *)p;
}

static int
config_check(const struct sp_stack_config *cfg)
{
	if (!cfg->tx_alloc || !cfg->tx_send || cfg->ip == 0)
		return -EINVAL;
	/* The range must not wrap, and its pairs must fit 32 bits. */
	if (cfg->ip_count > 1 &&
	    (cfg->ip + (cfg->ip_count - 1) < cfg->ip || cfg->ip_count > 65536))
		return -EINVAL;
	if (cfg->max_conns == 0 || cfg->max_conns >= SP_NIL / 2 ||
	    cfg->chunks == 0 || cfg->chunks >= SP_NIL)
		return -EINVAL;
	if (cfg->prefix_len > 32 || cfg->port_min == 0 ||
	    cfg->port_min > cfg->port_max)
		return -EINVAL;
	/* Every pair must decode inside the ranges. */
	if (cfg->pairs) {
		uint64_t n = ((uint64_t)cfg->port_max - cfg->port_min + 1) *
			     (cfg->ip_count ? cfg->ip_count : 1);

		if (cfg->npairs > n)
			return -EINVAL;
		for (uint32_t i = 0; i < cfg->npairs; i++)
			if (cfg->pairs[i] >= n)
				return -EINVAL;
	}
	if (cfg->mss != 0 && (cfg->mss < 88 || cfg->mss > 1460))
		return -EINVAL;
	if (cfg->rto_min_us == 0 || cfg->rto_min_us > cfg->rto_max_us ||
	    cfg->rcvwnd == 0 || cfg->sndbuf == 0)
		return -EINVAL;
	return 0;
}

struct sp_stack *
sp_stack_create(const struct sp_stack_config *cfg, const struct sp_tcp_ops *ops,
		void *app, int *err)
{
	struct sp_stack *st;
	uint32_t i, nbuckets;
	int rc = config_check(cfg);

	if (rc)
		goto fail_early;
	st = calloc(1, sizeof(*st));
	if (!st) {
		rc = -ENOMEM;
		goto fail_early;
	}
	st->mem_bytes = sizeof(*st);
	st->cfg = *cfg;
	if (st->cfg.ip_count == 0)
		st->cfg.ip_count = 1;
	if (st->cfg.mss == 0)
		st->cfg.mss = 1460;
	if (ops)
		st->ops = *ops;
	st->app = app;

	/* Window scale (RFC 7323 2.2): the smallest shift that lets the
	 * 16-bit field express the configured window. */
	while (st->rcv_wscale < 14 &&
	       (65535u << st->rcv_wscale) < st->cfg.rcvwnd)
		st->rcv_wscale++;
	if (st->cfg.rcvwnd > (65535u << 14))
		st->cfg.rcvwnd = 65535u << 14;
	st->rcv_wnd_max = st->cfg.rcvwnd > 65535 ? 65535 : st->cfg.rcvwnd;
	/* Keep every in-window segment a peer may send past a hole: dropping
	 * them turns one loss into many (the chunk pool still bounds it). */
	if (st->cfg.ooo_max == 0) {
		uint32_t n = st->cfg.rcvwnd / st->cfg.mss + 2;

		st->cfg.ooo_max = (uint16_t)(n > 65535 ? 65535 : n);
	}

	st->conns = stack_calloc(st, cfg->max_conns, sizeof(*st->conns));
	if (!st->conns)
		goto fail;
	for (i = 0; i < cfg->max_conns; i++) {
		st->conns[i].hnext = i + 1 < cfg->max_conns ? i + 1 : SP_NIL;
		st->conns[i].tm_slot = SP_TM_NONE;
	}
	st->conn_free = 0;
	st->zombies = SP_NIL;
	st->space_waiters = SP_NIL;

	/* Load factor at most 1/2: chains stay short, lookup O(1). */
	nbuckets = 1;
	while (nbuckets < 2 * cfg->max_conns)
		nbuckets <<= 1;
	st->hash = stack_calloc(st, nbuckets, sizeof(*st->hash));
	if (!st->hash)
		goto fail;
	for (i = 0; i < nbuckets; i++)
		st->hash[i] = SP_NIL;
	st->hash_mask = nbuckets - 1;

	st->chunks = stack_calloc(st, cfg->chunks, sizeof(*st->chunks));
	if (!st->chunks)
		goto fail;
	for (i = 0; i < cfg->chunks; i++)
		st->chunks[i].next = i + 1 < cfg->chunks ? i + 1 : SP_NIL;
	st->chunk_free = 0;

	/* Addresses rotate fastest: consecutive opens take the range's
	 * addresses in turn (the load comes from all of them, as a user of
	 * --ip A-B expects, whatever the number of connections), and a pair
	 * comes round again only after all the others. */
	st->nports = (uint32_t)cfg->port_max - cfg->port_min + 1;
	st->port_cap = cfg->pairs ? cfg->npairs : st->nports * st->cfg.ip_count;
	st->ports = stack_calloc(st, st->port_cap ? st->port_cap : 1,
				 sizeof(*st->ports));
	if (!st->ports)
		goto fail;
	for (i = 0; i < st->port_cap; i++) {
		uint32_t a = i % st->cfg.ip_count, p = i / st->cfg.ip_count;

		st->ports[i] = cfg->pairs ? cfg->pairs[i] : a * st->nports + p;
	}
	st->port_count = st->port_cap;
	st->cfg.pairs = NULL; /* copied: the caller's array may go */

	for (i = 0; i <= SP_WHEEL_SLOTS; i++)
		st->wheel[i] = SP_NIL;
	if (err)
		*err = 0;
	return st;

fail:
	sp_stack_destroy(st);
	rc = -ENOMEM;
fail_early:
	if (err)
		*err = rc;
	return NULL;
}

void
sp_stack_destroy(struct sp_stack *st)
{
	if (!st)
		return;
	free(st->conns);
	free(st->hash);
	free(st->chunks);
	free(st->ports);
	free(st);
}

uint32_t
sp_chunk_alloc(struct sp_stack *st)
{
	uint32_t i = st->chunk_free;

	if (i == SP_NIL)
		return SP_NIL;
	st->chunk_free = st->chunks[i].next;
	st->chunks[i].next = SP_NIL;
	st->chunks[i].len = 0;
	st->chunks[i].fin = 0;
	st->chunks[i].ref = 0;
	sp_ctr_inc(st->chunks_used);
	return i;
}

void
sp_chunk_free(struct sp_stack *st, uint32_t i)
{
	st->chunks[i].next = st->chunk_free;
	st->chunk_free = i;
	sp_ctr_sub(st->chunks_used, 1);
}

void
sp_chunk_free_list(struct sp_stack *st, uint32_t head)
{
	while (head != SP_NIL) {
		uint32_t next = st->chunks[head].next;

		sp_chunk_free(st, head);
		head = next;
	}
}

static void
set_time(struct sp_stack *st, uint64_t now_us)
{
	/* The clock never runs backwards for the stack. */
	if (now_us > st->now_us)
		st->now_us = now_us;
	st->now_tick = (uint32_t)(st->now_us / SP_TICK_US);
}

void
sp_stack_arp_learn(struct sp_stack *st, const uint8_t *frame, uint32_t len,
		   uint64_t now_us)
{
	set_time(st, now_us);
	if (len >= sizeof(struct rte_ether_hdr) &&
	    ((const struct rte_ether_hdr *)frame)->ether_type ==
		    rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		(void)sp_arp_merge(st, frame, len);
}

int
sp_stack_input(struct sp_stack *st, const uint8_t *frame, uint32_t len,
	       uint64_t now_us)
{
	return sp_stack_input_ol(st, frame, len, now_us, 0);
}

/* Two MACs equal: a word and a half-word, not a call to memcmp. */
static inline bool
sp_mac_eq(const uint8_t *a, const uint8_t *b)
{
	uint32_t a4, b4;
	uint16_t a2, b2;

	memcpy(&a4, a, 4);
	memcpy(&b4, b, 4);
	memcpy(&a2, a + 4, 2);
	memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

int
sp_stack_input_ol(struct sp_stack *st, const uint8_t *frame, uint32_t len,
		  uint64_t now_us, uint64_t ol_flags)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	uint16_t type;

	set_time(st, now_us);
	sp_ctr_inc(st->stats.rx_frames);
	sp_ctr_add(st->stats.rx_bytes, len);
	st->last_drop = 0;
	st->rx_ol = ol_flags;

	if (len < sizeof(*eth)) {
		sp_drop(st, SP_DROP_ETH_SHORT);
		return SP_DROP_ERR(SP_DROP_ETH_SHORT);
	}
	if (!rte_is_broadcast_ether_addr(&eth->dst_addr) &&
	    !sp_mac_eq(eth->dst_addr.addr_bytes, st->cfg.mac)) {
		sp_drop(st, SP_DROP_ETH_DST);
		return SP_DROP_ERR(SP_DROP_ETH_DST);
	}
	st->depth++;
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_ARP) {
		sp_arp_input(st, frame, len);
	} else if (type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip =
			(const struct rte_ipv4_hdr *)(frame + sizeof(*eth));

		sp_ip_input(st, frame, ip, len - (uint32_t)sizeof(*eth));
	} else {
		sp_drop(st, SP_DROP_ETH_TYPE);
	}
	st->depth--;
	if (st->depth == 0)
		sp_conn_free_zombies(st);
	return st->last_drop;
}

void
sp_stack_poll(struct sp_stack *st, uint64_t now_us)
{
	set_time(st, now_us);
	st->depth++;
	sp_timer_run(st);
	if (st->space_waiters != SP_NIL && st->chunk_free != SP_NIL)
		sp_conn_wake_writers(st);
	if (st->now_us >= st->next_arp_scan_us) {
		sp_arp_poll(st);
		st->next_arp_scan_us = st->now_us + 100 * 1000;
	}
	st->depth--;
	if (st->depth == 0)
		sp_conn_free_zombies(st);
}

const struct sp_stack_stats *
sp_stack_stats(const struct sp_stack *st)
{
	return &st->stats;
}

uint32_t
sp_stack_conns_in_use(const struct sp_stack *st)
{
	return sp_ctr_read(st->conns_used);
}

uint32_t
sp_stack_chunks_in_use(const struct sp_stack *st)
{
	return sp_ctr_read(st->chunks_used);
}

size_t
sp_stack_bytes_per_conn(const struct sp_stack *st)
{
	size_t buckets = (size_t)st->hash_mask + 1;

	return sizeof(struct sp_conn) +
	       buckets * sizeof(uint32_t) / st->cfg.max_conns;
}

size_t
sp_stack_mem_bytes(const struct sp_stack *st)
{
	return st->mem_bytes;
}

const char *
sp_tcp_state_name(enum sp_tcp_state s)
{
	static const char *const names[SP_TCP_NSTATES] = {
		"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED",
		"ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "CLOSING",
		"LAST_ACK",    "FIN_WAIT_2", "TIME_WAIT",
	};
	return (unsigned)s < SP_TCP_NSTATES ? names[s] : "?";
}

const char *
sp_close_reason_name(enum sp_close_reason r)
{
	static const char *const names[SP_CLOSE_NREASONS] = {
		"normal", "refused", "connect_timeout",
		"reset",  "timeout", "aborted",
	};
	return (unsigned)r < SP_CLOSE_NREASONS ? names[r] : "?";
}

const char *
sp_drop_reason_name(enum sp_drop_reason r)
{
	static const char *const names[SP_DROP_NREASONS] = {
		"eth_short",    "eth_type",  "eth_dst",  "arp_bad", "arp_other",
		"ip_hdr",       "ip_csum",   "ip_frag",  "ip_dst",  "ip_proto",
		"icmp_bad",     "tcp_hdr",   "tcp_csum", "tcp_opt", "tcp_flags",
		"tcp_noconn",   "tcp_seq",   "tcp_ack",  "tcp_rst", "tcp_syn",
		"tcp_ooo_full", "tcp_nomem",
	};
	return (unsigned)r < SP_DROP_NREASONS ? names[r] : "?";
}
