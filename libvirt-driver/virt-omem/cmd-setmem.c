/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-setmem.c: "virt-omem setmem-outsourced DOMAIN SIZE [options]": set
 * an omem VM's cap (its total RAM limit) and optionally min and shares in
 * its contract metadata; omemd follows the metadata-change event and
 * grows or shrinks the guest within the new contract.  With --wait, poll
 * the live virtio-mem devices until the guest's total is inside it.
 *
 * Rounding (sizes must be whole virtio-mem blocks): the cap is rounded
 * down, because a limit must never be exceeded; min is rounded up,
 * because a guarantee must never be less than asked.  Each rounding is
 * noted on stderr.  Everything is checked before anything is written.
 */
#include "config.h"

#include "virt-omem-parse.h"
#include "virt-omem.h"

/* How often --wait reads the live XML: libvirt's <current> lags the guest
 * by up to ~1 s anyway (docs/FACTS), so faster polling gains nothing. */
#define VIRT_OMEM_SETMEM_POLL_MS 500
#define VIRT_OMEM_SETMEM_DEFAULT_TIMEOUT_MS 60000ull
#define VIRT_OMEM_SETMEM_MAX_TIMEOUT_MS (24ull * 3600 * 1000)

typedef struct {
	const char *domain_name;
	unsigned long long cap_bytes;
	bool has_min;
	unsigned long long min_bytes;
	bool has_shares;
	unsigned int shares;
	VirtOmemAffect affect;
	VirtOmemWait wait;
} VirtOmemSetmemArgs;

/* Parse the command line; VIRT_OMEM_EXIT_OK, an exit code after
 * reporting, or -1 after printing --help. */
static int virt_omem_setmem_parse(int argc, char **argv, VirtOmemSetmemArgs *args)
{
	static const struct option options[] = {
		{ "min", required_argument, NULL, 'm' },
		{ "shares", required_argument, NULL, 's' },
		{ "live", no_argument, NULL, 'L' },
		{ "config", no_argument, NULL, 'C' },
		{ "current", no_argument, NULL, 'U' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const VirtOmemCommand *command = &virt_omem_command_setmem;
	int c;

	args->wait.timeout_ms = VIRT_OMEM_SETMEM_DEFAULT_TIMEOUT_MS;
	while ((c = virt_omem_getopt(command, argc, argv, ":h", options)) != -1) {
		int wait;

		if (virt_omem_option_affect(c, &args->affect))
			continue;
		wait = virt_omem_option_wait(c, optarg, VIRT_OMEM_SETMEM_MAX_TIMEOUT_MS, &args->wait);
		if (wait < 0)
			return VIRT_OMEM_EXIT_USAGE;
		if (wait > 0)
			continue;
		switch (c) {
		case 'm':
			if (virt_omem_option_size("min", optarg, &args->min_bytes) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			args->has_min = true;
			break;
		case 's':
			if (virt_omem_option_shares(optarg, &args->shares) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			args->has_shares = true;
			break;
		case 'h':
			virt_omem_command_print_help(command, stdout);
			return -1;
		default:
			return VIRT_OMEM_EXIT_USAGE;
		}
	}
	if (virt_omem_positional(command, argc, argv, 2, 2, "a DOMAIN and a SIZE") < 0)
		return VIRT_OMEM_EXIT_USAGE;
	args->domain_name = argv[optind];
	if (virt_omem_option_size("SIZE", argv[optind + 1], &args->cap_bytes) < 0)
		return VIRT_OMEM_EXIT_USAGE;
	return virt_omem_wait_check(&args->wait, &args->affect);
}

/* Round the requested figures to whole blocks, noting each change. */
static void virt_omem_setmem_round(VirtOmemSetmemArgs *args)
{
	unsigned long long rounded;

	rounded = args->cap_bytes - args->cap_bytes % OMEM_BLOCK_BYTES;
	if (rounded != args->cap_bytes) {
		virt_omem_note("rounded the cap %s down to %s: the virtio-mem block is %s and a cap is never exceeded",
			       virt_omem_size(args->cap_bytes), virt_omem_size(rounded),
			       virt_omem_size(OMEM_BLOCK_BYTES));
		args->cap_bytes = rounded;
	}
	if (args->has_min && args->min_bytes % OMEM_BLOCK_BYTES) {
		rounded = args->min_bytes - args->min_bytes % OMEM_BLOCK_BYTES;
		if (rounded <= G_MAXUINT64 - OMEM_BLOCK_BYTES)
			rounded += OMEM_BLOCK_BYTES;
		virt_omem_note("rounded min %s up to %s: the virtio-mem block is %s and a guarantee is never less than asked",
			       virt_omem_size(args->min_bytes), virt_omem_size(rounded),
			       virt_omem_size(OMEM_BLOCK_BYTES));
		args->min_bytes = rounded;
	}
}

/* Check the new figures against @contract (one side's); report with the
 * numbers and return VIRT_OMEM_EXIT_USAGE when they do not fit. */
static int virt_omem_setmem_check(const VirtOmemSetmemArgs *args, const char *name,
				  const char *side, const OmemContract *contract)
{
	unsigned long long boot = omem_contract_get_boot(contract);
	unsigned long long max = omem_contract_get_max(contract);
	unsigned long long min = args->has_min ? args->min_bytes : omem_contract_get_min(contract);

	if (args->cap_bytes > max)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "cap %s is beyond the max of '%s' (%s contract: boot %s, max %s); choose at most %s, or raise max by converting the domain again with --max",
				      virt_omem_size(args->cap_bytes), name, side,
				      virt_omem_size(boot), virt_omem_size(max), virt_omem_size(max));
	if (args->has_min && min < boot)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "min %s is below the boot RAM of '%s' (%s); choose a min of at least %s",
				      virt_omem_size(min), name, virt_omem_size(boot),
				      virt_omem_size(boot));
	if (args->has_min && min > max)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "min %s is beyond the max of '%s' (%s); choose a min of at most %s",
				      virt_omem_size(min), name, virt_omem_size(max),
				      virt_omem_size(max));
	if (args->cap_bytes < min)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "cap %s is below the min of '%s' (%s contract: min %s, boot %s); choose at least %s, or lower min with --min",
				      virt_omem_size(args->cap_bytes), name, side, virt_omem_size(min),
				      virt_omem_size(boot), virt_omem_size(min));
	return VIRT_OMEM_EXIT_OK;
}

