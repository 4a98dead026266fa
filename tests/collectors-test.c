/*
 * collectors-test.c: the store (migrations, error paths), counter deltas,
 * windowed averages, retention, and sampling the sim driver end to end.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sys/wait.h>
#include <math.h>
#include <unistd.h>

#include "collectors/collectors.h"
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

static void
flush_sample(VbStore *store, VbSampleSet **set)
{
    g_autoptr(GError) error = NULL;

    if (!*set)
        return;
    ck_assert_msg(vb_history_record(store, *set, &error), "%s", error ? error->message : "");
    g_clear_pointer(set, test_sample_set_free);
}

/* Runs one scenario line; appends command output to @out. */
static void
scenario_line(VbStore *store, const char *line, VbSampleSet **set, guint *window_s,
              GString *out)
{
    g_auto(GStrv) f = g_strsplit_set(line, " ", -1);
    g_autoptr(GError) error = NULL;
    static gint64 t_us, mono_us;

    if (strcmp(f[0], "window") == 0) {
        *window_s = (guint) g_ascii_strtoull(f[1], NULL, 10);
    } else if (strcmp(f[0], "sample") == 0) {
        flush_sample(store, set);
        t_us = g_ascii_strtoll(f[1], NULL, 10) * G_USEC_PER_SEC;
        mono_us = field(f, "mono") ? (gint64) field_u64(f, "mono") * G_USEC_PER_SEC : t_us;
        *set = g_new0(VbSampleSet, 1);
        (*set)->hosts = g_ptr_array_new_with_free_func(test_host_sample_free);
    } else if (strcmp(f[0], "host") == 0) {
        g_ptr_array_add((*set)->hosts, parse_host(f, line, t_us, mono_us));
    } else if (strcmp(f[0], "vm") == 0) {
        parse_vm(f, g_ptr_array_index((*set)->hosts, (*set)->hosts->len - 1));
    } else if (strcmp(f[0], "report") == 0) {
        flush_sample(store, set);
        render_report(out, store, (gint64) field_u64(f, "end") * G_USEC_PER_SEC, *window_s);
    } else if (strcmp(f[0], "prune") == 0) {
        guint deleted = 0;
        gint64 latest = 0;

        flush_sample(store, set);
        ck_assert(vb_history_latest_time(store, &latest, &error));
        ck_assert_msg(vb_history_prune(store, latest, (guint) g_ascii_strtoull(f[1], NULL, 10),
                                       &deleted, &error),
                      "%s", error ? error->message : "");
        g_string_append_printf(out, "prune %s: %u samples deleted\n", f[1], deleted);
    } else {
        ck_abort_msg("unknown scenario line: %s", line);
    }
}

static const char *const window_scenarios[] = {
    "window-basic", "window-resets", "window-span", "window-retention",
};

START_TEST(test_window_scenarios)
{
    const char *name = window_scenarios[_i];
    g_autofree char *in_rel = g_strdup_printf("collectors/%s.in", name);
    g_autofree char *out_rel = g_strdup_printf("collectors/%s.out", name);
    g_autofree char *in_path = vb_test_data_path(in_rel);
    g_autofree char *out_path = vb_test_data_path(out_rel);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(GString) out = g_string_new(NULL);
    VbSampleSet *set = NULL;
    guint window_s = 60;

    ck_assert_msg(store && vb_history_init(store, &error), "%s", error ? error->message : "");
    ck_assert(g_file_get_contents(in_path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);

        if (line[0] != '\0' && line[0] != '#')
            scenario_line(store, line, &set, &window_s, out);
    }
    flush_sample(store, &set);
    vb_test_compare_file(out_path, out->str);
}
END_TEST

/* ------------------------------------------------------- sim, end to end */

/* A small pool with known usage: sampling the sim driver (whose counters grow
 * by exactly the inventory's usage) must give the same usage back. */
