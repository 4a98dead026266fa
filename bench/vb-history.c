/*
 * vb-history.c: how large the sample history grows and what one sample
 * costs to write (issue 11, "a history that stays small").
 *
 * Two measurements, both on the sim driver, whose clock is virtual (sleep()
 * advances it at once), so days of sampling run in minutes:
 *   - a seeded pool (100 hosts / 2,000 guests by default) sampled by the
 *     collector every 30 s for 7 days into a database file, exactly as the
 *     daemon does (vb_collector_sample: record, roll up, prune); at the end of
 *     every simulated day the file's size (main file and WAL), the rows of
 *     each table and the CPU time of that day are printed;
 *   - a large pool (10,000 hosts / 200,000 guests): the CPU time
 *     (CLOCK_PROCESS_CPUTIME_ID: user and system) of writing one sample as
 *     the collector does (vb_history_record_and_prune: record, roll up,
 *     prune, one transaction) once the raw level is full (steady state):
 *     median and max of the repeats (24 by default, the clock set so that
 *     the 12th closes an hour: they close two or three 5-minute buckets and
 *     one hour), of those closing no bucket, of those closing a 5-minute
 *     bucket, and of the one closing an hour; then what another process
 *     opening the file pays: its first sample (loading the cache: every
 *     raw row; recorded only) and its second (rolling up by SQL what the
 *     first process left being written). Taking the sample from the driver
 *     is not counted.
 * The machine's CPU model (/proc/cpuinfo "model name") heads the output.
 * Nothing is asserted: figures go to docs/benchmarks.md. With --days below
 * 7 the 7-day size is extrapolated from the growth of the last simulated day,
 * which holds only once that growth is constant (the table shows whether it is).
 *
 * The "before" figures of docs/benchmarks.md were taken by this program
 * built against the previous library (main before the change measured).
 *
 * With --upgrade FILE it only upgrades FILE in place (a database an older
 * virt-balancer wrote), rolls it up and prunes it once, and VACUUMs it,
 * printing the CPU time of each step and the sizes.
 *
 * Usage: vb-history [--pool 100x2000] [--days D] [--interval S]
 *                   [--big 10000x200000] [--reps 24] [--dir DIR] [--no-big]
 *        vb-history --upgrade FILE
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/machine.h"
#include "collectors/collectors.h"
#include "drivers/drivers.h"
#include "pool/pool.h"

typedef struct {
    guint hosts, vms;            /* the sampled pool */
    double days;                 /* simulated */
    guint interval_s;            /* between samples */
    guint big_hosts, big_vms;    /* the pool of the write measurement */
    guint reps;                  /* timed writes of the big sample */
    gboolean no_big;             /* skip the write measurement */
    char *dir;                   /* where the databases go (owned) */
} BenchArgs;

static double
cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
file_mb(const char *path)
{
    GStatBuf st;

    return g_stat(path, &st) == 0 ? (double) st.st_size / 1e6 : 0.0;
}

/* "table rows, table rows, ..." for every table of @store (transfer full). */
static char *
table_rows(VbStore *store)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    sqlite3_stmt *stmt = vb_store_prepare(
        store, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", NULL);

    while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
        g_ptr_array_add(names, g_strdup((const char *) sqlite3_column_text(stmt, 0)));
    if (stmt)
        sqlite3_reset(stmt);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM \"%s\"",
                                               (char *) names->pdata[i]);
        sqlite3_stmt *count = vb_store_prepare(store, sql, NULL);

        if (!count || sqlite3_step(count) != SQLITE_ROW)
            continue;
        g_string_append_printf(out, "%s%s %lld", out->len ? ", " : "",
                               (char *) names->pdata[i],
                               (long long) sqlite3_column_int64(count, 0));
        sqlite3_reset(count);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static VbInventory *
bench_pool(guint hosts, guint vms)
{
    VbGenerateParams p;

    vb_generate_params_init(&p);
    p.n_hosts = hosts;
    p.n_vms = vms;
    p.n_pools = MAX(1, hosts / 50);
    p.seed = 42;
    return vb_inventory_generate(&p);
}

/* ----------------------------------------------------------- seven days */

