/*
 * history-priv.h: what the history's files (history.c, history-cache.c,
 * history-rollup.c) share; nothing outside collectors/ includes it.
 */
#pragma once

#include "collectors/collectors.h"

/* Width of the aggregate buckets, per level (raw samples have none). */
#define VB_HISTORY_FIVE_MIN_US ((gint64) 300 * G_USEC_PER_SEC)
#define VB_HISTORY_HOUR_US ((gint64) 3600 * G_USEC_PER_SEC)

/* The aggregate columns, in the order every rollup writes them. */
#define VB_HISTORY_HOST_AGG_COLUMNS                                                        \
    "(level, bucket_us, host, n_samples, n_up, cpu_us, cpu_min, cpu_mean, cpu_max,"         \
    " memory_used_min, memory_used_mean, memory_used_max, memory_total_mib,"               \
    " storage_used_min, storage_used_mean, storage_used_max, storage_total_gib)"
#define VB_HISTORY_VM_AGG_COLUMNS                                                          \
    "(level, bucket_us, vm, host, n_samples, cpu_us, cpu_min, cpu_mean, cpu_max, rss_min,"  \
    " rss_mean, rss_max)"

/* An open bucket of an aggregate level: per host and per guest on a host,
 * what its aggregate row is made of (history-acc.c). */
typedef struct VbHistoryBucket VbHistoryBucket;
/* An accumulator of a host, or of a guest on a host, in a bucket. */
typedef struct VbHistoryAcc VbHistoryAcc;

/* The counters of the newest raw row of a host, or of a guest on a host:
 * what the next sample takes its deltas against. */
typedef struct {
    guint64 key;          /* host id, or guest id << 32 | host id (hash key) */
    gint64 sample;        /* the row's sample id */
    gint64 mono_us;       /* the driver's clock at that row */
    guint64 busy_ns;      /* host: cpu_busy_ns; guest: cpu_time_ns */
    guint64 total_ns;     /* host: cpu_total_ns; guest: 0 */
    gboolean up;          /* host up, guest running */
    /* The key's accumulator in the 5-minute bucket numbered acc_serial
     * (VbHistoryCache.serials), so that a row finds it without a hash
     * lookup; stale when that bucket is no longer the current one. */
    guint64 acc_serial;
    VbHistoryAcc *acc;
} VbHistoryLast;

/* The names and newest counters of the history, kept beside the store's
 * connection so that recording a sample is one insert per row and no read:
 * valid while no other connection has committed (PRAGMA data_version),
 * reloaded from the raw rows otherwise. */
typedef struct {
    gint64 data_version;  /* of the database when loaded or last synced */
    gint64 min_sample;    /* raw rows of older samples were pruned: ignore them */
    GHashTable *host_ids; /* host name (owned) -> id (GUINT_TO_POINTER) */
    GHashTable *vm_ids;   /* guest name (owned) -> id */
    GHashTable *last;     /* &VbHistoryLast.key -> VbHistoryLast (owned) */
    /* Per aggregate level: the open buckets (VbHistoryBucket, owned), and
     * the first bucket whose every row went through them. */
    GPtrArray *open[VB_HISTORY_LEVEL_LAST];
    gint64 complete_from[VB_HISTORY_LEVEL_LAST];
    /* Per aggregate level: buckets closed and not yet all written, oldest
     * first (VbHistoryBucket, owned). */
    GPtrArray *closing[VB_HISTORY_LEVEL_LAST];
    VbHistoryBucket *cur; /* the 5-minute bucket of the sample being written */
    VbHistoryBucket *late; /* rows of a sample into a closing bucket: ignored (owned) */
    guint64 serials;      /* 5-minute buckets numbered so far (VbHistoryLast.acc_serial) */
} VbHistoryCache;

/* The store's cache, loaded or reloaded when another connection wrote
 * (transfer none; owned by the store). Call inside the write transaction, so
 * that nobody else writes between the check and the caller's commit. NULL
 * with VB_ERROR_DATABASE when the history cannot be read. */
VbHistoryCache *vb_history_cache_get(VbStore *store, GError **error);
/* The store's cache when it is valid (no other connection wrote since it
 * was loaded), without loading it (transfer none); NULL otherwise, and a
 * stale cache is dropped. VB_ERROR_DATABASE when the version cannot be
 * read. */
gboolean vb_history_cache_peek(VbStore *store, VbHistoryCache **ret_cache, GError **error);
/* Forgets the store's cache (after a rollback, or names deleted). */
void vb_history_cache_drop(VbStore *store);
/* The id of host (@vm FALSE) or guest @name in @ret_id, inserted into its
 * name table when new. VB_ERROR_DATABASE on failure. */
gboolean vb_history_cache_id(VbStore *store, VbHistoryCache *cache, gboolean vm,
                             const char *name, guint *ret_id, GError **error);
/* The newest counters under @key (transfer none), to read as the previous
 * row and overwrite with the new one: a zeroed entry when there is none,
 * and @ret_found says whether there was (not pruned). */
VbHistoryLast *vb_history_cache_slot(VbHistoryCache *cache, guint64 key, gboolean *ret_found);
/* Notes that raw rows of samples below @bound are gone; drops their counters. */
void vb_history_cache_pruned(VbStore *store, gint64 bound);

