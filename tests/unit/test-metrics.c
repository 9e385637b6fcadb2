/* SPDX-License-Identifier: MIT */
/*
 * test-metrics: omemd's Prometheus metrics.  The document
 * (host-server/formats/metrics.c) is read back line by line by a small strict
 * reader of the exposition format written here, so a hostile domain name
 * cannot forge a line, every family is announced once, and histograms add
 * up; promtool checks it too when installed.  Then the endpoint
 * (host-server/daemon/metrics-server.c) runs in this test's main loop and a
 * client thread talks raw HTTP to it: the document, HEAD, 404, 405, a
 * stalled client not holding up another, the connection limit, the idle
 * timeout, the deadline of a client that trickles, and the refusal of a
 * non-loopback address.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "exposition.h"
#include "daemon/metrics-server.h"
#include "formats/metrics.h"
#include "tap.h"

#include <omem/rpc.h>

#define MIB (1024ull * 1024)

/* Short limits, so the test sees them act in seconds. */
#define TEST_MAX_CLIENTS 3
#define TEST_IDLE_TIMEOUT_S 3
#define TEST_DEADLINE_S 5

/* ---- the fixture ---- */

/* A domain name that tries to end its label and forge a line. */
static const char hostile_name[] = "evil\"} 1\nomem_up{x=\"\\\"} 0";

typedef struct {
	MetricsRegistry *registry;
	StatusHost host;
	StatusVm web, hostile, bare;
	const StatusVm *vms[3];
	unsigned renders; /* render calls, main thread only */
} Fixture;

static void fixture_init(Fixture *fixture)
{
	MetricsRegistry *registry = metrics_registry_new();

	fixture->registry = registry;
	for (int i = 0; i < 5; i++)
		metrics_count_grant(registry, METRICS_GRANT_FULL);
	metrics_count_grant(registry, METRICS_GRANT_PARTIAL);
	metrics_count_grant(registry, METRICS_GRANT_DEFER);
	metrics_count_grant(registry, METRICS_GRANT_DEFER);
	metrics_count_grant(registry, (MetricsGrantResult)99); /* a bug: counted nowhere */
	metrics_count_denial(registry, METRICS_DENY_BUDGET);
	metrics_count_denial(registry, METRICS_DENY_BUSY);
	metrics_count_reclaim(registry);
	metrics_count_resize(registry, METRICS_RESIZE_GROW);
	metrics_count_resize(registry, METRICS_RESIZE_GROW);
	metrics_count_resize(registry, METRICS_RESIZE_SHRINK);
	metrics_count_libvirt_error(registry);
	metrics_count_libvirt_reconnect(registry);
	metrics_count_cutoff(registry, METRICS_CUTOFF_FLOOD);
	metrics_count_config_reload(registry, METRICS_RELOAD_OK);
	metrics_count_config_reload(registry, METRICS_RELOAD_ERROR);
	metrics_set_admission_fail_opens(registry, 7);
	metrics_set_admission_fail_opens(registry, 3); /* set, not added: the file's count */
	/* 30 us, 200 us, 3 ms, 2 s (above every bound), -1 (as 0), NaN (ignored) */
	metrics_observe_decision(registry, 0.00003);
	metrics_observe_decision(registry, 0.0002);
	metrics_observe_decision(registry, 0.003);
	metrics_observe_decision(registry, 2.0);
	metrics_observe_decision(registry, -1.0);
	metrics_observe_decision(registry, NAN);
	metrics_observe_plug(registry, 0.01);  /* on the first bound: le is inclusive */
	metrics_observe_plug(registry, 90.0);
	metrics_observe_libvirt_resize(registry, 0.02);
	metrics_observe_libvirt_resize(registry, 45.0);

	fixture->host = (StatusHost){ .pid = 42, .version = "0.1.0", .started_unix_ms = 1700000000123,
				      .generated_unix_ms = 1700000005000, .has_host = true,
				      .budget_bytes = 4096 * MIB, .committed_bytes = 1024 * MIB };

	StatusVm *vm = &fixture->web;
	vm->name = g_strdup("web1");
	vm->uuid = g_strdup("6695eb01-f6a4-8304-79aa-97f2502e193f");
	vm->state = "running";
	vm->has_contract = true;
	vm->boot_bytes = 256 * MIB;
	vm->min_bytes = 512 * MIB;
	vm->cap_bytes = 1792 * MIB;
	vm->max_bytes = 2048 * MIB;
	vm->shares = 1000;
	vm->buffer_percent = 10;
	vm->has_memory = true;
	vm->requested_bytes = 512 * MIB;
	vm->plugged_bytes = 384 * MIB;
	vm->has_demand = true;
	vm->demand_bytes = 700 * MIB;
	vm->has_guest = true;
	vm->guest_total_bytes = 600 * MIB;
	vm->guest_free_bytes = 100 * MIB;
	vm->guest_available_bytes = 150 * MIB;
	vm->has_session = true;
	vm->session_state = "open";

	vm = &fixture->hostile;
	vm->name = g_strdup(hostile_name);
	vm->uuid = g_strdup("0b7a1c9e-3d52-4c4f-9f0e-5a2d8e1f6c33");
	vm->has_contract = true;
	vm->boot_bytes = vm->min_bytes = 1024 * MIB;
	vm->cap_bytes = vm->max_bytes = 2048 * MIB;
	vm->shares = 100;
	vm->frozen = true;
	vm->has_memory = true;
	vm->requested_bytes = vm->plugged_bytes = 128 * MIB;
	vm->has_session = true;
	vm->session_state = "cut-off";

	/* Known by name only: no uuid yet, nothing measured. */
	fixture->bare.name = g_strdup("bare");

	fixture->vms[0] = &fixture->web;
	fixture->vms[1] = &fixture->hostile;
	fixture->vms[2] = &fixture->bare;
}

