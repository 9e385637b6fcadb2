/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the guest module's decision math (guest-client/
 * omem_decide.c), compiled in user space: marks, demand urgency and
 * sizing (block rounding, memmap, buffer, trend, cap), the consumption
 * trend and what a new session keeps of it, rate limiting, DENY backoff,
 * GRANT tracking, surplus hysteresis and cost curve, STATS timing and the
 * reserve's refill rule.  TAP on stdout.
 */
#include <string.h>

#include <omem/rpc.h>

#include "omem_decide.h"
#include "tap.h"

#define MIB OMEM_DECIDE_MIB
#define GIB (1024 * MIB)

/* The test guest's contract (tests/lib/guest.sh): boot 256 MiB, device
 * 1536 MiB, buffer 10 %, 128 MiB memory blocks, demands every 100 ms. */
static struct omem_decide_params test_params(void)
{
	struct omem_decide_params params = {
		.low_floor_bytes = 32 * MIB,
		.low_percent = 5,
		.granule_bytes = 128 * MIB,
		.page_bytes = 4096,
		.buffer_percent = 10,
		.boot_bytes = 256 * MIB,
		.max_bytes = 1792 * MIB,
		.cap_bytes = 1792 * MIB,
		.demand_interval_ms = 100,
		.reply_timeout_ms = 2000,
		.grant_timeout_ms = 5000,
		.reclaim_window_ms = 1000,
		.trend_window_ms = 500,
		.trend_lead_ms = 3000,
		.surplus_hold_ms = 10000,
		.surplus_interval_ms = 10000,
	};
	return params;
}

/* MemTotal 141 MiB (boot 256 MiB less what the kernel keeps) + plugged;
 * all that is not available is used. */
static struct omem_decide_sample test_sample(u64 now_ms, u64 available, u64 plugged)
{
	struct omem_decide_sample sample = {
		.now_ms = now_ms,
		.total_bytes = 141 * MIB + plugged,
		.available_bytes = available,
		.used_bytes = 141 * MIB + plugged > available ? 141 * MIB + plugged - available : 0,
		.plugged_bytes = plugged,
		.movable_bytes = plugged,
		.movable_free_bytes = plugged,
	};
	return sample;
}

static void test_rounding(void)
{
	struct omem_decide_params params = test_params();

	tap_eq(omem_decide_round_up(0, 128 * MIB), 0, "round_up: 0 stays 0");
	tap_eq(omem_decide_round_up(1, 128 * MIB), 128 * MIB, "round_up: 1 byte is one block");
	tap_eq(omem_decide_round_up(128 * MIB, 128 * MIB), 128 * MIB, "round_up: a block stays");
	tap_eq(omem_decide_round_up(129 * MIB, 128 * MIB), 256 * MIB, "round_up: a block and a bit is two");
	tap_eq(omem_decide_round_up(7, 0), 7, "round_up: granule 0 leaves the amount");
	tap_ok(omem_decide_round_up(~0ULL - 5, 128 * MIB) % (128 * MIB) == 0,
	       "round_up: no overflow near 2^64");
	tap_eq(omem_decide_memmap_bytes(&params, 128 * MIB), 2 * MIB,
	       "memmap: a 128 MiB block costs 2 MiB of struct page");
	tap_eq(omem_decide_memmap_bytes(&params, 1), 64, "memmap: a partial page costs a whole struct page");
}

