/*
 * cmd-maintenance.c: `maintenance list|enter HOST [--reason TEXT]|exit HOST
 * [--move-back]` (list: text, or JSON {"maintenance": [{host, since,
 * reason}]}, docs/plan-json.md) and `history [--limit N]` (text, or JSON: {"plans": [{id, kind,
 * evacuated_host, created, outcome, moves: [{vm, from, to, kind, state,
 * attempts, estimated_seconds, seconds, message}]}]}; or an HTML page,
 * cli/render-html.c), both on the journal database.
 *
 * Maintenance is a row per host in the journal, with when and why; every
 * command that reads the pool (plans, dry runs, place, status, inventory,
 * the acting commands) marks those hosts in its snapshot with that reason,
 * so planners never place guests there. `exit
 * --move-back` moves the guests evacuated from the host back to it (each move
 * re-checked like any other: a guest that no longer fits stays where it is;
 * as for the evacuation it undoes, the cooldown and the daily move cap do
 * not hold it back);
 * SIGTERM/SIGINT drain those moves as in `rebalance` (cmd-rebalance.c).
 */
#include "config.h"

#include <string.h>

#include "cli/exec-priv.h"

static void
maintenance_list_json(FILE *out, const GPtrArray *list)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "maintenance");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const VbMaintenance *m = g_ptr_array_index(list, i);
        g_autoptr(GDateTime) since = g_date_time_new_from_unix_utc(m->since_us / G_USEC_PER_SEC);
        g_autofree char *stamp = since ? g_date_time_format_iso8601(since) : NULL;

        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "host", m->host);
        vb_cli_json_add_string(b, "since", stamp);
        vb_cli_json_add_string(b, "reason", m->reason);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    text = vb_cli_json_finish(b);
    fputs(text, out);
}

static int
maintenance_list(VbJournal *journal, VbCliContext *ctx)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = vb_journal_maintenance_list(journal, &error);
    g_autoptr(VbCliTable) table = vb_cli_table_new(3);

    if (!list)
        return vb_cli_report_error(error);
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        maintenance_list_json(ctx->out, list);
        return VB_EXIT_OK;
    }
    if (list->len == 0) {
        fprintf(ctx->out, "No host is in maintenance.\n");
        return VB_EXIT_OK;
    }
    vb_cli_table_add(table, (const char *const[]){ "HOST", "SINCE", "REASON" });
    for (guint i = 0; i < list->len; i++) {
        const VbMaintenance *m = g_ptr_array_index(list, i);
        g_autoptr(GDateTime) since = g_date_time_new_from_unix_local(m->since_us / G_USEC_PER_SEC);
        g_autofree char *stamp = since ? g_date_time_format(since, "%Y-%m-%d %H:%M:%S") : NULL;

        vb_cli_table_add(table, (const char *const[]){ m->host, stamp ? stamp : "-",
                                                        m->reason ? m->reason : "" });
    }
    vb_cli_table_print(table, ctx->out, "");
    return VB_EXIT_OK;
}

/* The move back of @vm to @home, or FALSE when it is not where it went. */
static gboolean
move_back(const VbInventory *inv, const VbPolicy *policy, const char *vm_name,
          const char *went_to, const VbHost *home, VbMove *ret_move)
{
    const VbVm *vm = vb_inventory_get_vm(inv, vm_name);
    const VbHost *at = vm ? vb_inventory_host(inv, vm->host) : NULL;

    if (!vm || !g_str_equal(at->name, went_to))
        return FALSE;
    ret_move->vm = vm->id;
    ret_move->from = at->id;
    ret_move->to = home->id;
    ret_move->kind = vm->state == VB_VM_STATE_SHUTOFF  ? VB_MOVE_COLD
                     : vb_vm_local_disk_gib(vm) > 0 ? VB_MOVE_LIVE_STORAGE
                                                    : VB_MOVE_LIVE;
    ret_move->estimated_seconds =
        vb_placement_estimate_seconds(inv, policy, vm, at, home, ret_move->kind);
    ret_move->reason = g_strdup_printf("back to %s after its maintenance", home->name);
    return TRUE;
}

