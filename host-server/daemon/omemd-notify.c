/* SPDX-License-Identifier: MIT */
/*
 * omemd-notify: the sd_notify datagram sender (see omemd-notify.h).
 */
#include "config.h"

#include "daemon/omemd-notify.h"
#include "omem/autofd.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Fill @address from $NOTIFY_SOCKET's @path; returns the address length
 * or -errno.  An abstract name keeps its exact length: the kernel matches
 * every byte of it, a trailing NUL included. */
static int omemd_notify_address(const char *path, struct sockaddr_un *address)
{
	size_t length = strlen(path);

	if (path[0] != '/' && path[0] != '@')
		return strchr(path, ':') ? -EAFNOSUPPORT : -EINVAL; /* vsock:..., or relative */
	if (length < 2 || length >= sizeof(address->sun_path))
		return -EINVAL;
	memset(address, 0, sizeof(*address));
	address->sun_family = AF_UNIX;
	memcpy(address->sun_path, path, length);
	if (path[0] == '@')
		address->sun_path[0] = '\0';
	return (int)(offsetof(struct sockaddr_un, sun_path) + length);
}

bool omemd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un address;
	size_t length = strlen(state);
	omem_autofd int fd = -1;
	ssize_t sent;
	int address_length;

	if (!path || !path[0]) {
		errno = 0;
		return false;
	}
	address_length = omemd_notify_address(path, &address);
	if (address_length < 0) {
		errno = -address_length;
		return false;
	}
	if (length == 0 || length > OMEMD_NOTIFY_MAX) {
		errno = length ? EMSGSIZE : EINVAL;
		return false;
	}
	/* A socket per message, as libsystemd does: omemd sends a handful in
	 * its life (the watchdog a few per minute), and there is no socket to
	 * keep valid across a systemd re-execution. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	do {
		sent = sendto(fd, state, length, MSG_NOSIGNAL | MSG_DONTWAIT,
			      (const struct sockaddr *)&address, (socklen_t)address_length);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return false;
	if ((size_t)sent != length) {
		errno = EMSGSIZE; /* a datagram goes out whole or not at all */
		return false;
	}
	errno = 0;
	return true;
}

bool omemd_notify_status(const char *format, ...)
{
	static const char prefix[] = "STATUS=";
	g_autofree char *text = NULL, *state = NULL;
	size_t length;
	va_list ap;
	char *c;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* One assignment per line: a newline in the text would start a
	 * second one, which systemd would take for a command. */
	for (c = text; *c; c++) {
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	}
	length = strlen(text);
	if (length > OMEMD_NOTIFY_MAX - (sizeof(prefix) - 1)) {
		length = OMEMD_NOTIFY_MAX - (sizeof(prefix) - 1);
		/* Back off continuation bytes so no character is cut in two. */
		while (length > 0 && ((unsigned char)text[length] & 0xc0) == 0x80)
			length--;
		text[length] = '\0';
	}
	state = g_strconcat(prefix, text, NULL);
	return omemd_notify(state);
}

bool omemd_notify_reloading(void)
{
	char state[64];
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return omemd_notify("RELOADING=1");
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now.tv_sec * 1000000ull + (unsigned long long)now.tv_nsec / 1000);
	return omemd_notify(state);
}

/* A whole decimal number, nothing else (no sign, no blanks). */
static int omemd_notify_parse_u64(const char *text, uint64_t *ret_value)
{
	uint64_t value = 0;
	const char *c;

	if (!*text)
		return -EINVAL;
	for (c = text; *c; c++) {
		unsigned digit;

		if (*c < '0' || *c > '9')
			return -EINVAL;
		digit = (unsigned)(*c - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		value = value * 10 + digit;
	}
	*ret_value = value;
	return 0;
}

int omemd_notify_watchdog_usec(uint64_t *ret_usec)
{
	const char *usec_text = getenv("WATCHDOG_USEC");
	const char *pid_text = getenv("WATCHDOG_PID");
	uint64_t usec, pid;

	if (!usec_text)
		return 0;
	/* 0 and "infinity" (UINT64_MAX) are not intervals anyone can keep. */
	if (omemd_notify_parse_u64(usec_text, &usec) < 0 || usec == 0 || usec == UINT64_MAX)
		return -EINVAL;
	if (pid_text) {
		if (omemd_notify_parse_u64(pid_text, &pid) < 0 || pid == 0 || pid > INT32_MAX)
			return -EINVAL;
		/* Meant for another process of the service, e.g. a parent
		 * that forked omemd. */
		if ((pid_t)pid != getpid())
			return 0;
	}
	*ret_usec = usec;
	return 1;
}
