/* SPDX-License-Identifier: MIT */
/*
 * admission: the hook <-> omemd line format (see admission.h).
 *
 * json-glib 1.6 is a lenient reader: it takes comments, single-quoted
 * strings, hex and leading-zero numbers, a second document after the
 * first, keeps the last of two equal member names, cuts a string at
 * "\u0000" and turns an integer past 2^63 into -1 without a word.  So a
 * strict syntax check runs first (admission_check_syntax: RFC 8259, one
 * flat object, scalar members, integers that fit) and json-glib only
 * decodes what that check let through; the member count from the check
 * against the object's size catches duplicate names.
 */
#include "config.h"

#include "formats/admission.h"

#include <string.h>

#include <json-glib/json-glib.h>

G_DEFINE_QUARK(admission-error-quark, admission_error)

/* Members of a line; each format has 3 or 8, so more is refused before
 * json-glib builds anything. */
#define ADMISSION_MEMBERS_MAX 16

/* The longest integer literal that may fit in int64: "-" and 19 digits. */
#define ADMISSION_INTEGER_DIGITS_MAX 20

/* Names quoted in error messages are cut to this many bytes. */
#define ADMISSION_QUOTE_MAX 40

/* --------------------------------------------------------------- syntax */

/* A read position in the line: [p, end). */
typedef struct {
	const char *start;
	const char *p;
	const char *end;
	const char *what;  /* "request" or "reply", for messages */
	GError **error;
} AdmissionScan;

static bool admission_scan_fail(AdmissionScan *scan, const char *problem)
{
	g_set_error(scan->error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
		    "%s: %s at byte %td", scan->what, problem, scan->p - scan->start);
	return false;
}

/* JSON whitespace, except "\n": it only ends the line. */
static void admission_scan_space(AdmissionScan *scan)
{
	while (scan->p < scan->end && (*scan->p == ' ' || *scan->p == '\t' || *scan->p == '\r'))
		scan->p++;
}

static bool admission_scan_literal(AdmissionScan *scan, const char *literal)
{
	size_t n = strlen(literal);

	if ((size_t)(scan->end - scan->p) < n || memcmp(scan->p, literal, n))
		return admission_scan_fail(scan, "not a JSON value");
	scan->p += n;
	return true;
}

/* A string: no raw control character, only JSON's escapes, no \u0000
 * (json-glib would cut the string there).  Surrogate pairs are left to
 * json-glib, which refuses broken ones. */
static bool admission_scan_string(AdmissionScan *scan)
{
	if (scan->p >= scan->end || *scan->p != '"')
		return admission_scan_fail(scan, "a string was expected");
	scan->p++;
	while (scan->p < scan->end) {
		unsigned char c = (unsigned char)*scan->p;

		if (c == '"') {
			scan->p++;
			return true;
		}
		if (c < 0x20)
			return admission_scan_fail(scan, "a control character inside a string");
		if (c != '\\') {
			scan->p++;
			continue;
		}
		if (scan->end - scan->p < 2)
			break;
		if (scan->p[1] && strchr("\"\\/bfnrt", scan->p[1])) {
			scan->p += 2;
			continue;
		}
		if (scan->p[1] != 'u' || scan->end - scan->p < 6 ||
		    !g_ascii_isxdigit(scan->p[2]) || !g_ascii_isxdigit(scan->p[3]) ||
		    !g_ascii_isxdigit(scan->p[4]) || !g_ascii_isxdigit(scan->p[5]))
			return admission_scan_fail(scan, "an invalid escape inside a string");
		if (!memcmp(scan->p + 2, "0000", 4))
			return admission_scan_fail(scan, "a NUL character inside a string");
		scan->p += 6;
	}
	return admission_scan_fail(scan, "an unterminated string");
}

/* A number as RFC 8259 writes it; an integer (no fraction, no exponent)
 * must fit in int64, since json-glib wraps larger ones silently.  A
 * fraction or exponent passes here and is refused as "not an integer"
 * by the member's type check. */
