/* SPDX-License-Identifier: MIT */
/*
 * omem-qemu-hook: libvirt's qemu hook for omem admission control
 * (docs/admission.md), installed as /etc/libvirt/hooks/qemu.d/50-omem.
 *
 * libvirt runs every hook as root, synchronously, for every operation of
 * every domain, as `NAME OP SUBOP EXTRA` with the domain XML on stdin; a
 * non-zero exit at "prepare begin" stops the start and libvirt puts our
 * stderr into the error `virsh start` prints.  So: any call but "prepare
 * begin" returns at once; "prepare begin" of a domain without omem
 * metadata returns after a byte search; only an omem domain costs an XML
 * parse and one exchange with omemd's admission socket, all of it bounded
 * by ADMISSION_TIMEOUT_MS.
 *
 * omemd down or silent: admit with a warning (libvirt is the source of
 * truth, and a dead omemd must not stop every VM on the host) unless
 * --fail-closed.  Nothing is ever written to stdout: at "migrate begin"
 * and "restore begin" libvirt would take it for a replacement domain XML.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "formats/admission.h"
#include "omem-virt.h"
#include "omem/autofd.h"

/* A domain XML is a few KiB, a large one with many devices some hundred;
 * 4 MiB bounds what a broken caller can make us hold. */
#define HOOK_XML_MAX (4u << 20)

/* Exit statuses.  libvirt only distinguishes 0 from the rest. */
#define HOOK_EXIT_ADMIT 0
#define HOOK_EXIT_REFUSE 1
#define HOOK_EXIT_USAGE 2

static const char hook_help[] =
	"NAME\n"
	"    omem-qemu-hook - refuse to start an omem VM whose contract min omemd cannot cover\n"
	"\n"
	"SYNOPSIS\n"
	"    omem-qemu-hook [--socket PATH] [--fail-closed] DOMAIN OPERATION SUB-OPERATION EXTRA\n"
	"    omem-qemu-hook --help\n"
	"\n"
	"DESCRIPTION\n"
	"    libvirt's qemu hook (installed as $sysconfdir/libvirt/hooks/qemu.d/50-omem).\n"
	"    libvirt runs it for every operation of every domain with the domain XML\n"
	"    on stdin.  At \"prepare begin\" of a domain with an omem contract in its\n"
	"    <metadata>, it asks omemd over its admission socket whether the host's\n"
	"    budget covers the contract's min and exits 1 if not, which stops the\n"
	"    start; stderr then reads \"omem: DOMAIN refused: REASON\" and libvirt shows\n"
	"    it in the error of `virsh start`.  A domain whose omem metadata is broken\n"
	"    is refused with the parse error.  Any other call exits 0 at once.\n"
	"    Options come before libvirt's four arguments, so a wrapper can run\n"
	"    `exec omem-qemu-hook --socket PATH \"$@\"`.\n"
	"\n"
	"OPTIONS\n"
	"    --socket PATH   omemd's admission socket (default " ADMISSION_SOCKET_DEFAULT ")\n"
	"    --fail-closed   refuse the VM when omemd cannot be asked (not running,\n"
	"                    no reply within 2 s, an invalid reply); by default such\n"
	"                    a VM is admitted with a warning on stderr\n"
	"    --help          this text\n"
	"\n"
	"EXIT STATUS\n"
	"    0 admitted or not concerned, 1 refused, 2 wrong arguments.\n"
	"\n"
	"SEE ALSO\n"
	"    omemd(8), virsh(1), docs/admission.md, https://libvirt.org/hooks.html\n";

/* Why omemd could not be asked: the two read differently on stderr. */
#define HOOK_ERROR (hook_error_quark())
static G_DEFINE_QUARK(omem-qemu-hook-error-quark, hook_error)

typedef enum {
	HOOK_ERROR_IO,    /* stdin, the socket, or a timeout */
	HOOK_ERROR_REPLY, /* omemd answered something that is not a reply */
} HookError;

typedef struct {
	const char *socket_path;
	bool fail_closed;
} HookOptions;

static int64_t hook_left_ms(int64_t deadline_us)
{
	int64_t left = (deadline_us - g_get_monotonic_time()) / 1000;

	return left > 0 ? left : 0;
}

