/*
 * quality-churn.c: how many migrations a day of planning makes when nothing
 * really changes, only the noise of measured load.
 *
 * The replay: a generated pool is first settled (rebalanced and applied
 * until a plan has no moves, under the policy being measured, a day apart so
 * no cooldown holds it back; then every guest counts as moved long ago).
 * Each guest's settled CPU use is its base. Every `interval` seconds of
 * simulated time, for `hours` hours:
 *   - each guest's CPU use (of its vCPUs) is drawn uniformly in
 *     base * [1 - noise, 1 + noise], capped at 1; each host's measured CPU is
 *     what it had of its own (measured minus its guests' at the settled
 *     state, kept per host) plus its guests' new use. Memory and disks do
 *     not change;
 *   - rebalance plans at `now` (the policy's budget and cooldown apply);
 *   - the plan is applied with vb_placement_apply_plan() (what-if), and each
 *     moved guest's last_migrated is set to `now`, so the cooldown holds it;
 *     before each plan every guest's moves_last_day is its moves of the
 *     replay in the 24 h before `now`, as the journal gives it on real pools,
 *     so budget.max_moves_per_vm_per_day holds too.
 * Counted: migrations, per guest and per day (day = 86,400 s of simulated
 * time from the start), rounds that moved anything, and the imbalance
 * before and after. The noise is a seeded sequence: every policy sees the
 * same draws. What the replay is not: executed migrations (every move
 * succeeds at once) or collected samples (no averaging window).
 *
 * Cost: hours * 3600 / interval rebalances of the pool plus one inventory
 * copy each; about a second for 50 hosts / 1,000 guests and a day.
 */
#include "config.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

#include "bench/quality.h"

#define START_TIME 2000000000 /* any unix time: cooldowns only compare */

typedef struct {
    guint moves;            /* in the whole replay */
    guint rounds_moving;    /* rounds whose plan had moves */
    guint max_per_guest;    /* most moves of one guest in one day */
    guint guests_moved;     /* guests moved at least once */
    double imbalance_start; /* weighted, first round's plan before */
    double imbalance_end;   /* last round's plan after */
    guint settle_moves;     /* moves it took to settle */
} Churn;

/* Rebalances and applies until a plan has no moves (at most 50 rounds). */
static VbInventory *
settle(VbInventory *inv, const VbPolicy *policy, guint *ret_moves)
{
    *ret_moves = 0;
    for (guint r = 0; r < 50; r++) {
        g_autoptr(VbPlan) plan = vb_quality_rebalance(inv, policy, START_TIME + r * 86400, 0);
        VbInventory *next;

        if (plan->moves->len == 0)
            break;
        *ret_moves += plan->moves->len;
        next = vb_placement_apply_plan(inv, policy, plan);
        vb_inventory_free(inv);
        inv = next;
        for (guint i = 0; i < plan->moves->len; i++)
            vb_inventory_vm(inv, g_array_index(plan->moves, VbMove, i).vm)->last_migrated =
                START_TIME + r * 86400;
    }
    for (guint v = 0; v < inv->vms->len; v++)
        vb_inventory_vm(inv, v)->last_migrated = 0;
    return inv;
}

static double
guest_cores(const VbVm *vm)
{
    return vm->state == VB_VM_STATE_SHUTOFF ? 0 : vm->vcpus * vm->cpu_usage;
}

/* Each host's own CPU use: measured minus what its guests use (cores). */
static double *
host_own_cores(const VbInventory *inv)
{
    double *own = g_new0(double, MAX(inv->hosts->len, 1));

    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        own[h] = host->cpu_usage * host->cpu_cores;
        for (guint i = 0; i < host->vms->len; i++)
            own[h] -= guest_cores(vb_inventory_vm(inv, g_array_index(host->vms, guint, i)));
    }
    return own;
}

