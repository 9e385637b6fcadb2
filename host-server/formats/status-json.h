/* SPDX-License-Identifier: MIT */
/*
 * status-json: what omemd knows about each VM, and the status document
 * (docs/status.md, version 1) written from it.  The manager keeps one
 * StatusVm per VM up to date on its thread; the status socket formats them
 * with status_json_format.  Pure: no I/O, no clock, no libvirt.
 */
#ifndef OMEM_STATUS_JSON_H
#define OMEM_STATUS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* docs/status.md: at most 8 decisions per VM, newest first. */
#define STATUS_DECISIONS_MAX 8

/* Reasons are one line of at most 200 characters (docs/status.md). */
#define STATUS_REASON_MAX 200

/* One decision omemd took for a VM. */
typedef struct {
	int64_t at_unix_ms;
	const char *action;      /* static: grant, partial-grant, defer, shrink, hold, ... */
	uint64_t target_bytes;   /* the requested size the decision set */
	char *reason;            /* one line, owned */
} StatusDecision;

/* One VM's record, everything the document shows about it. */
typedef struct {
	char *name;
	char *uuid;
	const char *state;                    /* static: running, paused, shutting-down */
	bool has_contract;
	uint64_t boot_bytes, min_bytes, cap_bytes, max_bytes;
	uint32_t shares, buffer_percent;
	bool frozen, drain;
	bool has_memory;                      /* requested/plugged known */
	uint64_t requested_bytes, plugged_bytes;
	bool has_demand;
	uint64_t demand_bytes;                /* total RAM the guest wants, before the buffer */
	bool has_guest;
	uint64_t guest_total_bytes, guest_free_bytes, guest_available_bytes;
	int64_t guest_reported_unix_ms;
	bool has_session;
	const char *session_state;            /* static: none, connecting, open, closed, cut-off */
	bool has_protocol_version;
	uint16_t protocol_version;
	uint32_t generation;
	int64_t session_since_unix_ms;
	bool has_arbiter;                     /* the arbiter's view below is known */
	uint64_t charge_bytes;                /* boot + max(requested, plugged) + overhead */
	uint64_t fair_share_bytes;            /* requested terms (beyond boot) */
	double claim;                         /* idle-taxed shares per byte; lowest gives first */
	bool waiting;                         /* held memory: below its fair share and short */
	uint64_t waiting_bytes;
	bool reclaim_pending;                 /* being shrunk step by step */
	uint64_t reclaim_target_bytes;
	char *note;                           /* omemd's condition for this VM in one line, or NULL */
	StatusDecision decisions[STATUS_DECISIONS_MAX]; /* newest first */
	unsigned n_decisions;
} StatusVm;

/* The daemon and host part of the document. */
typedef struct {
	int pid;
	const char *version;
	int64_t started_unix_ms;
	int64_t generated_unix_ms;
	bool has_host;
	uint64_t budget_bytes, committed_bytes;
	bool has_arbiter;                     /* the members below are known */
	uint64_t reserved_bytes;              /* admissions of VMs not running yet */
	uint64_t pool_bytes;                  /* what a grant may take now */
	uint64_t held_bytes;                  /* part of the pool held for waiting VMs */
	bool host_short;                      /* MemAvailable or PSI past its limit */
	bool host_known;                      /* /proc figures read */
	uint64_t mem_available_bytes;
	uint32_t psi_some_avg10;              /* hundredths of a percent */
	bool drain_all, freeze_all;
} StatusHost;

/* Record a decision (newest first, the oldest beyond 8 dropped); the
 * reason is cut to one line of STATUS_REASON_MAX characters. */
void status_vm_add_decision(StatusVm *vm, int64_t at_unix_ms, const char *action,
			    uint64_t target_bytes, const char *reason);

/* Replace the note (NULL clears it). */
void status_vm_set_note(StatusVm *vm, const char *note);

/* Free what the record owns and zero it. */
void status_vm_clear(StatusVm *vm);

/* The document, UTF-8, pretty-printed; g_free.  @vms may be empty. */
char *status_json_format(const StatusHost *host, const StatusVm *const *vms, unsigned n_vms,
			 gsize *ret_length);

#endif /* OMEM_STATUS_JSON_H */
