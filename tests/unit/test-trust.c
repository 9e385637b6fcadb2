/* SPDX-License-Identifier: MIT */
/*
 * test-trust: a lying guest's trust (host-server/arbiter/trust.c).  Each way
 * to lie (a NORMAL DEMAND with plenty available, asking again while the
 * last grants sit unused, offering more than its STATS show available,
 * offering memory that does not come out), the
 * strike window, what a distrusted guest still gets (CRITICAL included),
 * the restore and its one report, reconnect versus reboot; and the honest
 * sequences of guest-client/omem_decide.c that must never strike: use
 * then free, use then ask again, bursts under a fast trend, a stalled
 * unplug that released most of its offer.  Pure: time passed in.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <omem/rpc.h>

#include "arbiter/trust.h"
#include "tap.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static TrustConfig config;

/* A DEMAND; returns the allowance, *why_out the reason or NULL. */
static uint64_t demand(Trust *trust, uint64_t bytes, uint64_t available, uint64_t total,
		       uint32_t urgency, int64_t now_ms, const char **why_out)
{
	const char *why = NULL;
	uint64_t allowance;

	allowance = trust_demand_allowance(trust, &config, bytes, available, total, urgency,
					   now_ms, &why);
	if (why_out)
		*why_out = why;
	return allowance;
}

/* An honest cycle at @t: DEMAND (NORMAL, @available left), a grant of
 * @granted, plugged a second later. */
static void grant_cycle(Trust *trust, uint64_t available, uint64_t total, uint64_t granted,
			uint32_t urgency, int64_t t)
{
	demand(trust, granted, available, total, urgency, t, NULL);
	trust_granted(trust, granted, t);
	trust_plugged(trust, t + 1000);
}

static void test_config(void)
{
	tap_eq(config.strikes_to_distrust, 3, "default: 3 strikes");
	tap_eq(config.strike_window_ms, 120000, "default: 2 min window");
	tap_eq(config.distrust_ms, 600000, "default: 10 min distrust");
	tap_eq(config.distrusted_step_bytes, 128 * MIB, "default: 128 MiB step");
	tap_eq(config.distrusted_interval_ms, 10000, "default: one step per 10 s");
	tap_eq(config.stats_settle_ms, 3000, "default: 3 s settle");
}

static void test_honest_demand(void)
{
	Trust trust = { 0 };
	const char *why = "unset";

	tap_ok(demand(&trust, 256 * MIB, 30 * MIB, 256 * MIB, OMEM_RPC_URGENCY_NORMAL, 0, &why) ==
	       UINT64_MAX && why == NULL, "zeroed Trust: an honest NORMAL DEMAND is unlimited, no why");
	tap_ok(!trust_distrusted(&trust, 0) && trust_believe_surplus(&trust, 0),
	       "zeroed Trust is trusted and its SURPLUS believed");
	/* Near the cap the module cuts its demand to what is left. */
	tap_ok(demand(&trust, 2 * MIB, 40 * MIB, 256 * MIB, OMEM_RPC_URGENCY_NORMAL, 100, NULL) ==
	       UINT64_MAX, "NORMAL cut by the cap (2 MiB) with 40 MiB available: no strike");
	/* LOW and HIGH carry the trend: a fast workload asks early. */
	tap_ok(demand(&trust, 128 * MIB, 900 * MIB, GIB, OMEM_RPC_URGENCY_LOW, 200, NULL) == UINT64_MAX,
	       "LOW with 900 of 1024 MiB available (fast trend): no strike");
	tap_ok(demand(&trust, 128 * MIB, 900 * MIB, GIB, OMEM_RPC_URGENCY_HIGH, 300, NULL) == UINT64_MAX,
	       "HIGH with 900 of 1024 MiB available: no strike");
	tap_ok(demand(&trust, 2 * MIB, 900 * MIB, GIB, OMEM_RPC_URGENCY_CRITICAL, 400, NULL) == UINT64_MAX,
	       "CRITICAL with 900 of 1024 MiB available (OOM notifier): no strike");
	tap_eq(trust.strikes_total, 0, "no strike from any of them");
}

