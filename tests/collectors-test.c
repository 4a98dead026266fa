/*
 * collectors-test.c: the store (migrations, error paths), counter deltas,
 * windowed averages and retention, from data files; the suite's main. The
 * cases that sample drivers and run the commands are in
 * collectors-live-test.c.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/collectors.h"
#include "tests/collectors-test.h"
#include "tests/testutil.h"

/* ------------------------------------------------------------------ store */

static const char *const demo_steps[] = {
    "CREATE TABLE a (x INTEGER);",
    "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z INTEGER);",
    "CREATE TABLE c (w INTEGER); INSERT INTO no_such_table VALUES (1);",
};

static gboolean
table_exists(VbStore *store, const char *name)
{
    sqlite3_stmt *stmt = vb_store_prepare(
        store, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", NULL);
    gboolean found;

    ck_assert_ptr_nonnull(stmt);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    found = sqlite3_column_int(stmt, 0) > 0;
    sqlite3_reset(stmt);
    return found;
}

static guint
schema_version(VbStore *store, const char *component)
{
    g_autoptr(GError) error = NULL;
    guint version = 999;

    ck_assert_msg(vb_store_schema_version(store, component, &version, &error), "%s",
                  error ? error->message : "");
    return version;
}

START_TEST(test_store_migrate_fresh_and_rerun)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(schema_version(store, "demo"), 0);
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    ck_assert(table_exists(store, "a"));
    ck_assert(table_exists(store, "b"));
    /* Re-running is a no-op: step 1 would fail if applied twice. */
    ck_assert_msg(vb_store_migrate(store, "demo", demo_steps, 2, &error), "%s",
                  error ? error->message : "");
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    /* Components are independent. */
    ck_assert_uint_eq(schema_version(store, "other"), 0);
}
END_TEST

START_TEST(test_store_migrate_upgrade)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 1);
    ck_assert(!table_exists(store, "b"));
    ck_assert(vb_store_exec(store, "INSERT INTO a (x) VALUES (7);", &error));
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert_uint_eq(schema_version(store, "demo"), 2);
    ck_assert(table_exists(store, "b"));
    /* The data written at version 1 survived the upgrade. */
    ck_assert(vb_store_exec(store, "UPDATE a SET y = 'kept' WHERE x = 7;", &error));
}
END_TEST

START_TEST(test_store_migrate_failure_rolls_back)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert(!vb_store_migrate(store, "demo", demo_steps, 3, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, "no_such_table") &&
                      strstr(error->message, "step 3 of 3") &&
                      strstr(error->message, "demo"),
                  "%s", error->message);
    /* Nothing of steps 2 and 3 stayed. */
    ck_assert_uint_eq(schema_version(store, "demo"), 1);
    ck_assert(!table_exists(store, "b"));
    ck_assert(!table_exists(store, "c"));
    g_clear_error(&error);
    /* The store still works after the failed transaction. */
    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
}
END_TEST

START_TEST(test_store_refuses_newer_schema)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);

    ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    ck_assert(!vb_store_migrate(store, "demo", demo_steps, 1, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, "newer"), "%s", error->message);
}
END_TEST

