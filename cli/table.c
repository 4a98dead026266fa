/*
 * table.c: aligned text tables for terminal output.
 *
 * Rows are added whole and printed at the end, each column padded to its
 * widest cell. Widths count UTF-8 characters, not bytes, and skip ANSI
 * colour sequences (ESC '[' ... 'm'), so coloured cells line up with plain
 * ones. The last column is never padded (no trailing spaces). Cells may hold
 * names from libvirt, which no loader checked: every unsafe character
 * (util/text.c) is escaped when the row is added, except the colour
 * sequences the renderers add (ESC '[' digits and ';' 'm'), so a name cannot
 * move the cursor, clear the screen or forge a line (a colour sequence in a
 * name only colours it). Workload: a few hundred rows at most (one per host
 * or move); nothing clever needed.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

struct _VbCliTable {
    guint n_columns;      /* cells per row */
    GPtrArray *rows;      /* owned char ** (n_columns owned strings) */
    gboolean *right;      /* per column: right-align */
};

VbCliTable *
vb_cli_table_new(guint n_columns)
{
    VbCliTable *table = g_new0(VbCliTable, 1);

    g_assert(n_columns > 0);
    table->n_columns = n_columns;
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    table->right = g_new0(gboolean, n_columns);
    return table;
}

void
vb_cli_table_free(VbCliTable *table)
{
    if (!table)
        return;
    if (table->rows)
        g_ptr_array_unref(table->rows);
    g_free(table->right);
    g_free(table);
}

/* Appends @len bytes of @text to @out, unsafe characters escaped. */
static void
append_escaped(GString *out, const char *text, gsize len)
{
    g_autofree char *part = g_strndup(text, len);
    g_autofree char *safe = vb_text_escape(part);

    g_string_append(out, safe);
}

/* @cell made safe to print, colour sequences kept (transfer full). */
static char *
safe_cell(const char *cell)
{
    GString *out;
    const char *p = cell, *run = cell;

    if (!vb_text_find_unsafe(cell))
        return g_strdup(cell);
    out = g_string_new(NULL);
    while (*p) {
        gsize n;

        if (p[0] != '\033' || p[1] != '[') {
            p++;
            continue;
        }
        n = 2 + strspn(p + 2, "0123456789;");
        if (p[n] != 'm') {
            p++;
            continue;
        }
        append_escaped(out, run, (gsize) (p - run));
        g_string_append_len(out, p, (gssize) n + 1);
        p += n + 1;
        run = p;
    }
    append_escaped(out, run, (gsize) (p - run));
    return g_string_free(out, FALSE);
}

void
vb_cli_table_add(VbCliTable *table, const char *const *cells)
{
    char **row = g_new0(char *, table->n_columns + 1);

    for (guint i = 0; i < table->n_columns; i++)
        row[i] = safe_cell(cells[i] ? cells[i] : "");
    g_ptr_array_add(table->rows, row);
}

void
vb_cli_table_align_right(VbCliTable *table, guint column)
{
    g_assert(column < table->n_columns);
    table->right[column] = TRUE;
}

/* Printed width of @s: UTF-8 characters outside ANSI escape sequences. */
static gsize
display_width(const char *s)
{
    gsize width = 0;

    while (*s) {
        if (*s == '\033' && s[1] == '[') {
            s += 2;
            while (*s && *s != 'm')
                s++;
            if (*s)
                s++;
            continue;
        }
        s = g_utf8_next_char(s);
        width++;
    }
    return width;
}

static void
print_padded(FILE *out, const char *cell, gsize width, gboolean right, gboolean last)
{
    gsize pad = width - display_width(cell);

    if (right)
        fprintf(out, "%*s%s", (int) pad, "", cell);
    else if (last)
        fputs(cell, out);
    else
        fprintf(out, "%s%*s", cell, (int) pad, "");
}

void
vb_cli_table_print(const VbCliTable *table, FILE *out, const char *indent)
{
    g_autofree gsize *widths = g_new0(gsize, table->n_columns);

    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);

        for (guint c = 0; c < table->n_columns; c++)
            widths[c] = MAX(widths[c], display_width(row[c]));
    }
    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        guint last = table->n_columns - 1;

        /* Trailing empty cells are not printed, so lines end cleanly. */
        while (last > 0 && !*row[last])
            last--;
        fputs(indent ? indent : "", out);
        for (guint c = 0; c <= last; c++) {
            if (c > 0)
                fputs("  ", out);
            print_padded(out, row[c], widths[c], table->right[c], c == last);
        }
        fputc('\n', out);
    }
}
