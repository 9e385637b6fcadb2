/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-maintenance.c: the engine of freeze, thaw, drain and undrain
 * (virt-omem-maintenance.h).  For each domain it reads the contract of
 * every side it is about to change, refuses a change that would make the
 * contract both frozen and draining, and writes only the flag, side by
 * side, so the other figures of each side stay what they are (setmem's
 * --live --config copies the live figures to the definition; a
 * maintenance switch has no reason to).  When the definition cannot be
 * written after the live side was, the live contract is put back, as
 * omem_contract_set does for a LIVE|CONFIG write.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-omem-maintenance.h"
#include "virt-omem-parse.h"

/* drain --wait's default: a drain to min unplugs far more than a typical
 * cap change, and the guest unplugs a block at a time, so it gets five
 * times setmem's minute.  The maximum is setmem's. */
#define VIRT_OMEM_MAINTENANCE_DEFAULT_TIMEOUT_MS 300000ull
#define VIRT_OMEM_MAINTENANCE_MAX_TIMEOUT_MS (24ull * 3600 * 1000)

typedef struct {
	bool all;
	VirtOmemAffect affect;
	unsigned int flags;     /* VIR_DOMAIN_AFFECT_* from affect */
	VirtOmemWait wait;
} VirtOmemMaintenanceArgs;

/* How the run went: the exit code is derived from it at the end. */
typedef struct {
	unsigned int changed;   /* domains whose contract was written */
	unsigned int failed;    /* domains (or waits) that failed */
	int failure_exit;       /* the failures' exit code when they agree, else 1 */
} VirtOmemMaintenanceTally;

static void virt_omem_maintenance_failed(VirtOmemMaintenanceTally *tally, int exit_code)
{
	if (tally->failed++ == 0)
		tally->failure_exit = exit_code;
	else if (tally->failure_exit != exit_code)
		tally->failure_exit = VIRT_OMEM_EXIT_FAILED;
}

/* 2 promises that nothing was changed (virt-omem(1)), so bad input on one
 * domain after another was changed is reported as 1. */
static int virt_omem_maintenance_exit(const VirtOmemMaintenanceTally *tally)
{
	if (!tally->failed)
		return VIRT_OMEM_EXIT_OK;
	if (tally->failure_exit == VIRT_OMEM_EXIT_USAGE && tally->changed)
		return VIRT_OMEM_EXIT_FAILED;
	return tally->failure_exit;
}

static bool virt_omem_maintenance_get(VirtOmemMaintenanceFlag flag, const OmemContract *contract)
{
	return flag == VIRT_OMEM_MAINTENANCE_FROZEN ? omem_contract_get_frozen(contract)
						    : omem_contract_get_drain(contract);
}

static void virt_omem_maintenance_put(VirtOmemMaintenanceFlag flag, OmemContract *contract,
				      bool value)
{
	if (flag == VIRT_OMEM_MAINTENANCE_FROZEN)
		omem_contract_set_frozen(contract, value);
	else
		omem_contract_set_drain(contract, value);
}

/* Parse the command line; VIRT_OMEM_EXIT_OK, an exit code after
 * reporting, or -1 after printing --help. */
static int virt_omem_maintenance_parse(const VirtOmemMaintenance *maintenance, int argc,
				       char **argv, VirtOmemMaintenanceArgs *args)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "live", no_argument, NULL, 'L' },
		{ "config", no_argument, NULL, 'C' },
		{ "current", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		/* Only for a command with --wait: */
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option options_no_wait[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "live", no_argument, NULL, 'L' },
		{ "config", no_argument, NULL, 'C' },
		{ "current", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const VirtOmemCommand *command = maintenance->command;
	int c;

	args->wait.timeout_ms = VIRT_OMEM_MAINTENANCE_DEFAULT_TIMEOUT_MS;
	while ((c = virt_omem_getopt(command, argc, argv, ":h",
				     maintenance->wait ? options : options_no_wait)) != -1) {
		int wait;

		if (virt_omem_option_affect(c, &args->affect))
			continue;
		wait = virt_omem_option_wait(c, optarg, VIRT_OMEM_MAINTENANCE_MAX_TIMEOUT_MS,
					     &args->wait);
		if (wait < 0)
			return VIRT_OMEM_EXIT_USAGE;
		if (wait > 0)
			continue;
		switch (c) {
		case 'a':
			args->all = true;
			break;
		case 'h':
			virt_omem_command_print_help(command, stdout);
			return -1;
		default:
			return VIRT_OMEM_EXIT_USAGE;
		}
	}
	if (args->all && optind < argc)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "--all selects the domains itself: drop '%s' or drop --all",
				      argv[optind]);
	if (!args->all &&
	    virt_omem_positional(command, argc, argv, 1, INT_MAX, "a DOMAIN or --all") < 0)
		return VIRT_OMEM_EXIT_USAGE;
	if (virt_omem_wait_check(&args->wait, &args->affect) != 0)
		return VIRT_OMEM_EXIT_USAGE;
	if (virt_omem_affect_flags(&args->affect, &args->flags) < 0)
		return VIRT_OMEM_EXIT_USAGE;
	return VIRT_OMEM_EXIT_OK;
}

