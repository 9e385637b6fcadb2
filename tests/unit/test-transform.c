/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Golden-file tests of the domain transform (docs/transform.md): every
 * tests/transform/NAME.in.xml is converted (with NAME.options if present)
 * and compared with NAME.out.xml, or with NAME.err when the conversion must
 * be refused (one line: error code, colon, message).  Each output must
 * also convert to itself (idempotence, with the same options and with
 * none), survive revert-then-convert unchanged, and validate, reverted
 * too, with `virt-xml-validate FILE domain` when that tool is installed.
 *
 * OMEM_REGENERATE=1 rewrites the expected files from what the code does
 * now; review the diff before committing it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "omem-virt.h"
#include "tap.h"

#ifndef TRANSFORM_DIR
#error "build with -DTRANSFORM_DIR='\"path\"'"
#endif

static bool test_transform_regenerate;
static char *test_transform_validator; /* virt-xml-validate, or NULL: skip */

static void test_transform_free(char *text)
{
	free(text);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(char, test_transform_free)

static const char *test_transform_code_name(OmemErrorCode code)
{
	static const char *const names[] = {
		[OMEM_ERR_NONE] = "OMEM_ERR_NONE",
		[OMEM_ERR_INVALID_ARG] = "OMEM_ERR_INVALID_ARG",
		[OMEM_ERR_NO_MEMORY] = "OMEM_ERR_NO_MEMORY",
		[OMEM_ERR_XML] = "OMEM_ERR_XML",
		[OMEM_ERR_UNSUPPORTED] = "OMEM_ERR_UNSUPPORTED",
		[OMEM_ERR_NOT_OMEM] = "OMEM_ERR_NOT_OMEM",
		[OMEM_ERR_CONTRACT] = "OMEM_ERR_CONTRACT",
		[OMEM_ERR_METADATA] = "OMEM_ERR_METADATA",
		[OMEM_ERR_LIBVIRT] = "OMEM_ERR_LIBVIRT",
		[OMEM_ERR_PARTIAL] = "OMEM_ERR_PARTIAL",
	};

	return (unsigned int)code < G_N_ELEMENTS(names) && names[code] ? names[code] : "unknown";
}

/* "CODE: message" of the last error, the format of the .err files. */
static char *test_transform_last_error(void)
{
	const OmemError *error = omem_error_last();

	if (!error)
		return g_strdup("no error recorded");
	return g_strdup_printf("%s: %s", test_transform_code_name(error->code), error->message);
}

/* A size option: a decimal number with an optional KiB/MiB/GiB suffix. */
static bool test_transform_parse_size(const char *text, unsigned long long *ret_bytes)
{
	char *end;
	unsigned long long value = g_ascii_strtoull(text, &end, 10);

	if (end == text)
		return false;
	if (!*end)
		*ret_bytes = value;
	else if (!strcmp(end, "KiB"))
		*ret_bytes = value << 10;
	else if (!strcmp(end, "MiB"))
		*ret_bytes = value << 20;
	else if (!strcmp(end, "GiB"))
		*ret_bytes = value << 30;
	else
		return false;
	return true;
}

/* NAME.options: "boot=SIZE min=SIZE max=SIZE cap=SIZE shares=N buffer=N", any
 * subset, whitespace-separated. */
static bool test_transform_read_options(const char *path, OmemConvertOptions *options)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) words = NULL;

	*options = (OmemConvertOptions){ 0 };
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return true;
	words = g_strsplit_set(g_strstrip(text), " \t\n", -1);
	for (char **word = words; *word; word++) {
		const char *value = strchr(*word, '=');
		unsigned long long number;

		if (!**word)
			continue;
		if (!value || !test_transform_parse_size(value + 1, &number))
			return false;
		if (g_str_has_prefix(*word, "boot="))
			options->boot_bytes = number;
		else if (g_str_has_prefix(*word, "min="))
			options->min_bytes = number;
		else if (g_str_has_prefix(*word, "max="))
			options->max_bytes = number;
		else if (g_str_has_prefix(*word, "cap="))
			options->cap_bytes = number;
		else if (g_str_has_prefix(*word, "shares="))
			options->shares = (unsigned int)number;
		else if (g_str_has_prefix(*word, "buffer=")) {
			options->buffer_percent = (unsigned int)number;
			options->buffer_percent_set = true;
		} else
			return false;
	}
	return true;
}

