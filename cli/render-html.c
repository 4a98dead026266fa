/*
 * render-html.c: plans as one self-contained HTML page, for a person who
 * reviews a plan before approving it (DRS/WLB style): a picture first, the
 * tables under it.
 *
 * Layout, top to bottom: a heading saying what plan it is, a summary (pool,
 * policy, imbalance before -> after per metric, moves and their total
 * estimate, target met, why the planner stopped), the rules that do not
 * match the pool, the hosts that could not be read, one chart per host (a
 * before bar and an after bar per metric on one page-wide scale, the
 * policy's high-water line across them), the same figures as a table, the
 * moves in run order with reasons, estimates, gain and cost, the guests left
 * unplaced (the refusals grouped as in the text, and every host's refusal
 * under them), the rules broken before (and by) the
 * plan, and the hotspots before -> after. The page renders the same
 * VbCliPlanView as the text and JSON renderers, so the three never disagree.
 *
 * Invariants: the page loads nothing (no script, no link, no image, no
 * url() in the style: CSS and SVG are inline) and says so in its
 * Content-Security-Policy (no script runs, nothing is fetched, even if
 * something slipped through); every text that comes from the inputs
 * (names, reasons, file names) goes through vb_cli_html_append_text(),
 * which escapes markup and replaces control characters; ids in the page
 * are made of indices, never of names. Every chart is an <svg role="img"> labelled by
 * its own <title> and <desc>, which say the same figures as the bars.
 *
 * The frame (escaping, page, table heads) is shared with the history page
 * (render-history-html.c).
 *
 * Workload: one page per command run, or per daemon round; a big pool lists
 * only the hosts worth a look unless --all-hosts (as the text does), so
 * the page stays a few kilobytes per shown host.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cli/cli.h"

/* Chart geometry, in SVG user units. */
#define LABEL_W 64.0  /* metric names */
#define BAR_W 240.0   /* the whole scale */
#define VALUE_W 48.0  /* the figure after each bar */
#define BAR_H 11.0
#define ROW_H 30.0    /* one metric: its two bars and the gap under them */
#define TOP 6.0

/* ----------------------------------------------------------- escaping */

/* A reason from a driver can hold anything: none may reach the page as
 * markup or as a control character. */
void
vb_cli_html_append_text(GString *out, const char *text)
{
    g_autofree char *valid = text ? g_utf8_make_valid(text, -1) : NULL;

    for (const char *p = valid; p && *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        switch (c) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&#39;"); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7f && c < 0xa0))
                g_string_append(out, "\xef\xbf\xbd");
            else
                g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
    }
}

void
vb_cli_html_element(GString *out, const char *tag, const char *text)
{
    const char *space = strchr(tag, ' ');

    g_string_append_printf(out, "<%s>", tag);
    vb_cli_html_append_text(out, text);
    g_string_append_printf(out, "</%.*s>", space ? (int) (space - tag) : (int) strlen(tag), tag);
}

void
vb_cli_html_head(GString *out, const char *const *names, guint n)
{
    g_string_append(out, "<thead><tr>");
    for (guint i = 0; i < n; i++)
        if (names[i])
            vb_cli_html_element(out, "th scope=\"col\"", names[i]);
    g_string_append(out, "</tr></thead>\n");
}

static void
append_percent_cell(GString *out, double fraction)
{
    g_string_append_printf(out, "<td class=\"num\">%.0f%%</td>", fraction * 100);
}

/* ---------------------------------------------------------- the frame */

