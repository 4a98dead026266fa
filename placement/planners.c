/*
 * planners.c: the rebalance entry point, which picks the planner for the
 * policy's goal (balance: rebalance.c, consolidate: consolidate.c) and the
 * budget (the options' max_moves when > 0, else the policy's
 * max_migrations).
 *
 * Cost: O(hosts + guests + rule members) to build the working state, then
 * whatever the goal's planner costs (see its file).
 */
#include "config.h"

#include "placement/placement-priv.h"

VbPlan *
vb_placement_rebalance(const VbInventory *inv, const VbPolicy *policy, const VbPlanOptions *opts,
                       GError **error)
{
    g_autoptr(VbState) st = NULL;
    VbPlan *plan;
    guint budget;

    g_return_val_if_fail(inv != NULL && policy != NULL, NULL);
    (void) error; /* rules naming unknown guests are simply empty: nothing is meaningless */
    budget = opts && opts->max_moves > 0 ? opts->max_moves : policy->max_migrations;
    st = vb_state_new(inv, policy, opts ? opts->now : 0, G_MAXUINT, NULL);
    plan = vb_plan_new(st, VB_PLAN_REBALANCE);
    if (policy->goal == VB_GOAL_CONSOLIDATE)
        vb_rebalance_consolidate(st, plan, budget);
    else
        vb_rebalance_balance(st, plan, budget);
    return plan;
}