static bool admission_scan_number(AdmissionScan *scan)
{
	const char *start = scan->p;
	bool integer = true;

	if (scan->p < scan->end && *scan->p == '-')
		scan->p++;
	if (scan->p >= scan->end || !g_ascii_isdigit(*scan->p))
		return admission_scan_fail(scan, "not a JSON value");
	if (*scan->p == '0' && scan->p + 1 < scan->end && g_ascii_isdigit(scan->p[1]))
		return admission_scan_fail(scan, "a number with a leading zero");
	while (scan->p < scan->end && g_ascii_isdigit(*scan->p))
		scan->p++;
	if (scan->p < scan->end && *scan->p == '.') {
		integer = false;
		scan->p++;
		if (scan->p >= scan->end || !g_ascii_isdigit(*scan->p))
			return admission_scan_fail(scan, "a number without digits after its point");
		while (scan->p < scan->end && g_ascii_isdigit(*scan->p))
			scan->p++;
	}
	if (scan->p < scan->end && (*scan->p == 'e' || *scan->p == 'E')) {
		integer = false;
		scan->p++;
		if (scan->p < scan->end && (*scan->p == '+' || *scan->p == '-'))
			scan->p++;
		if (scan->p >= scan->end || !g_ascii_isdigit(*scan->p))
			return admission_scan_fail(scan, "a number without digits in its exponent");
		while (scan->p < scan->end && g_ascii_isdigit(*scan->p))
			scan->p++;
	}
	if (integer) {
		char digits[ADMISSION_INTEGER_DIGITS_MAX + 1];
		size_t n = (size_t)(scan->p - start);
		gint64 value;

		if (n > ADMISSION_INTEGER_DIGITS_MAX)
			return admission_scan_fail(scan, "an integer out of range");
		memcpy(digits, start, n);
		digits[n] = '\0';
		if (!g_ascii_string_to_signed(digits, 10, G_MININT64, G_MAXINT64, &value, NULL))
			return admission_scan_fail(scan, "an integer out of range");
	}
	return true;
}

static bool admission_scan_value(AdmissionScan *scan)
{
	if (scan->p >= scan->end)
		return admission_scan_fail(scan, "a value was expected");
	switch (*scan->p) {
	case '"':
		return admission_scan_string(scan);
	case 't':
		return admission_scan_literal(scan, "true");
	case 'f':
		return admission_scan_literal(scan, "false");
	case 'n':
		return admission_scan_literal(scan, "null");
	case '{':
	case '[':
		return admission_scan_fail(scan, "a nested object or array (every field is a string, integer or boolean)");
	default:
		return admission_scan_number(scan);
	}
}

/* Check that [data, data + len) is one flat JSON object and nothing else;
 * the number of its members goes to *ret_members. */
static bool admission_check_syntax(const char *data, gsize len, const char *what,
				   unsigned *ret_members, GError **error)
{
	AdmissionScan scan = { .start = data, .p = data, .end = data + len, .what = what,
			       .error = error };
	unsigned members = 0;

	admission_scan_space(&scan);
	if (scan.p >= scan.end || *scan.p != '{')
		return admission_scan_fail(&scan, "not a JSON object");
	scan.p++;
	admission_scan_space(&scan);
	if (scan.p < scan.end && *scan.p == '}') {
		scan.p++;
	} else {
		for (;;) {
			if (++members > ADMISSION_MEMBERS_MAX)
				return admission_scan_fail(&scan, "too many fields");
			admission_scan_space(&scan);
			if (!admission_scan_string(&scan))
				return false;
			admission_scan_space(&scan);
			if (scan.p >= scan.end || *scan.p != ':')
				return admission_scan_fail(&scan, "\":\" was expected");
			scan.p++;
			admission_scan_space(&scan);
			if (!admission_scan_value(&scan))
				return false;
			admission_scan_space(&scan);
			if (scan.p < scan.end && *scan.p == ',') {
				scan.p++;
				continue;
			}
			if (scan.p < scan.end && *scan.p == '}') {
				scan.p++;
				break;
			}
			return admission_scan_fail(&scan, "\",\" or \"}\" was expected");
		}
	}
	admission_scan_space(&scan);
	if (scan.p != scan.end)
		return admission_scan_fail(&scan, "text after the object");
	*ret_members = members;
	return true;
}

/* --------------------------------------------------------------- fields */

/* @name escaped to printable ASCII and cut, for an error message. */
static char *admission_quote(const char *name)
{
	g_autofree char *cut = g_strndup(name, ADMISSION_QUOTE_MAX);

	return g_strescape(cut, NULL);
}

/* No C0 control character and no DEL: names and messages are printed on
 * one line of a terminal or a log. */
