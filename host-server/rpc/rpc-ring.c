/* SPDX-License-Identifier: MIT */
/*
 * rpc-ring: layout, initialisation and single-producer/single-consumer
 * rings of the omem-rpc shared region.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "rpc/rpc-ring.h"

/* Slots per ring in the default layout.  Traffic is a few messages per
 * second (DEMANDs are rate limited, STATS are periodic, every host message
 * answers one), so 64 pending slots is far beyond any honest burst, while
 * the count also bounds the work one doorbell from a hostile guest can
 * cause.  Two 64-slot rings fit in 64 KiB; bigger regions add nothing. */
#define RPC_RING_DEFAULT_SLOTS 64u

/* ivshmem peer ids are the upper 16 bits of the doorbell register. */
#define RPC_RING_PEER_ID_MAX 0xffffu

#define RPC_RING_ALIGN(x, a) (((x) + (a) - 1) / (a) * (a))

static bool rpc_ring_is_power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

static bool rpc_ring_slots_valid(uint32_t slots)
{
	return rpc_ring_is_power_of_two(slots) && slots >= OMEM_RPC_RING_MIN_SLOTS &&
	       slots <= OMEM_RPC_RING_MAX_SLOTS;
}

static bool rpc_ring_region_size_valid(uint32_t size)
{
	return rpc_ring_is_power_of_two(size) && size >= OMEM_RPC_REGION_MIN_SIZE &&
	       size <= OMEM_RPC_REGION_MAX_SIZE;
}

int rpc_ring_layout_default(uint32_t region_size, uint32_t host_peer_id, uint32_t generation,
			    struct rpc_region_layout *ret_layout)
{
	struct rpc_region_layout layout;
	uint32_t first, per_ring, slots;

	if (!rpc_ring_region_size_valid(region_size) || host_peer_id > RPC_RING_PEER_ID_MAX)
		return -EINVAL;

	/* Header, then two rings of equal size, each cache-line aligned. */
	first = RPC_RING_ALIGN((uint32_t)sizeof(struct omem_rpc_region), OMEM_RPC_CACHELINE);
	per_ring = (region_size - first) / 2;
	slots = RPC_RING_DEFAULT_SLOTS;
	while (slots > OMEM_RPC_RING_MIN_SLOTS && OMEM_RPC_RING_BYTES(slots) > per_ring)
		slots /= 2;

	layout = (struct rpc_region_layout){
		.size = region_size,
		.host_peer_id = host_peer_id,
		.slot_size = OMEM_RPC_SLOT_SIZE,
		.g2h_offset = first,
		.g2h_slots = slots,
		.h2g_offset = first + RPC_RING_ALIGN(OMEM_RPC_RING_BYTES(slots), OMEM_RPC_CACHELINE),
		.h2g_slots = slots,
		.generation = generation,
	};
	if (rpc_ring_layout_check(&layout) < 0)
		return -EINVAL;
	*ret_layout = layout;
	return 0;
}

/* Whether a ring at offset with slots slots lies inside the region, after
 * the header.  64-bit arithmetic: offset + bytes may not wrap. */
static bool rpc_ring_fits(uint32_t size, uint32_t offset, uint32_t slots)
{
	uint64_t end = (uint64_t)offset + OMEM_RPC_RING_BYTES((uint64_t)slots);

	return offset % OMEM_RPC_CACHELINE == 0 && offset >= sizeof(struct omem_rpc_region) &&
	       end <= size;
}

int rpc_ring_layout_check(const struct rpc_region_layout *layout)
{
	uint64_t g2h_end, h2g_end;

	if (!rpc_ring_region_size_valid(layout->size) ||
	    layout->host_peer_id > RPC_RING_PEER_ID_MAX ||
	    layout->slot_size != OMEM_RPC_SLOT_SIZE ||
	    !rpc_ring_slots_valid(layout->g2h_slots) || !rpc_ring_slots_valid(layout->h2g_slots) ||
	    !rpc_ring_fits(layout->size, layout->g2h_offset, layout->g2h_slots) ||
	    !rpc_ring_fits(layout->size, layout->h2g_offset, layout->h2g_slots))
		return -EINVAL;

	g2h_end = (uint64_t)layout->g2h_offset + OMEM_RPC_RING_BYTES((uint64_t)layout->g2h_slots);
	h2g_end = (uint64_t)layout->h2g_offset + OMEM_RPC_RING_BYTES((uint64_t)layout->h2g_slots);
	if (g2h_end > layout->h2g_offset && h2g_end > layout->g2h_offset)
		return -EINVAL;
	return 0;
}

void rpc_ring_region_init(void *region, const struct rpc_region_layout *layout)
{
	struct omem_rpc_region header = {
		.magic = htole64(OMEM_RPC_MAGIC),
		.layout_version = htole32(OMEM_RPC_LAYOUT_VERSION),
		.region_size = htole32(layout->size),
		.host_peer_id = htole32(layout->host_peer_id),
		.slot_size = htole32(layout->slot_size),
		.g2h_offset = htole32(layout->g2h_offset),
		.g2h_slots = htole32(layout->g2h_slots),
		.h2g_offset = htole32(layout->h2g_offset),
		.h2g_slots = htole32(layout->h2g_slots),
		.generation = htole32(layout->generation),
	};

	memset(region, 0, layout->size);
	memcpy(region, &header, sizeof(header));
}

int rpc_ring_region_read_layout(const void *region, uint32_t region_size,
				struct rpc_region_layout *ret_layout)
{
	struct omem_rpc_region header;
	struct rpc_region_layout layout;
	size_t i;

