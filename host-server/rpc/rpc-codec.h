/* SPDX-License-Identifier: MIT */
/*
 * rpc-codec: strict translation between omem-rpc slots (include/omem/rpc.h,
 * little endian) and struct rpc_msg (native integers).  Pure logic: no I/O,
 * no logging, no allocation; the caller logs.
 */
#ifndef OMEM_RPC_CODEC_H
#define OMEM_RPC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <omem/rpc.h>

/* Which peer wrote a slot; a type travelling the other way is refused.
 * The values are bits so a table can allow both. */
enum rpc_direction {
	RPC_FROM_GUEST = 1, /* read from the guest->host ring */
	RPC_FROM_HOST  = 2, /* read from the host->guest ring */
};

/* HELLO: the guest's version range and what it looks like. */
struct rpc_msg_hello {
	uint16_t version_min;        /* >= 1 */
	uint16_t version_max;        /* >= version_min */
	uint32_t client_version;     /* (major << 16) | minor, logs only */
	uint64_t features;           /* offered; unknown bits allowed (the host intersects) */
	uint64_t guest_total_bytes;  /* MemTotal now */
	uint64_t memory_block_bytes; /* guest memory sysfs block size */
	uint64_t page_bytes;         /* guest base page size */
};

/* WELCOME: the contract the host grants. */
struct rpc_msg_welcome {
	uint16_t version;            /* OMEM_RPC_VERSION_MIN..MAX */
	uint32_t buffer_percent;     /* 0..100 */
	uint64_t features;           /* subset of OMEM_RPC_FEATURES_KNOWN */
	uint64_t boot_bytes;         /* <= min_bytes */
	uint64_t min_bytes;          /* <= cap_bytes */
	uint64_t max_bytes;          /* >= cap_bytes */
	uint64_t cap_bytes;
	uint64_t plugged_bytes;      /* <= max_bytes - boot_bytes */
	uint64_t block_bytes;        /* power of two */
	uint32_t stats_interval_ms;
	uint32_t demand_interval_ms;
};

/* DEMAND: the guest wants memory. */
struct rpc_msg_demand {
	uint32_t urgency;            /* enum omem_rpc_urgency */
	uint32_t reasons;            /* OMEM_RPC_REASON_* bits, at least one */
	uint64_t bytes;              /* > 0 */
	uint64_t available_bytes;
};

/* GRANT: the device's requested size rose. */
struct rpc_msg_grant {
	uint64_t bytes;
	uint64_t target_bytes;
};

/* DENY: not now. */
struct rpc_msg_deny {
	uint32_t reason;             /* enum omem_rpc_deny_reason */
	uint32_t retry_after_ms;
};

/* SURPLUS: the guest's reclaim-cost curve. */
struct rpc_msg_surplus {
	uint64_t free_bytes;
	uint64_t clean_cache_bytes;
	uint64_t unpluggable_bytes;
};

/* RECLAIM: the host wants memory back. */
struct rpc_msg_reclaim {
	uint64_t bytes;              /* > 0 */
	uint32_t deadline_ms;
};

/* One STATS pair. */
struct rpc_msg_stat {
	uint32_t tag;                /* enum omem_rpc_stat_tag */
	uint64_t value;
};

/* STATS: periodic figures; pairs past count are zero after a decode and
 * ignored by an encode. */
struct rpc_msg_stats {
	uint32_t count;              /* 1..OMEM_RPC_STATS_MAX */
	struct rpc_msg_stat stats[OMEM_RPC_STATS_MAX]; /* tags distinct */
};

/* PING and PONG. */
struct rpc_msg_ping {
	uint64_t cookie;
};

/* GOODBYE. */
struct rpc_msg_goodbye {
	uint32_t reason;             /* enum omem_rpc_goodbye_reason */
};

/* ERROR: the peer refused one of our messages. */
struct rpc_msg_error {
	uint32_t code;               /* enum omem_rpc_error_code */
	uint16_t type;               /* type of the refused message, as received (any value) */
	uint16_t field_offset;       /* < OMEM_RPC_SLOT_SIZE */
};

