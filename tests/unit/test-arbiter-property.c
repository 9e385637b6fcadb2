/* SPDX-License-Identifier: MIT */
/*
 * test-arbiter-property: thousands of random sequences against the
 * arbiter, with a simulated virtio-mem device per VM whose plugged size
 * follows requested with a random lag, or stalls, and whose size events
 * libvirt may lose, repeat or deliver late.  VMs start (after admission),
 * stop, crash and reboot; guests demand and report; the operator changes
 * caps, freezes and drains; the host comes under pressure.  After every
 * step: arbiter_check passes, no decision takes requested past the
 * ceiling or below the floor, and no VM below its fair share waits long
 * while another VM has memory a reclaim could take and none is issued.
 *
 * The seed is printed; OMEM_PROPERTY_SEED=N replays a run.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <omem/rpc.h>

#include "arbiter/arbiter.h"
#include "tap.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define SLOTS 8
#define SEQUENCES 3000
#define STEPS 1000
/* A VM below its fair share may wait this many ticks for a reclaim: a
 * stalled victim holds its reclaim until reclaim_timeout_ms (30 s). */
#define STARVE_TICKS 45

static uint64_t rng_state;

/* splitmix64: small, seedable, good enough to pick actions. */
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t pick(uint64_t n)
{
	return n ? rng() % n : 0;
}

/* One simulated VM: what the device really does. */
typedef struct {
	bool alive;
	uint64_t id;
	ArbiterContract contract;
	uint64_t requested;   /* device requested (what the caller applied) */
	uint64_t plugged;     /* device plugged */
	bool stalled;         /* unplug stuck: plugged never comes down */
	bool late_pending;    /* an old size event still to be delivered */
	uint64_t late_requested, late_plugged;
	ArbiterReport report;  /* the last one sent */
	bool reported;
	int64_t waiting_since; /* tick a wait below the fair share began, -1 none */
	uint64_t reclaims_then;
} SimVm;

static SimVm vms[SLOTS];
static Arbiter *arb;
static int64_t now_ms;
static uint64_t next_id = 1;
static int failures;
static uint64_t total_steps;
static ArbiterStats totals; /* summed over sequences: shows what was exercised */

/* Report the first few failures only: one bug breaks many steps. */
static void fail(const char *what)
{
	if (failures++ < 5)
		tap_ok(0, "%s (at %" PRId64 " ms)", what, now_ms);
}

static void check(const char *what)
{
	g_autofree char *why = NULL;

	total_steps++;
	if (!arbiter_check(arb, &why)) {
		if (failures++ < 5)
			tap_ok(0, "invariants after %s: %s", what, why);
	}
}

static SimVm *find(uint64_t id)
{
	for (int i = 0; i < SLOTS; i++)
		if (vms[i].alive && vms[i].id == id)
			return &vms[i];
	return NULL;
}

/* Carry out ops as omemd would, checking each against the contract. */
static void apply_ops(const ArbiterOps *ops, const char *what)
{
	for (unsigned int i = 0; i < ops->count; i++) {
		const ArbiterOp *op = &ops->op[i];
		SimVm *vm = find(op->vm_id);
		ArbiterVmStatus st;

		if (!vm) {
			fail("op for an unknown VM");
			continue;
		}
		if (op->kind != ARBITER_OP_RESIZE)
			continue;
		arbiter_vm_get_status(arb, op->vm_id, &st);
		if (op->bytes > st.ceiling_bytes && st.ceiling_bytes >= st.floor_bytes)
			fail("RESIZE above the ceiling");
		if (op->bytes < st.floor_bytes)
			fail("RESIZE below the floor");
		vm->requested = op->bytes;
	}
}

