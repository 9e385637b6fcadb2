/* SPDX-License-Identifier: MIT */
/*
 * metrics: the registry and the Prometheus text document (see metrics.h
 * and docs/metrics.md).
 */
#include "config.h"

#include "formats/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <omem/rpc.h>

/* Decision latency, DEMAND received -> answer sent: a decision is
 * microseconds of arithmetic on the main thread, so the low buckets show
 * that, and the high ones show the main thread stuck behind something
 * (a slow libvirt call) up to a second, where the guest's own timeout
 * starts to matter. */
static const double metrics_decision_bounds[] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
};

/* Plug latency, requested raised -> plugged reached: the guest onlines
 * memory blocks in tens of milliseconds each; a minute means it is not
 * plugging at all. */
static const double metrics_plug_bounds[] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* One resize's libvirt call, asked -> returned (omemd's actuator): tens
 * of milliseconds normally; seconds mean the VM's QEMU does not answer
 * its monitor, while the other VMs' calls go on. */
static const double metrics_libvirt_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* The largest bucket table above, plus the +Inf bucket. */
#define METRICS_BUCKETS_MAX (G_N_ELEMENTS(metrics_decision_bounds) + 1)

G_STATIC_ASSERT(G_N_ELEMENTS(metrics_plug_bounds) < METRICS_BUCKETS_MAX);
G_STATIC_ASSERT(G_N_ELEMENTS(metrics_libvirt_bounds) < METRICS_BUCKETS_MAX);

/* One latency histogram; buckets are kept per interval and summed up
 * when formatted. */
typedef struct {
	const double *bounds;                 /* upper bounds, increasing */
	unsigned n_bounds;                    /* without +Inf */
	uint64_t in_bucket[METRICS_BUCKETS_MAX]; /* [i]: bounds[i-1] < x <= bounds[i]; last: above all */
	uint64_t count;                       /* observations */
	double sum;                           /* their total, seconds */
} MetricsHistogram;

struct _MetricsRegistry {
	uint64_t grants[METRICS_GRANT_RESULTS];
	uint64_t denials[METRICS_DENY_REASONS];
	uint64_t reclaims;
	uint64_t resizes[METRICS_RESIZE_DIRECTIONS];
	uint64_t libvirt_errors;
	uint64_t libvirt_reconnects;
	uint64_t cutoffs[METRICS_CUTOFF_REASONS];
	uint64_t reloads[METRICS_RELOAD_RESULTS];
	uint64_t admission_fail_opens;
	MetricsHistogram decision;
	MetricsHistogram plug;
	MetricsHistogram libvirt_resize;
};

/* Label values, in enum order. */
static const char *const metrics_grant_names[METRICS_GRANT_RESULTS] = {
	[METRICS_GRANT_FULL] = "grant",
	[METRICS_GRANT_PARTIAL] = "partial",
	[METRICS_GRANT_DEFER] = "defer",
};
static const char *const metrics_deny_names[METRICS_DENY_REASONS] = {
	[METRICS_DENY_BUDGET] = "budget",
	[METRICS_DENY_CAP] = "cap",
	[METRICS_DENY_FROZEN] = "frozen",
	[METRICS_DENY_BUSY] = "busy",
	[METRICS_DENY_RATE] = "rate",
};
static const char *const metrics_resize_names[METRICS_RESIZE_DIRECTIONS] = {
	[METRICS_RESIZE_GROW] = "grow",
	[METRICS_RESIZE_SHRINK] = "shrink",
};
static const char *const metrics_cutoff_names[METRICS_CUTOFF_REASONS] = {
	[METRICS_CUTOFF_PROTOCOL] = "protocol",
	[METRICS_CUTOFF_FLOOD] = "flood",
	[METRICS_CUTOFF_RING] = "ring",
};
static const char *const metrics_reload_names[METRICS_RELOAD_RESULTS] = {
	[METRICS_RELOAD_OK] = "ok",
	[METRICS_RELOAD_ERROR] = "error",
};

MetricsRegistry *metrics_registry_new(void)
{
	MetricsRegistry *registry = g_new0(MetricsRegistry, 1);

	registry->decision.bounds = metrics_decision_bounds;
	registry->decision.n_bounds = G_N_ELEMENTS(metrics_decision_bounds);
	registry->plug.bounds = metrics_plug_bounds;
	registry->plug.n_bounds = G_N_ELEMENTS(metrics_plug_bounds);
	registry->libvirt_resize.bounds = metrics_libvirt_bounds;
	registry->libvirt_resize.n_bounds = G_N_ELEMENTS(metrics_libvirt_bounds);
	return registry;
}

