/*
 * util-test.c: bit sets, string tables and YAML trees with positions.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
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

/* Streaming: what the entry function saw ("key line:col" per entry), and
 * from which entry on it says STOP (0: never). Entries of `drop` are dropped. */
typedef struct {
    GString *seen;
    guint stop_at;
    guint n;
} StreamSeen;

static VbYamlEntryAnswer
stream_record(const VbYamlDoc *doc, const VbYamlNode *entry, gpointer data)
{
    StreamSeen *s = data;
    const VbYamlNode *root = vb_yaml_doc_root(doc);
    const VbYamlNode *key = NULL;

    /* The list's key is the root's last key. */
    for (const VbYamlNode *k = vb_yaml_node_first(doc, root); k;
         k = vb_yaml_node_next(doc, vb_yaml_node_next(doc, k)))
        key = k;
    g_string_append_printf(s->seen, "%s %u:%u;", vb_yaml_node_value(doc, key),
                           vb_yaml_node_line(entry), vb_yaml_node_column(entry));
    if (++s->n == s->stop_at)
        return VB_YAML_ENTRY_STOP;
    if (g_str_equal(vb_yaml_node_value(doc, key), "mixed"))
        return s->n % 2 ? VB_YAML_ENTRY_KEEP : VB_YAML_ENTRY_DROP;
    return g_str_equal(vb_yaml_node_value(doc, key), "drop") ? VB_YAML_ENTRY_DROP
                                                              : VB_YAML_ENTRY_KEEP;
}

static const char stream_yaml[] =
    "keep:\n  - a\n  - {k: [1, 2]}\ndrop:\n- x: 1\n  y: [2]\n- z\nflow: [1, 2]\n"
    "deep:\n  k:\n    - 1\nmixed:\n  - m5\n  - m6\n  - m7\n  - m8\n";

/* Entries of top-level block lists are handed out in order, with their
 * positions; dropped ones leave their list empty, kept ones stay; nested and
 * flow lists are not handed out; STOP, and text outside the fast path's
 * subset, give NULL. */
START_TEST(test_yaml_stream)
{
    g_autoptr(GString) seen = g_string_new(NULL);
    StreamSeen s = { .seen = seen };
    g_autoptr(VbYamlDoc) doc = vb_yaml_stream_data(stream_yaml, strlen(stream_yaml), "t.yaml",
                                                   stream_record, &s);
    g_autoptr(VbYamlDoc) stopped = NULL;
    g_autoptr(VbYamlDoc) outside = NULL;
    const char *outside_yaml = "a:\n- 1\n- &x 2\n";
    const VbYamlNode *root;

    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(seen->str, "keep 2:5;keep 3:5;drop 5:3;drop 7:3;"
                                "mixed 13:5;mixed 14:5;mixed 15:5;mixed 16:5;");
    root = vb_yaml_doc_root(doc);
    ck_assert_uint_eq(vb_yaml_node_n_children(vb_yaml_mapping_get(doc, root, "keep")), 2);
    ck_assert_uint_eq(vb_yaml_node_n_children(vb_yaml_mapping_get(doc, root, "drop")), 0);
    ck_assert_uint_eq(vb_yaml_node_n_children(vb_yaml_mapping_get(doc, root, "flow")), 2);
    ck_assert_uint_eq(vb_yaml_node_n_children(vb_yaml_mapping_get(
                          doc, vb_yaml_mapping_get(doc, root, "deep"), "k")), 1);
    /* Entries 5 and 7 kept (odd), 6 and 8 dropped. */
    {
        const VbYamlNode *m = vb_yaml_node_first(doc, vb_yaml_mapping_get(doc, root, "mixed"));

        ck_assert_uint_eq(vb_yaml_node_n_children(vb_yaml_mapping_get(doc, root, "mixed")), 2);
        ck_assert_str_eq(vb_yaml_node_value(doc, m), "m5");
        ck_assert_str_eq(vb_yaml_node_value(doc, vb_yaml_node_next(doc, m)), "m7");
        ck_assert_ptr_null(vb_yaml_node_next(doc, vb_yaml_node_next(doc, m)));
    }

    g_string_truncate(seen, 0);
    s = (StreamSeen){ .seen = seen, .stop_at = 3 };
    stopped = vb_yaml_stream_data(stream_yaml, strlen(stream_yaml), "t.yaml", stream_record, &s);
    ck_assert_ptr_null(stopped);
    ck_assert_str_eq(seen->str, "keep 2:5;keep 3:5;drop 5:3;");

    s = (StreamSeen){ .seen = seen };
    outside = vb_yaml_stream_data(outside_yaml, strlen(outside_yaml), "t.yaml", stream_record, &s);
    ck_assert_ptr_null(outside);
}
END_TEST

