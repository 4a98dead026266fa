/*
 * policy-write.c: a policy written back as a policy file.
 *
 * vb_policy_to_yaml() shows an admin the policy in force, defaults included,
 * in the format they write (`virt-balancer policy check` can print it), and
 * gives the tests a canonical text to compare. Invariant: loading the text
 * gives an equal policy, so writing it again gives the same text; the
 * round-trip test in tests/policies-test.c holds this for every sample file.
 * Keys come in the order docs/policy.md presents them; names are always
 * double-quoted so that a guest called "yes" or "1e3" stays a name.
 */
#include "config.h"

#include "policies/policies-priv.h"

static void
append_name(GString *out, const char *name)
{
    g_string_append_c(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(out, "\\%c", *p);
        else if ((guchar) *p < 0x20)
            g_string_append_printf(out, "\\x%02x", (guchar) *p);
        else
            g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

static void
append_names(GString *out, const char *indent, const char *key, char **names)
{
    g_string_append_printf(out, "%s%s: [", indent, key);
    for (guint i = 0; names && names[i]; i++) {
        if (i > 0)
            g_string_append(out, ", ");
        append_name(out, names[i]);
    }
    g_string_append(out, "]\n");
}

static void
append_rule(GString *out, const VbRule *rule)
{
    g_string_append(out, "  - name: ");
    append_name(out, rule->name);
    g_string_append_printf(out, "\n    type: %s\n    enforce: %s\n",
                           vb_rule_kind_names[rule->kind],
                           vb_rule_enforce_names[rule->hard ? 0 : 1]);
    if (!rule->hard) {
        g_string_append(out, "    weight: ");
        vb_policy_append_number(out, rule->weight);
        g_string_append_c(out, '\n');
    }
    /* Empty lists are left out: a guest-guest rule takes no host_labels key. */
    if (rule->vms && rule->vms[0])
        append_names(out, "    ", "vms", rule->vms);
    if (rule->vm_labels && rule->vm_labels[0])
        append_names(out, "    ", "vm_labels", rule->vm_labels);
    if (rule->host_labels && rule->host_labels[0])
        append_names(out, "    ", "host_labels", rule->host_labels);
}

char *
vb_policy_to_yaml(const VbPolicy *policy)
{
    GString *out = g_string_new(NULL);

    g_assert(policy != NULL);
    g_string_append_printf(out, "goal: %s\n", vb_goal_names[policy->goal]);
    g_string_append_printf(out, "load: %s\n", vb_load_source_names[policy->load_source]);
    g_string_append_printf(out, "automation: %s\n", vb_automation_names[policy->automation]);
    vb_policy_write_section(out, policy, "metrics");
    vb_policy_write_section(out, policy, "thresholds");
    vb_policy_write_section(out, policy, "budget");
    vb_policy_write_section(out, policy, "reserves");
    g_string_append_printf(out, "cross_pool: %s\n", policy->allow_cross_pool ? "true" : "false");
    g_string_append(out, "exclude:\n");
    append_names(out, "  ", "hosts", policy->exclude_hosts);
    append_names(out, "  ", "vms", policy->exclude_vms);
    append_names(out, "  ", "vm_labels", policy->exclude_vm_labels);
    if (!policy->rules || policy->rules->len == 0)
        g_string_append(out, "rules: []\n");
    else
        g_string_append(out, "rules:\n");
    for (guint i = 0; policy->rules && i < policy->rules->len; i++)
        append_rule(out, g_ptr_array_index(policy->rules, i));
    vb_policy_write_section(out, policy, "migration");
    return g_string_free(out, FALSE);
}
