/* SPDX-License-Identifier: MIT */
/*
 * test-omemd-config: omemd.conf's reader (host-server/daemon/omemd.config.c):
 * defaults, every kind of value, and FILE:LINE on each kind of mistake,
 * leaving the config as it was.  The example host-server/daemon/omemd.conf must
 * load and equal the defaults.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "formats/omemd-config.h"
#include "tap.h"

#define MIB (1024ull * 1024)

/* Load @text into a default config; the error message or NULL. */
static char *load(OmemdConfig *config, const char *text)
{
	g_autoptr(GError) error = NULL;

	omemd_config_init(config);
	if (omemd_config_load_data(config, text, strlen(text), "omemd.conf", &error))
		return NULL;
	return g_strdup(error->message);
}

static void expect_error(const char *text, const char *want, const char *what)
{
	OmemdConfig config;
	g_autofree char *message = load(&config, text);

	if (!tap_ok(message && strstr(message, want), "%s", what))
		tap_diag("message: %s (want \"%s\")", message ? message : "(none)", want);
	tap_ok(config.budget_auto && config.grant_step_bytes == 128 * MIB,
	       "... the config is left as it was");
	omemd_config_clear(&config);
}

int main(void)
{
	OmemdConfig config, defaults;
	g_autofree char *message = NULL, *example = NULL;
	gsize length;
	uint64_t bytes;

	omemd_config_init(&defaults);
	tap_ok(defaults.budget_auto, "default budget: auto");
	tap_ok(!strcmp(defaults.run_dir, "/run/omem"), "default run_dir /run/omem");
	tap_ok(!strcmp(defaults.connect, "qemu:///system"), "default connect qemu:///system");
	tap_eq(defaults.grant_step_bytes, 128 * MIB, "default grant_step 128 MiB");

	message = load(&config, "");
	tap_ok(!message, "an empty file is all defaults");
	omemd_config_clear(&config);

	message = load(&config, "# omemd\n[host]\nbudget = 3G\nreserve=512M\n\n[daemon]\n"
				"run_dir=/var/tmp/x\nlog_level = debug\n[transport]\nregion_size=4K\n"
				"allow_root=true\n[policy]\ngrant_step=256MiB\nhello_timeout_s=5\n");
	tap_ok(!message, "a full file loads (%s)", message ? message : "ok");
	tap_ok(!config.budget_auto && config.budget_bytes == 3ull << 30, "budget 3G");
	tap_eq(config.reserve_bytes, 512 * MIB, "reserve 512M");
	tap_ok(!strcmp(config.run_dir, "/var/tmp/x"), "run_dir");
	tap_eq(config.log_level, OMEMD_LOG_DEBUG, "log_level debug");
	tap_eq(config.region_size, 4096, "region_size 4K");
	tap_ok(config.allow_root, "allow_root true");
	tap_eq(config.grant_step_bytes, 256 * MIB, "grant_step 256MiB");
	tap_eq(config.hello_timeout_s, 5, "hello_timeout_s 5");
	omemd_config_clear(&config);
	g_clear_pointer(&message, g_free);

	message = load(&config, "[host]\nbudget=auto\n");
	tap_ok(!message && config.budget_auto, "budget = auto");
	omemd_config_clear(&config);

	message = load(&config, "[trust]\nstrikes = 5\nstrike_window_s = 60\ndistrust_s = 3600\n"
				"distrusted_step = 256M\ndistrusted_interval_ms = 5000\n");
	tap_ok(!message && config.trust_strikes == 5 && config.trust_window_s == 60 &&
	       config.trust_distrust_s == 3600 && config.trust_step_bytes == 256 * MIB &&
	       config.trust_interval_ms == 5000, "[trust] keys load (%s)", message ? message : "ok");
	omemd_config_clear(&config);
	g_clear_pointer(&message, g_free);
	expect_error("[trust]\nstrikes = 17\n", "omemd.conf:2: [trust] strikes",
		     "[trust] strikes above 16 (the strikes remembered)");
	expect_error("[trust]\ndistrusted_step = 1M\n", "omemd.conf:2: [trust] distrusted_step",
		     "[trust] distrusted_step under a block");

	expect_error("[host]\nbudget = lots\n", "omemd.conf:2: [host] budget", "bad budget: file:line");
	expect_error("[host]\n\n# x\n[policy]\ngrant_step = 1M\n", "omemd.conf:5:",
		     "grant_step below a block: line 5");
	expect_error("[policy]\nfrobnicate = 1\n", "omemd.conf:2: unknown key frobnicate",
		     "unknown key: named with its line");
	expect_error("[host]\n[nope]\nx=1\n", "omemd.conf:2: unknown group [nope]",
		     "unknown group: named with its line");
	expect_error("[host]\nthis is not a key\n", "omemd.conf:2:", "syntax error: its line");
	expect_error("[transport]\nregion_size = 3000\n", "power of two",
		     "region_size not a power of two");
	expect_error("[transport]\nregion_size = 2M\n", "omemd.conf:2:", "region_size above 1 MiB");
	expect_error("[policy]\nhello_timeout_s = -1\n", "whole number", "a negative number");
	expect_error("[policy]\nhello_timeout_s = 99999999999\n", "omemd.conf:2:", "a number too big");
	expect_error("[daemon]\nlog_level = loud\n", "error, warning, info or debug", "bad log level");
	expect_error("[transport]\nallow_root = maybe\n", "true or false", "bad boolean");

	tap_eq(omemd_config_parse_size("1t", &bytes), 0, "1t parses");
	tap_eq(bytes, 1ull << 40, "... 1 TiB");
	tap_eq(omemd_config_parse_size("99999999999T", &bytes), -ERANGE, "overflow refused");
	tap_eq(omemd_config_parse_size("-1", &bytes), -EINVAL, "a sign is refused");
	tap_eq(omemd_config_parse_size("12 MB", &bytes), -EINVAL, "decimal units are refused");

	/* The shipped example loads and says what the defaults are. */
	if (g_file_get_contents(OMEMD_CONF, &example, &length, NULL)) {
		g_autoptr(GError) error = NULL;

		omemd_config_init(&config);
		tap_ok(omemd_config_load_data(&config, example, length, "omemd.conf", &error),
		       "host-server/daemon/omemd.conf loads (%s)", error ? error->message : "ok");
		tap_ok(config.budget_auto == defaults.budget_auto &&
		       config.reserve_bytes == defaults.reserve_bytes &&
		       config.region_size == defaults.region_size &&
		       config.grant_step_bytes == defaults.grant_step_bytes &&
		       config.shrink_step_bytes == defaults.shrink_step_bytes &&
		       config.hello_timeout_s == defaults.hello_timeout_s &&
		       config.unplug_retry_s == defaults.unplug_retry_s &&
		       config.rate_per_s == defaults.rate_per_s &&
		       config.error_limit == defaults.error_limit &&
		       config.demand_interval_ms == defaults.demand_interval_ms &&
		       config.trust_strikes == defaults.trust_strikes &&
		       config.trust_window_s == defaults.trust_window_s &&
		       config.trust_distrust_s == defaults.trust_distrust_s &&
		       config.trust_step_bytes == defaults.trust_step_bytes &&
		       config.trust_interval_ms == defaults.trust_interval_ms &&
		       !strcmp(config.run_dir, defaults.run_dir),
		       "... and shows the defaults");
		omemd_config_clear(&config);
	} else {
		tap_ok(0, "host-server/daemon/omemd.conf is readable");
	}
	omemd_config_clear(&defaults);
	return tap_done();
}
