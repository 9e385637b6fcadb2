/* SPDX-License-Identifier: MIT */
/*
 * manager-status.c: the read-only status socket RUN_DIR/status.sock
 * (docs/status.md).  Each connection gets one JSON document, written from
 * the main thread's state with no libvirt call, by a non-blocking
 * asynchronous write; a client that does not read it within
 * MANAGER_STATUS_TIMEOUT_S is cut off.  Nothing is read from clients.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

/* virt-omem waits 2 s for the whole document; a client slower than this
 * is not a status reader, and its connection costs omemd a socket. */
#define MANAGER_STATUS_TIMEOUT_S 5

/* Connections served at once; more are closed at once, so a client that
 * opens many and never reads cannot pin omemd's memory. */
#define MANAGER_STATUS_MAX_CLIENTS 64

/* One client being written to. */
typedef struct {
	Manager *manager;
	GSocketConnection *connection;
	GCancellable *cancel;
	char *document;
	guint timeout;
} StatusClient;

static unsigned manager_status_clients;

static void status_client_free(StatusClient *client)
{
	if (client->timeout)
		g_source_remove(client->timeout);
	g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
	g_object_unref(client->connection);
	g_object_unref(client->cancel);
	g_free(client->document);
	g_free(client);
	manager_status_clients--;
}

static gboolean manager_status_on_timeout(gpointer data)
{
	StatusClient *client = data;

	client->timeout = 0;
	omemd_log(OMEMD_LOG_DEBUG, "status: a client did not read its document within %d s; cut off",
		  MANAGER_STATUS_TIMEOUT_S);
	g_cancellable_cancel(client->cancel);
	return G_SOURCE_REMOVE;
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

static gboolean manager_status_on_incoming(GSocketService *service, GSocketConnection *connection,
					   GObject *source, gpointer data)
{
	Manager *manager = data;
	StatusClient *client;
	gsize length = 0;

	if (manager_status_clients >= MANAGER_STATUS_MAX_CLIENTS) {
		omemd_log(OMEMD_LOG_DEBUG, "status: %u clients already being served; connection closed",
			  manager_status_clients);
		return FALSE; /* GSocketService closes it */
	}
	manager_status_clients++;
	client = g_new0(StatusClient, 1);
	client->manager = manager;
	client->connection = g_object_ref(connection);
	client->cancel = g_cancellable_new();
	client->document = manager_status_document(manager, &length);
	client->timeout = g_timeout_add_seconds(MANAGER_STATUS_TIMEOUT_S, manager_status_on_timeout, client);
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
					client->document, length, G_PRIORITY_DEFAULT, client->cancel,
					manager_status_written, client);
	return TRUE;
}

bool manager_status_start(Manager *manager, GError **error)
{
	g_autoptr(GSocketAddress) address = NULL;
	struct group *group = getgrnam(manager->config.status_group);
	struct stat st;

	/* A stale socket from a killed omemd; anything else is an error. */
	if (lstat(manager->status_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
				    "%s exists and is not a socket; remove it or choose another --run-dir",
				    manager->status_path);
			return false;
		}
		g_unlink(manager->status_path);
	}
	manager->status_service = g_socket_service_new();
	address = g_unix_socket_address_new(manager->status_path);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(manager->status_service), address,
					   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL,
					   error)) {
		g_prefix_error(error, "cannot listen on %s: ", manager->status_path);
		return false;
	}
	/* Readable by the status group if it exists, else by root only. */
	if (group ? (chown(manager->status_path, 0, group->gr_gid) < 0 ||
		     chmod(manager->status_path, 0660) < 0) :
		    chmod(manager->status_path, 0600) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot set the owner or mode of %s: %s", manager->status_path,
			    g_strerror(errno));
		return false;
	}
	g_signal_connect(manager->status_service, "incoming", G_CALLBACK(manager_status_on_incoming),
			 manager);
	g_socket_service_start(manager->status_service);
	return true;
}

void manager_status_stop(Manager *manager)
{
	if (!manager->status_service)
		return;
	g_socket_service_stop(manager->status_service);
	g_socket_listener_close(G_SOCKET_LISTENER(manager->status_service));
	g_clear_object(&manager->status_service);
	g_unlink(manager->status_path);
}