static const char page_style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:78rem;"
    "padding:0 1rem;color:#1b1b1b;background:#fff}\n"
    "h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;"
    "border-bottom:1px solid #ccc}h3{font-size:1rem;margin:1rem 0 .3rem}\n"
    "table{border-collapse:collapse;margin:.4rem 0}th,td{padding:.2rem .6rem;"
    "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\n"
    "thead th{background:#f1f1f1}tbody th{white-space:nowrap}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}"
    "dl.summary dt{font-weight:600}dl.summary dd{margin:0}\n"
    ".hosts{display:flex;flex-wrap:wrap;gap:.8rem}figure.host{margin:0;padding:.5rem;"
    "border:1px solid #ccc;border-radius:4px}figure.host figcaption{font-weight:600}\n"
    ".note{font-weight:400;color:#444}.bad{color:#a40000}.warn{color:#7a4d00}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#1b1b1b}\n"
    ".bar.before{fill:#9aa8b8}.bar.after{fill:#2d6cb5}.bar.hot{fill:#c62828}\n"
    ".hw{stroke:#a40000;stroke-width:1.5;stroke-dasharray:4 3}\n"
    ".key{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin:0 .3em}\n"
    ".key.before{background:#9aa8b8}.key.after{background:#2d6cb5}.key.hot{background:#c62828}"
    ".key.hw{background:none;border-left:2px dashed #a40000;width:0}\n"
    ".st-finished{fill:#2e7d32;background:#2e7d32}.st-failed{fill:#c62828;background:#c62828}"
    ".st-aborted{fill:#8e24aa;background:#8e24aa}.st-skipped{fill:#9e9e9e;background:#9e9e9e}"
    ".st-started{fill:#2d6cb5;background:#2d6cb5}.st-queued{fill:#cfd8dc;background:#cfd8dc}\n"
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap}\n"
    "@media print{details{display:block}}\n";

void
vb_cli_html_page_begin(GString *out, const char *title)
{
    g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                         "<meta http-equiv=\"Content-Security-Policy\" content=\""
                         "default-src 'none'; style-src 'unsafe-inline'\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, "
                         "initial-scale=1\">\n<title>");
    vb_cli_html_append_text(out, title);
    g_string_append(out, " - virt-balancer</title>\n<style>\n");
    g_string_append(out, page_style);
    g_string_append(out, "</style>\n</head>\n<body>\n");
}

void
vb_cli_html_page_end(GString *out)
{
    g_string_append(out, "</body>\n</html>\n");
}

/* ------------------------------------------------------------ summary */

static char *
plan_title(const VbPlan *plan)
{
    return plan->kind == VB_PLAN_EVACUATE
               ? g_strdup_printf("Evacuation plan for host %s", plan->evacuated_host)
               : g_strdup("Rebalance plan");
}

static void
append_imbalance(GString *out, const VbPlan *plan)
{
    const char *head[] = { "Imbalance", "Before", "After" };

    g_string_append(out, "<table class=\"imbalance\">\n");
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append_printf(out, "<tbody>\n<tr><th scope=\"row\">weighted</th>"
                           "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td></tr>\n",
                           plan->imbalance_before, plan->imbalance_after);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        g_string_append_printf(out, "<tr><th scope=\"row\">%s</th><td class=\"num\">%.3f</td>"
                               "<td class=\"num\">%.3f</td></tr>\n", vb_metric_names[m],
                               plan->metric_imbalance_before[m], plan->metric_imbalance_after[m]);
    g_string_append(out, "</tbody></table>\n");
}

