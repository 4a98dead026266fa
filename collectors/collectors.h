/*
 * collectors.h: measured load and its history.
 *
 * Three parts:
 * - VbStore, the SQLite database shared by the history (component "history")
 *   and the scheduler's journal (component "journal"): WAL mode, a busy
 *   timeout, cached prepared statements, and schema migrations versioned per
 *   component in the table schema_versions(component, version).
 * - the history: every sample of every host and guest, turned from raw
 *   counters (drivers.h: VbSampleSet) into usage figures by the deltas between
 *   consecutive samples, kept raw as long as the planning window needs it and
 *   rolled up into 5-minute and hourly aggregates kept for the retention.
 * - the collector: samples a driver connection into the history, and gives
 *   planners a snapshot whose measured load is the average over the
 *   configured window, with a report of the window it used.
 *
 * Only store.c (and scheduler/journal.c) speak sqlite3_errmsg; everything
 * else sees VB_ERROR_DATABASE with the database path in the message.
 * Times are unix microseconds (the samples' wall clock) unless named _s.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "drivers/drivers.h"
#include "pool/pool.h"
#include "util/util.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ store */

typedef struct _VbStore VbStore;

/* Opens (creating when missing, with its parent folders) the database at
 * @path, or an in-memory one for ":memory:" (transfer full). Sets WAL mode,
 * a busy timeout and foreign keys, and creates schema_versions. On failure
 * returns NULL with VB_ERROR_DATABASE ("PATH: cannot open database: ...") or
 * VB_ERROR_IO when the folder cannot be created. A store is not thread-safe:
 * one thread at a time (SQLite's connection mutex is off). */
VbStore *vb_store_open(const char *path, GError **error);
/* Finalizes every cached statement and closes. Accepts NULL. */
void vb_store_free(VbStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbStore, vb_store_free)

/* The database path as given (transfer none). */
const char *vb_store_path(const VbStore *store);
/* The raw handle, for the journal (transfer none; do not close it). */
sqlite3 *vb_store_db(VbStore *store);

/* Brings @component's schema up to @n_steps: runs steps[v] .. steps[n-1]
 * (each an SQL script, several statements allowed) where v is the version
 * recorded for @component, all in one transaction together with the new
 * version number. Re-running is a no-op. On failure nothing is applied, the
 * recorded version is unchanged, and @error (VB_ERROR_DATABASE) names the
 * path, the component and the failing step. A database newer than @n_steps
 * is refused (it was written by a newer virt-balancer). */
gboolean vb_store_migrate(VbStore *store, const char *component,
                          const char *const *steps, guint n_steps, GError **error);
/* The version recorded for @component (0 when none) in @ret_version. */
gboolean vb_store_schema_version(VbStore *store, const char *component,
                                 guint *ret_version, GError **error);

/* Keeps @data beside the connection under @key (the history's caches),
 * freed with @destroy when replaced, when set to NULL, or when the store is
 * freed (transfer full). */
void vb_store_set_data(VbStore *store, const char *key, gpointer data,
                       GDestroyNotify destroy);
/* What vb_store_set_data() keeps under @key (transfer none), or NULL. */
gpointer vb_store_get_data(VbStore *store, const char *key);
/* SQLite's PRAGMA data_version in @ret_version: it changes when another
 * connection (another process, or another store on the same file) commits,
 * never for this connection's own commits. */
gboolean vb_store_data_version(VbStore *store, gint64 *ret_version, GError **error);

/* Runs an SQL script (no results). VB_ERROR_DATABASE on failure. */
gboolean vb_store_exec(VbStore *store, const char *sql, GError **error);
/* A prepared statement for @sql, cached by the store (transfer none): it is
 * reset and its bindings cleared on every call, and finalized by
 * vb_store_free(). NULL with VB_ERROR_DATABASE when @sql does not compile. */
sqlite3_stmt *vb_store_prepare(VbStore *store, const char *sql, GError **error);
/* Steps @stmt to the end (for statements without results). */
gboolean vb_store_step_done(VbStore *store, sqlite3_stmt *stmt, GError **error);
/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails
 * visibly: it is the error path). */
