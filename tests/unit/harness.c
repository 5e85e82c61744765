/*
 * Test harness for the TCP stack: see harness.h. Frame buffers are malloc'd
 * one by one at exactly SP_FRAME_MAX bytes so that AddressSanitizer catches a
 * stack that writes past a transmit buffer; they are allocated once per
 * process, before any test counts allocations.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf_core.h>

#include "harness.h"
#include "stack_int.h"

/* ---- assertions ------------------------------------------------------- */

unsigned long sp_h_failures, sp_h_checks;
static const char *cur_test = "-";
static unsigned long test_failures;

void
sp_h_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	sp_h_failures++;
	/* Past a few dozen, a broken test only floods the log. */
	if (++test_failures > 40) {
		if (test_failures == 41)
			fprintf(stderr, "  [%s] further failures not shown\n",
				cur_test);
		return;
	}
	fprintf(stderr, "%s:%d: [%s] check failed: ", file, line, cur_test);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
sp_h_main(int argc, char **argv, const struct sp_h_test *tests, size_t n)
{
	size_t i, ran = 0, failed = 0;

	for (i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_test = tests[i].name;
		test_failures = 0;
		tests[i].fn();
		ran++;
		if (test_failures)
			failed++;
		printf("%-4s %s\n", test_failures ? "FAIL" : "ok",
		       tests[i].name);
		fflush(stdout);
	}
	printf("%zu tests, %zu failed, %lu checks, %lu failed checks\n", ran,
	       failed, sp_h_checks, sp_h_failures);
	return sp_h_failures || ran == 0 ? 1 : 0;
}

/* ---- allocation counter ----------------------------------------------- */

bool sp_h_alloc_counting;
unsigned long sp_h_allocs;

#ifdef SP_H_WRAP_ALLOC
bool sp_h_alloc_wrapped = true;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

void *
__wrap_malloc(size_t n)
{
	if (sp_h_alloc_counting)
		sp_h_allocs++;
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	if (sp_h_alloc_counting)
		sp_h_allocs++;
	return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (sp_h_alloc_counting)
		sp_h_allocs++;
	return __real_realloc(p, n);
}

void
__wrap_free(void *p)
{
	if (sp_h_alloc_counting && p)
		sp_h_allocs++;
	__real_free(p);
}
#else
bool sp_h_alloc_wrapped = false;
#endif

/* ---- addresses -------------------------------------------------------- */

const uint8_t sp_h_mac[2][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
};
const uint8_t sp_h_mac_other[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x63 };
const uint8_t sp_h_mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- checksums, parse, build ------------------------------------------ */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Internet checksum (RFC 1071), written independently of DPDK's so that the
 * stack's checksums are checked against a second implementation. */
uint16_t
sp_h_csum(const void *p, uint32_t len, uint32_t sum)
{
	const uint8_t *b = p;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
pseudo_sum(const uint8_t *ip, uint32_t l4len)
{
	return be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) +
	       ip[9] + l4len;
}

bool
sp_h_parse(const uint8_t *f, uint32_t len, struct sp_h_pkt *p)
{
	const uint8_t *ip, *l4;
	uint32_t ihl, tot, l4len;

	memset(p, 0, offsetof(struct sp_h_pkt, payload));
	p->wscale = -1;
	if (len < 14)
		return false;
	p->len = len;
	memcpy(p->dst_mac, f, 6);
	memcpy(p->src_mac, f + 6, 6);
	p->ethertype = be16(f + 12);
	if (p->ethertype == 0x0806 && len >= 42) {
		p->arp_op = be16(f + 20);
		memcpy(p->arp_sha, f + 22, 6);
		p->arp_sip = be32(f + 28);
		memcpy(p->arp_tha, f + 32, 6);
		p->arp_tip = be32(f + 38);
		return true;
	}
	if (p->ethertype != 0x0800 || len < 34)
		return true;
	ip = f + 14;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	tot = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > len - 14)
		return true;
	p->ip = true;
	p->ip_csum_ok = sp_h_csum(ip, ihl, 0) == 0;
	p->ip_tot = (uint16_t)tot;
	p->ip_frag = be16(ip + 6);
	p->ttl = ip[8];
	p->proto = ip[9];
	p->sip = be32(ip + 12);
	p->dip = be32(ip + 16);
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (p->proto == 6 && l4len >= 20) {
		uint32_t doff = (uint32_t)(l4[12] >> 4) * 4, i;

		p->tcp = true;
		p->l4_csum_ok = sp_h_csum(l4, l4len, pseudo_sum(ip, l4len)) ==
				0;
		p->sport = be16(l4);
		p->dport = be16(l4 + 2);
		p->seq = be32(l4 + 4);
		p->ack = be32(l4 + 8);
		p->flags = l4[13];
		p->win = be16(l4 + 14);
		if (doff < 20 || doff > l4len)
			return true;
		for (i = 20; i < doff;) {
			uint8_t kind = l4[i];

			if (kind == 0)
				break;
			if (kind == 1) {
				i++;
				continue;
			}
			if (i + 1 >= doff || l4[i + 1] < 2)
				break;
			if (kind == 2 && l4[i + 1] == 4)
				p->mss = be16(l4 + i + 2);
			if (kind == 3 && l4[i + 1] == 3)
				p->wscale = l4[i + 2];
			if (kind == 4 && l4[i + 1] == 2)
				p->sack_ok = true;
			if (kind == 5 && i + l4[i + 1] <= doff) {
				uint32_t k;

				for (k = 2; k + 8 <= l4[i + 1] && p->nsack < 4;
				     k += 8, p->nsack++) {
					p->sack[p->nsack][0] = be32(l4 + i + k);
					p->sack[p->nsack][1] = be32(l4 + i + k +
								    4);
				}
			}
			i += l4[i + 1];
		}
		p->plen = l4len - doff;
		memcpy(p->payload, l4 + doff, p->plen);
	} else if (p->proto == 1 && l4len >= 8) {
		p->l4_csum_ok = sp_h_csum(l4, l4len, 0) == 0;
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->icmp_id = be16(l4 + 4);
		p->icmp_seq = be16(l4 + 6);
		p->plen = l4len - 8;
		if (p->plen > sizeof(p->payload))
			p->plen = sizeof(p->payload);
		memcpy(p->payload, l4 + 8, p->plen);
	}
	return true;
}