void metrics_registry_free(MetricsRegistry *registry)
{
	g_free(registry);
}

/* An enum from the caller indexes an array: one out of range is a bug in
 * omemd, counted nowhere rather than written past the end. */
#define METRICS_BUMP(array, index)                        \
	do {                                              \
		if ((unsigned)(index) < G_N_ELEMENTS(array)) \
			(array)[(index)]++;               \
	} while (0)

void metrics_count_grant(MetricsRegistry *registry, MetricsGrantResult result)
{
	METRICS_BUMP(registry->grants, result);
}

void metrics_count_denial(MetricsRegistry *registry, MetricsDenyReason reason)
{
	METRICS_BUMP(registry->denials, reason);
}

int metrics_deny_reason_from_wire(uint32_t wire_reason)
{
	switch (wire_reason) {
	case OMEM_RPC_DENY_BUDGET: return METRICS_DENY_BUDGET;
	case OMEM_RPC_DENY_CAP: return METRICS_DENY_CAP;
	case OMEM_RPC_DENY_FROZEN: return METRICS_DENY_FROZEN;
	case OMEM_RPC_DENY_BUSY: return METRICS_DENY_BUSY;
	case OMEM_RPC_DENY_RATE: return METRICS_DENY_RATE;
	default: return -1;
	}
}

void metrics_count_reclaim(MetricsRegistry *registry)
{
	registry->reclaims++;
}

void metrics_count_resize(MetricsRegistry *registry, MetricsResizeDirection direction)
{
	METRICS_BUMP(registry->resizes, direction);
}

void metrics_count_libvirt_error(MetricsRegistry *registry)
{
	registry->libvirt_errors++;
}

void metrics_count_libvirt_reconnect(MetricsRegistry *registry)
{
	registry->libvirt_reconnects++;
}

void metrics_set_admission_fail_opens(MetricsRegistry *registry, uint64_t count)
{
	registry->admission_fail_opens = count;
}

void metrics_count_cutoff(MetricsRegistry *registry, MetricsCutoffReason reason)
{
	METRICS_BUMP(registry->cutoffs, reason);
}

void metrics_count_config_reload(MetricsRegistry *registry, MetricsReloadResult result)
{
	METRICS_BUMP(registry->reloads, result);
}

static void metrics_histogram_observe(MetricsHistogram *histogram, double seconds)
{
	unsigned i;

	if (isnan(seconds))
		return;
	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < histogram->n_bounds; i++) {
		if (seconds <= histogram->bounds[i])
			break;
	}
	histogram->in_bucket[i]++;
	histogram->count++;
	histogram->sum += seconds;
}

void metrics_observe_decision(MetricsRegistry *registry, double seconds)
{
	metrics_histogram_observe(&registry->decision, seconds);
}

void metrics_observe_plug(MetricsRegistry *registry, double seconds)
{
	metrics_histogram_observe(&registry->plug, seconds);
}

void metrics_observe_libvirt_resize(MetricsRegistry *registry, double seconds)
{
	metrics_histogram_observe(&registry->libvirt_resize, seconds);
}

/* ---- the text document ---- */

/* A sample value: Go's float syntax, which Prometheus parses; never the
 * locale's decimal comma. */
static void metrics_append_double(GString *out, double value)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(value))
		g_string_append(out, "NaN");
	else if (isinf(value))
		g_string_append(out, value > 0 ? "+Inf" : "-Inf");
	else
		g_string_append(out, g_ascii_formatd(buffer, sizeof(buffer), "%.15g", value));
}

/*
 * A label value between double quotes.  Domain names are whatever the
 * operator (or whoever may define domains) typed: backslash, double quote
 * and line feed are escaped as the format requires, so a name cannot end
 * the value or the line and forge samples; invalid UTF-8 (which the
 * format forbids) is replaced.
 */
static void metrics_append_label_value(GString *out, const char *value)
{
	g_autofree char *valid = g_utf8_make_valid(value ? value : "", -1);

	g_string_append_c(out, '"');
	for (const char *p = valid; *p; p++) {
		switch (*p) {
		case '\\': g_string_append(out, "\\\\"); break;
		case '"': g_string_append(out, "\\\""); break;
		case '\n': g_string_append(out, "\\n"); break;
		default: g_string_append_c(out, *p); break;
		}
	}
	g_string_append_c(out, '"');
}

static void metrics_family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family whose samples differ by one fixed label (@label NULL: one
 * sample, no label). */
