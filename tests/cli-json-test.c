/*
 * cli-json-test.c: cli/json-write.c, the text of every JSON document.
 *
 * The oracle is the way the text was made before json-write.c: json-glib's
 * pretty generator, then every fractional number outside strings rewritten
 * in the shortest of "%.15g", "%.16g", "%.17g" that reads back the same
 * (with ".0" when it would read as a whole number). vb_cli_json_finish()
 * must give the same bytes for every tree: random trees mixing every node
 * kind, names and strings with every ASCII byte and some UTF-8, and doubles
 * of the shapes the plan holds (six decimals, tenths, whole) and of every
 * other shape (random bits, tiny, huge, signed zeros, infinities, NaN).
 * The streaming writer (VbCliJsonOut) must give the same text as the tree
 * for the same trees replayed through its calls.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "testutil.h"

/* ------------------------------------------------------------ the oracle */

static void
oracle_number(GString *out, double value)
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

static char *
oracle_shorten(const char *json)
{
    GString *out = g_string_sized_new(strlen(json));
    const char *p = json;

    while (*p) {
        if (*p == '"') {
            const char *start = p++;

            while (*p && *p != '"')
                p += (*p == '\\' && p[1]) ? 2 : 1;
            if (*p)
                p++;
            g_string_append_len(out, start, p - start);
        } else if (*p == '-' || g_ascii_isdigit(*p)) {
            const char *start = p;
            gboolean fractional = FALSE;

            while (*p && strchr("+-0123456789.eE", *p)) {
                if (*p == '.' || *p == 'e' || *p == 'E')
                    fractional = TRUE;
                p++;
            }
            if (fractional)
                oracle_number(out, g_ascii_strtod(start, NULL));
            else
                g_string_append_len(out, start, p - start);
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return g_string_free(out, FALSE);
}

static char *
oracle_finish(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = NULL;
    g_autofree char *shortened = NULL;

    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    shortened = oracle_shorten(text);
    return g_strconcat(shortened, "\n", NULL);
}

/* ------------------------------------------------------------ random trees */

static double
random_double(GRand *r)
{
    static const double special[] = {
        0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e-4, 9.9e-5, 1e-5, 1e-7, 0.000001,
        999999999.999999, 1e9, 1e15, 1e16, 1e17, 1e21, 1e22, 1e300, 5e-324, 2.2250738585072014e-308,
        123456789.123456, 0.999999, 4503599627370496.0, 9007199254740993.0,
    };
    double scale = pow(10, g_rand_int_range(r, -7, 12));

    switch (g_rand_int_range(r, 0, 9)) {
    case 0: /* a load or an imbalance, as the plan rounds them */
        return vb_cli_json_round(g_rand_double_range(r, -2, 2) * scale, 1e6);
    case 1: /* seconds, as the plan rounds them */
        return vb_cli_json_round(g_rand_double_range(r, 0, 1e5), 10);
    case 2: /* whole */
        return (double) g_rand_int_range(r, -100000, 100000) * (g_rand_boolean(r) ? 1 : 1e9);
    case 3: /* any finite double */
    {
        guint64 bits;
        double d;

        do {
            bits = ((guint64) g_rand_int(r) << 32) | g_rand_int(r);
            memcpy(&d, &bits, sizeof(d));
        } while (!isfinite(d));
        return d;
    }
    case 4:
        return special[g_rand_int_range(r, 0, G_N_ELEMENTS(special))] *
               (g_rand_boolean(r) ? 1 : -1);
    case 5:
        return g_rand_double_range(r, -1, 1) * scale;
    case 6: /* six decimals near the ends of the fast path */
        return vb_cli_json_round(g_rand_boolean(r) ? g_rand_double_range(r, 0, 0.001)
                                                   : g_rand_double_range(r, 9.9e8, 1.1e9),
                                 1e6);
    case 7:
    {
        static const double odd[] = { INFINITY, -INFINITY, NAN };

        return odd[g_rand_int_range(r, 0, G_N_ELEMENTS(odd))];
    }
    default: /* fewer decimals */
        return vb_cli_json_round(g_rand_double_range(r, -1e4, 1e4), pow(10, g_rand_int_range(r, 0, 7)));
    }
}

/* A string of ASCII (every byte 0x01-0x7f, quotes and backslashes more
 * often) and sometimes UTF-8 (transfer full). */
static char *
random_text(GRand *r)
{
    static const char *const pieces[] = { "\"", "\\", "\\u", "é", "→", "\x1f", "\x7f", "\t" };
    GString *s = g_string_new(NULL);
    gint len = g_rand_int_range(r, 0, 12);

    for (gint i = 0; i < len; i++) {
        if (g_rand_int_range(r, 0, 4) == 0)
            g_string_append(s, pieces[g_rand_int_range(r, 0, G_N_ELEMENTS(pieces))]);
        else
            g_string_append_c(s, (char) g_rand_int_range(r, 1, 128));
    }
    return g_string_free(s, FALSE);
}

static void add_random_value(JsonBuilder *b, GRand *r, gint depth);

static void
add_random_container(JsonBuilder *b, GRand *r, gint depth)
{
    gint n = g_rand_int_range(r, 0, 5);
    gboolean object = g_rand_boolean(r);

    if (object)
        json_builder_begin_object(b);
    else
        json_builder_begin_array(b);
    for (gint i = 0; i < n; i++) {
        if (object) {
            /* distinct names: json-glib replaces a repeated member */
            g_autofree char *text = random_text(r);
            g_autofree char *name = g_strdup_printf("%d%s", i, text);

            json_builder_set_member_name(b, name);
        }
        add_random_value(b, r, depth + 1);
    }
    if (object)
        json_builder_end_object(b);
    else
        json_builder_end_array(b);
}

static void
add_random_value(JsonBuilder *b, GRand *r, gint depth)
{
    switch (g_rand_int_range(r, 0, depth < 5 ? 8 : 6)) {
    case 0:
        json_builder_add_null_value(b);
        break;
    case 1:
        json_builder_add_boolean_value(b, g_rand_boolean(r));
        break;
    case 2:
    {
        static const gint64 edges[] = { 0, -1, G_MININT64, G_MAXINT64, 10, -10 };

        json_builder_add_int_value(b, g_rand_boolean(r)
                                          ? edges[g_rand_int_range(r, 0, G_N_ELEMENTS(edges))]
                                          : (gint64) g_rand_int(r) - G_MAXINT32);
        break;
    }
    case 3:
    {
        g_autofree char *text = random_text(r);

        json_builder_add_string_value(b, text);
        break;
    }
    case 4:
    case 5:
        json_builder_add_double_value(b, random_double(r));
        break;
    default:
        add_random_container(b, r, depth);
        break;
    }
}

START_TEST(test_json_random_trees)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(1100 + _i);

    for (int t = 0; t < 200; t++) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *want = NULL;
        g_autofree char *got = NULL;

        add_random_container(b, r, 0);
        want = oracle_finish(b);
        got = vb_cli_json_finish(b);
        ck_assert_msg(g_strcmp0(want, got) == 0, "tree %d differs\n--- oracle\n%s--- json-write\n%s",
                      t, want, got);
    }
}
END_TEST

