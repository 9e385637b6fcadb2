/* SPDX-License-Identifier: MIT */
/*
 * vm.c: one VM's guest side inside omemd, on the main thread: its
 * DEMAND, SURPLUS and STATS decided (with the arbiter and policy.h) and
 * answered, how far its word is trusted (trust.h), resizes applied, each
 * completed shrink step followed by the next toward the SURPLUS's goal,
 * reboots, no-HELLO guests held at min, stalled unplugs re-issued.  The
 * libvirt side (discovery, live XML, events) is vm-libvirt.c.
 * Every decision is one log line at info and one entry in the VM's status
 * record.
 */
#include "config.h"

#include <string.h>

#include "daemon/manager-private.h"
#include "daemon/omemd-log.h"

typedef struct {
	Transport *transport;
	uint32_t epoch, reply_to;
	bool is_reply;
	struct rpc_msg msg;
} ManagerOutgoing;

static gboolean vm_send_now(gpointer data)
{
	ManagerOutgoing *out = data;

	if (out->is_reply)
		transport_send_reply(out->transport, out->epoch, out->reply_to, &out->msg);
	else
		transport_send_message(out->transport, out->epoch, &out->msg);
	return G_SOURCE_REMOVE;
}

void vm_send(Vm *vm, uint32_t epoch, bool is_reply, uint32_t reply_to,
		     const struct rpc_msg *msg)
{
	ManagerOutgoing *out = g_new0(ManagerOutgoing, 1);

	out->transport = vm->transport;
	out->epoch = epoch;
	out->is_reply = is_reply;
	out->reply_to = reply_to;
	out->msg = *msg;
	g_main_context_invoke_full(vm->manager->transport_context, G_PRIORITY_DEFAULT,
				   vm_send_now, out, g_free);
}

/* Log a change of the guest's trust once, and show it in the status. */
static void vm_trust_changed(Vm *vm)
{
	bool distrusted;
	const char *why = NULL;

	if (!trust_take_change(&vm->trust, &distrusted, &why))
		return;
	if (distrusted) {
		g_autofree char *step = manager_size(vm->manager->trust_config.distrusted_step_bytes);
		g_autofree char *note = g_strdup_printf("trust lowered: %s; at most %s per %u s, its SURPLUS not believed",
							why ? why : "contradictions", step,
							vm->manager->trust_config.distrusted_interval_ms / 1000);

		vm_log(vm, OMEMD_LOG_WARNING, "trust lowered: %s (at most %s per %u s; its SURPLUS figures are not believed)",
		       why ? why : "contradictions", step,
			  vm->manager->trust_config.distrusted_interval_ms / 1000);
		status_vm_set_note(&vm->status, note);
	} else {
		vm_log(vm, OMEMD_LOG_INFO, "trust restored");
		if (vm->status.note && g_str_has_prefix(vm->status.note, "trust lowered"))
			status_vm_set_note(&vm->status, NULL);
	}
	vm_report(vm);
}

/* The unplug of a SURPLUS-driven shrink stalled or was overtaken: did the
 * guest release what it offered? */
static void vm_surplus_judged(Vm *vm)
{
	uint64_t released;

	if (!vm->surplus_unplug)
		return;
	vm->surplus_unplug = false;
	released = vm->surplus_plugged_bytes > vm->policy.plugged_bytes ?
		   vm->surplus_plugged_bytes - vm->policy.plugged_bytes : 0;
	trust_surplus_stalled(&vm->trust, &vm->manager->trust_config, vm->surplus_offered_bytes,
			      released, manager_now_ms());
	vm_trust_changed(vm);
}

