/* SPDX-License-Identifier: MIT */
/*
 * arbiter-fair: what each VM deserves and what it can give (see
 * docs/arbiter.md): the fair shares by water-filling, the claim that
 * orders victims (shares against memory held, idle memory taxed), the
 * reclaim floor, and the min-heap of possible victims by claim.
 * arbiter.c keeps the heap slots right through arbiter_vm_account().
 */
#include "config.h"

#define OMEM_ARBITER_INTERNAL
#include "arbiter/arbiter.h"
#include "arbiter/arbiter-private.h"

#include <math.h>
#include <stdlib.h>

/* The fair share's pool: the budget less every VM's fixed part (boot and
 * overhead) and every floor. */
uint64_t arbiter_share_pool(const Arbiter *arb)
{
	uint64_t fixed = sat_add(arb->sum_boot, (uint64_t)arb->vm_count * arb->config.vm_overhead_bytes);

	return sat_sub(sat_sub(arb->config.budget_bytes, fixed), arb->sum_floor);
}

/* One VM's room above its floor and its shares, for the water level. */
typedef struct {
	uint64_t room;
	uint64_t shares;
} ArbiterFairEntry;

/* By room per share, lowest first: the VMs their ceiling stops first. */
static int arbiter_fair_compare(const void *a, const void *b)
{
	const ArbiterFairEntry *x = a, *y = b;
	unsigned __int128 left = (unsigned __int128)x->room * y->shares;
	unsigned __int128 right = (unsigned __int128)y->room * x->shares;

	return left < right ? -1 : left > right;
}

/*
 * Fair shares by water-filling (weighted max-min fairness): each VM gets
 * floor + level x shares, but never past its ceiling, and what a capped
 * VM cannot take is poured over the others.  Walking the VMs by room per
 * share, a VM whose room is under the level of the VMs left is capped:
 * it takes its room out of the pool and its shares out of the sum.  The
 * level depends only on the budget, the fixed parts and each VM's floor,
 * ceiling and shares, so it is recomputed (O(n log n)) only after one of
 * those changed, at the next read; decisions stay O(log n).
 */
void arbiter_fair_level(const Arbiter *arb, uint64_t *ret_pool, uint64_t *ret_shares)
{
	g_autofree ArbiterFairEntry *entries = NULL;
	uint64_t pool = arbiter_share_pool(arb), shares = arb->sum_shares;
	GHashTableIter iter;
	gpointer value;
	size_t n = 0;

	entries = g_new(ArbiterFairEntry, MAX(arb->vm_count, 1));
	g_hash_table_iter_init(&iter, arb->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value) && n < arb->vm_count) {
		const ArbiterVm *vm = value;

		entries[n++] = (ArbiterFairEntry){ .room = sat_sub(vm->ceiling, vm->floor),
						   .shares = vm->contract.shares };
	}
	qsort(entries, n, sizeof(entries[0]), arbiter_fair_compare);
	for (size_t i = 0; i < n && shares > 0; i++) {
		/* Capped when room / shares <= pool / shares left. */
		if ((unsigned __int128)entries[i].room * shares >
		    (unsigned __int128)pool * entries[i].shares)
			break;
		pool -= entries[i].room;
		shares -= entries[i].shares;
	}
	*ret_pool = pool;
	*ret_shares = shares;
}

static void arbiter_fair_refresh(Arbiter *arb)
{
	if (!arb->fair_dirty)
		return;
	arbiter_fair_level(arb, &arb->fair_pool, &arb->fair_shares);
	arb->fair_dirty = false;
}

uint64_t arbiter_vm_fair_part(const Arbiter *arb, const ArbiterVm *vm)
{
	uint64_t room = sat_sub(vm->ceiling, vm->floor);

	if (arb->fair_shares == 0)
		return room;
	return min_u64(room, (uint64_t)((unsigned __int128)arb->fair_pool * vm->contract.shares /
					arb->fair_shares));
}

uint64_t arbiter_vm_fair_share(Arbiter *arb, const ArbiterVm *vm)
{
	arbiter_fair_refresh(arb);
	return min_u64(sat_add(vm->floor, arbiter_vm_fair_part(arb, vm)), vm->ceiling);
}

/* What the guest's latest fresh report lets a reclaim take: free first,
 * then clean cache, never more than unpluggable nor than is plugged. */
static uint64_t arbiter_report_reclaimable(const ArbiterVm *vm)
{
	uint64_t bytes;

	if (!vm->has_report)
		return 0;
	bytes = sat_add(vm->report.free_bytes, vm->report.clean_cache_bytes);
	bytes = min_u64(bytes, vm->report.unpluggable_bytes);
	return min_u64(bytes, vm->plugged);
}

