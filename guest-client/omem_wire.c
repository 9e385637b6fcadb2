// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_wire.c - what the guest checks of the host's writes: the payload
 * size of each type, the check every host message passes before the
 * session looks at it, and the check of the region header.  Pure: no
 * state, no locking, no logging; tests/fuzz/fuzz-guest-wire.c builds it in
 * user space.
 */
#include <asm/byteorder.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/stddef.h>

#include "omem_wire.h"

/* Payload bytes of each type (STATS varies and never comes from the host). */
static const u32 omem_wire_payload_table[OMEM_RPC_TYPE_MAX + 1] = {
	[OMEM_RPC_HELLO] = sizeof(struct omem_rpc_hello),
	[OMEM_RPC_WELCOME] = sizeof(struct omem_rpc_welcome),
	[OMEM_RPC_DEMAND] = sizeof(struct omem_rpc_demand),
	[OMEM_RPC_GRANT] = sizeof(struct omem_rpc_grant),
	[OMEM_RPC_DENY] = sizeof(struct omem_rpc_deny),
	[OMEM_RPC_SURPLUS] = sizeof(struct omem_rpc_surplus),
	[OMEM_RPC_RECLAIM] = sizeof(struct omem_rpc_reclaim),
	[OMEM_RPC_PING] = sizeof(struct omem_rpc_ping),
	[OMEM_RPC_PONG] = sizeof(struct omem_rpc_ping),
	[OMEM_RPC_GOODBYE] = sizeof(struct omem_rpc_goodbye),
	[OMEM_RPC_ERROR] = sizeof(struct omem_rpc_error),
};

/* Offset of a payload field within the slot, for ERROR's field_offset. */
#define OMEM_WIRE_FIELD(member) offsetof(struct omem_message, payload.member)

/* Payload bytes of @type (0 for an unknown type). */
u32 omem_wire_payload_bytes(u16 type)
{
	return type <= OMEM_RPC_TYPE_MAX ? omem_wire_payload_table[type] : 0;
}

/*
 * omem_wire_check_host_message() - is a host message well formed?
 * @message: a copy of the slot.
 * @field:   where the offending field's slot offset goes (0: the whole
 *           message).
 *
 * Pure: no state, no logging.  Whether the message fits the session's
 * state is the dispatcher's business.
 *
 * Return: 0, or an enum omem_rpc_error_code.
 */
u32 omem_wire_check_host_message(const struct omem_message *message, u16 *field)
{
	const typeof(message->payload) *p = &message->payload;
	u16 type = le16_to_cpu(message->header.type);
	u32 length = le32_to_cpu(message->header.length);
	u32 version;

	*field = 0;
	if (!type || type > OMEM_RPC_TYPE_MAX) {
		*field = offsetof(struct omem_rpc_header, type);
		return OMEM_RPC_ERR_UNKNOWN_TYPE;
	}
	if (!(OMEM_RPC_TYPES_FROM_HOST & OMEM_RPC_TYPE_BIT(type))) {
		*field = offsetof(struct omem_rpc_header, type);
		return OMEM_RPC_ERR_BAD_DIRECTION;
	}
	if (message->header.flags) {
		*field = offsetof(struct omem_rpc_header, flags);
		return OMEM_RPC_ERR_RESERVED_NONZERO;
	}
	*field = offsetof(struct omem_rpc_header, length);
	if (length < omem_wire_payload_bytes(type))
		return OMEM_RPC_ERR_TRUNCATED;
	if (length > omem_wire_payload_bytes(type))
		return OMEM_RPC_ERR_OVERSIZED;

	switch (type) {
	case OMEM_RPC_WELCOME:
		version = le16_to_cpu(p->welcome.version);
		*field = OMEM_WIRE_FIELD(welcome.version);
		if (version < OMEM_RPC_VERSION_MIN || version > OMEM_RPC_VERSION_MAX)
			return OMEM_RPC_ERR_BAD_VERSION;
		*field = OMEM_WIRE_FIELD(welcome.reserved0);
		if (p->welcome.reserved0)
			return OMEM_RPC_ERR_RESERVED_NONZERO;
		*field = OMEM_WIRE_FIELD(welcome.buffer_percent);
		if (le32_to_cpu(p->welcome.buffer_percent) > 100)
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(welcome.features);
		if (le64_to_cpu(p->welcome.features) & ~OMEM_RPC_FEATURES_KNOWN)
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(welcome.min_bytes);
		if (le64_to_cpu(p->welcome.min_bytes) > le64_to_cpu(p->welcome.cap_bytes))
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(welcome.cap_bytes);
		if (le64_to_cpu(p->welcome.cap_bytes) > le64_to_cpu(p->welcome.max_bytes))
			return OMEM_RPC_ERR_BAD_VALUE;
		/* boot <= min: the module never unplugs below min, and boot is
		 * what the guest has without virtio-mem. */
		*field = OMEM_WIRE_FIELD(welcome.boot_bytes);
		if (le64_to_cpu(p->welcome.boot_bytes) > le64_to_cpu(p->welcome.min_bytes))
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(welcome.plugged_bytes);
		if (le64_to_cpu(p->welcome.plugged_bytes) >
		    le64_to_cpu(p->welcome.max_bytes) - le64_to_cpu(p->welcome.boot_bytes))
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(welcome.block_bytes);
		/* virtio-mem's block sizes are powers of two; the decision
		 * math rounds with block - 1 as a mask. */
		if (!is_power_of_2(le64_to_cpu(p->welcome.block_bytes)))
			return OMEM_RPC_ERR_BAD_VALUE;
		break;
	case OMEM_RPC_DENY:
		*field = OMEM_WIRE_FIELD(deny.reason);
		if (le32_to_cpu(p->deny.reason) < OMEM_RPC_DENY_BUDGET ||
		    le32_to_cpu(p->deny.reason) > OMEM_RPC_DENY_BUSY)
			return OMEM_RPC_ERR_BAD_VALUE;
		break;
	case OMEM_RPC_RECLAIM:
		*field = OMEM_WIRE_FIELD(reclaim.bytes);
		if (!le64_to_cpu(p->reclaim.bytes))
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(reclaim.reserved);
		if (p->reclaim.reserved)
			return OMEM_RPC_ERR_RESERVED_NONZERO;
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		*field = OMEM_WIRE_FIELD(ping.reserved);
		if (p->ping.reserved)
			return OMEM_RPC_ERR_RESERVED_NONZERO;
		break;
	case OMEM_RPC_GOODBYE:
		*field = OMEM_WIRE_FIELD(goodbye.reason);
		if (le32_to_cpu(p->goodbye.reason) < OMEM_RPC_GOODBYE_SHUTDOWN ||
		    le32_to_cpu(p->goodbye.reason) > OMEM_RPC_GOODBYE_VERSION)
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(goodbye.reserved);
		if (p->goodbye.reserved)
			return OMEM_RPC_ERR_RESERVED_NONZERO;
		break;
	case OMEM_RPC_ERROR:
		*field = OMEM_WIRE_FIELD(error.code);
		if (!le32_to_cpu(p->error.code) ||
		    le32_to_cpu(p->error.code) > OMEM_RPC_ERR_MAX)
			return OMEM_RPC_ERR_BAD_VALUE;
		*field = OMEM_WIRE_FIELD(error.reserved);
		if (p->error.reserved)
			return OMEM_RPC_ERR_RESERVED_NONZERO;
		break;
	default:	/* GRANT: every value is the policy's to judge */
		break;
	}
	*field = 0;
	return 0;
}

