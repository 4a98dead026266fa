/*
 * rebalance.c: the balance planner, a greedy over pool-sorted hosts.
 *
 * Objective: the pooled imbalance sqrt(sum over pools of S_p / N), where S_p
 * is the sum of squared deviations of weighted load in pool p. Moving a guest
 * of share a (on its source s) and b (on destination d) inside pool p changes
 * S_p by
 *   dS = (Ls - a)^2 - Ls^2 + (Ld + b)^2 - Ld^2 - ((T + b - a)^2 - T^2) / n
 * (T = sum of loads, n = hosts), an O(1) expression. Each step takes, over
 * all pools, the feasible move with the most negative dS (among moves within
 * 1% of it, the one with the shortest estimated migration), then updates the
 * state. Guests are moved at most once per plan, so no move is undone later.
 *
 * A move must also bring the two hosts closer by at least min_improvement:
 *   pair gain = (|Ls - Ld| - |(Ls - a) - (Ld + b)|) / 2 >= max(min_improvement,
 *   noise_margin * the noise of the two loads) + the move's cost
 * (no should rule may be broken anew, objectives.c). This is the hysteresis: it
 * does not shrink as pools grow (a pool-wide standard deviation would, making
 * every move in a 10,000-host pool look worthless), and the reverse of a
 * planned move never passes it, so a second run on the result plans nothing.
 *
 * Search per pool, cached until the pool changes: the VB_REBALANCE_SOURCES
 * hottest hosts above the pool mean, each of their movable guests, and
 * destinations scanned from the coolest up. The pool's move is the hottest
 * host's best unless another host's removes more than twice as much
 * (VB_PEAK_SHARE): the highest load comes down first, as when minimising the
 * peak, while the sum of squares still falls at every step. Since
 * dS >= dS_term1 + 2 Ld b_lo + b_lo^2 + term3(b_hi), where b_lo and b_hi are
 * the guest's share on the
 * pool's largest and smallest hosts, and Ld only grows along the scan, the
 * scan stops as soon as that bound cannot beat the best move found (and after
 * VB_REBALANCE_MAX_SCAN hosts at most). Per step: O(K * guests per host *
 * scanned) for the one pool that changed plus O(pools); O(1) amortised
 * re-sorting of the two hosts that moved.
 *
 * A pool whose own standard deviation is within target_imbalance plans nothing.
 * A guest at its daily move cap (max_moves_per_vm_per_day) is not moved; when
 * balancing stops for want of a move and such a guest would have made the
 * best one, the stop reason names it.
 */
#include "config.h"

#include <math.h>

#include "placement/placement-priv.h"

typedef struct {
    gboolean found;
    gboolean relocate; /* a retarget whose move must go to the end of the plan */
    guint vm, from, to;
    double ds;      /* change of S_p, negative */
    double seconds; /* estimated migration time, < 0 until needed */
} Candidate;

/* What the balance planner keeps besides the state. */
typedef struct {
    VbState *st;
    VbPlan *plan;
    gint *last_left;   /* per host: index of the last planned move leaving it, or -1 */
    GArray **arrived;  /* per host: guests planned onto it (may have moved on) */
    guint *move_index; /* per guest: its move in plan->moves */
} Rebalance;

typedef struct {
    Rebalance *rb;
    VbState *st;
    guint pool;
    double a, b_lo, b_hi; /* current guest's shares */
    double ls;            /* source load */
    double term1;         /* (Ls - a)^2 - Ls^2 */
    double soft_broken;   /* weight of the should rules the guest breaks now */
} Search;

static double
mean_term(const VbPoolOrder *po, double a, double b)
{
    return ((po->sum + b - a) * (po->sum + b - a) - po->sum * po->sum) / po->n;
}

static double
guest_share_at(const VbState *st, guint vm, const double *cap)
{
    double share = 0;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0 && cap[m] > 0 && cap[m] < G_MAXDOUBLE)
            share += st->weight[m] * st->demand[vm * VB_METRIC_LAST + m] / cap[m];
    }
    return share;
}

static double
pair_gain(double ls, double ld, double a, double b)
{
    return (fabs(ls - ld) - fabs((ls - a) - (ld + b))) / 2;
}

static double
move_seconds(const VbState *st, guint vm, guint from, guint to)
{
    const VbInventory *inv = st->inv;

    return vb_placement_estimate_seconds(inv, st->policy, vb_inventory_vm(inv, vm),
                                         vb_inventory_host(inv, from), vb_inventory_host(inv, to),
                                         vb_state_move_kind(st, vm, to));
}