START_TEST(test_store_file_reopen)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-store-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "sub", "dir", "state.db", NULL);

    {
        g_autoptr(VbStore) store = vb_store_open(path, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
    }
    {
        g_autoptr(VbStore) store = vb_store_open(path, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert_uint_eq(schema_version(store, "demo"), 2);
        ck_assert_str_eq(vb_store_path(store), path);
    }
    {
        g_autofree char *wal = g_strconcat(path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(path, "-shm", NULL);
        g_autofree char *sub = g_path_get_dirname(path);
        g_autofree char *subsub = g_path_get_dirname(sub);

        g_unlink(wal);
        g_unlink(shm);
        ck_assert_int_eq(g_unlink(path), 0);
        ck_assert_int_eq(g_rmdir(sub), 0);
        ck_assert_int_eq(g_rmdir(subsub), 0);
        ck_assert_int_eq(g_rmdir(dir), 0);
    }
}
END_TEST

/* mode_of PATH: its permission bits, or -1 when it cannot be stat'ed. */
static int
mode_of(const char *path)
{
    GStatBuf st;

    return g_stat(path, &st) == 0 ? (int) (st.st_mode & 07777) : -1;
}

/* The database holds host and guest names: created 0600 (its -wal and -shm
 * too) in folders created 0700, even under a permissive umask; an existing
 * file keeps its mode. */
START_TEST(test_store_file_modes)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-store-XXXXXX", &error);
    g_autofree char *top = g_build_filename(dir, "var", NULL);
    g_autofree char *sub = g_build_filename(top, "virt-balancer", NULL);
    g_autofree char *path = g_build_filename(sub, "state.db", NULL);
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);
    g_autofree char *old = g_build_filename(dir, "old.db", NULL);
    mode_t umask_before = umask(022);

    {
        g_autoptr(VbStore) store = vb_store_open(path, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert(vb_store_migrate(store, "demo", demo_steps, 2, &error));
        ck_assert_int_eq(mode_of(path), 0600);
        ck_assert_int_eq(mode_of(wal), 0600);
        ck_assert_int_eq(mode_of(shm), 0600);
        ck_assert_int_eq(mode_of(sub), 0700);
        ck_assert_int_eq(mode_of(top), 0700);
    }
    ck_assert(g_file_set_contents(old, "", 0, &error));
    ck_assert_int_eq(g_chmod(old, 0640), 0);
    {
        g_autoptr(VbStore) store = vb_store_open(old, &error);

        ck_assert_msg(store != NULL, "%s", error ? error->message : "");
        ck_assert_int_eq(mode_of(old), 0640);
    }
    umask(umask_before);
    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_unlink(old);
    ck_assert_int_eq(g_rmdir(sub), 0);
    ck_assert_int_eq(g_rmdir(top), 0);
    ck_assert_int_eq(g_rmdir(dir), 0);
}
END_TEST

START_TEST(test_store_unwritable)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-store-XXXXXX", &error);
    g_autofree char *file = g_build_filename(dir, "not-a-folder", NULL);
    g_autofree char *path = g_build_filename(file, "state.db", NULL);
    g_autoptr(VbStore) store = NULL;

    /* A plain file where the folder should be: fails for root too. It is
     * long enough that sqlite reads its header (and finds none). */
    {
        g_autofree char *junk = g_strnfill(4096, 'x');

        ck_assert(g_file_set_contents(file, junk, -1, &error));
    }
    store = vb_store_open(path, &error);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(strstr(error->message, path), "%s", error->message);
    g_clear_error(&error);

    /* A file that is not a database. */
    store = vb_store_open(file, &error);
    ck_assert_ptr_null(store);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_DATABASE));
    ck_assert_msg(strstr(error->message, file), "%s", error->message);
    g_unlink(file);
    g_rmdir(dir);
}
END_TEST

/* ----------------------------------------------------------------- deltas */

/* tests/data/collectors/deltas.txt: one counter pair per line, with the
 * usage expected (or "skip"). */
START_TEST(test_deltas_table)
{
    g_autofree char *path = vb_test_data_path("collectors/deltas.txt");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint n_cases = 0;

    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        double usage = -1.0;
        gboolean ok;
        const char *expected;

        if (!f[0] || f[0][0] == '#' || f[0][0] == '\0')
            continue;
        ck_assert_msg(g_strv_length(f) == 6, "%s:%u: want 6 fields", path, i + 1);
        if (strcmp(f[0], "host") == 0)
            ok = vb_usage_host_cpu(g_ascii_strtoull(f[1], NULL, 10),
                                   g_ascii_strtoull(f[2], NULL, 10),
                                   g_ascii_strtoull(f[3], NULL, 10),
                                   g_ascii_strtoull(f[4], NULL, 10), &usage);
        else
            ok = vb_usage_vm_cpu(g_ascii_strtoull(f[1], NULL, 10),
                                 g_ascii_strtoull(f[2], NULL, 10),
                                 g_ascii_strtoll(f[3], NULL, 10),
                                 (guint) g_ascii_strtoull(f[4], NULL, 10), &usage);
        expected = f[5];
        if (strcmp(expected, "skip") == 0) {
            ck_assert_msg(!ok, "%s:%u: expected skip, got %f", path, i + 1, usage);
            ck_assert_msg(usage == -1.0, "%s:%u: output written on skip", path, i + 1);
        } else {
            g_autofree char *got = NULL;

            ck_assert_msg(ok, "%s:%u: expected %s, got skip", path, i + 1, expected);
            got = g_strdup_printf("%.6f", usage);
            ck_assert_msg(strcmp(got, expected) == 0, "%s:%u: expected %s, got %s", path,
                          i + 1, expected, got);
        }
        n_cases++;
    }
    ck_assert_uint_ge(n_cases, 10);
}
END_TEST

