/*
 * collectors-live-test.c: the collectors against drivers and through the
 * command line: the sim driver end to end (bootstrap sampling, averages equal
 * the pool's usage, freshness), sessions (sim over an inventory, libvirt's
 * in-process test:///default plus an unreachable host), and the `status` and
 * `inventory` commands run as a person runs them.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "collectors/collectors.h"
#include "tests/collectors-test.h"
#include "tests/testutil.h"

/* ------------------------------------------------------- sim, end to end */

/* A small pool with known usage: sampling the sim driver (whose counters grow
 * by exactly the inventory's usage) must give the same usage back. */
static const char sim_pool[] =
    "pools:\n"
    "  - name: rack1\n"
    "    shared_storage: true\n"
    "    hosts:\n"
    "      - name: kvm1\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 8, features: [sse4_2]}\n"
    "        memory_mib: 65536\n"
    "        storage: {total_gib: 1000, free_gib: 600}\n"
    "        cpu_usage: 0.625\n"
    "        memory_used_mib: 40000\n"
    "      - name: kvm2\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 4, features: [sse4_2]}\n"
    "        memory_mib: 32768\n"
    "        storage: {total_gib: 500, free_gib: 450}\n"
    "        cpu_usage: 0.125\n"
    "        memory_used_mib: 8192\n"
    "      - name: kvm3\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 4, features: [sse4_2]}\n"
    "        memory_mib: 32768\n"
    "        storage: {total_gib: 500, free_gib: 500}\n"
    "        state: down\n"
    "vms:\n"
    "  - {name: web1, host: kvm1, vcpus: 4, memory_mib: 8192, cpu_usage: 0.75}\n"
    "  - {name: web2, host: kvm1, vcpus: 2, memory_mib: 4096, cpu_usage: 0.5}\n"
    "  - {name: db1, host: kvm2, vcpus: 2, memory_mib: 4096, cpu_usage: 0.25}\n"
    "  - {name: off1, host: kvm2, vcpus: 1, memory_mib: 1024, state: shutoff}\n";