/* Apply a SHRINK or GROW decision and record it. */
void vm_resize(Vm *vm, const PolicyResizeResult *result, const char *cause)
{
	PolicyConfig config;
	g_autofree char *from = manager_size(vm->policy.requested_bytes);
	g_autofree char *to = manager_size(result->requested_bytes);
	g_autofree char *reason = NULL;
	bool ok;

	if (result->action == POLICY_ACTION_HOLD)
		return;
	manager_policy_config(vm->manager, &config);
	ok = vm_set_requested(vm, result->requested_bytes);
	/* Whatever happened, the arbiter learns the size that holds. */
	vm_sync_arbiter(vm);
	reason = g_strdup_printf("%s: %s", cause, result->why);
	vm_log(vm, OMEMD_LOG_INFO, "%s -> %s requested %s (was %s)%s%s", cause,
		  result->action == POLICY_ACTION_SHRINK ? "SHRINK" : "GROW", to, from,
		  vm->manager->dry_run ? " [dry run]" : "", ok ? "" : " FAILED");
	if (!ok)
		return;
	status_vm_add_decision(&vm->status, manager_unix_ms(), policy_action_name(result->action),
			       result->requested_bytes, reason);
	if (result->action == POLICY_ACTION_SHRINK && !vm->manager->dry_run)
		policy_unplug_start(&vm->unplug, &config, result->requested_bytes,
				    vm->policy.plugged_bytes, manager_now_ms());
}

static void vm_on_demand(Vm *vm, const SessionEvent *event, int64_t received_us)
{
	Manager *manager = vm->manager;
	const struct rpc_msg_demand *demand = &event->u.demand;
	PolicyConfig config;
	PolicyDemandResult result;
	ArbiterOps ops = { 0 };
	ArbiterGuestDemand guest_demand;
	uint64_t requested_before = vm->policy.requested_bytes;
	const char *distrust_why = NULL;
	int r;
	struct rpc_msg reply = { 0 };
	g_autofree char *asked = manager_size(demand->bytes);
	g_autofree char *answer = NULL, *requested = NULL, *left = NULL, *reason = NULL;
	uint64_t total = vm->policy.boot_bytes + vm->policy.plugged_bytes;

	/* The guest wants memory: whatever a SURPLUS offered is gone. */
	policy_shrink_goal_drop(&vm->shrink_goal);

	/* The guest's wish, before its buffer, as a total. */
	vm->status.has_demand = true;
	vm->status.demand_bytes = total + demand->bytes * 100 / (100 + vm->policy.buffer_percent);

	manager_policy_config(manager, &config);
	/* A DEMAND cuts short a SURPLUS-driven unplug: judge what came out. */
	if (vm->surplus_unplug && vm->unplug.active)
		vm_surplus_judged(vm);
	guest_demand = (ArbiterGuestDemand){ .bytes = demand->bytes,
					     .available_bytes = demand->available_bytes,
					     .guest_total_bytes = total, .urgency = demand->urgency };
	r = arbiter_trust_demand(manager->arbiter, vm->id, &vm->trust, &manager->trust_config,
				 &guest_demand, manager_now_ms(), &result, &ops, &distrust_why);
	vm_trust_changed(vm);
	if (r < 0) {
		result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
					       .deny_reason = OMEM_RPC_DENY_BUSY,
					       .retry_after_ms = config.retry_busy_ms,
					       .requested_bytes = vm->policy.requested_bytes };
	}
	if (result.action != POLICY_ACTION_DEFER &&
	    !vm_set_requested(vm, result.requested_bytes)) {
		result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
					       .deny_reason = OMEM_RPC_DENY_BUSY,
					       .retry_after_ms = config.retry_busy_ms,
					       .requested_bytes = vm->policy.requested_bytes,
					       .limited_by = POLICY_LIMIT_LIBVIRT };
		/* The arbiter booked the grant: give it back. */
		vm_sync_arbiter(vm);
	}
	if (result.action == POLICY_ACTION_DEFER) {
		reply.type = OMEM_RPC_DENY;
		reply.u.deny.reason = result.deny_reason;
		reply.u.deny.retry_after_ms = result.retry_after_ms;
		answer = g_strdup_printf("DENY %s, retry after %u ms", rpc_codec_deny_name(result.deny_reason),
					 result.retry_after_ms);
	} else {
		g_autofree char *granted = manager_size(result.grant_bytes);
		const char *limit = policy_limit_name(result.limited_by);

		reply.type = OMEM_RPC_GRANT;
		reply.u.grant.bytes = result.grant_bytes;
		reply.u.grant.target_bytes = vm->policy.boot_bytes + result.requested_bytes;
		if (limit)
			answer = g_strdup_printf("%s %s (limited by %s)",
						 result.action == POLICY_ACTION_GRANT ? "GRANT" : "PARTIAL GRANT",
						 granted, limit);
		else
			answer = g_strdup_printf("%s %s",
						 result.action == POLICY_ACTION_GRANT ? "GRANT" : "PARTIAL GRANT",
						 granted);

	}
	requested = manager_size(result.requested_bytes);
	left = manager_size(manager_budget_left(manager));
	vm_log(vm, OMEMD_LOG_INFO, "DEMAND %s (%s) -> %s, requested %s, budget left %s%s",
		  asked, rpc_codec_urgency_name(demand->urgency), answer, requested, left,
		  manager->dry_run ? " [dry run]" : "");
	reason = g_strdup_printf("DEMAND %s (%s) -> %s", asked, rpc_codec_urgency_name(demand->urgency),
				 answer);
	status_vm_add_decision(&vm->status, manager_unix_ms(), policy_action_name(result.action),
			       result.requested_bytes, reason);
	if (result.action != POLICY_ACTION_DEFER) {
		vm->unplug.active = false; /* growing again: no unplug to follow */
		vm->surplus_unplug = false;
		arbiter_trust_granted(&vm->trust, requested_before, &result, manager_now_ms());
		if (vm->policy.requested_bytes > vm->policy.plugged_bytes && !manager->dry_run) {
			vm->plug_started_us = g_get_monotonic_time();
			vm->plug_target_bytes = vm->policy.requested_bytes;
		}
	}
	vm_send(vm, event->epoch, true, event->seq, &reply);
	metrics_count_grant(manager->metrics, result.action == POLICY_ACTION_GRANT ? METRICS_GRANT_FULL :
			    result.action == POLICY_ACTION_PARTIAL_GRANT ? METRICS_GRANT_PARTIAL :
			    METRICS_GRANT_DEFER);
	if (result.action == POLICY_ACTION_DEFER && metrics_deny_reason_from_wire(result.deny_reason) >= 0)
		metrics_count_denial(manager->metrics,
				     (MetricsDenyReason)metrics_deny_reason_from_wire(result.deny_reason));
	if (received_us > 0)
		metrics_observe_decision(manager->metrics,
					 (double)(g_get_monotonic_time() - received_us) / 1e6);
	/* Memory for it comes from elsewhere (reclaim), after the answer. */
	manager_apply_ops(manager, &ops, vm->name);
}

