/*
 * collectors-rollup-test.c: the two ways a bucket is rolled up give the
 * same aggregates (collectors/history-acc.c, collectors/history-rollup.c).
 *
 * Each scenario (tests/data/collectors/rollup-*.in) describes a pool over
 * time: hosts and guests, then events (a host down, gone from the samples
 * and back, a guest moving, a gap in sampling, a restart of the writer, a
 * sample recorded late, a guest reported twice). Loads are drawn from a
 * seeded GRand, so sums of means are not exact in binary and their order
 * shows. The same samples are written to two databases:
 *   - "memory": as the collector does (vb_history_record_and_prune after
 *     each sample, one connection, closed and opened again at "restart"):
 *     closed buckets come from the accumulators where they hold them whole;
 *   - "sql": recorded by one connection and rolled up after each sample by
 *     another, which has no accumulators: every bucket by SQL.
 * Both databases must hold the same aggregate rows bit for bit (compared
 * with hexadecimal floats), the SQL one must never have used memory, and
 * the memory one's rows (rounded for reading) and how many passes took
 * each path are compared with the expected file beside the scenario
 * (VB_REGENERATE=1 rewrites it). So a fault in either path fails: one
 * alone makes the databases differ, both alike change the expected file.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "collectors/collectors.h"
#include "collectors/history-priv.h" /* VB_HISTORY_SPREAD */
#include "tests/collectors-test.h"
#include "tests/testutil.h"

#define START_S G_GINT64_CONSTANT(86400) /* the first sample: a day after the epoch, on an hour */

typedef struct {
    char *name;
    guint cores;
    guint64 mem_mib;
    guint64 busy_ns, total_ns;
    gboolean up, present;
} Host;

typedef struct {
    char *name;
    Host *host;
    guint vcpus;
    guint64 cpu_ns;
} Guest;

/* A scenario being run: the pool, its clock, and both databases. */
typedef struct {
    GRand *rand;
    guint interval_s;
    gint64 now_s;           /* time of the newest sample (0: none yet) */
    gint64 counters_s;      /* the counters are as of this time */
    GPtrArray *hosts;       /* Host * (owned) */
    GPtrArray *guests;      /* Guest * (owned) */
    const char *twice;      /* the next sample reports this guest twice */
    char *dir, *mem_path, *sql_path;
    VbStore *mem, *sql, *sql_roller;
    guint in_memory[VB_HISTORY_LEVEL_LAST], by_sql[VB_HISTORY_LEVEL_LAST];
    const VbHistoryRetention *keep;
    GString *out;
} Run;

/* Longer than any scenario: rolls up, deletes nothing. */
static const VbHistoryRetention keep_all = { { 10000000, 10000000, 10000000 } };

static void
host_free(gpointer p)
{
    Host *h = p;

    g_free(h->name);
    g_free(h);
}

static void
guest_free(gpointer p)
{
    Guest *g = p;

    g_free(g->name);
    g_free(g);
}

static Host *
find_host(Run *r, const char *name)
{
    for (guint i = 0; i < r->hosts->len; i++) {
        Host *h = g_ptr_array_index(r->hosts, i);

        if (strcmp(h->name, name) == 0)
            return h;
    }
    ck_abort_msg("no host %s in the scenario", name);
    return NULL;
}

static Guest *
find_guest(Run *r, const char *name)
{
    for (guint i = 0; i < r->guests->len; i++) {
        Guest *g = g_ptr_array_index(r->guests, i);

        if (strcmp(g->name, name) == 0)
            return g;
    }
    ck_abort_msg("no guest %s in the scenario", name);
    return NULL;
}

static VbStore *
open_history(const char *path)
{
    g_autoptr(GError) error = NULL;
    VbStore *store = vb_store_open(path, &error);

    ck_assert_msg(store && vb_history_init(store, &error), "%s", error ? error->message : "");
    return store;
}

/* ------------------------------------------------------------ sampling */

/* Moves the counters on to @t_s with random loads (never back: a late
 * sample reports the counters as they are). */