/* TRUE when @ds should replace @best: clearly better, or about as good and
 * quicker to migrate. Estimates are computed only for such near-ties (and
 * remembered in the candidates), since pow() is the costly part. */
static gboolean
beats(const VbState *st, Candidate *best, guint vm, guint from, guint to, double ds,
      double *ret_seconds)
{
    *ret_seconds = -1;
    if (!best->found || ds < best->ds * 1.01)
        return TRUE;
    if (ds > best->ds * 0.99)
        return FALSE;
    if (best->seconds < 0)
        best->seconds = move_seconds(st, best->vm, best->from, best->to);
    *ret_seconds = move_seconds(st, vm, from, to);
    return *ret_seconds < best->seconds;
}

/* TRUE when a move after move @i depends on it (vb_plan_waits_for). */
static gboolean
has_dependents(const VbPlan *plan, guint i)
{
    for (guint k = i + 1; k < plan->moves->len; k++) {
        if (vb_plan_waits_for(plan, k, i))
            return TRUE;
    }
    return FALSE;
}

/* May @vm, planned from @orig onto @from, go to @to instead? Its move keeps
 * its place in the plan when every planned move leaving @to comes before it
 * (what it finds free there must not depend on a later move); otherwise it
 * goes to the end of the plan (*@ret_relocate), which needs that no later
 * move depends on it. And the hard constraints must hold for @orig -> @to in
 * the state with its first move taken out. The state is restored. */
static gboolean
retarget_allowed(Rebalance *rb, guint vm, guint orig, guint from, guint to, gboolean *ret_relocate)
{
    VbState *st = rb->st;
    gboolean ok;

    if (to == orig)
        return FALSE;
    *ret_relocate = rb->last_left[to] > (gint) rb->move_index[vm];
    if (*ret_relocate && has_dependents(rb->plan, rb->move_index[vm]))
        return FALSE;
    st->vm_host[vm] = orig;
    ok = vb_state_refusal(st, vm, to, NULL) == VB_REJECT_LAST;
    st->vm_host[vm] = from;
    return ok;
}

/* What a move between @from and @to must gain at least, before its cost:
 * min_improvement, and noise_margin standard deviations of the noise of the
 * two hosts' load difference (differences within the noise are not moved).
 * The caller multiplies it by recent_factor(). */
static double
hysteresis(const VbState *st, guint from, guint to)
{
    double sf = vb_state_noise(st, from), sd = vb_state_noise(st, to);

    return MAX(st->policy->min_improvement, st->policy->noise_margin * sqrt(sf * sf + sd * sd));
}

/* A guest moved N times in the last 24 hours needs N + 1 times the
 * hysteresis. Not while why_capped() asks what a capped guest would do: its
 * note names the cap, which holds it back first. */
static double
recent_factor(const VbState *st, guint vm)
{
    if (st->cap_waived && vb_state_capped(st, vm))
        return 1;
    return 1 + vb_inventory_vm(st->inv, vm)->moves_last_day;
}

/* The move's ds scaled by the share of its pair gain left after its cost
 * (1 when moves cost nothing), or 0 when the gain does not pay for it. */
static double
worth(const VbState *st, guint vm, guint to, double ds, double gain, double need)
{
    double cost = vb_state_move_cost(st, vm, to);

    if (gain - cost < need || gain <= 0)
        return 0;
    return ds * (gain - cost) / gain;
}

static void
scan_destinations(Search *s, guint vm, guint from, Candidate *best)
{
    VbState *st = s->st;
    const VbPoolOrder *po = &st->pools[s->pool];
    double floor_term3 = -mean_term(po, s->a, s->b_hi);

    for (guint i = 0; i < po->n && i < VB_REBALANCE_MAX_SCAN; i++) {
        guint d = po->order[i];
        double ld = st->load[d].weighted;
        double b, ds, seconds, need, soft, gain;
        gboolean relocate = FALSE;

        if (d == from)
            break; /* every host from here on is at least as loaded */
        if (s->term1 + 2 * ld * s->b_lo + s->b_lo * s->b_lo + floor_term3 >=
            (best->found ? best->ds * 0.99 : 0))
            break;
        b = vb_state_share(st, vm, d);
        ds = s->term1 + 2 * ld * b + b * b - mean_term(po, s->a, b);
        if (ds >= 0 || (best->found && ds > best->ds * 0.99))
            continue;
        /* No should rule broken unless the move mends more weight; what
         * it mends lowers the gain it needs. A guest breaking one moves only
         * to mend it (else the move is spent and the rule stays broken). */
        soft = vb_state_soft_weight(st, vm, d);
        if (soft > 0 || (soft == 0 && s->soft_broken > 0))
            continue;
        need = hysteresis(st, from, d) * recent_factor(st, vm) + soft;
        gain = pair_gain(s->ls, ld, s->a, b);
        if (gain < need || !vb_state_fits_under_high_water(st, vm, d))
            continue;
        ds = worth(st, vm, d, ds, gain, need);
        if (ds >= 0 || !beats(st, best, vm, from, d, ds, &seconds))
            continue;
        if (st->moved[vm] ? !retarget_allowed(s->rb, vm, vb_inventory_vm(st->inv, vm)->host, from,
                                              d, &relocate)
                          : vb_state_refusal(st, vm, d, NULL) != VB_REJECT_LAST)
            continue;
        *best = (Candidate){TRUE, st->moved[vm] && relocate, vm, from, d, ds, seconds};
    }
}

