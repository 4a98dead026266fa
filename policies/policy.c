/*
 * policy.c: the policy object, its defaults, and loading a policy file.
 *
 * A VbPolicy is plain data. vb_policy_new_default() is the policy in force
 * when an admin writes nothing; docs/policy.md and policies/examples/
 * balance.yaml state the same values and tests/policies-test.c checks that
 * they agree. Loading starts from the defaults, reads each top-level key
 * into a new object, runs the checks that span several keys, and hands the
 * object out only when all of it is right: a bad file never yields a half
 * policy, so a daemon reloading on SIGHUP keeps its old one.
 *
 * Workload: a policy is a few dozen keys and a few hundred rules at most; it
 * is loaded at start and on reload. Pure: no I/O but reading the one file.
 */
#include "config.h"

#include <math.h>

#include "policies/policies-priv.h"

const char *const vb_goal_names[] = { "balance", "consolidate", NULL };
const char *const vb_load_source_names[] = { "measured", "allocated", NULL };
const char *const vb_automation_names[] = { "manual", "partial", "full", NULL };
const char *const vb_metric_names[] = { "cpu", "memory", "disk", NULL };
const char *const vb_rule_kind_names[] = { "affinity", "anti-affinity", "run-on", "avoid", NULL };
const char *const vb_rule_enforce_names[] = { "must", "should", NULL };

G_STATIC_ASSERT(G_N_ELEMENTS(vb_goal_names) == VB_GOAL_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_load_source_names) == VB_LOAD_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_automation_names) == VB_AUTOMATION_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_metric_names) == VB_METRIC_LAST + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(vb_rule_kind_names) == VB_RULE_KIND_LAST + 1);

/* The defaults, chosen for a production pool of a few to a few hundred
 * hosts: act on real contention (a host above 80%, spread above 5 points),
 * never churn (a move must gain half a point, a guest rests 30 minutes), and
 * migrate a few guests at a time so the migration network is not flooded. */
static const VbMigrationSettings default_migration = {
    .max_total = 4,
    .max_per_source = 2,
    .max_per_destination = 2,
    .max_storage_per_pool = 3,
    .evacuation_batch = 10,
    .bandwidth_mib_s = 0,
    .setup_seconds = 0,
    .compression = FALSE,
    .auto_converge = TRUE,
    .post_copy = FALSE,
    .timeout_seconds = 10 * 60,
    .max_retries = 2,
    .start_after_cold_move = FALSE,
};

VbPolicy *
vb_policy_new_default(void)
{
    VbPolicy *policy = g_new0(VbPolicy, 1);

    policy->goal = VB_GOAL_BALANCE;
    policy->load_source = VB_LOAD_MEASURED;
    policy->automation = VB_AUTOMATION_FULL;
    policy->weights[VB_METRIC_CPU] = 1.0;
    policy->weights[VB_METRIC_MEMORY] = 1.0;
    policy->weights[VB_METRIC_DISK] = 0.2;
    policy->high_water = 0.80;
    policy->consolidate_low_water = 0.20;
    policy->target_imbalance = 0.05;
    policy->min_improvement = 0.005;
    policy->cpu_noise = 0.05;
    policy->noise_margin = 2.0;
    policy->cost_per_minute = 0.005;
    policy->max_migrations = 20;
    policy->cooldown_seconds = 30 * 60;
    policy->max_moves_per_vm_per_day = 4;
    policy->max_plan_age_seconds = 60 * 60;
    policy->memory_reserve_mib = 2048;
    policy->memory_reserve_percent = 10.0;
    policy->cpu_overcommit = 4.0;
    policy->host_overhead_memory_mib = 1024;
    policy->allow_cross_pool = FALSE;
    policy->exclude_hosts = g_new0(char *, 1);
    policy->exclude_vms = g_new0(char *, 1);
    policy->exclude_vm_labels = g_new0(char *, 1);
    policy->rules = g_ptr_array_new_with_free_func((GDestroyNotify) vb_policy_rule_free);
    policy->migration = default_migration;
    return policy;
}

void
vb_policy_rule_free(VbRule *rule)
{
    if (!rule)
        return;
    g_free(rule->name);
    g_strfreev(rule->vms);
    g_strfreev(rule->vm_labels);
    g_strfreev(rule->host_labels);
    g_free(rule->vm_marks);
    g_free(rule->vm_label_marks);
    g_free(rule);
}

void
vb_policy_free(VbPolicy *policy)
{
    if (!policy)
        return;
    g_free(policy->filename);
    g_strfreev(policy->exclude_hosts);
    g_strfreev(policy->exclude_vms);
    g_strfreev(policy->exclude_vm_labels);
    if (policy->rules)
        g_ptr_array_unref(policy->rules);
    g_free(policy);
}

