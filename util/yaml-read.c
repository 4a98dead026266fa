/*
 * yaml-read.c: typed reading of VbYamlDoc nodes, with errors that point at
 * the file, line and column and say what is allowed.
 *
 * Every reader writes its output only on success. Messages follow one shape:
 *   "FILE:LINE:COL: WHAT: expected EXPECTATION, got 'TEXT'"
 * so that an admin who mistyped a policy sees where, what and how to fix it.
 * TEXT is always vb_text_quote()d: at most VB_QUOTE_MAX_CHARS characters,
 * control characters escaped, whatever the file holds.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const char *const kind_names[] = { "a single value", "a list", "a mapping" };

gboolean
vb_yaml_error(GError **error, const VbYamlDoc *doc, const VbYamlNode *node,
              const char *format, ...)
{
    va_list args;
    g_autofree char *msg = NULL;
    g_autofree char *full = NULL;
    g_autofree char *safe = NULL;

    va_start(args, format);
    msg = g_strdup_vprintf(format, args);
    va_end(args);
    full = g_strdup_printf("%s:%u:%u: %s", vb_yaml_doc_filename(doc),
                           node ? vb_yaml_node_line(node) : 1,
                           node ? vb_yaml_node_column(node) : 1, msg);
    /* Defensive: callers quote what they take from the file; this keeps a
     * text one forgot (or the file's name) from reaching a terminal raw. */
    safe = vb_text_escape(full);
    g_set_error_literal(error, VB_ERROR, VB_ERROR_INVALID_INPUT, safe);
    return FALSE;
}

gboolean
vb_yaml_node_is_null(const VbYamlDoc *doc, const VbYamlNode *node)
{
    const char *text;

    if (!vb_yaml_node_is_plain(node))
        return FALSE;
    text = vb_yaml_node_value(doc, node);
    /* By first character: this is asked of every name a loader reads. */
    switch (text[0]) {
    case '\0':
        return TRUE;
    case '~':
        return text[1] == '\0';
    case 'n':
    case 'N':
        return g_str_equal(text, "null") || g_str_equal(text, "Null") ||
               g_str_equal(text, "NULL");
    default:
        return FALSE;
    }
}

const VbYamlNode *
vb_yaml_mapping_get(const VbYamlDoc *doc, const VbYamlNode *map, const char *key)
{
    if (!map || vb_yaml_node_kind(map) != VB_YAML_MAPPING)
        return NULL;
    for (const VbYamlNode *k = vb_yaml_node_first(doc, map); k;
         k = vb_yaml_node_next(doc, vb_yaml_node_next(doc, k))) {
        const char *text = vb_yaml_node_value(doc, k);

        if (text && g_str_equal(text, key))
            return vb_yaml_node_next(doc, k);
    }
    return NULL;
}

static char *
describe_node(const VbYamlDoc *doc, const VbYamlNode *node)
{
    if (vb_yaml_node_kind(node) == VB_YAML_SCALAR) {
        g_autofree char *text = vb_text_quote(vb_yaml_node_value(doc, node));

        return g_strdup_printf("'%s'", text);
    }
    return g_strdup(kind_names[vb_yaml_node_kind(node)]);
}

gboolean
vb_yaml_expect_kind(const VbYamlDoc *doc, const VbYamlNode *node, VbYamlKind kind,
                    const char *what, GError **error)
{
    g_autofree char *found = NULL;

    if (vb_yaml_node_kind(node) == kind)
        return TRUE;
    found = describe_node(doc, node);
    return vb_yaml_error(error, doc, node, "%s: expected %s, got %s", what,
                         kind_names[kind], found);
}

gboolean
vb_yaml_check_mapping(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                      const char *const *allowed, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    if (!vb_yaml_expect_kind(doc, node, VB_YAML_MAPPING, what, error))
        return FALSE;
    for (const VbYamlNode *k = vb_yaml_node_first(doc, node); k;
         k = vb_yaml_node_next(doc, vb_yaml_node_next(doc, k))) {
        const char *key = vb_yaml_node_value(doc, k);
        const char *guess;
        g_autofree char *choices = NULL;
        g_autofree char *shown = NULL;

        if (!key)
            return vb_yaml_error(error, doc, k, "%s: keys must be plain names", what);
        if (g_hash_table_contains(seen, key)) {
            shown = vb_text_quote(key);
            return vb_yaml_error(error, doc, k, "%s: key '%s' is given twice", what, shown);
        }
        g_hash_table_add(seen, (gpointer) key);
        if (g_strv_contains(allowed, key))
            continue;
        shown = vb_text_quote(key);
        choices = vb_join_choices(allowed);
        guess = vb_closest_word(key, allowed);
        if (guess)
            return vb_yaml_error(error, doc, k,
                                 "%s: unknown key '%s' (did you mean '%s'?); allowed keys: %s",
                                 what, shown, guess, choices);
        return vb_yaml_error(error, doc, k, "%s: unknown key '%s'; allowed keys: %s", what,
                             shown, choices);
    }
    return TRUE;
}

