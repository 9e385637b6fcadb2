/* SPDX-License-Identifier: MIT */
/*
 * vm.h: one omem VM as omemd serves it, and what each file does with it:
 * vm.c (the guest side: transport events, DEMAND, SURPLUS, STATS, the
 * tick, resizes), vm-libvirt.c (the libvirt side: discovery, live XML,
 * size and contract events, requested size), vm-arbiter.c (its figures
 * to the arbiter and back), vm-link.c (the transport and its <shmem>
 * device).  The registry that owns every Vm is the manager's
 * (manager-private.h).  Main thread unless a field says so.
 */
#ifndef OMEM_VM_H
#define OMEM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "arbiter/arbiter.h"
#include "arbiter/policy.h"
#include "arbiter/trust.h"
#include "daemon/actuator.h"
#include "daemon/manager.h"
#include "daemon/omemd-log.h"
#include "daemon/transport.h"
#include "formats/status-json.h"
#include "omem-virt.h"
#include "rpc/session.h"

typedef struct _Vm Vm;

/* A libvirt call of one VM this long is worth a line: its QEMU does not
 * answer (stopped, swapped out, stuck); the other VMs are not held up. */
#define VM_ACTUATOR_SLOW_MS 10000

/* Where a VM's transport device stands. */
typedef enum {
	VM_LINK_NONE,        /* nothing attached by omemd (dry run, not yet) */
	VM_LINK_DETACHING,   /* a stale <shmem> from an earlier omemd is being ejected */
	VM_LINK_ATTACHING,   /* attach-device in flight */
	VM_LINK_ATTACHED,    /* the device is ours; QEMU is connected or will be */
	VM_LINK_FAILED,      /* attach failed or the eject timed out: not retried */
} VmLink;

struct _Vm {
	int refs;                        /* main thread only (GTask holds one) */
	Manager *manager;
	uint64_t id;                     /* the arbiter's name for it */
	char *uuid;
	char *name;
	virDomainPtr domain;
	Actuator *actuator;              /* its libvirt resizes, off the main thread (NULL: dry run) */
	uint64_t libvirt_requested_bytes; /* what libvirt holds, as far as omemd knows */
	bool actuator_stuck_logged;      /* a call in flight for VM_ACTUATOR_SLOW_MS was logged */
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
	OmemdLogLimit log_limit;         /* the guest-triggered lines about it (vm_log) */
};

/* A line the guest's messages caused, "vm NAME: ...", through the VM's
 * rate limit (omemd-log.h): every guest-triggered line goes here. */
#define vm_log(vm, level, ...) \
	omemd_log_vm(&(vm)->log_limit, (vm)->name, manager_now_ms(), (level), __VA_ARGS__)

Vm *vm_ref(Vm *vm);
void vm_unref(Vm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Vm, vm_unref)

/* ------------------------------------------------------------- vm.c */

/* The reboot event (same QEMU, the guest starts afresh). */
void vm_on_reboot(Vm *vm);
/* A transport event, already on the main thread. */
void vm_on_transport(Vm *vm, const TransportEvent *event);
/* The 1 s tick: HELLO deadline, stalled unplugs, the next shrink step if
 * a size event was missed. */
void vm_tick(Vm *vm, int64_t now_ms);
/* The next shrink step toward the last SURPLUS's goal. */
void vm_next_step(Vm *vm, int64_t now_ms);
/* Apply a SHRINK or GROW (libvirt), log and record it, follow an unplug,
 * tell the arbiter the size that holds. */
void vm_resize(Vm *vm, const PolicyResizeResult *result, const char *cause);
/* Hand a message for session @epoch to the transport thread: the answer
 * to the DEMAND @reply_to (@is_reply), or omemd's own (RECLAIM). */
void vm_send(Vm *vm, uint32_t epoch, bool is_reply, uint32_t reply_to,
	     const struct rpc_msg *msg);
/* RECLAIM to the guest: free @bytes (@why for the log and status); it
 * answers with SURPLUS. */
void vm_send_reclaim(Vm *vm, uint64_t bytes, const char *why);
/* A reclaim of @asked_bytes missed its deadline with @released_bytes
 * given back: judged like a SURPLUS whose unplug stalled. */
void vm_reclaim_stalled(Vm *vm, uint64_t asked_bytes, uint64_t released_bytes);

/* ----------------------------------------------------- vm-libvirt.c */

/* A VM from figures already read: @contract (validated), the devices'
 * @state and @devices (state->devices of them).  No domain handle, no
 * actuator yet; vm_discover adds both. */
Vm *vm_new(Manager *manager, const char *name, const char *uuid, const OmemContract *contract,
	   const OmemMemoryState *state, const OmemMemoryDevice *devices);
/* A VM found running (scan or start event); NULL when it is not an omem
 * domain or its contract is unusable (logged). */
Vm *vm_discover(Manager *manager, virDomainPtr domain);
/* libvirtd came back: take the new connection's @domain and read devices
 * and contract again. */
void vm_reattach(Vm *vm, virDomainPtr domain);
/* The devices as libvirt shows them after a reconnect (@state and its
 * @devices): sizes taken, and what the size events missed meanwhile
 * would have told (an unplug or a plug that ended). */
void vm_devices_reread(Vm *vm, const OmemMemoryState *state, const OmemMemoryDevice *devices);
/* libvirt events, already on the main thread. */
void vm_on_size_change(Vm *vm, const char *alias, uint64_t plugged_bytes);
void vm_on_contract_change(Vm *vm);
/* Ask for the devices' requested size to become @requested_bytes (a dry
 * run only pretends).  omemd's view changes at once; the libvirt call
 * runs in the VM's actuator, and a refusal found there is logged and
 * puts back the size that holds (vm_on_actuated).  False only when no
 * call can be made (libvirtd away). */
bool vm_set_requested(Vm *vm, uint64_t requested_bytes);
/* Ask for the requested size to be re-sent unchanged so that the guest
 * retries a stalled unplug at once; false when no call can be made. */
bool vm_reissue(Vm *vm);
/* Give the VM an actuator for its current domain handle (at discovery,
 * after a reconnect), closing the one it had. */
void vm_actuator_start(Vm *vm);

/* ----------------------------------------------------- vm-arbiter.c */

/* Hand the VM to the arbiter and bring requested inside [min, cap] (at
 * discovery). */
void vm_apply_contract(Vm *vm);
/* The contract omemd just read goes to the arbiter; what it decides
 * follows. */
void vm_contract_to_arbiter(Vm *vm);
/* Tell the arbiter the VM's sizes as omemd knows them. */
void vm_sync_arbiter(Vm *vm);
/* The guest's figures (vm->report, stamped now) to the arbiter;
 * unpluggable counts only while the guest is trusted. */
void vm_report(Vm *vm);
/* The VM leaves the arbiter (stopped, crashed, destroyed). */
void vm_forget(Vm *vm);
/* Refresh the arbiter's figures in the VM's status record. */
void vm_update_status(Vm *vm);

/* -------------------------------------------------------- vm-link.c */

/* Create the transport and attach the device (after ejecting a stale
 * one); logs and records failures itself. */
void vm_link_start(Vm *vm);
/* The tick and the device-removed event: a pending eject done or
 * overdue. */
void vm_link_check_eject(Vm *vm, int64_t now_ms);
/* Hand the transport to the transport thread to be freed. */
void vm_link_release(Vm *vm);
/* Give the VM's transport the current session tunables (a reload). */
void vm_link_reconfigure(Vm *vm);
/* Publish the WELCOME figures to the transport. */
void vm_link_publish_contract(Vm *vm);

#endif /* OMEM_VM_H */
