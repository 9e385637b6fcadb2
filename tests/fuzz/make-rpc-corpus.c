/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed inputs of tests/fuzz/corpus/rpc (format: fuzz-rpc.c):
 * every message type valid in its own ring, the usual ways to break each,
 * and the index and header cases.  Usage: make-rpc-corpus DIR
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"

#define SEED_SLOTS 16u /* per ring in fuzz-rpc's 16 KiB region */
#define SEED_PREFIX 17u
#define SEED_MAX (SEED_PREFIX + 64 + 2 * SEED_SLOTS * OMEM_RPC_SLOT_SIZE)

/* One seed being put together. */
struct seed {
	uint8_t bytes[SEED_MAX];
	size_t size;
	uint32_t start;     /* private indices of both sides */
	uint32_t g2h_count; /* slots written to the guest->host ring */
	uint32_t h2g_count; /* and to the host->guest ring */
	uint32_t g2h_head;  /* indices the guest publishes: by default one */
	uint32_t h2g_head;  /* past the last slot written, tail at start */
	uint32_t h2g_tail;
};

static const char *corpus_dir;
static int seeds_written;

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void seed_begin(struct seed *s, uint32_t start)
{
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->g2h_head = start;
	s->h2g_head = start;
	s->h2g_tail = start;
	s->size = SEED_PREFIX;
}

/* Append a slot to the guest->host ring (g2h) or the host->guest ring. */
static void seed_slot(struct seed *s, int g2h, const uint8_t *slot)
{
	size_t at;

	if (g2h) {
		at = SEED_PREFIX + (size_t)s->g2h_count * OMEM_RPC_SLOT_SIZE;
		s->g2h_count++;
		s->g2h_head++;
	} else {
		at = SEED_PREFIX + (size_t)(SEED_SLOTS + s->h2g_count) * OMEM_RPC_SLOT_SIZE;
		s->h2g_count++;
		s->h2g_head++;
	}
	memcpy(s->bytes + at, slot, OMEM_RPC_SLOT_SIZE);
	if (at + OMEM_RPC_SLOT_SIZE > s->size)
		s->size = at + OMEM_RPC_SLOT_SIZE;
}

/* Fill the index prefix, then write the file.
 * Trailing zero bytes are cut: the target reads a short input as padded. */
static void seed_write(struct seed *s, const char *name)
{
	char path[4096];
	FILE *f;

	put32(s->bytes + 0, s->start);
	put32(s->bytes + 4, s->g2h_head);
	put32(s->bytes + 8, s->h2g_head);
	put32(s->bytes + 12, s->h2g_tail);
	while (s->size > SEED_PREFIX && s->bytes[s->size - 1] == 0)
		s->size--;

	snprintf(path, sizeof(path), "%s/seed-%s", corpus_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->bytes, 1, s->size, f) != s->size || fclose(f) != 0) {
		fprintf(stderr, "make-rpc-corpus: cannot write %s: %s\n", path, strerror(errno));
		exit(EXIT_FAILURE);
	}
	seeds_written++;
}

/* A valid message of each type (the values matter little). */
static struct rpc_msg sample(uint16_t type)
{
	struct rpc_msg m;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = 1;
	switch (type) {
	case OMEM_RPC_HELLO:
		m.u.hello = (struct rpc_msg_hello){ 1, 1, 0x00010000, 0, 2ULL << 30, 128ULL << 20,
						    4096 };
		break;
	case OMEM_RPC_WELCOME:
		m.u.welcome = (struct rpc_msg_welcome){
			.version = 1, .buffer_percent = 10, .boot_bytes = 2ULL << 30,
			.min_bytes = 2ULL << 30, .max_bytes = 8ULL << 30, .cap_bytes = 6ULL << 30,
			.block_bytes = 2ULL << 20, .stats_interval_ms = 5000,
			.demand_interval_ms = 1000 };
		break;
	case OMEM_RPC_DEMAND:
		m.u.demand = (struct rpc_msg_demand){ OMEM_RPC_URGENCY_NORMAL,
						      OMEM_RPC_REASON_WATERMARK, 256ULL << 20,
						      64ULL << 20 };
		break;
	case OMEM_RPC_GRANT:
		m.u.grant = (struct rpc_msg_grant){ 256ULL << 20, 3ULL << 30 };
		break;
	case OMEM_RPC_DENY:
		m.u.deny = (struct rpc_msg_deny){ OMEM_RPC_DENY_RATE, 1000 };
		break;
	case OMEM_RPC_SURPLUS:
		m.u.surplus = (struct rpc_msg_surplus){ 64ULL << 20, 128ULL << 20, 512ULL << 20 };
		break;
	case OMEM_RPC_RECLAIM:
		m.u.reclaim = (struct rpc_msg_reclaim){ 256ULL << 20, 5000 };
		break;
	case OMEM_RPC_STATS:
		m.u.stats.count = OMEM_RPC_STAT_TAG_MAX;
		for (i = 0; i < m.u.stats.count; i++)
			m.u.stats.stats[i] = (struct rpc_msg_stat){ i + 1, (uint64_t)i << 20 };
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		m.u.ping.cookie = 42;
		break;
	case OMEM_RPC_GOODBYE:
		m.u.goodbye.reason = OMEM_RPC_GOODBYE_SHUTDOWN;
		break;
	case OMEM_RPC_ERROR:
		m.u.error = (struct rpc_msg_error){ OMEM_RPC_ERR_BAD_VALUE, OMEM_RPC_DEMAND, 16 };
		break;
	}
	return m;
}