static void
append_summary(GString *out, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;
    g_autofree char *policy = vb_cli_policy_text(view->policy);
    double total = 0;
    g_autofree char *total_text = NULL;

    for (guint i = 0; i < plan->moves->len; i++)
        total += g_array_index(plan->moves, VbMove, i).estimated_seconds;
    total_text = vb_cli_duration_text(total);
    g_string_append(out, "<p class=\"plan-note\">");
    vb_cli_html_append_text(out, view->html_note ? view->html_note
                                                 : "Dry run: nothing is migrated.");
    g_string_append(out, "</p>\n<dl class=\"summary\">\n<dt>Pool</dt><dd>");
    vb_cli_html_append_text(out, view->source_name);
    g_string_append_printf(out, " (%u pool%s, %u hosts, %u guests)</dd>\n<dt>Policy</dt><dd>",
                           view->inv->pools->len, view->inv->pools->len == 1 ? "" : "s",
                           view->inv->hosts->len, view->inv->vms->len);
    vb_cli_html_append_text(out, policy);
    g_string_append_printf(out, "</dd>\n<dt>Moves</dt><dd>%u (%s if run one at a time)</dd>\n"
                           "<dt>Unplaced guests</dt><dd>%u</dd>\n<dt>Target met</dt><dd>%s</dd>\n"
                           "<dt>Stopped</dt><dd>", plan->moves->len, total_text,
                           plan->unplaced ? plan->unplaced->len : 0,
                           plan->target_met ? "yes" : "no");
    vb_cli_html_append_text(out, plan->stop_reason ? plan->stop_reason : "done");
    g_string_append(out, "</dd>\n</dl>\n");
    append_imbalance(out, plan);
}

static void
append_warnings(GString *out, const VbCliPlanView *view)
{
    g_autoptr(GArray) warnings = vb_placement_rule_warnings(view->inv, view->policy);

    if (warnings->len == 0)
        return;
    g_string_append_printf(out, "<section id=\"warnings\" aria-labelledby=\"warnings-h\">\n"
                           "<h2 id=\"warnings-h\" class=\"warn\">Warnings (%u; rules that do not "
                           "match the pool)</h2>\n<ul>\n", warnings->len);
    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *line = vb_cli_rule_warning_line(
            view->policy, &g_array_index(warnings, VbRuleWarning, i), NULL);

        vb_cli_html_element(out, "li class=\"warning\"", line);
        g_string_append_c(out, '\n');
    }
    g_string_append(out, "</ul>\n</section>\n");
}

static void
append_unreachable(GString *out, const VbInventory *inv)
{
    const char *head[] = { "Host", "Pool", "Why" };
    guint n = vb_cli_unreachable_count(inv);

    if (n == 0)
        return;
    g_string_append_printf(out, "<section id=\"unreachable\" aria-labelledby=\"unreachable-h\">\n"
                           "<h2 id=\"unreachable-h\" class=\"warn\">Not read: %u of %u "
                           "host%s</h2>\n"
                           "<p>These hosts could not be read; %s. The plan is true only of the "
                           "hosts that could be read.</p>\n<table>\n", n, inv->hosts->len,
                           inv->hosts->len == 1 ? "" : "s", VB_CLI_LEFT_OUT);
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (host->state != VB_HOST_STATE_DOWN)
            continue;
        g_string_append(out, "<tr class=\"unreachable\">");
        vb_cli_html_element(out, "th scope=\"row\"", host->name);
        vb_cli_html_element(out, "td", vb_inventory_pool(inv, host->pool)->name);
        vb_cli_html_element(out, "td", vb_cli_unreachable_reason(host));
        g_string_append(out, "</tr>\n");
    }
    g_string_append(out, "</tbody></table>\n</section>\n");
}

/* ------------------------------------------------------------- charts */

/* The moves out of and into each host (arrays of inv->hosts->len, transfer full). */
static void
count_moves(const VbCliPlanView *view, guint **ret_out, guint **ret_in)
{
    guint *n_out = g_new0(guint, view->inv->hosts->len);
    guint *n_in = g_new0(guint, view->inv->hosts->len);

    for (guint i = 0; i < view->plan->moves->len; i++) {
        const VbMove *move = &g_array_index(view->plan->moves, VbMove, i);

        n_out[move->from]++;
        n_in[move->to]++;
    }
    *ret_out = n_out;
    *ret_in = n_in;
}

/* What the bars' full width stands for: 100%, or more when a load exceeds
 * it (overcommitted memory), so that every bar of the page has one scale. */
static double
chart_scale(const VbCliPlanView *view, guint n_hosts)
{
    double scale = MAX(1.0, view->policy->high_water);

    for (guint h = 0; h < n_hosts; h++)
        for (guint m = 0; m < VB_METRIC_LAST; m++)
            scale = MAX(scale, MAX(view->plan->before[h].load[m], view->plan->after[h].load[m]));
    return ceil(scale * 10) / 10;
}

