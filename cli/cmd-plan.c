/*
 * cmd-plan.c: `plan` (a dry-run rebalance) and `evacuate HOST --dry-run`.
 *
 * Both take the context's snapshot and policy, ask placement/ for a plan,
 * re-check the plan with the independent checker (a plan that breaks a hard
 * constraint is a bug: it is reported, never shown as a valid plan), and
 * render it as text, JSON or HTML. Nothing is executed: executing an evacuation
 * needs the executor (scheduler/), which adds its own path here.
 *
 * The snapshot shows the journal's maintenance set (--database, else the
 * config's database) with its reasons, so a dry run plans what the real run
 * would. Hosts that could not be read are listed, and the exit code is then
 * 5 (cli/partial.c). A dry-run evacuation of a host that could not be read
 * is refused, --force or not: its guests' state is unknown, so there is no
 * plan to show (the real `evacuate HOST --force` moves nothing either).
 */
#include "config.h"

#include "cli/cli.h"

/* Loads the policy then the snapshot (with the maintenance set applied
 * unless @raw); returns FALSE with the error printed and *ret_exit set. */
static gboolean
load_inputs(VbCliContext *ctx, gboolean raw, VbInventory **ret_inv, VbPolicy **ret_policy,
            int *ret_exit)
{
    g_autoptr(GError) error = NULL;
    VbPolicy *policy = vb_cli_context_get_policy(ctx, &error);
    VbInventory *inv = policy ? vb_cli_context_get_inventory(ctx, &error) : NULL;

    if (inv && !raw && !vb_cli_context_apply_journal(ctx, inv, NULL, &error))
        inv = NULL;
    if (!inv) {
        *ret_exit = vb_cli_report_error(error);
        return FALSE;
    }
    *ret_inv = inv;
    *ret_policy = policy;
    return TRUE;
}

/* Checks and prints @plan; returns the exit code. */
static int
show_plan(VbCliContext *ctx, const VbInventory *inv, const VbPolicy *policy,
          const VbPlan *plan, const VbPlanOptions *opts, gboolean all_hosts,
          const char *output)
{
    g_autoptr(GError) error = NULL;
    VbCliPlanView view = {
        .inv = inv, .policy = policy, .plan = plan, .source_name = ctx->source_name,
        .all_hosts = all_hosts,
    };

    if (!vb_placement_check_plan(inv, policy, plan, opts, &error)) {
        fprintf(stderr, "virt-balancer: internal error: the planner proposed a plan that "
                "breaks a hard constraint: %s\n", error->message);
        return VB_EXIT_FAILURE;
    }
    /* Saved before it is shown: a plan that cannot be saved is not shown
     * as if it could be approved. */
    if (output && !vb_cli_plan_file_write(&view, ctx->now, output, &error))
        return vb_cli_report_error(error);
    if (output && plan->kind == VB_PLAN_EVACUATE)
        fprintf(stderr, "virt-balancer: plan saved to %s, for review (an evacuation runs "
                        "with 'virt-balancer evacuate %s')\n", output, plan->evacuated_host);
    else if (output)
        fprintf(stderr, "virt-balancer: plan saved to %s; run it as reviewed with "
                        "'virt-balancer rebalance --plan %s'\n", output, output);
    if (ctx->format == VB_CLI_FORMAT_JSON) {
        g_autofree char *json = vb_cli_render_plan_json(&view);

        fputs(json, ctx->out);
    } else if (ctx->format == VB_CLI_FORMAT_HTML) {
        g_autofree char *html = vb_cli_render_plan_html(&view);

        fputs(html, ctx->out);
    } else {
        vb_cli_render_plan_text(ctx->out, &view, ctx->color);
    }
    return VB_EXIT_OK;
}

