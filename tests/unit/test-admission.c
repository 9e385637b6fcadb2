/* SPDX-License-Identifier: MIT */
/*
 * test-admission: the hook <-> omemd line format (host-server/formats/admission.c,
 * docs/admission.md).  Requests and replies round-trip; every rule of the
 * strict parsers refuses its own broken line (including what json-glib
 * alone would let through); the bounds hold at their edges; a failed
 * parse leaves the output alone.
 */
#include "config.h"

#include <string.h>

#include "formats/admission.h"
#include "tap.h"

#define MIB (1024ull * 1024)

#define UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

/* A valid request line with @fields in place of the usual middle part. */
#define REQUEST_HEAD "{\"version\":1,\"op\":\"admit\",\"uuid\":\"" UUID "\","
#define REQUEST_SIZES "\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1"

static AdmissionRequest sample_request(void)
{
	AdmissionRequest request = {
		.uuid = UUID,
		.name = "web1",
		.boot_bytes = 512 * MIB,
		.min_bytes = 1024 * MIB,
		.cap_bytes = 2048 * MIB,
		.max_bytes = 4096 * MIB,
		.block_bytes = 2 * MIB,
	};

	return request;
}

static bool request_equal(const AdmissionRequest *a, const AdmissionRequest *b)
{
	return !strcmp(a->uuid, b->uuid) && !strcmp(a->name, b->name) &&
	       a->boot_bytes == b->boot_bytes && a->min_bytes == b->min_bytes &&
	       a->cap_bytes == b->cap_bytes && a->max_bytes == b->max_bytes &&
	       a->block_bytes == b->block_bytes;
}

/* Parse @text (a C string, "\n" included by the caller) as a request and
 * expect a refusal of @code whose message holds @needle; the output must
 * stay untouched. */
static void expect_bad_request_len(const char *text, gsize len, int code, const char *needle,
				   const char *why)
{
	g_autoptr(GError) error = NULL;
	AdmissionRequest request, untouched;
	bool ok;

	memset(&request, 0xa5, sizeof(request));
	untouched = request;
	ok = admission_request_parse(text, len, &request, &error);
	if (!tap_ok(!ok && error && error->domain == ADMISSION_ERROR && error->code == code &&
		    strstr(error->message, needle) && !strchr(error->message, '\n') &&
		    !memcmp(&request, &untouched, sizeof(request)),
		    "request refused: %s", why))
		tap_diag("got: %s", error ? error->message : "(accepted)");
}

static void expect_bad_request(const char *text, const char *needle, const char *why)
{
	expect_bad_request_len(text, strlen(text), ADMISSION_ERROR_INVALID, needle, why);
}

static void expect_bad_reply(const char *text, int code, const char *needle, const char *why)
{
	g_autoptr(GError) error = NULL;
	AdmissionReply reply, untouched;
	bool ok;

	memset(&reply, 0x5a, sizeof(reply));
	untouched = reply;
	ok = admission_reply_parse(text, strlen(text), &reply, &error);
	if (!tap_ok(!ok && error && error->domain == ADMISSION_ERROR && error->code == code &&
		    strstr(error->message, needle) && !memcmp(&reply, &untouched, sizeof(reply)),
		    "reply refused: %s", why))
		tap_diag("got: %s", error ? error->message : "(accepted)");
}

/* A request line around @middle (name and sizes). */
static char *request_line(const char *middle)
{
	return g_strconcat(REQUEST_HEAD, middle, "}\n", NULL);
}

static void test_request_round_trip(void)
{
	AdmissionRequest request = sample_request(), back;
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL;
	gsize length = 0;

	line = admission_request_format(&request, &length, &error);
	tap_ok(line && length == strlen(line) && line[length - 1] == '\n' &&
	       !memchr(line, '\n', length - 1), "a request formats to one line with its newline");
	tap_ok(line && admission_request_parse(line, length, &back, &error) &&
	       request_equal(&request, &back), "... and parses back equal");
	tap_diag("%s", line ? line : error->message);
}

