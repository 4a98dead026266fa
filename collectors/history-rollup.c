/*
 * history-rollup.c: the history's levels, rolled up and pruned.
 *
 * Three levels, finest first: raw samples (history.c), 5-minute aggregates
 * rolled up from the raw rows, hourly aggregates rolled up from the 5-minute
 * ones, the way RRD and Prometheus downsampling keep history. An aggregate
 * row holds, per host (per guest on a host) and bucket, the count of samples
 * and min/mean/max of each metric (CPU weighted by interval length, like the
 * window averages). Each level is kept for its own retention
 * (VbHistoryRetention); raw rows only as long as the planning window needs
 * them.
 *
 * Closed buckets are written from the accumulators of history-acc.c when
 * the cache saw them whole (spread over the next samples on the collector's
 * path); the SQL statements below roll up the others (catch-up).
 *
 * Invariants: a bucket is rolled up once, when the newest sample has passed
 * its end (history_rollups.done_us: buckets before it are done, written
 * whole); rolling up
 * always comes before pruning, so no row is pruned before the level above
 * has it as long as each level is kept at least one bucket of the level
 * above (vb_history_retention_init ensures it), and what a bucket still
 * being written is made of is kept whatever the retention. A sample
 * recorded later with a time inside a bucket already rolled up (or being
 * written) stays out of the aggregates.
 * Pruning deletes ranges of the tables' keys (sample id, level and bucket),
 * never row by row; names no row refers to any more go with the hourly pass,
 * found from the time the hourly rollup last saw them (names.seen_us), not
 * by reading the large levels.
 *
 * Workload: after each sample, a share of the rows of the last buckets
 * closed (history-acc.c) and range deletes at the old end of each table; a
 * SQL pass over a bucket's raw rows (over twelve 5-minute buckets for an
 * hour) only when catching up.
 */
#include "config.h"

#include "collectors/history-priv.h"

#define MIN_RAW_MARGIN_S 600     /* raw rows kept beyond the window */
#define FIVE_MIN_KEEP_S (24 * 3600)

void
vb_history_retention_init(VbHistoryRetention *keep, guint window_seconds,
                          guint retention_seconds)
{
    guint raw = window_seconds + MAX(window_seconds, MIN_RAW_MARGIN_S);

    keep->keep_seconds[VB_HISTORY_RAW] = MAX(raw, 300);
    /* Each level stays at least one bucket of the level above: rolling up
     * needs it. */
    keep->keep_seconds[VB_HISTORY_FIVE_MIN] = MAX(MIN(retention_seconds, FIVE_MIN_KEEP_S), 3600);
    keep->keep_seconds[VB_HISTORY_HOUR] = MAX(retention_seconds, 3600);
}

/* ---------------------------------------------------------------- rollup */

/* Each statement gets ?1 from, ?2 to (bucket starts in [from, to)), ?3 the
 * bucket width. */
static const char roll_hosts_5m[] =
    "INSERT OR REPLACE INTO host_agg" VB_HISTORY_HOST_AGG_COLUMNS
    " SELECT 1, s.time_us - s.time_us % ?3 AS b, h.host,"
    " count(*), sum(h.up),"
    " sum(CASE WHEN h.cpu_usage IS NOT NULL THEN h.interval_us END),"
    " min(h.cpu_usage), sum(h.cpu_usage * h.interval_us)"
    "  / sum(CASE WHEN h.cpu_usage IS NOT NULL THEN h.interval_us END), max(h.cpu_usage),"
    " min(CASE WHEN h.up THEN h.memory_total_mib - h.memory_free_mib END),"
    " avg(CASE WHEN h.up THEN h.memory_total_mib - h.memory_free_mib END),"
    " max(CASE WHEN h.up THEN h.memory_total_mib - h.memory_free_mib END),"
    " avg(CASE WHEN h.up THEN h.memory_total_mib END),"
    " min(CASE WHEN h.up THEN h.storage_total_gib - h.storage_free_gib END),"
    " avg(CASE WHEN h.up THEN h.storage_total_gib - h.storage_free_gib END),"
    " max(CASE WHEN h.up THEN h.storage_total_gib - h.storage_free_gib END),"
    " avg(CASE WHEN h.up THEN h.storage_total_gib END)"
    " FROM samples s JOIN host_raw h ON h.sample = s.id"
    " WHERE s.time_us >= ?1 AND s.time_us < ?2 GROUP BY b, h.host";

