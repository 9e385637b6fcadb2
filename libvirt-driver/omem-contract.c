/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-contract.c: the omem contract object, its rules and its metadata
 * element, parsed strictly (anything not fully understood is refused) and
 * formatted in bytes, so every reader of a domain agrees on its contract.
 * Reading and writing it through libvirt is omem-contract-libvirt.c.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "omem-virt-internal.h"

struct _OmemContract {
	unsigned long long boot_bytes;  /* from the domain XML */
	unsigned long long min_bytes;   /* meaningful only when min_set */
	unsigned long long cap_bytes;   /* meaningful only when cap_set */
	unsigned long long max_bytes;   /* from the domain XML */
	unsigned int shares;
	unsigned int buffer_percent;
	bool frozen;
	bool drain;                     /* maintenance: shrink to min, grant nothing */
	bool min_set;                   /* false: min is boot (left out of the metadata) */
	bool cap_set;                   /* false: cap is max (left out of the metadata) */
};

OmemContract *omem_contract_new(void)
{
	OmemContract *contract = g_new0(OmemContract, 1);

	contract->shares = OMEM_CONTRACT_DEFAULT_SHARES;
	contract->buffer_percent = OMEM_CONTRACT_DEFAULT_BUFFER_PERCENT;
	return contract;
}

void omem_contract_free(OmemContract *contract)
{
	g_free(contract);
}

OmemContract *omem_contract_copy(const OmemContract *contract)
{
	return contract ? g_memdup2(contract, sizeof(*contract)) : NULL;
}

unsigned long long omem_contract_get_boot(const OmemContract *contract)
{
	return contract->boot_bytes;
}

unsigned long long omem_contract_get_min(const OmemContract *contract)
{
	return contract->min_set ? contract->min_bytes : contract->boot_bytes;
}

unsigned long long omem_contract_get_cap(const OmemContract *contract)
{
	return contract->cap_set ? contract->cap_bytes : contract->max_bytes;
}

unsigned long long omem_contract_get_max(const OmemContract *contract)
{
	return contract->max_bytes;
}

unsigned int omem_contract_get_shares(const OmemContract *contract)
{
	return contract->shares;
}

unsigned int omem_contract_get_buffer_percent(const OmemContract *contract)
{
	return contract->buffer_percent;
}

bool omem_contract_get_frozen(const OmemContract *contract)
{
	return contract->frozen;
}

bool omem_contract_get_drain(const OmemContract *contract)
{
	return contract->drain;
}

void omem_contract_set_boot(OmemContract *contract, unsigned long long bytes)
{
	contract->boot_bytes = bytes;
}

void omem_contract_set_min(OmemContract *contract, unsigned long long bytes)
{
	contract->min_bytes = bytes;
	contract->min_set = true;
}

void omem_contract_set_cap(OmemContract *contract, unsigned long long bytes)
{
	contract->cap_bytes = bytes;
	contract->cap_set = true;
}

void omem_contract_set_max(OmemContract *contract, unsigned long long bytes)
{
	contract->max_bytes = bytes;
}

void omem_contract_set_shares(OmemContract *contract, unsigned int shares)
{
	contract->shares = shares;
}

void omem_contract_set_buffer_percent(OmemContract *contract, unsigned int percent)
{
	contract->buffer_percent = percent;
}

void omem_contract_set_frozen(OmemContract *contract, bool frozen)
{
	contract->frozen = frozen;
}

void omem_contract_set_drain(OmemContract *contract, bool drain)
{
	contract->drain = drain;
}

void omem_contract_apply_domain(OmemContract *contract, unsigned long long boot_bytes,
				unsigned long long max_bytes)
{
	contract->boot_bytes = boot_bytes;
	contract->max_bytes = max_bytes;
}

/* Every size of a contract, for the block-multiple rule. */
static int omem_contract_check_block(const char *figure, unsigned long long bytes)
{
	if (bytes % OMEM_BLOCK_BYTES) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's %s (%llu bytes) is not a multiple of the %llu-byte virtio-mem block; round it to a multiple of 2 MiB.",
				 figure, bytes, OMEM_BLOCK_BYTES);
		return -1;
	}
	return 0;
}