/* --------------------------------------------------- history scenarios */

/* A scenario (tests/data/collectors/window-*.in) is a list of samples given
 * as raw counters, and commands (report, prune) whose output is compared
 * with the .out file beside it. */

static void
test_host_sample_free(gpointer data)
{
    VbHostSample *hs = data;

    for (guint i = 0; hs->vms && i < hs->vms->len; i++)
        g_free(g_array_index(hs->vms, VbVmSample, i).name);
    if (hs->vms)
        g_array_unref(hs->vms);
    g_free(hs->host);
    g_free(hs->reason);
    g_free(hs);
}

static void
test_sample_set_free(VbSampleSet *set)
{
    if (set)
        g_ptr_array_unref(set->hosts);
    g_free(set);
}

/* "key=value" field @key of @f, or NULL. */
static const char *
field(char **f, const char *key)
{
    gsize len = strlen(key);

    for (guint i = 0; f[i]; i++)
        if (strncmp(f[i], key, len) == 0 && f[i][len] == '=')
            return f[i] + len + 1;
    return NULL;
}

static guint64
field_u64(char **f, const char *key)
{
    const char *v = field(f, key);

    return v ? g_ascii_strtoull(v, NULL, 10) : 0;
}

/* "used/free"-style pair field: first and second number. */
static void
field_pair(char **f, const char *key, double *a, double *b)
{
    const char *v = field(f, key);
    char *end = NULL;

    *a = *b = 0.0;
    if (!v)
        return;
    *a = g_ascii_strtod(v, &end);
    if (end && *end == '/')
        *b = g_ascii_strtod(end + 1, NULL);
}

static VbHostSample *
parse_host(char **f, const char *line, gint64 t_us, gint64 mono_us)
{
    VbHostSample *hs = g_new0(VbHostSample, 1);
    const char *down = strstr(line, "down=");
    double a, b;

    hs->host = g_strdup(f[1]);
    hs->timestamp_us = t_us;
    hs->monotonic_us = mono_us;
    hs->vms = g_array_new(FALSE, TRUE, sizeof(VbVmSample));
    hs->up = down == NULL;
    if (down) {
        hs->reason = g_strdup(down + 5);
        return hs;
    }
    hs->cpu_cores = (guint) field_u64(f, "cores");
    hs->cpu_busy_ns = field_u64(f, "busy");
    hs->cpu_total_ns = field_u64(f, "total");
    field_pair(f, "mem", &a, &b);
    hs->memory_total_mib = (guint64) a;
    hs->memory_free_mib = (guint64) b;
    field_pair(f, "disk", &a, &b);
    hs->storage_total_gib = a;
    hs->storage_free_gib = b;
    return hs;
}

static void
parse_vm(char **f, VbHostSample *hs)
{
    VbVmSample vs = { 0 };

    vs.name = g_strdup(f[1]);
    vs.vcpus = (guint) field_u64(f, "vcpus");
    vs.cpu_time_ns = field_u64(f, "cpu");
    vs.memory_mib = 512;
    vs.rss_mib = field_u64(f, "rss");
    vs.running = !g_strv_contains((const char *const *) f, "shutoff");
    g_array_append_val(hs->vms, vs);
}

static char *
fmt_cpu(double cpu)
{
    return cpu < 0.0 ? g_strdup("-") : g_strdup_printf("%.4f", cpu);
}

static void
render_load(GString *out, const char *what, const VbLoad *l)
{
    g_autofree char *cpu = fmt_cpu(l->cpu);

    g_string_append_printf(out, "  %s cpu=%s mem=%.1f/%.1f disk=%.2f/%.2f\n", what, cpu,
                           l->memory_used_mib, l->memory_total_mib, l->storage_used_gib,
                           l->storage_total_gib);
}

