/* SPDX-License-Identifier: MIT */
/*
 * test-policy: the per-VM policy (host-server/arbiter/policy.c):
 * rounding, cap, max, budget, min, coalescing with a plug in flight,
 * stepwise unplug on SURPLUS (and the chain of steps toward its goal),
 * contract changes, and the timing of a stalled unplug's re-issue.  Pure: no libvirt, time passed in.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <omem/rpc.h>

#include "arbiter/policy.h"
#include "tap.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static const PolicyConfig config = {
	.grant_step_bytes = 128 * MIB,
	.grant_minimum_bytes = 2 * MIB,
	.shrink_step_bytes = 256 * MIB,
	.retry_budget_ms = 1000,
	.retry_cap_ms = 10000,
	.retry_busy_ms = 500,
	.retry_frozen_ms = 10000,
	.unplug_retry_ms = 10000,
	.unplug_retry_max_ms = 60000,
	.shrink_goal_ttl_ms = 60000,
};

/* The e2e guest: boot 256 MiB, max 1.75 GiB, nothing plugged. */
static PolicyVm vm_default(void)
{
	return (PolicyVm){
		.boot_bytes = 256 * MIB,
		.min_bytes = 256 * MIB,
		.cap_bytes = 1792 * MIB,
		.max_bytes = 1792 * MIB,
		.buffer_percent = 10,
		.block_bytes = 2 * MIB,
	};
}

static void test_rounding(void)
{
	tap_eq(policy_round_up(1, 2 * MIB), 2 * MIB, "round_up: 1 byte -> one block");
	tap_eq(policy_round_up(4 * MIB, 2 * MIB), 4 * MIB, "round_up: aligned stays");
	tap_eq(policy_round_down(5 * MIB, 2 * MIB), 4 * MIB, "round_down: 5 MiB -> 4 MiB");
	tap_ok(policy_round_up(UINT64_MAX - 1, 2 * MIB) % (2 * MIB) == 0 &&
	       policy_round_up(UINT64_MAX - 1, 2 * MIB) > UINT64_MAX - 2 * MIB,
	       "round_up saturates instead of wrapping");
	tap_eq(policy_round_up(7, 0), 7, "granule 0 leaves the value");
}

static void test_limits(void)
{
	PolicyVm vm = vm_default();

	tap_eq(policy_requested_ceiling(&vm), 1536 * MIB, "ceiling = max - boot");
	vm.cap_bytes = 768 * MIB;
	tap_eq(policy_requested_ceiling(&vm), 512 * MIB, "ceiling = cap - boot");
	vm.cap_bytes = 100 * MIB;
	tap_eq(policy_requested_ceiling(&vm), 0, "cap below boot -> ceiling 0");
	vm = vm_default();
	vm.min_bytes = 513 * MIB;
	tap_eq(policy_requested_floor(&vm), 258 * MIB, "floor = min - boot rounded up to a block");
	vm.cap_bytes = 512 * MIB;
	tap_eq(policy_requested_floor(&vm), 256 * MIB, "floor never above the ceiling");
	vm = vm_default();
	vm.requested_bytes = 100 * MIB;
	vm.plugged_bytes = 300 * MIB;
	tap_eq(policy_charge(&vm), 300 * MIB, "charge = max(requested, plugged)");
}

