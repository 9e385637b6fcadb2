/* SPDX-License-Identifier: MIT */
/*
 * test-arbiter: omemd's global arbiter (host-server/arbiter/arbiter*.c), case by
 * case: full and partial grants and DEFERs, cap, frozen, drain, fair
 * shares by weight, reclaim for a VM below its fair share from one above
 * (the idle one first), the limits of a reclaim (min, fair share, what the
 * guest can unplug), host pressure, admission, removal, and size events
 * that come late or twice.  arbiter_check runs after every step.
 */
#include "config.h"

#include <string.h>

#include <omem/rpc.h>

#include "arbiter/arbiter.h"
#include "tap.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

/* A VM of 1 GiB boot, growable to 5 GiB, no floor beyond boot. */
static ArbiterContract contract_default(void)
{
	return (ArbiterContract){
		.boot_bytes = 1 * GIB,
		.min_bytes = 1 * GIB,
		.cap_bytes = 5 * GIB,
		.max_bytes = 5 * GIB,
		.block_bytes = 2 * MIB,
		.buffer_percent = 10,
	};
}

/* Budget @budget_bytes, no QEMU overhead unless a test sets one. */
static Arbiter *arbiter_make(uint64_t budget_bytes, uint64_t overhead_bytes)
{
	ArbiterConfig config;
	Arbiter *arb = NULL;

	arbiter_config_init(&config);
	config.budget_bytes = budget_bytes;
	config.vm_overhead_bytes = overhead_bytes;
	if (arbiter_new(&config, &arb) < 0)
		abort();
	return arb;
}

static void checked(const Arbiter *arb, const char *what)
{
	g_autofree char *why = NULL;

	if (!arbiter_check(arb, &why))
		tap_ok(0, "invariants after %s: %s", what, why);
}

static void add_vm(Arbiter *arb, uint64_t id, const ArbiterContract *c, uint64_t size)
{
	if (arbiter_vm_add(arb, id, NULL, c, size, size, 0) < 0)
		abort();
	checked(arb, "add");
}

static void report(Arbiter *arb, uint64_t id, uint64_t free_bytes, uint64_t unpluggable, int64_t at_ms)
{
	ArbiterVmStatus st;
	ArbiterReport r;

	arbiter_vm_get_status(arb, id, &st);
	r = (ArbiterReport){ .free_bytes = free_bytes, .unpluggable_bytes = unpluggable,
			     .total_bytes = 1 * GIB + st.plugged_bytes, .at_ms = at_ms };
	arbiter_vm_set_report(arb, id, &r);
	checked(arb, "report");
}

static uint64_t requested_of(Arbiter *arb, uint64_t id)
{
	ArbiterVmStatus st;

	arbiter_vm_get_status(arb, id, &st);
	return st.requested_bytes;
}

/* The device catches up: plugged = requested. */
static void settle(Arbiter *arb, uint64_t id, int64_t now_ms)
{
	uint64_t req = requested_of(arb, id);

	arbiter_vm_set_sizes(arb, id, req, req, now_ms);
	checked(arb, "set_sizes");
}

static void test_grants(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(4 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterOps ops;

	add_vm(arb, 1, &c, 0);
	tap_eq(arbiter_demand(arb, 1, 500 * MIB, OMEM_RPC_URGENCY_NORMAL, 0, &r, &ops), 0, "demand decided");
	tap_eq(r.action, POLICY_ACTION_GRANT, "room in the budget: full grant");
	tap_eq(r.requested_bytes, 512 * MIB, "... rounded up to the 128 MiB grant step");
	tap_eq(ops.count, 0, "... no ops for other VMs");
	settle(arb, 1, 0);
	arbiter_demand(arb, 1, 4 * GIB, OMEM_RPC_URGENCY_NORMAL, 10, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_PARTIAL_GRANT, "past the budget: partial grant");
	tap_eq(r.requested_bytes, 3 * GIB, "... up to the budget (4 GiB - 1 GiB boot)");
	tap_ok(r.limited_by == POLICY_LIMIT_BUDGET, "... limited by the budget");
	settle(arb, 1, 10);
	arbiter_demand(arb, 1, 100 * MIB, OMEM_RPC_URGENCY_HIGH, 20, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_DEFER, "budget spent: defer");
	tap_eq(r.deny_reason, OMEM_RPC_DENY_BUDGET, "... DENY BUDGET");
	tap_eq(r.retry_after_ms, 1000, "... nothing to reclaim: the budget retry");
	arbiter_vm_set_sizes(arb, 1, 3 * GIB + 256 * MIB, 3 * GIB, 30);
	arbiter_demand(arb, 1, 100 * MIB, OMEM_RPC_URGENCY_NORMAL, 40, &r, &ops);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_BUSY, "a plug in flight covers it: DENY BUSY");
	checked(arb, "grants");
}

