/* SPDX-License-Identifier: MIT */
/*
 * manager-private.h: the manager's object, shared by its files only:
 * manager.c (threads, start/reload/stop, VM registry), manager-config.c
 * (each part's tunables from omemd.conf), manager-libvirt.c (the libvirt
 * connection, events, reconnection), manager-arbiter.c (what the arbiter
 * decides for other VMs, the pool), manager-status.c (status socket),
 * manager-admission.c (the hook's socket and its decision),
 * manager-metrics.c (/metrics).  The VMs it owns are vm.h's.
 * Everything here belongs to the main thread unless a field says so.
 */
#ifndef OMEM_MANAGER_PRIVATE_H
#define OMEM_MANAGER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "formats/admission.h"
#include "arbiter/arbiter.h"
#include "daemon/manager.h"
#include "daemon/metrics-server.h"
#include "formats/metrics.h"
#include "formats/omemd-config.h"
#include "arbiter/policy.h"
#include "rpc/session.h"
#include "formats/status-json.h"
#include "daemon/transport.h"
#include "arbiter/trust.h"
#include "daemon/vm.h"

/* The <shmem> omemd attaches to every omem VM (docs/omemd.md). */
#define MANAGER_SHMEM_NAME "omem0"

/* Where libvirt's QEMU driver writes each VM's QEMU pid (qemu:///system). */
#define MANAGER_QEMU_PID_DIR "/run/libvirt/qemu"

/* How often the main thread looks at stalled unplugs, pending ejects and
 * HELLO deadlines: events do the rest, 1 s is only the fallback. */
#define MANAGER_TICK_MS 1000

/* libvirt keepalive: a libvirtd that answers nothing for 5 s x 3 counts
 * as lost, like one that closed the socket. */
#define MANAGER_KEEPALIVE_INTERVAL_S 5
#define MANAGER_KEEPALIVE_COUNT 3

/* Reconnecting to a lost libvirtd: first after 0.5 s, doubling up to
 * 30 s (a restart takes a second or two; an upgrade may take longer). */
#define MANAGER_RECONNECT_MIN_MS 500
#define MANAGER_RECONNECT_MAX_MS 30000

struct _Manager {
	OmemdConfig config;
	bool dry_run;
	bool started, stopped, failed;
	GMainLoop *loop;                 /* quit on failure (not owned) */
	GMainContext *main_context;      /* the default context */
	int64_t started_unix_ms;

	/* libvirt */
	virConnectPtr conn;
	int callback_lifecycle, callback_reboot, callback_device_removed;
	int callback_size, callback_contract;
	/* reconnecting after libvirtd went away (conn is NULL meanwhile) */
	guint reconnect_source;          /* the next attempt */
	bool reconnecting;               /* an attempt runs in a worker */
	unsigned reconnect_attempt;      /* attempts since the loss */
	int64_t disconnected_ms;
	uint64_t reconnects;             /* successful reconnects, for metrics */
	uint64_t reloads_ok, reloads_failed; /* SIGHUP outcomes, for metrics */

	/* transport thread */
	GThread *transport_thread;
	GMainContext *transport_context;
	GMainLoop *transport_loop;

	/* VMs by UUID string */
	GHashTable *vms;
	uint64_t next_transport_id;

	/* the arbiter (arbiter.h) and what it is fed */
	Arbiter *arbiter;
	GHashTable *vms_by_id;           /* Vm id -> Vm (not owned: vms owns) */
	uint64_t next_vm_id;
	uint64_t budget_bytes;           /* what the arbiter was given */
	uint64_t host_total_bytes;       /* MemTotal, for the auto budget */
	ArbiterHost host;                /* last /proc/meminfo + PSI sample */

	uid_t qemu_uid;
	char *vm_dir;                    /* RUN_DIR/vm */
	char *pid_path;                  /* RUN_DIR/omemd.pid */

	/* how far a guest's word is believed (trust.h; defaults, not in omemd.conf) */
	TrustConfig trust_config;

	/* /metrics */
	MetricsRegistry *metrics;
	MetricsServer *metrics_server;

	/* status socket */
	GSocketService *status_service;
	char *status_path;

	/* admission socket */
	GSocketService *admission_service;
	char *admission_path;            /* RUN_DIR/admission.sock */
	GPtrArray *admission_clients;    /* exchanges in flight (not owned: each frees itself) */
	char *admission_state_path;      /* RUN_DIR/admission.state: reservations across restarts */
	size_t saved_reservations;       /* what that file holds: count ... */
	uint64_t saved_reserved_bytes;   /* ... and bytes (saved again when either changes) */