static void
put_eth(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint16_t type)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, type);
}

static void
put_ip(uint8_t *ip, uint32_t sip, uint32_t dip, uint8_t proto, uint32_t tot)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, sip);
	put32(ip + 16, dip);
}

void
sp_h_fix_ip_csum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, sp_h_csum(ip, ihl, 0));
}

void
sp_h_fix_l4_csum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
	uint32_t l4len = be16(ip + 2) - ihl;
	uint8_t *l4 = ip + ihl;

	if (ip[9] == 6) {
		put16(l4 + 16, 0);
		put16(l4 + 16, sp_h_csum(l4, l4len, pseudo_sum(ip, l4len)));
	} else if (ip[9] == 1) {
		put16(l4 + 2, 0);
		put16(l4 + 2, sp_h_csum(l4, l4len, 0));
	}
}

uint32_t
sp_h_build_tcp(uint8_t *f, const struct sp_h_seg *s)
{
	uint32_t optlen = (s->optlen + 3) & ~3u;
	uint32_t thl = 20 + optlen, tot = 20 + thl + s->len;
	uint8_t *ip = f + 14, *th = ip + 20;

	put_eth(f, s->dmac, s->smac, 0x0800);
	put_ip(ip, s->sip, s->dip, 6, tot);
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->win);
	put16(th + 16, 0);
	put16(th + 18, 0);
	memset(th + 20, 0, optlen);
	if (s->optlen)
		memcpy(th + 20, s->opt, s->optlen);
	if (s->len)
		memcpy(th + thl, s->data, s->len);
	sp_h_fix_ip_csum(f);
	sp_h_fix_l4_csum(f);
	if (s->bad_ip_csum)
		ip[10] ^= 0x5a;
	if (s->bad_tcp_csum)
		th[16] ^= 0x5a;
	return 14 + tot;
}

uint32_t
sp_h_build_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op,
	       const uint8_t *sha, uint32_t sip, const uint8_t *tha,
	       uint32_t tip)
{
	memset(f, 0, 60);
	put_eth(f, eth_dst, sha, 0x0806);
	put16(f + 14, 1);      /* Ethernet */
	put16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	put32(f + 28, sip);
	memcpy(f + 32, tha, 6);
	put32(f + 38, tip);
	return 60;
}

uint32_t
sp_h_build_icmp(uint8_t *f, const uint8_t *smac, const uint8_t *dmac,
		uint32_t sip, uint32_t dip, uint8_t type, uint16_t id,
		uint16_t seq, const void *data, uint32_t len)
{
	uint8_t *ip = f + 14, *ic = ip + 20;

	put_eth(f, dmac, smac, 0x0800);
	put_ip(ip, sip, dip, 1, 20 + 8 + len);
	ic[0] = type;
	ic[1] = 0;
	put16(ic + 4, id);
	put16(ic + 6, seq);
	if (len)
		memcpy(ic + 8, data, len);
	sp_h_fix_ip_csum(f);
	sp_h_fix_l4_csum(f);
	return 14 + 20 + 8 + len;
}

/* ---- deterministic streams -------------------------------------------- */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint8_t
sp_h_pat(uint32_t seed, uint64_t off)
{
	uint64_t w = mix64(((uint64_t)seed << 40) ^ (off >> 3));

	return (uint8_t)(w >> ((off & 7) * 8));
}

void
sp_h_pat_fill(uint32_t seed, uint64_t off, uint8_t *dst, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		dst[i] = sp_h_pat(seed, off + i);
}

uint32_t
sp_h_seed(uint16_t client_port, bool to_server)
{
	return 0x5e0000u + 2u * client_port + (to_server ? 0u : 1u);
}

uint64_t
sp_h_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- frame buffers ---------------------------------------------------- */

#define NBUF (2 * SP_H_QCAP + 64)
static uint8_t *bufs[NBUF];
static uint32_t buf_len[NBUF];
static uint8_t buf_hooked[NBUF];
static uint32_t buf_free_list[NBUF];
static uint32_t nbuf_free;

static void
bufs_init(void)
{
	uint32_t i;

	if (bufs[0])
		return;
	for (i = 0; i < NBUF; i++) {
		bufs[i] = malloc(SP_FRAME_MAX);
		if (!bufs[i]) {
			fprintf(stderr, "harness: out of memory\n");
			exit(2);
		}
		buf_free_list[i] = NBUF - 1 - i;
	}
	nbuf_free = NBUF;
}

static uint32_t
buf_get(void)
{
	if (nbuf_free == 0)
		return UINT32_MAX;
	return buf_free_list[--nbuf_free];
}

static void
buf_put(uint32_t i)
{
	buf_free_list[nbuf_free++] = i;
}

static bool
q_push(struct sp_h_node *nd, uint32_t b)
{
	if (nd->qlen == SP_H_QCAP)
		return false;
	nd->q[(nd->qhead + nd->qlen) % SP_H_QCAP] = b;
	nd->qlen++;
	return true;
}

static uint32_t
q_pop(struct sp_h_node *nd)
{
	uint32_t b = nd->q[nd->qhead];

	nd->qhead = (nd->qhead + 1) % SP_H_QCAP;
	nd->qlen--;
	return b;
}

static uint8_t *
h_tx_alloc(void *io_ctx, void **handle)
{
	struct sp_h_node *nd = io_ctx;
	uint32_t b;

	if (nd->fail_alloc) {
		nd->fail_alloc--;
		return NULL;
	}
	b = buf_get();
	if (b == UINT32_MAX) {
		CHECK(!"harness out of frame buffers");
		return NULL;
	}
	*handle = (void *)(uintptr_t)(b + 1);
	return bufs[b];
}

static struct sp_h_pkt tx_scratch;
static void deliver(struct sp_h_net *n, int d, uint32_t b);
static bool forcing; /* a forced delivery is running */

/*
 * A frame the stack left checksums of to the NIC (@ol: its mbuf flags):
 * check it asks as a NIC needs (an IPv4 frame with a 20-byte header, the
 * IPv4 field 0, the TCP field the pseudo-header's sum, as
 * rte_ipv4_phdr_cksum), then do what the NIC does: the IPv4 header's
 * checksum, and the TCP one summed over the segment from that field on.
 */
