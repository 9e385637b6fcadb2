/* SPDX-License-Identifier: MIT */
/*
 * manager-arbiter.c: the manager's side of the arbiter (arbiter.h): each
 * VM's contract, sizes and guest figures handed to it, what it decides
 * for other VMs carried out (RESIZE through libvirt, RECLAIM to the
 * guest), admission for libvirt's qemu hook, and its figures copied into
 * the status records.  Main thread; manager-vm.c has the VM's own
 * decisions (DEMAND, SURPLUS, events).
 */
#include "config.h"

#include "admission.h"
#include "manager-private.h"
#include "omemd-log.h"

static void manager_vm_arbiter_contract(const Vm *vm, ArbiterContract *ret_contract)
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

void manager_vm_sync_arbiter(Vm *vm)
{
	if (vm->in_arbiter)
		arbiter_vm_set_sizes(vm->manager->arbiter, vm->id, vm->policy.requested_bytes,
				     vm->policy.plugged_bytes, manager_now_ms());
}

/* A contract read from libvirt goes to the arbiter; what it decides
 * (down to a lowered cap, up to a raised min, drain steps) follows. */
void manager_vm_contract_to_arbiter(Vm *vm)
{
	ArbiterContract contract;
	ArbiterOps ops = { 0 };

	if (!vm->in_arbiter)
		return;
	manager_vm_arbiter_contract(vm, &contract);
	if (arbiter_vm_set_contract(vm->manager->arbiter, vm->id, &contract, manager_now_ms(), &ops) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: the arbiter refused the new contract", vm->name);
		return;
	}
	manager_apply_ops(vm->manager, &ops, "contract");
}

bool manager_admit(Manager *manager, const AdmissionRequest *request, char **ret_message)
{
	ArbiterContract contract = {
		.boot_bytes = request->boot_bytes,
		.min_bytes = request->min_bytes,
		.cap_bytes = request->cap_bytes,
		.max_bytes = request->max_bytes,
		.block_bytes = request->block_bytes,
	};
	ArbiterAdmitResult result;
	g_autofree char *needed = NULL, *budget = NULL, *committed = NULL, *reserved = NULL;
	g_autofree char *free_text = NULL, *min = NULL;
	uint64_t used;

	if (!g_pattern_match_simple(manager->config.domains, request->name)) {
		*ret_message = g_strdup_printf("%s is not managed by this omemd ([daemon] domains = %s)",
					       request->name, manager->config.domains);
		return true;
	}
	if (arbiter_admit(manager->arbiter, request->uuid, &contract, manager_now_ms(), &result) < 0) {
		*ret_message = g_strdup_printf("%s: its contract makes no sense (boot, min, cap, max)",
					       request->name);
		return false;
	}
	needed = manager_size(result.needed_bytes);
	budget = manager_size(result.budget_bytes);
	committed = manager_size(result.committed_bytes);
	reserved = manager_size(result.reserved_bytes);
	min = manager_size(request->min_bytes);
	used = result.committed_bytes + result.reserved_bytes;
	free_text = manager_size(result.budget_bytes > used ? result.budget_bytes - used : 0);
	*ret_message = g_strdup_printf("%s needs %s (min %s + QEMU overhead); %s free of the %s budget (%s committed to running VMs, %s reserved for starting ones)",
				       request->name, needed, min, free_text, budget, committed, reserved);
	return result.admitted;
}

void manager_vm_update_status(Vm *vm)
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

void manager_vm_forget(Vm *vm)
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
void manager_vm_report(Vm *vm)
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

/* RECLAIM to the guest: free @bytes; it answers with SURPLUS.  The
 * deadline is when the arbiter starts lowering requested. */
static void manager_vm_send_reclaim(Vm *vm, uint64_t bytes, const char *why)
{
	struct rpc_msg msg = { 0 };
	g_autofree char *size = manager_size(bytes);
	g_autofree char *reason = g_strdup_printf("RECLAIM %s: %s", size, why);

	status_vm_add_decision(&vm->status, manager_unix_ms(), "reclaim", vm->policy.requested_bytes,
			       reason);
	if (!vm->session_open || !vm->transport) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: RECLAIM %s (%s) not sent: no open session", vm->name, size, why);
		return;
	}
	omemd_log(OMEMD_LOG_INFO, "vm %s: RECLAIM %s (%s)", vm->name, size, why);
	metrics_count_reclaim(vm->manager->metrics);
	msg.type = OMEM_RPC_RECLAIM;
	msg.u.reclaim.bytes = bytes;
	msg.u.reclaim.deadline_ms = vm->manager->config.retry_reclaim_ms;
	manager_vm_send(vm, vm->session_epoch, false, 0, &msg);
}

void manager_apply_ops(Manager *manager, const ArbiterOps *ops, const char *cause)
{
	for (unsigned i = 0; i < ops->count; i++) {
		const ArbiterOp *op = &ops->op[i];
		Vm *vm = manager_vm_lookup(manager, op->vm_id);
		PolicyResizeResult result;

		if (!vm || vm->gone)
			continue;
		switch (op->kind) {
		case ARBITER_OP_RECLAIM:
			manager_vm_send_reclaim(vm, op->bytes, op->why);
			break;
		case ARBITER_OP_RESIZE:
			if (op->bytes == vm->policy.requested_bytes) {
				manager_vm_sync_arbiter(vm);
				break;
			}
			result = (PolicyResizeResult){
				.action = op->bytes < vm->policy.requested_bytes ? POLICY_ACTION_SHRINK :
					  POLICY_ACTION_GROW,
				.requested_bytes = op->bytes,
				.goal_bytes = op->bytes,
				.why = op->why,
			};
			/* The arbiter's steps replace a SURPLUS's own. */
			policy_shrink_goal_drop(&vm->shrink_goal);
			manager_vm_resize(vm, &result, cause);
			break;
		}
	}
}

void manager_vm_apply_contract(Vm *vm)
{
	Manager *manager = vm->manager;
	ArbiterContract contract;
	ArbiterOps ops = { 0 };
	int r;

	manager_vm_arbiter_contract(vm, &contract);
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