/* Plain decimals are read by a fast path in vb_yaml_get_double: it must
 * give the very double strtod gives, for the edges and many random ones. */
static void
assert_double_as_strtod(const char *text)
{
    g_autofree char *yaml = g_strdup_printf("v: %s\n", text);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(yaml, strlen(yaml), "t.yaml", &error);
    const VbYamlNode *v = vb_yaml_mapping_get(doc, vb_yaml_doc_root(doc), "v");
    double got = -1, want = g_ascii_strtod(text, NULL);

    ck_assert_msg(vb_yaml_get_double(doc, v, "v", 0, 1e300, &got, &error), "%s: %s", text,
                  error ? error->message : "");
    ck_assert_msg(memcmp(&got, &want, sizeof(got)) == 0, "%s: %.17g, strtod %.17g", text, got,
                  want);
}

START_TEST(test_yaml_double_exact)
{
    static const char *const edges[] = {
        "0", "0.0", "1.", ".5", "000123.4500", "0.1", "0.3", "2.675", "1150", "0.261",
        "999999999999999", "99999999999999.9", "0.000000000000001", "9999999999999999",
        "1234567890123456789", "0.12345678901234567", "1e3", "1E-2",
    };
    GRand *rand = g_rand_new_with_seed(7);

    for (guint i = 0; i < G_N_ELEMENTS(edges); i++)
        assert_double_as_strtod(edges[i]);
    for (guint i = 0; i < 20000; i++) {
        guint digits = (guint) g_rand_int_range(rand, 1, 18);
        guint point = (guint) g_rand_int_range(rand, 0, (gint32) digits + 1);
        GString *text = g_string_new(NULL);

        for (guint d = 0; d < digits; d++) {
            if (d == point && d > 0)
                g_string_append_c(text, '.');
            g_string_append_c(text, (char) ('0' + g_rand_int_range(rand, 0, 10)));
        }
        assert_double_as_strtod(text->str);
        g_string_free(text, TRUE);
    }
    g_rand_free(rand);
}
END_TEST

/* Plain whole numbers are read by a fast path in vb_yaml_get_uint64: the
 * same value as strtoull, or the same refusal. */
START_TEST(test_yaml_uint64_as_strtoull)
{
    static const char *const edges[] = {
        "0", "0007", "1", "4294967296", "9999999999999999999", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "-1", "+1", "1.0", "12a",
    };
    GRand *rand = g_rand_new_with_seed(9);

    for (guint i = 0; i < G_N_ELEMENTS(edges) + 5000; i++) {
        g_autofree char *text = NULL;
        g_autofree char *yaml = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VbYamlDoc) doc = NULL;
        char *end = NULL;
        guint64 got = 0, want;
        gboolean ok, want_ok;

        if (i < G_N_ELEMENTS(edges))
            text = g_strdup(edges[i]);
        else
            text = g_strdup_printf("%" G_GUINT64_FORMAT,
                                   ((guint64) g_rand_int(rand) << 32 | g_rand_int(rand)) >>
                                       g_rand_int_range(rand, 0, 64));
        yaml = g_strdup_printf("v: %s\n", text);
        doc = vb_yaml_load_data(yaml, strlen(yaml), "t.yaml", &error);
        ck_assert_ptr_nonnull(doc);
        ok = vb_yaml_get_uint64(doc, vb_yaml_mapping_get(doc, vb_yaml_doc_root(doc), "v"), "v",
                                0, G_MAXUINT64, &got, NULL);
        errno = 0;
        want = g_ascii_strtoull(text, &end, 10);
        want_ok = text[0] != '-' && g_ascii_isdigit(text[0]) && *end == '\0' && errno != ERANGE;
        ck_assert_msg(ok == want_ok, "%s: accepted %d, strtoull %d", text, ok, want_ok);
        if (ok)
            ck_assert_msg(got == want, "%s: %" G_GUINT64_FORMAT, text, got);
    }
    g_rand_free(rand);
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
    /* Bytes the fast path refuses, at several places in an 8-byte word
     * (libyaml refuses DEL and C0 controls in quoted values). */
    "key0000: \"abcdefg\x7f\"\n",
    "key0000: \"abcdefgh\x01\"\n",
    "key0000: \"ab\x1b[31m\"\nnext: 1\n",
    "key0000: 1\nkey0001: \"abcdefghijk\x7f\"\n",
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

