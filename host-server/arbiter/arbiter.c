/* SPDX-License-Identifier: MIT */
/*
 * arbiter: omemd's global memory arbiter (see arbiter.h and
 * docs/arbiter.md).
 *
 * Bookkeeping pattern: every change to a VM is bracketed by
 * arbiter_vm_unaccount() and arbiter_vm_account(), which take the VM's
 * part out of every global sum and put it back (and fix its heap slot),
 * so each sum stays exact in O(log n) without a scan.  arbiter_check()
 * recomputes them all from scratch.
 */
#include "config.h"

#define OMEM_ARBITER_INTERNAL
#include "arbiter/arbiter.h"
#include "arbiter/arbiter-private.h"

#include <errno.h>
#include <string.h>

#include <omem/rpc.h>

uint64_t arbiter_vm_beyond(const ArbiterVm *vm)
{
	return max_u64(vm->requested, vm->plugged);
}

PolicyVm arbiter_policy_vm(const ArbiterContract *contract, uint64_t requested, uint64_t plugged)
{
	return (PolicyVm){
		.boot_bytes = contract->boot_bytes,
		.min_bytes = contract->min_bytes,
		.cap_bytes = contract->cap_bytes,
		.max_bytes = contract->max_bytes,
		.buffer_percent = contract->buffer_percent,
		.frozen = contract->frozen,
		.block_bytes = contract->block_bytes,
		.requested_bytes = requested,
		.plugged_bytes = plugged,
	};
}

bool arbiter_vm_frozen(const Arbiter *arb, const ArbiterVm *vm)
{
	return arb->freeze_all || vm->contract.frozen;
}

bool arbiter_vm_draining(const Arbiter *arb, const ArbiterVm *vm)
{
	return arb->drain_all || vm->contract.drain;
}

/* ------------------------------------------------------- bookkeeping */

uint64_t arbiter_vm_incoming(const ArbiterVm *vm)
{
	return vm->shrinking ? sat_sub(arbiter_vm_beyond(vm), vm->shrink_target) : 0;
}

uint64_t arbiter_committed(const Arbiter *arb)
{
	return sat_add(sat_add(arb->sum_boot, arb->sum_beyond),
		       (uint64_t)arb->vm_count * arb->config.vm_overhead_bytes);
}

void arbiter_vm_unaccount(Arbiter *arb, ArbiterVm *vm)
{
	arb->sum_boot -= vm->contract.boot_bytes;
	arb->sum_beyond -= arbiter_vm_beyond(vm);
	arb->sum_floor -= vm->floor;
	arb->sum_shares -= vm->contract.shares;
	arb->sum_held -= vm->waiting ? vm->waiting_bytes : 0;
	arb->sum_incoming -= arbiter_vm_incoming(vm);
	arb->vm_count--;
}

static void arbiter_list_unlink(ArbiterVm **head, ArbiterVm *vm, size_t link)
{
	ArbiterLink *l = (ArbiterLink *)((char *)vm + link);

	if (l->prev)
		((ArbiterLink *)((char *)l->prev + link))->next = l->next;
	else
		*head = l->next;
	if (l->next)
		((ArbiterLink *)((char *)l->next + link))->prev = l->prev;
	l->prev = l->next = NULL;
}

static void arbiter_list_push(ArbiterVm **head, ArbiterVm *vm, size_t link)
{
	ArbiterLink *l = (ArbiterLink *)((char *)vm + link);

	l->prev = NULL;
	l->next = *head;
	if (*head)
		((ArbiterLink *)((char *)*head + link))->prev = vm;
	*head = vm;
}

void arbiter_vm_account(Arbiter *arb, ArbiterVm *vm)
{
	arb->sum_boot += vm->contract.boot_bytes;
	arb->sum_beyond += arbiter_vm_beyond(vm);
	arb->sum_floor += vm->floor;
	arb->sum_shares += vm->contract.shares;
	arb->sum_held += vm->waiting ? vm->waiting_bytes : 0;
	arb->sum_incoming += arbiter_vm_incoming(vm);
	arb->vm_count++;
	/* Out-of-contract sizes only ever come from outside (discovery, a
	 * reboot, a contract change); they are tolerated until fixed. */
	if (vm->requested >= vm->floor && vm->requested <= max_u64(vm->ceiling, vm->floor))
		vm->outside_contract = false;
	if (arbiter_committed(arb) <= arb->config.budget_bytes)
		arb->over_budget = false;
	arbiter_heap_update(arb, vm);
}

