/*
 * vb-bench.c: how fast virt-balancer decides, how good its decisions are.
 *
 * For each pool size (hosts / guests) it generates a seeded pool with
 * vb_inventory_generate(), writes it in the inventory format, and measures in
 * one process per size (so peak RSS belongs to that size alone):
 *   - loading the inventory file,
 *   - for each policy (the built-in defaults, the everyday run whose budget of
 *     20 moves the targets are about; and --policy FILE when given, e.g.
 *     bench/bench-policy.yaml whose budget lets rebalance run to the end):
 *     rebalance, evacuation of the hottest host, place of one new guest,
 * each repeated (median, min and max of wall time on the monotonic clock;
 * only the planner call is timed, not freeing the previous result), and the
 * plan's quality: imbalance before/after (pooled std dev of weighted host
 * load, and the largest max-min spread inside a pool), moves, moves per unit
 * of imbalance removed, and the most moves into one host.
 * Then, once, the evacuation makespan of issue 5 on the sim driver: 50
 * guests of mixed sizes under a cap of 5, executed by the scheduler's
 * executor in virtual time, against max(longest move, total / cap).
 *
 * Planning is single-threaded; nothing here runs in parallel. Output is
 * Markdown tables (docs/benchmarks.md holds the latest ones).
 *
 * Usage: vb-bench [--sizes 10x200,100x2000,...] [--reps N] [--seed S]
 *                 [--policy FILE] [--keep DIR] [--no-makespan] [--cpu-time]
 *
 * --cpu-time times rebalance, evacuate and place by the CPU time of the
 * planning thread instead of the wall clock (loading stays wall time): on a
 * shared machine it tells the planner's own cost from waiting for a core.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/drivers.h"
#include "placement/placement.h"
#include "policies/policies.h"
#include "pool/pool.h"
#include "scheduler/scheduler.h"

typedef struct {
    guint hosts;
    guint vms;
} BenchSize;

typedef struct {
    double median, min, max; /* milliseconds */
} BenchTime;

/* One policy the planners run with, and a short name for the tables. */
typedef struct {
    const VbPolicy *policy;
    const char *name;
} BenchPolicy;

/* What one policy's runs on one size gave. */
typedef struct {
    BenchTime rebalance, evacuate, place;
    VbPlan *rebalance_plan; /* owned */
    VbPlan *evacuate_plan;  /* owned */
    guint hot;              /* the evacuated host */
} BenchRun;

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

/* --cpu-time: the planner calls are timed by the CPU time of this thread,
 * not the wall clock: on a machine shared with other work the wall time of a
 * 1 ms call is mostly waiting for a core. */
static gboolean planner_cpu_time;

static gint64
planner_clock_us(void)
{
    struct timespec ts;

    if (!planner_cpu_time)
        return g_get_monotonic_time();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static double
planner_ms_since(gint64 start_us)
{
    return (planner_clock_us() - start_us) / 1000.0;
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
        gint64 start;

        g_clear_pointer(&inv, vb_inventory_free);
        start = g_get_monotonic_time();
        inv = vb_inventory_load_file(path, &error);
        samples[r] = ms_since(start);
        if (!inv)
            g_error("cannot load the generated inventory: %s", error->message);
    }
    *ret = summarize(samples, reps);
    return inv;
}

/* @host NULL: rebalance; else evacuate @host. Times the planner call alone. */
static VbPlan *
time_plan(const VbInventory *inv, const VbPolicy *policy, const char *host, guint reps,
          BenchTime *ret)
{
    g_autofree double *samples = g_new(double, reps);
    VbPlanOptions opts = { .now = 2000000000 };
    VbPlan *plan = NULL;

    for (guint r = 0; r < reps; r++) {
        g_autoptr(GError) error = NULL;
        gint64 start;

        g_clear_pointer(&plan, vb_plan_free);
        start = planner_clock_us();
        plan = host ? vb_placement_evacuate(inv, policy, host, &opts, &error)
                    : vb_placement_rebalance(inv, policy, &opts, &error);
        samples[r] = planner_ms_since(start);
        if (!plan)
            g_error("%s failed: %s", host ? "evacuate" : "rebalance", error->message);
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
        g_autoptr(VbRanking) ranking = NULL;
        gint64 start = planner_clock_us();

        ranking = vb_placement_place(inv, policy, &spec, &error);
        samples[r] = planner_ms_since(start);
        if (!ranking)
            g_error("place failed: %s", error->message);
        /* the ranking is freed here, outside the timed call */
    }
    return summarize(samples, reps);
}

