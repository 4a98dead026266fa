/*
 * scheduler-test-crash.c: the scheduler cases about surviving and sharing:
 * reconciliation after a simulated crash, the acting lock (held, stale after
 * a killed process or a reboot), maintenance and evacuation records, the
 * history, and the evacuation makespan of issue 5 (a plan-quality property
 * in deterministic virtual time, not a wall-clock timing).
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/scheduler-helpers.h"

/* ------------------------------------------------------------- crashes */

typedef struct {
    guint reattached;
    guint found_finished;
} CrashCounts;

static void
count_event(const VbExecEvent *ev, gpointer data)
{
    CrashCounts *c = data;

    if (ev->kind == VB_EXEC_STARTED && ev->message)
        c->reattached++;
    if (ev->kind == VB_EXEC_FINISHED && ev->message)
        c->found_finished++;
}

/* Seconds the "restart" takes while migrations go on without us. */
static const double crash_gaps[] = { 0, 6, 1000 };

START_TEST(test_crash_reconcile)
{
    g_autoptr(VbInventory) inv = th_pool(4, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r1 = NULL;
    g_autoptr(VbExecReport) r2 = NULL;
    g_autoptr(VbJournalPlan) left = NULL;
    g_autoptr(GError) error = NULL;
    CrashCounts counts = { 0 };
    VbExecOptions opts = { 0 };
    VbJournal *restarted;
    VbConn *conn;
    ThDb db = { 0 };
    guint landed = 0;

    for (guint i = 0; i < 8; i++) {
        g_autofree char *name = g_strdup_printf("g%u", i);

        th_vm(inv, "h0", name, 1024 * (i + 1), 0);
        g_ptr_array_add(pairs, g_strdup(name));
        g_ptr_array_add(pairs, g_strdup_printf("h%u", 1 + i % 3));
    }
    g_ptr_array_add(pairs, NULL);
    policy->migration.max_total = 3;
    policy->migration.max_per_source = 3;
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", (const char *const *) pairs->pdata);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    vb_sim_fail_migrations(conn, "g2", 1);
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .now_unix = 1, .crash_after_starts = 5 };
    r1 = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r1, "%s", error ? error->message : "");
    ck_assert(r1->interrupted);
    /* The hosts go on while virt-balancer is down. */
    vb_driver_sim.sleep(conn, crash_gaps[_i]);
    restarted = vb_journal_open(db.store, &error);
    ck_assert_msg(restarted, "%s", error ? error->message : "");
    opts.journal = restarted;
    opts.crash_after_starts = 0;
    opts.on_event = count_event;
    opts.user_data = &counts;
    r2 = vb_executor_resume(&opts, &error);
    ck_assert_msg(r2, "%s", error ? error->message : "");
    /* Every guest exactly once, on its planned host; none left behind. */
    for (guint i = 0; i < 8; i++) {
        g_autofree char *name = g_strdup_printf("g%u", i);
        g_autofree char *want = g_strdup_printf("h%u", 1 + i % 3);
        g_autoptr(GPtrArray) locs = vb_driver_sim.locate(conn, name, NULL);

        ck_assert_uint_eq(locs->len, 1);
        ck_assert_str_eq(((VbVmLocation *) g_ptr_array_index(locs, 0))->host, want);
    }
    /* Nothing repeated blindly: 8 moves plus g2's one injected failure. */
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 9);
    ck_assert_uint_eq(r2->finished, 8 - (r1->finished));
    if (crash_gaps[_i] == 0)
        ck_assert_uint_ge(counts.reattached, 1);
    if (crash_gaps[_i] >= 1000)
        ck_assert_uint_ge(counts.found_finished, 1);
    left = vb_journal_unfinished_plan(restarted, &error);
    ck_assert_ptr_null(left);
    ck_assert_ptr_null(error);
    {
        g_autoptr(GPtrArray) evac = vb_journal_evacuated(restarted, "h0", NULL, &error);

        landed = evac->len;
    }
    ck_assert_uint_eq(landed, 8);
    /* A second resume finds nothing to do. */
    ck_assert_ptr_null(vb_executor_resume(&opts, &error));
    ck_assert_ptr_null(error);
    vb_journal_free(restarted);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------ cold move killed mid-copy */