gboolean
vb_yaml_get_string(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                   char **ret, GError **error)
{
    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    if (vb_yaml_node_is_null(doc, node))
        return vb_yaml_error(error, doc, node, "%s: expected a value, got nothing", what);
    if (!vb_yaml_check_text(doc, node, what, error))
        return FALSE;
    *ret = g_strdup(vb_yaml_node_value(doc, node));
    return TRUE;
}

gboolean
vb_yaml_check_text(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                   GError **error)
{
    const char *text = vb_yaml_node_value(doc, node);
    g_autofree char *shown = NULL;
    g_autofree char *problem = NULL;

    if (!text || !vb_text_find_unsafe(text))
        return TRUE;
    shown = vb_text_quote(text);
    problem = vb_text_describe_unsafe(text);
    return vb_yaml_error(error, doc, node, "%s: '%s' contains %s; names and values must be "
                         "printable text on one line", what, shown, problem);
}

gboolean
vb_yaml_get_bool(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                 gboolean *ret, GError **error)
{
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", NULL };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off", NULL };
    const char *text;
    g_autofree char *shown = NULL;

    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(doc, node);
    if (vb_yaml_node_is_plain(node) && g_strv_contains(yes, text)) {
        *ret = TRUE;
        return TRUE;
    }
    if (vb_yaml_node_is_plain(node) && g_strv_contains(no, text)) {
        *ret = FALSE;
        return TRUE;
    }
    shown = vb_text_quote(text);
    return vb_yaml_error(error, doc, node, "%s: expected true or false, got '%s'", what, shown);
}

/* Plain whole numbers of 1 to 19 digits (below 10^19 < 2^64: no overflow),
 * read without strtoull's locale and errno work; anything else is left to it. */
gboolean
vb_yaml_text_whole(const char *text, guint64 *ret)
{
    guint64 value = 0;
    int digits = 0;

    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || ++digits > 19)
            return FALSE;
        value = value * 10 + (guint64) (*p - '0');
    }
    if (digits == 0)
        return FALSE;
    *ret = value;
    return TRUE;
}

gboolean
vb_yaml_get_uint64(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                   guint64 min, guint64 max, guint64 *ret, GError **error)
{
    const char *text;
    char *end = NULL;
    guint64 value;
    g_autofree char *shown = NULL;

    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(doc, node);
    if (vb_yaml_text_whole(text, &value) && value >= min && value <= max) {
        *ret = value;
        return TRUE;
    }
    errno = 0;
    value = g_ascii_strtoull(text, &end, 10);
    if (text[0] == '-' || !g_ascii_isdigit(text[0]) || *end != '\0' || errno == ERANGE) {
        shown = vb_text_quote(text);
        return vb_yaml_error(error, doc, node,
                             "%s: expected a whole number from %" G_GUINT64_FORMAT
                             " to %" G_GUINT64_FORMAT ", got '%s'",
                             what, min, max, shown);
    }
    if (value < min || value > max) {
        shown = vb_text_quote(text);
        return vb_yaml_error(error, doc, node,
                             "%s: %s is out of range; allowed: %" G_GUINT64_FORMAT
                             " to %" G_GUINT64_FORMAT,
                             what, shown, min, max);
    }
    *ret = value;
    return TRUE;
}

/* Plain decimals of at most 15 digits ("0.261", "1150", "7.5"): a whole
 * number below 2^53 divided by a power of ten below 2^53 is one correctly
 * rounded IEEE division, so this gives exactly what strtod gives (Clinger's
 * fast path), several times faster; anything else is left to strtod. */
gboolean
vb_yaml_text_decimal(const char *text, double *ret)
{
    static const double powers[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    guint64 mantissa = 0;
    int digits = 0, decimals = -1;

    for (const char *p = text; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 15)
                return FALSE;
            mantissa = mantissa * 10 + (guint64) (*p - '0');
            if (decimals >= 0)
                decimals++;
        } else if (*p == '.' && decimals < 0) {
            decimals = 0;
        } else {
            return FALSE;
        }
    }
    if (digits == 0)
        return FALSE;
    *ret = decimals > 0 ? (double) mantissa / powers[decimals] : (double) mantissa;
    return TRUE;
}

gboolean
vb_yaml_get_double(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                   double min, double max, double *ret, GError **error)
{
    const char *text;
    char *end = NULL;
    double value;
    g_autofree char *shown = NULL;

    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(doc, node);
    if (vb_yaml_text_decimal(text, &value) && value >= min && value <= max) {
        *ret = value;
        return TRUE;
    }
    errno = 0;
    value = g_ascii_strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(value)) {
        shown = vb_text_quote(text);
        return vb_yaml_error(error, doc, node,
                             "%s: expected a number from %g to %g, got '%s'", what, min,
                             max, shown);
    }
    if (value < min || value > max) {
        shown = vb_text_quote(text);
        return vb_yaml_error(error, doc, node, "%s: %s is out of range; allowed: %g to %g",
                             what, shown, min, max);
    }
    *ret = value;
    return TRUE;
}

