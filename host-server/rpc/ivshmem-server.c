/* SPDX-License-Identifier: MIT */
/*
 * ivshmem-server: the ivshmem server of one VM (see ivshmem-server.h and
 * docs/transport.md).
 *
 * Wire protocol (QEMU docs/specs/ivshmem-spec.txt): the server sends
 * little-endian int64 messages, some carrying one fd by SCM_RIGHTS, and
 * reads nothing.  On connect, in this order:
 *
 *   0                           protocol version
 *   guest peer id               the client's own id
 *   -1 + memfd                  the shared region
 *   server peer id x vectors    + the server's eventfds; QEMU writes one
 *                               when the guest rings (server id << 16 | v)
 *   guest peer id x vectors     + the guest's eventfds; the server writes
 *                               one to raise the guest's MSI-X vector v
 *
 * QEMU reads all of it synchronously while it realizes the device.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, accept4, struct ucred */
#endif

#include "config.h"

#include "rpc/ivshmem-server.h"
#include "rpc/unix-listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "omem/autofd.h"
#include "omem/rpc.h"

/* Version of the ivshmem client-server protocol (QEMU >= 2.5). */
#define IVSHMEM_PROTOCOL_VERSION 0

/* The message that carries the shared memory fd. */
#define IVSHMEM_PROTOCOL_SHM_ID (-1)

/* Sent instead of the version to a refused client, and after a handshake
 * that failed part way.  QEMU (7.2) spins forever inside device realize,
 * holding its main loop and libvirt's attach call, when the server closes
 * before the handshake is complete; -1 without an fd is invalid at every
 * step of it, so QEMU fails cleanly instead ("server sent version -1,
 * expecting 0" for a refusal). */
#define IVSHMEM_PROTOCOL_REFUSED_VERSION (-1)

/* One QEMU per server; a few more queued connections let a refused or
 * second client be accepted and closed at once instead of waiting. */
#define IVSHMEM_SERVER_BACKLOG 4

/* QEMU never sends anything.  A client that does is read in chunks of this
 * size, one per wakeup so it cannot monopolise the transport thread... */
#define IVSHMEM_SERVER_READ_CHUNK 512
/* ...and cut off once it has sent this much in total. */
#define IVSHMEM_SERVER_MAX_UNEXPECTED_BYTES 4096u

/* accept() failing for want of fds or memory would leave the socket
 * readable and spin the loop; stop watching it for this long instead. */
#define IVSHMEM_SERVER_ACCEPT_RETRY_MS 1000u

/* One vector of the server's own peer: QEMU writes its eventfd when the
 * guest rings the doorbell with that vector. */
typedef struct {
	IvshmemServer *server; /* back pointer for the source callback */
	unsigned vector;       /* doorbell vector this eventfd stands for */
	int fd;                /* eventfd, -1 once closed */
	GSource *source;       /* watches fd on server->context */
} IvshmemServerDoorbell;

struct _IvshmemServer {
	/* Configuration, immutable after ivshmem_server_new(). */
	char *socket_path;
	size_t region_size;
	unsigned vectors;
	unsigned peer_id;
	uid_t allowed_uid;
	gboolean allow_root;
	pid_t allowed_pid;
	gboolean allow_any_pid;
	IvshmemServerCallbacks callbacks;
	gpointer user_data;

	/* Resources, created by ivshmem_server_new(). */
	int region_fd;        /* sealed memfd behind BAR2 */
	void *region;         /* its mapping, region_size bytes */
	int listen_fd;        /* bound and listening unix socket */
	UnixListenerFile socket_file; /* the file it bound: free() unlinks
	                               * ours and nobody else's */
	IvshmemServerDoorbell *doorbells; /* [vectors] */

	/* Context state: touched only on the context's thread. */
	GMainContext *context;   /* NULL until ivshmem_server_start() */
	GSource *listen_source;  /* NULL while backing off after accept errors */
	GSource *retry_source;   /* that back-off timer, else NULL */
	gboolean accept_failing; /* an accept error was reported already */
	int guest_fd;            /* QEMU's connection, -1 when none */
	pid_t guest_pid;         /* its pid, for messages */
	GSource *guest_source;   /* watches guest_fd */
	size_t guest_unexpected_bytes; /* what QEMU should never have sent */
	unsigned next_guest_peer_id;   /* id the next connection gets */

