/*
 * `stampede run [FILE]`: HTTP/1.1 virtual users from a scenario file, the
 * command line, or both (the command line wins).
 *
 * This file only wires things together: the plan (run_args.c: options
 * and the scenario file, through scenario.c) into a VU engine
 * (lib/proto/vu.c) on the worker's stack, and the engine's counters into
 * the live line and the report. The engine decides when the run ends (the plan's duration, to
 * the microsecond of the worker's clock); the control loop's own bound is
 * only a guard a little later. The run's state is in sp_run.h; merging and
 * the timeline, the thresholds and the reports have files of their own.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_random.h>

#include "sp_app.h"
#include "sp_config.h"
#include "sp_reqlog_out.h"
#include "sp_scenario.h"
#include "sp_stream_tcp.h"
#include "sp_bp.h"
#include "sp_run.h"
#include "sp_vu.h"

/* Pool slots for our TIME_WAIT: closing first at N connections/s holds N
 * slots for the 1 s TIME_WAIT (48 MiB at 183 B each). */
#define SP_RUN_TW_EXTRA 262144
#define SP_RUN_DRAIN_US (3 * SP_US_PER_S)
#define SP_RUN_GUARD_US SP_US_PER_S      /* control's bound after the plan's */
#define SP_RUN_CHUNKS_MAX (128u * 1024u) /* 2 KiB each: 256 MiB at most */

/* ---- the mode: the engine on the worker ---- */

static void
sp_run_start(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	sp_vu_start(c->eng, now);
}

static int
sp_run_step(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	if (c->tls != NULL)
		sp_tls_poll(c->tls, rte_rdtsc());
	return sp_vu_step(c->eng, now);
}

static void
sp_run_stop(void *ctx, uint64_t now)
{
	struct sp_run_core *c = ctx;

	sp_vu_stop(c->eng, now);
}

static int
sp_run_drain(void *ctx, uint64_t now, int hurry)
{
	struct sp_run_core *c = ctx;

	if (c->tls != NULL)
		sp_tls_poll(c->tls, rte_rdtsc());
	return sp_vu_drain(c->eng, now, hurry);
}

/* Which stage the schedule is in at @t_us (1-based), or 0 without stages. */
static uint32_t
sp_run_stage_at(const struct sp_plan *pl, uint64_t t_us)
{
	for (uint32_t i = 0; i < pl->nstages; i++) {
		if (t_us < pl->stages[i].duration_us)
			return i + 1;
		t_us -= pl->stages[i].duration_us;
	}
	return pl->nstages;
}

/* A log gets a line every --live-interval (the first tick's, then one
 * each interval, each with its last second's figures); a terminal's line
 * is rewritten in place every second. A tick a little early counts. */
static int
sp_run_line_due(struct sp_run *r, uint64_t el)
{
	uint64_t iv = r->obs.o.live_interval_us;

	if (iv <= SP_US_PER_S)
		return 1;
	if (r->line_next_us != 0 && el + SP_US_PER_S / 2 < r->line_next_us)
		return 0;
	r->line_next_us = (el + SP_US_PER_S / 2) / iv * iv + iv;
	return 1;
}

