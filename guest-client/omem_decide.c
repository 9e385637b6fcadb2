// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_decide.c - the memory policy's decision math (see omem_decide.h):
 * thresholds, demand sizing, rate limiting, DENY backoff, surplus
 * hysteresis and the reclaim-cost curve.  Pure: no I/O, no locks, no
 * allocation, time as an argument; built into omem_client.ko and into
 * tests/unit/test-guest-decide.
 */
#include "omem_decide.h"

#include <omem/rpc.h>

#ifdef __KERNEL__
#include <linux/math64.h>
#define omem_decide_div(a, b) div64_u64((a), (b))
#else
#define omem_decide_div(a, b) ((a) / (b))
#endif

#define OMEM_DECIDE_U64_MAX (~(u64)0)

static u64 omem_decide_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

static u64 omem_decide_max(u64 a, u64 b)
{
	return a > b ? a : b;
}

/* a - b, or 0 when b >= a. */
static u64 omem_decide_sub(u64 a, u64 b)
{
	return a > b ? a - b : 0;
}

/* a * percent / 100 without overflow for any byte count a guest has. */
static u64 omem_decide_percent(u64 a, u32 percent)
{
	return omem_decide_div(a, 100) * percent +
	       omem_decide_div((a % 100) * percent, 100);
}

/* Has @ms passed since @since?  A clock that went backwards says no. */
static bool omem_decide_elapsed(u64 now_ms, u64 since_ms, u64 ms)
{
	return now_ms >= since_ms && now_ms - since_ms >= ms;
}

/* Is @now within @ms after @since?  A clock that went backwards says no. */
static bool omem_decide_within(u64 now_ms, u64 since_ms, u64 ms)
{
	return now_ms >= since_ms && now_ms - since_ms < ms;
}

/**
 * omem_decide_round_up() - @bytes rounded up to a multiple of @granule
 * @bytes:   any amount.
 * @granule: the step (0 leaves @bytes alone).
 *
 * Return: the multiple, or the largest multiple below 2^64 if rounding up
 * would overflow.
 */
u64 omem_decide_round_up(u64 bytes, u64 granule)
{
	u64 rest;

	if (!granule)
		return bytes;
	rest = bytes % granule;
	if (!rest)
		return bytes;
	if (bytes > OMEM_DECIDE_U64_MAX - (granule - rest))
		return bytes - rest;
	return bytes + (granule - rest);
}

/**
 * omem_decide_memmap_bytes() - memory the memmap of @bytes plugged costs
 * @params: for the page size.
 * @bytes:  memory about to be plugged.
 *
 * Onlining memory allocates its struct pages from memory the guest has
 * already: a demand must be made while that is still there.
 *
 * Return: bytes of struct page for @bytes.
 */
u64 omem_decide_memmap_bytes(const struct omem_decide_params *params, u64 bytes)
{
	u64 page = params->page_bytes ? params->page_bytes : 4096;

	return omem_decide_div(omem_decide_round_up(bytes, page), page) *
	       OMEM_DECIDE_STRUCT_PAGE_BYTES;
}

/**
 * omem_decide_marks() - the thresholds for @sample under the current trend
 * @params: tunables and contract.
 * @state:  the policy's memory (its consumption trend).
 * @sample: the guest's figures now.
 * @marks:  filled in; see struct omem_decide_marks for the rules.
 *
 * Why the trend is in the marks and not only in the demand's size: under
 * TCG a plug arrives seconds after the DEMAND (256 MiB in ~1-3 s on a
 * busy host), while a workload takes up to ~130 MiB/s.  A fixed early
 * mark (68 MiB on the 256 MiB test guest) lasts half a second at that
 * rate: the boot RAM fills before the plug, and then onlining the next
 * block cannot get its memmap.  So the guest asks once MemAvailable minus
 * what the trend takes in trend_lead_ms is under twice the low mark.
 */
