/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-status.c: read and parse omemd's status document (the
 * protocol is docs/status.md).  Every bound is enforced here, before
 * json-glib sees a byte: time, size, nesting depth, and string escapes
 * that are JSON's own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "virt-omem-status.h"

G_DEFINE_QUARK(virt-omem-status-error-quark, virt_omem_status_error)

const char *virt_omem_status_socket_path(void)
{
	const char *path = g_getenv(VIRT_OMEM_STATUS_SOCKET_ENV);

	return path && *path ? path : VIRT_OMEM_STATUS_SOCKET;
}

/* Connect a non-blocking stream socket to @path, or -1 with @error. */
static int virt_omem_status_connect(const char *path, GError **error)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(path) >= sizeof(address.sun_path)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_IO,
			    "socket path %s is longer than %zu bytes", path,
			    sizeof(address.sun_path) - 1);
		return -1;
	}
	strcpy(address.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_IO,
			    "cannot create a socket: %s", g_strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
		return fd;
	saved = errno;
	close(fd);
	g_set_error(error, VIRT_OMEM_STATUS_ERROR,
		    saved == ENOENT || saved == ECONNREFUSED ? VIRT_OMEM_STATUS_ERROR_ABSENT
							     : VIRT_OMEM_STATUS_ERROR_IO,
		    "cannot connect to %s: %s", path, g_strerror(saved));
	return -1;
}

char *virt_omem_status_read(const char *path, unsigned int timeout_ms, size_t max_bytes,
			    size_t *ret_length, GError **error)
{
	g_autoptr(GByteArray) data = g_byte_array_new();
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	char buffer[16384];
	int fd;

	fd = virt_omem_status_connect(path, error);
	if (fd < 0)
		return NULL;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;
		int r;

		if (left_ms <= 0) {
			close(fd);
			g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_TIMEOUT,
				    "%s sent no complete status within %u ms", path, timeout_ms);
			return NULL;
		}
		r = poll(&pfd, 1, (int)left_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_IO,
				    "cannot wait for %s: %s", path, g_strerror(errno));
			close(fd);
			return NULL;
		}
		if (r == 0)
			continue; /* the deadline check above reports it */
		n = read(fd, buffer, sizeof(buffer));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_IO,
				    "cannot read %s: %s", path, g_strerror(errno));
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		if (data->len + (size_t)n > max_bytes) {
			close(fd);
			g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_TOO_LARGE,
				    "%s sent more than %zu bytes", path, max_bytes);
			return NULL;
		}
		g_byte_array_append(data, (const guint8 *)buffer, (guint)n);
	}
	close(fd);
	*ret_length = data->len;
	g_byte_array_append(data, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(g_steal_pointer(&data), FALSE);
}

/* A backslash in a string must start one of RFC 8259's escapes, \u with
 * four hex digits.  json-glib's scanner takes any other as the character
 * itself and \ with octal digits as that byte (\250 is 0xa8, not UTF-8;
 * \0 ends the string early), so a document that is not JSON would give
 * strings it never held.  Returns how many bytes after the backslash the
 * escape takes, 0 when it is not one. */
static size_t virt_omem_status_escape_length(const char *text, size_t length, size_t at)
{
	size_t i;

	if (at + 1 >= length)
		return 0;
	if (strchr("\"\\/bfnrt", text[at + 1]) && text[at + 1] != '\0')
		return 1;
	if (text[at + 1] != 'u' || at + 5 >= length)
		return 0;
	for (i = at + 2; i < at + 6; i++)
		if (!g_ascii_isxdigit(text[i]))
			return 0;
	return 5;
}

/* Before the recursive parser sees the text: refuse nesting deeper than
 * VIRT_OMEM_STATUS_MAX_DEPTH, which could exhaust its stack, and an escape
 * JSON does not have, which json-glib would decode into other bytes. */