	/* guest_lock protects guest_connected, guest_peer_id and
	 * guest_eventfds, which ivshmem_server_notify_guest() reads from any
	 * thread; they are written on the context's thread only. */
	GMutex guest_lock;
	gboolean guest_connected;
	unsigned guest_peer_id;
	int *guest_eventfds; /* [vectors], -1 when no guest */
};

static void ivshmem_server_destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

/* Watch @fd on the server's context; @func is a GUnixFDSourceFunc. */
static GSource *ivshmem_server_watch_fd(IvshmemServer *server, int fd,
                                        GIOCondition condition,
                                        GUnixFDSourceFunc func,
                                        gpointer user_data)
{
	GSource *source = g_unix_fd_source_new(fd, condition);

	g_source_set_callback(source, G_SOURCE_FUNC(func), user_data, NULL);
	g_source_attach(source, server->context);
	return source;
}

/* Report a connection the server closed on its own.  Takes @reason. */
static void ivshmem_server_report_dropped(IvshmemServer *server, GError *reason)
{
	if (server->callbacks.connection_dropped)
		server->callbacks.connection_dropped(server, reason, server->user_data);
	g_error_free(reason);
}

static gboolean ivshmem_server_config_valid(const IvshmemServerConfig *config,
                                            GError **error)
{
	size_t size = config->region_size;

	/* Its length is unix_listener_open()'s to check. */
	if (!config->socket_path || !config->socket_path[0]) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "ivshmem server: no socket path given; set the path QEMU connects to (libvirt <server path='...'/>)");
		return FALSE;
	}
	if (size < OMEM_RPC_REGION_MIN_SIZE || size > OMEM_RPC_REGION_MAX_SIZE ||
	    (size & (size - 1)) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "ivshmem region size %zu for %s is invalid: it must be a power of two from %u to %u bytes (QEMU asserts a power of two; a larger BAR does not fit the PCI bridge window)",
		            size, config->socket_path, OMEM_RPC_REGION_MIN_SIZE,
		            OMEM_RPC_REGION_MAX_SIZE);
		return FALSE;
	}
	if (config->vectors < 1 || config->vectors > IVSHMEM_SERVER_MAX_VECTORS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "ivshmem vector count %u for %s is invalid: it must be 1 to %u and match the device's <msi vectors>",
		            config->vectors, config->socket_path, IVSHMEM_SERVER_MAX_VECTORS);
		return FALSE;
	}
	if (config->server_peer_id > IVSHMEM_SERVER_MAX_PEER_ID) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "ivshmem server peer id %u for %s is invalid: the doorbell register holds ids up to %u; use a small id such as %u",
		            config->server_peer_id, config->socket_path,
		            IVSHMEM_SERVER_MAX_PEER_ID, IVSHMEM_SERVER_DEFAULT_PEER_ID);
		return FALSE;
	}
	return TRUE;
}

/* The memfd behind BAR2, sealed so that its size is fixed for QEMU. */
static gboolean ivshmem_server_create_region(IvshmemServer *server, GError **error)
{
	int err;

	server->region_fd = memfd_create("omem-ivshmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (server->region_fd < 0) {
		err = errno;
		goto fail;
	}
	if (ftruncate(server->region_fd, (off_t)server->region_size) < 0 ||
	    fcntl(server->region_fd, F_ADD_SEALS,
	          F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = errno;
		goto fail;
	}
	server->region = mmap(NULL, server->region_size, PROT_READ | PROT_WRITE,
	                      MAP_SHARED, server->region_fd, 0);
	if (server->region == MAP_FAILED) {
		err = errno;
		server->region = NULL;
		goto fail;
	}
	return TRUE;

fail:
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
	            "Cannot create the %zu-byte ivshmem region for %s: %s; check omemd's memory and file descriptor limits",
	            server->region_size, server->socket_path, g_strerror(err));
	return FALSE;
}

