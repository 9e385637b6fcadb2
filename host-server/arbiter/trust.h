/* SPDX-License-Identifier: MIT */
/*
 * trust: how far omemd believes one guest.  A guest
 * may lie in two ways the protocol cannot refuse as malformed: it asks for
 * memory it does not need (a DEMAND while plenty is available, or memory
 * granted and then never touched), or it offers memory back that it cannot
 * release (a SURPLUS over what its own STATS show available, or one whose
 * unplug stalls).  Each contradiction between
 * what the guest says and what it does is a strike; strikes_to_distrust
 * strikes within strike_window_ms lower its trust for distrust_ms: its
 * DEMANDs then get at most one small step per interval and its SURPLUS
 * figures are not used for reclaim decisions.  No other VM notices.
 *
 * The rules are written so that a guest running omem_client.ko honestly
 * is never distrusted, whatever its workload does (guest-client/
 * omem_decide.c is the reference for when an honest guest asks):
 *
 * - A DEMAND is judged by its own figures only at NORMAL urgency: the
 *   module sends NORMAL only when MemAvailable is under its low mark,
 *   max(32 MiB, 5 % of MemTotal) + the memmap of one grant, and asks for
 *   at least the low mark again.  LOW and HIGH add the consumption trend
 *   to the mark (a fast workload may ask with most of its memory still
 *   available), and CRITICAL comes from the OOM notifier: neither says
 *   anything by itself.
 * - Granted memory that stays untouched is only a strike when the guest
 *   asks again while it still is: a workload that got memory and then
 *   exited has not lied.
 * - A SURPLUS is checked against the STATS the module sends from the
 *   same sample just before it; the offer is at most that MemAvailable
 *   minus the module's keep mark, and a strike needs it exceeded by
 *   max(64 MiB, 25 %).  Catching the lie there costs the guest nothing:
 *   the offer is ignored, so no memory it uses is migrated.
 * - A stalled unplug is a strike only when less than half of the offer
 *   came out: pages pinned after the offer explain a little, not most.
 *
 * Pure logic: no I/O, no logging, no clock (time is passed in); the
 * caller (daemon/vm.c) logs one line per change (trust_take_change).
 * Units: bytes and milliseconds of a monotonic clock.
 */
#ifndef OMEM_TRUST_H
#define OMEM_TRUST_H

#include <stdbool.h>
#include <stdint.h>

/* Most strikes remembered; strikes_to_distrust is clamped to it. */
#define TRUST_STRIKES_MAX 16

/* Tunables (defaults in trust_config_init). */
typedef struct {
	uint32_t strikes_to_distrust;    /* contradictions before trust is lowered (3) */
	uint32_t strike_window_ms;       /* strikes older than this are forgotten (120000) */
	uint32_t distrust_ms;            /* how long lowered trust lasts without a new strike (600000) */
	uint64_t distrusted_step_bytes;  /* a distrusted guest gets at most this per grant (128 MiB) ... */
	uint32_t distrusted_interval_ms; /* ... and at most one grant per this (10000) */
	uint32_t stats_settle_ms;        /* a STATS this long after a grant's plug judges it (3000) */
} TrustConfig;

/*
 * One VM's trust: plain data, all zero = trusted with a clean record.
 * Only trust_*() touch it.
 */
typedef struct {
	/* The record. */
	int64_t strike_ms[TRUST_STRIKES_MAX]; /* when the remembered strikes came, oldest first */
	uint32_t strike_count;           /* remembered strikes (within strike_window_ms) */
	uint64_t strikes_total;          /* every strike since the last trust_reset, for status */
	char why[96];                    /* the last strike's reason, for the log line */

	/* Lowered trust. */
	bool distrusted;                 /* trust is lowered ... */
	int64_t distrusted_until_ms;     /* ... until this, unless a new strike moves it */
	bool reported_distrusted;        /* what trust_take_change last told the caller */

	/* While distrusted: the steps granted in the current interval. */
	int64_t interval_start_ms;       /* when the interval's first step was granted */
	uint64_t interval_granted_bytes; /* granted since then */
	bool interval_critical_used;     /* a CRITICAL DEMAND took its extra step in it */
	bool last_demand_critical_extra; /* the last allowance was that extra step */

	/* The last DEMAND, for the grant that may answer it. */
	bool demand_seen;                /* a DEMAND came this session */
	uint64_t demand_available_bytes; /* the MemAvailable it claimed */

	/* Grants not judged yet: from the first grant until a STATS decides
	 * whether the memory was used (see trust_stats). */
	bool episode_open;               /* grants wait for a judgement */
	uint64_t episode_claimed_bytes;  /* MemAvailable the first one's DEMAND claimed */
	uint64_t episode_granted_bytes;  /* everything granted since, plugged or not */
	bool episode_plugged;            /* one of them is plugged ... */
	int64_t episode_plugged_ms;      /* ... since this (the first plug) */
	bool episode_untouched;          /* the latest STATS showed the grants unused */
} Trust;

