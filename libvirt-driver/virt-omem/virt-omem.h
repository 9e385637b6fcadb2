/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem.h: what virt-omem's subcommands share: the command table
 * entry, exit codes, one-line error reporting, option parsing, connecting
 * to libvirt and finding a domain.  One file per subcommand (cmd-*.c)
 * exports one VirtOmemCommand; virt-omem.c dispatches from one table.
 */
#ifndef VIRT_OMEM_H
#define VIRT_OMEM_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "omem-virt.h"

/* Exit codes, documented in virt-omem(1) and docs/virt-omem.md. */
typedef enum {
	VIRT_OMEM_EXIT_OK = 0,
	VIRT_OMEM_EXIT_FAILED = 1,  /* the operation failed (libvirt, I/O, a partial change) */
	VIRT_OMEM_EXIT_USAGE = 2,   /* usage or bad input: nothing was changed */
	VIRT_OMEM_EXIT_TIMEOUT = 3, /* --wait timed out; achieved vs. target printed */
} VirtOmemExit;

/* Global options, given before the subcommand. */
typedef struct {
	const char *uri; /* -c/--connect; NULL: libvirt's default URI */
} VirtOmemGlobal;

/* One subcommand: its name, its entry point and its help. */
typedef struct {
	const char *name;
	/* argv[0] is the subcommand's name; returns a VirtOmemExit. */
	int (*run)(const VirtOmemGlobal *global, int argc, char **argv);
	const char *synopsis; /* arguments after the name, one line */
	const char *summary;  /* what it does, one line */
	const char *help;     /* the options, one per line, for --help */
} VirtOmemCommand;

extern const VirtOmemCommand virt_omem_command_convert;
extern const VirtOmemCommand virt_omem_command_define;
extern const VirtOmemCommand virt_omem_command_revert;
extern const VirtOmemCommand virt_omem_command_setmem;
extern const VirtOmemCommand virt_omem_command_freeze;
extern const VirtOmemCommand virt_omem_command_thaw;
extern const VirtOmemCommand virt_omem_command_drain;
extern const VirtOmemCommand virt_omem_command_undrain;
extern const VirtOmemCommand virt_omem_command_dommemstat;
extern const VirtOmemCommand virt_omem_command_list;
extern const VirtOmemCommand virt_omem_command_top;

/* ------------------------------------------------------------- reporting */

/* Print "virt-omem: error: ..." as one line on stderr (newlines in the
 * message become spaces) and return @exit_code, so a command ends with
 * `return virt_omem_fail(VIRT_OMEM_EXIT_USAGE, "...")`. */
