/* SPDX-License-Identifier: MIT */
/*
 * metrics: omemd's Prometheus metrics (docs/metrics.md).  A MetricsRegistry
 * holds what happened since the daemon started (counters and latency
 * histograms, bumped by the manager); metrics_format() writes it, together
 * with the host and per-VM figures the status document already keeps
 * (status-json.h), as one text document in the Prometheus exposition
 * format 0.0.4.  Serving it is metrics-server.c's job.
 *
 * Pure: no I/O, no clock (durations are passed in), no logging.  Not
 * thread-safe: the registry belongs to the manager's main thread, which
 * both bumps it and formats it.
 *
 * Every label set is a fixed enum, so the number of series cannot grow
 * with what guests or clients do; the only open-ended labels are the
 * per-VM domain and uuid, bounded by the VMs omemd manages.
 */
#ifndef OMEM_METRICS_H
#define OMEM_METRICS_H

#include <stdint.h>

#include <glib.h>

#include "formats/status-json.h"

/* How a DEMAND was answered (omem_grants_total{result}). */
typedef enum {
	METRICS_GRANT_FULL,    /* "grant": the whole demand */
	METRICS_GRANT_PARTIAL, /* "partial": part of it */
	METRICS_GRANT_DEFER,   /* "defer": nothing now, DENY with retry_after */
	METRICS_GRANT_RESULTS
} MetricsGrantResult;

/* Why a DEMAND was denied (omem_denials_total{reason}); the wire's
 * OMEM_RPC_DENY_* reasons, mapped by metrics_deny_reason_from_wire(). */
typedef enum {
	METRICS_DENY_BUDGET, /* "budget": the host budget is spent */
	METRICS_DENY_CAP,    /* "cap": the guest is at its cap */
	METRICS_DENY_FROZEN, /* "frozen": the operator froze the VM's size */
	METRICS_DENY_BUSY,   /* "busy": a resize is in flight */
	METRICS_DENY_RATE,   /* "rate": demands came faster than allowed */
	METRICS_DENY_REASONS
} MetricsDenyReason;

/* Which way a resize moved the requested size (omem_resizes_total{direction}). */
typedef enum {
	METRICS_RESIZE_GROW,   /* "grow" */
	METRICS_RESIZE_SHRINK, /* "shrink" */
	METRICS_RESIZE_DIRECTIONS
} MetricsResizeDirection;

/* Why a guest's session was cut off (omem_guest_cutoffs_total{reason}). */
typedef enum {
	METRICS_CUTOFF_PROTOCOL, /* "protocol": too many malformed messages */
	METRICS_CUTOFF_FLOOD,    /* "flood": kept sending past the rate limit */
	METRICS_CUTOFF_RING,     /* "ring": broke a ring index */
	METRICS_CUTOFF_REASONS
} MetricsCutoffReason;

/* How a config reload ended (omem_config_reloads_total{result}). */
typedef enum {
	METRICS_RELOAD_OK,    /* "ok": the new config is in force */
	METRICS_RELOAD_ERROR, /* "error": rejected, the old one stays */
	METRICS_RELOAD_RESULTS
} MetricsReloadResult;

typedef struct _MetricsRegistry MetricsRegistry;

/* A registry with every counter at zero; never NULL. */
MetricsRegistry *metrics_registry_new(void);

/* Free it; NULL is fine. */
void metrics_registry_free(MetricsRegistry *registry);

/* Count one answered DEMAND. */
void metrics_count_grant(MetricsRegistry *registry, MetricsGrantResult result);

/* Count one DENY sent to a guest. */
void metrics_count_denial(MetricsRegistry *registry, MetricsDenyReason reason);

/* The registry's reason for a wire OMEM_RPC_DENY_* code, or -1 for a code
 * it does not know (the caller then counts nothing). */
int metrics_deny_reason_from_wire(uint32_t wire_reason);

/* Count one RECLAIM sent to a guest. */
void metrics_count_reclaim(MetricsRegistry *registry);

/* Count one change of a VM's requested size. */
void metrics_count_resize(MetricsRegistry *registry, MetricsResizeDirection direction);

/* Count one failed libvirt call. */
void metrics_count_libvirt_error(MetricsRegistry *registry);

/* Count one reconnection to libvirtd after the connection was lost. */
void metrics_count_libvirt_reconnect(MetricsRegistry *registry);

/* Count one guest session cut off. */
void metrics_count_cutoff(MetricsRegistry *registry, MetricsCutoffReason reason);

/* Count one config reload (SIGHUP). */
void metrics_count_config_reload(MetricsRegistry *registry, MetricsReloadResult result);

/* Set the count of admissions the hook made without omemd's answer (the
 * lines of formats/admission.h's fail-open file): set, not bumped, since
 * the hook counts them where omemd reads them back, across restarts. */
void metrics_set_admission_fail_opens(MetricsRegistry *registry, uint64_t count);

/* Record how long a DEMAND waited for its answer: received -> answer sent.
 * Negative durations count as 0; NaN is ignored. */
void metrics_observe_decision(MetricsRegistry *registry, double seconds);

/* Record how long one resize of omemd's waited for libvirt: asked ->
 * libvirt returned (the VM's actuator).  Same rules. */
void metrics_observe_libvirt_resize(MetricsRegistry *registry, double seconds);

/* Record how long a raised requested size took to be plugged: requested
 * raised -> plugged reached.  Same rules as metrics_observe_decision. */
void metrics_observe_plug(MetricsRegistry *registry, double seconds);

/*
 * The whole metrics document, UTF-8, in the Prometheus text exposition
 * format 0.0.4; g_free.  Each family appears once, with "# HELP" and
 * "# TYPE" before its samples.  @registry may be NULL (counters then read
 * 0); @host too (no host gauges but omem_up and omem_vms).  @vms may be
 * empty.  A VM's figures appear only when its record knows them (has_*).
 */
char *metrics_format(const MetricsRegistry *registry, const StatusHost *host,
		     const StatusVm *const *vms, unsigned n_vms, gsize *ret_length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MetricsRegistry, metrics_registry_free)

#endif /* OMEM_METRICS_H */