/* Every double shape, one per document, so that a failure names it. */
START_TEST(test_json_doubles)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(7);

    for (int t = 0; t < 20000; t++) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *want = NULL;
        g_autofree char *got = NULL;
        double d = random_double(r);

        json_builder_begin_array(b);
        json_builder_add_double_value(b, d);
        json_builder_end_array(b);
        want = oracle_finish(b);
        got = vb_cli_json_finish(b);
        ck_assert_msg(g_strcmp0(want, got) == 0, "%.17g: oracle %s, json-write %s", d, want, got);
    }
}
END_TEST

/* Every byte 0x01-0xff alone in a string and in a member name. */
START_TEST(test_json_bytes)
{
    for (int c = 1; c < 256; c++) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        char text[4] = { 'a', (char) c, 'b', 0 };
        g_autofree char *want = NULL;
        g_autofree char *got = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, text);
        json_builder_add_string_value(b, text);
        json_builder_end_object(b);
        want = oracle_finish(b);
        got = vb_cli_json_finish(b);
        ck_assert_msg(g_strcmp0(want, got) == 0, "byte 0x%02x: oracle %s, json-write %s", c, want,
                      got);
    }
}
END_TEST

START_TEST(test_json_empty)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *want = oracle_finish(b);
    g_autofree char *got = vb_cli_json_finish(b);

    ck_assert_str_eq(got, "\n");
    ck_assert_str_eq(got, want);
}
END_TEST

