/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * omem-rpc: the wire format between a guest's omem_client.ko and omemd.
 *
 * This header IS the specification.  It is included unmodified by the guest
 * kernel module (Linux 6.1) and by user space (omemd, tests, fuzzers); it
 * has no functions, no libc and no kernel-only includes.  docs/protocol.md
 * explains the flows; this file fixes every byte.
 *
 * Conventions
 * -----------
 * - Every multi-byte field is little endian (__le16/__le32/__le64); readers
 *   convert explicitly (le32_to_cpu in the kernel, le32toh in user space).
 * - Sizes and amounts of memory are in bytes, never pages.
 * - "Total" memory figures are total guest RAM (boot RAM + what the
 *   virtio-mem device has plugged), as in docs/architecture.md's contract.
 * - Every reserved field and every padding byte of a message is written as
 *   zero and checked as zero by the receiver, so later versions can give
 *   them a meaning without ambiguity.  (The ring's pad0/pad1 are not
 *   checked: they only keep indices apart.)
 * - The guest is untrusted.  omemd copies each slot out of shared memory
 *   before it looks at it, bounds every index, length and count, and cuts a
 *   guest off after a protocol error; nothing here is trusted because the
 *   guest wrote it.
 *
 * Transport
 * ---------
 * QEMU's ivshmem-doorbell PCI device (1af4:1110), one per VM.  omemd is the
 * ivshmem server for that device: it owns the unix socket QEMU connects
 * to, the memfd that backs BAR2 (the "region" below) and every eventfd, and
 * it is itself the second peer on the device (peer id in
 * omem_rpc_region.host_peer_id).
 *
 * - Guest -> host notification: the guest writes
 *   (host_peer_id << 16) | OMEM_RPC_VECTOR_* to the device's DOORBELL
 *   register (BAR0 + 12).
 * - Host -> guest notification: omemd writes the guest's eventfd for that
 *   vector; QEMU raises the matching MSI-X vector in the guest.
 * - A doorbell rung before the guest has set up its MSI-X vectors (or before
 *   omemd serves the socket) is lost without a trace.  Notifications are
 *   hints: each side drains its whole ring on every notification.  While
 *   its HELLO sits unconsumed in the ring, the guest rings the doorbell
 *   again every OMEM_RPC_HELLO_RETRY_MS (with backoff); it writes a new
 *   HELLO only when omemd consumed the old one without answering.
 *
 * Sessions and sequence numbers
 * -----------------------------
 * A session starts with HELLO, which always carries seq 1; a HELLO inside
 * an open session restarts it.  The host's numbering restarts with the
 * answer: WELCOME (or the ERROR refusing the HELLO) carries seq 1.  After
 * that each side numbers its messages 1, 2, 3, ... (wrapping, skipping 0).
 *
 * Region reset
 * ------------
 * omemd resets the region (new generation, both rings' indices and slots
 * zeroed, header rewritten) only while no message is in flight from its
 * side, and finishes writing before it rings OMEM_RPC_VECTOR_CONTROL.  That
 * interrupt can be lost like any other, so the guest also compares
 * `generation` whenever it retries HELLO.
 *
 * Region layout (BAR2)
 * --------------------
 *   offset 0               struct omem_rpc_region (written by omemd only,
 *                          before QEMU is given the memory; read-only for
 *                          the guest by convention)
 *   g2h_offset             guest->host ring: struct omem_rpc_ring, then
 *                          g2h_slots slots of OMEM_RPC_SLOT_SIZE bytes
 *   h2g_offset             host->guest ring, same shape
 *
 * Each ring is single-producer/single-consumer.  The producer writes the
 * slot, then (release) advances `head`; the consumer reads `head`
 * (acquire), copies the slot, then advances `tail`.  Indices are
 * free-running 32-bit counters; the slot of index i is i % slots.  A ring
 * is empty when head == tail and full when head - tail == slots (modular
 * arithmetic).  A consumer that sees head - tail > slots knows the
 * producer is broken (protocol error OMEM_RPC_ERR_BAD_INDEX).
 */
