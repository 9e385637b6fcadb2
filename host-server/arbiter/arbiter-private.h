/* SPDX-License-Identifier: MIT */
/*
 * arbiter-private: the arbiter's internal state, shared by its files
 * (arbiter.c: bookkeeping, lifecycle; arbiter-fair.c: fair shares,
 * claims, the victim heap; arbiter-decide.c: DEMAND and
 * tick; arbiter-check.c: the invariants).  Not for omemd or tests: they
 * see arbiter.h only.
 */
#ifndef OMEM_ARBITER_PRIVATE_H
#define OMEM_ARBITER_PRIVATE_H

#ifndef OMEM_ARBITER_INTERNAL
#error "arbiter-private.h is for host-server/arbiter*.c only"
#endif

#include "arbiter/arbiter.h"

#define ARBITER_NOT_IN_HEAP SIZE_MAX

/* Saturating arithmetic: sizes come from outside and must not wrap. */
static inline uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

typedef struct ArbiterVm ArbiterVm;

/* Links of an intrusive doubly linked list (O(1) unlink). */
typedef struct {
	ArbiterVm *prev;
	ArbiterVm *next;
} ArbiterLink;

struct ArbiterVm {
	uint64_t id;                /* caller's id (hash key) */
	char *key;                  /* admission key or NULL (owned) */
	ArbiterContract contract;   /* shares normalised (never 0) */
	uint64_t floor;             /* least requested, policy_requested_floor */
	uint64_t ceiling;           /* most requested, policy_requested_ceiling */
	uint64_t requested;         /* the arbiter's record of the devices' requested sum */
	uint64_t plugged;           /* per the last size event */
	bool outside_contract;      /* requested outside [floor, ceiling] by outside input */

	ArbiterReport report;       /* the latest guest report */
	bool has_report;            /* ... present and not found stale yet */

	size_t heap_index;          /* slot in Arbiter.heap, or ARBITER_NOT_IN_HEAP */
	double claim;               /* heap key: arbiter_vm_claim when last placed */

	/* Waiting record: below its fair share, short of memory. */
	bool waiting;
	uint64_t waiting_bytes;     /* held for it in the pool */
	int64_t waiting_until_ms;   /* lapses then unless a DEMAND renews it */
	ArbiterLink wait_link;      /* in Arbiter.waiters */

	/* Shrink step by step (reclaim, host pressure, drain). */
	bool shrinking;
	bool shrink_forced;         /* drain: no report or fair-share limit, no deadline */
	uint64_t shrink_target;     /* requested size it ends at */
	uint64_t shrink_last_plugged; /* plugged at the last progress */
	int64_t shrink_deadline_ms; /* a reclaim is given up then, however far it got (not moved by progress) */
	uint64_t shrink_asked;      /* a reclaim: what it asked for (beyond - target at the start) */
	uint64_t shrink_start_beyond; /* ... and max(requested, plugged) then */
	int64_t reclaim_barred_until_ms; /* a stalled reclaim's victim is not picked again before this */
	const char *shrink_why;
	ArbiterLink shrink_link;    /* in Arbiter.shrinking */
};

/* An admitted VM not started yet. */
typedef struct {
	uint64_t bytes;             /* boot + floor + overhead */
	int64_t expires_ms;
} ArbiterReservation;

struct Arbiter {
	ArbiterConfig config;
	ArbiterHost host;
	bool host_short;            /* host pressure now */
	uint64_t host_granted;      /* granted under pressure since the last host figures */
	bool freeze_all;
	bool drain_all;
	bool over_budget;           /* charges past the budget by outside input (discovery, events) */
	int64_t last_now_ms;        /* time of the last call that had one */

	GHashTable *vms;            /* &id -> ArbiterVm (owned) */
	GHashTable *keys;           /* key -> ArbiterVm (borrowed) */
	GHashTable *reservations;   /* key (owned) -> ArbiterReservation (owned) */

	ArbiterVm **heap;           /* min-heap by claim of possible victims */
	size_t heap_len;
	size_t heap_size;

	ArbiterVm *waiters;         /* VMs with a waiting record */
	size_t wait_count;
	ArbiterVm *shrinking;       /* VMs shrinking step by step */
	size_t shrink_count;

