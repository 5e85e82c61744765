/*
 * Keep the kernel's own stack blind to an af_packet port's frames for the
 * run: an nftables netdev ingress chain on the interface whose policy is
 * drop (what tools/kernel-blind.sh does for the test bed).
 *
 * Why: the kernel sees every frame our port receives. With no address on
 * the interface it still takes each one up through ip_rcv to drop it there
 * (CPU charged to whoever sent it: a third of a benchmark's figures), and
 * on a machine with ip_forward=1 it would route them on. Packet sockets
 * (our port, tcpdump) get their copy before the ingress hook, so the drop
 * costs the run nothing. The chain's priority is late (500): another
 * ingress chain on the interface at the usual priority (0, "filter"),
 * a user's counters or a test's, still sees every frame before ours
 * drops it.
 *
 * The table is ours alone: netdev stampede_<pid>_<start> (the test bed's
 * tables are sp_blind_<if>), made at start and deleted at exit, through
 * libnftables on the control thread. A run that could not delete it
 * (kill -9, a crash) leaves it behind: every start deletes the tables
 * whose process is gone. <start> is the process's start time (field 22 of
 * /proc/PID/stat), so a pid the kernel gave again to another program does
 * not keep a stale table alive. --no-kernel-blind (network.kernel_blind: false) makes
 * none. Failing to make it is a warning, not an error: the run is still
 * right, only dearer for the kernel.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "sp_app.h"

#define SP_KB_PREFIX "stampede_"

/* Start time of @pid in clock ticks since boot, or 0 if unknown. */
static unsigned long long
sp_kb_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name in parentheses (which may hold spaces):
	 * field 3 onwards; the start time is field 22. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1,
				" %*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
				&t) != 1)
		return 0;
	return t;
}

/* Whether the process that made a table (@pid, started at @start) still
 * runs. */
static int
sp_kb_alive(long pid, unsigned long long start)
{
	unsigned long long now;

	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 0;
	now = sp_kb_start(pid);
	return now == 0 || now == start; /* cannot tell: keep it */
}

static int
sp_kb_cmd(struct nft_ctx *ctx, const char *cmd, char *err, size_t len)
{
	const char *e;

	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		return 0;
	e = nft_ctx_get_error_buffer(ctx);
	snprintf(err, len, "%s", e != NULL && e[0] != '\0' ? e : "failed");
	err[strcspn(err, "\n")] = '\0';
	return -1;
}

/* Delete the stampede_<pid> tables of processes that are gone. */
static void
sp_kb_reap(struct nft_ctx *ctx)
{
	char *list, *save = NULL, cmd[96], err[256];
	const char *out;

	if (nft_run_cmd_from_buffer(ctx, "list tables netdev") != 0)
		return;
	out = nft_ctx_get_output_buffer(ctx);
	list = strdup(out != NULL ? out : "");
	if (list == NULL)
		return;
	for (char *line = strtok_r(list, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], *end;
		unsigned long long start;
		long pid;

		if (sscanf(line, "table netdev %63s", name) != 1 ||
		    strncmp(name, SP_KB_PREFIX, strlen(SP_KB_PREFIX)) != 0)
			continue;
		pid = strtol(name + strlen(SP_KB_PREFIX), &end, 10);
		if (*end != '_' || pid <= 0 || pid == (long)getpid())
			continue;
		start = strtoull(end + 1, &end, 10);
		if (*end != '\0' || sp_kb_alive(pid, start))
			continue;
		snprintf(cmd, sizeof(cmd), "delete table netdev %s", name);
		if (sp_kb_cmd(ctx, cmd, err, sizeof(err)) == 0)
			fprintf(stderr,
				"stampede: removed %s, left by a run "
				"that ended without cleaning up\n",
				name);
	}
	free(list);
}

void
sp_kblind_install(struct sp_kblind *kb, const char *iface)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char cmd[512], err[256];

	memset(kb, 0, sizeof(*kb));
	if (ctx == NULL) {
		fprintf(stderr,
			"stampede: warning: nftables unavailable: the "
			"kernel will see %s's frames\n",
			iface);
		return;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	sp_kb_reap(ctx);
	snprintf(kb->table, sizeof(kb->table), SP_KB_PREFIX "%ld_%llu",
		 (long)getpid(), sp_kb_start((long)getpid()));
	/* A leftover of ours (a pid reused) is replaced, not added to. */
	snprintf(cmd, sizeof(cmd),
		 "table netdev %s\n"
		 "delete table netdev %s\n"
		 "table netdev %s {\n"
		 "  comment \"stampede pid %ld: the kernel kept off %s for the "
		 "run (--no-kernel-blind to opt out)\"\n"
		 "  chain ingress {\n"
		 "    type filter hook ingress device \"%s\" priority 500; "
		 "policy drop;\n"
		 "  }\n"
		 "}\n",
		 kb->table, kb->table, kb->table, (long)getpid(), iface, iface);
	if (sp_kb_cmd(ctx, cmd, err, sizeof(err)) < 0)
		fprintf(stderr,
			"stampede: warning: could not keep the kernel's "
			"stack off %s (nftables: %s); the run goes on, the "
			"kernel sees its frames (--no-kernel-blind: do not "
			"try)\n",
			iface, err);
	else
		kb->installed = 1;
	nft_ctx_free(ctx);
}

void
sp_kblind_remove(struct sp_kblind *kb)
{
	struct nft_ctx *ctx;
	char cmd[96], err[256];

	if (!kb->installed)
		return;
	kb->installed = 0;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		return;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	snprintf(cmd, sizeof(cmd), "delete table netdev %s", kb->table);
	if (sp_kb_cmd(ctx, cmd, err, sizeof(err)) < 0)
		fprintf(stderr,
			"stampede: warning: could not delete nftables "
			"table netdev %s: %s\n",
			kb->table, err);
	nft_ctx_free(ctx);
}
