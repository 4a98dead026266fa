/*
 * render-unplaced.c: the guests a plan could not place, and why, as text.
 *
 * A guest refused by 200 hosts must not print 200 lines. Rejections are
 * grouped by their code (memory, cpu-vendor, ...) in order of first
 * appearance; a group of one host prints that host's reason; a larger group
 * prints how many hosts, the first few names, and one host's reason as an
 * example (the figures differ per host, the constraint does not). When every
 * reason in a group is the same text, that text is printed once, as is.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

/* Host names listed per group before "+N more". */
#define NAMES_SHOWN 3

static const char *const reject_code_names[] = {
    [VB_REJECT_SAME_HOST] = "same-host",
    [VB_REJECT_HOST_NOT_UP] = "host-not-up",
    [VB_REJECT_HOST_EXCLUDED] = "host-excluded",
    [VB_REJECT_OTHER_POOL] = "other-pool",
    [VB_REJECT_HYPERVISOR] = "hypervisor",
    [VB_REJECT_CPU_VENDOR] = "cpu-vendor",
    [VB_REJECT_CPU_FEATURES] = "cpu-features",
    [VB_REJECT_MEMORY] = "memory",
    [VB_REJECT_CPU_OVERCOMMIT] = "cpu-overcommit",
    [VB_REJECT_STORAGE_DEST] = "storage-destination",
    [VB_REJECT_STORAGE_SOURCE] = "storage-source",
    [VB_REJECT_PINNED] = "pinned",
    [VB_REJECT_VM_EXCLUDED] = "vm-excluded",
    [VB_REJECT_COOLDOWN] = "cooldown",
    [VB_REJECT_AFFINITY] = "affinity",
    [VB_REJECT_HOST_RULE] = "host-rule",
    [VB_REJECT_ON_TWO_HOSTS] = "on-two-hosts",
    [VB_REJECT_MOVE_CAP] = "move-cap",
};
G_STATIC_ASSERT(G_N_ELEMENTS(reject_code_names) == VB_REJECT_LAST);

const char *
vb_cli_reject_code_name(VbRejectCode code)
{
    return (guint) code < VB_REJECT_LAST ? reject_code_names[code] : "unknown";
}

/* TRUE when every rejection of @code in @rej has the same reason text. */
static gboolean
same_reason(const GArray *rej, VbRejectCode code, const char *reason)
{
    for (guint i = 0; i < rej->len; i++) {
        const VbRejection *r = &g_array_index(rej, VbRejection, i);

        if (r->code == code && g_strcmp0(r->reason, reason) != 0)
            return FALSE;
    }
    return TRUE;
}

/* One line for the rejections of @code, the first of which is rej[first]. */
static void
print_group(FILE *out, const VbInventory *inv, const GArray *rej, guint first)
{
    const VbRejection *head = &g_array_index(rej, VbRejection, first);
    g_autoptr(GString) names = g_string_new(NULL);
    guint n = 0;

    for (guint i = first; i < rej->len; i++) {
        const VbRejection *r = &g_array_index(rej, VbRejection, i);

        if (r->code != head->code)
            continue;
        if (n < NAMES_SHOWN)
            g_string_append_printf(names, "%s%s", n ? ", " : "",
                                   vb_inventory_host(inv, r->host)->name);
        n++;
    }
    if (n > NAMES_SHOWN)
        g_string_append_printf(names, " and %u more", n - NAMES_SHOWN);
    if (n == 1 || same_reason(rej, head->code, head->reason))
        fprintf(out, "    %s: %s\n", names->str, head->reason);
    else
        fprintf(out, "    %u hosts (%s), %s: e.g. %s: %s\n", n, names->str,
                vb_cli_reject_code_name(head->code),
                vb_inventory_host(inv, head->host)->name, head->reason);
}

static void
print_one(FILE *out, const VbInventory *inv, const VbUnplaced *u, gboolean color)
{
    const GArray *rej = u->rejections;
    gboolean seen[VB_REJECT_LAST] = { FALSE };

    fprintf(out, "  %s%s%s:%s%s\n", vb_cli_paint(color, VB_RED),
            vb_inventory_vm(inv, u->vm)->name, vb_cli_paint(color, VB_RESET),
            u->reason ? " " : "", u->reason ? u->reason : "");
    for (guint i = 0; rej && i < rej->len; i++) {
        const VbRejection *r = &g_array_index(rej, VbRejection, i);
        guint code = (guint) r->code < VB_REJECT_LAST ? r->code : 0;

        if (seen[code])
            continue;
        seen[code] = TRUE;
        print_group(out, inv, rej, i);
    }
}

void
vb_cli_print_unplaced(FILE *out, const VbCliPlanView *view, gboolean color)
{
    const GPtrArray *unplaced = view->plan->unplaced;

    if (!unplaced || unplaced->len == 0)
        return;
    fprintf(out, "\n%sUnplaced guests%s (%u; per host, what refused them):\n",
            vb_cli_paint(color, VB_BOLD), vb_cli_paint(color, VB_RESET), unplaced->len);
    for (guint i = 0; i < unplaced->len; i++)
        print_one(out, view->inv, g_ptr_array_index(unplaced, i), color);
}