/* ------------------------------------------------- hostile files, safe text */

/* vb_text_quote: unsafe characters escaped, long texts cut with "...". */
static const struct {
    const char *text;
    const char *quoted;
} quotes[] = {
    { "kvm-1", "kvm-1" },
    { "kvm1\nFAKE", "kvm1\\nFAKE" },
    { "\x1b[31mred", "\\e[31mred" },
    { "a\tb\rc\x7f" "d\x01", "a\\tb\\rc\\x7Fd\\x01" },
    { "csi\xc2\x9b" "2J", "csi\\u009B2J" },           /* C1 control */
    { "ab\xe2\x80\xae" "cd", "ab\\u202Ecd" },          /* right-to-left override */
    { "line\xe2\x80\xa8" "sep", "line\\u2028sep" },
    { "bad\xff" "utf8", "bad\\xFFutf8" },
    { "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" }, /* printable: as is */
    /* 80 characters kept, then "...": */
    { "0123456789012345678901234567890123456789012345678901234567890123456789012345678901",
      "01234567890123456789012345678901234567890123456789012345678901234567890123456789..." },
    { "01234567890123456789012345678901234567890123456789012345678901234567890123456789",
      "01234567890123456789012345678901234567890123456789012345678901234567890123456789" },
    /* an escape is not cut in half: 78 + "\n" would be 80, 79 + "\n" is 81 */
    { "012345678901234567890123456789012345678901234567890123456789012345678901234567\nx",
      "012345678901234567890123456789012345678901234567890123456789012345678901234567\\n..." },
    { "", "" },
};

START_TEST(test_text_quote)
{
    g_autofree char *got = vb_text_quote(quotes[_i].text);
    g_autofree char *all = vb_text_escape(quotes[_i].text);

    ck_assert_str_eq(got, quotes[_i].quoted);
    ck_assert_ptr_null(vb_text_find_unsafe(got));
    ck_assert_ptr_null(vb_text_find_unsafe(all));
    /* Without the cut, nothing is lost: the text is safe iff unchanged. */
    ck_assert_int_eq(g_str_equal(all, quotes[_i].text),
                     vb_text_find_unsafe(quotes[_i].text) == NULL);
}
END_TEST

/* vb_yaml_get_string / _get_strv refuse names with unsafe characters, and
 * every reader quotes at most VB_QUOTE_MAX_CHARS characters of a value. */
static const struct {
    const char *yaml;
    const char *error;
} unsafe_docs[] = {
    { "v: \"kvm1\\nFAKE\"\n",
      "t.yaml:1:4: n: 'kvm1\\nFAKE' contains a control character (\\n); names and values "
      "must be printable text on one line" },
    { "v: [ok, \"\\e[31m\"]\n",
      "t.yaml:1:9: n: '\\e[31m' contains a control character (\\e); names and values must "
      "be printable text on one line" },
    { "v: \"tab\\there\"\n",
      "t.yaml:1:4: n: 'tab\\there' contains a control character (\\t); names and values "
      "must be printable text on one line" },
    { "v: \"\\u009b2J\"\n",
      "t.yaml:1:4: n: '\\u009B2J' contains a control character (\\u009B); names and values "
      "must be printable text on one line" },
    { "v: \"x\\u202Ey\"\n",
      "t.yaml:1:4: n: 'x\\u202Ey' contains a bidirectional text mark (\\u202E); names and "
      "values must be printable text on one line" },
    { "v: \"\\L\"\n",
      "t.yaml:1:4: n: '\\u2028' contains a line separator (\\u2028); names and values must "
      "be printable text on one line" },
    { "v: \"kvm1\\0FAKE\"\n",
      "t.yaml:1:4: this value contains a NUL character (\\0); names and values must be "
      "printable text on one line" },
};

