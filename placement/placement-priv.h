/*
 * placement-priv.h: what the planners of placement/ share, and what
 * tests/placement-test.c reaches into.
 *
 * The heart of it is VbState, the working state of one planning run: the
 * inventory's facts turned into flat per-host and per-guest arrays once
 * (O(hosts + guests)), then updated in O(1) + O(log n)-ish per planned move.
 * Every constraint of a plan is evaluated against this state, so that two
 * moves to one host must both fit ("whole plan" accounting).
 *
 * The plan is ordered: a guest leaving a host gives back its memory, vCPUs,
 * storage and its place in anti-affinity groups to the moves planned after
 * it. An executor that runs moves concurrently must start a move into a host
 * only after the earlier moves out of that host finished (vb_plan_waits_for()
 * says which), or simply keep plan order per destination.
 *
 * Not for other folders: they use placement/placement.h only.
 */
#pragma once

#include "placement/placement.h"

G_BEGIN_DECLS

/* Bandwidth assumed when neither host nor policy says (MiB/s). */
#define VB_DEFAULT_BANDWIDTH_MIB_S 1000.0
/* Pre-copy rounds the estimate counts at most. */
#define VB_MAX_PRECOPY_ROUNDS 30
/* Auto-converge is assumed to hold a guest's dirty rate below this fraction
 * of the link, so that every estimate is bounded. */
#define VB_MAX_DIRTY_FRACTION 0.9
/* Cost of breaking one soft ("should") rule, in the units of the score:
 * imbalance (rebalance), load (evacuate) or points/100 (place). */
#define VB_SOFT_PENALTY 0.05
/* Rebalance: hottest hosts of a pool looked at per step. */
#define VB_REBALANCE_SOURCES 16
/* Rebalance: the hottest host's best move is taken when it removes at least
 * this share of what the pool's best move would (the peak comes down first;
 * the planner's highest load after K moves nears the optimum's). */
#define VB_PEAK_SHARE 0.5
/* Rebalance: destinations scanned per guest at most (bounds the worst case
 * when most hosts are refused). */
#define VB_REBALANCE_MAX_SCAN 32

/* A per-pool ordering of its participating hosts by weighted load, lowest
 * first, kept sorted by local repair when a move changes two loads. */
typedef struct {
    guint *order;  /* host ids, ascending weighted load */
    guint n;       /* participating hosts */
    double sum;    /* sum of weighted loads */
    double sum_sq; /* sum of squared weighted loads */
    double cap_min[VB_METRIC_LAST]; /* smallest capacity per metric (> 0) */
    double cap_max[VB_METRIC_LAST]; /* largest capacity per metric */
} VbPoolOrder;

/* One guest-guest or guest-host rule resolved against the inventory. */
typedef struct {
    const VbRule *rule;   /* borrowed from the policy */
    VbBits host_labels;   /* host rules: label ids of the inventory */
    GArray *members;      /* guint vm ids concerned */
} VbRuleRef;

typedef struct {
    const VbInventory *inv;
    const VbPolicy *policy;
    gint64 now;
    gboolean evacuating;   /* cooldown and the daily cap do not hold back an evacuation */
    gboolean cap_waived;   /* mending must rules: the daily cap (VB_REJECT_MOVE_CAP)
                            * does not hold; set by vb_repair_rules() only */
    guint evacuated;       /* host being evacuated, or G_MAXUINT */
    guint n_hosts, n_vms, n_pools;
    double weight[VB_METRIC_LAST]; /* normalised: they sum to 1 */

    /* per host */
    gboolean *participates; /* up and not excluded: counted in the imbalance */
    gboolean *excluded;     /* policy exclude_hosts */
    double *cap;            /* n_hosts * VB_METRIC_LAST capacities */
    VbHostLoad *load;       /* working loads */
    double *mem_free;       /* MiB free after the reserve, minus arrivals */
    double *vcpus_free;     /* vCPUs still allowed by the overcommit */
    double *storage_free;   /* GiB free, minus arrivals' disks, plus departures' */
    double *storage_credit; /* GiB departures gave back (evacuation does not count
                             * them for the 2x source check: it reorders moves) */
    guint *pos;             /* index of the host in its pool's order */

    /* per guest */
    double *demand;         /* n_vms * VB_METRIC_LAST, in capacity units */
    guint *vm_host;         /* working host of each guest */
    gboolean *moved;        /* already moved by this plan */
    VbRejectCode *fixed;    /* guest-level refusal, VB_REJECT_LAST when movable */
    gboolean all_vms;       /* per-guest facts computed for every guest */
    VbBits excluded_labels; /* policy exclude_vm_labels, inventory label ids */
    guint *rule_start;      /* n_vms + 1 offsets into rule_index (CSR) */
    guint *rule_index;      /* rule numbers concerning each guest */

    double *noise_var;      /* per host: variance of its weighted load's noise,
                             * or NULL when the planner does not use it */
    char **rule_note;       /* per rule: why a violation stays, or how it was mended */
    char **host_note;       /* per host: why it stays above high_water */

    VbPoolOrder *pools;     /* n_pools */
    VbRuleRef *rules;       /* policy->rules->len */
    guint n_rules;
    GHashTable *rule_count; /* (rule << 32 | host) -> members there now */
} VbState;

