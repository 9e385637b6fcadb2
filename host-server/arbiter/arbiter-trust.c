/* SPDX-License-Identifier: MIT */
/*
 * arbiter-trust: a guest's DEMAND weighed by its trust (trust.h) before
 * the arbiter decides it, and the grant charged to its rate after (see
 * arbiter.h, arbiter_trust_demand).
 */
#include "config.h"

#define OMEM_ARBITER_INTERNAL
#include "arbiter/arbiter.h"
#include "arbiter/arbiter-private.h"

#include <errno.h>

#include <omem/rpc.h>

int arbiter_trust_demand(Arbiter *arbiter, uint64_t vm_id, Trust *trust,
			 const TrustConfig *trust_config, const ArbiterGuestDemand *demand,
			 int64_t now_ms, PolicyDemandResult *ret_result, ArbiterOps *ret_ops,
			 const char **ret_why)
{
	ArbiterVm *vm = g_hash_table_lookup(arbiter->vms, &vm_id);
	uint64_t allowance;

	ret_ops->count = 0;
	if (!vm)
		return -ENOENT;
	allowance = trust_demand_allowance(trust, trust_config, demand->bytes, demand->available_bytes,
					   demand->guest_total_bytes, demand->urgency, now_ms, ret_why);
	if (allowance == 0) {
		*ret_result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
						    .deny_reason = OMEM_RPC_DENY_BUDGET,
						    .retry_after_ms = trust_config->distrusted_interval_ms,
						    .requested_bytes = vm->requested,
						    .limited_by = POLICY_LIMIT_TRUST };
		return 0;
	}
	return arbiter_demand_limited(arbiter, vm_id, min_u64(demand->bytes, allowance), demand->urgency,
				      allowance, now_ms, ret_result, ret_ops);
}

void arbiter_trust_granted(Trust *trust, uint64_t requested_before, const PolicyDemandResult *result,
			   int64_t now_ms)
{
	trust_granted(trust, sat_sub(result->requested_bytes, requested_before), now_ms);
}