static const char roll_vms_5m[] =
    "INSERT OR REPLACE INTO vm_agg" VB_HISTORY_VM_AGG_COLUMNS
    " SELECT 1, s.time_us - s.time_us % ?3 AS b, v.vm, v.host,"
    " count(*), sum(CASE WHEN v.cpu_usage IS NOT NULL THEN v.interval_us END),"
    " min(v.cpu_usage), sum(v.cpu_usage * v.interval_us)"
    "  / sum(CASE WHEN v.cpu_usage IS NOT NULL THEN v.interval_us END), max(v.cpu_usage),"
    " min(v.rss_mib), avg(v.rss_mib), max(v.rss_mib)"
    " FROM samples s JOIN vm_raw v ON v.sample = s.id"
    " WHERE s.time_us >= ?1 AND s.time_us < ?2 GROUP BY b, v.vm, v.host";

/* Means of means weigh each bucket by what it averaged: interval time for
 * CPU, up samples for memory and storage, samples for a guest's RSS. */
static const char roll_hosts_1h[] =
    "INSERT OR REPLACE INTO host_agg" VB_HISTORY_HOST_AGG_COLUMNS
    " SELECT 2, a.bucket_us - a.bucket_us % ?3 AS b, a.host,"
    " sum(a.n_samples), sum(a.n_up), sum(a.cpu_us), min(a.cpu_min),"
    " sum(a.cpu_mean * a.cpu_us) / sum(a.cpu_us), max(a.cpu_max),"
    " min(a.memory_used_min), sum(a.memory_used_mean * a.n_up) / sum(a.n_up),"
    " max(a.memory_used_max), sum(a.memory_total_mib * a.n_up) / sum(a.n_up),"
    " min(a.storage_used_min), sum(a.storage_used_mean * a.n_up) / sum(a.n_up),"
    " max(a.storage_used_max), sum(a.storage_total_gib * a.n_up) / sum(a.n_up)"
    " FROM host_agg a WHERE a.level = 1 AND a.bucket_us >= ?1 AND a.bucket_us < ?2"
    " GROUP BY b, a.host";

static const char roll_vms_1h[] =
    "INSERT OR REPLACE INTO vm_agg" VB_HISTORY_VM_AGG_COLUMNS
    " SELECT 2, a.bucket_us - a.bucket_us % ?3 AS b, a.vm, a.host,"
    " sum(a.n_samples), sum(a.cpu_us), min(a.cpu_min),"
    " sum(a.cpu_mean * a.cpu_us) / sum(a.cpu_us), max(a.cpu_max),"
    " min(a.rss_min), sum(a.rss_mean * a.n_samples) / sum(a.n_samples), max(a.rss_max)"
    " FROM vm_agg a WHERE a.level = 1 AND a.bucket_us >= ?1 AND a.bucket_us < ?2"
    " GROUP BY b, a.vm, a.host";

/* How each aggregate level is made. */
typedef struct {
    VbHistoryLevel level;
    gint64 width_us;
    const char *first_sql;   /* the oldest time of the level below, or NULL */
    const char *hosts_sql, *vms_sql;
    const char *const *mark_sql; /* NULL-terminated, run after the rollup, or NULL */
} RollupLevel;

/* The hourly rollup marks every name it saw with the end of what it rolled
 * up (names.seen_us): its hourly rows end by then, so once the hourly
 * retention has passed that time they are gone (prune_names). */
static const char *const mark_hourly[] = {
    "UPDATE hosts SET seen_us = ?2 WHERE id IN (SELECT host FROM host_agg"
    " WHERE level = 2 AND bucket_us >= ?1 AND bucket_us < ?2)",
    "UPDATE vms SET seen_us = ?2 WHERE id IN (SELECT vm FROM vm_agg"
    " WHERE level = 2 AND bucket_us >= ?1 AND bucket_us < ?2)",
    NULL,
};

