/*
 * cmd-rebalance.c: the commands that act: `rebalance [--dry-run]` and
 * `evacuate HOST [--dry-run]`.
 *
 * --dry-run hands over to the planning commands (`plan`, `evacuate
 * --dry-run` in cmd-plan.c), which print the plan and execute nothing.
 * Otherwise: take the acting lock, finish a plan a crashed run left, take a
 * fresh averaged snapshot with the hosts in maintenance marked, plan, show
 * the plan, and run it through the executor with progress on stderr.
 *
 * SIGTERM/SIGINT (vb_cli_exec_catch_signals): no new migration starts, the
 * running ones get --drain-timeout seconds (then are aborted; a second
 * signal aborts them at once), and the report says the run was interrupted
 * and lists what still runs (exit 6). A signal before the plan runs stops
 * there: nothing is started.
 *
 * Evacuation records the host in maintenance BEFORE planning (so a crash
 * after that point leaves it in maintenance, never half-used), and the
 * planner never places guests there until `maintenance exit HOST`. Guests
 * that could not be moved are listed with, per host, what refused them.
 *
 * Partial views (cli/partial.c): hosts the snapshot could not read are
 * listed and the exit code is 5 when all else went well. A host that could
 * not be read is not evacuated (its guests' state is unknown) and nothing
 * is recorded, unless --force: then it is put in maintenance with a reason
 * saying so, and nothing is moved.
 */
#include "config.h"

#include <string.h>

#include "cli/exec-priv.h"

/* TRUE when --dry-run is among the arguments (before option parsing, to
 * hand the whole command line over to the planning command). */
static gboolean
has_dry_run(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            return TRUE;
        if (strcmp(argv[i], "--") == 0)
            break;
    }
    return FALSE;
}

/* TRUE when argv[*i] is one of the options only the acting commands know
 * (--drain-timeout S; the planning commands take --database too, for the
 * maintenance set); steps over its value. */
static gboolean
acting_only_option(int argc, char **argv, int *i)
{
    const char *const names[] = { "--drain-timeout" };

    for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
        gsize len = strlen(names[n]);

        if (strcmp(argv[*i], names[n]) == 0 && *i + 1 < argc) {
            (*i)++;
            return TRUE;
        }
        if (strncmp(argv[*i], names[n], len) == 0 && argv[*i][len] == '=')
            return TRUE;
    }
    return FALSE;
}

/* --format html shows a plan: the acting commands report in text or JSON. */
static int
refuse_html(const char *command)
{
    return vb_cli_usage_error("%s: --format html shows the plan only: add --dry-run, or use "
                              "text or json", command);
}

/* Hands a --dry-run command line over to a planning command, without the
 * options only the acting commands know (acting_only_option, and --dry-run
 * itself when @keep_dry_run is FALSE). */
static int
hand_over_dry_run(VbCliContext *ctx, int argc, char **argv, gboolean keep_dry_run,
        int (*planner)(VbCliContext *, int, char **))
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    for (int i = 0; i < argc; i++) {
        if (acting_only_option(argc, argv, &i))
            continue;
        if (!keep_dry_run && strcmp(argv[i], "--dry-run") == 0)
            continue;
        g_ptr_array_add(args, argv[i]);
    }
    g_ptr_array_add(args, NULL);
    return planner(ctx, (int) args->len - 1, (char **) args->pdata);
}

