/*
 * load.c: the load model. What a host's load is under the policy's load
 * source, what share of it a guest takes with it when it moves, and the
 * imbalance (pooled within-pool standard deviation) of a set of loads.
 *
 * Load of a host per metric, a fraction of its capacity:
 *   measured   cpu    = cpu_usage (of its cores)
 *              memory = memory_used_mib / memory_mib
 *              disk   = (storage_total - storage_free) / storage_total
 *   allocated  cpu    = vCPUs of its guests not shut off / (cores * cpu_overcommit)
 *              memory = (memory of its guests not shut off + host overhead) / memory_mib
 *              disk   = local disks of all its guests / storage_total
 * A guest's demand per metric is in the same units as the capacity:
 *   cpu    = vcpus * cpu_usage cores (measured) or vcpus (allocated),
 *   memory = memory_mib, both 0 when the guest is shut off;
 *   disk   = its local disks (GiB): the disks not shared (shared: the pool's
 *            shared_storage, a network disk, or marked shared), in any pool.
 * Its share of host h is demand / capacity(h). A capacity of 0 (unknown)
 * counts as no load. Weighted load = sum(w[m] * load[m]) / sum(w).
 *
 * Pure arithmetic; O(1) per share, O(hosts) per imbalance.
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

double
vb_state_metric_share(const VbState *st, guint vm, guint host, VbMetric m)
{
    double cap = st->cap[host * VB_METRIC_LAST + m];

    return cap > 0 ? st->demand[vm * VB_METRIC_LAST + m] / cap : 0.0;
}

/* Weighted load a guest adds to (or takes from) @host. */
double
vb_state_share(const VbState *st, guint vm, guint host)
{
    double share = 0;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0)
            share += st->weight[m] * vb_state_metric_share(st, vm, host, m);
    }
    return share;
}

/* GiB of disks copied when @vm moves into pool @to_pool: inside its own pool
 * the disks not shared (a disk's `shared` says every host of the pool reaches
 * it: the pool's shared_storage, a network disk such as rbd or iSCSI, or
 * `shared: true` in the inventory; such a disk never moves, whatever the
 * pool's shared_storage says); into another pool every disk. The checker's
 * copied() (check.c) computes the same from the disks. */
double
vb_vm_copied_gib(const VbInventory *inv, const VbVm *vm, guint to_pool)
{
    const VbHost *host = vb_inventory_host(inv, vm->host);

    if (host->pool == to_pool)
        return vb_vm_local_disk_gib(vm);
    return vb_vm_disk_gib(vm);
}

/* TRUE when the guest's memory and vCPUs count against a destination: it
 * runs (or is paused), or it will be started after a cold move. */
gboolean
vb_vm_counts_on_dest(const VbPolicy *policy, const VbVm *vm)
{
    return vm->state != VB_VM_STATE_SHUTOFF || policy->migration.start_after_cold_move;
}

/* TRUE when a move starts the guest: it is shut off and the policy starts
 * guests after a cold move. */
gboolean
vb_vm_started_by_move(const VbPolicy *policy, const VbVm *vm)
{
    return vm->state == VB_VM_STATE_SHUTOFF && policy->migration.start_after_cold_move;
}

static double
pooled(const double *sum_sq_dev, guint n)
{
    return n > 0 ? sqrt(*sum_sq_dev / n) : 0.0;
}

/* Pooled within-pool standard deviation of weighted load and of each metric
 * over the hosts with @participates set. O(hosts). */
void
vb_loads_imbalance(const VbInventory *inv, const VbHostLoad *loads, const gboolean *participates,
                   double *ret_weighted, double ret_metric[VB_METRIC_LAST])
{
    double dev[VB_METRIC_LAST + 1] = {0};
    guint n = 0;

    for (guint p = 0; p < inv->pools->len; p++) {
        const VbPool *pool = vb_inventory_pool(inv, p);
        double sum[VB_METRIC_LAST + 1] = {0}, sq[VB_METRIC_LAST + 1] = {0};
        guint k = 0;

        for (guint i = 0; i < pool->hosts->len; i++) {
            guint h = g_array_index(pool->hosts, guint, i);

            if (!participates[h])
                continue;
            for (guint m = 0; m <= VB_METRIC_LAST; m++) {
                double v = m < VB_METRIC_LAST ? loads[h].load[m] : loads[h].weighted;

                sum[m] += v;
                sq[m] += v * v;
            }
            k++;
        }
        for (guint m = 0; k > 0 && m <= VB_METRIC_LAST; m++)
            dev[m] += MAX(0.0, sq[m] - sum[m] * sum[m] / k);
        n += k;
    }
    if (ret_weighted)
        *ret_weighted = pooled(&dev[VB_METRIC_LAST], n);
    for (guint m = 0; ret_metric && m < VB_METRIC_LAST; m++)
        ret_metric[m] = pooled(&dev[m], n);
}

/* Standard deviation of weighted load inside one pool, from the running sums. */
double
vb_state_pool_imbalance(const VbState *st, guint pool)
{
    const VbPoolOrder *po = &st->pools[pool];

    if (po->n == 0)
        return 0.0;
    return sqrt(MAX(0.0, po->sum_sq - po->sum * po->sum / po->n) / po->n);
}

VbHostLoad *
vb_placement_host_loads(const VbInventory *inv, const VbPolicy *policy)
{
    g_autoptr(VbState) st = vb_state_new_ranking(inv, policy);

    return g_memdup2(st->load, sizeof(VbHostLoad) * MAX(st->n_hosts, 1));
}

double *
vb_placement_pool_imbalances(const VbInventory *inv, const VbPolicy *policy,
                             const VbHostLoad *loads)
{
    g_autoptr(VbState) st = vb_state_new_ranking(inv, policy);
    g_autofree gboolean *in_pool = g_new0(gboolean, MAX(st->n_hosts, 1));
    double *out = g_new0(double, MAX(inv->pools->len, 1));

    for (guint p = 0; p < inv->pools->len; p++) {
        const VbPool *pool = vb_inventory_pool(inv, p);

        /* One pool at a time: the pooled figure over a single pool is its
         * own standard deviation. */
        for (guint i = 0; i < pool->hosts->len; i++) {
            guint h = g_array_index(pool->hosts, guint, i);

            in_pool[h] = st->participates[h];
        }
        vb_loads_imbalance(inv, loads, in_pool, &out[p], NULL);
        for (guint i = 0; i < pool->hosts->len; i++)
            in_pool[g_array_index(pool->hosts, guint, i)] = FALSE;
    }
    return out;
}
