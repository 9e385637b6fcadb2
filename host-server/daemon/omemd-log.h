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

/* Whether a line at @level would be written (to skip costly formatting). */
gboolean omemd_log_enabled(OmemdLogLevel level);

/* Write one line at @level. */
void omemd_log(OmemdLogLevel level, const char *format, ...) G_GNUC_PRINTF(2, 3);

#endif /* OMEM_OMEMD_LOG_H */
