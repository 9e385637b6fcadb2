/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for libomem-virt's contract parsers: the input is read
 * both as a whole domain XML (omem_contract_from_domain_xml, which reads
 * the NUMA cells, the virtio-mem devices and the metadata element) and as
 * a bare or namespaced contract element (what virDomainGetMetadata
 * returns).  Oracles, reported with abort():
 *   - a contract that parsed formats, in both forms, to text that parses
 *     to the same contract and formats to the same text again;
 *   - a domain whose devices read splits a request into whole blocks that
 *     sum to the request and fit each device.
 * Everything else must be refused with an error record, never a crash.
 * tests/fuzz/corpus/contract/ holds the seeds (docs/contract.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omem-virt-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_contract_equal(const OmemContract *a, const OmemContract *b)
{
	return omem_contract_get_min(a) == omem_contract_get_min(b) &&
	       omem_contract_get_cap(a) == omem_contract_get_cap(b) &&
	       omem_contract_get_shares(a) == omem_contract_get_shares(b) &&
	       omem_contract_get_buffer_percent(a) == omem_contract_get_buffer_percent(b) &&
	       omem_contract_get_frozen(a) == omem_contract_get_frozen(b) &&
	       omem_contract_get_drain(a) == omem_contract_get_drain(b);
}

/* Format @contract both ways and check each reads back the same. */
static void fuzz_contract_round_trip(const OmemContract *contract)
{
	g_autofree char *pretty = omem_contract_format_metadata(contract);
	g_autofree char *bare = omem_contract_format_bare(contract);
	g_autoptr(OmemContract) from_pretty = NULL;
	g_autoptr(OmemContract) from_bare = NULL;
	g_autofree char *pretty_again = NULL;

	if (!pretty || !bare)
		abort();
	if (omem_contract_parse_metadata(pretty, strlen(pretty), &from_pretty) < 0 ||
	    omem_contract_parse_metadata(bare, strlen(bare), &from_bare) < 0)
		abort();
	omem_contract_apply_domain(from_pretty, omem_contract_get_boot(contract), omem_contract_get_max(contract));
	omem_contract_apply_domain(from_bare, omem_contract_get_boot(contract), omem_contract_get_max(contract));
	if (!fuzz_contract_equal(contract, from_pretty) || !fuzz_contract_equal(contract, from_bare))
		abort();
	pretty_again = omem_contract_format_metadata(from_pretty);
	if (strcmp(pretty, pretty_again))
		abort();
	(void)omem_contract_validate(contract);
}

/* Split half the devices' capacity and check the apportionment. */
static void fuzz_contract_split(const char *xml)
{
	g_autoptr(xmlDoc) doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autofree unsigned long long *shares = NULL;
	unsigned long long block = 0, request, sum = 0;

	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0 || memory->devices->len == 0)
		return;
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);

		block = MAX(block, device->block_bytes);
	}
	request = memory->device_bytes / 2 / block * block;
	shares = g_new0(unsigned long long, memory->devices->len);
	if (omem_live_split_requested(memory, request, shares) < 0)
		return;
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);

		if (shares[i] % block || shares[i] > device->size_bytes)
			abort();
		sum += shares[i];
	}
	if (sum != request)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autoptr(OmemContract) from_domain = NULL;
	g_autoptr(OmemContract) from_element = NULL;

	if (omem_contract_from_domain_xml(text, &from_domain) == 0)
		fuzz_contract_round_trip(from_domain);
	if (omem_contract_parse_metadata((const char *)data, size, &from_element) == 0)
		fuzz_contract_round_trip(from_element);
	fuzz_contract_split(text);
	omem_error_reset();
	return 0;
}