/* Compare @got with the expected file at @path, or rewrite it. */
static void test_transform_expect(const char *name, const char *path, const char *got)
{
	g_autofree char *want = NULL;
	g_autoptr(GError) error = NULL;

	if (test_transform_regenerate) {
		tap_ok(g_file_set_contents(path, got, -1, &error), "%s: regenerated %s", name,
		       error ? error->message : path);
		return;
	}
	if (!g_file_get_contents(path, &want, NULL, &error)) {
		tap_ok(0, "%s: %s", name, error->message);
		return;
	}
	if (!tap_ok(!strcmp(got, want), "%s: output matches %s", name, path))
		tap_diag("got:\n%s", got);
}

/* Run virt-xml-validate on @xml. */
static void test_transform_validate(const char *name, const char *what, const char *xml)
{
	g_autofree char *path = NULL;
	g_autofree char *output = NULL;
	g_autoptr(GError) error = NULL;
	int fd, status = -1;

	if (!test_transform_validator) {
		{
		g_autofree char *check = g_strdup_printf("%s: %s validates", name, what);

		tap_skip(check, "virt-xml-validate not installed");
	}
		return;
	}
	fd = g_file_open_tmp("omem-transform-XXXXXX.xml", &path, &error);
	if (fd < 0 || !g_file_set_contents(path, xml, -1, &error)) {
		tap_ok(0, "%s: %s: %s", name, what, error->message);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	{
		char *argv[] = { test_transform_validator, path, (char *)"domain", NULL };

		if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &output,
				  NULL, &status, &error))
			status = -1;
	}
	if (!tap_ok(status == 0, "%s: %s validates with virt-xml-validate", name, what))
		tap_diag("%s", output ? output : error ? error->message : "");
	g_unlink(path);
}

/* For an input with its own contract: reverting the reconverted domain
 * gives the reverted domain again. */
static void test_transform_stable(const char *name, const char *reverted, const char *reconverted)
{
	g_autoptr(char) again = NULL;

	if (!tap_ok(omem_transform_revert(reconverted, &again) == 0, "%s: reconverted output reverts", name))
		tap_diag("%s", omem_error_last_message());
	else if (!tap_ok(!strcmp(again, reverted),
			 "%s: revert(convert(revert(convert(x)))) == revert(convert(x))", name))
		tap_diag("reverted:\n%s\nreverted again:\n%s", reverted, again);
}

/* The properties every converted output must have. */
static void test_transform_properties(const char *name, const char *out,
				      const OmemConvertOptions *options, bool had_contract)
{
	g_autoptr(char) again = NULL;
	g_autoptr(char) defaults = NULL;
	g_autoptr(char) reverted = NULL;
	g_autoptr(char) reconverted = NULL;

	if (tap_ok(omem_transform_convert(out, options, &again) == 0, "%s: output converts again", name))
		tap_ok(!strcmp(again, out), "%s: convert(convert(x)) == convert(x)", name);
	if (tap_ok(omem_transform_convert(out, NULL, &defaults) == 0, "%s: output converts with defaults", name))
		tap_ok(!strcmp(defaults, out), "%s: defaults keep an omem domain as it is", name);
	if (!tap_ok(omem_transform_revert(out, &reverted) == 0, "%s: output reverts", name)) {
		tap_diag("%s", omem_error_last_message());
		return;
	}
	if (!tap_ok(omem_transform_convert(reverted, options, &reconverted) == 0,
		    "%s: reverted output converts", name))
		tap_diag("%s", omem_error_last_message());
	else if (had_contract)
		/* revert drops the contract (min, cap, shares, ...) by design, so
		 * convert(revert(convert(x))) has the default one; what holds is
		 * that, the contract aside, the round trip is stable. */
		test_transform_stable(name, reverted, reconverted);
	else if (!tap_ok(!strcmp(reconverted, out), "%s: convert(revert(convert(x))) == convert(x)", name))
		tap_diag("reverted:\n%s\nreconverted:\n%s", reverted, reconverted);
	test_transform_validate(name, "output", out);
	test_transform_validate(name, "reverted output", reverted);
}

