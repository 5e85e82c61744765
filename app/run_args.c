/*
 * `stampede run`'s command line and plan: its options (--help's text and
 * getopt's table), the scenario file's keys they override, the file's
 * network section where the command line gave none, and the plan made of
 * them, its target's name resolved once on the control thread.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>

#include "sp_app.h"
#include "sp_config.h"
#include "sp_run.h"
#include "sp_scenario.h"

static const char sp_run_help[] =
	"usage: stampede run [FILE | URL] [options]\n"
	"\n"
	"HTTP/1.1, HTTPS and WebSocket virtual users. FILE is a YAML scenario\n"
	"(see config/); with no FILE, --url (or URL in its place) gives one GET\n"
	"request, like wrk, or for ws:// and wss:// an echo loop: open, then\n"
	"100 times send a text message and wait for the next one (the round\n"
	"trip is ws.rtt), close 1000. Options have the names of the file's keys\n"
	"and win over them.\n"
	"\n"
	"  --url URL              http://HOST[:PORT]/path, https://..., ws://...\n"
	"                         or wss://..., HOST an IPv4 address or a\n"
	"                         name (resolved once, before the load)\n"
	"  --resolve NAME[:PORT]:ADDR  NAME's address, instead of the system\n"
	"                         resolver (repeatable; as curl's --resolve)\n"
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
	"  --expect-status LIST   statuses that pass, e.g. 200-299,404 or 2xx,3xx\n"
	"                         (default 100-399: a 4xx or 5xx is a failed\n"
	"                         request, http_status); a request's own\n"
	"                         expect_status: wins\n"
	"  --threshold EXPR       pass/fail criterion (repeatable), e.g.\n"
	"                         'p(95) < 500ms', 'errors < 0.1%', 'rps > 100',\n"
	"                         'request:\"GET /\" ttfb.p(99) < 50ms'\n"
	"  --abort-on-fail        stop the run as soon as a --threshold fails\n"
	"  --breakpoint[=K=V,...] hunt the capacity: the arrival rate grows from\n"
	"                         --rate (100/s) until a step fails a global\n"
	"                         --threshold, then bisection and a confirmation;\n"
	"                         knobs as load: {model: breakpoint} has them,\n"
	"                         e.g. --breakpoint=factor=1.5,step=5s,control=vus\n"
	"                         (exit 0 found, 1 none, 3 the generator broke\n"
	"                         first)\n"
	"  --abort-grace DUR      ... but not in the run's first DUR\n"
	"  --insecure             https: accept any certificate and name\n"
	"                         (the report says so)\n"
	"  --tls-ca FILE          https: the CAs to verify the server with\n"
	"                         (default: the system store)\n"
	"  --tls-cert FILE --tls-key FILE  a client certificate (mutual TLS)\n"
	"  --tls-resume none|session|ticket  what a VU that reconnects offers\n"
	"                         (default session; none: every connection\n"
	"                         a full handshake)\n"
	"  --tls-ciphers LIST --tls-curves LIST  e.g.\n"
	"                         TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256, P-256\n"
	"  --tls-psk ID:HEXKEY    a pre-shared key (RFC 4279); with\n"
	"                         --tls-ciphers TLS-PSK-WITH-AES-128-GCM-SHA256\n"
	"                         the handshake has no public-key operation\n"
	"  --tls-server-name NAME SNI and the certificate's name (default:\n"
	"                         the URL's host name)\n"
	"  --tls-engine mbedtls|openssl  the TLS library (default mbedtls;\n"
	"                         openssl: a full handshake costs the client\n"
	"                         about ten times less CPU, for handshake-rate\n"
	"                         tests, and idle connections hold about half)\n"
	"  --vu-offset N          {{vu}} numbers start at N + 1 (split a user\n"
	"                         range across machines)\n"
	"  --shard I/N            run shard I (0 to N-1) of a run split in N:\n"
	"                         VUs, arrivals and data rows interleaved,\n"
	"                         an --ip range split in blocks (also\n"
	"                         STAMPEDE_SHARD=I/N, or a Kubernetes\n"
	"                         JOB_COMPLETION_INDEX with STAMPEDE_SHARDS=N);\n"
	"                         `stampede merge` adds the reports up\n"
	"  --start-at TIME        set up, then start the load at TIME (RFC\n"
	"                         3339, 2026-12-07T15:00:00Z, or epoch\n"
	"                         seconds; also STAMPEDE_START_AT)\n"
	"  --ws-max-message SIZE  WebSocket: a longer message fails its session\n"
	"                         (ws_too_big, close 1009); default 1MiB\n"
	"  --ws-ping-every DUR    WebSocket: ping each open session this often\n"
	"  --json FILE            the report as JSON (docs/report-schema.md);\n"
	"                         -: on stdout, the summary then on stderr\n"
	"  --csv PREFIX           PREFIX_stats.csv and PREFIX_timeline.csv\n"
	"  --html FILE            one self-contained page with plots\n"
	"  --log-requests FILE    a CSV row per finished request (times in us)\n"
	"  --out json=FILE        a JSON line a second (-: standard output):\n"
	"                         the timeline point and the run so far\n"
	"  --out influxdb=URL     InfluxDB line protocol a second (a point\n"
	"                         of measurement stampede, tag run=ID, the\n"
	"                         timeline's fields); v1 http://[USER:PASS@]\n"
	"                         HOST:8086/DB, v2 http://HOST:8086/api/v2/\n"
	"                         write?org=O&bucket=B with the token in\n"
	"                         STAMPEDE_INFLUXDB_TOKEN; a slow database\n"
	"                         costs dropped points (counted), not the run\n"
	"  --live-interval DUR    the live line's period when stderr is not a\n"
	"                         terminal (default 1s; e.g. 30s for CI logs)\n"
	"  --metrics HOST:PORT    serve the run's figures to Prometheus at\n"
	"                         http://HOST:PORT/metrics, e.g.\n"
	"                         127.0.0.1:9464 ([::1]:9464 for IPv6)\n"
	"  --metrics-linger DUR   at the end, wait at most DUR for a scrape of\n"
	"                         the final figures (default 15s; 0: none;\n"
	"                         Ctrl-C ends the wait)\n"
	"  --web [HOST:]PORT      a live dashboard at http://HOST:PORT/ (a port\n"
	"                         alone: 127.0.0.1), with a Stop button\n"
	"\n" SP_NETOPT_HELP "\n"
	"thresholds: [scenario:NAME | request:NAME] [PHASE.]STAT OP VALUE\n"
	"  PHASE latency (default), connect, tls, ttfb, iteration; STAT p(N),\n"
	"  med, avg, min, max (us, ms, s), errors, checks (N% or 0.N), rps,\n"
	"  iterations/s, dropped (a count, or N% of arrivals), iterations\n"
	"  WebSocket (the run's): ws.connect.STAT, ws.rtt.STAT, ws.session.STAT\n"
	"  (times), ws.errors (failed sessions, N%), ws.failed, ws.sessions,\n"
	"  ws.sent, ws.received, ws.unmatched (counts), ws.sent/s, ws.received/s\n"
	"\n"
	"exit: 0 the run ran and every threshold held, 1 a threshold failed\n"
	"      or no request succeeded,\n"
	"      2 usage or scenario error, 3 could not run (EAL, port, the\n"
	"      target's next hop did not answer ARP, the scenario's setup:\n"
	"      failed: the load did not run) or a report could not be written\n";

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
	SP_OPT_EXPECT_STATUS,
	SP_OPT_THRESHOLD,
	SP_OPT_ABORT_ON_FAIL,
	SP_OPT_ABORT_GRACE,
	SP_OPT_BREAKPOINT,
	SP_OPT_INSECURE,
	SP_OPT_TLS_CA,
	SP_OPT_TLS_CERT,
	SP_OPT_TLS_KEY,
	SP_OPT_TLS_RESUME,
	SP_OPT_TLS_CIPHERS,
	SP_OPT_TLS_CURVES,
	SP_OPT_TLS_PSK,
	SP_OPT_TLS_SERVER_NAME,
	SP_OPT_TLS_ENGINE,
	SP_OPT_VU_OFFSET,
	SP_OPT_WS_MAX_MESSAGE,
	SP_OPT_WS_PING_EVERY,
	SP_OPT_JSON,
	SP_OPT_CSV,
	SP_OPT_HTML,
	SP_OPT_RESOLVE,
	SP_OPT_LOG_REQUESTS,
	SP_OPT_OUT,
	SP_OPT_LIVE_INTERVAL,
	SP_OPT_METRICS,
	SP_OPT_METRICS_LINGER,
	SP_OPT_WEB,
	SP_OPT_SHARD,
	SP_OPT_START_AT,
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
	{ "response-timeout", required_argument, NULL,
	  SP_OPT_RESPONSE_TIMEOUT },
	{ "expect-status", required_argument, NULL, SP_OPT_EXPECT_STATUS },
	{ "threshold", required_argument, NULL, SP_OPT_THRESHOLD },
	{ "abort-on-fail", no_argument, NULL, SP_OPT_ABORT_ON_FAIL },
	{ "breakpoint", optional_argument, NULL, SP_OPT_BREAKPOINT },
	{ "abort-grace", required_argument, NULL, SP_OPT_ABORT_GRACE },
	{ "insecure", no_argument, NULL, SP_OPT_INSECURE },
	{ "tls-ca", required_argument, NULL, SP_OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, SP_OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, SP_OPT_TLS_KEY },
	{ "tls-resume", required_argument, NULL, SP_OPT_TLS_RESUME },
	{ "tls-ciphers", required_argument, NULL, SP_OPT_TLS_CIPHERS },
	{ "tls-curves", required_argument, NULL, SP_OPT_TLS_CURVES },
	{ "tls-psk", required_argument, NULL, SP_OPT_TLS_PSK },
	{ "tls-server-name", required_argument, NULL, SP_OPT_TLS_SERVER_NAME },
	{ "tls-engine", required_argument, NULL, SP_OPT_TLS_ENGINE },
	{ "vu-offset", required_argument, NULL, SP_OPT_VU_OFFSET },
	{ "ws-max-message", required_argument, NULL, SP_OPT_WS_MAX_MESSAGE },
	{ "ws-ping-every", required_argument, NULL, SP_OPT_WS_PING_EVERY },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "csv", required_argument, NULL, SP_OPT_CSV },
	{ "html", required_argument, NULL, SP_OPT_HTML },
	{ "resolve", required_argument, NULL, SP_OPT_RESOLVE },
	{ "log-requests", required_argument, NULL, SP_OPT_LOG_REQUESTS },
	{ "out", required_argument, NULL, SP_OPT_OUT },
	{ "live-interval", required_argument, NULL, SP_OPT_LIVE_INTERVAL },
	{ "metrics", required_argument, NULL, SP_OPT_METRICS },
	{ "metrics-linger", required_argument, NULL, SP_OPT_METRICS_LINGER },
	{ "web", required_argument, NULL, SP_OPT_WEB },
	{ "shard", required_argument, NULL, SP_OPT_SHARD },
	{ "start-at", required_argument, NULL, SP_OPT_START_AT },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
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
	[SP_OPT_EXPECT_STATUS - SP_OPT_BASE] = "expect-status",
	[SP_OPT_THRESHOLD - SP_OPT_BASE] = "threshold",
	[SP_OPT_ABORT_ON_FAIL - SP_OPT_BASE] = "abort-on-fail",
	[SP_OPT_ABORT_GRACE - SP_OPT_BASE] = "abort-grace",
	[SP_OPT_BREAKPOINT - SP_OPT_BASE] = "breakpoint",
	[SP_OPT_INSECURE - SP_OPT_BASE] = "insecure",
	[SP_OPT_TLS_CA - SP_OPT_BASE] = "tls-ca",
	[SP_OPT_TLS_CERT - SP_OPT_BASE] = "tls-cert",
	[SP_OPT_TLS_KEY - SP_OPT_BASE] = "tls-key",
	[SP_OPT_TLS_RESUME - SP_OPT_BASE] = "tls-resume",
	[SP_OPT_TLS_CIPHERS - SP_OPT_BASE] = "tls-ciphers",
	[SP_OPT_TLS_CURVES - SP_OPT_BASE] = "tls-curves",
	[SP_OPT_TLS_PSK - SP_OPT_BASE] = "tls-psk",
	[SP_OPT_TLS_SERVER_NAME - SP_OPT_BASE] = "tls-server-name",
	[SP_OPT_TLS_ENGINE - SP_OPT_BASE] = "tls-engine",
	[SP_OPT_VU_OFFSET - SP_OPT_BASE] = "vu-offset",
	[SP_OPT_WS_MAX_MESSAGE - SP_OPT_BASE] = "ws-max-message",
	[SP_OPT_WS_PING_EVERY - SP_OPT_BASE] = "ws-ping-every",
};

int
sp_run_args(int argc, char **argv, struct sp_run *r)
{
	int code, n;

	sp_netopt_init(&r->net);
	r->ov = calloc((size_t)argc + 1, sizeof(*r->ov));
	if (r->ov == NULL) {
		fprintf(stderr, "stampede: out of memory\n");
		return -1;
	}
	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_run_longopts, NULL)) !=
	       -1) {
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
		case SP_OPT_CSV:
			r->csv_prefix = optarg;
			break;
		case SP_OPT_HTML:
			r->html_path = optarg;
			break;
		case SP_OPT_LOG_REQUESTS:
			r->log_path = optarg;
			break;
		case SP_OPT_OUT:
			if (sp_obs_add_out(&r->obs.o, optarg) < 0)
				return -1;
			break;
		case SP_OPT_LIVE_INTERVAL:
			if (sp_parse_duration("--live-interval", optarg,
					      &r->obs.o.live_interval_us) < 0)
				return -1;
			break;
		case SP_OPT_METRICS:
			r->obs.o.metrics = optarg;
			break;
		case SP_OPT_METRICS_LINGER:
			if (sp_parse_duration("--metrics-linger", optarg,
					      &r->obs.o.metrics_linger_us) < 0)
				return -1;
			r->obs.o.metrics_linger_set = 1;
			break;
		case SP_OPT_WEB:
			r->obs.o.web = optarg;
			break;
		case SP_OPT_SHARD:
			r->sh.arg = optarg;
			break;
		case SP_OPT_START_AT:
			r->sh.at_arg = optarg;
			break;
		case SP_OPT_ABORT_ON_FAIL:
			r->ov[r->nov].key = "abort-on-fail";
			r->ov[r->nov++].value = "1";
			break;
		case SP_OPT_BREAKPOINT:
			r->ov[r->nov].key = "breakpoint";
			r->ov[r->nov++].value = optarg != NULL ? optarg : "1";
			break;
		case SP_OPT_RESOLVE:
			r->ov[r->nov].key = "resolve";
			r->ov[r->nov++].value = optarg;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_run_help, stdout);
			exit(SP_EXIT_OK);
		default:
			if (code >= SP_OPT_URL &&
			    code <= SP_OPT_WS_PING_EVERY) {
				r->ov[r->nov].key =
					sp_run_keys[code - SP_OPT_BASE];
				r->ov[r->nov++].value = optarg != NULL ?
								optarg :
								"1";
				break;
			}
			return sp_opt_bad("run", code, argv);
		}
	}
	/* `stampede run ws://host/echo`: a URL where the file goes is
	 * --url (no file is named "scheme://..."). */
	if (optind < argc && strstr(argv[optind], "://") != NULL) {
		r->ov[r->nov].key = "url";
		r->ov[r->nov++].value = argv[optind++];
	} else if (optind < argc) {
		r->file = argv[optind++];
	}
	if (optind < argc) {
		sp_usage_error("run: unexpected argument '%s' (one scenario "
			       "file at most)",
			       argv[optind]);
		return -1;
	}
	return 0;
}