static void test_marks(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_sample sample = test_sample(1000, 100 * MIB, 0);
	struct omem_decide_state state;
	struct omem_decide_marks marks;

	memset(&state, 0, sizeof(state));
	omem_decide_marks(&params, &state, &sample, &marks);
	tap_eq(marks.lead_bytes, 0, "marks: no trend, no lead");
	tap_eq(marks.grant_bytes, 128 * MIB, "marks: a grant is the 25.6 MiB buffer: one block");
	tap_eq(marks.low_bytes, 34 * MIB, "marks: small guest: low = floor 32 MiB + 2 MiB memmap");
	tap_eq(marks.early_bytes, 68 * MIB, "marks: early = twice low");
	tap_eq(marks.keep_bytes, 68 * MIB + 256 * MIB / 10,
	       "marks: keep = early + 10 %% of boot + plugged");
	tap_eq(marks.high_bytes, marks.keep_bytes + 128 * MIB, "marks: high = keep + one block");

	sample.total_bytes = 8 * GIB;
	omem_decide_marks(&params, &state, &sample, &marks);
	tap_eq(marks.low_bytes, 8 * GIB / 20 + 2 * MIB,
	       "marks: 8 GiB guest: low = 5 %% of MemTotal + memmap");

	/* memload's 128 MiB/s for the 3 s a TCG plug takes. */
	state.drop_rate = 128 * MIB;
	sample = test_sample(1000, 100 * MIB, 0);
	omem_decide_marks(&params, &state, &sample, &marks);
	tap_eq(marks.lead_bytes, 384 * MIB, "marks: 128 MiB/s for 3 s: 384 MiB lead");
	tap_eq(marks.grant_bytes, 512 * MIB, "marks: a grant is lead + buffer: four blocks");
	tap_eq(marks.low_bytes, 32 * MIB + 8 * MIB,
	       "marks: low = floor + the memmap of all four blocks (8 MiB)");
	tap_eq(marks.early_bytes, 2 * 40 * MIB + 384 * MIB, "marks: early = twice low + the lead");
	tap_eq(marks.keep_bytes, marks.early_bytes + 256 * MIB / 10,
	       "marks: keep holds the lead too (no SURPLUS while growing)");

	/* 128 MiB left under max: a grant cannot plug more than that. */
	sample = test_sample(1000, 100 * MIB, 1408 * MIB);
	omem_decide_marks(&params, &state, &sample, &marks);
	tap_eq(marks.grant_bytes, 128 * MIB, "marks: a grant never exceeds what is left to plug");
	tap_eq(marks.low_bytes, (141 * MIB + 1408 * MIB) / 20 + 2 * MIB,
	       "marks: ... nor its memmap");
}

static void test_urgency(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 100 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_NO_NEED,
	       "demand: 100 MiB available, above the early mark: nothing");

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "demand: 50 MiB, under the early mark: send");
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_LOW, "demand: ... LOW above the low mark");
	tap_eq(demand.reasons, OMEM_RPC_REASON_WATERMARK, "demand: ... reason WATERMARK");

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 20 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_NORMAL, "demand: under the low mark: NORMAL");

	memset(&state, 0, sizeof(state));
	sample = test_sample(5000, 50 * MIB, 0);
	sample.reclaim_ms = 4500;
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_HIGH, "demand: reclaim 0.5 s ago: HIGH");
	tap_eq(demand.reasons, OMEM_RPC_REASON_WATERMARK | OMEM_RPC_REASON_RECLAIM,
	       "demand: ... reasons WATERMARK|RECLAIM");

	memset(&state, 0, sizeof(state));
	sample.reclaim_ms = 3000;
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_LOW, "demand: reclaim 2 s ago no longer counts");

	memset(&state, 0, sizeof(state));
	sample = test_sample(5000, 500 * MIB, 0);
	sample.reclaim_ms = 4900;
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_NO_NEED,
	       "demand: reclaim with plenty available (cache churn) asks nothing");

	memset(&state, 0, sizeof(state));
	sample = test_sample(5000, 10 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_SEND,
	       "demand: OOM: send");
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_CRITICAL, "demand: ... CRITICAL");
	tap_eq(demand.reasons, OMEM_RPC_REASON_OOM | OMEM_RPC_REASON_WATERMARK,
	       "demand: ... reasons OOM|WATERMARK");

	memset(&state, 0, sizeof(state));
	sample = test_sample(5000, 500 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_SEND,
	       "demand: OOM with MemAvailable high (fragmentation) still asks");
	tap_eq(demand.bytes, 128 * MIB, "demand: ... for one block");
}

