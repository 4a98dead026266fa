/*
 * plan-file.c: approved plans, "recommend, then approve".
 *
 * `plan --output FILE` saves the plan as the documented plan JSON
 * (docs/plan-json.md) plus three members that let a later run re-check it:
 * "created_unix" and "created_at" (when it was made) and
 * "policy_fingerprint" (the SHA-256 of the policy in force, written back as
 * YAML with every default, so two files that say the same thing match).
 *
 * `rebalance --plan FILE` reads it back: a file that is not JSON, not a plan,
 * of another format_version, not saved by --output, older than the policy's
 * budget.max_plan_age, made under another policy, or naming a guest or host
 * the pool lacks is refused with the reason and nothing is done. What it
 * yields is the list of moves by name; bound to a fresh snapshot it becomes
 * a VbPlan whose moves are exactly the file's, in the file's order. The
 * executor re-checks each one against fresh state before starting it and
 * skips what no longer fits (VbExecOptions.no_replan: nothing is added).
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cli/cli.h"

/* One move of an approved plan, by name. */
struct _VbCliApprovedMove {
    char *vm, *from, *to;      /* names, as the file says */
    VbMoveKind kind;
    double estimated_seconds;
    char *reason;              /* the planner's reason, or NULL */
};

static void
approved_move_free(VbCliApprovedMove *m)
{
    if (!m)
        return;
    g_free(m->vm);
    g_free(m->from);
    g_free(m->to);
    g_free(m->reason);
    g_free(m);
}

void
vb_cli_approved_plan_free(VbCliApprovedPlan *ap)
{
    if (!ap)
        return;
    g_free(ap->path);
    if (ap->moves)
        g_ptr_array_unref(ap->moves);
    g_free(ap);
}

char *
vb_cli_policy_fingerprint(const VbPolicy *policy)
{
    g_autofree char *yaml = vb_policy_to_yaml(policy);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, yaml, -1);

    return g_strconcat("sha256:", sum, NULL);
}

gboolean
vb_cli_plan_file_write(const VbCliPlanView *view, gint64 created_unix, const char *path,
                       GError **error)
{
    VbCliPlanView saved = *view;
    g_autofree char *json = NULL;
    g_autoptr(GError) local = NULL;

    saved.created_unix = created_unix;
    json = vb_cli_render_plan_json(&saved);
    /* The plan names every host and guest: readable by its owner only. */
    if (!g_file_set_contents_full(path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  &local)) {
        g_set_error(error, VB_ERROR, VB_ERROR_IO, "cannot write the plan to %s: %s", path,
                    local->message);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------- reading */

/* The string member @name of @obj, or NULL when absent or not a string. */
static const char *
get_string(JsonObject *obj, const char *name)
{
    JsonNode *node = json_object_get_member(obj, name);

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(node);
}

/* The integer member @name of @obj in @ret; FALSE when absent or not one. */
static gboolean
get_int(JsonObject *obj, const char *name, gint64 *ret)
{
    JsonNode *node = json_object_get_member(obj, name);

    if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64)
        return FALSE;
    *ret = json_node_get_int(node);
    return TRUE;
}

static gboolean
kind_from_name(const char *name, VbMoveKind *ret)
{
    for (guint k = 0; name && vb_move_kind_names[k]; k++) {
        if (g_str_equal(name, vb_move_kind_names[k])) {
            *ret = (VbMoveKind) k;
            return TRUE;
        }
    }
    return FALSE;
}

/* Reads moves[@i]; FALSE with the reason. */
static VbCliApprovedMove *
read_move(const char *path, JsonArray *moves, guint i, GError **error)
{
    JsonNode *node = json_array_get_element(moves, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    VbCliApprovedMove *m;
    JsonNode *est;

    if (!obj || !get_string(obj, "vm") || !get_string(obj, "from") || !get_string(obj, "to")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s: move %u is not an object with \"vm\", \"from\" and \"to\" strings; "
                    "the file is not a plan saved by 'plan --output'", path, i + 1);
        return NULL;
    }
    m = g_new0(VbCliApprovedMove, 1);
    if (!kind_from_name(get_string(obj, "kind"), &m->kind)) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s: move %u has no known \"kind\" (live, live-storage or cold)", path,
                    i + 1);
        approved_move_free(m);
        return NULL;
    }
    m->vm = g_strdup(get_string(obj, "vm"));
    m->from = g_strdup(get_string(obj, "from"));
    m->to = g_strdup(get_string(obj, "to"));
    m->reason = g_strdup(get_string(obj, "reason"));
    est = json_object_get_member(obj, "estimated_seconds");
    if (est && JSON_NODE_HOLDS_VALUE(est))
        m->estimated_seconds = json_node_get_double(est);
    return m;
}

