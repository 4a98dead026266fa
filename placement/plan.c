/*
 * plan.c: building, finishing and freeing plans, and applying a plan to a
 * copy of the inventory (what-if, stability checks).
 *
 * A plan records the loads before (when the state was built) and after (the
 * working state when the planner stopped), the imbalance of both, and its
 * moves in the order they would run. A guest appears at most once.
 */
#include "config.h"

#include "placement/placement-priv.h"

const char *const vb_move_kind_names[] = {"live", "live-storage", "cold", NULL};

G_STATIC_ASSERT(G_N_ELEMENTS(vb_move_kind_names) == VB_MOVE_KIND_LAST + 1);

void
vb_unplaced_free(VbUnplaced *u)
{
    if (!u)
        return;
    if (u->rejections)
        g_array_unref(u->rejections);
    if (u->groups)
        g_array_unref(u->groups);
    g_free(u->reason);
    g_free(u);
}

void
vb_plan_free(VbPlan *plan)
{
    if (!plan)
        return;
    for (guint i = 0; plan->moves && i < plan->moves->len; i++)
        g_free(g_array_index(plan->moves, VbMove, i).reason);
    if (plan->moves)
        g_array_unref(plan->moves);
    if (plan->unplaced)
        g_ptr_array_unref(plan->unplaced);
    g_free(plan->evacuated_host);
    g_free(plan->before);
    g_free(plan->after);
    g_free(plan->stop_reason);
    if (plan->violations)
        g_ptr_array_unref(plan->violations);
    if (plan->created)
        g_ptr_array_unref(plan->created);
    if (plan->hotspots)
        g_ptr_array_unref(plan->hotspots);
    g_free(plan);
}

/* A new empty plan whose "before" is the state's loads now (transfer full). */
VbPlan *
vb_plan_new(const VbState *st, VbPlanKind kind)
{
    VbPlan *plan = g_new0(VbPlan, 1);

    plan->kind = kind;
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    plan->unplaced = g_ptr_array_new_with_free_func((GDestroyNotify) vb_unplaced_free);
    plan->n_hosts = st->n_hosts;
    plan->before = g_memdup2(st->load, sizeof(VbHostLoad) * MAX(st->n_hosts, 1));
    vb_loads_imbalance(st->inv, plan->before, st->participates, &plan->imbalance_before,
                       plan->metric_imbalance_before);
    vb_plan_census(plan, st);
    return plan;
}

/* Appends the move of @vm from its working host to @to (call before
 * vb_state_apply()); takes @reason. */
void
vb_plan_add_move(VbPlan *plan, const VbState *st, guint vm, guint to, double gain, char *reason)
{
    const VbInventory *inv = st->inv;
    VbMove move = {
        .vm = vm,
        .from = st->vm_host[vm],
        .to = to,
        .kind = vb_state_move_kind(st, vm, to),
        .gain = gain,
        .reason = reason,
    };

    move.estimated_seconds = vb_placement_estimate_seconds(
        inv, st->policy, vb_inventory_vm(inv, vm), vb_inventory_host(inv, move.from),
        vb_inventory_host(inv, to), move.kind);
    g_array_append_val(plan->moves, move);
}

/* Records the loads after the plan, what it leaves broken or hot, and why
 * the planner stopped. */
void
vb_plan_finish(VbPlan *plan, const VbState *st, gboolean goal_met, const char *stop_reason)
{
    g_free(plan->after);
    plan->after = g_memdup2(st->load, sizeof(VbHostLoad) * MAX(st->n_hosts, 1));
    vb_loads_imbalance(st->inv, plan->after, st->participates, &plan->imbalance_after,
                       plan->metric_imbalance_after);
    vb_plan_report(plan, st, goal_met, stop_reason);
}

