/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-table.c: aligned text tables for list and top.
 */
#include "config.h"

#include <string.h>

#include "virt-omem-table.h"

struct _VirtOmemTable {
	guint columns;
	GStrv headers;      /* without the alignment mark */
	gboolean *right;    /* per column: right-aligned */
	GPtrArray *rows;    /* of GStrv */
};

VirtOmemTable *virt_omem_table_new(const char *const *headers)
{
	VirtOmemTable *table = g_new0(VirtOmemTable, 1);
	guint i;

	table->columns = g_strv_length((GStrv)headers);
	table->headers = g_new0(char *, table->columns + 1);
	table->right = g_new0(gboolean, table->columns);
	for (i = 0; i < table->columns; i++) {
		table->right[i] = headers[i][0] == '>';
		table->headers[i] = g_strdup(headers[i] + (table->right[i] ? 1 : 0));
	}
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	return table;
}

void virt_omem_table_add_row(VirtOmemTable *table, const char *const *cells)
{
	GStrv row = g_new0(char *, table->columns + 1);
	guint i;

	for (i = 0; i < table->columns; i++) {
		char *p;

		row[i] = g_strdup(cells[i] ? cells[i] : "");
		/* A cell is one line: names and omemd's strings may hold anything. */
		for (p = row[i]; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?';
	}
	g_ptr_array_add(table->rows, row);
}

/* Print one line of cells with the column widths. */
static void virt_omem_table_print_line(const VirtOmemTable *table, char *const *cells,
				       const guint *widths, FILE *out)
{
	GString *line = g_string_new(NULL);
	guint i;

	for (i = 0; i < table->columns; i++) {
		guint pad = widths[i] - (guint)g_utf8_strlen(cells[i], -1);

		g_string_append(line, i == 0 ? " " : "   ");
		if (table->right[i])
			g_string_append_printf(line, "%*s%s", (int)pad, "", cells[i]);
		else if (i + 1 < table->columns)
			g_string_append_printf(line, "%s%*s", cells[i], (int)pad, "");
		else
			g_string_append(line, cells[i]);
	}
	fprintf(out, "%s\n", line->str);
	g_string_free(line, TRUE);
}

void virt_omem_table_print(const VirtOmemTable *table, FILE *out)
{
	g_autofree guint *widths = g_new0(guint, table->columns);
	guint i, j, total = 0;

	for (i = 0; i < table->columns; i++) {
		widths[i] = (guint)g_utf8_strlen(table->headers[i], -1);
		for (j = 0; j < table->rows->len; j++) {
			GStrv row = g_ptr_array_index(table->rows, j);

			widths[i] = MAX(widths[i], (guint)g_utf8_strlen(row[i], -1));
		}
		total += widths[i] + (i == 0 ? 1 : 3);
	}
	virt_omem_table_print_line(table, table->headers, widths, out);
	for (i = 0; i < total + 1; i++)
		fputc('-', out);
	fputc('\n', out);
	for (j = 0; j < table->rows->len; j++)
		virt_omem_table_print_line(table, g_ptr_array_index(table->rows, j), widths, out);
}

void virt_omem_table_free(VirtOmemTable *table)
{
	if (!table)
		return;
	g_strfreev(table->headers);
	g_free(table->right);
	g_ptr_array_unref(table->rows);
	g_free(table);
}
