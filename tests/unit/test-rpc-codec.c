/* SPDX-License-Identifier: MIT */
/* Unit tests of rpc-codec: round trips, golden bytes and every refusal. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "rpc/rpc-codec.h"
#include "tap.h"

#define SLOT OMEM_RPC_SLOT_SIZE

/* A valid message of each type, with distinctive values in every field. */
static struct rpc_msg sample(uint16_t type)
{
	struct rpc_msg m;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = 0x01020304;
	m.reply_to = 0x0a0b0c0d;
	switch (type) {
	case OMEM_RPC_HELLO:
		m.u.hello = (struct rpc_msg_hello){ 1, 3, 0x00010002, 0x8000000000000001ULL,
						    4ULL << 30, 128ULL << 20, 4096 };
		break;
	case OMEM_RPC_WELCOME:
		m.u.welcome = (struct rpc_msg_welcome){
			.version = 1, .buffer_percent = 10, .features = 0,
			.boot_bytes = 2ULL << 30, .min_bytes = 3ULL << 30, .max_bytes = 16ULL << 30,
			.cap_bytes = 8ULL << 30, .plugged_bytes = 1ULL << 30,
			.block_bytes = 2ULL << 20, .stats_interval_ms = 5000,
			.demand_interval_ms = 1000 };
		break;
	case OMEM_RPC_DEMAND:
		m.u.demand = (struct rpc_msg_demand){ OMEM_RPC_URGENCY_HIGH,
						      OMEM_RPC_REASON_WATERMARK | OMEM_RPC_REASON_OOM,
						      256ULL << 20, 17ULL << 20 };
		break;
	case OMEM_RPC_GRANT:
		m.u.grant = (struct rpc_msg_grant){ 128ULL << 20, 5ULL << 30 };
		break;
	case OMEM_RPC_DENY:
		m.u.deny = (struct rpc_msg_deny){ OMEM_RPC_DENY_BUSY, 250 };
		break;
	case OMEM_RPC_SURPLUS:
		m.u.surplus = (struct rpc_msg_surplus){ 1ULL << 20, 2ULL << 20, 3ULL << 20 };
		break;
	case OMEM_RPC_RECLAIM:
		m.u.reclaim = (struct rpc_msg_reclaim){ 512ULL << 20, 30000 };
		break;
	case OMEM_RPC_STATS:
		m.u.stats.count = OMEM_RPC_STAT_TAG_MAX;
		for (i = 0; i < m.u.stats.count; i++)
			m.u.stats.stats[i] = (struct rpc_msg_stat){ OMEM_RPC_STAT_TAG_MAX - i,
								    0x1111111111111111ULL * i };
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		m.u.ping.cookie = 0xfedcba9876543210ULL;
		break;
	case OMEM_RPC_GOODBYE:
		m.u.goodbye.reason = OMEM_RPC_GOODBYE_UNLOAD;
		break;
	case OMEM_RPC_ERROR:
		m.u.error = (struct rpc_msg_error){ OMEM_RPC_ERR_BAD_VALUE, 0xffff, 255 };
		break;
	}
	return m;
}

/* A direction the type may travel in. */
static enum rpc_direction allowed_from(uint16_t type)
{
	switch (type) {
	case OMEM_RPC_WELCOME:
	case OMEM_RPC_GRANT:
	case OMEM_RPC_DENY:
	case OMEM_RPC_RECLAIM:
		return RPC_FROM_HOST;
	default:
		return RPC_FROM_GUEST;
	}
}

static void put16(uint8_t *slot, size_t off, uint16_t v)
{
	v = htole16(v);
	memcpy(slot + off, &v, sizeof(v));
}

static void put32(uint8_t *slot, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(slot + off, &v, sizeof(v));
}

static void put64(uint8_t *slot, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(slot + off, &v, sizeof(v));
}