static void fixture_clear(Fixture *fixture)
{
	metrics_registry_free(fixture->registry);
	status_vm_clear(&fixture->web);
	status_vm_clear(&fixture->hostile);
	status_vm_clear(&fixture->bare);
}

static char *fixture_format(Fixture *fixture, gsize *ret_length)
{
	return metrics_format(fixture->registry, &fixture->host, fixture->vms,
			      G_N_ELEMENTS(fixture->vms), ret_length);
}

/* ---- the document ---- */

static void test_document(Fixture *fixture)
{
	Exposition exposition = { 0 };
	gsize length = 0;
	g_autofree char *text = fixture_format(fixture, &length);
	GHashTableIter iter;
	gpointer family, type;
	unsigned broken = 0;

	exposition_read(&exposition, text, length);
	tap_eq(exposition.errors, 0, "document: every line parses, HELP and TYPE once per family, "
	       "each family's samples together");

	g_hash_table_iter_init(&iter, exposition.types);
	while (g_hash_table_iter_next(&iter, &family, &type)) {
		if (!strcmp(type, "histogram"))
			broken += exposition_check_histogram(&exposition, family);
	}
	tap_eq(broken, 0, "histograms: buckets increasing and cumulative, +Inf == _count, _sum present");

	tap_ok(exposition_value(&exposition, "omem_up", NULL, NULL) == 1, "omem_up 1");
	tap_ok(exposition_value(&exposition, "omem_vms", NULL, NULL) == 3, "omem_vms counts every VM");
	tap_ok(exposition_value(&exposition, "omem_host_budget_bytes", NULL, NULL) == 4096.0 * MIB &&
	       exposition_value(&exposition, "omem_host_committed_bytes", NULL, NULL) == 1024.0 * MIB,
	       "host budget and committed");
	tap_ok(fabs(exposition_value(&exposition, "omem_start_time_seconds", NULL, NULL) -
		    1700000000.123) < 0.001, "start time in seconds");
	tap_ok(exposition_value(&exposition, "omem_build_info", "version", "0.1.0") == 1,
	       "build info carries the version");

	tap_ok(exposition_value(&exposition, "omem_grants_total", "result", "grant") == 5 &&
	       exposition_value(&exposition, "omem_grants_total", "result", "partial") == 1 &&
	       exposition_value(&exposition, "omem_grants_total", "result", "defer") == 2 &&
	       exposition_count(&exposition, "omem_grants_total") == 3,
	       "grants by result; an out-of-range result is counted nowhere");
	tap_ok(exposition_value(&exposition, "omem_denials_total", "reason", "budget") == 1 &&
	       exposition_value(&exposition, "omem_denials_total", "reason", "busy") == 1 &&
	       exposition_value(&exposition, "omem_denials_total", "reason", "cap") == 0 &&
	       exposition_value(&exposition, "omem_denials_total", "reason", "frozen") == 0,
	       "denials by reason, unused reasons at 0");
	tap_ok(exposition_value(&exposition, "omem_resizes_total", "direction", "grow") == 2 &&
	       exposition_value(&exposition, "omem_resizes_total", "direction", "shrink") == 1,
	       "resizes by direction");
	tap_ok(exposition_value(&exposition, "omem_reclaims_total", NULL, NULL) == 1 &&
	       exposition_value(&exposition, "omem_libvirt_errors_total", NULL, NULL) == 1 &&
	       exposition_value(&exposition, "omem_libvirt_reconnects_total", NULL, NULL) == 1 &&
	       exposition_value(&exposition, "omem_guest_cutoffs_total", "reason", "flood") == 1 &&
	       exposition_value(&exposition, "omem_config_reloads_total", "result", "error") == 1,
	       "reclaims, libvirt errors and reconnects, cut-offs, reloads");
	tap_eq(exposition_value(&exposition, "omem_admission_fail_open_total", NULL, NULL), 3,
	       "admission fail-opens: the count last set");

	tap_ok(exposition_value(&exposition, "omem_decision_duration_seconds_count", NULL, NULL) == 5,
	       "decision histogram: NaN ignored, the rest counted");
	tap_ok(exposition_value(&exposition, "omem_decision_duration_seconds_bucket", "le", "5e-05") == 2 &&
	       exposition_value(&exposition, "omem_decision_duration_seconds_bucket", "le", "1") == 4 &&
	       exposition_value(&exposition, "omem_decision_duration_seconds_bucket", "le", "+Inf") == 5,
	       "decision buckets: 30 us and a negative in the first, 2 s only in +Inf");
	tap_ok(fabs(exposition_value(&exposition, "omem_decision_duration_seconds_sum", NULL, NULL) -
		    2.00323) < 1e-9, "decision sum");
	tap_ok(exposition_value(&exposition, "omem_plug_duration_seconds_bucket", "le", "0.01") == 1 &&
	       exposition_value(&exposition, "omem_plug_duration_seconds_bucket", "le", "60") == 1 &&
	       exposition_value(&exposition, "omem_plug_duration_seconds_count", NULL, NULL) == 2,
	       "plug buckets: a value on a bound falls in it");
	tap_ok(exposition_value(&exposition, "omem_libvirt_resize_duration_seconds_bucket", "le", "0.01") == 0 &&
	       exposition_value(&exposition, "omem_libvirt_resize_duration_seconds_bucket", "le", "0.025") == 1 &&
	       exposition_value(&exposition, "omem_libvirt_resize_duration_seconds_bucket", "le", "30") == 1 &&
	       exposition_value(&exposition, "omem_libvirt_resize_duration_seconds_bucket", "le", "60") == 2 &&
	       exposition_value(&exposition, "omem_libvirt_resize_duration_seconds_count", NULL, NULL) == 2,
	       "libvirt resize buckets: 20 ms and a call held 45 s");

	tap_ok(exposition_value(&exposition, "omem_vm_plugged_bytes", "domain", "web1") == 384.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_requested_bytes", "domain", "web1") == 512.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_boot_bytes", "domain", "web1") == 256.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_min_bytes", "domain", "web1") == 512.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_cap_bytes", "domain", "web1") == 1792.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_max_bytes", "domain", "web1") == 2048.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_shares", "domain", "web1") == 1000 &&
	       exposition_value(&exposition, "omem_vm_demand_bytes", "domain", "web1") == 700.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_guest_free_bytes", "domain", "web1") == 100.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_guest_available_bytes", "domain", "web1") == 150.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_session_open", "domain", "web1") == 1 &&
	       exposition_value(&exposition, "omem_vm_frozen", "domain", "web1") == 0,
	       "per-VM gauges of a VM with everything known");
	tap_ok(exposition_value(&exposition, "omem_vm_plugged_bytes", "uuid",
				"6695eb01-f6a4-8304-79aa-97f2502e193f") == 384.0 * MIB,
	       "per-VM samples carry the uuid");

	tap_ok(exposition_value(&exposition, "omem_vm_plugged_bytes", "domain", hostile_name) == 128.0 * MIB &&
	       exposition_value(&exposition, "omem_vm_frozen", "domain", hostile_name) == 1 &&
	       exposition_value(&exposition, "omem_vm_session_open", "domain", hostile_name) == 0,
	       "a name with \", \\ and a line feed reads back unchanged");
	tap_eq(exposition_count(&exposition, "omem_up"), 1, "... and forges no sample");
	tap_ok(!exposition_find(&exposition, "omem_vm_demand_bytes", "domain", hostile_name) &&
	       !exposition_find(&exposition, "omem_vm_guest_free_bytes", "domain", hostile_name),
	       "unknown demand and guest figures are left out");

	tap_ok(exposition_value(&exposition, "omem_vm_session_open", "domain", "bare") == 0 &&
	       !exposition_find(&exposition, "omem_vm_plugged_bytes", "domain", "bare") &&
	       !exposition_find(&exposition, "omem_vm_cap_bytes", "domain", "bare"),
	       "a VM known by name only has only its session gauge");
	{
		const Sample *bare = exposition_find(&exposition, "omem_vm_session_open", "domain", "bare");
		const char *uuid = bare ? g_hash_table_lookup(bare->labels, "uuid") : NULL;

		tap_ok(uuid && !*uuid, "... with an empty uuid label");
	}
	exposition_clear(&exposition);

	/* Nothing known yet: still a valid document. */
	{
		g_autofree char *empty = metrics_format(NULL, NULL, NULL, 0, &length);

		exposition_read(&exposition, empty, length);
		tap_ok(exposition.errors == 0 &&
		       exposition_value(&exposition, "omem_vms", NULL, NULL) == 0 &&
		       exposition_value(&exposition, "omem_grants_total", "result", "grant") == 0 &&
		       exposition_check_histogram(&exposition, "omem_plug_duration_seconds") == 0 &&
		       exposition_check_histogram(&exposition, "omem_libvirt_resize_duration_seconds") == 0,
		       "no registry, no host, no VMs: a valid document of zeros");
		exposition_clear(&exposition);
	}

	tap_ok(metrics_deny_reason_from_wire(OMEM_RPC_DENY_BUDGET) == METRICS_DENY_BUDGET &&
	       metrics_deny_reason_from_wire(OMEM_RPC_DENY_CAP) == METRICS_DENY_CAP &&
	       metrics_deny_reason_from_wire(OMEM_RPC_DENY_FROZEN) == METRICS_DENY_FROZEN &&
	       metrics_deny_reason_from_wire(OMEM_RPC_DENY_BUSY) == METRICS_DENY_BUSY &&
	       metrics_deny_reason_from_wire(OMEM_RPC_DENY_RATE) == METRICS_DENY_RATE &&
	       metrics_deny_reason_from_wire(0) == -1 && metrics_deny_reason_from_wire(999) == -1,
	       "wire deny reasons map to the registry's, unknown ones to -1");
}

