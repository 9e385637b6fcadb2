/* SPDX-License-Identifier: MIT */
/*
 * trust: how far omemd believes one guest (see trust.h for the rules and
 * why each one cannot hit an honest guest, and docs/omemd.md).
 */
#include "config.h"

#include "arbiter/trust.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <omem/rpc.h>

#define TRUST_MIB ((uint64_t)1024 * 1024)

/* Untouched means at least this share of the grants is still available:
 * the rest allows for what the kernel and an idle guest's caches take. */
#define TRUST_UNTOUCHED_PERCENT 75

void trust_config_init(TrustConfig *config)
{
	*config = (TrustConfig){
		.strikes_to_distrust = 3,
		.strike_window_ms = 120000,
		.distrust_ms = 600000,
		.distrusted_step_bytes = 128 * TRUST_MIB,
		.distrusted_interval_ms = 10000,
		.stats_settle_ms = 3000,
	};
}

static uint64_t trust_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Has @ms passed from @since to @now?  A clock that went back says no. */
static bool trust_elapsed(int64_t now_ms, int64_t since_ms, uint32_t ms)
{
	return now_ms >= since_ms && (uint64_t)(now_ms - since_ms) >= ms;
}

static void trust_episode_close(Trust *trust)
{
	trust->episode_open = false;
	trust->episode_claimed_bytes = 0;
	trust->episode_granted_bytes = 0;
	trust->episode_plugged = false;
	trust->episode_plugged_ms = 0;
	trust->episode_untouched = false;
}

/* What MemAvailable still shows when the open grants were never used. */
static uint64_t trust_episode_threshold(const Trust *trust)
{
	uint64_t granted = trust->episode_granted_bytes;

	return trust_add(trust->episode_claimed_bytes,
			 granted / 100 * TRUST_UNTOUCHED_PERCENT +
			 granted % 100 * TRUST_UNTOUCHED_PERCENT / 100);
}

static void trust_interval_clear(Trust *trust)
{
	trust->interval_start_ms = 0;
	trust->interval_granted_bytes = 0;
	trust->interval_critical_used = false;
	trust->last_demand_critical_extra = false;
}

void trust_update(Trust *trust, int64_t now_ms)
{
	if (!trust->distrusted || now_ms < trust->distrusted_until_ms)
		return;
	/* Served its time: a clean record, or three old strikes plus one
	 * new one would lower it again at once. */
	trust->distrusted = false;
	trust->distrusted_until_ms = 0;
	trust->strike_count = 0;
	trust_interval_clear(trust);
}

/* Count a strike at @now_ms for the reason @fmt; lower trust at the
 * strikes_to_distrust-th within the window, or keep it lowered longer. */
static void __attribute__((format(printf, 4, 5)))
trust_strike(Trust *trust, const TrustConfig *config, int64_t now_ms, const char *fmt, ...)
{
	uint32_t needed = config->strikes_to_distrust, kept = 0, i;
	va_list ap;

	if (needed < 1)
		needed = 1;
	if (needed > TRUST_STRIKES_MAX)
		needed = TRUST_STRIKES_MAX;

	for (i = 0; i < trust->strike_count; i++) {
		if (!trust_elapsed(now_ms, trust->strike_ms[i], config->strike_window_ms))
			trust->strike_ms[kept++] = trust->strike_ms[i];
	}
	trust->strike_count = kept;
	if (trust->strike_count == TRUST_STRIKES_MAX) {
		memmove(trust->strike_ms, trust->strike_ms + 1,
			(TRUST_STRIKES_MAX - 1) * sizeof(trust->strike_ms[0]));
		trust->strike_count--;
	}
	trust->strike_ms[trust->strike_count++] = now_ms;
	trust->strikes_total++;

	va_start(ap, fmt);
	vsnprintf(trust->why, sizeof(trust->why), fmt, ap);
	va_end(ap);

	if (trust->distrusted) {
		trust->distrusted_until_ms = now_ms + config->distrust_ms;
	} else if (trust->strike_count >= needed) {
		trust->distrusted = true;
		trust->distrusted_until_ms = now_ms + config->distrust_ms;
		trust_interval_clear(trust);
	}
}