static void
h_nic_tx(struct sp_h_node *nd, uint8_t *f, uint32_t len, uint64_t ol)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint32_t l4len;

	CHECK(nd->cfg.offload != 0);
	CHECK(ol & RTE_MBUF_F_TX_IPV4);
	CHECK_EQ(ol & ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			RTE_MBUF_F_TX_TCP_CKSUM),
		 0);
	CHECK_EQ(be16(f + 12), 0x0800);
	CHECK_EQ(ip[0], 0x45);
	if (len < 34 || be16(f + 12) != 0x0800 || ip[0] != 0x45 ||
	    be16(ip + 2) < 20 || be16(ip + 2) > len - 14)
		return;
	l4len = be16(ip + 2) - 20u;
	nd->tx_offloaded++;
	if (ol & RTE_MBUF_F_TX_TCP_CKSUM) {
		CHECK_EQ(ip[9], 6);
		CHECK_GE(l4len, 20);
		/* not complemented: ~ of sp_h_csum's complement */
		CHECK_EQ(be16(l4 + 16),
			 (uint16_t)~sp_h_csum(l4, 0, pseudo_sum(ip, l4len)));
		put16(l4 + 16, sp_h_csum(l4, l4len, 0));
	}
	if (ol & RTE_MBUF_F_TX_IP_CKSUM) {
		CHECK_EQ(be16(ip + 10), 0);
		put16(ip + 10, sp_h_csum(ip, 20, 0));
	}
}

/* The NIC's verdicts on a frame to a node with checksum offload: the flags
 * a receiving NIC would set (as sp_h_parse judges the checksums). */
static uint64_t
h_nic_rx(const uint8_t *f, uint32_t len)
{
	static struct sp_h_pkt pkt;
	struct sp_h_pkt *p = &pkt;
	uint64_t ol = 0;

	sp_h_parse(f, len, p);
	if (!p->ip)
		return 0;
	ol |= p->ip_csum_ok ? RTE_MBUF_F_RX_IP_CKSUM_GOOD :
			      RTE_MBUF_F_RX_IP_CKSUM_BAD;
	if (p->tcp)
		ol |= p->l4_csum_ok ? RTE_MBUF_F_RX_L4_CKSUM_GOOD :
				      RTE_MBUF_F_RX_L4_CKSUM_BAD;
	return ol;
}

static void
h_tx_send(void *io_ctx, void *handle, uint32_t len, uint64_t ol_flags)
{
	struct sp_h_node *nd = io_ctx;
	uint32_t b = (uint32_t)(uintptr_t)handle - 1;
	struct sp_h_pkt *p = nd->capture ? &nd->cap[nd->ncap % SP_H_CAP] :
					   &tx_scratch;

	/* Every frame any stack emits is well-formed: size within the
	 * Ethernet limits, and valid IPv4 and TCP/ICMP checksums (once the
	 * NIC did its part). */
	CHECK_LE(len, SP_FRAME_MAX);
	CHECK_GE(len, 60);
	if (len > SP_FRAME_MAX)
		len = SP_FRAME_MAX;
	if (ol_flags != 0)
		h_nic_tx(nd, bufs[b], len, ol_flags);
	else if (nd->cfg.offload & SP_OFFLOAD_TX_IPV4_CKSUM)
		/* offload on: every IPv4 frame leaves it to the NIC */
		CHECK_NE(be16(bufs[b] + 12), 0x0800);
	sp_h_parse(bufs[b], len, p);
	if (p->ethertype == 0x0800) {
		CHECK(p->ip);
		CHECK(p->ip_csum_ok);
		CHECK(p->l4_csum_ok);
	}
	if (nd->capture)
		nd->ncap++;
	buf_len[b] = len;
	buf_hooked[b] = 0;
	nd->emitted++;
	/* A wire does not hold frames without limit: when the sender has
	 * filled its queue (tiny segments from tiny writes), the oldest frame
	 * reaches the peer now. One level only: the peer's answer must not
	 * re-enter the stack that is sending. */
	if (nd->qlen == SP_H_QCAP && nd->net->nnodes == 2 && !forcing) {
		forcing = true;
		deliver(nd->net, nd->id, q_pop(nd));
		forcing = false;
	}
	if (!q_push(nd, b)) {
		CHECK(!"harness queue full");
		buf_put(b);
	}
}

/* ---- the application -------------------------------------------------- */

#define NREC 4096u
static struct sp_h_conn recs[NREC];
static uint32_t nrec;
static uint8_t send_tmp[64 * 1024];

struct sp_h_conn *
sp_h_conn_at(uint32_t i)
{
	return &recs[i];
}

uint32_t
sp_h_conn_count(void)
{
	return nrec;
}

static struct sp_h_conn *
rec_new(struct sp_h_node *nd)
{
	struct sp_h_conn *r;

	if (nrec == NREC) {
		CHECK(!"harness out of connection records");
		return NULL;
	}
	r = &recs[nrec++];
	memset(r, 0, offsetof(struct sp_h_conn, rx_log));
	r->node = nd;
	return r;
}

static void
maybe_close(struct sp_h_conn *r)
{
	int rc;

	if (!r->c || r->close_called || r->tx_done != r->tx_total)
		return;
	if (!r->close_after_send && !(r->close_on_fin && r->peer_fin))
		return;
	r->close_called = true;
	rc = sp_tcp_close(r->node->st, r->c);
	CHECK_EQ(rc, 0);
}