int omem_contract_validate(const OmemContract *contract)
{
	unsigned long long boot, min, cap, max;

	if (!contract) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No contract was given to validate; pass one.");
		return -1;
	}
	boot = omem_contract_get_boot(contract);
	min = omem_contract_get_min(contract);
	cap = omem_contract_get_cap(contract);
	max = omem_contract_get_max(contract);

	if (omem_contract_check_block("boot", boot) < 0 || omem_contract_check_block("min", min) < 0 ||
	    omem_contract_check_block("cap", cap) < 0 || omem_contract_check_block("max", max) < 0)
		return -1;
	if (min < boot) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's min (%llu bytes) is below boot (%llu bytes); min must be at least the RAM the guest boots with.",
				 min, boot);
		return -1;
	}
	if (cap < min) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's cap (%llu bytes) is below min (%llu bytes); raise the cap or lower min.",
				 cap, min);
		return -1;
	}
	if (cap > max) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's cap (%llu bytes) is above max (%llu bytes, boot plus the virtio-mem devices); lower the cap or grow the devices.",
				 cap, max);
		return -1;
	}
	/* boot >= max / 8, written so that neither side can overflow. */
	if (boot < max / 8 + (max % 8 != 0)) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The domain's boot RAM (%llu bytes) is below an eighth of max (%llu bytes); the guest's kernel memory must fit in boot RAM, so raise boot or lower max.",
				 boot, max);
		return -1;
	}
	if (contract->shares < 1 || contract->shares > OMEM_CONTRACT_MAX_SHARES) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's shares (%u) are outside 1 to %u; pick a weight in that range.",
				 contract->shares, OMEM_CONTRACT_MAX_SHARES);
		return -1;
	}
	if (contract->buffer_percent > 100) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract's buffer (%u%%) is above 100%%; pick a headroom between 0 and 100 percent.",
				 contract->buffer_percent);
		return -1;
	}
	/* Frozen holds the size where it is, drain walks it down to min: no
	 * omemd can do both, so the operator must say which one is meant. */
	if (contract->frozen && contract->drain) {
		omem_error_raise(OMEM_ERR_CONTRACT, "The contract is both frozen (<frozen/>: hold the size) and draining (<drain/>: shrink to min); these contradict each other, so remove one of them.");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- parsing */

/* Whether @node is in the contract's namespace as its root decided: no
 * namespace for the bare form, OMEM_CONTRACT_NAMESPACE otherwise. */
static bool omem_contract_same_namespace(const xmlNode *node, bool bare)
{
	if (bare)
		return !node->ns;
	return node->ns && xmlStrEqual(node->ns->href, BAD_CAST OMEM_CONTRACT_NAMESPACE);
}

/* Refuse every attribute of @element other than @allowed (may be NULL). */
static int omem_contract_check_attributes(const xmlNode *element, const char *allowed)
{
	for (const xmlAttr *attribute = element->properties; attribute; attribute = attribute->next) {
		if (attribute->ns || !allowed || !xmlStrEqual(attribute->name, BAD_CAST allowed)) {
			omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> has an unknown attribute '%s'; see docs/contract.md for the element's form.",
					 (const char *)element->name, (const char *)attribute->name);
			return -1;
		}
	}
	return 0;
}

/* Refuse child elements, and text unless @text_allowed (whitespace and
 * comments are always fine). */
static int omem_contract_check_content(const xmlNode *element, bool text_allowed)
{
	for (const xmlNode *child = element->children; child; child = child->next) {
		if (child->type == XML_COMMENT_NODE)
			continue;
		if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
		    (text_allowed || xmlIsBlankNode((xmlNode *)child)))
			continue;
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> has content it may not have; see docs/contract.md for the element's form.",
				 (const char *)element->name);
		return -1;
	}
	return 0;
}

/* <min unit='…'>N</min> and <cap …>: a size in bytes. */
static int omem_contract_parse_size(const xmlNode *element, unsigned long long *ret_bytes)
{
	g_autofree char *number = NULL;
	g_autofree char *unit = NULL;
	int r;

	if (omem_contract_check_attributes(element, "unit") < 0 ||
	    omem_contract_check_content(element, true) < 0)
		return -1;
	number = omem_xml_text(element);
	unit = omem_xml_attribute(element, "unit");
	r = omem_xml_parse_size(number, unit, ret_bytes);
	if (r == -ERANGE) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> '%s' (unit '%s') does not fit in 64 bits of bytes; give a real memory size.",
				 (const char *)element->name, number, unit ? unit : "KiB");
		return -1;
	}
	if (r < 0) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> '%s' (unit '%s') is not a size; write a decimal number and a unit such as bytes, KiB, MiB or GiB.",
				 (const char *)element->name, number, unit ? unit : "KiB");
		return -1;
	}
	return 0;
}

/* A plain unsigned int (shares, buffer percent) from @text. */
static int omem_contract_parse_uint(const xmlNode *element, const char *text, unsigned int *ret_value)
{
	unsigned long long value;

	if (omem_xml_parse_unsigned(text, &value) < 0 || value > G_MAXUINT) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> value '%s' is not a whole number; write a decimal number such as 1000.",
				 (const char *)element->name, text ? text : "");
		return -1;
	}
	*ret_value = (unsigned int)value;
	return 0;
}

