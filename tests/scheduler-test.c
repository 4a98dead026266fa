/*
 * scheduler-test.c: the executor and the journal against the sim driver, in
 * virtual time (deterministic: no wall-clock assertion anywhere).
 *
 * Two kinds of cases:
 * - scenarios (tests/data/scheduler/<case>/: inventory.yaml, policy.yaml,
 *   plan, optional faults, expected.txt): the event trace, final placement,
 *   report and the concurrency peaks replayed from the journal are compared
 *   with expected.txt (VB_REGENERATE=1 rewrites it), and every scenario also
 *   asserts that no cap was exceeded;
 * - properties in C: caps over a table of settings, the sliding window,
 *   longest first, retries, timeouts, a destination going down, skips,
 *   journal-before-acting, reconciliation after a crash, the lock, and the
 *   evacuation makespan of issue 5.
 */
#include "config.h"

#include <sys/wait.h>
#include <unistd.h>

#include "tests/scheduler-helpers.h"

/* ------------------------------------------------------ scenario files */

typedef struct {
    GString *trace;
} Trace;

static void
trace_event(const VbExecEvent *ev, gpointer data)
{
    Trace *t = data;
    g_autofree char *line = NULL;

    if (ev->kind == VB_EXEC_PROGRESS || ev->kind == VB_EXEC_QUEUED)
        return;
    line = vb_exec_event_describe(ev);
    g_string_append_printf(t->trace, "%s\n", line);
}

static void
apply_faults(VbConn *conn, const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    lines = g_strsplit(text, "\n", 0);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(g_strstrip(lines[i]), " ", 0);

        if (!w[0] || !*w[0] || w[0][0] == '#')
            continue;
        ck_assert_msg(w[1] && w[2], "%s: bad fault line '%s'", path, lines[i]);
        if (g_str_equal(w[0], "fail"))
            vb_sim_fail_migrations(conn, w[1], atoi(w[2]));
        else if (g_str_equal(w[0], "slow"))
            vb_sim_slow_migrations(conn, w[1], g_ascii_strtod(w[2], NULL));
        else if (g_str_equal(w[0], "down"))
            vb_sim_fail_host_at(conn, w[1], g_ascii_strtod(w[2], NULL));
        else
            ck_abort_msg("%s: unknown fault '%s'", path, w[0]);
    }
}

/* "evacuate HOST", "rebalance", or lines "move VM HOST". */
static VbPlan *
load_plan(const VbInventory *inv, const VbPolicy *policy, const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = 1 };
    VbPlan *plan = NULL;

    ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
    lines = g_strsplit(g_strstrip(text), "\n", 0);
    if (g_str_has_prefix(lines[0], "evacuate "))
        plan = vb_placement_evacuate(inv, policy, lines[0] + 9, &opts, &error);
    else if (g_str_equal(lines[0], "rebalance"))
        plan = vb_placement_rebalance(inv, policy, &opts, &error);
    if (plan || error) {
        ck_assert_msg(plan, "%s: %s", path, error->message);
        return plan;
    }
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(g_strstrip(lines[i]), " ", 0);

        ck_assert_msg(g_strv_length(w) == 3 && g_str_equal(w[0], "move"),
                      "%s: expected 'move VM HOST', got '%s'", path, lines[i]);
        g_ptr_array_add(pairs, g_strdup(w[1]));
        g_ptr_array_add(pairs, g_strdup(w[2]));
    }
    g_ptr_array_add(pairs, NULL);
    return th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, (const char *const *) pairs->pdata);
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *) a, *(const char *const *) b);
}

static void
append_placement(GString *out, VbConn *conn)
{
    const VbInventory *inv = vb_sim_conn_inventory(conn);

    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        for (guint i = 0; i < host->vms->len; i++)
            g_ptr_array_add(names, vb_inventory_vm(inv, g_array_index(host->vms, guint, i))->name);
        g_ptr_array_sort(names, cmp_names);
        g_string_append_printf(out, "host %s (%s):", host->name,
                               vb_host_state_to_string(host->state));
        for (guint i = 0; i < names->len; i++) {
            g_string_append_printf(out, " %s", (const char *) g_ptr_array_index(names, i));
        }
        g_string_append_c(out, '\n');
    }
}

static void
assert_caps(const ThPeak *peak, const VbPolicy *policy, VbPlanKind kind)
{
    const VbMigrationSettings *s = &policy->migration;
    guint total = kind == VB_PLAN_EVACUATE ? MIN(s->max_total, s->evacuation_batch) : s->max_total;

    ck_assert_uint_le(peak->total, total);
    ck_assert_uint_le(peak->per_source, s->max_per_source);
    ck_assert_uint_le(peak->per_destination, s->max_per_destination);
    ck_assert_uint_le(peak->storage_per_pool, s->max_storage_per_pool);
}

