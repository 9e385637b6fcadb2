/* SPDX-License-Identifier: MIT */
/*
 * manager.c: omemd's threads, start, reload and stop, the host budget and
 * pressure, and the registry of VMs (see manager.h for the threading).
 * The libvirt connection, its events and its reconnection are
 * manager-libvirt.c's.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libvirt/virterror.h>

#include "daemon/host-read.h"
#include "daemon/manager-private.h"
#include "omem-virt.h"
#include "daemon/omemd-log.h"

int64_t manager_now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

int64_t manager_unix_ms(void)
{
	return g_get_real_time() / 1000;
}

char *manager_size(uint64_t bytes)
{
	char buffer[OMEM_SIZE_STRING];

	return g_strdup(omem_size_format(bytes, buffer, sizeof(buffer)));
}

Vm *manager_vm_lookup(Manager *manager, uint64_t id)
{
	return g_hash_table_lookup(manager->vms_by_id, &id);
}

/* Sample /proc/meminfo and PSI for the arbiter (every tick). */
static void manager_sample_host(Manager *manager)
{
	g_autoptr(GError) error = NULL;
	HostInfo info;

	if (!host_read_info(&info, &error)) {
		if (manager->host.known)
			omemd_log(OMEMD_LOG_WARNING, "cannot read the host's memory state: %s; host pressure ignored",
				  error->message);
		manager->host.known = false;
	} else {
		manager->host_total_bytes = info.meminfo.total_bytes;
		manager->host = (ArbiterHost){
			.mem_available_bytes = info.meminfo.available_bytes,
			.psi_some_avg10 = info.psi_known ? info.psi.some.avg10 : 0,
			.known = true,
		};
	}
	if (manager->arbiter)
		arbiter_set_host(manager->arbiter, &manager->host);
}

/* The budget: configured, or (MemTotal - reserve) x overcommit. */
static uint64_t manager_compute_budget(const Manager *manager)
{
	const OmemdConfig *config = &manager->config;
	uint64_t usable;

	if (!config->budget_auto)
		return config->budget_bytes;
	usable = manager->host_total_bytes > config->reserve_bytes ?
		 manager->host_total_bytes - config->reserve_bytes : 0;
	if (usable > UINT64_MAX / 1000)
		return usable;
	return usable * config->overcommit_percent / 100;
}

void manager_defer(Manager *manager, GSourceFunc func, gpointer data, GDestroyNotify destroy)
{
	GSource *source = g_idle_source_new();

	g_source_set_priority(source, G_PRIORITY_DEFAULT);
	g_source_set_callback(source, func, data, destroy);
	g_source_attach(source, manager->main_context);
	g_source_unref(source);
}

/* ------------------------------------------------------------ registry */

/* Drop a VM that stopped: its transport goes, its memory leaves the
 * budget at once. */
void manager_remove_vm(Manager *manager, Vm *vm, const char *why)
{
	g_autofree char *requested = manager_size(vm->policy.requested_bytes);

	omemd_log(OMEMD_LOG_INFO, "vm %s: %s; no longer managed (it held %s requested)", vm->name, why,
		  requested);
	vm->gone = true;
	/* A call in flight ends in its thread; nothing queued is made. */
	g_clear_pointer(&vm->actuator, actuator_close);
	vm_forget(vm);
	vm_link_release(vm);
	g_hash_table_remove(manager->vms, vm->uuid);
}

void manager_add_domain(Manager *manager, virDomainPtr domain)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	Vm *vm;

	if (virDomainGetUUIDString(domain, uuid) < 0 || g_hash_table_contains(manager->vms, uuid))
		return;
	vm = vm_discover(manager, domain);
	if (!vm)
		return;
	manager_register_vm(manager, vm);
	vm_link_start(vm);
}

void manager_register_vm(Manager *manager, Vm *vm)
{
	vm->id = ++manager->next_vm_id;
	g_hash_table_insert(manager->vms, vm->uuid, vm);
	g_hash_table_insert(manager->vms_by_id, &vm->id, vm);
	/* A cap lowered or a min raised while omemd was away applies now. */
	vm_apply_contract(vm);
}

