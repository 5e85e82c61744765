/*
 * --out influxdb=URL (sp_obs.h): each second's timeline point as one line
 * of InfluxDB's line protocol, pushed by influx.c's thread.
 *
 *   stampede,run=RUN t=1i,requests=..i,responses=..i,...,p99_ms=1.234,...
 *
 * One point a second for the whole run, its fields named and valued as
 * the report's "timeline" has them, stamped (ms) with the wall-clock end
 * of its second. The only tags are the run's id (and a shard's index:
 * shards of one run share the id), so that runs can be told
 * apart and a series stays one series: nothing per VU, URL or request
 * (a tag per VU is what makes a time-series database fall over).
 *
 * The control lcore formats and queues; it never waits for the database.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sp_influx.h"
#include "sp_obs.h"
#include "sp_run.h"

#define SP_OBS_INFLUX_SLOTS 8          /* seconds queued at most */
#define SP_OBS_INFLUX_SLOT_BYTES 16384 /* a tick's lines */
#define SP_OBS_INFLUX_LINE_MAX 1024    /* one point's line */
#define SP_OBS_INFLUX_CONNECT_MS 2000
#define SP_OBS_INFLUX_TIMEOUT_MS 5000 /* a request, all in */
#define SP_OBS_INFLUX_FLUSH_MS 2000   /* the end's wait */
#define SP_OBS_INFLUX_TOKEN "STAMPEDE_INFLUXDB_TOKEN"

struct sp_obs_influx {
	struct sp_influx *ix;
	int started;
	int said; /* the first loss told on stderr */
	char run_id[48];
	char tags[24]; /* ",shard=I" of a shard, else "" */
	char buf[SP_OBS_INFLUX_SLOT_BYTES];
};

/* The run's id: its start (UTC, to the second) and 24 random bits, so
 * that two runs in the same second are two series. */
static void
sp_obs_influx_run_id(char *id, size_t len)
{
	time_t now = time(NULL);
	unsigned char rnd[3] = { 0, 0, 0 };
	struct tm tm;
	size_t n;

	gmtime_r(&now, &tm);
	n = strftime(id, len, "%Y%m%dT%H%M%SZ", &tm);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &now, sizeof(rnd)); /* the pid below still helps */
	snprintf(id + n, len - n, "-%02x%02x%02x%04x", rnd[0], rnd[1], rnd[2],
		 (unsigned)getpid() & 0xffffu);
}

int
sp_obs_influx_open(struct sp_obs *ob)
{
	struct sp_influx_conf c = {
		.url = ob->o.out_influx,
		.token = getenv(SP_OBS_INFLUX_TOKEN),
		.slots = SP_OBS_INFLUX_SLOTS,
		.slot_bytes = SP_OBS_INFLUX_SLOT_BYTES,
		.connect_timeout_ms = SP_OBS_INFLUX_CONNECT_MS,
		.timeout_ms = SP_OBS_INFLUX_TIMEOUT_MS,
	};
	struct sp_obs_influx *oi;
	char err[256];

	if (ob->o.out_influx == NULL)
		return 0;
	oi = calloc(1, sizeof(*oi));
	if (oi == NULL) {
		sp_usage_error("--out influxdb=: out of memory");
		return -1;
	}
	/* The URL is not echoed: it may hold a password. */
	oi->ix = sp_influx_create(&c, err, sizeof(err));
	if (oi->ix == NULL) {
		sp_usage_error("--out influxdb=: %s", err);
		free(oi);
		return -1;
	}
	if (ob->o.run_id[0] != '\0')
		snprintf(oi->run_id, sizeof(oi->run_id), "%s", ob->o.run_id);
	else
		sp_obs_influx_run_id(oi->run_id, sizeof(oi->run_id));
	if (ob->o.shard[0] != '\0')
		snprintf(oi->tags, sizeof(oi->tags), ",shard=%s", ob->o.shard);
	ob->influx = oi;
	return 0;
}

/* Point @p's line, into @buf: its length, or 0 if it did not fit. */
static size_t
sp_obs_influx_line(char *buf, size_t len, const struct sp_obs_influx *oi,
		   const struct sp_run *r, const struct sp_run_point *p)
{
	uint64_t start = sp_ctr_read(r->w->run_start_us);
	uint64_t ms = r->wall_ms0 + p->t_s * 1000u +
		      (start > r->mono_us0 ? (start - r->mono_us0) / 1000u : 0);
	size_t n;
	int k;

	k = snprintf(buf, len,
		     "stampede,run=%s%s t=%" PRIu64 "i,requests=%" PRIu64
		     "i,responses=%" PRIu64 "i,errors=%" PRIu64
		     "i,dropped=%" PRIu64 "i,vus=%" PRIu64 "i,conns=%" PRIu64
		     "i,p50_ms=%.3f,p95_ms=%.3f,p99_ms=%.3f,bytes_sent=%" PRIu64
		     "i,bytes_received=%" PRIu64 "i",
		     oi->run_id, oi->tags, p->t_s, p->requests, p->responses, p->errors,
		     p->dropped, p->vus, p->conns, (double)p->p50_us / 1e3,
		     (double)p->p95_us / 1e3, (double)p->p99_us / 1e3,
		     p->bytes_sent, p->bytes_received);
	if (k < 0 || (size_t)k >= len)
		return 0;
	n = (size_t)k;
	if (sp_run_has_ws(&r->rp.eng)) {
		k = snprintf(buf + n, len - n,
			     ",ws_sent=%" PRIu64 "i,ws_received=%" PRIu64
			     "i,ws_bytes_sent=%" PRIu64
			     "i,ws_bytes_received=%" PRIu64 "i,ws_open=%" PRIu64
			     "i",
			     p->ws_sent, p->ws_received, p->ws_bytes_sent,
			     p->ws_bytes_received, p->ws_open);
		if (k < 0 || (size_t)k >= len - n)
			return 0;
		n += (size_t)k;
	}
	if (sp_run_partial(p)) {
		k = snprintf(buf + n, len - n, ",partial=true,length_s=%.6f",
			     (double)p->len_us / 1e6);
		if (k < 0 || (size_t)k >= len - n)
			return 0;
		n += (size_t)k;
	}
	k = snprintf(buf + n, len - n, " %" PRIu64 "\n", ms);
	if (k < 0 || (size_t)k >= len - n)
		return 0;
	return n + (size_t)k;
}

