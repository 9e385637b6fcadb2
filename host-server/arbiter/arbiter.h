/* SPDX-License-Identifier: MIT */
/*
 * arbiter: omemd's global memory arbiter.  One host budget,
 * shared by every omem VM under a contract each (boot, min, cap, max,
 * shares): it decides DEMANDs against the whole host instead of one VM at
 * a time, holds memory for VMs below their fair share, takes memory back
 * from VMs above theirs (idle ones first: Waldspurger's idle-memory tax),
 * backs off when the host itself runs short, and admits a VM at start only
 * when its guaranteed memory fits.
 *
 * Pure logic: no I/O, no logging, no clock (time is passed in as
 * milliseconds of any monotonic clock).  The arbiter never actuates
 * anything: every decision that must change another VM comes back as an
 * ArbiterOp for the caller to carry out (a RESIZE through libvirt, a
 * RECLAIM over omem-rpc), and the caller reports what really happened with
 * arbiter_vm_set_sizes.  The arbiter updates its own record of a VM's
 * requested size whenever it decides one (a grant, a RESIZE op), so two
 * decisions in a row never hand out the same memory twice.
 *
 * Units: bytes.  Contract figures are total guest RAM; requested and
 * plugged are the virtio-mem devices' sums (what lies beyond boot).  A VM
 * is charged boot + max(requested, plugged) + vm_overhead against the
 * budget (docs/architecture.md, "The contract, defined once"), so late, lost
 * or duplicated size events never let the charges exceed the budget.
 *
 * Scale: every per-VM update is O(1) or O(log n) (global sums kept
 * incrementally, VMs in a binary heap ordered by claim); a decision looks
 * at a bounded number of VMs.  10,000 VMs per host are fine.
 * docs/arbiter.md has the model, the formulas and the tunables.
 */
#ifndef OMEM_ARBITER_H
#define OMEM_ARBITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "arbiter/policy.h"
#include "arbiter/trust.h"

/* Ops one call can return.  A DEMAND reclaims from at most
 * ARBITER_VICTIMS_MAX VMs (two ops each); arbiter_tick stops at the array's
 * end and continues on the next tick. */
#define ARBITER_OPS_MAX 32
#define ARBITER_VICTIMS_MAX 4

/* Shares a contract gets when it names none (as ESX's "normal"). */
#define ARBITER_SHARES_DEFAULT 1000

/* One VM's contract, from its domain metadata (docs/contract.md). */
typedef struct {
	uint64_t boot_bytes;      /* guest RAM at boot, never unplugged */
	uint64_t min_bytes;       /* guaranteed total; admission reserves it */
	uint64_t cap_bytes;       /* operator's live limit (total) */
	uint64_t max_bytes;       /* boot + the virtio-mem devices' size */
	uint64_t block_bytes;     /* virtio-mem block: granule of every size */
	uint32_t shares;          /* weight under contention; 0 = ARBITER_SHARES_DEFAULT */
	uint32_t buffer_percent;  /* headroom kept above the guest's need on shrink */
	bool frozen;              /* operator froze the size: no grant, no shrink */
	bool drain;               /* operator drains it: shrink step by step to min, never grant */
} ArbiterContract;

/* Tunables, from omemd.conf [policy] and [host] (same names there; see
 * docs/arbiter.md for the defaults and why). */
typedef struct {
	PolicyConfig policy;          /* grant_step, grant_minimum, shrink_step, retries of the per-VM rules */
	uint64_t budget_bytes;        /* all omem VMs' charges together never exceed this */
	uint64_t vm_overhead_bytes;   /* QEMU's own memory per VM, charged beside the guest's */
	uint32_t idle_tax_percent;    /* idle-memory tax, 0..95 (clamped); 75 as in ESX */
	uint64_t host_low_bytes;      /* MemAvailable below this = the host is short */
	uint32_t psi_limit;           /* PSI memory some avg10 above this (hundredths of %) = short */
	uint32_t report_ttl_ms;       /* a guest report older than this no longer counts */
	uint32_t retry_reclaim_ms;    /* DEFER BUDGET retry while a reclaim runs for the VM */
	uint32_t admission_ttl_ms;    /* an admission's reservation lapses after this */
	uint32_t reclaim_timeout_ms;  /* a reclaim gets this per shrink_step it asks for, from its RECLAIM */
	uint32_t wait_ttl_ms;         /* a waiting record without a new DEMAND lapses after this */
} ArbiterConfig;