static void test_demand(void)
{
	PolicyVm vm = vm_default();
	PolicyDemandResult r;

	tap_eq(policy_decide_demand(&config, &vm, 8 * GIB, 200 * MIB, OMEM_RPC_URGENCY_NORMAL, &r), 0,
	       "demand decided");
	tap_eq(r.action, POLICY_ACTION_GRANT, "200 MiB with room: full grant");
	tap_eq(r.requested_bytes, 256 * MIB, "requested rounded up to 128 MiB steps (256 MiB)");
	tap_eq(r.grant_bytes, 200 * MIB, "GRANT.bytes is the demand, not the step rounding");

	vm.requested_bytes = vm.plugged_bytes = 128 * MIB;
	policy_decide_demand(&config, &vm, 8 * GIB, 1, OMEM_RPC_URGENCY_LOW, &r);
	tap_eq(r.requested_bytes, 256 * MIB, "1 byte on 128 MiB -> next step, 256 MiB");
	tap_eq(r.grant_bytes, 2 * MIB, "... GRANT.bytes is the demand rounded to one block");

	/* Cap: 768 MiB total -> 512 MiB requested at most. */
	vm = vm_default();
	vm.cap_bytes = 768 * MIB;
	vm.requested_bytes = vm.plugged_bytes = 384 * MIB;
	policy_decide_demand(&config, &vm, 8 * GIB, 512 * MIB, OMEM_RPC_URGENCY_HIGH, &r);
	tap_eq(r.action, POLICY_ACTION_PARTIAL_GRANT, "demand past the cap: partial grant");
	tap_eq(r.requested_bytes, 512 * MIB, "... up to cap - boot exactly");
	tap_ok(r.limited_by == POLICY_LIMIT_CAP, "... limited by the cap");
	vm.requested_bytes = vm.plugged_bytes = 512 * MIB;
	policy_decide_demand(&config, &vm, 8 * GIB, 64 * MIB, OMEM_RPC_URGENCY_CRITICAL, &r);
	tap_eq(r.action, POLICY_ACTION_DEFER, "at the cap: defer");
	tap_eq(r.deny_reason, OMEM_RPC_DENY_CAP, "... DENY CAP");
	tap_eq(r.retry_after_ms, 10000, "... with the cap retry");
	tap_eq(r.requested_bytes, 512 * MIB, "... requested unchanged");

	/* Max with the cap above it (never past max). */
	vm = vm_default();
	vm.cap_bytes = 4 * GIB;
	vm.requested_bytes = vm.plugged_bytes = 1500 * MIB;
	policy_decide_demand(&config, &vm, 8 * GIB, 1 * GIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.requested_bytes, 1536 * MIB, "never past max - boot");

	/* Budget. */
	vm = vm_default();
	policy_decide_demand(&config, &vm, 100 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.action, POLICY_ACTION_PARTIAL_GRANT, "demand past the budget: partial grant");
	tap_eq(r.requested_bytes, 100 * MIB, "... what the budget has left, in blocks");
	tap_ok(r.limited_by == POLICY_LIMIT_BUDGET, "... limited by the budget");
	policy_decide_demand(&config, &vm, 1 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_BUDGET, "less than a block of budget: DENY BUDGET");
	tap_eq(r.retry_after_ms, 1000, "... with the budget retry");

	/* An unplug in flight: raising requested back to plugged is free. */
	vm.requested_bytes = 128 * MIB;
	vm.plugged_bytes = 384 * MIB;
	policy_decide_demand(&config, &vm, 0, 200 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.action, POLICY_ACTION_GRANT, "no budget left but an unplug in flight: granted");
	tap_eq(r.requested_bytes, 384 * MIB, "... back up to what is still plugged, which is charged already");

	/* A partial grant under the minimum is a DENY. */
	{
		PolicyConfig big_minimum = config;

		big_minimum.grant_minimum_bytes = 64 * MIB;
		vm = vm_default();
		policy_decide_demand(&big_minimum, &vm, 32 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
		tap_eq(r.action, POLICY_ACTION_DEFER, "partial grant under grant_minimum: defer");
	}

	/* Coalescing with a plug in flight. */
	vm = vm_default();
	vm.requested_bytes = 512 * MIB;
	vm.plugged_bytes = 256 * MIB;
	policy_decide_demand(&config, &vm, 8 * GIB, 200 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_BUSY, "demand covered by the plug in flight: DENY BUSY");
	tap_eq(r.retry_after_ms, 500, "... with the busy retry");
	policy_decide_demand(&config, &vm, 8 * GIB, 300 * MIB, OMEM_RPC_URGENCY_NORMAL, &r);
	tap_eq(r.action, POLICY_ACTION_GRANT, "demand beyond the plug in flight: the rest is granted");
	tap_eq(r.requested_bytes, 640 * MIB, "... 512 + (300 - 256) rounded to 128 MiB = 640 MiB");
	policy_decide_demand(&config, &vm, 8 * GIB, 200 * MIB, OMEM_RPC_URGENCY_CRITICAL, &r);
	tap_eq(r.action, POLICY_ACTION_GRANT, "CRITICAL is not coalesced");
	tap_eq(r.requested_bytes, 768 * MIB, "... 512 + 200 -> 768 MiB");

	vm = vm_default();
	vm.frozen = true;
	policy_decide_demand(&config, &vm, 8 * GIB, 64 * MIB, OMEM_RPC_URGENCY_CRITICAL, &r);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_FROZEN, "frozen: DENY FROZEN");

	vm = vm_default();
	vm.block_bytes = 0;
	tap_eq(policy_decide_demand(&config, &vm, 8 * GIB, 64 * MIB, 2, &r), -EINVAL,
	       "a VM without a block size is refused");
}