void omem_decide_marks(const struct omem_decide_params *params,
		       const struct omem_decide_state *state,
		       const struct omem_decide_sample *sample,
		       struct omem_decide_marks *marks)
{
	u64 contract_total = params->boot_bytes + sample->plugged_bytes;
	u64 buffer = omem_decide_percent(contract_total, params->buffer_percent);
	u64 base = omem_decide_max(params->low_floor_bytes,
				   omem_decide_percent(sample->total_bytes,
						       params->low_percent));
	u64 left, grant;

	marks->lead_bytes = omem_decide_div(omem_decide_min(state->drop_rate, 1ULL << 40) *
					    params->trend_lead_ms, 1000);
	grant = omem_decide_round_up(omem_decide_max(marks->lead_bytes + buffer, 1),
				     params->granule_bytes);
	/* Without a contract (no session) max is 0: count one granule. */
	left = params->max_bytes ?
	       omem_decide_sub(params->max_bytes, contract_total) : params->granule_bytes;
	marks->grant_bytes = omem_decide_min(grant, left);
	marks->low_bytes = base + omem_decide_memmap_bytes(params, marks->grant_bytes);
	marks->early_bytes = 2 * marks->low_bytes + marks->lead_bytes;
	marks->keep_bytes = marks->early_bytes + buffer;
	marks->high_bytes = marks->keep_bytes + params->granule_bytes;
}

/**
 * omem_decide_session_reset() - a new session opens: forget the old one
 * @state: the policy's memory.
 *
 * The old omemd's DEMAND in flight, its GRANT still arriving, its DENY
 * backoff and the spacing of what was sent to it mean nothing to the new
 * one (which reads the plug in flight from libvirt itself).  The
 * consumption trend and the surplus hysteresis are about the guest and
 * stay: a workload that was growing when omemd died is still growing,
 * and the first sample of the new session must ask for it at once.
 */
void omem_decide_session_reset(struct omem_decide_state *state)
{
	state->demand_outstanding = false;
	state->demand_seq = 0;
	state->demand_sent_ms = 0;
	state->critical_outstanding = false;
	state->critical_seq = 0;
	state->critical_sent_ms = 0;
	state->demand_sent_any = false;
	state->last_demand_ms = 0;
	state->deny_until_ms = 0;
	state->grant_pending = false;
	state->grant_target_plugged = 0;
	state->grant_ms = 0;
	state->surplus_sent_any = false;
	state->last_surplus_ms = 0;
	state->stats_sent_any = false;
	state->last_stats_ms = 0;
}

/**
 * omem_decide_observe() - feed one sample to the trend and the hysteresis
 * @state:  the policy's memory.
 * @params: tunables and contract.
 * @sample: the guest's figures now; call once per sample, with or without
 *          a session, before omem_decide_demand() and
 *          omem_decide_surplus().
 *
 * The trend is how fast used memory (sample->used_bytes) grew over
 * the last complete window, or half the previous trend if more; the
 * hysteresis is how long MemAvailable has stayed over the high mark with
 * something plugged.
 */
void omem_decide_observe(struct omem_decide_state *state,
			 const struct omem_decide_params *params,
			 const struct omem_decide_sample *sample)
{
	u64 avail = sample->available_bytes, now = sample->now_ms;
	u64 used = sample->used_bytes;
	struct omem_decide_marks marks;

	if (!state->trend_started || now < state->trend_start_ms) {
		state->trend_started = true;
		state->trend_start_ms = now;
		state->trend_start_used = used;
		state->drop_rate = 0;
	} else if (now - state->trend_start_ms >= omem_decide_max(params->trend_window_ms, 1)) {
		u64 elapsed = now - state->trend_start_ms;
		u64 growth = omem_decide_sub(used, state->trend_start_used);
		u64 rate;

		/* Bytes per second; growth fits 2^44 and elapsed ms 2^20, so
		 * growth * 1000 cannot overflow before the division. */
		rate = omem_decide_div(omem_decide_min(growth, 1ULL << 44) * 1000, elapsed);
		state->drop_rate = omem_decide_max(rate, state->drop_rate / 2);
		state->trend_start_ms = now;
		state->trend_start_used = used;
	}

	omem_decide_marks(params, state, sample, &marks);
	if (sample->plugged_bytes && avail >= marks.high_bytes) {
		if (!state->above_high) {
			state->above_high = true;
			state->above_since_ms = now;
		}
	} else {
		state->above_high = false;
	}
}