static void
scan_guest(Search *s, guint vm, guint from, Candidate *best)
{
    const VbState *st = s->st;
    const VbPoolOrder *po = &st->pools[s->pool];

    s->a = vb_state_share(st, vm, from);
    if (s->a <= 0)
        return;
    s->b_lo = guest_share_at(st, vm, po->cap_max);
    s->b_hi = guest_share_at(st, vm, po->cap_min);
    s->term1 = (s->ls - s->a) * (s->ls - s->a) - s->ls * s->ls;
    s->soft_broken = vb_state_soft_broken_weight(st, vm);
    scan_destinations(s, vm, from, best);
}

/* The guests on @from: its own, and those planned onto it (which may be
 * sent elsewhere instead, see take()). */
static void
scan_source(Search *s, guint from, Candidate *best)
{
    VbState *st = s->st;
    const VbHost *host = vb_inventory_host(st->inv, from);
    const GArray *arrived = s->rb->arrived[from];

    s->ls = st->load[from].weighted;
    for (guint i = 0; i < host->vms->len; i++) {
        guint vm = g_array_index(host->vms, guint, i);

        if (!st->moved[vm] && vb_state_movable(st, vm))
            scan_guest(s, vm, from, best);
    }
    for (guint i = 0; arrived && i < arrived->len; i++) {
        guint vm = g_array_index(arrived, guint, i);

        if (st->vm_host[vm] == from)
            scan_guest(s, vm, from, best);
    }
}

static Candidate
best_in_pool(Rebalance *rb, guint pool)
{
    VbState *st = rb->st;
    const VbPoolOrder *po = &st->pools[pool];
    Search s = {.rb = rb, .st = st, .pool = pool};
    Candidate best = {0}, peak = {0};
    double mean;

    if (po->n < 2 || vb_state_pool_imbalance(st, pool) <= st->policy->target_imbalance)
        return best;
    mean = po->sum / po->n;
    for (guint k = 0; k < po->n && k < VB_REBALANCE_SOURCES; k++) {
        guint from = po->order[po->n - 1 - k];

        if (st->load[from].weighted <= mean)
            break;
        scan_source(&s, from, &best);
        if (k == 0)
            peak = best;
    }
    /* Peak first: the hottest host's best move, unless another host's
     * removes more than twice as much (ds < 0). */
    return peak.found && peak.ds <= VB_PEAK_SHARE * best.ds ? peak : best;
}

/* "kvm3 is a hotspot (cpu 0.93 > high-water 0.80)" or "kvm3 is above the pool
 * mean (load 0.71, mean 0.52)". */
static void
append_why_source(GString *out, const VbState *st, guint host, double mean)
{
    const VbHostLoad *load = &st->load[host];
    guint hot = 0;

    for (guint m = 1; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0 && load->load[m] > load->load[hot])
            hot = m;
    }
    if (load->load[hot] > st->policy->high_water)
        g_string_append_printf(out, "%s is a hotspot (%s %.2f > high-water %.2f)",
                               vb_inventory_host(st->inv, host)->name, vb_metric_names[hot],
                               load->load[hot], st->policy->high_water);
    else
        g_string_append_printf(out, "%s is above the pool mean (load %.2f, mean %.2f)",
                               vb_inventory_host(st->inv, host)->name, load->weighted, mean);
}

static void
note_arrival(Rebalance *rb, guint vm, guint to)
{
    if (!rb->arrived[to])
        rb->arrived[to] = g_array_new(FALSE, FALSE, sizeof(guint));
    g_array_append_val(rb->arrived[to], vm);
}

