/*
 * sp_reqlog: one record per finished request, from a worker core to the
 * control thread, through a fixed single-producer single-consumer ring.
 *
 * The worker (producer) never waits, allocates or calls the system: a
 * record that finds the ring full is counted in @dropped and lost. The
 * control thread (consumer) drains the ring every few milliseconds and
 * writes the records out (stampede run --log-requests). Head and tail live
 * on their own cache lines; each has one writer. Release on the index a
 * side publishes, acquire on the one it reads: the records between are
 * then complete (on x86-64 both are plain moves).
 */
#ifndef SP_REQLOG_H
#define SP_REQLOG_H

#include <stdint.h>

struct sp_reqlog_rec {
	uint64_t intended; /* µs, the worker's clock: the intended start */
	uint64_t sent;     /* its first frame queued (SYN, or first bytes
			     * on a kept connection); 0: never sent */
	uint64_t done;     /* last response byte, or the failure */
	uint32_t vu;       /* {{vu}} */
	uint32_t iter;     /* {{iteration}} */
	uint16_t req;      /* index of the plan's request */
	uint16_t status;   /* 0: no complete response */
	uint8_t err;       /* enum sp_vu_err + 1 if it failed, else 0 */
	uint8_t new_conn;  /* it opened its connection */
	uint8_t pad[2];
};

struct sp_reqlog {
	/* The producer's cache line: all a push reads and writes while the
	 * ring has room. */
	_Alignas(64) uint64_t head; /* records written */
	uint64_t dropped;           /* the ring was full */
	uint64_t tail_seen;         /* tail as last read: reread only
					 * when the ring looks full */
	struct sp_reqlog_rec *recs; /* size: a power of two */
	uint32_t mask;              /* size - 1 */
	/* The consumer's, a line of its own. */
	_Alignas(64) uint64_t tail; /* records taken */
};

/* Producer side. */
static inline void
sp_reqlog_push(struct sp_reqlog *l, const struct sp_reqlog_rec *r)
{
	uint64_t h = l->head;

	if (h - l->tail_seen > l->mask) {
		l->tail_seen = __atomic_load_n(&l->tail, __ATOMIC_ACQUIRE);
		if (h - l->tail_seen > l->mask) {
			__atomic_store_n(&l->dropped, l->dropped + 1,
					 __ATOMIC_RELAXED);
			return;
		}
	}
	l->recs[h & l->mask] = *r;
	__atomic_store_n(&l->head, h + 1, __ATOMIC_RELEASE);
}

/* Consumer side: the records ready, from *first (at most up to the ring's
 * end: call again after sp_reqlog_release for the rest). */
static inline uint32_t
sp_reqlog_peek(struct sp_reqlog *l, const struct sp_reqlog_rec **first)
{
	uint64_t t = l->tail, h = __atomic_load_n(&l->head, __ATOMIC_ACQUIRE);
	uint64_t n = h - t, to_end = (uint64_t)l->mask + 1 - (t & l->mask);

	*first = &l->recs[t & l->mask];
	return (uint32_t)(n < to_end ? n : to_end);
}

static inline void
sp_reqlog_release(struct sp_reqlog *l, uint32_t n)
{
	__atomic_store_n(&l->tail, l->tail + n, __ATOMIC_RELEASE);
}

#endif /* SP_REQLOG_H */