/* A plan made at @created is refused at @now when older than the policy's
 * budget.max_plan_age, or made in the future beyond a little clock skew. */
static gboolean
check_age(const char *path, gint64 created, const VbPolicy *policy, gint64 now, GError **error)
{
    g_autofree char *age = vb_cli_duration_text((double) ABS(now - created));
    g_autofree char *max = vb_cli_duration_text(policy->max_plan_age_seconds);

    if (created > now + 300) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: the plan was made %s in "
                    "the future (created_unix %" G_GINT64_FORMAT "); check the clocks",
                    path, age, created);
        return FALSE;
    }
    if (now - created > (gint64) policy->max_plan_age_seconds) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: the plan is %s old, "
                    "older than budget.max_plan_age (%s): the pool has moved on; make a "
                    "new one with 'plan --output FILE'", path, age, max);
        return FALSE;
    }
    return TRUE;
}

/* The checks of the document's head: a plan, this format, saved by
 * --output, made under @policy, young enough at @now. */
static gboolean
check_head(const char *path, JsonObject *root, const VbPolicy *policy, gint64 now,
           gint64 *ret_created, GError **error)
{
    const char *kind = get_string(root, "kind");
    const char *fingerprint = get_string(root, "policy_fingerprint");
    g_autofree char *ours = vb_cli_policy_fingerprint(policy);
    gint64 version = 0, created = 0;

    if (!get_int(root, "format_version", &version) || !kind ||
        !json_object_has_member(root, "moves")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: not a plan (no "
                    "\"format_version\", \"kind\" and \"moves\"); save one with 'plan --output "
                    "FILE'", path);
        return FALSE;
    }
    if (version != 1) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: plan format_version %"
                    G_GINT64_FORMAT ", this virt-balancer reads version 1 only; make the "
                    "plan again with this version", path, version);
        return FALSE;
    }
    if (!g_str_equal(kind, "rebalance")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: a plan of kind '%s'; "
                    "rebalance --plan executes rebalance plans (saved by 'plan --output'); "
                    "an evacuation runs with 'evacuate HOST'", path, kind);
        return FALSE;
    }
    if (!get_int(root, "created_unix", &created) || !fingerprint) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: no \"created_unix\" or "
                    "\"policy_fingerprint\": a plan printed by --format json cannot be "
                    "re-checked; save it with 'plan --output FILE'", path);
        return FALSE;
    }
    if (!check_age(path, created, policy, now, error))
        return FALSE;
    if (!g_str_equal(fingerprint, ours)) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: the plan was made under "
                    "another policy than %s (fingerprint %.19s..., now %.19s...); make the "
                    "plan again", path, policy->filename ? policy->filename
                                                         : "the built-in defaults",
                    fingerprint, ours);
        return FALSE;
    }
    *ret_created = created;
    return TRUE;
}

