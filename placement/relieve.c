/*
 * relieve.c: the second objective: relieve every host above high_water on
 * any watched metric (weight > 0), before the goal's own moves.
 *
 * Hot hosts are taken hottest first (the sum over watched metrics of how far
 * each is above high_water), one move at a time: after each, whichever host
 * is hottest then goes next, so hot hosts share the pool's room and the
 * highest load comes down first. For that host the planner moves out the
 * guest that lowers its excess most; among guests within 1% of that, the one
 * whose move lowers the pair's peak most net of its cost (the higher
 * weighted load of the two hosts after, plus vb_state_move_cost), then the
 * destination left least loaded. Each goes to a host of its pool that every hard constraint allows,
 * that stays at or under high_water on every watched metric, and where no
 * should rule gets broken. When no single move will do, it makes room first:
 * a guest of the would-be destination goes to a third host (under the same
 * conditions), then the hot host's guest takes its place: a chain of two
 * ordered moves, each safe on its own (the executor keeps plan order,
 * vb_plan_waits_for). When no chain will do either, two guests exchange
 * hosts: a guest of a cooler host comes to the hot one first (every hard
 * constraint holds there; the hot host may carry it a moment above
 * high-water, being above it already), then the hot host's guest takes its
 * place, under high-water; the swap is taken only when it leaves the hot
 * host with less excess and no metric newly above high_water (a host hot on
 * CPU and one hot on memory exchanging a CPU-heavy and a memory-heavy
 * guest). A guest at its daily move cap (max_moves_per_vm_per_day) is not
 * moved here, neither to relieve, nor to make room, nor in a swap. A host
 * nothing relieves gets a note saying why: a capped guest that would relieve
 * it (named), the guests themselves, or what the pool's hosts lack.
 *
 * Since no move pushes a host above high_water, the hot set only shrinks
 * (a swap's hot host ends with less excess); a host nothing relieves is
 * set aside for good, since later moves only take room. Choosing the host:
 * O(hot hosts) per move. Cost per relief: O(guests of the hot host *
 * VB_RELIEVE_SCAN); per chain attempt O(8 * 16 * guests of a destination *
 * VB_RELIEVE_SCAN); per swap attempt O(8 * 16 * guests of a destination)
 * state updates; hot hosts are few in practice.
 */
#include "config.h"

#include "placement/placement-priv.h"

/* Destinations looked at per guest, coolest first. */
#define VB_RELIEVE_SCAN 64
/* Chains: hot host's guests and would-be destinations tried. */
#define VB_CHAIN_GUESTS 8
#define VB_CHAIN_DESTS 16

typedef struct {
    gboolean found;
    guint vm, to;
    double relief; /* excess removed from the hot host */
    double net;    /* how far the pair's peak falls, less the move's cost */
    double after;  /* weighted load of the destination after */
} Relief;

/* Excess of @host the departure of @vm removes. */
static double
relief_of(const VbState *st, guint vm, guint host)
{
    double relief = 0;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        double over = st->load[host].load[m] - st->policy->high_water;

        if (st->weight[m] > 0 && over > 0)
            relief += MIN(over, vb_state_metric_share(st, vm, host, m));
    }
    return relief;
}

/* Movable guests now on @host (its own, not moved yet). */
static GArray *
movable_guests(const VbState *st, guint host)
{
    const VbHost *h = vb_inventory_host(st->inv, host);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < h->vms->len; i++) {
        guint vm = g_array_index(h->vms, guint, i);

        if (st->vm_host[vm] == host && !st->moved[vm] && vb_state_movable(st, vm))
            g_array_append_val(out, vm);
    }
    return out;
}

/* Every test a relief destination passes: hard constraints, high-water,
 * no should rule broken anew, and a guest breaking one now moves only to
 * mend it (as in balancing). */
