/* SPDX-License-Identifier: MIT */
/*
 * Unit test of host-server/rpc/ivshmem-server.c: the server runs on a
 * GMainContext in its own thread, as in omemd, and this file plays QEMU
 * with a plain unix socket, checking every handshake message and fd, both
 * notification directions, the socket's permissions, refusals and
 * reconnection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "fake-qemu.h"
#include "rpc/ivshmem-server.h"
#include "omem/rpc.h"
#include "tap.h"

/* Long enough for a loaded CI machine, short enough to fail visibly. */
#define TEST_TIMEOUT_MS 5000
/* How long "nothing more arrives" is watched for. */
#define TEST_QUIET_MS 200

#define TEST_REGION_SIZE (64u * 1024)
#define TEST_SERVER_PEER_ID 7u
#define TEST_OTHER_UID 12345
/* More than the server tolerates from a client before cutting it off. */
#define TEST_FLOOD_BYTES 8192

typedef enum {
	TEST_EVENT_DOORBELL,
	TEST_EVENT_CONNECTED,
	TEST_EVENT_DISCONNECTED,
	TEST_EVENT_DROPPED,
} TestEventKind;

/* One callback invocation, queued from the server's thread. */
typedef struct {
	TestEventKind kind;
	unsigned value; /* vector or peer id */
	int code;       /* GIOErrorEnum of a dropped connection */
} TestEvent;

/* The transport thread: iterates the server's context until stopped. */
typedef struct {
	GMainContext *context;
	GThread *thread;
	gint stop;
	GAsyncQueue *events; /* TestEvent *, filled by the callbacks */
} TestLoop;

static const char *test_event_names[] = {
	[TEST_EVENT_DOORBELL] = "doorbell",
	[TEST_EVENT_CONNECTED] = "connected",
	[TEST_EVENT_DISCONNECTED] = "disconnected",
	[TEST_EVENT_DROPPED] = "dropped",
};

static void test_push(gpointer user_data, TestEventKind kind, unsigned value, int code)
{
	TestLoop *loop = user_data;
	TestEvent *event = g_new0(TestEvent, 1);

	event->kind = kind;
	event->value = value;
	event->code = code;
	g_async_queue_push(loop->events, event);
}

static void test_on_doorbell(IvshmemServer *server, unsigned vector, gpointer user_data)
{
	test_push(user_data, TEST_EVENT_DOORBELL, vector, 0);
}

static void test_on_connected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	test_push(user_data, TEST_EVENT_CONNECTED, peer_id, 0);
}

static void test_on_disconnected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	test_push(user_data, TEST_EVENT_DISCONNECTED, peer_id, 0);
}

static void test_on_dropped(IvshmemServer *server, const GError *reason, gpointer user_data)
{
	tap_diag("dropped: %s", reason->message);
	test_push(user_data, TEST_EVENT_DROPPED, 0, reason->code);
}

static gpointer test_loop_run(gpointer data)
{
	TestLoop *loop = data;

	while (!g_atomic_int_get(&loop->stop))
		g_main_context_iteration(loop->context, TRUE);
	return NULL;
}

static void test_loop_init(TestLoop *loop)
{
	memset(loop, 0, sizeof(*loop));
	loop->context = g_main_context_new();
	loop->events = g_async_queue_new_full(g_free);
}

static void test_loop_start(TestLoop *loop)
{
	loop->thread = g_thread_new("transport", test_loop_run, loop);
}

/* Stop the thread; afterwards the server may be freed from this thread. */
static void test_loop_stop(TestLoop *loop)
{
	if (loop->thread) {
		g_atomic_int_set(&loop->stop, 1);
		g_main_context_wakeup(loop->context);
		g_thread_join(loop->thread);
		loop->thread = NULL;
	}
}

static void test_loop_clear(TestLoop *loop)
{
	test_loop_stop(loop);
	g_main_context_unref(loop->context);
	g_async_queue_unref(loop->events);
}

