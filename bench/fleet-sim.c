/* SPDX-License-Identifier: MIT */
/*
 * fleet-sim: how many VMs one host carries at zero simulated OOM under
 * three ways of sizing them, on the same simulated workloads:
 *
 *   static   every VM holds its flavor's memory (no overcommit);
 *   balloon  a host policy with oVirt MOM's default rules moves each
 *            VM's balloon: it samples every 5 s, decides every 10 s, aims
 *            at 20 % free and moves at most 5 % of the VM's size a step;
 *   omem     omemd's real arbiter (libomem-arbiter, linked, not copied)
 *            under a host budget, with the guest module's side simulated:
 *            DEMAND when free memory falls under its buffer, SURPLUS when
 *            much is unused, answers to RECLAIM, plugs that complete
 *            within a step and unplugs that cannot take used memory.
 *
 * Every figure here is SIMULATED.  The workload model has the published
 * shape of cloud memory use, not any trace:
 *   - about half of the VMs never touch more than half of their memory
 *     (Azure's Pond paper, Li et al., ASPLOS 2023, reports that about half
 *     of the memory rented to VMs is never touched); each VM's peak is a
 *     fraction of its flavor, half of them in 15-50 %, half in 50-100 %;
 *   - a diurnal cycle (Azure's Resource Central, Cortez et al., SOSP
 *     2017, reports diurnal patterns in many VMs' utilisation): usage
 *     swings around a base with a random phase per VM;
 *   - bursts to the peak, about four a day per VM at random times, each
 *     ramping up over a minute, holding 5-30 minutes, ramping down.
 * Flavors: 2, 4, 8, 16 and 32 GiB (20/30/30/15/5 %), boot = flavor/8 for
 * the omem guests (the kernel's memory must fit there), min = boot.
 *
 * For each policy the program searches the largest number of VMs per host
 * at which no VM on any of HOSTS simulated hosts is ever short of memory
 * (usage above what it has) over HOURS simulated hours, and the host
 * never has to hold more than its memory.  Each host gets its own VMs
 * and workloads (seeded), the same for every policy.
 *
 *   fleet-sim [--hosts N] [--hours H] [--host-gib G] [--seed S] [--burst-ramp-s S]
 *
 * --burst-ramp-s (default 60) is how fast a burst reaches its peak: the
 * balloon policy moves at most 5 % of a VM a decision, so how fast the
 * workload grows decides whether it can follow at all.
 *
 * Prints "key value" lines for bench/fleet-sim.sh.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omem/rpc.h>

#include "arbiter/arbiter.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

/* The simulation's clock: 5 s, the balloon policy's sampling period and
 * well above a virtio-mem plug's latency (~0.1 s per GiB measured). */
#define SIM_STEP_S 5
/* The balloon policy decides every second sample, as MOM does (10 s). */
#define SIM_BALLOON_EVERY 2
#define SIM_BURSTS_MAX 16
#define SIM_BLOCK (2 * MIB)
/* QEMU's own memory per VM, as omemd charges it (vm_overhead). */
#define SIM_OVERHEAD (128 * MIB)
/* The guest module's SURPLUS threshold: offer memory back once this much
 * above the buffer is unused (it repeats every ~10 s while that holds). */
#define SIM_SURPLUS_SLACK (512 * MIB)

typedef struct {
	uint64_t max_bytes;      /* the flavor */
	double peak;             /* fraction of max the workload ever touches */
	double base, amplitude;  /* diurnal: base + amplitude * sin(...) of the peak */
	double phase;            /* radians */
	unsigned int bursts;
	double burst_start_s[SIM_BURSTS_MAX], burst_hold_s[SIM_BURSTS_MAX];
} SimVm;

typedef struct {
	unsigned int hosts;
	double hours;
	double ramp_s;           /* how long a burst takes to reach the peak */
	uint64_t host_bytes;
	uint64_t seed;
} SimConfig;

typedef enum { SIM_STATIC, SIM_BALLOON, SIM_OMEM } SimPolicy;

static const char *const sim_policy_names[] = { "static", "balloon", "omem" };

/* splitmix64: a small, seedable generator, so every policy sees the same
 * VMs. */
