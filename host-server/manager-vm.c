/* SPDX-License-Identifier: MIT */
/*
 * manager-vm.c: one VM's life inside omemd, on the main thread: found
 * (contract and devices read from libvirt), its guest's DEMAND, SURPLUS
 * and STATS decided with policy.h and answered, sizes followed through
 * libvirt's events (each completed shrink step followed by the next toward
 * the SURPLUS's goal), no-HELLO guests held at min, stalled unplugs
 * re-issued.  Every decision is one log line at info and one entry in the
 * VM's status record.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "admission.h"
#include "manager-private.h"
#include "omem-virt-internal.h"
#include "omemd-log.h"

static const char *const urgency_names[] = { "?", "LOW", "NORMAL", "HIGH", "CRITICAL" };

static const char *manager_urgency_name(uint32_t urgency)
{
	return urgency < G_N_ELEMENTS(urgency_names) ? urgency_names[urgency] : "?";
}

static const char *manager_deny_name(uint32_t reason)
{
	switch (reason) {
	case OMEM_RPC_DENY_BUDGET: return "BUDGET";
	case OMEM_RPC_DENY_CAP: return "CAP";
	case OMEM_RPC_DENY_RATE: return "RATE";
	case OMEM_RPC_DENY_FROZEN: return "FROZEN";
	case OMEM_RPC_DENY_BUSY: return "BUSY";
	}
	return "?";
}

static void manager_vm_resize(Vm *vm, const PolicyResizeResult *result, const char *cause);

/* Read the live XML's virtio-mem devices into the VM (requested, plugged
 * per alias, block).  Returns 0 or -1 with the reason logged. */
static int manager_vm_read_devices(Vm *vm)
{
	g_autofree char *xml = virDomainGetXMLDesc(vm->domain, 0);
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	uint64_t requested = 0, plugged = 0, block = 0;

	if (!xml) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot read its live XML: %s", vm->name,
			  virGetLastErrorMessage());
		return -1;
	}
	doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0 || memory->devices->len == 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot read its virtio-mem devices: %s", vm->name,
			  doc && memory ? "none in the live XML" : omem_error_last_message());
		return -1;
	}
	g_hash_table_remove_all(vm->plugged_by_alias);
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);
		guint64 *value = g_new(guint64, 1);

		*value = device->plugged_bytes;
		g_hash_table_insert(vm->plugged_by_alias,
				    g_strdup(device->alias ? device->alias : "(none)"), value);
		requested += device->requested_bytes;
		plugged += device->plugged_bytes;
		block = MAX(block, device->block_bytes);
	}
	vm->policy.requested_bytes = requested;
	vm->policy.plugged_bytes = plugged;
	vm->policy.block_bytes = block;
	vm->status.has_memory = true;
	vm->status.requested_bytes = requested;
	vm->status.plugged_bytes = plugged;
	return 0;
}

/* The devices' requested size in the live XML, summed; false when it
 * cannot be read (logged at debug: the caller just skips a check). */
static bool manager_vm_read_requested(Vm *vm, uint64_t *ret_requested)
{
	g_autofree char *xml = virDomainGetXMLDesc(vm->domain, 0);
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	uint64_t requested = 0;

	if (!xml) {
		omemd_log(OMEMD_LOG_DEBUG, "vm %s: cannot read its live XML: %s", vm->name,
			  virGetLastErrorMessage());
		return false;
	}
	doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0 || memory->devices->len == 0)
		return false;
	for (guint i = 0; i < memory->devices->len; i++)
		requested += ((const OmemVirtioMemDevice *)g_ptr_array_index(memory->devices, i))->requested_bytes;
	*ret_requested = requested;
	return true;
}

/* Copy a validated contract into the VM's policy view and status. */
static void manager_vm_take_contract(Vm *vm, const OmemContract *contract)
{
	vm->policy.boot_bytes = omem_contract_get_boot(contract);
	vm->policy.min_bytes = omem_contract_get_min(contract);
	vm->policy.cap_bytes = omem_contract_get_cap(contract);
	vm->policy.max_bytes = omem_contract_get_max(contract);
	vm->policy.buffer_percent = omem_contract_get_buffer_percent(contract);
	vm->policy.frozen = omem_contract_get_frozen(contract) || vm->frozen_by_omemd;
	vm->shares = omem_contract_get_shares(contract);
	vm->drain = omem_contract_get_drain(contract);
	vm->status.has_contract = true;
	vm->status.boot_bytes = vm->policy.boot_bytes;
	vm->status.min_bytes = vm->policy.min_bytes;
	vm->status.cap_bytes = vm->policy.cap_bytes;
	vm->status.max_bytes = vm->policy.max_bytes;
	vm->status.shares = omem_contract_get_shares(contract);
	vm->status.buffer_percent = vm->policy.buffer_percent;
	vm->status.frozen = vm->policy.frozen;
	vm->status.drain = vm->drain;
}

