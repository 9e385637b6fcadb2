/* SPDX-License-Identifier: MIT */
/*
 * policy: omemd's first-version decisions for one VM (see policy.h and
 * docs/omemd.md, "Decisions").
 */
#include "config.h"

#include "arbiter/policy.h"

#include <errno.h>
#include <stddef.h>

#include <omem/rpc.h>

uint64_t policy_round_up(uint64_t bytes, uint64_t granule)
{
	uint64_t rest;

	if (granule == 0)
		return bytes;
	rest = bytes % granule;
	if (rest == 0)
		return bytes;
	if (bytes > UINT64_MAX - (granule - rest))
		return UINT64_MAX - UINT64_MAX % granule;
	return bytes + (granule - rest);
}

uint64_t policy_round_down(uint64_t bytes, uint64_t granule)
{
	if (granule == 0)
		return bytes;
	return bytes - bytes % granule;
}

uint64_t policy_requested_ceiling(const PolicyVm *vm)
{
	uint64_t limit = vm->cap_bytes < vm->max_bytes ? vm->cap_bytes : vm->max_bytes;

	if (limit <= vm->boot_bytes)
		return 0;
	return policy_round_down(limit - vm->boot_bytes, vm->block_bytes);
}

uint64_t policy_requested_floor(const PolicyVm *vm)
{
	uint64_t floor_bytes, ceiling = policy_requested_ceiling(vm);

	if (vm->min_bytes <= vm->boot_bytes)
		return 0;
	floor_bytes = policy_round_up(vm->min_bytes - vm->boot_bytes, vm->block_bytes);
	return floor_bytes < ceiling ? floor_bytes : ceiling;
}

uint64_t policy_charge(const PolicyVm *vm)
{
	return vm->requested_bytes > vm->plugged_bytes ? vm->requested_bytes : vm->plugged_bytes;
}

static void policy_defer(PolicyDemandResult *result, const PolicyVm *vm, uint32_t reason,
			 uint32_t retry_after_ms, PolicyLimit limited_by)
{
	*result = (PolicyDemandResult){
		.action = POLICY_ACTION_DEFER,
		.deny_reason = reason,
		.retry_after_ms = retry_after_ms,
		.requested_bytes = vm->requested_bytes,
		.limited_by = limited_by,
	};
}