/* Moves the move of @vm to the end of the plan; indexes follow. */
static void
relocate_to_end(Rebalance *rb, guint vm)
{
    GArray *moves = rb->plan->moves;
    VbMove move = g_array_index(moves, VbMove, rb->move_index[vm]);

    g_array_remove_index(moves, rb->move_index[vm]);
    g_array_append_val(moves, move);
    for (guint k = 0; k < moves->len; k++)
        rb->last_left[g_array_index(moves, VbMove, k).from] = -1;
    for (guint k = 0; k < moves->len; k++) {
        rb->move_index[g_array_index(moves, VbMove, k).vm] = k;
        rb->last_left[g_array_index(moves, VbMove, k).from] = (gint) k;
    }
}

/* A guest already planned is sent to @c->to instead: its one move is
 * rewritten (never a second move), and says so. */
static void
retarget(Rebalance *rb, const Candidate *c, guint pool, double pool_before, double total_before)
{
    VbState *st = rb->st;
    VbMove *move;
    char *reason;

    if (c->relocate)
        relocate_to_end(rb, c->vm);
    move = &g_array_index(rb->plan->moves, VbMove, rb->move_index[c->vm]);
    vb_state_unapply(st, c->vm, move->from);
    vb_plan_add_move(rb->plan, st, c->vm, c->to, 0, NULL); /* figures for the new target */
    {
        VbMove fresh = g_array_index(rb->plan->moves, VbMove, rb->plan->moves->len - 1);

        g_array_set_size(rb->plan->moves, rb->plan->moves->len - 1);
        move = &g_array_index(rb->plan->moves, VbMove, rb->move_index[c->vm]);
        move->kind = fresh.kind;
        move->estimated_seconds = fresh.estimated_seconds;
    }
    vb_state_apply(st, c->vm, c->to);
    move->to = c->to;
    reason = g_strdup_printf("%s; sent to %s instead of %s, which lowers pool %s's imbalance "
                             "%.3f -> %.3f",
                             move->reason, vb_inventory_host(st->inv, c->to)->name,
                             vb_inventory_host(st->inv, c->from)->name,
                             vb_inventory_pool(st->inv, pool)->name, pool_before,
                             vb_state_pool_imbalance(st, pool));
    g_free(move->reason);
    move->reason = reason;
    move->gain += total_before - vb_state_total_imbalance(st);
    note_arrival(rb, c->vm, c->to);
}

static void
take(Rebalance *rb, const Candidate *c)
{
    VbState *st = rb->st;
    VbPlan *plan = rb->plan;
    guint pool = vb_inventory_host(st->inv, c->from)->pool;
    const VbPoolOrder *po = &st->pools[pool];
    double pool_before = vb_state_pool_imbalance(st, pool);
    double total_before = vb_state_total_imbalance(st);
    g_autofree char *what = vb_describe_vm(vb_inventory_vm(st->inv, c->vm));
    GString *reason;
    guint n_moves = plan->moves->len;

    if (st->moved[c->vm]) {
        retarget(rb, c, pool, pool_before, total_before);
        return;
    }
    reason = g_string_new(NULL);
    append_why_source(reason, st, c->from, po->sum / po->n);
    vb_plan_add_move(plan, st, c->vm, c->to, 0, NULL);
    vb_state_apply(st, c->vm, c->to);
    g_string_append_printf(reason, "; moving %s to %s lowers pool %s's imbalance %.3f -> %.3f",
                           what, vb_inventory_host(st->inv, c->to)->name,
                           vb_inventory_pool(st->inv, pool)->name, pool_before,
                           vb_state_pool_imbalance(st, pool));
    g_array_index(plan->moves, VbMove, n_moves).reason = g_string_free(reason, FALSE);
    g_array_index(plan->moves, VbMove, n_moves).gain = total_before - vb_state_total_imbalance(st);
    rb->move_index[c->vm] = n_moves;
    rb->last_left[c->from] = (gint) n_moves;
    note_arrival(rb, c->vm, c->to);
}

static gboolean
all_within_target(const VbState *st)
{
    for (guint p = 0; p < st->n_pools; p++) {
        if (st->pools[p].n >= 2 && vb_state_pool_imbalance(st, p) > st->policy->target_imbalance)
            return FALSE;
    }
    return TRUE;
}

static void
rebalance_clear(Rebalance *rb)
{
    for (guint h = 0; h < rb->st->n_hosts; h++) {
        if (rb->arrived[h])
            g_array_unref(rb->arrived[h]);
    }
    g_free(rb->arrived);
    g_free(rb->last_left);
    g_free(rb->move_index);
}

/* Moves planned outside the balance loop, from index @first on (repairs,
 * reliefs): their guests may be sent elsewhere instead (retarget), under
 * the same constraints, so that a second run on the result finds nothing
 * left to do. */
