/*
 * history-acc.c: the open buckets of the aggregate levels, consolidated in
 * memory as rows are written.
 *
 * Rolling a 5-minute bucket up with SQL reads every raw row of it again
 * (2,000,000 rows for 200,000 guests sampled every 30 s) and sorts them: a
 * few seconds on the sample that closes the bucket. Instead the writer adds
 * each row to the accumulators of its bucket (per host, per guest on a
 * host: count, min, max and the sums of the means), kept in the history's
 * cache (history-cache.c); closing the bucket sorts them, adds them to the
 * accumulators of the hour and writes them, on the collector's path a share
 * per sample (VB_HISTORY_SPREAD): 210,000 rows at once cost about as much as
 * the sample itself. The SQL rollup of
 * history-rollup.c stays for catch-up: buckets this cache has not seen
 * whole (written before the process started or reloaded its cache, by
 * another connection, or during an upgrade).
 *
 * Invariant (what "identical" means): an aggregate row written from the
 * accumulators holds the same values, bit for bit, as the SQL rollup would
 * compute from the same rows. So the arithmetic is SQLite's: counts and
 * integer sums exact, min and max keep the first of equals, and sums of
 * REAL values in the order SQLite's GROUP BY reads them (sample time, then
 * key), plainly before SQLite 3.43 and with its Kahan-Babuska-Neumaier
 * compensation from 3.43 on. A bucket whose rows did not arrive in that
 * order (a sample older than the previous one, a host or guest twice in a
 * sample) is marked and rolled up by SQL. tests/collectors-test.c
 * (test_rollup_paths) compares both paths row by row.
 *
 * A bucket's accumulators are complete when every row of it went through
 * them: for buckets at or after complete_from of their level. Buckets before
 * that (partly written before the cache was loaded) are rolled up by SQL.
 *
 * Workload: per host and guest, one hash lookup per bucket (its first row;
 * the history cache's entry of the key then keeps the accumulator); closing a bucket
 * checks its accumulators are in key order (they are made in it, nearly
 * always), merges them into the hour's (kept sorted by key) and appends one
 * row each over the next samples. Memory: about 130 bytes per guest per
 * open or closing bucket (a 5-minute and an hourly one, two of each while
 * one is being written).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "collectors/history-priv.h"

/* ---------------------------------------------------------- arithmetic */

/* How SQLite's sum() adds a REAL value: 3.43 introduced compensated
 * (Kahan-Babuska-Neumaier) summation. Asked of the library in use. */
static gboolean
sqlite_compensates(void)
{
    static gsize once;
    static gboolean kbn;

    if (g_once_init_enter(&once)) {
        kbn = sqlite3_libversion_number() >= 3043000;
        g_once_init_leave(&once, 1);
    }
    return kbn;
}

/* SQLite's kahanBabuskaNeumaierStep() (func.c), or its plain += before 3.43. */
static void
sum_add(double *sum, double *err, double r)
{
    volatile double s = *sum, t = s + r;

    if (sqlite_compensates()) {
        if (fabs(s) > fabs(r))
            *err += (s - t) + r;
        else
            *err += (r - t) + s;
    }
    *sum = t;
}

/* One metric of an accumulator: what its min, mean and max are made of. */
typedef struct {
    guint32 n;       /* values (not NULL): min and max are theirs */
    guint32 n_terms; /* terms of the sum (products not NULL) */
    gint64 weight;   /* the weights summed: the mean's divisor */
    double min, max; /* of the values, the first of equals */
    double sum, err; /* value x weight, summed as SQLite's sum() does */
} Stat;

static void
stat_add(Stat *st, double min, double max, gboolean have_mean, double mean, gint64 weight)
{
    if (st->n == 0 || min < st->min)
        st->min = min;
    if (st->n == 0 || max > st->max)
        st->max = max;
    st->n++;
    st->weight += weight;
    if (have_mean) {
        sum_add(&st->sum, &st->err, mean * (double) weight);
        st->n_terms++;
    }
}

/* The mean as SQL computes sum(value * weight) / sum(weight): NULL (FALSE)
 * without a term or with a zero divisor. */
