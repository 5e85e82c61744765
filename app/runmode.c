/*
 * `stampede run [FILE]`: HTTP/1.1 virtual users from a scenario file, the
 * command line, or both (the command line wins).
 *
 * This file only wires things together: options and the scenario file into
 * a plan (scenario.c), the plan into a VU engine (lib/proto/vu.c) on the
 * worker's stack, and the engine's counters into the live line and the
 * report. The engine decides when the run ends (the plan's duration, to
 * the microsecond of the worker's clock); the control loop's own bound is
 * only a guard a little later.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_random.h>

#include "sp_app.h"
#include "sp_scenario.h"
#include "sp_vu.h"

#define SP_RUN_TW_EXTRA 65536            /* pool slots for our TIME_WAIT */
#define SP_RUN_DRAIN_US (3 * SP_US_PER_S)
#define SP_RUN_GUARD_US SP_US_PER_S       /* control's bound after the plan's */
#define SP_RUN_CHUNKS_MAX (128u * 1024u)  /* 2 KiB each: 256 MiB at most */

static const char sp_run_help[] =
	"usage: stampede run [FILE] [options]\n"
	"\n"
	"HTTP/1.1 virtual users. FILE is a YAML scenario (see config/); with\n"
	"no FILE, --url gives one GET request, like wrk. Options have the names\n"
	"of the file's keys and win over them.\n"
	"\n"
	"  --url URL              http://A.B.C.D[:PORT]/path (198.18.0.0/15)\n"
	"  --vus N                closed model: N virtual users\n"
	"  --rate R               open model: R iterations per second\n"
	"  --max-vus N            open model: at most N iterations at once\n"
	"  --model closed|open\n"
	"  --duration DUR         e.g. 30s, 2m (default 10s)\n"
	"  --stages LIST          ramps, e.g. \"30s:20,1m:200,30s:0\" (VUs, or\n"
	"                         iterations/s in the open model)\n"
	"  --tags A,B             only scenarios with one of these tags\n"
	"  --exclude-tags A,B     no scenario with one of these tags\n"
	"  --seed N               random draws (think times, weights, {{random}})\n"
	"  --connect-timeout DUR  (default 3s)\n"
	"  --response-timeout DUR (default 10s)\n"
	"  --json FILE            write the report as JSON too\n"
	"\n" SP_NETOPT_HELP
	"\n"
	"exit: 0 the run ran, 2 usage or scenario error, 3 could not run\n"
	"      (EAL, port, target's next hop did not answer ARP)\n";

enum {
	SP_OPT_URL = SP_OPT_BASE,
	SP_OPT_VUS,
	SP_OPT_RATE,
	SP_OPT_MAX_VUS,
	SP_OPT_MODEL,
	SP_OPT_DURATION,
	SP_OPT_STAGES,
	SP_OPT_TAGS,
	SP_OPT_EXCLUDE_TAGS,
	SP_OPT_SEED,
	SP_OPT_CONNECT_TIMEOUT,
	SP_OPT_RESPONSE_TIMEOUT,
	SP_OPT_JSON,
	SP_OPT_HELP,
};

static const struct option sp_run_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "url", required_argument, NULL, SP_OPT_URL },
	{ "vus", required_argument, NULL, SP_OPT_VUS },
	{ "rate", required_argument, NULL, SP_OPT_RATE },
	{ "max-vus", required_argument, NULL, SP_OPT_MAX_VUS },
	{ "model", required_argument, NULL, SP_OPT_MODEL },
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "stages", required_argument, NULL, SP_OPT_STAGES },
	{ "tags", required_argument, NULL, SP_OPT_TAGS },
	{ "exclude-tags", required_argument, NULL, SP_OPT_EXCLUDE_TAGS },
	{ "seed", required_argument, NULL, SP_OPT_SEED },
	{ "connect-timeout", required_argument, NULL, SP_OPT_CONNECT_TIMEOUT },
	{ "response-timeout", required_argument, NULL, SP_OPT_RESPONSE_TIMEOUT },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct sp_run_override {
	const char *key, *value;
};

