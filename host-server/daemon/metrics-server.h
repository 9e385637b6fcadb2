/* SPDX-License-Identifier: MIT */
/*
 * metrics-server: the HTTP endpoint Prometheus scrapes (docs/metrics.md).
 * GET /metrics returns the document a render callback produces
 * (metrics_format, normally); everything else is 404 or 405.
 *
 * Built on libsoup 3, which is asynchronous: the server runs in the
 * thread-default main context of the thread that creates it (omemd's main
 * thread, on the global default context; another context must stay
 * pushed as thread-default while it runs), and the render callback runs
 * there too, so it may read the manager's state without locks.  A client that stalls costs a socket,
 * never the main thread: omemd accepts connections itself, closes them
 * beyond a limit, and gives each a socket timeout and a deadline, which
 * libsoup 3.2 has no setting for.
 *
 * Loopback only: the endpoint has no authentication and names every VM.
 * A request whose Host header names anything but localhost or a loopback
 * address gets 403, so a page in a browser on the host cannot read it
 * through a name it rebinds to 127.0.0.1.  Renders run on the caller's
 * thread (omemd's main loop), so they are limited per second; beyond the
 * limit a GET gets 429.
 */
#ifndef OMEM_METRICS_SERVER_H
#define OMEM_METRICS_SERVER_H

#include <glib.h>

/* The default listen address (omemd.conf [metrics] listen). */
#define METRICS_SERVER_DEFAULT_LISTEN "127.0.0.1:9848"

/* Connections served at once.  A scraper needs one, a person with curl
 * another; more are closed as soon as they are accepted. */
#define METRICS_SERVER_DEFAULT_MAX_CLIENTS 16

/* A connection idle (nothing read or written) this long is closed.
 * Prometheus' default scrape timeout is 10 s and a scrape takes
 * milliseconds; a client silent for this long is not scraping. */
#define METRICS_SERVER_DEFAULT_IDLE_TIMEOUT_S 10

/* A connection is shut down this long after it was accepted, however
 * busy: otherwise a client sending a byte every few seconds would hold
 * its slot for ever.  Three scrape timeouts. */
#define METRICS_SERVER_DEFAULT_DEADLINE_S 30

/* Renders per second, and the burst allowed at once.  A scraper asks
 * every few seconds and a person with curl now and then; a local process
 * asking in a loop would otherwise hold the main loop (and every VM's
 * decisions) for one O(VMs) render after another. */
#define METRICS_SERVER_DEFAULT_RENDERS_PER_S 10

typedef struct _MetricsServer MetricsServer;

/* The whole metrics document, g_malloc'ed, its length in @ret_length; or
 * NULL when there is none to give (the client gets 503). */
typedef char *(*MetricsRenderFunc)(gpointer data, gsize *ret_length);

/*
 * Serve GET /metrics on @listen: "IPv4:port" or "[IPv6]:port", a loopback
 * address given as a literal (no host names), port 0 for one the kernel
 * picks.  "off" gives a server that serves nothing
 * (metrics_server_get_port() returns 0), so the caller needs no special
 * case.  @render is called with @data for every GET or HEAD of /metrics.
 * NULL with @error set when @listen is malformed, not loopback, or cannot
 * be bound.
 */
MetricsServer *metrics_server_new(const char *listen, MetricsRenderFunc render, gpointer data,
				  GError **error);

/* Change the client limit, the idle timeout and the deadline (all > 0)
 * for connections accepted from now on; the defaults are above.  Tests
 * use short ones. */
void metrics_server_set_limits(MetricsServer *server, unsigned max_clients,
			       unsigned idle_timeout_s, unsigned deadline_s);

/* Change the render limit (> 0 per second, also the burst); tests use a
 * small one. */
void metrics_server_set_render_rate(MetricsServer *server, unsigned renders_per_s);

/* The port listened on (the kernel's choice when asked for 0); 0 when off. */
unsigned metrics_server_get_port(const MetricsServer *server);

/* Stop listening, close every connection, free; NULL is fine. */
void metrics_server_free(MetricsServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MetricsServer, metrics_server_free)

#endif /* OMEM_METRICS_SERVER_H */