/* NULL if the ring at @offset with @slots slots fits @region_size, else
 * what is wrong with it. */
static const char *omem_wire_check_ring(u32 offset, u32 slots, u32 region_size)
{
	if (offset % OMEM_RPC_CACHELINE)
		return "ring offset not cache-line aligned";
	if (slots < OMEM_RPC_RING_MIN_SLOTS || slots > OMEM_RPC_RING_MAX_SLOTS ||
	    !is_power_of_2(slots))
		return "ring slot count out of range";
	if (offset < sizeof(struct omem_rpc_region))
		return "ring overlaps the region header";
	if ((u64)offset + OMEM_RPC_RING_BYTES((u64)slots) > region_size)
		return "ring runs past the end of the region";
	return NULL;
}

/*
 * omem_wire_check_region() - does a region header describe usable rings?
 * @header:    a copy of the header, its magic already checked.
 * @bar_bytes: the size of the BAR the region lives in.
 *
 * Pure, like omem_wire_check_host_message().
 *
 * Return: NULL, or what is wrong with the header (for the log line).
 */
const char *omem_wire_check_region(const struct omem_rpc_region *header, u64 bar_bytes)
{
	u32 size = le32_to_cpu(header->region_size);
	u32 g2h_offset = le32_to_cpu(header->g2h_offset);
	u32 g2h_slots = le32_to_cpu(header->g2h_slots);
	u32 h2g_offset = le32_to_cpu(header->h2g_offset);
	u32 h2g_slots = le32_to_cpu(header->h2g_slots);
	const char *problem;
	u64 g2h_end, h2g_end;
	unsigned int i;

	if (le32_to_cpu(header->layout_version) != OMEM_RPC_LAYOUT_VERSION)
		return "unsupported layout version";
	if (!is_power_of_2(size) || size < OMEM_RPC_REGION_MIN_SIZE ||
	    size > OMEM_RPC_REGION_MAX_SIZE)
		return "region size not a power of two in range";
	if (size > bar_bytes)
		return "region larger than BAR2";
	if (le32_to_cpu(header->slot_size) != OMEM_RPC_SLOT_SIZE)
		return "unsupported slot size";
	if (le32_to_cpu(header->host_peer_id) > U16_MAX)
		return "host peer id does not fit the doorbell";
	for (i = 0; i < ARRAY_SIZE(header->reserved); i++)
		if (header->reserved[i])
			return "reserved header field not zero";
	problem = omem_wire_check_ring(g2h_offset, g2h_slots, size);
	if (problem)
		return problem;
	problem = omem_wire_check_ring(h2g_offset, h2g_slots, size);
	if (problem)
		return problem;
	g2h_end = (u64)g2h_offset + OMEM_RPC_RING_BYTES((u64)g2h_slots);
	h2g_end = (u64)h2g_offset + OMEM_RPC_RING_BYTES((u64)h2g_slots);
	if (g2h_end > h2g_offset && h2g_end > g2h_offset)
		return "rings overlap";
	return NULL;
}