/* The next callback, or NULL after TEST_TIMEOUT_MS. */
static TestEvent *test_next_event(TestLoop *loop, guint64 timeout_ms)
{
	return g_async_queue_timeout_pop(loop->events, timeout_ms * 1000);
}

/* Check that the next callback is @kind with @value (unless -1) or @code. */
static void test_expect_event(TestLoop *loop, TestEventKind kind, long value, int code,
                              const char *what)
{
	g_autofree TestEvent *event = test_next_event(loop, TEST_TIMEOUT_MS);

	if (!tap_ok(event != NULL, "%s: %s callback", what, test_event_names[kind]))
		return;
	if (event->kind != kind) {
		tap_ok(0, "%s: callback is %s", what, test_event_names[kind]);
		tap_diag("got %s", test_event_names[event->kind]);
		return;
	}
	if (kind == TEST_EVENT_DROPPED)
		tap_eq(event->code, code, "%s: reason code", what);
	else if (value >= 0)
		tap_eq(event->value, value, "%s: callback value", what);
}

static void test_expect_no_event(TestLoop *loop, const char *what)
{
	g_autofree TestEvent *event = test_next_event(loop, TEST_QUIET_MS);

	tap_ok(event == NULL, "%s: no further callback", what);
	if (event)
		tap_diag("got %s %u", test_event_names[event->kind], event->value);
}

static IvshmemServerConfig test_config(const char *path, TestLoop *loop)
{
	IvshmemServerConfig config = {
		.socket_path = path,
		.region_size = TEST_REGION_SIZE,
		.vectors = OMEM_RPC_VECTORS,
		.server_peer_id = TEST_SERVER_PEER_ID,
		.allowed_uid = getuid(),
		.allow_root = TRUE,
		.allowed_pid = getpid(),
		.callbacks = {
			.doorbell = test_on_doorbell,
			.guest_connected = test_on_connected,
			.guest_disconnected = test_on_disconnected,
			.connection_dropped = test_on_dropped,
		},
		.user_data = loop,
	};

	return config;
}

static gboolean test_fd_is_eventfd(int fd)
{
	g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
	g_autofree char *target = g_file_read_link(link, NULL);

	return target && strcmp(target, "anon_inode:[eventfd]") == 0;
}

static gboolean test_fd_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* True when the server closed @sock (an EOF; closing a unix socket with
 * unread data resets the peer instead). */
