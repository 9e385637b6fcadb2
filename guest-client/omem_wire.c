// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_wire.c - omem-rpc message shapes from the guest's side: the payload
 * size of each type and the check every host message passes before the
 * session looks at it.  Pure: no state, no locking, no logging.
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/stddef.h>

#include "omem_client.h"

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
