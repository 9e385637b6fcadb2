/* SPDX-License-Identifier: MIT */
/*
 * transport: one VM's omem-rpc endpoint on omemd's transport thread (see
 * transport.h).
 */
#include "config.h"

#include "daemon/transport.h"

#include <errno.h>

#include <gio/gio.h>

#include "rpc/ivshmem-server.h"
#include "daemon/omemd-log.h"
#include "rpc/rpc-ring.h"

/* Slots handled per wakeup before yielding to the loop, so one guest that
 * keeps its ring full cannot starve the other VMs' transports; the rest
 * is drained from an idle source right after. */
#define TRANSPORT_DRAIN_BUDGET 256

/* A backlogged transport looks at its ring again after this. */
#define TRANSPORT_BACKLOG_RETRY_MS 10

struct _Transport {
	char *name;                     /* VM name, for logs */
	IvshmemServer *server;
	GMainContext *context;          /* the transport thread's */
	struct rpc_region_layout layout;
	struct rpc_ring_consumer g2h;
	struct rpc_ring_producer h2g;
	bool attached;                  /* a guest is connected: rings valid */
	uint32_t generation;            /* +1 per connection */
	SessionConfig session_config;
	Session session;
	GSource *drain_source;          /* pending continuation of a drain */
	gint *backlog;                  /* events handed over, not handled (rc box shared with them) */
	bool ring_full_logged;          /* "host->guest ring full" said once per connection */
	bool error_logged;              /* first refused message logged per connection */
	TransportEventFunc on_event;
	gpointer user_data;
	GDestroyNotify user_data_free;
	GMutex lock;                    /* protects contract */
	struct rpc_msg_welcome contract;
};

static void transport_emit(Transport *transport, const TransportEvent *event)
{
	TransportEvent copy = *event;

	copy.backlog = transport->backlog;
	if (transport->on_event)
		transport->on_event(transport, &copy, transport->user_data);
}

void transport_event_hold(TransportEvent *event)
{
	event->backlog = g_atomic_rc_box_acquire(event->backlog);
	g_atomic_int_inc(event->backlog);
}

void transport_event_done(TransportEvent *event)
{
	if (!event->backlog)
		return;
	g_atomic_int_dec_and_test(event->backlog);
	g_atomic_rc_box_release(event->backlog);
	event->backlog = NULL;
}

/* The manager is this far behind: drain no more for now. */
static bool transport_backlogged(Transport *transport)
{
	return g_atomic_int_get(transport->backlog) >= TRANSPORT_BACKLOG_MAX;
}

/* The one log line of a cut-off; @detail (or NULL) says what the guest
 * broke, e.g. the index it wrote. */
static void transport_log_cut_off(Transport *transport, const SessionEvent *event,
				  const char *detail)
{
	omemd_log(OMEMD_LOG_WARNING, "vm %s: cut off (GOODBYE PROTOCOL): the guest %s%s%s%s; %" G_GUINT64_FORMAT
		  " of %" G_GUINT64_FORMAT " messages refused; nothing more is read until the transport is re-attached",
		  transport->name, event->why, detail ? " (" : "", detail ? detail : "", detail ? ")" : "",
		  transport->session.refused, transport->session.received);
}

/* Encode, queue and signal one message that the session numbered. */
static void transport_put(Transport *transport, const struct rpc_msg *msg)
{
	guint8 slot[OMEM_RPC_SLOT_SIZE];
	struct rpc_codec_error error;
	int r;

	if (!transport->attached)
		return;
	r = rpc_codec_encode(msg, slot, sizeof(slot), &error);
	if (r < 0) {
		omemd_log(OMEMD_LOG_ERROR, "vm %s: internal error: cannot encode %s (%s at %s); not sent",
			  transport->name, rpc_codec_type_name(msg->type),
			  rpc_codec_error_name(error.code), error.field);
		return;
	}
	r = rpc_ring_send(&transport->h2g, slot);
	if (r == -EAGAIN) {
		if (!transport->ring_full_logged)
			omemd_log(OMEMD_LOG_WARNING, "vm %s: host->guest ring full (the guest reads nothing); %s dropped",
				  transport->name, rpc_codec_type_name(msg->type));
		transport->ring_full_logged = true;
		return;
	}
	if (r < 0) {
		SessionOutput out;
		g_autofree char *detail = g_strdup_printf("tail %u", transport->h2g.seen_tail);

		/* No GOODBYE: the ring it would go in is the broken one.  A
		 * session already cut off (the GOODBYE of that cut-off found
		 * the ring broken, say) reports nothing: one line per cut-off. */
		session_ring_fault(&transport->session, "broke the host->guest ring index", &out);
		if (out.event.type == SESSION_EVENT_CUT_OFF) {
			transport_log_cut_off(transport, &out.event, detail);
			TransportEvent event = { .type = TRANSPORT_EVENT_SESSION,
						 .generation = transport->generation,
						 .session = out.event };

			transport_emit(transport, &event);
		}
		return;
	}
	ivshmem_server_notify_guest(transport->server, OMEM_RPC_VECTOR_RING);
}

