/* SPDX-License-Identifier: MIT */
/*
 * admission-state: the file in which omemd keeps its admission
 * reservations across its own restarts (RUN_DIR/admission.state).  A VM
 * admitted by the hook holds memory until it runs; an omemd restarted in
 * between would otherwise admit the same memory twice.  The file is
 * omemd's own, in its run directory (a tmpfs: a host reboot rightly
 * forgets it), but it is read back as untrusted text anyway:
 *
 *   omem-admission-state 1
 *   UUID BYTES EXPIRES_UNIX_MS
 *   ...
 *
 * one reservation per line: the domain's UUID (libvirt's canonical lower
 * case), the bytes it holds and when it lapses (milliseconds since the
 * epoch, wall-clock, because omemd's monotonic clock does not survive it).
 * Pure: no I/O, no logging; errors are one line in a GError
 * (ADMISSION_STATE_ERROR) and outputs are written only on success.
 */
#ifndef OMEM_ADMISSION_STATE_H
#define OMEM_ADMISSION_STATE_H

#include <stdint.h>

#include <glib.h>

#include "formats/admission.h"

/* Far more VMs than start on one host within a reservation's lifetime;
 * more lines than this are not omemd's file. */
#define ADMISSION_STATE_ENTRIES_MAX 4096

/* The longest valid file: the header and as many lines of a UUID, 2^50
 * and a 13-digit time. */
#define ADMISSION_STATE_TEXT_MAX (32 + ADMISSION_STATE_ENTRIES_MAX * 80)

/* A reservation is at most 1 PiB: their sum then never saturates. */
#define ADMISSION_STATE_BYTES_MAX (UINT64_C(1) << 50)

#define ADMISSION_STATE_ERROR (admission_state_error_quark())
GQuark admission_state_error_quark(void);

typedef enum {
	ADMISSION_STATE_ERROR_INVALID, /* not a file of this format */
} AdmissionStateError;

/* One saved reservation. */
typedef struct {
	char uuid[ADMISSION_UUID_LENGTH + 1];
	uint64_t bytes;            /* 1 .. ADMISSION_STATE_BYTES_MAX */
	int64_t expires_unix_ms;   /* > 0 */
} AdmissionStateEntry;

/* The file's text for @n entries (g_free); entries out of range are a
 * bug of the caller and are left out. */
char *admission_state_format(const AdmissionStateEntry *entries, size_t n);

/* Parse @len bytes of @text into a new array of AdmissionStateEntry in
 * *ret_entries (g_array_unref).  Refused whole: a wrong header, a
 * malformed or duplicate line, more than ADMISSION_STATE_ENTRIES_MAX. */
bool admission_state_parse(const char *text, size_t len, GArray **ret_entries, GError **error);

#endif /* OMEM_ADMISSION_STATE_H */
