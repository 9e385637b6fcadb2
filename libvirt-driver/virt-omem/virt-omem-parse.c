/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-parse.c: strict number parsers for virt-omem's command line.
 * See virt-omem-parse.h for what each accepts; sizes are omem-size.c's.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "virt-omem-parse.h"

/* printf attribute spelled out: this file builds without GLib. */
static void __attribute__((format(printf, 3, 4)))
virt_omem_parse_error(char *error, size_t error_size, const char *format, ...)
{
	va_list ap;

	if (!error || error_size == 0)
		return;
	va_start(ap, format);
	vsnprintf(error, error_size, format, ap);
	va_end(ap);
}

/* Copy @text for quoting in a message: at most VIRT_OMEM_PARSE_MAX_TEXT
 * characters, anything unprintable (newlines included, so an error stays
 * one line) as '?'. */
static const char *virt_omem_parse_quote(const char *text, char *buffer, size_t buffer_size)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < buffer_size && i < VIRT_OMEM_PARSE_MAX_TEXT; i++) {
		unsigned char c = (unsigned char)text[i];

		buffer[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buffer[i] = '\0';
	if (text[i] && i + 4 < buffer_size)
		strcpy(buffer + i, "...");
	return buffer;
}

/* Leading decimal digits of @text into *ret_value; *ret_end points past
 * them.  -1 when there are none, -2 on overflow. */
static int virt_omem_parse_digits(const char *text, unsigned long long *ret_value,
				  const char **ret_end)
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

/* Refuse empty and overlong text; shared by every parser. */
static int virt_omem_parse_check_text(const char *text, const char *what, char *error,
				      size_t error_size)
{
	if (!text || !*text) {
		virt_omem_parse_error(error, error_size, "empty %s: give a decimal number", what);
		return -1;
	}
	if (strnlen(text, VIRT_OMEM_PARSE_MAX_TEXT + 1) > VIRT_OMEM_PARSE_MAX_TEXT) {
		virt_omem_parse_error(error, error_size, "%s is too long (more than %d characters)",
				      what, VIRT_OMEM_PARSE_MAX_TEXT);
		return -1;
	}
	return 0;
}

/* Why @text does not start with a digit, as one sentence. */
static void virt_omem_parse_not_a_number(const char *text, const char *what, char *error,
					 size_t error_size)
{
	char quoted[VIRT_OMEM_PARSE_MAX_TEXT + 4];

	virt_omem_parse_quote(text, quoted, sizeof(quoted));
	if (text[0] == '-')
		virt_omem_parse_error(error, error_size, "invalid %s '%s': negative values are not allowed",
				      what, quoted);
	else
		virt_omem_parse_error(error, error_size, "invalid %s '%s': not a decimal number", what,
				      quoted);
}

int virt_omem_parse_uint(const char *text, unsigned long long min, unsigned long long max,
			 unsigned long long *ret_value, char *error, size_t error_size)
{
	char quoted[VIRT_OMEM_PARSE_MAX_TEXT + 4];
	unsigned long long value;
	const char *end;
	int r;

	if (virt_omem_parse_check_text(text, "number", error, error_size) < 0)
		return -1;
	r = virt_omem_parse_digits(text, &value, &end);
	if (r == -1) {
		virt_omem_parse_not_a_number(text, "number", error, error_size);
		return -1;
	}
	virt_omem_parse_quote(text, quoted, sizeof(quoted));
	if (r == -2 || *end) {
		virt_omem_parse_error(error, error_size,
				      "invalid number '%s': give a whole number from %llu to %llu",
				      quoted, min, max);
		return -1;
	}
	if (value < min || value > max) {
		virt_omem_parse_error(error, error_size,
				      "number %s is out of range: give a whole number from %llu to %llu",
				      quoted, min, max);
		return -1;
	}
	*ret_value = value;
	return 0;
}

int virt_omem_parse_percent(const char *text, unsigned int *ret_percent, char *error,
			    size_t error_size)
{
	char quoted[VIRT_OMEM_PARSE_MAX_TEXT + 4];
	unsigned long long value;
	const char *end;
	int r;

	if (virt_omem_parse_check_text(text, "percentage", error, error_size) < 0)
		return -1;
	r = virt_omem_parse_digits(text, &value, &end);
	if (r == -1) {
		virt_omem_parse_not_a_number(text, "percentage", error, error_size);
		return -1;
	}
	if (r == 0 && end[0] == '%')
		end++;
	virt_omem_parse_quote(text, quoted, sizeof(quoted));
	if (r == -2 || *end || value > 100) {
		virt_omem_parse_error(error, error_size,
				      "invalid percentage '%s': give a whole number from 0 to 100",
				      quoted);
		return -1;
	}
	*ret_percent = (unsigned int)value;
	return 0;
}

int virt_omem_parse_seconds(const char *text, unsigned long long min_ms,
			    unsigned long long max_ms, unsigned long long *ret_ms, char *error,
			    size_t error_size)
{
	char quoted[VIRT_OMEM_PARSE_MAX_TEXT + 4];
	unsigned long long whole, ms = 0;
	const char *end;
	int r, decimals = 0;

	if (virt_omem_parse_check_text(text, "duration", error, error_size) < 0)
		return -1;
	r = virt_omem_parse_digits(text, &whole, &end);
	if (r == -1) {
		virt_omem_parse_not_a_number(text, "duration", error, error_size);
		return -1;
	}
	virt_omem_parse_quote(text, quoted, sizeof(quoted));
	if (r == 0 && *end == '.') {
		for (end++; *end >= '0' && *end <= '9' && decimals < 3; end++, decimals++)
			ms = ms * 10 + (unsigned long long)(*end - '0');
		if (decimals == 0)
			end = "."; /* "5." is refused below */
		for (; decimals < 3; decimals++)
			ms *= 10;
	}
	if (r == -2 || *end || whole > (ULLONG_MAX - ms) / 1000) {
		virt_omem_parse_error(error, error_size,
				      "invalid duration '%s': give seconds, e.g. 2 or 0.5 (at most three decimals)",
				      quoted);
		return -1;
	}
	ms += whole * 1000;
	if (ms < min_ms || ms > max_ms) {
		virt_omem_parse_error(error, error_size,
				      "duration %s s is out of range: give %llu.%03llu to %llu.%03llu seconds",
				      quoted, min_ms / 1000, min_ms % 1000, max_ms / 1000,
				      max_ms % 1000);
		return -1;
	}
	*ret_ms = ms;
	return 0;
}
