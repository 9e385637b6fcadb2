/* SPDX-License-Identifier: MIT */
/*
 * test-omemd-notify: omemd's sd_notify sender (host-server/daemon/omemd-notify.c)
 * against a datagram socket bound where systemd would bind its own: a
 * path in a temporary folder and a name in the abstract namespace.  It
 * checks that each state arrives as one datagram with exactly the bytes
 * sent, that nothing is sent (and nothing fails) without $NOTIFY_SOCKET,
 * that a malformed or dead $NOTIFY_SOCKET is refused with errno, that a
 * full queue gives EAGAIN at once instead of blocking, and how
 * $WATCHDOG_USEC / $WATCHDOG_PID are read.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/omemd-notify.h"
#include "tap.h"

/* Bind a datagram socket at @name ('@' first: abstract); returns the fd. */
static int bind_receiver(const char *name)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	size_t length = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || length >= sizeof(address.sun_path))
		return -1;
	memcpy(address.sun_path, name, length);
	if (name[0] == '@')
		address.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&address,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram on @fd as a string, or NULL when none is queued. */
static char *receive(int fd)
{
	char buffer[OMEMD_NOTIFY_MAX + 64];
	ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);

	if (n < 0)
		return NULL;
	return g_strndup(buffer, (gsize)n);
}

/* Send @state and check that exactly it arrives on @fd. */
static void check_roundtrip(int fd, const char *state, const char *form)
{
	g_autofree char *got = NULL;
	bool sent = omemd_notify(state);

	got = receive(fd);
	tap_ok(sent && got && !strcmp(got, state), "%s: \"%s\" arrives as sent", form, state);
	if (got && strcmp(got, state))
		tap_diag("got \"%s\"", got);
}

