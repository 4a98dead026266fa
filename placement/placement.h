/*
 * placement.h: the pure placement core. Takes an inventory snapshot and a
 * policy, returns a plan with reasons. No I/O, no clock (the caller passes
 * "now"), no libvirt: this is what makes it testable with tables and fast
 * enough to plan for ten thousand hosts.
 *
 * Three planners, all explaining themselves:
 *   rebalance  moves toward the policy's goal, within its budget;
 *   evacuate   a destination for every guest of a host (whole plan first);
 *   place      hosts ranked for a new guest.
 * And one checker, written separately from the planners, that replays a plan
 * and reports the first hard constraint it breaks.
 *
 * Objectives, in this order, in every planner and every report: (1) mend
 * the must rules the current placement breaks, (2) relieve every host above
 * high_water on any watched metric (weight > 0), (3) the goal (balance or
 * consolidate). No move pushes a host above high_water on a watched metric
 * (an evacuation may, as a last resort, and says so), none breaks a must
 * rule, none breaks a should rule unless it mends rules of more weight.
 * "target met" means all three hold after the plan.
 *
 * Load model: each host has a load per metric (cpu, memory, disk) as a
 * fraction of its capacity, measured or allocated as the policy says; its
 * weighted load is sum(weight[m] * load[m]) / sum(weight). Imbalance is the
 * standard deviation of weighted load over the hosts that take part (up, not
 * excluded), measured inside each pool and pooled over all pools:
 *   sqrt( sum over pools, hosts of (load - pool mean)^2 / number of hosts ).
 */
#pragma once

#include <glib.h>

#include "policies/policies.h"
#include "pool/pool.h"

G_BEGIN_DECLS

typedef enum {
    VB_MOVE_LIVE,         /* running guest, shared storage: memory only */
    VB_MOVE_LIVE_STORAGE, /* running guest, local disks copied too */
    VB_MOVE_COLD,         /* guest not running: definition (and disks) moved */
    VB_MOVE_KIND_LAST
} VbMoveKind;

extern const char *const vb_move_kind_names[]; /* "live", "live-storage", "cold", NULL */

/* Why a destination was refused; the text explains the numbers. */
typedef enum {
    VB_REJECT_SAME_HOST,
    VB_REJECT_HOST_NOT_UP,     /* down or in maintenance */
    VB_REJECT_HOST_EXCLUDED,
    VB_REJECT_OTHER_POOL,
    VB_REJECT_HYPERVISOR,
    VB_REJECT_CPU_VENDOR,
    VB_REJECT_CPU_FEATURES,
    VB_REJECT_MEMORY,
    VB_REJECT_CPU_OVERCOMMIT,
    VB_REJECT_STORAGE_DEST,    /* less than 3x the local disks free */
    VB_REJECT_STORAGE_SOURCE,  /* less than 2x the local disks free on the source */
    VB_REJECT_PINNED,          /* pass-through device or no-migrate */
    VB_REJECT_VM_EXCLUDED,
    VB_REJECT_COOLDOWN,
    VB_REJECT_AFFINITY,        /* a hard guest-guest rule */
    VB_REJECT_HOST_RULE,       /* a hard guest-host label rule */
    VB_REJECT_ON_TWO_HOSTS,    /* active on two hosts (failed post-copy): left alone */
    VB_REJECT_MOVE_CAP,        /* moved budget.max_moves_per_vm_per_day times in the last
                                * 24 h (evacuations and must-rule repairs ignore it) */
    VB_REJECT_LAST
} VbRejectCode;

typedef struct {
    guint vm;              /* guest id */
    guint from, to;        /* host ids */
    VbMoveKind kind;
    double estimated_seconds;
    double gain;           /* imbalance removed by this move (rebalance), else 0 */
    char *reason;          /* a sentence for people */
} VbMove;

/* Example hosts a group of rejections names. */
#define VB_REJECT_EXAMPLES 3

