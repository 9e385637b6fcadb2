/* SPDX-License-Identifier: MIT */
/*
 * manager-private.h: the manager's objects, shared by its files only:
 * manager.c (threads, start/reload/stop, budget, VM registry),
 * manager-libvirt.c (the libvirt connection, events, reconnection),
 * manager-vm.c (each VM's guest side and decisions), manager-vm-libvirt.c
 * (each VM's libvirt side: discovery, live XML, events), manager-arbiter.c
 * (the arbiter's side: ops, admission, its figures), manager-link.c
 * (attaching the transport device), manager-status.c (status socket).
 * Everything here belongs to the main thread unless a field says so.
 */
#ifndef OMEM_MANAGER_PRIVATE_H
#define OMEM_MANAGER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "admission.h"
#include "arbiter.h"
#include "manager.h"
#include "metrics-server.h"
#include "metrics.h"
#include "omemd-config.h"
#include "policy.h"
#include "session.h"
#include "status-json.h"
#include "transport.h"
#include "trust.h"

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

/* Where a VM's transport device stands. */
typedef enum {
	VM_LINK_NONE,        /* nothing attached by omemd (dry run, not yet) */
	VM_LINK_DETACHING,   /* a stale <shmem> from an earlier omemd is being ejected */
	VM_LINK_ATTACHING,   /* attach-device in flight */
	VM_LINK_ATTACHED,    /* the device is ours; QEMU is connected or will be */
	VM_LINK_FAILED,      /* attach failed or the eject timed out: not retried */
} VmLink;

typedef struct _Vm Vm;

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

	guint tick_source;
};

struct _Vm {
	int refs;                        /* main thread only (GTask holds one) */
	Manager *manager;
	uint64_t id;                     /* the arbiter's name for it */
	char *uuid;
	char *name;
	virDomainPtr domain;
	bool gone;                       /* removed from the registry: async ends are ignored */

	PolicyVm policy;                 /* contract + requested/plugged */
	uint32_t shares;                 /* contract shares */
	bool drain;                      /* contract: drain to min for maintenance */
	ArbiterReport report;            /* the guest's last figures (STATS + SURPLUS) */
	int64_t surplus_at_ms;           /* the last SURPLUS (0: none this session) */
	bool stats_known;                /* a STATS came this session ... */
	uint64_t stats_available_bytes;  /* ... with this MemAvailable (a SURPLUS is checked against it) */
	Trust trust;                     /* the guest's record of contradictions */
	bool surplus_unplug;             /* the unplug being followed came from a SURPLUS ... */
	uint64_t surplus_offered_bytes;  /* ... which offered this much */
	uint64_t surplus_plugged_bytes;  /* ... while this much was plugged */
	bool in_arbiter;                 /* added to the arbiter */
	GHashTable *plugged_by_alias;    /* alias -> plugged bytes (guint64 *), from events */
	StatusVm status;

	Transport *transport;            /* lives on the transport thread */
	uint64_t transport_id;           /* tags its events */
	char *socket_path;
	VmLink link;
	int64_t eject_deadline_ms;       /* VM_LINK_DETACHING: give up then */
	char *stale_shmem_xml;           /* the <shmem> being ejected */