static int from_guest(uint16_t type)
{
	return type != OMEM_RPC_WELCOME && type != OMEM_RPC_GRANT && type != OMEM_RPC_DENY &&
	       type != OMEM_RPC_RECLAIM;
}

static void encode(const struct rpc_msg *m, uint8_t *slot)
{
	if (rpc_codec_encode(m, slot, OMEM_RPC_SLOT_SIZE, NULL) != 0) {
		fprintf(stderr, "make-rpc-corpus: sample %s does not encode\n",
			rpc_codec_type_name(m->type));
		exit(EXIT_FAILURE);
	}
}

/* One broken message: a valid sample with one field overwritten. */
struct breakage {
	const char *name;
	uint16_t type;
	uint16_t offset;
	uint8_t width;
	uint32_t value;
};

static const struct breakage breakages[] = {
	{ "type-0", OMEM_RPC_PING, 0, 2, 0 },
	{ "type-13", OMEM_RPC_PING, 0, 2, 13 },
	{ "type-ffff", OMEM_RPC_PING, 0, 2, 0xffff },
	{ "flags", OMEM_RPC_PING, 2, 2, 1 },
	{ "length-oversized", OMEM_RPC_PING, 4, 4, 241 },
	{ "length-short", OMEM_RPC_DEMAND, 4, 4, 23 },
	{ "length-long", OMEM_RPC_DEMAND, 4, 4, 25 },
	{ "seq-0", OMEM_RPC_PING, 8, 4, 0 },
	{ "hello-version-min-0", OMEM_RPC_HELLO, 16, 2, 0 },
	{ "hello-version-max-below-min", OMEM_RPC_HELLO, 16, 2, 2 },
	{ "demand-urgency-5", OMEM_RPC_DEMAND, 16, 4, 5 },
	{ "demand-reasons-0", OMEM_RPC_DEMAND, 20, 4, 0 },
	{ "demand-reasons-unknown", OMEM_RPC_DEMAND, 20, 4, 8 },
	{ "demand-bytes-0", OMEM_RPC_DEMAND, 24, 4, 0 },
	{ "stats-count-0", OMEM_RPC_STATS, 16, 4, 0 },
	{ "stats-count-15", OMEM_RPC_STATS, 16, 4, 15 },
	{ "stats-reserved", OMEM_RPC_STATS, 20, 4, 1 },
	{ "stats-tag-11", OMEM_RPC_STATS, 24, 4, 11 },
	{ "stats-tag-duplicate", OMEM_RPC_STATS, 40, 4, 1 },
	{ "ping-reserved", OMEM_RPC_PING, 24, 4, 1 },
	{ "goodbye-reason-5", OMEM_RPC_GOODBYE, 16, 4, 5 },
	{ "error-code-12", OMEM_RPC_ERROR, 16, 4, 12 },
	{ "error-field-offset-256", OMEM_RPC_ERROR, 22, 2, 256 },
	{ "welcome-version-2", OMEM_RPC_WELCOME, 16, 2, 2 },
	{ "welcome-buffer-percent-101", OMEM_RPC_WELCOME, 20, 4, 101 },
	{ "welcome-block-3", OMEM_RPC_WELCOME, 72, 4, 3 },
	{ "deny-reason-6", OMEM_RPC_DENY, 16, 4, 6 },
	{ "reclaim-reserved", OMEM_RPC_RECLAIM, 28, 4, 1 },
};