/* The host's memory state, from /proc/meminfo and /proc/pressure/memory. */
typedef struct {
	uint64_t mem_available_bytes; /* MemAvailable */
	uint32_t psi_some_avg10;      /* "some avg10" in hundredths of a percent */
	bool known;                   /* false: no figures (no pressure assumed) */
} ArbiterHost;

/* What a guest last said about its memory (STATS or SURPLUS). */
typedef struct {
	uint64_t free_bytes;          /* free inside the guest */
	uint64_t clean_cache_bytes;   /* clean page cache it could drop */
	uint64_t unpluggable_bytes;   /* upper bound of an unplug now */
	uint64_t total_bytes;         /* guest total RAM (boot + plugged) */
	int64_t at_ms;                /* when it arrived */
} ArbiterReport;

typedef enum {
	ARBITER_OP_RESIZE,  /* set the VM's requested size to bytes (up or down) */
	ARBITER_OP_RECLAIM, /* ask the guest (omem-rpc RECLAIM) to free bytes and answer SURPLUS */
	ARBITER_OP_RECLAIM_STALLED, /* a reclaim missed its deadline: bytes asked, released_bytes came out */
} ArbiterOpKind;

/* One thing the caller must do to a VM. */
typedef struct {
	ArbiterOpKind kind;
	uint64_t vm_id;     /* the caller's id, as given to arbiter_vm_add */
	uint64_t bytes;     /* RESIZE: the new requested size; RECLAIM: bytes to free; STALLED: bytes asked */
	uint64_t released_bytes; /* RECLAIM_STALLED: what the guest gave back before the deadline */
	const char *why;    /* static reason for logs and status */
} ArbiterOp;

/* Ops returned by one call, in the order they must be carried out.  Every
 * call that takes an ArbiterOps empties it first. */
typedef struct {
	unsigned int count;
	ArbiterOp op[ARBITER_OPS_MAX];
} ArbiterOps;

/* The answer to an admission request. */
typedef struct {
	bool admitted;
	uint64_t needed_bytes;    /* boot + min beyond boot (floor) + vm_overhead */
	uint64_t budget_bytes;    /* the budget it was measured against */
	uint64_t committed_bytes; /* sum of the running VMs' charges */
	uint64_t reserved_bytes;  /* other admissions not started yet */
} ArbiterAdmitResult;

/* Host-wide figures and counters for status and /metrics. */
typedef struct {
	uint64_t budget_bytes;       /* as configured */
	uint64_t committed_bytes;    /* sum of all VMs' charges */
	uint64_t reserved_bytes;     /* admissions holding memory for VMs not added yet */
	uint64_t pool_bytes;         /* what a grant may take now (budget left, cut by host pressure) */
	uint64_t held_bytes;         /* part of the pool held for waiting VMs below their fair share */
	bool host_short;             /* host pressure: MemAvailable or PSI past its limit */
	size_t vms;                  /* VMs known */
	size_t waiting;              /* VMs with a waiting record */
	size_t reclaims_pending;     /* VMs being shrunk step by step (reclaim, drain, cap) */
	uint64_t grants;             /* DEMANDs granted in full */
	uint64_t partial_grants;     /* ... in part */
	uint64_t defers_budget;      /* DEFER BUDGET (budget, host, fair share) */
	uint64_t defers_cap;         /* DEFER CAP */
	uint64_t defers_frozen;      /* DEFER FROZEN (frozen or draining) */
	uint64_t defers_busy;        /* DEFER BUSY (plug in flight covers it) */
	uint64_t reclaims_issued;    /* reclaims started from a victim */
	uint64_t reclaims_given_up;  /* reclaims dropped after reclaim_timeout_ms */
	uint64_t admissions_refused; /* arbiter_admit refusals */
} ArbiterStats;

