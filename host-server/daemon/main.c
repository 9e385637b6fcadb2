/* SPDX-License-Identifier: MIT */
/*
 * omemd: the omem host daemon.  main.c reads the command line and the
 * config file, daemonises (unless --foreground), tells systemd when it is
 * ready (sd_notify protocol, no libsystemd), and runs the main loop until
 * SIGTERM/SIGINT.  Everything else is the manager's (manager.h).
 *
 *   omemd [--config FILE] [--foreground] [--log-level LEVEL]
 *         [--run-dir DIR] [--connect URI] [--budget SIZE] [--dry-run]
 *         [--domains GLOB]
 *
 * SIGHUP reads the config file again (the command line still wins); a
 * file that does not parse leaves the running config as it was.
 *
 * Exit status: 0 after a clean stop, 1 when starting failed, 2 for a bad
 * command line or config file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "daemon/manager.h"
#include "formats/omemd-config.h"
#include "daemon/omemd-log.h"
#include "daemon/omemd-notify.h"

/* Double fork: the first process waits on a pipe until the daemon says it
 * is ready (exit 0) or failed (exit 1), so `omemd && next-step` works.
 * stderr stays where it was (the log); stdin and stdout go to /dev/null.
 * Returns the write end of the pipe in the daemon. */
static int omemd_daemonise(void)
{
	int pipe_fds[2], null_fd;
	pid_t pid;
	char status = 1;

	if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
		omemd_log(OMEMD_LOG_ERROR, "cannot daemonise: pipe: %s", g_strerror(errno));
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		omemd_log(OMEMD_LOG_ERROR, "cannot daemonise: fork: %s", g_strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(pipe_fds[1]);
		if (read(pipe_fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(pipe_fds[0]);
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0); /* the middle process; the first one waits on the pipe */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		close(null_fd);
	}
	if (chdir("/") < 0)
		omemd_log(OMEMD_LOG_WARNING, "cannot chdir to /: %s", g_strerror(errno));
	return pipe_fds[1];
}

static void omemd_report_ready(int ready_fd, char status)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, &status, 1) != 1)
		omemd_log(OMEMD_LOG_WARNING, "cannot tell the launching process: %s", g_strerror(errno));
	close(ready_fd);
}