/* Wait for @events on @fd until @deadline_us; false with @error on a
 * timeout or a poll failure. */
static bool hook_wait(int fd, short events, int64_t deadline_us, const char *what, GError **error)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = hook_left_ms(deadline_us);
		int r;

		if (left == 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "no %s within %d ms", what,
				    ADMISSION_TIMEOUT_MS);
			return false;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "poll: %s",
				    g_strerror(errno));
			return false;
		}
		if (r > 0)
			return true;
	}
}

/* The domain XML from stdin, NUL-terminated, at most HOOK_XML_MAX bytes. */
static char *hook_read_xml(int64_t deadline_us, gsize *ret_length, GError **error)
{
	g_autoptr(GByteArray) xml = g_byte_array_new();
	char buffer[65536];

	for (;;) {
		ssize_t n;

		if (!hook_wait(STDIN_FILENO, POLLIN, deadline_us, "end of the domain XML", error))
			return NULL;
		n = read(STDIN_FILENO, buffer, sizeof(buffer));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "reading stdin: %s",
				    g_strerror(errno));
			return NULL;
		}
		if (n == 0)
			break;
		if (xml->len + (gsize)n > HOOK_XML_MAX) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO,
				    "the domain XML is larger than %u bytes", HOOK_XML_MAX);
			return NULL;
		}
		g_byte_array_append(xml, (const guint8 *)buffer, (guint)n);
	}
	*ret_length = xml->len;
	g_byte_array_append(xml, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(g_steal_pointer(&xml), FALSE);
}

/* From the domain XML: its <uuid>, lower case (libvirt writes it so
 * already), and the largest block of its virtio-mem devices, which the
 * VM's min is rounded up to (omemd does the same when the VM joins; 0
 * without devices, and the request is then refused as malformed).  @xml
 * is NUL-terminated and holds no other NUL (checked by the caller). */
static bool hook_read_domain(const char *xml, char *ret_uuid,
			     uint64_t *ret_block_bytes, GError **error)
{
	g_autofree char *uuid = NULL;
	OmemMemoryState state;

	if (omem_domain_xml_uuid(xml, &uuid) < 0 || strlen(uuid) != ADMISSION_UUID_LENGTH) {
		g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO,
			    "the domain XML has no <uuid> of %d characters", ADMISSION_UUID_LENGTH);
		return false;
	}
	for (int i = 0; i < ADMISSION_UUID_LENGTH; i++)
		ret_uuid[i] = g_ascii_tolower(uuid[i]);
	ret_uuid[ADMISSION_UUID_LENGTH] = '\0';
	*ret_block_bytes = omem_domain_xml_memory_state(xml, &state, NULL) == 0 ? state.block_bytes : 0;
	return true;
}

static int hook_connect(const char *path, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	omem_autofd int fd = -1;

	if (strlen(path) >= sizeof(address.sun_path)) {
		g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO,
			    "the socket path is longer than %zu bytes", sizeof(address.sun_path) - 1);
		return -1;
	}
	strcpy(address.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "socket: %s",
			    g_strerror(errno));
		return -1;
	}
	/* A Unix stream connect completes at once or fails; EAGAIN means
	 * omemd's backlog is full, which is as good as not answering. */
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
		return g_steal_fd(&fd);
	g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "%s", g_strerror(errno));
	return -1;
}

/* Send @request to omemd at @path and read its reply, by @deadline_us. */
static bool hook_ask(const char *path, const char *request, gsize request_length,
		     int64_t deadline_us, AdmissionReply *ret_reply, GError **error)
{
	char reply[ADMISSION_LINE_MAX];
	gsize sent = 0, received = 0;
	g_autoptr(GError) parse_error = NULL;
	omem_autofd int fd = hook_connect(path, error);

	if (fd < 0)
		return false;
	while (sent < request_length) {
		ssize_t n;

		if (!hook_wait(fd, POLLOUT, deadline_us, "room to send the request", error))
			return false;
		n = send(fd, request + sent, request_length - sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "sending: %s",
				    g_strerror(errno));
			return false;
		}
		sent += (gsize)n;
	}
	while (!memchr(reply, '\n', received)) {
		ssize_t n;

		if (received == sizeof(reply)) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_REPLY,
				    "a reply longer than %d bytes", ADMISSION_LINE_MAX);
			return false;
		}
		if (!hook_wait(fd, POLLIN, deadline_us, "reply", error))
			return false;
		n = recv(fd, reply + received, sizeof(reply) - received, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO, "receiving: %s",
				    g_strerror(errno));
			return false;
		}
		if (n == 0) {
			g_set_error(error, HOOK_ERROR, HOOK_ERROR_IO,
				    "the connection closed without a reply");
			return false;
		}
		received += (gsize)n;
	}
	if (!admission_reply_parse(reply, received, ret_reply, &parse_error)) {
		g_set_error(error, HOOK_ERROR, HOOK_ERROR_REPLY, "an invalid %s",
			    parse_error->message);
		return false;
	}
	return true;
}

