/* SPDX-License-Identifier: MIT */
/*
 * exposition: a small, strict reader of Prometheus's text exposition
 * format for the tests (see exposition.h).
 */
#include "config.h"

#include "exposition.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "tap.h"

static void sample_free(gpointer data)
{
	Sample *sample = data;

	g_free(sample->name);
	g_hash_table_unref(sample->labels);
	g_free(sample);
}

void exposition_clear(Exposition *exposition)
{
	g_clear_pointer(&exposition->types, g_hash_table_unref);
	g_clear_pointer(&exposition->helps, g_hash_table_unref);
	g_clear_pointer(&exposition->samples, g_ptr_array_unref);
}

static void __attribute__((format(printf, 3, 4)))
exposition_error(Exposition *exposition, unsigned line, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (exposition->errors++ < 10)
		tap_diag("line %u: %s", line, text);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or without ':' (label); the length
 * taken, 0 when there is no name. */
static size_t exposition_name_length(const char *p, bool colon)
{
	size_t n = 0;

	while (g_ascii_isalpha(p[n]) || p[n] == '_' || (colon && p[n] == ':') ||
	       (n > 0 && g_ascii_isdigit(p[n])))
		n++;
	return n;
}

static bool exposition_parse_value(const char *text, double *ret_value)
{
	char *end = NULL;

	if (!strcmp(text, "+Inf")) {
		*ret_value = INFINITY;
		return true;
	}
	if (!strcmp(text, "-Inf")) {
		*ret_value = -INFINITY;
		return true;
	}
	if (!strcmp(text, "NaN")) {
		*ret_value = NAN;
		return true;
	}
	if (!*text)
		return false;
	*ret_value = g_ascii_strtod(text, &end);
	return *end == '\0';
}

/* name{label="value",...} value */
static Sample *exposition_parse_sample(Exposition *exposition, unsigned line, const char *p)
{
	g_autoptr(GHashTable) labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	size_t n = exposition_name_length(p, true);
	g_autofree char *name = g_strndup(p, n);
	Sample *sample;
	double value;

	if (n == 0) {
		exposition_error(exposition, line, "no metric name");
		return NULL;
	}
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			g_autoptr(GString) label_value = g_string_new(NULL);
			g_autofree char *label = NULL;

			n = exposition_name_length(p, false);
			if (n == 0 || p[n] != '=' || p[n + 1] != '"') {
				exposition_error(exposition, line, "bad label at \"%s\"", p);
				return NULL;
			}
			label = g_strndup(p, n);
			for (p += n + 2; *p != '"'; p++) {
				if (!*p) {
					exposition_error(exposition, line, "unterminated label value");
					return NULL;
				}
				if (*p != '\\') {
					g_string_append_c(label_value, *p);
					continue;
				}
				p++;
				if (*p == '\\' || *p == '"')
					g_string_append_c(label_value, *p);
				else if (*p == 'n')
					g_string_append_c(label_value, '\n');
				else {
					exposition_error(exposition, line, "bad escape \\%c", *p);
					return NULL;
				}
			}
			p++;
			if (g_hash_table_contains(labels, label)) {
				exposition_error(exposition, line, "label %s twice", label);
				return NULL;
			}
			g_hash_table_insert(labels, g_steal_pointer(&label),
					    g_string_free(g_steal_pointer(&label_value), FALSE));
			if (*p == ',')
				p++;
			else if (*p != '}') {
				exposition_error(exposition, line, "expected , or } at \"%s\"", p);
				return NULL;
			}
		}
		p++;
	}
	if (*p != ' ' || !exposition_parse_value(p + 1, &value)) {
		exposition_error(exposition, line, "bad value \"%s\"", p);
		return NULL;
	}
	sample = g_new0(Sample, 1);
	sample->name = g_steal_pointer(&name);
	sample->labels = g_steal_pointer(&labels);
	sample->value = value;
	return sample;
}

/* The family a sample belongs to, or NULL. */
static const char *exposition_family_of(Exposition *exposition, const char *name)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	gpointer family, type;

	if (g_hash_table_lookup_extended(exposition->types, name, &family, NULL))
		return family;
	for (unsigned i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *base = NULL;

		if (!g_str_has_suffix(name, suffixes[i]))
			continue;
		base = g_strndup(name, strlen(name) - strlen(suffixes[i]));
		if (g_hash_table_lookup_extended(exposition->types, base, &family, &type) &&
		    !strcmp(type, "histogram"))
			return family;
	}
	return NULL;
}

