// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_policy.c - the memory policy's kernel glue: it samples the guest's
 * memory, hears reclaim (a shrinker) and the OOM killer (an OOM notifier,
 * which gives back the OOM reserve of omem_reserve.c), and sends DEMAND,
 * SURPLUS and STATS as omem_decide.c decides.
 *
 * Contexts:
 *  - shrinker count_objects (any task in reclaim) and the OOM notifier
 *    (under oom_lock): note the event, free the reserve (OOM only) and
 *    kick the policy work; they never sleep, allocate or take
 *    omem_policy.lock;
 *  - omem_policy.wq, ordered, WQ_MEM_RECLAIM (it must run while the guest
 *    is out of memory): the policy work, every sample, decision and send;
 *  - the session's workqueue: the omem_policy_ops hooks, which update the
 *    decision state under omem_policy.lock and kick the work.
 *
 * The policy is module-wide (one omem device per guest at most) and lives
 * from module load to unload, so the reserve and the OOM notifier also
 * serve a guest whose omemd is not there yet, and the consumption trend
 * outlives an omemd restart.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/memory.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/oom.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "omem_client.h"
#include "omem_decide.h"

/* 100 ms: TCG plugs 1 GiB in ~80 ms, so a slower tick would dominate the
 * reaction time; a sample costs a few microseconds. */
static unsigned int omem_policy_sample_ms = 100;
module_param_named(sample_ms, omem_policy_sample_ms, uint, 0644);
MODULE_PARM_DESC(sample_ms,
		 "How often memory is sampled while a session is open, in ms (default 100; reclaim wakes the sampler at once)");

/* 1 s without a session: the reserve's refill and the consumption trend
 * (kept for the next session) need the sampler. */
#define OMEM_POLICY_IDLE_SAMPLE_MS 1000u

/* 32 MiB: the plug path's page tables and slab, and the kernel's own
 * watermarks, with room; small enough for a 256 MiB guest.  The memmap
 * of what one grant plugs comes on top (omem_decide_marks()). */
static unsigned int omem_policy_low_floor_mib = 32;
module_param_named(low_floor_mib, omem_policy_low_floor_mib, uint, 0644);
MODULE_PARM_DESC(low_floor_mib,
		 "Floor of the low mark, in MiB (default 32); the low mark is max(floor, low_percent of MemTotal) + the memmap of what one grant plugs, the early mark twice that + what the trend takes in trend_lead_ms");

/* 5 %: large guests keep a proportional cushion for their bursts. */
static unsigned int omem_policy_low_percent = 5;
module_param_named(low_percent, omem_policy_low_percent, uint, 0644);
MODULE_PARM_DESC(low_percent,
		 "Low mark as a share of MemTotal when above the floor, in percent (default 5)");

/*
 * The surplus hold adapts (omem_decide_surplus_hold()): 3 s at first, so
 * memory a workload frees, or the trend's lead it did not use, goes back
 * within seconds; doubled, up to 30 s, each time the guest asks for
 * memory within 60 s of giving it back, so a workload that returns keeps
 * its memory through the lull; halved by a give-back after a calm
 * minute.  3 s between repeated offers: the first offer's keep mark is a
 * share of the larger total, so a second one usually finishes the job.
 */
static unsigned int omem_policy_surplus_hold_ms = 3000;
module_param_named(surplus_hold_ms, omem_policy_surplus_hold_ms, uint, 0644);
MODULE_PARM_DESC(surplus_hold_ms,
		 "Shortest time MemAvailable must stay above the high mark before SURPLUS is sent, in ms (default 3000)");

static unsigned int omem_policy_surplus_hold_max_ms = 30000;
module_param_named(surplus_hold_max_ms, omem_policy_surplus_hold_max_ms, uint, 0644);
MODULE_PARM_DESC(surplus_hold_max_ms,
		 "Longest surplus hold, reached by doubling after give-backs the guest had to ask back, in ms (default 30000)");

static unsigned int omem_policy_surplus_regret_ms = 60000;
module_param_named(surplus_regret_ms, omem_policy_surplus_regret_ms, uint, 0644);
MODULE_PARM_DESC(surplus_regret_ms,
		 "A DEMAND this soon after a SURPLUS doubles the hold; a SURPLUS with no DEMAND this long before halves it, in ms (default 60000)");

static unsigned int omem_policy_surplus_interval_ms = 3000;
module_param_named(surplus_interval_ms, omem_policy_surplus_interval_ms, uint, 0644);
MODULE_PARM_DESC(surplus_interval_ms,
		 "Least spacing of unsolicited SURPLUS messages, in ms (default 3000)");

