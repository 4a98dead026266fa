/*
 * collectors-v1.c: how virt-balancer wrote its history before schema version
 * 2 (collectors/history.c up to commit 64f7869): names as text in every row,
 * usage from an indexed lookup of the previous row. The upgrade tests build
 * databases in that format with it, then let the current code upgrade them
 * and check that every reader gives the answers the old code gave (the same
 * expected files). Kept as it was; do not "improve" it.
 */
#include "config.h"

#include "collectors/collectors.h"
#include "tests/collectors-test.h"
#include "tests/testutil.h"

static sqlite3_stmt *
v1_prepare(VbStore *store, const char *sql)
{
    g_autoptr(GError) error = NULL;
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, &error);

    ck_assert_msg(stmt != NULL, "%s", error ? error->message : "");
    return stmt;
}

static void
v1_done(VbStore *store, sqlite3_stmt *stmt)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(vb_store_step_done(store, stmt, &error), "%s", error ? error->message : "");
}

static void
v1_bind_usage(sqlite3_stmt *stmt, int col, gboolean have, double usage, gint64 interval_us)
{
    if (have) {
        sqlite3_bind_double(stmt, col, usage);
        sqlite3_bind_int64(stmt, col + 1, interval_us);
    } else {
        sqlite3_bind_null(stmt, col);
        sqlite3_bind_null(stmt, col + 1);
    }
}