static ArbiterContract random_contract(void)
{
	uint64_t boot = (1 + pick(4)) * 256 * MIB;
	uint64_t max = boot + (1 + pick(16)) * 256 * MIB;
	uint64_t min = boot + pick((max - boot) / (128 * MIB) + 1) * 64 * MIB;

	return (ArbiterContract){
		.boot_bytes = boot,
		.min_bytes = min < max ? min : max,
		.max_bytes = max,
		.cap_bytes = max - pick(2) * pick((max - boot) / MIB) * MIB,
		.block_bytes = 2 * MIB << pick(3),
		.shares = (uint32_t)pick(4) * 500,
		.buffer_percent = 10,
	};
}

static void deliver(SimVm *vm, uint64_t requested, uint64_t plugged)
{
	arbiter_vm_set_sizes(arb, vm->id, requested, plugged, now_ms);
	check("set_sizes");
}

/* The device moves toward requested; libvirt tells (or not). */
static void device_step(SimVm *vm)
{
	uint64_t chunk = (1 + pick(4)) * 64 * MIB, old_req = vm->requested, old_plug = vm->plugged;
	int fate = (int)pick(20);

	if (vm->plugged < vm->requested)
		vm->plugged = vm->requested - vm->plugged > chunk ? vm->plugged + chunk : vm->requested;
	else if (vm->plugged > vm->requested && !vm->stalled)
		vm->plugged = vm->plugged - vm->requested > chunk ? vm->plugged - chunk : vm->requested;
	if (vm->plugged == old_plug && !pick(4))
		return;
	if (fate == 0)
		return; /* lost */
	if (fate == 1 && !vm->late_pending) {
		/* delivered later, after a newer one */
		vm->late_pending = true;
		vm->late_requested = old_req;
		vm->late_plugged = old_plug;
		return;
	}
	deliver(vm, vm->requested, vm->plugged);
	if (fate == 2)
		deliver(vm, vm->requested, vm->plugged); /* duplicated */
	if (vm->late_pending && pick(2)) {
		vm->late_pending = false;
		deliver(vm, vm->late_requested, vm->late_plugged);
		/* the next event corrects it */
		deliver(vm, vm->requested, vm->plugged);
	}
}

static void start_vm(SimVm *vm)
{
	ArbiterContract c = random_contract();
	ArbiterAdmitResult a;
	ArbiterOps ops;
	char key[32];
	uint64_t id = next_id++;

	snprintf(key, sizeof(key), "uuid-%" PRIu64, id);
	arbiter_admit(arb, key, &c, now_ms, &a);
	check("admit");
	if (!a.admitted) {
		if (a.needed_bytes + a.committed_bytes + a.reserved_bytes <= a.budget_bytes)
			fail("admission refused although the VM fits");
		return;
	}
	*vm = (SimVm){ .alive = true, .id = id, .contract = c, .waiting_since = -1 };
	if (arbiter_vm_add(arb, id, key, &c, 0, 0, now_ms) < 0)
		fail("add of an admitted VM failed");
	check("add");
	arbiter_vm_reevaluate(arb, id, now_ms, &ops);
	apply_ops(&ops, "reevaluate");
	check("reevaluate");
}

static void demand(SimVm *vm)
{
	PolicyDemandResult r;
	ArbiterVmStatus st;
	ArbiterOps ops;
	uint64_t bytes = (1 + pick(16)) * 64 * MIB;

	arbiter_demand(arb, vm->id, bytes, 1 + (uint32_t)pick(4), now_ms, &r, &ops);
	check("demand");
	arbiter_vm_get_status(arb, vm->id, &st);
	if (r.action != POLICY_ACTION_DEFER) {
		if (r.requested_bytes > st.ceiling_bytes)
			fail("a grant went past the ceiling");
		vm->requested = r.requested_bytes;
	}
	apply_ops(&ops, "demand");
}

