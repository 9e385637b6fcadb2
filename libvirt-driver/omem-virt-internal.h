/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-virt-internal.h: helpers shared by libomem-virt's files, not
 * installed.  Errors are raised once, where they happen, with file and
 * line; the public API returns -1/NULL and the caller reads
 * omem_error_last().
 */
#ifndef OMEM_VIRT_INTERNAL_H
#define OMEM_VIRT_INTERNAL_H

#include <glib.h>

#include "omem-virt.h"

/* Record the calling thread's last error.  Messages are whole sentences
 * written at the call site, never pieced together from fragments, so they
 * stay greppable. */
void omem_error_set(OmemErrorCode code, int libvirt_code, const char *file, int line,
		    const char *function, const char *format, ...) G_GNUC_PRINTF(6, 7);

#define omem_error_raise(code, ...) \
	omem_error_set((code), 0, __FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)

/* Record a libvirt failure: libvirt's own last error is appended to the
 * message after ": " and its code kept in libvirt_code. */
void omem_error_set_libvirt(const char *file, int line, const char *function,
			    const char *format, ...) G_GNUC_PRINTF(4, 5);

#define omem_error_raise_libvirt(...) \
	omem_error_set_libvirt(__FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)

/* libxml2 types for g_autoptr. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

/* libvirt handles for g_autoptr (virDomainFree/virConnectClose drop one
 * reference each). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)

/* ------------------------------------------------ XML helpers (omem-xml.c) */

/* Parse @length bytes of XML text (no network access, nothing printed).
 * NULL with @code (OMEM_ERR_XML or OMEM_ERR_METADATA) naming @what, e.g.
 * "domain XML", when it is not well-formed. */
xmlDoc *omem_xml_parse(const char *xml, size_t length, OmemErrorCode code, const char *what);

/* The first child element of @parent named @name in no namespace (domain
 * XML's own elements), or NULL; @parent may be NULL. */
xmlNode *omem_xml_child(const xmlNode *parent, const char *name);

/* @node's text content, never NULL; free with g_free. */
char *omem_xml_text(const xmlNode *node);

/* @node's attribute @name (no namespace), or NULL; free with g_free. */
char *omem_xml_attribute(const xmlNode *node, const char *name);

/* A decimal number, surrounding whitespace allowed, nothing else (no
 * sign, no exponent, no hex).  0, -EINVAL or -ERANGE (above 2^64 - 1);
 * raises no error: the caller knows what the number was. */
int omem_xml_parse_unsigned(const char *text, unsigned long long *ret_value);

/* A size in bytes from a number (blanks around it allowed) and a libvirt
 * unit name, in omem's one grammar (omem-size.h; NULL or "" is KiB as in
 * libvirt's domain XML).  0, -EINVAL or -ERANGE; raises none. */
int omem_xml_parse_size(const char *number, const char *unit, unsigned long long *ret_bytes);

/* omem_xml_parse_size of @node's text and its unit attribute. */
int omem_xml_read_size(const xmlNode *node, unsigned long long *ret_bytes);

/* @node serialized as it stands (children and attributes included), or
 * NULL when out of memory; free with g_free. */
char *omem_xml_node_format(xmlDoc *doc, xmlNode *node);

/* ---------------------------------------- domain XML (omem-domain-xml.c) */

/* One <devices>/<memory model='virtio-mem'> element of a domain XML. */
typedef struct {
	xmlNode *node;                      /* the element, inside the document read */
	char *alias;                        /* <alias name>, NULL in inactive XML */
	int numa_node;                      /* <target><node>, -1 if absent */
	unsigned long long size_bytes;      /* <target><size> */
	unsigned long long block_bytes;     /* <target><block>, non-zero, divides size */
	unsigned long long requested_bytes; /* <target><requested>, 0 if absent */
	unsigned long long plugged_bytes;   /* <target><current> (live XML), 0 if absent */
} OmemVirtioMemDevice;

/* What a domain XML says about its memory, as docs/architecture.md
 * defines boot and max.  Device nodes point into the document that was read: keep
 * it alive as long as this. */
typedef struct {
	char *name;                         /* <name>, for messages */
	unsigned long long memory_bytes;    /* <memory>, 0 if absent */
	unsigned long long boot_bytes;      /* NUMA cells' memory, or <memory> minus the devices */
	unsigned long long device_bytes;    /* the virtio-mem devices' total size */
	unsigned long long block_bytes;     /* their largest block, 0 without devices */
	unsigned long long max_bytes;       /* boot + device_bytes */
	unsigned int cells;                 /* guest NUMA cells */
	GPtrArray *devices;                 /* OmemVirtioMemDevice *, document order */
} OmemDomainMemory;

/* Read boot, max and the virtio-mem devices of a domain document; -1 with
 * OMEM_ERR_XML when it is not a domain or a size does not parse or
 * overflows.  A domain without virtio-mem devices is not an error here. */
int omem_domain_xml_read_memory(xmlDoc *doc, OmemDomainMemory **ret_memory);
void omem_domain_xml_memory_free(OmemDomainMemory *memory);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OmemDomainMemory, omem_domain_xml_memory_free)

/* ------------------------------------- contract internals (omem-contract.c) */