static void
advance(Run *r, gint64 t_s)
{
    guint64 dt_ns = (guint64) (t_s - r->counters_s) * 1000000000ull;

    if (t_s <= r->counters_s)
        return;
    for (guint i = 0; i < r->hosts->len; i++) {
        Host *h = g_ptr_array_index(r->hosts, i);

        h->busy_ns += (guint64) (g_rand_double_range(r->rand, 0.05, 0.95) * h->cores * dt_ns);
        h->total_ns += h->cores * dt_ns;
    }
    for (guint i = 0; i < r->guests->len; i++) {
        Guest *g = g_ptr_array_index(r->guests, i);

        g->cpu_ns += (guint64) (g_rand_double(r->rand) * g->vcpus * dt_ns);
    }
    r->counters_s = t_s;
}

static void
add_guest_sample(Run *r, VbHostSample *hs, const Guest *g)
{
    VbVmSample vs = { .name = g_strdup(g->name), .running = TRUE, .vcpus = g->vcpus,
                      .cpu_time_ns = g->cpu_ns, .memory_mib = 4096,
                      .rss_mib = (guint64) g_rand_int_range(r->rand, 100, 4000) };

    g_array_append_val(hs->vms, vs);
}

static VbHostSample *
host_sample(Run *r, const Host *h, gint64 t_s)
{
    VbHostSample *hs = g_new0(VbHostSample, 1);

    hs->host = g_strdup(h->name);
    hs->timestamp_us = t_s * G_USEC_PER_SEC;
    hs->monotonic_us = t_s * G_USEC_PER_SEC;
    hs->up = h->up;
    hs->vms = g_array_new(FALSE, TRUE, sizeof(VbVmSample));
    if (!h->up) {
        hs->reason = g_strdup("connection refused");
        return hs;
    }
    hs->cpu_cores = h->cores;
    hs->cpu_busy_ns = h->busy_ns;
    hs->cpu_total_ns = h->total_ns;
    hs->memory_total_mib = h->mem_mib;
    hs->memory_free_mib = (guint64) g_rand_int_range(r->rand, (gint32) h->mem_mib / 10,
                                                     (gint32) h->mem_mib / 2);
    hs->storage_total_gib = 2000.0;
    hs->storage_free_gib = g_rand_double_range(r->rand, 100.0, 1900.0);
    for (guint i = 0; i < r->guests->len; i++) {
        const Guest *g = g_ptr_array_index(r->guests, i);

        if (g->host == h)
            add_guest_sample(r, hs, g);
        if (g->host == h && r->twice && strcmp(g->name, r->twice) == 0)
            add_guest_sample(r, hs, g);
    }
    return hs;
}

static void
free_host_sample(gpointer p)
{
    VbHostSample *hs = p;

    for (guint i = 0; i < hs->vms->len; i++)
        g_free(g_array_index(hs->vms, VbVmSample, i).name);
    g_array_unref(hs->vms);
    g_free(hs->host);
    g_free(hs->reason);
    g_free(hs);
}

static void
count_paths(guint *in_memory, guint *by_sql, const VbHistoryPruned *p)
{
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++) {
        in_memory[i] += p->rolled_in_memory[i];
        by_sql[i] += p->rolled_by_sql[i];
    }
}

/* Takes a sample at @t_s and writes it to both databases. */
static void
sample_at(Run *r, gint64 t_s)
{
    g_autoptr(GError) error = NULL;
    VbSampleSet set = { .hosts = g_ptr_array_new_with_free_func(free_host_sample) };
    VbHistoryPruned pruned = { 0 };
    guint unused[VB_HISTORY_LEVEL_LAST] = { 0 }, sql_in_memory[VB_HISTORY_LEVEL_LAST] = { 0 };
    gint64 latest = 0;

    advance(r, t_s);
    for (guint i = 0; i < r->hosts->len; i++) {
        const Host *h = g_ptr_array_index(r->hosts, i);

        if (h->present)
            g_ptr_array_add(set.hosts, host_sample(r, h, t_s));
    }
    r->twice = NULL;
    ck_assert_msg(vb_history_record_and_prune(r->mem, &set, r->keep, &pruned, &error), "%s",
                  error ? error->message : "");
    count_paths(r->in_memory, r->by_sql, &pruned);
    memset(&pruned, 0, sizeof(pruned));
    ck_assert_msg(vb_history_record(r->sql, &set, &error) &&
                  vb_history_latest_time(r->sql_roller, &latest, &error) &&
                  vb_history_prune(r->sql_roller, latest, r->keep, &pruned, &error),
                  "%s", error ? error->message : "");
    count_paths(sql_in_memory, unused, &pruned);
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++)
        ck_assert_uint_eq(sql_in_memory[i], 0);
    g_ptr_array_unref(set.hosts);
    r->now_s = MAX(r->now_s, t_s);
}