/* Shows what is about to run (text only: JSON output is the report). */
static void
show_plan(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan)
{
    const VbMigrationSettings *s = &ex->policy->migration;
    g_autoptr(VbCliTable) table = vb_cli_table_new(6);
    FILE *out = ex->ctx->out;

    if (ex->ctx->format != VB_CLI_FORMAT_TEXT)
        return;
    fprintf(out, "%s %s: %u moves; at most %u at once, %u per source, %u per destination, "
                 "%u disk copies per pool\n",
            plan->kind == VB_PLAN_EVACUATE ? "Evacuating" : "Rebalancing",
            plan->evacuated_host ? plan->evacuated_host : ex->ctx->source_name, plan->moves->len,
            plan->kind == VB_PLAN_EVACUATE ? MIN(s->max_total, s->evacuation_batch) : s->max_total,
            s->max_per_source, s->max_per_destination, s->max_storage_per_pool);
    if (plan->moves->len == 0)
        return;
    vb_cli_table_add(table, (const char *const[]){ "#", "GUEST", "FROM", "TO", "KIND",
                                                    "ESTIMATE" });
    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *m = &g_array_index(plan->moves, VbMove, i);
        g_autofree char *n = g_strdup_printf("%u", i + 1);
        g_autofree char *est = vb_cli_duration_text(m->estimated_seconds);

        vb_cli_table_add(table, (const char *const[]){ n, vb_inventory_vm(inv, m->vm)->name,
                                                        vb_inventory_host(inv, m->from)->name,
                                                        vb_inventory_host(inv, m->to)->name,
                                                        vb_move_kind_names[m->kind], est });
    }
    vb_cli_table_align_right(table, 0);
    vb_cli_table_align_right(table, 5);
    vb_cli_table_print(table, out, "  ");
}

/* JSON: the report of a run that moved nothing, so that scripts still get
 * a document (and its list of the hosts @inv could not read). */
static void
print_nothing(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan, const char *title)
{
    VbExecReport none = { .outcomes = g_ptr_array_new(), .stopped_clock = -1 };

    vb_cli_print_report_on(ex->ctx, &none, title, inv, ex->policy, plan);
    g_ptr_array_unref(none.outcomes);
}

/* Checks @plan with the independent checker, shows and runs it. */
static int
run_plan(VbCliExec *ex, const VbInventory *inv, const VbPlan *plan)
{
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = ex->ctx->now };
    gboolean text = ex->ctx->format == VB_CLI_FORMAT_TEXT;
    int rc;

    if (!vb_placement_check_plan(inv, ex->policy, plan, &opts, &error)) {
        fprintf(stderr, "virt-balancer: internal error: the planner proposed a plan that "
                        "breaks a hard constraint, nothing executed: %s\n", error->message);
        return VB_EXIT_FAILURE;
    }
    show_plan(ex, inv, plan);
    /* Rules that do not match the pool; JSON output is the report: stderr. */
    if (text) {
        vb_cli_print_rule_warnings(ex->ctx->out, inv, ex->policy, ex->ctx->color);
    } else {
        g_autoptr(GArray) warnings = vb_placement_rule_warnings(inv, ex->policy);

        vb_cli_report_rule_warnings(ex->policy, warnings, FALSE);
    }
    if (text) {
        VbCliPlanView view = { .inv = inv, .policy = ex->policy, .plan = plan };

        vb_cli_print_objectives(ex->ctx->out, &view, ex->ctx->color);
        if (plan->moves->len > 0)
            fprintf(ex->ctx->out, "Plan: %s\n", plan->stop_reason);
    }
    if (plan->moves->len == 0) {
        if (text && !plan->target_met) {
            /* Hotspots or broken rules remain that no move mends: say so. */
            fprintf(ex->ctx->out, "No move helps%s: %s\n",
                    vb_cli_unreachable_count(inv) ? " among the hosts that could be read" : "",
                    plan->stop_reason);
            vb_cli_print_unreachable(ex->ctx->out, inv, VB_CLI_LEFT_OUT, ex->ctx->color);
        } else if (text) {
            fprintf(ex->ctx->out, vb_cli_unreachable_count(inv) ? "Nothing to do among the "
                                  "hosts that could be read.\n" : "Nothing to do.\n");
            vb_cli_print_unreachable(ex->ctx->out, inv, VB_CLI_LEFT_OUT, ex->ctx->color);
        } else {
            print_nothing(ex, inv, plan,
                          plan->kind == VB_PLAN_EVACUATE ? "Evacuation" : "Rebalance");
        }
        return vb_cli_partial_exit_code(inv, plan->unplaced->len > 0 ? VB_EXIT_UNPLACEABLE
                                                                     : VB_EXIT_OK);
    }
    rc = vb_cli_exec_plan(ex, inv, plan);
    if (rc == VB_EXIT_OK && plan->unplaced->len > 0)
        rc = VB_EXIT_UNPLACEABLE;
    return rc;
}

