/* SPDX-License-Identifier: MIT */
/*
 * Unit test of virt-omem's client of omemd's status socket
 * (libvirt-driver/virt-omem/virt-omem-status.c, protocol in
 * docs/status.md): a fixture server thread on a unix socket writes sample
 * documents, broken ones, too much, or nothing at all, and the client must
 * parse the good one exactly and refuse the rest with the right error
 * within its bounds.  Not an end-to-end test: omemd does not exist yet.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tap.h"
#include "virt-omem-status.h"

#ifndef STATUS_SAMPLE
#error "build with -DSTATUS_SAMPLE='\"path of tests/cli/status.json\"'"
#endif

/* What the fixture server does with its one connection. */
typedef struct {
	int listen_fd;
	const char *data;  /* written, then the connection is closed */
	size_t length;
	unsigned int hold_ms; /* keep the connection open this long after writing */
} Fixture;

static gpointer fixture_serve(gpointer opaque)
{
	Fixture *fixture = opaque;
	size_t done = 0;
	int fd;

	fd = accept(fixture->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (done < fixture->length) {
		ssize_t n = send(fd, fixture->data + done, fixture->length - done, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the client gave up (too large): fine */
		done += (size_t)n;
	}
	if (fixture->hold_ms)
		g_usleep(fixture->hold_ms * 1000ul);
	close(fd);
	return NULL;
}

static char *socket_path;  /* in a private temporary folder */
static gint64 last_read_us; /* how long the last client read took */

/* Serve @data once on socket_path, run the client with @timeout_ms, and
 * return what it parsed (NULL with @error otherwise). */
static VirtOmemStatus *fetch(const char *data, size_t length, unsigned int hold_ms,
			     unsigned int timeout_ms, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	Fixture fixture = { .data = data, .length = length, .hold_ms = hold_ms };
	g_autofree char *text = NULL;
	VirtOmemStatus *status = NULL;
	GThread *thread;
	size_t got = 0;

	g_unlink(socket_path);
	fixture.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert(fixture.listen_fd >= 0);
	g_strlcpy(address.sun_path, socket_path, sizeof(address.sun_path));
	g_assert(bind(fixture.listen_fd, (struct sockaddr *)&address, sizeof(address)) == 0);
	g_assert(listen(fixture.listen_fd, 1) == 0);
	thread = g_thread_new("fixture", fixture_serve, &fixture);

	last_read_us = g_get_monotonic_time();
	text = virt_omem_status_read(socket_path, timeout_ms, VIRT_OMEM_STATUS_MAX_BYTES, &got,
				     error);
	last_read_us = g_get_monotonic_time() - last_read_us;
	if (text)
		status = virt_omem_status_parse(text, got, error);
	g_thread_join(thread);
	close(fixture.listen_fd);
	g_unlink(socket_path);
	return status;
}

static VirtOmemStatus *fetch_text(const char *text, GError **error)
{
	return fetch(text, strlen(text), 0, VIRT_OMEM_STATUS_TIMEOUT_MS, error);
}

/* One refusal: no status, the error code wanted, and a message. */
static void expect_refusal(const char *what, const char *text, int code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VirtOmemStatus) status = fetch_text(text, &error);

	if (!tap_ok(!status && error && error->code == code, "%s is refused", what))
		tap_diag("status %p, error %d: %s", (void *)status, error ? error->code : -1,
			 error ? error->message : "none");
	else
		tap_diag("%s", error->message);
}

static void test_sample(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VirtOmemStatus) status = NULL;
	g_autofree char *sample = NULL;
	const VirtOmemStatusVm *vm;
	gsize length;

	if (!tap_ok(g_file_get_contents(STATUS_SAMPLE, &sample, &length, &error),
		    "the sample document %s is readable", STATUS_SAMPLE))
		return;
	status = fetch(sample, length, 0, VIRT_OMEM_STATUS_TIMEOUT_MS, &error);
	if (!tap_ok(status != NULL, "the sample document parses")) {
		tap_diag("%s", error ? error->message : "?");
		return;
	}
	tap_eq(status->version, 1, "version 1");
	tap_eq(status->generated_unix_ms, 1714550400123LL, "generated_unix_ms");
	tap_ok(status->has_host, "host figures present");
	tap_eq(status->host_budget_bytes, 34359738368ULL, "host budget");
	tap_eq(status->host_committed_bytes, 12884901888ULL, "host committed");
	tap_eq(status->host_available_bytes, 21474836480ULL, "host available");
	tap_eq(status->vms->len, 2, "two VMs");

	vm = virt_omem_status_find(status, "6695EB01-F6A4-8304-79AA-97F2502E193F", "other-name");
	if (!tap_ok(vm && strcmp(vm->name, "web1") == 0, "found by UUID, case-insensitively"))
		return;
	tap_ok(vm->has_memory && vm->requested_bytes == 536870912 &&
		       vm->plugged_bytes == 536870912,
	       "requested and plugged");
	tap_ok(vm->has_demand && vm->demand_bytes == 734003200, "demand");
	tap_ok(vm->has_guest && vm->guest_total_bytes == 1052770304 &&
		       vm->guest_free_bytes == 268435456 && vm->guest_available_bytes == 402653184,
	       "guest figures");
	tap_ok(g_strcmp0(vm->session_state, "open") == 0, "session state");
	tap_ok(vm->last_decision && strcmp(vm->last_decision->action, "grant") == 0 &&
		       vm->last_decision->at_unix_ms == 1714550390000LL &&
		       vm->last_decision->target_bytes == 536870912 &&
		       g_strcmp0(vm->last_decision->reason,
				 "demand 700 MiB + 10% buffer above boot") == 0,
	       "the newest decision is the first");

	vm = virt_omem_status_find(status, "0b7a1c9e-3d52-4c4f-9f0e-5a2d8e1f6c33", NULL);
	tap_ok(vm && !vm->has_demand && !vm->has_guest && !vm->last_decision &&
		       g_strcmp0(vm->session_state, "connecting") == 0,
	       "null demand and guest, no decisions yet");
	tap_ok(virt_omem_status_find(status, "00000000-0000-0000-0000-000000000000", "web1") ==
		       NULL,
	       "a VM with a UUID is not matched by name alone");
}