/* One VM as status and /metrics show it. */
typedef struct {
	uint64_t requested_bytes;        /* the arbiter's record */
	uint64_t plugged_bytes;          /* per the last size event */
	uint64_t charge_bytes;           /* boot + max(requested, plugged) + vm_overhead */
	uint64_t floor_bytes;            /* least requested (min - boot, in blocks) */
	uint64_t ceiling_bytes;          /* most requested (min(cap, max) - boot, in blocks) */
	uint64_t fair_share_bytes;       /* fair share, in requested terms */
	double claim;                    /* idle-taxed shares per byte; lowest is reclaimed first */
	bool waiting;                    /* holds a waiting record (below fair share, short) */
	uint64_t waiting_bytes;          /* ... for this much more */
	bool reclaim_pending;            /* being shrunk step by step */
	uint64_t reclaim_target_bytes;   /* ... down to this requested size */
	int64_t reclaim_barred_until_ms; /* its last reclaim stalled: no victim before this (0: never) */
} ArbiterVmStatus;

typedef struct Arbiter Arbiter;

/* Fill @config with the defaults of docs/arbiter.md (budget 0: the caller
 * sets it). */
void arbiter_config_init(ArbiterConfig *config);

/* A new arbiter with no VMs.  Returns 0, or -EINVAL for a config that
 * makes no sense (zero grant_step or shrink_step). */
int arbiter_new(const ArbiterConfig *config, Arbiter **ret_arbiter);

/* Free it (NULL is fine). */
void arbiter_free(Arbiter *arbiter);

/* SIGHUP reload: new budget and tunables; fair shares, claims and the
 * pool follow at once.  A lower budget does not shrink anyone by itself:
 * grants stop until the charges fit (reclaim follows host pressure or
 * demands).  Returns 0 or -EINVAL as arbiter_new. */
int arbiter_set_config(Arbiter *arbiter, const ArbiterConfig *config);

/* The host's memory state now; host pressure is re-evaluated at once and
 * acted on at the next arbiter_tick. */
void arbiter_set_host(Arbiter *arbiter, const ArbiterHost *host);

/* Host-wide drain (every VM shrinks step by step to its floor via
 * arbiter_tick, no grants) and freeze (no grant, no shrink), on top of
 * each VM's own flags. */
void arbiter_set_drain_all(Arbiter *arbiter, bool drain);
void arbiter_set_freeze_all(Arbiter *arbiter, bool freeze);

/* Admission at VM start: does boot + floor + vm_overhead fit in the budget
 * minus the committed charges and the other reservations?  If so, hold a
 * reservation under @key (e.g. the domain UUID) until arbiter_vm_add with
 * the same key or admission_ttl_ms; a second admit with the same key
 * renews it.  A VM already added under @key is admitted.  The figures are
 * in @ret_result either way.  Returns 0, or -EINVAL (no key, bad contract). */
int arbiter_admit(Arbiter *arbiter, const char *key, const ArbiterContract *contract,
		  int64_t now_ms, ArbiterAdmitResult *ret_result);

/* Drop @key's reservation (the start failed).  Unknown keys are ignored. */
void arbiter_admit_cancel(Arbiter *arbiter, const char *key);

/* One admission reservation, as omemd saves them across its restarts. */
typedef struct {
	const char *key;     /* valid until the next call that changes reservations */
	uint64_t bytes;      /* what it holds */
	int64_t expires_ms;  /* when it lapses (the arbiter's clock) */
} ArbiterReservationInfo;