/* 2 s: omemd answers in well under 100 ms; a longer silence is a lost
 * message or a restarting omemd. */
static unsigned int omem_policy_reply_timeout_ms = 2000;
module_param_named(reply_timeout_ms, omem_policy_reply_timeout_ms, uint, 0644);
MODULE_PARM_DESC(reply_timeout_ms,
		 "How long a DEMAND waits for GRANT or DENY before another may go, in ms (default 2000)");

/* 5 s: libvirt plus virtio_mem plug 1 GiB in ~0.1 s; a plug that takes
 * longer has stalled and the guest may ask again. */
static unsigned int omem_policy_grant_timeout_ms = 5000;
module_param_named(grant_timeout_ms, omem_policy_grant_timeout_ms, uint, 0644);
MODULE_PARM_DESC(grant_timeout_ms,
		 "How long granted memory may take to arrive before the guest asks again, in ms (default 5000)");

/* 1 s: kswapd and direct reclaim call the shrinker many times a second
 * while they run. */
static unsigned int omem_policy_reclaim_window_ms = 1000;
module_param_named(reclaim_window_ms, omem_policy_reclaim_window_ms, uint, 0644);
MODULE_PARM_DESC(reclaim_window_ms,
		 "Reclaim seen by the shrinker this recently makes a demand HIGH, in ms (default 1000)");

static unsigned int omem_policy_trend_window_ms = 500;
module_param_named(trend_window_ms, omem_policy_trend_window_ms, uint, 0644);
MODULE_PARM_DESC(trend_window_ms,
		 "Window over which the growth of used memory (the consumption trend) is measured, in ms (default 500)");

/*
 * 3 s: how long a grant takes to become usable memory under TCG on a
 * busy two-core host: the round trip and libvirt take ~0.1 s, but the
 * guest adds and onlines blocks at ~100-200 MiB/s while the workload
 * competes for its one vCPU (measured: 256 MiB in 0.8-2.6 s, 384 MiB in
 * 2.6 s).  The guest asks this far ahead of the trend: at memload's
 * 128 MiB/s that is 384 MiB, so the plug lands while MemAvailable is
 * still ~400 MiB above the low mark, and the boot RAM, which holds the
 * memmap of every block to come (2 MiB each), is never what the workload
 * eats.  1 s (the old default) left 128 MiB: less than one TCG plug of
 * 256 MiB takes.  Under KVM plugs take ~0.1 s and the longer lead only
 * asks for more at once; SURPLUS gives it back after the growth.
 */
static unsigned int omem_policy_trend_lead_ms = 3000;
module_param_named(trend_lead_ms, omem_policy_trend_lead_ms, uint, 0644);
MODULE_PARM_DESC(trend_lead_ms,
		 "The early mark and demands add what the consumption trend takes in this long (the plug's latency), in ms (default 3000)");

/* omem_policy.flags bits, set from any context. */
enum {
	OMEM_POLICY_KICKED,	/* the work is queued to run at once */
	OMEM_POLICY_OOM,	/* the OOM notifier fired: CRITICAL demand */
	OMEM_POLICY_RECLAIM,	/* RECLAIM arrived: answer with SURPLUS */
};

/* Counters shown in debugfs; atomic so any context may bump them. */
struct omem_policy_counters {
	atomic64_t samples;
	atomic64_t kicks;		/* immediate samples (reclaim, OOM, hooks) */
	atomic64_t demands[OMEM_RPC_URGENCY_CRITICAL + 1]; /* by urgency */
	atomic64_t demand_send_failed;
	atomic64_t demands_at_cap;	/* wanted memory, nothing left under the cap */
	atomic64_t grants;
	atomic64_t grants_stale;	/* answered no DEMAND in flight */
	atomic64_t denies;
	atomic64_t surpluses;
	atomic64_t reclaims;
	atomic64_t stats;
	atomic64_t oom_notified;
	atomic64_t oom_rescues;		/* OOM kill averted by the reserve */
	atomic64_t oom_unsent;		/* CRITICAL demand impossible: no session */
	atomic64_t reserve_refills;
};

