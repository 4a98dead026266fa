/*
 * window.c: averages over a time window of the history.
 *
 * The window is (end - window_seconds, end], end being a sample time (the
 * newest by default). CPU is averaged over the intervals that have a figure
 * and lie inside the window, weighted by their length, so that one short noisy interval does not count
 * as much as a long one; memory and storage are plain means of the samples
 * in which the host was up. The current pool is the hosts of the newest
 * sample at or before end: a host removed from the config drops out of
 * status at once even though its rows stay until retention.
 *
 * Workload: a handful of grouped queries per call, each one pass over the
 * raw rows of the window (samples indexed by time, rows keyed by sample),
 * names joined from the name tables.
 */
#include "config.h"

#include <math.h>

#include "collectors/collectors.h"

void
vb_host_history_free(VbHostHistory *h)
{
    if (!h)
        return;
    g_free(h->host);
    g_free(h->reason);
    g_free(h);
}

void
vb_vm_history_free(VbVmHistory *h)
{
    if (!h)
        return;
    g_free(h->vm);
    g_free(h->host);
    g_free(h);
}

/* An interval counts when it has a figure and starts inside the window (?1 is
 * the window's start): after a pause in sampling, the first new sample's
 * interval spans the pause and says nothing about the window. */
#define HOST_IN_WINDOW "h.cpu_usage IS NOT NULL AND s.time_us - h.interval_us >= ?1"
#define VM_IN_WINDOW "v.cpu_usage IS NOT NULL AND s.time_us - v.interval_us >= ?1"

static gint64
window_start(gint64 end_us, guint window_seconds)
{
    return end_us - (gint64) window_seconds * G_USEC_PER_SEC;
}

/* Resolves end 0 to the newest sample time, and fills the window report. */
static gboolean
window_resolve(VbStore *store, gint64 *end_us, guint window_seconds, VbWindow *ret_window,
               GError **error)
{
    sqlite3_stmt *stmt;
    VbWindow w = { .window_seconds = window_seconds };

    if (*end_us == 0 && !vb_history_latest_time(store, end_us, error))
        return FALSE;
    stmt = vb_store_prepare(store,
                            "SELECT count(*), min(time_us), max(time_us) FROM samples"
                            " WHERE time_us > ?1 AND time_us <= ?2",
                            error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, window_start(*end_us, window_seconds));
    sqlite3_bind_int64(stmt, 2, *end_us);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return vb_store_error(store, error, "cannot read history");
    }
    w.n_samples = (guint) sqlite3_column_int64(stmt, 0);
    if (w.n_samples > 0) {
        w.start_us = sqlite3_column_int64(stmt, 1);
        w.end_us = sqlite3_column_int64(stmt, 2);
    }
    sqlite3_reset(stmt);
    if (ret_window)
        *ret_window = w;
    return TRUE;
}

static double
column_double_or(sqlite3_stmt *stmt, int col, double fallback)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? fallback
                                                         : sqlite3_column_double(stmt, col);
}

/* The hosts of the newest sample at or before @end_us, with their latest row. */
static gboolean
hosts_latest(VbStore *store, gint64 end_us, GPtrArray *out, GHashTable *by_name,
             GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "SELECT n.name, up, reason, time_us, cpu_usage, memory_total_mib - memory_free_mib,"
        " memory_total_mib, storage_total_gib - storage_free_gib, storage_total_gib,"
        " n_vms, n_running FROM host_raw JOIN hosts n ON n.id = host WHERE sample ="
        " (SELECT max(id) FROM samples WHERE time_us <= ?1) ORDER BY n.name",
        error);
    int rc;

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, end_us);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        VbHostHistory *h = g_new0(VbHostHistory, 1);

        h->host = g_strdup((const char *) sqlite3_column_text(stmt, 0));
        h->up = sqlite3_column_int(stmt, 1) != 0;
        h->reason = g_strdup((const char *) sqlite3_column_text(stmt, 2));
        h->time_us = sqlite3_column_int64(stmt, 3);
        h->latest.cpu = column_double_or(stmt, 4, -1.0);
        h->latest.memory_used_mib = sqlite3_column_double(stmt, 5);
        h->latest.memory_total_mib = sqlite3_column_double(stmt, 6);
        h->latest.storage_used_gib = sqlite3_column_double(stmt, 7);
        h->latest.storage_total_gib = sqlite3_column_double(stmt, 8);
        h->n_vms = (guint) sqlite3_column_int64(stmt, 9);
        h->n_running = (guint) sqlite3_column_int64(stmt, 10);
        h->average.cpu = -1.0;
        g_ptr_array_add(out, h);
        g_hash_table_insert(by_name, h->host, h);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return vb_store_error(store, error, "cannot read history");
    return TRUE;
}