#ifndef OMEM_RPC_H
#define OMEM_RPC_H

#include <linux/types.h>

/* "OMEMRPC1" read as a little-endian 64-bit integer: lets the guest module
 * tell omemd's region from any other ivshmem device it might be bound to. */
#define OMEM_RPC_MAGIC 0x314350524d454d4fULL

/* Layout of struct omem_rpc_region and the rings; bumped only if the ring
 * mechanics change.  Message formats are versioned by HELLO/WELCOME. */
#define OMEM_RPC_LAYOUT_VERSION 1

/* Protocol versions this header describes.  A peer supports a range; the
 * host picks the highest version inside both ranges. */
#define OMEM_RPC_VERSION_MIN 1
#define OMEM_RPC_VERSION_MAX 1

/* Region size bounds.  QEMU asserts the ivshmem size is a power of two; the
 * 1 MiB upper bound keeps BAR2 inside the window of the pcie-to-pci-bridge
 * that omemd hot-plugs the device behind. */
#define OMEM_RPC_REGION_MIN_SIZE (4u * 1024)
#define OMEM_RPC_REGION_MAX_SIZE (1024u * 1024)

/* Size of every ring slot: one message header plus its payload.  256 bytes
 * hold the largest message (STATS) with room for later versions, and keep
 * slots cache-line aligned. */
#define OMEM_RPC_SLOT_SIZE 256u

/* Slots per ring: a power of two so i % slots is a mask; 1024 slots bound
 * the memory a consumer may be asked to scan in one pass. */
#define OMEM_RPC_RING_MIN_SLOTS 2u
#define OMEM_RPC_RING_MAX_SLOTS 1024u

/* MSI-X vectors / doorbell vectors.  The device is configured with
 * OMEM_RPC_VECTORS vectors (libvirt <msi vectors='2'/>). */
#define OMEM_RPC_VECTOR_RING    0u /* the ring this side consumes has news */
#define OMEM_RPC_VECTOR_CONTROL 1u /* region reset: drop state, re-HELLO */
#define OMEM_RPC_VECTORS        2u

/* How long the guest waits for WELCOME before sending HELLO again. */
#define OMEM_RPC_HELLO_RETRY_MS 500u

/* Cache line the indices are padded to (largest common line size on the
 * hosts and guests omem runs on). */
#define OMEM_RPC_CACHELINE 64u

/**
 * struct omem_rpc_region - header at offset 0 of the shared region
 * @magic:          OMEM_RPC_MAGIC.
 * @layout_version: OMEM_RPC_LAYOUT_VERSION.
 * @region_size:    size of the whole region in bytes (power of two,
 *                  OMEM_RPC_REGION_MIN_SIZE..OMEM_RPC_REGION_MAX_SIZE); the
 *                  guest checks it against the BAR2 length.
 * @host_peer_id:   ivshmem peer id of omemd, 1..65535 (it fills the upper
 *                  16 bits of the doorbell register); the guest rings
 *                  (host_peer_id << 16) | vector.
 * @slot_size:      OMEM_RPC_SLOT_SIZE.
 * @g2h_offset:     offset of the guest->host struct omem_rpc_ring,
 *                  OMEM_RPC_CACHELINE aligned.
 * @g2h_slots:      slots in that ring (power of two, bounds above).
 * @h2g_offset:     offset of the host->guest struct omem_rpc_ring.
 * @h2g_slots:      slots in that ring.
 * @generation:     changes every time omemd (re)initialises the region, so
 *                  a guest can tell a fresh host session from the old one.
 * @reserved:       zero.
 *
 * The rings must lie entirely inside the region and must not overlap the
 * header or each other; the guest refuses a region that breaks this.
 */
struct omem_rpc_region {
	__le64 magic;
	__le32 layout_version;
	__le32 region_size;
	__le32 host_peer_id;
	__le32 slot_size;
	__le32 g2h_offset;
	__le32 g2h_slots;
	__le32 h2g_offset;
	__le32 h2g_slots;
	__le32 generation;
	__le32 reserved[5];
};

