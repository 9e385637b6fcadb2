/* SPDX-License-Identifier: MIT */
/*
 * test-admission-state: the file omemd keeps its admission reservations
 * in across restarts (host-server/formats/admission-state.c): what it
 * writes reads back the same, and every other text is refused whole with
 * the line named; then the arbiter's side (arbiter_reservations,
 * arbiter_admit_restore): a restored reservation holds memory like an
 * admitted one, is consumed by its VM and lapses on time.
 */
#include "config.h"

#include <string.h>

#include "arbiter/arbiter.h"
#include "formats/admission-state.h"
#include "tap.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define UUID_A "6f6d656d-0000-4000-8000-000000000001"
#define UUID_B "6f6d656d-0000-4000-8000-000000000002"

static bool entry_equal(const AdmissionStateEntry *a, const AdmissionStateEntry *b)
{
	return !strcmp(a->uuid, b->uuid) && a->bytes == b->bytes && a->expires_unix_ms == b->expires_unix_ms;
}

static void test_round_trip(void)
{
	AdmissionStateEntry entries[2] = {
		{ UUID_A, 1152 * MIB, 1765000000000 },
		{ UUID_B, 1, 1 },
	};
	g_autofree char *text = admission_state_format(entries, 2);
	g_autoptr(GArray) back = NULL;
	g_autoptr(GError) error = NULL;

	tap_ok(g_str_has_prefix(text, "omem-admission-state 1\n"), "the file starts with its header");
	if (!tap_ok(admission_state_parse(text, strlen(text), &back, &error), "what omemd writes reads back")) {
		tap_diag("%s", error->message);
		return;
	}
	/* Field by field: the struct's padding after the UUID is not part
	 * of what is saved (a memcmp compared stack garbage). */
	tap_ok(back->len == 2 && entry_equal(&g_array_index(back, AdmissionStateEntry, 0), &entries[0]) &&
	       entry_equal(&g_array_index(back, AdmissionStateEntry, 1), &entries[1]),
	       "... the same entries");
	g_clear_pointer(&text, g_free);
	text = admission_state_format(NULL, 0);
	g_clear_pointer(&back, g_array_unref);
	tap_ok(admission_state_parse(text, strlen(text), &back, NULL) && back->len == 0,
	       "no reservation is a header alone");
}