static void test_sizing(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;

	/* 68 - 50 = 18 MiB need + 25.6 MiB buffer + 2 MiB memmap: 1 block. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.bytes, 128 * MIB, "sizing: need + buffer + memmap rounds up to one 128 MiB block");

	/* With 512 MiB plugged the buffer is 76.8 MiB: 18 + 76.8 + 2 > 64. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 10 * MIB, 512 * MIB);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.bytes, 256 * MIB, "sizing: (71 - 10) MiB + 76.8 MiB buffer + memmap: two blocks");

	/* A guest using 150 MiB/s asks for what 3 s of it take. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 120 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	sample = test_sample(1500, 45 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	tap_eq(state.drop_rate, 150 * MIB, "trend: 75 MiB more used in 0.5 s is 150 MiB/s");
	omem_decide_demand(&state, &params, &sample, false, &demand);
	/* early = 2 x (32 + 8) + 450 = 530; (530 - 45) + 25.6 + 8 memmap */
	tap_eq(demand.bytes, 640 * MIB,
	       "sizing: (early 530 - 45) + 25.6 + memmap of 512: five blocks");

	sample = test_sample(2000, 100 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	tap_eq(state.drop_rate, 75 * MIB, "trend: a window without growth halves it (pausing workload)");
	sample = test_sample(2500, 100 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	tap_eq(state.drop_rate, 37 * MIB + MIB / 2, "trend: ... and halves it again");

	/* A plug lands: MemAvailable rises by 100 MiB, yet 28 MiB were used. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	sample = test_sample(1500, 150 * MIB, 128 * MIB);
	omem_decide_observe(&state, &params, &sample);
	tap_eq(state.drop_rate, 56 * MIB, "trend: a plug arriving does not hide consumption (56 MiB/s)");

	/* virtio_mem takes 256 MiB of free pages to unplug them: MemAvailable
	 * falls, nothing is used. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 600 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 1500;
	sample.available_bytes = 344 * MIB;
	omem_decide_observe(&state, &params, &sample);
	tap_eq(state.drop_rate, 0, "trend: pages taken for an unplug are no consumption");

	/* The trend moves the trigger, not only the size. */
	memset(&state, 0, sizeof(state));
	state.drop_rate = 128 * MIB;
	state.trend_started = true;
	sample = test_sample(1000, 300 * MIB, 512 * MIB);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "trigger: 300 MiB available at 128 MiB/s is under early (465 MiB): ask now");
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_LOW, "trigger: ... LOW");
	state.drop_rate = 0;
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_NO_NEED,
	       "trigger: the same guest without a trend asks nothing");

	/* Cap: room left is 100 MiB. */
	memset(&state, 0, sizeof(state));
	params.cap_bytes = 256 * MIB + 512 * MIB + 100 * MIB;
	sample = test_sample(1000, 10 * MIB, 512 * MIB);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.bytes, 100 * MIB, "sizing: never past the cap (100 MiB left)");

	memset(&state, 0, sizeof(state));
	params.cap_bytes = 256 * MIB + 512 * MIB;
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_AT_CAP,
	       "sizing: at the cap nothing is asked");
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_AT_CAP,
	       "sizing: not even on OOM");

	memset(&state, 0, sizeof(state));
	params = test_params();
	params.max_bytes = 256 * MIB + 64 * MIB;
	params.cap_bytes = ~0ULL;
	sample = test_sample(1000, 10 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_eq(demand.bytes, 64 * MIB, "sizing: never past max - boot");
}