guint64
vb_policy_memory_reserve_mib(const VbPolicy *policy, guint64 memory_mib)
{
    guint64 by_percent;

    g_assert(policy != NULL);
    /* Round the percentage up: a reserve is a floor, never shaved. */
    by_percent = (guint64) ceil((double) memory_mib * policy->memory_reserve_percent / 100.0);
    return MAX(policy->memory_reserve_mib, by_percent);
}

/* ------------------------------------------------------------ top level */

typedef gboolean (*VbPolicySectionReader)(VbPolicyLoad *load, const VbYamlNode *node,
                                          GError **error);

static gboolean
read_goal(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    guint goal;

    if (!vb_yaml_get_enum(load->doc, node, "goal", vb_goal_names, &goal, error))
        return FALSE;
    load->policy->goal = goal;
    return TRUE;
}

static gboolean
read_load(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    guint source;

    if (!vb_yaml_get_enum(load->doc, node, "load", vb_load_source_names, &source, error))
        return FALSE;
    load->policy->load_source = source;
    return TRUE;
}

static gboolean
read_automation(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    guint level;

    if (!vb_yaml_get_enum(load->doc, node, "automation", vb_automation_names, &level, error))
        return FALSE;
    load->policy->automation = level;
    return TRUE;
}

static gboolean
read_cross_pool(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    return vb_yaml_get_bool(load->doc, node, "cross_pool", &load->policy->allow_cross_pool,
                            error);
}

/* The top-level keys in the order docs/policy.md and vb_policy_to_yaml()
 * present them. Sections (mappings and lists) left empty keep defaults. */
static const struct {
    const char *key;
    VbPolicySectionReader read;
    gboolean section; /* a mapping or list: a null value means "defaults" */
} top_keys[] = {
    { "goal", read_goal, FALSE },
    { "load", read_load, FALSE },
    { "automation", read_automation, FALSE },
    { "metrics", vb_policy_read_metrics, TRUE },
    { "thresholds", vb_policy_read_thresholds, TRUE },
    { "budget", vb_policy_read_budget, TRUE },
    { "reserves", vb_policy_read_reserves, TRUE },
    { "cross_pool", read_cross_pool, FALSE },
    { "exclude", vb_policy_read_exclude, TRUE },
    { "rules", vb_policy_read_rules, TRUE },
    { "migration", vb_policy_read_migration, TRUE },
};

static const char *const top_key_names[] = {
    "goal", "load", "automation", "metrics", "thresholds", "budget", "reserves", "cross_pool", "exclude",
    "rules", "migration", NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(top_key_names) == G_N_ELEMENTS(top_keys) + 1);

static gboolean
read_top(VbPolicyLoad *load, const VbYamlNode *root, GError **error)
{
    if (!vb_yaml_check_mapping(load->doc, root, "policy", top_key_names, error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(top_keys); i++) {
        const VbYamlNode *value = vb_yaml_mapping_get(load->doc, root, top_keys[i].key);

        if (!value)
            continue;
        g_hash_table_insert(load->nodes, g_strdup(top_keys[i].key), (gpointer) value);
        if (top_keys[i].section && vb_yaml_node_is_null(load->doc, value))
            continue;
        if (!top_keys[i].read(load, value, error))
            return FALSE;
    }
    return vb_policy_check_whole(load, error);
}

static VbPolicy *
policy_from_doc(const VbYamlDoc *doc, GError **error)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GHashTable) nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    VbPolicyLoad load = { .doc = doc, .policy = policy, .nodes = nodes };
    const VbYamlNode *root = vb_yaml_doc_root(doc);

    policy->filename = g_strdup(vb_yaml_doc_filename(doc));
    /* A file of comments only, or a lone "---", is the default policy. */
    if (!root || vb_yaml_node_is_null(doc, root))
        return g_steal_pointer(&policy);
    if (!read_top(&load, root, error))
        return NULL;
    g_debug("policy %s: %u rules", policy->filename, policy->rules->len);
    return g_steal_pointer(&policy);
}

VbPolicy *
vb_policy_load_file(const char *path, GError **error)
{
    g_autoptr(VbYamlDoc) doc = NULL;

    g_return_val_if_fail(path != NULL, NULL);
    doc = vb_yaml_load_file(path, VB_POLICY_MAX_BYTES, "a policy file", error);
    if (!doc)
        return NULL;
    return policy_from_doc(doc, error);
}

VbPolicy *
vb_policy_load_data(const char *data, gsize len, const char *filename, GError **error)
{
    g_autoptr(VbYamlDoc) doc = NULL;

    g_return_val_if_fail(data != NULL || len == 0, NULL);
    doc = vb_yaml_load_data(data ? data : "", len, filename ? filename : "<policy>", error);
    if (!doc)
        return NULL;
    return policy_from_doc(doc, error);
}