gboolean
vb_yaml_get_enum(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                 const char *const *names, guint *ret, GError **error)
{
    const char *text;
    const char *guess;
    g_autofree char *choices = NULL;
    g_autofree char *shown = NULL;

    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(doc, node);
    for (guint i = 0; names[i]; i++) {
        if (g_str_equal(names[i], text)) {
            *ret = i;
            return TRUE;
        }
    }
    choices = vb_join_choices(names);
    guess = vb_closest_word(text, names);
    shown = vb_text_quote(text);
    if (guess)
        return vb_yaml_error(error, doc, node, "%s: '%s' is not allowed (did you mean '%s'?); "
                             "allowed: %s", what, shown, guess, choices);
    return vb_yaml_error(error, doc, node, "%s: '%s' is not allowed; allowed: %s", what, shown,
                         choices);
}

gboolean
vb_yaml_get_strv(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                 char ***ret, GError **error)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

    if (vb_yaml_node_kind(node) == VB_YAML_SCALAR && !vb_yaml_node_is_null(doc, node)) {
        if (!vb_yaml_check_text(doc, node, what, error))
            return FALSE;
        g_strv_builder_add(builder, vb_yaml_node_value(doc, node));
        *ret = g_strv_builder_end(builder);
        return TRUE;
    }
    if (vb_yaml_node_kind(node) == VB_YAML_SCALAR) {
        *ret = g_strv_builder_end(builder);
        return TRUE;
    }
    if (!vb_yaml_expect_kind(doc, node, VB_YAML_SEQUENCE, what, error))
        return FALSE;
    for (const VbYamlNode *item = vb_yaml_node_first(doc, node); item;
         item = vb_yaml_node_next(doc, item)) {
        if (vb_yaml_node_kind(item) != VB_YAML_SCALAR || vb_yaml_node_is_null(doc, item)) {
            g_autofree char *found = describe_node(doc, item);

            return vb_yaml_error(error, doc, item, "%s: every item must be a name, got %s",
                                 what, found);
        }
        if (!vb_yaml_check_text(doc, item, what, error))
            return FALSE;
        g_strv_builder_add(builder, vb_yaml_node_value(doc, item));
    }
    *ret = g_strv_builder_end(builder);
    return TRUE;
}

/* Case-insensitive optimal-string-alignment distance: insertions, deletions,
 * substitutions and swaps of two neighbouring letters cost 1 each ("wbe-2"
 * is one typo away from "web-2", as a person sees it). Gives up as soon as
 * the distance must exceed @bound and returns @bound + 1 then: a search for
 * the closest of many names only needs to know "not closer than this". */
static inline char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static guint
edit_distance(const char *a, const char *b, guint bound)
{
    gsize la = strlen(a), lb = strlen(b);
    guint stack[3 * 64];
    g_autofree guint *heap = lb < 64 ? NULL : g_new(guint, 3 * (lb + 1));
    guint *rows = heap ? heap : stack;
    guint *before = rows, *prev = rows + lb + 1, *row = rows + 2 * (lb + 1);
    guint prev_lowest = 0; /* row 0 holds 0 */

    for (gsize j = 0; j <= lb; j++)
        prev[j] = j;
    for (gsize i = 1; i <= la; i++) {
        char ca = lower(a[i - 1]), ca_before = i > 1 ? lower(a[i - 2]) : '\0';
        guint *spare = before;
        guint lowest;

        row[0] = lowest = i;
        for (gsize j = 1; j <= lb; j++) {
            char cb = lower(b[j - 1]);
            guint d = MIN(MIN(prev[j] + 1, row[j - 1] + 1), prev[j - 1] + (ca == cb ? 0 : 1));

            if (i > 1 && j > 1 && ca != cb && ca == lower(b[j - 2]) && ca_before == cb)
                d = MIN(d, before[j - 2] + 1);
            row[j] = d;
            lowest = MIN(lowest, d);
        }
        /* A cell is at least the lowest of the row above, or of the row two
         * above plus one (a swap): past @bound for these, past it to the end. */
        if (lowest > bound && prev_lowest + 1 > bound)
            return bound + 1;
        prev_lowest = lowest;
        before = prev;
        prev = row;
        row = spare;
    }
    return prev[lb];
}

const char *
vb_closest_word(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    gsize len = strlen(word);
    guint limit = MAX(1, len / 3);
    guint best_distance = limit + 1;

    for (guint i = 0; candidates[i] && best_distance > 0; i++) {
        gsize other = strlen(candidates[i]);
        guint d, gap = len > other ? len - other : other - len;

        /* The distance is at least the length difference: a candidate that
         * cannot be closer than the best so far (or than @limit, past which
         * nothing is a likely typo) is not scored; ties keep the first. A
         * pool of 200,000 guest names is searched this way. */
        if (gap >= best_distance)
            continue;
        d = edit_distance(word, candidates[i], best_distance - 1);
        if (d < best_distance) {
            best_distance = d;
            best = candidates[i];
        }
    }
    return best;
}

char *
vb_join_choices(const char *const *names)
{
    GString *out = g_string_new(NULL);
    guint n = g_strv_length((char **) names);

    for (guint i = 0; i < n; i++) {
        if (i > 0)
            g_string_append(out, i + 1 == n ? " or " : ", ");
        g_string_append(out, names[i]);
    }
    return g_string_free(out, FALSE);
}
