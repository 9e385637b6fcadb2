/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-virt-internal.h: helpers shared by libomem-virt's files, not
 * installed.  Errors are raised once, where they happen, with file and
 * line; the public API returns -1/NULL and the caller reads
 * omem_error_last().
 */
#ifndef OMEM_VIRT_INTERNAL_H
#define OMEM_VIRT_INTERNAL_H

#include <glib.h>

#include "omem-virt.h"

/* Record the calling thread's last error.  Messages are whole sentences
 * written at the call site, never pieced together from fragments, so they
 * stay greppable. */
void omem_error_set(OmemErrorCode code, int libvirt_code, const char *file, int line,
		    const char *function, const char *format, ...) G_GNUC_PRINTF(6, 7);

#define omem_error_raise(code, ...) \
	omem_error_set((code), 0, __FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)

/* Record a libvirt failure: libvirt's own last error is appended to the
 * message after ": " and its code kept in libvirt_code. */
void omem_error_set_libvirt(const char *file, int line, const char *function,
			    const char *format, ...) G_GNUC_PRINTF(4, 5);

#define omem_error_raise_libvirt(...) \
	omem_error_set_libvirt(__FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)

/* libxml2 types for g_autoptr. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

/* libvirt handles for g_autoptr (virDomainFree/virConnectClose drop one
 * reference each). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OmemContract, omem_contract_free)

#endif /* OMEM_VIRT_INTERNAL_H */
