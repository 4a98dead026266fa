/*
 * planners.c: the rebalance entry point. It runs the objectives in their
 * order: mend broken must rules (repair.c), relieve hotspots (relieve.c),
 * mend should rules worth it (repair.c), then the policy's goal (balance:
 * rebalance.c, consolidate: consolidate.c), all within one budget (the
 * options' max_moves when > 0, else the policy's max_migrations).
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
    if (policy->goal == VB_GOAL_BALANCE)
        vb_state_init_noise(st);
    plan = vb_plan_new(st, VB_PLAN_REBALANCE);
    /* The objectives in order: must rules, hotspots, should rules worth
     * mending, then the goal. */
    vb_repair_rules(st, plan, budget, TRUE);
    vb_relieve_hotspots(st, plan, budget);
    vb_repair_rules(st, plan, budget, FALSE);
    if (policy->goal == VB_GOAL_CONSOLIDATE)
        vb_rebalance_consolidate(st, plan, budget);
    else /* mends should rules again each time balancing runs dry */
        vb_rebalance_balance(st, plan, budget);
    return plan;
}
