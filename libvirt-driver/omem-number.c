/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-number.c: the shared pieces of omem's strict number parsers; see
 * omem-number.h.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "omem-number.h"

void omem_number_error(char *error, size_t error_size, const char *format, ...)
{
	va_list ap;

	if (!error || error_size == 0)
		return;
	va_start(ap, format);
	vsnprintf(error, error_size, format, ap);
	va_end(ap);
}

const char *omem_number_quote(const char *text, char *buffer, size_t buffer_size)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < buffer_size && i < OMEM_NUMBER_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		buffer[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buffer[i] = '\0';
	if (text[i] && i + 4 < buffer_size)
		strcpy(buffer + i, "...");
	return buffer;
}

int omem_number_digits(const char *text, unsigned long long *ret_value, const char **ret_end)
{
	unsigned long long value = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int digit = (unsigned int)(*p - '0');

		if (value > (ULLONG_MAX - digit) / 10)
			return -2;
		value = value * 10 + digit;
	}
	*ret_value = value;
	*ret_end = p;
	return 0;
}

int omem_number_check_text(const char *text, const char *what, char *error, size_t error_size)
{
	if (!text || !*text) {
		omem_number_error(error, error_size, "empty %s: give a decimal number", what);
		return -1;
	}
	if (strnlen(text, OMEM_NUMBER_TEXT_MAX + 1) > OMEM_NUMBER_TEXT_MAX) {
		omem_number_error(error, error_size, "%s is too long (more than %d characters)", what,
				  OMEM_NUMBER_TEXT_MAX);
		return -1;
	}
	return 0;
}

void omem_number_not_a_number(const char *text, const char *what, char *error, size_t error_size)
{
	char quoted[OMEM_NUMBER_QUOTED];

	omem_number_quote(text, quoted, sizeof(quoted));
	if (text[0] == '-')
		omem_number_error(error, error_size, "invalid %s '%s': negative values are not allowed",
				  what, quoted);
	else
		omem_number_error(error, error_size, "invalid %s '%s': not a decimal number", what, quoted);
}