/* ------------------------------------------------------------- reading */

/* Every aggregate row and the rollup progress, exactly (REAL as %a). */
static char *
dump_exact(VbStore *store)
{
    static const char *const sql[] = {
        "SELECT * FROM host_agg ORDER BY level, bucket_us, host",
        "SELECT * FROM vm_agg ORDER BY level, bucket_us, vm, host",
        "SELECT * FROM history_rollups ORDER BY level",
    };
    GString *out = g_string_new(NULL);

    for (guint q = 0; q < G_N_ELEMENTS(sql); q++) {
        sqlite3_stmt *stmt = vb_store_prepare(store, sql[q], NULL);

        ck_assert_ptr_nonnull(stmt);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(stmt); c++) {
                int type = sqlite3_column_type(stmt, c);

                if (type == SQLITE_NULL)
                    g_string_append(out, " -");
                else if (type == SQLITE_INTEGER)
                    g_string_append_printf(out, " i%lld",
                                           (long long) sqlite3_column_int64(stmt, c));
                else
                    g_string_append_printf(out, " r%a", sqlite3_column_double(stmt, c));
            }
            g_string_append_c(out, '\n');
        }
        sqlite3_reset(stmt);
    }
    return g_string_free(out, FALSE);
}

static gint64
query_int(VbStore *store, const char *sql, gint64 a)
{
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, NULL);
    gint64 v;

    ck_assert_ptr_nonnull(stmt);
    sqlite3_bind_int64(stmt, 1, a);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return v;
}

/* Fails on the first line where @a and @b differ (whole texts are too long
 * for a test message). */
static void
assert_same_lines(const char *what, const char *a_name, const char *a_text,
                  const char *b_name, const char *b_text)
{
    g_auto(GStrv) a = g_strsplit(a_text, "\n", -1);
    g_auto(GStrv) b = g_strsplit(b_text, "\n", -1);

    for (guint i = 0; a[i] || b[i]; i++)
        ck_assert_msg(a[i] && b[i] && strcmp(a[i], b[i]) == 0,
                      "%s differ at line %u\n  %s: %s\n  %s: %s", what, i + 1, a_name,
                      a[i] ? a[i] : "(none)", b_name, b[i] ? b[i] : "(none)");
}

/* Compares @actual with the expected file, or rewrites it (VB_REGENERATE=1). */
static void
compare_expected(const char *path, const char *actual)
{
    g_autofree char *expected = NULL;

    if (vb_test_regenerate()) {
        vb_test_compare_file(path, actual);
        return;
    }
    ck_assert_msg(g_file_get_contents(path, &expected, NULL, NULL),
                  "cannot read %s (run with VB_REGENERATE=1 to create it)", path);
    assert_same_lines(path, "expected", expected, "actual", actual);
}

/* "late S": a sample S seconds before the newest. Into a bucket already
 * rolled up it stays in the raw level and out of the aggregates
 * (docs/collectors.md, Levels): the bucket's rows do not change. */