/* "pool a, up; evacuated; hotspot before; 2 out, 1 in" (transfer full). */
static char *
host_note(const VbCliPlanView *view, const VbHost *host, guint n_out, guint n_in)
{
    gboolean hot_before = vb_cli_host_is_hotspot(view->policy, &view->plan->before[host->id]);
    gboolean hot_after = vb_cli_host_is_hotspot(view->policy, &view->plan->after[host->id]);
    GString *note = g_string_new(vb_inventory_pool(view->inv, host->pool)->name);

    g_string_append_printf(note, ", %s", vb_host_state_to_string(host->state));
    if (view->plan->kind == VB_PLAN_EVACUATE &&
        g_strcmp0(view->plan->evacuated_host, host->name) == 0)
        g_string_append(note, "; evacuated");
    if (host->state != VB_HOST_STATE_UP && host->state_reason)
        g_string_append_printf(note, ": %s", host->state_reason);
    if (hot_before || hot_after)
        g_string_append_printf(note, "; %s", hot_before && hot_after ? "hotspot"
                                             : hot_before ? "hotspot before" : "hotspot after");
    if (n_out || n_in)
        g_string_append_printf(note, "; %u out, %u in", n_out, n_in);
    return g_string_free(note, FALSE);
}

/* The chart's <desc>: every figure the bars show, in words (transfer full). */
static char *
chart_desc(const VbCliPlanView *view, const VbHost *host, const char *note)
{
    const VbHostLoad *b = &view->plan->before[host->id], *a = &view->plan->after[host->id];
    GString *desc = g_string_new(NULL);

    for (guint m = 0; m < VB_METRIC_LAST; m++)
        g_string_append_printf(desc, "%s %.0f%% before, %.0f%% after; ", vb_metric_names[m],
                               b->load[m] * 100, a->load[m] * 100);
    g_string_append_printf(desc, "weighted %.0f%% before, %.0f%% after. High water %.0f%%. %s.",
                           b->weighted * 100, a->weighted * 100,
                           view->policy->high_water * 100, note);
    return g_string_free(desc, FALSE);
}

/* One bar: a rect of width proportional to @load, its figure after it.
 * data-load is rounded as the JSON rounds loads (half away from zero; a
 * bare "%.6f" rounds 0.4765625 to even, one millionth from the JSON). */
static void
append_bar(GString *out, const VbCliPlanView *view, guint m, double load, double scale,
           double y, const char *which)
{
    gboolean hot = view->policy->weights[m] > 0 && load > view->policy->high_water;
    double w = BAR_W * MAX(load, 0.0) / scale;
    double rounded = vb_cli_json_round(load, 1e6);

    g_string_append_printf(out, "<rect class=\"bar %s%s\" data-load=\"%.6f\" x=\"%.0f\" "
                           "y=\"%.1f\" width=\"%.2f\" height=\"%.0f\"/>"
                           "<text x=\"%.2f\" y=\"%.1f\">%.0f%%</text>\n",
                           which, hot ? " hot" : "", rounded, LABEL_W, y, w, BAR_H,
                           LABEL_W + w + 4, y + BAR_H - 2, load * 100);
}