static VbConn *
sim_conn(void)
{
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_data(sim_pool, sizeof(sim_pool) - 1, "sim-pool.yaml",
                                              &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return vb_sim_conn_new(inv);
}

/* Sets every measured figure of the running pool to something else, so that
 * only the history can bring the sampled values back. */
static void
scramble_load(VbInventory *inv)
{
    for (guint i = 0; i < inv->hosts->len; i++) {
        VbHost *h = vb_inventory_host(inv, i);

        h->cpu_usage = 0.99;
        h->memory_used_mib = 1;
        h->storage_free_gib = 1.0;
    }
    for (guint i = 0; i < inv->vms->len; i++)
        vb_inventory_vm(inv, i)->cpu_usage = 0.99;
}

/* Every measured figure of @got equals @want's where the history has one;
 * the down host and the shut-off guest keep the driver's (scrambled) figures. */
static void
check_loads(const VbInventory *want, const VbInventory *got)
{
    ck_assert_uint_eq(got->hosts->len, want->hosts->len);
    for (guint i = 0; i < want->hosts->len; i++) {
        const VbHost *w = vb_inventory_host(want, i);
        const VbHost *g = vb_inventory_get_host(got, w->name);
        gboolean down = w->state == VB_HOST_STATE_DOWN;

        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(g->state, w->state);
        ck_assert_msg(fabs(g->cpu_usage - (down ? 0.99 : w->cpu_usage)) < 1e-6,
                      "%s: cpu %f, want %f", w->name, g->cpu_usage, w->cpu_usage);
        ck_assert_uint_eq(g->memory_used_mib, down ? 1 : w->memory_used_mib);
        ck_assert_msg(fabs(g->storage_free_gib - (down ? 1.0 : w->storage_free_gib)) < 1e-6,
                      "%s: storage free %f, want %f", w->name, g->storage_free_gib,
                      w->storage_free_gib);
    }
    for (guint i = 0; i < want->vms->len; i++) {
        const VbVm *w = vb_inventory_vm(want, i);
        const VbVm *g = vb_inventory_get_vm(got, w->name);
        gboolean off = w->state == VB_VM_STATE_SHUTOFF;

        ck_assert_ptr_nonnull(g);
        ck_assert_msg(fabs(g->cpu_usage - (off ? 0.99 : w->cpu_usage)) < 1e-6,
                      "%s: cpu %f, want %f", w->name, g->cpu_usage, w->cpu_usage);
    }
}

/* Bootstrap: no history, so the snapshot samples twice a gap apart (on the
 * sim's clock) and the averages equal the pool's usage; then, with the
 * pool's figures changed under it, a second snapshot still reports the
 * window's averages, not the driver's latest figures. */
START_TEST(test_sim_snapshot_averages)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = sim_conn();
    g_autoptr(VbInventory) want = vb_inventory_copy(vb_sim_conn_inventory(conn));
    VbConfig config = { .window_seconds = 300, .retention_seconds = 3600 };
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(VbCollector) collector = NULL;
    g_autoptr(VbInventory) first = NULL;
    g_autoptr(VbInventory) second = NULL;
    VbWindow w = { 0 };

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    collector = vb_collector_new(conn, &vb_driver_sim, store, &config, &error);
    ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
    vb_collector_set_bootstrap_gap(collector, 2.0);

    first = vb_collector_snapshot(collector, &w, &error);
    ck_assert_msg(first != NULL, "%s", error ? error->message : "");
    ck_assert_msg(fabs(vb_driver_sim.now(conn) - 2.0) < 1e-9, "clock %f",
                  vb_driver_sim.now(conn));
    ck_assert_uint_eq(w.n_samples, 2);
    ck_assert_int_eq(w.end_us - w.start_us, 2 * G_USEC_PER_SEC);
    ck_assert_uint_eq(w.window_seconds, 300);

    scramble_load(vb_sim_conn_inventory(conn));
    /* off1 and kvm3 have no measured figures: they keep the driver's. */
    check_loads(want, (second = vb_collector_snapshot(collector, &w, &error)));
    ck_assert_uint_eq(w.n_samples, 2); /* history was usable: no new sample */
    ck_assert_str_eq(vb_inventory_get_host(second, "kvm3")->name, "kvm3");
    vb_driver_sim.close(conn);
}
END_TEST

/* Records two samples of kvm1 ending @age_s seconds ago, 10 s apart, at 50%. */
static void
record_old_samples(VbStore *store, gint64 age_s)
{
    g_autoptr(GError) error = NULL;
    gint64 end_us = g_get_real_time() - age_s * G_USEC_PER_SEC;

    for (guint i = 0; i < 2; i++) {
        VbSampleSet *set = vb_sample_set_new();
        VbHostSample *hs = vb_host_sample_new("kvm1");

        hs->up = TRUE;
        hs->timestamp_us = end_us - (1 - i) * 10 * G_USEC_PER_SEC;
        hs->monotonic_us = (gint64) i * 10 * G_USEC_PER_SEC;
        hs->cpu_cores = 8;
        hs->cpu_busy_ns = i * 40000000000ULL;
        hs->cpu_total_ns = i * 80000000000ULL;
        hs->memory_total_mib = 65536;
        g_ptr_array_add(set->hosts, hs);
        ck_assert_msg(vb_history_record(store, set, &error), "%s", error ? error->message : "");
        vb_sample_set_free(set);
    }
}

/* A snapshot trusts a history fresher than the sampling interval (no new
 * sample: the sim clock does not move, kvm1 keeps the recorded 50%), and
 * samples again when the newest sample is older than that. */
static int
count_commit(void *counter)
{
    (*(guint *) counter)++;
    return 0; /* let it commit */
}

/* One transaction per sample: recording, rolling up and pruning commit
 * together (an hour of samples, so buckets roll up and raw rows go). */