/* External input (not a grant) put the charges past the budget. */
static void arbiter_note_external(Arbiter *arb, ArbiterVm *vm)
{
	if (arbiter_committed(arb) > arb->config.budget_bytes)
		arb->over_budget = true;
	if (vm && (vm->requested < vm->floor || vm->requested > max_u64(vm->ceiling, vm->floor)))
		vm->outside_contract = true;
}

void arbiter_shrink_stop(Arbiter *arb, ArbiterVm *vm)
{
	if (!vm->shrinking)
		return;
	arbiter_vm_unaccount(arb, vm);
	vm->shrinking = false;
	arbiter_list_unlink(&arb->shrinking, vm, offsetof(ArbiterVm, shrink_link));
	arb->shrink_count--;
	arbiter_vm_account(arb, vm);
}

void arbiter_shrink_start(Arbiter *arb, ArbiterVm *vm, uint64_t target, bool forced,
				 int64_t now_ms, const char *why)
{
	arbiter_vm_unaccount(arb, vm);
	if (!vm->shrinking) {
		arbiter_list_push(&arb->shrinking, vm, offsetof(ArbiterVm, shrink_link));
		arb->shrink_count++;
	}
	vm->shrinking = true;
	vm->shrink_target = target;
	vm->shrink_forced = forced;
	vm->shrink_why = why;
	vm->shrink_last_plugged = vm->plugged;
	vm->shrink_start_beyond = arbiter_vm_beyond(vm);
	vm->shrink_asked = sat_sub(vm->shrink_start_beyond, target);
	/* From the RECLAIM, not from the last block: a guest that gives
	 * back a block now and then cannot keep a reclaim (and the credit
	 * it gives others' deficits) alive.  One timeout per shrink step
	 * asked, so a large honest reclaim has the time its steps take. */
	vm->shrink_deadline_ms = now_ms + (int64_t)arb->config.reclaim_timeout_ms *
			(int64_t)MAX(1, (vm->shrink_asked + arb->config.policy.shrink_step_bytes - 1) /
					arb->config.policy.shrink_step_bytes);
	arbiter_vm_account(arb, vm);
}

void arbiter_wait_stop(Arbiter *arb, ArbiterVm *vm)
{
	if (!vm->waiting)
		return;
	arbiter_vm_unaccount(arb, vm);
	vm->waiting = false;
	vm->waiting_bytes = 0;
	arbiter_list_unlink(&arb->waiters, vm, offsetof(ArbiterVm, wait_link));
	arb->wait_count--;
	arbiter_vm_account(arb, vm);
}

void arbiter_wait_set(Arbiter *arb, ArbiterVm *vm, uint64_t bytes, int64_t now_ms)
{
	arbiter_vm_unaccount(arb, vm);
	if (!vm->waiting) {
		arbiter_list_push(&arb->waiters, vm, offsetof(ArbiterVm, wait_link));
		arb->wait_count++;
	}
	vm->waiting = true;
	vm->waiting_bytes = bytes;
	vm->waiting_until_ms = now_ms + arb->config.wait_ttl_ms;
	arbiter_vm_account(arb, vm);
}

/* Change the arbiter's record of requested (a decision of its own). */
void arbiter_vm_set_requested(Arbiter *arb, ArbiterVm *vm, uint64_t requested)
{
	arbiter_vm_unaccount(arb, vm);
	vm->requested = requested;
	arbiter_vm_account(arb, vm);
}

void arbiter_ops_add(ArbiterOps *ops, ArbiterOpKind kind, uint64_t vm_id, uint64_t bytes,
			    const char *why)
{
	g_assert(ops->count < ARBITER_OPS_MAX);
	ops->op[ops->count++] = (ArbiterOp){ .kind = kind, .vm_id = vm_id, .bytes = bytes, .why = why };
}

void arbiter_debug_check(const Arbiter *arb)
{
#ifdef OMEM_DEBUG
	g_autofree char *why = NULL;

	if (!arbiter_check(arb, &why))
		g_error("arbiter invariant broken: %s", why);
#else
	(void)arb;
#endif
}

/* ------------------------------------------------------------- config */

