/*
 * policy-rules.c: reading and checking affinity and label rules.
 *
 * A rule is a mapping {name, type, enforce, weight, vms, vm_labels,
 * host_labels}; weight belongs to should rules only.
 * Besides the checks every key gets (types, unknown keys), a rule must make
 * sense on its own: it names guests, a guest-guest rule names a group (two
 * guests or a label) and no host labels, a host rule names host labels, no
 * name appears twice in a list, and rule names are unique. Across rules,
 * hard ("must") rules that can never be met together are refused, as far as
 * the file alone shows it (by guest names, since which guests carry a label
 * is only known from the pool): two guests that must run both together and
 * apart, or a guest that must run on hosts it must also avoid. Whether the
 * names exist is the pool's business, not the file's; each name of vms and
 * vm_labels keeps where it is written (VbRule.vm_marks, vm_label_marks) so
 * that a name the pool lacks can be pointed at later
 * (vb_placement_rule_warnings).
 *
 * Workload: hundreds of rules usually, VB_POLICY_MAX_RULES at most (a longer
 * list is refused before any rule is read). The cross-rule check compares
 * only rules that share a guest (linear when they name distinct guests); it
 * is quadratic only when every hard rule names one guest, which the cap
 * bounds (5,000 such rules: 1.2 to 1.6 s for a whole policy check here).
 */
#include "config.h"

#include "policies/policies-priv.h"

static const char *const rule_keys[] = {
    "name", "type", "enforce", "weight", "vms", "vm_labels", "host_labels", NULL,
};

static gboolean
is_vm_rule(VbRuleKind kind)
{
    return kind == VB_RULE_VM_AFFINITY || kind == VB_RULE_VM_ANTI_AFFINITY;
}

/* Reads the key @key of rule @node as a list of names into @ret (left NULL
 * when the key is absent). */
static gboolean
read_rule_names(VbPolicyLoad *load, const VbYamlNode *node, const char *prefix,
                const char *key, const char *noun, char ***ret, GError **error)
{
    const VbYamlNode *value = vb_yaml_mapping_get(load->doc, node, key);
    g_autofree char *what = g_strdup_printf("%s.%s", prefix, key);

    if (!value)
        return TRUE;
    return vb_policy_read_names(load, value, what, noun, ret, error);
}

/* Where each of the @n names of key @key of rule @node is written: the items
 * of a sequence, or the one scalar (a single name may be given bare). NULL
 * when the key is absent or empty. (transfer full) */
static VbPolicyMark *
rule_name_marks(VbPolicyLoad *load, const VbYamlNode *node, const char *key, guint n)
{
    const VbYamlNode *value = vb_yaml_mapping_get(load->doc, node, key);
    const VbYamlNode *item;
    VbPolicyMark *marks;

    if (!value || n == 0)
        return NULL;
    marks = g_new0(VbPolicyMark, n);
    item = vb_yaml_node_kind(value) == VB_YAML_SEQUENCE ? vb_yaml_node_first(load->doc, value)
                                                        : value;
    for (guint i = 0; i < n && item; i++) {
        marks[i].line = vb_yaml_node_line(item);
        marks[i].column = vb_yaml_node_column(item);
        item = item == value ? NULL : vb_yaml_node_next(load->doc, item);
    }
    return marks;
}

/* "an affinity", "a run-on": the kind with its article, for messages. */
static const char *
kind_with_article(VbRuleKind kind)
{
    static const char *const with_article[] = {
        "an affinity", "an anti-affinity", "a run-on", "an avoid",
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(with_article) == VB_RULE_KIND_LAST);
    return with_article[kind];
}

/* "rules[NAME]" when the rule has a usable name, else "rules[N]" (from 1). */
static char *
rule_prefix(VbPolicyLoad *load, const VbYamlNode *node, guint index)
{
    const VbYamlNode *name = vb_yaml_mapping_get(load->doc, node, "name");
    const char *text = name ? vb_yaml_node_value(load->doc, name) : NULL;

    if (text && text[0] && !vb_yaml_node_is_null(load->doc, name)) {
        g_autofree char *shown = vb_text_quote(text);

        return g_strdup_printf("rules[%s]", shown);
    }
    return g_strdup_printf("rules[%u]", index + 1);
}

/* Reads the weight of a should rule (default VB_RULE_DEFAULT_WEIGHT); a
 * must rule is never broken, so a weight there is a mistake. */