typedef struct {
    guint cleaned;          /* events saying partial copies were removed */
} ColdCounts;

static void
count_cleaned(const VbExecEvent *ev, gpointer data)
{
    ColdCounts *c = data;

    if (ev->message && strstr(ev->message, "removed its partial copies on "))
        c->cleaned++;
}

/* Two shut-off guests with 20 GiB of local disk each are cold-moved off h0;
 * the program is killed while it copies them (vb_sim_kill_copier), leaving a
 * partial copy of each on its destination. Reconciliation has the driver
 * remove them (and journals it) before the retry: row 0 (retries left) moves
 * both; row 1 (no retries) fails both moves but still removes the copies,
 * the guests staying defined on their source. Without the clean-up every
 * retry failed on "a volume of the same name exists" (row 0: nothing moved)
 * and the copies stayed (row 1). */
static const struct {
    guint max_retries;
    guint finished;
} cold_rows[] = { { 2, 2 }, { 0, 0 } };

START_TEST(test_crash_cold_copy)
{
    g_autoptr(VbInventory) inv = th_pool(3, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    const char *const pairs[] = { "c0", "h1", "c1", "h2", NULL };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r1 = NULL;
    g_autoptr(VbExecReport) r2 = NULL;
    g_autoptr(GError) error = NULL;
    ColdCounts counts = { 0 };
    VbExecOptions opts = { 0 };
    VbInventory *sim;
    VbJournal *restarted;
    VbConn *conn;
    ThDb db = { 0 };

    vb_inventory_get_pool(inv, "p")->shared_storage = FALSE;
    for (guint i = 0; i < 2; i++) {
        g_autofree char *name = g_strdup_printf("c%u", i);

        th_vm(inv, "h0", name, 1024, 20)->state = VB_VM_STATE_SHUTOFF;
    }
    policy->migration.max_retries = cold_rows[_i].max_retries;
    plan = th_plan(inv, policy, VB_PLAN_EVACUATE, "h0", pairs);
    ck_assert_int_eq(g_array_index(plan->moves, VbMove, 0).kind, VB_MOVE_COLD);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    sim = vb_sim_conn_inventory(conn);
    th_db_open(&db);
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .journal = db.journal, .now_unix = 1, .crash_after_starts = 2 };
    r1 = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r1, "%s", error ? error->message : "");
    ck_assert(r1->interrupted);
    /* Half way through the copies (about 205 s each), the program dies. */
    vb_driver_sim.sleep(conn, 100);
    vb_sim_kill_copier(conn);
    ck_assert_uint_eq(vb_sim_n_partial_copies(conn), 2);
    ck_assert(vb_inventory_get_host(sim, "h1")->storage_free_gib < 995);
    restarted = vb_journal_open(db.store, &error);
    ck_assert_msg(restarted, "%s", error ? error->message : "");
    opts.journal = restarted;
    opts.crash_after_starts = 0;
    opts.on_event = count_cleaned;
    opts.user_data = &counts;
    r2 = vb_executor_resume(&opts, &error);
    ck_assert_msg(r2, "%s", error ? error->message : "");
    ck_assert_uint_eq(r2->finished, cold_rows[_i].finished);
    ck_assert_uint_eq(counts.cleaned, 2);
    ck_assert_uint_eq(vb_sim_n_partial_copies(conn), 0);
    /* Each guest defined exactly once: moved, or still on its source. */
    for (guint i = 0; i < 2; i++) {
        g_autoptr(GPtrArray) locs = vb_driver_sim.locate(conn, pairs[2 * i], NULL);

        ck_assert_uint_eq(locs->len, 1);
        ck_assert_str_eq(((VbVmLocation *) g_ptr_array_index(locs, 0))->host,
                         cold_rows[_i].finished ? pairs[2 * i + 1] : "h0");
    }
    if (!cold_rows[_i].finished)
        ck_assert_double_eq(vb_inventory_get_host(sim, "h1")->storage_free_gib, 1000);
    vb_journal_free(restarted);
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ----------------------------------------------------------------- lock */