void manager_vm_publish_contract(Vm *vm)
{
	struct rpc_msg_welcome contract = {
		.buffer_percent = vm->policy.buffer_percent,
		.boot_bytes = vm->policy.boot_bytes,
		.min_bytes = vm->policy.min_bytes,
		.max_bytes = vm->policy.max_bytes,
		.cap_bytes = vm->policy.cap_bytes,
		.plugged_bytes = vm->policy.plugged_bytes,
		.block_bytes = vm->policy.block_bytes,
	};

	if (vm->transport)
		transport_set_contract(vm->transport, &contract);
}

/* ------------------------------------------------------- the arbiter */

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
static void manager_vm_contract_to_arbiter(Vm *vm)
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

/* The block an admission assumes: virtio-mem's usual 2 MiB (the domain
 * XML the hook sends has it, but min is rounded to it only by a few MiB
 * at most; the real block applies when the VM joins). */
#define MANAGER_ADMISSION_BLOCK (2ull * 1024 * 1024)

bool manager_admit(Manager *manager, const AdmissionRequest *request, char **ret_message)
{
	ArbiterContract contract = {
		.boot_bytes = request->boot_bytes,
		.min_bytes = request->min_bytes,
		.cap_bytes = request->cap_bytes,
		.max_bytes = request->max_bytes,
		.block_bytes = MANAGER_ADMISSION_BLOCK,
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
static void manager_vm_report(Vm *vm)
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

/* Log a change of the guest's trust once, and show it in the status. */
static void manager_vm_trust_changed(Vm *vm)
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

		omemd_log(OMEMD_LOG_WARNING, "vm %s: trust lowered: %s (at most %s per %u s; its SURPLUS figures are not believed)",
			  vm->name, why ? why : "contradictions", step,
			  vm->manager->trust_config.distrusted_interval_ms / 1000);
		status_vm_set_note(&vm->status, note);
	} else {
		omemd_log(OMEMD_LOG_INFO, "vm %s: trust restored", vm->name);
		if (vm->status.note && g_str_has_prefix(vm->status.note, "trust lowered"))
			status_vm_set_note(&vm->status, NULL);
	}
	manager_vm_report(vm);
}

/* The unplug of a SURPLUS-driven shrink stalled or was overtaken: did the
 * guest release what it offered? */
static void manager_vm_surplus_judged(Vm *vm)
{
	uint64_t released;

	if (!vm->surplus_unplug)
		return;
	vm->surplus_unplug = false;
	released = vm->surplus_plugged_bytes > vm->policy.plugged_bytes ?
		   vm->surplus_plugged_bytes - vm->policy.plugged_bytes : 0;
	trust_surplus_stalled(&vm->trust, &vm->manager->trust_config, vm->surplus_offered_bytes,
			      released, manager_now_ms());
	manager_vm_trust_changed(vm);
}

/* RECLAIM to the guest: free @bytes; it answers with SURPLUS.  The
 * deadline is when the arbiter starts lowering requested. */
typedef struct {
	Transport *transport;
	uint32_t epoch;
	struct rpc_msg msg;
} ManagerMessage;

static gboolean manager_vm_send_message(gpointer data)
{
	ManagerMessage *message = data;

	transport_send_message(message->transport, message->epoch, &message->msg);
	return G_SOURCE_REMOVE;
}

static void manager_vm_send_reclaim(Vm *vm, uint64_t bytes, const char *why)
{
	ManagerMessage *message;
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
	message = g_new0(ManagerMessage, 1);
	message->transport = vm->transport;
	message->epoch = vm->session_epoch;
	message->msg.type = OMEM_RPC_RECLAIM;
	message->msg.u.reclaim.bytes = bytes;
	message->msg.u.reclaim.deadline_ms = vm->manager->config.retry_reclaim_ms;
	g_main_context_invoke_full(vm->manager->transport_context, G_PRIORITY_DEFAULT,
				   manager_vm_send_message, message, g_free);
}