static gboolean
stat_mean(const Stat *st, double *ret_mean)
{
    double s = st->sum;

    if (st->n_terms == 0 || st->weight == 0)
        return FALSE;
    if (sqlite_compensates() && isfinite(st->err))
        s += st->err;
    *ret_mean = s / (double) st->weight;
    return TRUE;
}

/* ------------------------------------------------------- accumulators */

/* The metrics of an accumulator, in the order of the aggregate columns. */
enum { ACC_CPU, ACC_MEM, ACC_MEM_TOTAL, ACC_DISK, ACC_DISK_TOTAL, ACC_HOST_LAST };
#define ACC_VM_LAST (ACC_MEM + 1) /* a guest has CPU and RSS (ACC_MEM) */

typedef struct VbHistoryAcc {
    guint64 key;        /* host id, or vb_history_vm_key() */
    gint64 n_samples;   /* rows */
    gint64 n_up;        /* of an up host (hosts only) */
    Stat stat[];        /* ACC_HOST_LAST for a host, ACC_VM_LAST for a guest */
} Acc;

struct VbHistoryBucket {
    gint64 bucket_us;   /* start */
    gint64 last_us;     /* newest sample time added */
    guint64 serial;     /* a 5-minute bucket's number, once current (never reused) */
    gboolean by_sql;    /* rows came out of SQL's order: roll up by SQL */
    GHashTable *hosts;  /* &Acc.key -> Acc (owned) */
    GHashTable *vms;
    /* Once closed: its rows in the tables' order, hosts then guests
     * (pointers into hosts/vms), how many are written, how many a call
     * writes. */
    GPtrArray *rows;
    guint next, budget;
    GPtrArray *made[2]; /* the host [0] and guest [1] accumulators, as made */
    GPtrArray *blocks;  /* where the accumulators are (owned): one malloc per block */
    gsize used;         /* bytes taken in the last block */
};

/* Accumulators come from blocks of this size: a bucket of 200,000 guests
 * takes 24 MB in 400 blocks rather than 200,000 allocations. */
#define ACC_BLOCK_BYTES ((gsize) 64 * 1024)

static const gint64 level_width[VB_HISTORY_LEVEL_LAST] = {
    [VB_HISTORY_FIVE_MIN] = VB_HISTORY_FIVE_MIN_US,
    [VB_HISTORY_HOUR] = VB_HISTORY_HOUR_US,
};

static VbHistoryBucket *
bucket_new(gint64 bucket_us)
{
    VbHistoryBucket *b = g_new0(VbHistoryBucket, 1);

    b->bucket_us = bucket_us;
    b->last_us = G_MININT64;
    b->hosts = g_hash_table_new(vb_history_key_hash, g_int64_equal);
    b->vms = g_hash_table_new(vb_history_key_hash, g_int64_equal);
    b->blocks = g_ptr_array_new_with_free_func(g_free);
    b->made[0] = g_ptr_array_new();
    b->made[1] = g_ptr_array_new();
    return b;
}

void
vb_history_bucket_free(VbHistoryBucket *b)
{
    if (!b)
        return;
    g_clear_pointer(&b->rows, g_ptr_array_unref);
    g_clear_pointer(&b->hosts, g_hash_table_destroy);
    g_clear_pointer(&b->vms, g_hash_table_destroy);
    g_clear_pointer(&b->blocks, g_ptr_array_unref);
    g_clear_pointer(&b->made[0], g_ptr_array_unref);
    g_clear_pointer(&b->made[1], g_ptr_array_unref);
    g_free(b);
}

/* The open bucket of @level starting at @bucket_us, made when absent. */
static VbHistoryBucket *
bucket_get(VbHistoryCache *cache, VbHistoryLevel level, gint64 bucket_us)
{
    GPtrArray *open = cache->open[level];
    VbHistoryBucket *b;

    for (guint i = 0; i < open->len; i++) {
        b = g_ptr_array_index(open, i);
        if (b->bucket_us == bucket_us)
            return b;
    }
    b = bucket_new(bucket_us);
    g_ptr_array_add(open, b);
    return b;
}

/* A zeroed accumulator of host (@vm FALSE) or guest-on-host @key, from
 * @b's blocks; the caller files it. */