static void
append_chart(GString *out, const VbCliPlanView *view, const VbHost *host, double scale,
             guint n_out, guint n_in)
{
    const VbPlan *plan = view->plan;
    g_autofree char *note = host_note(view, host, n_out, n_in);
    g_autofree char *desc = chart_desc(view, host, note);
    double height = TOP * 2 + ROW_H * VB_METRIC_LAST;
    double width = LABEL_W + BAR_W + VALUE_W;
    double hw_x = LABEL_W + BAR_W * view->policy->high_water / scale;
    guint id = host->id;

    g_string_append_printf(out, "<figure class=\"host\" id=\"host-%u\" data-host=\"", id);
    vb_cli_html_append_text(out, host->name);
    g_string_append(out, "\">\n<figcaption>");
    vb_cli_html_append_text(out, host->name);
    g_string_append(out, " <span class=\"note\">");
    vb_cli_html_append_text(out, note);
    g_string_append_printf(out, "</span></figcaption>\n<svg role=\"img\" "
                           "aria-labelledby=\"host-%u-t host-%u-d\" width=\"%.0f\" "
                           "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" data-scale=\"%.2f\">\n"
                           "<title id=\"host-%u-t\">", id, id, width, height, width, height,
                           scale, id);
    vb_cli_html_append_text(out, host->name);
    g_string_append_printf(out, ": load before and after the plan</title>\n<desc id=\"host-%u-d\">",
                           id);
    vb_cli_html_append_text(out, desc);
    g_string_append(out, "</desc>\n");
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        double y = TOP + m * ROW_H;

        g_string_append_printf(out, "<g class=\"metric\" data-metric=\"%s\">"
                               "<text x=\"0\" y=\"%.1f\">%s</text>\n", vb_metric_names[m],
                               y + BAR_H + 3, vb_metric_names[m]);
        append_bar(out, view, m, plan->before[id].load[m], scale, y, "before");
        append_bar(out, view, m, plan->after[id].load[m], scale, y + BAR_H + 1, "after");
        g_string_append(out, "</g>\n");
    }
    g_string_append_printf(out, "<line class=\"hw\" data-high-water=\"%.6f\" x1=\"%.2f\" "
                           "y1=\"2\" x2=\"%.2f\" y2=\"%.0f\"/>\n</svg>\n</figure>\n",
                           view->policy->high_water, hw_x, hw_x, height - 2);
}

/* The hosts' figures as a table, for those who cannot see the charts or
 * want to copy the numbers. */
static void
append_host_table(GString *out, const VbCliPlanView *view, const gboolean *shown,
                  guint n_hosts)
{
    const char *head[] = { "Host", "Pool", "State", "CPU before", "CPU after", "Memory before",
                           "Memory after", "Disk before", "Disk after", "Weighted before",
                           "Weighted after" };

    G_STATIC_ASSERT(VB_METRIC_LAST == 3);
    g_string_append(out, "<details>\n<summary>The same figures as a table</summary>\n"
                         "<table class=\"host-figures\">\n<caption>Load of each host before "
                         "and after the plan, % of capacity</caption>\n");
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint h = 0; h < n_hosts; h++) {
        const VbHost *host = vb_inventory_host(view->inv, h);
        const VbHostLoad *b = &view->plan->before[h], *a = &view->plan->after[h];

        if (!shown[h])
            continue;
        g_string_append(out, "<tr>");
        vb_cli_html_element(out, "th scope=\"row\"", host->name);
        vb_cli_html_element(out, "td", vb_inventory_pool(view->inv, host->pool)->name);
        vb_cli_html_element(out, "td", vb_host_state_to_string(host->state));
        for (guint m = 0; m < VB_METRIC_LAST; m++) {
            append_percent_cell(out, b->load[m]);
            append_percent_cell(out, a->load[m]);
        }
        append_percent_cell(out, b->weighted);
        append_percent_cell(out, a->weighted);
        g_string_append(out, "</tr>\n");
    }
    g_string_append(out, "</tbody></table>\n</details>\n");
}