int virt_omem_fail(int exit_code, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Report the library's last error (omem_error_last_message) as the one
 * error line and return the exit code its kind maps to: bad input (XML,
 * contract, metadata, not an omem domain, unknown domain) is 2, anything
 * else 1. */
int virt_omem_fail_library(void);

/* The exit code for the library's last error, as above. */
int virt_omem_exit_for_library_error(void);

/* "virt-omem: note: ..." and "virt-omem: warning: ..." on stderr. */
void virt_omem_note(const char *format, ...) G_GNUC_PRINTF(1, 2);
void virt_omem_warning(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Print @command's synopsis, summary and options on @out. */
void virt_omem_command_print_help(const VirtOmemCommand *command, FILE *out);

/* --------------------------------------------------------------- options */

/* getopt_long for a subcommand, with one-line errors: returns the option,
 * -1 at the end of the options, or '?' after reporting an unknown option
 * or a missing value (the caller returns VIRT_OMEM_EXIT_USAGE).  Resets
 * getopt on a command's first call (@argv[0] is the command name).
 * @shortopts must start with ':'. */
int virt_omem_getopt(const VirtOmemCommand *command, int argc, char **argv,
		     const char *shortopts, const struct option *longopts);

/* --live, --config and --current, as virsh: */
typedef struct {
	bool live, config, current;
} VirtOmemAffect;

/* If @c is the short option of --live ('L'), --config ('C') or --current
 * ('U'), as every contract-writing command spells them, record it in
 * @affect and return true; false for any other option. */
bool virt_omem_option_affect(int c, VirtOmemAffect *affect);

/* --timeout SECONDS (0.1 s up to @max_ms): 0, or after reporting the
 * error VIRT_OMEM_EXIT_USAGE. */
int virt_omem_option_timeout(const char *text, unsigned long long max_ms,
			     unsigned long long *ret_ms);

/* --wait and --timeout SECONDS ('w' and 't'), as setmem-outsourced and
 * drain take them. */
typedef struct {
	bool on;                        /* --wait */
	bool has_timeout;               /* --timeout was given ... */
	unsigned long long timeout_ms;  /* ... or the command's default */
} VirtOmemWait;

/* If @c is 'w' or 't', record it in @wait (--timeout @arg up to @max_ms)
 * and return 1; 0 for any other option; -1 after reporting a bad
 * --timeout. */
int virt_omem_option_wait(int c, const char *arg, unsigned long long max_ms, VirtOmemWait *wait);

/* After the options: --timeout needs --wait, and --wait the live side.
 * 0, or VIRT_OMEM_EXIT_USAGE after reporting. */
int virt_omem_wait_check(const VirtOmemWait *wait, const VirtOmemAffect *affect);

/* The VIR_DOMAIN_AFFECT_* flags @affect selects (CURRENT when none was
 * given); reports and returns -1 when --current was mixed with another. */
int virt_omem_affect_flags(const VirtOmemAffect *affect, unsigned int *ret_flags);

/* Parse a size option; reports "invalid value for --OPTION: ..." and
 * returns -1 on bad text.  @option is the option's name without dashes
 * (or "SIZE" for a positional argument). */
int virt_omem_option_size(const char *option, const char *text, unsigned long long *ret_bytes);

/* Parse --shares N (1..OMEM_CONTRACT_MAX_SHARES). */
int virt_omem_option_shares(const char *text, unsigned int *ret_shares);

/* Check the count of positional arguments left after the options:
 * between @min and @max; reports which argument is missing or extra. */
int virt_omem_positional(const VirtOmemCommand *command, int argc, char **argv, int min,
			 int max, const char *what);

/* ------------------------------------------------------------- libvirt */

/* Open @global->uri read-write (libvirt's default when NULL, honouring
 * LIBVIRT_DEFAULT_URI), with libvirt's default authentication callbacks.
 * Reports the failure and returns NULL. */
virConnectPtr virt_omem_connect(const VirtOmemGlobal *global);

/* Find a domain by name, UUID or ID (virsh's order: ID, UUID, name);
 * reports "domain 'X' not found on URI" and returns NULL, with *ret_exit
 * set to the exit code to return. */
virDomainPtr virt_omem_lookup_domain(virConnectPtr conn, const char *name, int *ret_exit);

/* The last libvirt error's message, one line, never NULL. */
const char *virt_omem_libvirt_message(void);

/* Read a whole file, or stdin for "-" or NULL, up to 16 MiB; reports the
 * failure and returns NULL.  *ret_exit is 2 when the file cannot be
 * opened (a bad argument), 1 when reading fails. */
char *virt_omem_read_input(const char *path, int *ret_exit);

/* Format a size exactly ("1536 MiB") into a static ring of buffers, so a
 * printf may use several at once. */
const char *virt_omem_size(unsigned long long bytes);

/* ----------------------------------------------- convert and define */

/* What convert and define take: [FILE|-] and the contract options. */
typedef struct {
	const char *file; /* NULL or "-": standard input */
	OmemConvertOptions options;
} VirtOmemConvertArgs;

/* Parse convert's options for @command (convert or define, which needs a
 * FILE).  Returns VIRT_OMEM_EXIT_OK, or the exit code after reporting;
 * -1 after printing --help. */
int virt_omem_convert_parse_args(const VirtOmemCommand *command, int argc, char **argv,
				 bool need_file, VirtOmemConvertArgs *ret_args);

/* Read @args->file and convert it; *ret_xml (g_free) on success.  Returns
 * the exit code, after reporting a failure. */
int virt_omem_convert_input(const VirtOmemConvertArgs *args, char **ret_xml);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)

#endif /* VIRT_OMEM_H */
