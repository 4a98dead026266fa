/*
 * scheduler-test-costs.c: migration costs measured from the journal
 * (scheduler/journal-costs.c): which journaled moves count, what data each
 * moved, and, end to end on the sim driver, that a plan's real durations
 * give back the setup and bandwidth the sim migrated with.
 */
#include "config.h"

#include "tests/scheduler-helpers.h"

/* Journaled moves of guest "g" (64 MiB memory, 1 GiB local disk) between h0
 * and h1, oldest first, and whether vb_journal_durations() keeps each. */
static const struct {
    VbMoveKind kind;
    VbMoveState end;
    const char *message;
    double started, ended;
    gboolean kept;
} duration_rows[] = {
    { VB_MOVE_LIVE, VB_MOVE_STATE_FINISHED, NULL, 10, 14, TRUE },
    { VB_MOVE_LIVE_STORAGE, VB_MOVE_STATE_FINISHED, NULL, 20, 30.88, TRUE },
    { VB_MOVE_COLD, VB_MOVE_STATE_FINISHED, NULL, 40, 45, FALSE },          /* no memory moved */
    { VB_MOVE_LIVE, VB_MOVE_STATE_FAILED, "connection reset", 50, 52, FALSE },
    { VB_MOVE_LIVE, VB_MOVE_STATE_ABORTED, "past its timeout", 60, 70, FALSE },
    { VB_MOVE_LIVE, VB_MOVE_STATE_FINISHED, "found finished after a restart", 80, 900, FALSE },
    { VB_MOVE_LIVE, VB_MOVE_STATE_FINISHED, NULL, 1000, 1000, FALSE },      /* no duration */
    { VB_MOVE_LIVE, VB_MOVE_STATE_FINISHED, NULL, 1, 200000, FALSE },       /* two boots' clocks */
    { VB_MOVE_LIVE, VB_MOVE_STATE_FINISHED, NULL, 2000, 2003, TRUE },
};

static void
journal_rows(VbJournal *journal)
{
    g_autoptr(GError) error = NULL;
    gint64 plan, move;

    ck_assert(vb_journal_plan_begin(journal, VB_PLAN_REBALANCE, NULL, &plan, &error));
    for (guint i = 0; i < G_N_ELEMENTS(duration_rows); i++) {
        const char *from = i % 2 ? "h1" : "h0", *to = i % 2 ? "h0" : "h1";

        ck_assert(vb_journal_move_add(journal, plan, "g", from, to, duration_rows[i].kind, 0.1,
                                      &move, &error));
        ck_assert(vb_journal_move_set_state(journal, move, VB_MOVE_STATE_STARTED, 1,
                                            duration_rows[i].started, NULL, &error));
        ck_assert(vb_journal_move_set_state(journal, move, duration_rows[i].end, 1,
                                            duration_rows[i].ended, duration_rows[i].message,
                                            &error));
    }
    ck_assert(vb_journal_plan_end(journal, plan, "done", &error));
}

START_TEST(test_journal_durations)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) got = NULL;
    guint k = 0;
    ThDb db = { 0 };

    th_db_open(&db);
    journal_rows(db.journal);
    got = vb_journal_durations(db.journal, 100, &error);
    ck_assert_msg(got, "%s", error ? error->message : "");
    /* Newest first: walk the rows backwards. */
    for (guint i = G_N_ELEMENTS(duration_rows); i-- > 0;) {
        const VbJournalDuration *d;

        if (!duration_rows[i].kept)
            continue;
        ck_assert_msg(k < got->len, "row %u was left out", i);
        d = g_ptr_array_index(got, k++);
        ck_assert_str_eq(d->from, i % 2 ? "h1" : "h0");
        ck_assert_int_eq(d->kind, duration_rows[i].kind);
        ck_assert_double_eq_tol(d->seconds, duration_rows[i].ended - duration_rows[i].started,
                                1e-9);
    }
    ck_assert_uint_eq(got->len, k);
    g_clear_pointer(&got, g_ptr_array_unref);
    got = vb_journal_durations(db.journal, 1, &error);
    ck_assert_uint_eq(got->len, 1);
    ck_assert_double_eq_tol(((VbJournalDuration *) g_ptr_array_index(got, 0))->seconds, 3, 1e-9);
    th_db_close(&db);
}
END_TEST

/* What a journaled migration moved comes from the inventory: memory, plus
 * the local disk for live-storage; guests the inventory lacks do not count. */