/* Refuse to set a flag on a side whose other flag is set: the contract
 * would be both frozen and draining, which omem_contract_validate refuses
 * with less help.  The user undoes the other one first, on purpose. */
static int virt_omem_maintenance_check_conflict(const VirtOmemMaintenance *maintenance,
						const char *name, const char *side,
						const OmemContract *contract)
{
	if (!maintenance->set || !contract)
		return VIRT_OMEM_EXIT_OK;
	if (maintenance->flag == VIRT_OMEM_MAINTENANCE_FROZEN && omem_contract_get_drain(contract))
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "'%s' is draining to its min (%s contract), and a contract is never both frozen and draining; undrain it first with 'virt-omem undrain %s', then freeze it",
				      name, side, name);
	if (maintenance->flag == VIRT_OMEM_MAINTENANCE_DRAIN && omem_contract_get_frozen(contract))
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "'%s' is frozen (%s contract), and a contract is never both frozen and draining; thaw it first with 'virt-omem thaw %s', then drain it",
				      name, side, name);
	return VIRT_OMEM_EXIT_OK;
}

/* Write the flag to the sides that need it, live first.  Returns an exit
 * code after reporting; *ret_changed tells whether anything stayed
 * written. */
static int virt_omem_maintenance_write(const VirtOmemMaintenance *maintenance, virDomainPtr domain,
				       const OmemContract *live, const OmemContract *config,
				       bool *ret_changed)
{
	const char *name = virDomainGetName(domain);
	g_autoptr(OmemContract) new_live = live ? omem_contract_copy(live) : NULL;
	g_autoptr(OmemContract) new_config = config ? omem_contract_copy(config) : NULL;
	g_autofree char *reason = NULL;
	int exit_code;

	*ret_changed = false;
	if (new_live) {
		virt_omem_maintenance_put(maintenance->flag, new_live, maintenance->set);
		if (omem_contract_set(domain, new_live, VIR_DOMAIN_AFFECT_LIVE) < 0)
			return virt_omem_fail(virt_omem_exit_for_library_error(), "domain '%s': %s",
					      name, omem_error_last_message());
		*ret_changed = true;
	}
	if (!new_config)
		return VIRT_OMEM_EXIT_OK;
	virt_omem_maintenance_put(maintenance->flag, new_config, maintenance->set);
	if (omem_contract_set(domain, new_config, VIR_DOMAIN_AFFECT_CONFIG) == 0) {
		*ret_changed = true;
		return VIRT_OMEM_EXIT_OK;
	}
	reason = g_strdup(omem_error_last_message());
	exit_code = virt_omem_exit_for_library_error();
	if (!new_live)
		return virt_omem_fail(exit_code, "domain '%s' (persistent definition): %s", name,
				      reason);
	if (omem_contract_set(domain, live, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
				      "domain '%s': the live contract was changed but the persistent definition could not be (%s), and putting the live contract back failed too (%s); the sides now differ, see 'virt-omem dommemstat %s' and 'virsh dumpxml --inactive %s'",
				      name, reason, omem_error_last_message(), name, name);
	*ret_changed = false;
	return virt_omem_fail(exit_code,
			      "domain '%s' (persistent definition): %s; the live contract was put back as it was",
			      name, reason);
}

/* The line's tail that says which side changed; nothing for the usual,
 * live-only case. */
static const char *virt_omem_maintenance_sides(unsigned int flags)
{
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG))
		return " (live and persistent)";
	if (flags & VIR_DOMAIN_AFFECT_CONFIG)
		return " (persistent definition)";
	return "";
}

/* Switch the flag on one domain and print its line.  A live side that
 * drains afterwards is added to @targets (may be NULL). */