static bool virt_omem_setmem_within(const OmemMemoryState *state, unsigned long long min,
				    unsigned long long cap)
{
	unsigned long long total = state->boot_bytes + state->plugged_bytes;

	return total >= min && total <= cap;
}

/* --wait: poll until boot + plugged is within [min, cap]. */
static int virt_omem_setmem_wait(virDomainPtr domain, const VirtOmemSetmemArgs *args,
				 unsigned long long min)
{
	const char *name = virDomainGetName(domain);
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)args->wait.timeout_ms * 1000;
	unsigned long long last_total = G_MAXUINT64;
	OmemMemoryState state;

	for (;;) {
		unsigned long long total;
		double elapsed;

		if (omem_domain_memory_state(domain, &state) < 0)
			return virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
					      "lost track of '%s' while waiting: %s", name,
					      omem_error_last_message());
		total = state.boot_bytes + state.plugged_bytes;
		elapsed = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
		if (virt_omem_setmem_within(&state, min, args->cap_bytes)) {
			fprintf(stderr, "virt-omem: '%s' has %s, within %s..%s (%.1f s)\n", name,
				virt_omem_size(total), virt_omem_size(min),
				virt_omem_size(args->cap_bytes), elapsed);
			return VIRT_OMEM_EXIT_OK;
		}
		if (total != last_total)
			fprintf(stderr,
				"virt-omem: waiting for '%s': %s (boot %s + plugged %s, requested %s), target %s..%s (%.1f s)\n",
				name, virt_omem_size(total), virt_omem_size(state.boot_bytes),
				virt_omem_size(state.plugged_bytes),
				virt_omem_size(state.requested_bytes), virt_omem_size(min),
				virt_omem_size(args->cap_bytes), elapsed);
		last_total = total;
		if (g_get_monotonic_time() >= deadline)
			break;
		g_usleep(MIN((gint64)VIRT_OMEM_SETMEM_POLL_MS * 1000,
			     MAX(deadline - g_get_monotonic_time(), 0)));
	}
	return virt_omem_fail(VIRT_OMEM_EXIT_TIMEOUT,
			      "timed out after %.1f s waiting for '%s': it has %s (boot %s + plugged %s, requested %s), the target is %s..%s; %s",
			      (double)args->wait.timeout_ms / 1000, name,
			      virt_omem_size(state.boot_bytes + state.plugged_bytes),
			      virt_omem_size(state.boot_bytes), virt_omem_size(state.plugged_bytes),
			      virt_omem_size(state.requested_bytes), virt_omem_size(min),
			      virt_omem_size(args->cap_bytes),
			      state.boot_bytes + state.plugged_bytes > args->cap_bytes
				      ? "an unplug stalls while the guest cannot free enough memory, and nothing moves while omemd is not running"
				      : "nothing grows the guest while omemd is not running, and omemd grows it only as far as the host's budget allows");
}