static void vm_on_surplus(Vm *vm, const SessionEvent *event)
{
	PolicyConfig config;
	PolicyResizeResult result;
	PolicySurplus surplus = {
		.free_bytes = event->u.surplus.free_bytes,
		.clean_cache_bytes = event->u.surplus.clean_cache_bytes,
		.unpluggable_bytes = event->u.surplus.unpluggable_bytes,
	};
	uint64_t total = vm->policy.boot_bytes + vm->policy.plugged_bytes;
	uint64_t releasable = policy_surplus_releasable(&surplus);
	uint64_t believed;
	g_autofree char *cause = NULL, *free_text = manager_size(surplus.free_bytes);
	g_autofree char *cache = manager_size(surplus.clean_cache_bytes);
	g_autofree char *unpluggable = manager_size(surplus.unpluggable_bytes);
	const char *lie = NULL;
	bool trusted = trust_believe_surplus(&vm->trust, manager_now_ms());

	/* The offer against the STATS sent with it (trust.h): a
	 * contradiction is ignored whole, before it can move anything.  Once
	 * trust is lowered (one warning), a flood of them logs at debug. */
	believed = trust_surplus_offer(&vm->trust, &vm->manager->trust_config, releasable,
				       vm->stats_known, vm->stats_available_bytes, manager_now_ms(), &lie);
	if (lie) {
		vm_log(vm, trusted ? OMEMD_LOG_INFO : OMEMD_LOG_DEBUG,
		       "SURPLUS free %s, unpluggable %s -> ignored (%s)", free_text,
			  unpluggable, lie);
		vm_trust_changed(vm);
		return;
	}
	if (believed < releasable) {
		/* Within the slack: believe what the STATS showed. */
		surplus.unpluggable_bytes = believed;
		surplus.free_bytes = MIN(surplus.free_bytes, believed);
		surplus.clean_cache_bytes = MIN(surplus.clean_cache_bytes, believed - surplus.free_bytes);
		releasable = believed;
	}

	vm->status.has_demand = true;
	vm->status.demand_bytes = total > releasable ? total - releasable : 0;
	vm->report.free_bytes = surplus.free_bytes;
	vm->report.clean_cache_bytes = surplus.clean_cache_bytes;
	vm->report.unpluggable_bytes = surplus.unpluggable_bytes;
	vm->report.total_bytes = total;
	vm->surplus_at_ms = manager_now_ms();
	vm_report(vm);
	/* Lowered trust: its offers proved empty; shrinking on the next one
	 * would only make the guest migrate memory it uses (and maybe OOM). */
	if (!trust_believe_surplus(&vm->trust, manager_now_ms())) {
		vm_log(vm, OMEMD_LOG_DEBUG, "SURPLUS free %s, unpluggable %s -> ignored (trust lowered)",
		       free_text, unpluggable);
		return;
	}
	manager_policy_config(vm->manager, &config);
	if (policy_decide_surplus(&config, &vm->policy, &surplus, &result) < 0)
		return;
	policy_shrink_goal_set(&vm->shrink_goal, &result, manager_now_ms());
	if (vm->shrink_goal.active) {
		g_autofree char *goal = manager_size(result.goal_bytes);

		cause = g_strdup_printf("SURPLUS free %s, clean cache %s, unpluggable %s (goal %s)",
					free_text, cache, unpluggable, goal);
	} else {
		cause = g_strdup_printf("SURPLUS free %s, clean cache %s, unpluggable %s", free_text,
					cache, unpluggable);
	}
	if (result.action == POLICY_ACTION_HOLD) {
		vm_log(vm, OMEMD_LOG_DEBUG, "%s -> HOLD (%s)", cause, result.why);
		return;
	}
	vm_resize(vm, &result, cause);
	if (vm->policy.requested_bytes != result.requested_bytes) {
		policy_shrink_goal_drop(&vm->shrink_goal); /* libvirt refused: no chain */
	} else if (result.action == POLICY_ACTION_SHRINK && !vm->surplus_unplug) {
		vm->surplus_unplug = true;
		vm->surplus_offered_bytes = releasable;
		vm->surplus_plugged_bytes = vm->policy.plugged_bytes;
	}
}

