/*
 * `stampede run` as one shard of a distributed run (--shard I/N,
 * --start-at), and the plan's identity every shard's report carries.
 *
 * A shard runs an exact slice of the whole run, with no coordinator: the
 * engines' lanes (sp_vu_config.shard) interleave the VU numbers, the
 * arrivals and the data rows of every core of every shard, so the shards
 * add up to the plan whatever their core counts; an --ip range is split
 * into one block per shard; --start-at starts their loads at one instant
 * of the wall clock. `stampede merge` refuses reports whose plan_id
 * differ.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_run.h"
#include "sp_sha256.h"
#include "sp_values.h"

/* A --start-at further away than this is a mistake, not a plan. */
#define SP_SHARD_MAX_WAIT_MS (UINT64_C(7) * 24 * 3600 * 1000)

/* The plan's identity: what the scenario file says and what the command
 * line changed in it (not the network, the outputs or the shard). */
static int
sp_run_plan_id(struct sp_run *r)
{
	mbedtls_sha256_context c;
	unsigned char d[32], buf[4096];
	size_t n;

	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts(&c, 0);
	mbedtls_sha256_update(&c, (const unsigned char *)"stampede plan 1\n",
			      16);
	if (r->file != NULL) {
		FILE *f = fopen(r->file, "rb");

		if (f == NULL) {
			fprintf(stderr, "stampede: %s: %s\n", r->file,
				strerror(errno));
			mbedtls_sha256_free(&c);
			return -1;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			mbedtls_sha256_update(&c, buf, n);
		fclose(f);
	}
	for (int i = 0; i < r->nov; i++) {
		mbedtls_sha256_update(&c, (const unsigned char *)"\n--", 3);
		mbedtls_sha256_update(&c, (const unsigned char *)r->ov[i].key,
				      strlen(r->ov[i].key));
		mbedtls_sha256_update(&c, (const unsigned char *)"=", 1);
		mbedtls_sha256_update(&c,
				      (const unsigned char *)r->ov[i].value,
				      strlen(r->ov[i].value));
	}
	mbedtls_sha256_finish(&c, d);
	mbedtls_sha256_free(&c);
	for (int i = 0; i < 32; i++)
		snprintf(r->sh.plan_id + 2 * i, 3, "%02x", d[i]);
	return 0;
}

/* Where the shard comes from: --shard, STAMPEDE_SHARD, or a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX with STAMPEDE_SHARDS. */
static int
sp_run_shard_from_env(struct sp_run *r, char *why)
{
	const char *s = r->sh.arg, *idx, *cnt;
	char buf[64];

	r->sh.from = "--shard";
	if (s == NULL && (s = getenv("STAMPEDE_SHARD")) != NULL &&
	    s[0] != '\0')
		r->sh.from = "STAMPEDE_SHARD";
	if (s == NULL || s[0] == '\0') {
		s = NULL;
		cnt = getenv("STAMPEDE_SHARDS");
		idx = getenv("JOB_COMPLETION_INDEX");
		if (cnt == NULL || cnt[0] == '\0')
			return 0;
		if (idx == NULL || idx[0] == '\0') {
			snprintf(why, SP_VAL_WHY,
				 "STAMPEDE_SHARDS=%s but no JOB_COMPLETION_INDEX "
				 "(a Kubernetes Indexed Job sets it) and no "
				 "--shard or STAMPEDE_SHARD",
				 cnt);
			return -1;
		}
		snprintf(buf, sizeof(buf), "%s/%s", idx, cnt);
		s = buf;
		r->sh.from = "JOB_COMPLETION_INDEX";
	}
	if (sp_val_shard(s, &r->sh.index, &r->sh.count, why) < 0)
		return -1;
	return 0;
}

/* InfluxDB's run tag: STAMPEDE_RUN_ID, or for a shard one its sibling
 * shards make alike (the start instant and the plan), so that their
 * points are one run's; else obs_influx.c's own. */
static int
sp_run_shard_run_id(struct sp_run *r)
{
	char *id = r->obs.o.run_id;
	const char *e = getenv("STAMPEDE_RUN_ID");
	size_t len = sizeof(r->obs.o.run_id);

	if (e != NULL && e[0] != '\0') {
		if (strlen(e) >= len ||
		    strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
			      "xyz0123456789._:-") != strlen(e)) {
			sp_usage_error("STAMPEDE_RUN_ID: '%s': at most %zu of "
				       "A-Z a-z 0-9 . _ : -",
				       e, len - 1);
			return -1;
		}
		snprintf(id, len, "%s", e);
	} else if (r->sh.count > 1) {
		time_t t = (time_t)(r->sh.at_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		if (r->sh.at_text != NULL)
			strftime(id, len, "%Y%m%dT%H%M%SZ", &tm);
		else
			snprintf(id, len, "plan");
		snprintf(id + strlen(id), len - strlen(id), "-%.12s",
			 r->sh.plan_id);
	}
	return 0;
}

int
sp_run_shard_plan(struct sp_run *r)
{
	char why[SP_VAL_WHY];
	const char *at = r->sh.at_arg;

	if (sp_run_plan_id(r) < 0)
		return -1;
	if (sp_run_shard_from_env(r, why) < 0) {
		sp_usage_error("%s: %s", r->sh.from, why);
		return -1;
	}
	if (at == NULL && (at = getenv("STAMPEDE_START_AT")) != NULL &&
	    at[0] == '\0')
		at = NULL;
	if (at != NULL) {
		struct timespec ts;
		uint64_t now_ms;

		if (sp_val_instant_ms(at, &r->sh.at_ms, why) <
		    0) {
			sp_usage_error("--start-at: %s", why);
			return -1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		now_ms = (uint64_t)ts.tv_sec * 1000 +
			 (uint64_t)ts.tv_nsec / 1000000;
		if (r->sh.at_ms > now_ms + SP_SHARD_MAX_WAIT_MS) {
			sp_usage_error("--start-at: %s is %.1f days away "
				       "(7 at most)",
				       at,
				       (double)(r->sh.at_ms - now_ms) / 864e5);
			return -1;
		}
		r->sh.at_text = at;
	}
	if (sp_run_shard_run_id(r) < 0)
		return -1;
	if (r->sh.count <= 1)
		return 0;
	snprintf(r->obs.o.shard, sizeof(r->obs.o.shard), "%" PRIu32,
		 r->sh.index);
	if (r->rp.bp.on) {
		sp_usage_error("--shard: a capacity hunt (breakpoint) cannot "
			       "be split into shards: each step judges the "
			       "whole load, which no shard sees");
		return -1;
	}
	/* An --ip range: one block per shard (every pod of a Job may be
	 * given the same range). A single address is the machine's own. */
	if (r->net.ip_count > 1) {
		uint32_t n = r->sh.count, k = r->net.ip_count / n,
			 extra = r->net.ip_count % n, i = r->sh.index;

		if (k == 0) {
			sp_usage_error("--shard %" PRIu32 "/%" PRIu32
				       ": --ip has %" PRIu32
				       " addresses, fewer than the shards "
				       "(each takes a block of the range)",
				       i, n, r->net.ip_count);
			return -1;
		}
		r->sh.ip_split = 1;
		r->net.ip += i * k + (i < extra ? i : extra);
		r->net.ip_count = k + (i < extra);
	}
	return 0;
}

uint64_t
sp_run_shard_seed(const struct sp_run *r)
{
	uint64_t s = 0;

	/* Sharded with no seed: every shard must draw the data file's
	 * random order alike, so the seed comes from what they share. */
	if (r->sh.count <= 1)
		return 0;
	for (int i = 0; i < 16; i++) {
		char c = r->sh.plan_id[i];

		s = s << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return (s ^ r->sh.at_ms * 0x9e3779b97f4a7c15ull) | 1;
}

void
sp_run_shard_arm(struct sp_run *r, struct sp_worker *ws, uint32_t n)
{
	struct timespec ts;
	uint64_t now_us, wall_us, at_us;

	if (r->sh.at_text == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = sp_now_us();
	wall_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	at_us = r->sh.at_ms * 1000;
	/* Past: at once (the report says how late). 1 is "now" on a clock
	 * that is far past it; 0 would mean no wait at all. */
	r->sh.at_us = at_us > wall_us ? now_us + (at_us - wall_us) : 1;
	if (at_us <= wall_us)
		fprintf(stderr,
			"stampede: --start-at %s passed %.3f s ago: the load "
			"starts at once\n",
			r->sh.at_text, (double)(wall_us - at_us) / 1e6);
	for (uint32_t i = 0; i < n; i++)
		ws[i].start_at_us = r->sh.at_us;
}

double
sp_run_shard_late_ms(const struct sp_run *r)
{
	uint64_t start = sp_ctr_read(r->w->run_start_us);

	if (r->sh.at_us <= 1)
		return 0.0;
	return start >= r->sh.at_us ? (double)(start - r->sh.at_us) / 1e3 :
				      -(double)(r->sh.at_us - start) / 1e3;
}

/* The VUs of the whole run's peak that fall to this shard: numbers
 * I + 1, I + 1 + N, ... */
static uint32_t
sp_run_shard_vus(const struct sp_run *r)
{
	uint32_t v = r->rp.max_vus, i = r->sh.index, n = r->sh.count;

	return v > i ? (v - i + n - 1) / n : 0;
}

/* This shard's block of --ip's range, "A-B", into @buf: 1, or 0 when the
 * address given was not split. */
static int
sp_run_shard_ips(const struct sp_run *r, char *buf, size_t len)
{
	char a[16], b[16];

	if (!r->sh.ip_split)
		return 0;
	sp_ipv4_str(r->net.ip, a, sizeof(a));
	sp_ipv4_str(r->net.ip + r->net.ip_count - 1, b, sizeof(b));
	snprintf(buf, len, "%s-%s", a, b);
	return 1;
}

void
sp_run_shard_json(const struct sp_run *r, FILE *f)
{
	char ips[40];

	fprintf(f, ",\"plan_id\":\"%s\"", r->sh.plan_id);
	if (r->sh.count > 1) {
		fprintf(f,
			",\"shard\":{\"index\":%" PRIu32 ",\"count\":%" PRIu32
			",\"from\":\"%s\",\"cores\":%" PRIu32
			",\"vu_first\":%" PRIu64 ",\"vu_step\":%" PRIu32
			",\"vus_max\":%" PRIu32 ",\"ips\":",
			r->sh.index, r->sh.count, r->sh.from, r->ncores,
			r->rp.eng.vu_offset + r->sh.index + 1, r->sh.count,
			sp_run_shard_vus(r));
		if (sp_run_shard_ips(r, ips, sizeof(ips)))
			fprintf(f, "\"%s\"}", ips);
		else
			fputs("null}", f);
	}
	if (r->sh.at_text != NULL) {
		fprintf(f, ",\"start_at\":{\"at\":");
		sp_json_str(f, r->sh.at_text);
		fprintf(f, ",\"at_ms\":%" PRIu64 ",\"late_ms\":%.3f}",
			r->sh.at_ms, sp_run_shard_late_ms(r));
	}
}

void
sp_run_shard_print(const struct sp_run *r, FILE *out)
{
	char ips[40];

	if (r->sh.count > 1) {
		fprintf(out,
			"shard %" PRIu32 " of %" PRIu32 " (from 0): VUs %" PRIu64
			", %" PRIu64 ", ... (one in %" PRIu32 ", %" PRIu32
			" at the peak)",
			r->sh.index, r->sh.count,
			r->rp.eng.vu_offset + r->sh.index + 1,
			r->rp.eng.vu_offset + r->sh.index + 1 + r->sh.count,
			r->sh.count, sp_run_shard_vus(r));
		if (sp_run_shard_ips(r, ips, sizeof(ips)))
			fprintf(out, ", source addresses %s", ips);
		fputc('\n', out);
	}
	if (r->sh.at_text != NULL)
		fprintf(out, "started %.3f ms after --start-at %s\n",
			sp_run_shard_late_ms(r), r->sh.at_text);
}
