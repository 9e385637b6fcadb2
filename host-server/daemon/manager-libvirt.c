/* SPDX-License-Identifier: MIT */
/*
 * manager-libvirt.c: omemd's libvirt connection: the domain events copied
 * in libvirt's callbacks and handled on the main loop, and, when libvirtd
 * goes away, the reconnection (with backoff, in a worker) and the
 * re-reading of every domain.  See manager.h for the threading.
 */
#include "config.h"

#include <libvirt/virterror.h>

#include "daemon/manager-private.h"
#include "omem-virt.h"
#include "daemon/omemd-log.h"

/* ------------------------------------------------------- libvirt events */

/* One libvirt event, copied in libvirt's callback for a handler that runs
 * outside it. */
typedef enum {
	LIBVIRT_EVENT_LIFECYCLE,
	LIBVIRT_EVENT_REBOOT,
	LIBVIRT_EVENT_DEVICE_REMOVED,
	LIBVIRT_EVENT_SIZE,
	LIBVIRT_EVENT_CONTRACT,
	LIBVIRT_EVENT_CLOSED,
} LibvirtEventType;

typedef struct {
	Manager *manager;
	LibvirtEventType type;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int event, detail;            /* LIFECYCLE */
	char *alias;                  /* DEVICE_REMOVED, SIZE */
	uint64_t bytes;               /* SIZE */
} LibvirtEvent;

static void libvirt_event_free(gpointer data)
{
	LibvirtEvent *event = data;

	g_free(event->alias);
	g_free(event);
}

static void manager_on_connection_lost(Manager *manager);

static gboolean manager_on_libvirt_event(gpointer data)
{
	LibvirtEvent *event = data;
	Manager *manager = event->manager;
	Vm *vm;

	if (manager->stopped)
		return G_SOURCE_REMOVE;
	if (event->type == LIBVIRT_EVENT_CLOSED) {
		if (manager->conn)
			manager_on_connection_lost(manager);
		return G_SOURCE_REMOVE;
	}
	vm = g_hash_table_lookup(manager->vms, event->uuid);
	switch (event->type) {
	case LIBVIRT_EVENT_LIFECYCLE:
		if (event->event == VIR_DOMAIN_EVENT_STARTED && !vm) {
			virDomainPtr domain = virDomainLookupByUUIDString(manager->conn, event->uuid);

			if (domain) {
				manager_add_domain(manager, domain);
				virDomainFree(domain);
			}
		} else if (event->event == VIR_DOMAIN_EVENT_STOPPED && vm) {
			manager_remove_vm(manager, vm, "stopped");
		} else if (event->event == VIR_DOMAIN_EVENT_SUSPENDED && vm) {
			vm->status.state = "paused";
		} else if (event->event == VIR_DOMAIN_EVENT_RESUMED && vm) {
			vm->status.state = "running";
		} else if (event->event == VIR_DOMAIN_EVENT_SHUTDOWN && vm) {
			vm->status.state = "shutting-down";
		}
		break;
	case LIBVIRT_EVENT_REBOOT:
		if (vm)
			vm_on_reboot(vm);
		break;
	case LIBVIRT_EVENT_DEVICE_REMOVED:
		if (vm)
			vm_link_check_eject(vm, manager_now_ms());
		break;
	case LIBVIRT_EVENT_SIZE:
		if (vm)
			vm_on_size_change(vm, event->alias, event->bytes);
		break;
	case LIBVIRT_EVENT_CONTRACT:
		if (vm)
			vm_on_contract_change(vm);
		else {
			/* A domain may become an omem domain while running. */
			virDomainPtr domain = virDomainLookupByUUIDString(manager->conn, event->uuid);

			if (domain && virDomainIsActive(domain) == 1)
				manager_add_domain(manager, domain);
			if (domain)
				virDomainFree(domain);
		}
		break;
	case LIBVIRT_EVENT_CLOSED:
		break;
	}
	return G_SOURCE_REMOVE;
}

/* Event thread -> main thread; the only thing the callbacks do. */
static void manager_post(Manager *manager, LibvirtEvent *event, virDomainPtr domain)
{
	event->manager = manager;
	if (domain && virDomainGetUUIDString(domain, event->uuid) < 0) {
		libvirt_event_free(event);
		return;
	}
	manager_defer(manager, manager_on_libvirt_event, event, libvirt_event_free);
}

static int manager_cb_lifecycle(virConnectPtr conn, virDomainPtr domain, int event_type, int detail,
				void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_LIFECYCLE;
	event->event = event_type;
	event->detail = detail;
	manager_post(opaque, event, domain);
	return 0;
}

static void manager_cb_reboot(virConnectPtr conn, virDomainPtr domain, void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_REBOOT;
	manager_post(opaque, event, domain);
}

static void manager_cb_device_removed(virConnectPtr conn, virDomainPtr domain, const char *alias,
				      void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_DEVICE_REMOVED;
	event->alias = g_strdup(alias);
	manager_post(opaque, event, domain);
}