/* Fill @config with the defaults above. */
void trust_config_init(TrustConfig *config);

/*
 * A DEMAND arrives.  @available_bytes is what the DEMAND itself says
 * (omem_rpc_demand.available_bytes), @guest_total_bytes boot + plugged.
 * Returns the most that may be granted now (UINT64_MAX: no limit), and
 * sets *ret_why when trust is lowered and limits it, or when this DEMAND
 * itself is a contradiction (then it also counts a strike; the text
 * stays valid until the next call on @trust).
 */
uint64_t trust_demand_allowance(Trust *trust, const TrustConfig *config, uint64_t demand_bytes,
				uint64_t available_bytes, uint64_t guest_total_bytes, uint32_t urgency,
				int64_t now_ms, const char **ret_why);

/* A grant raised requested by @granted_bytes at @now_ms (the caller calls
 * this after a GRANT). */
void trust_granted(Trust *trust, uint64_t granted_bytes, int64_t now_ms);

/* The grant's memory is plugged (plugged reached the granted requested)
 * at @now_ms. */
void trust_plugged(Trust *trust, int64_t now_ms);

/*
 * A STATS: the guest's MemAvailable and MemTotal.  When it comes
 * stats_settle_ms or more after the first plug of the grants not judged
 * yet, it judges them: available >= what their first DEMAND claimed + 75 %
 * of everything granted means the memory went unused.  That is only
 * remembered here; the strike ("asked for memory it never used") comes
 * at the next DEMAND that still shows it.
 */
void trust_stats(Trust *trust, const TrustConfig *config, uint64_t available_bytes,
		 uint64_t total_bytes, int64_t now_ms);

/*
 * A SURPLUS arrives offering @offered_bytes (the most an unplug can take,
 * as the SURPLUS itself bounds it).  When @stats_known, @stats_available_bytes
 * is MemAvailable from the guest's latest STATS this session.  The module
 * sends a STATS from the same sample just before every SURPLUS, and never
 * offers more than that sample's MemAvailable minus its keep mark, so an
 * honest offer fits under it.  An offer over it by more than
 * max(64 MiB, a quarter of it) is a contradiction: a strike, and nothing of
 * it may be believed (returns 0, *ret_why set; valid until the next call
 * on @trust).  Otherwise returns how much may be believed: the offer, at
 * most what the STATS showed available.  Without a STATS the offer is
 * taken as it is (a stalled unplug still judges it, below).
 */
uint64_t trust_surplus_offer(Trust *trust, const TrustConfig *config, uint64_t offered_bytes,
			     bool stats_known, uint64_t stats_available_bytes, int64_t now_ms,
			     const char **ret_why);

/*
 * A SURPLUS-driven shrink's unplug stalled (the guest offered memory it
 * could not release): a strike when under half of @offered_bytes (what
 * the SURPLUS said was unpluggable) came out (@released_bytes) before the
 * stall.
 */
void trust_surplus_stalled(Trust *trust, const TrustConfig *config, uint64_t offered_bytes,
			   uint64_t released_bytes, int64_t now_ms);

/* Whether the guest's SURPLUS/report figures may be believed for reclaim
 * decisions now. */
bool trust_believe_surplus(const Trust *trust, int64_t now_ms);

/*
 * Trust state changes since the last call, for the caller's one log line
 * per change: returns true once when trust was just lowered (with
 * *ret_why, the strike that lowered it) or just restored (*ret_why NULL).
 * A restore is noticed by any call that carries the time, or by
 * trust_update.
 */
bool trust_take_change(Trust *trust, bool *ret_distrusted, const char **ret_why);

/* Whether trust is lowered at @now_ms. */
bool trust_distrusted(const Trust *trust, int64_t now_ms);

/* Restore trust when distrust_ms passed without a strike (for a caller's
 * timer; the other calls with a time do it too). */
void trust_update(Trust *trust, int64_t now_ms);

/*
 * A new session (HELLO) on the same guest kernel: the grants in flight
 * and the last DEMAND belong to the old session and are forgotten, but
 * the record and lowered trust stay (a reconnect must not wash them).
 */
void trust_session_reset(Trust *trust);

/*
 * A reboot: a new kernel, a new guest; everything is forgotten.  If
 * trust was lowered, trust_take_change reports it restored.
 */
void trust_reset(Trust *trust);

#endif /* OMEM_TRUST_H */
