/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-transform-memory.c: the memory side of the domain transform: boot
 * RAM in guest NUMA cells, one virtio-mem device per cell, the totals
 * libvirt checks (<memory>, <currentMemory>, <maxMemory>) and memfd
 * shared backing; and the way back to plain RAM.
 */
#include "config.h"

#include <string.h>

#include "omem-virt-internal.h"

/* QEMU's MAX_NODES: no guest has more NUMA nodes, and the bound keeps the
 * proportional split cheap on hostile input. */
#define OMEM_TRANSFORM_MAX_CELLS 128u

/* Where libvirt writes the top-level memory elements, for inserting new
 * ones in its order. */
static const char *const omem_transform_before_max_memory[] = {
	"name", "uuid", "genid", "title", "description", "metadata", NULL
};
static const char *const omem_transform_before_memory[] = {
	"name", "uuid", "genid", "title", "description", "metadata", "maxMemory", NULL
};
static const char *const omem_transform_before_current_memory[] = {
	"name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", NULL
};
static const char *const omem_transform_before_backing[] = {
	"name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
	"currentMemory", "blkiotune", "memtune", NULL
};
static const char *const omem_transform_before_cpu[] = { "os", "features", NULL };

/* One guest NUMA cell and what the transform gives it. */
typedef struct {
	xmlNode *node;                      /* the <cell> element */
	unsigned int id;                    /* its id, the virtio-mem device's <node> */
	unsigned long long weight;          /* its memory before, bytes */
	unsigned long long boot_bytes;      /* its memory after */
	unsigned long long device_bytes;    /* its virtio-mem device's size */
	unsigned long long requested_bytes; /* and requested size */
	xmlNode *device;                    /* its virtio-mem device, if it has one */
} OmemTransformCell;

/* Split @total (a multiple of @unit) into @n parts, multiples of @unit, in
 * proportion to @weights (equal parts when every weight is 0); the parts
 * sum to @total exactly (largest remainder first, earlier parts on ties). */
static void omem_transform_split(unsigned long long total, unsigned long long unit,
				 unsigned long long *weights, size_t n,
				 unsigned long long *ret_parts)
{
	g_autofree unsigned long long *remainders = g_new0(unsigned long long, n);
	unsigned long long units = total / unit, sum, given = 0, largest;
	bool overflow;

	/* Scale the weights down until units * weight and their sum fit. */
	do {
		sum = 0;
		largest = 0;
		overflow = false;
		for (size_t i = 0; i < n; i++) {
			overflow = overflow || sum > G_MAXUINT64 - weights[i];
			sum += weights[i];
			largest = MAX(largest, weights[i]);
		}
		overflow = overflow || (largest && units > G_MAXUINT64 / largest);
		if (overflow) {
			for (size_t i = 0; i < n; i++)
				weights[i] >>= 1;
		}
	} while (overflow);
	if (sum == 0) {
		for (size_t i = 0; i < n; i++)
			weights[i] = 1;
		sum = n;
	}
	for (size_t i = 0; i < n; i++) {
		ret_parts[i] = units * weights[i] / sum;
		remainders[i] = units * weights[i] % sum;
		given += ret_parts[i];
	}
	while (given < units) {
		size_t best = 0;

		for (size_t i = 1; i < n; i++) {
			if (remainders[i] > remainders[best])
				best = i;
		}
		ret_parts[best]++;
		remainders[best] = 0;
		given++;
	}
	for (size_t i = 0; i < n; i++)
		ret_parts[i] *= unit;
}

/* The domain's vCPU count (<vcpu>, 1 when absent). */
static int omem_transform_vcpus(xmlNode *domain, const char *name, unsigned long long *ret_vcpus)
{
	xmlNode *vcpu = omem_xml_child(domain, "vcpu");
	g_autofree char *text = vcpu ? omem_xml_text(vcpu) : NULL;

	*ret_vcpus = 1;
	if (vcpu && (omem_xml_parse_unsigned(text, ret_vcpus) < 0 || *ret_vcpus == 0 ||
		     *ret_vcpus > G_MAXUINT)) {
		omem_error_raise(OMEM_ERR_XML, "Domain %s: <vcpu> '%s' is not a vCPU count; fix the domain XML.",
				 name, text);
		return -1;
	}
	return 0;
}

/* The guest NUMA cells, created (one cell with every vCPU and @boot_bytes)
 * when the domain has none. */
