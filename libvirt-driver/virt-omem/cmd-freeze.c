/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-freeze.c: "virt-omem freeze DOMAIN... | --all": set <frozen/> in
 * the contract, so omemd neither grows nor shrinks the VM (maintenance,
 * debugging, a benchmark that needs a fixed size).  A draining domain is
 * refused: frozen and drain exclude each other, and silently replacing a
 * drain would stop a maintenance someone else started.
 */
#include "config.h"

#include "virt-omem-maintenance.h"

static const VirtOmemMaintenance virt_omem_freeze = {
	.command = &virt_omem_command_freeze,
	.flag = VIRT_OMEM_MAINTENANCE_FROZEN,
	.set = true,
	.done = "frozen",
	.already = "already frozen",
};

static int virt_omem_freeze_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	return virt_omem_maintenance_run(&virt_omem_freeze, global, argc, argv);
}

const VirtOmemCommand virt_omem_command_freeze = {
	.name = "freeze",
	.run = virt_omem_freeze_run,
	.synopsis = "DOMAIN... | --all [--live] [--config] [--current]",
	.summary = "freeze omem domains: omemd neither grows nor shrinks them until thawed",
	.help = VIRT_OMEM_MAINTENANCE_HELP
		"  -h, --help          this help\n"
		"A draining domain is refused: undrain it first.\n",
};
