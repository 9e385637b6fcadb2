/* SPDX-License-Identifier: MIT */
/* Unit tests of rpc-ring: layouts, empty/full rings, index wrap-around and
 * a guest that scribbles over indices and the region header. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"
#include "tap.h"

#define REGION_SIZE (16u * 1024)

static alignas(OMEM_RPC_CACHELINE) uint8_t region[OMEM_RPC_REGION_MAX_SIZE];

/* The whole cast: a test plays both sides of one region. */
struct session {
	struct rpc_region_layout layout;  /* host's trusted copy */
	struct rpc_ring_consumer host_g2h;
	struct rpc_ring_producer host_h2g;
	struct rpc_ring_producer guest_g2h;
	struct rpc_ring_consumer guest_h2g;
};

static void session_start(struct session *s, uint32_t size, uint32_t start_index)
{
	struct rpc_region_layout guest_view;

	rpc_ring_layout_default(size, 1, 7, &s->layout);
	rpc_ring_region_init(region, &s->layout);
	rpc_ring_host_attach(region, &s->layout, start_index, &s->host_g2h, &s->host_h2g);
	/* The guest learns the layout the way the module does: from the header. */
	rpc_ring_region_read_layout(region, size, &guest_view);
	rpc_ring_guest_attach(region, &guest_view, start_index, &s->guest_g2h, &s->guest_h2g);
}

static uint32_t *ring_index(uint32_t ring_offset, size_t field)
{
	return (uint32_t *)(void *)(region + ring_offset + field);
}

static uint32_t read_index(uint32_t ring_offset, size_t field)
{
	return le32toh(*ring_index(ring_offset, field));
}

static void write_index(uint32_t ring_offset, size_t field, uint32_t value)
{
	*ring_index(ring_offset, field) = htole32(value);
}

#define HEAD offsetof(struct omem_rpc_ring, head)
#define TAIL offsetof(struct omem_rpc_ring, tail)

/* An encoded PING whose cookie says which message it is. */
static void ping_slot(uint8_t *slot, uint64_t cookie)
{
	struct rpc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = OMEM_RPC_PING;
	m.seq = (uint32_t)cookie + 1;
	m.u.ping.cookie = cookie;
	rpc_codec_encode(&m, slot, OMEM_RPC_SLOT_SIZE, NULL);
}

/* The cookie of a received slot, or ~0 if it does not decode. */
static uint64_t slot_cookie(const uint8_t *slot, enum rpc_direction from)
{
	struct rpc_msg m;

	if (rpc_codec_decode(slot, OMEM_RPC_SLOT_SIZE, from, &m, NULL) < 0)
		return ~0ULL;
	return m.u.ping.cookie;
}

static void test_layouts(void)
{
	struct rpc_region_layout layout, untouched;
	uint32_t size;

	for (size = OMEM_RPC_REGION_MIN_SIZE; size && size <= OMEM_RPC_REGION_MAX_SIZE; size *= 2) {
		uint32_t want = size >= 64 * 1024 ? 64 : size / 1024;

		tap_eq(rpc_ring_layout_default(size, 3, 9, &layout), 0, "default layout of %u bytes",
		       size);
		tap_eq(rpc_ring_layout_check(&layout), 0, "... passes the checks");
		tap_eq(layout.g2h_slots, want, "... %u guest->host slots", want);
		tap_eq(layout.h2g_slots, want, "... %u host->guest slots", want);
		tap_eq(layout.g2h_offset % OMEM_RPC_CACHELINE + layout.h2g_offset % OMEM_RPC_CACHELINE,
		       0, "... rings cache-line aligned");
		tap_ok(layout.h2g_offset + OMEM_RPC_RING_BYTES(layout.h2g_slots) <= size,
		       "... inside the region");
	}

	memset(&layout, 0x5a, sizeof(layout));
	untouched = layout;
	tap_eq(rpc_ring_layout_default(0, 1, 1, &layout), -EINVAL, "size 0 refused");
	tap_eq(rpc_ring_layout_default(2048, 1, 1, &layout), -EINVAL, "size 2 KiB refused");
	tap_eq(rpc_ring_layout_default(4095, 1, 1, &layout), -EINVAL, "size 4095 refused");
	tap_eq(rpc_ring_layout_default(12288, 1, 1, &layout), -EINVAL, "size 12 KiB refused");
	tap_eq(rpc_ring_layout_default(2u << 20, 1, 1, &layout), -EINVAL, "size 2 MiB refused");
	tap_eq(rpc_ring_layout_default(4096, 0x10000, 1, &layout), -EINVAL,
	       "peer id over 16 bits refused");
	tap_ok(memcmp(&layout, &untouched, sizeof(layout)) == 0, "ret_layout untouched");
}

