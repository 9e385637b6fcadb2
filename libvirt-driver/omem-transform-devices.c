/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-transform-devices.c: what an omem domain needs besides memory: a
 * virtio balloon used only for free page reporting, ACPI (memory and PCI
 * hotplug), a free hotplug slot for omemd's conventional-PCI transport
 * device (ivshmem-doorbell) and, for direct kernel boot, the kernel
 * parameter that keeps every plugged block unpluggable.
 */
#include "config.h"

#include <string.h>

#include "omem-virt-internal.h"

/* The kernel parameter that onlines hot-plugged memory as ZONE_MOVABLE, so
 * virtio_mem can unplug any block it plugged (docs/architecture.md). */
#define OMEM_TRANSFORM_MEMHP_NAME "memhp_default_state="
#define OMEM_TRANSFORM_MEMHP "memhp_default_state=online_movable"

/* A virtio balloon with free page reporting: the guest hands freed pages
 * back to the host.  It is never inflated: <currentMemory> stays at the
 * domain's total, which QEMU caps at boot RAM.  <stats>, <address>,
 * <alias> and autodeflate of an existing balloon stay as they are. */
static void omem_transform_balloon(xmlNode *devices)
{
	xmlNode *balloon = omem_xml_child(devices, "memballoon");
	g_autofree char *model = NULL;

	if (!balloon) {
		balloon = xmlNewNode(NULL, BAD_CAST "memballoon");
		omem_transform_xml_insert(devices, balloon, NULL);
	}
	model = omem_xml_attribute(balloon, "model");
	if (!model || !g_str_has_prefix(model, "virtio"))
		xmlSetProp(balloon, BAD_CAST "model", BAD_CAST "virtio");
	xmlSetProp(balloon, BAD_CAST "freePageReporting", BAD_CAST "on");
}

/* <features><acpi/>: memory and PCI hotplug both go through ACPI. */
static void omem_transform_acpi(xmlNode *domain)
{
	static const char *const before_features[] = { "os", NULL };
	xmlNode *features = omem_transform_xml_ensure(domain, "features", before_features);

	if (!omem_xml_child(features, "acpi"))
		omem_transform_xml_insert(features, xmlNewNode(NULL, BAD_CAST "acpi"),
					  xmlFirstElementChild(features));
}

/* q35 has no hotpluggable conventional PCI slot of its own: add a
 * pcie-root-port and a pcie-to-pci-bridge behind it (libvirt assigns
 * their addresses) unless the domain has a bridge already. */
static void omem_transform_pci_slot(xmlNode *devices)
{
	unsigned long long next_index = 1;
	xmlNode *last = NULL, *before, *root_port, *bridge;
	char index[32];

	for (xmlNode *node = devices->children; node; node = node->next) {
		g_autofree char *text = NULL;
		unsigned long long value;

		if (!omem_transform_xml_is(node, "controller"))
			continue;
		last = node;
		if (!omem_transform_xml_attribute_is(node, "type", "pci"))
			continue;
		if (omem_transform_xml_attribute_is(node, "model", "pcie-to-pci-bridge"))
			return;
		text = omem_xml_attribute(node, "index");
		if (text && omem_xml_parse_unsigned(text, &value) == 0 && value < G_MAXINT - 2)
			next_index = MAX(next_index, value + 1);
	}
	before = last ? xmlNextElementSibling(last) : NULL;
	root_port = xmlNewNode(NULL, BAD_CAST "controller");
	xmlSetProp(root_port, BAD_CAST "type", BAD_CAST "pci");
	g_snprintf(index, sizeof(index), "%llu", next_index);
	xmlSetProp(root_port, BAD_CAST "index", BAD_CAST index);
	xmlSetProp(root_port, BAD_CAST "model", BAD_CAST "pcie-root-port");
	omem_transform_xml_insert(devices, root_port, before);
	bridge = xmlNewNode(NULL, BAD_CAST "controller");
	xmlSetProp(bridge, BAD_CAST "type", BAD_CAST "pci");
	g_snprintf(index, sizeof(index), "%llu", next_index + 1);
	xmlSetProp(bridge, BAD_CAST "index", BAD_CAST index);
	xmlSetProp(bridge, BAD_CAST "model", BAD_CAST "pcie-to-pci-bridge");
	omem_transform_xml_insert(devices, bridge, before);
}