static int virt_omem_maintenance_domain(const VirtOmemMaintenance *maintenance,
					const VirtOmemMaintenanceArgs *args, virDomainPtr domain,
					GPtrArray *targets, VirtOmemMaintenanceTally *tally)
{
	const char *name = virDomainGetName(domain);
	g_autoptr(OmemContract) live = NULL;
	g_autoptr(OmemContract) config = NULL;
	const OmemContract *shown;
	unsigned int flags = args->flags;
	bool need_live, need_config, changed = false;
	int active, status;

	active = virDomainIsActive(domain);
	if (active < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot tell whether '%s' runs: %s",
				      name, virt_omem_libvirt_message());
	if (flags == VIR_DOMAIN_AFFECT_CURRENT)
		flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && !active)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "domain '%s' is not running: change its definition with --config",
				      name);
	if (args->wait.on && !(flags & VIR_DOMAIN_AFFECT_LIVE))
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "--wait watches the running guest, but '%s' is not running",
				      name);
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
	    omem_contract_get(domain, VIR_DOMAIN_AFFECT_LIVE, &live) < 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(), "domain '%s': %s", name,
				      omem_error_last_message());
	if ((flags & VIR_DOMAIN_AFFECT_CONFIG) &&
	    omem_contract_get(domain, VIR_DOMAIN_AFFECT_CONFIG, &config) < 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(),
				      "domain '%s' (persistent definition): %s", name,
				      omem_error_last_message());
	/* Both sides are checked before either is written. */
	status = virt_omem_maintenance_check_conflict(maintenance, name, "live", live);
	if (status == VIRT_OMEM_EXIT_OK)
		status = virt_omem_maintenance_check_conflict(maintenance, name, "persistent",
							      config);
	if (status != VIRT_OMEM_EXIT_OK)
		return status;

	need_live = live && virt_omem_maintenance_get(maintenance->flag, live) != maintenance->set;
	need_config = config &&
		      virt_omem_maintenance_get(maintenance->flag, config) != maintenance->set;
	if (need_live || need_config) {
		status = virt_omem_maintenance_write(maintenance, domain, need_live ? live : NULL,
						     need_config ? config : NULL, &changed);
		if (changed)
			tally->changed++;
		if (status != VIRT_OMEM_EXIT_OK)
			return status;
	}

	shown = live ? live : config;
	printf("%s: %s", name, changed ? maintenance->done : maintenance->already);
	if (maintenance->show_min)
		printf(" to min %s", virt_omem_size(omem_contract_get_min(shown)));
	printf("%s\n", virt_omem_maintenance_sides(flags));
	fflush(stdout);

	if (targets && live && maintenance->flag == VIRT_OMEM_MAINTENANCE_DRAIN &&
	    maintenance->set) {
		VirtOmemMaintenanceTarget *target = g_new0(VirtOmemMaintenanceTarget, 1);

		virDomainRef(domain);
		target->domain = domain;
		target->min_bytes = omem_contract_get_min(live);
		g_ptr_array_add(targets, target);
	}
	return VIRT_OMEM_EXIT_OK;
}

static void virt_omem_maintenance_target_free(VirtOmemMaintenanceTarget *target)
{
	virDomainFree(target->domain);
	g_free(target);
}

/* virDomainFree returns int, a GDestroyNotify nothing. */
static void virt_omem_maintenance_domain_free(gpointer domain)
{
	virDomainFree(domain);
}

static gint virt_omem_maintenance_compare(gconstpointer a, gconstpointer b)
{
	virDomainPtr left = *(virDomainPtr const *)a;
	virDomainPtr right = *(virDomainPtr const *)b;

	return strcmp(virDomainGetName(left), virDomainGetName(right));
}

/*
 * The sides --all changes on @domain, from the sides asked for: a domain
 * that is not running has no live side, a transient one no definition.
 * 0: leave the domain out.  --current is the running domains' live side,
 * as documented; only an explicit --config reaches the definitions of
 * the domains that are not running, so that one started during a
 * host-wide drain or freeze starts drained or frozen.
 */
static unsigned int virt_omem_maintenance_all_flags(unsigned int flags, virDomainPtr domain)
{
	int active = virDomainIsActive(domain), persistent = virDomainIsPersistent(domain);

	if (active < 0 || persistent < 0)
		return 0;
	if (flags == VIR_DOMAIN_AFFECT_CURRENT)
		return active ? VIR_DOMAIN_AFFECT_LIVE : 0;
	if (!active)
		flags &= ~(unsigned int)VIR_DOMAIN_AFFECT_LIVE;
	if (!persistent)
		flags &= ~(unsigned int)VIR_DOMAIN_AFFECT_CONFIG;
	return flags;
}

/* --all: every omem domain with a side to change (above), sorted by name.
 * A domain without a contract is no omem domain and left out; one whose
 * contract cannot be read is reported and counted; one that vanished
 * meanwhile is gone. */
