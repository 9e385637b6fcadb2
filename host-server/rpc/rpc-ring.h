/* SPDX-License-Identifier: MIT */
/*
 * rpc-ring: the omem-rpc shared region (include/omem/rpc.h) seen from one
 * side.  Each side keeps the layout and its own ring indices privately and
 * only ever writes them to shared memory; the other side's index is read
 * once per call and bounded.  Pure logic: no I/O, no logging.
 */
#ifndef OMEM_RPC_RING_H
#define OMEM_RPC_RING_H

#include <stdint.h>

#include <omem/rpc.h>

/* The host's trusted copy of the region header (all native integers).  The
 * host builds it, writes it into the region once and never reads it back. */
struct rpc_region_layout {
	uint32_t size;         /* region bytes, power of two */
	uint32_t host_peer_id; /* ivshmem peer id of omemd (16 bits) */
	uint32_t slot_size;    /* OMEM_RPC_SLOT_SIZE */
	uint32_t g2h_offset;   /* guest->host struct omem_rpc_ring */
	uint32_t g2h_slots;
	uint32_t h2g_offset;   /* host->guest struct omem_rpc_ring */
	uint32_t h2g_slots;
	uint32_t generation;   /* changes on every (re)initialisation */
};

/* The consuming end of one ring. */
struct rpc_ring_consumer {
	uint8_t *ring;         /* struct omem_rpc_ring in the shared region */
	uint32_t slots;        /* from the trusted layout, power of two */
	uint32_t tail;         /* own index: private, written out, never read back */
	uint32_t seen_head;    /* the producer's head as last read, for log lines */
};

/* The producing end of one ring. */
struct rpc_ring_producer {
	uint8_t *ring;         /* struct omem_rpc_ring in the shared region */
	uint32_t slots;        /* from the trusted layout, power of two */
	uint32_t head;         /* own index: private, written out, never read back */
	uint32_t seen_tail;    /* the consumer's tail as last read, for log lines */
};

/* Lay out a region of region_size bytes: header, then the guest->host ring,
 * then the host->guest ring.  Returns 0 or -EINVAL (size not a power of two
 * in OMEM_RPC_REGION_MIN_SIZE..MAX, peer id over 16 bits). */
int rpc_ring_layout_default(uint32_t region_size, uint32_t host_peer_id, uint32_t generation,
			    struct rpc_region_layout *ret_layout);

/* Check a layout against every rule of rpc.h (the ones the guest module
 * enforces before it trusts a region).  Returns 0 or -EINVAL. */
int rpc_ring_layout_check(const struct rpc_region_layout *layout);

/* Write the region header and zero both rings (indices and slots); done
 * before QEMU is given the memory, and again on every region reset.  The
 * layout must pass rpc_ring_layout_check. */
void rpc_ring_region_init(void *region, const struct rpc_region_layout *layout);

/* The guest's side of rpc_ring_region_init: copy the header out of a region
 * of region_size bytes and check it.  For tests that play the guest and for
 * tools that inspect a region.  Returns 0 or -EPROTO. */
int rpc_ring_region_read_layout(const void *region, uint32_t region_size,
				struct rpc_region_layout *ret_layout);

/* The host's two ring ends: it consumes guest->host and produces
 * host->guest.  Publishes start_index as its tail and head (0 after
 * rpc_ring_region_init; tests start near 2^32 to cross the wrap).
 * Returns 0 or -EINVAL (layout fails rpc_ring_layout_check). */
int rpc_ring_host_attach(void *region, const struct rpc_region_layout *layout,
			 uint32_t start_index, struct rpc_ring_consumer *ret_g2h,
			 struct rpc_ring_producer *ret_h2g);

/* The guest's two ring ends, mirror of rpc_ring_host_attach; lets tests and
 * fuzzers play the guest with the same code and the same rules. */
int rpc_ring_guest_attach(void *region, const struct rpc_region_layout *layout,
			  uint32_t start_index, struct rpc_ring_producer *ret_g2h,
			  struct rpc_ring_consumer *ret_h2g);

/* Take the next slot: reads the producer's head once (acquire), bounds it,
 * copies OMEM_RPC_SLOT_SIZE bytes to ret_slot_copy and publishes the new
 * tail (release).  Returns 1 (a slot was copied), 0 (ring empty) or -EPROTO
 * (head - tail > slots: the producer is broken, OMEM_RPC_ERR_BAD_INDEX). */
int rpc_ring_receive(struct rpc_ring_consumer *consumer, void *ret_slot_copy);

/* Put one encoded OMEM_RPC_SLOT_SIZE slot: reads the consumer's tail once
 * (acquire), bounds it, copies the slot in and publishes the new head
 * (release).  Returns 0, -EAGAIN (ring full: the consumer is behind) or
 * -EPROTO (tail ahead of head or more than slots behind: the consumer is
 * broken, OMEM_RPC_ERR_BAD_INDEX). */
int rpc_ring_send(struct rpc_ring_producer *producer, const void *slot);

#endif /* OMEM_RPC_RING_H */