static void test_surplus(void)
{
	PolicyVm vm = vm_default();
	PolicyResizeResult r;
	PolicySurplus surplus;

	/* 1 GiB plugged, 900 MiB free: keep 1280 - 900 = 380 + 10%% = 418 MiB
	 * total -> 162 MiB beyond boot -> 256 MiB in steps; but at most 256
	 * MiB per step: 1024 - 256 = 768 MiB. */
	vm.requested_bytes = vm.plugged_bytes = 1 * GIB;
	surplus = (PolicySurplus){ .free_bytes = 900 * MIB, .clean_cache_bytes = 0,
				   .unpluggable_bytes = 1 * GIB };
	tap_eq(policy_decide_surplus(&config, &vm, &surplus, &r), 0, "surplus decided");
	tap_eq(r.action, POLICY_ACTION_SHRINK, "big surplus: shrink");
	tap_eq(r.requested_bytes, 768 * MIB, "... one 256 MiB step at a time");
	tap_eq(r.goal_bytes, 256 * MIB, "... toward a goal of 256 MiB");
	vm.requested_bytes = vm.plugged_bytes = 384 * MIB;
	surplus.free_bytes = 300 * MIB;
	surplus.unpluggable_bytes = 384 * MIB;
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.requested_bytes, 128 * MIB, "640 total, 300 free: keep 340 + 10%% = 374 -> 128 MiB requested");
	tap_eq(r.goal_bytes, 128 * MIB, "... reached in one step: the goal is the step");

	/* Never more than unpluggable. */
	vm.requested_bytes = vm.plugged_bytes = 512 * MIB;
	surplus = (PolicySurplus){ .free_bytes = 500 * MIB, .clean_cache_bytes = 0,
				   .unpluggable_bytes = 100 * MIB };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "little unpluggable: keep 668 + 10%% -> nothing below 512 MiB");
	/* Clean cache counts. */
	surplus = (PolicySurplus){ .free_bytes = 50 * MIB, .clean_cache_bytes = 400 * MIB,
				   .unpluggable_bytes = 512 * MIB };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.requested_bytes, 256 * MIB, "free + clean cache count: 768 - 450 = 318 + 10%% -> 256 MiB");

	/* Never below min. */
	vm.min_bytes = 640 * MIB;
	surplus = (PolicySurplus){ .free_bytes = 512 * MIB, .unpluggable_bytes = 512 * MIB };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.requested_bytes, 384 * MIB, "never below min - boot (384 MiB)");
	vm.requested_bytes = vm.plugged_bytes = 384 * MIB;
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "at min: hold");
	tap_eq(r.goal_bytes, 384 * MIB, "... and no goal below it");

	vm = vm_default();
	vm.frozen = true;
	vm.requested_bytes = vm.plugged_bytes = 512 * MIB;
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "frozen: hold");

	/* A lying guest: surplus figures beyond what is plugged. */
	vm = vm_default();
	vm.requested_bytes = vm.plugged_bytes = 256 * MIB;
	surplus = (PolicySurplus){ .free_bytes = UINT64_MAX, .clean_cache_bytes = UINT64_MAX,
				   .unpluggable_bytes = UINT64_MAX };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.requested_bytes, 128 * MIB, "huge figures: at most what is plugged, no wrap (boot + 10%% kept)");
}

