/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-view.c: gather an omem VM's figures from libvirt and omemd's
 * status socket for dommemstat, list and top.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-omem-view.h"

VirtOmemStatusSource *virt_omem_status_source_open(virConnectPtr conn)
{
	VirtOmemStatusSource *source = g_new0(VirtOmemStatusSource, 1);
	g_autoptr(GError) error = NULL;
	g_autofree char *uri = NULL;
	const char *path = virt_omem_status_socket_path();

	if (!g_getenv(VIRT_OMEM_STATUS_SOCKET_ENV) || !*g_getenv(VIRT_OMEM_STATUS_SOCKET_ENV)) {
		uri = virConnectGetURI(conn);
		if (!uri || strcmp(uri, "qemu:///system") != 0) {
			source->unavailable =
				g_strdup("omemd's status is read only on a local qemu:///system connection");
			return source;
		}
	}
	source->status = virt_omem_status_load(path, &error);
	if (source->status)
		return source;
	if (g_error_matches(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_ABSENT)) {
		source->unavailable = g_strdup("omemd not running");
	} else {
		virt_omem_warning("cannot read omemd's status from %s: %s; showing libvirt's figures only",
				  path, error->message);
		source->unavailable = g_strdup("omemd's status unreadable");
	}
	return source;
}

void virt_omem_status_source_free(VirtOmemStatusSource *source)
{
	if (!source)
		return;
	virt_omem_status_free(source->status);
	g_free(source->unavailable);
	g_free(source);
}

/* virsh's words for a domain state. */
static const char *virt_omem_view_state(virDomainPtr domain)
{
	int state, reason;

	if (virDomainGetState(domain, &state, &reason, 0) < 0)
		return "unknown";
	switch (state) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "idle";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
	case VIR_DOMAIN_SHUTOFF: return "shut off";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
	default: return "unknown";
	}
}

int virt_omem_view_load(virDomainPtr domain, const VirtOmemStatusSource *source,
			VirtOmemView *view)
{
	const OmemError *error;
	int active;

	memset(view, 0, sizeof(*view));
	active = virDomainIsActive(domain);
	view->active = active == 1;
	if (omem_contract_get(domain, view->active ? VIR_DOMAIN_AFFECT_LIVE
						   : VIR_DOMAIN_AFFECT_CONFIG,
			      &view->contract) < 0) {
		error = omem_error_last();
		return error && error->code == OMEM_ERR_NOT_OMEM ? 1 : -1;
	}
	view->name = g_strdup(virDomainGetName(domain));
	if (virDomainGetUUIDString(domain, view->uuid) < 0)
		view->uuid[0] = '\0';
	view->state = virt_omem_view_state(domain);
	if (view->active) {
		if (omem_domain_memory_state(domain, &view->memory) < 0) {
			virt_omem_view_clear(view);
			return -1;
		}
		view->has_memory = true;
	}
	if (source && source->status)
		view->status = virt_omem_status_find(source->status,
						     view->uuid[0] ? view->uuid : NULL, view->name);
	return 0;
}

void virt_omem_view_clear(VirtOmemView *view)
{
	g_free(view->name);
	omem_contract_free(view->contract);
	memset(view, 0, sizeof(*view));
}

static void virt_omem_view_free(VirtOmemView *view)
{
	virt_omem_view_clear(view);
	g_free(view);
}

static gint virt_omem_view_compare(gconstpointer a, gconstpointer b)
{
	const VirtOmemView *left = *(VirtOmemView *const *)a;
	const VirtOmemView *right = *(VirtOmemView *const *)b;

	return strcmp(left->name, right->name);
}

GPtrArray *virt_omem_view_list(virConnectPtr conn, const VirtOmemStatusSource *source,
			       unsigned int *ret_failed)
{
	GPtrArray *views = g_ptr_array_new_with_free_func((GDestroyNotify)virt_omem_view_free);
	virDomainPtr *domains = NULL;
	unsigned int failed = 0;
	int count, i;

	count = virConnectListAllDomains(conn, &domains, 0);
	if (count < 0) {
		virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot list the domains: %s",
			       virt_omem_libvirt_message());
		g_ptr_array_unref(views);
		return NULL;
	}
	for (i = 0; i < count; i++) {
		VirtOmemView *view = g_new0(VirtOmemView, 1);
		int r = virt_omem_view_load(domains[i], source, view);

		if (r == 0) {
			g_ptr_array_add(views, view);
		} else {
			g_free(view);
			/* A domain undefined while we looked is no failure. */
			if (r < 0 && !(omem_error_last() &&
				       omem_error_last()->libvirt_code == VIR_ERR_NO_DOMAIN)) {
				virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "domain '%s': %s",
					       virDomainGetName(domains[i]),
					       omem_error_last_message());
				failed++;
			}
		}
		virDomainFree(domains[i]);
	}
	free(domains);
	g_ptr_array_sort(views, virt_omem_view_compare);
	*ret_failed = failed;
	return views;
}

char *virt_omem_view_mib(unsigned long long bytes)
{
	return g_strdup_printf("%llu", (bytes >> 20) + ((bytes >> 19) & 1));
}