static void test_cap_frozen_drain(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(16 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterOps ops;
	ArbiterStats stats;
	int steps = 0;

	c.cap_bytes = 2 * GIB;
	c.min_bytes = 1 * GIB + 256 * MIB;
	add_vm(arb, 1, &c, 1 * GIB);
	arbiter_demand(arb, 1, 64 * MIB, OMEM_RPC_URGENCY_CRITICAL, 0, &r, &ops);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_CAP, "at the cap: DENY CAP");

	c.cap_bytes = 5 * GIB;
	c.frozen = true;
	arbiter_vm_set_contract(arb, 1, &c, 0, &ops);
	tap_eq(ops.count, 0, "freezing: no op");
	arbiter_demand(arb, 1, 64 * MIB, OMEM_RPC_URGENCY_CRITICAL, 0, &r, &ops);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_FROZEN, "frozen: DENY FROZEN");
	c.frozen = false;

	c.cap_bytes = 1 * GIB + 512 * MIB;
	arbiter_vm_set_contract(arb, 1, &c, 0, &ops);
	tap_ok(ops.count == 1 && ops.op[0].kind == ARBITER_OP_RESIZE && ops.op[0].bytes == 512 * MIB,
	       "cap lowered below requested: RESIZE to the new ceiling at once");
	settle(arb, 1, 0);

	c.cap_bytes = 5 * GIB;
	c.drain = true;
	arbiter_vm_set_contract(arb, 1, &c, 0, &ops);
	tap_eq(ops.count, 0, "drain: nothing at once");
	arbiter_demand(arb, 1, 64 * MIB, OMEM_RPC_URGENCY_NORMAL, 0, &r, &ops);
	tap_eq(r.deny_reason, OMEM_RPC_DENY_FROZEN, "draining: DENY FROZEN");
	for (int t = 1; t < 20; t++) {
		arbiter_tick(arb, t * 1000, &ops);
		checked(arb, "drain tick");
		if (ops.count) {
			steps++;
			settle(arb, 1, t * 1000);
		}
	}
	tap_eq(requested_of(arb, 1), 256 * MIB, "drain ends at the floor (min - boot)");
	tap_eq(steps, 1, "... 512 -> 256 MiB: one shrink_step");
	arbiter_get_stats(arb, &stats);
	tap_eq(stats.reclaims_pending, 0, "... and the drain is over");
}

static void test_fair_shares(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(2 * GIB + 4 * GIB + 2 * 64 * MIB, 64 * MIB);
	ArbiterContract c = contract_default();
	ArbiterVmStatus a, b;

	add_vm(arb, 1, &c, 0);
	c.shares = 3000;
	add_vm(arb, 2, &c, 0);
	arbiter_vm_get_status(arb, 1, &a);
	arbiter_vm_get_status(arb, 2, &b);
	tap_eq(a.fair_share_bytes, 1 * GIB, "1000 of 4000 shares: 1 GiB of the 4 GiB beyond boot and overhead");
	tap_eq(b.fair_share_bytes, 3 * GIB, "3000 of 4000 shares: 3 GiB");
	tap_eq(a.charge_bytes, 1 * GIB + 64 * MIB, "charge = boot + max(requested, plugged) + overhead");
}

/* Water-filling: what a capped VM cannot take goes to the others, by
 * shares; a contract change or a VM leaving moves the level. */