static void refused(const char *text, size_t len, const char *must_say, const char *what)
{
	g_autoptr(GArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	bool ok = !admission_state_parse(text, len, &entries, &error) && !entries &&
		  g_error_matches(error, ADMISSION_STATE_ERROR, ADMISSION_STATE_ERROR_INVALID) &&
		  strstr(error->message, must_say);

	if (!tap_ok(ok, "refused: %s", what))
		tap_diag("%s", error ? error->message : "accepted");
}

#define REFUSED(text, must_say, what) refused(text, sizeof(text) - 1, must_say, what)

static void test_refusals(void)
{
	REFUSED("", "empty", "an empty file");
	REFUSED("omem-admission-state 2\n", "line 1", "another version");
	REFUSED("omem-admission-state 1", "no newline", "no newline at the end");
	REFUSED("omem-admission-state 1\n" UUID_A " 1024 17\n" UUID_A " 2048 17\n", "line 3: a UUID seen before",
		"a UUID twice");
	REFUSED("omem-admission-state 1\n" UUID_A " 0 17\n", "line 2", "zero bytes");
	REFUSED("omem-admission-state 1\n" UUID_A " 1024 0\n", "line 2", "no expiry");
	REFUSED("omem-admission-state 1\n" UUID_A " 01024 17\n", "line 2", "a leading zero");
	REFUSED("omem-admission-state 1\n" UUID_A " -1024 17\n", "line 2", "a sign");
	REFUSED("omem-admission-state 1\n" UUID_A " 1125899906842625 17\n", "line 2", "more than 1 PiB");
	REFUSED("omem-admission-state 1\n" UUID_A " 1024 99999999999999999999\n", "line 2", "an expiry past 2^63");
	REFUSED("omem-admission-state 1\n" "6F6D656D-0000-4000-8000-000000000001 1024 17\n", "line 2",
		"an upper-case UUID");
	REFUSED("omem-admission-state 1\n" "6f6d656d-0000-4000-8000-00000000001 1024 17\n", "line 2",
		"a short UUID");
	REFUSED("omem-admission-state 1\n" UUID_A "  1024 17\n", "line 2", "two blanks");
	REFUSED("omem-admission-state 1\n" UUID_A " 1024 17 x\n", "line 2", "a fourth field");
	REFUSED("omem-admission-state 1\n" UUID_A " 1024 17\r\n", "line 2", "a carriage return");
	refused("omem-admission-state 1\n\0", 24, "NUL", "a NUL byte");
	{
		GString *many = g_string_new("omem-admission-state 1\n");

		for (unsigned int i = 0; i <= ADMISSION_STATE_ENTRIES_MAX; i++)
			g_string_append_printf(many, "6f6d656d-0000-4000-8000-%012u 1024 17\n", i);
		refused(many->str, many->len, "more reservations", "more lines than omemd keeps");
		g_string_free(many, TRUE);
	}
}

static void test_arbiter(void)
{
	ArbiterContract contract = {
		.boot_bytes = 512 * MIB, .min_bytes = 1 * GIB, .cap_bytes = 2 * GIB,
		.max_bytes = 2 * GIB, .block_bytes = 2 * MIB,
	};
	g_autoptr(Arbiter) arbiter = NULL;
	ArbiterReservationInfo infos[4];
	ArbiterAdmitResult result;
	ArbiterConfig config;
	ArbiterStats stats;
	ArbiterOps ops;

	arbiter_config_init(&config);
	config.budget_bytes = 2 * GIB;
	if (!tap_ok(arbiter_new(&config, &arbiter) == 0, "an arbiter of 2 GiB"))
		return;
	tap_ok(arbiter_reservations(arbiter, infos, 4) == 0, "no reservation at first");
	tap_ok(arbiter_admit_restore(arbiter, UUID_A, 1152 * MIB, 60000, 1000) == 0, "a saved reservation is restored");
	tap_ok(arbiter_admit_restore(arbiter, UUID_A, 1152 * MIB, 60000, 1000) == -EEXIST, "... once");
	tap_ok(arbiter_admit_restore(arbiter, UUID_B, 1152 * MIB, 1000, 1000) == -EINVAL,
	       "a lapsed one is refused");
	tap_ok(arbiter_admit_restore(arbiter, UUID_B, 0, 60000, 1000) == -EINVAL, "so is one of no bytes");
	tap_ok(arbiter_reservations(arbiter, infos, 4) == 1 && !strcmp(infos[0].key, UUID_A) &&
	       infos[0].bytes == 1152 * MIB && infos[0].expires_ms == 60000,
	       "arbiter_reservations lists it as restored");
	tap_ok(arbiter_admit(arbiter, UUID_B, &contract, 2000, &result) == 0 && !result.admitted &&
	       result.reserved_bytes == 1152 * MIB,
	       "it holds its memory: a second VM of the same min does not fit beside it");
	tap_ok(arbiter_vm_add(arbiter, 1, UUID_A, &contract, 512 * MIB, 512 * MIB, 3000) == 0 &&
	       arbiter_reservations(arbiter, infos, 4) == 0,
	       "its VM joining consumes it");
	arbiter_vm_remove(arbiter, 1);
	tap_ok(arbiter_admit_restore(arbiter, UUID_B, 1152 * MIB, 10000, 3000) == 0, "another is restored");
	arbiter_tick(arbiter, 10000 + config.admission_ttl_ms, &ops);
	arbiter_get_stats(arbiter, &stats);
	tap_ok(arbiter_reservations(arbiter, infos, 4) == 0 && stats.reserved_bytes == 0,
	       "... and lapses at its expiry like an admitted one");
	tap_ok(arbiter_check(arbiter, NULL), "the arbiter's invariants hold");
}

int main(void)
{
	test_round_trip();
	test_refusals();
	test_arbiter();
	return tap_done();
}
