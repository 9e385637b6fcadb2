/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of host-server/rpc/unix-listener.c: what it does with what is
 * already at the path (nothing, a stale socket, a live one, a file), the
 * mode under any umask, the owner and group, the path length, removing
 * only its own file, and the service's two bounds (clients at once, each
 * client's time).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rpc/unix-listener.h"
#include "tap.h"

/* A gid and uid for the owner checks that nobody on the machine needs to
 * exist: chown takes any number from root. */
#define TEST_OTHER_UID 4242
#define TEST_OTHER_GID 4243

/* How long the service test waits for an event that should come at once
 * (or after TEST_CLIENT_TIMEOUT_MS). */
#define TEST_WAIT_MS 5000
#define TEST_CLIENT_TIMEOUT_MS 200

static UnixListenerConfig test_config(const char *path, mode_t mode)
{
	return (UnixListenerConfig){
		.path = path,
		.mode = mode,
		.owner = (uid_t)-1,
		.group = (gid_t)-1,
		.backlog = 4,
	};
}

/* Connect to @path: the fd, or -errno. */
static int test_connect(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	g_strlcpy(address.sun_path, path, sizeof(address.sun_path));
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/* A connection to @path works (and is closed again). */
static int test_connectable(const char *path)
{
	int fd = test_connect(path);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void test_mode(const char *folder, mode_t mode, mode_t umask_value, const char *what)
{
	g_autofree char *path = g_build_filename(folder, "mode.sock", NULL);
	g_autoptr(GError) error = NULL;
	UnixListenerConfig config = test_config(path, mode);
	mode_t old = umask(umask_value);
	struct stat st;
	int fd;

	fd = unix_listener_open(&config, NULL, &error);
	umask(old);
	if (!tap_ok(fd >= 0, "%s: listening", what))
		tap_diag("%s", error ? error->message : "no error");
	if (tap_ok(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "%s: a socket file", what))
		tap_eq(st.st_mode & 07777, mode, "%s: mode %04o exactly", what, (unsigned)mode);
	tap_ok(test_connectable(path), "%s: a client connects", what);
	if (fd >= 0)
		close(fd);
	g_unlink(path);
}

static void test_owner(const char *folder)
{
	g_autofree char *path = g_build_filename(folder, "owner.sock", NULL);
	g_autoptr(GError) error = NULL;
	UnixListenerConfig config = test_config(path, 0660);
	struct stat st;
	int fd;

	if (geteuid() != 0) {
		tap_skip("the socket given to another uid and gid", "needs root");
		return;
	}
	config.group = TEST_OTHER_GID;
	fd = unix_listener_open(&config, NULL, &error);
	if (!tap_ok(fd >= 0, "group: listening"))
		tap_diag("%s", error->message);
	if (lstat(path, &st) == 0) {
		tap_eq(st.st_gid, TEST_OTHER_GID, "group: the file's group is the one asked");
		tap_eq(st.st_uid, geteuid(), "group: the owner is left alone");
		tap_eq(st.st_mode & 07777, 0660, "group: mode 0660");
	} else {
		tap_ok(0, "group: the socket file exists");
	}
	if (fd >= 0)
		close(fd);
	g_unlink(path);

	config.group = (gid_t)-1;
	config.owner = TEST_OTHER_UID;
	config.mode = 0600;
	fd = unix_listener_open(&config, NULL, &error);
	tap_ok(fd >= 0, "owner: listening");
	tap_ok(lstat(path, &st) == 0 && st.st_uid == TEST_OTHER_UID && st.st_gid == getegid(),
	       "owner: the file's uid is the one asked, the group left alone");
	if (fd >= 0)
		close(fd);
	g_unlink(path);
}

static void test_long_path(const char *folder)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *name = g_strnfill(UNIX_LISTENER_PATH_MAX, 'a');
	g_autofree char *path = g_build_filename(folder, name, NULL);
	g_autofree char *fits = g_strdup(path);
	UnixListenerConfig config = test_config(path, 0600);
	int fd;

	fd = unix_listener_open(&config, NULL, &error);
	tap_ok(fd == -EINVAL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
	       "a path longer than %d bytes is refused", UNIX_LISTENER_PATH_MAX);
	if (error)
		tap_diag("%s", error->message);
	tap_ok(access(path, F_OK) < 0, "nothing is created for a path too long");

	/* Exactly the longest: cut the name so the whole path fits. */
	fits[UNIX_LISTENER_PATH_MAX] = '\0';
	config.path = fits;
	g_clear_error(&error);
	fd = unix_listener_open(&config, NULL, &error);
	if (!tap_ok(fd >= 0, "a path of exactly %d bytes listens", UNIX_LISTENER_PATH_MAX))
		tap_diag("%s", error->message);
	tap_ok(test_connectable(fits), "a client connects to the longest path");
	if (fd >= 0)
		close(fd);
	g_unlink(fits);

	config.path = "";
	g_clear_error(&error);
	tap_ok(unix_listener_open(&config, NULL, &error) == -EINVAL &&
	       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
	       "an empty path is refused");
}

/* What is already at the path. */
static void test_existing(const char *folder)
{
	g_autofree char *path = g_build_filename(folder, "existing.sock", NULL);
	g_autoptr(GError) error = NULL;
	UnixListenerConfig config = test_config(path, 0600);
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	UnixListenerFile first = { 0 }, second = { 0 };
	struct stat st;
	int fd, live, again;

	/* A regular file. */
	g_file_set_contents(path, "keep me", -1, NULL);
	fd = unix_listener_open(&config, NULL, &error);
	tap_ok(fd == -EEXIST && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS),
	       "a regular file at the path is refused");
	if (error)
		tap_diag("%s", error->message);
	tap_ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "the regular file is still there");
	g_unlink(path);

	/* A socket nobody listens on, as a killed process leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_strlcpy(address.sun_path, path, sizeof(address.sun_path));
	tap_ok(fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0,
	       "stale socket created");
	close(fd);
	tap_eq(test_connect(path), -ECONNREFUSED, "nobody listens on the stale socket");
	g_clear_error(&error);
	live = unix_listener_open(&config, &first, &error);
	if (!tap_ok(live >= 0, "a stale socket is replaced"))
		tap_diag("%s", error->message);
	tap_ok(lstat(path, &st) == 0 && st.st_ino == first.ino && st.st_dev == first.dev,
	       "the file at the path is the new one");
	tap_ok(test_connectable(path), "a client connects to the replacement");

	/* A socket a live process listens on. */
	g_clear_error(&error);
	again = unix_listener_open(&config, &second, &error);
	tap_ok(again == -EADDRINUSE && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE),
	       "a socket a live process listens on is refused");
	if (error)
		tap_diag("%s", error->message);
	tap_ok(lstat(path, &st) == 0 && st.st_ino == first.ino, "the live socket's file is untouched");
	tap_ok(test_connectable(path), "the live listener still takes clients");

	/* The ivshmem server's case: replaced without asking. */
	config.replace_listening = true;
	g_clear_error(&error);
	again = unix_listener_open(&config, &second, &error);
	if (!tap_ok(again >= 0, "replace_listening: a live socket is replaced"))
		tap_diag("%s", error->message);
	tap_ok(second.ino != first.ino, "replace_listening: it is a new file");
	tap_ok(!unix_listener_unlink(path, &first), "the old listener does not remove the new file");
	tap_ok(access(path, F_OK) == 0, "the new file is still there");
	tap_ok(unix_listener_unlink(path, &second), "the new listener removes its own file");
	tap_ok(access(path, F_OK) < 0, "and it is gone");
	tap_ok(!unix_listener_unlink(path, &second), "removing it twice does nothing");
	close(live);
	if (again >= 0)
		close(again);
}