void manager_apply_ops(Manager *manager, const ArbiterOps *ops, const char *cause)
{
	for (unsigned i = 0; i < ops->count; i++) {
		const ArbiterOp *op = &ops->op[i];
		Vm *vm = manager_vm_lookup(manager, op->vm_id);
		PolicyResizeResult result;
		g_autofree char *why = NULL;

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
			why = g_strdup_printf("%s", cause);
			manager_vm_resize(vm, &result, why);
			break;
		}
	}
}

Vm *manager_vm_discover(Manager *manager, virDomainPtr domain)
{
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(Vm) vm = NULL;
	const OmemError *error;
	char uuid[VIR_UUID_STRING_BUFLEN];
	const char *name = virDomainGetName(domain);

	if (!g_pattern_match_simple(manager->config.domains, name)) {
		omemd_log(OMEMD_LOG_DEBUG, "domain %s does not match [daemon] domains = %s; left alone",
			  name, manager->config.domains);
		return NULL;
	}
	if (omem_contract_get(domain, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0) {
		error = omem_error_last();
		if (error && error->code == OMEM_ERR_NOT_OMEM)
			omemd_log(OMEMD_LOG_DEBUG, "domain %s is not an omem domain; left alone", name);
		else
			omemd_log(OMEMD_LOG_WARNING, "domain %s: cannot read its omem contract, left alone: %s",
				  name, omem_error_last_message());
		return NULL;
	}
	if (omem_contract_validate(contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: its contract breaks the rules, left alone until it is fixed: %s",
			  name, omem_error_last_message());
		return NULL;
	}
	if (virDomainGetUUIDString(domain, uuid) < 0)
		return NULL;

	vm = g_new0(Vm, 1);
	vm->refs = 1;
	vm->manager = manager;
	vm->uuid = g_strdup(uuid);
	vm->name = g_strdup(name);
	vm->domain = domain;
	virDomainRef(domain);
	vm->plugged_by_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vm->status.name = g_strdup(name);
	vm->status.uuid = g_strdup(uuid);
	vm->status.state = "running";
	vm->status.has_session = true;
	vm->status.session_state = "none";
	vm->status.session_since_unix_ms = manager_unix_ms();
	manager_vm_take_contract(vm, contract);
	if (manager_vm_read_devices(vm) < 0)
		return NULL;
	{
		g_autofree char *boot = manager_size(vm->policy.boot_bytes);
		g_autofree char *min = manager_size(vm->policy.min_bytes);
		g_autofree char *cap = manager_size(vm->policy.cap_bytes);
		g_autofree char *max = manager_size(vm->policy.max_bytes);
		g_autofree char *requested = manager_size(vm->policy.requested_bytes);
		g_autofree char *plugged = manager_size(vm->policy.plugged_bytes);

		omemd_log(OMEMD_LOG_INFO, "vm %s: managed (uuid %s): boot %s, min %s, cap %s, max %s; requested %s, plugged %s%s",
			  name, uuid, boot, min, cap, max, requested, plugged,
			  vm->policy.frozen ? "; frozen by its contract" : "");
	}
	return g_steal_pointer(&vm);
}

/* Change the devices' requested size.  In a dry run only the decision is
 * logged.  Returns false when libvirt refused (logged). */
static bool manager_vm_set_requested(Vm *vm, uint64_t requested_bytes)
{
	if (vm->manager->dry_run)
		return true;
	if (!vm->manager->conn) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot set the requested size while libvirtd is away",
			  vm->name);
		return false;
	}
	if (omem_domain_set_requested(vm->domain, requested_bytes) < 0) {
		omemd_log(OMEMD_LOG_ERROR, "vm %s: cannot set the requested size to %" G_GUINT64_FORMAT " bytes: %s",
			  vm->name, requested_bytes, omem_error_last_message());
		metrics_count_libvirt_error(vm->manager->metrics);
		return false;
	}
	if (requested_bytes != vm->policy.requested_bytes)
		metrics_count_resize(vm->manager->metrics, requested_bytes > vm->policy.requested_bytes ?
				     METRICS_RESIZE_GROW : METRICS_RESIZE_SHRINK);
	vm->policy.requested_bytes = requested_bytes;
	vm->status.requested_bytes = requested_bytes;
	return true;
}

/* Re-send each device's current requested size unchanged: QEMU then
 * tells the guest again, and its virtio_mem retries a stalled unplug at
 * once instead of ~50 s later (FACTS.md).  omem_domain_set_requested skips
 * devices already at their size, so this builds the update itself. */
