/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omem_decide.h - the memory policy's decision math, with no I/O.
 *
 * Everything here is plain C that builds both inside omem_client.ko and in
 * user space (tests/unit/test-guest-decide.c): it takes the time and the
 * guest's memory figures as arguments, keeps its memory in a caller-owned
 * struct omem_decide_state and never logs, locks or allocates.  The kernel
 * glue (omem_policy.c) samples, locks and sends; this file decides when to
 * ask for memory (DEMAND), how much, how urgently, when to offer memory
 * back (SURPLUS) and what to offer, and when to refill the OOM reserve.
 *
 * Units: bytes and milliseconds of a monotonic clock.  The caller
 * serialises all calls on one state.
 */
#ifndef OMEM_DECIDE_H
#define OMEM_DECIDE_H

/* The compat shim: the kernel's fixed-size types, or libc's. */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#define OMEM_DECIDE_MIB (1ULL << 20)

/* Bytes of struct page per base page: the memmap a plugged block costs
 * the memory the guest already has (64 bytes per 4 KiB page on x86-64,
 * i.e. 2 MiB per 128 MiB block). */
#define OMEM_DECIDE_STRUCT_PAGE_BYTES 64u

/*
 * How long a non-critical demand waits after a DENY whose retry_after_ms
 * is 0 but whose reason says retrying will not help soon (CAP, FROZEN):
 * the cap or the freeze changes only by an operator's hand.
 */
#define OMEM_DECIDE_DENY_STICKY_MS 30000u

/**
 * struct omem_decide_params - tunables and the contract, fixed between calls
 * @low_floor_bytes:   the low mark never goes under this (module param).
 * @low_percent:       ... nor under this share of the guest's total.
 * @granule_bytes:     demands are whole multiples of this: the larger of
 *                     the guest's memory block (it onlines whole blocks)
 *                     and the device's block.  Never 0.
 * @page_bytes:        the guest's base page size (memmap cost).
 * @buffer_percent:    contract: headroom added to every demand, share of
 *                     the contract total (boot + plugged).
 * @boot_bytes:        contract: boot RAM.
 * @max_bytes:         contract: boot + the device's size.
 * @cap_bytes:         contract: the operator's limit on the total.
 * @demand_interval_ms: contract: spacing of non-critical demands.
 * @reply_timeout_ms:  a DEMAND without GRANT or DENY by then is lost.
 * @grant_timeout_ms:  a GRANT whose memory has not arrived by then no
 *                     longer holds back the next demand.
 * @reclaim_window_ms: reclaim seen (shrinker) this recently counts.
 * @trend_window_ms:   how long the consumption trend is measured over.
 * @trend_lead_ms:     how long a plug takes to arrive: the early mark and
 *                     every demand add what the trend consumes in this
 *                     long, the low mark the memmap of it.
 * @surplus_hold_ms:   memory must stay above the high mark at least this
 *                     long before it is offered (hysteresis): the hold a
 *                     guest starts with and never goes under.
 * @surplus_hold_max_ms: ... and at most this long: the hold doubles, up to
 *                     here, each time a give-back is followed by a DEMAND
 *                     within @surplus_regret_ms.
 * @surplus_regret_ms: a DEMAND this soon after an unsolicited SURPLUS
 *                     means the memory was given back too early; a SURPLUS
 *                     with no DEMAND this long before it halves the hold.
 * @surplus_interval_ms: spacing of repeated unsolicited SURPLUS.
 */
struct omem_decide_params {
	u64 low_floor_bytes;
	u32 low_percent;
	u64 granule_bytes;
	u64 page_bytes;
	u32 buffer_percent;
	u64 boot_bytes;
	u64 max_bytes;
	u64 cap_bytes;
	u32 demand_interval_ms;
	u32 reply_timeout_ms;
	u32 grant_timeout_ms;
	u32 reclaim_window_ms;
	u32 trend_window_ms;
	u32 trend_lead_ms;
	u32 surplus_hold_ms;
	u32 surplus_hold_max_ms;
	u32 surplus_regret_ms;
	u32 surplus_interval_ms;
};