/* ------------------------------------------------------------ service */

typedef struct {
	UnixListenerClient *slot;  /* the client being served, or NULL */
	GCancellable *cancel;      /* its cancellable */
	unsigned incoming;         /* incoming calls */
	unsigned busy;             /* dropped: G_IO_ERROR_BUSY */
	unsigned timed_out;        /* dropped: G_IO_ERROR_TIMED_OUT */
	unsigned other;            /* dropped: anything else */
} TestService;

static void test_on_incoming(UnixListenerClient *slot, GSocketConnection *connection,
                             GCancellable *cancel, gpointer data)
{
	TestService *test = data;

	test->incoming++;
	if (test->slot) {
		unix_listener_client_done(slot); /* only one kept at a time */
		return;
	}
	test->slot = slot;
	test->cancel = cancel;
}

static void test_on_dropped(const GError *reason, gpointer data)
{
	TestService *test = data;

	tap_diag("dropped: %s", reason->message);
	if (g_error_matches(reason, G_IO_ERROR, G_IO_ERROR_BUSY))
		test->busy++;
	else if (g_error_matches(reason, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		test->timed_out++;
	else
		test->other++;
}

/* Iterate the default context until *@counter reaches @want or the wait
 * ends; true if it did. */
static bool test_wait(unsigned *counter, unsigned want)
{
	gint64 deadline = g_get_monotonic_time() + TEST_WAIT_MS * 1000ll;

	while (*counter < want && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	return *counter >= want;
}

static void test_service(const char *folder)
{
	g_autofree char *path = g_build_filename(folder, "service.sock", NULL);
	g_autoptr(GError) error = NULL;
	TestService test = { 0 };
	UnixListenerServiceConfig config = {
		.socket = test_config(path, 0600),
		.max_clients = 1,
		.client_timeout_ms = TEST_CLIENT_TIMEOUT_MS,
		.incoming = test_on_incoming,
		.dropped = test_on_dropped,
		.user_data = &test,
	};
	UnixListenerService *service;
	struct stat st;
	int first, second;

	service = unix_listener_service_new(&config, &error);
	if (!tap_ok(service != NULL, "service: listening")) {
		tap_diag("%s", error->message);
		return;
	}
	tap_ok(lstat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "service: mode 0600");

	first = test_connect(path);
	tap_ok(first >= 0 && test_wait(&test.incoming, 1) && test.slot,
	       "service: the first client is served");
	second = test_connect(path);
	tap_ok(second >= 0 && test_wait(&test.busy, 1),
	       "service: a client past max_clients is dropped as BUSY");
	tap_eq(test.incoming, 1, "service: and never reaches incoming");

	tap_ok(test.cancel && !g_cancellable_is_cancelled(test.cancel),
	       "service: the served client is not cancelled yet");
	tap_ok(test_wait(&test.timed_out, 1), "service: the served client times out");
	tap_ok(test.cancel && g_cancellable_is_cancelled(test.cancel),
	       "service: and its cancellable is cancelled");
	unix_listener_client_done(g_steal_pointer(&test.slot));

	/* Its slot is free again. */
	close(second);
	second = test_connect(path);
	tap_ok(second >= 0 && test_wait(&test.incoming, 2) && test.slot,
	       "service: a client is served once the slot is given back");
	tap_eq(test.other, 0, "service: nothing else was dropped");

	unix_listener_service_stop(service);
	tap_ok(access(path, F_OK) < 0, "service: stop removes the socket file");
	tap_ok(g_cancellable_is_cancelled(test.cancel), "service: stop cancels the client in flight");
	unix_listener_client_done(g_steal_pointer(&test.slot));
	unix_listener_service_stop(service); /* a second stop does nothing */
	g_object_unref(service);
	if (first >= 0)
		close(first);
	if (second >= 0)
		close(second);

	/* A second service on a live one's path is refused. */
	g_clear_error(&error);
	service = unix_listener_service_new(&config, &error);
	if (service) {
		UnixListenerService *other;

		g_clear_error(&error);
		other = unix_listener_service_new(&config, &error);
		tap_ok(other == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE),
		       "service: a second service on a live socket is refused");
		g_clear_object(&other);
		unix_listener_service_stop(service);
		g_object_unref(service);
	} else {
		tap_ok(0, "service: listening again after stop");
	}
}

int main(void)
{
	g_autofree char *folder = g_dir_make_tmp("test-unix-listener-XXXXXX", NULL);

	if (!folder) {
		tap_ok(0, "temporary folder created");
		return tap_done();
	}

	test_mode(folder, 0600, 0022, "0600 under umask 022");
	test_mode(folder, 0660, 0077, "0660 under umask 077");
	test_mode(folder, 0600, 0000, "0600 under umask 000");
	test_owner(folder);
	test_long_path(folder);
	test_existing(folder);
	test_service(folder);

	g_rmdir(folder);
	return tap_done();
}
