/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for virt-omem's reader of omemd's status document
 * (libvirt-driver/virt-omem/virt-omem-status.c, docs/status.md): the input
 * is the text omemd would send, given to virt_omem_status_parse in a heap
 * copy exactly as long as it, without a terminating NUL, so any read past
 * it is an AddressSanitizer report.  Oracles, reported with abort():
 *   - a refusal returns NULL with one error of the status domain, code
 *     INVALID or VERSION and a message of one non-empty line of UTF-8, and leaves the
 *     caller's input bytes as they were; a NULL error pointer is allowed;
 *   - an accepted document held no NUL byte, nests no deeper than
 *     VIRT_OMEM_STATUS_MAX_DEPTH (measured here on json-glib's own tree),
 *     is version VIRT_OMEM_STATUS_VERSION, has no more VMs than its bytes
 *     allow, every VM a name, every string valid UTF-8, every figure a
 *     non-negative 64-bit integer; virt_omem_status_find, asked for each
 *     VM's UUID and name, finds a VM that answers to them; a second parse gives the same VMs.
 * tests/fuzz/corpus/status/ holds the seeds (docs/fuzzing.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "virt-omem-status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Smallest text of one VM, {"name":""} plus a comma. */
#define FUZZ_STATUS_MIN_VM_BYTES 12

/* Deepest object/array nesting of @node, counting @node itself. */
static unsigned int fuzz_status_depth(JsonNode *node)
{
	unsigned int deepest = 0;

	if (JSON_NODE_HOLDS_OBJECT(node)) {
		g_autoptr(GList) members = json_object_get_values(json_node_get_object(node));

		for (GList *l = members; l; l = l->next)
			deepest = MAX(deepest, fuzz_status_depth(l->data));
		return deepest + 1;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++)
			deepest = MAX(deepest, fuzz_status_depth(json_array_get_element(array, i)));
		return deepest + 1;
	}
	return 0;
}

static void fuzz_status_string(const char *text, bool optional)
{
	if (!text ? !optional : !g_utf8_validate(text, -1, NULL))
		abort();
}

static void fuzz_status_accepted(const VirtOmemStatus *status, const char *text, size_t length)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(VirtOmemStatus) again = NULL;

	if (memchr(text, '\0', length) || status->version != VIRT_OMEM_STATUS_VERSION ||
	    !status->vms || status->vms->len > length / FUZZ_STATUS_MIN_VM_BYTES + 1 ||
	    status->generated_unix_ms < 0 || status->host_budget_bytes > INT64_MAX ||
	    status->host_committed_bytes > INT64_MAX || status->host_available_bytes > INT64_MAX ||
	    (!status->has_host && (status->host_budget_bytes || status->host_committed_bytes ||
				   status->host_available_bytes)))
		abort();
	if (!json_parser_load_from_data(parser, text, (gssize)length, NULL) ||
	    fuzz_status_depth(json_parser_get_root(parser)) > VIRT_OMEM_STATUS_MAX_DEPTH)
		abort();
	for (guint i = 0; i < status->vms->len; i++) {
		const VirtOmemStatusVm *vm = g_ptr_array_index(status->vms, i);
		const VirtOmemStatusVm *found = virt_omem_status_find(status, vm->uuid, vm->name);

		fuzz_status_string(vm->name, false);
		fuzz_status_string(vm->uuid, true);
		fuzz_status_string(vm->session_state, true);
		if (vm->requested_bytes > INT64_MAX || vm->plugged_bytes > INT64_MAX ||
		    vm->demand_bytes > INT64_MAX || vm->guest_total_bytes > INT64_MAX ||
		    vm->guest_free_bytes > INT64_MAX || vm->guest_available_bytes > INT64_MAX ||
		    (!vm->has_demand && vm->demand_bytes) ||
		    (!vm->has_guest && (vm->guest_total_bytes || vm->guest_free_bytes ||
					vm->guest_available_bytes)))
			abort();
		if (vm->last_decision) {
			fuzz_status_string(vm->last_decision->action, false);
			fuzz_status_string(vm->last_decision->reason, true);
			if (vm->last_decision->at_unix_ms < 0 ||
			    vm->last_decision->target_bytes > INT64_MAX)
				abort();
		}
		/* A VM that answers to the query: the same UUID when both have
		 * one, else the same name (the first such, in document order). */
		if (!found || (found->uuid && vm->uuid ? g_ascii_strcasecmp(found->uuid, vm->uuid)
						       : g_strcmp0(found->name, vm->name)))
			abort();
	}
	again = virt_omem_status_parse(text, length, NULL);
	if (!again || again->vms->len != status->vms->len)
		abort();
	for (guint i = 0; i < status->vms->len; i++) {
		const VirtOmemStatusVm *a = g_ptr_array_index(status->vms, i);
		const VirtOmemStatusVm *b = g_ptr_array_index(again->vms, i);

		if (strcmp(a->name, b->name) || g_strcmp0(a->uuid, b->uuid) ||
		    a->requested_bytes != b->requested_bytes || a->plugged_bytes != b->plugged_bytes)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_memdup2(data, size);
	g_autoptr(GError) error = NULL;
	g_autoptr(VirtOmemStatus) status = NULL;
	g_autoptr(VirtOmemStatus) quiet = NULL;

	if (size > VIRT_OMEM_STATUS_MAX_BYTES)
		return 0;
	status = virt_omem_status_parse(text, size, &error);
	if (size && memcmp(text, data, size))
		abort();
	if (!status) {
		if (!error || error->domain != VIRT_OMEM_STATUS_ERROR ||
		    (error->code != VIRT_OMEM_STATUS_ERROR_INVALID &&
		     error->code != VIRT_OMEM_STATUS_ERROR_VERSION) ||
		    !error->message || !*error->message || strchr(error->message, '\n') ||
		    !g_utf8_validate(error->message, -1, NULL))
			abort();
		quiet = virt_omem_status_parse(text, size, NULL);
		if (quiet)
			abort();
		return 0;
	}
	if (error)
		abort();
	fuzz_status_accepted(status, text, size);
	return 0;
}
