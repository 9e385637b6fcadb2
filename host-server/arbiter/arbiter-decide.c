/* SPDX-License-Identifier: MIT */
/*
 * arbiter-decide: the arbiter's decisions (see arbiter.h and
 * docs/arbiter.md): a DEMAND against the whole host, the choice of the
 * VMs to reclaim from, and the periodic tick that carries shrinks on step
 * by step and reacts to host pressure.
 */
#include "config.h"

#define OMEM_ARBITER_INTERNAL
#include "arbiter/arbiter.h"
#include "arbiter/arbiter-private.h"

#include <errno.h>
#include <string.h>

#include <omem/rpc.h>

/* A reclaim looks at no more than this many heap tops that cannot be
 * victims before it gives up: eligibility (above the fair share,
 * something reclaimable) is not the heap's order, so ineligible tops are
 * set aside and put back; the bound keeps a decision O(log n). */
#define ARBITER_SCAN_MAX 64

/* A victim whose reclaim stalled is not picked again for this many
 * reclaim timeouts (5 min by default): its own figures just proved
 * wrong, and its trust (which the caller strikes) decides after that. */
#define ARBITER_STALLED_BAR_TIMEOUTS 10

/* What a grant may take now: the budget left after the charges and the
 * reservations, cut under host pressure to what the host has above its
 * low mark (less what was granted since the host figures came in). */
uint64_t arbiter_pool(const Arbiter *arb)
{
	uint64_t pool = sat_sub(arb->config.budget_bytes, sat_add(arbiter_committed(arb), arb->sum_reserved));

	if (arb->host_short) {
		uint64_t host = sat_sub(sat_sub(arb->host.mem_available_bytes, arb->config.host_low_bytes),
					arb->host_granted);

		pool = min_u64(pool, host);
	}
	return pool;
}

/* --------------------------------------------------------- decisions */

/* Start reclaims from the VMs with the lowest claims until @deficit bytes
 * are on their way back or ARBITER_VICTIMS_MAX VMs were asked.  Never
 * @except (the demander). */
uint64_t arbiter_reclaim(Arbiter *arb, uint64_t deficit, const ArbiterVm *except, int64_t now_ms,
			 ArbiterOps *ops, const char *why)
{
	ArbiterVm *aside[ARBITER_SCAN_MAX];
	unsigned int n_aside = 0, victims = 0;
	uint64_t started = 0;

	if (arb->freeze_all)
		return 0;
	while (deficit > started && victims < ARBITER_VICTIMS_MAX && arb->heap_len > 0 &&
	       n_aside < ARBITER_SCAN_MAX && ops->count + 2 <= ARBITER_OPS_MAX) {
		ArbiterVm *vm = arb->heap[0];
		uint64_t lower, take, target, step;

		/* A stale report no longer says what the guest can give. */
		if (vm->report.at_ms + (int64_t)arb->config.report_ttl_ms < now_ms) {
			arbiter_vm_unaccount(arb, vm);
			vm->has_report = false;
			arbiter_vm_account(arb, vm);
			continue;
		}
		lower = arbiter_vm_reclaim_floor(arb, vm);
		if (vm == except || arbiter_vm_beyond(vm) <= arbiter_vm_fair_share(arb, vm) ||
		    vm->requested <= lower || now_ms < vm->reclaim_barred_until_ms) {
			arbiter_heap_remove(arb, vm);
			aside[n_aside++] = vm;
			continue;
		}
		take = min_u64(deficit - started, vm->requested - lower);
		target = max_u64(lower, policy_round_down(vm->requested - take, vm->contract.block_bytes));
		step = max_u64(target, policy_round_up(sat_sub(vm->requested, arb->config.policy.shrink_step_bytes),
						       vm->contract.block_bytes));
		arbiter_ops_add(ops, ARBITER_OP_RECLAIM, vm->id, vm->requested - target, why);
		arbiter_shrink_start(arb, vm, target, false, now_ms, why);
		arbiter_vm_set_requested(arb, vm, step);
		arbiter_ops_add(ops, ARBITER_OP_RESIZE, vm->id, step, why);
		started += arbiter_vm_incoming(vm);
		victims++;
		arb->stats.reclaims_issued++;
	}
	while (n_aside > 0)
		arbiter_heap_update(arb, aside[--n_aside]);
	return started;
}

