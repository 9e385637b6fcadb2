/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the file omemd saves its admission reservations in
 * (host-server/formats/admission-state.c): omemd reads it back at start,
 * and a file that is not what it wrote must be refused, never trusted.
 * Oracles, reported with abort():
 *   - a text that parsed holds at most ADMISSION_STATE_ENTRIES_MAX valid
 *     entries, no UUID twice, and formats to a text that parses to the
 *     same entries and formats to the same bytes again (canonical);
 *   - a refusal is one line in an ADMISSION_STATE_ERROR, and the output
 *     is untouched.
 * tests/fuzz/corpus/admission-state/ holds the seeds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/admission-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GArray) entries = NULL, back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL, *again = NULL;

	if (!admission_state_parse((const char *)data, size, &entries, &error)) {
		if (entries || !error || error->domain != ADMISSION_STATE_ERROR || strchr(error->message, '\n'))
			abort();
		return 0;
	}
	if (error || entries->len > ADMISSION_STATE_ENTRIES_MAX)
		abort();
	text = admission_state_format((const AdmissionStateEntry *)(void *)entries->data, entries->len);
	if (!admission_state_parse(text, strlen(text), &back, NULL) || back->len != entries->len ||
	    (entries->len && memcmp(back->data, entries->data, entries->len * sizeof(AdmissionStateEntry))))
		abort();
	again = admission_state_format((const AdmissionStateEntry *)(void *)back->data, back->len);
	if (strcmp(text, again))
		abort();
	return 0;
}
