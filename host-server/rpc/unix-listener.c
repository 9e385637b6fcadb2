/* SPDX-License-Identifier: MIT */
/*
 * unix-listener: the one listening unix socket (see unix-listener.h).
 */
#include "config.h"

#include "rpc/unix-listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "omem/autofd.h"

G_STATIC_ASSERT(UNIX_LISTENER_PATH_MAX + 1 == sizeof(((struct sockaddr_un *)0)->sun_path));

/* Set @error from @err and a whole message; returns -@err. */
static int G_GNUC_PRINTF(3, 4) unix_listener_fail(GError **error, int err, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(err), message);
	return -err;
}

/* Does a process listen on the socket at @address?  1 yes, 0 no (nobody,
 * or the file is gone), -errno when it cannot be told.  A live listener
 * sees one connection that closes at once. */
static int unix_listener_probe(const struct sockaddr_un *address)
{
	omem_autofd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* A unix stream connect completes at once or fails; EAGAIN is a
	 * full backlog, i.e. a listener that is busy, not gone. */
	if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) == 0 || errno == EAGAIN)
		return 1;
	if (errno == ECONNREFUSED || errno == ENOENT)
		return 0;
	return -errno;
}

/* Make room at the path: nothing there, or a socket nobody listens on
 * (removed); a live socket or any other file is refused. */