/* promtool, when installed, is Prometheus' own reader and linter. */
static void test_promtool(Fixture *fixture)
{
	g_autofree char *promtool = g_find_program_in_path("promtool");
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GBytes) input = NULL, output = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	char *text;

	if (!promtool) {
		tap_skip("promtool check metrics", "promtool is not installed");
		return;
	}
	text = fixture_format(fixture, &length);
	input = g_bytes_new_take(text, length);
	process = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				   G_SUBPROCESS_FLAGS_STDERR_MERGE, &error,
				   promtool, "check", "metrics", NULL);
	if (process && g_subprocess_communicate(process, input, NULL, &output, NULL, &error)) {
		gsize size = 0;
		const char *said = g_bytes_get_data(output, &size);

		if (size)
			tap_diag("promtool: %.*s", (int)size, said);
		tap_ok(g_subprocess_get_if_exited(process) && g_subprocess_get_exit_status(process) == 0,
		       "promtool check metrics accepts the document, lint included");
	} else {
		tap_ok(0, "promtool check metrics: %s", error->message);
	}
}

/* ---- the endpoint ---- */

/* One HTTP exchange as the client saw it. */
typedef struct {
	bool answered;  /* a status line came back */
	int status;
	char *head;     /* status line and headers */
	char *body;
	gsize body_length;
} Reply;