static void
render_report(GString *out, VbStore *store, gint64 end_us, guint window_s)
{
    g_autoptr(GError) error = NULL;
    VbWindow w;
    g_autoptr(GPtrArray) hosts = vb_history_hosts(store, end_us, window_s, &w, &error);
    g_autoptr(GPtrArray) vms = NULL;
    g_autofree char *desc = NULL;

    ck_assert_msg(hosts != NULL, "%s", error ? error->message : "");
    vms = vb_history_vms(store, end_us, window_s, &error);
    ck_assert_msg(vms != NULL, "%s", error ? error->message : "");
    desc = vb_window_describe(&w);
    g_string_append_printf(out, "report: %s (from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                                ")\n", desc, w.start_us / G_USEC_PER_SEC,
                           w.end_us / G_USEC_PER_SEC);
    for (guint i = 0; i < hosts->len; i++) {
        const VbHostHistory *h = g_ptr_array_index(hosts, i);

        g_string_append_printf(out, "host %s %s%s%s at %" G_GINT64_FORMAT " vms=%u running=%u\n",
                               h->host, h->up ? "up" : "down", h->reason ? ": " : "",
                               h->reason ? h->reason : "", h->time_us / G_USEC_PER_SEC,
                               h->n_vms, h->n_running);
        render_load(out, "latest", &h->latest);
        render_load(out, "average", &h->average);
        g_string_append_printf(out, "  samples=%u intervals=%u span=%" G_GINT64_FORMAT
                                    "..%" G_GINT64_FORMAT "\n", h->n_samples, h->n_intervals,
                               h->first_us / G_USEC_PER_SEC, h->last_us / G_USEC_PER_SEC);
    }
    for (guint i = 0; i < vms->len; i++) {
        const VbVmHistory *v = g_ptr_array_index(vms, i);
        g_autofree char *cpu = fmt_cpu(v->cpu);

        g_string_append_printf(out, "vm %s on %s cpu=%s intervals=%u\n", v->vm, v->host, cpu,
                               v->n_intervals);
    }
}
/* A scenario being run: its database, the sample being read, and whether
 * samples are still written the way version 1 wrote them. */
typedef struct {
    VbStore *store;
    VbSampleSet *set;     /* being read from the file (owned) */
    guint window_s;
    gboolean v1;          /* recording with collectors-v1.c until the first read */
    gboolean each;        /* rolling up after every sample, as the collector does */
    gint64 t_us, mono_us; /* of the sample being read */
    GString *out;
} Scenario;

static void
flush_sample(Scenario *sc)
{
    g_autoptr(GError) error = NULL;

    if (!sc->set)
        return;
    if (sc->v1)
        vb_test_v1_record(sc->store, sc->set);
    else
        ck_assert_msg(vb_history_record(sc->store, sc->set, &error), "%s",
                      error ? error->message : "");
    g_clear_pointer(&sc->set, test_sample_set_free);
    if (sc->each) {
        /* Longer than any scenario: rolls up, deletes nothing. */
        VbHistoryRetention keep = { { 1000000, 1000000, 1000000 } };
        gint64 latest = 0;

        ck_assert(vb_history_latest_time(sc->store, &latest, &error));
        ck_assert_msg(vb_history_prune(sc->store, latest, &keep, NULL, &error), "%s",
                      error ? error->message : "");
    }
}

/* Before anything reads: writes the pending sample and, for an upgrade run,
 * upgrades the version 1 database in place (later samples use the current
 * code, taking their deltas against the carried-over rows). */
