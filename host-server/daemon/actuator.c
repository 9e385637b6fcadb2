/* SPDX-License-Identifier: MIT */
/*
 * actuator.c: one VM's libvirt calls in a worker, one at a time, the
 * requested size coalesced (actuator.h).
 */
#include "config.h"

#include "daemon/actuator.h"

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "omem-virt.h"

struct _Actuator {
	int refs;                    /* the owner's, until closed, + one per call in flight */
	bool closed;
	const ActuatorOps *ops;
	void *target;
	GDestroyNotify target_free;
	ActuatorDone done;
	void *owner;

	/* what waits, at most one of each */
	bool want_set;
	uint64_t set_bytes;
	int64_t set_queued_us;
	bool want_reissue;
	int64_t reissue_queued_us;
	bool want_read;
	int64_t read_queued_us;
	bool want_cap;
	uint64_t cap_bytes;
	int64_t cap_queued_us;

	bool busy;
	ActuatorKind busy_kind;
	int64_t busy_since_us;
	uint64_t set_generation;     /* bumped by every actuator_set */
	uint64_t coalesced;
};

/* One call, as its worker sees it. */
typedef struct {
	Actuator *actuator;
	ActuatorKind kind;
	uint64_t bytes;
	uint64_t generation;         /* set_generation when it started */
	int64_t queued_us, started_us, finished_us;
	bool ok;
	char *error;
	bool requested_known;
	uint64_t requested_bytes;
} ActuatorCall;

static void actuator_unref(Actuator *actuator)
{
	if (--actuator->refs > 0)
		return;
	if (actuator->target_free && actuator->target)
		actuator->target_free(actuator->target);
	g_free(actuator);
}

static void actuator_call_free(gpointer data)
{
	ActuatorCall *call = data;

	g_free(call->error);
	g_free(call);
}

static void actuator_run(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	ActuatorCall *call = data;
	const ActuatorOps *ops = call->actuator->ops;
	void *target = call->actuator->target;
	g_autofree char *read_error = NULL;

	switch (call->kind) {
	case ACTUATOR_SET:
		call->ok = ops->set_requested(target, call->bytes, &call->error) == 0;
		if (call->ok) {
			call->requested_known = true;
			call->requested_bytes = call->bytes;
		} else {
			/* Refused, perhaps half-way through several devices:
			 * what holds now? */
			call->requested_known =
				ops->read_requested(target, &call->requested_bytes, &read_error) == 0;
		}
		break;
	case ACTUATOR_REISSUE:
		call->ok = ops->reissue(target, &call->error) == 0;
		break;
	case ACTUATOR_READ:
		call->ok = ops->read_requested(target, &call->requested_bytes, &call->error) == 0;
		call->requested_known = call->ok;
		break;
	case ACTUATOR_CAP:
		call->ok = ops->write_cap(target, call->bytes, &call->error) == 0;
		break;
	}
	if (!call->ok && !call->error)
		call->error = g_strdup("failed without a reason");
	call->finished_us = g_get_monotonic_time();
	g_task_return_boolean(task, TRUE);
}

static void actuator_next(Actuator *actuator);

static void actuator_finished(GObject *source, GAsyncResult *res, gpointer data)
{
	Actuator *actuator = data;
	ActuatorCall *call = g_task_get_task_data(G_TASK(res));
	ActuatorResult result;

	actuator->busy = false;
	if (actuator->closed) {
		actuator_unref(actuator);
		return;
	}
	result = (ActuatorResult){
		.kind = call->kind, .ok = call->ok, .error = call->error, .bytes = call->bytes,
		.requested_known = call->requested_known, .requested_bytes = call->requested_bytes,
		.superseded = actuator->want_set ||
			      (call->kind == ACTUATOR_READ && call->generation != actuator->set_generation),
		.queued_us = call->queued_us, .started_us = call->started_us,
		.finished_us = call->finished_us,
	};
	/* The callback may ask for more, or close: both are fine here. */
	actuator->done(actuator->owner, &result);
	if (!actuator->closed)
		actuator_next(actuator);
	actuator_unref(actuator);
}

/* Start the most urgent waiting call, if none is in flight: the size
 * first (it is what the guest waits for), then the cap, the re-send,
 * the read. */
static void actuator_next(Actuator *actuator)
{
	g_autoptr(GTask) task = NULL;
	ActuatorCall *call;

	if (actuator->busy || actuator->closed)
		return;
	call = g_new0(ActuatorCall, 1);
	if (actuator->want_set) {
		actuator->want_set = false;
		call->kind = ACTUATOR_SET;
		call->bytes = actuator->set_bytes;
		call->queued_us = actuator->set_queued_us;
	} else if (actuator->want_cap) {
		actuator->want_cap = false;
		call->kind = ACTUATOR_CAP;
		call->bytes = actuator->cap_bytes;
		call->queued_us = actuator->cap_queued_us;
	} else if (actuator->want_reissue) {
		actuator->want_reissue = false;
		call->kind = ACTUATOR_REISSUE;
		call->queued_us = actuator->reissue_queued_us;
	} else if (actuator->want_read) {
		actuator->want_read = false;
		call->kind = ACTUATOR_READ;
		call->queued_us = actuator->read_queued_us;
	} else {
		g_free(call);
		return;
	}
	call->actuator = actuator;
	call->generation = actuator->set_generation;
	call->started_us = g_get_monotonic_time();
	actuator->busy = true;
	actuator->busy_kind = call->kind;
	actuator->busy_since_us = call->started_us;
	actuator->refs++;
	task = g_task_new(NULL, NULL, actuator_finished, actuator);
	g_task_set_task_data(task, call, actuator_call_free);
	g_task_run_in_thread(task, actuator_run);
}

