/* SPDX-License-Identifier: MIT */
/*
 * manager-admission.c: the admission socket RUN_DIR/admission.sock
 * (docs/admission.md).  libvirt's qemu hook (omem-qemu-hook) connects at
 * "prepare begin" of an omem VM, sends one request line and waits for one
 * reply line: may this VM's contract min be covered by the budget?
 * manager_admit (at the end) asks the arbiter; the rest carries the lines.
 *
 * Everything runs on the main thread with non-blocking asynchronous I/O:
 * a client that stalls, sends too much or sends garbage is cut off with
 * one log line after at most ADMISSION_TIMEOUT_MS, never blocks the
 * daemon, and costs at most one ADMISSION_LINE_MAX buffer.  The socket is
 * mode 0600: only root, i.e. libvirtd's hook, may ask.
 */
#include "config.h"

#include <string.h>

#include "daemon/manager-private.h"
#include "formats/admission-state.h"
#include "daemon/omemd-log.h"
#include "rpc/unix-listener.h"

/* Clients served at once; more are closed at once (their hook then
 * admits or refuses as its --fail-closed says).  libvirt runs one hook
 * per domain start, and a host starts far fewer VMs than this at once. */
#define MANAGER_ADMISSION_MAX_CLIENTS 16

/* Connections the kernel queues until omemd accepts them: GIO's default,
 * which the socket had before it was opened by unix_listener_open(). */
#define MANAGER_ADMISSION_BACKLOG 10

/* One exchange with one client. */
typedef struct {
	Manager *manager;                /* NULL once the socket stopped */
	UnixListenerClient *slot;        /* its place among the clients served */
	GSocketConnection *connection;
	GCancellable *cancel;            /* the slot's: cancels the one read or write in
					  * flight at ADMISSION_TIMEOUT_MS or at stop */
	gsize received;
	char line[ADMISSION_LINE_MAX];   /* the request as read so far */
	char *reply;                     /* being written */
} AdmissionClient;

static void admission_client_free(AdmissionClient *client)
{
	if (client->manager)
		g_ptr_array_remove_fast(client->manager->admission_clients, client);
	g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
	g_object_unref(client->connection);
	g_free(client->reply);
	unix_listener_client_done(client->slot);
	g_free(client);
}

static void manager_admission_written(GObject *source, GAsyncResult *result, gpointer data)
{
	AdmissionClient *client = data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error) &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		omemd_log(OMEMD_LOG_DEBUG, "admission: writing a reply failed: %s", error->message);
	admission_client_free(client);
}

/* A whole request line is in: decide, log, reply. */
static void manager_admission_answer(AdmissionClient *client, gsize length)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *message = NULL, *line = NULL, *min = NULL;
	AdmissionRequest request;
	gsize reply_length = 0;
	bool admit;

	if (!client->manager) {
		/* The socket stopped as the request came in: nobody to ask. */
		admission_client_free(client);
		return;
	}
	if (length != client->received) {
		omemd_log(OMEMD_LOG_WARNING, "admission: a client sent bytes after its request line; cut off");
		admission_client_free(client);
		return;
	}
	if (!admission_request_parse(client->line, length, &request, &error)) {
		omemd_log(OMEMD_LOG_WARNING, "admission: a client sent an invalid request; cut off: %s",
			  error->message);
		admission_client_free(client);
		return;
	}
	admit = manager_admit(client->manager, &request, &message);
	/* Before the answer: a crash after it must not forget the VM. */
	manager_admission_save(client->manager);
	/* The log and the hook get the same one line. */
	line = admission_message_line(message);
	min = manager_size(request.min_bytes);
	omemd_log(OMEMD_LOG_INFO, "admission: %s (%s) min %s: %s: %s", request.name, request.uuid, min,
		  admit ? "admitted" : "refused", line);
	client->reply = admission_reply_format(admit, line, &reply_length);
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(client->connection)),
					client->reply, reply_length, G_PRIORITY_DEFAULT, client->cancel,
					manager_admission_written, client);
}

static void manager_admission_read_more(AdmissionClient *client);

