/*
 * stampede: subcommand dispatch, --help and --version.
 *
 * Each subcommand parses its own options (getopt_long on argv shifted past
 * the subcommand name) so that `stampede tcp --help` and `stampede net
 * --help` document exactly what each accepts.
 */
#include <stdio.h>
#include <string.h>

#include "sp_app.h"
#include "sp_scenario.h"

static const char sp_help[] =
	"usage: stampede COMMAND [options]\n"
	"\n"
	"Kernel-bypass load generator (DPDK + its own TCP stack).\n"
	"\n"
	"commands:\n"
	"  run     HTTP/1.1 virtual users from a scenario or a URL\n"
	"          (stampede run --help)\n"
	"  tcp     raw TCP connections with echo verification (stampede tcp --help)\n"
	"  serve   an HTTP/1.1 responder for clients to load (stampede serve --help)\n"
	"  net     answer ARP and ping for a while, print counters\n"
	"  validate  check a scenario file, touch no network (validate --help)\n"
	"  merge   add up the JSON reports of a plan's shards (merge --help)\n"
	"  help    this text, or `stampede help COMMAND`\n"
	"\n"
	"  -h, --help   this text (COMMAND -h: that command's)\n"
	"  --version    stampede's version and DPDK's (any command takes it)\n"
	"\n"
	"Any unicast IPv4 address may be a target or a source; what cannot\n"
	"work (multicast, broadcast, loopback, 0/8, 240/4) is refused.\n"
	"exit codes: 0 ok, 1 some work failed, 2 usage, 3 could not run\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} sp_cmds[] = {
	{ "run", sp_cmd_run },           { "tcp", sp_cmd_tcp },
	{ "serve", sp_cmd_serve },       { "net", sp_cmd_net },
	{ "validate", sp_cmd_validate }, { "merge", sp_cmd_merge },
};

static int
sp_find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(sp_cmds) / sizeof(sp_cmds[0]); i++)
		if (strcmp(sp_cmds[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fputs(sp_help, stderr);
		return SP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(sp_help, stdout);
		return SP_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		sp_print_version(stdout);
		return SP_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			fputs(sp_help, stdout);
			return SP_EXIT_OK;
		}
		i = sp_find_cmd(argv[2]);
		if (i < 0) {
			sp_usage_error("help: unknown command '%s'", argv[2]);
			return SP_EXIT_USAGE;
		}
		char *hargv[] = { argv[2], "--help", NULL };
		return sp_cmds[i].run(2, hargv);
	}
	i = sp_find_cmd(argv[1]);
	if (i < 0) {
		sp_usage_error("unknown command '%s' (see stampede --help)",
			       argv[1]);
		return SP_EXIT_USAGE;
	}
	/* validate takes no option but its FILE: the one command not
	 * linked with DPDK's version, so it is answered here. */
	if (strcmp(argv[1], "validate") == 0)
		for (int a = 2; a < argc; a++)
			if (strcmp(argv[a], "--version") == 0) {
				sp_print_version(stdout);
				return SP_EXIT_OK;
			}
	/* The subcommand sees its own name as argv[0]. */
	return sp_cmds[i].run(argc - 1, argv + 1);
}
