/* SPDX-License-Identifier: MIT */
/*
 * manager-status.c: the read-only status socket RUN_DIR/status.sock
 * (docs/status.md).  Each connection gets one JSON document, written from
 * the main thread's state with no libvirt call, by a non-blocking
 * asynchronous write; a client that does not read it within
 * MANAGER_STATUS_TIMEOUT_S is cut off.  Nothing is read from clients.
 */
#include "config.h"

#include <grp.h>
#include <unistd.h>

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"
#include "rpc/unix-listener.h"

/* virt-omem waits 2 s for the whole document; a client slower than this
 * is not a status reader, and its connection costs omemd a socket. */
#define MANAGER_STATUS_TIMEOUT_S 5

/* Connections served at once; more are closed at once, so a client that
 * opens many and never reads cannot pin omemd's memory. */
#define MANAGER_STATUS_MAX_CLIENTS 64

/* Connections the kernel queues until omemd accepts them: GIO's default,
 * which the socket had before it was opened by unix_listener_open(). */
#define MANAGER_STATUS_BACKLOG 10

/* One client being written to. */
typedef struct {
	UnixListenerClient *slot;       /* its place among the clients served */
	GSocketConnection *connection;
	GCancellable *cancel;           /* the slot's: cut off at its time */
	char *document;
} StatusClient;

static void status_client_free(StatusClient *client)
{
	g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
	g_object_unref(client->connection);
	g_free(client->document);
	unix_listener_client_done(client->slot);
	g_free(client);
}

static void manager_status_written(GObject *source, GAsyncResult *result, gpointer data)
{
	StatusClient *client = data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error) &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		omemd_log(OMEMD_LOG_DEBUG, "status: writing to a client failed: %s", error->message);
	status_client_free(client);
}

static gint manager_status_by_name(gconstpointer a, gconstpointer b)
{
	const StatusVm *const *x = a, *const *y = b;

	return g_strcmp0((*x)->name, (*y)->name);
}

/* The host record and the VMs' records (sorted by name; borrowed from
 * the VMs), as the status document and /metrics show them. */
void manager_status_snapshot(Manager *manager, StatusHost *ret_host, GPtrArray *ret_vms)
{
	GHashTableIter iter;
	gpointer value;
	ArbiterStats stats;

	arbiter_get_stats(manager->arbiter, &stats);
	*ret_host = (StatusHost){
		.pid = (int)getpid(),
		.version = PACKAGE_VERSION,
		.started_unix_ms = manager->started_unix_ms,
		.generated_unix_ms = manager_unix_ms(),
		.has_host = true,
		/* Both count boot RAM and QEMU's overhead in (docs/status.md). */
		.budget_bytes = stats.budget_bytes,
		.committed_bytes = stats.committed_bytes,
		.has_arbiter = true,
		.reserved_bytes = stats.reserved_bytes,
		.pool_bytes = stats.pool_bytes,
		.held_bytes = stats.held_bytes,
		.host_short = stats.host_short,
		.host_known = manager->host.known,
		.mem_available_bytes = manager->host.mem_available_bytes,
		.psi_some_avg10 = manager->host.psi_some_avg10,
	};
	g_hash_table_iter_init(&iter, manager->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Vm *vm = value;

		vm_update_status(vm);
		g_ptr_array_add(ret_vms, &vm->status);
	}
	g_ptr_array_sort(ret_vms, manager_status_by_name);
}

/* The whole document, from the main thread's state. */
static char *manager_status_document(Manager *manager, gsize *ret_length)
{
	g_autoptr(GPtrArray) vms = g_ptr_array_new();
	StatusHost host;

	manager_status_snapshot(manager, &host, vms);
	return status_json_format(&host, (const StatusVm *const *)vms->pdata, vms->len, ret_length);
}

static void manager_status_on_incoming(UnixListenerClient *slot, GSocketConnection *connection,
				       GCancellable *cancel, gpointer data)
{
	Manager *manager = data;
	StatusClient *client = g_new0(StatusClient, 1);
	gsize length = 0;

	client->slot = slot;
	client->connection = g_object_ref(connection);
	client->cancel = cancel;
	client->document = manager_status_document(manager, &length);
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
					client->document, length, G_PRIORITY_DEFAULT, client->cancel,
					manager_status_written, client);
}

/* Too many clients, or one that did not read its document in time. */
static void manager_status_on_dropped(const GError *reason, gpointer data)
{
	omemd_log(OMEMD_LOG_DEBUG, "status: %s", reason->message);
}

bool manager_status_start(Manager *manager, GError **error)
{
	struct group *group = getgrnam(manager->config.status_group);
	/* Readable by the status group if it exists, else by root only. */
	UnixListenerServiceConfig config = {
		.socket = {
			.path = manager->status_path,
			.mode = group ? 0660 : 0600,
			.owner = group ? 0 : (uid_t)-1,
			.group = group ? group->gr_gid : (gid_t)-1,
			.backlog = MANAGER_STATUS_BACKLOG,
		},
		.max_clients = MANAGER_STATUS_MAX_CLIENTS,
		.client_timeout_ms = MANAGER_STATUS_TIMEOUT_S * 1000,
		.incoming = manager_status_on_incoming,
		.dropped = manager_status_on_dropped,
		.user_data = manager,
	};
	UnixListenerService *service = unix_listener_service_new(&config, error);

	if (!service) {
		g_prefix_error(error, "status socket: ");
		return false;
	}
	manager->status_service = G_SOCKET_SERVICE(service);
	return true;
}

/* Closes the socket, removes its file (if still ours) and cuts off the
 * clients in flight. */
void manager_status_stop(Manager *manager)
{
	if (!manager->status_service)
		return;
	unix_listener_service_stop(UNIX_LISTENER_SERVICE(manager->status_service));
	g_clear_object(&manager->status_service);
}