static int
sp_run_tick(void *ctx, uint64_t now, char *buf, size_t len)
{
	struct sp_run *r = ((struct sp_run_core *)ctx)->r;
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_run_point *p = sp_run_sample(r, now, 0);
	uint64_t el = now - sp_ctr_read(r->w->run_start_us);
	unsigned done = pl->duration_us ?
				(unsigned)(el * 20 / pl->duration_us) :
				20;
	char bar[24], stage[32] = "";
	int n;

	if (p == NULL)
		return 0;
	sp_obs_tick(&r->obs, r);
	/* A capacity hunt moves the target; it ends the run when it is
	 * over. */
	if (r->bp != NULL && sp_bp_tick(r->bp, r, p, el))
		return 1;
	if (done > 20)
		done = 20;
	/* The bar is for a terminal; a log gets plain figures. */
	bar[0] = '\0';
	if (r->tty) {
		bar[0] = ' ';
		memset(bar + 1, '#', done);
		memset(bar + 1 + done, '.', 20 - done);
		bar[21] = '\0';
	}
	if (pl->nstages != 0)
		snprintf(stage, sizeof(stage), " stage %" PRIu32 "/%" PRIu32,
			 sp_run_stage_at(pl, el), pl->nstages);
	n = snprintf(buf, len,
		     "[%4.0fs/%.0fs%s]%s vus %" PRIu64 " conns %" PRIu64
		     " | %" PRIu64 " req/s p50 %.1f p95 %.1f p99 %.1f ms"
		     " | %" PRIu64 " err/s",
		     (double)el / 1e6, (double)pl->duration_us / 1e6, bar,
		     stage, p->vus, p->conns, p->responses,
		     (double)p->p50_us / 1e3, (double)p->p95_us / 1e3,
		     (double)p->p99_us / 1e3, p->errors);
	if (p->dropped != 0 && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      " %" PRIu64 " dropped/s", p->dropped);
	if (sp_run_has_ws(pl) && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 " | ws open %" PRIu64 " msg/s out %" PRIu64
			 " in %" PRIu64,
			 p->ws_open, p->ws_sent, p->ws_received);
	if (!r->tty && !sp_run_line_due(r, el))
		buf[0] = '\0';
	return sp_run_th_abort(r, el);
}

static void
sp_run_flushed(void *ctx, uint64_t now)
{
	sp_vu_flushed(((struct sp_run_core *)ctx)->eng, now);
}

static void
sp_run_poll(void *ctx)
{
	sp_reqlog_out_drain(&((struct sp_run_core *)ctx)->r->rlog);
}

/* The lifecycle (sp_vu_setup, sp_vu_teardown): the engine knows whether
 * the plan has one, and which of its engines runs it. */
_Static_assert(SP_MODE_SETUP_RUNNING == (int)SP_VU_SETUP_RUNNING &&
		       SP_MODE_SETUP_DONE == (int)SP_VU_SETUP_DONE &&
		       SP_MODE_SETUP_FAILED == (int)SP_VU_SETUP_FAILED,
	       "sp_mode's setup states are the engine's");

static int
sp_run_setup(void *ctx, uint64_t now, int stop)
{
	struct sp_run_core *c = ctx;

	if (c->tls != NULL)
		sp_tls_poll(c->tls, rte_rdtsc());
	return sp_vu_setup(c->eng, now, stop);
}

static int
sp_run_teardown(void *ctx, uint64_t now, int hurry)
{
	struct sp_run_core *c = ctx;

	if (c->tls != NULL)
		sp_tls_poll(c->tls, rte_rdtsc());
	return sp_vu_teardown(c->eng, now, hurry);
}

/* The live line of setup or teardown: its requests so far, on the
 * engine that runs it (core 0's). */
static void
sp_run_life(const void *ctx, int teardown, char *buf, size_t len)
{
	const struct sp_run *r = ((const struct sp_run_core *)ctx)->r;
	const struct sp_plan *pl = &r->rp.eng;
	const struct sp_vu_req_stats *rs = sp_vu_req_stats(r->core[0].eng);
	uint32_t sc = teardown ? pl->teardown_scen : pl->setup_scen;
	uint64_t started = 0, failed = 0;

	for (uint32_t i = 0; sc != 0 && i < pl->scenarios[sc - 1].nsteps; i++) {
		const struct sp_step *st = &pl->scenarios[sc - 1].steps[i];

		if (st->kind != SP_STEP_REQUEST)
			continue;
		started += sp_ctr_read(rs[st->req].started);
		failed += sp_ctr_read(rs[st->req].failed);
	}
	snprintf(buf, len, "%s: %" PRIu64 " request%s, %" PRIu64 " failed",
		 teardown ? "teardown" : "setup", started,
		 started == 1 ? "" : "s", failed);
}

static const struct sp_mode sp_run_mode = {
	.name = "run",
	.start = sp_run_start,
	.step = sp_run_step,
	.stop = sp_run_stop,
	.drain = sp_run_drain,
	.tick = sp_run_tick,
	.poll = sp_run_poll,
	.flushed = sp_run_flushed,
	.setup = sp_run_setup,
	.teardown = sp_run_teardown,
	.life = sp_run_life,
};

