// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_reserve.c - the OOM reserve: a few MiB of boot memory taken at
 * load and kept off the free lists, given back to the kernel by the OOM
 * notifier (omem_policy.c) so the OOM killer stands down once while a
 * CRITICAL demand is on its way, and refilled when memory allows.
 *
 * Why a reserve and not a plug: the OOM notifier runs under oom_lock and
 * the virtio-mem plug path allocates (a 128 MiB block's memmap is 2 MiB),
 * so memory cannot be waited for there; memory already held can be
 * released (virtio_balloon's deflate-on-OOM does the same).
 *
 * Contexts: omem_reserve_release() may run anywhere but NMI (the OOM
 * notifier); the rest runs in process context (module load and unload,
 * the policy work).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/spinlock.h>

#include "omem_client.h"

/* 8 MiB: the memmap of four 128 MiB blocks (512 MiB) plus the plug
 * path's own allocations, once. */
static unsigned int omem_reserve_mib = 8;
module_param_named(reserve_mib, omem_reserve_mib, uint, 0444);
MODULE_PARM_DESC(reserve_mib,
		 "Memory held back at load and given to the kernel when the OOM killer is about to run, in MiB (default 8; 0: none)");

/**
 * struct omem_reserve - the module-wide OOM reserve
 * @lock:   protects @pages and @count; a spinlock, the OOM notifier
 *          takes it.
 * @pages:  the reserve, order-0 pages linked by page->lru.
 * @count:  pages in @pages.
 * @target: pages the reserve holds when full (reserve_mib); set at load.
 */
struct omem_reserve {
	spinlock_t lock;
	struct list_head pages;
	unsigned long count;
	unsigned long target;
};

static struct omem_reserve omem_reserve = {
	.lock = __SPIN_LOCK_UNLOCKED(omem_reserve.lock),
	.pages = LIST_HEAD_INIT(omem_reserve.pages),
};

static u64 omem_reserve_pages_to_bytes(unsigned long pages)
{
	return (u64)pages << PAGE_SHIFT;
}

/*
 * Take up to @pages pages into the reserve; returns how many it got.
 * GFP_KERNEL without __GFP_MOVABLE: the pages come from boot memory,
 * never from the movable blocks virtio_mem must be able to unplug.
 */
static unsigned long omem_reserve_fill(struct omem_reserve *r,
				       unsigned long pages, gfp_t gfp)
{
	unsigned long got, flags;
	struct page *page;

	for (got = 0; got < pages; got++) {
		page = alloc_page(gfp);
		if (!page)
			break;
		spin_lock_irqsave(&r->lock, flags);
		list_add(&page->lru, &r->pages);
		r->count++;
		spin_unlock_irqrestore(&r->lock, flags);
	}
	return got;
}

/**
 * omem_reserve_release() - give every reserve page back to the kernel
 *
 * Any context but NMI (the OOM notifier, under oom_lock): no sleeping,
 * no allocation.
 *
 * Return: how many pages went back.
 */
unsigned long omem_reserve_release(void)
{
	struct omem_reserve *r = &omem_reserve;
	struct page *page, *next;
	unsigned long flags, count;
	LIST_HEAD(pages);

	spin_lock_irqsave(&r->lock, flags);
	list_splice_init(&r->pages, &pages);
	count = r->count;
	r->count = 0;
	spin_unlock_irqrestore(&r->lock, flags);

	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return count;
}

/**
 * omem_reserve_missing_bytes() - what the reserve lacks to be full
 *
 * Return: bytes, 0 for a full reserve.
 */
u64 omem_reserve_missing_bytes(void)
{
	struct omem_reserve *r = &omem_reserve;
	unsigned long flags, missing;

	spin_lock_irqsave(&r->lock, flags);
	missing = r->target - min(r->count, r->target);
	spin_unlock_irqrestore(&r->lock, flags);
	return omem_reserve_pages_to_bytes(missing);
}

/**
 * omem_reserve_refill() - take back what the reserve lacks, if it is free
 *
 * __GFP_NORETRY: the caller has decided memory allows (omem_decide_refill());
 * a refill never pushes the guest into reclaim.  Process context.
 *
 * Return: true if it got any page.
 */
bool omem_reserve_refill(void)
{
	struct omem_reserve *r = &omem_reserve;
	u64 missing = omem_reserve_missing_bytes();

	return omem_reserve_fill(r, missing >> PAGE_SHIFT,
				 GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN |
				 __GFP_NOMEMALLOC) > 0;
}

/**
 * omem_reserve_bytes() - what the reserve holds now and when full
 * @target_bytes: set to what it holds when full.
 *
 * Return: what it holds now, in bytes.
 */
u64 omem_reserve_bytes(u64 *target_bytes)
{
	struct omem_reserve *r = &omem_reserve;
	unsigned long flags, count;

	spin_lock_irqsave(&r->lock, flags);
	count = r->count;
	spin_unlock_irqrestore(&r->lock, flags);
	*target_bytes = omem_reserve_pages_to_bytes(r->target);
	return omem_reserve_pages_to_bytes(count);
}

/**
 * omem_reserve_init() - at module load: fill the reserve
 *
 * A reserve that cannot be filled in full is kept partial (and refilled
 * later), with one warning.
 */
void omem_reserve_init(void)
{
	struct omem_reserve *r = &omem_reserve;
	unsigned long got;

	r->target = (unsigned long)omem_reserve_mib << (20 - PAGE_SHIFT);
	got = omem_reserve_fill(r, r->target, GFP_KERNEL | __GFP_NOWARN);
	if (got < r->target)
		pr_warn("OOM reserve: got %lu of %lu KiB; the rest is taken when memory allows\n",
			got << (PAGE_SHIFT - 10), r->target << (PAGE_SHIFT - 10));
}

/**
 * omem_reserve_exit() - at module unload (or a failed load), after the OOM
 * notifier is gone: free the reserve
 */
void omem_reserve_exit(void)
{
	omem_reserve_release();
}
