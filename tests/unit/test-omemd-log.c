/* SPDX-License-Identifier: MIT */
/*
 * test-omemd-log: the per-VM rate limit of guest-triggered log lines
 * (host-server/daemon/omemd-log.c): a flood is cut to the window's lines,
 * the rest counted for one summary, and a quiet guest loses nothing.
 */
#include "config.h"

#include "daemon/omemd-log.h"
#include "tap.h"

int main(void)
{
	OmemdLogLimit limit = { 0 };
	uint64_t suppressed = 0, summary = 0;
	int allowed = 0;

	/* 2000 lines a second for one second, as a HELLO flood would. */
	for (int i = 0; i < 2000; i++) {
		if (omemd_log_limit_take(&limit, 1000 + i / 2, &suppressed))
			allowed++;
		summary += suppressed;
	}
	tap_eq(allowed, OMEMD_LOG_LIMIT_LINES, "a flood: only the window's %u lines are written",
	       OMEMD_LOG_LIMIT_LINES);
	tap_eq(summary, 0, "... no summary inside the window");
	tap_ok(omemd_log_limit_take(&limit, 1000 + OMEMD_LOG_LIMIT_INTERVAL_MS, &suppressed),
	       "the next window writes again");
	tap_eq(suppressed, 2000 - OMEMD_LOG_LIMIT_LINES, "... after one summary of the dropped lines");
	tap_ok(omemd_log_limit_take(&limit, 1001 + OMEMD_LOG_LIMIT_INTERVAL_MS, &suppressed) &&
	       suppressed == 0, "... which is said once");

	/* A quiet guest: a line a second is never dropped. */
	limit = (OmemdLogLimit){ 0 };
	allowed = 0;
	for (int i = 0; i < 600; i++)
		allowed += omemd_log_limit_take(&limit, 1 + i * 1000, &suppressed);
	tap_eq(allowed, 600, "one line a second for 10 minutes: every line written");

	/* A clock that goes back starts a new window instead of dropping. */
	limit = (OmemdLogLimit){ 0 };
	for (int i = 0; i < 50; i++)
		omemd_log_limit_take(&limit, 10000, &suppressed);
	tap_ok(omemd_log_limit_take(&limit, 5000, &suppressed) && suppressed == 50 - OMEMD_LOG_LIMIT_LINES,
	       "a clock going back: a new window, with the summary");
	return tap_done();
}
