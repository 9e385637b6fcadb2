/* SPDX-License-Identifier: MIT */
/*
 * exposition: a small, strict reader of Prometheus's text exposition
 * format (0.0.4) for the tests: every line parsed, label values
 * unescaped, each family's HELP and TYPE once and its samples together,
 * histograms cumulative and ending at +Inf == _count.  Broken rules are
 * counted in errors and the first ten shown as TAP diagnostics, so a
 * hostile label value that forges a line shows up as an error or a
 * sample too many.
 */
#ifndef OMEM_TEST_EXPOSITION_H
#define OMEM_TEST_EXPOSITION_H

#include <stdbool.h>

#include <glib.h>

/* One sample line, its label values unescaped. */
typedef struct {
	char *name;
	GHashTable *labels; /* name -> unescaped value */
	double value;
} Sample;

/* What the reader learnt from a document. */
typedef struct {
	GHashTable *types;  /* family -> "counter", "gauge", "histogram" */
	GHashTable *helps;  /* family -> help text */
	GPtrArray *samples; /* Sample *, in document order */
	unsigned errors;    /* lines or rules broken */
} Exposition;

/* Read @text into @exposition (zeroed first by the caller). */
void exposition_read(Exposition *exposition, const char *text, gsize length);

/* Free what the reader keeps. */
void exposition_clear(Exposition *exposition);

/* The sample named @name whose labels include @label = @value (@label
 * NULL: the first sample of that name), or NULL. */
const Sample *exposition_find(const Exposition *exposition, const char *name,
			      const char *label, const char *value);

/* That sample's value, -1 when there is none. */
double exposition_value(const Exposition *exposition, const char *name, const char *label,
			const char *value);

/* Samples named @name. */
unsigned exposition_count(const Exposition *exposition, const char *name);

/* Buckets in increasing le, cumulative, ending at +Inf == _count, and a
 * _sum; the number of rules broken. */
unsigned exposition_check_histogram(const Exposition *exposition, const char *family);

#endif /* OMEM_TEST_EXPOSITION_H */