VbCliApprovedPlan *
vb_cli_approved_plan_load(const char *path, const VbPolicy *policy, gint64 now, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    VbCliApprovedPlan *ap;
    JsonNode *root;
    JsonNode *moves;
    gint64 created = 0;

    if (!json_parser_load_from_mapped_file(parser, path, &local)) {
        g_set_error(error, VB_ERROR, local->domain == G_FILE_ERROR ? VB_ERROR_IO
                                                                  : VB_ERROR_INVALID_INPUT,
                    "%s: not a readable JSON plan: %s", path, local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s: not a plan (not a JSON object)", path);
        return NULL;
    }
    if (!check_head(path, json_node_get_object(root), policy, now, &created, error))
        return NULL;
    moves = json_object_get_member(json_node_get_object(root), "moves");
    if (!JSON_NODE_HOLDS_ARRAY(moves)) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: \"moves\" is not an array",
                    path);
        return NULL;
    }
    ap = g_new0(VbCliApprovedPlan, 1);
    ap->path = g_strdup(path);
    ap->created_unix = created;
    ap->moves = g_ptr_array_new_with_free_func((GDestroyNotify) approved_move_free);
    for (guint i = 0; i < json_array_get_length(json_node_get_array(moves)); i++) {
        VbCliApprovedMove *m = read_move(path, json_node_get_array(moves), i, error);

        if (!m) {
            vb_cli_approved_plan_free(ap);
            return NULL;
        }
        g_ptr_array_add(ap->moves, m);
        if (!g_hash_table_add(seen, m->vm)) {
            g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                        "%s: guest '%s' moves twice (move %u); not a plan virt-balancer made",
                        path, m->vm, i + 1);
            vb_cli_approved_plan_free(ap);
            return NULL;
        }
    }
    return ap;
}

/* The host id of @name in @inv; FALSE with the error naming @what. */
static gboolean
bind_host(const VbCliApprovedPlan *ap, const VbInventory *inv, const char *name,
          const char *what, guint *ret, GError **error)
{
    const VbHost *h = vb_inventory_get_host(inv, name);

    if (!h) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: %s host '%s' is not in the "
                    "pool; nothing was done", ap->path, what, name);
        return FALSE;
    }
    *ret = h->id;
    return TRUE;
}

VbPlan *
vb_cli_approved_plan_bind(const VbCliApprovedPlan *ap, const VbInventory *inv,
                          const VbPolicy *policy, GError **error)
{
    g_autoptr(VbPlan) plan = g_new0(VbPlan, 1);
    g_autoptr(VbInventory) after = NULL;
    g_autofree char *when = NULL;
    g_autoptr(GDateTime) made = g_date_time_new_from_unix_utc(ap->created_unix);

    plan->kind = VB_PLAN_REBALANCE;
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    plan->unplaced = g_ptr_array_new_with_free_func((GDestroyNotify) vb_unplaced_free);
    plan->violations = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);
    plan->created = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);
    plan->hotspots = g_ptr_array_new_with_free_func((GDestroyNotify) vb_hotspot_free);
    for (guint i = 0; i < ap->moves->len; i++) {
        const VbCliApprovedMove *m = g_ptr_array_index(ap->moves, i);
        const VbVm *vm = vb_inventory_get_vm(inv, m->vm);
        VbMove mv = { .kind = m->kind, .estimated_seconds = m->estimated_seconds };

        if (!vm) {
            g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s: guest '%s' is not in "
                        "the pool; nothing was done", ap->path, m->vm);
            return NULL;
        }
        if (!bind_host(ap, inv, m->from, "source", &mv.from, error) ||
            !bind_host(ap, inv, m->to, "destination", &mv.to, error))
            return NULL;
        mv.vm = vm->id;
        mv.reason = g_strdup(m->reason ? m->reason : "approved plan");
        g_array_append_val(plan->moves, mv);
    }
    plan->n_hosts = inv->hosts->len;
    plan->before = vb_placement_host_loads(inv, policy);
    after = vb_placement_apply_plan(inv, policy, plan);
    plan->after = vb_placement_host_loads(after, policy);
    when = made ? g_date_time_format(made, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");
    plan->stop_reason = g_strdup_printf("approved plan %s made %s: run as reviewed, each move "
                                        "re-checked; none added", ap->path, when);
    return g_steal_pointer(&plan);
}