static gpointer manager_transport_thread(gpointer data)
{
	Manager *manager = data;

	g_main_context_push_thread_default(manager->transport_context);
	g_main_loop_run(manager->transport_loop);
	g_main_context_pop_thread_default(manager->transport_context);
	return NULL;
}

/* ----------------------------------------------------------- lifecycle */

/* omemd.conf's [trust] over trust.c's own defaults. */
static void manager_trust_config(Manager *manager)
{
	TrustConfig *trust = &manager->trust_config;

	trust_config_init(trust);
	trust->strikes_to_distrust = manager->config.trust_strikes;
	trust->strike_window_ms = manager->config.trust_window_s * 1000;
	trust->distrust_ms = manager->config.trust_distrust_s * 1000;
	trust->distrusted_step_bytes = manager->config.trust_step_bytes;
	trust->distrusted_interval_ms = manager->config.trust_interval_ms;
}

Manager *manager_new(const OmemdConfig *config, bool dry_run, GError **error)
{
	Manager *manager = g_new0(Manager, 1);

	omemd_config_copy(&manager->config, config);
	manager->dry_run = dry_run;
	manager->main_context = g_main_context_ref(g_main_context_default());
	manager->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vm_unref);
	manager->vms_by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	manager->metrics = metrics_registry_new();
	manager_trust_config(manager);
	manager->callback_lifecycle = manager->callback_reboot = -1;
	manager->callback_device_removed = manager->callback_size = manager->callback_contract = -1;
	manager->vm_dir = g_build_filename(config->run_dir, "vm", NULL);
	manager->pid_path = g_build_filename(config->run_dir, "omemd.pid", NULL);
	manager->status_path = g_build_filename(config->run_dir, "status.sock", NULL);
	return manager;
}

void manager_set_loop(Manager *manager, GMainLoop *loop)
{
	manager->loop = loop;
}

bool manager_failed(Manager *manager)
{
	return manager->failed;
}

/* The run dir and its vm/ folder: root's, 0755 (QEMU must traverse them to
 * reach its socket, nobody else may write there). */
static bool manager_make_dirs(Manager *manager, GError **error)
{
	const char *dirs[] = { manager->config.run_dir, manager->vm_dir };

	for (unsigned i = 0; i < G_N_ELEMENTS(dirs); i++) {
		if (g_mkdir_with_parents(dirs[i], 0755) < 0 || chmod(dirs[i], 0755) < 0) {
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
				    "cannot create %s (mode 0755): %s; check --run-dir", dirs[i],
				    g_strerror(errno));
			return false;
		}
	}
	return true;
}

static gboolean manager_on_tick(gpointer data)
{
	Manager *manager = data;

	manager_sample_host(manager);
	manager_tick(manager, manager_now_ms());
	/* Reservations lapse in the tick and are consumed when VMs join. */
	manager_admission_save(manager);
	return G_SOURCE_CONTINUE;
}

