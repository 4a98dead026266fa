/*
 * store.c: the SQLite database under the history and the journal.
 *
 * One VbStore is one sqlite3 connection in WAL mode (readers do not block the
 * writer; the daemon samples while `status` reads) with a busy timeout, so
 * two virt-balancer processes touching one file wait for each other instead
 * of failing at once. Statements are prepared once and cached by their SQL
 * text: the sampler inserts thousands of rows per sample with the same few
 * statements.
 *
 * Schema migrations are versioned per component (history, journal, ...) in
 * schema_versions(component, version): version v means steps 0..v-1 ran. A
 * migration applies the missing steps and the new version in one
 * transaction, so a failing step leaves the database as it was.
 *
 * The database holds host and guest names, the migration history and the
 * lock holder: a folder it creates is 0700 and a file it creates 0600,
 * whatever the umask (SQLite gives the -wal and -shm files the database
 * file's mode). Existing files and folders keep their modes.
 *
 * This is the one file (with scheduler/journal.c) that speaks
 * sqlite3_errmsg: every failure becomes VB_ERROR_DATABASE naming the path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "collectors/collectors.h"

#define VB_STORE_BUSY_TIMEOUT_MS 5000

struct _VbStore {
    char *path;            /* as given to vb_store_open() */
    sqlite3 *db;           /* open connection, or NULL while half-built */
    GHashTable *stmts;     /* SQL text -> sqlite3_stmt * (owned) */
    GHashTable *data;      /* key -> what a component keeps beside the connection */
};

gboolean
vb_store_error(VbStore *store, GError **error, const char *what)
{
    g_set_error(error, VB_ERROR, VB_ERROR_DATABASE, "%s: %s: %s", store->path, what,
                store->db ? sqlite3_errmsg(store->db) : "no database");
    return FALSE;
}

static void
stmt_finalize(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

/* Whether @path names a file of its own (not :memory:, a URI or "", the
 * temporary database). */
static gboolean
store_is_file(const char *path)
{
    return *path && strcmp(path, ":memory:") != 0 && !g_str_has_prefix(path, "file:");
}

/* Creates the folder that will hold @path (0700, with any missing parents),
 * when it is a file path. */
static gboolean
store_make_parent(const char *path, GError **error)
{
    g_autofree char *dir = NULL;

    if (!store_is_file(path))
        return TRUE;
    dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int err = errno;

        g_set_error(error, VB_ERROR, VB_ERROR_IO, "%s: cannot create folder %s: %s",
                    path, dir, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Creates @path empty and 0600 when it does not exist, so that SQLite (which
 * creates files 0644 less the umask) finds it there; an empty file is a new
 * database to SQLite. Defensive: a failure here is left for sqlite3_open_v2
 * to report with its own words, as before. */
static void
store_precreate(const char *path)
{
    int fd;

    if (!store_is_file(path))
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

/* What vb_store_set_data() keeps: the data and how to free it. */
typedef struct {
    gpointer data;
    GDestroyNotify destroy;
} StoreData;

static void
store_data_free(gpointer p)
{
    StoreData *d = p;

    if (d->destroy)
        d->destroy(d->data);
    g_free(d);
}

static const char store_setup_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS schema_versions ("
    "  component TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL);";

VbStore *
vb_store_open(const char *path, GError **error)
{
    g_autoptr(VbStore) store = g_new0(VbStore, 1);
    int rc;

    g_return_val_if_fail(path != NULL, NULL);
    store->path = g_strdup(path);
    store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stmt_finalize);
    store->data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, store_data_free);
    if (!store_make_parent(path, error))
        return NULL;
    store_precreate(path);
    /* NOMUTEX: a store is used by one thread at a time (its statement
     * cache is a plain hash table), so SQLite's per-connection mutex only
     * costs: a lock and unlock on every bind and step, about 8 % of the
     * instructions of a sample (callgrind, docs/benchmarks.md). */
    rc = sqlite3_open_v2(path, &store->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                             SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        vb_store_error(store, error, "cannot open database");
        return NULL;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, VB_STORE_BUSY_TIMEOUT_MS);
    /* The first statement is what really touches the file: an unwritable
     * folder or a file that is not a database shows here. */
    if (!vb_store_exec(store, store_setup_sql, error))
        return NULL;
    g_debug("store %s open", path);
    return g_steal_pointer(&store);
}

void
vb_store_free(VbStore *store)
{
    if (!store)
        return;
    if (store->data)
        g_hash_table_destroy(store->data);
    /* Statements first: sqlite3_close() refuses while some are alive. */
    if (store->stmts)
        g_hash_table_destroy(store->stmts);
    if (store->db)
        sqlite3_close(store->db);
    g_free(store->path);
    g_free(store);
}

const char *
vb_store_path(const VbStore *store)
{
    return store->path;
}

sqlite3 *
vb_store_db(VbStore *store)
{
    return store->db;
}

void
vb_store_set_data(VbStore *store, const char *key, gpointer data, GDestroyNotify destroy)
{
    StoreData *d;

    if (!data) {
        g_hash_table_remove(store->data, key);
        return;
    }
    d = g_new0(StoreData, 1);
    d->data = data;
    d->destroy = destroy;
    g_hash_table_replace(store->data, g_strdup(key), d);
}

gpointer
vb_store_get_data(VbStore *store, const char *key)
{
    StoreData *d = g_hash_table_lookup(store->data, key);

    return d ? d->data : NULL;
}

gboolean
vb_store_data_version(VbStore *store, gint64 *ret_version, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, "PRAGMA data_version", error);

    if (!stmt)
        return FALSE;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return vb_store_error(store, error, "cannot read the data version");
    }
    *ret_version = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean
vb_store_exec(VbStore *store, const char *sql, GError **error)
{
    char *msg = NULL;

    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, VB_ERROR, VB_ERROR_DATABASE, "%s: %s", store->path,
                    msg ? msg : sqlite3_errmsg(store->db));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

sqlite3_stmt *
vb_store_prepare(VbStore *store, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(store->stmts, sql);

    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        vb_store_error(store, error, "cannot prepare statement");
        return NULL;
    }
    g_hash_table_insert(store->stmts, g_strdup(sql), stmt);
    return stmt;
}

gboolean
vb_store_step_done(VbStore *store, sqlite3_stmt *stmt, GError **error)
{
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        vb_store_error(store, error, "cannot write");
        sqlite3_reset(stmt);
        return FALSE;
    }
    sqlite3_reset(stmt);
    return TRUE;
}