static void metrics_counter_family(GString *out, const char *name, const char *help,
				   const char *label, const char *const *values,
				   const uint64_t *counts, unsigned n)
{
	metrics_family(out, name, "counter", help);
	for (unsigned i = 0; i < n; i++) {
		if (label)
			g_string_append_printf(out, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
					       values[i], counts[i]);
		else
			g_string_append_printf(out, "%s %" PRIu64 "\n", name, counts[i]);
	}
}

static void metrics_histogram_family(GString *out, const char *name, const char *help,
				     const MetricsHistogram *histogram)
{
	uint64_t cumulative = 0;

	metrics_family(out, name, "histogram", help);
	for (unsigned i = 0; i < histogram->n_bounds; i++) {
		cumulative += histogram->in_bucket[i];
		g_string_append_printf(out, "%s_bucket{le=\"", name);
		metrics_append_double(out, histogram->bounds[i]);
		g_string_append_printf(out, "\"} %" PRIu64 "\n", cumulative);
	}
	g_string_append_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, histogram->count);
	g_string_append_printf(out, "%s_sum ", name);
	metrics_append_double(out, histogram->sum);
	g_string_append_printf(out, "\n%s_count %" PRIu64 "\n", name, histogram->count);
}

static void metrics_format_registry(GString *out, const MetricsRegistry *registry)
{
	static const MetricsRegistry zero;
	MetricsRegistry empty;

	if (!registry) {
		/* Buckets need their bounds even when nothing was counted. */
		empty = zero;
		empty.decision.bounds = metrics_decision_bounds;
		empty.decision.n_bounds = G_N_ELEMENTS(metrics_decision_bounds);
		empty.plug.bounds = metrics_plug_bounds;
		empty.plug.n_bounds = G_N_ELEMENTS(metrics_plug_bounds);
		empty.libvirt_resize.bounds = metrics_libvirt_bounds;
		empty.libvirt_resize.n_bounds = G_N_ELEMENTS(metrics_libvirt_bounds);
		registry = &empty;
	}
	metrics_counter_family(out, "omem_grants_total",
			       "DEMANDs answered, by result (grant: all, partial: part, defer: DENY).",
			       "result", metrics_grant_names, registry->grants, METRICS_GRANT_RESULTS);
	metrics_counter_family(out, "omem_denials_total", "DENYs sent to guests, by reason.",
			       "reason", metrics_deny_names, registry->denials, METRICS_DENY_REASONS);
	metrics_counter_family(out, "omem_reclaims_total", "RECLAIMs sent to guests.",
			       NULL, NULL, &registry->reclaims, 1);
	metrics_counter_family(out, "omem_resizes_total",
			       "Changes of a VM's requested size, by direction.", "direction",
			       metrics_resize_names, registry->resizes, METRICS_RESIZE_DIRECTIONS);
	metrics_counter_family(out, "omem_libvirt_errors_total", "libvirt calls that failed.",
			       NULL, NULL, &registry->libvirt_errors, 1);
	metrics_counter_family(out, "omem_libvirt_reconnects_total",
			       "Reconnections to libvirtd after the connection was lost.",
			       NULL, NULL, &registry->libvirt_reconnects, 1);
	metrics_counter_family(out, "omem_guest_cutoffs_total",
			       "Guest sessions omemd cut off, by reason.", "reason",
			       metrics_cutoff_names, registry->cutoffs, METRICS_CUTOFF_REASONS);
	metrics_counter_family(out, "omem_config_reloads_total", "Config reloads, by result.",
			       "result", metrics_reload_names, registry->reloads,
			       METRICS_RELOAD_RESULTS);
	metrics_counter_family(out, "omem_admission_fail_open_total",
			       "VMs the admission hook admitted without omemd's answer (omemd down or slow).",
			       NULL, NULL, &registry->admission_fail_opens, 1);
	metrics_histogram_family(out, "omem_decision_duration_seconds",
				 "Time from a DEMAND received to its answer sent.",
				 &registry->decision);
	metrics_histogram_family(out, "omem_plug_duration_seconds",
				 "Time from a raised requested size to the guest having plugged it.",
				 &registry->plug);
	metrics_histogram_family(out, "omem_libvirt_resize_duration_seconds",
				 "Time from a resize asked of libvirt (in the VM's worker) to libvirt's answer.",
				 &registry->libvirt_resize);
}

