/*
 * repair.c: the first objective: mend the rules the current placement
 * breaks, must rules before anything else, should rules when mending earns
 * more than it costs.
 *
 * Each violation is mended by moving as few guests as it takes: a guest on
 * a host a run-on or avoid rule forbids goes to the least loaded host that
 * suits the rule; members of an anti-affinity rule sharing a host leave it
 * (smallest first) for hosts holding no member; a split affinity group
 * gathers on the host that already holds most of it (all members or none:
 * a half-gathered group is taken back). A guest that reached the policy's
 * daily move cap (max_moves_per_vm_per_day) is still moved to mend a must
 * rule, never a should rule; its cooldown holds for both. Repairs stay
 * inside the guest's pool, as balancing does (only an evacuation crosses
 * pools). Every repair move respects every hard constraint, leaves its
 * destination at or under high_water on every watched metric and moves a
 * guest at most once per plan. A should rule is
 * mended only when its weight, plus what the move does to the balance of
 * its two hosts, beats min_improvement plus the move's cost.
 *
 * When a violation cannot be mended, the rule's note says why (the first
 * constraint that refused the least loaded candidate host, the budget, or
 * the guest itself), and the plan reports it.
 *
 * Cost: O(members * hosts of their pool) per violation; rules are few.
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

/* Load two hosts end closer by when @vm goes from @from to @to (negative:
 * further apart). */
static double
pair_gain_of(const VbState *st, guint vm, guint from, guint to)
{
    double ls = st->load[from].weighted, ld = st->load[to].weighted;
    double a = vb_state_share(st, vm, from), b = vb_state_share(st, vm, to);

    return (fabs(ls - ld) - fabs((ls - a) - (ld + b))) / 2;
}

/* May @vm go to @d to mend rule @r? Hard constraints, high-water, the rule
 * itself, and for a should rule the earnings (see above). */
static gboolean
mends(const VbState *st, guint vm, guint r, guint d)
{
    const VbRule *rule = st->rules[r].rule;
    guint from = st->vm_host[vm];

    if (d == from ||
        vb_inventory_host(st->inv, d)->pool != vb_inventory_host(st->inv, from)->pool ||
        vb_state_refusal(st, vm, d, NULL) != VB_REJECT_LAST ||
        !vb_state_fits_under_high_water(st, vm, d) || !vb_state_rule_holds(st, r, vm, d))
        return FALSE;
    if (rule->hard)
        return TRUE;
    return -vb_state_soft_weight(st, vm, d) + pair_gain_of(st, vm, from, d) >=
           st->policy->min_improvement + vb_state_move_cost(st, vm, d);
}

/* Why nothing mends it for @vm: the guest itself, or the least loaded other
 * host of its pool and what keeps it out. */
static char *
why_not(const VbState *st, guint vm, guint r)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, st->vm_host[vm])->pool];
    g_autoptr(GString) why = g_string_new(NULL);

    if (st->moved[vm])
        return g_strdup_printf("%s is already moved by this plan", v->name);
    for (guint i = 0; i < po->n; i++) {
        guint d = po->order[i];

        if (d == st->vm_host[vm])
            continue;
        if (vb_state_refusal(st, vm, d, why) != VB_REJECT_LAST)
            return g_strdup_printf("no host of the pool takes %s; the least loaded, %s, "
                                   "refuses: %s", v->name, vb_inventory_host(st->inv, d)->name,
                                   why->str);
        if (!vb_state_fits_under_high_water(st, vm, d))
            return g_strdup_printf("no host of the pool takes %s under high-water; the least "
                                   "loaded, %s, would go above it",
                                   v->name, vb_inventory_host(st->inv, d)->name);
        if (vb_state_rule_holds(st, r, vm, d))
            return g_strdup_printf("mending it by moving %s costs more than the rule's weight "
                                   "%.3f earns", v->name, st->rules[r].rule->weight);
    }
    return g_strdup_printf("no other host of %s's pool suits rule %s", v->name,
                           st->rules[r].rule->name);
}

