/*
 * Linked into dperf by tools/bench-cg (ld --wrap), not part of stampede:
 * dperf, the peer the bench measures stampede against, builds its EAL
 * command line itself, for PCI ports only ("-a PCI" for each port line,
 * whose first field must be 12 characters long), and finds each port by
 * that name. The bench runs it on a veth through an af_packet vdev
 * without hugepages instead, with dperf's source untouched:
 *
 * - rte_eal_init: the "-a PCI" pairs are dropped and the words of
 *   $SP_DPERF_EAL (--no-huge, --no-pci, the vdev, a file prefix of its
 *   own) appended;
 * - rte_eth_dev_get_port_by_name: a name EAL does not know (the port
 *   line's placeholder address) is the first port there is, the vdev.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#define SP_DPERF_ARGC_MAX 64

int __real_rte_eal_init(int argc, char **argv);
int __wrap_rte_eal_init(int argc, char **argv);
int __real_rte_eth_dev_get_port_by_name(const char *name, uint16_t *port_id);
int __wrap_rte_eth_dev_get_port_by_name(const char *name, uint16_t *port_id);

int
__wrap_rte_eal_init(int argc, char **argv)
{
	/* EAL keeps pointers into argv: static storage. */
	static char *args[SP_DPERF_ARGC_MAX + 1], *extra;
	const char *env = getenv("SP_DPERF_EAL");
	int n = 0;

	for (int i = 0; i < argc && n < SP_DPERF_ARGC_MAX; i++) {
		if (strcmp(argv[i], "-a") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		args[n++] = argv[i];
	}
	if (env != NULL && (extra = strdup(env)) != NULL)
		for (char *save = NULL, *tok = strtok_r(extra, " ", &save);
		     tok != NULL && n < SP_DPERF_ARGC_MAX;
		     tok = strtok_r(NULL, " ", &save))
			args[n++] = tok;
	args[n] = NULL;
	return __real_rte_eal_init(n, args);
}

int
__wrap_rte_eth_dev_get_port_by_name(const char *name, uint16_t *port_id)
{
	uint16_t pid;

	if (__real_rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	RTE_ETH_FOREACH_DEV(pid)
	{
		*port_id = pid;
		return 0;
	}
	return -1;
}
