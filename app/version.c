/*
 * `--version` for the binary and every subcommand: our version and the DPDK
 * the binary runs with (rte_version() of the shared library actually
 * loaded, which a package upgrade can change under an old build).
 */
#include <stdio.h>

#include <rte_version.h>

#include "sp_app.h"
#include "sp_config.h"

void
sp_print_version(FILE *out)
{
	fprintf(out, "stampede %s\n%s\n", SP_VERSION, rte_version());
}
