/* SPDX-License-Identifier: MIT */
/*
 * omemd-config: omemd's settings, their defaults and the strict reader of
 * omemd.conf (GKeyFile).  Every key is documented in docs/omemd.md and in
 * host-server/omemd.conf.  A bad group, key or value fails with
 * "FILE:LINE: ..." so an operator finds it at once.  Pure: parses text
 * handed in; main.c reads the file.
 */
#ifndef OMEM_OMEMD_CONFIG_H
#define OMEM_OMEMD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "omem-size.h"

/* Where omemd looks when --config is not given; a missing file there is
 * fine (defaults apply), a missing --config file is not. */
#define OMEMD_CONFIG_DEFAULT_PATH "/etc/omem/omemd.conf"

/* Log levels, most severe first. */
typedef enum {
	OMEMD_LOG_ERROR,
	OMEMD_LOG_WARNING,
	OMEMD_LOG_INFO,
	OMEMD_LOG_DEBUG,
} OmemdLogLevel;

typedef struct {
	/* [host] */
	bool budget_auto;             /* budget = (MemTotal - reserve) * overcommit */
	uint64_t budget_bytes;        /* host memory for omem VMs: boot + plugged + overhead, all together */
	uint64_t reserve_bytes;       /* kept for the host itself when budget is auto */
	uint32_t overcommit_percent;  /* auto budget factor, 100 = 1.0 */
	uint64_t vm_overhead_bytes;   /* charged per VM for QEMU's own memory */
	uint64_t host_low_bytes;      /* MemAvailable below this: the host is short */
	uint32_t psi_limit_percent;   /* memory PSI "some" avg10 above this: the host is short */
	char *qemu_user;              /* owner of the ivshmem sockets: the uid QEMU runs as */
	char *status_group;           /* group that may read status.sock (root only if it does not exist) */
	/* [daemon] */
	char *run_dir;                /* sockets and pid file */
	char *connect;                /* libvirt URI */
	char *domains;                /* glob: only domains whose name matches are managed (tests share a libvirtd) */
	OmemdLogLevel log_level;
	/* [transport] */
	uint32_t region_size;         /* shared region per VM, power of two, 4 KiB..1 MiB */
	bool allow_root;              /* also accept a root QEMU on the ivshmem sockets */
	uint32_t eject_timeout_s;     /* bound on a detach of a stale <shmem> */
	/* [policy] */
	uint64_t grant_step_bytes;    /* requested rounded up to this */
	uint64_t grant_minimum_bytes; /* smaller partial grants become DENY */
	uint64_t shrink_step_bytes;   /* most unplugged per decision */
	uint32_t demand_interval_ms;  /* DEMAND spacing, told to the guest in WELCOME */
	uint32_t stats_interval_ms;   /* STATS period, told to the guest */
	uint32_t hello_timeout_s;     /* no HELLO by then: plug min and hold */
	uint32_t unplug_retry_s;      /* a stalled unplug is re-issued after this (doubling) */
	uint32_t unplug_retry_max_s;  /* ... up to this */
	uint32_t retry_after_ms;      /* DENY BUDGET/BUSY retry_after told to the guest */
	uint32_t rate_per_s;          /* messages per second per VM */
	uint32_t rate_burst;          /* message bucket size */
	uint32_t rate_strikes;        /* consecutive refused messages before cut-off */
	uint32_t error_limit;         /* protocol errors per connection before cut-off */
	uint32_t idle_tax_percent;    /* idle memory costs 1/(1-tax) as much as used memory */
	uint32_t report_ttl_ms;       /* a guest report older than this is not trusted */
	uint32_t retry_reclaim_ms;    /* DENY retry_after while memory is reclaimed elsewhere */
	uint32_t admission_ttl_ms;    /* an admitted VM's reservation lasts this long before it runs */
	/* [trust] (host-server/arbiter/trust.h) */
	uint32_t trust_strikes;       /* contradictions within the window that lower trust */
	uint32_t trust_window_s;      /* strikes older than this are forgotten */
	uint32_t trust_distrust_s;    /* lowered trust lasts this long after the last strike */
	uint64_t trust_step_bytes;    /* a distrusted guest gets at most this ... */
	uint32_t trust_interval_ms;   /* ... per this */
	/* [metrics] */
	char *metrics_listen;         /* "127.0.0.1:9848", "[::1]:9848" or "off" */
} OmemdConfig;

/* Fill @config with every default. */
void omemd_config_init(OmemdConfig *config);

/* A deep copy of @src into @dest (overwritten, not freed first). */
void omemd_config_copy(OmemdConfig *dest, const OmemdConfig *src);

/* Free the strings; the struct itself is the caller's. */
void omemd_config_clear(OmemdConfig *config);

/* Apply the key file text @data (named @file_name in messages) on top of
 * what @config holds.  Unknown groups and keys, bad values and syntax
 * errors fail with G_KEY_FILE_ERROR and "FILE:LINE: what, want what";
 * @config is then unchanged. */
bool omemd_config_load_data(OmemdConfig *config, const char *data, gsize length,
			    const char *file_name, GError **error);

/* omemd.conf's and --budget's reading of omem's one size grammar
 * (omem-size.h): a number without a unit is bytes, as omemd.conf always
 * took it (virsh's commands take KiB), a blank may stand before the unit
 * ("512 M", as it always took), and the decimal units KB/MB/GB are
 * refused rather than guessed (the file never took them; 4GB there almost
 * surely means 4 GiB).  Returns 0, -EINVAL or -ERANGE. */
#define OMEMD_CONFIG_SIZE_FLAGS (OMEM_SIZE_BARE_BYTES | OMEM_SIZE_BINARY_ONLY | OMEM_SIZE_BLANKS)
int omemd_config_parse_size(const char *text, uint64_t *ret_bytes);

/* "error", "warning", "info", "debug" -> level; -EINVAL otherwise. */
int omemd_config_parse_log_level(const char *text, OmemdLogLevel *ret_level);

#endif /* OMEM_OMEMD_CONFIG_H */
