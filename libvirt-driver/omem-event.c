/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-event.c: the two libvirt events omemd follows, narrowed to what
 * omem needs: plugged sizes in bytes, and changes of the omem contract
 * only (not every metadata change of every domain).
 */
#include "config.h"

#include <libvirt/virterror.h>

#include "omem-virt-internal.h"

/* What libvirt holds as the opaque of one registration: the caller's
 * callback and opaque, freed by libvirt through omem_event_handler_free
 * when the callback is deregistered or the connection closes. */
typedef struct {
	union {
		OmemSizeChangeCallback size_change;
		OmemContractChangeCallback contract_change;
	} callback;
	void *opaque;
	virFreeCallback free_opaque;
} OmemEventHandler;

static void omem_event_handler_free(void *data)
{
	OmemEventHandler *handler = data;

	if (!handler)
		return;
	if (handler->free_opaque)
		handler->free_opaque(handler->opaque);
	g_free(handler);
}

static void omem_event_on_size_change(virConnectPtr conn, virDomainPtr domain, const char *alias,
				      unsigned long long size_kibibytes, void *opaque)
{
	OmemEventHandler *handler = opaque;
	/* libvirt reports KiB; a device's size fits in 64 bits of bytes, so a
	 * figure that does not is a broken event and saturates instead of
	 * wrapping. */
	unsigned long long bytes = size_kibibytes > G_MAXUINT64 / 1024 ? G_MAXUINT64 : size_kibibytes * 1024;

	handler->callback.size_change(conn, domain, alias, bytes, handler->opaque);
}

static void omem_event_on_metadata_change(virConnectPtr conn, virDomainPtr domain, int type,
					  const char *nsuri, void *opaque)
{
	OmemEventHandler *handler = opaque;

	if (type != VIR_DOMAIN_METADATA_ELEMENT || g_strcmp0(nsuri, OMEM_CONTRACT_NAMESPACE))
		return;
	/* libvirt's event does not say which side changed: report both, and
	 * let the callback read the side it follows. */
	handler->callback.contract_change(conn, domain,
					  VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
					  handler->opaque);
}

/* libvirt refuses a second registration of the same callback function for
 * the same event and domain filter on one connection ("event callback
 * already tracked"), and every omem registration would otherwise pass
 * the same function.  So each event has a few identical trampolines, and
 * a registration takes the first one libvirt accepts: up to
 * OMEM_EVENT_TRAMPOLINES registrations per event, connection and domain
 * filter. */
#define OMEM_EVENT_TRAMPOLINES 8

#define OMEM_EVENT_SIZE_TRAMPOLINE(n)                                                        \
	static void omem_event_size_trampoline_##n(virConnectPtr conn, virDomainPtr domain,   \
						   const char *alias, unsigned long long size, \
						   void *opaque)                              \
	{                                                                                    \
		omem_event_on_size_change(conn, domain, alias, size, opaque);                \
	}
#define OMEM_EVENT_METADATA_TRAMPOLINE(n)                                                    \
	static void omem_event_metadata_trampoline_##n(virConnectPtr conn, virDomainPtr domain, \
						       int type, const char *nsuri, void *opaque) \
	{                                                                                    \
		omem_event_on_metadata_change(conn, domain, type, nsuri, opaque);            \
	}

OMEM_EVENT_SIZE_TRAMPOLINE(0)
OMEM_EVENT_SIZE_TRAMPOLINE(1)
OMEM_EVENT_SIZE_TRAMPOLINE(2)
OMEM_EVENT_SIZE_TRAMPOLINE(3)
OMEM_EVENT_SIZE_TRAMPOLINE(4)
OMEM_EVENT_SIZE_TRAMPOLINE(5)
OMEM_EVENT_SIZE_TRAMPOLINE(6)
OMEM_EVENT_SIZE_TRAMPOLINE(7)
OMEM_EVENT_METADATA_TRAMPOLINE(0)
OMEM_EVENT_METADATA_TRAMPOLINE(1)
OMEM_EVENT_METADATA_TRAMPOLINE(2)
OMEM_EVENT_METADATA_TRAMPOLINE(3)
OMEM_EVENT_METADATA_TRAMPOLINE(4)
OMEM_EVENT_METADATA_TRAMPOLINE(5)
OMEM_EVENT_METADATA_TRAMPOLINE(6)
OMEM_EVENT_METADATA_TRAMPOLINE(7)

