/* SPDX-License-Identifier: MIT */
/*
 * host-info: the host's own memory figures, for the arbiter's budget and
 * its host-pressure brake: MemTotal, MemAvailable, SwapTotal and SwapFree
 * from /proc/meminfo, and the memory pressure stall information (PSI)
 * from /proc/pressure/memory.
 *
 * The parsers are pure (text in, figures out) so that they can be unit
 * tested and fuzzed (tests/fuzz/fuzz-hostinfo.c); the files are read by
 * daemon/host-read.c.  The kernel is not hostile, but a
 * wrong figure here would size every VM on the host, so the parsers are
 * strict about the lines they use: an unknown line is skipped, a known
 * one must be exactly as the kernel writes it or the whole parse fails.
 * Nothing logs; errors come back as GError (HOST_INFO_ERROR or, from
 * host_info_read(), G_FILE_ERROR) and the outputs are left untouched.
 */
#ifndef OMEM_HOST_INFO_H
#define OMEM_HOST_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* Both files are about 1.5 KiB and 100 bytes; anything longer than this
 * is not what the kernel writes and is refused before it is parsed. */
#define HOST_INFO_TEXT_MAX (64 * 1024)

/* PSI averages are percentages with two decimals: 100.00 is the most a
 * share of wall-clock time can be, held here as 10000 hundredths. */
#define HOST_INFO_PSI_AVG_MAX 10000

#define HOST_INFO_ERROR (host_info_error_quark())
GQuark host_info_error_quark(void);

typedef enum {
	HOST_INFO_ERROR_INVALID, /* a line the parser uses is malformed, or the text is not text */
	HOST_INFO_ERROR_MISSING, /* a required line is absent */
	HOST_INFO_ERROR_RANGE,   /* a figure does not fit (kB * 1024 past 2^64, an average past 100.00) */
} HostInfoError;

/* /proc/meminfo, in bytes. */
typedef struct {
	uint64_t total_bytes;      /* MemTotal: RAM the kernel manages */
	uint64_t available_bytes;  /* MemAvailable: what can be allocated without swapping */
	uint64_t swap_total_bytes; /* SwapTotal (0 without swap) */
	uint64_t swap_free_bytes;  /* SwapFree */
} HostMeminfo;

/* One line of a PSI file: the share of time some (or all) non-idle tasks
 * were stalled on memory. */
typedef struct {
	uint32_t avg10;    /* last 10 s, hundredths of a percent (0..HOST_INFO_PSI_AVG_MAX) */
	uint32_t avg60;    /* last 60 s, likewise */
	uint32_t avg300;   /* last 300 s, likewise */
	uint64_t total_us; /* stall time since boot, microseconds */
} HostPsiLine;

/* /proc/pressure/memory. */
typedef struct {
	HostPsiLine some;  /* at least one task stalled */
	HostPsiLine full;  /* every non-idle task stalled; zero when !full_known */
	bool full_known;   /* false on kernels that write no "full" line */
} HostPsi;

/* Everything omemd reads of the host (daemon/host-read.h). */
typedef struct {
	HostMeminfo meminfo;
	HostPsi psi;        /* zero when !psi_known */
	bool psi_known;     /* false when the kernel has no PSI (CONFIG_PSI=n, psi=0) */
} HostInfo;

/* Parse the text of /proc/meminfo (@len bytes, no NUL needed).
 * MemTotal, MemAvailable, SwapTotal and SwapFree must each appear once
 * as "Key:<blanks>DIGITS kB"; other lines are skipped. */
bool host_info_parse_meminfo(const char *text, gsize len, HostMeminfo *ret, GError **error);

/* Parse the text of /proc/pressure/memory (@len bytes): a "some" line and
 * optionally a "full" line, each exactly
 * "avg10=N.NN avg60=N.NN avg300=N.NN total=N"; other lines are skipped. */
bool host_info_parse_psi(const char *text, gsize len, HostPsi *ret, GError **error);

#endif /* OMEM_HOST_INFO_H */
