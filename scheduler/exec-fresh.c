/*
 * exec-fresh.c: the executor against fresh state.
 *
 * Right before starting moves the executor takes a fresh snapshot from the
 * driver, marks the hosts in maintenance (the database's set, and the host
 * being evacuated), and applies the migrations in flight as if they had
 * landed: their memory and CPU are counted on their destinations, so a move
 * re-checked now must fit together with everything already under way. Each
 * guest's recent migrations come from the journal too (cooldown, daily move
 * cap), so a re-plan does not move a guest an earlier run moved. Each
 * candidate is re-checked with the placement checker on a one-move plan
 * (the same hard constraints as planning: destination up, memory after the
 * reserve, CPU vendor and features, storage, rules...), after checking the
 * guest is still on its source.
 *
 * Re-planning: guests whose move was skipped, together with the queued
 * ones, are planned again with the same planner (evacuate for evacuations,
 * rebalance with the remaining budget otherwise) on the fresh state. Queued
 * moves the new plan keeps are left alone; changed ones are skipped and
 * replaced; a guest the planner cannot place is reported unplaced. A guest
 * skipped VB_EXEC_MAX_SKIPS times is not re-planned again, which bounds the
 * work when the planner and the fresh state keep disagreeing.
 */
#include "config.h"

#include "scheduler/executor-priv.h"

#define VB_EXEC_MAX_SKIPS 3

gint64
exec_now_unix(Exec *ex)
{
    return ex->opts->now_unix ? ex->opts->now_unix : g_get_real_time() / G_USEC_PER_SEC;
}

void
exec_apply_move(VbInventory *inv, const ExecMove *m, gint64 now_unix)
{
    VbVm *vm = vb_inventory_get_vm(inv, m->vm);
    VbHost *from = vb_inventory_get_host(inv, m->from);
    VbHost *to = vb_inventory_get_host(inv, m->to);
    double local;

    if (!vm || !from || !to || vm->host != from->id)
        return; /* already landed, or gone: the snapshot is the truth */
    local = vb_vm_local_disk_gib(vm);
    if (vm->state != VB_VM_STATE_SHUTOFF) {
        double cpu = vm->vcpus * vm->cpu_usage;

        from->cpu_usage = MAX(0.0, from->cpu_usage - cpu / MAX(from->cpu_cores, 1u));
        to->cpu_usage += cpu / MAX(to->cpu_cores, 1u);
        from->memory_used_mib -= MIN(from->memory_used_mib, vm->memory_mib);
        to->memory_used_mib += vm->memory_mib;
    }
    if (m->kind != VB_MOVE_LIVE && local > 0)
        to->storage_free_gib = MAX(0.0, to->storage_free_gib - local);
    vb_inventory_move_vm(inv, vm, to);
    vm->last_migrated = now_unix;
    vm->moves_last_day++;
}

VbInventory *
exec_fresh_state(Exec *ex, GError **error)
{
    const VbExecOptions *o = ex->opts;
    g_autoptr(VbInventory) inv = o->ops->snapshot(o->conn, error);

    if (!inv)
        return NULL;
    vb_scheduler_apply_maintenance(inv, o->maintenance);
    if (ex->evacuated_host) {
        char *one[] = { ex->evacuated_host, NULL };

        vb_scheduler_apply_maintenance(inv, one);
    }
    for (guint i = 0; i < ex->running->len; i++)
        exec_apply_move(inv, g_ptr_array_index(ex->running, i), exec_now_unix(ex));
    /* After the running moves: the journal counts them too (started), and
     * the larger count holds, so none is counted twice. */
    if (o->journal && !vb_scheduler_apply_recent_moves(inv, o->journal, exec_now_unix(ex), error))
        return NULL;
    return g_steal_pointer(&inv);
}

