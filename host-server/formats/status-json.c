/* SPDX-License-Identifier: MIT */
/*
 * status-json: the status document of docs/status.md (see status-json.h).
 */
#include "config.h"

#include "formats/status-json.h"

#include <math.h>

#include <string.h>

#include <json-glib/json-glib.h>

/* One line, control characters replaced, at most STATUS_REASON_MAX
 * characters (UTF-8 aware). */
static char *status_one_line(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	char *line;

	for (char *p = valid; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	line = g_utf8_substring(valid, 0, MIN(g_utf8_strlen(valid, -1), STATUS_REASON_MAX));
	return line;
}

void status_vm_add_decision(StatusVm *vm, int64_t at_unix_ms, const char *action,
			    uint64_t target_bytes, const char *reason)
{
	if (vm->n_decisions == STATUS_DECISIONS_MAX)
		g_free(vm->decisions[--vm->n_decisions].reason);
	memmove(&vm->decisions[1], &vm->decisions[0], vm->n_decisions * sizeof(vm->decisions[0]));
	vm->decisions[0] = (StatusDecision){
		.at_unix_ms = at_unix_ms,
		.action = action,
		.target_bytes = target_bytes,
		.reason = reason ? status_one_line(reason) : NULL,
	};
	vm->n_decisions++;
}

void status_vm_set_note(StatusVm *vm, const char *note)
{
	g_free(vm->note);
	vm->note = note ? status_one_line(note) : NULL;
}

void status_vm_clear(StatusVm *vm)
{
	g_free(vm->name);
	g_free(vm->uuid);
	g_free(vm->note);
	for (unsigned i = 0; i < vm->n_decisions; i++)
		g_free(vm->decisions[i].reason);
	memset(vm, 0, sizeof(*vm));
}

/* json-glib's builder takes gint64; sizes stay far below 2^63. */
static void status_member_int(JsonBuilder *builder, const char *name, uint64_t value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_int_value(builder, value > G_MAXINT64 ? G_MAXINT64 : (gint64)value);
}

static void status_member_null(JsonBuilder *builder, const char *name)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_null_value(builder);
}

static void status_member_string(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_string_value(builder, value);
}

