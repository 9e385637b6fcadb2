/* SPDX-License-Identifier: MIT */
/*
 * omemd-log: omemd's one log line per event, on stderr.  Under systemd
 * (JOURNAL_STREAM set) each line carries a "<N>" syslog priority prefix,
 * which journald turns into the entry's priority; otherwise
 * "omemd: LEVEL: message".  Thread-safe (one fprintf per line).  Only the
 * daemon's edges log: policy, session, codec and rings never do.
 */
#ifndef OMEM_OMEMD_LOG_H
#define OMEM_OMEMD_LOG_H

#include <glib.h>

#include "formats/omemd-config.h"

/* Lines above this level are dropped; set once from the config. */
void omemd_log_set_level(OmemdLogLevel level);

/* Lines go to @sink instead of stderr (NULL: stderr again), for tests
 * that count them; set before any thread logs. */
typedef void (*OmemdLogSink)(OmemdLogLevel level, const char *message, void *data);
void omemd_log_set_sink(OmemdLogSink sink, void *data);

/* Whether a line at @level would be written (to skip costly formatting). */
gboolean omemd_log_enabled(OmemdLogLevel level);

/* Write one line at @level. */
void omemd_log(OmemdLogLevel level, const char *format, ...) G_GNUC_PRINTF(2, 3);

/*
 * Guest-triggered lines, rate-limited per VM in this one place (the
 * kernel's printk_ratelimited): at most OMEMD_LOG_LIMIT_LINES lines per
 * OMEMD_LOG_LIMIT_INTERVAL_MS for one VM; the rest are dropped and counted,
 * and the next line after the window (or omemd_log_limit_flush from a
 * tick) first says "vm NAME: N lines suppressed".  A guest that floods
 * omemd with messages each worth a line cannot flood the journal.
 */
#define OMEMD_LOG_LIMIT_LINES 20
#define OMEMD_LOG_LIMIT_INTERVAL_MS 5000

/* One VM's window; all zero to start.  Owned by one thread. */
typedef struct {
	int64_t window_start_ms;     /* when the current window began */
	uint32_t lines;              /* lines written in it */
	uint64_t suppressed;         /* lines dropped in it */
} OmemdLogLimit;

/* Whether a line may be written at @now_ms (counted either way); when a
 * window with dropped lines ended, sets *@ret_suppressed to their number
 * (else 0) for the caller's summary line.  Pure: no output. */
gboolean omemd_log_limit_take(OmemdLogLimit *limit, int64_t now_ms, uint64_t *ret_suppressed);

/* Write one line "vm NAME: message" at @level through @limit. */
void omemd_log_vm(OmemdLogLimit *limit, const char *name, int64_t now_ms, OmemdLogLevel level,
		  const char *format, ...) G_GNUC_PRINTF(5, 6);

/* The summary of a window that ended with dropped lines, when no line
 * came after it (the tick calls it). */
void omemd_log_limit_flush(OmemdLogLimit *limit, const char *name, int64_t now_ms);

#endif /* OMEM_OMEMD_LOG_H */
