/* SPDX-License-Identifier: MIT */
/*
 * host-info: strict readers of /proc/meminfo and /proc/pressure/memory
 * (see host-info.h).  Both parsers walk the text line by line with a
 * bounded cursor; no line is copied, nothing is allocated, every number
 * is checked for overflow before it is multiplied.
 */
#include "config.h"

#include "formats/host-info.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK(host-info-error-quark, host_info_error)

/* A read position inside one line: [p, end). */
typedef struct {
	const char *p;
	const char *end;
} HostInfoCursor;

/* Check what both files share: bounded, and text (the kernel never writes
 * a NUL, and one would hide the rest of a line from a C-string reader). */
static bool host_info_check_text(const char *text, gsize len, const char *what, GError **error)
{
	if (len > HOST_INFO_TEXT_MAX) {
		g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_INVALID,
			    "%s: %" G_GSIZE_FORMAT " bytes, more than the %d the kernel could write",
			    what, len, HOST_INFO_TEXT_MAX);
		return false;
	}
	if (len && memchr(text, '\0', len)) {
		g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_INVALID,
			    "%s: contains a NUL byte; not the kernel's text", what);
		return false;
	}
	return true;
}

/* The line starting at *offset; *offset moves past its newline.  false at
 * the end of the text. */
static bool host_info_next_line(const char *text, gsize len, gsize *offset, HostInfoCursor *line)
{
	const char *start, *newline;

	if (*offset >= len)
		return false;
	start = text + *offset;
	newline = memchr(start, '\n', len - *offset);
	line->p = start;
	line->end = newline ? newline : text + len;
	*offset = (gsize)(line->end - text) + (newline ? 1 : 0);
	return true;
}

/* Consume @literal if the cursor starts with it. */
static bool host_info_accept(HostInfoCursor *cursor, const char *literal)
{
	size_t n = strlen(literal);

	if ((size_t)(cursor->end - cursor->p) < n || memcmp(cursor->p, literal, n) != 0)
		return false;
	cursor->p += n;
	return true;
}

/* One or more decimal digits into a uint64: 0, -EINVAL (no digit) or
 * -ERANGE (past 2^64 - 1). */
static int host_info_parse_u64(HostInfoCursor *cursor, uint64_t *ret_value)
{
	uint64_t value = 0;
	const char *start = cursor->p;

	while (cursor->p < cursor->end && g_ascii_isdigit(*cursor->p)) {
		unsigned digit = (unsigned)(*cursor->p - '0');

		if (value > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
		cursor->p++;
	}
	if (cursor->p == start)
		return -EINVAL;
	*ret_value = value;
	return 0;
}

/* --- /proc/meminfo --- */

/* The keys omemd uses, in HostMeminfo's order. */
static const char *const host_info_meminfo_keys[] = {
	"MemTotal", "MemAvailable", "SwapTotal", "SwapFree",
};

/* The value of a known key: "<blanks>DIGITS kB" up to the end of the line,
 * in bytes.  The kernel pads every key with spaces, so at least one. */
static int host_info_parse_kb(HostInfoCursor *cursor, uint64_t *ret_bytes)
{
	uint64_t kib;
	int r;

	if (!host_info_accept(cursor, " "))
		return -EINVAL;
	while (cursor->p < cursor->end && *cursor->p == ' ')
		cursor->p++;
	r = host_info_parse_u64(cursor, &kib);
	if (r < 0)
		return r;
	if (!host_info_accept(cursor, " kB") || cursor->p != cursor->end)
		return -EINVAL;
	if (kib > UINT64_MAX / 1024)
		return -ERANGE;
	*ret_bytes = kib * 1024;
	return 0;
}

bool host_info_parse_meminfo(const char *text, gsize len, HostMeminfo *ret, GError **error)
{
	uint64_t values[G_N_ELEMENTS(host_info_meminfo_keys)] = { 0 };
	bool seen[G_N_ELEMENTS(host_info_meminfo_keys)] = { false };
	HostInfoCursor line;
	gsize offset = 0;
	unsigned number = 0;

	if (!host_info_check_text(text, len, "meminfo", error))
		return false;
	while (host_info_next_line(text, len, &offset, &line)) {
		const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		size_t key_length;
		unsigned k;
		int r;

		number++;
		if (!colon)
			continue; /* not a "Key: value" line: not one of ours */
		key_length = (size_t)(colon - line.p);
		for (k = 0; k < G_N_ELEMENTS(host_info_meminfo_keys); k++) {
			if (strlen(host_info_meminfo_keys[k]) == key_length &&
			    !memcmp(line.p, host_info_meminfo_keys[k], key_length))
				break;
		}
		if (k == G_N_ELEMENTS(host_info_meminfo_keys))
			continue;
		if (seen[k]) {
			g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_INVALID,
				    "meminfo line %u: a second %s line", number,
				    host_info_meminfo_keys[k]);
			return false;
		}
		line.p = colon + 1;
		r = host_info_parse_kb(&line, &values[k]);
		if (r < 0) {
			g_set_error(error, HOST_INFO_ERROR,
				    r == -ERANGE ? HOST_INFO_ERROR_RANGE : HOST_INFO_ERROR_INVALID,
				    r == -ERANGE ? "meminfo line %u: %s: more bytes than 2^64"
						 : "meminfo line %u: %s: want \"<spaces>DIGITS kB\"",
				    number, host_info_meminfo_keys[k]);
			return false;
		}
		seen[k] = true;
	}
	for (unsigned k = 0; k < G_N_ELEMENTS(host_info_meminfo_keys); k++) {
		if (!seen[k]) {
			/* MemAvailable came with Linux 3.14; omemd needs it. */
			g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_MISSING,
				    "meminfo: no %s line%s", host_info_meminfo_keys[k],
				    k == 1 ? " (Linux 3.14 or later needed)" : "");
			return false;
		}
	}
	*ret = (HostMeminfo){
		.total_bytes = values[0],
		.available_bytes = values[1],
		.swap_total_bytes = values[2],
		.swap_free_bytes = values[3],
	};
	return true;
}

