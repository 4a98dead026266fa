/*
 * render-warnings.c: rules that do not match the pool, as people and scripts
 * see them (the findings come from vb_placement_rule_warnings, pure).
 *
 * One finding is one line, compiler style, pointing at where the name is
 * written in the policy file:
 *   policy.yaml:12:9: rule 'web-apart' names guest 'wbe-2', which is not in
 *   the pool (did you mean 'web-2'?)
 * Plans show them in a "Warnings" section under the header (text) and in the
 * `warnings` array (JSON, docs/plan-json.md); `policy check --inventory`
 * and acting runs with JSON output (whose stdout is their report) show them
 * on stderr, "virt-balancer: FILE:LINE:COLUMN: warning: ...". The same
 * sentence everywhere.
 */
#include "config.h"

#include "cli/cli.h"

char *
vb_cli_rule_warning_text(const VbPolicy *policy, const VbRuleWarning *w)
{
    const VbRule *rule = g_ptr_array_index(policy->rules, w->rule);
    /* Names from the policy and the pool, quoted short and safe (util/text.c). */
    g_autofree char *rule_name = vb_text_quote(rule->name);
    g_autofree char *name = vb_text_quote(w->name);
    g_autofree char *guess = w->suggestion ? vb_text_quote(w->suggestion) : NULL;
    g_autofree char *hint = guess ? g_strdup_printf(" (did you mean '%s'?)", guess)
                                  : g_strdup("");

    switch (w->kind) {
    case VB_RULE_WARNING_NO_GUEST:
        return g_strdup_printf("rule '%s' matches no guest in the pool, so it is not enforced",
                               rule_name);
    case VB_RULE_WARNING_UNKNOWN_GUEST:
        return g_strdup_printf("rule '%s' names guest '%s', which is not in the pool%s",
                               rule_name, name, hint);
    case VB_RULE_WARNING_ONE_GUEST:
        return g_strdup_printf("rule '%s' concerns only one guest of the pool (%s), so it has "
                               "nothing to keep %s and is not enforced", rule_name, name,
                               rule->kind == VB_RULE_VM_AFFINITY ? "together" : "apart");
    case VB_RULE_WARNING_UNKNOWN_LABEL:
        return g_strdup_printf("rule '%s' selects guests by label '%s', which no guest in the "
                               "pool carries%s", rule_name, name, hint);
    case VB_RULE_WARNING_LAST:
    default:
        break;
    }
    g_assert_not_reached();
}

char *
vb_cli_rule_warning_line(const VbPolicy *policy, const VbRuleWarning *w, const char *severity)
{
    g_autofree char *text = vb_cli_rule_warning_text(policy, w);
    const char *file = policy->filename ? policy->filename : "policy";
    g_autofree char *where = w->mark.line == 0
        ? g_strdup(file) : g_strdup_printf("%s:%u:%u", file, w->mark.line, w->mark.column);

    return g_strdup_printf("%s: %s%s%s", where, severity ? severity : "", severity ? ": " : "",
                           text);
}

void
vb_cli_print_rule_warnings(FILE *out, const VbInventory *inv, const VbPolicy *policy,
                           gboolean color)
{
    g_autoptr(GArray) warnings = vb_placement_rule_warnings(inv, policy);

    if (warnings->len == 0)
        return;
    fprintf(out, "\n%sWarnings%s (%u; rules that do not match the pool):\n",
            vb_cli_paint(color, VB_YELLOW), vb_cli_paint(color, VB_RESET), warnings->len);
    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *line = vb_cli_rule_warning_line(
            policy, &g_array_index(warnings, VbRuleWarning, i), NULL);

        fprintf(out, "  %s\n", line);
    }
}

void
vb_cli_report_rule_warnings(const VbPolicy *policy, const GArray *warnings,
                            gboolean no_guest_is_error)
{
    for (guint i = 0; i < warnings->len; i++) {
        const VbRuleWarning *w = &g_array_index(warnings, VbRuleWarning, i);
        gboolean error = no_guest_is_error && w->kind == VB_RULE_WARNING_NO_GUEST;
        g_autofree char *line = vb_cli_rule_warning_line(policy, w,
                                                         error ? "error" : "warning");

        fprintf(stderr, "virt-balancer: %s\n", line);
    }
}

/* A line or column: an integer, or null when unknown (0). */
static void
add_position(JsonBuilder *b, const char *name, guint value)
{
    json_builder_set_member_name(b, name);
    if (value > 0)
        json_builder_add_int_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
vb_cli_json_add_rule_warnings(JsonBuilder *b, const VbInventory *inv, const VbPolicy *policy)
{
    g_autoptr(GArray) warnings = inv ? vb_placement_rule_warnings(inv, policy) : NULL;

    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    for (guint i = 0; warnings && i < warnings->len; i++) {
        const VbRuleWarning *w = &g_array_index(warnings, VbRuleWarning, i);
        const VbRule *rule = g_ptr_array_index(policy->rules, w->rule);
        g_autofree char *text = vb_cli_rule_warning_text(policy, w);

        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "kind", vb_rule_warning_kind_names[w->kind]);
        vb_cli_json_add_string(b, "rule", rule->name);
        vb_cli_json_add_string(b, "name", w->name);
        vb_cli_json_add_string(b, "suggestion", w->suggestion);
        vb_cli_json_add_string(b, "file", policy->filename);
        add_position(b, "line", w->mark.line);
        add_position(b, "column", w->mark.line > 0 ? w->mark.column : 0);
        vb_cli_json_add_string(b, "message", text);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}