/* Forget a DEMAND answer or a GRANT that will not come or arrive. */
static void omem_decide_expire(struct omem_decide_state *state,
			       const struct omem_decide_params *params,
			       const struct omem_decide_sample *sample)
{
	u64 now = sample->now_ms;

	if (state->demand_outstanding &&
	    omem_decide_elapsed(now, state->demand_sent_ms, params->reply_timeout_ms))
		state->demand_outstanding = false;
	if (state->critical_outstanding &&
	    omem_decide_elapsed(now, state->critical_sent_ms, params->reply_timeout_ms))
		state->critical_outstanding = false;
	if (state->grant_pending &&
	    (sample->plugged_bytes >= state->grant_target_plugged ||
	     omem_decide_elapsed(now, state->grant_ms, params->grant_timeout_ms)))
		state->grant_pending = false;
}

/**
 * omem_decide_demand() - should the guest ask for memory now, and how?
 * @state:  the policy's memory.
 * @params: tunables and contract.
 * @sample: the guest's figures now (after omem_decide_observe()).
 * @oom:    the OOM notifier fired since the last call.
 * @demand: filled in when the answer is OMEM_DECIDE_SEND.
 *
 * Urgency: CRITICAL on OOM; otherwise, under the early mark (which holds
 * what the trend consumes in trend_lead_ms), HIGH if the shrinker saw
 * reclaim within reclaim_window_ms, else NORMAL under the low mark and
 * LOW above it.  Size: what brings MemAvailable back to the early mark
 * (so the trend's lead is in it), plus the memmap of what is asked, plus
 * buffer_percent of the contract total, rounded up to the granule, and
 * never past the cap (or max).  Rate: one non-critical DEMAND in flight,
 * spaced by demand_interval_ms; a CRITICAL one may join a non-critical
 * one in flight but never another CRITICAL one; a DENY's retry_after_ms
 * holds back every urgency.
 *
 * While granted memory is still arriving, a DEMAND of any urgency goes
 * only if the need exceeds what is arriving: under TCG a plug takes
 * seconds per 256 MiB while a workload may take 128 MiB/s, and waiting
 * for the whole grant before asking again leaves the workload the boot
 * RAM to eat.  A non-critical one carries the whole need: omemd counts
 * its plug in flight against it (docs/omemd.md), so subtracting it here
 * too would ask for too little; a CRITICAL one asks only beyond it.
 *
 * Return: OMEM_DECIDE_SEND, or why not.
 */
