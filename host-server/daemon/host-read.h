/* SPDX-License-Identifier: MIT */
/*
 * host-read.h: read /proc/meminfo and /proc/pressure/memory and parse
 * them with formats/host-info.h.  Errors come back as G_FILE_ERROR (the
 * read) or HOST_INFO_ERROR (the text); outputs are left untouched.
 */
#ifndef OMEM_HOST_READ_H
#define OMEM_HOST_READ_H

#include "formats/host-info.h"

/* Read and parse both files at the given paths; a PSI file that does not
 * exist or that the kernel refuses to show (PSI disabled) gives
 * psi_known = false, not an error.  For tests; omemd uses host_read_info. */
bool host_read_info_from(const char *meminfo_path, const char *psi_path, HostInfo *ret,
			 GError **error);

/* host_read_info_from("/proc/meminfo", "/proc/pressure/memory", ...). */
bool host_read_info(HostInfo *ret, GError **error);

#endif /* OMEM_HOST_READ_H */