void
sp_h_send_more(struct sp_h_conn *r)
{
	while (r->c && r->connected && !r->close_called &&
	       r->tx_done < r->tx_total) {
		uint64_t left = r->tx_total - r->tx_done;
		uint32_t n = r->split ? r->split : sizeof(send_tmp);
		int32_t rc;

		if (n > sizeof(send_tmp))
			n = sizeof(send_tmp);
		if (n > left)
			n = (uint32_t)left;
		if (r->zc) {
			uint8_t *b = NULL;

			rc = sp_tcp_send_buf(r->node->st, r->c, &b);
			if (rc > 0) {
				bool more = (uint32_t)rc < n;

				if ((uint32_t)rc > n)
					rc = (int32_t)n;
				else
					n = (uint32_t)rc; /* a chunk's end */
				sp_h_pat_fill(r->seed_tx, r->tx_done, b,
					      (uint32_t)rc);
				sp_tcp_send_commit(r->node->st, r->c,
						   (uint32_t)rc, more);
			}
		} else {
			sp_h_pat_fill(r->seed_tx, r->tx_done, send_tmp, n);
			rc = sp_tcp_send(r->node->st, r->c, send_tmp, n);
		}
		if (rc < 0) {
			CHECK(!"sp_tcp_send failed on a connected connection");
			return;
		}
		r->tx_done += (uint32_t)rc;
		if ((uint32_t)rc < n)
			break;
	}
	maybe_close(r);
}

static void
app_connected(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_h_node *nd = app;
	struct sp_h_conn *r = sp_conn_user(c);

	CHECK(nd->st == st);
	if (!r) {
		r = rec_new(nd);
		if (!r)
			return;
		r->c = c;
		r->passive = true;
		r->client_port = sp_conn_remote_port(c);
		r->seed_tx = sp_h_seed(r->client_port, false);
		r->seed_rx = sp_h_seed(r->client_port, true);
		r->tx_total = nd->acc_tx_total;
		r->split = nd->acc_split;
		r->close_after_send = nd->acc_close_after_send;
		r->close_on_fin = nd->acc_close_on_fin;
		sp_conn_set_user(c, r);
		nd->last_accepted = r;
	}
	CHECK(r->c == c);
	CHECK(!r->connected);
	CHECK_EQ(sp_conn_state(c), SP_TCP_ESTABLISHED);
	r->connected = true;
	nd->n_connected++;
	sp_h_send_more(r);
}

static void
app_recv(struct sp_stack *st, struct sp_conn *c, void *app, const uint8_t *data,
	 uint32_t len)
{
	struct sp_h_conn *r = sp_conn_user(c);
	uint32_t i;

	(void)st;
	(void)app;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(r->c == c);
	CHECK(r->connected);
	CHECK(!r->closed);
	CHECK(!r->peer_fin);
	CHECK_GT(len, 0);
	for (i = 0; i < len; i++) {
		uint64_t off = r->rx_bytes + i;

		if (data[i] != sp_h_pat(r->seed_rx, off))
			r->rx_bad++;
		if (off < SP_H_RXLOG)
			r->rx_log[off] = data[i];
	}
	r->rx_bytes += len;
	r->rx_calls++;
	if (r->send_on_recv)
		sp_h_send_more(r);
}

static void
app_sent(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_h_conn *r = sp_conn_user(c);

	(void)st;
	(void)app;
	CHECK(r != NULL);
	if (!r)
		return;
	r->sent_calls++;
	sp_h_send_more(r);
}

static void
app_peer_fin(struct sp_stack *st, struct sp_conn *c, void *app)
{
	struct sp_h_node *nd = app;
	struct sp_h_conn *r = sp_conn_user(c);

	(void)st;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(!r->peer_fin);
	r->peer_fin = true;
	nd->n_peer_fin++;
	maybe_close(r);
}

static void
app_closed(struct sp_stack *st, struct sp_conn *c, void *app,
	   enum sp_close_reason why)
{
	struct sp_h_node *nd = app;
	struct sp_h_conn *r = sp_conn_user(c);

	(void)st;
	/* Every connection the application hears closed is one it knew:
	 * active ones from the start, passive ones once connected() ran. */
	CHECK(r != NULL);
	CHECK_LT(why, SP_CLOSE_NREASONS);
	nd->n_closed++;
	nd->n_closed_why[why]++;
	if (!r)
		return;
	CHECK(r->c == c);
	CHECK(!r->closed);
	r->closed = true;
	r->why = why;
	r->c = NULL;
}

static const struct sp_tcp_ops app_ops = {
	.connected = app_connected,
	.recv = app_recv,
	.sent = app_sent,
	.peer_fin = app_peer_fin,
	.closed = app_closed,
};

struct sp_h_conn *
sp_h_connect(struct sp_h_node *nd, uint32_t dst_ip, uint16_t dst_port,
	     uint64_t tx_total)
{
	struct sp_h_conn *r = rec_new(nd);
	int err = 1;

	if (!r)
		return NULL;
	r->tx_total = tx_total;
	r->c = sp_tcp_connect(nd->st, dst_ip, dst_port, r, &err);
	CHECK(r->c != NULL);
	CHECK_EQ(err, 0);
	if (!r->c) {
		r->closed = true;
		return r;
	}
	CHECK_EQ(sp_conn_state(r->c), SP_TCP_SYN_SENT);
	CHECK(sp_conn_user(r->c) == r);
	r->client_port = sp_conn_local_port(r->c);
	r->seed_tx = sp_h_seed(r->client_port, true);
	r->seed_rx = sp_h_seed(r->client_port, false);
	return r;
}

/* ---- the wire --------------------------------------------------------- */

void
sp_h_net_init(struct sp_h_net *n, int nnodes, uint32_t max_conns)
{
	int i;

	bufs_init();
	memset(n, 0, sizeof(*n));
	nrec = 0;
	n->nnodes = nnodes;
	n->check_invariants = true;
	n->auto_arp = true;
	for (i = 0; i < nnodes; i++) {
		struct sp_h_node *nd = &n->node[i];

		nd->net = n;
		nd->id = i;
		sp_stack_config_defaults(&nd->cfg, max_conns);
		memcpy(nd->cfg.mac, sp_h_mac[i], 6);
		nd->cfg.ip = i == 0 ? SP_H_IP_CLIENT : SP_H_IP_SERVER;
		nd->cfg.prefix_len = 24;
		nd->cfg.tx_alloc = h_tx_alloc;
		nd->cfg.tx_send = h_tx_send;
		nd->cfg.io_ctx = nd;
	}
}