/**
 * struct omem_decide_sample - the guest's memory at one instant
 * @now_ms:             when it was taken.
 * @total_bytes:        MemTotal (what the kernel manages).
 * @available_bytes:    MemAvailable (free + reclaimable - reserves).
 * @used_bytes:         what workloads and the kernel's caches hold:
 *                      anonymous + file pages + slab + page tables.  The
 *                      consumption trend is its growth: it neither falls
 *                      when a plug arrives nor rises when virtio_mem takes
 *                      pages to unplug them (MemTotal - MemAvailable
 *                      does both).
 * @plugged_bytes:      what the virtio-mem device has plugged now, in the
 *                      contract's terms (boot + plugged = contract total).
 * @movable_free_bytes: free memory in ZONE_MOVABLE (where plugged memory
 *                      is onlined).
 * @movable_clean_bytes: clean file pages in ZONE_MOVABLE.
 * @movable_bytes:      managed memory in ZONE_MOVABLE.
 * @reclaim_ms:         when the shrinker last saw reclaim (0: never).
 */
struct omem_decide_sample {
	u64 now_ms;
	u64 total_bytes;
	u64 available_bytes;
	u64 used_bytes;
	u64 plugged_bytes;
	u64 movable_free_bytes;
	u64 movable_clean_bytes;
	u64 movable_bytes;
	u64 reclaim_ms;
};

/**
 * struct omem_decide_marks - the thresholds for one sample and trend
 * @lead_bytes:  what the consumption trend takes in trend_lead_ms: what
 *               the guest uses up while a plug is on its way.
 * @grant_bytes: the most one DEMAND made now may plug: @lead_bytes plus
 *               the buffer, rounded up to the granule (at least one),
 *               never more than the contract has left to plug.
 * @low_bytes:   under it: NORMAL demand.  max(floor, percent of total)
 *               plus the memmap of @grant_bytes: plugging allocates the
 *               memmap of every block of a grant from memory the guest
 *               already has, one block after the other.
 * @early_bytes: under it: LOW demand (HIGH if reclaim runs); twice @low
 *               plus @lead_bytes, so the plug arrives before MemAvailable
 *               is down to twice @low.
 * @keep_bytes:  what SURPLUS leaves the guest: @early plus the buffer.
 * @high_bytes:  above it for the hold time: SURPLUS; @keep plus one
 *               granule, so giving a granule back cannot cross @early.
 */
struct omem_decide_marks {
	u64 lead_bytes;
	u64 grant_bytes;
	u64 low_bytes;
	u64 early_bytes;
	u64 keep_bytes;
	u64 high_bytes;
};

/**
 * struct omem_decide_demand - a DEMAND to send
 * @urgency: enum omem_rpc_urgency.
 * @reasons: OMEM_RPC_REASON_* bits.
 * @bytes:   what to ask for (> 0).
 */
struct omem_decide_demand {
	u32 urgency;
	u32 reasons;
	u64 bytes;
};

/**
 * struct omem_decide_surplus - a SURPLUS to send (the reclaim-cost curve)
 * @free_bytes:        free memory in plugged blocks.
 * @clean_cache_bytes: clean cache in plugged blocks, on top of @free.
 * @unpluggable_bytes: @free + @clean: all an unplug may take now.
 */
struct omem_decide_surplus {
	u64 free_bytes;
	u64 clean_cache_bytes;
	u64 unpluggable_bytes;
};

/* Why omem_decide_demand() sent nothing (for counters and debugfs). */
enum omem_decide_hold {
	OMEM_DECIDE_SEND = 0,		/* a demand is to be sent */
	OMEM_DECIDE_NO_NEED,		/* memory is fine */
	OMEM_DECIDE_OUTSTANDING,	/* a DEMAND waits for its answer */
	OMEM_DECIDE_GRANT_PENDING,	/* granted memory is still arriving */
	OMEM_DECIDE_INTERVAL,		/* demand_interval_ms not over */
	OMEM_DECIDE_DENIED,		/* a DENY's retry_after_ms not over */
	OMEM_DECIDE_AT_CAP,		/* nothing left under the cap */
};

