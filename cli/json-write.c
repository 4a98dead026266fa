/*
 * json-write.c: the text of a document built with JsonBuilder, as every JSON
 * output of the program is written (docs/plan-json.md).
 *
 * The text is json-glib's pretty form (two spaces per level, `"name" : value`,
 * an empty array as `[]`, an empty object as `{` and `}` with the object's
 * indentation between them, its string escapes), except that a
 * fractional number is written in the shortest form that reads back as the
 * same double ("0.2", not json-glib's "0.20000000000000001"; a whole double
 * keeps its ".0"), and the text ends with a newline.
 *
 * Workload: a 10,000-host plan is some 200,000 nodes, 80,000 of them doubles
 * rounded to six decimals. json-glib's generator wrote each double with
 * "%.17g", and the whole text was then scanned again to rewrite each number
 * with "%.15g" and strtod: about 17 % of `plan --format json` at that size.
 * Here each node is written once, and a double with at most six decimals is
 * written from its integer digits, with no printf or strtod.
 *
 * Invariant: the text is byte for byte what json_generator_to_data() (pretty)
 * followed by that rewriting gives, for every tree; tests/cli-json-test.c
 * keeps that older way as its oracle and compares on random trees. The
 * streaming writer (VbCliJsonOut, below) writes the same text for the same
 * calls as JsonBuilder would take: the same test replays random trees
 * through it.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cli/cli.h"

/* ----------------------------------------------------------------- numbers */

/* The shortest of "%.15g", "%.16g", "%.17g" that reads back as @value, with
 * ".0" when it would read as a whole number: the general case, for finite
 * values the fast path below does not take. */
static void
append_double_general(GString *out, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    for (int digits = 15; digits <= 17; digits++) {
        g_ascii_formatd(buf, sizeof(buf), digits == 15 ? "%.15g" : digits == 16 ? "%.16g"
                                                                              : "%.17g", value);
        if (g_ascii_strtod(buf, NULL) == value)
            break;
    }
    g_string_append(out, buf);
    if (!strpbrk(buf, ".eEn"))
        g_string_append(out, ".0");
}

/* Writes @n (< 10^15) as "%.15g" writes the decimal n / 10^6: the integer
 * part, then the six decimals without their trailing zeros. */
static void
append_micro(GString *out, gboolean negative, guint64 n)
{
    char buf[32];
    char *end = buf + sizeof(buf), *p = end;
    guint64 whole = n / 1000000, frac = n % 1000000;
    int decimals = 6;

    if (frac) {
        while (frac % 10 == 0) {
            frac /= 10;
            decimals--;
        }
        for (int i = 0; i < decimals; i++) {
            *--p = (char) ('0' + frac % 10);
            frac /= 10;
        }
        *--p = '.';
    } else {
        *--p = '0';
        *--p = '.';
    }
    do {
        *--p = (char) ('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (negative)
        *--p = '-';
    g_string_append_len(out, p, end - p);
}

/* A double as the document shows it. The fast path: @value is the double
 * nearest to n / 10^6 for a whole n (IEEE division is correctly rounded, so
 * checking (double) n / 1e6 == |value| says exactly that), and that decimal
 * has at most 15 significant digits, so "%.15g" gives it back, in fixed
 * notation since it is at least 1e-4 and below 1e15; and it reads back as
 * @value, so "%.15g" is the shortest form the general case picks. */
static void
append_double(GString *out, double value)
{
    double a = fabs(value);

    if (a >= 1e-4 && a < 1e9) {
        double n = round(a * 1e6);

        if (n / 1e6 == a) {
            append_micro(out, value < 0, (guint64) n);
            return;
        }
    }
    if (value == 0) {
        g_string_append(out, signbit(value) ? "-0.0" : "0.0");
        return;
    }
    if (!isfinite(value)) {
        /* json-glib's own text, which the rewriting left alone */
        char buf[G_ASCII_DTOSTR_BUF_SIZE];

        g_string_append(out, g_ascii_dtostr(buf, sizeof(buf), value));
        g_string_append(out, ".0");
        return;
    }
    append_double_general(out, value);
}

static void
append_int(GString *out, gint64 value)
{
    char buf[24];
    char *end = buf + sizeof(buf), *p = end;
    guint64 u = value < 0 ? -(guint64) value : (guint64) value;

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0)
        *--p = '-';
    g_string_append_len(out, p, end - p);
}

/* ----------------------------------------------------------------- strings */

/* @text quoted with json-glib's escapes: backslash and quote, \b \f \n \r \t,
 * \u00XX for the other bytes 0x01-0x1e and for 0x7f; every other byte as it
 * is (0x1f and bytes above 0x7f too, as json-glib writes them). */
static void
append_string(GString *out, const char *text)
{
    const char *run = text;

    g_string_append_c(out, '"');
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char) *p;
        const char *esc = NULL;
        char code[8];

        if (c == '\\')
            esc = "\\\\";
        else if (c == '"')
            esc = "\\\"";
        else if ((c >= 0x01 && c < 0x1f) || c == 0x7f) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                g_snprintf(code, sizeof(code), "\\u00%02x", (guint) c);
                esc = code;
            }
        }
        if (!esc)
            continue;
        g_string_append_len(out, run, p - run);
        g_string_append(out, esc);
        run = p + 1;
    }
    g_string_append(out, run);
    g_string_append_c(out, '"');
}