/* Catches signals, opens, resumes, snapshots: the common start of both
 * commands. NULL with *ret_exit set on an error or a signal. */
static VbInventory *
begin(VbCliExec *ex, VbCliContext *ctx, const char *database, gint drain, int *ret_exit)
{
    g_autoptr(GError) error = NULL;
    VbInventory *inv = NULL;

    vb_cli_exec_catch_signals(drain);
    if (!vb_cli_exec_open(ex, ctx, database, FALSE, &error) || !vb_cli_exec_resume(ex, &error)) {
        *ret_exit = vb_cli_report_error(error);
        return NULL;
    }
    if (vb_cli_exec_stopping()) {
        vb_cli_note(VB_LOG_WARNING, "interrupted by SIGTERM/SIGINT before planning; "
                                    "nothing started");
        *ret_exit = VB_EXIT_INTERRUPTED;
        return NULL;
    }
    inv = vb_cli_exec_snapshot(ex, &error);
    if (!inv)
        *ret_exit = vb_cli_report_error(error);
    return inv;
}

/* `rebalance --plan FILE`: the approved plan @ap bound to the fresh @inv
 * and run as reviewed: shown, then executed with no re-planning (a move
 * that no longer fits is skipped with its reason; none is added). */
static int
run_approved(VbCliExec *ex, const VbInventory *inv, const VbCliApprovedPlan *ap)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPlan) plan = vb_cli_approved_plan_bind(ap, inv, ex->policy, &error);

    if (!plan)
        return vb_cli_report_error(error);
    ex->approved = TRUE;
    show_plan(ex, inv, plan);
    if (ex->ctx->format == VB_CLI_FORMAT_TEXT)
        fprintf(ex->ctx->out, "Plan: %s\n", plan->stop_reason);
    if (plan->moves->len == 0) {
        if (ex->ctx->format == VB_CLI_FORMAT_TEXT)
            fprintf(ex->ctx->out, "Nothing to do: the approved plan has no moves.\n");
        else
            print_nothing(ex, inv, plan, "Rebalance");
        return vb_cli_partial_exit_code(inv, VB_EXIT_OK);
    }
    return vb_cli_exec_plan(ex, inv, plan);
}

