/* SPDX-License-Identifier: MIT */
/*
 * omemd-config: defaults and the strict reader of omemd.conf (see
 * omemd-config.h; every key is documented in docs/omemd.md).
 */
#include "config.h"

#include "formats/omemd-config.h"

#include <errno.h>
#include <string.h>

#include <omem/rpc.h>

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)

void omemd_config_init(OmemdConfig *config)
{
	*config = (OmemdConfig){
		.budget_auto = true,
		/* 1 GiB left to the host and QEMU's own overhead when the
		 * budget follows MemAvailable. */
		.reserve_bytes = 1 * GIB,
		.overcommit_percent = 100,
		/* QEMU's own resident memory beside guest RAM: ~60 MiB for
		 * a small KVM guest, more under TCG; 128 MiB errs safe. */
		.vm_overhead_bytes = 128 * MIB,
		/* Below 512 MiB available, or 10 % of the time stalled on
		 * memory, the host itself needs it more than any guest. */
		.host_low_bytes = 512 * MIB,
		.psi_limit_percent = 10,
		.qemu_user = g_strdup("libvirt-qemu"),
		.status_group = g_strdup("omem"),
		.run_dir = g_strdup("/run/omem"),
		.connect = g_strdup("qemu:///system"),
		.domains = g_strdup("*"),
		.log_level = OMEMD_LOG_INFO,
		/* 64 KiB: 2 x 127 slots, far more than one guest needs in
		 * flight, and well inside the bridge window. */
		.region_size = 64 * 1024,
		.allow_root = false,
		/* libvirt waits 5 s for the guest's ACPI eject itself; a busy
		 * TCG guest can take longer, past 30 s it will not come. */
		.eject_timeout_s = 30,
		/* 128 MiB: the guest onlines whole memory blocks of this size;
		 * a grant that ends mid-block wastes the block's memmap. */
		.grant_step_bytes = 128 * MIB,
		/* One virtio-mem block: anything smaller cannot be plugged. */
		.grant_minimum_bytes = 2 * MIB,
		/* 256 MiB per step: an unplug of this size takes ~1 s on an
		 * idle TCG guest, so a wrong guess costs little. */
		.shrink_step_bytes = 256 * MIB,
		/* The guest may ask every 100 ms: plugging takes ~80 ms. */
		.demand_interval_ms = 100,
		/* One STATS per second, like Hyper-V's pressure reports. */
		.stats_interval_ms = 1000,
		/* A TCG boot to /init takes ~7 s plus the module's backoff. */
		.hello_timeout_s = 60,
		/* The guest's virtio_mem retries a stalled unplug only after
		 * ~50 s by itself; re-issuing makes it retry at once. */
		.unplug_retry_s = 10,
		.unplug_retry_max_s = 120,
		.retry_after_ms = 1000,
		/* Far above what a sane guest sends (STATS once a second, a
		 * DEMAND per 100 ms, PINGs for the benchmark), far below what
		 * would cost omemd real CPU. */
		.rate_per_s = 2000,
		.rate_burst = 4000,
		.rate_strikes = 64,
		.error_limit = 8,
		/* ESX's default: idle memory costs four times used memory. */
		.idle_tax_percent = 75,
		/* The guest sends STATS every second and SURPLUS every ~10 s:
		 * 30 s without one means it is not talking. */
		.report_ttl_ms = 30000,
		/* An unplug step takes ~1 s on TCG. */
		.retry_reclaim_ms = 500,
		/* libvirt's prepare -> QEMU running takes seconds; 2 min is
		 * generous. */
		.admission_ttl_ms = 120000,
		/* Three contradictions in two minutes: one is a race, three
		 * are a habit; ten minutes of lowered trust, one 128 MiB
		 * step per 10 s meanwhile (what an honest workload under a
		 * distrusted guest still needs to make progress). */
		.trust_strikes = 3,
		.trust_window_s = 120,
		.trust_distrust_s = 600,
		.trust_step_bytes = 128 * MIB,
		.trust_interval_ms = 10000,
		.metrics_listen = g_strdup("127.0.0.1:9848"),
	};
}

void omemd_config_clear(OmemdConfig *config)
{
	g_clear_pointer(&config->qemu_user, g_free);
	g_clear_pointer(&config->status_group, g_free);
	g_clear_pointer(&config->run_dir, g_free);
	g_clear_pointer(&config->connect, g_free);
	g_clear_pointer(&config->domains, g_free);
	g_clear_pointer(&config->metrics_listen, g_free);
}