/**
 * struct omem_policy - the module-wide policy
 * @lock:          protects @client, @contract, @total_at_open, @state,
 *                 @sample, @hold, @demand, @surplus, @reclaim_seq and
 *                 @events.  A mutex: taken only in process context.
 * @client:        the client of the open session, NULL without one.
 * @contract:      WELCOME's contract, valid while @client is set.
 * @total_at_open: MemTotal in bytes when WELCOME came: the plugged
 *                 amount now is the contract's plus MemTotal's growth.
 * @state:         the decisions' memory (omem_decide.h).
 * @sample:        the last sample, for debugfs.
 * @hold:          why the last sample sent no DEMAND.
 * @demand:        the last DEMAND sent.
 * @surplus:       the last SURPLUS sent.
 * @reclaim_seq:   seq of the last RECLAIM, answered by the next SURPLUS.
 * @events:        all_vm_events() buffer, NR_VM_EVENT_ITEMS entries.
 * @active:        a session is open (read locklessly by the shrinker).
 * @stopping:      unload has begun: the work does not re-arm.
 * @wq:            ordered, WQ_MEM_RECLAIM; runs @work.
 * @work:          the sampler (self re-arming) and every send.
 * @flags:         OMEM_POLICY_* bits.
 * @reclaim_ms:    when the shrinker last saw reclaim (ms, 0: never).
 * @shrinker:      hears reclaim.
 * @oom_nb:        hears the OOM killer.
 * @counters:      statistics.
 */
struct omem_policy {
	struct mutex lock;
	struct omem_client *client;
	struct omem_session_contract contract;
	u64 total_at_open;
	struct omem_decide_state state;
	struct omem_decide_sample sample;
	enum omem_decide_hold hold;
	struct omem_decide_demand demand;
	struct omem_decide_surplus surplus;
	u32 reclaim_seq;
	unsigned long *events;

	bool active;
	bool stopping;
	struct workqueue_struct *wq;
	struct delayed_work work;
	unsigned long flags;
	atomic64_t reclaim_ms;

	struct shrinker shrinker;
	struct notifier_block oom_nb;
	struct omem_policy_counters counters;
};

static struct omem_policy omem_policy = {
	.lock = __MUTEX_INITIALIZER(omem_policy.lock),
};

static const char *const omem_policy_hold_names[] = {
	[OMEM_DECIDE_SEND] = "sent",
	[OMEM_DECIDE_NO_NEED] = "no_need",
	[OMEM_DECIDE_OUTSTANDING] = "outstanding",
	[OMEM_DECIDE_GRANT_PENDING] = "grant_pending",
	[OMEM_DECIDE_INTERVAL] = "interval",
	[OMEM_DECIDE_DENIED] = "denied",
	[OMEM_DECIDE_AT_CAP] = "at_cap",
};

static const char *const omem_policy_urgency_names[] = {
	[OMEM_RPC_URGENCY_LOW] = "low",
	[OMEM_RPC_URGENCY_NORMAL] = "normal",
	[OMEM_RPC_URGENCY_HIGH] = "high",
	[OMEM_RPC_URGENCY_CRITICAL] = "critical",
};

static u64 omem_policy_now_ms(void)
{
	return ktime_to_ms(ktime_get());
}

static u64 omem_policy_pages_to_bytes(unsigned long pages)
{
	return (u64)pages << PAGE_SHIFT;
}

/* Run the work now, once, however many times it is asked.  Any context
 * but NMI. */
static void omem_policy_kick(struct omem_policy *p)
{
	if (test_and_set_bit(OMEM_POLICY_KICKED, &p->flags))
		return;
	atomic64_inc(&p->counters.kicks);
	mod_delayed_work(p->wq, &p->work, 0);
}

/* ---- sampling ------------------------------------------------------ */

/* Fill @sample with the guest's figures now.  Caller holds p->lock. */
static void omem_policy_sample(struct omem_policy *p,
			       struct omem_decide_sample *sample)
{
	unsigned long movable = 0, movable_free = 0, movable_clean = 0;
	u64 total;
	int nid;

	lockdep_assert_held(&p->lock);
	for_each_online_node(nid) {
		struct zone *zone = &NODE_DATA(nid)->node_zones[ZONE_MOVABLE];
		unsigned long file, pending;

		if (!populated_zone(zone))
			continue;
		movable += zone_managed_pages(zone);
		movable_free += zone_page_state(zone, NR_FREE_PAGES);
		file = zone_page_state(zone, NR_ZONE_ACTIVE_FILE) +
		       zone_page_state(zone, NR_ZONE_INACTIVE_FILE);
		pending = zone_page_state(zone, NR_ZONE_WRITE_PENDING);
		movable_clean += file - min(file, pending);
	}