static uint64_t sim_rng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double sim_uniform(uint64_t *state, double lo, double hi)
{
	return lo + (hi - lo) * (double)(sim_rng(state) >> 11) / (double)(1ull << 53);
}

static void sim_vm_make(SimVm *vm, uint64_t *state, double seconds)
{
	static const struct { unsigned int gib, percent; } flavors[] = {
		{ 2, 20 }, { 4, 30 }, { 8, 30 }, { 16, 15 }, { 32, 5 },
	};
	unsigned int pick = (unsigned int)(sim_rng(state) % 100), sum = 0;
	double t = 0;

	memset(vm, 0, sizeof(*vm));
	for (size_t i = 0; i < sizeof(flavors) / sizeof(flavors[0]); i++) {
		sum += flavors[i].percent;
		if (pick < sum) {
			vm->max_bytes = flavors[i].gib * GIB;
			break;
		}
	}
	vm->peak = sim_rng(state) % 2 ? sim_uniform(state, 0.15, 0.5) : sim_uniform(state, 0.5, 1.0);
	vm->base = sim_uniform(state, 0.55, 0.85);
	vm->amplitude = 0.15;
	vm->phase = sim_uniform(state, 0, 2 * M_PI);
	/* Bursts as a Poisson process, four a day on average. */
	while (vm->bursts < SIM_BURSTS_MAX) {
		t += -log(1 - sim_uniform(state, 0, 0.999999)) * 86400.0 / 4;
		if (t >= seconds)
			break;
		vm->burst_start_s[vm->bursts] = t;
		vm->burst_hold_s[vm->bursts] = sim_uniform(state, 300, 1800);
		vm->bursts++;
	}
}

/* A burst's ramp, seconds: the run's --burst-ramp-s. */
static double sim_ramp_s = 60;

/* What @vm's workload uses at @t seconds, in bytes: never more than its
 * peak, never less than 10 % of the flavor (the OS itself). */
static uint64_t sim_usage(const SimVm *vm, double t)
{
	double level = vm->base + vm->amplitude * sin(2 * M_PI * t / 86400 + vm->phase);
	const double ramp = sim_ramp_s;

	for (unsigned int i = 0; i < vm->bursts; i++) {
		double start = vm->burst_start_s[i], end = start + 2 * ramp + vm->burst_hold_s[i];

		if (t < start || t >= end)
			continue;
		if (t < start + ramp)
			level += (1 - level) * (t - start) / ramp;
		else if (t < end - ramp)
			level = 1;
		else
			level += (1 - level) * (end - t) / ramp;
	}
	if (level > 1)
		level = 1;
	if (level * vm->peak < 0.1)
		return (uint64_t)(0.1 * (double)vm->max_bytes);
	return (uint64_t)(level * vm->peak * (double)vm->max_bytes);
}

static uint64_t sim_round_up(uint64_t bytes, uint64_t granule)
{
	return (bytes + granule - 1) / granule * granule;
}

/* static: fits when every flavor and its overhead fit. */
static bool sim_static(const SimVm *vms, unsigned int n, const SimConfig *config)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++)
		sum += vms[i].max_bytes + SIM_OVERHEAD;
	return sum <= config->host_bytes;
}

/* balloon: MOM's defaults.  A VM starts at its first target; each
 * decision moves the balloon toward usage / 0.8 by at most 5 % of the
 * flavor.  Fails at the first VM whose usage is above what the balloon
 * left it, or when the host would have to hold more than it has. */