static const char *const scenarios[] = {
    "sliding-window", "longest-first", "retries", "timeout", "dest-down",
    "skip-no-fit", "storage-cap", "evacuate-caps", "plan-order",
};

START_TEST(test_scenario)
{
    g_autofree char *dir = vb_test_data_path("scheduler");
    g_autofree char *base = g_build_filename(dir, scenarios[_i], NULL);
    g_autofree char *inv_path = g_build_filename(base, "inventory.yaml", NULL);
    g_autofree char *pol_path = g_build_filename(base, "policy.yaml", NULL);
    g_autofree char *plan_path = g_build_filename(base, "plan", NULL);
    g_autofree char *faults_path = g_build_filename(base, "faults", NULL);
    g_autofree char *expected = g_build_filename(base, "expected.txt", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_file(inv_path, &error);
    g_autoptr(VbPolicy) policy = NULL;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) report = NULL;
    Trace t = { g_string_new(NULL) };
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThPeak peak;
    ThDb db = { 0 };

    ck_assert_msg(inv, "%s", error ? error->message : "");
    policy = vb_policy_load_file(pol_path, &error);
    ck_assert_msg(policy, "%s", error ? error->message : "");
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    apply_faults(conn, faults_path);
    plan = load_plan(inv, policy, plan_path);
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .poll_seconds = 0.5,
                            .on_event = trace_event, .user_data = &t, .now_unix = 1 };
    report = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(report, "%s", error ? error->message : "");
    peak = th_peaks(db.journal, th_last_plan(db.journal), inv);
    assert_caps(&peak, policy, plan->kind);
    append_placement(t.trace, conn);
    g_string_append_printf(t.trace,
                           "report: finished %u, failed %u, aborted %u, skipped %u, unplaced %u, "
                           "replans %u, max running %u, makespan %.1f s\n",
                           report->finished, report->failed, report->aborted, report->skipped,
                           report->unplaced, report->replans, report->max_running,
                           report->ended_clock - report->started_clock);
    g_string_append_printf(t.trace,
                           "journal peaks: total %u, per source %u, per destination %u, "
                           "storage per pool %u\n",
                           peak.total, peak.per_source, peak.per_destination,
                           peak.storage_per_pool);
    ck_assert_uint_eq(peak.total, report->max_running);
    vb_test_compare_file(expected, t.trace->str);
    g_string_free(t.trace, TRUE);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ---------------------------------------------------------- caps table */

static const struct {
    guint total, per_source, per_destination, storage;
} cap_rows[] = {
    { 1, 1, 1, 1 }, { 4, 2, 2, 3 }, { 6, 2, 3, 1 }, { 8, 3, 1, 2 }, { 12, 4, 4, 2 },
};

/* 30 guests on h0..h2 (half with local disks, pool without shared storage)
 * moving to h3..h5. */
START_TEST(test_caps_table)
{
    g_autoptr(VbInventory) inv = th_pool(6, 64, 1048576, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) report = NULL;
    g_autoptr(GError) error = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThPeak peak;
    ThDb db = { 0 };
    guint bound;

    vb_inventory_pool(inv, 0)->shared_storage = FALSE;
    policy->migration.max_total = cap_rows[_i].total;
    policy->migration.max_per_source = cap_rows[_i].per_source;
    policy->migration.max_per_destination = cap_rows[_i].per_destination;
    policy->migration.max_storage_per_pool = cap_rows[_i].storage;
    for (guint i = 0; i < 30; i++) {
        g_autofree char *name = g_strdup_printf("g%02u", i);
        g_autofree char *src = g_strdup_printf("h%u", i % 3);

        th_vm(inv, src, name, 512 * (1 + i % 7), i % 2 ? 1 + i % 3 : 0);
        g_ptr_array_add(pairs, g_strdup(name));
        g_ptr_array_add(pairs, g_strdup_printf("h%u", 3 + (i * 7) % 3));
    }
    g_ptr_array_add(pairs, NULL);
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, (const char *const *) pairs->pdata);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .poll_seconds = 0.5, .now_unix = 1 };
    report = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(report, "%s", error ? error->message : "");
    ck_assert_uint_eq(report->finished, 30);
    peak = th_peaks(db.journal, th_last_plan(db.journal), inv);
    assert_caps(&peak, policy, VB_PLAN_REBALANCE);
    /* The window fills up to what the caps allow at the start. */
    bound = MIN(cap_rows[_i].total,
                MIN(3 * cap_rows[_i].per_source, 3 * cap_rows[_i].per_destination));
    ck_assert_uint_eq(peak.total, bound);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------------- window and ordering */

