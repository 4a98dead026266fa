/*
 * reject.c: grouping the hosts that refuse a guest by why they refuse it.
 *
 * An unplaced guest of an evacuation and a `place` ranking used to carry one
 * sentence per refusing host: at 10,000 hosts, 10,000 sentences for a few
 * distinct constraints. The tally keeps, per (code, shared) key, one group
 * with a count, the first VB_REJECT_EXAMPLES hosts and one sentence, written
 * by the caller for the group's first host only. Hosts are added in
 * ascending id order, so the groups come in the order of their first host
 * and their examples ascend. O(1) per host, no allocation but the group.
 */
#include "config.h"

#include <string.h>

#include "placement/placement-priv.h"

static void
group_clear(gpointer data)
{
    g_free(((VbRejectGroup *) data)->reason);
}

GArray *
vb_reject_groups_new(void)
{
    GArray *groups = g_array_new(FALSE, TRUE, sizeof(VbRejectGroup));

    g_array_set_clear_func(groups, group_clear);
    return groups;
}

void
vb_reject_tally_init(VbRejectTally *t, GArray *groups)
{
    g_assert(groups != NULL && groups->len == 0);
    memset(t, 0, sizeof(*t));
    t->groups = groups;
}

VbRejectGroup *
vb_reject_tally_add(VbRejectTally *t, guint host, VbRejectCode code, gboolean shared,
                    guint *ret_index, gboolean *ret_new)
{
    guint *slot;
    VbRejectGroup *g;

    g_assert((guint) code < VB_REJECT_LAST);
    slot = &t->index[code][shared ? 1 : 0];
    *ret_new = *slot == 0;
    if (*ret_new) {
        VbRejectGroup fresh = { .code = code, .shared = shared };

        g_array_append_val(t->groups, fresh);
        *slot = t->groups->len;
    }
    g = &g_array_index(t->groups, VbRejectGroup, *slot - 1);
    g_assert(g->count == 0 || g->examples[MIN(g->count, VB_REJECT_EXAMPLES) - 1] < host);
    if (g->count < VB_REJECT_EXAMPLES)
        g->examples[g->count] = host;
    g->count++;
    if (ret_index)
        *ret_index = *slot - 1;
    return g;
}
