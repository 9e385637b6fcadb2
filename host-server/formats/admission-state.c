/* SPDX-License-Identifier: MIT */
/*
 * admission-state.c: omemd's saved admission reservations; see
 * admission-state.h.
 */
#include "config.h"

#include <string.h>

#include "formats/admission-state.h"

#define ADMISSION_STATE_HEADER "omem-admission-state 1"

G_DEFINE_QUARK(omem-admission-state-error, admission_state_error)

static bool admission_state_uuid_valid(const char *uuid, size_t len)
{
	if (len != ADMISSION_UUID_LENGTH)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uuid[i] != '-' : !(g_ascii_isdigit(uuid[i]) || (uuid[i] >= 'a' && uuid[i] <= 'f')))
			return false;
	}
	return true;
}

static bool admission_state_entry_valid(const AdmissionStateEntry *entry)
{
	return admission_state_uuid_valid(entry->uuid, strnlen(entry->uuid, sizeof(entry->uuid))) &&
	       entry->bytes > 0 && entry->bytes <= ADMISSION_STATE_BYTES_MAX &&
	       entry->expires_unix_ms > 0;
}

char *admission_state_format(const AdmissionStateEntry *entries, size_t n)
{
	GString *text = g_string_new(ADMISSION_STATE_HEADER "\n");

	for (size_t i = 0; i < n && i < ADMISSION_STATE_ENTRIES_MAX; i++) {
		if (!admission_state_entry_valid(&entries[i]))
			continue;
		g_string_append_printf(text, "%s %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n",
				       entries[i].uuid, entries[i].bytes, entries[i].expires_unix_ms);
	}
	return g_string_free(text, FALSE);
}

/* A decimal number of 1 to 19 digits, no sign, no leading zero. */
static bool admission_state_number(const char *text, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t value = 0;

	if (len == 0 || len > 19 || (len > 1 && text[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(text[i]))
			return false;
		value = value * 10 + (uint64_t)(text[i] - '0');
	}
	if (value > max)
		return false;
	*ret = value;
	return true;
}

static bool admission_state_fail(GError **error, unsigned int line, const char *what)
{
	g_set_error(error, ADMISSION_STATE_ERROR, ADMISSION_STATE_ERROR_INVALID,
		    "line %u: %s", line, what);
	return false;
}

/* One "UUID BYTES EXPIRES" line of @len bytes (no "\n"). */
static bool admission_state_line(const char *line, size_t len, AdmissionStateEntry *ret)
{
	const char *first = memchr(line, ' ', len), *second;
	uint64_t bytes, expires;

	if (!first)
		return false;
	second = memchr(first + 1, ' ', len - (size_t)(first + 1 - line));
	if (!second)
		return false;
	if (!admission_state_uuid_valid(line, (size_t)(first - line)) ||
	    !admission_state_number(first + 1, (size_t)(second - first - 1), ADMISSION_STATE_BYTES_MAX, &bytes) ||
	    bytes == 0 ||
	    !admission_state_number(second + 1, len - (size_t)(second + 1 - line), G_MAXINT64, &expires) ||
	    expires == 0)
		return false;
	memcpy(ret->uuid, line, ADMISSION_UUID_LENGTH);
	ret->uuid[ADMISSION_UUID_LENGTH] = '\0';
	ret->bytes = bytes;
	ret->expires_unix_ms = (int64_t)expires;
	return true;
}

bool admission_state_parse(const char *text, size_t len, GArray **ret_entries, GError **error)
{
	g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(AdmissionStateEntry));
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t pos = 0;
	unsigned int number = 0;

	if (len > ADMISSION_STATE_TEXT_MAX)
		return admission_state_fail(error, 0, "longer than any file omemd writes");
	if (memchr(text, '\0', len))
		return admission_state_fail(error, 0, "a NUL byte");
	while (pos < len) {
		const char *line = text + pos;
		const char *end = memchr(line, '\n', len - pos);
		size_t line_len;

		if (!end)
			return admission_state_fail(error, number + 1, "no newline at the end");
		line_len = (size_t)(end - line);
		pos += line_len + 1;
		number++;
		if (number == 1) {
			if (line_len != strlen(ADMISSION_STATE_HEADER) ||
			    memcmp(line, ADMISSION_STATE_HEADER, line_len))
				return admission_state_fail(error, 1, "not \"" ADMISSION_STATE_HEADER "\"");
			continue;
		}
		if (entries->len == ADMISSION_STATE_ENTRIES_MAX)
			return admission_state_fail(error, number, "more reservations than omemd keeps");
		g_array_set_size(entries, entries->len + 1);
		if (!admission_state_line(line, line_len,
					  &g_array_index(entries, AdmissionStateEntry, entries->len - 1)))
			return admission_state_fail(error, number, "not \"UUID BYTES EXPIRES_UNIX_MS\"");
		if (!g_hash_table_add(seen, g_strdup(g_array_index(entries, AdmissionStateEntry,
								   entries->len - 1).uuid)))
			return admission_state_fail(error, number, "a UUID seen before");
	}
	if (number == 0)
		return admission_state_fail(error, 1, "empty");
	*ret_entries = g_steal_pointer(&entries);
	return true;
}