	total = omem_policy_pages_to_bytes(totalram_pages());
	memset(sample, 0, sizeof(*sample));
	sample->now_ms = omem_policy_now_ms();
	sample->total_bytes = total;
	sample->available_bytes = omem_policy_pages_to_bytes(si_mem_available());
	sample->used_bytes = omem_policy_pages_to_bytes(global_node_page_state(NR_ANON_MAPPED) +
							global_node_page_state(NR_FILE_PAGES) +
							global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
							global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) +
							global_node_page_state(NR_PAGETABLE));
	sample->movable_bytes = omem_policy_pages_to_bytes(movable);
	sample->movable_free_bytes = omem_policy_pages_to_bytes(movable_free);
	sample->movable_clean_bytes = omem_policy_pages_to_bytes(movable_clean);
	sample->reclaim_ms = atomic64_read(&p->reclaim_ms);
	if (p->client) {
		u64 plugged = p->contract.plugged_bytes;

		if (total >= p->total_at_open)
			plugged += total - p->total_at_open;
		else
			plugged -= min(plugged, p->total_at_open - total);
		sample->plugged_bytes = plugged;
	}
}

/* The decisions' parameters: module params and, with a session, the
 * contract.  Caller holds p->lock. */
static void omem_policy_params(struct omem_policy *p,
			       struct omem_decide_params *params)
{
	u64 granule = 128ULL << 20;

	lockdep_assert_held(&p->lock);
#ifdef CONFIG_MEMORY_HOTPLUG
	granule = memory_block_size_bytes();
#endif
	memset(params, 0, sizeof(*params));
	params->low_floor_bytes = (u64)READ_ONCE(omem_policy_low_floor_mib) << 20;
	params->low_percent = min(READ_ONCE(omem_policy_low_percent), 50u);
	params->page_bytes = PAGE_SIZE;
	params->reply_timeout_ms = READ_ONCE(omem_policy_reply_timeout_ms);
	params->grant_timeout_ms = READ_ONCE(omem_policy_grant_timeout_ms);
	params->reclaim_window_ms = READ_ONCE(omem_policy_reclaim_window_ms);
	params->trend_window_ms = READ_ONCE(omem_policy_trend_window_ms);
	params->trend_lead_ms = READ_ONCE(omem_policy_trend_lead_ms);
	params->surplus_hold_ms = READ_ONCE(omem_policy_surplus_hold_ms);
	params->surplus_hold_max_ms = READ_ONCE(omem_policy_surplus_hold_max_ms);
	params->surplus_regret_ms = READ_ONCE(omem_policy_surplus_regret_ms);
	params->surplus_interval_ms = READ_ONCE(omem_policy_surplus_interval_ms);
	if (p->client) {
		granule = max(granule, p->contract.block_bytes);
		params->buffer_percent = p->contract.buffer_percent;
		params->boot_bytes = p->contract.boot_bytes;
		params->max_bytes = p->contract.max_bytes;
		params->cap_bytes = p->contract.cap_bytes;
		params->demand_interval_ms = p->contract.demand_interval_ms;
	}
	params->granule_bytes = granule;
}

/* ---- sending ------------------------------------------------------- */

static int omem_policy_send(struct omem_policy *p, struct omem_message *message,
			    u16 type, u32 length, u32 reply_to)
{
	message->header.type = cpu_to_le16(type);
	message->header.length = cpu_to_le32(length);
	message->header.reply_to = cpu_to_le32(reply_to);
	return omem_session_send(p->client, message);
}

static void omem_policy_send_demand(struct omem_policy *p,
				    const struct omem_decide_params *params,
				    const struct omem_decide_sample *sample,
				    const struct omem_decide_demand *demand)
{
	struct omem_message message = {};
	struct omem_rpc_demand *d = &message.payload.demand;
	int ret;

	d->urgency = cpu_to_le32(demand->urgency);
	d->reasons = cpu_to_le32(demand->reasons);
	d->bytes = cpu_to_le64(demand->bytes);
	d->available_bytes = cpu_to_le64(sample->available_bytes);
	ret = omem_policy_send(p, &message, OMEM_RPC_DEMAND, sizeof(*d), 0);
	if (ret) {
		atomic64_inc(&p->counters.demand_send_failed);
		pr_warn_ratelimited("cannot send DEMAND (%s, %llu MiB): %d; retrying at the next sample\n",
				    omem_policy_urgency_names[demand->urgency],
				    demand->bytes >> 20, ret);
		return;
	}
	omem_decide_demand_sent(&p->state, params, sample->now_ms,
				le32_to_cpu(message.header.seq), demand->urgency);
	p->demand = *demand;
	atomic64_inc(&p->counters.demands[demand->urgency]);
}

