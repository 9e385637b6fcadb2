/* SPDX-License-Identifier: MIT */
/*
 * rpc-codec: omem-rpc slots <-> struct rpc_msg.  One parser checks every
 * rule; the encoder serialises and then runs that same parser over its own
 * output, so encoder and decoder cannot drift apart.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "rpc/rpc-codec.h"

#define RPC_CODEC_HEADER_SIZE ((uint32_t)sizeof(struct omem_rpc_header))

/* Slot offset of a member of a payload wire struct, for error reports. */
#define RPC_CODEC_OFFSET(wire, member) \
	((uint16_t)(RPC_CODEC_HEADER_SIZE + offsetof(struct omem_rpc_##wire, member)))
#define RPC_CODEC_HEADER_OFFSET(member) \
	((uint16_t)offsetof(struct omem_rpc_header, member))

/* Slot offset of a member of STATS pair i. */
#define RPC_CODEC_STAT_OFFSET(i, member)                                   \
	((uint16_t)(RPC_CODEC_HEADER_SIZE + offsetof(struct omem_rpc_stats, stats) + \
		    (i) * sizeof(struct omem_rpc_stat) +                   \
		    offsetof(struct omem_rpc_stat, member)))

/* Both directions: the encoder checks a message wherever it goes. */
#define RPC_CODEC_FROM_ANY (RPC_FROM_GUEST | RPC_FROM_HOST)

/* Per type: its name and payload size (0: STATS, variable).  Who may send
 * which type comes from rpc.h's OMEM_RPC_TYPES_FROM_* masks. */
static const struct {
	const char *name;
	uint32_t payload_size;
} rpc_codec_types[OMEM_RPC_TYPE_MAX + 1] = {
	[OMEM_RPC_HELLO]   = { "HELLO",   sizeof(struct omem_rpc_hello) },
	[OMEM_RPC_WELCOME] = { "WELCOME", sizeof(struct omem_rpc_welcome) },
	[OMEM_RPC_DEMAND]  = { "DEMAND",  sizeof(struct omem_rpc_demand) },
	[OMEM_RPC_GRANT]   = { "GRANT",   sizeof(struct omem_rpc_grant) },
	[OMEM_RPC_DENY]    = { "DENY",    sizeof(struct omem_rpc_deny) },
	[OMEM_RPC_SURPLUS] = { "SURPLUS", sizeof(struct omem_rpc_surplus) },
	[OMEM_RPC_RECLAIM] = { "RECLAIM", sizeof(struct omem_rpc_reclaim) },
	[OMEM_RPC_STATS]   = { "STATS",   0 },
	[OMEM_RPC_PING]    = { "PING",    sizeof(struct omem_rpc_ping) },
	[OMEM_RPC_PONG]    = { "PONG",    sizeof(struct omem_rpc_ping) },
	[OMEM_RPC_GOODBYE] = { "GOODBYE", sizeof(struct omem_rpc_goodbye) },
	[OMEM_RPC_ERROR]   = { "ERROR",   sizeof(struct omem_rpc_error) },
};

/* Whether `type` (known) may arrive from `from` (a set of directions). */
static bool rpc_codec_direction_allowed(uint16_t type, unsigned int from)
{
	uint32_t allowed = 0;

	if (from & RPC_FROM_GUEST)
		allowed |= OMEM_RPC_TYPES_FROM_GUEST;
	if (from & RPC_FROM_HOST)
		allowed |= OMEM_RPC_TYPES_FROM_HOST;
	return allowed & OMEM_RPC_TYPE_BIT(type);
}

static const char *const rpc_codec_error_names[OMEM_RPC_ERR_MAX + 1] = {
	[OMEM_RPC_ERR_TRUNCATED]        = "TRUNCATED",
	[OMEM_RPC_ERR_OVERSIZED]        = "OVERSIZED",
	[OMEM_RPC_ERR_UNKNOWN_TYPE]     = "UNKNOWN_TYPE",
	[OMEM_RPC_ERR_BAD_DIRECTION]    = "BAD_DIRECTION",
	[OMEM_RPC_ERR_BAD_VERSION]      = "BAD_VERSION",
	[OMEM_RPC_ERR_RESERVED_NONZERO] = "RESERVED_NONZERO",
	[OMEM_RPC_ERR_BAD_VALUE]        = "BAD_VALUE",
	[OMEM_RPC_ERR_BAD_INDEX]        = "BAD_INDEX",
	[OMEM_RPC_ERR_NOT_NEGOTIATED]   = "NOT_NEGOTIATED",
	[OMEM_RPC_ERR_RATE_LIMITED]     = "RATE_LIMITED",
	[OMEM_RPC_ERR_BAD_SEQUENCE]     = "BAD_SEQUENCE",
};

const char *rpc_codec_error_name(enum omem_rpc_error_code code)
{
	if ((unsigned int)code > OMEM_RPC_ERR_MAX || !rpc_codec_error_names[code])
		return "unknown";
	return rpc_codec_error_names[code];
}

const char *rpc_codec_type_name(uint16_t type)
{
	if (type > OMEM_RPC_TYPE_MAX || !rpc_codec_types[type].name)
		return "unknown";
	return rpc_codec_types[type].name;
}

/* The guest's urgencies and omem's DENY reasons, as rpc.h spells them. */
static const char *const rpc_codec_urgency_names[OMEM_RPC_URGENCY_CRITICAL + 1] = {
	[OMEM_RPC_URGENCY_LOW]      = "LOW",
	[OMEM_RPC_URGENCY_NORMAL]   = "NORMAL",
	[OMEM_RPC_URGENCY_HIGH]     = "HIGH",
	[OMEM_RPC_URGENCY_CRITICAL] = "CRITICAL",
};

static const char *const rpc_codec_deny_names[OMEM_RPC_DENY_BUSY + 1] = {
	[OMEM_RPC_DENY_BUDGET] = "BUDGET",
	[OMEM_RPC_DENY_CAP]    = "CAP",
	[OMEM_RPC_DENY_RATE]   = "RATE",
	[OMEM_RPC_DENY_FROZEN] = "FROZEN",
	[OMEM_RPC_DENY_BUSY]   = "BUSY",
};

const char *rpc_codec_urgency_name(uint32_t urgency)
{
	if (urgency >= sizeof(rpc_codec_urgency_names) / sizeof(rpc_codec_urgency_names[0]) || !rpc_codec_urgency_names[urgency])
		return "?";
	return rpc_codec_urgency_names[urgency];
}

const char *rpc_codec_deny_name(uint32_t reason)
{
	if (reason >= sizeof(rpc_codec_deny_names) / sizeof(rpc_codec_deny_names[0]) || !rpc_codec_deny_names[reason])
		return "?";
	return rpc_codec_deny_names[reason];
}

uint32_t rpc_codec_payload_size(uint16_t type, uint32_t stats_count)
{
	if (type == OMEM_RPC_STATS)
		return stats_count >= 1 && stats_count <= OMEM_RPC_STATS_MAX ?
			OMEM_RPC_STATS_BYTES(stats_count) : 0;
	if (type > OMEM_RPC_TYPE_MAX)
		return 0;
	return rpc_codec_types[type].payload_size;
}

static bool rpc_codec_is_power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Record a fault; returns -EBADMSG so callers can `return rpc_codec_fail(...)`. */
static int rpc_codec_fail(struct rpc_codec_error *error, enum omem_rpc_error_code code,
			  const char *field, uint16_t field_offset)
{
	error->code = code;
	error->field = field;
	error->field_offset = field_offset;
	return -EBADMSG;
}

#define RPC_CODEC_CHECK(cond, code, wire, member)                          \
	do {                                                               \
		if (!(cond))                                               \
			return rpc_codec_fail(error, OMEM_RPC_ERR_##code,  \
					      #wire "." #member,           \
					      RPC_CODEC_OFFSET(wire, member)); \
	} while (0)

static int rpc_codec_parse_hello(const uint8_t *payload, struct rpc_msg_hello *out,
				 struct rpc_codec_error *error)
{
	struct omem_rpc_hello w;

	memcpy(&w, payload, sizeof(w));
	out->version_min = le16toh(w.version_min);
	out->version_max = le16toh(w.version_max);
	out->client_version = le32toh(w.client_version);
	out->features = le64toh(w.features);
	out->guest_total_bytes = le64toh(w.guest_total_bytes);
	out->memory_block_bytes = le64toh(w.memory_block_bytes);
	out->page_bytes = le64toh(w.page_bytes);

	RPC_CODEC_CHECK(out->version_min >= 1, BAD_VALUE, hello, version_min);
	RPC_CODEC_CHECK(out->version_max >= out->version_min, BAD_VALUE, hello, version_max);
	return 0;
}

static int rpc_codec_parse_welcome(const uint8_t *payload, struct rpc_msg_welcome *out,
				   struct rpc_codec_error *error)
{
	struct omem_rpc_welcome w;

	memcpy(&w, payload, sizeof(w));
	out->version = le16toh(w.version);
	out->buffer_percent = le32toh(w.buffer_percent);
	out->features = le64toh(w.features);
	out->boot_bytes = le64toh(w.boot_bytes);
	out->min_bytes = le64toh(w.min_bytes);
	out->max_bytes = le64toh(w.max_bytes);
	out->cap_bytes = le64toh(w.cap_bytes);
	out->plugged_bytes = le64toh(w.plugged_bytes);
	out->block_bytes = le64toh(w.block_bytes);
	out->stats_interval_ms = le32toh(w.stats_interval_ms);
	out->demand_interval_ms = le32toh(w.demand_interval_ms);

	RPC_CODEC_CHECK(out->version >= OMEM_RPC_VERSION_MIN &&
			out->version <= OMEM_RPC_VERSION_MAX, BAD_VERSION, welcome, version);
	RPC_CODEC_CHECK(w.reserved0 == 0, RESERVED_NONZERO, welcome, reserved0);
	RPC_CODEC_CHECK(out->buffer_percent <= 100, BAD_VALUE, welcome, buffer_percent);
	RPC_CODEC_CHECK(!(out->features & ~OMEM_RPC_FEATURES_KNOWN), RESERVED_NONZERO,
			welcome, features);
	RPC_CODEC_CHECK(out->min_bytes >= out->boot_bytes, BAD_VALUE, welcome, min_bytes);
	RPC_CODEC_CHECK(out->max_bytes >= out->min_bytes, BAD_VALUE, welcome, max_bytes);
	RPC_CODEC_CHECK(out->cap_bytes >= out->min_bytes && out->cap_bytes <= out->max_bytes,
			BAD_VALUE, welcome, cap_bytes);
	/* max = boot + device size, and the device plugs at most its size. */
	RPC_CODEC_CHECK(out->plugged_bytes <= out->max_bytes - out->boot_bytes,
			BAD_VALUE, welcome, plugged_bytes);
	RPC_CODEC_CHECK(rpc_codec_is_power_of_two(out->block_bytes), BAD_VALUE,
			welcome, block_bytes);
	return 0;
}

static int rpc_codec_parse_demand(const uint8_t *payload, struct rpc_msg_demand *out,
				  struct rpc_codec_error *error)
{
	struct omem_rpc_demand w;

	memcpy(&w, payload, sizeof(w));
	out->urgency = le32toh(w.urgency);
	out->reasons = le32toh(w.reasons);
	out->bytes = le64toh(w.bytes);
	out->available_bytes = le64toh(w.available_bytes);

	RPC_CODEC_CHECK(out->urgency >= OMEM_RPC_URGENCY_LOW &&
			out->urgency <= OMEM_RPC_URGENCY_CRITICAL, BAD_VALUE, demand, urgency);
	RPC_CODEC_CHECK(out->reasons != 0, BAD_VALUE, demand, reasons);
	RPC_CODEC_CHECK(!(out->reasons & ~OMEM_RPC_REASON_KNOWN), RESERVED_NONZERO,
			demand, reasons);
	RPC_CODEC_CHECK(out->bytes > 0, BAD_VALUE, demand, bytes);
	return 0;
}

static int rpc_codec_parse_grant(const uint8_t *payload, struct rpc_msg_grant *out,
				 struct rpc_codec_error *error)
{
	struct omem_rpc_grant w;

	memcpy(&w, payload, sizeof(w));
	out->bytes = le64toh(w.bytes);
	out->target_bytes = le64toh(w.target_bytes);
	return 0;
}

static int rpc_codec_parse_deny(const uint8_t *payload, struct rpc_msg_deny *out,
				struct rpc_codec_error *error)
{
	struct omem_rpc_deny w;

	memcpy(&w, payload, sizeof(w));
	out->reason = le32toh(w.reason);
	out->retry_after_ms = le32toh(w.retry_after_ms);

	RPC_CODEC_CHECK(out->reason >= OMEM_RPC_DENY_BUDGET &&
			out->reason <= OMEM_RPC_DENY_BUSY, BAD_VALUE, deny, reason);
	return 0;
}

static int rpc_codec_parse_surplus(const uint8_t *payload, struct rpc_msg_surplus *out,
				   struct rpc_codec_error *error)
{
	struct omem_rpc_surplus w;

	memcpy(&w, payload, sizeof(w));
	out->free_bytes = le64toh(w.free_bytes);
	out->clean_cache_bytes = le64toh(w.clean_cache_bytes);
	out->unpluggable_bytes = le64toh(w.unpluggable_bytes);
	return 0;
}

static int rpc_codec_parse_reclaim(const uint8_t *payload, struct rpc_msg_reclaim *out,
				   struct rpc_codec_error *error)
{
	struct omem_rpc_reclaim w;

	memcpy(&w, payload, sizeof(w));
	out->bytes = le64toh(w.bytes);
	out->deadline_ms = le32toh(w.deadline_ms);

	RPC_CODEC_CHECK(out->bytes > 0, BAD_VALUE, reclaim, bytes);
	RPC_CODEC_CHECK(w.reserved == 0, RESERVED_NONZERO, reclaim, reserved);
	return 0;
}

/* STATS: `length` is already known to be 8 + 16 * count. */
static int rpc_codec_parse_stats(const uint8_t *payload, uint32_t length,
				 struct rpc_msg_stats *out, struct rpc_codec_error *error)
{
	struct omem_rpc_stats w;
	uint32_t seen = 0; /* bit t set: tag t already present */
	uint32_t i;

	memset(&w, 0, sizeof(w));
	memcpy(&w, payload, length);
	out->count = le32toh(w.count);
	RPC_CODEC_CHECK(w.reserved == 0, RESERVED_NONZERO, stats, reserved);

	for (i = 0; i < out->count; i++) {
		uint32_t tag = le32toh(w.stats[i].tag);

		if (tag < OMEM_RPC_STAT_TOTAL_BYTES || tag > OMEM_RPC_STAT_TAG_MAX ||
		    (seen & (1u << tag)))
			return rpc_codec_fail(error, OMEM_RPC_ERR_BAD_VALUE, "stats.stats[].tag",
					      RPC_CODEC_STAT_OFFSET(i, tag));
		seen |= 1u << tag;
		if (w.stats[i].reserved != 0)
			return rpc_codec_fail(error, OMEM_RPC_ERR_RESERVED_NONZERO,
					      "stats.stats[].reserved",
					      RPC_CODEC_STAT_OFFSET(i, reserved));
		out->stats[i].tag = tag;
		out->stats[i].value = le64toh(w.stats[i].value);
	}
	return 0;
}

static int rpc_codec_parse_ping(const uint8_t *payload, struct rpc_msg_ping *out,
				struct rpc_codec_error *error)
{
	struct omem_rpc_ping w;

	memcpy(&w, payload, sizeof(w));
	out->cookie = le64toh(w.cookie);

	RPC_CODEC_CHECK(w.reserved == 0, RESERVED_NONZERO, ping, reserved);
	return 0;
}

static int rpc_codec_parse_goodbye(const uint8_t *payload, struct rpc_msg_goodbye *out,
				   struct rpc_codec_error *error)
{
	struct omem_rpc_goodbye w;

	memcpy(&w, payload, sizeof(w));
	out->reason = le32toh(w.reason);

	RPC_CODEC_CHECK(out->reason >= OMEM_RPC_GOODBYE_SHUTDOWN &&
			out->reason <= OMEM_RPC_GOODBYE_VERSION, BAD_VALUE, goodbye, reason);
	RPC_CODEC_CHECK(w.reserved == 0, RESERVED_NONZERO, goodbye, reserved);
	return 0;
}

static int rpc_codec_parse_error(const uint8_t *payload, struct rpc_msg_error *out,
				 struct rpc_codec_error *error)
{
	struct omem_rpc_error w;

	memcpy(&w, payload, sizeof(w));
	out->code = le32toh(w.code);
	out->type = le16toh(w.type);
	out->field_offset = le16toh(w.field_offset);

	RPC_CODEC_CHECK(out->code >= OMEM_RPC_ERR_TRUNCATED && out->code <= OMEM_RPC_ERR_MAX,
			BAD_VALUE, error, code);
	RPC_CODEC_CHECK(out->field_offset < OMEM_RPC_SLOT_SIZE, BAD_VALUE, error, field_offset);
	RPC_CODEC_CHECK(w.reserved == 0, RESERVED_NONZERO, error, reserved);
	return 0;
}

/* Check the header and the payload's size; returns the payload length. */
static int rpc_codec_parse_header(const uint8_t *slot, size_t slot_len, unsigned int from,
				  struct rpc_msg *out, uint32_t *ret_length,
				  struct rpc_codec_error *error)
{
	struct omem_rpc_header h;
	uint32_t length, want;

	if (slot_len < sizeof(h))
		return rpc_codec_fail(error, OMEM_RPC_ERR_TRUNCATED, "header", 0);
	memcpy(&h, slot, sizeof(h));
	out->type = le16toh(h.type);
	out->flags = le16toh(h.flags);
	out->seq = le32toh(h.seq);
	out->reply_to = le32toh(h.reply_to);
	length = le32toh(h.length);
	error->type = out->type;
	error->seq = out->seq;

	if (out->type == 0 || out->type > OMEM_RPC_TYPE_MAX)
		return rpc_codec_fail(error, OMEM_RPC_ERR_UNKNOWN_TYPE, "header.type",
				      RPC_CODEC_HEADER_OFFSET(type));
	if (!rpc_codec_direction_allowed(out->type, from))
		return rpc_codec_fail(error, OMEM_RPC_ERR_BAD_DIRECTION, "header.type",
				      RPC_CODEC_HEADER_OFFSET(type));
	if (out->flags != 0)
		return rpc_codec_fail(error, OMEM_RPC_ERR_RESERVED_NONZERO, "header.flags",
				      RPC_CODEC_HEADER_OFFSET(flags));
	if (length > OMEM_RPC_PAYLOAD_MAX)
		return rpc_codec_fail(error, OMEM_RPC_ERR_OVERSIZED, "header.length",
				      RPC_CODEC_HEADER_OFFSET(length));
	if (length > slot_len - sizeof(h))
		return rpc_codec_fail(error, OMEM_RPC_ERR_TRUNCATED, "header.length",
				      RPC_CODEC_HEADER_OFFSET(length));
	if (out->seq == 0)
		return rpc_codec_fail(error, OMEM_RPC_ERR_BAD_SEQUENCE, "header.seq",
				      RPC_CODEC_HEADER_OFFSET(seq));

	want = rpc_codec_types[out->type].payload_size;
	if (out->type == OMEM_RPC_STATS) {
		uint32_t count;

		/* The count sits in the payload, so its presence comes first. */
		if (length < OMEM_RPC_STATS_BYTES(0))
			return rpc_codec_fail(error, OMEM_RPC_ERR_TRUNCATED, "header.length",
					      RPC_CODEC_HEADER_OFFSET(length));
		memcpy(&count, slot + sizeof(h) + offsetof(struct omem_rpc_stats, count),
		       sizeof(count));
		count = le32toh(count);
		if (count < 1 || count > OMEM_RPC_STATS_MAX)
			return rpc_codec_fail(error, OMEM_RPC_ERR_BAD_VALUE, "stats.count",
					      RPC_CODEC_OFFSET(stats, count));
		want = OMEM_RPC_STATS_BYTES(count);
	}
	if (length < want)
		return rpc_codec_fail(error, OMEM_RPC_ERR_TRUNCATED, "header.length",
				      RPC_CODEC_HEADER_OFFSET(length));
	if (length > want)
		return rpc_codec_fail(error, OMEM_RPC_ERR_OVERSIZED, "header.length",
				      RPC_CODEC_HEADER_OFFSET(length));
	*ret_length = length;
	return 0;
}

/* The one parser: header, then the payload of its type. */
static int rpc_codec_parse(const uint8_t *slot, size_t slot_len, unsigned int from,
			   struct rpc_msg *ret_msg, struct rpc_codec_error *ret_error)
{
	struct rpc_codec_error error = { 0 };
	struct rpc_msg msg;
	const uint8_t *payload = slot + RPC_CODEC_HEADER_SIZE;
	uint32_t length;
	int r;

	/* Zeroed first so unused union bytes and pairs past count compare equal. */
	memset(&msg, 0, sizeof(msg));
	r = rpc_codec_parse_header(slot, slot_len, from, &msg, &length, &error);
	if (r < 0)
		goto out;

	switch (msg.type) {
	case OMEM_RPC_HELLO:
		r = rpc_codec_parse_hello(payload, &msg.u.hello, &error);
		break;
	case OMEM_RPC_WELCOME:
		r = rpc_codec_parse_welcome(payload, &msg.u.welcome, &error);
		break;
	case OMEM_RPC_DEMAND:
		r = rpc_codec_parse_demand(payload, &msg.u.demand, &error);
		break;
	case OMEM_RPC_GRANT:
		r = rpc_codec_parse_grant(payload, &msg.u.grant, &error);
		break;
	case OMEM_RPC_DENY:
		r = rpc_codec_parse_deny(payload, &msg.u.deny, &error);
		break;
	case OMEM_RPC_SURPLUS:
		r = rpc_codec_parse_surplus(payload, &msg.u.surplus, &error);
		break;
	case OMEM_RPC_RECLAIM:
		r = rpc_codec_parse_reclaim(payload, &msg.u.reclaim, &error);
		break;
	case OMEM_RPC_STATS:
		r = rpc_codec_parse_stats(payload, length, &msg.u.stats, &error);
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		r = rpc_codec_parse_ping(payload, &msg.u.ping, &error);
		break;
	case OMEM_RPC_GOODBYE:
		r = rpc_codec_parse_goodbye(payload, &msg.u.goodbye, &error);
		break;
	case OMEM_RPC_ERROR:
		r = rpc_codec_parse_error(payload, &msg.u.error, &error);
		break;
	}

out:
	if (r < 0) {
		if (ret_error)
			*ret_error = error;
		return r;
	}
	memcpy(ret_msg, &msg, sizeof(msg));
	return 0;
}

int rpc_codec_decode(const void *slot, size_t slot_len, enum rpc_direction from,
		     struct rpc_msg *ret_msg, struct rpc_codec_error *ret_error)
{
	if (from != RPC_FROM_GUEST && from != RPC_FROM_HOST)
		return -EINVAL;
	return rpc_codec_parse(slot, slot_len, from, ret_msg, ret_error);
}

/* Write msg's wire form into a zeroed OMEM_RPC_SLOT_SIZE buffer, without
 * judging it; returns header + payload bytes.  An unknown type gets an empty
 * payload and a STATS count out of range writes no pairs: the parser then
 * names the fault. */
static uint32_t rpc_codec_serialise(const struct rpc_msg *msg, uint8_t *buf)
{
	struct omem_rpc_header h;
	uint8_t *payload = buf + RPC_CODEC_HEADER_SIZE;
	uint32_t length;

	length = rpc_codec_payload_size(msg->type, msg->u.stats.count);
	if (msg->type == OMEM_RPC_STATS && length == 0)
		length = OMEM_RPC_STATS_BYTES(0);

	switch (msg->type) {
	case OMEM_RPC_HELLO: {
		const struct rpc_msg_hello *m = &msg->u.hello;
		struct omem_rpc_hello w = {
			.version_min = htole16(m->version_min),
			.version_max = htole16(m->version_max),
			.client_version = htole32(m->client_version),
			.features = htole64(m->features),
			.guest_total_bytes = htole64(m->guest_total_bytes),
			.memory_block_bytes = htole64(m->memory_block_bytes),
			.page_bytes = htole64(m->page_bytes),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_WELCOME: {
		const struct rpc_msg_welcome *m = &msg->u.welcome;
		struct omem_rpc_welcome w = {
			.version = htole16(m->version),
			.buffer_percent = htole32(m->buffer_percent),
			.features = htole64(m->features),
			.boot_bytes = htole64(m->boot_bytes),
			.min_bytes = htole64(m->min_bytes),
			.max_bytes = htole64(m->max_bytes),
			.cap_bytes = htole64(m->cap_bytes),
			.plugged_bytes = htole64(m->plugged_bytes),
			.block_bytes = htole64(m->block_bytes),
			.stats_interval_ms = htole32(m->stats_interval_ms),
			.demand_interval_ms = htole32(m->demand_interval_ms),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_DEMAND: {
		const struct rpc_msg_demand *m = &msg->u.demand;
		struct omem_rpc_demand w = {
			.urgency = htole32(m->urgency),
			.reasons = htole32(m->reasons),
			.bytes = htole64(m->bytes),
			.available_bytes = htole64(m->available_bytes),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_GRANT: {
		struct omem_rpc_grant w = {
			.bytes = htole64(msg->u.grant.bytes),
			.target_bytes = htole64(msg->u.grant.target_bytes),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_DENY: {
		struct omem_rpc_deny w = {
			.reason = htole32(msg->u.deny.reason),
			.retry_after_ms = htole32(msg->u.deny.retry_after_ms),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_SURPLUS: {
		struct omem_rpc_surplus w = {
			.free_bytes = htole64(msg->u.surplus.free_bytes),
			.clean_cache_bytes = htole64(msg->u.surplus.clean_cache_bytes),
			.unpluggable_bytes = htole64(msg->u.surplus.unpluggable_bytes),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_RECLAIM: {
		struct omem_rpc_reclaim w = {
			.bytes = htole64(msg->u.reclaim.bytes),
			.deadline_ms = htole32(msg->u.reclaim.deadline_ms),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_STATS: {
		const struct rpc_msg_stats *m = &msg->u.stats;
		struct omem_rpc_stats w;
		uint32_t i, pairs = (length - OMEM_RPC_STATS_BYTES(0)) / sizeof(w.stats[0]);

		memset(&w, 0, sizeof(w));
		w.count = htole32(m->count);
		for (i = 0; i < pairs; i++) {
			w.stats[i].tag = htole32(m->stats[i].tag);
			w.stats[i].value = htole64(m->stats[i].value);
		}
		memcpy(payload, &w, length);
		break;
	}
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG: {
		struct omem_rpc_ping w = { .cookie = htole64(msg->u.ping.cookie) };
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_GOODBYE: {
		struct omem_rpc_goodbye w = { .reason = htole32(msg->u.goodbye.reason) };
		memcpy(payload, &w, sizeof(w));
		break;
	}
	case OMEM_RPC_ERROR: {
		struct omem_rpc_error w = {
			.code = htole32(msg->u.error.code),
			.type = htole16(msg->u.error.type),
			.field_offset = htole16(msg->u.error.field_offset),
		};
		memcpy(payload, &w, sizeof(w));
		break;
	}
	default:
		break;
	}

	h = (struct omem_rpc_header){
		.type = htole16(msg->type),
		.flags = htole16(msg->flags),
		.length = htole32(length),
		.seq = htole32(msg->seq),
		.reply_to = htole32(msg->reply_to),
	};
	memcpy(buf, &h, sizeof(h));
	return RPC_CODEC_HEADER_SIZE + length;
}

int rpc_codec_encode(const struct rpc_msg *msg, void *slot, size_t slot_len,
		     struct rpc_codec_error *ret_error)
{
	uint8_t buf[OMEM_RPC_SLOT_SIZE];
	struct rpc_msg check;
	uint32_t used;
	int r;

	memset(buf, 0, sizeof(buf));
	used = rpc_codec_serialise(msg, buf);
	r = rpc_codec_parse(buf, sizeof(buf), RPC_CODEC_FROM_ANY, &check, ret_error);
	if (r < 0)
		return r;
	if (slot_len < used)
		return -ENOBUFS;
	memcpy(slot, buf, used);
	memset((uint8_t *)slot + used, 0, slot_len - used);
	return 0;
}

bool rpc_codec_msg_equal(const struct rpc_msg *a, const struct rpc_msg *b)
{
	if (a->type != b->type || a->flags != b->flags || a->seq != b->seq ||
	    a->reply_to != b->reply_to)
		return false;

	switch (a->type) {
	case OMEM_RPC_HELLO: {
		const struct rpc_msg_hello *x = &a->u.hello, *y = &b->u.hello;
		return x->version_min == y->version_min && x->version_max == y->version_max &&
		       x->client_version == y->client_version && x->features == y->features &&
		       x->guest_total_bytes == y->guest_total_bytes &&
		       x->memory_block_bytes == y->memory_block_bytes &&
		       x->page_bytes == y->page_bytes;
	}
	case OMEM_RPC_WELCOME: {
		const struct rpc_msg_welcome *x = &a->u.welcome, *y = &b->u.welcome;
		return x->version == y->version && x->buffer_percent == y->buffer_percent &&
		       x->features == y->features && x->boot_bytes == y->boot_bytes &&
		       x->min_bytes == y->min_bytes && x->max_bytes == y->max_bytes &&
		       x->cap_bytes == y->cap_bytes && x->plugged_bytes == y->plugged_bytes &&
		       x->block_bytes == y->block_bytes &&
		       x->stats_interval_ms == y->stats_interval_ms &&
		       x->demand_interval_ms == y->demand_interval_ms;
	}
	case OMEM_RPC_DEMAND: {
		const struct rpc_msg_demand *x = &a->u.demand, *y = &b->u.demand;
		return x->urgency == y->urgency && x->reasons == y->reasons &&
		       x->bytes == y->bytes && x->available_bytes == y->available_bytes;
	}
	case OMEM_RPC_GRANT:
		return a->u.grant.bytes == b->u.grant.bytes &&
		       a->u.grant.target_bytes == b->u.grant.target_bytes;
	case OMEM_RPC_DENY:
		return a->u.deny.reason == b->u.deny.reason &&
		       a->u.deny.retry_after_ms == b->u.deny.retry_after_ms;
	case OMEM_RPC_SURPLUS:
		return a->u.surplus.free_bytes == b->u.surplus.free_bytes &&
		       a->u.surplus.clean_cache_bytes == b->u.surplus.clean_cache_bytes &&
		       a->u.surplus.unpluggable_bytes == b->u.surplus.unpluggable_bytes;
	case OMEM_RPC_RECLAIM:
		return a->u.reclaim.bytes == b->u.reclaim.bytes &&
		       a->u.reclaim.deadline_ms == b->u.reclaim.deadline_ms;
	case OMEM_RPC_STATS: {
		uint32_t i, n = a->u.stats.count;

		if (n != b->u.stats.count)
			return false;
		if (n > OMEM_RPC_STATS_MAX)
			n = OMEM_RPC_STATS_MAX;
		for (i = 0; i < n; i++)
			if (a->u.stats.stats[i].tag != b->u.stats.stats[i].tag ||
			    a->u.stats.stats[i].value != b->u.stats.stats[i].value)
				return false;
		return true;
	}
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		return a->u.ping.cookie == b->u.ping.cookie;
	case OMEM_RPC_GOODBYE:
		return a->u.goodbye.reason == b->u.goodbye.reason;
	case OMEM_RPC_ERROR:
		return a->u.error.code == b->u.error.code && a->u.error.type == b->u.error.type &&
		       a->u.error.field_offset == b->u.error.field_offset;
	default:
		return true;
	}
}

int rpc_codec_negotiate(uint16_t guest_min, uint16_t guest_max, uint16_t *ret_version)
{
	uint16_t low, high;

	if (guest_min < 1 || guest_max < guest_min)
		return -EINVAL;
	low = guest_min > OMEM_RPC_VERSION_MIN ? guest_min : OMEM_RPC_VERSION_MIN;
	high = guest_max < OMEM_RPC_VERSION_MAX ? guest_max : OMEM_RPC_VERSION_MAX;
	if (low > high)
		return -EPROTONOSUPPORT;
	*ret_version = high;
	return 0;
}
