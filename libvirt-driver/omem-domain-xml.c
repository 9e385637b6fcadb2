/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-domain-xml.c: reads what omem needs from a libvirt domain XML (boot
 * RAM, the virtio-mem devices, max), once, so the contract, the live code
 * and the transform agree on what "boot" and "max" mean.
 */
#include "config.h"

#include <errno.h>

#include "omem-virt-internal.h"

static void omem_domain_xml_device_free(gpointer data)
{
	OmemVirtioMemDevice *device = data;

	g_free(device->alias);
	g_free(device);
}

void omem_domain_xml_memory_free(OmemDomainMemory *memory)
{
	if (!memory)
		return;
	g_free(memory->name);
	if (memory->devices)
		g_ptr_array_unref(memory->devices);
	g_free(memory);
}

/* Raise the error for a size that did not parse: @what names the element. */
static void omem_domain_xml_size_error(const char *name, const char *what, int r)
{
	if (r == -ERANGE)
		omem_error_raise(OMEM_ERR_XML, "Domain %s: %s is too large to count in bytes; fix the domain XML.",
				 name, what);
	else
		omem_error_raise(OMEM_ERR_XML, "Domain %s: %s is not a size (a decimal number with an optional libvirt unit such as KiB or GiB); fix the domain XML.",
				 name, what);
}

/* Read one <memory model='virtio-mem'> element. */
static int omem_domain_xml_read_device(const char *name, xmlNode *node,
				       OmemVirtioMemDevice **ret_device)
{
	g_autofree OmemVirtioMemDevice *device = g_new0(OmemVirtioMemDevice, 1);
	xmlNode *target = omem_xml_child(node, "target");
	xmlNode *size, *block, *requested, *current, *numa_node, *alias;
	int r;

	if (!target || !(size = omem_xml_child(target, "size")) ||
	    !(block = omem_xml_child(target, "block"))) {
		omem_error_raise(OMEM_ERR_XML, "Domain %s: a virtio-mem device has no <target> with <size> and <block>; fix the domain XML.",
				 name);
		return -1;
	}
	device->node = node;
	device->numa_node = -1;
	r = omem_xml_read_size(size, &device->size_bytes);
	if (r < 0) {
		omem_domain_xml_size_error(name, "a virtio-mem device's <size>", r);
		return -1;
	}
	r = omem_xml_read_size(block, &device->block_bytes);
	if (r < 0) {
		omem_domain_xml_size_error(name, "a virtio-mem device's <block>", r);
		return -1;
	}
	if (device->block_bytes == 0 || device->size_bytes == 0 ||
	    device->size_bytes % device->block_bytes) {
		omem_error_raise(OMEM_ERR_XML, "Domain %s: a virtio-mem device's size %llu bytes is not a non-zero multiple of its block size %llu bytes; fix the domain XML.",
				 name, device->size_bytes, device->block_bytes);
		return -1;
	}
	requested = omem_xml_child(target, "requested");
	if (requested && (r = omem_xml_read_size(requested, &device->requested_bytes)) < 0) {
		omem_domain_xml_size_error(name, "a virtio-mem device's <requested>", r);
		return -1;
	}
	current = omem_xml_child(target, "current");
	if (current && (r = omem_xml_read_size(current, &device->plugged_bytes)) < 0) {
		omem_domain_xml_size_error(name, "a virtio-mem device's <current>", r);
		return -1;
	}
	numa_node = omem_xml_child(target, "node");
	if (numa_node) {
		g_autofree char *text = omem_xml_text(numa_node);
		unsigned long long id;

		if (omem_xml_parse_unsigned(text, &id) < 0 || id > G_MAXINT) {
			omem_error_raise(OMEM_ERR_XML, "Domain %s: a virtio-mem device's <node> '%s' is not a NUMA node number; fix the domain XML.",
					 name, text);
			return -1;
		}
		device->numa_node = (int)id;
	}
	alias = omem_xml_child(node, "alias");
	if (alias)
		device->alias = omem_xml_attribute(alias, "name");
	*ret_device = g_steal_pointer(&device);
	return 0;
}

/* Sum the guest NUMA cells' memory; *ret_cells is 0 when there are none. */
static int omem_domain_xml_read_cells(const char *name, xmlNode *domain,
				      unsigned long long *ret_bytes, unsigned int *ret_cells)
{
	xmlNode *numa = omem_xml_child(omem_xml_child(domain, "cpu"), "numa");
	unsigned long long total = 0;
	unsigned int cells = 0;

	for (xmlNode *cell = numa ? numa->children : NULL; cell; cell = cell->next) {
		g_autofree char *number = NULL;
		g_autofree char *unit = NULL;
		unsigned long long bytes;
		int r;

		if (cell->type != XML_ELEMENT_NODE || cell->ns || !xmlStrEqual(cell->name, BAD_CAST "cell"))
			continue;
		number = omem_xml_attribute(cell, "memory");
		unit = omem_xml_attribute(cell, "unit");
		r = omem_xml_parse_size(number, unit, &bytes);
		if (r < 0) {
			omem_domain_xml_size_error(name, "a NUMA <cell>'s memory", r);
			return -1;
		}
		if (total > G_MAXUINT64 - bytes) {
			omem_domain_xml_size_error(name, "the NUMA cells' total memory", -ERANGE);
			return -1;
		}
		total += bytes;
		cells++;
	}
	*ret_bytes = total;
	*ret_cells = cells;
	return 0;
}