static void omem_policy_send_surplus(struct omem_policy *p,
				     const struct omem_decide_params *params,
				     const struct omem_decide_sample *sample,
				     const struct omem_decide_surplus *surplus,
				     bool reclaim)
{
	struct omem_message message = {};
	struct omem_rpc_surplus *s = &message.payload.surplus;
	int ret;

	s->free_bytes = cpu_to_le64(surplus->free_bytes);
	s->clean_cache_bytes = cpu_to_le64(surplus->clean_cache_bytes);
	s->unpluggable_bytes = cpu_to_le64(surplus->unpluggable_bytes);
	ret = omem_policy_send(p, &message, OMEM_RPC_SURPLUS, sizeof(*s),
			       reclaim ? p->reclaim_seq : 0);
	if (ret) {
		pr_warn_ratelimited("cannot send SURPLUS: %d\n", ret);
		return;
	}
	omem_decide_surplus_sent(&p->state, params, sample->now_ms, reclaim);
	p->surplus = *surplus;
	atomic64_inc(&p->counters.surpluses);
}

/* One STATS pair. */
static void omem_policy_stat(struct omem_rpc_stats *stats, u32 tag, u64 value)
{
	struct omem_rpc_stat *pair = &stats->stats[le32_to_cpu(stats->count)];

	pair->tag = cpu_to_le32(tag);
	pair->value = cpu_to_le64(value);
	le32_add_cpu(&stats->count, 1);
}

static void omem_policy_send_stats(struct omem_policy *p,
				   const struct omem_decide_sample *sample)
{
	struct omem_message message = {};
	struct omem_rpc_stats *stats = &message.payload.stats;
	unsigned long *ev = p->events;
	u64 stalls = 0;
	int item, ret;

	all_vm_events(ev);
	/* FOR_ALL_ZONES lists ALLOCSTALL_* in zone order, PGSCAN_SKIP_* next. */
	for (item = ALLOCSTALL_NORMAL - ZONE_NORMAL;
	     item < PGSCAN_SKIP_NORMAL - ZONE_NORMAL; item++)
		stalls += ev[item];

	omem_policy_stat(stats, OMEM_RPC_STAT_TOTAL_BYTES, sample->total_bytes);
	omem_policy_stat(stats, OMEM_RPC_STAT_FREE_BYTES,
			 omem_policy_pages_to_bytes(global_zone_page_state(NR_FREE_PAGES)));
	omem_policy_stat(stats, OMEM_RPC_STAT_AVAILABLE_BYTES, sample->available_bytes);
	omem_policy_stat(stats, OMEM_RPC_STAT_FILE_BYTES,
			 omem_policy_pages_to_bytes(global_node_page_state(NR_FILE_PAGES)));
	omem_policy_stat(stats, OMEM_RPC_STAT_ANON_BYTES,
			 omem_policy_pages_to_bytes(global_node_page_state(NR_ANON_MAPPED)));
	omem_policy_stat(stats, OMEM_RPC_STAT_SWAP_IN_COUNT, ev[PSWPIN]);
	omem_policy_stat(stats, OMEM_RPC_STAT_SWAP_OUT_COUNT, ev[PSWPOUT]);
	omem_policy_stat(stats, OMEM_RPC_STAT_MAJOR_FAULTS_COUNT, ev[PGMAJFAULT]);
	omem_policy_stat(stats, OMEM_RPC_STAT_OOM_KILLS_COUNT, ev[OOM_KILL]);
	omem_policy_stat(stats, OMEM_RPC_STAT_RECLAIM_STALLS_COUNT, stalls);

	ret = omem_policy_send(p, &message, OMEM_RPC_STATS,
			       OMEM_RPC_STATS_BYTES(le32_to_cpu(stats->count)), 0);
	if (ret) {
		pr_warn_ratelimited("cannot send STATS: %d\n", ret);
		return;
	}
	omem_decide_stats_sent(&p->state, sample->now_ms);
	atomic64_inc(&p->counters.stats);
}

/* ---- the policy work ----------------------------------------------- */