/* load.c: the load model. */
double vb_state_share(const VbState *st, guint vm, guint host);
double vb_state_metric_share(const VbState *st, guint vm, guint host, VbMetric m);
double vb_vm_copied_gib(const VbInventory *inv, const VbVm *vm, guint to_pool);
gboolean vb_vm_counts_on_dest(const VbPolicy *policy, const VbVm *vm);
gboolean vb_vm_started_by_move(const VbPolicy *policy, const VbVm *vm);
void vb_loads_imbalance(const VbInventory *inv, const VbHostLoad *loads,
                        const gboolean *participates, double *ret_weighted,
                        double ret_metric[VB_METRIC_LAST]);
double vb_state_pool_imbalance(const VbState *st, guint pool);

/* state.c: building and updating the working state. */
/* @evacuated: the host being evacuated, or G_MAXUINT. @focus: the guest ids
 * the planner may move (their demand and refusals are computed; others stay
 * refused), or NULL for every guest. Rule members are always computed.
 * Host figures always cover every guest. */
VbState *vb_state_new(const VbInventory *inv, const VbPolicy *policy, gint64 now,
                      guint evacuated, const GArray *focus);
/* The host figures and rules of vb_state_new(inv, policy, 0, G_MAXUINT,
 * no guests) without the pools' load orders: for ranking hosts (place, host
 * loads), O(hosts + rule members). Never pass it to vb_state_apply(). */
VbState *vb_state_new_ranking(const VbInventory *inv, const VbPolicy *policy);
void vb_state_free(VbState *st);
/* The weights and rules of a ranking state with no per-host array at all:
 * for place, which works out each host's figures as it ranks it
 * (vb_host_figures_compute), so a call keeps no per-host array but its
 * answer and its sort's keys. O(rule members). */
VbState *vb_state_new_rules(const VbInventory *inv, const VbPolicy *policy);
/* TRUE when the policy's exclude_hosts names @host. */
gboolean vb_state_host_excluded(const VbState *st, const VbHost *host);

/* What one host has before any move under a policy: the figures a state
 * keeps per host (cap, load, mem_free, vcpus_free, storage_free). */
typedef struct {
    double cap[VB_METRIC_LAST]; /* capacities (CPU: cores, times the overcommit
                                 * when load is allocated) */
    VbHostLoad load;            /* loads, weighted with the state's weights */
    double mem_free;            /* MiB free after the reserve */
    double vcpus_free;          /* vCPUs still allowed by the overcommit */
    double storage_free;        /* GiB free */
} VbHostFigures;

/* Fills @ret for @host from its guests' @totals, with @weight normalised
 * (VbState.weight). The one place these figures are computed: the state's
 * arrays and place's ranking get the same bits. Never fails. */
void vb_host_figures_compute(const VbPolicy *policy, const double weight[VB_METRIC_LAST],
                             const VbHost *host, const VbHostTotals *totals,
                             VbHostFigures *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbState, vb_state_free)
void vb_state_apply(VbState *st, guint vm, guint to);
void vb_state_unapply(VbState *st, guint vm, guint from);
guint vb_state_rule_count(const VbState *st, guint rule, guint host);
gboolean vb_state_in_pool_order(const VbState *st, guint host);

/* constraints.c: the planners' hard constraints and soft penalties. Returns
 * VB_REJECT_LAST when @vm may go to @to; otherwise the first constraint that
 * refuses it, with a sentence in @why when @why is not NULL. */
VbRejectCode vb_state_refusal(const VbState *st, guint vm, guint to, GString *why);
/* TRUE when no guest-level refusal holds @vm back (pinned, excluded,
 * cooldown...), the daily cap excepted while st->cap_waived. */
gboolean vb_state_movable(const VbState *st, guint vm);
/* TRUE when the daily cap, and nothing else at guest level, holds @vm back. */
gboolean vb_state_capped(const VbState *st, guint vm);
/* Number of soft rules the guest would break on @to that it does not break
 * where it is now (negative when the move mends some). */
int vb_state_soft_breaks(const VbState *st, guint vm, guint to);
VbMoveKind vb_state_move_kind(const VbState *st, guint vm, guint to);
/* Appends the CPU features of @need that @have lacks to @why, at most three
 * by name ("avx512f, avx512vnni and 4 more"); nothing when none is missing. */
