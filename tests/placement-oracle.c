/*
 * placement-oracle.c: the exhaustive reference planner (issue 5's quality
 * oracle) and the helpers of the placement suite.
 *
 * The oracle shares the working state and the constraint evaluation with the
 * real planner (it judges search quality, not correctness; the checker does
 * that), but not the search: every step tries every movable guest of every
 * participating host against every other participating host of its pool,
 * computing the exact change of the pooled imbalance by applying and taking
 * back the move, and takes the best. O(steps * guests * hosts per pool).
 */
#include "config.h"

#include <math.h>

#include "tests/placement-testlib.h"

const char *const pt_reject_names[] = {
    "same-host",
    "host-not-up",
    "host-excluded",
    "other-pool",
    "hypervisor",
    "cpu-vendor",
    "cpu-features",
    "memory",
    "cpu-overcommit",
    "storage-dest",
    "storage-source",
    "pinned",
    "vm-excluded",
    "cooldown",
    "affinity",
    "host-rule",
    "on-two-hosts",
    "move-cap",
    "ok",
    NULL,
};

G_STATIC_ASSERT(G_N_ELEMENTS(pt_reject_names) == VB_REJECT_LAST + 2);

VbInventory *
pt_load_inventory(const char *rel)
{
    g_autofree char *path = vb_test_data_path(rel);
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_file(path, &error);

    ck_assert_msg(inv != NULL, "%s: %s", path, error ? error->message : "");
    return inv;
}

VbPolicy *
pt_load_policy(const char *rel)
{
    g_autofree char *path = vb_test_data_path(rel);
    g_autoptr(GError) error = NULL;
    VbPolicy *policy = vb_policy_load_file(path, &error);

    ck_assert_msg(policy != NULL, "%s: %s", path, error ? error->message : "");
    return policy;
}

/* The plan's objectives: broken rules (by index: the oracle has no policy),
 * hotspots before -> after, and target met. */
static void
pt_objectives_to_text(GString *out, const VbInventory *inv, const VbPlan *plan)
{
    for (guint i = 0; plan->violations && i < plan->violations->len; i++) {
        const VbViolation *v = g_ptr_array_index(plan->violations, i);

        g_string_append_printf(out, "violation rule %u (%u guests): %s: %s\n", v->rule,
                               v->vms ? v->vms->len : 0, v->repaired ? "repaired" : "left",
                               v->reason ? v->reason : "");
    }
    for (guint i = 0; plan->created && i < plan->created->len; i++) {
        const VbViolation *v = g_ptr_array_index(plan->created, i);

        g_string_append_printf(out, "created rule %u: %s\n", v->rule, v->reason ? v->reason : "");
    }
    for (guint i = 0; plan->hotspots && i < plan->hotspots->len; i++) {
        const VbHotspot *h = g_ptr_array_index(plan->hotspots, i);

        g_string_append_printf(out, "hotspot %s %s: %.3f -> %.3f%s%s\n",
                               vb_inventory_host(inv, h->host)->name, vb_metric_names[h->metric],
                               h->before, h->after, h->reason ? ": " : "",
                               h->reason ? h->reason : "");
    }
    g_string_append_printf(out, "target met: %s\n", plan->target_met ? "yes" : "no");
}

void
pt_reject_groups_to_text(GString *out, const VbInventory *inv, const GArray *groups,
                         const char *indent)
{
    for (guint i = 0; groups && i < groups->len; i++) {
        const VbRejectGroup *g = &g_array_index(groups, VbRejectGroup, i);

        g_string_append_printf(out, "%sgroup %u: %s%s, %u host%s (", indent, i,
                               pt_reject_names[g->code], g->shared ? " (shared)" : "", g->count,
                               g->count == 1 ? "" : "s");
        for (guint k = 0; k < MIN(g->count, (guint) VB_REJECT_EXAMPLES); k++)
            g_string_append_printf(out, "%s%s", k ? ", " : "",
                                   vb_inventory_host(inv, g->examples[k])->name);
        g_string_append_printf(out, "): %s\n", g->reason);
    }
}

