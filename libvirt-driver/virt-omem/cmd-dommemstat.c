/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-dommemstat.c: "virt-omem dommemstat DOMAIN": one omem VM's contract,
 * its virtio-mem figures and, when omemd's status can be read, what the
 * guest demands and what omemd decided.  "name: value" lines with exact
 * sizes, one figure per line, so scripts can pick one with awk.
 */
#include "config.h"

#include <time.h>

#include "virt-omem-view.h"

/* One "label: value" line, labels aligned. */
static void virt_omem_dommemstat_line(const char *label, const char *format, ...)
	G_GNUC_PRINTF(2, 3);

static void virt_omem_dommemstat_line(const char *label, const char *format, ...)
{
	g_autofree char *value = NULL;
	va_list ap;
	char *p;

	va_start(ap, format);
	value = g_strdup_vprintf(format, ap);
	va_end(ap);
	for (p = value; *p; p++) /* omemd's strings stay on their line */
		if ((unsigned char)*p < 0x20)
			*p = '?';
	printf("%-18s %s\n", label, value);
}

/* "12:00:01" local time of a Unix time in ms, or "?" for 0. */
static char *virt_omem_dommemstat_time(long long unix_ms)
{
	g_autoptr(GDateTime) time = NULL;

	if (unix_ms <= 0)
		return g_strdup("?");
	time = g_date_time_new_from_unix_local(unix_ms / 1000);
	return time ? g_date_time_format(time, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
}

static void virt_omem_dommemstat_print(const VirtOmemView *view,
				       const VirtOmemStatusSource *source)
{
	const OmemContract *contract = view->contract;
	const VirtOmemStatusVm *status = view->status;

	virt_omem_dommemstat_line("domain:", "%s", view->name);
	virt_omem_dommemstat_line("state:", "%s", view->state);
	virt_omem_dommemstat_line("boot:", "%s", virt_omem_size(omem_contract_get_boot(contract)));
	virt_omem_dommemstat_line("min:", "%s", virt_omem_size(omem_contract_get_min(contract)));
	virt_omem_dommemstat_line("cap:", "%s", virt_omem_size(omem_contract_get_cap(contract)));
	virt_omem_dommemstat_line("max:", "%s", virt_omem_size(omem_contract_get_max(contract)));
	virt_omem_dommemstat_line("shares:", "%u", omem_contract_get_shares(contract));
	virt_omem_dommemstat_line("buffer:", "%u%%", omem_contract_get_buffer_percent(contract));
	virt_omem_dommemstat_line("frozen:", "%s", omem_contract_get_frozen(contract) ? "yes" : "no");
	virt_omem_dommemstat_line("drain:", "%s", omem_contract_get_drain(contract) ? "yes" : "no");
	if (view->has_memory) {
		virt_omem_dommemstat_line("requested:", "%s",
					  virt_omem_size(view->memory.requested_bytes));
		virt_omem_dommemstat_line("plugged:", "%s",
					  virt_omem_size(view->memory.plugged_bytes));
		virt_omem_dommemstat_line("total:", "%s",
					  virt_omem_size(view->memory.boot_bytes +
							 view->memory.plugged_bytes));
	} else {
		virt_omem_dommemstat_line("requested:", "- (not running)");
		virt_omem_dommemstat_line("plugged:", "- (not running)");
		virt_omem_dommemstat_line("total:", "- (not running)");
	}

	if (!status) {
		virt_omem_dommemstat_line("demand:", "unknown (%s)",
					  source->status ? "omemd does not manage this domain"
							 : source->unavailable);
		return;
	}
	if (status->has_demand)
		virt_omem_dommemstat_line("demand:", "%s", virt_omem_size(status->demand_bytes));
	else
		virt_omem_dommemstat_line("demand:", "unknown (the guest has not reported yet)");
	if (status->has_guest) {
		virt_omem_dommemstat_line("guest total:", "%s",
					  virt_omem_size(status->guest_total_bytes));
		virt_omem_dommemstat_line("guest free:", "%s",
					  virt_omem_size(status->guest_free_bytes));
		virt_omem_dommemstat_line("guest available:", "%s",
					  virt_omem_size(status->guest_available_bytes));
	} else {
		virt_omem_dommemstat_line("guest free:", "unknown (no report from the guest)");
	}
	virt_omem_dommemstat_line("session:", "%s",
				  status->session_state ? status->session_state : "none");
	if (status->last_decision) {
		const VirtOmemStatusDecision *decision = status->last_decision;
		g_autofree char *when = virt_omem_dommemstat_time(decision->at_unix_ms);

		virt_omem_dommemstat_line("last decision:", "%s to %s at %s%s%s", decision->action,
					  virt_omem_size(decision->target_bytes), when,
					  decision->reason ? ": " : "",
					  decision->reason ? decision->reason : "");
	} else {
		virt_omem_dommemstat_line("last decision:", "none yet");
	}
}

static int virt_omem_dommemstat_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(virDomain) domain = NULL;
	g_autoptr(VirtOmemStatusSource) source = NULL;
	VirtOmemView view;
	int c, r, status;

	while ((c = virt_omem_getopt(&virt_omem_command_dommemstat, argc, argv, ":h", options)) !=
	       -1) {
		if (c != 'h')
			return VIRT_OMEM_EXIT_USAGE;
		virt_omem_command_print_help(&virt_omem_command_dommemstat, stdout);
		return VIRT_OMEM_EXIT_OK;
	}
	if (virt_omem_positional(&virt_omem_command_dommemstat, argc, argv, 1, 1, "a DOMAIN") < 0)
		return VIRT_OMEM_EXIT_USAGE;

	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	domain = virt_omem_lookup_domain(conn, argv[optind], &status);
	if (!domain)
		return status;
	source = virt_omem_status_source_open(conn);
	r = virt_omem_view_load(domain, source, &view);
	if (r != 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(), "domain '%s': %s",
				      virDomainGetName(domain), omem_error_last_message());
	virt_omem_dommemstat_print(&view, source);
	virt_omem_view_clear(&view);
	return VIRT_OMEM_EXIT_OK;
}

const VirtOmemCommand virt_omem_command_dommemstat = {
	.name = "dommemstat",
	.run = virt_omem_dommemstat_run,
	.synopsis = "DOMAIN",
	.summary = "show an omem domain's contract, plugged memory and, from omemd, its demand",
	.help = "  -h, --help        this help\n",
};