void
sp_h_net_start(struct sp_h_net *n, uint64_t t0_us)
{
	int i;

	n->now = t0_us;
	for (i = 0; i < n->nnodes; i++) {
		int err = 1;

		struct sp_h_node *nd = &n->node[i];

		if (nd->nic_csum)
			nd->cfg.offload = SP_OFFLOAD_TX_IPV4_CKSUM |
					  SP_OFFLOAD_TX_TCP_CKSUM;
		nd->st = sp_stack_create(&nd->cfg, nd->ops ? nd->ops : &app_ops,
					 nd->ops ? nd->app : nd, &err);
		CHECK(n->node[i].st != NULL);
		CHECK_EQ(err, 0);
		if (!n->node[i].st) {
			fprintf(stderr, "sp_stack_create: %d\n", err);
			exit(2);
		}
		/* API calls between inputs use the stack's last-seen time. */
		sp_stack_poll(n->node[i].st, t0_us);
	}
}

static void
dump_conns(struct sp_stack *st)
{
	uint32_t i, shown = 0;

	for (i = 0; i < st->cfg.max_conns && shown < 8; i++) {
		struct sp_conn *c = &st->conns[i];
		uint32_t j = st->conn_free;
		bool free_ = false;

		while (j != SP_NIL && !free_) {
			free_ = j == i;
			j = st->conns[j].hnext;
		}
		if (free_)
			continue;
		fprintf(stderr,
			"  conn %u %s lport %u rport %u flags 0x%x "
			"una %u nxt %u max %u sq %u ooo %u\n",
			i, sp_tcp_state_name((enum sp_tcp_state)c->state),
			c->lport, c->rport, c->flags, c->snd_una, c->snd_nxt,
			c->snd_max, c->sq_len, c->ooo_count);
		shown++;
	}
}

void
sp_h_net_finish(struct sp_h_net *n)
{
	uint32_t tw = 0;
	int i;

	for (i = 0; i < n->nnodes; i++)
		if (n->node[i].cfg.time_wait_us > tw)
			tw = n->node[i].cfg.time_wait_us;
	sp_h_advance(n,
		     n->finish_us ? n->finish_us : (uint64_t)tw + 1000 * 1000);
	for (i = 0; i < n->nnodes; i++) {
		struct sp_h_node *nd = &n->node[i];

		CHECK_EQ(sp_stack_conns_in_use(nd->st), 0);
		CHECK_EQ(sp_stack_chunks_in_use(nd->st), 0);
		if (sp_stack_conns_in_use(nd->st))
			dump_conns(nd->st);
		sp_h_invariants(nd->st);
		sp_h_flush(nd);
	}
	CHECK_EQ(nbuf_free, NBUF);
	sp_h_alloc_counting = false;
	for (i = 0; i < n->nnodes; i++) {
		sp_stack_destroy(n->node[i].st);
		n->node[i].st = NULL;
	}
}

static void
deliver(struct sp_h_net *n, int d, uint32_t b)
{
	struct sp_h_node *src = &n->node[d], *dst = &n->node[1 - d];

	if (!buf_hooked[b] && src->hook) {
		int v;

		buf_hooked[b] = 1;
		v = src->hook(n, d, bufs[b], &buf_len[b], src->hook_arg);
		if (v == SP_H_DROP) {
			n->hook_dropped++;
			buf_put(b);
			return;
		}
		if (v == SP_H_DELAY) {
			q_push(src, b);
			return;
		}
		if (v == SP_H_DUP) {
			uint32_t k = buf_get();

			if (k != UINT32_MAX) {
				memcpy(bufs[k], bufs[b], buf_len[b]);
				buf_len[k] = buf_len[b];
				buf_hooked[k] = 1;
				if (!q_push(src, k))
					buf_put(k);
			}
		}
	}
	sp_stack_input_ol(dst->st, bufs[b], buf_len[b], n->now,
			  dst->nic_csum ? h_nic_rx(bufs[b], buf_len[b]) : 0);
	buf_put(b);
	n->delivered++;
}

uint64_t
sp_h_pump(struct sp_h_net *n)
{
	uint64_t total = 0;
	int d;

	if (n->nnodes < 2)
		return 0;
	for (;;) {
		bool any = false;

		for (d = 0; d < 2; d++) {
			uint32_t k = n->node[d].qlen;

			/* Forced deliveries may have taken some. */
			while (k-- && n->node[d].qlen) {
				deliver(n, d, q_pop(&n->node[d]));
				any = true;
				total++;
			}
		}
		if (!any)
			break;
		if (total > 50u * 1000 * 1000) {
			CHECK(!"wire never goes quiet");
			sp_h_flush(&n->node[0]);
			sp_h_flush(&n->node[1]);
			break;
		}
	}
	if (total && n->check_invariants) {
		sp_h_invariants(n->node[0].st);
		sp_h_invariants(n->node[1].st);
	}
	return total;
}

static void
auto_arp(struct sp_h_net *n)
{
	struct sp_h_node *nd = &n->node[0];
	uint32_t k = nd->qlen, b;
	bool asked = false;

	while (k--) {
		const uint8_t *f;

		b = q_pop(nd);
		f = bufs[b];
		if (be16(f + 12) == 0x0806 && be16(f + 20) == 1 &&
		    be32(f + 38) == SP_H_IP_SERVER) {
			buf_put(b);
			asked = true;
		} else {
			q_push(nd, b);
		}
	}
	if (asked) {
		uint8_t f[64];
		uint32_t len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac[1],
					      SP_H_IP_SERVER, sp_h_mac[0],
					      SP_H_IP_CLIENT);

		sp_stack_input(nd->st, f, len, n->now);
	}
}

void
sp_h_advance(struct sp_h_net *n, uint64_t us)
{
	uint64_t end = n->now + us;
	uint32_t steps = 0;
	int i;

	while (n->now < end) {
		uint64_t step = 1000 - n->now % 1000;
		uint64_t before = 0;

		if (n->now + step > end)
			step = end - n->now;
		n->now += step;
		for (i = 0; i < n->nnodes; i++)
			before += n->node[i].emitted;
		for (i = 0; i < n->nnodes; i++)
			sp_stack_poll(n->node[i].st, n->now);
		for (i = 0; i < n->nnodes; i++)
			before -= n->node[i].emitted;
		sp_h_pump(n);
		if (n->nnodes == 1 && n->auto_arp)
			auto_arp(n);
		/* The full walk is not free: after timers did something, and
		 * now and then. */
		if (n->check_invariants && (before || (++steps & 63) == 0))
			for (i = 0; i < n->nnodes; i++)
				sp_h_invariants(n->node[i].st);
	}
}

