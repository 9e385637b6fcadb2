/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-contract-libvirt.c: reads and writes a domain's contract through
 * virDomainGetMetadata/virDomainSetMetadata with libvirt's LIVE/CONFIG
 * semantics, and undoes by hand the half of a LIVE|CONFIG change that
 * libvirt would leave behind when the second half fails.
 */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "omem-virt-internal.h"

#define OMEM_CONTRACT_SIDES (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virError, virFreeError)

/* Which side a flags word names, for messages. */
static const char *omem_contract_side_name(unsigned int side)
{
	return side == VIR_DOMAIN_AFFECT_CONFIG ? "persistent configuration" : "live state";
}

/* libvirt's CURRENT resolved the way libvirt resolves it: LIVE when the
 * domain runs, CONFIG otherwise.  Explicit sides pass through. */
static int omem_contract_resolve_sides(virDomainPtr domain, unsigned int flags,
				       unsigned int *ret_sides)
{
	/* Every libvirt call resets libvirt's last error: name first. */
	const char *name = virDomainGetName(domain);
	int active;

	if (flags & OMEM_CONTRACT_SIDES) {
		*ret_sides = flags;
		return 0;
	}
	active = virDomainIsActive(domain);
	if (active < 0) {
		omem_error_raise_libvirt("Checking whether domain %s is running failed", name);
		return -1;
	}
	*ret_sides = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	return 0;
}

/* The domain XML of one side, read into boot, max and the devices; -1
 * with OMEM_ERR_NOT_OMEM when the side has no virtio-mem device. */
static int omem_contract_read_side(virDomainPtr domain, unsigned int side, xmlDoc **ret_doc,
				   OmemDomainMemory **ret_memory)
{
	const char *name = virDomainGetName(domain);
	g_autofree char *xml = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;

	xml = virDomainGetXMLDesc(domain, side == VIR_DOMAIN_AFFECT_CONFIG ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!xml) {
		omem_error_raise_libvirt("Reading the XML of domain %s failed", name);
		return -1;
	}
	doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0)
		return -1;
	if (memory->devices->len == 0) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has no virtio-mem device in its %s; convert it with virt-omem convert.",
				 name, omem_contract_side_name(side));
		return -1;
	}
	*ret_doc = g_steal_pointer(&doc);
	*ret_memory = g_steal_pointer(&memory);
	return 0;
}

int omem_contract_get(virDomainPtr domain, unsigned int flags, OmemContract **ret_contract)
{
	g_autofree char *metadata = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autoptr(OmemContract) contract = NULL;
	const char *name;
	unsigned int side;

	if (!domain || !ret_contract) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_contract_get needs a domain and a place to return the contract; pass both.");
		return -1;
	}
	if ((flags & ~OMEM_CONTRACT_SIDES) || flags == OMEM_CONTRACT_SIDES) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "Reading a contract takes one of VIR_DOMAIN_AFFECT_CURRENT, _LIVE or _CONFIG, not flags 0x%x; pick one side.",
				 flags);
		return -1;
	}
	/* Every libvirt call resets libvirt's last error: name first. */
	name = virDomainGetName(domain);
	metadata = virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, OMEM_CONTRACT_NAMESPACE, flags);
	if (!metadata) {
		virErrorPtr error = virGetLastError();

		if (error && error->code == VIR_ERR_NO_DOMAIN_METADATA)
			omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has no omem contract; convert it with virt-omem convert.",
					 name);
		else
			omem_error_raise_libvirt("Reading the omem contract of domain %s failed", name);
		return -1;
	}
	if (omem_contract_resolve_sides(domain, flags, &side) < 0 ||
	    omem_contract_read_side(domain, side, &doc, &memory) < 0 ||
	    omem_contract_parse_metadata(metadata, strlen(metadata), &contract) < 0)
		return -1;
	omem_contract_apply_domain(contract, memory->boot_bytes, memory->max_bytes);
	*ret_contract = g_steal_pointer(&contract);
	return 0;
}

