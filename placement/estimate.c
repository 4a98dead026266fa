/*
 * estimate.c: how long a migration takes, from memory size, dirty rate,
 * local disk size and bandwidth.
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
 * B = the smallest known of the source's and destination's migration
 * bandwidth and the policy's cap; VB_DEFAULT_BANDWIDTH_MIB_S when none is known.
 *
 * Pure arithmetic, O(disks).
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

static double
bandwidth(const VbPolicy *policy, const VbHost *from, const VbHost *to)
{
    double b = G_MAXDOUBLE;

    if (from && from->migration_bandwidth_mib_s > 0)
        b = MIN(b, from->migration_bandwidth_mib_s);
    if (to && to->migration_bandwidth_mib_s > 0)
        b = MIN(b, to->migration_bandwidth_mib_s);
    if (policy && policy->migration.bandwidth_mib_s > 0)
        b = MIN(b, policy->migration.bandwidth_mib_s);
    return b == G_MAXDOUBLE ? VB_DEFAULT_BANDWIDTH_MIB_S : b;
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

double
vb_placement_estimate_seconds(const VbInventory *inv, const VbPolicy *policy, const VbVm *vm,
                              const VbHost *from, const VbHost *to, VbMoveKind kind)
{
    double b;
    double disks;

    g_return_val_if_fail(inv != NULL && vm != NULL, 0.0);
    b = bandwidth(policy, from, to);
    disks = to ? vb_vm_copied_gib(inv, vm, to->pool) : vb_vm_local_disk_gib(vm);
    switch (kind) {
    case VB_MOVE_LIVE:
        return memory_seconds(vm, b);
    case VB_MOVE_LIVE_STORAGE:
        return memory_seconds(vm, b) + disks * 1024.0 / b;
    case VB_MOVE_COLD:
    default:
        return disks * 1024.0 / b;
    }
}