bool
sp_h_run(struct sp_h_net *n, bool (*done)(struct sp_h_net *, void *), void *arg,
	 uint64_t max_us)
{
	uint64_t end = n->now + max_us;

	for (;;) {
		sp_h_pump(n);
		if (done(n, arg))
			return true;
		if (n->now >= end)
			return false;
		sp_h_advance(n, 1000 - n->now % 1000);
	}
}

bool
sp_h_pop(struct sp_h_node *nd, struct sp_h_pkt *p)
{
	uint32_t b;

	if (!nd->qlen)
		return false;
	b = q_pop(nd);
	sp_h_parse(bufs[b], buf_len[b], p);
	buf_put(b);
	return true;
}

uint32_t
sp_h_pending(const struct sp_h_node *nd)
{
	return nd->qlen;
}

void
sp_h_flush(struct sp_h_node *nd)
{
	while (nd->qlen)
		buf_put(q_pop(nd));
}

int
sp_h_inject(struct sp_h_node *nd, const uint8_t *f, uint32_t len)
{
	int rc = sp_stack_input_ol(nd->st, f, len, nd->net->now, nd->rx_ol);

	if (nd->net->check_invariants)
		sp_h_invariants(nd->st);
	return rc;
}

void
sp_h_expect_drop_at(const char *file, int line, struct sp_h_node *nd,
		    const uint8_t *f, uint32_t len, enum sp_drop_reason reason,
		    bool answered)
{
	struct sp_stack_stats before = *sp_stack_stats(nd->st);
	const struct sp_stack_stats *after;
	uint32_t q = nd->qlen;
	int rc, r;

	rc = sp_h_inject(nd, f, len);
	after = sp_stack_stats(nd->st);
	sp_h_checks++;
	if (rc != SP_DROP_ERR(reason))
		sp_h_fail(file, line, "input returned %d, want %d (%s)", rc,
			  SP_DROP_ERR(reason), sp_drop_reason_name(reason));
	for (r = 0; r < SP_DROP_NREASONS; r++) {
		uint64_t want = before.drop[r] + (r == (int)reason ? 1 : 0);

		sp_h_checks++;
		if (after->drop[r] != want)
			sp_h_fail(file, line, "drop[%s] = %llu, want %llu",
				  sp_drop_reason_name((enum sp_drop_reason)r),
				  (unsigned long long)after->drop[r],
				  (unsigned long long)want);
	}
	sp_h_checks++;
	if (!answered && nd->qlen != q)
		sp_h_fail(file, line, "dropped frame was answered (%u frames)",
			  nd->qlen - q);
	if (answered && nd->qlen == q)
		sp_h_fail(file, line, "dropped frame was not answered");
}

bool
sp_h_expect_seg_at(const char *file, int line, struct sp_h_node *nd,
		   uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen,
		   struct sp_h_pkt *out)
{
	static struct sp_h_pkt tmp;
	struct sp_h_pkt *p = out ? out : &tmp;

	sp_h_checks++;
	if (!sp_h_pop(nd, p)) {
		sp_h_fail(file, line,
			  "no segment emitted, want flags 0x%02x "
			  "seq %u ack %u len %u",
			  flags, seq, ack, plen);
		return false;
	}
	if (!p->tcp || p->flags != flags ||
	    (seq != SP_H_ANY && p->seq != seq) ||
	    (ack != SP_H_ANY && p->ack != ack) ||
	    (plen != SP_H_ANY && p->plen != plen)) {
		sp_h_fail(file, line,
			  "segment %s flags 0x%02x seq %u ack %u "
			  "len %u, want flags 0x%02x seq %u ack %u len %u",
			  p->tcp ? "TCP" : "non-TCP", p->flags, p->seq, p->ack,
			  p->plen, flags, seq, ack, plen);
		return false;
	}
	return true;
}

void
sp_h_expect_none_at(const char *file, int line, struct sp_h_node *nd)
{
	static struct sp_h_pkt p;

	sp_h_checks++;
	if (!sp_h_pending(nd))
		return;
	sp_h_fail(file, line, "%u unexpected frame(s)", sp_h_pending(nd));
	while (sp_h_pop(nd, &p))
		sp_h_fail(file, line,
			  "  ethertype 0x%04x tcp %d flags 0x%02x "
			  "seq %u ack %u len %u",
			  p.ethertype, p.tcp, p.flags, p.seq, p.ack, p.plen);
}

void
sp_h_resolve(struct sp_h_net *n)
{
	uint8_t f[64], mac[6];
	uint32_t len;

	if (n->nnodes == 2) {
		sp_arp_request(n->node[0].st, SP_H_IP_SERVER);
		sp_h_pump(n);
		CHECK(sp_arp_lookup(n->node[0].st, SP_H_IP_SERVER, mac));
		CHECK(sp_arp_lookup(n->node[1].st, SP_H_IP_CLIENT, mac));
		return;
	}
	len = sp_h_build_arp(f, sp_h_mac[0], 2, sp_h_mac[1], SP_H_IP_SERVER,
			     sp_h_mac[0], SP_H_IP_CLIENT);
	CHECK_EQ(sp_h_inject(&n->node[0], f, len), 0);
	CHECK(sp_arp_lookup(n->node[0].st, SP_H_IP_SERVER, mac));
	CHECK_EQ(sp_h_pending(&n->node[0]), 0);
}

/* ---- invariants ------------------------------------------------------- */

#define MAXMARK 65536u
static uint8_t conn_free_mark[MAXMARK];

#define INV(cond, c)                                                           \
	do {                                                                   \
		sp_h_checks++;                                                 \
		if (!(cond)) {                                                 \
			bad++;                                                 \
			sp_h_fail(                                             \
				file, line,                                    \
				"invariant %s (conn %u %s flags 0x%x)", #cond, \
				(c) ? conn_idx(st, (c)) : 0,                   \
				(c) ? sp_tcp_state_name(                       \
					      (enum sp_tcp_state)(c)->state) : \
				      "-",                                     \
				(c) ? (c)->flags : 0);                         \
		}                                                              \
	} while (0)

