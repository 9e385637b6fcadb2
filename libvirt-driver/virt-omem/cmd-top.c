/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-top.c: "virt-omem top [--interval SECONDS] [--iterations N]": list's
 * table, refreshed.  The screen is cleared (ANSI) only when standard
 * output is a terminal; otherwise each refresh is appended, which is what
 * a log or a test wants.
 */
#include "config.h"

#include <unistd.h>

#include "virt-omem-parse.h"
#include "virt-omem-view.h"

/* Refresh bounds: faster than 0.1 s only loads libvirtd, and omemd's
 * decisions are on a one-second scale. */
#define VIRT_OMEM_TOP_MIN_INTERVAL_MS 100ull
#define VIRT_OMEM_TOP_MAX_INTERVAL_MS 3600000ull
#define VIRT_OMEM_TOP_DEFAULT_INTERVAL_MS 2000ull

static int virt_omem_top_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	static const struct option options[] = {
		{ "interval", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(virConnect) conn = NULL;
	g_autofree char *uri = NULL;
	unsigned long long interval_ms = VIRT_OMEM_TOP_DEFAULT_INTERVAL_MS, iterations = 0, i;
	bool tty = isatty(STDOUT_FILENO);
	char error[256];
	int c, status = VIRT_OMEM_EXIT_OK;

	while ((c = virt_omem_getopt(&virt_omem_command_top, argc, argv, ":d:n:h", options)) != -1) {
		switch (c) {
		case 'd':
			if (virt_omem_parse_seconds(optarg, VIRT_OMEM_TOP_MIN_INTERVAL_MS,
						    VIRT_OMEM_TOP_MAX_INTERVAL_MS, &interval_ms,
						    error, sizeof(error)) < 0)
				return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--interval: %s", error);
			break;
		case 'n':
			if (virt_omem_parse_uint(optarg, 1, G_MAXUINT32, &iterations, error,
						 sizeof(error)) < 0)
				return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--iterations: %s", error);
			break;
		case 'h':
			virt_omem_command_print_help(&virt_omem_command_top, stdout);
			return VIRT_OMEM_EXIT_OK;
		default:
			return VIRT_OMEM_EXIT_USAGE;
		}
	}
	if (virt_omem_positional(&virt_omem_command_top, argc, argv, 0, 0, "no argument") < 0)
		return VIRT_OMEM_EXIT_USAGE;
	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	uri = virConnectGetURI(conn);

	for (i = 0; iterations == 0 || i < iterations; i++) {
		g_autoptr(VirtOmemStatusSource) source = NULL;
		g_autoptr(GDateTime) now = g_date_time_new_now_local();
		g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");

		if (i > 0)
			g_usleep((gulong)(interval_ms * 1000));
		source = virt_omem_status_source_open(conn);
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (i > 0)
			putchar('\n');
		printf("virt-omem top - %s - %s", uri ? uri : "?", clock);
		if (source->status && source->status->has_host)
			printf(" - host budget %s, committed %s, available %s",
			       virt_omem_size(source->status->host_budget_bytes),
			       virt_omem_size(source->status->host_committed_bytes),
			       virt_omem_size(source->status->host_available_bytes));
		printf("\n\n");
		status = virt_omem_list_print(conn, source);
		fflush(stdout);
		if (virConnectIsAlive(conn) != 1)
			return virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
					      "lost the connection to %s; run virt-omem top again",
					      uri ? uri : "libvirt");
	}
	return status;
}

const VirtOmemCommand virt_omem_command_top = {
	.name = "top",
	.run = virt_omem_top_run,
	.synopsis = "[--interval SECONDS] [--iterations N]",
	.summary = "refresh list's table every few seconds until interrupted",
	.help = "  -d, --interval SECONDS  seconds between refreshes, 0.1..3600 (default 2)\n"
		"  -n, --iterations N      stop after N refreshes (default: never)\n"
		"  -h, --help              this help\n",
};