/* The time-weighted standard deviation of a host's CPU use over the window,
 * from the mean of its squares; -1 with fewer than 3 intervals (two points
 * say little about how a load fluctuates). */
static double
cpu_stddev(const VbHostHistory *h, double mean_sq)
{
    if (h->n_intervals < 3 || h->average.cpu < 0 || mean_sq < 0)
        return -1.0;
    return sqrt(MAX(0.0, mean_sq - h->average.cpu * h->average.cpu));
}

/* Fills the averages of the hosts in @by_name from the window's up rows. */
static gboolean
hosts_average(VbStore *store, gint64 start_us, gint64 end_us, GHashTable *by_name,
              GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "SELECT n.name, count(*),"
        " sum(CASE WHEN " HOST_IN_WINDOW " THEN 1 ELSE 0 END),"
        " sum(CASE WHEN " HOST_IN_WINDOW " THEN h.cpu_usage * h.interval_us END)"
        " / sum(CASE WHEN " HOST_IN_WINDOW " THEN h.interval_us END),"
        " avg(h.memory_total_mib - h.memory_free_mib), avg(h.memory_total_mib),"
        " avg(h.storage_total_gib - h.storage_free_gib), avg(h.storage_total_gib),"
        " min(s.time_us), max(s.time_us),"
        " sum(CASE WHEN " HOST_IN_WINDOW " THEN h.cpu_usage * h.cpu_usage * h.interval_us END)"
        " / sum(CASE WHEN " HOST_IN_WINDOW " THEN h.interval_us END)"
        " FROM samples s JOIN host_raw h ON h.sample = s.id JOIN hosts n ON n.id = h.host"
        " WHERE s.time_us > ?1 AND s.time_us <= ?2 AND h.up GROUP BY h.host",
        error);
    int rc;

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, start_us);
    sqlite3_bind_int64(stmt, 2, end_us);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        VbHostHistory *h = g_hash_table_lookup(by_name, sqlite3_column_text(stmt, 0));

        if (!h)
            continue; /* no longer in the pool */
        h->n_samples = (guint) sqlite3_column_int64(stmt, 1);
        h->n_intervals = (guint) sqlite3_column_int64(stmt, 2);
        h->average.cpu = column_double_or(stmt, 3, -1.0);
        h->average.memory_used_mib = sqlite3_column_double(stmt, 4);
        h->average.memory_total_mib = sqlite3_column_double(stmt, 5);
        h->average.storage_used_gib = sqlite3_column_double(stmt, 6);
        h->average.storage_total_gib = sqlite3_column_double(stmt, 7);
        h->first_us = sqlite3_column_int64(stmt, 8);
        h->last_us = sqlite3_column_int64(stmt, 9);
        h->cpu_stddev = cpu_stddev(h, column_double_or(stmt, 10, -1.0));
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return vb_store_error(store, error, "cannot read history");
    return TRUE;
}

GPtrArray *
vb_history_hosts(VbStore *store, gint64 end_us, guint window_seconds, VbWindow *ret_window,
                 GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vb_host_history_free);
    g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);

    if (!window_resolve(store, &end_us, window_seconds, ret_window, error) ||
        !hosts_latest(store, end_us, out, by_name, error) ||
        !hosts_average(store, window_start(end_us, window_seconds), end_us, by_name, error))
        return NULL;
    return g_steal_pointer(&out);
}

GPtrArray *
vb_history_vms(VbStore *store, gint64 end_us, guint window_seconds, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vb_vm_history_free);
    sqlite3_stmt *stmt;
    int rc;

    if (end_us == 0 && !vb_history_latest_time(store, &end_us, error))
        return NULL;
    /* The bare column hn.name comes from the row of max(v.sample) (SQLite). */
    stmt = vb_store_prepare(
        store,
        "SELECT n.name, hn.name, max(v.sample),"
        " sum(CASE WHEN " VM_IN_WINDOW " THEN 1 ELSE 0 END),"
        " sum(CASE WHEN " VM_IN_WINDOW " THEN v.cpu_usage * v.interval_us END)"
        " / sum(CASE WHEN " VM_IN_WINDOW " THEN v.interval_us END)"
        " FROM samples s JOIN vm_raw v ON v.sample = s.id JOIN vms n ON n.id = v.vm"
        " JOIN hosts hn ON hn.id = v.host"
        " WHERE s.time_us > ?1 AND s.time_us <= ?2 GROUP BY v.vm ORDER BY n.name",
        error);
    if (!stmt)
        return NULL;
    sqlite3_bind_int64(stmt, 1, window_start(end_us, window_seconds));
    sqlite3_bind_int64(stmt, 2, end_us);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        VbVmHistory *h = g_new0(VbVmHistory, 1);

        h->vm = g_strdup((const char *) sqlite3_column_text(stmt, 0));
        h->host = g_strdup((const char *) sqlite3_column_text(stmt, 1));
        h->n_intervals = (guint) sqlite3_column_int64(stmt, 3);
        h->cpu = column_double_or(stmt, 4, -1.0);
        g_ptr_array_add(out, h);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        vb_store_error(store, error, "cannot read history");
        return NULL;
    }
    return g_steal_pointer(&out);
}

