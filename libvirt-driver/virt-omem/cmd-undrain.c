/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-undrain.c: "virt-omem undrain DOMAIN... | --all": remove <drain/>
 * from the contract at the end of a maintenance, so omemd arbitrates the
 * VM again (from min, where the drain left it).
 */
#include "config.h"

#include "virt-omem-maintenance.h"

static const VirtOmemMaintenance virt_omem_undrain = {
	.command = &virt_omem_command_undrain,
	.flag = VIRT_OMEM_MAINTENANCE_DRAIN,
	.set = false,
	.done = "undrained",
	.already = "not draining",
};

static int virt_omem_undrain_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	return virt_omem_maintenance_run(&virt_omem_undrain, global, argc, argv);
}

const VirtOmemCommand virt_omem_command_undrain = {
	.name = "undrain",
	.run = virt_omem_undrain_run,
	.synopsis = "DOMAIN... | --all [--live] [--config] [--current]",
	.summary = "end the drain of omem domains: omemd grants them memory again",
	.help = VIRT_OMEM_MAINTENANCE_HELP
		"  -h, --help          this help\n",
};
