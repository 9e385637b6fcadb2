/* SPDX-License-Identifier: MIT */
/*
 * arbiter-check: every invariant of the arbiter, recomputed from scratch
 * (see arbiter.h).  O(n): the unit and property tests call it after each
 * step, and -DOMEM_DEBUG builds after every public call.
 */
#include "config.h"

#define OMEM_ARBITER_INTERNAL
#include "arbiter/arbiter.h"
#include "arbiter/arbiter-private.h"

#include <math.h>

#define ARBITER_FAIL(...)                                         \
	do {                                                      \
		if (ret_why)                                      \
			*ret_why = g_strdup_printf(__VA_ARGS__);  \
		return false;                                     \
	} while (0)

static bool arbiter_check_vm(const Arbiter *arb, const ArbiterVm *vm, char **ret_why)
{
	PolicyVm pvm = arbiter_policy_vm(&vm->contract, vm->requested, vm->plugged);
	uint64_t top = max_u64(vm->ceiling, vm->floor);
	double claim = arbiter_vm_claim(arb, vm);

	if (vm->floor != policy_requested_floor(&pvm) || vm->ceiling != policy_requested_ceiling(&pvm))
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": cached floor/ceiling stale", vm->id);
	if ((vm->requested < vm->floor || vm->requested > top) && !vm->outside_contract)
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": requested %" G_GUINT64_FORMAT
			     " outside [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]",
			     vm->id, vm->requested, vm->floor, vm->ceiling);
	if (vm->shrinking && vm->shrink_target < vm->floor)
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": shrink target below the floor", vm->id);
	if (vm->contract.shares == 0)
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": zero shares", vm->id);
	if (vm->claim != claim && !(isinf(vm->claim) && isinf(claim)))
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": claim %g, recomputed %g", vm->id, vm->claim, claim);
	if (arbiter_vm_heap_member(vm) != (vm->heap_index != ARBITER_NOT_IN_HEAP))
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": heap membership wrong", vm->id);
	if (vm->heap_index != ARBITER_NOT_IN_HEAP &&
	    (vm->heap_index >= arb->heap_len || arb->heap[vm->heap_index] != vm))
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": heap index wrong", vm->id);
	if (vm->waiting && vm->waiting_bytes == 0)
		ARBITER_FAIL("vm %" G_GUINT64_FORMAT ": waiting for nothing", vm->id);
	return true;
}

bool arbiter_check(const Arbiter *arbiter, char **ret_why)
{
	uint64_t boot = 0, beyond = 0, floors = 0, shares = 0, held = 0, incoming = 0, reserved = 0;
	size_t count = 0, waiting = 0, shrinking = 0, i;
	GHashTableIter iter;
	gpointer value;
	const ArbiterVm *vm;

	g_hash_table_iter_init(&iter, arbiter->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		vm = value;
		if (!arbiter_check_vm(arbiter, vm, ret_why))
			return false;
		count++;
		boot += vm->contract.boot_bytes;
		beyond += arbiter_vm_beyond(vm);
		floors += vm->floor;
		shares += vm->contract.shares;
		held += vm->waiting ? vm->waiting_bytes : 0;
		incoming += arbiter_vm_incoming(vm);
		waiting += vm->waiting;
		shrinking += vm->shrinking;
	}
	if (count != arbiter->vm_count || boot != arbiter->sum_boot || beyond != arbiter->sum_beyond ||
	    floors != arbiter->sum_floor || shares != arbiter->sum_shares || held != arbiter->sum_held ||
	    incoming != arbiter->sum_incoming)
		ARBITER_FAIL("global sums differ from a recomputation");
	if (waiting != arbiter->wait_count || shrinking != arbiter->shrink_count)
		ARBITER_FAIL("waiting/shrinking counts differ from a recomputation");
	for (i = 0, vm = arbiter->waiters; vm; vm = vm->wait_link.next, i++)
		if (!vm->waiting || i > waiting)
			ARBITER_FAIL("waiting list broken");
	if (i != waiting)
		ARBITER_FAIL("waiting list has %zu, %zu waiting", i, waiting);
	for (i = 0, vm = arbiter->shrinking; vm; vm = vm->shrink_link.next, i++)
		if (!vm->shrinking || i > shrinking)
			ARBITER_FAIL("shrinking list broken");
	if (i != shrinking)
		ARBITER_FAIL("shrinking list has %zu, %zu shrinking", i, shrinking);

	g_hash_table_iter_init(&iter, arbiter->reservations);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		reserved += ((const ArbiterReservation *)value)->bytes;
	if (reserved != arbiter->sum_reserved)
		ARBITER_FAIL("reservations sum %" G_GUINT64_FORMAT ", recorded %" G_GUINT64_FORMAT,
			     reserved, arbiter->sum_reserved);

	for (i = 0; i < arbiter->heap_len; i++) {
		const ArbiterVm *child = arbiter->heap[i], *parent;

		if (child->heap_index != i)
			ARBITER_FAIL("heap slot %zu holds a VM that thinks it is elsewhere", i);
		if (i == 0)
			continue;
		parent = arbiter->heap[(i - 1) / 2];
		if (child->claim < parent->claim || (child->claim == parent->claim && child->id < parent->id))
			ARBITER_FAIL("heap order broken at slot %zu", i);
	}

	/* The water level hands out the share pool: all of it unless every
	 * VM is at its ceiling, never more (each VM's part rounds down). */
	if (!arbiter->fair_dirty) {
		uint64_t parts = 0, pool = arbiter_share_pool(arbiter), level_pool, level_shares;

		arbiter_fair_level(arbiter, &level_pool, &level_shares);
		if (level_pool != arbiter->fair_pool || level_shares != arbiter->fair_shares)
			ARBITER_FAIL("fair-share level %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
				     " is stale (recomputed %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ")",
				     arbiter->fair_pool, arbiter->fair_shares, level_pool, level_shares);

		g_hash_table_iter_init(&iter, arbiter->vms);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			vm = value;
			parts += arbiter_vm_fair_part(arbiter, vm);
		}
		if (parts > pool || (arbiter->fair_shares > 0 && parts + arbiter->vm_count < pool))
			ARBITER_FAIL("fair shares hand out %" G_GUINT64_FORMAT " of a share pool of %" G_GUINT64_FORMAT,
				     parts, pool);
	}

	/* Conservation: no grant ever takes the charges past the budget;
	 * only outside input (discovery, events, a lower budget) may. */
	if (arbiter_committed(arbiter) > arbiter->config.budget_bytes && !arbiter->over_budget)
		ARBITER_FAIL("committed %" G_GUINT64_FORMAT " > budget %" G_GUINT64_FORMAT,
			     arbiter_committed(arbiter), arbiter->config.budget_bytes);
	return true;
}