static void
before_read(Scenario *sc)
{
    g_autoptr(GError) error = NULL;

    flush_sample(sc);
    if (!sc->v1)
        return;
    ck_assert_uint_eq(schema_version(sc->store, "history"), 1);
    /* The schema steps alone first: a process stopped before carrying any
     * row; the next vb_history_init() carries them all. */
    ck_assert_msg(vb_store_migrate(sc->store, "history", vb_history_schema,
                                   vb_history_schema_n_steps, &error),
                  "%s", error ? error->message : "");
    ck_assert(table_exists(sc->store, "vm_samples"));
    ck_assert_msg(vb_history_init(sc->store, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(schema_version(sc->store, "history"), vb_history_schema_n_steps);
    ck_assert(!table_exists(sc->store, "vm_samples"));
    sc->v1 = FALSE;
}

/* "prune RAW [5M 1H]": each level kept that many seconds (RAW when not given). */
static void
scenario_prune(Scenario *sc, char **f)
{
    g_autoptr(GError) error = NULL;
    guint n = g_strv_length(f);
    VbHistoryRetention keep;
    VbHistoryPruned pruned;
    gint64 latest = 0;

    before_read(sc);
    for (guint i = 0; i < VB_HISTORY_LEVEL_LAST; i++)
        keep.keep_seconds[i] = (guint) g_ascii_strtoull(f[MIN(i + 1, n - 1)], NULL, 10);
    ck_assert(vb_history_latest_time(sc->store, &latest, &error));
    ck_assert_msg(vb_history_prune(sc->store, latest, &keep, &pruned, &error), "%s",
                  error ? error->message : "");
    g_string_append_printf(sc->out, "prune %s: %u samples deleted", f[1], pruned.samples);
    if (n > 2)
        g_string_append_printf(sc->out, ", rows raw %u, 5-minute %u, hourly %u, names %u",
                               pruned.rows[VB_HISTORY_RAW], pruned.rows[VB_HISTORY_FIVE_MIN],
                               pruned.rows[VB_HISTORY_HOUR], pruned.names);
    g_string_append_c(sc->out, '\n');
}

static void
append_value(GString *s, double x, int digits)
{
    if (isnan(x))
        g_string_append_c(s, '-');
    else
        g_string_append_printf(s, "%.*f", digits, x);
}

/* "min/mean/max" of @st, '-' for what is unknown. */
static void
append_stat(GString *s, const char *name, const VbStat *st, int digits)
{
    g_string_append_printf(s, " %s=", name);
    append_value(s, st->min, digits);
    g_string_append_c(s, '/');
    append_value(s, st->mean, digits);
    g_string_append_c(s, '/');
    append_value(s, st->max, digits);
}

static guint
count_rows(VbStore *store, const char *table)
{
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
    sqlite3_stmt *stmt = vb_store_prepare(store, sql, NULL);
    guint n;

    ck_assert_ptr_nonnull(stmt);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    n = (guint) sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return n;
}

void
vb_test_render_levels(GString *out, VbStore *store)
{
    static const char *const level_names[] = { "raw", "5m", "1h" };

    for (guint level = VB_HISTORY_FIVE_MIN; level < VB_HISTORY_LEVEL_LAST; level++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) rows = vb_history_aggregates(store, level, G_MININT64,
                                                          G_MAXINT64, &error);

        ck_assert_msg(rows != NULL, "%s", error ? error->message : "");
        for (guint i = 0; i < rows->len; i++) {
            const VbAggregate *a = g_ptr_array_index(rows, i);

            g_string_append_printf(out, "%s %" G_GINT64_FORMAT, level_names[level],
                                   a->bucket_us / G_USEC_PER_SEC);
            if (a->vm) {
                g_string_append_printf(out, " vm %s on %s n=%u", a->vm, a->host,
                                       a->n_samples);
                append_stat(out, "cpu", &a->cpu, 4);
                append_stat(out, "rss", &a->memory_mib, 1);
            } else {
                g_string_append_printf(out, " host %s n=%u up=%u", a->host, a->n_samples,
                                       a->n_up);
                append_stat(out, "cpu", &a->cpu, 4);
                append_stat(out, "mem", &a->memory_mib, 1);
                append_stat(out, "disk", &a->storage_used_gib, 2);
            }
            g_string_append_c(out, '\n');
        }
    }
}

/* "levels": every aggregate row of both levels, and the names left. */
static void
scenario_levels(Scenario *sc)
{
    before_read(sc);
    vb_test_render_levels(sc->out, sc->store);
    g_string_append_printf(sc->out, "names: %u hosts, %u guests\n",
                           count_rows(sc->store, "hosts"), count_rows(sc->store, "vms"));
}

/* Runs one scenario line; appends command output to sc->out. */
static void
scenario_line(Scenario *sc, const char *line)
{
    g_auto(GStrv) f = g_strsplit_set(line, " ", -1);

    if (strcmp(f[0], "window") == 0) {
        sc->window_s = (guint) g_ascii_strtoull(f[1], NULL, 10);
    } else if (strcmp(f[0], "sample") == 0) {
        flush_sample(sc);
        sc->t_us = g_ascii_strtoll(f[1], NULL, 10) * G_USEC_PER_SEC;
        sc->mono_us = field(f, "mono") ? (gint64) field_u64(f, "mono") * G_USEC_PER_SEC
                                       : sc->t_us;
        sc->set = g_new0(VbSampleSet, 1);
        sc->set->hosts = g_ptr_array_new_with_free_func(test_host_sample_free);
    } else if (strcmp(f[0], "host") == 0) {
        g_ptr_array_add(sc->set->hosts, parse_host(f, line, sc->t_us, sc->mono_us));
    } else if (strcmp(f[0], "vm") == 0) {
        parse_vm(f, g_ptr_array_index(sc->set->hosts, sc->set->hosts->len - 1));
    } else if (strcmp(f[0], "report") == 0) {
        before_read(sc);
        render_report(sc->out, sc->store, (gint64) field_u64(f, "end") * G_USEC_PER_SEC,
                      sc->window_s);
    } else if (strcmp(f[0], "prune") == 0) {
        scenario_prune(sc, f);
    } else if (strcmp(f[0], "levels") == 0) {
        scenario_levels(sc);
    } else {
        ck_abort_msg("unknown scenario line: %s", line);
    }
}

/* Each scenario runs three times, and must print the same each time: on a
 * fresh database; rolling up after every sample (buckets one at a time, not
 * in one pass at the first prune); on a database that version 1 wrote until
 * the first read, upgraded there. */
static const char *const window_scenarios[] = {
    "window-basic", "window-resets", "window-span", "window-retention", "history-levels",
};

START_TEST(test_window_scenarios)
{
    const char *name = window_scenarios[_i / 3];
    g_autofree char *in_rel = g_strdup_printf("collectors/%s.in", name);
    g_autofree char *out_rel = g_strdup_printf("collectors/%s.out", name);
    g_autofree char *in_path = vb_test_data_path(in_rel);
    g_autofree char *out_path = vb_test_data_path(out_rel);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(GString) out = g_string_new(NULL);
    Scenario sc = { .store = store, .window_s = 60, .each = _i % 3 == 1, .v1 = _i % 3 == 2,
                    .out = out };

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    if (sc.v1)
        vb_test_v1_create(store);
    else
        ck_assert_msg(vb_history_init(store, &error), "%s", error ? error->message : "");
    ck_assert(g_file_get_contents(in_path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);

        if (line[0] != '\0' && line[0] != '#')
            scenario_line(&sc, line);
    }
    flush_sample(&sc);
    vb_test_compare_file(out_path, out->str);
}
END_TEST

/* How long each level is kept for a window and a configured retention
 * (docs/collectors.md, Retention). */
static const struct {
    guint window_s, retention_s;
    guint raw_s, five_min_s, hour_s;
} retention_rows[] = {
    { 300, 7 * 86400, 900, 86400, 7 * 86400 },    /* the defaults: window + 10 min */
    { 1800, 7 * 86400, 3600, 86400, 7 * 86400 },  /* margin: the window again */
    { 60, 7200, 660, 7200, 7200 },                /* 5-minute: at most the retention */
    { 60, 600, 660, 3600, 3600 },                 /* ... at least an hour */
};

START_TEST(test_retention_levels)
{
    VbHistoryRetention keep;

    vb_history_retention_init(&keep, retention_rows[_i].window_s, retention_rows[_i].retention_s);
    ck_assert_uint_eq(keep.keep_seconds[VB_HISTORY_RAW], retention_rows[_i].raw_s);
    ck_assert_uint_eq(keep.keep_seconds[VB_HISTORY_FIVE_MIN], retention_rows[_i].five_min_s);
    ck_assert_uint_eq(keep.keep_seconds[VB_HISTORY_HOUR], retention_rows[_i].hour_s);
}
END_TEST

/* Version 2 had no names.seen_us: the upgrade gives each name in hourly rows
 * the end of its newest one, and 0 to the others. */
START_TEST(test_history_upgrade_seen)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    sqlite3_stmt *stmt;

    ck_assert_msg(store && vb_store_migrate(store, "history", vb_history_schema, 2, &error), "%s",
                  error ? error->message : "");
    ck_assert_msg(vb_store_exec(store,
                                "INSERT INTO hosts(id, name) VALUES (1, 'kvm1'), (2, 'kvm2');"
                                "INSERT INTO vms(id, name) VALUES (1, 'a'), (2, 'b');"
                                "INSERT INTO host_agg(level, bucket_us, host, n_samples, n_up)"
                                " VALUES (2, 0, 1, 1, 1), (2, 3600000000, 1, 1, 1),"
                                " (1, 7200000000, 2, 1, 1);"
                                "INSERT INTO vm_agg(level, bucket_us, vm, host, n_samples)"
                                " VALUES (2, 3600000000, 1, 1, 1), (1, 7200000000, 2, 2, 1);",
                                &error),
                  "%s", error ? error->message : "");
    ck_assert_msg(vb_history_init(store, &error), "%s", error ? error->message : "");
    stmt = vb_store_prepare(store,
                            "SELECT name, seen_us / 1000000 FROM hosts UNION ALL"
                            " SELECT name, seen_us / 1000000 FROM vms ORDER BY 1",
                            &error);
    ck_assert_ptr_nonnull(stmt);
    {
        static const char *const want[][2] = {
            { "a", "7200" }, { "b", "0" }, { "kvm1", "7200" }, { "kvm2", "0" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
            ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
            ck_assert_str_eq((const char *) sqlite3_column_text(stmt, 0), want[i][0]);
            ck_assert_str_eq((const char *) sqlite3_column_text(stmt, 1), want[i][1]);
        }
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
        sqlite3_reset(stmt);
    }
}
END_TEST

/* One host (one core) and one guest (one vCPU) at @t seconds, their CPU
 * counters at @busy_s seconds of work since the start. */
static VbSampleSet *
busy_set(gint64 t, guint64 busy_s)
{
    VbSampleSet *set = vb_sample_set_new();
    VbHostSample *hs = vb_host_sample_new("kvm1");
    VbVmSample vs = { .name = g_strdup("web1"), .running = TRUE, .vcpus = 1,
                      .cpu_time_ns = busy_s * 1000000000ull };

    hs->up = TRUE;
    hs->timestamp_us = hs->monotonic_us = t * G_USEC_PER_SEC;
    hs->cpu_cores = 1;
    hs->cpu_busy_ns = busy_s * 1000000000ull;
    hs->cpu_total_ns = (guint64) t * 1000000000ull;
    hs->memory_total_mib = 1000;
    g_array_append_val(hs->vms, vs);
    g_ptr_array_add(set->hosts, hs);
    return set;
}

/* Removes the database @path (with its WAL files) and its folder @dir. */
static void
remove_db(const char *dir, const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);

    g_unlink(wal);
    g_unlink(shm);
    ck_assert_int_eq(g_unlink(path), 0);
    ck_assert_int_eq(g_rmdir(dir), 0);
}