static void
adopt_moves(Rebalance *rb, guint first)
{
    for (guint k = first; k < rb->plan->moves->len; k++) {
        const VbMove *move = &g_array_index(rb->plan->moves, VbMove, k);

        rb->last_left[move->from] = (gint) k;
        rb->move_index[move->vm] = k;
        note_arrival(rb, move->vm, move->to);
    }
}

/* When balancing found no move: the move it would make if the daily move
 * cap did not hold its guest back, as "; web-1 (kvm1 -> kvm3) would lower
 * the imbalance but web-1 moved 4 times ...", else an empty string
 * (transfer full). The state is left as it was. */
static char *
why_capped(Rebalance *rb)
{
    VbState *st = rb->st;
    Candidate best = {0};
    g_autoptr(GString) why = g_string_new(NULL);
    const VbVm *vm;

    if (st->policy->max_moves_per_vm_per_day == 0)
        return g_strdup("");
    st->cap_waived = TRUE;
    for (guint p = 0; p < st->n_pools; p++) {
        Candidate c = best_in_pool(rb, p);

        if (c.found && (!best.found || c.ds < best.ds))
            best = c;
    }
    st->cap_waived = FALSE;
    if (!best.found || !vb_state_capped(st, best.vm))
        return g_strdup("");
    vm = vb_inventory_vm(st->inv, best.vm);
    vb_state_refusal(st, best.vm, best.to, why);
    return g_strdup_printf("; moving %s from %s to %s would lower the imbalance, but %s",
                           vm->name, vb_inventory_host(st->inv, best.from)->name,
                           vb_inventory_host(st->inv, best.to)->name, why->str);
}

/* Should rules worth mending, when balancing has nothing left to do; TRUE
 * when it planned moves (balancing goes on after them). */
static gboolean
mend_soft_rules(Rebalance *rb, Candidate *cache, guint budget)
{
    guint before = rb->plan->moves->len;

    vb_repair_rules(rb->st, rb->plan, budget, FALSE);
    if (rb->plan->moves->len == before)
        return FALSE;
    adopt_moves(rb, before);
    for (guint p = 0; p < rb->st->n_pools; p++)
        cache[p] = best_in_pool(rb, p);
    return TRUE;
}

void
vb_rebalance_balance(VbState *st, VbPlan *plan, guint budget)
{
    g_autofree Candidate *cache = g_new0(Candidate, MAX(st->n_pools, 1));
    g_autofree char *stop = NULL;
    gboolean met = FALSE;
    Rebalance rb = {
        .st = st,
        .plan = plan,
        .last_left = g_new(gint, MAX(st->n_hosts, 1)),
        .arrived = g_new0(GArray *, MAX(st->n_hosts, 1)),
        .move_index = g_new0(guint, MAX(st->n_vms, 1)),
    };
    /* Every step lowers the sum of squares by a positive amount, so this
     * only guards against a bug looping forever on retargets. */
    guint steps = 0, max_steps = 8 * MIN(budget, 1000000u) + 64;

    for (guint h = 0; h < st->n_hosts; h++)
        rb.last_left[h] = -1;
    /* Moves of the earlier objectives (repairs, reliefs): their guests may
     * be sent elsewhere instead (retarget), under the same constraints, so
     * that a second run on the result finds nothing left to do. */
    adopt_moves(&rb, 0);
    for (guint p = 0; p < st->n_pools; p++)
        cache[p] = best_in_pool(&rb, p);
    for (;; steps++) {
        Candidate *best = NULL;
        guint pool;

        if (all_within_target(st)) {
            if (mend_soft_rules(&rb, cache, budget))
                continue;
            stop = g_strdup_printf("every pool's imbalance is within %.3f",
                                   st->policy->target_imbalance);
            met = TRUE;
            break;
        }
        if (plan->moves->len >= budget || steps >= max_steps) {
            stop = g_strdup_printf("budget used (%u moves)", plan->moves->len);
            break;
        }
        for (guint p = 0; p < st->n_pools; p++) {
            if (cache[p].found && (!best || cache[p].ds < best->ds))
                best = &cache[p];
        }
        if (!best) {
            g_autofree char *capped = NULL;

            if (mend_soft_rules(&rb, cache, budget))
                continue;
            capped = why_capped(&rb);
            stop = g_strdup_printf("no move brings two hosts closer by more than the "
                                   "minimum improvement %.3f, the noise of their loads (more "
                                   "for a guest moved in the last 24 h) and its own cost%s",
                                   st->policy->min_improvement, capped);
            break;
        }
        pool = vb_inventory_host(st->inv, best->from)->pool;
        take(&rb, best);
        cache[pool] = best_in_pool(&rb, pool);
    }
    vb_plan_finish(plan, st, met, stop);
    rebalance_clear(&rb);
}
