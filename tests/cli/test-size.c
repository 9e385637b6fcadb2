/* SPDX-License-Identifier: MIT */
/*
 * Unit test of virt-omem's number parsers
 * (libvirt-driver/virt-omem/virt-omem-parse.c): every unit virsh accepts,
 * the KiB default, and the refusals the issue lists (-1, 1e99, 12Q, empty,
 * 0x10, 2^64 KiB) with a message that names the problem.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "virt-omem-parse.h"

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define TIB (1024ULL * GIB)

static const struct {
	const char *text;
	unsigned long long bytes;
} good_sizes[] = {
	{ "0", 0 },
	{ "1", KIB },                 /* no unit: KiB, as virsh */
	{ "1024", MIB },
	{ "007", 7 * KIB },           /* decimal, never octal */
	{ "1b", 1 }, { "5B", 5 }, { "5byte", 5 }, { "5bytes", 5 }, { "5BYTES", 5 },
	{ "1k", KIB }, { "1K", KIB }, { "1KiB", KIB }, { "1kib", KIB }, { "1KB", 1000 },
	{ "1kb", 1000 },
	{ "1M", MIB }, { "1MiB", MIB }, { "1MB", 1000000 },
	{ "1536M", 1536 * MIB },
	{ "1G", GIB }, { "2GiB", 2 * GIB }, { "1GB", 1000000000 },
	{ "1T", TIB }, { "1TiB", TIB }, { "1TB", 1000000000000ULL },
	{ "1P", 1024 * TIB }, { "1PB", 1000000000000000ULL },
	{ "15E", 15 * 1024 * 1024 * TIB }, { "18EB", 18000000000000000000ULL },
	{ "18446744073709551615b", 18446744073709551615ULL },
	{ "18014398509481983", 18014398509481983ULL * 1024 }, /* 2^54 - 1 KiB */
};

static const struct {
	const char *text;
	const char *must_say; /* a word the message must contain */
} bad_sizes[] = {
	{ "", "empty" },
	{ "-1", "negative" },
	{ "+1", "not a decimal" },
	{ " 1", "not a decimal" },
	{ "1 ", "unknown unit" },
	{ "1e99", "whole number" },
	{ "1.5G", "whole number" },
	{ "12Q", "unknown unit 'Q'" },
	{ "0x10", "hexadecimal" },
	{ "M", "not a decimal" },
	{ "1MiBs", "unknown unit" },
	{ "1Mi", "unknown unit" },
	{ "1iB", "unknown unit" },
	{ "18446744073709551616", "64 bits" },   /* 2^64 (KiB) */
	{ "18014398509481984", "2^64 bytes" },   /* 2^54 KiB = 2^64 bytes */
	{ "16E", "2^64 bytes" },
	{ "99999999999999999999999999G", "64 bits" },
	{ "1\n2", "unknown unit '?2'" },          /* quoted on one line */
	{ "11111111111111111111111111111111111111111111111111111111111111111111", "too long" },
};

static void test_sizes(void)
{
	unsigned long long bytes;
	char error[256];
	size_t i;

	for (i = 0; i < sizeof(good_sizes) / sizeof(good_sizes[0]); i++) {
		bytes = 42;
		error[0] = '\0';
		if (!tap_ok(virt_omem_parse_size(good_sizes[i].text, &bytes, error, sizeof(error)) ==
				    0 && bytes == good_sizes[i].bytes,
			    "size '%s' is %llu bytes", good_sizes[i].text, good_sizes[i].bytes))
			tap_diag("got %llu: %s", bytes, error);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		int r;

		bytes = 42;
		error[0] = '\0';
		r = virt_omem_parse_size(bad_sizes[i].text, &bytes, error, sizeof(error));
		if (!tap_ok(r < 0 && bytes == 42 && strstr(error, bad_sizes[i].must_say) &&
				    !strchr(error, '\n'),
			    "bad size #%zu is refused, saying '%s'", i, bad_sizes[i].must_say))
			tap_diag("returned %d, bytes %llu, message: %s", r, bytes, error);
	}
	tap_ok(virt_omem_parse_size(NULL, &bytes, error, sizeof(error)) < 0, "NULL is refused");
	tap_ok(virt_omem_parse_size("1", &bytes, NULL, 0) == 0, "no error buffer is fine");
}

