/* SPDX-License-Identifier: MIT */
/*
 * test-actuator: one VM's libvirt calls off the main thread
 * (host-server/daemon/actuator.c), with a fake libvirt whose calls can be
 * held the way a QEMU that does not answer holds a real one.  While one
 * VM's call is held: the main loop keeps running, another VM's calls
 * complete, and the held VM's later sizes coalesce into one call.  A
 * refused resize reports the size that holds; a read overtaken by a
 * resize says so; a closed actuator calls nothing back and frees its
 * target when its last call returns.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "daemon/actuator.h"
#include "tap.h"

/* One fake domain: what libvirt "holds", and a gate that holds its calls. */
typedef struct {
	GMutex lock;
	GCond cond;
	bool held;               /* calls wait while true */
	bool fail_set;           /* SET refused after changing half of it */
	int waiting;             /* calls waiting at the gate */
	uint64_t requested;      /* libvirt's requested size */
	int sets, reissues, reads, caps;
	uint64_t cap;
	bool freed;
} FakeDomain;

static void fake_gate(FakeDomain *domain)
{
	g_mutex_lock(&domain->lock);
	domain->waiting++;
	while (domain->held)
		g_cond_wait(&domain->cond, &domain->lock);
	domain->waiting--;
	g_mutex_unlock(&domain->lock);
}

static void fake_hold(FakeDomain *domain, bool held)
{
	g_mutex_lock(&domain->lock);
	domain->held = held;
	g_cond_broadcast(&domain->cond);
	g_mutex_unlock(&domain->lock);
}

static int fake_waiting(FakeDomain *domain)
{
	int n;

	g_mutex_lock(&domain->lock);
	n = domain->waiting;
	g_mutex_unlock(&domain->lock);
	return n;
}

static int fake_set(void *target, uint64_t bytes, char **ret_error)
{
	FakeDomain *domain = target;

	fake_gate(domain);
	g_mutex_lock(&domain->lock);
	domain->sets++;
	if (domain->fail_set) {
		/* The first of two devices took its half, the second refused. */
		domain->requested = domain->requested + (bytes - domain->requested) / 2;
		g_mutex_unlock(&domain->lock);
		*ret_error = g_strdup("second device refused");
		return -1;
	}
	domain->requested = bytes;
	g_mutex_unlock(&domain->lock);
	return 0;
}

static int fake_reissue(void *target, char **ret_error)
{
	FakeDomain *domain = target;

	fake_gate(domain);
	g_atomic_int_inc(&domain->reissues);
	return 0;
}

static int fake_read(void *target, uint64_t *ret_bytes, char **ret_error)
{
	FakeDomain *domain = target;

	fake_gate(domain);
	g_mutex_lock(&domain->lock);
	domain->reads++;
	*ret_bytes = domain->requested;
	g_mutex_unlock(&domain->lock);
	return 0;
}

static int fake_write_cap(void *target, uint64_t cap, char **ret_error)
{
	FakeDomain *domain = target;

	fake_gate(domain);
	g_mutex_lock(&domain->lock);
	domain->caps++;
	domain->cap = cap;
	g_mutex_unlock(&domain->lock);
	return 0;
}

static const ActuatorOps fake_ops = {
	.set_requested = fake_set,
	.reissue = fake_reissue,
	.read_requested = fake_read,
	.write_cap = fake_write_cap,
};

static void fake_free(gpointer data)
{
	FakeDomain *domain = data;

	domain->freed = true;
}

/* What the owner saw. */
typedef struct {
	int results;
	ActuatorResult last;
	char last_error[128];
	bool kinds_seen[4];
	bool read_superseded;    /* the last READ's flag */
} Owner;

static void owner_done(void *data, const ActuatorResult *result)
{
	Owner *owner = data;

	owner->results++;
	owner->last = *result;
	owner->last.error = NULL;
	g_strlcpy(owner->last_error, result->error ? result->error : "", sizeof(owner->last_error));
	owner->kinds_seen[result->kind] = true;
	if (result->kind == ACTUATOR_READ)
		owner->read_superseded = result->superseded;
}

/* Run the main loop until @cond holds or 5 s pass (a liveness bound, not a
 * speed); true when it held. */
#define run_until(cond)                                                       \
	({                                                                    \
		int64_t run_until_end_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC; \
		while (!(cond) && g_get_monotonic_time() < run_until_end_)    \
			g_main_context_iteration(NULL, FALSE), g_usleep(1000); \
		(bool)(cond);                                                 \
	})

static gboolean tick(gpointer data)
{
	(*(int *)data)++;
	return G_SOURCE_CONTINUE;
}

