/*
 * consolidate.c: the consolidate planner: empty lightly loaded hosts so they
 * can be switched off, without making any other host a hotspot.
 *
 * Per pool, hosts below consolidate_low_water are taken from the least
 * loaded up. For each, every guest on it (biggest memory first) gets the
 * most loaded feasible host that stays at or under high_water on every
 * weighted metric after the move (best fit, so load is packed rather than
 * spread). A host is freed only whole: if one guest finds no place (or is
 * pinned, excluded, cooling down), its moves are taken back and it is
 * skipped. A host that received guests is never emptied later, and a freed
 * host never receives, so no guest moves twice. A host is not started when
 * its guests would not fit in the remaining budget.
 *
 * Cost: O(guests of the host * hosts of the pool) per candidate host in the
 * worst case (the scan stops at the first fit from the top).
 */
#include "config.h"

#include "placement/placement-priv.h"

typedef struct {
    VbState *st;
    gboolean *freed;    /* per host: being emptied by this plan */
    gboolean *received; /* per host: took guests in this plan */
} Consolidation;

/* The fullest host of the pool that takes @vm under high-water, or G_MAXUINT. */
static guint
best_fit(const Consolidation *c, const VbPoolOrder *po, guint vm, guint from)
{
    const VbState *st = c->st;

    for (guint i = po->n; i-- > 0;) {
        guint d = po->order[i];

        if (d == from || c->freed[d])
            continue;
        if (!vb_state_fits_under_high_water(st, vm, d))
            continue;
        if (vb_state_refusal(st, vm, d, NULL) == VB_REJECT_LAST)
            return d;
    }
    return G_MAXUINT;
}

/* Tries to empty @host; on success appends its moves to @plan. */
static gboolean
try_free(Consolidation *c, VbPlan *plan, guint pool, guint host)
{
    VbState *st = c->st;
    const VbHost *h = vb_inventory_host(st->inv, host);
    g_autoptr(GArray) vms = vb_host_vms_biggest_first(st->inv, h);
    g_autoptr(GArray) dests = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) loads = g_array_new(FALSE, FALSE, sizeof(double));
    double load = st->load[host].weighted;
    guint i;

    c->freed[host] = TRUE;
    for (i = 0; i < vms->len; i++) {
        guint vm = g_array_index(vms, guint, i);
        guint d = st->moved[vm] ? G_MAXUINT : best_fit(c, &st->pools[pool], vm, host);

        if (d == G_MAXUINT)
            break;
        g_array_append_val(dests, d);
        vb_state_apply(st, vm, d);
        g_array_append_val(loads, st->load[d].weighted);
    }
    if (i < vms->len) {
        while (i-- > 0)
            vb_state_unapply(st, g_array_index(vms, guint, i), host);
        c->freed[host] = FALSE;
        return FALSE;
    }
    for (i = 0; i < vms->len; i++) {
        guint vm = g_array_index(vms, guint, i);
        guint d = g_array_index(dests, guint, i);
        g_autofree char *what = vb_describe_vm(vb_inventory_vm(st->inv, vm));
        VbMove move;

        move.vm = vm;
        move.from = host;
        move.to = d;
        move.kind = vb_state_move_kind(st, vm, d);
        move.gain = 0;
        move.estimated_seconds =
            vb_placement_estimate_seconds(st->inv, st->policy, vb_inventory_vm(st->inv, vm), h,
                                          vb_inventory_host(st->inv, d), move.kind);
        move.reason = g_strdup_printf("freeing %s (load %.2f < low-water %.2f): %s goes to %s "
                                      "(load %.2f after, high-water %.2f)",
                                      h->name, load, st->policy->consolidate_low_water, what,
                                      vb_inventory_host(st->inv, d)->name,
                                      g_array_index(loads, double, i), st->policy->high_water);
        g_array_append_val(plan->moves, move);
        c->received[d] = TRUE;
    }
    return TRUE;
}

void
vb_rebalance_consolidate(VbState *st, VbPlan *plan, guint budget)
{
    Consolidation c = {.st = st};
    guint freed = 0;
    gboolean budget_short = FALSE;
    g_autofree char *stop = NULL;

    c.freed = g_new0(gboolean, MAX(st->n_hosts, 1));
    c.received = g_new0(gboolean, MAX(st->n_hosts, 1));
    /* Hosts that took repair or relief moves are not emptied. */
    for (guint i = 0; i < plan->moves->len; i++)
        c.received[g_array_index(plan->moves, VbMove, i).to] = TRUE;
    for (guint p = 0; p < st->n_pools; p++) {
        const VbPoolOrder *po = &st->pools[p];
        g_autofree guint *candidates = g_memdup2(po->order, sizeof(guint) * MAX(po->n, 1));
        guint n = po->n;

        for (guint i = 0; i < n && n > 1; i++) {
            guint host = candidates[i];
            const VbHost *h = vb_inventory_host(st->inv, host);

            if (st->load[host].weighted >= st->policy->consolidate_low_water)
                break;
            if (c.received[host] || h->vms->len == 0)
                continue;
            if (plan->moves->len + h->vms->len > budget) {
                budget_short = TRUE;
                continue;
            }
            freed += try_free(&c, plan, p, host);
        }
    }
    if (freed > 0)
        stop = g_strdup_printf("%u host%s freed%s", freed, freed == 1 ? "" : "s",
                               budget_short ? "; the budget left no room for more" : "");
    else
        stop = g_strdup(budget_short ? "the budget is too small to free a whole host"
                                     : "no host below low-water can be emptied");
    vb_plan_finish(plan, st, !budget_short, stop);
    g_free(c.freed);
    g_free(c.received);
}