static void
jitter(VbInventory *inv, const double *base, const double *own, double noise, GRand *rand)
{
    for (guint v = 0; v < inv->vms->len; v++)
        vb_inventory_vm(inv, v)->cpu_usage =
            MIN(1.0, base[v] * (1 + g_rand_double_range(rand, -noise, noise)));
    for (guint h = 0; h < inv->hosts->len; h++) {
        VbHost *host = vb_inventory_host(inv, h);
        double cores = own[h];

        for (guint i = 0; i < host->vms->len; i++)
            cores += guest_cores(vb_inventory_vm(inv, g_array_index(host->vms, guint, i)));
        host->cpu_usage = host->cpu_cores ? MAX(0.0, cores / host->cpu_cores) : 0;
    }
}

/* Counts @plan's moves into @count (per guest, this day) and @total. */
static void
count_moves(const VbPlan *plan, guint *count, guint *ever, Churn *ret)
{
    for (guint i = 0; i < plan->moves->len; i++) {
        guint vm = g_array_index(plan->moves, VbMove, i).vm;

        /* Not inside MAX(), which evaluates its arguments twice. */
        count[vm]++;
        ret->max_per_guest = MAX(ret->max_per_guest, count[vm]);
        ret->guests_moved += ever[vm]++ == 0;
    }
    ret->moves += plan->moves->len;
    ret->rounds_moving += plan->moves->len > 0;
}

/* Each guest's moves_last_day: its moves in @when (per guest: a GArray of
 * gint64 times, oldest first) after @now - 24 h; older ones are dropped. */
static void
count_last_day(VbInventory *inv, GArray **when, gint64 now)
{
    for (guint v = 0; v < inv->vms->len; v++) {
        guint old = 0;

        while (when[v] && old < when[v]->len && g_array_index(when[v], gint64, old) <= now - 86400)
            old++;
        if (old > 0)
            g_array_remove_range(when[v], 0, old);
        vb_inventory_vm(inv, v)->moves_last_day = when[v] ? when[v]->len : 0;
    }
}

#define NOISE_WINDOW 8

/* What the collectors would measure: each host's standard deviation of its
 * CPU load over its last NOISE_WINDOW plans (@seen: n_hosts x NOISE_WINDOW,
 * @n_seen plans so far), into VbHost.cpu_stddev once 3 are known. */
static void
measure_noise(VbInventory *inv, double *seen, guint n_seen)
{
    for (guint h = 0; h < inv->hosts->len; h++) {
        VbHost *host = vb_inventory_host(inv, h);
        double *ring = seen + (gsize) h * NOISE_WINDOW;
        guint n = MIN(n_seen + 1, NOISE_WINDOW);
        double sum = 0, sq = 0;

        ring[n_seen % NOISE_WINDOW] = host->cpu_usage;
        for (guint i = 0; i < n; i++) {
            sum += ring[i];
            sq += ring[i] * ring[i];
        }
        host->cpu_stddev = n >= 3 ? sqrt(MAX(0.0, sq / n - (sum / n) * (sum / n))) : 0;
    }
}

static Churn
replay(const VbChurnOptions *o, const VbPolicy *policy, gboolean measured)
{
    Churn c = { 0 };
    VbInventory *inv = settle(vb_quality_generate(&o->pool), policy, &c.settle_moves);
    g_autofree double *own = host_own_cores(inv);
    g_autofree double *base = g_new0(double, MAX(inv->vms->len, 1));
    g_autofree guint *today = g_new0(guint, MAX(inv->vms->len, 1));
    g_autofree guint *ever = g_new0(guint, MAX(inv->vms->len, 1));
    g_autofree GArray **when = g_new0(GArray *, MAX(inv->vms->len, 1));
    g_autoptr(GRand) rand = g_rand_new_with_seed((guint32) o->pool.seed);
    guint rounds = o->hours * 3600 / o->interval;
    g_autofree double *seen = g_new0(double, MAX(inv->hosts->len, 1) * NOISE_WINDOW);

    for (guint v = 0; v < inv->vms->len; v++)
        base[v] = vb_inventory_vm(inv, v)->cpu_usage;
    for (guint r = 0; r < rounds; r++) {
        gint64 now = START_TIME + (gint64) r * o->interval;
        g_autoptr(VbPlan) plan = NULL;
        VbInventory *next;

        if (r > 0 && (gint64) r * o->interval / 86400 != (gint64) (r - 1) * o->interval / 86400)
            memset(today, 0, sizeof(guint) * inv->vms->len);
        jitter(inv, base, own, o->noise, rand);
        if (measured)
            measure_noise(inv, seen, r);
        count_last_day(inv, when, now);
        plan = vb_quality_rebalance(inv, policy, now, 0);
        if (r == 0)
            c.imbalance_start = plan->imbalance_before;
        c.imbalance_end = plan->imbalance_after;
        count_moves(plan, today, ever, &c);
        next = vb_placement_apply_plan(inv, policy, plan);
        vb_inventory_free(inv);
        inv = next;
        for (guint i = 0; i < plan->moves->len; i++) {
            guint vm = g_array_index(plan->moves, VbMove, i).vm;

            vb_inventory_vm(inv, vm)->last_migrated = now;
            if (!when[vm])
                when[vm] = g_array_new(FALSE, FALSE, sizeof(gint64));
            g_array_append_val(when[vm], now);
        }
    }
    for (guint v = 0; v < inv->vms->len; v++) {
        if (when[v])
            g_array_unref(when[v]);
    }
    vb_inventory_free(inv);
    return c;
}