int policy_decide_demand(const PolicyConfig *config, const PolicyVm *vm, uint64_t budget_left,
			 uint64_t demand_bytes, uint32_t urgency, PolicyDemandResult *ret_result)
{
	uint64_t block = vm->block_bytes, step, want, in_flight, target, wanted_rise;
	uint64_t ceiling, cap_room, budget_room, rise, charge;
	PolicyDemandResult result;

	if (block == 0 || demand_bytes == 0)
		return -EINVAL;
	step = config->grant_step_bytes > block ? policy_round_up(config->grant_step_bytes, block) : block;

	if (vm->frozen) {
		policy_defer(ret_result, vm, OMEM_RPC_DENY_FROZEN, config->retry_frozen_ms, POLICY_LIMIT_FROZEN);
		return 0;
	}

	/* Coalesce with a plug still in flight: what is requested but not
	 * yet plugged is on its way and answers part of this demand.  A
	 * CRITICAL demand is not coalesced: the guest is about to OOM. */
	want = policy_round_up(demand_bytes, block);
	in_flight = vm->requested_bytes > vm->plugged_bytes ? vm->requested_bytes - vm->plugged_bytes : 0;
	if (urgency < OMEM_RPC_URGENCY_CRITICAL && in_flight > 0) {
		if (in_flight >= want) {
			policy_defer(ret_result, vm, OMEM_RPC_DENY_BUSY, config->retry_busy_ms, POLICY_LIMIT_IN_FLIGHT);
			return 0;
		}
		want -= in_flight;
	}

	ceiling = policy_requested_ceiling(vm);
	cap_room = ceiling > vm->requested_bytes ? ceiling - vm->requested_bytes : 0;
	if (cap_room == 0) {
		policy_defer(ret_result, vm, OMEM_RPC_DENY_CAP, config->retry_cap_ms, POLICY_LIMIT_CAP);
		return 0;
	}

	/* Raising requested to R costs max(R, plugged) - max(requested,
	 * plugged); so R may go up to charge + budget_left. */
	charge = policy_charge(vm);
	budget_room = charge + budget_left < charge ? UINT64_MAX : charge + budget_left;
	budget_room = budget_room > vm->requested_bytes ? budget_room - vm->requested_bytes : 0;
	budget_room = policy_round_down(budget_room, block);
	if (budget_room == 0) {
		policy_defer(ret_result, vm, OMEM_RPC_DENY_BUDGET, config->retry_budget_ms, POLICY_LIMIT_BUDGET);
		return 0;
	}

	/* The target is the new requested size rounded up to whole grant
	 * steps (whole guest memory blocks), then cut by cap and budget. */
	target = policy_round_up(vm->requested_bytes + want, step);
	wanted_rise = target - vm->requested_bytes;
	rise = wanted_rise;
	result = (PolicyDemandResult){ .action = POLICY_ACTION_GRANT };
	if (rise > cap_room) {
		rise = cap_room;
		result.limited_by = POLICY_LIMIT_CAP;
	}
	if (rise > budget_room) {
		rise = budget_room;
		result.limited_by = POLICY_LIMIT_BUDGET;
	}
	if (rise < want) {
		if (rise < config->grant_minimum_bytes) {
			bool by_cap = result.limited_by == POLICY_LIMIT_CAP;

			policy_defer(ret_result, vm, by_cap ? OMEM_RPC_DENY_CAP : OMEM_RPC_DENY_BUDGET,
				     by_cap ? config->retry_cap_ms : config->retry_budget_ms,
				     result.limited_by);
			return 0;
		}
		result.action = POLICY_ACTION_PARTIAL_GRANT;
	} else {
		/* Rounding up to a step is not the guest's fault: the cut
		 * only counts when it ate into the demand itself. */
		result.limited_by = POLICY_LIMIT_NONE;
	}
	result.requested_bytes = vm->requested_bytes + rise;
	/* GRANT.bytes never exceeds the demand rounded to blocks (rpc.h);
	 * the step rounding shows in the target only. */
	result.grant_bytes = rise < want ? rise : want;
	*ret_result = result;
	return 0;
}

uint64_t policy_surplus_releasable(const PolicySurplus *surplus)
{
	uint64_t releasable = surplus->free_bytes + surplus->clean_cache_bytes;

	if (releasable < surplus->free_bytes)
		releasable = UINT64_MAX;
	return releasable < surplus->unpluggable_bytes ? releasable : surplus->unpluggable_bytes;
}

/* One step from requested toward @goal_bytes: at most shrink_step lower,
 * on a block boundary, never below the goal. */
static uint64_t policy_shrink_step(const PolicyConfig *config, const PolicyVm *vm, uint64_t goal_bytes)
{
	uint64_t step_floor = vm->requested_bytes > config->shrink_step_bytes ?
			      vm->requested_bytes - config->shrink_step_bytes : 0;

	step_floor = policy_round_up(step_floor, vm->block_bytes);
	return goal_bytes > step_floor ? goal_bytes : step_floor;
}