static void manager_admission_on_read(GObject *source, GAsyncResult *result, gpointer data)
{
	AdmissionClient *client = data;
	g_autoptr(GError) error = NULL;
	const char *newline;
	gssize n;

	n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
	if (n < 0) {
		/* CANCELLED: the timeout logged it, or the socket stopped. */
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			omemd_log(OMEMD_LOG_DEBUG, "admission: reading a request failed: %s",
				  error->message);
		admission_client_free(client);
		return;
	}
	if (n == 0) {
		omemd_log(OMEMD_LOG_DEBUG, "admission: a client closed before a whole request");
		admission_client_free(client);
		return;
	}
	client->received += (gsize)n;
	newline = memchr(client->line, '\n', client->received);
	if (newline) {
		manager_admission_answer(client, (gsize)(newline - client->line) + 1);
		return;
	}
	if (client->received == sizeof(client->line)) {
		omemd_log(OMEMD_LOG_WARNING, "admission: a client sent more than %d bytes without a newline; cut off",
			  ADMISSION_LINE_MAX);
		admission_client_free(client);
		return;
	}
	manager_admission_read_more(client);
}

static void manager_admission_read_more(AdmissionClient *client)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(client->connection)),
				  client->line + client->received, sizeof(client->line) - client->received,
				  G_PRIORITY_DEFAULT, client->cancel, manager_admission_on_read, client);
}

static void manager_admission_on_incoming(UnixListenerClient *slot, GSocketConnection *connection,
					  GCancellable *cancel, gpointer data)
{
	Manager *manager = data;
	AdmissionClient *client = g_new0(AdmissionClient, 1);

	client->manager = manager;
	client->slot = slot;
	client->connection = g_object_ref(connection);
	client->cancel = cancel;
	g_ptr_array_add(manager->admission_clients, client);
	manager_admission_read_more(client);
}

/* Too many clients, or one that did not finish its exchange in time. */
static void manager_admission_on_dropped(const GError *reason, gpointer data)
{
	omemd_log(OMEMD_LOG_WARNING, "admission: %s", reason->message);
}

bool manager_admission_start(Manager *manager, GError **error)
{
	UnixListenerServiceConfig config = {
		/* Root only: the hook runs as root, and nobody else has a VM
		 * start to ask about.  omemd runs as root, so the socket is
		 * root's. */
		.socket = {
			.mode = 0600,
			.owner = (uid_t)-1,
			.group = (gid_t)-1,
			.backlog = MANAGER_ADMISSION_BACKLOG,
		},
		.max_clients = MANAGER_ADMISSION_MAX_CLIENTS,
		.client_timeout_ms = ADMISSION_TIMEOUT_MS,
		.incoming = manager_admission_on_incoming,
		.dropped = manager_admission_on_dropped,
		.user_data = manager,
	};
	UnixListenerService *service;

	manager->admission_path = g_build_filename(manager->config.run_dir, ADMISSION_SOCKET_NAME, NULL);
	manager->admission_clients = g_ptr_array_new();
	config.socket.path = manager->admission_path;
	service = unix_listener_service_new(&config, error);
	if (!service) {
		g_prefix_error(error, "admission socket: ");
		manager_admission_stop(manager);
		return false;
	}
	manager->admission_service = G_SOCKET_SERVICE(service);
	return true;
}

void manager_admission_stop(Manager *manager)
{
	/* Clients in flight no longer touch the manager, which may be gone;
	 * stopping the service cancels their I/O, and each then ends on its
	 * own. */
	if (manager->admission_clients) {
		for (guint i = 0; i < manager->admission_clients->len; i++) {
			AdmissionClient *client = g_ptr_array_index(manager->admission_clients, i);

			client->manager = NULL;
		}
		g_clear_pointer(&manager->admission_clients, g_ptr_array_unref);
	}
	if (manager->admission_service) {
		unix_listener_service_stop(UNIX_LISTENER_SERVICE(manager->admission_service));
		g_clear_object(&manager->admission_service);
	}
	g_clear_pointer(&manager->admission_path, g_free);
	/* The saved reservations stay on disk: the next omemd reads them. */
	g_clear_pointer(&manager->admission_state_path, g_free);
}

