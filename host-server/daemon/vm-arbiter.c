/* SPDX-License-Identifier: MIT */
/*
 * vm-arbiter.c: one VM's side of the arbiter (arbiter/arbiter.h): its
 * contract, sizes and the guest's figures handed to it, the VM added and
 * removed, and the arbiter's view copied into the VM's status record.
 * Main thread.  What the arbiter decides for other VMs is carried out by
 * manager-arbiter.c; the VM's own decisions are in vm.c.
 */
#include "config.h"

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

static void vm_arbiter_contract(const Vm *vm, ArbiterContract *ret_contract)
{
	*ret_contract = (ArbiterContract){
		.boot_bytes = vm->policy.boot_bytes,
		.min_bytes = vm->policy.min_bytes,
		.cap_bytes = vm->policy.cap_bytes,
		.max_bytes = vm->policy.max_bytes,
		.block_bytes = vm->policy.block_bytes,
		.shares = vm->shares,
		.buffer_percent = vm->policy.buffer_percent,
		.frozen = vm->policy.frozen,
		.drain = vm->drain,
	};
}

void vm_sync_arbiter(Vm *vm)
{
	if (vm->in_arbiter)
		arbiter_vm_set_sizes(vm->manager->arbiter, vm->id, vm->policy.requested_bytes,
				     vm->policy.plugged_bytes, manager_now_ms());
}

/* A contract read from libvirt goes to the arbiter; what it decides
 * (down to a lowered cap, up to a raised min, drain steps) follows. */
void vm_contract_to_arbiter(Vm *vm)
{
	ArbiterContract contract;
	ArbiterOps ops = { 0 };

	if (!vm->in_arbiter)
		return;
	vm_arbiter_contract(vm, &contract);
	if (arbiter_vm_set_contract(vm->manager->arbiter, vm->id, &contract, manager_now_ms(), &ops) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: the arbiter refused the new contract", vm->name);
		return;
	}
	manager_apply_ops(vm->manager, &ops, "contract");
}

void vm_apply_contract(Vm *vm)
{
	Manager *manager = vm->manager;
	ArbiterContract contract;
	ArbiterOps ops = { 0 };
	int r;

	vm_arbiter_contract(vm, &contract);
	/* The UUID is the admission key: the hook's reservation for this
	 * VM becomes its charge. */
	r = arbiter_vm_add(manager->arbiter, vm->id, vm->uuid, &contract, vm->policy.requested_bytes,
			   vm->policy.plugged_bytes, manager_now_ms());
	if (r < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: the arbiter refused it (%s); its size is left alone",
			  vm->name, g_strerror(-r));
		return;
	}
	vm->in_arbiter = true;
	if (arbiter_vm_reevaluate(manager->arbiter, vm->id, manager_now_ms(), &ops) == 0)
		manager_apply_ops(manager, &ops, "contract");
}

void vm_update_status(Vm *vm)
{
	ArbiterVmStatus status;

	if (!vm->in_arbiter ||
	    arbiter_vm_get_status(vm->manager->arbiter, vm->id, &status) < 0)
		return;
	vm->status.has_arbiter = true;
	vm->status.charge_bytes = status.charge_bytes;
	vm->status.fair_share_bytes = status.fair_share_bytes;
	vm->status.claim = status.claim;
	vm->status.waiting = status.waiting;
	vm->status.waiting_bytes = status.waiting_bytes;
	vm->status.reclaim_pending = status.reclaim_pending;
	vm->status.reclaim_target_bytes = status.reclaim_target_bytes;
}

void vm_forget(Vm *vm)
{
	if (!vm->in_arbiter)
		return;
	arbiter_vm_remove(vm->manager->arbiter, vm->id);
	vm->in_arbiter = false;
	g_hash_table_remove(vm->manager->vms_by_id, &vm->id);
}

/* The guest's figures, for its claim (idle tax) and what a reclaim may
 * take.  STATS brings free and total every second; SURPLUS the reclaim
 * curve (free, clean cache, unpluggable) every ~10 s when it has plenty. */
void vm_report(Vm *vm)
{
	ArbiterReport report;
	int64_t now = manager_now_ms();

	vm->report.at_ms = now;
	report = vm->report;
	/* A guest that offered memory it could not release is not asked
	 * for more on the strength of its own figures. */
	if (!trust_believe_surplus(&vm->trust, now))
		report.unpluggable_bytes = 0;
	if (vm->in_arbiter)
		arbiter_vm_set_report(vm->manager->arbiter, vm->id, &report);
}