static void test_others(void)
{
	unsigned long long value = 0;
	unsigned int percent = 0;
	char error[256];

	tap_ok(virt_omem_parse_uint("500", 1, 1000000, &value, error, sizeof(error)) == 0 &&
		       value == 500,
	       "shares 500");
	tap_ok(virt_omem_parse_uint("0", 1, 1000000, &value, error, sizeof(error)) < 0 &&
		       strstr(error, "out of range"),
	       "shares 0 is out of range");
	tap_ok(virt_omem_parse_uint("1000001", 1, 1000000, &value, error, sizeof(error)) < 0,
	       "shares 1000001 is out of range");
	tap_ok(virt_omem_parse_uint("5k", 1, 1000000, &value, error, sizeof(error)) < 0,
	       "a count takes no unit");
	tap_ok(virt_omem_parse_percent("10", &percent, error, sizeof(error)) == 0 && percent == 10,
	       "percent 10");
	tap_ok(virt_omem_parse_percent("0%", &percent, error, sizeof(error)) == 0 && percent == 0,
	       "percent 0%%");
	tap_ok(virt_omem_parse_percent("101", &percent, error, sizeof(error)) < 0,
	       "percent 101 is refused");
	tap_ok(virt_omem_parse_percent("10%%", &percent, error, sizeof(error)) < 0,
	       "percent 10%%%% is refused");
	tap_ok(virt_omem_parse_seconds("2", 100, 3600000, &value, error, sizeof(error)) == 0 &&
		       value == 2000,
	       "2 seconds");
	tap_ok(virt_omem_parse_seconds("0.25", 100, 3600000, &value, error, sizeof(error)) == 0 &&
		       value == 250,
	       "0.25 seconds");
	tap_ok(virt_omem_parse_seconds("0.05", 100, 3600000, &value, error, sizeof(error)) < 0 &&
		       strstr(error, "out of range"),
	       "0.05 seconds is below the bound");
	tap_ok(virt_omem_parse_seconds("1.2345", 100, 3600000, &value, error, sizeof(error)) < 0,
	       "four decimals are refused");
	tap_ok(virt_omem_parse_seconds("5.", 100, 3600000, &value, error, sizeof(error)) < 0,
	       "'5.' is refused");
	tap_ok(virt_omem_parse_seconds("1e3", 100, 3600000, &value, error, sizeof(error)) < 0,
	       "an exponent is refused");
	tap_ok(virt_omem_parse_seconds("99999999999999999999", 100, 3600000, &value, error,
				       sizeof(error)) < 0,
	       "an overflowing duration is refused");
}

static void test_format(void)
{
	char buffer[VIRT_OMEM_SIZE_STRING];

	tap_ok(!strcmp(virt_omem_format_size(1536 * MIB, buffer, sizeof(buffer)), "1536 MiB"),
	       "1536 MiB");
	tap_ok(!strcmp(virt_omem_format_size(8 * GIB, buffer, sizeof(buffer)), "8192 MiB"),
	       "8 GiB prints in MiB like every other figure");
	tap_ok(!strcmp(virt_omem_format_size(0, buffer, sizeof(buffer)), "0 MiB"), "0 MiB");
	tap_ok(!strcmp(virt_omem_format_size(1025 * KIB, buffer, sizeof(buffer)), "1025 KiB"),
	       "1025 KiB stays exact");
	tap_ok(!strcmp(virt_omem_format_size(7, buffer, sizeof(buffer)), "7 bytes"), "7 bytes");
	tap_ok(!strcmp(virt_omem_format_size(~0ULL, buffer, sizeof(buffer)),
		       "18446744073709551615 bytes"),
	       "the largest size fits the buffer");
}

int main(void)
{
	test_sizes();
	test_others();
	test_format();
	return tap_done();
}