char *
exec_recheck(Exec *ex, VbInventory *inv, const ExecMove *m)
{
    const VbVm *vm = vb_inventory_get_vm(inv, m->vm);
    const VbHost *from = vb_inventory_get_host(inv, m->from);
    const VbHost *to = vb_inventory_get_host(inv, m->to);
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = exec_now_unix(ex) };
    VbPlan plan = { 0 };
    VbMove move = { 0 };
    gboolean ok;

    if (from && from->state == VB_HOST_STATE_DOWN)
        return g_strdup_printf("%s: not started: its source %s is down (%s)", m->vm, m->from,
                               from->state_reason ? from->state_reason : "no reason given");
    if (!vm)
        return g_strdup_printf("%s: guest no longer exists", m->vm);
    if (!from || !to)
        return g_strdup_printf("%s: host %s no longer exists", m->vm, from ? m->to : m->from);
    if (vm->host != from->id)
        return g_strdup_printf("%s: guest is now on %s, not on %s", m->vm,
                               vb_inventory_host(inv, vm->host)->name, m->from);
    move.vm = vm->id;
    move.from = from->id;
    move.to = to->id;
    move.kind = m->kind;
    move.estimated_seconds = m->estimated_seconds;
    plan.kind = ex->kind;
    plan.evacuated_host = ex->evacuated_host;
    plan.moves = g_array_new(FALSE, FALSE, sizeof(VbMove));
    plan.unplaced = g_ptr_array_new();
    g_array_append_val(plan.moves, move);
    ok = vb_placement_check_plan(inv, ex->opts->policy, &plan, &opts, &error);
    g_array_unref(plan.moves);
    g_ptr_array_unref(plan.unplaced);
    return ok ? NULL : g_strdup(error->message);
}

/* ------------------------------------------------------------ re-planning */

static ExecMove *
exec_find_pending(Exec *ex, const char *vm, guint *ret_index)
{
    for (guint i = 0; i < ex->pending->len; i++) {
        ExecMove *m = g_ptr_array_index(ex->pending, i);

        if (g_str_equal(m->vm, vm)) {
            *ret_index = i;
            return m;
        }
    }
    return NULL;
}

static gboolean
exec_is_running(Exec *ex, const char *vm)
{
    for (guint i = 0; i < ex->running->len; i++) {
        if (g_str_equal(((ExecMove *) g_ptr_array_index(ex->running, i))->vm, vm))
            return TRUE;
    }
    return FALSE;
}

/* Why @vm could not be placed, from the plan's unplaced list. */
static const char *
exec_unplaced_reason(const VbInventory *inv, const VbPlan *plan, const char *vm)
{
    for (guint i = 0; plan->unplaced && i < plan->unplaced->len; i++) {
        const VbUnplaced *u = g_ptr_array_index(plan->unplaced, i);

        if (!g_str_equal(vb_inventory_vm(inv, u->vm)->name, vm))
            continue;
        if (u->reason)
            return u->reason;
        if (u->groups && u->groups->len > 0)
            return g_array_index(u->groups, VbRejectGroup, 0).reason;
    }
    return "re-planning found no destination for it";
}

static VbPlan *
exec_plan_again(Exec *ex, const VbInventory *inv, guint budget, GError **error)
{
    VbPlanOptions opts = { .now = exec_now_unix(ex), .max_moves = MAX(budget, 1u) };

    if (ex->kind == VB_PLAN_EVACUATE)
        return vb_placement_evacuate(inv, ex->opts->policy, ex->evacuated_host, &opts, error);
    return vb_placement_rebalance(inv, ex->opts->policy, &opts, error);
}

