/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the guest module's checks of what the host writes
 * (guest-client/omem_wire.c), compiled unchanged in user space against
 * tests/fuzz/kshim/.  The first byte of an input picks what the rest is:
 *   even: one host->guest slot (short inputs are zero-filled to a slot),
 *         given to omem_wire_check_host_message;
 *   odd:  an 8-byte little-endian BAR size, then a region header (short:
 *         zero-filled), given to omem_wire_check_region.
 * Each check reads a heap copy exactly as large as its argument, so a read
 * past it is an AddressSanitizer report.  Oracles, reported with abort():
 *   - an accepted message has a type the host may send, no flags, the
 *     exact payload length of its type, and every value its type bounds
 *     in range (re-derived here, in 64-bit arithmetic with no overflow);
 *   - a refused message gives a known error code and an offset inside
 *     the slot;
 *   - an accepted region fits the BAR, and its two rings are aligned,
 *     of a power-of-two slot count in range, clear of the header, inside
 *     the region and clear of each other;
 *   - a refused region gives a non-empty reason;
 *   - both checks answer the same twice.
 * tests/fuzz/corpus/guest-wire/ holds the seeds (docs/fuzzing.md).
 */
#include "config.h"

#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omem_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does the accepted @m keep every rule of its type? */
static void fuzz_guest_wire_accepted_message(const struct omem_message *m)
{
	unsigned int type = le16toh(m->header.type);
	const struct omem_rpc_welcome *w = &m->payload.welcome;

	if (type == 0 || type > OMEM_RPC_TYPE_MAX ||
	    !(OMEM_RPC_TYPES_FROM_HOST & OMEM_RPC_TYPE_BIT(type)) || m->header.flags ||
	    le32toh(m->header.length) != omem_wire_payload_bytes(type) ||
	    le32toh(m->header.length) > OMEM_RPC_PAYLOAD_MAX)
		abort();
	switch (type) {
	case OMEM_RPC_WELCOME:
		if (le16toh(w->version) < OMEM_RPC_VERSION_MIN ||
		    le16toh(w->version) > OMEM_RPC_VERSION_MAX || w->reserved0 ||
		    le32toh(w->buffer_percent) > 100 ||
		    (le64toh(w->features) & ~OMEM_RPC_FEATURES_KNOWN) ||
		    le64toh(w->min_bytes) > le64toh(w->cap_bytes) ||
		    le64toh(w->cap_bytes) > le64toh(w->max_bytes) ||
		    le64toh(w->boot_bytes) > le64toh(w->min_bytes) ||
		    le64toh(w->plugged_bytes) > le64toh(w->max_bytes) ||
		    le64toh(w->boot_bytes) + le64toh(w->plugged_bytes) > le64toh(w->max_bytes) ||
		    le64toh(w->block_bytes) == 0 ||
		    (le64toh(w->block_bytes) & (le64toh(w->block_bytes) - 1)))
			abort();
		break;
	case OMEM_RPC_DENY:
		if (le32toh(m->payload.deny.reason) < OMEM_RPC_DENY_BUDGET ||
		    le32toh(m->payload.deny.reason) > OMEM_RPC_DENY_BUSY)
			abort();
		break;
	case OMEM_RPC_RECLAIM:
		if (!m->payload.reclaim.bytes || m->payload.reclaim.reserved)
			abort();
		break;
	case OMEM_RPC_PING:
	case OMEM_RPC_PONG:
		if (m->payload.ping.reserved)
			abort();
		break;
	case OMEM_RPC_GOODBYE:
		if (le32toh(m->payload.goodbye.reason) < OMEM_RPC_GOODBYE_SHUTDOWN ||
		    le32toh(m->payload.goodbye.reason) > OMEM_RPC_GOODBYE_VERSION ||
		    m->payload.goodbye.reserved)
			abort();
		break;
	case OMEM_RPC_ERROR:
		if (!m->payload.error.code || le32toh(m->payload.error.code) > OMEM_RPC_ERR_MAX ||
		    m->payload.error.reserved)
			abort();
		break;
	}
}

static void fuzz_guest_wire_message(const uint8_t *data, size_t size)
{
	struct omem_message *message = calloc(1, sizeof(*message));
	u16 field = 0xffff, again_field = 0xffff;
	u32 code, again;

	if (!message)
		abort();
	memcpy(message, data, size < sizeof(*message) ? size : sizeof(*message));
	code = omem_wire_check_host_message(message, &field);
	again = omem_wire_check_host_message(message, &again_field);
	if (code != again || field != again_field)
		abort();
	if (code == 0) {
		if (field != 0)
			abort();
		fuzz_guest_wire_accepted_message(message);
	} else if (code > OMEM_RPC_ERR_MAX || field >= sizeof(*message)) {
		abort();
	}
	free(message);
}

/* Does the ring at @offset of @slots slots keep the layout rules inside a
 * region of @region_size bytes?  Returns its end. */
static uint64_t fuzz_guest_wire_ring(uint32_t offset, uint32_t slots, uint32_t region_size)
{
	uint64_t end = (uint64_t)offset + OMEM_RPC_RING_BYTES((uint64_t)slots);

	if (offset % OMEM_RPC_CACHELINE || slots < OMEM_RPC_RING_MIN_SLOTS ||
	    slots > OMEM_RPC_RING_MAX_SLOTS || (slots & (slots - 1)) ||
	    offset < sizeof(struct omem_rpc_region) || end > region_size)
		abort();
	return end;
}

static void fuzz_guest_wire_region(const uint8_t *data, size_t size)
{
	struct omem_rpc_region *header = calloc(1, sizeof(*header));
	uint64_t bar_bytes = 0, g2h_end, h2g_end;
	const char *problem;
	uint32_t region_size, g2h_offset, h2g_offset;

	if (!header)
		abort();
	memcpy(&bar_bytes, data, size < sizeof(bar_bytes) ? size : sizeof(bar_bytes));
	bar_bytes = le64toh(bar_bytes);
	if (size > sizeof(bar_bytes)) {
		size -= sizeof(bar_bytes);
		memcpy(header, data + sizeof(bar_bytes), size < sizeof(*header) ? size : sizeof(*header));
	}
	problem = omem_wire_check_region(header, bar_bytes);
	if (problem != omem_wire_check_region(header, bar_bytes))
		abort();
	if (problem) {
		if (!*problem)
			abort();
		free(header);
		return;
	}
	region_size = le32toh(header->region_size);
	g2h_offset = le32toh(header->g2h_offset);
	h2g_offset = le32toh(header->h2g_offset);
	if (le32toh(header->layout_version) != OMEM_RPC_LAYOUT_VERSION ||
	    le32toh(header->slot_size) != OMEM_RPC_SLOT_SIZE ||
	    region_size < OMEM_RPC_REGION_MIN_SIZE || region_size > OMEM_RPC_REGION_MAX_SIZE ||
	    (region_size & (region_size - 1)) || region_size > bar_bytes ||
	    le32toh(header->host_peer_id) > UINT16_MAX)
		abort();
	g2h_end = fuzz_guest_wire_ring(g2h_offset, le32toh(header->g2h_slots), region_size);
	h2g_end = fuzz_guest_wire_ring(h2g_offset, le32toh(header->h2g_slots), region_size);
	if (!(g2h_end <= h2g_offset || h2g_end <= g2h_offset))
		abort();
	for (size_t i = 0; i < sizeof(header->reserved) / sizeof(header->reserved[0]); i++)
		if (header->reserved[i])
			abort();
	free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_guest_wire_region(data + 1, size - 1);
	else
		fuzz_guest_wire_message(data + 1, size - 1);
	return 0;
}