static bool virt_omem_status_scan(const char *text, size_t length, GError **error)
{
	bool in_string = false;
	unsigned int depth = 0;
	size_t i;

	for (i = 0; i < length; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\') {
				size_t escape = virt_omem_status_escape_length(text, length, i);

				if (!escape) {
					g_set_error(error, VIRT_OMEM_STATUS_ERROR,
						    VIRT_OMEM_STATUS_ERROR_INVALID,
						    "the status is not JSON: the backslash at byte %zu starts no JSON escape",
						    i);
					return false;
				}
				i += escape;
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > VIRT_OMEM_STATUS_MAX_DEPTH) {
				g_set_error(error, VIRT_OMEM_STATUS_ERROR,
					    VIRT_OMEM_STATUS_ERROR_INVALID,
					    "the status nests deeper than %d levels",
					    VIRT_OMEM_STATUS_MAX_DEPTH);
				return false;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return true;
}

/* json-glib's parse error as one line of valid UTF-8: it quotes the
 * document (its own unescaping of a broken escape can yield any byte) and
 * may span lines, and virt-omem prints it as one line.  g_free. */
static char *virt_omem_status_error_line(const char *message)
{
	char *line = g_utf8_make_valid(message, -1);

	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return line;
}

/* Member @name of @object as a non-negative integer.  Absent: *ret_present
 * false (when @ret_present is NULL, absence is an error).  -1 with @error
 * when it has another type. */
static int virt_omem_status_get_size(JsonObject *object, const char *where, const char *name,
				     unsigned long long *ret_value, bool *ret_present,
				     GError **error)
{
	JsonNode *node = json_object_get_member(object, name);

	if (!node) {
		if (ret_present) {
			*ret_present = false;
			return 0;
		}
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s has no member \"%s\"", where, name);
		return -1;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    json_node_get_int(node) < 0) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s.%s is not a non-negative integer", where, name);
		return -1;
	}
	*ret_value = (unsigned long long)json_node_get_int(node);
	if (ret_present)
		*ret_present = true;
	return 0;
}

/* Member @name as a string: required unless @optional; *ret_value is a
 * copy, NULL when absent. */
static int virt_omem_status_get_string(JsonObject *object, const char *where, const char *name,
				       bool optional, char **ret_value, GError **error)
{
	JsonNode *node = json_object_get_member(object, name);

	*ret_value = NULL;
	if (!node || (optional && JSON_NODE_HOLDS_NULL(node))) {
		if (optional)
			return 0;
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s has no member \"%s\"", where, name);
		return -1;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s.%s is not a string", where, name);
		return -1;
	}
	*ret_value = g_strdup(json_node_get_string(node));
	return 0;
}

/* Member @name as an object, or NULL when absent or null; -1 when it has
 * another type. */
static int virt_omem_status_get_object(JsonObject *object, const char *where, const char *name,
				       JsonObject **ret_object, GError **error)
{
	JsonNode *node = json_object_get_member(object, name);

	*ret_object = NULL;
	if (!node || JSON_NODE_HOLDS_NULL(node))
		return 0;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s.%s is not an object", where, name);
		return -1;
	}
	*ret_object = json_node_get_object(node);
	return 0;
}

static void virt_omem_status_decision_free(VirtOmemStatusDecision *decision)
{
	if (!decision)
		return;
	g_free(decision->action);
	g_free(decision->reason);
	g_free(decision);
}

static void virt_omem_status_vm_free(VirtOmemStatusVm *vm)
{
	if (!vm)
		return;
	g_free(vm->name);
	g_free(vm->uuid);
	g_free(vm->session_state);
	virt_omem_status_decision_free(vm->last_decision);
	g_free(vm);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtOmemStatusVm, virt_omem_status_vm_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtOmemStatusDecision, virt_omem_status_decision_free)

void virt_omem_status_free(VirtOmemStatus *status)
{
	if (!status)
		return;
	if (status->vms)
		g_ptr_array_unref(status->vms);
	g_free(status);
}

