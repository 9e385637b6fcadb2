/* SPDX-License-Identifier: MIT */
/*
 * vm-link.c: a VM's transport device.  omemd serves the VM's ivshmem
 * socket (transport.h, on the transport thread) and attaches
 * <shmem name='omem0'> live from a GTask worker, so the main loop never
 * waits on libvirt while QEMU performs the handshake the transport thread
 * answers.  A <shmem> left by an earlier omemd is ejected first (QEMU does
 * not reconnect to a new server); a guest that does not complete the eject
 * within eject_timeout_s is frozen at its size and reported, not retried.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "daemon/manager-private.h"
#include "omem-virt.h"
#include "daemon/omemd-log.h"

/* ---------------------------------------------- transport -> main thread */

/* A transport event copied for the main thread: the VM is found again by
 * UUID and the transport by its id, so a late event of a transport that
 * is gone is dropped. */
typedef struct {
	Manager *manager;
	char *uuid;
	uint64_t transport_id;
	TransportEvent event;
} LinkEvent;

static void link_event_free(gpointer data)
{
	LinkEvent *link_event = data;

	transport_event_done(&link_event->event);
	g_free(link_event->uuid);
	g_free(link_event);
}

static gboolean vm_link_on_event(gpointer data)
{
	LinkEvent *link_event = data;
	Vm *vm;

	if (link_event->manager->stopped)
		return G_SOURCE_REMOVE;
	vm = g_hash_table_lookup(link_event->manager->vms, link_event->uuid);
	if (vm && !vm->gone && vm->transport_id == link_event->transport_id)
		vm_on_transport(vm, &link_event->event);
	return G_SOURCE_REMOVE;
}

/* Who a transport's events belong to; freed with the transport. */
typedef struct {
	Manager *manager;
	char *uuid;
	uint64_t transport_id;
} LinkTag;

static void link_tag_free(gpointer data)
{
	LinkTag *tag = data;

	g_free(tag->uuid);
	g_free(tag);
}

/* The transport thread's callback: copy and hand over, nothing else. */
static void vm_link_post(Transport *transport, const TransportEvent *event, gpointer user_data)
{
	LinkTag *tag = user_data;
	LinkEvent *link_event = g_new0(LinkEvent, 1);

	link_event->manager = tag->manager;
	link_event->uuid = g_strdup(tag->uuid);
	link_event->transport_id = tag->transport_id;
	link_event->event = *event;
	link_event->event.received_us = g_get_monotonic_time();
	transport_event_hold(&link_event->event);
	manager_defer(tag->manager, vm_link_on_event, link_event, link_event_free);
}

/* ------------------------------------------------------------- helpers */

/* That VM's QEMU pid from libvirt's pid file, or 0 with the reason in
 * *error.  The transport needs it: every QEMU runs as the same uid, so
 * the uid alone cannot tell this VM's QEMU from another's. */
static pid_t vm_link_qemu_pid(const char *name, GError **error)
{
	g_autofree char *path = g_strdup_printf("%s/%s.pid", MANAGER_QEMU_PID_DIR, name);
	g_autofree char *text = NULL;
	gint64 pid;

	if (!g_file_get_contents(path, &text, NULL, error))
		return 0;
	pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
	if (pid <= 0 || pid >= G_MAXINT32) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s holds no pid", path);
		return 0;
	}
	return (pid_t)pid;
}

/* The live XML's <shmem name='omem0'>, serialized, or NULL. */
static char *vm_link_find_shmem(Vm *vm)
{
	g_autofree char *xml = virDomainGetXMLDesc(vm->domain, 0);
	char *device = NULL;

	if (xml && omem_domain_xml_find_device(xml, "shmem", MANAGER_SHMEM_NAME, &device) > 0)
		return device;
	return NULL;
}

static char *vm_link_shmem_xml(const char *socket_path)
{
	g_autofree char *escaped = g_markup_escape_text(socket_path, -1);

	return g_strdup_printf("<shmem name='%s'>\n"
			       "  <model type='ivshmem-doorbell'/>\n"
			       "  <server path='%s'/>\n"
			       "  <msi vectors='%u' ioeventfd='off'/>\n"
			       "</shmem>\n",
			       MANAGER_SHMEM_NAME, escaped, OMEM_RPC_VECTORS);
}

static void vm_link_fail(Vm *vm, const char *note)
{
	vm->link = VM_LINK_FAILED;
	status_vm_set_note(&vm->status, note);
}

