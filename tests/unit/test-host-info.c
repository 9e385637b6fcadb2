/* SPDX-License-Identifier: MIT */
/*
 * test-host-info: the readers of /proc/meminfo and /proc/pressure/memory
 * (host-server/formats/host-info.c) on real samples (a Debian 12 host, the 6.18
 * host these tests were written on, a busy host) and on broken ones:
 * missing and doubled lines, other units, overflow of kB * 1024 and of
 * the totals, averages past 100.00, NUL bytes, oversized text.  A refusal
 * must leave the output alone.  Reading the files is test-host-read.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "formats/host-info.h"
#include "tap.h"

#define KIB 1024ull

/* The first lines of this machine's /proc/meminfo (kernel 6.18), cut
 * after SwapFree plus a few more, as the kernel writes them. */
static const char meminfo_real[] =
	"MemTotal:       24684084 kB\n"
	"MemFree:        24328440 kB\n"
	"MemAvailable:   24333928 kB\n"
	"Buffers:            3160 kB\n"
	"Cached:            59464 kB\n"
	"SwapCached:            0 kB\n"
	"Active:            23728 kB\n"
	"Active(anon):       1540 kB\n"
	"Unevictable:       14788 kB\n"
	"SwapTotal:             0 kB\n"
	"SwapFree:              0 kB\n"
	"Zswap:                 0 kB\n"
	"HugePages_Total:       0\n"
	"HugePages_Free:        0\n"
	"Hugepagesize:       2048 kB\n"
	"DirectMap1G:    23068672 kB\n";

/* A host with swap and numbers wider than the kernel's 8-column pad. */
static const char meminfo_swap[] =
	"MemTotal:       1056589212 kB\n"
	"MemFree:          812345 kB\n"
	"MemAvailable:   901234567 kB\n"
	"SwapTotal:       8388604 kB\n"
	"SwapFree:        8123456 kB\n";

static const char psi_real[] =
	"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

static const char psi_busy[] =
	"some avg10=12.34 avg60=5.06 avg300=0.99 total=123456789\n"
	"full avg10=100.00 avg60=3.00 avg300=0.10 total=18446744073709551615\n";

static HostMeminfo meminfo_untouched(void)
{
	HostMeminfo m;

	memset(&m, 0xa5, sizeof(m));
	return m;
}

/* Parse @text (a C string) expecting success; returns whether it did. */
static bool meminfo_ok(const char *text, HostMeminfo *ret)
{
	g_autoptr(GError) error = NULL;
	bool ok = host_info_parse_meminfo(text, strlen(text), ret, &error);

	if (!ok)
		tap_diag("unexpected error: %s", error->message);
	return ok;
}

/* Parse @text expecting refusal with @code and an untouched output. */
static void meminfo_refused(const char *text, gsize len, HostInfoError code, const char *name)
{
	g_autoptr(GError) error = NULL;
	HostMeminfo m = meminfo_untouched(), want = meminfo_untouched();
	bool ok = host_info_parse_meminfo(text, len, &m, &error);

	tap_ok(!ok && g_error_matches(error, HOST_INFO_ERROR, code) &&
	       !memcmp(&m, &want, sizeof(m)), "meminfo refused: %s", name);
	if (error)
		tap_diag("%s", error->message);
}

static void test_meminfo(void)
{
	HostMeminfo m = { 0 };

	tap_ok(meminfo_ok(meminfo_real, &m) && m.total_bytes == 24684084 * KIB &&
	       m.available_bytes == 24333928 * KIB && m.swap_total_bytes == 0 &&
	       m.swap_free_bytes == 0, "meminfo: this machine's sample");
	tap_ok(meminfo_ok(meminfo_swap, &m) && m.total_bytes == 1056589212 * KIB &&
	       m.available_bytes == 901234567 * KIB && m.swap_total_bytes == 8388604 * KIB &&
	       m.swap_free_bytes == 8123456 * KIB, "meminfo: 1 TiB host with swap");
	tap_ok(meminfo_ok("MemTotal: 4 kB\nMemAvailable: 3 kB\nSwapTotal: 2 kB\nSwapFree: 1 kB", &m) &&
	       m.swap_free_bytes == 1 * KIB, "meminfo: last line without a newline");
	tap_ok(meminfo_ok("junk\n\n\xff\xfe\nMemTotal: 4 kB\nFoo: bar baz\nMemAvailable: 3 kB\n"
			  "MemTotalX: 9 kB\nSwapTotal: 2 kB\nHugePages_Total: 7\nSwapFree: 1 kB\n", &m) &&
	       m.total_bytes == 4 * KIB, "meminfo: unknown and odd lines are skipped");
	tap_ok(meminfo_ok("MemTotal: 18014398509481983 kB\nMemAvailable: 0 kB\n"
			  "SwapTotal: 0 kB\nSwapFree: 0 kB\n", &m) &&
	       m.total_bytes == 18014398509481983ull * KIB, "meminfo: the largest kB that fits in bytes");
}