static void reply_clear(Reply *reply)
{
	g_free(reply->head);
	g_free(reply->body);
	memset(reply, 0, sizeof(*reply));
}

/* A header's value (the first), or NULL; @name in lower case. */
static char *reply_header(const Reply *reply, const char *name)
{
	g_auto(GStrv) lines = g_strsplit(reply->head ? reply->head : "", "\r\n", -1);

	for (unsigned i = 1; lines[i]; i++) {
		char *colon = strchr(lines[i], ':');
		g_autofree char *key = NULL;

		if (!colon)
			continue;
		key = g_ascii_strdown(lines[i], colon - lines[i]);
		if (!strcmp(key, name))
			return g_strdup(g_strstrip(colon + 1));
	}
	return NULL;
}

/* A connection to the server with a client-side timeout, so no read in
 * this test can hang it. */
static GSocketConnection *client_connect(unsigned port)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	GSocketConnection *connection;

	g_socket_client_set_timeout(client, 10);
	g_socket_client_set_enable_proxy(client, FALSE); /* never an http_proxy from the environment */
	connection = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
	if (connection)
		g_socket_set_timeout(g_socket_connection_get_socket(connection), 10);
	return connection;
}

/* Read until EOF, an error or the socket timeout; the bytes read. */
static GByteArray *client_read_all(GSocketConnection *connection, GError **error)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
	GByteArray *data = g_byte_array_new();
	guint8 buffer[4096];
	gssize n;

	while ((n = g_input_stream_read(in, buffer, sizeof(buffer), NULL, error)) > 0)
		g_byte_array_append(data, buffer, n);
	if (n < 0) {
		g_byte_array_unref(data);
		return NULL;
	}
	return data;
}