void vb_cpu_append_missing(GString *why, const VbInventory *inv, const VbBits *need,
                           const VbBits *have);
/* TRUE when rule @r (either enforcement) holds for @vm were it on @host. */
gboolean vb_state_rule_holds(const VbState *st, guint r, guint vm, guint host);

/* objectives.c: hotspots, rule violations and the plan's report of them. */
/* TRUE when @vm on @to leaves @to at or under high_water on every watched
 * metric (weight > 0). */
gboolean vb_state_fits_under_high_water(const VbState *st, guint vm, guint to);
/* Sum over watched metrics of how far @host is above high_water (0: not hot). */
double vb_state_hot_excess(const VbState *st, guint host);
/* Weight of the should rules @vm would newly break on @to minus the weight of
 * those the move mends (negative: the move earns). */
double vb_state_soft_weight(const VbState *st, guint vm, guint to);
/* Weight of the should rules @vm breaks where it is now. */
double vb_state_soft_broken_weight(const VbState *st, guint vm);
/* The rules the working placement breaks (transfer full: owned VbViolation *). */
GPtrArray *vb_state_violations(const VbState *st, gboolean hard);
/* Replaces the note of rule @r or host @h (takes @text). */
void vb_state_note_rule(VbState *st, guint r, char *text);
void vb_state_note_host(VbState *st, guint h, char *text);
/* Estimated seconds of moving @vm from its working host to @to, and what
 * that costs in load a move must gain (cost_per_minute per minute). */
double vb_state_move_seconds(const VbState *st, guint vm, guint to);
double vb_state_move_cost(const VbState *st, guint vm, guint to);
/* Pooled imbalance of the working loads (the weighted within-pool std dev). */
double vb_state_total_imbalance(const VbState *st);
/* Plans and applies @vm -> @to with @reason (taken); its gain is the
 * imbalance it removes (negative when it adds some). */
void vb_state_add_move(VbState *st, VbPlan *plan, guint vm, guint to, char *reason);
/* Standard deviation of the noise of @host's weighted load (0 without a model). */
double vb_state_noise(const VbState *st, guint host);
/* Starts the noise model (rebalance): per host, the variance of its weighted
 * load from each guest's CPU fluctuating by the policy's cpu_noise. */
void vb_state_init_noise(VbState *st);

/* Moves the noise of @vm from @from to @to (state.c calls it). */
void vb_state_noise_move(VbState *st, guint vm, guint from, guint to);
/* The rule breaks before the plan (vb_plan_new) and the report after it:
 * violations settled, hotspots, target_met, stop reason (vb_plan_finish). */
void vb_plan_census(VbPlan *plan, const VbState *st);
void vb_plan_report(VbPlan *plan, const VbState *st, gboolean goal_met, const char *stop_reason);

/* repair.c / relieve.c: the first two objectives. */
void vb_repair_rules(VbState *st, VbPlan *plan, guint budget, gboolean hard);
void vb_relieve_hotspots(VbState *st, VbPlan *plan, guint budget);

/* plan.c: building plans. */
VbPlan *vb_plan_new(const VbState *st, VbPlanKind kind);
void vb_plan_add_move(VbPlan *plan, const VbState *st, guint vm, guint to,
                      double gain, char *reason);
/* @goal_met: the planner's own goal holds (balance: every pool within
 * target; evacuate: every guest placed); @stop_reason says how it stopped. */
void vb_plan_finish(VbPlan *plan, const VbState *st, gboolean goal_met, const char *stop_reason);
char *vb_describe_vm(const VbVm *vm);
/* @host's guest ids, most memory first, ties by id (transfer full). */
GArray *vb_host_vms_biggest_first(const VbInventory *inv, const VbHost *host);

/* reject.c: grouping the hosts that refuse one guest (VbRejectGroup). */
typedef struct {
    GArray *groups;                    /* VbRejectGroup, borrowed: the groups filled */
    guint index[VB_REJECT_LAST][2];    /* per (code, shared): its group + 1, 0 = none yet */
} VbRejectTally;

/* Starts counting into @groups (empty). */
void vb_reject_tally_init(VbRejectTally *t, GArray *groups);
/* Counts @host (hosts come in ascending id order) into the group of (@code,
 * @shared) and returns that group; *ret_new is TRUE when @host is its first
 * host: the caller then writes the group's reason, once. O(1). */
VbRejectGroup *vb_reject_tally_add(VbRejectTally *t, guint host, VbRejectCode code,
                                   gboolean shared, guint *ret_index, gboolean *ret_new);

/* rebalance.c / consolidate.c */
void vb_rebalance_balance(VbState *st, VbPlan *plan, guint budget);
void vb_rebalance_consolidate(VbState *st, VbPlan *plan, guint budget);


G_END_DECLS