static void test_demand_contradiction(void)
{
	Trust trust = { 0 };
	const char *why = NULL;

	tap_eq(demand(&trust, 128 * MIB, 255 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 0, NULL),
	       UINT64_MAX, "NORMAL with just under half the guest available: no strike");
	tap_eq(demand(&trust, 200 * MIB, 300 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 10, NULL),
	       UINT64_MAX, "NORMAL with half available but under twice the demand: no strike");
	tap_eq(demand(&trust, 128 * MIB, 300 * MIB, 0, OMEM_RPC_URGENCY_NORMAL, 20, NULL),
	       UINT64_MAX, "guest total unknown (0): not judged");
	tap_eq(trust.strikes_total, 0, "none of those struck");

	tap_eq(demand(&trust, 128 * MIB, 300 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 30, &why), 0,
	       "NORMAL 128 MiB with 300 of 512 MiB available: allowance 0");
	tap_ok(why && strcmp(why, "DEMAND while the guest says 300 MiB are available") == 0,
	       "why: '%s'", why ? why : "(null)");
	tap_eq(trust.strikes_total, 1, "one strike");
	tap_ok(!trust_distrusted(&trust, 30), "one strike does not lower trust");
}

static void test_strikes_and_change(void)
{
	Trust trust = { 0 };
	const char *why = NULL;
	bool distrusted = false;
	int t;

	for (t = 0; t < 2; t++)
		demand(&trust, 128 * MIB, 400 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t * 200, NULL);
	tap_ok(!trust_distrusted(&trust, 400), "two strikes: still trusted");
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "no change to report yet");
	demand(&trust, 128 * MIB, 400 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 400, NULL);
	tap_ok(trust_distrusted(&trust, 400), "third strike within the window lowers trust");
	tap_ok(!trust_believe_surplus(&trust, 400), "a distrusted guest's SURPLUS is not believed");
	tap_ok(trust_take_change(&trust, &distrusted, &why) && distrusted &&
	       why && strstr(why, "400 MiB are available"),
	       "the change is reported, lowered, with the strike's why");
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "... exactly once");
	/* More strikes while distrusted: no further report. */
	demand(&trust, 128 * MIB, 400 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 600, NULL);
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "a strike while distrusted reports nothing");
}

static void test_window(void)
{
	Trust trust = { 0 };
	int64_t t = 0;
	int i;

	/* Three strikes 59 s apart fit in 120 s; 61 s apart they do not. */
	for (i = 0; i < 3; i++, t += 59000)
		trust_surplus_stalled(&trust, &config, 256 * MIB, 0, t);
	tap_ok(trust_distrusted(&trust, t), "strikes 59 s apart: the third lowers trust");
	trust = (Trust){ 0 };
	for (i = 0, t = 0; i < 6; i++, t += 61000)
		trust_surplus_stalled(&trust, &config, 256 * MIB, 0, t);
	tap_ok(!trust_distrusted(&trust, t), "strikes 61 s apart: never three within 120 s");

	trust = (Trust){ 0 };
	t = 0;
	for (i = 0; i < 6; i++, t += 120000)
		trust_surplus_stalled(&trust, &config, 256 * MIB, 0, t);
	tap_ok(!trust_distrusted(&trust, t), "strikes 120 s apart: the old ones are forgotten");
	tap_eq(trust.strikes_total, 6, "... though all six are counted in the total");

	trust = (Trust){ 0 };
	trust_surplus_stalled(&trust, &config, 256 * MIB, 0, 0);
	trust_surplus_stalled(&trust, &config, 256 * MIB, 0, 100000);
	trust_surplus_stalled(&trust, &config, 256 * MIB, 0, 125000);
	tap_ok(!trust_distrusted(&trust, 125000), "sliding window: the first strike left before the third");
	trust_surplus_stalled(&trust, &config, 256 * MIB, 0, 130000);
	tap_ok(trust_distrusted(&trust, 130000), "... and the fourth makes three within the window");
}