static gboolean
read_rule_weight(VbPolicyLoad *load, const VbYamlNode *node, const char *prefix, VbRule *rule,
                 GError **error)
{
    const VbYamlNode *weight = vb_yaml_mapping_get(load->doc, node, "weight");
    g_autofree char *what = g_strdup_printf("%s.weight", prefix);

    rule->weight = rule->hard ? 0 : VB_RULE_DEFAULT_WEIGHT;
    if (!weight)
        return TRUE;
    if (rule->hard)
        return vb_yaml_error(error, load->doc, weight, "%s: a must rule is never broken, so "
                             "it has no weight; remove it or use enforce: should", what);
    return vb_yaml_get_double(load->doc, weight, what, 0, 1, &rule->weight, error);
}

/* Reads name, type and enforce; @ret_prefix becomes "rules[NAME]". */
static gboolean
read_rule_head(VbPolicyLoad *load, const VbYamlNode *node, guint index, VbRule *rule,
               char **ret_prefix, GError **error)
{
    g_autofree char *prefix = g_strdup_printf("rules[%u]", index + 1);
    g_autofree char *what = NULL;
    const VbYamlNode *name, *type, *enforce;
    g_autofree char *kinds = vb_join_choices(vb_rule_kind_names);
    guint kind, must = 1;

    if (!vb_yaml_expect_kind(load->doc, node, VB_YAML_MAPPING, prefix, error))
        return FALSE;
    g_free(prefix);
    prefix = rule_prefix(load, node, index);
    if (!vb_yaml_check_mapping(load->doc, node, prefix, rule_keys, error))
        return FALSE;
    name = vb_yaml_mapping_get(load->doc, node, "name");
    type = vb_yaml_mapping_get(load->doc, node, "type");
    enforce = vb_yaml_mapping_get(load->doc, node, "enforce");
    if (!name)
        return vb_yaml_error(error, load->doc, node, "%s: 'name' is missing; every rule needs "
                             "a unique name (plans quote it)", prefix);
    what = g_strdup_printf("%s.name", prefix);
    if (!vb_yaml_get_string(load->doc, name, what, &rule->name, error))
        return FALSE;
    if (rule->name[0] == '\0')
        return vb_yaml_error(error, load->doc, name, "%s: the name is empty; every rule needs "
                             "a unique name (plans quote it)", what);
    if (!type)
        return vb_yaml_error(error, load->doc, node, "%s: 'type' is missing; allowed: %s",
                             prefix, kinds);
    g_free(what);
    what = g_strdup_printf("%s.type", prefix);
    if (!vb_yaml_get_enum(load->doc, type, what, vb_rule_kind_names, &kind, error))
        return FALSE;
    g_free(what);
    what = g_strdup_printf("%s.enforce", prefix);
    if (enforce && !vb_yaml_get_enum(load->doc, enforce, what, vb_rule_enforce_names, &must,
                                     error))
        return FALSE;
    rule->kind = kind;
    rule->hard = must == 0;
    if (!read_rule_weight(load, node, prefix, rule, error))
        return FALSE;
    *ret_prefix = g_steal_pointer(&prefix);
    return TRUE;
}

/* The checks a rule must pass on its own. */
static gboolean
check_rule(VbPolicyLoad *load, const VbYamlNode *node, const char *prefix, const VbRule *rule,
           GError **error)
{
    const VbYamlNode *vms = vb_yaml_mapping_get(load->doc, node, "vms");
    const VbYamlNode *host_labels = vb_yaml_mapping_get(load->doc, node, "host_labels");
    guint n_vms = rule->vms ? g_strv_length(rule->vms) : 0;
    guint n_vm_labels = rule->vm_labels ? g_strv_length(rule->vm_labels) : 0;
    guint n_host_labels = rule->host_labels ? g_strv_length(rule->host_labels) : 0;
    const char *kind = kind_with_article(rule->kind);

    if (n_vms == 0 && n_vm_labels == 0)
        return vb_yaml_error(error, load->doc, node, "%s: names no guests; give vms, "
                             "vm_labels or both", prefix);
    if (is_vm_rule(rule->kind) && host_labels)
        return vb_yaml_error(error, load->doc, host_labels, "%s.host_labels: %s rule "
                             "relates guests to each other and takes no host_labels; use type "
                             "run-on or avoid to tie guests to hosts", prefix, kind);
    if (is_vm_rule(rule->kind) && n_vms < 2 && n_vm_labels == 0)
        return vb_yaml_error(error, load->doc, vms ? vms : node, "%s: %s rule needs at "
                             "least two guests in vms, or vm_labels; it names only %u", prefix,
                             kind, n_vms);
    if (!is_vm_rule(rule->kind) && n_host_labels == 0)
        return vb_yaml_error(error, load->doc, host_labels ? host_labels : node, "%s: %s "
                             "rule needs host_labels, the labels of the hosts concerned",
                             prefix, kind);
    return TRUE;
}

