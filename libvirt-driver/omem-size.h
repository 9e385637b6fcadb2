/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-size.h: the one grammar for memory sizes in omem, and the one way
 * to print them.  virt-omem's arguments, omemd's --budget and omemd.conf,
 * the admission hook and the domain XML reader all parse sizes here, so a
 * figure means the same wherever an operator writes it.
 *
 * The grammar is virsh's (libvirt's virScaleInteger): a decimal integer,
 * then an optional unit, case-insensitive:
 *   b, byte, bytes                       1
 *   k, KiB   and KB                      1024 and 1000
 *   M, MiB / MB, G, GiB / GB, T, TiB / TB, P, PiB / PB, E, EiB / EB
 * A single letter or "<letter>iB" is binary, "<letter>B" decimal.  No
 * sign, no leading or trailing blank, no fraction, exponent, hexadecimal
 * or octal (007 is seven), nothing past 2^64 - 1 bytes.  What a number
 * without a unit means is the caller's: KiB for virsh's commands and the
 * domain XML, bytes for omemd.conf (OMEM_SIZE_BARE_BYTES).
 *
 * Pure C, no GLib and no libvirt, so the fuzz target compiles it alone.
 * A parser that fails writes one line into @error (what is wrong and what
 * is accepted), returns -EINVAL or -ERANGE and leaves *ret_bytes alone.
 */
#ifndef OMEM_SIZE_H
#define OMEM_SIZE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text a parser looks at: longer input is refused before any
 * arithmetic, and messages quote at most this much. */
#define OMEM_SIZE_TEXT_MAX 64

/* Room for any omem_size_format() result, and for a parser's message. */
#define OMEM_SIZE_STRING 32
#define OMEM_SIZE_ERROR_MAX 256

/* A number without a unit is bytes (omemd.conf, omemd --budget), not KiB. */
#define OMEM_SIZE_BARE_BYTES (1u << 0)
/* Refuse the decimal units (KB, MB, GB, ...) where the reader never took
 * them and an operator who writes "4GB" almost surely means 4 GiB:
 * omemd.conf says so rather than guess. */
#define OMEM_SIZE_BINARY_ONLY (1u << 1)
/* Blanks may stand between the number and its unit ("512 M"), as
 * omemd.conf always took; never before the number or after the unit. */
#define OMEM_SIZE_BLANKS (1u << 2)

/* Parse @text (NUL-terminated) with @flags (OMEM_SIZE_*). */
int omem_size_parse(const char *text, unsigned int flags, unsigned long long *ret_bytes,
		    char *error, size_t error_size);

/* The same grammar with the number and the unit apart, as libvirt's XML
 * writes them (<memory unit='KiB'>1048576</memory>): @unit NULL or ""
 * is the default @flags give. */
int omem_size_parse_parts(const char *number, const char *unit, unsigned int flags,
			  unsigned long long *ret_bytes, char *error, size_t error_size);

/* @bytes exactly, never rounded: in MiB when whole MiB ("1536 MiB"; every
 * omem size is whole virtio-mem blocks), else KiB, else bytes.  The output
 * parses back to @bytes under OMEM_SIZE_BLANKS.  Returns @buffer (OMEM_SIZE_STRING bytes will do). */
char *omem_size_format(unsigned long long bytes, char *buffer, size_t buffer_size);

#ifdef __cplusplus
}
#endif

#endif /* OMEM_SIZE_H */
