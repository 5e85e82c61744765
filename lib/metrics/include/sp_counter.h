/*
 * Counters read across cores: the one rule.
 *
 * Every counter has exactly one writer, the core that owns it (a worker
 * its engine's, stack's and port's counters; the control core its own).
 * The writer changes a counter only through sp_ctr_add/sp_ctr_inc/
 * sp_ctr_set: a relaxed atomic store of the new value. Any other core
 * reads it only through sp_ctr_read: a relaxed atomic load. The writer's
 * own reads may be plain (nobody else writes).
 *
 * That makes each read a value the counter really had (no torn words, no
 * data race in C11's sense) at no cost on x86-64 or arm64: a relaxed
 * store or load of an aligned word is a plain mov, with no lock prefix
 * and no fence. It orders nothing: a reader sees each counter at some
 * recent moment, not a consistent set, so a reader that sums counters
 * sees sums a few events apart while a run is going and exact ones once
 * the writers have stopped. Where a set must agree (a histogram's count
 * against its buckets), the writer publishes with a release store and
 * the reader loads with acquire (sp_hist.h says where).
 */
#ifndef SP_COUNTER_H
#define SP_COUNTER_H

#define sp_ctr_set(c, v) __atomic_store_n(&(c), (v), __ATOMIC_RELAXED)
#define sp_ctr_add(c, n) sp_ctr_set((c), (c) + (n))
#define sp_ctr_inc(c) sp_ctr_add((c), 1)
#define sp_ctr_sub(c, n) sp_ctr_set((c), (c) - (n))
#define sp_ctr_read(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

#endif /* SP_COUNTER_H */