/* Sample, decide, send, refill; then re-arm.  On p->wq. */
static void omem_policy_work(struct work_struct *work)
{
	struct omem_policy *p = container_of(to_delayed_work(work),
					     struct omem_policy, work);
	struct omem_decide_params params;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;
	struct omem_decide_surplus surplus;
	unsigned int delay_ms;
	bool oom, reclaim;

	clear_bit(OMEM_POLICY_KICKED, &p->flags);
	oom = test_and_clear_bit(OMEM_POLICY_OOM, &p->flags);
	reclaim = test_and_clear_bit(OMEM_POLICY_RECLAIM, &p->flags);
	atomic64_inc(&p->counters.samples);

	mutex_lock(&p->lock);
	omem_policy_params(p, &params);
	omem_policy_sample(p, &sample);
	p->sample = sample;
	omem_decide_observe(&p->state, &params, &sample);
	if (p->client) {
		p->hold = omem_decide_demand(&p->state, &params, &sample, oom, &demand);
		if (p->hold == OMEM_DECIDE_SEND)
			omem_policy_send_demand(p, &params, &sample, &demand);
		else if (p->hold == OMEM_DECIDE_AT_CAP)
			atomic64_inc(&p->counters.demands_at_cap);
		/* A SURPLUS goes right after a STATS of the same sample:
		 * omemd checks the offer against its MemAvailable. */
		if (omem_decide_surplus(&p->state, &params, &sample, reclaim, &surplus)) {
			omem_policy_send_stats(p, &sample);
			omem_policy_send_surplus(p, &params, &sample, &surplus, reclaim);
		} else if (omem_decide_stats_due(&p->state, sample.now_ms,
						 p->contract.stats_interval_ms)) {
			omem_policy_send_stats(p, &sample);
		}
	} else if (oom) {
		atomic64_inc(&p->counters.oom_unsent);
	}
	if (omem_decide_refill(&params, &p->state, &sample, omem_reserve_missing_bytes()) &&
	    omem_reserve_refill())
		atomic64_inc(&p->counters.reserve_refills);
	delay_ms = p->client ? max(READ_ONCE(omem_policy_sample_ms), 10u) :
			       OMEM_POLICY_IDLE_SAMPLE_MS;
	mutex_unlock(&p->lock);

	if (!READ_ONCE(p->stopping))
		queue_delayed_work(p->wq, &p->work, msecs_to_jiffies(delay_ms));
}

/* ---- reclaim and OOM ----------------------------------------------- */

/*
 * Called by reclaim (kswapd or a task in direct reclaim) to ask how many
 * objects we could free: none.  It is the earliest sign that the guest
 * runs short, so note the time and wake the sampler; never block or
 * allocate here.
 */
static unsigned long omem_policy_shrink_count(struct shrinker *shrinker,
					      struct shrink_control *sc)
{
	struct omem_policy *p = container_of(shrinker, struct omem_policy, shrinker);

	atomic64_set(&p->reclaim_ms, omem_policy_now_ms());
	if (READ_ONCE(p->active))
		omem_policy_kick(p);
	return 0;
}

/* Never called: count_objects always says 0. */
static unsigned long omem_policy_shrink_scan(struct shrinker *shrinker,
					     struct shrink_control *sc)
{
	return SHRINK_STOP;
}

/*
 * The OOM killer is about to run (under oom_lock; a plug cannot be waited
 * for here: it allocates).  Give the reserve back and report it freed, so
 * the killer stands down once; ask for memory CRITICAL from the work.
 */
static int omem_policy_oom_notify(struct notifier_block *nb,
				  unsigned long unused, void *parm)
{
	struct omem_policy *p = container_of(nb, struct omem_policy, oom_nb);
	unsigned long *freed = parm;
	unsigned long released;

	atomic64_inc(&p->counters.oom_notified);
	released = omem_reserve_release();
	if (released) {
		*freed += released;
		atomic64_inc(&p->counters.oom_rescues);
	}
	set_bit(OMEM_POLICY_OOM, &p->flags);
	omem_policy_kick(p);
	return NOTIFY_OK;
}

/* ---- session hooks (on the session's workqueue) -------------------- */

static void omem_policy_session_opened(struct omem_client *client,
				       const struct omem_session_contract *contract)
{
	struct omem_policy *p = &omem_policy;

	mutex_lock(&p->lock);
	p->client = client;
	p->contract = *contract;
	p->total_at_open = omem_policy_pages_to_bytes(totalram_pages());
	/* Only the old session's messages are forgotten: the trend stays,
	 * and the kick below samples at once, so a guest that is growing
	 * (omemd restarted mid-growth) asks the new omemd right away. */
	omem_decide_session_reset(&p->state);
	p->hold = OMEM_DECIDE_NO_NEED;
	WRITE_ONCE(p->active, true);
	mutex_unlock(&p->lock);
	omem_policy_kick(p);
}

static void omem_policy_session_closed(struct omem_client *client)
{
	struct omem_policy *p = &omem_policy;

	mutex_lock(&p->lock);
	if (p->client == client) {
		p->client = NULL;
		WRITE_ONCE(p->active, false);
	}
	mutex_unlock(&p->lock);
}

