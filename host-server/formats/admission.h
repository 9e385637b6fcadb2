/* SPDX-License-Identifier: MIT */
/*
 * admission: the wire format between libvirt's qemu hook (omem-qemu-hook)
 * and omemd's admission socket (docs/admission.md).  Before libvirt starts
 * an omem VM, the hook asks omemd whether the host's budget covers the
 * VM's contract min, so that a VM omemd could never guarantee is refused
 * at start, with the numbers, instead of running short later.
 *
 * One request line, one reply line, each a JSON object of at most
 * ADMISSION_LINE_MAX bytes ending in "\n":
 *   {"version":1,"op":"admit","uuid":"…","name":"…","boot_bytes":N,
 *    "min_bytes":N,"cap_bytes":N,"max_bytes":N,"block_bytes":N}
 *   {"version":1,"admit":true|false,"message":"…"}
 *
 * Both ends treat the other as hostile: the parsers accept exactly this
 * and nothing else (no unknown, missing, duplicate or wrong-typed field,
 * no JSON extension json-glib would tolerate, no NUL, no text that is not
 * UTF-8, no control character in a string), and every string and number
 * is bounded.  Pure: no I/O, no logging.  Errors come back as one line in
 * a GError (ADMISSION_ERROR); outputs are written only on success.
 */
#ifndef OMEM_ADMISSION_H
#define OMEM_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* The only version of the format; a peer speaking another is refused
 * with ADMISSION_ERROR_VERSION, so a mismatch is named, not guessed at. */
#define ADMISSION_VERSION 1

/* A line, its "\n" included.  The longest valid lines, with every name
 * or message byte one that JSON escapes, are a 758-byte request and a
 * 2089-byte reply (tests/unit/test-admission.c checks both). */
#define ADMISSION_LINE_MAX 4096

/* libvirt's domain names are short in practice; 256 bytes bounds the
 * request and every log line that quotes the name. */
#define ADMISSION_NAME_MAX 256

/* A canonical UUID: 8-4-4-4-12 lower-case hex digits, as libvirt writes. */
#define ADMISSION_UUID_LENGTH 36

/* The reply's message ends up in libvirt's error for `virsh start`:
 * one line, and short enough to read there. */
#define ADMISSION_MESSAGE_MAX 1024

/* The socket's name in omemd's run directory, and where the hook looks by
 * default (omemd's default run directory is /run/omem). */
#define ADMISSION_SOCKET_NAME "admission.sock"
#define ADMISSION_SOCKET_DEFAULT "/run/omem/" ADMISSION_SOCKET_NAME

/* One exchange, connect to reply, must end within this: libvirt waits for
 * the hook with the domain's start blocked, and omemd holds a socket per
 * client (both ends enforce it). */
#define ADMISSION_TIMEOUT_MS 2000

/*
 * The file in omemd's run directory (the admission socket's) where the
 * hook appends one line, "UNIX_SECONDS NAME\n", each time it admits a VM
 * without omemd's answer (fail-open: omemd down, slow or broken).  The
 * hook cannot tell omemd then, so omemd counts the lines instead, and the
 * count survives its restarts (omem_admission_fail_open_total).  Created
 * 0600; the hook stops appending at ADMISSION_FAIL_OPEN_MAX_BYTES, a few
 * thousand fail-opens at least, so it cannot fill the run directory's
 * tmpfs.
 */
#define ADMISSION_FAIL_OPEN_NAME "admission-fail-open"
#define ADMISSION_FAIL_OPEN_MAX_BYTES (1u << 20)

#define ADMISSION_ERROR (admission_error_quark())
GQuark admission_error_quark(void);

typedef enum {
	ADMISSION_ERROR_INVALID, /* not a well-formed line of this format */
	ADMISSION_ERROR_VERSION, /* well-formed, but a version this side does not speak */
} AdmissionError;

/* What the hook asks: may this VM start?  Figures are the contract's,
 * total guest RAM in bytes (docs/architecture.md, "The contract,
 * defined once"); a valid request has 0 < boot <= min <= cap <= max < 2^63, and
 * a block that is a power of two no larger than max - boot. */
typedef struct {
	char uuid[ADMISSION_UUID_LENGTH + 1];    /* canonical, lower case */
	char name[ADMISSION_NAME_MAX + 1];       /* UTF-8, 1..256 bytes, no control character */
	uint64_t boot_bytes;
	uint64_t min_bytes;
	uint64_t cap_bytes;
	uint64_t max_bytes;
	uint64_t block_bytes;  /* the virtio-mem devices' largest block: min rounds up to it */
} AdmissionRequest;

/* omemd's answer. */
typedef struct {
	bool admit;
	char message[ADMISSION_MESSAGE_MAX + 1]; /* UTF-8, one line, may be empty */
} AdmissionReply;

/* Parse one request line: @len bytes of @data (not NUL-terminated), its
 * final "\n" included.  false with @error, *@ret untouched, on anything
 * that is not exactly a valid request. */
bool admission_request_parse(const char *data, gsize len, AdmissionRequest *ret, GError **error);

/* The request as one line ending in "\n" (*@ret_length bytes, NUL after
 * them); g_free.  NULL with @error when @request is not valid (the same
 * rules as the parser), so nothing the parser refuses is ever sent. */
char *admission_request_format(const AdmissionRequest *request, gsize *ret_length, GError **error);

/* Parse one reply line, as admission_request_parse does a request. */
bool admission_reply_parse(const char *data, gsize len, AdmissionReply *ret, GError **error);

/* @message as a reply carries it (NULL: empty): made valid UTF-8, control
 * characters turned into spaces, cut at a character boundary to
 * ADMISSION_MESSAGE_MAX bytes; g_free.  omemd logs this same line. */
char *admission_message_line(const char *message);

/* The reply as one line ending in "\n"; g_free.  Never fails: @message
 * goes through admission_message_line first. */
char *admission_reply_format(bool admit, const char *message, gsize *ret_length);

/* One line of ADMISSION_FAIL_OPEN_NAME for the VM @name admitted at
 * @unix_s; *@ret_length bytes, at most 24 + ADMISSION_NAME_MAX; g_free.
 * A byte of @name that is not printable ASCII is written as '?', and the
 * name is cut at ADMISSION_NAME_MAX bytes, so every line is one line. */
char *admission_fail_open_line(int64_t unix_s, const char *name, gsize *ret_length);

/* The fail-opens @length bytes of that file record: its complete lines. */
uint64_t admission_fail_open_count(const char *text, gsize length);

#endif /* OMEM_ADMISSION_H */
