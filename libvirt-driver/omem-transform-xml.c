/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-transform-xml.c: editing a domain document in place so that what
 * the transform adds reads like what libvirt writes (two-space indentation
 * where the document is indented, compact where it is compact) and what it
 * leaves alone stays byte for byte as it was.
 */
#include "config.h"

#include <string.h>

#include "omem-virt-internal.h"

/* Element ancestors of @node: the root element is at depth 0. */
static unsigned int omem_transform_xml_depth(const xmlNode *node)
{
	unsigned int depth = 0;

	for (const xmlNode *up = node->parent; up && up->type == XML_ELEMENT_NODE; up = up->parent)
		depth++;
	return depth;
}

static bool omem_transform_xml_is_blank(const xmlNode *node)
{
	return node && node->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)node);
}

static bool omem_transform_xml_has_newline(const xmlNode *node)
{
	return omem_transform_xml_is_blank(node) && node->content &&
	       strchr((const char *)node->content, '\n');
}

/* Whether children of @parent sit on lines of their own. */
static bool omem_transform_xml_is_indented(const xmlNode *parent)
{
	if (!parent->children)
		return omem_transform_xml_has_newline(parent->prev);
	for (const xmlNode *child = parent->children; child; child = child->next) {
		if (omem_transform_xml_has_newline(child))
			return true;
	}
	return false;
}

/* A text node holding a newline and two spaces per level of @depth. */
static xmlNode *omem_transform_xml_newline(unsigned int depth)
{
	g_autofree char *text = g_strnfill(1 + 2 * depth, ' ');

	text[0] = '\n';
	return xmlNewText(BAD_CAST text);
}

static bool omem_transform_xml_has_element_child(const xmlNode *node)
{
	for (const xmlNode *child = node->children; child; child = child->next) {
		if (child->type == XML_ELEMENT_NODE)
			return true;
	}
	return false;
}

/* Lay out a subtree the transform built (or imported) at @depth: blank
 * text between elements is dropped and replaced by newlines and
 * indentation. */
static void omem_transform_xml_indent(xmlNode *node, unsigned int depth)
{
	xmlNode *child, *next;

	if (!omem_transform_xml_has_element_child(node))
		return;
	for (child = node->children; child; child = next) {
		next = child->next;
		if (omem_transform_xml_is_blank(child)) {
			xmlUnlinkNode(child);
			xmlFreeNode(child);
		}
	}
	for (child = node->children; child; child = child->next) {
		xmlAddPrevSibling(child, omem_transform_xml_newline(depth + 1));
		if (child->type == XML_ELEMENT_NODE)
			omem_transform_xml_indent(child, depth + 1);
	}
	xmlAddChild(node, omem_transform_xml_newline(depth));
}

void omem_transform_xml_insert(xmlNode *parent, xmlNode *node, xmlNode *before)
{
	unsigned int depth = omem_transform_xml_depth(parent) + 1;

	if (!omem_transform_xml_is_indented(parent)) {
		if (before)
			xmlAddPrevSibling(before, node);
		else
			xmlAddChild(parent, node);
		return;
	}
	omem_transform_xml_indent(node, depth);
	if (before) {
		/* newline, before  ->  newline, node, newline, before */
		xmlAddPrevSibling(before, node);
		xmlAddPrevSibling(before, omem_transform_xml_newline(depth));
	} else if (!parent->children) {
		xmlAddChild(parent, omem_transform_xml_newline(depth));
		xmlAddChild(parent, node);
		xmlAddChild(parent, omem_transform_xml_newline(depth - 1));
	} else if (omem_transform_xml_is_blank(parent->last)) {
		/* ..., newline, closing indentation: the node goes before the latter. */
		xmlAddPrevSibling(parent->last, node);
		xmlAddPrevSibling(node, omem_transform_xml_newline(depth));
	} else {
		xmlAddChild(parent, omem_transform_xml_newline(depth));
		xmlAddChild(parent, node);
	}
}

void omem_transform_xml_insert_after(xmlNode *parent, xmlNode *node, const char *const *after)
{
	xmlNode *last = NULL;

	for (xmlNode *child = parent->children; child; child = child->next) {
		if (child->type != XML_ELEMENT_NODE || child->ns)
			continue;
		for (const char *const *name = after; *name; name++) {
			if (xmlStrEqual(child->name, BAD_CAST *name))
				last = child;
		}
	}
	if (last)
		omem_transform_xml_insert(parent, node, xmlNextElementSibling(last));
	else
		omem_transform_xml_insert(parent, node, xmlFirstElementChild(parent));
}

void omem_transform_xml_replace(xmlNode *old, xmlNode *node)
{
	xmlReplaceNode(old, node);
	xmlFreeNode(old);
	if (omem_transform_xml_is_indented(node->parent))
		omem_transform_xml_indent(node, omem_transform_xml_depth(node));
}

void omem_transform_xml_remove(xmlNode *node)
{
	xmlNode *parent = node->parent;

	if (omem_transform_xml_is_blank(node->prev)) {
		xmlNode *blank = node->prev;

		xmlUnlinkNode(blank);
		xmlFreeNode(blank);
	}
	xmlUnlinkNode(node);
	xmlFreeNode(node);
	/* A parent left with indentation only collapses to <parent/>. */
	if (parent && parent->children && !omem_transform_xml_has_element_child(parent)) {
		bool blank = true;

		for (xmlNode *child = parent->children; child; child = child->next)
			blank = blank && omem_transform_xml_is_blank(child);
		if (blank) {
			while (parent->children) {
				xmlNode *child = parent->children;

				xmlUnlinkNode(child);
				xmlFreeNode(child);
			}
		}
	}
}

xmlNode *omem_transform_xml_ensure(xmlNode *parent, const char *name, const char *const *after)
{
	xmlNode *node = omem_xml_child(parent, name);

	if (node)
		return node;
	node = xmlNewNode(NULL, BAD_CAST name);
	if (after)
		omem_transform_xml_insert_after(parent, node, after);
	else
		omem_transform_xml_insert(parent, node, NULL);
	return node;
}

void omem_transform_xml_set_kib(xmlNode *node, unsigned long long bytes)
{
	char text[32];

	g_snprintf(text, sizeof(text), "%llu", bytes / 1024);
	xmlNodeSetContent(node, BAD_CAST text);
	xmlSetProp(node, BAD_CAST "unit", BAD_CAST "KiB");
}

void omem_transform_xml_set_kib_attribute(xmlNode *node, const char *name,
					  unsigned long long bytes)
{
	char text[32];

	g_snprintf(text, sizeof(text), "%llu", bytes / 1024);
	xmlSetProp(node, BAD_CAST name, BAD_CAST text);
	xmlSetProp(node, BAD_CAST "unit", BAD_CAST "KiB");
}

bool omem_transform_xml_attribute_is(const xmlNode *node, const char *name, const char *value)
{
	g_autofree char *actual = omem_xml_attribute(node, name);

	return actual && !strcmp(actual, value);
}

bool omem_transform_xml_is(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && !node->ns &&
	       xmlStrEqual(node->name, BAD_CAST name);
}
