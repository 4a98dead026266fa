/*
 * render-objectives.c: what a plan answers for besides its goal, as people
 * and scripts see it: the rules the placement broke before the plan (mended
 * or why not), the should rules it breaks anew, the hosts above high_water
 * before and after, and whether the target is met (the findings come from
 * vb_plan_finish, placement/objectives.c).
 *
 * JSON (docs/plan-json.md): "target_met", "rule_violations" {before, after}
 * and "hotspots" {before, after}; "after" holds what is still broken or hot
 * once the plan has run, each with the reason it remains. Text: a section
 * "Rules broken before the plan" and one "Hotspots" before the stop line,
 * printed only when there is something to say.
 */
#include "config.h"

#include "cli/cli.h"

static const char *
strength_name(const VbRule *rule)
{
    return rule->hard ? "must" : "should";
}

char *
vb_cli_names_text(const VbInventory *inv, const GArray *ids, gboolean hosts)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (guint i = 0; ids && i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);

        if (i > 0)
            g_string_append(s, ", ");
        g_string_append(s, hosts ? vb_inventory_host(inv, id)->name
                                 : vb_inventory_vm(inv, id)->name);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* --------------------------------------------------------------- JSON */

static void
add_names(JsonBuilder *b, const char *member, const VbInventory *inv, const GArray *ids,
          gboolean hosts)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; ids && i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);

        json_builder_add_string_value(b, hosts ? vb_inventory_host(inv, id)->name
                                               : vb_inventory_vm(inv, id)->name);
    }
    json_builder_end_array(b);
}

static void
add_violation(JsonBuilder *b, const VbCliPlanView *view, const VbViolation *v, gboolean created)
{
    const VbRule *rule = g_ptr_array_index(view->policy->rules, v->rule);

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "rule", rule->name);
    vb_cli_json_add_string(b, "strength", strength_name(rule));
    vb_cli_json_add_string(b, "type", vb_rule_kind_names[rule->kind]);
    add_names(b, "guests", view->inv, v->vms, FALSE);
    add_names(b, "hosts", view->inv, v->hosts, TRUE);
    vb_cli_json_add_bool(b, "repaired", !created && v->repaired);
    vb_cli_json_add_bool(b, "created", created);
    vb_cli_json_add_string(b, "reason", v->reason);
    json_builder_end_object(b);
}

static void
add_violations(JsonBuilder *b, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;

    json_builder_set_member_name(b, "rule_violations");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "before");
    json_builder_begin_array(b);
    for (guint i = 0; plan->violations && i < plan->violations->len; i++)
        add_violation(b, view, g_ptr_array_index(plan->violations, i), FALSE);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "after");
    json_builder_begin_array(b);
    for (guint i = 0; plan->violations && i < plan->violations->len; i++) {
        const VbViolation *v = g_ptr_array_index(plan->violations, i);

        if (!v->repaired)
            add_violation(b, view, v, FALSE);
    }
    for (guint i = 0; plan->created && i < plan->created->len; i++)
        add_violation(b, view, g_ptr_array_index(plan->created, i), TRUE);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void
add_hotspot(JsonBuilder *b, const VbCliPlanView *view, const VbHotspot *h, gboolean after)
{
    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "host", vb_inventory_host(view->inv, h->host)->name);
    vb_cli_json_add_string(b, "metric", vb_metric_names[h->metric]);
    json_builder_set_member_name(b, "load");
    json_builder_add_double_value(b, vb_cli_json_round(after ? h->after : h->before, 1e6));
    if (after) {
        vb_cli_json_add_bool(b, "created", h->before <= view->policy->high_water);
        vb_cli_json_add_string(b, "reason", h->reason);
    } else {
        vb_cli_json_add_bool(b, "relieved", h->after <= view->policy->high_water);
    }
    json_builder_end_object(b);
}