int omem_domain_xml_read_memory(xmlDoc *doc, OmemDomainMemory **ret_memory)
{
	g_autoptr(OmemDomainMemory) memory = g_new0(OmemDomainMemory, 1);
	xmlNode *domain = xmlDocGetRootElement(doc);
	xmlNode *devices, *name, *total;
	int r;

	if (!domain || domain->ns || !xmlStrEqual(domain->name, BAD_CAST "domain")) {
		omem_error_raise(OMEM_ERR_XML, "The document is not a libvirt domain XML (its root element is not <domain>); pass a domain's XML.");
		return -1;
	}
	name = omem_xml_child(domain, "name");
	memory->name = name ? omem_xml_text(name) : g_strdup("(unnamed)");
	memory->devices = g_ptr_array_new_with_free_func(omem_domain_xml_device_free);

	devices = omem_xml_child(domain, "devices");
	for (xmlNode *node = devices ? devices->children : NULL; node; node = node->next) {
		g_autofree char *model = NULL;
		OmemVirtioMemDevice *device;

		if (node->type != XML_ELEMENT_NODE || node->ns || !xmlStrEqual(node->name, BAD_CAST "memory"))
			continue;
		model = omem_xml_attribute(node, "model");
		if (g_strcmp0(model, "virtio-mem"))
			continue;
		if (omem_domain_xml_read_device(memory->name, node, &device) < 0)
			return -1;
		g_ptr_array_add(memory->devices, device);
		if (memory->device_bytes > G_MAXUINT64 - device->size_bytes) {
			omem_domain_xml_size_error(memory->name, "the virtio-mem devices' total size", -ERANGE);
			return -1;
		}
		memory->device_bytes += device->size_bytes;
		memory->block_bytes = MAX(memory->block_bytes, device->block_bytes);
	}

	if (omem_domain_xml_read_cells(memory->name, domain, &memory->boot_bytes, &memory->cells) < 0)
		return -1;
	total = omem_xml_child(domain, "memory");
	if (total && (r = omem_xml_read_size(total, &memory->memory_bytes)) < 0) {
		omem_domain_xml_size_error(memory->name, "<memory>", r);
		return -1;
	}
	if (memory->cells == 0) {
		if (!total) {
			omem_error_raise(OMEM_ERR_XML, "Domain %s has neither NUMA cells nor <memory>; fix the domain XML.",
					 memory->name);
			return -1;
		}
		if (memory->memory_bytes < memory->device_bytes) {
			omem_error_raise(OMEM_ERR_XML, "Domain %s: <memory> (%llu bytes) is smaller than its virtio-mem devices (%llu bytes); fix the domain XML.",
					 memory->name, memory->memory_bytes, memory->device_bytes);
			return -1;
		}
		memory->boot_bytes = memory->memory_bytes - memory->device_bytes;
	}
	if (memory->boot_bytes > G_MAXUINT64 - memory->device_bytes) {
		omem_domain_xml_size_error(memory->name, "boot memory plus the virtio-mem devices", -ERANGE);
		return -1;
	}
	memory->max_bytes = memory->boot_bytes + memory->device_bytes;
	*ret_memory = g_steal_pointer(&memory);
	return 0;
}

/* The root element's child @name, or NULL. */
static xmlNode *omem_domain_xml_root_child(xmlDoc *doc, const char *name)
{
	xmlNode *domain = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!domain || domain->ns || !xmlStrEqual(domain->name, BAD_CAST "domain")) {
		omem_error_raise(OMEM_ERR_XML, "The document is not a libvirt domain XML (its root element is not <domain>); pass a domain's XML.");
		return NULL;
	}
	return omem_xml_child(domain, name);
}

int omem_domain_xml_uuid(const char *domain_xml, char **ret_uuid)
{
	g_autoptr(xmlDoc) doc = NULL;
	xmlNode *node;

	if (!domain_xml || !ret_uuid) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_xml_uuid needs a domain XML and a place to return the UUID; pass both.");
		return -1;
	}
	doc = omem_xml_parse(domain_xml, strlen(domain_xml), OMEM_ERR_XML, "domain XML");
	node = doc ? omem_domain_xml_root_child(doc, "uuid") : NULL;
	if (!node) {
		if (doc)
			omem_error_raise(OMEM_ERR_XML, "The domain XML has no <uuid>; pass the XML libvirt wrote.");
		return -1;
	}
	*ret_uuid = omem_xml_text(node);
	return 0;
}

int omem_domain_xml_find_device(const char *domain_xml, const char *element, const char *name,
				char **ret_device_xml)
{
	g_autoptr(xmlDoc) doc = NULL;
	xmlNode *devices;

	if (!domain_xml || !element || !name || !ret_device_xml) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_xml_find_device needs a domain XML, an element, a name and a place to return the device; pass all four.");
		return -1;
	}
	*ret_device_xml = NULL;
	doc = omem_xml_parse(domain_xml, strlen(domain_xml), OMEM_ERR_XML, "domain XML");
	if (!doc)
		return -1;
	devices = omem_domain_xml_root_child(doc, "devices");
	for (xmlNode *node = devices ? devices->children : NULL; node; node = node->next) {
		g_autofree char *device_name = NULL;

		if (node->type != XML_ELEMENT_NODE || node->ns || !xmlStrEqual(node->name, BAD_CAST element))
			continue;
		device_name = omem_xml_attribute(node, "name");
		if (!g_strcmp0(device_name, name)) {
			*ret_device_xml = omem_xml_node_format(doc, node);
			return *ret_device_xml ? 1 : -1;
		}
	}
	return 0;
}