/* ------------------------------------------------------- worker threads */

/* What one attach or detach needs in its worker thread. */
typedef struct {
	virDomainPtr domain;
	char *xml;
	bool attach;
} LinkJob;

static void link_job_free(gpointer data)
{
	LinkJob *job = data;

	virDomainFree(job->domain);
	g_free(job->xml);
	g_free(job);
}

static void vm_link_job_run(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	LinkJob *job = data;
	int r = job->attach ? virDomainAttachDeviceFlags(job->domain, job->xml, VIR_DOMAIN_AFFECT_LIVE) :
		virDomainDetachDeviceFlags(job->domain, job->xml, VIR_DOMAIN_AFFECT_LIVE);

	if (r < 0)
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
					virGetLastErrorMessage());
	else
		g_task_return_boolean(task, TRUE);
}

static void vm_link_job(Vm *vm, const char *xml, bool attach, GAsyncReadyCallback done)
{
	LinkJob *job = g_new0(LinkJob, 1);
	g_autoptr(GTask) task = g_task_new(NULL, NULL, done, vm_ref(vm));

	job->domain = vm->domain;
	virDomainRef(job->domain);
	job->xml = g_strdup(xml);
	job->attach = attach;
	g_task_set_task_data(task, job, link_job_free);
	g_task_run_in_thread(task, vm_link_job_run);
}

static void vm_link_attached(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(Vm) vm = data;
	g_autoptr(GError) error = NULL;

	if (vm->gone)
		return;
	if (!g_task_propagate_boolean(G_TASK(result), &error)) {
		g_autofree char *note = g_strdup_printf("attaching the transport failed: %s", error->message);

		omemd_log(OMEMD_LOG_ERROR, "vm %s: cannot attach the transport device <shmem name='%s'>: %s; the VM keeps its size, no DEMAND can reach omemd",
			  vm->name, MANAGER_SHMEM_NAME, error->message);
		vm_link_fail(vm, note);
		vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
		return;
	}
	vm->link = VM_LINK_ATTACHED;
	vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
	omemd_log(OMEMD_LOG_INFO, "vm %s: transport attached (<shmem name='%s'>, %s)", vm->name,
		  MANAGER_SHMEM_NAME, vm->socket_path);
}

static void vm_link_attach(Vm *vm)
{
	g_autofree char *xml = vm_link_shmem_xml(vm->socket_path);

	vm->link = VM_LINK_ATTACHING;
	vm_link_job(vm, xml, true, vm_link_attached);
}

static void vm_link_detached(GObject *source, GAsyncResult *result, gpointer data)
{
	g_autoptr(Vm) vm = data;
	g_autoptr(GError) error = NULL;

	if (vm->gone)
		return;
	if (!g_task_propagate_boolean(G_TASK(result), &error)) {
		/* Gone meanwhile is fine: the check below attaches. */
		omemd_log(OMEMD_LOG_WARNING, "vm %s: detaching the old transport device failed: %s",
			  vm->name, error->message);
	}
	vm_link_check_eject(vm, manager_now_ms());
}

/* -------------------------------------------------------------- public */

typedef struct {
	Transport *transport;
	SessionConfig config;
} LinkSessionConfig;

static gboolean vm_link_set_session_config(gpointer data)
{
	LinkSessionConfig *update = data;

	transport_set_session_config(update->transport, &update->config);
	return G_SOURCE_REMOVE;
}

void vm_link_reconfigure(Vm *vm)
{
	LinkSessionConfig *update;

	if (!vm->transport)
		return;
	update = g_new0(LinkSessionConfig, 1);
	update->transport = vm->transport;
	manager_session_config(vm->manager, &update->config);
	/* Queued like a send, so it runs before a later release frees the
	 * transport. */
	g_main_context_invoke_full(vm->manager->transport_context, G_PRIORITY_DEFAULT,
				   vm_link_set_session_config, update, g_free);
}