static void
record_busy(VbStore *store, gint64 t, guint64 busy_s)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbSampleSet) set = busy_set(t, busy_s);

    ck_assert_msg(vb_history_record(store, set, &error), "%s", error ? error->message : "");
}

/* Two processes write one file (the daemon and `status`): each sample takes
 * its deltas against the newest row whoever wrote it. A writes at 0, B at
 * 100 (half busy), A at 200 (fully busy): A's last interval is 100 -> 200,
 * usage 1.0; a writer that missed B's sample would say 0.75 over 0 -> 200. */
START_TEST(test_history_two_writers)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-history-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "history.db", NULL);
    g_autoptr(VbStore) a = vb_store_open(path, &error);
    g_autoptr(VbStore) b = NULL;
    g_autoptr(GPtrArray) hosts = NULL, vms = NULL;
    const VbHostHistory *h;
    const VbVmHistory *v;

    ck_assert_msg(a && vb_history_init(a, &error), "%s", error ? error->message : "");
    b = vb_store_open(path, &error);
    ck_assert_msg(b && vb_history_init(b, &error), "%s", error ? error->message : "");
    record_busy(a, 0, 0);
    record_busy(b, 100, 50);
    record_busy(a, 200, 150);
    hosts = vb_history_hosts(a, 0, 1000, NULL, &error);
    vms = vb_history_vms(a, 0, 1000, &error);
    ck_assert_msg(hosts && vms, "%s", error ? error->message : "");
    ck_assert_uint_eq(hosts->len, 1);
    h = g_ptr_array_index(hosts, 0);
    ck_assert_double_eq_tol(h->latest.cpu, 1.0, 1e-9);
    ck_assert_double_eq_tol(h->average.cpu, 0.75, 1e-9);
    ck_assert_uint_eq(h->n_intervals, 2);
    ck_assert_uint_eq(vms->len, 1);
    v = g_ptr_array_index(vms, 0);
    ck_assert_double_eq_tol(v->cpu, 0.75, 1e-9);
    ck_assert_uint_eq(v->n_intervals, 2);
    g_clear_pointer(&a, vb_store_free);
    g_clear_pointer(&b, vb_store_free);
    remove_db(dir, path);
}
END_TEST