START_TEST(test_costs_data_moved)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 0);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbCalibration) cal = NULL;
    g_autoptr(VbCalibration) none = NULL;
    g_autoptr(VbInventory) other = th_pool(2, 16, 65536, 0);
    gint64 plan, move;
    ThDb db = { 0 };

    th_vm(inv, "h1", "g", 64, 1);
    th_db_open(&db);
    ck_assert(vb_journal_plan_begin(db.journal, VB_PLAN_REBALANCE, NULL, &plan, &error));
    for (guint i = 0; i < 3; i++) {
        /* 64 MiB + 1024 MiB in 10.88 s: 100 MiB/s. */
        ck_assert(vb_journal_move_add(db.journal, plan, "g", "h0", "h1", VB_MOVE_LIVE_STORAGE,
                                      1, &move, &error));
        ck_assert(vb_journal_move_set_state(db.journal, move, VB_MOVE_STATE_STARTED, 1, 100 * i,
                                            NULL, &error));
        ck_assert(vb_journal_move_set_state(db.journal, move, VB_MOVE_STATE_FINISHED, 1,
                                            100 * i + 10.88, NULL, &error));
    }
    cal = vb_scheduler_costs_calibrate(db.journal, inv, policy, &error);
    ck_assert_msg(cal, "%s", error ? error->message : "");
    ck_assert(!cal->setup_measured);
    ck_assert_uint_eq(cal->pairs->len, 1);
    ck_assert_double_eq_tol(g_array_index(cal->pairs, VbPairBandwidth, 0).mib_s, 100, 1e-6);
    none = vb_scheduler_costs_calibrate(db.journal, other, policy, &error);
    ck_assert_uint_eq(none->pairs->len, 0);
    th_db_close(&db);
}
END_TEST

/* End to end on the sim, which migrates in 2 s + MiB / 100 MiB/s (policy
 * setup 2 s, hosts at 100 MiB/s): the journal of a real run gives back both
 * figures (to the poll step), and an inventory calibrated from it estimates
 * a size never migrated at 2 s + MiB / 100 even under a policy that says 0 s. */
START_TEST(test_costs_from_a_run)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbPolicy) plain = vb_policy_new_default();
    const char *pairs[] = { "m1", "h1", "m2", "h1", "m3", "h1", "m4", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(VbInventory) after = NULL;
    g_autoptr(VbCalibration) cal = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    VbVm *big;
    ThDb db = { 0 };

    for (guint i = 0; i < 4; i++) {
        g_autofree char *name = g_strdup_printf("m%u", i + 1);

        th_vm(inv, "h0", name, 100u << i, 0);
    }
    big = th_vm(inv, "h0", "big", 1600, 0);
    policy->migration.setup_seconds = 2;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .poll_seconds = 0.01, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r && r->finished == 4, "%s", error ? error->message : "");
    after = vb_inventory_copy(vb_sim_conn_inventory(conn));
    cal = vb_scheduler_costs_calibrate(db.journal, after, plain, &error);
    ck_assert_msg(cal, "%s", error ? error->message : "");
    ck_assert(cal->setup_measured);
    ck_assert_double_eq_tol(cal->setup_seconds, 2, 0.02);
    ck_assert_uint_eq(cal->pairs->len, 1);
    ck_assert_double_eq_tol(g_array_index(cal->pairs, VbPairBandwidth, 0).mib_s, 100, 1);
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(after, plain, big,
                                                          vb_inventory_get_host(after, "h0"),
                                                          vb_inventory_get_host(after, "h1"),
                                                          VB_MOVE_LIVE),
                            16, 1e-9); /* not applied yet: the hosts' 100 MiB/s, no setup */
    ck_assert(vb_scheduler_apply_costs(after, db.journal, plain, &error));
    ck_assert_double_eq_tol(vb_placement_estimate_seconds(after, plain,
                                                          vb_inventory_get_vm(after, "big"),
                                                          vb_inventory_get_host(after, "h0"),
                                                          vb_inventory_get_host(after, "h1"),
                                                          VB_MOVE_LIVE),
                            18, 0.2);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

void
scheduler_suite_costs(Suite *s)
{
    TCase *tc = tcase_create("costs");

    tcase_add_test(tc, test_journal_durations);
    tcase_add_test(tc, test_costs_data_moved);
    tcase_add_test(tc, test_costs_from_a_run);
    suite_add_tcase(s, tc);
}