/* Lowered trust from @t on (three surplus strikes). */
static void distrust(Trust *trust, int64_t t)
{
	int i;

	for (i = 0; i < 3; i++)
		trust_surplus_stalled(trust, &config, 512 * MIB, 0, t);
}

static void test_distrusted_allowance(void)
{
	Trust trust = { 0 };
	const char *why = NULL;
	int64_t t = 1000;

	distrust(&trust, t);
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t, &why), 128 * MIB,
	       "distrusted: a 1 GiB DEMAND may get one 128 MiB step");
	tap_ok(why != NULL, "... with a why (%s)", why ? why : "(null)");
	trust_granted(&trust, 128 * MIB, t);
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 5000, &why), 0,
	       "5 s later: nothing, the interval's step is taken");
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_HIGH, t + 9999, NULL), 0,
	       "HIGH at 9.999 s: nothing either");
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 10000, NULL),
	       128 * MIB, "10 s later: the next step");
	trust_granted(&trust, 64 * MIB, t + 10000);
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 11000, NULL),
	       64 * MIB, "a 64 MiB grant leaves 64 MiB of the step");
	trust_granted(&trust, 64 * MIB, t + 11000);
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 12000, NULL), 0,
	       "... and then nothing");

	/* CRITICAL: one more step in the interval, not two. */
	tap_eq(demand(&trust, GIB, 5 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, t + 13000, &why),
	       128 * MIB, "CRITICAL still gets the step when the interval's step is taken");
	trust_granted(&trust, 128 * MIB, t + 13000);
	tap_eq(demand(&trust, GIB, 5 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, t + 14000, NULL), 0,
	       "a second CRITICAL in the same interval gets nothing");
	tap_eq(demand(&trust, GIB, 5 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, t + 20000, NULL),
	       128 * MIB, "the next interval: CRITICAL gets a step again");

	/* A denied extra step leaves the CRITICAL step for later. */
	trust = (Trust){ 0 };
	distrust(&trust, 0);
	demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 0, NULL);
	trust_granted(&trust, 128 * MIB, 0);
	demand(&trust, GIB, 5 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, 1000, NULL);
	/* The caller granted nothing (say, no budget). */
	tap_eq(demand(&trust, GIB, 5 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, 2000, NULL),
	       128 * MIB, "a CRITICAL step not granted stays available");
}

static void test_restore(void)
{
	Trust trust = { 0 };
	const char *why = "unset";
	bool distrusted = true;

	distrust(&trust, 0);
	trust_take_change(&trust, &distrusted, &why);
	tap_ok(trust_distrusted(&trust, 599999), "still distrusted at 599.999 s");
	trust_update(&trust, 599999);
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "no change before distrust_ms");
	/* A new strike moves the end. */
	trust_surplus_stalled(&trust, &config, 512 * MIB, 0, 300000);
	tap_ok(trust_distrusted(&trust, 899999), "a strike at 300 s keeps trust lowered to 900 s");
	tap_ok(!trust_distrusted(&trust, 900000), "trust_distrusted turns false at 900 s");
	tap_ok(trust_believe_surplus(&trust, 900000), "... and SURPLUS is believed again");
	tap_eq(demand(&trust, GIB, 20 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 900000, NULL),
	       UINT64_MAX, "an honest DEMAND after the restore is unlimited");
	tap_ok(trust_take_change(&trust, &distrusted, &why) && !distrusted && why == NULL,
	       "the restore is reported once, without a why");
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "... and only once");
	tap_eq(trust.strike_count, 0, "the restore starts a clean record");
	trust_surplus_stalled(&trust, &config, 512 * MIB, 0, 900001);
	tap_ok(!trust_distrusted(&trust, 900001), "one strike after the restore does not lower it again");

	/* trust_update alone notices the end (a timer, no message). */
	trust = (Trust){ 0 };
	distrust(&trust, 0);
	trust_take_change(&trust, &distrusted, &why);
	trust_update(&trust, 600000);
	tap_ok(trust_take_change(&trust, &distrusted, &why) && !distrusted,
	       "trust_update at distrust_ms reports the restore");
}

