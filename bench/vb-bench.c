/*
 * vb-bench.c: how fast virt-balancer decides, how good its decisions are.
 *
 * For each pool size (hosts / guests) it generates a seeded pool with
 * vb_inventory_generate(), writes it in the inventory format, and measures in
 * one process per size (so peak RSS belongs to that size alone):
 *   - loading the inventory file,
 *   - rebalance, evacuation of the hottest host, place of one new guest,
 * each repeated (median, min and max of wall time on the monotonic clock), and
 * the plan's quality: imbalance before/after (pooled std dev of weighted host
 * load, and the largest max-min spread inside a pool), moves, moves per unit of
 * imbalance removed, and the most moves into one host.
 *
 * Planning is single-threaded; nothing here runs in parallel. Output is a
 * Markdown table (docs/benchmarks.md holds the latest one).
 *
 * Usage: vb-bench [--sizes 10x200,100x2000,...] [--reps N] [--seed S]
 *                 [--policy FILE] [--keep DIR]
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "placement/placement.h"
#include "policies/policies.h"
#include "pool/pool.h"

typedef struct {
    guint hosts;
    guint vms;
} BenchSize;

typedef struct {
    double median, min, max; /* milliseconds */
} BenchTime;

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static BenchTime
summarize(double *samples, guint n)
{
    BenchTime t;

    qsort(samples, n, sizeof(double), cmp_double);
    t.min = samples[0];
    t.max = samples[n - 1];
    t.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return t;
}

static double
ms_since(gint64 start_us)
{
    return (g_get_monotonic_time() - start_us) / 1000.0;
}

/* Largest max-min spread of weighted load inside one pool, over up hosts. */
static double
max_pool_spread(const VbInventory *inv, const VbHostLoad *loads)
{
    double worst = 0;

    for (guint p = 0; p < inv->pools->len; p++) {
        const VbPool *pool = vb_inventory_pool(inv, p);
        double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;

        for (guint i = 0; i < pool->hosts->len; i++) {
            guint h = g_array_index(pool->hosts, guint, i);

            if (vb_inventory_host(inv, h)->state != VB_HOST_STATE_UP)
                continue;
            lo = MIN(lo, loads[h].weighted);
            hi = MAX(hi, loads[h].weighted);
        }
        if (hi >= lo)
            worst = MAX(worst, hi - lo);
    }
    return worst;
}

static guint
max_moves_into_one_host(const VbInventory *inv, const VbPlan *plan)
{
    g_autofree guint *count = g_new0(guint, inv->hosts->len);
    guint best = 0;

    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *m = &g_array_index(plan->moves, VbMove, i);

        best = MAX(best, ++count[m->to]);
    }
    return best;
}

static guint
hottest_host(const VbInventory *inv, const VbPolicy *policy)
{
    g_autofree VbHostLoad *loads = vb_placement_host_loads(inv, policy);
    guint best = 0;
    double best_load = -1;

    for (guint h = 0; h < inv->hosts->len; h++) {
        if (vb_inventory_host(inv, h)->state == VB_HOST_STATE_UP && loads[h].weighted > best_load) {
            best_load = loads[h].weighted;
            best = h;
        }
    }
    return best;
}