static void test_rate_limits(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 7, demand.urgency);

	sample = test_sample(1200, 40 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_OUTSTANDING,
	       "rate: one DEMAND in flight at a time");
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_SEND,
	       "rate: a CRITICAL one may join it");
	omem_decide_demand_sent(&state, &params, 1200, 8, OMEM_RPC_URGENCY_CRITICAL);
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_OUTSTANDING,
	       "rate: but not a second CRITICAL one");

	tap_ok(!omem_decide_grant(&state, &params, 1250, 99, 512 * MIB),
	       "grant: a GRANT naming no DEMAND in flight is stale");
	tap_ok(omem_decide_deny(&state, &params, 1250, 8, OMEM_RPC_DENY_BUSY, 0),
	       "deny: answers the CRITICAL DEMAND");
	tap_ok(omem_decide_grant(&state, &params, 1300, 7, 256 * MIB + 128 * MIB),
	       "grant: answers the first DEMAND");

	sample = test_sample(1400, 40 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_GRANT_PENDING,
	       "grant: no new DEMAND while the granted block is arriving");
	sample = test_sample(1450, 160 * MIB, 128 * MIB);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	tap_ok(!state.grant_pending, "grant: done once plugged reaches the target");

	/* Interval (1 s here) after the last non-critical DEMAND. */
	memset(&state, 0, sizeof(state));
	params.demand_interval_ms = 1000;
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 1, demand.urgency);
	omem_decide_grant(&state, &params, 1050, 1, 256 * MIB);	/* nothing more */
	sample = test_sample(1500, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_INTERVAL,
	       "rate: demand_interval_ms spaces non-critical demands");
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_SEND,
	       "rate: CRITICAL bypasses the interval");
	sample = test_sample(2000, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "rate: after the interval the next goes");

	/* Lost answers and stalled plugs do not block forever. */
	memset(&state, 0, sizeof(state));
	params = test_params();
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 1, demand.urgency);
	sample = test_sample(2999, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_OUTSTANDING,
	       "timeout: unanswered for 1.999 s: still waiting");
	sample = test_sample(3000, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "timeout: unanswered for reply_timeout_ms: ask again");
	omem_decide_demand_sent(&state, &params, 3000, 2, demand.urgency);
	omem_decide_grant(&state, &params, 3010, 2, 256 * MIB + 128 * MIB);
	sample = test_sample(8009, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_GRANT_PENDING,
	       "timeout: a plug that has not arrived holds back demands...");
	sample = test_sample(8010, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "timeout: ...until grant_timeout_ms");

	/* CRITICAL during a pending grant asks only beyond it. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 1, demand.urgency);
	omem_decide_grant(&state, &params, 1010, 1, 256 * MIB + 1024 * MIB);
	sample = test_sample(1100, 5 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_GRANT_PENDING,
	       "critical: 1 GiB on its way covers the need");
	/* A small grant arrives while the need is larger: any urgency asks
	 * beyond it (whole: omemd counts its plug in flight), CRITICAL only
	 * for the rest. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 1, demand.urgency);
	omem_decide_grant(&state, &params, 1010, 1, 256 * MIB + 64 * MIB);
	sample = test_sample(1200, 5 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "grant pending: NORMAL asks beyond a grant too small for the need");
	tap_eq(demand.bytes, 128 * MIB, "... for the whole need: omemd subtracts its 64 MiB in flight");
	sample.reclaim_ms = 1150;
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "grant pending: reclaim running (HIGH) asks beyond it");
	tap_eq(demand.urgency, OMEM_RPC_URGENCY_HIGH, "... at HIGH");
	tap_eq(demand.bytes, 128 * MIB, "... for the whole need: omemd subtracts its 64 MiB in flight");
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_SEND,
	       "grant pending: CRITICAL asks too");
	tap_eq(demand.bytes, 64 * MIB, "... only beyond what arrives (omemd does not coalesce it)");
	omem_decide_demand_sent(&state, &params, 1205, 2, OMEM_RPC_URGENCY_HIGH);
	omem_decide_grant(&state, &params, 1210, 2, 256 * MIB + 512 * MIB);
	sample = test_sample(1400, 5 * MIB, 0);
	sample.reclaim_ms = 1390;
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_GRANT_PENDING,
	       "grant pending: HIGH is quiet when what arrives covers the need");
}

static void test_deny_backoff(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 50 * MIB, 0);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1000, 3, demand.urgency);
	omem_decide_deny(&state, &params, 1010, 3, OMEM_RPC_DENY_BUDGET, 3000);
	sample = test_sample(4009, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_DENIED,
	       "deny: retry_after_ms holds back demands");
	tap_eq(omem_decide_demand(&state, &params, &sample, true, &demand), OMEM_DECIDE_DENIED,
	       "deny: ...CRITICAL ones too");
	sample = test_sample(4010, 50 * MIB, 0);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "deny: after retry_after_ms the guest asks again");

	memset(&state, 0, sizeof(state));
	omem_decide_deny(&state, &params, 1000, 1, OMEM_RPC_DENY_CAP, 0);
	tap_eq(state.deny_until_ms, 1000 + OMEM_DECIDE_DENY_STICKY_MS,
	       "deny: CAP without retry_after backs off 30 s");
	memset(&state, 0, sizeof(state));
	omem_decide_deny(&state, &params, 1000, 1, OMEM_RPC_DENY_RATE, 0);
	tap_eq(state.deny_until_ms, 1100, "deny: RATE without retry_after waits the demand interval");
	omem_decide_deny(&state, &params, 1000, 1, OMEM_RPC_DENY_RATE, 50);
	tap_eq(state.deny_until_ms, 1100, "deny: a shorter backoff never shortens a longer one");
}

static void test_surplus(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_surplus surplus;
	struct omem_decide_marks marks;
	u64 keep;

	/* memload freed everything: 768 MiB plugged, 800 MiB available. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 800 * MIB, 768 * MIB);
	omem_decide_marks(&params, &state, &sample, &marks);
	keep = marks.keep_bytes;
	tap_eq(marks.low_bytes, 909 * MIB / 20 + 2 * MIB,
	       "surplus: 909 MiB MemTotal: low = 5 %% of it + memmap");
	tap_eq(keep, marks.early_bytes + 1024 * MIB / 10,
	       "surplus: keep = early + 10 %% of boot + plugged (1 GiB)");
	omem_decide_observe(&state, &params, &sample);
	tap_ok(state.above_high, "surplus: above the high mark");
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: not at once");
	sample.now_ms = 10999;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: not before surplus_hold_ms");
	sample.now_ms = 11000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: after surplus_hold_ms above the high mark");
	tap_eq(surplus.free_bytes, 800 * MIB - keep, "surplus: free is what leaves the guest its keep mark");
	tap_eq(surplus.clean_cache_bytes, 0, "surplus: no clean cache beyond that");
	tap_eq(surplus.unpluggable_bytes, surplus.free_bytes, "surplus: unpluggable = free + clean");
	omem_decide_surplus_sent(&state, &params, 11000, false);

	sample.now_ms = 15000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: not again within surplus_interval_ms");
	sample.now_ms = 21000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: again after surplus_interval_ms if still above");

	/* A dip under the high mark restarts the hold. */
	sample = test_sample(22000, 200 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!state.above_high, "surplus: a dip under the high mark ends the hold");
	sample = test_sample(23000, 800 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 32000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: the hold counts from the end of the dip");

	/* Nothing plugged: nothing to offer. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 2000 * MIB, 0);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 20000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: never with nothing plugged");

	/* The cost curve: free first, then clean cache, capped by plugged. */
	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 1000 * MIB, 512 * MIB);
	sample.movable_free_bytes = 300 * MIB;
	sample.movable_clean_bytes = 400 * MIB;
	tap_ok(omem_decide_surplus(&state, &params, &sample, true, &surplus),
	       "reclaim: answered at once");
	tap_eq(surplus.free_bytes, 300 * MIB, "curve: free pages first");
	tap_eq(surplus.clean_cache_bytes, 212 * MIB, "curve: then clean cache, up to what is plugged");
	tap_eq(surplus.unpluggable_bytes, 512 * MIB, "curve: never more than plugged");

	sample = test_sample(1000, 100 * MIB, 512 * MIB);
	omem_decide_marks(&params, &state, &sample, &marks);
	omem_decide_surplus(&state, &params, &sample, true, &surplus);
	tap_eq(surplus.unpluggable_bytes, 100 * MIB - marks.early_bytes,
	       "reclaim: offers down to the early mark, not below");
	sample = test_sample(1000, 50 * MIB, 512 * MIB);
	tap_ok(omem_decide_surplus(&state, &params, &sample, true, &surplus) &&
	       !surplus.unpluggable_bytes, "reclaim: a short guest answers that nothing can go");

	/* No offer while a DEMAND is in flight. */
	memset(&state, 0, sizeof(state));
	omem_decide_demand_sent(&state, &params, 500, 1, OMEM_RPC_URGENCY_LOW);
	sample = test_sample(1000, 800 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 1000 + 10000;
	omem_decide_observe(&state, &params, &sample);
	state.demand_sent_ms = 10500;	/* still waiting for its answer */
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "surplus: not while a DEMAND waits for its answer");
}