static void test_meminfo_broken(void)
{
	static const char tail[] = "MemAvailable: 3 kB\nSwapTotal: 2 kB\nSwapFree: 1 kB\n";
	static const struct {
		const char *first;  /* replaces the MemTotal line */
		HostInfoError code;
		const char *name;
	} cases[] = {
		{ "MemTotal: 18014398509481984 kB\n", HOST_INFO_ERROR_RANGE, "kB * 1024 past 2^64" },
		{ "MemTotal: 99999999999999999999999 kB\n", HOST_INFO_ERROR_RANGE, "kB past 2^64" },
		{ "MemTotal: 12 MB\n", HOST_INFO_ERROR_INVALID, "unit MB" },
		{ "MemTotal: 12\n", HOST_INFO_ERROR_INVALID, "no unit" },
		{ "MemTotal:12 kB\n", HOST_INFO_ERROR_INVALID, "no blank after the colon" },
		{ "MemTotal:\t12 kB\n", HOST_INFO_ERROR_INVALID, "a tab after the colon" },
		{ "MemTotal: -12 kB\n", HOST_INFO_ERROR_INVALID, "a sign" },
		{ "MemTotal: 0x10 kB\n", HOST_INFO_ERROR_INVALID, "hexadecimal" },
		{ "MemTotal: 12 kB extra\n", HOST_INFO_ERROR_INVALID, "text after kB" },
		{ "MemTotal: 12 kB \n", HOST_INFO_ERROR_INVALID, "a blank after kB" },
		{ "MemTotal: 12 kB\r\n", HOST_INFO_ERROR_INVALID, "CRLF" },
		{ "MemTotal:  kB\n", HOST_INFO_ERROR_INVALID, "no digits" },
		{ "MemTotal: 1 kB\nMemTotal: 1 kB\n", HOST_INFO_ERROR_INVALID, "MemTotal twice" },
		{ "", HOST_INFO_ERROR_MISSING, "no MemTotal" },
		{ "MemTotalX: 1 kB\n", HOST_INFO_ERROR_MISSING, "only a longer key" },
		{ "memtotal: 1 kB\n", HOST_INFO_ERROR_MISSING, "key in the wrong case" },
	};
	g_autofree char *huge = NULL;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strconcat(cases[i].first, tail, NULL);

		meminfo_refused(text, strlen(text), cases[i].code, cases[i].name);
	}
	meminfo_refused("", 0, HOST_INFO_ERROR_MISSING, "empty text");
	{
		static const char no_available[] = "MemTotal: 4 kB\nSwapTotal: 2 kB\nSwapFree: 1 kB\n";

		meminfo_refused(no_available, sizeof(no_available) - 1, HOST_INFO_ERROR_MISSING,
				"no MemAvailable (kernel before 3.14)");
	}
	/* The real sample with a digit of MemTotal replaced by a NUL. */
	{
		char text[sizeof(meminfo_real)];

		memcpy(text, meminfo_real, sizeof(text));
		text[20] = '\0';
		meminfo_refused(text, sizeof(text) - 1, HOST_INFO_ERROR_INVALID, "a NUL byte inside");
	}
	huge = g_malloc(HOST_INFO_TEXT_MAX + 1);
	memset(huge, '\n', HOST_INFO_TEXT_MAX + 1);
	memcpy(huge, meminfo_real, sizeof(meminfo_real) - 1);
	meminfo_refused(huge, HOST_INFO_TEXT_MAX + 1, HOST_INFO_ERROR_INVALID, "longer than 64 KiB");
	{
		HostMeminfo m;
		g_autoptr(GError) error = NULL;

		tap_ok(host_info_parse_meminfo(huge, HOST_INFO_TEXT_MAX, &m, &error),
		       "meminfo: exactly 64 KiB is accepted");
	}
}