/**
 * struct omem_rpc_ring - indices of one ring, followed by its slots
 * @head:   next index the producer will write; written by the producer only.
 * @pad0:   keeps @tail on its own cache line (no false sharing between the
 *          two sides).
 * @tail:   next index the consumer will read; written by the consumer only.
 * @pad1:   pads the index block to two cache lines; slot 0 follows.
 */
struct omem_rpc_ring {
	__le32 head;
	__u8 pad0[OMEM_RPC_CACHELINE - sizeof(__le32)];
	__le32 tail;
	__u8 pad1[OMEM_RPC_CACHELINE - sizeof(__le32)];
};

/* Byte offset of slot 0 from the start of its struct omem_rpc_ring. */
#define OMEM_RPC_RING_SLOTS_OFFSET ((__u32)sizeof(struct omem_rpc_ring))

/* Bytes a ring of n slots occupies (indices + slots); 64-bit so an
 * unchecked n read from a region cannot overflow the sum. */
#define OMEM_RPC_RING_BYTES(n) \
	((__u64)OMEM_RPC_RING_SLOTS_OFFSET + (__u64)(n) * OMEM_RPC_SLOT_SIZE)

/*
 * Message types.  The direction each may travel in is part of the type: a
 * message received from the wrong direction is OMEM_RPC_ERR_BAD_DIRECTION.
 */
enum omem_rpc_type {
	OMEM_RPC_HELLO   = 1,  /* guest -> host: open a session */
	OMEM_RPC_WELCOME = 2,  /* host -> guest: session open, contract */
	OMEM_RPC_DEMAND  = 3,  /* guest -> host: please add memory */
	OMEM_RPC_GRANT   = 4,  /* host -> guest: memory is being plugged */
	OMEM_RPC_DENY    = 5,  /* host -> guest: not now, retry after */
	OMEM_RPC_SURPLUS = 6,  /* guest -> host: memory that could go */
	OMEM_RPC_RECLAIM = 7,  /* host -> guest: please make memory unpluggable */
	OMEM_RPC_STATS   = 8,  /* guest -> host: periodic tag/value figures */
	OMEM_RPC_PING    = 9,  /* either way: liveness / round-trip probe */
	OMEM_RPC_PONG    = 10, /* either way: answer to PING */
	OMEM_RPC_GOODBYE = 11, /* either way: session ends */
	OMEM_RPC_ERROR   = 12, /* either way: the peer's message was refused */
};

#define OMEM_RPC_TYPE_MAX 12u

/* Which types may travel which way, as bit masks of (1 << type); both
 * decoders refuse the rest with OMEM_RPC_ERR_BAD_DIRECTION. */
#define OMEM_RPC_TYPE_BIT(type) (1u << (type))
#define OMEM_RPC_TYPES_FROM_GUEST                                             \
	(OMEM_RPC_TYPE_BIT(OMEM_RPC_HELLO) | OMEM_RPC_TYPE_BIT(OMEM_RPC_DEMAND) | \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_SURPLUS) | OMEM_RPC_TYPE_BIT(OMEM_RPC_STATS) | \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_PING) | OMEM_RPC_TYPE_BIT(OMEM_RPC_PONG) |    \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_GOODBYE) | OMEM_RPC_TYPE_BIT(OMEM_RPC_ERROR))
#define OMEM_RPC_TYPES_FROM_HOST                                              \
	(OMEM_RPC_TYPE_BIT(OMEM_RPC_WELCOME) | OMEM_RPC_TYPE_BIT(OMEM_RPC_GRANT) | \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_DENY) | OMEM_RPC_TYPE_BIT(OMEM_RPC_RECLAIM) | \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_PING) | OMEM_RPC_TYPE_BIT(OMEM_RPC_PONG) |    \
	 OMEM_RPC_TYPE_BIT(OMEM_RPC_GOODBYE) | OMEM_RPC_TYPE_BIT(OMEM_RPC_ERROR))

