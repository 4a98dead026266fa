/*
 * history.c: samples into the database (component "history").
 *
 * Each VbSampleSet becomes one row of `samples` (its time is the newest of
 * its hosts' wall clocks), one row per host in `host_samples` and one per
 * guest in `vm_samples`. Rows keep the raw counters, so that the next sample
 * (from this process or a later one) can take its delta against them, and the
 * usage derived from the delta with the previous row of the same host (of the
 * same guest on the same host), with the interval it covers. An interval
 * whose counters went backwards (reboot, restart, migration) or whose driver
 * clock did not advance gets no usage (NULL): it is skipped, not guessed.
 *
 * Workload: one insert per host and guest per sample (thousands of rows in one
 * transaction with cached statements), one indexed lookup of the previous
 * row for each, and a prune by time after each sample. Rows of a sample are
 * deleted with it (foreign keys, ON DELETE CASCADE).
 */
#include "config.h"

#include "collectors/collectors.h"

/* Version n of the schema is steps 0..n-1; never edit a released step, add
 * one. */
const char *const vb_history_schema[] = {
    "CREATE TABLE samples ("
    "  id INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL);"
    "CREATE INDEX samples_time ON samples(time_us);"
    "CREATE TABLE host_samples ("
    "  sample INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,"
    "  host TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  mono_us INTEGER NOT NULL,"
    "  up INTEGER NOT NULL,"
    "  reason TEXT,"
    "  cpu_cores INTEGER NOT NULL,"
    "  cpu_busy_ns INTEGER NOT NULL,"
    "  cpu_total_ns INTEGER NOT NULL,"
    "  cpu_usage REAL,"
    "  interval_us INTEGER,"
    "  memory_total_mib INTEGER NOT NULL,"
    "  memory_free_mib INTEGER NOT NULL,"
    "  storage_total_gib REAL NOT NULL,"
    "  storage_free_gib REAL NOT NULL,"
    "  n_vms INTEGER NOT NULL,"
    "  n_running INTEGER NOT NULL,"
    "  PRIMARY KEY (host, sample));"
    "CREATE INDEX host_samples_sample ON host_samples(sample);"
    "CREATE TABLE vm_samples ("
    "  sample INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,"
    "  vm TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  mono_us INTEGER NOT NULL,"
    "  running INTEGER NOT NULL,"
    "  vcpus INTEGER NOT NULL,"
    "  cpu_time_ns INTEGER NOT NULL,"
    "  cpu_usage REAL,"
    "  interval_us INTEGER,"
    "  memory_mib INTEGER NOT NULL,"
    "  rss_mib INTEGER NOT NULL,"
    "  disk_allocation_mib INTEGER NOT NULL,"
    "  PRIMARY KEY (vm, host, sample));"
    "CREATE INDEX vm_samples_sample ON vm_samples(sample);",
};
const guint vb_history_schema_n_steps = G_N_ELEMENTS(vb_history_schema);

gboolean
vb_history_init(VbStore *store, GError **error)
{
    return vb_store_migrate(store, "history", vb_history_schema, vb_history_schema_n_steps,
                            error);
}

/* ------------------------------------------------------------- recording */

static gint64
sample_set_time(const VbSampleSet *set)
{
    gint64 t = 0;

    for (guint i = 0; i < set->hosts->len; i++)
        t = MAX(t, ((const VbHostSample *) g_ptr_array_index(set->hosts, i))->timestamp_us);
    return t;
}

static gboolean
insert_sample(VbStore *store, gint64 time_us, gint64 *ret_id, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, "INSERT INTO samples(time_us) VALUES (?1)",
                                          error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, time_us);
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    *ret_id = sqlite3_last_insert_rowid(vb_store_db(store));
    return TRUE;
}

/* Binds interval and usage: NULLs when @have is FALSE. */
static void
bind_usage(sqlite3_stmt *stmt, int col, gboolean have, double usage, gint64 interval_us)
{
    if (have) {
        sqlite3_bind_double(stmt, col, usage);
        sqlite3_bind_int64(stmt, col + 1, interval_us);
    } else {
        sqlite3_bind_null(stmt, col);
        sqlite3_bind_null(stmt, col + 1);
    }
}