/* The window's standard deviation of a host's CPU use (the noise the
 * planner's hysteresis must beat): samples 100 s apart with these busy
 * shares per interval; unknown (< 0) with fewer than 3 intervals. */
static const struct {
    guint busy[5];     /* busy seconds per 100 s interval, 0-terminated list */
    double stddev;
} stddev_rows[] = {
    { { 50, 50, 50 }, 0.0 },
    { { 20, 60, 20, 60 }, 0.2 },
    { { 10, 90, 50 }, 0.326599 },
    { { 50, 100 }, -1.0 },
};

START_TEST(test_history_cpu_stddev)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-history-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "history.db", NULL);
    g_autoptr(VbStore) store = vb_store_open(path, &error);
    g_autoptr(GPtrArray) hosts = NULL;
    guint64 busy = 0;
    gint64 t = 0;

    ck_assert_msg(store && vb_history_init(store, &error), "%s", error ? error->message : "");
    record_busy(store, t, busy);
    for (guint i = 0; i < G_N_ELEMENTS(stddev_rows[_i].busy) && stddev_rows[_i].busy[i]; i++) {
        busy += stddev_rows[_i].busy[i];
        t += 100;
        record_busy(store, t, busy);
    }
    hosts = vb_history_hosts(store, 0, 100000, NULL, &error);
    ck_assert_msg(hosts != NULL, "%s", error ? error->message : "");
    ck_assert_double_eq_tol(((VbHostHistory *) g_ptr_array_index(hosts, 0))->cpu_stddev,
                            stddev_rows[_i].stddev, 1e-6);
    g_clear_pointer(&store, vb_store_free);
    remove_db(dir, path);
}
END_TEST

