/* SPDX-License-Identifier: MIT */
/*
 * manager-arbiter.c: the manager's side of the arbiter
 * (arbiter/arbiter.h): what it decides for other VMs carried out (RESIZE
 * through libvirt, RECLAIM to the guest) and the pool a grant may take.
 * Main thread; each VM's own exchange with the arbiter is vm-arbiter.c.
 */
#include "config.h"

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

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
			vm_send_reclaim(vm, op->bytes, op->why);
			break;
		case ARBITER_OP_RECLAIM_STALLED:
			vm_reclaim_stalled(vm, op->bytes, op->released_bytes);
			break;
		case ARBITER_OP_RESIZE:
			if (op->bytes == vm->policy.requested_bytes) {
				vm_sync_arbiter(vm);
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
			vm_resize(vm, &result, cause);
			break;
		}
	}
}

uint64_t manager_budget_left(const Manager *manager)
{
	ArbiterStats stats;

	arbiter_get_stats(manager->arbiter, &stats);
	return stats.pool_bytes;
}
