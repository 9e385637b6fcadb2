/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem.c: the virt-omem command line: global options, the one table
 * of subcommands and the dispatch to them.  Each subcommand lives in its
 * own cmd-*.c file.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-omem.h"

static const VirtOmemCommand *const virt_omem_commands[] = {
	&virt_omem_command_convert,
	&virt_omem_command_define,
	&virt_omem_command_revert,
	&virt_omem_command_setmem,
	&virt_omem_command_freeze,
	&virt_omem_command_thaw,
	&virt_omem_command_drain,
	&virt_omem_command_undrain,
	&virt_omem_command_dommemstat,
	&virt_omem_command_list,
	&virt_omem_command_top,
};

static void virt_omem_print_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: virt-omem [-c URI] COMMAND [ARGS...]\n"
		"\n"
		"Turn libvirt domains into omem domains, whose memory the host daemon\n"
		"omemd grows and shrinks with virtio-mem within a contract, and change\n"
		"and watch that contract.\n"
		"\n"
		"Global options:\n"
		"  -c, --connect URI   libvirt connection URI (default: libvirt's default,\n"
		"                      LIBVIRT_DEFAULT_URI honoured)\n"
		"  -h, --help          this help; 'virt-omem COMMAND --help' for a command\n"
		"  -V, --version       print the version\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < G_N_ELEMENTS(virt_omem_commands); i++)
		fprintf(out, "  %-18s %s\n", virt_omem_commands[i]->name,
			virt_omem_commands[i]->summary);
	fprintf(out,
		"\n"
		"Sizes are integers in KiB unless a unit follows: b, KB, KiB (k), MB,\n"
		"MiB (M), GB, GiB (G), TB, TiB (T).  Exit status: 0 success, 1 the\n"
		"operation failed, 2 usage or bad input, 3 --wait timed out.\n"
		"See virt-omem(1).\n");
}

static const VirtOmemCommand *virt_omem_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(virt_omem_commands); i++)
		if (strcmp(virt_omem_commands[i]->name, name) == 0)
			return virt_omem_commands[i];
	return NULL;
}

/* libvirt prints every error on stderr by default; virt-omem reports each
 * failure itself, in one line. */
static void virt_omem_libvirt_quiet(void *opaque, virErrorPtr error)
{
}

/* "virt-omem help [COMMAND]" */
static int virt_omem_help(int argc, char **argv)
{
	const VirtOmemCommand *command;

	if (argc < 2) {
		virt_omem_print_usage(stdout);
		return VIRT_OMEM_EXIT_OK;
	}
	if (argc > 2)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "unexpected argument '%s' for 'help'",
				      argv[2]);
	command = virt_omem_find_command(argv[1]);
	if (!command)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "unknown command '%s'; see 'virt-omem --help'", argv[1]);
	virt_omem_command_print_help(command, stdout);
	return VIRT_OMEM_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	VirtOmemGlobal global = { 0 };
	const VirtOmemCommand *command;
	int c, status;

	setlocale(LC_ALL, "");
	virSetErrorFunc(NULL, virt_omem_libvirt_quiet);
	if (virInitialize() < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot initialise libvirt");

	opterr = 0;
	/* '+': stop at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+:c:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!*optarg)
				return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
						      "empty URI for --connect; give one such as qemu:///system");
			global.uri = optarg;
			break;
		case 'h':
			virt_omem_print_usage(stdout);
			return VIRT_OMEM_EXIT_OK;
		case 'V':
			printf("virt-omem %s\n", PACKAGE_VERSION);
			return VIRT_OMEM_EXIT_OK;
		case ':':
			return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
					      "unknown option '%s'; see 'virt-omem --help'",
					      argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "no command given; see 'virt-omem --help'");
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return virt_omem_help(argc, argv);
	command = virt_omem_find_command(argv[0]);
	if (!command)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "unknown command '%s'; see 'virt-omem --help'", argv[0]);
	status = command->run(&global, argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot write to standard output: %s",
			       g_strerror(errno));
		/* Something may have been applied: this is not bad input. */
		return status == VIRT_OMEM_EXIT_OK ? VIRT_OMEM_EXIT_FAILED : status;
	}
	return status;
}
