/*
 * evacuate.c: the evacuate planner: a destination for every guest of a host
 * that is going into maintenance, planned as a whole before anything runs.
 *
 * The host is treated as in maintenance (never a destination, out of the
 * imbalance); cooldowns do not hold guests back, everything else does.
 * Guests go biggest memory first, each to the feasible host with the lowest
 * weighted load after the move among those that stay at or under high_water
 * on every watched metric (only when none does, as a last resort, to one
 * that goes above it, and the move's reason says so), given every move planned before it: same
 * pool first (hosts scanned from the coolest, stopping when even the pool's
 * biggest host could not end lower than the best found), other pools only
 * when the policy allows cross-pool moves (then as storage migration).
 * A hard affinity group living entirely on the host moves as one, to the
 * first host that takes all of it. Shut-off guests move cold.
 *
 * A guest that fits nowhere goes to `unplaced`: when something about the
 * guest itself forbids moving it (pinned, excluded) with that one sentence;
 * otherwise with one rejection per other host of the inventory, the code of
 * the first constraint that refused it there, and those grouped by code with
 * one sentence per group (reject.c), never one per host.
 *
 * Finally the moves are ordered longest estimated migration first, which
 * keeps the makespan of a capped sliding window close to its lower bound.
 * Cost: O(guests * scanned hosts) plus O(hosts) per unplaced guest (cheap
 * checks, no allocation but the rejection array and one sentence per group).
 */
#include "config.h"

#include "placement/placement-priv.h"

G_STATIC_ASSERT(VB_REJECT_LAST < G_MAXUINT8); /* Evacuation.host_code */

typedef struct {
    VbState *st;
    VbPlan *plan;
    guint host;            /* the evacuated host */
    guint8 *host_code;     /* per host, made at the first unplaced guest: the code + 1
                            * of its refusal when it refuses every guest of the
                            * evacuated host alike (see host_codes), else 0 */
} Evacuation;

/* Best destination for @vm in @pool: lowest load after the move; with
 * @under_hw only hosts that stay at or under high_water. */
static guint
best_in_pool(const VbState *st, guint pool, guint vm, gboolean under_hw, double *best_after)
{
    const VbPoolOrder *po = &st->pools[pool];
    double b_lo = 0;
    guint best = G_MAXUINT;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (po->cap_max[m] > 0)
            b_lo += st->weight[m] * st->demand[vm * VB_METRIC_LAST + m] / po->cap_max[m];
    }
    for (guint i = 0; i < po->n; i++) {
        guint d = po->order[i];
        double after;

        if (st->load[d].weighted + b_lo >= *best_after)
            break;
        after = st->load[d].weighted + vb_state_share(st, vm, d) +
                MAX(0.0, vb_state_soft_weight(st, vm, d));
        if (after >= *best_after || (under_hw && !vb_state_fits_under_high_water(st, vm, d)) ||
            vb_state_refusal(st, vm, d, NULL) != VB_REJECT_LAST)
            continue;
        *best_after = after;
        best = d;
    }
    return best;
}

static guint
best_destination_where(const VbState *st, guint vm, gboolean under_hw)
{
    guint own = vb_inventory_host(st->inv, st->vm_host[vm])->pool;
    double after = G_MAXDOUBLE;
    guint best = best_in_pool(st, own, vm, under_hw, &after);

    for (guint p = 0; best == G_MAXUINT && st->policy->allow_cross_pool && p < st->n_pools; p++) {
        guint d = p == own ? G_MAXUINT : best_in_pool(st, p, vm, under_hw, &after);

        if (d != G_MAXUINT)
            best = d;
    }
    return best;
}

/* A host that stays under high_water; only when there is none, as the last
 * resort of an evacuation (every guest must leave), one that goes above it:
 * the move's reason and the plan's hotspots say so. */
static guint
best_destination(const VbState *st, guint vm)
{
    guint best = best_destination_where(st, vm, TRUE);

    return best != G_MAXUINT ? best : best_destination_where(st, vm, FALSE);
}