START_TEST(test_lock_held)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbJournal) other = NULL;
    ThDb db = { 0 };

    th_db_open(&db);
    other = vb_journal_open(db.store, NULL);
    ck_assert(vb_journal_lock(db.journal, &error));
    ck_assert(vb_journal_lock(db.journal, &error)); /* again: a no-op */
    ck_assert(!vb_journal_lock(other, &error));
    ck_assert_int_eq(error->code, VB_ERROR_BUSY);
    ck_assert_ptr_nonnull(strstr(error->message, "another virt-balancer"));
    g_clear_error(&error);
    ck_assert(!vb_journal_is_locked(other));
    vb_journal_unlock(db.journal);
    ck_assert(vb_journal_lock(other, &error));
    g_clear_pointer(&other, vb_journal_free); /* freeing releases it */
    ck_assert(vb_journal_lock(db.journal, &error));
    th_db_close(&db);
}
END_TEST

/* A process that took the lock and died without releasing it (kill -9 in
 * real life): its row is stale and the next one takes over. */
START_TEST(test_lock_stale_dead_process)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-lock-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "state.db", NULL);
    g_autoptr(VbStore) store = NULL;
    g_autoptr(VbJournal) journal = NULL;
    int status = 0;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        VbStore *s = vb_store_open(path, NULL);
        VbJournal *j = s ? vb_journal_open(s, NULL) : NULL;

        _exit(j && vb_journal_lock(j, NULL) ? 0 : 1); /* dies holding it */
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    store = vb_store_open(path, &error);
    journal = vb_journal_open(store, &error);
    ck_assert_msg(journal, "%s", error ? error->message : "");
    ck_assert_msg(vb_journal_lock(journal, &error), "%s", error ? error->message : "");
    g_clear_pointer(&journal, vb_journal_free);
    g_clear_pointer(&store, vb_store_free);
    vb_store_free(NULL);
    {
        g_autofree char *wal = g_strconcat(path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(path, "-shm", NULL);

        g_unlink(path);
        g_unlink(wal);
        g_unlink(shm);
        g_rmdir(dir);
    }
}
END_TEST

/* A row written before a reboot (another boot id) is stale too; one of a
 * live process (this one, under another token) is not. */
START_TEST(test_lock_stale_reboot)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbJournal) other = NULL;
    ThDb db = { 0 };

    th_db_open(&db);
    other = vb_journal_open(db.store, NULL);
    ck_assert(vb_journal_lock(db.journal, &error));
    ck_assert(vb_store_exec(db.store, "UPDATE journal_lock SET token = 'gone'", &error));
    ck_assert(!vb_journal_lock(other, &error)); /* pid and start time alive */
    g_clear_error(&error);
    ck_assert(vb_store_exec(db.store, "UPDATE journal_lock SET boot_id = 'before-reboot'", &error));
    ck_assert_msg(vb_journal_lock(other, &error), "%s", error ? error->message : "");
    g_clear_pointer(&other, vb_journal_free); /* before its store */
    th_db_close(&db);
}
END_TEST

/* A lock row written on another host (a database on shared storage, used
 * from two machines) cannot be judged from here: its boot id and pid mean
 * nothing on this machine, so it is never taken over, only removed by an
 * explicit force-unlock. One on this host is judged as before. Each row
 * rewrites the live holder's row, then another journal tries to take it. */
typedef struct {
    const char *update;   /* applied to the lock row (token already 'gone') */
    gboolean takeable;
} LockRowCase;

static const LockRowCase lock_rows[] = {
    { "UPDATE journal_lock SET boot_id = 'before-reboot'", TRUE },              /* here, stale */
    { "UPDATE journal_lock SET pid = 999999999", TRUE },                         /* here, dead pid */
    { "UPDATE journal_lock SET hostname = 'kvm-far', boot_id = 'its-boot'", FALSE },
    { "UPDATE journal_lock SET hostname = 'kvm-far', pid = 999999999", FALSE },
    { "UPDATE journal_lock SET hostname = NULL, boot_id = 'its-boot'", FALSE },  /* unknown host */
};