static void test_round_trips(void)
{
	uint16_t type;

	for (type = 1; type <= OMEM_RPC_TYPE_MAX; type++) {
		const char *name = rpc_codec_type_name(type);
		struct rpc_msg in = sample(type), out;
		struct rpc_codec_error err;
		uint8_t slot[SLOT], again[SLOT];
		uint32_t length, used, i;
		int trailing_zero = 1;

		memset(slot, 0xa5, sizeof(slot));
		tap_eq(rpc_codec_encode(&in, slot, sizeof(slot), &err), 0, "%s: encodes", name);
		memcpy(&length, slot + 4, sizeof(length));
		length = le32toh(length);
		tap_eq(length, rpc_codec_payload_size(type, in.u.stats.count),
		       "%s: header.length is the payload size", name);
		used = sizeof(struct omem_rpc_header) + length;
		for (i = used; i < SLOT; i++)
			trailing_zero &= slot[i] == 0;
		tap_ok(trailing_zero, "%s: rest of the slot zeroed", name);
		tap_eq(rpc_codec_decode(slot, sizeof(slot), allowed_from(type), &out, &err), 0,
		       "%s: decodes", name);
		tap_ok(rpc_codec_msg_equal(&in, &out), "%s: decoded equals encoded", name);
		tap_eq(rpc_codec_encode(&out, again, sizeof(again), &err), 0, "%s: re-encodes", name);
		tap_ok(memcmp(slot, again, SLOT) == 0, "%s: re-encoding is byte-identical", name);

		/* Bytes after the payload are not the codec's business. */
		memset(slot + used, 0xee, SLOT - used);
		tap_eq(rpc_codec_decode(slot, SLOT, allowed_from(type), &out, &err), 0,
		       "%s: trailing garbage after the payload ignored", name);
		tap_ok(rpc_codec_msg_equal(&in, &out), "%s: ... and the message unchanged", name);
		/* A slot exactly as long as the message is enough. */
		tap_eq(rpc_codec_decode(slot, used, allowed_from(type), &out, &err), 0,
		       "%s: decodes from a slot of exactly %u bytes", name, used);
	}
}

static void test_both_directions(void)
{
	static const uint16_t either[] = { OMEM_RPC_PING, OMEM_RPC_PONG, OMEM_RPC_GOODBYE,
					   OMEM_RPC_ERROR };
	size_t i;

	for (i = 0; i < sizeof(either) / sizeof(either[0]); i++) {
		struct rpc_msg in = sample(either[i]), out;
		uint8_t slot[SLOT];

		rpc_codec_encode(&in, slot, sizeof(slot), NULL);
		tap_eq(rpc_codec_decode(slot, SLOT, RPC_FROM_HOST, &out, NULL), 0,
		       "%s accepted from the host too", rpc_codec_type_name(either[i]));
	}
}

static void test_stats_counts(void)
{
	struct rpc_msg in = sample(OMEM_RPC_STATS), out;
	uint8_t slot[SLOT];
	uint32_t i;

	in.u.stats.count = 1;
	tap_eq(rpc_codec_encode(&in, slot, SLOT, NULL), 0, "STATS with 1 pair encodes");
	tap_eq(rpc_codec_decode(slot, SLOT, RPC_FROM_GUEST, &out, NULL), 0, "... and decodes");
	tap_eq(out.u.stats.stats[1].tag, 0, "... pairs past count are zero");

	/* 14 pairs need repeated tags, which are refused; the largest valid
	 * STATS has one pair per known tag. */
	in.u.stats.count = OMEM_RPC_STATS_MAX;
	for (i = 0; i < OMEM_RPC_STATS_MAX; i++)
		in.u.stats.stats[i] = (struct rpc_msg_stat){ 1 + i % OMEM_RPC_STAT_TAG_MAX, i };
	tap_eq(rpc_codec_encode(&in, slot, SLOT, NULL), -EBADMSG,
	       "STATS with 14 pairs must repeat a tag, so it is refused");
}

