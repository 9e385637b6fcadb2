/* SPDX-License-Identifier: MIT */
/*
 * manager-metrics.c: omemd's Prometheus endpoint (daemon/metrics-server.h)
 * started on [metrics] listen; the document itself is formats/metrics.c.
 */
#include "config.h"

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

static char *manager_metrics_render(gpointer data, gsize *ret_length)
{
	Manager *manager = data;
	g_autoptr(GPtrArray) vms = g_ptr_array_new();
	StatusHost host;

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