static VbExecOutcome *
outcome_of(VbExecReport *r, const char *vm)
{
    for (guint i = r->outcomes->len; i-- > 0;) {
        VbExecOutcome *o = g_ptr_array_index(r->outcomes, i);

        if (g_str_equal(o->vm, vm))
            return o;
    }
    ck_abort_msg("no outcome for %s", vm);
    return NULL;
}

/* One long move and four short ones under a cap of 2: the short ones reuse
 * the second slot one after another while the long one runs. */
START_TEST(test_sliding_window)
{
    g_autoptr(VbInventory) inv = th_pool(3, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "s1", "h2", "s2", "h2", "big", "h1", "s3", "h2", "s4", "h2", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    const double poll = 0.5;
    VbExecOutcome *big;
    VbConn *conn;
    double prev_end = 0;

    th_vm(inv, "h0", "big", 8192, 0);
    for (guint i = 1; i <= 4; i++) {
        g_autofree char *name = g_strdup_printf("s%u", i);

        th_vm(inv, "h0", name, 1024, 0);
    }
    policy->migration.max_total = 2;
    policy->migration.max_per_source = 2;
    policy->migration.max_per_destination = 2;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .poll_seconds = poll, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->finished, 5);
    big = outcome_of(r, "big");
    ck_assert(big->started_clock == 0);
    for (guint i = 1; i <= 4; i++) {
        g_autofree char *name = g_strdup_printf("s%u", i);
        VbExecOutcome *o = outcome_of(r, name);

        /* The slot is reused at the first poll after it frees... */
        ck_assert_msg(o->started_clock <= prev_end + poll + 1e-9, "%s started at %.2f, slot free at %.2f",
                      name, o->started_clock, prev_end);
        /* ...while the long move still runs (batch-then-wait would wait). */
        ck_assert_double_lt(o->ended_clock, big->ended_clock);
        prev_end = o->ended_clock;
    }
    ck_assert_double_le(r->ended_clock - r->started_clock, big->ended_clock + poll);
    vb_driver_sim.close(conn);
}
END_TEST

/* Cap 1: moves start longest estimate first, whatever the plan's order. */
START_TEST(test_longest_first)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "m1", "h1", "m4", "h1", "m2", "h1", "m3", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GPtrArray) events = NULL;
    VbExecOptions opts = { 0 };
    const char *order[4];
    guint n = 0;
    VbConn *conn;
    ThDb db = { 0 };

    for (guint i = 1; i <= 4; i++) {
        g_autofree char *name = g_strdup_printf("m%u", i);

        th_vm(inv, "h0", name, 1024 * i, 0);
    }
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->finished, 4);
    events = vb_journal_events(db.journal, th_last_plan(db.journal), NULL);
    for (guint i = 0; i < events->len; i++) {
        VbJournalEvent *e = g_ptr_array_index(events, i);

        if (e->state == VB_MOVE_STATE_STARTED && n < 4)
            order[n++] = e->vm;
    }
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(order[0], "m4");
    ck_assert_str_eq(order[1], "m3");
    ck_assert_str_eq(order[2], "m2");
    ck_assert_str_eq(order[3], "m1");
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------------ failures and timeouts */

START_TEST(test_retries_then_failure)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "flaky", "h1", "broken", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    th_vm(inv, "h0", "flaky", 1024, 0);
    th_vm(inv, "h0", "broken", 2048, 0);
    policy->migration.max_retries = 2;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_fail_migrations(conn, "flaky", 1);
    vb_sim_fail_migrations(conn, "broken", 5);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->finished, 1);
    ck_assert_uint_eq(r->failed, 1);
    ck_assert_uint_eq(outcome_of(r, "flaky")->attempts, 2);
    ck_assert_uint_eq(outcome_of(r, "broken")->attempts, 3); /* 1 + max_retries */
    ck_assert_int_eq(outcome_of(r, "broken")->state, VB_MOVE_STATE_FAILED);
    ck_assert_str_eq(th_where(conn, "flaky"), "h1");
    ck_assert_str_eq(th_where(conn, "broken"), "h0");
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 5);
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_timeout_aborts)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "slow", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    th_vm(inv, "h0", "slow", 1024, 0); /* about 10 s; made 10x slower */
    policy->migration.timeout_seconds = 60;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_slow_migrations(conn, "slow", 10);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->aborted, 1);
    ck_assert_uint_eq(r->finished, 0);
    ck_assert_double_gt(r->ended_clock, 60);
    ck_assert_double_le(r->ended_clock, 61 + 1e-9);
    ck_assert_ptr_nonnull(strstr(outcome_of(r, "slow")->message, "timeout 60 s"));
    /* The aborted migration never lands, however long we wait. */
    vb_driver_sim.sleep(conn, 500);
    ck_assert_str_eq(th_where(conn, "slow"), "h0");
    vb_driver_sim.close(conn);
}
END_TEST