static void
late_sample(Run *r, gint64 back_s)
{
    gint64 t_s = r->now_s - back_s, now_s = r->now_s;
    gint64 bucket_us = (t_s - t_s % 300) * G_USEC_PER_SEC;
    const char *n_sql = "SELECT coalesce(sum(n_samples), 0) FROM host_agg"
                        " WHERE level = 1 AND bucket_us = ?1";
    gboolean rolled = query_int(r->mem, "SELECT coalesce(max(done_us), 0) FROM history_rollups"
                                        " WHERE level = 1", 0) > bucket_us;
    gint64 before = query_int(r->mem, n_sql, bucket_us);

    sample_at(r, t_s);
    r->now_s = now_s;
    g_string_append_printf(r->out, "late sample at %" G_GINT64_FORMAT ": bucket %" G_GINT64_FORMAT
                           " %s, host rows' samples %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                           ", raw samples at that time %" G_GINT64_FORMAT "\n",
                           t_s - START_S, bucket_us / G_USEC_PER_SEC - START_S,
                           rolled ? "rolled up" : "not rolled up", before,
                           query_int(r->mem, n_sql, bucket_us),
                           query_int(r->mem, "SELECT count(*) FROM samples WHERE time_us = ?1",
                                     t_s * G_USEC_PER_SEC));
    if (rolled)
        ck_assert_int_eq(query_int(r->mem, n_sql, bucket_us), before);
}

/* -------------------------------------------------------------- scenario */

static void
run_line(Run *r, char **f)
{
    if (strcmp(f[0], "seed") == 0) {
        g_rand_set_seed(r->rand, (guint32) g_ascii_strtoull(f[1], NULL, 10));
    } else if (strcmp(f[0], "interval") == 0) {
        r->interval_s = (guint) g_ascii_strtoull(f[1], NULL, 10);
    } else if (strcmp(f[0], "host") == 0) { /* host NAME CORES MEM_MIB */
        Host *h = g_new0(Host, 1);

        h->name = g_strdup(f[1]);
        h->cores = (guint) g_ascii_strtoull(f[2], NULL, 10);
        h->mem_mib = g_ascii_strtoull(f[3], NULL, 10);
        h->up = h->present = TRUE;
        g_ptr_array_add(r->hosts, h);
    } else if (strcmp(f[0], "vm") == 0) { /* vm NAME HOST VCPUS */
        Guest *g = g_new0(Guest, 1);

        g->name = g_strdup(f[1]);
        g->host = find_host(r, f[2]);
        g->vcpus = (guint) g_ascii_strtoull(f[3], NULL, 10);
        g_ptr_array_add(r->guests, g);
    } else if (strcmp(f[0], "run") == 0) { /* run SECONDS: a sample every interval */
        gint64 until = r->now_s + g_ascii_strtoll(f[1], NULL, 10);

        while (r->now_s + r->interval_s <= until)
            sample_at(r, r->now_s + r->interval_s);
    } else if (strcmp(f[0], "gap") == 0) {
        r->now_s += g_ascii_strtoll(f[1], NULL, 10);
    } else if (strcmp(f[0], "down") == 0 || strcmp(f[0], "up") == 0) {
        find_host(r, f[1])->up = strcmp(f[0], "up") == 0;
    } else if (strcmp(f[0], "gone") == 0 || strcmp(f[0], "back") == 0) {
        find_host(r, f[1])->present = strcmp(f[0], "back") == 0;
    } else if (strcmp(f[0], "move") == 0) {
        find_guest(r, f[1])->host = find_host(r, f[2]);
    } else if (strcmp(f[0], "twice") == 0) {
        r->twice = find_guest(r, f[1])->name;
    } else if (strcmp(f[0], "late") == 0) {
        late_sample(r, g_ascii_strtoll(f[1], NULL, 10));
    } else if (strcmp(f[0], "restart") == 0) { /* the writer is a new process */
        g_clear_pointer(&r->mem, vb_store_free);
        r->mem = open_history(r->mem_path);
        g_string_append_printf(r->out, "restart at %" G_GINT64_FORMAT "\n", r->now_s - START_S);
    } else {
        ck_abort_msg("unknown scenario line: %s", f[0]);
    }
}

static void
remove_file(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = g_strconcat(path, suffixes[i], NULL);

        g_remove(p);
    }
}

static void
run_init(Run *r, const VbHistoryRetention *keep, GString *out)
{
    g_autoptr(GError) error = NULL;

    *r = (Run) { .rand = g_rand_new_with_seed(1), .interval_s = 30, .now_s = START_S,
                 .counters_s = START_S, .keep = keep, .out = out };
    r->hosts = g_ptr_array_new_with_free_func(host_free);
    r->guests = g_ptr_array_new_with_free_func(guest_free);
    r->dir = g_dir_make_tmp("vb-rollup-XXXXXX", &error);
    ck_assert_msg(r->dir, "%s", error ? error->message : "");
    r->mem_path = g_build_filename(r->dir, "memory.db", NULL);
    r->sql_path = g_build_filename(r->dir, "sql.db", NULL);
    r->mem = open_history(r->mem_path);
    r->sql = open_history(r->sql_path);
    r->sql_roller = open_history(r->sql_path);
}