/* Hosts refused for one reason. The planners group the hosts that refuse a
 * guest by the constraint (code), and write one sentence per group, for its
 * first host, never one per host: at 10,000 hosts a sentence per host was
 * most of the time of `place` and of an evacuation that leaves guests
 * unplaced. A sentence that names no host (it holds for every host of the
 * group as written, @shared) forms a group of its own beside the per-host
 * sentences of the same code. Groups are in the order of their first host
 * (host id order). */
typedef struct {
    VbRejectCode code;
    gboolean shared;                    /* @reason holds for every host of the group */
    guint count;                        /* hosts in the group, >= 1 */
    guint examples[VB_REJECT_EXAMPLES]; /* its first MIN(count, 3) host ids, ascending */
    char *reason;                       /* the constraint that refused examples[0], with
                                         * its figures (the figures of the others differ) */
} VbRejectGroup;

/* A new empty GArray of VbRejectGroup whose clear func frees the reasons
 * (transfer full). */
GArray *vb_reject_groups_new(void);

/* One host that refused a guest: the code alone; the sentence is its group's. */
typedef struct {
    guint host;            /* candidate host id */
    VbRejectCode code;     /* the first constraint that refused it */
    guint group;           /* index in VbUnplaced.groups */
} VbRejection;

typedef struct {
    guint vm;              /* guest id */
    GArray *rejections;    /* VbRejection, one per other host of the inventory in
                            * host id order; empty when @reason says why no host
                            * was a candidate at all */
    GArray *groups;        /* VbRejectGroup: the rejections grouped (see above) */
    char *reason;          /* a summary, or why no host was a candidate at all */
} VbUnplaced;

/* Frees @u, its rejections, groups and reasons; accepts NULL and NULL
 * arrays. The free function of VbPlan.unplaced. */
void vb_unplaced_free(VbUnplaced *u);

typedef struct {
    double load[VB_METRIC_LAST]; /* fraction of capacity, 0..1+ */
    double weighted;             /* weighted load */
} VbHostLoad;

/* A rule the placement breaks: before the plan (every entry), and whether
 * the plan mends it. Guest-guest rules give one entry per host holding
 * members together (anti-affinity) or one for the whole split group
 * (affinity); host rules one per guest on a wrong host. */
typedef struct {
    guint rule;            /* index in policy->rules */
    GArray *vms;           /* guint guest ids concerned */
    GArray *hosts;         /* guint host ids they were on */
    gboolean repaired;     /* no longer broken after the plan */
    char *reason;          /* how it was mended, or why it could not be */
} VbViolation;

/* A host above high_water on one metric, before or after the plan. */
typedef struct {
    guint host;
    VbMetric metric;
    double before, after;  /* that metric's load */
    char *reason;          /* why it stays above, or NULL when relieved */
} VbHotspot;

void vb_violation_free(VbViolation *v);
void vb_hotspot_free(VbHotspot *h);

typedef enum {
    VB_PLAN_REBALANCE,
    VB_PLAN_EVACUATE,
    VB_PLAN_KIND_LAST
} VbPlanKind;

typedef struct {
    VbPlanKind kind;
    char *evacuated_host;     /* evacuate: the host emptied, else NULL */
    GArray *moves;            /* VbMove in the order they would run */
    GPtrArray *unplaced;      /* owned VbUnplaced * */
    VbHostLoad *before;       /* one per host id */
    VbHostLoad *after;        /* one per host id */
    guint n_hosts;
    double imbalance_before;  /* weighted, pooled std dev */
    double imbalance_after;
    double metric_imbalance_before[VB_METRIC_LAST];
    double metric_imbalance_after[VB_METRIC_LAST];
    char *stop_reason;        /* why the planner stopped ("target met", "budget used", ...) */
    GPtrArray *violations;    /* owned VbViolation *: rules broken before, or NULL */
    GPtrArray *created;       /* owned VbViolation *: should rules the plan breaks anew, or NULL */
    GPtrArray *hotspots;      /* owned VbHotspot *: (host, metric) above high_water
                               * before or after, or NULL */
    gboolean target_met;      /* no hotspot, no broken must rule, every pool within
                               * target_imbalance (balance) after the plan */
} VbPlan;