/* The first (newest) entry of a VM's "decisions" array, if any. */
static int virt_omem_status_parse_decision(JsonObject *vm_object, const char *where,
					   VirtOmemStatusDecision **ret_decision, GError **error)
{
	g_autoptr(VirtOmemStatusDecision) decision = NULL;
	g_autofree char *decision_where = NULL;
	JsonNode *node = json_object_get_member(vm_object, "decisions");
	JsonObject *object;
	JsonArray *array;
	unsigned long long at;
	bool present;
	guint i;

	*ret_decision = NULL;
	if (!node || JSON_NODE_HOLDS_NULL(node))
		return 0;
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s.decisions is not an array", where);
		return -1;
	}
	array = json_node_get_array(node);
	for (i = 0; i < json_array_get_length(array); i++) {
		if (!JSON_NODE_HOLDS_OBJECT(json_array_get_element(array, i))) {
			g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
				    "%s.decisions[%u] is not an object", where, i);
			return -1;
		}
	}
	if (json_array_get_length(array) == 0)
		return 0;
	object = json_array_get_object_element(array, 0);
	decision_where = g_strdup_printf("%s.decisions[0]", where);
	decision = g_new0(VirtOmemStatusDecision, 1);
	if (virt_omem_status_get_string(object, decision_where, "action", false, &decision->action,
					error) < 0 ||
	    virt_omem_status_get_size(object, decision_where, "at_unix_ms", &at, NULL, error) < 0 ||
	    virt_omem_status_get_size(object, decision_where, "target_bytes",
				      &decision->target_bytes, &present, error) < 0 ||
	    virt_omem_status_get_string(object, decision_where, "reason", true, &decision->reason,
					error) < 0)
		return -1;
	decision->at_unix_ms = (long long)at;
	*ret_decision = g_steal_pointer(&decision);
	return 0;
}

static VirtOmemStatusVm *virt_omem_status_parse_vm(JsonNode *node, guint index, GError **error)
{
	g_autoptr(VirtOmemStatusVm) vm = g_new0(VirtOmemStatusVm, 1);
	g_autofree char *where = g_strdup_printf("vms[%u]", index);
	JsonObject *object, *guest, *session;
	bool has_requested, has_plugged;
	JsonNode *demand;

	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "%s is not an object", where);
		return NULL;
	}
	object = json_node_get_object(node);
	if (virt_omem_status_get_string(object, where, "name", false, &vm->name, error) < 0 ||
	    virt_omem_status_get_string(object, where, "uuid", true, &vm->uuid, error) < 0 ||
	    virt_omem_status_get_size(object, where, "requested_bytes", &vm->requested_bytes,
				      &has_requested, error) < 0 ||
	    virt_omem_status_get_size(object, where, "plugged_bytes", &vm->plugged_bytes,
				      &has_plugged, error) < 0)
		return NULL;
	vm->has_memory = has_requested && has_plugged;

	demand = json_object_get_member(object, "demand_bytes");
	if (demand && !JSON_NODE_HOLDS_NULL(demand) &&
	    virt_omem_status_get_size(object, where, "demand_bytes", &vm->demand_bytes,
				      &vm->has_demand, error) < 0)
		return NULL;

	if (virt_omem_status_get_object(object, where, "guest", &guest, error) < 0)
		return NULL;
	if (guest) {
		g_autofree char *guest_where = g_strdup_printf("%s.guest", where);

		if (virt_omem_status_get_size(guest, guest_where, "mem_total_bytes",
					      &vm->guest_total_bytes, NULL, error) < 0 ||
		    virt_omem_status_get_size(guest, guest_where, "mem_free_bytes",
					      &vm->guest_free_bytes, NULL, error) < 0 ||
		    virt_omem_status_get_size(guest, guest_where, "mem_available_bytes",
					      &vm->guest_available_bytes, NULL, error) < 0)
			return NULL;
		vm->has_guest = true;
	}

	if (virt_omem_status_get_object(object, where, "session", &session, error) < 0)
		return NULL;
	if (session) {
		g_autofree char *session_where = g_strdup_printf("%s.session", where);

		if (virt_omem_status_get_string(session, session_where, "state", false,
						&vm->session_state, error) < 0)
			return NULL;
	}
	if (virt_omem_status_parse_decision(object, where, &vm->last_decision, error) < 0)
		return NULL;
	return g_steal_pointer(&vm);
}

