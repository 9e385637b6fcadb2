/* SPDX-License-Identifier: MIT */
/*
 * manager-config.c: the tunables each part of omemd takes, derived from
 * omemd.conf (formats/omemd-config.h) in one place: the policy's, the
 * arbiter's and the omem-rpc session's.  Called at start and on reload.
 */
#include "config.h"

#include "daemon/manager-private.h"

void manager_policy_config(const Manager *manager, PolicyConfig *ret_config)
{
	const OmemdConfig *config = &manager->config;

	*ret_config = (PolicyConfig){
		.grant_step_bytes = config->grant_step_bytes,
		.grant_minimum_bytes = config->grant_minimum_bytes,
		.shrink_step_bytes = config->shrink_step_bytes,
		.retry_budget_ms = config->retry_after_ms,
		/* A cap moves only by an operator: ask the guest to wait
		 * ten times longer than for the budget. */
		.retry_cap_ms = config->retry_after_ms * 10,
		.retry_busy_ms = config->retry_after_ms / 2,
		.retry_frozen_ms = config->retry_after_ms * 10,
		.unplug_retry_ms = config->unplug_retry_s * 1000,
		.unplug_retry_max_ms = config->unplug_retry_max_s * 1000,
		/* The guest repeats SURPLUS every ~10 s while it has
		 * plenty; a goal not confirmed for a minute is stale,
		 * yet long enough for a chain of steps, one of them
		 * re-issued once (unplug_retry_s). */
		.shrink_goal_ttl_ms = 60000,
	};
}

void manager_arbiter_config(const Manager *manager, ArbiterConfig *ret_config)
{
	const OmemdConfig *config = &manager->config;

	arbiter_config_init(ret_config);
	manager_policy_config(manager, &ret_config->policy);
	ret_config->budget_bytes = manager->budget_bytes;
	ret_config->vm_overhead_bytes = config->vm_overhead_bytes;
	ret_config->idle_tax_percent = config->idle_tax_percent;
	ret_config->host_low_bytes = config->host_low_bytes;
	ret_config->psi_limit = config->psi_limit_percent * 100;
	ret_config->report_ttl_ms = config->report_ttl_ms;
	ret_config->retry_reclaim_ms = config->retry_reclaim_ms;
	ret_config->admission_ttl_ms = config->admission_ttl_ms;
}

void manager_session_config(Manager *manager, SessionConfig *config)
{
	*config = (SessionConfig){
		.stats_interval_ms = manager->config.stats_interval_ms,
		.demand_interval_ms = manager->config.demand_interval_ms,
		.rate_per_s = manager->config.rate_per_s,
		.rate_burst = manager->config.rate_burst,
		.rate_strikes = manager->config.rate_strikes,
		.error_limit = manager->config.error_limit,
		/* A few DEMANDs back to back (reclaim and watermark seen at
		 * once) are normal; spacing applies after. */
		.demand_burst = 4,
	};
}
