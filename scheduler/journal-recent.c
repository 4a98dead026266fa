/*
 * journal-recent.c: each guest's recent migrations, as the journal recorded
 * them, for the policy's cooldown and daily move cap.
 *
 * The planner holds a guest back by VbVm.last_migrated (budget.cooldown) and
 * VbVm.moves_last_day (budget.max_moves_per_vm_per_day). The sim driver knows
 * both from its own moves; libvirt knows neither, and no driver knows the
 * moves of another process or an earlier run. The journal knows every one:
 * this file reads them back and writes them into a snapshot, so that every
 * command that reads a pool with a database plans with them.
 *
 * What counts as a migration of a guest: a move journaled `finished` (at the
 * wall-clock time of its finished event), and a move still journaled
 * `started` (at its newest start): it is running, or its end is unknown (a
 * host stopped answering, a crash) and it may have moved. Failed, aborted,
 * skipped and queued moves did not move the guest. Times are the events'
 * wall clock (journal_events.time_us), comparable across processes and
 * boots, unlike the driver clocks of journal_moves.
 *
 * A time after @now (a clock ahead on the machine that wrote it, or a "now"
 * pinned by a test) counts as now: the guest moved as recently as can be.
 *
 * Workload: one query over the events of the last VB_JOURNAL_RECENT_SECONDS
 * (index journal_events_time), grouped by guest; O(guests moved) lookups.
 */
#include "config.h"

#include <sqlite3.h>

#include "scheduler/scheduler.h"
#include "scheduler/journal-priv.h"

#define DAY_SECONDS 86400

void
vb_journal_recent_free(VbJournalRecent *r)
{
    if (!r)
        return;
    g_free(r->vm);
    g_free(r);
}

GPtrArray *
vb_journal_recent_moves(VbJournal *journal, gint64 now_unix, GError **error)
{
    /* One row per move (a started move may have several start events), then
     * per guest. */
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT vm, MAX(t), SUM(t >= ?2) FROM ("
        "  SELECT m.vm AS vm, MAX(e.time_us) AS t"
        "  FROM journal_events e JOIN journal_moves m ON m.id = e.move"
        "  WHERE e.time_us >= ?1 AND m.state IN ('finished', 'started') AND e.state = m.state"
        "  GROUP BY m.id)"
        " GROUP BY vm ORDER BY vm",
        error);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) vb_journal_recent_free);
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, (now_unix - VB_JOURNAL_RECENT_SECONDS) * G_USEC_PER_SEC);
    sqlite3_bind_int64(st, 2, (now_unix - DAY_SECONDS) * G_USEC_PER_SEC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbJournalRecent *r = g_new0(VbJournalRecent, 1);

        r->vm = g_strdup((const char *) sqlite3_column_text(st, 0));
        r->last_unix = MIN(sqlite3_column_int64(st, 1) / G_USEC_PER_SEC, now_unix);
        r->moves_last_day = (guint) sqlite3_column_int64(st, 2);
        g_ptr_array_add(out, r);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot read recent migrations"), NULL;
    return g_steal_pointer(&out);
}

gboolean
vb_scheduler_apply_recent_moves(VbInventory *inv, VbJournal *journal, gint64 now_unix,
                                GError **error)
{
    g_autoptr(GPtrArray) recent = vb_journal_recent_moves(journal, now_unix, error);

    if (!recent)
        return FALSE;
    for (guint i = 0; i < recent->len; i++) {
        const VbJournalRecent *r = g_ptr_array_index(recent, i);
        VbVm *vm = vb_inventory_get_vm(inv, r->vm);

        /* A guest gone from the pool has nothing to hold back. */
        if (!vm)
            continue;
        vm->last_migrated = MAX(vm->last_migrated, r->last_unix);
        vm->moves_last_day = MAX(vm->moves_last_day, r->moves_last_day);
    }
    return TRUE;
}