static void test_layout_checks(void)
{
	struct rpc_region_layout good, bad;

	rpc_ring_layout_default(REGION_SIZE, 1, 1, &good);

#define BAD_LAYOUT(what, assignment)                                          \
	do {                                                                  \
		bad = good;                                                   \
		assignment;                                                   \
		tap_eq(rpc_ring_layout_check(&bad), -EINVAL, "layout: %s refused", what); \
	} while (0)

	BAD_LAYOUT("slot size 128", bad.slot_size = 128);
	BAD_LAYOUT("3 slots", bad.g2h_slots = 3);
	BAD_LAYOUT("1 slot", bad.h2g_slots = 1);
	BAD_LAYOUT("2048 slots", bad.g2h_slots = 2048);
	BAD_LAYOUT("ring over the header", bad.g2h_offset = 0);
	BAD_LAYOUT("unaligned ring", bad.h2g_offset += 4);
	BAD_LAYOUT("overlapping rings", bad.h2g_offset = bad.g2h_offset + 64);
	BAD_LAYOUT("same ring twice", bad.h2g_offset = bad.g2h_offset);
	BAD_LAYOUT("ring past the end", bad.h2g_offset = REGION_SIZE - 64);
	BAD_LAYOUT("offset near 2^32", bad.h2g_offset = 0xffffffc0);
	BAD_LAYOUT("region size not a power of two", bad.size = REGION_SIZE + 4096);
	BAD_LAYOUT("peer id over 16 bits", bad.host_peer_id = 0x10000);
#undef BAD_LAYOUT

	bad = good;
	bad.h2g_offset = good.g2h_offset;
	bad.g2h_offset = good.h2g_offset;
	tap_eq(rpc_ring_layout_check(&bad), 0, "layout: rings in the other order are fine");
}

static void test_region_header(void)
{
	struct rpc_region_layout layout, read, untouched;
	struct omem_rpc_region *h = (struct omem_rpc_region *)(void *)region;

	rpc_ring_layout_default(REGION_SIZE, 2, 0xabcdef, &layout);
	memset(region, 0xff, REGION_SIZE);
	rpc_ring_region_init(region, &layout);
	tap_ok(le64toh(h->magic) == OMEM_RPC_MAGIC, "init writes the magic");
	tap_eq(le32toh(h->layout_version), OMEM_RPC_LAYOUT_VERSION, "init writes layout_version");
	tap_eq(read_index(layout.g2h_offset, HEAD) | read_index(layout.g2h_offset, TAIL) |
	       read_index(layout.h2g_offset, HEAD) | read_index(layout.h2g_offset, TAIL), 0,
	       "init zeroes all indices");
	tap_eq(region[REGION_SIZE - 1], 0, "init zeroes the slots");
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE, &read), 0,
	       "the guest reads the layout back");
	tap_ok(memcmp(&read, &layout, sizeof(read)) == 0, "... identical to the host's");

	memset(&read, 0x5a, sizeof(read));
	untouched = read;
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE * 2, &read), -EPROTO,
	       "read_layout: region size mismatch refused");
	h->reserved[4] = htole32(1);
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE, &read), -EPROTO,
	       "read_layout: reserved field refused");
	rpc_ring_region_init(region, &layout);
	h->magic ^= 1;
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE, &read), -EPROTO,
	       "read_layout: bad magic refused");
	rpc_ring_region_init(region, &layout);
	h->layout_version = htole32(2);
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE, &read), -EPROTO,
	       "read_layout: layout version 2 refused");
	rpc_ring_region_init(region, &layout);
	h->h2g_offset = htole32(layout.g2h_offset);
	tap_eq(rpc_ring_region_read_layout(region, REGION_SIZE, &read), -EPROTO,
	       "read_layout: overlapping rings refused");
	tap_eq(rpc_ring_region_read_layout(region, 32, &read), -EPROTO,
	       "read_layout: region smaller than the header refused");
	tap_ok(memcmp(&read, &untouched, sizeof(read)) == 0, "ret_layout untouched");
}

static void test_attach(void)
{
	struct rpc_region_layout bad;
	struct rpc_ring_consumer c;
	struct rpc_ring_producer p;

	rpc_ring_layout_default(REGION_SIZE, 1, 1, &bad);
	bad.g2h_slots = 5;
	tap_eq(rpc_ring_host_attach(region, &bad, 0, &c, &p), -EINVAL,
	       "host attach refuses a bad layout");
	tap_eq(rpc_ring_guest_attach(region, &bad, 0, &p, &c), -EINVAL,
	       "guest attach refuses a bad layout");
}

