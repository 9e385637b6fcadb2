/* SPDX-License-Identifier: MIT */
/*
 * metrics-server: GET /metrics over libsoup 3 (see metrics-server.h and
 * docs/metrics.md, "Endpoint").
 *
 * omemd accepts the TCP connections itself (a GSocketService) and hands
 * each to the SoupServer with soup_server_accept_iostream(), because
 * libsoup 3.2 has neither a connection limit nor a timeout for its
 * server: the accept is where the limit is enforced, and a socket
 * timeout on each connection makes libsoup's own reads and writes fail
 * once the client has been silent too long; a deadline shuts down a
 * connection that is slow without ever being silent (one byte every few
 * seconds), and libsoup then sees end of file.  libsoup keeps a connection
 * alive only when it owns a listener, so every connection here carries
 * one request and is closed after the answer.
 */
#include "config.h"

#include "daemon/metrics-server.h"

#include <string.h>

#include <gio/gio.h>
#include <libsoup/soup.h>

/* Exposition format 0.0.4 is what Prometheus expects from a plain-text
 * endpoint. */
#define METRICS_SERVER_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* RFC 6585's Too Many Requests; libsoup 3.2 has no name for it. */
#define METRICS_SERVER_STATUS_TOO_MANY_REQUESTS 429

/* The one path served. */
#define METRICS_SERVER_PATH "/metrics"

struct _MetricsServer {
	SoupServer *soup;           /* the HTTP side; NULL when off */
	GSocketService *service;    /* accepts connections; NULL when off */
	GHashTable *clients;        /* GSocketConnection * (weak) handed to libsoup and still
				     * alive -> its MetricsClient */
	MetricsRenderFunc render;
	gpointer render_data;
	unsigned port;              /* bound port; 0 when off */
	unsigned max_clients;       /* connections beyond this are closed at once */
	unsigned idle_timeout_s;    /* socket timeout of every accepted connection */
	unsigned deadline_s;        /* a connection is shut down this long after it was accepted */
	unsigned renders_per_s;     /* render rate and burst */
	double render_tokens;       /* renders allowed now, up to renders_per_s */
	gint64 tokens_at_us;        /* monotonic time render_tokens was counted at */
};

/* One connection handed to libsoup. */
typedef struct {
	GSocketConnection *connection; /* weak: libsoup owns it */
	GSource *deadline;             /* shuts it down; NULL once fired */
} MetricsClient;

static void metrics_client_free(gpointer data)
{
	MetricsClient *client = data;

	if (client->deadline) {
		g_source_destroy(client->deadline);
		g_source_unref(client->deadline);
	}
	g_free(client);
}

/* A literal loopback address and a port, from "IPv4:port" or
 * "[IPv6]:port". */
static GSocketAddress *metrics_server_parse_listen(const char *listen, GError **error)
{
	g_autoptr(GInetAddress) address = NULL;
	g_autofree char *host = NULL;
	const char *port_text, *end;
	guint64 port = 0;

	if (listen[0] == '[') {
		end = strchr(listen, ']');
		if (!end || end[1] != ':')
			goto malformed;
		host = g_strndup(listen + 1, end - listen - 1);
		port_text = end + 2;
	} else {
		end = strrchr(listen, ':');
		if (!end)
			goto malformed;
		host = g_strndup(listen, end - listen);
		if (strchr(host, ':')) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "metrics listen address \"%s\": put an IPv6 address in brackets, as in [::1]:9848",
				    listen);
			return NULL;
		}
		port_text = end + 1;
	}
	/* Digits only: no sign, no spaces, at most 65535. */
	if (!*port_text || strlen(port_text) > 5 || strspn(port_text, "0123456789") != strlen(port_text))
		goto malformed;
	port = g_ascii_strtoull(port_text, NULL, 10);
	if (port > 65535)
		goto malformed;

	address = g_inet_address_new_from_string(host);
	if (!address) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "metrics listen address \"%s\": \"%s\" is not an IP address (host names are not accepted)",
			    listen, host);
		return NULL;
	}
	if (!g_inet_address_get_is_loopback(address)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "metrics listen address \"%s\" is not loopback: the endpoint has no "
			    "authentication and names every VM, so omemd serves it on 127.0.0.1 or "
			    "[::1] only; scrape it from elsewhere through a proxy or a tunnel",
			    listen);
		return NULL;
	}
	return g_inet_socket_address_new(address, (guint16)port);

malformed:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "metrics listen address \"%s\" is not ADDRESS:PORT (127.0.0.1:9848, [::1]:9848) or \"off\"",
		    listen);
	return NULL;
}

/* A plain-text answer that is not the document. */
static void metrics_server_refuse(SoupServerMessage *msg, guint status, const char *text)
{
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
					 text, strlen(text));
}

