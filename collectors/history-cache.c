/*
 * history-cache.c: the history's names and newest counters, kept in memory
 * beside the store's connection.
 *
 * Recording a sample needs, for every host and guest, its integer id (from
 * the name tables) and the counters of its previous raw row (for the
 * deltas). Reading them from the database costs two indexed lookups per row;
 * the cache answers both from hash tables, so a sample of 200,000 guests is
 * one append per row. It mirrors the database exactly: it is loaded from the
 * name tables and the raw rows, updated by the writer in the same
 * transaction as the rows it writes, and thrown away when that transaction
 * fails. Another connection's commit (the daemon and `status` share a file)
 * changes PRAGMA data_version, and the next write reloads.
 *
 * Invariant: when the cache is valid, every name in the name tables is in
 * host_ids/vm_ids, and last holds, per host and per guest-on-host, the
 * newest raw row still in the database (entries older than min_sample are
 * treated as absent until dropped).
 *
 * Workload: loading reads every name and every raw row once (the raw level
 * holds only the window and a margin); a warm write does hash lookups only.
 */
#include "config.h"

#include "collectors/history-priv.h"

#define CACHE_KEY "history-cache"

static void
cache_free(gpointer p)
{
    VbHistoryCache *cache = p;

    if (!cache)
        return;
    g_clear_pointer(&cache->host_ids, g_hash_table_destroy);
    g_clear_pointer(&cache->vm_ids, g_hash_table_destroy);
    g_clear_pointer(&cache->last, g_hash_table_destroy);
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++)
        g_clear_pointer(&cache->open[i], g_ptr_array_unref);
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++)
        g_clear_pointer(&cache->closing[i], g_ptr_array_unref);
    g_clear_pointer(&cache->late, vb_history_bucket_free);
    g_free(cache);
}

/* Guest keys are id << 32 | host id: g_int64_hash (high ^ low) would let
 * neighbouring pairs collide. A multiplicative hash spreads them. */
guint
vb_history_key_hash(gconstpointer key)
{
    return (guint) ((*(const guint64 *) key * G_GUINT64_CONSTANT(0x9E3779B97F4A7C15)) >> 32);
}

static VbHistoryCache *
cache_new(gint64 data_version)
{
    VbHistoryCache *cache = g_new0(VbHistoryCache, 1);

    cache->data_version = data_version;
    cache->host_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cache->vm_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cache->last = g_hash_table_new_full(vb_history_key_hash, g_int64_equal, NULL, g_free);
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++) {
        cache->open[i] = g_ptr_array_new_with_free_func((GDestroyNotify) vb_history_bucket_free);
        cache->closing[i] =
            g_ptr_array_new_with_free_func((GDestroyNotify) vb_history_bucket_free);
        cache->complete_from[i] = G_MININT64;
    }
    return cache;
}

void
vb_history_cache_drop(VbStore *store)
{
    vb_store_set_data(store, CACHE_KEY, NULL, NULL);
}

VbHistoryLast *
vb_history_cache_slot(VbHistoryCache *cache, guint64 key, gboolean *ret_found)
{
    VbHistoryLast *last = g_hash_table_lookup(cache->last, &key);

    if (!last) {
        last = g_new0(VbHistoryLast, 1);
        last->key = key;
        g_hash_table_insert(cache->last, &last->key, last);
        *ret_found = FALSE;
        return last;
    }
    *ret_found = last->sample >= cache->min_sample;
    return last;
}

static gboolean
last_is_pruned(gpointer key, gpointer value, gpointer bound)
{
    (void) key;
    return ((const VbHistoryLast *) value)->sample < *(const gint64 *) bound;
}

void
vb_history_cache_pruned(VbStore *store, gint64 bound)
{
    VbHistoryCache *cache = vb_store_get_data(store, CACHE_KEY);

    if (!cache || bound <= cache->min_sample)
        return;
    cache->min_sample = bound;
    g_hash_table_foreach_remove(cache->last, last_is_pruned, &bound);
}

/* ---------------------------------------------------------------- loading */