static unsigned
conn_invariants(const char *file, int line, struct sp_stack *st,
		struct sp_conn *c, uint32_t *chunks)
{
	unsigned bad = 0;
	uint32_t i, n, last, flight;
	bool hint_seen;
	bool pending;

	INV(c->state >= SP_TCP_SYN_SENT && c->state <= SP_TCP_TIME_WAIT, c);
	INV(!(c->flags & SP_CF_ZOMBIE), c);
	INV(sp_conn_lookup(st, c->rip, c->rport, c->lip, c->lport) == c, c);
	INV(SEQ_LEQ(c->snd_una, c->snd_nxt), c);
	INV(SEQ_LEQ(c->snd_nxt, c->snd_max), c);
	INV(!(c->flags & SP_CF_ACK_NOW), c);
	INV(!(c->flags & SP_CF_FIN_SENT) || (c->flags & SP_CF_FIN_QUEUED), c);

	/* send queue: contiguous chunks from (at most) snd_una on, the
	 * hint one of them */
	n = 0;
	last = SP_NIL;
	hint_seen = c->sq_hint == SP_NIL;
	for (i = c->sq_head; i != SP_NIL && n <= st->cfg.chunks;
	     i = st->chunks[i].next) {
		INV(last == SP_NIL ? SEQ_LEQ(st->chunks[i].seq, c->snd_una) &&
					     SEQ_LT(c->snd_una,
						    st->chunks[i].seq +
							    st->chunks[i].len) :
				     st->chunks[i].seq ==
					     st->chunks[last].seq +
						     st->chunks[last].len,
		    c);
		hint_seen |= i == c->sq_hint;
		last = i;
		n++;
	}
	*chunks += n;
	INV(last == c->sq_tail, c);
	INV(hint_seen, c);
	INV(last == SP_NIL ? c->sq_len == 0 :
			     st->chunks[last].seq + st->chunks[last].len -
					     c->snd_una ==
				     c->sq_len,
	    c);
	INV(c->sq_len <= st->cfg.sndbuf, c);

	/* out-of-order queue: sorted, counted, all beyond rcv_nxt */
	n = 0;
	last = SP_NIL;
	for (i = c->ooo_head; i != SP_NIL && n <= st->cfg.chunks;
	     i = st->chunks[i].next) {
		INV(SEQ_GT(st->chunks[i].seq, c->rcv_nxt), c);
		INV(last == SP_NIL ||
			    SEQ_LEQ(st->chunks[last].seq, st->chunks[i].seq),
		    c);
		last = i;
		n++;
	}
	*chunks += n;
	INV(n == c->ooo_count, c);
	INV(c->ooo_count <= st->cfg.ooo_max, c);

	/* Every armed deadline has a wheel entry no later than it. */
	if (c->flags & (SP_CF_RTX_ARMED | SP_CF_DACK_ARMED)) {
		INV(c->tm_slot != SP_TM_NONE, c);
		if (c->flags & SP_CF_RTX_ARMED)
			INV(TICK_LEQ(c->tm_tick, c->rtx_tick), c);
		if (c->flags & SP_CF_DACK_ARMED)
			INV(TICK_LEQ(c->tm_tick, c->dack_tick), c);
	}
	/* Liveness: whatever waits on the peer has a timer. */
	switch (c->state) {
	case SP_TCP_SYN_SENT:
	case SP_TCP_SYN_RECEIVED:
	case SP_TCP_FIN_WAIT_2:
	case SP_TCP_TIME_WAIT:
		INV(c->flags & SP_CF_RTX_ARMED, c);
		break;
	default:
		flight = c->snd_max - c->snd_una;
		INV(flight <= c->sq_len + ((c->flags & SP_CF_FIN_SENT) ? 1 : 0),
		    c);
		pending = flight || c->sq_len ||
			  ((c->flags & SP_CF_FIN_QUEUED) &&
			   !(c->flags & SP_CF_FIN_SENT));
		if (pending)
			INV(c->flags & SP_CF_RTX_ARMED, c);
		break;
	}
	/* Data received and not yet acknowledged has an ACK coming. */
	if (c->segs_unacked)
		INV(c->flags & SP_CF_DACK_ARMED, c);
	return bad;
}

unsigned
sp_h_invariants_at(const char *file, int line, struct sp_stack *st)
{
	const struct sp_conn *none = NULL;
	unsigned bad = 0;
	uint32_t i, nfree = 0, nchunk_free = 0, chunks = 0, active = 0, s;

	if (!st)
		return 0;
	INV(st->cfg.max_conns <= MAXMARK, none);
	if (st->cfg.max_conns > MAXMARK)
		return bad;
	INV(st->depth == 0, none);
	INV(st->zombies == SP_NIL, none);
	memset(conn_free_mark, 0, st->cfg.max_conns);
	for (i = st->conn_free; i != SP_NIL && nfree <= st->cfg.max_conns;
	     i = st->conns[i].hnext) {
		conn_free_mark[i] = 1;
		nfree++;
	}
	INV(nfree + st->conns_used == st->cfg.max_conns, none);
	for (i = st->chunk_free; i != SP_NIL && nchunk_free <= st->cfg.chunks;
	     i = st->chunks[i].next)
		nchunk_free++;
	INV(nchunk_free + st->chunks_used == st->cfg.chunks, none);

	for (i = 0; i < st->cfg.max_conns; i++) {
		struct sp_conn *c = &st->conns[i];

		if (conn_free_mark[i]) {
			INV(c->tm_slot == SP_TM_NONE, c);
			continue;
		}
		if (!(c->flags & SP_CF_PASSIVE))
			active++;
		bad += conn_invariants(file, line, st, c, &chunks);
	}
	INV(chunks == st->chunks_used, none);
	INV(st->port_count + active == st->port_cap, none);
	INV(st->wheel[SP_TM_EXPIRED] == SP_NIL, none);
	for (s = 0; s < SP_WHEEL_SLOTS; s++)
		for (i = st->wheel[s]; i != SP_NIL; i = st->conns[i].tm_next) {
			struct sp_conn *c = &st->conns[i];

			INV(!conn_free_mark[i], c);
			INV(c->tm_slot == s, c);
			if (conn_free_mark[i] || c->tm_slot != s)
				break;
		}
	return bad;
}