static void test_fair_shares_capped(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(9 * GIB, 0);
	ArbiterContract c = contract_default();
	ArbiterOps ops;
	ArbiterVmStatus a, b, d;

	c.cap_bytes = 2 * GIB;
	add_vm(arb, 1, &c, 0);
	c.cap_bytes = 5 * GIB;
	add_vm(arb, 2, &c, 0);
	c.shares = 3000;
	add_vm(arb, 3, &c, 0);
	arbiter_vm_get_status(arb, 1, &a);
	arbiter_vm_get_status(arb, 2, &b);
	arbiter_vm_get_status(arb, 3, &d);
	tap_eq(a.fair_share_bytes, 1 * GIB, "A, capped at 1 GiB beyond boot: its cap (not 1.2 GiB)");
	tap_eq(b.fair_share_bytes, 1 * GIB + 256 * MIB,
	       "B (1000 of the 4000 shares left): a quarter of the 5 GiB A leaves");
	tap_eq(d.fair_share_bytes, 3 * GIB + 768 * MIB, "C (3000): three quarters");
	checked(arb, "fair shares");

	c.shares = 1000;
	c.cap_bytes = 5 * GIB;
	arbiter_vm_set_contract(arb, 1, &c, 0, &ops);
	arbiter_vm_get_status(arb, 1, &a);
	arbiter_vm_get_status(arb, 2, &b);
	tap_ok(a.fair_share_bytes == 6 * GIB / 5 && b.fair_share_bytes == 6 * GIB / 5,
	       "A's cap raised: nobody capped, 1000 of 5000 shares of 6 GiB each for A and B");
	arbiter_vm_remove(arb, 3);
	arbiter_vm_get_status(arb, 1, &a);
	tap_eq(a.fair_share_bytes, 3 * GIB + 512 * MIB, "C leaves: A and B split its 7 GiB");

	c.cap_bytes = 2 * GIB;
	arbiter_vm_set_contract(arb, 1, &c, 0, &ops);
	arbiter_vm_set_contract(arb, 2, &c, 0, &ops);
	arbiter_vm_get_status(arb, 1, &a);
	arbiter_vm_get_status(arb, 2, &b);
	tap_ok(a.fair_share_bytes == 1 * GIB && b.fair_share_bytes == 1 * GIB,
	       "everyone capped: each gets its cap, the rest stays unshared");
	checked(arb, "all capped");
}

/* A (1000 shares) holds 3 GiB, 2 GiB of it free; B (3000 shares) holds
 * nothing.  B's demand is served by the pool and then by reclaim from A,
 * stepwise, never below A's fair share. */
static void test_reclaim_for_shares(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(2 * GIB + 4 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterVmStatus st;
	ArbiterOps ops;
	int t;

	add_vm(arb, 1, &c, 3 * GIB);
	c.shares = 3000;
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 2 * GIB, 3 * GIB, 0);
	arbiter_demand(arb, 2, 2 * GIB, OMEM_RPC_URGENCY_HIGH, 0, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_PARTIAL_GRANT, "B below its share: what the pool has now");
	tap_eq(r.requested_bytes, 1 * GIB, "... the 1 GiB left");
	tap_ok(ops.count == 2 && ops.op[0].kind == ARBITER_OP_RECLAIM && ops.op[0].vm_id == 1 &&
	       ops.op[0].bytes == 1 * GIB, "RECLAIM 1 GiB from A");
	tap_ok(ops.count == 2 && ops.op[1].kind == ARBITER_OP_RESIZE && ops.op[1].vm_id == 1 &&
	       ops.op[1].bytes == 3 * GIB - 256 * MIB, "... and its first RESIZE, one shrink_step down");
	arbiter_vm_get_status(arb, 2, &st);
	tap_ok(st.waiting && st.waiting_bytes == 1 * GIB, "B waits for the other 1 GiB");
	arbiter_vm_get_status(arb, 1, &st);
	tap_ok(st.reclaim_pending && st.reclaim_target_bytes == 2 * GIB, "A's reclaim ends at 2 GiB");
	settle(arb, 2, 0);

	/* A repeated demand does not stack a second reclaim. */
	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 100, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_DEFER, "B again while A unplugs: defer");
	tap_eq(r.retry_after_ms, 250, "... with the short reclaim retry");
	tap_eq(ops.count, 0, "... and no second reclaim");

	for (t = 1; t <= 10; t++) {
		settle(arb, 1, t * 1000);
		arbiter_tick(arb, t * 1000, &ops);
		checked(arb, "reclaim tick");
	}
	tap_eq(requested_of(arb, 1), 2 * GIB, "A stepped down to 2 GiB");
	arbiter_vm_get_status(arb, 1, &st);
	tap_ok(!st.reclaim_pending, "... and the reclaim is over");
	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 11000, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_GRANT, "B gets the reclaimed memory");
	tap_eq(r.requested_bytes, 2 * GIB, "... 2 GiB in all");
}

/* Two VMs of the same size and shares above their share: the idle one is
 * reclaimed from. */