/* The lowest requested size a reclaim may set: the floor, the fair share
 * (in blocks) and what the report allows. */
uint64_t arbiter_vm_reclaim_floor(Arbiter *arb, const ArbiterVm *vm)
{
	uint64_t block = vm->contract.block_bytes;
	uint64_t lower = max_u64(vm->floor, policy_round_up(arbiter_vm_fair_share(arb, vm), block));

	lower = max_u64(lower, policy_round_up(vm->plugged - arbiter_report_reclaimable(vm), block));
	return min_u64(lower, max_u64(vm->ceiling, vm->floor));
}

double arbiter_vm_claim(const Arbiter *arb, const ArbiterVm *vm)
{
	uint64_t above = sat_sub(arbiter_vm_beyond(vm), vm->floor);
	double idle = 0.0, tax, k;

	if (above == 0)
		return INFINITY;
	if (vm->has_report && vm->report.total_bytes > 0) {
		idle = (double)min_u64(vm->report.free_bytes, vm->report.total_bytes) /
		       (double)vm->report.total_bytes;
	}
	tax = (double)min_u64(arb->config.idle_tax_percent, 95) / 100.0;
	k = 1.0 / (1.0 - tax);
	return (double)vm->contract.shares / ((double)above * ((1.0 - idle) + k * idle));
}

/* Whether a VM belongs in the victim heap: only VMs that may ever be
 * reclaimed from, so ineligible ones do not crowd its top. */
bool arbiter_vm_heap_member(const ArbiterVm *vm)
{
	return vm->has_report && !vm->contract.frozen && !vm->contract.drain && !vm->shrinking &&
	       !vm->waiting && arbiter_vm_beyond(vm) > vm->floor;
}

/* ------------------------------------------------------------ the heap */

static bool arbiter_heap_less(const ArbiterVm *a, const ArbiterVm *b)
{
	if (a->claim != b->claim)
		return a->claim < b->claim;
	return a->id < b->id;
}

static void arbiter_heap_set(Arbiter *arb, size_t i, ArbiterVm *vm)
{
	arb->heap[i] = vm;
	vm->heap_index = i;
}

static void arbiter_heap_sift_up(Arbiter *arb, size_t i)
{
	ArbiterVm *vm = arb->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!arbiter_heap_less(vm, arb->heap[parent]))
			break;
		arbiter_heap_set(arb, i, arb->heap[parent]);
		i = parent;
	}
	arbiter_heap_set(arb, i, vm);
}

static void arbiter_heap_sift_down(Arbiter *arb, size_t i)
{
	ArbiterVm *vm = arb->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= arb->heap_len)
			break;
		if (child + 1 < arb->heap_len && arbiter_heap_less(arb->heap[child + 1], arb->heap[child]))
			child++;
		if (!arbiter_heap_less(arb->heap[child], vm))
			break;
		arbiter_heap_set(arb, i, arb->heap[child]);
		i = child;
	}
	arbiter_heap_set(arb, i, vm);
}

static void arbiter_heap_insert(Arbiter *arb, ArbiterVm *vm)
{
	if (arb->heap_len == arb->heap_size) {
		arb->heap_size = arb->heap_size ? arb->heap_size * 2 : 64;
		arb->heap = g_renew(ArbiterVm *, arb->heap, arb->heap_size);
	}
	arbiter_heap_set(arb, arb->heap_len++, vm);
	arbiter_heap_sift_up(arb, vm->heap_index);
}

void arbiter_heap_remove(Arbiter *arb, ArbiterVm *vm)
{
	size_t i = vm->heap_index;
	ArbiterVm *last = arb->heap[--arb->heap_len];

	vm->heap_index = ARBITER_NOT_IN_HEAP;
	if (last == vm)
		return;
	arbiter_heap_set(arb, i, last);
	arbiter_heap_sift_up(arb, i);
	arbiter_heap_sift_down(arb, last->heap_index);
}

/* Put @vm where its claim and membership say, O(log n). */
void arbiter_heap_update(Arbiter *arb, ArbiterVm *vm)
{
	bool member = arbiter_vm_heap_member(vm);

	vm->claim = arbiter_vm_claim(arb, vm);
	if (vm->heap_index == ARBITER_NOT_IN_HEAP) {
		if (member)
			arbiter_heap_insert(arb, vm);
	} else if (!member) {
		arbiter_heap_remove(arb, vm);
	} else {
		arbiter_heap_sift_up(arb, vm->heap_index);
		arbiter_heap_sift_down(arb, vm->heap_index);
	}
}