static void test_path(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-omemd-notify-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "notify", NULL);
	g_autofree char *got = NULL;
	int fd = bind_receiver(path);

	if (!tap_ok(fd >= 0, "path: receiver bound at %s", path))
		return;
	setenv("NOTIFY_SOCKET", path, 1);
	check_roundtrip(fd, "READY=1", "path");
	check_roundtrip(fd, "STOPPING=1", "path");
	check_roundtrip(fd, "WATCHDOG=1", "path");

	tap_ok(omemd_notify_status("ready: %d omem VM(s)\nREADY=1", 3), "path: STATUS sent");
	got = receive(fd);
	tap_ok(got && !strcmp(got, "STATUS=ready: 3 omem VM(s) READY=1"),
	       "path: STATUS text on one line (a newline cannot smuggle a command)");
	g_clear_pointer(&got, g_free);

	tap_ok(omemd_notify_reloading(), "path: RELOADING sent");
	got = receive(fd);
	tap_ok(got && g_str_has_prefix(got, "RELOADING=1\nMONOTONIC_USEC=") &&
	       g_ascii_isdigit(got[strlen("RELOADING=1\nMONOTONIC_USEC=")]),
	       "path: RELOADING=1 carries MONOTONIC_USEC");
	g_clear_pointer(&got, g_free);

	{
		/* A status far longer than a datagram is cut inside the limit,
		 * never in the middle of a UTF-8 character. */
		GString *long_text = g_string_new(NULL);

		while (long_text->len < 2 * OMEMD_NOTIFY_MAX)
			g_string_append(long_text, "\xc3\xa9"); /* U+00E9, two bytes */
		tap_ok(omemd_notify_status("%s", long_text->str), "path: long STATUS sent");
		got = receive(fd);
		tap_ok(got && strlen(got) <= OMEMD_NOTIFY_MAX && g_str_has_prefix(got, "STATUS=") &&
		       g_utf8_validate(got, -1, NULL), "path: long STATUS cut to %d bytes, valid UTF-8",
		       OMEMD_NOTIFY_MAX);
		g_clear_pointer(&got, g_free);
		g_string_free(long_text, TRUE);
	}

	{
		/* systemd's queue is full (it is stuck): omemd must not block. */
		unsigned sends = 0;
		bool refused = false;
		int saved_errno = 0;

		for (sends = 0; sends < 100000; sends++) {
			if (!omemd_notify("WATCHDOG=1")) {
				refused = true;
				saved_errno = errno;
				break;
			}
		}
		tap_ok(refused && saved_errno == EAGAIN,
		       "path: a full queue is EAGAIN after %u datagrams, not a hang", sends);
		while ((got = receive(fd)))
			g_free(got);
	}

	close(fd);
	/* Nobody listens any more: an error, and errno says so. */
	errno = 0;
	tap_ok(!omemd_notify("READY=1") && errno == ECONNREFUSED,
	       "path: a socket nobody reads is ECONNREFUSED");
	unlink(path);
	errno = 0;
	tap_ok(!omemd_notify("READY=1") && errno == ENOENT, "path: a missing socket is ENOENT");
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void)
{
	g_autofree char *name = g_strdup_printf("@omem-test-notify-%d-%u", (int)getpid(),
					       g_random_int());
	int fd = bind_receiver(name);

	if (!tap_ok(fd >= 0, "abstract: receiver bound at %s", name))
		return;
	setenv("NOTIFY_SOCKET", name, 1);
	check_roundtrip(fd, "READY=1", "abstract");
	check_roundtrip(fd, "RELOADING=1", "abstract");
	check_roundtrip(fd, "STATUS=abstract works", "abstract");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_without_systemd(void)
{
	static const struct {
		const char *value;
		int want_errno;
		const char *name;
	} bad[] = {
		{ "relative/path", EINVAL, "a relative path" },
		{ "@", EINVAL, "a bare @" },
		{ "/", EINVAL, "a bare /" },
		{ "vsock:2:1234", EAFNOSUPPORT, "a vsock address" },
	};
	g_autofree char *too_long = g_strnfill(200, 'x');

	unsetenv("NOTIFY_SOCKET");
	errno = EBADF;
	tap_ok(!omemd_notify("READY=1") && errno == 0, "unset: nothing sent, errno 0");
	errno = EBADF;
	tap_ok(!omemd_notify_status("x") && errno == 0, "unset: no STATUS, errno 0");
	setenv("NOTIFY_SOCKET", "", 1);
	errno = EBADF;
	tap_ok(!omemd_notify("READY=1") && errno == 0, "empty: nothing sent, errno 0");

	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
		setenv("NOTIFY_SOCKET", bad[i].value, 1);
		errno = 0;
		tap_ok(!omemd_notify("READY=1") && errno == bad[i].want_errno, "refused: %s",
		       bad[i].name);
	}
	too_long[0] = '/';
	setenv("NOTIFY_SOCKET", too_long, 1);
	errno = 0;
	tap_ok(!omemd_notify("READY=1") && errno == EINVAL, "refused: a path longer than sun_path");
	setenv("NOTIFY_SOCKET", "/nonexistent", 1);
	{
		g_autofree char *huge = g_strnfill(OMEMD_NOTIFY_MAX + 1, 'x');

		errno = 0;
		tap_ok(!omemd_notify(huge) && errno == EMSGSIZE, "refused: a state past %d bytes",
		       OMEMD_NOTIFY_MAX);
	}
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void)
{
	g_autofree char *self = g_strdup_printf("%d", (int)getpid());
	g_autofree char *other = g_strdup_printf("%d", (int)getpid() + 1);
	uint64_t usec = 77;

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	tap_ok(omemd_notify_watchdog_usec(&usec) == 0 && usec == 77, "watchdog: unset -> 0");
	setenv("WATCHDOG_USEC", "30000000", 1);
	tap_ok(omemd_notify_watchdog_usec(&usec) == 1 && usec == 30000000,
	       "watchdog: WATCHDOG_USEC alone -> 30 s");
	setenv("WATCHDOG_PID", self, 1);
	usec = 0;
	tap_ok(omemd_notify_watchdog_usec(&usec) == 1 && usec == 30000000,
	       "watchdog: WATCHDOG_PID is this process -> enabled");
	setenv("WATCHDOG_PID", other, 1);
	usec = 77;
	tap_ok(omemd_notify_watchdog_usec(&usec) == 0 && usec == 77,
	       "watchdog: WATCHDOG_PID is another process -> 0");
	setenv("WATCHDOG_PID", "12x", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: malformed WATCHDOG_PID");
	setenv("WATCHDOG_PID", "0", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: WATCHDOG_PID 0");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "0", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: WATCHDOG_USEC 0");
	setenv("WATCHDOG_USEC", "18446744073709551615", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: WATCHDOG_USEC infinity");
	setenv("WATCHDOG_USEC", "18446744073709551616", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: WATCHDOG_USEC past 2^64");
	setenv("WATCHDOG_USEC", " 5", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: a blank before the number");
	setenv("WATCHDOG_USEC", "", 1);
	tap_eq(omemd_notify_watchdog_usec(&usec), -EINVAL, "watchdog: empty WATCHDOG_USEC");
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	test_without_systemd();
	test_path();
	test_abstract();
	test_watchdog();
	return tap_done();
}