/* ------------------------------------------------------------ streaming */

/* Writes @node through the streaming writer: values one by one, or (by
 * chance) a whole subtree with _node(), or an object's members spliced in
 * from a JsonBuilder with _members(). */
static void
replay(VbCliJsonOut *o, JsonNode *node, GRand *r)
{
    if (g_rand_int_range(r, 0, 8) == 0) {
        vb_cli_json_out_node(o, node);
    } else if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        gboolean splice = g_rand_int_range(r, 0, 3) == 0;
        g_autoptr(JsonBuilder) b = json_builder_new();

        vb_cli_json_out_begin_object(o);
        json_builder_begin_object(b);
        json_object_iter_init_ordered(&iter, json_node_get_object(node));
        while (json_object_iter_next_ordered(&iter, &name, &member)) {
            if (splice) {
                json_builder_set_member_name(b, name);
                json_builder_add_value(b, json_node_copy(member));
            } else {
                vb_cli_json_out_member(o, name);
                replay(o, member, r);
            }
        }
        json_builder_end_object(b);
        if (splice)
            vb_cli_json_out_members(o, b);
        vb_cli_json_out_end_object(o);
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *array = json_node_get_array(node);

        vb_cli_json_out_begin_array(o);
        for (guint i = 0; i < json_array_get_length(array); i++)
            replay(o, json_array_get_element(array, i), r);
        vb_cli_json_out_end_array(o);
    } else if (JSON_NODE_HOLDS_NULL(node)) {
        vb_cli_json_out_string(o, NULL);
    } else if (json_node_get_value_type(node) == G_TYPE_STRING) {
        vb_cli_json_out_string(o, json_node_get_string(node));
    } else if (json_node_get_value_type(node) == G_TYPE_DOUBLE) {
        vb_cli_json_out_double(o, json_node_get_double(node));
    } else if (json_node_get_value_type(node) == G_TYPE_INT64) {
        vb_cli_json_out_int(o, json_node_get_int(node));
    } else {
        vb_cli_json_out_bool(o, json_node_get_boolean(node));
    }
}

/* The streaming writer gives the same text as the tree for the same calls. */
START_TEST(test_json_streaming)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(2200 + _i);

    for (int t = 0; t < 200; t++) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *want = NULL;
        g_autofree char *got = NULL;
        VbCliJsonOut *o = vb_cli_json_out_new();

        add_random_container(b, r, 0);
        want = vb_cli_json_finish(b);
        root = json_builder_get_root(b);
        replay(o, root, r);
        got = vb_cli_json_out_finish(o);
        ck_assert_msg(g_strcmp0(want, got) == 0, "tree %d differs\n--- tree\n%s--- streaming\n%s",
                      t, want, got);
    }
}
END_TEST

static Suite *
cli_json_suite(void)
{
    Suite *suite = suite_create("cli-json");
    TCase *tc = tcase_create("writer");

    tcase_add_loop_test(tc, test_json_random_trees, 0, 10);
    tcase_add_test(tc, test_json_doubles);
    tcase_add_test(tc, test_json_bytes);
    tcase_add_test(tc, test_json_empty);
    tcase_add_loop_test(tc, test_json_streaming, 0, 10);
    suite_add_tcase(suite, tc);
    return suite;
}

VB_TEST_MAIN(cli_json_suite)