/* The least loaded host that mends @r for @vm, or G_MAXUINT. */
static guint
mending_host(const VbState *st, guint vm, guint r)
{
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, st->vm_host[vm])->pool];
    guint best = G_MAXUINT;
    double best_cost = G_MAXDOUBLE;

    if (st->moved[vm] || !vb_state_movable(st, vm))
        return G_MAXUINT;
    for (guint i = 0; i < po->n; i++) {
        guint d = po->order[i];
        double cost;

        if (!mends(st, vm, r, d))
            continue;
        /* Lowest load after, and no should rule broken when avoidable. */
        cost = st->load[d].weighted + vb_state_share(st, vm, d) +
               MAX(0.0, vb_state_soft_weight(st, vm, d));
        if (cost < best_cost) {
            best_cost = cost;
            best = d;
        }
    }
    return best;
}

static const char *
what_it_finds(const VbRule *rule)
{
    switch (rule->kind) {
    case VB_RULE_HOST_AFFINITY:
        return "a host with the labels it must run on";
    case VB_RULE_HOST_ANTI_AFFINITY:
        return "a host without the labels it must avoid";
    case VB_RULE_VM_ANTI_AFFINITY:
        return "a host with no other member of the rule";
    default:
        return "the host where the rest of its group runs";
    }
}

static void
take(VbState *st, VbPlan *plan, guint vm, guint to, guint r)
{
    const VbRule *rule = st->rules[r].rule;
    g_autofree char *what = vb_describe_vm(vb_inventory_vm(st->inv, vm));
    char *reason = g_strdup_printf("rule %s (%s) is broken on %s: moving %s to %s, %s, mends it",
                                   rule->name, rule->hard ? "must" : "should",
                                   vb_inventory_host(st->inv, st->vm_host[vm])->name, what,
                                   vb_inventory_host(st->inv, to)->name, what_it_finds(rule));

    vb_state_add_move(st, plan, vm, to, reason);
}

/* Takes back the moves of @plan from index @keep on (affinity roll-back). */
static void
take_back(VbState *st, VbPlan *plan, guint keep)
{
    while (plan->moves->len > keep) {
        VbMove *move = &g_array_index(plan->moves, VbMove, plan->moves->len - 1);

        vb_state_unapply(st, move->vm, move->from);
        g_free(move->reason);
        g_array_set_size(plan->moves, plan->moves->len - 1);
    }
}

static gboolean
budget_left(const VbPlan *plan, guint budget, guint need)
{
    return plan->moves->len + need <= budget;
}

static void
mend_one_guest(VbState *st, VbPlan *plan, guint budget, const VbViolation *v)
{
    guint vm = g_array_index(v->vms, guint, 0);
    guint to;

    if (!budget_left(plan, budget, 1)) {
        vb_state_note_rule(st, v->rule,
                           g_strdup_printf("the budget of %u moves was used first", budget));
        return;
    }
    to = mending_host(st, vm, v->rule);
    if (to != G_MAXUINT)
        take(st, plan, vm, to, v->rule);
    else
        vb_state_note_rule(st, v->rule, why_not(st, vm, v->rule));
}

static gint
cmp_memory_asc(gconstpointer a, gconstpointer b, gpointer data)
{
    const VbInventory *inv = data;
    guint64 ma = vb_inventory_vm(inv, *(const guint *) a)->memory_mib;
    guint64 mb = vb_inventory_vm(inv, *(const guint *) b)->memory_mib;

    return ma != mb ? (ma < mb ? -1 : 1) : (*(const guint *) a < *(const guint *) b ? -1 : 1);
}

