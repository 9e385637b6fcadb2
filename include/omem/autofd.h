/* SPDX-License-Identifier: MIT */
/*
 * omem/autofd.h: a file descriptor closed when its variable goes out of
 * scope, the one fd-cleanup idiom of omem's user-space programs (omemd,
 * its libraries, the qemu hook).  Not installed and not for the kernel
 * module.  It lives here because every part of host-server/ may include
 * omem/ headers and no part may include another's.
 *
 * GLib has g_autofd only from 2.76; Debian 12 ships 2.74.  Once 2.76 is
 * the floor, omem_autofd becomes g_autofd word for word.
 *
 *     omem_autofd int fd = socket(...);
 *     if (fd < 0)
 *             return -errno;
 *     ...                        closed on every return from here on
 *     return g_steal_fd(&fd);    handed out instead (GLib 2.70)
 */
#ifndef OMEM_AUTOFD_H
#define OMEM_AUTOFD_H

#include <errno.h>
#include <unistd.h>

/* Close *@fd unless it is negative, keeping errno: a function that set
 * errno (or returns -errno) on its way out must not see close() change
 * it. */
static inline void omem_autofd_close(int *fd)
{
	if (*fd >= 0) {
		int saved_errno = errno;

		close(*fd);
		*fd = -1;
		errno = saved_errno;
	}
}

#define omem_autofd __attribute__((cleanup(omem_autofd_close)))

#endif /* OMEM_AUTOFD_H */
