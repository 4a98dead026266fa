/*
 * placement-testlib.h: what the placement suite's files share: loading test
 * data, printing plans in a canonical text form, and the exhaustive
 * reference planner used as the quality oracle (placement-oracle.c).
 */
#pragma once

#include "placement/placement-priv.h"
#include "tests/testutil.h"

/* Names of VbRejectCode values, for expected files and messages. */
extern const char *const pt_reject_names[];

/* Loads tests/data/placement/<rel> (transfer full); fails the test on error. */
VbInventory *pt_load_inventory(const char *rel);
VbPolicy *pt_load_policy(const char *rel);

/* The groups of rejections, one line each: index, code, count, examples, sentence. */
void pt_reject_groups_to_text(GString *out, const VbInventory *inv, const GArray *groups,
                              const char *indent);
/* The canonical text form of a plan: header, moves, unplaced guests with
 * their rejections, imbalance (transfer full). */
char *pt_plan_to_text(const VbInventory *inv, const VbPlan *plan);

/* The exhaustive reference planner: @n_moves times, every movable guest
 * against every host of its pool, the feasible move with the largest drop
 * of the pooled imbalance that passes the same hysteresis as the real
 * planner. Returns the plan (transfer full). */
VbPlan *pt_oracle_rebalance(const VbInventory *inv, const VbPolicy *policy,
                            const VbPlanOptions *opts, guint n_moves);
