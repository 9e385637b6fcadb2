/* SPDX-License-Identifier: MIT */
/*
 * test-host-read: omemd's reads of /proc/meminfo and /proc/pressure/memory
 * (host-server/daemon/host-read.c) on files: both present, a missing PSI
 * file is "no PSI", a missing meminfo, a broken PSI file and a directory
 * are errors that leave the output alone; then this machine's /proc.
 * The parsing itself is test-host-info's.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon/host-read.h"
#include "tap.h"

#define KIB 1024ull

static const char meminfo_swap[] =
	"MemTotal:       1056589212 kB\n"
	"MemFree:          812345 kB\n"
	"MemAvailable:   901234567 kB\n"
	"SwapTotal:       8388604 kB\n"
	"SwapFree:        8123456 kB\n";

static const char psi_busy[] =
	"some avg10=12.34 avg60=5.06 avg300=0.99 total=123456789\n"
	"full avg10=100.00 avg60=3.00 avg300=0.10 total=18446744073709551615\n";

/* Write @text to DIR/NAME; returns the path. */
static char *write_sample(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	if (!g_file_set_contents(path, text, -1, NULL))
		tap_diag("cannot write %s", path);
	return path;
}

static void test_read(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-host-read-XXXXXX", NULL);
	g_autofree char *meminfo = write_sample(dir, "meminfo", meminfo_swap);
	g_autofree char *psi = write_sample(dir, "memory", psi_busy);
	g_autofree char *bad_psi = write_sample(dir, "bad-memory", "some avg10=1\n");
	g_autofree char *absent = g_build_filename(dir, "absent", NULL);
	HostInfo info, want;

	tap_ok(host_read_info_from(meminfo, psi, &info, &error) && info.psi_known &&
	       info.meminfo.swap_total_bytes == 8388604 * KIB && info.psi.some.avg10 == 1234,
	       "read_from: both files");
	g_clear_error(&error);
	tap_ok(host_read_info_from(meminfo, absent, &info, &error) && !info.psi_known &&
	       info.psi.some.total_us == 0 && info.meminfo.total_bytes == 1056589212 * KIB,
	       "read_from: no PSI file -> psi_known false, not an error");
	g_clear_error(&error);

	memset(&info, 0x77, sizeof(info));
	memcpy(&want, &info, sizeof(info));
	tap_ok(!host_read_info_from(absent, psi, &info, &error) &&
	       g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
	       !memcmp(&info, &want, sizeof(info)), "read_from: no meminfo is an error (ENOENT)");
	if (error)
		tap_diag("%s", error->message);
	g_clear_error(&error);
	tap_ok(!host_read_info_from(meminfo, bad_psi, &info, &error) &&
	       g_error_matches(error, HOST_INFO_ERROR, HOST_INFO_ERROR_INVALID) &&
	       strstr(error->message, bad_psi) && !memcmp(&info, &want, sizeof(info)),
	       "read_from: a broken PSI file is an error naming the file");
	if (error)
		tap_diag("%s", error->message);
	g_clear_error(&error);
	tap_ok(!host_read_info_from(dir, psi, &info, &error) &&
	       g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_ISDIR),
	       "read_from: a directory is an error (EISDIR)");
	g_clear_error(&error);

	/* This machine, as omemd will see it. */
	tap_ok(host_read_info(&info, &error) && info.meminfo.total_bytes > 0 &&
	       info.meminfo.available_bytes > 0, "read: this machine's /proc");
	if (error)
		tap_diag("%s", error->message);
	else
		tap_diag("MemTotal %" G_GUINT64_FORMAT " MiB, MemAvailable %" G_GUINT64_FORMAT
			 " MiB, PSI %s, some avg10 %u.%02u%%",
			 info.meminfo.total_bytes >> 20, info.meminfo.available_bytes >> 20,
			 info.psi_known ? "known" : "absent", info.psi.some.avg10 / 100,
			 info.psi.some.avg10 % 100);

	unlink(meminfo);
	unlink(psi);
	unlink(bad_psi);
	rmdir(dir);
}

int main(void)
{
	test_read();
	return tap_done();
}