static VbRule *
read_rule(VbPolicyLoad *load, const VbYamlNode *node, guint index, GError **error)
{
    g_autoptr(VbRule) rule = g_new0(VbRule, 1);
    g_autofree char *prefix = NULL;

    rule->line = vb_yaml_node_line(node);
    rule->column = vb_yaml_node_column(node);
    if (!read_rule_head(load, node, index, rule, &prefix, error))
        return NULL;
    if (!read_rule_names(load, node, prefix, "vms", "guest", &rule->vms, error) ||
        !read_rule_names(load, node, prefix, "vm_labels", "label", &rule->vm_labels, error) ||
        !read_rule_names(load, node, prefix, "host_labels", "label", &rule->host_labels,
                         error))
        return NULL;
    if (!check_rule(load, node, prefix, rule, error))
        return NULL;
    rule->vm_marks = rule_name_marks(load, node, "vms", rule->vms ? g_strv_length(rule->vms) : 0);
    rule->vm_label_marks = rule_name_marks(load, node, "vm_labels",
                                           rule->vm_labels ? g_strv_length(rule->vm_labels) : 0);
    /* Consumers may walk the lists without NULL checks. */
    if (!rule->vms)
        rule->vms = g_new0(char *, 1);
    if (!rule->vm_labels)
        rule->vm_labels = g_new0(char *, 1);
    if (!rule->host_labels)
        rule->host_labels = g_new0(char *, 1);
    return g_steal_pointer(&rule);
}

/* ------------------------------------------------------------ across rules */

/* Two guests named by both @a and @b, or FALSE. */
static gboolean
two_shared_guests(const VbRule *a, const VbRule *b, const char **ret_x, const char **ret_y)
{
    const char *found = NULL;

    for (guint i = 0; a->vms[i]; i++) {
        if (!g_strv_contains((const char *const *) b->vms, a->vms[i]))
            continue;
        if (found) {
            *ret_x = found;
            *ret_y = a->vms[i];
            return TRUE;
        }
        found = a->vms[i];
    }
    return FALSE;
}

/* A guest named by both, or NULL. */
static const char *
shared_guest(const VbRule *a, const VbRule *b)
{
    for (guint i = 0; a->vms[i]; i++)
        if (g_strv_contains((const char *const *) b->vms, a->vms[i]))
            return a->vms[i];
    return NULL;
}

/* TRUE when every label of @sub is in @super. */
static gboolean
labels_within(char **sub, char **super)
{
    for (guint i = 0; sub[i]; i++)
        if (!g_strv_contains((const char *const *) super, sub[i]))
            return FALSE;
    return TRUE;
}

/* Refuses @later when it and the hard rule @earlier can never both hold. */
static gboolean
check_pair(VbPolicyLoad *load, const VbYamlNode *node, const VbRule *earlier,
           const VbRule *later, GError **error)
{
    const VbRule *run_on = earlier->kind == VB_RULE_HOST_AFFINITY ? earlier : later;
    const char *x, *y;
    g_autofree char *later_name = NULL, *earlier_name = NULL, *qx = NULL, *qy = NULL;

    if (is_vm_rule(earlier->kind) && is_vm_rule(later->kind) && earlier->kind != later->kind &&
        two_shared_guests(earlier, later, &x, &y)) {
        later_name = vb_text_quote(later->name);
        earlier_name = vb_text_quote(earlier->name);
        qx = vb_text_quote(x);
        qy = vb_text_quote(y);
        return vb_yaml_error(error, load->doc, node, "rules[%s]: contradicts rule '%s' (line "
                             "%u): guests '%s' and '%s' must run both together and apart; make "
                             "one rule 'should' or drop a guest from one", later_name,
                             earlier_name, earlier->line, qx, qy);
    }
    if (!is_vm_rule(earlier->kind) && !is_vm_rule(later->kind) &&
        earlier->kind != later->kind && (x = shared_guest(earlier, later)) &&
        labels_within(run_on->host_labels,
                      (run_on == earlier ? later : earlier)->host_labels)) {
        later_name = vb_text_quote(later->name);
        earlier_name = vb_text_quote(earlier->name);
        qx = vb_text_quote(x);
        return vb_yaml_error(error, load->doc, node, "rules[%s]: contradicts rule '%s' (line "
                             "%u): guest '%s' must run on hosts it must also avoid; make one "
                             "rule 'should' or change its labels", later_name, earlier_name,
                             earlier->line, qx);
    }
    return TRUE;
}