/* Send @request, read the answer to EOF (the server closes after one). */
static void client_exchange(unsigned port, const char *request, Reply *reply)
{
	g_autoptr(GSocketConnection) connection = client_connect(port);
	g_autoptr(GByteArray) data = NULL;
	const char *end;

	memset(reply, 0, sizeof(*reply));
	if (!connection ||
	    !g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
				       request, strlen(request), NULL, NULL, NULL))
		return;
	data = client_read_all(connection, NULL);
	if (!data)
		return;
	g_byte_array_append(data, (const guint8 *)"", 1);
	end = strstr((const char *)data->data, "\r\n\r\n");
	if (!end || sscanf((const char *)data->data, "HTTP/1.%*d %d", &reply->status) != 1)
		return;
	reply->answered = true;
	reply->head = g_strndup((const char *)data->data, end - (const char *)data->data);
	reply->body_length = data->len - 1 - (end + 4 - (const char *)data->data);
	reply->body = g_strndup(end + 4, reply->body_length);
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

/* What the client thread saw; read by the main thread once it is done. */
typedef struct {
	unsigned port;
	GMainLoop *loop;
	Reply get, head, not_found, not_found_below, post, put_elsewhere, stalled_get, after_timeout;
	bool trickle_kept;           /* the limit's last slot was served */
	bool over_limit_closed;      /* the connection beyond the limit was closed at once */
	double silent_closed_after;  /* seconds until the silent client was cut, < 0 if never */
	double trickle_closed_after; /* ... the trickling one */
} ClientRun;

static gboolean client_done_in_main(gpointer data)
{
	ClientRun *run = data;

	g_main_loop_quit(run->loop);
	return G_SOURCE_REMOVE;
}

/* True when the server leaves @connection open (nothing to read, not
 * even end of file) for @ms. */
static bool client_still_open(GSocketConnection *connection, unsigned ms)
{
	GSocket *socket = g_socket_connection_get_socket(connection);
	g_autoptr(GError) error = NULL;

	return !g_socket_condition_timed_wait(socket, G_IO_IN, (gint64)ms * 1000, NULL, &error);
}

/* Seconds since @since once @connection is closed by the server, kept
 * at @closed_after (< 0 while open). */
static void client_note_closed(GSocketConnection *connection, gint64 since, double *closed_after)
{
	if (*closed_after < 0 && connection && !client_still_open(connection, 0))
		*closed_after = (g_get_monotonic_time() - since) / 1e6;
}

