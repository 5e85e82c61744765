/*
 * `stampede net`: bring the port up and let the stack answer ARP and ICMP
 * echo for a while, then print its counters. The smallest end-to-end check
 * of EAL, the port, the worker loop and the stack's L2/L3 (the ping test).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_app.h"

static const char sp_net_help[] =
	"usage: stampede net --port P --ip A [--duration DUR] [--json FILE]\n"
	"\n"
	"Answer ARP and ICMP echo on --ip for DUR (default 10s), then print the\n"
	"stack's counters. With --gateway, resolve it by ARP first.\n"
	"\n"
	"  --duration DUR          how long to run (default 10s)\n"
	"  --json FILE             write the counters as JSON too\n"
	"                          (-: stdout, the summary then on stderr)\n"
	"\n" SP_NETOPT_HELP "\n"
	"exit: 0 ran, 2 usage, 3 could not run (EAL, port, ARP)\n";

enum {
	SP_OPT_DURATION = SP_OPT_BASE,
	SP_OPT_JSON,
	SP_OPT_HELP,
};

static const struct option sp_net_longopts[] = {
	SP_NETOPT_LONGOPTS,
	{ "duration", required_argument, NULL, SP_OPT_DURATION },
	{ "json", required_argument, NULL, SP_OPT_JSON },
	{ "help", no_argument, NULL, SP_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Nothing to do but let the stack answer: no step, so only a stop ends it. */
static const struct sp_mode sp_netmode_mode = {
	.name = "net",
};

static int
sp_net_parse(int argc, char **argv, struct sp_netopt *no, uint64_t *duration_us,
	     const char **json_path)
{
	int code, r;

	sp_netopt_init(no);
	*duration_us = 10 * SP_US_PER_S;
	opterr = 0;
	optind = 1;
	while ((code = getopt_long(argc, argv, ":h", sp_net_longopts, NULL)) !=
	       -1) {
		r = sp_netopt_parse(no, code, optarg);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (code) {
		case SP_OPT_DURATION:
			if (sp_parse_duration("--duration", optarg,
					      duration_us) < 0)
				return -1;
			if (*duration_us == 0) {
				sp_usage_error("--duration: must be positive");
				return -1;
			}
			break;
		case SP_OPT_JSON:
			*json_path = optarg;
			break;
		case 'h':
		case SP_OPT_HELP:
			fputs(sp_net_help, stdout);
			exit(SP_EXIT_OK);
		default:
			return sp_opt_bad("net", code, argv);
		}
	}
	if (sp_opt_no_args("net", argc, argv) < 0)
		return -1;
	if (no->cores != 1) {
		sp_usage_error("--cores: the net mode runs on one worker core");
		return -1;
	}
	return sp_netopt_finish(no);
}

int
sp_cmd_net(int argc, char **argv)
{
	static const struct sp_tcp_ops no_ops;
	static struct sp_cores cores;
	const struct sp_core_mode cm = { .mode = &sp_netmode_mode,
					 .ops = &no_ops };
	struct sp_netopt no;
	struct sp_stack_config cfg;
	struct sp_report rep;
	uint64_t duration_us;
	const char *json_path = NULL;
	FILE *json = NULL;
	int ret = SP_EXIT_NORUN;

	if (sp_net_parse(argc, argv, &no, &duration_us, &json_path) < 0)
		return SP_EXIT_USAGE;
	if (json_path != NULL) {
		json = sp_out_open("--json", json_path);
		if (json == NULL) {
			return SP_EXIT_USAGE;
		}
	}
	if (sp_cores_open(&cores, &no) < 0)
		goto out;
	/* A handful of slots: nothing connects, but the stack answers a
	 * stray SYN with RST without needing any. */
	sp_cores_stack_config(&cores, &cfg, 16, 0);
	if (sp_cores_add(&cores, 0, &no, &cfg, &cm) < 0)
		goto out;
	if (sp_cores_run(&cores, duration_us) < 0)
		goto out;
	sp_report_collect(&rep, &cores.ws[0], &cores.port);
	rep.mode = "net";
	sp_ipv4_str(no.ip, rep.target, sizeof(rep.target));
	sp_report_print(&rep, sp_out_summary(json_path));
	ret = SP_EXIT_OK;
	if (json != NULL) {
		if (sp_report_json(&rep, json, json_path) < 0)
			ret = SP_EXIT_NORUN;
		json = NULL;
	}
out:
	sp_out_discard(json, json_path);
	sp_cores_close(&cores);
	return ret;
}