/*
 * A NORMAL DEMAND says MemAvailable is under the guest's low mark; the
 * module's low mark is max(32 MiB, 5 % of MemTotal) plus the memmap of one
 * grant (at most 1/64 of it), and the demand is at least that mark again.
 * So an honest NORMAL DEMAND has available < low mark < demand, or, near
 * the cap where the demand is cut, available < low mark, far under half
 * the guest.  Lying takes both: half the guest available (a 2.5x-10x
 * margin over the default mark) and twice the demand (which also covers a
 * guest whose low_percent was raised to its 50 % limit).
 */
static bool trust_demand_contradicts(uint64_t demand_bytes, uint64_t available_bytes,
				     uint64_t guest_total_bytes, uint32_t urgency)
{
	if (urgency != OMEM_RPC_URGENCY_NORMAL || guest_total_bytes == 0)
		return false;
	return available_bytes >= guest_total_bytes / 2 && available_bytes / 2 >= demand_bytes;
}

uint64_t trust_demand_allowance(Trust *trust, const TrustConfig *config, uint64_t demand_bytes,
				uint64_t available_bytes, uint64_t guest_total_bytes, uint32_t urgency,
				int64_t now_ms, const char **ret_why)
{
	bool critical = urgency == OMEM_RPC_URGENCY_CRITICAL;
	uint64_t step = config->distrusted_step_bytes, room;

	trust_update(trust, now_ms);
	trust->demand_seen = true;
	trust->demand_available_bytes = available_bytes;
	trust->last_demand_critical_extra = false;

	if (trust_demand_contradicts(demand_bytes, available_bytes, guest_total_bytes, urgency)) {
		trust_strike(trust, config, now_ms,
			     "DEMAND while the guest says %" PRIu64 " MiB are available",
			     available_bytes / TRUST_MIB);
		*ret_why = trust->why;
		return 0;
	}

	/* The last STATS showed the open grants unused: asking again while
	 * this DEMAND's own figure still shows them is the lie; a figure
	 * under it means the memory was used since, and the grants are
	 * judged honest.  Only a NORMAL DEMAND is judged: CRITICAL means the
	 * OOM notifier fired, and LOW and HIGH carry the guest's consumption
	 * trend, so an honest guest with a fast workload asks ahead while
	 * much is still available (a real bystander in hostile.sh was struck
	 * for exactly that). */
	if (trust->episode_open && trust->episode_untouched && urgency == OMEM_RPC_URGENCY_NORMAL) {
		uint64_t threshold = trust_episode_threshold(trust);
		uint64_t granted = trust->episode_granted_bytes;

		trust_episode_close(trust);
		if (available_bytes >= threshold) {
			trust_strike(trust, config, now_ms,
				     "asked for memory it never used (%" PRIu64 " MiB granted, %" PRIu64
				     " MiB available)", granted / TRUST_MIB, available_bytes / TRUST_MIB);
			*ret_why = trust->why;
			return 0;
		}
	}

	if (!trust_distrusted(trust, now_ms))
		return UINT64_MAX;

	if (trust->interval_granted_bytes &&
	    trust_elapsed(now_ms, trust->interval_start_ms, config->distrusted_interval_ms)) {
		trust->interval_granted_bytes = 0;
		trust->interval_critical_used = false;
	}
	room = step > trust->interval_granted_bytes ? step - trust->interval_granted_bytes : 0;
	/* The guest may really be about to OOM: one more step per interval
	 * for CRITICAL, on top of the ordinary one. */
	if (critical && room < step && !trust->interval_critical_used) {
		trust->last_demand_critical_extra = true;
		room = step;
	}
	*ret_why = room ? "trust lowered: one small step per interval" :
			  "trust lowered: this interval's step is taken";
	return room;
}

void trust_granted(Trust *trust, uint64_t granted_bytes, int64_t now_ms)
{
	trust_update(trust, now_ms);
	if (granted_bytes == 0)
		return;

	if (trust->distrusted) {
		if (trust->last_demand_critical_extra) {
			trust->interval_critical_used = true;
		} else {
			if (!trust->interval_granted_bytes)
				trust->interval_start_ms = now_ms;
			trust->interval_granted_bytes =
				trust_add(trust->interval_granted_bytes, granted_bytes);
		}
		trust->last_demand_critical_extra = false;
	}

	/* A grant without a DEMAND's claim (none this session) has nothing
	 * to be compared with. */
	if (!trust->episode_open) {
		if (!trust->demand_seen)
			return;
		trust->episode_open = true;
		trust->episode_claimed_bytes = trust->demand_available_bytes;
	}
	trust->episode_granted_bytes = trust_add(trust->episode_granted_bytes, granted_bytes);
	/* More memory on its way raises the bar: judge again. */
	trust->episode_untouched = false;
}