START_TEST(test_lock_other_host)
{
    const LockRowCase *c = &lock_rows[_i];
    g_autoptr(GError) error = NULL;
    g_autoptr(VbJournal) other = NULL;
    VbJournalLockHolder holder = { 0 };
    ThDb db = { 0 };

    th_db_open(&db);
    other = vb_journal_open(db.store, NULL);
    ck_assert(vb_journal_lock(db.journal, &error));
    ck_assert(vb_store_exec(db.store, "UPDATE journal_lock SET token = 'gone'", &error));
    ck_assert(vb_store_exec(db.store, c->update, &error));
    ck_assert_msg(vb_journal_lock(other, &error) == c->takeable, "row %d: %s", _i,
                  error ? error->message : "taken");
    if (!c->takeable) {
        ck_assert_int_eq(error->code, VB_ERROR_BUSY);
        ck_assert_msg(strstr(error->message, "unlock --force"), "%s", error->message);
        g_clear_error(&error);
        /* Without --force the holder keeps it; with it, it is removed. */
        ck_assert(!vb_journal_lock_break(other, FALSE, &holder, &error));
        ck_assert_int_eq(error->code, VB_ERROR_BUSY);
        g_clear_error(&error);
        ck_assert(vb_journal_lock_break(other, TRUE, &holder, &error));
        ck_assert(holder.found && holder.alive);
        g_free(holder.hostname);
        ck_assert_msg(vb_journal_lock(other, &error), "%s", error ? error->message : "");
    } else {
        /* A stale row is removed without --force too. */
        vb_journal_unlock(other);
        vb_journal_unlock(db.journal);
        ck_assert(vb_journal_lock(db.journal, &error));
        ck_assert(vb_store_exec(db.store, "UPDATE journal_lock SET token = 'gone'", &error));
        ck_assert(vb_store_exec(db.store, c->update, &error));
        ck_assert(vb_journal_lock_break(other, FALSE, &holder, &error));
        ck_assert(holder.found && !holder.alive);
        g_free(holder.hostname);
        ck_assert(vb_journal_lock_break(other, FALSE, &holder, &error));
        ck_assert(!holder.found);
    }
    g_clear_pointer(&other, vb_journal_free); /* before its store */
    th_db_close(&db);
}
END_TEST

/* ---------------------------------------------- maintenance, history */

START_TEST(test_maintenance_and_evacuated)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = th_pool(3, 8, 16384, 100);
    g_auto(GStrv) hosts = NULL;
    g_autoptr(GPtrArray) vms = NULL;
    g_autoptr(GPtrArray) to = NULL;
    gboolean was = FALSE;
    ThDb db = { 0 };

    th_db_open(&db);
    ck_assert(vb_journal_maintenance_enter(db.journal, "h2", "disk swap", &error));
    ck_assert(vb_journal_maintenance_enter(db.journal, "h0", NULL, &error));
    hosts = vb_journal_maintenance_hosts(db.journal, &error);
    ck_assert_uint_eq(g_strv_length(hosts), 2);
    ck_assert_str_eq(hosts[0], "h0");
    vb_scheduler_apply_maintenance(inv, hosts);
    ck_assert_int_eq(vb_inventory_get_host(inv, "h0")->state, VB_HOST_STATE_MAINTENANCE);
    ck_assert_int_eq(vb_inventory_get_host(inv, "h1")->state, VB_HOST_STATE_UP);
    ck_assert(vb_journal_maintenance_exit(db.journal, "h0", &was, &error));
    ck_assert(was);
    ck_assert(vb_journal_maintenance_exit(db.journal, "h0", &was, &error));
    ck_assert(!was);
    ck_assert(vb_journal_evacuated_add(db.journal, "a", "h2", "h1", 1, &error));
    ck_assert(vb_journal_evacuated_add(db.journal, "b", "h2", "h0", 1, &error));
    vms = vb_journal_evacuated(db.journal, "h2", &to, &error);
    ck_assert_uint_eq(vms->len, 2);
    ck_assert_uint_eq(to->len, 2);
    ck_assert(vb_journal_evacuated_clear(db.journal, "h2", &error));
    g_clear_pointer(&vms, g_ptr_array_unref);
    vms = vb_journal_evacuated(db.journal, "h2", NULL, &error);
    ck_assert_uint_eq(vms->len, 0);
    th_db_close(&db);
}
END_TEST

