/* SPDX-License-Identifier: MIT */
/*
 * policy: the rules for one VM that the arbiter (arbiter.h) builds on:
 * how much of a DEMAND fits the VM's contract and a given pool
 * (policy_decide_demand, which the arbiter calls with the pool it allows
 * this VM), how far a SURPLUS lowers the requested size (one step at a
 * time, the next step when the last one completed), where a contract
 * change puts it, and when a stalled unplug is re-issued.
 *
 * Pure logic: no I/O, no logging, no clock (time is passed in).  Shares,
 * reclaim from other VMs and host pressure are the arbiter's.
 *
 * Units: bytes.  Contract figures (boot, min, cap, max) are total guest
 * RAM; requested and plugged are the virtio-mem devices' sums, i.e. what
 * lies beyond boot.  The host budget counts only memory beyond boot: each
 * VM is charged max(requested, plugged), because a guest may plug up to
 * requested at any moment and may fail to unplug (docs/architecture.md).
 */
#ifndef OMEM_POLICY_H
#define OMEM_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* One VM as the policy sees it. */
typedef struct {
	uint64_t boot_bytes;      /* contract boot: never unplugged */
	uint64_t min_bytes;       /* contract min (total) */
	uint64_t cap_bytes;       /* contract cap (total) */
	uint64_t max_bytes;       /* contract max (total) */
	uint32_t buffer_percent;  /* headroom kept above the guest's need on shrink */
	bool frozen;              /* operator froze the size: no grant, no shrink */
	uint64_t block_bytes;     /* virtio-mem block: granule of every request */
	uint64_t requested_bytes; /* devices' requested size now */
	uint64_t plugged_bytes;   /* devices' plugged size per the last event */
} PolicyVm;

/* Tunables, from omemd.conf [policy]. */
typedef struct {
	uint64_t grant_step_bytes;    /* requested is rounded up to this (the guest onlines whole memory blocks) */
	uint64_t grant_minimum_bytes; /* a partial grant smaller than this is a DENY instead */
	uint64_t shrink_step_bytes;   /* at most this much is unplugged per decision */
	uint32_t retry_budget_ms;     /* DENY BUDGET retry_after */
	uint32_t retry_cap_ms;        /* DENY CAP retry_after */
	uint32_t retry_busy_ms;       /* DENY BUSY retry_after */
	uint32_t retry_frozen_ms;     /* DENY FROZEN retry_after */
	uint32_t unplug_retry_ms;     /* a stalled unplug is re-issued after this, doubling */
	uint32_t unplug_retry_max_ms; /* ... up to this */
	uint32_t shrink_goal_ttl_ms;  /* a SURPLUS's goal is chained toward for this long */
} PolicyConfig;

/* What a decision did, as docs/status.md names the actions. */
typedef enum {
	POLICY_ACTION_GRANT,         /* the whole demand */
	POLICY_ACTION_PARTIAL_GRANT, /* part of it (cap or budget) */
	POLICY_ACTION_DEFER,         /* nothing now: DENY with retry_after */
	POLICY_ACTION_SHRINK,        /* requested lowered (surplus or a lower cap) */
	POLICY_ACTION_GROW,          /* requested raised to honour min (no demand) */
	POLICY_ACTION_HOLD,          /* no change needed */
} PolicyAction;

/* What cut a partial grant or caused a DEFER, for log lines, status and
 * metrics (policy_limit_name). */
typedef enum {
	POLICY_LIMIT_NONE,      /* nothing: the whole demand was granted */
	POLICY_LIMIT_CAP,       /* the contract's cap (or max) */
	POLICY_LIMIT_BUDGET,    /* the host budget's pool */
	POLICY_LIMIT_HOST,      /* the host itself is short (MemAvailable, PSI) */
	POLICY_LIMIT_FROZEN,    /* the operator froze the VM's size */
	POLICY_LIMIT_DRAIN,     /* the VM drains to its min for maintenance */
	POLICY_LIMIT_IN_FLIGHT, /* a plug in flight already answers the demand */
	POLICY_LIMIT_TRUST,     /* the guest's trust is lowered: its rate is spent */
	POLICY_LIMIT_LIBVIRT,   /* libvirt refused the resize */
} PolicyLimit;

/* "cap", "budget", ... ; NULL for POLICY_LIMIT_NONE. */
const char *policy_limit_name(PolicyLimit limit);

/* The answer to one DEMAND. */
typedef struct {
	PolicyAction action;        /* GRANT, PARTIAL_GRANT or DEFER */
	uint32_t deny_reason;       /* OMEM_RPC_DENY_* when DEFER */
	uint32_t retry_after_ms;    /* when DEFER */
	uint64_t grant_bytes;       /* GRANT.bytes: the rise, never above the demand rounded to blocks */
	uint64_t requested_bytes;   /* the devices' new requested size */
	PolicyLimit limited_by;     /* what cut a partial grant or caused a DEFER */
} PolicyDemandResult;

/* The answer to a SURPLUS or a contract change. */
typedef struct {
	PolicyAction action;        /* SHRINK, GROW or HOLD */
	uint64_t requested_bytes;   /* the devices' new requested size (= old on HOLD) */
	uint64_t goal_bytes;        /* SURPLUS: where the steps end; below requested_bytes
				     * when more steps follow (policy_shrink_goal_set) */
	const char *why;            /* static reason for logs and status */
} PolicyResizeResult;

/* What the guest said it could give back (SURPLUS). */
typedef struct {
	uint64_t free_bytes;        /* free inside plugged blocks */
	uint64_t clean_cache_bytes; /* clean page cache that could be dropped */
	uint64_t unpluggable_bytes; /* upper bound of an unplug now */
} PolicySurplus;