static gpointer client_thread(gpointer data)
{
	ClientRun *run = data;
	g_autoptr(GSocketConnection) silent = NULL, partial = NULL, trickle = NULL, over = NULL;
	GOutputStream *trickle_out = NULL;
	gint64 silent_since, trickle_since;

	client_exchange(run->port, GET_METRICS, &run->get);
	client_exchange(run->port, "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &run->head);
	client_exchange(run->port, "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &run->not_found);
	client_exchange(run->port, "GET /metrics/more HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			&run->not_found_below);
	client_exchange(run->port, "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Content-Length: 5\r\n\r\nhello", &run->post);
	client_exchange(run->port, "PUT /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Content-Length: 0\r\n\r\n", &run->put_elsewhere);

	/* One client says nothing, another stops inside its request line:
	 * a third must still be served. */
	silent = client_connect(run->port);
	silent_since = g_get_monotonic_time();
	partial = client_connect(run->port);
	if (partial)
		g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(partial)),
					  "GET /metr", 9, NULL, NULL, NULL);
	client_exchange(run->port, GET_METRICS, &run->stalled_get);

	/* Let the server let go of that one; then silent + partial + trickle
	 * fill the limit, and the next connection is closed unanswered. */
	g_usleep(200 * 1000);
	trickle = client_connect(run->port);
	trickle_since = g_get_monotonic_time();
	if (trickle) {
		trickle_out = g_io_stream_get_output_stream(G_IO_STREAM(trickle));
		g_output_stream_write_all(trickle_out, "G", 1, NULL, NULL, NULL);
		run->trickle_kept = client_still_open(trickle, 300);
	}
	over = client_connect(run->port);
	if (over) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GByteArray) got = client_read_all(over, &error);

		run->over_limit_closed = got && got->len == 0;
	}

	/* The silent client is cut off by the idle timeout; the trickling
	 * one, never idle that long, by the deadline. */
	run->silent_closed_after = run->trickle_closed_after = -1;
	for (int i = 0; i < 40 && run->trickle_closed_after < 0; i++) {
		g_usleep(250 * 1000);
		if (trickle_out && i % 4 == 3)
			g_output_stream_write_all(trickle_out, "E", 1, NULL, NULL, NULL);
		client_note_closed(silent, silent_since, &run->silent_closed_after);
		client_note_closed(trickle, trickle_since, &run->trickle_closed_after);
	}
	/* The freed slots serve the next client. */
	g_usleep(300 * 1000);
	client_exchange(run->port, GET_METRICS, &run->after_timeout);

	g_main_context_invoke(NULL, client_done_in_main, run);
	return NULL;
}

static char *fixture_render(gpointer data, gsize *ret_length)
{
	Fixture *fixture = data;

	fixture->renders++;
	return fixture_format(fixture, ret_length);
}

static gboolean watchdog(gpointer data)
{
	tap_ok(0, "the client thread finished within 60 s");
	exit(tap_done());
	return G_SOURCE_REMOVE;
}

static void test_listen_addresses(void)
{
	static const char *const malformed[] = {
		"127.0.0.1", "localhost:9848", "::1:9848", "[::1]9848", "127.0.0.1:65536",
		"127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:", "", "[::1:9848",
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsServer) server = NULL;
	unsigned refused = 0;

	server = metrics_server_new("0.0.0.0:9848", fixture_render, NULL, &error);
	tap_ok(!server && error && strstr(error->message, "not loopback"),
	       "0.0.0.0:9848 is refused, saying why");
	if (error)
		tap_diag("%s", error->message);
	g_clear_error(&error);
	server = metrics_server_new("[::]:9848", fixture_render, NULL, &error);
	tap_ok(!server && error && strstr(error->message, "not loopback"), "[::]:9848 is refused");
	g_clear_error(&error);

	for (unsigned i = 0; i < G_N_ELEMENTS(malformed); i++) {
		server = metrics_server_new(malformed[i], fixture_render, NULL, &error);
		if (!server && error)
			refused++;
		else
			tap_diag("\"%s\" was accepted", malformed[i]);
		g_clear_pointer(&server, metrics_server_free);
		g_clear_error(&error);
	}
	tap_eq(refused, G_N_ELEMENTS(malformed), "malformed listen addresses are refused");

	server = metrics_server_new("off", fixture_render, NULL, &error);
	tap_ok(server && metrics_server_get_port(server) == 0, "\"off\" gives a server on no port");
	g_clear_pointer(&server, metrics_server_free);

	server = metrics_server_new("[::1]:0", fixture_render, NULL, &error);
	if (server)
		tap_ok(metrics_server_get_port(server) != 0, "[::1]:0 listens on a port");
	else
		tap_skip("[::1]:0", "no IPv6 loopback here: %s", error->message);
}

