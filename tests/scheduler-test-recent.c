/*
 * scheduler-test-recent.c: each guest's recent migrations read back from the
 * journal (scheduler/journal-recent.c), for the policy's cooldown and daily
 * move cap: which journaled moves count, when, and how the journal's figures
 * meet the driver's in a snapshot.
 */
#include "config.h"

#include <sqlite3.h>

#include "tests/scheduler-helpers.h"

#define NOW 1800000000 /* unix seconds the rows are dated against */
#define HOUR 3600
#define DAY 86400

/* Journaled moves: a guest, how its move ends, and how long before NOW each
 * of its events was written (negative: after NOW, a clock ahead). A second
 * start (attempt 2) is written when restart_age is not 0. */
static const struct {
    const char *vm;
    VbMoveState end;      /* QUEUED: left started */
    gint64 start_age, end_age, restart_age;
} recent_rows[] = {
    /* g: three finished in the last day, one older, a failure, a skip. */
    { "g", VB_MOVE_STATE_FINISHED, 4 * DAY, 4 * DAY - 10, 0 },
    { "g", VB_MOVE_STATE_FINISHED, 25 * HOUR, 25 * HOUR - 10, 0 },
    { "g", VB_MOVE_STATE_FINISHED, 20 * HOUR, 20 * HOUR - 10, 0 },
    { "g", VB_MOVE_STATE_FINISHED, 2 * HOUR, 2 * HOUR - 10, 0 },
    { "g", VB_MOVE_STATE_FINISHED, HOUR + 60, HOUR, 0 },
    { "g", VB_MOVE_STATE_FAILED, 120, 60, 0 },
    { "g", VB_MOVE_STATE_SKIPPED, 0, 30, 0 },
    /* old: only a move older than a day: its time, no count. */
    { "old", VB_MOVE_STATE_FINISHED, 2 * DAY, 2 * DAY - 5, 0 },
    /* unknown: started twice, its end unknown: one move, at the newer start. */
    { "unknown", VB_MOVE_STATE_QUEUED, 900, 0, 300 },
    /* ahead: finished 50 s after NOW (another machine's clock): counts as now. */
    { "ahead", VB_MOVE_STATE_FINISHED, -40, -50, 0 },
    /* aborted and ancient guests: nothing. */
    { "aborted", VB_MOVE_STATE_ABORTED, 600, 500, 0 },
    { "ancient", VB_MOVE_STATE_FINISHED, 40 * DAY, 40 * DAY - 5, 0 },
};

/* What vb_journal_recent_moves() gives back, sorted by name. */
static const struct {
    const char *vm;
    gint64 age;          /* NOW - last_unix */
    guint moves_last_day;
} recent_expected[] = {
    { "ahead", 0, 1 },
    { "g", HOUR, 3 },
    { "old", 2 * DAY - 5, 0 },
    { "unknown", 300, 1 },
};