static bool manager_vm_reissue(Vm *vm)
{
	g_autofree char *xml = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;

	if (vm->manager->dry_run)
		return true;
	xml = virDomainGetXMLDesc(vm->domain, 0);
	if (!xml)
		return false;
	doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0)
		return false;
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);
		g_autofree char *device_xml = NULL;

		if (device->plugged_bytes <= device->requested_bytes)
			continue;
		device_xml = omem_live_device_xml(doc, device, device->requested_bytes);
		if (!device_xml ||
		    virDomainUpdateDeviceFlags(vm->domain, device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			omemd_log(OMEMD_LOG_WARNING, "vm %s: re-issuing the unplug of %s failed: %s", vm->name,
				  device->alias ? device->alias : "its virtio-mem device",
				  device_xml ? virGetLastErrorMessage() : omem_error_last_message());
			return false;
		}
	}
	return true;
}

/* Apply a SHRINK or GROW decision and record it. */
static void manager_vm_resize(Vm *vm, const PolicyResizeResult *result, const char *cause)
{
	PolicyConfig config;
	g_autofree char *from = manager_size(vm->policy.requested_bytes);
	g_autofree char *to = manager_size(result->requested_bytes);
	g_autofree char *reason = NULL;
	bool ok;

	if (result->action == POLICY_ACTION_HOLD)
		return;
	manager_policy_config(vm->manager, &config);
	ok = manager_vm_set_requested(vm, result->requested_bytes);
	/* Whatever happened, the arbiter learns the size that holds. */
	manager_vm_sync_arbiter(vm);
	reason = g_strdup_printf("%s: %s", cause, result->why);
	omemd_log(OMEMD_LOG_INFO, "vm %s: %s -> %s requested %s (was %s)%s%s", vm->name, cause,
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

/* Send the answer to a DEMAND to the transport thread. */
typedef struct {
	Transport *transport;
	uint32_t epoch, reply_to;
	struct rpc_msg msg;
} ManagerReply;

static gboolean manager_vm_send_reply(gpointer data)
{
	ManagerReply *reply = data;

	transport_send_reply(reply->transport, reply->epoch, reply->reply_to, &reply->msg);
	return G_SOURCE_REMOVE;
}

static void manager_vm_reply(Vm *vm, uint32_t epoch, uint32_t reply_to, const struct rpc_msg *msg)
{
	ManagerReply *reply = g_new0(ManagerReply, 1);

	reply->transport = vm->transport;
	reply->epoch = epoch;
	reply->reply_to = reply_to;
	reply->msg = *msg;
	g_main_context_invoke_full(vm->manager->transport_context, G_PRIORITY_DEFAULT,
				   manager_vm_send_reply, reply, g_free);
}

static void manager_vm_on_demand(Vm *vm, const SessionEvent *event, int64_t received_us)
{
	Manager *manager = vm->manager;
	const struct rpc_msg_demand *demand = &event->u.demand;
	PolicyConfig config;
	PolicyDemandResult result;
	ArbiterOps ops = { 0 };
	uint64_t allowance;
	const char *distrust_why = NULL;
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
		manager_vm_surplus_judged(vm);
	allowance = trust_demand_allowance(&vm->trust, &manager->trust_config, demand->bytes,
					   demand->available_bytes, total, demand->urgency,
					   manager_now_ms(), &distrust_why);
	manager_vm_trust_changed(vm);
	if (allowance == 0) {
		result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
					       .deny_reason = OMEM_RPC_DENY_BUDGET,
					       .retry_after_ms = manager->trust_config.distrusted_interval_ms,
					       .requested_bytes = vm->policy.requested_bytes,
					       .limited_by = "trust" };
	} else if (arbiter_demand(manager->arbiter, vm->id, MIN(demand->bytes, allowance),
				  demand->urgency, manager_now_ms(), &result, &ops) < 0) {
		result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
					       .deny_reason = OMEM_RPC_DENY_BUSY,
					       .retry_after_ms = config.retry_busy_ms,
					       .requested_bytes = vm->policy.requested_bytes };
	}
	if (result.action != POLICY_ACTION_DEFER &&
	    !manager_vm_set_requested(vm, result.requested_bytes)) {
		result = (PolicyDemandResult){ .action = POLICY_ACTION_DEFER,
					       .deny_reason = OMEM_RPC_DENY_BUSY,
					       .retry_after_ms = config.retry_busy_ms,
					       .requested_bytes = vm->policy.requested_bytes,
					       .limited_by = "libvirt" };
		/* The arbiter booked the grant: give it back. */
		manager_vm_sync_arbiter(vm);
	}
	if (result.action == POLICY_ACTION_DEFER) {
		reply.type = OMEM_RPC_DENY;
		reply.u.deny.reason = result.deny_reason;
		reply.u.deny.retry_after_ms = result.retry_after_ms;
		answer = g_strdup_printf("DENY %s, retry after %u ms", manager_deny_name(result.deny_reason),
					 result.retry_after_ms);
	} else {
		g_autofree char *granted = manager_size(result.grant_bytes);

		reply.type = OMEM_RPC_GRANT;
		reply.u.grant.bytes = result.grant_bytes;
		reply.u.grant.target_bytes = vm->policy.boot_bytes + result.requested_bytes;
		answer = g_strdup_printf("%s %s%s%s", result.action == POLICY_ACTION_GRANT ? "GRANT" : "PARTIAL GRANT",
					 granted, result.limited_by ? " (limited by " : "",
					 result.limited_by ? result.limited_by : "");
		if (result.limited_by) {
			char *with_paren = g_strconcat(answer, ")", NULL);

			g_free(answer);
			answer = with_paren;
		}
	}
	requested = manager_size(result.requested_bytes);
	left = manager_size(manager_budget_left(manager));
	omemd_log(OMEMD_LOG_INFO, "vm %s: DEMAND %s (%s) -> %s, requested %s, budget left %s%s", vm->name,
		  asked, manager_urgency_name(demand->urgency), answer, requested, left,
		  manager->dry_run ? " [dry run]" : "");
	reason = g_strdup_printf("DEMAND %s (%s) -> %s", asked, manager_urgency_name(demand->urgency),
				 answer);
	status_vm_add_decision(&vm->status, manager_unix_ms(), policy_action_name(result.action),
			       result.requested_bytes, reason);
	if (result.action != POLICY_ACTION_DEFER) {
		vm->unplug.active = false; /* growing again: no unplug to follow */
		vm->surplus_unplug = false;
		trust_granted(&vm->trust, result.grant_bytes, manager_now_ms());
		if (vm->policy.requested_bytes > vm->policy.plugged_bytes && !manager->dry_run) {
			vm->plug_started_us = g_get_monotonic_time();
			vm->plug_target_bytes = vm->policy.requested_bytes;
		}
	}
	manager_vm_reply(vm, event->epoch, event->seq, &reply);
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

static void manager_vm_on_surplus(Vm *vm, const SessionEvent *event)
{
	PolicyConfig config;
	PolicyResizeResult result;
	PolicySurplus surplus = {
		.free_bytes = event->u.surplus.free_bytes,
		.clean_cache_bytes = event->u.surplus.clean_cache_bytes,
		.unpluggable_bytes = event->u.surplus.unpluggable_bytes,
	};
	uint64_t total = vm->policy.boot_bytes + vm->policy.plugged_bytes;
	uint64_t releasable = MIN(surplus.unpluggable_bytes,
				  surplus.free_bytes + MIN(surplus.clean_cache_bytes, G_MAXUINT64 / 2));
	g_autofree char *cause = NULL, *free_text = manager_size(surplus.free_bytes);
	g_autofree char *cache = manager_size(surplus.clean_cache_bytes);
	g_autofree char *unpluggable = manager_size(surplus.unpluggable_bytes);

	vm->status.has_demand = true;
	vm->status.demand_bytes = total > releasable ? total - releasable : 0;
	vm->report.free_bytes = surplus.free_bytes;
	vm->report.clean_cache_bytes = surplus.clean_cache_bytes;
	vm->report.unpluggable_bytes = surplus.unpluggable_bytes;
	vm->report.total_bytes = total;
	vm->surplus_at_ms = manager_now_ms();
	manager_vm_report(vm);
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
		omemd_log(OMEMD_LOG_DEBUG, "vm %s: %s -> HOLD (%s)", vm->name, cause, result.why);
		return;
	}
	manager_vm_resize(vm, &result, cause);
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
static void manager_vm_next_step(Vm *vm, int64_t now_ms)
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
			omemd_log(OMEMD_LOG_DEBUG, "vm %s: SURPLUS goal %s dropped (%s)", vm->name, goal,
				  result.why);
		return;
	}
	cause = g_strdup_printf("step done, SURPLUS goal %s", goal);
	manager_vm_resize(vm, &result, cause);
	if (vm->policy.requested_bytes != result.requested_bytes)
		policy_shrink_goal_drop(&vm->shrink_goal);
}