/* ------------------------------------------------- fresh state, re-plan */

START_TEST(test_destination_down_replans)
{
    g_autoptr(VbInventory) inv = th_pool(3, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", "b", "h1", "c", "h1", "d", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    th_vm(inv, "h0", "a", 4096, 0);
    th_vm(inv, "h0", "b", 3072, 0);
    th_vm(inv, "h0", "c", 2048, 0);
    th_vm(inv, "h0", "d", 1024, 0);
    policy->migration.max_per_destination = 4;
    policy->migration.max_total = 2;
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_fail_host_at(conn, "h1", 5); /* during the first two migrations */
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_ge(r->replans, 1);
    ck_assert_uint_ge(r->skipped, 1);
    ck_assert_uint_eq(r->finished, 4);
    for (const char *const *vm = (const char *const[]){ "a", "b", "c", "d", NULL }; *vm; vm++)
        ck_assert_str_eq(th_where(conn, *vm), "h2");
    vb_driver_sim.close(conn);
}
END_TEST

/* The host being evacuated stops answering during the first migration:
 * the queued moves are skipped as "source down" and counted in host_down
 * (the CLI exits 1 on it); a destination lost instead is re-planned around
 * and counts none. */
static const struct {
    const char *lost;
    gboolean counted;
} down_rows[] = {
    { "h0", TRUE },
    { "h1", FALSE },
};

START_TEST(test_source_down_counted)
{
    g_autoptr(VbInventory) inv = th_pool(3, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", "b", "h1", "c", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    th_vm(inv, "h0", "a", 4096, 0);
    th_vm(inv, "h0", "b", 3072, 0);
    th_vm(inv, "h0", "c", 2048, 0);
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_fail_host_at(conn, down_rows[_i].lost, 5); /* during the first migration */
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_ptr_nonnull(r);
    if (down_rows[_i].counted) {
        ck_assert_uint_ge(r->host_down, 2);
        ck_assert_str_eq(outcome_of(r, "c")->message,
                         "c: not started: its source h0 is down (simulated failure at 5.0 s)");
    } else {
        ck_assert_uint_eq(r->host_down, 0);
    }
    ck_assert_uint_le(r->host_down, r->skipped);
    vb_driver_sim.close(conn);
}
END_TEST

/* The destination filled up after planning: the move is skipped with the
 * checker's reason; with another host it is re-planned there, without one
 * the guest stays and is reported unplaced. */
static const gboolean skip_has_alternative[] = { TRUE, FALSE };

START_TEST(test_skip_when_no_longer_fits)
{
    g_autoptr(VbInventory) inv = th_pool(skip_has_alternative[_i] ? 3 : 2, 16, 16384, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "x", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    VbHost *h1;

    th_vm(inv, "h0", "x", 8192, 0);
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    h1 = vb_inventory_get_host(vb_sim_conn_inventory(conn), "h1");
    h1->memory_used_mib = h1->memory_mib - 1024; /* someone else filled it */
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_ge(r->skipped, 1);
    ck_assert_str_eq(((VbExecOutcome *) g_ptr_array_index(r->outcomes, 0))->to, "h1");
    ck_assert_int_eq(((VbExecOutcome *) g_ptr_array_index(r->outcomes, 0))->state,
                     VB_MOVE_STATE_SKIPPED);
    ck_assert_ptr_nonnull(((VbExecOutcome *) g_ptr_array_index(r->outcomes, 0))->message);
    if (skip_has_alternative[_i]) {
        ck_assert_uint_eq(r->finished, 1);
        ck_assert_str_eq(th_where(conn, "x"), "h2");
    } else {
        ck_assert_uint_eq(r->unplaced, 1);
        ck_assert_uint_eq(vb_sim_n_migrations(conn), 0);
        ck_assert_str_eq(th_where(conn, "x"), "h0");
    }
    vb_driver_sim.close(conn);
}
END_TEST

/* --------------------------------------------- journal before acting */

static VbJournal *spy_journal;
static guint spy_checks;

/* The state the journal holds for the newest move of @vm. */
static VbMoveState
spy_journaled_state(const char *vm)
{
    g_autoptr(VbJournalPlan) plan = vb_journal_unfinished_plan(spy_journal, NULL);
    VbMoveState state = VB_MOVE_STATE_LAST;

    ck_assert_ptr_nonnull(plan);
    for (guint i = 0; i < plan->moves->len; i++) {
        VbJournalMove *m = g_ptr_array_index(plan->moves, i);

        if (g_str_equal(m->vm, vm))
            state = m->state;
    }
    return state;
}

static VbJob *
spy_migrate_start(VbConn *conn, const VbMigrationRequest *req, GError **error)
{
    ck_assert_int_eq(spy_journaled_state(req->vm), VB_MOVE_STATE_STARTED);
    spy_checks++;
    return vb_driver_sim.migrate_start(conn, req, error);
}

static const char *spy_job_vm;

static gboolean
spy_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    ck_assert_int_eq(spy_journaled_state(spy_job_vm), VB_MOVE_STATE_ABORTED);
    spy_checks++;
    return vb_driver_sim.job_abort(conn, job, error);
}

START_TEST(test_journal_before_acting)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "slow", "h1", "ok", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbDriverOps spy = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThDb db = { 0 };

    spy.migrate_start = spy_migrate_start;
    spy.job_abort = spy_job_abort;
    th_vm(inv, "h0", "slow", 4096, 0);
    th_vm(inv, "h0", "ok", 1024, 0);
    policy->migration.timeout_seconds = 100;
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_slow_migrations(conn, "slow", 10);
    vb_sim_fail_migrations(conn, "ok", 1);
    th_db_open(&db);
    spy_journal = db.journal;
    spy_job_vm = "slow"; /* the only one that times out */
    spy_checks = 0;
    opts = (VbExecOptions){ .ops = &spy, .conn = conn, .policy = policy, .journal = db.journal,
                            .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->aborted, 1);
    ck_assert_uint_eq(r->finished, 1);
    ck_assert_uint_eq(spy_checks, 4); /* 3 starts (one retry), 1 abort */
    /* Once done, the plan is closed in the journal. */
    ck_assert_ptr_null(vb_journal_unfinished_plan(db.journal, NULL));
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------------ flaky snapshots */

static guint flaky_failures; /* snapshots still to refuse */

static VbInventory *
flaky_snapshot(VbConn *conn, GError **error)
{
    if (flaky_failures > 0) {
        flaky_failures--;
        g_set_error(error, VB_ERROR, VB_ERROR_CONNECT, "h1: cannot connect: simulated");
        return NULL;
    }
    return vb_driver_sim.snapshot(conn, error);
}

/* A few failed snapshots delay starts; too many in a row end the run with
 * an error (the journal keeps the plan for a later resume). */
static const guint flaky_rows[] = { 2, 50 };

START_TEST(test_snapshot_failures)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GError) error = NULL;
    VbDriverOps flaky = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    flaky.snapshot = flaky_snapshot;
    flaky_failures = flaky_rows[_i];
    th_vm(inv, "h0", "a", 1024, 0);
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    opts = (VbExecOptions){ .ops = &flaky, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    if (flaky_rows[_i] < 5) {
        ck_assert_msg(r, "%s", error ? error->message : "");
        ck_assert_uint_eq(r->finished, 1);
        ck_assert_double_eq(outcome_of(r, "a")->started_clock, flaky_rows[_i]);
    } else {
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(strstr(error->message, "no fresh state of the pool after 5 tries"));
        ck_assert_uint_eq(vb_sim_n_migrations(conn), 0);
    }
    vb_driver_sim.close(conn);
}
END_TEST

/* ------------------------------------------- a driver losing track */

/* Reports every job as running forever, as a driver that lost track of a
 * migration's end would. */
static gboolean
blind_job_poll(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error)
{
    if (!vb_driver_sim.job_poll(conn, job, ret_info, error))
        return FALSE;
    ret_info->state = VB_JOB_RUNNING;
    return TRUE;
}

/* Past the timeout the executor aborts; the abort fails (the migration had
 * landed) and locate finds the guest on its destination: finished, not
 * aborted, and nothing retried. */
START_TEST(test_timeout_after_landing)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    VbDriverOps blind = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbConn *conn;

    blind.job_poll = blind_job_poll;
    th_vm(inv, "h0", "a", 1024, 0);
    policy->migration.timeout_seconds = 60;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    opts = (VbExecOptions){ .ops = &blind, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, NULL);
    ck_assert_uint_eq(r->finished, 1);
    ck_assert_uint_eq(r->aborted, 0);
    ck_assert_double_gt(r->ended_clock, 60);
    ck_assert_str_eq(th_where(conn, "a"), "h1");
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 1);
    vb_driver_sim.close(conn);
}
END_TEST

