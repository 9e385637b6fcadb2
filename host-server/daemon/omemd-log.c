/* SPDX-License-Identifier: MIT */
/*
 * omemd-log: one line per event on stderr (see omemd-log.h).
 */
#include "config.h"

#include "daemon/omemd-log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static OmemdLogLevel omemd_log_level = OMEMD_LOG_INFO;
static OmemdLogSink omemd_log_sink;
static void *omemd_log_sink_data;

void omemd_log_set_sink(OmemdLogSink sink, void *data)
{
	omemd_log_sink = sink;
	omemd_log_sink_data = data;
}

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
	if (omemd_log_sink)
		omemd_log_sink(level, message, omemd_log_sink_data);
	else if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", priorities[level], message);
	else
		fprintf(stderr, "omemd: %s: %s\n", names[level], message);
}

/* Start a new window at @now_ms when the last one is over; returns what
 * it dropped. */
static uint64_t omemd_log_limit_roll(OmemdLogLimit *limit, int64_t now_ms)
{
	uint64_t suppressed = 0;

	if (limit->window_start_ms == 0 || now_ms < limit->window_start_ms ||
	    now_ms - limit->window_start_ms >= OMEMD_LOG_LIMIT_INTERVAL_MS) {
		suppressed = limit->suppressed;
		*limit = (OmemdLogLimit){ .window_start_ms = now_ms ? now_ms : 1 };
	}
	return suppressed;
}

gboolean omemd_log_limit_take(OmemdLogLimit *limit, int64_t now_ms, uint64_t *ret_suppressed)
{
	*ret_suppressed = omemd_log_limit_roll(limit, now_ms);
	if (limit->lines >= OMEMD_LOG_LIMIT_LINES) {
		limit->suppressed++;
		return FALSE;
	}
	limit->lines++;
	return TRUE;
}

static void omemd_log_summary(const char *name, uint64_t suppressed)
{
	if (suppressed)
		omemd_log(OMEMD_LOG_WARNING, "vm %s: %" G_GUINT64_FORMAT " lines suppressed (more than %u in %u s)",
			  name, suppressed, OMEMD_LOG_LIMIT_LINES, OMEMD_LOG_LIMIT_INTERVAL_MS / 1000);
}

void omemd_log_vm(OmemdLogLimit *limit, const char *name, int64_t now_ms, OmemdLogLevel level,
		  const char *format, ...)
{
	g_autofree char *message = NULL;
	uint64_t suppressed;
	gboolean allowed;
	va_list ap;

	/* A line that would not be written anyway costs no budget. */
	if (!omemd_log_enabled(level))
		return;
	allowed = omemd_log_limit_take(limit, now_ms, &suppressed);
	omemd_log_summary(name, suppressed);
	if (!allowed)
		return;
	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	omemd_log(level, "vm %s: %s", name, message);
}

void omemd_log_limit_flush(OmemdLogLimit *limit, const char *name, int64_t now_ms)
{
	if (limit->suppressed && now_ms - limit->window_start_ms >= OMEMD_LOG_LIMIT_INTERVAL_MS)
		omemd_log_summary(name, omemd_log_limit_roll(limit, now_ms));
}