/* One child of <contract>; @seen tracks duplicates by name. */
static int omem_contract_parse_child(const xmlNode *child, OmemContract *contract, GHashTable *seen)
{
	const char *name = (const char *)child->name;

	if (!g_hash_table_add(seen, (gpointer)name)) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract has <%s> twice; keep one.", name);
		return -1;
	}
	if (!strcmp(name, "min")) {
		if (omem_contract_parse_size(child, &contract->min_bytes) < 0)
			return -1;
		contract->min_set = true;
	} else if (!strcmp(name, "cap")) {
		if (omem_contract_parse_size(child, &contract->cap_bytes) < 0)
			return -1;
		contract->cap_set = true;
	} else if (!strcmp(name, "shares")) {
		g_autofree char *text = omem_xml_text(child);

		if (omem_contract_check_attributes(child, NULL) < 0 ||
		    omem_contract_check_content(child, true) < 0 ||
		    omem_contract_parse_uint(child, text, &contract->shares) < 0)
			return -1;
	} else if (!strcmp(name, "buffer")) {
		g_autofree char *percent = omem_xml_attribute(child, "percent");

		if (omem_contract_check_attributes(child, "percent") < 0 ||
		    omem_contract_check_content(child, false) < 0)
			return -1;
		if (!percent) {
			omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <buffer> has no percent attribute; write <buffer percent='10'/>.");
			return -1;
		}
		if (omem_contract_parse_uint(child, percent, &contract->buffer_percent) < 0)
			return -1;
	} else if (!strcmp(name, "frozen")) {
		if (omem_contract_check_attributes(child, NULL) < 0 ||
		    omem_contract_check_content(child, false) < 0)
			return -1;
		contract->frozen = true;
	} else if (!strcmp(name, "drain")) {
		if (omem_contract_check_attributes(child, NULL) < 0 ||
		    omem_contract_check_content(child, false) < 0)
			return -1;
		contract->drain = true;
	} else {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract has an unknown element <%s>; only min, cap, shares, buffer, frozen and drain are defined (docs/contract.md).",
				 name);
		return -1;
	}
	return 0;
}

int omem_contract_parse_element(xmlNode *element, OmemContract **ret_contract)
{
	g_autoptr(OmemContract) contract = omem_contract_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *version = NULL;
	bool bare;

	if (!element || element->type != XML_ELEMENT_NODE) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract metadata is empty; write a <contract> element (docs/contract.md).");
		return -1;
	}
	bare = !element->ns;
	if (!bare && !xmlStrEqual(element->ns->href, BAD_CAST OMEM_CONTRACT_NAMESPACE)) {
		omem_error_raise(OMEM_ERR_METADATA, "The element <%s> is in namespace '%s', not omem's '%s'; write the contract in omem's namespace.",
				 (const char *)element->name, (const char *)element->ns->href,
				 OMEM_CONTRACT_NAMESPACE);
		return -1;
	}
	if (!xmlStrEqual(element->name, BAD_CAST "contract")) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem metadata element is <%s>, not <contract>; write a <contract> element (docs/contract.md).",
				 (const char *)element->name);
		return -1;
	}
	if (omem_contract_check_attributes(element, "version") < 0)
		return -1;
	version = omem_xml_attribute(element, "version");
	if (g_strcmp0(version, "1")) {
		omem_error_raise(OMEM_ERR_METADATA, "The omem contract's version is '%s', but this libomem-virt reads version 1 only; upgrade omem or rewrite the contract as version 1.",
				 version ? version : "(none)");
		return -1;
	}
	for (xmlNode *child = element->children; child; child = child->next) {
		if (child->type == XML_COMMENT_NODE ||
		    ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
		     xmlIsBlankNode(child)))
			continue;
		if (child->type != XML_ELEMENT_NODE) {
			omem_error_raise(OMEM_ERR_METADATA, "The omem contract has text or markup outside its elements; remove it (docs/contract.md).");
			return -1;
		}
		if (!omem_contract_same_namespace(child, bare)) {
			omem_error_raise(OMEM_ERR_METADATA, "The omem contract's <%s> is in namespace '%s', not the contract's own; keep every element in '%s'.",
					 (const char *)child->name,
					 child->ns ? (const char *)child->ns->href : "(none)",
					 OMEM_CONTRACT_NAMESPACE);
			return -1;
		}
		if (omem_contract_parse_child(child, contract, seen) < 0)
			return -1;
	}
	*ret_contract = g_steal_pointer(&contract);
	return 0;
}

