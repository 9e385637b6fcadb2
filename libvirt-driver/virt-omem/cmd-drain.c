/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-drain.c: "virt-omem drain DOMAIN... | --all [--wait]": set <drain/>
 * in the contract before maintenance; omemd then grants the VM nothing
 * and lowers its requested size step by step to min.  With --wait, poll
 * the live virtio-mem devices of every draining domain until each
 * guest's total (boot + plugged) is at its min, or the timeout.  A frozen
 * domain is refused: thaw it first.
 */
#include "config.h"

#include "virt-omem-maintenance.h"

/* How often --wait reads the live XML: as setmem --wait, because
 * libvirt's <current> lags the guest by up to a second anyway. */
#define VIRT_OMEM_DRAIN_POLL_MS 500

/* One domain --wait still waits for. */
typedef struct {
	const VirtOmemMaintenanceTarget *target;
	OmemMemoryState state;      /* the last one read */
	unsigned long long last_total; /* to print progress only when it moves */
} VirtOmemDrainWaiting;

static unsigned long long virt_omem_drain_total(const OmemMemoryState *state)
{
	return state->boot_bytes + state->plugged_bytes;
}

/* Read one domain's devices.  Returns 1 when it is at its min (said on
 * stderr), 0 while it is above, or an exit code (> 1) after reporting. */
static int virt_omem_drain_poll(VirtOmemDrainWaiting *waiting, double elapsed)
{
	virDomainPtr domain = waiting->target->domain;
	const char *name = virDomainGetName(domain);
	unsigned long long min = waiting->target->min_bytes;
	unsigned long long total;

	if (omem_domain_memory_state(domain, &waiting->state) < 0) {
		virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "lost track of '%s' while waiting: %s", name,
			       omem_error_last_message());
		return VIRT_OMEM_EXIT_FAILED;
	}
	total = virt_omem_drain_total(&waiting->state);
	if (total <= min) {
		fprintf(stderr, "virt-omem: '%s' has %s, at or below its min %s (%.1f s)\n", name,
			virt_omem_size(total), virt_omem_size(min), elapsed);
		return 1;
	}
	if (total != waiting->last_total)
		fprintf(stderr,
			"virt-omem: waiting for '%s': %s (boot %s + plugged %s, requested %s), min %s (%.1f s)\n",
			name, virt_omem_size(total), virt_omem_size(waiting->state.boot_bytes),
			virt_omem_size(waiting->state.plugged_bytes),
			virt_omem_size(waiting->state.requested_bytes), virt_omem_size(min), elapsed);
	waiting->last_total = total;
	return 0;
}

/* --wait: poll every target each round until all are at min; one error
 * line per domain still above it at the deadline. */
static int virt_omem_drain_wait(GPtrArray *targets, unsigned long long timeout_ms)
{
	g_autoptr(GArray) pending = g_array_new(FALSE, TRUE, sizeof(VirtOmemDrainWaiting));
	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)timeout_ms * 1000;
	int exit_code = VIRT_OMEM_EXIT_OK;
	guint i;

	for (i = 0; i < targets->len; i++) {
		VirtOmemDrainWaiting waiting = {
			.target = g_ptr_array_index(targets, i),
			.last_total = G_MAXUINT64,
		};

		g_array_append_val(pending, waiting);
	}
	for (;;) {
		double elapsed = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

		for (i = 0; i < pending->len;) {
			int r = virt_omem_drain_poll(&g_array_index(pending, VirtOmemDrainWaiting, i),
						     elapsed);

			if (r == 0) {
				i++;
				continue;
			}
			if (r > 1)
				exit_code = VIRT_OMEM_EXIT_FAILED;
			g_array_remove_index(pending, i);
		}
		if (pending->len == 0 || g_get_monotonic_time() >= deadline)
			break;
		g_usleep(MIN((gint64)VIRT_OMEM_DRAIN_POLL_MS * 1000,
			     MAX(deadline - g_get_monotonic_time(), 0)));
	}
	for (i = 0; i < pending->len; i++) {
		const VirtOmemDrainWaiting *waiting = &g_array_index(pending, VirtOmemDrainWaiting, i);

		virt_omem_fail(VIRT_OMEM_EXIT_TIMEOUT,
			       "timed out after %.1f s waiting for '%s' to drain: it has %s (boot %s + plugged %s, requested %s), its min is %s; an unplug stalls while the guest cannot free enough memory, and nothing shrinks while omemd is not running",
			       (double)timeout_ms / 1000, virDomainGetName(waiting->target->domain),
			       virt_omem_size(virt_omem_drain_total(&waiting->state)),
			       virt_omem_size(waiting->state.boot_bytes),
			       virt_omem_size(waiting->state.plugged_bytes),
			       virt_omem_size(waiting->state.requested_bytes),
			       virt_omem_size(waiting->target->min_bytes));
	}
	/* A lost domain is a failure of its own kind; a timeout alone is 3. */
	if (pending->len && exit_code == VIRT_OMEM_EXIT_OK)
		exit_code = VIRT_OMEM_EXIT_TIMEOUT;
	return exit_code;
}

static const VirtOmemMaintenance virt_omem_drain = {
	.command = &virt_omem_command_drain,
	.flag = VIRT_OMEM_MAINTENANCE_DRAIN,
	.set = true,
	.done = "draining",
	.already = "already draining",
	.show_min = true,
	.wait = virt_omem_drain_wait,
};

static int virt_omem_drain_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	return virt_omem_maintenance_run(&virt_omem_drain, global, argc, argv);
}

const VirtOmemCommand virt_omem_command_drain = {
	.name = "drain",
	.run = virt_omem_drain_run,
	.synopsis = "DOMAIN... | --all [--live] [--config] [--current] [--wait [--timeout SECONDS]]",
	.summary = "drain omem domains for maintenance: omemd shrinks them to min and grants nothing",
	.help = VIRT_OMEM_MAINTENANCE_HELP
		"  --wait              return when every draining guest's total RAM (boot +\n"
		"                      plugged) is at its min; exit 3 at the timeout\n"
		"  --timeout SECONDS   how long --wait waits in all (default 300)\n"
		"  -h, --help          this help\n"
		"A frozen domain is refused: thaw it first.\n",
};
