/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the guest module's checks of what the host writes
 * (guest-client/omem_wire.c), compiled unchanged in user space against the
 * kernel-header shim tests/fuzz/kshim/: one case per rule of
 * omem_wire_check_host_message() (type, direction, flags, length, each
 * bounded field of each host type) with the error code and the field it
 * names, the payload size table, one case per rule of
 * omem_wire_check_region(), and omemd's own default layouts (rpc-ring.c)
 * accepted by the module for every region size.  TAP on stdout.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/kernel.h>	/* the shim's ARRAY_SIZE */

#include "omem_wire.h"
#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"
#include "tap.h"

#define MIB (1024ull * 1024)

/* Slot offset of a payload field, as omem_wire.c reports it. */
#define FIELD(member) offsetof(struct omem_message, payload.member)
#define HEADER_FIELD(member) offsetof(struct omem_rpc_header, member)

/* A well-formed host message of @type with an all-zero payload. */
static struct omem_message host_message(uint16_t type)
{
	struct omem_message message;

	memset(&message, 0, sizeof(message));
	message.header.type = htole16(type);
	message.header.length = htole32(omem_wire_payload_bytes(type));
	message.header.seq = htole32(1);
	return message;
}

/* The test guest's shape (tests/lib/guest.sh: boot 256 MiB, a 1536 MiB
 * device, 128 MiB blocks) with min and cap strictly between, so that each
 * bound can be broken alone. */
static struct omem_message valid_welcome(void)
{
	struct omem_message message = host_message(OMEM_RPC_WELCOME);
	struct omem_rpc_welcome *w = &message.payload.welcome;

	w->version = htole16(OMEM_RPC_VERSION_MAX);
	w->buffer_percent = htole32(10);
	w->boot_bytes = htole64(256 * MIB);
	w->min_bytes = htole64(512 * MIB);
	w->cap_bytes = htole64(1024 * MIB);
	w->max_bytes = htole64(1792 * MIB);
	w->plugged_bytes = htole64(256 * MIB);
	w->block_bytes = htole64(128 * MIB);
	w->stats_interval_ms = htole32(1000);
	w->demand_interval_ms = htole32(100);
	return message;
}

/* A valid message of each type the host may send. */
static struct omem_message valid_host_message(uint16_t type)
{
	struct omem_message message = host_message(type);

	switch (type) {
	case OMEM_RPC_WELCOME:
		return valid_welcome();
	case OMEM_RPC_GRANT:
		message.payload.grant.bytes = htole64(128 * MIB);
		message.payload.grant.target_bytes = htole64(512 * MIB);
		break;
	case OMEM_RPC_DENY:
		message.payload.deny.reason = htole32(OMEM_RPC_DENY_BUDGET);
		message.payload.deny.retry_after_ms = htole32(500);
		break;
	case OMEM_RPC_RECLAIM:
		message.payload.reclaim.bytes = htole64(128 * MIB);
		message.payload.reclaim.deadline_ms = htole32(1000);
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		message.payload.ping.cookie = htole64(0x1234);
		break;
	case OMEM_RPC_GOODBYE:
		message.payload.goodbye.reason = htole32(OMEM_RPC_GOODBYE_SHUTDOWN);
		break;
	case OMEM_RPC_ERROR:
		message.payload.error.code = htole32(OMEM_RPC_ERR_BAD_VALUE);
		message.payload.error.type = htole16(OMEM_RPC_DEMAND);
		break;
	}
	return message;
}

/* Is @message refused with @code at @field?  (code 0: accepted, field 0.)
 * The field starts out as garbage, so a check that forgets to set it shows. */
static void expect(const struct omem_message *message, uint32_t code, uint16_t field,
		   const char *what)
{
	uint16_t got_field = 0xffff;
	uint32_t got = omem_wire_check_host_message(message, &got_field);

	if (code)
		tap_eq(got, code, "%s: refused, %s", what, rpc_codec_error_name(code));
	else
		tap_eq(got, 0, "%s: accepted", what);
	tap_eq(got_field, field, "%s: field offset %u", what, field);
}