/* Record one fail-open where omemd counts it (formats/admission.h): a
 * line appended to the fail-open file beside the admission socket, if
 * omemd's run directory exists, the file is a regular one and not full.
 * One write of a short line with O_APPEND, so hooks running at once do
 * not interleave.  What goes wrong is said on stderr; the VM is admitted
 * all the same. */
static void hook_count_fail_open(const HookOptions *options, const char *name)
{
	g_autofree char *folder = g_path_get_dirname(options->socket_path);
	g_autofree char *path = g_build_filename(folder, ADMISSION_FAIL_OPEN_NAME, NULL);
	g_autofree char *line = NULL;
	omem_autofd int fd = -1;
	struct stat info;
	gsize length = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "omem: cannot count this fail-open in %s: %s\n", path, g_strerror(errno));
		return;
	}
	line = admission_fail_open_line(g_get_real_time() / G_USEC_PER_SEC, name, &length);
	if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode) ||
	    (guint64)info.st_size + length > ADMISSION_FAIL_OPEN_MAX_BYTES) {
		fprintf(stderr, "omem: cannot count this fail-open in %s: not a regular file, or full (%u bytes); move it away\n",
			path, ADMISSION_FAIL_OPEN_MAX_BYTES);
		return;
	}
	if (write(fd, line, length) != (ssize_t)length)
		fprintf(stderr, "omem: cannot count this fail-open in %s: %s\n", path, g_strerror(errno));
}

/* omemd could not be asked: admit with a warning, counted in omemd's
 * metrics, or refuse if the operator chose --fail-closed. */
static int hook_give_up(const HookOptions *options, const char *name, const char *problem)
{
	if (options->fail_closed) {
		fprintf(stderr, "omem: %s; refusing %s (--fail-closed)\n", problem, name);
		return HOOK_EXIT_REFUSE;
	}
	fprintf(stderr, "omem: %s; admitting %s WITHOUT admission control (fail-open)\n", problem, name);
	hook_count_fail_open(options, name);
	return HOOK_EXIT_ADMIT;
}

static int hook_refuse(const char *name, const char *reason)
{
	fprintf(stderr, "omem: %s refused: %s\n", name, reason);
	return HOOK_EXIT_REFUSE;
}