/* Validate @contract against one side's boot and max. */
static int omem_contract_validate_side(virDomainPtr domain, const OmemContract *contract,
				       unsigned int side)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autoptr(OmemContract) candidate = omem_contract_copy(contract);

	if (omem_contract_read_side(domain, side, &doc, &memory) < 0)
		return -1;
	omem_contract_apply_domain(candidate, memory->boot_bytes, memory->max_bytes);
	return omem_contract_validate(candidate);
}

/* Write the bare element @metadata (NULL: remove the contract) to @side. */
static int omem_contract_write(virDomainPtr domain, const char *metadata, unsigned int side)
{
	return virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, metadata,
				    metadata ? OMEM_CONTRACT_PREFIX : NULL, OMEM_CONTRACT_NAMESPACE, side);
}

/* LIVE, then CONFIG; on a CONFIG failure the previous live contract (or
 * none) is written back.  libvirt would leave the live half applied. */
static int omem_contract_write_both(virDomainPtr domain, const char *metadata)
{
	const char *name = virDomainGetName(domain);
	g_autofree char *previous = NULL;
	g_autoptr(virError) config_error = NULL;

	previous = virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, OMEM_CONTRACT_NAMESPACE,
					VIR_DOMAIN_AFFECT_LIVE);
	if (!previous) {
		virErrorPtr error = virGetLastError();

		if (!error || error->code != VIR_ERR_NO_DOMAIN_METADATA) {
			omem_error_raise_libvirt("Reading the live omem contract of domain %s before changing it failed",
						 name);
			return -1;
		}
	}
	if (omem_contract_write(domain, metadata, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		omem_error_raise_libvirt("Writing the live omem contract of domain %s failed; nothing was changed",
					 name);
		return -1;
	}
	if (omem_contract_write(domain, metadata, VIR_DOMAIN_AFFECT_CONFIG) == 0)
		return 0;

	/* Raised now, while libvirt's last error is still the CONFIG one; it
	 * stands when the restore below works. */
	config_error = virSaveLastError();
	omem_error_raise_libvirt("Writing the persistent omem contract of domain %s failed; the live contract was put back as it was",
				 name);
	if (omem_contract_write(domain, previous, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		omem_error_set(OMEM_ERR_PARTIAL, 0, __FILE__, __LINE__, G_STRFUNC,
			       "Domain %s is half changed: the new omem contract is live but not persistent (%s), and putting the old live contract back failed too (%s); set the contract again or fix it with virsh metadata.",
			       name, config_error && config_error->message ? config_error->message : "unknown libvirt error",
			       virGetLastErrorMessage());
	}
	return -1;
}

int omem_contract_set(virDomainPtr domain, const OmemContract *contract, unsigned int flags)
{
	g_autofree char *metadata = NULL;
	const char *name;
	unsigned int sides;

	if (!domain || !contract) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_contract_set needs a domain and a contract; pass both.");
		return -1;
	}
	if (flags & ~OMEM_CONTRACT_SIDES) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "Writing a contract takes VIR_DOMAIN_AFFECT_CURRENT, _LIVE, _CONFIG or _LIVE|_CONFIG, not flags 0x%x.",
				 flags);
		return -1;
	}
	name = virDomainGetName(domain);
	if (omem_contract_resolve_sides(domain, flags, &sides) < 0)
		return -1;
	/* Check every side before touching any, so a refusal changes nothing. */
	if ((sides & VIR_DOMAIN_AFFECT_LIVE) &&
	    omem_contract_validate_side(domain, contract, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return -1;
	if ((sides & VIR_DOMAIN_AFFECT_CONFIG) &&
	    omem_contract_validate_side(domain, contract, VIR_DOMAIN_AFFECT_CONFIG) < 0)
		return -1;

	metadata = omem_contract_format_bare(contract);
	if (sides == OMEM_CONTRACT_SIDES)
		return omem_contract_write_both(domain, metadata);
	if (omem_contract_write(domain, metadata, sides) < 0) {
		omem_error_raise_libvirt("Writing the omem contract to the %s of domain %s failed",
					 omem_contract_side_name(sides), name);
		return -1;
	}
	return 0;
}