START_TEST(test_sample_one_transaction)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = sim_conn();
    VbConfig config = { .window_seconds = 60, .retention_seconds = 7200 };
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(VbCollector) collector = NULL;
    guint commits = 0;

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    collector = vb_collector_new(conn, &vb_driver_sim, store, &config, &error);
    ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
    sqlite3_commit_hook(vb_store_db(store), count_commit, &commits);
    for (guint i = 0; i < 130; i++) {
        vb_driver_sim.sleep(conn, 30.0);
        ck_assert_msg(vb_collector_sample(collector, &error), "%s", error->message);
        ck_assert_uint_eq(commits, i + 1);
    }
    sqlite3_commit_hook(vb_store_db(store), NULL, NULL);
    {
        g_autoptr(GPtrArray) hourly = vb_history_aggregates(store, VB_HISTORY_HOUR, G_MININT64,
                                                            G_MAXINT64, &error);
        gint64 first = 0, latest = 0;
        sqlite3_stmt *stmt = vb_store_prepare(store, "SELECT min(time_us) FROM samples", NULL);

        ck_assert_msg(hourly && hourly->len > 0, "no hourly rows");
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
        first = sqlite3_column_int64(stmt, 0);
        sqlite3_reset(stmt);
        ck_assert(vb_history_latest_time(store, &latest, &error));
        /* Raw rows: the window and its margin (60 + 600 s) only. */
        ck_assert_int_ge(first, latest - 660 * G_USEC_PER_SEC);
        ck_assert_int_lt(first, latest - 600 * G_USEC_PER_SEC);
    }
    vb_collector_free(g_steal_pointer(&collector));
    vb_driver_sim.close(conn);
}
END_TEST

START_TEST(test_snapshot_freshness)
{
    const gint64 ages[] = { 5, 3600 };

    for (guint k = 0; k < G_N_ELEMENTS(ages); k++) {
        g_autoptr(GError) error = NULL;
        VbConn *conn = sim_conn();
        VbConfig config = { .window_seconds = 300, .retention_seconds = 7200,
                            .sample_interval_seconds = 30 };
        g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
        g_autoptr(VbCollector) collector = NULL;
        g_autoptr(VbInventory) inv = NULL;
        gboolean stale = ages[k] > 30;
        VbWindow w;

        collector = vb_collector_new(conn, &vb_driver_sim, store, &config, &error);
        ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
        vb_collector_set_bootstrap_gap(collector, 2.0);
        record_old_samples(store, ages[k]);
        inv = vb_collector_snapshot(collector, &w, &error);
        ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
        /* Stale: the sim's first sample has no usable delta against the old
         * rows (its clock restarts), so it bootstraps: two samples, 2 s. */
        ck_assert(fabs(vb_driver_sim.now(conn) - (stale ? 2.0 : 0.0)) < 1e-9);
        /* Either the two recorded samples, or (stale) the two new ones only. */
        ck_assert_uint_eq(w.n_samples, 2);
        if (stale)
            ck_assert(w.start_us > g_get_real_time() - 60 * G_USEC_PER_SEC);
        ck_assert(fabs(vb_inventory_get_host(inv, "kvm1")->cpu_usage -
                       (stale ? 0.625 : 0.5)) < 1e-6);
        vb_driver_sim.close(conn);
    }
}
END_TEST

