/* SPDX-License-Identifier: MIT */
/*
 * omem-ivshmem-serve: one VM's host end of omem-rpc, for tests and by hand.
 *
 * Serves an ivshmem-doorbell socket with host-server/rpc/ (the same server,
 * rings and codec omemd uses), lays out the region, and answers the
 * session layer only: HELLO with WELCOME (a fixed contract from the
 * command line), PING with PONG.  It never calls libvirt, so a test may
 * attach the device with virsh while this process answers QEMU's
 * handshake.  Prints "READY" on stdout once it listens; one log line per
 * event on stderr; exits cleanly on SIGINT/SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>

#include "rpc/ivshmem-server.h"
#include "rpc/rpc-codec.h"
#include "rpc/rpc-ring.h"

/* Slots handled per doorbell before yielding to the loop, so a guest that
 * keeps its ring full cannot starve signal handling. */
#define SERVE_DRAIN_BUDGET 256

typedef struct {
	GMainLoop *loop;
	IvshmemServer *server;
	struct rpc_region_layout layout;
	struct rpc_ring_consumer g2h;
	struct rpc_ring_producer h2g;
	gboolean attached;      /* rings valid: a guest is connected */
	gboolean cut_off;       /* the guest broke the ring: ignore it */
	uint32_t generation;    /* region generation, bumped per connection */
	uint32_t next_seq;      /* our next message's seq */
	struct rpc_msg_welcome contract;
	guint64 hellos, pings, errors;
} Serve;