static Acc *
acc_alloc(VbHistoryBucket *b, gboolean vm, guint64 key)
{
    gsize size = sizeof(Acc) + (vm ? ACC_VM_LAST : ACC_HOST_LAST) * sizeof(Stat);
    Acc *acc;

    G_STATIC_ASSERT(sizeof(Acc) % sizeof(gint64) == 0 && sizeof(Stat) % sizeof(gint64) == 0);
    if (b->blocks->len == 0 || b->used + size > ACC_BLOCK_BYTES) {
        g_ptr_array_add(b->blocks, g_malloc0(ACC_BLOCK_BYTES));
        b->used = 0;
    }
    acc = (Acc *) ((char *) g_ptr_array_index(b->blocks, b->blocks->len - 1) + b->used);
    b->used += size;
    acc->key = key;
    return acc;
}

/* The accumulator of host (@vm FALSE) or guest-on-host @key in 5-minute
 * bucket @b, made (zeroed) when absent. */
static Acc *
acc_get(VbHistoryBucket *b, gboolean vm, guint64 key)
{
    GHashTable *table = vm ? b->vms : b->hosts;
    Acc *acc = g_hash_table_lookup(table, &key);

    if (acc)
        return acc;
    acc = acc_alloc(b, vm, key);
    g_hash_table_insert(table, &acc->key, acc);
    g_ptr_array_add(b->made[vm], acc);
    return acc;
}

/* The accumulator of @slot's key in the current bucket: the one @slot
 * remembers when it is that bucket's, else acc_get()'s (remembered). */
static Acc *
acc_of_slot(VbHistoryCache *cache, gboolean vm, VbHistoryLast *slot)
{
    VbHistoryBucket *b = cache->cur;

    if (slot->acc_serial != b->serial) {
        slot->acc = acc_get(b, vm, slot->key);
        slot->acc_serial = b->serial;
    }
    g_assert(slot->acc->key == slot->key);
    return slot->acc;
}

static gint64
bucket_start(gint64 t_us, VbHistoryLevel level)
{
    return t_us - t_us % level_width[level];
}

void
vb_history_acc_loaded(VbHistoryCache *cache, gint64 latest_us, gint64 five_min_done_us)
{
    /* Whatever the database holds may belong to a bucket still open: the
     * raw rows up to the newest sample, the 5-minute rows before the
     * 5-minute level's done time. Those buckets go to SQL. */
    if (latest_us > 0)
        cache->complete_from[VB_HISTORY_FIVE_MIN] =
            bucket_start(latest_us, VB_HISTORY_FIVE_MIN) + VB_HISTORY_FIVE_MIN_US;
    if (MAX(latest_us, five_min_done_us - 1) > 0)
        cache->complete_from[VB_HISTORY_HOUR] =
            bucket_start(MAX(latest_us, five_min_done_us - 1), VB_HISTORY_HOUR) +
            VB_HISTORY_HOUR_US;
}

/* The closing bucket of @level starting at @bucket_us, or NULL. */
static VbHistoryBucket *
closing_get(VbHistoryCache *cache, VbHistoryLevel level, gint64 bucket_us)
{
    GPtrArray *closing = cache->closing[level];

    for (guint i = 0; i < closing->len; i++) {
        VbHistoryBucket *b = g_ptr_array_index(closing, i);

        if (b->bucket_us == bucket_us)
            return b;
    }
    return NULL;
}

void
vb_history_acc_sample(VbHistoryCache *cache, gint64 time_us)
{
    gint64 start = bucket_start(time_us, VB_HISTORY_FIVE_MIN);
    VbHistoryBucket *b;

    if (closing_get(cache, VB_HISTORY_FIVE_MIN, start)) {
        /* Late into a bucket closed and being written: left out, as from a
         * bucket rolled up (should the process stop before the bucket is
         * written whole, the SQL rollup that redoes it will count it). */
        g_clear_pointer(&cache->late, vb_history_bucket_free);
        cache->cur = cache->late = bucket_new(start);
        cache->late->serial = ++cache->serials;
        return;
    }
    b = bucket_get(cache, VB_HISTORY_FIVE_MIN, start);
    /* SQL reads a bucket's rows by sample time: an older sample after a
     * newer one would be summed in another order. */
    if (time_us < b->last_us)
        b->by_sql = TRUE;
    b->last_us = MAX(b->last_us, time_us);
    if (b->serial == 0)
        b->serial = ++cache->serials;
    cache->cur = b;
}