	bool session_open;
	uint32_t session_epoch;
	int64_t hello_deadline_ms;       /* 0: not waiting for HELLO */
	bool held_at_min;                /* no HELLO: holding min */
	bool frozen_by_omemd;            /* eject timed out: size left alone */
	int64_t plug_started_us;         /* a grant raised requested: when (0: none) */
	uint64_t plug_target_bytes;      /* ... to this requested size */
	PolicyUnplug unplug;
	PolicyShrinkGoal shrink_goal;    /* a SURPLUS's goal beyond one step */
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

/* "512 MiB", "1.2 GiB": sizes in log lines; g_free. */
char *manager_size(uint64_t bytes);

/* The policy config from the omemd config. */
void manager_policy_config(const Manager *manager, PolicyConfig *ret_config);

/* The arbiter's config from the omemd config and the budget. */
void manager_arbiter_config(const Manager *manager, ArbiterConfig *ret_config);

/* What a grant may take now (the arbiter's pool). */
uint64_t manager_budget_left(const Manager *manager);

/* The VM the arbiter calls @id, or NULL. */
Vm *manager_vm_lookup(Manager *manager, uint64_t id);

Vm *vm_ref(Vm *vm);
void vm_unref(Vm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Vm, vm_unref)

/* manager.c: the registry.  A running omem domain joins (not an omem
 * domain, already known or outside [daemon] domains: nothing happens);
 * a VM that stopped leaves, its memory back to the pool at once. */
void manager_add_domain(Manager *manager, virDomainPtr domain);
void manager_vm_remove(Manager *manager, Vm *vm, const char *why);

/* manager-libvirt.c: connect and register for the domain events (also
 * sets up libvirt's event loop, the main loop's context). */
bool manager_connect(Manager *manager, GError **error);
/* manager-libvirt.c: stop reconnecting, drop the callbacks and the
 * connection. */
void manager_libvirt_stop(Manager *manager);

/* manager-vm-libvirt.c: a VM found running (scan or start event); NULL
 * when it is not an omem domain or its contract is unusable (logged). */
Vm *manager_vm_discover(Manager *manager, virDomainPtr domain);
/* manager-vm-libvirt.c: libvirtd came back: take the new connection's
 * @domain and read devices and contract again. */
void manager_vm_reattach(Vm *vm, virDomainPtr domain);
/* manager-vm-libvirt.c: libvirt events, already on the main thread. */
void manager_vm_on_size_change(Vm *vm, const char *alias, uint64_t plugged_bytes);
void manager_vm_on_contract_change(Vm *vm);
/* manager-vm.c: the reboot event (same QEMU, the guest starts afresh). */
void manager_vm_on_reboot(Vm *vm);
/* manager-vm.c: a transport event, already on the main thread. */
void manager_vm_on_transport(Vm *vm, const TransportEvent *event);
/* manager-vm.c: the 1 s tick: HELLO deadline, stalled unplugs, the next
 * shrink step if a size event was missed. */
void manager_vm_tick(Vm *vm, int64_t now_ms);
/* manager-vm-libvirt.c: set the devices' requested size (a dry run only
 * pretends); false when libvirt refused (logged). */
bool manager_vm_set_requested(Vm *vm, uint64_t requested_bytes);
/* manager-vm-libvirt.c: re-send the requested size unchanged so that the
 * guest retries a stalled unplug at once; false when that failed. */
bool manager_vm_reissue(Vm *vm);
/* manager-vm.c: the next shrink step toward the last SURPLUS's goal. */
void manager_vm_next_step(Vm *vm, int64_t now_ms);
/* manager-vm.c: apply a SHRINK or GROW (libvirt), log and record it,
 * follow an unplug, tell the arbiter the size that holds. */
void manager_vm_resize(Vm *vm, const PolicyResizeResult *result, const char *cause);
/* manager-vm.c: hand a message for session @epoch to the transport
 * thread: the answer to the DEMAND @reply_to (@is_reply), or omemd's own
 * (RECLAIM). */
void manager_vm_send(Vm *vm, uint32_t epoch, bool is_reply, uint32_t reply_to,
		     const struct rpc_msg *msg);

/* manager-arbiter.c: hand the VM to the arbiter and bring requested
 * inside [min, cap] (at discovery). */
void manager_vm_apply_contract(Vm *vm);
/* manager-arbiter.c: the contract omemd just read goes to the arbiter;
 * what it decides follows. */
void manager_vm_contract_to_arbiter(Vm *vm);
/* manager-arbiter.c: tell the arbiter the VM's sizes as omemd knows them. */
void manager_vm_sync_arbiter(Vm *vm);
/* manager-arbiter.c: the guest's figures (vm->report, stamped now) to the
 * arbiter; unpluggable counts only while the guest is trusted. */
void manager_vm_report(Vm *vm);
/* manager-arbiter.c: carry out what the arbiter decided for other VMs. */
void manager_apply_ops(Manager *manager, const ArbiterOps *ops, const char *cause);
/* manager-arbiter.c: the VM leaves the arbiter (stopped, crashed, destroyed). */
void manager_vm_forget(Vm *vm);
/* manager-vm.c: publish the WELCOME figures to the transport. */
void manager_vm_publish_contract(Vm *vm);

/* manager-link.c: create the transport and attach the device (after
 * ejecting a stale one); logs and records failures itself. */
void manager_link_start(Vm *vm);
/* manager-link.c: the tick and the device-removed event: a pending eject
 * done or overdue. */
void manager_link_check_eject(Vm *vm, int64_t now_ms);
/* manager-link.c: hand the transport to the transport thread to be freed. */
void manager_link_release(Vm *vm);
/* manager-link.c: the session tunables of omemd.conf's [policy]. */
void manager_link_session_config(Manager *manager, SessionConfig *config);
/* manager-link.c: give the VM's transport the current session tunables
 * (a reload). */
void manager_link_reconfigure(Vm *vm);

/* manager-arbiter.c: refresh the arbiter's figures in the VM's status record. */
void manager_vm_update_status(Vm *vm);

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

#endif /* OMEM_MANAGER_PRIVATE_H */