static GPtrArray *virt_omem_maintenance_select_all(virConnectPtr conn, unsigned int flags,
						   VirtOmemMaintenanceTally *tally)
{
	g_autoptr(GPtrArray) selected = g_ptr_array_new_with_free_func(virt_omem_maintenance_domain_free);
	virDomainPtr *domains = NULL;
	int count, i;

	/* Paused domains too: omemd keeps their memory in its budget. */
	count = virConnectListAllDomains(conn, &domains,
					 flags & VIR_DOMAIN_AFFECT_CONFIG ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (count < 0) {
		virt_omem_maintenance_failed(tally,
					     virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
							    "cannot list the domains: %s",
							    virt_omem_libvirt_message()));
		return NULL;
	}
	for (i = 0; i < count; i++) {
		g_autoptr(OmemContract) contract = NULL;
		unsigned int sides = virt_omem_maintenance_all_flags(flags, domains[i]);
		const OmemError *error;

		if (!sides) {
			virDomainFree(domains[i]);
			continue;
		}
		if (omem_contract_get(domains[i], sides & VIR_DOMAIN_AFFECT_LIVE ?
						  VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG,
				      &contract) == 0) {
			g_ptr_array_add(selected, domains[i]);
			continue;
		}
		error = omem_error_last();
		if (!error || error->code == OMEM_ERR_NOT_OMEM ||
		    error->libvirt_code == VIR_ERR_NO_DOMAIN) {
			virDomainFree(domains[i]);
			continue;
		}
		virt_omem_maintenance_failed(tally,
					     virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "domain '%s': %s",
							    virDomainGetName(domains[i]),
							    omem_error_last_message()));
		virDomainFree(domains[i]);
	}
	free(domains);
	g_ptr_array_sort(selected, virt_omem_maintenance_compare);
	return g_steal_pointer(&selected);
}

int virt_omem_maintenance_run(const VirtOmemMaintenance *maintenance,
			      const VirtOmemGlobal *global, int argc, char **argv)
{
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(GPtrArray) targets = NULL;
	VirtOmemMaintenanceArgs args = { 0 };
	VirtOmemMaintenanceTally tally = { 0 };
	int status;

	status = virt_omem_maintenance_parse(maintenance, argc, argv, &args);
	if (status != VIRT_OMEM_EXIT_OK)
		return status < 0 ? VIRT_OMEM_EXIT_OK : status;

	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	if (args.wait.on)
		targets = g_ptr_array_new_with_free_func(
			(GDestroyNotify)virt_omem_maintenance_target_free);

	if (args.all) {
		g_autoptr(GPtrArray) domains = virt_omem_maintenance_select_all(conn, args.flags,
										 &tally);
		guint i;

		if (domains && domains->len == 0 && !tally.failed) {
			g_autofree char *uri = virConnectGetURI(conn);

			virt_omem_note("no %s omem domain on %s: nothing to do",
				       args.flags & VIR_DOMAIN_AFFECT_CONFIG ? "defined" : "running",
				       uri ? uri : "this connection");
		}
		for (i = 0; domains && i < domains->len; i++) {
			virDomainPtr domain = g_ptr_array_index(domains, i);
			VirtOmemMaintenanceArgs sides = args;

			/* Each domain on the sides it has; only running
			 * ones are waited for. */
			sides.flags = virt_omem_maintenance_all_flags(args.flags, domain);
			sides.wait.on = args.wait.on && (sides.flags & VIR_DOMAIN_AFFECT_LIVE);
			if (!sides.flags)
				continue; /* stopped or undefined since the listing */
			status = virt_omem_maintenance_domain(maintenance, &sides, domain, targets,
							      &tally);
			if (status != VIRT_OMEM_EXIT_OK)
				virt_omem_maintenance_failed(&tally, status);
		}
	} else {
		for (; optind < argc; optind++) {
			g_autoptr(virDomain) domain = virt_omem_lookup_domain(conn, argv[optind],
									    &status);

			if (domain)
				status = virt_omem_maintenance_domain(maintenance, &args, domain,
								      targets, &tally);
			if (status != VIRT_OMEM_EXIT_OK)
				virt_omem_maintenance_failed(&tally, status);
		}
	}

	if (targets && targets->len) {
		status = maintenance->wait(targets, args.wait.timeout_ms);
		if (status != VIRT_OMEM_EXIT_OK)
			virt_omem_maintenance_failed(&tally, status);
	}
	return virt_omem_maintenance_exit(&tally);
}