static void
v1_record_host(VbStore *store, const VbHostSample *hs, gint64 sample_id)
{
    sqlite3_stmt *stmt = v1_prepare(
        store, "SELECT up, mono_us, cpu_busy_ns, cpu_total_ns, time_us FROM host_samples"
               " WHERE host = ?1 AND sample < ?2 ORDER BY sample DESC LIMIT 1");
    gboolean have = FALSE;
    double usage = 0.0;
    gint64 interval = 0;
    guint n_running = 0;

    sqlite3_bind_text(stmt, 1, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, sample_id);
    if (sqlite3_step(stmt) == SQLITE_ROW && hs->up && sqlite3_column_int(stmt, 0)) {
        interval = hs->monotonic_us - sqlite3_column_int64(stmt, 1);
        have = interval > 0 &&
               vb_usage_host_cpu((guint64) sqlite3_column_int64(stmt, 2),
                                 (guint64) sqlite3_column_int64(stmt, 3), hs->cpu_busy_ns,
                                 hs->cpu_total_ns, &usage);
    }
    sqlite3_reset(stmt);
    for (guint i = 0; hs->vms && i < hs->vms->len; i++)
        n_running += g_array_index(hs->vms, VbVmSample, i).running ? 1 : 0;
    stmt = v1_prepare(
        store,
        "INSERT OR REPLACE INTO host_samples(sample, host, time_us, mono_us, up, reason,"
        " cpu_cores, cpu_busy_ns, cpu_total_ns, cpu_usage, interval_us, memory_total_mib,"
        " memory_free_mib, storage_total_gib, storage_free_gib, n_vms, n_running)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
    sqlite3_bind_int64(stmt, 1, sample_id);
    sqlite3_bind_text(stmt, 2, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, hs->timestamp_us);
    sqlite3_bind_int64(stmt, 4, hs->monotonic_us);
    sqlite3_bind_int(stmt, 5, hs->up ? 1 : 0);
    sqlite3_bind_text(stmt, 6, hs->up ? NULL : hs->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, hs->cpu_cores);
    sqlite3_bind_int64(stmt, 8, (gint64) hs->cpu_busy_ns);
    sqlite3_bind_int64(stmt, 9, (gint64) hs->cpu_total_ns);
    v1_bind_usage(stmt, 10, have, usage, interval);
    sqlite3_bind_int64(stmt, 12, (gint64) hs->memory_total_mib);
    sqlite3_bind_int64(stmt, 13, (gint64) hs->memory_free_mib);
    sqlite3_bind_double(stmt, 14, hs->storage_total_gib);
    sqlite3_bind_double(stmt, 15, hs->storage_free_gib);
    sqlite3_bind_int64(stmt, 16, hs->vms ? hs->vms->len : 0);
    sqlite3_bind_int64(stmt, 17, n_running);
    v1_done(store, stmt);
}

static void
v1_record_vm(VbStore *store, const VbHostSample *hs, const VbVmSample *vs, gint64 sample_id)
{
    sqlite3_stmt *stmt = v1_prepare(
        store, "SELECT running, mono_us, cpu_time_ns FROM vm_samples"
               " WHERE vm = ?1 AND host = ?2 AND sample < ?3 ORDER BY sample DESC LIMIT 1");
    gboolean have = FALSE;
    double usage = 0.0;
    gint64 interval = 0;

    sqlite3_bind_text(stmt, 1, vs->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, sample_id);
    if (sqlite3_step(stmt) == SQLITE_ROW && vs->running && sqlite3_column_int(stmt, 0)) {
        interval = hs->monotonic_us - sqlite3_column_int64(stmt, 1);
        have = vb_usage_vm_cpu((guint64) sqlite3_column_int64(stmt, 2), vs->cpu_time_ns,
                               interval, vs->vcpus, &usage);
    }
    sqlite3_reset(stmt);
    stmt = v1_prepare(
        store,
        "INSERT OR REPLACE INTO vm_samples(sample, vm, host, mono_us, running, vcpus,"
        " cpu_time_ns, cpu_usage, interval_us, memory_mib, rss_mib, disk_allocation_mib)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    sqlite3_bind_int64(stmt, 1, sample_id);
    sqlite3_bind_text(stmt, 2, vs->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, hs->monotonic_us);
    sqlite3_bind_int(stmt, 5, vs->running ? 1 : 0);
    sqlite3_bind_int64(stmt, 6, vs->vcpus);
    sqlite3_bind_int64(stmt, 7, (gint64) vs->cpu_time_ns);
    v1_bind_usage(stmt, 8, have, usage, interval);
    sqlite3_bind_int64(stmt, 10, (gint64) vs->memory_mib);
    sqlite3_bind_int64(stmt, 11, (gint64) vs->rss_mib);
    sqlite3_bind_int64(stmt, 12, (gint64) vs->disk_allocation_mib);
    v1_done(store, stmt);
}

void
vb_test_v1_create(VbStore *store)
{
    g_autoptr(GError) error = NULL;

    /* Step 1 of the history schema is version 1, unchanged since. */
    ck_assert_msg(vb_store_migrate(store, "history", vb_history_schema, 1, &error), "%s",
                  error ? error->message : "");
}

void
vb_test_v1_record(VbStore *store, const VbSampleSet *set)
{
    g_autoptr(GError) error = NULL;
    sqlite3_stmt *stmt;
    gint64 t = 0, sample_id;

    for (guint i = 0; i < set->hosts->len; i++)
        t = MAX(t, ((const VbHostSample *) g_ptr_array_index(set->hosts, i))->timestamp_us);
    ck_assert(vb_store_begin(store, &error));
    stmt = v1_prepare(store, "INSERT INTO samples(time_us) VALUES (?1)");
    sqlite3_bind_int64(stmt, 1, t);
    v1_done(store, stmt);
    sample_id = sqlite3_last_insert_rowid(vb_store_db(store));
    for (guint i = 0; i < set->hosts->len; i++) {
        const VbHostSample *hs = g_ptr_array_index(set->hosts, i);

        v1_record_host(store, hs, sample_id);
        for (guint j = 0; hs->up && hs->vms && j < hs->vms->len; j++)
            v1_record_vm(store, hs, &g_array_index(hs->vms, VbVmSample, j), sample_id);
    }
    ck_assert_msg(vb_store_commit(store, &error), "%s", error ? error->message : "");
}