static const char sim_pool[] =
    "pools:\n"
    "  - name: rack1\n"
    "    shared_storage: true\n"
    "    hosts:\n"
    "      - name: kvm1\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 8, features: [sse4_2]}\n"
    "        memory_mib: 65536\n"
    "        storage: {total_gib: 1000, free_gib: 600}\n"
    "        cpu_usage: 0.625\n"
    "        memory_used_mib: 40000\n"
    "      - name: kvm2\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 4, features: [sse4_2]}\n"
    "        memory_mib: 32768\n"
    "        storage: {total_gib: 500, free_gib: 450}\n"
    "        cpu_usage: 0.125\n"
    "        memory_used_mib: 8192\n"
    "      - name: kvm3\n"
    "        hypervisor: kvm\n"
    "        cpu: {vendor: Intel, model: Skylake, cores: 4, features: [sse4_2]}\n"
    "        memory_mib: 32768\n"
    "        storage: {total_gib: 500, free_gib: 500}\n"
    "        state: down\n"
    "vms:\n"
    "  - {name: web1, host: kvm1, vcpus: 4, memory_mib: 8192, cpu_usage: 0.75}\n"
    "  - {name: web2, host: kvm1, vcpus: 2, memory_mib: 4096, cpu_usage: 0.5}\n"
    "  - {name: db1, host: kvm2, vcpus: 2, memory_mib: 4096, cpu_usage: 0.25}\n"
    "  - {name: off1, host: kvm2, vcpus: 1, memory_mib: 1024, state: shutoff}\n";

static VbConn *
sim_conn(void)
{
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_data(sim_pool, sizeof(sim_pool) - 1, "sim-pool.yaml",
                                              &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return vb_sim_conn_new(inv);
}

/* Sets every measured figure of the running pool to something else, so that
 * only the history can bring the sampled values back. */
static void
scramble_load(VbInventory *inv)
{
    for (guint i = 0; i < inv->hosts->len; i++) {
        VbHost *h = vb_inventory_host(inv, i);

        h->cpu_usage = 0.99;
        h->memory_used_mib = 1;
        h->storage_free_gib = 1.0;
    }
    for (guint i = 0; i < inv->vms->len; i++)
        vb_inventory_vm(inv, i)->cpu_usage = 0.99;
}

/* Every measured figure of @got equals @want's where the history has one;
 * the down host and the shut-off guest keep the driver's (scrambled) figures. */
static void
check_loads(const VbInventory *want, const VbInventory *got)
{
    ck_assert_uint_eq(got->hosts->len, want->hosts->len);
    for (guint i = 0; i < want->hosts->len; i++) {
        const VbHost *w = vb_inventory_host(want, i);
        const VbHost *g = vb_inventory_get_host(got, w->name);
        gboolean down = w->state == VB_HOST_STATE_DOWN;

        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(g->state, w->state);
        ck_assert_msg(fabs(g->cpu_usage - (down ? 0.99 : w->cpu_usage)) < 1e-6,
                      "%s: cpu %f, want %f", w->name, g->cpu_usage, w->cpu_usage);
        ck_assert_uint_eq(g->memory_used_mib, down ? 1 : w->memory_used_mib);
        ck_assert_msg(fabs(g->storage_free_gib - (down ? 1.0 : w->storage_free_gib)) < 1e-6,
                      "%s: storage free %f, want %f", w->name, g->storage_free_gib,
                      w->storage_free_gib);
    }
    for (guint i = 0; i < want->vms->len; i++) {
        const VbVm *w = vb_inventory_vm(want, i);
        const VbVm *g = vb_inventory_get_vm(got, w->name);
        gboolean off = w->state == VB_VM_STATE_SHUTOFF;

        ck_assert_ptr_nonnull(g);
        ck_assert_msg(fabs(g->cpu_usage - (off ? 0.99 : w->cpu_usage)) < 1e-6,
                      "%s: cpu %f, want %f", w->name, g->cpu_usage, w->cpu_usage);
    }
}

/* Bootstrap: no history, so the snapshot samples twice a gap apart (on the
 * sim's clock) and the averages equal the pool's usage; then, with the
 * pool's figures changed under it, a second snapshot still reports the
 * window's averages, not the driver's latest figures. */
START_TEST(test_sim_snapshot_averages)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = sim_conn();
    g_autoptr(VbInventory) want = vb_inventory_copy(vb_sim_conn_inventory(conn));
    VbConfig config = { .window_seconds = 300, .retention_seconds = 3600 };
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(VbCollector) collector = NULL;
    g_autoptr(VbInventory) first = NULL;
    g_autoptr(VbInventory) second = NULL;
    VbWindow w = { 0 };

    ck_assert_msg(store != NULL, "%s", error ? error->message : "");
    collector = vb_collector_new(conn, &vb_driver_sim, store, &config, &error);
    ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
    vb_collector_set_bootstrap_gap(collector, 2.0);

    first = vb_collector_snapshot(collector, &w, &error);
    ck_assert_msg(first != NULL, "%s", error ? error->message : "");
    ck_assert_msg(fabs(vb_driver_sim.now(conn) - 2.0) < 1e-9, "clock %f",
                  vb_driver_sim.now(conn));
    ck_assert_uint_eq(w.n_samples, 2);
    ck_assert_int_eq(w.end_us - w.start_us, 2 * G_USEC_PER_SEC);
    ck_assert_uint_eq(w.window_seconds, 300);

    scramble_load(vb_sim_conn_inventory(conn));
    /* off1 and kvm3 have no measured figures: they keep the driver's. */
    check_loads(want, (second = vb_collector_snapshot(collector, &w, &error)));
    ck_assert_uint_eq(w.n_samples, 2); /* history was usable: no new sample */
    ck_assert_str_eq(vb_inventory_get_host(second, "kvm3")->name, "kvm3");
    vb_driver_sim.close(conn);
}
END_TEST