/* The carry of a version 1 history keeps a day of raw rows and rolls the
 * older ones up: samples every 2 hours over 30 hours. */
START_TEST(test_history_carry_keeps_a_day)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(GPtrArray) hourly = NULL;
    sqlite3_stmt *stmt;

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    vb_test_v1_create(store);
    for (gint64 h = 0; h <= 30; h += 2) {
        g_autoptr(VbSampleSet) set = busy_set(h * 3600, (guint64) h * 1800);

        vb_test_v1_record(store, set);
    }
    ck_assert_msg(vb_history_init(store, &error), "%s", error ? error->message : "");
    ck_assert(!table_exists(store, "vm_samples"));
    ck_assert(!table_exists(store, "host_samples"));
    stmt = vb_store_prepare(store, "SELECT min(time_us), count(*) FROM samples", &error);
    ck_assert_ptr_nonnull(stmt);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int64(stmt, 0), (gint64) 6 * 3600 * G_USEC_PER_SEC);
    ck_assert_int_eq(sqlite3_column_int64(stmt, 1), 13);
    sqlite3_reset(stmt);
    hourly = vb_history_aggregates(store, VB_HISTORY_HOUR, 0, (gint64) 6 * 3600 * G_USEC_PER_SEC, &error);
    ck_assert_msg(hourly != NULL, "%s", error ? error->message : "");
    /* Buckets 0, 2 and 4 h: a host row and a guest row each. */
    ck_assert_uint_eq(hourly->len, 6);
}
END_TEST

static Suite *
collectors_suite(void)
{
    Suite *s = suite_create("collectors");
    TCase *tc = tcase_create("store");

    tcase_add_test(tc, test_store_migrate_fresh_and_rerun);
    tcase_add_test(tc, test_store_migrate_upgrade);
    tcase_add_test(tc, test_store_migrate_failure_rolls_back);
    tcase_add_test(tc, test_store_refuses_newer_schema);
    tcase_add_test(tc, test_store_file_reopen);
    tcase_add_test(tc, test_store_unwritable);
    tcase_add_test(tc, test_store_file_modes);
    suite_add_tcase(s, tc);

    tc = tcase_create("usage");
    tcase_add_test(tc, test_deltas_table);
    tcase_add_loop_test(tc, test_window_scenarios, 0, 3 * G_N_ELEMENTS(window_scenarios));
    tcase_add_loop_test(tc, test_retention_levels, 0, G_N_ELEMENTS(retention_rows));
    tcase_add_test(tc, test_history_two_writers);
    tcase_add_loop_test(tc, test_history_cpu_stddev, 0, G_N_ELEMENTS(stddev_rows));
    tcase_add_test(tc, test_history_upgrade_seen);
    tcase_add_test(tc, test_history_carry_keeps_a_day);
    suite_add_tcase(s, tc);

    vb_collectors_test_add_live(s);
    vb_collectors_test_add_rollup(s);
    return s;
}

VB_TEST_MAIN(collectors_suite)