int main(int argc, char **argv)
{
	struct seed s;
	uint8_t slot[OMEM_RPC_SLOT_SIZE];
	uint16_t type;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return EXIT_FAILURE;
	}
	corpus_dir = argv[1];

	/* Each type, valid, in the ring it travels on. */
	for (type = 1; type <= OMEM_RPC_TYPE_MAX; type++) {
		struct rpc_msg m = sample(type);
		char name[64];

		seed_begin(&s, 0);
		encode(&m, slot);
		seed_slot(&s, from_guest(type), slot);
		snprintf(name, sizeof(name), "valid-%s", rpc_codec_type_name(type));
		seed_write(&s, name);
	}

	/* Each breakage, in the ring its type travels on. */
	for (i = 0; i < sizeof(breakages) / sizeof(breakages[0]); i++) {
		const struct breakage *b = &breakages[i];
		struct rpc_msg m = sample(b->type);
		uint32_t v = htole32(b->value);

		seed_begin(&s, 0);
		encode(&m, slot);
		memcpy(slot + b->offset, &v, b->width);
		seed_slot(&s, from_guest(b->type), slot);
		seed_write(&s, b->name);
	}

	/* A whole session's worth from the guest, indices across 2^32. */
	seed_begin(&s, 0xfffffffc);
	for (type = 1; type <= OMEM_RPC_TYPE_MAX; type++) {
		struct rpc_msg m = sample(type);

		m.seq = type;
		encode(&m, slot);
		seed_slot(&s, from_guest(type), slot);
	}
	seed_write(&s, "session-wrapping");

	/* Wrong direction: a host message on the guest's ring and back. */
	seed_begin(&s, 0);
	{
		struct rpc_msg m = sample(OMEM_RPC_GRANT);

		encode(&m, slot);
		seed_slot(&s, 1, slot);
		m = sample(OMEM_RPC_DEMAND);
		encode(&m, slot);
		seed_slot(&s, 0, slot);
	}
	seed_write(&s, "wrong-direction");

	/* A full ring. */
	seed_begin(&s, 7);
	for (i = 0; i < SEED_SLOTS; i++) {
		struct rpc_msg m = sample(OMEM_RPC_PING);

		m.seq = (uint32_t)i + 1;
		encode(&m, slot);
		seed_slot(&s, 1, slot);
	}
	seed_write(&s, "g2h-full");

	/* Index faults: the guest's head past tail + slots. */
	seed_begin(&s, 0);
	{
		struct rpc_msg m = sample(OMEM_RPC_PING);

		encode(&m, slot);
		seed_slot(&s, 1, slot);
	}
	s.g2h_head = s.start + SEED_SLOTS + 1;
	seed_write(&s, "g2h-head-too-far");

	/* The guest's h2g tail ahead of the host's head. */
	seed_begin(&s, 100);
	{
		struct rpc_msg m = sample(OMEM_RPC_PING);

		encode(&m, slot);
		seed_slot(&s, 1, slot);
	}
	s.h2g_tail = s.start + 5;
	seed_write(&s, "h2g-tail-ahead");

	/* Garbage over the region header, then one valid DEMAND. */
	seed_begin(&s, 0);
	{
		struct rpc_msg m = sample(OMEM_RPC_DEMAND);

		s.bytes[16] = 1;
		memset(s.bytes + SEED_PREFIX, 0xa5, 64);
		encode(&m, slot);
		/* Slots follow the 64 header bytes in this seed. */
		memcpy(s.bytes + SEED_PREFIX + 64, slot, sizeof(slot));
		s.size = SEED_PREFIX + 64 + sizeof(slot);
		s.g2h_head++;
	}
	seed_write(&s, "header-garbage");

	/* The header as omemd writes it, with one field broken: the guest's
	 * parser must refuse it. */
	{
		static const struct {
			const char *name;
			size_t offset;
			uint32_t value;
		} header_faults[] = {
			{ "header-reserved", offsetof(struct omem_rpc_region, reserved[2]), 1 },
			{ "header-rings-overlap", offsetof(struct omem_rpc_region, h2g_offset), 64 },
			{ "header-slots-3", offsetof(struct omem_rpc_region, g2h_slots), 3 },
		};
		static uint8_t region[16 * 1024];
		struct rpc_region_layout layout;

		if (rpc_ring_layout_default(sizeof(region), 1, 0, &layout) < 0)
			return EXIT_FAILURE;
		rpc_ring_region_init(region, &layout);
		for (i = 0; i < sizeof(header_faults) / sizeof(header_faults[0]); i++) {
			struct rpc_msg m = sample(OMEM_RPC_PING);

			seed_begin(&s, 0);
			s.bytes[16] = 1;
			memcpy(s.bytes + SEED_PREFIX, region, sizeof(struct omem_rpc_region));
			put32(s.bytes + SEED_PREFIX + header_faults[i].offset, header_faults[i].value);
			encode(&m, slot);
			memcpy(s.bytes + SEED_PREFIX + 64, slot, sizeof(slot));
			s.size = SEED_PREFIX + 64 + sizeof(slot);
			s.g2h_head++;
			seed_write(&s, header_faults[i].name);
		}
	}

	/* Short inputs: only a prefix, and a slot cut mid-header. */
	seed_begin(&s, 0);
	s.g2h_head++;
	seed_write(&s, "prefix-only");
	seed_begin(&s, 0);
	{
		struct rpc_msg m = sample(OMEM_RPC_HELLO);

		encode(&m, slot);
		memcpy(s.bytes + SEED_PREFIX, slot, 10);
		s.size = SEED_PREFIX + 10;
		s.g2h_head++;
	}
	seed_write(&s, "slot-cut-in-header");

	printf("make-rpc-corpus: %d seeds in %s\n", seeds_written, corpus_dir);
	return EXIT_SUCCESS;
}