static void test_untouched_lie(void)
{
	Trust trust = { 0 };
	const char *why = NULL;
	int64_t t = 0;

	/* LOW urgency: the DEMAND itself cannot be judged. */
	grant_cycle(&trust, 100 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_LOW, t);
	trust_stats(&trust, &config, 228 * MIB, 480 * MIB, t + 2000);
	tap_ok(!trust.episode_untouched, "a STATS 1 s after the plug judges nothing (settle)");
	trust_stats(&trust, &config, 228 * MIB, 480 * MIB, t + 4000);
	tap_ok(trust.episode_untouched, "3 s after the plug: 100 + 128 MiB available -> untouched");
	tap_eq(trust.strikes_total, 0, "seeing it unused is no strike by itself");
	tap_eq(demand(&trust, 128 * MIB, 228 * MIB, 512 * MIB, OMEM_RPC_URGENCY_LOW, t + 4100, &why),
	       UINT64_MAX, "asking again at LOW (a trend: honest guests ask ahead): not judged");
	tap_eq(trust.strikes_total, 0, "... no strike");
	tap_eq(demand(&trust, 128 * MIB, 228 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 4200, &why), 0,
	       "asking again at NORMAL with it still available: allowance 0");
	tap_ok(why && strstr(why, "asked for memory it never used"), "why: '%s'", why ? why : "(null)");
	tap_eq(trust.strikes_total, 1, "one strike");

	/* Three such cycles in two minutes: trust lowered. */
	for (t = 10000; t <= 30000; t += 10000) {
		grant_cycle(&trust, 100 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_LOW, t);
		trust_stats(&trust, &config, 230 * MIB, 480 * MIB, t + 4000);
		demand(&trust, 128 * MIB, 230 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, t + 4100, NULL);
	}
	tap_ok(trust_distrusted(&trust, 34100), "repeated: trust lowered");

	/* CRITICAL is never judged by it. */
	trust = (Trust){ 0 };
	grant_cycle(&trust, 100 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_LOW, 0);
	trust_stats(&trust, &config, 228 * MIB, 480 * MIB, 4000);
	tap_eq(demand(&trust, 2 * MIB, 228 * MIB, 512 * MIB, OMEM_RPC_URGENCY_CRITICAL, 4100, NULL),
	       UINT64_MAX, "CRITICAL while the grant sits unused: not judged");
	tap_eq(trust.strikes_total, 0, "... no strike");
}

/* A liar asking every 200 ms gets a new grant after each plug; the settle
 * time runs from the first plug, so it is judged all the same. */
static void test_untouched_regranted(void)
{
	Trust trust = { 0 };
	uint64_t available = 100 * MIB;
	int64_t t;

	for (t = 0; t < 6000; t += 2000) {
		grant_cycle(&trust, available, 2 * GIB, 128 * MIB, OMEM_RPC_URGENCY_LOW, t);
		available += 128 * MIB;
	}
	trust_stats(&trust, &config, available, 2 * GIB, 4500);
	tap_ok(trust.episode_untouched, "grants every 2 s: judged 3 s after the first plug");
	demand(&trust, 128 * MIB, available, 2 * GIB, OMEM_RPC_URGENCY_NORMAL, 4700, NULL);
	tap_eq(trust.strikes_total, 1, "... and the next NORMAL DEMAND strikes");

	/* A grant still arriving when the STATS comes only raises the bar. */
	trust = (Trust){ 0 };
	grant_cycle(&trust, 40 * MIB, GIB, 256 * MIB, OMEM_RPC_URGENCY_LOW, 0);
	demand(&trust, 256 * MIB, 30 * MIB, GIB, OMEM_RPC_URGENCY_NORMAL, 2000, NULL);
	trust_granted(&trust, 256 * MIB, 2000);
	/* 40 + 256 plugged + 100 of the second arrived - 150 used = 246. */
	trust_stats(&trust, &config, 246 * MIB, GIB, 4000);
	tap_ok(!trust.episode_untouched, "memory still arriving is not counted as unused");
}