gboolean vb_store_begin(VbStore *store, GError **error);
gboolean vb_store_commit(VbStore *store, GError **error);
void vb_store_rollback(VbStore *store);
/* Sets @error to VB_ERROR_DATABASE "PATH: WHAT: <sqlite's message>" and
 * returns FALSE; for code that uses vb_store_db() directly. */
gboolean vb_store_error(VbStore *store, GError **error, const char *what);

/* ---------------------------------------------------------------- deltas */

/* Host CPU usage over an interval: delta busy / delta total, clamped to
 * 0..1. FALSE (nothing written) when a counter went backwards (the host
 * rebooted) or no time passed: that interval is skipped. */
gboolean vb_usage_host_cpu(guint64 prev_busy_ns, guint64 prev_total_ns,
                           guint64 busy_ns, guint64 total_ns, double *ret_usage);
/* Guest CPU usage over an interval: delta cpu_time / (elapsed * vcpus),
 * clamped to 0..1. FALSE when the counter went backwards (the guest
 * restarted), elapsed is not positive, or vcpus is 0. */
gboolean vb_usage_vm_cpu(guint64 prev_cpu_ns, guint64 cpu_ns, gint64 elapsed_us,
                         guint vcpus, double *ret_usage);

/* --------------------------------------------------------------- history */

/* The schema steps of the "history" component (see docs/collectors.md). */
extern const char *const vb_history_schema[];
extern const guint vb_history_schema_n_steps;

/* Applies the history schema to @store (vb_store_migrate); a database of an
 * older version is upgraded in place, its rows carried over. */
gboolean vb_history_init(VbStore *store, GError **error);
/* Records one sample set: one raw row per host and per guest, with usage from
 * the deltas against each one's previous raw row (NULL usage when there is no
 * previous row or the counters were reset). One transaction. The rows also
 * go into the in-memory accumulators of their 5-minute bucket, which only a
 * rollup (vb_history_prune, vb_history_record_and_prune with a retention)
 * closes: a caller that records and never rolls up holds every bucket in
 * memory (the collector always rolls up). */
gboolean vb_history_record(VbStore *store, const VbSampleSet *set, GError **error);

/* The levels of the history, finest first: raw samples, then 5-minute and
 * hourly aggregates (count, min/mean/max per metric) rolled up from the
 * level below. */
typedef enum {
    VB_HISTORY_RAW,
    VB_HISTORY_FIVE_MIN,
    VB_HISTORY_HOUR,
    VB_HISTORY_LEVEL_LAST
} VbHistoryLevel;

/* How long each level is kept, in seconds before the newest sample. */
typedef struct {
    guint keep_seconds[VB_HISTORY_LEVEL_LAST];
} VbHistoryRetention;

/* What vb_history_prune() deleted. */
typedef struct {
    guint samples;                      /* raw samples */
    guint rows[VB_HISTORY_LEVEL_LAST];  /* host and guest rows, per level */
    guint names;                        /* host and guest names no row used */
    /* Rollup passes per aggregate level: from the rows consolidated in
     * memory as they were written, or by SQL from the level below
     * (catch-up: buckets partly written before the process loaded its
     * cache, by another process, or during an upgrade). */
    guint rolled_in_memory[VB_HISTORY_LEVEL_LAST];
    guint rolled_by_sql[VB_HISTORY_LEVEL_LAST];
} VbHistoryPruned;

/* The retention of each level for a planning window and the configured
 * retention (docs/collectors.md): raw rows for the window plus a margin
 * (the window again, at least 10 minutes), 5-minute aggregates for a day
 * (at most the retention, at least an hour), hourly ones for the retention.
 * Can't fail. */
void vb_history_retention_init(VbHistoryRetention *keep, guint window_seconds,
                               guint retention_seconds);
/* Rolls up every bucket the newest sample has passed into the level above,
 * then deletes, per level, what is older than @now_us minus its retention:
 * raw samples (with their rows) before the first sample at or after the
 * cutoff, buckets that ended before it; names no row uses any more go with
 * the hourly pass. One transaction; on failure nothing changes. What was
 * deleted goes in @ret_pruned (may be NULL). */
gboolean vb_history_prune(VbStore *store, gint64 now_us, const VbHistoryRetention *keep,
                          VbHistoryPruned *ret_pruned, GError **error);
/* What the collector does after each sample, in one transaction: records
 * @set (vb_history_record), then rolls up and prunes counted back from the
 * newest sample (vb_history_prune); @keep NULL only records. On failure
 * nothing changes. */