/* Rebalance, evacuation of the hottest host and place under one policy. */
static BenchRun
bench_policy(const VbInventory *inv, const VbPolicy *policy, guint reps)
{
    BenchRun run = { 0 };

    run.rebalance_plan = time_plan(inv, policy, NULL, reps, &run.rebalance);
    run.hot = hottest_host(inv, policy);
    run.evacuate_plan = time_plan(inv, policy, vb_inventory_host(inv, run.hot)->name, reps,
                                      &run.evacuate);
    run.place = time_place(inv, policy, MAX(reps, 20));
    return run;
}

static void
print_time(const char *what, const char *policy, BenchTime t)
{
    g_autofree char *label = g_strdup_printf("%s (%s)", what, policy);

    printf("| %-42s | %10.3f | %10.3f | %10.3f |\n", label, t.median, t.min, t.max);
}

/* One row of the quality table: a label, then one cell per policy. */
#define QUALITY_ROW(label, fmt, ...)                                                   \
    do {                                                                               \
        printf("| %s |", label);                                                       \
        for (guint q = 0; q < n_policies; q++) {                                       \
            const BenchRun *r = &runs[q];                                              \
            const VbPlan *rb = r->rebalance_plan;                                      \
            double removed = rb->imbalance_before - rb->imbalance_after;               \
            (void) removed;                                                            \
            printf(" " fmt " |", __VA_ARGS__);                                         \
        }                                                                              \
        printf("\n");                                                                  \
    } while (0)

static void
print_quality(const VbInventory *inv, const BenchPolicy *policies, const BenchRun *runs,
              guint n_policies)
{
    printf("\n| figure |");
    for (guint q = 0; q < n_policies; q++)
        printf(" %s |", policies[q].name);
    printf("\n|---|");
    for (guint q = 0; q < n_policies; q++)
        printf("---:|");
    printf("\n");
    QUALITY_ROW("budget (moves)", "%u", policies[q].policy->max_migrations);
    QUALITY_ROW("imbalance before -> after (std dev)", "%.4f -> %.4f", rb->imbalance_before,
                rb->imbalance_after);
    QUALITY_ROW("largest max-min spread in a pool before -> after", "%.4f -> %.4f",
                max_pool_spread(inv, rb->before), max_pool_spread(inv, rb->after));
    QUALITY_ROW("moves planned", "%u", rb->moves->len);
    QUALITY_ROW("imbalance removed (% of before)", "%.1f %%",
                rb->imbalance_before > 0 ? 100 * removed / rb->imbalance_before : 0.0);
    QUALITY_ROW("moves per 0.01 of imbalance removed", "%.2f",
                removed > 0 ? rb->moves->len / (removed * 100) : 0.0);
    QUALITY_ROW("most moves into one host", "%u", max_moves_into_one_host(inv, rb));
    QUALITY_ROW("stop reason", "%s", rb->stop_reason ? rb->stop_reason : "-");
    QUALITY_ROW("evacuated host: guests, moved, unplaced", "%s: %u, %u, %u",
                vb_inventory_host(inv, r->hot)->name, vb_inventory_host(inv, r->hot)->vms->len,
                r->evacuate_plan->moves->len, r->evacuate_plan->unplaced->len);
}