	if (region_size < sizeof(header))
		return -EPROTO;
	memcpy(&header, region, sizeof(header));
	if (le64toh(header.magic) != OMEM_RPC_MAGIC ||
	    le32toh(header.layout_version) != OMEM_RPC_LAYOUT_VERSION ||
	    le32toh(header.region_size) != region_size)
		return -EPROTO;
	for (i = 0; i < sizeof(header.reserved) / sizeof(header.reserved[0]); i++)
		if (header.reserved[i] != 0)
			return -EPROTO;

	layout = (struct rpc_region_layout){
		.size = le32toh(header.region_size),
		.host_peer_id = le32toh(header.host_peer_id),
		.slot_size = le32toh(header.slot_size),
		.g2h_offset = le32toh(header.g2h_offset),
		.g2h_slots = le32toh(header.g2h_slots),
		.h2g_offset = le32toh(header.h2g_offset),
		.h2g_slots = le32toh(header.h2g_slots),
		.generation = le32toh(header.generation),
	};
	if (rpc_ring_layout_check(&layout) < 0)
		return -EPROTO;
	*ret_layout = layout;
	return 0;
}

/* The 32-bit index fields of a ring, as atomics may address them. */
static uint32_t *rpc_ring_head_field(uint8_t *ring)
{
	return (uint32_t *)(void *)(ring + offsetof(struct omem_rpc_ring, head));
}

static uint32_t *rpc_ring_tail_field(uint8_t *ring)
{
	return (uint32_t *)(void *)(ring + offsetof(struct omem_rpc_ring, tail));
}

static uint8_t *rpc_ring_slot(uint8_t *ring, uint32_t slots, uint32_t index)
{
	return ring + OMEM_RPC_RING_SLOTS_OFFSET + (size_t)(index & (slots - 1)) * OMEM_RPC_SLOT_SIZE;
}

static void rpc_ring_consumer_start(struct rpc_ring_consumer *ret, uint8_t *ring,
				    uint32_t slots, uint32_t start_index)
{
	*ret = (struct rpc_ring_consumer){ .ring = ring, .slots = slots, .tail = start_index,
					   .seen_head = start_index };
	__atomic_store_n(rpc_ring_tail_field(ring), htole32(start_index), __ATOMIC_RELEASE);
}

static void rpc_ring_producer_start(struct rpc_ring_producer *ret, uint8_t *ring,
				    uint32_t slots, uint32_t start_index)
{
	*ret = (struct rpc_ring_producer){ .ring = ring, .slots = slots, .head = start_index,
					   .seen_tail = start_index };
	__atomic_store_n(rpc_ring_head_field(ring), htole32(start_index), __ATOMIC_RELEASE);
}

int rpc_ring_host_attach(void *region, const struct rpc_region_layout *layout,
			 uint32_t start_index, struct rpc_ring_consumer *ret_g2h,
			 struct rpc_ring_producer *ret_h2g)
{
	if (rpc_ring_layout_check(layout) < 0)
		return -EINVAL;
	rpc_ring_consumer_start(ret_g2h, (uint8_t *)region + layout->g2h_offset,
				layout->g2h_slots, start_index);
	rpc_ring_producer_start(ret_h2g, (uint8_t *)region + layout->h2g_offset,
				layout->h2g_slots, start_index);
	return 0;
}

int rpc_ring_guest_attach(void *region, const struct rpc_region_layout *layout,
			  uint32_t start_index, struct rpc_ring_producer *ret_g2h,
			  struct rpc_ring_consumer *ret_h2g)
{
	if (rpc_ring_layout_check(layout) < 0)
		return -EINVAL;
	rpc_ring_producer_start(ret_g2h, (uint8_t *)region + layout->g2h_offset,
				layout->g2h_slots, start_index);
	rpc_ring_consumer_start(ret_h2g, (uint8_t *)region + layout->h2g_offset,
				layout->h2g_slots, start_index);
	return 0;
}

int rpc_ring_receive(struct rpc_ring_consumer *consumer, void *ret_slot_copy)
{
	uint32_t head;

	/* Acquire: the slot bytes the producer wrote before head are visible. */
	head = le32toh(__atomic_load_n(rpc_ring_head_field(consumer->ring), __ATOMIC_ACQUIRE));
	consumer->seen_head = head;
	if (head - consumer->tail > consumer->slots)
		return -EPROTO;
	if (head == consumer->tail)
		return 0;

	memcpy(ret_slot_copy, rpc_ring_slot(consumer->ring, consumer->slots, consumer->tail),
	       OMEM_RPC_SLOT_SIZE);
	consumer->tail++;
	/* Release: our copy is complete before the producer may reuse the slot. */
	__atomic_store_n(rpc_ring_tail_field(consumer->ring), htole32(consumer->tail),
			 __ATOMIC_RELEASE);
	return 1;
}

int rpc_ring_send(struct rpc_ring_producer *producer, const void *slot)
{
	uint32_t tail, used;

	/* Acquire: the consumer's copy of the slot we may reuse is complete. */
	tail = le32toh(__atomic_load_n(rpc_ring_tail_field(producer->ring), __ATOMIC_ACQUIRE));
	producer->seen_tail = tail;
	used = producer->head - tail; /* a tail ahead of head wraps to > slots */
	if (used > producer->slots)
		return -EPROTO;
	if (used == producer->slots)
		return -EAGAIN;

	memcpy(rpc_ring_slot(producer->ring, producer->slots, producer->head), slot,
	       OMEM_RPC_SLOT_SIZE);
	producer->head++;
	/* Release: the slot bytes are visible before the new head. */
	__atomic_store_n(rpc_ring_head_field(producer->ring), htole32(producer->head),
			 __ATOMIC_RELEASE);
	return 0;
}
