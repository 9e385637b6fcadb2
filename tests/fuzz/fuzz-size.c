/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for omem's one size grammar
 * (libvirt-driver/omem-size.c) and virt-omem's other number parsers
 * (libvirt-driver/virt-omem/virt-omem-parse.c): the input, cut at the
 * first NUL, is given to every parser as an argument would be, and to
 * the size grammar under each reading (virsh's, omemd.conf's, the XML's
 * number and unit apart).  The oracle aborts when a parser accepts text
 * it must refuse or returns a value that breaks its contract:
 *   - a size is accepted only if it is digits, blanks where the reading
 *     allows them, and a known unit, and the value equals the digits times the unit (recomputed
 *     here in 128 bits); omemd.conf's reading never takes a decimal unit;
 *   - a refusal leaves the output untouched and writes a one-line message;
 *   - counts, percentages and seconds stay within their bounds;
 *   - a formatted size fits OMEM_SIZE_STRING and parses back to itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "omem-number.h"
#include "omem-size.h"
#include "virt-omem-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Arguments longer than this are cut: the parsers refuse anything past
 * OMEM_NUMBER_TEXT_MAX (omem-number.h), so longer inputs add
 * nothing. */
#define FUZZ_SIZE_MAX_TEXT 256

static const unsigned long long fuzz_size_untouched = 0x5a5a5a5a5a5a5a5aULL;

/* The unit's multiplier, written independently of the parser; *decimal
 * tells a 1000-based one. */
static unsigned __int128 fuzz_size_unit(const char *unit, unsigned int flags, int *decimal)
{
	static const char *const names[] = { "k", "m", "g", "t", "p", "e" };
	unsigned __int128 scale = 1;
	size_t i, j;

	*decimal = 0;
	if (!*unit)
		return flags & OMEM_SIZE_BARE_BYTES ? 1 : 1024;
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes"))
		return 1;
	for (i = 0; i < 6; i++) {
		if (strncasecmp(unit, names[i], 1) != 0)
			continue;
		for (j = 0; j <= i; j++)
			scale *= !unit[1] || !strcasecmp(unit + 1, "ib") ? 1024 : 1000;
		*decimal = unit[1] && strcasecmp(unit + 1, "ib") != 0;
		if (!unit[1] || !strcasecmp(unit + 1, "ib") || !strcasecmp(unit + 1, "b"))
			return scale;
	}
	return 0;
}

static void fuzz_size_check_message(int r, const char *error)
{
	if (r < 0 && (error[0] == '\0' || strchr(error, '\n')))
		abort();
}

/* omem_size_parse under @flags, checked against the oracle. */
static void fuzz_size_grammar(const char *text, unsigned int flags)
{
	char error[OMEM_SIZE_ERROR_MAX];
	char formatted[OMEM_SIZE_STRING];
	unsigned long long value = fuzz_size_untouched, back = 0;
	int r;

	error[0] = '\0';
	r = omem_size_parse(text, flags, &value, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r < 0 && value != fuzz_size_untouched)
		abort();
	if (r == 0) {
		unsigned __int128 digits = 0, scale;
		const char *p = text;
		int decimal;

		if (*p < '0' || *p > '9')
			abort();
		for (; *p >= '0' && *p <= '9'; p++)
			digits = digits * 10 + (unsigned)(*p - '0');
		while ((flags & OMEM_SIZE_BLANKS) && (*p == ' ' || *p == '\t'))
			p++;
		if (p > text && (p[-1] == ' ' || p[-1] == '\t') && !*p)
			abort(); /* trailing blanks are refused */
		scale = fuzz_size_unit(p, flags, &decimal);
		if (scale == 0 || digits * scale != value)
			abort();
		if (decimal && (flags & OMEM_SIZE_BINARY_ONLY))
			abort();
		omem_size_format(value, formatted, sizeof(formatted));
		if (strlen(formatted) + 1 > sizeof(formatted))
			abort();
		if (omem_size_parse(formatted, OMEM_SIZE_BLANKS, &back, NULL, 0) != 0 || back != value)
			abort();
	}
}

/* The XML's reading: the text up to the first blank is the number, the
 * rest the unit. */
static void fuzz_size_parts(const char *text)
{
	char number[FUZZ_SIZE_MAX_TEXT + 1];
	char error[OMEM_SIZE_ERROR_MAX];
	const char *blank = strchr(text, ' ');
	const char *unit = blank ? blank + 1 : NULL;
	size_t length = blank ? (size_t)(blank - text) : strlen(text);
	unsigned long long value = fuzz_size_untouched, whole = 0;
	int r;

	memcpy(number, text, length);
	number[length] = '\0';
	error[0] = '\0';
	r = omem_size_parse_parts(number, unit, 0, &value, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r < 0 && value != fuzz_size_untouched)
		abort();
	/* Number and unit apart mean what they mean together; together they
	 * may pass the length bound each passes alone (a 60-digit number and
	 * its unit), which refuses the text, not its meaning. */
	if (r == 0 && unit && strchr(unit, ' ') == NULL && *unit &&
	    strlen(text) <= OMEM_NUMBER_TEXT_MAX &&
	    (omem_size_parse(text, OMEM_SIZE_BLANKS, &whole, NULL, 0) != 0 || whole != value))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[FUZZ_SIZE_MAX_TEXT + 1];
	char error[256];
	unsigned long long value = fuzz_size_untouched;
	unsigned int percent = 0xa5a5u;
	size_t length = size < FUZZ_SIZE_MAX_TEXT ? size : FUZZ_SIZE_MAX_TEXT;
	int r;

	memcpy(text, data, length);
	text[length] = '\0';

	fuzz_size_grammar(text, 0);
	fuzz_size_grammar(text, OMEM_SIZE_BARE_BYTES | OMEM_SIZE_BINARY_ONLY | OMEM_SIZE_BLANKS);
	fuzz_size_parts(text);

	value = fuzz_size_untouched;
	r = virt_omem_parse_uint(text, 1, 1000000, &value, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r == 0 && (value < 1 || value > 1000000))
		abort();
	if (r < 0 && value != fuzz_size_untouched)
		abort();

	r = virt_omem_parse_percent(text, &percent, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r == 0 && percent > 100)
		abort();
	if (r < 0 && percent != 0xa5a5u)
		abort();

	value = fuzz_size_untouched;
	r = virt_omem_parse_seconds(text, 100, 3600000, &value, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r == 0 && (value < 100 || value > 3600000))
		abort();
	if (r < 0 && value != fuzz_size_untouched)
		abort();
	return 0;
}