static gboolean test_closed(int sock)
{
	char byte;
	ssize_t n = recv(sock, &byte, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* True when the server refused @sock: one invalid version (-1, no fd),
 * which makes QEMU fail instead of hanging, then EOF; no handshake. */
static gboolean test_refused_cleanly(int sock)
{
	int64_t value = 0;
	int fd = -1;

	if (fake_qemu_recv(sock, &value, &fd) < 0 || value != -1 || fd >= 0) {
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	return test_closed(sock);
}

/* Check a full handshake on @sock; returns the guest's peer id, or 0. */
static unsigned test_check_handshake(int sock, FakeQemuHandshake *handshake, const char *what)
{
	int64_t guest_id;
	unsigned vector;
	int ret;
	int i;

	ret = fake_qemu_handshake_receive(sock, handshake);
	if (!tap_eq(ret, 0, "%s: %d handshake messages received", what,
	            FAKE_QEMU_HANDSHAKE_MESSAGES)) {
		tap_diag("after %d messages: %s", handshake->received, g_strerror(-ret));
		return 0;
	}
	tap_ok(handshake->values[0] == 0 && handshake->fds[0] < 0,
	       "%s: message 1 is protocol version 0, no fd", what);
	guest_id = handshake->values[1];
	tap_ok(guest_id >= 1 && guest_id <= IVSHMEM_SERVER_MAX_PEER_ID &&
	       guest_id != TEST_SERVER_PEER_ID && handshake->fds[1] < 0,
	       "%s: message 2 is the guest peer id (%lld), no fd", what, (long long)guest_id);
	tap_ok(handshake->values[2] == -1 && fake_qemu_shm_fd(handshake) >= 0,
	       "%s: message 3 is -1 with the shared memory fd", what);
	for (vector = 0; vector < OMEM_RPC_VECTORS; vector++) {
		i = 3 + vector;
		tap_ok(handshake->values[i] == TEST_SERVER_PEER_ID && handshake->fds[i] >= 0 &&
		       test_fd_is_eventfd(handshake->fds[i]),
		       "%s: message %d is the server peer id with an eventfd (vector %u)",
		       what, i + 1, vector);
	}
	for (vector = 0; vector < OMEM_RPC_VECTORS; vector++) {
		i = 3 + OMEM_RPC_VECTORS + vector;
		tap_ok(handshake->values[i] == guest_id && handshake->fds[i] >= 0 &&
		       test_fd_is_eventfd(handshake->fds[i]),
		       "%s: message %d is the guest peer id with an eventfd (vector %u)",
		       what, i + 1, vector);
	}
	tap_ok(!test_fd_readable(sock, TEST_QUIET_MS), "%s: nothing follows the handshake", what);
	return (unsigned)guest_id;
}

static void test_check_region(IvshmemServer *server, const FakeQemuHandshake *handshake)
{
	int shm_fd = fake_qemu_shm_fd(handshake);
	size_t size = 0;
	unsigned char *region = ivshmem_server_get_region(server, &size);
	unsigned char *mapped;
	struct stat st;
	int seals;

	tap_ok(region != NULL && size == TEST_REGION_SIZE, "get_region returns the region and its size");
	tap_ok(fstat(shm_fd, &st) == 0 && st.st_size == TEST_REGION_SIZE,
	       "shared memory fd is region-sized");
	seals = fcntl(shm_fd, F_GET_SEALS);
	tap_ok(seals >= 0 && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW),
	       "shared memory fd is sealed against resizing");
	tap_ok(ftruncate(shm_fd, TEST_REGION_SIZE * 2) < 0, "client cannot grow the region");

	mapped = mmap(NULL, TEST_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (!tap_ok(mapped != MAP_FAILED, "shared memory fd is mmap-able"))
		return;
	memcpy(region + 128, "from-server", 12);
	tap_ok(memcmp(mapped + 128, "from-server", 12) == 0, "client sees the server's bytes");
	memcpy(mapped + TEST_REGION_SIZE - 12, "from-client", 12);
	tap_ok(memcmp(region + TEST_REGION_SIZE - 12, "from-client", 12) == 0,
	       "server sees the client's bytes");
	munmap(mapped, TEST_REGION_SIZE);
}

static void test_check_doorbells(TestLoop *loop, const FakeQemuHandshake *handshake)
{
	const uint64_t one = 1;
	unsigned order[] = { 1, 0 };
	unsigned i;

	for (i = 0; i < G_N_ELEMENTS(order); i++) {
		g_autofree char *what = g_strdup_printf("guest rings vector %u", order[i]);

		tap_ok(write(fake_qemu_server_doorbell_fd(handshake, order[i]), &one, sizeof(one)) ==
		       sizeof(one), "%s: eventfd written", what);
		test_expect_event(loop, TEST_EVENT_DOORBELL, order[i], 0, what);
	}
}

static void test_check_notify(IvshmemServer *server, const FakeQemuHandshake *handshake)
{
	unsigned vector;

	for (vector = 0; vector < OMEM_RPC_VECTORS; vector++) {
		int fd = fake_qemu_guest_eventfd(handshake, vector);
		uint64_t count = 0;

		tap_ok(!test_fd_readable(fd, 0), "guest eventfd %u idle before notify", vector);
		tap_eq(ivshmem_server_notify_guest(server, vector), 0, "notify_guest vector %u", vector);
		tap_ok(test_fd_readable(fd, TEST_TIMEOUT_MS) &&
		       read(fd, &count, sizeof(count)) == sizeof(count) && count == 1,
		       "notify_guest vector %u makes the guest eventfd readable", vector);
	}
	tap_eq(ivshmem_server_notify_guest(server, OMEM_RPC_VECTORS), -EINVAL,
	       "notify_guest rejects a vector out of range");
}

static void test_check_socket_file(const char *path, uid_t owner, const char *what)
{
	struct stat st;

	if (!tap_ok(lstat(path, &st) == 0, "%s: socket file exists", what))
		return;
	tap_ok(S_ISSOCK(st.st_mode), "%s: it is a socket", what);
	tap_eq(st.st_mode & 07777, 0600, "%s: mode 0600", what);
	tap_eq(st.st_uid, owner, "%s: owned by the allowed uid", what);
}

/* The main scenario: handshake, both directions, refusal of a second
 * client, data from the client, disconnect and reconnect. */
static void test_session(const char *folder)
{
	g_autofree char *path = g_build_filename(folder, "session.sock", NULL);
	g_autoptr(GError) error = NULL;
	IvshmemServer *server;
	IvshmemServerConfig config;
	FakeQemuHandshake first = { 0 }, second = { 0 };
	unsigned first_id, second_id;
	char junk[TEST_FLOOD_BYTES];
	TestLoop loop;
	int sock, intruder;

	test_loop_init(&loop);
	config = test_config(path, &loop);
	server = ivshmem_server_new(&config, &error);
	if (!tap_ok(server != NULL, "server created")) {
		tap_diag("%s", error->message);
		test_loop_clear(&loop);
		return;
	}
	test_check_socket_file(path, getuid(), "session");
	tap_eq(ivshmem_server_get_peer_id(server), TEST_SERVER_PEER_ID, "get_peer_id");
	tap_eq(ivshmem_server_notify_guest(server, 0), -ENOTCONN,
	       "notify_guest before any guest: -ENOTCONN");

	/* QEMU may connect before start; it is answered once the loop runs. */
	sock = fake_qemu_connect(path, TEST_TIMEOUT_MS);
	tap_ok(sock >= 0, "client connects before start");
	ivshmem_server_start(server, loop.context);
	test_loop_start(&loop);

	first_id = test_check_handshake(sock, &first, "first connection");
	test_expect_event(&loop, TEST_EVENT_CONNECTED, first_id, 0, "first connection");
	if (first.received == FAKE_QEMU_HANDSHAKE_MESSAGES) {
		test_check_region(server, &first);
		test_check_doorbells(&loop, &first);
		test_check_notify(server, &first);
	}

	intruder = fake_qemu_connect(path, TEST_TIMEOUT_MS);
	tap_ok(intruder >= 0 && test_refused_cleanly(intruder),
	       "second concurrent client gets version -1 and EOF, no handshake");
	test_expect_event(&loop, TEST_EVENT_DROPPED, -1, G_IO_ERROR_BUSY, "second client");
	if (intruder >= 0)
		close(intruder);

	memset(junk, 'x', sizeof(junk));
	tap_ok(write(sock, junk, 64) == 64, "client sends a few stray bytes");
	test_expect_no_event(&loop, "stray bytes tolerated");
	tap_eq(ivshmem_server_notify_guest(server, 0), 0, "guest still connected after stray bytes");

	close(sock);
	test_expect_event(&loop, TEST_EVENT_DISCONNECTED, first_id, 0, "client closes");
	tap_eq(ivshmem_server_notify_guest(server, 0), -ENOTCONN,
	       "notify_guest after disconnect: -ENOTCONN");

	sock = fake_qemu_connect(path, TEST_TIMEOUT_MS);
	second_id = test_check_handshake(sock, &second, "reconnection");
	tap_ok(second_id != 0 && second_id != first_id,
	       "reconnection gets a fresh peer id (%u, was %u)", second_id, first_id);
	test_expect_event(&loop, TEST_EVENT_CONNECTED, second_id, 0, "reconnection");
	if (second.received == FAKE_QEMU_HANDSHAKE_MESSAGES)
		test_check_notify(server, &second);

	/* A client that keeps sending is not QEMU: cut off. */
	tap_ok(write(sock, junk, sizeof(junk)) == (ssize_t)sizeof(junk),
	       "client floods the socket");
	test_expect_event(&loop, TEST_EVENT_DROPPED, -1, G_IO_ERROR_INVALID_DATA, "flooding client");
	test_expect_event(&loop, TEST_EVENT_DISCONNECTED, second_id, 0, "flooding client");
	tap_ok(test_closed(sock), "flooding client sees EOF");
	close(sock);

	test_loop_stop(&loop);
	ivshmem_server_free(server);
	tap_ok(access(path, F_OK) < 0 && errno == ENOENT, "free unlinks the socket");
	fake_qemu_handshake_clear(&first);
	fake_qemu_handshake_clear(&second);
	test_loop_clear(&loop);
}

/* A server whose allowed uid or pid the test client does not have. */
static void test_refused(const char *folder, const char *name, uid_t uid,
                         gboolean allow_root, pid_t pid)
{
	g_autofree char *path = g_build_filename(folder, name, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(IvshmemServer) server = NULL;
	IvshmemServerConfig config;
	TestLoop loop;
	int sock;

	test_loop_init(&loop);
	config = test_config(path, &loop);
	config.allowed_uid = uid;
	config.allow_root = allow_root;
	config.allowed_pid = pid;
	server = ivshmem_server_new(&config, &error);
	if (!tap_ok(server != NULL, "%s: server created", name)) {
		tap_diag("%s", error->message);
		test_loop_clear(&loop);
		return;
	}
	test_check_socket_file(path, uid, name);
	ivshmem_server_start(server, loop.context);
	test_loop_start(&loop);

	sock = fake_qemu_connect(path, TEST_TIMEOUT_MS);
	tap_ok(sock >= 0 && test_refused_cleanly(sock),
	       "%s: client gets version -1 and EOF, no handshake", name);
	test_expect_event(&loop, TEST_EVENT_DROPPED, -1, G_IO_ERROR_PERMISSION_DENIED, name);
	test_expect_no_event(&loop, name);
	if (sock >= 0)
		close(sock);
	test_loop_stop(&loop);
	test_loop_clear(&loop);
}

/* The exact pid configured: accepted. */
static void test_allowed_pid(const char *folder)
{
	g_autofree char *path = g_build_filename(folder, "pid.sock", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(IvshmemServer) server = NULL;
	IvshmemServerConfig config;
	FakeQemuHandshake handshake = { 0 };
	TestLoop loop;
	int sock;

	test_loop_init(&loop);
	config = test_config(path, &loop);
	config.allowed_pid = getpid();
	server = ivshmem_server_new(&config, &error);
	if (!tap_ok(server != NULL, "allowed pid: server created")) {
		tap_diag("%s", error->message);
		test_loop_clear(&loop);
		return;
	}
	ivshmem_server_start(server, loop.context);
	test_loop_start(&loop);
	sock = fake_qemu_connect(path, TEST_TIMEOUT_MS);
	tap_ok(fake_qemu_handshake_receive(sock, &handshake) == 0,
	       "allowed pid: the configured pid gets the handshake");
	test_expect_event(&loop, TEST_EVENT_CONNECTED, -1, 0, "allowed pid");
	close(sock);
	test_expect_event(&loop, TEST_EVENT_DISCONNECTED, -1, 0, "allowed pid");
	fake_qemu_handshake_clear(&handshake);
	test_loop_stop(&loop);
	test_loop_clear(&loop);
}

static void test_bad_config(const char *folder, const char *what,
                            void (*break_config)(IvshmemServerConfig *config))
{
	g_autofree char *path = g_build_filename(folder, "bad.sock", NULL);
	g_autoptr(GError) error = NULL;
	IvshmemServerConfig config = test_config(path, NULL);
	IvshmemServer *server;

	break_config(&config);
	server = ivshmem_server_new(&config, &error);
	tap_ok(server == NULL && error != NULL &&
	       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
	       "bad config rejected: %s", what);
	if (error)
		tap_diag("%s", error->message);
	tap_ok(access(path, F_OK) < 0, "bad config leaves no socket: %s", what);
	ivshmem_server_free(server);
}

static void test_size_3000(IvshmemServerConfig *config)
{
	config->region_size = 3000;
}

static void test_size_2mib(IvshmemServerConfig *config)
{
	config->region_size = 2u * 1024 * 1024;
}

static void test_size_zero(IvshmemServerConfig *config)
{
	config->region_size = 0;
}

static void test_no_vectors(IvshmemServerConfig *config)
{
	config->vectors = 0;
}

static void test_many_vectors(IvshmemServerConfig *config)
{
	config->vectors = IVSHMEM_SERVER_MAX_VECTORS + 1;
}

static void test_empty_path(IvshmemServerConfig *config)
{
	config->socket_path = "";
}

static void test_null_path(IvshmemServerConfig *config)
{
	config->socket_path = NULL;
}

static void test_long_path(IvshmemServerConfig *config)
{
	static char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	config->socket_path = path;
}

static void test_big_peer_id(IvshmemServerConfig *config)
{
	config->server_peer_id = IVSHMEM_SERVER_MAX_PEER_ID + 1;
}

/* What may already exist at the socket path. */
static void test_existing_files(const char *folder)
{
	g_autofree char *file = g_build_filename(folder, "file.sock", NULL);
	g_autofree char *stale = g_build_filename(folder, "stale.sock", NULL);
	g_autoptr(GError) error = NULL;
	IvshmemServerConfig config = test_config(file, NULL);
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	IvshmemServer *server;
	int sock;

	g_file_set_contents(file, "keep me", -1, NULL);
	server = ivshmem_server_new(&config, &error);
	tap_ok(server == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS),
	       "a regular file at the path is not replaced");
	if (error)
		tap_diag("%s", error->message);
	tap_ok(access(file, F_OK) == 0, "the regular file is still there");
	ivshmem_server_free(server);
	g_unlink(file);

	/* A socket nobody listens on, as a crashed omemd leaves it. */
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_strlcpy(address.sun_path, stale, sizeof(address.sun_path));
	tap_ok(sock >= 0 && bind(sock, (struct sockaddr *)&address, sizeof(address)) == 0,
	       "stale socket created");
	close(sock);
	config.socket_path = stale;
	g_clear_error(&error);
	server = ivshmem_server_new(&config, &error);
	tap_ok(server != NULL, "a stale socket at the path is replaced");
	if (error)
		tap_diag("%s", error->message);
	test_check_socket_file(stale, getuid(), "replaced stale socket");
	ivshmem_server_free(server);
}

int main(void)
{
	g_autofree char *folder = g_dir_make_tmp("test-ivshmem-server-XXXXXX", NULL);

	if (!folder) {
		tap_ok(0, "temporary folder created");
		return tap_done();
	}

	/* Free functions accept NULL: a crash here fails the whole test. */
	ivshmem_server_free(NULL);

	test_bad_config(folder, "region size 3000", test_size_3000);
	test_bad_config(folder, "region size 2 MiB", test_size_2mib);
	test_bad_config(folder, "region size 0", test_size_zero);
	test_bad_config(folder, "0 vectors", test_no_vectors);
	test_bad_config(folder, "too many vectors", test_many_vectors);
	test_bad_config(folder, "empty socket path", test_empty_path);
	test_bad_config(folder, "no socket path", test_null_path);
	test_bad_config(folder, "socket path too long", test_long_path);
	test_bad_config(folder, "peer id above 65535", test_big_peer_id);

	test_existing_files(folder);
	test_session(folder);

	if (geteuid() == 0)
		test_refused(folder, "other-uid.sock", TEST_OTHER_UID, FALSE, 0);
	else
		tap_skip("a QEMU of another uid is refused", "needs root to chown the socket");
	test_refused(folder, "other-pid.sock", getuid(), TRUE, getppid());
	/* All QEMUs share a uid: with no pid known, the uid alone admits none. */
	test_refused(folder, "unknown-pid.sock", getuid(), TRUE, 0);
	test_allowed_pid(folder);

	g_rmdir(folder);
	return tap_done();
}