Actuator *actuator_new(const ActuatorOps *ops, void *target, GDestroyNotify target_free,
		       ActuatorDone done, void *owner)
{
	Actuator *actuator = g_new0(Actuator, 1);

	actuator->refs = 1;
	actuator->ops = ops;
	actuator->target = target;
	actuator->target_free = target_free;
	actuator->done = done;
	actuator->owner = owner;
	return actuator;
}

void actuator_close(Actuator *actuator)
{
	if (!actuator || actuator->closed)
		return;
	actuator->closed = true;
	actuator->want_set = actuator->want_reissue = actuator->want_read = actuator->want_cap = false;
	actuator_unref(actuator);
}

void actuator_set(Actuator *actuator, uint64_t bytes)
{
	int64_t now = g_get_monotonic_time();

	if (actuator->want_set)
		actuator->coalesced++;
	else
		actuator->set_queued_us = now; /* the oldest wish the call serves */
	actuator->want_set = true;
	actuator->set_bytes = bytes;
	actuator->want_reissue = false;
	actuator->set_generation++;
	actuator_next(actuator);
}

void actuator_reissue(Actuator *actuator)
{
	if (actuator->want_set || actuator->want_reissue)
		return;
	actuator->want_reissue = true;
	actuator->reissue_queued_us = g_get_monotonic_time();
	actuator_next(actuator);
}

void actuator_read(Actuator *actuator)
{
	if (actuator->want_read)
		return;
	actuator->want_read = true;
	actuator->read_queued_us = g_get_monotonic_time();
	actuator_next(actuator);
}

void actuator_write_cap(Actuator *actuator, uint64_t cap_bytes)
{
	if (!actuator->want_cap)
		actuator->cap_queued_us = g_get_monotonic_time();
	actuator->want_cap = true;
	actuator->cap_bytes = cap_bytes;
	actuator_next(actuator);
}

bool actuator_set_pending(const Actuator *actuator)
{
	return actuator->want_set || (actuator->busy && actuator->busy_kind == ACTUATOR_SET);
}

bool actuator_busy(const Actuator *actuator, int64_t *ret_since_us)
{
	if (ret_since_us)
		*ret_since_us = actuator->busy ? actuator->busy_since_us : 0;
	return actuator->busy;
}

uint64_t actuator_coalesced(const Actuator *actuator)
{
	return actuator->coalesced;
}

/* ------------------------------------------------------------ libvirt */

static int actuator_libvirt_set(void *target, uint64_t requested_bytes, char **ret_error)
{
	if (omem_domain_set_requested(target, requested_bytes) < 0) {
		*ret_error = g_strdup(omem_error_last_message());
		return -1;
	}
	return 0;
}

static int actuator_libvirt_reissue(void *target, char **ret_error)
{
	if (omem_domain_reissue_requested(target) < 0) {
		*ret_error = g_strdup(omem_error_last_message());
		return -1;
	}
	return 0;
}

static int actuator_libvirt_read(void *target, uint64_t *ret_requested_bytes, char **ret_error)
{
	g_autofree char *xml = virDomainGetXMLDesc(target, 0);
	OmemMemoryState state;

	if (!xml) {
		*ret_error = g_strdup_printf("cannot read the live XML: %s", virGetLastErrorMessage());
		return -1;
	}
	if (omem_domain_xml_memory_state(xml, &state, NULL) < 0) {
		*ret_error = g_strdup(omem_error_last_message());
		return -1;
	}
	if (state.devices == 0) {
		*ret_error = g_strdup("no virtio-mem device in the live XML");
		return -1;
	}
	*ret_requested_bytes = state.requested_bytes;
	return 0;
}

static int actuator_libvirt_write_cap(void *target, uint64_t cap_bytes, char **ret_error)
{
	g_autoptr(OmemContract) contract = NULL;

	/* Read again here: the cap is the only field omemd changes, and the
	 * rest may have been written since the main thread read it. */
	if (omem_contract_get(target, VIR_DOMAIN_AFFECT_LIVE, &contract) < 0) {
		*ret_error = g_strdup_printf("cannot read the contract: %s", omem_error_last_message());
		return -1;
	}
	omem_contract_set_cap(contract, cap_bytes);
	if (omem_contract_validate(contract) < 0 ||
	    omem_contract_set(target, contract, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		*ret_error = g_strdup(omem_error_last_message());
		return -1;
	}
	return 0;
}

static const ActuatorOps actuator_libvirt = {
	.set_requested = actuator_libvirt_set,
	.reissue = actuator_libvirt_reissue,
	.read_requested = actuator_libvirt_read,
	.write_cap = actuator_libvirt_write_cap,
};

const ActuatorOps *actuator_libvirt_ops(void)
{
	return &actuator_libvirt;
}