static void
append_hosts(GString *out, const VbCliPlanView *view)
{
    guint n_hosts = MIN(view->plan->n_hosts, view->inv->hosts->len);
    gboolean all = view->all_hosts || n_hosts <= VB_CLI_HOSTS_SHOWN;
    g_autofree guint *n_out = NULL;
    g_autofree guint *n_in = NULL;
    g_autofree gboolean *shown = g_new0(gboolean, MAX(n_hosts, 1));
    double scale = chart_scale(view, n_hosts);
    guint hidden = 0;

    count_moves(view, &n_out, &n_in);
    g_string_append_printf(out, "<section id=\"hosts\" aria-labelledby=\"hosts-h\">\n"
                           "<h2 id=\"hosts-h\">Hosts: load before and after the plan</h2>\n"
                           "<p><span class=\"key before\"></span>before <span class=\"key "
                           "after\"></span>after <span class=\"key hot\"></span>above high "
                           "water (a counted metric) <span class=\"key hw\"></span>high water "
                           "%.0f%%; bars in %% of capacity, full width %.0f%%.</p>\n"
                           "<div class=\"hosts\">\n", view->policy->high_water * 100,
                           scale * 100);
    for (guint h = 0; h < n_hosts; h++) {
        const VbHost *host = vb_inventory_host(view->inv, h);

        shown[h] = all || vb_cli_host_is_remarkable(view, host, n_out[h], n_in[h]);
        if (shown[h])
            append_chart(out, view, host, scale, n_out[h], n_in[h]);
        else
            hidden++;
    }
    g_string_append(out, "</div>\n");
    if (hidden)
        g_string_append_printf(out, "<p class=\"hidden-hosts\">... and %u other host%s: no "
                               "moves, no hotspot, up (--all-hosts shows every host).</p>\n",
                               hidden, hidden == 1 ? "" : "s");
    append_host_table(out, view, shown, n_hosts);
    g_string_append(out, "</section>\n");
}

/* -------------------------------------------------------------- moves */

static void
append_move_row(GString *out, const VbCliPlanView *view, guint i, gboolean gains)
{
    const VbMove *move = &g_array_index(view->plan->moves, VbMove, i);
    g_autofree char *est = vb_cli_duration_text(move->estimated_seconds);

    g_string_append_printf(out, "<tr class=\"move\"><td class=\"num\">%u</td>", i + 1);
    vb_cli_html_element(out, "th scope=\"row\"", vb_inventory_vm(view->inv, move->vm)->name);
    vb_cli_html_element(out, "td", vb_inventory_host(view->inv, move->from)->name);
    vb_cli_html_element(out, "td", vb_inventory_host(view->inv, move->to)->name);
    vb_cli_html_element(out, "td", vb_move_kind_names[move->kind]);
    g_string_append_printf(out, "<td class=\"num\">%s</td>", est);
    if (gains)
        g_string_append_printf(out, "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>",
                               move->gain, vb_cli_move_cost(view->policy, move));
    vb_cli_html_element(out, "td", move->reason);
    g_string_append(out, "</tr>\n");
}

/* Gain and cost only for rebalances, as in the text: an evacuation moves
 * every guest whatever its gain. */
static void
append_moves(GString *out, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;
    gboolean gains = plan->kind == VB_PLAN_REBALANCE;
    const char *head[] = { "#", "Guest", "From", "To", "Kind", "Estimate",
                           gains ? "Gain" : NULL, gains ? "Cost" : NULL, "Reason" };

    g_string_append_printf(out, "<section id=\"moves\" aria-labelledby=\"moves-h\">\n"
                           "<h2 id=\"moves-h\">Moves (%u, in run order)</h2>\n", plan->moves->len);
    if (plan->moves->len == 0) {
        g_string_append(out, "<p>None.</p>\n</section>\n");
        return;
    }
    g_string_append(out, "<table class=\"moves\">\n");
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint i = 0; i < plan->moves->len; i++)
        append_move_row(out, view, i, gains);
    g_string_append(out, "</tbody></table>\n");
    if (gains)
        g_string_append(out, "<p>Gain: how much the move lowers the weighted imbalance; cost: "
                             "what the policy's cost_per_minute charges for its estimate, in "
                             "the same units.</p>\n");
    g_string_append(out, "</section>\n");
}

/* ----------------------------------------------------------- unplaced */

