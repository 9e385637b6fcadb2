/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the admission line format (host-server/formats/admission.c,
 * docs/admission.md): omemd reads requests from whatever connects to its
 * socket, and the hook, which runs as root inside every VM start, reads
 * omemd's replies.  The input is read both as a request and as a reply,
 * and used as a reply's message.  Oracles, reported with abort():
 *   - a request or reply that parsed formats to one line of at most
 *     ADMISSION_LINE_MAX bytes, which parses to the same values and
 *     formats to the same bytes again (the format is canonical);
 *   - any text given as a message formats to a reply that parses, whose
 *     message is valid UTF-8 of at most ADMISSION_MESSAGE_MAX bytes.
 * Everything else must be refused with a GError, never a crash.
 * tests/fuzz/corpus/admission/ holds the seeds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_line_ok(const char *line, gsize length)
{
	return line && length > 0 && length <= ADMISSION_LINE_MAX && line[length - 1] == '\n' &&
	       !memchr(line, '\n', length - 1) && strlen(line) == length;
}

static void fuzz_request(const char *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL, *again = NULL;
	AdmissionRequest request, back;
	gsize length = 0, length_again = 0;

	if (!admission_request_parse(data, size, &request, &error)) {
		if (!error || error->domain != ADMISSION_ERROR || strchr(error->message, '\n'))
			abort();
		return;
	}
	line = admission_request_format(&request, &length, &error);
	if (!fuzz_line_ok(line, length) || !admission_request_parse(line, length, &back, &error))
		abort();
	if (strcmp(request.uuid, back.uuid) || strcmp(request.name, back.name) ||
	    request.boot_bytes != back.boot_bytes || request.min_bytes != back.min_bytes ||
	    request.cap_bytes != back.cap_bytes || request.max_bytes != back.max_bytes ||
	    request.block_bytes != back.block_bytes)
		abort();
	again = admission_request_format(&back, &length_again, &error);
	if (!again || length != length_again || memcmp(line, again, length))
		abort();
}

static void fuzz_reply(const char *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL, *again = NULL;
	AdmissionReply reply, back;
	gsize length = 0, length_again = 0;

	if (!admission_reply_parse(data, size, &reply, &error)) {
		if (!error || error->domain != ADMISSION_ERROR || strchr(error->message, '\n'))
			abort();
		return;
	}
	line = admission_reply_format(reply.admit, reply.message, &length);
	if (!fuzz_line_ok(line, length) || !admission_reply_parse(line, length, &back, &error))
		abort();
	if (reply.admit != back.admit || strcmp(reply.message, back.message))
		abort();
	again = admission_reply_format(back.admit, back.message, &length_again);
	if (length != length_again || memcmp(line, again, length))
		abort();
}

/* The input as omemd's message (what manager_admit may say). */
static void fuzz_message(const char *data, size_t size)
{
	g_autofree char *message = g_strndup(data, size);
	g_autofree char *line = NULL;
	g_autoptr(GError) error = NULL;
	AdmissionReply reply;
	gsize length = 0;

	line = admission_reply_format(size & 1, message, &length);
	if (!fuzz_line_ok(line, length) || !admission_reply_parse(line, length, &reply, &error) ||
	    reply.admit != (size & 1) || strlen(reply.message) > ADMISSION_MESSAGE_MAX ||
	    !g_utf8_validate(reply.message, -1, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request((const char *)data, size);
	fuzz_reply((const char *)data, size);
	fuzz_message((const char *)data, size);
	return 0;
}
