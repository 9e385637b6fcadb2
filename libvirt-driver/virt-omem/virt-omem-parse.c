/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-parse.c: strict number parsers for virt-omem's command line.
 * See virt-omem-parse.h for what each accepts.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "virt-omem-parse.h"

/* The units after a size, in the order virsh documents them. */
static const char virt_omem_parse_size_units[] =
	"b, KB, KiB (k), MB, MiB (M), GB, GiB (G), TB, TiB (T), PB, PiB (P), EB, EiB (E)";

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

/* The multiplier of a size unit, or 0 if @unit is not one. */
static unsigned long long virt_omem_parse_unit(const char *unit)
{
	static const char prefixes[] = "kmgtpe";
	unsigned long long base, scale = 1;
	const char *prefix;
	int steps;
	char first = unit[0];

	if (!*unit)
		return 1024; /* no unit: KiB, as virsh */
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes"))
		return 1;
	if (first >= 'A' && first <= 'Z')
		first = (char)(first - 'A' + 'a');
	prefix = strchr(prefixes, first);
	if (!prefix || !first)
		return 0;
	if (!unit[1] || !strcasecmp(unit + 1, "iB"))
		base = 1024;
	else if ((unit[1] == 'b' || unit[1] == 'B') && !unit[2])
		base = 1000;
	else
		return 0;
	/* 1000^6 and 1024^6 both fit in 64 bits. */
	for (steps = (int)(prefix - prefixes) + 1; steps > 0; steps--)
		scale *= base;
	return scale;
}

int virt_omem_parse_size(const char *text, unsigned long long *ret_bytes, char *error,
			 size_t error_size)
{
	char quoted[VIRT_OMEM_PARSE_MAX_TEXT + 4];
	unsigned long long value, scale;
	const char *unit;
	int r;

	if (virt_omem_parse_check_text(text, "size", error, error_size) < 0)
		return -1;
	r = virt_omem_parse_digits(text, &value, &unit);
	if (r == -1) {
		virt_omem_parse_not_a_number(text, "size", error, error_size);
		return -1;
	}
	virt_omem_parse_quote(text, quoted, sizeof(quoted));
	if (r == -2) {
		virt_omem_parse_error(error, error_size,
				      "invalid size '%s': the number does not fit in 64 bits", quoted);
		return -1;
	}
	if ((unit[0] == 'x' || unit[0] == 'X') && value == 0) {
		virt_omem_parse_error(error, error_size,
				      "invalid size '%s': hexadecimal is not accepted, give a decimal number",
				      quoted);
		return -1;
	}
	if (unit[0] == '.' || unit[0] == ',' || ((unit[0] == 'e' || unit[0] == 'E') &&
						 unit[1] >= '0' && unit[1] <= '9')) {
		virt_omem_parse_error(error, error_size,
				      "invalid size '%s': give a whole number, e.g. 1536M instead of 1.5G",
				      quoted);
		return -1;
	}
	scale = virt_omem_parse_unit(unit);
	if (scale == 0) {
		char quoted_unit[VIRT_OMEM_PARSE_MAX_TEXT + 4];

		virt_omem_parse_quote(unit, quoted_unit, sizeof(quoted_unit));
		virt_omem_parse_error(error, error_size,
				      "invalid size '%s': unknown unit '%s' (use %s; no unit means KiB)",
				      quoted, quoted_unit, virt_omem_parse_size_units);
		return -1;
	}
	if (value > ULLONG_MAX / scale) {
		virt_omem_parse_error(error, error_size,
				      "invalid size '%s': more than 2^64 bytes", quoted);
		return -1;
	}
	*ret_bytes = value * scale;
	return 0;
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

char *virt_omem_format_size(unsigned long long bytes, char *buffer, size_t buffer_size)
{
	/* One unit for every figure virt-omem prints, so they compare at a
	 * glance: MiB (every omem size is whole 2 MiB blocks), else exact. */
	if (bytes % (1ull << 20) == 0)
		snprintf(buffer, buffer_size, "%llu MiB", bytes >> 20);
	else if (bytes % 1024 == 0)
		snprintf(buffer, buffer_size, "%llu KiB", bytes >> 10);
	else
		snprintf(buffer, buffer_size, "%llu bytes", bytes);
	return buffer;
}