static void arbiter_count(Arbiter *arb, const PolicyDemandResult *result)
{
	switch (result->action) {
	case POLICY_ACTION_GRANT:
		arb->stats.grants++;
		break;
	case POLICY_ACTION_PARTIAL_GRANT:
		arb->stats.partial_grants++;
		break;
	default:
		if (result->deny_reason == OMEM_RPC_DENY_CAP)
			arb->stats.defers_cap++;
		else if (result->deny_reason == OMEM_RPC_DENY_FROZEN)
			arb->stats.defers_frozen++;
		else if (result->deny_reason == OMEM_RPC_DENY_BUSY)
			arb->stats.defers_busy++;
		else
			arb->stats.defers_budget++;
		break;
	}
}

/* The requested size the demand asked for, as policy_decide_demand sees
 * it: the demand in blocks (less a plug in flight unless CRITICAL) on top
 * of requested, in grant steps, never past the ceiling. */
static uint64_t arbiter_demand_target(const Arbiter *arb, const ArbiterVm *vm, uint64_t demand_bytes,
				      uint32_t urgency)
{
	uint64_t block = vm->contract.block_bytes, step = arb->config.policy.grant_step_bytes;
	uint64_t want = policy_round_up(demand_bytes, block);
	uint64_t in_flight = sat_sub(vm->requested, vm->plugged);

	step = step > block ? policy_round_up(step, block) : block;
	if (urgency < OMEM_RPC_URGENCY_CRITICAL)
		want = sat_sub(want, in_flight);
	return min_u64(vm->ceiling, policy_round_up(sat_add(vm->requested, want), step));
}

/* Start reclaims for what the waiting VMs below their fair share lack
 * beyond the pool and what shrinking VMs are already giving back. */
static void arbiter_cover_waiters(Arbiter *arb, const ArbiterVm *except, int64_t now_ms,
				  ArbiterOps *ops)
{
	uint64_t deficit = sat_sub(arb->sum_held, sat_add(arbiter_pool(arb), arb->sum_incoming));

	if (deficit > 0)
		arbiter_reclaim(arb, deficit, except, now_ms, ops, "reclaim for a VM below its fair share");
}

int arbiter_demand(Arbiter *arbiter, uint64_t vm_id, uint64_t demand_bytes, uint32_t urgency,
		   int64_t now_ms, PolicyDemandResult *ret_result, ArbiterOps *ret_ops)
{
	return arbiter_demand_limited(arbiter, vm_id, demand_bytes, urgency, UINT64_MAX, now_ms,
				      ret_result, ret_ops);
}