static void test_endpoint(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsServer) server = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autofree char *expected = NULL, *content_type = NULL, *head_type = NULL, *allow = NULL;
	ClientRun run = { 0 };
	GThread *thread;
	gsize expected_length = 0;
	guint watchdog_id;

	server = metrics_server_new("127.0.0.1:0", fixture_render, fixture, &error);
	if (!tap_ok(server && metrics_server_get_port(server) != 0,
		    "a server on 127.0.0.1 port 0 gets a port")) {
		tap_diag("%s", error ? error->message : "?");
		return;
	}
	metrics_server_set_limits(server, TEST_MAX_CLIENTS, TEST_IDLE_TIMEOUT_S, TEST_DEADLINE_S);
	expected = fixture_format(fixture, &expected_length);

	run.port = metrics_server_get_port(server);
	run.loop = loop;
	watchdog_id = g_timeout_add_seconds(60, watchdog, NULL);
	thread = g_thread_new("client", client_thread, &run);
	g_main_loop_run(loop);
	g_thread_join(thread);
	g_source_remove(watchdog_id);

	content_type = reply_header(&run.get, "content-type");
	tap_ok(run.get.status == 200 && run.get.body_length == expected_length &&
	       !memcmp(run.get.body, expected, expected_length),
	       "GET /metrics returns the formatted document");
	tap_ok(content_type && !strcmp(content_type, "text/plain; version=0.0.4; charset=utf-8"),
	       "... as text/plain; version=0.0.4; charset=utf-8");
	head_type = reply_header(&run.head, "content-type");
	tap_ok(run.head.status == 200 && run.head.body_length == 0 && head_type,
	       "HEAD /metrics: 200, headers, no body");
	tap_eq(run.not_found.status, 404, "GET /nope: 404");
	tap_eq(run.not_found_below.status, 404, "GET /metrics/more: 404");
	allow = reply_header(&run.post, "allow");
	tap_ok(run.post.status == 405 && allow && !strcmp(allow, "GET, HEAD"),
	       "POST /metrics: 405 with Allow: GET, HEAD");
	tap_eq(run.put_elsewhere.status, 405, "PUT elsewhere: 405");
	tap_eq(run.stalled_get.status, 200, "a client is served while two others stall");
	tap_ok(run.trickle_kept, "connections up to the limit are kept");
	tap_ok(run.over_limit_closed, "the connection beyond the limit is closed unanswered");
	tap_ok(run.silent_closed_after >= TEST_IDLE_TIMEOUT_S - 0.5 &&
	       run.silent_closed_after < TEST_IDLE_TIMEOUT_S + 2,
	       "a silent client is cut off after the idle timeout (%.2f s, timeout %d s)",
	       run.silent_closed_after, TEST_IDLE_TIMEOUT_S);
	tap_ok(run.trickle_closed_after >= TEST_DEADLINE_S - 0.5 &&
	       run.trickle_closed_after < TEST_DEADLINE_S + 2,
	       "a client sending a byte a second is cut off at the deadline (%.2f s, deadline %d s)",
	       run.trickle_closed_after, TEST_DEADLINE_S);
	tap_eq(run.after_timeout.status, 200, "... and the freed slots serve the next client");
	tap_ok(fixture->renders >= 4, "render ran on the main loop for each GET and HEAD (%u)",
	       fixture->renders);

	reply_clear(&run.get);
	reply_clear(&run.head);
	reply_clear(&run.not_found);
	reply_clear(&run.not_found_below);
	reply_clear(&run.post);
	reply_clear(&run.put_elsewhere);
	reply_clear(&run.stalled_get);
	reply_clear(&run.after_timeout);
}

/* Requests a browser tricked by DNS rebinding would send (another
 * name pointed at 127.0.0.1), the names omemd answers, and a burst of
 * GETs beyond the render rate; sent in order from a thread. */
static const struct {
	const char *host;    /* the Host header, NULL for none */
	int status;          /* what the server must answer */
	const char *what;
} host_requests[] = {
	{ "evil.example", 403, "Host: evil.example (DNS rebinding): 403" },
	{ "evil.example:%u", 403, "Host: evil.example:PORT: 403" },
	{ "127.0.0.1.evil.example", 403, "Host: 127.0.0.1.evil.example: 403" },
	{ "localhost:%u", 200, "Host: localhost:PORT: 200" },
	{ "LocalHost", 200, "Host: LocalHost: 200 (names are case-blind)" },
	{ "127.0.0.1:%u", 200, "Host: 127.0.0.1:PORT: 200" },
	{ "127.0.0.2", 200, "Host: 127.0.0.2 (loopback): 200" },
	{ "[::1]:%u", 200, "Host: [::1]:PORT: 200" },
	{ "10.0.0.1", 403, "Host: 10.0.0.1 (not loopback): 403" },
	{ NULL, 200, "no Host (HTTP/1.0): 200" },
};

