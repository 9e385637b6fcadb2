/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-live.c: a running omem VM's virtio-mem devices: what they hold now,
 * and the one actuation omem has, changing their requested size the way
 * libvirt accepts it (the device's live XML with only <requested> edited).
 */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "omem-virt-internal.h"

/* The live XML of @domain (the inactive one when it does not run) read
 * into its memory figures; -1 with OMEM_ERR_NOT_OMEM without virtio-mem. */
static int omem_live_read(virDomainPtr domain, xmlDoc **ret_doc, OmemDomainMemory **ret_memory)
{
	const char *name = virDomainGetName(domain);
	g_autofree char *xml = virDomainGetXMLDesc(domain, 0);
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;

	if (!xml) {
		omem_error_raise_libvirt("Reading the live XML of domain %s failed", name);
		return -1;
	}
	doc = omem_xml_parse(xml, strlen(xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0)
		return -1;
	if (memory->devices->len == 0) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has no virtio-mem device; convert it with virt-omem convert.",
				 name);
		return -1;
	}
	*ret_doc = g_steal_pointer(&doc);
	*ret_memory = g_steal_pointer(&memory);
	return 0;
}

/* The granule every device can plug in: the largest block size, which the
 * others must divide (libvirt's block sizes are powers of two, so they
 * do).  0 with OMEM_ERR_UNSUPPORTED otherwise. */
static unsigned long long omem_live_block(const OmemDomainMemory *memory)
{
	unsigned long long block = memory->block_bytes;

	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);

		if (block % device->block_bytes) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has virtio-mem block sizes %llu and %llu bytes that do not divide each other; give every device the same block size.",
					 memory->name, device->block_bytes, block);
			return 0;
		}
	}
	return block;
}

/* Sum @memory's devices into @ret_state (and copy each into
 * @ret_devices when not NULL); -1 with OMEM_ERR_XML when a device claims
 * more than its size, or OMEM_ERR_UNSUPPORTED for block sizes that do not
 * divide each other. */
static int omem_live_summarize(const OmemDomainMemory *memory, OmemMemoryState *ret_state,
			       OmemMemoryDevice **ret_devices)
{
	OmemMemoryState state = { 0 };
	g_autofree OmemMemoryDevice *devices = NULL;

	state.boot_bytes = memory->boot_bytes;
	state.device_bytes = memory->device_bytes;
	state.devices = memory->devices->len;
	if (memory->devices->len) {
		state.block_bytes = omem_live_block(memory);
		if (!state.block_bytes)
			return -1;
	}
	if (ret_devices)
		devices = g_new0(OmemMemoryDevice, memory->devices->len + 1);
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);

		/* Each is at most its device's size in a sane XML; refuse the rest
		 * rather than wrap. */
		if (device->requested_bytes > device->size_bytes || device->plugged_bytes > device->size_bytes) {
			omem_error_raise(OMEM_ERR_XML, "Domain %s: a virtio-mem device reports requested %llu or plugged %llu bytes beyond its size of %llu bytes; check the domain with virsh dumpxml.",
					 memory->name, device->requested_bytes, device->plugged_bytes,
					 device->size_bytes);
			if (devices)
				omem_memory_devices_free(g_steal_pointer(&devices), i);
			return -1;
		}
		state.requested_bytes += device->requested_bytes;
		state.plugged_bytes += device->plugged_bytes;
		if (devices)
			devices[i] = (OmemMemoryDevice){
				.alias = g_strdup(device->alias),
				.size_bytes = device->size_bytes,
				.block_bytes = device->block_bytes,
				.requested_bytes = device->requested_bytes,
				.plugged_bytes = device->plugged_bytes,
			};
	}
	*ret_state = state;
	if (ret_devices)
		*ret_devices = g_steal_pointer(&devices);
	return 0;
}

int omem_domain_memory_state(virDomainPtr domain, OmemMemoryState *ret_state)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;

	if (!domain || !ret_state) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_memory_state needs a domain and a place to return the state; pass both.");
		return -1;
	}
	if (omem_live_read(domain, &doc, &memory) < 0)
		return -1;
	return omem_live_summarize(memory, ret_state, NULL);
}

int omem_domain_xml_memory_state(const char *domain_xml, OmemMemoryState *ret_state,
				 OmemMemoryDevice **ret_devices)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;

	if (!domain_xml || !ret_state) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_xml_memory_state needs a domain XML and a place to return the state; pass both.");
		return -1;
	}
	doc = omem_xml_parse(domain_xml, strlen(domain_xml), OMEM_ERR_XML, "domain XML");
	if (!doc || omem_domain_xml_read_memory(doc, &memory) < 0)
		return -1;
	return omem_live_summarize(memory, ret_state, ret_devices);
}

void omem_memory_devices_free(OmemMemoryDevice *devices, unsigned int count)
{
	if (!devices)
		return;
	for (unsigned int i = 0; i < count; i++)
		g_free(devices[i].alias);
	g_free(devices);
}