/* refresh() on a pool with history samples once, without the gap. */
START_TEST(test_sim_refresh)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = sim_conn();
    VbConfig config = { .window_seconds = 60, .retention_seconds = 3600 };
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(VbCollector) collector = vb_collector_new(conn, &vb_driver_sim, store, &config,
                                                        &error);
    g_autoptr(GPtrArray) hosts = NULL;
    VbWindow w;

    ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
    vb_collector_set_bootstrap_gap(collector, 5.0);
    ck_assert(vb_collector_refresh(collector, &error));
    ck_assert(fabs(vb_driver_sim.now(conn) - 5.0) < 1e-9);
    vb_driver_sim.sleep(conn, 10.0);
    ck_assert(vb_collector_refresh(collector, &error));
    ck_assert(fabs(vb_driver_sim.now(conn) - 15.0) < 1e-9);
    hosts = vb_history_hosts(store, 0, 60, &w, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(w.n_samples, 3);
    ck_assert_uint_eq(hosts->len, 3);
    /* kvm1: two intervals, 5 s and 10 s, both at 0.625. */
    ck_assert_str_eq(((VbHostHistory *) hosts->pdata[0])->host, "kvm1");
    ck_assert_uint_eq(((VbHostHistory *) hosts->pdata[0])->n_intervals, 2);
    ck_assert(fabs(((VbHostHistory *) hosts->pdata[0])->average.cpu - 0.625) < 1e-6);
    ck_assert(!((VbHostHistory *) hosts->pdata[2])->up);
    ck_assert_msg(strstr(((VbHostHistory *) hosts->pdata[2])->reason, "kvm3"), "%s",
                  ((VbHostHistory *) hosts->pdata[2])->reason);
    vb_driver_sim.close(conn);
}
END_TEST

/* A session over an inventory samples it with the sim driver into memory;
 * a config naming an unknown driver is refused before anything opens. */
