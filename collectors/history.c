/*
 * history.c: samples into the database (component "history").
 *
 * Each VbSampleSet becomes one row of `samples` (its time is the newest of
 * its hosts' wall clocks), one raw row per host in `host_raw` and one per
 * guest in `vm_raw`, in one transaction. Hosts and guests are integer ids of
 * the name tables `hosts` and `vms`. Raw rows keep the counters, so that the
 * next sample (from this process or a later one) can take its delta against
 * them, and the usage derived from the delta with the previous row of the
 * same host (of the same guest on the same host), with the interval it
 * covers. An interval whose counters went backwards (reboot, restart,
 * migration) or whose driver clock did not advance gets no usage (NULL): it
 * is skipped, not guessed. Raw rows live only as long as the planning window
 * needs them; history-rollup.c rolls them up into 5-minute and hourly
 * aggregates and prunes every level.
 *
 * Workload: one append per host and guest per sample (raw tables are keyed
 * by sample first and rows are written in key order, so the b-tree only
 * grows at its end), with the ids and previous counters from the store's
 * cache (history-cache.c): no read per row. 200,000 guests per sample.
 */
#include "config.h"

#include <stdlib.h>

#include "collectors/history-priv.h"

/* Version n of the schema is steps 0..n-1; never edit a released step, add
 * one. docs/collectors.md describes every version and the upgrade. */
const char *const vb_history_schema[] = {
    /* 1: names as text in every row, rows deleted with their sample. */
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
    /* 2: integer ids (name tables), raw rows keyed by sample (no cascade:
     * pruning deletes ranges), aggregates per level, rollup progress. The
     * rows of version 1 are carried over afterwards, in chunks
     * (history-upgrade.c), and its tables dropped then. */
    "CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE vms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "INSERT INTO hosts(name) SELECT host FROM host_samples UNION SELECT host FROM vm_samples;"
    "INSERT INTO vms(name) SELECT DISTINCT vm FROM vm_samples ORDER BY vm;"
    "CREATE TABLE host_raw ("
    "  sample INTEGER NOT NULL,"
    "  host INTEGER NOT NULL,"
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
    "  PRIMARY KEY (sample, host)) WITHOUT ROWID;"
    "CREATE TABLE vm_raw ("
    "  sample INTEGER NOT NULL,"
    "  vm INTEGER NOT NULL,"
    "  host INTEGER NOT NULL,"
    "  running INTEGER NOT NULL,"
    "  vcpus INTEGER NOT NULL,"
    "  cpu_time_ns INTEGER NOT NULL,"
    "  cpu_usage REAL,"
    "  interval_us INTEGER,"
    "  memory_mib INTEGER NOT NULL,"
    "  rss_mib INTEGER NOT NULL,"
    "  disk_allocation_mib INTEGER NOT NULL,"
    "  PRIMARY KEY (sample, vm, host)) WITHOUT ROWID;"
    "CREATE TABLE host_agg ("
    "  level INTEGER NOT NULL,"
    "  bucket_us INTEGER NOT NULL,"
    "  host INTEGER NOT NULL,"
    "  n_samples INTEGER NOT NULL,"
    "  n_up INTEGER NOT NULL,"
    "  cpu_us INTEGER,"
    "  cpu_min REAL, cpu_mean REAL, cpu_max REAL,"
    "  memory_used_min REAL, memory_used_mean REAL, memory_used_max REAL,"
    "  memory_total_mib REAL,"
    "  storage_used_min REAL, storage_used_mean REAL, storage_used_max REAL,"
    "  storage_total_gib REAL,"
    "  PRIMARY KEY (level, bucket_us, host)) WITHOUT ROWID;"
    "CREATE TABLE vm_agg ("
    "  level INTEGER NOT NULL,"
    "  bucket_us INTEGER NOT NULL,"
    "  vm INTEGER NOT NULL,"
    "  host INTEGER NOT NULL,"
    "  n_samples INTEGER NOT NULL,"
    "  cpu_us INTEGER,"
    "  cpu_min REAL, cpu_mean REAL, cpu_max REAL,"
    "  rss_min INTEGER, rss_mean REAL, rss_max INTEGER,"
    "  PRIMARY KEY (level, bucket_us, vm, host)) WITHOUT ROWID;"
    "CREATE TABLE history_rollups ("
    "  level INTEGER PRIMARY KEY,"
    "  done_us INTEGER NOT NULL);",
    /* 3: when the hourly rollup last saw each name (pruning names without
     * reading the levels); names already in hourly rows get the end of
     * their newest one, the others 0 (they are in the finer levels). */
    "ALTER TABLE hosts ADD COLUMN seen_us INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE vms ADD COLUMN seen_us INTEGER NOT NULL DEFAULT 0;"
    "UPDATE hosts SET seen_us = m.t FROM (SELECT host, max(bucket_us) + 3600000000 AS t"
    "  FROM host_agg WHERE level = 2 GROUP BY host) AS m WHERE hosts.id = m.host;"
    "UPDATE vms SET seen_us = m.t FROM (SELECT vm, max(bucket_us) + 3600000000 AS t"
    "  FROM vm_agg WHERE level = 2 GROUP BY vm) AS m WHERE vms.id = m.vm;",
};
const guint vb_history_schema_n_steps = G_N_ELEMENTS(vb_history_schema);