static void manager_vm_on_stats(Vm *vm, const SessionEvent *event)
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
			if (vm->report.unpluggable_bytes > vm->report.free_bytes + vm->report.clean_cache_bytes)
				vm->report.unpluggable_bytes = vm->report.free_bytes + vm->report.clean_cache_bytes;
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
		manager_vm_report(vm);
		trust_stats(&vm->trust, &vm->manager->trust_config, vm->status.guest_available_bytes,
			    vm->status.guest_total_bytes, manager_now_ms());
	}
}

static void manager_vm_set_session(Vm *vm, const char *state)
{
	vm->status.session_state = state;
	vm->status.session_since_unix_ms = manager_unix_ms();
}

void manager_vm_on_transport(Vm *vm, const TransportEvent *event)
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
		manager_vm_set_session(vm, "connecting");
		return;
	case TRANSPORT_EVENT_DISCONNECTED:
		vm->session_open = false;
		manager_vm_set_session(vm, "none");
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
		/* A new session does not wash a liar's record; a reboot does. */
		trust_session_reset(&vm->trust);
		vm->hello_deadline_ms = 0;
		vm->status.has_protocol_version = true;
		vm->status.protocol_version = session->version;
		manager_vm_set_session(vm, "open");
		if (vm->held_at_min) {
			vm->held_at_min = false;
			status_vm_set_note(&vm->status, NULL);
		}
		omemd_log(OMEMD_LOG_INFO, "vm %s: session open (protocol v%u, client %u.%u, MemTotal %" G_GUINT64_FORMAT " MiB, generation %u)",
			  vm->name, session->version, session->u.hello.client_version >> 16,
			  session->u.hello.client_version & 0xffff,
			  session->u.hello.guest_total_bytes >> 20, event->generation);
		break;
	case SESSION_EVENT_DEMAND:
		manager_vm_on_demand(vm, session, event->received_us);
		break;
	case SESSION_EVENT_SURPLUS:
		manager_vm_on_surplus(vm, session);
		break;
	case SESSION_EVENT_STATS:
		manager_vm_on_stats(vm, session);
		break;
	case SESSION_EVENT_CLOSED:
		vm->session_open = false;
		manager_vm_set_session(vm, "closed");
		/* A module that unloads leaves nobody to ask or give back:
		 * without a new HELLO in time the VM is held at min. */
		vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
		omemd_log(OMEMD_LOG_INFO, "vm %s: session closed by the guest (GOODBYE reason %u)", vm->name,
			  session->reason);
		break;
	case SESSION_EVENT_CUT_OFF:
		vm->session_open = false;
		manager_vm_set_session(vm, "cut-off");
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