/**
 * struct omem_rpc_header - first 16 bytes of every slot
 * @type:     enum omem_rpc_type.
 * @flags:    zero (no flags in version 1).
 * @length:   payload bytes after this header; must equal the payload size
 *            of @type (STATS: 8 + 16 * count).  Never more than
 *            OMEM_RPC_PAYLOAD_MAX.
 * @seq:      sender's sequence number: 1 for the first message of a
 *            session, then +1 per message (wraps, skipping 0).
 * @reply_to: @seq of the message this one answers (WELCOME answers HELLO,
 *            GRANT/DENY answer DEMAND, PONG answers PING, ERROR answers the
 *            refused message); 0 when it answers nothing.  The codec only
 *            checks the field's form; whether a reply names a request
 *            really sent is the session layer's check.
 */
struct omem_rpc_header {
	__le16 type;
	__le16 flags;
	__le32 length;
	__le32 seq;
	__le32 reply_to;
};

#define OMEM_RPC_PAYLOAD_MAX (OMEM_RPC_SLOT_SIZE - (__u32)sizeof(struct omem_rpc_header))

/* Feature bits offered in HELLO and accepted in WELCOME.  None yet: the
 * field exists so a later version can add some without a new layout. */
#define OMEM_RPC_FEATURES_KNOWN 0ULL

/**
 * struct omem_rpc_hello - guest -> host, opens a session
 * @version_min:        lowest protocol version the guest speaks (>= 1).
 * @version_max:        highest (>= @version_min).
 * @client_version:     omem_client.ko version, (major << 16) | minor, for
 *                      logs only.
 * @features:           OMEM_RPC_FEATURES_* the guest offers.
 * @guest_total_bytes:  MemTotal as the guest sees it now.
 * @memory_block_bytes: the guest's memory block size (hot-plug granule of
 *                      its memory sysfs; 128 MiB on x86-64); 0 when the
 *                      guest kernel has no memory hot-plug.
 * @page_bytes:         the guest's base page size.
 *
 * Sent after probe and again every OMEM_RPC_HELLO_RETRY_MS until WELCOME or
 * ERROR arrives.  A HELLO inside an open session restarts the session.
 */
struct omem_rpc_hello {
	__le16 version_min;
	__le16 version_max;
	__le32 client_version;
	__le64 features;
	__le64 guest_total_bytes;
	__le64 memory_block_bytes;
	__le64 page_bytes;
};

/**
 * struct omem_rpc_welcome - host -> guest, answers HELLO
 * @version:            the chosen protocol version.
 * @reserved0:          zero.
 * @buffer_percent:     headroom the guest adds on top of its need when it
 *                      sizes a DEMAND (0..100).
 * @features:           the features both sides will use.
 * @boot_bytes:         RAM the guest booted with (never unplugged).
 * @min_bytes:          total guest RAM the contract guarantees.
 * @max_bytes:          boot + the virtio-mem device's size.
 * @cap_bytes:          the operator's current limit (min <= cap <= max).
 * @plugged_bytes:      what the virtio-mem device has plugged now.
 * @block_bytes:        the virtio-mem device's block size; grants and
 *                      reclaims move in multiples of it.
 * @stats_interval_ms:  how often the host wants STATS (0: never).
 * @demand_interval_ms: minimum spacing of non-critical DEMANDs; more are
 *                      answered with DENY (OMEM_RPC_DENY_RATE).
 *
 * The host guarantees boot <= min <= cap <= max, plugged <= max - boot and
 * block_bytes a power of two; the guest refuses a WELCOME that breaks it.
 *
 * If the version ranges do not meet, the host answers ERROR
 * (OMEM_RPC_ERR_BAD_VERSION) instead, then GOODBYE.
 */