/* A plan of the moves back that pass the checker one by one. */
static VbPlan *
plan_move_back(VbCliExec *ex, const VbInventory *inv, const char *host, GError **error)
{
    g_autoptr(GPtrArray) to = NULL;
    g_autoptr(GPtrArray) vms = vb_journal_evacuated(ex->journal, host, &to, error);
    const VbHost *home = vb_inventory_get_host(inv, host);
    VbPlanOptions opts = { .now = ex->ctx->now };
    VbPlan *plan;

    if (!vms)
        return NULL;
    plan = g_new0(VbPlan, 1);
    plan->kind = VB_PLAN_REBALANCE;
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    plan->unplaced = g_ptr_array_new();
    plan->stop_reason = g_strdup("moving evacuated guests back");
    for (guint i = 0; home && i < vms->len; i++) {
        VbMove mv = { 0 };
        g_autoptr(GError) why = NULL;

        if (!move_back(inv, ex->policy, g_ptr_array_index(vms, i), g_ptr_array_index(to, i),
                       home, &mv))
            continue;
        g_array_append_val(plan->moves, mv);
        if (!vb_placement_check_plan(inv, ex->policy, plan, &opts, &why)) {
            vb_cli_note(VB_LOG_WARNING, "%s stays where it is: %s",
                        (const char *) g_ptr_array_index(vms, i), why->message);
            g_free(mv.reason);
            g_array_set_size(plan->moves, plan->moves->len - 1);
        }
    }
    return plan;
}

static int
maintenance_exit(VbCliContext *ctx, const char *host, const char *database, gboolean back,
                 gint drain)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPlan) plan = NULL;
    VbCliExec ex = { 0 };
    gboolean was = FALSE;
    int rc = VB_EXIT_OK;

    vb_cli_exec_catch_signals(drain); /* SIGTERM/SIGINT drain the moves back */
    if (!vb_cli_exec_open(&ex, ctx, database, TRUE, &error) ||
        !vb_journal_maintenance_exit(ex.journal, host, &was, &error)) {
        vb_cli_exec_close(&ex);
        return vb_cli_report_error(error);
    }
    fprintf(ctx->out, was ? "%s is out of maintenance.\n" : "%s was not in maintenance.\n", host);
    if (back) {
        /* The moves back undo the evacuation the admin asked for, often
         * minutes ago: like the evacuation, they are not held back by the
         * cooldown or the daily move cap, which every guest they return
         * would be within (the journal says so since both are read from
         * it). ex.policy is ctx->policy, restored below. */
        guint cooldown = ctx->policy->cooldown_seconds;
        guint cap = ctx->policy->max_moves_per_vm_per_day;

        g_assert(ex.policy == ctx->policy);
        ctx->policy->cooldown_seconds = 0;
        ctx->policy->max_moves_per_vm_per_day = 0;
        inv = vb_cli_exec_snapshot(&ex, &error);
        plan = inv ? plan_move_back(&ex, inv, host, &error) : NULL;
        if (!plan)
            rc = vb_cli_report_error(error);
        else if (plan->moves->len == 0)
            fprintf(ctx->out, "No evacuated guest to move back to %s.\n", host);
        else
            rc = vb_cli_exec_plan(&ex, inv, plan);
        if (rc == VB_EXIT_OK && !vb_journal_evacuated_clear(ex.journal, host, &error))
            rc = vb_cli_report_error(error);
        ctx->policy->cooldown_seconds = cooldown;
        ctx->policy->max_moves_per_vm_per_day = cap;
    }
    vb_cli_exec_close(&ex);
    return rc;
}

/* `maintenance enter HOST [--reason TEXT]` (@enter) or `exit HOST` without
 * --move-back: one row of the journal. */