/* The kernel's own parameters end at a lone "--"; what follows goes to
 * init.  Returns the length of the kernel's part of @cmdline. */
static size_t omem_transform_kernel_part(const char *cmdline)
{
	const char *p = cmdline;

	while (*p) {
		const char *start;
		bool quoted = false;

		while (g_ascii_isspace(*p))
			p++;
		start = p;
		while (*p && (quoted || !g_ascii_isspace(*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (p - start == 2 && !strncmp(start, "--", 2))
			return (size_t)(start - cmdline);
	}
	return strlen(cmdline);
}

/* @cmdline without any memhp_default_state= parameter in the kernel's
 * part (each dropped with the blanks before it) and, if @replacement is not
 * NULL, with it at the end of the kernel's part: always the same place, so
 * convert, revert and convert again give the same line. */
static char *omem_transform_edit_cmdline(const char *cmdline, const char *replacement)
{
	const char *kernel_end = cmdline + omem_transform_kernel_part(cmdline);
	GString *out = g_string_new(NULL);
	const char *p = cmdline;

	while (p < kernel_end) {
		const char *blank = p, *start;
		bool quoted = false;

		while (g_ascii_isspace(*p))
			p++;
		if (p >= kernel_end) {
			p = blank;
			break;
		}
		start = p;
		while (*p && (quoted || !g_ascii_isspace(*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (!g_str_has_prefix(start, OMEM_TRANSFORM_MEMHP_NAME)) {
			g_string_append_len(out, blank, p - blank);
		} else if (out->len == 0) {
			/* The first parameter goes: drop the blanks after it instead. */
			while (g_ascii_isspace(*p))
				p++;
		}
	}
	if (replacement) {
		while (out->len && g_ascii_isspace(out->str[out->len - 1]))
			g_string_truncate(out, out->len - 1);
		if (out->len)
			g_string_append_c(out, ' ');
		g_string_append(out, replacement);
		while (g_ascii_isspace(*p))
			p++;
		if (*p)
			g_string_append_c(out, ' ');
	}
	g_string_append(out, p);
	return g_string_free(out, FALSE);
}

/* Replace @node's content by @text taken literally (no entity parsing). */
static void omem_transform_set_text(xmlNode *node, const char *text)
{
	xmlNodeSetContent(node, NULL);
	xmlNodeAddContent(node, BAD_CAST text);
}

/* Direct kernel boot: memhp_default_state=online_movable on <cmdline>.
 * A disk-booted guest's image sets it itself (docs/transform.md). */
static void omem_transform_cmdline(xmlNode *domain)
{
	static const char *const before_cmdline[] = { "type", "loader", "nvram", "kernel", "initrd", NULL };
	xmlNode *os = omem_xml_child(domain, "os");
	xmlNode *cmdline;
	g_autofree char *text = NULL;
	g_autofree char *edited = NULL;

	if (!omem_xml_child(os, "kernel"))
		return;
	cmdline = omem_transform_xml_ensure(os, "cmdline", before_cmdline);
	text = omem_xml_text(cmdline);
	edited = omem_transform_edit_cmdline(text, OMEM_TRANSFORM_MEMHP);
	if (strcmp(text, edited))
		omem_transform_set_text(cmdline, edited);
}

void omem_transform_devices_convert(xmlNode *domain, OmemTransformMachine machine)
{
	xmlNode *devices = omem_transform_xml_ensure(domain, "devices", NULL);

	omem_transform_balloon(devices);
	omem_transform_acpi(domain);
	if (machine == OMEM_TRANSFORM_MACHINE_Q35)
		omem_transform_pci_slot(devices);
	omem_transform_cmdline(domain);
}

void omem_transform_devices_revert(xmlNode *domain)
{
	xmlNode *cmdline = omem_xml_child(omem_xml_child(domain, "os"), "cmdline");
	g_autofree char *text = cmdline ? omem_xml_text(cmdline) : NULL;
	g_autofree char *edited = NULL;

	if (!cmdline)
		return;
	/* Only omem's value goes; another value was the operator's. */
	if (!strstr(text, OMEM_TRANSFORM_MEMHP))
		return;
	edited = omem_transform_edit_cmdline(text, NULL);
	if (!*edited)
		omem_transform_xml_remove(cmdline);
	else
		omem_transform_set_text(cmdline, edited);
}