static void manager_cb_size(virConnectPtr conn, virDomainPtr domain, const char *alias,
			    unsigned long long plugged_bytes, void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_SIZE;
	event->alias = g_strdup(alias);
	event->bytes = plugged_bytes;
	manager_post(opaque, event, domain);
}

static void manager_cb_contract(virConnectPtr conn, virDomainPtr domain, unsigned int flags,
				void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_CONTRACT;
	manager_post(opaque, event, domain);
}

static void manager_cb_closed(virConnectPtr conn, int reason, void *opaque)
{
	LibvirtEvent *event = g_new0(LibvirtEvent, 1);

	event->type = LIBVIRT_EVENT_CLOSED;
	manager_post(opaque, event, NULL);
}

/* Register omemd's callbacks on manager->conn (at start and after each
 * reconnect); keepalive makes a hung libvirtd look like a lost one. */
static bool manager_register_events(Manager *manager, GError **error)
{
	if (virConnectSetKeepAlive(manager->conn, MANAGER_KEEPALIVE_INTERVAL_S,
				   MANAGER_KEEPALIVE_COUNT) < 0)
		omemd_log(OMEMD_LOG_DEBUG, "libvirt keepalive not available: %s", virGetLastErrorMessage());
	virConnectRegisterCloseCallback(manager->conn, manager_cb_closed, manager, NULL);
	manager->callback_lifecycle = virConnectDomainEventRegisterAny(
		manager->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(manager_cb_lifecycle), manager, NULL);
	manager->callback_reboot = virConnectDomainEventRegisterAny(
		manager->conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
		VIR_DOMAIN_EVENT_CALLBACK(manager_cb_reboot), manager, NULL);
	manager->callback_device_removed = virConnectDomainEventRegisterAny(
		manager->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
		VIR_DOMAIN_EVENT_CALLBACK(manager_cb_device_removed), manager, NULL);
	manager->callback_size = omem_event_register_size_change(manager->conn, NULL, manager_cb_size,
								 manager, NULL);
	manager->callback_contract = omem_event_register_contract_change(
		manager->conn, NULL, manager_cb_contract, manager, NULL);
	if (manager->callback_lifecycle < 0 || manager->callback_reboot < 0 ||
	    manager->callback_device_removed < 0 || manager->callback_size < 0 ||
	    manager->callback_contract < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot register for libvirt's domain events at %s: %s",
			    manager->config.connect,
			    manager->callback_size < 0 || manager->callback_contract < 0 ?
			    omem_error_last_message() : virGetLastErrorMessage());
		return false;
	}
	return true;
}

/* Drop the callbacks and the connection (stop, or a lost libvirtd: the
 * calls then fail quietly, which is fine). */
static void manager_disconnect(Manager *manager)
{
	int *ids[] = { &manager->callback_lifecycle, &manager->callback_reboot,
		       &manager->callback_device_removed, &manager->callback_size,
		       &manager->callback_contract };

	if (!manager->conn)
		return;
	for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
		if (*ids[i] >= 0)
			virConnectDomainEventDeregisterAny(manager->conn, *ids[i]);
		*ids[i] = -1;
	}
	virConnectUnregisterCloseCallback(manager->conn, manager_cb_closed);
	virConnectClose(manager->conn);
	manager->conn = NULL;
	virResetLastError();
}

/* libvirt prints every error to stderr by default; omemd logs the ones
 * that matter itself, with context. */
static void manager_libvirt_quiet(void *data, virErrorPtr error)
{
}

bool manager_connect(Manager *manager, GError **error)
{
	if (virEventRegisterDefaultImpl() < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot set up libvirt's event loop: %s",
			    virGetLastErrorMessage());
		return false;
	}
	/* libvirt's default event loop is GLib's default main context: the
	 * main loop that serves everything else dispatches libvirt's events
	 * too, so no thread of its own (one that iterated the same context
	 * used to race with manager_start and ran handlers inside libvirt's
	 * callbacks). */
	virSetErrorFunc(NULL, manager_libvirt_quiet);
	manager->conn = virConnectOpen(manager->config.connect);
	if (!manager->conn) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot connect to libvirt at %s: %s; is libvirtd running (ci/libvirtd start)?",
			    manager->config.connect, virGetLastErrorMessage());
		return false;
	}
	return manager_register_events(manager, error);
}

/* ---------------------------------------------------------- reconnect */

/* After libvirtd came back: every VM gets a fresh domain handle, its
 * devices and contract are read again (anything may have changed while
 * nobody listened), VMs that stopped meanwhile leave, new ones join. */