static gboolean
run_days(const BenchArgs *a, GError **error)
{
    g_autofree char *db = g_build_filename(a->dir, "history-days.db", NULL);
    g_autofree char *wal = g_strconcat(db, "-wal", NULL);
    VbConfig config = { .window_seconds = 300, .retention_seconds = 7 * 86400,
                        .sample_interval_seconds = a->interval_s };
    VbConn *conn = vb_sim_conn_new(bench_pool(a->hosts, a->vms));
    g_autoptr(VbStore) store = NULL;
    g_autoptr(VbCollector) collector = NULL;
    guint per_day = 86400 / a->interval_s;
    guint n = (guint) (a->days * per_day + 0.5);
    double day_start = cpu_seconds(), total_cpu = 0.0, prev_mb = 0.0, last_growth = 0.0;

    g_unlink(db);
    g_unlink(wal);
    store = vb_store_open(db, error);
    collector = store ? vb_collector_new(conn, &vb_driver_sim, store, &config, error) : NULL;
    if (!collector) {
        vb_driver_sim.close(conn);
        return FALSE;
    }
    printf("## History of %u hosts / %u guests, a sample every %u s, %.4g days (virtual clock)\n\n",
           a->hosts, a->vms, a->interval_s, a->days);
    printf("| day | samples | database MB (main + WAL) | growth MB | CPU s of the day | rows |\n");
    printf("|---|---|---|---|---|---|\n");
    for (guint i = 1; i <= n; i++) {
        vb_driver_sim.sleep(conn, a->interval_s);
        if (!vb_collector_sample(collector, error)) {
            vb_driver_sim.close(conn);
            return FALSE;
        }
        if (i % per_day == 0 || i == n) {
            double cpu = cpu_seconds() - day_start, mb = file_mb(db) + file_mb(wal);
            g_autofree char *rows = table_rows(store);

            last_growth = mb - prev_mb;
            printf("| %.4g | %u | %.1f + %.1f | %+.1f | %.1f | %s |\n",
                   (double) i / per_day, i, file_mb(db), file_mb(wal), last_growth, cpu, rows);
            fflush(stdout);
            total_cpu += cpu;
            prev_mb = mb;
            day_start = cpu_seconds();
        }
    }
    printf("\ndatabase after %.4g days: %.1f MB (target: at most 150 MB for 7 days); "
           "CPU %.1f s in all, %.2f ms per sample\n",
           a->days, prev_mb, total_cpu, total_cpu * 1e3 / n);
    if (a->days < 7.0 && a->days >= 1.0)
        printf("extrapolated to 7 days from the last day's growth: %.1f MB "
               "(only valid if the growth per day above has become constant)\n",
               prev_mb + (7.0 - a->days) * last_growth);
    vb_collector_free(g_steal_pointer(&collector));
    vb_driver_sim.close(conn);
    return TRUE;
}

/* ------------------------------------------------------ one big sample */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* Seconds to sleep on @conn's clock so that the first timed sample (after
 * @warm samples @interval_s apart) comes @before samples ahead of an hour:
 * the timed samples then close 5-minute buckets and one hour. */
static guint
align_to_hour(VbConn *conn, guint warm, guint before, guint interval_s, GError **error)
{
    g_autoptr(VbSampleSet) set = vb_driver_sim.sample(conn, error);
    gint64 now_s, close_s;

    if (!set || set->hosts->len == 0)
        return 0;
    now_s = ((const VbHostSample *) g_ptr_array_index(set->hosts, 0))->timestamp_us /
            G_USEC_PER_SEC;
    close_s = now_s + (gint64) (warm + before) * interval_s; /* hour to land on */
    return (guint) ((3600 - close_s % 3600) % 3600);
}

/* Writes a sample into @store (recording only with @keep NULL) and gives
 * its CPU time in @ret_cpu. */
static gboolean
timed_write(VbConn *conn, VbStore *store, const VbHistoryRetention *keep, guint interval_s,
            double *ret_cpu, GError **error)
{
    g_autoptr(VbSampleSet) set = NULL;
    double t0;

    vb_driver_sim.sleep(conn, interval_s);
    if (!(set = vb_driver_sim.sample(conn, error)))
        return FALSE;
    t0 = cpu_seconds();
    if (!vb_history_record_and_prune(store, set, keep, NULL, error))
        return FALSE;
    *ret_cpu = cpu_seconds() - t0;
    return TRUE;
}

/* What a process that opens @db afterwards pays: its first sample loads
 * the cache (the names and every raw row) and is recorded (@ret_cpu[0],
 * no rollup); its second rolls up, by SQL, the buckets the first process
 * left unwritten (@ret_cpu[1]). */
static gboolean
cold_writes(VbConn *conn, const char *db, const VbHistoryRetention *keep, guint interval_s,
            double *ret_cpu, GError **error)
{
    g_autoptr(VbStore) store = vb_store_open(db, error);

    return store && vb_history_init(store, error) &&
           timed_write(conn, store, NULL, interval_s, &ret_cpu[0], error) &&
           timed_write(conn, store, keep, interval_s, &ret_cpu[1], error);
}

/* A row of the write table: median and max of the @n sorted @x. */
static void
print_row(const char *what, const double *x, guint n)
{
    if (n == 0)
        printf("| %s | 0 | - | - |\n", what);
    else
        printf("| %s | %u | %.3f | %.3f |\n", what, n, x[n / 2], x[n - 1]);
}