void omemd_config_copy(OmemdConfig *dest, const OmemdConfig *src)
{
	*dest = *src;
	dest->qemu_user = g_strdup(src->qemu_user);
	dest->status_group = g_strdup(src->status_group);
	dest->run_dir = g_strdup(src->run_dir);
	dest->connect = g_strdup(src->connect);
	dest->domains = g_strdup(src->domains);
	dest->metrics_listen = g_strdup(src->metrics_listen);
}

int omemd_config_parse_size(const char *text, uint64_t *ret_bytes)
{
	unsigned long long bytes;
	int r;

	r = omem_size_parse(text, OMEMD_CONFIG_SIZE_FLAGS, &bytes, NULL, 0);
	if (r < 0)
		return r;
	*ret_bytes = bytes;
	return 0;
}

int omemd_config_parse_log_level(const char *text, OmemdLogLevel *ret_level)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!g_ascii_strcasecmp(text, names[i])) {
			*ret_level = (OmemdLogLevel)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Kinds of values a key takes. */
typedef enum {
	KEY_SIZE,        /* omemd_config_parse_size */
	KEY_BUDGET,      /* "auto" or a size */
	KEY_UINT,        /* decimal, bounds below */
	KEY_BOOL,        /* true/false */
	KEY_STRING,      /* non-empty, one line */
	KEY_LOG_LEVEL,
	KEY_REGION,      /* a size, power of two within the rpc.h bounds */
	KEY_FACTOR,      /* a decimal factor like 1.5, stored in percent */
} KeyKind;

/* One known key: where it goes and what it accepts. */
typedef struct {
	const char *group;
	const char *key;
	KeyKind kind;
	size_t offset;       /* into OmemdConfig */
	uint64_t min, max;   /* KEY_UINT and KEY_SIZE bounds */
} KeySpec;

#define KEY(g, k, kind, field, lo, hi) { g, k, kind, offsetof(OmemdConfig, field), lo, hi }

static const KeySpec omemd_config_keys[] = {
	KEY("host", "budget", KEY_BUDGET, budget_bytes, 0, UINT64_MAX),
	KEY("host", "reserve", KEY_SIZE, reserve_bytes, 0, UINT64_MAX),
	KEY("host", "qemu_user", KEY_STRING, qemu_user, 0, 0),
	KEY("host", "status_group", KEY_STRING, status_group, 0, 0),
	KEY("host", "overcommit", KEY_FACTOR, overcommit_percent, 100, 1000),
	KEY("host", "vm_overhead", KEY_SIZE, vm_overhead_bytes, 0, 64 * GIB),
	KEY("host", "host_low", KEY_SIZE, host_low_bytes, 0, UINT64_MAX),
	KEY("host", "psi_limit", KEY_UINT, psi_limit_percent, 1, 100),
	KEY("daemon", "run_dir", KEY_STRING, run_dir, 0, 0),
	KEY("daemon", "connect", KEY_STRING, connect, 0, 0),
	KEY("daemon", "domains", KEY_STRING, domains, 0, 0),
	KEY("daemon", "log_level", KEY_LOG_LEVEL, log_level, 0, 0),
	KEY("transport", "region_size", KEY_REGION, region_size, 0, 0),
	KEY("transport", "allow_root", KEY_BOOL, allow_root, 0, 0),
	KEY("transport", "eject_timeout_s", KEY_UINT, eject_timeout_s, 1, 3600),
	KEY("policy", "grant_step", KEY_SIZE, grant_step_bytes, 2 * MIB, 64 * GIB),
	KEY("policy", "grant_minimum", KEY_SIZE, grant_minimum_bytes, 0, 64 * GIB),
	KEY("policy", "shrink_step", KEY_SIZE, shrink_step_bytes, 2 * MIB, UINT64_MAX),
	KEY("policy", "demand_interval_ms", KEY_UINT, demand_interval_ms, 0, 60000),
	KEY("policy", "stats_interval_ms", KEY_UINT, stats_interval_ms, 0, 3600000),
	KEY("policy", "hello_timeout_s", KEY_UINT, hello_timeout_s, 1, 86400),
	KEY("policy", "unplug_retry_s", KEY_UINT, unplug_retry_s, 1, 3600),
	KEY("policy", "unplug_retry_max_s", KEY_UINT, unplug_retry_max_s, 1, 86400),
	KEY("policy", "retry_after_ms", KEY_UINT, retry_after_ms, 0, 600000),
	KEY("policy", "rate_per_s", KEY_UINT, rate_per_s, 1, 1000000),
	KEY("policy", "rate_burst", KEY_UINT, rate_burst, 1, 1000000),
	KEY("policy", "rate_strikes", KEY_UINT, rate_strikes, 1, 1000000),
	KEY("policy", "error_limit", KEY_UINT, error_limit, 1, 1000000),
	KEY("policy", "idle_tax_percent", KEY_UINT, idle_tax_percent, 0, 95),
	KEY("policy", "report_ttl_ms", KEY_UINT, report_ttl_ms, 1000, 3600000),
	KEY("policy", "retry_reclaim_ms", KEY_UINT, retry_reclaim_ms, 10, 600000),
	KEY("policy", "admission_ttl_ms", KEY_UINT, admission_ttl_ms, 1000, 3600000),
	KEY("trust", "strikes", KEY_UINT, trust_strikes, 1, 16),
	KEY("trust", "strike_window_s", KEY_UINT, trust_window_s, 1, 86400),
	KEY("trust", "distrust_s", KEY_UINT, trust_distrust_s, 1, 604800),
	KEY("trust", "distrusted_step", KEY_SIZE, trust_step_bytes, 2 * MIB, 64 * GIB),
	KEY("trust", "distrusted_interval_ms", KEY_UINT, trust_interval_ms, 100, 3600000),
	KEY("metrics", "listen", KEY_STRING, metrics_listen, 0, 0),
};

/* The 1-based line of "[group]" (key NULL) or of "key=" inside [group];
 * 0 if not found.  GKeyFile keeps no line numbers, so they are looked up
 * in the text for the message. */
static unsigned omemd_config_find_line(const char *data, const char *group, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	g_autofree char *header = g_strdup_printf("[%s]", group);
	bool inside = false;
	unsigned found = 0;

	for (unsigned i = 0; lines[i]; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));

		if (line[0] == '[') {
			inside = !strcmp(line, header);
			if (inside && !key && !found)
				found = i + 1;
			continue;
		}
		if (inside && key && g_str_has_prefix(line, key)) {
			const char *rest = line + strlen(key);

			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (*rest == '=')
				found = i + 1; /* GKeyFile keeps the last one */
		}
	}
	return found;
}

