/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-convert.c: "virt-omem convert [FILE|-] [options]": an ordinary
 * domain XML in, the omem domain XML out (omem_transform_convert).  The
 * option parsing and the conversion are shared with define.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virt-omem.h"
#include "virt-omem-parse.h"

#define VIRT_OMEM_CONVERT_HELP \
	"  --boot SIZE       RAM the guest boots with, never unplugged (default:\n" \
	"                    the library's choice, at least max/8)\n" \
	"  --min SIZE        guaranteed total RAM, >= boot (default: boot)\n" \
	"  --max SIZE        largest total RAM (default: the domain's <memory>)\n" \
	"  --cap SIZE        the operator's live limit, min..max (default: max)\n" \
	"  --shares N        weight under contention, 1..1000000 (default 1000)\n" \
	"  --buffer PERCENT  headroom above the guest's demand, 0..100 (default 10)\n" \
	"  -h, --help        this help\n"

/* A size option of convert: 0 means "the library's default" to
 * omem_transform_convert, so an explicit 0 is refused rather than
 * silently becoming something else. */
static int virt_omem_convert_size(const char *option, const char *text,
				  unsigned long long *ret_bytes)
{
	unsigned long long bytes;

	if (virt_omem_option_size(option, text, &bytes) < 0)
		return -1;
	if (bytes == 0) {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
			       "--%s: a size of 0 is not allowed; leave --%s out for the default",
			       option, option);
		return -1;
	}
	*ret_bytes = bytes;
	return 0;
}

int virt_omem_convert_parse_args(const VirtOmemCommand *command, int argc, char **argv,
				 bool need_file, VirtOmemConvertArgs *ret_args)
{
	static const struct option options[] = {
		{ "boot", required_argument, NULL, 'b' },
		{ "min", required_argument, NULL, 'm' },
		{ "max", required_argument, NULL, 'M' },
		{ "cap", required_argument, NULL, 'c' },
		{ "shares", required_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	VirtOmemConvertArgs args = { 0 };
	char error[256];
	int c;

	while ((c = virt_omem_getopt(command, argc, argv, ":h", options)) != -1) {
		switch (c) {
		case 'b':
			if (virt_omem_convert_size("boot", optarg, &args.options.boot_bytes) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			break;
		case 'm':
			if (virt_omem_convert_size("min", optarg, &args.options.min_bytes) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			break;
		case 'M':
			if (virt_omem_convert_size("max", optarg, &args.options.max_bytes) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			break;
		case 'c':
			if (virt_omem_convert_size("cap", optarg, &args.options.cap_bytes) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			break;
		case 's':
			if (virt_omem_option_shares(optarg, &args.options.shares) < 0)
				return VIRT_OMEM_EXIT_USAGE;
			break;
		case 'B':
			if (virt_omem_parse_percent(optarg, &args.options.buffer_percent, error,
						    sizeof(error)) < 0)
				return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--buffer: %s", error);
			args.options.buffer_percent_set = true;
			break;
		case 'h':
			virt_omem_command_print_help(command, stdout);
			return -1;
		default:
			return VIRT_OMEM_EXIT_USAGE;
		}
	}
	if (virt_omem_positional(command, argc, argv, need_file ? 1 : 0, 1,
				 "a domain XML FILE") < 0)
		return VIRT_OMEM_EXIT_USAGE;
	if (optind < argc)
		args.file = argv[optind];
	if ((!args.file || strcmp(args.file, "-") == 0) && isatty(STDIN_FILENO))
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "no domain XML: give a FILE, or pipe one in (e.g. virsh dumpxml DOMAIN | virt-omem %s -)",
				      command->name);
	*ret_args = args;
	return VIRT_OMEM_EXIT_OK;
}

int virt_omem_convert_input(const VirtOmemConvertArgs *args, char **ret_xml)
{
	g_autofree char *input = NULL;
	const char *label = args->file && strcmp(args->file, "-") != 0 ? args->file
								    : "standard input";
	char *output = NULL;
	int status;

	input = virt_omem_read_input(args->file, &status);
	if (!input)
		return status;
	if (omem_transform_convert(input, &args->options, &output) < 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(), "%s: %s", label,
				      omem_error_last_message());
	*ret_xml = g_strdup(output);
	free(output);
	return VIRT_OMEM_EXIT_OK;
}

static int virt_omem_convert_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	g_autofree char *xml = NULL;
	VirtOmemConvertArgs args;
	size_t len;
	int status;

	status = virt_omem_convert_parse_args(&virt_omem_command_convert, argc, argv, false, &args);
	if (status != VIRT_OMEM_EXIT_OK)
		return status < 0 ? VIRT_OMEM_EXIT_OK : status;
	status = virt_omem_convert_input(&args, &xml);
	if (status != VIRT_OMEM_EXIT_OK)
		return status;
	len = strlen(xml);
	fputs(xml, stdout);
	if (len == 0 || xml[len - 1] != '\n')
		fputc('\n', stdout);
	return VIRT_OMEM_EXIT_OK;
}

const VirtOmemCommand virt_omem_command_convert = {
	.name = "convert",
	.run = virt_omem_convert_run,
	.synopsis = "[FILE|-] [--boot SIZE] [--min SIZE] [--max SIZE] [--cap SIZE] [--shares N] [--buffer PERCENT]",
	.summary = "print the omem domain XML for an ordinary domain XML (FILE or standard input)",
	.help = VIRT_OMEM_CONVERT_HELP,
};