/* "web-4 (4 vCPU, 8 GiB)" (transfer full). */
char *
vb_describe_vm(const VbVm *vm)
{
    if (vm->memory_mib % 1024 == 0)
        return g_strdup_printf("%s (%u vCPU, %" G_GUINT64_FORMAT " GiB)", vm->name, vm->vcpus,
                               vm->memory_mib / 1024);
    return g_strdup_printf("%s (%u vCPU, %" G_GUINT64_FORMAT " MiB)", vm->name, vm->vcpus,
                           vm->memory_mib);
}

static gint
cmp_memory_desc(gconstpointer a, gconstpointer b, gpointer data)
{
    const VbInventory *inv = data;
    guint64 ma = vb_inventory_vm(inv, *(const guint *) a)->memory_mib;
    guint64 mb = vb_inventory_vm(inv, *(const guint *) b)->memory_mib;

    if (ma != mb)
        return ma > mb ? -1 : 1;
    return *(const guint *) a < *(const guint *) b ? -1 : 1;
}

/* The guest ids of @host, most memory first, ties by id (transfer full):
 * the order in which evacuation and consolidation move guests off a host. */
GArray *
vb_host_vms_biggest_first(const VbInventory *inv, const VbHost *host)
{
    GArray *vms = g_array_copy(host->vms);

    g_array_sort_with_data(vms, cmp_memory_desc, (gpointer) inv);
    return vms;
}

gboolean
vb_plan_waits_for(const VbPlan *plan, guint later, guint earlier)
{
    g_return_val_if_fail(plan != NULL && later < plan->moves->len && earlier < plan->moves->len,
                         FALSE);
    const VbMove *l = &g_array_index(plan->moves, VbMove, later);
    const VbMove *e = &g_array_index(plan->moves, VbMove, earlier);

    if (earlier >= later)
        return FALSE;
    return vb_move_waits_for(plan->kind, l, e);
}

gboolean
vb_move_waits_for(VbPlanKind kind, const VbMove *later, const VbMove *earlier)
{
    if (kind == VB_PLAN_EVACUATE)
        return FALSE;
    /* Into a host the earlier move leaves; or out of the same host copying
     * disks, which may need the storage the earlier move frees there. */
    return later->to == earlier->from ||
           (later->from == earlier->from && later->kind != VB_MOVE_LIVE);
}

/* ------------------------------------------------------------ applying */

static void
shift_measured(VbHost *host, const VbVm *vm, int sign, double disk_gib)
{
    if (vm->state != VB_VM_STATE_SHUTOFF) {
        if (host->cpu_cores > 0)
            host->cpu_usage += (double) sign * vm->vcpus * vm->cpu_usage / host->cpu_cores;
        if (sign > 0)
            host->memory_used_mib += vm->memory_mib;
        else
            host->memory_used_mib -= MIN(host->memory_used_mib, vm->memory_mib);
    }
    host->storage_free_gib -= (double) sign * disk_gib;
}

VbInventory *
vb_placement_apply_plan(const VbInventory *inv, const VbPolicy *policy, const VbPlan *plan)
{
    VbInventory *copy = vb_inventory_copy(inv);

    for (guint i = 0; plan && i < plan->moves->len; i++) {
        const VbMove *move = &g_array_index(plan->moves, VbMove, i);
        VbVm *vm;
        VbHost *from, *to;

        if (move->vm >= copy->vms->len || move->to >= copy->hosts->len)
            continue;
        vm = vb_inventory_vm(copy, move->vm);
        from = vb_inventory_host(copy, vm->host);
        to = vb_inventory_host(copy, move->to);
        if (from == to)
            continue;
        /* Both sides computed before the guest changes host. */
        {
            double left = vb_vm_copied_gib(copy, vm, from->pool);
            double arrived = vb_vm_copied_gib(copy, vm, to->pool);

            shift_measured(from, vm, -1, left);
            if (vb_vm_started_by_move(policy, vm))
                vm->state = VB_VM_STATE_RUNNING;
            shift_measured(to, vm, 1, arrived);
        }
        vb_inventory_move_vm(copy, vm, to);
    }
    vb_inventory_changed(copy); /* guests started above: their totals changed */
    return copy;
}
