/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virt-omem's command-line number parsers
 * (libvirt-driver/virt-omem/virt-omem-parse.c): the input, cut at the
 * first NUL, is given to every parser as an argument would be.  The
 * oracle aborts when a parser accepts text it must refuse or returns a
 * value that breaks its contract:
 *   - a size is accepted only if it is digits and a known unit, and the
 *     value equals the digits times the unit (recomputed here in 128 bits);
 *   - a refusal leaves the output untouched and writes a one-line message;
 *   - counts, percentages and seconds stay within their bounds;
 *   - a formatted size is never longer than VIRT_OMEM_SIZE_STRING - 1.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "virt-omem-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Arguments longer than this are cut: the parsers refuse anything past
 * VIRT_OMEM_PARSE_MAX_TEXT, so longer inputs add nothing. */
#define FUZZ_SIZE_MAX_TEXT 256

static const unsigned long long fuzz_size_untouched = 0x5a5a5a5a5a5a5a5aULL;

/* The unit's multiplier, written independently of the parser. */
static unsigned __int128 fuzz_size_unit(const char *unit)
{
	static const char *const names[] = { "k", "m", "g", "t", "p", "e" };
	unsigned __int128 scale = 1;
	size_t i, j;

	if (!*unit)
		return 1024;
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes"))
		return 1;
	for (i = 0; i < 6; i++) {
		if (strncasecmp(unit, names[i], 1) != 0)
			continue;
		for (j = 0; j <= i; j++)
			scale *= !unit[1] || !strcasecmp(unit + 1, "ib") ? 1024 : 1000;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[FUZZ_SIZE_MAX_TEXT + 1];
	char error[256];
	char formatted[VIRT_OMEM_SIZE_STRING];
	unsigned long long value = fuzz_size_untouched;
	unsigned int percent = 0xa5a5u;
	size_t length = size < FUZZ_SIZE_MAX_TEXT ? size : FUZZ_SIZE_MAX_TEXT;
	int r;

	memcpy(text, data, length);
	text[length] = '\0';

	error[0] = '\0';
	r = virt_omem_parse_size(text, &value, error, sizeof(error));
	fuzz_size_check_message(r, error);
	if (r < 0 && value != fuzz_size_untouched)
		abort();
	if (r == 0) {
		unsigned __int128 digits = 0, scale;
		const char *p = text;

		if (*p < '0' || *p > '9')
			abort();
		for (; *p >= '0' && *p <= '9'; p++)
			digits = digits * 10 + (unsigned)(*p - '0');
		scale = fuzz_size_unit(p);
		if (scale == 0 || digits * scale != value)
			abort();
		if (strlen(virt_omem_format_size(value, formatted, sizeof(formatted))) + 1 >
		    sizeof(formatted))
			abort();
	}

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