static int omem_transform_cells(xmlNode *domain, const char *name, unsigned long long boot_bytes,
				bool create, GArray *cells)
{
	xmlNode *cpu = omem_xml_child(domain, "cpu");
	xmlNode *numa = omem_xml_child(cpu, "numa");
	unsigned int index = 0;

	for (xmlNode *node = numa ? numa->children : NULL; node; node = node->next) {
		OmemTransformCell cell = { .node = node, .id = index };
		g_autofree char *id = NULL;
		g_autofree char *memory = NULL;
		g_autofree char *unit = NULL;
		unsigned long long value;

		if (!omem_transform_xml_is(node, "cell"))
			continue;
		if (++index > OMEM_TRANSFORM_MAX_CELLS) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has more than %u guest NUMA cells; QEMU supports no more.",
					 name, OMEM_TRANSFORM_MAX_CELLS);
			return -1;
		}
		id = omem_xml_attribute(node, "id");
		if (id) {
			if (omem_xml_parse_unsigned(id, &value) < 0 || value >= OMEM_TRANSFORM_MAX_CELLS) {
				omem_error_raise(OMEM_ERR_XML, "Domain %s: NUMA cell id '%s' is not a node number below %u; fix the domain XML.",
						 name, id, OMEM_TRANSFORM_MAX_CELLS);
				return -1;
			}
			cell.id = (unsigned int)value;
		}
		memory = omem_xml_attribute(node, "memory");
		unit = omem_xml_attribute(node, "unit");
		/* omem_domain_xml_read_memory already parsed it. */
		if (omem_xml_parse_size(memory, unit, &cell.weight) < 0)
			cell.weight = 0;
		g_array_append_val(cells, cell);
	}
	if (cells->len || !create)
		return 0;

	{
		OmemTransformCell cell = { 0 };
		unsigned long long vcpus;
		g_autofree char *cpus = NULL;

		if (omem_transform_vcpus(domain, name, &vcpus) < 0)
			return -1;
		cpus = vcpus == 1 ? g_strdup("0") : g_strdup_printf("0-%llu", vcpus - 1);
		if (!cpu) {
			cpu = xmlNewNode(NULL, BAD_CAST "cpu");
			omem_transform_xml_insert_after(domain, cpu, omem_transform_before_cpu);
		}
		numa = omem_transform_xml_ensure(cpu, "numa", NULL);
		cell.node = xmlNewNode(NULL, BAD_CAST "cell");
		xmlSetProp(cell.node, BAD_CAST "id", BAD_CAST "0");
		xmlSetProp(cell.node, BAD_CAST "cpus", BAD_CAST cpus);
		omem_transform_xml_set_kib_attribute(cell.node, "memory", boot_bytes);
		omem_transform_xml_insert(numa, cell.node, NULL);
		cell.weight = boot_bytes;
		g_array_append_val(cells, cell);
	}
	return 0;
}

/* Give every cell its virtio-mem device from @memory's devices: the first
 * on its node, else one without a node; the rest are removed. */
static void omem_transform_match_devices(GArray *cells, const OmemDomainMemory *memory)
{
	g_autofree bool *used = g_new0(bool, memory->devices->len + 1);

	for (int pass = 0; pass < 2; pass++) {
		for (guint c = 0; c < cells->len; c++) {
			OmemTransformCell *cell = &g_array_index(cells, OmemTransformCell, c);

			for (guint d = 0; !cell->device && d < memory->devices->len; d++) {
				const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, d);
				int wanted = pass == 0 ? (int)cell->id : -1;

				if (!used[d] && device->numa_node == wanted) {
					used[d] = true;
					cell->device = device->node;
				}
			}
		}
	}
	for (guint d = 0; d < memory->devices->len; d++) {
		const OmemVirtioMemDevice *device = g_ptr_array_index(memory->devices, d);

		if (!used[d])
			omem_transform_xml_remove(device->node);
	}
}

/* Set one size child of a virtio-mem <target>, created in libvirt's order. */
static void omem_transform_target_size(xmlNode *target, const char *name, unsigned long long bytes)
{
	static const char *const order[] = { "size", "node", "block", "requested", NULL };
	const char *after[G_N_ELEMENTS(order)] = { NULL };

	for (size_t i = 0; order[i] && strcmp(order[i], name); i++)
		after[i] = order[i];
	omem_transform_xml_set_kib(omem_transform_xml_ensure(target, name, after), bytes);
}

/* Write @cell's virtio-mem device, creating it after the last memory
 * device (or at the end of <devices>). */
