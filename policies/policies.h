/*
 * policies.h: what good looks like, as an admin writes it in YAML.
 *
 * A VbPolicy says which metrics count and how much, whether to spread load or
 * pack it, when a host is a hotspot, when the pool is balanced enough, how
 * much a move must gain, how many moves a run may make, the reserves and
 * overcommit the placement must respect, the affinity and label rules, and the
 * migration settings the executor will use. The format is documented in
 * docs/policy.md; every key has a default, so an empty file is a valid policy.
 *
 * Loading is strict: an unknown key, a wrong type or an out-of-range value is
 * an error naming file:line:column, and the caller's current policy is left
 * untouched (loading builds a new object and returns it only when whole).
 * Pure: no I/O but reading the one file.
 */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

typedef enum {
    VB_GOAL_BALANCE,     /* spread load evenly across hosts */
    VB_GOAL_CONSOLIDATE, /* pack load onto few hosts, free the others */
    VB_GOAL_LAST
} VbGoal;

typedef enum {
    VB_LOAD_MEASURED,  /* host load from measured usage (node stats) */
    VB_LOAD_ALLOCATED, /* host load from what its guests are given */
    VB_LOAD_LAST
} VbLoadSource;

/* How much the daemon (`run`) may do on its own, as DRS's automation levels. */
typedef enum {
    VB_AUTOMATION_MANUAL,  /* the daemon journals its plans as recommendations, migrates nothing */
    VB_AUTOMATION_PARTIAL, /* the same for rebalancing (evacuations are commands: they run) */
    VB_AUTOMATION_FULL,    /* the daemon executes its plans */
    VB_AUTOMATION_LAST
} VbAutomation;

typedef enum {
    VB_METRIC_CPU,
    VB_METRIC_MEMORY,
    VB_METRIC_DISK,
    VB_METRIC_LAST
} VbMetric;

typedef enum {
    VB_RULE_VM_AFFINITY,      /* the guests run on one host */
    VB_RULE_VM_ANTI_AFFINITY, /* the guests run on different hosts */
    VB_RULE_HOST_AFFINITY,    /* the guests run on hosts with the labels ("run on") */
    VB_RULE_HOST_ANTI_AFFINITY, /* the guests avoid hosts with the labels */
    VB_RULE_KIND_LAST
} VbRuleKind;

/* Who a rule concerns: the guests named in @vms plus every guest carrying at
 * least one of @vm_labels. Host rules concern the hosts carrying at least one
 * of @host_labels: "run-on" keeps the guests on such hosts, "avoid" keeps
 * them off. Guest-guest rules treat all the guests concerned as one group
 * (affinity: all on one host; anti-affinity: no two on one host). The loader
 * guarantees: a name, at least one guest or guest label, guest-guest rules
 * with two guests or a label and no host labels, host rules with host labels,
 * no name twice in a list, rule names unique. */
/* Where something is written in the policy file (1-based; 0 when the policy
 * was not read from a file, e.g. built by a test). */
typedef struct {
    guint line, column;
} VbPolicyMark;

typedef struct {
    char *name;           /* from the file, for reasons and errors */
    VbRuleKind kind;
    gboolean hard;        /* "must" (never broken) or "should" (a score penalty) */
    double weight;        /* should: what breaking it costs and mending it earns,
                           * in units of load (default 0.05); must: 0 */
    char **vms;           /* guest names the rule applies to (may be empty) */
    char **vm_labels;     /* ...and every guest carrying any of these labels */
    char **host_labels;   /* host rules: the labels of the hosts concerned */
    guint line, column;   /* where the rule starts in the file */
    VbPolicyMark *vm_marks;       /* where each name of @vms is written, same order;
                                   * NULL when not loaded from a file */
    VbPolicyMark *vm_label_marks; /* the same for @vm_labels */
} VbRule;

typedef struct {
    guint max_total;             /* migrations at once in the whole run */
    guint max_per_source;        /* at once leaving one host */
    guint max_per_destination;   /* at once arriving at one host */
    guint max_storage_per_pool;  /* storage migrations at once in one pool (default 3) */
    guint evacuation_batch;      /* guests in flight per evacuation (default 10) */
    double bandwidth_mib_s;      /* per-migration cap, 0 = libvirt's default */
    double setup_seconds;        /* estimate: setup + switch-over of a live migration until measured */
    gboolean compression;        /* compress migration traffic */
    gboolean auto_converge;      /* throttle guests that dirty memory too fast */
    gboolean post_copy;          /* switch to post-copy when pre-copy does not converge */
    guint timeout_seconds;       /* abort a migration past this; guest stays on source */
    guint max_retries;           /* retries of a failed migration before giving up */
    gboolean start_after_cold_move; /* start a shut-off guest after a cold move */
} VbMigrationSettings;