/* Send the session's replies, log a cut-off (with @detail, or NULL) and
 * pass its event on. */
static void transport_output(Transport *transport, const SessionOutput *out, const char *detail)
{
	for (unsigned i = 0; i < out->n_replies; i++)
		transport_put(transport, &out->replies[i]);
	if (out->event.type == SESSION_EVENT_CUT_OFF)
		transport_log_cut_off(transport, &out->event, detail);
	if (out->event.type != SESSION_EVENT_NONE) {
		TransportEvent event = { .type = TRANSPORT_EVENT_SESSION,
					 .generation = transport->generation,
					 .session = out->event };

		transport_emit(transport, &event);
	}
}

static gboolean transport_drain(gpointer user_data);

/* Take up to the budget of slots off the guest->host ring. */
static void transport_drain_ring(Transport *transport)
{
	guint8 slot[OMEM_RPC_SLOT_SIZE];
	struct rpc_codec_error error;
	struct rpc_msg_welcome contract;
	struct rpc_msg msg;
	SessionOutput out;
	int i, r;

	for (i = 0; i < TRANSPORT_DRAIN_BUDGET; i++) {
		if (!transport->attached || transport->session.state == SESSION_STATE_CUT_OFF)
			return;
		if (transport_backlogged(transport))
			break;
		r = rpc_ring_receive(&transport->g2h, slot);
		if (r == 0)
			return;
		if (r < 0) {
			g_autofree char *detail = g_strdup_printf("head %u, tail %u",
								  transport->g2h.seen_head,
								  transport->g2h.tail);

			session_ring_fault(&transport->session, "broke the guest->host ring index", &out);
			transport_output(transport, &out, detail);
			return;
		}
		if (rpc_codec_decode(slot, sizeof(slot), RPC_FROM_GUEST, &msg, &error) < 0) {
			if (!transport->error_logged)
				omemd_log(OMEMD_LOG_WARNING, "vm %s: refused a guest message: %s at %s (type %u, seq %u); later ones are only counted",
					  transport->name, rpc_codec_error_name(error.code), error.field,
					  error.type, error.seq);
			transport->error_logged = true;
			session_receive_error(&transport->session, &error, g_get_monotonic_time() / 1000,
					      &out);
			transport_output(transport, &out, NULL);
			continue;
		}
		g_mutex_lock(&transport->lock);
		contract = transport->contract;
		g_mutex_unlock(&transport->lock);
		session_receive(&transport->session, &msg, &contract, g_get_monotonic_time() / 1000, &out);
		transport_output(transport, &out, NULL);
	}
	/* Budget spent with slots left: continue right after the others;
	 * backlogged: look again a little later, when the manager has
	 * caught up (the guest's ring holds the rest meanwhile). */
	if (!transport->drain_source) {
		transport->drain_source = transport_backlogged(transport) ?
					  g_timeout_source_new(TRANSPORT_BACKLOG_RETRY_MS) :
					  g_idle_source_new();
		g_source_set_callback(transport->drain_source, transport_drain, transport, NULL);
		g_source_attach(transport->drain_source, transport->context);
	}
}

static gboolean transport_drain(gpointer user_data)
{
	Transport *transport = user_data;

	g_source_unref(transport->drain_source);
	transport->drain_source = NULL;
	transport_drain_ring(transport);
	return G_SOURCE_REMOVE;
}

static void transport_on_doorbell(IvshmemServer *server, unsigned vector, gpointer user_data)
{
	transport_drain_ring(user_data);
}

static void transport_on_connected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	Transport *transport = user_data;
	void *region = ivshmem_server_get_region(server, NULL);
	TransportEvent event = { .type = TRANSPORT_EVENT_CONNECTED };

	/* A fresh connection is a fresh device in the guest: new region
	 * contents, new generation, a new session. */
	transport->layout.generation = ++transport->generation;
	rpc_ring_region_init(region, &transport->layout);
	if (rpc_ring_host_attach(region, &transport->layout, 0, &transport->g2h, &transport->h2g) < 0) {
		omemd_log(OMEMD_LOG_ERROR, "vm %s: internal error: the region layout was refused", transport->name);
		return;
	}
	transport->attached = true;
	transport->ring_full_logged = false;
	transport->error_logged = false;
	session_init(&transport->session, &transport->session_config, g_get_monotonic_time() / 1000);
	omemd_log(OMEMD_LOG_INFO, "vm %s: transport connected (QEMU peer %u, generation %u)",
		  transport->name, peer_id, transport->generation);
	event.generation = transport->generation;
	transport_emit(transport, &event);
}

