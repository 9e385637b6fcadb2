/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the omem-rpc codec and rings: a hostile guest
 * controls the ring indices, every slot and optionally the region header;
 * the host drains what it can.  Every message that decodes must re-encode
 * to the same bytes and decode to the same message (the oracle; abort() is
 * the fuzzer's way of reporting, nothing else here may abort).
 *
 * Input (short inputs read as if padded with zeros):
 *   0   le32  start index of all four private indices
 *   4   le32  guest->host head, as the guest publishes it
 *   8   le32  host->guest head, written over the host's own
 *   12  le32  host->guest tail, as the guest publishes it
 *   16  u8    flags: bit 0: the next 64 bytes overwrite the region header
 *   ..        slots: chunk k of 256 bytes is the slot of index start + k of
 *             the guest->host ring, then of the host->guest ring
 * tests/fuzz/make-rpc-corpus.c writes seeds in this format.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"

/* 16 KiB: 16 slots per ring, small enough to reset on every input. */
#define FUZZ_RPC_REGION_SIZE (16u * 1024)
#define FUZZ_RPC_FLAG_HEADER 0x1u
#define FUZZ_RPC_PREFIX 17u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static alignas(OMEM_RPC_CACHELINE) uint8_t fuzz_rpc_region[FUZZ_RPC_REGION_SIZE];

static uint32_t fuzz_rpc_le32(const uint8_t *data, size_t size, size_t offset)
{
	uint8_t bytes[4] = { 0 };
	uint32_t v;

	if (offset < size)
		memcpy(bytes, data + offset, size - offset < 4 ? size - offset : 4);
	memcpy(&v, bytes, sizeof(v));
	return le32toh(v);
}

static void fuzz_rpc_set_index(uint32_t ring_offset, size_t field, uint32_t value)
{
	uint32_t le = htole32(value);

	memcpy(fuzz_rpc_region + ring_offset + field, &le, sizeof(le));
}

/* The oracle: a decoded message is canonical and survives a round trip. */
static void fuzz_rpc_check(const uint8_t *slot, enum rpc_direction from, const struct rpc_msg *msg)
{
	uint8_t again[OMEM_RPC_SLOT_SIZE];
	struct rpc_msg back;
	uint32_t length;

	if (rpc_codec_encode(msg, again, sizeof(again), NULL) != 0)
		abort();
	memcpy(&length, slot + offsetof(struct omem_rpc_header, length), sizeof(length));
	length = le32toh(length);
	if (memcmp(slot, again, sizeof(struct omem_rpc_header) + length) != 0)
		abort();
	if (rpc_codec_decode(again, sizeof(again), from, &back, NULL) != 0)
		abort();
	if (!rpc_codec_msg_equal(msg, &back))
		abort();
	if (msg->type == OMEM_RPC_HELLO) {
		uint16_t version;

		if (rpc_codec_negotiate(msg->u.hello.version_min, msg->u.hello.version_max,
					&version) == 0 &&
		    (version < msg->u.hello.version_min || version > msg->u.hello.version_max ||
		     version < OMEM_RPC_VERSION_MIN || version > OMEM_RPC_VERSION_MAX))
			abort();
	}
}

/* Decode one slot; on success run the oracle.  Returns the decode result. */
static int fuzz_rpc_decode(const uint8_t *slot, size_t slot_len, enum rpc_direction from,
			   uint8_t *ret_encoded)
{
	struct rpc_msg msg;
	struct rpc_codec_error error;
	uint8_t encoded_error[OMEM_RPC_SLOT_SIZE];
	int r;

	r = rpc_codec_decode(slot, slot_len, from, &msg, &error);
	if (r < 0) {
		/* Every refusal must be answerable with a valid ERROR. */
		struct rpc_msg reply = {
			.type = OMEM_RPC_ERROR,
			.seq = 1,
			.reply_to = error.seq,
			.u.error = { error.code, error.type, error.field_offset },
		};

		if (r != -EBADMSG || !error.field ||
		    rpc_codec_encode(&reply, encoded_error, sizeof(encoded_error), NULL) != 0)
			abort();
		return r;
	}
	fuzz_rpc_check(slot, from, &msg);
	if (ret_encoded && rpc_codec_encode(&msg, ret_encoded, OMEM_RPC_SLOT_SIZE, NULL) != 0)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_region_layout layout, guest_view;
	struct rpc_ring_consumer host_g2h, guest_h2g;
	struct rpc_ring_producer host_h2g, guest_g2h;
	uint8_t slot[OMEM_RPC_SLOT_SIZE], encoded[OMEM_RPC_SLOT_SIZE];
	uint32_t start = fuzz_rpc_le32(data, size, 0);
	uint8_t flags = size > 16 ? data[16] : 0;
	size_t offset = FUZZ_RPC_PREFIX;
	uint32_t k;

	if (rpc_ring_layout_default(FUZZ_RPC_REGION_SIZE, 1, start, &layout) < 0)
		abort();
	rpc_ring_region_init(fuzz_rpc_region, &layout);
	if (rpc_ring_host_attach(fuzz_rpc_region, &layout, start, &host_g2h, &host_h2g) < 0 ||
	    rpc_ring_guest_attach(fuzz_rpc_region, &layout, start, &guest_g2h, &guest_h2g) < 0)
		abort();

	/* The guest's scribbles: indices, maybe the header, the slots. */
	fuzz_rpc_set_index(layout.g2h_offset, offsetof(struct omem_rpc_ring, head),
			   fuzz_rpc_le32(data, size, 4));
	fuzz_rpc_set_index(layout.h2g_offset, offsetof(struct omem_rpc_ring, head),
			   fuzz_rpc_le32(data, size, 8));
	fuzz_rpc_set_index(layout.h2g_offset, offsetof(struct omem_rpc_ring, tail),
			   fuzz_rpc_le32(data, size, 12));
	if (flags & FUZZ_RPC_FLAG_HEADER) {
		size_t n = offset < size ? size - offset : 0;

		n = n < sizeof(struct omem_rpc_region) ? n : sizeof(struct omem_rpc_region);
		memcpy(fuzz_rpc_region, data + offset, n);
		offset += sizeof(struct omem_rpc_region);
	}

	/* The first chunk also goes straight to the decoder, exactly as long
	 * as it is: any over-read is an ASan report. */
	if (offset < size) {
		size_t n = size - offset < OMEM_RPC_SLOT_SIZE ? size - offset : OMEM_RPC_SLOT_SIZE;

		fuzz_rpc_decode(data + offset, n, RPC_FROM_GUEST, NULL);
		fuzz_rpc_decode(data + offset, n, RPC_FROM_HOST, NULL);
	}

	for (k = 0; k < layout.g2h_slots + layout.h2g_slots && offset < size; k++) {
		int g2h = k < layout.g2h_slots;
		uint32_t ring_offset = g2h ? layout.g2h_offset : layout.h2g_offset;
		uint32_t slots = g2h ? layout.g2h_slots : layout.h2g_slots;
		uint32_t index = start + (g2h ? k : k - layout.g2h_slots);
		size_t n = size - offset < OMEM_RPC_SLOT_SIZE ? size - offset : OMEM_RPC_SLOT_SIZE;

		memcpy(fuzz_rpc_region + ring_offset + OMEM_RPC_RING_SLOTS_OFFSET +
			       (size_t)(index & (slots - 1)) * OMEM_RPC_SLOT_SIZE,
		       data + offset, n);
		offset += n;
	}

	/* The guest's view of the header must parse, unless it was overwritten. */
	if (rpc_ring_region_read_layout(fuzz_rpc_region, FUZZ_RPC_REGION_SIZE, &guest_view) == 0) {
		if (rpc_ring_layout_check(&guest_view) != 0)
			abort();
	} else if (!(flags & FUZZ_RPC_FLAG_HEADER)) {
		abort();
	}

	/* The host drains guest->host and answers each good message by
	 * sending it back on host->guest (whose tail the guest set). */
	while (rpc_ring_receive(&host_g2h, slot) == 1)
		if (fuzz_rpc_decode(slot, sizeof(slot), RPC_FROM_GUEST, encoded) == 0)
			rpc_ring_send(&host_h2g, encoded);

	/* A guest drains host->guest; its head may be the fuzzer's. */
	while (rpc_ring_receive(&guest_h2g, slot) == 1)
		fuzz_rpc_decode(slot, sizeof(slot), RPC_FROM_HOST, NULL);

	/* And may send while the host's tail is where the host left it. */
	memset(slot, 0, sizeof(slot));
	rpc_ring_send(&guest_g2h, slot);
	return 0;
}
