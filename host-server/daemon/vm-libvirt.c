/* SPDX-License-Identifier: MIT */
/*
 * vm-libvirt.c: one VM as libvirt shows it, on the main thread:
 * found (contract and devices read from the live XML), its requested size
 * set or an unplug re-issued, its size-change and metadata events
 * followed, a resize made outside omemd adopted as the cap, and a fresh
 * domain handle after libvirtd came back.  vm.c has the guest
 * side.
 */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "daemon/manager-private.h"
#include "omem-virt.h"
#include "daemon/omemd-log.h"


/* @domain's live XML: its virtio-mem figures and devices (at least one).
 * Returns 0, or -1 with the reason logged at @level. */
static int vm_live_memory_of(virDomainPtr domain, const char *name, OmemdLogLevel level,
			     OmemMemoryState *ret_state, OmemMemoryDevice **ret_devices)
{
	g_autofree char *xml = virDomainGetXMLDesc(domain, 0);
	OmemMemoryDevice *devices = NULL;
	OmemMemoryState state;

	if (!xml) {
		omemd_log(level, "vm %s: cannot read its live XML: %s", name,
			  virGetLastErrorMessage());
		return -1;
	}
	if (omem_domain_xml_memory_state(xml, &state, ret_devices ? &devices : NULL) < 0) {
		omemd_log(level, "vm %s: cannot read its virtio-mem devices: %s", name,
			  omem_error_last_message());
		return -1;
	}
	if (state.devices == 0) {
		omemd_log(level, "vm %s: cannot read its virtio-mem devices: none in the live XML", name);
		return -1;
	}
	*ret_state = state;
	if (ret_devices)
		*ret_devices = devices;
	return 0;
}

static int vm_live_memory(Vm *vm, OmemdLogLevel level, OmemMemoryState *ret_state,
			  OmemMemoryDevice **ret_devices)
{
	return vm_live_memory_of(vm->domain, vm->name, level, ret_state, ret_devices);
}

/* The devices' figures as libvirt gave them (requested, plugged per
 * alias, block) into the VM. */
static void vm_take_devices(Vm *vm, const OmemMemoryState *state, const OmemMemoryDevice *devices)
{
	g_hash_table_remove_all(vm->plugged_by_alias);
	for (unsigned int i = 0; i < state->devices; i++) {
		guint64 *value = g_new(guint64, 1);

		*value = devices[i].plugged_bytes;
		g_hash_table_insert(vm->plugged_by_alias,
				    g_strdup(devices[i].alias ? devices[i].alias : "(none)"), value);
	}
	vm->policy.requested_bytes = state->requested_bytes;
	vm->libvirt_requested_bytes = state->requested_bytes;
	vm->policy.plugged_bytes = state->plugged_bytes;
	vm->policy.block_bytes = state->block_bytes;
	vm->status.has_memory = true;
	vm->status.requested_bytes = state->requested_bytes;
	vm->status.plugged_bytes = state->plugged_bytes;
}

/* Copy a validated contract into the VM's policy view and status. */
static void vm_take_contract(Vm *vm, const OmemContract *contract)
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
	vm->status.shares = vm->shares;
	vm->status.buffer_percent = vm->policy.buffer_percent;
	vm->status.frozen = vm->policy.frozen;
	vm->status.drain = vm->drain;
}

Vm *vm_new(Manager *manager, const char *name, const char *uuid, const OmemContract *contract,
	    const OmemMemoryState *state, const OmemMemoryDevice *devices)
{
	Vm *vm = g_new0(Vm, 1);

	vm->refs = 1;
	vm->manager = manager;
	vm->uuid = g_strdup(uuid);
	vm->name = g_strdup(name);
	vm->plugged_by_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vm->status.name = g_strdup(name);
	vm->status.uuid = g_strdup(uuid);
	vm->status.state = "running";
	vm->status.has_session = true;
	vm->status.session_state = "none";
	vm->status.session_since_unix_ms = manager_unix_ms();
	vm_take_contract(vm, contract);
	vm_take_devices(vm, state, devices);
	return vm;
}