void
vb_history_acc_repeated(VbHistoryCache *cache)
{
    /* INSERT OR REPLACE kept one row of two: the accumulators saw both. */
    cache->cur->by_sql = TRUE;
}

void
vb_history_acc_host(VbHistoryCache *cache, VbHistoryLast *slot, const VbHostSample *hs,
                    gboolean have_cpu, double usage, gint64 interval_us)
{
    Acc *a = acc_of_slot(cache, FALSE, slot);

    a->n_samples++;
    if (have_cpu)
        stat_add(&a->stat[ACC_CPU], usage, usage, TRUE, usage, interval_us);
    if (!hs->up)
        return;
    a->n_up++;
    {
        double mem = (double) ((gint64) hs->memory_total_mib - (gint64) hs->memory_free_mib);
        double disk = hs->storage_total_gib - hs->storage_free_gib;
        double mem_total = (double) (gint64) hs->memory_total_mib;

        stat_add(&a->stat[ACC_MEM], mem, mem, TRUE, mem, 1);
        stat_add(&a->stat[ACC_MEM_TOTAL], mem_total, mem_total, TRUE, mem_total, 1);
        stat_add(&a->stat[ACC_DISK], disk, disk, TRUE, disk, 1);
        stat_add(&a->stat[ACC_DISK_TOTAL], hs->storage_total_gib, hs->storage_total_gib, TRUE,
                 hs->storage_total_gib, 1);
    }
}

void
vb_history_acc_vm(VbHistoryCache *cache, VbHistoryLast *slot, gboolean have_cpu,
                  double usage, gint64 interval_us, guint64 rss_mib)
{
    Acc *a = acc_of_slot(cache, TRUE, slot);
    double rss = (double) (gint64) rss_mib;

    a->n_samples++;
    if (have_cpu)
        stat_add(&a->stat[ACC_CPU], usage, usage, TRUE, usage, interval_us);
    stat_add(&a->stat[ACC_MEM], rss, rss, TRUE, rss, 1);
}

/* -------------------------------------------------------------- closing */

/* Adds a closed 5-minute row to its hour, as the hourly SQL rollup reads
 * it: each mean weighted by what it averaged. */
static void
acc_to_hour(Acc *hour, const Acc *a, guint n_stats)
{
    hour->n_samples += a->n_samples;
    hour->n_up += a->n_up;
    for (guint i = 0; i < n_stats; i++) {
        const Stat *st = &a->stat[i];
        gint64 w = i == ACC_CPU ? st->weight : n_stats == ACC_VM_LAST ? a->n_samples : a->n_up;
        double mean = 0.0;
        gboolean have = stat_mean(st, &mean);

        if (st->n > 0)
            stat_add(&hour->stat[i], st->min, st->max, have, mean, w);
    }
}

static void
bind_real(sqlite3_stmt *stmt, int col, gboolean have, double x)
{
    if (have)
        sqlite3_bind_double(stmt, col, x);
    else
        sqlite3_bind_null(stmt, col);
}

/* Binds min, mean, max of @st from column @col (min and max as integers
 * when @ints: the guest's RSS columns), or only the mean with @mean_only. */
static int
bind_stat(sqlite3_stmt *stmt, int col, const Stat *st, gboolean ints, gboolean mean_only)
{
    double mean = 0.0;
    gboolean have = stat_mean(st, &mean);

    if (mean_only) {
        bind_real(stmt, col, have, mean);
        return col + 1;
    }
    if (st->n > 0 && ints) {
        sqlite3_bind_int64(stmt, col, (gint64) st->min);
        sqlite3_bind_int64(stmt, col + 2, (gint64) st->max);
    } else {
        bind_real(stmt, col, st->n > 0, st->min);
        bind_real(stmt, col + 2, st->n > 0, st->max);
    }
    bind_real(stmt, col + 1, have, mean);
    return col + 3;
}