START_TEST(test_session)
{
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_data(sim_pool, sizeof(sim_pool) - 1, "sim-pool.yaml",
                                              &error);
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    VbConfig bad = { .filename = (char *) "vb.yaml", .driver = (char *) "xen" };
    VbWindow w;

    ck_assert_ptr_nonnull(inv);
    g_setenv(VB_COLLECTOR_GAP_ENV, "4", TRUE);
    session = vb_collect_session_open(NULL, inv, &error);
    g_unsetenv(VB_COLLECTOR_GAP_ENV);
    ck_assert_msg(session != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(session->window_seconds, VB_COLLECT_DEFAULT_WINDOW_S);
    ck_assert_str_eq(vb_store_path(session->store), ":memory:");
    ck_assert(vb_collector_refresh(session->collector, &error));
    /* The gap came from the environment. */
    ck_assert(fabs(session->ops->now(session->conn) - 4.0) < 1e-9);
    hosts = vb_history_hosts(session->store, 0, session->window_seconds, &w, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(hosts->len, 3);
    ck_assert(fabs(((VbHostHistory *) hosts->pdata[1])->average.cpu - 0.125) < 1e-6);

    ck_assert_ptr_null(vb_collect_session_open(&bad, NULL, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT));
    ck_assert_msg(strstr(error->message, "vb.yaml") && strstr(error->message, "xen"), "%s",
                  error->message);
}
END_TEST

/* The libvirt driver through a session, without a daemon: libvirt's own
 * test:///default host (in-process) and a host whose socket does not exist.
 * The history lands in a file database; the unreachable host is recorded
 * down with the driver's reason, and the snapshot keeps it down. */
START_TEST(test_libvirt_session)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-collect-XXXXXX", &error);
    g_autofree char *db = g_build_filename(dir, "state.db", NULL);
    VbConfigHost h1 = { .name = (char *) "t1", .uri = (char *) "test:///default" };
    VbConfigHost h2 = { .name = (char *) "t2",
                        .uri = (char *) "qemu+unix:///system?socket=/nonexistent/vb.sock" };
    VbConfigPool pool = { .name = (char *) "p", .shared_storage = TRUE };
    VbConfig config = { .filename = (char *) "vb.yaml", .driver = (char *) "libvirt",
                        .database = db, .window_seconds = 300, .retention_seconds = 3600,
                        .connect_timeout_seconds = 2 };
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    VbHostHistory *t2;
    VbWindow w;

    pool.hosts = g_ptr_array_new();
    g_ptr_array_add(pool.hosts, &h1);
    g_ptr_array_add(pool.hosts, &h2);
    config.pools = g_ptr_array_new();
    g_ptr_array_add(config.pools, &pool);
    g_setenv(VB_COLLECTOR_GAP_ENV, "0", TRUE);
    session = vb_collect_session_open(&config, NULL, &error);
    g_unsetenv(VB_COLLECTOR_GAP_ENV);
    ck_assert_msg(session != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(vb_store_path(session->store), db);
    inv = vb_collector_snapshot(session->collector, &w, &error);
    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(w.n_samples, 2);
    ck_assert_int_eq(vb_inventory_get_host(inv, "t2")->state, VB_HOST_STATE_DOWN);
    ck_assert_int_eq(vb_inventory_get_host(inv, "t1")->state, VB_HOST_STATE_UP);
    hosts = vb_history_hosts(session->store, 0, 300, NULL, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(hosts->len, 2);
    t2 = g_ptr_array_index(hosts, 1);
    ck_assert_str_eq(t2->host, "t2");
    ck_assert(!t2->up);
    ck_assert_msg(t2->reason && strstr(t2->reason, "nonexistent"), "%s", t2->reason);
    ck_assert(((VbHostHistory *) g_ptr_array_index(hosts, 0))->up);
    ck_assert_uint_eq(((VbHostHistory *) g_ptr_array_index(hosts, 0))->n_vms,
                      vb_inventory_get_host(inv, "t1")->vms->len);
    g_clear_pointer(&session, vb_collect_session_free);
    g_ptr_array_unref(pool.hosts);
    g_ptr_array_unref(config.pools);
    {
        g_autofree char *wal = g_strconcat(db, "-wal", NULL);
        g_autofree char *shm = g_strconcat(db, "-shm", NULL);

        g_unlink(wal);
        g_unlink(shm);
        ck_assert_int_eq(g_unlink(db), 0);
        ck_assert_int_eq(g_rmdir(dir), 0);
    }
}
END_TEST

/* ------------------------------------------------ status and inventory */

/* The commands, run as a person runs them: every folder of
 * tests/data/collectors/cli/ with an `args` file is a case (one argument per
 * line); the program runs in that folder and its stdout (timestamps replaced
 * by TIME), stderr and exit code are compared with the files beside it.
 * VB_CLI_BINARY overrides the program (default: the build's virt-balancer).
 * Besides the text comparison: a status JSON lists every host of the
 * inventory once with sane figures, and an inventory dump loads back into
 * the same inventory the case started from (the averages equal its usage). */
static GPtrArray *cli_cases;

static char *
cli_binary(void)
{
    const char *override = g_getenv("VB_CLI_BINARY");
    const char *builddir = g_getenv("VB_BUILDDIR");

    if (override && *override)
        return g_strdup(override);
    return g_build_filename(builddir ? builddir : VB_BUILDDIR, "virt-balancer", NULL);
}

static char **
cli_args(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "args", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    g_ptr_array_add(argv, cli_binary());
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (lines[i][0] != '\0' && lines[i][0] != '#')
            g_ptr_array_add(argv, g_strdup(lines[i]));
    g_ptr_array_add(argv, NULL);
    return (char **) g_ptr_array_free(argv, FALSE);
}

static char *
mask_times(const char *text)
{
    g_autoptr(GRegex) re = g_regex_new("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", 0, 0, NULL);

    return g_regex_replace_literal(re, text, -1, 0, "TIME", 0, NULL);
}

static VbInventory *
cli_pool(void)
{
    g_autofree char *path = vb_test_data_path("collectors/cli/pool.yaml");
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_file(path, &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return inv;
}

static void
check_status_json(const char *out)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(VbInventory) inv = cli_pool();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonObject *doc;
    JsonArray *hosts;

    ck_assert_msg(json_parser_load_from_data(parser, out, -1, NULL), "not JSON: %s", out);
    doc = json_node_get_object(json_parser_get_root(parser));
    ck_assert(json_object_get_int_member(json_object_get_object_member(doc, "window"),
                                         "samples") >= 2);
    hosts = json_object_get_array_member(doc, "hosts");
    ck_assert_uint_eq(json_array_get_length(hosts), inv->hosts->len);
    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);
        const char *name = json_object_get_string_member(h, "name");
        const VbHost *host = vb_inventory_get_host(inv, name);
        JsonNode *cpu = json_object_get_member(json_object_get_object_member(h, "average"),
                                               "cpu");

        ck_assert_msg(host != NULL && g_hash_table_add(seen, (gpointer) name), "%s", name);
        ck_assert_str_eq(json_object_get_string_member(h, "state"),
                         vb_host_state_to_string(host->state));
        if (host->state == VB_HOST_STATE_DOWN)
            ck_assert(JSON_NODE_HOLDS_NULL(cpu));
        else
            ck_assert(fabs(json_node_get_double(cpu) - host->cpu_usage) < 1e-6);
    }
}

static void
check_inventory_yaml(const char *out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) want = cli_pool();
    g_autoptr(VbInventory) got = vb_inventory_load_data(out, strlen(out), "stdout", &error);
    g_autofree char *want_yaml = NULL;
    g_autofree char *got_yaml = NULL;

    ck_assert_msg(got != NULL, "%s", error ? error->message : "");
    want_yaml = vb_inventory_to_yaml(want);
    got_yaml = vb_inventory_to_yaml(got);
    ck_assert_str_eq(got_yaml, want_yaml);
}