/* Records two samples of kvm1 ending @age_s seconds ago, 10 s apart, at 50%. */
static void
record_old_samples(VbStore *store, gint64 age_s)
{
    g_autoptr(GError) error = NULL;
    gint64 end_us = g_get_real_time() - age_s * G_USEC_PER_SEC;

    for (guint i = 0; i < 2; i++) {
        VbSampleSet *set = vb_sample_set_new();
        VbHostSample *hs = vb_host_sample_new("kvm1");

        hs->up = TRUE;
        hs->timestamp_us = end_us - (1 - i) * 10 * G_USEC_PER_SEC;
        hs->monotonic_us = (gint64) i * 10 * G_USEC_PER_SEC;
        hs->cpu_cores = 8;
        hs->cpu_busy_ns = i * 40000000000ULL;
        hs->cpu_total_ns = i * 80000000000ULL;
        hs->memory_total_mib = 65536;
        g_ptr_array_add(set->hosts, hs);
        ck_assert_msg(vb_history_record(store, set, &error), "%s", error ? error->message : "");
        vb_sample_set_free(set);
    }
}

/* A snapshot trusts a history fresher than the sampling interval (no new
 * sample: the sim clock does not move, kvm1 keeps the recorded 50%), and
 * samples again when the newest sample is older than that. */
START_TEST(test_snapshot_freshness)
{
    const gint64 ages[] = { 5, 3600 };

    for (guint k = 0; k < G_N_ELEMENTS(ages); k++) {
        g_autoptr(GError) error = NULL;
        VbConn *conn = sim_conn();
        VbConfig config = { .window_seconds = 300, .retention_seconds = 7200,
                            .sample_interval_seconds = 30 };
        g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
        g_autoptr(VbCollector) collector = NULL;
        g_autoptr(VbInventory) inv = NULL;
        gboolean stale = ages[k] > 30;
        VbWindow w;

        collector = vb_collector_new(conn, &vb_driver_sim, store, &config, &error);
        ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
        vb_collector_set_bootstrap_gap(collector, 2.0);
        record_old_samples(store, ages[k]);
        inv = vb_collector_snapshot(collector, &w, &error);
        ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
        /* Stale: the sim's first sample has no usable delta against the old
         * rows (its clock restarts), so it bootstraps: two samples, 2 s. */
        ck_assert(fabs(vb_driver_sim.now(conn) - (stale ? 2.0 : 0.0)) < 1e-9);
        /* Either the two recorded samples, or (stale) the two new ones only. */
        ck_assert_uint_eq(w.n_samples, 2);
        if (stale)
            ck_assert(w.start_us > g_get_real_time() - 60 * G_USEC_PER_SEC);
        ck_assert(fabs(vb_inventory_get_host(inv, "kvm1")->cpu_usage -
                       (stale ? 0.625 : 0.5)) < 1e-6);
        vb_driver_sim.close(conn);
    }
}
END_TEST