static void status_format_vm(JsonBuilder *builder, const StatusVm *vm)
{
	json_builder_begin_object(builder);
	status_member_string(builder, "name", vm->name ? vm->name : "");
	if (vm->uuid)
		status_member_string(builder, "uuid", vm->uuid);
	if (vm->state)
		status_member_string(builder, "state", vm->state);
	if (vm->has_contract) {
		json_builder_set_member_name(builder, "contract");
		json_builder_begin_object(builder);
		status_member_int(builder, "boot_bytes", vm->boot_bytes);
		status_member_int(builder, "min_bytes", vm->min_bytes);
		status_member_int(builder, "cap_bytes", vm->cap_bytes);
		status_member_int(builder, "max_bytes", vm->max_bytes);
		status_member_int(builder, "shares", vm->shares);
		status_member_int(builder, "buffer_percent", vm->buffer_percent);
		json_builder_set_member_name(builder, "frozen");
		json_builder_add_boolean_value(builder, vm->frozen);
		json_builder_set_member_name(builder, "drain");
		json_builder_add_boolean_value(builder, vm->drain);
		json_builder_end_object(builder);
	}
	if (vm->has_memory) {
		status_member_int(builder, "requested_bytes", vm->requested_bytes);
		status_member_int(builder, "plugged_bytes", vm->plugged_bytes);
		if (vm->has_contract)
			status_member_int(builder, "total_bytes", vm->boot_bytes + vm->plugged_bytes);
	}
	if (vm->has_demand)
		status_member_int(builder, "demand_bytes", vm->demand_bytes);
	else
		status_member_null(builder, "demand_bytes");
	if (vm->has_guest) {
		json_builder_set_member_name(builder, "guest");
		json_builder_begin_object(builder);
		status_member_int(builder, "mem_total_bytes", vm->guest_total_bytes);
		status_member_int(builder, "mem_free_bytes", vm->guest_free_bytes);
		status_member_int(builder, "mem_available_bytes", vm->guest_available_bytes);
		status_member_int(builder, "reported_unix_ms", (uint64_t)vm->guest_reported_unix_ms);
		json_builder_end_object(builder);
	} else {
		status_member_null(builder, "guest");
	}
	if (vm->has_session) {
		json_builder_set_member_name(builder, "session");
		json_builder_begin_object(builder);
		status_member_string(builder, "state", vm->session_state ? vm->session_state : "none");
		if (vm->has_protocol_version)
			status_member_int(builder, "protocol_version", vm->protocol_version);
		else
			status_member_null(builder, "protocol_version");
		status_member_int(builder, "generation", vm->generation);
		status_member_int(builder, "since_unix_ms", (uint64_t)vm->session_since_unix_ms);
		json_builder_end_object(builder);
	} else {
		status_member_null(builder, "session");
	}
	if (vm->has_arbiter) {
		json_builder_set_member_name(builder, "arbiter");
		json_builder_begin_object(builder);
		status_member_int(builder, "charge_bytes", vm->charge_bytes);
		status_member_int(builder, "fair_share_bytes", vm->fair_share_bytes);
		/* At its floor a VM has nothing to give: claim is infinite,
		 * which JSON cannot say. */
		if (isfinite(vm->claim)) {
			json_builder_set_member_name(builder, "claim");
			json_builder_add_double_value(builder, vm->claim);
		} else {
			status_member_null(builder, "claim");
		}
		if (vm->waiting)
			status_member_int(builder, "waiting_bytes", vm->waiting_bytes);
		else
			status_member_null(builder, "waiting_bytes");
		if (vm->reclaim_pending)
			status_member_int(builder, "reclaim_target_bytes", vm->reclaim_target_bytes);
		else
			status_member_null(builder, "reclaim_target_bytes");
		json_builder_end_object(builder);
	}
	if (vm->note)
		status_member_string(builder, "note", vm->note);
	json_builder_set_member_name(builder, "decisions");
	json_builder_begin_array(builder);
	for (unsigned i = 0; i < vm->n_decisions; i++) {
		const StatusDecision *decision = &vm->decisions[i];

		json_builder_begin_object(builder);
		status_member_int(builder, "at_unix_ms", (uint64_t)decision->at_unix_ms);
		status_member_string(builder, "action", decision->action);
		status_member_int(builder, "target_bytes", decision->target_bytes);
		if (decision->reason)
			status_member_string(builder, "reason", decision->reason);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
}

char *status_json_format(const StatusHost *host, const StatusVm *const *vms, unsigned n_vms,
			 gsize *ret_length)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	status_member_int(builder, "version", 1);
	status_member_int(builder, "generated_unix_ms", (uint64_t)host->generated_unix_ms);
	json_builder_set_member_name(builder, "omemd");
	json_builder_begin_object(builder);
	status_member_int(builder, "pid", (uint64_t)host->pid);
	status_member_string(builder, "version", host->version);
	status_member_int(builder, "started_unix_ms", (uint64_t)host->started_unix_ms);
	json_builder_end_object(builder);
	if (host->has_host) {
		json_builder_set_member_name(builder, "host");
		json_builder_begin_object(builder);
		status_member_int(builder, "budget_bytes", host->budget_bytes);
		status_member_int(builder, "committed_bytes", host->committed_bytes);
		status_member_int(builder, "available_bytes",
				  host->budget_bytes > host->committed_bytes ?
				  host->budget_bytes - host->committed_bytes : 0);
		if (host->has_arbiter) {
			status_member_int(builder, "reserved_bytes", host->reserved_bytes);
			status_member_int(builder, "pool_bytes", host->pool_bytes);
			status_member_int(builder, "held_bytes", host->held_bytes);
			json_builder_set_member_name(builder, "short");
			json_builder_add_boolean_value(builder, host->host_short);
			if (host->host_known) {
				status_member_int(builder, "mem_available_bytes", host->mem_available_bytes);
				status_member_int(builder, "psi_some_avg10_centi", host->psi_some_avg10);
			} else {
				status_member_null(builder, "mem_available_bytes");
				status_member_null(builder, "psi_some_avg10_centi");
			}
		}
		json_builder_end_object(builder);
	} else {
		status_member_null(builder, "host");
	}
	json_builder_set_member_name(builder, "vms");
	json_builder_begin_array(builder);
	for (unsigned i = 0; i < n_vms; i++)
		status_format_vm(builder, vms[i]);
	json_builder_end_array(builder);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	json_generator_set_pretty(generator, TRUE);
	return json_generator_to_data(generator, ret_length);
}