static void psi_refused(const char *text, HostInfoError code, const char *name)
{
	g_autoptr(GError) error = NULL;
	HostPsi psi, want;
	bool ok;

	memset(&psi, 0x5a, sizeof(psi));
	memcpy(&want, &psi, sizeof(psi));
	ok = host_info_parse_psi(text, strlen(text), &psi, &error);
	tap_ok(!ok && g_error_matches(error, HOST_INFO_ERROR, code) && !memcmp(&psi, &want, sizeof(psi)),
	       "pressure refused: %s", name);
	if (error)
		tap_diag("%s", error->message);
}

static void test_psi(void)
{
	static const struct {
		const char *text;
		HostInfoError code;
		const char *name;
	} broken[] = {
		{ "some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_RANGE, "avg10 100.01" },
		{ "some avg10=1000.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_RANGE, "avg10 1000.00" },
		{ "some avg10=99999999999999999999.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_RANGE, "avg10 with 20 digits" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", HOST_INFO_ERROR_RANGE, "total 2^64" },
		{ "some avg10=1.5 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "one decimal" },
		{ "some avg10=1.500 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "three decimals" },
		{ "some avg10=1 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "no decimals" },
		{ "some avg10=.50 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "no whole part" },
		{ "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "negative" },
		{ "some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "fields swapped" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00\n", HOST_INFO_ERROR_INVALID, "no total" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=\n", HOST_INFO_ERROR_INVALID, "empty total" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 \n", HOST_INFO_ERROR_INVALID, "trailing blank" },
		{ "some avg10=0.00  avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "two blanks" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 extra=1\n", HOST_INFO_ERROR_INVALID, "an extra field" },
		{ "some \n", HOST_INFO_ERROR_INVALID, "an empty some line" },
		{ "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_MISSING, "only a full line" },
		{ "", HOST_INFO_ERROR_MISSING, "empty text" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		  "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "some twice" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", HOST_INFO_ERROR_INVALID, "full twice" },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		  "full avg10=0.00 avg60=0.00 avg300=0.00 total=x\n", HOST_INFO_ERROR_INVALID, "broken full line" },
	};
	static const char psi_odd[] = "cpu stuff\nsomething avg10=x\n\n"
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfully bogus\n";
	g_autoptr(GError) error = NULL;
	HostPsi psi;

	tap_ok(host_info_parse_psi(psi_real, strlen(psi_real), &psi, &error) && psi.full_known &&
	       psi.some.avg10 == 0 && psi.some.total_us == 0 && psi.full.avg300 == 0,
	       "pressure: this machine's sample (idle)");
	tap_ok(host_info_parse_psi(psi_busy, strlen(psi_busy), &psi, &error) &&
	       psi.some.avg10 == 1234 && psi.some.avg60 == 506 && psi.some.avg300 == 99 &&
	       psi.some.total_us == 123456789 && psi.full_known && psi.full.avg10 == 10000 &&
	       psi.full.avg60 == 300 && psi.full.avg300 == 10 && psi.full.total_us == UINT64_MAX,
	       "pressure: busy host, 100.00 and the largest total");
	tap_ok(host_info_parse_psi(psi_busy, strlen(psi_busy) - 1, &psi, &error) &&
	       psi.full.total_us == UINT64_MAX, "pressure: last line without a newline");
	tap_ok(host_info_parse_psi("some avg10=0.10 avg60=0.00 avg300=0.00 total=42", 47, &psi, &error) &&
	       !psi.full_known && psi.full.total_us == 0 && psi.some.avg10 == 10 && psi.some.total_us == 42,
	       "pressure: no full line (older kernels) is fine");
	tap_ok(host_info_parse_psi(psi_odd, sizeof(psi_odd) - 1, &psi, &error) &&
	       psi.some.total_us == 1 && !psi.full_known, "pressure: unknown lines are skipped");
	if (error)
		tap_diag("%s", error->message);

	for (unsigned i = 0; i < G_N_ELEMENTS(broken); i++)
		psi_refused(broken[i].text, broken[i].code, broken[i].name);
}

int main(void)
{
	test_meminfo();
	test_meminfo_broken();
	test_psi();
	return tap_done();
}