void arbiter_config_init(ArbiterConfig *config)
{
	*config = (ArbiterConfig){
		.policy = {
			.grant_step_bytes = 128ull << 20,
			.grant_minimum_bytes = 2ull << 20,
			.shrink_step_bytes = 256ull << 20,
			.retry_budget_ms = 1000,
			.retry_cap_ms = 10000,
			.retry_busy_ms = 500,
			.retry_frozen_ms = 10000,
			.unplug_retry_ms = 10000,
			.unplug_retry_max_ms = 60000,
			.shrink_goal_ttl_ms = 60000,
		},
		.vm_overhead_bytes = 64ull << 20,
		.idle_tax_percent = 75,
		.host_low_bytes = 512ull << 20,
		.psi_limit = 1000,
		.report_ttl_ms = 30000,
		.retry_reclaim_ms = 250,
		.admission_ttl_ms = 60000,
		.reclaim_timeout_ms = 30000,
		.wait_ttl_ms = 10000,
	};
}

static int arbiter_config_valid(const ArbiterConfig *config)
{
	if (config->policy.grant_step_bytes == 0 || config->policy.shrink_step_bytes == 0)
		return -EINVAL;
	return 0;
}

static void arbiter_host_update(Arbiter *arb)
{
	const ArbiterHost *host = &arb->host;

	arb->host_short = host->known && (host->mem_available_bytes < arb->config.host_low_bytes ||
					  host->psi_some_avg10 > arb->config.psi_limit);
}

int arbiter_new(const ArbiterConfig *config, Arbiter **ret_arbiter)
{
	Arbiter *arb;

	if (arbiter_config_valid(config) < 0)
		return -EINVAL;
	arb = g_new0(Arbiter, 1);
	arb->config = *config;
	arb->config.idle_tax_percent = MIN(arb->config.idle_tax_percent, 95u);
	arb->vms = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, arbiter_vm_free);
	arb->keys = g_hash_table_new(g_str_hash, g_str_equal);
	arb->fair_dirty = true;
	arb->reservations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	*ret_arbiter = arb;
	return 0;
}

void arbiter_vm_free(gpointer data)
{
	ArbiterVm *vm = data;

	if (!vm)
		return;
	g_free(vm->key);
	g_free(vm);
}

void arbiter_free(Arbiter *arbiter)
{
	if (!arbiter)
		return;
	g_hash_table_unref(arbiter->keys);
	g_hash_table_unref(arbiter->vms);
	g_hash_table_unref(arbiter->reservations);
	g_free(arbiter->heap);
	g_free(arbiter);
}