static gboolean
run_big(const BenchArgs *a, GError **error)
{
    g_autofree char *db = g_build_filename(a->dir, "history-big.db", NULL);
    g_autofree char *wal = g_strconcat(db, "-wal", NULL);
    VbConn *conn = vb_sim_conn_new(bench_pool(a->big_hosts, a->big_vms));
    g_autoptr(VbStore) store = NULL;
    g_autofree double *cpu = g_new0(double, a->reps);
    g_autofree double *plain = g_new0(double, a->reps), *closing = g_new0(double, a->reps);
    guint n_plain = 0, n_closing = 0;
    gint64 now_s, prev_s = 0;
    double hourly = NAN, cold[2] = { NAN, NAN };
    g_autoptr(GString) order = g_string_new(NULL);
    VbHistoryRetention keep;
    guint warm;

    /* Steady state: the raw level full (the default window and margin). */
    vb_history_retention_init(&keep, 300, 7 * 86400);
    warm = keep.keep_seconds[VB_HISTORY_RAW] / a->interval_s + 2;
    g_unlink(db);
    g_unlink(wal);
    store = vb_store_open(db, error);
    if (!store || !vb_history_init(store, error)) {
        vb_driver_sim.close(conn);
        return FALSE;
    }
    vb_driver_sim.sleep(conn, align_to_hour(conn, warm, a->reps / 2, a->interval_s, error));
    for (guint i = 0; i < warm + a->reps; i++) {
        g_autoptr(VbSampleSet) set = NULL;
        double t0, t;

        vb_driver_sim.sleep(conn, a->interval_s);
        set = vb_driver_sim.sample(conn, error);
        t0 = cpu_seconds();
        if (!set || !vb_history_record_and_prune(store, set, &keep, NULL, error)) {
            vb_driver_sim.close(conn);
            return FALSE;
        }
        t = cpu_seconds() - t0;
        /* A sample past the end of its predecessor's bucket closes it. */
        now_s = ((const VbHostSample *) g_ptr_array_index(set->hosts, 0))->timestamp_us /
                G_USEC_PER_SEC;
        if (i >= warm) {
            g_string_append_printf(order, " %s%.2f",
                                   now_s / 3600 != prev_s / 3600  ? "H"
                                   : now_s / 300 != prev_s / 300 ? "|"
                                                                  : "",
                                   t);
            cpu[i - warm] = t;
            if (now_s / 3600 != prev_s / 3600)
                hourly = t;
            if (now_s / 300 != prev_s / 300)
                closing[n_closing++] = t;
            else
                plain[n_plain++] = t;
        }
        prev_s = now_s;
    }
    if (!cold_writes(conn, db, &keep, a->interval_s, cold, error)) {
        vb_driver_sim.close(conn);
        return FALSE;
    }
    qsort(cpu, a->reps, sizeof(double), cmp_double);
    qsort(plain, n_plain, sizeof(double), cmp_double);
    qsort(closing, n_closing, sizeof(double), cmp_double);
    printf("\n## Writing one sample of %u hosts / %u guests\n\n", a->big_hosts, a->big_vms);
    printf("CPU s per sample: record, roll up, prune in one transaction (target: under 1 s), "
           "%u samples after %u (raw level full), a sample every %u s\n\n",
           a->reps, warm, a->interval_s);
    printf("| samples | n | median | max |\n|---|---:|---:|---:|\n");
    print_row("all", cpu, a->reps);
    print_row("closing no bucket", plain, n_plain);
    print_row("closing a 5-minute bucket", closing, n_closing);
    print_row("closing an hour too", &hourly, isnan(hourly) ? 0 : 1);
    print_row("another process's first: cache load, record only", &cold[0], 1);
    print_row("its second: SQL catch-up of the buckets left being written", &cold[1], 1);
    printf("\nin order (| closes a 5-minute bucket, H an hour):%s\n", order->str);
    printf("\ndatabase %.1f MB + WAL %.1f MB\n", file_mb(db), file_mb(wal));
    vb_driver_sim.close(conn);
    return TRUE;
}

/* --------------------------------------------------- upgrading a file */

/* Upgrades @path in place (a database an older virt-balancer wrote), then
 * rolls up and prunes once as the first sample afterwards would (default
 * window and retention), timing both; then VACUUMs, as docs/collectors.md
 * suggests, and prints the sizes. */