static gboolean
safe_destination(const VbState *st, guint vm, guint to)
{
    double soft;

    if (to == st->vm_host[vm] || !vb_state_fits_under_high_water(st, vm, to) ||
        vb_state_refusal(st, vm, to, NULL) != VB_REJECT_LAST)
        return FALSE;
    soft = vb_state_soft_weight(st, vm, to);
    return soft < 0 || (soft == 0 && vb_state_soft_broken_weight(st, vm) == 0);
}

/* The coolest safe destination of @vm's pool other than @not_this, or G_MAXUINT. */
static guint
first_safe(const VbState *st, guint vm, guint not_this)
{
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, st->vm_host[vm])->pool];

    for (guint i = 0; i < po->n && i < VB_RELIEVE_SCAN; i++) {
        guint d = po->order[i];

        if (d != not_this && safe_destination(st, vm, d))
            return d;
    }
    return G_MAXUINT;
}

/* Among candidates that remove about as much excess: the larger net fall
 * of the pair's peak, then the destination left less loaded. */
static gboolean
better(const Relief *c, const Relief *best)
{
    if (!best->found || c->net > best->net + 1e-9)
        return TRUE;
    if (c->net < best->net - 1e-9)
        return FALSE;
    return c->after < best->after;
}

/* Most relief first; equal relief by guest id, so the choice does not
 * depend on the order of the host's guests. */
static gint
by_relief(gconstpointer a, gconstpointer b)
{
    const Relief *x = a, *y = b;

    if (x->relief != y->relief)
        return x->relief > y->relief ? -1 : 1;
    return (x->vm > y->vm) - (x->vm < y->vm);
}

/* The guests whose departure removes the most excess and that have a safe
 * destination, within 1% of the most any of them removes; of those, the one
 * better() prefers. Guests are tried most relief first, so destinations are
 * looked for only down to the 1% window. */
static Relief
best_single(const VbState *st, guint host, const GArray *guests)
{
    g_autoptr(GArray) cands = g_array_sized_new(FALSE, FALSE, sizeof(Relief), guests->len);
    Relief best = {0};
    double most = -1;

    for (guint i = 0; i < guests->len; i++) {
        guint vm = g_array_index(guests, guint, i);
        Relief c = {TRUE, vm, G_MAXUINT, relief_of(st, vm, host), 0, 0};

        if (c.relief > 0)
            g_array_append_val(cands, c);
    }
    g_array_sort(cands, by_relief);
    for (guint i = 0; i < cands->len; i++) {
        Relief c = g_array_index(cands, Relief, i);
        guint vm = c.vm;

        if (most >= 0 && c.relief < most * 0.99)
            break;
        c.to = first_safe(st, vm, G_MAXUINT);
        if (c.to == G_MAXUINT)
            continue;
        if (most < 0)
            most = c.relief;
        c.after = st->load[c.to].weighted + vb_state_share(st, vm, c.to);
        c.net = st->load[host].weighted -
                MAX(c.after, st->load[host].weighted - vb_state_share(st, vm, host)) -
                vb_state_move_cost(st, vm, c.to);
        if (better(&c, &best))
            best = c;
    }
    return best;
}

/* "kvm3 is above high-water (memory 0.92 > 0.80)" */
static char *
why_hot(const VbState *st, guint host)
{
    guint hot = VB_METRIC_LAST;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (st->weight[m] > 0 &&
            (hot == VB_METRIC_LAST || st->load[host].load[m] > st->load[host].load[hot]))
            hot = m;
    }
    return g_strdup_printf("%s is above high-water (%s %.2f > %.2f)",
                           vb_inventory_host(st->inv, host)->name, vb_metric_names[hot],
                           st->load[host].load[hot], st->policy->high_water);
}

static void
take_single(VbState *st, VbPlan *plan, guint host, const Relief *r)
{
    g_autofree char *hot = why_hot(st, host);
    g_autofree char *what = vb_describe_vm(vb_inventory_vm(st->inv, r->vm));
    const char *to = vb_inventory_host(st->inv, r->to)->name;

    vb_state_add_move(st, plan, r->vm, r->to,
             g_strdup_printf("%s: moving %s to %s relieves it; %s stays under high-water", hot,
                             what, to, to));
}

