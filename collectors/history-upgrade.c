/*
 * history-upgrade.c: carrying a version 1 history into the raw tables.
 *
 * Version 1 kept every sample for the whole retention, with names as text in
 * every row (3 GB for 7 days of 2,000 guests). Schema step 2 creates the new
 * tables and the name tables next to the old ones; this file then copies the
 * old rows over, oldest first, in chunks of about an hour of samples and at
 * most CHUNK_VM_ROWS guest rows, one transaction each, and after each chunk
 * rolls up and prunes as the collector does, keeping raw rows for a day
 * (CARRY_RAW_KEEP_S). So the WAL holds one chunk, and the file grows by at
 * most a day of raw rows and the aggregates, instead of a copy of everything
 * (in one transaction a 677 MB file grew to 976 MB plus a 981 MB WAL). When
 * every row is carried the old tables are dropped (their pages are reused;
 * VACUUM gives them back).
 *
 * Invariants: the raw rows carried are exactly what version 1 held, ids in
 * place of names (a guest's mono_us is its host's, so it is not carried);
 * the newest day of them stays raw (a window longer than a day starts short
 * after the upgrade). The carried part is the raw rows up to the newest
 * carried sample (max(host_raw.sample)): nothing else writes raw rows before
 * vb_history_init() returns, and a process stopped half-way leaves a
 * database the next one continues. Foreign keys are off meanwhile: pruning
 * carried samples must not cascade into the old tables row by row (those
 * rows are carried already and go with the tables). Names are not pruned
 * during the carry: the names of rows not carried yet have no row of the new
 * tables.
 */
#include "config.h"

#include "collectors/history-priv.h"

#define CHUNK_VM_ROWS 200000
#define CHUNK_SPAN_US ((gint64) 3600 * G_USEC_PER_SEC)
#define CARRY_RAW_KEEP_S (24 * 3600)

/* ?1: the newest sample carried, ?2: the first sample id of the next chunk. */
static const char *const carry_sql[] = {
    "INSERT INTO host_raw SELECT h.sample, n.id, h.time_us, h.mono_us, h.up, h.reason,"
    " h.cpu_cores, h.cpu_busy_ns, h.cpu_total_ns, h.cpu_usage, h.interval_us,"
    " h.memory_total_mib, h.memory_free_mib, h.storage_total_gib, h.storage_free_gib,"
    " h.n_vms, h.n_running"
    " FROM host_samples h JOIN hosts n ON n.name = h.host WHERE h.sample > ?1 AND h.sample < ?2"
    " ORDER BY h.sample, n.id",
    "INSERT INTO vm_raw SELECT v.sample, n.id, hn.id, v.running, v.vcpus, v.cpu_time_ns,"
    " v.cpu_usage, v.interval_us, v.memory_mib, v.rss_mib, v.disk_allocation_mib"
    " FROM vm_samples v JOIN vms n ON n.name = v.vm JOIN hosts hn ON hn.name = v.host"
    " WHERE v.sample > ?1 AND v.sample < ?2 ORDER BY v.sample, n.id, hn.id",
    /* Their pages take the next chunks: the file does not grow by a copy. */
    "DELETE FROM vm_samples WHERE sample > ?1 AND sample < ?2",
    "DELETE FROM host_samples WHERE sample > ?1 AND sample < ?2",
};

/* The first sample id after the chunk that starts after @cursor: an hour of
 * samples or CHUNK_VM_ROWS guest rows, whichever comes first; 0 when nothing
 * is left to carry. */
