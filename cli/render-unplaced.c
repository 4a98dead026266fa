/*
 * render-unplaced.c: the guests a plan could not place, and why, as text.
 *
 * A guest refused by 200 hosts must not print 200 lines. The planner groups
 * the hosts by what refused them (memory, cpu-vendor, ...; VbRejectGroup) in
 * order of their first host and writes one sentence per group: a group of one
 * host prints that host's reason; a larger group prints how many hosts, the
 * first few names, and its first host's reason as an example (the figures
 * differ per host, the constraint does not). A group whose sentence names no
 * host (it holds for all of them) prints it once, as is. `place` prints the
 * hosts that cannot take a guest the same way.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"

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

/* What a host refused for @code lacks, after its name ("kvm17 has too
 * little memory free ..."): the sentence of a host that is not its group's
 * example, whose own figures the planner did not write. */
static const char *const reject_code_texts[] = {
    [VB_REJECT_SAME_HOST] = "is where the guest already is",
    [VB_REJECT_HOST_NOT_UP] = "is down, in maintenance or being evacuated",
    [VB_REJECT_HOST_EXCLUDED] = "is excluded from balancing by the policy",
    [VB_REJECT_OTHER_POOL] = "is in another pool",
    [VB_REJECT_HYPERVISOR] = "runs another hypervisor",
    [VB_REJECT_CPU_VENDOR] = "has CPUs of another vendor",
    [VB_REJECT_CPU_FEATURES] = "cannot run the guest's CPU",
    [VB_REJECT_MEMORY] = "has too little memory free after the reserve",
    [VB_REJECT_CPU_OVERCOMMIT] = "has too few vCPUs left under the overcommit",
    [VB_REJECT_STORAGE_DEST] = "has too little disk free",
    [VB_REJECT_STORAGE_SOURCE] = "cannot take the guest's disks: its host has too little disk free",
    [VB_REJECT_PINNED] = "cannot take a pinned guest",
    [VB_REJECT_VM_EXCLUDED] = "cannot take a guest the policy excludes",
    [VB_REJECT_COOLDOWN] = "cannot take a guest within its cooldown",
    [VB_REJECT_AFFINITY] = "is refused by an affinity rule",
    [VB_REJECT_HOST_RULE] = "is refused by a host rule",
    [VB_REJECT_ON_TWO_HOSTS] = "cannot take a guest running on two hosts",
    [VB_REJECT_MOVE_CAP] = "cannot take a guest at its daily move cap",
};
G_STATIC_ASSERT(G_N_ELEMENTS(reject_code_texts) == VB_REJECT_LAST);

char *
vb_cli_rejection_text(const VbInventory *inv, const GArray *groups, guint host, guint group)
{
    const VbRejectGroup *g = &g_array_index(groups, VbRejectGroup, group);

    if (g->shared || g->examples[0] == host)
        return g_strdup(g->reason);
    return g_strdup_printf("%s %s", vb_inventory_host(inv, host)->name,
                           (guint) g->code < VB_REJECT_LAST ? reject_code_texts[g->code]
                                                            : "refused it");
}

char *
vb_cli_reject_group_text(const VbInventory *inv, const VbRejectGroup *g)
{
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < MIN(g->count, (guint) VB_REJECT_EXAMPLES); i++)
        g_string_append_printf(names, "%s%s", i ? ", " : "",
                               vb_inventory_host(inv, g->examples[i])->name);
    if (g->count > VB_REJECT_EXAMPLES)
        g_string_append_printf(names, " and %u more", g->count - VB_REJECT_EXAMPLES);
    if (g->count == 1 || g->shared)
        return g_strdup_printf("%s: %s", names->str, g->reason);
    return g_strdup_printf("%u hosts (%s), %s: e.g. %s: %s", g->count, names->str,
                           vb_cli_reject_code_name(g->code),
                           vb_inventory_host(inv, g->examples[0])->name, g->reason);
}

void
vb_cli_print_reject_groups(FILE *out, const VbInventory *inv, const GArray *groups,
                           const char *indent)
{
    for (guint i = 0; groups && i < groups->len; i++) {
        g_autofree char *line = vb_cli_reject_group_text(inv,
                                                         &g_array_index(groups, VbRejectGroup, i));

        fprintf(out, "%s%s\n", indent, line);
    }
}

static void
print_one(FILE *out, const VbInventory *inv, const VbUnplaced *u, gboolean color)
{
    fprintf(out, "  %s%s%s:%s%s\n", vb_cli_paint(color, VB_RED),
            vb_inventory_vm(inv, u->vm)->name, vb_cli_paint(color, VB_RESET),
            u->reason ? " " : "", u->reason ? u->reason : "");
    vb_cli_print_reject_groups(out, inv, u->groups, "    ");
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