/* Makes room on @d for @vm by sending one of @d's guests to a third host;
 * on success both moves are in the plan, room first. */
static gboolean
chain_through(VbState *st, VbPlan *plan, guint host, guint vm, guint d)
{
    g_autoptr(GArray) there = movable_guests(st, d);

    for (guint i = 0; i < there->len; i++) {
        guint w = g_array_index(there, guint, i);
        guint e = first_safe(st, w, host);
        gboolean fits;

        if (e == G_MAXUINT)
            continue;
        vb_state_apply(st, w, e);
        fits = safe_destination(st, vm, d);
        vb_state_unapply(st, w, d);
        if (!fits)
            continue;
        {
            g_autofree char *hot = why_hot(st, host);
            g_autofree char *what_w = vb_describe_vm(vb_inventory_vm(st->inv, w));
            g_autofree char *what_v = vb_describe_vm(vb_inventory_vm(st->inv, vm));
            const char *dn = vb_inventory_host(st->inv, d)->name;

            vb_state_add_move(st, plan, w, e,
                     g_strdup_printf("%s: moving %s from %s to %s makes room on %s for %s",
                                     hot, what_w, dn, vb_inventory_host(st->inv, e)->name, dn,
                                     vb_inventory_vm(st->inv, vm)->name));
            vb_state_add_move(st, plan, vm, d,
                     g_strdup_printf("%s: moving %s to %s, in the room the move before made, "
                                     "relieves it",
                                     hot, what_v, dn));
        }
        return TRUE;
    }
    return FALSE;
}

static gint
cmp_relief_desc(gconstpointer a, gconstpointer b, gpointer data)
{
    const double *relief = data;
    double ra = relief[*(const guint *) a], rb = relief[*(const guint *) b];

    return ra != rb ? (ra > rb ? -1 : 1) : (*(const guint *) a < *(const guint *) b ? -1 : 1);
}

static gboolean
try_chain(VbState *st, VbPlan *plan, guint host, GArray *guests)
{
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, host)->pool];
    g_autofree double *relief = g_new0(double, MAX(st->n_vms, 1));

    for (guint i = 0; i < guests->len; i++) {
        guint vm = g_array_index(guests, guint, i);

        relief[vm] = relief_of(st, vm, host);
    }
    g_array_sort_with_data(guests, cmp_relief_desc, relief);
    for (guint i = 0; i < guests->len && i < VB_CHAIN_GUESTS; i++) {
        guint vm = g_array_index(guests, guint, i);

        if (relief[vm] <= 0)
            break;
        for (guint k = 0; k < po->n && k < VB_CHAIN_DESTS; k++) {
            guint d = po->order[k];

            if (d != host && chain_through(st, plan, host, vm, d))
                return TRUE;
        }
    }
    return FALSE;
}

/* Whether @k may come to the hot @host as the first half of a swap: every
 * hard constraint and should rule holds (the host is hot already; the
 * swap's second half takes more away than @k brings, see swap_gain). */
static gboolean
swap_in_allowed(const VbState *st, guint k, guint host)
{
    double soft;

    if (vb_state_refusal(st, k, host, NULL) != VB_REJECT_LAST)
        return FALSE;
    soft = vb_state_soft_weight(st, k, host);
    return soft < 0 || (soft == 0 && vb_state_soft_broken_weight(st, k) == 0);
}

/* Excess of @host removed by swapping @vm (on @host) with @k (on @d), or 0
 * when the swap is not safe at both steps: @k to @host first (hard
 * constraints), then @vm to @d (every test of a relief destination), and
 * afterwards no metric of @host above high_water that was not before. */
