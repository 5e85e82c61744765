/*
 * Value grammar shared by the command line (netopt.c) and scenario files
 * (scenario.c), so that `--duration 1m30s` and `duration: 1m30s` can never
 * mean different things. DPDK-free: the scenario loader's unit test and
 * fuzz target build it alone.
 */
#ifndef SP_VALUES_H
#define SP_VALUES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Two kinds of function here. A parser of the user's text (sp_val_duration,
 * sp_val_ip_range, sp_val_placement) returns 0, or -1 with why not in @why
 * (SP_VAL_WHY bytes): the whole message after the option or key, starting
 * with the text quoted ("'1x' is not a duration ..."), so that the command
 * line and the file say the same. A question about a value
 * (sp_val_ipv4_unusable, sp_val_target) returns why it cannot be, to
 * follow the address however the caller names it, or NULL.
 */
#define SP_VAL_WHY 320

/* Decimal digits only (strtoull would accept signs, spaces and hex):
 * 0 with *end past the last digit, -1 if none or on overflow. */
/* RFC 9110 5.6.2: token = 1*tchar */
int sp_is_token(const char *s);
int sp_val_digits(const char *s, const char **end, uint64_t *v);

/* The longest duration anything takes: a week. A run keeps a timeline
 * point per second (sized at start) and the stack's clocks are 64-bit
 * microseconds that must not wrap when a duration is added to them. */
#define SP_VAL_MAX_DURATION_US (168ull * 3600 * 1000000)
#define SP_VAL_MAX_DURATION_STR "168h"

/* "500ms", "10s", "2m", "1h", "1m30s", "250us"; a bare number is seconds;
 * at most SP_VAL_MAX_DURATION_US. */
int sp_val_duration(const char *s, uint64_t *us, char *why);

/* A byte count with an optional binary unit: "4096", "4k", "64KiB",
 * "1MiB", "2g"; at most @max. */
int sp_val_size(const char *s, uint64_t max, uint64_t *v, char *why);

/* Why no TCP peer can have @ip (0.0.0.0/8, loopback, multicast, the
 * limited broadcast, 240.0.0.0/4), to follow "A.B.C.D "; NULL if one can.
 * Any other address is the user's to choose: the benchmarking range
 * 198.18.0.0/15 binds this repository's tests and examples, not them. */
const char *sp_val_ipv4_unusable(uint32_t ip);

/* "A.B.C.D" or a range "A.B.C.D-E.F.G.H" of our own addresses, at most
 * 65536 of them, none unusable (above): *ip the first, *count how many.
 * When an address inside a range is the problem, @why names it. */
int sp_val_ip_range(const char *s, uint32_t *ip, uint32_t *count, char *why);

/* Why @dst cannot be the target of a connection from our addresses @ip
 * (@count of them) on a /@prefix_len network: unusable (above), one of
 * ours, or the directed broadcast of our network. NULL if it can be. */
/* The netmask of a prefix length (0..32), host order. */
uint32_t sp_val_mask(uint8_t len);
const char *sp_val_target(uint32_t dst, uint32_t ip, uint32_t count,
			  uint8_t prefix_len);

/* "auto", "rss" or "redirect" (--placement): *want its index, enum
 * sp_place_want. */
int sp_val_placement(const char *s, int *want, char *why);

/* --shard I/N: shard I (from 0) of N (1 to SP_VAL_SHARD_MAX). */
#define SP_VAL_SHARD_MAX 65536u
int sp_val_shard(const char *s, uint32_t *index, uint32_t *count, char *why);

/* An instant of the wall clock, ms since the epoch: RFC 3339
 * (2026-12-07T15:00:00Z, a fraction, an offset +01:00, 't' or ' ' for
 * 'T', 'z' for 'Z') or seconds since the epoch (1765119600, with a
 * fraction, or @1765119600). */
int sp_val_instant_ms(const char *s, uint64_t *ms, char *why);

#endif /* SP_VALUES_H */