/* ---- the command ---- */

/*
 * Data chunks hold send queues (a request each) and out-of-order
 * segments (at most a receive window per connection, under loss). The
 * TIME_WAIT slots of the pool hold none, so size by VUs, not by pool.
 */
static void
sp_run_size_chunks(uint32_t vus, uint32_t ncores, struct sp_stack_config *cfg)
{
	uint64_t per_vu = 2 + (cfg->rcvwnd + SP_CHUNK_PAYLOAD - 1) /
				      SP_CHUNK_PAYLOAD;
	uint64_t want = (uint64_t)vus * per_vu + 4096;
	uint64_t cap = SP_RUN_CHUNKS_MAX / ncores; /* the cap is the run's */

	cfg->chunks = (uint32_t)(want < cap ? want : cap);
}

static void
sp_run_free(struct sp_run *r)
{
	for (uint32_t i = 0; i < SP_MAX_CORES; i++) {
		sp_tls_destroy(r->core[i].tls);
		sp_vu_destroy(r->core[i].eng);
	}
	if (r->shared != NULL)
		sp_vu_shared_destroy(r->shared);
	sp_scenario_free(&r->rp);
	free(r->ov);
	free(r->tl);
	free(r->tl_hb);
	free(r->snap);
	free(r->snap_prev);
	free(r->delta);
	free(r->tmp);
	free(r->tot);
	free(r->rs_tot);
	free(r->ss_tot);
	free(r->life_tot);
	free(r->th_value);
	free(r->th_ok);
	if (r->bp != NULL)
		sp_bp_fini(r->bp);
	free(r->bp);
	free(r);
}

/* Control-side buffers: the timeline (a point a second, the drain and a
 * margin included) and the histogram snapshots its points come from. */
static int
sp_run_alloc(struct sp_run *r)
{
	uint32_t n = r->rp.nthresholds ? r->rp.nthresholds : 1;

	r->tl_cap = (uint32_t)(r->rp.eng.duration_us / SP_US_PER_S) + 16;
	r->tl = calloc(r->tl_cap, sizeof(*r->tl));
	r->snap = calloc(1, sizeof(*r->snap));
	r->snap_prev = calloc(1, sizeof(*r->snap_prev));
	r->delta = calloc(1, sizeof(*r->delta));
	r->tmp = calloc(1, sizeof(*r->tmp));
	r->tot = calloc(1, sizeof(*r->tot));
	r->rs_tot = calloc(r->rp.eng.nrequests, sizeof(*r->rs_tot));
	r->ss_tot = calloc(r->rp.eng.nscenarios, sizeof(*r->ss_tot));
	r->life_tot = calloc(1, sizeof(*r->life_tot));
	r->th_value = calloc(n, sizeof(*r->th_value));
	r->th_ok = calloc(n, sizeof(*r->th_ok));
	if (r->tl == NULL || r->snap == NULL || r->snap_prev == NULL ||
	    r->delta == NULL || r->tmp == NULL || r->tot == NULL ||
	    r->rs_tot == NULL || r->ss_tot == NULL || r->life_tot == NULL ||
	    r->th_value == NULL || r->th_ok == NULL) {
		fprintf(stderr, "stampede: out of memory for the timeline\n");
		return -1;
	}
	/* One lifecycle for the run, whatever the cores: engine 0 runs
	 * setup and teardown, the others wait for its outcome. */
	r->shared = sp_vu_shared_create(&r->rp.eng);
	if (r->shared == NULL) {
		fprintf(stderr, "stampede: out of memory for the lifecycle\n");
		return -1;
	}
	sp_hist_init(r->snap);
	sp_hist_init(r->snap_prev);
	if (r->rp.bp.on) {
		/* The engines read r->live from their first step on. */
		r->bp = malloc(sizeof(*r->bp));
		if (r->bp == NULL || sp_bp_init(r->bp, &r->rp.bp, &r->live) < 0) {
			fprintf(stderr,
				"stampede: out of memory for the hunt\n");
			return -1;
		}
	}
	return 0;
}

/* The wall clock once for the run, with the worker clock's reading of
 * the same instant: the engines read cookies' expiry dates against it. */