static double
swap_gain(VbState *st, guint host, guint vm, guint d, guint k)
{
    double before = vb_state_hot_excess(st, host), after = before;
    gboolean newly_hot = FALSE;
    gboolean hot_before[VB_METRIC_LAST];

    if (!swap_in_allowed(st, k, host))
        return 0;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        hot_before[m] = st->load[host].load[m] > st->policy->high_water;
    vb_state_apply(st, k, host);
    if (safe_destination(st, vm, d)) {
        vb_state_apply(st, vm, d);
        after = vb_state_hot_excess(st, host);
        for (guint m = 0; m < VB_METRIC_LAST; m++)
            newly_hot = newly_hot || (st->weight[m] > 0 && !hot_before[m] &&
                                      st->load[host].load[m] > st->policy->high_water);
        vb_state_unapply(st, vm, host);
    }
    vb_state_unapply(st, k, d);
    return newly_hot ? 0 : before - after;
}

static void
take_swap(VbState *st, VbPlan *plan, guint host, guint vm, guint d, guint k)
{
    g_autofree char *hot = why_hot(st, host);
    g_autofree char *what_k = vb_describe_vm(vb_inventory_vm(st->inv, k));
    g_autofree char *what_v = vb_describe_vm(vb_inventory_vm(st->inv, vm));
    const char *hn = vb_inventory_host(st->inv, host)->name;
    const char *dn = vb_inventory_host(st->inv, d)->name;
    const char *vn = vb_inventory_vm(st->inv, vm)->name;

    vb_state_add_move(st, plan, k, host,
             g_strdup_printf("%s: a swap: moving %s from %s to %s first, so that %s can take "
                             "its place on %s", hot, what_k, dn, hn, vn, dn));
    vb_state_add_move(st, plan, vm, d,
             g_strdup_printf("%s: a swap: moving %s to %s, in exchange for %s, relieves it; "
                             "%s stays under high-water",
                             hot, what_v, dn, vb_inventory_vm(st->inv, k)->name, dn));
}

/* Two guests exchanging hosts, for when neither a single move nor a chain
 * will do (a host hot on CPU and one hot on memory relieve each other):
 * the hot host's guests that relieve it most, the pool's coolest hosts, and
 * on each the guest whose exchange removes the most excess. */
static gboolean
try_swap(VbState *st, VbPlan *plan, guint host, GArray *guests)
{
    const VbPoolOrder *po = &st->pools[vb_inventory_host(st->inv, host)->pool];

    for (guint i = 0; i < guests->len && i < VB_CHAIN_GUESTS; i++) {
        guint vm = g_array_index(guests, guint, i);

        for (guint n = 0; n < po->n && n < VB_CHAIN_DESTS; n++) {
            guint d = po->order[n], best = G_MAXUINT;
            g_autoptr(GArray) there = NULL;
            double best_gain = 0;

            if (d == host)
                continue;
            there = movable_guests(st, d);
            for (guint j = 0; j < there->len; j++) {
                guint k = g_array_index(there, guint, j);
                double gain = swap_gain(st, host, vm, d, k);

                if (gain > best_gain + 1e-9) {
                    best_gain = gain;
                    best = k;
                }
            }
            if (best != G_MAXUINT) {
                take_swap(st, plan, host, vm, d, best);
                return TRUE;
            }
        }
    }
    return FALSE;
}

/* Why nothing relieves @host: its guests, or what its pool's hosts lack for
 * the guest that would relieve it most. */
static char *
why_stuck(const VbState *st, guint host, const GArray *guests)
{
    const VbHost *h = vb_inventory_host(st->inv, host);
    const VbPoolOrder *po = &st->pools[h->pool];
    g_autoptr(GString) example = g_string_new(NULL);
    guint refused = 0, too_hot = 0, soft = 0, best = G_MAXUINT;
    double best_relief = 0;

    for (guint i = 0; i < guests->len; i++) {
        guint vm = g_array_index(guests, guint, i);

        if (relief_of(st, vm, host) > best_relief) {
            best_relief = relief_of(st, vm, host);
            best = vm;
        }
    }
    if (best == G_MAXUINT)
        return g_strdup_printf("none of its guests may move (pinned, excluded, cooling down, "
                               "at their daily move cap or already moved)");
    for (guint i = 0; i < po->n; i++) {
        guint d = po->order[i];

        if (d == host)
            continue;
        if (vb_state_refusal(st, best, d, refused == 0 ? example : NULL) != VB_REJECT_LAST)
            refused++;
        else if (!vb_state_fits_under_high_water(st, best, d))
            too_hot++;
        else
            soft++;
    }
    return g_strdup_printf("no host in pool %s takes %s under high-water: %u would go above it, "
                           "%u refuse it%s%s%s, %u would break a should rule",
                           vb_inventory_pool(st->inv, h->pool)->name,
                           vb_inventory_vm(st->inv, best)->name, too_hot, refused,
                           refused ? " (" : "", example->str, refused ? ")" : "", soft);
}