Vm *vm_discover(Manager *manager, virDomainPtr domain)
{
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(Vm) vm = NULL;
	const OmemError *error;
	char uuid[VIR_UUID_STRING_BUFLEN];
	const char *name = virDomainGetName(domain);
	OmemMemoryDevice *devices = NULL;
	OmemMemoryState state;

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
	if (vm_live_memory_of(domain, name, OMEMD_LOG_WARNING, &state, &devices) < 0)
		return NULL;
	vm = vm_new(manager, name, uuid, contract, &state, devices);
	omem_memory_devices_free(devices, state.devices);
	vm->domain = domain;
	virDomainRef(domain);
	vm_actuator_start(vm);
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

/* Someone resized the device behind omemd's back (`virsh
 * update-memory-device`): the requested size in libvirt, @theirs (read
 * by the actuator after a size event, with no resize of omemd's
 * waiting), is not the one omemd set.  An operator who does that means
 * "this VM gets this much": omemd adopts it as the VM's cap (never below
 * min, never above max), writes the cap into the contract metadata so
 * that it survives an omemd restart and shows in virt-omem, and logs
 * that it did. */
static void vm_check_foreign(Vm *vm, uint64_t theirs)
{
	Manager *manager = vm->manager;
	g_autoptr(OmemContract) contract = NULL;
	uint64_t cap;
	g_autofree char *theirs_text = NULL, *ours_text = NULL, *cap_text = NULL, *note = NULL;

	if (manager->dry_run || !manager->conn || vm->frozen_by_omemd ||
	    theirs == vm->policy.requested_bytes)
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
	vm->libvirt_requested_bytes = theirs;
	vm->unplug.active = false;
	policy_shrink_goal_drop(&vm->shrink_goal);
	/* The cap applies here now, before and whatever the write into the
	 * contract (the arbiter must not see a VM above its ceiling). */
	vm->policy.cap_bytes = cap;
	vm->status.cap_bytes = cap;
	vm_contract_to_arbiter(vm);
	vm_sync_arbiter(vm);
	vm_link_publish_contract(vm);
	/* Reading the metadata takes no job of the domain's; writing it does,
	 * so the write goes to the actuator. */
	if (omem_contract_get(vm->domain, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot read the contract to adopt the cap: %s; cap %s holds until omemd restarts",
			  vm->name, omem_error_last_message(), cap_text);
		return;
	}
	omem_contract_set_cap(contract, cap);
	if (omem_contract_validate(contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot adopt cap %s: %s", vm->name, cap_text,
			  omem_error_last_message());
		return;
	}
	actuator_write_cap(vm->actuator, cap);
	vm_take_contract(vm, contract);
	vm_contract_to_arbiter(vm);
	vm_link_publish_contract(vm);
}

/* What the VM's actuator did (main thread). */
static void vm_on_actuated(void *owner, const ActuatorResult *result)
{
	Vm *vm = owner;
	Manager *manager = vm->manager;

	if (vm->gone)
		return;
	vm->actuator_stuck_logged = false;
	if (result->kind == ACTUATOR_SET || result->kind == ACTUATOR_REISSUE)
		metrics_observe_libvirt_resize(manager->metrics,
					       (double)(result->finished_us - result->queued_us) / 1e6);
	if (result->finished_us - result->started_us >= VM_ACTUATOR_SLOW_MS * 1000ll)
		omemd_log(OMEMD_LOG_WARNING, "vm %s: libvirt took %.1f s for one call (%s); other VMs were not held up",
			  vm->name, (double)(result->finished_us - result->started_us) / 1e6,
			  result->ok ? "done" : "failed");
	switch (result->kind) {
	case ACTUATOR_SET:
		if (result->ok) {
			vm->libvirt_requested_bytes = result->bytes;
			return;
		}
		metrics_count_libvirt_error(manager->metrics);
		omemd_log(OMEMD_LOG_ERROR, "vm %s: cannot set the requested size to %" G_GUINT64_FORMAT " bytes: %s",
			  vm->name, result->bytes, result->error);
		if (result->requested_known)
			vm->libvirt_requested_bytes = result->requested_bytes;
		if (result->superseded || !result->requested_known)
			return; /* a newer size is on its way, or nothing is known */
		if (vm->policy.boot_bytes + result->requested_bytes > vm->policy.cap_bytes) {
			/* Above the cap: omemd never asked for that, so someone
			 * resized the device meanwhile (its size event's read was
			 * overtaken by this call): adopted as a resize outside
			 * omemd is. */
			vm_check_foreign(vm, result->requested_bytes);
			return;
		}
		if (result->requested_bytes != vm->policy.requested_bytes) {
			g_autofree char *holds = manager_size(result->requested_bytes);
			g_autofree char *note = g_strdup_printf("libvirt refused the resize: %s", result->error);

			omemd_log(OMEMD_LOG_INFO, "vm %s: requested stays %s, the size libvirt holds", vm->name, holds);
			status_vm_add_decision(&vm->status, manager_unix_ms(), "hold", result->requested_bytes, note);
			vm->policy.requested_bytes = result->requested_bytes;
			vm->status.requested_bytes = result->requested_bytes;
			vm->unplug.active = false;
			vm->surplus_unplug = false;
			if (vm->plug_started_us && vm->policy.plugged_bytes >= result->requested_bytes)
				vm->plug_started_us = 0;
			/* The arbiter booked the old size: give it back. */
			vm_sync_arbiter(vm);
		}
		return;
	case ACTUATOR_REISSUE:
		if (!result->ok)
			omemd_log(OMEMD_LOG_WARNING, "vm %s: re-issuing the unplug failed: %s", vm->name,
				  result->error);
		return;
	case ACTUATOR_READ:
		if (!result->ok)
			omemd_log(OMEMD_LOG_DEBUG, "vm %s: cannot read the requested size: %s", vm->name,
				  result->error);
		else if (!result->superseded && !actuator_set_pending(vm->actuator))
			vm_check_foreign(vm, result->requested_bytes);
		return;
	case ACTUATOR_CAP:
		if (!result->ok)
			omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot write the adopted cap into the contract: %s",
				  vm->name, result->error);
		return;
	}
}

