/*
 * render-json.c: plans and placements as JSON, the stable contract of
 * docs/plan-json.md. Any change here is a change of that contract: add
 * members freely, never rename or remove one without raising
 * "format_version".
 *
 * Numbers are rounded (loads and imbalance to 6 decimals, seconds to 0.1)
 * so that the output is stable across platforms and readable. Moves are in
 * run order, exactly as the plan holds them; names, not ids, everywhere.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cli/cli.h"

#define FORMAT_VERSION 1

double
vb_cli_json_round(double value, double scale)
{
    return isfinite(value) ? round(value * scale) / scale : 0.0;
}

void
vb_cli_json_add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
add_double(JsonBuilder *b, const char *name, double value, double scale)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, vb_cli_json_round(value, scale));
}

void
vb_cli_json_add_number(JsonBuilder *b, const char *name, gboolean known, double value)
{
    json_builder_set_member_name(b, name);
    if (known)
        json_builder_add_double_value(b, value);
    else
        json_builder_add_null_value(b);
}

void
vb_cli_json_add_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void
vb_cli_json_add_bool(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

void
vb_cli_json_add_policy(JsonBuilder *b, const VbPolicy *policy)
{
    json_builder_set_member_name(b, "policy");
    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "file", policy->filename);
    vb_cli_json_add_string(b, "goal", vb_goal_names[policy->goal]);
    vb_cli_json_add_string(b, "load_source", vb_load_source_names[policy->load_source]);
    json_builder_set_member_name(b, "weights");
    json_builder_begin_object(b);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        add_double(b, vb_metric_names[m], policy->weights[m], 1e6);
    json_builder_end_object(b);
    add_double(b, "high_water", policy->high_water, 1e6);
    add_double(b, "target_imbalance", policy->target_imbalance, 1e6);
    add_double(b, "cost_per_minute", policy->cost_per_minute, 1e6);
    json_builder_end_object(b);
}

/* The hosts are most of a large plan's document (10,000 hosts: 80,000
 * rounded loads), so they are written straight out (VbCliJsonOut), without a
 * JsonNode per value; the text is the same. */
static void
out_double(VbCliJsonOut *o, const char *name, double value, double scale)
{
    vb_cli_json_out_member(o, name);
    vb_cli_json_out_double(o, vb_cli_json_round(value, scale));
}

static void
out_string(VbCliJsonOut *o, const char *name, const char *value)
{
    vb_cli_json_out_member(o, name);
    vb_cli_json_out_string(o, value);
}

static void
out_load(VbCliJsonOut *o, const char *name, const VbHostLoad *load)
{
    vb_cli_json_out_member(o, name);
    vb_cli_json_out_begin_object(o);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        out_double(o, vb_metric_names[m], load->load[m], 1e6);
    out_double(o, "weighted", load->weighted, 1e6);
    vb_cli_json_out_end_object(o);
}

static void
add_imbalance(JsonBuilder *b, const VbPlan *plan)
{
    json_builder_set_member_name(b, "imbalance");
    json_builder_begin_object(b);
    add_double(b, "before", plan->imbalance_before, 1e6);
    add_double(b, "after", plan->imbalance_after, 1e6);
    json_builder_set_member_name(b, "per_metric");
    json_builder_begin_object(b);
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        json_builder_set_member_name(b, vb_metric_names[m]);
        json_builder_begin_object(b);
        add_double(b, "before", plan->metric_imbalance_before[m], 1e6);
        add_double(b, "after", plan->metric_imbalance_after[m], 1e6);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void
add_hosts(VbCliJsonOut *o, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;

    vb_cli_json_out_member(o, "hosts");
    vb_cli_json_out_begin_array(o);
    for (guint h = 0; h < plan->n_hosts && h < view->inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(view->inv, h);

        vb_cli_json_out_begin_object(o);
        out_string(o, "name", host->name);
        out_string(o, "pool", vb_inventory_pool(view->inv, host->pool)->name);
        out_string(o, "state", vb_host_state_to_string(host->state));
        out_string(o, "state_reason", host->state_reason);
        vb_cli_json_out_member(o, "hotspot_before");
        vb_cli_json_out_bool(o, vb_cli_host_is_hotspot(view->policy, &plan->before[h]));
        vb_cli_json_out_member(o, "hotspot_after");
        vb_cli_json_out_bool(o, vb_cli_host_is_hotspot(view->policy, &plan->after[h]));
        out_load(o, "before", &plan->before[h]);
        out_load(o, "after", &plan->after[h]);
        vb_cli_json_out_end_object(o);
    }
    vb_cli_json_out_end_array(o);
}

static void
add_moves(JsonBuilder *b, const VbCliPlanView *view, double *ret_total)
{
    const VbPlan *plan = view->plan;

    *ret_total = 0;
    json_builder_set_member_name(b, "moves");
    json_builder_begin_array(b);
    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *move = &g_array_index(plan->moves, VbMove, i);

        json_builder_begin_object(b);
        vb_cli_json_add_int(b, "order", i + 1);
        vb_cli_json_add_string(b, "vm", vb_inventory_vm(view->inv, move->vm)->name);
        vb_cli_json_add_string(b, "from", vb_inventory_host(view->inv, move->from)->name);
        vb_cli_json_add_string(b, "to", vb_inventory_host(view->inv, move->to)->name);
        vb_cli_json_add_string(b, "kind", vb_move_kind_names[move->kind]);
        add_double(b, "estimated_seconds", move->estimated_seconds, 10);
        add_double(b, "gain", move->gain, 1e6);
        add_double(b, "cost", vb_cli_move_cost(view->policy, move), 1e6);
        vb_cli_json_add_string(b, "reason", move->reason);
        json_builder_end_object(b);
        *ret_total += move->estimated_seconds;
    }
    json_builder_end_array(b);
}