static void test_idle_tax(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(3 * GIB + 4 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterVmStatus busy, idle;
	ArbiterOps ops;

	add_vm(arb, 1, &c, 2 * GIB);
	add_vm(arb, 2, &c, 2 * GIB);
	add_vm(arb, 3, &c, 0);
	report(arb, 1, 300 * MIB, 2 * GIB, 0);
	report(arb, 2, 2 * GIB + 500 * MIB, 2 * GIB, 0);
	arbiter_vm_get_status(arb, 1, &busy);
	arbiter_vm_get_status(arb, 2, &idle);
	tap_ok(idle.claim < busy.claim, "the idle VM's claim is lower (%g < %g)", idle.claim, busy.claim);
	arbiter_demand(arb, 3, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 10, &r, &ops);
	tap_ok(ops.count >= 1 && ops.op[0].kind == ARBITER_OP_RECLAIM && ops.op[0].vm_id == 2,
	       "the idle VM is reclaimed from");
	tap_eq(r.action, POLICY_ACTION_DEFER, "... the demander defers meanwhile");
}

static void test_reclaim_limits(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(2 * GIB + 3 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterVmStatus st;
	ArbiterOps ops;

	/* A's fair share is 1.5 GiB; it holds 3 GiB, all free, but the guest
	 * can unplug only 512 MiB. */
	add_vm(arb, 1, &c, 3 * GIB);
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 3 * GIB, 512 * MIB, 0);
	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 0, &r, &ops);
	arbiter_vm_get_status(arb, 1, &st);
	tap_eq(st.reclaim_target_bytes, 3 * GIB - 512 * MIB, "reclaim never beyond what the guest can unplug");
	arbiter_vm_remove(arb, 1);
	arbiter_vm_remove(arb, 2);

	/* Now it could unplug everything: the fair share stops it. */
	add_vm(arb, 1, &c, 3 * GIB);
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 3 * GIB, 3 * GIB, 0);
	arbiter_demand(arb, 2, 3 * GIB, OMEM_RPC_URGENCY_HIGH, 0, &r, &ops);
	arbiter_vm_get_status(arb, 1, &st);
	tap_eq(st.reclaim_target_bytes, 1536 * MIB, "reclaim never below the fair share (1.5 GiB)");
	arbiter_vm_remove(arb, 1);
	arbiter_vm_remove(arb, 2);

	/* A floor of 2 GiB: the pool beyond the floors is 1 GiB, A's fair
	 * share 2.5 GiB, and the reclaim stops there. */
	c.min_bytes = 3 * GIB;
	add_vm(arb, 1, &c, 3 * GIB);
	c.min_bytes = 1 * GIB;
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 3 * GIB, 3 * GIB, 0);
	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 0, &r, &ops);
	arbiter_vm_get_status(arb, 1, &st);
	tap_eq(st.fair_share_bytes, 2 * GIB + 512 * MIB, "fair share = floor + its part of the rest");
	tap_ok(st.reclaim_target_bytes == st.fair_share_bytes && st.reclaim_target_bytes >= st.floor_bytes,
	       "reclaim stops at the fair share, never below the 2 GiB floor");
	settle(arb, 1, 0);
	arbiter_demand(arb, 2, 2 * GIB, OMEM_RPC_URGENCY_HIGH, 10, &r, &ops);
	tap_eq(ops.count, 0, "... no further reclaim from a VM at its share");

	/* Without a fresh report nothing is reclaimable. */
	arbiter_vm_remove(arb, 1);
	arbiter_vm_remove(arb, 2);
	add_vm(arb, 1, &c, 3 * GIB);
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 3 * GIB, 3 * GIB, 0);
	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_HIGH, 60000, &r, &ops);
	tap_eq(ops.count, 0, "a report past report_ttl_ms: no reclaim");
	checked(arb, "limits");
}

