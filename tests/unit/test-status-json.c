/* SPDX-License-Identifier: MIT */
/*
 * test-status-json: omemd's status document (host-server/formats/status-json.c)
 * read back by virt-omem's own strict parser (docs/status.md), so the
 * writer and the reader cannot drift apart; plus the decision ring (8,
 * newest first) and the one-line rule for reasons.
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "formats/status-json.h"
#include "tap.h"
#include "virt-omem-status.h"

#define MIB (1024ull * 1024)

int main(void)
{
	StatusVm open_vm = { 0 }, quiet_vm = { 0 };
	const StatusVm *vms[] = { &open_vm, &quiet_vm };
	StatusHost host = { .pid = 42, .version = "0.1.0", .started_unix_ms = 1000,
			    .generated_unix_ms = 2000, .has_host = true,
			    .budget_bytes = 4096 * MIB, .committed_bytes = 1024 * MIB };
	g_autoptr(VirtOmemStatus) status = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL, *long_reason = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	const VirtOmemStatusVm *vm;
	JsonObject *root, *first;
	gsize length = 0;

	open_vm.name = g_strdup("web1");
	open_vm.uuid = g_strdup("6695eb01-f6a4-8304-79aa-97f2502e193f");
	open_vm.state = "running";
	open_vm.has_contract = true;
	open_vm.boot_bytes = 256 * MIB;
	open_vm.min_bytes = 256 * MIB;
	open_vm.cap_bytes = 1792 * MIB;
	open_vm.max_bytes = 1792 * MIB;
	open_vm.shares = 1000;
	open_vm.buffer_percent = 10;
	open_vm.has_memory = true;
	open_vm.requested_bytes = 512 * MIB;
	open_vm.plugged_bytes = 384 * MIB;
	open_vm.has_demand = true;
	open_vm.demand_bytes = 700 * MIB;
	open_vm.has_guest = true;
	open_vm.guest_total_bytes = 600 * MIB;
	open_vm.guest_free_bytes = 100 * MIB;
	open_vm.guest_available_bytes = 150 * MIB;
	open_vm.guest_reported_unix_ms = 1999;
	open_vm.has_session = true;
	open_vm.session_state = "open";
	open_vm.has_protocol_version = true;
	open_vm.protocol_version = 1;
	open_vm.generation = 3;
	open_vm.session_since_unix_ms = 1500;
	for (int i = 0; i < 10; i++) {
		g_autofree char *reason = g_strdup_printf("decision %d", i);

		status_vm_add_decision(&open_vm, 1000 + i, "grant", (uint64_t)i * MIB, reason);
	}
	long_reason = g_strnfill(300, 'x');
	long_reason[10] = '\n';
	status_vm_add_decision(&open_vm, 1100, "shrink", 256 * MIB, long_reason);
	status_vm_set_note(&open_vm, "held\tat min");

	quiet_vm.name = g_strdup("batch7");
	quiet_vm.uuid = g_strdup("0b7a1c9e-3d52-4c4f-9f0e-5a2d8e1f6c33");
	quiet_vm.has_session = true;
	quiet_vm.session_state = "connecting";

	tap_eq(open_vm.n_decisions, STATUS_DECISIONS_MAX, "at most 8 decisions kept");
	tap_ok(!strcmp(open_vm.decisions[0].action, "shrink"), "newest first");
	tap_ok(!strcmp(open_vm.decisions[1].reason, "decision 9"), "... then the one before");
	tap_ok(!strcmp(open_vm.decisions[7].reason, "decision 3"), "... the oldest beyond 8 dropped");
	tap_eq(g_utf8_strlen(open_vm.decisions[0].reason, -1), STATUS_REASON_MAX,
	       "a reason is cut to 200 characters");
	tap_ok(!strchr(open_vm.decisions[0].reason, '\n'), "... and kept on one line");
	tap_ok(!strcmp(open_vm.note, "held at min"), "notes lose control characters too");

	text = status_json_format(&host, vms, 2, &length);
	tap_ok(text && length == strlen(text), "the document is formatted");
	status = virt_omem_status_parse(text, length, &error);
	if (!tap_ok(status != NULL, "virt-omem's strict parser reads it"))
		tap_diag("%s\n%s", error->message, text);
	if (!status)
		return tap_done();
	tap_eq(status->version, 1, "version 1");
	tap_ok(status->has_host, "host present");
	tap_eq(status->host_budget_bytes, 4096 * MIB, "host budget");
	tap_eq(status->host_committed_bytes, 1024 * MIB, "host committed");
	tap_eq(status->host_available_bytes, 3072 * MIB, "host available = budget - committed");
	tap_eq(status->vms->len, 2, "two VMs");
	vm = virt_omem_status_find(status, "6695eb01-f6a4-8304-79aa-97f2502e193f", NULL);
	tap_ok(vm && !strcmp(vm->name, "web1"), "found by UUID");
	tap_eq(vm->requested_bytes, 512 * MIB, "requested");
	tap_eq(vm->plugged_bytes, 384 * MIB, "plugged");
	tap_ok(vm->has_demand && vm->demand_bytes == 700 * MIB, "demand");
	tap_ok(vm->has_guest && vm->guest_available_bytes == 150 * MIB, "guest figures");
	tap_ok(!strcmp(vm->session_state, "open"), "session state");
	tap_ok(vm->last_decision && !strcmp(vm->last_decision->action, "shrink"), "last decision");
	vm = virt_omem_status_find(status, "0b7a1c9e-3d52-4c4f-9f0e-5a2d8e1f6c33", NULL);
	tap_ok(vm && !vm->has_demand && !vm->has_guest, "a quiet VM: demand and guest null");
	tap_ok(vm && !strcmp(vm->session_state, "connecting"), "... session connecting");
	tap_ok(vm && !vm->last_decision, "... no decision");

	/* Members virt-omem does not read, checked with a plain parser. */
	tap_ok(json_parser_load_from_data(parser, text, (gssize)length, NULL), "plain JSON");
	root = json_node_get_object(json_parser_get_root(parser));
	first = json_array_get_object_element(json_object_get_array_member(root, "vms"), 0);
	tap_eq(json_object_get_int_member(first, "total_bytes"), 640 * MIB, "total_bytes = boot + plugged");
	tap_eq(json_object_get_int_member(json_object_get_object_member(first, "session"), "generation"), 3,
	       "session generation");
	tap_ok(!strcmp(json_object_get_string_member(first, "note"), "held at min"), "note");
	tap_eq(json_object_get_int_member(json_object_get_object_member(root, "omemd"), "pid"), 42, "omemd pid");

	status_vm_clear(&open_vm);
	status_vm_clear(&quiet_vm);
	tap_ok(open_vm.name == NULL && open_vm.n_decisions == 0, "clear empties the record");
	return tap_done();
}