START_TEST(test_cli_cases)
{
    const char *name = g_ptr_array_index(cli_cases, _i);
    g_autofree char *rel = g_build_filename("collectors", "cli", name, NULL);
    g_autofree char *dir = vb_test_data_path(rel);
    g_auto(GStrv) argv = cli_args(dir);
    g_auto(GStrv) envp = g_get_environ();
    g_autofree char *out = NULL, *err = NULL, *masked = NULL, *code = NULL;
    g_autofree char *out_path = g_build_filename(dir, "stdout", NULL);
    g_autofree char *err_path = g_build_filename(dir, "stderr", NULL);
    g_autofree char *code_path = g_build_filename(dir, "exit-code", NULL);
    g_autoptr(GError) error = NULL;
    int status = 0;

    envp = g_environ_setenv(envp, "NO_COLOR", "1", TRUE);
    envp = g_environ_setenv(envp, "VIRT_BALANCER_CONFIG", "no-such-config.yaml", TRUE);
    ck_assert_msg(g_spawn_sync(dir, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error),
                  "%s: %s", argv[0], error ? error->message : "");
    masked = mask_times(out);
    code = g_strdup_printf("%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    vb_test_compare_file(out_path, masked);
    vb_test_compare_file(err_path, err);
    vb_test_compare_file(code_path, code);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_str_has_prefix(name, "status-json"))
        check_status_json(out);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_str_has_prefix(name, "inventory-yaml"))
        check_inventory_yaml(out);
}
END_TEST

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
cli_cases_scan(void)
{
    g_autofree char *dir = vb_test_data_path("collectors/cli");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    cli_cases = g_ptr_array_new_with_free_func(g_free);
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *args = g_build_filename(dir, name, "args", NULL);

        if (g_file_test(args, G_FILE_TEST_EXISTS))
            g_ptr_array_add(cli_cases, g_strdup(name));
    }
    g_ptr_array_sort(cli_cases, compare_names);
}

void
vb_collectors_test_add_live(Suite *s)
{
    TCase *tc = tcase_create("sim");

    tcase_add_test(tc, test_sim_snapshot_averages);
    tcase_add_test(tc, test_sim_refresh);
    tcase_add_test(tc, test_snapshot_freshness);
    tcase_add_test(tc, test_sample_one_transaction);
    tcase_add_test(tc, test_session);
    tcase_add_test(tc, test_libvirt_session);
    suite_add_tcase(s, tc);

    cli_cases_scan();
    tc = tcase_create("cli");
    tcase_add_loop_test(tc, test_cli_cases, 0, (int) cli_cases->len);
    suite_add_tcase(s, tc);
}