/* Someone resized the device behind omemd's back (`virsh
 * update-memory-device`): the requested size in libvirt is not the one
 * omemd set.  An operator who does that means "this VM gets this much":
 * omemd adopts it as the VM's cap (never below min, never above max),
 * writes the cap into the contract metadata so that it survives an omemd
 * restart and shows in virt-omem, and logs that it did.  Checked on every
 * size event, which any resize causes. */
static void manager_vm_check_foreign(Vm *vm)
{
	Manager *manager = vm->manager;
	g_autoptr(OmemContract) contract = NULL;
	uint64_t theirs, cap;
	g_autofree char *theirs_text = NULL, *ours_text = NULL, *cap_text = NULL, *note = NULL;

	if (manager->dry_run || !manager->conn || vm->frozen_by_omemd ||
	    !manager_vm_read_requested(vm, &theirs) || theirs == vm->policy.requested_bytes)
		return;
	cap = vm->policy.boot_bytes + theirs;
	cap = MAX(cap, vm->policy.min_bytes);
	cap = MIN(cap, vm->policy.max_bytes);
	theirs_text = manager_size(theirs);
	ours_text = manager_size(vm->policy.requested_bytes);
	cap_text = manager_size(cap);
	omemd_log(OMEMD_LOG_WARNING, "vm %s: requested changed to %s outside omemd (omemd had set %s; virsh update-memory-device?); adopting cap %s",
		  vm->name, theirs_text, ours_text, cap_text);
	note = g_strdup_printf("requested set to %s outside omemd: adopted cap %s", theirs_text, cap_text);
	status_vm_add_decision(&vm->status, manager_unix_ms(), "adopt", theirs, note);
	vm->policy.requested_bytes = theirs;
	vm->status.requested_bytes = theirs;
	vm->unplug.active = false;
	policy_shrink_goal_drop(&vm->shrink_goal);
	manager_vm_sync_arbiter(vm);
	if (omem_contract_get(vm->domain, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot read the contract to adopt the cap: %s", vm->name,
			  omem_error_last_message());
		return;
	}
	omem_contract_set_cap(contract, cap);
	if (omem_contract_validate(contract) < 0 ||
	    omem_contract_set(vm->domain, contract, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot write the adopted cap into the contract: %s",
			  vm->name, omem_error_last_message());
		return;
	}
	/* The metadata event follows; apply now so that decisions taken
	 * before it arrives already see the new cap. */
	manager_vm_take_contract(vm, contract);
	manager_vm_sync_arbiter(vm);
	manager_vm_publish_contract(vm);
}