int omem_contract_parse_metadata(const char *xml, size_t length, OmemContract **ret_contract)
{
	g_autoptr(xmlDoc) doc = omem_xml_parse(xml, length, OMEM_ERR_METADATA, "omem contract metadata");

	if (!doc)
		return -1;
	return omem_contract_parse_element(xmlDocGetRootElement(doc), ret_contract);
}

/* The <metadata> child in omem's namespace; NULL with no error when there
 * is none, NULL with OMEM_ERR_METADATA when there are several. */
static xmlNode *omem_contract_find_element(xmlNode *domain, const char *name, bool *ret_failed)
{
	xmlNode *metadata = omem_xml_child(domain, "metadata");
	xmlNode *found = NULL;

	*ret_failed = false;
	for (xmlNode *child = metadata ? metadata->children : NULL; child; child = child->next) {
		if (child->type != XML_ELEMENT_NODE || !child->ns ||
		    !xmlStrEqual(child->ns->href, BAD_CAST OMEM_CONTRACT_NAMESPACE))
			continue;
		if (found) {
			omem_error_raise(OMEM_ERR_METADATA, "Domain %s has more than one element in omem's namespace in its <metadata>; keep a single <omem:contract>.",
					 name);
			*ret_failed = true;
			return NULL;
		}
		found = child;
	}
	return found;
}

int omem_contract_from_domain_xml(const char *domain_xml, OmemContract **ret_contract)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autoptr(OmemContract) contract = NULL;
	xmlNode *element;
	bool failed;

	if (!ret_contract) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No place to return the contract was given; pass ret_contract.");
		return -1;
	}
	doc = omem_xml_parse(domain_xml, domain_xml ? strlen(domain_xml) : 0, OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0)
		return -1;
	element = omem_contract_find_element(xmlDocGetRootElement(doc), memory->name, &failed);
	if (failed)
		return -1;
	if (!element) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has no omem contract in its <metadata>; convert it with virt-omem convert.",
				 memory->name);
		return -1;
	}
	if (omem_contract_parse_element(element, &contract) < 0)
		return -1;
	if (memory->devices->len == 0) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has an omem contract but no virtio-mem device; convert it again with virt-omem convert.",
				 memory->name);
		return -1;
	}
	omem_contract_apply_domain(contract, memory->boot_bytes, memory->max_bytes);
	*ret_contract = g_steal_pointer(&contract);
	return 0;
}

/* --------------------------------------------------------------- format */

/* The element with @prefix ("" for bare) on every name; @pretty adds the
 * newlines and indentation a human reads, bare stays compact because
 * libvirt indents it itself. */
static char *omem_contract_format(const OmemContract *contract, const char *prefix, bool pretty)
{
	GString *xml = g_string_new(NULL);
	const char *indent = pretty ? "  " : "";
	const char *newline = pretty ? "\n" : "";

	g_string_append_printf(xml, "<%scontract", prefix);
	if (*prefix)
		g_string_append_printf(xml, " xmlns:%s=\"%s\"", OMEM_CONTRACT_PREFIX, OMEM_CONTRACT_NAMESPACE);
	g_string_append_printf(xml, " version=\"1\">%s", newline);
	if (contract->min_set)
		g_string_append_printf(xml, "%s<%smin unit=\"bytes\">%llu</%smin>%s", indent, prefix,
				       contract->min_bytes, prefix, newline);
	if (contract->cap_set)
		g_string_append_printf(xml, "%s<%scap unit=\"bytes\">%llu</%scap>%s", indent, prefix,
				       contract->cap_bytes, prefix, newline);
	g_string_append_printf(xml, "%s<%sshares>%u</%sshares>%s", indent, prefix, contract->shares,
			       prefix, newline);
	g_string_append_printf(xml, "%s<%sbuffer percent=\"%u\"/>%s", indent, prefix,
			       contract->buffer_percent, newline);
	if (contract->frozen)
		g_string_append_printf(xml, "%s<%sfrozen/>%s", indent, prefix, newline);
	if (contract->drain)
		g_string_append_printf(xml, "%s<%sdrain/>%s", indent, prefix, newline);
	g_string_append_printf(xml, "</%scontract>%s", prefix, newline);
	return g_string_free(xml, FALSE);
}

char *omem_contract_format_metadata(const OmemContract *contract)
{
	if (!contract) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No contract was given to format; pass one.");
		return NULL;
	}
	return omem_contract_format(contract, OMEM_CONTRACT_PREFIX ":", true);
}

char *omem_contract_format_bare(const OmemContract *contract)
{
	return omem_contract_format(contract, "", false);
}