static void omem_transform_write_device(xmlNode *domain, OmemTransformCell *cell)
{
	static const char *const before_node[] = { "size", NULL };
	xmlNode *target, *node;
	char id[16];

	if (!cell->device) {
		xmlNode *devices = omem_transform_xml_ensure(domain, "devices", NULL);
		xmlNode *last = NULL;

		for (xmlNode *child = devices->children; child; child = child->next) {
			if (omem_transform_xml_is(child, "memory"))
				last = child;
		}
		cell->device = xmlNewNode(NULL, BAD_CAST "memory");
		xmlSetProp(cell->device, BAD_CAST "model", BAD_CAST "virtio-mem");
		xmlNewChild(cell->device, NULL, BAD_CAST "target", NULL);
		omem_transform_xml_insert(devices, cell->device, last ? xmlNextElementSibling(last) : NULL);
	}
	target = omem_xml_child(cell->device, "target");
	omem_transform_target_size(target, "size", cell->device_bytes);
	g_snprintf(id, sizeof(id), "%u", cell->id);
	node = omem_transform_xml_ensure(target, "node", before_node);
	xmlNodeSetContent(node, BAD_CAST id);
	omem_transform_target_size(target, "block", OMEM_BLOCK_BYTES);
	omem_transform_target_size(target, "requested", cell->requested_bytes);
}

/* <memory>, <currentMemory> (the balloon target: QEMU caps it at boot RAM,
 * so the balloon is never inflated) and <maxMemory>, whose existing larger
 * values stay. */
static int omem_transform_write_totals(xmlNode *domain, const char *name,
				       unsigned long long max_bytes, unsigned int devices)
{
	xmlNode *max_memory = omem_xml_child(domain, "maxMemory");
	unsigned long long limit = max_bytes, slots = devices ? devices : 1;
	char text[32];

	if (max_memory) {
		g_autofree char *old_slots = omem_xml_attribute(max_memory, "slots");
		unsigned long long old_limit, old_slot_count = 0;

		if (omem_xml_read_size(max_memory, &old_limit) < 0 ||
		    (old_slots && omem_xml_parse_unsigned(old_slots, &old_slot_count) < 0) ||
		    old_slot_count > G_MAXUINT) {
			omem_error_raise(OMEM_ERR_XML, "Domain %s: <maxMemory> is not a size with a slot count; fix the domain XML.",
					 name);
			return -1;
		}
		limit = MAX(limit, old_limit / OMEM_BLOCK_BYTES * OMEM_BLOCK_BYTES);
		slots = MAX(slots, old_slot_count);
	} else {
		max_memory = xmlNewNode(NULL, BAD_CAST "maxMemory");
		omem_transform_xml_insert_after(domain, max_memory, omem_transform_before_max_memory);
	}
	g_snprintf(text, sizeof(text), "%llu", slots);
	xmlSetProp(max_memory, BAD_CAST "slots", BAD_CAST text);
	omem_transform_xml_set_kib(max_memory, limit);
	omem_transform_xml_set_kib(omem_transform_xml_ensure(domain, "memory", omem_transform_before_memory),
				   max_bytes);
	omem_transform_xml_set_kib(omem_transform_xml_ensure(domain, "currentMemory",
							     omem_transform_before_current_memory),
				   max_bytes);
	return 0;
}

/* memfd, shared: the host can reclaim, page out and discard it; the
 * backing's other children (<discard/>, <allocation>, ...) stay. */
static void omem_transform_write_backing(xmlNode *domain, GArray *cells)
{
	static const char *const before_source[] = { "hugepages", "nosharepages", "locked", NULL };
	static const char *const before_access[] = { "hugepages", "nosharepages", "locked", "source", NULL };
	xmlNode *backing = omem_transform_xml_ensure(domain, "memoryBacking", omem_transform_before_backing);
	xmlNode *source = omem_transform_xml_ensure(backing, "source", before_source);
	xmlNode *access = omem_transform_xml_ensure(backing, "access", before_access);

	xmlSetProp(source, BAD_CAST "type", BAD_CAST "memfd");
	xmlSetProp(access, BAD_CAST "mode", BAD_CAST "shared");
	/* A cell's memAccess overrides the domain's. */
	for (guint c = 0; c < cells->len; c++) {
		xmlNode *cell = g_array_index(cells, OmemTransformCell, c).node;

		if (xmlHasProp(cell, BAD_CAST "memAccess"))
			xmlSetProp(cell, BAD_CAST "memAccess", BAD_CAST "shared");
	}
}