static void omem_policy_grant(struct omem_client *client, u32 reply_to,
			      u64 bytes, u64 target_bytes)
{
	struct omem_policy *p = &omem_policy;
	struct omem_decide_params params;
	bool matched;

	mutex_lock(&p->lock);
	omem_policy_params(p, &params);
	matched = p->client == client &&
		  omem_decide_grant(&p->state, &params, omem_policy_now_ms(),
				    reply_to, target_bytes);
	mutex_unlock(&p->lock);
	atomic64_inc(matched ? &p->counters.grants : &p->counters.grants_stale);
	pr_debug("GRANT for DEMAND %u: +%llu MiB, target %llu MiB%s\n", reply_to,
		 bytes >> 20, target_bytes >> 20, matched ? "" : " (stale)");
}

static void omem_policy_deny(struct omem_client *client, u32 reply_to,
			     u32 reason, u32 retry_after_ms)
{
	struct omem_policy *p = &omem_policy;
	struct omem_decide_params params;

	mutex_lock(&p->lock);
	omem_policy_params(p, &params);
	if (p->client == client)
		omem_decide_deny(&p->state, &params, omem_policy_now_ms(), reply_to,
				 reason, retry_after_ms);
	mutex_unlock(&p->lock);
	atomic64_inc(&p->counters.denies);
	pr_debug("DENY for DEMAND %u: reason %u, retry after %u ms\n", reply_to,
		 reason, retry_after_ms);
}

/* The module cannot choose what virtio_mem unplugs nor drop page cache:
 * it answers with what can go now, and omemd sizes its unplug to it. */
static void omem_policy_reclaim(struct omem_client *client, u32 seq, u64 bytes,
				u32 deadline_ms)
{
	struct omem_policy *p = &omem_policy;

	mutex_lock(&p->lock);
	p->reclaim_seq = seq;
	mutex_unlock(&p->lock);
	atomic64_inc(&p->counters.reclaims);
	set_bit(OMEM_POLICY_RECLAIM, &p->flags);
	omem_policy_kick(p);
}

const struct omem_policy_ops omem_policy_ops = {
	.session_opened = omem_policy_session_opened,
	.session_closed = omem_policy_session_closed,
	.grant = omem_policy_grant,
	.deny = omem_policy_deny,
	.reclaim = omem_policy_reclaim,
};

/* ---- debugfs, load, unload ----------------------------------------- */

/**
 * omem_policy_show() - the policy's part of debugfs "status"
 * @m: the seq_file.
 */