/* Plans @vm to @to; @group names the affinity rule it moves with, or NULL. */
static void
add_move(Evacuation *e, guint vm, guint to, const char *group)
{
    VbState *st = e->st;
    g_autofree char *what = vb_describe_vm(vb_inventory_vm(st->inv, vm));
    double before = st->load[to].weighted;
    gboolean over = !vb_state_fits_under_high_water(st, vm, to);
    char *reason;

    vb_plan_add_move(e->plan, st, vm, to, 0, NULL);
    vb_state_apply(st, vm, to);
    if (group)
        reason = g_strdup_printf("evacuating %s: %s goes to %s with its affinity group %s, "
                                 "the least loaded host that takes them all (load %.2f -> %.2f)",
                                 vb_inventory_host(st->inv, e->host)->name, what,
                                 vb_inventory_host(st->inv, to)->name, group, before,
                                 st->load[to].weighted);
    else
        reason =
            g_strdup_printf("evacuating %s: %s goes to %s, the least loaded host that "
                            "takes it (load %.2f -> %.2f)",
                            vb_inventory_host(st->inv, e->host)->name, what,
                            vb_inventory_host(st->inv, to)->name, before, st->load[to].weighted);
    if (over) {
        char *more = g_strdup_printf("%s; no host that takes it stays under high-water %.2f, so "
                                     "%s goes above it (the last resort of an evacuation)",
                                     reason, st->policy->high_water,
                                     vb_inventory_host(st->inv, to)->name);

        g_free(reason);
        reason = more;
    }
    g_array_index(e->plan->moves, VbMove, e->plan->moves->len - 1).reason = reason;
}

/* Every guest an evacuation leaves unplaced sits on the evacuated host and
 * is movable, so a host of another pool (cross-pool moves not allowed)
 * refuses each of them with the same code: the state, exclusion and pool
 * checks come before anything about the guest. Worked out once, so that at
 * 50,000 hosts in 200 pools the next unplaced guests read one byte per such
 * host instead of its VbHost. */
static void
host_codes(Evacuation *e, guint vm)
{
    const VbState *st = e->st;
    guint own = vb_inventory_host(st->inv, e->host)->pool;

    e->host_code = g_new0(guint8, MAX(st->n_hosts, 1));
    if (st->policy->allow_cross_pool)
        return;
    for (guint h = 0; h < st->n_hosts; h++) {
        VbRejectCode code;

        if (vb_inventory_host(st->inv, h)->pool == own)
            continue;
        code = vb_state_refusal(st, vm, h, NULL);
        g_assert(code == VB_REJECT_HOST_NOT_UP || code == VB_REJECT_HOST_EXCLUDED ||
                 code == VB_REJECT_OTHER_POOL);
        e->host_code[h] = (guint8) (code + 1);
    }
}

/* Every other host refused @vm: its code per host (the fast path of
 * vb_state_refusal, no sentence), grouped, and one sentence per group, for
 * its first host. O(hosts) cheap checks plus one sentence per distinct
 * constraint: linear in hosts, where a sentence per host was not. */
static void
add_unplaced(Evacuation *e, guint vm)
{
    const VbState *st = e->st;
    VbUnplaced *u = g_new0(VbUnplaced, 1);
    g_autoptr(GString) why = g_string_new(NULL);
    VbRejectTally tally;
    VbRejection *out;

    u->vm = vm;
    u->groups = vb_reject_groups_new();
    if (st->fixed[vm] != VB_REJECT_LAST) {
        u->rejections = g_array_new(FALSE, FALSE, sizeof(VbRejection));
        vb_state_refusal(st, vm, e->host, why);
        u->reason = g_strdup(why->str);
        g_ptr_array_add(e->plan->unplaced, u);
        return;
    }
    if (!e->host_code)
        host_codes(e, vm);
    /* Written in place: one per other host, no append per host. */
    u->rejections = g_array_sized_new(FALSE, FALSE, sizeof(VbRejection), st->n_hosts);
    g_array_set_size(u->rejections, st->n_hosts - 1);
    out = (VbRejection *) (gpointer) u->rejections->data;
    vb_reject_tally_init(&tally, u->groups);
    for (guint h = 0; h < st->n_hosts; h++) {
        VbRejection *rej = out;
        VbRejectGroup *g;
        gboolean alone, fresh;

        if (h == e->host)
            continue;
        out++;
        rej->host = h;
        rej->code = e->host_code[h] ? (VbRejectCode) (e->host_code[h] - 1)
                                    : vb_state_refusal(st, vm, h, NULL);
        alone = rej->code == VB_REJECT_LAST; /* fits alone, not with its group */
        if (alone)
            rej->code = VB_REJECT_AFFINITY;
        g = vb_reject_tally_add(&tally, h, rej->code, alone, &rej->group, &fresh);
        if (fresh && alone) {
            g->reason = g_strdup("its affinity group does not fit");
        } else if (fresh) {
            g_string_truncate(why, 0);
            vb_state_refusal(st, vm, h, why);
            g->reason = g_strndup(why->str, why->len);
        }
    }
    u->reason = g_strdup_printf("no host can take %s", vb_inventory_vm(st->inv, vm)->name);
    g_ptr_array_add(e->plan->unplaced, u);
}

/* The hard affinity rule whose members all sit on the evacuated host, if @vm
 * belongs to one with other members; else G_MAXUINT. */