gboolean
vb_history_init(VbStore *store, GError **error)
{
    /* A cache from before the upgrade would name tables that are gone. */
    vb_history_cache_drop(store);
    return vb_store_migrate(store, "history", vb_history_schema, vb_history_schema_n_steps,
                            error) &&
           vb_history_carry_v1(store, error);
}

/* ------------------------------------------------------------- recording */

/* One guest row to write: its ids (the sort key) and where its figures are. */
typedef struct {
    guint vm_id, host_id;
    const VbHostSample *hs;
    const VbVmSample *vs;
} VmRow;

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

/* The insert of a sample's raw rows into @table with ?1 bound to
 * @sample_id: prepared (looked up) once per sample, not per row; each row
 * binds every other parameter, and stepping resets the statement but keeps
 * the bindings. */
static sqlite3_stmt *
raw_insert(VbStore *store, gboolean vm, gint64 sample_id, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        vm ? "INSERT OR REPLACE INTO vm_raw(sample, vm, host, running, vcpus, cpu_time_ns,"
             " cpu_usage, interval_us, memory_mib, rss_mib, disk_allocation_mib)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
           : "INSERT OR REPLACE INTO host_raw(sample, host, time_us, mono_us, up, reason,"
             " cpu_cores, cpu_busy_ns, cpu_total_ns, cpu_usage, interval_us, memory_total_mib,"
             " memory_free_mib, storage_total_gib, storage_free_gib, n_vms, n_running)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
             " ?17)",
        error);

    if (stmt)
        sqlite3_bind_int64(stmt, 1, sample_id);
    return stmt;
}

