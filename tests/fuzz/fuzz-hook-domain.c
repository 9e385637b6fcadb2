/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what libvirt's qemu hook (host-server/hook/
 * omem-qemu-hook.c) reads of the domain XML it gets on stdin, through
 * libomem-virt's public readers: omem_contract_from_domain_xml (then
 * omem_contract_validate), omem_domain_xml_uuid and
 * omem_domain_xml_memory_state, in the hook's order.  The input is the
 * XML, NUL-terminated in a heap copy exactly one byte longer (the hook
 * refuses XML holding a NUL before it parses).  Oracles, reported with
 * abort():
 *   - a refusal returns -1 with one error record whose message is one
 *     non-empty line, and leaves every output exactly as it was;
 *   - success leaves no error record; a UUID is valid UTF-8 no longer than
 *     the input;
 *   - an accepted memory state adds up: one device entry per device, the
 *     devices' sizes, requests and plugged figures summed without wrapping,
 *     none above its device's size, the block the largest device block
 *     (0 without devices);
 *   - a contract that validates keeps 0 < boot <= min <= cap <= max, and,
 *     with a canonical UUID and a power-of-two block from that XML, gives
 *     the admission request the hook sends (admission_request_format
 *     accepts it), so no valid domain leaves the hook unable to ask.
 * tests/fuzz/corpus/hook-domain/ holds the seeds (docs/fuzzing.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "formats/admission.h"
#include "omem-virt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal: -1 and one error record of one non-empty line. */
static void fuzz_hook_domain_refused(int r)
{
	const OmemError *error = omem_error_last();

	if (r != -1 || !error || !error->message || !*error->message ||
	    strchr(error->message, '\n') || !g_utf8_validate(error->message, -1, NULL))
		abort();
}

static void fuzz_hook_domain_succeeded(int r)
{
	if (r != 0 || omem_error_last())
		abort();
}

static bool fuzz_hook_domain_canonical_uuid(const char *uuid)
{
	if (strlen(uuid) != ADMISSION_UUID_LENGTH)
		return false;
	for (int i = 0; i < ADMISSION_UUID_LENGTH; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uuid[i] != '-' : !g_ascii_isxdigit(uuid[i]))
			return false;
	}
	return true;
}

static void fuzz_hook_domain_memory(const char *xml, OmemMemoryState *ret_state)
{
	OmemMemoryState state, untouched;
	OmemMemoryDevice *devices = (OmemMemoryDevice *)&untouched;
	unsigned long long size = 0, requested = 0, plugged = 0, block = 0;
	int r;

	memset(&state, 0xa5, sizeof(state));
	untouched = state;
	omem_error_reset();
	r = omem_domain_xml_memory_state(xml, &state, &devices);
	if (r < 0) {
		fuzz_hook_domain_refused(r);
		if (memcmp(&state, &untouched, sizeof(state)) || devices != (OmemMemoryDevice *)&untouched)
			abort();
		memset(ret_state, 0, sizeof(*ret_state));
		return;
	}
	fuzz_hook_domain_succeeded(r);
	if (state.devices && !devices)
		abort();
	for (unsigned int i = 0; i < state.devices; i++) {
		if (devices[i].requested_bytes > devices[i].size_bytes ||
		    devices[i].plugged_bytes > devices[i].size_bytes ||
		    __builtin_add_overflow(size, devices[i].size_bytes, &size) ||
		    __builtin_add_overflow(requested, devices[i].requested_bytes, &requested) ||
		    __builtin_add_overflow(plugged, devices[i].plugged_bytes, &plugged))
			abort();
		block = MAX(block, devices[i].block_bytes);
	}
	if (size != state.device_bytes || requested != state.requested_bytes ||
	    plugged != state.plugged_bytes || block != state.block_bytes)
		abort();
	omem_memory_devices_free(devices, state.devices);
	*ret_state = state;
}

static void fuzz_hook_domain_request(const OmemContract *contract, const char *uuid,
				     const OmemMemoryState *state)
{
	AdmissionRequest request = { .name = "fuzz" };
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL;
	gsize length = 0;

	if (!uuid || !fuzz_hook_domain_canonical_uuid(uuid) || !state->block_bytes ||
	    (state->block_bytes & (state->block_bytes - 1)))
		return;
	for (int i = 0; i < ADMISSION_UUID_LENGTH; i++)
		request.uuid[i] = g_ascii_tolower(uuid[i]);
	request.boot_bytes = omem_contract_get_boot(contract);
	request.min_bytes = omem_contract_get_min(contract);
	request.cap_bytes = omem_contract_get_cap(contract);
	request.max_bytes = omem_contract_get_max(contract);
	request.block_bytes = state->block_bytes;
	line = admission_request_format(&request, &length, &error);
	if (!line)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *xml = g_malloc(size + 1);
	g_autoptr(OmemContract) contract = NULL;
	OmemContract *untouched_contract = (OmemContract *)&size;
	char *uuid = (char *)&size;
	OmemMemoryState state;
	bool valid = false;
	int r;

	memcpy(xml, data, size);
	xml[size] = '\0';

	contract = untouched_contract;
	omem_error_reset();
	r = omem_contract_from_domain_xml(xml, &contract);
	if (r < 0) {
		fuzz_hook_domain_refused(r);
		if (contract != untouched_contract)
			abort();
		contract = NULL;
	} else {
		fuzz_hook_domain_succeeded(r);
		if (!contract)
			abort();
		omem_error_reset();
		if (omem_contract_validate(contract) == 0) {
			unsigned long long boot = omem_contract_get_boot(contract);

			if (boot == 0 || boot > omem_contract_get_min(contract) ||
			    omem_contract_get_min(contract) > omem_contract_get_cap(contract) ||
			    omem_contract_get_cap(contract) > omem_contract_get_max(contract))
				abort();
			valid = true;
		} else {
			fuzz_hook_domain_refused(-1);
		}
	}

	omem_error_reset();
	r = omem_domain_xml_uuid(xml, &uuid);
	if (r < 0) {
		fuzz_hook_domain_refused(r);
		if (uuid != (char *)&size)
			abort();
		uuid = NULL;
	} else {
		fuzz_hook_domain_succeeded(r);
		if (!uuid || strlen(uuid) > size || !g_utf8_validate(uuid, -1, NULL))
			abort();
	}

	fuzz_hook_domain_memory(xml, &state);
	if (valid)
		fuzz_hook_domain_request(contract, uuid, &state);
	free(uuid);
	return 0;
}
