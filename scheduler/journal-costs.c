/*
 * journal-costs.c: migration costs measured from what the journal recorded.
 *
 * Every finished move keeps the driver clock of its last start and of its
 * end (journal_moves.started_clock, ended_clock), so the journal knows how
 * long each real migration took. This file reads the newest finished live
 * migrations, turns each into plain data against an inventory (host ids,
 * MiB moved: the guest's memory, plus its copied disks for live-storage),
 * and hands them to vb_placement_calibrate(), which stays pure; the result
 * goes into the inventory's costs, where the estimate finds it.
 *
 * Left out: cold moves (no memory to move), moves finished by reconciliation
 * after a restart (their end is when the restart noticed, not when the
 * migration ended: they carry a message), durations not positive or longer
 * than a day (clocks of two boots), and guests or hosts the inventory no
 * longer has.
 *
 * Workload: one indexed query of at most VB_JOURNAL_COSTS_LIMIT rows per
 * snapshot, and O(rows) hash lookups.
 */
#include "config.h"

#include <sqlite3.h>

#include "scheduler/scheduler.h"
#include "scheduler/journal-priv.h"

void
vb_journal_duration_free(VbJournalDuration *d)
{
    if (!d)
        return;
    g_free(d->vm);
    g_free(d->from);
    g_free(d->to);
    g_free(d);
}

GPtrArray *
vb_journal_durations(VbJournal *journal, guint limit, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT vm, src, dst, kind, ended_clock - started_clock FROM journal_moves"
        " WHERE state = 'finished' AND message IS NULL AND kind IN ('live', 'live-storage')"
        "   AND started_clock IS NOT NULL AND ended_clock IS NOT NULL"
        "   AND ended_clock > started_clock AND ended_clock - started_clock <= 86400"
        " ORDER BY id DESC LIMIT ?1",
        error);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify) vb_journal_duration_free);
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbJournalDuration *d = g_new0(VbJournalDuration, 1);

        d->vm = g_strdup((const char *) sqlite3_column_text(st, 0));
        d->from = g_strdup((const char *) sqlite3_column_text(st, 1));
        d->to = g_strdup((const char *) sqlite3_column_text(st, 2));
        d->kind = vb_journal_enum(vb_move_kind_names, (const char *) sqlite3_column_text(st, 3),
                                  VB_MOVE_LIVE);
        d->seconds = sqlite3_column_double(st, 4);
        g_ptr_array_add(out, d);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot read migration durations"), NULL;
    return g_steal_pointer(&out);
}

/* @d as an observation against @inv, or FALSE when @inv lacks its guest or
 * one of its hosts. */
static gboolean
observe(const VbInventory *inv, const VbJournalDuration *d, VbObservedMigration *ret)
{
    const VbVm *vm = vb_inventory_get_vm(inv, d->vm);
    const VbHost *from = vb_inventory_get_host(inv, d->from);
    const VbHost *to = vb_inventory_get_host(inv, d->to);
    double disks = 0.0;

    if (!vm || !from || !to || from == to)
        return FALSE;
    if (d->kind == VB_MOVE_LIVE_STORAGE)
        disks = from->pool == to->pool ? vb_vm_local_disk_gib(vm) : vb_vm_disk_gib(vm);
    ret->from = from->id;
    ret->to = to->id;
    ret->mib = (double) vm->memory_mib + disks * 1024.0;
    ret->seconds = d->seconds;
    return TRUE;
}

VbCalibration *
vb_scheduler_costs_calibrate(VbJournal *journal, const VbInventory *inv, const VbPolicy *policy,
                             GError **error)
{
    g_autoptr(GPtrArray) durations = vb_journal_durations(journal, VB_JOURNAL_COSTS_LIMIT, error);
    g_autoptr(GArray) obs = NULL;

    if (!durations)
        return NULL;
    obs = g_array_sized_new(FALSE, FALSE, sizeof(VbObservedMigration), durations->len);
    for (guint i = 0; i < durations->len; i++) {
        VbObservedMigration o;

        if (observe(inv, g_ptr_array_index(durations, i), &o))
            g_array_append_val(obs, o);
    }
    return vb_placement_calibrate(policy, (const VbObservedMigration *) (void *) obs->data,
                                  obs->len);
}

gboolean
vb_scheduler_apply_costs(VbInventory *inv, VbJournal *journal, const VbPolicy *policy,
                         GError **error)
{
    g_autoptr(VbCalibration) cal = vb_scheduler_costs_calibrate(journal, inv, policy, error);

    if (!cal)
        return FALSE;
    vb_placement_calibration_apply(inv, cal);
    return TRUE;
}
