/* SPDX-License-Identifier: MIT */
/*
 * omemd-notify: systemd's readiness and watchdog protocol (sd_notify(3))
 * without libsystemd, which omemd does not otherwise need.  systemd puts
 * the path of a datagram socket in $NOTIFY_SOCKET (a leading '@' names
 * one in the abstract namespace); the service sends "READY=1",
 * "RELOADING=1", "STOPPING=1", "STATUS=..." or "WATCHDOG=1" there.
 *
 * Every send is one non-blocking datagram: a busy or absent systemd never
 * stalls omemd, and a lost notification is never fatal.  Nothing here
 * logs: the functions say whether the datagram went out and leave errno
 * set, and the caller logs.  Unit test: tests/unit/test-omemd-notify.c.
 */
#ifndef OMEM_OMEMD_NOTIFY_H
#define OMEM_OMEMD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* systemd reads at most this much of one datagram (PIPE_BUF). */
#define OMEMD_NOTIFY_MAX 4096

/* Send @state ("READY=1", or several "KEY=VALUE" lines joined by '\n').
 * true when sent; false with errno 0 when $NOTIFY_SOCKET is unset (not
 * under systemd: nothing to do), otherwise with errno saying why
 * (EINVAL: a malformed $NOTIFY_SOCKET, EAFNOSUPPORT: an address form
 * other than a path or '@', EMSGSIZE: @state too long, EAGAIN: systemd's
 * queue is full, or what socket() and sendto() said). */
bool omemd_notify(const char *state);

/* "STATUS=" plus the formatted text, the one-line status `systemctl
 * status` shows.  Newlines become spaces; the text is cut (at a UTF-8
 * character boundary) to fit one datagram.  Returns as omemd_notify. */
bool omemd_notify_status(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* "RELOADING=1" with "MONOTONIC_USEC=" now, which systemd 253 and later
 * want to tell this reload from an earlier one.  Send "READY=1" when the
 * reload is over, whether it worked or not.  Returns as omemd_notify. */
bool omemd_notify_reloading(void);

/* Whether systemd expects "WATCHDOG=1" from this process, as
 * sd_watchdog_enabled(3): 1 with the interval in *ret_usec (ping at half
 * of it), 0 when not ($WATCHDOG_USEC unset, or $WATCHDOG_PID names
 * another process), -EINVAL when either variable is malformed. */
int omemd_notify_watchdog_usec(uint64_t *ret_usec);

#endif /* OMEM_OMEMD_NOTIFY_H */