/* Notes that names were deleted: reloads the cache's names. */
void vb_history_cache_names_pruned(VbStore *store);

/* The hash of a VbHistoryLast or accumulator key (guint64 *). */
guint vb_history_key_hash(gconstpointer key);

/* ---------------------------------------------- accumulators (history-acc.c) */

void vb_history_bucket_free(VbHistoryBucket *b);
/* Sets which buckets @cache's accumulators hold whole, once loaded from a
 * database whose newest sample is at @latest_us (0: none) and whose
 * 5-minute level is rolled up to @five_min_done_us (0: never). */
void vb_history_acc_loaded(VbHistoryCache *cache, gint64 latest_us, gint64 five_min_done_us);
/* Starts adding the rows of a sample taken at @time_us. */
void vb_history_acc_sample(VbHistoryCache *cache, gint64 time_us);
/* Adds a host row of the current sample (its CPU usage when @have_cpu);
 * @slot is the host's (vb_history_cache_slot()), whose accumulator fields
 * this keeps. */
void vb_history_acc_host(VbHistoryCache *cache, VbHistoryLast *slot, const VbHostSample *hs,
                         gboolean have_cpu, double usage, gint64 interval_us);
/* Adds a guest row of the current sample (@slot: the guest-on-host's, whose
 * key is vb_history_vm_key()). */
void vb_history_acc_vm(VbHistoryCache *cache, VbHistoryLast *slot, gboolean have_cpu,
                       double usage, gint64 interval_us, guint64 rss_mib);
/* The current sample wrote a row over another of its own (same host, or
 * same guest on a host): its bucket goes to SQL. */
void vb_history_acc_repeated(VbHistoryCache *cache);
/* Samples over which the rows of a closed bucket are written, a share
 * each, when spreading: writing 200,000 guest rows at once costs as much
 * as the sample itself; an eighth of them, about a tenth. An hour's rows
 * (each also marks its name's seen_us) go over more samples: the next
 * hour is 120 samples away at 30 s, and the shares of both levels add up
 * on a sample. */
#define VB_HISTORY_SPREAD 8
#define VB_HISTORY_SPREAD_HOUR 32

/* What vb_history_acc_roll() did. */
typedef struct {
    gboolean in_memory; /* FALSE: nothing; the SQL rollup is to do the range */
    gint64 done_us;     /* buckets before it are written whole */
    guint finished;     /* buckets whose last row was written */
} VbHistoryRolled;

/* Closes the buckets of @level in [@from, @to) inside the caller's
 * transaction when @cache holds them whole: writes their rows from the
 * accumulators, with @spread only a share of each closed bucket per call
 * (VB_HISTORY_SPREAD, VB_HISTORY_SPREAD_HOUR), the rest on the next calls. Otherwise leaves the
 * range to the SQL rollup, forgetting what the accumulators had of it and
 * noting what that costs the level above. @cache may be NULL (SQL).
 * VB_ERROR_DATABASE when a row cannot be written. */
gboolean vb_history_acc_roll(VbStore *store, VbHistoryCache *cache, VbHistoryLevel level,
                             gint64 from, gint64 to, gboolean spread, VbHistoryRolled *ret,
                             GError **error);
/* The start of the oldest bucket of @level closed but not all written
 * (G_MAXINT64 when none, or @cache NULL): what it is made of must stay. */
gint64 vb_history_acc_pending_from(const VbHistoryCache *cache, VbHistoryLevel level);

/* Rolls up to @now_us (the newest sample) and prunes (vb_history_prune)
 * inside the caller's transaction, names too when @names; @pruned is added
 * to; closed buckets come from @cache's accumulators where it holds them
 * whole (@cache may be NULL: all by SQL), spread over calls with @spread
 * (the collector's path) or all at once; the raw level's id bound goes in
 * @ret_bound (0 when no sample went). After the commit, call vb_history_pruned_committed(). */
gboolean vb_history_rollup_and_prune(VbStore *store, VbHistoryCache *cache, gint64 now_us,
                                     const VbHistoryRetention *keep, gboolean names,
                                     gboolean spread,
                                     VbHistoryPruned *pruned, gint64 *ret_bound,
                                     GError **error);
/* Tells the cache what a committed prune deleted. */
void vb_history_pruned_committed(VbStore *store, const VbHistoryPruned *pruned, gint64 bound);

/* One integer from @sql (?1 and ?2 bound to @a and @b as far as it uses
 * them) in @ret, unchanged when the result is NULL so the caller's default
 * stays. VB_ERROR_DATABASE when it cannot be read. */
gboolean vb_history_query_int64(VbStore *store, const char *sql, gint64 a, gint64 b,
                                gint64 *ret, GError **error);

/* Carries the rows a version 1 database still holds in host_samples and
 * vm_samples into the raw tables, oldest first, a chunk per transaction,
 * then drops those tables; nothing to do on other databases. */
gboolean vb_history_carry_v1(VbStore *store, GError **error);

/* The key of a guest's counters on a host. */
static inline guint64
vb_history_vm_key(guint vm_id, guint host_id)
{
    return ((guint64) vm_id << 32) | host_id;
}
