/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omem_wire.h - the pure checks of what the host writes: each host
 * message and the region header.  No kernel state, locking or logging,
 * so tests/fuzz/fuzz-guest-wire.c compiles omem_wire.c unchanged against
 * the user-space shim in tests/fuzz/kshim/.
 */
#ifndef OMEM_WIRE_H
#define OMEM_WIRE_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

#include <omem/rpc.h>

/**
 * struct omem_message - one ring slot: a header and the payload of its type
 * @header:  the common header.
 * @payload: the type's payload; @payload.bytes spans the whole of it.
 *
 * Senders build one on the stack, zeroed (reserved fields and padding go
 * out as zero), fill the header's type, length and reply_to and the
 * payload, and hand it to omem_session_send(), which sets the seq.
 */
struct omem_message {
	struct omem_rpc_header header;
	union {
		struct omem_rpc_hello hello;
		struct omem_rpc_welcome welcome;
		struct omem_rpc_demand demand;
		struct omem_rpc_grant grant;
		struct omem_rpc_deny deny;
		struct omem_rpc_surplus surplus;
		struct omem_rpc_reclaim reclaim;
		struct omem_rpc_stats stats;
		struct omem_rpc_ping ping;
		struct omem_rpc_goodbye goodbye;
		struct omem_rpc_error error;
		u8 bytes[OMEM_RPC_PAYLOAD_MAX];
	} payload;
};

static_assert(sizeof(struct omem_message) == OMEM_RPC_SLOT_SIZE);
static_assert(offsetof(struct omem_message, payload) ==
	      sizeof(struct omem_rpc_header));

u32 omem_wire_payload_bytes(u16 type);
u32 omem_wire_check_host_message(const struct omem_message *message, u16 *field);
const char *omem_wire_check_region(const struct omem_rpc_region *header, u64 bar_bytes);

#endif /* OMEM_WIRE_H */