static gboolean ivshmem_server_create_doorbells(IvshmemServer *server, GError **error)
{
	unsigned vector;

	server->doorbells = g_new0(IvshmemServerDoorbell, server->vectors);
	for (vector = 0; vector < server->vectors; vector++)
		server->doorbells[vector].fd = -1;
	for (vector = 0; vector < server->vectors; vector++) {
		IvshmemServerDoorbell *doorbell = &server->doorbells[vector];

		doorbell->server = server;
		doorbell->vector = vector;
		doorbell->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (doorbell->fd < 0) {
			int err = errno;

			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			            "Cannot create the doorbell eventfds for ivshmem socket %s: %s; check omemd's file descriptor limit",
			            server->socket_path, g_strerror(err));
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * The socket file is mode 0600 and given to the allowed uid before the
 * socket listens (unix_listener_open()): that uid alone (and root) can
 * connect; a root:kvm 0660 socket would admit every member of the group.
 * A socket already at the path is replaced without asking who listens on
 * it: the path is this VM's in omemd's own folder, its last server may be
 * this omemd's, still being freed on the transport thread (a VM's
 * transport is released and started again at once after a libvirt
 * reconnect), and it would take a probe for a client; the file identity
 * keeps that server from unlinking the new file.
 */
static gboolean ivshmem_server_listen(IvshmemServer *server, GError **error)
{
	UnixListenerConfig config = {
		.path = server->socket_path,
		.mode = 0600,
		.owner = server->allowed_uid,
		.group = (gid_t)-1,
		.backlog = IVSHMEM_SERVER_BACKLOG,
		.replace_listening = true,
	};

	server->listen_fd = unix_listener_open(&config, &server->socket_file, error);
	if (server->listen_fd < 0) {
		g_prefix_error(error, "ivshmem socket: ");
		return FALSE;
	}
	return TRUE;
}

/* Create the region and the listening socket for one VM; QEMU may connect
 * from now on but is answered only once ivshmem_server_start() ran. */
IvshmemServer *ivshmem_server_new(const IvshmemServerConfig *config, GError **error)
{
	g_autoptr(IvshmemServer) server = NULL;
	unsigned vector;

	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!ivshmem_server_config_valid(config, error))
		return NULL;

	server = g_new0(IvshmemServer, 1);
	server->socket_path = g_strdup(config->socket_path);
	server->region_size = config->region_size;
	server->vectors = config->vectors;
	server->peer_id = config->server_peer_id ? config->server_peer_id
	                                         : IVSHMEM_SERVER_DEFAULT_PEER_ID;
	server->allowed_uid = config->allowed_uid;
	server->allow_root = config->allow_root;
	server->allowed_pid = config->allowed_pid;
	server->allow_any_pid = config->allow_any_pid;
	server->callbacks = config->callbacks;
	server->user_data = config->user_data;
	server->region_fd = -1;
	server->listen_fd = -1;
	server->guest_fd = -1;
	server->next_guest_peer_id = server->peer_id % IVSHMEM_SERVER_MAX_PEER_ID + 1;
	g_mutex_init(&server->guest_lock);
	server->guest_eventfds = g_new(int, server->vectors);
	for (vector = 0; vector < server->vectors; vector++)
		server->guest_eventfds[vector] = -1;

	if (!ivshmem_server_create_region(server, error) ||
	    !ivshmem_server_create_doorbells(server, error) ||
	    !ivshmem_server_listen(server, error))
		return NULL;

	return g_steal_pointer(&server);
}