/* "prepare begin": the one call that may refuse. */
static int hook_prepare(const HookOptions *options, const char *name)
{
	int64_t deadline_us = g_get_monotonic_time() + (int64_t)ADMISSION_TIMEOUT_MS * 1000;
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL, *line = NULL, *problem = NULL;
	AdmissionRequest request = { 0 };
	AdmissionReply reply;
	gsize xml_length = 0, line_length = 0;

	xml = hook_read_xml(deadline_us, &xml_length, &error);
	if (!xml) {
		problem = g_strdup_printf("cannot read the domain XML: %s", error->message);
		return hook_give_up(options, name, problem);
	}
	/* Most domains are not omem domains: a byte search spares them the
	 * XML parse.  A false hit (the namespace in a description) is sorted
	 * out below as "not omem". */
	if (!memmem(xml, xml_length, OMEM_CONTRACT_NAMESPACE, strlen(OMEM_CONTRACT_NAMESPACE)))
		return HOOK_EXIT_ADMIT;
	if (memchr(xml, '\0', xml_length))
		return hook_refuse(name, "the domain XML holds a NUL byte");
	if (omem_contract_from_domain_xml(xml, &contract) < 0) {
		const OmemError *omem_error = omem_error_last();

		if (omem_error && omem_error->code == OMEM_ERR_NOT_OMEM)
			return HOOK_EXIT_ADMIT;
		return hook_refuse(name, omem_error_last_message());
	}
	if (omem_contract_validate(contract) < 0)
		return hook_refuse(name, omem_error_last_message());

	if (!hook_read_domain(xml, request.uuid, &request.block_bytes, &error)) {
		problem = g_strdup_printf("cannot ask omemd about %s: %s", name, error->message);
		return hook_give_up(options, name, problem);
	}
	if (strlen(name) > ADMISSION_NAME_MAX) {
		problem = g_strdup_printf("cannot ask omemd about %s: the name has %zu bytes, more than the %d a request carries",
					  name, strlen(name), ADMISSION_NAME_MAX);
		return hook_give_up(options, name, problem);
	}
	g_strlcpy(request.name, name, sizeof(request.name));
	request.boot_bytes = omem_contract_get_boot(contract);
	request.min_bytes = omem_contract_get_min(contract);
	request.cap_bytes = omem_contract_get_cap(contract);
	request.max_bytes = omem_contract_get_max(contract);
	line = admission_request_format(&request, &line_length, &error);
	if (!line) {
		problem = g_strdup_printf("cannot ask omemd about %s: %s", name, error->message);
		return hook_give_up(options, name, problem);
	}

	if (!hook_ask(options->socket_path, line, line_length, deadline_us, &reply, &error)) {
		if (error->domain == HOOK_ERROR && error->code == HOOK_ERROR_REPLY)
			problem = g_strdup_printf("omemd at %s sent %s", options->socket_path,
						  error->message);
		else
			problem = g_strdup_printf("omemd not reachable at %s: %s", options->socket_path,
						  error->message);
		return hook_give_up(options, name, problem);
	}
	if (!reply.admit)
		return hook_refuse(name, reply.message[0] ? reply.message : "no reason given");
	return HOOK_EXIT_ADMIT;
}

static int hook_usage_error(const char *problem)
{
	fprintf(stderr, "omem-qemu-hook: %s\n"
		"usage: omem-qemu-hook [--socket PATH] [--fail-closed] DOMAIN OPERATION SUB-OPERATION EXTRA\n"
		"       omem-qemu-hook --help\n", problem);
	return HOOK_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	HookOptions options = { .socket_path = ADMISSION_SOCKET_DEFAULT };
	const char *name, *operation, *sub_operation;
	int n_options, i;

	/* send() says MSG_NOSIGNAL; this covers stderr too. */
	signal(SIGPIPE, SIG_IGN);

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(hook_help, stdout);
		return HOOK_EXIT_ADMIT;
	}
	if (argc < 5)
		return hook_usage_error("expected libvirt's four arguments");
	/* libvirt's arguments are always the last four, so a domain named
	 * like an option is never read as one. */
	n_options = argc - 5;
	for (i = 1; i <= n_options; i++) {
		if (!strcmp(argv[i], "--fail-closed")) {
			options.fail_closed = true;
		} else if (!strcmp(argv[i], "--socket") && i < n_options) {
			options.socket_path = argv[++i];
		} else if (g_str_has_prefix(argv[i], "--socket=")) {
			options.socket_path = argv[i] + strlen("--socket=");
		} else {
			g_autofree char *problem = g_strdup_printf("unknown option or missing value: %s",
								   argv[i]);

			return hook_usage_error(problem);
		}
	}
	if (!*options.socket_path)
		return hook_usage_error("--socket needs a path");
	name = argv[argc - 4];
	operation = argv[argc - 3];
	sub_operation = argv[argc - 2];

	/* Every other call returns without reading stdin: libvirt writes the
	 * XML through a pipe from a poll loop and drops it on EPIPE (libvirtd
	 * ignores SIGPIPE), so an unread stdin neither blocks nor kills it,
	 * and draining megabytes for each operation of each domain would cost
	 * every VM's start, stop and migration time for nothing. */
	if (strcmp(operation, "prepare") || strcmp(sub_operation, "begin"))
		return HOOK_EXIT_ADMIT;
	return hook_prepare(&options, name);
}