static bool admission_text_is_line(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* The line as a parsed object: length, newline, UTF-8, syntax, then
 * json-glib, then duplicates.  @parser keeps the object alive. */
static JsonObject *admission_load(JsonParser *parser, const char *data, gsize len,
				  const char *what, GError **error)
{
	g_autoptr(GError) json_error = NULL;
	unsigned members = 0;
	JsonNode *root;
	JsonObject *object;

	if (len == 0 || data[len - 1] != '\n') {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: the line does not end with a newline", what);
		return NULL;
	}
	if (len > ADMISSION_LINE_MAX) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: %" G_GSIZE_FORMAT " bytes, more than the %d a line may have", what,
			    len, ADMISSION_LINE_MAX);
		return NULL;
	}
	len--;
	if (memchr(data, '\n', len)) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: more than one line", what);
		return NULL;
	}
	/* Refuses NUL bytes too. */
	if (!g_utf8_validate_len(data, len, NULL)) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: not UTF-8 text", what);
		return NULL;
	}
	if (!admission_check_syntax(data, len, what, &members, error))
		return NULL;
	if (!json_parser_load_from_data(parser, data, (gssize)len, &json_error)) {
		/* json-glib quotes the text as it decoded it: an escaped
		 * newline comes back as a real one. */
		g_autofree char *why = admission_message_line(json_error->message);

		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: not JSON: %s", what, why);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: not a JSON object", what);
		return NULL;
	}
	object = json_node_get_object(root);
	if (json_object_get_size(object) != members) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: a field appears more than once", what);
		return NULL;
	}
	return object;
}

/* Every member of @object is one of @known (NULL-terminated). */
static bool admission_check_known(JsonObject *object, const char *const *known, const char *what,
				  GError **error)
{
	g_autoptr(GList) names = json_object_get_members(object);

	for (GList *l = names; l; l = l->next) {
		if (!g_strv_contains(known, l->data)) {
			g_autofree char *quoted = admission_quote(l->data);

			g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
				    "%s: unknown field \"%s\"", what, quoted);
			return false;
		}
	}
	return true;
}

/* The member @name's scalar value of type @type, or NULL with @error. */
static JsonNode *admission_member(JsonObject *object, const char *name, GType type,
				  const char *type_name, const char *what, GError **error)
{
	JsonNode *node = json_object_get_member(object, name);

	if (!node) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: field \"%s\" is missing", what, name);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: field \"%s\" is not %s", what, name, type_name);
		return NULL;
	}
	return node;
}

static bool admission_get_size(JsonObject *object, const char *name, const char *what,
			       uint64_t *ret, GError **error)
{
	JsonNode *node = admission_member(object, name, G_TYPE_INT64, "an integer", what, error);
	gint64 value;

	if (!node)
		return false;
	value = json_node_get_int(node);
	if (value < 0) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "%s: field \"%s\" is negative (%" G_GINT64_FORMAT ")", what, name, value);
		return false;
	}
	*ret = (uint64_t)value;
	return true;
}

/* The line's version first, so that a newer peer is told "version", not
 * "unknown field". */
static bool admission_check_version(JsonObject *object, const char *what, GError **error)
{
	JsonNode *node = admission_member(object, "version", G_TYPE_INT64, "an integer", what, error);
	gint64 version;

	if (!node)
		return false;
	version = json_node_get_int(node);
	if (version != ADMISSION_VERSION) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_VERSION,
			    "%s: version %" G_GINT64_FORMAT " is not the version %d this side speaks; run the same omem release on both sides",
			    what, version, ADMISSION_VERSION);
		return false;
	}
	return true;
}

static bool admission_uuid_is_canonical(const char *uuid)
{
	if (strlen(uuid) != ADMISSION_UUID_LENGTH)
		return false;
	for (int i = 0; i < ADMISSION_UUID_LENGTH; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uuid[i] != '-' :
			   !(g_ascii_isdigit(uuid[i]) || (uuid[i] >= 'a' && uuid[i] <= 'f')))
			return false;
	}
	return true;
}