/* The first line GKeyFile cannot accept, for a syntax error's message. */
static unsigned omemd_config_find_bad_line(const char *data)
{
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

	for (unsigned i = 0; lines[i]; i++) {
		g_autofree char *line = g_strstrip(g_strdup(lines[i]));

		if (!line[0] || line[0] == '#')
			continue;
		if (line[0] == '[') {
			if (line[strlen(line) - 1] != ']' || strlen(line) < 3)
				return i + 1;
			continue;
		}
		if (!strchr(line, '=') || line[0] == '=')
			return i + 1;
	}
	return 0;
}

static bool omemd_config_fail(GError **error, const char *file_name, unsigned line,
			      const char *format, ...) G_GNUC_PRINTF(4, 5);

static bool omemd_config_fail(GError **error, const char *file_name, unsigned line,
			      const char *format, ...)
{
	g_autofree char *text = NULL, *what = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* Names and values quoted from the file may be any bytes (a value's
	 * "\n" is a newline once read): the message that reaches the log
	 * stays one line of valid UTF-8. */
	what = g_utf8_make_valid(text, -1);
	for (char *c = what; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	}
	if (line)
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s:%u: %s",
			    file_name, line, what);
	else
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: %s",
			    file_name, what);
	return false;
}

static const KeySpec *omemd_config_key(const char *group, const char *key)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(omemd_config_keys); i++) {
		const KeySpec *spec = &omemd_config_keys[i];

		if (!strcmp(spec->group, group) && (!key || !strcmp(spec->key, key)))
			return spec;
	}
	return NULL;
}