/* Golden bytes: round trips cannot catch a symmetric byte-order mistake. */
static void test_golden(void)
{
	static const uint8_t want[16 + 24] = {
		0x03, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, /* DEMAND, flags 0, length 24 */
		0x04, 0x03, 0x02, 0x01, 0x0d, 0x0c, 0x0b, 0x0a, /* seq, reply_to */
		0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, /* HIGH, WATERMARK|OOM */
		0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, /* 256 MiB */
		0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, /* 17 MiB */
	};
	struct rpc_msg m = sample(OMEM_RPC_DEMAND);
	uint8_t slot[SLOT];

	rpc_codec_encode(&m, slot, SLOT, NULL);
	tap_ok(memcmp(slot, want, sizeof(want)) == 0, "DEMAND encodes to the golden bytes");
}

/* One refusal: start from a valid sample, patch the wire, expect a fault. */
struct refusal {
	const char *name;
	uint16_t type;            /* the sample to start from */
	enum rpc_direction from;  /* 0: the type's own direction */
	uint16_t offset;          /* where to patch */
	uint8_t width;            /* 2, 4 or 8 bytes; 0: no patch */
	uint64_t value;
	size_t slot_len;          /* 0: a whole slot */
	enum omem_rpc_error_code code;
	const char *field;
	uint16_t field_offset;
};

#define HDR 16
#define STAT(i, member) (HDR + 8 + 16 * (i) + ((member) ? 4 : 0))

