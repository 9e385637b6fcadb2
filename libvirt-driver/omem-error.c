/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-error.c: the per-thread last-error record of libomem-virt, in
 * libvirt's manner (virGetLastError): raised once where the failure
 * happens, read by the caller at the edge, which prints one line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/virterror.h>

#include "omem-virt-internal.h"

/* One record per thread; message is owned by the record. */
typedef struct {
	OmemError error;
	char *message;
	bool set;
} OmemErrorRecord;

static void omem_error_record_free(gpointer data)
{
	OmemErrorRecord *record = data;

	g_free(record->message);
	g_free(record);
}

static GPrivate omem_error_key = G_PRIVATE_INIT(omem_error_record_free);

static OmemErrorRecord *omem_error_record(void)
{
	OmemErrorRecord *record = g_private_get(&omem_error_key);

	if (!record) {
		record = g_new0(OmemErrorRecord, 1);
		g_private_set(&omem_error_key, record);
	}
	return record;
}

/* @message (taken) as the one line of valid UTF-8 OmemError promises:
 * messages quote what they refuse, and libxml2's and libvirt's own
 * messages span lines or quote the offending bytes as they are. */
static char *omem_error_one_line(char *message)
{
	char *line = g_utf8_make_valid(message, -1);

	g_free(message);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return g_strchomp(line);
}

static void omem_error_store(OmemErrorCode code, int libvirt_code, const char *file, int line,
			     const char *function, char *message)
{
	OmemErrorRecord *record = omem_error_record();

	message = omem_error_one_line(message);
	g_free(record->message);
	record->message = message;
	record->error = (OmemError){
		.code = code,
		.libvirt_code = libvirt_code,
		.message = message,
		.file = file,
		.line = line,
		.function = function,
	};
	record->set = true;
}

void omem_error_set(OmemErrorCode code, int libvirt_code, const char *file, int line,
		    const char *function, const char *format, ...)
{
	va_list args;
	char *message;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	omem_error_store(code, libvirt_code, file, line, function, message);
}

void omem_error_set_libvirt(const char *file, int line, const char *function,
			    const char *format, ...)
{
	virErrorPtr libvirt_error = virGetLastError();
	g_autofree char *ours = NULL;
	va_list args;

	va_start(args, format);
	ours = g_strdup_vprintf(format, args);
	va_end(args);
	omem_error_store(OMEM_ERR_LIBVIRT, libvirt_error ? libvirt_error->code : 0, file, line,
			 function,
			 g_strdup_printf("%s: %s", ours,
					 libvirt_error && libvirt_error->message ?
					 libvirt_error->message : "unknown libvirt error"));
}

const OmemError *omem_error_last(void)
{
	OmemErrorRecord *record = g_private_get(&omem_error_key);

	return record && record->set ? &record->error : NULL;
}

const char *omem_error_last_message(void)
{
	const OmemError *error = omem_error_last();

	return error ? error->message : "no error";
}

void omem_error_reset(void)
{
	OmemErrorRecord *record = g_private_get(&omem_error_key);

	if (record) {
		g_clear_pointer(&record->message, g_free);
		record->error = (OmemError){ 0 };
		record->set = false;
	}
}