/* The rules a request's values follow, shared by parse and format. */
static bool admission_request_check(const char *uuid, const char *name, uint64_t boot,
				    uint64_t min, uint64_t cap, uint64_t max, uint64_t block,
				    GError **error)
{
	size_t name_length = strlen(name);

	if (!admission_uuid_is_canonical(uuid)) {
		g_autofree char *quoted = admission_quote(uuid);

		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: uuid \"%s\" is not a canonical lower-case UUID", quoted);
		return false;
	}
	if (name_length == 0 || name_length > ADMISSION_NAME_MAX) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: the name has %zu bytes; 1 to %d are allowed", name_length,
			    ADMISSION_NAME_MAX);
		return false;
	}
	if (!g_utf8_validate(name, -1, NULL) || !admission_text_is_line(name)) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: the name is not UTF-8 text on one line");
		return false;
	}
	if (max > G_MAXINT64) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: max_bytes %" G_GUINT64_FORMAT " is beyond 2^63 - 1", max);
		return false;
	}
	if (boot == 0 || boot > min || min > cap || cap > max) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: sizes break 0 < boot <= min <= cap <= max (boot %" G_GUINT64_FORMAT
			    ", min %" G_GUINT64_FORMAT ", cap %" G_GUINT64_FORMAT ", max %" G_GUINT64_FORMAT ")",
			    boot, min, cap, max);
		return false;
	}
	if (block == 0 || (block & (block - 1)) || block > max - boot) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: block_bytes %" G_GUINT64_FORMAT " is not a power of two within max - boot (%" G_GUINT64_FORMAT ")",
			    block, max - boot);
		return false;
	}
	return true;
}

/* -------------------------------------------------------------- request */

bool admission_request_parse(const char *data, gsize len, AdmissionRequest *ret, GError **error)
{
	static const char *const known[] = { "version", "op", "uuid", "name", "boot_bytes",
					     "min_bytes", "cap_bytes", "max_bytes", "block_bytes", NULL };
	g_autoptr(JsonParser) parser = json_parser_new();
	AdmissionRequest request = { 0 };
	JsonObject *object;
	JsonNode *op, *uuid, *name;

	object = admission_load(parser, data, len, "request", error);
	if (!object || !admission_check_version(object, "request", error))
		return false;
	op = admission_member(object, "op", G_TYPE_STRING, "a string", "request", error);
	if (!op)
		return false;
	if (strcmp(json_node_get_string(op), "admit")) {
		g_autofree char *quoted = admission_quote(json_node_get_string(op));

		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: unknown op \"%s\" (only \"admit\" exists)", quoted);
		return false;
	}
	if (!admission_check_known(object, known, "request", error))
		return false;
	uuid = admission_member(object, "uuid", G_TYPE_STRING, "a string", "request", error);
	name = uuid ? admission_member(object, "name", G_TYPE_STRING, "a string", "request", error) : NULL;
	if (!name ||
	    !admission_get_size(object, "boot_bytes", "request", &request.boot_bytes, error) ||
	    !admission_get_size(object, "min_bytes", "request", &request.min_bytes, error) ||
	    !admission_get_size(object, "cap_bytes", "request", &request.cap_bytes, error) ||
	    !admission_get_size(object, "max_bytes", "request", &request.max_bytes, error) ||
	    !admission_get_size(object, "block_bytes", "request", &request.block_bytes, error))
		return false;
	if (!admission_request_check(json_node_get_string(uuid), json_node_get_string(name),
				     request.boot_bytes, request.min_bytes, request.cap_bytes,
				     request.max_bytes, request.block_bytes, error))
		return false;
	g_strlcpy(request.uuid, json_node_get_string(uuid), sizeof(request.uuid));
	g_strlcpy(request.name, json_node_get_string(name), sizeof(request.name));
	*ret = request;
	return true;
}

/* json-glib's builder takes gint64; callers checked the range. */
static void admission_member_int(JsonBuilder *builder, const char *name, uint64_t value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_int_value(builder, (gint64)value);
}

static void admission_member_string(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_string_value(builder, value);
}

/* @builder's object as one line with its newline. */
static char *admission_finish(JsonBuilder *builder, gsize *ret_length)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree char *text = NULL;
	gsize length = 0;
	char *line;

	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, &length);
	line = g_malloc(length + 2);
	memcpy(line, text, length);
	line[length] = '\n';
	line[length + 1] = '\0';
	*ret_length = length + 1;
	return line;
}