static void
run_clear(Run *r)
{
    g_clear_pointer(&r->mem, vb_store_free);
    g_clear_pointer(&r->sql, vb_store_free);
    g_clear_pointer(&r->sql_roller, vb_store_free);
    remove_file(r->mem_path);
    remove_file(r->sql_path);
    g_rmdir(r->dir);
    g_free(r->dir);
    g_free(r->mem_path);
    g_free(r->sql_path);
    g_ptr_array_unref(r->hosts);
    g_ptr_array_unref(r->guests);
    g_rand_free(r->rand);
}

/* Runs the scenario lines of @text. */
static void
run_text(Run *r, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        g_auto(GStrv) f = g_strsplit_set(line, " ", -1);

        if (line[0] != '\0' && line[0] != '#')
            run_line(r, f);
    }
}

static const char *const rollup_scenarios[] = {
    "rollup-steady", "rollup-events",
};

START_TEST(test_rollup_paths)
{
    g_autofree char *in_rel = g_strdup_printf("collectors/%s.in", rollup_scenarios[_i]);
    g_autofree char *out_rel = g_strdup_printf("collectors/%s.out", rollup_scenarios[_i]);
    g_autofree char *in_path = vb_test_data_path(in_rel);
    g_autofree char *out_path = vb_test_data_path(out_rel);
    g_autofree char *text = NULL, *mem_rows = NULL, *sql_rows = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    VbHistoryPruned flushed = { 0 };
    Run r;

    run_init(&r, &keep_all, out);
    ck_assert(g_file_get_contents(in_path, &text, NULL, NULL));
    run_text(&r, text);
    /* The collector spreads the writing of a closed bucket over the next
     * samples; a prune alone finishes it, from memory. */
    ck_assert_msg(vb_history_prune(r.mem, r.now_s * G_USEC_PER_SEC, &keep_all, &flushed,
                                   &error),
                  "%s", error ? error->message : "");
    count_paths(r.in_memory, r.by_sql, &flushed);
    ck_assert_uint_eq(flushed.rolled_by_sql[VB_HISTORY_FIVE_MIN], 0);
    mem_rows = dump_exact(r.mem);
    sql_rows = dump_exact(r.sql_roller);
    assert_same_lines(rollup_scenarios[_i], "in memory", mem_rows, "by SQL", sql_rows);
    g_string_append_printf(out, "rollup passes: 5-minute %u in memory, %u by SQL;"
                                " hourly %u in memory, %u by SQL\n",
                           r.in_memory[VB_HISTORY_FIVE_MIN], r.by_sql[VB_HISTORY_FIVE_MIN],
                           r.in_memory[VB_HISTORY_HOUR], r.by_sql[VB_HISTORY_HOUR]);
    vb_test_render_levels(out, r.mem);
    compare_expected(out_path, out->str);
    run_clear(&r);
}
END_TEST

/* Rows of 5-minute bucket @bucket_s (seconds after START_S) in @store. */
static gint64
bucket_rows(VbStore *store, gint64 bucket_s)
{
    gint64 b = (START_S + bucket_s) * G_USEC_PER_SEC;

    return query_int(store, "SELECT count(*) FROM host_agg WHERE level = 1 AND bucket_us = ?1",
                     b) +
           query_int(store, "SELECT count(*) FROM vm_agg WHERE level = 1 AND bucket_us = ?1", b);
}

/* The collector writes a closed bucket's rows over VB_HISTORY_SPREAD
 * samples: one host and seven guests, 8 rows, one a sample.
 * Until the last, the level is not done (history_rollups) and the raw rows
 * of the bucket stay although the raw level's retention has passed the
 * oldest; then they go. A sample late into the bucket while it is written
 * stays out of it, as once the bucket is done (the SQL twin agrees). A
 * restart in between has SQL redo the bucket whole. */