/* Send one protocol message: @value, with @fd attached unless it is -1. */
static int ivshmem_server_send(int sock, int64_t value, int fd)
{
	gint64 wire = GINT64_TO_LE(value);
	struct iovec iov = { .iov_base = &wire, .iov_len = sizeof(wire) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t sent;

	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -errno;
	/* A short write would leave the stream out of step with QEMU. */
	return sent == sizeof(wire) ? 0 : -EIO;
}

/*
 * The whole handshake.  The socket is non-blocking, but a fresh unix
 * socket's buffer holds far more than these (3 + 2 * vectors) messages, so
 * -EAGAIN here means a broken peer, not a slow one.
 */
static int ivshmem_server_send_handshake(IvshmemServer *server, int sock,
                                         unsigned guest_peer_id,
                                         const int *guest_eventfds)
{
	unsigned vector;
	int ret;

	if ((ret = ivshmem_server_send(sock, IVSHMEM_PROTOCOL_VERSION, -1)) < 0 ||
	    (ret = ivshmem_server_send(sock, guest_peer_id, -1)) < 0 ||
	    (ret = ivshmem_server_send(sock, IVSHMEM_PROTOCOL_SHM_ID, server->region_fd)) < 0)
		return ret;
	for (vector = 0; vector < server->vectors; vector++) {
		ret = ivshmem_server_send(sock, server->peer_id, server->doorbells[vector].fd);
		if (ret < 0)
			return ret;
	}
	for (vector = 0; vector < server->vectors; vector++) {
		ret = ivshmem_server_send(sock, guest_peer_id, guest_eventfds[vector]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* A fresh id per connection, never the server's own. */
static unsigned ivshmem_server_take_guest_peer_id(IvshmemServer *server)
{
	unsigned id;

	do {
		id = server->next_guest_peer_id;
		server->next_guest_peer_id = id % IVSHMEM_SERVER_MAX_PEER_ID + 1;
	} while (id == server->peer_id);
	return id;
}

static void ivshmem_server_close_eventfds(int *eventfds, unsigned count)
{
	unsigned vector;

	for (vector = 0; vector < count; vector++)
		omem_autofd_close(&eventfds[vector]);
}

/* Forget the guest: its eventfds (under the lock, so that a concurrent
 * ivshmem_server_notify_guest() never writes a closed fd) and its socket. */
static void ivshmem_server_detach_guest(IvshmemServer *server, gboolean report)
{
	unsigned peer_id;

	g_mutex_lock(&server->guest_lock);
	server->guest_connected = FALSE;
	peer_id = server->guest_peer_id;
	ivshmem_server_close_eventfds(server->guest_eventfds, server->vectors);
	g_mutex_unlock(&server->guest_lock);

	ivshmem_server_destroy_source(&server->guest_source);
	omem_autofd_close(&server->guest_fd);
	server->guest_unexpected_bytes = 0;

	if (report && server->callbacks.guest_disconnected)
		server->callbacks.guest_disconnected(server, peer_id, server->user_data);
}

/* QEMU's connection is readable: EOF (detach), or bytes QEMU never sends. */
static gboolean ivshmem_server_on_guest(int fd, GIOCondition condition, gpointer user_data)
{
	IvshmemServer *server = user_data;
	char buf[IVSHMEM_SERVER_READ_CHUNK];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n > 0) {
		server->guest_unexpected_bytes += (size_t)n;
		if (server->guest_unexpected_bytes <= IVSHMEM_SERVER_MAX_UNEXPECTED_BYTES)
			return G_SOURCE_CONTINUE;
		ivshmem_server_report_dropped(server,
			g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			            "ivshmem socket %s: guest peer %u (pid %d) sent more than %u bytes, but QEMU never sends any; cut it off as not being QEMU",
			            server->socket_path, server->guest_peer_id,
			            (int)server->guest_pid,
			            IVSHMEM_SERVER_MAX_UNEXPECTED_BYTES));
	}
	/* EOF, a socket error, or cut off. */
	ivshmem_server_detach_guest(server, TRUE);
	return G_SOURCE_REMOVE;
}

/* Hand a new, checked connection the region and the eventfds.  TRUE: the
 * server owns @sock now; FALSE: refused, reported, the caller closes it. */
static gboolean ivshmem_server_attach_guest(IvshmemServer *server, int sock, pid_t pid)
{
	g_autofree int *eventfds = g_new(int, server->vectors);
	unsigned peer_id = ivshmem_server_take_guest_peer_id(server);
	unsigned vector;
	int ret = 0;

	for (vector = 0; vector < server->vectors; vector++)
		eventfds[vector] = -1;
	for (vector = 0; vector < server->vectors; vector++) {
		eventfds[vector] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (eventfds[vector] < 0) {
			ret = -errno;
			break;
		}
	}
	if (ret == 0)
		ret = ivshmem_server_send_handshake(server, sock, peer_id, eventfds);
	if (ret < 0) {
		ivshmem_server_close_eventfds(eventfds, server->vectors);
		/* Probably fails too, but if it arrives QEMU stops waiting. */
		ivshmem_server_send(sock, IVSHMEM_PROTOCOL_REFUSED_VERSION, -1);
		ivshmem_server_report_dropped(server,
			g_error_new(G_IO_ERROR, g_io_error_from_errno(-ret),
			            "ivshmem socket %s: cannot complete the handshake with pid %d: %s; dropped it, detach and attach the device again",
			            server->socket_path, (int)pid, g_strerror(-ret)));
		return FALSE;
	}

	g_mutex_lock(&server->guest_lock);
	memcpy(server->guest_eventfds, eventfds, server->vectors * sizeof(int));
	server->guest_peer_id = peer_id;
	server->guest_connected = TRUE;
	g_mutex_unlock(&server->guest_lock);

	server->guest_fd = sock;
	server->guest_pid = pid;
	server->guest_unexpected_bytes = 0;
	server->guest_source = ivshmem_server_watch_fd(server, sock,
	                                               G_IO_IN | G_IO_HUP | G_IO_ERR,
	                                               ivshmem_server_on_guest, server);

	if (server->callbacks.guest_connected)
		server->callbacks.guest_connected(server, peer_id, server->user_data);
	return TRUE;
}

/* Check who connected; returns the reason to refuse, or NULL. */
static GError *ivshmem_server_check_peer(IvshmemServer *server, int sock, pid_t *ret_pid)
{
	struct ucred cred;
	socklen_t length = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) {
		int err = errno;

		return g_error_new(G_IO_ERROR, g_io_error_from_errno(err),
		                   "ivshmem socket %s: cannot read the credentials of a new connection: %s; closed it",
		                   server->socket_path, g_strerror(err));
	}
	*ret_pid = cred.pid;
	if (cred.uid != server->allowed_uid && !(server->allow_root && cred.uid == 0))
		return g_error_new(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		                   "ivshmem socket %s: refused pid %d running as uid %u: only uid %u may connect; check the user QEMU runs as",
		                   server->socket_path, (int)cred.pid, (unsigned)cred.uid,
		                   (unsigned)server->allowed_uid);
	if (server->allowed_pid == 0 && !server->allow_any_pid)
		return g_error_new(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		                   "ivshmem socket %s: refused pid %d: this VM's QEMU pid is not known and every QEMU has the same uid; check libvirt's pid file for the domain, then detach and attach the device",
		                   server->socket_path, (int)cred.pid);
	if (server->allowed_pid != 0 && cred.pid != server->allowed_pid)
		return g_error_new(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		                   "ivshmem socket %s: refused pid %d: only this VM's QEMU, pid %d, may connect; is another process using the socket?",
		                   server->socket_path, (int)cred.pid, (int)server->allowed_pid);
	if (server->guest_fd >= 0)
		return g_error_new(G_IO_ERROR, G_IO_ERROR_BUSY,
		                   "ivshmem socket %s: refused pid %d: guest peer %u (pid %d) is still connected; detach the device before attaching another",
		                   server->socket_path, (int)cred.pid, server->guest_peer_id,
		                   (int)server->guest_pid);
	return NULL;
}

static gboolean ivshmem_server_on_listen(int fd, GIOCondition condition, gpointer user_data);

static void ivshmem_server_watch_listen(IvshmemServer *server)
{
	server->listen_source = ivshmem_server_watch_fd(server, server->listen_fd, G_IO_IN,
	                                                ivshmem_server_on_listen, server);
}

static gboolean ivshmem_server_on_accept_retry(gpointer user_data)
{
	IvshmemServer *server = user_data;

	g_clear_pointer(&server->retry_source, g_source_unref);
	ivshmem_server_watch_listen(server);
	return G_SOURCE_REMOVE;
}

/* accept() failed for a reason that will not go away by itself (no fds,
 * no memory): report it once and poll the socket less eagerly. */
static void ivshmem_server_back_off(IvshmemServer *server, int err)
{
	if (!server->accept_failing)
		ivshmem_server_report_dropped(server,
			g_error_new(G_IO_ERROR, g_io_error_from_errno(err),
			            "ivshmem socket %s: cannot accept connections: %s; retrying every %u ms, check omemd's file descriptor limit",
			            server->socket_path, g_strerror(err),
			            IVSHMEM_SERVER_ACCEPT_RETRY_MS));
	server->accept_failing = TRUE;
	ivshmem_server_destroy_source(&server->listen_source);
	server->retry_source = g_timeout_source_new(IVSHMEM_SERVER_ACCEPT_RETRY_MS);
	g_source_set_callback(server->retry_source, ivshmem_server_on_accept_retry,
	                      server, NULL);
	g_source_attach(server->retry_source, server->context);
}

static gboolean ivshmem_server_on_listen(int fd, GIOCondition condition, gpointer user_data)
{
	IvshmemServer *server = user_data;
	omem_autofd int sock = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	GError *reason;
	pid_t pid = 0;

	if (sock < 0) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			return G_SOURCE_CONTINUE;
		default:
			ivshmem_server_back_off(server, errno);
			return G_SOURCE_REMOVE;
		}
	}
	server->accept_failing = FALSE;

	reason = ivshmem_server_check_peer(server, sock, &pid);
	if (reason) {
		/* Best effort: the client may be gone already. */
		ivshmem_server_send(sock, IVSHMEM_PROTOCOL_REFUSED_VERSION, -1);
		ivshmem_server_report_dropped(server, reason);
		return G_SOURCE_CONTINUE;
	}
	if (ivshmem_server_attach_guest(server, sock, pid))
		g_steal_fd(&sock);
	return G_SOURCE_CONTINUE;
}