int
vb_cli_cmd_rebalance(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    g_autofree char *plan_file = NULL;
    g_autoptr(VbCliApprovedPlan) approved = NULL;
    gboolean dry_run = FALSE;
    gint max_moves = 0, drain = 600;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "print the plan; migrate nothing", NULL },
        { "plan", 0, 0, G_OPTION_ARG_FILENAME, &plan_file,
          "execute the plan saved by 'plan --output FILE', as reviewed", "FILE" },
        VB_CLI_OPTION_MAX_MOVES(max_moves),
        VB_CLI_OPTION_DATABASE(database),
        VB_CLI_OPTION_DRAIN_TIMEOUT(drain),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbInventory) inv = NULL;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = ctx->now };
    VbCliExec ex = { 0 };
    int rc = VB_EXIT_OK;

    if (has_dry_run(argc, argv))
        return hand_over_dry_run(ctx, argc, argv, FALSE, vb_cli_cmd_plan);
    ctx->html_ok = TRUE; /* for --help; refused below: the page is a plan's */
    if (!vb_cli_parse_options(ctx, &argc, &argv, "rebalance [--dry-run] [--max-moves N] [--plan FILE]",
                              "Plans moves toward the policy's goal and executes them: a "
                              "sliding window of\nlive migrations under the policy's caps, "
                              "longest first, each re-checked\nagainst fresh state before it "
                              "starts. --dry-run prints the plan only.\n"
                              "Hosts in maintenance receive nothing. Hosts that cannot be read "
                              "are listed\nand left out; the exit code is then 5.\n"
                              "--plan FILE executes the plan 'plan --output FILE' saved instead "
                              "of planning:\nevery move re-checked against fresh state, those "
                              "that no longer fit skipped\nwith the reason, none added; a plan "
                              "older than the policy's\nbudget.max_plan_age, made under another "
                              "policy, or naming guests or hosts\nthe pool lacks is refused and "
                              "nothing is done.\n"
                              "SIGTERM/SIGINT: nothing new starts, running migrations get "
                              "--drain-timeout\nseconds (0: no limit), a second signal aborts "
                              "them; exit code 6.",
                              entries, &rc))
        return rc;
    if (ctx->format == VB_CLI_FORMAT_HTML)
        return refuse_html("rebalance");
    if (plan_file && max_moves != 0)
        return vb_cli_usage_error("rebalance: --plan runs the plan as saved; --max-moves "
                                  "does not apply");
    if (argc > 1)
        return vb_cli_usage_error("rebalance: unexpected argument '%s'", argv[1]);
    if (max_moves < 0 || drain < 0)
        return vb_cli_usage_error("rebalance: --max-moves and --drain-timeout must be 0 or more");
    opts.max_moves = (guint) max_moves;
    if (plan_file) {
        /* Refused before anything is opened or locked: nothing is done. */
        const VbPolicy *policy = vb_cli_context_get_policy(ctx, &error);

        approved = policy ? vb_cli_approved_plan_load(plan_file, policy, ctx->now, &error) : NULL;
        if (!approved)
            return vb_cli_report_error(error);
    }
    inv = begin(&ex, ctx, database, drain, &rc);
    if (inv && approved) {
        rc = run_approved(&ex, inv, approved);
    } else if (inv) {
        plan = vb_placement_rebalance(inv, ex.policy, &opts, &error);
        rc = plan ? run_plan(&ex, inv, plan) : vb_cli_report_error(error);
    }
    vb_cli_exec_close(&ex);
    return rc;
}

/* `evacuate HOST` of a host the snapshot could not read: refused, nothing
 * changed; with @force, HOST is put in maintenance with a reason that says
 * so and nothing is moved (its guests cannot be reached). */
static int
evacuate_unread(VbCliExec *ex, const VbInventory *inv, const char *host, gboolean force)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = NULL;
    const VbHost *h = vb_inventory_get_host(inv, host);

    if (!force) {
        vb_cli_evacuate_refuse(h, FALSE, &error);
        return vb_cli_report_error(error);
    }
    reason = g_strdup_printf("evacuate --force while it could not be read (%s); its guests "
                             "were not moved", vb_cli_unreachable_reason(h));
    if (!vb_journal_maintenance_enter(ex->journal, host, reason, &error))
        return vb_cli_report_error(error);
    if (ex->ctx->format == VB_CLI_FORMAT_TEXT)
        fprintf(ex->ctx->out, "%s could not be read: put in maintenance as --force asked; "
                              "nothing was moved (its guests' state is unknown).\n"
                              "%s stays in maintenance until 'virt-balancer maintenance exit "
                              "%s'.\n", host, host, host);
    else
        print_nothing(ex, inv, NULL, "Evacuation");
    /* What was done is all --force asked for; but HOST was not read. */
    return VB_EXIT_PARTIAL;
}

/* `evacuate HOST` of a host the snapshot read: HOST in maintenance first,
 * then its plan run; guests left behind listed with what refused them. */