/* Reports a completed job as failed, as libvirt does when the migration
 * call errs after the guest switched over (its last step failed). */
static gboolean
late_error_job_poll(VbConn *conn, VbJob *job, VbJobInfo *ret_info, GError **error)
{
    if (!vb_driver_sim.job_poll(conn, job, ret_info, error))
        return FALSE;
    if (ret_info->state == VB_JOB_COMPLETED) {
        ret_info->state = VB_JOB_FAILED;
        ret_info->message = g_strdup("a: error after the switch-over (simulated)");
    }
    return TRUE;
}

/* The guest landed although its job says failed: finished (and recorded as
 * evacuated, for a move back), not retried, skipped or failed. */
START_TEST(test_failed_after_landing)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) evacuated = NULL;
    VbDriverOps late = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThDb db = { 0 };

    late.job_poll = late_error_job_poll;
    th_vm(inv, "h0", "a", 1024, 0);
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &late, .conn = conn, .policy = policy, .journal = db.journal,
                            .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r, "%s", error ? error->message : "");
    ck_assert_uint_eq(r->finished, 1);
    ck_assert_uint_eq(r->failed + r->skipped + r->aborted, 0);
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 1);
    ck_assert_str_eq(th_where(conn, "a"), "h1");
    evacuated = vb_journal_evacuated(db.journal, "h0", NULL, &error);
    ck_assert_uint_eq(evacuated->len, 1);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ---------------------------------------------------------- stopping */