/* refresh() on a pool with history samples once, without the gap. */
START_TEST(test_sim_refresh)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = sim_conn();
    VbConfig config = { .window_seconds = 60, .retention_seconds = 3600 };
    g_autoptr(VbStore) store = vb_store_open(":memory:", &error);
    g_autoptr(VbCollector) collector = vb_collector_new(conn, &vb_driver_sim, store, &config,
                                                        &error);
    g_autoptr(GPtrArray) hosts = NULL;
    VbWindow w;

    ck_assert_msg(collector != NULL, "%s", error ? error->message : "");
    vb_collector_set_bootstrap_gap(collector, 5.0);
    ck_assert(vb_collector_refresh(collector, &error));
    ck_assert(fabs(vb_driver_sim.now(conn) - 5.0) < 1e-9);
    vb_driver_sim.sleep(conn, 10.0);
    ck_assert(vb_collector_refresh(collector, &error));
    ck_assert(fabs(vb_driver_sim.now(conn) - 15.0) < 1e-9);
    hosts = vb_history_hosts(store, 0, 60, &w, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(w.n_samples, 3);
    ck_assert_uint_eq(hosts->len, 3);
    /* kvm1: two intervals, 5 s and 10 s, both at 0.625. */
    ck_assert_str_eq(((VbHostHistory *) hosts->pdata[0])->host, "kvm1");
    ck_assert_uint_eq(((VbHostHistory *) hosts->pdata[0])->n_intervals, 2);
    ck_assert(fabs(((VbHostHistory *) hosts->pdata[0])->average.cpu - 0.625) < 1e-6);
    ck_assert(!((VbHostHistory *) hosts->pdata[2])->up);
    ck_assert_msg(strstr(((VbHostHistory *) hosts->pdata[2])->reason, "kvm3"), "%s",
                  ((VbHostHistory *) hosts->pdata[2])->reason);
    vb_driver_sim.close(conn);
}
END_TEST

/* A session over an inventory samples it with the sim driver into memory;
 * a config naming an unknown driver is refused before anything opens. */
START_TEST(test_session)
{
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_data(sim_pool, sizeof(sim_pool) - 1, "sim-pool.yaml",
                                              &error);
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    VbConfig bad = { .filename = (char *) "vb.yaml", .driver = (char *) "xen" };
    VbWindow w;

    ck_assert_ptr_nonnull(inv);
    g_setenv(VB_COLLECTOR_GAP_ENV, "4", TRUE);
    session = vb_collect_session_open(NULL, inv, &error);
    g_unsetenv(VB_COLLECTOR_GAP_ENV);
    ck_assert_msg(session != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(session->window_seconds, VB_COLLECT_DEFAULT_WINDOW_S);
    ck_assert_str_eq(vb_store_path(session->store), ":memory:");
    ck_assert(vb_collector_refresh(session->collector, &error));
    /* The gap came from the environment. */
    ck_assert(fabs(session->ops->now(session->conn) - 4.0) < 1e-9);
    hosts = vb_history_hosts(session->store, 0, session->window_seconds, &w, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(hosts->len, 3);
    ck_assert(fabs(((VbHostHistory *) hosts->pdata[1])->average.cpu - 0.125) < 1e-6);

    ck_assert_ptr_null(vb_collect_session_open(&bad, NULL, &error));
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT));
    ck_assert_msg(strstr(error->message, "vb.yaml") && strstr(error->message, "xen"), "%s",
                  error->message);
}
END_TEST

/* The libvirt driver through a session, without a daemon: libvirt's own
 * test:///default host (in-process) and a host whose socket does not exist.
 * The history lands in a file database; the unreachable host is recorded
 * down with the driver's reason, and the snapshot keeps it down. */