/**
 * struct omem_decide_state - what the decisions remember; zero it to start
 *
 * Per session (omem_decide_session_reset() clears them when a session
 * opens: they are about the old omemd's messages and rate limits):
 * @demand_outstanding: a non-critical DEMAND waits for GRANT/DENY.
 * @demand_seq:        its seq.
 * @demand_sent_ms:    when it went.
 * @critical_outstanding: a CRITICAL DEMAND waits for GRANT/DENY.
 * @critical_seq:      its seq.
 * @critical_sent_ms:  when it went.
 * @demand_sent_any:   some demand was sent this session.
 * @last_demand_ms:    when the last non-critical DEMAND went.
 * @deny_until_ms:     no DEMAND before this (0: none pending).
 * @grant_pending:     a GRANT's memory is still arriving.
 * @grant_target_plugged: plugged bytes the GRANT's target means.
 * @grant_ms:          when the GRANT came.
 * @surplus_sent_any:  a SURPLUS was sent this session.
 * @last_surplus_ms:   when the last unsolicited SURPLUS went.
 * @stats_sent_any:    a STATS was sent this session.
 * @last_stats_ms:     when.
 *
 * About the guest, kept across sessions (an omemd restart does not stop
 * the workload):
 * @trend_started:     @trend_start_* hold a sample.
 * @trend_start_ms:    start of the current trend window.
 * @trend_start_used:  the sample's used_bytes then.
 * @drop_rate:         consumption, bytes/s: how fast used_bytes grew
 *                     over the last window, or half the previous rate if
 *                     that is more (a workload that pauses between steps
 *                     does not look idle for one window).  Not the fall
 *                     of MemAvailable: a plug arriving would hide the
 *                     consumption that goes on, and pages virtio_mem
 *                     isolates to unplug would look like consumption.
 * @above_high:        MemAvailable has stayed over the high mark since
 *                     @above_since_ms.
 * @above_since_ms:    see @above_high.
 * @hold_ms:           the surplus hold now (0: not yet set, the
 *                     shortest); see omem_decide_surplus_hold().
 * @gave_any:          an unsolicited SURPLUS went at @gave_ms.
 * @gave_ms:           see @gave_any.
 * @gave_regretted:    a DEMAND already doubled the hold for that one.
 * @needed_any:        a DEMAND went at @needed_ms.
 * @needed_ms:         see @needed_any.
 */
struct omem_decide_state {
	bool demand_outstanding;
	u32 demand_seq;
	u64 demand_sent_ms;
	bool critical_outstanding;
	u32 critical_seq;
	u64 critical_sent_ms;
	bool demand_sent_any;
	u64 last_demand_ms;
	u64 deny_until_ms;
	bool grant_pending;
	u64 grant_target_plugged;
	u64 grant_ms;
	bool surplus_sent_any;
	u64 last_surplus_ms;
	bool stats_sent_any;
	u64 last_stats_ms;

	bool trend_started;
	u64 trend_start_ms;
	u64 trend_start_used;
	u64 drop_rate;
	bool above_high;
	u64 above_since_ms;
	u32 hold_ms;
	bool gave_any;
	u64 gave_ms;
	bool gave_regretted;
	bool needed_any;
	u64 needed_ms;
};

u64 omem_decide_round_up(u64 bytes, u64 granule);
u64 omem_decide_memmap_bytes(const struct omem_decide_params *params, u64 bytes);
void omem_decide_marks(const struct omem_decide_params *params,
		       const struct omem_decide_state *state,
		       const struct omem_decide_sample *sample,
		       struct omem_decide_marks *marks);
void omem_decide_session_reset(struct omem_decide_state *state);
void omem_decide_observe(struct omem_decide_state *state,
			 const struct omem_decide_params *params,
			 const struct omem_decide_sample *sample);
enum omem_decide_hold omem_decide_demand(struct omem_decide_state *state,
					 const struct omem_decide_params *params,
					 const struct omem_decide_sample *sample,
					 bool oom, struct omem_decide_demand *demand);
void omem_decide_demand_sent(struct omem_decide_state *state,
			     const struct omem_decide_params *params, u64 now_ms,
			     u32 seq, u32 urgency);
bool omem_decide_grant(struct omem_decide_state *state,
		       const struct omem_decide_params *params, u64 now_ms,
		       u32 reply_to, u64 target_bytes);
bool omem_decide_deny(struct omem_decide_state *state,
		      const struct omem_decide_params *params, u64 now_ms,
		      u32 reply_to, u32 reason, u32 retry_after_ms);
bool omem_decide_surplus(struct omem_decide_state *state,
			 const struct omem_decide_params *params,
			 const struct omem_decide_sample *sample,
			 bool reclaim, struct omem_decide_surplus *surplus);
u32 omem_decide_surplus_hold(const struct omem_decide_params *params,
			      const struct omem_decide_state *state);
void omem_decide_surplus_sent(struct omem_decide_state *state,
			      const struct omem_decide_params *params, u64 now_ms,
			      bool reclaim);
bool omem_decide_stats_due(const struct omem_decide_state *state,
			   u64 now_ms, u32 interval_ms);
void omem_decide_stats_sent(struct omem_decide_state *state, u64 now_ms);
bool omem_decide_refill(const struct omem_decide_params *params,
			const struct omem_decide_state *state,
			const struct omem_decide_sample *sample,
			u64 reserve_missing_bytes);

#endif /* OMEM_DECIDE_H */