/* -------------------------------------------------------------------- tree */

static void
append_indent(GString *out, guint level)
{
    static const char spaces[] = "                                ";
    gsize n = (gsize) level * 2;

    while (n > 0) {
        gsize k = MIN(n, sizeof(spaces) - 1);

        g_string_append_len(out, spaces, k);
        n -= k;
    }
}

static void append_node(GString *out, JsonNode *node, guint level);

static void
append_value(GString *out, JsonNode *node)
{
    GType type = json_node_get_value_type(node);

    if (type == G_TYPE_DOUBLE)
        append_double(out, json_node_get_double(node));
    else if (type == G_TYPE_INT64)
        append_int(out, json_node_get_int(node));
    else if (type == G_TYPE_STRING && json_node_get_string(node))
        append_string(out, json_node_get_string(node));
    else if (type == G_TYPE_BOOLEAN)
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
    else
        g_string_append(out, "null");
}

static void
append_array(GString *out, JsonArray *array, guint level)
{
    guint len = json_array_get_length(array);

    g_string_append_c(out, '[');
    if (len == 0) {
        g_string_append_c(out, ']');
        return;
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < len; i++) {
        append_indent(out, level + 1);
        append_node(out, json_array_get_element(array, i), level + 1);
        g_string_append(out, i + 1 < len ? ",\n" : "\n");
    }
    append_indent(out, level);
    g_string_append_c(out, ']');
}

static void
append_object(GString *out, JsonObject *object, guint level)
{
    JsonObjectIter iter;
    const char *name;
    JsonNode *member;
    gboolean first = TRUE;

    g_string_append_c(out, '{');
    json_object_iter_init_ordered(&iter, object);
    while (json_object_iter_next_ordered(&iter, &name, &member)) {
        g_string_append(out, first ? "\n" : ",\n");
        first = FALSE;
        append_indent(out, level + 1);
        append_string(out, name);
        g_string_append(out, " : ");
        append_node(out, member, level + 1);
    }
    /* json-glib indents the closing brace even of an empty object: "{  }" */
    if (!first)
        g_string_append_c(out, '\n');
    append_indent(out, level);
    g_string_append_c(out, '}');
}

static void
append_node(GString *out, JsonNode *node, guint level)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT:
        append_object(out, json_node_get_object(node), level);
        break;
    case JSON_NODE_ARRAY:
        append_array(out, json_node_get_array(node), level);
        break;
    case JSON_NODE_VALUE:
        append_value(out, node);
        break;
    case JSON_NODE_NULL:
    default:
        g_string_append(out, "null");
        break;
    }
}

/* --------------------------------------------------------------- streaming
 * The same text written as it is produced, for the large parts of a
 * document (a plan's hosts): no JsonNode per value. Parts built with
 * JsonBuilder are spliced in with vb_cli_json_out_members(). */

struct _VbCliJsonOut {
    GString *text;
    GArray *open;   /* OutLevel per open object or array, innermost last */
};

typedef struct {
    gboolean object; /* an object (else an array) */
    guint n_items;   /* members or elements written so far */
    gboolean named;  /* object: a member's name is written, its value not yet */
} OutLevel;