static int
evacuate_read(VbCliExec *ex, const VbInventory *inv, const char *host)
{
    VbCliContext *ctx = ex->ctx;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = ctx->now };
    int rc;

    if (vb_journal_maintenance_enter(ex->journal, host, "evacuated", &error))
        plan = vb_placement_evacuate(inv, ex->policy, host, &opts, &error);
    if (!plan)
        return vb_cli_report_error(error);
    rc = run_plan(ex, inv, plan);
    if (plan->unplaced->len > 0 && ctx->format == VB_CLI_FORMAT_TEXT) {
        VbCliPlanView view = { .inv = inv, .policy = ex->policy, .plan = plan,
                               .source_name = ctx->source_name };

        vb_cli_print_unplaced(ctx->out, &view, ctx->color);
    }
    if (ctx->format == VB_CLI_FORMAT_TEXT)
        fprintf(ctx->out, "%s stays in maintenance until 'virt-balancer maintenance exit %s'.\n",
                host, host);
    return rc;
}

int
vb_cli_cmd_evacuate_run(VbCliContext *ctx, int argc, char **argv)
{
    g_autofree char *database = NULL;
    g_autofree char *output = NULL;
    gboolean dry_run = FALSE, force = FALSE;
    gint drain = 600;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "print the plan; migrate nothing", NULL },
        { "output", 0, 0, G_OPTION_ARG_FILENAME, &output,
          "with --dry-run: also save the plan as JSON in FILE, for review", "FILE" },
        VB_CLI_OPTION_FORCE(force),
        VB_CLI_OPTION_DATABASE(database),
        VB_CLI_OPTION_DRAIN_TIMEOUT(drain),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(VbInventory) inv = NULL;
    VbCliExec ex = { 0 };
    int rc = VB_EXIT_OK;

    if (has_dry_run(argc, argv))
        return hand_over_dry_run(ctx, argc, argv, TRUE, vb_cli_cmd_evacuate);
    ctx->html_ok = TRUE; /* for --help; refused below: the page is a plan's */
    if (!vb_cli_parse_options(ctx, &argc, &argv, "evacuate HOST [--dry-run [--output FILE]] [--force]",
                              "Puts HOST in maintenance (recorded in the database: nothing is "
                              "placed there\nuntil 'maintenance exit HOST') and moves every "
                              "guest off it. Guests that\ncannot go anywhere are listed with "
                              "what refused them (exit code 4).\nA HOST that cannot be read "
                              "is refused and nothing changes (exit 1): its\nguests' state is "
                              "unknown; --force puts it in maintenance anyway and moves\n"
                              "nothing (exit 5). Other hosts that cannot be read are listed "
                              "(exit 5).\n"
                              "SIGTERM/SIGINT: nothing new starts, running migrations get "
                              "--drain-timeout\nseconds (0: no limit), a second signal aborts "
                              "them; exit code 6.",
                              entries, &rc))
        return rc;
    if (ctx->format == VB_CLI_FORMAT_HTML)
        return refuse_html("evacuate");
    if (output)
        return vb_cli_usage_error("evacuate: --output saves the plan of a dry run: add "
                                  "--dry-run");
    if (argc != 2)
        return vb_cli_usage_error("evacuate: %s; usage: evacuate HOST [--dry-run] [--force]",
                                  argc < 2 ? "no host given" : "too many arguments");
    if (drain < 0)
        return vb_cli_usage_error("evacuate: --drain-timeout must be 0 or more");
    inv = begin(&ex, ctx, database, drain, &rc);
    if (inv && !vb_inventory_get_host(inv, argv[1])) {
        rc = vb_cli_usage_error("evacuate: there is no host '%s' in %s", argv[1],
                                ctx->source_name);
    } else if (inv && ex.unread && g_strv_contains((const char *const *) ex.unread, argv[1])) {
        rc = evacuate_unread(&ex, inv, argv[1], force);
    } else if (inv) {
        rc = evacuate_read(&ex, inv, argv[1]);
    }
    vb_cli_exec_close(&ex);
    return rc;
}