void manager_vm_on_size_change(Vm *vm, const char *alias, uint64_t plugged_bytes)
{
	PolicyConfig config;
	guint64 *value = g_new(guint64, 1);
	GHashTableIter iter;
	gpointer item;
	uint64_t plugged = 0;
	g_autofree char *plugged_text = NULL, *requested_text = NULL;

	*value = plugged_bytes;
	g_hash_table_insert(vm->plugged_by_alias, g_strdup(alias ? alias : "(none)"), value);
	g_hash_table_iter_init(&iter, vm->plugged_by_alias);
	while (g_hash_table_iter_next(&iter, NULL, &item))
		plugged += *(guint64 *)item;
	vm->policy.plugged_bytes = plugged;
	vm->status.plugged_bytes = plugged;
	manager_policy_config(vm->manager, &config);
	policy_unplug_progress(&vm->unplug, &config, plugged, manager_now_ms());
	if (vm->surplus_unplug && !vm->unplug.active)
		vm->surplus_unplug = false; /* released what it offered */
	manager_vm_publish_contract(vm);
	plugged_text = manager_size(plugged);
	requested_text = manager_size(vm->policy.requested_bytes);
	omemd_log(OMEMD_LOG_INFO, "vm %s: plugged %s (requested %s)", vm->name, plugged_text,
		  requested_text);
	if (vm->plug_started_us && plugged >= vm->plug_target_bytes) {
		metrics_observe_plug(vm->manager->metrics,
				     (double)(g_get_monotonic_time() - vm->plug_started_us) / 1e6);
		vm->plug_started_us = 0;
		trust_plugged(&vm->trust, manager_now_ms());
	}
	manager_vm_check_foreign(vm);
	manager_vm_sync_arbiter(vm);
	manager_vm_next_step(vm, manager_now_ms());
}