static bool sim_balloon(const SimVm *vms, unsigned int n, const SimConfig *config,
			unsigned long *ret_short)
{
	uint64_t *current = calloc(n, sizeof(*current)), *sample = calloc(n, sizeof(*sample));
	long steps = (long)(config->hours * 3600 / SIM_STEP_S);
	bool ok = true;

	if (!current || !sample)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		sample[i] = sim_usage(&vms[i], 0);
		current[i] = (uint64_t)((double)sample[i] / 0.8);
		if (current[i] > vms[i].max_bytes)
			current[i] = vms[i].max_bytes;
	}
	for (long s = 0; s < steps && ok; s++) {
		double t = (double)s * SIM_STEP_S;
		uint64_t held = 0;

		for (unsigned int i = 0; i < n; i++) {
			uint64_t usage = sim_usage(&vms[i], t);

			if (s % SIM_BALLOON_EVERY == 0) {
				uint64_t target = (uint64_t)((double)sample[i] / 0.8);
				uint64_t move = vms[i].max_bytes / 20;

				if (target > vms[i].max_bytes)
					target = vms[i].max_bytes;
				if (target > current[i])
					current[i] += target - current[i] < move ? target - current[i] : move;
				else
					current[i] -= current[i] - target < move ? current[i] - target : move;
			}
			sample[i] = usage;
			if (usage > current[i]) {
				(*ret_short)++;
				ok = false;
			}
			held += current[i] + SIM_OVERHEAD;
		}
		if (held > config->host_bytes)
			ok = false;
	}
	free(current);
	free(sample);
	return ok;
}

/* One omem VM's devices as the simulated guest and libvirt see them. */
typedef struct {
	uint64_t boot_bytes, requested_bytes, plugged_bytes;
} SimOmemVm;

/* A resize reaches the guest: a plug completes within the step; an
 * unplug cannot take memory the workload uses. */
static void sim_omem_resize(Arbiter *arbiter, SimOmemVm *dev, uint64_t id, uint64_t requested,
			    uint64_t usage, int64_t now_ms)
{
	uint64_t used_beyond_boot = usage > dev->boot_bytes ? usage - dev->boot_bytes : 0;
	uint64_t keep = sim_round_up(used_beyond_boot, SIM_BLOCK);

	dev->requested_bytes = requested;
	if (requested >= dev->plugged_bytes)
		dev->plugged_bytes = requested;
	else
		dev->plugged_bytes = requested > keep ? requested : (keep < dev->plugged_bytes ? keep : dev->plugged_bytes);
	arbiter_vm_set_sizes(arbiter, id, dev->requested_bytes, dev->plugged_bytes, now_ms);
}

/* The guest's SURPLUS (also its answer to RECLAIM), decided by omemd's
 * own per-VM rules. */
static void sim_omem_surplus(Arbiter *arbiter, const ArbiterConfig *config, SimOmemVm *dev,
			     const ArbiterContract *contract, uint64_t id, uint64_t usage, int64_t now_ms)
{
	uint64_t total = dev->boot_bytes + dev->plugged_bytes;
	PolicyVm pvm = {
		.boot_bytes = contract->boot_bytes, .min_bytes = contract->min_bytes,
		.cap_bytes = contract->cap_bytes, .max_bytes = contract->max_bytes,
		.buffer_percent = contract->buffer_percent, .block_bytes = contract->block_bytes,
		.requested_bytes = dev->requested_bytes, .plugged_bytes = dev->plugged_bytes,
	};
	PolicySurplus surplus = {
		.free_bytes = total > usage ? total - usage : 0,
		.unpluggable_bytes = total > usage ? total - usage : 0,
	};
	PolicyResizeResult result;

	if (policy_decide_surplus(&config->policy, &pvm, &surplus, &result) == 0 &&
	    result.action == POLICY_ACTION_SHRINK)
		sim_omem_resize(arbiter, dev, id, result.requested_bytes, usage, now_ms);
}

static void sim_omem_apply(Arbiter *arbiter, const ArbiterConfig *config, SimOmemVm *devs,
			   const ArbiterContract *contracts, const uint64_t *usage, const ArbiterOps *ops,
			   int64_t now_ms)
{
	for (unsigned int k = 0; k < ops->count; k++) {
		const ArbiterOp *op = &ops->op[k];

		if (op->kind == ARBITER_OP_RESIZE)
			sim_omem_resize(arbiter, &devs[op->vm_id], op->vm_id, op->bytes, usage[op->vm_id], now_ms);
		else
			sim_omem_surplus(arbiter, config, &devs[op->vm_id], &contracts[op->vm_id], op->vm_id,
					 usage[op->vm_id], now_ms);
	}
}