enum omem_decide_hold omem_decide_demand(struct omem_decide_state *state,
					 const struct omem_decide_params *params,
					 const struct omem_decide_sample *sample,
					 bool oom, struct omem_decide_demand *demand)
{
	u64 now = sample->now_ms, avail = sample->available_bytes;
	u64 want, pending = 0, room, contract_total, limit;
	struct omem_decide_marks marks;
	bool reclaim_recent, critical;
	u32 urgency, reasons = 0;

	omem_decide_expire(state, params, sample);
	omem_decide_marks(params, state, sample, &marks);
	reclaim_recent = sample->reclaim_ms && now >= sample->reclaim_ms &&
			 now - sample->reclaim_ms <= params->reclaim_window_ms;

	if (avail < marks.early_bytes)
		reasons |= OMEM_RPC_REASON_WATERMARK;
	if (reclaim_recent && avail < marks.early_bytes)
		reasons |= OMEM_RPC_REASON_RECLAIM;
	if (oom) {
		reasons |= OMEM_RPC_REASON_OOM;
		urgency = OMEM_RPC_URGENCY_CRITICAL;
	} else if (avail >= marks.early_bytes) {
		return OMEM_DECIDE_NO_NEED;
	} else if (reclaim_recent) {
		urgency = OMEM_RPC_URGENCY_HIGH;
	} else if (avail < marks.low_bytes) {
		urgency = OMEM_RPC_URGENCY_NORMAL;
	} else {
		urgency = OMEM_RPC_URGENCY_LOW;
	}
	critical = urgency == OMEM_RPC_URGENCY_CRITICAL;

	if (state->critical_outstanding)
		return OMEM_DECIDE_OUTSTANDING;
	if (!critical) {
		if (state->demand_outstanding)
			return OMEM_DECIDE_OUTSTANDING;
		if (state->demand_sent_any &&
		    !omem_decide_elapsed(now, state->last_demand_ms, params->demand_interval_ms))
			return OMEM_DECIDE_INTERVAL;
	}
	if (state->deny_until_ms && now < state->deny_until_ms)
		return OMEM_DECIDE_DENIED;

	if (state->grant_pending)
		pending = omem_decide_sub(state->grant_target_plugged, sample->plugged_bytes);
	contract_total = params->boot_bytes + sample->plugged_bytes;
	want = omem_decide_sub(marks.early_bytes, avail) +
	       omem_decide_percent(contract_total, params->buffer_percent);
	if (!want)
		want = 1;	/* OOM with MemAvailable above the marks */
	want += omem_decide_memmap_bytes(params,
					 omem_decide_round_up(want, params->granule_bytes));
	want = omem_decide_round_up(want, params->granule_bytes);
	if (want <= pending)
		return OMEM_DECIDE_GRANT_PENDING;
	if (!critical)
		pending = 0;	/* omemd counts it itself */
	want -= pending;

	room = omem_decide_sub(params->cap_bytes, contract_total + pending);
	limit = omem_decide_sub(params->max_bytes, params->boot_bytes);
	want = omem_decide_min(want, omem_decide_min(room, limit));
	if (!want)
		return OMEM_DECIDE_AT_CAP;

	demand->urgency = urgency;
	demand->reasons = reasons;
	demand->bytes = want;
	return OMEM_DECIDE_SEND;
}

/**
 * omem_decide_demand_sent() - a DEMAND went out
 * @state:   the policy's memory.
 * @params:  tunables (the surplus hold's bounds and regret window).
 * @now_ms:  when.
 * @seq:     the seq it carried (GRANT/DENY answer it).
 * @urgency: its urgency.
 */
void omem_decide_demand_sent(struct omem_decide_state *state,
			     const struct omem_decide_params *params, u64 now_ms,
			     u32 seq, u32 urgency)
{
	/* Memory given back this recently was needed after all: hold the
	 * next surplus longer (once per give-back, whatever the urgency). */
	if (state->gave_any && !state->gave_regretted &&
	    omem_decide_within(now_ms, state->gave_ms, params->surplus_regret_ms)) {
		u32 hold = omem_decide_surplus_hold(params, state);

		state->hold_ms = hold > params->surplus_hold_max_ms / 2 ?
				 params->surplus_hold_max_ms : 2 * hold;
		state->gave_regretted = true;
	}
	state->needed_any = true;
	state->needed_ms = now_ms;
	if (urgency == OMEM_RPC_URGENCY_CRITICAL) {
		state->critical_outstanding = true;
		state->critical_seq = seq;
		state->critical_sent_ms = now_ms;
		return;
	}
	state->demand_outstanding = true;
	state->demand_seq = seq;
	state->demand_sent_ms = now_ms;
	state->demand_sent_any = true;
	state->last_demand_ms = now_ms;
}

/* Clear the outstanding DEMAND @reply_to names; false if none does. */
static bool omem_decide_answered(struct omem_decide_state *state, u32 reply_to)
{
	if (state->demand_outstanding && state->demand_seq == reply_to) {
		state->demand_outstanding = false;
		return true;
	}
	if (state->critical_outstanding && state->critical_seq == reply_to) {
		state->critical_outstanding = false;
		return true;
	}
	return false;
}

/**
 * omem_decide_grant() - GRANT arrived
 * @state:        the policy's memory.
 * @params:       contract (boot size).
 * @now_ms:       when.
 * @reply_to:     the DEMAND it answers.
 * @target_bytes: the contract total the device is now asked to reach.
 *
 * Until the guest's plugged memory reaches the target (or
 * grant_timeout_ms passes), no further non-critical DEMAND goes out.
 *
 * Return: true if it answered a DEMAND in flight; false for a stale or
 * unknown one, which changes nothing.
 */