void manager_vm_on_contract_change(Vm *vm)
{
	g_autoptr(OmemContract) contract = NULL;
	g_autofree char *min = NULL, *cap = NULL;

	if (omem_contract_get(vm->domain, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0 ||
	    omem_contract_validate(contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: its new contract cannot be used, keeping the old one: %s",
			  vm->name, omem_error_last_message());
		return;
	}
	manager_vm_take_contract(vm, contract);
	manager_vm_publish_contract(vm);
	policy_shrink_goal_drop(&vm->shrink_goal); /* sized under the old contract */
	min = manager_size(vm->policy.min_bytes);
	cap = manager_size(vm->policy.cap_bytes);
	omemd_log(OMEMD_LOG_INFO, "vm %s: contract: min %s, cap %s, shares %u%s%s", vm->name, min, cap,
		  vm->shares, vm->policy.frozen ? ", frozen" : "", vm->drain ? ", draining to min" : "");
	manager_vm_contract_to_arbiter(vm);
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

void manager_vm_reattach(Vm *vm, virDomainPtr domain)
{
	uint64_t requested = vm->policy.requested_bytes, plugged = vm->policy.plugged_bytes;
	g_autoptr(GHashTable) plugged_by_alias = vm->plugged_by_alias; /* the old table */

	virDomainRef(domain);
	virDomainFree(vm->domain);
	vm->domain = domain;
	/* read_devices replaces the table's contents: keep a copy. */
	vm->plugged_by_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (manager_vm_read_devices(vm) < 0) {
		/* Logged; keep what omemd knew. */
		g_hash_table_unref(vm->plugged_by_alias);
		vm->plugged_by_alias = g_steal_pointer(&plugged_by_alias);
	} else if (vm->policy.plugged_bytes == 0 && plugged > 0 &&
		   vm->policy.requested_bytes == requested) {
		/* Right after its restart libvirtd may not have asked QEMU
		 * for the devices' sizes yet (<current> absent).  Nothing was
		 * unplugged: keep what the last event said until the next. */
		g_autofree char *kept = manager_size(plugged);

		omemd_log(OMEMD_LOG_INFO, "vm %s: libvirt reports no plugged size yet after the reconnect; keeping %s until its next size event",
			  vm->name, kept);
		g_hash_table_unref(vm->plugged_by_alias);
		vm->plugged_by_alias = g_steal_pointer(&plugged_by_alias);
		vm->policy.plugged_bytes = plugged;
		vm->status.plugged_bytes = plugged;
	}
	if (requested != vm->policy.requested_bytes) {
		g_autofree char *was = manager_size(requested);
		g_autofree char *now = manager_size(vm->policy.requested_bytes);

		omemd_log(OMEMD_LOG_INFO, "vm %s: requested is %s after the reconnect (omemd had %s)",
			  vm->name, now, was);
	}
	manager_vm_sync_arbiter(vm);
	/* The contract may have changed unseen; this also brings requested
	 * back inside it. */
	manager_vm_on_contract_change(vm);
	/* An attach that failed because libvirtd went away is tried again
	 * (the transport itself kept serving). */
	if (vm->link == VM_LINK_FAILED && !vm->frozen_by_omemd && !vm->manager->dry_run) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: trying the transport device again", vm->name);
		manager_link_release(vm);
		g_clear_pointer(&vm->socket_path, g_free);
		status_vm_set_note(&vm->status, NULL);
		manager_link_start(vm);
	}
}

void manager_vm_on_reboot(Vm *vm)
{
	/* Same QEMU process: the device and the requested size stay; the
	 * guest's module says HELLO again after its boot. */
	omemd_log(OMEMD_LOG_INFO, "vm %s: rebooted; requested size kept, waiting for a new HELLO", vm->name);
	vm->session_open = false;
	policy_shrink_goal_drop(&vm->shrink_goal); /* the guest starts afresh */
	manager_vm_set_session(vm, vm->link == VM_LINK_ATTACHED ? "connecting" : "none");
	if (!vm->frozen_by_omemd)
		vm->hello_deadline_ms = manager_now_ms() + vm->manager->config.hello_timeout_s * 1000ll;
	/* The requested size persisted through the reboot (same QEMU):
	 * nothing is reset, but what the guest said before is stale. */
	memset(&vm->report, 0, sizeof(vm->report));
	vm->surplus_at_ms = 0;
	vm->surplus_unplug = false;
	trust_reset(&vm->trust);
	manager_vm_trust_changed(vm);
	manager_vm_sync_arbiter(vm);
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
static void manager_vm_hold_at_min(Vm *vm)
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
		manager_vm_resize(vm, &result, "no HELLO");
	} else {
		status_vm_add_decision(&vm->status, manager_unix_ms(), "hold",
				       vm->policy.requested_bytes, note);
	}
}

void manager_vm_tick(Vm *vm, int64_t now_ms)
{
	PolicyConfig config;

	if (vm->hello_deadline_ms && now_ms >= vm->hello_deadline_ms && !vm->session_open &&
	    !vm->frozen_by_omemd)
		manager_vm_hold_at_min(vm);
	manager_policy_config(vm->manager, &config);
	if (policy_unplug_due(&vm->unplug, &config, now_ms)) {
		g_autofree char *plugged = manager_size(vm->policy.plugged_bytes);
		g_autofree char *requested = manager_size(vm->policy.requested_bytes);
		bool ok = manager_vm_reissue(vm);

		omemd_log(OMEMD_LOG_INFO, "vm %s: unplug stalled at %s plugged (requested %s) -> re-issued (attempt %u, next in %" G_GINT64_FORMAT " s)%s",
			  vm->name, plugged, requested, vm->unplug.reissues,
			  (vm->unplug.next_retry_ms - now_ms) / 1000, ok ? "" : " FAILED");
		manager_vm_surplus_judged(vm);
	}
	trust_update(&vm->trust, now_ms);
	manager_vm_trust_changed(vm);
	manager_vm_next_step(vm, now_ms);
}