static void report(SimVm *vm)
{
	uint64_t total = vm->contract.boot_bytes + vm->plugged;
	ArbiterReport r = {
		.free_bytes = pick(total + 1),
		.clean_cache_bytes = pick(total / 4 + 1),
		.unpluggable_bytes = pick(vm->plugged + 1),
		.total_bytes = total,
		.at_ms = now_ms,
	};

	arbiter_vm_set_report(arb, vm->id, &r);
	/* What the arbiter believes of it: figures that contradict the VM's
	 * size or each other are clamped (a lying guest's cannot count). */
	vm->report = r;
	arbiter_report_clamp(&vm->report, vm->contract.boot_bytes, vm->plugged);
	vm->reported = true;
	check("report");
}

static void change_contract(SimVm *vm)
{
	ArbiterContract c = vm->contract;
	ArbiterOps ops;
	uint64_t room = (c.max_bytes - c.min_bytes) / MIB;

	switch (pick(4)) {
	case 0: c.cap_bytes = c.min_bytes + pick(room + 1) * MIB; break;
	case 1: c.frozen = !c.frozen; break;
	case 2: c.drain = !c.drain; break;
	default: c.shares = (uint32_t)pick(5000); break;
	}
	vm->contract = c;
	arbiter_vm_set_contract(arb, vm->id, &c, now_ms, &ops);
	apply_ops(&ops, "contract");
	check("contract");
}

static void reboot(SimVm *vm)
{
	ArbiterOps ops;

	/* QEMU resets the devices: nothing plugged, requested as it was. */
	vm->plugged = 0;
	vm->stalled = false;
	deliver(vm, vm->requested, 0);
	arbiter_vm_reevaluate(arb, vm->id, now_ms, &ops);
	apply_ops(&ops, "reboot");
	check("reboot");
}

/* Whether some VM other than @except clearly has memory a reclaim could
 * take: a fresh report that lets it give 512 MiB without going below its
 * fair share or floor, and nothing stopping a reclaim (frozen, draining,
 * already shrinking, itself waiting, or barred after a reclaim of it
 * stalled). */
static bool victim_exists(const SimVm *except)
{
	for (int i = 0; i < SLOTS; i++) {
		const SimVm *vm = &vms[i];
		uint64_t give, bound;
		ArbiterVmStatus st;

		if (!vm->alive || vm == except || !vm->reported || vm->contract.frozen || vm->contract.drain)
			continue;
		if (vm->report.at_ms + 30000 - 2000 < now_ms)
			continue;
		arbiter_vm_get_status(arb, vm->id, &st);
		if (st.reclaim_pending || st.waiting || now_ms < st.reclaim_barred_until_ms)
			continue;
		give = vm->report.free_bytes + vm->report.clean_cache_bytes;
		give = give < vm->report.unpluggable_bytes ? give : vm->report.unpluggable_bytes;
		give = give < st.plugged_bytes ? give : st.plugged_bytes;
		bound = st.fair_share_bytes > st.floor_bytes ? st.fair_share_bytes : st.floor_bytes;
		if (give >= 512 * MIB && st.requested_bytes >= bound + 1 * GIB &&
		    st.plugged_bytes - give + 512 * MIB <= st.requested_bytes)
			return true;
	}
	return false;
}

static void check_starvation(bool global_hold)
{
	ArbiterStats stats;

	arbiter_get_stats(arb, &stats);
	for (int i = 0; i < SLOTS; i++) {
		SimVm *vm = &vms[i];
		ArbiterVmStatus st;

		if (!vm->alive)
			continue;
		arbiter_vm_get_status(arb, vm->id, &st);
		if (!st.waiting || global_hold) {
			vm->waiting_since = -1;
			continue;
		}
		if (vm->waiting_since < 0) {
			vm->waiting_since = now_ms;
			vm->reclaims_then = stats.reclaims_issued;
			continue;
		}
		if (now_ms - vm->waiting_since > STARVE_TICKS * 1000) {
			if (stats.reclaims_issued == vm->reclaims_then && victim_exists(vm))
				fail("a VM waited below its fair share with no reclaim issued");
			vm->waiting_since = now_ms;
			vm->reclaims_then = stats.reclaims_issued;
		}
	}
}