/* A shrink step completed (or the tick looks): take the next one toward
 * the last SURPLUS's goal, without waiting ~10 s for the guest's next
 * SURPLUS (policy.h, PolicyShrinkGoal). */
void vm_next_step(Vm *vm, int64_t now_ms)
{
	PolicyConfig config;
	PolicyResizeResult result;
	g_autofree char *goal = NULL, *cause = NULL;

	if (!vm->shrink_goal.active)
		return;
	if (vm->frozen_by_omemd || vm->held_at_min) {
		policy_shrink_goal_drop(&vm->shrink_goal);
		return;
	}
	manager_policy_config(vm->manager, &config);
	goal = manager_size(vm->shrink_goal.goal_bytes);
	if (policy_decide_next_step(&config, &vm->policy, &vm->shrink_goal, now_ms, &result) < 0) {
		policy_shrink_goal_drop(&vm->shrink_goal);
		return;
	}
	if (result.action == POLICY_ACTION_HOLD) {
		if (!vm->shrink_goal.active)
			vm_log(vm, OMEMD_LOG_DEBUG, "SURPLUS goal %s dropped (%s)", goal,
				  result.why);
		return;
	}
	cause = g_strdup_printf("step done, SURPLUS goal %s", goal);
	vm_resize(vm, &result, cause);
	if (vm->policy.requested_bytes != result.requested_bytes)
		policy_shrink_goal_drop(&vm->shrink_goal);
}

