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

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

/* Clients served at once; more are closed at once (their hook then
 * admits or refuses as its --fail-closed says).  libvirt runs one hook
 * per domain start, and a host starts far fewer VMs than this at once. */
#define MANAGER_ADMISSION_MAX_CLIENTS 16

/* One exchange with one client. */
typedef struct {
	Manager *manager;                /* NULL once the socket stopped */
	GSocketConnection *connection;
	GCancellable *cancel;            /* cancels the one read or write in flight */
	guint timeout;                   /* cuts the client off at ADMISSION_TIMEOUT_MS */
	gsize received;
	char line[ADMISSION_LINE_MAX];   /* the request as read so far */
	char *reply;                     /* being written */
} AdmissionClient;

static void admission_client_free(AdmissionClient *client)
{
	if (client->manager)
		g_ptr_array_remove_fast(client->manager->admission_clients, client);
	if (client->timeout)
		g_source_remove(client->timeout);
	g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
	g_object_unref(client->connection);
	g_object_unref(client->cancel);
	g_free(client->reply);
	g_free(client);
}

static gboolean manager_admission_on_timeout(gpointer data)
{
	AdmissionClient *client = data;

	client->timeout = 0;
	omemd_log(OMEMD_LOG_WARNING, "admission: a client did not finish its exchange within %d ms; cut off",
		  ADMISSION_TIMEOUT_MS);
	/* The read or write in flight ends with CANCELLED and frees it. */
	g_cancellable_cancel(client->cancel);
	return G_SOURCE_REMOVE;
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

static gboolean manager_admission_on_incoming(GSocketService *service, GSocketConnection *connection,
					      GObject *source, gpointer data)
{
	Manager *manager = data;
	AdmissionClient *client;

	if (manager->admission_clients->len >= MANAGER_ADMISSION_MAX_CLIENTS) {
		omemd_log(OMEMD_LOG_WARNING, "admission: %u clients already being served; connection closed",
			  manager->admission_clients->len);
		return FALSE; /* GSocketService closes it */
	}
	client = g_new0(AdmissionClient, 1);
	client->manager = manager;
	client->connection = g_object_ref(connection);
	client->cancel = g_cancellable_new();
	client->timeout = g_timeout_add(ADMISSION_TIMEOUT_MS, manager_admission_on_timeout, client);
	g_ptr_array_add(manager->admission_clients, client);
	manager_admission_read_more(client);
	return TRUE;
}

bool manager_admission_start(Manager *manager, GError **error)
{
	g_autoptr(GSocketAddress) address = NULL;
	struct stat st;

	manager->admission_path = g_build_filename(manager->config.run_dir, ADMISSION_SOCKET_NAME, NULL);
	/* A stale socket from a killed omemd; anything else is an error. */
	if (lstat(manager->admission_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
				    "%s exists and is not a socket; remove it or choose another --run-dir",
				    manager->admission_path);
			goto out_fail;
		}
		g_unlink(manager->admission_path);
	}
	manager->admission_clients = g_ptr_array_new();
	manager->admission_service = g_socket_service_new();
	address = g_unix_socket_address_new(manager->admission_path);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(manager->admission_service), address,
					   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL,
					   error)) {
		g_prefix_error(error, "cannot listen on %s: ", manager->admission_path);
		goto out_fail;
	}
	/* Root only: the hook runs as root, and nobody else has a VM start
	 * to ask about.  omemd runs as root, so the socket is root's. */
	if (chmod(manager->admission_path, 0600) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot set the mode of %s: %s", manager->admission_path, g_strerror(errno));
		goto out_fail;
	}
	g_signal_connect(manager->admission_service, "incoming",
			 G_CALLBACK(manager_admission_on_incoming), manager);
	g_socket_service_start(manager->admission_service);
	return true;

out_fail:
	manager_admission_stop(manager);
	return false;
}

void manager_admission_stop(Manager *manager)
{
	if (manager->admission_service) {
		g_socket_service_stop(manager->admission_service);
		g_socket_listener_close(G_SOCKET_LISTENER(manager->admission_service));
		g_clear_object(&manager->admission_service);
		g_unlink(manager->admission_path);
	}
	/* Clients in flight end on their own when their I/O reports the
	 * cancel; they no longer touch the manager, which may be gone. */
	if (manager->admission_clients) {
		for (guint i = 0; i < manager->admission_clients->len; i++) {
			AdmissionClient *client = g_ptr_array_index(manager->admission_clients, i);

			client->manager = NULL;
			g_cancellable_cancel(client->cancel);
		}
		g_clear_pointer(&manager->admission_clients, g_ptr_array_unref);
	}
	g_clear_pointer(&manager->admission_path, g_free);
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