static void test_minimal(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VirtOmemStatus) status = NULL;

	status = fetch_text("{\"version\":1,\"vms\":[{\"name\":\"a\",\"later\":{\"x\":[1]}}],"
			    "\"added_in_a_later_release\":true}",
			    &error);
	tap_ok(status && status->vms->len == 1 && !status->has_host,
	       "the smallest document parses and unknown members are ignored");
	tap_ok(status && virt_omem_status_find(status, NULL, "a") != NULL,
	       "a VM without a UUID is found by name");
	g_clear_pointer(&status, virt_omem_status_free);
	g_clear_error(&error);

	status = fetch_text("{\"version\":1,\"vms\":[{\"name\":"
			    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\"}]}",
			    &error);
	if (!tap_ok(status && status->vms->len == 1 &&
			    strcmp(((VirtOmemStatusVm *)g_ptr_array_index(status->vms, 0))->name,
				   "\"\\/\b\f\n\r\t\u00e9\u00e9") == 0,
		    "every escape JSON has is read as JSON defines it"))
		tap_diag("%s", error ? error->message : "the name differs");
}

static void test_refusals(void)
{
	g_autoptr(GString) deep = g_string_new("{\"version\":1,\"vms\":[],\"x\":");
	g_autoptr(GError) error = NULL;
	g_autoptr(VirtOmemStatus) status = NULL;
	g_autofree char *big = NULL;
	size_t big_size = VIRT_OMEM_STATUS_MAX_BYTES + 65536;
	int i;

	expect_refusal("an empty document", "", VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("text that is not JSON", "omemd says hello", VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a truncated document", "{\"version\":1,\"vms\":[{\"name\":",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a JSON array", "[1,2]", VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a document without a version", "{\"vms\":[]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("version 2", "{\"version\":2,\"vms\":[]}", VIRT_OMEM_STATUS_ERROR_VERSION);
	expect_refusal("a string version", "{\"version\":\"1\",\"vms\":[]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a document without vms", "{\"version\":1}", VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a VM without a name", "{\"version\":1,\"vms\":[{}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a negative size",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\",\"plugged_bytes\":-1}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a size beyond 64 bits",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\",\"demand_bytes\":1e99}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a string size",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\",\"demand_bytes\":\"1G\"}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a guest object without its figures",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\",\"guest\":{}}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a decision that is not an object",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\",\"decisions\":[7]}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a host object with a missing figure",
		       "{\"version\":1,\"host\":{\"budget_bytes\":1},\"vms\":[]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);

	/* json-glib alone would read these as a byte or a letter of their own. */
	expect_refusal("an octal escape that gives a byte outside UTF-8",
		       "{\"version\":1,\"vms\":[{\"name\":\"\\250\"}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("an octal escape that would end the string early",
		       "{\"version\":1,\"vms\":[{\"name\":\"a\\0b\"}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("an escape JSON does not have",
		       "{\"version\":1,\"vms\":[{\"name\":\"\\q\"}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a \\u escape without four hex digits",
		       "{\"version\":1,\"vms\":[{\"name\":\"\\uzzzz\"}]}",
		       VIRT_OMEM_STATUS_ERROR_INVALID);
	expect_refusal("a \\u escape cut off by the end of the document",
		       "{\"version\":1,\"vms\":[{\"name\":\"\\u00",
		       VIRT_OMEM_STATUS_ERROR_INVALID);

	for (i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	expect_refusal("100000 nested arrays", deep->str, VIRT_OMEM_STATUS_ERROR_INVALID);

	big = g_malloc(big_size);
	memset(big, ' ', big_size);
	status = fetch(big, big_size, 0, VIRT_OMEM_STATUS_TIMEOUT_MS, &error);
	tap_ok(!status && g_error_matches(error, VIRT_OMEM_STATUS_ERROR,
					  VIRT_OMEM_STATUS_ERROR_TOO_LARGE),
	       "more than %u bytes is refused", VIRT_OMEM_STATUS_MAX_BYTES);
	g_clear_error(&error);

	/* A server that writes a valid document but never closes: the
	 * client must give up at its time bound, not hang. */
	status = fetch("{\"version\":1,\"vms\":[]}", 22, 1500, 300, &error);
	tap_ok(!status && g_error_matches(error, VIRT_OMEM_STATUS_ERROR,
					  VIRT_OMEM_STATUS_ERROR_TIMEOUT),
	       "a server that does not close is given up after the timeout");
	if (!tap_ok(last_read_us >= 250 * 1000 && last_read_us < 1000 * 1000,
		    "the client returned at its own 300 ms bound, not the server's 1.5 s"))
		tap_diag("the read took %lld ms", (long long)last_read_us / 1000);
	g_clear_error(&error);

	g_unlink(socket_path);
	tap_ok(!virt_omem_status_load(socket_path, &error) &&
		       g_error_matches(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_ABSENT),
	       "no socket means omemd is not running");
}

static void test_socket_path(void)
{
	g_setenv(VIRT_OMEM_STATUS_SOCKET_ENV, "/tmp/elsewhere.sock", TRUE);
	tap_ok(strcmp(virt_omem_status_socket_path(), "/tmp/elsewhere.sock") == 0,
	       "OMEM_STATUS_SOCKET overrides the path");
	g_unsetenv(VIRT_OMEM_STATUS_SOCKET_ENV);
	tap_ok(strcmp(virt_omem_status_socket_path(), "/run/omem/status.sock") == 0,
	       "the default path is /run/omem/status.sock");
}

int main(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("omem-status-XXXXXX", &error);

	if (!dir) {
		printf("Bail out! cannot make a temporary folder: %s\n", error->message);
		return EXIT_FAILURE;
	}
	socket_path = g_build_filename(dir, "status.sock", NULL);
	test_sample();
	test_minimal();
	test_refusals();
	test_socket_path();
	g_unlink(socket_path);
	g_rmdir(dir);
	g_free(socket_path);
	return tap_done();
}