static const virConnectDomainEventMemoryDeviceSizeChangeCallback
	omem_event_size_trampolines[OMEM_EVENT_TRAMPOLINES] = {
	omem_event_size_trampoline_0, omem_event_size_trampoline_1,
	omem_event_size_trampoline_2, omem_event_size_trampoline_3,
	omem_event_size_trampoline_4, omem_event_size_trampoline_5,
	omem_event_size_trampoline_6, omem_event_size_trampoline_7,
};

static const virConnectDomainEventMetadataChangeCallback
	omem_event_metadata_trampolines[OMEM_EVENT_TRAMPOLINES] = {
	omem_event_metadata_trampoline_0, omem_event_metadata_trampoline_1,
	omem_event_metadata_trampoline_2, omem_event_metadata_trampoline_3,
	omem_event_metadata_trampoline_4, omem_event_metadata_trampoline_5,
	omem_event_metadata_trampoline_6, omem_event_metadata_trampoline_7,
};

/* Register @handler for @event_id with the first trampoline libvirt takes;
 * libvirt owns @handler from success on. */
static int omem_event_register(virConnectPtr conn, virDomainPtr domain, int event_id,
			       OmemEventHandler *handler, const char *what)
{
	for (unsigned int i = 0; i < OMEM_EVENT_TRAMPOLINES; i++) {
		virConnectDomainEventGenericCallback callback =
			event_id == VIR_DOMAIN_EVENT_ID_METADATA_CHANGE ?
			VIR_DOMAIN_EVENT_CALLBACK(omem_event_metadata_trampolines[i]) :
			VIR_DOMAIN_EVENT_CALLBACK(omem_event_size_trampolines[i]);
		int id = virConnectDomainEventRegisterAny(conn, domain, event_id, callback, handler,
							  omem_event_handler_free);
		virErrorPtr error;

		if (id >= 0)
			return id;
		error = virGetLastError();
		if (!error || error->code != VIR_ERR_INVALID_ARG)
			break;
	}
	/* libvirt took neither @handler nor the caller's opaque. */
	g_free(handler);
	omem_error_raise_libvirt("Registering for %s events failed", what);
	return -1;
}

int omem_event_register_size_change(virConnectPtr conn, virDomainPtr domain,
				    OmemSizeChangeCallback callback, void *opaque,
				    virFreeCallback free_opaque)
{
	OmemEventHandler *handler;

	if (!conn || !callback) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "Registering for memory-device-size-change events needs a connection and a callback; pass both.");
		return -1;
	}
	handler = g_new0(OmemEventHandler, 1);
	handler->callback.size_change = callback;
	handler->opaque = opaque;
	handler->free_opaque = free_opaque;
	return omem_event_register(conn, domain, VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, handler,
				   "memory-device-size-change");
}

int omem_event_register_contract_change(virConnectPtr conn, virDomainPtr domain,
					OmemContractChangeCallback callback, void *opaque,
					virFreeCallback free_opaque)
{
	OmemEventHandler *handler;

	if (!conn || !callback) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "Registering for omem contract change events needs a connection and a callback; pass both.");
		return -1;
	}
	handler = g_new0(OmemEventHandler, 1);
	handler->callback.contract_change = callback;
	handler->opaque = opaque;
	handler->free_opaque = free_opaque;
	return omem_event_register(conn, domain, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, handler,
				   "metadata-change");
}
