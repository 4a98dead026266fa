/*
 * pool-test.c: the model, the inventory format, the generator, the main config.
 *
 * Data-driven: every tests/data/pool/good/NAME.yaml must load, dump to the
 * text in NAME.out beside it, and reload to an inventory that dumps the same;
 * every tests/data/pool/bad/NAME.yaml must be refused with exactly the message
 * in NAME.err. Same for config-good/ (expected NAME.out, a summary of the
 * loaded config) and config-bad/. VB_REGENERATE=1 rewrites .out and .err.
 */
#include "config.h"

#include <string.h>

#include "pool/pool.h"
#include "tests/testutil.h"

/* ---------------------------------------------------------- data files */

/* Sorted paths of tests/data/pool/@dir/ *.yaml (transfer full). */
static GPtrArray *
list_cases(const char *dir)
{
    g_autofree char *path = vb_test_data_path(dir);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".yaml"))
            g_ptr_array_add(files, g_build_filename(path, name, NULL));
    }
    g_ptr_array_sort(files, (GCompareFunc) g_strcmp0);
    return files;
}

static GPtrArray *good_cases, *bad_cases;

static char *
sibling(const char *yaml_path, const char *ext)
{
    g_autofree char *stem = g_strndup(yaml_path, strlen(yaml_path) - strlen(".yaml"));

    return g_strconcat(stem, ext, NULL);
}

/* Loads @path with its base name as the file name in messages. */
static VbInventory *
load_case(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *base = g_path_get_basename(path);
    gsize len = 0;

    ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "cannot read %s", path);
    return vb_inventory_load_data(data, len, base, error);
}

START_TEST(test_good_inventory)
{
    const char *path = g_ptr_array_index(good_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = load_case(path, &error);
    g_autoptr(VbInventory) again = NULL;
    g_autofree char *dump = NULL, *dump2 = NULL, *expected = sibling(path, ".out");

    ck_assert_msg(inv != NULL, "%s: %s", path, error ? error->message : "");
    dump = vb_inventory_to_yaml(inv);
    vb_test_compare_file(expected, dump);
    again = vb_inventory_load_data(dump, strlen(dump), "dump.yaml", &error);
    ck_assert_msg(again != NULL, "%s dumped: %s\n%s", path, error ? error->message : "", dump);
    dump2 = vb_inventory_to_yaml(again);
    ck_assert_str_eq(dump, dump2);
}
END_TEST

START_TEST(test_bad_inventory)
{
    const char *path = g_ptr_array_index(bad_cases, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = load_case(path, &error);
    g_autofree char *expected = sibling(path, ".err");
    g_autofree char *message = NULL;

    ck_assert_msg(inv == NULL, "%s loaded but must be refused", path);
    ck_assert_msg(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT), "%s: %s", path,
                  error->message);
    message = g_strconcat(error->message, "\n", NULL);
    vb_test_compare_file(expected, message);
}
END_TEST

static Suite *
pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("inventory");

    good_cases = list_cases("pool/good");
    bad_cases = list_cases("pool/bad");
    /* Not ck_assert: no test runs yet. A missing folder must not pass silently. */
    if (good_cases->len < 3 || bad_cases->len < 15)
        g_error("tests/data/pool/good or bad is missing (is VB_SRCDIR right?)");
    tcase_add_loop_test(tc, test_good_inventory, 0, good_cases->len);
    tcase_add_loop_test(tc, test_bad_inventory, 0, bad_cases->len);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(pool_suite)
