/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-transform.c: turns an ordinary libvirt domain XML into an omem one
 * and back (docs/transform.md), as pure XML work with no libvirt
 * connection.  This file holds the entry points, the contract figures and
 * their defaults, and the contract metadata; the edits themselves are in
 * omem-transform-memory.c and omem-transform-devices.c, the refusals in
 * omem-transform-check.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "omem-virt-internal.h"

/* Sizes above 1 PiB are refused: far beyond any host, and below it every
 * sum and proportional split of the transform stays within 64 bits. */
#define OMEM_TRANSFORM_MAX_BYTES (1ull << 50)

/* The default boot RAM floor: a distribution guest (systemd, cloud-init,
 * the page cache it needs to start) boots comfortably in 1 GiB. */
#define OMEM_TRANSFORM_BOOT_FLOOR (1ull << 30)

static const char *const omem_transform_before_metadata[] = {
	"name", "uuid", "genid", "title", "description", NULL
};

static unsigned long long omem_transform_round_up(unsigned long long bytes)
{
	return (bytes + OMEM_BLOCK_BYTES - 1) / OMEM_BLOCK_BYTES * OMEM_BLOCK_BYTES;
}

/* The smallest boot RAM the contract allows for @max: max / 8, in blocks. */
static unsigned long long omem_transform_boot_floor(unsigned long long max)
{
	return omem_transform_round_up(max / 8 + (max % 8 != 0));
}

/* The default boot RAM for @max: a quarter of max (twice the max / 8 the
 * contract demands, because the memmap and page tables of plugged memory
 * and the slab grow with max), but at least 1 GiB so the guest boots
 * comfortably, and at most half of max so a small guest still has memory
 * to plug and unplug. */
static unsigned long long omem_transform_default_boot(unsigned long long max)
{
	unsigned long long boot = MAX(max / 4, MIN(max / 2, OMEM_TRANSFORM_BOOT_FLOOR));

	return MAX(omem_transform_round_up(boot), omem_transform_boot_floor(max));
}

/* Parse the domain XML: well-formed, a <domain> root, no DTD (libvirt
 * never writes one; it could only bring entity tricks). */
static xmlDoc *omem_transform_parse(const char *domain_xml, OmemDomainMemory **ret_memory)
{
	g_autoptr(xmlDoc) doc = NULL;

	doc = omem_xml_parse(domain_xml, domain_xml ? strlen(domain_xml) : 0, OMEM_ERR_XML,
			     "domain XML");
	if (!doc)
		return NULL;
	if (doc->intSubset || doc->extSubset) {
		omem_error_raise(OMEM_ERR_XML, "The domain XML has a document type declaration (<!DOCTYPE>), which libvirt never writes; remove it.");
		return NULL;
	}
	if (omem_domain_xml_read_memory(doc, ret_memory) < 0)
		return NULL;
	return g_steal_pointer(&doc);
}

/* The omem contract element of <metadata>, or NULL; -1 when there are
 * several. */
static int omem_transform_find_contract(xmlNode *domain, const char *name, xmlNode **ret_element)
{
	xmlNode *metadata = omem_xml_child(domain, "metadata");

	*ret_element = NULL;
	for (xmlNode *child = metadata ? metadata->children : NULL; child; child = child->next) {
		if (child->type != XML_ELEMENT_NODE || !child->ns ||
		    !xmlStrEqual(child->ns->href, BAD_CAST OMEM_CONTRACT_NAMESPACE))
			continue;
		if (*ret_element) {
			omem_error_raise(OMEM_ERR_METADATA, "Domain %s has more than one element in omem's namespace in its <metadata>; keep a single <omem:contract>.",
					 name);
			return -1;
		}
		*ret_element = child;
	}
	return 0;
}

/* Refuse a size beyond what the transform computes with. */
static int omem_transform_check_size(const char *name, const char *figure, unsigned long long bytes)
{
	if (bytes > OMEM_TRANSFORM_MAX_BYTES) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s: %s (%llu bytes) is above the %llu bytes (1 PiB) omem supports.",
				 name, figure, bytes, OMEM_TRANSFORM_MAX_BYTES);
		return -1;
	}
	return 0;
}

/* Decide boot and max (bytes, block multiples) from the options, the
 * domain and its defaults (docs/transform.md, "Defaults"). */