/* The adaptive surplus hold: short at first, doubled by a give-back the
 * guest had to ask back, halved by one after a calm regret window. */
static void test_surplus_hold(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_surplus surplus;
	u64 t;
	int i;

	params.surplus_hold_ms = 3000;
	params.surplus_hold_max_ms = 30000;
	params.surplus_regret_ms = 60000;
	params.surplus_interval_ms = 3000;

	memset(&state, 0, sizeof(state));
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000, "hold: a new guest holds the shortest");
	sample = test_sample(1000, 800 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 3999;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "hold: no offer 1 ms before the shortest hold");
	sample.now_ms = 4000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "hold: an offer once it has passed");
	omem_decide_surplus_sent(&state, &params, 4000, false);

	/* The workload comes back 20 s later: the give-back was too early. */
	omem_decide_demand_sent(&state, &params, 24000, 1, OMEM_RPC_URGENCY_LOW);
	tap_eq(omem_decide_surplus_hold(&params, &state), 6000,
	       "hold: a DEMAND within the regret window doubles it");
	omem_decide_demand_sent(&state, &params, 24500, 2, OMEM_RPC_URGENCY_CRITICAL);
	tap_eq(omem_decide_surplus_hold(&params, &state), 6000,
	       "hold: ... once per give-back, not once per DEMAND");

	/* The doubled hold is what the next offer waits for. */
	omem_decide_session_reset(&state);
	sample = test_sample(29000, 100 * MIB, 768 * MIB);	/* the workload's peak */
	omem_decide_observe(&state, &params, &sample);
	sample = test_sample(30000, 800 * MIB, 768 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample.now_ms = 35999;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(!omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "hold: the doubled hold holds the next offer back");
	sample.now_ms = 36000;
	omem_decide_observe(&state, &params, &sample);
	tap_ok(omem_decide_surplus(&state, &params, &sample, false, &surplus),
	       "hold: ... until it has passed");
	tap_eq(omem_decide_surplus_hold(&params, &state), 6000,
	       "hold: a new session keeps what the guest learnt");

	/* A workload every 20 s: the hold climbs to its maximum and stays. */
	t = 36000;
	for (i = 0; i < 5; i++) {
		omem_decide_surplus_sent(&state, &params, t, false);
		omem_decide_demand_sent(&state, &params, t + 20000, 10 + i, OMEM_RPC_URGENCY_LOW);
		omem_decide_grant(&state, &params, t + 20000, 10 + i, 1024 * MIB);
		state.grant_pending = false;
		t += 30000;
	}
	tap_eq(omem_decide_surplus_hold(&params, &state), 30000,
	       "hold: repeated regrets stop at surplus_hold_max_ms");

	/* A give-back after a calm minute halves it. */
	t += 60000;
	omem_decide_surplus_sent(&state, &params, t, false);
	tap_eq(omem_decide_surplus_hold(&params, &state), 15000,
	       "hold: a give-back with no DEMAND in the regret window before it halves it");
	omem_decide_surplus_sent(&state, &params, t + 1000, false);
	tap_eq(omem_decide_surplus_hold(&params, &state), 7500, "hold: ... each time");
	omem_decide_surplus_sent(&state, &params, t + 2000, false);
	omem_decide_surplus_sent(&state, &params, t + 3000, false);
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000, "hold: ... never under the shortest");

	/* What does not count as a regret. */
	memset(&state, 0, sizeof(state));
	omem_decide_surplus_sent(&state, &params, 1000, true);
	omem_decide_demand_sent(&state, &params, 2000, 1, OMEM_RPC_URGENCY_LOW);
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000,
	       "hold: memory the host took by RECLAIM is no regret");
	memset(&state, 0, sizeof(state));
	omem_decide_surplus_sent(&state, &params, 1000, false);
	omem_decide_demand_sent(&state, &params, 61000, 1, OMEM_RPC_URGENCY_LOW);
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000,
	       "hold: a DEMAND a whole regret window later is no regret");
	memset(&state, 0, sizeof(state));
	omem_decide_surplus_sent(&state, &params, 5000, false);
	omem_decide_demand_sent(&state, &params, 4000, 1, OMEM_RPC_URGENCY_LOW);
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000,
	       "hold: a clock that went backwards is no regret");

	/* Bounds that make no sense: the shortest wins. */
	params.surplus_hold_max_ms = 1000;
	memset(&state, 0, sizeof(state));
	state.hold_ms = 20000;
	tap_eq(omem_decide_surplus_hold(&params, &state), 3000,
	       "hold: a maximum under the shortest is the shortest");
	params.surplus_hold_max_ms = 0xffffffffu;
	omem_decide_surplus_sent(&state, &params, 1000, false);
	state.hold_ms = 0xf0000000u;
	omem_decide_demand_sent(&state, &params, 2000, 1, OMEM_RPC_URGENCY_LOW);
	tap_eq(omem_decide_surplus_hold(&params, &state), 0xffffffffu,
	       "hold: doubling near 2^32 stops at the maximum, no wrap");
}

