/*
 * collectors-test.c: the store (migrations, error paths), counter deltas,
 * windowed averages, retention, and sampling the sim driver end to end.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "collectors/collectors.h"
#include "tests/testutil.h"

/* ------------------------------------------------------------------ store */

static const char *const demo_steps[] = {
    "CREATE TABLE a (x INTEGER);",
    "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z INTEGER);",
    "CREATE TABLE c (w INTEGER); INSERT INTO no_such_table VALUES (1);",
};

static gboolean
table_exists(VbStore *store, const char *name)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", NULL);
    gboolean found;

    ck_assert_ptr_nonnull(stmt);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    found = sqlite3_column_int(stmt, 0) > 0;
    sqlite3_reset(stmt);
    return found;
}

static guint
schema_version(VbStore *store, const char *component)
{
    g_autoptr(GError) error = NULL;
    guint version = 999;

    ck_assert_msg(vb_store_schema_version(store, component, &version, &error), "%s",
                  error ? error->message : "");
    return version;
}

START_TEST(test_store_migrate_fresh_and_rerun)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(schema_version(store, "demo"), 0);
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    ck_assert(table_exists(store, "a"));
    ck_assert(table_exists(store, "b"));
    /* Re-running is a no-op: step 1 would fail if applied twice. */
    ck_assert_msg(vb_store_migrate(store, "demo", demo_steps, 2, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    /* Components are independent. */
    ck_assert_uint_eq(schema_version(store, "other"), 0);
}
END_TEST

START_TEST(test_store_migrate_upgrade)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 1);
    ck_assert(!table_exists(store, "b"));
    ck_assert(vb_store_exec(store, "INSERT INTO a (x) VALUES (7);", &error));
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    ck_assert(table_exists(store, "b"));
    /* The data written at version 1 survived the upgrade. */
    ck_assert(vb_store_exec(store, "UPDATE a SET y = 'kept' WHERE x = 7;", &error));
}
END_TEST

START_TEST(test_store_migrate_failure_rolls_back)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert(!vb_store_migrate(store, "demo", demo_steps, 3, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, "no_such_table") &&
                      strstr(error->message, "step 3 of 3") &&
                      strstr(error->message, "demo"),
                  "%s", error->message);
    /* Nothing of steps 2 and 3 stayed. */
    ck_assert_uint_eq(schema_version(store, "demo"), 1);
    ck_assert(!table_exists(store, "b"));
    ck_assert(!table_exists(store, "c"));
    g_clear_error(&error);
    /* The store still works after the failed transaction. */
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
}
END_TEST

START_TEST(test_store_refuses_newer_schema)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert(!vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, "newer"), "%s", error->message);
}
END_TEST

START_TEST(test_store_file_reopen)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-store-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "sub", "dir", "state.db", NULL);

    {
        g_autoptr(VbStore) store = vb_store_open(path, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    }
    {
        g_autoptr(VbStore) store = vb_store_open(path, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert_uint_eq(schema_version(store, "demo"), 2);
        ck_assert_str_eq(vb_store_path(store), path);
    }
    {
        g_autofree char *wal = g_strconcat(path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(path, "-shm", NULL);
        g_autofree char *sub = g_path_get_dirname(path);
        g_autofree char *subsub = g_path_get_dirname(sub);

        g_unlink(wal);
        g_unlink(shm);
        ck_assert_int_eq(g_unlink(path), 0);
        ck_assert_int_eq(g_rmdir(sub), 0);
        ck_assert_int_eq(g_rmdir(subsub), 0);
        ck_assert_int_eq(g_rmdir(dir), 0);
    }
}
END_TEST

START_TEST(test_store_unwritable)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-store-XXXXXX", &error);
    g_autofree char *file = g_build_filename(dir, "not-a-folder", NULL);
    g_autofree char *path = g_build_filename(file, "state.db", NULL);
    g_autoptr(VbStore) store = NULL;

    /* A plain file where the folder should be: fails for root too. It is
     * long enough that sqlite reads its header (and finds none). */
    {
        g_autofree char *junk = g_strnfill(4096, 'x');

        ck_assert(g_file_set_contents(file, junk, -1, &error));
    }
    store = vb_store_open(path, &error);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, path), "%s", error->message);
    g_clear_error(&error);

    /* A file that is not a database. */
    store = vb_store_open(file, &error);
    ck_assert_ptr_null(store);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, file), "%s", error->message);
    g_unlink(file);
    g_rmdir(dir);
}
END_TEST

static Suite *
collectors_suite(void)
{
    Suite *s = suite_create("collectors");
    TCase *tc = tcase_create("store");

    tcase_add_test(tc, test_store_migrate_fresh_and_rerun);
    tcase_add_test(tc, test_store_migrate_upgrade);
    tcase_add_test(tc, test_store_migrate_failure_rolls_back);
    tcase_add_test(tc, test_store_refuses_newer_schema);
    tcase_add_test(tc, test_store_file_reopen);
    tcase_add_test(tc, test_store_unwritable);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(collectors_suite)