typedef struct {
    char *filename;               /* where it was loaded from, or NULL for defaults */
    VbGoal goal;
    VbLoadSource load_source;
    VbAutomation automation;      /* what the daemon may execute on its own */
    double weights[VB_METRIC_LAST]; /* >= 0; at least one > 0 */
    double high_water;            /* 0..1: a host above it is a hotspot */
    double consolidate_low_water; /* consolidate: hosts below it are emptied */
    double target_imbalance;      /* std dev of weighted load below which nothing is done */
    double min_improvement;       /* load two hosts must end closer by, at least */
    double cpu_noise;             /* assumed relative fluctuation of a guest's CPU use */
    double noise_margin;          /* standard deviations of load noise a move must beat */
    double cost_per_minute;       /* extra gain a move needs per minute it takes */
    guint max_migrations;         /* per-run budget; 0 = no moves */
    guint cooldown_seconds;       /* a guest moved this recently stays put */
    guint max_moves_per_vm_per_day; /* a guest moved this often in the last 24 h stays put
                                     * (evacuations, must-rule repairs excepted); 0 = no cap */
    guint max_plan_age_seconds;   /* rebalance --plan refuses a plan file older than this */
    guint64 memory_reserve_mib;   /* kept free on every host */
    double memory_reserve_percent;/* kept free on every host, % of its memory */
    double cpu_overcommit;        /* vCPUs per core allowed on a host */
    double host_overhead_memory_mib; /* allocated mode: memory the host itself needs */
    gboolean allow_cross_pool;    /* allow storage migration between pools */
    char **exclude_hosts;         /* never moved from or to */
    char **exclude_vms;           /* never moved */
    char **exclude_vm_labels;     /* guests with these labels are never moved */
    GPtrArray *rules;             /* owned VbRule * */
    VbMigrationSettings migration;
} VbPolicy;

extern const char *const vb_goal_names[];        /* "balance", "consolidate", NULL */
extern const char *const vb_load_source_names[]; /* "measured", "allocated", NULL */
extern const char *const vb_automation_names[];  /* "manual", "partial", "full", NULL */
extern const char *const vb_metric_names[];      /* "cpu", "memory", "disk", NULL */
extern const char *const vb_rule_kind_names[];   /* "affinity", "anti-affinity", "run-on", "avoid", NULL */
extern const char *const vb_rule_enforce_names[]; /* "must" (hard), "should", NULL */

/* The built-in defaults (transfer full); never fails. */
VbPolicy *vb_policy_new_default(void);
/* Accepts NULL. */
void vb_policy_free(VbPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbPolicy, vb_policy_free)

/* The largest policy file read: hundreds of rules take a few hundred KiB. */
#define VB_POLICY_MAX_BYTES (16 * 1024 * 1024)
/* The most rules a policy may list (the loader's cross-rule check is
 * quadratic when every rule names the same guest; policies/policy-rules.c). */
#define VB_POLICY_MAX_RULES 5000u

/* Loads a policy file (transfer full). On any mistake returns NULL with
 * VB_ERROR_INVALID_INPUT and "file:line:column: what is wrong; what is
 * allowed" (also for a file above VB_POLICY_MAX_BYTES); VB_ERROR_IO when the
 * file cannot be read. */
VbPolicy *vb_policy_load_file(const char *path, GError **error);
/* Same, from memory: @filename (or "<policy>" when NULL) names the document
 * in messages and becomes policy->filename. */
VbPolicy *vb_policy_load_data(const char *data, gsize len, const char *filename,
                              GError **error);

/* Memory kept free on a host of @memory_mib: the larger of the two reserves. */
guint64 vb_policy_memory_reserve_mib(const VbPolicy *policy, guint64 memory_mib);

/* The policy written back as a policy file (transfer full): every key with
 * its value, defaults included, so an admin sees what is in force. Loading
 * the text gives an equal policy. Never fails. */
char *vb_policy_to_yaml(const VbPolicy *policy);

G_END_DECLS
