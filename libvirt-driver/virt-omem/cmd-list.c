/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-list.c: "virt-omem list": every omem domain, running and defined,
 * in one table (sizes in MiB, "frozen" or "draining" after the state);
 * top refreshes the same table.
 */
#include "config.h"

#include "virt-omem-view.h"
#include "virt-omem-table.h"

int virt_omem_list_print(virConnectPtr conn, const VirtOmemStatusSource *source)
{
	static const char *const headers[] = {
		"Name", "State", ">Boot", ">Plugged", ">Requested", ">Cap", ">Min", ">Max",
		">Demand", NULL,
	};
	g_autoptr(VirtOmemTable) table = virt_omem_table_new(headers);
	g_autoptr(GPtrArray) views = NULL;
	unsigned int failed = 0;
	guint i;

	views = virt_omem_view_list(conn, source, &failed);
	if (!views)
		return VIRT_OMEM_EXIT_FAILED;
	for (i = 0; i < views->len; i++) {
		const VirtOmemView *view = g_ptr_array_index(views, i);
		const OmemContract *contract = view->contract;
		g_autofree char *boot = virt_omem_view_mib(omem_contract_get_boot(contract));
		g_autofree char *cap = virt_omem_view_mib(omem_contract_get_cap(contract));
		g_autofree char *min = virt_omem_view_mib(omem_contract_get_min(contract));
		g_autofree char *max = virt_omem_view_mib(omem_contract_get_max(contract));
		g_autofree char *plugged = NULL, *requested = NULL, *demand = NULL;
		g_autofree char *state = NULL;
		const char *cells[10];

		if (view->has_memory) {
			plugged = virt_omem_view_mib(view->memory.plugged_bytes);
			requested = virt_omem_view_mib(view->memory.requested_bytes);
		}
		if (view->status && view->status->has_demand)
			demand = virt_omem_view_mib(view->status->demand_bytes);
		cells[0] = view->name;
		/* The operator's maintenance shows beside libvirt's state
		 * (both only in a contract edited by hand). */
		state = g_strdup_printf("%s%s%s", view->state,
					omem_contract_get_frozen(contract) ? ", frozen" : "",
					omem_contract_get_drain(contract) ? ", draining" : "");
		cells[1] = state;
		cells[2] = boot;
		cells[3] = plugged ? plugged : "-";
		cells[4] = requested ? requested : "-";
		cells[5] = cap;
		cells[6] = min;
		cells[7] = max;
		cells[8] = demand ? demand : "?";
		cells[9] = NULL;
		virt_omem_table_add_row(table, cells);
	}
	virt_omem_table_print(table, stdout);
	if (!source->status)
		printf("(sizes in MiB; demand unknown: %s)\n", source->unavailable);
	else
		printf("(sizes in MiB; demand from omemd)\n");
	return failed ? VIRT_OMEM_EXIT_FAILED : VIRT_OMEM_EXIT_OK;
}

static int virt_omem_list_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(VirtOmemStatusSource) source = NULL;
	int c;

	while ((c = virt_omem_getopt(&virt_omem_command_list, argc, argv, ":h", options)) != -1) {
		if (c != 'h')
			return VIRT_OMEM_EXIT_USAGE;
		virt_omem_command_print_help(&virt_omem_command_list, stdout);
		return VIRT_OMEM_EXIT_OK;
	}
	if (virt_omem_positional(&virt_omem_command_list, argc, argv, 0, 0, "no argument") < 0)
		return VIRT_OMEM_EXIT_USAGE;
	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	source = virt_omem_status_source_open(conn);
	return virt_omem_list_print(conn, source);
}

const VirtOmemCommand virt_omem_command_list = {
	.name = "list",
	.run = virt_omem_list_run,
	.synopsis = "",
	.summary = "list every omem domain (running and defined) with its contract and memory",
	.help = "  -h, --help        this help\n",
};