static gint stop_flag;
static gint stop_signals; /* the value stop_after_first_start sets */

static void
stop_after_first_start(const VbExecEvent *ev, gpointer data)
{
    if (ev->kind == VB_EXEC_STARTED)
        g_atomic_int_set(&stop_flag, stop_signals ? stop_signals : 1);
}

/* SIGTERM/SIGINT in an acting command or `run`: nothing new starts (the
 * queued moves are journaled skipped, "not started", and the plan ends
 * "stopped"); the running migration finishes (drain 0 = wait for it), or is
 * aborted past the drain limit, or at once on a second signal (stop = 2).
 * The report says when the stop came. */
static const struct {
    double drain;       /* drain_seconds */
    gint signals;       /* value of the stop flag */
    VbMoveState a;      /* how the running move "a" ends */
    double ended_max;   /* the run ends by then (virtual s) */
} drain_rows[] = {
    { 0, 1, VB_MOVE_STATE_FINISHED, 1e9 },
    { 5, 1, VB_MOVE_STATE_ABORTED, 6 },
    { 0, 2, VB_MOVE_STATE_ABORTED, 1 },
    { 600, 2, VB_MOVE_STATE_ABORTED, 1 },
};

START_TEST(test_stop_drains)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "a", "h1", "b", "h1", "c", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GPtrArray) history = NULL;
    g_autoptr(GError) error = NULL;
    VbJournalPlan *journaled;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThDb db = { 0 };

    th_vm(inv, "h0", "a", 4096, 0);
    th_vm(inv, "h0", "b", 2048, 0);
    th_vm(inv, "h0", "c", 1024, 0);
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    th_db_open(&db);
    g_atomic_int_set(&stop_flag, 0);
    stop_signals = drain_rows[_i].signals;
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .now_unix = 1, .stop = &stop_flag,
                            .drain_seconds = drain_rows[_i].drain,
                            .on_event = stop_after_first_start };
    r = vb_executor_run(&opts, inv, plan, &error);
    stop_signals = 0;
    ck_assert_msg(r, "%s", error ? error->message : "");
    ck_assert(r->stopped);
    ck_assert(!r->interrupted);
    ck_assert_double_ge(r->stopped_clock, r->started_clock);
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 1); /* b and c never started */
    ck_assert_uint_eq(r->not_started, 2);
    ck_assert_uint_eq(r->skipped, 2);
    ck_assert_uint_eq(r->still_running, 0);
    ck_assert_str_eq(outcome_of(r, "b")->message,
                     "not started: the run was stopped (SIGTERM/SIGINT)");
    ck_assert_int_eq(outcome_of(r, "a")->state, drain_rows[_i].a);
    ck_assert_double_le(r->ended_clock, drain_rows[_i].ended_max);
    vb_driver_sim.sleep(conn, 1000);
    ck_assert_str_eq(th_where(conn, "a"),
                     drain_rows[_i].a == VB_MOVE_STATE_FINISHED ? "h1" : "h0");
    ck_assert_str_eq(th_where(conn, "b"), "h0");
    /* The journal agrees: no move left queued, the plan ended "stopped" (so
     * no later run takes the queued moves up), nothing left to reconcile. */
    ck_assert_ptr_null(vb_journal_unfinished_plan(db.journal, NULL));
    history = vb_journal_history(db.journal, 1, &error);
    journaled = g_ptr_array_index(history, 0);
    ck_assert_str_eq(journaled->outcome, "stopped");
    for (guint i = 0; i < journaled->moves->len; i++) {
        VbJournalMove *m = g_ptr_array_index(journaled->moves, i);

        ck_assert_int_eq(m->state, g_str_equal(m->vm, "a") ? drain_rows[_i].a
                                                           : VB_MOVE_STATE_SKIPPED);
    }
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------------- a refused abort */