static gboolean
run_upgrade(const char *path, GError **error)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autoptr(VbStore) store = vb_store_open(path, error);
    g_autofree char *rows = NULL;
    VbHistoryRetention keep;
    VbHistoryPruned pruned;
    gint64 latest = 0;
    double before_mb = file_mb(path) + file_mb(wal), t0, t_init, t_prune, t_vacuum;

    if (!store)
        return FALSE;
    vb_history_retention_init(&keep, 300, 7 * 86400);
    t0 = cpu_seconds();
    if (!vb_history_init(store, error))
        return FALSE;
    t_init = cpu_seconds() - t0;
    printf("## Upgrading %s (%.1f MB)\n\n", path, before_mb);
    printf("| schema upgrade CPU s | %.1f | size after (main + WAL) | %.1f + %.1f MB |\n", t_init,
           file_mb(path), file_mb(wal));
    t0 = cpu_seconds();
    if (!vb_history_latest_time(store, &latest, error) ||
        !vb_history_prune(store, latest, &keep, &pruned, error))
        return FALSE;
    t_prune = cpu_seconds() - t0;
    rows = table_rows(store);
    printf("| first rollup and prune CPU s | %.1f (%u raw samples pruned) | size after | "
           "%.1f + %.1f MB |\n", t_prune, pruned.samples, file_mb(path), file_mb(wal));
    t0 = cpu_seconds();
    if (!vb_store_exec(store, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;", error))
        return FALSE;
    t_vacuum = cpu_seconds() - t0;
    printf("| VACUUM CPU s | %.1f | size after | %.1f + %.1f MB |\n\nrows: %s\n", t_vacuum,
           file_mb(path), file_mb(wal), rows);
    return TRUE;
}

/* ---------------------------------------------------------------- main */

/* Removes the databases this program made in @dir, then @dir. */
static void
remove_dir(const char *dir)
{
    static const char *const files[] = { "history-days.db", "history-big.db" };
    static const char *const suffixes[] = { "", "-wal", "-shm" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++)
        for (guint j = 0; j < G_N_ELEMENTS(suffixes); j++) {
            g_autofree char *name = g_strconcat(files[i], suffixes[j], NULL);
            g_autofree char *path = g_build_filename(dir, name, NULL);

            g_unlink(path);
        }
    g_rmdir(dir);
}

static gboolean
parse_size(const char *s, guint *ret_hosts, guint *ret_vms)
{
    unsigned h, v;

    if (!s || sscanf(s, "%ux%u", &h, &v) != 2 || h == 0)
        return FALSE;
    *ret_hosts = h;
    *ret_vms = v;
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autofree char *pool = NULL, *big = NULL, *dir = NULL, *model = NULL, *upgrade = NULL;
    BenchArgs a = { .hosts = 100, .vms = 2000, .days = 7.0, .interval_s = 30,
                    .big_hosts = 10000, .big_vms = 200000, .reps = 24 };
    gint reps = 24, interval = 30;
    GOptionEntry entries[] = {
        { "pool", 0, 0, G_OPTION_ARG_STRING, &pool, "sampled pool (100x2000)", "HxV" },
        { "days", 0, 0, G_OPTION_ARG_DOUBLE, &a.days, "days to simulate (7)", "D" },
        { "interval", 0, 0, G_OPTION_ARG_INT, &interval, "seconds between samples (30)", "S" },
        { "big", 0, 0, G_OPTION_ARG_STRING, &big, "pool of the write (10000x200000)", "HxV" },
        { "reps", 0, 0, G_OPTION_ARG_INT, &reps,
          "timed writes (24), half of them before an hour closes", "N" },
        { "no-big", 0, 0, G_OPTION_ARG_NONE, &a.no_big, "skip the write measurement", NULL },
        { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "folder for the databases", "DIR" },
        { "upgrade", 0, 0, G_OPTION_ARG_FILENAME, &upgrade,
          "only upgrade FILE in place (an older version's database) and time it", "FILE" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- history size and write cost");
    g_autoptr(GError) error = NULL;
    gboolean made_dir = FALSE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
        (pool && !parse_size(pool, &a.hosts, &a.vms)) ||
        (big && !parse_size(big, &a.big_hosts, &a.big_vms)) || reps < 1 || interval < 1 ||
        a.days <= 0.0) {
        fprintf(stderr, "vb-history: %s\n", error ? error->message : "bad arguments");
        return 2;
    }
    if (upgrade) {
        model = vb_bench_cpu_model();
        printf("CPU: %s\n\n", model);
        if (!run_upgrade(upgrade, &error)) {
            fprintf(stderr, "vb-history: %s\n", error->message);
            return 1;
        }
        return 0;
    }
    a.reps = (guint) reps;
    a.interval_s = (guint) interval;
    if (!dir && !(made_dir = (dir = g_dir_make_tmp("vb-history-XXXXXX", &error)) != NULL)) {
        fprintf(stderr, "vb-history: %s\n", error->message);
        return 1;
    }
    a.dir = dir;
    model = vb_bench_cpu_model();
    printf("CPU: %s\n\n", model);
    if (!run_days(&a, &error) || (!a.no_big && !run_big(&a, &error))) {
        fprintf(stderr, "vb-history: %s\n", error->message);
        return 1;
    }
    if (made_dir)
        remove_dir(dir);
    return 0;
}
