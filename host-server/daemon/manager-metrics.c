/* SPDX-License-Identifier: MIT */
/*
 * manager-metrics.c: omemd's Prometheus endpoint (daemon/metrics-server.h)
 * started on [metrics] listen; the document itself is formats/metrics.c.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/manager-private.h"
#include "formats/admission.h"
#include "omem/autofd.h"
#include "daemon/omemd-log.h"

/* The admissions the hook made without omemd: the lines it appended to
 * RUN_DIR/admission-fail-open, while omemd was down or running (0 when
 * the file is absent).  Read at each render: it is small and bounded, and
 * the hook may append to it at any time. */
static uint64_t manager_metrics_fail_opens(Manager *manager)
{
	g_autofree char *path = g_build_filename(manager->config.run_dir, ADMISSION_FAIL_OPEN_NAME, NULL);
	g_autofree char *text = NULL;
	omem_autofd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat info;
	gsize size, length = 0;
	ssize_t n = 1;

	if (fd < 0 || fstat(fd, &info) < 0 || !S_ISREG(info.st_mode))
		return 0;
	size = MIN((guint64)info.st_size, ADMISSION_FAIL_OPEN_MAX_BYTES);
	text = g_malloc(size + 1);
	while (length < size && (n = read(fd, text + length, size - length)) > 0)
		length += n;
	return admission_fail_open_count(text, length);
}

static char *manager_metrics_render(gpointer data, gsize *ret_length)
{
	Manager *manager = data;
	g_autoptr(GPtrArray) vms = g_ptr_array_new();
	StatusHost host;

	metrics_set_admission_fail_opens(manager->metrics, manager_metrics_fail_opens(manager));
	manager_status_snapshot(manager, &host, vms);
	return metrics_format(manager->metrics, &host, (const StatusVm *const *)vms->pdata, vms->len,
			      ret_length);
}

void manager_metrics_start(Manager *manager)
{
	g_autoptr(GError) error = NULL;

	if (!g_strcmp0(manager->config.metrics_listen, "off"))
		return;
	manager->metrics_server = metrics_server_new(manager->config.metrics_listen,
						     manager_metrics_render, manager, &error);
	/* Metrics are for people and dashboards; memory management does
	 * not depend on them, so a taken port is not a reason to stop. */
	if (!manager->metrics_server)
		omemd_log(OMEMD_LOG_WARNING, "metrics: cannot listen on %s: %s; running without /metrics",
			  manager->config.metrics_listen, error->message);
	else
		omemd_log(OMEMD_LOG_INFO, "metrics: GET /metrics on %s (port %u)", manager->config.metrics_listen,
			  metrics_server_get_port(manager->metrics_server));
}