static void test_request_hand_written(void)
{
	const char *text = " { \"max_bytes\" : 4294967296 ,\t\"cap_bytes\":2147483648,"
			   "\"min_bytes\":1073741824,\"boot_bytes\":536870912,\r\"block_bytes\":2097152,"
			   "\"name\":\"w\\u00e9b\\\"1\\\\\",\"uuid\":\"" UUID "\",\"op\":\"admit\","
			   "\"version\":1 } \n";
	g_autoptr(GError) error = NULL;
	AdmissionRequest request;

	if (!tap_ok(admission_request_parse(text, strlen(text), &request, &error),
		    "fields in any order, JSON whitespace and escapes are fine"))
		tap_diag("%s", error->message);
	else
		tap_ok(!strcmp(request.name, "w\xc3\xa9" "b\"1\\") && request.min_bytes == 1024 * MIB &&
		       request.max_bytes == 4096 * MIB && !strcmp(request.uuid, UUID),
		       "... and decode to the right values");
}

static void test_request_names(void)
{
	AdmissionRequest request = sample_request(), back;
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL, *long_name = NULL, *middle = NULL;
	gsize length = 0;

	/* The worst case for the line's length: 256 characters that all
	 * need escaping. */
	memset(request.name, '"', ADMISSION_NAME_MAX);
	request.name[ADMISSION_NAME_MAX] = '\0';
	request.boot_bytes = request.min_bytes = 1ull << 62;
	request.max_bytes = G_MAXINT64;
	request.cap_bytes = G_MAXINT64;
	request.block_bytes = 1ull << 61; /* every size 19 digits */
	line = admission_request_format(&request, &length, &error);
	tap_ok(line && length <= ADMISSION_LINE_MAX, "a 256-byte name of quotes fits a line (%zu bytes)",
	       (size_t)length);
	tap_ok(line && admission_request_parse(line, length, &back, &error) &&
	       request_equal(&request, &back), "... and round-trips, with sizes up to 2^63 - 1");
	g_clear_pointer(&line, g_free);

	long_name = g_strnfill(ADMISSION_NAME_MAX + 1, 'n');
	middle = g_strdup_printf("\"name\":\"%s\"," REQUEST_SIZES, long_name);
	line = request_line(middle);
	expect_bad_request(line, "257 bytes", "a name of 257 bytes");
	g_clear_pointer(&line, g_free);

	request = sample_request();
	request.name[0] = '\0';
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error,
	       "format refuses an empty name");
	request = sample_request();
	memset(request.name, 'x', sizeof(request.name));
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error,
	       "format refuses a name array without its NUL");
	request = sample_request();
	strcpy(request.name, "a\tb");
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error,
	       "format refuses a name with a control character");
	request = sample_request();
	strcpy(request.uuid, "6695EB01-F6A4-8304-79AA-97F2502E193F");
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error,
	       "format refuses an upper-case uuid");
	request = sample_request();
	request.min_bytes = request.cap_bytes + 1;
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error &&
	       strstr(error->message, "min"), "format refuses min > cap, with the numbers");
	request = sample_request();
	request.boot_bytes = request.min_bytes = request.cap_bytes = request.max_bytes = (uint64_t)G_MAXINT64 + 1;
	g_clear_error(&error);
	tap_ok(!admission_request_format(&request, &length, &error) && error,
	       "format refuses sizes past 2^63 - 1");
}

static void test_request_bounds(void)
{
	g_autofree char *base = request_line("\"name\":\"web1\"," REQUEST_SIZES);
	gsize base_len = strlen(base);
	g_autofree char *padded = g_malloc(ADMISSION_LINE_MAX + 2);
	AdmissionRequest request;
	g_autoptr(GError) error = NULL;
	char bad[] = REQUEST_HEAD "\"name\":\"w\xff\"," REQUEST_SIZES "}\n";
	char nul[] = REQUEST_HEAD "\"name\":\"w\0x\"," REQUEST_SIZES "}\n";

	/* Spaces before the object: exactly the limit, then one more. */
	memset(padded, ' ', ADMISSION_LINE_MAX + 1);
	memcpy(padded + ADMISSION_LINE_MAX - base_len, base, base_len);
	tap_ok(admission_request_parse(padded, ADMISSION_LINE_MAX, &request, &error),
	       "a line of exactly 4096 bytes is accepted");
	memcpy(padded + ADMISSION_LINE_MAX + 1 - base_len, base, base_len);
	expect_bad_request_len(padded, ADMISSION_LINE_MAX + 1, ADMISSION_ERROR_INVALID, "4097 bytes",
			       "a line of 4097 bytes");

	expect_bad_request_len(base, base_len - 1, ADMISSION_ERROR_INVALID, "newline", "no newline");
	expect_bad_request_len("", 0, ADMISSION_ERROR_INVALID, "newline", "empty input");
	expect_bad_request("\n", "not a JSON object", "an empty line");
	expect_bad_request_len(bad, sizeof(bad) - 1, ADMISSION_ERROR_INVALID, "UTF-8", "a byte that is not UTF-8");
	expect_bad_request_len(nul, sizeof(nul) - 1, ADMISSION_ERROR_INVALID, "UTF-8", "a NUL byte");
}