static int
bind_cpu(sqlite3_stmt *stmt, int col, const Stat *st)
{
    if (st->n > 0)
        sqlite3_bind_int64(stmt, col, st->weight);
    else
        sqlite3_bind_null(stmt, col);
    return bind_stat(stmt, col + 1, st, FALSE, FALSE);
}

static gboolean
write_host(VbStore *store, VbHistoryLevel level, gint64 bucket_us, const Acc *a, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "INSERT OR REPLACE INTO host_agg" VB_HISTORY_HOST_AGG_COLUMNS
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        error);
    int col;

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, level);
    sqlite3_bind_int64(stmt, 2, bucket_us);
    sqlite3_bind_int64(stmt, 3, (gint64) a->key);
    sqlite3_bind_int64(stmt, 4, a->n_samples);
    sqlite3_bind_int64(stmt, 5, a->n_up);
    col = bind_cpu(stmt, 6, &a->stat[ACC_CPU]);
    col = bind_stat(stmt, col, &a->stat[ACC_MEM], FALSE, FALSE);
    col = bind_stat(stmt, col, &a->stat[ACC_MEM_TOTAL], FALSE, TRUE);
    col = bind_stat(stmt, col, &a->stat[ACC_DISK], FALSE, FALSE);
    bind_stat(stmt, col, &a->stat[ACC_DISK_TOTAL], FALSE, TRUE);
    return vb_store_step_done(store, stmt, error);
}

static gboolean
write_vm(VbStore *store, VbHistoryLevel level, gint64 bucket_us, const Acc *a, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store,
        "INSERT OR REPLACE INTO vm_agg" VB_HISTORY_VM_AGG_COLUMNS
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, level);
    sqlite3_bind_int64(stmt, 2, bucket_us);
    sqlite3_bind_int64(stmt, 3, (gint64) (a->key >> 32));
    sqlite3_bind_int64(stmt, 4, (gint64) (a->key & G_MAXUINT32));
    sqlite3_bind_int64(stmt, 5, a->n_samples);
    bind_stat(stmt, bind_cpu(stmt, 6, &a->stat[ACC_CPU]), &a->stat[ACC_MEM], TRUE, FALSE);
    return vb_store_step_done(store, stmt, error);
}

static int
acc_cmp(const void *x, const void *y)
{
    guint64 a = (*(Acc *const *) x)->key, b = (*(Acc *const *) y)->key;

    return a < b ? -1 : a > b;
}

/* Sorts @accs by key, the tables' order. They were made in the order rows
 * came, and a sample writes its guests in key order, so they usually are
 * already: one pass says so. */
static void
sort_accs(GPtrArray *accs)
{
    for (guint i = 1; i < accs->len; i++)
        if (acc_cmp(&accs->pdata[i - 1], &accs->pdata[i]) > 0) {
            qsort(accs->pdata, accs->len, sizeof(gpointer), acc_cmp);
            return;
        }
}

/* Adds the accumulators @accs (sorted by key) of a closed 5-minute bucket
 * to @hour's, which stay sorted by key (made[], no hash table): one merge,
 * new keys getting a zeroed accumulator. */
static void
hour_merge(VbHistoryBucket *hour, gboolean vm, const GPtrArray *accs)
{
    GPtrArray *old = hour->made[vm];
    GPtrArray *merged = g_ptr_array_sized_new(old->len + accs->len);
    guint n_stats = vm ? ACC_VM_LAST : ACC_HOST_LAST, i = 0, j = 0;

    while (i < old->len || j < accs->len) {
        Acc *h = i < old->len ? g_ptr_array_index(old, i) : NULL;
        const Acc *a = j < accs->len ? g_ptr_array_index(accs, j) : NULL;

        if (a && (!h || a->key <= h->key)) {
            if (!h || a->key < h->key)
                h = acc_alloc(hour, vm, a->key);
            else
                i++;
            acc_to_hour(h, a, n_stats);
            j++;
        } else {
            i++;
        }
        g_ptr_array_add(merged, h);
    }
    g_ptr_array_unref(old);
    hour->made[vm] = merged;
}