/* A Host header naming this machine: "localhost" or a loopback address,
 * with or without a port.  Anything else is a name a browser was pointed
 * at, perhaps one rebound to 127.0.0.1 by a page it runs.  No header is
 * fine (HTTP/1.0): a browser always sends one. */
static gboolean metrics_server_host_is_local(const char *host)
{
	g_autofree char *name = NULL;
	g_autoptr(GInetAddress) address = NULL;
	const char *port = NULL, *end;

	if (!host)
		return TRUE;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return FALSE;
		name = g_strndup(host + 1, end - host - 1);
		port = end[1] ? end + 2 : NULL;
	} else {
		end = strchr(host, ':');
		name = end ? g_strndup(host, end - host) : g_strdup(host);
		port = end ? end + 1 : NULL;
	}
	if (port && (!*port || strspn(port, "0123456789") != strlen(port)))
		return FALSE;
	if (!g_ascii_strcasecmp(name, "localhost") || !g_ascii_strcasecmp(name, "localhost."))
		return TRUE;
	/* A bracketed name must be an IPv6 literal, a bare one IPv4. */
	address = g_inet_address_new_from_string(name);
	if (!address || (host[0] == '[') != (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6))
		return FALSE;
	return g_inet_address_get_is_loopback(address);
}

/* One render allowed now?  A token bucket of renders_per_s tokens,
 * refilled at renders_per_s a second. */
static gboolean metrics_server_take_render(MetricsServer *server)
{
	gint64 now = g_get_monotonic_time();

	server->render_tokens += (now - server->tokens_at_us) / 1e6 * server->renders_per_s;
	server->render_tokens = MIN(server->render_tokens, server->renders_per_s);
	server->tokens_at_us = now;
	if (server->render_tokens < 1)
		return FALSE;
	server->render_tokens--;
	return TRUE;
}

/*
 * Called once the request's headers are read, before any body: wrong
 * methods and paths are answered here, and no request body is ever kept
 * in memory (the endpoint takes none, and a client could send gigabytes).
 */
static void metrics_server_on_headers(SoupServer *soup, SoupServerMessage *msg, const char *path,
				      GHashTable *query, gpointer data)
{
	const char *method = soup_server_message_get_method(msg);

	soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
	if (!metrics_server_host_is_local(soup_message_headers_get_one(
		    soup_server_message_get_request_headers(msg), "Host"))) {
		metrics_server_refuse(msg, SOUP_STATUS_FORBIDDEN,
				      "forbidden: omemd answers Host localhost or a loopback address only\n");
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Allow", "GET, HEAD");
		metrics_server_refuse(msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
				      "only GET and HEAD are served\n");
		return;
	}
	if (strcmp(path, METRICS_SERVER_PATH) != 0)
		metrics_server_refuse(msg, SOUP_STATUS_NOT_FOUND, "not found: omemd serves /metrics\n");
}

/* A GET or HEAD of /metrics: libsoup skips this handler for a request
 * the early handler answered. */