struct sp_run {
	struct sp_plan plan;
	struct sp_netopt net;
	int net_set[SP_NETOPT_END - SP_NETOPT_BASE]; /* given on the CLI */
	const char *file;
	const char *json_path;
	struct sp_run_override *ov;
	int nov;
	struct sp_vu_engine *eng;
	struct sp_worker *w;
	/* Live line (control lcore only). */
	uint64_t live_prev_resp, live_prev_fail;
};

/* ---- the mode: the engine on the worker ---- */

static void
sp_run_start(void *ctx, uint64_t now)
{
	struct sp_run *r = ctx;

	sp_vu_start(r->eng, now);
}

static int
sp_run_step(void *ctx, uint64_t now)
{
	struct sp_run *r = ctx;

	return sp_vu_step(r->eng, now);
}

static void
sp_run_stop(void *ctx, uint64_t now)
{
	struct sp_run *r = ctx;

	sp_vu_stop(r->eng, now);
}

static int
sp_run_drain(void *ctx, uint64_t now)
{
	struct sp_run *r = ctx;

	return sp_vu_drain(r->eng, now);
}

static void
sp_run_live(const void *ctx, char *buf, size_t len)
{
	/* Control lcore: the previous second's totals are its own state. */
	struct sp_run *r = (struct sp_run *)ctx;
	const struct sp_vu_stats *s = sp_vu_stats(r->eng);
	uint64_t resp = sp_read64(&s->responses), fail = sp_read64(&s->failed);

	snprintf(buf, len, " vus %" PRIu64 " req %" PRIu64 " resp %" PRIu64
		 " (%" PRIu64 "/s) failed %" PRIu64 " (%" PRIu64 "/s) dropped %"
		 PRIu64, sp_read64(&s->vus_active), sp_read64(&s->requests),
		 resp, resp - r->live_prev_resp, fail, fail - r->live_prev_fail,
		 sp_read64(&s->it_dropped));
	r->live_prev_resp = resp;
	r->live_prev_fail = fail;
}

static const struct sp_mode sp_run_mode = {
	.name = "run",
	.start = sp_run_start,
	.step = sp_run_step,
	.stop = sp_run_stop,
	.drain = sp_run_drain,
	.live = sp_run_live,
};

/* ---- options ---- */

static const char *const sp_run_keys[] = {
	[SP_OPT_URL - SP_OPT_BASE] = "url",
	[SP_OPT_VUS - SP_OPT_BASE] = "vus",
	[SP_OPT_RATE - SP_OPT_BASE] = "rate",
	[SP_OPT_MAX_VUS - SP_OPT_BASE] = "max-vus",
	[SP_OPT_MODEL - SP_OPT_BASE] = "model",
	[SP_OPT_DURATION - SP_OPT_BASE] = "duration",
	[SP_OPT_STAGES - SP_OPT_BASE] = "stages",
	[SP_OPT_TAGS - SP_OPT_BASE] = "tags",
	[SP_OPT_EXCLUDE_TAGS - SP_OPT_BASE] = "exclude-tags",
	[SP_OPT_SEED - SP_OPT_BASE] = "seed",
	[SP_OPT_CONNECT_TIMEOUT - SP_OPT_BASE] = "connect-timeout",
	[SP_OPT_RESPONSE_TIMEOUT - SP_OPT_BASE] = "response-timeout",
};