static void serve_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void serve_log(const char *fmt, ...)
{
	va_list ap;

	fputs("omem-ivshmem-serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Encode and queue one message to the guest, then ring its doorbell. */
static void serve_send(Serve *serve, struct rpc_msg *msg)
{
	guint8 slot[OMEM_RPC_SLOT_SIZE];
	struct rpc_codec_error error;
	int r;

	msg->seq = serve->next_seq++;
	if (serve->next_seq == 0)
		serve->next_seq = 1;
	r = rpc_codec_encode(msg, slot, sizeof(slot), &error);
	if (r < 0) {
		serve_log("cannot encode %s: %s at %s", rpc_codec_type_name(msg->type),
			  rpc_codec_error_name(error.code), error.field);
		return;
	}
	r = rpc_ring_send(&serve->h2g, slot);
	if (r == -EAGAIN) {
		serve_log("host->guest ring full, %s dropped", rpc_codec_type_name(msg->type));
		return;
	}
	if (r < 0) {
		serve_log("guest broke the host->guest ring (tail %u), cutting it off",
			  serve->h2g.seen_tail);
		serve->cut_off = TRUE;
		return;
	}
	ivshmem_server_notify_guest(serve->server, OMEM_RPC_VECTOR_RING);
}

/* Answer one decoded guest message. */
static void serve_handle(Serve *serve, const struct rpc_msg *msg)
{
	struct rpc_msg reply = { .reply_to = msg->seq };
	uint16_t version;

	switch (msg->type) {
	case OMEM_RPC_HELLO:
		/* HELLO (re)starts the session: our numbering restarts with
		 * the answer (rpc.h, "Sessions and sequence numbers"). */
		serve->hellos++;
		serve->next_seq = 1;
		serve_log("HELLO seq %u: versions %u..%u, client %u.%u, MemTotal %" G_GUINT64_FORMAT
			  " bytes, block %" G_GUINT64_FORMAT, msg->seq, msg->u.hello.version_min,
			  msg->u.hello.version_max, msg->u.hello.client_version >> 16,
			  msg->u.hello.client_version & 0xffff, msg->u.hello.guest_total_bytes,
			  msg->u.hello.memory_block_bytes);
		if (rpc_codec_negotiate(msg->u.hello.version_min, msg->u.hello.version_max,
					&version) < 0) {
			reply.type = OMEM_RPC_ERROR;
			reply.u.error.code = OMEM_RPC_ERR_BAD_VERSION;
			reply.u.error.type = OMEM_RPC_HELLO;
			serve_send(serve, &reply);
			reply = (struct rpc_msg){ .type = OMEM_RPC_GOODBYE,
						  .u.goodbye.reason = OMEM_RPC_GOODBYE_VERSION };
			serve_send(serve, &reply);
			return;
		}
		reply.type = OMEM_RPC_WELCOME;
		reply.u.welcome = serve->contract;
		reply.u.welcome.version = version;
		serve_send(serve, &reply);
		serve_log("WELCOME sent: protocol v%u", version);
		return;
	case OMEM_RPC_PING:
		serve->pings++;
		reply.type = OMEM_RPC_PONG;
		reply.u.ping.cookie = msg->u.ping.cookie;
		serve_send(serve, &reply);
		return;
	case OMEM_RPC_GOODBYE:
		serve_log("GOODBYE seq %u, reason %u", msg->seq, msg->u.goodbye.reason);
		return;
	default:
		serve_log("%s seq %u received; this tool serves the session layer only",
			  rpc_codec_type_name(msg->type), msg->seq);
		return;
	}
}

/* Drain the guest->host ring, up to the budget. */
static void serve_drain(Serve *serve)
{
	guint8 slot[OMEM_RPC_SLOT_SIZE];
	struct rpc_codec_error error;
	struct rpc_msg msg;
	int i, r;

	for (i = 0; i < SERVE_DRAIN_BUDGET && serve->attached && !serve->cut_off; i++) {
		r = rpc_ring_receive(&serve->g2h, slot);
		if (r == 0)
			return;
		if (r < 0) {
			serve_log("guest broke the guest->host ring (head %u), cutting it off",
				  serve->g2h.seen_head);
			serve->cut_off = TRUE;
			return;
		}
		if (rpc_codec_decode(slot, sizeof(slot), RPC_FROM_GUEST, &msg, &error) < 0) {
			struct rpc_msg reply = { .type = OMEM_RPC_ERROR, .reply_to = error.seq };

			serve->errors++;
			serve_log("refused a guest message: %s at %s (offset %u, type %u)",
				  rpc_codec_error_name(error.code), error.field, error.field_offset,
				  error.type);
			reply.u.error.code = error.code;
			reply.u.error.type = error.type;
			reply.u.error.field_offset = error.field_offset;
			serve_send(serve, &reply);
			continue;
		}
		serve_handle(serve, &msg);
	}
}

static void serve_on_doorbell(IvshmemServer *server, unsigned vector, gpointer user_data)
{
	serve_drain(user_data);
}

static void serve_on_connected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	Serve *serve = user_data;
	void *region = ivshmem_server_get_region(server, NULL);

	/* A fresh connection is a fresh device in the guest: new region
	 * contents, new generation, new sequence numbers. */
	serve->layout.generation = ++serve->generation;
	rpc_ring_region_init(region, &serve->layout);
	if (rpc_ring_host_attach(region, &serve->layout, 0, &serve->g2h, &serve->h2g) < 0) {
		serve_log("internal error: region layout refused");
		return;
	}
	serve->attached = TRUE;
	serve->cut_off = FALSE;
	serve->next_seq = 1;
	serve_log("guest peer %u connected (generation %u)", peer_id, serve->generation);
}

static void serve_on_disconnected(IvshmemServer *server, unsigned peer_id, gpointer user_data)
{
	Serve *serve = user_data;

	serve->attached = FALSE;
	serve_log("guest peer %u disconnected", peer_id);
}

static void serve_on_dropped(IvshmemServer *server, const GError *reason, gpointer user_data)
{
	serve_log("%s", reason->message);
}

static gboolean serve_on_signal(gpointer user_data)
{
	g_main_loop_quit(((Serve *)user_data)->loop);
	return G_SOURCE_REMOVE;
}

/* Parse a byte count with an optional K/M/G suffix (binary units). */
static gboolean parse_bytes(const char *text, guint64 *ret_bytes)
{
	guint64 value;
	char *end = NULL;

	if (!text || !g_ascii_isdigit(text[0]))
		return FALSE;
	errno = 0;
	value = g_ascii_strtoull(text, &end, 10);
	if (errno)
		return FALSE;
	switch (g_ascii_toupper(*end)) {
	case 'K': value <<= 10; end++; break;
	case 'M': value <<= 20; end++; break;
	case 'G': value <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return FALSE;
	*ret_bytes = value;
	return TRUE;
}

int main(int argc, char **argv)
{
	g_autofree char *socket_path = NULL, *size_text = NULL, *boot_text = NULL;
	g_autofree char *max_text = NULL;
	gint64 allow_uid = -1;
	gboolean allow_root = FALSE;
	guint64 region_size = 64 * 1024, boot = 256ull << 20, max = 1792ull << 20;
	GOptionEntry entries[] = {
		{ "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path, "unix socket QEMU connects to", "PATH" },
		{ "allow-uid", 'u', 0, G_OPTION_ARG_INT64, &allow_uid, "uid of the VM's QEMU (libvirt-qemu)", "UID" },
		{ "allow-root", 0, 0, G_OPTION_ARG_NONE, &allow_root, "also accept uid 0", NULL },
		{ "size", 0, 0, G_OPTION_ARG_STRING, &size_text, "shared region size (default 64K)", "BYTES" },
		{ "boot", 0, 0, G_OPTION_ARG_STRING, &boot_text, "contract boot RAM sent in WELCOME (default 256M)", "BYTES" },
		{ "max", 0, 0, G_OPTION_ARG_STRING, &max_text, "contract max sent in WELCOME (default 1792M)", "BYTES" },
		{ NULL },
	};
	g_autoptr(GOptionContext) options = g_option_context_new("- serve one VM's omem-rpc transport");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	Serve serve = { 0 };
	IvshmemServerConfig config = { 0 };

	g_option_context_add_main_entries(options, entries, NULL);
	if (!g_option_context_parse(options, &argc, &argv, &error)) {
		serve_log("%s", error->message);
		return 2;
	}
	if (!socket_path || allow_uid < 0 || allow_uid > G_MAXUINT32) {
		serve_log("--socket PATH and --allow-uid UID are required (see --help)");
		return 2;
	}
	if ((size_text && !parse_bytes(size_text, &region_size)) ||
	    (boot_text && !parse_bytes(boot_text, &boot)) ||
	    (max_text && !parse_bytes(max_text, &max)) || boot == 0 || boot > max) {
		serve_log("bad --size, --boot or --max: want a byte count like 64K, 256M; boot <= max");
		return 2;
	}

	serve.contract = (struct rpc_msg_welcome){
		.buffer_percent = 10,
		.boot_bytes = boot,
		.min_bytes = boot,
		.max_bytes = max,
		.cap_bytes = max,
		.block_bytes = 2u << 20,
		.stats_interval_ms = 0,
		.demand_interval_ms = 100,
	};
	if (rpc_ring_layout_default(region_size, IVSHMEM_SERVER_DEFAULT_PEER_ID, 0,
				    &serve.layout) < 0) {
		serve_log("--size %" G_GUINT64_FORMAT ": want a power of two from %u to %u bytes",
			  region_size, OMEM_RPC_REGION_MIN_SIZE, OMEM_RPC_REGION_MAX_SIZE);
		return 2;
	}

	config.socket_path = socket_path;
	config.region_size = region_size;
	config.vectors = OMEM_RPC_VECTORS;
	config.server_peer_id = IVSHMEM_SERVER_DEFAULT_PEER_ID;
	config.allowed_uid = (uid_t)allow_uid;
	config.allow_root = allow_root;
	/* QEMU starts after this helper, so its pid is not known here. */
	config.allow_any_pid = TRUE;
	config.callbacks.doorbell = serve_on_doorbell;
	config.callbacks.guest_connected = serve_on_connected;
	config.callbacks.guest_disconnected = serve_on_disconnected;
	config.callbacks.connection_dropped = serve_on_dropped;
	config.user_data = &serve;
	serve.server = ivshmem_server_new(&config, &error);
	if (!serve.server) {
		serve_log("%s", error->message);
		return 1;
	}
	/* Lay the region out before QEMU can map it, not only on connect. */
	rpc_ring_region_init(ivshmem_server_get_region(serve.server, NULL), &serve.layout);

	loop = g_main_loop_new(NULL, FALSE);
	serve.loop = loop;
	g_unix_signal_add(SIGINT, serve_on_signal, &serve);
	g_unix_signal_add(SIGTERM, serve_on_signal, &serve);
	ivshmem_server_start(serve.server, g_main_context_default());

	printf("READY\n");
	fflush(stdout);
	serve_log("listening on %s (region %" G_GUINT64_FORMAT " bytes, peer id %u)", socket_path,
		  region_size, ivshmem_server_get_peer_id(serve.server));
	g_main_loop_run(loop);

	serve_log("stopping: %" G_GUINT64_FORMAT " HELLO, %" G_GUINT64_FORMAT " PING, %"
		  G_GUINT64_FORMAT " refused", serve.hellos, serve.pings, serve.errors);
	ivshmem_server_free(serve.server);
	return 0;
}