static void vm_on_stats(Vm *vm, const SessionEvent *event)
{
	const struct rpc_msg_stats *stats = &event->u.stats;
	bool total = false, free_seen = false, available = false;

	for (uint32_t i = 0; i < stats->count && i < OMEM_RPC_STATS_MAX; i++) {
		switch (stats->stats[i].tag) {
		case OMEM_RPC_STAT_TOTAL_BYTES:
			vm->status.guest_total_bytes = stats->stats[i].value;
			total = true;
			break;
		case OMEM_RPC_STAT_FREE_BYTES:
			vm->status.guest_free_bytes = stats->stats[i].value;
			free_seen = true;
			break;
		case OMEM_RPC_STAT_AVAILABLE_BYTES:
			vm->status.guest_available_bytes = stats->stats[i].value;
			available = true;
			break;
		default:
			break;
		}
	}
	/* docs/status.md: the three figures are required once "guest" is
	 * shown, so it appears only when a STATS carried all of them. */
	if (total && free_seen && available) {
		uint64_t host_total = vm->policy.boot_bytes + vm->policy.plugged_bytes;

		vm->status.has_guest = true;
		vm->status.guest_reported_unix_ms = manager_unix_ms();
		vm->stats_known = true;
		vm->stats_available_bytes = vm->status.guest_available_bytes;
		/* What the guest uses now (total minus available). */
		vm->status.has_demand = true;
		vm->status.demand_bytes = host_total > vm->status.guest_available_bytes ?
					  host_total - vm->status.guest_available_bytes : 0;
		/* Free and total are fresh every second; the reclaim curve
		 * comes with SURPLUS, and stays only as long as that is
		 * recent (the arbiter ages the whole report). */
		vm->report.free_bytes = vm->status.guest_free_bytes;
		vm->report.total_bytes = vm->status.guest_total_bytes;
		if (vm->surplus_at_ms &&
		    manager_now_ms() - vm->surplus_at_ms < vm->manager->config.report_ttl_ms) {
			PolicySurplus latest = {
				.free_bytes = vm->report.free_bytes,
				.clean_cache_bytes = vm->report.clean_cache_bytes,
				.unpluggable_bytes = vm->report.unpluggable_bytes,
			};

			vm->report.unpluggable_bytes = policy_surplus_releasable(&latest);
		} else {
			/* No recent SURPLUS (a guest sends one only when it has
			 * plenty by its own marks): estimate from STATS, so an
			 * idle VM above its fair share can be reclaimed from
			 * before it offers.  Free pages sit mostly in the
			 * movable plugged blocks, but some are boot RAM's:
			 * count three quarters, never more than is plugged.
			 * The RECLAIM that goes first brings a real SURPLUS. */
			vm->report.clean_cache_bytes = 0;
			vm->report.unpluggable_bytes = MIN(vm->report.free_bytes / 4 * 3,
							   vm->policy.plugged_bytes);
		}
		vm_report(vm);
		trust_stats(&vm->trust, &vm->manager->trust_config, vm->status.guest_available_bytes,
			    vm->status.guest_total_bytes, manager_now_ms());
	}
}

static void vm_set_session(Vm *vm, const char *state)
{
	vm->status.session_state = state;
	vm->status.session_since_unix_ms = manager_unix_ms();
}