START_TEST(test_yaml_unsafe)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(unsafe_docs[_i].yaml,
                                                 strlen(unsafe_docs[_i].yaml), "t.yaml", &error);
    g_auto(GStrv) names = NULL;
    g_autofree char *name = NULL;
    const VbYamlNode *v;

    if (doc) {
        v = vb_yaml_mapping_get(doc, vb_yaml_doc_root(doc), "v");
        if (vb_yaml_node_kind(v) == VB_YAML_SCALAR)
            ck_assert(!vb_yaml_get_string(doc, v, "n", &name, &error));
        else
            ck_assert(!vb_yaml_get_strv(doc, v, "n", &names, &error));
        ck_assert_ptr_null(name);
        ck_assert_ptr_null(names);
    }
    ck_assert_ptr_nonnull(error);
    ck_assert_str_eq(error->message, unsafe_docs[_i].error);
}
END_TEST

/* A 20 MB value: each reader's message quotes 80 characters of it. */
START_TEST(test_yaml_long_value)
{
    static const char *const names[] = { "a", "b", NULL };
    gsize n = 20 * 1024 * 1024;
    g_autoptr(GString) text = g_string_new("v: ");
    g_autoptr(VbYamlDoc) doc = NULL;
    g_autoptr(GError) error = NULL;
    const VbYamlNode *v;
    guint64 u;
    double d;
    gboolean b;
    guint e;
    g_autofree char *expected = NULL;

    for (gsize i = 0; i < n; i++)
        g_string_append_c(text, (char) ('1' + i % 9));
    g_string_append_c(text, '\n');
    doc = vb_yaml_load_data(text->str, text->len, "t.yaml", &error);
    ck_assert_ptr_nonnull(doc);
    v = vb_yaml_mapping_get(doc, vb_yaml_doc_root(doc), "v");
    expected = g_strndup(text->str + 3, VB_QUOTE_MAX_CHARS);
    ck_assert(!vb_yaml_get_uint64(doc, v, "n", 0, 10, &u, &error));
    ck_assert_msg(strstr(error->message, expected) && strstr(error->message, "...") &&
                      strlen(error->message) < 200, "%.300s", error->message);
    g_clear_error(&error);
    ck_assert(!vb_yaml_get_double(doc, v, "n", 0, 10, &d, &error));
    ck_assert_msg(strlen(error->message) < 200, "%.300s", error->message);
    g_clear_error(&error);
    ck_assert(!vb_yaml_get_bool(doc, v, "n", &b, &error));
    ck_assert_msg(strlen(error->message) < 200, "%.300s", error->message);
    g_clear_error(&error);
    ck_assert(!vb_yaml_get_enum(doc, v, "n", names, &e, &error));
    ck_assert_msg(strlen(error->message) < 200, "%.300s", error->message);
}
END_TEST

/* Nesting: VB_YAML_MAX_DEPTH levels load (with the same tree from both
 * parsers), one more is refused where it opens, whatever the form; 500,000
 * levels (1 MB, which libyaml alone would scan for half an hour) are refused
 * with the same message. */
static const struct {
    const char *open;  /* one level */
    const char *close; /* its end, for flow forms */
    const char *inner; /* the innermost value */
    guint columns;     /* columns one level takes */
} nestings[] = {
    { "[", "]", "", 1 },
    { "{a: ", "}", "1", 4 },
    { "- ", "", "x", 2 },
};

static char *
nested(guint n, guint form)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append(s, nestings[form].open);
    g_string_append(s, nestings[form].inner);
    for (guint i = 0; i < n; i++)
        g_string_append(s, nestings[form].close);
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