/* Refuses every abort and lets the migration go on, as libvirt does once a
 * migration has switched to post-copy ("cannot abort migration in post-copy
 * mode") or when the source's libvirtd does not answer. */
static gboolean
deaf_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    g_set_error(error, VB_ERROR, VB_ERROR_MIGRATION, "cannot abort migration in post-copy mode");
    return FALSE;
}

/* Says yes to every abort and does nothing, as libvirt's asynchronous abort
 * that comes during the switch-over: the migration still lands. */
static gboolean
late_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    return TRUE;
}

/* "slow" (about 100 s) times out at 60 s under a cap of 1, its abort is
 * refused and it lands at about 100 s. It must not be reported aborted while
 * it runs, nor free its slot for "b": it ends finished, "b" starts after it,
 * and the journal never has two moves in flight. Rows 2-3: the same with an
 * abort that says yes and has no effect. Rows 1, 3 stop the run (drain
 * limit 5 s) instead: the refused migration is left running, journaled as
 * started, and the plan stays unfinished for the next run. */
static const struct {
    gboolean stop;      /* stop the run (drain limit 5 s) */
    gboolean says_yes;  /* the abort is accepted but has no effect */
} deaf_rows[] = { { FALSE, FALSE }, { TRUE, FALSE }, { FALSE, TRUE }, { TRUE, TRUE } };

START_TEST(test_abort_refused)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "slow", "h1", "b", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VbJournalPlan) left = NULL;
    VbDriverOps deaf = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbConn *conn;
    ThDb db = { 0 };

    deaf.job_abort = deaf_rows[_i].says_yes ? late_job_abort : deaf_job_abort;
    th_vm(inv, "h0", "slow", 1024, 0);
    th_vm(inv, "h0", "b", 512, 0);
    policy->migration.timeout_seconds = 60;
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_slow_migrations(conn, "slow", 10);
    th_db_open(&db);
    g_atomic_int_set(&stop_flag, 0);
    opts = (VbExecOptions){ .ops = &deaf, .conn = conn, .policy = policy, .journal = db.journal,
                            .now_unix = 1 };
    if (deaf_rows[_i].stop)
        opts.stop = &stop_flag, opts.drain_seconds = 5, opts.on_event = stop_after_first_start;
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r, "%s", error ? error->message : "");
    ck_assert_uint_eq(r->aborted, 0);
    ck_assert_uint_le(r->max_running, 1);
    if (!deaf_rows[_i].stop) {
        VbExecOutcome *slow = outcome_of(r, "slow");

        ck_assert_uint_eq(r->finished, 2);
        ck_assert_int_eq(slow->state, VB_MOVE_STATE_FINISHED);
        ck_assert_double_gt(slow->ended_clock, 60);
        ck_assert_double_ge(outcome_of(r, "b")->started_clock, slow->ended_clock);
        ck_assert_str_eq(th_where(conn, "slow"), "h1");
        ck_assert_uint_eq(vb_sim_n_migrations(conn), 2);
        ck_assert_ptr_null(vb_journal_unfinished_plan(db.journal, NULL));
    } else {
        VbExecOutcome *slow = outcome_of(r, "slow");

        ck_assert(r->interrupted && r->stopped);
        ck_assert_uint_eq(r->finished, 0);
        ck_assert_uint_eq(vb_sim_n_migrations(conn), 1);
        /* The report lists the migration left running (it used to omit it). */
        ck_assert_uint_eq(r->still_running, 1);
        ck_assert_int_eq(slow->state, VB_MOVE_STATE_STARTED);
        ck_assert_ptr_nonnull(strstr(slow->message, "still running"));
        left = vb_journal_unfinished_plan(db.journal, NULL);
        ck_assert_ptr_nonnull(left);
        for (guint i = 0; i < left->moves->len; i++) {
            VbJournalMove *m = g_ptr_array_index(left->moves, i);

            if (g_str_equal(m->vm, "slow"))
                ck_assert_int_eq(m->state, VB_MOVE_STATE_STARTED);
        }
        vb_driver_sim.sleep(conn, 1000);
        ck_assert_str_eq(th_where(conn, "slow"), "h1");
    }
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------- an abort nobody answers */

/* The source's libvirtd does not answer (stopped): the abort gets no reply
 * before its deadline, as the libvirt driver reports it. */