void vb_plan_free(VbPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbPlan, vb_plan_free)

typedef struct {
    gint64 now;              /* unix seconds, for cooldowns */
    guint max_moves;         /* overrides the policy's budget when > 0 */
} VbPlanOptions;

/* Rebalance: moves that bring each pool toward the policy's goal, within the
 * budget, each with its reason and gain. Returns a plan (possibly with no
 * moves and a stop_reason saying why), transfer full; NULL with
 * VB_ERROR_INVALID_INPUT only when the policy's rules do not fit the
 * inventory in a way that makes planning meaningless. */
VbPlan *vb_placement_rebalance(const VbInventory *inv, const VbPolicy *policy,
                               const VbPlanOptions *opts, GError **error);

/* Evacuate @host_name: a destination for every guest on it, biggest first,
 * planned as a whole (all moves fit together). Guests with no destination go
 * to `unplaced` with, per other host, the code of the constraint that refused
 * it, grouped with one sentence per group: O(hosts) per unplaced guest.
 * NULL with VB_ERROR_NOT_FOUND when the host does not exist. */
VbPlan *vb_placement_evacuate(const VbInventory *inv, const VbPolicy *policy,
                              const char *host_name, const VbPlanOptions *opts,
                              GError **error);

/* A guest that does not exist yet, for `place`. */
typedef struct {
    char *name;
    guint vcpus;
    guint64 memory_mib;
    double disk_gib;
    gboolean disk_shared;
    char *pool;                 /* only hosts of this pool, or NULL */
    char *hypervisor;           /* NULL = any */
    char *cpu_vendor;           /* NULL = any */
    char **cpu_features;        /* needed features */
    char **labels;              /* its labels (for label rules) */
    double cpu_usage;           /* expected, 0..1 of vcpus (default 0.5) */
} VbVmSpec;

typedef struct {
    guint host;
    double score;        /* 0..100, higher is better */
    guint stars;         /* 0..5, like WLB's star ratings; 0 = cannot host it */
    double load_before;  /* weighted load of the host now */
    double load_after;   /* weighted load of the host with the guest */
    int soft;            /* soft rules the guest would break there (stars > 0) */
    VbRejectCode code;   /* VB_REJECT_LAST when it can take the guest, else the
                          * first hard constraint that refused it */
    guint group;         /* refused: its group in VbRanking.refused, else G_MAXUINT */
} VbPlacement;

/* The answer of `place`. */
typedef struct {
    GArray *hosts;       /* VbPlacement, every host, best first; hosts that
                          * cannot take the guest last (0 stars), by host id */
    GArray *refused;     /* VbRejectGroup: why the others cannot, grouped */
} VbRanking;

void vb_ranking_free(VbRanking *ranking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbRanking, vb_ranking_free)

/* Ranks every host for @spec (transfer full). O(hosts) and one sentence per
 * group of refused hosts: a host that takes the guest carries the figures of
 * its reason (vb_placement_reason()), a refused one its code and group.
 * NULL with VB_ERROR_INVALID_INPUT for a spec with no vCPU or memory, with
 * VB_ERROR_NOT_FOUND for a pool that does not exist. */
VbRanking *vb_placement_place(const VbInventory *inv, const VbPolicy *policy,
                              const VbVmSpec *spec, GError **error);

/* Why @p has its score, "load 0.31 -> 0.35" (and "; breaks 1 soft rule"),
 * for a host that takes the guest (transfer full); NULL for a refused host
 * (its group in VbRanking.refused says why). Never fails. */
char *vb_placement_reason(const VbPlacement *p);

/* Host loads under @policy (an array of inv->hosts->len, transfer full). */
VbHostLoad *vb_placement_host_loads(const VbInventory *inv, const VbPolicy *policy);

/* The imbalance inside each pool (an array of inv->pools->len, transfer full):
 * the standard deviation of @loads' weighted load over the pool's hosts that
 * take part (up, not excluded by @policy); 0 for a pool with none. @loads
 * has one entry per host id (vb_placement_host_loads, or a plan's before or
 * after). O(hosts). */