/* What a SURPLUS says an unplug could take: free then clean cache, never
 * more than unpluggable.  Every figure is the guest's, so the sum
 * saturates: a wrap would turn an absurd offer into a small believable
 * one and slip it past the trust checks. */
uint64_t policy_surplus_releasable(const PolicySurplus *surplus);

/* A lowered requested size followed until plugged comes down to it. */
typedef struct {
	bool active;                /* an unplug is being followed */
	uint64_t target_bytes;      /* requested size it must reach */
	uint64_t last_plugged;      /* plugged at the last progress */
	int64_t last_progress_ms;   /* when plugged last came down (or the request) */
	int64_t next_retry_ms;      /* when to re-issue if nothing moved */
	uint32_t reissues;          /* re-issues so far (drives the backoff) */
} PolicyUnplug;

/* Where a SURPLUS wanted requested to go when one shrink_step could not
 * reach it.  The guest sends SURPLUS only every ~10 s (docs/guest-client.md),
 * so waiting for one per step would take ~40 s to give back 1 GiB; instead
 * each completed step (plugged reached requested, per libvirt's event)
 * takes the next one toward the goal.  Anything that makes the guest's
 * report stale drops it: a DEMAND, a contract change, a reboot, a session
 * that opens or ends, and age (shrink_goal_ttl_ms). */
typedef struct {
	bool active;                /* steps remain toward goal_bytes */
	uint64_t goal_bytes;        /* the requested size the SURPLUS wanted */
	int64_t decided_ms;         /* when that SURPLUS was decided */
} PolicyShrinkGoal;

/* Round @bytes up / down to a multiple of @granule (a power of two or any
 * non-zero value); saturates instead of wrapping. */
uint64_t policy_round_up(uint64_t bytes, uint64_t granule);
uint64_t policy_round_down(uint64_t bytes, uint64_t granule);

/* The most requested may be under the contract: min(cap, max) - boot,
 * rounded down to the block.  0 when the contract leaves nothing. */
uint64_t policy_requested_ceiling(const PolicyVm *vm);

/* The least requested may be: min - boot, rounded up to the block (never
 * above the ceiling). */
uint64_t policy_requested_floor(const PolicyVm *vm);

/* What a VM costs the budget: max(requested, plugged). */
uint64_t policy_charge(const PolicyVm *vm);

/* Decide a DEMAND of @demand_bytes at @urgency (OMEM_RPC_URGENCY_*) with
 * @budget_left bytes of the host budget not charged to any VM.  Grants
 * round the new requested size up to grant_step, are cut by the cap and
 * the budget, coalesce with a plug still in flight (except CRITICAL), and
 * never exceed cap or max.  Returns 0, or -EINVAL for a config or VM that
 * makes no sense (zero block). */
int policy_decide_demand(const PolicyConfig *config, const PolicyVm *vm, uint64_t budget_left,
			 uint64_t demand_bytes, uint32_t urgency, PolicyDemandResult *ret_result);

/* Decide a SURPLUS: lower requested toward what the guest keeps
 * (total - min(unpluggable, free + clean cache)) plus its buffer, rounded
 * up to grant_step (the goal), at most shrink_step at once, never below
 * min.  While an unplug is in flight (plugged above requested) it only
 * reports the goal and holds: steps do not pile up on a guest that has
 * not finished the last one. */
int policy_decide_surplus(const PolicyConfig *config, const PolicyVm *vm,
			  const PolicySurplus *surplus, PolicyResizeResult *ret_result);

/* Remember the goal of a SURPLUS decision @result taken at @now_ms (or
 * forget any goal when @result leaves no step beyond its own). */
void policy_shrink_goal_set(PolicyShrinkGoal *goal, const PolicyResizeResult *result, int64_t now_ms);

/* Forget the goal: the guest's report it came from no longer holds. */
void policy_shrink_goal_drop(PolicyShrinkGoal *goal);

/* The next step toward @goal at @now_ms: SHRINK by at most shrink_step
 * (never below min nor the goal) once plugged has come down to requested;
 * HOLD while an unplug is in flight.  Drops the goal when it is reached,
 * out of date, or the VM is frozen.  Returns 0, or -EINVAL for a VM
 * without a block size. */
int policy_decide_next_step(const PolicyConfig *config, const PolicyVm *vm, PolicyShrinkGoal *goal,
			    int64_t now_ms, PolicyResizeResult *ret_result);

/* Bring requested inside the contract after it changed (or at discovery):
 * above the ceiling -> SHRINK to it; below the floor -> GROW to it. */
int policy_decide_contract(const PolicyVm *vm, PolicyResizeResult *ret_result);

/* Start following an unplug to @target_bytes at @now_ms. */
void policy_unplug_start(PolicyUnplug *unplug, const PolicyConfig *config, uint64_t target_bytes,
			 uint64_t plugged_bytes, int64_t now_ms);

/* A new plugged size arrived: progress resets the backoff; reaching the
 * target ends the follow-up. */
void policy_unplug_progress(PolicyUnplug *unplug, const PolicyConfig *config,
			    uint64_t plugged_bytes, int64_t now_ms);

/* Whether the unplug stalled long enough to re-issue the same request now;
 * when true, the next retry is scheduled (doubling up to the maximum). */
bool policy_unplug_due(PolicyUnplug *unplug, const PolicyConfig *config, int64_t now_ms);

/* "grant", "partial-grant", ... as in docs/status.md. */
const char *policy_action_name(PolicyAction action);

#endif /* OMEM_POLICY_H */