static void
append_unplaced_one(GString *out, const VbInventory *inv, const VbUnplaced *u)
{
    const VbVm *vm = vb_inventory_vm(inv, u->vm);
    const char *head[] = { "Host", "Refused for", "Reason" };

    g_string_append(out, "<article class=\"unplaced\" data-vm=\"");
    vb_cli_html_append_text(out, vm->name);
    g_string_append(out, "\">\n<h3>");
    vb_cli_html_append_text(out, vm->name);
    g_string_append(out, " <span class=\"note\">(on ");
    vb_cli_html_append_text(out, vb_inventory_host(inv, vm->host)->name);
    g_string_append(out, ")</span></h3>\n");
    if (u->reason)
        vb_cli_html_element(out, "p", u->reason);
    if (!u->rejections || u->rejections->len == 0) {
        g_string_append(out, "</article>\n");
        return;
    }
    g_string_append(out, "<ul class=\"refused\">\n");
    for (guint i = 0; u->groups && i < u->groups->len; i++) {
        g_autofree char *line = vb_cli_reject_group_text(
            inv, &g_array_index(u->groups, VbRejectGroup, i));

        vb_cli_html_element(out, "li class=\"refused-group\"", line);
        g_string_append_c(out, '\n');
    }
    g_string_append_printf(out, "</ul>\n<details>\n<summary>Every host's refusal (%u)</summary>\n"
                           "<table class=\"refusals\">\n<caption>Hosts that refused ",
                           u->rejections->len);
    vb_cli_html_append_text(out, vm->name);
    g_string_append(out, "</caption>\n");
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint i = 0; i < u->rejections->len; i++) {
        const VbRejection *r = &g_array_index(u->rejections, VbRejection, i);
        g_autofree char *why = vb_cli_rejection_text(inv, u->groups, r->host, r->group);

        g_string_append(out, "<tr class=\"refusal\">");
        vb_cli_html_element(out, "th scope=\"row\"", vb_inventory_host(inv, r->host)->name);
        vb_cli_html_element(out, "td", vb_cli_reject_code_name(r->code));
        vb_cli_html_element(out, "td", why);
        g_string_append(out, "</tr>\n");
    }
    g_string_append(out, "</tbody></table>\n</details>\n</article>\n");
}

static void
append_unplaced(GString *out, const VbCliPlanView *view)
{
    const GPtrArray *unplaced = view->plan->unplaced;

    if (!unplaced || unplaced->len == 0)
        return;
    g_string_append_printf(out, "<section id=\"unplaced\" aria-labelledby=\"unplaced-h\">\n"
                           "<h2 id=\"unplaced-h\" class=\"bad\">Unplaced guests (%u; per host, "
                           "what refused them)</h2>\n", unplaced->len);
    for (guint i = 0; i < unplaced->len; i++)
        append_unplaced_one(out, view->inv, g_ptr_array_index(unplaced, i));
    g_string_append(out, "</section>\n");
}

/* --------------------------------------------------------- objectives */

static void
append_violation(GString *out, const VbCliPlanView *view, const VbViolation *v,
                 const char *state)
{
    const VbRule *rule = g_ptr_array_index(view->policy->rules, v->rule);
    g_autofree char *guests = vb_cli_names_text(view->inv, v->vms, FALSE);
    g_autofree char *hosts = vb_cli_names_text(view->inv, v->hosts, TRUE);

    g_string_append(out, "<tr class=\"violation\" data-rule=\"");
    vb_cli_html_append_text(out, rule->name);
    g_string_append(out, "\">");
    vb_cli_html_element(out, "th scope=\"row\"", rule->name);
    vb_cli_html_element(out, "td", rule->hard ? "must" : "should");
    vb_cli_html_element(out, "td", vb_rule_kind_names[rule->kind]);
    vb_cli_html_element(out, "td", guests);
    vb_cli_html_element(out, "td", hosts);
    vb_cli_html_element(out, "td", state);
    vb_cli_html_element(out, "td", v->reason);
    g_string_append(out, "</tr>\n");
}