/* Fill the guest->host ring, drain it, in order; then the other way. */
static void test_fill_and_drain(uint32_t size, uint32_t start_index)
{
	struct session s;
	uint8_t slot[OMEM_RPC_SLOT_SIZE], copy[OMEM_RPC_SLOT_SIZE], before[OMEM_RPC_SLOT_SIZE];
	uint32_t i, slots, in_order = 1, sent = 0;
	int r;

	session_start(&s, size, start_index);
	slots = s.layout.g2h_slots;
	tap_diag("%u-byte region, %u slots, indices from 0x%08x", size, slots, start_index);

	memset(copy, 0x33, sizeof(copy));
	memcpy(before, copy, sizeof(copy));
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), 0, "empty g2h ring: nothing received");
	tap_ok(memcmp(copy, before, sizeof(copy)) == 0, "... and the copy untouched");

	for (i = 0; i < slots; i++) {
		ping_slot(slot, i);
		sent += rpc_ring_send(&s.guest_g2h, slot) == 0;
	}
	tap_eq(sent, slots, "guest fills all %u slots", slots);
	ping_slot(slot, 999);
	tap_eq(rpc_ring_send(&s.guest_g2h, slot), -EAGAIN, "one more is -EAGAIN (full)");
	tap_eq(read_index(s.layout.g2h_offset, HEAD), start_index + slots,
	       "published head is start + slots");

	for (i = 0; i < slots; i++) {
		r = rpc_ring_receive(&s.host_g2h, copy);
		in_order &= r == 1 && slot_cookie(copy, RPC_FROM_GUEST) == i;
	}
	tap_ok(in_order, "host receives all %u in order", slots);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), 0, "then the ring is empty");
	tap_eq(read_index(s.layout.g2h_offset, TAIL), start_index + slots,
	       "published tail is start + slots");

	/* Host -> guest, interleaved over three laps to cross every slot. */
	sent = 0;
	in_order = 1;
	for (i = 0; i < 3 * slots; i++) {
		ping_slot(slot, 1000 + i);
		sent += rpc_ring_send(&s.host_h2g, slot) == 0;
		if (i % 2) {
			in_order &= rpc_ring_receive(&s.guest_h2g, copy) == 1 &&
				    slot_cookie(copy, RPC_FROM_HOST) == 1000 + i - 1;
			in_order &= rpc_ring_receive(&s.guest_h2g, copy) == 1 &&
				    slot_cookie(copy, RPC_FROM_HOST) == 1000 + i;
		}
	}
	tap_eq(sent, 3 * slots, "host sends three laps");
	tap_ok(in_order, "guest receives them in order");
	tap_eq(rpc_ring_receive(&s.guest_h2g, copy), 0, "h2g ring empty again");

	for (i = 0, sent = 0; i < slots + 1; i++) {
		ping_slot(slot, i);
		sent += rpc_ring_send(&s.host_h2g, slot) == 0;
	}
	tap_eq(sent, slots, "host fills h2g; the extra one is refused");
	ping_slot(slot, 5);
	tap_eq(rpc_ring_send(&s.host_h2g, slot), -EAGAIN, "host sees -EAGAIN while the guest sleeps");
	tap_eq(rpc_ring_receive(&s.guest_h2g, copy), 1, "guest takes one");
	tap_eq(rpc_ring_send(&s.host_h2g, slot), 0, "host can send one more");
}

static void test_broken_producer(void)
{
	struct session s;
	uint8_t slot[OMEM_RPC_SLOT_SIZE], copy[OMEM_RPC_SLOT_SIZE], before[OMEM_RPC_SLOT_SIZE];
	uint32_t start = 0xfffffffa, slots;

	session_start(&s, REGION_SIZE, start);
	slots = s.layout.g2h_slots;
	ping_slot(slot, 1);
	memset(copy, 0x44, sizeof(copy));
	memcpy(before, copy, sizeof(copy));

	write_index(s.layout.g2h_offset, HEAD, start + slots + 1);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), -EPROTO, "head = tail + slots + 1: -EPROTO");
	tap_eq(s.host_g2h.seen_head, start + slots + 1, "... the bad head kept for the log");
	tap_ok(memcmp(copy, before, sizeof(copy)) == 0, "... nothing copied");
	tap_eq(read_index(s.layout.g2h_offset, TAIL), start, "... the tail not moved");

	write_index(s.layout.g2h_offset, HEAD, start - 1);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), -EPROTO, "head behind tail: -EPROTO");
	write_index(s.layout.g2h_offset, HEAD, start + 0x80000000u);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), -EPROTO, "head 2^31 away: -EPROTO");

	write_index(s.layout.g2h_offset, HEAD, start + slots);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), 1, "head = tail + slots (full) is fine");

	/* The guest rewrites the host's own tail: the host ignores it. */
	write_index(s.layout.g2h_offset, TAIL, 12345);
	tap_eq(rpc_ring_receive(&s.host_g2h, copy), 1,
	       "a guest-written tail does not move the host's");
	tap_eq(read_index(s.layout.g2h_offset, TAIL), start + 2,
	       "... and the host republishes its own");
}