int omem_transform_memory_convert(xmlNode *domain, const OmemDomainMemory *memory,
				  unsigned long long boot_bytes, unsigned long long min_bytes,
				  unsigned long long max_bytes)
{
	g_autoptr(GArray) cells = g_array_new(FALSE, TRUE, sizeof(OmemTransformCell));
	g_autofree unsigned long long *weights = NULL;
	g_autofree unsigned long long *parts = NULL;
	guint n;

	if (omem_transform_cells(domain, memory->name, boot_bytes, true, cells) < 0)
		return -1;
	n = cells->len;
	if (boot_bytes / OMEM_BLOCK_BYTES < n || (max_bytes - boot_bytes) / OMEM_BLOCK_BYTES < n) {
		omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s has %u NUMA cells but boot (%llu bytes) or max minus boot (%llu bytes) is less than one %llu-byte block per cell; give the domain more memory.",
				 memory->name, n, boot_bytes, max_bytes - boot_bytes, OMEM_BLOCK_BYTES);
		return -1;
	}
	weights = g_new0(unsigned long long, n);
	parts = g_new0(unsigned long long, n);

	/* Boot RAM over the cells in proportion to what they had... */
	for (guint c = 0; c < n; c++)
		weights[c] = g_array_index(cells, OmemTransformCell, c).weight;
	omem_transform_split(boot_bytes, OMEM_BLOCK_BYTES, weights, n, parts);
	for (guint c = 0; c < n; c++) {
		OmemTransformCell *cell = &g_array_index(cells, OmemTransformCell, c);

		if (parts[c] == 0) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s: NUMA cell %u would get no boot RAM out of %llu bytes; give the cell memory or the domain more boot RAM.",
					 memory->name, cell->id, boot_bytes);
			return -1;
		}
		cell->boot_bytes = parts[c];
		omem_transform_xml_set_kib_attribute(cell->node, "memory", cell->boot_bytes);
	}
	/* ...the devices in proportion to the cells' boot RAM... */
	for (guint c = 0; c < n; c++)
		weights[c] = g_array_index(cells, OmemTransformCell, c).boot_bytes;
	omem_transform_split(max_bytes - boot_bytes, OMEM_BLOCK_BYTES, weights, n, parts);
	for (guint c = 0; c < n; c++) {
		OmemTransformCell *cell = &g_array_index(cells, OmemTransformCell, c);

		if (parts[c] == 0) {
			omem_error_raise(OMEM_ERR_UNSUPPORTED, "Domain %s: NUMA cell %u would get an empty virtio-mem device out of %llu bytes; raise max.",
					 memory->name, cell->id, max_bytes - boot_bytes);
			return -1;
		}
		cell->device_bytes = parts[c];
	}
	/* ...and the requested size in proportion to the devices, which keeps
	 * every share within its device. */
	for (guint c = 0; c < n; c++)
		weights[c] = g_array_index(cells, OmemTransformCell, c).device_bytes;
	omem_transform_split(min_bytes - boot_bytes, OMEM_BLOCK_BYTES, weights, n, parts);
	for (guint c = 0; c < n; c++)
		g_array_index(cells, OmemTransformCell, c).requested_bytes = parts[c];

	omem_transform_match_devices(cells, memory);
	for (guint c = 0; c < n; c++)
		omem_transform_write_device(domain, &g_array_index(cells, OmemTransformCell, c));
	if (omem_transform_write_totals(domain, memory->name, max_bytes, n) < 0)
		return -1;
	omem_transform_write_backing(domain, cells);
	return 0;
}

void omem_transform_memory_revert(xmlNode *domain, const OmemDomainMemory *memory)
{
	g_autoptr(GArray) cells = g_array_new(FALSE, TRUE, sizeof(OmemTransformCell));
	xmlNode *max_memory = omem_xml_child(domain, "maxMemory");
	/* Cells scale in blocks when max allows it, else in KiB. */
	unsigned long long unit = memory->max_bytes % OMEM_BLOCK_BYTES ? 1024 : OMEM_BLOCK_BYTES;

	/* Cannot fail: omem_domain_xml_read_memory parsed the cells. */
	if (omem_transform_cells(domain, memory->name, 0, false, cells) == 0 && cells->len) {
		g_autofree unsigned long long *weights = g_new0(unsigned long long, cells->len);
		g_autofree unsigned long long *parts = g_new0(unsigned long long, cells->len);

		for (guint c = 0; c < cells->len; c++)
			weights[c] = g_array_index(cells, OmemTransformCell, c).weight;
		omem_transform_split(memory->max_bytes / unit * unit, unit, weights, cells->len, parts);
		for (guint c = 0; c < cells->len; c++)
			omem_transform_xml_set_kib_attribute(g_array_index(cells, OmemTransformCell, c).node,
							     "memory", parts[c]);
	}
	for (guint d = 0; d < memory->devices->len; d++)
		omem_transform_xml_remove(((OmemVirtioMemDevice *)g_ptr_array_index(memory->devices, d))->node);
	if (max_memory)
		omem_transform_xml_remove(max_memory);
	omem_transform_xml_set_kib(omem_transform_xml_ensure(domain, "memory", omem_transform_before_memory),
				   memory->max_bytes / 1024 * 1024);
	omem_transform_xml_set_kib(omem_transform_xml_ensure(domain, "currentMemory",
							     omem_transform_before_current_memory),
				   memory->max_bytes / 1024 * 1024);
}
