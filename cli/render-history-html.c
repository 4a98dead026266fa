/*
 * render-history-html.c: `history --format html`, the journal's recent
 * plans as one self-contained page in the frame of render-html.c (inline
 * style, no script, every text escaped): per plan its heading (id, kind,
 * evacuated host), when it was created (UTC) and its outcome, a chart of its
 * moves by state (one bar, one segment per state with moves, on a scale the
 * page shares: the plan with the most moves fills it; the <svg role="img">
 * is labelled by a <title> and a <desc> giving the counts) and the table of
 * its moves.
 *
 * Workload: --limit plans (10 by default), each with its moves.
 */
#include "config.h"

#include "cli/cli.h"
#include "scheduler/scheduler.h"

/* Chart geometry, in SVG user units (as the plan's charts). */
#define LABEL_W 64.0 /* "N moves" */
#define BAR_W 240.0  /* the plan with the most moves */
#define VALUE_W 48.0

/* Whole seconds since the epoch as "2026-12-06 22:10:00 UTC" (transfer full):
 * UTC, since a page is read elsewhere than where it was made. */
static char *
utc_text(gint64 us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);

    return t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("-");
}

/* One bar: a segment per move state with moves, widths on @per_move units. */
static void
append_state_chart(GString *out, const VbJournalPlan *p, double per_move)
{
    guint count[VB_MOVE_STATE_LAST] = { 0 };
    g_autoptr(GString) desc = g_string_new(NULL);
    double x = LABEL_W;

    for (guint i = 0; i < p->moves->len; i++) {
        const VbJournalMove *m = g_ptr_array_index(p->moves, i);

        if ((guint) m->state < VB_MOVE_STATE_LAST)
            count[m->state]++;
    }
    for (guint st = 0; st < VB_MOVE_STATE_LAST; st++)
        if (count[st])
            g_string_append_printf(desc, "%s%u %s", desc->len ? ", " : "", count[st],
                                   vb_move_state_names[st]);
    g_string_append_printf(out, "<svg role=\"img\" aria-labelledby=\"plan-%" G_GINT64_FORMAT
                           "-t plan-%" G_GINT64_FORMAT "-d\" width=\"%.0f\" height=\"24\" "
                           "viewBox=\"0 0 %.0f 24\">\n<title id=\"plan-%" G_GINT64_FORMAT
                           "-t\">Moves of plan %" G_GINT64_FORMAT " by state</title>\n"
                           "<desc id=\"plan-%" G_GINT64_FORMAT "-d\">%u move%s%s%s.</desc>\n"
                           "<text x=\"0\" y=\"16\">%u move%s</text>\n",
                           p->id, p->id, LABEL_W + BAR_W + VALUE_W, LABEL_W + BAR_W + VALUE_W,
                           p->id, p->id, p->id, p->moves->len, p->moves->len == 1 ? "" : "s",
                           desc->len ? ": " : "", desc->str, p->moves->len,
                           p->moves->len == 1 ? "" : "s");
    for (guint st = 0; st < VB_MOVE_STATE_LAST; st++) {
        if (!count[st])
            continue;
        g_string_append_printf(out, "<rect class=\"state st-%s\" data-state=\"%s\" "
                               "data-count=\"%u\" x=\"%.2f\" y=\"4\" width=\"%.2f\" "
                               "height=\"16\"/>\n", vb_move_state_names[st],
                               vb_move_state_names[st], count[st], x, count[st] * per_move);
        x += count[st] * per_move;
    }
    g_string_append(out, "</svg>\n");
}

static void
append_history_move(GString *out, const VbJournalMove *m)
{
    g_autofree char *est = vb_cli_duration_text(m->estimated_seconds);
    g_autofree char *took = m->started_clock >= 0 && m->ended_clock >= m->started_clock
                                ? vb_cli_duration_text(m->ended_clock - m->started_clock)
                                : g_strdup("-");

    g_string_append(out, "<tr class=\"journal-move\">");
    vb_cli_html_element(out, "th scope=\"row\"", m->vm);
    vb_cli_html_element(out, "td", m->from);
    vb_cli_html_element(out, "td", m->to);
    vb_cli_html_element(out, "td", vb_move_kind_names[m->kind]);
    vb_cli_html_element(out, "td", vb_move_state_names[m->state]);
    g_string_append_printf(out, "<td class=\"num\">%u</td><td class=\"num\">%s</td>"
                           "<td class=\"num\">%s</td>", m->attempts, est, took);
    vb_cli_html_element(out, "td", m->message);
    g_string_append(out, "</tr>\n");
}

static void
append_history_plan(GString *out, const VbJournalPlan *p, double per_move)
{
    const char *head[] = { "Guest", "From", "To", "Kind", "State", "Tries", "Estimate", "Took",
                           "Message" };
    g_autofree char *created = utc_text(p->created_us);

    g_string_append_printf(out, "<section class=\"plan\" id=\"plan-%" G_GINT64_FORMAT "\" "
                           "aria-labelledby=\"plan-%" G_GINT64_FORMAT "-h\">\n<h2 id=\"plan-%"
                           G_GINT64_FORMAT "-h\">Plan %" G_GINT64_FORMAT ": %s", p->id, p->id,
                           p->id, p->id, p->kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance");
    if (p->evacuated_host) {
        g_string_append_c(out, ' ');
        vb_cli_html_append_text(out, p->evacuated_host);
    }
    g_string_append_printf(out, "</h2>\n<p>Created %s; outcome: ", created);
    vb_cli_html_append_text(out, p->outcome ? p->outcome : "unfinished");
    g_string_append(out, ".</p>\n");
    append_state_chart(out, p, per_move);
    if (p->moves->len == 0) {
        g_string_append(out, "</section>\n");
        return;
    }
    g_string_append_printf(out, "<table class=\"journal-moves\">\n<caption>Moves of plan %"
                           G_GINT64_FORMAT "</caption>\n", p->id);
    vb_cli_html_head(out, head, G_N_ELEMENTS(head));
    g_string_append(out, "<tbody>\n");
    for (guint i = 0; i < p->moves->len; i++)
        append_history_move(out, g_ptr_array_index(p->moves, i));
    g_string_append(out, "</tbody></table>\n</section>\n");
}

char *
vb_cli_render_history_html(const GPtrArray *plans)
{
    GString *out = g_string_sized_new(8192);
    guint most = 1;

    for (guint i = 0; i < plans->len; i++)
        most = MAX(most, ((const VbJournalPlan *) g_ptr_array_index(plans, i))->moves->len);
    vb_cli_html_page_begin(out, "Plan history");
    g_string_append_printf(out, "<header>\n<h1>Plan history</h1>\n<p>The %u most recent "
                           "plan%s of the journal with their migrations. Bars: moves by state (",
                           plans->len, plans->len == 1 ? "" : "s");
    for (guint st = 0; st < VB_MOVE_STATE_LAST; st++)
        g_string_append_printf(out, "%s<span class=\"key st-%s\"></span>%s", st ? " " : "",
                               vb_move_state_names[st], vb_move_state_names[st]);
    g_string_append_printf(out, "), full width %u move%s.</p>\n</header>\n<main>\n", most,
                           most == 1 ? "" : "s");
    if (plans->len == 0)
        g_string_append(out, "<p>No plan was executed yet.</p>\n");
    for (guint i = 0; i < plans->len; i++)
        append_history_plan(out, g_ptr_array_index(plans, i), BAR_W / most);
    g_string_append(out, "</main>\n");
    vb_cli_html_page_end(out);
    return g_string_free(out, FALSE);
}