struct omem_rpc_welcome {
	__le16 version;
	__le16 reserved0;
	__le32 buffer_percent;
	__le64 features;
	__le64 boot_bytes;
	__le64 min_bytes;
	__le64 max_bytes;
	__le64 cap_bytes;
	__le64 plugged_bytes;
	__le64 block_bytes;
	__le32 stats_interval_ms;
	__le32 demand_interval_ms;
};

/* DEMAND urgency: how soon the guest will be in trouble. */
enum omem_rpc_urgency {
	OMEM_RPC_URGENCY_LOW      = 1, /* comfortable headroom is shrinking */
	OMEM_RPC_URGENCY_NORMAL   = 2, /* free + reclaimable under the low mark */
	OMEM_RPC_URGENCY_HIGH     = 3, /* the guest is reclaiming actively */
	OMEM_RPC_URGENCY_CRITICAL = 4, /* the OOM killer was about to run */
};

/* DEMAND reasons: what the guest saw (bit set). */
#define OMEM_RPC_REASON_WATERMARK 0x1u /* periodic sample under the mark */
#define OMEM_RPC_REASON_RECLAIM   0x2u /* shrinker callback: reclaim ran */
#define OMEM_RPC_REASON_OOM       0x4u /* OOM notifier fired */
#define OMEM_RPC_REASON_KNOWN     0x7u

/**
 * struct omem_rpc_demand - guest -> host, asks for more memory
 * @urgency:         enum omem_rpc_urgency.
 * @reasons:         OMEM_RPC_REASON_* bits, at least one, no unknown bit.
 * @bytes:           additional memory wanted, need plus the contract's
 *                   buffer (> 0, <= max - boot).  The host rounds up to
 *                   its block size and never past the contract.
 * @available_bytes: the guest's MemAvailable when it asked.
 */
struct omem_rpc_demand {
	__le32 urgency;
	__le32 reasons;
	__le64 bytes;
	__le64 available_bytes;
};

/**
 * struct omem_rpc_grant - host -> guest, answers DEMAND
 * @bytes:        how much the device's requested size rose for this
 *                demand (<= the demand, rounded to blocks; may be less).
 * @target_bytes: total guest RAM the device is now asked to reach
 *                (boot + requested).  Memory appears as the guest's own
 *                virtio_mem driver plugs it.
 */
struct omem_rpc_grant {
	__le64 bytes;
	__le64 target_bytes;
};

/* DENY reasons. */
enum omem_rpc_deny_reason {
	OMEM_RPC_DENY_BUDGET = 1, /* the host budget is spent; retry later */
	OMEM_RPC_DENY_CAP    = 2, /* the guest is at its cap; retrying is useless until the cap moves */
	OMEM_RPC_DENY_RATE   = 3, /* demands come faster than demand_interval_ms */
	OMEM_RPC_DENY_FROZEN = 4, /* the operator froze this VM's size */
	OMEM_RPC_DENY_BUSY   = 5, /* a resize is in flight; retry after */
};

/**
 * struct omem_rpc_deny - host -> guest, answers DEMAND
 * @reason:         enum omem_rpc_deny_reason.
 * @retry_after_ms: do not ask again sooner than this (0: at will).
 */
struct omem_rpc_deny {
	__le32 reason;
	__le32 retry_after_ms;
};

/**
 * struct omem_rpc_surplus - guest -> host, memory that could go
 *
 * A reclaim-cost curve, cheapest first: the host may take up to
 * @free_bytes at no cost to the guest, up to @free_bytes +
 * @clean_cache_bytes at the cost of dropping clean page cache, and never
 * more than @unpluggable_bytes in all (memory in movable, plugged blocks
 * that virtio_mem can actually unplug).
 *
 * @free_bytes:        free memory inside plugged (movable) blocks.
 * @clean_cache_bytes: clean page cache that could be dropped to unplug.
 * @unpluggable_bytes: upper bound of what an unplug can take now.
 */
struct omem_rpc_surplus {
	__le64 free_bytes;
	__le64 clean_cache_bytes;
	__le64 unpluggable_bytes;
};