void manager_tick(Manager *manager, int64_t now)
{
	g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func((GDestroyNotify)vm_unref);
	GHashTableIter iter;
	gpointer value;
	ArbiterOps ops;

	arbiter_tick(manager->arbiter, now, &ops);
	manager_apply_ops(manager, &ops, "arbiter");

	/* A tick may remove VMs (a failed libvirt call): walk a copy. */
	g_hash_table_iter_init(&iter, manager->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(vms, vm_ref(value));
	for (guint i = 0; i < vms->len; i++) {
		Vm *vm = g_ptr_array_index(vms, i);

		if (vm->gone)
			continue;
		vm_link_check_eject(vm, now);
		vm_tick(vm, now);
	}
}

static void manager_write_pid(Manager *manager)
{
	g_autofree char *text = g_strdup_printf("%d\n", (int)getpid());
	g_autoptr(GError) error = NULL;

	if (!g_file_set_contents(manager->pid_path, text, -1, &error))
		omemd_log(OMEMD_LOG_WARNING, "cannot write %s: %s", manager->pid_path, error->message);
}

bool manager_start(Manager *manager, GError **error)
{
	struct passwd *user;
	virDomainPtr *domains = NULL;
	int count;

	manager->started = true;
	manager->started_unix_ms = manager_unix_ms();
	user = getpwnam(manager->config.qemu_user);
	if (!user) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "no user %s to give the ivshmem sockets to; set [host] qemu_user to the user QEMU runs as",
			    manager->config.qemu_user);
		return false;
	}
	manager->qemu_uid = user->pw_uid;
	if (!manager_make_dirs(manager, error))
		return false;

	manager->transport_context = g_main_context_new();
	manager->transport_loop = g_main_loop_new(manager->transport_context, FALSE);
	manager->transport_thread = g_thread_new("omemd-transport", manager_transport_thread, manager);

	/* The arbiter first: VMs found running join it. */
	manager_sample_host(manager);
	if (manager->config.budget_auto && !manager->host.known) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "budget = auto needs /proc/meminfo, which cannot be read; set [host] budget");
		return false;
	}
	manager->budget_bytes = manager_compute_budget(manager);
	{
		ArbiterConfig arbiter_config;

		manager_arbiter_config(manager, &arbiter_config);
		if (arbiter_new(&arbiter_config, &manager->arbiter) < 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "the [policy] settings make no sense together (grant_step, shrink_step)");
			return false;
		}
		arbiter_set_host(manager->arbiter, &manager->host);
	}
	/* Before the running VMs join: each consumes its own reservation. */
	manager_admission_restore(manager);

	if (!manager_connect(manager, error))
		return false;

	count = virConnectListAllDomains(manager->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (count < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot list the running domains: %s",
			    virGetLastErrorMessage());
		return false;
	}
	for (int i = 0; i < count; i++) {
		manager_add_domain(manager, domains[i]);
		virDomainFree(domains[i]);
	}
	free(domains);

	if (!manager_status_start(manager, error) || !manager_admission_start(manager, error))
		return false;
	manager_metrics_start(manager);
	manager_write_pid(manager);
	manager->tick_source = g_timeout_add(MANAGER_TICK_MS, manager_on_tick, manager);
	{
		g_autofree char *budget = manager_size(manager->budget_bytes);
		g_autofree char *left = manager_size(manager_budget_left(manager));

		omemd_log(OMEMD_LOG_INFO, "ready: %u omem VM(s), budget %s (%s), %s free; status on %s%s",
			  g_hash_table_size(manager->vms), budget,
			  manager->config.budget_auto ? "auto" : "configured", left,
			  manager->status_path, manager->dry_run ? "; dry run: nothing is resized or attached" : "");
	}
	return true;
}

/* Keys read once at start: a change is logged and waits for a restart. */
static void manager_reload_note(const char *key, const char *old_value, const char *new_value)
{
	if (g_strcmp0(old_value, new_value) != 0)
		omemd_log(OMEMD_LOG_WARNING, "SIGHUP: %s changed (%s -> %s); it takes effect when omemd restarts",
			  key, old_value, new_value);
}

/* A restart-only string key: note a change, keep the running value. */
static void manager_reload_keep(const char *key, char **next_value, const char *running)
{
	manager_reload_note(key, running, *next_value);
	g_free(*next_value);
	*next_value = g_strdup(running);
}