bool omem_decide_grant(struct omem_decide_state *state,
		       const struct omem_decide_params *params, u64 now_ms,
		       u32 reply_to, u64 target_bytes)
{
	u64 target_plugged = omem_decide_sub(target_bytes, params->boot_bytes);

	if (!omem_decide_answered(state, reply_to))
		return false;
	if (!state->grant_pending || target_plugged > state->grant_target_plugged)
		state->grant_target_plugged = target_plugged;
	state->grant_pending = true;
	state->grant_ms = now_ms;
	return true;
}

/**
 * omem_decide_deny() - DENY arrived
 * @state:          the policy's memory.
 * @params:         contract (demand interval).
 * @now_ms:         when.
 * @reply_to:       the DEMAND it answers.
 * @reason:         enum omem_rpc_deny_reason.
 * @retry_after_ms: the host's backoff.
 *
 * The backoff holds even for a DENY that answers nothing in flight (the
 * host said "not now").  A 0 backoff means the demand interval, or
 * OMEM_DECIDE_DENY_STICKY_MS for CAP and FROZEN, which retrying does not
 * change.
 *
 * Return: true if it answered a DEMAND in flight.
 */
bool omem_decide_deny(struct omem_decide_state *state,
		      const struct omem_decide_params *params, u64 now_ms,
		      u32 reply_to, u32 reason, u32 retry_after_ms)
{
	bool matched = omem_decide_answered(state, reply_to);
	u64 wait = retry_after_ms;

	if (!wait)
		wait = reason == OMEM_RPC_DENY_CAP || reason == OMEM_RPC_DENY_FROZEN ?
		       OMEM_DECIDE_DENY_STICKY_MS : params->demand_interval_ms;
	state->deny_until_ms = omem_decide_max(state->deny_until_ms, now_ms + wait);
	return matched;
}

/**
 * omem_decide_surplus() - should the guest offer memory, and what?
 * @state:   the policy's memory.
 * @params:  tunables and contract.
 * @sample:  the guest's figures now (after omem_decide_observe()).
 * @reclaim: the host sent RECLAIM: answer now, whatever the hysteresis.
 * @surplus: filled in when the answer is true.
 *
 * Unsolicited: MemAvailable has stayed over the high mark for the hold
 * (omem_decide_surplus_hold()), no SURPLUS went in the last surplus_interval_ms, no
 * DEMAND or GRANT is in flight.  The offer is the cost curve of plugged
 * memory (ZONE_MOVABLE, at most what is plugged), free pages first, then
 * clean cache, and never more than leaves the guest its keep mark (the
 * early mark when answering RECLAIM), so that taking all of it does not
 * make the guest ask again.
 *
 * Return: true if a SURPLUS is to be sent.
 */
bool omem_decide_surplus(struct omem_decide_state *state,
			 const struct omem_decide_params *params,
			 const struct omem_decide_sample *sample,
			 bool reclaim, struct omem_decide_surplus *surplus)
{
	u64 now = sample->now_ms, keep, limit;
	struct omem_decide_marks marks;

	omem_decide_expire(state, params, sample);
	if (!reclaim) {
		if (!state->above_high ||
		    !omem_decide_elapsed(now, state->above_since_ms,
					 omem_decide_surplus_hold(params, state)))
			return false;
		if (state->surplus_sent_any &&
		    !omem_decide_elapsed(now, state->last_surplus_ms, params->surplus_interval_ms))
			return false;
		if (state->demand_outstanding || state->critical_outstanding ||
		    state->grant_pending)
			return false;
	}

	omem_decide_marks(params, state, sample, &marks);
	keep = reclaim ? marks.early_bytes : marks.keep_bytes;
	limit = omem_decide_min(omem_decide_sub(sample->available_bytes, keep),
				omem_decide_min(sample->movable_bytes, sample->plugged_bytes));
	surplus->free_bytes = omem_decide_min(sample->movable_free_bytes, limit);
	surplus->clean_cache_bytes = omem_decide_min(sample->movable_clean_bytes,
						     limit - surplus->free_bytes);
	surplus->unpluggable_bytes = surplus->free_bytes + surplus->clean_cache_bytes;
	return reclaim || surplus->unpluggable_bytes;
}