/* Steps @stmt once, for the previous row of a host or guest; *ret_row says
 * whether there is one (its columns are then readable until the caller
 * resets @stmt). On a database error @stmt is reset and FALSE returned. */
static gboolean
step_previous(VbStore *store, sqlite3_stmt *stmt, gboolean *ret_row, GError **error)
{
    int rc = sqlite3_step(stmt);

    *ret_row = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(stmt);
        return vb_store_error(store, error, "cannot read history");
    }
    return TRUE;
}

/* The CPU usage of @hs over the interval since the host's previous row. */
static gboolean
host_usage(VbStore *store, const VbHostSample *hs, gint64 sample_id, gboolean *ret_have,
           double *ret_usage, gint64 *ret_interval, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "SELECT up, mono_us, cpu_busy_ns, cpu_total_ns, time_us FROM host_samples"
        " WHERE host = ?1 AND sample < ?2 ORDER BY sample DESC LIMIT 1",
        error);
    gboolean row;

    *ret_have = FALSE;
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, sample_id);
    if (!step_previous(store, stmt, &row, error))
        return FALSE;
    if (row && hs->up && sqlite3_column_int(stmt, 0)) {
        gint64 interval = hs->monotonic_us - sqlite3_column_int64(stmt, 1);

        *ret_interval = interval;
        *ret_have = interval > 0 &&
                    vb_usage_host_cpu((guint64) sqlite3_column_int64(stmt, 2),
                                      (guint64) sqlite3_column_int64(stmt, 3), hs->cpu_busy_ns,
                                      hs->cpu_total_ns, ret_usage);
    }
    sqlite3_reset(stmt);
    return TRUE;
}

static gboolean
record_host(VbStore *store, const VbHostSample *hs, gint64 sample_id, GError **error)
{
    sqlite3_stmt *stmt;
    gboolean have = FALSE;
    double usage = 0.0;
    gint64 interval = 0;
    guint n_running = 0;

    if (!host_usage(store, hs, sample_id, &have, &usage, &interval, error))
        return FALSE;
    for (guint i = 0; hs->vms && i < hs->vms->len; i++)
        n_running += g_array_index(hs->vms, VbVmSample, i).running ? 1 : 0;
    stmt = vb_store_prepare(
        store,
        "INSERT OR REPLACE INTO host_samples(sample, host, time_us, mono_us, up, reason,"
        " cpu_cores, cpu_busy_ns, cpu_total_ns, cpu_usage, interval_us, memory_total_mib,"
        " memory_free_mib, storage_total_gib, storage_free_gib, n_vms, n_running)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, sample_id);
    sqlite3_bind_text(stmt, 2, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, hs->timestamp_us);
    sqlite3_bind_int64(stmt, 4, hs->monotonic_us);
    sqlite3_bind_int(stmt, 5, hs->up ? 1 : 0);
    sqlite3_bind_text(stmt, 6, hs->up ? NULL : hs->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, hs->cpu_cores);
    sqlite3_bind_int64(stmt, 8, (gint64) hs->cpu_busy_ns);
    sqlite3_bind_int64(stmt, 9, (gint64) hs->cpu_total_ns);
    bind_usage(stmt, 10, have, usage, interval);
    sqlite3_bind_int64(stmt, 12, (gint64) hs->memory_total_mib);
    sqlite3_bind_int64(stmt, 13, (gint64) hs->memory_free_mib);
    sqlite3_bind_double(stmt, 14, hs->storage_total_gib);
    sqlite3_bind_double(stmt, 15, hs->storage_free_gib);
    sqlite3_bind_int64(stmt, 16, hs->vms ? hs->vms->len : 0);
    sqlite3_bind_int64(stmt, 17, n_running);
    return vb_store_step_done(store, stmt, error);
}

/* The CPU usage of @vs over the interval since its previous row on the same
 * host; only when it was running at both ends. */
static gboolean
vm_usage(VbStore *store, const VbHostSample *hs, const VbVmSample *vs, gint64 sample_id,
         gboolean *ret_have, double *ret_usage, gint64 *ret_interval, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "SELECT running, mono_us, cpu_time_ns FROM vm_samples"
        " WHERE vm = ?1 AND host = ?2 AND sample < ?3 ORDER BY sample DESC LIMIT 1",
        error);
    gboolean row;

    *ret_have = FALSE;
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, vs->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, sample_id);
    if (!step_previous(store, stmt, &row, error))
        return FALSE;
    if (row && vs->running && sqlite3_column_int(stmt, 0)) {
        *ret_interval = hs->monotonic_us - sqlite3_column_int64(stmt, 1);
        *ret_have = vb_usage_vm_cpu((guint64) sqlite3_column_int64(stmt, 2), vs->cpu_time_ns,
                                    *ret_interval, vs->vcpus, ret_usage);
    }
    sqlite3_reset(stmt);
    return TRUE;
}