static glong
peak_rss_kib(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

static VbInventory *
time_load(const char *path, guint reps, BenchTime *ret)
{
    g_autofree double *samples = g_new(double, reps);
    VbInventory *inv = NULL;

    for (guint r = 0; r < reps; r++) {
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        g_clear_pointer(&inv, vb_inventory_free);
        inv = vb_inventory_load_file(path, &error);
        samples[r] = ms_since(start);
        if (!inv)
            g_error("cannot load the generated inventory: %s", error->message);
    }
    *ret = summarize(samples, reps);
    return inv;
}

static VbPlan *
time_rebalance(const VbInventory *inv, const VbPolicy *policy, guint reps, BenchTime *ret)
{
    g_autofree double *samples = g_new(double, reps);
    VbPlanOptions opts = { .now = 2000000000 };
    VbPlan *plan = NULL;

    for (guint r = 0; r < reps; r++) {
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        g_clear_pointer(&plan, vb_plan_free);
        plan = vb_placement_rebalance(inv, policy, &opts, &error);
        samples[r] = ms_since(start);
        if (!plan)
            g_error("rebalance failed: %s", error->message);
    }
    *ret = summarize(samples, reps);
    return plan;
}

static VbPlan *
time_evacuate(const VbInventory *inv, const VbPolicy *policy, const char *host, guint reps,
              BenchTime *ret)
{
    g_autofree double *samples = g_new(double, reps);
    VbPlanOptions opts = { .now = 2000000000 };
    VbPlan *plan = NULL;

    for (guint r = 0; r < reps; r++) {
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        g_clear_pointer(&plan, vb_plan_free);
        plan = vb_placement_evacuate(inv, policy, host, &opts, &error);
        samples[r] = ms_since(start);
        if (!plan)
            g_error("evacuate failed: %s", error->message);
    }
    *ret = summarize(samples, reps);
    return plan;
}

static BenchTime
time_place(const VbInventory *inv, const VbPolicy *policy, guint reps)
{
    g_autofree double *samples = g_new(double, reps);
    VbVmSpec spec = {
        .name = (char *) "new-guest", .vcpus = 4, .memory_mib = 8192, .disk_gib = 40,
        .disk_shared = TRUE, .cpu_usage = 0.5,
    };

    for (guint r = 0; r < reps; r++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) ranking = NULL;
        gint64 start = g_get_monotonic_time();

        ranking = vb_placement_place(inv, policy, &spec, &error);
        samples[r] = ms_since(start);
        if (!ranking)
            g_error("place failed: %s", error->message);
    }
    return summarize(samples, reps);
}

static void
print_time(const char *what, BenchTime t)
{
    printf("| %-30s | %10.3f | %10.3f | %10.3f |\n", what, t.median, t.min, t.max);
}

/* Runs every measurement for one size and prints its section. */
static void
bench_size(BenchSize size, guint reps, guint64 seed, const VbPolicy *policy, const char *dir)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) generated = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPlan) rebalance = NULL;
    g_autoptr(VbPlan) evacuate = NULL;
    g_autofree char *yaml = NULL;
    g_autofree char *path = NULL;
    g_autofree VbHostLoad *loads = NULL;
    g_autoptr(GError) error = NULL;
    BenchTime load_t, rebalance_t, evacuate_t, place_t;
    guint load_reps = size.vms >= 100000 ? 3 : reps;
    guint hot;
    double removed;
    gint64 gen_start = g_get_monotonic_time();
    double gen_ms;

    vb_generate_params_init(&params);
    params.n_hosts = size.hosts;
    params.n_vms = size.vms;
    params.n_pools = MAX(1, size.hosts / 250);
    params.seed = seed;
    generated = vb_inventory_generate(&params);
    gen_ms = ms_since(gen_start);
    yaml = vb_inventory_to_yaml(generated);
    path = g_strdup_printf("%s/pool-%u-%u.yaml", dir, size.hosts, size.vms);
    if (!g_file_set_contents(path, yaml, -1, &error))
        g_error("cannot write %s: %s", path, error->message);
    g_clear_pointer(&generated, vb_inventory_free);
    g_clear_pointer(&yaml, g_free);

    inv = time_load(path, load_reps, &load_t);
    rebalance = time_rebalance(inv, policy, reps, &rebalance_t);
    hot = hottest_host(inv, policy);
    evacuate = time_evacuate(inv, policy, vb_inventory_host(inv, hot)->name, reps, &evacuate_t);
    place_t = time_place(inv, policy, MAX(reps, 20));
    loads = vb_placement_host_loads(inv, policy);
    removed = rebalance->imbalance_before - rebalance->imbalance_after;

    printf("\n### %u hosts / %u guests (%u pools, seed %" G_GUINT64_FORMAT ")\n\n", size.hosts,
           size.vms, params.n_pools, seed);
    printf("| step (ms; %u runs, %u for loading) | median | min | max |\n", reps, load_reps);
    printf("|---|---:|---:|---:|\n");
    print_time("load inventory", load_t);
    print_time("rebalance", rebalance_t);
    print_time("evacuate hottest host", evacuate_t);
    print_time("place one guest", place_t);
    printf("\n| figure | value |\n|---|---:|\n");
    printf("| generate pool (ms, once) | %.1f |\n", gen_ms);
    printf("| peak RSS (MiB) | %.1f |\n", peak_rss_kib() / 1024.0);
    printf("| imbalance before -> after (std dev) | %.4f -> %.4f |\n",
           rebalance->imbalance_before, rebalance->imbalance_after);
    printf("| largest max-min spread in a pool before -> after | %.4f -> %.4f |\n",
           max_pool_spread(inv, rebalance->before), max_pool_spread(inv, rebalance->after));
    printf("| moves planned | %u |\n", rebalance->moves->len);
    printf("| moves per 0.01 of imbalance removed | %.2f |\n",
           removed > 0 ? rebalance->moves->len / (removed * 100) : 0.0);
    printf("| most moves into one host | %u |\n", max_moves_into_one_host(inv, rebalance));
    printf("| stop reason | %s |\n", rebalance->stop_reason ? rebalance->stop_reason : "-");
    printf("| evacuated host: guests, moved, unplaced | %s: %u, %u, %u |\n",
           vb_inventory_host(inv, hot)->name, vb_inventory_host(inv, hot)->vms->len,
           evacuate->moves->len, evacuate->unplaced->len);
    (void) loads;
    fflush(stdout);
}

