/*
 * util-test.c: bit sets, string tables and YAML trees with positions.
 */
#include "config.h"

#include <string.h>

#include "tests/testutil.h"

START_TEST(test_bits_subset)
{
    VbBits a = { 0 }, b = { 0 };

    vb_bits_set(&a, 3);
    vb_bits_set(&b, 3);
    vb_bits_set(&b, 200);
    ck_assert(vb_bits_is_subset(&a, &b));
    ck_assert(!vb_bits_is_subset(&b, &a));
    ck_assert(vb_bits_intersects(&a, &b));
    ck_assert_uint_eq(vb_bits_count(&b), 2);
    ck_assert_int_eq(vb_bits_next(&b, 0), 3);
    ck_assert_int_eq(vb_bits_next(&b, 4), 200);
    ck_assert_int_eq(vb_bits_next(&b, 201), -1);
    vb_bits_clear(&a);
    vb_bits_clear(&b);
}
END_TEST

START_TEST(test_strtab)
{
    g_autoptr(VbStrtab) tab = vb_strtab_new();
    guint id = 99;

    ck_assert_uint_eq(vb_strtab_intern(tab, "sse4_2"), 0);
    ck_assert_uint_eq(vb_strtab_intern(tab, "avx2"), 1);
    ck_assert_uint_eq(vb_strtab_intern(tab, "sse4_2"), 0);
    ck_assert(vb_strtab_lookup(tab, "avx2", &id));
    ck_assert_uint_eq(id, 1);
    ck_assert(!vb_strtab_lookup(tab, "avx512f", NULL));
    ck_assert_str_eq(vb_strtab_name(tab, 1), "avx2");
    ck_assert_ptr_null(vb_strtab_name(tab, 2));
}
END_TEST

static const char tree_yaml[] = "a: 1\n"
                                "list:\n"
                                "  - x\n"
                                "  - \"null\"\n"
                                "map: {k: v}\n";

START_TEST(test_yaml_tree)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(tree_yaml, strlen(tree_yaml), "t.yaml", &error);
    const VbYamlNode *root, *list, *item;

    ck_assert_msg(doc != NULL, "%s", error ? error->message : "");
    root = vb_yaml_doc_root(doc);
    ck_assert_int_eq(vb_yaml_node_kind(root), VB_YAML_MAPPING);
    ck_assert_uint_eq(vb_yaml_node_n_children(root), 6);
    list = vb_yaml_mapping_get(doc, root, "list");
    ck_assert_uint_eq(vb_yaml_node_line(list), 3);
    item = vb_yaml_node_first(doc, list);
    ck_assert_str_eq(vb_yaml_node_value(doc, item), "x");
    item = vb_yaml_node_next(doc, item);
    ck_assert_uint_eq(vb_yaml_node_line(item), 4);
    ck_assert_uint_eq(vb_yaml_node_column(item), 5);
    ck_assert(!vb_yaml_node_is_null(doc, item));
    ck_assert_ptr_null(vb_yaml_node_next(doc, item));
    ck_assert_ptr_null(vb_yaml_mapping_get(doc, root, "missing"));
}
END_TEST

/* Each row: a document and the error it must give. */
static const struct {
    const char *yaml;
    const char *error;
} bad_docs[] = {
    { "a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']'" },
    { "a: &x 1\nb: *x\n", "t.yaml:1:4: anchors and aliases" },
    { "a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document" },
    { "a: 1\na: 2\n", "t.yaml:2:1: thing: key 'a' is given twice" },
    { "colour: 1\n", "t.yaml:1:1: thing: unknown key 'colour' (did you mean 'color'?); allowed keys: a, color or size" },
    { "- 1\n", "t.yaml:1:1: thing: expected a mapping, got a list" },
};