/* Overwrites the counters of @slot with @last's, keeping its accumulator. */
static void
last_set(VbHistoryLast *slot, const VbHistoryLast *last)
{
    slot->key = last->key;
    slot->sample = last->sample;
    slot->mono_us = last->mono_us;
    slot->busy_ns = last->busy_ns;
    slot->total_ns = last->total_ns;
    slot->up = last->up;
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

/* The CPU usage of @hs over the interval since the host's previous row
 * (@prev, may be NULL); FALSE when there is none. */
static gboolean
host_usage(const VbHostSample *hs, const VbHistoryLast *prev, double *ret_usage,
           gint64 *ret_interval)
{
    if (!prev || !hs->up || !prev->up)
        return FALSE;
    *ret_interval = hs->monotonic_us - prev->mono_us;
    return *ret_interval > 0 && vb_usage_host_cpu(prev->busy_ns, prev->total_ns,
                                                  hs->cpu_busy_ns, hs->cpu_total_ns,
                                                  ret_usage);
}

/* Writes host row @hs with @stmt (the sample's host insert, ?1 bound). */
static gboolean
record_host(VbStore *store, VbHistoryCache *cache, sqlite3_stmt *stmt, const VbHostSample *hs,
            guint host_id, gint64 sample_id, GError **error)
{
    VbHistoryLast last = { .key = host_id, .sample = sample_id, .mono_us = hs->monotonic_us,
                           .busy_ns = hs->cpu_busy_ns, .total_ns = hs->cpu_total_ns,
                           .up = hs->up };
    gboolean found;
    VbHistoryLast *slot = vb_history_cache_slot(cache, host_id, &found);
    double usage = 0.0;
    gint64 interval = 0;
    gboolean have = host_usage(hs, found ? slot : NULL, &usage, &interval);
    guint n_running = 0;

    for (guint i = 0; hs->vms && i < hs->vms->len; i++)
        n_running += g_array_index(hs->vms, VbVmSample, i).running ? 1 : 0;
    sqlite3_bind_int64(stmt, 2, host_id);
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
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    if (found && slot->sample == sample_id)
        vb_history_acc_repeated(cache);
    vb_history_acc_host(cache, slot, hs, have, usage, interval);
    last_set(slot, &last);
    return TRUE;
}

/* The CPU usage of a guest over the interval since its previous row on the
 * same host (@prev, may be NULL); only when it was running at both ends. */
static gboolean
vm_usage(const VmRow *r, const VbHistoryLast *prev, double *ret_usage, gint64 *ret_interval)
{
    if (!prev || !r->vs->running || !prev->up)
        return FALSE;
    *ret_interval = r->hs->monotonic_us - prev->mono_us;
    return vb_usage_vm_cpu(prev->busy_ns, r->vs->cpu_time_ns, *ret_interval, r->vs->vcpus,
                           ret_usage);
}

/* Writes guest row @r with @stmt (the sample's guest insert, ?1 bound). */
static gboolean
record_vm(VbStore *store, VbHistoryCache *cache, sqlite3_stmt *stmt, const VmRow *r,
          gint64 sample_id, GError **error)
{
    const VbVmSample *vs = r->vs;
    VbHistoryLast last = { .key = vb_history_vm_key(r->vm_id, r->host_id), .sample = sample_id,
                           .mono_us = r->hs->monotonic_us, .busy_ns = vs->cpu_time_ns,
                           .up = vs->running };
    gboolean found;
    VbHistoryLast *slot = vb_history_cache_slot(cache, last.key, &found);
    double usage = 0.0;
    gint64 interval = 0;
    gboolean have = vm_usage(r, found ? slot : NULL, &usage, &interval);

    sqlite3_bind_int64(stmt, 2, r->vm_id);
    sqlite3_bind_int64(stmt, 3, r->host_id);
    sqlite3_bind_int(stmt, 4, vs->running ? 1 : 0);
    sqlite3_bind_int64(stmt, 5, vs->vcpus);
    sqlite3_bind_int64(stmt, 6, (gint64) vs->cpu_time_ns);
    bind_usage(stmt, 7, have, usage, interval);
    sqlite3_bind_int64(stmt, 9, (gint64) vs->memory_mib);
    sqlite3_bind_int64(stmt, 10, (gint64) vs->rss_mib);
    sqlite3_bind_int64(stmt, 11, (gint64) vs->disk_allocation_mib);
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    if (found && slot->sample == sample_id)
        vb_history_acc_repeated(cache);
    vb_history_acc_vm(cache, slot, have, usage, interval, vs->rss_mib);
    last_set(slot, &last);
    return TRUE;
}

static int
vm_row_cmp(const void *a, const void *b)
{
    const VmRow *x = a, *y = b;

    if (x->vm_id != y->vm_id)
        return x->vm_id < y->vm_id ? -1 : 1;
    return x->host_id < y->host_id ? -1 : x->host_id > y->host_id;
}

/* Writes the host rows, and collects the guest rows of up hosts in @rows. */
static gboolean
record_hosts(VbStore *store, VbHistoryCache *cache, const VbSampleSet *set, gint64 sample_id,
             GArray *rows, GError **error)
{
    sqlite3_stmt *stmt = raw_insert(store, FALSE, sample_id, error);

    for (guint i = 0; stmt && i < set->hosts->len; i++) {
        const VbHostSample *hs = g_ptr_array_index(set->hosts, i);
        guint host_id;

        if (!vb_history_cache_id(store, cache, FALSE, hs->host, &host_id, error) ||
            !record_host(store, cache, stmt, hs, host_id, sample_id, error))
            return FALSE;
        for (guint j = 0; hs->up && hs->vms && j < hs->vms->len; j++) {
            VmRow r = { .host_id = host_id, .hs = hs,
                        .vs = &g_array_index(hs->vms, VbVmSample, j) };

            if (!vb_history_cache_id(store, cache, TRUE, r.vs->name, &r.vm_id, error))
                return FALSE;
            g_array_append_val(rows, r);
        }
    }
    return stmt != NULL;
}

/* Records @set; the cache it used goes in @ret_cache. */
static gboolean
record_set(VbStore *store, const VbSampleSet *set, VbHistoryCache **ret_cache, GError **error)
{
    VbHistoryCache *cache = vb_history_cache_get(store, error);
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(VmRow));
    gint64 sample_id, time_us = sample_set_time(set);
    sqlite3_stmt *stmt;

    if (!cache || !insert_sample(store, time_us, &sample_id, error))
        return FALSE;
    *ret_cache = cache;
    vb_history_acc_sample(cache, time_us);
    if (!record_hosts(store, cache, set, sample_id, rows, error))
        return FALSE;
    /* In key order, every insert lands at the end of the table's b-tree. */
    g_array_sort(rows, vm_row_cmp); /* qsort's NULL data of an empty array is UB */
    stmt = raw_insert(store, TRUE, sample_id, error);
    for (guint i = 0; stmt && i < rows->len; i++)
        if (!record_vm(store, cache, stmt, &g_array_index(rows, VmRow, i), sample_id, error))
            return FALSE;
    return stmt != NULL;
}

