/*
 * journal-totals.c: what the journal holds, counted, for the daemon's
 * metrics (docs/metrics.md): moves per current state and kind, and how long
 * each finished move took.
 *
 * The journal keeps every plan and move it ever recorded (nothing is
 * pruned), so the counts only grow while the database lives: they are
 * counters across restarts of the daemon. A duration is measured on the
 * driver's clock from a move's last start to its end; moves found finished
 * by reconciliation (their end is when a restart noticed; they carry a
 * message) and durations outside (0 s, 1 day] are left out, as for the
 * measured costs (journal-costs.c).
 *
 * Workload: two queries per call, one grouped (a dozen rows) and one row per
 * finished move; the daemon calls it after each round and each migration's
 * end.
 */
#include "config.h"

#include <sqlite3.h>

#include "scheduler/scheduler.h"
#include "scheduler/journal-priv.h"

void
vb_journal_totals_clear(VbJournalTotals *totals)
{
    if (!totals)
        return;
    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++)
        g_clear_pointer(&totals->seconds[k], g_array_unref);
    memset(totals, 0, sizeof(*totals));
}

static gboolean
totals_counts(VbJournal *journal, VbJournalTotals *t, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store, "SELECT state, kind, count(*) FROM journal_moves GROUP BY state, kind",
        error);
    int rc;

    if (!st)
        return FALSE;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        guint state = vb_journal_enum(vb_move_state_names,
                                      (const char *) sqlite3_column_text(st, 0),
                                      VB_MOVE_STATE_LAST);
        guint kind = vb_journal_enum(vb_move_kind_names,
                                     (const char *) sqlite3_column_text(st, 1),
                                     VB_MOVE_KIND_LAST);

        /* Defensive: a state or kind this build does not know is not counted. */
        if (state < VB_MOVE_STATE_LAST && kind < VB_MOVE_KIND_LAST)
            t->moves[state][kind] += (guint64) sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot count the journal's moves"), FALSE;
    return TRUE;
}

static gboolean
totals_durations(VbJournal *journal, VbJournalTotals *t, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT kind, ended_clock - started_clock FROM journal_moves"
        " WHERE state = 'finished' AND message IS NULL"
        "   AND started_clock IS NOT NULL AND ended_clock IS NOT NULL"
        "   AND ended_clock > started_clock AND ended_clock - started_clock <= 86400",
        error);
    int rc;

    if (!st)
        return FALSE;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        guint kind = vb_journal_enum(vb_move_kind_names,
                                     (const char *) sqlite3_column_text(st, 0),
                                     VB_MOVE_KIND_LAST);
        double seconds = sqlite3_column_double(st, 1);

        if (kind < VB_MOVE_KIND_LAST)
            g_array_append_val(t->seconds[kind], seconds);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot read migration durations"), FALSE;
    return TRUE;
}

gboolean
vb_journal_totals(VbJournal *journal, VbJournalTotals *ret_totals, GError **error)
{
    VbJournalTotals t = { 0 };

    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++)
        t.seconds[k] = g_array_new(FALSE, FALSE, sizeof(double));
    if (!totals_counts(journal, &t, error) || !totals_durations(journal, &t, error)) {
        vb_journal_totals_clear(&t);
        return FALSE;
    }
    *ret_totals = t;
    return TRUE;
}