static int virt_omem_setmem_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(virDomain) domain = NULL;
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(OmemContract) config_contract = NULL;
	VirtOmemSetmemArgs args = { 0 };
	unsigned int flags;
	const char *name, *sides;
	int status, active;

	status = virt_omem_setmem_parse(argc, argv, &args);
	if (status != VIRT_OMEM_EXIT_OK)
		return status < 0 ? VIRT_OMEM_EXIT_OK : status;
	if (virt_omem_affect_flags(&args.affect, &flags) < 0)
		return VIRT_OMEM_EXIT_USAGE;
	virt_omem_setmem_round(&args);

	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	domain = virt_omem_lookup_domain(conn, args.domain_name, &status);
	if (!domain)
		return status;
	name = virDomainGetName(domain);
	active = virDomainIsActive(domain);
	if (active < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot tell whether '%s' runs: %s",
				      name, virt_omem_libvirt_message());
	/* Resolve --current here: the checks below need to know the side. */
	if (flags == VIR_DOMAIN_AFFECT_CURRENT)
		flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && !active)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "domain '%s' is not running: change its definition with --config",
				      name);
	if (args.wait.on && !(flags & VIR_DOMAIN_AFFECT_LIVE))
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "--wait watches the running guest, but '%s' is not running",
				      name);

	/* The live contract is the base when the live side is changed: it is
	 * the one omemd acts on.  With --live --config it is written to both,
	 * after checking the new figures against the definition too. */
	if (omem_contract_get(domain, (flags & VIR_DOMAIN_AFFECT_LIVE) ? VIR_DOMAIN_AFFECT_LIVE
								       : VIR_DOMAIN_AFFECT_CONFIG,
			      &contract) < 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(), "domain '%s': %s", name,
				      omem_error_last_message());
	status = virt_omem_setmem_check(&args, name,
					(flags & VIR_DOMAIN_AFFECT_LIVE) ? "live" : "persistent",
					contract);
	if (status != VIRT_OMEM_EXIT_OK)
		return status;
	if ((flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)) {
		if (omem_contract_get(domain, VIR_DOMAIN_AFFECT_CONFIG, &config_contract) < 0)
			return virt_omem_fail(virt_omem_exit_for_library_error(),
					      "domain '%s' (persistent definition): %s", name,
					      omem_error_last_message());
		status = virt_omem_setmem_check(&args, name, "persistent", config_contract);
		if (status != VIRT_OMEM_EXIT_OK)
			return status;
	}

	omem_contract_set_cap(contract, args.cap_bytes);
	if (args.has_min)
		omem_contract_set_min(contract, args.min_bytes);
	if (args.has_shares)
		omem_contract_set_shares(contract, args.shares);
	if (omem_contract_set(domain, contract, flags) < 0)
		return virt_omem_fail_library();
	/* Print what libvirt now holds, not what was sent. */
	omem_contract_free(g_steal_pointer(&contract));
	if (omem_contract_get(domain, (flags & VIR_DOMAIN_AFFECT_LIVE) ? VIR_DOMAIN_AFFECT_LIVE
								       : VIR_DOMAIN_AFFECT_CONFIG,
			      &contract) < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
				      "the contract of '%s' was written but cannot be read back: %s",
				      name, omem_error_last_message());

	sides = (flags & VIR_DOMAIN_AFFECT_LIVE) && (flags & VIR_DOMAIN_AFFECT_CONFIG)
			? "live and persistent"
			: (flags & VIR_DOMAIN_AFFECT_LIVE) ? "live" : "persistent";
	printf("Domain '%s' %s contract: cap %s (min %s, max %s, shares %u)\n", name, sides,
	       virt_omem_size(omem_contract_get_cap(contract)),
	       virt_omem_size(omem_contract_get_min(contract)),
	       virt_omem_size(omem_contract_get_max(contract)),
	       omem_contract_get_shares(contract));
	fflush(stdout);
	if (!args.wait.on)
		return VIRT_OMEM_EXIT_OK;
	return virt_omem_setmem_wait(domain, &args, omem_contract_get_min(contract));
}

const VirtOmemCommand virt_omem_command_setmem = {
	.name = "setmem-outsourced",
	.run = virt_omem_setmem_run,
	.synopsis = "DOMAIN SIZE [--min SIZE] [--shares N] [--live] [--config] [--current] [--wait [--timeout SECONDS]]",
	.summary = "set an omem domain's cap (its total RAM limit, SIZE); omemd resizes the guest within it",
	.help = "  --min SIZE          new guaranteed total RAM (rounded up to the block)\n"
		"  --shares N          new weight under contention, 1..1000000\n"
		"  --live              change the running domain's contract\n"
		"  --config            change the persistent definition's contract\n"
		"  --current           the running domain's if it runs, else the definition's\n"
		"                      (default; not with --live or --config)\n"
		"  --wait              return when the guest's total RAM (boot + plugged) is\n"
		"                      within min..cap; exit 3 at the timeout\n"
		"  --timeout SECONDS   how long --wait waits (default 60)\n"
		"  -h, --help          this help\n"
		"SIZE is the new cap, rounded down to the 2 MiB virtio-mem block.\n",
};