START_TEST(test_yaml_errors)
{
    static const char *const allowed[] = { "a", "color", "size", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(bad_docs[_i].yaml, strlen(bad_docs[_i].yaml),
                                                 "t.yaml", &error);

    if (doc)
        ck_assert(!vb_yaml_check_mapping(doc, vb_yaml_doc_root(doc), "thing", allowed, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_str_has_prefix(error->message, bad_docs[_i].error), "got: %s",
                  error->message);
}
END_TEST

static const struct {
    const char *yaml;
    const char *error;
} bad_values[] = {
    { "v: abc\n", "t.yaml:1:4: n: expected a whole number from 1 to 10, got 'abc'" },
    { "v: -1\n", "t.yaml:1:4: n: expected a whole number from 1 to 10, got '-1'" },
    { "v: 11\n", "t.yaml:1:4: n: 11 is out of range; allowed: 1 to 10" },
    { "v: [1]\n", "t.yaml:1:4: n: expected a single value, got a list" },
};

START_TEST(test_yaml_numbers)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(bad_values[_i].yaml,
                                                 strlen(bad_values[_i].yaml), "t.yaml", &error);
    guint64 value = 42;

    ck_assert_ptr_nonnull(doc);
    ck_assert(!vb_yaml_get_uint64(doc, vb_yaml_mapping_get(doc, vb_yaml_doc_root(doc), "v"),
                                  "n", 1, 10, &value, &error));
    ck_assert_uint_eq(value, 42);
    ck_assert_str_eq(error->message, bad_values[_i].error);
}
END_TEST

START_TEST(test_yaml_typed_ok)
{
    static const char text[] = "d: 0.5\nb: yes\ne: consolidate\ns: [a, b]\n";
    static const char *const goals[] = { "balance", "consolidate", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(text, strlen(text), "t.yaml", &error);
    const VbYamlNode *root = vb_yaml_doc_root(doc);
    double d = 0;
    gboolean b = FALSE;
    guint e = 0;
    g_auto(GStrv) s = NULL;

    ck_assert(vb_yaml_get_double(doc, vb_yaml_mapping_get(doc, root, "d"), "d", 0, 1, &d, &error));
    ck_assert(d == 0.5);
    ck_assert(vb_yaml_get_bool(doc, vb_yaml_mapping_get(doc, root, "b"), "b", &b, &error));
    ck_assert(b);
    ck_assert(vb_yaml_get_enum(doc, vb_yaml_mapping_get(doc, root, "e"), "e", goals, &e, &error));
    ck_assert_uint_eq(e, 1);
    ck_assert(vb_yaml_get_strv(doc, vb_yaml_mapping_get(doc, root, "s"), "s", &s, &error));
    ck_assert_uint_eq(g_strv_length(s), 2);
    ck_assert_str_eq(s[1], "b");
}
END_TEST

/* ------------------------------------------- YAML fast path vs libyaml */

/* Nodes, positions, styles and texts of two trees, compared. */
static void
assert_same_tree(const VbYamlDoc *a, const VbYamlNode *x, const VbYamlDoc *b,
                 const VbYamlNode *y, const char *what)
{
    const VbYamlNode *cx, *cy;

    ck_assert_msg((x == NULL) == (y == NULL), "%s: one tree has a node the other lacks", what);
    if (!x)
        return;
    ck_assert_msg(vb_yaml_node_kind(x) == vb_yaml_node_kind(y) &&
                      vb_yaml_node_line(x) == vb_yaml_node_line(y) &&
                      vb_yaml_node_column(x) == vb_yaml_node_column(y) &&
                      vb_yaml_node_is_plain(x) == vb_yaml_node_is_plain(y) &&
                      vb_yaml_node_n_children(x) == vb_yaml_node_n_children(y) &&
                      g_strcmp0(vb_yaml_node_value(a, x), vb_yaml_node_value(b, y)) == 0,
                  "%s: fast path gives '%s' at %u:%u, libyaml '%s' at %u:%u", what,
                  vb_yaml_node_value(a, x), vb_yaml_node_line(x), vb_yaml_node_column(x),
                  vb_yaml_node_value(b, y), vb_yaml_node_line(y), vb_yaml_node_column(y));
    for (cx = vb_yaml_node_first(a, x), cy = vb_yaml_node_first(b, y); cx || cy;
         cx = vb_yaml_node_next(a, cx), cy = vb_yaml_node_next(b, cy))
        assert_same_tree(a, cx, b, cy, what);
}

/* Parses @data with the fast path allowed and with libyaml only: same tree,
 * or the same error. */
static void
assert_same_parse(const char *data, gsize len, const char *what)
{
    g_autoptr(GError) e_fast = NULL;
    g_autoptr(GError) e_slow = NULL;
    g_autoptr(VbYamlDoc) fast = NULL;
    g_autoptr(VbYamlDoc) slow = NULL;

    vb_yaml_slow_only = FALSE;
    fast = vb_yaml_load_data(data, len, "t.yaml", &e_fast);
    vb_yaml_slow_only = TRUE;
    slow = vb_yaml_load_data(data, len, "t.yaml", &e_slow);
    vb_yaml_slow_only = FALSE;
    ck_assert_msg((fast == NULL) == (slow == NULL), "%s: only one parser accepts it", what);
    if (!fast)
        ck_assert_str_eq(e_fast->message, e_slow->message);
    else
        assert_same_tree(fast, vb_yaml_doc_root(fast), slow, vb_yaml_doc_root(slow), what);
}

/* Inside the fast path's subset, at its edges, and just outside it. */
static const char *const subset_docs[] = {
    "# c\npools:\n  - name: p\n    hosts:\n      - {name: h, labels: [a, b-c, d.e, f/g]}\n",
    "a:\n- x\n- {k: v}\nb: 1\n",
    "a: \"q \\\"x\\\" \\\\ \\n \\t \\x41\"\nb: []\nc: {}\n",
    "a:\n  - k: v\n    l: [1, 2]\n  - m: n\n",
    "a: {b: {c: [d, [e]]}}\n\n\n# end\n",
    "a: 1  # a comment after content\n",
    "a: x y\n",
    "a: \"\\u00e9\"\n",
    "a: [1, 2,]\n",
    "a:\tb\n",
    "a: 1\r\nb: 2\r\n",
    "a: &x 1\n",
    "a:\nb: 1\n",
    "a: [1, 2\n",
    "  a: 1\n",
    "a: 1\n  b: 2\n",
    "- 1\n",
    "a: {b: 1, c: 2\n",
    "a: \"unterminated\n",
    "a: pci:0000:03:00.0\n",
    "a: [pci:0000:03:00.0]\n",
    "---\na: 1\n",
    "a: 1\nb:\n  - x\n   - y\n",
    "",
};

START_TEST(test_yaml_fast_edges)
{
    assert_same_parse(subset_docs[_i], strlen(subset_docs[_i]), subset_docs[_i]);
}
END_TEST

static void
collect_yaml(const char *dir, GPtrArray *files)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            collect_yaml(path, files);
        else if (g_str_has_suffix(name, ".yaml"))
            g_ptr_array_add(files, g_steal_pointer(&path));
    }
}

