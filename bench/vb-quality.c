/*
 * vb-quality.c: how good the planner's decisions are (issue 8's quality
 * targets), printed as Markdown for docs/benchmarks.md. Three sections:
 *   optimum   the highest host memory utilisation after K moves under a
 *             memory-only policy against the integer-programming optimum
 *             for the same K (needs `cbc`, Debian package coinor-cbc;
 *             without it the section says "skipped");
 *   hotspots  hosts above high_water on any metric before and after a plan,
 *             those the plan creates, and broken must rules left where a
 *             repair exists;
 *   churn     a settled pool replayed for a simulated day with guest CPU
 *             jittering around its base: migrations per day and per guest.
 * Nothing here is asserted: the targets are the planner's, these are the
 * instruments. Every figure comes from the public placement API on pools of
 * pool/generate.c, so it measures whatever planner is built. Run-time: a few
 * seconds without cbc; with it, up to the time limit per solve.
 *
 * Usage: vb-quality [--sections optimum,hotspots,churn] [--cbc PATH]
 *                   [--optimum-pools 10x200x1,...] [--ks 0,10] [--seconds N]
 *                   [--hotspot-pools ...] [--churn-pool 50x1000x1]
 *                   [--churn-hours 24] [--churn-intervals 1800,600] [--seed S]
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/machine.h"
#include "bench/quality.h"

/* -------------------------------------------------------- shared helpers */

VbInventory *
vb_quality_generate(const VbQualityPool *qp)
{
    VbGenerateParams params;

    vb_generate_params_init(&params);
    params.n_hosts = qp->hosts;
    params.n_vms = qp->vms;
    params.n_pools = qp->pools;
    params.seed = qp->seed;
    return vb_inventory_generate(&params);
}

char *
vb_quality_pool_label(const VbQualityPool *qp)
{
    return g_strdup_printf("%u hosts / %u guests, %u pool%s, seed %" G_GUINT64_FORMAT, qp->hosts,
                           qp->vms, qp->pools, qp->pools == 1 ? "" : "s", qp->seed);
}

gboolean
vb_quality_host_counts(const VbInventory *inv, const VbPolicy *policy, guint h)
{
    const VbHost *host = vb_inventory_host(inv, h);

    return host->state == VB_HOST_STATE_UP &&
           !(policy->exclude_hosts &&
             g_strv_contains((const char *const *) policy->exclude_hosts, host->name));
}

double
vb_quality_max_memory(const VbInventory *inv, const VbPolicy *policy, const VbHostLoad *loads)
{
    double best = 0;

    for (guint h = 0; h < inv->hosts->len; h++) {
        if (vb_quality_host_counts(inv, policy, h))
            best = MAX(best, loads[h].load[VB_METRIC_MEMORY]);
    }
    return best;
}

VbPlan *
vb_quality_rebalance(const VbInventory *inv, const VbPolicy *policy, gint64 now, guint max_moves)
{
    VbPlanOptions opts = { .now = now, .max_moves = max_moves };
    g_autoptr(GError) error = NULL;
    VbPlan *plan = vb_placement_rebalance(inv, policy, &opts, &error);

    if (!plan)
        g_error("rebalance failed: %s", error->message);
    return plan;
}

/* ------------------------------------------------------------ options */

/* "HOSTSxGUESTS[xPOOLS]" items, comma-separated; pools default to 1. */
static gboolean
parse_pools(const char *text, guint64 seed, GArray *pools, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        VbQualityPool qp = { .pools = 1, .seed = seed };
        int n = sscanf(parts[i], "%ux%ux%u", &qp.hosts, &qp.vms, &qp.pools);

        if (n < 2 || qp.hosts == 0 || qp.pools == 0) {
            g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                        "'%s' is not HOSTSxGUESTS or HOSTSxGUESTSxPOOLS (e.g. 30x600x1)",
                        parts[i]);
            return FALSE;
        }
        g_array_append_val(pools, qp);
    }
    return TRUE;
}

/* Comma-separated whole numbers in @min..@max into @out (guint). */
static gboolean
parse_uints(const char *option, const char *text, guint min, guint max, GArray *out,
            GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        guint64 k;

        if (!g_ascii_string_to_unsigned(parts[i], 10, min, max, &k, NULL)) {
            g_set_error(error, VB_ERROR, VB_ERROR_USAGE, "%s: '%s' is not a whole number %u..%u",
                        option, parts[i], min, max);
            return FALSE;
        }
        g_array_append_val(out, ((guint){ (guint) k }));
    }
    return TRUE;
}

static gboolean
section_wanted(char **sections, const char *name)
{
    return !sections || g_strv_contains((const char *const *) sections, name);
}

typedef struct {
    char *sections, *cbc, *optimum_pools, *ks, *hotspot_pools, *churn_pool;
    char *churn_intervals;
    gint seconds, churn_hours;
    gint64 seed;
    gboolean no_cbc;
} Args;

static void
args_clear(Args *a)
{
    g_free(a->sections);
    g_free(a->cbc);
    g_free(a->optimum_pools);
    g_free(a->ks);
    g_free(a->hotspot_pools);
    g_free(a->churn_pool);
    g_free(a->churn_intervals);
}