char *admission_request_format(const AdmissionRequest *request, gsize *ret_length, GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	char *line;
	gsize length = 0;

	/* The arrays need not be terminated: a request built by hand is
	 * checked like one read from the wire. */
	if (!memchr(request->uuid, '\0', sizeof(request->uuid)) ||
	    !memchr(request->name, '\0', sizeof(request->name))) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: the uuid or the name is not terminated");
		return NULL;
	}
	if (!admission_request_check(request->uuid, request->name, request->boot_bytes,
				     request->min_bytes, request->cap_bytes, request->max_bytes,
				     request->block_bytes, error))
		return NULL;

	json_builder_begin_object(builder);
	admission_member_int(builder, "version", ADMISSION_VERSION);
	admission_member_string(builder, "op", "admit");
	admission_member_string(builder, "uuid", request->uuid);
	admission_member_string(builder, "name", request->name);
	admission_member_int(builder, "boot_bytes", request->boot_bytes);
	admission_member_int(builder, "min_bytes", request->min_bytes);
	admission_member_int(builder, "cap_bytes", request->cap_bytes);
	admission_member_int(builder, "max_bytes", request->max_bytes);
	admission_member_int(builder, "block_bytes", request->block_bytes);
	json_builder_end_object(builder);
	line = admission_finish(builder, &length);
	/* Cannot happen with the bounds above; kept so the sender's promise
	 * ("the parser accepts what I format") never rests on arithmetic. */
	if (length > ADMISSION_LINE_MAX) {
		g_free(line);
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "request: %" G_GSIZE_FORMAT " bytes formatted, more than %d", length,
			    ADMISSION_LINE_MAX);
		return NULL;
	}
	*ret_length = length;
	return line;
}

/* ---------------------------------------------------------------- reply */

bool admission_reply_parse(const char *data, gsize len, AdmissionReply *ret, GError **error)
{
	static const char *const known[] = { "version", "admit", "message", NULL };
	g_autoptr(JsonParser) parser = json_parser_new();
	AdmissionReply reply = { 0 };
	JsonObject *object;
	JsonNode *admit, *message;
	const char *text;

	object = admission_load(parser, data, len, "reply", error);
	if (!object || !admission_check_version(object, "reply", error) ||
	    !admission_check_known(object, known, "reply", error))
		return false;
	admit = admission_member(object, "admit", G_TYPE_BOOLEAN, "a boolean", "reply", error);
	message = admit ? admission_member(object, "message", G_TYPE_STRING, "a string", "reply", error) : NULL;
	if (!message)
		return false;
	text = json_node_get_string(message);
	if (strlen(text) > ADMISSION_MESSAGE_MAX) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "reply: the message has %zu bytes, more than %d", strlen(text),
			    ADMISSION_MESSAGE_MAX);
		return false;
	}
	if (!g_utf8_validate(text, -1, NULL) || !admission_text_is_line(text)) {
		g_set_error(error, ADMISSION_ERROR, ADMISSION_ERROR_INVALID,
			    "reply: the message is not UTF-8 text on one line");
		return false;
	}
	reply.admit = json_node_get_boolean(admit);
	g_strlcpy(reply.message, text, sizeof(reply.message));
	*ret = reply;
	return true;
}

char *admission_message_line(const char *message)
{
	char *line = g_utf8_make_valid(message ? message : "", -1);
	char *cut;

	for (char *p = line; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (strlen(line) > ADMISSION_MESSAGE_MAX) {
		/* A character that straddles the limit is dropped whole. */
		cut = g_utf8_find_prev_char(line, line + ADMISSION_MESSAGE_MAX + 1);
		*cut = '\0';
	}
	return line;
}

char *admission_reply_format(bool admit, const char *message, gsize *ret_length)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree char *line = admission_message_line(message);

	json_builder_begin_object(builder);
	admission_member_int(builder, "version", ADMISSION_VERSION);
	json_builder_set_member_name(builder, "admit");
	json_builder_add_boolean_value(builder, admit);
	admission_member_string(builder, "message", line);
	json_builder_end_object(builder);
	return admission_finish(builder, ret_length);
}

char *admission_fail_open_line(int64_t unix_s, const char *name, gsize *ret_length)
{
	GString *line = g_string_new(NULL);
	gsize length = strnlen(name ? name : "", ADMISSION_NAME_MAX);

	g_string_append_printf(line, "%" G_GINT64_FORMAT " ", unix_s);
	for (gsize i = 0; i < length; i++)
		g_string_append_c(line, name[i] > ' ' && name[i] < 0x7f ? name[i] : '?');
	g_string_append_c(line, '\n');
	*ret_length = line->len;
	return g_string_free(line, FALSE);
}

uint64_t admission_fail_open_count(const char *text, gsize length)
{
	uint64_t lines = 0;
	const char *end = text + length;

	if (!text)
		return 0;
	for (const char *at = text; (at = memchr(at, '\n', end - at)); at++)
		lines++;
	return lines;
}