gboolean
vb_store_begin(VbStore *store, GError **error)
{
    return vb_store_exec(store, "BEGIN IMMEDIATE", error);
}

gboolean
vb_store_commit(VbStore *store, GError **error)
{
    return vb_store_exec(store, "COMMIT", error);
}

void
vb_store_rollback(VbStore *store)
{
    /* Defensive: nothing to undo when no transaction is open (sqlite may
     * already have rolled back on its own after some errors). */
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------- migrations */

gboolean
vb_store_schema_version(VbStore *store, const char *component, guint *ret_version,
                        GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store, "SELECT version FROM schema_versions WHERE component = ?1", error);
    guint version = 0;
    int rc;

    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, component, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        version = (guint) sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE) {
        vb_store_error(store, error, "cannot read schema version");
        sqlite3_reset(stmt);
        return FALSE;
    }
    sqlite3_reset(stmt);
    *ret_version = version;
    return TRUE;
}

static gboolean
store_set_version(VbStore *store, const char *component, guint version, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "INSERT INTO schema_versions(component, version) VALUES (?1, ?2)"
        " ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_text(stmt, 1, component, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, version);
    return vb_store_step_done(store, stmt, error);
}

/* Runs steps [from, n_steps) and records the version; inside a transaction. */
static gboolean
store_apply_steps(VbStore *store, const char *component, const char *const *steps,
                  guint from, guint n_steps, GError **error)
{
    for (guint i = from; i < n_steps; i++) {
        g_autoptr(GError) step_error = NULL;

        if (!vb_store_exec(store, steps[i], &step_error)) {
            g_set_error(error, VB_ERROR, VB_ERROR_DATABASE,
                        "%s (schema of %s, step %u of %u)", step_error->message, component,
                        i + 1, n_steps);
            return FALSE;
        }
    }
    return store_set_version(store, component, n_steps, error);
}

gboolean
vb_store_migrate(VbStore *store, const char *component, const char *const *steps,
                 guint n_steps, GError **error)
{
    guint version;

    g_return_val_if_fail(component != NULL, FALSE);
    if (!vb_store_begin(store, error))
        return FALSE;
    /* Read inside the transaction: two processes migrating at once must not
     * both apply the same step. */
    if (!vb_store_schema_version(store, component, &version, error)) {
        vb_store_rollback(store);
        return FALSE;
    }
    if (version > n_steps) {
        vb_store_rollback(store);
        g_set_error(error, VB_ERROR, VB_ERROR_DATABASE,
                    "%s: the %s schema is at version %u, newer than this virt-balancer "
                    "knows (%u); use a newer virt-balancer or another database",
                    store->path, component, version, n_steps);
        return FALSE;
    }
    if (version == n_steps) {
        vb_store_rollback(store);
        return TRUE;
    }
    if (!store_apply_steps(store, component, steps, version, n_steps, error) ||
        !vb_store_commit(store, error)) {
        vb_store_rollback(store);
        return FALSE;
    }
    g_debug("%s: %s schema %u -> %u", store->path, component, version, n_steps);
    return TRUE;
}
