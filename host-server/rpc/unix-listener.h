/* SPDX-License-Identifier: MIT */
/*
 * unix-listener: the one way omem listens on a unix socket: omemd's status
 * and admission sockets (daemon/) and each VM's ivshmem socket
 * (rpc/ivshmem-server.c).  Two layers:
 *
 *  - unix_listener_open(): a listening fd at a path.  What the path holds
 *    first decides: nothing; a socket nobody listens on any more (a dead
 *    process's), which is removed; a socket a live process listens on,
 *    which is refused; anything else, refused.  The file has its exact
 *    mode and owner before listen(), so no client ever connects through
 *    other permissions.
 *  - UnixListenerService: such a socket served by a GSocketService, with a
 *    bound on the clients served at once and on each client's time, for
 *    the callers that use GIO streams.
 *
 * Nothing here logs: failures are GErrors (and -errno), and what the
 * service drops goes to a callback for the caller's one log line.
 */
#ifndef OMEM_UNIX_LISTENER_H
#define OMEM_UNIX_LISTENER_H

#include <stdbool.h>
#include <sys/types.h>

#include <gio/gio.h>

/* The longest path a unix socket address holds (sun_path less its NUL). */
#define UNIX_LISTENER_PATH_MAX 107

/**
 * UnixListenerConfig - what unix_listener_open() makes.
 * @path:              the socket file, at most UNIX_LISTENER_PATH_MAX bytes.
 * @mode:              its permission bits, exactly (a umask cannot narrow
 *                     them, nothing widens them).
 * @owner:             uid to give it, or (uid_t)-1 to leave it the caller's.
 * @group:             gid to give it, or (gid_t)-1 likewise.
 * @backlog:           listen() backlog.
 * @replace_listening: replace a socket at @path even when a process still
 *                     listens on it, without connecting to find out.  For
 *                     a path only this process serves, where its own old
 *                     server may still be listening while it is freed, and
 *                     where a connection would be taken for a client (the
 *                     ivshmem socket); everyone else wants false.
 */
typedef struct {
	const char *path;
	mode_t mode;
	uid_t owner;
	gid_t group;
	int backlog;
	bool replace_listening;
} UnixListenerConfig;

/* Which file a listener bound, so that it removes its own file and never
 * one that replaced it. */
typedef struct {
	dev_t dev;
	ino_t ino;
} UnixListenerFile;

/* A non-blocking, close-on-exec socket listening at @config->path; on
 * failure -errno, @error says what failed on which path (codes: EXISTS for
 * a file that is not a socket, ADDRESS_IN_USE for a live one,
 * INVALID_ARGUMENT for a path too long) and nothing is left at the path
 * that was not there before.  @ret_file may be NULL. */
int unix_listener_open(const UnixListenerConfig *config, UnixListenerFile *ret_file,
                       GError **error);

/* Remove @path if it is still the socket @file names; true if removed. */
bool unix_listener_unlink(const char *path, const UnixListenerFile *file);

/* One connection being served; the handle its caller gives back once. */
typedef struct _UnixListenerClient UnixListenerClient;

/**
 * UnixListenerServiceConfig - what unix_listener_service_new() serves.
 * @socket:            the socket, as for unix_listener_open().
 * @max_clients:       connections served at once; one more is closed at
 *                     once and reported to @dropped.
 * @client_timeout_ms: each connection's time from accept: then its
 *                     cancellable is cancelled and it is reported to
 *                     @dropped.
 * @incoming:          a connection to serve, on the thread-default context
 *                     of the thread that runs the service.  Take a ref on
 *                     @connection, do all its I/O with @cancel, and call
 *                     unix_listener_client_done(@client) once at the end.
 * @dropped:           a connection closed at once (G_IO_ERROR_BUSY) or cut
 *                     off at its time (G_IO_ERROR_TIMED_OUT); @reason is
 *                     ready for one log line.  May be NULL.
 * @user_data:         passed to both.
 */
typedef struct {
	UnixListenerConfig socket;
	unsigned max_clients;
	unsigned client_timeout_ms;
	void (*incoming)(UnixListenerClient *client, GSocketConnection *connection,
	                 GCancellable *cancel, gpointer user_data);
	void (*dropped)(const GError *reason, gpointer user_data);
	gpointer user_data;
} UnixListenerServiceConfig;

#define UNIX_LISTENER_TYPE_SERVICE (unix_listener_service_get_type())
G_DECLARE_FINAL_TYPE(UnixListenerService, unix_listener_service, UNIX_LISTENER, SERVICE,
                     GSocketService)

/* Open the socket and serve it (started); NULL and @error on failure. */
UnixListenerService *unix_listener_service_new(const UnixListenerServiceConfig *config,
                                               GError **error);

/* Stop accepting, close the socket, remove its file if it is still ours,
 * and cancel every client in flight (each still calls
 * unix_listener_client_done()).  The caller then drops its reference.
 * Accepts NULL; a second call does nothing. */
void unix_listener_service_stop(UnixListenerService *service);

/* The caller is done with @client: its timer goes, its slot frees up. */
void unix_listener_client_done(UnixListenerClient *client);

#endif /* OMEM_UNIX_LISTENER_H */