static void metrics_format_host(GString *out, const StatusHost *host, unsigned n_vms)
{
	metrics_family(out, "omem_up", "gauge", "1 while omemd serves metrics.");
	g_string_append(out, "omem_up 1\n");
	metrics_family(out, "omem_vms", "gauge", "VMs omemd manages now.");
	g_string_append_printf(out, "omem_vms %u\n", n_vms);
	if (!host)
		return;
	if (host->version) {
		metrics_family(out, "omem_build_info", "gauge", "Always 1; the omemd version as a label.");
		g_string_append(out, "omem_build_info{version=");
		metrics_append_label_value(out, host->version);
		g_string_append(out, "} 1\n");
	}
	metrics_family(out, "omem_start_time_seconds", "gauge",
		       "When omemd started, seconds since the Unix epoch.");
	g_string_append(out, "omem_start_time_seconds ");
	metrics_append_double(out, host->started_unix_ms / 1000.0);
	g_string_append_c(out, '\n');
	if (!host->has_host)
		return;
	metrics_family(out, "omem_host_budget_bytes", "gauge",
		       "Host memory for all omem VMs together (boot RAM and QEMU overhead included).");
	g_string_append_printf(out, "omem_host_budget_bytes %" PRIu64 "\n", host->budget_bytes);
	metrics_family(out, "omem_host_committed_bytes", "gauge",
		       "Memory charged to VMs now: boot + max(requested, plugged) + QEMU overhead, summed.");
	g_string_append_printf(out, "omem_host_committed_bytes %" PRIu64 "\n",
			       host->committed_bytes);
	if (!host->has_arbiter)
		return;
	metrics_family(out, "omem_host_reserved_bytes", "gauge",
		       "Memory held by admissions for VMs that are starting.");
	g_string_append_printf(out, "omem_host_reserved_bytes %" PRIu64 "\n", host->reserved_bytes);
	metrics_family(out, "omem_host_pool_bytes", "gauge",
		       "What a grant may take now: budget left, cut while the host is short.");
	g_string_append_printf(out, "omem_host_pool_bytes %" PRIu64 "\n", host->pool_bytes);
	metrics_family(out, "omem_host_short", "gauge",
		       "1 while the host itself is short of memory (MemAvailable or PSI past its limit).");
	g_string_append_printf(out, "omem_host_short %d\n", host->host_short ? 1 : 0);
}

/* The per-VM gauges, in the order they are written. */
typedef enum {
	METRICS_VM_PLUGGED,
	METRICS_VM_REQUESTED,
	METRICS_VM_BOOT,
	METRICS_VM_MIN,
	METRICS_VM_CAP,
	METRICS_VM_MAX,
	METRICS_VM_SHARES,
	METRICS_VM_FROZEN,
	METRICS_VM_DEMAND,
	METRICS_VM_GUEST_FREE,
	METRICS_VM_GUEST_AVAILABLE,
	METRICS_VM_SESSION_OPEN,
	METRICS_VM_DRAIN,
	METRICS_VM_CHARGE,
	METRICS_VM_FAIR_SHARE,
	METRICS_VM_WAITING,
	METRICS_VM_GAUGES
} MetricsVmGauge;

static const struct {
	const char *name;
	const char *help;
} metrics_vm_gauges[METRICS_VM_GAUGES] = {
	[METRICS_VM_PLUGGED] = { "omem_vm_plugged_bytes",
		"Memory the VM's virtio-mem devices have plugged (beyond boot)." },
	[METRICS_VM_REQUESTED] = { "omem_vm_requested_bytes",
		"The VM's virtio-mem requested size (beyond boot)." },
	[METRICS_VM_BOOT] = { "omem_vm_boot_bytes",
		"Contract boot: RAM the VM boots with, never unplugged." },
	[METRICS_VM_MIN] = { "omem_vm_min_bytes", "Contract min: total RAM guaranteed." },
	[METRICS_VM_CAP] = { "omem_vm_cap_bytes", "Contract cap: the operator's live total RAM limit." },
	[METRICS_VM_MAX] = { "omem_vm_max_bytes", "Contract max: boot plus the virtio-mem size." },
	[METRICS_VM_SHARES] = { "omem_vm_shares", "Contract shares: weight under contention." },
	[METRICS_VM_FROZEN] = { "omem_vm_frozen", "1 if the operator froze the VM's size." },
	[METRICS_VM_DEMAND] = { "omem_vm_demand_bytes",
		"Total RAM the guest last said it wants, before the buffer." },
	[METRICS_VM_GUEST_FREE] = { "omem_vm_guest_free_bytes",
		"Free memory the guest last reported." },
	[METRICS_VM_GUEST_AVAILABLE] = { "omem_vm_guest_available_bytes",
		"Available memory the guest last reported." },
	[METRICS_VM_SESSION_OPEN] = { "omem_vm_session_open",
		"1 while the VM's omem-rpc session is open." },
	[METRICS_VM_DRAIN] = { "omem_vm_drain", "1 if the operator drains the VM to its min." },
	[METRICS_VM_CHARGE] = { "omem_vm_charge_bytes",
		"What the VM costs the budget: boot + max(requested, plugged) + QEMU overhead." },
	[METRICS_VM_FAIR_SHARE] = { "omem_vm_fair_share_bytes",
		"The VM's fair share of the budget by shares (beyond boot)." },
	[METRICS_VM_WAITING] = { "omem_vm_waiting_bytes",
		"Memory held for the VM while it waits below its fair share (0: not waiting)." },
};