static void
add_unplaced_one(JsonBuilder *b, const VbInventory *inv, const VbUnplaced *u)
{
    const VbVm *vm = vb_inventory_vm(inv, u->vm);

    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "vm", vm->name);
    vb_cli_json_add_string(b, "host", vb_inventory_host(inv, vm->host)->name);
    vb_cli_json_add_string(b, "reason", u->reason);
    vb_cli_json_add_reject_groups(b, "refused", inv, u->groups);
    json_builder_set_member_name(b, "reasons");
    json_builder_begin_array(b);
    for (guint i = 0; u->rejections && i < u->rejections->len; i++) {
        const VbRejection *r = &g_array_index(u->rejections, VbRejection, i);
        g_autofree char *text = vb_cli_rejection_text(inv, u->groups, r->host, r->group);

        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "host", vb_inventory_host(inv, r->host)->name);
        vb_cli_json_add_string(b, "code", vb_cli_reject_code_name(r->code));
        vb_cli_json_add_int(b, "group", r->group);
        vb_cli_json_add_string(b, "reason", text);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

void
vb_cli_json_add_reject_groups(JsonBuilder *b, const char *name, const VbInventory *inv,
                              const GArray *groups)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; groups && i < groups->len; i++) {
        const VbRejectGroup *g = &g_array_index(groups, VbRejectGroup, i);

        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "code", vb_cli_reject_code_name(g->code));
        vb_cli_json_add_string(b, "reason", g->reason);
        vb_cli_json_add_int(b, "count", g->count);
        json_builder_set_member_name(b, "examples");
        json_builder_begin_array(b);
        for (guint k = 0; k < MIN(g->count, (guint) VB_REJECT_EXAMPLES); k++)
            json_builder_add_string_value(b, vb_inventory_host(inv, g->examples[k])->name);
        json_builder_end_array(b);
        vb_cli_json_add_bool(b, "shared", g->shared);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* plan --output: what rebalance --plan re-checks (cli/plan-file.c). */
static void
add_created(JsonBuilder *b, const VbCliPlanView *view)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(view->created_unix);
    g_autofree char *iso = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
    g_autofree char *fingerprint = vb_cli_policy_fingerprint(view->policy);

    vb_cli_json_add_int(b, "created_unix", view->created_unix);
    vb_cli_json_add_string(b, "created_at", iso);
    vb_cli_json_add_string(b, "policy_fingerprint", fingerprint);
}