static void
sp_run_wall_clock(struct sp_run *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	r->mono_us0 = sp_now_us();
	r->wall_ms0 = (uint64_t)ts.tv_sec * 1000u +
		      (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
sp_run_tsc(void *arg)
{
	(void)arg;
	return rte_rdtsc();
}

/* https: core @c's TLS between its engine and its TCP adapter, with a
 * connection for each of its @vus and room for those still closing
 * while their VUs have opened the next. 0, or -1 after printing why. */
static int
sp_run_tls_setup(struct sp_run *r, struct sp_run_core *c, uint32_t vus)
{
	const struct sp_run_tls *t = &r->rp.tls;
	struct sp_tls_conf tc = {
		.role = SP_TLS_CLIENT,
		.engine = sp_tls_engine_find(t->engine),
		.conns = vus + vus / 4 + 16,
		.slots = vus,
		.ca_file = t->ca,
		.insecure = t->insecure,
		.cert_file = t->cert,
		.key_file = t->key,
		.ciphers = t->ciphers,
		.curves = t->curves,
		.psk = t->psk,
		.resume = t->resume == SP_RUN_RESUME_NONE ?
				  SP_TLS_RESUME_NONE :
			  t->resume == SP_RUN_RESUME_TICKET ?
				  SP_TLS_RESUME_TICKET :
				  SP_TLS_RESUME_SESSION,
		.clock = sp_run_tsc,
		.clock_hz = rte_get_tsc_hz(),
		.handshake_timeout_us = r->rp.connect_timeout_us,
		.inner_ops = &sp_stream_tcp_ops,
		.inner_impl = &c->tcp,
	};
	char err[256];

	if (c == &r->core[0]) {
		/* What the pools will hold must fit now, not fail halfway
		 * through the run (the engine's record buffers are touched as
		 * connections open): a pool of one tells a connection's
		 * size. */
		struct sp_tls_conf one = tc;
		struct sp_tls *probe;
		uint64_t need, avail = sp_meminfo_kb("MemAvailable") * 1024;

		one.conns = 1;
		one.slots = 1;
		probe = sp_tls_create(&one, sp_vu_stream_cbs(), c->eng, err,
				      sizeof(err));
		if (probe == NULL) {
			fprintf(stderr, "stampede: %s\n", err); /* "tls: ..." */
			return -1;
		}
		need = (uint64_t)r->ncores * tc.conns *
		       sp_tls_conn_bytes(probe);
		if (avail != 0 && need > avail) {
			fprintf(stderr,
				"stampede: tls: %u VUs on %u core%s need %" PRIu64
				" MiB for their TLS connections (%zu bytes "
				"each, pools of VUs + 25 %%), more than the "
				"%" PRIu64 " MiB available: fewer --vus\n",
				vus * r->ncores, r->ncores,
				r->ncores == 1 ? "" : "s", need >> 20,
				sp_tls_conn_bytes(probe), avail >> 20);
			sp_tls_destroy(probe);
			return -1;
		}
		sp_tls_destroy(probe);
	}
	c->tls = sp_tls_create(&tc, sp_vu_stream_cbs(), c->eng, err,
			       sizeof(err));
	if (c->tls == NULL) {
		fprintf(stderr, "stampede: %s\n", err); /* "tls: ..." */
		return -1;
	}
	return 0;
}

/* Worker core @i: its share of the VUs, its engine, its stack with the
 * engine's stream over it. 0, or -1 after printing why. */
static int
sp_run_core_setup(struct sp_run *r, struct sp_cores *cores, uint32_t i,
		  uint64_t seed)
{
	struct sp_run_core *core = &r->core[i];
	struct sp_worker *w = &cores->ws[i];
	struct sp_stack_config cfg;
	struct sp_vu_config vc;
	struct sp_core_mode cm = {
		.mode = &sp_run_mode,
		.mode_ctx = core,
		.ops = sp_stream_tcp_stack_ops(),
		.app = &core->tcp,
		.dst_ip = r->rp.eng.dst_ip,
		.dst_port = r->rp.eng.dst_port,
		.drain_us = SP_RUN_DRAIN_US,
	};
	/* Lanes: every core of every shard (sp_vu_config.shard). */
	uint32_t n = r->ncores, ns = r->sh.count > 1 ? r->sh.count : 1;
	uint32_t lanes = n * ns, shared = (r->rp.max_vus + lanes - 1) / lanes;
	uint64_t lane = (uint64_t)r->sh.index + (uint64_t)ns * i;
	/* The engine's VUs: the shared load's share and each own load's. */
	uint32_t vus = shared + sp_vu_own_slots(&r->rp.eng, lanes);
	char err[256];

	memset(&vc, 0, sizeof(vc));
	vc.plan = &r->rp.eng;
	vc.now_us = &w->now_us;
	vc.flush_stamps = 1;
	vc.core = i;
	vc.ncores = n;
	vc.shard = r->sh.index;
	vc.nshards = ns;
	vc.max_vus = shared;
	vc.seed = seed + lane * 0x9e3779b97f4a7c15ull;
	vc.data_seed = seed | 1; /* every core's: one permutation */
	vc.reqlog = r->rlog.f != NULL ? &r->rlog.log[i] : NULL;
	vc.shared = r->shared;
	vc.wall_ms0 = r->wall_ms0;
	vc.mono_us0 = r->mono_us0;
	vc.secure = r->rp.tls.on; /* Secure cookies go over https only */
	vc.live = r->rp.bp.on ? &r->live : NULL;
	core->r = r;
	core->eng = sp_vu_create(&vc, err, sizeof(err));
	if (core->eng == NULL) {
		fprintf(stderr, "stampede: %s\n", err);
		return -1;
	}
	sp_cores_stack_config(cores, &cfg, vus + SP_RUN_TW_EXTRA / n, vus);
	cfg.connect_timeout_us = (uint32_t)r->rp.connect_timeout_us;
	sp_run_size_chunks(vus, n, &cfg);
	if (r->rp.tls.on) {
		if (sp_run_tls_setup(r, core, vus) < 0)
			return -1;
		sp_stream_tcp_init(&core->tcp, sp_tls_inner_cbs(), core->tls);
	} else {
		sp_stream_tcp_init(&core->tcp, sp_vu_stream_cbs(), core->eng);
	}
	if (sp_cores_add(cores, i, &r->net, &cfg, &cm) < 0)
		return -1;
	sp_stream_tcp_attach(&core->tcp, w->st);
	if (core->tls != NULL)
		sp_vu_set_stream(core->eng, &sp_tls_stream_ops, core->tls);
	else
		sp_vu_set_stream(core->eng, &sp_stream_tcp_ops, &core->tcp);
	return 0;
}

int
sp_cmd_run(int argc, char **argv)
{
	static struct sp_cores cores;
	/* Aligned for the request log's rings (a cache line per side). */
	struct sp_run *r = aligned_alloc(_Alignof(struct sp_run), sizeof(*r));
	struct sp_run_out out[4];
	struct sp_report rep;
	uint64_t seed;
	int ret = SP_EXIT_NORUN, log_bad, obs_bad, rc;

	memset(out, 0, sizeof(out));
	if (r == NULL) {
		fprintf(stderr, "stampede: out of memory\n");
		return SP_EXIT_NORUN;
	}
	memset(r, 0, sizeof(*r));
	if (sp_run_args(argc, argv, r) < 0 || sp_run_plan(r) < 0 ||
	    sp_run_distinct(r) < 0 ||
	    sp_run_open(&out[0], "--json", r->json_path, "") < 0 ||
	    sp_run_open(&out[1], "--csv", r->csv_prefix, "_stats.csv") < 0 ||
	    sp_run_open(&out[2], "--csv", r->csv_prefix, "_timeline.csv") < 0 ||
	    sp_run_open(&out[3], "--html", r->html_path, "") < 0 ||
	    sp_reqlog_out_open(&r->rlog, r->log_path) < 0 ||
	    sp_obs_open(&r->obs) < 0) {
		ret = SP_EXIT_USAGE;
		goto out;
	}
	r->ncores = r->net.cores;
	if (sp_run_alloc(r) < 0)
		goto out;
	r->tty = isatty(STDERR_FILENO);
	if (sp_cores_open(&cores, &r->net) < 0)
		goto out;
	seed = r->rp.seed != 0		   ? r->rp.seed :
	       sp_run_shard_seed(r) != 0 ? sp_run_shard_seed(r) :
					   rte_rand();
	sp_run_wall_clock(r);
	r->w = cores.ws;
	if (sp_reqlog_out_start(&r->rlog, &r->rp.eng, r->ncores, sp_now_us()) <
	    0)
		goto out;
	for (uint32_t i = 0; i < r->ncores; i++)
		if (sp_run_core_setup(r, &cores, i, seed) < 0)
			goto out;
	sp_run_shard_arm(r, cores.ws, r->ncores);
	rc = sp_cores_run(&cores, r->rp.eng.duration_us + SP_RUN_GUARD_US);
	if (rc < 0)
		goto out;
	/* A failed setup: no load ran, but teardown did, and the report
	 * says what the lifecycle did (and that the load is empty). */
	r->setup_failed = rc == SP_CONTROL_SETUP_FAILED;
	/* The last, partial second: the points then add up to the totals. */
	if (!r->setup_failed)
		sp_run_sample(r, sp_workers_end_us(cores.ws, r->ncores), 1);
	sp_run_merge(r);
	sp_run_merge_life(r);
	if (r->bp != NULL)
		sp_bp_end(r->bp);
	r->stopped_by = r->setup_failed       ? "setup_failed" :
			r->bp != NULL && r->bp->outcome != SP_BP_UNCONFIRMED &&
					!sp_interrupted() ?
						"breakpoint" :
			r->aborted_by != NULL ? "threshold" :
			sp_obs_stopped(&r->obs) ? "web" :
			sp_interrupted()      ? "signal" :
						"duration";
	/* After stopped_by: a Ctrl-C that ends --metrics's final wait came
	 * after the load. */
	obs_bad = sp_obs_end(&r->obs, r) < 0;
	sp_report_collect_n(&rep, cores.ws, r->ncores, &cores.port);
	rep.mode = "http";
	rep.tls_hs_allocs = sp_run_tls_hs_allocs(r);
	log_bad = sp_reqlog_out_close(&r->rlog) < 0;
	ret = sp_run_th_final(r, sp_run_load_s(r, &rep)) ? SP_EXIT_FAILED :
							   SP_EXIT_OK;
	/* A shard's share is not the run: `stampede merge` judges that
	 * (its thresholds are still shown, and an abort still stops it). */
	if (r->sh.count > 1)
		ret = SP_EXIT_OK;
	/* A hunt's thresholds are its SLOs, judged step by step: the whole
	 * run (its failing steps included) is not held to them. */
	if (r->bp != NULL)
		ret = sp_bp_exit(r->bp);
	sp_run_print(r, &rep, sp_run_summary_out(r));
	/* A run in which nothing succeeded measured nothing, whatever the
	 * thresholds say (none may have been given). One whose setup
	 * failed did not run at all. */
	if (r->setup_failed) {
		fprintf(stderr,
			"stampede: setup failed: %s; the load did not run\n",
			sp_run_setup_why(r));
		ret = SP_EXIT_NORUN;
	} else if (sp_run_succeeded(r->tot) == 0 && r->bp == NULL) {
		fprintf(stderr,
			"stampede: no request succeeded (%" PRIu64
			" started, %" PRIu64 " failed, %" PRIu64
			" interrupted):"
			" the run measured nothing\n",
			r->tot->requests, r->tot->failed, r->tot->interrupted);
		ret = SP_EXIT_FAILED;
	}
	if (r->aborted_by != NULL)
		fprintf(sp_run_summary_out(r),
			"stopped early: threshold "
			"'%s' failed\n",
			r->aborted_by);
	if (sp_run_reports(r, &rep, out) < 0 || log_bad || obs_bad)
		ret = SP_EXIT_NORUN;
out:
	for (int i = 0; i < 4; i++)
		sp_run_discard(&out[i]);
	if (r->rlog.f != NULL) {
		/* The run did not run: no log either. */
		sp_reqlog_out_close(&r->rlog);
		unlink(r->log_path);
	}
	sp_obs_close(&r->obs);
	sp_cores_close(&cores);
	sp_run_free(r);
	return ret;
}
