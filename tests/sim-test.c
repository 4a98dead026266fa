/*
 * sim-test.c: the simulated pool driver. Virtual time, migrations taking the
 * placement estimate, load shifting on completion, counters whose deltas give
 * back the inventory's usage, refusals, abort, and fault injection.
 */
#include "config.h"

#include "tests/scheduler-helpers.h"

static VbConn *
small_conn(void)
{
    VbInventory *inv = th_pool(3, 8, 32768, 100);
    VbVm *vm = th_vm(inv, "h0", "web", 4096, 0);
    VbVm *db = th_vm(inv, "h0", "db", 2048, 10);
    VbVm *off = th_vm(inv, "h1", "off", 1024, 0);

    vm->vcpus = 4;
    vm->cpu_usage = 0.5;
    vb_inventory_get_host(inv, "h0")->cpu_usage = 0.4;
    db->cpu_usage = 0.25;
    off->state = VB_VM_STATE_SHUTOFF;
    vb_inventory_get_host(inv, "h2")->state = VB_HOST_STATE_MAINTENANCE;
    return vb_sim_conn_new(inv);
}

static VbJobInfo
poll_job(VbConn *conn, VbJob *job)
{
    VbJobInfo info = { 0 };

    ck_assert(vb_driver_sim.job_poll(conn, job, &info, NULL));
    return info;
}

START_TEST(test_open_from_config)
{
    g_autofree char *path = vb_test_data_path("scheduler/sliding-window/inventory.yaml");
    VbConfig config = { .driver = (char *) "sim", .inventory = path };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) snap = NULL;
    VbConn *conn;

    conn = vb_driver_sim.open(&config, &error);
    ck_assert_msg(conn, "%s", error ? error->message : "");
    snap = vb_driver_sim.snapshot(conn, &error);
    ck_assert_uint_eq(snap->hosts->len, vb_sim_conn_inventory(conn)->hosts->len);
    ck_assert_ptr_ne(snap, vb_sim_conn_inventory(conn)); /* a copy */
    ck_assert_double_eq(vb_driver_sim.now(conn), 0);
    vb_driver_sim.close(conn);
    config.inventory = NULL;
    ck_assert_ptr_null(vb_driver_sim.open(&config, &error));
    ck_assert_int_eq(error->code, VB_ERROR_INVALID_INPUT);
    ck_assert_ptr_eq(vb_driver_find("sim"), &vb_driver_sim);
}
END_TEST

