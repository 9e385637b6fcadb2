/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-util.c: reporting, option parsing, connecting and input
 * reading shared by virt-omem's subcommands (declared in virt-omem.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "virt-omem.h"
#include "virt-omem-parse.h"

/* Domain XML is a few KiB; anything past this is not a domain. */
#define VIRT_OMEM_INPUT_MAX (16u << 20)

/* Write "virt-omem: KIND: MESSAGE" as exactly one line. */
static void virt_omem_report(const char *kind, const char *format, va_list ap)
{
	g_autofree char *message = g_strdup_vprintf(format, ap);
	char *p;

	for (p = message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	g_strchomp(message);
	fprintf(stderr, "virt-omem: %s: %s\n", kind, message);
	fflush(stderr);
}

int virt_omem_fail(int exit_code, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	virt_omem_report("error", format, ap);
	va_end(ap);
	return exit_code;
}

void virt_omem_note(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	virt_omem_report("note", format, ap);
	va_end(ap);
}

void virt_omem_warning(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	virt_omem_report("warning", format, ap);
	va_end(ap);
}

int virt_omem_exit_for_library_error(void)
{
	const OmemError *error = omem_error_last();

	if (!error)
		return VIRT_OMEM_EXIT_FAILED;
	switch (error->code) {
	case OMEM_ERR_INVALID_ARG:
	case OMEM_ERR_XML:
	case OMEM_ERR_UNSUPPORTED:
	case OMEM_ERR_NOT_OMEM:
	case OMEM_ERR_CONTRACT:
	case OMEM_ERR_METADATA:
		return VIRT_OMEM_EXIT_USAGE;
	case OMEM_ERR_LIBVIRT:
		return error->libvirt_code == VIR_ERR_NO_DOMAIN ? VIRT_OMEM_EXIT_USAGE
								: VIRT_OMEM_EXIT_FAILED;
	case OMEM_ERR_NONE:
	case OMEM_ERR_NO_MEMORY:
	case OMEM_ERR_PARTIAL:
	default:
		return VIRT_OMEM_EXIT_FAILED;
	}
}

int virt_omem_fail_library(void)
{
	return virt_omem_fail(virt_omem_exit_for_library_error(), "%s",
			      omem_error_last_message());
}

void virt_omem_command_print_help(const VirtOmemCommand *command, FILE *out)
{
	fprintf(out, "Usage: virt-omem [-c URI] %s %s\n\n%s\n", command->name, command->synopsis,
		command->summary);
	if (command->help && *command->help)
		fprintf(out, "\nOptions:\n%s", command->help);
	fprintf(out, "\nSee virt-omem(1) for sizes, exit codes and examples.\n");
}

int virt_omem_getopt(const VirtOmemCommand *command, int argc, char **argv,
		     const char *shortopts, const struct option *longopts)
{
	static char **started; /* argv of the command being parsed */
	int c;

	if (started != argv) {
		started = argv;
		optind = 0; /* glibc: full reinitialisation */
	}
	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?') {
		if (optopt >= '0' && optopt <= '9') {
			/* "-1" reads as an option to getopt: name the real problem.
			 * getopt leaves optind on a cluster it has not finished. */
			const char *arg = optind < argc && argv[optind][0] == '-' &&
						  argv[optind][1] == optopt
						  ? argv[optind]
						  : argv[optind - 1];

			virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				       "invalid argument '%s' for '%s': negative values are not allowed",
				       arg, command->name);
		}
		else if (optopt && optopt < 256 && !strchr(argv[optind - 1], '='))
			virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				       "unknown option '-%c' for '%s'; see 'virt-omem %s --help'",
				       optopt, command->name, command->name);
		else
			virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				       "unknown option '%s' for '%s'; see 'virt-omem %s --help'",
				       argv[optind - 1], command->name, command->name);
		return '?';
	}
	if (c == ':') {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "option '%s' of '%s' needs a value",
			       argv[optind - 1], command->name);
		return '?';
	}
	return c;
}

bool virt_omem_option_affect(int c, VirtOmemAffect *affect)
{
	switch (c) {
	case 'L':
		affect->live = true;
		return true;
	case 'C':
		affect->config = true;
		return true;
	case 'U':
		affect->current = true;
		return true;
	}
	return false;
}

int virt_omem_option_timeout(const char *text, unsigned long long max_ms,
			     unsigned long long *ret_ms)
{
	char error[256];

	if (virt_omem_parse_seconds(text, 100, max_ms, ret_ms, error, sizeof(error)) < 0)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--timeout: %s", error);
	return 0;
}

int virt_omem_option_wait(int c, const char *arg, unsigned long long max_ms, VirtOmemWait *wait)
{
	switch (c) {
	case 'w':
		wait->on = true;
		return 1;
	case 't':
		if (virt_omem_option_timeout(arg, max_ms, &wait->timeout_ms) != 0)
			return -1;
		wait->has_timeout = true;
		return 1;
	}
	return 0;
}

int virt_omem_wait_check(const VirtOmemWait *wait, const VirtOmemAffect *affect)
{
	if (wait->has_timeout && !wait->on)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--timeout needs --wait");
	if (wait->on && affect->config && !affect->live)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "--wait watches the running guest: add --live to --config");
	return 0;
}

int virt_omem_affect_flags(const VirtOmemAffect *affect, unsigned int *ret_flags)
{
	unsigned int flags = VIR_DOMAIN_AFFECT_CURRENT;

	if (affect->current && (affect->live || affect->config)) {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
			       "--current cannot be combined with --live or --config");
		return -1;
	}
	if (affect->live)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (affect->config)
		flags |= VIR_DOMAIN_AFFECT_CONFIG;
	*ret_flags = flags;
	return 0;
}

