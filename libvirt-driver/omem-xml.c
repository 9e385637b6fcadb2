/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-xml.c: the small libxml2 and number helpers every libomem-virt
 * parser shares, so strict parsing (no network, no entity tricks, decimal
 * numbers only, overflow refused, libvirt's unit names) is written once.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "omem-virt-internal.h"

/* Parse options for every document: never fetch anything, never print. */
#define OMEM_XML_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* Longest XML text we accept: domain XML is a few KiB; a bound keeps a
 * hostile input from costing more than it should. */
#define OMEM_XML_MAX_LENGTH (16u << 20)

/* libxml2 error handler that prints nothing: the library never prints. */
static void G_GNUC_PRINTF(2, 3) omem_xml_silence(void *context, const char *format, ...)
{
}

xmlDoc *omem_xml_parse(const char *xml, size_t length, OmemErrorCode code, const char *what)
{
	g_autoptr(xmlDoc) doc = NULL;
	xmlGenericErrorFunc saved_handler;
	void *saved_context;

	if (!xml) {
		omem_error_raise(OMEM_ERR_INVALID_ARG, "No %s was given; pass its XML text.", what);
		return NULL;
	}
	if (length > OMEM_XML_MAX_LENGTH || length > (size_t)G_MAXINT) {
		omem_error_raise(code, "The %s is %zu bytes long, more than the %u bytes accepted; check that the right document was passed.",
				 what, length, OMEM_XML_MAX_LENGTH);
		return NULL;
	}
	/* XML_PARSE_NOERROR does not cover libxml2's encoding errors, which go
	 * to the thread's generic handler: silence it for this parse only. */
	saved_handler = xmlGenericError;
	saved_context = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, omem_xml_silence);
	xmlResetLastError();
	doc = xmlReadMemory(xml, (int)length, "omem.xml", NULL, OMEM_XML_PARSE_OPTIONS);
	xmlSetGenericErrorFunc(saved_context, saved_handler);
	if (!doc || !xmlDocGetRootElement(doc)) {
		const xmlError *error = xmlGetLastError();
		g_autofree char *reason = g_strdup(error && error->message ? error->message : "empty document");

		g_strchomp(reason);
		omem_error_raise(code, "The %s is not well-formed XML (%s); fix the document and retry.",
				 what, reason);
		return NULL;
	}
	return g_steal_pointer(&doc);
}

xmlNode *omem_xml_child(const xmlNode *parent, const char *name)
{
	for (xmlNode *child = parent ? parent->children : NULL; child; child = child->next) {
		if (child->type == XML_ELEMENT_NODE && !child->ns &&
		    xmlStrEqual(child->name, BAD_CAST name))
			return child;
	}
	return NULL;
}

char *omem_xml_text(const xmlNode *node)
{
	xmlChar *content = xmlNodeGetContent(node);
	char *text = g_strdup(content ? (const char *)content : "");

	xmlFree(content);
	return text;
}

char *omem_xml_attribute(const xmlNode *node, const char *name)
{
	xmlChar *value = xmlGetNoNsProp(node, BAD_CAST name);
	char *copy = value ? g_strdup((const char *)value) : NULL;

	xmlFree(value);
	return copy;
}

int omem_xml_parse_unsigned(const char *text, unsigned long long *ret_value)
{
	const char *start, *end;
	unsigned long long value = 0;

	if (!text)
		return -EINVAL;
	start = text;
	while (g_ascii_isspace(*start))
		start++;
	end = start + strlen(start);
	while (end > start && g_ascii_isspace(end[-1]))
		end--;
	if (start == end)
		return -EINVAL;
	for (const char *p = start; p < end; p++) {
		unsigned int digit;

		if (!g_ascii_isdigit(*p))
			return -EINVAL;
		digit = (unsigned int)(*p - '0');
		if (value > (G_MAXUINT64 - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
	}
	*ret_value = value;
	return 0;
}

int omem_xml_parse_size(const char *number, const char *unit, unsigned long long *ret_bytes)
{
	g_autofree char *trimmed = NULL;

	if (!number)
		return -EINVAL;
	/* libvirt's XML reader takes blanks around the number; the grammar
	 * is omem's one (omem-size.h), a number without unit being KiB. */
	trimmed = g_strstrip(g_strdup(number));
	return omem_size_parse_parts(trimmed, unit, 0, ret_bytes, NULL, 0);
}

int omem_xml_read_size(const xmlNode *node, unsigned long long *ret_bytes)
{
	g_autofree char *number = omem_xml_text(node);
	g_autofree char *unit = omem_xml_attribute(node, "unit");

	return omem_xml_parse_size(number, unit, ret_bytes);
}

char *omem_xml_node_format(xmlDoc *doc, xmlNode *node)
{
	xmlBuffer *buffer = xmlBufferCreate();
	char *text = NULL;

	if (!buffer)
		return NULL;
	if (xmlNodeDump(buffer, doc, node, 0, 0) >= 0)
		text = g_strdup((const char *)xmlBufferContent(buffer));
	xmlBufferFree(buffer);
	return text;
}