static void
add_hotspots(JsonBuilder *b, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;
    const double hw = view->policy->high_water;

    json_builder_set_member_name(b, "hotspots");
    json_builder_begin_object(b);
    for (int after = 0; after <= 1; after++) {
        json_builder_set_member_name(b, after ? "after" : "before");
        json_builder_begin_array(b);
        for (guint i = 0; plan->hotspots && i < plan->hotspots->len; i++) {
            const VbHotspot *h = g_ptr_array_index(plan->hotspots, i);

            if ((after ? h->after : h->before) > hw)
                add_hotspot(b, view, h, after);
        }
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
}

void
vb_cli_json_add_objectives(JsonBuilder *b, const VbCliPlanView *view)
{
    vb_cli_json_add_bool(b, "target_met", view->plan->target_met);
    add_violations(b, view);
    add_hotspots(b, view);
}

/* --------------------------------------------------------------- text */

static void
print_violation(FILE *out, const VbCliPlanView *view, const VbViolation *v, const char *state)
{
    const VbRule *rule = g_ptr_array_index(view->policy->rules, v->rule);
    g_autofree char *guests = vb_cli_names_text(view->inv, v->vms, FALSE);
    g_autofree char *hosts = vb_cli_names_text(view->inv, v->hosts, TRUE);

    fprintf(out, "  %s %s '%s': %s on %s: %s%s%s\n", strength_name(rule),
            vb_rule_kind_names[rule->kind], rule->name, guests, hosts, state,
            v->reason ? ": " : "", v->reason ? v->reason : "");
}

static void
print_violations(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const VbPlan *plan = view->plan;
    guint before = plan->violations ? plan->violations->len : 0;
    guint created = plan->created ? plan->created->len : 0;

    if (before > 0) {
        fprintf(out, "\n%sRules broken before the plan%s (%u):\n", vb_cli_paint(color, VB_BOLD),
                vb_cli_paint(color, VB_RESET), before);
        for (guint i = 0; i < before; i++) {
            const VbViolation *v = g_ptr_array_index(plan->violations, i);

            print_violation(out, view, v, v->repaired ? "repaired" : "still broken");
        }
    }
    if (created > 0) {
        fprintf(out, "\n%sRules the plan breaks%s (%u):\n", vb_cli_paint(color, VB_BOLD),
                vb_cli_paint(color, VB_RESET), created);
        for (guint i = 0; i < created; i++)
            print_violation(out, view, g_ptr_array_index(plan->created, i), "broken");
    }
}

guint
vb_cli_hotspot_count(const VbCliPlanView *view, gboolean after)
{
    const VbPlan *plan = view->plan;
    guint n = 0;

    for (guint i = 0; plan->hotspots && i < plan->hotspots->len; i++) {
        const VbHotspot *h = g_ptr_array_index(plan->hotspots, i);

        n += (after ? h->after : h->before) > view->policy->high_water;
    }
    return n;
}

const char *
vb_cli_hotspot_outcome(const VbPolicy *policy, const VbHotspot *h)
{
    if (h->after <= policy->high_water)
        return "relieved";
    return h->before > policy->high_water ? "stays above" : "pushed above";
}

static void
print_hotspots(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const VbPlan *plan = view->plan;
    const double hw = view->policy->high_water;
    guint before = vb_cli_hotspot_count(view, FALSE), after = vb_cli_hotspot_count(view, TRUE);

    if (before + after == 0)
        return;
    fprintf(out, "\n%sHotspots%s (above high water %.0f%%: %u before, %u after the plan):\n",
            vb_cli_paint(color, VB_BOLD), vb_cli_paint(color, VB_RESET), hw * 100, before,
            after);
    for (guint i = 0; i < plan->hotspots->len; i++) {
        const VbHotspot *h = g_ptr_array_index(plan->hotspots, i);
        gboolean left = h->after > hw;

        gboolean why = left && h->reason;

        fprintf(out, "  %s %s %.0f%% -> %.0f%%: %s%s%s%s%s\n",
                vb_inventory_host(view->inv, h->host)->name, vb_metric_names[h->metric],
                h->before * 100, h->after * 100, vb_cli_paint(color && left, VB_RED),
                vb_cli_hotspot_outcome(view->policy, h),
                vb_cli_paint(color && left, VB_RESET), why ? ": " : "", why ? h->reason : "");
    }
}

void
vb_cli_print_objectives(FILE *out, const VbCliPlanView *view, gboolean color)
{
    print_violations(out, view, color);
    print_hotspots(out, view, color);
}
