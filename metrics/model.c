/*
 * model.c: VbMetrics, what the daemon's /metrics shows, as plain data.
 *
 * The daemon replaces the snapshot and plan part after each round
 * (vb_metrics_set_round) and the journal part after each round and each
 * migration's end (vb_metrics_set_totals); render.c turns it into text.
 * Names are copied: the inventory and plan a round used are freed with it.
 *
 * Invariants: hosts, pools and hotspots are empty unless have_snapshot;
 * each hotspot names a host and pool of the arrays; duration buckets are
 * counts per bucket (render.c makes them cumulative).
 */
#include "config.h"

#include <string.h>

#include "metrics/metrics.h"

const double vb_metrics_duration_bounds[VB_METRICS_N_BOUNDS] = {
    1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600
};

static void
host_clear(VbMetricsHost *h)
{
    g_free(h->name);
    g_free(h->pool);
}

static void
pool_clear(VbMetricsPool *p)
{
    g_free(p->name);
}

static void
hotspot_clear(VbMetricsHotspot *h)
{
    g_free(h->host);
    g_free(h->pool);
}

VbMetrics *
vb_metrics_new(void)
{
    VbMetrics *m = g_new0(VbMetrics, 1);

    m->version = g_strdup(PACKAGE_VERSION);
    m->hosts = g_array_new(FALSE, TRUE, sizeof(VbMetricsHost));
    g_array_set_clear_func(m->hosts, (GDestroyNotify) host_clear);
    m->pools = g_array_new(FALSE, TRUE, sizeof(VbMetricsPool));
    g_array_set_clear_func(m->pools, (GDestroyNotify) pool_clear);
    m->hotspots = g_array_new(FALSE, TRUE, sizeof(VbMetricsHotspot));
    g_array_set_clear_func(m->hotspots, (GDestroyNotify) hotspot_clear);
    return m;
}

void
vb_metrics_free(VbMetrics *m)
{
    if (!m)
        return;
    g_free(m->version);
    if (m->hosts)
        g_array_unref(m->hosts);
    if (m->pools)
        g_array_unref(m->pools);
    if (m->hotspots)
        g_array_unref(m->hotspots);
    g_free(m);
}

static void
set_hosts(VbMetrics *m, const VbInventory *inv, const VbHostLoad *loads)
{
    g_array_set_size(m->hosts, 0);
    m->hosts_unreachable = 0;
    for (guint i = 0; i < inv->hosts->len; i++) {
        const VbHost *host = vb_inventory_host(inv, i);
        VbMetricsHost h = {
            .name = g_strdup(host->name),
            .pool = g_strdup(vb_inventory_pool(inv, host->pool)->name),
            .state = host->state,
            .weighted = loads[i].weighted,
            .guests = host->vms ? host->vms->len : 0,
        };

        memcpy(h.load, loads[i].load, sizeof(h.load));
        m->hosts_unreachable += host->state == VB_HOST_STATE_DOWN;
        g_array_append_val(m->hosts, h);
    }
}

/* Hotspots before the plan, as the planner counts them: with a plan its
 * own (hosts that take part, watched metrics); without one the same rule on
 * @loads. */
static void
count_hotspots(VbMetrics *m, const VbInventory *inv, const VbPolicy *policy,
               const VbPlan *plan, const VbHostLoad *loads)
{
    for (guint i = 0; plan && plan->hotspots && i < plan->hotspots->len; i++) {
        const VbHotspot *hs = g_ptr_array_index(plan->hotspots, i);

        if (hs->before > policy->high_water)
            g_array_index(m->pools, VbMetricsPool, vb_inventory_host(inv, hs->host)->pool)
                .hotspots++;
    }
    for (guint i = 0; !plan && i < inv->hosts->len; i++) {
        const VbHost *host = vb_inventory_host(inv, i);

        if (host->state != VB_HOST_STATE_UP ||
            (policy->exclude_hosts &&
             g_strv_contains((const char *const *) policy->exclude_hosts, host->name)))
            continue;
        for (guint k = 0; k < VB_METRIC_LAST; k++) {
            if (policy->weights[k] > 0 && loads[i].load[k] > policy->high_water)
                g_array_index(m->pools, VbMetricsPool, host->pool).hotspots++;
        }
    }
}