void trust_plugged(Trust *trust, int64_t now_ms)
{
	trust_update(trust, now_ms);
	/* The first plug starts the settle time: a guest granted again
	 * before each judgement must not escape it. */
	if (trust->episode_open && !trust->episode_plugged) {
		trust->episode_plugged = true;
		trust->episode_plugged_ms = now_ms;
	}
}

void trust_stats(Trust *trust, const TrustConfig *config, uint64_t available_bytes,
		 uint64_t total_bytes, int64_t now_ms)
{
	trust_update(trust, now_ms);
	if (!trust->episode_open || !trust->episode_plugged ||
	    !trust_elapsed(now_ms, trust->episode_plugged_ms, config->stats_settle_ms))
		return;
	/* A report that contradicts itself judges nothing. */
	if (total_bytes && available_bytes > total_bytes)
		return;
	if (available_bytes >= trust_episode_threshold(trust))
		trust->episode_untouched = true;
	else
		trust_episode_close(trust); /* used: honest, whatever follows */
}

/* An offer this far over the STATS's MemAvailable is a lie (trust.h). */
#define TRUST_SURPLUS_SLACK_BYTES (64 * TRUST_MIB)

uint64_t trust_surplus_offer(Trust *trust, const TrustConfig *config, uint64_t offered_bytes,
			     bool stats_known, uint64_t stats_available_bytes, int64_t now_ms,
			     const char **ret_why)
{
	uint64_t slack;

	trust_update(trust, now_ms);
	if (!stats_known || offered_bytes <= stats_available_bytes)
		return offered_bytes;
	slack = stats_available_bytes / 4;
	if (slack < TRUST_SURPLUS_SLACK_BYTES)
		slack = TRUST_SURPLUS_SLACK_BYTES;
	if (offered_bytes - stats_available_bytes <= slack)
		return stats_available_bytes;
	trust_strike(trust, config, now_ms,
		     "offered %" PRIu64 " MiB back while its STATS showed %" PRIu64 " MiB available",
		     offered_bytes / TRUST_MIB, stats_available_bytes / TRUST_MIB);
	*ret_why = trust->why;
	return 0;
}

void trust_surplus_stalled(Trust *trust, const TrustConfig *config, uint64_t offered_bytes,
			   uint64_t released_bytes, int64_t now_ms)
{
	trust_update(trust, now_ms);
	if (offered_bytes == 0 || released_bytes >= offered_bytes - offered_bytes / 2)
		return;
	trust_strike(trust, config, now_ms,
		     "offered %" PRIu64 " MiB back but released %" PRIu64 " MiB",
		     offered_bytes / TRUST_MIB, released_bytes / TRUST_MIB);
}

bool trust_distrusted(const Trust *trust, int64_t now_ms)
{
	return trust->distrusted && now_ms < trust->distrusted_until_ms;
}

bool trust_believe_surplus(const Trust *trust, int64_t now_ms)
{
	return !trust_distrusted(trust, now_ms);
}

bool trust_take_change(Trust *trust, bool *ret_distrusted, const char **ret_why)
{
	if (trust->distrusted == trust->reported_distrusted)
		return false;
	trust->reported_distrusted = trust->distrusted;
	*ret_distrusted = trust->distrusted;
	*ret_why = trust->distrusted ? trust->why : NULL;
	return true;
}

void trust_session_reset(Trust *trust)
{
	trust->demand_seen = false;
	trust->demand_available_bytes = 0;
	trust->last_demand_critical_extra = false;
	trust_episode_close(trust);
}

void trust_reset(Trust *trust)
{
	bool reported = trust->reported_distrusted;

	memset(trust, 0, sizeof(*trust));
	/* So that a reset of a distrusted guest is reported as a restore. */
	trust->reported_distrusted = reported;
}