static void test_honest_sequences(void)
{
	Trust trust = { 0 };
	int64_t t = 0;
	int i;

	/* Demand, grant, use, free, no further demand. */
	grant_cycle(&trust, 40 * MIB, 512 * MIB, 256 * MIB, OMEM_RPC_URGENCY_NORMAL, 0);
	trust_stats(&trust, &config, 60 * MIB, 500 * MIB, 4000);
	trust_stats(&trust, &config, 300 * MIB, 500 * MIB, 9000);
	tap_eq(trust.strikes_total, 0, "demand, grant, use, free: no strike");
	tap_ok(!trust.episode_open, "... the grant was judged used");

	/* Demand, grant, then free before the settle time, no further demand. */
	trust = (Trust){ 0 };
	grant_cycle(&trust, 40 * MIB, 512 * MIB, 256 * MIB, OMEM_RPC_URGENCY_NORMAL, 0);
	for (t = 2000; t < 60000; t += 1000)
		trust_stats(&trust, &config, 400 * MIB, 500 * MIB, t);
	tap_eq(trust.strikes_total, 0, "demand, grant, workload exits at once, no demand: no strike");
	/* A new workload much later: its DEMAND shows the memory used. */
	demand(&trust, 256 * MIB, 35 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 300000, NULL);
	tap_eq(trust.strikes_total, 0, "a later workload's DEMAND (35 MiB available): no strike");

	/* Demand, grant, use, demand again. */
	trust = (Trust){ 0 };
	grant_cycle(&trust, 40 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_NORMAL, 0);
	trust_stats(&trust, &config, 70 * MIB, 500 * MIB, 4500);
	tap_eq(demand(&trust, 128 * MIB, 35 * MIB, 512 * MIB, OMEM_RPC_URGENCY_NORMAL, 5000, NULL),
	       UINT64_MAX, "demand, grant, use, demand again: unlimited");
	tap_eq(trust.strikes_total, 0, "... no strike");
	/* Asked again before the settle time: nothing judged yet. */
	trust_granted(&trust, 128 * MIB, 5000);
	trust_plugged(&trust, 6000);
	tap_eq(demand(&trust, 128 * MIB, 60 * MIB, 640 * MIB, OMEM_RPC_URGENCY_NORMAL, 6500, NULL),
	       UINT64_MAX, "asking again 0.5 s after the plug: unlimited");

	/* Bursts under a fast trend (LOW with most of the guest available),
	 * twenty cycles in two minutes, two ways: used before the settle
	 * STATS, and released before it. */
	trust = (Trust){ 0 };
	for (i = 0, t = 0; i < 20; i++, t += 6000) {
		grant_cycle(&trust, 700 * MIB, 2 * GIB, 256 * MIB, OMEM_RPC_URGENCY_LOW, t);
		if (i % 2)
			trust_stats(&trust, &config, 500 * MIB, 2 * GIB, t + 4000);
		else
			trust_stats(&trust, &config, 1500 * MIB, 2 * GIB, t + 4000);
		trust_stats(&trust, &config, 1500 * MIB, 2 * GIB, t + 5000);
	}
	tap_eq(trust.strikes_total, 0, "bursty grow then release (LOW, trend), 20 cycles: no strike");
	tap_ok(!trust_distrusted(&trust, t), "... still trusted");

	/* Honest NORMAL after a release that was not yet shrunk away. */
	demand(&trust, 256 * MIB, 30 * MIB, 2 * GIB, OMEM_RPC_URGENCY_NORMAL, t, NULL);
	tap_eq(trust.strikes_total, 0, "a NORMAL DEMAND after the bursts: no strike");

	/* A grant without any DEMAND this session (say, the contract's min
	 * grew the guest) is never judged. */
	trust = (Trust){ 0 };
	trust_granted(&trust, 256 * MIB, 0);
	trust_plugged(&trust, 1000);
	trust_stats(&trust, &config, 400 * MIB, 500 * MIB, 5000);
	tap_ok(!trust.episode_open, "a grant with no DEMAND's claim opens nothing to judge");

	/* A STATS that contradicts itself judges nothing. */
	trust = (Trust){ 0 };
	grant_cycle(&trust, 40 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_NORMAL, 0);
	trust_stats(&trust, &config, 600 * MIB, 500 * MIB, 5000);
	tap_ok(!trust.episode_untouched, "STATS with available > total: ignored");
}