static gboolean
parse_args(Args *a, int *argc, char ***argv, GError **error)
{
    GOptionEntry entries[] = {
        { "sections", 0, 0, G_OPTION_ARG_STRING, &a->sections,
          "sections to run (default all)", "optimum,hotspots,churn" },
        { "cbc", 0, 0, G_OPTION_ARG_FILENAME, &a->cbc, "the cbc program (default: cbc in PATH)",
          "PATH" },
        { "no-cbc", 0, 0, G_OPTION_ARG_NONE, &a->no_cbc, "skip the optimum as if cbc were missing",
          NULL },
        { "optimum-pools", 0, 0, G_OPTION_ARG_STRING, &a->optimum_pools, "pools for the optimum",
          "HxGxP,..." },
        { "ks", 0, 0, G_OPTION_ARG_STRING, &a->ks, "move counts (0: the planner's own)", "K,..." },
        { "seconds", 0, 0, G_OPTION_ARG_INT, &a->seconds, "cbc time limit per solve", "N" },
        { "hotspot-pools", 0, 0, G_OPTION_ARG_STRING, &a->hotspot_pools, "pools for hotspots",
          "HxGxP,..." },
        { "churn-pool", 0, 0, G_OPTION_ARG_STRING, &a->churn_pool, "pool of the churn replay",
          "HxGxP" },
        { "churn-hours", 0, 0, G_OPTION_ARG_INT, &a->churn_hours, "simulated hours", "N" },
        { "churn-intervals", 0, 0, G_OPTION_ARG_STRING, &a->churn_intervals,
          "seconds between two plans, one replay each (default 1800,600)", "S,..." },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &a->seed, "generator seed", "S" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- virt-balancer planner quality");

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, argc, argv, error))
        return FALSE;
    if (a->seconds < 1 || a->churn_hours < 1) {
        g_set_error(error, VB_ERROR, VB_ERROR_USAGE,
                    "--seconds and --churn-hours must be at least 1");
        return FALSE;
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    Args a = { .seconds = 60, .churn_hours = 24, .seed = 42 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) opt_pools = g_array_new(FALSE, FALSE, sizeof(VbQualityPool));
    g_autoptr(GArray) hot_pools = g_array_new(FALSE, FALSE, sizeof(VbQualityPool));
    g_autoptr(GArray) churn_pools = g_array_new(FALSE, FALSE, sizeof(VbQualityPool));
    g_autoptr(GArray) ks = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) intervals = g_array_new(FALSE, FALSE, sizeof(guint));
    g_auto(GStrv) sections = NULL;
    g_autofree char *cbc = NULL;
    g_autofree char *model = vb_bench_cpu_model();
    g_autofree char *cpu = g_strdup_printf("%s (%u CPUs)", model, g_get_num_processors());
    g_autofree char *workdir = NULL;
    int rc = 0;

    if (!parse_args(&a, &argc, &argv, &error) ||
        !parse_pools(a.optimum_pools ? a.optimum_pools : "12x240x3,10x200x1,30x600x1,100x2000x1",
                     (guint64) a.seed, opt_pools, &error) ||
        !parse_uints("--ks", a.ks ? a.ks : "0", 0, 10000, ks, &error) ||
        !parse_uints("--churn-intervals", a.churn_intervals ? a.churn_intervals : "1800,600", 60,
                     86400, intervals, &error) ||
        !parse_pools(a.hotspot_pools ? a.hotspot_pools : "12x240x3,100x2000x1,50x1000x1,1000x20000x4",
                     (guint64) a.seed, hot_pools, &error) ||
        !parse_pools(a.churn_pool ? a.churn_pool : "50x1000x1", (guint64) a.seed, churn_pools,
                     &error)) {
        fprintf(stderr, "vb-quality: %s\n", error->message);
        args_clear(&a);
        return 2;
    }
    sections = a.sections ? g_strsplit(a.sections, ",", -1) : NULL;
    if (!a.no_cbc)
        cbc = a.cbc ? g_strdup(a.cbc) : g_find_program_in_path("cbc");
    printf("## virt-balancer planner quality\n\nCPU: %s; one planning thread\n", cpu);
    fflush(stdout);
    if (section_wanted(sections, "optimum")) {
        VbOptimumOptions opts = { .cbc = cbc, .seconds = (guint) a.seconds,
                                  .ks = (const guint *) ks->data, .n_ks = ks->len };

        workdir = g_dir_make_tmp("vb-quality-XXXXXX", &error);
        if (!workdir) {
            fprintf(stderr, "vb-quality: cannot make a work folder: %s\n", error->message);
            rc = 1;
        } else {
            opts.workdir = workdir;
            vb_quality_optimum_section((const VbQualityPool *) opt_pools->data, opt_pools->len,
                                       &opts);
        }
    }
    if (section_wanted(sections, "hotspots"))
        vb_quality_hotspot_section((const VbQualityPool *) hot_pools->data, hot_pools->len);
    for (guint i = 0; section_wanted(sections, "churn") && i < intervals->len; i++) {
        VbChurnOptions opts = { .pool = g_array_index(churn_pools, VbQualityPool, 0),
                                .hours = (guint) a.churn_hours,
                                .interval = g_array_index(intervals, guint, i), .noise = 0.2 };

        vb_quality_churn_section(&opts);
    }
    if (workdir) {
        g_autofree char *lp = g_build_filename(workdir, "optimum.lp", NULL);
        g_autofree char *sol = g_build_filename(workdir, "optimum.sol", NULL);

        g_unlink(lp);
        g_unlink(sol);
        g_rmdir(workdir);
    }
    args_clear(&a);
    return rc;
}