/* Parse an omem contract element: either bare, as virDomainGetMetadata
 * returns it (<contract> and children in no namespace), or namespaced
 * (OMEM_CONTRACT_NAMESPACE on the element and every child), as it sits in
 * a domain's <metadata>.  Boot and max stay 0; min and cap left out stay
 * unset until omem_contract_apply_domain.  -1 with OMEM_ERR_METADATA. */
int omem_contract_parse_element(xmlNode *element, OmemContract **ret_contract);

/* omem_contract_parse_element of a whole XML text. */
int omem_contract_parse_metadata(const char *xml, size_t length, OmemContract **ret_contract);

/* Take boot and max from the domain; a min or cap the metadata left out
 * becomes boot or max. */
void omem_contract_apply_domain(OmemContract *contract, unsigned long long boot_bytes,
				unsigned long long max_bytes);

/* The contract element without namespace, as virDomainSetMetadata wants
 * it (libvirt adds the namespace and prefix itself). */
char *omem_contract_format_bare(const OmemContract *contract);

/* ----------------------------------------- live internals (omem-live.c) */

/* Split @requested_bytes over @devices in proportion to their sizes, each
 * share a whole number of the largest block size (the sum is exactly
 * @requested_bytes).  @ret_requested has one entry per device.  -1 with
 * OMEM_ERR_INVALID_ARG and the numbers when the request is above what the
 * devices can hold or not a multiple of the block. */
int omem_live_split_requested(const OmemDomainMemory *memory, unsigned long long requested_bytes,
			      unsigned long long *ret_requested);

/* The XML of @device exactly as in @doc (<address> and <alias> included)
 * with only <requested> set to @requested_bytes, for
 * virDomainUpdateDeviceFlags.  NULL with an error on failure. */
char *omem_live_device_xml(xmlDoc *doc, const OmemVirtioMemDevice *device,
			   unsigned long long requested_bytes);

/* ------------------------- domain transform internals (omem-transform*.c) */

/* Machine families whose memory hotplug and PCI hotplug the transform
 * knows. */
typedef enum {
	OMEM_TRANSFORM_MACHINE_I440FX, /* pc: pci-root slots are hotpluggable */
	OMEM_TRANSFORM_MACHINE_Q35,    /* q35: needs a pcie-to-pci-bridge */
} OmemTransformMachine;

/* Refuse what cannot become an omem domain (omem-transform-check.c): a
 * domain type other than kvm/qemu, an architecture or machine type without
 * memory hotplug, locked or hugepage memory, VFIO or vDPA devices, memory
 * devices other than virtio-mem, a kernel command line with an unterminated
 * quote.  -1 with OMEM_ERR_UNSUPPORTED naming the
 * reason. */
int omem_transform_check(xmlDoc *doc, const char *name, OmemTransformMachine *ret_machine);

/* Boot RAM, guest NUMA cells, one virtio-mem device per node, <memory>,
 * <currentMemory>, <maxMemory> and memfd shared backing for figures in
 * bytes (block multiples, boot < max, boot <= min <= max)
 * (omem-transform-memory.c). */
int omem_transform_memory_convert(xmlNode *domain, const OmemDomainMemory *memory,
				  unsigned long long boot_bytes, unsigned long long min_bytes,
				  unsigned long long max_bytes);

/* Plain RAM of the domain's max again: cells scaled, devices and
 * <maxMemory> gone. */
void omem_transform_memory_revert(xmlNode *domain, const OmemDomainMemory *memory);

/* The free-page-reporting balloon, ACPI, the PCI hotplug slot and the
 * kernel command line (omem-transform-devices.c). */
void omem_transform_devices_convert(xmlNode *domain, OmemTransformMachine machine);

/* Take memhp_default_state=online_movable off the kernel command line. */
void omem_transform_devices_revert(xmlNode *domain);

/* Editing helpers that keep the document's layout (omem-transform-xml.c). */
/* Insert @node (which @parent takes) before @before, NULL: at the end. */
void omem_transform_xml_insert(xmlNode *parent, xmlNode *node, xmlNode *before);
/* Insert @node after the last child named in @after (NULL-terminated), or
 * first when there is none, so new elements land in libvirt's order. */
void omem_transform_xml_insert_after(xmlNode *parent, xmlNode *node, const char *const *after);
/* Put @node where @old was and free @old. */
void omem_transform_xml_replace(xmlNode *old, xmlNode *node);
/* Unlink and free @node and the indentation before it. */
void omem_transform_xml_remove(xmlNode *node);
/* @parent's child @name, created after @after (NULL: at the end). */
xmlNode *omem_transform_xml_ensure(xmlNode *parent, const char *name, const char *const *after);
/* Set @node's text to @bytes in KiB, unit='KiB'. */
void omem_transform_xml_set_kib(xmlNode *node, unsigned long long bytes);
/* Set attribute @name to @bytes in KiB, unit='KiB'. */
void omem_transform_xml_set_kib_attribute(xmlNode *node, const char *name,
					  unsigned long long bytes);
bool omem_transform_xml_attribute_is(const xmlNode *node, const char *name, const char *value);
/* Whether @node is an element @name in no namespace. */
bool omem_transform_xml_is(const xmlNode *node, const char *name);

#endif /* OMEM_VIRT_INTERNAL_H */