double *vb_placement_pool_imbalances(const VbInventory *inv, const VbPolicy *policy,
                                     const VbHostLoad *loads);

/* Rules that do not hold on to the pool they are applied to: a name in a
 * rule's `vms` that is no guest of @inv (a typo, or a guest gone), a label
 * of its `vm_labels` that no guest carries, a rule that concerns no guest
 * at all, and an affinity or anti-affinity rule that concerns only one (both
 * are not enforced: nothing to keep on or off hosts, together or apart).
 * Nothing is refused for these: the planners simply find no such guest. */
typedef enum {
    VB_RULE_WARNING_NO_GUEST,      /* the rule concerns no guest of the pool */
    VB_RULE_WARNING_UNKNOWN_GUEST, /* a name of `vms` is no guest of the pool */
    VB_RULE_WARNING_UNKNOWN_LABEL, /* a label of `vm_labels` no guest carries */
    VB_RULE_WARNING_ONE_GUEST,     /* a guest-guest rule concerns one guest only */
    VB_RULE_WARNING_LAST
} VbRuleWarningKind;

extern const char *const vb_rule_warning_kind_names[]; /* "no-guest", "unknown-guest",
                                                        * "unknown-label", "one-guest",
                                                        * NULL */

typedef struct {
    VbRuleWarningKind kind;
    guint rule;             /* index in policy->rules */
    const char *name;       /* the unknown guest or label (borrowed from the rule); for
                             * one-guest the one guest (borrowed from @inv); NULL for
                             * no-guest */
    const char *suggestion; /* the closest guest name or guest label of the pool
                             * (borrowed from @inv), or NULL when none is close */
    VbPolicyMark mark;      /* where @name (no-guest, one-guest: the rule) is written;
                             * 0 when unknown */
} VbRuleWarning;

/* Every such finding, rule by rule in policy order; within a rule the
 * no-guest or one-guest finding first, then its unknown guests and labels in the order
 * they are written (transfer full: GArray of VbRuleWarning, empty when all is
 * well). The strings are borrowed: use the array while @inv and @policy
 * live. Never fails. O(names in rules) lookups, plus one pass over the guests
 * when a rule uses vm_labels, plus a did-you-mean scan of the guest names per
 * unknown name. */
GArray *vb_placement_rule_warnings(const VbInventory *inv, const VbPolicy *policy);

/* Estimated seconds to migrate @vm from @from to @to by @kind: for a live
 * move, a setup and switch-over term (measured, inv->costs, else the policy's
 * migration.setup_seconds) plus memory over the bandwidth left after the
 * dirty rate (pre-copy rounds), plus local disks for live-storage; a cold
 * move is its copied disks. The bandwidth is the one measured for the pair
 * (inv->costs) when known, else the hosts' nominal one; the policy's cap
 * bounds both. Never fails; a guest dirtying faster than the link gets a
 * bounded estimate assuming auto-converge throttling. Pure: a function of
 * @inv and @policy only. */
double vb_placement_estimate_seconds(const VbInventory *inv, const VbPolicy *policy,
                                     const VbVm *vm, const VbHost *from,
                                     const VbHost *to, VbMoveKind kind);

/* ------------------------------------------------------ measured costs */

/* One finished live migration, as the journal recorded it. */
typedef struct {
    guint from, to;     /* host ids */
    double mib;         /* data moved: the guest's memory, plus copied disks (live-storage) */
    double seconds;     /* from its start to its end, as measured */
} VbObservedMigration;

/* The bandwidth measured between two hosts (one direction). */
typedef struct {
    guint from, to;     /* host ids */
    double mib_s;       /* median of data moved / transfer time */
    guint n;            /* migrations it comes from */
} VbPairBandwidth;