VirtOmemStatus *virt_omem_status_parse(const char *text, size_t length, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(VirtOmemStatus) status = NULL;
	g_autoptr(GError) json_error = NULL;
	unsigned long long version, generated;
	JsonObject *root, *host;
	JsonNode *node, *vms;
	bool present;
	guint i;

	if (length == 0 || memchr(text, '\0', length)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    length ? "the status contains a NUL byte" : "the status is empty");
		return NULL;
	}
	if (length > G_MAXSSIZE) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "the status is longer than %zd bytes", G_MAXSSIZE);
		return NULL;
	}
	if (!virt_omem_status_scan(text, length, error))
		return NULL;
	parser = json_parser_new();
	if (!json_parser_load_from_data(parser, text, (gssize)length, &json_error)) {
		g_autofree char *line = virt_omem_status_error_line(json_error->message);

		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "the status is not JSON: %s", line);
		return NULL;
	}
	node = json_parser_get_root(parser);
	if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "the status is not a JSON object");
		return NULL;
	}
	root = json_node_get_object(node);
	if (virt_omem_status_get_size(root, "status", "version", &version, NULL, error) < 0)
		return NULL;
	if (version != VIRT_OMEM_STATUS_VERSION) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_VERSION,
			    "status version %llu is not the version %d this virt-omem reads; update virt-omem",
			    version, VIRT_OMEM_STATUS_VERSION);
		return NULL;
	}
	status = g_new0(VirtOmemStatus, 1);
	status->version = (unsigned int)version;
	status->vms = g_ptr_array_new_with_free_func((GDestroyNotify)virt_omem_status_vm_free);
	if (virt_omem_status_get_size(root, "status", "generated_unix_ms", &generated, &present,
				      error) < 0)
		return NULL;
	status->generated_unix_ms = present ? (long long)generated : 0;

	if (virt_omem_status_get_object(root, "status", "host", &host, error) < 0)
		return NULL;
	if (host) {
		if (virt_omem_status_get_size(host, "host", "budget_bytes",
					      &status->host_budget_bytes, NULL, error) < 0 ||
		    virt_omem_status_get_size(host, "host", "committed_bytes",
					      &status->host_committed_bytes, NULL, error) < 0 ||
		    virt_omem_status_get_size(host, "host", "available_bytes",
					      &status->host_available_bytes, NULL, error) < 0)
			return NULL;
		status->has_host = true;
	}

	vms = json_object_get_member(root, "vms");
	if (!vms || !JSON_NODE_HOLDS_ARRAY(vms)) {
		g_set_error(error, VIRT_OMEM_STATUS_ERROR, VIRT_OMEM_STATUS_ERROR_INVALID,
			    "the status has no \"vms\" array");
		return NULL;
	}
	for (i = 0; i < json_array_get_length(json_node_get_array(vms)); i++) {
		VirtOmemStatusVm *vm;

		vm = virt_omem_status_parse_vm(json_array_get_element(json_node_get_array(vms), i),
					       i, error);
		if (!vm)
			return NULL;
		g_ptr_array_add(status->vms, vm);
	}
	return g_steal_pointer(&status);
}

VirtOmemStatus *virt_omem_status_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	size_t length = 0;

	text = virt_omem_status_read(path, VIRT_OMEM_STATUS_TIMEOUT_MS,
				     VIRT_OMEM_STATUS_MAX_BYTES, &length, error);
	if (!text)
		return NULL;
	return virt_omem_status_parse(text, length, error);
}

const VirtOmemStatusVm *virt_omem_status_find(const VirtOmemStatus *status, const char *uuid,
					      const char *name)
{
	guint i;

	if (!status)
		return NULL;
	for (i = 0; i < status->vms->len; i++) {
		const VirtOmemStatusVm *vm = g_ptr_array_index(status->vms, i);

		if (vm->uuid && uuid ? g_ascii_strcasecmp(vm->uuid, uuid) == 0
				     : g_strcmp0(vm->name, name) == 0)
			return vm;
	}
	return NULL;
}