/* QEMU wrote a doorbell eventfd: the guest rang that vector. */
static gboolean ivshmem_server_on_doorbell(int fd, GIOCondition condition, gpointer user_data)
{
	IvshmemServerDoorbell *doorbell = user_data;
	IvshmemServer *server = doorbell->server;
	uint64_t count;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return G_SOURCE_CONTINUE; /* already drained */
	if (server->callbacks.doorbell)
		server->callbacks.doorbell(server, doorbell->vector, server->user_data);
	return G_SOURCE_CONTINUE;
}

/* Serve the socket and the doorbells from @context (the transport thread's
 * context, which must never wait on libvirt).  Call once. */
void ivshmem_server_start(IvshmemServer *server, GMainContext *context)
{
	unsigned vector;

	g_return_if_fail(server != NULL);
	g_return_if_fail(context != NULL);
	g_return_if_fail(server->context == NULL);

	server->context = g_main_context_ref(context);
	ivshmem_server_watch_listen(server);
	for (vector = 0; vector < server->vectors; vector++) {
		IvshmemServerDoorbell *doorbell = &server->doorbells[vector];

		doorbell->source = ivshmem_server_watch_fd(server, doorbell->fd, G_IO_IN,
		                                           ivshmem_server_on_doorbell,
		                                           doorbell);
	}
}