/* One VM's value for a gauge; false when its record does not know it. */
static bool metrics_vm_value(const StatusVm *vm, MetricsVmGauge gauge, uint64_t *ret_value)
{
	switch (gauge) {
	case METRICS_VM_PLUGGED:
		*ret_value = vm->plugged_bytes;
		return vm->has_memory;
	case METRICS_VM_REQUESTED:
		*ret_value = vm->requested_bytes;
		return vm->has_memory;
	case METRICS_VM_BOOT:
		*ret_value = vm->boot_bytes;
		return vm->has_contract;
	case METRICS_VM_MIN:
		*ret_value = vm->min_bytes;
		return vm->has_contract;
	case METRICS_VM_CAP:
		*ret_value = vm->cap_bytes;
		return vm->has_contract;
	case METRICS_VM_MAX:
		*ret_value = vm->max_bytes;
		return vm->has_contract;
	case METRICS_VM_SHARES:
		*ret_value = vm->shares;
		return vm->has_contract;
	case METRICS_VM_FROZEN:
		*ret_value = vm->frozen;
		return vm->has_contract;
	case METRICS_VM_DEMAND:
		*ret_value = vm->demand_bytes;
		return vm->has_demand;
	case METRICS_VM_GUEST_FREE:
		*ret_value = vm->guest_free_bytes;
		return vm->has_guest;
	case METRICS_VM_GUEST_AVAILABLE:
		*ret_value = vm->guest_available_bytes;
		return vm->has_guest;
	case METRICS_VM_SESSION_OPEN:
		*ret_value = vm->has_session && vm->session_state &&
			     !strcmp(vm->session_state, "open");
		return true;
	case METRICS_VM_DRAIN:
		*ret_value = vm->drain;
		return vm->has_contract;
	case METRICS_VM_CHARGE:
		*ret_value = vm->charge_bytes;
		return vm->has_arbiter;
	case METRICS_VM_FAIR_SHARE:
		*ret_value = vm->fair_share_bytes;
		return vm->has_arbiter;
	case METRICS_VM_WAITING:
		*ret_value = vm->waiting ? vm->waiting_bytes : 0;
		return vm->has_arbiter;
	case METRICS_VM_GAUGES:
		break;
	}
	return false;
}

static void metrics_format_vms(GString *out, const StatusVm *const *vms, unsigned n_vms)
{
	/* Escape each VM's labels once, not once per family. */
	g_autoptr(GPtrArray) labels = g_ptr_array_new_full(n_vms, g_free);

	for (unsigned i = 0; i < n_vms; i++) {
		GString *label = g_string_new("{domain=");

		metrics_append_label_value(label, vms[i]->name);
		g_string_append(label, ",uuid=");
		metrics_append_label_value(label, vms[i]->uuid);
		g_string_append_c(label, '}');
		g_ptr_array_add(labels, g_string_free(label, FALSE));
	}
	for (unsigned gauge = 0; gauge < METRICS_VM_GAUGES; gauge++) {
		metrics_family(out, metrics_vm_gauges[gauge].name, "gauge",
			       metrics_vm_gauges[gauge].help);
		for (unsigned i = 0; i < n_vms; i++) {
			uint64_t value;

			if (!metrics_vm_value(vms[i], gauge, &value))
				continue;
			g_string_append_printf(out, "%s%s %" PRIu64 "\n", metrics_vm_gauges[gauge].name,
					       (const char *)labels->pdata[i], value);
		}
	}
}

char *metrics_format(const MetricsRegistry *registry, const StatusHost *host,
		     const StatusVm *const *vms, unsigned n_vms, gsize *ret_length)
{
	GString *out = g_string_sized_new(4096 + 2048 * (gsize)n_vms);

	metrics_format_host(out, host, n_vms);
	metrics_format_registry(out, registry);
	metrics_format_vms(out, vms, n_vms);
	if (ret_length)
		*ret_length = out->len;
	return g_string_free(out, FALSE);
}