/* ---- the crafted peer ------------------------------------------------- */

static const uint8_t opt_mss1460[4] = { 2, 4, 0x05, 0xb4 };

static int
peer_build_send(struct sp_h_peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
		uint16_t win, const uint8_t *opt, uint32_t optlen,
		const void *data, uint32_t len)
{
	static uint8_t f[2048];
	struct sp_h_seg s = {
		.smac = p->mac,
		.dmac = p->nd->cfg.mac,
		.sip = p->ip,
		.dip = p->nd->cfg.ip,
		.sport = p->port,
		.dport = p->stack_port,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = win,
		.opt = opt,
		.optlen = optlen,
		.data = data,
		.len = len,
	};

	return sp_h_inject(p->nd, f, sp_h_build_tcp(f, &s));
}

void
sp_h_peer_init(struct sp_h_peer *p, struct sp_h_node *nd)
{
	memset(p, 0, sizeof(*p));
	p->nd = nd;
	p->mac = sp_h_mac[1 - nd->id];
	p->ip = nd->id == 0 ? SP_H_IP_SERVER : SP_H_IP_CLIENT;
	p->port = 40000;
	p->win = 65535;
}

int
sp_h_peer_seg(struct sp_h_peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
	      uint16_t win, const void *data, uint32_t len)
{
	return peer_build_send(p, flags, seq, ack, win, NULL, 0, data, len);
}

int
sp_h_peer_send(struct sp_h_peer *p, uint8_t flags, const void *data,
	       uint32_t len)
{
	static uint8_t tmp[2048];
	uint32_t seq = p->snd_nxt;

	if (!data && len) {
		if (len > sizeof(tmp))
			len = sizeof(tmp);
		sp_h_pat_fill(p->data_seed, p->data_off, tmp, len);
		p->data_off += len;
		data = tmp;
	}
	p->snd_nxt += len + ((flags & TH_SYN) ? 1 : 0) +
		      ((flags & TH_FIN) ? 1 : 0);
	if (!(flags & TH_SYN))
		return peer_build_send(p, flags, seq,
				       (flags & TH_ACK) ? p->rcv_nxt : 0,
				       p->win, NULL, 0, data, len);
	return peer_build_send(p, flags, seq, (flags & TH_ACK) ? p->rcv_nxt : 0,
			       p->win, p->syn_opt ? p->syn_opt : opt_mss1460,
			       p->syn_opt ? p->syn_optlen : 4, data, len);
}

struct sp_h_conn *
sp_h_peer_accept(struct sp_h_peer *p, uint32_t peer_isn, uint16_t win)
{
	struct sp_h_conn *r = sp_h_connect(p->nd, p->ip, p->port, 0);
	struct sp_h_pkt pk;

	if (!r || !r->c)
		return r;
	CHECK(sp_h_pop(p->nd, &pk));
	CHECK(pk.tcp);
	CHECK_EQ(pk.flags, TH_SYN);
	CHECK_EQ(pk.dport, p->port);
	CHECK_EQ(pk.sip, p->nd->cfg.ip);
	CHECK_EQ(pk.dip, p->ip);
	p->stack_port = pk.sport;
	p->rcv_nxt = pk.seq + 1;
	p->snd_nxt = peer_isn;
	p->win = win;
	p->data_seed = r->seed_rx;
	p->data_off = 0;
	CHECK_EQ(sp_h_peer_send(p, TH_SYN | TH_ACK, NULL, 0), 0);
	CHECK(sp_h_pop(p->nd, &pk));
	CHECK_EQ(pk.flags, TH_ACK);
	CHECK_EQ(pk.seq, p->rcv_nxt);
	CHECK_EQ(pk.ack, peer_isn + 1);
	CHECK_EQ(pk.plen, 0);
	CHECK(r->connected);
	CHECK(r->c && sp_conn_state(r->c) == SP_TCP_ESTABLISHED);
	CHECK_EQ(sp_h_pending(p->nd), 0);
	return r;
}

struct sp_h_conn *
sp_h_peer_connect(struct sp_h_peer *p, uint16_t port, uint32_t peer_isn,
		  uint16_t win)
{
	struct sp_h_pkt pk;
	uint32_t before = p->nd->n_connected;

	p->stack_port = port;
	p->snd_nxt = peer_isn;
	p->win = win;
	p->data_seed = sp_h_seed(p->port, true);
	p->data_off = 0;
	p->nd->last_accepted = NULL;
	CHECK_EQ(sp_h_peer_send(p, TH_SYN, NULL, 0), 0);
	CHECK(sp_h_pop(p->nd, &pk));
	CHECK_EQ(pk.flags, TH_SYN | TH_ACK);
	CHECK_EQ(pk.ack, peer_isn + 1);
	CHECK_EQ(pk.sport, port);
	CHECK_EQ(pk.dport, p->port);
	CHECK_EQ(pk.mss, p->nd->cfg.mss);
	p->rcv_nxt = pk.seq + 1;
	CHECK_EQ(p->nd->n_connected, before); /* not before the ACK */
	CHECK_EQ(sp_h_peer_send(p, TH_ACK, NULL, 0), 0);
	CHECK_EQ(p->nd->n_connected, before + 1);
	CHECK(p->nd->last_accepted != NULL);
	return p->nd->last_accepted;
}

struct sp_h_node *
sp_h_start_one(struct sp_h_net *n, struct sp_h_peer *p, uint64_t t0_us,
	       void (*tweak)(struct sp_stack_config *))
{
	sp_h_net_init(n, 1, 64);
	if (tweak)
		tweak(&n->node[0].cfg);
	sp_h_net_start(n, t0_us);
	sp_h_resolve(n);
	sp_h_peer_init(p, &n->node[0]);
	return &n->node[0];
}

bool
sp_h_all_closed(struct sp_h_net *n, void *arg)
{
	uint32_t i;

	(void)n;
	(void)arg;
	for (i = 0; i < sp_h_conn_count(); i++)
		if (!sp_h_conn_at(i)->closed)
			return false;
	return true;
}
