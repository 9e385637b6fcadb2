/* SPDX-License-Identifier: MIT */
/*
 * actuator.h: one VM's libvirt calls that may wait on its QEMU, made in a
 * worker thread so that the main thread (every VM's decisions, the status
 * and admission sockets, /metrics) never waits on one VM's libvirt job.
 *
 * A resize in libvirt takes the domain's job and talks to QEMU's monitor:
 * a QEMU that does not answer (stopped, swapped out, busy in a migration)
 * holds the call for as long as it does not answer.  The actuator keeps
 * at most one call per VM in flight; what arrives meanwhile waits, and
 * requested sizes coalesce, since only the latest target matters: ten
 * decisions taken while one call is stuck cost one call when it ends.
 *
 * The calls themselves are ActuatorOps, so that the tests can put a
 * blocking fake in libvirt's place; actuator_libvirt_ops() are the real
 * ones.  Every actuator_* function is for the main thread (the context
 * the actuator was made in); the ops run in GLib's task threads, one at a
 * time per actuator.
 */
#ifndef OMEM_ACTUATOR_H
#define OMEM_ACTUATOR_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

typedef struct _Actuator Actuator;

typedef enum {
	ACTUATOR_SET,        /* set the devices' requested size */
	ACTUATOR_REISSUE,    /* re-send it unchanged (a stalled unplug) */
	ACTUATOR_READ,       /* read what libvirt holds (foreign resize check) */
	ACTUATOR_CAP,        /* write an adopted cap into the contract */
} ActuatorKind;

/* The calls, in a worker thread.  Each returns 0, or -1 with *ret_error
 * set (g_free).  @target is what actuator_new was given. */
typedef struct {
	int (*set_requested)(void *target, uint64_t requested_bytes, char **ret_error);
	int (*reissue)(void *target, char **ret_error);
	/* The devices' requested size as libvirt holds it, summed. */
	int (*read_requested)(void *target, uint64_t *ret_requested_bytes, char **ret_error);
	int (*write_cap)(void *target, uint64_t cap_bytes, char **ret_error);
} ActuatorOps;

/* What one call did, for the owner's callback (main thread). */
typedef struct {
	ActuatorKind kind;
	bool ok;
	const char *error;           /* !ok: the reason */
	uint64_t bytes;              /* SET: the size asked; CAP: the cap */
	/* SET and READ: what libvirt holds after the call (read again after
	 * a failed SET, so that a resize refused half-way shows the size
	 * that holds); false when even that could not be read. */
	bool requested_known;
	uint64_t requested_bytes;
	/* A newer SET is waiting or a SET was asked after this READ began:
	 * this result no longer says what omemd wants. */
	bool superseded;
	int64_t queued_us;           /* monotonic: asked ... */
	int64_t started_us;          /* ... handed to the worker ... */
	int64_t finished_us;         /* ... returned */
} ActuatorResult;

typedef void (*ActuatorDone)(void *owner, const ActuatorResult *result);

/* An actuator for one VM: @target is handed to each op and released with
 * @target_free when the actuator and its last call are done (may be
 * NULL).  @done gets every call's result unless actuator_close came
 * first. */
Actuator *actuator_new(const ActuatorOps *ops, void *target, GDestroyNotify target_free,
		       ActuatorDone done, void *owner);

/* The owner is going away: nothing more is called, queued calls are
 * dropped, a call in flight finishes in its thread and frees the rest. */
void actuator_close(Actuator *actuator);

/* Ask for the requested size to become @bytes; replaces a SET that has
 * not started yet (counted as coalesced) and drops a queued REISSUE (the
 * new size tells the guest anyway). */
void actuator_set(Actuator *actuator, uint64_t bytes);
/* Ask for a re-send of the requested size (ignored while a SET waits). */
void actuator_reissue(Actuator *actuator);
/* Ask for a read of libvirt's requested size (one at a time). */
void actuator_read(Actuator *actuator);
/* Ask for @cap_bytes to be written into the contract (the latest wins). */
void actuator_write_cap(Actuator *actuator, uint64_t cap_bytes);

/* A SET is waiting or in flight: libvirt's requested size may still
 * differ from the last one asked. */
bool actuator_set_pending(const Actuator *actuator);
/* A call is in flight; *ret_since_us (may be NULL) says since when. */
bool actuator_busy(const Actuator *actuator, int64_t *ret_since_us);
/* SETs replaced before they started, since the actuator was made. */
uint64_t actuator_coalesced(const Actuator *actuator);

/* The calls through libomem-virt; @target is a virDomainPtr. */
const ActuatorOps *actuator_libvirt_ops(void);

#endif /* OMEM_ACTUATOR_H */
