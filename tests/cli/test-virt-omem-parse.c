/* SPDX-License-Identifier: MIT */
/*
 * test-virt-omem-parse: virt-omem's parsers of counts, percentages and
 * seconds (libvirt-driver/virt-omem/virt-omem-parse.c); sizes are
 * test-omem-size's.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "virt-omem-parse.h"

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

int main(void)
{
	test_others();
	return tap_done();
}
