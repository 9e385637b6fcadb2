/* SPDX-License-Identifier: MIT */
/*
 * manager: omemd's event loops and the objects they own — the libvirt
 * connection, one Vm per running omem domain (contract, sizes, transport,
 * decisions), the host budget and the status socket.
 *
 * Threads (docs/omemd.md, "Threads"):
 *
 *  main thread        the default GMainContext.  Owns every Vm and the
 *                     arbiter; makes the quick libvirt calls (contract and
 *                     live XML reads, omem_domain_set_requested); runs
 *                     every decision (arbiter.h, policy.h) and serves the
 *                     status and admission sockets and /metrics.  It also
 *                     dispatches libvirt's events: libvirt's default event
 *                     loop (virEventRegisterDefaultImpl) is this same GLib
 *                     context.  The callbacks only copy the event (domain
 *                     UUID, detail, alias, size) and queue it with
 *                     manager_defer, so no handler runs inside libvirt's
 *                     callback, under its locks.
 *  transport thread   its own GMainContext: every IvshmemServer (the
 *                     sockets QEMU connects to, doorbells), ring draining
 *                     and the omem-rpc sessions (transport.h).  It never
 *                     calls libvirt, because QEMU's ivshmem handshake runs
 *                     synchronously inside libvirt's attach-device call.
 *                     Session events go to the main context by
 *                     manager_defer; the main thread's answers
 *                     (GRANT/DENY) come back the same way.
 *  GTask workers      attach-device and detach-device (detach can wait
 *                     5 s inside libvirt for the guest's eject), so that
 *                     no slow libvirt call stalls the main loop; and the
 *                     reconnect attempt (virConnectOpen) after libvirtd
 *                     went away.
 */
#ifndef OMEM_MANAGER_H
#define OMEM_MANAGER_H

#include <stdbool.h>

#include <glib.h>

#include "formats/omemd-config.h"

typedef struct _Manager Manager;

/* A manager for @config (copied).  @dry_run: decide and log, but never
 * resize a device nor attach or detach one.  Nothing runs yet. */
Manager *manager_new(const OmemdConfig *config, bool dry_run, GError **error);

/* Connect to libvirt, start the threads, create the run dir and the status
 * socket, find the running omem domains and start serving them.  Runs on
 * the main thread before its loop; the loop then does the rest. */
bool manager_start(Manager *manager, GError **error);

/* The main loop should end: set when libvirtd's connection is lost (the
 * exit status should then say failure). */
bool manager_failed(Manager *manager);

/* Arrange for @loop to be quit when the manager fails on its own. */
void manager_set_loop(Manager *manager, GMainLoop *loop);

/* SIGHUP: apply @config (already parsed and valid).  Keys that only take
 * effect at start (run_dir, connect, domains, qemu_user, status_group,
 * region_size, allow_root, metrics listen) are logged and kept. */
void manager_reload(Manager *manager, const OmemdConfig *config);

/* SIGHUP found a config that does not parse (counted for /metrics). */
void manager_reload_failed(Manager *manager);

/* Stop serving: GOODBYE to open sessions, threads joined, sockets
 * removed.  Devices stay attached and sizes stay as they are; a restarted
 * omemd re-attaches.  Idempotent. */
void manager_stop(Manager *manager);

/* Stop if needed, then free.  Accepts NULL. */
void manager_free(Manager *manager);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Manager, manager_free)

#endif /* OMEM_MANAGER_H */