static void test_surplus(void)
{
	Trust trust = { 0 };
	bool distrusted = false, changed;
	const char *why = NULL;

	trust_surplus_stalled(&trust, &config, 256 * MIB, 128 * MIB, 0);
	trust_surplus_stalled(&trust, &config, 256 * MIB, 200 * MIB, 1000);
	trust_surplus_stalled(&trust, &config, 0, 0, 2000);
	tap_eq(trust.strikes_total, 0, "stalls that released half or more, or offered nothing: no strike");
	trust_surplus_stalled(&trust, &config, 256 * MIB, 127 * MIB, 3000);
	tap_eq(trust.strikes_total, 1, "released 127 of 256 MiB: a strike");
	tap_ok(!trust_distrusted(&trust, 3000), "one stall does not lower trust");
	trust_surplus_stalled(&trust, &config, 512 * MIB, 0, 20000);
	trust_surplus_stalled(&trust, &config, 512 * MIB, 64 * MIB, 40000);
	tap_ok(trust_distrusted(&trust, 40000), "three such stalls in the window: trust lowered");
	changed = trust_take_change(&trust, &distrusted, &why);
	tap_ok(changed && distrusted && why &&
	       strcmp(why, "offered 512 MiB back but released 64 MiB") == 0,
	       "why: '%s'", why ? why : "(null)");
	tap_ok(!trust_believe_surplus(&trust, 40000), "its SURPLUS is no longer believed");
	/* Half of 2^64 - 1 rounds up: 2^63 - 1 released is just under it. */
	trust_surplus_stalled(&trust, &config, UINT64_MAX, UINT64_MAX / 2, 41000);
	tap_eq(trust.strikes_total, 4, "2^64-1 offered, 2^63-1 released: a strike, no overflow");
	trust_surplus_stalled(&trust, &config, UINT64_MAX, UINT64_MAX / 2 + 1, 42000);
	tap_eq(trust.strikes_total, 4, "2^64-1 offered, 2^63 released: none");
}