int arbiter_set_config(Arbiter *arbiter, const ArbiterConfig *config)
{
	GHashTableIter iter;
	gpointer value;

	if (arbiter_config_valid(config) < 0)
		return -EINVAL;
	/* Overhead and tax change every charge and claim: take everyone out
	 * and put them back (O(n log n), once per reload). */
	g_hash_table_iter_init(&iter, arbiter->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		arbiter_vm_unaccount(arbiter, value);
	arbiter->config = *config;
	arbiter->config.idle_tax_percent = MIN(arbiter->config.idle_tax_percent, 95u);
	arbiter->fair_dirty = true;
	g_hash_table_iter_init(&iter, arbiter->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		arbiter_vm_account(arbiter, value);
	arbiter_note_external(arbiter, NULL);
	arbiter_host_update(arbiter);
	arbiter_debug_check(arbiter);
	return 0;
}

void arbiter_set_host(Arbiter *arbiter, const ArbiterHost *host)
{
	arbiter->host = *host;
	arbiter->host_granted = 0;
	arbiter_host_update(arbiter);
}

void arbiter_set_freeze_all(Arbiter *arbiter, bool freeze)
{
	arbiter->freeze_all = freeze;
}

void arbiter_set_drain_all(Arbiter *arbiter, bool drain)
{
	GHashTableIter iter;
	gpointer value;

	if (arbiter->drain_all == drain)
		return;
	arbiter->drain_all = drain;
	/* Once per operator command: every VM starts (or stops) its walk to
	 * the floor; arbiter_tick takes the steps. */
	g_hash_table_iter_init(&iter, arbiter->vms);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		ArbiterVm *vm = value;

		if (drain) {
			arbiter_wait_stop(arbiter, vm);
			if (vm->requested > vm->floor)
				arbiter_shrink_start(arbiter, vm, vm->floor, true, 0, "drain");
		} else if (vm->shrinking && vm->shrink_forced && !vm->contract.drain) {
			arbiter_shrink_stop(arbiter, vm);
		}
	}
	arbiter_debug_check(arbiter);
}

/* ---------------------------------------------------------- admission */

void arbiter_reservation_drop(Arbiter *arb, const char *key)
{
	ArbiterReservation *res = g_hash_table_lookup(arb->reservations, key);

	if (!res)
		return;
	arb->sum_reserved -= res->bytes;
	g_hash_table_remove(arb->reservations, key);
}

static bool arbiter_contract_valid(const ArbiterContract *contract)
{
	return contract && contract->block_bytes > 0;
}

int arbiter_admit(Arbiter *arbiter, const char *key, const ArbiterContract *contract,
		  int64_t now_ms, ArbiterAdmitResult *ret_result)
{
	PolicyVm pvm;
	ArbiterReservation *res;
	uint64_t needed, committed, reserved, total;

	if (!key || !arbiter_contract_valid(contract))
		return -EINVAL;
	pvm = arbiter_policy_vm(contract, 0, 0);
	needed = sat_add(sat_add(contract->boot_bytes, policy_requested_floor(&pvm)),
			 arbiter->config.vm_overhead_bytes);
	committed = arbiter_committed(arbiter);
	res = g_hash_table_lookup(arbiter->reservations, key);
	reserved = arbiter->sum_reserved - (res ? res->bytes : 0);
	*ret_result = (ArbiterAdmitResult){
		.needed_bytes = needed,
		.budget_bytes = arbiter->config.budget_bytes,
		.committed_bytes = committed,
		.reserved_bytes = reserved,
	};
	if (g_hash_table_contains(arbiter->keys, key)) {
		ret_result->admitted = true;
		return 0;
	}
	total = sat_add(sat_add(committed, reserved), needed);
	if (total > arbiter->config.budget_bytes) {
		arbiter->stats.admissions_refused++;
		return 0;
	}
	arbiter_reservation_drop(arbiter, key);
	res = g_new(ArbiterReservation, 1);
	*res = (ArbiterReservation){ .bytes = needed, .expires_ms = now_ms + arbiter->config.admission_ttl_ms };
	g_hash_table_insert(arbiter->reservations, g_strdup(key), res);
	arbiter->sum_reserved += needed;
	ret_result->admitted = true;
	arbiter_debug_check(arbiter);
	return 0;
}

void arbiter_admit_cancel(Arbiter *arbiter, const char *key)
{
	if (key)
		arbiter_reservation_drop(arbiter, key);
}

size_t arbiter_reservations(const Arbiter *arbiter, ArbiterReservationInfo *ret, size_t max)
{
	GHashTableIter iter;
	gpointer key, value;
	size_t n = 0;

	g_hash_table_iter_init(&iter, arbiter->reservations);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const ArbiterReservation *res = value;

		if (n < max)
			ret[n] = (ArbiterReservationInfo){
				.key = key, .bytes = res->bytes, .expires_ms = res->expires_ms,
			};
		n++;
	}
	return n;
}

int arbiter_admit_restore(Arbiter *arbiter, const char *key, uint64_t bytes, int64_t expires_ms,
			  int64_t now_ms)
{
	ArbiterReservation *res;

	if (!key || !*key || bytes == 0 || expires_ms <= now_ms)
		return -EINVAL;
	if (g_hash_table_contains(arbiter->reservations, key) || g_hash_table_contains(arbiter->keys, key))
		return -EEXIST;
	res = g_new(ArbiterReservation, 1);
	*res = (ArbiterReservation){ .bytes = bytes, .expires_ms = expires_ms };
	g_hash_table_insert(arbiter->reservations, g_strdup(key), res);
	arbiter->sum_reserved = sat_add(arbiter->sum_reserved, bytes);
	arbiter_debug_check(arbiter);
	return 0;
}

/* ---------------------------------------------------------- lifecycle */

static void arbiter_vm_set_limits(ArbiterVm *vm)
{
	PolicyVm pvm = arbiter_policy_vm(&vm->contract, vm->requested, vm->plugged);

	vm->ceiling = policy_requested_ceiling(&pvm);
	vm->floor = policy_requested_floor(&pvm);
}

static ArbiterContract arbiter_contract_normalise(const ArbiterContract *contract)
{
	ArbiterContract c = *contract;

	if (c.shares == 0)
		c.shares = ARBITER_SHARES_DEFAULT;
	return c;
}