/* The file's network keys, where the command line gave none. */
static int
sp_run_file_net(struct sp_run *r)
{
	const struct sp_run_net *fn = &r->rp.net;
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
		{ SP_NETOPT_PLACEMENT, fn->placement },
		{ SP_NETOPT_NO_KERNEL_BLIND, fn->kernel_blind },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].v == NULL ||
		    r->net_set[keys[i].code - SP_NETOPT_BASE])
			continue;
		if (sp_netopt_parse(&r->net, keys[i].code, keys[i].v) < 0) {
			fprintf(stderr,
				"stampede: (from %s, network section)\n",
				r->rp.source);
			return -1;
		}
	}
	return 0;
}

/* sp_resolver_fn: the system resolver (/etc/hosts, DNS, ... as
 * nsswitch.conf says), IPv4 only for now; the first address. */
static int
sp_run_getaddrinfo(const char *name, uint32_t *ip, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc != 0 || res == NULL) {
		snprintf(why, len, "%s",
			 rc == EAI_SYSTEM ? strerror(errno) :
			 rc != 0          ? gai_strerror(rc) :
					    "no IPv4 address");
		return -1;
	}
	*ip = ntohl(((const struct sockaddr_in *)(const void *)res->ai_addr)
			    ->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

int
sp_run_plan(struct sp_run *r)
{
	struct sp_scenario_err e;

	sp_scenario_init(&r->rp);
	if (r->file != NULL && sp_scenario_load(&r->rp, r->file, &e) < 0)
		goto bad;
	for (int i = 0; i < r->nov; i++)
		if (sp_scenario_set(&r->rp, r->ov[i].key, r->ov[i].value, &e) <
		    0)
			goto bad;
	if (sp_scenario_finish(&r->rp, &e) < 0)
		goto bad;
	if (sp_run_file_net(r) < 0 || sp_netopt_finish(&r->net) < 0 ||
	    sp_run_shard_plan(r) < 0)
		return -1;
	/* Here, on the control thread, before EAL and any frame: a name is
	 * resolved once for the whole run. */
	if (sp_scenario_resolve(&r->rp, sp_run_getaddrinfo, &e) < 0)
		goto bad;
	if (sp_netopt_check_target(&r->net, "target", r->rp.target_name,
				   r->rp.eng.dst_ip) < 0)
		return -1;
	r->rp.eng.user_agent = "stampede/" SP_VERSION;
	return 0;
bad:
	fprintf(stderr, "%s\n", e.msg);
	return -1;
}