static int unix_listener_clear_path(const UnixListenerConfig *config,
                                    const struct sockaddr_un *address, GError **error)
{
	const char *path = config->path;
	struct stat st;
	int live;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return unix_listener_fail(error, errno, "cannot look at %s: %s; check that its folder exists and belongs to omemd",
		                          path, g_strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return unix_listener_fail(error, EEXIST, "refusing to replace %s: it exists and is not a socket; remove it or choose another path",
		                          path);
	if (!config->replace_listening) {
		live = unix_listener_probe(address);
		if (live > 0)
			return unix_listener_fail(error, EADDRINUSE, "refusing to replace %s: a live process is listening on it (another omemd with the same run dir?); stop it first",
			                          path);
		if (live < 0)
			return unix_listener_fail(error, -live, "refusing to replace %s: cannot tell whether a process listens on it: %s; remove it if nobody does",
			                          path, g_strerror(-live));
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return unix_listener_fail(error, errno, "cannot remove the stale socket %s: %s; check that its folder belongs to omemd",
		                          path, g_strerror(errno));
	return 0;
}

/* The bound file gets its owner and its exact mode, then the socket
 * listens: connect() needs a listening socket, so until listen() no client
 * is let in, whatever the file looked like. */
static int unix_listener_finish(int fd, const UnixListenerConfig *config, struct stat *ret_st,
                                GError **error)
{
	const char *path = config->path;

	if (lstat(path, ret_st) < 0)
		return unix_listener_fail(error, errno, "cannot set up %s after binding it: %s; check the folder's file system",
		                          path, g_strerror(errno));
	if ((config->owner != (uid_t)-1 || config->group != (gid_t)-1) &&
	    fchownat(AT_FDCWD, path, config->owner, config->group, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;

		return unix_listener_fail(error, err, "cannot give %s to uid %d, gid %d: %s; giving a socket to another user or group needs root",
		                          path, config->owner == (uid_t)-1 ? -1 : (int)config->owner,
		                          config->group == (gid_t)-1 ? -1 : (int)config->group,
		                          g_strerror(err));
	}
	/* A strict umask took bits that clients need (bind() applies it). */
	if ((ret_st->st_mode & 07777) != config->mode && chmod(path, config->mode) < 0)
		return unix_listener_fail(error, errno, "cannot set the mode of %s to %04o: %s",
		                          path, (unsigned)config->mode, g_strerror(errno));
	if (listen(fd, config->backlog) < 0)
		return unix_listener_fail(error, errno, "cannot listen on %s: %s", path,
		                          g_strerror(errno));
	return 0;
}

int unix_listener_open(const UnixListenerConfig *config, UnixListenerFile *ret_file,
                       GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	omem_autofd int fd = -1;
	struct stat st;
	int r;

	g_return_val_if_fail(config != NULL, -EINVAL);
	g_return_val_if_fail(error == NULL || *error == NULL, -EINVAL);

	if (!config->path || !config->path[0])
		return unix_listener_fail(error, EINVAL, "no socket path given");
	if (strlen(config->path) > UNIX_LISTENER_PATH_MAX)
		return unix_listener_fail(error, EINVAL, "socket path %s is longer than the %d bytes a unix socket address holds; choose a shorter path",
		                          config->path, UNIX_LISTENER_PATH_MAX);
	memcpy(address.sun_path, config->path, strlen(config->path));

	r = unix_listener_clear_path(config, &address, error);
	if (r < 0)
		return r;

	/* bind() creates the file with the socket inode's mode less the
	 * umask, so it never exists with a wider mode than asked; no
	 * process-wide umask change, which would race with other threads. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || fchmod(fd, config->mode) < 0)
		return unix_listener_fail(error, errno, "cannot create a socket for %s: %s; check the file descriptor limit",
		                          config->path, g_strerror(errno));
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return unix_listener_fail(error, errno, "cannot bind %s: %s; check that the folder exists and belongs to omemd",
		                          config->path, g_strerror(errno));
	r = unix_listener_finish(fd, config, &st, error);
	if (r < 0) {
		unlink(config->path); /* just bound: ours */
		return r;
	}
	if (ret_file)
		*ret_file = (UnixListenerFile){ .dev = st.st_dev, .ino = st.st_ino };
	return g_steal_fd(&fd);
}

bool unix_listener_unlink(const char *path, const UnixListenerFile *file)
{
	struct stat st;

	if (!path || !file || file->ino == 0)
		return false;
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != file->dev ||
	    st.st_ino != file->ino)
		return false;
	return unlink(path) == 0;
}

/* ------------------------------------------------------------ service */

struct _UnixListenerClient {
	UnixListenerService *service; /* NULL once the service stopped */
	GCancellable *cancel;         /* handed to the caller for all its I/O */
	GSource *timeout;             /* the client's time, NULL once it ran */
};

struct _UnixListenerService {
	GSocketService parent;

	/* Configuration, fixed by unix_listener_service_new(). */
	char *path;
	UnixListenerFile file; /* what we bound, removed at stop */
	unsigned max_clients;
	unsigned client_timeout_ms;
	void (*incoming)(UnixListenerClient *client, GSocketConnection *connection,
	                 GCancellable *cancel, gpointer user_data);
	void (*dropped)(const GError *reason, gpointer user_data);
	gpointer user_data;

	gboolean stopped;   /* unix_listener_service_stop() ran */
	GPtrArray *clients; /* UnixListenerClient in flight, not owned */
};

G_DEFINE_FINAL_TYPE(UnixListenerService, unix_listener_service, G_TYPE_SOCKET_SERVICE)

/* Report what the service dropped.  Takes @reason. */
static void unix_listener_service_report(UnixListenerService *service, GError *reason)
{
	if (service->dropped)
		service->dropped(reason, service->user_data);
	g_error_free(reason);
}

/* Cancel @cancel, which may free the client that holds it: a callback
 * can run inside g_cancellable_cancel() and call client_done. */
static void unix_listener_cancel(GCancellable *cancel)
{
	g_autoptr(GCancellable) held = g_object_ref(cancel);

	g_cancellable_cancel(held);
}

static gboolean unix_listener_client_on_timeout(gpointer data)
{
	UnixListenerClient *client = data;

	g_clear_pointer(&client->timeout, g_source_unref);
	if (client->service)
		unix_listener_service_report(client->service,
			g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			            "a client did not finish within %u ms; cut off",
			            client->service->client_timeout_ms));
	/* Its I/O in flight ends with CANCELLED; the caller then frees it. */
	unix_listener_cancel(client->cancel);
	return G_SOURCE_REMOVE;
}