int main(void)
{
	FakeDomain a = { .requested = 0 }, b = { .requested = 0 };
	Owner owner_a = { 0 }, owner_b = { 0 };
	Actuator *actuator_a, *actuator_b;
	int ticks = 0;
	guint tick_source;

	g_mutex_init(&a.lock);
	g_cond_init(&a.cond);
	g_mutex_init(&b.lock);
	g_cond_init(&b.cond);
	actuator_a = actuator_new(&fake_ops, &a, fake_free, owner_done, &owner_a);
	actuator_b = actuator_new(&fake_ops, &b, fake_free, owner_done, &owner_b);

	/* A plain resize. */
	actuator_set(actuator_a, 512);
	tap_ok(actuator_set_pending(actuator_a), "a resize asked is pending at once");
	tap_ok(run_until(owner_a.results == 1), "the resize's result comes back on the main loop");
	tap_ok(owner_a.last.kind == ACTUATOR_SET && owner_a.last.ok && owner_a.last.bytes == 512 &&
	       owner_a.last.requested_known && owner_a.last.requested_bytes == 512,
	       "... done, libvirt holds 512");
	tap_ok(!actuator_set_pending(actuator_a) && !actuator_busy(actuator_a, NULL),
	       "... and nothing is pending after it");

	/* VM a's QEMU stops answering: its call is held. */
	fake_hold(&a, true);
	actuator_set(actuator_a, 1024);
	tap_ok(run_until(fake_waiting(&a) == 1), "a's next resize is held in its worker");
	tick_source = g_timeout_add(10, tick, &ticks);
	tap_ok(run_until(ticks >= 5), "the main loop keeps running while a's call is held");
	g_source_remove(tick_source);
	actuator_set(actuator_b, 256);
	tap_ok(run_until(owner_b.results == 1) && owner_b.last.ok && b.requested == 256,
	       "b's resize completes while a's is held");
	for (uint64_t size = 1100; size <= 2000; size += 100)
		actuator_set(actuator_a, size);
	actuator_reissue(actuator_a);
	tap_eq(actuator_coalesced(actuator_a), 9,
	       "ten sizes asked for a while held: nine replaced before they started");
	tap_ok(actuator_busy(actuator_a, NULL) && actuator_set_pending(actuator_a),
	       "a is busy, with a resize waiting");
	tap_eq(owner_a.results, 1, "no result for a while its call is held");
	fake_hold(&a, false);
	tap_ok(run_until(owner_a.results == 3), "a's calls resume when its QEMU answers");
	tap_eq(a.sets, 3, "... three calls made in all (512, the held 1024, then only the latest)");
	tap_ok(owner_a.last.kind == ACTUATOR_SET && owner_a.last.bytes == 2000 && a.requested == 2000,
	       "... the last one asked the latest size, 2000");
	tap_eq(a.reissues, 0, "a re-send asked behind a waiting resize is dropped");

	/* A resize refused half-way (the second of two devices). */
	a.fail_set = true;
	actuator_set(actuator_a, 3000);
	tap_ok(run_until(owner_a.results == 4), "a refused resize comes back");
	tap_ok(!owner_a.last.ok && strstr(owner_a.last_error, "refused") != NULL,
	       "... failed, with libvirt's reason");
	tap_ok(owner_a.last.requested_known && owner_a.last.requested_bytes == 2500,
	       "... and the size that holds read back (half of the way: 2500)");
	tap_ok(!owner_a.last.superseded, "... not superseded: nothing newer was asked");
	a.fail_set = false;

	/* A read overtaken by a resize. */
	fake_hold(&a, true);
	actuator_read(actuator_a);
	tap_ok(run_until(fake_waiting(&a) == 1), "a read is held");
	actuator_set(actuator_a, 4000);
	fake_hold(&a, false);
	tap_ok(run_until(owner_a.results == 6), "the read and the resize both come back");
	tap_ok(owner_a.kinds_seen[ACTUATOR_READ] && owner_a.read_superseded,
	       "... the read among them, superseded by the resize");
	tap_ok(owner_a.last.kind == ACTUATOR_SET && owner_a.last.bytes == 4000,
	       "... the resize after the read");

	{
		FakeDomain c = { 0 };
		Owner owner_c = { 0 };
		Actuator *actuator_c;

		g_mutex_init(&c.lock);
		g_cond_init(&c.cond);
		actuator_c = actuator_new(&fake_ops, &c, fake_free, owner_done, &owner_c);
		fake_hold(&c, true);
		actuator_read(actuator_c);
		tap_ok(run_until(fake_waiting(&c) == 1), "c's read is held");
		actuator_set(actuator_c, 77);
		/* The read returns before the resize starts: superseded. */
		fake_hold(&c, false);
		tap_ok(run_until(owner_c.results >= 1), "c's read comes back");
		tap_ok(owner_c.kinds_seen[ACTUATOR_READ] && owner_c.read_superseded,
		       "... marked superseded: a resize was asked while it ran");
		run_until(owner_c.results == 2);
		tap_eq(owner_c.results, 2, "... then c's resize");

		/* Closing with a call in flight. */
		fake_hold(&c, true);
		actuator_write_cap(actuator_c, 999);
		tap_ok(run_until(fake_waiting(&c) == 1), "c's cap write is held");
		actuator_set(actuator_c, 88);
		actuator_close(actuator_c);
		tap_ok(!c.freed, "closing with a call in flight keeps the target until it returns");
		fake_hold(&c, false);
		tap_ok(run_until(c.freed), "... then frees it");
		tap_eq(owner_c.results, 2, "... and calls nothing back after the close");
		tap_eq(c.sets, 1, "... nor makes the resize queued before the close");
		tap_eq(c.cap, 999, "the cap write itself went through");
		g_mutex_clear(&c.lock);
		g_cond_clear(&c.cond);
	}

	actuator_close(actuator_a);
	actuator_close(actuator_b);
	tap_ok(a.freed && b.freed, "idle actuators free their targets at close");
	g_mutex_clear(&a.lock);
	g_cond_clear(&a.cond);
	g_mutex_clear(&b.lock);
	g_cond_clear(&b.cond);
	return tap_done();
}