static int omem_transform_figures(const OmemDomainMemory *memory, const OmemConvertOptions *options,
				  unsigned long long *ret_boot, unsigned long long *ret_max)
{
	bool omem = memory->devices->len > 0;
	unsigned long long boot, max;

	if (omem_transform_check_size(memory->name, "the domain's memory", memory->max_bytes) < 0 ||
	    omem_transform_check_size(memory->name, "the boot option", options->boot_bytes) < 0 ||
	    omem_transform_check_size(memory->name, "the min option", options->min_bytes) < 0 ||
	    omem_transform_check_size(memory->name, "the max option", options->max_bytes) < 0 ||
	    omem_transform_check_size(memory->name, "the cap option", options->cap_bytes) < 0)
		return -1;

	max = omem_transform_round_up(options->max_bytes ? options->max_bytes : memory->max_bytes);
	if (max == 0) {
		omem_error_raise(OMEM_ERR_XML, "Domain %s has no memory (<memory> is 0); fix the domain XML.",
				 memory->name);
		return -1;
	}
	if (options->boot_bytes) {
		boot = omem_transform_round_up(options->boot_bytes);
	} else if (omem) {
		/* An omem domain keeps its boot RAM unless told otherwise. */
		boot = omem_transform_round_up(memory->boot_bytes);
	} else {
		boot = omem_transform_default_boot(max);
		/* A smaller min asked for pulls boot down, not below max / 8. */
		if (options->min_bytes)
			boot = MAX(MIN(boot, omem_transform_round_up(options->min_bytes)),
				   omem_transform_boot_floor(max));
	}
	if (boot >= max) {
		omem_error_raise(OMEM_ERR_CONTRACT, "Domain %s: boot (%llu bytes) is not below max (%llu bytes), which leaves virtio-mem nothing to plug; raise max or lower boot.",
				 memory->name, boot, max);
		return -1;
	}
	if (boot < omem_transform_boot_floor(max)) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s: boot (%llu bytes) is below an eighth of max (%llu bytes); the guest's kernel memory must fit in boot RAM, so raise boot or lower max.",
				 memory->name, boot, max);
		return -1;
	}
	*ret_boot = boot;
	*ret_max = max;
	return 0;
}

/* The contract to write: the domain's existing one (frozen, cap, min,
 * shares and buffer kept) or a new one, with the options applied and
 * min and cap kept within the new boot and max. */
static int omem_transform_contract(const char *name, xmlNode *element,
				   const OmemConvertOptions *options, unsigned long long boot,
				   unsigned long long max, OmemContract **ret_contract)
{
	g_autoptr(OmemContract) contract = NULL;

	if (element) {
		if (omem_contract_parse_element(element, &contract) < 0)
			return -1;
	} else {
		contract = omem_contract_new();
	}
	omem_contract_apply_domain(contract, boot, max);
	if (options->min_bytes) {
		unsigned long long min = omem_transform_round_up(options->min_bytes);

		if (min < boot || min > max) {
			omem_error_raise(OMEM_ERR_CONTRACT, "Domain %s: min (%llu bytes) is outside boot (%llu bytes) to max (%llu bytes); pick a min in that range.",
					 name, min, boot, max);
			return -1;
		}
		omem_contract_set_min(contract, min);
	} else if (omem_contract_get_min(contract) < boot) {
		omem_contract_set_min(contract, boot);
	} else if (omem_contract_get_min(contract) > max) {
		omem_contract_set_min(contract, max);
	}
	if (options->cap_bytes) {
		unsigned long long cap = omem_transform_round_up(options->cap_bytes);

		if (cap < omem_contract_get_min(contract) || cap > max) {
			omem_error_raise(OMEM_ERR_CONTRACT, "Domain %s: cap (%llu bytes) is outside min (%llu bytes) to max (%llu bytes); pick a cap in that range.",
					 name, cap, omem_contract_get_min(contract), max);
			return -1;
		}
		omem_contract_set_cap(contract, cap);
	} else if (omem_contract_get_cap(contract) < omem_contract_get_min(contract)) {
		omem_contract_set_cap(contract, omem_contract_get_min(contract));
	} else if (omem_contract_get_cap(contract) > max) {
		omem_contract_set_cap(contract, max);
	}
	if (options->shares)
		omem_contract_set_shares(contract, options->shares);
	if (options->buffer_percent_set)
		omem_contract_set_buffer_percent(contract, options->buffer_percent);
	if (omem_contract_validate(contract) < 0)
		return -1;
	*ret_contract = g_steal_pointer(&contract);
	return 0;
}