int policy_decide_surplus(const PolicyConfig *config, const PolicyVm *vm,
			  const PolicySurplus *surplus, PolicyResizeResult *ret_result)
{
	uint64_t block = vm->block_bytes, step, releasable, total, keep, buffer, goal, target;
	uint64_t floor_bytes;

	if (block == 0)
		return -EINVAL;
	*ret_result = (PolicyResizeResult){ .action = POLICY_ACTION_HOLD,
					    .requested_bytes = vm->requested_bytes,
					    .goal_bytes = vm->requested_bytes };
	if (vm->frozen) {
		ret_result->why = "frozen";
		return 0;
	}
	step = config->grant_step_bytes > block ? policy_round_up(config->grant_step_bytes, block) : block;

	/* Cheapest first: free memory, then clean cache, never more than an
	 * unplug can take, and only from what is plugged. */
	releasable = policy_surplus_releasable(surplus);
	if (releasable > vm->plugged_bytes)
		releasable = vm->plugged_bytes;

	total = vm->boot_bytes + vm->plugged_bytes;
	keep = total - releasable;
	buffer = keep / 100 * vm->buffer_percent + keep % 100 * vm->buffer_percent / 100;
	keep += buffer;
	goal = keep > vm->boot_bytes ? policy_round_up(keep - vm->boot_bytes, step) : 0;
	floor_bytes = policy_requested_floor(vm);
	if (goal < floor_bytes)
		goal = floor_bytes;
	goal = policy_round_up(goal, block);
	if (goal >= vm->requested_bytes) {
		ret_result->why = goal == floor_bytes ? "at min" : "nothing worth unplugging";
		return 0;
	}
	ret_result->goal_bytes = goal;
	/* The free memory of a step still being unplugged counts in this
	 * report too: the goal stands, the next step waits for that one. */
	if (vm->plugged_bytes > vm->requested_bytes) {
		ret_result->why = "unplug in flight";
		return 0;
	}
	target = policy_shrink_step(config, vm, goal);
	ret_result->action = POLICY_ACTION_SHRINK;
	ret_result->requested_bytes = target;
	ret_result->why = target == floor_bytes ? "surplus, down to min" :
			  target > goal ? "surplus, one step" : "surplus";
	return 0;
}

void policy_shrink_goal_set(PolicyShrinkGoal *goal, const PolicyResizeResult *result, int64_t now_ms)
{
	*goal = (PolicyShrinkGoal){
		.active = result->goal_bytes < result->requested_bytes,
		.goal_bytes = result->goal_bytes,
		.decided_ms = now_ms,
	};
}

void policy_shrink_goal_drop(PolicyShrinkGoal *goal)
{
	goal->active = false;
}

int policy_decide_next_step(const PolicyConfig *config, const PolicyVm *vm, PolicyShrinkGoal *goal,
			    int64_t now_ms, PolicyResizeResult *ret_result)
{
	uint64_t floor_bytes, aim, target;

	if (vm->block_bytes == 0)
		return -EINVAL;
	*ret_result = (PolicyResizeResult){ .action = POLICY_ACTION_HOLD,
					    .requested_bytes = vm->requested_bytes,
					    .goal_bytes = vm->requested_bytes,
					    .why = "no goal" };
	if (!goal->active)
		return 0;
	if (vm->frozen) {
		goal->active = false;
		ret_result->why = "frozen";
		return 0;
	}
	/* The guest re-sends SURPLUS while it has plenty, refreshing the
	 * goal; one this old no longer describes it. */
	if (now_ms - goal->decided_ms >= (int64_t)config->shrink_goal_ttl_ms) {
		goal->active = false;
		ret_result->why = "goal out of date";
		return 0;
	}
	ret_result->goal_bytes = goal->goal_bytes;
	/* Only a completed step is followed by the next: an unplug still
	 * running (or a plug) means the guest has not caught up. */
	if (vm->plugged_bytes != vm->requested_bytes) {
		ret_result->why = vm->plugged_bytes > vm->requested_bytes ? "unplug in flight" :
				  "plug in flight";
		return 0;
	}
	/* A min raised since the SURPLUS drops the goal (contract change);
	 * the floor here only keeps a step honest. */
	floor_bytes = policy_requested_floor(vm);
	aim = goal->goal_bytes > floor_bytes ? goal->goal_bytes : floor_bytes;
	target = policy_shrink_step(config, vm, aim);
	if (target >= vm->requested_bytes) {
		goal->active = false;
		ret_result->goal_bytes = vm->requested_bytes;
		ret_result->why = "goal reached";
		return 0;
	}
	if (target == aim)
		goal->active = false; /* the last step */
	ret_result->action = POLICY_ACTION_SHRINK;
	ret_result->requested_bytes = target;
	ret_result->why = target == floor_bytes ? "surplus goal, down to min" :
			  goal->active ? "surplus goal, next step" : "surplus goal, last step";
	return 0;
}

