/*
 * render-text.c: plans as text for a person at a terminal.
 *
 * Layout, top to bottom: a header (what plan, from which snapshot, under
 * which policy, the imbalance before -> after, weighted and per metric), the
 * rules that do not match the pool (render-warnings.c), the hosts before
 * -> after, the moves in run order, the guests left unplaced
 * with per-host reasons (condensed: hosts refused for the same reason are
 * named together), the rules broken before the plan and the hotspots
 * before -> after (render-objectives.c), and why the planner stopped. Hosts that could not be
 * read are listed under the header and the last line says the plan is
 * partial (cli/partial.c).
 *
 * Every column is aligned (cli/table.c). Colour only when the caller says so
 * (stdout is a terminal and NO_COLOR is unset); without it the output is
 * plain ASCII but for the guest, host and reason texts from the inputs.
 * Loads are shown as whole percentages of capacity; imbalance as the
 * standard deviation of load fractions, three decimals.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cli/cli.h"

/* ------------------------------------------------------------ helpers */

const char *
vb_cli_paint(gboolean color, const char *code)
{
    return color ? code : "";
}

char *
vb_cli_duration_text(double seconds)
{
    long s = lround(seconds);

    if (s < 60)
        return g_strdup_printf("%lds", s);
    if (s < 3600)
        return g_strdup_printf("%ldm%02lds", s / 60, s % 60);
    return g_strdup_printf("%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

double
vb_cli_move_cost(const VbPolicy *policy, const VbMove *move)
{
    return policy->cost_per_minute > 0 ? policy->cost_per_minute * move->estimated_seconds / 60.0
                                       : 0.0;
}

gboolean
vb_cli_host_is_hotspot(const VbPolicy *policy, const VbHostLoad *load)
{
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        if (policy->weights[m] > 0 && load->load[m] > policy->high_water)
            return TRUE;
    }
    return load->weighted > policy->high_water;
}

char *
vb_cli_policy_text(const VbPolicy *policy)
{
    return g_strdup_printf("%s (goal %s, load %s, high water %.0f%%, target imbalance %.3f)",
                           policy->filename ? policy->filename : "built-in defaults",
                           vb_goal_names[policy->goal],
                           vb_load_source_names[policy->load_source],
                           policy->high_water * 100, policy->target_imbalance);
}

/* ------------------------------------------------------------- header */

static void
print_header(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const VbPlan *plan = view->plan;
    g_autofree char *policy = vb_cli_policy_text(view->policy);

    if (plan->kind == VB_PLAN_EVACUATE)
        fprintf(out, "%sEvacuation plan for host %s%s (dry run: nothing is migrated)\n",
                vb_cli_paint(color, VB_BOLD), plan->evacuated_host, vb_cli_paint(color, VB_RESET));
    else
        fprintf(out, "%sRebalance plan%s (dry run: nothing is migrated)\n",
                vb_cli_paint(color, VB_BOLD), vb_cli_paint(color, VB_RESET));
    fprintf(out, "Pool:      %s (%u pool%s, %u hosts, %u guests)\n", view->source_name,
            view->inv->pools->len, view->inv->pools->len == 1 ? "" : "s",
            view->inv->hosts->len, view->inv->vms->len);
    fprintf(out, "Policy:    %s\n", policy);
    fprintf(out, "Imbalance: %.3f -> %.3f  (", plan->imbalance_before, plan->imbalance_after);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        fprintf(out, "%s%s %.3f -> %.3f", m ? ", " : "", vb_metric_names[m],
                plan->metric_imbalance_before[m], plan->metric_imbalance_after[m]);
    fputs(")\n", out);
}

/* -------------------------------------------------------------- hosts */

static char *
change_text(double before, double after)
{
    return g_strdup_printf("%3.0f%% -> %3.0f%%", before * 100, after * 100);
}

/* What is remarkable about a host: state, hotspot, moves in and out. */
static char *
host_note(const VbCliPlanView *view, const VbHost *host, guint n_out, guint n_in,
          gboolean color)
{
    const VbPlan *plan = view->plan;
    gboolean hot_before = vb_cli_host_is_hotspot(view->policy, &plan->before[host->id]);
    gboolean hot_after = vb_cli_host_is_hotspot(view->policy, &plan->after[host->id]);
    GString *note = g_string_new(NULL);

    if (host->state != VB_HOST_STATE_UP)
        g_string_append_printf(note, "%s%s%s%s%s; ", vb_cli_paint(color, VB_YELLOW),
                               vb_host_state_to_string(host->state),
                               host->state_reason ? ": " : "",
                               host->state_reason ? host->state_reason : "",
                               vb_cli_paint(color, VB_RESET));
    if (hot_before || hot_after)
        g_string_append_printf(note, "%s%s%s; ", vb_cli_paint(color, VB_RED),
                               hot_before && hot_after ? "hotspot"
                               : hot_before ? "hotspot before" : "hotspot after",
                               vb_cli_paint(color, VB_RESET));
    if (n_out || n_in)
        g_string_append_printf(note, "%u out, %u in; ", n_out, n_in);
    if (note->len >= 2)
        g_string_truncate(note, note->len - 2);
    return g_string_free(note, FALSE);
}

static void
add_host_row(VbCliTable *table, const VbCliPlanView *view, const VbHost *host, guint n_out,
             guint n_in, gboolean color)
{
    const VbPlan *plan = view->plan;
    const VbHostLoad *b = &plan->before[host->id], *a = &plan->after[host->id];
    g_autofree char *cpu = change_text(b->load[VB_METRIC_CPU], a->load[VB_METRIC_CPU]);
    g_autofree char *mem = change_text(b->load[VB_METRIC_MEMORY], a->load[VB_METRIC_MEMORY]);
    g_autofree char *disk = change_text(b->load[VB_METRIC_DISK], a->load[VB_METRIC_DISK]);
    g_autofree char *weighted = change_text(b->weighted, a->weighted);
    g_autofree char *note = host_note(view, host, n_out, n_in, color);
    const char *row[] = {
        host->name, vb_inventory_pool(view->inv, host->pool)->name,
        vb_host_state_to_string(host->state), cpu, mem, disk, weighted, note,
    };

    vb_cli_table_add(table, row);
}

/* In a big pool only hosts worth a look are listed: moves in or out, a
 * hotspot before or after, not up. */
gboolean
vb_cli_host_is_remarkable(const VbCliPlanView *view, const VbHost *host, guint n_out, guint n_in)
{
    return n_out || n_in || host->state != VB_HOST_STATE_UP ||
           vb_cli_host_is_hotspot(view->policy, &view->plan->before[host->id]) ||
           vb_cli_host_is_hotspot(view->policy, &view->plan->after[host->id]);
}

static void
print_hosts(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const VbPlan *plan = view->plan;
    const VbInventory *inv = view->inv;
    guint n_hosts = MIN(plan->n_hosts, inv->hosts->len);
    gboolean all = view->all_hosts || n_hosts <= VB_CLI_HOSTS_SHOWN;
    g_autoptr(VbCliTable) table = vb_cli_table_new(8);
    g_autofree guint *n_out = g_new0(guint, inv->hosts->len);
    g_autofree guint *n_in = g_new0(guint, inv->hosts->len);
    const char *head[] = { "HOST", "POOL", "STATE", "CPU", "MEMORY", "DISK", "WEIGHTED", "NOTE" };
    guint hidden = 0;

    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *move = &g_array_index(plan->moves, VbMove, i);

        n_out[move->from]++;
        n_in[move->to]++;
    }
    vb_cli_table_add(table, head);
    for (guint h = 0; h < n_hosts; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (all || vb_cli_host_is_remarkable(view, host, n_out[h], n_in[h]))
            add_host_row(table, view, host, n_out[h], n_in[h], color);
        else
            hidden++;
    }
    fprintf(out, "\n%sHosts%s (load before -> after, %% of capacity):\n",
            vb_cli_paint(color, VB_BOLD), vb_cli_paint(color, VB_RESET));
    vb_cli_table_print(table, out, "  ");
    if (hidden)
        fprintf(out, "  ... and %u other host%s: no moves, no hotspot, up "
                "(--all-hosts lists every host)\n", hidden, hidden == 1 ? "" : "s");
}