static int
sp_run_args(int argc, char **argv, struct sp_run *r)
{
	int code, n;

	sp_netopt_init(&r->net);
	r->ov = calloc((size_t)argc + 1, sizeof(*r->ov));
	if (r->ov == NULL)
		return -1;
	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":", sp_run_longopts, NULL)) != -1) {
		n = sp_netopt_parse(&r->net, code, optarg);
		if (n < 0)
			return -1;
		if (n > 0) {
			r->net_set[code - SP_NETOPT_BASE] = 1;
			continue;
		}
		switch (code) {
		case SP_OPT_JSON:
			r->json_path = optarg;
			break;
		case SP_OPT_HELP:
			fputs(sp_run_help, stdout);
			exit(SP_EXIT_OK);
		case ':':
			sp_usage_error("%s: missing value", argv[optind - 1]);
			return -1;
		default:
			if (code >= SP_OPT_URL && code <= SP_OPT_RESPONSE_TIMEOUT) {
				r->ov[r->nov].key = sp_run_keys[code - SP_OPT_BASE];
				r->ov[r->nov++].value = optarg;
				break;
			}
			sp_usage_error("run: unknown option '%s' (see stampede "
				       "run --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc)
		r->file = argv[optind++];
	if (optind < argc) {
		sp_usage_error("run: unexpected argument '%s' (one scenario "
			       "file at most)", argv[optind]);
		return -1;
	}
	return 0;
}

/* The file's network keys, where the command line gave none. */
static int
sp_run_file_net(struct sp_run *r)
{
	const struct sp_plan_net *fn = &r->plan.net;
	const struct {
		int code;
		const char *v;
	} keys[] = {
		{ SP_NETOPT_PORT, fn->port },
		{ SP_NETOPT_IP, fn->ip },
		{ SP_NETOPT_PREFIX_LEN, fn->prefix_len },
		{ SP_NETOPT_GATEWAY, fn->gateway },
		{ SP_NETOPT_EAL, fn->eal },
		{ SP_NETOPT_CORES, fn->cores },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].v == NULL || r->net_set[keys[i].code - SP_NETOPT_BASE])
			continue;
		if (sp_netopt_parse(&r->net, keys[i].code, keys[i].v) < 0) {
			fprintf(stderr, "stampede: (from %s, network section)\n",
				r->plan.source);
			return -1;
		}
	}
	return 0;
}

static int
sp_run_plan(struct sp_run *r)
{
	struct sp_scenario_err e;

	sp_scenario_init(&r->plan);
	if (r->file != NULL && sp_scenario_load(&r->plan, r->file, &e) < 0)
		goto bad;
	for (int i = 0; i < r->nov; i++)
		if (sp_scenario_set(&r->plan, r->ov[i].key, r->ov[i].value, &e) < 0)
			goto bad;
	if (sp_scenario_finish(&r->plan, &e) < 0)
		goto bad;
	if (sp_run_file_net(r) < 0 || sp_netopt_finish(&r->net) < 0)
		return -1;
	if (r->plan.dst_ip == r->net.ip) {
		sp_usage_error("target: must differ from --ip");
		return -1;
	}
	if (sp_netopt_nexthop(&r->net, r->plan.dst_ip) == 0) {
		sp_usage_error("target: off-link (outside --ip/--prefix-len) "
			       "and no --gateway");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "%s\n", e.msg);
	return -1;
}

/* ---- the report ---- */

static void
sp_run_lat_json(FILE *f, const struct sp_hist *h)
{
	fprintf(f, "{\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
		"\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}",
		h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
		(double)sp_hist_quantile(h, 0.5) / 1e3,
		(double)sp_hist_quantile(h, 0.9) / 1e3,
		(double)sp_hist_quantile(h, 0.95) / 1e3,
		(double)sp_hist_quantile(h, 0.99) / 1e3,
		(double)sp_hist_quantile(h, 0.999) / 1e3,
		(double)h->max / 1e3);
}