	/* Global sums, kept by arbiter_vm_(un)account. */
	size_t vm_count;
	uint64_t sum_boot;          /* sum of boot */
	uint64_t sum_beyond;        /* sum of max(requested, plugged) */
	uint64_t sum_floor;         /* sum of floors */
	uint64_t sum_shares;        /* sum of shares */
	uint64_t sum_held;          /* sum of waiting_bytes */
	uint64_t sum_incoming;      /* sum of what shrinking VMs still give back */
	uint64_t sum_reserved;      /* sum of reservations */

	/* The fair shares' water level (arbiter_fair_refresh): a VM not
	 * held back by its ceiling gets floor + fair_pool * shares /
	 * fair_shares; fair_shares 0 means every VM is at its ceiling. */
	bool fair_dirty;            /* budget, overhead or a floor, ceiling or shares changed */
	uint64_t fair_pool;         /* the share pool less what capped VMs take */
	uint64_t fair_shares;       /* the shares of the VMs not capped */

	ArbiterStats stats;         /* counters only */
};

void arbiter_vm_free(gpointer data);
PolicyVm arbiter_policy_vm(const ArbiterContract *contract, uint64_t requested, uint64_t plugged);
void arbiter_heap_remove(Arbiter *arb, ArbiterVm *vm);
void arbiter_heap_update(Arbiter *arb, ArbiterVm *vm);
uint64_t arbiter_vm_beyond(const ArbiterVm *vm);
bool arbiter_vm_frozen(const Arbiter *arb, const ArbiterVm *vm);
bool arbiter_vm_draining(const Arbiter *arb, const ArbiterVm *vm);
uint64_t arbiter_share_pool(const Arbiter *arb);
/* The water level from scratch (O(n log n)): the share pool left to the
 * VMs their ceiling does not stop, and their shares. */
void arbiter_fair_level(const Arbiter *arb, uint64_t *ret_pool, uint64_t *ret_shares);
/* What the water level gives @vm above its floor (the level must be
 * fresh: !fair_dirty). */
uint64_t arbiter_vm_fair_part(const Arbiter *arb, const ArbiterVm *vm);
uint64_t arbiter_vm_fair_share(Arbiter *arb, const ArbiterVm *vm);
uint64_t arbiter_vm_reclaim_floor(Arbiter *arb, const ArbiterVm *vm);
double arbiter_vm_claim(const Arbiter *arb, const ArbiterVm *vm);
bool arbiter_vm_heap_member(const ArbiterVm *vm);
uint64_t arbiter_vm_incoming(const ArbiterVm *vm);
uint64_t arbiter_committed(const Arbiter *arb);
uint64_t arbiter_pool(const Arbiter *arb);
uint64_t arbiter_reclaim(Arbiter *arb, uint64_t deficit, const ArbiterVm *except, int64_t now_ms,
			 ArbiterOps *ops, const char *why);

/* Bookkeeping shared with arbiter-decide.c: bracket every change to a
 * VM's figures with these two. */
void arbiter_vm_unaccount(Arbiter *arb, ArbiterVm *vm);
void arbiter_vm_account(Arbiter *arb, ArbiterVm *vm);
void arbiter_vm_set_requested(Arbiter *arb, ArbiterVm *vm, uint64_t requested);
void arbiter_shrink_start(Arbiter *arb, ArbiterVm *vm, uint64_t target, bool forced,
			  int64_t now_ms, const char *why);
void arbiter_shrink_stop(Arbiter *arb, ArbiterVm *vm);
void arbiter_wait_set(Arbiter *arb, ArbiterVm *vm, uint64_t bytes, int64_t now_ms);
void arbiter_wait_stop(Arbiter *arb, ArbiterVm *vm);
void arbiter_reservation_drop(Arbiter *arb, const char *key);
void arbiter_ops_add(ArbiterOps *ops, ArbiterOpKind kind, uint64_t vm_id, uint64_t bytes,
		     const char *why);
void arbiter_debug_check(const Arbiter *arb);

#endif /* OMEM_ARBITER_PRIVATE_H */