static int
maintenance_set(VbJournal *journal, VbCliContext *ctx, gboolean enter, const char *host,
                const char *reason)
{
    g_autoptr(GError) error = NULL;
    gboolean was = FALSE;

    if (!enter) {
        if (!vb_journal_maintenance_exit(journal, host, &was, &error))
            return vb_cli_report_error(error);
        fprintf(ctx->out, was ? "%s is out of maintenance.\n" : "%s was not in maintenance.\n",
                host);
        return VB_EXIT_OK;
    }
    if (!reason)
        reason = "entered by hand";
    if (!vb_journal_maintenance_enter(journal, host, reason, &error))
        return vb_cli_report_error(error);
    fprintf(ctx->out, "%s is in maintenance (%s): no guest will be placed there.\n", host,
            reason);
    return VB_EXIT_OK;
}

int
vb_cli_cmd_maintenance(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    g_autofree char *reason = NULL;
    gboolean back = FALSE;
    gint drain = 600;
    const GOptionEntry entries[] = {
        { "move-back", 0, 0, G_OPTION_ARG_NONE, &back,
          "exit: move the guests evacuated from HOST back to it", NULL },
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason,
          "enter: why HOST is in maintenance (shown by every command; default "
          "\"entered by hand\")", "TEXT" },
        VB_CLI_OPTION_DATABASE(database),
        VB_CLI_OPTION_DRAIN_TIMEOUT(drain),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbStore) store = NULL;
    g_autoptr(VbJournal) journal = NULL;
    g_autoptr(GError) error = NULL;
    int rc = VB_EXIT_OK;

    if (!vb_cli_parse_options(ctx, &argc, &argv, "maintenance list | enter HOST [--reason TEXT] "
                              "| exit HOST [--move-back]",
                              "Hosts in maintenance receive no guests from any plan, dry run or "
                              "ranking;\nevery command shows them with the reason. 'evacuate "
                              "HOST' puts HOST in\nmaintenance; 'exit' ends it, and with "
                              "--move-back moves the guests that were\nevacuated from it back. "
                              "'list --format json' gives {\"maintenance\": [{host,\nsince, "
                              "reason}]}.",
                              entries, &rc))
        return rc;
    if (reason && !(argc == 3 && strcmp(argv[1], "enter") == 0))
        return vb_cli_usage_error("maintenance: --reason goes with 'enter HOST'");
    if (reason && !*g_strstrip(reason))
        return vb_cli_usage_error("maintenance: --reason needs a text");
    if (argc == 3 && strcmp(argv[1], "exit") == 0 && back)
        return drain < 0 ? vb_cli_usage_error("maintenance: --drain-timeout must be 0 or more")
                         : maintenance_exit(ctx, argv[2], database, back, drain);
    if (!(argc == 2 && strcmp(argv[1], "list") == 0) &&
        !(argc == 3 && (strcmp(argv[1], "enter") == 0 || strcmp(argv[1], "exit") == 0)))
        return vb_cli_usage_error("maintenance: usage: maintenance list | enter HOST "
                                  "[--reason TEXT] | exit HOST [--move-back]");
    journal = vb_cli_journal_open(ctx, database, &store, &error);
    if (!journal)
        return vb_cli_report_error(error);
    if (argc == 2)
        return maintenance_list(journal, ctx);
    return maintenance_set(journal, ctx, strcmp(argv[1], "enter") == 0, argv[2], reason);
}

/* ---------------------------------------------------------------- history */

static void
history_plan(FILE *out, const VbJournalPlan *p)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(p->created_us / G_USEC_PER_SEC);
    g_autofree char *stamp = g_date_time_format(when, "%Y-%m-%d %H:%M:%S");
    g_autoptr(VbCliTable) table = vb_cli_table_new(7);

    fprintf(out, "plan %" G_GINT64_FORMAT "  %s%s%s  %s  %s  (%u moves)\n", p->id,
            p->kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance",
            p->evacuated_host ? " " : "", p->evacuated_host ? p->evacuated_host : "", stamp,
            p->outcome ? p->outcome : "unfinished", p->moves->len);
    for (guint i = 0; i < p->moves->len; i++) {
        const VbJournalMove *m = g_ptr_array_index(p->moves, i);
        g_autofree char *tries = g_strdup_printf("%u", m->attempts);
        g_autofree char *took = m->started_clock >= 0 && m->ended_clock >= m->started_clock
                                    ? vb_cli_duration_text(m->ended_clock - m->started_clock)
                                    : g_strdup("-");

        vb_cli_table_add(table, (const char *const[]){ m->vm, m->from, m->to,
                                                        vb_move_kind_names[m->kind],
                                                        vb_move_state_names[m->state], tries,
                                                        took });
    }
    vb_cli_table_align_right(table, 5);
    vb_cli_table_print(table, out, "  ");
}