static const struct refusal refusals[] = {
	{ "slot shorter than a header", OMEM_RPC_PING, 0, 0, 0, 0, 15,
	  OMEM_RPC_ERR_TRUNCATED, "header", 0 },
	{ "type 0", OMEM_RPC_PING, 0, 0, 2, 0, 0, OMEM_RPC_ERR_UNKNOWN_TYPE, "header.type", 0 },
	{ "type 13", OMEM_RPC_PING, 0, 0, 2, 13, 0, OMEM_RPC_ERR_UNKNOWN_TYPE, "header.type", 0 },
	{ "type 0xffff", OMEM_RPC_PING, 0, 0, 2, 0xffff, 0,
	  OMEM_RPC_ERR_UNKNOWN_TYPE, "header.type", 0 },
	{ "HELLO from the host", OMEM_RPC_HELLO, RPC_FROM_HOST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "DEMAND from the host", OMEM_RPC_DEMAND, RPC_FROM_HOST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "SURPLUS from the host", OMEM_RPC_SURPLUS, RPC_FROM_HOST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "STATS from the host", OMEM_RPC_STATS, RPC_FROM_HOST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "WELCOME from the guest", OMEM_RPC_WELCOME, RPC_FROM_GUEST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "GRANT from the guest", OMEM_RPC_GRANT, RPC_FROM_GUEST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "DENY from the guest", OMEM_RPC_DENY, RPC_FROM_GUEST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "RECLAIM from the guest", OMEM_RPC_RECLAIM, RPC_FROM_GUEST, 0, 0, 0, 0,
	  OMEM_RPC_ERR_BAD_DIRECTION, "header.type", 0 },
	{ "flags set", OMEM_RPC_PING, 0, 2, 2, 0x8000, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "header.flags", 2 },
	{ "length 241", OMEM_RPC_PING, 0, 4, 4, 241, 0,
	  OMEM_RPC_ERR_OVERSIZED, "header.length", 4 },
	{ "length 0xffffffff", OMEM_RPC_PING, 0, 4, 4, 0xffffffff, 0,
	  OMEM_RPC_ERR_OVERSIZED, "header.length", 4 },
	{ "length past the end of the slot", OMEM_RPC_DEMAND, 0, 0, 0, 0, HDR + 23,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "seq 0", OMEM_RPC_PING, 0, 8, 4, 0, 0, OMEM_RPC_ERR_BAD_SEQUENCE, "header.seq", 8 },
	{ "DEMAND length 23", OMEM_RPC_DEMAND, 0, 4, 4, 23, 0,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "DEMAND length 25", OMEM_RPC_DEMAND, 0, 4, 4, 25, 0,
	  OMEM_RPC_ERR_OVERSIZED, "header.length", 4 },
	{ "DEMAND length 0", OMEM_RPC_DEMAND, 0, 4, 4, 0, 0,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "HELLO length 240", OMEM_RPC_HELLO, 0, 4, 4, 240, 0,
	  OMEM_RPC_ERR_OVERSIZED, "header.length", 4 },
	{ "HELLO version_min 0", OMEM_RPC_HELLO, 0, HDR + 0, 2, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "hello.version_min", HDR + 0 },
	{ "HELLO version_max < version_min", OMEM_RPC_HELLO, 0, HDR + 2, 2, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "hello.version_max", HDR + 2 },
	{ "WELCOME version 0", OMEM_RPC_WELCOME, 0, HDR + 0, 2, 0, 0,
	  OMEM_RPC_ERR_BAD_VERSION, "welcome.version", HDR + 0 },
	{ "WELCOME version 2", OMEM_RPC_WELCOME, 0, HDR + 0, 2, 2, 0,
	  OMEM_RPC_ERR_BAD_VERSION, "welcome.version", HDR + 0 },
	{ "WELCOME reserved0", OMEM_RPC_WELCOME, 0, HDR + 2, 2, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "welcome.reserved0", HDR + 2 },
	{ "WELCOME buffer_percent 101", OMEM_RPC_WELCOME, 0, HDR + 4, 4, 101, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.buffer_percent", HDR + 4 },
	{ "WELCOME unknown feature", OMEM_RPC_WELCOME, 0, HDR + 8, 8, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "welcome.features", HDR + 8 },
	{ "WELCOME boot > min", OMEM_RPC_WELCOME, 0, HDR + 16, 8, 4ULL << 30, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.min_bytes", HDR + 24 },
	{ "WELCOME max < min", OMEM_RPC_WELCOME, 0, HDR + 32, 8, 1ULL << 30, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.max_bytes", HDR + 32 },
	{ "WELCOME cap < min", OMEM_RPC_WELCOME, 0, HDR + 40, 8, 1ULL << 30, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.cap_bytes", HDR + 40 },
	{ "WELCOME cap > max", OMEM_RPC_WELCOME, 0, HDR + 40, 8, 17ULL << 30, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.cap_bytes", HDR + 40 },
	{ "WELCOME plugged > max - boot", OMEM_RPC_WELCOME, 0, HDR + 48, 8, 15ULL << 30, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.plugged_bytes", HDR + 48 },
	{ "WELCOME block 0", OMEM_RPC_WELCOME, 0, HDR + 56, 8, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.block_bytes", HDR + 56 },
	{ "WELCOME block 3 MiB", OMEM_RPC_WELCOME, 0, HDR + 56, 8, 3ULL << 20, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "welcome.block_bytes", HDR + 56 },
	{ "DEMAND urgency 0", OMEM_RPC_DEMAND, 0, HDR + 0, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "demand.urgency", HDR + 0 },
	{ "DEMAND urgency 5", OMEM_RPC_DEMAND, 0, HDR + 0, 4, 5, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "demand.urgency", HDR + 0 },
	{ "DEMAND no reason", OMEM_RPC_DEMAND, 0, HDR + 4, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "demand.reasons", HDR + 4 },
	{ "DEMAND unknown reason", OMEM_RPC_DEMAND, 0, HDR + 4, 4, 0x9, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "demand.reasons", HDR + 4 },
	{ "DEMAND 0 bytes", OMEM_RPC_DEMAND, 0, HDR + 8, 8, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "demand.bytes", HDR + 8 },
	{ "DENY reason 0", OMEM_RPC_DENY, 0, HDR + 0, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "deny.reason", HDR + 0 },
	{ "DENY reason 6", OMEM_RPC_DENY, 0, HDR + 0, 4, 6, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "deny.reason", HDR + 0 },
	{ "RECLAIM 0 bytes", OMEM_RPC_RECLAIM, 0, HDR + 0, 8, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "reclaim.bytes", HDR + 0 },
	{ "RECLAIM reserved", OMEM_RPC_RECLAIM, 0, HDR + 12, 4, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "reclaim.reserved", HDR + 12 },
	{ "STATS count 0", OMEM_RPC_STATS, 0, HDR + 0, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.count", HDR + 0 },
	{ "STATS count 15", OMEM_RPC_STATS, 0, HDR + 0, 4, 15, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.count", HDR + 0 },
	{ "STATS length 7", OMEM_RPC_STATS, 0, 4, 4, 7, 0,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "STATS count 11 in a length for 10", OMEM_RPC_STATS, 0, HDR + 0, 4, 11, 0,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "STATS count 9 in a length for 10", OMEM_RPC_STATS, 0, HDR + 0, 4, 9, 0,
	  OMEM_RPC_ERR_OVERSIZED, "header.length", 4 },
	{ "STATS length not 8 + 16n", OMEM_RPC_STATS, 0, 4, 4, 8 + 16 * 10 - 1, 0,
	  OMEM_RPC_ERR_TRUNCATED, "header.length", 4 },
	{ "STATS reserved", OMEM_RPC_STATS, 0, HDR + 4, 4, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "stats.reserved", HDR + 4 },
	{ "STATS tag 0", OMEM_RPC_STATS, 0, STAT(3, 0), 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.stats[].tag", STAT(3, 0) },
	{ "STATS tag 11", OMEM_RPC_STATS, 0, STAT(0, 0), 4, 11, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.stats[].tag", STAT(0, 0) },
	{ "STATS tag 0xffffffff", OMEM_RPC_STATS, 0, STAT(9, 0), 4, 0xffffffff, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.stats[].tag", STAT(9, 0) },
	/* The sample's tags run 10, 9, ..., 1: pair 5 repeating tag 10. */
	{ "STATS duplicate tag", OMEM_RPC_STATS, 0, STAT(5, 0), 4, 10, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "stats.stats[].tag", STAT(5, 0) },
	{ "STATS pair reserved", OMEM_RPC_STATS, 0, STAT(2, 1), 4, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "stats.stats[].reserved", STAT(2, 1) },
	{ "PING reserved", OMEM_RPC_PING, 0, HDR + 8, 8, 1ULL << 63, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "ping.reserved", HDR + 8 },
	{ "PONG reserved", OMEM_RPC_PONG, 0, HDR + 12, 4, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "ping.reserved", HDR + 8 },
	{ "GOODBYE reason 0", OMEM_RPC_GOODBYE, 0, HDR + 0, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "goodbye.reason", HDR + 0 },
	{ "GOODBYE reason 5", OMEM_RPC_GOODBYE, 0, HDR + 0, 4, 5, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "goodbye.reason", HDR + 0 },
	{ "GOODBYE reserved", OMEM_RPC_GOODBYE, RPC_FROM_HOST, HDR + 4, 4, 1, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "goodbye.reserved", HDR + 4 },
	{ "ERROR code 0", OMEM_RPC_ERROR, 0, HDR + 0, 4, 0, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "error.code", HDR + 0 },
	{ "ERROR code 12", OMEM_RPC_ERROR, 0, HDR + 0, 4, 12, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "error.code", HDR + 0 },
	{ "ERROR field_offset 256", OMEM_RPC_ERROR, 0, HDR + 6, 2, 256, 0,
	  OMEM_RPC_ERR_BAD_VALUE, "error.field_offset", HDR + 6 },
	{ "ERROR reserved", OMEM_RPC_ERROR, 0, HDR + 14, 2, 0x100, 0,
	  OMEM_RPC_ERR_RESERVED_NONZERO, "error.reserved", HDR + 8 },
};

static void test_refusals(void)
{
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		struct rpc_msg m = sample(t->type), out, untouched, next;
		struct rpc_codec_error err;
		uint8_t slot[SLOT];
		enum rpc_direction from = t->from ? t->from : allowed_from(t->type);
		int r;

		rpc_codec_encode(&m, slot, SLOT, NULL);
		if (t->width == 2)
			put16(slot, t->offset, (uint16_t)t->value);
		else if (t->width == 4)
			put32(slot, t->offset, (uint32_t)t->value);
		else if (t->width == 8)
			put64(slot, t->offset, t->value);

		memset(&out, 0x5a, sizeof(out));
		untouched = out;
		memset(&err, 0, sizeof(err));
		r = rpc_codec_decode(slot, t->slot_len ? t->slot_len : SLOT, from, &out, &err);
		tap_eq(r, -EBADMSG, "%s: refused", t->name);
		tap_ok(err.code == t->code, "%s: code %s", t->name, rpc_codec_error_name(t->code));
		if (err.code != t->code)
			tap_diag("got %s", rpc_codec_error_name(err.code));
		tap_ok(err.field && strcmp(err.field, t->field) == 0, "%s: field %s", t->name,
		       t->field);
		if (!err.field || strcmp(err.field, t->field) != 0)
			tap_diag("got %s", err.field ? err.field : "(null)");
		tap_eq(err.field_offset, t->field_offset, "%s: field offset", t->name);
		tap_ok(memcmp(&out, &untouched, sizeof(out)) == 0, "%s: ret_msg untouched", t->name);

		/* The codec keeps no state: the next good message decodes. */
		m = sample(OMEM_RPC_PING);
		rpc_codec_encode(&m, slot, SLOT, NULL);
		tap_eq(rpc_codec_decode(slot, SLOT, RPC_FROM_GUEST, &next, NULL), 0,
		       "%s: next message decodes", t->name);
	}
}

static void test_error_context(void)
{
	struct rpc_msg m = sample(OMEM_RPC_DEMAND), out;
	struct rpc_codec_error err;
	uint8_t slot[SLOT];

	rpc_codec_encode(&m, slot, SLOT, NULL);
	put32(slot, HDR, 9);
	rpc_codec_decode(slot, SLOT, RPC_FROM_GUEST, &out, &err);
	tap_eq(err.type, OMEM_RPC_DEMAND, "error carries the refused type");
	tap_eq(err.seq, m.seq, "error carries the refused seq (for reply_to)");
	tap_eq(rpc_codec_decode(slot, SLOT, RPC_FROM_GUEST, &out, NULL), -EBADMSG,
	       "ret_error may be NULL");
	tap_eq(rpc_codec_decode(slot, 0, RPC_FROM_GUEST, &out, &err), -EBADMSG,
	       "an empty slot is refused");
	tap_ok(err.code == OMEM_RPC_ERR_TRUNCATED && strcmp(err.field, "header") == 0,
	       "... as TRUNCATED header");
	tap_eq(rpc_codec_decode(slot, SLOT, 0, &out, &err), -EINVAL, "direction 0 is -EINVAL");
	tap_eq(rpc_codec_decode(slot, SLOT, 3, &out, &err), -EINVAL,
	       "direction 'both' is -EINVAL for a decode");
}

static void test_encode_refusals(void)
{
	struct rpc_msg m;
	struct rpc_codec_error err;
	uint8_t slot[SLOT], before[SLOT];

	memset(slot, 0x77, sizeof(slot));
	memcpy(before, slot, sizeof(slot));

	m = sample(OMEM_RPC_DEMAND);
	m.u.demand.urgency = 0;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses urgency 0");
	tap_ok(err.field && strcmp(err.field, "demand.urgency") == 0, "... naming demand.urgency");
	tap_ok(memcmp(slot, before, SLOT) == 0, "... and leaves the slot alone");

	m = sample(OMEM_RPC_PING);
	m.seq = 0;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses seq 0");
	tap_eq(err.code, OMEM_RPC_ERR_BAD_SEQUENCE, "... as BAD_SEQUENCE");

	m = sample(OMEM_RPC_PING);
	m.flags = 1;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses flags");
	tap_eq(err.code, OMEM_RPC_ERR_RESERVED_NONZERO, "... as RESERVED_NONZERO");

	m = sample(OMEM_RPC_PING);
	m.type = 0;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses type 0");
	tap_eq(err.code, OMEM_RPC_ERR_UNKNOWN_TYPE, "... as UNKNOWN_TYPE");
	m.type = 0xffff;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses type 0xffff");

	m = sample(OMEM_RPC_STATS);
	m.u.stats.count = 0;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses STATS count 0");
	tap_ok(err.field && strcmp(err.field, "stats.count") == 0, "... naming stats.count");
	m.u.stats.count = 15;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG, "encode refuses STATS count 15");
	m.u.stats.count = 0xffffffff;
	tap_eq(rpc_codec_encode(&m, slot, SLOT, &err), -EBADMSG,
	       "encode refuses STATS count 0xffffffff");
	tap_ok(memcmp(slot, before, SLOT) == 0, "the slot is still untouched");

	m = sample(OMEM_RPC_WELCOME);
	tap_eq(rpc_codec_encode(&m, slot, HDR + 71, &err), -ENOBUFS,
	       "encode into a slot one byte short is -ENOBUFS");
	tap_ok(memcmp(slot, before, SLOT) == 0, "... and leaves it alone");
	tap_eq(rpc_codec_encode(&m, slot, HDR + 72, &err), 0, "a slot of exactly 88 bytes is enough");
}

static void test_names(void)
{
	tap_ok(strcmp(rpc_codec_type_name(OMEM_RPC_HELLO), "HELLO") == 0, "type name HELLO");
	tap_ok(strcmp(rpc_codec_type_name(OMEM_RPC_ERROR), "ERROR") == 0, "type name ERROR");
	tap_ok(strcmp(rpc_codec_type_name(0), "unknown") == 0, "type 0 is unknown");
	tap_ok(strcmp(rpc_codec_type_name(13), "unknown") == 0, "type 13 is unknown");
	tap_ok(strcmp(rpc_codec_type_name(0xffff), "unknown") == 0, "type 0xffff is unknown");
	tap_ok(strcmp(rpc_codec_error_name(OMEM_RPC_ERR_BAD_INDEX), "BAD_INDEX") == 0,
	       "error name BAD_INDEX");
	tap_ok(strcmp(rpc_codec_error_name(OMEM_RPC_ERR_BAD_SEQUENCE), "BAD_SEQUENCE") == 0,
	       "error name BAD_SEQUENCE");
	tap_ok(strcmp(rpc_codec_error_name(0), "unknown") == 0, "error 0 is unknown");
	tap_ok(strcmp(rpc_codec_error_name(12), "unknown") == 0, "error 12 is unknown");
	tap_eq(rpc_codec_payload_size(OMEM_RPC_STATS, 14), 232, "STATS payload of 14 pairs");
	tap_eq(rpc_codec_payload_size(OMEM_RPC_STATS, 15), 0, "no STATS payload of 15 pairs");
	tap_eq(rpc_codec_payload_size(OMEM_RPC_WELCOME, 0), 72, "WELCOME payload size");
	tap_eq(rpc_codec_payload_size(13, 0), 0, "no payload size for type 13");
}

static void test_negotiate(void)
{
	uint16_t v = 0xbeef;

	tap_eq(rpc_codec_negotiate(1, 1, &v), 0, "negotiate [1,1]");
	tap_eq(v, 1, "... picks 1");
	v = 0xbeef;
	tap_eq(rpc_codec_negotiate(1, 7, &v), 0, "negotiate [1,7]");
	tap_eq(v, OMEM_RPC_VERSION_MAX, "... picks our highest");
	v = 0xbeef;
	tap_eq(rpc_codec_negotiate(OMEM_RPC_VERSION_MAX + 1, 9, &v), -EPROTONOSUPPORT,
	       "negotiate above our range fails");
	tap_eq(v, 0xbeef, "... leaving ret_version alone");
	tap_eq(rpc_codec_negotiate(0, 1, &v), -EINVAL, "negotiate with min 0 is -EINVAL");
	tap_eq(rpc_codec_negotiate(3, 2, &v), -EINVAL, "negotiate with min > max is -EINVAL");
	tap_eq(v, 0xbeef, "... leaving ret_version alone");
}

int main(void)
{
	test_round_trips();
	test_both_directions();
	test_stats_counts();
	test_golden();
	test_refusals();
	test_error_context();
	test_encode_refusals();
	test_names();
	test_negotiate();
	return tap_done();
}