int arbiter_demand_limited(Arbiter *arbiter, uint64_t vm_id, uint64_t demand_bytes, uint32_t urgency,
			   uint64_t rise_limit_bytes, int64_t now_ms, PolicyDemandResult *ret_result,
			   ArbiterOps *ret_ops)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);
	const PolicyConfig *policy = &arbiter->config.policy;
	uint64_t fair, beyond, pool, held_others, left, limit, wanted, need;
	PolicyDemandResult result;
	PolicyVm pvm;
	bool below, trust_limited;
	int r;

	ret_ops->count = 0;
	if (!vm)
		return -ENOENT;
	if (demand_bytes == 0)
		return -EINVAL;
	arbiter->last_now_ms = now_ms;
	pvm = arbiter_policy_vm(&vm->contract, vm->requested, vm->plugged);
	if (arbiter_vm_frozen(arbiter, vm) || arbiter_vm_draining(arbiter, vm)) {
		*ret_result = (PolicyDemandResult){
			.action = POLICY_ACTION_DEFER,
			.deny_reason = OMEM_RPC_DENY_FROZEN,
			.retry_after_ms = policy->retry_frozen_ms,
			.requested_bytes = vm->requested,
			.limited_by = arbiter_vm_frozen(arbiter, vm) ? POLICY_LIMIT_FROZEN : POLICY_LIMIT_DRAIN,
		};
		arbiter_wait_stop(arbiter, vm);
		arbiter_count(arbiter, ret_result);
		return 0;
	}

	/* A VM being reclaimed from gets nothing above its floor until the
	 * reclaim ends (done or given up): asking back what it is giving
	 * would keep the credit the reclaim gives others while undoing it. */
	if (vm->shrinking && !vm->shrink_forced && vm->requested >= vm->floor) {
		*ret_result = (PolicyDemandResult){
			.action = POLICY_ACTION_DEFER,
			.deny_reason = OMEM_RPC_DENY_BUDGET,
			.retry_after_ms = policy->retry_budget_ms,
			.requested_bytes = vm->requested,
			.limited_by = POLICY_LIMIT_BUDGET,
		};
		arbiter_wait_stop(arbiter, vm);
		arbiter_count(arbiter, ret_result);
		return 0;
	}

	/* The pool is everyone's, except what is held for waiting VMs below
	 * their fair share: a VM above its own may not take that, so one
	 * VM's burst cannot starve the others.  Under host pressure only a
	 * VM below its fair share gets memory, and only up to that share. */
	fair = arbiter_vm_fair_share(arbiter, vm);
	beyond = arbiter_vm_beyond(vm);
	below = beyond < fair;
	pool = arbiter_pool(arbiter);
	held_others = arbiter->sum_held - (vm->waiting ? vm->waiting_bytes : 0);
	left = below ? pool : sat_sub(pool, held_others);
	if (arbiter->host_short)
		left = below ? min_u64(left, fair - beyond) : 0;
	/* The policy may raise requested to charge + left; a limit on the
	 * rise of requested itself comes off that pool (an unplug in flight
	 * keeps charge above requested). */
	limit = sat_sub(rise_limit_bytes, beyond - vm->requested);
	trust_limited = limit < left;
	left = min_u64(left, limit);

	wanted = arbiter_demand_target(arbiter, vm, demand_bytes, urgency);
	r = policy_decide_demand(policy, &pvm, left, demand_bytes, urgency, &result);
	if (r < 0)
		return r;
	if (result.limited_by == POLICY_LIMIT_BUDGET)
		result.limited_by = trust_limited ? POLICY_LIMIT_TRUST :
				    arbiter->host_short ? POLICY_LIMIT_HOST : POLICY_LIMIT_BUDGET;

	if (result.action == POLICY_ACTION_DEFER && result.deny_reason != OMEM_RPC_DENY_BUDGET) {
		/* BUSY: the plug in flight answers it, the record stands;
		 * CAP: no reclaim can help. */
		if (result.deny_reason == OMEM_RPC_DENY_CAP)
			arbiter_wait_stop(arbiter, vm);
		*ret_result = result;
		arbiter_count(arbiter, ret_result);
		arbiter_debug_check(arbiter);
		return 0;
	}
	if (result.action != POLICY_ACTION_DEFER) {
		uint64_t before = arbiter_vm_beyond(vm);

		arbiter_vm_set_requested(arbiter, vm, result.requested_bytes);
		if (arbiter->host_short)
			arbiter->host_granted += arbiter_vm_beyond(vm) - before;
	}

	/* What is still missing, up to the fair share, is waited for and
	 * reclaimed from others; above the fair share a VM just retries. */
	need = below ? sat_sub(wanted, vm->requested) : 0;
	need = min_u64(need, sat_sub(fair, arbiter_vm_beyond(vm)));
	if (need == 0) {
		arbiter_wait_stop(arbiter, vm);
	} else {
		arbiter_wait_set(arbiter, vm, need, now_ms);
		arbiter_cover_waiters(arbiter, vm, now_ms, ret_ops);
		if (result.action == POLICY_ACTION_DEFER && arbiter->sum_incoming > 0)
			result.retry_after_ms = arbiter->config.retry_reclaim_ms;
	}
	*ret_result = result;
	arbiter_count(arbiter, ret_result);
	arbiter_debug_check(arbiter);
	return 0;
}

/* The lowest requested a shrink may set now: its target, and for a
 * reclaim also the fair share and what the guest's report allows. */