/* The reservations now, up to @max of them into @ret (in no order).
 * Returns how many there are in all. */
size_t arbiter_reservations(const Arbiter *arbiter, ArbiterReservationInfo *ret, size_t max);

/* Put back a reservation an earlier omemd made (a restart between a VM's
 * admission and its start): held under @key for @bytes until
 * @expires_ms, whether or not it fits now, since it was admitted then.
 * Returns 0, -EEXIST when @key already holds one or is a VM, -EINVAL for
 * no key, no bytes or an expiry in the past of @now_ms. */
int arbiter_admit_restore(Arbiter *arbiter, const char *key, uint64_t bytes, int64_t expires_ms,
			  int64_t now_ms);

/* A VM appeared (start, or discovery when omemd starts) with its devices'
 * current sizes.  @key (may be NULL) consumes the admission reservation of
 * that key.  Charges already past the budget are accepted (discovery) but
 * nothing more is granted until they fit.  The caller then calls
 * arbiter_vm_reevaluate to bring requested inside the contract.  Returns
 * 0, -EEXIST for a known id, or -EINVAL for a contract without a block. */
int arbiter_vm_add(Arbiter *arbiter, uint64_t vm_id, const char *key,
		   const ArbiterContract *contract, uint64_t requested_bytes,
		   uint64_t plugged_bytes, int64_t now_ms);

/* The VM is gone (destroy, shutdown, crash): its charge returns to the pool
 * at once; its reclaim, waiting record and admission key are dropped.
 * Returns 0 or -ENOENT. */
int arbiter_vm_remove(Arbiter *arbiter, uint64_t vm_id);

/* What the devices really are now (libvirt's size-change event: the new
 * plugged; a failed resize: the old requested; a reboot: whatever libvirt
 * says).  Advances a pending reclaim.  Returns 0 or -ENOENT. */
int arbiter_vm_set_sizes(Arbiter *arbiter, uint64_t vm_id, uint64_t requested_bytes,
			 uint64_t plugged_bytes, int64_t now_ms);

/* What the arbiter believes of a guest's report: figures that contradict
 * the VM's size (boot + plugged) or each other are clamped, so a lying
 * guest's cannot count.  arbiter_vm_set_report applies it; public so that
 * tests can hold the same view. */
void arbiter_report_clamp(ArbiterReport *report, uint64_t boot_bytes, uint64_t plugged_bytes);

/* The guest's latest STATS or SURPLUS figures: its idle fraction (claim)
 * and what a reclaim may take from it.  Returns 0 or -ENOENT. */
int arbiter_vm_set_report(Arbiter *arbiter, uint64_t vm_id, const ArbiterReport *report);

/* The operator changed the contract.  Requested above the new ceiling ->
 * a RESIZE op down to it at once; below a raised floor -> a RESIZE up to
 * it; drain -> shrinking toward the floor starts (arbiter_tick); frozen ->
 * its pending shrink stops, nothing else.  Returns 0, -ENOENT, -EINVAL. */
int arbiter_vm_set_contract(Arbiter *arbiter, uint64_t vm_id, const ArbiterContract *contract,
			    int64_t now_ms, ArbiterOps *ret_ops);

/* Bring requested inside [floor, ceiling] (after add, a reboot or a
 * contract change): RESIZE down to the ceiling or up to the floor (the
 * floor is guaranteed by admission, so this GROW is not cut by the
 * budget).  Replaces policy_decide_contract for omemd.  Returns 0 or
 * -ENOENT. */
int arbiter_vm_reevaluate(Arbiter *arbiter, uint64_t vm_id, int64_t now_ms, ArbiterOps *ret_ops);