/* Read @text; every rule broken counts in exposition->errors. */
void exposition_read(Exposition *exposition, const char *text, gsize length)
{
	g_auto(GStrv) lines = NULL;
	const char *current = NULL; /* family whose samples may follow */
	GHashTableIter iter;
	gpointer announced;
	unsigned n_lines;

	exposition->types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	exposition->helps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	exposition->samples = g_ptr_array_new_with_free_func(sample_free);
	exposition->errors = 0;

	if (strlen(text) != length || !g_utf8_validate(text, length, NULL)) {
		exposition_error(exposition, 0, "not one UTF-8 string of the given length");
		return;
	}
	if (length == 0 || text[length - 1] != '\n') {
		exposition_error(exposition, 0, "does not end with a line feed");
		return;
	}
	lines = g_strsplit(text, "\n", -1);
	n_lines = g_strv_length(lines) - 1; /* after the last \n: "" */
	for (unsigned i = 0; i < n_lines; i++) {
		const char *line = lines[i];
		unsigned number = i + 1;
		const char *sample_family;
		Sample *sample;

		if (g_str_has_prefix(line, "# HELP ") || g_str_has_prefix(line, "# TYPE ")) {
			bool help = line[2] == 'H';
			const char *name = line + 7;
			size_t n = exposition_name_length(name, true);
			g_autofree char *family = g_strndup(name, n);
			GHashTable *table = help ? exposition->helps : exposition->types;

			if (n == 0 || name[n] != ' ' || !name[n + 1]) {
				exposition_error(exposition, number, "malformed comment");
				continue;
			}
			if (g_hash_table_contains(table, family)) {
				exposition_error(exposition, number, "second %s for %s",
						 help ? "HELP" : "TYPE", family);
				continue;
			}
			if (!help && strcmp(name + n + 1, "counter") && strcmp(name + n + 1, "gauge") &&
			    strcmp(name + n + 1, "histogram"))
				exposition_error(exposition, number, "type \"%s\"", name + n + 1);
			if (!help)
				current = family;
			g_hash_table_insert(table, g_steal_pointer(&family), g_strdup(name + n + 1));
			continue;
		}
		if (line[0] == '#')
			continue;
		sample = exposition_parse_sample(exposition, number, line);
		if (!sample)
			continue;
		g_ptr_array_add(exposition->samples, sample);
		sample_family = exposition_family_of(exposition, sample->name);
		if (!sample_family)
			exposition_error(exposition, number, "%s has no TYPE", sample->name);
		else if (!current || strcmp(sample_family, current) != 0)
			exposition_error(exposition, number, "%s is not with the rest of %s",
					 sample->name, sample_family);
	}

	/* Every family announced twice over (HELP and TYPE). */
	g_hash_table_iter_init(&iter, exposition->types);
	while (g_hash_table_iter_next(&iter, &announced, NULL)) {
		if (!g_hash_table_contains(exposition->helps, announced))
			exposition_error(exposition, 0, "%s has TYPE but no HELP", (char *)announced);
	}
	g_hash_table_iter_init(&iter, exposition->helps);
	while (g_hash_table_iter_next(&iter, &announced, NULL)) {
		if (!g_hash_table_contains(exposition->types, announced))
			exposition_error(exposition, 0, "%s has HELP but no TYPE", (char *)announced);
	}
}

/* The sample named @name whose labels include @label = @value (@label
 * NULL: the first sample of that name), or NULL. */
const Sample *exposition_find(const Exposition *exposition, const char *name,
			      const char *label, const char *value)
{
	for (unsigned i = 0; i < exposition->samples->len; i++) {
		const Sample *sample = exposition->samples->pdata[i];
		const char *got;

		if (strcmp(sample->name, name) != 0)
			continue;
		if (!label)
			return sample;
		got = g_hash_table_lookup(sample->labels, label);
		if (got && !strcmp(got, value))
			return sample;
	}
	return NULL;
}

double exposition_value(const Exposition *exposition, const char *name, const char *label,
			const char *value)
{
	const Sample *sample = exposition_find(exposition, name, label, value);

	return sample ? sample->value : -1;
}

unsigned exposition_count(const Exposition *exposition, const char *name)
{
	unsigned n = 0;

	for (unsigned i = 0; i < exposition->samples->len; i++)
		n += !strcmp(((Sample *)exposition->samples->pdata[i])->name, name);
	return n;
}

/* Buckets in increasing le, cumulative, ending at +Inf == _count, and a
 * _sum; the number of rules broken. */
unsigned exposition_check_histogram(const Exposition *exposition, const char *family)
{
	g_autofree char *bucket = g_strconcat(family, "_bucket", NULL);
	g_autofree char *sum = g_strconcat(family, "_sum", NULL);
	g_autofree char *count = g_strconcat(family, "_count", NULL);
	double last_le = -INFINITY, last_value = 0;
	unsigned broken = 0, buckets = 0;

	for (unsigned i = 0; i < exposition->samples->len; i++) {
		const Sample *sample = exposition->samples->pdata[i];
		const char *le_text;
		double le;

		if (strcmp(sample->name, bucket) != 0)
			continue;
		buckets++;
		le_text = g_hash_table_lookup(sample->labels, "le");
		if (!le_text || !exposition_parse_value(le_text, &le) || le <= last_le) {
			tap_diag("%s: bucket le=%s out of order", family, le_text ? le_text : "(none)");
			broken++;
			continue;
		}
		if (sample->value < last_value) {
			tap_diag("%s: bucket le=%s is below the one before", family, le_text);
			broken++;
		}
		last_le = le;
		last_value = sample->value;
	}
	if (buckets < 2 || !isinf(last_le)) {
		tap_diag("%s: %u buckets, the last not +Inf", family, buckets);
		broken++;
	}
	if (!exposition_find(exposition, count, NULL, NULL) ||
	    exposition_value(exposition, count, NULL, NULL) != last_value) {
		tap_diag("%s: _count differs from the +Inf bucket", family);
		broken++;
	}
	if (!exposition_find(exposition, sum, NULL, NULL)) {
		tap_diag("%s: no _sum", family);
		broken++;
	}
	return broken;
}
