/* SPDX-License-Identifier: MIT */
/*
 * host-read.c: the only reads of the host's /proc memory files; the
 * parsing is formats/host-info.c, which takes the text.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "daemon/host-read.h"
#include "omem/autofd.h"

/* Read a whole (proc) file into a new buffer of at most HOST_INFO_TEXT_MAX
 * bytes: 0, or -errno (-EFBIG when longer).  g_file_get_contents() is
 * neither bounded nor does it keep errno (EOPNOTSUPP, PSI disabled). */
static int host_read_file(const char *path, char **ret_text, gsize *ret_len)
{
	g_autofree char *text = g_malloc(HOST_INFO_TEXT_MAX + 1);
	omem_autofd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	gsize len = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, text + len, HOST_INFO_TEXT_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (gsize)n;
		if (len > HOST_INFO_TEXT_MAX)
			return -EFBIG;
	}
	*ret_text = g_steal_pointer(&text);
	*ret_len = len;
	return 0;
}

static bool host_read_fail(GError **error, const char *path, int r)
{
	if (r == -EFBIG)
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "%s: longer than %d bytes; not the kernel's file", path, HOST_INFO_TEXT_MAX);
	else
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r), "cannot read %s: %s",
			    path, g_strerror(-r));
	return false;
}

bool host_read_info_from(const char *meminfo_path, const char *psi_path, HostInfo *ret,
			 GError **error)
{
	g_autofree char *meminfo_text = NULL, *psi_text = NULL;
	HostInfo info = { 0 };
	gsize len = 0;
	int r;

	r = host_read_file(meminfo_path, &meminfo_text, &len);
	if (r < 0)
		return host_read_fail(error, meminfo_path, r);
	if (!host_info_parse_meminfo(meminfo_text, len, &info.meminfo, error)) {
		g_prefix_error(error, "%s: ", meminfo_path);
		return false;
	}

	/* No file: CONFIG_PSI=n or psi=0 on a kernel with
	 * CONFIG_PSI_DEFAULT_DISABLED.  EOPNOTSUPP: the file exists but PSI
	 * was disabled at boot.  Either way omemd runs without the brake. */
	r = host_read_file(psi_path, &psi_text, &len);
	if (r == -ENOENT || r == -EOPNOTSUPP) {
		info.psi_known = false;
	} else if (r < 0) {
		return host_read_fail(error, psi_path, r);
	} else {
		if (!host_info_parse_psi(psi_text, len, &info.psi, error)) {
			g_prefix_error(error, "%s: ", psi_path);
			return false;
		}
		info.psi_known = true;
	}
	*ret = info;
	return true;
}

bool host_read_info(HostInfo *ret, GError **error)
{
	return host_read_info_from("/proc/meminfo", "/proc/pressure/memory", ret, error);
}