/* Both contradictions need a guest named by both rules, so each hard rule is
 * compared only with the earlier hard rules that share a guest with it:
 * @by_guest maps a guest name to the indices of the hard rules naming it,
 * the candidates are marked in @mark and checked in rule order, so that the
 * first contradicting rule is the one named. Rules that name distinct guests
 * cost a scan of @mark each (a byte per earlier rule); the rule cap
 * (VB_POLICY_MAX_RULES) bounds the case where every rule names one guest. */
static gboolean
check_across(VbPolicyLoad *load, GPtrArray *rules, GPtrArray *nodes, GError **error)
{
    g_autoptr(GHashTable) by_guest =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_array_unref);
    g_autofree guint *mark = g_new0(guint, rules->len);

    for (guint j = 0; j < rules->len; j++) {
        const VbRule *later = g_ptr_array_index(rules, j);
        guint first = j, n_marked = 0;

        if (!later->hard)
            continue;
        for (guint v = 0; later->vms[v]; v++) {
            GArray *list = g_hash_table_lookup(by_guest, later->vms[v]);

            for (guint k = 0; list && k < list->len; k++) {
                guint i = g_array_index(list, guint, k);

                n_marked += mark[i] != j + 1;
                mark[i] = j + 1;
                first = MIN(first, i);
            }
        }
        for (guint i = first; n_marked > 0 && i < j; i++) {
            if (mark[i] != j + 1)
                continue;
            n_marked--;
            if (!check_pair(load, g_ptr_array_index(nodes, j), g_ptr_array_index(rules, i),
                            later, error))
                return FALSE;
        }
        for (guint v = 0; later->vms[v]; v++) {
            GArray *list = g_hash_table_lookup(by_guest, later->vms[v]);

            if (!list) {
                list = g_array_new(FALSE, FALSE, sizeof(guint));
                g_hash_table_insert(by_guest, later->vms[v], list);
            }
            if (list->len == 0 || g_array_index(list, guint, list->len - 1) != j)
                g_array_append_val(list, j);
        }
    }
    return TRUE;
}

gboolean
vb_policy_read_rules(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func((GDestroyNotify) vb_policy_rule_free);
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    guint index = 0;

    if (!vb_yaml_expect_kind(load->doc, node, VB_YAML_SEQUENCE, "rules", error))
        return FALSE;
    if (vb_yaml_node_n_children(node) > VB_POLICY_MAX_RULES)
        return vb_yaml_error(error, load->doc, node, "rules: %u rules; at most %u are allowed "
                             "(give rules to groups of guests with vm_labels)",
                             vb_yaml_node_n_children(node), VB_POLICY_MAX_RULES);
    for (const VbYamlNode *item = vb_yaml_node_first(load->doc, node); item;
         item = vb_yaml_node_next(load->doc, item), index++) {
        VbRule *rule = read_rule(load, item, index, error);
        const VbRule *same;

        if (!rule)
            return FALSE;
        g_ptr_array_add(rules, rule);
        g_ptr_array_add(nodes, (gpointer) item);
        same = g_hash_table_lookup(names, rule->name);
        if (same) {
            g_autofree char *shown = vb_text_quote(rule->name);

            return vb_yaml_error(error, load->doc, vb_yaml_mapping_get(load->doc, item, "name"),
                                 "rules[%s].name: '%s' is already the name of the rule at line "
                                 "%u; rule names must be unique", shown, shown, same->line);
        }
        g_hash_table_insert(names, rule->name, rule);
    }
    if (!check_across(load, rules, nodes, error))
        return FALSE;
    g_ptr_array_extend_and_steal(load->policy->rules, g_steal_pointer(&rules));
    return TRUE;
}