/* Write @contract into <metadata>, in place of the old element if any,
 * formatted by omem_contract_format_metadata so there is one format. */
static int omem_transform_write_contract(xmlNode *domain, xmlNode *old, const OmemContract *contract)
{
	char *text = omem_contract_format_metadata(contract);
	g_autoptr(xmlDoc) fragment = NULL;
	xmlNode *element;

	if (!text)
		return -1;
	fragment = omem_xml_parse(text, strlen(text), OMEM_ERR_METADATA, "omem contract element");
	free(text);
	if (!fragment)
		return -1;
	element = xmlDocCopyNode(xmlDocGetRootElement(fragment), domain->doc, 1);
	if (!element) {
		omem_error_raise(OMEM_ERR_NO_MEMORY, "Out of memory copying the omem contract element.");
		return -1;
	}
	if (old) {
		omem_transform_xml_replace(old, element);
	} else {
		xmlNode *metadata = omem_transform_xml_ensure(domain, "metadata",
							      omem_transform_before_metadata);

		omem_transform_xml_insert(metadata, element, NULL);
	}
	return 0;
}

/* The document as text for free(): every top-level node (comments around
 * the root included), no XML declaration. */
static int omem_transform_format(xmlDoc *doc, char **ret_xml)
{
	xmlBuffer *buffer = xmlBufferCreate();
	char *text = NULL;

	for (xmlNode *node = doc->children; buffer && node; node = node->next) {
		if (node->type == XML_DTD_NODE)
			continue;
		if (xmlNodeDump(buffer, doc, node, 0, 0) < 0)
			break;
		xmlBufferCCat(buffer, "\n");
		if (!node->next)
			text = strdup((const char *)xmlBufferContent(buffer));
	}
	xmlBufferFree(buffer);
	if (!text) {
		omem_error_raise(OMEM_ERR_NO_MEMORY, "Out of memory writing the domain XML.");
		return -1;
	}
	*ret_xml = text;
	return 0;
}

int omem_transform_convert(const char *domain_xml, const OmemConvertOptions *options,
			   char **ret_xml)
{
	static const OmemConvertOptions defaults;
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	OmemTransformMachine machine;
	unsigned long long boot, max;
	xmlNode *domain, *element;

	if (!ret_xml) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No place to return the converted XML was given; pass ret_xml.");
		return -1;
	}
	if (!options)
		options = &defaults;
	doc = omem_transform_parse(domain_xml, &memory);
	if (!doc)
		return -1;
	domain = xmlDocGetRootElement(doc);
	if (omem_transform_check(doc, memory->name, &machine) < 0 ||
	    omem_transform_find_contract(domain, memory->name, &element) < 0 ||
	    omem_transform_figures(memory, options, &boot, &max) < 0 ||
	    omem_transform_contract(memory->name, element, options, boot, max, &contract) < 0)
		return -1;

	/* Everything that can be refused was: from here on only edits. */
	omem_transform_devices_convert(domain, machine);
	if (omem_transform_memory_convert(domain, memory, boot, omem_contract_get_min(contract), max) < 0 ||
	    omem_transform_write_contract(domain, element, contract) < 0)
		return -1;
	omem_error_reset();
	return omem_transform_format(doc, ret_xml);
}

int omem_transform_revert(const char *domain_xml, char **ret_xml)
{
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	xmlNode *domain, *element, *metadata;

	if (!ret_xml) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No place to return the reverted XML was given; pass ret_xml.");
		return -1;
	}
	doc = omem_transform_parse(domain_xml, &memory);
	if (!doc)
		return -1;
	domain = xmlDocGetRootElement(doc);
	if (omem_transform_find_contract(domain, memory->name, &element) < 0)
		return -1;
	if (!element && memory->devices->len == 0) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s is not an omem domain (no omem contract, no virtio-mem device); there is nothing to revert.",
				 memory->name);
		return -1;
	}
	if (omem_transform_check_size(memory->name, "the domain's memory", memory->max_bytes) < 0)
		return -1;

	omem_transform_memory_revert(domain, memory);
	omem_transform_devices_revert(domain);
	if (element) {
		metadata = element->parent;
		omem_transform_xml_remove(element);
		if (!xmlFirstElementChild(metadata))
			omem_transform_xml_remove(metadata);
	}
	omem_error_reset();
	return omem_transform_format(doc, ret_xml);
}