/* --- /proc/pressure/memory --- */

/* "N.NN" with N.NN <= 100.00, in hundredths.  The kernel prints
 * "%lu.%02lu", so exactly two decimals. */
static int host_info_parse_avg(HostInfoCursor *cursor, uint32_t *ret_hundredths)
{
	uint32_t whole = 0, hundredths;
	const char *start = cursor->p;

	while (cursor->p < cursor->end && g_ascii_isdigit(*cursor->p)) {
		whole = whole * 10 + (uint32_t)(*cursor->p - '0');
		if (whole > HOST_INFO_PSI_AVG_MAX / 100)
			return -ERANGE; /* stops before whole can overflow */
		cursor->p++;
	}
	if (cursor->p == start || !host_info_accept(cursor, "."))
		return -EINVAL;
	if (cursor->end - cursor->p < 2 || !g_ascii_isdigit(cursor->p[0]) ||
	    !g_ascii_isdigit(cursor->p[1]))
		return -EINVAL;
	hundredths = whole * 100 + (uint32_t)(cursor->p[0] - '0') * 10 + (uint32_t)(cursor->p[1] - '0');
	cursor->p += 2;
	if (hundredths > HOST_INFO_PSI_AVG_MAX)
		return -ERANGE;
	*ret_hundredths = hundredths;
	return 0;
}

/* The rest of a "some " or "full " line, up to its end. */
static int host_info_parse_psi_line(HostInfoCursor *cursor, HostPsiLine *ret)
{
	HostPsiLine line;
	int r;

	if (!host_info_accept(cursor, "avg10="))
		return -EINVAL;
	r = host_info_parse_avg(cursor, &line.avg10);
	if (r < 0)
		return r;
	if (!host_info_accept(cursor, " avg60="))
		return -EINVAL;
	r = host_info_parse_avg(cursor, &line.avg60);
	if (r < 0)
		return r;
	if (!host_info_accept(cursor, " avg300="))
		return -EINVAL;
	r = host_info_parse_avg(cursor, &line.avg300);
	if (r < 0)
		return r;
	if (!host_info_accept(cursor, " total="))
		return -EINVAL;
	r = host_info_parse_u64(cursor, &line.total_us);
	if (r < 0)
		return r;
	if (cursor->p != cursor->end)
		return -EINVAL;
	*ret = line;
	return 0;
}

bool host_info_parse_psi(const char *text, gsize len, HostPsi *ret, GError **error)
{
	HostPsi psi = { 0 };
	bool some_known = false;
	HostInfoCursor line;
	gsize offset = 0;
	unsigned number = 0;

	if (!host_info_check_text(text, len, "pressure", error))
		return false;
	while (host_info_next_line(text, len, &offset, &line)) {
		const char *kind;
		HostPsiLine *slot;
		bool *known;
		int r;

		number++;
		if (host_info_accept(&line, "some ")) {
			kind = "some";
			slot = &psi.some;
			known = &some_known;
		} else if (host_info_accept(&line, "full ")) {
			kind = "full";
			slot = &psi.full;
			known = &psi.full_known;
		} else {
			continue;
		}
		if (*known) {
			g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_INVALID,
				    "pressure line %u: a second \"%s\" line", number, kind);
			return false;
		}
		r = host_info_parse_psi_line(&line, slot);
		if (r < 0) {
			g_set_error(error, HOST_INFO_ERROR,
				    r == -ERANGE ? HOST_INFO_ERROR_RANGE : HOST_INFO_ERROR_INVALID,
				    r == -ERANGE ? "pressure line %u: \"%s\": an average above 100.00 or a total past 2^64"
						 : "pressure line %u: \"%s\": want \"avg10=N.NN avg60=N.NN avg300=N.NN total=N\"",
				    number, kind);
			return false;
		}
		*known = true;
	}
	if (!some_known) {
		g_set_error(error, HOST_INFO_ERROR, HOST_INFO_ERROR_MISSING,
			    "pressure: no \"some\" line");
		return false;
	}
	*ret = psi;
	return true;
}