START_TEST(test_libvirt_session)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-collect-XXXXXX", &error);
    g_autofree char *db = g_build_filename(dir, "state.db", NULL);
    VbConfigHost h1 = { .name = (char *) "t1", .uri = (char *) "test:///default" };
    VbConfigHost h2 = { .name = (char *) "t2",
                        .uri = (char *) "qemu+unix:///system?socket=/nonexistent/vb.sock" };
    VbConfigPool pool = { .name = (char *) "p", .shared_storage = TRUE };
    VbConfig config = { .filename = (char *) "vb.yaml", .driver = (char *) "libvirt",
                        .database = db, .window_seconds = 300, .retention_seconds = 3600,
                        .connect_timeout_seconds = 2 };
    g_autoptr(VbCollectSession) session = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    VbHostHistory *t2;
    VbWindow w;

    pool.hosts = g_ptr_array_new();
    g_ptr_array_add(pool.hosts, &h1);
    g_ptr_array_add(pool.hosts, &h2);
    config.pools = g_ptr_array_new();
    g_ptr_array_add(config.pools, &pool);
    g_setenv(VB_COLLECTOR_GAP_ENV, "0", TRUE);
    session = vb_collect_session_open(&config, NULL, &error);
    g_unsetenv(VB_COLLECTOR_GAP_ENV);
    ck_assert_msg(session != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(vb_store_path(session->store), db);
    inv = vb_collector_snapshot(session->collector, &w, &error);
    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(w.n_samples, 2);
    ck_assert_int_eq(vb_inventory_get_host(inv, "t2")->state, VB_HOST_STATE_DOWN);
    ck_assert_int_eq(vb_inventory_get_host(inv, "t1")->state, VB_HOST_STATE_UP);
    hosts = vb_history_hosts(session->store, 0, 300, NULL, &error);
    ck_assert_ptr_nonnull(hosts);
    ck_assert_uint_eq(hosts->len, 2);
    t2 = g_ptr_array_index(hosts, 1);
    ck_assert_str_eq(t2->host, "t2");
    ck_assert(!t2->up);
    ck_assert_msg(t2->reason && strstr(t2->reason, "nonexistent"), "%s", t2->reason);
    ck_assert(((VbHostHistory *) g_ptr_array_index(hosts, 0))->up);
    ck_assert_uint_eq(((VbHostHistory *) g_ptr_array_index(hosts, 0))->n_vms,
                      vb_inventory_get_host(inv, "t1")->vms->len);
    g_clear_pointer(&session, vb_collect_session_free);
    g_ptr_array_unref(pool.hosts);
    g_ptr_array_unref(config.pools);
    {
        g_autofree char *wal = g_strconcat(db, "-wal", NULL);
        g_autofree char *shm = g_strconcat(db, "-shm", NULL);

        g_unlink(wal);
        g_unlink(shm);
        ck_assert_int_eq(g_unlink(db), 0);
        ck_assert_int_eq(g_rmdir(dir), 0);
    }
}
END_TEST

/* ------------------------------------------------ status and inventory */

/* The commands, run as a person runs them: every folder of
 * tests/data/collectors/cli/ with an `args` file is a case (one argument per
 * line); the program runs in that folder and its stdout (timestamps replaced
 * by TIME), stderr and exit code are compared with the files beside it.
 * VB_CLI_BINARY overrides the program (default: the build's virt-balancer).
 * Besides the text comparison: a status JSON lists every host of the
 * inventory once with sane figures, and an inventory dump loads back into
 * the same inventory the case started from (the averages equal its usage). */
static GPtrArray *cli_cases;

static char *
cli_binary(void)
{
    const char *override = g_getenv("VB_CLI_BINARY");
    const char *builddir = g_getenv("VB_BUILDDIR");

    if (override && *override)
        return g_strdup(override);
    return g_build_filename(builddir ? builddir : VB_BUILDDIR, "virt-balancer", NULL);
}

static char **
cli_args(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "args", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    g_ptr_array_add(argv, cli_binary());
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (lines[i][0] != '\0' && lines[i][0] != '#')
            g_ptr_array_add(argv, g_strdup(lines[i]));
    g_ptr_array_add(argv, NULL);
    return (char **) g_ptr_array_free(argv, FALSE);
}

static char *
mask_times(const char *text)
{
    g_autoptr(GRegex) re = g_regex_new("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", 0, 0, NULL);

    return g_regex_replace_literal(re, text, -1, 0, "TIME", 0, NULL);
}