static gboolean
parse_sizes(const char *text, GArray *sizes, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        BenchSize size;

        if (sscanf(parts[i], "%ux%u", &size.hosts, &size.vms) != 2 || size.hosts == 0) {
            g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                        "--sizes: '%s' is not HOSTSxGUESTS (e.g. 1000x20000)", parts[i]);
            return FALSE;
        }
        g_array_append_val(sizes, size);
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autofree char *sizes_text = g_strdup("10x200,100x2000,1000x20000,10000x200000");
    g_autofree char *policy_path = NULL;
    g_autofree char *keep = NULL;
    gint reps = 9;
    gint64 seed = 42;
    GOptionEntry entries[] = {
        { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes_text, "pool sizes", "HxG,..." },
        { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions per step", "N" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "generator seed", "S" },
        { "policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_path, "policy file", "FILE" },
        { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "keep generated pools in DIR", "DIR" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- virt-balancer planner benchmark");
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(BenchSize));
    g_autoptr(VbPolicy) policy = NULL;
    g_autofree char *dir = NULL;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error) ||
        !parse_sizes(sizes_text, sizes, &error)) {
        fprintf(stderr, "vb-bench: %s\n", error->message);
        return 2;
    }
    if (reps < 1) {
        fprintf(stderr, "vb-bench: --reps must be at least 1\n");
        return 2;
    }
    policy = policy_path ? vb_policy_load_file(policy_path, &error) : vb_policy_new_default();
    if (!policy) {
        fprintf(stderr, "vb-bench: %s\n", error->message);
        return 3;
    }
    dir = keep ? g_strdup(keep) : g_dir_make_tmp("vb-bench-XXXXXX", &error);
    if (!dir || g_mkdir_with_parents(dir, 0755) < 0) {
        fprintf(stderr, "vb-bench: cannot make a work folder: %s\n",
                error ? error->message : g_strerror(errno));
        return 1;
    }
    printf("## virt-balancer planner benchmark\n\n");
    printf("policy: %s; goal %s; budget %u moves; one thread\n",
           policy_path ? policy_path : "built-in defaults", vb_goal_names[policy->goal],
           policy->max_migrations);
    fflush(stdout);
    for (guint i = 0; i < sizes->len; i++) {
        pid_t pid = fork();
        int status = 0;

        if (pid == 0) {
            bench_size(g_array_index(sizes, BenchSize, i), reps, seed, policy, dir);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "vb-bench: the run for size %u failed\n", i);
            return 1;
        }
    }
    if (!keep) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, name, NULL);

            g_unlink(p);
        }
        g_rmdir(dir);
    }
    return 0;
}