/* Closes @b at @level: sorts its rows and, from the 5-minute level, adds
 * them to their hour (buckets close in time order, as the hourly SQL reads
 * them). */
static void
bucket_close(VbHistoryCache *cache, VbHistoryLevel level, VbHistoryBucket *b)
{
    GPtrArray *hosts = b->made[0], *vms = b->made[1];
    VbHistoryBucket *hour = NULL;
    guint spread;

    sort_accs(hosts);
    sort_accs(vms);
    if (level == VB_HISTORY_FIVE_MIN) {
        hour = bucket_get(cache, VB_HISTORY_HOUR, bucket_start(b->bucket_us, VB_HISTORY_HOUR));
        hour_merge(hour, FALSE, hosts);
        hour_merge(hour, TRUE, vms);
    }
    b->rows = g_ptr_array_sized_new(hosts->len + vms->len);
    for (guint i = 0; i < hosts->len; i++)
        g_ptr_array_add(b->rows, g_ptr_array_index(hosts, i));
    for (guint i = 0; i < vms->len; i++)
        g_ptr_array_add(b->rows, g_ptr_array_index(vms, i));
    spread = level == VB_HISTORY_HOUR ? VB_HISTORY_SPREAD_HOUR : VB_HISTORY_SPREAD;
    b->budget = MAX(1, (b->rows->len + spread - 1) / spread);
}

/* Marks host or guest @id (@vm) as seen by an hourly row ending at
 * @seen_us (names.seen_us: history-rollup.c prunes names by it), as the
 * SQL rollup's mark_hourly does for a whole range after it; here row by
 * row, with the row's share. A later hour marks it again. */
static gboolean
mark_seen(VbStore *store, gboolean vm, guint64 id, gint64 seen_us, GError **error)
{
    sqlite3_stmt *stmt = vb_store_prepare(store,
                                          vm ? "UPDATE vms SET seen_us = ?1 WHERE id = ?2"
                                             : "UPDATE hosts SET seen_us = ?1 WHERE id = ?2",
                                          error);

    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, seen_us);
    sqlite3_bind_int64(stmt, 2, (gint64) id);
    return vb_store_step_done(store, stmt, error);
}

/* Writes the next rows of closed @b (all of them unless @spread); TRUE in
 * @ret_finished once every row is written. */
static gboolean
bucket_write(VbStore *store, VbHistoryLevel level, VbHistoryBucket *b, gboolean spread,
             gboolean *ret_finished, GError **error)
{
    guint end = spread ? MIN(b->rows->len, b->next + b->budget) : b->rows->len;
    guint n_hosts = b->made[0]->len;

    for (; b->next < end; b->next++) {
        const Acc *a = g_ptr_array_index(b->rows, b->next);
        gboolean vm = b->next >= n_hosts;

        if (!(vm ? write_vm(store, level, b->bucket_us, a, error)
                 : write_host(store, level, b->bucket_us, a, error)) ||
            (level == VB_HISTORY_HOUR &&
             !mark_seen(store, vm, vm ? a->key >> 32 : a->key, b->bucket_us + VB_HISTORY_HOUR_US,
                        error)))
            return FALSE;
    }
    *ret_finished = b->next == b->rows->len;
    return TRUE;
}

static gint
bucket_cmp(gconstpointer x, gconstpointer y)
{
    gint64 a = (*(VbHistoryBucket *const *) x)->bucket_us;
    gint64 b = (*(VbHistoryBucket *const *) y)->bucket_us;

    return a < b ? -1 : a > b;
}

/* Whether every bucket of @level in [@from, @to) can be written from the
 * accumulators. */
static gboolean
range_complete(const VbHistoryCache *cache, VbHistoryLevel level, gint64 from, gint64 to)
{
    GPtrArray *open = cache->open[level];

    if (from < cache->complete_from[level])
        return FALSE;
    for (guint i = 0; i < open->len; i++) {
        const VbHistoryBucket *b = g_ptr_array_index(open, i);

        if (b->bucket_us >= from && b->bucket_us < to && b->by_sql)
            return FALSE;
    }
    for (guint i = 0; i < cache->closing[level]->len; i++)
        if (((const VbHistoryBucket *) g_ptr_array_index(cache->closing[level], i))->by_sql)
            return FALSE;
    return TRUE;
}