START_TEST(test_history)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) plans = NULL;
    VbJournalPlan *newest;
    gint64 p1 = 0, p2 = 0, m = 0;
    ThDb db = { 0 };

    th_db_open(&db);
    ck_assert(vb_journal_plan_begin(db.journal, VB_PLAN_REBALANCE, NULL, &p1, &error));
    ck_assert(vb_journal_move_add(db.journal, p1, "a", "h0", "h1", VB_MOVE_LIVE, 12, &m, &error));
    ck_assert(vb_journal_move_set_state(db.journal, m, VB_MOVE_STATE_STARTED, 1, 3, NULL, &error));
    ck_assert(vb_journal_move_set_state(db.journal, m, VB_MOVE_STATE_FINISHED, 1, 15, NULL, &error));
    ck_assert(vb_journal_plan_end(db.journal, p1, "done", &error));
    ck_assert(vb_journal_plan_begin(db.journal, VB_PLAN_EVACUATE, "h3", &p2, &error));
    plans = vb_journal_history(db.journal, 10, &error);
    ck_assert_uint_eq(plans->len, 2);
    newest = g_ptr_array_index(plans, 0);
    ck_assert_int_eq(newest->id, p2);
    ck_assert_str_eq(newest->evacuated_host, "h3");
    ck_assert_ptr_null(newest->outcome);
    newest = g_ptr_array_index(plans, 1);
    ck_assert_str_eq(newest->outcome, "done");
    ck_assert_uint_eq(newest->moves->len, 1);
    ck_assert_int_eq(((VbJournalMove *) g_ptr_array_index(newest->moves, 0))->state,
                     VB_MOVE_STATE_FINISHED);
    ck_assert_double_eq(((VbJournalMove *) g_ptr_array_index(newest->moves, 0))->started_clock, 3);
    ck_assert_double_eq(((VbJournalMove *) g_ptr_array_index(newest->moves, 0))->ended_clock, 15);
    th_db_close(&db);
}
END_TEST

/* ------------------------------------------ interrupted cold move */

/* The hosts holding "c" after the restart: h0 = source, h1 = destination. */
static const char *const *twice_hosts;

static GPtrArray *
twice_locate(VbConn *conn, const char *vm, GError **error)
{
    GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify) vb_vm_location_free);

    for (guint i = 0; twice_hosts[i]; i++) {
        VbVmLocation *loc = g_new0(VbVmLocation, 1);

        loc->host = g_strdup(twice_hosts[i]);
        loc->persistent = TRUE;
        g_ptr_array_add(found, loc);
    }
    return found;
}

/* A cold move journaled as started, the process killed between the define on
 * the destination and the undefine on the source: the guest is defined on
 * both. Reconciliation must not call that finished (two definitions of one
 * guest, sharing its disks), nor start it again: failed, for a person. Row 1,
 * the control: found on its destination only, it is finished. */
static const char *const twice_both[] = { "h0", "h1", NULL };
static const char *const twice_dest[] = { "h1", NULL };
static const struct {
    const char *const *hosts;
    VbMoveState state;
} twice_rows[] = { { twice_both, VB_MOVE_STATE_FAILED }, { twice_dest, VB_MOVE_STATE_FINISHED } };