/* Every YAML file of the test data (inventories, policies, configs, good and
 * bad): the fast path gives libyaml's tree or leaves the file to libyaml. */
START_TEST(test_yaml_fast_data_files)
{
    g_autofree char *top = vb_test_data_path("");
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    collect_yaml(top, files);
    ck_assert_uint_ge(files->len, 50);
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *data = NULL;
        gsize len = 0;

        ck_assert(g_file_get_contents(g_ptr_array_index(files, i), &data, &len, NULL));
        assert_same_parse(data, len, g_ptr_array_index(files, i));
    }
}
END_TEST

/* vb_closest_word: a typo's likely meaning, or nothing. Swapping two
 * neighbouring letters is one typo, as people make it. */
static const struct {
    const char *word;
    const char *expected; /* NULL: no candidate is close enough */
} closest[] = {
    { "wbe-2", "web-2" },     /* swapped letters */
    { "web2", "web-2" },      /* a missing dash */
    { "WEB-1", "web-1" },     /* case does not count */
    { "web-9", "web-1" },     /* one substitution: the first of equals wins */
    { "ghost-1", NULL },      /* nothing alike */
    { "db", NULL },           /* short words allow one edit: "db" -> "db-1" is two */
    { "max_migratoins", "max_migrations" },
    { "high_watre", "high_water" },
};

START_TEST(test_closest_word)
{
    static const char *const candidates[] = {
        "web-1", "web-2", "db-1", "max_migrations", "high_water", NULL,
    };
    const char *got = vb_closest_word(closest[_i].word, candidates);

    ck_assert_msg(g_strcmp0(got, closest[_i].expected) == 0, "'%s': got '%s', expected '%s'",
                  closest[_i].word, got ? got : "(none)",
                  closest[_i].expected ? closest[_i].expected : "(none)");
}
END_TEST

static Suite *
util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_bits_subset);
    tcase_add_test(tc, test_strtab);
    tcase_add_test(tc, test_yaml_tree);
    tcase_add_loop_test(tc, test_yaml_errors, 0, G_N_ELEMENTS(bad_docs));
    tcase_add_loop_test(tc, test_yaml_numbers, 0, G_N_ELEMENTS(bad_values));
    tcase_add_test(tc, test_yaml_typed_ok);
    tcase_add_loop_test(tc, test_yaml_fast_edges, 0, G_N_ELEMENTS(subset_docs));
    tcase_add_test(tc, test_yaml_fast_data_files);
    tcase_add_loop_test(tc, test_closest_word, 0, G_N_ELEMENTS(closest));
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(util_suite)