START_TEST(test_rollup_spread)
{
    static const VbHistoryRetention keep_raw = { { 270, 10000000, 10000000 } };
    static const char pool[] = "host kvm1 8 16384\nvm g1 kvm1 1\nvm g2 kvm1 1\nvm g3 kvm1 1\n"
                               "vm g4 kvm1 1\nvm g5 kvm1 1\nvm g6 kvm1 1\nvm g7 kvm1 1\n";
    /* Samples at 300 (closes bucket 0), 330, 290 (late), 360 ... 480: after
     * each, the rows of bucket 0 (one a sample: 8 rows over
     * VB_HISTORY_SPREAD), its done time (-1: not done), the raw samples before
     * 300 (from 330 on, the raw level's 270 s have passed the one at 30). */
    static const struct {
        const char *step;
        gint64 rows, done, raw;
    } steps[] = {
        { "run 30", 1, -1, 9 },  { "run 30", 2, -1, 9 },  { "late 40", 3, -1, 10 },
        { "run 30", 4, -1, 10 }, { "run 30", 5, -1, 10 }, { "run 30", 6, -1, 10 },
        { "run 30", 7, -1, 10 }, { "run 30", 8, 300, 4 },
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(steps) == VB_HISTORY_SPREAD);
    const char *done_sql = "SELECT coalesce(max(done_us) / 1000000 - ?1, -1) FROM history_rollups"
                           " WHERE level = 1";
    const char *raw_sql = "SELECT count(*) FROM samples WHERE time_us < ?1";
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *mem_rows = NULL, *sql_rows = NULL;
    Run r;

    run_init(&r, &keep_raw, out);
    run_text(&r, pool);
    run_text(&r, "run 270");
    ck_assert_int_eq(bucket_rows(r.mem, 0), 0);
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        run_text(&r, steps[i].step);
        ck_assert_int_eq(bucket_rows(r.mem, 0), steps[i].rows);
        ck_assert_int_eq(query_int(r.mem, done_sql, START_S), steps[i].done);
        ck_assert_int_eq(query_int(r.mem, raw_sql, (START_S + 300) * G_USEC_PER_SEC),
                         steps[i].raw);
    }
    ck_assert_uint_eq(r.in_memory[VB_HISTORY_FIVE_MIN], 1);
    /* Bucket 300 closes at 600; the writer stops after its first share. */
    run_text(&r, "run 240\nrestart\nrun 30");
    ck_assert_int_eq(bucket_rows(r.mem, 300), 8);
    ck_assert_uint_eq(r.by_sql[VB_HISTORY_FIVE_MIN], 1);
    mem_rows = dump_exact(r.mem);
    sql_rows = dump_exact(r.sql_roller);
    assert_same_lines("spread", "in memory", mem_rows, "by SQL", sql_rows);
    run_clear(&r);
}
END_TEST

/* An hour is written over up to VB_HISTORY_SPREAD_HOUR samples (one row
 * each here) once its last 5-minute bucket is: meanwhile its 5-minute rows stay although the 5-minute level's
 * retention (an hour) has passed the first of them. 8 rows a bucket, one a
 * sample: bucket 3300 closes at 3600 and is written by 3810, the hour from
 * 3810 to 4020; bucket 0 is past the retention from 3900 on. */
START_TEST(test_rollup_spread_hour)
{
    static const VbHistoryRetention keep = { { 900, 3600, 10000000 } };
    static const char pool[] = "host kvm1 8 16384\nvm g1 kvm1 1\nvm g2 kvm1 1\nvm g3 kvm1 1\n"
                               "vm g4 kvm1 1\nvm g5 kvm1 1\nvm g6 kvm1 1\nvm g7 kvm1 1\n";
    const char *hour_sql = "SELECT count(*) FROM vm_agg WHERE level = 2 AND bucket_us = ?1";
    g_autoptr(GString) out = g_string_new(NULL);
    Run r;

    run_init(&r, &keep, out);
    run_text(&r, pool);
    run_text(&r, "run 3960");
    ck_assert_int_lt(query_int(r.mem, hour_sql, START_S * G_USEC_PER_SEC), 7);
    ck_assert_int_eq(bucket_rows(r.mem, 0), 8);
    run_text(&r, "run 60"); /* 4020: the hour's last row */
    ck_assert_int_eq(query_int(r.mem, hour_sql, START_S * G_USEC_PER_SEC), 7);
    ck_assert_int_eq(bucket_rows(r.mem, 0), 0);
    run_clear(&r);
}
END_TEST

