/*
 * estimate.c: how long a migration takes, from memory size, dirty rate,
 * local disk size, bandwidth and a fixed setup term.
 *
 * Model (pre-copy, as QEMU does it): round 0 sends all memory, M / B seconds;
 * each later round sends what was dirtied during the previous one, so the
 * rounds shrink by r = D / B and the memory phase takes
 *   (M / B) * (1 - r^(n+1)) / (1 - r)      with n = VB_MAX_PRECOPY_ROUNDS,
 * i.e. about M / (B - D) when the guest converges. A guest dirtying at or
 * past the link is assumed throttled by auto-converge to r =
 * VB_MAX_DIRTY_FRACTION, so the estimate stays bounded (at most about
 * 10 * M / B). Live-storage adds the copied disks at the same bandwidth;
 * a cold move is the copied disks only (the definition is instant).
 * Live moves add S, the setup and switch-over (destination process start,
 * connection, final pause, finish): measured (inv->costs, see calibrate.c)
 * or the policy's migration.setup_seconds.
 * B = for a live move, the bandwidth measured for the (from, to) pair when
 * known; else the smallest known of the source's and destination's migration
 * bandwidth, VB_DEFAULT_BANDWIDTH_MIB_S when none is known. The policy's cap
 * bounds it.
 *
 * Pure arithmetic, O(disks) (plus one hash lookup when costs were measured).
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

/* The nominal bandwidth: the slower end's, else the default. */
static double
nominal_bandwidth(const VbHost *from, const VbHost *to)
{
    double b = G_MAXDOUBLE;

    if (from && from->migration_bandwidth_mib_s > 0)
        b = MIN(b, from->migration_bandwidth_mib_s);
    if (to && to->migration_bandwidth_mib_s > 0)
        b = MIN(b, to->migration_bandwidth_mib_s);
    return b == G_MAXDOUBLE ? VB_DEFAULT_BANDWIDTH_MIB_S : b;
}

/* Live moves prefer the pair's measured bandwidth (it was measured on live
 * migrations; a cold move copies volumes another way). */
static double
bandwidth(const VbInventory *inv, const VbPolicy *policy, const VbHost *from, const VbHost *to,
          gboolean live)
{
    double measured = live && from && to ? vb_inventory_pair_bandwidth(inv, from->id, to->id)
                                         : 0.0;
    double b = measured > 0 ? measured : nominal_bandwidth(from, to);

    if (policy && policy->migration.bandwidth_mib_s > 0)
        b = MIN(b, policy->migration.bandwidth_mib_s);
    return b;
}

static double
memory_seconds(const VbVm *vm, double b)
{
    double first = (double) vm->memory_mib / b;
    double r = MIN(MAX(vm->dirty_rate_mib_s, 0.0) / b, VB_MAX_DIRTY_FRACTION);

    if (r <= 0)
        return first;
    return first * (1 - pow(r, VB_MAX_PRECOPY_ROUNDS + 1)) / (1 - r);
}

static double
setup_seconds(const VbInventory *inv, const VbPolicy *policy)
{
    if (inv->costs.setup_measured)
        return inv->costs.setup_seconds;
    return policy ? policy->migration.setup_seconds : 0.0;
}

double
vb_placement_estimate_seconds(const VbInventory *inv, const VbPolicy *policy, const VbVm *vm,
                              const VbHost *from, const VbHost *to, VbMoveKind kind)
{
    double b;
    double disks;

    g_return_val_if_fail(inv != NULL && vm != NULL, 0.0);
    b = bandwidth(inv, policy, from, to, kind != VB_MOVE_COLD);
    disks = to ? vb_vm_copied_gib(inv, vm, to->pool) : vb_vm_local_disk_gib(vm);
    switch (kind) {
    case VB_MOVE_LIVE:
        return setup_seconds(inv, policy) + memory_seconds(vm, b);
    case VB_MOVE_LIVE_STORAGE:
        return setup_seconds(inv, policy) + memory_seconds(vm, b) + disks * 1024.0 / b;
    case VB_MOVE_COLD:
    default:
        return disks * 1024.0 / b;
    }
}