#define CHURN_ROW(label, fmt, ...)                                                             \
    do {                                                                                       \
        printf("| %s |", label);                                                               \
        for (guint q = 0; q < G_N_ELEMENTS(cols); q++) {                                       \
            const Churn *r = &runs[q];                                                         \
            printf(" " fmt " |", __VA_ARGS__);                                                       \
        }                                                                                      \
        printf("\n");                                                                          \
    } while (0)

void
vb_quality_churn_section(const VbChurnOptions *o)
{
    /* The default target, the 0.01, and 0 (balance as far as moves
     * gain), on the noise model alone; then the default with each host's
     * noise measured over its last plans, as the collectors give it. */
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();
    const struct {
        double target;
        gboolean measured;
    } cols[] = {
        { defaults->target_imbalance, FALSE },
        { 0.01, FALSE },
        { 0, FALSE },
        { defaults->target_imbalance, TRUE },
    };
    g_autofree char *label = vb_quality_pool_label(&o->pool);
    Churn runs[G_N_ELEMENTS(cols)];
    double days = o->hours / 24.0;

    for (guint q = 0; q < G_N_ELEMENTS(cols); q++) {
        g_autoptr(VbPolicy) policy = vb_policy_new_default();

        policy->target_imbalance = cols[q].target;
        runs[q] = replay(o, policy, cols[q].measured);
    }
    printf("\n### Churn under noise: %s, %u h, a plan every %u s, guest CPU +-%.0f %%\n\n",
           label, o->hours, o->interval, o->noise * 100);
    printf("Policy: the defaults (budget %u moves, cooldown %u s, at most %u moves per guest "
           "per day, min_improvement %g) with target_imbalance as in each column. Target "
           "(issue 8): at most 1 migration per guest per day at the default policy, at most 4 "
           "at target_imbalance 0.\n\n",
           defaults->max_migrations, defaults->cooldown_seconds,
           defaults->max_moves_per_vm_per_day, defaults->min_improvement);
    printf("| figure |");
    for (guint q = 0; q < G_N_ELEMENTS(cols); q++)
        printf(" target_imbalance %g%s%s |", cols[q].target, q == 0 ? " (default)" : "",
               cols[q].measured ? ", host noise measured over the last " G_STRINGIFY(NOISE_WINDOW)
                                  " plans" : "");
    printf("\n|---|");
    for (guint q = 0; q < G_N_ELEMENTS(cols); q++)
        printf("---:|");
    printf("\n");
    CHURN_ROW("moves to settle first (no noise)", "%u", r->settle_moves);
    CHURN_ROW("migrations per day", "%.0f", r->moves / days);
    CHURN_ROW("most migrations of one guest in one day", "%u", r->max_per_guest);
    CHURN_ROW("guests moved at least once", "%u", r->guests_moved);
    CHURN_ROW("rounds with moves", "%u", r->rounds_moving);
    CHURN_ROW("imbalance first round before -> last round after", "%.4f -> %.4f",
              r->imbalance_start, r->imbalance_end);
    fflush(stdout);
}