static gboolean
unanswered_job_abort(VbConn *conn, VbJob *job, GError **error)
{
    g_set_error(error, VB_ERROR, VB_ERROR_TIMEOUT, "h0: not answering: no reply within 10 s");
    return FALSE;
}

/* "slow" (about 100 s) times out at 60 s under a cap of 1 and its abort
 * gets no answer: the run does not wait for a host that may never answer.
 * "slow" is left started (unknown) at its timeout, "b" goes on and
 * finishes, the run ends before "slow" lands and the plan stays unfinished;
 * the next run (the source answering again) finds "slow" landed. Before,
 * the run waited for the migration's end (600 s at most). */
START_TEST(test_abort_unanswered)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *pairs[] = { "slow", "h1", "b", "h1", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(VbExecReport) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VbJournalPlan) left = NULL;
    VbDriverOps hung = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbExecOutcome *slow;
    VbConn *conn;
    ThDb db = { 0 };

    hung.job_abort = unanswered_job_abort;
    th_vm(inv, "h0", "slow", 1024, 0);
    th_vm(inv, "h0", "b", 512, 0);
    policy->migration.timeout_seconds = 60;
    policy->migration.max_total = 1;
    plan = th_plan(inv, policy, VB_PLAN_REBALANCE, NULL, pairs);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_slow_migrations(conn, "slow", 10);
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &hung, .conn = conn, .policy = policy, .journal = db.journal,
                            .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r, "%s", error ? error->message : "");
    slow = outcome_of(r, "slow");
    ck_assert_uint_eq(r->unknown, 1);
    ck_assert_uint_eq(r->aborted, 0);
    ck_assert_uint_eq(r->finished, 1);
    ck_assert(r->interrupted);
    ck_assert_int_eq(slow->state, VB_MOVE_STATE_STARTED);
    ck_assert_msg(strstr(slow->message, "no reply within 10 s") &&
                  strstr(slow->message, "left started"), "%s", slow->message);
    ck_assert_double_lt(slow->ended_clock, 62);
    ck_assert_int_eq(outcome_of(r, "b")->state, VB_MOVE_STATE_FINISHED);
    ck_assert_double_lt(r->ended_clock, 90); /* not waiting for "slow" to land */
    left = vb_journal_unfinished_plan(db.journal, NULL);
    ck_assert_ptr_nonnull(left);
    for (guint i = 0; i < left->moves->len; i++) {
        VbJournalMove *m = g_ptr_array_index(left->moves, i);

        ck_assert_int_eq(m->state, g_str_equal(m->vm, "slow") ? VB_MOVE_STATE_STARTED
                                                              : VB_MOVE_STATE_FINISHED);
    }
    vb_driver_sim.sleep(conn, 1000);
    opts.ops = &vb_driver_sim;
    again = vb_executor_resume(&opts, &error);
    ck_assert_msg(again, "%s", error ? error->message : "");
    ck_assert_int_eq(outcome_of(again, "slow")->state, VB_MOVE_STATE_FINISHED);
    ck_assert_str_eq(th_where(conn, "slow"), "h1");
    ck_assert_ptr_null(vb_journal_unfinished_plan(db.journal, NULL));
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 2);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

static Suite *
scheduler_suite(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("executor");

    tcase_add_loop_test(tc, test_scenario, 0, G_N_ELEMENTS(scenarios));
    tcase_add_loop_test(tc, test_caps_table, 0, G_N_ELEMENTS(cap_rows));
    tcase_add_test(tc, test_sliding_window);
    tcase_add_test(tc, test_longest_first);
    tcase_add_test(tc, test_retries_then_failure);
    tcase_add_test(tc, test_timeout_aborts);
    tcase_add_test(tc, test_timeout_after_landing);
    tcase_add_test(tc, test_failed_after_landing);
    tcase_add_loop_test(tc, test_stop_drains, 0, G_N_ELEMENTS(drain_rows));
    tcase_add_loop_test(tc, test_abort_refused, 0, G_N_ELEMENTS(deaf_rows));
    tcase_add_test(tc, test_abort_unanswered);
    tcase_add_test(tc, test_destination_down_replans);
    tcase_add_loop_test(tc, test_skip_when_no_longer_fits, 0, G_N_ELEMENTS(skip_has_alternative));
    tcase_add_loop_test(tc, test_source_down_counted, 0, G_N_ELEMENTS(down_rows));
    tcase_add_test(tc, test_journal_before_acting);
    tcase_add_loop_test(tc, test_snapshot_failures, 0, G_N_ELEMENTS(flaky_rows));
    suite_add_tcase(s, tc);
    scheduler_suite_crash(s);
    scheduler_suite_costs(s);
    scheduler_suite_recent(s);
    return s;
}

VB_TEST_MAIN(scheduler_suite)