static void vm_domain_free(gpointer domain)
{
	virDomainFree(domain);
}

void vm_actuator_start(Vm *vm)
{
	if (vm->manager->dry_run)
		return;
	actuator_close(vm->actuator);
	if (vm->manager->actuator_ops) {
		/* libvirt replaced (tests): the calls get the VM's id. */
		vm->actuator = actuator_new(vm->manager->actuator_ops, GSIZE_TO_POINTER(vm->id), NULL,
					    vm_on_actuated, vm);
		return;
	}
	virDomainRef(vm->domain);
	vm->actuator = actuator_new(actuator_libvirt_ops(), vm->domain, vm_domain_free,
				    vm_on_actuated, vm);
}

/* Change the devices' requested size.  In a dry run only the decision is
 * logged. */
bool vm_set_requested(Vm *vm, uint64_t requested_bytes)
{
	if (vm->manager->dry_run)
		return true;
	if (!vm->manager->conn || !vm->actuator) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: cannot set the requested size while libvirtd is away",
			  vm->name);
		return false;
	}
	if (requested_bytes != vm->policy.requested_bytes)
		metrics_count_resize(vm->manager->metrics, requested_bytes > vm->policy.requested_bytes ?
				     METRICS_RESIZE_GROW : METRICS_RESIZE_SHRINK);
	vm->policy.requested_bytes = requested_bytes;
	vm->status.requested_bytes = requested_bytes;
	actuator_set(vm->actuator, requested_bytes);
	return true;
}

/* Re-send the unplugging devices' requested size unchanged: QEMU then
 * tells the guest again, and its virtio_mem retries a stalled unplug at
 * once instead of ~50 s later (measured; docs/omemd.md). */
bool vm_reissue(Vm *vm)
{
	if (vm->manager->dry_run)
		return true;
	if (!vm->manager->conn || !vm->actuator)
		return false;
	actuator_reissue(vm->actuator);
	return true;
}