/* Takes one move of the new plan: keep, replace or add the queued move. */
static gboolean
exec_take_new_move(Exec *ex, const VbInventory *inv, const VbMove *mv, GHashTable *kept,
                   GError **error)
{
    const char *vm = vb_inventory_vm(inv, mv->vm)->name;
    const char *to = vb_inventory_host(inv, mv->to)->name;
    guint index = 0;
    ExecMove *old;

    if (g_hash_table_contains(ex->settled, vm) || exec_is_running(ex, vm) ||
        GPOINTER_TO_UINT(g_hash_table_lookup(ex->skips, vm)) >= VB_EXEC_MAX_SKIPS)
        return TRUE;
    g_hash_table_add(kept, g_strdup(vm));
    old = exec_find_pending(ex, vm, &index);
    if (old && g_str_equal(old->to, to))
        return TRUE;
    if (old) {
        g_autofree char *why = g_strdup_printf("re-planned: now to %s", to);

        g_ptr_array_remove_index(ex->pending, index);
        if (!exec_set_state(ex, old, VB_MOVE_STATE_SKIPPED, VB_EXEC_SKIPPED, why, error))
            return FALSE;
        exec_settle(ex, old);
    }
    return exec_queue(ex, vm, vb_inventory_host(inv, mv->from)->name, to, mv->kind,
                      mv->estimated_seconds, error);
}

/* Queued moves the new plan dropped, and skipped guests it did not place
 * (unplaced when evacuating; for a rebalance a guest the new plan leaves
 * alone simply needs no move any more). */
static gboolean
exec_drop_unplanned(Exec *ex, const VbInventory *inv, const VbPlan *plan, GHashTable *kept,
                    GError **error)
{
    gboolean evacuate = ex->kind == VB_PLAN_EVACUATE;

    for (guint i = 0; i < ex->pending->len;) {
        ExecMove *m = g_ptr_array_index(ex->pending, i);

        if (g_hash_table_contains(kept, m->vm)) {
            i++;
            continue;
        }
        g_ptr_array_remove_index(ex->pending, i);
        if (!evacuate) {
            if (!exec_set_state(ex, m, VB_MOVE_STATE_SKIPPED, VB_EXEC_SKIPPED,
                                "re-planning on fresh state no longer moves it", error))
                return FALSE;
            exec_settle(ex, m);
            continue;
        }
        if (!exec_set_state(ex, m, VB_MOVE_STATE_SKIPPED, VB_EXEC_UNPLACED,
                            exec_unplaced_reason(inv, plan, m->vm), error))
            return FALSE;
        exec_settle(ex, m);
        ex->report->unplaced++;
    }
    for (guint i = 0; i < ex->replan->len; i++) {
        const char *vm = g_ptr_array_index(ex->replan, i);
        ExecMove *last = NULL;

        if (g_hash_table_contains(kept, vm) || !evacuate)
            continue;
        for (guint j = 0; j < ex->moves->len; j++) {
            ExecMove *m = g_ptr_array_index(ex->moves, j);

            if (g_str_equal(m->vm, vm))
                last = m;
        }
        ex->report->unplaced++;
        if (last)
            exec_emit(ex, last, VB_EXEC_UNPLACED, 0, exec_unplaced_reason(inv, plan, vm));
    }
    return TRUE;
}

gboolean
exec_replan(Exec *ex, VbInventory *inv, GError **error)
{
    g_autoptr(GHashTable) kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(VbPlan) plan = NULL;

    for (guint i = 0; i < ex->replan->len; i++) {
        const char *vm = g_ptr_array_index(ex->replan, i);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ex->skips, vm));

        g_hash_table_insert(ex->skips, g_strdup(vm), GUINT_TO_POINTER(n + 1));
    }
    plan = exec_plan_again(ex, inv, ex->pending->len + ex->replan->len, error);
    if (!plan)
        return FALSE;
    ex->report->replans++;
    for (guint i = 0; i < plan->moves->len; i++) {
        if (!exec_take_new_move(ex, inv, &g_array_index(plan->moves, VbMove, i), kept, error))
            return FALSE;
    }
    if (!exec_drop_unplanned(ex, inv, plan, kept, error))
        return FALSE;
    g_ptr_array_set_size(ex->replan, 0);
    exec_sort_pending(ex);
    return TRUE;
}