char *
pt_plan_to_text(const VbInventory *inv, const VbPlan *plan)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "plan: %s%s%s\nstop: %s\n",
                           plan->kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance",
                           plan->evacuated_host ? " " : "",
                           plan->evacuated_host ? plan->evacuated_host : "", plan->stop_reason);
    g_string_append_printf(out, "imbalance: %.4f -> %.4f\n", plan->imbalance_before,
                           plan->imbalance_after);
    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *m = &g_array_index(plan->moves, VbMove, i);

        g_string_append_printf(
            out, "move %s: %s -> %s %s %.1fs\n  %s\n", vb_inventory_vm(inv, m->vm)->name,
            vb_inventory_host(inv, m->from)->name, vb_inventory_host(inv, m->to)->name,
            vb_move_kind_names[m->kind], m->estimated_seconds, m->reason);
    }
    for (guint i = 0; i < plan->unplaced->len; i++) {
        const VbUnplaced *u = g_ptr_array_index(plan->unplaced, i);

        g_string_append_printf(out, "unplaced %s: %s\n", vb_inventory_vm(inv, u->vm)->name,
                               u->reason);
        for (guint k = 0; k < u->rejections->len; k++) {
            const VbRejection *r = &g_array_index(u->rejections, VbRejection, k);

            g_string_append_printf(out, "  %s: %s (group %u)\n",
                                   vb_inventory_host(inv, r->host)->name,
                                   pt_reject_names[r->code], r->group);
        }
        pt_reject_groups_to_text(out, inv, u->groups, "  ");
    }
    for (guint h = 0; h < plan->n_hosts; h++) {
        g_string_append_printf(out, "host %s: %.3f -> %.3f\n", vb_inventory_host(inv, h)->name,
                               plan->before[h].weighted, plan->after[h].weighted);
    }
    pt_objectives_to_text(out, inv, plan);
    return g_string_free(out, FALSE);
}

/* Sum of squared deviations over all pools, from the state's running sums. */
static double
total_sq_dev(const VbState *st)
{
    double dev = 0;

    for (guint p = 0; p < st->n_pools; p++) {
        const VbPoolOrder *po = &st->pools[p];

        if (po->n > 0)
            dev += po->sum_sq - po->sum * po->sum / po->n;
    }
    return dev;
}

typedef struct {
    guint vm, to;
    double dev;
} OracleMove;

static void
try_guest(VbState *st, guint vm, OracleMove *best)
{
    guint from = st->vm_host[vm];
    const VbPool *pool = vb_inventory_pool(st->inv, vb_inventory_host(st->inv, from)->pool);

    for (guint i = 0; i < pool->hosts->len; i++) {
        guint to = g_array_index(pool->hosts, guint, i);
        double ls = st->load[from].weighted, ld = st->load[to].weighted;
        double a, b, pair, dev;

        if (to == from || !st->participates[to] ||
            vb_state_refusal(st, vm, to, NULL) != VB_REJECT_LAST)
            continue;
        a = vb_state_share(st, vm, from);
        b = vb_state_share(st, vm, to);
        pair = (fabs(ls - ld) - fabs((ls - a) - (ld + b))) / 2;
        if (pair < st->policy->min_improvement +
                       VB_SOFT_PENALTY * MAX(0, vb_state_soft_breaks(st, vm, to)))
            continue;
        vb_state_apply(st, vm, to);
        dev = total_sq_dev(st);
        vb_state_unapply(st, vm, from);
        if (dev < best->dev - 1e-12)
            *best = (OracleMove){vm, to, dev};
    }
}

VbPlan *
pt_oracle_rebalance(const VbInventory *inv, const VbPolicy *policy, const VbPlanOptions *opts,
                    guint n_moves)
{
    g_autoptr(VbState) st = vb_state_new(inv, policy, opts ? opts->now : 0, G_MAXUINT, NULL);
    VbPlan *plan = vb_plan_new(st, VB_PLAN_REBALANCE);

    for (guint step = 0; step < n_moves; step++) {
        OracleMove best = {G_MAXUINT, G_MAXUINT, total_sq_dev(st)};

        for (guint vm = 0; vm < st->n_vms; vm++) {
            if (!st->moved[vm] && st->fixed[vm] == VB_REJECT_LAST &&
                st->participates[st->vm_host[vm]])
                try_guest(st, vm, &best);
        }
        if (best.vm == G_MAXUINT)
            break;
        vb_plan_add_move(plan, st, best.vm, best.to, 0, g_strdup("oracle"));
        vb_state_apply(st, best.vm, best.to);
    }
    vb_plan_finish(plan, st, FALSE, "oracle");
    return plan;
}
