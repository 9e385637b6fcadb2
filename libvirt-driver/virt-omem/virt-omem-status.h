/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-status.h: the client of omemd's read-only status socket
 * (docs/status.md): connect, read one JSON document until EOF within a
 * time and size bound, parse it strictly.  No libvirt here, so the unit
 * test drives it against a fixture server.
 */
#ifndef VIRT_OMEM_STATUS_H
#define VIRT_OMEM_STATUS_H

#include <stdbool.h>

#include <glib.h>

/* Where omemd listens; OMEM_STATUS_SOCKET overrides it. */
#define VIRT_OMEM_STATUS_SOCKET "/run/omem/status.sock"
#define VIRT_OMEM_STATUS_SOCKET_ENV "OMEM_STATUS_SOCKET"

/* The protocol version this client reads (docs/status.md). */
#define VIRT_OMEM_STATUS_VERSION 1

/* Bounds on one read: a status with hundreds of VMs is well under 1 MiB,
 * and omemd answers from memory at once; past these the document is
 * treated as broken rather than waited for. */
#define VIRT_OMEM_STATUS_TIMEOUT_MS 2000
#define VIRT_OMEM_STATUS_MAX_BYTES (4u << 20)
/* Deepest JSON nesting accepted (the protocol needs 4), checked before
 * the recursive parser sees the text. */
#define VIRT_OMEM_STATUS_MAX_DEPTH 16

#define VIRT_OMEM_STATUS_ERROR (virt_omem_status_error_quark())
GQuark virt_omem_status_error_quark(void);

typedef enum {
	VIRT_OMEM_STATUS_ERROR_ABSENT,   /* no socket, or nobody listens: omemd is not running */
	VIRT_OMEM_STATUS_ERROR_IO,       /* connect or read failed */
	VIRT_OMEM_STATUS_ERROR_TIMEOUT,  /* no EOF within the time bound */
	VIRT_OMEM_STATUS_ERROR_TOO_LARGE,
	VIRT_OMEM_STATUS_ERROR_INVALID,  /* not JSON, or not the documented shape */
	VIRT_OMEM_STATUS_ERROR_VERSION,  /* a version this client does not read */
} VirtOmemStatusErrorCode;

/* omemd's most recent decision for a VM. */
typedef struct {
	char *action;                /* grant, partial-grant, defer, reclaim, shrink, ... */
	long long at_unix_ms;
	unsigned long long target_bytes; /* requested size the decision set */
	char *reason;                /* one line for operators, may be NULL */
} VirtOmemStatusDecision;

/* One VM as omemd sees it; has_* say which optional parts were present. */
typedef struct {
	char *name;
	char *uuid;                  /* may be NULL */
	bool has_memory;
	unsigned long long requested_bytes, plugged_bytes;
	bool has_demand;             /* false: the guest has not reported (null) */
	unsigned long long demand_bytes;
	bool has_guest;
	unsigned long long guest_total_bytes, guest_free_bytes, guest_available_bytes;
	char *session_state;         /* NULL when absent */
	VirtOmemStatusDecision *last_decision; /* newest, or NULL */
} VirtOmemStatusVm;

/* The whole document. */
typedef struct {
	unsigned int version;
	long long generated_unix_ms;
	bool has_host;
	unsigned long long host_budget_bytes, host_committed_bytes, host_available_bytes;
	GPtrArray *vms;              /* of VirtOmemStatusVm */
} VirtOmemStatus;

/* The socket path: $OMEM_STATUS_SOCKET, else VIRT_OMEM_STATUS_SOCKET. */
const char *virt_omem_status_socket_path(void);

/* Connect to @path and read until EOF, at most @max_bytes within
 * @timeout_ms.  Returns the text (g_free) or NULL with @error set. */
char *virt_omem_status_read(const char *path, unsigned int timeout_ms, size_t max_bytes,
			    size_t *ret_length, GError **error);

/* Parse a status document strictly: the version must be
 * VIRT_OMEM_STATUS_VERSION, known members must have their documented
 * types; unknown members are ignored (additions do not bump the version). */
VirtOmemStatus *virt_omem_status_parse(const char *text, size_t length, GError **error);

/* Read and parse in one step, with the default bounds. */
VirtOmemStatus *virt_omem_status_load(const char *path, GError **error);

/* The VM with @uuid, or when the document gives no UUID for it, @name. */
const VirtOmemStatusVm *virt_omem_status_find(const VirtOmemStatus *status, const char *uuid,
					      const char *name);

void virt_omem_status_free(VirtOmemStatus *status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtOmemStatus, virt_omem_status_free)

#endif /* VIRT_OMEM_STATUS_H */
