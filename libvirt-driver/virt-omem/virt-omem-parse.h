/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-parse.h: strict parsers for the numbers virt-omem takes on its
 * command line (sizes, counts, percentages, seconds).
 *
 * Pure C without GLib or libvirt, so the libFuzzer target
 * (tests/fuzz/fuzz-size.c) compiles it alone.  Each parser starts from
 * "invalid" and accepts only what it fully understands: no sign, no
 * leading or trailing space, no hexadecimal or octal, no exponent, no
 * overflow.  On failure it writes one sentence into @error (what is wrong
 * with the text and what is accepted) and leaves the output untouched.
 */
#ifndef VIRT_OMEM_PARSE_H
#define VIRT_OMEM_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest text a parser looks at: longer input is refused before any
 * arithmetic, and error messages quote at most this much. */
#define VIRT_OMEM_PARSE_MAX_TEXT 64

/* A size as virsh takes it: a decimal integer and an optional unit, KiB
 * when none is given.  Units (case-insensitive, as libvirt's
 * virScaleInteger): b, byte, bytes; k, KiB = 1024 and KB = 1000; likewise
 * M/MiB/MB, G/GiB/GB, T/TiB/TB, P/PiB/PB, E/EiB/EB.  The result is in
 * bytes and must fit in 64 bits.  0 on success, -1 on invalid text. */
int virt_omem_parse_size(const char *text, unsigned long long *ret_bytes, char *error,
			 size_t error_size);

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

/* Format @bytes exactly: in MiB when it is whole MiB ("1536 MiB",
 * "4096 MiB"), else KiB, else bytes; never a rounded figure.  Returns
 * @buffer. */
char *virt_omem_format_size(unsigned long long bytes, char *buffer, size_t buffer_size);

/* Big enough for any virt_omem_format_size result. */
#define VIRT_OMEM_SIZE_STRING 32

#endif /* VIRT_OMEM_PARSE_H */