/* Decide a DEMAND of @demand_bytes at @urgency (OMEM_RPC_URGENCY_*).
 * The per-VM rules are policy_decide_demand's (grant_step rounding,
 * coalescing with a plug in flight unless CRITICAL, cap, grant_minimum);
 * the pool is the budget left (cut under host pressure), minus what is
 * held for waiting VMs below their fair share unless this VM is one.  A
 * VM below its fair share that the pool cannot serve gets reclaim ops
 * against the VMs with the lowest claims, a waiting record, and what the
 * pool has now (PARTIAL_GRANT) or DEFER BUDGET after retry_reclaim_ms.
 * Frozen or draining -> DEFER FROZEN.  @ret_result->requested_bytes is the
 * demander's new requested size (the caller resizes it; it is not an op);
 * @ret_ops holds what must happen to other VMs.  Returns 0, -ENOENT, or
 * -EINVAL (zero demand). */
int arbiter_demand(Arbiter *arbiter, uint64_t vm_id, uint64_t demand_bytes, uint32_t urgency,
		   int64_t now_ms, PolicyDemandResult *ret_result, ArbiterOps *ret_ops);

/* arbiter_demand, with requested raised by at most @rise_limit_bytes
 * (UINT64_MAX: no limit), as if the pool held no more; a DEMAND cut by
 * it is limited by trust. */
int arbiter_demand_limited(Arbiter *arbiter, uint64_t vm_id, uint64_t demand_bytes, uint32_t urgency,
			   uint64_t rise_limit_bytes, int64_t now_ms, PolicyDemandResult *ret_result,
			   ArbiterOps *ret_ops);

/* A guest's DEMAND as its message states it (omem_rpc_demand), with
 * what omemd knows of the guest's size, for the trust checks. */
typedef struct {
	uint64_t bytes;             /* the DEMAND's bytes */
	uint64_t available_bytes;   /* the MemAvailable it claims */
	uint64_t guest_total_bytes; /* boot + plugged, omemd's figure */
	uint32_t urgency;           /* OMEM_RPC_URGENCY_* */
} ArbiterGuestDemand;

/* A guest's DEMAND weighed by @trust first (trust_demand_allowance: a
 * contradiction or a spent rate is DEFER BUDGET limited by trust, with
 * *@ret_why set), then decided by arbiter_demand_limited with the
 * allowance as the most requested may rise: the grant step's rounding
 * does not carry a distrusted guest past its rate.  The caller reports a grant it carried out with
 * arbiter_trust_granted.  Returns as arbiter_demand. */
int arbiter_trust_demand(Arbiter *arbiter, uint64_t vm_id, Trust *trust,
			 const TrustConfig *trust_config, const ArbiterGuestDemand *demand,
			 int64_t now_ms, PolicyDemandResult *ret_result, ArbiterOps *ret_ops,
			 const char **ret_why);

/* The grant @result of arbiter_trust_demand was carried out (requested
 * was @requested_before): charge the guest's rate with what it got, the
 * rise of requested, not the DEMAND's bytes. */
void arbiter_trust_granted(Trust *trust, uint64_t requested_before, const PolicyDemandResult *result,
			   int64_t now_ms);

/* Periodic work (about once a second): the next step of every pending
 * shrink whose last step completed (reclaim, drain, host pressure), give
 * up reclaims past reclaim_timeout_ms, start reclaims while the host is
 * short, expire waiting records and admission reservations. */
void arbiter_tick(Arbiter *arbiter, int64_t now_ms, ArbiterOps *ret_ops);

/* Read-only figures. */
void arbiter_get_stats(const Arbiter *arbiter, ArbiterStats *ret_stats);
int arbiter_vm_get_status(Arbiter *arbiter, uint64_t vm_id, ArbiterVmStatus *ret_status);

/* Verify every invariant (conservation, contracts, heap order, global sums
 * against a recomputation).  O(n): for tests and -DOMEM_DEBUG builds, where
 * every public call runs it and aborts on failure.  Returns true, or false
 * with a reason in *@ret_why (g_free it) when @ret_why is not NULL. */
bool arbiter_check(const Arbiter *arbiter, char **ret_why);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Arbiter, arbiter_free)

#endif /* OMEM_ARBITER_H */