static void transport_on_disconnected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	Transport *transport = user_data;
	TransportEvent event = { .type = TRANSPORT_EVENT_DISCONNECTED,
				 .generation = transport->generation };

	transport->attached = false;
	omemd_log(OMEMD_LOG_INFO, "vm %s: transport disconnected (QEMU peer %u)", transport->name, peer_id);
	transport_emit(transport, &event);
}

static void transport_on_dropped(IvshmemServer *server, const GError *reason, gpointer user_data)
{
	Transport *transport = user_data;

	omemd_log(OMEMD_LOG_WARNING, "vm %s: %s", transport->name, reason->message);
}

Transport *transport_new(const TransportConfig *config, GError **error)
{
	g_autoptr(Transport) transport = g_new0(Transport, 1);
	IvshmemServerConfig server_config = { 0 };

	transport->name = g_strdup(config->name);
	transport->backlog = g_atomic_rc_box_new0(gint);
	transport->session_config = config->session;
	transport->on_event = config->on_event;
	transport->user_data = config->user_data;
	transport->user_data_free = config->user_data_free;
	g_mutex_init(&transport->lock);
	if (rpc_ring_layout_default(config->region_size, IVSHMEM_SERVER_DEFAULT_PEER_ID, 0,
				    &transport->layout) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "region size %u is not a power of two from %u to %u bytes", config->region_size,
			    OMEM_RPC_REGION_MIN_SIZE, OMEM_RPC_REGION_MAX_SIZE);
		return NULL;
	}
	server_config.socket_path = config->socket_path;
	server_config.region_size = config->region_size;
	server_config.vectors = OMEM_RPC_VECTORS;
	server_config.server_peer_id = IVSHMEM_SERVER_DEFAULT_PEER_ID;
	server_config.allowed_uid = config->allowed_uid;
	server_config.allow_root = config->allow_root;
	server_config.allowed_pid = config->allowed_pid;
	server_config.callbacks.doorbell = transport_on_doorbell;
	server_config.callbacks.guest_connected = transport_on_connected;
	server_config.callbacks.guest_disconnected = transport_on_disconnected;
	server_config.callbacks.connection_dropped = transport_on_dropped;
	server_config.user_data = transport;
	transport->server = ivshmem_server_new(&server_config, error);
	if (!transport->server)
		return NULL;
	/* Lay the region out before QEMU can map it, not only on connect. */
	rpc_ring_region_init(ivshmem_server_get_region(transport->server, NULL), &transport->layout);
	session_init(&transport->session, &transport->session_config, g_get_monotonic_time() / 1000);
	return g_steal_pointer(&transport);
}

void transport_start(Transport *transport, GMainContext *context)
{
	transport->context = g_main_context_ref(context);
	ivshmem_server_start(transport->server, context);
}

void transport_set_contract(Transport *transport, const struct rpc_msg_welcome *contract)
{
	g_mutex_lock(&transport->lock);
	transport->contract = *contract;
	g_mutex_unlock(&transport->lock);
}

void transport_set_session_config(Transport *transport, const SessionConfig *config)
{
	transport->session_config = *config;
	session_set_config(&transport->session, config);
}

void transport_send_reply(Transport *transport, uint32_t epoch, uint32_t reply_to,
			  const struct rpc_msg *msg)
{
	struct rpc_msg numbered = *msg;

	if (!transport->attached ||
	    session_take_reply(&transport->session, epoch, reply_to, &numbered) < 0)
		return;
	transport_put(transport, &numbered);
}

void transport_send_message(Transport *transport, uint32_t epoch, const struct rpc_msg *msg)
{
	struct rpc_msg numbered = *msg;

	if (!transport->attached || transport->session.epoch != epoch ||
	    session_take_message(&transport->session, &numbered) < 0)
		return;
	transport_put(transport, &numbered);
}

void transport_say_goodbye(Transport *transport)
{
	struct rpc_msg msg = { .type = OMEM_RPC_GOODBYE,
			       .u.goodbye.reason = OMEM_RPC_GOODBYE_SHUTDOWN };

	if (!transport->attached || session_take_message(&transport->session, &msg) < 0)
		return;
	transport_put(transport, &msg);
}

void transport_free(Transport *transport)
{
	if (!transport)
		return;
	if (transport->drain_source) {
		g_source_destroy(transport->drain_source);
		g_source_unref(transport->drain_source);
	}
	ivshmem_server_free(transport->server);
	g_clear_pointer(&transport->context, g_main_context_unref);
	g_mutex_clear(&transport->lock);
	if (transport->user_data_free)
		transport->user_data_free(transport->user_data);
	g_atomic_rc_box_release(transport->backlog);
	g_free(transport->name);
	g_free(transport);
}