static gboolean
load_names(VbStore *store, const char *sql, GHashTable *ids, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);
    int rc;

    if (!stmt)
        return FALSE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        g_hash_table_insert(ids, g_strdup((const char *) sqlite3_column_text(stmt, 1)),
                            GUINT_TO_POINTER((guint) sqlite3_column_int64(stmt, 0)));
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || vb_store_error(store, error, "cannot read history names");
}

/* Rows come oldest sample first, so the newest of each key stays. Columns:
 * sample, key, up, mono_us, busy_ns, total_ns. */
static gboolean
load_last(VbStore *store, VbHistoryCache *cache, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, error);
    int rc;

    if (!stmt)
        return FALSE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        VbHistoryLast last = {
            .sample = sqlite3_column_int64(stmt, 0),
            .key = (guint64) sqlite3_column_int64(stmt, 1),
            .up = sqlite3_column_int(stmt, 2) != 0,
            .mono_us = sqlite3_column_int64(stmt, 3),
            .busy_ns = (guint64) sqlite3_column_int64(stmt, 4),
            .total_ns = (guint64) sqlite3_column_int64(stmt, 5),
        };

        gboolean found;

        *vb_history_cache_slot(cache, last.key, &found) = last;
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || vb_store_error(store, error, "cannot read history");
}

/* Which buckets the (empty) accumulators hold whole: none that the
 * database already has rows of. */
static gboolean
load_open(VbStore *store, VbHistoryCache *cache, GError **error)
{
    gint64 latest = 0, done = 0;

    if (!vb_history_latest_time(store, &latest, error) ||
        !vb_history_query_int64(store,
                                "SELECT max(done_us) FROM history_rollups WHERE level = ?1",
                                VB_HISTORY_FIVE_MIN, 0, &done, error))
        return FALSE;
    vb_history_acc_loaded(cache, latest, done);
    return TRUE;
}

/* A host row's driver clock, by sample and host. */
typedef struct {
    gint64 sample;
    guint host;
    gint64 mono_us;
} HostClock;

static guint
host_clock_hash(gconstpointer p)
{
    const HostClock *c = p;

    return vb_history_key_hash(&(guint64) { ((guint64) c->sample << 32) ^ c->host });
}

static gboolean
host_clock_equal(gconstpointer a, gconstpointer b)
{
    const HostClock *x = a, *y = b;

    return x->sample == y->sample && x->host == y->host;
}

/* A guest's clock is its host's in the same sample. Reading it by joining
 * host_raw costs a b-tree search per guest row (6 million at 200,000
 * guests); instead every host row's clock goes in a hash table (a guest's
 * rows are 20 times as many as its host's), and only the newest row of each
 * guest looks it up. */
static gboolean
load_guest_clocks(VbStore *store, VbHistoryCache *cache, GError **error)
{
    g_autoptr(GHashTable) clocks = g_hash_table_new_full(host_clock_hash, host_clock_equal,
                                                         g_free, NULL);
    sqlite3_stmt *stmt = vb_store_prepare(store, "SELECT sample, host, mono_us FROM host_raw",
                                          error);
    GHashTableIter it;
    gpointer value;
    int rc;

    if (!stmt)
        return FALSE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        HostClock *c = g_new(HostClock, 1);

        c->sample = sqlite3_column_int64(stmt, 0);
        c->host = (guint) sqlite3_column_int64(stmt, 1);
        c->mono_us = sqlite3_column_int64(stmt, 2);
        g_hash_table_add(clocks, c);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return vb_store_error(store, error, "cannot read history");
    g_hash_table_iter_init(&it, cache->last);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        VbHistoryLast *last = value;
        HostClock key = { .sample = last->sample, .host = (guint) (last->key & G_MAXUINT32) };
        const HostClock *c;

        if (last->key >> 32 == 0)
            continue; /* a host's own row */
        c = g_hash_table_lookup(clocks, &key);
        /* Defensive: the writer puts a host row in every sample with its
         * guests' rows; without one the guest's previous row is unusable. */
        if (!c)
            g_hash_table_iter_remove(&it);
        else
            last->mono_us = c->mono_us;
    }
    return TRUE;
}