static guint
whole_group(const VbState *st, guint vm)
{
    for (guint i = st->rule_start[vm]; i < st->rule_start[vm + 1]; i++) {
        guint r = st->rule_index[i];
        const VbRuleRef *ref = &st->rules[r];

        if (ref->rule->hard && ref->rule->kind == VB_RULE_VM_AFFINITY && ref->members->len > 1 &&
            vb_state_rule_count(st, r, st->evacuated) == ref->members->len)
            return r;
    }
    return G_MAXUINT;
}

/* TRUE when every member of @members can go to @h together (with
 * @under_hw: and @h stays at or under high_water). */
static gboolean
group_fits(VbState *st, const GArray *members, guint h, guint from, gboolean under_hw)
{
    guint done = 0;
    gboolean ok;

    while (done < members->len) {
        guint vm = g_array_index(members, guint, done);

        if (vb_state_refusal(st, vm, h, NULL) != VB_REJECT_LAST ||
            (under_hw && !vb_state_fits_under_high_water(st, vm, h)))
            break;
        vb_state_apply(st, vm, h);
        done++;
    }
    ok = done == members->len;
    while (done > 0) {
        done--;
        vb_state_unapply(st, g_array_index(members, guint, done), from);
    }
    return ok;
}

/* Places the whole group of rule @r on the coolest host of its pool that
 * takes all of it and stays under high_water (only when none does, as a
 * last resort, one that goes above it); TRUE when placed. */
static gboolean
place_group(Evacuation *e, guint r)
{
    VbState *st = e->st;
    const GArray *members = st->rules[r].members;
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, e->host)->pool];

    for (guint i = 0; i < 2 * po->n; i++) {
        guint h = po->order[i % po->n];

        if (!group_fits(st, members, h, e->host, i < po->n))
            continue;
        for (guint k = 0; k < members->len; k++)
            add_move(e, g_array_index(members, guint, k), h, st->rules[r].rule->name);
        return TRUE;
    }
    return FALSE;
}

static gint
cmp_longest_first(gconstpointer a, gconstpointer b)
{
    const VbMove *ma = a, *mb = b;

    if (ma->estimated_seconds != mb->estimated_seconds)
        return ma->estimated_seconds > mb->estimated_seconds ? -1 : 1;
    return ma->vm < mb->vm ? -1 : 1;
}

static void
evacuate_all(Evacuation *e)
{
    VbState *st = e->st;
    const VbHost *host = vb_inventory_host(st->inv, e->host);
    g_autoptr(GArray) vms = vb_host_vms_biggest_first(st->inv, host);

    for (guint i = 0; i < vms->len; i++) {
        guint vm = g_array_index(vms, guint, i);
        guint r, to;

        if (st->moved[vm])
            continue; /* went with its affinity group */
        if (st->fixed[vm] == VB_REJECT_LAST && (r = whole_group(st, vm)) != G_MAXUINT) {
            if (!place_group(e, r))
                add_unplaced(e, vm);
            continue;
        }
        to = st->fixed[vm] == VB_REJECT_LAST ? best_destination(st, vm) : G_MAXUINT;
        if (to == G_MAXUINT)
            add_unplaced(e, vm);
        else
            add_move(e, vm, to, NULL);
    }
}

VbPlan *
vb_placement_evacuate(const VbInventory *inv, const VbPolicy *policy, const char *host_name,
                      const VbPlanOptions *opts, GError **error)
{
    const VbHost *host;
    g_autoptr(VbState) st = NULL;
    g_autofree char *stop = NULL;
    Evacuation e;
    guint n;

    g_return_val_if_fail(inv != NULL && policy != NULL && host_name != NULL, NULL);
    host = vb_inventory_get_host(inv, host_name);
    if (!host) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "there is no host named '%s'", host_name);
        return NULL;
    }
    st = vb_state_new(inv, policy, opts ? opts->now : 0, host->id, host->vms);
    e = (Evacuation){.st = st, .plan = vb_plan_new(st, VB_PLAN_EVACUATE), .host = host->id};
    e.plan->evacuated_host = g_strdup(host->name);
    evacuate_all(&e);
    g_free(e.host_code);
    g_array_sort(e.plan->moves, cmp_longest_first);
    n = host->vms->len;
    if (e.plan->unplaced->len == 0)
        stop = g_strdup_printf("all %u guest%s of %s placed", n, n == 1 ? "" : "s", host->name);
    else
        stop = g_strdup_printf("%u of %u guests of %s cannot be placed", e.plan->unplaced->len, n,
                               host->name);
    vb_plan_finish(e.plan, st, e.plan->unplaced->len == 0, stop);
    return e.plan;
}
