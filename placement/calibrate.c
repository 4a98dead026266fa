/*
 * calibrate.c: migration costs measured from finished migrations.
 *
 * The estimate (estimate.c) models a live migration as
 *   seconds = setup + mib / bandwidth(from, to)
 * and this file measures both terms from what really happened: the journal's
 * finished live migrations, each turned by the caller into plain data (host
 * ids, data moved, seconds). Nothing here reads the journal or the clock.
 *
 * Estimators, chosen to be robust to the odd slow migration (a busy link, a
 * guest that dirtied memory fast, a poll that noticed the end late):
 * - setup: a Theil-Sen fit. Every two migrations of one host pair whose sizes
 *   differ at least VB_CALIBRATE_SIZE_RATIO times give a slope (seconds per
 *   MiB); the median slope S (at least 0) and the median of seconds - S * mib
 *   over all migrations give the setup. Migrations of similar sizes cannot
 *   tell setup from transfer, so with fewer than VB_CALIBRATE_MIN_SLOPES
 *   slopes the policy's setup_seconds stays.
 * - bandwidth per (from, to) pair: the median of mib / (seconds - setup) over
 *   its newest VB_CALIBRATE_PER_PAIR migrations, when it has at least
 *   VB_CALIBRATE_MIN_PER_PAIR. When the setup could not be measured this is
 *   an effective rate that makes the estimate match the median migration of
 *   the sizes seen.
 *
 * Invariants: the result depends only on the input (ties broken by input
 * order); a migration with no data, no positive duration or a NaN is ignored.
 * Workload: a few hundred migrations from the journal, O(n log n) plus the
 * slopes, O(k^2) per pair with k <= VB_CALIBRATE_PER_PAIR.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "placement/placement-priv.h"

/* Two migrations give a slope when their sizes differ at least this much. */
#define VB_CALIBRATE_SIZE_RATIO 2.0
/* A measured setup longer than this is not believed (clamped). */
#define VB_CALIBRATE_MAX_SETUP_S 600.0

void
vb_calibration_free(VbCalibration *cal)
{
    if (!cal)
        return;
    if (cal->pairs)
        g_array_unref(cal->pairs);
    g_free(cal);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y ? 1 : 0;
}