/* Runs every measurement for one size and prints its section. */
static void
bench_size(BenchSize size, guint reps, guint64 seed, const BenchPolicy *policies,
           guint n_policies, const char *dir)
{
    VbGenerateParams params;
    g_autoptr(VbInventory) generated = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autofree char *yaml = NULL;
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree BenchRun *runs = g_new0(BenchRun, n_policies);
    BenchTime load_t;
    guint load_reps = size.vms >= 100000 ? 3 : reps;
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
    for (guint q = 0; q < n_policies; q++)
        runs[q] = bench_policy(inv, policies[q].policy, reps);

    printf("\n### %u hosts / %u guests (%u pools, seed %" G_GUINT64_FORMAT ")\n\n", size.hosts,
           size.vms, params.n_pools, seed);
    printf("| step (ms; %u runs, %u for loading, %u for place%s) | median | min | max |\n", reps,
           load_reps, MAX(reps, 20), planner_cpu_time ? "; planners: thread CPU time" : "");
    printf("|---|---:|---:|---:|\n");
    printf("| %-42s | %10.3f | %10.3f | %10.3f |\n", "load inventory", load_t.median, load_t.min,
           load_t.max);
    for (guint q = 0; q < n_policies; q++) {
        print_time("rebalance", policies[q].name, runs[q].rebalance);
        print_time("evacuate hottest host", policies[q].name, runs[q].evacuate);
        print_time("place one guest", policies[q].name, runs[q].place);
    }
    printf("\n| figure | value |\n|---|---:|\n");
    printf("| generate pool (ms, once) | %.1f |\n", gen_ms);
    printf("| peak RSS (MiB) | %.1f |\n", peak_rss_kib() / 1024.0);
    print_quality(inv, policies, runs, n_policies);
    for (guint q = 0; q < n_policies; q++) {
        vb_plan_free(runs[q].rebalance_plan);
        vb_plan_free(runs[q].evacuate_plan);
    }
    fflush(stdout);
}

/* ------------------------------------------------------------- makespan */

/* Issue 5's evacuation makespan, the scenario of tests/scheduler-test-crash.c:
 * 11 equal hosts, 50 guests of 512..8192 MiB with dirty rates 0..39 MiB/s on
 * h0, a cap of 5 migrations, evacuated by the executor on the sim driver
 * (virtual time: migrations take memory, dirty rate and bandwidth). */
static VbInventory *
makespan_pool(void)
{
    VbInventory *inv = vb_inventory_new();
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);

    pool->shared_storage = TRUE;
    for (guint i = 0; i < 11; i++) {
        g_autofree char *name = g_strdup_printf("h%u", i);
        VbHost *h = vb_inventory_add_host(inv, pool, name, NULL);

        h->hypervisor = g_strdup("kvm");
        h->cpu_vendor = g_strdup("Intel");
        h->cpu_cores = 64;
        h->memory_mib = 262144;
        h->storage_total_gib = h->storage_free_gib = 1000;
        h->migration_bandwidth_mib_s = 100;
    }
    for (guint i = 0; i < 50; i++) {
        g_autofree char *name = g_strdup_printf("vm%02u", i);
        VbHost *h0 = vb_inventory_host(inv, 0);
        VbVm *vm = vb_inventory_add_vm(inv, h0, name, NULL);

        vm->vcpus = 1;
        vm->memory_mib = 512 * (1 + (i * 7) % 16);
        vm->cpu_usage = 0.5;
        vm->dirty_rate_mib_s = (i * 13) % 40;
        h0->memory_used_mib += vm->memory_mib;
        h0->cpu_usage += 0.5 / h0->cpu_cores;
    }
    return inv;
}