static void metrics_server_on_request(SoupServer *soup, SoupServerMessage *msg, const char *path,
				      GHashTable *query, gpointer data)
{
	MetricsServer *server = data;
	gsize length = 0;
	char *document;

	if (!metrics_server_take_render(server)) {
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Retry-After", "1");
		metrics_server_refuse(msg, METRICS_SERVER_STATUS_TOO_MANY_REQUESTS,
				      "too many requests: omemd renders its metrics a few times a second at most\n");
		return;
	}
	document = server->render(server->render_data, &length);
	if (!document) {
		metrics_server_refuse(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no metrics now\n");
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(soup_server_message_get_response_headers(msg),
				     "Cache-Control", "no-store");
	soup_server_message_set_response(msg, METRICS_SERVER_CONTENT_TYPE, SOUP_MEMORY_TAKE,
					 document, length);
}

/* A connection's time is up: shutting the socket down (not closing it
 * under libsoup's feet) ends its reads and writes, and libsoup closes it
 * as it would for a client that hung up. */
static gboolean metrics_client_on_deadline(gpointer data)
{
	MetricsClient *client = data;

	g_socket_shutdown(g_socket_connection_get_socket(client->connection), TRUE, TRUE, NULL);
	g_source_unref(client->deadline);
	client->deadline = NULL;
	return G_SOURCE_REMOVE;
}

/* libsoup dropped its last reference to a connection: its slot is free. */
static void metrics_server_on_client_gone(gpointer data, GObject *connection)
{
	MetricsServer *server = data;

	g_hash_table_remove(server->clients, connection);
}

static gboolean metrics_server_on_incoming(GSocketService *service, GSocketConnection *connection,
					   GObject *source, gpointer data)
{
	MetricsServer *server = data;
	g_autoptr(GSocketAddress) local = NULL, remote = NULL;
	MetricsClient *client;

	if (g_hash_table_size(server->clients) >= server->max_clients)
		goto refuse;
	local = g_socket_connection_get_local_address(connection, NULL);
	remote = g_socket_connection_get_remote_address(connection, NULL);
	if (!local || !remote)
		goto refuse; /* the client is already gone */
	g_socket_set_timeout(g_socket_connection_get_socket(connection), server->idle_timeout_s);
	if (!soup_server_accept_iostream(server->soup, G_IO_STREAM(connection), local, remote, NULL))
		goto refuse;
	client = g_new0(MetricsClient, 1);
	client->connection = connection;
	client->deadline = g_timeout_source_new_seconds(server->deadline_s);
	g_source_set_callback(client->deadline, metrics_client_on_deadline, client, NULL);
	g_source_attach(client->deadline, g_main_context_get_thread_default());
	g_hash_table_insert(server->clients, connection, client);
	g_object_weak_ref(G_OBJECT(connection), metrics_server_on_client_gone, server);
	return TRUE;

refuse:
	g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
	return TRUE;
}

MetricsServer *metrics_server_new(const char *listen, MetricsRenderFunc render, gpointer data,
				  GError **error)
{
	g_autoptr(MetricsServer) server = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GSocketAddress) bound = NULL;

	g_return_val_if_fail(listen && render, NULL);

	server = g_new0(MetricsServer, 1);
	server->clients = g_hash_table_new_full(NULL, NULL, NULL, metrics_client_free);
	server->render = render;
	server->render_data = data;
	server->max_clients = METRICS_SERVER_DEFAULT_MAX_CLIENTS;
	server->idle_timeout_s = METRICS_SERVER_DEFAULT_IDLE_TIMEOUT_S;
	server->deadline_s = METRICS_SERVER_DEFAULT_DEADLINE_S;
	metrics_server_set_render_rate(server, METRICS_SERVER_DEFAULT_RENDERS_PER_S);
	if (!strcmp(listen, "off"))
		return g_steal_pointer(&server);

	address = metrics_server_parse_listen(listen, error);
	if (!address)
		return NULL;

	server->soup = soup_server_new("server-header", "omemd", NULL);
	/* Both on every path: libsoup calls only the early handler of the
	 * most specific path, and this one must see every request. */
	soup_server_add_early_handler(server->soup, NULL, metrics_server_on_headers, server, NULL);
	soup_server_add_handler(server->soup, NULL, metrics_server_on_request, server, NULL);

	/* The service's sources go to the caller's thread-default context. */
	server->service = g_socket_service_new();
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), address,
					   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
					   &bound, error)) {
		g_prefix_error(error, "metrics: cannot listen on %s: ", listen);
		return NULL;
	}
	server->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	g_signal_connect(server->service, "incoming", G_CALLBACK(metrics_server_on_incoming), server);
	g_socket_service_start(server->service);
	return g_steal_pointer(&server);
}

void metrics_server_set_limits(MetricsServer *server, unsigned max_clients, unsigned idle_timeout_s,
			       unsigned deadline_s)
{
	g_return_if_fail(max_clients > 0 && idle_timeout_s > 0 && deadline_s > 0);

	server->max_clients = max_clients;
	server->idle_timeout_s = idle_timeout_s;
	server->deadline_s = deadline_s;
}

void metrics_server_set_render_rate(MetricsServer *server, unsigned renders_per_s)
{
	g_return_if_fail(renders_per_s > 0);

	server->renders_per_s = renders_per_s;
	server->render_tokens = renders_per_s;
	server->tokens_at_us = g_get_monotonic_time();
}

unsigned metrics_server_get_port(const MetricsServer *server)
{
	return server->port;
}

void metrics_server_free(MetricsServer *server)
{
	GHashTableIter iter;
	gpointer connection;

	if (!server)
		return;
	if (server->service) {
		g_signal_handlers_disconnect_by_data(server->service, server);
		g_socket_service_stop(server->service);
		g_socket_listener_close(G_SOCKET_LISTENER(server->service));
		g_object_unref(server->service);
	}
	/* The connections may outlive the server inside libsoup's pending
	 * closes; they must not call back into it.  Their deadlines go with
	 * the table. */
	g_hash_table_iter_init(&iter, server->clients);
	while (g_hash_table_iter_next(&iter, &connection, NULL))
		g_object_weak_unref(connection, metrics_server_on_client_gone, server);
	g_hash_table_unref(server->clients);
	if (server->soup) {
		soup_server_disconnect(server->soup);
		g_object_unref(server->soup);
	}
	g_free(server);
}