static void test_request_rules(void)
{
	static const struct {
		const char *middle;  /* after the head, before "}\n" */
		const char *needle;
		const char *why;
	} cases[] = {
		{ "\"name\":\"a\"," REQUEST_SIZES ",\"extra\":1", "unknown field \"extra\"", "an unknown field" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "\"min_bytes\" is missing", "a missing field" },
		{ "\"name\":\"a\"," REQUEST_SIZES ",\"min_bytes\":2", "more than once", "a duplicate field" },
		{ "\"name\":\"a\"," REQUEST_SIZES ",\"\\u006din_bytes\":2", "more than once", "a duplicate spelt with an escape" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":\"2\",\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not an integer", "a size as a string" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2.0,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not an integer", "a size with a fraction" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2e0,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not an integer", "a size with an exponent" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":true,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not an integer", "a size as a boolean" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":null,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not an integer", "a size as null" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":[2],\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "nested", "a size as an array" },
		{ "\"name\":{},\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "nested", "a name as an object" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":-2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "negative", "a negative size" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":9223372036854775808", "out of range", "2^63" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":99999999999999999999", "out of range", "an integer json-glib would wrap to -1" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":02,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "leading zero", "a leading zero" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":0x2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "\",\" or \"}\"", "a hex number" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":+2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "not a JSON value", "a plus sign" },
		{ "'name':\"a\"," REQUEST_SIZES, "a string was expected", "a single-quoted name" },
		{ "/* c */\"name\":\"a\"," REQUEST_SIZES, "a string was expected", "a comment" },
		{ "\"name\":\"a\"," REQUEST_SIZES ",", "a string was expected", "a trailing comma" },
		{ "\"name\":\"a\\u0000b\"," REQUEST_SIZES, "NUL character", "\\u0000 in a string" },
		{ "\"name\":\"a\\nb\"," REQUEST_SIZES, "one line", "an escaped newline in the name" },
		{ "\"name\":\"a\tb\"," REQUEST_SIZES, "control character", "a raw tab in a string" },
		{ "\"name\":\"a\\x41\"," REQUEST_SIZES, "invalid escape", "an escape JSON does not have" },
		{ "\"name\":\"\\ud800\"," REQUEST_SIZES, "not JSON", "a lone surrogate" },
		{ "\"name\":\"\"," REQUEST_SIZES, "0 bytes", "an empty name" },
		{ "\"name\":\"a\",\"boot_bytes\":0,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "0 < boot", "boot 0" },
		{ "\"name\":\"a\",\"boot_bytes\":3,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "boot 3, min 2", "boot > min" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":4,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":1", "min 4, cap 3", "min > cap" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":5,\"max_bytes\":4,\"block_bytes\":1", "cap 5, max 4", "cap > max" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4", "\"block_bytes\" is missing", "no block" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":0", "block_bytes 0 is not a power of two", "block 0" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":3", "block_bytes 3 is not a power of two", "a block that is no power of two" },
		{ "\"name\":\"a\",\"boot_bytes\":1,\"min_bytes\":2,\"cap_bytes\":3,\"max_bytes\":4,\"block_bytes\":4", "within max - boot (3)", "a block larger than the device" },
		{ "\"name\":\"a\"," REQUEST_SIZES "} {\"b\":1", "text after the object", "a second object" },
		{ "\"name\":\"a\"," REQUEST_SIZES "} x", "text after the object", "trailing garbage" },
	};
	char text[512];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_snprintf(text, sizeof(text), REQUEST_HEAD "%s}\n", cases[i].middle);
		expect_bad_request(text, cases[i].needle, cases[i].why);
	}

	expect_bad_request("{\"version\":1,\"op\":\"admit\",\"uuid\":\"" UUID "\"," REQUEST_SIZES "}\n",
			   "\"name\" is missing", "no name");
	expect_bad_request("{\"op\":\"admit\",\"uuid\":\"" UUID "\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "\"version\" is missing", "no version");
	expect_bad_request("{\"version\":\"1\",\"op\":\"admit\",\"uuid\":\"" UUID "\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "\"version\" is not an integer", "version as a string");
	expect_bad_request_len("{\"version\":2,\"op\":\"admit\",\"future\":true}\n",
			       strlen("{\"version\":2,\"op\":\"admit\",\"future\":true}\n"),
			       ADMISSION_ERROR_VERSION, "version 2", "version 2, named as such before its fields");
	expect_bad_request("{\"version\":1,\"op\":\"evict\",\"uuid\":\"" UUID "\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "unknown op \"evict\"", "an unknown op");
	expect_bad_request("{\"version\":1,\"uuid\":\"" UUID "\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "\"op\" is missing", "no op");
	expect_bad_request("{\"version\":1,\"op\":\"admit\",\"uuid\":\"6695EB01-F6A4-8304-79AA-97F2502E193F\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "canonical", "an upper-case uuid");
	expect_bad_request("{\"version\":1,\"op\":\"admit\",\"uuid\":\"{6695eb01-f6a4-8304-79aa-97f2502e193f}\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "canonical", "a uuid in braces");
	expect_bad_request("{\"version\":1,\"op\":\"admit\",\"uuid\":\"6695eb01f6a4830479aa97f2502e193f\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "canonical", "a uuid without dashes");
	expect_bad_request("{\"version\":1,\"op\":\"admit\",\"uuid\":\"6695eb01-f6a4-8304-79aa-97f2502e193g\",\"name\":\"a\"," REQUEST_SIZES "}\n",
			   "canonical", "a uuid with a non-hex digit");
	expect_bad_request("[1]\n", "not a JSON object", "an array");
	expect_bad_request("{\"version\":1}\n{\"version\":1}\n", "more than one line", "two lines");
}

static void test_replies(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL, *quotes = NULL, *accents = NULL;
	AdmissionReply reply;
	gsize length = 0;
	bool parsed;
	GString *long_accents = g_string_new("a");

	line = admission_reply_format(true, "fits: 1 GiB of 3 GiB left", &length);
	tap_ok(line[length - 1] == '\n' && length == strlen(line), "a reply is one line with its newline");
	tap_ok(admission_reply_parse(line, length, &reply, &error) && reply.admit &&
	       !strcmp(reply.message, "fits: 1 GiB of 3 GiB left"), "... and parses back: admitted");
	g_clear_pointer(&line, g_free);

	line = admission_reply_format(false, NULL, &length);
	tap_ok(admission_reply_parse(line, length, &reply, &error) && !reply.admit &&
	       !strcmp(reply.message, ""), "a refusal with no message: empty message");
	g_clear_pointer(&line, g_free);

	line = admission_reply_format(false, "two\nlines\tand\x7f\xff bad", &length);
	parsed = admission_reply_parse(line, length, &reply, &error);
	tap_ok(parsed && !strcmp(reply.message, "two lines and \xef\xbf\xbd bad"),
	       "control characters become spaces, bad UTF-8 U+FFFD (\"%s\")", reply.message);
	g_clear_pointer(&line, g_free);

	quotes = g_strnfill(5000, '"');
	line = admission_reply_format(false, quotes, &length);
	parsed = admission_reply_parse(line, length, &reply, &error);
	tap_ok(parsed && length <= ADMISSION_LINE_MAX && strlen(reply.message) == ADMISSION_MESSAGE_MAX,
	       "a long message of quotes is cut to 1024 bytes and still fits a line (%zu bytes)",
	       (size_t)length);
	g_clear_pointer(&line, g_free);

	for (int i = 0; i < 600; i++)
		g_string_append(long_accents, "\xc3\xa9");
	accents = g_string_free(long_accents, FALSE);
	line = admission_reply_format(true, accents, &length);
	parsed = admission_reply_parse(line, length, &reply, &error);
	tap_ok(parsed && strlen(reply.message) == ADMISSION_MESSAGE_MAX - 1 &&
	       g_utf8_validate(reply.message, -1, NULL),
	       "a message is cut between characters (%zu bytes)", strlen(reply.message));
	g_clear_pointer(&line, g_free);

	expect_bad_reply("{\"version\":1,\"admit\":\"true\",\"message\":\"\"}\n", ADMISSION_ERROR_INVALID,
			 "not a boolean", "admit as a string");
	expect_bad_reply("{\"version\":1,\"admit\":1,\"message\":\"\"}\n", ADMISSION_ERROR_INVALID,
			 "not a boolean", "admit as an integer");
	expect_bad_reply("{\"version\":1,\"message\":\"\"}\n", ADMISSION_ERROR_INVALID,
			 "\"admit\" is missing", "no admit");
	expect_bad_reply("{\"version\":1,\"admit\":true}\n", ADMISSION_ERROR_INVALID,
			 "\"message\" is missing", "no message");
	expect_bad_reply("{\"version\":1,\"admit\":true,\"message\":\"\",\"why\":\"\"}\n",
			 ADMISSION_ERROR_INVALID, "unknown field", "an unknown field");
	expect_bad_reply("{\"version\":1,\"admit\":true,\"admit\":false,\"message\":\"\"}\n",
			 ADMISSION_ERROR_INVALID, "more than once", "admit twice");
	expect_bad_reply("{\"version\":1,\"admit\":true,\"message\":\"a\\r\\nb\"}\n",
			 ADMISSION_ERROR_INVALID, "one line", "a message over two lines");
	expect_bad_reply("{\"version\":3,\"admit\":true,\"message\":\"\"}\n", ADMISSION_ERROR_VERSION,
			 "version 3", "version 3");
	expect_bad_reply("{\"version\":1,\"admit\":True,\"message\":\"\"}\n", ADMISSION_ERROR_INVALID,
			 "not a JSON value", "True");
	{
		g_autofree char *long_message = g_strnfill(ADMISSION_MESSAGE_MAX + 1, 'm');
		g_autofree char *text = g_strdup_printf("{\"version\":1,\"admit\":false,\"message\":\"%s\"}\n",
							long_message);

		expect_bad_reply(text, ADMISSION_ERROR_INVALID, "1025 bytes", "a message of 1025 bytes");
	}
}

/* The hook's fail-open file: one line a fail-open, whatever the name. */
static void test_fail_open_lines(void)
{
	g_autofree char *plain = NULL, *hostile = NULL, *long_line = NULL, *long_name = NULL;
	g_autofree char *file = NULL;
	gsize plain_length = 0, hostile_length = 0, long_length = 0;

	plain = admission_fail_open_line(1700000000, "web1", &plain_length);
	tap_ok(!strcmp(plain, "1700000000 web1\n") && plain_length == strlen(plain),
	       "a fail-open line is the time and the name");
	hostile = admission_fail_open_line(1, "a\nb c\x7f\xc3\xa9", &hostile_length);
	tap_ok(!strcmp(hostile, "1 a?b?c???\n"), "a name's newline, space and non-ASCII bytes are '?'");
	long_name = g_strnfill(ADMISSION_NAME_MAX + 50, 'x');
	long_line = admission_fail_open_line(G_MAXINT64, long_name, &long_length);
	tap_ok(long_length <= 24 + ADMISSION_NAME_MAX && long_line[long_length - 1] == '\n',
	       "a long name is cut to ADMISSION_NAME_MAX (%zu bytes)", long_length);
	file = g_strconcat(plain, hostile, long_line, "12 cut-off", NULL);
	tap_eq(admission_fail_open_count(file, strlen(file)), 3,
	       "the count is the complete lines (an unfinished last one is not counted)");
	tap_eq(admission_fail_open_count(NULL, 0), 0, "an empty file counts none");
}

int main(void)
{
	test_request_round_trip();
	test_request_hand_written();
	test_request_names();
	test_request_bounds();
	test_request_rules();
	test_replies();
	test_fail_open_lines();
	return tap_done();
}