/* Two samples 10 virtual seconds apart: the deltas give the usage back. */
START_TEST(test_sample_deltas)
{
    VbConn *conn = small_conn();
    g_autoptr(VbSampleSet) a = NULL;
    g_autoptr(VbSampleSet) b = NULL;
    VbHostSample *ha, *hb;
    VbVmSample *va = NULL, *vb = NULL;

    vb_driver_sim.sleep(conn, 5);
    a = vb_driver_sim.sample(conn, NULL);
    vb_driver_sim.sleep(conn, 10);
    b = vb_driver_sim.sample(conn, NULL);
    ha = g_ptr_array_index(a->hosts, 0);
    hb = g_ptr_array_index(b->hosts, 0);
    ck_assert_str_eq(hb->host, "h0");
    ck_assert(hb->up);
    ck_assert_int_eq(hb->monotonic_us - ha->monotonic_us, 10 * G_USEC_PER_SEC);
    ck_assert_double_eq_tol((double) (hb->cpu_busy_ns - ha->cpu_busy_ns) /
                                (double) (hb->cpu_total_ns - ha->cpu_total_ns),
                            0.4, 1e-6);
    ck_assert_uint_eq(hb->memory_total_mib - hb->memory_free_mib, 4096 + 2048);
    for (guint i = 0; i < ha->vms->len; i++) {
        if (g_str_equal(g_array_index(ha->vms, VbVmSample, i).name, "web")) {
            va = &g_array_index(ha->vms, VbVmSample, i);
            vb = &g_array_index(hb->vms, VbVmSample, i);
        }
    }
    ck_assert_ptr_nonnull(va);
    /* 0.5 of 4 vCPUs over 10 s = 20 s of CPU time. */
    ck_assert_uint_eq(vb->cpu_time_ns - va->cpu_time_ns, 20 * (guint64) 1000000000);
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_migration_takes_estimate)
{
    VbConn *conn = small_conn();
    VbInventory *inv = vb_sim_conn_inventory(conn);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbMigrationRequest req = { .vm = "web", .from = "h0", .to = "h1", .live = TRUE,
                               .settings = &policy->migration };
    VbVm *web = vb_inventory_get_vm(inv, "web");
    double est = vb_placement_estimate_seconds(inv, policy, web, vb_inventory_get_host(inv, "h0"),
                                               vb_inventory_get_host(inv, "h1"), VB_MOVE_LIVE);
    double h0_cpu = vb_inventory_get_host(inv, "h0")->cpu_usage;
    VbJob *job = vb_driver_sim.migrate_start(conn, &req, NULL);
    VbJobInfo info;

    ck_assert_ptr_nonnull(job);
    ck_assert_double_gt(est, 1);
    vb_driver_sim.sleep(conn, est / 2);
    info = poll_job(conn, job);
    ck_assert_int_eq(info.state, VB_JOB_RUNNING);
    ck_assert_double_eq_tol(info.progress, 0.5, 1e-9);
    ck_assert_uint_gt(info.remaining_mib, 0);
    ck_assert_str_eq(th_where(conn, "web"), "h0");
    vb_job_info_clear(&info);
    vb_driver_sim.sleep(conn, est / 2 + 1e-6);
    info = poll_job(conn, job);
    ck_assert_int_eq(info.state, VB_JOB_COMPLETED);
    ck_assert_str_eq(th_where(conn, "web"), "h1");
    /* 4 vCPU x 0.5 over 8 cores leave h0 and land on h1. */
    ck_assert_double_eq_tol(vb_inventory_get_host(inv, "h0")->cpu_usage, h0_cpu - 0.25, 1e-9);
    ck_assert_uint_eq(vb_inventory_get_host(inv, "h1")->memory_used_mib, 1024 + 4096);
    ck_assert_int_gt(web->last_migrated, 0);
    /* Snapshots count the move for a virtual day, then forget it. */
    {
        g_autoptr(VbInventory) now = vb_driver_sim.snapshot(conn, NULL);
        g_autoptr(VbInventory) later = NULL;

        ck_assert_uint_eq(vb_inventory_get_vm(now, "web")->moves_last_day, 1);
        ck_assert_uint_eq(vb_inventory_get_vm(now, "db")->moves_last_day, 0);
        vb_driver_sim.sleep(conn, 86400);
        later = vb_driver_sim.snapshot(conn, NULL);
        ck_assert_uint_eq(vb_inventory_get_vm(later, "web")->moves_last_day, 0);
    }
    vb_job_info_clear(&info);
    vb_driver_sim.job_free(job);
    vb_driver_sim.close(conn);
}
END_TEST

/* Each row: a request and the start of the error it must get. */
static const struct {
    const char *vm, *from, *to;
    gboolean live;
    const char *error;
} refusals[] = {
    { "nope", "h0", "h1", TRUE, "guest 'nope' does not exist" },
    { "web", "h1", "h0", TRUE, "h1: guest web is not on it" },
    { "web", "h0", "h2", TRUE, "h2: destination host is maintenance" },
    { "web", "h0", "h9", TRUE, "destination host 'h9' does not exist" },
    { "web", "h0", "h0", TRUE, "h0: guest web is already on the destination" },
    { "off", "h1", "h0", TRUE, "h1: guest off is shutoff: live move refused" },
    { "web", "h0", "h1", FALSE, "h0: guest web is running: cold move refused" },
};