gboolean
vb_history_record(VbStore *store, const VbSampleSet *set, GError **error)
{
    return vb_history_record_and_prune(store, set, NULL, NULL, error);
}

/* Records @set, then (with @keep) rolls up and prunes; inside a transaction. */
static gboolean
record_and_prune(VbStore *store, const VbSampleSet *set, const VbHistoryRetention *keep,
                 VbHistoryPruned *pruned, gint64 *ret_bound, GError **error)
{
    VbHistoryCache *cache = NULL;
    gint64 now_us = 0;

    /* An empty pool has no sample to keep, but its old history still ages. */
    if (set->hosts->len > 0 ? !record_set(store, set, &cache, error)
                            : !vb_history_cache_peek(store, &cache, error))
        return FALSE;
    if (!keep)
        return TRUE;
    return vb_history_latest_time(store, &now_us, error) &&
           vb_history_rollup_and_prune(store, cache, now_us, keep, TRUE, TRUE, pruned,
                                       ret_bound, error);
}

gboolean
vb_history_record_and_prune(VbStore *store, const VbSampleSet *set,
                            const VbHistoryRetention *keep, VbHistoryPruned *ret_pruned,
                            GError **error)
{
    VbHistoryPruned pruned = { 0 };
    gint64 bound = 0;

    if (set->hosts->len == 0 && !keep)
        return TRUE;
    if (!vb_store_begin(store, error))
        return FALSE;
    if (!record_and_prune(store, set, keep, &pruned, &bound, error) ||
        !vb_store_commit(store, error)) {
        vb_store_rollback(store);
        /* The cache took this sample's names and counters: forget them. */
        vb_history_cache_drop(store);
        return FALSE;
    }
    vb_history_pruned_committed(store, &pruned, bound);
    if (ret_pruned)
        *ret_pruned = pruned;
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