/* One message in host byte order.  Reserved fields and the payload length
 * have no place here: the encoder derives them and the decoder checks them. */
struct rpc_msg {
	uint16_t type;               /* enum omem_rpc_type; selects the union member */
	uint16_t flags;              /* must be 0 */
	uint32_t seq;                /* != 0 */
	uint32_t reply_to;           /* seq answered, 0 for none */
	union {
		struct rpc_msg_hello hello;
		struct rpc_msg_welcome welcome;
		struct rpc_msg_demand demand;
		struct rpc_msg_grant grant;
		struct rpc_msg_deny deny;
		struct rpc_msg_surplus surplus;
		struct rpc_msg_reclaim reclaim;
		struct rpc_msg_stats stats;
		struct rpc_msg_ping ping;       /* PING and PONG */
		struct rpc_msg_goodbye goodbye;
		struct rpc_msg_error error;
	} u;
};

/* Why a message was refused: enough to log it and to answer with ERROR. */
struct rpc_codec_error {
	enum omem_rpc_error_code code;
	const char *field;           /* static "<wire struct>.<member>", e.g. "demand.urgency" */
	uint16_t field_offset;       /* byte offset of that field in the slot */
	uint16_t type;               /* header.type as received (0 if no header) */
	uint32_t seq;                /* header.seq as received, for ERROR's reply_to */
};

/* Decode a private copy of a slot written by `from`.  Every rule of rpc.h is
 * checked; the first fault found (header first, then the payload in wire
 * order) is reported.  Bytes after the payload are ignored.  Returns 0,
 * -EBADMSG (the message breaks the protocol; *ret_error says how) or -EINVAL
 * (bad `from`).  *ret_msg is written only on success, *ret_error only on
 * -EBADMSG; ret_error may be NULL. */
int rpc_codec_decode(const void *slot, size_t slot_len, enum rpc_direction from,
		     struct rpc_msg *ret_msg, struct rpc_codec_error *ret_error);

/* Encode msg into a slot: the same rules as rpc_codec_decode (in either
 * direction), so the host never emits what a peer must refuse.  Writes the
 * header, the payload with reserved fields zeroed, and zeroes the rest of
 * the slot.  Returns 0, -EBADMSG (msg is invalid, *ret_error says why) or
 * -ENOBUFS (slot_len too small).  The slot is written only on success. */
int rpc_codec_encode(const struct rpc_msg *msg, void *slot, size_t slot_len,
		     struct rpc_codec_error *ret_error);

/* Compare the meaningful fields of two messages (memcmp would also compare
 * padding and the union's unused bytes); for tests, the fuzz oracle and
 * spotting a retransmitted HELLO. */
bool rpc_codec_msg_equal(const struct rpc_msg *a, const struct rpc_msg *b);

/* Pick the protocol version for a HELLO: the highest inside both the
 * guest's range and ours.  Returns 0, -EINVAL (not a valid range) or
 * -EPROTONOSUPPORT (no overlap: answer ERROR BAD_VERSION, then GOODBYE). */
int rpc_codec_negotiate(uint16_t guest_min, uint16_t guest_max, uint16_t *ret_version);

/* "TRUNCATED", "BAD_VALUE", ... for log lines; "unknown" otherwise. */
const char *rpc_codec_error_name(enum omem_rpc_error_code code);

/* "HELLO", "DEMAND", ... for log lines; "unknown" otherwise. */
const char *rpc_codec_type_name(uint16_t type);

/* "LOW" ... "CRITICAL" (OMEM_RPC_URGENCY_*) for log lines; "?" otherwise. */
const char *rpc_codec_urgency_name(uint32_t urgency);

/* "BUDGET", "CAP", ... (OMEM_RPC_DENY_*) for log lines; "?" otherwise. */
const char *rpc_codec_deny_name(uint32_t reason);

/* Bytes of the payload a type carries (STATS: for `stats_count` pairs), or
 * 0 for an unknown type or count; for callers and tests that build or
 * patch slots by hand. */
uint32_t rpc_codec_payload_size(uint16_t type, uint32_t stats_count);

#endif /* OMEM_RPC_CODEC_H */