static void test_stats_and_refill(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;

	memset(&state, 0, sizeof(state));
	tap_ok(!omem_decide_stats_due(&state, 1000, 0), "stats: interval 0 means never");
	tap_ok(omem_decide_stats_due(&state, 1000, 5000), "stats: the first goes at once");
	omem_decide_stats_sent(&state, 1000);
	tap_ok(!omem_decide_stats_due(&state, 5999, 5000), "stats: not before the interval");
	tap_ok(omem_decide_stats_due(&state, 6000, 5000), "stats: after the interval");

	sample = test_sample(1000, 80 * MIB, 0);
	tap_ok(!omem_decide_refill(&params, &state, &sample, 8 * MIB),
	       "refill: 80 MiB available < early 68 + 2 x 8: wait");
	sample = test_sample(1000, 84 * MIB, 0);
	tap_ok(omem_decide_refill(&params, &state, &sample, 8 * MIB), "refill: 84 MiB available: refill");
	tap_ok(!omem_decide_refill(&params, &state, &sample, 0), "refill: a full reserve needs nothing");
	state.drop_rate = 64 * MIB;
	tap_ok(!omem_decide_refill(&params, &state, &sample, 8 * MIB),
	       "refill: not while the guest is growing (the lead is in the early mark)");
}

/* omemd restarts mid-growth: the new session keeps the trend, drops the
 * old one's DEMAND in flight, GRANT arriving and DENY backoff, and asks
 * at its first sample. */
