/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for omemd's /proc readers (host-server/formats/host-info.c):
 * each input is handed, exactly as long as it is, to both
 * host_info_parse_meminfo and host_info_parse_psi.  The kernel is not
 * hostile, but these figures size every VM on the host, so the parsers
 * get the same treatment as the guest-facing ones.  The oracle aborts
 * when
 *   - a refusal touches the output or comes without a HOST_INFO_ERROR
 *     whose message is one line of valid UTF-8 (input is never echoed);
 *   - an accepted meminfo has a key that is not on exactly one line, or a
 *     figure that differs from that line's number times 1024, recomputed
 *     here with g_ascii_strtoull on a copy;
 *   - an accepted PSI text has an average above 100.00, or a "full"
 *     verdict that disagrees with the lines;
 *   - a result written back in the kernel's own format does not parse to
 *     the same figures.
 * ASan and UBSan catch reads past the buffer (it has no NUL) and overflow.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/host-info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_hostinfo_check_error(const GError *error)
{
	if (!error || error->domain != HOST_INFO_ERROR || error->code < HOST_INFO_ERROR_INVALID ||
	    error->code > HOST_INFO_ERROR_RANGE || !error->message[0] ||
	    strchr(error->message, '\n') || !g_utf8_validate(error->message, -1, NULL))
		abort();
}

/* The lines of @copy (NUL-terminated) whose text before the first ':' is
 * @key; the number after the colon of the last one in *ret_kib. */
static unsigned fuzz_hostinfo_count_key(char *const *lines, const char *key, uint64_t *ret_kib)
{
	size_t key_length = strlen(key);
	unsigned count = 0;

	for (unsigned i = 0; lines[i]; i++) {
		const char *colon = strchr(lines[i], ':');

		if (!colon || (size_t)(colon - lines[i]) != key_length ||
		    strncmp(lines[i], key, key_length) != 0)
			continue;
		count++;
		*ret_kib = g_ascii_strtoull(colon + 1, NULL, 10);
		if (!g_str_has_suffix(lines[i], " kB"))
			abort();
	}
	return count;
}

static void fuzz_hostinfo_meminfo(const char *text, size_t size)
{
	static const char *const keys[] = { "MemTotal", "MemAvailable", "SwapTotal", "SwapFree" };
	g_autoptr(GError) error = NULL;
	g_autofree char *copy = NULL, *canonical = NULL;
	g_auto(GStrv) lines = NULL;
	HostMeminfo m, untouched, again;
	uint64_t figures[4];

	memset(&m, 0xa5, sizeof(m));
	untouched = m;
	if (!host_info_parse_meminfo(text, size, &m, &error)) {
		fuzz_hostinfo_check_error(error);
		if (memcmp(&m, &untouched, sizeof(m)))
			abort();
		return;
	}
	if (error || memchr(text, '\0', size))
		abort();

	copy = g_strndup(text, size);
	lines = g_strsplit(copy, "\n", -1);
	figures[0] = m.total_bytes;
	figures[1] = m.available_bytes;
	figures[2] = m.swap_total_bytes;
	figures[3] = m.swap_free_bytes;
	for (unsigned k = 0; k < G_N_ELEMENTS(keys); k++) {
		uint64_t kib = 0;

		if (fuzz_hostinfo_count_key(lines, keys[k], &kib) != 1)
			abort();
		if (kib > UINT64_MAX / 1024 || kib * 1024 != figures[k])
			abort();
	}

	canonical = g_strdup_printf("MemTotal:       %8" G_GUINT64_FORMAT " kB\n"
				    "MemAvailable:   %8" G_GUINT64_FORMAT " kB\n"
				    "SwapTotal:      %8" G_GUINT64_FORMAT " kB\n"
				    "SwapFree:       %8" G_GUINT64_FORMAT " kB\n",
				    m.total_bytes / 1024, m.available_bytes / 1024,
				    m.swap_total_bytes / 1024, m.swap_free_bytes / 1024);
	if (!host_info_parse_meminfo(canonical, strlen(canonical), &again, NULL) ||
	    memcmp(&m, &again, sizeof(m)))
		abort();
}

/* Whether any line of @text starts with @prefix. */
static bool fuzz_hostinfo_has_line(const char *text, size_t size, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i + n <= size; i++) {
		if ((i == 0 || text[i - 1] == '\n') && !memcmp(text + i, prefix, n))
			return true;
	}
	return false;
}

/* Field by field: the structs have padding, which memcmp would see. */
static bool fuzz_hostinfo_same_line(const HostPsiLine *a, const HostPsiLine *b)
{
	return a->avg10 == b->avg10 && a->avg60 == b->avg60 && a->avg300 == b->avg300 &&
	       a->total_us == b->total_us;
}

static char *fuzz_hostinfo_psi_line(const char *kind, const HostPsiLine *line)
{
	return g_strdup_printf("%s avg10=%u.%02u avg60=%u.%02u avg300=%u.%02u total=%" G_GUINT64_FORMAT "\n",
			       kind, line->avg10 / 100, line->avg10 % 100, line->avg60 / 100,
			       line->avg60 % 100, line->avg300 / 100, line->avg300 % 100,
			       line->total_us);
}

static void fuzz_hostinfo_psi(const char *text, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *some = NULL, *full = NULL, *canonical = NULL;
	HostPsi psi, untouched, again;
	const HostPsiLine *line;

	memset(&psi, 0x5a, sizeof(psi));
	untouched = psi;
	if (!host_info_parse_psi(text, size, &psi, &error)) {
		fuzz_hostinfo_check_error(error);
		if (memcmp(&psi, &untouched, sizeof(psi)))
			abort();
		return;
	}
	if (error || !fuzz_hostinfo_has_line(text, size, "some "))
		abort();
	if (psi.full_known != fuzz_hostinfo_has_line(text, size, "full "))
		abort();
	for (int i = 0; i < 2; i++) {
		line = i ? &psi.full : &psi.some;
		if (line->avg10 > HOST_INFO_PSI_AVG_MAX || line->avg60 > HOST_INFO_PSI_AVG_MAX ||
		    line->avg300 > HOST_INFO_PSI_AVG_MAX)
			abort();
	}
	if (!psi.full_known && (psi.full.avg10 || psi.full.avg60 || psi.full.avg300 || psi.full.total_us))
		abort();

	some = fuzz_hostinfo_psi_line("some", &psi.some);
	full = psi.full_known ? fuzz_hostinfo_psi_line("full", &psi.full) : g_strdup("");
	canonical = g_strconcat(some, full, NULL);
	memset(&again, 0, sizeof(again));
	if (!host_info_parse_psi(canonical, strlen(canonical), &again, NULL) ||
	    !fuzz_hostinfo_same_line(&psi.some, &again.some) ||
	    !fuzz_hostinfo_same_line(&psi.full, &again.full) || psi.full_known != again.full_known)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: a read one byte past the input is an ASan
	 * report, whatever libFuzzer's own buffer holds after it. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	fuzz_hostinfo_meminfo(text, size);
	fuzz_hostinfo_psi(text, size);
	free(text);
	return 0;
}
