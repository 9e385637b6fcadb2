/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-size.c: the size grammar of omem-size.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "omem-number.h"
#include "omem-size.h"

_Static_assert(OMEM_SIZE_TEXT_MAX == OMEM_NUMBER_TEXT_MAX, "one bound for every number parser");

/* The units accepted under @flags, for messages. */
static const char *omem_size_units(unsigned int flags)
{
	if (flags & OMEM_SIZE_BINARY_ONLY)
		return "b, k or KiB, M or MiB, G or GiB, T or TiB, P or PiB, E or EiB";
	return "b, KB, KiB (k), MB, MiB (M), GB, GiB (G), TB, TiB (T), PB, PiB (P), EB, EiB (E)";
}

static const char *omem_size_bare(unsigned int flags)
{
	return flags & OMEM_SIZE_BARE_BYTES ? "bytes" : "KiB";
}

/* The multiplier of @unit under @flags; 0 if it is not a unit, and
 * *ret_decimal set when it is a decimal one. */
static unsigned long long omem_size_unit_scale(const char *unit, unsigned int flags,
					       int *ret_decimal)
{
	static const char prefixes[] = "kmgtpe";
	unsigned long long base, scale = 1;
	const char *prefix;
	char first = unit[0];

	*ret_decimal = 0;
	if (!*unit)
		return flags & OMEM_SIZE_BARE_BYTES ? 1 : 1024;
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes"))
		return 1;
	if (first >= 'A' && first <= 'Z')
		first = (char)(first - 'A' + 'a');
	prefix = first ? strchr(prefixes, first) : NULL;
	if (!prefix)
		return 0;
	if (!unit[1] || !strcasecmp(unit + 1, "iB")) {
		base = 1024;
	} else if ((unit[1] == 'b' || unit[1] == 'B') && !unit[2]) {
		base = 1000;
		*ret_decimal = 1;
	} else {
		return 0;
	}
	/* 1000^6 and 1024^6 both fit in 64 bits. */
	for (const char *p = prefixes; p <= prefix; p++)
		scale *= base;
	return scale;
}

/* The digits at the start of @text (@quoted for messages) into
 * *ret_value, *ret_end past them.  0, or -EINVAL/-ERANGE with the message
 * written: no digit, overflow, hexadecimal, a fraction or an exponent. */
static int omem_size_digits(const char *text, const char *quoted, unsigned long long *ret_value,
			    const char **ret_end, char *error, size_t error_size)
{
	unsigned long long value;
	const char *p;
	int r;

	r = omem_number_digits(text, &value, &p);
	if (r == -1) {
		omem_number_not_a_number(text, "size", error, error_size);
		return -EINVAL;
	}
	if (r == -2) {
		omem_number_error(error, error_size,
				  "invalid size '%s': the number does not fit in 64 bits", quoted);
		return -ERANGE;
	}
	if ((p[0] == 'x' || p[0] == 'X') && value == 0) {
		omem_number_error(error, error_size,
				  "invalid size '%s': hexadecimal is not accepted, give a decimal number",
				  quoted);
		return -EINVAL;
	}
	if (p[0] == '.' || p[0] == ',' || ((p[0] == 'e' || p[0] == 'E') && p[1] >= '0' && p[1] <= '9')) {
		omem_number_error(error, error_size,
				  "invalid size '%s': give a whole number, e.g. 1536M instead of 1.5G", quoted);
		return -EINVAL;
	}
	*ret_value = value;
	*ret_end = p;
	return 0;
}

/* @value times @unit's scale into *ret_bytes; the messages quote @quoted. */
static int omem_size_scale(unsigned long long value, const char *unit, const char *quoted,
			   unsigned int flags, unsigned long long *ret_bytes, char *error,
			   size_t error_size)
{
	char quoted_unit[OMEM_NUMBER_QUOTED];
	unsigned long long scale;
	int decimal;

	scale = omem_size_unit_scale(unit, flags, &decimal);
	if (scale == 0) {
		omem_number_quote(unit, quoted_unit, sizeof(quoted_unit));
		omem_number_error(error, error_size, "invalid size '%s': unknown unit '%s' (use %s; no unit means %s)",
				quoted, quoted_unit, omem_size_units(flags), omem_size_bare(flags));
		return -EINVAL;
	}
	if (decimal && (flags & OMEM_SIZE_BINARY_ONLY)) {
		omem_number_quote(unit, quoted_unit, sizeof(quoted_unit));
		omem_number_error(error, error_size, "invalid size '%s': decimal unit '%s' is not taken here, to avoid a guess; write %c or %ciB (1024-based) or a byte count",
				quoted, quoted_unit, unit[0], unit[0]);
		return -EINVAL;
	}
	if (value > ULLONG_MAX / scale) {
		omem_number_error(error, error_size, "invalid size '%s': more than 2^64 bytes", quoted);
		return -ERANGE;
	}
	*ret_bytes = value * scale;
	return 0;
}

int omem_size_parse(const char *text, unsigned int flags, unsigned long long *ret_bytes,
		    char *error, size_t error_size)
{
	char quoted[OMEM_NUMBER_QUOTED];
	unsigned long long value;
	const char *unit;
	int r;

	if (omem_number_check_text(text, "size", error, error_size) < 0)
		return -EINVAL;
	omem_number_quote(text, quoted, sizeof(quoted));
	r = omem_size_digits(text, quoted, &value, &unit, error, error_size);
	if (r < 0)
		return r;
	/* "4 G": blanks between the number and its unit, never after it. */
	while ((flags & OMEM_SIZE_BLANKS) && (*unit == ' ' || *unit == '\t'))
		unit++;
	if (unit > text && (unit[-1] == ' ' || unit[-1] == '\t') && !*unit) {
		omem_number_error(error, error_size, "invalid size '%s': unknown unit '' after blanks (use %s; no unit means %s)",
				quoted, omem_size_units(flags), omem_size_bare(flags));
		return -EINVAL;
	}
	return omem_size_scale(value, unit, quoted, flags, ret_bytes, error, error_size);
}

int omem_size_parse_parts(const char *number, const char *unit, unsigned int flags,
			  unsigned long long *ret_bytes, char *error, size_t error_size)
{
	char quoted[OMEM_NUMBER_QUOTED];
	unsigned long long value;
	const char *end;
	int r;

	if (omem_number_check_text(number, "size", error, error_size) < 0)
		return -EINVAL;
	if (unit && *unit && omem_number_check_text(unit, "unit", error, error_size) < 0)
		return -EINVAL;
	omem_number_quote(number, quoted, sizeof(quoted));
	r = omem_size_digits(number, quoted, &value, &end, error, error_size);
	if (r < 0)
		return r;
	if (*end) {
		omem_number_error(error, error_size, "invalid size '%s': not a decimal number", quoted);
		return -EINVAL;
	}
	return omem_size_scale(value, unit ? unit : "", quoted, flags, ret_bytes, error, error_size);
}

char *omem_size_format(unsigned long long bytes, char *buffer, size_t buffer_size)
{
	if (bytes % (1ull << 20) == 0)
		snprintf(buffer, buffer_size, "%llu MiB", bytes >> 20);
	else if (bytes % 1024 == 0)
		snprintf(buffer, buffer_size, "%llu KiB", bytes >> 10);
	else
		snprintf(buffer, buffer_size, "%llu bytes", bytes);
	return buffer;
}
