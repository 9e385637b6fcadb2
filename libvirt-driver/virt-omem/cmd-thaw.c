/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-thaw.c: "virt-omem thaw DOMAIN... | --all": remove <frozen/> from
 * the contract, so omemd arbitrates the VM again from its current size.
 */
#include "config.h"

#include "virt-omem-maintenance.h"

static const VirtOmemMaintenance virt_omem_thaw = {
	.command = &virt_omem_command_thaw,
	.flag = VIRT_OMEM_MAINTENANCE_FROZEN,
	.set = false,
	.done = "thawed",
	.already = "not frozen",
};

static int virt_omem_thaw_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	return virt_omem_maintenance_run(&virt_omem_thaw, global, argc, argv);
}

const VirtOmemCommand virt_omem_command_thaw = {
	.name = "thaw",
	.run = virt_omem_thaw_run,
	.synopsis = "DOMAIN... | --all [--live] [--config] [--current]",
	.summary = "thaw frozen omem domains: omemd resizes them again",
	.help = VIRT_OMEM_MAINTENANCE_HELP
		"  -h, --help          this help\n",
};