/* -------------------------------------------------------------- moves */

/* One row of the moves table; the GAIN and COST cells only for rebalance
 * plans (COST: what the policy's cost_per_minute charges for the estimate,
 * in the units of GAIN, which the planner already weighed against it). */
static void
add_move_row(VbCliTable *table, const VbCliPlanView *view, guint i, gboolean gains)
{
    const VbMove *move = &g_array_index(view->plan->moves, VbMove, i);
    g_autofree char *n = g_strdup_printf("%u", i + 1);
    g_autofree char *est = vb_cli_duration_text(move->estimated_seconds);
    g_autofree char *gain = g_strdup_printf("%.3f", move->gain);
    g_autofree char *cost = g_strdup_printf("%.3f", vb_cli_move_cost(view->policy, move));
    const char *row[] = {
        n, vb_inventory_vm(view->inv, move->vm)->name,
        vb_inventory_host(view->inv, move->from)->name,
        vb_inventory_host(view->inv, move->to)->name,
        vb_move_kind_names[move->kind], est, gains ? gain : move->reason,
        gains ? cost : NULL, move->reason,
    };

    vb_cli_table_add(table, row);
}

static void
print_moves(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const VbPlan *plan = view->plan;
    gboolean gains = plan->kind == VB_PLAN_REBALANCE;
    g_autoptr(VbCliTable) table = vb_cli_table_new(gains ? 9 : 7);
    const char *head[] = { "#", "GUEST", "FROM", "TO", "KIND", "ESTIMATE",
                           gains ? "GAIN" : "REASON", gains ? "COST" : NULL, "REASON" };
    double total = 0;
    g_autofree char *total_text = NULL;

    if (plan->moves->len == 0) {
        fprintf(out, "\n%sMoves:%s none\n", vb_cli_paint(color, VB_BOLD),
                vb_cli_paint(color, VB_RESET));
        return;
    }
    vb_cli_table_add(table, head);
    vb_cli_table_align_right(table, 0);
    vb_cli_table_align_right(table, 5);
    if (gains) {
        vb_cli_table_align_right(table, 6);
        vb_cli_table_align_right(table, 7);
    }
    for (guint i = 0; i < plan->moves->len; i++) {
        add_move_row(table, view, i, gains);
        total += g_array_index(plan->moves, VbMove, i).estimated_seconds;
    }
    total_text = vb_cli_duration_text(total);
    fprintf(out, "\n%sMoves%s (%u, in run order; %s if run one at a time):\n",
            vb_cli_paint(color, VB_BOLD), vb_cli_paint(color, VB_RESET), plan->moves->len,
            total_text);
    vb_cli_table_print(table, out, "  ");
}

/* ---------------------------------------------------------- the whole */

void
vb_cli_render_plan_text(FILE *out, const VbCliPlanView *view, gboolean color)
{
    print_header(out, view, color);
    vb_cli_print_rule_warnings(out, view->inv, view->policy, color);
    vb_cli_print_unreachable(out, view->inv, VB_CLI_LEFT_OUT, color);
    print_hosts(out, view, color);
    print_moves(out, view, color);
    vb_cli_print_unplaced(out, view, color);
    vb_cli_print_objectives(out, view, color);
    fprintf(out, "\nStopped: %s\n", view->plan->stop_reason ? view->plan->stop_reason : "done");
    if (vb_cli_unreachable_count(view->inv) > 0)
        fprintf(out, "Partial: true only of the hosts that could be read (see \"Not read\" "
                     "above)\n");
}