/* A SURPLUS against the STATS sent with it (trust_surplus_offer). */
static void test_surplus_offer(void)
{
	Trust trust = { 0 };
	bool distrusted = false, changed;
	const char *why = NULL;
	uint64_t available, keep;
	int i;

	tap_eq(trust_surplus_offer(&trust, &config, 384 * MIB, false, 0, 0, &why), 384 * MIB,
	       "no STATS this session: the offer is taken as it is");
	tap_ok(why == NULL && trust.strikes_total == 0, "... no strike");
	tap_eq(trust_surplus_offer(&trust, &config, 300 * MIB, true, 300 * MIB, 0, &why), 300 * MIB,
	       "offer = the STATS's MemAvailable: believed whole");
	tap_eq(trust_surplus_offer(&trust, &config, 164 * MIB, true, 100 * MIB, 0, &why), 100 * MIB,
	       "64 MiB over 100 MiB available (the slack): believed up to what was available");
	tap_eq(trust_surplus_offer(&trust, &config, 500 * MIB, true, 400 * MIB, 0, &why), 400 * MIB,
	       "25 %% over 400 MiB available (the slack): believed up to 400 MiB");
	tap_ok(why == NULL && trust.strikes_total == 0, "within the slack: no strike");

	tap_eq(trust_surplus_offer(&trust, &config, 501 * MIB, true, 400 * MIB, 1000, &why), 0,
	       "just past the slack: nothing believed");
	tap_ok(why && strcmp(why, "offered 501 MiB back while its STATS showed 400 MiB available") == 0,
	       "why: '%s'", why ? why : "(null)");
	tap_eq(trust.strikes_total, 1, "... a strike");
	why = NULL;
	trust_surplus_offer(&trust, &config, 384 * MIB, true, 41 * MIB, 2000, &why);
	tap_ok(!trust_distrusted(&trust, 2000), "two contradictions: still trusted");
	trust_surplus_offer(&trust, &config, 384 * MIB, true, 41 * MIB, 3000, &why);
	tap_ok(trust_distrusted(&trust, 3000), "three within the window: trust lowered");
	changed = trust_take_change(&trust, &distrusted, &why);
	tap_ok(changed && distrusted && why &&
	       strcmp(why, "offered 384 MiB back while its STATS showed 41 MiB available") == 0,
	       "why: '%s'", why ? why : "(null)");

	trust = (Trust){ 0 };
	why = NULL;
	tap_eq(trust_surplus_offer(&trust, &config, UINT64_MAX, true, UINT64_MAX - 1, 0, &why),
	       UINT64_MAX - 1, "2^64-1 offered, 2^64-2 available: believed as available, no overflow");
	tap_eq(trust_surplus_offer(&trust, &config, UINT64_MAX, true, 0, 0, &why), 0,
	       "2^64-1 offered, nothing available: a strike");
	tap_eq(trust.strikes_total, 1, "... exactly one");

	/* The module's offer (guest-client/omem_decide.c): at most the
	 * sample's MemAvailable minus its keep mark, never a strike. */
	trust = (Trust){ 0 };
	for (i = 0; i < 1000; i++) {
		available = (uint64_t)(i * 7919 % 2048) * MIB;
		keep = (32 + i % 64) * MIB;
		why = NULL;
		trust_surplus_offer(&trust, &config, available > keep ? available - keep : 0, true,
				    available, i * 1000, &why);
	}
	tap_eq(trust.strikes_total, 0, "1000 honest offers (available minus keep): no strike");
}

static void test_resets(void)
{
	Trust trust = { 0 };
	bool distrusted = false;
	const char *why = NULL;

	distrust(&trust, 0);
	trust_take_change(&trust, &distrusted, &why);
	grant_cycle(&trust, 40 * MIB, 512 * MIB, 128 * MIB, OMEM_RPC_URGENCY_NORMAL, 1000);
	trust_session_reset(&trust);
	tap_ok(trust_distrusted(&trust, 2000), "a new session (re-HELLO) keeps trust lowered");
	tap_ok(!trust.episode_open && !trust.demand_seen, "... but forgets the old session's grants");
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "... and reports nothing");

	trust_reset(&trust);
	tap_ok(!trust_distrusted(&trust, 2000) && trust.strike_count == 0 && trust.strikes_total == 0,
	       "a reboot (trust_reset) starts afresh");
	tap_ok(trust_take_change(&trust, &distrusted, &why) && !distrusted,
	       "... and a reset of a distrusted guest is reported as a restore");
	trust_reset(&trust);
	tap_ok(!trust_take_change(&trust, &distrusted, &why), "a reset of a trusted guest reports nothing");
}

int main(void)
{
	trust_config_init(&config);
	test_config();
	test_honest_demand();
	test_demand_contradiction();
	test_strikes_and_change();
	test_window();
	test_distrusted_allowance();
	test_restore();
	test_untouched_lie();
	test_untouched_regranted();
	test_honest_sequences();
	test_surplus();
	test_surplus_offer();
	test_resets();
	return tap_done();
}
