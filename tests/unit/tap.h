/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for omem's unit tests: one "ok N - name" line per
 * check, a plan at the end, exit status 1 when anything failed.  Header
 * only, so every test binary stays one file.
 */
#ifndef OMEM_TAP_H
#define OMEM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;  /* checks reported so far */
static int tap_failed; /* of which failed */

/* Report one check; returns cond so callers can stop early on failure. */
static inline int __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* A check that cannot run here, with the reason: "ok N - what # SKIP why".
 * Call it only from the branch of a condition that decided it cannot run;
 * it is never a pass. */
static inline void __attribute__((format(printf, 2, 3)))
tap_skip(const char *what, const char *why_fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %d - %s # SKIP ", tap_count, what);
	va_start(ap, why_fmt);
	vprintf(why_fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A diagnostic line, shown by TAP harnesses but not counted. */
static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Compare two integers, printing both on failure. */
#define tap_eq(got, want, ...)                                              \
	({                                                                  \
		long long tap_got_ = (long long)(got);                      \
		long long tap_want_ = (long long)(want);                    \
		int tap_r_ = tap_ok(tap_got_ == tap_want_, __VA_ARGS__);    \
		if (!tap_r_)                                                \
			tap_diag("got %lld, want %lld", tap_got_, tap_want_); \
		tap_r_;                                                     \
	})

/* Print the plan and return the process exit status. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* OMEM_TAP_H */