START_TEST(test_refusals)
{
    VbConn *conn = small_conn();
    g_autoptr(GError) error = NULL;
    VbMigrationRequest req = { .vm = refusals[_i].vm, .from = refusals[_i].from,
                               .to = refusals[_i].to, .live = refusals[_i].live };

    ck_assert_ptr_null(vb_driver_sim.migrate_start(conn, &req, &error));
    ck_assert_msg(g_str_has_prefix(error->message, refusals[_i].error), "got '%s'",
                  error->message);
    ck_assert_uint_eq(vb_sim_n_migrations(conn), 0);
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_abort_and_find)
{
    VbConn *conn = small_conn();
    g_autoptr(GError) error = NULL;
    VbMigrationRequest req = { .vm = "db", .from = "h0", .to = "h1", .live = TRUE,
                               .copy_storage = TRUE };
    VbJob *job = vb_driver_sim.migrate_start(conn, &req, NULL);
    VbJob *again;
    VbJobInfo info;

    ck_assert_ptr_null(vb_driver_sim.migrate_start(conn, &req, &error)); /* already migrating */
    ck_assert_ptr_nonnull(strstr(error->message, "already migrating"));
    g_clear_error(&error);
    /* A freed handle does not stop the migration; job_find finds it. */
    vb_driver_sim.job_free(job);
    again = vb_driver_sim.job_find(conn, "db", NULL);
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_null(vb_driver_sim.job_find(conn, "web", NULL));
    vb_driver_sim.sleep(conn, 1);
    ck_assert(vb_driver_sim.job_abort(conn, again, &error));
    info = poll_job(conn, again);
    ck_assert_int_eq(info.state, VB_JOB_ABORTED);
    vb_job_info_clear(&info);
    ck_assert(!vb_driver_sim.job_abort(conn, again, &error));
    vb_driver_sim.sleep(conn, 10000);
    ck_assert_str_eq(th_where(conn, "db"), "h0");
    ck_assert_double_eq(vb_inventory_get_host(vb_sim_conn_inventory(conn), "h0")->storage_free_gib,
                        1000);
    vb_driver_sim.job_free(again);
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_faults)
{
    VbConn *conn = small_conn();
    VbMigrationRequest req = { .vm = "web", .from = "h0", .to = "h1", .live = TRUE };
    g_autoptr(GPtrArray) where = NULL;
    VbJob *job;
    VbJobInfo info;

    vb_sim_fail_migrations(conn, "web", 1);
    job = vb_driver_sim.migrate_start(conn, &req, NULL);
    vb_driver_sim.sleep(conn, 1000);
    info = poll_job(conn, job);
    ck_assert_int_eq(info.state, VB_JOB_FAILED);
    ck_assert_ptr_nonnull(info.message);
    vb_job_info_clear(&info);
    vb_driver_sim.job_free(job);
    ck_assert_str_eq(th_where(conn, "web"), "h0");
    /* The next attempt succeeds; then h1 goes down during the next one. */
    job = vb_driver_sim.migrate_start(conn, &req, NULL);
    vb_driver_sim.sleep(conn, 1000);
    info = poll_job(conn, job);
    ck_assert_int_eq(info.state, VB_JOB_COMPLETED);
    vb_job_info_clear(&info);
    vb_driver_sim.job_free(job);
    req = (VbMigrationRequest){ .vm = "db", .from = "h0", .to = "h1", .live = TRUE,
                                .copy_storage = TRUE };
    job = vb_driver_sim.migrate_start(conn, &req, NULL);
    vb_sim_fail_host_at(conn, "h1", vb_driver_sim.now(conn) + 0.5);
    vb_driver_sim.sleep(conn, 1000);
    info = poll_job(conn, job);
    ck_assert_int_eq(info.state, VB_JOB_FAILED);
    ck_assert_ptr_nonnull(strstr(info.message, "h1: host went down"));
    vb_job_info_clear(&info);
    vb_driver_sim.job_free(job);
    ck_assert_str_eq(th_where(conn, "db"), "h0");
    /* Guests of a down host are nowhere to be found; its sample says why. */
    where = vb_driver_sim.locate(conn, "web", NULL);
    ck_assert_uint_eq(where->len, 0);
    {
        g_autoptr(VbSampleSet) set = vb_driver_sim.sample(conn, NULL);
        VbHostSample *h1 = g_ptr_array_index(set->hosts, 1);

        ck_assert(!h1->up);
        ck_assert_ptr_nonnull(strstr(h1->reason, "simulated failure"));
    }
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_slow_migration)
{
    VbConn *conn = small_conn();
    VbMigrationRequest req = { .vm = "web", .from = "h0", .to = "h1", .live = TRUE };
    VbJob *job;
    VbJobInfo info;
    double t_fast, t_slow;

    job = vb_driver_sim.migrate_start(conn, &req, NULL);
    for (info = poll_job(conn, job); info.state == VB_JOB_RUNNING; info = poll_job(conn, job))
        vb_driver_sim.sleep(conn, 0.25);
    t_fast = vb_driver_sim.now(conn);
    vb_driver_sim.job_free(job);
    vb_sim_slow_migrations(conn, "web", 3);
    req = (VbMigrationRequest){ .vm = "web", .from = "h1", .to = "h0", .live = TRUE };
    job = vb_driver_sim.migrate_start(conn, &req, NULL);
    for (info = poll_job(conn, job); info.state == VB_JOB_RUNNING; info = poll_job(conn, job))
        vb_driver_sim.sleep(conn, 0.25);
    t_slow = vb_driver_sim.now(conn) - t_fast;
    ck_assert_double_eq_tol(t_slow, 3 * t_fast, 0.5);
    vb_driver_sim.job_free(job);
    vb_driver_sim.close(conn);
}
END_TEST

static Suite *
sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("sim");

    tcase_add_test(tc, test_open_from_config);
    tcase_add_test(tc, test_sample_deltas);
    tcase_add_test(tc, test_migration_takes_estimate);
    tcase_add_loop_test(tc, test_refusals, 0, G_N_ELEMENTS(refusals));
    tcase_add_test(tc, test_abort_and_find);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_slow_migration);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(sim_suite)
