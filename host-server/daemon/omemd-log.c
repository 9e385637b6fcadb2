/* SPDX-License-Identifier: MIT */
/*
 * omemd-log: one line per event on stderr (see omemd-log.h).
 */
#include "config.h"

#include "daemon/omemd-log.h"

#include <stdio.h>
#include <stdlib.h>

static OmemdLogLevel omemd_log_level = OMEMD_LOG_INFO;

void omemd_log_set_level(OmemdLogLevel level)
{
	omemd_log_level = level;
}

gboolean omemd_log_enabled(OmemdLogLevel level)
{
	return level <= omemd_log_level;
}

void omemd_log(OmemdLogLevel level, const char *format, ...)
{
	/* syslog priorities: err, warning, info, debug. */
	static const int priorities[] = { 3, 4, 6, 7 };
	static const char *const names[] = { "error", "warning", "info", "debug" };
	g_autofree char *message = NULL;
	va_list ap;

	if (!omemd_log_enabled(level))
		return;
	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", priorities[level], message);
	else
		fprintf(stderr, "omemd: %s: %s\n", names[level], message);
}