	guint tick_source;

	/* NULL: each VM's actuator makes libvirt's calls.  Tests put fakes
	 * here, which get GSIZE_TO_POINTER(vm id) as their target. */
	const ActuatorOps *actuator_ops;
};

/* Run @func on the main context later, never at once: libvirt's GLib
 * event loop iterates the same default context, so a direct
 * g_main_context_invoke from one of its callbacks would run the handler
 * inside libvirt's callback, under its locks (a lost connection's
 * handler deadlocked in virConnectUnregisterCloseCallback that way).
 * Also used for the transport thread's events.  Any thread. */
void manager_defer(Manager *manager, GSourceFunc func, gpointer data, GDestroyNotify destroy);

/* Milliseconds: monotonic for deadlines, real time for the status. */
int64_t manager_now_ms(void);
int64_t manager_unix_ms(void);

/* "512 MiB", "1536 MiB": a size for log lines, in omem's one format
 * (omem_size_format, exact, as virt-omem prints it); g_free. */
char *manager_size(uint64_t bytes);

/* The policy config from the omemd config. */
void manager_policy_config(const Manager *manager, PolicyConfig *ret_config);

/* The arbiter's config from the omemd config and the budget. */
void manager_arbiter_config(const Manager *manager, ArbiterConfig *ret_config);

/* What a grant may take now (the arbiter's pool). */
uint64_t manager_budget_left(const Manager *manager);

/* The VM the arbiter calls @id, or NULL. */
Vm *manager_vm_lookup(Manager *manager, uint64_t id);

/* manager.c: the registry.  A running omem domain joins (not an omem
 * domain, already known or outside [daemon] domains: nothing happens);
 * a VM that stopped leaves, its memory back to the pool at once. */
void manager_add_domain(Manager *manager, virDomainPtr domain);
/* The registry half of manager_add_domain: @vm (a new reference, taken)
 * gets its id, joins the registry and the arbiter, and its contract
 * applies; its transport is not started. */
void manager_register_vm(Manager *manager, Vm *vm);
/* What the 1 s tick decides at @now_ms once the host was sampled: the
 * arbiter's tick and its operations, then each VM's tick. */
void manager_tick(Manager *manager, int64_t now_ms);
void manager_remove_vm(Manager *manager, Vm *vm, const char *why);

/* manager-libvirt.c: connect and register for the domain events (also
 * sets up libvirt's event loop, the main loop's context). */
bool manager_connect(Manager *manager, GError **error);
/* manager-libvirt.c: stop reconnecting, drop the callbacks and the
 * connection. */
void manager_libvirt_stop(Manager *manager);

/* manager-status.c */
void manager_status_snapshot(Manager *manager, StatusHost *ret_host, GPtrArray *ret_vms);
/* manager-status.c: serve /metrics on [metrics] listen (a failure is
 * logged, not fatal). */
void manager_metrics_start(Manager *manager);
bool manager_status_start(Manager *manager, GError **error);
void manager_status_stop(Manager *manager);

/* manager-admission.c: the admission socket for libvirt's qemu hook
 * (docs/admission.md); stop also frees what start set up. */
bool manager_admission_start(Manager *manager, GError **error);
void manager_admission_stop(Manager *manager);
/* manager-arbiter.c: whether the budget covers @request's contract min; a
 * refusal's *ret_message (g_free, may stay NULL) gives the numbers. */
bool manager_admit(Manager *manager, const AdmissionRequest *request, char **ret_message);
/* manager-admission.c: the arbiter's reservations to RUN_DIR/admission.state
 * when they changed since the last save (after an admission and every
 * tick), and back from it at start, before the running VMs join, so a
 * restart between a VM's admission and its start does not admit the same
 * memory twice.  Failures are logged, never fatal. */
void manager_admission_save(Manager *manager);
void manager_admission_restore(Manager *manager);

/* manager-arbiter.c: carry out what the arbiter decided for other VMs. */
void manager_apply_ops(Manager *manager, const ArbiterOps *ops, const char *cause);

/* manager-config.c: the session tunables of omemd.conf's [policy]. */
void manager_session_config(Manager *manager, SessionConfig *config);

#endif /* OMEM_MANAGER_PRIVATE_H */