static const RollupLevel rollup_levels[] = {
    { VB_HISTORY_FIVE_MIN, VB_HISTORY_FIVE_MIN_US, "SELECT min(time_us) FROM samples",
      roll_hosts_5m, roll_vms_5m, NULL },
    { VB_HISTORY_HOUR, VB_HISTORY_HOUR_US,
      "SELECT min(bucket_us) FROM host_agg WHERE level = 1", roll_hosts_1h, roll_vms_1h,
      mark_hourly },
};

/* Binds ?1, ?2, ?3 to @a, @b, @c as far as @stmt uses them: the statements
 * of one caller take different numbers of parameters. */
static void
bind_used(sqlite3_stmt *stmt, gint64 a, gint64 b, gint64 c)
{
    const gint64 values[] = { a, b, c };
    int n = MIN(sqlite3_bind_parameter_count(stmt), (int) G_N_ELEMENTS(values));

    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(stmt, i + 1, values[i]);
}

gboolean
vb_history_query_int64(VbStore *store, const char *sql, gint64 a, gint64 b, gint64 *ret,
                       GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);
    int rc;

    if (!stmt)
        return FALSE;
    bind_used(stmt, a, b, 0);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        *ret = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || vb_store_error(store, error, "cannot read history");
}

static gboolean
run_range(VbStore *store, const char *sql, gint64 a, gint64 b, gint64 c, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);

    if (!stmt)
        return FALSE;
    bind_used(stmt, a, b, c);
    return vb_store_step_done(store, stmt, error);
}

static gboolean
set_done(VbStore *store, VbHistoryLevel level, gint64 done_us, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store,
                                          "INSERT INTO history_rollups(level, done_us)"
                                          " VALUES (?1, ?2) ON CONFLICT(level)"
                                          " DO UPDATE SET done_us = excluded.done_us",
                                          error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, level);
    sqlite3_bind_int64(stmt, 2, done_us);
    return vb_store_step_done(store, stmt, error);
}

/* Rolls up the buckets of @l that ended by @until_us (the newest sample, or
 * what the level below has done), from @cache's accumulators when it holds
 * them whole (spread over calls with @spread), else by SQL; passes are
 * counted in @pruned. The level's done time goes in @ret_done (buckets
 * before it are whole), and @ret_rolled says whether it moved. */
static gboolean
rollup_level(VbStore *store, VbHistoryCache *cache, const RollupLevel *l, gint64 until_us,
             gboolean spread, gint64 *ret_done, gboolean *ret_rolled, VbHistoryPruned *pruned,
             GError **error)
{
    gint64 to = until_us - until_us % l->width_us, from = G_MININT64;
    VbHistoryRolled rolled;

    *ret_rolled = FALSE;
    *ret_done = to;
    if (!vb_history_query_int64(store,
                                "SELECT max(done_us) FROM history_rollups WHERE level = ?1",
                                l->level, 0, &from, error))
        return FALSE;
    if (from == G_MININT64) {
        gint64 first = to;

        if (!vb_history_query_int64(store, l->first_sql, 0, 0, &first, error))
            return FALSE;
        from = first - first % l->width_us;
    }
    if (from >= to) {
        *ret_done = MAX(from, to);
        return TRUE;
    }
    if (!vb_history_acc_roll(store, cache, l->level, from, to, spread, &rolled, error))
        return FALSE;
    pruned->rolled_in_memory[l->level] += rolled.finished;
    if (!rolled.in_memory) {
        pruned->rolled_by_sql[l->level]++;
        if (!run_range(store, l->hosts_sql, from, to, l->width_us, error) ||
            !run_range(store, l->vms_sql, from, to, l->width_us, error))
            return FALSE;
    }
    *ret_done = MAX(from, rolled.done_us);
    if (rolled.done_us <= from)
        return TRUE; /* the oldest bucket is still being written */
    if (!set_done(store, l->level, rolled.done_us, error))
        return FALSE;
    /* Rows written from memory were marked one by one (history-acc.c). */
    for (guint i = 0; !rolled.in_memory && l->mark_sql && l->mark_sql[i]; i++)
        if (!run_range(store, l->mark_sql[i], from, rolled.done_us, l->width_us, error))
            return FALSE;
    *ret_rolled = TRUE;
    return TRUE;
}

/* Rolls every level up to @until_us (the newest sample); @ret_hourly says
 * whether an hourly bucket was added, @ret_done (indexed by level) how far
 * each level is rolled up (0 when nothing was sampled). */