static void test_payload_sizes(void)
{
	static const struct {
		uint16_t type;
		uint32_t bytes;
	} sizes[] = {
		{ OMEM_RPC_HELLO, sizeof(struct omem_rpc_hello) },
		{ OMEM_RPC_WELCOME, sizeof(struct omem_rpc_welcome) },
		{ OMEM_RPC_DEMAND, sizeof(struct omem_rpc_demand) },
		{ OMEM_RPC_GRANT, sizeof(struct omem_rpc_grant) },
		{ OMEM_RPC_DENY, sizeof(struct omem_rpc_deny) },
		{ OMEM_RPC_SURPLUS, sizeof(struct omem_rpc_surplus) },
		{ OMEM_RPC_RECLAIM, sizeof(struct omem_rpc_reclaim) },
		{ OMEM_RPC_STATS, 0 },
		{ OMEM_RPC_PING, sizeof(struct omem_rpc_ping) },
		{ OMEM_RPC_PONG, sizeof(struct omem_rpc_ping) },
		{ OMEM_RPC_GOODBYE, sizeof(struct omem_rpc_goodbye) },
		{ OMEM_RPC_ERROR, sizeof(struct omem_rpc_error) },
		{ 0, 0 },
		{ OMEM_RPC_TYPE_MAX + 1, 0 },
		{ 0xffff, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		tap_eq(omem_wire_payload_bytes(sizes[i].type), sizes[i].bytes,
		       "payload size of type %u (%s) is %u", sizes[i].type,
		       rpc_codec_type_name(sizes[i].type), sizes[i].bytes);
}

static void test_header(void)
{
	static const uint16_t from_guest_only[] = {
		OMEM_RPC_HELLO, OMEM_RPC_DEMAND, OMEM_RPC_SURPLUS, OMEM_RPC_STATS,
	};
	static const uint16_t unknown[] = { 0, OMEM_RPC_TYPE_MAX + 1, 0x100, 0xffff };
	struct omem_message message;
	char what[64];

	for (uint16_t type = 1; type <= OMEM_RPC_TYPE_MAX; type++) {
		if (!(OMEM_RPC_TYPES_FROM_HOST & OMEM_RPC_TYPE_BIT(type)))
			continue;
		message = valid_host_message(type);
		snprintf(what, sizeof(what), "valid %s", rpc_codec_type_name(type));
		expect(&message, 0, 0, what);

		message.header.length = htole32(omem_wire_payload_bytes(type) - 1);
		snprintf(what, sizeof(what), "%s one byte short", rpc_codec_type_name(type));
		expect(&message, OMEM_RPC_ERR_TRUNCATED, HEADER_FIELD(length), what);
		message.header.length = 0;
		snprintf(what, sizeof(what), "%s with no payload", rpc_codec_type_name(type));
		expect(&message, OMEM_RPC_ERR_TRUNCATED, HEADER_FIELD(length), what);
		message.header.length = htole32(omem_wire_payload_bytes(type) + 1);
		snprintf(what, sizeof(what), "%s one byte long", rpc_codec_type_name(type));
		expect(&message, OMEM_RPC_ERR_OVERSIZED, HEADER_FIELD(length), what);
		message.header.length = htole32(UINT32_MAX);
		snprintf(what, sizeof(what), "%s of length 2^32-1", rpc_codec_type_name(type));
		expect(&message, OMEM_RPC_ERR_OVERSIZED, HEADER_FIELD(length), what);
	}

	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		message = host_message(OMEM_RPC_PING);
		message.header.type = htole16(unknown[i]);
		snprintf(what, sizeof(what), "unknown type %u", unknown[i]);
		expect(&message, OMEM_RPC_ERR_UNKNOWN_TYPE, HEADER_FIELD(type), what);
	}

	for (size_t i = 0; i < ARRAY_SIZE(from_guest_only); i++) {
		message = host_message(from_guest_only[i]);
		message.header.length = htole32(16);
		snprintf(what, sizeof(what), "%s from the host", rpc_codec_type_name(from_guest_only[i]));
		expect(&message, OMEM_RPC_ERR_BAD_DIRECTION, HEADER_FIELD(type), what);
	}

	message = valid_host_message(OMEM_RPC_PING);
	message.header.flags = htole16(0x8000);
	expect(&message, OMEM_RPC_ERR_RESERVED_NONZERO, HEADER_FIELD(flags), "flags set");
	message.header.length = 0;
	expect(&message, OMEM_RPC_ERR_RESERVED_NONZERO, HEADER_FIELD(flags),
	       "flags set and truncated: flags named first");
	message = valid_host_message(OMEM_RPC_PING);
	message.header.seq = htole32(UINT32_MAX);
	message.header.reply_to = htole32(UINT32_MAX);
	expect(&message, 0, 0, "any seq and reply_to (the session's to judge)");
}

static void test_welcome(void)
{
	struct omem_message message;
	struct omem_rpc_welcome *w = &message.payload.welcome;

#define WELCOME(what, assignment, code, member)                               \
	do {                                                                  \
		message = valid_welcome();                                    \
		assignment;                                                   \
		expect(&message, code, (code) ? FIELD(welcome.member) : 0,    \
		       "WELCOME " what);                                      \
	} while (0)

	WELCOME("version 0", w->version = 0, OMEM_RPC_ERR_BAD_VERSION, version);
	WELCOME("version past the newest", w->version = htole16(OMEM_RPC_VERSION_MAX + 1),
		OMEM_RPC_ERR_BAD_VERSION, version);
	WELCOME("buffer 100 %", w->buffer_percent = htole32(100), 0, version);
	WELCOME("buffer 101 %", w->buffer_percent = htole32(101), OMEM_RPC_ERR_BAD_VALUE,
		buffer_percent);
	WELCOME("unknown feature bit", w->features = htole64(1), OMEM_RPC_ERR_BAD_VALUE,
		features);
	WELCOME("top feature bit", w->features = htole64(1ull << 63), OMEM_RPC_ERR_BAD_VALUE,
		features);
	WELCOME("min above cap", w->min_bytes = htole64(1024 * MIB + 1), OMEM_RPC_ERR_BAD_VALUE,
		min_bytes);
	WELCOME("min equal to cap", w->min_bytes = w->cap_bytes, 0, version);
	WELCOME("cap above max", w->cap_bytes = htole64(1792 * MIB + 1), OMEM_RPC_ERR_BAD_VALUE,
		cap_bytes);
	WELCOME("cap equal to max", w->cap_bytes = w->max_bytes, 0, version);
	WELCOME("boot above min", w->boot_bytes = htole64(512 * MIB + 1), OMEM_RPC_ERR_BAD_VALUE,
		boot_bytes);
	WELCOME("boot equal to min", w->boot_bytes = w->min_bytes, 0, version);
	WELCOME("plugged above max - boot", w->plugged_bytes = htole64(1536 * MIB + 1),
		OMEM_RPC_ERR_BAD_VALUE, plugged_bytes);
	WELCOME("plugged 2^64-1", w->plugged_bytes = htole64(UINT64_MAX), OMEM_RPC_ERR_BAD_VALUE,
		plugged_bytes);
	WELCOME("plugged equal to max - boot", w->plugged_bytes = htole64(1536 * MIB), 0, version);
	WELCOME("block 0", w->block_bytes = 0, OMEM_RPC_ERR_BAD_VALUE, block_bytes);
	WELCOME("block 192 MiB (not a power of two)", w->block_bytes = htole64(192 * MIB),
		OMEM_RPC_ERR_BAD_VALUE, block_bytes);
	WELCOME("block 2^64-1", w->block_bytes = htole64(UINT64_MAX), OMEM_RPC_ERR_BAD_VALUE,
		block_bytes);
	WELCOME("block 2 MiB", w->block_bytes = htole64(2 * MIB), 0, version);
	WELCOME("block 2^63", w->block_bytes = htole64(1ull << 63), 0, version);
	WELCOME("stats and demand intervals 0 (never, at will)",
		(w->stats_interval_ms = 0, w->demand_interval_ms = 0), 0, version);
#undef WELCOME

	/* Fields are read little endian: 256 MiB written big endian reads as
	 * 64 GiB, above min. */
	message = valid_welcome();
	w->boot_bytes = htobe64(256 * MIB);
	expect(&message, OMEM_RPC_ERR_BAD_VALUE, FIELD(welcome.boot_bytes),
	       "WELCOME boot written big endian (reads as above min)");
}

/* Each bounded enum of a host message: the values just outside its range
 * are refused at the field, its ends accepted. */
static void test_enum_ranges(void)
{
	static const struct {
		uint16_t type;
		const char *name;
		uint16_t offset; /* of a 32-bit field */
		uint32_t lowest, highest;
	} ranges[] = {
		{ OMEM_RPC_DENY, "DENY reason", FIELD(deny.reason), OMEM_RPC_DENY_BUDGET,
		  OMEM_RPC_DENY_BUSY },
		{ OMEM_RPC_GOODBYE, "GOODBYE reason", FIELD(goodbye.reason),
		  OMEM_RPC_GOODBYE_SHUTDOWN, OMEM_RPC_GOODBYE_VERSION },
		{ OMEM_RPC_ERROR, "ERROR code", FIELD(error.code), 1, OMEM_RPC_ERR_MAX },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		const uint32_t values[] = { ranges[i].lowest - 1, ranges[i].lowest,
					    ranges[i].highest, ranges[i].highest + 1, UINT32_MAX };

		for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
			struct omem_message message = valid_host_message(ranges[i].type);
			uint32_t wire = htole32(values[v]);
			bool in_range = values[v] >= ranges[i].lowest &&
					values[v] <= ranges[i].highest;
			char what[64];

			memcpy((unsigned char *)&message + ranges[i].offset, &wire, sizeof(wire));
			snprintf(what, sizeof(what), "%s %u", ranges[i].name, values[v]);
			expect(&message, in_range ? 0 : OMEM_RPC_ERR_BAD_VALUE,
			       in_range ? 0 : ranges[i].offset, what);
		}
	}
}