int policy_decide_contract(const PolicyVm *vm, PolicyResizeResult *ret_result)
{
	uint64_t ceiling, floor_bytes;

	if (vm->block_bytes == 0)
		return -EINVAL;
	ceiling = policy_requested_ceiling(vm);
	floor_bytes = policy_requested_floor(vm);
	*ret_result = (PolicyResizeResult){ .action = POLICY_ACTION_HOLD,
					    .requested_bytes = vm->requested_bytes,
					    .why = "within the contract" };
	/* The operator's changes apply to a frozen VM too (docs/contract.md). */
	if (vm->requested_bytes > ceiling) {
		ret_result->action = POLICY_ACTION_SHRINK;
		ret_result->requested_bytes = ceiling;
		ret_result->why = "cap lowered";
	} else if (vm->requested_bytes < floor_bytes) {
		ret_result->action = POLICY_ACTION_GROW;
		ret_result->requested_bytes = floor_bytes;
		ret_result->why = "min raised";
	}
	return 0;
}

void policy_unplug_start(PolicyUnplug *unplug, const PolicyConfig *config, uint64_t target_bytes,
			 uint64_t plugged_bytes, int64_t now_ms)
{
	*unplug = (PolicyUnplug){
		.active = plugged_bytes > target_bytes,
		.target_bytes = target_bytes,
		.last_plugged = plugged_bytes,
		.last_progress_ms = now_ms,
		.next_retry_ms = now_ms + config->unplug_retry_ms,
	};
}

void policy_unplug_progress(PolicyUnplug *unplug, const PolicyConfig *config,
			    uint64_t plugged_bytes, int64_t now_ms)
{
	if (!unplug->active)
		return;
	if (plugged_bytes <= unplug->target_bytes) {
		unplug->active = false;
		return;
	}
	if (plugged_bytes < unplug->last_plugged) {
		/* Moving again: the clock and the backoff start over. */
		unplug->last_plugged = plugged_bytes;
		unplug->last_progress_ms = now_ms;
		unplug->reissues = 0;
		unplug->next_retry_ms = now_ms + config->unplug_retry_ms;
	}
}

bool policy_unplug_due(PolicyUnplug *unplug, const PolicyConfig *config, int64_t now_ms)
{
	uint64_t delay;

	if (!unplug->active || now_ms < unplug->next_retry_ms)
		return false;
	unplug->reissues++;
	delay = (uint64_t)config->unplug_retry_ms << (unplug->reissues < 16 ? unplug->reissues : 16);
	if (delay > config->unplug_retry_max_ms)
		delay = config->unplug_retry_max_ms;
	unplug->next_retry_ms = now_ms + (int64_t)delay;
	return true;
}

static const char *const policy_limit_names[] = {
	[POLICY_LIMIT_NONE]      = NULL,
	[POLICY_LIMIT_CAP]       = "cap",
	[POLICY_LIMIT_BUDGET]    = "budget",
	[POLICY_LIMIT_HOST]      = "host",
	[POLICY_LIMIT_FROZEN]    = "frozen",
	[POLICY_LIMIT_DRAIN]     = "drain",
	[POLICY_LIMIT_IN_FLIGHT] = "in-flight",
	[POLICY_LIMIT_TRUST]     = "trust",
	[POLICY_LIMIT_LIBVIRT]   = "libvirt",
};

const char *policy_limit_name(PolicyLimit limit)
{
	return (size_t)limit < sizeof(policy_limit_names) / sizeof(policy_limit_names[0]) ?
	       policy_limit_names[limit] : NULL;
}

const char *policy_action_name(PolicyAction action)
{
	switch (action) {
	case POLICY_ACTION_GRANT: return "grant";
	case POLICY_ACTION_PARTIAL_GRANT: return "partial-grant";
	case POLICY_ACTION_DEFER: return "defer";
	case POLICY_ACTION_SHRINK: return "shrink";
	case POLICY_ACTION_GROW: return "grant";
	case POLICY_ACTION_HOLD: return "hold";
	}
	return "hold";
}