static void
append_violation_table(GString *out, const VbCliPlanView *view, const GPtrArray *list,
                       gboolean created, const char *heading)
{
    const char *head[] = { "Rule", "Strength", "Type", "Guests", "Hosts", "After the plan",
                           "Why" };

    if (!list || list->len == 0)
        return;
    g_string_append(out, "<h3>");
    vb_cli_html_append_text(out, heading);
    g_string_append_printf(out, " (%u)</h3>\n<table class=\"violations %s\">\n", list->len,
                           created ? "created" : "before");
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint i = 0; i < list->len; i++) {
        const VbViolation *v = g_ptr_array_index(list, i);

        append_violation(out, view, v, created ? "broken" : v->repaired ? "repaired"
                                                                        : "still broken");
    }
    g_string_append(out, "</tbody></table>\n");
}

static void
append_violations(GString *out, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;

    if ((!plan->violations || plan->violations->len == 0) &&
        (!plan->created || plan->created->len == 0))
        return;
    g_string_append(out, "<section id=\"violations\" aria-labelledby=\"violations-h\">\n"
                         "<h2 id=\"violations-h\">Rule violations</h2>\n");
    append_violation_table(out, view, plan->violations, FALSE, "Rules broken before the plan");
    append_violation_table(out, view, plan->created, TRUE, "Rules the plan breaks");
    g_string_append(out, "</section>\n");
}

static void
append_hotspots(GString *out, const VbCliPlanView *view)
{
    const VbPlan *plan = view->plan;
    const double hw = view->policy->high_water;
    const char *head[] = { "Host", "Metric", "Before", "After", "Outcome", "Why" };
    guint before = vb_cli_hotspot_count(view, FALSE), after = vb_cli_hotspot_count(view, TRUE);

    if (before + after == 0)
        return;
    g_string_append_printf(out, "<section id=\"hotspots\" aria-labelledby=\"hotspots-h\">\n"
                           "<h2 id=\"hotspots-h\">Hotspots (above high water %.0f%%: %u before, "
                           "%u after the plan)</h2>\n<table class=\"hotspots\">\n", hw * 100,
                           before, after);
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint i = 0; i < plan->hotspots->len; i++) {
        const VbHotspot *h = g_ptr_array_index(plan->hotspots, i);
        gboolean left = h->after > hw;

        g_string_append_printf(out, "<tr class=\"hotspot%s\">", left ? " bad" : "");
        vb_cli_html_element(out, "th scope=\"row\"", vb_inventory_host(view->inv, h->host)->name);
        vb_cli_html_element(out, "td", vb_metric_names[h->metric]);
        append_percent_cell(out, h->before);
        append_percent_cell(out, h->after);
        vb_cli_html_element(out, "td", vb_cli_hotspot_outcome(view->policy, h));
        vb_cli_html_element(out, "td", left ? h->reason : NULL);
        g_string_append(out, "</tr>\n");
    }
    g_string_append(out, "</tbody></table>\n</section>\n");
}

/* ---------------------------------------------------------- the whole */

char *
vb_cli_render_plan_html(const VbCliPlanView *view)
{
    GString *out = g_string_sized_new(16384);
    g_autofree char *title = plan_title(view->plan);

    vb_cli_html_page_begin(out, title);
    g_string_append(out, "<header>\n<h1>");
    vb_cli_html_append_text(out, title);
    g_string_append(out, "</h1>\n");
    append_summary(out, view);
    g_string_append(out, "</header>\n<main>\n");
    append_warnings(out, view);
    append_unreachable(out, view->inv);
    append_hosts(out, view);
    append_moves(out, view);
    append_unplaced(out, view);
    append_violations(out, view);
    append_hotspots(out, view);
    g_string_append(out, "</main>\n");
    vb_cli_html_page_end(out);
    return g_string_free(out, FALSE);
}
