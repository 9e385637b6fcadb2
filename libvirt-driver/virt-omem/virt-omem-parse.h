/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-parse.h: strict parsers for the numbers virt-omem takes on its
 * command line besides sizes (counts, percentages, seconds); sizes have
 * omem's one grammar, omem-size.h.
 *
 * Pure C without GLib or libvirt, so the libFuzzer target
 * (tests/fuzz/fuzz-size.c) compiles it alone, beside omem-size.c.  Each
 * parser starts from "invalid" and accepts only what it fully understands: no sign, no
 * leading or trailing space, no hexadecimal or octal, no exponent, no
 * overflow.  On failure it writes one sentence into @error (what is wrong
 * with the text and what is accepted) and leaves the output untouched.
 */
#ifndef VIRT_OMEM_PARSE_H
#define VIRT_OMEM_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest text a parser looks at (OMEM_NUMBER_TEXT_MAX): longer input is
 * refused before any arithmetic, and error messages quote at most this
 * much. */
#define VIRT_OMEM_PARSE_MAX_TEXT 64

/* A decimal integer in [@min, @max] (shares, iterations).  0 or -1. */
int virt_omem_parse_uint(const char *text, unsigned long long min, unsigned long long max,
			 unsigned long long *ret_value, char *error, size_t error_size);

/* A percentage 0..100, with or without a trailing '%'.  0 or -1. */
int virt_omem_parse_percent(const char *text, unsigned int *ret_percent, char *error,
			    size_t error_size);

/* Seconds as a decimal number with up to three decimals ("2", "0.5"),
 * in [@min_ms, @max_ms] once converted to milliseconds.  0 or -1. */
int virt_omem_parse_seconds(const char *text, unsigned long long min_ms,
			    unsigned long long max_ms, unsigned long long *ret_ms, char *error,
			    size_t error_size);

#endif /* VIRT_OMEM_PARSE_H */