static uint64_t arbiter_shrink_bound(Arbiter *arb, ArbiterVm *vm, int64_t now_ms)
{
	if (vm->shrink_forced)
		return max_u64(vm->shrink_target, vm->floor);
	if (vm->has_report && vm->report.at_ms + (int64_t)arb->config.report_ttl_ms < now_ms) {
		arbiter_vm_unaccount(arb, vm);
		vm->has_report = false;
		arbiter_vm_account(arb, vm);
	}
	return max_u64(vm->shrink_target, arbiter_vm_reclaim_floor(arb, vm));
}

/* The next step of every shrink whose last step completed. */
static void arbiter_tick_shrinks(Arbiter *arb, int64_t now_ms, ArbiterOps *ops)
{
	const uint64_t shrink_step = arb->config.policy.shrink_step_bytes;
	ArbiterVm *vm, *next;

	for (vm = arb->shrinking; vm; vm = next) {
		uint64_t bound, step;
		bool late;

		next = vm->shrink_link.next;
		if (arbiter_vm_frozen(arb, vm))
			continue;
		bound = arbiter_shrink_bound(arb, vm, now_ms);
		late = !vm->shrink_forced && now_ms >= vm->shrink_deadline_ms;
		if (late && (vm->plugged > bound || vm->plugged > vm->requested)) {
			/* Past the deadline from its RECLAIM and not done: the
			 * guest said it could give this back and did not.  The
			 * caller counts it against the guest's trust; the
			 * reclaim's credit ends, and the next reclaim picks
			 * another victim. */
			if (ops->count >= ARBITER_OPS_MAX)
				break;
			ops->op[ops->count++] = (ArbiterOp){
				.kind = ARBITER_OP_RECLAIM_STALLED, .vm_id = vm->id,
				.bytes = vm->shrink_asked,
				.released_bytes = sat_sub(vm->shrink_start_beyond, arbiter_vm_beyond(vm)),
				.why = vm->shrink_why,
			};
			arb->stats.reclaims_given_up++;
			vm->reclaim_barred_until_ms = now_ms + ARBITER_STALLED_BAR_TIMEOUTS *
						      (int64_t)arb->config.reclaim_timeout_ms;
			arbiter_shrink_stop(arb, vm);
			continue;
		}
		if (vm->requested <= bound || vm->plugged > vm->requested) {
			/* No step left, or the last one still unplugging. */
			if (vm->plugged <= vm->requested)
				arbiter_shrink_stop(arb, vm);
			continue;
		}
		if (ops->count >= ARBITER_OPS_MAX)
			break;
		step = max_u64(bound, policy_round_up(sat_sub(vm->requested, shrink_step),
						      vm->contract.block_bytes));
		arbiter_vm_set_requested(arb, vm, step);
		arbiter_ops_add(ops, ARBITER_OP_RESIZE, vm->id, step, vm->shrink_why);
	}
}

void arbiter_tick(Arbiter *arbiter, int64_t now_ms, ArbiterOps *ret_ops)
{
	GHashTableIter iter;
	gpointer value;
	ArbiterVm *vm, *next;

	ret_ops->count = 0;
	arbiter->last_now_ms = now_ms;

	g_hash_table_iter_init(&iter, arbiter->reservations);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		ArbiterReservation *res = value;

		if (now_ms >= res->expires_ms) {
			arbiter->sum_reserved -= res->bytes;
			g_hash_table_iter_remove(&iter);
		}
	}
	for (vm = arbiter->waiters; vm; vm = next) {
		next = vm->wait_link.next;
		if (now_ms >= vm->waiting_until_ms)
			arbiter_wait_stop(arbiter, vm);
	}

	arbiter_tick_shrinks(arbiter, now_ms, ret_ops);

	if (!arbiter->freeze_all && arbiter->host_short) {
		uint64_t need = arbiter->host.mem_available_bytes < arbiter->config.host_low_bytes ?
				arbiter->config.host_low_bytes - arbiter->host.mem_available_bytes :
				arbiter->config.policy.shrink_step_bytes;
		uint64_t deficit = sat_sub(need, arbiter->sum_incoming);

		if (deficit > 0)
			arbiter_reclaim(arbiter, deficit, NULL, now_ms, ret_ops, "host pressure");
	}
	if (!arbiter->freeze_all && !arbiter->drain_all)
		arbiter_cover_waiters(arbiter, NULL, now_ms, ret_ops);
	arbiter_debug_check(arbiter);
}
