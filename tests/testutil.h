/*
 * testutil.h: what every Check suite shares.
 *
 * Each tests/<module>-test.c defines one suite and ends with
 * VB_TEST_MAIN(suite_function). Data files live in tests/data/<module>/ and
 * are found through vb_test_data_path(). Scenario tests compare output with an
 * expected file beside the input; run with VB_REGENERATE=1 to rewrite the
 * expected files instead (then review the diff before committing).
 */
#pragma once

#include <check.h>
#include <glib.h>
#include <stdlib.h>

#include "util/util.h"

/* Absolute path of tests/data/<relative> (transfer full). */
static inline char *
vb_test_data_path(const char *relative)
{
    const char *srcdir = g_getenv("VB_SRCDIR");

    return g_build_filename(srcdir ? srcdir : VB_SRCDIR, "tests", "data", relative, NULL);
}

/* TRUE when expected files should be rewritten rather than compared. */
static inline gboolean
vb_test_regenerate(void)
{
    return g_strcmp0(g_getenv("VB_REGENERATE"), "1") == 0;
}

/* Compares @actual with the file @expected_path, or rewrites the file when
 * regenerating. Fails the test with both texts when they differ. */
static inline void
vb_test_compare_file(const char *expected_path, const char *actual)
{
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (vb_test_regenerate()) {
        ck_assert_msg(g_file_set_contents(expected_path, actual, -1, &error),
                      "cannot write %s: %s", expected_path, error ? error->message : "");
        return;
    }
    ck_assert_msg(g_file_get_contents(expected_path, &expected, NULL, &error),
                  "cannot read %s (run with VB_REGENERATE=1 to create it): %s",
                  expected_path, error ? error->message : "");
    ck_assert_msg(g_strcmp0(expected, actual) == 0,
                  "output differs from %s\n--- expected\n%s\n--- actual\n%s", expected_path,
                  expected, actual);
}

#define VB_TEST_MAIN(suite_fn)                                                    \
    int main(void)                                                                \
    {                                                                             \
        SRunner *runner = srunner_create(suite_fn());                             \
        int failed;                                                               \
        srunner_run_all(runner, CK_NORMAL);                                       \
        failed = srunner_ntests_failed(runner);                                   \
        srunner_free(runner);                                                     \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                         \
    }