/* Pools with their imbalance before and after, and their hotspots. */
static void
set_pools(VbMetrics *m, const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan,
          const VbHostLoad *before, const VbHostLoad *after)
{
    g_autofree double *imb = vb_placement_pool_imbalances(inv, policy, before);
    g_autofree double *planned = vb_placement_pool_imbalances(inv, policy, after);

    g_array_set_size(m->pools, 0);
    for (guint p = 0; p < inv->pools->len; p++) {
        VbMetricsPool pool = { .name = g_strdup(vb_inventory_pool(inv, p)->name),
                               .imbalance = imb[p], .planned_imbalance = planned[p] };

        g_array_append_val(m->pools, pool);
    }
    count_hotspots(m, inv, policy, plan, before);
}

static void
set_hotspots(VbMetrics *m, const VbInventory *inv, const VbPlan *plan)
{
    g_array_set_size(m->hotspots, 0);
    for (guint i = 0; plan && plan->hotspots && i < plan->hotspots->len; i++) {
        const VbHotspot *hs = g_ptr_array_index(plan->hotspots, i);
        const VbHost *host = vb_inventory_host(inv, hs->host);
        VbMetricsHotspot h = {
            .host = g_strdup(host->name),
            .pool = g_strdup(vb_inventory_pool(inv, host->pool)->name),
            .metric = hs->metric, .load = hs->before, .planned_load = hs->after,
        };

        g_array_append_val(m->hotspots, h);
    }
}

void
vb_metrics_set_round(VbMetrics *m, const VbInventory *inv, const VbPolicy *policy,
                     const VbPlan *plan, double plan_time, double plan_seconds)
{
    g_autofree VbHostLoad *computed = NULL;
    const VbHostLoad *before, *after;

    g_assert(m && inv && policy);
    g_assert(!plan || plan->n_hosts == inv->hosts->len);
    if (plan) {
        before = plan->before;
        after = plan->after;
    } else {
        computed = vb_placement_host_loads(inv, policy);
        before = after = computed;
    }
    m->have_snapshot = TRUE;
    m->high_water = policy->high_water;
    m->automation = policy->automation;
    set_hosts(m, inv, before);
    set_pools(m, inv, policy, plan, before, after);
    set_hotspots(m, inv, plan);
    m->have_plan = plan != NULL;
    if (!plan)
        return;
    m->plan_time = plan_time;
    m->plan_seconds = plan_seconds;
    m->plan_moves = plan->moves->len;
    m->plan_unplaced = plan->unplaced ? plan->unplaced->len : 0;
    m->target_met = plan->target_met;
    m->imbalance = plan->imbalance_before;
    m->planned_imbalance = plan->imbalance_after;
}

/* The bucket of @seconds: the first bound at or above it, else +Inf. */
static guint
duration_bucket(double seconds)
{
    guint b = 0;

    while (b < VB_METRICS_N_BOUNDS && seconds > vb_metrics_duration_bounds[b])
        b++;
    return b;
}

void
vb_metrics_set_totals(VbMetrics *m, const VbJournalTotals *totals)
{
    g_assert(m && totals);
    memcpy(m->migrations, totals->moves, sizeof(m->migrations));
    memset(m->duration_buckets, 0, sizeof(m->duration_buckets));
    memset(m->duration_sum, 0, sizeof(m->duration_sum));
    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++) {
        for (guint i = 0; totals->seconds[k] && i < totals->seconds[k]->len; i++) {
            double s = g_array_index(totals->seconds[k], double, i);

            m->duration_buckets[k][duration_bucket(s)]++;
            m->duration_sum[k] += s;
        }
    }
}