/**
 * omem_decide_surplus_sent() - a SURPLUS went out
 * @state:   the policy's memory.
 * @now_ms:  when.
 * @params:  tunables (the surplus hold's bounds and regret window).
 * @reclaim: it answered RECLAIM (it still counts for the spacing, not for
 *           the hold).
 */
void omem_decide_surplus_sent(struct omem_decide_state *state,
			      const struct omem_decide_params *params, u64 now_ms,
			      bool reclaim)
{
	state->surplus_sent_any = true;
	state->last_surplus_ms = now_ms;
	/* Memory the host took by RECLAIM says nothing of the guest's
	 * judgement: only an offer of its own is remembered. */
	if (reclaim)
		return;
	/* Calm for a whole regret window before this give-back: the hold
	 * earned by earlier regrets halves back toward the shortest. */
	if (!state->needed_any ||
	    !omem_decide_within(now_ms, state->needed_ms, params->surplus_regret_ms))
		state->hold_ms = omem_decide_surplus_hold(params, state) / 2;
	state->gave_any = true;
	state->gave_ms = now_ms;
	state->gave_regretted = false;
}

/**
 * omem_decide_surplus_hold() - how long the guest holds a surplus now
 * @params: the hold's bounds.
 * @state:  the policy's memory (its hold).
 *
 * A guest starts with the shortest hold, so that memory a workload frees
 * goes back in seconds.  Each give-back the guest then has to ask back
 * within surplus_regret_ms doubles the hold, up to surplus_hold_max_ms:
 * a workload that returns every half minute soon keeps its memory
 * through the lull instead of plugging and unplugging it each time.  A
 * give-back after a whole regret window without a DEMAND halves it.
 * RECLAIM ignores the hold: the host can always take the memory.
 *
 * Return: the hold in ms, within [surplus_hold_ms, surplus_hold_max_ms]
 * (surplus_hold_ms alone when the maximum is below it).
 */
u32 omem_decide_surplus_hold(const struct omem_decide_params *params,
			     const struct omem_decide_state *state)
{
	u32 hold = state->hold_ms;

	if (hold > params->surplus_hold_max_ms)
		hold = params->surplus_hold_max_ms;
	if (hold < params->surplus_hold_ms)
		hold = params->surplus_hold_ms;
	return hold;
}

/**
 * omem_decide_stats_due() - is it time for STATS?
 * @state:       the policy's memory.
 * @now_ms:      now.
 * @interval_ms: the contract's stats_interval_ms (0: never).
 *
 * Return: true if STATS should go now.
 */
bool omem_decide_stats_due(const struct omem_decide_state *state,
			   u64 now_ms, u32 interval_ms)
{
	if (!interval_ms)
		return false;
	return !state->stats_sent_any ||
	       omem_decide_elapsed(now_ms, state->last_stats_ms, interval_ms);
}

/* STATS went out at @now_ms. */
void omem_decide_stats_sent(struct omem_decide_state *state, u64 now_ms)
{
	state->stats_sent_any = true;
	state->last_stats_ms = now_ms;
}

/**
 * omem_decide_refill() - may the OOM reserve take memory back now?
 * @params:                tunables (marks).
 * @state:                 the policy's memory (the trend, for the marks).
 * @sample:                the guest's figures now.
 * @reserve_missing_bytes: what the reserve lacks.
 *
 * Only when MemAvailable, after the refill, would still be above the
 * early mark by as much again: refilling must never be what makes the
 * guest ask for memory.
 *
 * Return: true if the reserve may be refilled in full now.
 */
bool omem_decide_refill(const struct omem_decide_params *params,
			const struct omem_decide_state *state,
			const struct omem_decide_sample *sample,
			u64 reserve_missing_bytes)
{
	struct omem_decide_marks marks;

	if (!reserve_missing_bytes)
		return false;
	omem_decide_marks(params, state, sample, &marks);
	return sample->available_bytes >= marks.early_bytes + 2 * reserve_missing_bytes;
}