static gboolean omemd_on_signal(gpointer data)
{
	omemd_log(OMEMD_LOG_INFO, "signal received; stopping");
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

/* What the command line said; it wins over the file, at start and at
 * every reload. */
typedef struct {
	char *config_path;            /* --config, NULL: the default path */
	char *log_level, *run_dir, *connect, *budget, *domains;
} OmemdCommandLine;

/* Read --config FILE (must exist) or the default path (may be absent),
 * then apply the command line on top; @config is left alone on failure. */
static bool omemd_read_config(const OmemdCommandLine *cmdline, OmemdConfig *ret_config,
			      GError **error)
{
	const char *path = cmdline->config_path ? cmdline->config_path : OMEMD_CONFIG_DEFAULT_PATH;
	g_autofree char *data = NULL;
	g_autoptr(GError) local_error = NULL;
	OmemdConfig config;
	gsize length = 0;

	omemd_config_init(&config);
	if (!g_file_get_contents(path, &data, &length, &local_error)) {
		if (cmdline->config_path || !g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			omemd_config_clear(&config);
			return false;
		}
	} else if (!omemd_config_load_data(&config, data, length, path, error)) {
		omemd_config_clear(&config);
		return false;
	}
	if (cmdline->log_level && omemd_config_parse_log_level(cmdline->log_level, &config.log_level) < 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--log-level %s: want error, warning, info or debug", cmdline->log_level);
		omemd_config_clear(&config);
		return false;
	}
	if (cmdline->run_dir) {
		g_free(config.run_dir);
		config.run_dir = g_canonicalize_filename(cmdline->run_dir, NULL);
	}
	if (cmdline->connect) {
		g_free(config.connect);
		config.connect = g_strdup(cmdline->connect);
	}
	if (cmdline->domains) {
		g_free(config.domains);
		config.domains = g_strdup(cmdline->domains);
	}
	if (cmdline->budget) {
		char why[OMEM_SIZE_ERROR_MAX];
		unsigned long long bytes;

		if (!strcmp(cmdline->budget, "auto")) {
			config.budget_auto = true;
		} else if (omem_size_parse(cmdline->budget, OMEMD_CONFIG_SIZE_FLAGS, &bytes, why,
					   sizeof(why)) == 0) {
			config.budget_auto = false;
			config.budget_bytes = bytes;
		} else {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--budget: %s; want auto or a size like 2G, 512M (no unit: bytes)", why);
			omemd_config_clear(&config);
			return false;
		}
	}
	*ret_config = config;
	return true;
}

typedef struct {
	const OmemdCommandLine *cmdline;
	Manager *manager;
} OmemdReload;

/* SIGHUP: read the config again.  A file that does not parse changes
 * nothing: the error names the file and line, and the running config
 * stays. */
static gboolean omemd_on_reload(gpointer data)
{
	OmemdReload *reload = data;
	g_autoptr(GError) error = NULL;
	OmemdConfig config;

	omemd_notify_reloading();
	if (!omemd_read_config(reload->cmdline, &config, &error)) {
		omemd_log(OMEMD_LOG_ERROR, "SIGHUP: reload failed, keeping the running config: %s",
			  error->message);
		manager_reload_failed(reload->manager);
	} else {
		omemd_log_set_level(config.log_level);
		manager_reload(reload->manager, &config);
		omemd_config_clear(&config);
	}
	omemd_notify("READY=1");
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	OmemdCommandLine cmdline = { 0 };
	gboolean foreground = FALSE, dry_run = FALSE, version = FALSE;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &cmdline.config_path, "config file (default " OMEMD_CONFIG_DEFAULT_PATH ")", "FILE" },
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground, "do not daemonise (systemd, tests)", NULL },
		{ "log-level", 'l', 0, G_OPTION_ARG_STRING, &cmdline.log_level, "error, warning, info (default) or debug", "LEVEL" },
		{ "run-dir", 'r', 0, G_OPTION_ARG_FILENAME, &cmdline.run_dir, "sockets and pid file (default /run/omem)", "DIR" },
		{ "connect", 'C', 0, G_OPTION_ARG_STRING, &cmdline.connect, "libvirt URI (default qemu:///system)", "URI" },
		{ "domains", 'd', 0, G_OPTION_ARG_STRING, &cmdline.domains, "manage only domains whose name matches this glob (default *)", "GLOB" },
		{ "budget", 'b', 0, G_OPTION_ARG_STRING, &cmdline.budget, "host memory for omem VMs (boot + plugged + overhead, all together): a size or auto", "SIZE" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "decide and log, but never resize, attach or detach", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) options = g_option_context_new("- the omem host memory daemon");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(Manager) manager = NULL;
	OmemdReload reload = { .cmdline = &cmdline };
	OmemdConfig config;
	int ready_fd = -1, status;

	g_option_context_add_main_entries(options, entries, NULL);
	g_option_context_set_description(options, "See omemd(8) and docs/omemd.md for the config keys.  SIGHUP reloads the config file.");
	if (!g_option_context_parse(options, &argc, &argv, &error)) {
		fprintf(stderr, "omemd: %s (see --help)\n", error->message);
		return 2;
	}
	if (version) {
		printf("omemd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "omemd: unexpected argument '%s' (see --help)\n", argv[1]);
		return 2;
	}
	if (!omemd_read_config(&cmdline, &config, &error)) {
		fprintf(stderr, "omemd: %s\n", error->message);
		return 2;
	}
	omemd_log_set_level(config.log_level);
	if (geteuid() != 0)
		omemd_log(OMEMD_LOG_WARNING, "not running as root: chowning the ivshmem sockets to %s will fail",
			  config.qemu_user);

	if (!foreground)
		ready_fd = omemd_daemonise();
	umask(022);

	loop = g_main_loop_new(NULL, FALSE);
	manager = manager_new(&config, dry_run, &error);
	omemd_config_clear(&config);
	if (!manager || !manager_start(manager, &error)) {
		omemd_log(OMEMD_LOG_ERROR, "cannot start: %s", error ? error->message : "unknown error");
		omemd_report_ready(ready_fd, 1);
		return 1;
	}
	manager_set_loop(manager, loop);
	reload.manager = manager;
	g_unix_signal_add(SIGTERM, omemd_on_signal, loop);
	g_unix_signal_add(SIGINT, omemd_on_signal, loop);
	g_unix_signal_add(SIGHUP, omemd_on_reload, &reload);
	signal(SIGPIPE, SIG_IGN);
	omemd_notify("READY=1");
	omemd_report_ready(ready_fd, 0);

	g_main_loop_run(loop);

	omemd_notify("STOPPING=1");
	status = manager_failed(manager) ? 1 : 0;
	manager_stop(manager);
	g_free(cmdline.config_path);
	g_free(cmdline.log_level);
	g_free(cmdline.run_dir);
	g_free(cmdline.connect);
	g_free(cmdline.budget);
	g_free(cmdline.domains);
	return status;
}