/* Anti-affinity: members leave the shared host, smallest first, until one is left. */
static void
mend_apart(VbState *st, VbPlan *plan, guint budget, const VbViolation *v)
{
    guint host = g_array_index(v->hosts, guint, 0);
    g_autoptr(GArray) order = g_array_copy(v->vms);
    g_autofree char *last_why = NULL;

    g_array_sort_with_data(order, cmp_memory_asc, (gpointer) st->inv);
    for (guint i = 0; i < order->len && vb_state_rule_count(st, v->rule, host) > 1; i++) {
        guint vm = g_array_index(order, guint, i);
        guint to;

        if (!budget_left(plan, budget, 1)) {
            g_free(last_why);
            last_why = g_strdup_printf("the budget of %u moves was used first", budget);
            break;
        }
        to = mending_host(st, vm, v->rule);
        if (to != G_MAXUINT) {
            take(st, plan, vm, to, v->rule);
        } else {
            g_free(last_why);
            last_why = why_not(st, vm, v->rule);
        }
    }
    if (vb_state_rule_count(st, v->rule, host) > 1 && last_why)
        vb_state_note_rule(st, v->rule, g_steal_pointer(&last_why));
}

/* Affinity: gather every member on @target, or nothing. */
static gboolean
gather_on(VbState *st, VbPlan *plan, guint budget, const VbViolation *v, guint target,
          char **ret_why)
{
    guint keep = plan->moves->len;

    for (guint i = 0; i < v->vms->len; i++) {
        guint vm = g_array_index(v->vms, guint, i);

        if (st->vm_host[vm] == target)
            continue;
        if (!budget_left(plan, budget, 1) || st->moved[vm] || !vb_state_movable(st, vm) ||
            !mends(st, vm, v->rule, target)) {
            g_free(*ret_why);
            *ret_why = !budget_left(plan, budget, 1)
                           ? g_strdup_printf("the budget of %u moves was used first", budget)
                           : g_strdup_printf("%s cannot join the group on %s",
                                             vb_inventory_vm(st->inv, vm)->name,
                                             vb_inventory_host(st->inv, target)->name);
            take_back(st, plan, keep);
            return FALSE;
        }
        take(st, plan, vm, target, v->rule);
    }
    return TRUE;
}

static void
mend_together(VbState *st, VbPlan *plan, guint budget, const VbViolation *v)
{
    g_autofree char *why = NULL;
    g_autoptr(GArray) hosts = g_array_copy(v->hosts);

    /* Most members first: the fewest moves. */
    for (guint i = 1; i < hosts->len; i++) {
        for (guint k = i; k > 0; k--) {
            guint a = g_array_index(hosts, guint, k - 1), b = g_array_index(hosts, guint, k);

            if (vb_state_rule_count(st, v->rule, b) <= vb_state_rule_count(st, v->rule, a))
                break;
            g_array_index(hosts, guint, k - 1) = b;
            g_array_index(hosts, guint, k) = a;
        }
    }
    for (guint i = 0; i < hosts->len; i++) {
        guint target = g_array_index(hosts, guint, i);

        if (st->participates[target] && gather_on(st, plan, budget, v, target, &why))
            return;
    }
    vb_state_note_rule(st, v->rule, g_steal_pointer(&why));
}

void
vb_repair_rules(VbState *st, VbPlan *plan, guint budget, gboolean hard)
{
    g_autoptr(GPtrArray) broken = vb_state_violations(st, hard);

    /* A broken must rule outranks churn: the daily cap does not hold back
     * its repair (the cooldown still does). */
    st->cap_waived = hard;
    for (guint i = 0; i < broken->len; i++) {
        const VbViolation *v = g_ptr_array_index(broken, i);

        switch (st->rules[v->rule].rule->kind) {
        case VB_RULE_HOST_AFFINITY:
        case VB_RULE_HOST_ANTI_AFFINITY:
            mend_one_guest(st, plan, budget, v);
            break;
        case VB_RULE_VM_ANTI_AFFINITY:
            mend_apart(st, plan, budget, v);
            break;
        case VB_RULE_VM_AFFINITY:
            mend_together(st, plan, budget, v);
            break;
        default:
            break;
        }
    }
    st->cap_waived = FALSE;
}