static gboolean
rollup(VbStore *store, VbHistoryCache *cache, gint64 until_us, gboolean spread,
       gboolean *ret_hourly, gint64 *ret_done, VbHistoryPruned *pruned, GError **error)
{
    gint64 until = until_us;
    gboolean rolled = FALSE;

    *ret_hourly = FALSE;
    if (until <= 0)
        return TRUE; /* no samples (times are unix microseconds, after 1970) */
    for (guint i = 0; i < G_N_ELEMENTS(rollup_levels); i++) {
        if (!rollup_level(store, cache, &rollup_levels[i], until, spread, &until, &rolled,
                          pruned, error))
            return FALSE;
        ret_done[rollup_levels[i].level] = until;
    }
    *ret_hourly = rolled;
    return TRUE;
}

/* ------------------------------------------------------------- pruning */

static gboolean
delete_below(VbStore *store, const char *sql, gint64 level, gint64 bound, guint *ret_changes,
             GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);

    if (!stmt)
        return FALSE;
    /* Statements without a bound or a level ignore them. */
    bind_used(stmt, bound, level, 0);
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    *ret_changes += (guint) sqlite3_changes(vb_store_db(store));
    return TRUE;
}

/* Deletes the raw samples before @cutoff_us: every sample id below the first
 * one at or after the cutoff, in three range deletes. The bound goes in
 * @ret_bound (0 when nothing was deleted). */
static gboolean
prune_raw(VbStore *store, gint64 cutoff_us, gint64 *ret_bound, VbHistoryPruned *pruned,
          GError **error)
{
    gint64 first = 0, bound = 0;
    guint rows = 0;

    *ret_bound = 0;
    if (!vb_history_query_int64(store, "SELECT min(id) FROM samples", 0, 0, &first, error) ||
        !vb_history_query_int64(store, "SELECT coalesce(max(id), 0) + 1 FROM samples", 0, 0,
                                &bound, error) ||
        !vb_history_query_int64(store, "SELECT min(id) FROM samples WHERE time_us >= ?1",
                                cutoff_us, 0, &bound, error))
        return FALSE;
    if (first == 0 || bound <= first)
        return TRUE;
    if (!delete_below(store, "DELETE FROM vm_raw WHERE sample < ?1", 0, bound,
                      &rows, error) ||
        !delete_below(store, "DELETE FROM host_raw WHERE sample < ?1", 0, bound,
                      &rows, error) ||
        !delete_below(store, "DELETE FROM samples WHERE id < ?1", 0, bound,
                      &pruned->samples, error))
        return FALSE;
    pruned->rows[VB_HISTORY_RAW] += rows;
    *ret_bound = bound;
    return TRUE;
}

/* Deletes the buckets of @level that ended before @cutoff_us. */
static gboolean
prune_level(VbStore *store, VbHistoryLevel level, gint64 width_us, gint64 cutoff_us,
            VbHistoryPruned *pruned, GError **error)
{
    gint64 bound = cutoff_us - width_us + 1; /* bucket_us + width <= cutoff */

    return delete_below(store, "DELETE FROM vm_agg WHERE level = ?2 AND bucket_us < ?1", level,
                        bound, &pruned->rows[level], error) &&
           delete_below(store, "DELETE FROM host_agg WHERE level = ?2 AND bucket_us < ?1",
                        level, bound, &pruned->rows[level], error);
}

/* Deletes the names no row refers to any more, without reading the large
 * levels: a name's hourly rows are gone once the hourly cutoff (?1) has
 * passed its seen_us (and its older 5-minute rows with them); what is not
 * rolled up into hours yet is read from the 5-minute rows since the hourly
 * level's done time (?2) and the raw rows since the 5-minute one's (?3). */
static const char *const prune_names_sql[] = {
    "DELETE FROM vms WHERE seen_us <= ?1"
    " AND id NOT IN (SELECT vm FROM vm_agg WHERE level = 1 AND bucket_us >= ?2)"
    " AND id NOT IN (SELECT v.vm FROM samples s JOIN vm_raw v ON v.sample = s.id"
    "  WHERE s.time_us >= ?3)",
    "DELETE FROM hosts WHERE seen_us <= ?1"
    " AND id NOT IN (SELECT host FROM host_agg WHERE level = 1 AND bucket_us >= ?2)"
    " AND id NOT IN (SELECT h.host FROM samples s JOIN host_raw h ON h.sample = s.id"
    "  WHERE s.time_us >= ?3)",
};

