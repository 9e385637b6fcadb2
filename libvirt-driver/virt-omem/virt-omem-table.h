/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-omem-table.h: a plain text table with aligned columns, as virsh
 * list prints (header, a rule, rows), for list and top.
 */
#ifndef VIRT_OMEM_TABLE_H
#define VIRT_OMEM_TABLE_H

#include <stdio.h>

#include <glib.h>

typedef struct _VirtOmemTable VirtOmemTable;

/* A table with the columns of @headers (NULL-terminated); a header that
 * starts with '>' is right-aligned (numbers), the '>' is not printed. */
VirtOmemTable *virt_omem_table_new(const char *const *headers);

/* Append a row of as many cells as there are columns (copied). */
void virt_omem_table_add_row(VirtOmemTable *table, const char *const *cells);

/* Print the header, a rule and every row on @out. */
void virt_omem_table_print(const VirtOmemTable *table, FILE *out);

void virt_omem_table_free(VirtOmemTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtOmemTable, virt_omem_table_free)

#endif /* VIRT_OMEM_TABLE_H */