/* When a guest the daily move cap holds back would relieve @host (one move,
 * as best_single finds it), why it is not moved, else NULL: the cap, not
 * the pool, keeps the host hot, and the note says so. */
static char *
why_capped(VbState *st, guint host)
{
    g_autoptr(GArray) guests = NULL;
    g_autoptr(GString) why = g_string_new(NULL);
    Relief r;

    if (st->policy->max_moves_per_vm_per_day == 0)
        return NULL;
    st->cap_waived = TRUE;
    guests = movable_guests(st, host);
    r = best_single(st, host, guests);
    st->cap_waived = FALSE;
    if (!r.found || !vb_state_capped(st, r.vm))
        return NULL;
    vb_state_refusal(st, r.vm, r.to, why);
    return g_strdup_printf("moving %s to %s would relieve it, but %s",
                           vb_inventory_vm(st->inv, r.vm)->name,
                           vb_inventory_host(st->inv, r.to)->name, why->str);
}

/* One step of relief for @host: a single move, else a chain or a swap.
 * FALSE, with a note saying why, when nothing relieves it. */
static gboolean
relieve_step(VbState *st, VbPlan *plan, guint budget, guint host)
{
    g_autoptr(GArray) guests = movable_guests(st, host);
    Relief r = best_single(st, host, guests);
    char *capped;

    if (r.found) {
        take_single(st, plan, host, &r);
        return TRUE;
    }
    if (plan->moves->len + 2 <= budget &&
        (try_chain(st, plan, host, guests) || try_swap(st, plan, host, guests)))
        return TRUE;
    capped = why_capped(st, host);
    vb_state_note_host(st, host, capped ? capped : why_stuck(st, host, guests));
    return FALSE;
}

/* The hottest host of @hot not @stuck and still hot, or G_MAXUINT (ties:
 * the lower id). */
static guint
hottest(const VbState *st, const GArray *hot, const gboolean *stuck)
{
    guint best = G_MAXUINT;
    double best_excess = 0;

    for (guint i = 0; i < hot->len; i++) {
        guint h = g_array_index(hot, guint, i);
        double excess = stuck[h] ? 0 : vb_state_hot_excess(st, h);

        if (excess > best_excess) {
            best_excess = excess;
            best = h;
        }
    }
    return best;
}

/* Hot hosts share the room their pool has: each step relieves whichever is
 * hottest now (a host relieved part of the way yields to a hotter one), so
 * the highest load comes down first instead of one host taking every free
 * slot. When the budget is spent every host still hot says so. */
void
vb_relieve_hotspots(VbState *st, VbPlan *plan, guint budget)
{
    g_autoptr(GArray) hot = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree gboolean *stuck = g_new0(gboolean, MAX(st->n_hosts, 1));
    guint host;

    for (guint h = 0; h < st->n_hosts; h++) {
        if (st->participates[h] && vb_state_hot_excess(st, h) > 0)
            g_array_append_val(hot, h);
    }
    while ((host = hottest(st, hot, stuck)) != G_MAXUINT) {
        if (plan->moves->len >= budget) {
            for (guint i = 0; i < hot->len; i++) {
                guint h = g_array_index(hot, guint, i);

                if (!stuck[h] && vb_state_hot_excess(st, h) > 0)
                    vb_state_note_host(st, h, g_strdup_printf("the budget of %u moves was "
                                                              "used first", budget));
            }
            return;
        }
        stuck[host] = !relieve_step(st, plan, budget, host);
    }
}