void omem_policy_show(struct seq_file *m)
{
	struct omem_policy *p = &omem_policy;
	struct omem_policy_counters *c = &p->counters;
	struct omem_decide_sample sample;
	struct omem_decide_demand demand;
	struct omem_decide_surplus surplus;
	struct omem_decide_params params;
	struct omem_decide_marks marks;
	enum omem_decide_hold hold;
	u64 reserve, reserve_target, trend;
	u32 surplus_hold;
	int urgency;

	mutex_lock(&p->lock);
	omem_policy_params(p, &params);
	sample = p->sample;
	demand = p->demand;
	surplus = p->surplus;
	hold = p->hold;
	trend = p->state.drop_rate;
	surplus_hold = omem_decide_surplus_hold(&params, &p->state);
	omem_decide_marks(&params, &p->state, &sample, &marks);
	mutex_unlock(&p->lock);
	reserve = omem_reserve_bytes(&reserve_target);

	for (urgency = OMEM_RPC_URGENCY_LOW; urgency <= OMEM_RPC_URGENCY_CRITICAL; urgency++)
		seq_printf(m, "demands_%s: %lld\n", omem_policy_urgency_names[urgency],
			   atomic64_read(&c->demands[urgency]));
	seq_printf(m, "demand_send_failed: %lld\n", atomic64_read(&c->demand_send_failed));
	seq_printf(m, "demands_at_cap: %lld\n", atomic64_read(&c->demands_at_cap));
	seq_printf(m, "grants: %lld\ngrants_stale: %lld\ndenies: %lld\n",
		   atomic64_read(&c->grants), atomic64_read(&c->grants_stale),
		   atomic64_read(&c->denies));
	seq_printf(m, "surpluses: %lld\nreclaims: %lld\nstats_sent: %lld\n",
		   atomic64_read(&c->surpluses), atomic64_read(&c->reclaims),
		   atomic64_read(&c->stats));
	seq_printf(m, "oom_notified: %lld\noom_rescues: %lld\noom_unsent: %lld\n",
		   atomic64_read(&c->oom_notified), atomic64_read(&c->oom_rescues),
		   atomic64_read(&c->oom_unsent));
	seq_printf(m, "reserve_bytes: %llu\nreserve_target_bytes: %llu\nreserve_refills: %lld\n",
		   reserve, reserve_target,
		   atomic64_read(&c->reserve_refills));
	seq_printf(m, "samples: %lld\nkicks: %lld\n", atomic64_read(&c->samples),
		   atomic64_read(&c->kicks));
	seq_printf(m, "sample_total_bytes: %llu\nsample_available_bytes: %llu\n",
		   sample.total_bytes, sample.available_bytes);
	seq_printf(m, "sample_plugged_bytes: %llu\nsample_movable_bytes: %llu\n",
		   sample.plugged_bytes, sample.movable_bytes);
	seq_printf(m, "sample_movable_free_bytes: %llu\nsample_movable_clean_bytes: %llu\n",
		   sample.movable_free_bytes, sample.movable_clean_bytes);
	seq_printf(m, "trend_bytes_per_s: %llu\nmark_lead_bytes: %llu\nmark_grant_bytes: %llu\n",
		   trend, marks.lead_bytes, marks.grant_bytes);
	seq_printf(m, "mark_low_bytes: %llu\nmark_early_bytes: %llu\n",
		   marks.low_bytes, marks.early_bytes);
	seq_printf(m, "mark_keep_bytes: %llu\nmark_high_bytes: %llu\n",
		   marks.keep_bytes, marks.high_bytes);
	seq_printf(m, "demand_hold: %s\n", hold < ARRAY_SIZE(omem_policy_hold_names) ?
		   omem_policy_hold_names[hold] : "?");
	seq_printf(m, "last_demand: %s %llu bytes reasons 0x%x\n",
		   demand.urgency <= OMEM_RPC_URGENCY_CRITICAL && demand.urgency ?
		   omem_policy_urgency_names[demand.urgency] : "none",
		   demand.bytes, demand.reasons);
	seq_printf(m, "last_surplus: free %llu clean_cache %llu unpluggable %llu\n",
		   surplus.free_bytes, surplus.clean_cache_bytes,
		   surplus.unpluggable_bytes);
	seq_printf(m, "surplus_hold_ms: %u\n", surplus_hold);
}

/**
 * omem_policy_init() - at module load: reserve, shrinker, OOM notifier,
 * sampler
 *
 * Return: 0, or -errno with nothing left behind.
 */
int omem_policy_init(void)
{
	struct omem_policy *p = &omem_policy;
	int ret;

	p->events = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*p->events), GFP_KERNEL);
	if (!p->events)
		return -ENOMEM;
	p->wq = alloc_ordered_workqueue("omem_policy", WQ_HIGHPRI | WQ_MEM_RECLAIM);
	if (!p->wq) {
		ret = -ENOMEM;
		goto out_free_events;
	}
	INIT_DELAYED_WORK(&p->work, omem_policy_work);

	omem_reserve_init();

	p->shrinker.count_objects = omem_policy_shrink_count;
	p->shrinker.scan_objects = omem_policy_shrink_scan;
	p->shrinker.seeks = DEFAULT_SEEKS;
	ret = register_shrinker(&p->shrinker, "omem_client");
	if (ret) {
		pr_err("cannot register the reclaim shrinker: %d\n", ret);
		goto out_free_reserve;
	}
	p->oom_nb.notifier_call = omem_policy_oom_notify;
	ret = register_oom_notifier(&p->oom_nb);
	if (ret) {
		pr_err("cannot register the OOM notifier: %d\n", ret);
		goto out_unregister_shrinker;
	}
	queue_delayed_work(p->wq, &p->work, 0);
	return 0;

out_unregister_shrinker:
	unregister_shrinker(&p->shrinker);
out_free_reserve:
	omem_reserve_exit();
	destroy_workqueue(p->wq);
out_free_events:
	kfree(p->events);
	return ret;
}

/**
 * omem_policy_exit() - at module unload, after every device is gone:
 * stop hearing reclaim and OOM, stop the sampler, free the reserve
 */
void omem_policy_exit(void)
{
	struct omem_policy *p = &omem_policy;

	unregister_oom_notifier(&p->oom_nb);
	unregister_shrinker(&p->shrinker);
	WRITE_ONCE(p->stopping, true);
	cancel_delayed_work_sync(&p->work);
	destroy_workqueue(p->wq);
	omem_reserve_exit();
	kfree(p->events);
}