/* Dates the newest event of the journal @age seconds before NOW. */
static void
date_last_event(ThDb *db, gint64 age)
{
    g_autofree char *sql = g_strdup_printf(
        "UPDATE journal_events SET time_us = %" G_GINT64_FORMAT
        " WHERE id = (SELECT MAX(id) FROM journal_events)",
        (NOW - age) * G_USEC_PER_SEC);

    ck_assert_int_eq(sqlite3_exec(vb_store_db(db->store), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void
state(ThDb *db, gint64 move, VbMoveState s, guint attempt, gint64 age)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vb_journal_move_set_state(db->journal, move, s, attempt, 0, NULL, &error),
                  "%s", error ? error->message : "");
    date_last_event(db, age);
}

static void
journal_recent_rows(ThDb *db)
{
    g_autoptr(GError) error = NULL;
    gint64 plan, move;

    ck_assert(vb_journal_plan_begin(db->journal, VB_PLAN_REBALANCE, NULL, &plan, &error));
    for (guint i = 0; i < G_N_ELEMENTS(recent_rows); i++) {
        ck_assert(vb_journal_move_add(db->journal, plan, recent_rows[i].vm, "h0", "h1",
                                      VB_MOVE_LIVE, 1, &move, &error));
        if (recent_rows[i].end == VB_MOVE_STATE_SKIPPED) {
            state(db, move, VB_MOVE_STATE_SKIPPED, 0, recent_rows[i].end_age);
            continue;
        }
        state(db, move, VB_MOVE_STATE_STARTED, 1, recent_rows[i].start_age);
        if (recent_rows[i].restart_age != 0)
            state(db, move, VB_MOVE_STATE_STARTED, 2, recent_rows[i].restart_age);
        if (recent_rows[i].end != VB_MOVE_STATE_QUEUED)
            state(db, move, recent_rows[i].end, 1, recent_rows[i].end_age);
    }
}

START_TEST(test_journal_recent)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) got = NULL;
    ThDb db = { 0 };

    th_db_open(&db);
    journal_recent_rows(&db);
    got = vb_journal_recent_moves(db.journal, NOW, &error);
    ck_assert_msg(got, "%s", error ? error->message : "");
    ck_assert_uint_eq(got->len, G_N_ELEMENTS(recent_expected));
    for (guint i = 0; i < got->len; i++) {
        const VbJournalRecent *r = g_ptr_array_index(got, i);

        ck_assert_str_eq(r->vm, recent_expected[i].vm);
        ck_assert_msg(NOW - r->last_unix == recent_expected[i].age, "%s: %" G_GINT64_FORMAT
                      " s ago, expected %" G_GINT64_FORMAT, r->vm, NOW - r->last_unix,
                      recent_expected[i].age);
        ck_assert_msg(r->moves_last_day == recent_expected[i].moves_last_day,
                      "%s: %u moves in the last day, expected %u", r->vm, r->moves_last_day,
                      recent_expected[i].moves_last_day);
    }
    th_db_close(&db);
}
END_TEST

/* Into a snapshot: the larger of the driver's figures and the journal's; a
 * guest of the journal that the pool lacks is skipped. */
START_TEST(test_recent_apply)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 0);
    VbVm *g = th_vm(inv, "h1", "g", 1024, 0);
    VbVm *old = th_vm(inv, "h1", "old", 1024, 0);
    VbVm *fresh = th_vm(inv, "h1", "ahead", 1024, 0);
    VbVm *never = th_vm(inv, "h0", "never", 1024, 0);
    ThDb db = { 0 };

    old->last_migrated = NOW - 10; /* the driver knows a newer move */
    old->moves_last_day = 5;
    th_db_open(&db);
    journal_recent_rows(&db);
    ck_assert_msg(vb_scheduler_apply_recent_moves(inv, db.journal, NOW, &error), "%s",
                  error ? error->message : "");
    ck_assert_int_eq(g->last_migrated, NOW - HOUR);
    ck_assert_uint_eq(g->moves_last_day, 3);
    ck_assert_int_eq(old->last_migrated, NOW - 10);
    ck_assert_uint_eq(old->moves_last_day, 5);
    ck_assert_int_eq(fresh->last_migrated, NOW);
    ck_assert_uint_eq(fresh->moves_last_day, 1);
    ck_assert_int_eq(never->last_migrated, 0);
    ck_assert_uint_eq(never->moves_last_day, 0);
    th_db_close(&db);
}
END_TEST

/* A run's moves count in the next snapshot read with the journal, as a
 * second process would see them: the sim connection of the first run is
 * gone, a fresh pool file knows nothing. */
START_TEST(test_recent_from_a_run)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(VbInventory) second = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThDb db = { 0 };

    th_vm(inv, "h0", "a", 100, 0);
    th_vm(inv, "h0", "b", 100, 0);
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .poll_seconds = 0.01, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r && r->finished == 1, "%s", error ? error->message : "");
    vb_driver_sim.close(conn);
    second = vb_inventory_copy(inv);
    ck_assert(vb_scheduler_apply_recent_moves(second, db.journal, now, &error));
    ck_assert_uint_eq(vb_inventory_get_vm(second, "a")->moves_last_day, 1);
    ck_assert_int_ge(vb_inventory_get_vm(second, "a")->last_migrated, now - 60);
    ck_assert_uint_eq(vb_inventory_get_vm(second, "b")->moves_last_day, 0);
    ck_assert_int_eq(vb_inventory_get_vm(second, "b")->last_migrated, 0);
    th_db_close(&db);
}
END_TEST

void
scheduler_suite_recent(Suite *s)
{
    TCase *tc = tcase_create("recent");

    tcase_add_test(tc, test_journal_recent);
    tcase_add_test(tc, test_recent_apply);
    tcase_add_test(tc, test_recent_from_a_run);
    suite_add_tcase(s, tc);
}