static void test_host_pressure(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(3 * GIB + 6 * GIB, 0);
	ArbiterContract c = contract_default();
	ArbiterHost host = { .mem_available_bytes = 256 * MIB, .known = true };
	PolicyDemandResult r;
	ArbiterStats stats;
	ArbiterOps ops;

	add_vm(arb, 1, &c, 3 * GIB);
	add_vm(arb, 2, &c, 1 * GIB);
	add_vm(arb, 3, &c, 0);
	report(arb, 1, 2 * GIB, 3 * GIB, 0);
	arbiter_set_host(arb, &host);
	arbiter_get_stats(arb, &stats);
	tap_ok(stats.host_short, "MemAvailable under host_low: the host is short");
	tap_eq(stats.pool_bytes, 0, "... and the pool is empty although the budget is not");
	arbiter_demand(arb, 1, 128 * MIB, OMEM_RPC_URGENCY_CRITICAL, 0, &r, &ops);
	if (!tap_ok(r.action == POLICY_ACTION_DEFER && r.limited_by == POLICY_LIMIT_HOST,
	       "a VM above its share gets nothing under pressure, CRITICAL or not"))
		tap_diag("action %d reason %u limited_by %d", r.action, r.deny_reason, r.limited_by);
	arbiter_tick(arb, 1000, &ops);
	tap_ok(ops.count == 2 && ops.op[0].kind == ARBITER_OP_RECLAIM && ops.op[0].vm_id == 1 &&
	       ops.op[0].bytes == 256 * MIB, "tick: reclaim from the VM above its share, what the host lacks");
	host.mem_available_bytes = 1 * GIB + 512 * MIB;
	host.psi_some_avg10 = 5000;
	arbiter_set_host(arb, &host);
	arbiter_demand(arb, 3, 2 * GIB, OMEM_RPC_URGENCY_NORMAL, 2000, &r, &ops);
	tap_eq(r.action, POLICY_ACTION_PARTIAL_GRANT, "PSI pressure: a VM below its share gets some");
	tap_eq(r.requested_bytes, 1 * GIB, "... what the host has above host_low (1 GiB)");
	host = (ArbiterHost){ .mem_available_bytes = 8 * GIB, .known = true };
	arbiter_set_host(arb, &host);
	arbiter_get_stats(arb, &stats);
	tap_ok(!stats.host_short, "pressure gone");
	checked(arb, "pressure");
}

static void test_admission(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(4 * GIB, 64 * MIB);
	ArbiterContract c = contract_default();
	ArbiterAdmitResult a;
	ArbiterOps ops;

	add_vm(arb, 1, &c, 1 * GIB);
	c.min_bytes = 2 * GIB;
	tap_eq(arbiter_admit(arb, "uuid-a", &c, 0, &a), 0, "admission decided");
	tap_ok(!a.admitted, "2 GiB min + overhead do not fit beside 2 GiB + overhead committed");
	tap_eq(a.needed_bytes, 2 * GIB + 64 * MIB, "... needed = boot + floor + overhead");
	tap_eq(a.committed_bytes, 2 * GIB + 64 * MIB, "... committed reported");
	tap_eq(a.budget_bytes, 4 * GIB, "... budget reported");
	c.min_bytes = 1 * GIB;
	arbiter_admit(arb, "uuid-b", &c, 0, &a);
	tap_ok(a.admitted, "1 GiB + overhead fits: admitted");
	arbiter_admit(arb, "uuid-c", &c, 0, &a);
	tap_ok(!a.admitted && a.reserved_bytes == 1 * GIB + 64 * MIB,
	       "a second one does not fit beside the reservation (reserved reported)");
	arbiter_tick(arb, 59999, &ops);
	arbiter_admit(arb, "uuid-c", &c, 59999, &a);
	tap_ok(!a.admitted, "... still held before admission_ttl_ms");
	arbiter_tick(arb, 60000, &ops);
	arbiter_admit(arb, "uuid-c", &c, 60000, &a);
	tap_ok(a.admitted, "reservation expired: the other one is admitted");
	tap_eq(arbiter_vm_add(arb, 2, "uuid-c", &c, 0, 0, 60001), 0, "the admitted VM starts");
	arbiter_admit(arb, "uuid-c", &c, 60002, &a);
	tap_ok(a.admitted && a.reserved_bytes == 0, "its reservation became its charge; known key admitted");
	checked(arb, "admission");
}