static gboolean
prune_names(VbStore *store, gint64 hour_cutoff_us, const gint64 *done, VbHistoryPruned *pruned,
            GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(prune_names_sql); i++) {
        if (!run_range(store, prune_names_sql[i], hour_cutoff_us, done[VB_HISTORY_HOUR],
                       done[VB_HISTORY_FIVE_MIN], error))
            return FALSE;
        pruned->names += (guint) sqlite3_changes(vb_store_db(store));
    }
    return TRUE;
}

gboolean
vb_history_rollup_and_prune(VbStore *store, VbHistoryCache *cache, gint64 now_us,
                            const VbHistoryRetention *keep, gboolean names, gboolean spread, VbHistoryPruned *pruned, gint64 *ret_bound,
                            GError **error)
{
    gint64 done[VB_HISTORY_LEVEL_LAST] = { 0 }, cutoff[VB_HISTORY_LEVEL_LAST];
    gboolean hourly;

    gint64 pending_5m, pending_hour;

    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++)
        cutoff[i] = now_us - (gint64) keep->keep_seconds[i] * G_USEC_PER_SEC;
    if (!rollup(store, cache, now_us, spread, &hourly, done, pruned, error))
        return FALSE;
    /* What a bucket still being written is made of stays, for the SQL
     * rollup to redo it should this process stop first: its raw rows, and
     * the 5-minute rows of its hour. */
    pending_5m = vb_history_acc_pending_from(cache, VB_HISTORY_FIVE_MIN);
    pending_hour = vb_history_acc_pending_from(cache, VB_HISTORY_HOUR);
    cutoff[VB_HISTORY_RAW] = MIN(cutoff[VB_HISTORY_RAW], pending_5m);
    if (pending_5m != G_MAXINT64)
        pending_hour = MIN(pending_hour, pending_5m - pending_5m % VB_HISTORY_HOUR_US);
    cutoff[VB_HISTORY_FIVE_MIN] = MIN(cutoff[VB_HISTORY_FIVE_MIN], pending_hour);
    if (!prune_raw(store, cutoff[VB_HISTORY_RAW], ret_bound, pruned, error) ||
        !prune_level(store, VB_HISTORY_FIVE_MIN, VB_HISTORY_FIVE_MIN_US,
                     cutoff[VB_HISTORY_FIVE_MIN], pruned, error) ||
        !prune_level(store, VB_HISTORY_HOUR, VB_HISTORY_HOUR_US, cutoff[VB_HISTORY_HOUR],
                     pruned, error))
        return FALSE;
    /* Once an hour is enough: a name goes only when all its rows have gone. */
    return !names || !(hourly || pruned->rows[VB_HISTORY_HOUR] > 0) ||
           prune_names(store, cutoff[VB_HISTORY_HOUR], done, pruned, error);
}

void
vb_history_pruned_committed(VbStore *store, const VbHistoryPruned *pruned, gint64 bound)
{
    if (bound > 0)
        vb_history_cache_pruned(store, bound);
    if (pruned->names > 0)
        vb_history_cache_names_pruned(store);
}

gboolean
vb_history_prune(VbStore *store, gint64 now_us, const VbHistoryRetention *keep,
                 VbHistoryPruned *ret_pruned, GError **error)
{
    VbHistoryPruned pruned = { 0 };
    VbHistoryCache *cache = NULL;
    gint64 bound = 0;

    if (!vb_store_begin(store, error))
        return FALSE;
    if (!vb_history_cache_peek(store, &cache, error) ||
        !vb_history_rollup_and_prune(store, cache, now_us, keep, TRUE, FALSE, &pruned, &bound,
                                     error) ||
        !vb_store_commit(store, error)) {
        /* The accumulators already count the rolled-back rows as written:
         * drop them, so that the next rollup redoes those buckets by SQL. */
        vb_store_rollback(store);
        vb_history_cache_drop(store);
        return FALSE;
    }
    vb_history_pruned_committed(store, &pruned, bound);
    if (ret_pruned)
        *ret_pruned = pruned;
    return TRUE;
}