/* The render rate the second server gets: the burst below is one more. */
#define TEST_RENDERS_PER_S 2

typedef struct {
	unsigned port, rate_port;
	GMainLoop *loop;
	Reply host[G_N_ELEMENTS(host_requests)];
	Reply burst[TEST_RENDERS_PER_S + 1];
	Reply after_second;
} HostRun;

static gpointer host_client_thread(gpointer data)
{
	HostRun *run = data;

	for (unsigned i = 0; i < G_N_ELEMENTS(host_requests); i++) {
		g_autofree char *host = NULL, *request = NULL;

		if (host_requests[i].host) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			host = g_strdup_printf(host_requests[i].host, run->port);
#pragma GCC diagnostic pop
			request = g_strdup_printf("GET /metrics HTTP/1.1\r\nHost: %s\r\n\r\n", host);
		} else {
			request = g_strdup("GET /metrics HTTP/1.0\r\n\r\n");
		}
		client_exchange(run->port, request, &run->host[i]);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(run->burst); i++)
		client_exchange(run->rate_port, GET_METRICS, &run->burst[i]);
	g_usleep(1100 * 1000);
	client_exchange(run->rate_port, GET_METRICS, &run->after_second);
	g_main_context_invoke(NULL, client_done_in_main, run);
	return NULL;
}

static void test_host_and_rate(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MetricsServer) server = NULL, rate_server = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autofree char *retry_after = NULL;
	HostRun run = { 0 };
	GThread *thread;
	guint watchdog_id;
	unsigned served = 0;

	server = metrics_server_new("127.0.0.1:0", fixture_render, fixture, &error);
	if (server)
		rate_server = metrics_server_new("127.0.0.1:0", fixture_render, fixture, &error);
	if (!tap_ok(rate_server != NULL, "two servers on 127.0.0.1 port 0")) {
		tap_diag("%s", error ? error->message : "?");
		return;
	}
	metrics_server_set_render_rate(rate_server, TEST_RENDERS_PER_S);
	run.port = metrics_server_get_port(server);
	run.rate_port = metrics_server_get_port(rate_server);
	run.loop = loop;
	watchdog_id = g_timeout_add_seconds(60, watchdog, NULL);
	thread = g_thread_new("host-client", host_client_thread, &run);
	g_main_loop_run(loop);
	g_thread_join(thread);
	g_source_remove(watchdog_id);

	for (unsigned i = 0; i < G_N_ELEMENTS(host_requests); i++) {
		tap_eq(run.host[i].status, host_requests[i].status, "%s", host_requests[i].what);
		reply_clear(&run.host[i]);
	}
	for (unsigned i = 0; i < TEST_RENDERS_PER_S; i++)
		served += run.burst[i].status == 200;
	tap_eq(served, TEST_RENDERS_PER_S, "a burst up to the render rate (%d/s) is served",
	       TEST_RENDERS_PER_S);
	retry_after = reply_header(&run.burst[TEST_RENDERS_PER_S], "retry-after");
	tap_ok(run.burst[TEST_RENDERS_PER_S].status == 429 && retry_after &&
	       !strcmp(retry_after, "1"),
	       "the GET beyond it gets 429 with Retry-After: 1, no render (got %d)",
	       run.burst[TEST_RENDERS_PER_S].status);
	tap_eq(run.after_second.status, 200, "a second later it is served again");
	for (unsigned i = 0; i < G_N_ELEMENTS(run.burst); i++)
		reply_clear(&run.burst[i]);
	reply_clear(&run.after_second);
}

int main(void)
{
	Fixture fixture = { 0 };

	fixture_init(&fixture);
	test_document(&fixture);
	test_promtool(&fixture);
	test_listen_addresses();
	test_endpoint(&fixture);
	test_host_and_rate(&fixture);
	fixture_clear(&fixture);
	return tap_done();
}
