/* SPDX-License-Identifier: MIT */
/*
 * transport: one VM's omem-rpc endpoint inside omemd: its IvshmemServer,
 * the region laid out with rpc-ring, the rings drained on every doorbell
 * and the Session (session.h) that answers them.
 *
 * Threading: a Transport lives on omemd's transport thread.  Create it
 * anywhere with transport_new, then transport_start hands it to the
 * transport context; from then on every function except
 * transport_set_contract runs on that thread (the manager reaches it with
 * g_main_context_invoke, and sources of one priority run in the order they
 * were added, so a reply queued before transport_free is sent first).
 * The thread never calls libvirt: QEMU's handshake happens inside
 * libvirt's attach-device call and must be answered while it runs.
 * Events go to the manager through the on_event callback, on the
 * transport thread; the manager copies and marshals them.
 */
#ifndef OMEM_TRANSPORT_H
#define OMEM_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "rpc/session.h"

typedef struct _Transport Transport;

typedef enum {
	TRANSPORT_EVENT_CONNECTED,     /* QEMU connected: fresh region, generation */
	TRANSPORT_EVENT_DISCONNECTED,  /* QEMU closed the socket (detach, QEMU gone) */
	TRANSPORT_EVENT_SESSION,       /* a session event (session.h) */
} TransportEventType;

/* What the manager hears; valid during the callback only. */
typedef struct {
	TransportEventType type;
	uint32_t generation;           /* region generation of this connection */
	SessionEvent session;          /* TRANSPORT_EVENT_SESSION */
	int64_t received_us;           /* monotonic, when the manager's copy was made */
	gint *backlog;                 /* the transport's count of events not handled yet */
} TransportEvent;

/* Events one transport may have handed over and not yet seen handled:
 * past it the transport stops draining the guest's ring (the guest's
 * sends then fail with a full ring, its own back-pressure) until the
 * manager catches up, so a flooding guest cannot grow omemd's queue
 * without bound. */
#define TRANSPORT_BACKLOG_MAX 64

/* A receiver that keeps a copy of @event past the callback takes it
 * with transport_event_hold and calls transport_event_done once it has
 * handled it (any thread). */
void transport_event_hold(TransportEvent *event);
void transport_event_done(TransportEvent *event);

typedef void (*TransportEventFunc)(Transport *transport, const TransportEvent *event,
				   gpointer user_data);

/* Everything transport_new needs; copied. */
typedef struct {
	const char *name;              /* VM name, for log lines */
	const char *socket_path;       /* RUN_DIR/vm/<uuid>.sock */
	uint32_t region_size;          /* power of two, rpc.h bounds */
	uid_t allowed_uid;             /* QEMU's uid (libvirt-qemu) */
	bool allow_root;               /* also accept uid 0 */
	pid_t allowed_pid;             /* that VM's QEMU; 0 refuses every peer */
	SessionConfig session;         /* session tunables */
	TransportEventFunc on_event;   /* on the transport thread */
	gpointer user_data;
	GDestroyNotify user_data_free; /* called on user_data by transport_free (or a failed transport_new) */
} TransportConfig;

/* Create the region and listening socket and lay the region out.  Any
 * thread; QEMU is answered only after transport_start. */
Transport *transport_new(const TransportConfig *config, GError **error);

/* Serve from @context (the transport thread's).  Call once. */
void transport_start(Transport *transport, GMainContext *context);

/* Publish the figures WELCOME carries (boot, min, max, cap, plugged,
 * block, buffer).  Any thread (a mutex guards them). */
void transport_set_contract(Transport *transport, const struct rpc_msg_welcome *contract);

/* New session tunables (a reload): for the open session at once as
 * session_set_config says, and for every later connection.  Transport
 * thread. */
void transport_set_session_config(Transport *transport, const SessionConfig *config);

/* Send the manager's GRANT/DENY for the DEMAND @reply_to of session
 * @epoch; dropped when the session moved on.  Transport thread. */
void transport_send_reply(Transport *transport, uint32_t epoch, uint32_t reply_to,
			  const struct rpc_msg *msg);

/* Send a message of omemd's own (RECLAIM) to session @epoch; dropped
 * when that session is no longer open.  Transport thread. */
void transport_send_message(Transport *transport, uint32_t epoch, const struct rpc_msg *msg);

/* Say GOODBYE (SHUTDOWN) to an open session before omemd stops.
 * Transport thread. */
void transport_say_goodbye(Transport *transport);

/* Close the socket (unlinked) and the region.  Transport thread, or once
 * nothing iterates its context.  Accepts NULL. */
void transport_free(Transport *transport);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Transport, transport_free)

#endif /* OMEM_TRANSPORT_H */
