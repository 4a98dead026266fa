/*
 * render-place.c: the ranking of hosts for a new guest, as text.
 *
 * One line per host, best first, as placement/ ranked them: rank, host,
 * pool, stars (five characters, '*' earned and '.' not, ASCII so that it
 * survives any terminal and log), score, the host's weighted load with the
 * guest, and the reason. The hosts that cannot take the guest follow, told
 * by the planner's groups as the unplaced guests of a plan are: one line per
 * constraint with how many hosts, the first few names and one sentence
 * (10,000 refused hosts are a few lines, not 10,000).
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

static char *
stars_text(guint stars)
{
    char text[6] = ".....";

    for (guint i = 0; i < MIN(stars, 5u); i++)
        text[i] = '*';
    return g_strdup(text);
}

static void
print_spec(FILE *out, const VbCliPlaceView *view, gboolean color)
{
    const VbVmSpec *spec = view->spec;
    g_autofree char *policy = vb_cli_policy_text(view->policy);
    g_autofree char *labels = spec->labels ? g_strjoinv(", ", spec->labels) : NULL;

    fprintf(out, "%sPlacement of %s%s: %u vCPU%s, %" G_GUINT64_FORMAT " MiB memory, "
            "%g GiB %s disk%s%s%s%s\n", vb_cli_paint(color, VB_BOLD), spec->name,
            vb_cli_paint(color, VB_RESET), spec->vcpus, spec->vcpus == 1 ? "" : "s",
            spec->memory_mib, spec->disk_gib, spec->disk_shared ? "shared" : "local",
            labels && *labels ? ", labels " : "", labels && *labels ? labels : "",
            spec->pool ? ", pool " : "", spec->pool ? spec->pool : "");
    fprintf(out, "Pool:   %s (%u hosts)\n", view->source_name, view->inv->hosts->len);
    fprintf(out, "Policy: %s\n\n", policy);
}

void
vb_cli_render_place_text(FILE *out, const VbCliPlaceView *view, gboolean color)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(7);
    const char *head[] = { "RANK", "HOST", "POOL", "STARS", "SCORE", "LOAD", "REASON" };
    const GArray *hosts = view->ranking->hosts;
    guint feasible = 0;

    print_spec(out, view, color);
    vb_cli_table_add(table, head);
    vb_cli_table_align_right(table, 0);
    vb_cli_table_align_right(table, 4);
    vb_cli_table_align_right(table, 5);
    /* Hosts that take the guest come first; the others are told by group. */
    for (guint i = 0; i < hosts->len && g_array_index(hosts, VbPlacement, i).stars > 0; i++) {
        const VbPlacement *p = &g_array_index(hosts, VbPlacement, i);
        const VbHost *host = vb_inventory_host(view->inv, p->host);
        g_autofree char *rank = g_strdup_printf("%u", ++feasible);
        g_autofree char *stars = stars_text(p->stars);
        g_autofree char *score = g_strdup_printf("%.1f", p->score);
        g_autofree char *load = g_strdup_printf("%.0f%%", p->load_after * 100);
        g_autofree char *reason = vb_placement_reason(p);
        const char *row[] = {
            rank, host->name, vb_inventory_pool(view->inv, host->pool)->name, stars, score,
            load, reason,
        };

        vb_cli_table_add(table, row);
    }
    if (feasible > 0)
        vb_cli_table_print(table, out, "  ");
    if (feasible < hosts->len) {
        fprintf(out, "%s%s%u host%s cannot take it%s:\n", feasible > 0 ? "\n" : "",
                vb_cli_paint(color, VB_BOLD), hosts->len - feasible,
                hosts->len - feasible == 1 ? "" : "s", vb_cli_paint(color, VB_RESET));
        vb_cli_print_reject_groups(out, view->inv, view->ranking->refused, "  ");
    }
    if (feasible == 0)
        fprintf(out, "\n%sNo host can take this guest.%s\n", vb_cli_paint(color, VB_RED),
                vb_cli_paint(color, VB_RESET));
    else
        fprintf(out, "\n%u of %u hosts can take it; best: %s.\n", feasible, hosts->len,
                vb_inventory_host(view->inv, g_array_index(hosts, VbPlacement, 0).host)->name);
}