gboolean vb_history_record_and_prune(VbStore *store, const VbSampleSet *set,
                                     const VbHistoryRetention *keep,
                                     VbHistoryPruned *ret_pruned, GError **error);
/* The time of the newest sample in @ret_time_us (0 when there is none). */
gboolean vb_history_latest_time(VbStore *store, gint64 *ret_time_us, GError **error);

/* Load figures of a host. */
typedef struct {
    double cpu;               /* 0..1 of its cores; < 0 when unknown */
    double memory_used_mib;   /* total - free */
    double memory_total_mib;
    double storage_used_gib;  /* total - free */
    double storage_total_gib;
} VbLoad;

/* What one host looked like: latest sample and averages over a window. */
typedef struct {
    char *host;               /* owned */
    gboolean up;              /* in the latest sample */
    char *reason;             /* why down (owned), or NULL */
    gint64 time_us;           /* of the latest sample */
    VbLoad latest;            /* cpu from the latest interval */
    VbLoad average;           /* over the window's up samples */
    double cpu_stddev;        /* time-weighted std dev of cpu over the window;
                               * < 0 unknown (fewer than 3 intervals) */
    guint n_vms;              /* guests in the latest sample */
    guint n_running;          /* of which running */
    guint n_samples;          /* up samples in the window */
    guint n_intervals;        /* of which with a CPU figure */
    gint64 first_us, last_us; /* oldest and newest sample in the window */
} VbHostHistory;

/* A guest's CPU average over the window. */
typedef struct {
    char *vm;                 /* owned */
    char *host;               /* where its latest sample saw it (owned) */
    double cpu;               /* 0..1 of its vCPUs, time-weighted; < 0 unknown */
    guint n_intervals;        /* intervals with a CPU figure */
} VbVmHistory;

/* The window a set of averages covers. */
typedef struct {
    guint window_seconds;     /* configured */
    gint64 end_us;            /* newest sample */
    gint64 start_us;          /* oldest sample used (0 when none) */
    guint n_samples;          /* sample times in [start, end] */
} VbWindow;

void vb_host_history_free(VbHostHistory *h);
void vb_vm_history_free(VbVmHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbHostHistory, vb_host_history_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbVmHistory, vb_vm_history_free)

/* Per host (sorted by name; transfer full GPtrArray of VbHostHistory *) and
 * per guest (VbVmHistory *) figures over the samples in
 * (@end_us - @window_seconds, @end_us]; @end_us 0 means the newest sample.
 * CPU averages are weighted by interval length; memory and storage are the
 * plain mean of the up samples. @ret_window (may be NULL) gets the window. */
GPtrArray *vb_history_hosts(VbStore *store, gint64 end_us, guint window_seconds,
                            VbWindow *ret_window, GError **error);
GPtrArray *vb_history_vms(VbStore *store, gint64 end_us, guint window_seconds,
                          GError **error);

/* Min, mean and max of one metric over a bucket; NAN where nothing was
 * measured. */
typedef struct {
    double min, mean, max;
} VbStat;

/* One row of an aggregate level. */
typedef struct {
    char *host;              /* owned */
    char *vm;                /* owned; NULL for a host's row */
    gint64 bucket_us;        /* start of the bucket */
    guint n_samples;         /* raw samples it sums up */
    guint n_up;              /* of which the host was up (hosts only) */
    VbStat cpu;              /* 0..1, means weighted by interval length */
    VbStat memory_mib;       /* host: used; guest: RSS */
    VbStat storage_used_gib; /* hosts only */
} VbAggregate;

void vb_aggregate_free(VbAggregate *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbAggregate, vb_aggregate_free)

/* The rows of @level (VB_HISTORY_FIVE_MIN or VB_HISTORY_HOUR) whose bucket
 * starts in [@from_us, @to_us), hosts then guests, each by bucket and name
 * (transfer full GPtrArray of VbAggregate *). */
GPtrArray *vb_history_aggregates(VbStore *store, VbHistoryLevel level, gint64 from_us,
                                 gint64 to_us, GError **error);

/* ------------------------------------------------------------- collector */

typedef struct _VbCollector VbCollector;

