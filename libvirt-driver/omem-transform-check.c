/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-transform-check.c: what cannot become an omem domain, refused
 * before anything is changed, each with the reason and what to do.
 */
#include "config.h"

#include <string.h>

#include "omem-virt-internal.h"

/* Domain type: omem drives QEMU's virtio-mem through libvirt's QEMU driver. */
static int omem_transform_check_type(xmlNode *domain, const char *name)
{
	g_autofree char *type = omem_xml_attribute(domain, "type");

	if (!type || (strcmp(type, "kvm") && strcmp(type, "qemu"))) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s is of type '%s'; omem needs a QEMU domain (type 'kvm' or 'qemu').",
				 name, type ? type : "(none)");
		return -1;
	}
	return 0;
}

/* x86 machine types with ACPI memory hotplug and a place for virtio-mem;
 * libvirt's default machine for x86 is pc (i440fx). */
static int omem_transform_check_machine(xmlNode *domain, const char *name,
					OmemTransformMachine *ret_machine)
{
	xmlNode *type = omem_xml_child(omem_xml_child(domain, "os"), "type");
	g_autofree char *os_type = type ? omem_xml_text(type) : NULL;
	g_autofree char *arch = type ? omem_xml_attribute(type, "arch") : NULL;
	g_autofree char *machine = type ? omem_xml_attribute(type, "machine") : NULL;

	if (!type || strcmp(g_strstrip(os_type), "hvm")) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s is not a full virtual machine (<os><type> is not 'hvm'); omem needs an hvm guest.",
				 name);
		return -1;
	}
	if (arch && strcmp(arch, "x86_64") && strcmp(arch, "i686")) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has architecture '%s'; omem supports x86_64 and i686 guests for now.",
				 name, arch);
		return -1;
	}
	if (!machine || !strcmp(machine, "pc") || g_str_has_prefix(machine, "pc-i440fx-") ||
	    (g_str_has_prefix(machine, "pc-") && g_ascii_isdigit(machine[3]))) {
		*ret_machine = OMEM_TRANSFORM_MACHINE_I440FX;
		return 0;
	}
	if (!strcmp(machine, "q35") || g_str_has_prefix(machine, "pc-q35-")) {
		*ret_machine = OMEM_TRANSFORM_MACHINE_Q35;
		return 0;
	}
	omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s uses machine type '%s', which has no memory hotplug omem can use; use a q35 or pc (i440fx) machine.",
			 name, machine);
	return -1;
}

/* Memory the host could not page out defeats the point of omem. */
static int omem_transform_check_backing(xmlNode *domain, const char *name)
{
	xmlNode *backing = omem_xml_child(domain, "memoryBacking");

	if (omem_xml_child(backing, "locked")) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s locks its memory (<memoryBacking><locked/>); locked memory cannot be paged out by the host, remove <locked/> to use omem.",
				 name);
		return -1;
	}
	if (omem_xml_child(backing, "hugepages")) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s is backed by hugepages (<memoryBacking><hugepages>); hugetlb memory cannot be paged out by the host, remove <hugepages> to use omem.",
				 name);
		return -1;
	}
	return 0;
}

/* Devices that pin all guest memory for DMA, and memory outside the
 * contract (boot RAM + virtio-mem). */
static int omem_transform_check_devices(xmlNode *domain, const char *name)
{
	xmlNode *devices = omem_xml_child(domain, "devices");

	for (xmlNode *node = devices ? devices->children : NULL; node; node = node->next) {
		if (omem_transform_xml_is(node, "hostdev") &&
		    omem_transform_xml_attribute_is(node, "mode", "subsystem") &&
		    (omem_transform_xml_attribute_is(node, "type", "pci") ||
		     omem_transform_xml_attribute_is(node, "type", "mdev"))) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has a VFIO host device (<hostdev type='pci'|'mdev'>); VFIO pins all guest memory, so it cannot be outsourced: remove the device to use omem.",
					 name);
			return -1;
		}
		if (omem_transform_xml_is(node, "interface") &&
		    (omem_transform_xml_attribute_is(node, "type", "hostdev") ||
		     omem_transform_xml_attribute_is(node, "type", "vdpa"))) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has a passthrough network interface (<interface type='hostdev'|'vdpa'>); it pins all guest memory, so it cannot be outsourced: use a virtio interface to use omem.",
					 name);
			return -1;
		}
		if (omem_transform_xml_is(node, "memory") &&
		    !omem_transform_xml_attribute_is(node, "model", "virtio-mem")) {
			g_autofree char *model = omem_xml_attribute(node, "model");

			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has a <memory model='%s'> device; an omem domain's memory is boot RAM plus virtio-mem only, remove the device to use omem.",
					 name, model ? model : "(none)");
			return -1;
		}
	}
	return 0;
}

/* A kernel command line with an unterminated double quote has no end to
 * its last parameter: nothing can be appended to it reliably. */
static int omem_transform_check_cmdline(xmlNode *domain, const char *name)
{
	xmlNode *os = omem_xml_child(domain, "os");
	xmlNode *cmdline = omem_xml_child(os, "cmdline");
	g_autofree char *text = NULL;
	unsigned int quotes = 0;

	if (!omem_xml_child(os, "kernel") || !cmdline)
		return 0;
	text = omem_xml_text(cmdline);
	for (const char *p = text; *p; p++)
		quotes += *p == '"';
	if (quotes % 2) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s: the kernel command line (<cmdline>) has an unterminated double quote; fix it so memhp_default_state=online_movable can be added.",
				 name);
		return -1;
	}
	return 0;
}

int omem_transform_check(xmlDoc *doc, const char *name, OmemTransformMachine *ret_machine)
{
	xmlNode *domain = xmlDocGetRootElement(doc);

	if (omem_transform_check_type(domain, name) < 0 ||
	    omem_transform_check_machine(domain, name, ret_machine) < 0 ||
	    omem_transform_check_backing(domain, name) < 0 ||
	    omem_transform_check_devices(domain, name) < 0 ||
	    omem_transform_check_cmdline(domain, name) < 0)
		return -1;
	return 0;
}
