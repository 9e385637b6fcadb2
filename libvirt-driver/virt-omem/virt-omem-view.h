/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-view.h: one omem VM's figures as dommemstat, list and top
 * show them: the contract and the virtio-mem devices from libvirt (the
 * source of truth), plus what only omemd knows (demand, guest figures,
 * session, decisions) from its status socket when that can be read.
 */
#ifndef VIRT_OMEM_VIEW_H
#define VIRT_OMEM_VIEW_H

#include "virt-omem.h"
#include "virt-omem-status.h"

/* omemd's status for one command run, or why there is none. */
typedef struct {
	VirtOmemStatus *status; /* NULL when unavailable */
	char *unavailable;      /* why not, for "demand: unknown (...)" */
} VirtOmemStatusSource;

/* Read omemd's status when it applies to @conn: always when
 * OMEM_STATUS_SOCKET is set, else only on a qemu:///system connection
 * (omemd runs beside the system libvirtd).  A socket that exists but
 * answers garbage is reported with one warning line. */
VirtOmemStatusSource *virt_omem_status_source_open(virConnectPtr conn);
void virt_omem_status_source_free(VirtOmemStatusSource *source);

typedef struct {
	char *name;
	char uuid[VIR_UUID_STRING_BUFLEN];
	bool active;
	const char *state;          /* virsh's words: running, shut off, paused, ... */
	OmemContract *contract;     /* the live contract when active, else the definition's */
	bool has_memory;            /* active: the virtio-mem devices were read */
	OmemMemoryState memory;
	const VirtOmemStatusVm *status; /* omemd's view of it, or NULL */
} VirtOmemView;

/* Fill @view for @domain.  0, 1 when @domain is not an omem domain, -1 on
 * failure with the library's last error set. */
int virt_omem_view_load(virDomainPtr domain, const VirtOmemStatusSource *source,
			VirtOmemView *view);
void virt_omem_view_clear(VirtOmemView *view);

/* Every omem domain of @conn (running and defined), sorted by name, as
 * VirtOmemView pointers.  A domain that cannot be read is reported with
 * one error line and left out; *ret_failed counts them. */
GPtrArray *virt_omem_view_list(virConnectPtr conn, const VirtOmemStatusSource *source,
			       unsigned int *ret_failed);

/* A size in whole MiB for tables (rounded to nearest). */
char *virt_omem_view_mib(unsigned long long bytes);

/* list's table of every omem domain, shared with top (cmd-list.c).
 * Returns the exit code: 1 when a domain could not be read. */
int virt_omem_list_print(virConnectPtr conn, const VirtOmemStatusSource *source);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtOmemStatusSource, virt_omem_status_source_free)

#endif /* VIRT_OMEM_VIEW_H */