/* One sample of host kvm1 (4 cores, half busy) and its guest vm1 at @t_s. */
static void
record_one(VbStore *store, gint64 t_s)
{
    g_autoptr(VbSampleSet) set = vb_sample_set_new();
    VbHostSample *hs = vb_host_sample_new("kvm1");
    VbVmSample vs = { .name = g_strdup("vm1"), .running = TRUE, .vcpus = 2,
                      .cpu_time_ns = (guint64) t_s * 1000000000u, .memory_mib = 4096,
                      .rss_mib = 1000 };
    g_autoptr(GError) error = NULL;

    hs->timestamp_us = hs->monotonic_us = t_s * G_USEC_PER_SEC;
    hs->up = TRUE;
    hs->cpu_cores = 4;
    hs->cpu_busy_ns = (guint64) t_s * 2000000000u;
    hs->cpu_total_ns = (guint64) t_s * 4000000000u;
    hs->memory_total_mib = 65536;
    hs->memory_free_mib = 32768;
    hs->storage_total_gib = 2000;
    hs->storage_free_gib = 1000;
    g_array_append_val(hs->vms, vs);
    g_ptr_array_add(set->hosts, hs);
    ck_assert_msg(vb_history_record(store, set, &error), "%s", error ? error->message : "");
}

/* A rollup whose transaction fails (here a trigger refuses the level's
 * done time) changes nothing: the next one writes the same aggregate rows
 * as a database where the first one worked. Before, the accumulators kept
 * the rolled-back buckets as written, and they were lost for good. */
START_TEST(test_rollup_failed_prune)
{
    static const VbHistoryRetention keep = { { 86400, 7 * 86400, 365 * 86400 } };
    g_autofree char *dir = g_dir_make_tmp("vb-rollup-XXXXXX", NULL);
    g_autoptr(GString) clean_out = g_string_new(NULL), failed_out = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    gint64 now_s = START_S + 660;

    for (guint k = 0; k < 2; k++) {
        g_autofree char *path = g_strdup_printf("%s/%s.db", dir, k ? "failed" : "clean");
        VbStore *store = open_history(path);

        for (gint64 t = START_S; t <= now_s; t += 30)
            record_one(store, t);
        if (k == 1) {
            ck_assert(vb_store_exec(store,
                                    "CREATE TRIGGER refuse BEFORE INSERT ON history_rollups "
                                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
                                    &error));
            ck_assert(!vb_history_prune(store, now_s * G_USEC_PER_SEC, &keep, NULL, &error));
            ck_assert_msg(strstr(error->message, "refused by the test"), "%s", error->message);
            g_clear_error(&error);
            ck_assert(vb_store_exec(store, "DROP TRIGGER refuse;", &error));
        }
        ck_assert_msg(vb_history_prune(store, now_s * G_USEC_PER_SEC, &keep, NULL, &error), "%s",
                      error ? error->message : "");
        vb_test_render_levels(k ? failed_out : clean_out, store);
        vb_store_free(store);
        remove_file(path);
    }
    ck_assert_msg(strstr(clean_out->str, "vm1") != NULL, "no aggregate rows: %s", clean_out->str);
    assert_same_lines("failed prune", "clean", clean_out->str, "after a failure", failed_out->str);
    g_rmdir(dir);
}
END_TEST

void
vb_collectors_test_add_rollup(Suite *s)
{
    TCase *tc = tcase_create("rollup");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_rollup_paths, 0, G_N_ELEMENTS(rollup_scenarios));
    tcase_add_test(tc, test_rollup_spread);
    tcase_add_test(tc, test_rollup_spread_hour);
    tcase_add_test(tc, test_rollup_failed_prune);
    suite_add_tcase(s, tc);
}
