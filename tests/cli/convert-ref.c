/* SPDX-License-Identifier: MIT */
/*
 * convert-ref FILE BOOT MIN MAX SHARES BUFFER: omem_transform_convert
 * called directly (sizes in bytes, 0 for the default; BUFFER "-" for the
 * default), its XML on stdout.  tests/cli/convert.sh compares virt-omem
 * convert with it: the golden files of the transform are its own tests',
 * this checks only that the CLI passes input and options through intact.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "omem-virt.h"

int main(int argc, char **argv)
{
	OmemConvertOptions options = { 0 };
	g_autofree char *input = NULL;
	g_autoptr(GError) error = NULL;
	char *output = NULL;

	if (argc != 7) {
		fprintf(stderr, "usage: convert-ref FILE BOOT MIN MAX SHARES BUFFER\n");
		return 2;
	}
	if (!g_file_get_contents(argv[1], &input, NULL, &error)) {
		fprintf(stderr, "convert-ref: %s\n", error->message);
		return 2;
	}
	options.boot_bytes = g_ascii_strtoull(argv[2], NULL, 10);
	options.min_bytes = g_ascii_strtoull(argv[3], NULL, 10);
	options.max_bytes = g_ascii_strtoull(argv[4], NULL, 10);
	options.shares = (unsigned int)g_ascii_strtoull(argv[5], NULL, 10);
	if (strcmp(argv[6], "-") != 0) {
		options.buffer_percent = (unsigned int)g_ascii_strtoull(argv[6], NULL, 10);
		options.buffer_percent_set = true;
	}
	if (omem_transform_convert(input, &options, &output) < 0) {
		fprintf(stderr, "convert-ref: %s\n", omem_error_last_message());
		return 1;
	}
	fputs(output, stdout);
	if (!*output || output[strlen(output) - 1] != '\n')
		fputc('\n', stdout);
	free(output);
	return 0;
}