/* Store one value into @config; false with the reason in @why. */
static bool omemd_config_apply(OmemdConfig *config, const KeySpec *spec, const char *value,
			       const char **why)
{
	void *field = (char *)config + spec->offset;
	uint64_t number;
	int r;

	switch (spec->kind) {
	case KEY_BUDGET:
		if (!strcmp(value, "auto")) {
			config->budget_auto = true;
			return true;
		}
		if (omemd_config_parse_size(value, &number) < 0) {
			*why = "want \"auto\" or a size like 4G, 512M, 1073741824";
			return false;
		}
		config->budget_auto = false;
		*(uint64_t *)field = number;
		return true;
	case KEY_SIZE:
		r = omemd_config_parse_size(value, &number);
		if (r < 0 || number < spec->min || number > spec->max) {
			*why = "want a size like 128M, 2G or a byte count (K/M/G are 1024-based; KB/MB/GB are refused), within the documented bounds";
			return false;
		}
		*(uint64_t *)field = number;
		return true;
	case KEY_REGION:
		r = omemd_config_parse_size(value, &number);
		if (r < 0 || number < OMEM_RPC_REGION_MIN_SIZE || number > OMEM_RPC_REGION_MAX_SIZE ||
		    (number & (number - 1))) {
			*why = "want a power of two from 4K to 1M";
			return false;
		}
		*(uint32_t *)field = (uint32_t)number;
		return true;
	case KEY_UINT: {
		char *end = NULL;

		errno = 0;
		number = g_ascii_strtoull(value, &end, 10);
		if (!g_ascii_isdigit(value[0]) || *end || errno || number < spec->min ||
		    number > spec->max) {
			*why = "want a whole number within the documented bounds";
			return false;
		}
		*(uint32_t *)field = (uint32_t)number;
		return true;
	}
	case KEY_FACTOR: {
		/* "1", "1.5", "2.25": at most two decimals, kept in percent. */
		unsigned whole = 0, cents = 0, digits = 0;
		const char *c = value;

		if (!g_ascii_isdigit(*c)) {
			*why = "want a factor like 1.0 or 1.5, within the documented bounds";
			return false;
		}
		while (g_ascii_isdigit(*c) && whole < 100000)
			whole = whole * 10 + (unsigned)(*c++ - '0');
		if (*c == '.') {
			c++;
			while (g_ascii_isdigit(*c) && digits < 2) {
				cents = cents * 10 + (unsigned)(*c++ - '0');
				digits++;
			}
			if (digits == 1)
				cents *= 10;
		}
		number = (uint64_t)whole * 100 + cents;
		if (*c || number < spec->min || number > spec->max) {
			*why = "want a factor like 1.0 or 1.5, within the documented bounds";
			return false;
		}
		*(uint32_t *)field = (uint32_t)number;
		return true;
	}
	case KEY_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) {
			*(bool *)field = true;
			return true;
		}
		if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) {
			*(bool *)field = false;
			return true;
		}
		*why = "want true or false";
		return false;
	case KEY_STRING:
		if (!value[0] || strchr(value, '\n')) {
			*why = "want a non-empty value";
			return false;
		}
		g_free(*(char **)field);
		*(char **)field = g_strdup(value);
		return true;
	case KEY_LOG_LEVEL:
		if (omemd_config_parse_log_level(value, (OmemdLogLevel *)field) < 0) {
			*why = "want error, warning, info or debug";
			return false;
		}
		return true;
	}
	*why = "unknown kind";
	return false;
}

bool omemd_config_load_data(OmemdConfig *config, const char *data, gsize length,
			    const char *file_name, GError **error)
{
	g_autoptr(GKeyFile) key_file = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	g_autofree char *text = g_strndup(data, length);
	g_auto(GStrv) groups = NULL;
	OmemdConfig work;

	if (!g_key_file_load_from_data(key_file, text, length, G_KEY_FILE_NONE, &local_error))
		return omemd_config_fail(error, file_name, omemd_config_find_bad_line(text), "%s",
					 local_error->message);

	/* Apply on a copy so a failure leaves @config as it was. */
	omemd_config_copy(&work, config);

	groups = g_key_file_get_groups(key_file, NULL);
	for (unsigned g = 0; groups[g]; g++) {
		g_auto(GStrv) keys = NULL;

		if (!omemd_config_key(groups[g], NULL)) {
			omemd_config_clear(&work);
			return omemd_config_fail(error, file_name,
						 omemd_config_find_line(text, groups[g], NULL),
						 "unknown group [%s]; omemd knows [host], [daemon], [transport], [policy], [trust], [metrics]",
						 groups[g]);
		}
		keys = g_key_file_get_keys(key_file, groups[g], NULL, NULL);
		for (unsigned k = 0; keys && keys[k]; k++) {
			const KeySpec *spec = omemd_config_key(groups[g], keys[k]);
			g_autofree char *value = NULL;
			const char *why = NULL;

			if (!spec) {
				omemd_config_fail(error, file_name,
						  omemd_config_find_line(text, groups[g], keys[k]),
						  "unknown key %s in [%s] (see docs/omemd.md)", keys[k],
						  groups[g]);
				omemd_config_clear(&work);
				return false;
			}
			value = g_key_file_get_string(key_file, groups[g], keys[k], NULL);
			if (value)
				g_strstrip(value);
			if (!value || !omemd_config_apply(&work, spec, value, &why)) {
				omemd_config_fail(error, file_name,
						  omemd_config_find_line(text, groups[g], keys[k]),
						  "[%s] %s = \"%s\": %s", groups[g], keys[k],
						  value ? value : "", why ? why : "not a valid string");
				omemd_config_clear(&work);
				return false;
			}
		}
	}
	omemd_config_clear(config);
	*config = work;
	return true;
}