static gboolean
record_vm(VbStore *store, const VbHostSample *hs, const VbVmSample *vs, gint64 sample_id,
          GError **error)
{
    sqlite3_stmt *stmt;
    gboolean have = FALSE;
    double usage = 0.0;
    gint64 interval = 0;

    if (!vm_usage(store, hs, vs, sample_id, &have, &usage, &interval, error))
        return FALSE;
    stmt = vb_store_prepare(
        store,
        "INSERT OR REPLACE INTO vm_samples(sample, vm, host, mono_us, running, vcpus,"
        " cpu_time_ns, cpu_usage, interval_us, memory_mib, rss_mib, disk_allocation_mib)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, sample_id);
    sqlite3_bind_text(stmt, 2, vs->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hs->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, hs->monotonic_us);
    sqlite3_bind_int(stmt, 5, vs->running ? 1 : 0);
    sqlite3_bind_int64(stmt, 6, vs->vcpus);
    sqlite3_bind_int64(stmt, 7, (gint64) vs->cpu_time_ns);
    bind_usage(stmt, 8, have, usage, interval);
    sqlite3_bind_int64(stmt, 10, (gint64) vs->memory_mib);
    sqlite3_bind_int64(stmt, 11, (gint64) vs->rss_mib);
    sqlite3_bind_int64(stmt, 12, (gint64) vs->disk_allocation_mib);
    return vb_store_step_done(store, stmt, error);
}

static gboolean
record_set(VbStore *store, const VbSampleSet *set, GError **error)
{
    gint64 sample_id;

    if (!insert_sample(store, sample_set_time(set), &sample_id, error))
        return FALSE;
    for (guint i = 0; i < set->hosts->len; i++) {
        const VbHostSample *hs = g_ptr_array_index(set->hosts, i);

        if (!record_host(store, hs, sample_id, error))
            return FALSE;
        for (guint j = 0; hs->up && hs->vms && j < hs->vms->len; j++)
            if (!record_vm(store, hs, &g_array_index(hs->vms, VbVmSample, j), sample_id,
                           error))
                return FALSE;
    }
    return TRUE;
}

gboolean
vb_history_record(VbStore *store, const VbSampleSet *set, GError **error)
{
    if (set->hosts->len == 0)
        return TRUE; /* an empty pool has no history to keep */
    if (!vb_store_begin(store, error))
        return FALSE;
    if (!record_set(store, set, error) || !vb_store_commit(store, error)) {
        vb_store_rollback(store);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------- retention */

gboolean
vb_history_prune(VbStore *store, gint64 now_us, guint retention_seconds, guint *ret_deleted,
                 GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, "DELETE FROM samples WHERE time_us < ?1",
                                          error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, now_us - (gint64) retention_seconds * G_USEC_PER_SEC);
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    if (ret_deleted)
        *ret_deleted = (guint) sqlite3_changes(vb_store_db(store));
    return TRUE;
}

gboolean
vb_history_latest_time(VbStore *store, gint64 *ret_time_us, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, "SELECT max(time_us) FROM samples", error);
    gint64 t = 0;

    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return vb_store_error(store, error, "cannot read history");
    }
    if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        t = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    *ret_time_us = t;
    return TRUE;
}