static void test_broken_consumer(void)
{
	struct session s;
	uint8_t slot[OMEM_RPC_SLOT_SIZE], ring_before[OMEM_RPC_RING_BYTES(16)];
	uint32_t start = 0xfffffff0, slots, head;
	uint8_t *ring;
	int r;

	session_start(&s, REGION_SIZE, start);
	slots = s.layout.h2g_slots;
	ring = region + s.layout.h2g_offset;
	ping_slot(slot, 1);
	rpc_ring_send(&s.host_h2g, slot);
	rpc_ring_send(&s.host_h2g, slot);
	head = start + 2;

	write_index(s.layout.h2g_offset, TAIL, head + 1);
	memcpy(ring_before, ring, sizeof(ring_before));
	r = rpc_ring_send(&s.host_h2g, slot);
	tap_eq(r, -EPROTO, "tail ahead of head: -EPROTO");
	tap_ok(memcmp(ring_before, ring, sizeof(ring_before)) == 0, "... ring untouched");
	tap_eq(s.host_h2g.seen_tail, head + 1, "... the bad tail kept for the log");

	write_index(s.layout.h2g_offset, TAIL, head - slots - 1);
	tap_eq(rpc_ring_send(&s.host_h2g, slot), -EPROTO, "tail more than slots behind: -EPROTO");
	write_index(s.layout.h2g_offset, TAIL, head - slots);
	tap_eq(rpc_ring_send(&s.host_h2g, slot), -EAGAIN, "tail exactly slots behind: full");
	write_index(s.layout.h2g_offset, TAIL, head);
	tap_eq(rpc_ring_send(&s.host_h2g, slot), 0, "tail caught up: sends");

	/* The guest rewrites the host's own head: the host ignores it. */
	write_index(s.layout.h2g_offset, HEAD, 777);
	tap_eq(rpc_ring_send(&s.host_h2g, slot), 0, "a guest-written head does not move the host's");
	tap_eq(read_index(s.layout.h2g_offset, HEAD), head + 2,
	       "... and the host republishes its own");
}

/* One host step per item; results recorded for comparison. */
static void scripted_run(int stomp, int *results, size_t n)
{
	struct session s;
	uint8_t slot[OMEM_RPC_SLOT_SIZE], copy[OMEM_RPC_SLOT_SIZE];
	size_t i;

	session_start(&s, REGION_SIZE, 0xfffffff8);
	if (stomp) {
		/* A hostile guest overwrites the header and the ring padding. */
		memset(region, 0xff, sizeof(struct omem_rpc_region));
		memset(region + s.layout.g2h_offset + 4, 0xee, OMEM_RPC_CACHELINE - 4);
		memset(region + s.layout.h2g_offset + OMEM_RPC_CACHELINE + 4, 0xdd,
		       OMEM_RPC_CACHELINE - 4);
	}
	for (i = 0; i < n; i++) {
		ping_slot(slot, i);
		switch (i % 3) {
		case 0:
			results[i] = rpc_ring_send(&s.guest_g2h, slot);
			break;
		case 1:
			results[i] = rpc_ring_receive(&s.host_g2h, copy);
			if (results[i] == 1)
				results[i] = (int)slot_cookie(copy, RPC_FROM_GUEST);
			break;
		case 2:
			results[i] = rpc_ring_send(&s.host_h2g, slot);
			break;
		}
	}
}

static void test_header_garbage(void)
{
	int clean[64], stomped[64];

	scripted_run(0, clean, 64);
	scripted_run(1, stomped, 64);
	tap_ok(memcmp(clean, stomped, sizeof(clean)) == 0,
	       "garbage over the region header and ring padding changes nothing for the host");
}

int main(void)
{
	test_layouts();
	test_layout_checks();
	test_region_header();
	test_attach();
	test_fill_and_drain(OMEM_RPC_REGION_MIN_SIZE, 0);
	test_fill_and_drain(REGION_SIZE, 0);
	test_fill_and_drain(REGION_SIZE, 0xfffffff0);
	test_fill_and_drain(OMEM_RPC_REGION_MAX_SIZE, 0xffffffc1);
	test_broken_producer();
	test_broken_consumer();
	test_header_garbage();
	return tap_done();
}