/* The shared region, for the protocol layer to lay out and use; mapped for
 * the server's lifetime, not locked.  Any thread. */
void *ivshmem_server_get_region(IvshmemServer *server, size_t *ret_size)
{
	g_return_val_if_fail(server != NULL, NULL);

	if (ret_size)
		*ret_size = server->region_size;
	return server->region;
}

/* The server's own peer id, which the guest needs in the region header. */
unsigned ivshmem_server_get_peer_id(IvshmemServer *server)
{
	g_return_val_if_fail(server != NULL, 0);

	return server->peer_id;
}

/* Interrupt the guest on @vector.  Any thread.  0, -ENOTCONN when no guest
 * is connected, -EINVAL for a vector out of range, other -errno from write. */
int ivshmem_server_notify_guest(IvshmemServer *server, unsigned vector)
{
	const uint64_t one = 1;
	int ret = 0;

	g_return_val_if_fail(server != NULL, -EINVAL);

	if (vector >= server->vectors)
		return -EINVAL;

	g_mutex_lock(&server->guest_lock);
	if (!server->guest_connected) {
		ret = -ENOTCONN;
	} else if (write(server->guest_eventfds[vector], &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so an interrupt is pending anyway. */
		if (errno != EAGAIN)
			ret = -errno;
	}
	g_mutex_unlock(&server->guest_lock);
	return ret;
}

/* Close the guest connection, the socket (unlinked), the region and every
 * eventfd.  Call from the context's thread or once nobody iterates that
 * context any more.  Accepts NULL. */
void ivshmem_server_free(IvshmemServer *server)
{
	unsigned vector;

	if (!server)
		return;

	ivshmem_server_detach_guest(server, FALSE);
	ivshmem_server_destroy_source(&server->listen_source);
	ivshmem_server_destroy_source(&server->retry_source);
	if (server->doorbells) {
		for (vector = 0; vector < server->vectors; vector++) {
			ivshmem_server_destroy_source(&server->doorbells[vector].source);
			omem_autofd_close(&server->doorbells[vector].fd);
		}
	}
	unix_listener_unlink(server->socket_path, &server->socket_file);
	omem_autofd_close(&server->listen_fd);
	if (server->region)
		munmap(server->region, server->region_size);
	omem_autofd_close(&server->region_fd);
	g_clear_pointer(&server->context, g_main_context_unref);
	g_mutex_clear(&server->guest_lock);
	g_free(server->guest_eventfds);
	g_free(server->doorbells);
	g_free(server->socket_path);
	g_free(server);
}
