/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-maintenance.h: what freeze, thaw, drain and undrain share.
 * Each of them switches one maintenance flag of the contract (frozen or
 * drain) on or off, on named domains or on every running omem domain
 * (--all), on the live side, the persistent one or both; only the flag
 * and the words differ, so one engine runs all four and each cmd-*.c
 * file describes its command.
 */
#ifndef VIRT_OMEM_MAINTENANCE_H
#define VIRT_OMEM_MAINTENANCE_H

#include "virt-omem.h"

/* The contract flag a maintenance command switches. */
typedef enum {
	VIRT_OMEM_MAINTENANCE_FROZEN,
	VIRT_OMEM_MAINTENANCE_DRAIN,
} VirtOmemMaintenanceFlag;

/* A domain whose live contract drains after the run, for drain --wait. */
typedef struct {
	virDomainPtr domain;         /* a reference of its own */
	unsigned long long min_bytes; /* the live contract's min: the target */
} VirtOmemMaintenanceTarget;

/* One maintenance command. */
typedef struct {
	const VirtOmemCommand *command;
	VirtOmemMaintenanceFlag flag;
	bool set;            /* true: freeze, drain; false: thaw, undrain */
	const char *done;    /* stdout word(s) after "DOMAIN: " once switched */
	const char *already; /* ... when every side already was as asked */
	bool show_min;       /* append " to min SIZE" (drain) */
	/* drain --wait: called with the VirtOmemMaintenanceTarget of every
	 * domain now draining live; returns an exit code after reporting.
	 * NULL: the command has no --wait. */
	int (*wait)(GPtrArray *targets, unsigned long long timeout_ms);
} VirtOmemMaintenance;

/* The options every maintenance command takes, for its help text. */
#define VIRT_OMEM_MAINTENANCE_HELP                                                            \
	"  --all               every running omem domain of the connection instead of\n"     \
	"                      DOMAINs (other domains are left out silently)\n"             \
	"  --live              change the running domain's contract\n"                       \
	"  --config            change the persistent definition's contract\n"                \
	"  --current           the running domain's if it runs, else the definition's\n"     \
	"                      (default; not with --live or --config)\n"

/* Parse the command line, select the domains and switch the flag on
 * each, one stdout line per domain and one stderr line per failure.
 * Returns the exit code: 0 when every domain is as asked; 2 when nothing
 * was changed because of bad input (a refused state, an unknown or
 * non-omem domain); 3 when --wait timed out; 1 otherwise. */
int virt_omem_maintenance_run(const VirtOmemMaintenance *maintenance,
			      const VirtOmemGlobal *global, int argc, char **argv);

#endif /* VIRT_OMEM_MAINTENANCE_H */
