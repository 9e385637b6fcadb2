/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-number.h: the pieces every strict number parser of omem shares
 * (the size grammar, omem-size.c, and virt-omem's counts, percentages and
 * seconds, virt-omem/virt-omem-parse.c): one way to read digits, to bound
 * the text and to quote it in a one-line message.  Pure C, no GLib.  Not
 * installed: internal to libvirt-driver/.
 */
#ifndef OMEM_NUMBER_H
#define OMEM_NUMBER_H

#include <stddef.h>

/* Longest text a parser looks at: longer input is refused before any
 * arithmetic, and messages quote at most this much. */
#define OMEM_NUMBER_TEXT_MAX 64

/* Room for a quoted text: the characters, "..." and the NUL. */
#define OMEM_NUMBER_QUOTED (OMEM_NUMBER_TEXT_MAX + 4)

/* snprintf into @error (NULL or size 0: nothing is written). */
void omem_number_error(char *error, size_t error_size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* @text for a message: at most OMEM_NUMBER_TEXT_MAX characters, anything
 * unprintable (newlines included, so a message stays one line) as '?',
 * "..." when cut.  Returns @buffer. */
const char *omem_number_quote(const char *text, char *buffer, size_t buffer_size);

/* Leading decimal digits of @text into *ret_value, *ret_end past them.
 * -1 when there are none, -2 when they do not fit in 64 bits. */
int omem_number_digits(const char *text, unsigned long long *ret_value, const char **ret_end);

/* Refuse NULL, empty and overlong text, naming it @what in the message.
 * 0 or -1. */
int omem_number_check_text(const char *text, const char *what, char *error, size_t error_size);

/* Why @text (quoted, naming it @what) does not start with a digit: a sign
 * or anything else, as one sentence in @error. */
void omem_number_not_a_number(const char *text, const char *what, char *error, size_t error_size);

#endif /* OMEM_NUMBER_H */