START_TEST(test_reconcile_defined_twice)
{
    g_autoptr(VbInventory) inv = th_pool(2, 16, 65536, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GError) error = NULL;
    VbDriverOps twice = vb_driver_sim;
    VbExecOptions opts = { 0 };
    VbExecOutcome *o;
    gint64 plan = 0, move = 0;
    VbConn *conn;
    ThDb db = { 0 };

    th_vm(inv, "h0", "c", 1024, 0)->state = VB_VM_STATE_SHUTOFF;
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    twice.locate = twice_locate;
    twice_hosts = twice_rows[_i].hosts;
    th_db_open(&db);
    ck_assert(vb_journal_plan_begin(db.journal, VB_PLAN_EVACUATE, "h0", &plan, &error));
    ck_assert(vb_journal_move_add(db.journal, plan, "c", "h0", "h1", VB_MOVE_COLD, 5, &move,
                                  &error));
    ck_assert(vb_journal_move_set_state(db.journal, move, VB_MOVE_STATE_STARTED, 1, 0, NULL,
                                        &error));
    opts = (VbExecOptions){ .ops = &twice, .conn = conn, .policy = policy,
                            .journal = db.journal, .now_unix = 1 };
    r = vb_executor_resume(&opts, &error);
    ck_assert_msg(r, "%s", error ? error->message : "");
    ck_assert_uint_eq(r->outcomes->len, 1);
    o = g_ptr_array_index(r->outcomes, 0);
    ck_assert_int_eq(o->state, twice_rows[_i].state);
    if (o->state == VB_MOVE_STATE_FAILED)
        ck_assert_ptr_nonnull(strstr(o->message, "defined on both h0 and h1"));
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 0); /* never started again */
    ck_assert_ptr_null(vb_journal_unfinished_plan(db.journal, NULL));
    vb_driver_sim.close(conn);
    th_db_close(&db);
}
END_TEST

/* ----------------------------------------------------------- makespan */

/* Issue 5: evacuating 50 guests of mixed sizes under a cap of 5 finishes
 * within 10% of max(longest move, total move time / cap). */
START_TEST(test_evacuation_makespan)
{
    g_autoptr(VbInventory) inv = th_pool(11, 64, 262144, 100);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) r = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions popts = { .now = 1 };
    VbExecOptions opts = { 0 };
    double longest = 0, total = 0, bound, makespan;
    VbConn *conn;

    for (guint i = 0; i < 50; i++) {
        g_autofree char *name = g_strdup_printf("vm%02u", i);
        VbVm *vm = th_vm(inv, "h0", name, 512 * (1 + (i * 7) % 16), 0);

        vm->dirty_rate_mib_s = (i * 13) % 40;
    }
    policy->migration.max_total = 5;
    policy->migration.evacuation_batch = 5;
    policy->migration.max_per_source = 5;
    plan = vb_placement_evacuate(inv, policy, "h0", &popts, &error);
    ck_assert_msg(plan, "%s", error ? error->message : "");
    ck_assert_uint_eq(plan->moves->len, 50);
    for (guint i = 0; i < plan->moves->len; i++) {
        double s = g_array_index(plan->moves, VbMove, i).estimated_seconds;

        longest = MAX(longest, s);
        total += s;
    }
    bound = MAX(longest, total / 5);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy, .now_unix = 1 };
    r = vb_executor_run(&opts, inv, plan, &error);
    ck_assert_msg(r, "%s", error ? error->message : "");
    ck_assert_uint_eq(r->finished, 50);
    ck_assert_uint_eq(vb_inventory_get_host(vb_sim_conn_inventory(conn), "h0")->vms->len, 0);
    makespan = r->ended_clock - r->started_clock;
    fprintf(stderr,
            "evacuation makespan: 50 guests, cap 5: %.1f s (lower bound %.1f s: longest %.1f s, "
            "total/cap %.1f s; ratio %.3f)\n",
            makespan, bound, longest, total / 5, makespan / bound);
    ck_assert_double_le(makespan, 1.10 * bound);
    ck_assert_uint_le(r->max_running, 5);
    vb_driver_sim.close(conn);
}
END_TEST

void
scheduler_suite_crash(Suite *s)
{
    TCase *tc = tcase_create("journal");

    tcase_add_loop_test(tc, test_crash_reconcile, 0, G_N_ELEMENTS(crash_gaps));
    tcase_add_loop_test(tc, test_reconcile_defined_twice, 0, G_N_ELEMENTS(twice_rows));
    tcase_add_loop_test(tc, test_crash_cold_copy, 0, G_N_ELEMENTS(cold_rows));
    tcase_add_test(tc, test_lock_held);
    tcase_add_test(tc, test_lock_stale_dead_process);
    tcase_add_test(tc, test_lock_stale_reboot);
    tcase_add_loop_test(tc, test_lock_other_host, 0, G_N_ELEMENTS(lock_rows));
    tcase_add_test(tc, test_maintenance_and_evacuated);
    tcase_add_test(tc, test_history);
    tcase_add_test(tc, test_evacuation_makespan);
    suite_add_tcase(s, tc);
}