bool manager_admit(Manager *manager, const AdmissionRequest *request, char **ret_message)
{
	ArbiterContract contract = {
		.boot_bytes = request->boot_bytes,
		.min_bytes = request->min_bytes,
		.cap_bytes = request->cap_bytes,
		.max_bytes = request->max_bytes,
		.block_bytes = request->block_bytes,
	};
	ArbiterAdmitResult result;
	g_autofree char *needed = NULL, *budget = NULL, *committed = NULL, *reserved = NULL;
	g_autofree char *free_text = NULL, *min = NULL;
	uint64_t used;

	if (!g_pattern_match_simple(manager->config.domains, request->name)) {
		*ret_message = g_strdup_printf("%s is not managed by this omemd ([daemon] domains = %s)",
					       request->name, manager->config.domains);
		return true;
	}
	if (arbiter_admit(manager->arbiter, request->uuid, &contract, manager_now_ms(), &result) < 0) {
		*ret_message = g_strdup_printf("%s: its contract makes no sense (boot, min, cap, max)",
					       request->name);
		return false;
	}
	needed = manager_size(result.needed_bytes);
	budget = manager_size(result.budget_bytes);
	committed = manager_size(result.committed_bytes);
	reserved = manager_size(result.reserved_bytes);
	min = manager_size(request->min_bytes);
	used = result.committed_bytes + result.reserved_bytes;
	free_text = manager_size(result.budget_bytes > used ? result.budget_bytes - used : 0);
	*ret_message = g_strdup_printf("%s needs %s (min %s + QEMU overhead); %s free of the %s budget (%s committed to running VMs, %s reserved for starting ones)",
				       request->name, needed, min, free_text, budget, committed, reserved);
	return result.admitted;
}

/* ------------------------------------------------- reservations saved */

/* One file write: the arbiter's reservations, wall-clock expiries. */
void manager_admission_save(Manager *manager)
{
	g_autofree ArbiterReservationInfo *infos = NULL;
	g_autofree AdmissionStateEntry *entries = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	ArbiterStats stats;
	size_t count, n = 0;
	int64_t now_ms = manager_now_ms(), unix_ms = manager_unix_ms();

	if (!manager->arbiter || !manager->admission_state_path)
		return;
	count = arbiter_reservations(manager->arbiter, NULL, 0);
	arbiter_get_stats(manager->arbiter, &stats);
	if (count == manager->saved_reservations && stats.reserved_bytes == manager->saved_reserved_bytes)
		return;
	infos = g_new(ArbiterReservationInfo, count ? count : 1);
	entries = g_new0(AdmissionStateEntry, count ? count : 1);
	count = MIN(arbiter_reservations(manager->arbiter, infos, count), count);
	for (size_t i = 0; i < count; i++) {
		/* Keys are UUIDs (manager_admit); anything else is not saved. */
		if (strlen(infos[i].key) != ADMISSION_UUID_LENGTH)
			continue;
		memcpy(entries[n].uuid, infos[i].key, ADMISSION_UUID_LENGTH + 1);
		entries[n].bytes = infos[i].bytes;
		entries[n].expires_unix_ms = unix_ms + (infos[i].expires_ms - now_ms);
		n++;
	}
	text = admission_state_format(entries, n);
	if (!g_file_set_contents_full(manager->admission_state_path, text, -1,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		omemd_log(OMEMD_LOG_WARNING, "admission: cannot save the reservations: %s; an omemd restart before those VMs start would forget them",
			  error->message);
		return;
	}
	manager->saved_reservations = count;
	manager->saved_reserved_bytes = stats.reserved_bytes;
}

void manager_admission_restore(Manager *manager)
{
	g_autofree char *text = NULL;
	g_autoptr(GArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	int64_t now_ms = manager_now_ms(), unix_ms = manager_unix_ms();
	unsigned int restored = 0, lapsed = 0;
	uint64_t bytes = 0;
	gsize length;

	manager->admission_state_path = g_build_filename(manager->config.run_dir, "admission.state", NULL);
	if (!g_file_get_contents(manager->admission_state_path, &text, &length, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			omemd_log(OMEMD_LOG_WARNING, "admission: cannot read %s: %s; no reservation restored",
				  manager->admission_state_path, error->message);
		return;
	}
	if (!admission_state_parse(text, length, &entries, &error)) {
		omemd_log(OMEMD_LOG_WARNING, "admission: %s: %s; no reservation restored",
			  manager->admission_state_path, error->message);
		return;
	}
	for (guint i = 0; i < entries->len; i++) {
		const AdmissionStateEntry *entry = &g_array_index(entries, AdmissionStateEntry, i);
		int64_t expires_ms = now_ms + (entry->expires_unix_ms - unix_ms);

		if (arbiter_admit_restore(manager->arbiter, entry->uuid, entry->bytes, expires_ms, now_ms) == 0) {
			restored++;
			bytes += entry->bytes;
		} else {
			lapsed++;
		}
	}
	if (restored || lapsed) {
		g_autofree char *size = manager_size(bytes);

		omemd_log(OMEMD_LOG_INFO, "admission: %u reservation(s) of VMs not started yet restored from %s (%s); %u lapsed",
			  restored, manager->admission_state_path, size, lapsed);
	}
}