/* The SURPLUS of the give-back test: 1.12 GiB plugged, ~950 MiB free. */
static void surplus_give_back(PolicyVm *vm, PolicyResizeResult *r)
{
	PolicySurplus surplus = { .free_bytes = 950 * MIB, .unpluggable_bytes = 950 * MIB };

	vm->requested_bytes = vm->plugged_bytes = 1152 * MIB;
	policy_decide_surplus(&config, vm, &surplus, r);
}

/* A SURPLUS's figures are the guest's: their sum saturates wherever it
 * wraps, so an absurd offer stays absurd (and is caught as a lie). */
static void test_surplus_releasable(void)
{
	PolicySurplus surplus = { .free_bytes = 100 * MIB, .clean_cache_bytes = 50 * MIB,
				  .unpluggable_bytes = 1 * GIB };

	tap_eq(policy_surplus_releasable(&surplus), 150 * MIB, "releasable: free + clean cache");
	surplus.unpluggable_bytes = 120 * MIB;
	tap_eq(policy_surplus_releasable(&surplus), 120 * MIB, "releasable: never above unpluggable");
	surplus = (PolicySurplus){ .free_bytes = 1ull << 63, .clean_cache_bytes = 1ull << 63,
				   .unpluggable_bytes = UINT64_MAX };
	tap_eq(policy_surplus_releasable(&surplus), UINT64_MAX, "releasable: 2^63 + 2^63 saturates");
	surplus.free_bytes = (1ull << 63) + 1;
	tap_eq(policy_surplus_releasable(&surplus), UINT64_MAX, "releasable: 2^63 + 1 + 2^63 saturates, not 0");
	surplus = (PolicySurplus){ .free_bytes = UINT64_MAX, .clean_cache_bytes = UINT64_MAX,
				   .unpluggable_bytes = UINT64_MAX };
	tap_eq(policy_surplus_releasable(&surplus), UINT64_MAX, "releasable: all ones saturates");
}

