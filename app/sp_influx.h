/*
 * InfluxDB's write API from a thread of its own (app/influx.c), for
 * `--out influxdb=URL` (obs_influx.c formats the points). The control
 * lcore puts each second's lines into a bounded queue of preallocated
 * batches and never waits: when the queue is full the batch is dropped
 * and counted. The pusher takes whatever is queued, POSTs it as one
 * request with timeouts, and counts what was written and what failed.
 * No DPDK here: the unit test builds this file alone.
 */
#ifndef SP_INFLUX_H
#define SP_INFLUX_H

#include <stddef.h>
#include <stdint.h>

/* The URL of --out influxdb=, taken apart. */
struct sp_influx_url {
	int v2;      /* /api/v2/write?org=O&bucket=B: a token, not a user */
	char *post;  /* where the lines go, without credentials */
	char *shown; /* the URL as given, without credentials */
	char *user, *pass; /* v1: basic auth from USER:PASS@, else NULL */
};

/* @spec into @u (freed with sp_influx_url_free). 0, or -1 with why in
 * @err. v1: http[s]://[USER:PASS@]HOST[:PORT][/PREFIX]/DB[?rp=RP];
 * v2: http[s]://HOST[:PORT][/PREFIX]/api/v2/write?org=O&bucket=B (orgID
 * for org; precision=ms may be given, no other). */
int sp_influx_url_parse(struct sp_influx_url *u, const char *spec, char *err,
			size_t errlen);
void sp_influx_url_free(struct sp_influx_url *u);

struct sp_influx_conf {
	const char *url;                         /* --out influxdb=URL */
	const char *token;                       /* v2: required */
	uint32_t slots;                          /* batches the queue holds */
	size_t slot_bytes;                       /* the most one batch holds */
	uint32_t connect_timeout_ms, timeout_ms; /* per request */
};

/* What was pushed, added up. put = points + failed_points + dropped +
 * what is still queued or in flight (nothing after sp_influx_end). */
struct sp_influx_stats {
	uint64_t put;           /* points given to sp_influx_put */
	uint64_t points;        /* written: in a request answered 2xx */
	uint64_t batches;       /* requests answered 2xx */
	uint64_t dropped;       /* the queue was full, or the end came */
	uint64_t failed;        /* requests that failed (status or transport) */
	uint64_t failed_points; /* points in them */
	char first_error[256];  /* the first failure's words, "" if none */
	char last_error[256];
	/* sp_influx_end's phases (ms), to tell where an end's time went:
	 * the bounded wait for the queue, then from "stop" to the pusher
	 * gone (a request abandoned, the thread joined). */
	uint64_t end_wait_ms, end_stop_ms;
	int end_left_behind; /* the pusher had not left libcurl in time */
};

struct sp_influx;

/* The queue and the client, before the run (no thread yet). NULL with
 * why in @err: a bad URL, a missing token, no memory. */
struct sp_influx *sp_influx_create(const struct sp_influx_conf *c, char *err,
				   size_t errlen);
/* The pusher thread (from the thread whose CPU it should share: it
 * inherits that affinity, with every signal blocked). 0, or -1 (said in
 * the stats' errors; every batch put is then dropped). */
int sp_influx_start(struct sp_influx *ix);
/* @len bytes of @npoints points' lines into the queue: copied, never
 * waited for. 0 queued, -1 dropped and counted (full, too big, no
 * pusher). */
int sp_influx_put(struct sp_influx *ix, const char *lines, size_t len,
		  uint32_t npoints);
/* What the queue holds goes out, for @wait_ms at most; then the request
 * in flight is abandoned (a failure) and what is left counted dropped.
 * It returns within @wait_ms + 250 ms whatever the database, the network
 * or libcurl do: the thread is gone after it, or left behind (counted in
 * the stats) to end on its own or with the process. */
void sp_influx_end(struct sp_influx *ix, uint32_t wait_ms);
void sp_influx_stats(struct sp_influx *ix, struct sp_influx_stats *s);
/* The URL as reports show it (no credentials), and its API. */
const char *sp_influx_shown(const struct sp_influx *ix);
int sp_influx_v2(const struct sp_influx *ix);
/* Ends the thread if it runs (nothing flushed). NULL is fine. */
void sp_influx_destroy(struct sp_influx *ix);

#endif /* SP_INFLUX_H */