int arbiter_vm_add(Arbiter *arbiter, uint64_t vm_id, const char *key,
		   const ArbiterContract *contract, uint64_t requested_bytes,
		   uint64_t plugged_bytes, int64_t now_ms)
{
	ArbiterVm *vm;

	if (!arbiter_contract_valid(contract))
		return -EINVAL;
	if (g_hash_table_contains(arbiter->vms, &vm_id) || (key && g_hash_table_contains(arbiter->keys, key)))
		return -EEXIST;
	vm = g_new0(ArbiterVm, 1);
	vm->id = vm_id;
	vm->contract = arbiter_contract_normalise(contract);
	vm->requested = requested_bytes;
	vm->plugged = plugged_bytes;
	vm->heap_index = ARBITER_NOT_IN_HEAP;
	arbiter_vm_set_limits(vm);
	g_hash_table_insert(arbiter->vms, &vm->id, vm);
	arbiter->fair_dirty = true;
	if (key) {
		vm->key = g_strdup(key);
		g_hash_table_insert(arbiter->keys, vm->key, vm);
		arbiter_reservation_drop(arbiter, key);
	}
	arbiter_vm_account(arbiter, vm);
	arbiter_note_external(arbiter, vm);
	if (arbiter_vm_draining(arbiter, vm) && vm->requested > vm->floor && !arbiter_vm_frozen(arbiter, vm))
		arbiter_shrink_start(arbiter, vm, vm->floor, true, now_ms, "drain");
	arbiter_debug_check(arbiter);
	return 0;
}

int arbiter_vm_remove(Arbiter *arbiter, uint64_t vm_id)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	if (!vm)
		return -ENOENT;
	arbiter_shrink_stop(arbiter, vm);
	arbiter_wait_stop(arbiter, vm);
	arbiter_vm_unaccount(arbiter, vm);
	if (vm->heap_index != ARBITER_NOT_IN_HEAP)
		arbiter_heap_remove(arbiter, vm);
	if (vm->key)
		g_hash_table_remove(arbiter->keys, vm->key);
	g_hash_table_remove(arbiter->vms, &vm_id);
	arbiter->fair_dirty = true;
	arbiter_debug_check(arbiter);
	return 0;
}

int arbiter_vm_set_sizes(Arbiter *arbiter, uint64_t vm_id, uint64_t requested_bytes,
			 uint64_t plugged_bytes, int64_t now_ms)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	if (!vm)
		return -ENOENT;
	arbiter_vm_unaccount(arbiter, vm);
	if (vm->shrinking && plugged_bytes < vm->shrink_last_plugged)
		vm->shrink_last_plugged = plugged_bytes;
	vm->requested = requested_bytes;
	vm->plugged = plugged_bytes;
	arbiter_vm_account(arbiter, vm);
	arbiter_note_external(arbiter, vm);
	arbiter_debug_check(arbiter);
	return 0;
}

/* A guest's figures that contradict the VM's size (libvirt's) or each
 * other are clamped before they count: a total above boot + plugged or
 * under half of it, free above total, clean cache above the rest, an
 * unplug above what is plugged or above free + clean cache. */
void arbiter_report_clamp(ArbiterReport *report, uint64_t boot_bytes, uint64_t plugged_bytes)
{
	uint64_t size = sat_add(boot_bytes, plugged_bytes);

	report->total_bytes = min_u64(max_u64(report->total_bytes, size / 2), size);
	report->free_bytes = min_u64(report->free_bytes, report->total_bytes);
	report->clean_cache_bytes = min_u64(report->clean_cache_bytes,
					    report->total_bytes - report->free_bytes);
	report->unpluggable_bytes = min_u64(min_u64(report->unpluggable_bytes, plugged_bytes),
					    report->free_bytes + report->clean_cache_bytes);
}

int arbiter_vm_set_report(Arbiter *arbiter, uint64_t vm_id, const ArbiterReport *report)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	if (!vm)
		return -ENOENT;
	arbiter_vm_unaccount(arbiter, vm);
	vm->report = *report;
	arbiter_report_clamp(&vm->report, vm->contract.boot_bytes, vm->plugged);
	vm->has_report = true;
	arbiter_vm_account(arbiter, vm);
	arbiter_debug_check(arbiter);
	return 0;
}