/* A collector over an open connection (all borrowed; they must outlive it).
 * Initializes the history schema in @store. NULL with an error when that
 * fails. Window and retention come from @config. */
VbCollector *vb_collector_new(VbConn *conn, const VbDriverOps *ops, VbStore *store,
                              const VbConfig *config, GError **error);
void vb_collector_free(VbCollector *collector);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCollector, vb_collector_free)

/* Seconds between the two samples taken when there is no history yet
 * (default 3; on the driver's clock, so the sim driver does not wait). */
void vb_collector_set_bootstrap_gap(VbCollector *collector, double seconds);

/* Samples every host once into the history and prunes past retention. */
gboolean vb_collector_sample(VbCollector *collector, GError **error);

/* The driver's snapshot with measured load (hosts' cpu_usage,
 * memory_used_mib, storage_free_gib; guests' cpu_usage) replaced by the
 * averages over the window (transfer full). When the newest sample is older
 * than config->sample_interval_seconds (or the window), samples first; when
 * the window then holds no CPU interval yet, samples once more a bootstrap
 * gap later (vb_collector_refresh). Hosts down in
 * the snapshot keep their state and reason. @ret_window (may be NULL) gets
 * the window used. */
VbInventory *vb_collector_snapshot(VbCollector *collector, VbWindow *ret_window,
                                   GError **error);

/* Samples now, and when that leaves no CPU interval in the window (no
 * earlier sample to take a delta against), once more a bootstrap gap later:
 * afterwards the history holds a fresh latest sample and, unless every host
 * is down, usage figures. For `status`. */
gboolean vb_collector_refresh(VbCollector *collector, GError **error);

/* One-call form: a collector for one snapshot. */
VbInventory *vb_collect_snapshot(VbConn *conn, const VbDriverOps *ops, VbStore *store,
                                 const VbConfig *config, VbWindow *ret_window,
                                 GError **error);

/* Environment variable overriding the bootstrap gap in seconds (tests, labs). */
#define VB_COLLECTOR_GAP_ENV "VIRT_BALANCER_SAMPLE_GAP"

/* Opens the store @config names (config->database; an in-memory one when it
 * is NULL), with the history schema in place (transfer full). */
VbStore *vb_store_open_for_config(const VbConfig *config, GError **error);
/* A collector for the CLI: @config's window and retention, the bootstrap gap
 * from VB_COLLECTOR_GAP_ENV when set (transfer full). */
VbCollector *vb_collector_new_for_config(VbConn *conn, const VbDriverOps *ops,
                                         VbStore *store, const VbConfig *config,
                                         GError **error);
/* What `plan --config` uses: opens config->database, and returns the
 * driver's snapshot with window averages (vb_collector_snapshot). */
VbInventory *vb_collect_snapshot_for_config(VbConn *conn, const VbDriverOps *ops,
                                            const VbConfig *config, VbWindow *ret_window,
                                            GError **error);

/* ---------------------------------------------------------------- sessions */

/* Window and retention used when there is no config (--inventory runs). */
#define VB_COLLECT_DEFAULT_WINDOW_S 300
#define VB_COLLECT_DEFAULT_RETENTION_S (7 * 24 * 3600)

/* An open pool to collect from, for one command: connection, store and
 * collector, all owned. */
typedef struct {
    const VbDriverOps *ops;   /* the driver (static) */
    VbConn *conn;             /* closed with ops->close */
    VbStore *store;
    VbCollector *collector;
    guint window_seconds;     /* the window the collector averages over */
} VbCollectSession;

/* With @inventory (transfer full): a sim connection over it and an in-memory
 * database (`--inventory` runs; @config may be NULL for defaults). Without:
 * the driver @config names, opened on its pool, and its database. NULL with
 * the driver's or the store's error (VB_ERROR_INVALID_INPUT for an unknown
 * driver). The bootstrap gap honours VB_COLLECTOR_GAP_ENV. */
VbCollectSession *vb_collect_session_open(const VbConfig *config, VbInventory *inventory,
                                          GError **error);
/* Accepts NULL and half-open sessions. */
void vb_collect_session_free(VbCollectSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCollectSession, vb_collect_session_free)

/* "window 300 s: 12 samples over 287 s" (transfer full). */
char *vb_window_describe(const VbWindow *window);

G_END_DECLS