/* What vb_placement_calibrate() measured. */
typedef struct {
    gboolean setup_measured; /* FALSE: setup_seconds is the policy's */
    double setup_seconds;    /* setup + switch-over of one live migration */
    guint n_slopes;          /* pairs of migrations of one host pair, sizes >= 2x apart, used */
    GArray *pairs;           /* VbPairBandwidth, sorted by (from, to) */
} VbCalibration;

void vb_calibration_free(VbCalibration *cal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCalibration, vb_calibration_free)

/* Measures migration costs from @obs (@n_obs finished live migrations,
 * newest first; entries with no data or no duration are ignored), keeping
 * the newest VB_CALIBRATE_PER_PAIR of each host pair (transfer full).
 * Model: seconds = setup + mib / bandwidth(pair). The setup is a Theil-Sen
 * fit (median slope over pairs of migrations of one host pair whose sizes
 * differ at least 2x, then the median intercept) when at least
 * VB_CALIBRATE_MIN_SLOPES such slopes exist; otherwise it cannot be told
 * apart from the transfer and the policy's migration.setup_seconds is kept.
 * Each host pair with at least VB_CALIBRATE_MIN_PER_PAIR migrations gets the
 * median of mib / (seconds - setup) (a migration no longer than the setup
 * counts as infinitely fast; a pair whose median is infinite gets none).
 * Pure; never fails. */
VbCalibration *vb_placement_calibrate(const VbPolicy *policy, const VbObservedMigration *obs,
                                      guint n_obs);
/* Writes @cal into @inv->costs (replacing what was there) for the estimate:
 * each pair whose host ids exist in @inv, and the setup when it was measured
 * or when pairs were measured against it (then the policy's at calibration:
 * the two go together). */
void vb_placement_calibration_apply(VbInventory *inv, const VbCalibration *cal);

/* Newest migrations per host pair that count, and the least that give a
 * bandwidth; slopes needed for a measured setup. */
#define VB_CALIBRATE_PER_PAIR 20
#define VB_CALIBRATE_MIN_PER_PAIR 3
#define VB_CALIBRATE_MIN_SLOPES 3

/* The independent checker: replays @plan on a copy of @inv and returns FALSE
 * with VB_ERROR_CONSTRAINT naming the move and the constraint at the first
 * move that breaks a hard constraint (or a guest moved twice), or naming an
 * unplaced guest that moves or whose rejections do not add up (one per other
 * host, grouped by their codes, counts and examples right, host-level
 * refusals true). Shares no code with the planners' constraint evaluation on
 * purpose. */
gboolean vb_placement_check_plan(const VbInventory *inv, const VbPolicy *policy,
                                 const VbPlan *plan, const VbPlanOptions *opts,
                                 GError **error);

/* What-if: returns @inv after @plan (transfer full): guests on their new hosts and the
 * measured figures (cpu_usage, memory_used_mib, storage_free_gib) adjusted
 * by what each guest takes with it, so that loads computed on the result
 * equal the planner's "after" loads; a shut-off guest moved cold is running
 * afterwards when the policy starts guests after cold moves (the planner
 * counts it so). last_migrated is left alone. Moves
 * naming unknown ids are skipped. Never fails. */
VbInventory *vb_placement_apply_plan(const VbInventory *inv, const VbPolicy *policy,
                                     const VbPlan *plan);

/* Plans are ordered: a move may use memory, vCPUs, storage or an
 * anti-affinity slot that an earlier move frees. TRUE when move @later (an
 * index in plan->moves) must not start before move @earlier has finished:
 * @earlier < @later and either @later goes into the host @earlier leaves, or
 * both leave one host and @later copies disks (the source needs 2x their size
 * free). Evacuation plans never have such pairs: they fit in any order. */
gboolean vb_plan_waits_for(const VbPlan *plan, guint later, guint earlier);
/* The same rule for two moves of a plan of @kind, @earlier planned before
 * @later: TRUE when @later must wait for @earlier to finish. For executors that
 * keep moves by name and re-plan as they go. */
gboolean vb_move_waits_for(VbPlanKind kind, const VbMove *later, const VbMove *earlier);

G_END_DECLS