/* omem: the arbiter with the host's memory (less the host's own 5 %) as
 * its budget.  Fails at the first VM whose usage is above boot + plugged
 * once the step's decisions are carried out, or an arbiter invariant that
 * breaks. */
static bool sim_omem(const SimVm *vms, unsigned int n, const SimConfig *config,
		     unsigned long *ret_short, unsigned long *ret_demands)
{
	SimOmemVm *devs = calloc(n, sizeof(*devs));
	ArbiterContract *contracts = calloc(n, sizeof(*contracts));
	uint64_t *usage = calloc(n, sizeof(*usage));
	long steps = (long)(config->hours * 3600 / SIM_STEP_S);
	ArbiterConfig aconfig;
	Arbiter *arbiter;
	ArbiterOps ops;
	bool ok = true;

	if (!devs || !contracts || !usage)
		abort();
	arbiter_config_init(&aconfig);
	aconfig.budget_bytes = config->host_bytes;
	aconfig.vm_overhead_bytes = SIM_OVERHEAD;
	if (arbiter_new(&aconfig, &arbiter) < 0)
		abort();
	for (unsigned int i = 0; i < n && ok; i++) {
		uint64_t boot = vms[i].max_bytes / 8;
		ArbiterAdmitResult admit;
		char key[32];

		contracts[i] = (ArbiterContract){
			.boot_bytes = boot, .min_bytes = boot, .cap_bytes = vms[i].max_bytes,
			.max_bytes = vms[i].max_bytes, .block_bytes = SIM_BLOCK,
			.shares = ARBITER_SHARES_DEFAULT, .buffer_percent = 10,
		};
		/* Admission is omemd's too: a host that cannot hold every
		 * VM's min refuses the VM, which counts as a failure here. */
		snprintf(key, sizeof(key), "vm%u", i);
		if (arbiter_admit(arbiter, key, &contracts[i], 0, &admit) < 0 || !admit.admitted ||
		    arbiter_vm_add(arbiter, i, key, &contracts[i], 0, 0, 0) < 0)
			ok = false;
		devs[i].boot_bytes = boot;
	}
	for (long s = 0; s < steps && ok; s++) {
		double t = (double)s * SIM_STEP_S;
		int64_t now_ms = (int64_t)s * SIM_STEP_S * 1000;

		for (unsigned int i = 0; i < n; i++) {
			SimOmemVm *dev = &devs[i];
			uint64_t total = dev->boot_bytes + dev->plugged_bytes;
			uint64_t need = usage[i] = sim_usage(&vms[i], t);
			ArbiterReport report = {
				.free_bytes = total > need ? total - need : 0,
				.unpluggable_bytes = total > need ? total - need : 0,
				.total_bytes = total,
				.at_ms = now_ms,
			};

			arbiter_vm_set_report(arbiter, i, &report);
			need += need / 10; /* the contract's buffer */
			if (need > total) {
				PolicyDemandResult result;
				uint32_t urgency = usage[i] > total ? OMEM_RPC_URGENCY_CRITICAL :
						   OMEM_RPC_URGENCY_NORMAL;

				(*ret_demands)++;
				if (arbiter_demand(arbiter, i, need - total, urgency, now_ms, &result, &ops) == 0) {
					if (result.action != POLICY_ACTION_DEFER)
						sim_omem_resize(arbiter, dev, i, result.requested_bytes, usage[i],
								now_ms);
					sim_omem_apply(arbiter, &aconfig, devs, contracts, usage, &ops, now_ms);
				}
			} else if (total - need > SIM_SURPLUS_SLACK && s % 2 == 0) {
				sim_omem_surplus(arbiter, &aconfig, dev, &contracts[i], i, usage[i], now_ms);
			}
		}
		arbiter_tick(arbiter, now_ms, &ops);
		sim_omem_apply(arbiter, &aconfig, devs, contracts, usage, &ops, now_ms);
		for (unsigned int i = 0; i < n; i++) {
			if (usage[i] > devs[i].boot_bytes + devs[i].plugged_bytes) {
				(*ret_short)++;
				ok = false;
			}
		}
		if (s % 720 == 0 && !arbiter_check(arbiter, NULL)) {
			fprintf(stderr, "fleet-sim: an arbiter invariant broke at step %ld\n", s);
			abort();
		}
	}
	arbiter_free(arbiter);
	free(devs);
	free(contracts);
	free(usage);
	return ok;
}

