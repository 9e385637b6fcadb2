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

#include "omem-number.h"
#include "virt-omem-parse.h"

_Static_assert(VIRT_OMEM_PARSE_MAX_TEXT == OMEM_NUMBER_TEXT_MAX, "one bound for every number parser");

int virt_omem_parse_uint(const char *text, unsigned long long min, unsigned long long max,
			 unsigned long long *ret_value, char *error, size_t error_size)
{
	char quoted[OMEM_NUMBER_QUOTED];
	unsigned long long value;
	const char *end;
	int r;

	if (omem_number_check_text(text, "number", error, error_size) < 0)
		return -1;
	r = omem_number_digits(text, &value, &end);
	if (r == -1) {
		omem_number_not_a_number(text, "number", error, error_size);
		return -1;
	}
	omem_number_quote(text, quoted, sizeof(quoted));
	if (r == -2 || *end) {
		omem_number_error(error, error_size,
				      "invalid number '%s': give a whole number from %llu to %llu",
				      quoted, min, max);
		return -1;
	}
	if (value < min || value > max) {
		omem_number_error(error, error_size,
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
	char quoted[OMEM_NUMBER_QUOTED];
	unsigned long long value;
	const char *end;
	int r;

	if (omem_number_check_text(text, "percentage", error, error_size) < 0)
		return -1;
	r = omem_number_digits(text, &value, &end);
	if (r == -1) {
		omem_number_not_a_number(text, "percentage", error, error_size);
		return -1;
	}
	if (r == 0 && end[0] == '%')
		end++;
	omem_number_quote(text, quoted, sizeof(quoted));
	if (r == -2 || *end || value > 100) {
		omem_number_error(error, error_size,
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
	char quoted[OMEM_NUMBER_QUOTED];
	unsigned long long whole, ms = 0;
	const char *end;
	int r, decimals = 0;

	if (omem_number_check_text(text, "duration", error, error_size) < 0)
		return -1;
	r = omem_number_digits(text, &whole, &end);
	if (r == -1) {
		omem_number_not_a_number(text, "duration", error, error_size);
		return -1;
	}
	omem_number_quote(text, quoted, sizeof(quoted));
	if (r == 0 && *end == '.') {
		for (end++; *end >= '0' && *end <= '9' && decimals < 3; end++, decimals++)
			ms = ms * 10 + (unsigned long long)(*end - '0');
		if (decimals == 0)
			end = "."; /* "5." is refused below */
		for (; decimals < 3; decimals++)
			ms *= 10;
	}
	if (r == -2 || *end || whole > (ULLONG_MAX - ms) / 1000) {
		omem_number_error(error, error_size,
				      "invalid duration '%s': give seconds, e.g. 2 or 0.5 (at most three decimals)",
				      quoted);
		return -1;
	}
	ms += whole * 1000;
	if (ms < min_ms || ms > max_ms) {
		omem_number_error(error, error_size,
				      "duration %s s is out of range: give %llu.%03llu to %llu.%03llu seconds",
				      quoted, min_ms / 1000, min_ms % 1000, max_ms / 1000,
				      max_ms % 1000);
		return -1;
	}
	*ret_ms = ms;
	return 0;
}