int
vb_cli_cmd_plan(VbCliContext *ctx, int argc, char **argv)
{
    gint max_moves = 0;
    gboolean all_hosts = FALSE;
    g_autofree char *output = NULL;
    const GOptionEntry entries[] = {
        VB_CLI_OPTION_MAX_MOVES(max_moves),
        VB_CLI_OPTION_ALL_HOSTS(all_hosts),
        VB_CLI_OPTION_DATABASE(ctx->database_path),
        { "output", 0, 0, G_OPTION_ARG_FILENAME, &output,
          "also save the plan as JSON in FILE, for 'rebalance --plan FILE'", "FILE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = ctx->now };
    VbInventory *inv;
    VbPolicy *policy;
    int rc;

    ctx->html_ok = TRUE;
    if (!vb_cli_parse_options(ctx, &argc, &argv, "plan [--max-moves N] [--all-hosts] [--output FILE]",
                              "Prints the moves that would bring each pool toward the "
                              "policy's goal, in\nthe order they would run, with hosts "
                              "before and after. Nothing is migrated.\nHosts in "
                              "maintenance (the journal's set) receive nothing. Hosts that\n"
                              "could not be read are listed and left out; the exit code is "
                              "then 5.\n--output FILE also saves it (JSON, with when it was made "
                              "and the policy's\nfingerprint); 'rebalance --plan FILE' executes "
                              "it as reviewed.",
                              entries, &rc))
        return rc;
    if (argc > 1)
        return vb_cli_usage_error("plan: unexpected argument '%s'", argv[1]);
    if (max_moves < 0)
        return vb_cli_usage_error("plan: --max-moves must be 0 or more, not %d", max_moves);
    opts.max_moves = (guint) max_moves;
    if (!load_inputs(ctx, FALSE, &inv, &policy, &rc))
        return rc;
    plan = vb_placement_rebalance(inv, policy, &opts, &error);
    if (!plan)
        return vb_cli_report_error(error);
    return vb_cli_partial_exit_code(inv, show_plan(ctx, inv, policy, plan, &opts, all_hosts,
                                                   output));
}

int
vb_cli_cmd_evacuate(VbCliContext *ctx, int argc, char **argv)
{
    gboolean dry_run = FALSE, all_hosts = FALSE, force = FALSE;
    g_autofree char *output = NULL;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
          "print the evacuation plan; migrate nothing", NULL },
        { "output", 0, 0, G_OPTION_ARG_FILENAME, &output,
          "also save the plan as JSON in FILE (for review; not executable)", "FILE" },
        VB_CLI_OPTION_ALL_HOSTS(all_hosts),
        VB_CLI_OPTION_FORCE(force),
        VB_CLI_OPTION_DATABASE(ctx->database_path),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) refusal = NULL;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = ctx->now };
    VbInventory *inv;
    VbPolicy *policy;
    int rc;

    ctx->html_ok = TRUE;
    if (!vb_cli_parse_options(ctx, &argc, &argv, "evacuate HOST --dry-run [--output FILE]",
                              "Plans a destination for every guest of HOST, biggest first, "
                              "as one plan.\nGuests that cannot go anywhere are listed with, "
                              "per host, what refused them;\nthe exit code is then 4. A HOST "
                              "that cannot be read is refused (exit 1)\nunless --force.",
                              entries, &rc))
        return rc;
    if (argc != 2)
        return vb_cli_usage_error("evacuate: %s; usage: evacuate HOST --dry-run",
                                  argc < 2 ? "no host given" : "too many arguments");
    if (!dry_run)
        return vb_cli_usage_error("evacuate: executing an evacuation needs the executor, "
                                  "which is not built yet; use --dry-run to see the plan");
    if (!load_inputs(ctx, TRUE, &inv, &policy, &rc))
        return rc;
    if (!vb_inventory_get_host(inv, argv[1]))
        return vb_cli_usage_error("evacuate: there is no host '%s' in %s", argv[1],
                                  ctx->source_name);
    if (vb_inventory_get_host(inv, argv[1])->state == VB_HOST_STATE_DOWN) {
        vb_cli_evacuate_refuse(vb_inventory_get_host(inv, argv[1]), TRUE, &refusal);
        return vb_cli_report_error(refusal);
    }
    if (!vb_cli_context_apply_journal(ctx, inv, NULL, &error))
        return vb_cli_report_error(error);
    plan = vb_placement_evacuate(inv, policy, argv[1], &opts, &error);
    if (!plan)
        return vb_cli_report_error(error);
    rc = show_plan(ctx, inv, policy, plan, &opts, all_hosts, output);
    if (rc == VB_EXIT_OK && plan->unplaced->len > 0)
        rc = VB_EXIT_UNPLACEABLE;
    return vb_cli_partial_exit_code(inv, rc);
}