static void manager_resync(Manager *manager)
{
	virDomainPtr *domains = NULL;
	g_autoptr(GHashTable) running = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func((GDestroyNotify)vm_unref);
	GHashTableIter iter;
	gpointer value;
	int count;

	count = virConnectListAllDomains(manager->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (count < 0) {
		omemd_log(OMEMD_LOG_WARNING, "after reconnecting: cannot list the running domains: %s",
			  virGetLastErrorMessage());
		return;
	}
	for (int i = 0; i < count; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];

		if (virDomainGetUUIDString(domains[i], uuid) == 0)
			g_hash_table_insert(running, g_strdup(uuid), domains[i]);
	}
	g_hash_table_iter_init(&iter, manager->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(vms, vm_ref(value));
	for (guint i = 0; i < vms->len; i++) {
		Vm *vm = g_ptr_array_index(vms, i);
		virDomainPtr domain = g_hash_table_lookup(running, vm->uuid);

		if (vm->gone)
			continue;
		if (!domain) {
			manager_remove_vm(manager, vm, "stopped while libvirtd was away");
			continue;
		}
		vm_reattach(vm, domain);
	}
	for (int i = 0; i < count; i++) {
		manager_add_domain(manager, domains[i]);
		virDomainFree(domains[i]);
	}
	free(domains);
}

static void manager_reconnect_schedule(Manager *manager);

static void manager_conn_close(gpointer conn)
{
	virConnectClose(conn);
}

static void manager_reconnect_run(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	Manager *manager = data;
	virConnectPtr conn = virConnectOpen(manager->config.connect);

	if (!conn) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
					virGetLastErrorMessage());
		return;
	}
	g_task_return_pointer(task, conn, manager_conn_close);
}

static void manager_reconnect_done(GObject *source, GAsyncResult *result, gpointer data)
{
	Manager *manager = data;
	g_autoptr(GError) error = NULL;
	virConnectPtr conn = g_task_propagate_pointer(G_TASK(result), &error);

	manager->reconnecting = false;
	if (manager->stopped) {
		if (conn)
			virConnectClose(conn);
		return;
	}
	if (!conn) {
		omemd_log(manager->reconnect_attempt == 1 ? OMEMD_LOG_WARNING : OMEMD_LOG_DEBUG,
			  "libvirt at %s: reconnect attempt %u failed: %s", manager->config.connect,
			  manager->reconnect_attempt, error->message);
		manager_reconnect_schedule(manager);
		return;
	}
	manager->conn = conn;
	if (!manager_register_events(manager, &error)) {
		omemd_log(OMEMD_LOG_WARNING, "%s", error->message);
		manager_disconnect(manager);
		manager_reconnect_schedule(manager);
		return;
	}
	omemd_log(OMEMD_LOG_INFO, "reconnected to libvirt at %s after %.1f s (%u attempt(s)); reading every domain again",
		  manager->config.connect, (manager_now_ms() - manager->disconnected_ms) / 1000.0,
		  manager->reconnect_attempt);
	manager->reconnect_attempt = 0;
	manager->reconnects++;
	metrics_count_libvirt_reconnect(manager->metrics);
	manager_resync(manager);
}

static gboolean manager_reconnect_try(gpointer data)
{
	Manager *manager = data;
	g_autoptr(GTask) task = g_task_new(NULL, NULL, manager_reconnect_done, manager);

	manager->reconnect_source = 0;
	manager->reconnect_attempt++;
	manager->reconnecting = true;
	g_task_set_task_data(task, manager, NULL);
	g_task_run_in_thread(task, manager_reconnect_run);
	return G_SOURCE_REMOVE;
}

/* Next attempt after 0.5 s, doubling up to MANAGER_RECONNECT_MAX_MS. */
static void manager_reconnect_schedule(Manager *manager)
{
	unsigned shift = MIN(manager->reconnect_attempt, 8u);
	uint64_t delay = MIN((uint64_t)MANAGER_RECONNECT_MIN_MS << shift, MANAGER_RECONNECT_MAX_MS);

	if (manager->stopped || manager->reconnect_source || manager->reconnecting)
		return;
	manager->reconnect_source = g_timeout_add((guint)delay, manager_reconnect_try, manager);
}

/* libvirtd went away (restart, crash, upgrade).  Guests keep their
 * sessions: the transports do not depend on libvirt.  Decisions that need
 * libvirt answer BUSY until the connection is back. */
static void manager_on_connection_lost(Manager *manager)
{
	omemd_log(OMEMD_LOG_WARNING, "lost the connection to libvirt at %s; reconnecting (guests keep their sessions; resizes wait)",
		  manager->config.connect);
	manager_disconnect(manager);
	manager->disconnected_ms = manager_now_ms();
	manager->reconnect_attempt = 0;
	manager_reconnect_schedule(manager);
}

void manager_libvirt_stop(Manager *manager)
{
	if (manager->reconnect_source)
		g_source_remove(manager->reconnect_source);
	manager->reconnect_source = 0;
	/* An attempt in flight reports to this manager: let it end (it
	 * sees stopped and closes what it opened). */
	while (manager->reconnecting)
		g_main_context_iteration(manager->main_context, TRUE);
	manager_disconnect(manager);
}