int omem_live_split_requested(const OmemDomainMemory *memory, unsigned long long requested_bytes,
			      unsigned long long *ret_requested)
{
	guint count = memory->devices->len;
	g_autofree unsigned long long *units = NULL;
	g_autofree unsigned long long *remainders = NULL;
	unsigned long long block, capacity = 0, wanted, given = 0;

	if (count == 0) {
		omem_error_raise(OMEM_ERR_NOT_OMEM, "Domain %s has no virtio-mem device; convert it with virt-omem convert.",
				 memory->name);
		return -1;
	}
	block = omem_live_block(memory);
	if (!block)
		return -1;
	for (guint i = 0; i < count; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);

		capacity += device->size_bytes / block;
	}
	if (requested_bytes % block) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "The requested %llu bytes for domain %s are not a multiple of its virtio-mem block size of %llu bytes; round the request to a multiple of %llu bytes.",
				 requested_bytes, memory->name, block, block);
		return -1;
	}
	wanted = requested_bytes / block;
	if (wanted > capacity) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "The requested %llu bytes for domain %s are more than its virtio-mem devices can hold (%llu bytes); request at most that.",
				 requested_bytes, memory->name, capacity * block);
		return -1;
	}

	/* Largest-remainder apportionment in whole blocks: each device gets
	 * floor(wanted * its share), the blocks left over go one each to the
	 * devices with the largest remainders (earlier devices win ties), and
	 * none exceeds its size because wanted <= capacity. */
	units = g_new0(unsigned long long, count);
	remainders = g_new0(unsigned long long, count);
	for (guint i = 0; i < count && capacity > 0; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);
		unsigned __int128 product = (unsigned __int128)wanted * (device->size_bytes / block);

		units[i] = (unsigned long long)(product / capacity);
		remainders[i] = (unsigned long long)(product % capacity);
		given += units[i];
	}
	while (given < wanted) {
		guint best = 0;

		for (guint i = 1; i < count; i++) {
			if (remainders[i] > remainders[best])
				best = i;
		}
		units[best]++;
		remainders[best] = 0;
		given++;
	}
	for (guint i = 0; i < count; i++)
		ret_requested[i] = units[i] * block;
	return 0;
}

char *omem_live_device_xml(xmlDoc *doc, const OmemVirtioMemDevice *device,
			   unsigned long long requested_bytes)
{
	xmlNode *copy = xmlDocCopyNode(device->node, doc, 1);
	xmlNode *target, *requested;
	bool kibibytes = requested_bytes % 1024 == 0;
	g_autofree char *value = g_strdup_printf("%llu", kibibytes ? requested_bytes / 1024 : requested_bytes);
	char *xml;

	if (!copy) {
		omem_error_raise(OMEM_ERR_NO_MEMORY, "Copying a virtio-mem device's XML failed: out of memory.");
		return NULL;
	}
	target = omem_xml_child(copy, "target");
	requested = omem_xml_child(target, "requested");
	if (!requested)
		requested = xmlNewChild(target, NULL, BAD_CAST "requested", NULL);
	if (requested) {
		xmlNodeSetContent(requested, BAD_CAST value);
		xmlSetProp(requested, BAD_CAST "unit", BAD_CAST (kibibytes ? "KiB" : "bytes"));
	}
	xml = requested ? omem_xml_node_format(doc, copy) : NULL;
	xmlFreeNode(copy);
	if (!xml)
		omem_error_raise(OMEM_ERR_NO_MEMORY, "Writing a virtio-mem device's XML failed: out of memory.");
	return xml;
}

int omem_domain_set_requested(virDomainPtr domain, unsigned long long requested_bytes)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	g_autofree unsigned long long *shares = NULL;
	const char *name;
	unsigned int changed = 0;
	int active;

	if (!domain) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_set_requested needs a domain; pass one.");
		return -1;
	}
	name = virDomainGetName(domain);
	active = virDomainIsActive(domain);
	if (active < 0) {
		omem_error_raise_libvirt("Checking whether domain %s is running failed", name);
		return -1;
	}
	if (!active) {
		omem_error_set(OMEM_ERR_LIBVIRT, VIR_ERR_OPERATION_INVALID, __FILE__, __LINE__, G_STRFUNC,
			       "Domain %s is not running; its virtio-mem devices' requested size changes only live, so start it first.",
			       name);
		return -1;
	}
	if (omem_live_read(domain, &doc, &memory) < 0)
		return -1;
	shares = g_new0(unsigned long long, memory->devices->len);
	if (omem_live_split_requested(memory, requested_bytes, shares) < 0)
		return -1;
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);
		g_autofree char *xml = NULL;

		if (shares[i] == device->requested_bytes)
			continue;
		xml = omem_live_device_xml(doc, device, shares[i]);
		if (!xml)
			return -1;
		if (virDomainUpdateDeviceFlags(domain, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			omem_error_raise_libvirt("Changing the requested size of virtio-mem device %s of domain %s to %llu bytes failed (%u device(s) changed before it keep their new size)",
						 device->alias ? device->alias : "(no alias)", name,
						 shares[i], changed);
			return -1;
		}
		changed++;
	}
	return 0;
}

int omem_domain_reissue_requested(virDomainPtr domain)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(OmemDomainMemory) memory = NULL;
	const char *name;

	if (!domain) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "omem_domain_reissue_requested needs a domain; pass one.");
		return -1;
	}
	name = virDomainGetName(domain);
	if (omem_live_read(domain, &doc, &memory) < 0)
		return -1;
	for (guint i = 0; i < memory->devices->len; i++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, i);
		g_autofree char *xml = NULL;

		if (device->plugged_bytes <= device->requested_bytes)
			continue;
		xml = omem_live_device_xml(doc, device, device->requested_bytes);
		if (!xml)
			return -1;
		if (virDomainUpdateDeviceFlags(domain, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			omem_error_raise_libvirt("Re-sending the requested size of virtio-mem device %s of domain %s failed",
						 device->alias ? device->alias : "(no alias)", name);
			return -1;
		}
	}
	return 0;
}