static void test_remove_and_events(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(4 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterStats stats;
	ArbiterOps ops;

	add_vm(arb, 1, &c, 2 * GIB);
	add_vm(arb, 2, &c, 0);
	arbiter_get_stats(arb, &stats);
	tap_eq(stats.pool_bytes, 0, "pool empty with two VMs");
	arbiter_vm_remove(arb, 1);
	arbiter_get_stats(arb, &stats);
	tap_eq(stats.pool_bytes, 3 * GIB, "remove returns boot + plugged at once");
	checked(arb, "remove");

	arbiter_demand(arb, 2, 1 * GIB, OMEM_RPC_URGENCY_NORMAL, 0, &r, &ops);
	tap_eq(r.requested_bytes, 1 * GIB, "granted 1 GiB");
	/* libvirt refused the resize: the event carries the old requested. */
	arbiter_vm_set_sizes(arb, 2, 0, 0, 10);
	checked(arb, "failed resize");
	arbiter_get_stats(arb, &stats);
	tap_eq(stats.committed_bytes, 1 * GIB, "a failed resize gives the grant back");
	/* A late event says plugged 1 GiB after all, twice. */
	arbiter_vm_set_sizes(arb, 2, 0, 1 * GIB, 20);
	arbiter_vm_set_sizes(arb, 2, 0, 1 * GIB, 20);
	arbiter_get_stats(arb, &stats);
	tap_eq(stats.committed_bytes, 2 * GIB, "a late plug is charged (max of requested and plugged), once");
	arbiter_demand(arb, 2, 3 * GIB, OMEM_RPC_URGENCY_NORMAL, 30, &r, &ops);
	tap_eq(r.requested_bytes, 3 * GIB, "the next grant counts the late plug: 3 GiB, not 4");
	arbiter_vm_set_sizes(arb, 2, 3 * GIB, 3 * GIB, 40);
	arbiter_get_stats(arb, &stats);
	tap_ok(stats.committed_bytes <= stats.budget_bytes, "committed within the budget");
	checked(arb, "events");
}

/* A distrusted guest (trust.h) gets at most one step per interval plus
 * one CRITICAL step, counted as the rise of requested that reached the
 * devices, whatever the DEMANDs' sizes: small DEMANDs each rounded up to
 * a 128 MiB grant step must not multiply its rate. */
static void test_trust_rate(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(64 * GIB, 0);
	ArbiterContract c = contract_default();
	TrustConfig trust_config;
	Trust trust = { 0 };
	uint64_t start, before, peak_rise = 0;
	int64_t t;
	int i;

	trust_config_init(&trust_config);
	c.cap_bytes = c.max_bytes = 32 * GIB;
	add_vm(arb, 1, &c, 0);
	for (i = 0; i < 3; i++)
		trust_surplus_stalled(&trust, &trust_config, 512 * MIB, 0, 0);
	tap_ok(trust_distrusted(&trust, 0), "trust rate: the guest is distrusted");

	/* One interval: every 50 ms a 2 MiB DEMAND, every other one
	 * CRITICAL (CRITICAL is neither spaced nor coalesced). */
	start = requested_of(arb, 1);
	for (t = 0; t < (int64_t)trust_config.distrusted_interval_ms; t += 50) {
		ArbiterGuestDemand demand = {
			.bytes = 2 * MIB,
			.available_bytes = 10 * MIB,
			.guest_total_bytes = 1 * GIB + requested_of(arb, 1),
			.urgency = (t / 50) % 2 ? OMEM_RPC_URGENCY_CRITICAL : OMEM_RPC_URGENCY_HIGH,
		};
		PolicyDemandResult r;
		ArbiterOps ops;
		const char *why = NULL;

		before = requested_of(arb, 1);
		if (arbiter_trust_demand(arb, 1, &trust, &trust_config, &demand, t, &r, &ops, &why) < 0)
			break;
		if (r.action != POLICY_ACTION_DEFER)
			arbiter_trust_granted(&trust, before, &r, t);
		settle(arb, 1, t);
	}
	peak_rise = requested_of(arb, 1) - start;
	tap_ok(peak_rise <= 2 * trust_config.distrusted_step_bytes,
	       "trust rate: 200 small DEMANDs in one interval raise requested by at most two steps (%llu MiB)",
	       (unsigned long long)(peak_rise / MIB));
	tap_ok(peak_rise > 0, "trust rate: ... and the guest still got something");
}

/* A victim that lies: above its fair share, it reports everything as
 * free, is picked, then gives back one block every 29 s.  The reclaim
 * ends at a deadline from its RECLAIM (one reclaim_timeout per shrink
 * step asked), is reported as stalled, the victim is not picked again,
 * and it gets nothing back above its floor while the reclaim runs. */
static void test_lying_victim(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(2 * GIB + 4 * GIB, 0);
	ArbiterContract c = contract_default();
	PolicyDemandResult r;
	ArbiterVmStatus st;
	ArbiterOps ops;
	uint64_t plugged = 3 * GIB;
	int64_t t, given_up_at = -1;
	bool stalled_op = false, granted_back = false;

	add_vm(arb, 1, &c, 3 * GIB);
	c.shares = 3000;
	add_vm(arb, 2, &c, 0);
	report(arb, 1, 3 * GIB, 3 * GIB, 0);
	arbiter_demand(arb, 2, 2 * GIB, OMEM_RPC_URGENCY_HIGH, 0, &r, &ops);
	tap_ok(ops.count == 2 && ops.op[0].kind == ARBITER_OP_RECLAIM && ops.op[0].vm_id == 1,
	       "lying victim: A is reclaimed from for B");
	settle(arb, 2, 0);
	for (t = 1000; t <= 600000; t += 1000) {
		/* One block every 29 s, whatever was asked. */
		if (t % 29000 == 0 && plugged > requested_of(arb, 1))
			plugged -= 2 * MIB;
		arbiter_vm_set_sizes(arb, 1, requested_of(arb, 1), MAX(plugged, requested_of(arb, 1)), t);
		report(arb, 1, 3 * GIB, 3 * GIB, t);
		if (t == 5000) {
			arbiter_demand(arb, 1, 256 * MIB, OMEM_RPC_URGENCY_HIGH, t, &r, &ops);
			granted_back = r.action != POLICY_ACTION_DEFER;
			checked(arb, "victim's demand");
		}
		arbiter_tick(arb, t, &ops);
		checked(arb, "lying victim tick");
		for (unsigned i = 0; i < ops.count; i++) {
			if (ops.op[i].kind == ARBITER_OP_RECLAIM_STALLED && ops.op[i].vm_id == 1) {
				stalled_op = true;
				tap_ok(ops.op[i].released_bytes < ops.op[i].bytes / 2,
				       "lying victim: the stalled op says how little came out (%llu of %llu MiB)",
				       (unsigned long long)(ops.op[i].released_bytes / MIB),
				       (unsigned long long)(ops.op[i].bytes / MIB));
			}
			if (ops.op[i].kind == ARBITER_OP_RECLAIM && ops.op[i].vm_id == 1 && given_up_at >= 0)
				tap_ok(0, "lying victim: A picked again at %lld ms", (long long)t);
		}
		arbiter_vm_get_status(arb, 1, &st);
		if (!st.reclaim_pending && given_up_at < 0)
			given_up_at = t;
	}
	tap_ok(!granted_back, "lying victim: its DEMAND mid-reclaim gets nothing back");
	tap_ok(given_up_at > 0 && given_up_at <= 4 * 30000 + 1000,
	       "lying victim: the reclaim ends by its deadline from the RECLAIM (%lld ms)",
	       (long long)given_up_at);
	tap_ok(stalled_op, "lying victim: ... reported as stalled (a strike for the caller)");
}

/* Figures that contradict the VM's size or each other are clamped: a
 * guest claiming a tiny total, all of it free, does not look idle. */
static void test_report_clamp(void)
{
	g_autoptr(Arbiter) arb = arbiter_make(16 * GIB, 0);
	ArbiterContract c = contract_default();
	ArbiterReport liar = { .free_bytes = 2 * MIB, .total_bytes = 2 * MIB,
			       .unpluggable_bytes = UINT64_MAX, .clean_cache_bytes = UINT64_MAX };
	ArbiterVmStatus honest_st, liar_st;

	add_vm(arb, 1, &c, 2 * GIB);
	add_vm(arb, 2, &c, 2 * GIB);
	report(arb, 1, 2 * MIB, 2 * GIB, 0);
	arbiter_vm_set_report(arb, 2, &liar);
	checked(arb, "clamped report");
	arbiter_vm_get_status(arb, 1, &honest_st);
	arbiter_vm_get_status(arb, 2, &liar_st);
	tap_ok(liar_st.claim >= honest_st.claim * 0.99,
	       "report clamp: total 2 MiB all free on a 3 GiB VM does not make it the idle one (%g vs %g)",
	       liar_st.claim, honest_st.claim);
}

int main(void)
{
	test_grants();
	test_cap_frozen_drain();
	test_fair_shares();
	test_fair_shares_capped();
	test_reclaim_for_shares();
	test_idle_tax();
	test_reclaim_limits();
	test_host_pressure();
	test_admission();
	test_remove_and_events();
	test_trust_rate();
	test_lying_victim();
	test_report_clamp();
	return tap_done();
}