static void
history_json_move(JsonBuilder *b, const VbJournalMove *m)
{
    json_builder_begin_object(b);
    vb_cli_json_add_string(b, "vm", m->vm);
    vb_cli_json_add_string(b, "from", m->from);
    vb_cli_json_add_string(b, "to", m->to);
    vb_cli_json_add_string(b, "kind", vb_move_kind_names[m->kind]);
    vb_cli_json_add_string(b, "state", vb_move_state_names[m->state]);
    vb_cli_json_add_int(b, "attempts", m->attempts);
    json_builder_set_member_name(b, "estimated_seconds");
    json_builder_add_double_value(b, m->estimated_seconds);
    vb_cli_json_add_number(b, "seconds",
                           m->started_clock >= 0 && m->ended_clock >= m->started_clock,
                           m->ended_clock - m->started_clock);
    vb_cli_json_add_string(b, "message", m->message);
    json_builder_end_object(b);
}

/* {"plans": [{id, kind, evacuated_host, created, outcome, moves: [...]}]} */
static void
history_json(FILE *out, GPtrArray *plans)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "plans");
    json_builder_begin_array(b);
    for (guint i = 0; i < plans->len; i++) {
        const VbJournalPlan *p = g_ptr_array_index(plans, i);

        json_builder_begin_object(b);
        vb_cli_json_add_int(b, "id", p->id);
        vb_cli_json_add_string(b, "kind", p->kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance");
        vb_cli_json_add_string(b, "evacuated_host", p->evacuated_host);
        vb_cli_json_add_int(b, "created", p->created_us / G_USEC_PER_SEC);
        vb_cli_json_add_string(b, "outcome", p->outcome);
        json_builder_set_member_name(b, "moves");
        json_builder_begin_array(b);
        for (guint j = 0; j < p->moves->len; j++)
            history_json_move(b, g_ptr_array_index(p->moves, j));
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    text = vb_cli_json_finish(b);
    fputs(text, out);
}

int
vb_cli_cmd_history(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    gint limit = 10;
    const GOptionEntry entries[] = {
        { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "show the N most recent plans (default 10)",
          "N" },
        VB_CLI_OPTION_DATABASE(database),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbStore) store = NULL;
    g_autoptr(VbJournal) journal = NULL;
    g_autoptr(GPtrArray) plans = NULL;
    g_autoptr(GError) error = NULL;
    int rc = VB_EXIT_OK;

    ctx->html_ok = TRUE;
    if (!vb_cli_parse_options(ctx, &argc, &argv, "history [--limit N]",
                              "Recent plans and their migrations from the journal: outcome, "
                              "tries and duration.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("history: unexpected argument '%s'", argv[1]);
    if (limit <= 0)
        return vb_cli_usage_error("history: --limit must be 1 or more");
    journal = vb_cli_journal_open(ctx, database, &store, &error);
    plans = journal ? vb_journal_history(journal, (guint) limit, &error) : NULL;
    if (!plans)
        return vb_cli_report_error(error);
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        history_json(ctx->out, plans);
        return VB_EXIT_OK;
    }
    if (ctx->format == VB_CLI_FORMAT_HTML) {
        g_autofree char *html = vb_cli_render_history_html(plans);

        fputs(html, ctx->out);
        return VB_EXIT_OK;
    }
    if (plans->len == 0)
        fprintf(ctx->out, "No plan was executed yet.\n");
    for (guint i = 0; i < plans->len; i++)
        history_plan(ctx->out, g_ptr_array_index(plans, i));
    return VB_EXIT_OK;
}