void vm_on_transport(Vm *vm, const TransportEvent *event)
{
	const SessionEvent *session = &event->session;

	/* A transport or session that starts or ends makes an earlier
	 * SURPLUS stale. */
	if (event->type != TRANSPORT_EVENT_SESSION || session->type == SESSION_EVENT_OPENED ||
	    session->type == SESSION_EVENT_CLOSED || session->type == SESSION_EVENT_CUT_OFF)
		policy_shrink_goal_drop(&vm->shrink_goal);

	switch (event->type) {
	case TRANSPORT_EVENT_CONNECTED:
		vm->session_open = false;
		vm->status.generation = event->generation;
		vm->status.has_protocol_version = false;
		vm_set_session(vm, "connecting");
		return;
	case TRANSPORT_EVENT_DISCONNECTED:
		vm->session_open = false;
		vm_set_session(vm, "none");
		return;
	case TRANSPORT_EVENT_SESSION:
		break;
	}
	switch (session->type) {
	case SESSION_EVENT_OPENED:
		vm->session_open = true;
		vm->session_epoch = session->epoch;
		vm->surplus_at_ms = 0;
		vm->surplus_unplug = false;
		vm->stats_known = false;
		/* A new session does not wash a liar's record; a reboot does. */
		trust_session_reset(&vm->trust);
		vm->hello_deadline_ms = 0;
		vm->status.has_protocol_version = true;
		vm->status.protocol_version = session->version;
		vm_set_session(vm, "open");
		if (vm->held_at_min) {
			vm->held_at_min = false;
			status_vm_set_note(&vm->status, NULL);
		}
		vm_log(vm, OMEMD_LOG_INFO, "session open (protocol v%u, client %u.%u, MemTotal %" G_GUINT64_FORMAT " MiB, generation %u)",
		       session->version, session->u.hello.client_version >> 16,
			  session->u.hello.client_version & 0xffff,
			  session->u.hello.guest_total_bytes >> 20, event->generation);
		break;
	case SESSION_EVENT_DEMAND:
		vm_on_demand(vm, session, event->received_us);
		break;
	case SESSION_EVENT_SURPLUS:
		vm_on_surplus(vm, session);
		break;
	case SESSION_EVENT_STATS:
		vm_on_stats(vm, session);
		break;
	case SESSION_EVENT_CLOSED:
		vm->session_open = false;
		vm_set_session(vm, "closed");
		/* A module that unloads leaves nobody to ask or give back:
		 * without a new HELLO in time the VM is held at min. */
		vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
		vm_log(vm, OMEMD_LOG_INFO, "session closed by the guest (GOODBYE reason %u)",
			  session->reason);
		break;
	case SESSION_EVENT_CUT_OFF:
		vm->session_open = false;
		vm_set_session(vm, "cut-off");
		status_vm_set_note(&vm->status, session->why);
		/* session.c and transport.c word their reasons like this. */
		metrics_count_cutoff(vm->manager->metrics,
				     g_str_has_prefix(session->why, "flooding") ? METRICS_CUTOFF_FLOOD :
				     g_str_has_prefix(session->why, "broke") ? METRICS_CUTOFF_RING :
				     METRICS_CUTOFF_PROTOCOL);
		break;
	case SESSION_EVENT_NONE:
		break;
	}
}

void vm_on_reboot(Vm *vm)
{
	/* Same QEMU process: the device and the requested size stay; the
	 * guest's module says HELLO again after its boot. */
	omemd_log(OMEMD_LOG_INFO, "vm %s: rebooted; requested size kept, waiting for a new HELLO", vm->name);
	vm->session_open = false;
	policy_shrink_goal_drop(&vm->shrink_goal); /* the guest starts afresh */
	vm_set_session(vm, vm->link == VM_LINK_ATTACHED ? "connecting" : "none");
	if (!vm->frozen_by_omemd)
		vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
	/* The requested size persisted through the reboot (same QEMU):
	 * nothing is reset, but what the guest said before is stale. */
	memset(&vm->report, 0, sizeof(vm->report));
	vm->surplus_at_ms = 0;
	vm->surplus_unplug = false;
	vm->stats_known = false;
	trust_reset(&vm->trust);
	vm_trust_changed(vm);
	vm_sync_arbiter(vm);
	if (vm->in_arbiter) {
		ArbiterOps ops = { 0 };

		if (arbiter_vm_reevaluate(vm->manager->arbiter, vm->id, manager_now_ms(), &ops) == 0)
			manager_apply_ops(vm->manager, &ops, "reboot");
	}
}

/* No HELLO in time: the guest has no module (or it is broken), so nobody
 * will ask for memory or give any back.  Put requested at its min (up or
 * down: virtio_mem only unplugs what the guest can offline) and hold it
 * there; a later HELLO lifts the hold. */
static void vm_hold_at_min(Vm *vm)
{
	PolicyResizeResult result = { .action = POLICY_ACTION_HOLD,
				      .requested_bytes = vm->policy.requested_bytes };
	uint64_t floor_bytes = policy_requested_floor(&vm->policy);
	g_autofree char *min = manager_size(vm->policy.min_bytes);
	g_autofree char *note = g_strdup_printf("no HELLO within %u s: holding at min %s",
						vm->manager->config.hello_timeout_s, min);

	vm->hello_deadline_ms = 0;
	vm->held_at_min = true;
	policy_shrink_goal_drop(&vm->shrink_goal);
	status_vm_set_note(&vm->status, note);
	omemd_log(OMEMD_LOG_INFO, "vm %s: no HELLO within %u s (no omem module?): plugging its min %s and holding it there",
		  vm->name, vm->manager->config.hello_timeout_s, min);
	if (vm->policy.requested_bytes != floor_bytes && !vm->policy.frozen) {
		result.action = vm->policy.requested_bytes < floor_bytes ? POLICY_ACTION_GROW :
				POLICY_ACTION_SHRINK;
		result.requested_bytes = floor_bytes;
		result.why = "no HELLO, hold at min";
		vm_resize(vm, &result, "no HELLO");
	} else {
		status_vm_add_decision(&vm->status, manager_unix_ms(), "hold",
				       vm->policy.requested_bytes, note);
	}
}