void manager_reload(Manager *manager, const OmemdConfig *config)
{
	OmemdConfig *current = &manager->config;
	OmemdConfig next;
	ArbiterConfig arbiter_config;
	ArbiterOps ops = { 0 };
	g_autofree char *old_region = g_strdup_printf("%u", current->region_size);
	g_autofree char *new_region = g_strdup_printf("%u", config->region_size);
	g_autofree char *budget = NULL;
	GHashTableIter iter;
	gpointer value;

	/* Everything applies now, except the restart-only keys: they keep
	 * their running values. */
	omemd_config_copy(&next, config);
	manager_reload_keep("[daemon] run_dir", &next.run_dir, current->run_dir);
	manager_reload_keep("[daemon] connect", &next.connect, current->connect);
	manager_reload_keep("[daemon] domains", &next.domains, current->domains);
	manager_reload_keep("[host] qemu_user", &next.qemu_user, current->qemu_user);
	manager_reload_keep("[host] status_group", &next.status_group, current->status_group);
	manager_reload_note("[transport] region_size", old_region, new_region);
	next.region_size = current->region_size;
	manager_reload_note("[transport] allow_root", current->allow_root ? "true" : "false",
			    config->allow_root ? "true" : "false");
	next.allow_root = current->allow_root;
	manager_reload_keep("[metrics] listen", &next.metrics_listen, current->metrics_listen);
	omemd_config_clear(current);
	*current = next;

	manager->budget_bytes = manager_compute_budget(manager);
	manager_trust_config(manager);
	g_hash_table_iter_init(&iter, manager->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		vm_link_reconfigure(value);
	manager_arbiter_config(manager, &arbiter_config);
	if (arbiter_set_config(manager->arbiter, &arbiter_config) < 0) {
		omemd_log(OMEMD_LOG_ERROR, "SIGHUP: the arbiter refused the new [policy] settings; keeping its old ones");
		manager->reloads_failed++;
		metrics_count_config_reload(manager->metrics, METRICS_RELOAD_ERROR);
		return;
	}
	manager->reloads_ok++;
	metrics_count_config_reload(manager->metrics, METRICS_RELOAD_OK);
	budget = manager_size(manager->budget_bytes);
	omemd_log(OMEMD_LOG_INFO, "SIGHUP: config reloaded; budget %s (%s); session limits apply now, WELCOME intervals at each guest's next HELLO",
		  budget, current->budget_auto ? "auto" : "configured");
	arbiter_tick(manager->arbiter, manager_now_ms(), &ops);
	manager_apply_ops(manager, &ops, "reload");
}

void manager_reload_failed(Manager *manager)
{
	manager->reloads_failed++;
	metrics_count_config_reload(manager->metrics, METRICS_RELOAD_ERROR);
}

static gboolean manager_transport_goodbye(gpointer data)
{
	transport_say_goodbye(data);
	return G_SOURCE_REMOVE;
}

static gboolean manager_transport_quit(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void manager_stop(Manager *manager)
{
	GHashTableIter iter;
	gpointer value;

	if (manager->stopped || !manager->started)
		return;
	manager->stopped = true;
	if (manager->tick_source)
		g_source_remove(manager->tick_source);
	manager->tick_source = 0;
	manager_status_stop(manager);
	manager_admission_stop(manager);
	g_clear_pointer(&manager->metrics_server, metrics_server_free);

	/* GOODBYE to every open session, then stop the transport thread;
	 * invokes run in order, so the goodbyes go first. */
	if (manager->transport_thread) {
		g_hash_table_iter_init(&iter, manager->vms);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			Vm *vm = value;

			if (vm->transport)
				g_main_context_invoke(manager->transport_context,
						      manager_transport_goodbye, vm->transport);
		}
		g_main_context_invoke(manager->transport_context, manager_transport_quit,
				      manager->transport_loop);
		g_thread_join(manager->transport_thread);
		manager->transport_thread = NULL;
	}
	/* Nobody iterates the transport context now: free the transports
	 * here (sockets unlinked; devices stay attached). */
	g_hash_table_iter_init(&iter, manager->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Vm *vm = value;

		vm->gone = true;
		g_clear_pointer(&vm->transport, transport_free);
	}
	g_hash_table_remove_all(manager->vms_by_id);
	g_hash_table_remove_all(manager->vms);

	manager_libvirt_stop(manager);
	g_unlink(manager->pid_path);
	omemd_log(OMEMD_LOG_INFO, "stopped; devices stay attached and sizes as they are");
}

void manager_free(Manager *manager)
{
	if (!manager)
		return;
	manager_stop(manager);
	/* Events still queued for the main context point at the manager;
	 * run them (they see stopped) before it goes. */
	while (g_main_context_iteration(manager->main_context, FALSE))
		;
	g_clear_pointer(&manager->vms, g_hash_table_unref);
	g_clear_pointer(&manager->vms_by_id, g_hash_table_unref);
	g_clear_pointer(&manager->arbiter, arbiter_free);
	g_clear_pointer(&manager->metrics, metrics_registry_free);
	g_clear_pointer(&manager->transport_loop, g_main_loop_unref);
	g_clear_pointer(&manager->transport_context, g_main_context_unref);
	g_clear_pointer(&manager->main_context, g_main_context_unref);
	g_free(manager->vm_dir);
	g_free(manager->pid_path);
	g_free(manager->status_path);
	omemd_config_clear(&manager->config);
	g_free(manager);
}