static VbInventory *
cli_pool(void)
{
    g_autofree char *path = vb_test_data_path("collectors/cli/pool.yaml");
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_file(path, &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return inv;
}

static void
check_status_json(const char *out)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(VbInventory) inv = cli_pool();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonObject *doc;
    JsonArray *hosts;

    ck_assert_msg(json_parser_load_from_data(parser, out, -1, NULL), "not JSON: %s", out);
    doc = json_node_get_object(json_parser_get_root(parser));
    ck_assert(json_object_get_int_member(json_object_get_object_member(doc, "window"),
                                         "samples") >= 2);
    hosts = json_object_get_array_member(doc, "hosts");
    ck_assert_uint_eq(json_array_get_length(hosts), inv->hosts->len);
    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);
        const char *name = json_object_get_string_member(h, "name");
        const VbHost *host = vb_inventory_get_host(inv, name);
        JsonNode *cpu = json_object_get_member(json_object_get_object_member(h, "average"),
                                               "cpu");

        ck_assert_msg(host != NULL && g_hash_table_add(seen, (gpointer) name), "%s", name);
        ck_assert_str_eq(json_object_get_string_member(h, "state"),
                         vb_host_state_to_string(host->state));
        if (host->state == VB_HOST_STATE_DOWN)
            ck_assert(JSON_NODE_HOLDS_NULL(cpu));
        else
            ck_assert(fabs(json_node_get_double(cpu) - host->cpu_usage) < 1e-6);
    }
}

static void
check_inventory_yaml(const char *out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) want = cli_pool();
    g_autoptr(VbInventory) got = vb_inventory_load_data(out, strlen(out), "stdout", &error);
    g_autofree char *want_yaml = NULL;
    g_autofree char *got_yaml = NULL;

    ck_assert_msg(got != NULL, "%s", error ? error->message : "");
    want_yaml = vb_inventory_to_yaml(want);
    got_yaml = vb_inventory_to_yaml(got);
    ck_assert_str_eq(got_yaml, want_yaml);
}

START_TEST(test_cli_cases)
{
    const char *name = g_ptr_array_index(cli_cases, _i);
    g_autofree char *rel = g_build_filename("collectors", "cli", name, NULL);
    g_autofree char *dir = vb_test_data_path(rel);
    g_auto(GStrv) argv = cli_args(dir);
    g_auto(GStrv) envp = g_get_environ();
    g_autofree char *out = NULL, *err = NULL, *masked = NULL, *code = NULL;
    g_autofree char *out_path = g_build_filename(dir, "stdout", NULL);
    g_autofree char *err_path = g_build_filename(dir, "stderr", NULL);
    g_autofree char *code_path = g_build_filename(dir, "exit-code", NULL);
    g_autoptr(GError) error = NULL;
    int status = 0;

    envp = g_environ_setenv(envp, "NO_COLOR", "1", TRUE);
    envp = g_environ_setenv(envp, "VIRT_BALANCER_CONFIG", "no-such-config.yaml", TRUE);
    ck_assert_msg(g_spawn_sync(dir, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error),
                  "%s: %s", argv[0], error ? error->message : "");
    masked = mask_times(out);
    code = g_strdup_printf("%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    vb_test_compare_file(out_path, masked);
    vb_test_compare_file(err_path, err);
    vb_test_compare_file(code_path, code);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_str_has_prefix(name, "status-json"))
        check_status_json(out);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_str_has_prefix(name, "inventory-yaml"))
        check_inventory_yaml(out);
}
END_TEST

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
cli_cases_scan(void)
{
    g_autofree char *dir = vb_test_data_path("collectors/cli");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    cli_cases = g_ptr_array_new_with_free_func(g_free);
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *args = g_build_filename(dir, name, "args", NULL);

        if (g_file_test(args, G_FILE_TEST_EXISTS))
            g_ptr_array_add(cli_cases, g_strdup(name));
    }
    g_ptr_array_sort(cli_cases, compare_names);
}

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
    suite_add_tcase(s, tc);

    tc = tcase_create("usage");
    tcase_add_test(tc, test_deltas_table);
    tcase_add_loop_test(tc, test_window_scenarios, 0, G_N_ELEMENTS(window_scenarios));
    suite_add_tcase(s, tc);

    tc = tcase_create("sim");
    tcase_add_test(tc, test_sim_snapshot_averages);
    tcase_add_test(tc, test_sim_refresh);
    tcase_add_test(tc, test_snapshot_freshness);
    tcase_add_test(tc, test_session);
    tcase_add_test(tc, test_libvirt_session);
    suite_add_tcase(s, tc);

    cli_cases_scan();
    tc = tcase_create("cli");
    tcase_add_loop_test(tc, test_cli_cases, 0, (int) cli_cases->len);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(collectors_suite)