static void
sp_run_print(const struct sp_run *r, const struct sp_report *rep, FILE *out)
{
	const struct sp_plan *pl = &r->plan;
	const struct sp_vu_stats *s = sp_vu_stats(r->eng);
	const struct sp_vu_req_stats *rs = sp_vu_req_stats(r->eng);
	const struct sp_vu_scen_stats *ss = sp_vu_scen_stats(r->eng);
	const struct sp_hist *h = &s->latency;
	char sent[32], recv[32];
	int any = 0;

	fprintf(out, "stampede run %s -> http://%s (%s model)\n", pl->source,
		pl->host, pl->model == SP_MODEL_OPEN ? "open" : "closed");
	fprintf(out, "  elapsed         %.3f s\n", rep->elapsed_s);
	fprintf(out, "  iterations      started %" PRIu64 "  completed %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64 "  dropped %" PRIu64
		"\n", s->it_started, s->it_completed, s->it_failed,
		s->it_interrupted, s->it_dropped);
	fprintf(out, "  requests        started %" PRIu64 "  responses %" PRIu64
		"  failed %" PRIu64 "  interrupted %" PRIu64 "\n", s->requests,
		s->responses, s->failed, s->interrupted);
	fprintf(out, "  rate            %.1f responses/s\n",
		sp_rate((double)s->responses, rep->elapsed_s));
	fprintf(out, "  latency ms      min %.3f  mean %.3f  p50 %.3f  p90 %.3f"
		"  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
		h->count ? (double)h->min / 1e3 : 0.0, sp_hist_mean(h) / 1e3,
		(double)sp_hist_quantile(h, 0.5) / 1e3,
		(double)sp_hist_quantile(h, 0.9) / 1e3,
		(double)sp_hist_quantile(h, 0.95) / 1e3,
		(double)sp_hist_quantile(h, 0.99) / 1e3,
		(double)sp_hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3);
	fprintf(out, "  status codes   ");
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(out, " %d: %" PRIu64, c, s->codes[c]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	any = 0;
	fprintf(out, "  errors by kind ");
	for (int k = 0; k < SP_VU_E_N; k++)
		if (s->err[k] != 0) {
			fprintf(out, " %s %" PRIu64,
				sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	fprintf(out, "  connections     opened %" PRIu64 "  reconnects %" PRIu64
		"  closed by server when idle %" PRIu64 "  retries (our pool) %"
		PRIu64 "\n", s->connects, s->reconnects, s->server_closes,
		s->connect_retries);
	sp_fmt_bytes(s->bytes_sent, sent, sizeof(sent));
	sp_fmt_bytes(s->bytes_received, recv, sizeof(recv));
	fprintf(out, "  http bytes      sent %s  received %s\n", sent, recv);
	fprintf(out, "  %-24s %8s %10s %10s %8s %8s %8s\n", "scenario", "weight",
		"started", "completed", "failed", "interr", "dropped");
	for (uint32_t i = 0; i < pl->nscenarios; i++)
		if (pl->scenarios[i].enabled)
			fprintf(out, "  %-24s %8" PRIu32 " %10" PRIu64 " %10" PRIu64
				" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
				pl->scenarios[i].name, pl->scenarios[i].weight,
				ss[i].started, ss[i].completed, ss[i].failed,
				ss[i].interrupted, ss[i].dropped);
	fprintf(out, "  %-24s %10s %10s %8s %8s %9s %9s %9s\n", "request",
		"started", "responses", "failed", "checks", "p50 ms", "p95 ms",
		"p99 ms");
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		const struct sp_hist *rh = &rs[i].latency;

		if (rs[i].started == 0)
			continue;
		fprintf(out, "  %-24s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %9.3f %9.3f %9.3f\n", pl->requests[i].name,
			rs[i].started, rs[i].responses, rs[i].failed,
			rs[i].check_failed,
			(double)sp_hist_quantile(rh, 0.5) / 1e3,
			(double)sp_hist_quantile(rh, 0.95) / 1e3,
			(double)sp_hist_quantile(rh, 0.99) / 1e3);
	}
	sp_print_stack(rep, out);
	fflush(out);
}

static int
sp_run_json(const struct sp_run *r, const struct sp_report *rep, FILE *f,
	    const char *path)
{
	const struct sp_plan *pl = &r->plan;
	const struct sp_vu_stats *s = sp_vu_stats(r->eng);
	const struct sp_vu_req_stats *rs = sp_vu_req_stats(r->eng);
	const struct sp_vu_scen_stats *ss = sp_vu_scen_stats(r->eng);
	const char *sep = "";
	char target[96];

	snprintf(target, sizeof(target), "http://%s", pl->host);
	fprintf(f, "{\"version\":1,\"mode\":\"http\",\"target\":");
	sp_json_str(f, target);
	fprintf(f, ",\"source\":");
	sp_json_str(f, pl->source);
	fprintf(f, ",\"model\":\"%s\",\"elapsed_s\":%.6f,\n",
		pl->model == SP_MODEL_OPEN ? "open" : "closed", rep->elapsed_s);
	fprintf(f, " \"summary\":{\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
		",\"errors\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"rps\":%.3f,\"duration_s\":%.6f,\"codes\":{",
		s->requests, s->responses, s->failed, s->interrupted,
		sp_rate((double)s->responses, rep->elapsed_s), rep->elapsed_s);
	for (int c = 0; c < SP_PLAN_MAX_STATUS; c++)
		if (s->codes[c] != 0) {
			fprintf(f, "%s\"%d\":%" PRIu64, sep, c, s->codes[c]);
			sep = ",";
		}
	fprintf(f, "},\"errors_by_kind\":{");
	for (int k = 0; k < SP_VU_E_N; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			sp_vu_err_name((enum sp_vu_err)k), s->err[k]);
	fprintf(f, "},\"latency_ms\":");
	sp_run_lat_json(f, &s->latency);
	fprintf(f, ",\n  \"iterations\":{\"started\":%" PRIu64 ",\"completed\":%"
		PRIu64 ",\"failed\":%" PRIu64 ",\"interrupted\":%" PRIu64
		",\"dropped\":%" PRIu64 "},\"connections\":{\"opened\":%" PRIu64
		",\"reconnects\":%" PRIu64 ",\"server_closes\":%" PRIu64
		",\"open_at_end\":%" PRIu64 "},\"bytes\":{\"sent\":%" PRIu64
		",\"received\":%" PRIu64 "}},\n", s->it_started, s->it_completed,
		s->it_failed, s->it_interrupted, s->it_dropped, s->connects,
		s->reconnects, s->server_closes, s->conns_open, s->bytes_sent,
		s->bytes_received);
	fprintf(f, " \"scenarios\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nscenarios; i++) {
		if (!pl->scenarios[i].enabled)
			continue;
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->scenarios[i].name);
		fprintf(f, ",\"weight\":%" PRIu32 ",\"started\":%" PRIu64
			",\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
			",\"interrupted\":%" PRIu64 ",\"dropped\":%" PRIu64 "}",
			pl->scenarios[i].weight, ss[i].started, ss[i].completed,
			ss[i].failed, ss[i].interrupted, ss[i].dropped);
		sep = ",";
	}
	fprintf(f, "],\n \"requests\":[");
	sep = "";
	for (uint32_t i = 0; i < pl->nrequests; i++) {
		fprintf(f, "%s\n  {\"name\":", sep);
		sp_json_str(f, pl->requests[i].name);
		fprintf(f, ",\"started\":%" PRIu64 ",\"responses\":%" PRIu64
			",\"failed\":%" PRIu64 ",\"check_failed\":%" PRIu64
			",\"interrupted\":%" PRIu64 ",\"latency_ms\":",
			rs[i].started, rs[i].responses, rs[i].failed,
			rs[i].check_failed, rs[i].interrupted);
		sp_run_lat_json(f, &rs[i].latency);
		fputc('}', f);
		sep = ",";
	}
	fprintf(f, "],\n");
	sp_report_json_stack(rep, f, s->connect_retries);
	return sp_report_json_close(f, path);
}

/* ---- the command ---- */

/*
 * Data chunks hold send queues (a request each) and out-of-order
 * segments (at most a receive window per connection, under loss). The
 * TIME_WAIT slots of the pool hold none, so size by VUs, not by pool.
 */
static void
sp_run_size_chunks(const struct sp_run *r, struct sp_stack_config *cfg)
{
	uint64_t per_vu = 2 + (cfg->rcvwnd + SP_CHUNK_PAYLOAD - 1) / SP_CHUNK_PAYLOAD;
	uint64_t want = (uint64_t)r->plan.max_vus * per_vu + 4096;

	cfg->chunks = (uint32_t)(want < SP_RUN_CHUNKS_MAX ? want : SP_RUN_CHUNKS_MAX);
}

static void
sp_run_free(struct sp_run *r)
{
	sp_vu_destroy(r->eng);
	sp_scenario_free(&r->plan);
	free(r->ov);
	free(r);
}

int
sp_cmd_run(int argc, char **argv)
{
	static struct sp_worker w;
	struct sp_run *r = calloc(1, sizeof(*r));
	struct sp_port port;
	struct sp_stack_config cfg;
	struct sp_report rep;
	struct sp_vu_config vc;
	FILE *json = NULL;
	char err[256];
	uint64_t extra;
	int ret = SP_EXIT_NORUN;

	memset(&port, 0, sizeof(port));
	if (r == NULL)
		return SP_EXIT_NORUN;
	if (sp_run_args(argc, argv, r) < 0 || sp_run_plan(r) < 0) {
		sp_run_free(r);
		return SP_EXIT_USAGE;
	}
	if (r->json_path != NULL) {
		json = fopen(r->json_path, "w");
		if (json == NULL) {
			sp_usage_error("--json: cannot write %s: %s", r->json_path,
				       strerror(errno));
			sp_run_free(r);
			return SP_EXIT_USAGE;
		}
	}
	memset(&vc, 0, sizeof(vc));
	vc.plan = &r->plan;
	vc.now_us = &w.now_us;
	vc.max_vus = r->plan.max_vus;
	vc.seed = r->plan.seed != 0 ? r->plan.seed : rte_rand();
	r->eng = sp_vu_create(&vc, err, sizeof(err));
	if (r->eng == NULL) {
		fprintf(stderr, "stampede: %s\n", err);
		ret = SP_EXIT_USAGE;
		goto out;
	}
	sp_signals_install();
	if (sp_port_open(&port, &r->net) < 0)
		goto out;
	sp_clock_init();

	extra = SP_RUN_TW_EXTRA;
	sp_stack_config_defaults(&cfg, (uint32_t)(r->plan.max_vus + extra));
	cfg.connect_timeout_us = (uint32_t)r->plan.connect_timeout_us;
	sp_worker_size_window(&port, r->plan.max_vus, &cfg);
	sp_run_size_chunks(r, &cfg);
	r->w = &w;
	w.mode = &sp_run_mode;
	w.mode_ctx = r;
	w.nexthop = sp_netopt_nexthop(&r->net, r->plan.dst_ip);
	w.nexthop_is_gateway = w.nexthop != r->plan.dst_ip;
	w.drain_us = SP_RUN_DRAIN_US;
	if (sp_worker_create_stack(&w, &port, &r->net, &cfg, sp_vu_tcp_ops(),
				   r->eng) < 0)
		goto out;
	sp_vu_set_stack(r->eng, w.st);

	if (sp_control_run(&w, r->plan.duration_us + SP_RUN_GUARD_US) < 0)
		goto out;

	sp_report_collect(&rep, &w, &port);
	rep.mode = "http";
	sp_run_print(r, &rep, stdout);
	ret = SP_EXIT_OK;
	if (json != NULL) {
		if (sp_run_json(r, &rep, json, r->json_path) < 0)
			ret = SP_EXIT_NORUN;
		json = NULL;
	}
out:
	if (json != NULL) {
		fclose(json);
		unlink(r->json_path);
	}
	if (w.st != NULL)
		sp_stack_destroy(w.st);
	sp_port_close(&port);
	sp_run_free(r);
	return ret;
}