int virt_omem_option_size(const char *option, const char *text, unsigned long long *ret_bytes)
{
	char error[OMEM_SIZE_ERROR_MAX];

	/* No unit means KiB, as in virsh setmem. */
	if (omem_size_parse(text, 0, ret_bytes, error, sizeof(error)) < 0) {
		if (strcmp(option, "SIZE") == 0)
			virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "%s", error);
		else
			virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--%s: %s", option, error);
		return -1;
	}
	return 0;
}

int virt_omem_option_shares(const char *text, unsigned int *ret_shares)
{
	unsigned long long value;
	char error[256];

	if (virt_omem_parse_uint(text, 1, OMEM_CONTRACT_MAX_SHARES, &value, error,
				 sizeof(error)) < 0) {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "--shares: %s", error);
		return -1;
	}
	*ret_shares = (unsigned int)value;
	return 0;
}

int virt_omem_positional(const VirtOmemCommand *command, int argc, char **argv, int min,
			 int max, const char *what)
{
	int count = argc - optind;

	if (count < min) {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "'%s' needs %s; usage: virt-omem %s %s",
			       command->name, what, command->name, command->synopsis);
		return -1;
	}
	if (count > max) {
		virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
			       "unexpected argument '%s' for '%s'; usage: virt-omem %s %s",
			       argv[optind + max], command->name, command->name, command->synopsis);
		return -1;
	}
	return 0;
}

const char *virt_omem_libvirt_message(void)
{
	const char *message = virGetLastErrorMessage();

	return message ? message : "unknown libvirt error";
}

virConnectPtr virt_omem_connect(const VirtOmemGlobal *global)
{
	virConnectPtr conn = virConnectOpenAuth(global->uri, virConnectAuthPtrDefault, 0);

	if (!conn) {
		const char *uri = global->uri ? global->uri : g_getenv("LIBVIRT_DEFAULT_URI");

		virt_omem_fail(VIRT_OMEM_EXIT_FAILED,
			       "cannot connect to %s: %s; check the URI (-c) and that libvirtd runs there",
			       uri ? uri : "libvirt's default URI", virt_omem_libvirt_message());
	}
	return conn;
}

virDomainPtr virt_omem_lookup_domain(virConnectPtr conn, const char *name, int *ret_exit)
{
	virDomainPtr domain = NULL;
	g_autofree char *uri = NULL;
	const char *end;

	if (!*name) {
		*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "empty domain name");
		return NULL;
	}
	/* virsh's order: a number is an ID, then a UUID, then a name. */
	end = name + strspn(name, "0123456789");
	if (!*end && strlen(name) < 10)
		domain = virDomainLookupByID(conn, atoi(name));
	if (!domain && strlen(name) == VIR_UUID_STRING_BUFLEN - 1)
		domain = virDomainLookupByUUIDString(conn, name);
	if (!domain)
		domain = virDomainLookupByName(conn, name);
	if (domain) {
		virResetLastError();
		return domain;
	}
	if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		uri = virConnectGetURI(conn);
		*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
					   "domain '%s' not found on %s; see 'virsh -c %s list --all'",
					   name, uri ? uri : "this connection", uri ? uri : "URI");
	} else {
		*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot look up domain '%s': %s",
					   name, virt_omem_libvirt_message());
	}
	return NULL;
}

char *virt_omem_read_input(const char *path, int *ret_exit)
{
	g_autoptr(GString) text = g_string_new(NULL);
	bool from_stdin = !path || strcmp(path, "-") == 0;
	const char *label = from_stdin ? "standard input" : path;
	FILE *file = stdin;
	char buffer[65536];
	size_t n;

	if (!from_stdin) {
		file = fopen(path, "r");
		if (!file) {
			*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "cannot open %s: %s", path,
						   g_strerror(errno));
			return NULL;
		}
	}
	while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) {
		if (text->len + n > VIRT_OMEM_INPUT_MAX) {
			if (!from_stdin)
				fclose(file);
			*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
						   "%s is larger than %u MiB: not a domain XML",
						   label, VIRT_OMEM_INPUT_MAX >> 20);
			return NULL;
		}
		g_string_append_len(text, buffer, (gssize)n);
	}
	if (ferror(file)) {
		int saved = errno;

		if (!from_stdin)
			fclose(file);
		*ret_exit = virt_omem_fail(saved == EISDIR ? VIRT_OMEM_EXIT_USAGE : VIRT_OMEM_EXIT_FAILED,
					   "cannot read %s: %s", label, g_strerror(saved));
		return NULL;
	}
	if (!from_stdin)
		fclose(file);
	if (memchr(text->str, '\0', text->len)) {
		*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
					   "%s contains a NUL byte: not a domain XML", label);
		return NULL;
	}
	if (text->len == 0) {
		*ret_exit = virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
					   "%s is empty: give a domain XML (e.g. from 'virsh dumpxml')",
					   label);
		return NULL;
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

const char *virt_omem_size(unsigned long long bytes)
{
	/* Eight buffers: enough for every size in one message. */
	static char ring[8][OMEM_SIZE_STRING];
	static unsigned int next;
	char *buffer = ring[next++ % G_N_ELEMENTS(ring)];

	return omem_size_format(bytes, buffer, OMEM_SIZE_STRING);
}