/* Forgets the buckets of @level before @to: rolled up, or (rows recorded
 * late into a bucket already rolled up) never to be. */
static void
drop_before(GPtrArray *buckets, gint64 to)
{
    for (guint i = buckets->len; i-- > 0;)
        if (((VbHistoryBucket *) g_ptr_array_index(buckets, i))->bucket_us < to)
            g_ptr_array_remove_index(buckets, i);
}

static void
forget_before(VbHistoryCache *cache, VbHistoryLevel level, gint64 to)
{
    if (level == VB_HISTORY_FIVE_MIN && cache->cur && cache->cur->bucket_us < to)
        cache->cur = NULL;
    drop_before(cache->open[level], to);
    drop_before(cache->closing[level], to);
}

/* Moves the open buckets of @level in [@from, @to) to the closing ones, in
 * time order, and forgets the open ones before @to (late rows into a
 * bucket already rolled up). */
static void
close_buckets(VbHistoryCache *cache, VbHistoryLevel level, gint64 from, gint64 to)
{
    GPtrArray *open = cache->open[level];

    g_ptr_array_sort(open, bucket_cmp);
    for (guint i = 0; i < open->len;) {
        VbHistoryBucket *b = g_ptr_array_index(open, i);

        if (b->bucket_us >= from && b->bucket_us < to) {
            bucket_close(cache, level, b);
            g_ptr_array_add(cache->closing[level], g_ptr_array_steal_index(open, i));
        } else {
            i++;
        }
    }
    if (level == VB_HISTORY_FIVE_MIN && cache->cur && cache->cur->bucket_us < to)
        cache->cur = NULL; /* before drop_before() may free it */
    drop_before(open, to);
}

gboolean
vb_history_acc_roll(VbStore *store, VbHistoryCache *cache, VbHistoryLevel level, gint64 from,
                    gint64 to, gboolean spread, VbHistoryRolled *ret, GError **error)
{
    GPtrArray *closing;

    *ret = (VbHistoryRolled) { .done_us = to };
    if (!cache)
        return TRUE;
    if (!range_complete(cache, level, from, to)) {
        /* SQL rolls this range up; the hours it touches have 5-minute rows
         * the hourly accumulators never saw. */
        if (level == VB_HISTORY_FIVE_MIN)
            cache->complete_from[VB_HISTORY_HOUR] =
                MAX(cache->complete_from[VB_HISTORY_HOUR],
                    bucket_start(to - 1, VB_HISTORY_HOUR) + VB_HISTORY_HOUR_US);
        forget_before(cache, level, to);
        return TRUE;
    }
    ret->in_memory = TRUE;
    close_buckets(cache, level, from, to);
    closing = cache->closing[level];
    while (closing->len > 0) {
        VbHistoryBucket *b = g_ptr_array_index(closing, 0);
        gboolean finished;

        if (!bucket_write(store, level, b, spread, &finished, error))
            return FALSE;
        if (!finished)
            break;
        ret->finished++;
        g_ptr_array_remove_index(closing, 0);
    }
    /* Spread: the oldest bucket still being written is where the level
     * is done; the others write their share on the next calls too. */
    for (guint i = 1; spread && i < closing->len; i++) {
        gboolean finished;

        if (!bucket_write(store, level, g_ptr_array_index(closing, i), TRUE, &finished, error))
            return FALSE;
    }
    if (closing->len > 0)
        ret->done_us = ((VbHistoryBucket *) g_ptr_array_index(closing, 0))->bucket_us;
    return TRUE;
}

gint64
vb_history_acc_pending_from(const VbHistoryCache *cache, VbHistoryLevel level)
{
    gint64 from = G_MAXINT64;

    for (guint i = 0; cache && i < cache->closing[level]->len; i++)
        from = MIN(from, ((VbHistoryBucket *) g_ptr_array_index(cache->closing[level], i))
                             ->bucket_us);
    return from;
}
