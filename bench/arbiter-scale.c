/* SPDX-License-Identifier: MIT */
/*
 * arbiter-scale: how the arbiter's cost grows with the number of VMs.
 * The same random workload (demands, guest reports, size events that
 * complete the resizes, a tick per simulated second) runs against N VMs
 * and against a baseline of 100 VMs in the same process; the figure is
 * the time per decision and its ratio to the baseline (a heap makes it
 * grow like log n, a scan would make it grow like n), plus the heap
 * memory per VM (mallinfo2 before and after adding them).
 *
 *   arbiter-scale [VMS [DECISIONS]]     defaults 10000 and 400000
 *
 * Prints "key value" lines for bench/arbiter-scale.sh.
 */
#include "config.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <omem/rpc.h>

#include "arbiter/arbiter.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
	double ns_per_decision;
	double bytes_per_vm;
	uint64_t grants, defers, reclaims;
} Result;

/* @vms VMs of 1 GiB boot growable to 9 GiB; the budget gives each 2 GiB
 * beyond boot on average, so demands contend and reclaims happen. */
static Result run(unsigned int vms, unsigned int decisions)
{
	ArbiterContract c = {
		.boot_bytes = 1 * GIB, .min_bytes = 1 * GIB + 256 * MIB,
		.cap_bytes = 9 * GIB, .max_bytes = 9 * GIB, .block_bytes = 2 * MIB,
	};
	uint64_t *plugged = calloc(vms, sizeof(*plugged));
	ArbiterConfig config;
	ArbiterStats stats;
	struct mallinfo2 before, after;
	PolicyDemandResult r;
	ArbiterOps ops;
	Arbiter *arb;
	Result res = { 0 };
	int64_t t_ms = 0;
	double t0, t;

	if (!plugged)
		abort();
	arbiter_config_init(&config);
	config.budget_bytes = (uint64_t)vms * (3 * GIB + config.vm_overhead_bytes);
	before = mallinfo2();
	if (arbiter_new(&config, &arb) < 0)
		abort();
	for (unsigned int i = 0; i < vms; i++) {
		c.shares = 500 + (uint32_t)(rng() % 4) * 500;
		if (arbiter_vm_add(arb, i, NULL, &c, 256 * MIB, 256 * MIB, 0) < 0)
			abort();
		plugged[i] = 256 * MIB;
	}
	after = mallinfo2();
	res.bytes_per_vm = (double)(after.uordblks - before.uordblks) / vms;

	t0 = now_s();
	for (unsigned int d = 0; d < decisions; d++) {
		uint64_t id = rng() % vms;
		unsigned int kind = (unsigned int)(rng() % 10);

		if (kind < 5) {
			arbiter_demand(arb, id, (1 + rng() % 8) * 128 * MIB, 1 + (uint32_t)(rng() % 4), t_ms,
				       &r, &ops);
			if (r.action != POLICY_ACTION_DEFER) {
				plugged[id] = r.requested_bytes;
				arbiter_vm_set_sizes(arb, id, r.requested_bytes, r.requested_bytes, t_ms);
			}
		} else if (kind < 8) {
			ArbiterReport rep = {
				.free_bytes = rng() % (1 * GIB + plugged[id] + 1),
				.unpluggable_bytes = plugged[id],
				.total_bytes = 1 * GIB + plugged[id],
				.at_ms = t_ms,
			};

			arbiter_vm_set_report(arb, id, &rep);
		} else if (kind < 9) {
			ArbiterVmStatus st;

			/* The device completes whatever was asked. */
			arbiter_vm_get_status(arb, id, &st);
			plugged[id] = st.requested_bytes;
			arbiter_vm_set_sizes(arb, id, st.requested_bytes, st.requested_bytes, t_ms);
		} else {
			/* The guest gave memory back (a SURPLUS the caller
			 * decided with policy_decide_surplus): down to the
			 * floor, so the budget neither fills up nor empties. */
			plugged[id] = 256 * MIB;
			arbiter_vm_set_sizes(arb, id, 256 * MIB, 256 * MIB, t_ms);
		}
		/* Ops from demands (victims' RESIZEs) complete at the next
		 * size event of that VM; a tick per 1000 decisions. */
		if (d % 1000 == 999) {
			t_ms += 1000;
			arbiter_tick(arb, t_ms, &ops);
		}
	}
	t = now_s() - t0;
	res.ns_per_decision = t * 1e9 / decisions;
	arbiter_get_stats(arb, &stats);
	res.grants = stats.grants + stats.partial_grants;
	res.defers = stats.defers_budget + stats.defers_busy + stats.defers_cap;
	res.reclaims = stats.reclaims_issued;
	arbiter_free(arb);
	free(plugged);
	return res;
}

int main(int argc, char **argv)
{
	unsigned int vms = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 10000;
	unsigned int decisions = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 400000;
	Result base, big;

	if (vms < 100 || decisions < 1000) {
		fprintf(stderr, "usage: arbiter-scale [VMS>=100 [DECISIONS>=1000]]\n");
		return 2;
	}
	/* Warm up caches and the allocator, then the two measured runs. */
	run(100, decisions / 10);
	base = run(100, decisions);
	big = run(vms, decisions);
	printf("decisions %u\n", decisions);
	printf("base_vms 100\nbase_ns %.0f\nbase_per_s %.0f\nbase_bytes_per_vm %.0f\n",
	       base.ns_per_decision, 1e9 / base.ns_per_decision, base.bytes_per_vm);
	printf("base_grants %" PRIu64 "\nbase_defers %" PRIu64 "\nbase_reclaims %" PRIu64 "\n",
	       base.grants, base.defers, base.reclaims);
	printf("vms %u\nns %.0f\nper_s %.0f\nbytes_per_vm %.0f\n", vms, big.ns_per_decision,
	       1e9 / big.ns_per_decision, big.bytes_per_vm);
	printf("grants %" PRIu64 "\ndefers %" PRIu64 "\nreclaims %" PRIu64 "\n",
	       big.grants, big.defers, big.reclaims);
	printf("ratio %.2f\n", big.ns_per_decision / base.ns_per_decision);
	return 0;
}