START_TEST(test_yaml_depth)
{
    static const guint depths[] = { VB_YAML_MAX_DEPTH, VB_YAML_MAX_DEPTH + 1, 500000 };
    guint form = (guint) _i;

    for (guint d = 0; d < G_N_ELEMENTS(depths); d++) {
        g_autofree char *text = nested(depths[d], form);
        g_autoptr(GError) error = NULL;
        g_autoptr(VbYamlDoc) doc = vb_yaml_load_data(text, strlen(text), "deep.yaml", &error);
        g_autofree char *expected = NULL;

        if (depths[d] <= VB_YAML_MAX_DEPTH) {
            ck_assert_msg(doc != NULL, "%s", error ? error->message : "");
            assert_same_parse(text, strlen(text), text);
            continue;
        }
        expected = g_strdup_printf("deep.yaml:1:%u: mappings and lists are nested more than "
                                   "%d levels deep here; virt-balancer's files need a few "
                                   "levels (is this the right file?)",
                                   VB_YAML_MAX_DEPTH * nestings[form].columns + 1,
                                   VB_YAML_MAX_DEPTH);
        ck_assert_ptr_null(doc);
        ck_assert_str_eq(error->message, expected);
    }
}
END_TEST

/* vb_yaml_load_file reads at most the cap (+1 byte): a bigger file, or an
 * endless device, is refused without reading it all. */
START_TEST(test_yaml_file_cap)
{
    g_autofree char *dir = g_dir_make_tmp("vb-util-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "p.yaml", NULL);
    g_autofree char *expected = g_strdup_printf("%s: this file is larger than 15 bytes, the "
                                                "most a test file may be", path);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbYamlDoc) fits = NULL, over = NULL, endless = NULL, missing = NULL;

    ck_assert(g_file_set_contents(path, "a: 123456789012\n", -1, NULL)); /* 16 bytes */
    fits = vb_yaml_load_file(path, 16, "a test file", &error);
    ck_assert_msg(fits != NULL, "%s", error ? error->message : "");
    over = vb_yaml_load_file(path, 15, "a test file", &error);
    ck_assert_ptr_null(over);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT));
    ck_assert_str_eq(error->message, expected);
    g_clear_error(&error);
    endless = vb_yaml_load_file("/dev/zero", 16, "a test file", &error);
    ck_assert_ptr_null(endless);
    ck_assert_str_eq(error->message, "/dev/zero: this file is larger than 16 bytes, the most "
                                     "a test file may be");
    g_clear_error(&error);
    missing = vb_yaml_load_file("/nonexistent/p.yaml", 16, "a test file", &error);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_IO));
    ck_assert_str_eq(error->message,
                     "Failed to open file \u201c/nonexistent/p.yaml\u201d: No such file or "
                     "directory");
    g_unlink(path);
    g_rmdir(dir);
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
    tcase_add_test(tc, test_yaml_stream);
    tcase_add_test(tc, test_yaml_double_exact);
    tcase_add_test(tc, test_yaml_uint64_as_strtoull);
    tcase_add_loop_test(tc, test_yaml_errors, 0, G_N_ELEMENTS(bad_docs));
    tcase_add_loop_test(tc, test_yaml_numbers, 0, G_N_ELEMENTS(bad_values));
    tcase_add_test(tc, test_yaml_typed_ok);
    tcase_add_loop_test(tc, test_yaml_fast_edges, 0, G_N_ELEMENTS(subset_docs));
    tcase_add_test(tc, test_yaml_fast_data_files);
    tcase_add_loop_test(tc, test_closest_word, 0, G_N_ELEMENTS(closest));
    tcase_add_loop_test(tc, test_text_quote, 0, G_N_ELEMENTS(quotes));
    tcase_add_loop_test(tc, test_yaml_unsafe, 0, G_N_ELEMENTS(unsafe_docs));
    tcase_add_test(tc, test_yaml_long_value);
    tcase_add_loop_test(tc, test_yaml_depth, 0, G_N_ELEMENTS(nestings));
    tcase_add_test(tc, test_yaml_file_cap);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(util_suite)