static gboolean
chunk_bound(VbStore *store, gint64 cursor, gint64 *ret_bound, GError **error)
{
    gint64 first = 0, first_us = 0, per = 0, bound = 0, last = 0;

    *ret_bound = 0;
    if (!vb_history_query_int64(store, "SELECT min(sample) FROM host_samples WHERE sample > ?1",
                                cursor, 0, &first, error))
        return FALSE;
    if (first == 0)
        return TRUE;
    if (!vb_history_query_int64(store, "SELECT time_us FROM samples WHERE id = ?1", first, 0,
                                &first_us, error) ||
        !vb_history_query_int64(store, "SELECT count(*) FROM vm_samples WHERE sample = ?1", first,
                                0, &per, error) ||
        !vb_history_query_int64(store,
                                "SELECT min(id) FROM samples WHERE id > ?1 AND time_us >= ?2",
                                first, first_us + CHUNK_SPAN_US, &bound, error) ||
        !vb_history_query_int64(store, "SELECT max(id) FROM samples", 0, 0, &last, error))
        return FALSE;
    if (bound == 0)
        bound = last + 1;
    *ret_bound = MIN(bound, first + MAX(1, CHUNK_VM_ROWS / MAX(per, 1)));
    return TRUE;
}

/* Carries one chunk, then rolls up and prunes up to its newest sample;
 * @ret_done says whether nothing was left (the old tables are dropped). */
static gboolean
carry_chunk(VbStore *store, gboolean *ret_done, GError **error)
{
    VbHistoryRetention keep = { { CARRY_RAW_KEEP_S, 24 * 3600, G_MAXUINT } };
    VbHistoryPruned pruned = { 0 };
    gint64 cursor = 0, bound, newest = 0, raw_bound = 0;

    if (!vb_history_query_int64(store, "SELECT max(sample) FROM host_raw", 0, 0, &cursor, error) ||
        !chunk_bound(store, cursor, &bound, error))
        return FALSE;
    *ret_done = bound == 0;
    if (*ret_done)
        return vb_store_exec(store, "DROP TABLE vm_samples; DROP TABLE host_samples;", error);
    for (guint i = 0; i < G_N_ELEMENTS(carry_sql); i++) {
        sqlite3_stmt *stmt = vb_store_prepare(store, carry_sql[i], error);

        if (!stmt)
            return FALSE;
        sqlite3_bind_int64(stmt, 1, cursor);
        sqlite3_bind_int64(stmt, 2, bound);
        if (!vb_store_step_done(store, stmt, error))
            return FALSE;
    }
    return vb_history_query_int64(store, "SELECT max(time_us) FROM samples WHERE id < ?1", bound,
                                  0, &newest, error) &&
           vb_history_rollup_and_prune(store, NULL, newest, &keep, FALSE, FALSE, &pruned,
                                       &raw_bound, error);
}

static gboolean
v1_tables_left(VbStore *store, gboolean *ret_left, GError **error)
{
    gint64 n = 0;

    if (!vb_history_query_int64(store,
                                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                " AND name = 'vm_samples'",
                                0, 0, &n, error))
        return FALSE;
    *ret_left = n > 0;
    return TRUE;
}

static gboolean
carry_all(VbStore *store, guint *ret_chunks, GError **error)
{
    gboolean left, done = FALSE;

    if (!v1_tables_left(store, &left, error))
        return FALSE;
    while (left && !done) {
        if (!vb_store_begin(store, error))
            return FALSE;
        /* Read inside the transaction: another process may have carried or
         * finished meanwhile. */
        if (!v1_tables_left(store, &left, error) ||
            (left && !carry_chunk(store, &done, error)) || !vb_store_commit(store, error)) {
            vb_store_rollback(store);
            return FALSE;
        }
        (*ret_chunks)++;
    }
    return TRUE;
}

gboolean
vb_history_carry_v1(VbStore *store, GError **error)
{
    gboolean left, ok;
    guint chunks = 0;

    if (!v1_tables_left(store, &left, error))
        return FALSE;
    if (!left)
        return TRUE;
    /* Outside any transaction (inside one SQLite ignores it). */
    if (!vb_store_exec(store, "PRAGMA foreign_keys=OFF", error))
        return FALSE;
    ok = carry_all(store, &chunks, error);
    if (!vb_store_exec(store, "PRAGMA foreign_keys=ON", ok ? error : NULL))
        return FALSE;
    if (ok)
        g_debug("%s: version 1 history carried over in %u chunks", vb_store_path(store), chunks);
    return ok;
}