VbCliJsonOut *
vb_cli_json_out_new(void)
{
    VbCliJsonOut *o = g_new0(VbCliJsonOut, 1);

    o->text = g_string_sized_new(65536);
    o->open = g_array_new(FALSE, FALSE, sizeof(OutLevel));
    return o;
}

static OutLevel *
out_top(VbCliJsonOut *o)
{
    return o->open->len ? &g_array_index(o->open, OutLevel, o->open->len - 1) : NULL;
}

/* Before an array element: its separator and indentation. A member's value
 * follows its name directly. */
static void
out_before_value(VbCliJsonOut *o)
{
    OutLevel *top = out_top(o);

    if (!top)
        return;
    if (top->object) {
        g_assert(top->named);
        top->named = FALSE;
        return;
    }
    g_string_append(o->text, top->n_items++ ? ",\n" : "\n");
    append_indent(o->text, o->open->len);
}

void
vb_cli_json_out_member(VbCliJsonOut *o, const char *name)
{
    OutLevel *top = out_top(o);

    g_assert(top && top->object && !top->named);
    g_string_append(o->text, top->n_items++ ? ",\n" : "\n");
    append_indent(o->text, o->open->len);
    append_string(o->text, name);
    g_string_append(o->text, " : ");
    top->named = TRUE;
}

static void
out_begin(VbCliJsonOut *o, gboolean object)
{
    OutLevel level = { .object = object };

    out_before_value(o);
    g_string_append_c(o->text, object ? '{' : '[');
    g_array_append_val(o->open, level);
}

static void
out_end(VbCliJsonOut *o, gboolean object)
{
    OutLevel top = *out_top(o);

    g_assert(top.object == object && !top.named);
    g_array_set_size(o->open, o->open->len - 1);
    /* as append_array() and append_object() close: "[]", "{  }" */
    if (top.n_items)
        g_string_append_c(o->text, '\n');
    if (top.n_items || object)
        append_indent(o->text, o->open->len);
    g_string_append_c(o->text, object ? '}' : ']');
}

void
vb_cli_json_out_begin_object(VbCliJsonOut *o)
{
    out_begin(o, TRUE);
}

void
vb_cli_json_out_end_object(VbCliJsonOut *o)
{
    out_end(o, TRUE);
}

void
vb_cli_json_out_begin_array(VbCliJsonOut *o)
{
    out_begin(o, FALSE);
}

void
vb_cli_json_out_end_array(VbCliJsonOut *o)
{
    out_end(o, FALSE);
}

void
vb_cli_json_out_string(VbCliJsonOut *o, const char *value)
{
    out_before_value(o);
    if (value)
        append_string(o->text, value);
    else
        g_string_append(o->text, "null");
}

void
vb_cli_json_out_double(VbCliJsonOut *o, double value)
{
    out_before_value(o);
    append_double(o->text, value);
}

void
vb_cli_json_out_int(VbCliJsonOut *o, gint64 value)
{
    out_before_value(o);
    append_int(o->text, value);
}

void
vb_cli_json_out_bool(VbCliJsonOut *o, gboolean value)
{
    out_before_value(o);
    g_string_append(o->text, value ? "true" : "false");
}

void
vb_cli_json_out_node(VbCliJsonOut *o, JsonNode *node)
{
    out_before_value(o);
    append_node(o->text, node, o->open->len);
}

void
vb_cli_json_out_members(VbCliJsonOut *o, JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    JsonObjectIter iter;
    const char *name;
    JsonNode *member;

    g_return_if_fail(root && JSON_NODE_HOLDS_OBJECT(root));
    json_object_iter_init_ordered(&iter, json_node_get_object(root));
    while (json_object_iter_next_ordered(&iter, &name, &member)) {
        vb_cli_json_out_member(o, name);
        vb_cli_json_out_node(o, member);
    }
}

char *
vb_cli_json_out_finish(VbCliJsonOut *o)
{
    char *text;

    g_assert(o->open->len == 0);
    g_string_append_c(o->text, '\n');
    text = g_string_free(o->text, FALSE);
    g_array_unref(o->open);
    g_free(o);
    return text;
}

void
vb_cli_json_out_free(VbCliJsonOut *o)
{
    if (!o)
        return;
    g_array_unref(o->open);
    g_string_free(o->text, TRUE);
    g_free(o);
}

char *
vb_cli_json_finish(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    GString *out = g_string_sized_new(4096);

    if (root)
        append_node(out, root, 0);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}