static void test_shrink_chain(void)
{
	PolicyVm vm = vm_default();
	PolicyResizeResult r;
	PolicyShrinkGoal goal;
	PolicySurplus surplus;
	int steps = 0;

	/* keep 1408 - 950 = 458 + 10% = 503 MiB total -> 247 beyond boot ->
	 * 256 MiB: five steps of 256 MiB would be needed from 1152 MiB. */
	surplus_give_back(&vm, &r);
	tap_eq(r.requested_bytes, 896 * MIB, "chain: the SURPLUS takes the first step");
	tap_eq(r.goal_bytes, 256 * MIB, "... and names the goal");
	policy_shrink_goal_set(&goal, &r, 1000);
	tap_ok(goal.active, "... which is remembered: more steps remain");
	vm.requested_bytes = r.requested_bytes;

	tap_eq(policy_decide_next_step(&config, &vm, &goal, 1500, &r), 0, "next step decided");
	tap_eq(r.action, POLICY_ACTION_HOLD, "step not done (plugged above requested): hold");
	tap_ok(goal.active, "... the goal stays");
	vm.plugged_bytes = 1 * GIB;
	policy_decide_next_step(&config, &vm, &goal, 2000, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "half-way through the step: still hold");

	/* Each completed step takes the next, no SURPLUS in between. */
	vm.plugged_bytes = vm.requested_bytes;
	for (int64_t now = 3000; goal.active && steps < 10; now += 2000, steps++) {
		policy_decide_next_step(&config, &vm, &goal, now, &r);
		if (r.action != POLICY_ACTION_SHRINK)
			break;
		tap_ok(vm.requested_bytes - r.requested_bytes <= config.shrink_step_bytes,
		       "chain step %d: at most shrink_step (%llu -> %llu MiB)", steps + 1,
		       (unsigned long long)(vm.requested_bytes / MIB),
		       (unsigned long long)(r.requested_bytes / MIB));
		vm.requested_bytes = vm.plugged_bytes = r.requested_bytes;
	}
	tap_eq(steps, 3, "chain: 896 -> 640 -> 384 -> 256 MiB in three more steps");
	tap_eq(vm.requested_bytes, 256 * MIB, "... ending at the goal");
	tap_ok(!goal.active, "... where the goal is dropped");
	policy_decide_next_step(&config, &vm, &goal, 99000, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "no goal: hold");

	/* Never below min, even if the goal is (min raised meanwhile). */
	vm = vm_default();
	surplus_give_back(&vm, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	vm.requested_bytes = vm.plugged_bytes = 640 * MIB;
	vm.min_bytes = 768 * MIB;
	policy_decide_next_step(&config, &vm, &goal, 1000, &r);
	tap_eq(r.requested_bytes, 512 * MIB, "chain: never below min - boot");
	tap_ok(!goal.active, "... the step to min is the last");

	/* Out of date. */
	vm = vm_default();
	surplus_give_back(&vm, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	vm.requested_bytes = vm.plugged_bytes = 896 * MIB;
	policy_decide_next_step(&config, &vm, &goal, config.shrink_goal_ttl_ms, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "chain: a goal shrink_goal_ttl old is not followed");
	tap_ok(!goal.active, "... and dropped");

	/* Frozen meanwhile. */
	vm = vm_default();
	surplus_give_back(&vm, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	vm.requested_bytes = vm.plugged_bytes = 896 * MIB;
	vm.frozen = true;
	policy_decide_next_step(&config, &vm, &goal, 1000, &r);
	tap_ok(r.action == POLICY_ACTION_HOLD && !goal.active, "chain: frozen drops the goal");

	/* A plug in flight (a grant the caller did not drop the goal for). */
	vm = vm_default();
	surplus_give_back(&vm, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	vm.requested_bytes = 1 * GIB;
	vm.plugged_bytes = 896 * MIB;
	policy_decide_next_step(&config, &vm, &goal, 1000, &r);
	tap_ok(r.action == POLICY_ACTION_HOLD && goal.active, "chain: a plug in flight: hold");
	policy_shrink_goal_drop(&goal);
	tap_ok(!goal.active, "drop forgets the goal");

	/* A SURPLUS while a step is still unplugging: it updates the goal
	 * and holds; it does not pile a second step on the first. */
	vm = vm_default();
	vm.requested_bytes = 896 * MIB;
	vm.plugged_bytes = 1 * GIB;
	surplus = (PolicySurplus){ .free_bytes = 900 * MIB, .unpluggable_bytes = 900 * MIB };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	tap_eq(r.action, POLICY_ACTION_HOLD, "SURPLUS during an unplug: hold");
	tap_eq(r.goal_bytes, 256 * MIB, "... but its goal counts (1280 - 900 = 380 + 10%% -> 256)");
	policy_shrink_goal_set(&goal, &r, 5000);
	tap_ok(goal.active && goal.decided_ms == 5000, "... and refreshes the remembered goal");

	/* One step reaches the goal: nothing to remember. */
	vm = vm_default();
	vm.requested_bytes = vm.plugged_bytes = 512 * MIB;
	surplus = (PolicySurplus){ .free_bytes = 400 * MIB, .unpluggable_bytes = 400 * MIB };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	tap_ok(r.action == POLICY_ACTION_SHRINK && !goal.active, "one step reaches the goal: no chain");
	/* A SURPLUS with nothing to give leaves no goal either. */
	surplus = (PolicySurplus){ 0 };
	policy_decide_surplus(&config, &vm, &surplus, &r);
	policy_shrink_goal_set(&goal, &r, 0);
	tap_ok(r.action == POLICY_ACTION_HOLD && !goal.active, "nothing to give: no goal");

	vm.block_bytes = 0;
	tap_eq(policy_decide_next_step(&config, &vm, &goal, 0, &r), -EINVAL,
	       "next step: a VM without a block size is refused");
}

static void test_contract(void)
{
	PolicyVm vm = vm_default();
	PolicyResizeResult r;

	vm.requested_bytes = 1 * GIB;
	vm.cap_bytes = 768 * MIB;
	tap_eq(policy_decide_contract(&vm, &r), 0, "contract decided");
	tap_eq(r.action, POLICY_ACTION_SHRINK, "cap below boot + requested: shrink");
	tap_eq(r.requested_bytes, 512 * MIB, "... to cap - boot");
	vm = vm_default();
	vm.min_bytes = 512 * MIB;
	tap_eq((policy_decide_contract(&vm, &r), r.action), POLICY_ACTION_GROW, "min raised: grow");
	tap_eq(r.requested_bytes, 256 * MIB, "... to min - boot");
	vm.requested_bytes = 256 * MIB;
	tap_eq((policy_decide_contract(&vm, &r), r.action), POLICY_ACTION_HOLD, "inside: hold");
	vm.frozen = true;
	vm.cap_bytes = 384 * MIB;
	tap_eq((policy_decide_contract(&vm, &r), r.action), POLICY_ACTION_SHRINK,
	       "the operator's cap applies to a frozen VM too");
}

static void test_unplug(void)
{
	PolicyUnplug unplug;

	policy_unplug_start(&unplug, &config, 256 * MIB, 1 * GIB, 1000);
	tap_ok(unplug.active, "an unplug to follow");
	tap_ok(!policy_unplug_due(&unplug, &config, 10999), "not due before unplug_retry");
	policy_unplug_progress(&unplug, &config, 768 * MIB, 5000);
	tap_ok(!policy_unplug_due(&unplug, &config, 14999), "progress at 5 s restarts the clock");
	tap_ok(policy_unplug_due(&unplug, &config, 15000), "stalled 10 s: re-issue");
	tap_eq(unplug.reissues, 1, "... first re-issue");
	tap_eq(unplug.next_retry_ms, 35000, "... next after 20 s (doubling)");
	tap_ok(!policy_unplug_due(&unplug, &config, 34999), "not again before that");
	tap_ok(policy_unplug_due(&unplug, &config, 35000), "second re-issue");
	tap_eq(unplug.next_retry_ms, 75000, "... next after 40 s");
	policy_unplug_due(&unplug, &config, 75000);
	tap_eq(unplug.next_retry_ms, 135000, "... capped at unplug_retry_max (60 s)");
	policy_unplug_due(&unplug, &config, 135000);
	tap_eq(unplug.next_retry_ms, 195000, "... stays at the cap: never forgotten");
	policy_unplug_progress(&unplug, &config, 700 * MIB, 140000);
	tap_eq(unplug.reissues, 0, "progress resets the backoff");
	policy_unplug_progress(&unplug, &config, 256 * MIB, 141000);
	tap_ok(!unplug.active, "target reached: follow-up ends");
	tap_ok(!policy_unplug_due(&unplug, &config, 999999), "... and nothing is due");
	policy_unplug_start(&unplug, &config, 256 * MIB, 256 * MIB, 0);
	tap_ok(!unplug.active, "nothing to unplug: nothing to follow");
}

int main(void)
{
	test_rounding();
	test_limits();
	test_demand();
	test_surplus();
	test_surplus_releasable();
	test_shrink_chain();
	test_contract();
	test_unplug();
	tap_ok(!strcmp(policy_action_name(POLICY_ACTION_PARTIAL_GRANT), "partial-grant"),
	       "action names follow docs/status.md");
	return tap_done();
}