/**
 * struct omem_rpc_reclaim - host -> guest, memory is wanted back
 * @bytes:       how much the host will unplug (> 0).
 * @deadline_ms: when, from now, the host starts lowering the device's
 *               requested size; the guest uses the time to free memory
 *               (drop caches, stop pre-allocating) and answers with
 *               SURPLUS.
 * @reserved:    zero.
 */
struct omem_rpc_reclaim {
	__le64 bytes;
	__le32 deadline_ms;
	__le32 reserved;
};

/* STATS tags.  Values are bytes unless the name says otherwise; counters
 * (_COUNT) are totals since the guest booted. */
enum omem_rpc_stat_tag {
	OMEM_RPC_STAT_TOTAL_BYTES         = 1,  /* MemTotal */
	OMEM_RPC_STAT_FREE_BYTES          = 2,  /* MemFree */
	OMEM_RPC_STAT_AVAILABLE_BYTES     = 3,  /* MemAvailable */
	OMEM_RPC_STAT_FILE_BYTES          = 4,  /* file-backed pages */
	OMEM_RPC_STAT_ANON_BYTES          = 5,  /* anonymous pages */
	OMEM_RPC_STAT_SWAP_IN_COUNT       = 6,  /* pages swapped in */
	OMEM_RPC_STAT_SWAP_OUT_COUNT      = 7,  /* pages swapped out */
	OMEM_RPC_STAT_MAJOR_FAULTS_COUNT  = 8,  /* major page faults */
	OMEM_RPC_STAT_OOM_KILLS_COUNT     = 9,  /* OOM kills */
	OMEM_RPC_STAT_RECLAIM_STALLS_COUNT = 10, /* direct reclaim stalls */
};

#define OMEM_RPC_STAT_TAG_MAX 10u

/**
 * struct omem_rpc_stat - one tag/value pair
 * @tag:      enum omem_rpc_stat_tag; unknown tags are refused in version 1.
 * @reserved: zero.
 * @value:    the figure.
 */
struct omem_rpc_stat {
	__le32 tag;
	__le32 reserved;
	__le64 value;
};

/* Pairs one STATS message can carry: (240 - 8) / 16.  Version 1 knows
 * OMEM_RPC_STAT_TAG_MAX tags and each may appear once, so more than that
 * many pairs cannot be valid yet; the room is for later versions. */
#define OMEM_RPC_STATS_MAX 14u

/**
 * struct omem_rpc_stats - guest -> host, periodic figures
 * @count:    pairs that follow (1..OMEM_RPC_STATS_MAX); the header's
 *            length is exactly 8 + 16 * @count.
 * @reserved: zero.
 * @stats:    the pairs; each tag at most once per message.
 */
struct omem_rpc_stats {
	__le32 count;
	__le32 reserved;
	struct omem_rpc_stat stats[OMEM_RPC_STATS_MAX];
};

/* Bytes of a STATS payload carrying n pairs. */
#define OMEM_RPC_STATS_BYTES(n) (8u + 16u * (n))

/**
 * struct omem_rpc_ping - PING and PONG
 * @cookie:   any value; PONG echoes the PING's.
 * @reserved: zero.
 */
struct omem_rpc_ping {
	__le64 cookie;
	__le64 reserved;
};

/* GOODBYE reasons. */
enum omem_rpc_goodbye_reason {
	OMEM_RPC_GOODBYE_SHUTDOWN = 1, /* the sender is stopping */
	OMEM_RPC_GOODBYE_UNLOAD   = 2, /* the guest module is unloading */
	OMEM_RPC_GOODBYE_PROTOCOL = 3, /* the peer broke the protocol; cut off */
	OMEM_RPC_GOODBYE_VERSION  = 4, /* no common protocol version */
};

/**
 * struct omem_rpc_goodbye - either way, the session ends
 * @reason:   enum omem_rpc_goodbye_reason.
 * @reserved: zero.
 */
struct omem_rpc_goodbye {
	__le32 reason;
	__le32 reserved;
};

