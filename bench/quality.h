/*
 * quality.h: the pieces of bench/vb-quality, the planner's quality figures
 * (issue 8): the integer-programming optimum of the highest host memory
 * utilisation (quality-optimum.c), hotspots and broken rules before and
 * after a plan (quality-hotspots.c) and a day of planning under load noise
 * (quality-churn.c). Each section prints Markdown; none asserts anything:
 * the figures go to docs/benchmarks.md, never into unit tests.
 *
 * Only the public placement API (placement/placement.h) and the pool
 * generator are used, so the figures measure whatever the planner on main
 * does.
 */
#pragma once

#include <glib.h>

#include "placement/placement.h"
#include "policies/policies.h"
#include "pool/pool.h"

G_BEGIN_DECLS

/* A generated pool the sections run on. */
typedef struct {
    guint hosts, vms, pools;
    guint64 seed;
} VbQualityPool;

/* vb_inventory_generate() with the generator's defaults but for the size,
 * pool count and seed (transfer full). */
VbInventory *vb_quality_generate(const VbQualityPool *qp);

/* "10 hosts / 200 guests, 1 pool, seed 42" (transfer full). */
char *vb_quality_pool_label(const VbQualityPool *qp);

/* TRUE when @h is up and not excluded by @policy: the hosts whose loads
 * the figures are about (the ones the planners balance). */
gboolean vb_quality_host_counts(const VbInventory *inv, const VbPolicy *policy, guint h);

/* Highest memory load over the hosts that count, from @loads. */
double vb_quality_max_memory(const VbInventory *inv, const VbPolicy *policy,
                             const VbHostLoad *loads);

/* A rebalance plan; aborts the bench with the planner's message when it
 * fails (a bench has no one to hand the error to). */
VbPlan *vb_quality_rebalance(const VbInventory *inv, const VbPolicy *policy, gint64 now,
                             guint max_moves);

/* ------------------------------------------------ the optimum (MIP) */

typedef struct {
    const char *cbc;     /* the cbc program, or NULL: the section says skipped */
    guint seconds;       /* time limit of one solve */
    const char *workdir; /* where the LP and solution files go */
    const guint *ks;     /* move counts to compare at (0 = the planner's own count) */
    guint n_ks;
} VbOptimumOptions;

/* Prints the optimum table for @pools: per pool and K, the planner's
 * highest memory utilisation after K moves under a memory-only policy, the
 * optimum for the same K, and their ratio. */
void vb_quality_optimum_section(const VbQualityPool *pools, guint n_pools,
                                const VbOptimumOptions *opts);

/* ------------------------------------------------ hotspots and rules */

/* Prints hotspots before/after/created and must-rule repairs on @pools
 * under the default policy (and the same pools with broken must rules). */
void vb_quality_hotspot_section(const VbQualityPool *pools, guint n_pools);

/* ------------------------------------------------ churn under noise */

typedef struct {
    VbQualityPool pool;  /* settled first, then replayed */
    guint hours;         /* simulated hours */
    guint interval;      /* seconds between two plans */
    double noise;        /* guest CPU jitters uniformly by +-noise of its base */
} VbChurnOptions;

/* Prints migrations per day and the most per guest per day, at the default
 * policy and at target_imbalance 0. */
void vb_quality_churn_section(const VbChurnOptions *opts);

G_END_DECLS
