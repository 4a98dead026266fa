/*
 * partial.c: never report success over a partial view.
 *
 * A host the driver could not read (libvirt: no connection, a call that
 * failed) is `down` in the snapshot, with the reason. The planners leave
 * such hosts out: no guest moves to or from them, and their load is not in
 * the imbalance. A plan, a rebalance or a status that "succeeds" over such a
 * view is only true for the hosts that were read, so every command that
 * reads the pool says which hosts it could not read, and why, in text and
 * JSON, and exits VB_EXIT_PARTIAL (5) instead of 0.
 *
 * Hosts in the journal's maintenance set are not counted: an admin who took
 * a host out of service expects it to be unreachable, and
 * vb_scheduler_apply_maintenance_list() turns such hosts into `maintenance`
 * (their reason saying that they cannot be read). So after maintenance is
 * applied, the unreachable hosts are exactly the `down` ones.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

guint
vb_cli_unreachable_count(const VbInventory *inv)
{
    guint n = 0;

    for (guint h = 0; inv && h < inv->hosts->len; h++)
        n += vb_inventory_host(inv, h)->state == VB_HOST_STATE_DOWN;
    return n;
}

int
vb_cli_partial_exit_code(const VbInventory *inv, int rc)
{
    return rc == VB_EXIT_OK && vb_cli_unreachable_count(inv) > 0 ? VB_EXIT_PARTIAL : rc;
}

void
vb_cli_unreachable_changes(GHashTable *down, const VbInventory *inv, GPtrArray *ret_down,
                           GPtrArray *ret_up)
{
    g_autoptr(GPtrArray) now = g_ptr_array_new();

    for (guint h = 0; h < inv->hosts->len; h++) {
        VbHost *host = vb_inventory_host(inv, h);
        gboolean was = g_hash_table_contains(down, host->name);

        if (host->state == VB_HOST_STATE_DOWN) {
            g_ptr_array_add(now, host->name);
            if (!was)
                g_ptr_array_add(ret_down, host);
        } else if (was) {
            g_ptr_array_add(ret_up, host);
        }
    }
    g_hash_table_remove_all(down);
    for (guint i = 0; i < now->len; i++)
        g_hash_table_add(down, g_strdup(g_ptr_array_index(now, i)));
}

const char *
vb_cli_unreachable_reason(const VbHost *host)
{
    const char *why = host->state_reason ? host->state_reason : "down";
    gsize n = strlen(host->name);

    if (strncmp(why, host->name, n) == 0 && strncmp(why + n, ": ", 2) == 0)
        why += n + 2;
    return why;
}

void
vb_cli_print_unreachable(FILE *out, const VbInventory *inv, const char *consequence,
                         gboolean color)
{
    guint n = vb_cli_unreachable_count(inv);

    if (n == 0)
        return;
    fprintf(out, "\n%sNot read:%s %u of %u host%s could not be read; %s:\n",
            vb_cli_paint(color, VB_YELLOW), vb_cli_paint(color, VB_RESET), n, inv->hosts->len,
            inv->hosts->len == 1 ? "" : "s", consequence);
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (host->state == VB_HOST_STATE_DOWN)
            fprintf(out, "  %s (pool %s): %s\n", host->name,
                    vb_inventory_pool(inv, host->pool)->name, vb_cli_unreachable_reason(host));
    }
}

void
vb_cli_json_add_unreachable(JsonBuilder *b, const VbInventory *inv)
{
    json_builder_set_member_name(b, "unreachable");
    json_builder_begin_array(b);
    for (guint h = 0; inv && h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);

        if (host->state != VB_HOST_STATE_DOWN)
            continue;
        json_builder_begin_object(b);
        vb_cli_json_add_string(b, "name", host->name);
        vb_cli_json_add_string(b, "pool", vb_inventory_pool(inv, host->pool)->name);
        vb_cli_json_add_string(b, "reason", vb_cli_unreachable_reason(host));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

void
vb_cli_evacuate_refuse(const VbHost *host, gboolean dry_run, GError **error)
{
    const char *name = host->name;

    if (dry_run)
        g_set_error(error, VB_ERROR, VB_ERROR_CONNECT,
                    "evacuate: %s cannot be read (%s): its guests' state is unknown, so there "
                    "is no plan to show; 'evacuate %s --force' would put it in maintenance and "
                    "move nothing",
                    name, vb_cli_unreachable_reason(host), name);
    else
        g_set_error(error, VB_ERROR, VB_ERROR_CONNECT,
                    "evacuate: %s cannot be read (%s): its guests' state is unknown, so it is "
                    "not evacuated and nothing was changed (not put in maintenance). Evacuate "
                    "it when it answers again, or take it out of service as it is with "
                    "'evacuate %s --force' (puts it in maintenance, moves nothing)",
                    name, vb_cli_unreachable_reason(host), name);
}