/* Each reserved field of a host message: its top byte set is refused at
 * the field, so the whole width is checked. */
static void test_reserved_fields(void)
{
	static const struct {
		uint16_t type;
		const char *name;
		uint16_t offset, bytes;
	} fields[] = {
		{ OMEM_RPC_WELCOME, "WELCOME reserved0", FIELD(welcome.reserved0), 2 },
		{ OMEM_RPC_RECLAIM, "RECLAIM reserved", FIELD(reclaim.reserved), 4 },
		{ OMEM_RPC_PING, "PING reserved", FIELD(ping.reserved), 8 },
		{ OMEM_RPC_PONG, "PONG reserved", FIELD(ping.reserved), 8 },
		{ OMEM_RPC_GOODBYE, "GOODBYE reserved", FIELD(goodbye.reserved), 4 },
		{ OMEM_RPC_ERROR, "ERROR reserved", FIELD(error.reserved), 8 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		struct omem_message message = valid_host_message(fields[i].type);
		char what[64];

		((unsigned char *)&message)[fields[i].offset + fields[i].bytes - 1] = 0x80;
		snprintf(what, sizeof(what), "%s with its top bit set", fields[i].name);
		expect(&message, OMEM_RPC_ERR_RESERVED_NONZERO, fields[i].offset, what);
	}
}

static void test_amounts(void)
{
	struct omem_message message = valid_host_message(OMEM_RPC_GRANT);

	message.payload.grant.bytes = 0;
	expect(&message, 0, 0, "GRANT of 0 bytes (the policy's to judge)");
	message.payload.grant.bytes = htole64(UINT64_MAX);
	message.payload.grant.target_bytes = htole64(UINT64_MAX);
	expect(&message, 0, 0, "GRANT of 2^64-1 bytes (the policy's to judge)");

	message = valid_host_message(OMEM_RPC_RECLAIM);
	message.payload.reclaim.bytes = 0;
	expect(&message, OMEM_RPC_ERR_BAD_VALUE, FIELD(reclaim.bytes), "RECLAIM of 0 bytes");
	message = valid_host_message(OMEM_RPC_RECLAIM);
	message.payload.reclaim.deadline_ms = 0;
	expect(&message, 0, 0, "RECLAIM with deadline 0");
}

/* A 64 KiB region in a 64 KiB BAR: the header, then two 16-slot rings
 * back to back. */
#define REGION_BYTES (64u * 1024)

static struct omem_rpc_region valid_region(void)
{
	struct omem_rpc_region header;
	uint32_t first = sizeof(struct omem_rpc_region);

	memset(&header, 0, sizeof(header));
	header.magic = htole64(OMEM_RPC_MAGIC);
	header.layout_version = htole32(OMEM_RPC_LAYOUT_VERSION);
	header.region_size = htole32(REGION_BYTES);
	header.host_peer_id = htole32(1);
	header.slot_size = htole32(OMEM_RPC_SLOT_SIZE);
	header.g2h_offset = htole32(first);
	header.g2h_slots = htole32(16);
	header.h2g_offset = htole32(first + OMEM_RPC_RING_BYTES(16));
	header.h2g_slots = htole32(16);
	header.generation = htole32(7);
	return header;
}

/* Does the region check answer @want (NULL: accepted)? */
static void expect_region(const struct omem_rpc_region *header, uint64_t bar_bytes,
			  const char *want, const char *what)
{
	const char *got = omem_wire_check_region(header, bar_bytes);

	if (!want) {
		if (!tap_ok(got == NULL, "region %s: accepted", what))
			tap_diag("refused: %s", got);
		return;
	}
	if (!tap_ok(got && strcmp(got, want) == 0, "region %s: \"%s\"", what, want))
		tap_diag("got %s", got ? got : "acceptance");
}

static void test_region(void)
{
	const uint32_t first = sizeof(struct omem_rpc_region);
	const uint32_t ring16 = OMEM_RPC_RING_BYTES(16);
	struct omem_rpc_region header;

#define REGION(what, assignment, bar, want)                                   \
	do {                                                                  \
		header = valid_region();                                      \
		assignment;                                                   \
		expect_region(&header, bar, want, what);                      \
	} while (0)

	REGION("as omemd lays it out", (void)0, REGION_BYTES, NULL);
	REGION("in a larger BAR", (void)0, 4 * REGION_BYTES, NULL);
	REGION("layout version 0", header.layout_version = 0, REGION_BYTES,
	       "unsupported layout version");
	REGION("layout version 2", header.layout_version = htole32(OMEM_RPC_LAYOUT_VERSION + 1),
	       REGION_BYTES, "unsupported layout version");
	REGION("size 68 KiB (not a power of two)",
	       header.region_size = htole32(REGION_BYTES + 4096), 4 * REGION_BYTES,
	       "region size not a power of two in range");
	REGION("size 0", header.region_size = 0, REGION_BYTES,
	       "region size not a power of two in range");
	REGION("size 2 KiB (below the minimum)", header.region_size = htole32(2048), REGION_BYTES,
	       "region size not a power of two in range");
	REGION("size 2 MiB (above the maximum)", header.region_size = htole32(2 * MIB),
	       4 * MIB, "region size not a power of two in range");
	REGION("larger than its BAR", (void)0, REGION_BYTES / 2, "region larger than BAR2");
	REGION("in a BAR of 0 bytes", (void)0, 0, "region larger than BAR2");
	REGION("slot size 128", header.slot_size = htole32(128), REGION_BYTES,
	       "unsupported slot size");
	REGION("slot size 512", header.slot_size = htole32(512), REGION_BYTES,
	       "unsupported slot size");
	REGION("host peer 65535", header.host_peer_id = htole32(0xffff), REGION_BYTES, NULL);
	REGION("host peer 65536", header.host_peer_id = htole32(0x10000), REGION_BYTES,
	       "host peer id does not fit the doorbell");
	for (size_t i = 0; i < ARRAY_SIZE(header.reserved); i++) {
		char what[48];

		snprintf(what, sizeof(what), "reserved[%zu] set", i);
		REGION(what, header.reserved[i] = htole32(1), REGION_BYTES,
		       "reserved header field not zero");
	}
	REGION("guest->host ring unaligned", header.g2h_offset = htole32(first + 4), REGION_BYTES,
	       "ring offset not cache-line aligned");
	REGION("host->guest ring unaligned", header.h2g_offset = htole32(first + ring16 + 32),
	       REGION_BYTES, "ring offset not cache-line aligned");
	REGION("ring of 1 slot", header.g2h_slots = htole32(1), REGION_BYTES,
	       "ring slot count out of range");
	REGION("ring of 0 slots", header.h2g_slots = 0, REGION_BYTES,
	       "ring slot count out of range");
	REGION("ring of 3 slots", header.g2h_slots = htole32(3), REGION_BYTES,
	       "ring slot count out of range");
	REGION("ring of 2048 slots", header.h2g_slots = htole32(2048), REGION_BYTES,
	       "ring slot count out of range");
	REGION("ring of 2 slots", header.g2h_slots = htole32(2), REGION_BYTES, NULL);
	REGION("guest->host ring over the header", header.g2h_offset = 0, REGION_BYTES,
	       "ring overlaps the region header");
	REGION("host->guest ring over the header", header.h2g_offset = 0, REGION_BYTES,
	       "ring overlaps the region header");
	REGION("ring past the end", header.h2g_offset = htole32(REGION_BYTES - 64), REGION_BYTES,
	       "ring runs past the end of the region");
	REGION("ring offset near 2^32", header.h2g_offset = htole32(0xffffffc0), REGION_BYTES,
	       "ring runs past the end of the region");
	REGION("ring ending at the region's end",
	       header.h2g_offset = htole32(REGION_BYTES - ring16), REGION_BYTES, NULL);
	REGION("rings overlapping by one cache line",
	       header.h2g_offset = htole32(first + ring16 - 64), REGION_BYTES, "rings overlap");
	REGION("one ring twice", header.h2g_offset = header.g2h_offset, REGION_BYTES,
	       "rings overlap");
	REGION("host->guest ring inside the guest->host one",
	       (header.g2h_slots = htole32(64), header.h2g_offset = htole32(first + 1024)),
	       REGION_BYTES, "rings overlap");
	REGION("rings in the other order",
	       (header.h2g_offset = htole32(first), header.g2h_offset = htole32(first + ring16)),
	       REGION_BYTES, NULL);
	REGION("two 1024-slot rings in 1 MiB",
	       (header.region_size = htole32(OMEM_RPC_REGION_MAX_SIZE),
		header.g2h_slots = htole32(OMEM_RPC_RING_MAX_SLOTS),
		header.h2g_slots = htole32(OMEM_RPC_RING_MAX_SLOTS),
		header.h2g_offset = htole32(first + OMEM_RPC_RING_BYTES(OMEM_RPC_RING_MAX_SLOTS))),
	       OMEM_RPC_REGION_MAX_SIZE, NULL);
#undef REGION
}

/* What omemd writes (rpc-ring.c's default layout and header), the module
 * accepts, at every region size. */
static void test_region_from_omemd(void)
{
	static unsigned char region[OMEM_RPC_REGION_MAX_SIZE];

	for (uint32_t size = OMEM_RPC_REGION_MIN_SIZE; size <= OMEM_RPC_REGION_MAX_SIZE;
	     size *= 2) {
		struct rpc_region_layout layout;
		struct omem_rpc_region header;
		char what[64];

		snprintf(what, sizeof(what), "of %u KiB written by omemd", size / 1024);
		if (!tap_eq(rpc_ring_layout_default(size, 1, 1, &layout), 0,
			    "omemd has a default layout for %u KiB", size / 1024))
			continue;
		rpc_ring_region_init(region, &layout);
		memcpy(&header, region, sizeof(header));
		tap_ok(le64toh(header.magic) == OMEM_RPC_MAGIC, "region %s: carries the magic", what);
		expect_region(&header, size, NULL, what);
	}
}

int main(void)
{
	test_payload_sizes();
	test_header();
	test_welcome();
	test_enum_ranges();
	test_reserved_fields();
	test_amounts();
	test_region();
	test_region_from_omemd();
	return tap_done();
}