/* The median of @v (sorted in place); +inf sorts last. @n > 0. */
static double
median(double *v, guint n)
{
    g_assert(n > 0);
    qsort(v, n, sizeof(double), cmp_double);
    if (n % 2 == 1)
        return v[n / 2];
    if (isinf(v[n / 2]))
        return v[n / 2];
    return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A usable migration and its input position (newer first). */
typedef struct {
    VbObservedMigration o;
    guint pos;
} Ranked;

static int
cmp_ranked(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;

    if (x->o.from != y->o.from)
        return x->o.from < y->o.from ? -1 : 1;
    if (x->o.to != y->o.to)
        return x->o.to < y->o.to ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos ? 1 : 0;
}

static gboolean
usable(const VbObservedMigration *o)
{
    return isfinite(o->mib) && isfinite(o->seconds) && o->mib > 0 && o->seconds > 0;
}

/* The usable migrations grouped by pair, each pair's newest
 * VB_CALIBRATE_PER_PAIR in input order; @ret_starts gets the start of each
 * group and a final end marker (transfer full, both). */
static GArray *
group_by_pair(const VbObservedMigration *obs, guint n_obs, GArray **ret_starts)
{
    g_autofree Ranked *r = g_new(Ranked, MAX(n_obs, 1));
    GArray *kept = g_array_new(FALSE, FALSE, sizeof(VbObservedMigration));
    GArray *starts = g_array_new(FALSE, FALSE, sizeof(guint));
    guint n = 0, in_pair = 0;

    for (guint i = 0; i < n_obs; i++)
        if (usable(&obs[i]))
            r[n++] = (Ranked) { obs[i], i };
    qsort(r, n, sizeof(Ranked), cmp_ranked);
    for (guint k = 0; k < n; k++) {
        if (k == 0 || r[k - 1].o.from != r[k].o.from || r[k - 1].o.to != r[k].o.to) {
            g_array_append_val(starts, kept->len);
            in_pair = 0;
        }
        if (in_pair++ < VB_CALIBRATE_PER_PAIR)
            g_array_append_val(kept, r[k].o);
    }
    g_array_append_val(starts, kept->len);
    *ret_starts = starts;
    return kept;
}

/* Slopes (seconds per MiB) of every two migrations of one pair whose sizes
 * differ enough (transfer full). */
static GArray *
pair_slopes(const GArray *kept, const GArray *starts)
{
    GArray *slopes = g_array_new(FALSE, FALSE, sizeof(double));

    for (guint g = 0; g + 1 < starts->len; g++) {
        guint a = g_array_index(starts, guint, g), b = g_array_index(starts, guint, g + 1);

        for (guint i = a; i < b; i++)
            for (guint j = i + 1; j < b; j++) {
                const VbObservedMigration *x = &g_array_index(kept, VbObservedMigration, i);
                const VbObservedMigration *y = &g_array_index(kept, VbObservedMigration, j);
                double lo = MIN(x->mib, y->mib), hi = MAX(x->mib, y->mib);

                if (hi >= VB_CALIBRATE_SIZE_RATIO * lo) {
                    double s = (y->seconds - x->seconds) / (y->mib - x->mib);

                    g_array_append_val(slopes, s);
                }
            }
    }
    return slopes;
}

/* The Theil-Sen setup, or FALSE when there are too few slopes. */
static gboolean
fit_setup(const GArray *kept, const GArray *starts, double *ret_setup, guint *ret_n_slopes)
{
    g_autoptr(GArray) slopes = pair_slopes(kept, starts);
    g_autofree double *intercepts = NULL;
    double s;

    *ret_n_slopes = slopes->len;
    if (slopes->len < VB_CALIBRATE_MIN_SLOPES)
        return FALSE;
    s = MAX(median((double *) (void *) slopes->data, slopes->len), 0.0);
    intercepts = g_new(double, kept->len);
    for (guint i = 0; i < kept->len; i++) {
        const VbObservedMigration *o = &g_array_index(kept, VbObservedMigration, i);

        intercepts[i] = o->seconds - s * o->mib;
    }
    *ret_setup = CLAMP(median(intercepts, kept->len), 0.0, VB_CALIBRATE_MAX_SETUP_S);
    return TRUE;
}

/* The median bandwidth of one pair's migrations [a, b) past @setup, or 0. */
static double
pair_bandwidth(const GArray *kept, guint a, guint b, double setup)
{
    g_autofree double *rates = g_new(double, MAX(b - a, 1));
    double m;

    if (b - a < VB_CALIBRATE_MIN_PER_PAIR)
        return 0.0;
    for (guint i = a; i < b; i++) {
        const VbObservedMigration *o = &g_array_index(kept, VbObservedMigration, i);
        double transfer = o->seconds - setup;

        rates[i - a] = transfer > 0 ? o->mib / transfer : INFINITY;
    }
    m = median(rates, b - a);
    return isfinite(m) ? m : 0.0;
}

VbCalibration *
vb_placement_calibrate(const VbPolicy *policy, const VbObservedMigration *obs, guint n_obs)
{
    g_autoptr(VbCalibration) cal = g_new0(VbCalibration, 1);
    g_autoptr(GArray) starts = NULL;
    g_autoptr(GArray) kept = NULL;

    g_return_val_if_fail(obs != NULL || n_obs == 0, NULL);
    cal->pairs = g_array_new(FALSE, FALSE, sizeof(VbPairBandwidth));
    kept = group_by_pair(obs, n_obs, &starts);
    cal->setup_measured = fit_setup(kept, starts, &cal->setup_seconds, &cal->n_slopes);
    if (!cal->setup_measured)
        cal->setup_seconds = policy ? policy->migration.setup_seconds : 0.0;
    for (guint g = 0; g + 1 < starts->len; g++) {
        guint a = g_array_index(starts, guint, g), b = g_array_index(starts, guint, g + 1);
        const VbObservedMigration *first = &g_array_index(kept, VbObservedMigration, a);
        VbPairBandwidth pb = { first->from, first->to, 0.0, b - a };

        pb.mib_s = pair_bandwidth(kept, a, b, cal->setup_seconds);
        if (pb.mib_s > 0)
            g_array_append_val(cal->pairs, pb);
    }
    return g_steal_pointer(&cal);
}

void
vb_placement_calibration_apply(VbInventory *inv, const VbCalibration *cal)
{
    g_return_if_fail(inv != NULL && cal != NULL);
    /* Bandwidths measured against the policy's setup go with it: the
     * estimate then reproduces the migrations it measured whatever policy
     * it is later given. */
    inv->costs.setup_measured = cal->setup_measured || cal->pairs->len > 0;
    inv->costs.setup_seconds = inv->costs.setup_measured ? cal->setup_seconds : 0.0;
    g_clear_pointer(&inv->costs.pair_bandwidth, g_hash_table_unref);
    for (guint i = 0; i < cal->pairs->len; i++) {
        const VbPairBandwidth *pb = &g_array_index(cal->pairs, VbPairBandwidth, i);

        if (pb->from < inv->hosts->len && pb->to < inv->hosts->len)
            vb_inventory_set_pair_bandwidth(inv, pb->from, pb->to, pb->mib_s);
    }
}