/* Whether @n VMs per host run without a shortage on every host. */
static bool sim_fits(SimPolicy policy, unsigned int n, const SimConfig *config, SimVm *vms,
		     unsigned long *ret_short, unsigned long *ret_demands)
{
	for (unsigned int h = 0; h < config->hosts; h++) {
		uint64_t state = config->seed * 1000003 + h;
		bool ok;

		for (unsigned int i = 0; i < n; i++)
			sim_vm_make(&vms[i], &state, config->hours * 3600);
		switch (policy) {
		case SIM_STATIC: ok = sim_static(vms, n, config); break;
		case SIM_BALLOON: ok = sim_balloon(vms, n, config, ret_short); break;
		default: ok = sim_omem(vms, n, config, ret_short, ret_demands); break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* The largest n in [1, limit] that fits, by bisection (a denser host
 * only has more to hold, so fitting is monotone up to the noise of the
 * seeds, which the same seeds for every n keep out). */
static unsigned int sim_density(SimPolicy policy, const SimConfig *config, unsigned int limit,
				unsigned long *ret_demands)
{
	SimVm *vms = calloc(limit + 1, sizeof(*vms));
	unsigned int lo = 0, hi = limit + 1;

	if (!vms)
		abort();
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;
		unsigned long shortages = 0, demands = 0;

		if (sim_fits(policy, mid, config, vms, &shortages, &demands)) {
			lo = mid;
			*ret_demands = demands;
		} else {
			hi = mid;
		}
	}
	free(vms);
	return lo;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "hosts", required_argument, NULL, 'n' },
		{ "hours", required_argument, NULL, 't' },
		{ "host-gib", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "burst-ramp-s", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	SimConfig config = { .hosts = 16, .hours = 24, .ramp_s = 60, .host_bytes = 512 * GIB, .seed = 1 };
	unsigned int density[3];
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'n': config.hosts = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': config.hours = strtod(optarg, NULL); break;
		case 'g': config.host_bytes = strtoull(optarg, NULL, 10) * GIB; break;
		case 's': config.seed = strtoull(optarg, NULL, 10); break;
		case 'r': config.ramp_s = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: fleet-sim [--hosts N] [--hours H] [--host-gib G] [--seed S] [--burst-ramp-s S]\n");
			return 2;
		}
	}
	if (config.hosts == 0 || config.hours <= 0 || config.host_bytes < 16 * GIB || config.ramp_s < 1) {
		fprintf(stderr, "fleet-sim: want at least one host, some hours, 16 GiB per host and a ramp of 1 s or more\n");
		return 2;
	}
	sim_ramp_s = config.ramp_s;
	printf("hosts %u\nhours %g\nhost_gib %llu\nseed %llu\nburst_ramp_s %g\n", config.hosts, config.hours,
	       (unsigned long long)(config.host_bytes / GIB), (unsigned long long)config.seed, config.ramp_s);
	for (int p = SIM_STATIC; p <= SIM_OMEM; p++) {
		unsigned long demands = 0;
		/* A host holds at most one VM per 10 % of the smallest
		 * flavor (the OS floor), so this bounds every search. */
		unsigned int limit = (unsigned int)(config.host_bytes / (GIB / 5));

		density[p] = sim_density((SimPolicy)p, &config, limit, &demands);
		printf("%s_vms_per_host %u\n", sim_policy_names[p], density[p]);
		if (p == SIM_OMEM)
			printf("omem_demands %lu\n", demands);
		fflush(stdout);
	}
	printf("balloon_over_static %.2f\nomem_over_static %.2f\nomem_over_balloon %.2f\n",
	       (double)density[SIM_BALLOON] / density[SIM_STATIC],
	       (double)density[SIM_OMEM] / density[SIM_STATIC],
	       density[SIM_BALLOON] ? (double)density[SIM_OMEM] / density[SIM_BALLOON] : 0.0);
	return 0;
}