/* Error codes: carried by ERROR on the wire, and reported by the decoders
 * on both sides in their error record (their return value is an ordinary
 * negative errno, -EBADMSG). */
enum omem_rpc_error_code {
	OMEM_RPC_ERR_TRUNCATED        = 1,  /* shorter than its type needs */
	OMEM_RPC_ERR_OVERSIZED        = 2,  /* longer than its type allows */
	OMEM_RPC_ERR_UNKNOWN_TYPE     = 3,  /* type not in enum omem_rpc_type */
	OMEM_RPC_ERR_BAD_DIRECTION    = 4,  /* type may not travel this way */
	OMEM_RPC_ERR_BAD_VERSION      = 5,  /* no common protocol version */
	OMEM_RPC_ERR_RESERVED_NONZERO = 6,  /* reserved field or flag set */
	OMEM_RPC_ERR_BAD_VALUE        = 7,  /* field out of its range */
	OMEM_RPC_ERR_BAD_INDEX        = 8,  /* ring index out of range */
	OMEM_RPC_ERR_NOT_NEGOTIATED   = 9,  /* message before HELLO/WELCOME */
	OMEM_RPC_ERR_RATE_LIMITED     = 10, /* too many messages */
	OMEM_RPC_ERR_BAD_SEQUENCE     = 11, /* seq not the expected next one */
};

#define OMEM_RPC_ERR_MAX 11u

/**
 * struct omem_rpc_error - either way, a message was refused
 * @code:         enum omem_rpc_error_code.
 * @type:         type field of the refused message, as received.
 * @field_offset: byte offset, within the slot, of the field found at
 *                fault; 0 names header.type, which is also where a fault
 *                of the whole message (e.g. TRUNCATED) is reported.
 * @reserved:     zero.
 *
 * The refused message is named by the header's reply_to.  After an ERROR
 * the host may also end the session with GOODBYE (PROTOCOL).
 */
struct omem_rpc_error {
	__le32 code;
	__le16 type;
	__le16 field_offset;
	__le64 reserved;
};

/* Sizes are part of the wire format: any change here is a new version. */
_Static_assert(sizeof(struct omem_rpc_region) == 64, "omem_rpc_region size");
_Static_assert(sizeof(struct omem_rpc_ring) == 2 * OMEM_RPC_CACHELINE, "omem_rpc_ring size");
_Static_assert(sizeof(struct omem_rpc_header) == 16, "omem_rpc_header size");
_Static_assert(OMEM_RPC_PAYLOAD_MAX == 240, "payload size");
_Static_assert(sizeof(struct omem_rpc_hello) == 40, "omem_rpc_hello size");
_Static_assert(sizeof(struct omem_rpc_welcome) == 72, "omem_rpc_welcome size");
_Static_assert(sizeof(struct omem_rpc_demand) == 24, "omem_rpc_demand size");
_Static_assert(sizeof(struct omem_rpc_grant) == 16, "omem_rpc_grant size");
_Static_assert(sizeof(struct omem_rpc_deny) == 8, "omem_rpc_deny size");
_Static_assert(sizeof(struct omem_rpc_surplus) == 24, "omem_rpc_surplus size");
_Static_assert(sizeof(struct omem_rpc_reclaim) == 16, "omem_rpc_reclaim size");
_Static_assert(sizeof(struct omem_rpc_stat) == 16, "omem_rpc_stat size");
_Static_assert(sizeof(struct omem_rpc_stats) == OMEM_RPC_STATS_BYTES(OMEM_RPC_STATS_MAX), "omem_rpc_stats size");
_Static_assert(sizeof(struct omem_rpc_stats) <= OMEM_RPC_PAYLOAD_MAX, "stats fit a slot");
_Static_assert(sizeof(struct omem_rpc_ping) == 16, "omem_rpc_ping size");
_Static_assert(sizeof(struct omem_rpc_goodbye) == 8, "omem_rpc_goodbye size");
_Static_assert(sizeof(struct omem_rpc_error) == 16, "omem_rpc_error size");

#endif /* OMEM_RPC_H */
