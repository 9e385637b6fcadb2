/* SPDX-License-Identifier: MIT */
/*
 * test-omem-size: omem's one size grammar (libvirt-driver/omem-size.c):
 * every unit virsh accepts and the KiB default; the refusals (-1, 1e99,
 * 12Q, empty, 0x10, 2^64 KiB) with a message that names the problem;
 * omemd.conf's reading (bare bytes, decimal units refused); the number
 * and unit apart, as the domain XML has them; and the one formatter,
 * whose output parses back to the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tap.h"
#include "omem-size.h"

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
	{ "1 G", "unknown unit ' G'" },
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
		if (!tap_ok(omem_size_parse(good_sizes[i].text, 0, &bytes, error, sizeof(error)) ==
				    0 && bytes == good_sizes[i].bytes,
			    "size '%s' is %llu bytes", good_sizes[i].text, good_sizes[i].bytes))
			tap_diag("got %llu: %s", bytes, error);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		int r;

		bytes = 42;
		error[0] = '\0';
		r = omem_size_parse(bad_sizes[i].text, 0, &bytes, error, sizeof(error));
		if (!tap_ok(r < 0 && bytes == 42 && strstr(error, bad_sizes[i].must_say) &&
				    !strchr(error, '\n'),
			    "bad size #%zu is refused, saying '%s'", i, bad_sizes[i].must_say))
			tap_diag("returned %d, bytes %llu, message: %s", r, bytes, error);
	}
	tap_ok(omem_size_parse(NULL, 0, &bytes, error, sizeof(error)) < 0, "NULL is refused");
	tap_ok(omem_size_parse("1", 0, &bytes, NULL, 0) == 0, "no error buffer is fine");
}

static void test_flags(void)
{
	const unsigned int conf = OMEM_SIZE_BARE_BYTES | OMEM_SIZE_BINARY_ONLY | OMEM_SIZE_BLANKS;
	unsigned long long bytes = 42;
	char error[OMEM_SIZE_ERROR_MAX];

	tap_ok(omem_size_parse("1073741824", conf, &bytes, error, sizeof(error)) == 0 && bytes == GIB,
	       "omemd.conf: no unit is bytes");
	tap_ok(omem_size_parse("4G", conf, &bytes, error, sizeof(error)) == 0 && bytes == 4 * GIB,
	       "omemd.conf: 4G is 4 GiB");
	tap_ok(omem_size_parse("512 MiB", conf, &bytes, error, sizeof(error)) == 0 &&
		       bytes == 512 * MIB,
	       "omemd.conf: a blank between number and unit, as it always took");
	tap_ok(omem_size_parse("512 M ", conf, &bytes, error, sizeof(error)) == -EINVAL,
	       "omemd.conf: no blank after the unit");
	tap_ok(omem_size_parse("512 ", conf, &bytes, error, sizeof(error)) == -EINVAL,
	       "omemd.conf: no blank after the number alone");
	tap_ok(omem_size_parse("2k", conf, &bytes, error, sizeof(error)) == 0 && bytes == 2 * KIB,
	       "omemd.conf: k is 1024");
	bytes = 42;
	tap_ok(omem_size_parse("4GB", conf, &bytes, error, sizeof(error)) == -EINVAL && bytes == 42 &&
		       strstr(error, "decimal unit 'GB'") && strstr(error, "GiB"),
	       "omemd.conf: 4GB is refused, not guessed (%s)", error);
	tap_ok(omem_size_parse("4GB", OMEM_SIZE_BARE_BYTES, &bytes, error, sizeof(error)) == 0 &&
		       bytes == 4000000000ULL,
	       "without BINARY_ONLY 4GB is decimal, as virsh");
	tap_ok(omem_size_parse("1x", conf, &bytes, error, sizeof(error)) == -EINVAL &&
		       strstr(error, "no unit means bytes"),
	       "omemd.conf: the message says what no unit means");
	tap_ok(omem_size_parse("1x", 0, &bytes, error, sizeof(error)) == -EINVAL &&
		       strstr(error, "no unit means KiB"),
	       "virsh: the message says no unit means KiB");
	tap_ok(omem_size_parse("18446744073709551616", conf, &bytes, error, sizeof(error)) == -ERANGE,
	       "overflow is -ERANGE");
}

static void test_parts(void)
{
	unsigned long long bytes = 42;
	char error[OMEM_SIZE_ERROR_MAX];

	tap_ok(omem_size_parse_parts("1048576", "KiB", 0, &bytes, error, sizeof(error)) == 0 &&
		       bytes == GIB,
	       "XML: 1048576 KiB");
	tap_ok(omem_size_parse_parts("1048576", NULL, 0, &bytes, error, sizeof(error)) == 0 &&
		       bytes == GIB,
	       "XML: no unit attribute is KiB");
	tap_ok(omem_size_parse_parts("2", "GB", 0, &bytes, error, sizeof(error)) == 0 &&
		       bytes == 2000000000ULL,
	       "XML: GB is decimal, as libvirt reads it");
	bytes = 42;
	tap_ok(omem_size_parse_parts("1G", "KiB", 0, &bytes, error, sizeof(error)) == -EINVAL &&
		       bytes == 42,
	       "XML: a unit inside the number is refused");
	tap_ok(omem_size_parse_parts("1", "furlong", 0, &bytes, error, sizeof(error)) == -EINVAL &&
		       strstr(error, "unknown unit 'furlong'"),
	       "XML: an unknown unit is named");
	tap_ok(omem_size_parse_parts("", "KiB", 0, &bytes, error, sizeof(error)) == -EINVAL,
	       "XML: an empty number is refused");
}

static void test_format(void)
{
	char buffer[OMEM_SIZE_STRING];

	tap_ok(!strcmp(omem_size_format(1536 * MIB, buffer, sizeof(buffer)), "1536 MiB"),
	       "1536 MiB");
	tap_ok(!strcmp(omem_size_format(8 * GIB, buffer, sizeof(buffer)), "8192 MiB"),
	       "8 GiB prints in MiB like every other figure");
	tap_ok(!strcmp(omem_size_format(0, buffer, sizeof(buffer)), "0 MiB"), "0 MiB");
	tap_ok(!strcmp(omem_size_format(1025 * KIB, buffer, sizeof(buffer)), "1025 KiB"),
	       "1025 KiB stays exact");
	tap_ok(!strcmp(omem_size_format(7, buffer, sizeof(buffer)), "7 bytes"), "7 bytes");
	tap_ok(!strcmp(omem_size_format(~0ULL, buffer, sizeof(buffer)),
		       "18446744073709551615 bytes"),
	       "the largest size fits the buffer");
	{
		static const unsigned long long samples[] = { 0, 7, KIB, 1025 * KIB, 1536 * MIB, 8 * GIB,
							      ~0ULL };
		bool all = true;

		for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
			unsigned long long back = 42;

			omem_size_format(samples[i], buffer, sizeof(buffer));
			if (omem_size_parse(buffer, OMEM_SIZE_BLANKS, &back, NULL, 0) != 0 || back != samples[i]) {
				tap_diag("'%s' parses to %llu", buffer, back);
				all = false;
			}
		}
		tap_ok(all, "every formatted size parses back to the same bytes");
	}
}

int main(void)
{
	test_sizes();
	test_flags();
	test_parts();
	test_format();
	return tap_done();
}