void vm_on_size_change(Vm *vm, const char *alias, uint64_t plugged_bytes)
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
	vm_link_publish_contract(vm);
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
	/* Any resize causes a size event: is libvirt's requested still
	 * omemd's?  Asked only when no resize of omemd's is on its way. */
	if (vm->actuator && !vm->frozen_by_omemd && !actuator_set_pending(vm->actuator))
		actuator_read(vm->actuator);
	vm_sync_arbiter(vm);
	vm_next_step(vm, manager_now_ms());
}

void vm_on_contract_change(Vm *vm)
{
	g_autoptr(OmemContract) contract = NULL;
	g_autofree char *min = NULL, *cap = NULL;

	if (omem_contract_get(vm->domain, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0 ||
	    omem_contract_validate(contract) < 0) {
		omemd_log(OMEMD_LOG_WARNING, "vm %s: its new contract cannot be used, keeping the old one: %s",
			  vm->name, omem_error_last_message());
		return;
	}
	vm_take_contract(vm, contract);
	vm_link_publish_contract(vm);
	policy_shrink_goal_drop(&vm->shrink_goal); /* sized under the old contract */
	min = manager_size(vm->policy.min_bytes);
	cap = manager_size(vm->policy.cap_bytes);
	omemd_log(OMEMD_LOG_INFO, "vm %s: contract: min %s, cap %s, shares %u%s%s", vm->name, min, cap,
		  vm->shares, vm->policy.frozen ? ", frozen" : "", vm->drain ? ", draining to min" : "");
	vm_contract_to_arbiter(vm);
}

void vm_devices_reread(Vm *vm, const OmemMemoryState *state, const OmemMemoryDevice *devices)
{
	uint64_t requested = vm->policy.requested_bytes, plugged = vm->policy.plugged_bytes;
	g_autoptr(GHashTable) plugged_by_alias = vm->plugged_by_alias; /* the old table */
	PolicyConfig config;

	vm->plugged_by_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vm_take_devices(vm, state, devices);
	if (vm->policy.plugged_bytes == 0 && plugged > 0 && vm->policy.requested_bytes == requested) {
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
	/* The size events of the time libvirtd was away are lost: what the
	 * devices plugged or unplugged meanwhile counts now, or an unplug
	 * done while it was away would be followed as stalled (re-issued,
	 * and judged against the guest) for ever. */
	manager_policy_config(vm->manager, &config);
	policy_unplug_progress(&vm->unplug, &config, vm->policy.plugged_bytes, manager_now_ms());
	if (vm->surplus_unplug && !vm->unplug.active)
		vm->surplus_unplug = false;
	if (vm->plug_started_us && vm->policy.plugged_bytes >= vm->plug_target_bytes) {
		vm->plug_started_us = 0;
		trust_plugged(&vm->trust, manager_now_ms());
	}
	vm_link_publish_contract(vm);
}

void vm_reattach(Vm *vm, virDomainPtr domain)
{
	OmemMemoryDevice *devices = NULL;
	OmemMemoryState state;

	virDomainRef(domain);
	virDomainFree(vm->domain);
	vm->domain = domain;
	vm_actuator_start(vm); /* calls on the old connection end in its thread */
	/* A failure is logged; omemd keeps what it knew. */
	if (vm_live_memory(vm, OMEMD_LOG_WARNING, &state, &devices) == 0) {
		vm_devices_reread(vm, &state, devices);
		omem_memory_devices_free(devices, state.devices);
	}
	vm_sync_arbiter(vm);
	/* The contract may have changed unseen; this also brings requested
	 * back inside it. */
	vm_on_contract_change(vm);
	/* An attach that failed because libvirtd went away is tried again
	 * (the transport itself kept serving). */
	if (vm->link == VM_LINK_FAILED && !vm->frozen_by_omemd && !vm->manager->dry_run) {
		omemd_log(OMEMD_LOG_INFO, "vm %s: trying the transport device again", vm->name);
		vm_link_release(vm);
		g_clear_pointer(&vm->socket_path, g_free);
		status_vm_set_note(&vm->status, NULL);
		vm_link_start(vm);
	}
}