static void run_sequence(void)
{
	ArbiterConfig config;
	bool freeze_all = false, drain_all = false;

	arbiter_config_init(&config);
	config.budget_bytes = (4 + pick(12)) * GIB;
	config.vm_overhead_bytes = pick(2) * 64 * MIB;
	config.idle_tax_percent = (uint32_t)pick(100);
	memset(vms, 0, sizeof(vms));
	now_ms = 0;
	if (arbiter_new(&config, &arb) < 0)
		abort();
	for (int step = 0; step < STEPS; step++) {
		SimVm *vm = &vms[pick(SLOTS)];
		int action = (int)pick(100);
		ArbiterOps ops;

		if (!vm->alive) {
			if (action < 60)
				start_vm(vm);
			continue;
		}
		if (action < 30) {
			demand(vm);
		} else if (action < 45) {
			report(vm);
		} else if (action < 52) {
			change_contract(vm);
		} else if (action < 55) {
			arbiter_vm_remove(arb, vm->id); /* stop or crash */
			vm->alive = false;
			check("remove");
		} else if (action < 58) {
			reboot(vm);
		} else if (action < 61) {
			vm->stalled = !vm->stalled;
		} else if (action < 63) {
			ArbiterHost host = { .mem_available_bytes = pick(4) * 256 * MIB,
					     .psi_some_avg10 = (uint32_t)pick(3000), .known = !pick(4) };

			arbiter_set_host(arb, &host);
		} else if (action < 64) {
			if (pick(2)) {
				freeze_all = !freeze_all;
				arbiter_set_freeze_all(arb, freeze_all);
			} else {
				drain_all = !drain_all;
				arbiter_set_drain_all(arb, drain_all);
			}
			check("host-wide flag");
		} else if (action < 65) {
			config.budget_bytes = (4 + pick(12)) * GIB;
			arbiter_set_config(arb, &config);
			check("set_config");
		} else {
			now_ms += 1000;
			for (int i = 0; i < SLOTS; i++) {
				ArbiterVmStatus st;

				if (!vms[i].alive)
					continue;
				device_step(&vms[i]);
				/* A guest short of memory retries after retry_after. */
				arbiter_vm_get_status(arb, vms[i].id, &st);
				if (st.waiting && pick(2))
					demand(&vms[i]);
			}
			arbiter_tick(arb, now_ms, &ops);
			apply_ops(&ops, "tick");
			check("tick");
			check_starvation(freeze_all || drain_all);
		}
	}
	{
		ArbiterStats st;

		arbiter_get_stats(arb, &st);
		totals.grants += st.grants;
		totals.partial_grants += st.partial_grants;
		totals.defers_budget += st.defers_budget;
		totals.reclaims_issued += st.reclaims_issued;
		totals.reclaims_given_up += st.reclaims_given_up;
		totals.admissions_refused += st.admissions_refused;
	}
	arbiter_free(arb);
	arb = NULL;
}

int main(void)
{
	const char *env = getenv("OMEM_PROPERTY_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)g_get_real_time();

	tap_diag("seed %" PRIu64 " (OMEM_PROPERTY_SEED=%" PRIu64 " replays it)", seed, seed);
	rng_state = seed;
	for (int s = 0; s < SEQUENCES; s++)
		run_sequence();
	tap_diag("grants %" PRIu64 ", partial %" PRIu64 ", defer budget %" PRIu64 ", reclaims %" PRIu64
		 " (given up %" PRIu64 "), admissions refused %" PRIu64, totals.grants, totals.partial_grants,
		 totals.defers_budget, totals.reclaims_issued, totals.reclaims_given_up, totals.admissions_refused);
	tap_ok(failures == 0, "%d sequences of %d steps (%" PRIu64 " checked states): invariants hold",
	       SEQUENCES, STEPS, total_steps);
	return tap_done();
}