/* Requested back inside [floor, ceiling]: one RESIZE op at most. */
static void arbiter_vm_fit_contract(Arbiter *arb, ArbiterVm *vm, ArbiterOps *ops)
{
	if (vm->requested > vm->ceiling && vm->ceiling >= vm->floor) {
		arbiter_vm_set_requested(arb, vm, vm->ceiling);
		arbiter_ops_add(ops, ARBITER_OP_RESIZE, vm->id, vm->ceiling, "cap lowered");
	} else if (vm->requested < vm->floor) {
		/* The floor was reserved at admission: not cut by the budget. */
		arbiter_vm_set_requested(arb, vm, vm->floor);
		arbiter_note_external(arb, vm);
		arbiter_ops_add(ops, ARBITER_OP_RESIZE, vm->id, vm->floor, "min raised");
	}
	if (vm->shrinking && vm->shrink_target < vm->floor)
		arbiter_shrink_start(arb, vm, vm->floor, vm->shrink_forced, arb->last_now_ms,
				     vm->shrink_why);
	if (vm->shrinking && vm->requested <= vm->shrink_target && vm->plugged <= vm->shrink_target)
		arbiter_shrink_stop(arb, vm);
}

int arbiter_vm_set_contract(Arbiter *arbiter, uint64_t vm_id, const ArbiterContract *contract,
			    int64_t now_ms, ArbiterOps *ret_ops)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	ret_ops->count = 0;
	if (!vm)
		return -ENOENT;
	if (!arbiter_contract_valid(contract))
		return -EINVAL;
	arbiter->last_now_ms = now_ms;
	arbiter_vm_unaccount(arbiter, vm);
	vm->contract = arbiter_contract_normalise(contract);
	arbiter_vm_set_limits(vm);
	arbiter->fair_dirty = true;
	arbiter_vm_account(arbiter, vm);
	arbiter_note_external(arbiter, vm);
	if (arbiter_vm_frozen(arbiter, vm)) {
		arbiter_shrink_stop(arbiter, vm);
		arbiter_wait_stop(arbiter, vm);
	} else if (arbiter_vm_draining(arbiter, vm)) {
		arbiter_wait_stop(arbiter, vm);
		if (vm->requested > vm->floor)
			arbiter_shrink_start(arbiter, vm, vm->floor, true, now_ms, "drain");
	} else if (vm->shrinking && vm->shrink_forced) {
		arbiter_shrink_stop(arbiter, vm); /* drain ended */
	}
	arbiter_vm_fit_contract(arbiter, vm, ret_ops);
	arbiter_debug_check(arbiter);
	return 0;
}

int arbiter_vm_reevaluate(Arbiter *arbiter, uint64_t vm_id, int64_t now_ms, ArbiterOps *ret_ops)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	ret_ops->count = 0;
	if (!vm)
		return -ENOENT;
	arbiter->last_now_ms = now_ms;
	arbiter_vm_fit_contract(arbiter, vm, ret_ops);
	arbiter_debug_check(arbiter);
	return 0;
}

/* ------------------------------------------------------------ reading */

void arbiter_get_stats(const Arbiter *arbiter, ArbiterStats *ret_stats)
{
	*ret_stats = arbiter->stats;
	ret_stats->budget_bytes = arbiter->config.budget_bytes;
	ret_stats->committed_bytes = arbiter_committed(arbiter);
	ret_stats->reserved_bytes = arbiter->sum_reserved;
	ret_stats->pool_bytes = arbiter_pool(arbiter);
	ret_stats->held_bytes = arbiter->sum_held;
	ret_stats->host_short = arbiter->host_short;
	ret_stats->vms = arbiter->vm_count;
	ret_stats->waiting = arbiter->wait_count;
	ret_stats->reclaims_pending = arbiter->shrink_count;
}

int arbiter_vm_get_status(Arbiter *arbiter, uint64_t vm_id, ArbiterVmStatus *ret_status)
{
	const ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);

	if (!vm)
		return -ENOENT;
	*ret_status = (ArbiterVmStatus){
		.requested_bytes = vm->requested,
		.plugged_bytes = vm->plugged,
		.charge_bytes = vm->contract.boot_bytes + arbiter_vm_beyond(vm) +
				arbiter->config.vm_overhead_bytes,
		.floor_bytes = vm->floor,
		.ceiling_bytes = vm->ceiling,
		.fair_share_bytes = arbiter_vm_fair_share(arbiter, vm),
		.claim = arbiter_vm_claim(arbiter, vm),
		.waiting = vm->waiting,
		.waiting_bytes = vm->waiting_bytes,
		.reclaim_pending = vm->shrinking,
		.reclaim_target_bytes = vm->shrinking ? vm->shrink_target : 0,
		.reclaim_barred_until_ms = vm->reclaim_barred_until_ms,
	};
	return 0;
}