void vm_link_start(Vm *vm)
{
	Manager *manager = vm->manager;
	g_autoptr(GError) error = NULL;
	TransportConfig config = { 0 };
	LinkTag *tag;

	vm_link_publish_contract(vm);
	if (manager->dry_run) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: dry run: not attaching a transport", vm->name);
		vm->hello_deadline_ms = manager_now_ms() + manager->config.hello_timeout_s * 1000ll;
		return;
	}
	config.allowed_pid = vm_link_qemu_pid(vm->name, &error);
	if (config.allowed_pid == 0) {
		omemd_log(OMEMD_LOG_ERROR, "vm %s: cannot learn its QEMU's pid: %s; not serving its transport (it stays at its minimum), restart omemd once libvirt's pid file is readable",
			  vm->name, error->message);
		vm_link_fail(vm, "QEMU's pid file is unreadable: no transport");
		vm->hello_deadline_ms = manager_now_ms() + manager->config.hello_timeout_s * 1000ll;
		return;
	}
	vm->socket_path = g_strdup_printf("%s/%s.sock", manager->vm_dir, vm->uuid);
	tag = g_new0(LinkTag, 1);
	tag->manager = manager;
	tag->uuid = g_strdup(vm->uuid);
	tag->transport_id = vm->transport_id = ++manager->next_transport_id;

	config.name = vm->name;
	config.socket_path = vm->socket_path;
	config.region_size = manager->config.region_size;
	config.allowed_uid = manager->qemu_uid;
	config.allow_root = manager->config.allow_root;
	manager_session_config(manager, &config.session);
	config.on_event = vm_link_post;
	config.user_data = tag;
	config.user_data_free = link_tag_free;
	vm->transport = transport_new(&config, &error);
	if (!vm->transport) {
		g_autofree char *note = g_strdup_printf("cannot serve the transport: %s", error->message);

		omemd_log(OMEMD_LOG_ERROR, "vm %s: cannot serve its transport socket: %s", vm->name,
			  error->message);
		vm_link_fail(vm, note);
		vm->hello_deadline_ms = manager_now_ms() + manager->config.hello_timeout_s * 1000ll;
		return;
	}
	vm_link_publish_contract(vm);
	transport_start(vm->transport, manager->transport_context);
	vm->status.generation = 0;

	vm->stale_shmem_xml = vm_link_find_shmem(vm);
	if (vm->stale_shmem_xml) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: a transport device from an earlier omemd is attached; detaching it first (QEMU does not reconnect)",
			  vm->name);
		vm->link = VM_LINK_DETACHING;
		vm->eject_deadline_ms = manager_now_ms() + manager->config.eject_timeout_s * 1000ll;
		vm_link_job(vm, vm->stale_shmem_xml, false, vm_link_detached);
		return;
	}
	vm_link_attach(vm);
}

void vm_link_check_eject(Vm *vm, int64_t now_ms)
{
	g_autofree char *still = NULL;

	if (vm->link != VM_LINK_DETACHING || vm->gone)
		return;
	still = vm_link_find_shmem(vm);
	if (!still) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: the old transport device is gone; attaching a new one", vm->name);
		vm_link_attach(vm);
		return;
	}
	if (now_ms >= vm->eject_deadline_ms) {
		g_autofree char *total = manager_size(vm->policy.boot_bytes + vm->policy.plugged_bytes);
		g_autofree char *note = g_strdup_printf("the guest did not eject the old transport device within %u s: frozen at its size",
							vm->manager->config.eject_timeout_s);

		omemd_log(OMEMD_LOG_WARNING, "vm %s: the guest did not eject the old transport device within %u s; frozen at its size (%s), not retried",
			  vm->name, vm->manager->config.eject_timeout_s, total);
		vm->frozen_by_omemd = true;
		vm->policy.frozen = true;
		vm->hello_deadline_ms = 0;
		vm_link_fail(vm, note);
		status_vm_add_decision(&vm->status, manager_unix_ms(), "hold", vm->policy.requested_bytes,
				       note);
	}
}

static gboolean vm_link_free_transport(gpointer data)
{
	transport_free(data);
	return G_SOURCE_REMOVE;
}

void vm_link_release(Vm *vm)
{
	if (!vm->transport)
		return;
	g_main_context_invoke(vm->manager->transport_context, vm_link_free_transport,
			      vm->transport);
	vm->transport = NULL;
}

void vm_link_publish_contract(Vm *vm)
{
	struct rpc_msg_welcome contract = {
		.buffer_percent = vm->policy.buffer_percent,
		.boot_bytes = vm->policy.boot_bytes,
		.min_bytes = vm->policy.min_bytes,
		.max_bytes = vm->policy.max_bytes,
		.cap_bytes = vm->policy.cap_bytes,
		.plugged_bytes = vm->policy.plugged_bytes,
		.block_bytes = vm->policy.block_bytes,
	};

	if (vm->transport)
		transport_set_contract(vm->transport, &contract);
}