static gboolean unix_listener_service_incoming(GSocketService *socket_service,
                                               GSocketConnection *connection,
                                               GObject *source_object)
{
	UnixListenerService *service = UNIX_LISTENER_SERVICE(socket_service);
	UnixListenerClient *client;

	if (service->clients->len >= service->max_clients) {
		unix_listener_service_report(service,
			g_error_new(G_IO_ERROR, G_IO_ERROR_BUSY,
			            "%u clients already being served; connection closed",
			            service->clients->len));
		return FALSE; /* GSocketService drops the last reference: closed */
	}
	client = g_new0(UnixListenerClient, 1);
	client->service = service;
	client->cancel = g_cancellable_new();
	client->timeout = g_timeout_source_new(service->client_timeout_ms);
	g_source_set_callback(client->timeout, unix_listener_client_on_timeout, client, NULL);
	g_source_attach(client->timeout, g_main_context_get_thread_default());
	g_ptr_array_add(service->clients, client);
	service->incoming(client, connection, client->cancel, service->user_data);
	return TRUE;
}

void unix_listener_client_done(UnixListenerClient *client)
{
	if (!client)
		return;
	if (client->timeout) {
		g_source_destroy(client->timeout);
		g_clear_pointer(&client->timeout, g_source_unref);
	}
	if (client->service)
		g_ptr_array_remove_fast(client->service->clients, client);
	g_object_unref(client->cancel);
	g_free(client);
}

void unix_listener_service_stop(UnixListenerService *service)
{
	g_autoptr(GPtrArray) clients = NULL;

	if (!service || service->stopped)
		return;
	service->stopped = TRUE;
	g_socket_service_stop(G_SOCKET_SERVICE(service));
	g_socket_listener_close(G_SOCKET_LISTENER(service));
	unix_listener_unlink(service->path, &service->file);

	/* Detach every client first: a cancel may free one at once. */
	clients = g_steal_pointer(&service->clients);
	service->clients = g_ptr_array_new();
	for (guint i = 0; i < clients->len; i++)
		((UnixListenerClient *)g_ptr_array_index(clients, i))->service = NULL;
	for (guint i = 0; i < clients->len; i++)
		unix_listener_cancel(((UnixListenerClient *)g_ptr_array_index(clients, i))->cancel);
}

static void unix_listener_service_finalize(GObject *object)
{
	UnixListenerService *service = UNIX_LISTENER_SERVICE(object);

	unix_listener_service_stop(service);
	g_ptr_array_unref(service->clients);
	g_free(service->path);
	G_OBJECT_CLASS(unix_listener_service_parent_class)->finalize(object);
}

static void unix_listener_service_class_init(UnixListenerServiceClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = unix_listener_service_finalize;
	G_SOCKET_SERVICE_CLASS(klass)->incoming = unix_listener_service_incoming;
}

static void unix_listener_service_init(UnixListenerService *service)
{
	service->clients = g_ptr_array_new();
}

UnixListenerService *unix_listener_service_new(const UnixListenerServiceConfig *config,
                                               GError **error)
{
	g_autoptr(UnixListenerService) service = NULL;
	g_autoptr(GSocket) socket = NULL;
	UnixListenerFile file;
	int fd;

	g_return_val_if_fail(config != NULL && config->incoming != NULL, NULL);
	g_return_val_if_fail(config->max_clients > 0 && config->client_timeout_ms > 0, NULL);

	fd = unix_listener_open(&config->socket, &file, error);
	if (fd < 0)
		return NULL;
	socket = g_socket_new_from_fd(fd, error);
	if (!socket) {
		close(fd);
		unix_listener_unlink(config->socket.path, &file);
		return NULL;
	}

	service = g_object_new(UNIX_LISTENER_TYPE_SERVICE, NULL);
	service->path = g_strdup(config->socket.path);
	service->file = file; /* from here on, stop (and finalize) remove it */
	service->max_clients = config->max_clients;
	service->client_timeout_ms = config->client_timeout_ms;
	service->incoming = config->incoming;
	service->dropped = config->dropped;
	service->user_data = config->user_data;
	if (!g_socket_listener_add_socket(G_SOCKET_LISTENER(service), socket, NULL, error))
		return NULL;
	g_socket_service_start(G_SOCKET_SERVICE(service));
	return g_steal_pointer(&service);
}