/* A libvirt call of this VM's that does not come back: one line, and a
 * note in its status, while the call waits. */
static void vm_check_actuator(Vm *vm, int64_t now_ms)
{
	int64_t since_us;

	if (!vm->actuator || vm->actuator_stuck_logged || !actuator_busy(vm->actuator, &since_us) ||
	    g_get_monotonic_time() - since_us < VM_ACTUATOR_SLOW_MS * 1000ll)
		return;
	vm->actuator_stuck_logged = true;
	omemd_log(OMEMD_LOG_WARNING, "vm %s: libvirt has not answered a call for %" G_GINT64_FORMAT " s (its QEMU stopped or stuck?); its resizes wait, the other VMs are served",
		  vm->name, (g_get_monotonic_time() - since_us) / G_USEC_PER_SEC);
	(void)now_ms;
}

void vm_tick(Vm *vm, int64_t now_ms)
{
	PolicyConfig config;

	if (vm->hello_deadline_ms && now_ms >= vm->hello_deadline_ms && !vm->session_open &&
	    !vm->frozen_by_omemd)
		vm_hold_at_min(vm);
	manager_policy_config(vm->manager, &config);
	if (policy_unplug_due(&vm->unplug, &config, now_ms)) {
		g_autofree char *plugged = manager_size(vm->policy.plugged_bytes);
		g_autofree char *requested = manager_size(vm->policy.requested_bytes);
		bool ok = vm_reissue(vm);

		vm_log(vm, OMEMD_LOG_INFO, "unplug stalled at %s plugged (requested %s) -> re-issued (attempt %u, next in %" G_GINT64_FORMAT " s)%s",
		       plugged, requested, vm->unplug.reissues,
			  (vm->unplug.next_retry_ms - now_ms) / 1000, ok ? "" : " FAILED");
		vm_surplus_judged(vm);
	}
	vm_check_actuator(vm, now_ms);
	trust_update(&vm->trust, now_ms);
	vm_trust_changed(vm);
	vm_next_step(vm, now_ms);
	omemd_log_limit_flush(&vm->log_limit, vm->name, now_ms);
}

/* RECLAIM to the guest: free @bytes; it answers with SURPLUS.  The
 * deadline is when the arbiter starts lowering requested. */
void vm_send_reclaim(Vm *vm, uint64_t bytes, const char *why)
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
	vm_send(vm, vm->session_epoch, false, 0, &msg);
}

void vm_reclaim_stalled(Vm *vm, uint64_t asked_bytes, uint64_t released_bytes)
{
	g_autofree char *asked = manager_size(asked_bytes);
	g_autofree char *released = manager_size(released_bytes);

	vm_log(vm, OMEMD_LOG_INFO, "RECLAIM of %s given up at its deadline: %s came out", asked, released);
	trust_surplus_stalled(&vm->trust, &vm->manager->trust_config, asked_bytes, released_bytes,
			      manager_now_ms());
	vm_trust_changed(vm);
}

Vm *vm_ref(Vm *vm)
{
	vm->refs++;
	return vm;
}

void vm_unref(Vm *vm)
{
	if (!vm || --vm->refs > 0)
		return;
	actuator_close(vm->actuator);
	g_free(vm->uuid);
	g_free(vm->name);
	if (vm->domain)
		virDomainFree(vm->domain);
	g_clear_pointer(&vm->plugged_by_alias, g_hash_table_unref);
	status_vm_clear(&vm->status);
	g_free(vm->socket_path);
	g_free(vm->stale_shmem_xml);
	g_free(vm);
}