static void test_transform_case(const char *name)
{
	g_autofree char *base = g_build_filename(TRANSFORM_DIR, name, NULL);
	g_autofree char *in_path = g_strconcat(base, ".in.xml", NULL);
	g_autofree char *out_path = g_strconcat(base, ".out.xml", NULL);
	g_autofree char *err_path = g_strconcat(base, ".err", NULL);
	g_autofree char *options_path = g_strconcat(base, ".options", NULL);
	g_autofree char *in = NULL;
	g_autoptr(char) out = NULL;
	OmemConvertOptions options;

	if (!g_file_get_contents(in_path, &in, NULL, NULL) ||
	    !test_transform_read_options(options_path, &options)) {
		tap_ok(0, "%s: cannot read %s or its options", name, in_path);
		return;
	}
	if (omem_transform_convert(in, &options, &out) < 0) {
		g_autofree char *line = test_transform_last_error();
		g_autofree char *got = g_strconcat(line, "\n", NULL);

		tap_ok(strchr(line, '\n') == NULL, "%s: the error is one line", name);
		if (test_transform_regenerate)
			g_unlink(out_path);
		test_transform_expect(name, err_path, got);
		return;
	}
	tap_ok(omem_error_last() == NULL, "%s: success leaves no error", name);
	if (test_transform_regenerate)
		g_unlink(err_path);
	test_transform_expect(name, out_path, out);
	test_transform_properties(name, out, &options, strstr(in, OMEM_CONTRACT_NAMESPACE) != NULL);
}

/* For g_ptr_array_sort, which passes pointers to the elements. */
static int test_transform_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Misuse of the API itself. */
static void test_transform_api(void)
{
	char *out = NULL;

	tap_ok(omem_transform_convert(NULL, NULL, &out) < 0 && omem_error_last()->code == OMEM_ERR_INVALID_ARG,
	       "convert(NULL) is an invalid argument");
	tap_ok(omem_transform_convert("<domain/>", NULL, NULL) < 0 &&
	       omem_error_last()->code == OMEM_ERR_INVALID_ARG,
	       "convert without ret_xml is an invalid argument");
	tap_ok(omem_transform_revert("<domain type='qemu'><name>x</name><memory>1048576</memory></domain>",
				     &out) < 0 && omem_error_last()->code == OMEM_ERR_NOT_OMEM,
	       "revert of an ordinary domain is refused as not omem");
	tap_ok(omem_transform_revert("<nope/>", &out) < 0 && omem_error_last()->code == OMEM_ERR_XML,
	       "revert of a non-domain is refused");
	tap_ok(out == NULL, "failures leave ret_xml untouched");
}

int main(void)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	const char *entry;

	test_transform_regenerate = g_strcmp0(g_getenv("OMEM_REGENERATE"), "1") == 0;
	test_transform_validator = g_find_program_in_path("virt-xml-validate");
	dir = g_dir_open(TRANSFORM_DIR, 0, &error);
	if (!dir) {
		printf("Bail out! %s\n", error->message);
		return EXIT_FAILURE;
	}
	while ((entry = g_dir_read_name(dir))) {
		if (g_str_has_suffix(entry, ".in.xml"))
			g_ptr_array_add(names, g_strndup(entry, strlen(entry) - strlen(".in.xml")));
	}
	g_ptr_array_sort(names, test_transform_compare);
	if (names->len == 0) {
		printf("Bail out! no golden cases in %s\n", TRANSFORM_DIR);
		return EXIT_FAILURE;
	}
	for (guint i = 0; i < names->len; i++)
		test_transform_case(g_ptr_array_index(names, i));
	test_transform_api();
	g_free(test_transform_validator);
	return tap_done();
}