static void
bench_makespan(void)
{
    g_autoptr(VbInventory) inv = makespan_pool();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(VbExecReport) report = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions popts = { .now = 1 };
    VbExecOptions opts = { 0 };
    double longest = 0, total = 0, bound, makespan;
    gint64 start;
    VbConn *conn;

    policy->migration.max_total = 5;
    policy->migration.evacuation_batch = 5;
    policy->migration.max_per_source = 5;
    plan = vb_placement_evacuate(inv, policy, "h0", &popts, &error);
    if (!plan)
        g_error("makespan: evacuate failed: %s", error->message);
    for (guint i = 0; i < plan->moves->len; i++) {
        double sec = g_array_index(plan->moves, VbMove, i).estimated_seconds;

        longest = MAX(longest, sec);
        total += sec;
    }
    bound = MAX(longest, total / 5);
    conn = vb_sim_conn_new(vb_inventory_copy(inv));
    opts = (VbExecOptions){ .ops = &vb_driver_sim, .conn = conn, .policy = policy,
                            .now_unix = 1 };
    start = g_get_monotonic_time();
    report = vb_executor_run(&opts, inv, plan, &error);
    if (!report)
        g_error("makespan: the executor failed: %s", error->message);
    makespan = report->ended_clock - report->started_clock;
    printf("\n### evacuation makespan (sim driver, virtual time)\n\n");
    printf("| figure | value |\n|---|---:|\n");
    printf("| guests evacuated (finished / planned) | %u / %u |\n", report->finished,
           plan->moves->len);
    printf("| cap (migrations at once); most running | 5; %u |\n", report->max_running);
    printf("| longest move (s) | %.1f |\n", longest);
    printf("| total move time / cap (s) | %.1f |\n", total / 5);
    printf("| lower bound max(longest, total / cap) (s) | %.1f |\n", bound);
    printf("| makespan (s) | %.1f |\n", makespan);
    printf("| makespan / lower bound | %.3f (target <= 1.100: %s) |\n", makespan / bound,
           makespan <= 1.10 * bound ? "met" : "missed");
    printf("| wall time of the executor run (ms) | %.1f |\n", ms_since(start));
    vb_driver_sim.close(conn);
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
    /* GOption overwrites without freeing: the default is applied after. */
    g_autofree char *sizes_text = NULL;
    g_autofree char *policy_path = NULL;
    g_autofree char *keep = NULL;
    gint reps = 9;
    gint64 seed = 42;
    gboolean no_makespan = FALSE;
    GOptionEntry entries[] = {
        { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes_text, "pool sizes", "HxG,..." },
        { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions per step", "N" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "generator seed", "S" },
        { "policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_path, "policy file", "FILE" },
        { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "keep generated pools in DIR", "DIR" },
        { "no-makespan", 0, 0, G_OPTION_ARG_NONE, &no_makespan, "skip the evacuation makespan",
          NULL },
        { "cpu-time", 0, 0, G_OPTION_ARG_NONE, &planner_cpu_time,
          "time the planner calls by thread CPU time, not wall time", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- virt-balancer planner benchmark");
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(BenchSize));
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();
    g_autoptr(VbPolicy) policy = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *policy_name = NULL;
    BenchPolicy policies[2];
    guint n_policies = 0;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error) ||
        !parse_sizes(sizes_text ? sizes_text : "10x200,100x2000,1000x20000,10000x200000", sizes,
                     &error)) {
        fprintf(stderr, "vb-bench: %s\n", error->message);
        return 2;
    }
    if (reps < 1) {
        fprintf(stderr, "vb-bench: --reps must be at least 1\n");
        return 2;
    }
    policies[n_policies++] = (BenchPolicy){ .policy = defaults, .name = "defaults" };
    if (policy_path) {
        policy = vb_policy_load_file(policy_path, &error);
        if (!policy) {
            fprintf(stderr, "vb-bench: %s\n", error->message);
            return 3;
        }
        policy_name = g_path_get_basename(policy_path);
        policies[n_policies++] = (BenchPolicy){ .policy = policy, .name = policy_name };
    }
    dir = keep ? g_strdup(keep) : g_dir_make_tmp("vb-bench-XXXXXX", &error);
    if (!dir || g_mkdir_with_parents(dir, 0755) < 0) {
        fprintf(stderr, "vb-bench: cannot make a work folder: %s\n",
                error ? error->message : g_strerror(errno));
        return 1;
    }
    printf("## virt-balancer planner benchmark\n\n");
    for (guint q = 0; q < n_policies; q++)
        printf("policy %s: %s; goal %s; budget %u moves; one thread\n", policies[q].name,
               q == 0 ? "built-in defaults" : policy_path, vb_goal_names[policies[q].policy->goal],
               policies[q].policy->max_migrations);
    fflush(stdout);
    for (guint i = 0; i < sizes->len; i++) {
        pid_t pid = fork();
        int status = 0;

        if (pid == 0) {
            bench_size(g_array_index(sizes, BenchSize, i), reps, seed, policies, n_policies, dir);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "vb-bench: the run for size %u failed\n", i);
            return 1;
        }
    }
    if (!no_makespan)
        bench_makespan();
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