static gboolean
cache_load(VbStore *store, VbHistoryCache *cache, GError **error)
{
    return load_open(store, cache, error) &&
           load_names(store, "SELECT id, name FROM hosts", cache->host_ids, error) &&
           load_names(store, "SELECT id, name FROM vms", cache->vm_ids, error) &&
           load_last(store, cache,
                     "SELECT sample, host, up, mono_us, cpu_busy_ns, cpu_total_ns"
                     " FROM host_raw ORDER BY sample",
                     error) &&
           load_last(store, cache,
                     "SELECT sample, (vm << 32) | host, running, 0, cpu_time_ns, 0"
                     " FROM vm_raw ORDER BY sample",
                     error) &&
           load_guest_clocks(store, cache, error);
}

VbHistoryCache *
vb_history_cache_get(VbStore *store, GError **error)
{
    VbHistoryCache *cache = vb_store_get_data(store, CACHE_KEY);
    gint64 version;

    if (!vb_store_data_version(store, &version, error))
        return NULL;
    if (cache && cache->data_version == version)
        return cache;
    if (cache)
        g_debug("%s: history written by another connection: reloading its cache",
                vb_store_path(store));
    cache = cache_new(version);
    if (!cache_load(store, cache, error)) {
        cache_free(cache);
        vb_history_cache_drop(store);
        return NULL;
    }
    vb_store_set_data(store, CACHE_KEY, cache, cache_free);
    return cache;
}

gboolean
vb_history_cache_peek(VbStore *store, VbHistoryCache **ret_cache, GError **error)
{
    VbHistoryCache *cache = vb_store_get_data(store, CACHE_KEY);
    gint64 version;

    if (!cache) {
        *ret_cache = NULL;
        return TRUE;
    }
    if (!vb_store_data_version(store, &version, error))
        return FALSE;
    if (cache->data_version != version) {
        vb_history_cache_drop(store);
        cache = NULL;
    }
    *ret_cache = cache;
    return TRUE;
}

gboolean
vb_history_cache_id(VbStore *store, VbHistoryCache *cache, gboolean vm, const char *name,
                    guint *ret_id, GError **error)
{
    GHashTable *ids = vm ? cache->vm_ids : cache->host_ids;
    gpointer found;
    sqlite3_stmt *stmt;
    sqlite3_int64 id;

    if (g_hash_table_lookup_extended(ids, name, NULL, &found)) {
        *ret_id = GPOINTER_TO_UINT(found);
        return TRUE;
    }
    stmt = vb_store_prepare(store, vm ? "INSERT INTO vms(name) VALUES (?1)"
                                      : "INSERT INTO hosts(name) VALUES (?1)",
                            error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    if (!vb_store_step_done(store, stmt, error))
        return FALSE;
    id = sqlite3_last_insert_rowid(vb_store_db(store));
    /* Defensive: ids are packed in 32 bits (vb_history_vm_key); a name table
     * reaching four billion rows is a bug, not a pool. */
    if (id <= 0 || id > G_MAXUINT32) {
        g_set_error(error, VB_ERROR, VB_ERROR_DATABASE, "%s: history name id %lld out of range",
                    vb_store_path(store), (long long) id);
        return FALSE;
    }
    g_hash_table_insert(ids, g_strdup(name), GUINT_TO_POINTER((guint) id));
    *ret_id = (guint) id;
    return TRUE;
}

void
vb_history_cache_names_pruned(VbStore *store)
{
    VbHistoryCache *cache = vb_store_get_data(store, CACHE_KEY);
    g_autoptr(GError) error = NULL;

    if (!cache)
        return;
    g_hash_table_remove_all(cache->host_ids);
    g_hash_table_remove_all(cache->vm_ids);
    if (!load_names(store, "SELECT id, name FROM hosts", cache->host_ids, &error) ||
        !load_names(store, "SELECT id, name FROM vms", cache->vm_ids, &error)) {
        /* The next write reloads everything, and says so if it fails. */
        g_debug("%s", error->message);
        vb_history_cache_drop(store);
    }
}