static void test_session_reset(void)
{
	struct omem_decide_params params = test_params();
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;

	memset(&state, 0, sizeof(state));
	sample = test_sample(1000, 120 * MIB, 256 * MIB);
	omem_decide_observe(&state, &params, &sample);
	sample = test_sample(1500, 60 * MIB, 256 * MIB);
	omem_decide_observe(&state, &params, &sample);
	omem_decide_demand(&state, &params, &sample, false, &demand);
	omem_decide_demand_sent(&state, &params, 1500, 41, demand.urgency);
	omem_decide_demand_sent(&state, &params, 1500, 42, OMEM_RPC_URGENCY_CRITICAL);
	omem_decide_deny(&state, &params, 1510, 42, OMEM_RPC_DENY_CAP, 0);
	omem_decide_stats_sent(&state, 1500);

	omem_decide_session_reset(&state);
	tap_ok(!state.demand_outstanding && !state.critical_outstanding && !state.grant_pending &&
	       !state.deny_until_ms && !state.demand_sent_any,
	       "session reset: the old session's demands, grant and backoff are gone");
	tap_ok(omem_decide_stats_due(&state, 1600, 5000), "session reset: STATS go at once");
	tap_eq(state.drop_rate, 120 * MIB, "session reset: the trend (120 MiB/s) stays");
	sample = test_sample(1600, 55 * MIB, 256 * MIB);
	tap_eq(omem_decide_demand(&state, &params, &sample, false, &demand), OMEM_DECIDE_SEND,
	       "session reset: the first sample of the new session asks");
	/* 120 MiB/s x 3 s = 360: grant 384 + 51.2 -> 512, memmap 8; early
	 * 2 x 40 + 360 = 440; (440 - 55) + 51.2 + 8 -> 512 MiB */
	tap_eq(demand.bytes, 512 * MIB, "session reset: ... sized with the trend (512 MiB, not 128)");
}

int main(void)
{
	test_rounding();
	test_marks();
	test_urgency();
	test_sizing();
	test_rate_limits();
	test_deny_backoff();
	test_surplus();
	test_surplus_hold();
	test_stats_and_refill();
	test_session_reset();
	return tap_done();
}