void
sp_obs_influx_tick(struct sp_obs *ob, struct sp_run *r)
{
	struct sp_obs_influx *oi = ob->influx;
	struct sp_influx_stats st;
	char line[SP_OBS_INFLUX_LINE_MAX];
	size_t len = 0;
	uint32_t np = 0;

	if (oi == NULL || ob->sent >= r->ntl)
		return;
	/* The pusher starts from the control lcore's thread: it shares that
	 * CPU, never a worker's. */
	if (!oi->started) {
		oi->started = 1;
		sp_influx_start(oi->ix);
	}
	for (uint32_t i = ob->sent; i < r->ntl; i++) {
		size_t n = sp_obs_influx_line(line, sizeof(line), oi, r,
					      &r->tl[i]);

		/* Cannot happen at the line's size: a cut line would be a
		 * wrong point, none is better. */
		if (n == 0)
			continue;
		if (len + n > sizeof(oi->buf)) {
			sp_influx_put(oi->ix, oi->buf, len, np);
			len = 0;
			np = 0;
		}
		memcpy(oi->buf + len, line, n);
		len += n;
		np++;
	}
	sp_influx_put(oi->ix, oi->buf, len, np);
	/* The first loss is told as it happens, once; the end says the
	 * rest. */
	sp_influx_stats(oi->ix, &st);
	if (!oi->said && (st.failed != 0 || st.dropped != 0)) {
		oi->said = 1;
		fprintf(stderr,
			"stampede: --out influxdb=%s: %s; points that cannot "
			"go are counted, the run goes on\n",
			sp_influx_shown(oi->ix),
			st.first_error[0] != '\0' ? st.first_error :
						    "the queue is full");
	}
}

void
sp_obs_influx_end(struct sp_obs *ob)
{
	struct sp_obs_influx *oi = ob->influx;
	struct sp_influx_stats st;

	if (oi == NULL)
		return;
	sp_influx_end(oi->ix, SP_OBS_INFLUX_FLUSH_MS);
	sp_influx_stats(oi->ix, &st);
	fprintf(stderr,
		"stampede: --out influxdb=%s: %" PRIu64 " of %" PRIu64
		" points written in %" PRIu64 " requests (run=%s)",
		sp_influx_shown(oi->ix), st.points, st.put, st.batches,
		oi->run_id);
	if (st.dropped != 0 || st.failed != 0)
		fprintf(stderr,
			"; %" PRIu64 " dropped, %" PRIu64 " in %" PRIu64
			" failed requests (first: %s)",
			st.dropped, st.failed_points, st.failed,
			st.first_error[0] != '\0' ? st.first_error : "none");
	fputc('\n', stderr);
}

static void
sp_obs_influx_err_json(FILE *f, const char *s)
{
	if (s[0] == '\0')
		fputs("null", f);
	else
		sp_json_str(f, s);
}

void
sp_obs_influx_json(const struct sp_obs *ob, FILE *f)
{
	const struct sp_obs_influx *oi = ob->influx;
	struct sp_influx_stats st;

	sp_influx_stats(oi->ix, &st);
	fprintf(f, "\"influxdb\":{\"url\":");
	sp_json_str(f, sp_influx_shown(oi->ix));
	fprintf(f,
		",\"api\":\"%s\",\"measurement\":\"stampede\",\"run\":\"%s\""
		",\"points\":%" PRIu64 ",\"batches\":%" PRIu64
		",\"dropped\":%" PRIu64 ",\"failed\":%" PRIu64
		",\"failed_points\":%" PRIu64 ",\"first_error\":",
		sp_influx_v2(oi->ix) ? "v2" : "v1", oi->run_id, st.points,
		st.batches, st.dropped, st.failed, st.failed_points);
	sp_obs_influx_err_json(f, st.first_error);
	fputs(",\"last_error\":", f);
	sp_obs_influx_err_json(f, st.last_error);
	fprintf(f,
		",\"end_wait_ms\":%" PRIu64 ",\"end_stop_ms\":%" PRIu64
		",\"end_left_behind\":%s}",
		st.end_wait_ms, st.end_stop_ms,
		st.end_left_behind ? "true" : "false");
}

void
sp_obs_influx_close(struct sp_obs *ob)
{
	if (ob->influx == NULL)
		return;
	sp_influx_destroy(ob->influx->ix);
	free(ob->influx);
	ob->influx = NULL;
}