char *
vb_window_describe(const VbWindow *window)
{
    double span;

    if (window->n_samples == 0)
        return g_strdup_printf("window %u s: no samples", window->window_seconds);
    span = (double) (window->end_us - window->start_us) / G_USEC_PER_SEC;
    /* Bootstrap samples are a few seconds apart: whole seconds would say "0 s". */
    return g_strdup_printf("window %u s: %u sample%s over %.*f s", window->window_seconds,
                           window->n_samples, window->n_samples == 1 ? "" : "s",
                           span < 10.0 ? 1 : 0, span);
}

/* ------------------------------------------------------------ aggregates */

void
vb_aggregate_free(VbAggregate *a)
{
    if (!a)
        return;
    g_free(a->host);
    g_free(a->vm);
    g_free(a);
}

/* Columns @col..@col+2 as a VbStat (NAN for NULL). */
static VbStat
column_stat(sqlite3_stmt *stmt, int col)
{
    VbStat st = {
        .min = column_double_or(stmt, col, NAN),
        .mean = column_double_or(stmt, col + 1, NAN),
        .max = column_double_or(stmt, col + 2, NAN),
    };

    return st;
}

/* Columns: host, vm (NULL for hosts), bucket, samples, up, then cpu, memory
 * and storage as min/mean/max triples. */
static gboolean
read_aggregates(VbStore *store, const char *sql, VbHistoryLevel level, gint64 from_us,
                gint64 to_us, GPtrArray *out, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);
    int rc;

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, level);
    sqlite3_bind_int64(stmt, 2, from_us);
    sqlite3_bind_int64(stmt, 3, to_us);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        VbAggregate *a = g_new0(VbAggregate, 1);

        a->host = g_strdup((const char *) sqlite3_column_text(stmt, 0));
        a->vm = g_strdup((const char *) sqlite3_column_text(stmt, 1));
        a->bucket_us = sqlite3_column_int64(stmt, 2);
        a->n_samples = (guint) sqlite3_column_int64(stmt, 3);
        a->n_up = (guint) sqlite3_column_int64(stmt, 4);
        a->cpu = column_stat(stmt, 5);
        a->memory_mib = column_stat(stmt, 8);
        a->storage_used_gib = column_stat(stmt, 11);
        g_ptr_array_add(out, a);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || vb_store_error(store, error, "cannot read history");
}

GPtrArray *
vb_history_aggregates(VbStore *store, VbHistoryLevel level, gint64 from_us, gint64 to_us,
                      GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vb_aggregate_free);

    g_return_val_if_fail(level > VB_HISTORY_RAW && level < VB_HISTORY_LEVEL_LAST, NULL);
    if (!read_aggregates(store,
                         "SELECT n.name, NULL, a.bucket_us, a.n_samples, a.n_up, a.cpu_min,"
                         " a.cpu_mean, a.cpu_max, a.memory_used_min, a.memory_used_mean,"
                         " a.memory_used_max, a.storage_used_min, a.storage_used_mean,"
                         " a.storage_used_max FROM host_agg a JOIN hosts n ON n.id = a.host"
                         " WHERE a.level = ?1 AND a.bucket_us >= ?2 AND a.bucket_us < ?3"
                         " ORDER BY a.bucket_us, n.name",
                         level, from_us, to_us, out, error) ||
        !read_aggregates(store,
                         "SELECT hn.name, n.name, a.bucket_us, a.n_samples, a.n_samples,"
                         " a.cpu_min, a.cpu_mean, a.cpu_max, a.rss_min, a.rss_mean, a.rss_max,"
                         " NULL, NULL, NULL FROM vm_agg a JOIN vms n ON n.id = a.vm"
                         " JOIN hosts hn ON hn.id = a.host"
                         " WHERE a.level = ?1 AND a.bucket_us >= ?2 AND a.bucket_us < ?3"
                         " ORDER BY a.bucket_us, n.name, hn.name",
                         level, from_us, to_us, out, error))
        return NULL;
    return g_steal_pointer(&out);
}