/* The members before "hosts" (built, then spliced). */
static void
add_head(JsonBuilder *b, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;

    json_builder_begin_object(b);
    vb_cli_json_add_int(b, "format_version", FORMAT_VERSION);
    vb_cli_json_add_string(b, "kind", plan->kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance");
    vb_cli_json_add_bool(b, "dry_run", TRUE);
    vb_cli_json_add_string(b, "evacuated_host", plan->evacuated_host);
    vb_cli_json_add_string(b, "source", view->source_name);
    if (view->created_unix > 0)
        add_created(b, view);
    vb_cli_json_add_policy(b, view->policy);
    vb_cli_json_add_rule_warnings(b, view->inv, view->policy);
    add_imbalance(b, plan);
    json_builder_end_object(b);
}

/* The members after "hosts" (built, then spliced). */
static void
add_tail(JsonBuilder *b, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;
    double total;

    json_builder_begin_object(b);
    vb_cli_json_add_unreachable(b, view->inv);
    add_moves(b, view, &total);
    json_builder_set_member_name(b, "unplaced");
    json_builder_begin_array(b);
    for (guint i = 0; plan->unplaced && i < plan->unplaced->len; i++)
        add_unplaced_one(b, view->inv, g_ptr_array_index(plan->unplaced, i));
    json_builder_end_array(b);
    vb_cli_json_add_string(b, "stop_reason", plan->stop_reason);
    vb_cli_json_add_objectives(b, view);
    json_builder_set_member_name(b, "summary");
    json_builder_begin_object(b);
    vb_cli_json_add_int(b, "moves", plan->moves->len);
    vb_cli_json_add_int(b, "unplaced", plan->unplaced ? plan->unplaced->len : 0);
    add_double(b, "estimated_seconds_total", total, 10);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

char *
vb_cli_render_plan_json(const VbCliPlanView *view)
{
    g_autoptr(JsonBuilder) head = json_builder_new();
    g_autoptr(JsonBuilder) tail = json_builder_new();
    VbCliJsonOut *o = vb_cli_json_out_new();

    add_head(head, view);
    add_tail(tail, view);
    vb_cli_json_out_begin_object(o);
    vb_cli_json_out_members(o, head);
    add_hosts(o, view);
    vb_cli_json_out_members(o, tail);
    vb_cli_json_out_end_object(o);
    return vb_cli_json_out_finish(o);
}

/* ---------------------------------------------------------------- place */

static void
add_spec(JsonBuilder *b, const VbVmSpec *spec)
{
    json_builder_set_member_name(b, "vm");
    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "name", spec->name);
    vb_cli_json_add_int(b, "vcpus", spec->vcpus);
    vb_cli_json_add_int(b, "memory_mib", (gint64) spec->memory_mib);
    add_double(b, "disk_gib", spec->disk_gib, 1e3);
    vb_cli_json_add_bool(b, "disk_shared", spec->disk_shared);
    vb_cli_json_add_string(b, "pool", spec->pool);
    json_builder_set_member_name(b, "labels");
    json_builder_begin_array(b);
    for (guint i = 0; spec->labels && spec->labels[i]; i++)
        json_builder_add_string_value(b, spec->labels[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

char *
vb_cli_render_place_json(const VbCliPlaceView *view)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    gboolean placeable = FALSE;

    json_builder_begin_object(b);
    vb_cli_json_add_int(b, "format_version", FORMAT_VERSION);
    vb_cli_json_add_string(b, "kind", "place");
    vb_cli_json_add_string(b, "source", view->source_name);
    vb_cli_json_add_policy(b, view->policy);
    add_spec(b, view->spec);
    json_builder_set_member_name(b, "hosts");
    json_builder_begin_array(b);
    for (guint i = 0; i < view->ranking->hosts->len; i++) {
        const VbPlacement *p = &g_array_index(view->ranking->hosts, VbPlacement, i);
        const VbHost *host = vb_inventory_host(view->inv, p->host);
        g_autofree char *reason =
            p->stars > 0 ? vb_placement_reason(p)
                         : vb_cli_rejection_text(view->inv, view->ranking->refused, p->host,
                                                 p->group);

        json_builder_begin_object(b);
        vb_cli_json_add_int(b, "rank", i + 1);
        vb_cli_json_add_string(b, "name", host->name);
        vb_cli_json_add_string(b, "pool", vb_inventory_pool(view->inv, host->pool)->name);
        vb_cli_json_add_bool(b, "feasible", p->stars > 0);
        add_double(b, "score", p->score, 100);
        vb_cli_json_add_int(b, "stars", p->stars);
        add_double(b, "load_after", p->load_after, 1e6);
        vb_cli_json_add_string(b, "code", p->stars > 0 ? NULL : vb_cli_reject_code_name(p->code));
        if (p->stars > 0)
            vb_cli_json_add_string(b, "group", NULL);
        else
            vb_cli_json_add_int(b, "group", p->group);
        vb_cli_json_add_string(b, "reason", reason);
        json_builder_end_object(b);
        placeable = placeable || p->stars > 0;
    }
    json_builder_end_array(b);
    vb_cli_json_add_reject_groups(b, "refused", view->inv, view->ranking->refused);
    vb_cli_json_add_bool(b, "placeable", placeable);
    json_builder_end_object(b);
    return vb_cli_json_finish(b);
}
